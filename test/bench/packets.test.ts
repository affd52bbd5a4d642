// Tests of the benchmark's packet mix (bench/packets.ts): every Service packet addresses a generated
// Service from a pod on this node, the kinds come in thirds, and the mix is the same for one seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateCluster } from '../../bench/generator/cluster';
import { benchmarkPackets } from '../../bench/packets';

test('benchmark packets address real ClusterIPs and NodePorts, and unknown addresses, in thirds', () => {
  const cluster = generateCluster({ services: 500, endpoints: 3, seed: 4 });
  const packets = benchmarkPackets(cluster, 300, 4);
  assert.equal(packets.length, 300);
  const byKind = (kind: string) => packets.filter((p) => p.kind === kind);
  assert.deepEqual([byKind('clusterIP').length, byKind('nodePort').length, byKind('unknown').length], [100, 100, 100]);
  const clusterIPs = new Set(cluster.services.map((s) => `${s.protocol} ${s.clusterIP}:${s.port}`));
  const nodePorts = new Set(cluster.services.filter((s) => s.nodePort !== null).map((s) => `${s.protocol} ${s.nodePort}`));
  for (const { packet } of byKind('clusterIP')) {
    assert.ok(clusterIPs.has(`${packet.proto} ${packet.dst}:${packet.dport}`));
    assert.ok(packet.src.startsWith('10.244.7.'), 'from a pod on the generated node');
  }
  for (const { packet } of byKind('nodePort')) {
    assert.equal(packet.dst, cluster.node.ip);
    assert.ok(nodePorts.has(`${packet.proto} ${packet.dport}`));
  }
  for (const { packet } of byKind('unknown')) assert.ok(!clusterIPs.has(`${packet.proto} ${packet.dst}:${packet.dport}`));
  assert.deepEqual(benchmarkPackets(cluster, 300, 4), packets);
});
