/**
 * The Service tree, the same shape in every dataplane mode: what the tree view, hovers and
 * `netpath services` show. Builders for each mode (iptables, IPVS, nftables) produce it.
 */

import type { DataplaneMode, Protocol } from '../trace/result';

/** Where a piece of the tree came from, so the editor can open it. */
export interface SourceRef {
  /** Snapshot file name, e.g. `iptables-save.txt`. */
  file: string;
  /** 1-based line. */
  line: number;
}

export interface AddressPort {
  ip: string;
  port: number;
}

export interface EndpointInfo {
  ip: string;
  port: number;
  /** Share of new connections that reach this endpoint through the cluster path (0..1). */
  share: number;
  /** KUBE-SEP-… chain, IPVS real server, or nftables endpoint chain. */
  chain?: string;
  source?: SourceRef;
  /** True when kube-proxy marks it as on this node (eTP/iTP Local paths), when known. */
  local?: boolean;
  /** IPVS weight, when the mode has one. */
  weight?: number;
}

/** A step of the chain path shown under a Service (KUBE-SVC-…, KUBE-EXT-…, a virtual server …). */
export interface PathNode {
  label: string;
  kind: 'service-chain' | 'external-chain' | 'firewall-chain' | 'local-chain' | 'endpoint-chain' | 'virtual-server' | 'other';
  source?: SourceRef;
  children: PathNode[];
  /** For endpoint-like nodes: the share of traffic entering the parent. */
  share?: number;
}

export interface ServiceInfo {
  /** `ns/name:port` as kube-proxy writes it (the port name may be empty: `ns/name`). */
  id: string;
  namespace: string;
  name: string;
  portName: string;
  protocol: Protocol;
  clusterIP: AddressPort | null;
  nodePort: number | null;
  externalIPs: AddressPort[];
  loadBalancerIPs: AddressPort[];
  /** LoadBalancer source ranges, when a firewall chain reveals them. */
  sourceRanges: string[];
  externalTrafficPolicy: 'Cluster' | 'Local' | null;
  internalTrafficPolicy: 'Cluster' | 'Local' | null;
  sessionAffinitySeconds: number | null;
  endpoints: EndpointInfo[];
  path: PathNode[];
  warnings: string[];
  source?: SourceRef;
}

export interface ServiceTree {
  mode: DataplaneMode | 'none';
  services: ServiceInfo[];
  /** Node-wide findings: stale chains, mixed backends, files missing. */
  warnings: string[];
  /**
   * The Service a per-Service chain belongs to, for builders that compute a Service's `path` and `endpoints`
   * only when first read (iptables mode): lookups by chain then need no Service expanded.
   */
  chainOwner?: (chain: string) => ServiceInfo | undefined;
}
