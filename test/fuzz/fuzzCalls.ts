/**
 * What the fuzz tests send to the worker (fuzzWorker.ts) and what it answers, and the parser behind each snapshot
 * file. Kept apart from the worker so tests can name parsers without loading the worker's GC hooks.
 */

import type { ParseResult } from '../../src/core/diagnostics';
import { parseIpset } from '../../src/core/ipset/parseIpset';
import { parseIptablesSave } from '../../src/core/iptables/parseIptablesSave';
import { parseIpvsadm } from '../../src/core/ipvs/parseIpvsadm';
import { parseNft } from '../../src/core/nft/parseNft';
import { parseRouteLocal, parseRouteMain } from '../../src/core/routes/localRoutes';
import type { SnapshotFileName } from '../../src/core/snapshot';
import type { Packet } from '../../src/core/trace/result';

export const PARSERS = {
  'iptables-save.txt': parseIptablesSave,
  'route-local.txt': parseRouteLocal,
  'route-main.txt': parseRouteMain,
  'ipvsadm.txt': parseIpvsadm,
  'ipset.txt': parseIpset,
  'nft.txt': parseNft,
} satisfies Record<string, (text: string) => ParseResult<unknown>>;

export type ParsedFile = keyof typeof PARSERS;

export type FuzzRequest =
  | { op: 'parse'; file: ParsedFile; text: string; measure?: boolean }
  | {
      op: 'analyze';
      files: Partial<Record<SnapshotFileName, string>>;
      /** Packets to trace besides one per Service (up to `perService` Services) found in the tree. */
      packets: Packet[];
      perService: number;
      measure?: boolean;
    };

export interface FuzzReply {
  /** The stack of whatever core threw, when it threw. */
  threw?: string;
  problems: string[];
  diagnostics: number;
  /** The first diagnostics as `file line N: message`, for tests that look for one. */
  diagnosticMessages: string[];
  traces: number;
  /** Warnings of every trace, de-duplicated, for tests that look for a loop or depth report. */
  traceWarnings: string[];
  /** Heap still in use after a full GC with the result alive, minus the heap before the call (bytes). */
  retainedBytes?: number;
  /** UTF-8 size of the input. */
  inputBytes: number;
  milliseconds: number;
}
