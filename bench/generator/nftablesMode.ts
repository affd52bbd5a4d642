/**
 * Writes nft.txt (`nft list ruleset`) for a node whose kube-proxy runs in nftables mode: the
 * `ip kube-proxy` table with its verdict maps (service-ips, service-nodeports, no-endpoint-*, firewall-ips),
 * the fixed base and helper chains, and per Service port the service-/local-/external-/firewall- and
 * endpoint- chains with `numgen random mod N vmap`. Layout follows what nft prints for kube-proxy's
 * table (see test/fixtures/nft-*); ClientIP affinity sets are not generated in this mode.
 */

import { hash16 } from './chainNames';
import type { GeneratedCluster, GeneratedServicePort } from './cluster';
import { createRandom, type Random } from './random';

/** kube-proxy's nftables chain base name: `ns/name/protocol/portName`. */
function chainBase(service: GeneratedServicePort): string {
  return `${service.namespace}/${service.name}/${service.protocol}/${service.portName}`;
}

function hashedName(prefix: string, base: string): string {
  return `${prefix}-${hash16(base).slice(0, 8)}-${base}`;
}

function endpointChain(service: GeneratedServicePort, ip: string, port: number): string {
  return hashedName('endpoint', `${chainBase(service)}__${ip}/${port}`);
}

/**
 * A set or map body's `elements = { … }` as nft prints it: IPv4 address sets two to a line, every
 * other key type (concatenations, verdict maps) one to a line, continuation lines indented to the brace.
 */
function elementsBlock(elements: string[], perLine: number): string[] {
  if (elements.length === 0) return [];
  const lines: string[] = [];
  for (let i = 0; i < elements.length; i += perLine) lines.push(elements.slice(i, i + perLine).join(', '));
  return [`\t\telements = { ${lines.join(',\n\t\t\t     ')} }`];
}

function setBlock(kind: 'set' | 'map', name: string, type: string, comment: string, elements: string[], perLine: number): string {
  return [`\t${kind} ${name} {`, `\t\ttype ${type}`, `\t\tcomment "${comment}"`, ...elementsBlock(elements, perLine), '\t}'].join('\n');
}

function chainBlock(name: string, rules: string[]): string {
  return [`\tchain ${name} {`, ...rules.map((rule) => `\t\t${rule}`), '\t}'].join('\n');
}

function ipNumber(ip: string): number {
  const [a = 0, b = 0, c = 0, d = 0] = ip.split(/[./]/).map(Number);
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

export function renderNftablesMode(cluster: GeneratedCluster): string {
  const random: Random = createRandom(cluster.seed ^ 0x9f7);
  const clusterIPs: string[] = [];
  const serviceIPs: string[] = [];
  const serviceNodePorts: string[] = [];
  const noEndpointServices: string[] = [];
  const noEndpointNodePorts: string[] = [];
  const firewallIPs: string[] = [];
  const serviceChains: string[] = [];
  const pods = cluster.clusterCIDR;

  // kube-proxy walks its Service map in Go's random order; a seeded shuffle stands in for it.
  for (const service of random.shuffle([...cluster.services])) {
    const { protocol, port, id } = service;
    const base = chainBase(service);
    const serviceChain = hashedName('service', base);
    const localChain = hashedName('local', base);
    const externalChain = hashedName('external', base);
    const firewallChain = hashedName('firewall', base);
    const localPolicy = service.externalTrafficPolicy === 'Local';
    const localEndpoints = service.endpoints.filter((endpoint) => endpoint.local);
    const hasEndpoints = service.endpoints.length > 0;
    const hasExternalEndpoints = hasEndpoints && (!localPolicy || localEndpoints.length > 0);
    const externalTargets = [...service.externalIPs, ...service.loadBalancerIPs];
    const externallyAccessible = service.nodePort !== null || externalTargets.length > 0;
    const usesFirewall = hasEndpoints && service.loadBalancerIPs.length > 0 && service.loadBalancerSourceRanges.length > 0;
    const key = (ip: string): string => `${ip} . ${protocol} . ${port}`;
    const noEndpointVerdict = hasEndpoints ? 'drop' : 'goto reject-chain';

    clusterIPs.push(service.clusterIP);
    if (hasEndpoints) serviceIPs.push(`${key(service.clusterIP)} : goto ${serviceChain}`);
    else noEndpointServices.push(`${key(service.clusterIP)} comment "${id}" : goto reject-chain`);
    for (const ip of externalTargets) {
      if (hasEndpoints) serviceIPs.push(`${key(ip)} : goto ${externalChain}`);
      if (!hasExternalEndpoints) noEndpointServices.push(`${key(ip)} comment "${id}" : ${noEndpointVerdict}`);
    }
    if (usesFirewall) for (const ip of service.loadBalancerIPs) firewallIPs.push(`${key(ip)} : goto ${firewallChain}`);
    if (service.nodePort !== null) {
      if (hasEndpoints) serviceNodePorts.push(`${protocol} . ${service.nodePort} : goto ${externalChain}`);
      if (!hasExternalEndpoints) noEndpointNodePorts.push(`${protocol} . ${service.nodePort} comment "${id}" : ${noEndpointVerdict}`);
    }
    if (!hasEndpoints) continue;

    const dispatch = (endpoints: GeneratedServicePort['endpoints']): string =>
      `numgen random mod ${endpoints.length} vmap { ${endpoints.map((e, i) => `${i} : goto ${endpointChain(service, e.ip, e.port)}`).join(', ')} }`;
    for (const endpoint of service.endpoints) {
      serviceChains.push(
        chainBlock(endpointChain(service, endpoint.ip, endpoint.port), [
          `ip saddr ${endpoint.ip} jump mark-for-masquerade`,
          `meta l4proto ${protocol} dnat to ${endpoint.ip}:${endpoint.port}`,
        ]),
      );
    }
    serviceChains.push(
      chainBlock(serviceChain, [
        `ip daddr ${service.clusterIP} ${protocol} dport ${port} ip saddr != ${pods} jump mark-for-masquerade`,
        dispatch(service.endpoints),
      ]),
    );
    if (localPolicy && localEndpoints.length > 0) serviceChains.push(chainBlock(localChain, [dispatch(localEndpoints)]));
    if (externallyAccessible) {
      const rules = localPolicy
        ? [
            `ip saddr ${pods} goto ${serviceChain} comment "short-circuit pod traffic"`,
            'fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"',
            `fib saddr type local goto ${serviceChain} comment "short-circuit local traffic"`,
            ...(localEndpoints.length > 0 ? [`goto ${localChain}`] : []),
          ]
        : ['jump mark-for-masquerade', `goto ${serviceChain}`];
      serviceChains.push(chainBlock(externalChain, rules));
    }
    if (usesFirewall) {
      const ranges = [...service.loadBalancerSourceRanges].sort((a, b) => ipNumber(a) - ipNumber(b));
      serviceChains.push(chainBlock(firewallChain, [`ip saddr != { ${ranges.join(', ')} } drop`]));
    }
  }

  const concat = 'ipv4_addr . inet_proto . inet_service : verdict';
  const blocks = [
    setBlock('set', 'cluster-ips', 'ipv4_addr', 'Active ClusterIPs', [...new Set(clusterIPs)].sort((a, b) => ipNumber(a) - ipNumber(b)), 2),
    setBlock('set', 'nodeport-ips', 'ipv4_addr', 'IPs that accept NodePort traffic', [cluster.node.ip], 2),
    setBlock('map', 'no-endpoint-services', concat, 'vmap to drop or reject packets to services with no endpoints', random.shuffle(noEndpointServices), 1),
    setBlock('map', 'no-endpoint-nodeports', 'inet_proto . inet_service : verdict', 'vmap to drop or reject packets to service nodeports with no endpoints', random.shuffle(noEndpointNodePorts), 1),
    setBlock('map', 'firewall-ips', concat, 'destinations that are subject to LoadBalancerSourceRanges', random.shuffle(firewallIPs), 1),
    setBlock('map', 'service-ips', concat, 'ClusterIP, ExternalIP and LoadBalancer IP traffic', random.shuffle(serviceIPs), 1),
    setBlock('map', 'service-nodeports', 'inet_proto . inet_service : verdict', 'NodePort traffic', random.shuffle(serviceNodePorts), 1),
    chainBlock('filter-prerouting', ['type filter hook prerouting priority dstnat - 10; policy accept;', 'ct state new jump firewall-check']),
    chainBlock('filter-input', [
      'type filter hook input priority -110; policy accept;',
      'ct state new jump nodeport-endpoints-check',
      'ct state new jump service-endpoints-check',
    ]),
    chainBlock('filter-forward', [
      'type filter hook forward priority -110; policy accept;',
      'ct state new jump service-endpoints-check',
      'ct state new jump cluster-ips-check',
    ]),
    chainBlock('filter-output', [
      'type filter hook output priority -110; policy accept;',
      'ct state new jump service-endpoints-check',
      'ct state new jump firewall-check',
    ]),
    chainBlock('filter-output-post-dnat', ['type filter hook output priority -90; policy accept;', 'ct state new jump cluster-ips-check']),
    chainBlock('nat-prerouting', ['type nat hook prerouting priority dstnat; policy accept;', 'jump services']),
    chainBlock('nat-output', ['type nat hook output priority -100; policy accept;', 'jump services']),
    chainBlock('nat-postrouting', ['type nat hook postrouting priority srcnat; policy accept;', 'jump masquerading']),
    chainBlock('nodeport-endpoints-check', ['ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports']),
    chainBlock('service-endpoints-check', ['ip daddr . meta l4proto . th dport vmap @no-endpoint-services']),
    chainBlock('firewall-check', ['ip daddr . meta l4proto . th dport vmap @firewall-ips']),
    chainBlock('services', [
      'ip daddr . meta l4proto . th dport vmap @service-ips',
      'ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports',
    ]),
    chainBlock('masquerading', [
      'meta mark & 0x00004000 == 0x00000000 return',
      'meta mark set meta mark ^ 0x00004000',
      'masquerade fully-random',
    ]),
    chainBlock('cluster-ips-check', [
      'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
      `ip daddr ${cluster.serviceCIDR} drop comment "Drop traffic to unallocated ClusterIPs"`,
    ]),
    chainBlock('mark-for-masquerade', ['meta mark set meta mark | 0x00004000']),
    chainBlock('reject-chain', ['comment "helper for @no-endpoint-services / @no-endpoint-nodeports"', 'reject']),
    ...serviceChains,
  ];
  return `table ip kube-proxy {\n\tcomment "rules for kube-proxy"\n${blocks.join('\n\n')}\n}\n`;
}
