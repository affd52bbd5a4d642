// The Service tree in iptables mode, on small hand-written rulesets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeSnapshot } from '../../src/core/analyze';
import { parseIptablesSave } from '../../src/core/iptables/parseIptablesSave';
import { buildIptablesServiceTree } from '../../src/core/services/iptablesServiceTree';

const ROUTES = 'local 10.0.0.5 dev eth0 proto kernel scope host src 10.0.0.5\n';

function table(name: string, ...lines: string[]): string {
  return `*${name}\n${lines.join('\n')}\nCOMMIT\n`;
}

test('a UDP Service with a (always TCP) health-check node port is listed once, as externalTrafficPolicy Local', () => {
  const iptables =
    table(
      'nat',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-SVC-DNS - [0:0]',
      ':KUBE-SEP-A - [0:0]',
      '-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "ns/dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-DNS',
      '-A KUBE-SVC-DNS -m comment --comment "ns/dns:dns -> 10.244.0.3:53" -j KUBE-SEP-A',
      '-A KUBE-SEP-A -p udp -m comment --comment "ns/dns:dns" -m udp -j DNAT --to-destination 10.244.0.3:53',
    ) + table('filter', ':KUBE-NODEPORTS - [0:0]', '-A KUBE-NODEPORTS -p tcp -m comment --comment "ns/dns:dns health check node port" -m tcp --dport 31000 -j ACCEPT');
  const { services } = analyzeSnapshot({ name: 'test', files: { 'iptables-save.txt': iptables, 'route-local.txt': ROUTES } }).services;
  assert.deepEqual(services.map((service) => `${service.id} ${service.protocol}`), ['ns/dns:dns udp']);
  assert.equal(services[0].externalTrafficPolicy, 'Local');
});

test('endpoint shares follow the cascade of statistic rules, and a chain nobody jumps to is reported stale', () => {
  const iptables = table(
    'nat',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-SVC-WEB - [0:0]',
    ':KUBE-SEP-1 - [0:0]',
    ':KUBE-SEP-2 - [0:0]',
    ':KUBE-SEP-3 - [0:0]',
    ':KUBE-SEP-OLD - [0:0]',
    '-A KUBE-SERVICES -d 10.96.0.20/32 -p tcp -m comment --comment "ns/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-WEB',
    '-A KUBE-SVC-WEB -m statistic --mode random --probability 0.25000000000 -j KUBE-SEP-1',
    '-A KUBE-SVC-WEB -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-2',
    '-A KUBE-SVC-WEB -j KUBE-SEP-3',
    '-A KUBE-SEP-1 -p tcp -m tcp -j DNAT --to-destination 10.244.0.1:8080',
    '-A KUBE-SEP-2 -p tcp -m tcp -j DNAT --to-destination 10.244.0.2:8080',
    '-A KUBE-SEP-3 -p tcp -m tcp -j DNAT --to-destination 10.244.0.3:8080',
    '-A KUBE-SEP-OLD -p tcp -m tcp -j DNAT --to-destination 10.244.0.9:8080',
  );
  const tree = analyzeSnapshot({ name: 'test', files: { 'iptables-save.txt': iptables, 'route-local.txt': ROUTES } }).services;
  const [web] = tree.services;
  assert.equal(web.id, 'ns/web:http');
  assert.deepEqual(web.clusterIP, { ip: '10.96.0.20', port: 80 });
  const shares = web.endpoints.map((endpoint) => [endpoint.ip, Number(endpoint.share.toFixed(6))]);
  assert.deepEqual(shares, [['10.244.0.1', 0.25], ['10.244.0.2', 0.25], ['10.244.0.3', 0.5]]);
  assert.ok(tree.warnings.some((warning) => warning.startsWith('KUBE-SEP-OLD')), tree.warnings.join('\n'));
});

test('chain owners: the first Service in tree order owns a shared chain, a chain declared after its jump is still followed, an undeclared target is owned by name', () => {
  const dump = [
    '*nat',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-MARK-MASQ - [0:0]',
    ':KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]',
    ':KUBE-SVC-BBBBBBBBBBBBBBBB - [0:0]',
    ':KUBE-SEP-SHARED000000000 - [0:0]',
    '-A KUBE-SERVICES -d 10.96.0.2/32 -p tcp -m comment --comment "ns/b:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-BBBBBBBBBBBBBBBB',
    '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "ns/a:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA',
    '-A KUBE-SVC-AAAAAAAAAAAAAAAA -j KUBE-MARK-MASQ',
    '-A KUBE-SVC-AAAAAAAAAAAAAAAA -m statistic --mode random --probability 0.5 -j KUBE-SEP-SHARED000000000',
    '-A KUBE-SVC-AAAAAAAAAAAAAAAA -j KUBE-SEP-LATE00000000000',
    '-A KUBE-SVC-BBBBBBBBBBBBBBBB -j KUBE-SEP-SHARED000000000',
    '-A KUBE-SVC-BBBBBBBBBBBBBBBB -j KUBE-SEP-NOWHERE00000000',
    ':KUBE-SEP-LATE00000000000 - [0:0]',
    '-A KUBE-SEP-LATE00000000000 -p tcp -m tcp -j DNAT --to-destination 10.0.0.9:80',
    'COMMIT',
  ].join('\n');
  const tree = buildIptablesServiceTree(parseIptablesSave(dump).value);
  const owner = (chain: string) => tree.chainOwner!(chain)?.id;
  assert.deepEqual(tree.services.map((service) => service.id), ['ns/a:http', 'ns/b:http']);
  assert.equal(owner('KUBE-SVC-AAAAAAAAAAAAAAAA'), 'ns/a:http');
  assert.equal(owner('KUBE-SVC-BBBBBBBBBBBBBBBB'), 'ns/b:http');
  assert.equal(owner('KUBE-SEP-SHARED000000000'), 'ns/a:http', 'ns/a comes first in the tree, though ns/b comes first in the dump');
  assert.equal(owner('KUBE-SEP-LATE00000000000'), 'ns/a:http', 'declared after the rule that jumps to it');
  assert.equal(owner('KUBE-SEP-NOWHERE00000000'), 'ns/b:http', 'jumped to but never declared');
  assert.equal(owner('KUBE-MARK-MASQ'), undefined);
  assert.equal(owner('KUBE-SERVICES'), undefined);
});
