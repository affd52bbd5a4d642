/**
 * A table runner for packet-flow tests, after kube-proxy's `runPacketFlowTests`: each row names a packet and the
 * fates it should meet on one snapshot folder, the runner traces it with `analyzeSnapshot` + `tracePacket` (the code
 * under test) and compares the outcomes by endpoint share. A failing row prints every step the trace took.
 * The expectations live in the test files beside their kernel reasoning; nothing here decides what is right.
 */

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { analyzeSnapshot } from '../../src/core/analyze';
import { SNAPSHOT_FILES, type Snapshot, type SnapshotFileName, type SnapshotMeta } from '../../src/core/snapshot';
import type { Protocol, TraceOutcome, TraceResult, Verdict } from '../../src/core/trace/result';
import { tracePacket } from '../../src/core/trace/tracePacket';

/** One fate of the first packet of a connection, with the share of connections that meet it. */
export interface ExpectedFate {
  /** Destination after NAT as `ip:port`, or null when nothing rewrote it. */
  to: string | null;
  share: number;
  verdict: Verdict;
  masquerade: boolean;
  delivery: 'forward' | 'local';
  /** The chain holding the rule that gave the verdict; null when a built-in chain's policy did. Unchecked if absent. */
  decidedIn?: string | null;
}

export interface PacketFlowRow {
  name: string;
  src: string;
  dst: string;
  dport: number;
  /** tcp unless given. */
  proto?: Protocol;
  sport?: number;
  /** Where the packet enters: OUTPUT when the source is an address of the node. PREROUTING unless given. */
  hook?: 'PREROUTING' | 'OUTPUT';
  /** `ns/name:port` of the Service the destination belongs to. Unchecked if absent. */
  service?: string | null;
  expect: ExpectedFate[];
  /** An assumption the trace must list (for rows whose answer rests on state the snapshot cannot show). */
  assumption?: RegExp;
  /** Where this row follows the kernel rather than kube-proxy's own (simplified) test tracer, and why. */
  kernelNote?: string;
}

interface FateOptions {
  masquerade?: boolean;
  delivery?: 'forward' | 'local';
}

/** The packet is DNATed to one of `endpoints` (`ip:port`) with equal shares and accepted. */
export function endpoints(targets: string[], options: FateOptions = {}): ExpectedFate[] {
  return targets.map((to) => ({
    to,
    share: 1 / targets.length,
    verdict: 'ACCEPT',
    masquerade: options.masquerade ?? false,
    delivery: options.delivery ?? 'forward',
  }));
}

/** Every packet meets the same verdict without being rewritten; `decidedIn` names the chain of the deciding rule. */
export function verdict(
  value: Verdict,
  decidedIn: string | null,
  options: FateOptions = {},
): ExpectedFate[] {
  return [
    {
      to: null,
      share: 1,
      verdict: value,
      masquerade: options.masquerade ?? false,
      delivery: options.delivery ?? 'forward',
      decidedIn,
    },
  ];
}

/** kube-proxy's rules leave the packet alone: accepted by the chain policies, destination unchanged. */
export function untouched(delivery: 'forward' | 'local' = 'forward'): ExpectedFate[] {
  return verdict('ACCEPT', null, { delivery });
}

/** Reads a snapshot folder the way the collector writes it: one file per command, plus meta.json. */
export function loadSnapshotFolder(dir: string): Snapshot {
  const files: Partial<Record<SnapshotFileName, string>> = {};
  for (const name of SNAPSHOT_FILES) {
    const path = join(dir, name);
    if (existsSync(path)) files[name] = readFileSync(path, 'utf8');
  }
  const metaPath = join(dir, 'meta.json');
  const meta = existsSync(metaPath) ? (JSON.parse(readFileSync(metaPath, 'utf8')) as SnapshotMeta) : undefined;
  return { name: dir, files, meta };
}

interface Fate {
  key: string;
  share: number;
  decidedIn?: string | null;
}

function fateKey(to: string | null, verdictValue: Verdict, masquerade: boolean, delivery: string): string {
  return `${to ?? 'no DNAT'} ${verdictValue} ${masquerade ? 'masqueraded' : 'source kept'} ${delivery}`;
}

/** Merges outcomes that differ only in their path, so shares compare per fate. */
function actualFates(outcomes: TraceOutcome[]): Map<string, Fate> {
  const fates = new Map<string, Fate>();
  for (const outcome of outcomes) {
    const to = outcome.dnat ? `${outcome.dnat.ip}:${outcome.dnat.port}` : null;
    const key = fateKey(to, outcome.verdict, outcome.masquerade, outcome.delivery);
    const fate = fates.get(key) ?? { key, share: 0, decidedIn: outcome.decidedBy?.chain ?? null };
    fate.share += outcome.probability;
    fates.set(key, fate);
  }
  return fates;
}

function expectedFates(expected: ExpectedFate[]): Map<string, Fate> {
  const fates = new Map<string, Fate>();
  for (const fate of expected) {
    const key = fateKey(fate.to, fate.verdict, fate.masquerade, fate.delivery);
    const merged = fates.get(key) ?? { key, share: 0, decidedIn: fate.decidedIn };
    merged.share += fate.share;
    fates.set(key, merged);
  }
  return fates;
}

const SHARE_TOLERANCE = 1e-6;

/** Lists what is wrong with `result` for `row`; empty when it matches. */
export function compareTrace(row: PacketFlowRow, result: TraceResult): string[] {
  const problems: string[] = [];
  const expectedHook = row.hook ?? 'PREROUTING';
  if (result.hook !== expectedHook) problems.push(`entered at ${result.hook}, expected ${expectedHook}`);
  if (row.service !== undefined && result.service !== row.service) {
    problems.push(`service ${JSON.stringify(result.service)}, expected ${JSON.stringify(row.service)}`);
  }
  if (row.assumption && !result.assumptions.some((assumption) => row.assumption!.test(assumption))) {
    problems.push(`no assumption matches ${row.assumption}`);
  }
  // Each share may be rounded to six decimals on its way out, so the sum may miss 1 by half a millionth per outcome.
  const total = result.outcomes.reduce((sum, outcome) => sum + outcome.probability, 0);
  if (Math.abs(total - 1) > SHARE_TOLERANCE * Math.max(1, result.outcomes.length)) {
    problems.push(`outcome shares sum to ${total}, not 1`);
  }
  const actual = actualFates(result.outcomes);
  const expected = expectedFates(row.expect);
  for (const [key, fate] of expected) {
    const got = actual.get(key);
    if (got === undefined) {
      problems.push(`missing fate: ${key} (share ${fate.share.toFixed(4)})`);
      continue;
    }
    if (Math.abs(got.share - fate.share) > SHARE_TOLERANCE) {
      problems.push(`fate ${key}: share ${got.share.toFixed(6)}, expected ${fate.share.toFixed(6)}`);
    }
    if (fate.decidedIn !== undefined && got.decidedIn !== fate.decidedIn) {
      problems.push(`fate ${key}: decided in ${got.decidedIn ?? 'a chain policy'}, expected ${fate.decidedIn ?? 'a chain policy'}`);
    }
  }
  for (const [key, fate] of actual) {
    if (!expected.has(key)) problems.push(`unexpected fate: ${key} (share ${fate.share.toFixed(4)})`);
  }
  return problems;
}

/** The trace as text: each outcome with its fate, then the steps it took (hook, table, chain, line, rule). */
export function describeTrace(result: TraceResult): string {
  const lines: string[] = [];
  result.outcomes.forEach((outcome, index) => {
    const to = outcome.dnat ? `${outcome.dnat.ip}:${outcome.dnat.port}` : 'no DNAT';
    const decided = outcome.decidedBy
      ? `${outcome.decidedBy.table}/${outcome.decidedBy.chain} line ${outcome.decidedBy.line}`
      : 'a chain policy';
    lines.push(
      `outcome ${index + 1}: p=${outcome.probability.toFixed(6)} ${outcome.verdict} ${outcome.delivery} ${to}` +
        ` masquerade=${outcome.masquerade} decided by ${decided}`,
    );
    for (const step of outcome.steps) {
      lines.push(`    ${step.hook.padEnd(11)} ${step.table.padEnd(6)} ${step.chain} line ${step.line}: ${step.rule}`);
    }
  });
  if (result.warnings.length > 0) lines.push(`warnings: ${result.warnings.join(' | ')}`);
  if (result.assumptions.length > 0) lines.push(`assumptions: ${result.assumptions.join(' | ')}`);
  return lines.join('\n');
}

/** Registers one test per row against the snapshot folder `dir`, analysed once. */
export function packetFlowTable(dir: string, rows: PacketFlowRow[]): void {
  describe(`packet flow on ${dir}`, () => {
    let analysis: ReturnType<typeof analyzeSnapshot> | undefined;
    const analyzed = (): ReturnType<typeof analyzeSnapshot> => {
      analysis ??= analyzeSnapshot(loadSnapshotFolder(dir));
      return analysis;
    };
    for (const row of rows) {
      test(row.name, () => {
        const packet = {
          src: row.src,
          dst: row.dst,
          proto: row.proto ?? 'tcp',
          sport: row.sport ?? 40000,
          dport: row.dport,
        };
        const result = tracePacket(analyzed(), packet);
        const problems = compareTrace(row, result);
        if (problems.length > 0) {
          assert.fail(
            `${row.name}: ${packet.proto} ${packet.src} -> ${packet.dst}:${packet.dport}\n` +
              `${problems.map((problem) => `  - ${problem}`).join('\n')}\n` +
              (row.kernelNote ? `kernel note: ${row.kernelNote}\n` : '') +
              `the trace:\n${describeTrace(result)}`,
          );
        }
      });
    }
  });
}
