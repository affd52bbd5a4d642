/**
 * Writes iptables-save.txt for a node whose kube-proxy runs in iptables mode, in the exact form
 * iptables-save prints after kube-proxy's iptables-restore (pkg/proxy/iptables/proxier.go, syncProxyRules),
 * together with what kubelet and a flannel CNI add. Route and IPVS files live in their own modules.
 */

import { endpointChainName, serviceChainName } from './chainNames';
import type { GeneratedCluster, GeneratedServicePort } from './cluster';
import { savedProbabilityFor } from './probability';
import { comment, TableBuilder } from './iptablesText';
import { createRandom } from './random';
import { MASQ_MARK, writeFlannelRules, writeKubeletChains, writeKubeletJumps } from './nodeBaseline';

/** kube-proxy drops the per-endpoint comments when the cluster has more endpoints than this. */
export const LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;
const REJECT = 'REJECT --reject-with icmp-port-unreachable';

export function isLargeCluster(cluster: GeneratedCluster): boolean {
  return cluster.totalEndpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD;
}

/** kube-proxy's jump rules from the built-in chains, with kubelet's and flannel's rules in their places. */
function writeNodeBaseline(cluster: GeneratedCluster, mangle: TableBuilder, filter: TableBuilder, nat: TableBuilder): void {
  writeKubeletChains(mangle, filter, nat);
  filter.add('INPUT', `-m conntrack --ctstate NEW ${comment('kubernetes load balancer firewall')} -j KUBE-PROXY-FIREWALL`);
  filter.add('INPUT', `${comment('kubernetes health check service ports')} -j KUBE-NODEPORTS`);
  filter.add('INPUT', `-m conntrack --ctstate NEW ${comment('kubernetes externally-visible service portals')} -j KUBE-EXTERNAL-SERVICES`);
  filter.add('FORWARD', `-m conntrack --ctstate NEW ${comment('kubernetes load balancer firewall')} -j KUBE-PROXY-FIREWALL`);
  filter.add('FORWARD', `${comment('kubernetes forwarding rules')} -j KUBE-FORWARD`);
  filter.add('FORWARD', `-m conntrack --ctstate NEW ${comment('kubernetes service portals')} -j KUBE-SERVICES`);
  filter.add('FORWARD', `-m conntrack --ctstate NEW ${comment('kubernetes externally-visible service portals')} -j KUBE-EXTERNAL-SERVICES`);
  filter.add('OUTPUT', `-m conntrack --ctstate NEW ${comment('kubernetes load balancer firewall')} -j KUBE-PROXY-FIREWALL`);
  filter.add('OUTPUT', `-m conntrack --ctstate NEW ${comment('kubernetes service portals')} -j KUBE-SERVICES`);
  writeKubeletJumps(filter);
  nat.add('PREROUTING', `${comment('kubernetes service portals')} -j KUBE-SERVICES`);
  nat.add('OUTPUT', `${comment('kubernetes service portals')} -j KUBE-SERVICES`);
  nat.add('POSTROUTING', `${comment('kubernetes postrouting rules')} -j KUBE-POSTROUTING`);
  writeFlannelRules(cluster, filter, nat);
}

/** The rules kube-proxy writes for one Service port (the loop body of syncProxyRules). */
function writeServicePort(
  cluster: GeneratedCluster,
  service: GeneratedServicePort,
  largeCluster: boolean,
  filter: TableBuilder,
  nat: TableBuilder,
): void {
  const { id, protocol, port } = service;
  const svcChain = serviceChainName('KUBE-SVC-', id, protocol);
  const svlChain = serviceChainName('KUBE-SVL-', id, protocol);
  const extChain = serviceChainName('KUBE-EXT-', id, protocol);
  const fwChain = serviceChainName('KUBE-FW-', id, protocol);
  const localPolicy = service.externalTrafficPolicy === 'Local';
  const localEndpoints = service.endpoints.filter((endpoint) => endpoint.local);
  const hasEndpoints = service.endpoints.length > 0;
  const hasExternalEndpoints = hasEndpoints && (!localPolicy || localEndpoints.length > 0);
  const externalPolicyChain = localPolicy ? svlChain : svcChain;
  const externallyAccessible = service.nodePort !== null || service.externalIPs.length > 0 || service.loadBalancerIPs.length > 0;
  const usesExternalChain = hasEndpoints && externallyAccessible;
  const usesFirewallChain = hasEndpoints && service.loadBalancerIPs.length > 0 && service.loadBalancerSourceRanges.length > 0;
  const filterComment = hasEndpoints ? `${id} has no local endpoints` : `${id} has no endpoints`;
  const filterTarget = hasEndpoints ? 'DROP' : REJECT;
  const match = (destination: string): string =>
    `-d ${destination}/32 -p ${protocol}`;
  const dport = `-m ${protocol} --dport ${port}`;

  if (hasEndpoints) {
    nat.add('KUBE-SERVICES', `${match(service.clusterIP)} ${comment(`${id} cluster IP`)} ${dport} -j ${svcChain}`);
  } else {
    filter.add('KUBE-SERVICES', `${match(service.clusterIP)} ${comment(filterComment)} ${dport} -j ${filterTarget}`);
  }
  for (const ip of service.externalIPs) {
    if (hasEndpoints) nat.add('KUBE-SERVICES', `${match(ip)} ${comment(`${id} external IP`)} ${dport} -j ${extChain}`);
    if (!hasExternalEndpoints) filter.add('KUBE-EXTERNAL-SERVICES', `${match(ip)} ${comment(filterComment)} ${dport} -j ${filterTarget}`);
  }
  for (const ip of service.loadBalancerIPs) {
    if (hasEndpoints) {
      const target = usesFirewallChain ? fwChain : extChain;
      nat.add('KUBE-SERVICES', `${match(ip)} ${comment(`${id} loadbalancer IP`)} ${dport} -j ${target}`);
    }
    if (usesFirewallChain) {
      filter.add('KUBE-PROXY-FIREWALL', `${match(ip)} ${comment(`${id} traffic not accepted by ${fwChain}`)} ${dport} -j DROP`);
    }
  }
  if (!hasExternalEndpoints) {
    for (const ip of service.loadBalancerIPs) {
      filter.add('KUBE-EXTERNAL-SERVICES', `${match(ip)} ${comment(filterComment)} ${dport} -j ${filterTarget}`);
    }
  }
  if (service.nodePort !== null) {
    const nodePort = `-m ${protocol} --dport ${service.nodePort}`;
    if (hasEndpoints) nat.add('KUBE-NODEPORTS', `-p ${protocol} ${comment(id)} ${nodePort} -j ${extChain}`);
    if (!hasExternalEndpoints) {
      filter.add(
        'KUBE-EXTERNAL-SERVICES',
        `-p ${protocol} ${comment(filterComment)} -m addrtype --dst-type LOCAL ${nodePort} -j ${filterTarget}`,
      );
    }
  }
  if (service.healthCheckNodePort !== null) {
    filter.add(
      'KUBE-NODEPORTS',
      `-p tcp ${comment(`${id} health check node port`)} -m tcp --dport ${service.healthCheckNodePort} -j ACCEPT`,
    );
  }

  if (!hasEndpoints) return;

  nat.add(svcChain, `! -s ${cluster.clusterCIDR} ${match(service.clusterIP)} ${comment(`${id} cluster IP`)} ${dport} -j KUBE-MARK-MASQ`);

  if (usesExternalChain) {
    nat.declare(extChain);
    if (!localPolicy) {
      nat.add(extChain, `${comment(`masquerade traffic for ${id} external destinations`)} -j KUBE-MARK-MASQ`);
    } else {
      nat.add(extChain, `-s ${cluster.clusterCIDR} ${comment(`pod traffic for ${id} external destinations`)} -j ${svcChain}`);
      nat.add(
        extChain,
        `${comment(`masquerade LOCAL traffic for ${id} external destinations`)} -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
      );
      nat.add(extChain, `${comment(`route LOCAL traffic for ${id} external destinations`)} -m addrtype --src-type LOCAL -j ${svcChain}`);
    }
    if (hasExternalEndpoints) nat.add(extChain, `-j ${externalPolicyChain}`);
  }

  if (usesFirewallChain) {
    nat.declare(fwChain);
    for (const range of service.loadBalancerSourceRanges) {
      nat.add(fwChain, `-s ${range} ${comment(`${id} loadbalancer IP`)} -j ${extChain}`);
    }
    nat.add(fwChain, comment(`other traffic to ${id} will be dropped by KUBE-PROXY-FIREWALL`));
  }

  writeEndpointDispatch(nat, service, svcChain, service.endpoints, largeCluster);
  if (localPolicy && localEndpoints.length > 0) writeEndpointDispatch(nat, service, svlChain, localEndpoints, largeCluster);

  for (const endpoint of service.endpoints) {
    const address = `${endpoint.ip}:${endpoint.port}`;
    const sepChain = endpointChainName(id, protocol, address);
    const sepComment = largeCluster ? '' : ` ${comment(id)}`;
    nat.add(sepChain, `-s ${endpoint.ip}/32${sepComment} -j KUBE-MARK-MASQ`);
    const affinity =
      service.affinitySeconds === null ? '' : ` -m recent --set --name ${sepChain} --mask 255.255.255.255 --rsource`;
    nat.add(sepChain, `-p ${protocol}${sepComment}${affinity} -m ${protocol} -j DNAT --to-destination ${address}`);
  }
}

/** writeServiceToEndpointRules: affinity checks first, then the cascade of statistic rules. */
function writeEndpointDispatch(
  nat: TableBuilder,
  service: GeneratedServicePort,
  chain: string,
  endpoints: GeneratedServicePort['endpoints'],
  largeCluster: boolean,
): void {
  nat.declare(chain);
  const names = endpoints.map((endpoint) => endpointChainName(service.id, service.protocol, `${endpoint.ip}:${endpoint.port}`));
  const commentFor = (index: number): string => {
    const endpoint = endpoints[index];
    return largeCluster || endpoint === undefined ? '' : `${comment(`${service.id} -> ${endpoint.ip}:${endpoint.port}`)} `;
  };
  if (service.affinitySeconds !== null) {
    names.forEach((name, index) => {
      nat.add(
        chain,
        `${commentFor(index)}-m recent --rcheck --seconds ${service.affinitySeconds} --reap --name ${name} --mask 255.255.255.255 --rsource -j ${name}`,
      );
    });
  }
  names.forEach((name, index) => {
    const remaining = names.length - index;
    const statistic = remaining > 1 ? `-m statistic --mode random --probability ${savedProbabilityFor(remaining)} ` : '';
    nat.add(chain, `${commentFor(index)}${statistic}-j ${name}`);
  });
}

/** The whole iptables-save.txt for an iptables-mode node. */
export function renderIptablesMode(cluster: GeneratedCluster): string {
  const mangle = new TableBuilder('mangle');
  const filter = new TableBuilder('filter');
  const nat = new TableBuilder('nat');
  writeNodeBaseline(cluster, mangle, filter, nat);

  for (const chain of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL']) {
    filter.declare(chain);
  }
  for (const chain of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']) nat.declare(chain);
  nat.add('KUBE-POSTROUTING', `-m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`);
  nat.add('KUBE-POSTROUTING', `-j MARK --set-xmark ${MASQ_MARK}/0x0`);
  nat.add('KUBE-POSTROUTING', `${comment('kubernetes service traffic requiring SNAT')} -j MASQUERADE --random-fully`);
  nat.add('KUBE-MARK-MASQ', `-j MARK --set-xmark ${MASQ_MARK}/${MASQ_MARK}`);

  // kube-proxy walks its Service map in Go's random map order; a seeded shuffle stands in for it.
  const order = createRandom(cluster.seed ^ 0x5eed).shuffle([...cluster.services]);
  const largeCluster = isLargeCluster(cluster);
  for (const service of order) writeServicePort(cluster, service, largeCluster, filter, nat);

  nat.add(
    'KUBE-SERVICES',
    `${comment('kubernetes service nodeports; NOTE: this must be the last rule in this chain')} -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`,
  );
  filter.add('KUBE-FORWARD', '-m conntrack --ctstate INVALID -j DROP');
  filter.add('KUBE-FORWARD', `${comment('kubernetes forwarding rules')} -m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j ACCEPT`);
  filter.add(
    'KUBE-FORWARD',
    `${comment('kubernetes forwarding conntrack rule')} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  );

  const counters = createRandom(cluster.seed ^ 0xc0de);
  return mangle.render(counters) + filter.render(counters) + nat.render(counters);
}
