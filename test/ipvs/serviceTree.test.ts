import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { ServiceInfo } from '../../src/core/services/model';
import { folderTree, treeOf as tree } from './loadTree';

const byCluster = (services: ServiceInfo[], ip: string, port: number): ServiceInfo => {
  const found = services.find((service) => service.clusterIP?.ip === ip && service.clusterIP.port === port);
  assert.ok(found, `a Service with ClusterIP ${ip}:${port}`);
  return found;
};

const header = 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
const real = (address: string, weight = 1): string => `  -> ${address.padEnd(28)} Masq    ${String(weight).padEnd(6)} 0          0         `;

test('seed 003: five ClusterIP Services, each NodePort grouped with the ClusterIP that has its real servers', () => {
  const { mode, services, warnings } = folderTree('samples/ipvs-seed003');
  assert.equal(mode, 'ipvs');
  assert.deepEqual(services.map((service) => service.id), ['172.18.13.1:443/tcp', '172.18.13.31:80/tcp', '172.18.13.113:8082/tcp', '172.18.13.187:3306/tcp', '172.18.13.222:80/tcp']);

  const web = byCluster(services, '172.18.13.113', 8082);
  assert.equal(web.nodePort, 30002);
  assert.equal(web.externalTrafficPolicy, 'Cluster');
  assert.deepEqual(web.endpoints.map((ep) => [ep.ip, ep.port, ep.share, ep.weight, ep.local]), [['10.0.3.5', 8080, 0.5, 1, false], ['10.0.3.7', 8080, 0.5, 1, false]]);
  assert.deepEqual(web.path.map((node) => node.label), [
    'TCP 172.18.13.113:8082 rr (ClusterIP)',
    'TCP 127.0.0.1:30002 rr (NodePort on 127.0.0.1)',
    'TCP 172.17.0.1:30002 rr (NodePort on 172.17.0.1)',
    'TCP 192.168.204.142:30002 rr (NodePort on 192.168.204.142)',
    'TCP 10.0.1.0:30002 rr (NodePort on 10.0.1.0)',
  ]);
  assert.deepEqual(web.path[0]!.children.map((child) => [child.label, child.share, child.source?.line]), [['10.0.3.5:8080 Masq weight 1', 0.5, 20], ['10.0.3.7:8080 Masq weight 1', 0.5, 21]]);
  assert.deepEqual(web.source, { file: 'ipvsadm.txt', line: 19 });
  assert.deepEqual(web.warnings, []);

  assert.equal(byCluster(services, '172.18.13.222', 80).nodePort, 30094);
  assert.equal(byCluster(services, '172.18.13.1', 443).nodePort, null);
  assert.equal(byCluster(services, '172.18.13.187', 3306).nodePort, null);

  const empty = byCluster(services, '172.18.13.31', 80);
  assert.equal(empty.nodePort, 30001);
  assert.equal(empty.endpoints.length, 0);
  assert.ok(empty.warnings.some((warning) => /has no endpoints/.test(warning)));
  assert.ok(empty.warnings.some((warning) => /NodePort 30001\/tcp was grouped with this ClusterIP because both have no real servers/.test(warning)));
  assert.deepEqual(warnings, [warnings.find((warning) => /writes no Service names/.test(warning))]);
});

test('the stale fixture: every disagreement between kube-ipvs0, the ipsets and IPVS is reported', () => {
  const { services, warnings } = folderTree('test/fixtures/ipvs-stale');
  const text = warnings.join('\n');
  assert.match(text, /10\.96\.0\.99 is bound to kube-ipvs0 \(route-local\.txt line \d+\) but no IPVS virtual server uses it: KUBE-IPVS-FILTER rejects/);
  assert.match(text, /10\.96\.6\.6 is bound to kube-ipvs0 .* but missing from KUBE-IPVS-IPS: KUBE-IPVS-FILTER does not reject its other ports/);
  assert.match(text, /KUBE-LOOP-BACK lists 10\.244\.3\.77,tcp:80,10\.244\.3\.77 .* no virtual server has 10\.244\.3\.77:80 as a real server/);
  assert.doesNotMatch(text, /KUBE-LOOP-BACK lists 10\.244\.3\.2/);
  assert.match(text, /KUBE-CLUSTER-IP lists 10\.96\.7\.7,tcp:443 \(ipset\.txt line \d+\) but IPVS has no virtual server for it/);
  assert.match(text, /KUBE-NODE-PORT-TCP lists port 31000 .* no NodePort virtual server/);
  const unlisted = byCluster(services, '10.96.5.5', 8443);
  assert.ok(unlisted.warnings.some((warning) => /not in KUBE-CLUSTER-IP/.test(warning) && /KUBE-IPVS-FILTER rejects/.test(warning)));
  const away = services.find((service) => service.id === '10.20.0.5:80/tcp')!;
  assert.equal(away.clusterIP, null);
  assert.ok(away.warnings.some((warning) => /not a local address of this node/.test(warning)));
  // The DNS Services are healthy: no warnings of their own.
  assert.deepEqual(byCluster(services.filter((service) => service.protocol === 'udp'), '10.96.0.10', 53).warnings, []);
});

test('wrr weights and a draining real server: shares by weight, weight 0 gets nothing and is reported once', () => {
  const { services } = folderTree('test/fixtures/ipvs-wrr-draining');
  assert.equal(services.length, 1);
  const web = services[0]!;
  assert.equal(web.nodePort, 30080);
  assert.deepEqual(web.endpoints.map((ep) => [ep.ip, ep.share, ep.weight, ep.local]), [['10.244.1.5', 0.75, 3, true], ['10.244.2.7', 0.25, 1, false], ['10.244.1.9', 0, 0, true]]);
  assert.deepEqual(web.warnings.filter((warning) => /weight 0/.test(warning)).length, 1);
  assert.equal(web.path.length, 4);
});

test('Service names come from iptables comments where kube-proxy wrote them, and iptables-mode leftovers are reported', () => {
  const iptables = [
    '*nat',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-SVC-TCOU7JCQXEZGVUNU - [0:0]',
    '-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU',
    'COMMIT',
  ].join('\n');
  const { services, warnings } = tree({
    ipvsadm: `${header}UDP  10.96.0.10:53 rr\n${real('10.244.0.2:53')}\nTCP  10.96.0.10:53 rr\n${real('10.244.0.2:53')}\n`,
    iptables,
  });
  const dns = services.find((service) => service.protocol === 'udp')!;
  assert.deepEqual([dns.id, dns.namespace, dns.name, dns.portName], ['kube-system/kube-dns:dns', 'kube-system', 'kube-dns', 'dns']);
  assert.equal(services.find((service) => service.protocol === 'tcp')!.id, '10.96.0.10:53/tcp');
  assert.ok(warnings.some((warning) => /iptables-mode chains \(KUBE-SVC-TCOU7JCQXEZGVUNU\) are present beside IPVS/.test(warning)));
});

test('Service names come from ipset member comments when the set has them', () => {
  const ipset = [
    'Name: KUBE-CLUSTER-IP',
    'Type: hash:ip,port',
    'Header: family inet hashsize 1024 maxelem 65536 comment',
    'Members:',
    '10.96.0.1,tcp:443 comment "default/kubernetes:https"',
  ].join('\n');
  const { services } = tree({ ipvsadm: `${header}TCP  10.96.0.1:443 rr\n${real('172.18.0.3:6443')}\n`, ipset });
  assert.equal(services[0]!.id, 'default/kubernetes:https');
  assert.equal(services[0]!.name, 'kubernetes');
});

test('a NodePort whose real servers match two ClusterIPs is left on its own, saying why', () => {
  const routes = [
    'local 10.96.0.20 dev kube-ipvs0 proto kernel scope host src 10.96.0.20 ',
    'local 10.96.0.21 dev kube-ipvs0 proto kernel scope host src 10.96.0.21 ',
    'local 192.168.0.2 dev eth0 proto kernel scope host src 192.168.0.2 ',
  ].join('\n');
  const ipvsadm = `${header}TCP  10.96.0.20:80 rr\n${real('10.244.0.5:80')}\nTCP  10.96.0.21:80 rr\n${real('10.244.0.5:80')}\nTCP  192.168.0.2:30500 rr\n${real('10.244.0.5:80')}\n`;
  const { services } = tree({ ipvsadm, routes });
  assert.equal(services.length, 3);
  const alone = services.find((service) => service.nodePort === 30500)!;
  assert.equal(alone.clusterIP, null);
  assert.equal(alone.id, 'nodePort 30500/tcp');
  assert.ok(alone.warnings.some((warning) => /same real servers as 2 ClusterIP virtual servers/.test(warning)));
  assert.deepEqual(alone.endpoints.map((ep) => ep.ip), ['10.244.0.5']);
});

test('externalTrafficPolicy Local: the NodePort keeps only local real servers and still joins its ClusterIP', () => {
  const { services } = folderTree('test/fixtures/ipvs-kp-nodeport-sctp-local');
  assert.equal(services.length, 1);
  const service = services[0]!;
  assert.equal(service.externalTrafficPolicy, 'Local');
  assert.equal(service.nodePort, 3001);
  assert.deepEqual(service.path.map((node) => node.children.map((child) => child.label.split(' ')[0])), [['10.180.0.1:80', '10.180.1.1:80'], ['10.180.0.1:80']]);
});

test('without route-local.txt the ipsets alone tell NodePorts from ClusterIPs; without either, each virtual server stands alone', () => {
  const { services } = tree({ ipvsadm: readFileSync('samples/ipvs-seed003/ipvsadm.txt', 'utf8') });
  // Without the local table every address looks like a ClusterIP: 17 virtual servers, 17 Services.
  assert.equal(services.length, 17);
  const withSets = tree({ ipvsadm: readFileSync('samples/ipvs-seed003/ipvsadm.txt', 'utf8'), ipset: readFileSync('samples/ipvs-seed003/ipset.txt', 'utf8') });
  assert.equal(withSets.services.length, 5);
  assert.equal(byCluster(withSets.services, '172.18.13.113', 8082).nodePort, 30002);
});

test('IPv6 virtual servers are read with the KUBE-6- sets', () => {
  const ipset = [
    'create KUBE-6-CLUSTER-IP hash:ip,port family inet6 hashsize 1024 maxelem 65536',
    'add KUBE-6-CLUSTER-IP fd00:10:96::a,udp:53',
    'create KUBE-6-NODE-PORT-UDP bitmap:port range 0-65535',
    'add KUBE-6-NODE-PORT-UDP 30053',
  ].join('\n');
  const ipvsadm = `${header}UDP  [fd00:10:96::a]:53 rr\n${real('[fd00:10:244::5]:53')}\nUDP  [2001:db8::10]:30053 rr\n${real('[fd00:10:244::5]:53')}\n`;
  const { services } = tree({ ipvsadm, ipset });
  assert.equal(services.length, 1);
  assert.deepEqual(services[0]!.clusterIP, { ip: 'fd00:10:96::a', port: 53 });
  assert.equal(services[0]!.nodePort, 30053);
  assert.equal(services[0]!.id, '[fd00:10:96::a]:53/udp');
});

test('firewall-mark services are reported, not shown as Services', () => {
  const { services, warnings } = tree({ ipvsadm: `${header}FWM  100 rr\n${real('10.0.0.5:0')}\n` });
  assert.equal(services.length, 0);
  assert.ok(warnings.some((warning) => /FWM 100/.test(warning)));
});

test('a virtual-server path step finds its Service by label; the tracer\'s IPVS steps and iptables chains find none', () => {
  const tree = folderTree('samples/ipvs-seed003');
  assert.ok(tree.chainOwner, 'the IPVS tree answers chain lookups itself');
  const web = byCluster(tree.services, '172.18.13.113', 8082);
  assert.ok(web.path.length > 1);
  for (const node of web.path) assert.equal(tree.chainOwner(node.label), web, node.label);
  // The same address and port with a role the Service does not have is no step of its path.
  assert.equal(tree.chainOwner('TCP 172.18.13.113:8082 rr (NodePort on 127.0.0.1)'), undefined);
  assert.equal(tree.chainOwner('TCP 172.18.13.113:8082'), undefined);
  assert.equal(tree.chainOwner('KUBE-SERVICES'), undefined);
  assert.equal(tree.chainOwner('UDP 172.18.13.113:8082 rr (ClusterIP)'), undefined);
});

test('Service details are computed on first read and are the same whichever field is read first', () => {
  const first = folderTree('test/fixtures/ipvs-wrr-draining').services[0]!;
  const second = folderTree('test/fixtures/ipvs-wrr-draining').services[0]!;
  assert.equal(typeof Object.getOwnPropertyDescriptor(first, 'endpoints')?.get, 'function', 'endpoints is an accessor until read');
  const warnings = second.warnings.slice();
  const endpoints = first.endpoints.slice();
  assert.deepEqual(JSON.parse(JSON.stringify(first)), JSON.parse(JSON.stringify(second)));
  assert.deepEqual(first.warnings, warnings);
  assert.deepEqual(second.endpoints, endpoints);
  assert.ok(endpoints.length > 0 && first.path.length > 0);
});

test('Services by endpoint address, asked before any details are read, agree with the endpoints once computed', async () => {
  const { readdirSync, existsSync } = await import('node:fs');
  const { ipvsServicesWithEndpointAddress } = await import('../../src/core/services/ipvsServiceTree');
  const folders = ['samples/ipvs-seed003', ...readdirSync('test/fixtures').map((name) => `test/fixtures/${name}`)].filter((dir) => existsSync(`${dir}/ipvsadm.txt`));
  let checked = 0;
  for (const dir of folders) {
    const tree = folderTree(dir);
    // Asked first, before any Service's endpoints were read.
    assert.ok(ipvsServicesWithEndpointAddress(tree, '10.244.0.1'), dir);
    const expected = new Map<string, ServiceInfo[]>();
    for (const service of tree.services) {
      for (const endpoint of service.endpoints) {
        const list = expected.get(endpoint.ip) ?? [];
        if (list[list.length - 1] !== service) list.push(service);
        expected.set(endpoint.ip, list);
      }
    }
    for (const [ip, services] of expected) {
      assert.deepEqual(ipvsServicesWithEndpointAddress(tree, ip)!.map((service) => service.id), services.map((service) => service.id), `${dir} ${ip}`);
      checked++;
    }
    assert.deepEqual(ipvsServicesWithEndpointAddress(tree, '203.0.113.250'), [], dir);
  }
  assert.ok(checked > 10, `checked ${checked} endpoint addresses`);
  assert.equal(ipvsServicesWithEndpointAddress({ mode: 'ipvs', services: [], warnings: [] }, '10.0.0.1'), undefined);
});
