// The kernel's rule-walking semantics, one behaviour per test, on small hand-written rulesets:
// goto and RETURN, policies, statistic splits, marks, NAT once per connection, hooks by source, loops,
// and rules the tracer cannot decide.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeSnapshot } from '../../src/core/analyze';
import type { Packet, TraceResult } from '../../src/core/trace/result';
import { tracePacket } from '../../src/core/trace/tracePacket';

const ROUTES = 'local 10.0.0.5 dev eth0 proto kernel scope host src 10.0.0.5\nlocal 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1\n';

function trace(iptables: string, packet: Partial<Packet>, routes = ROUTES): TraceResult {
  const analysis = analyzeSnapshot({ name: 'test', files: { 'iptables-save.txt': iptables, 'route-local.txt': routes } });
  return tracePacket(analysis, { src: '192.0.2.1', dst: '10.96.0.1', proto: 'tcp', sport: 40000, dport: 80, ...packet });
}

function table(name: string, ...lines: string[]): string {
  return `*${name}\n${lines.join('\n')}\nCOMMIT\n`;
}

test('a chain entered by goto returns to the chain that made the last jump', () => {
  const result = trace(
    table('filter', ':FORWARD DROP [0:0]', ':A - [0:0]', ':B - [0:0]', '-A FORWARD -j A', '-A FORWARD -j ACCEPT', '-A A -g B', '-A A -j DROP', '-A B -p udp -j DROP'),
    {},
  );
  assert.equal(result.outcomes.length, 1);
  assert.equal(result.outcomes[0].verdict, 'ACCEPT', 'after B falls off, the walk goes back to FORWARD, skipping the rest of A');
  assert.equal(result.outcomes[0].decidedBy?.line, 6);
});

test('a goto from a built-in chain ends at that chain\'s policy when the target falls off', () => {
  const result = trace(table('filter', ':FORWARD DROP [0:0]', ':B - [0:0]', '-A FORWARD -g B', '-A FORWARD -j ACCEPT', '-A B -p udp -j ACCEPT'), {});
  assert.equal(result.outcomes[0].verdict, 'DROP');
  assert.equal(result.outcomes[0].decidedBy, null, 'a policy decided, not a rule');
});

test('RETURN in a built-in chain applies the policy', () => {
  const result = trace(table('filter', ':FORWARD DROP [0:0]', '-A FORWARD -p tcp -j RETURN', '-A FORWARD -j ACCEPT'), {});
  assert.equal(result.outcomes[0].verdict, 'DROP');
});

test('cascaded statistic rules 1/3, 1/2, rest give each endpoint a third, as kube-proxy intends', () => {
  const result = trace(
    table(
      'nat',
      ':PREROUTING ACCEPT [0:0]',
      ':SVC - [0:0]',
      '-A PREROUTING -d 10.96.0.1/32 -j SVC',
      '-A SVC -m statistic --mode random --probability 0.33333333349 -j DNAT --to-destination 10.1.0.1:80',
      '-A SVC -m statistic --mode random --probability 0.50000000000 -j DNAT --to-destination 10.1.0.2:80',
      '-A SVC -j DNAT --to-destination 10.1.0.3:80',
    ),
    {},
  );
  const shares: Record<string, number> = Object.fromEntries(result.outcomes.map((o) => [o.dnat?.ip, o.probability]));
  assert.deepEqual(Object.keys(shares).sort(), ['10.1.0.1', '10.1.0.2', '10.1.0.3']);
  for (const share of Object.values(shares)) assert.ok(Math.abs(share - 1 / 3) < 1e-6, `share ${share}`);
  assert.ok(Math.abs(result.outcomes.reduce((sum, o) => sum + o.probability, 0) - 1) < 1e-9);
});

test('statistic nth every 4 splits a quarter off', () => {
  const result = trace(
    table('nat', ':PREROUTING ACCEPT [0:0]', '-A PREROUTING -m statistic --mode nth --every 4 --packet 0 -j DNAT --to-destination 10.1.0.1:80'),
    {},
  );
  const dnat = result.outcomes.find((o) => o.dnat !== null);
  assert.equal(dnat?.probability, 0.25);
});

test('marks are state: MARK sets bits that a later -m mark tests, and only marked packets are masqueraded', () => {
  const rules = table(
    'nat',
    ':PREROUTING ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':MARKER - [0:0]',
    '-A PREROUTING ! -s 10.244.0.0/16 -j MARKER',
    '-A PREROUTING -j DNAT --to-destination 10.244.1.9:8080',
    '-A MARKER -j MARK --or-mark 0x4000',
    '-A POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A POSTROUTING -j MASQUERADE',
  );
  const outside = trace(rules, { src: '192.0.2.1' });
  assert.equal(outside.outcomes[0].masquerade, true);
  assert.deepEqual(outside.outcomes[0].dnat, { ip: '10.244.1.9', port: 8080 });
  const pod = trace(rules, { src: '10.244.3.3' });
  assert.equal(pod.outcomes[0].masquerade, false);
});

test('DNAT ends the nat chain walk: a later DNAT rule is not consulted', () => {
  const result = trace(
    table('nat', ':PREROUTING ACCEPT [0:0]', '-A PREROUTING -j DNAT --to-destination 10.1.0.1:80', '-A PREROUTING -j DNAT --to-destination 10.1.0.2:80'),
    {},
  );
  assert.deepEqual(result.outcomes.map((o) => o.dnat), [{ ip: '10.1.0.1', port: 80 }]);
});

test('a packet from a local address enters at OUTPUT; from elsewhere at PREROUTING', () => {
  const rules = table('nat', ':PREROUTING ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', '-A OUTPUT -j DNAT --to-destination 10.1.0.9:80');
  const fromNode = trace(rules, { src: '10.0.0.5' });
  assert.equal(fromNode.hook, 'OUTPUT');
  assert.deepEqual(fromNode.outcomes[0].dnat, { ip: '10.1.0.9', port: 80 });
  const fromOutside = trace(rules, { src: '192.0.2.1' });
  assert.equal(fromOutside.hook, 'PREROUTING');
  assert.equal(fromOutside.outcomes[0].dnat, null);
});

test('after DNAT the local table decides: a node address is delivered locally through INPUT', () => {
  const rules =
    table('nat', ':PREROUTING ACCEPT [0:0]', '-A PREROUTING -p tcp --dport 80 -j DNAT --to-destination 10.0.0.5:8080') +
    table('filter', ':INPUT DROP [0:0]', ':FORWARD ACCEPT [0:0]', '-A INPUT -p tcp -m tcp --dport 8080 -j ACCEPT');
  const result = trace(rules, {});
  assert.equal(result.outcomes[0].delivery, 'local');
  assert.equal(result.outcomes[0].verdict, 'ACCEPT');
  assert.equal(result.outcomes[0].decidedBy?.chain, 'INPUT');
});

test('addrtype --dst-type LOCAL tests the local table', () => {
  const rules = table('nat', ':PREROUTING ACCEPT [0:0]', '-A PREROUTING -m addrtype --dst-type LOCAL -j DNAT --to-destination 10.1.0.1:80');
  assert.notEqual(trace(rules, { dst: '10.0.0.5' }).outcomes[0].dnat, null);
  assert.equal(trace(rules, { dst: '10.0.0.6' }).outcomes[0].dnat, null);
});

test('a rule the tracer cannot decide is assumed not to match, and the answer says which outcome depends on it', () => {
  const result = trace(table('filter', ':FORWARD ACCEPT [0:0]', '-A FORWARD -m u32 --u32 "0>>22&0x3C@12>>26&0x3F=0" -j DROP'), {});
  assert.equal(result.outcomes[0].verdict, 'ACCEPT');
  assert.ok(result.warnings.some((w) => /Outcome 1 depends on an assumption: filter FORWARD line 3 .*u32/.test(w)), result.warnings.join('\n'));
});

test('a jump loop is reported and the trace still ends', () => {
  const result = trace(table('filter', ':FORWARD ACCEPT [0:0]', ':A - [0:0]', ':B - [0:0]', '-A FORWARD -j A', '-A A -j B', '-A B -j A'), {});
  assert.equal(result.outcomes[0].verdict, 'ACCEPT');
  assert.ok(result.warnings.some((w) => /loop/.test(w)));
});

test('REJECT names the rule; the first packet assumption is stated', () => {
  const result = trace(
    table('filter', ':FORWARD ACCEPT [0:0]', '-A FORWARD -m conntrack --ctstate NEW -p tcp -m comment --comment "ns/web:http has no endpoints" -j REJECT --reject-with icmp-port-unreachable'),
    {},
  );
  assert.equal(result.outcomes[0].verdict, 'REJECT');
  assert.equal(result.outcomes[0].decidedBy?.line, 3);
  assert.equal(result.service, 'ns/web:http');
  assert.ok(result.assumptions.some((a) => /first packet of a new connection/.test(a)));
  assert.match(result.outcomes[0].steps.at(-1)!.explanation, /has no endpoints/);
});

test('an ESTABLISHED-only accept rule does not match the first packet', () => {
  const result = trace(table('filter', ':FORWARD DROP [0:0]', '-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'), {});
  assert.equal(result.outcomes[0].verdict, 'DROP');
});
