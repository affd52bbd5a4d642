/**
 * The parsed form of an IPVS table as `ipvsadm -Ln` (or `--stats`, `--rate`, `-S -n`) prints it: virtual
 * servers with their scheduler and flags, each with its real servers. Types only; parsing lives in
 * parseIpvsadm.ts, lookups and scheduler shares in lookupVirtualServer.ts and realServerShares.ts.
 */

export type IpvsProtocol = 'TCP' | 'UDP' | 'SCTP' | 'FWM';

/** Which listing the text came from; the stats and rate listings carry no scheduler, forward method or weight. */
export type IpvsListingForm = 'list' | 'stats' | 'rate' | 'save';

/** Traffic counters of `ipvsadm -Ln --stats` (totals) or `--rate` (per second), in listing order. */
export interface IpvsCounters {
  /** Column names as the header prints them: Conns, InPkts, … or CPS, InPPS, … */
  readonly columns: string[];
  /** Values with the K/M/G suffixes expanded. */
  readonly values: number[];
}

export interface RealServer {
  /** IPv4 or IPv6 address without brackets. */
  readonly address: string;
  readonly port: number;
  /** Masq (NAT), Route (direct routing), Tunnel (IPIP), Local; '' when the listing has no such column. */
  readonly forward: 'Masq' | 'Route' | 'Tunnel' | 'Local' | (string & {});
  /** Undefined when the listing has no weight column (`--stats`, `--rate`). */
  readonly weight: number | undefined;
  readonly activeConn: number | undefined;
  readonly inactiveConn: number | undefined;
  readonly counters?: IpvsCounters;
  /** 1-based line in the file. */
  readonly line: number;
  /** The text this real server was read from (one line, or one segment of a folded line). */
  readonly raw: string;
}

export interface VirtualServer {
  readonly protocol: IpvsProtocol;
  /** IPv4 or IPv6 address without brackets; '' for FWM services. */
  readonly address: string;
  /** 0 for FWM services. */
  readonly port: number;
  /** The firewall mark, for FWM services. */
  readonly fwmark?: number;
  /** rr, wrr, lc, wlc, sh, mh, …; '' when the listing does not show it (`--stats`, `--rate`). */
  readonly scheduler: string;
  /** `persistent N`: client affinity timeout in seconds. */
  readonly persistentSeconds?: number;
  /** Every flag word after the scheduler as printed, e.g. ['persistent', '10800', 'ops']. */
  readonly flags: string[];
  readonly realServers: RealServer[];
  readonly counters?: IpvsCounters;
  /** 1-based line in the file. */
  readonly line: number;
  readonly raw: string;
}

export interface IpvsTable {
  /** The snapshot file the table came from, e.g. `ipvsadm.txt`. */
  readonly file: string;
  readonly form: IpvsListingForm;
  /** `IP Virtual Server version 1.2.1 (size=4096)` when the header was present. */
  readonly version?: string;
  readonly virtualServers: VirtualServer[];
}
