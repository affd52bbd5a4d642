// Kernel agreement, iptables mode on a node whose filter FORWARD policy is DROP (as Docker sets it) and no
// CNI rule accepts pod traffic: forwarded Service traffic then survives only through kube-proxy's
// KUBE-FORWARD, which accepts packets carrying the masquerade mark 0x4000 set in nat PREROUTING. So traffic
// that kube-proxy masquerades gets through, and traffic it does not (externalTrafficPolicy Local, pod to
// Service) is dropped: marks carried from the nat table to the filter table decide it.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProbeRow } from './agreement';
import { describeKernelAgreement } from './kernelSuite';
import { nodeIp } from './netns';

const rulesFile = join(dirname(fileURLToPath(import.meta.url)), 'rulesets', 'iptables-kube-proxy.rules');

/** The same kube-proxy rules, with the filter table's FORWARD policy turned to DROP. */
function withForwardDrop(rules: string): string {
  const changed = rules.replace(/(\*filter\n[\s\S]*?):FORWARD ACCEPT \[0:0\]/, '$1:FORWARD DROP [0:0]');
  if (changed === rules) throw new Error('iptables-kube-proxy.rules has no filter FORWARD policy line to change');
  return changed;
}

const masq = { masquerade: true };

const probes: ProbeRow[] = [
  { name: 'outside → NodePort, policy Cluster (marked, so KUBE-FORWARD accepts)', from: 'client', dst: nodeIp, dport: 30080, count: 40, intent: { pods: { 'pod-b': masq, remote: masq } } },
  { name: 'outside → ClusterIP (marked: the source is outside the cluster CIDR)', from: 'client', dst: '10.96.0.10', dport: 80, count: 40, intent: { pods: { 'pod-a': masq, 'pod-b': masq, 'pod-c': masq } } },
  { name: 'outside → NodePort, policy Local (not marked: FORWARD policy drops it)', from: 'client', dst: nodeIp, dport: 30081, count: 4, intent: 'dropped' },
  { name: 'pod → another Service (not marked: FORWARD policy drops it)', from: 'pod-a', dst: '10.96.0.30', dport: 80, count: 4, intent: 'dropped' },
  { name: 'node → NodePort, policy Local (output path, no FORWARD)', from: 'node', dst: nodeIp, dport: 30081, count: 40, intent: { pods: { 'pod-c': masq, remote: masq } } },
];

describeKernelAgreement({
  title: 'kernel agreement, iptables mode with FORWARD policy DROP',
  mode: 'iptables',
  tools: ['iptables-restore', 'iptables-save'],
  load: (topology) => topology.inNode(['iptables-restore'], withForwardDrop(readFileSync(rulesFile, 'utf8'))),
  dumps: { iptables: true },
  probes,
});
