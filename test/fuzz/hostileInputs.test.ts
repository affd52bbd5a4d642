// Hand-built hostile inputs (hostileInputs.ts) under the watchdog with a capped worker heap: 10 MB lines and a
// million junk lines for every parser; 100,000 nested jumps, jump and goto loops, self-jumps, 2^40-path split
// cascades and splits after very long paths in iptables and nftables; unknown tables and modules. Each returns
// in time without throwing, keeps the invariants, reports what it refused or cut short, and keeps no more heap
// alive than a fixed multiple of its input.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Packet } from '../../src/core/trace/result';
import type { FuzzReply } from './fuzzCalls';
import {
  ROUTE_LOCAL,
  iptablesJumpLoop,
  iptablesLongPathSplits,
  iptablesSplitExplosion,
  manyJunkLines,
  nestedIptablesJumps,
  nestedNftJumps,
  nftJumpLoop,
  nftLongPathSplits,
  nftSplitExplosion,
  tenMegabyteLines,
  unknownTableAndModule,
  type SnapshotFiles,
} from './hostileInputs';
import { LARGE_CALL_TIMEOUT_MS, MEMORY_ALLOWANCE_BYTES, MEMORY_MULTIPLE } from './settings';
import { FuzzWatchdog } from './watchdog';

/** The worker's old generation is capped: a parser that balloons on 10 MB dies there and fails the call. */
const WORKER_HEAP_MB = 1024;
const watchdog = new FuzzWatchdog(WORKER_HEAP_MB);
after(() => watchdog.close());

const toService: Packet = { src: '203.0.113.9', dst: '10.96.0.10', proto: 'tcp', sport: 40000, dport: 80 };

function assertMemory(reply: FuzzReply, label: string): void {
  assert.ok(reply.retainedBytes !== undefined, `${label}: the heap was not measured`);
  const bound = MEMORY_MULTIPLE * reply.inputBytes + MEMORY_ALLOWANCE_BYTES;
  assert.ok(
    reply.retainedBytes <= bound,
    `${label}: the result keeps ${(reply.retainedBytes / 1e6).toFixed(1)} MB alive for ${(reply.inputBytes / 1e6).toFixed(1)} MB of input (bound ${(bound / 1e6).toFixed(1)} MB)`,
  );
}

function summary(reply: FuzzReply): string {
  return `${reply.milliseconds.toFixed(0)} ms, ${(reply.inputBytes / 1e6).toFixed(1)} MB in, ${((reply.retainedBytes ?? 0) / 1e6).toFixed(1)} MB retained, ${reply.diagnostics} diagnostics`;
}

for (const { name, file, text } of [...tenMegabyteLines(), ...manyJunkLines()]) {
  test(`${file}: ${name} is read or refused within bounds`, async (t) => {
    const reply = await watchdog.call({ op: 'parse', file, text, measure: true }, LARGE_CALL_TIMEOUT_MS, `${file}: ${name}`);
    assert.equal(reply.threw, undefined, reply.threw);
    assert.deepEqual(reply.problems, []);
    assertMemory(reply, `${file}: ${name}`);
    t.diagnostic(summary(reply));
  });
}

async function analyze(files: SnapshotFiles, label: string): Promise<FuzzReply> {
  const reply = await watchdog.call({ op: 'analyze', files, packets: [toService], perService: 0, measure: true }, LARGE_CALL_TIMEOUT_MS, label);
  assert.equal(reply.threw, undefined, reply.threw);
  assert.deepEqual(reply.problems, []);
  assert.equal(reply.traces, 1);
  assertMemory(reply, label);
  return reply;
}

function assertWarns(reply: FuzzReply, pattern: RegExp, label: string): void {
  assert.ok(reply.traceWarnings.some((warning) => pattern.test(warning)), `${label}: no trace warning matches ${pattern}; warnings: ${JSON.stringify(reply.traceWarnings)}`);
}

test('iptables: 100,000 chains each jumping to the next are parsed, and the trace stops at a depth bound and says so', async (t) => {
  const reply = await analyze(nestedIptablesJumps(100_000), 'nested iptables jumps');
  assertWarns(reply, /jumping to C\d+ would nest chains deeper than/, 'nested iptables jumps');
  t.diagnostic(`${summary(reply)}; ${reply.traceWarnings.join(' | ')}`);
});

const LOOP_NAMES = { self: 'chain that jumps to itself', 'two-chain': 'jump loop A → B → A', goto: 'goto loop A → B → A' };

for (const kind of ['two-chain', 'self', 'goto'] as const) {
  test(`iptables: a ${LOOP_NAMES[kind]} is reported as a loop and the Service is still traced`, async (t) => {
    const reply = await analyze(iptablesJumpLoop(kind), `iptables ${kind} loop`);
    assertWarns(reply, /jumping to KUBE-\w+ would loop/, `iptables ${kind} loop`);
    t.diagnostic(reply.traceWarnings.join(' | '));
  });
}

test('nftables: 100,000 chains each jumping to the next are parsed, and the trace stops at the kernel depth and says so', async (t) => {
  const reply = await analyze(nestedNftJumps(100_000), 'nested nft jumps');
  assertWarns(reply, /deep|depth|nest/i, 'nested nft jumps');
  t.diagnostic(`${summary(reply)}; ${reply.traceWarnings.join(' | ')}`);
});

for (const kind of ['two-chain', 'self'] as const) {
  // That the report calls it a loop is regression case nft-loop-reported-as-depth.
  test(`nftables: a ${LOOP_NAMES[kind]} ends and is reported`, async (t) => {
    const reply = await analyze(nftJumpLoop(kind), `nft ${kind} loop`);
    assertWarns(reply, /loop|deep|depth|nest/i, `nft ${kind} loop`);
    t.diagnostic(reply.traceWarnings.join(' | '));
  });
}

test('an unknown table and an unknown match module are reported, and the unknown rule is not taken as matching', async (t) => {
  const reply = await analyze(unknownTableAndModule(), 'unknown table and module');
  assertWarns(reply, /frobnicate/, 'unknown table and module');
  t.diagnostic(reply.traceWarnings.join(' | '));
});

test('iptables: 40 random halvings in a row (2^40 paths) stop at the split budget, shares still summing to 1', async (t) => {
  const reply = await analyze(iptablesSplitExplosion(40), 'iptables split explosion');
  assertWarns(reply, /Too many random splits/, 'iptables split explosion');
  t.diagnostic(summary(reply));
});

test('iptables: 15 random halvings after 9,000 LOG rules stop before copying the long path runs out of memory', async (t) => {
  const reply = await analyze(iptablesLongPathSplits(9_000, 15), 'halvings after a long path');
  assertWarns(reply, /Too many random splits/, 'halvings after a long path');
  t.diagnostic(summary(reply));
});

test('nftables: 15 numgen halvings after 9,000 jumps stop before copying the long path runs out of memory', async (t) => {
  const reply = await analyze(nftLongPathSplits(9_000, 15), 'nft halvings after a long path');
  assertWarns(reply, /branches/, 'nft halvings after a long path');
  t.diagnostic(summary(reply));
});

test('nftables: 40 numgen halvings in a row (2^40 paths) stop at the branch budget, shares still summing to 1', async (t) => {
  const reply = await analyze(nftSplitExplosion(40), 'nft split explosion');
  assertWarns(reply, /branches/, 'nft split explosion');
  t.diagnostic(summary(reply));
});

test('a snapshot whose nft.txt holds a 10 MB unclosed quote is analysed and traced within bounds', async () => {
  // parseNft once overflowed the regex engine's stack on this input and threw RangeError.
  const nft = tenMegabyteLines().find((entry) => entry.name === 'a 10 MB nft rule with an unbalanced quote')!;
  const reply = await analyze({ 'nft.txt': nft.text, 'route-local.txt': ROUTE_LOCAL }, 'analysis of a 10 MB unclosed nft quote');
  assert.ok(!reply.diagnosticMessages.some((message) => /RangeError|could not be read/i.test(message)), JSON.stringify(reply.diagnosticMessages));
});
