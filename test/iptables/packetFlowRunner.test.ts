/**
 * Checks the packet-flow table runner itself on hand-made trace results, so a table row can only pass when the
 * tracer's outcomes really match it: shares per endpoint, verdict, masquerade, delivery, entry hook, deciding chain.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TraceOutcome, TraceResult } from '../../src/core/trace/result';
import { compareTrace, describeTrace, endpoints, verdict, type PacketFlowRow } from '../helpers/packetFlow';

const step = { hook: 'PREROUTING' as const, table: 'nat', chain: 'KUBE-SERVICES', line: 7, rule: '-A KUBE-SERVICES -j X', explanation: '' };

function outcome(probability: number, ip: string | null, fields: Partial<TraceOutcome> = {}): TraceOutcome {
  return {
    probability,
    verdict: 'ACCEPT',
    delivery: 'forward',
    dnat: ip === null ? null : { ip, port: 80 },
    masquerade: false,
    decidedBy: null,
    steps: [step],
    ...fields,
  };
}

function result(outcomes: TraceOutcome[], hook: 'PREROUTING' | 'OUTPUT' = 'PREROUTING'): TraceResult {
  return {
    mode: 'iptables',
    packet: { src: '10.0.0.2', dst: '172.30.0.41', proto: 'tcp', sport: 40000, dport: 80 },
    hook,
    service: 'ns1/svc1:p80',
    outcomes,
    assumptions: ['first packet of a new connection'],
    warnings: [],
  };
}

const row: PacketFlowRow = {
  name: 'two endpoints',
  src: '10.0.0.2',
  dst: '172.30.0.41',
  dport: 80,
  expect: endpoints(['10.180.0.1:80', '10.180.0.2:80']),
};

test('a trace with the expected shares passes, even when one fate is split over several paths', () => {
  const split = result([outcome(0.25, '10.180.0.1'), outcome(0.25, '10.180.0.1'), outcome(0.5, '10.180.0.2')]);
  assert.deepEqual(compareTrace(row, split), []);
});

test('a wrong share, a missing endpoint and an extra fate are each reported', () => {
  const skewed = compareTrace(row, result([outcome(0.3333333, '10.180.0.1'), outcome(0.6666667, '10.180.0.2')]));
  assert.equal(skewed.length, 2);
  assert.match(skewed[0], /share 0\.333333, expected 0\.500000/);
  const missing = compareTrace(row, result([outcome(1, '10.180.0.1')]));
  assert.ok(missing.some((problem) => problem.startsWith('missing fate: 10.180.0.2:80')));
  assert.ok(missing.some((problem) => problem.includes('share 1.000000, expected 0.500000')));
  const extra = compareTrace(row, result([outcome(0.5, '10.180.0.1'), outcome(0.25, '10.180.0.2'), outcome(0.25, null)]));
  assert.ok(extra.some((problem) => problem.startsWith('unexpected fate: no DNAT ACCEPT')));
});

test('masquerade, delivery, verdict, hook and the deciding chain all count', () => {
  const masqueraded = result([outcome(0.5, '10.180.0.1', { masquerade: true }), outcome(0.5, '10.180.0.2')]);
  assert.ok(compareTrace(row, masqueraded).some((problem) => problem.includes('masqueraded')));
  const local = result([outcome(0.5, '10.180.0.1', { delivery: 'local' }), outcome(0.5, '10.180.0.2')]);
  assert.ok(compareTrace(row, local).some((problem) => problem.includes('local')));
  assert.deepEqual(compareTrace(row, result(masqueraded.outcomes.map((o) => ({ ...o, masquerade: false })), 'OUTPUT')), [
    'entered at OUTPUT, expected PREROUTING',
  ]);
  const dropRow: PacketFlowRow = { ...row, expect: verdict('DROP', 'KUBE-PROXY-FIREWALL') };
  const decided = { table: 'filter', chain: 'KUBE-PROXY-FIREWALL', line: 9, rule: '-A KUBE-PROXY-FIREWALL -j DROP' };
  assert.deepEqual(compareTrace(dropRow, result([outcome(1, null, { verdict: 'DROP', decidedBy: decided })])), []);
  const byPolicy = compareTrace(dropRow, result([outcome(1, null, { verdict: 'DROP' })]));
  assert.deepEqual(byPolicy, ['fate no DNAT DROP source kept forward: decided in a chain policy, expected KUBE-PROXY-FIREWALL']);
  const rejected = compareTrace(dropRow, result([outcome(1, null, { verdict: 'REJECT', decidedBy: decided })]));
  assert.equal(rejected.length, 2);
});

test('a row that rests on an assumption needs the trace to list it', () => {
  const affinityRow: PacketFlowRow = { ...row, assumption: /session affinity/ };
  const plain = result([outcome(0.5, '10.180.0.1'), outcome(0.5, '10.180.0.2')]);
  assert.deepEqual(compareTrace(affinityRow, plain), ['no assumption matches /session affinity/']);
  plain.assumptions.push('no session affinity entry exists yet for the client');
  assert.deepEqual(compareTrace(affinityRow, plain), []);
});

test('shares that do not add up to one are reported', () => {
  const short = compareTrace(row, result([outcome(0.5, '10.180.0.1'), outcome(0.4, '10.180.0.2')]));
  assert.ok(short.some((problem) => problem.startsWith('outcome shares sum to 0.9')));
});

test('the printed trace names every step with its table, chain, line and rule', () => {
  const text = describeTrace(result([outcome(1, '10.180.0.1')]));
  assert.match(text, /outcome 1: p=1\.000000 ACCEPT forward 10\.180\.0\.1:80 masquerade=false decided by a chain policy/);
  assert.match(text, /PREROUTING +nat +KUBE-SERVICES line 7: -A KUBE-SERVICES -j X/);
  assert.match(text, /assumptions: first packet of a new connection/);
});
