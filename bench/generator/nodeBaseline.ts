/**
 * The iptables rules a kube-proxy node has beside kube-proxy's own, in every mode: kubelet's canary
 * chains, KUBE-IPTABLES-HINT and KUBE-FIREWALL, and the flannel CNI's forward and masquerade chains.
 * Callers add kube-proxy's jump rules first: kube-proxy prepends its jumps, flannel appends its own.
 */

import type { GeneratedCluster } from './cluster';
import { comment, type TableBuilder } from './iptablesText';

export const MASQ_MARK = '0x4000';

export function writeKubeletChains(mangle: TableBuilder, filter: TableBuilder, nat: TableBuilder): void {
  for (const table of [mangle, filter, nat]) {
    table.declare('KUBE-KUBELET-CANARY');
    table.declare('KUBE-PROXY-CANARY');
  }
  mangle.declare('KUBE-IPTABLES-HINT');
  filter.add(
    'KUBE-FIREWALL',
    `! -s 127.0.0.0/8 -d 127.0.0.0/8 ${comment('block incoming localnet connections')} -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`,
  );
}

/** INPUT and OUTPUT jumps to kubelet's KUBE-FIREWALL; call after kube-proxy's own jumps. */
export function writeKubeletJumps(filter: TableBuilder): void {
  filter.add('INPUT', '-j KUBE-FIREWALL');
  filter.add('OUTPUT', '-j KUBE-FIREWALL');
}

/** flannel's rules (vxlan backend): forward pod traffic, masquerade pod traffic leaving the pod network. */
export function writeFlannelRules(cluster: GeneratedCluster, filter: TableBuilder, nat: TableBuilder): void {
  const pods = cluster.clusterCIDR;
  const nodePods = cluster.node.podCIDR;
  const flannel = comment('flanneld masq');
  filter.add('FORWARD', `${comment('flanneld forward')} -j FLANNEL-FWD`);
  filter.add('FLANNEL-FWD', `-s ${pods} ${comment('flanneld forward')} -j ACCEPT`);
  filter.add('FLANNEL-FWD', `-d ${pods} ${comment('flanneld forward')} -j ACCEPT`);
  nat.add('POSTROUTING', `${flannel} -j FLANNEL-POSTRTG`);
  nat.add('FLANNEL-POSTRTG', `-m mark --mark ${MASQ_MARK}/${MASQ_MARK} ${flannel} -j RETURN`);
  nat.add('FLANNEL-POSTRTG', `-s ${nodePods} -d ${pods} ${flannel} -j RETURN`);
  nat.add('FLANNEL-POSTRTG', `-s ${pods} -d ${nodePods} ${flannel} -j RETURN`);
  nat.add('FLANNEL-POSTRTG', `! -s ${pods} -d ${nodePods} ${flannel} -j RETURN`);
  nat.add('FLANNEL-POSTRTG', `-s ${pods} ! -d 224.0.0.0/4 ${flannel} -j MASQUERADE --random-fully`);
  nat.add('FLANNEL-POSTRTG', `! -s ${pods} -d ${pods} ${flannel} -j MASQUERADE --random-fully`);
}
