// Packet-flow tables for nftables mode, after kube-proxy's pkg/proxy/nftables/proxier_test.go
// (runPacketFlowTests): each fixture holds the rules kube-proxy writes for that test's Services, loaded
// into a network namespace and printed back by nft; each row gives a source, a destination and the
// endpoints (or DROP/REJECT, or '' for "no Service rule applies") and whether the source is masqueraded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseNft } from '../../src/core/nft/parseNft';
import { traceNft } from '../../src/core/nft/traceNft';
import { parseRouteLocal } from '../../src/core/routes/localRoutes';
import type { Protocol, TraceResult } from '../../src/core/trace/result';

interface Row {
  name: string;
  src: string;
  dst: string;
  dport: number;
  proto?: Protocol;
  /** `ip:port, ip:port` (sorted), `DROP`, `REJECT`, or '' when the packet is delivered with no DNAT. */
  output: string;
  masq?: boolean;
}

function load(folder: string) {
  const nft = parseNft(readFileSync(`${folder}/nft.txt`, 'utf8'));
  assert.deepEqual(nft.diagnostics, []);
  const routes = parseRouteLocal(readFileSync(`${folder}/route-local.txt`, 'utf8')).value;
  return { nft: nft.value, routes };
}

function trace(folder: string, row: Row): TraceResult {
  const input = load(folder);
  const entry = input.routes.isLocal(row.src) ? 'OUTPUT' : 'PREROUTING';
  return traceNft(input, { src: row.src, dst: row.dst, proto: row.proto ?? 'tcp', sport: 40000, dport: row.dport }, entry);
}

/** What kube-proxy's packet-flow tests compare: the endpoints reached or the verdict, and masquerading. */
function summarize(result: TraceResult): { output: string; masq: boolean | 'mixed' } {
  const verdicts = new Set(result.outcomes.map((outcome) => outcome.verdict));
  if (verdicts.size === 1 && !verdicts.has('ACCEPT')) return { output: [...verdicts][0], masq: false };
  const accepted = result.outcomes.filter((outcome) => outcome.verdict === 'ACCEPT');
  const output = accepted
    .map((outcome) => (outcome.dnat ? `${outcome.dnat.ip}:${outcome.dnat.port}` : ''))
    .sort()
    .join(', ');
  const masq = new Set(accepted.map((outcome) => outcome.masquerade));
  return { output: verdicts.size > 1 ? `mixed: ${[...verdicts].join('/')}` : output, masq: masq.size === 1 ? [...masq][0] : 'mixed' };
}

function runPacketFlowTests(folder: string, rows: Row[]): void {
  for (const row of rows) {
    test(`${folder.replace('test/fixtures/', '')}: ${row.name}`, () => {
      const result = trace(folder, row);
      const explain = () =>
        result.outcomes
          .map((outcome) => `${outcome.verdict} ${outcome.probability}: ${outcome.steps.map((step) => `${step.chain}:${step.line}`).join(' → ')}`)
          .join('\n');
      const summary = summarize(result);
      assert.equal(summary.output, row.output, explain());
      if (row.masq !== undefined) assert.equal(summary.masq, row.masq, explain());
      assert.equal(result.mode, 'nftables');
      assert.deepEqual(result.warnings, []);
      const total = result.outcomes.reduce((sum, outcome) => sum + outcome.probability, 0);
      assert.ok(Math.abs(total - 1) < 1e-9, `probabilities sum to ${total}`);
      // Endpoints reached through numgen share the traffic equally.
      const accepted = result.outcomes.filter((outcome) => outcome.dnat);
      for (const outcome of accepted) assert.ok(Math.abs(outcome.probability - 1 / accepted.length) < 1e-9);
    });
  }
}

const TEST_NODE_IP = '192.168.0.2';
const TEST_NODE_IP_ALT = '192.168.1.2';
const TEST_EXTERNAL_CLIENT = '203.0.113.2';
const TEST_EXTERNAL_CLIENT_BLOCKED = '203.0.113.130';

// TestClusterIPGeneral
runPacketFlowTests('test/fixtures/nft-cluster-ip', [
  { name: 'simple clusterIP', src: '10.180.0.2', dst: '172.30.0.41', dport: 80, output: '10.180.0.1:80', masq: false },
  { name: 'hairpin to cluster IP', src: '10.180.0.1', dst: '172.30.0.41', dport: 80, output: '10.180.0.1:80', masq: true },
  { name: 'clusterIP with multiple endpoints', src: '10.180.0.2', dst: '172.30.0.42', dport: 80, output: '10.180.0.1:80, 10.180.2.1:80', masq: false },
  { name: 'clusterIP with TargetPort', src: '10.180.0.2', dst: '172.30.0.42', dport: 443, output: '10.180.0.1:8443, 10.180.2.1:8443', masq: false },
  { name: 'TCP, UDP and SCTP on the same port (TCP)', src: '10.180.0.2', dst: '172.30.0.42', dport: 53, output: '10.180.0.1:5353, 10.180.2.1:5353', masq: false },
  { name: 'TCP, UDP and SCTP on the same port (UDP)', src: '10.180.0.2', dst: '172.30.0.42', dport: 53, proto: 'udp', output: '10.180.0.1:53, 10.180.2.1:53', masq: false },
  { name: 'TCP, UDP and SCTP on the same port (SCTP)', src: '10.180.0.2', dst: '172.30.0.42', dport: 53, proto: 'sctp', output: '10.180.0.1:53, 10.180.2.1:53', masq: false },
  { name: 'TCP-only port does not match UDP traffic', src: '10.180.0.2', dst: '172.30.0.42', dport: 80, proto: 'udp', output: 'REJECT' },
  { name: "svc1 does not accept svc2's ports", src: '10.180.0.2', dst: '172.30.0.41', dport: 443, output: 'REJECT' },
  { name: 'packet to unallocated cluster ip', src: '10.180.0.2', dst: '172.30.0.50', dport: 80, output: 'DROP' },
  { name: 'node to cluster IP is masqueraded', src: TEST_NODE_IP, dst: '172.30.0.41', dport: 80, output: '10.180.0.1:80', masq: true },
  { name: 'node to an unused port of a ClusterIP', src: TEST_NODE_IP, dst: '172.30.0.41', dport: 8080, output: 'REJECT' },
]);

// TestLoadBalancer (source ranges 192.168.0.0/24 and 203.0.113.0/25) and TestNodePorts (ipv4)
runPacketFlowTests('test/fixtures/nft-load-balancer', [
  { name: 'pod to cluster IP', src: '10.0.0.2', dst: '172.30.0.41', dport: 80, output: '10.180.0.1:80', masq: false },
  { name: 'external to nodePort', src: TEST_EXTERNAL_CLIENT, dst: TEST_NODE_IP, dport: 3001, output: '10.180.0.1:80', masq: true },
  { name: 'nodePort bypasses LoadBalancerSourceRanges', src: TEST_EXTERNAL_CLIENT_BLOCKED, dst: TEST_NODE_IP, dport: 3001, output: '10.180.0.1:80', masq: true },
  { name: 'node to nodePort', src: TEST_NODE_IP, dst: TEST_NODE_IP, dport: 3001, output: '10.180.0.1:80', masq: true },
  { name: 'secondary nodeIP ignores NodePorts', src: TEST_EXTERNAL_CLIENT, dst: TEST_NODE_IP_ALT, dport: 3001, output: '' },
  { name: 'accepted external to LB1', src: TEST_EXTERNAL_CLIENT, dst: '1.2.3.4', dport: 80, output: '10.180.0.1:80', masq: true },
  { name: 'accepted external to LB2', src: TEST_EXTERNAL_CLIENT, dst: '5.6.7.8', dport: 80, output: '10.180.0.1:80', masq: true },
  { name: 'blocked external to LB1', src: TEST_EXTERNAL_CLIENT_BLOCKED, dst: '1.2.3.4', dport: 80, output: 'DROP' },
  { name: 'blocked external to LB2', src: TEST_EXTERNAL_CLIENT_BLOCKED, dst: '5.6.7.8', dport: 80, output: 'DROP' },
  { name: 'pod to LB1 (blocked by LoadBalancerSourceRanges)', src: '10.0.0.2', dst: '1.2.3.4', dport: 80, output: 'DROP' },
  { name: 'pod to LB2 (blocked by LoadBalancerSourceRanges)', src: '10.0.0.2', dst: '5.6.7.8', dport: 80, output: 'DROP' },
  { name: 'node to LB1 (allowed by LoadBalancerSourceRanges)', src: TEST_NODE_IP, dst: '1.2.3.4', dport: 80, output: '10.180.0.1:80', masq: true },
  { name: 'node to LB2 (allowed by LoadBalancerSourceRanges)', src: TEST_NODE_IP, dst: '5.6.7.8', dport: 80, output: '10.180.0.1:80', masq: true },
  { name: 'same node to LB1, SNATted to LB1 (implicitly allowed)', src: '1.2.3.4', dst: '1.2.3.4', dport: 80, output: '10.180.0.1:80', masq: true },
  { name: 'same node to LB2, SNATted to LB2 (implicitly allowed)', src: '5.6.7.8', dst: '5.6.7.8', dport: 80, output: '10.180.0.1:80', masq: true },
]);

// TestExternalTrafficPolicyLocal (svc1), TestExternalTrafficPolicyCluster (svc2), internalTrafficPolicy Local
// with and without a local endpoint (svc3, svc4), externalTrafficPolicy Local with no local endpoint (svc5).
runPacketFlowTests('test/fixtures/nft-traffic-policy', [
  { name: 'eTP Local: pod to cluster IP hits both endpoints, unmasqueraded', src: '10.0.0.2', dst: '172.30.0.41', dport: 80, output: '10.180.0.1:80, 10.180.2.1:80', masq: false },
  { name: 'eTP Local: pod to external IP hits both endpoints, unmasqueraded', src: '10.0.0.2', dst: '192.168.99.11', dport: 80, output: '10.180.0.1:80, 10.180.2.1:80', masq: false },
  { name: 'eTP Local: external to external IP hits only local endpoint, unmasqueraded', src: TEST_EXTERNAL_CLIENT, dst: '192.168.99.11', dport: 80, output: '10.180.2.1:80', masq: false },
  { name: 'eTP Local: pod to LB IP hits both endpoints, unmasqueraded', src: '10.0.0.2', dst: '1.2.3.4', dport: 80, output: '10.180.0.1:80, 10.180.2.1:80', masq: false },
  { name: 'eTP Local: external to LB IP hits only local endpoint, unmasqueraded', src: TEST_EXTERNAL_CLIENT, dst: '1.2.3.4', dport: 80, output: '10.180.2.1:80', masq: false },
  { name: 'eTP Local: pod to NodePort hits both endpoints, unmasqueraded', src: '10.0.0.2', dst: TEST_NODE_IP, dport: 3001, output: '10.180.0.1:80, 10.180.2.1:80', masq: false },
  { name: 'eTP Local: external to NodePort hits only local endpoint, unmasqueraded', src: TEST_EXTERNAL_CLIENT, dst: TEST_NODE_IP, dport: 3001, output: '10.180.2.1:80', masq: false },
  { name: 'eTP Local: node to LB IP hits both endpoints, masqueraded', src: TEST_NODE_IP, dst: '1.2.3.4', dport: 80, output: '10.180.0.1:80, 10.180.2.1:80', masq: true },
  { name: 'eTP Cluster: pod to cluster IP hits both endpoints, unmasqueraded', src: '10.0.0.2', dst: '172.30.0.42', dport: 80, output: '10.180.0.2:80, 10.180.2.2:80', masq: false },
  { name: 'eTP Cluster: pod to external IP hits both endpoints, masqueraded', src: '10.0.0.2', dst: '192.168.99.22', dport: 80, output: '10.180.0.2:80, 10.180.2.2:80', masq: true },
  { name: 'eTP Cluster: external to external IP hits both endpoints, masqueraded', src: TEST_EXTERNAL_CLIENT, dst: '192.168.99.22', dport: 80, output: '10.180.0.2:80, 10.180.2.2:80', masq: true },
  { name: 'eTP Cluster: pod to LB IP hits both endpoints, masqueraded', src: '10.0.0.2', dst: '5.6.7.8', dport: 80, output: '10.180.0.2:80, 10.180.2.2:80', masq: true },
  { name: 'eTP Cluster: external to LB IP hits both endpoints, masqueraded', src: TEST_EXTERNAL_CLIENT, dst: '5.6.7.8', dport: 80, output: '10.180.0.2:80, 10.180.2.2:80', masq: true },
  { name: 'eTP Cluster: pod to NodePort hits both endpoints, masqueraded', src: '10.0.0.2', dst: TEST_NODE_IP, dport: 3002, output: '10.180.0.2:80, 10.180.2.2:80', masq: true },
  { name: 'eTP Cluster: external to NodePort hits both endpoints, masqueraded', src: TEST_EXTERNAL_CLIENT, dst: TEST_NODE_IP, dport: 3002, output: '10.180.0.2:80, 10.180.2.2:80', masq: true },
  { name: 'iTP Local: pod to cluster IP hits only the local endpoint', src: '10.0.0.2', dst: '172.30.0.43', dport: 80, output: '10.180.2.3:80', masq: false },
  { name: 'iTP Local without local endpoints: cluster IP traffic is dropped', src: '10.0.0.2', dst: '172.30.0.44', dport: 80, output: 'DROP' },
  { name: 'iTP Local without local endpoints: node to cluster IP is dropped', src: TEST_NODE_IP, dst: '172.30.0.44', dport: 80, output: 'DROP' },
  { name: 'eTP Local without local endpoints: external to LB IP is dropped', src: TEST_EXTERNAL_CLIENT, dst: '9.10.11.12', dport: 80, output: 'DROP' },
  { name: 'eTP Local without local endpoints: external to NodePort is dropped', src: TEST_EXTERNAL_CLIENT, dst: TEST_NODE_IP, dport: 3005, output: 'DROP' },
  { name: 'eTP Local without local endpoints: pod to LB IP is short-circuited', src: '10.0.0.2', dst: '9.10.11.12', dport: 80, output: '10.180.0.5:80', masq: false },
  // filter-output (priority -110) sees the LB IP before nat-output (-100) DNATs it, and no-endpoint-services drops it.
  { name: 'eTP Local without local endpoints: node to LB IP is dropped before DNAT', src: TEST_NODE_IP, dst: '9.10.11.12', dport: 80, output: 'DROP' },
  { name: 'eTP Local without local endpoints: cluster IP still works', src: '10.0.0.2', dst: '172.30.0.45', dport: 80, output: '10.180.0.5:80', masq: false },
]);

// The same Services under kube-proxy 1.34's base chains (filter-input/forward/output at priority 0, after DNAT):
// node traffic to an eTP Local LoadBalancer without local endpoints is now short-circuited (kubernetes issue 131765).
runPacketFlowTests('test/fixtures/nft-layout-1.34', [
  { name: 'eTP Local: external to LB IP hits only local endpoint, unmasqueraded', src: TEST_EXTERNAL_CLIENT, dst: '1.2.3.4', dport: 80, output: '10.180.2.1:80', masq: false },
  { name: 'eTP Local: pod to NodePort hits both endpoints, unmasqueraded', src: '10.0.0.2', dst: TEST_NODE_IP, dport: 3001, output: '10.180.0.1:80, 10.180.2.1:80', masq: false },
  { name: 'eTP Cluster: external to NodePort hits both endpoints, masqueraded', src: TEST_EXTERNAL_CLIENT, dst: TEST_NODE_IP, dport: 3002, output: '10.180.0.2:80, 10.180.2.2:80', masq: true },
  { name: 'iTP Local: pod to cluster IP hits only the local endpoint', src: '10.0.0.2', dst: '172.30.0.43', dport: 80, output: '10.180.2.3:80', masq: false },
  { name: 'iTP Local without local endpoints: node to cluster IP is dropped', src: TEST_NODE_IP, dst: '172.30.0.44', dport: 80, output: 'DROP' },
  { name: 'eTP Local without local endpoints: external to LB IP is dropped', src: TEST_EXTERNAL_CLIENT, dst: '9.10.11.12', dport: 80, output: 'DROP' },
  { name: 'eTP Local without local endpoints: node to LB IP is short-circuited and masqueraded', src: TEST_NODE_IP, dst: '9.10.11.12', dport: 80, output: '10.180.0.5:80', masq: true },
  { name: 'eTP Local without local endpoints: pod to LB IP is short-circuited', src: '10.0.0.2', dst: '9.10.11.12', dport: 80, output: '10.180.0.5:80', masq: false },
  { name: 'node to an unallocated cluster IP', src: TEST_NODE_IP, dst: '172.30.0.50', dport: 80, output: 'DROP' },
  { name: 'node to an unused port of a cluster IP', src: TEST_NODE_IP, dst: '172.30.0.41', dport: 81, output: 'REJECT' },
]);

// TestNodePorts ("ipv6", nodeport-addresses unset in the test means only the primary IP here)
runPacketFlowTests('test/fixtures/nft-ipv6', [
  { name: 'pod to cluster IP', src: 'fd00:10::2', dst: 'fd00:10:96::41', dport: 80, output: 'fd00:10:180::1:80, fd00:10:180::2:1:80', masq: false },
  { name: 'external to nodePort', src: '2600:5200::1', dst: '2001:db8::1', dport: 3001, output: 'fd00:10:180::1:80, fd00:10:180::2:1:80', masq: true },
  { name: 'secondary nodeIP ignores NodePorts', src: '2600:5200::1', dst: '2001:db8:1::2', dport: 3001, output: '' },
  { name: 'unallocated IPv6 cluster IP', src: 'fd00:10::2', dst: 'fd00:10:96::99', dport: 80, output: 'DROP' },
  { name: 'unused port of the IPv6 cluster IP', src: 'fd00:10::2', dst: 'fd00:10:96::41', dport: 81, output: 'REJECT' },
]);

// TestNoEndpointsReject
runPacketFlowTests('test/fixtures/nft-no-endpoints', [
  { name: 'pod to cluster IP with no endpoints', src: '10.0.0.2', dst: '172.30.0.41', dport: 80, output: 'REJECT' },
  { name: 'external to external IP with no endpoints', src: TEST_EXTERNAL_CLIENT, dst: '192.168.99.11', dport: 80, output: 'REJECT' },
  { name: 'pod to NodePort with no endpoints', src: '10.0.0.2', dst: TEST_NODE_IP, dport: 3001, output: 'REJECT' },
  { name: 'external to NodePort with no endpoints', src: TEST_EXTERNAL_CLIENT, dst: TEST_NODE_IP, dport: 3001, output: 'REJECT' },
  { name: 'pod to LoadBalancer IP with no endpoints', src: '10.0.0.2', dst: '1.2.3.4', dport: 80, output: 'REJECT' },
  { name: 'external to LoadBalancer IP with no endpoints', src: TEST_EXTERNAL_CLIENT, dst: '1.2.3.4', dport: 80, output: 'REJECT' },
  { name: 'node to cluster IP with no endpoints', src: TEST_NODE_IP, dst: '172.30.0.41', dport: 80, output: 'REJECT' },
]);
