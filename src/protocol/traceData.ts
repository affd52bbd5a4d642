/**
 * The trace data as it travels to the webview: the same shape as the `netpath trace --json` contract
 * (DESIGN.md), declared here again because the protocol depends on nothing, so the webview never reaches into
 * src/core. The extension host passes core's TraceResult, which TypeScript checks against these shapes.
 */

export type WireProtocol = 'tcp' | 'udp' | 'sctp';
export type WireHook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';

export interface WirePacket {
  src: string;
  dst: string;
  proto: WireProtocol;
  sport: number;
  dport: number;
}

export interface WireRuleRef {
  table: string;
  chain: string;
  /** 1-based line in the snapshot file; 0 when the step comes from no line. */
  line: number;
  rule: string;
}

export interface WireStep extends WireRuleRef {
  hook: WireHook;
  explanation: string;
  /** The snapshot file of the line when it is not iptables-save.txt. */
  file?: string;
}

export interface WireOutcome {
  probability: number;
  verdict: 'ACCEPT' | 'DROP' | 'REJECT';
  delivery: 'forward' | 'local';
  dnat: { ip: string; port: number } | null;
  masquerade: boolean;
  decidedBy: WireRuleRef | null;
  steps: WireStep[];
}

export interface WireTraceResult {
  mode: 'iptables' | 'ipvs' | 'nftables';
  packet: WirePacket;
  hook: 'PREROUTING' | 'OUTPUT';
  service: string | null;
  outcomes: WireOutcome[];
  assumptions: string[];
  warnings: string[];
}
