// Kernel agreement, iptables mode: a kube-proxy ruleset is loaded with iptables-restore into a node built
// of network namespaces; real TCP connections and UDP exchanges go from outside, from the node and from
// pods; what the kernel did (which pod answered, whether its peer address was rewritten, refusals, drops)
// is checked against what kube-proxy means the rules to do and against `netpath trace --json` on the
// iptables-save and local routes taken from that namespace. Needs root, iproute2, iptables and conntrack.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProbeRow } from './agreement';
import { describeKernelAgreement } from './kernelSuite';
import { nodeIp } from './netns';

const rulesFile = join(dirname(fileURLToPath(import.meta.url)), 'rulesets', 'iptables-kube-proxy.rules');

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
  { name: 'outside → LoadBalancer IP, source inside loadBalancerSourceRanges', from: 'client', dst: '192.168.60.100', dport: 80, count: 40, intent: { pods: { 'pod-a': masq, 'pod-b': masq } } },
  { name: 'node → ClusterIP with 3 endpoints', from: 'node', dst: '10.96.0.10', dport: 80, count: 40, intent: { pods: { 'pod-a': masq, 'pod-b': masq, 'pod-c': masq } } },
  { name: 'node → 127.0.0.1 NodePort, policy Cluster', from: 'node', dst: '127.0.0.1', dport: 30080, count: 40, intent: { pods: { 'pod-b': masq, remote: masq } } },
  { name: 'node → own NodePort, policy Local', from: 'node', dst: nodeIp, dport: 30081, count: 40, intent: { pods: { 'pod-c': masq, remote: masq } } },
  { name: 'node → NodePort, Local policy, no local endpoint', from: 'node', dst: nodeIp, dport: 30083, count: 12, intent: { pods: { remote: masq } } },
  { name: 'node → ClusterIP of a Service without endpoints', from: 'node', dst: '10.96.0.40', dport: 80, count: 4, intent: 'refused' },
  { name: 'node → LoadBalancer IP (the node is inside the source ranges)', from: 'node', dst: '192.168.60.100', dport: 80, count: 40, intent: { pods: { 'pod-a': masq, 'pod-b': masq } } },
  { name: 'pod → another Service (ClusterIP)', from: 'pod-a', dst: '10.96.0.30', dport: 80, count: 40, intent: { pods: { 'pod-c': kept, remote: kept } } },
  { name: 'pod → itself via its Service (hairpin)', from: 'pod-a', dst: '10.96.0.10', dport: 80, count: 40, intent: { pods: { 'pod-a': masq, 'pod-b': kept, 'pod-c': kept } } },
  { name: 'pod → NodePort, policy Local', from: 'pod-b', dst: nodeIp, dport: 30081, count: 40, intent: { pods: { 'pod-c': kept, remote: kept } } },
  { name: 'pod → NodePort, Local policy, no local endpoint', from: 'pod-b', dst: nodeIp, dport: 30083, count: 12, intent: { pods: { remote: kept } } },
  { name: 'pod → LoadBalancer IP, source outside loadBalancerSourceRanges', from: 'pod-c', dst: '192.168.60.100', dport: 80, count: 4, intent: 'dropped' },
  { name: 'pod → ClusterIP of a Service without endpoints', from: 'pod-c', dst: '10.96.0.40', dport: 80, count: 4, intent: 'refused' },
  { name: 'pod → UDP ClusterIP with 2 endpoints', from: 'pod-c', dst: '10.96.0.53', dport: 53, proto: 'udp', count: 40, intent: { pods: { 'pod-a': kept, 'pod-b': kept } } },
  { name: 'outside → UDP ClusterIP with 2 endpoints', from: 'client', dst: '10.96.0.53', dport: 53, proto: 'udp', count: 40, intent: { pods: { 'pod-a': masq, 'pod-b': masq } } },
  { name: 'node → UDP ClusterIP with 2 endpoints', from: 'node', dst: '10.96.0.53', dport: 53, proto: 'udp', count: 40, intent: { pods: { 'pod-a': masq, 'pod-b': masq } } },
  { name: 'pod → UDP ClusterIP of a Service port without endpoints', from: 'pod-a', dst: '10.96.0.40', dport: 53, proto: 'udp', count: 4, intent: 'refused' },
  { name: 'pod → ClusterIP with ClientIP session affinity', from: 'pod-c', dst: '10.96.0.70', dport: 80, count: 12, sticky: true, intent: { pods: { 'pod-a': kept, 'pod-b': kept } } },
  { name: 'outside → ClusterIP with ClientIP session affinity', from: 'client', dst: '10.96.0.70', dport: 80, count: 12, sticky: true, intent: { pods: { 'pod-a': masq, 'pod-b': masq } } },
  { name: 'pod → ClusterIP, internalTrafficPolicy Local', from: 'pod-a', dst: '10.96.0.80', dport: 80, count: 12, intent: { pods: { 'pod-c': kept } } },
  { name: 'node → ClusterIP, internalTrafficPolicy Local', from: 'node', dst: '10.96.0.80', dport: 80, count: 12, intent: { pods: { 'pod-c': masq } } },
  { name: 'pod → ClusterIP, internalTrafficPolicy Local, no local endpoint', from: 'pod-a', dst: '10.96.0.90', dport: 80, count: 4, intent: 'dropped' },
];

describeKernelAgreement({
  title: 'kernel agreement, iptables mode',
  mode: 'iptables',
  tools: ['iptables-restore', 'iptables-save'],
  load: (topology) => topology.inNode(['iptables-restore'], readFileSync(rulesFile, 'utf8')),
  dumps: { iptables: true },
  probes,
});
