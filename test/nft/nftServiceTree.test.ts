import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseNft } from '../../src/core/nft/parseNft';
import { parseRouteLocal } from '../../src/core/routes/localRoutes';
import { buildNftServiceTree, parseDuration } from '../../src/core/services/nftServiceTree';
import type { ServiceInfo, ServiceTree } from '../../src/core/services/model';

function tree(folder: string): { tree: ServiceTree; text: string } {
  const text = readFileSync(`${folder}/nft.txt`, 'utf8');
  const routes = parseRouteLocal(readFileSync(`${folder}/route-local.txt`, 'utf8')).value;
  return { tree: buildNftServiceTree(parseNft(text).value, routes), text };
}

const byId = (services: ServiceInfo[], id: string, protocol = 'tcp') => services.find((service) => service.id === id && service.protocol === protocol)!;

test('the kind sample: every Service with its addresses, ports, endpoints and shares', () => {
  const { tree: result, text } = tree('samples/nftables-kind');
  assert.equal(result.mode, 'nftables');
  assert.deepEqual(result.services.map((service) => `${service.id}/${service.protocol}`), [
    'default/empty:http/tcp', 'default/kubernetes:https/tcp', 'default/legacy/tcp', 'default/shop:http/tcp', 'default/web:http/tcp',
    'kube-system/kube-dns:dns/udp', 'kube-system/kube-dns:dns-tcp/tcp',
  ]);
  const web = byId(result.services, 'default/web:http');
  assert.deepEqual(web.clusterIP, { ip: '10.96.100.10', port: 80 });
  assert.equal(web.nodePort, 30080);
  assert.equal(web.externalTrafficPolicy, 'Cluster');
  assert.deepEqual(web.endpoints.map((endpoint) => [endpoint.ip, endpoint.port, Math.round(endpoint.share * 1000) / 1000]), [
    ['10.244.1.2', 8080, 0.333], ['10.244.2.3', 8080, 0.333], ['10.244.1.5', 8080, 0.333],
  ]);
  const lines = text.split('\n');
  for (const endpoint of web.endpoints) assert.equal(lines[endpoint.source!.line - 1], `\tchain ${endpoint.chain} {`);
  assert.deepEqual(web.path.map((node) => [node.kind, node.label]), [
    ['external-chain', 'external-SUSTUHLJ-default/web/tcp/http'],
    ['service-chain', 'service-SUSTUHLJ-default/web/tcp/http'],
  ]);
  assert.equal(web.path[1].children.length, 3);

  const shop = byId(result.services, 'default/shop:http');
  assert.deepEqual(shop.loadBalancerIPs, [{ ip: '172.18.255.200', port: 80 }]);
  assert.deepEqual(shop.sourceRanges, ['203.0.113.0/25']);
  assert.equal(shop.externalTrafficPolicy, 'Local');
  assert.equal(shop.internalTrafficPolicy, 'Cluster');
  assert.equal(shop.sessionAffinitySeconds, 10800);
  assert.deepEqual(shop.endpoints.map((endpoint) => [endpoint.ip, endpoint.share, endpoint.local]), [['10.244.1.6', 0.5, true], ['10.244.2.7', 0.5, false]]);
  assert.deepEqual(shop.path.map((node) => node.kind), ['external-chain', 'firewall-chain', 'service-chain']);
  assert.equal(shop.path[0].children[0].kind, 'local-chain');

  const legacy = byId(result.services, 'default/legacy');
  assert.deepEqual(legacy.externalIPs, [{ ip: '192.168.99.10', port: 8080 }]);
  assert.equal(legacy.portName, '');

  const empty = byId(result.services, 'default/empty:http');
  assert.deepEqual(empty.clusterIP, { ip: '10.96.50.50', port: 80 });
  assert.equal(empty.nodePort, 30999);
  assert.deepEqual(empty.endpoints, []);
  assert.equal(empty.warnings.length, 2);
  assert.match(empty.warnings[0], /has no endpoints: connections to ClusterIP 10\.96\.50\.50:80 are rejected/);

  const dns = byId(result.services, 'kube-system/kube-dns:dns', 'udp');
  assert.deepEqual(dns.clusterIP, { ip: '10.96.0.10', port: 53 });
  assert.equal(dns.endpoints.length, 2);
});

test('traffic policies and Services without local endpoints', () => {
  const { tree: result } = tree('test/fixtures/nft-traffic-policy');
  const svc1 = byId(result.services, 'ns1/svc1:p80');
  assert.equal(svc1.externalTrafficPolicy, 'Local');
  assert.deepEqual(svc1.endpoints.map((endpoint) => [endpoint.ip, endpoint.local]), [['10.180.0.1', false], ['10.180.2.1', true]]);
  const svc3 = byId(result.services, 'ns3/svc3:p80');
  assert.equal(svc3.internalTrafficPolicy, 'Local');
  assert.deepEqual(svc3.endpoints.map((endpoint) => [endpoint.ip, endpoint.share, endpoint.local]), [['10.180.2.3', 1, true]]);
  assert.deepEqual(svc3.path.map((node) => node.kind), ['local-chain']);
  const svc4 = byId(result.services, 'ns4/svc4:p80');
  assert.equal(svc4.internalTrafficPolicy, 'Local');
  assert.match(svc4.warnings[0], /internalTrafficPolicy Local.*dropped/);
  const svc5 = byId(result.services, 'ns5/svc5:p80');
  assert.equal(svc5.externalTrafficPolicy, 'Local');
  assert.equal(svc5.nodePort, 3005);
  assert.ok(svc5.warnings.some((warning) => /externalTrafficPolicy Local.*NodePort 3005 are dropped/.test(warning)));
});

test('a ruleset without kube-proxy\'s table gives an empty tree that says why', () => {
  const result = buildNftServiceTree(parseNft('table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t}\n}\n').value);
  assert.deepEqual(result.services, []);
  assert.match(result.warnings[0], /no kube-proxy table/);
});

test('nft durations', () => {
  assert.equal(parseDuration('3h'), 10800);
  assert.equal(parseDuration('10800s'), 10800);
  assert.equal(parseDuration('1d2h3m4s'), 93784);
  assert.equal(parseDuration('soon'), undefined);
});

test('an ip6 kube-proxy table gives the same tree with IPv6 addresses', () => {
  const { tree: result } = tree('test/fixtures/nft-ipv6');
  assert.equal(result.services.length, 1);
  const [svc] = result.services;
  assert.deepEqual(svc.clusterIP, { ip: 'fd00:10:96::41', port: 80 });
  assert.equal(svc.nodePort, 3001);
  assert.deepEqual(svc.endpoints.map((endpoint) => [endpoint.ip, endpoint.port, endpoint.share]), [['fd00:10:180::1', 80, 0.5], ['fd00:10:180::2:1', 80, 0.5]]);
});

test('the first level reads no chain rules; a Service\'s details read only its own chains, once', () => {
  const text = readFileSync('samples/nftables-kind/nft.txt', 'utf8');
  const { value } = parseNft(text);
  const reads: string[] = [];
  for (const chain of value.tables[0].chains) {
    const rules = chain.rules;
    Object.defineProperty(chain, 'rules', {
      enumerable: true,
      get() {
        reads.push(chain.name);
        return rules;
      },
    });
  }
  const result = buildNftServiceTree(value);
  assert.deepEqual(result.services.map((service) => [service.id, service.clusterIP?.ip ?? null, service.nodePort]).slice(0, 2), [
    ['default/empty:http', '10.96.50.50', 30999],
    ['default/kubernetes:https', '10.96.0.1', null],
  ]);
  assert.equal(reads.length, 0, reads.join(', '));
  const web = byId(result.services, 'default/web:http');
  assert.equal(web.endpoints.length, 3);
  assert.ok(reads.length > 0);
  assert.ok(reads.every((name) => name.includes('default/web/tcp/http')), reads.join(', '));
  const count = reads.length;
  assert.equal(web.path.length, 2);
  assert.equal(web.externalTrafficPolicy, 'Cluster');
  assert.equal(reads.length, count);
});

test('chain owners come from chain names, without expanding any Service', () => {
  const { tree: result } = tree('samples/nftables-kind');
  const web = byId(result.services, 'default/web:http');
  const owner = result.chainOwner!;
  assert.equal(owner('service-SUSTUHLJ-default/web/tcp/http'), web);
  assert.equal(owner('endpoint-SVLGPL42-default/web/tcp/http__10.244.1.2/8080'), web);
  assert.equal(owner('external-SUSTUHLJ-default/web/tcp/http'), web);
  assert.equal(owner('service-SUSTUHLJ-default/web/udp/http'), undefined);
  assert.equal(owner('services'), undefined);
  for (const node of web.path) assert.equal(owner(node.label), web);
  for (const endpoint of web.endpoints) assert.equal(owner(endpoint.chain!), web);
});

test('stale chains: a per-Service chain no map names and no Service owns is reported; endpoint chains and a Service\'s own chains are not', () => {
  const sample = readFileSync('samples/nftables-kind/nft.txt', 'utf8').trimEnd();
  const extra = [
    '\tchain service-AAAAAAAA-default/gone/tcp/http {',
    '\t\tnumgen random mod 1 vmap { 0 : goto endpoint-BBBBBBBB-default/gone/tcp/http__10.244.9.9/80 }',
    '\t}',
    '\tchain endpoint-BBBBBBBB-default/gone/tcp/http__10.244.9.9/80 {',
    '\t\tip saddr 10.244.9.9 jump mark-for-masquerade',
    '\t\tmeta l4proto tcp dnat to 10.244.9.9:80',
    '\t}',
    '\tchain local-SUSTUHLJ-default/web/tcp/http {',
    '\t}',
  ];
  const text = `${sample.slice(0, -1)}${extra.join('\n')}\n}\n`;
  const result = buildNftServiceTree(parseNft(text).value);
  const stale = result.warnings.filter((warning) => warning.includes('stale chain'));
  assert.equal(stale.length, 1, stale.join('\n'));
  assert.match(stale[0], /^ip kube-proxy: chain service-AAAAAAAA-default\/gone\/tcp\/http \(line \d+\) is not used by any map/);
  assert.equal(buildNftServiceTree(parseNft(readFileSync('samples/nftables-kind/nft.txt', 'utf8')).value).warnings.filter((warning) => warning.includes('stale')).length, 0);
});
