/**
 * Packet-flow tables for IPVS mode, traced with analyzeSnapshot + tracePacket on the seed 003 sample and the
 * IPVS fixtures. Each row states the kernel's path: nat PREROUTING (or OUTPUT for the node's own packets) runs
 * kube-proxy's ipset rules, which only mark for masquerade and accept; the destination is local (kube-ipvs0 or
 * a node address), so filter INPUT runs (KUBE-IPVS-FILTER rejects ports no Service uses); IPVS takes the packet
 * at LOCAL_IN (LOCAL_OUT for the node's own) when a virtual server matches, picks a real server by scheduler
 * and weight and rewrites the destination (Masq); the packet leaves through POSTROUTING, where KUBE-POSTROUTING
 * masquerades marked packets and hairpin traffic listed in KUBE-LOOP-BACK. A virtual server without real
 * servers cannot schedule: IPVS answers with ICMP port unreachable and drops the packet (connection refused).
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeSnapshot } from '../../src/core/analyze';
import { tracePacket } from '../../src/core/trace/tracePacket';
import type { ExpectedFate, PacketFlowRow } from '../helpers/packetFlow';
import { compareTrace, describeTrace, endpoints, loadSnapshotFolder, packetFlowTable } from '../helpers/packetFlow';

const sample = 'samples/ipvs-seed003';
const fixture = (name: string): string => `test/fixtures/${name}`;

/** Weighted fates: `[ip:port, share]` pairs, all accepted and forwarded. */
function weighted(targets: [string, number][], masquerade = false): ExpectedFate[] {
  return targets.map(([to, share]) => ({ to, share, verdict: 'ACCEPT', masquerade, delivery: 'forward' }));
}

/** IPVS found the virtual server but no real server: the client's connection is refused on this node. */
const refused: ExpectedFate[] = [{ to: null, share: 1, verdict: 'REJECT', masquerade: false, delivery: 'local' }];

// Seed 003: node 192.168.204.142 (docker0 172.17.0.1, flannel.1 10.0.1.0), cluster CIDR 10.0.0.0/16, the
// endpoints run on other nodes (10.0.3.0/24). A pod of this node would be 10.0.1.x; 192.168.204.10 is another
// host on the node's network with a route to the service range through this node.
const podHere = '10.0.1.5';
const nodeIP = '192.168.204.142';
const outside = '192.168.204.10';
const web = ['10.0.3.5:8080', '10.0.3.7:8080'];

packetFlowTable(sample, [
  {
    name: 'ClusterIP from a pod: rr over both real servers, source kept',
    src: podHere, dst: '172.18.13.113', dport: 8082, service: '172.18.13.113:8082/tcp',
    expect: endpoints(web),
    kernelNote: 'the pod source is inside 10.0.0.0/16, so KUBE-SERVICES does not mark; KUBE-CLUSTER-IP accepts; the ClusterIP is on kube-ipvs0, so INPUT, KUBE-IPVS-FILTER returns for the Service port, IPVS rewrites to a real server; flannel returns pod-to-pod traffic unmasqueraded',
  },
  {
    name: 'ClusterIP from the node itself: masqueraded',
    src: nodeIP, dst: '172.18.13.113', dport: 8082, hook: 'OUTPUT',
    expect: endpoints(web, { masquerade: true }),
    kernelNote: 'nat OUTPUT runs KUBE-SERVICES: the node address is outside 10.0.0.0/16, so KUBE-MARK-MASQ sets 0x4000; IPVS schedules at LOCAL_OUT; KUBE-POSTROUTING masquerades the marked packet',
  },
  {
    name: 'ClusterIP from outside the cluster: masqueraded',
    src: outside, dst: '172.18.13.113', dport: 8082,
    expect: endpoints(web, { masquerade: true }),
  },
  {
    name: 'ClusterIP with one real server',
    src: podHere, dst: '172.18.13.222', dport: 80,
    expect: endpoints(['10.0.3.2:80']),
  },
  {
    name: 'NodePort on the node IP from outside: marked by KUBE-NODE-PORT, masqueraded',
    src: outside, dst: nodeIP, dport: 30002, service: '172.18.13.113:8082/tcp',
    expect: endpoints(web, { masquerade: true }),
    kernelNote: 'KUBE-SERVICES jumps to KUBE-NODE-PORT for local destinations; 30002 is in KUBE-NODE-PORT-TCP, so KUBE-MARK-MASQ; 192.168.204.142 is not in KUBE-IPVS-IPS, so KUBE-IPVS-FILTER does not reject; IPVS takes 192.168.204.142:30002',
  },
  {
    name: 'NodePort on the docker0 address from outside',
    src: outside, dst: '172.17.0.1', dport: 30094,
    expect: endpoints(['10.0.3.2:80'], { masquerade: true }),
  },
  {
    name: 'NodePort on 127.0.0.1 from the node: kube-proxy does not mark it, flannel masquerades it',
    src: '127.0.0.1', dst: '127.0.0.1', dport: 30002, hook: 'OUTPUT',
    expect: endpoints(web, { masquerade: true }),
    kernelNote: 'KUBE-SERVICES returns at once for 127.0.0.0/8 sources, so no mark; IPVS has 127.0.0.1:30002 and rewrites at LOCAL_OUT; FLANNEL-POSTRTG masquerades sources outside 10.0.0.0/16 going to 10.0.0.0/16. On a real node the kernel also needs net.ipv4.conf.*.route_localnet=1 to route a 127.0.0.1 source off the node, which no snapshot file shows',
  },
  {
    name: 'a ClusterIP on a port no Service uses is rejected by KUBE-IPVS-FILTER',
    src: podHere, dst: '172.18.13.113', dport: 22, service: null,
    expect: [{ to: null, share: 1, verdict: 'REJECT', masquerade: false, delivery: 'local', decidedIn: 'KUBE-IPVS-FILTER' }],
    kernelNote: '172.18.13.113,tcp:22 is in no Service set, 172.18.13.113 is in KUBE-IPVS-IPS and the packet is NEW',
  },
]);

packetFlowTable(fixture('ipvs-kp-onlylocal-externalips'), [
  {
    name: 'hairpin: a pod reaching itself through its ClusterIP is masqueraded by KUBE-LOOP-BACK',
    src: '10.180.0.1', dst: '10.20.30.41', dport: 80,
    expect: [
      { to: '10.180.0.1:80', share: 0.5, verdict: 'ACCEPT', masquerade: true, delivery: 'forward' },
      { to: '10.180.1.1:80', share: 0.5, verdict: 'ACCEPT', masquerade: false, delivery: 'forward' },
    ],
    kernelNote: 'after IPVS picks 10.180.0.1:80 the packet is 10.180.0.1 -> 10.180.0.1:80, which is in KUBE-LOOP-BACK (dst,dst,src), so KUBE-POSTROUTING masquerades it; the other real server is not, and nothing marked the packet',
  },
  {
    name: 'externalTrafficPolicy Local external IP from outside: only the local real server, source kept',
    src: '203.0.113.9', dst: '50.60.70.81', dport: 80,
    expect: endpoints(['10.180.0.1:80']),
    kernelNote: 'KUBE-EXTERNAL-IP-LOCAL accepts without a mark; IPVS has only the local endpoint for 50.60.70.81:80',
  },
]);

packetFlowTable(fixture('ipvs-kp-nodeport-sctp-local'), [
  {
    name: 'externalTrafficPolicy Local NodePort (SCTP) from outside: only the local endpoint, not masqueraded',
    src: '203.0.113.9', dst: '100.101.102.103', dport: 3001, proto: 'sctp',
    expect: endpoints(['10.180.0.1:80']),
    kernelNote: 'KUBE-NODE-PORT returns for members of KUBE-NODE-PORT-LOCAL-SCTP-HASH before the masquerade rule',
  },
  {
    name: 'its ClusterIP from outside: both endpoints, masqueraded',
    src: '203.0.113.9', dst: '10.20.30.41', dport: 80, proto: 'sctp',
    expect: endpoints(['10.180.0.1:80', '10.180.1.1:80'], { masquerade: true }),
  },
]);

packetFlowTable(fixture('ipvs-kp-nodeport-udp'), [
  {
    name: 'UDP NodePort from outside: marked through KUBE-NODE-PORT-UDP',
    src: '203.0.113.9', dst: '100.101.102.103', dport: 3001, proto: 'udp',
    expect: endpoints(['10.180.0.1:80'], { masquerade: true }),
  },
]);

packetFlowTable(fixture('ipvs-wrr-draining'), [
  {
    name: 'wrr weights 3:1 and a draining real server with weight 0',
    src: '10.244.1.20', dst: '10.96.100.10', dport: 80,
    expect: weighted([['10.244.1.5:8080', 0.75], ['10.244.2.7:8080', 0.25]]),
    kernelNote: 'weight 0 takes no new connections (kube-proxy drains terminating endpoints so); wrr sends 3 of every 4 to weight 3',
  },
  {
    name: 'wrr NodePort on the node IP from outside: same weights, masqueraded',
    src: '203.0.113.9', dst: '192.168.10.11', dport: 30080,
    expect: weighted([['10.244.1.5:8080', 0.75], ['10.244.2.7:8080', 0.25]], true),
  },
]);

/**
 * A virtual server without real servers: IPVS's scheduler finds no destination, ip_vs_leave() sends ICMP port
 * unreachable and returns NF_DROP at LOCAL_IN, so the packet never reaches the local stack; the client sees
 * "connection refused". That is a REJECT decided by IPVS.
 */
const noRealServerRows: PacketFlowRow[] = [
  { name: 'virtual server without real servers: the connection is refused', src: podHere, dst: '172.18.13.31', dport: 80, expect: refused },
  { name: 'NodePort whose virtual server has no real servers: refused', src: outside, dst: nodeIP, dport: 30001, expect: refused },
];
for (const row of noRealServerRows) {
  test(`${sample}: ${row.name}`, () => {
    const result = tracePacket(analyzeSnapshot(loadSnapshotFolder(sample)), { src: row.src, dst: row.dst, proto: 'tcp', sport: 40000, dport: row.dport });
    // Whatever the verdict, the trace must say that the connection is refused and must not rewrite the destination.
    assert.ok(result.outcomes.every((outcome) => outcome.dnat === null));
    assert.ok([...result.warnings, ...result.outcomes.flatMap((outcome) => outcome.steps.map((step) => step.explanation))].some((text) => /refused|no real servers/i.test(text)));
    const problems = compareTrace(row, result);
    assert.deepEqual(problems, [], describeTrace(result));
  });
}
