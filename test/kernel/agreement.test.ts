// The comparisons of the kernel agreement tests, on made-up observations and traces, so that they are
// shown to catch disagreements even where the kernel tests themselves skip (no root).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TraceOutcome, TraceResult } from '../../src/core/trace/result';
import type { ProbeRow } from './agreement';
import { checkIntent, checkTrace, observe, sureShare } from './agreement';
import type { ConnectionResult } from './netns';

const src = '192.168.50.20';
const gateway = '10.244.1.1';

function answered(pod: string, peer: string): ConnectionResult {
  return { outcome: 'answered', pod, peer, local: src };
}

function repeat(result: ConnectionResult, times: number): ConnectionResult[] {
  return Array.from({ length: times }, () => result);
}

function outcome(probability: number, fields: Partial<TraceOutcome>): TraceOutcome {
  return { probability, verdict: 'ACCEPT', delivery: 'forward', dnat: null, masquerade: false, decidedBy: null, steps: [], ...fields };
}

function trace(hook: 'PREROUTING' | 'OUTPUT', outcomes: TraceOutcome[]): TraceResult {
  return {
    mode: 'iptables',
    packet: { src, dst: '10.96.0.10', proto: 'tcp', sport: 40000, dport: 80 },
    hook,
    service: 'default/web:http',
    outcomes,
    assumptions: [],
    warnings: [],
  };
}

const threeWay: ProbeRow = {
  name: 'outside → web',
  from: 'client',
  dst: '10.96.0.10',
  dport: 80,
  count: 30,
  intent: { pods: { 'pod-a': { masquerade: true }, 'pod-b': { masquerade: true }, 'pod-c': { masquerade: true } } },
};

const allThreeMasqueraded = observe({
  src,
  results: [...repeat(answered('pod-a', gateway), 10), ...repeat(answered('pod-b', gateway), 10), ...repeat(answered('pod-c', gateway), 10)],
});

const webTrace = trace('PREROUTING', [
  outcome(1 / 3, { dnat: { ip: '10.244.1.11', port: 8080 }, masquerade: true }),
  outcome(1 / 3, { dnat: { ip: '10.244.1.12', port: 8080 }, masquerade: true }),
  outcome(1 / 3, { dnat: { ip: '10.244.1.13', port: 8080 }, masquerade: true }),
]);

test('observe tells masquerade from the peer address and counts drops, EPERM included', () => {
  const observation = observe({
    src,
    results: [answered('pod-a', gateway), answered('pod-b', src), { outcome: 'timeout' }, { outcome: 'error', code: 'EPERM' }, { outcome: 'error', code: 'EHOSTUNREACH' }],
  });
  assert.equal(observation.fates.get('pod 10.244.1.11 masqueraded')?.count, 1);
  assert.equal(observation.fates.get('pod 10.244.1.12')?.count, 1);
  assert.equal(observation.fates.get('dropped')?.count, 2);
  assert.deepEqual(observation.errors, ['connection error EHOSTUNREACH']);
});

test('sureShare: thirty connections are sure to reach a third, four are not', () => {
  assert.ok(sureShare(30) < 1 / 3);
  assert.ok(sureShare(4) > 1 / 2);
});

test('checkIntent accepts what kube-proxy means and names each departure from it', () => {
  assert.deepEqual(checkIntent(threeWay, allThreeMasqueraded), []);

  const unmasked = observe({ src, results: [...repeat(answered('pod-a', src), 15), ...repeat(answered('pod-b', gateway), 15)] });
  const problems = checkIntent(threeWay, unmasked);
  assert.ok(problems.some((problem) => problem.includes('pod-a saw the original source')));
  assert.ok(problems.some((problem) => problem.includes('pod-c never answered')));

  const refusedRow: ProbeRow = { ...threeWay, intent: 'refused', count: 4 };
  assert.deepEqual(checkIntent(refusedRow, observe({ src, results: repeat({ outcome: 'refused' }, 4) })), []);
  assert.equal(checkIntent(refusedRow, observe({ src, results: [...repeat({ outcome: 'refused' }, 3), { outcome: 'timeout' }] })).length, 1);
});

test('checkTrace accepts a trace that matches the kernel', () => {
  assert.deepEqual(checkTrace(threeWay, allThreeMasqueraded, webTrace), []);
});

test('checkTrace reports a fate the trace does not predict and a likely one the kernel never showed', () => {
  const rejecting = trace('PREROUTING', [outcome(1, { verdict: 'REJECT' })]);
  const problems = checkTrace(threeWay, allThreeMasqueraded, rejecting);
  assert.ok(problems.some((problem) => problem.includes('pod-a answered with the source masqueraded')));
  assert.ok(problems.some((problem) => problem.includes('trace predicts 100.0% refused')));

  const notMasqueraded = trace('PREROUTING', webTrace.outcomes.map((item) => ({ ...item, masquerade: false })));
  assert.equal(checkTrace(threeWay, allThreeMasqueraded, notMasqueraded).length, 6);
});

test('checkTrace reports the wrong entry hook, the wrong endpoint port, and forwarding without DNAT', () => {
  assert.ok(checkTrace(threeWay, allThreeMasqueraded, trace('OUTPUT', webTrace.outcomes)).some((problem) => problem.includes('enters at OUTPUT')));
  const wrongPort = trace('PREROUTING', webTrace.outcomes.map((item) => ({ ...item, dnat: item.dnat && { ip: item.dnat.ip, port: 80 } })));
  assert.ok(checkTrace(threeWay, allThreeMasqueraded, wrongPort).some((problem) => problem.includes('DNATs to port 80')));
  const undecided = trace('PREROUTING', [outcome(1, {})]);
  assert.ok(checkTrace(threeWay, allThreeMasqueraded, undecided).some((problem) => problem.includes('forwarded without DNAT')));
});

test('checkTrace reads local delivery with nothing listening as a refusal, and DROP as a drop', () => {
  const row: ProbeRow = { ...threeWay, count: 4, intent: 'refused' };
  const refused = observe({ src, results: repeat({ outcome: 'refused' }, 4) });
  assert.deepEqual(checkTrace(row, refused, trace('PREROUTING', [outcome(1, { delivery: 'local' })])), []);
  const dropped = observe({ src, results: repeat({ outcome: 'timeout' }, 4) });
  assert.deepEqual(checkTrace({ ...row, intent: 'dropped' }, dropped, trace('PREROUTING', [outcome(1, { verdict: 'DROP' })])), []);
  assert.equal(checkTrace(row, dropped, trace('PREROUTING', [outcome(1, { delivery: 'local' })])).length, 2);
});

test('session affinity: one endpoint must take every connection, and the trace need only predict it', () => {
  const sticky: ProbeRow = { ...threeWay, count: 12, sticky: true };
  const stuck = observe({ src, results: repeat(answered('pod-b', gateway), 12) });
  assert.deepEqual(checkIntent(sticky, stuck), []);
  assert.deepEqual(checkTrace(sticky, stuck, webTrace), []);
  const wandering = observe({ src, results: [...repeat(answered('pod-b', gateway), 6), ...repeat(answered('pod-c', gateway), 6)] });
  assert.ok(checkIntent(sticky, wandering).some((problem) => problem.includes('should keep one endpoint')));
  const onlyPodA = trace('PREROUTING', [outcome(1, { dnat: { ip: '10.244.1.11', port: 8080 }, masquerade: true })]);
  assert.equal(checkTrace(sticky, stuck, onlyPodA).length, 1);
});
