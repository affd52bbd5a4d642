// Kernel agreement, nftables mode on a node that also has iptables-nft rules of its own: kube-proxy's
// `table ip kube-proxy` and a Docker-style `FORWARD DROP` filter table share the hooks. An accept in one
// base chain does not spare the packet the next base chain at the same hook, while a drop is final, so a
// forwarded packet must pass kube-proxy's filter-forward (priority -110) and then iptables' FORWARD (0).
// The trace runs on the snapshot with both nft.txt (which lists both tables) and iptables-save.txt.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProbeRow } from './agreement';
import { describeKernelAgreement } from './kernelSuite';
import { nodeIp } from './netns';

const rulesets = join(dirname(fileURLToPath(import.meta.url)), 'rulesets');

const masq = { masquerade: true };
const kept = { masquerade: false };

/** Services as in nft-kube-proxy.nft; 192.168.70.1 is no Service, so the node forwards it to its gateway. */
const probes: ProbeRow[] = [
  { name: 'outside → ClusterIP (forwarded to pods, accepted by the pod-network rule)', from: 'client', dst: '10.96.0.10', dport: 80, count: 40, intent: { pods: { 'pod-a': masq, 'pod-b': masq, 'pod-c': masq } } },
  { name: 'outside → NodePort, policy Local', from: 'client', dst: nodeIp, dport: 30081, count: 12, intent: { pods: { 'pod-c': kept } } },
  { name: 'outside → an address that is no Service (FORWARD policy DROP)', from: 'client', dst: '192.168.70.1', dport: 80, count: 4, intent: 'dropped' },
  { name: 'outside → unallocated ClusterIP (kube-proxy drops first)', from: 'client', dst: '10.96.0.99', dport: 80, count: 4, intent: 'dropped' },
  { name: 'pod → another Service', from: 'pod-a', dst: '10.96.0.30', dport: 80, count: 40, intent: { pods: { 'pod-c': kept, remote: kept } } },
  { name: 'node → ClusterIP (output path, no FORWARD)', from: 'node', dst: '10.96.0.10', dport: 80, count: 40, intent: { pods: { 'pod-a': masq, 'pod-b': masq, 'pod-c': masq } } },
];

describeKernelAgreement({
  title: 'kernel agreement, nftables mode beside iptables-nft FORWARD DROP',
  mode: 'nftables',
  tools: ['nft', 'iptables-restore', 'iptables-save'],
  load: async (topology) => {
    await topology.inNode(['nft', '-f', '-'], readFileSync(join(rulesets, 'nft-kube-proxy.nft'), 'utf8'));
    await topology.inNode(['iptables-restore'], readFileSync(join(rulesets, 'iptables-forward-drop.rules'), 'utf8'));
  },
  dumps: { iptables: true, nft: true },
  probes,
});
