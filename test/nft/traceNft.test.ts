import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseNft } from '../../src/core/nft/parseNft';
import { ASSUME_FIRST_PACKET, ASSUME_NO_AFFINITY, ASSUME_NUMGEN, traceNft } from '../../src/core/nft/traceNft';
import { parseRouteLocal } from '../../src/core/routes/localRoutes';
import type { Packet } from '../../src/core/trace/result';

const sampleText = readFileSync('samples/nftables-kind/nft.txt', 'utf8');
const sample = parseNft(sampleText).value;
const routes = parseRouteLocal(readFileSync('samples/nftables-kind/route-local.txt', 'utf8')).value;
const foreignText = readFileSync('test/fixtures/nft-foreign-tables/nft.txt', 'utf8');
const foreign = parseNft(foreignText).value;

const packet = (src: string, dst: string, dport: number, proto: Packet['proto'] = 'tcp'): Packet => ({ src, dst, dport, proto, sport: 41000 });

test('a NodePort trace: shares, masquerade, steps that point at the lines they quote', () => {
  const result = traceNft({ nft: sample, routes }, packet('203.0.113.2', '172.18.0.2', 30080), 'PREROUTING');
  assert.equal(result.service, 'default/web:http');
  assert.equal(result.hook, 'PREROUTING');
  assert.deepEqual(result.assumptions, [ASSUME_FIRST_PACKET, ASSUME_NUMGEN]);
  assert.deepEqual(
    result.outcomes.map((outcome) => [outcome.dnat?.ip, outcome.verdict, outcome.delivery, outcome.masquerade]),
    [
      ['10.244.1.2', 'ACCEPT', 'forward', true],
      ['10.244.2.3', 'ACCEPT', 'forward', true],
      ['10.244.1.5', 'ACCEPT', 'forward', true],
    ],
  );
  const lines = sampleText.split('\n');
  for (const outcome of result.outcomes) {
    assert.ok(Math.abs(outcome.probability - 1 / 3) < 1e-12);
    assert.deepEqual(outcome.decidedBy, { table: 'ip kube-proxy', chain: 'masquerading', line: 132, rule: 'masquerade fully-random' });
    for (const step of outcome.steps) {
      assert.equal(step.table, 'ip kube-proxy');
      assert.equal(lines[step.line - 1].trim(), step.rule);
      assert.match(step.explanation, /^[A-Z].*\.$/s);
    }
    assert.deepEqual([...new Set(outcome.steps.map((step) => step.hook))], ['PREROUTING', 'FORWARD', 'POSTROUTING']);
    const chains = outcome.steps.map((step) => step.chain);
    assert.deepEqual(chains.slice(0, 5), ['filter-prerouting', 'nat-prerouting', 'services', 'external-SUSTUHLJ-default/web/tcp/http', 'mark-for-masquerade']);
    assert.ok(chains.includes('masquerading'));
  }
  const marked = result.outcomes[0].steps.find((step) => step.chain === 'mark-for-masquerade')!;
  assert.match(marked.explanation, /0x4000/);
});

test('REJECT and DROP name the rule that decided, and the Service from the no-endpoint entry', () => {
  const rejected = traceNft({ nft: sample, routes }, packet('10.244.1.9', '10.96.50.50', 80), 'PREROUTING');
  assert.equal(rejected.service, 'default/empty:http');
  assert.equal(rejected.outcomes.length, 1);
  assert.equal(rejected.outcomes[0].verdict, 'REJECT');
  assert.deepEqual(rejected.outcomes[0].decidedBy, { table: 'ip kube-proxy', chain: 'reject-chain', line: 146, rule: 'reject' });
  assert.equal(rejected.outcomes[0].steps.at(-2)?.chain, 'service-endpoints-check');

  const dropped = traceNft({ nft: sample, routes }, packet('10.244.1.9', '10.96.77.77', 80), 'PREROUTING');
  assert.equal(dropped.service, null);
  assert.equal(dropped.outcomes[0].verdict, 'DROP');
  assert.equal(dropped.outcomes[0].decidedBy?.chain, 'cluster-ips-check');
  assert.match(dropped.outcomes[0].steps.at(-1)!.explanation, /Drop traffic to unallocated ClusterIPs/);
});

test('locally delivered traffic goes through INPUT; node traffic enters at OUTPUT', () => {
  const nodePortNoEndpoints = traceNft({ nft: sample, routes }, packet('203.0.113.2', '172.18.0.2', 30999), 'PREROUTING');
  assert.equal(nodePortNoEndpoints.outcomes[0].delivery, 'local');
  assert.equal(nodePortNoEndpoints.outcomes[0].steps.at(-1)?.hook, 'INPUT');

  const fromNode = traceNft({ nft: sample, routes }, packet('172.18.0.2', '10.96.0.1', 443), 'OUTPUT');
  assert.equal(fromNode.hook, 'OUTPUT');
  assert.deepEqual(fromNode.outcomes.map((outcome) => [outcome.dnat, outcome.masquerade]), [[{ ip: '172.18.0.3', port: 6443 }, true]]);
  assert.equal(fromNode.outcomes[0].steps[0].chain, 'filter-output');
  assert.ok(fromNode.outcomes[0].steps.some((step) => step.chain === 'filter-output-post-dnat'));
});

test('session affinity: no entry is assumed, and an entry already in the set is reported', () => {
  const result = traceNft({ nft: sample, routes }, packet('10.244.1.9', '10.96.200.20', 80), 'PREROUTING');
  assert.ok(result.assumptions.includes(ASSUME_NO_AFFINITY));
  assert.equal(result.outcomes.length, 2);
  assert.deepEqual(result.warnings, []);

  const withEntry = sampleText.replace(
    /(set affinity-UWR7Z5V4-default\/shop\/tcp\/http__10\.244\.1\.6\/8080 \{\n(?:.*\n){3}\t\ttimeout 3h\n)/,
    '$1\t\telements = { 10.244.1.9 timeout 3h expires 2h59m }\n',
  );
  assert.notEqual(withEntry, sampleText);
  const pinned = traceNft({ nft: parseNft(withEntry).value, routes }, packet('10.244.1.9', '10.96.200.20', 80), 'PREROUTING');
  assert.equal(pinned.warnings.length, 1);
  assert.match(pinned.warnings[0], /affinity-UWR7Z5V4.*already holds 10\.244\.1\.9/);
});

test('base chains of every table run in priority order; a nat chain that NATs first wins', () => {
  const result = traceNft({ nft: foreign, routes }, packet('10.244.1.9', '10.96.100.10', 80), 'PREROUTING');
  assert.deepEqual(result.warnings, []);
  assert.equal(result.outcomes.length, 1);
  const [outcome] = result.outcomes;
  assert.deepEqual(outcome.dnat, { ip: '10.244.9.9', port: 8080 });
  const path = outcome.steps.map((step) => `${step.hook} ${step.table} ${step.chain}`);
  // early-nat's chain has priority mangle (-150), before kube-proxy's filter-prerouting (dstnat - 10).
  assert.deepEqual(path.slice(0, 2), ['PREROUTING ip early-nat prerouting', 'PREROUTING ip kube-proxy filter-prerouting']);
  assert.ok(!path.some((step) => step.endsWith('nat-prerouting')), 'kube-proxy nat-prerouting is skipped after early-nat NATed the connection');
  const forwardChains = path.filter((step) => step.startsWith('FORWARD'));
  assert.equal(forwardChains.at(-1), 'FORWARD inet host-firewall forward');
  assert.ok(forwardChains.indexOf('FORWARD ip kube-proxy filter-forward') < forwardChains.indexOf('FORWARD inet host-firewall forward'));
});

test('an expression the tracer cannot evaluate never matches, and the outcome says it depends on it', () => {
  const lines = foreignText.split('\n');
  const iifLine = lines.findIndex((line) => line.includes('iifname "eth0"')) + 1;
  const result = traceNft({ nft: foreign, routes }, packet('203.0.113.2', '172.18.0.2', 30080), 'PREROUTING');
  assert.deepEqual(new Set(result.outcomes.map((outcome) => outcome.verdict)), new Set(['DROP']));
  const outcome = result.outcomes[0];
  assert.equal(outcome.decidedBy, null, 'the forward chain policy drops it');
  assert.equal(outcome.steps.at(-1)?.rule, 'chain forward (policy drop)');
  const unknown = outcome.steps.find((step) => step.line === iifLine)!;
  assert.match(unknown.explanation, /Not understood.*assumed not to match/);
  assert.ok(result.warnings.some((warning) => warning.startsWith(`nft.txt line ${iifLine} (inet host-firewall chain forward): cannot evaluate`)));
  assert.ok(result.warnings.some((warning) => /outcome DROP.*depends on it$/.test(warning)));

  const limited = traceNft({ nft: foreign, routes }, packet('198.51.100.7', '10.96.0.10', 53, 'udp'), 'PREROUTING');
  assert.ok(limited.warnings.some((warning) => warning.includes('limit rate 10/second')));
  assert.deepEqual(limited.outcomes.map((o) => o.verdict), ['DROP', 'DROP']);
});

test('without route-local.txt, fib lookups are reported as undecidable', () => {
  const result = traceNft({ nft: sample }, packet('203.0.113.2', '172.18.255.200', 80), 'PREROUTING');
  assert.ok(result.assumptions.some((assumption) => assumption.includes('route-local.txt was not collected')));
  assert.ok(result.warnings.some((warning) => warning.includes('fib saddr type')));
  assert.deepEqual(result.outcomes.map((outcome) => outcome.dnat?.ip), ['10.244.1.6']);
});

test('jump returns, goto does not come back, policy drop decides, a missing chain is reported', () => {
  const text = [
    'table ip t {',
    '\tchain pre {',
    '\t\ttype filter hook prerouting priority filter; policy drop;',
    '\t\tjump a',
    '\t\tmeta mark 0x00000001 accept',
    '\t\tjump missing',
    '\t}',
    '',
    '\tchain a {',
    '\t\tgoto b',
    '\t\tmeta mark set 0x00000002',
    '\t}',
    '',
    '\tchain b {',
    '\t\tmeta mark set 0x00000001',
    '\t\treturn',
    '\t\tmeta mark set 0x00000003',
    '\t}',
    '}',
  ].join('\n');
  const nft = parseNft(text).value;
  const accepted = traceNft({ nft, routes }, packet('203.0.113.2', '10.0.0.1', 80), 'PREROUTING');
  assert.equal(accepted.outcomes.length, 1);
  assert.equal(accepted.outcomes[0].verdict, 'ACCEPT');
  assert.deepEqual(accepted.outcomes[0].steps.map((step) => step.line), [4, 10, 15, 16, 5]);

  const dropping = parseNft(text.replace('\t\tmeta mark 0x00000001 accept\n', '')).value;
  const dropped = traceNft({ nft: dropping, routes }, packet('203.0.113.2', '10.0.0.1', 80), 'PREROUTING');
  assert.equal(dropped.outcomes[0].verdict, 'DROP');
  assert.equal(dropped.outcomes[0].decidedBy, null);
  assert.ok(dropped.warnings.some((warning) => warning.includes('jump to chain missing')));
});

test('numgen with an offset and ranges in the map splits by the share of values', () => {
  const text = [
    'table ip t {',
    '\tchain pre {',
    '\t\ttype nat hook prerouting priority dstnat; policy accept;',
    '\t\tnumgen random mod 4 offset 10 vmap { 10-12 : goto a, 13 : goto b }',
    '\t}',
    '\tchain a {',
    '\t\tdnat to 10.0.0.1:80',
    '\t}',
    '\tchain b {',
    '\t\tdnat to 10.0.0.2',
    '\t}',
    '}',
  ].join('\n');
  const result = traceNft({ nft: parseNft(text).value, routes }, packet('203.0.113.2', '10.96.0.1', 8080), 'PREROUTING');
  assert.deepEqual(
    result.outcomes.map((outcome) => [outcome.dnat, outcome.probability]),
    [
      [{ ip: '10.0.0.1', port: 80 }, 0.75],
      [{ ip: '10.0.0.2', port: 8080 }, 0.25],
    ],
  );
});

test('ct status sees the DNAT of the first packet; iptables-nft matches nft cannot translate stay unknown', () => {
  const text = [
    '# Warning: table ip filter is managed by iptables-nft, do not touch!',
    'table ip filter {',
    '\tchain OUTPUT {',
    '\t\ttype filter hook output priority filter; policy accept;',
    '\t\tip daddr 127.0.0.0/8 ct status dnat counter packets 0 bytes 0 drop',
    '\t}',
    '}',
    'table ip nat {',
    '\tchain OUTPUT {',
    '\t\ttype nat hook output priority -100; policy accept;',
    '\t\tudp dport 5353 dnat to 127.0.0.1:53',
    '\t\txt match "addrtype" counter packets 0 bytes 0 jump KUBE-NODEPORTS',
    '\t}',
    '\tchain KUBE-NODEPORTS {',
    '\t}',
    '}',
  ].join('\n');
  const { value, diagnostics } = parseNft(text);
  assert.deepEqual(diagnostics, []);
  const natted = traceNft({ nft: value, routes }, packet('172.18.0.2', '10.1.2.3', 5353, 'udp'), 'OUTPUT');
  assert.deepEqual(natted.outcomes.map((outcome) => [outcome.verdict, outcome.decidedBy?.line]), [['DROP', 5]]);
  const plain = traceNft({ nft: value, routes }, packet('172.18.0.2', '127.0.0.1', 53, 'udp'), 'OUTPUT');
  assert.deepEqual(plain.outcomes.map((outcome) => [outcome.verdict, outcome.delivery]), [['ACCEPT', 'local']]);
  assert.ok(plain.warnings.some((warning) => warning.includes('nft.txt line 12 (ip nat chain OUTPUT)') && warning.includes('xt match "addrtype"')));
});

test('device hooks (netdev ingress) are reported as not traced', () => {
  const text = 'table netdev edge {\n\tchain in {\n\t\ttype filter hook ingress device "eth0" priority filter; policy accept;\n\t\tip saddr 198.51.100.0/24 drop\n\t}\n}\n';
  const { value, diagnostics } = parseNft(text);
  assert.deepEqual(diagnostics, []);
  assert.equal(value.tables[0].chains[0].base?.device, 'eth0');
  const result = traceNft({ nft: value, routes }, packet('198.51.100.1', '10.0.0.1', 80), 'PREROUTING');
  assert.deepEqual(result.warnings, ['netdev edge has ingress chain in, which run at the network device and are not traced']);
});
