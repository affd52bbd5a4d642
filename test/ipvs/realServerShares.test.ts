import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lookupVirtualServer } from '../../src/core/ipvs/lookupVirtualServer';
import { parseIpvsadm } from '../../src/core/ipvs/parseIpvsadm';
import { realServerShares, schedulerAssumption } from '../../src/core/ipvs/realServerShares';

/** One virtual server in save form: `weights` gives one real server per entry. */
function server(scheduler: string, weights: number[], extra = '') {
  const lines = [`-A -t 10.96.0.50:80 -s ${scheduler}${extra}`];
  weights.forEach((weight, index) => lines.push(`-a -t 10.96.0.50:80 -r 10.244.0.${index + 1}:8080 -m -w ${weight}`));
  return parseIpvsadm(lines.join('\n')).value.virtualServers[0]!;
}

const shares = (scheduler: string, weights: number[]): number[] => realServerShares(server(scheduler, weights)).map((each) => each.share);

const close = (actual: number[], expected: number[]): void => {
  assert.equal(actual.length, expected.length);
  actual.forEach((value, index) => assert.ok(Math.abs(value - expected[index]!) < 1e-12, `share ${index}: ${value} != ${expected[index]}`));
};

test('rr and the other unweighted schedulers split equally among real servers with weight > 0', () => {
  close(shares('rr', [1, 1, 1]), [1 / 3, 1 / 3, 1 / 3]);
  close(shares('rr', [5, 1]), [0.5, 0.5]);
  for (const scheduler of ['lc', 'nq', 'dh', 'lblc', 'lblcr']) close(shares(scheduler, [4, 1, 1, 2]), [0.25, 0.25, 0.25, 0.25]);
});

test('wrr splits by weight; wlc, sed, sh and mh follow weight in the long run', () => {
  close(shares('wrr', [3, 1]), [0.75, 0.25]);
  close(shares('wrr', [2, 2, 4]), [0.25, 0.25, 0.5]);
  for (const scheduler of ['wlc', 'sed', 'sh', 'mh']) close(shares(scheduler, [1, 3]), [0.25, 0.75]);
});

test('weight 0 takes no new connections under every scheduler, and the rest share what remains', () => {
  close(shares('rr', [1, 0, 1]), [0.5, 0, 0.5]);
  close(shares('wrr', [3, 0, 1]), [0.75, 0, 0.25]);
  close(shares('fo', [0, 2]), [0, 1]);
  close(shares('rr', [0, 0]), [0, 0]);
  assert.deepEqual(realServerShares(server('rr', [])), []);
});

test('fo sends everything to the highest weight; ties share it', () => {
  close(shares('fo', [1, 5, 2]), [0, 1, 0]);
  close(shares('fo', [5, 5, 2]), [0.5, 0.5, 0]);
});

test('shares keep listing order and point at the real servers they belong to', () => {
  const vs = server('wrr', [2, 1]);
  const result = realServerShares(vs);
  assert.deepEqual(result.map((each) => each.server), vs.realServers);
  assert.deepEqual(result.map((each) => each.server.line), [2, 3]);
});

test('a listing without weights (--stats) is treated as equal weights and says so', () => {
  const stats = parseIpvsadm([
    'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes',
    '  -> RemoteAddress:Port',
    'TCP  10.96.0.1:443                      12      360      300    3260     9802',
    '  -> 172.18.0.3:6443                     6      180      150    1630     4901',
    '  -> 172.18.0.4:6443                     6      180      150    1630     4901',
  ].join('\n')).value.virtualServers[0]!;
  close(realServerShares(stats).map((each) => each.share), [0.5, 0.5]);
  assert.match(schedulerAssumption(stats)!, /no scheduler or weights/);
});

test('scheduler assumptions name what the split depends on, and persistence', () => {
  assert.equal(schedulerAssumption(server('rr', [1])), undefined);
  assert.equal(schedulerAssumption(server('wrr', [1])), undefined);
  assert.match(schedulerAssumption(server('wlc', [1]))!, /steady state/);
  assert.match(schedulerAssumption(server('sh', [1]))!, /client address/);
  assert.match(schedulerAssumption(server('rr', [1], ' -p 10800'))!, /persistent 10800/);
  assert.match(schedulerAssumption(server('sh', [1, 0]))!, /weight 0, so the few clients hashing there are refused/);
  assert.doesNotMatch(schedulerAssumption(server('sh', [1, 0], ' -b sh-fallback'))!, /refused/);
});

test('lookupVirtualServer matches protocol, address and port exactly, with IPv6 in any spelling', () => {
  const table = parseIpvsadm([
    'TCP  10.96.0.10:53 rr',
    '  -> 10.244.0.2:53                Masq    1      0          0         ',
    'UDP  10.96.0.10:53 rr',
    'SCTP  10.96.0.10:53 rr',
    'TCP  [fd00:10:96::a]:53 rr',
    'FWM  10 rr',
  ].join('\n')).value;
  assert.equal(lookupVirtualServer(table, 'tcp', '10.96.0.10', 53)?.line, 1);
  assert.equal(lookupVirtualServer(table, 'udp', '10.96.0.10', 53)?.line, 3);
  assert.equal(lookupVirtualServer(table, 'sctp', '10.96.0.10', 53)?.line, 4);
  assert.equal(lookupVirtualServer(table, 'tcp', '10.96.0.10', 54), undefined);
  assert.equal(lookupVirtualServer(table, 'tcp', '10.96.0.11', 53), undefined);
  assert.equal(lookupVirtualServer(table, 'tcp', 'FD00:10:96:0:0:0:0:A', 53)?.line, 5);
  assert.equal(lookupVirtualServer(table, 'tcp', 'not an address', 53), undefined);
});

test('lookupVirtualServer finds every one of 20,000 virtual servers through its index', () => {
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i++) lines.push(`TCP  10.${(i >> 8) & 255}.${i & 255}.1:${1000 + (i % 50)} rr`);
  const table = parseIpvsadm(lines.join('\n')).value;
  assert.equal(table.virtualServers.length, 20_000);
  for (let i = 0; i < 20_000; i += 997) {
    const found = lookupVirtualServer(table, 'tcp', `10.${(i >> 8) & 255}.${i & 255}.1`, 1000 + (i % 50));
    assert.equal(found?.line, i + 1);
  }
});
