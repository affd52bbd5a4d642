/**
 * The interface between the tracer and IPVS: given a packet at LOCAL_IN (or LOCAL_OUT), which virtual service
 * takes it and how its real servers share the connections. The IPVS parsers provide the lookup; the tracer
 * only needs this shape, so it does not depend on how ipvsadm output is read.
 */

export interface RealServerChoice {
  ip: string;
  port: number;
  /** Share of new connections (0..1), from the scheduler and weights. */
  share: number;
  /** Masq rewrites the destination; Route and Tunnel forward the packet unchanged. */
  forward: string;
  weight: number;
  line: number;
  raw: string;
}

export interface VirtualServiceMatch {
  /** e.g. `TCP 10.96.0.10:53 rr`. */
  raw: string;
  line: number;
  scheduler: string;
  persistentSeconds?: number;
  /** What the shares rest on for this scheduler (steady state, hashing), when they are not exact. */
  assumption?: string;
  choices: RealServerChoice[];
}

export type IpvsLookup = (proto: 'tcp' | 'udp' | 'sctp', ip: string, port: number) => VirtualServiceMatch | undefined;
