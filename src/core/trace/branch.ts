/**
 * One possible path of a packet through the node. A statistic match splits a branch in two; each branch
 * carries its share of the packets, the packet as rewritten so far, and the steps that explain it.
 */

import type { PacketState } from './packetState';
import { copyPacketState } from './packetState';
import type { RuleRef, TraceStep, Verdict } from './result';

export interface Branch {
  probability: number;
  packet: PacketState;
  steps: TraceStep[];
  /** Assumptions that only this branch rests on (a rule the tracer could not decide, assumed not to match). */
  notes: string[];
  masquerade: boolean;
  dnat: { ip: string; port: number } | null;
  /** Set once the packet is dropped or rejected, or finally accepted. */
  verdict?: { verdict: Verdict; decidedBy: RuleRef | null };
  /** The last rule that accepted the packet explicitly, reported when no rule drops it. */
  lastAccept: RuleRef | null;
  /** The Service the packet was found to be addressed to (`ns/name:port`). */
  service: string | null;
  delivery: 'forward' | 'local';
}

export function copyBranch(branch: Branch): Branch {
  return {
    ...branch,
    packet: copyPacketState(branch.packet),
    steps: branch.steps.slice(),
    notes: branch.notes.slice(),
  };
}
