/**
 * kube-proxy's TestInternalExternalMasquerade as packet-flow tables: three LoadBalancer services (svc1 with Cluster
 * policies, svc2 with externalTrafficPolicy Local, svc3 with internalTrafficPolicy Local), each with one endpoint on
 * this node (10.180.0.x) and one elsewhere (10.180.1.x), traced from a pod, from the node, from localhost and from
 * outside. The same rows run on the rules kube-proxy writes with its defaults, with --masquerade-all, and without a
 * local-traffic detector (no pod CIDR), with the differences kube-proxy's test lists for each.
 *
 * Kernel notes as in packetFlowKubeProxy.test.ts. One row departs from kube-proxy's table: its "node to NodePort
 * with eTP:Local" targets port 3001 (svc1's NodePort), so here it targets svc2's 3002; the LOCAL short-circuit in
 * KUBE-EXT gives the same answer (both endpoints, masqueraded) that its comment describes.
 */

import { endpoints, packetFlowTable, type ExpectedFate, type PacketFlowRow } from '../helpers/packetFlow';

const nodeIP = '192.168.0.2';
const pod = '10.0.0.2';
const externalClient = '203.0.113.2';

const both = (n: number, masquerade: boolean): ExpectedFate[] =>
  endpoints([`10.180.0.${n}:80`, `10.180.1.${n}:80`], { masquerade });
const localOnly = (n: number, masquerade: boolean): ExpectedFate[] => endpoints([`10.180.0.${n}:80`], { masquerade });

/** The base rows: kube-proxy with its pod-CIDR local detector and without --masquerade-all. */
const baseRows: PacketFlowRow[] = [
  { name: 'pod to ClusterIP', src: pod, dst: '172.30.0.41', dport: 80, expect: both(1, false) },
  { name: 'pod to NodePort', src: pod, dst: nodeIP, dport: 3001, expect: both(1, true) },
  { name: 'pod to LB', src: pod, dst: '1.2.3.4', dport: 80, expect: both(1, true) },
  { name: 'node to ClusterIP', src: nodeIP, dst: '172.30.0.41', dport: 80, hook: 'OUTPUT', expect: both(1, true) },
  { name: 'node to NodePort', src: nodeIP, dst: nodeIP, dport: 3001, hook: 'OUTPUT', expect: both(1, true) },
  { name: 'localhost to NodePort', src: '127.0.0.1', dst: '127.0.0.1', dport: 3001, hook: 'OUTPUT', expect: both(1, true) },
  { name: 'node to LB', src: nodeIP, dst: '1.2.3.4', dport: 80, hook: 'OUTPUT', expect: both(1, true) },
  { name: 'external to ClusterIP', src: externalClient, dst: '172.30.0.41', dport: 80, expect: both(1, true) },
  { name: 'external to NodePort', src: externalClient, dst: nodeIP, dport: 3001, expect: both(1, true) },
  { name: 'external to LB', src: externalClient, dst: '1.2.3.4', dport: 80, expect: both(1, true) },
  { name: 'pod to ClusterIP with eTP:Local', src: pod, dst: '172.30.0.42', dport: 80, expect: both(2, false) },
  {
    name: 'pod to NodePort with eTP:Local',
    src: pod,
    dst: nodeIP,
    dport: 3002,
    expect: both(2, false),
    kernelNote: 'KUBE-EXT sends pod sources to the Cluster chain without marking them',
  },
  { name: 'pod to LB with eTP:Local', src: pod, dst: '5.6.7.8', dport: 80, expect: both(2, false) },
  { name: 'node to ClusterIP with eTP:Local', src: nodeIP, dst: '172.30.0.42', dport: 80, hook: 'OUTPUT', expect: both(2, true) },
  { name: 'node to NodePort with eTP:Local', src: nodeIP, dst: nodeIP, dport: 3002, hook: 'OUTPUT', expect: both(2, true) },
  {
    name: 'localhost to NodePort with eTP:Local',
    src: '127.0.0.1',
    dst: '127.0.0.1',
    dport: 3002,
    hook: 'OUTPUT',
    expect: both(2, true),
  },
  { name: 'node to LB with eTP:Local', src: nodeIP, dst: '5.6.7.8', dport: 80, hook: 'OUTPUT', expect: both(2, true) },
  { name: 'external to ClusterIP with eTP:Local', src: externalClient, dst: '172.30.0.42', dport: 80, expect: both(2, true) },
  { name: 'external to NodePort with eTP:Local', src: externalClient, dst: nodeIP, dport: 3002, expect: localOnly(2, false) },
  { name: 'external to LB with eTP:Local', src: externalClient, dst: '5.6.7.8', dport: 80, expect: localOnly(2, false) },
  { name: 'pod to ClusterIP with iTP:Local', src: pod, dst: '172.30.0.43', dport: 80, expect: localOnly(3, false) },
  { name: 'pod to NodePort with iTP:Local', src: pod, dst: nodeIP, dport: 3003, expect: both(3, true) },
  { name: 'pod to LB with iTP:Local', src: pod, dst: '9.10.11.12', dport: 80, expect: both(3, true) },
  {
    name: 'node to ClusterIP with iTP:Local',
    src: nodeIP,
    dst: '172.30.0.43',
    dport: 80,
    hook: 'OUTPUT',
    expect: localOnly(3, true),
  },
  { name: 'node to NodePort with iTP:Local', src: nodeIP, dst: nodeIP, dport: 3003, hook: 'OUTPUT', expect: both(3, true) },
  {
    name: 'localhost to NodePort with iTP:Local',
    src: '127.0.0.1',
    dst: '127.0.0.1',
    dport: 3003,
    hook: 'OUTPUT',
    expect: both(3, true),
  },
  { name: 'node to LB with iTP:Local', src: nodeIP, dst: '9.10.11.12', dport: 80, hook: 'OUTPUT', expect: both(3, true) },
  {
    name: 'external to ClusterIP with iTP:Local',
    src: externalClient,
    dst: '172.30.0.43',
    dport: 80,
    expect: localOnly(3, true),
  },
  { name: 'external to NodePort with iTP:Local', src: externalClient, dst: nodeIP, dport: 3003, expect: both(3, true) },
  { name: 'external to LB with iTP:Local', src: externalClient, dst: '9.10.11.12', dport: 80, expect: both(3, true) },
];

/** The base rows with some expectations replaced; every override must name a base row. */
function withOverrides(overrides: Record<string, ExpectedFate[]>): PacketFlowRow[] {
  const unknown = Object.keys(overrides).filter((name) => !baseRows.some((row) => row.name === name));
  if (unknown.length > 0) throw new Error(`overrides for rows that do not exist: ${unknown.join(', ')}`);
  return baseRows.map((row) => (overrides[row.name] ? { ...row, expect: overrides[row.name] } : row));
}

packetFlowTable('test/fixtures/iptables-masquerade', baseRows);

// --masquerade-all: every packet to a ClusterIP is marked, pods included.
packetFlowTable(
  'test/fixtures/iptables-masquerade-all',
  withOverrides({
    'pod to ClusterIP': both(1, true),
    'pod to ClusterIP with eTP:Local': both(2, true),
    'pod to ClusterIP with iTP:Local': localOnly(3, true),
  }),
);

// No local-traffic detector: ClusterIP traffic is never marked, and pods get no eTP:Local short-circuit.
packetFlowTable(
  'test/fixtures/iptables-no-local-detector',
  withOverrides({
    'node to ClusterIP': both(1, false),
    'node to ClusterIP with eTP:Local': both(2, false),
    'node to ClusterIP with iTP:Local': localOnly(3, false),
    'external to ClusterIP': both(1, false),
    'external to ClusterIP with eTP:Local': both(2, false),
    'external to ClusterIP with iTP:Local': localOnly(3, false),
    'pod to NodePort with eTP:Local': localOnly(2, false),
    'pod to LB with eTP:Local': localOnly(2, false),
  }),
);
