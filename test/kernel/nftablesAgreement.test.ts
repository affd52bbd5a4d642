// Kernel agreement, nftables mode: kube-proxy's `table ip kube-proxy` is loaded with `nft -f` into a node
// built of network namespaces (the same harness and Services as the iptables test), real TCP connections
// are opened from outside, from the node and from pods, and what the kernel did is checked against what
// kube-proxy means the rules to do and against `netpath trace --json` on the `nft list ruleset` (nft.txt)
// and local routes taken from that namespace. Needs root, iproute2, nft and conntrack.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Observation, ProbeRow } from './agreement';
import { checkIntent, checkTrace, describeObservation, describeTrace, observe, runTrace } from './agreement';
import { kernelSkipReason, nodeIp, Topology } from './netns';

const here = dirname(fileURLToPath(import.meta.url));
const rulesFile = join(here, 'rulesets', 'nft-kube-proxy.nft');

const masq = { masquerade: true };
const kept = { masquerade: false };

/** The probes; the ruleset file's header lists the Services they address. */
const probes: ProbeRow[] = [
  { name: 'outside → ClusterIP with 3 endpoints', from: 'client', dst: '10.96.0.10', dport: 80, count: 40, intent: { pods: { 'pod-a': masq, 'pod-b': masq, 'pod-c': masq } } },
  { name: 'outside → NodePort, externalTrafficPolicy Cluster', from: 'client', dst: nodeIp, dport: 30080, count: 40, intent: { pods: { 'pod-b': masq, remote: masq } } },
  { name: 'outside → NodePort, externalTrafficPolicy Local', from: 'client', dst: nodeIp, dport: 30081, count: 12, intent: { pods: { 'pod-c': kept } } },
  { name: 'outside → NodePort of a Service without endpoints', from: 'client', dst: nodeIp, dport: 30082, count: 4, intent: 'refused' },
  { name: 'outside → NodePort, Local policy, no local endpoint', from: 'client', dst: nodeIp, dport: 30083, count: 4, intent: 'dropped' },
  { name: 'outside → ClusterIP of a Service without endpoints', from: 'client', dst: '10.96.0.40', dport: 80, count: 4, intent: 'refused' },
  { name: 'outside → unallocated ClusterIP', from: 'client', dst: '10.96.0.99', dport: 80, count: 4, intent: 'dropped' },
  { name: 'outside → LoadBalancer IP, source inside loadBalancerSourceRanges', from: 'client', dst: '192.168.60.100', dport: 80, count: 40, intent: { pods: { 'pod-a': masq, 'pod-b': masq } } },
  { name: 'node → ClusterIP with 3 endpoints', from: 'node', dst: '10.96.0.10', dport: 80, count: 40, intent: { pods: { 'pod-a': masq, 'pod-b': masq, 'pod-c': masq } } },
  // nftables mode never serves NodePorts on 127.0.0.0/8, so nothing takes the connection.
  { name: 'node → 127.0.0.1 NodePort (not served in nftables mode)', from: 'node', dst: '127.0.0.1', dport: 30080, count: 4, intent: 'refused' },
  { name: 'node → own NodePort, policy Local', from: 'node', dst: nodeIp, dport: 30081, count: 40, intent: { pods: { 'pod-c': masq, remote: masq } } },
  { name: 'node → NodePort, Local policy, no local endpoint', from: 'node', dst: nodeIp, dport: 30083, count: 12, intent: { pods: { remote: masq } } },
  { name: 'node → ClusterIP of a Service without endpoints', from: 'node', dst: '10.96.0.40', dport: 80, count: 4, intent: 'refused' },
  { name: 'node → unallocated ClusterIP', from: 'node', dst: '10.96.0.99', dport: 80, count: 4, intent: 'dropped' },
  { name: 'node → LoadBalancer IP (the node is inside the source ranges)', from: 'node', dst: '192.168.60.100', dport: 80, count: 40, intent: { pods: { 'pod-a': masq, 'pod-b': masq } } },
  { name: 'pod → another Service (ClusterIP)', from: 'pod-a', dst: '10.96.0.30', dport: 80, count: 40, intent: { pods: { 'pod-c': kept, remote: kept } } },
  { name: 'pod → itself via its Service (hairpin)', from: 'pod-a', dst: '10.96.0.10', dport: 80, count: 40, intent: { pods: { 'pod-a': masq, 'pod-b': kept, 'pod-c': kept } } },
  { name: 'pod → NodePort, policy Local', from: 'pod-b', dst: nodeIp, dport: 30081, count: 40, intent: { pods: { 'pod-c': kept, remote: kept } } },
  { name: 'pod → NodePort, Local policy, no local endpoint', from: 'pod-b', dst: nodeIp, dport: 30083, count: 12, intent: { pods: { remote: kept } } },
  { name: 'pod → LoadBalancer IP, source outside loadBalancerSourceRanges', from: 'pod-c', dst: '192.168.60.100', dport: 80, count: 4, intent: 'dropped' },
  { name: 'pod → ClusterIP of a Service without endpoints', from: 'pod-c', dst: '10.96.0.40', dport: 80, count: 4, intent: 'refused' },
  { name: 'pod → ClusterIP on a port the Service lacks', from: 'pod-c', dst: '10.96.0.10', dport: 81, count: 4, intent: 'refused' },
];

const skip = kernelSkipReason(['nft']);

describe('kernel agreement, nftables mode', { skip }, () => {
  let topology: Topology | undefined;
  let snapshotDir = '';
  const observations = new Map<string, Observation>();

  before(
    async () => {
      topology = await Topology.create();
      await topology.inNode(['nft', '-f', '-'], readFileSync(rulesFile, 'utf8'));
      snapshotDir = mkdtempSync(join(tmpdir(), 'npk-nft-'));
      await topology.snapshot(snapshotDir, { nft: true });
      // NETPATH_KERNEL_SNAPSHOT_OUT=<dir> keeps a copy of the snapshot, e.g. to refresh a fixture.
      const keep = process.env.NETPATH_KERNEL_SNAPSHOT_OUT;
      if (keep) cpSync(snapshotDir, keep, { recursive: true });
      for (const row of probes) {
        observations.set(row.name, observe(await topology.probe(row.from, row.dst, row.dport, { count: row.count })));
      }
    },
    { timeout: 180_000 },
  );

  after(async () => {
    await topology?.destroy();
    if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
  });

  for (const row of probes) {
    test(`kernel does what kube-proxy means: ${row.name}`, () => {
      const observation = observations.get(row.name);
      assert.ok(observation, 'the probe did not run');
      assert.deepEqual(checkIntent(row, observation), [], describeObservation(observation));
    });
  }

  for (const row of probes) {
    test(`netpath trace agrees with the kernel: ${row.name}`, { timeout: 60_000 }, async () => {
      const observation = observations.get(row.name);
      assert.ok(observation, 'the probe did not run');
      const { trace, problem } = await runTrace(snapshotDir, row.dst, row.dport, observation.src);
      assert.ok(trace, problem);
      assert.equal(trace.mode, 'nftables');
      const problems = checkTrace(row, observation, trace);
      assert.deepEqual(problems, [], `kernel: ${describeObservation(observation)}\ntrace: ${describeTrace(trace)}`);
    });
  }
});
