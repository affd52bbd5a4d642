import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterCidr, defaultPacket, defaultSources, destinationFor, nodeAddress, portKinds } from '../../src/extension/trace/traceDefaults';
import { fileOfTable, serviceChoices, traceSettingOf } from '../../src/extension/trace/traceSetting';
import { tracePacket } from '../../src/core/trace/tracePacket';
import { summaryOf } from '../../src/extension/analysis/analysisBackend';
import { analyzeSnapshot } from '../../src/core/analyze';
import { readSnapshotFolder } from '../../src/node/snapshotFolder';
import { join } from 'node:path';
import { loadShop } from './helpers';

test('sources come from the local routes and the cluster CIDR in the rules', async () => {
  const analysis = await loadShop();
  const setting = traceSettingOf(summaryOf(analysis));
  assert.equal(clusterCidr(analysis.iptables), '10.244.0.0/16');
  assert.equal(nodeAddress(setting), '10.0.0.11');
  const sources = defaultSources(setting);
  assert.equal(sources['pod-here'], '10.244.1.100', 'an address on the cni0 bridge subnet');
  assert.match(sources['pod-elsewhere']!, /^10\.244\.(?!1\.)\d+\.\d+$/);
  assert.equal(sources.node, '10.0.0.11');
  assert.equal(sources.outside, '203.0.113.10');
});

test('without meta.json the node address is the first local address on a real interface', async () => {
  const analysis = await loadShop();
  const setting = { ...traceSettingOf(summaryOf(analysis)), nodeAddress: undefined };
  assert.equal(nodeAddress(setting), '10.0.0.11');
  assert.equal(nodeAddress({ ...setting, routes: setting.routes.filter((route) => route.device !== 'eth0') }), undefined);
});

test('each port kind picks its destination', async () => {
  const analysis = await loadShop();
  const setting = traceSettingOf(summaryOf(analysis));
  const web = analysis.services.services.find((service) => service.id === 'shop/web:http')!;
  assert.deepEqual(portKinds(web), ['ClusterIP', 'NodePort', 'ExternalIP']);
  assert.deepEqual(destinationFor(web, 'ClusterIP', setting), { ip: '10.96.120.15', port: 80 });
  assert.deepEqual(destinationFor(web, 'NodePort', setting), { ip: '10.0.0.11', port: 30080 });
  assert.deepEqual(destinationFor(web, 'ExternalIP', setting), { ip: '192.0.2.50', port: 80 });
  assert.equal(destinationFor(web, 'LoadBalancer', setting), undefined);
});

test('the default packets trace to the Service\'s endpoints', async () => {
  const analysis = await loadShop();
  const setting = traceSettingOf(summaryOf(analysis));
  const web = analysis.services.services.find((service) => service.id === 'shop/web:http')!;
  for (const kind of portKinds(web)) {
    const packet = defaultPacket(web, kind, kind === 'ClusterIP' ? 'pod-here' : 'outside', setting)!;
    const result = tracePacket(analysis, packet);
    assert.equal(result.service, 'shop/web:http', `${kind}: ${JSON.stringify(packet)}`);
    const endpoints = result.outcomes.map((outcome) => outcome.dnat?.ip).sort();
    assert.deepEqual(endpoints, ['10.244.1.5', '10.244.2.6', '10.244.3.7'], kind);
  }
});

test('the panel offers every Service with a ClusterIP packet', async () => {
  const analysis = await loadShop();
  const choices = serviceChoices(analysis.services.services, traceSettingOf(summaryOf(analysis)));
  const withClusterIp = analysis.services.services.filter((service) => service.clusterIP);
  assert.equal(choices.length, withClusterIp.length);
  const dns = choices.find((choice) => choice.id === 'kube-system/kube-dns:dns')!;
  assert.deepEqual(dns.packet, { src: '10.244.1.100', dst: '10.96.0.10', proto: 'udp', sport: 40000, dport: 53 });
});

test('trace steps open in the file of their mode', () => {
  assert.equal(fileOfTable('iptables', 'nat'), 'iptables-save.txt');
  assert.equal(fileOfTable('ipvs', 'ipvs'), 'ipvsadm.txt');
  assert.equal(fileOfTable('ipvs', 'nat'), 'iptables-save.txt');
  assert.equal(fileOfTable('nftables', 'ip kube-proxy'), 'nft.txt');
});

test('the summary leaves kube-ipvs0\'s addresses out of the routes, and the defaults do not change', async () => {
  const analysis = analyzeSnapshot(await readSnapshotFolder(join(import.meta.dirname, '../../samples/ipvs-seed003')));
  const all = analysis.routes!.entries;
  assert.ok(all.some((entry) => entry.device === 'kube-ipvs0'), 'the sample binds Service addresses to kube-ipvs0');
  const summary = summaryOf(analysis);
  assert.ok(summary.routes.length < all.length);
  assert.ok(summary.routes.every((entry) => entry.device !== 'kube-ipvs0'));
  const full = { ...traceSettingOf(summary), routes: all };
  for (const service of analysis.services.services.slice(0, 20)) {
    assert.deepEqual(defaultSources(traceSettingOf(summary), service), defaultSources(full, service), service.id);
    assert.deepEqual(destinationFor(service, 'NodePort', traceSettingOf(summary)), destinationFor(service, 'NodePort', full), service.id);
  }
});
