/**
 * The random packets the benchmark traces: a third to ClusterIPs (from a pod on this node), a third to
 * NodePorts on the node's own address (from outside the cluster), and a third to addresses no rule
 * knows. They are drawn from the generated cluster model, so every Service packet has a real target.
 */

import type { GeneratedCluster } from './generator/cluster';
import { createRandom } from './generator/random';
import type { Packet } from '../src/core/trace/result';

export type PacketKind = 'clusterIP' | 'nodePort' | 'unknown';

export interface BenchmarkPacket {
  kind: PacketKind;
  packet: Packet;
}

export function benchmarkPackets(cluster: GeneratedCluster, count: number, seed: number): BenchmarkPacket[] {
  const random = createRandom(seed ^ 0x9ac7);
  const nodePorts = cluster.services.filter((service) => service.nodePort !== null);
  const packets: BenchmarkPacket[] = [];
  const sport = (): number => random.int(32768, 60999);
  // Pods on this node: their traffic to Services is what this node's kube-proxy rules handle.
  const podPrefix = cluster.node.podCIDR.split('.').slice(0, 3).join('.');
  const localPod = (): string => `${podPrefix}.${random.int(2, 254)}`;
  for (let i = 0; i < count; i++) {
    const roll = i % 3;
    if (roll === 0 || (roll === 1 && nodePorts.length === 0)) {
      const service = random.pick(cluster.services);
      packets.push({
        kind: 'clusterIP',
        packet: {
          src: localPod(),
          dst: service.clusterIP,
          proto: service.protocol,
          sport: sport(),
          dport: service.port,
        },
      });
    } else if (roll === 1) {
      const service = random.pick(nodePorts);
      packets.push({
        kind: 'nodePort',
        packet: {
          src: `203.0.113.${random.int(1, 254)}`,
          dst: cluster.node.ip,
          proto: service.protocol,
          sport: sport(),
          dport: service.nodePort ?? 0,
        },
      });
    } else {
      packets.push({
        kind: 'unknown',
        packet: {
          src: localPod(),
          dst: `172.20.${random.int(0, 255)}.${random.int(1, 254)}`,
          proto: random.chance(0.8) ? 'tcp' : 'udp',
          sport: sport(),
          dport: random.int(1, 65535),
        },
      });
    }
  }
  return packets;
}
