/**
 * The result of tracing one packet. These types are the `netpath trace --json` contract of DESIGN.md
 * (field names and values are fixed: other tools read them), plus the packet that goes in.
 */

export type Protocol = 'tcp' | 'udp' | 'sctp';
export type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';
export type Verdict = 'ACCEPT' | 'DROP' | 'REJECT';
export type DataplaneMode = 'iptables' | 'ipvs' | 'nftables';

export interface Packet {
  src: string;
  dst: string;
  proto: Protocol;
  sport: number;
  dport: number;
}

export interface RuleRef {
  /** iptables table (`nat`, `filter`, …), nftables `family name` (`ip kube-proxy`), or `ipvs`. */
  table: string;
  chain: string;
  /** 1-based line in the snapshot file the rule came from. */
  line: number;
  /** The rule's text as it stands in the file. */
  rule: string;
}

export interface TraceStep extends RuleRef {
  hook: Hook;
  explanation: string;
  /**
   * The snapshot file the step's line refers to, when it is not the iptables-save file (`ipvsadm.txt`,
   * `route-local.txt`, `nft.txt`). An addition to DESIGN.md's contract; readers of the old form can ignore it.
   */
  file?: string;
}

export interface TraceOutcome {
  /** Share of first packets of new connections that meet this fate; all outcomes sum to 1. */
  probability: number;
  verdict: Verdict;
  delivery: 'forward' | 'local';
  dnat: { ip: string; port: number } | null;
  masquerade: boolean;
  /** The rule that gave the verdict; null when a chain policy did. */
  decidedBy: RuleRef | null;
  steps: TraceStep[];
}

export interface TraceResult {
  mode: DataplaneMode;
  packet: Packet;
  hook: 'PREROUTING' | 'OUTPUT';
  /** `ns/name:port` of the Service the packet was addressed to, or null. */
  service: string | null;
  outcomes: TraceOutcome[];
  assumptions: string[];
  warnings: string[];
}
