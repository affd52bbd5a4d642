/**
 * The packet as the tracer carries it through the hooks: its addresses (also as numbers for fast matching),
 * the marks that rules set and test, and what conntrack knows about the connection so far.
 */

import type { Hook, Protocol } from './result';

export interface PacketState {
  src: string;
  dst: string;
  srcNumber: number;
  dstNumber: number;
  proto: Protocol;
  sport: number;
  dport: number;
  /** The original destination, before any DNAT (for `--ctorigdst`). */
  readonly originalDst: string;
  readonly originalDport: number;
  hook: Hook;
  /** skb mark, set by MARK and tested by `-m mark`. */
  mark: number;
  /** Connection mark, set by CONNMARK and tested by `-m connmark`. */
  connmark: number;
  /** Incoming interface name; null where the hook has none (OUTPUT); undefined when unknown. */
  inInterface: string | null | undefined;
  /** Outgoing interface name; null where the hook has none (PREROUTING, INPUT); undefined when unknown. */
  outInterface: string | null | undefined;
  /** Conntrack saw a destination rewrite (`--ctstate DNAT`). */
  dnatDone: boolean;
  /** Conntrack saw a source rewrite (`--ctstate SNAT`). */
  snatDone: boolean;
  /** NOTRACK / `-j CT --notrack` was applied: no connection tracking, so no NAT. */
  untracked: boolean;
}

export function copyPacketState(state: PacketState): PacketState {
  return { ...state };
}
