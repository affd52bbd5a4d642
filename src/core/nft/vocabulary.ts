/**
 * kube-proxy's nftables vocabulary (pkg/proxy/nftables/proxier.go): the table, its base chains, helper
 * chains, maps and sets, and the per-Service chain names `service-HASH-ns/name/proto/port` and friends,
 * each with a one-sentence explanation. Base chains of both layouts are here: 1.30–1.33 (filter-prerouting,
 * filter-output-post-dnat) and 1.34 and later (filter-prerouting-pre-dnat, filter-output-pre-dnat). The tree, the tracer, hovers and the CLI read names through this module only.
 */

/** kube-proxy's table name; it exists as `ip kube-proxy` and `ip6 kube-proxy`. */
export const KUBE_PROXY_TABLE = 'kube-proxy';

/** The masquerade mark kube-proxy uses by default (`--masquerade-bit 14`). */
export const DEFAULT_MASQUERADE_MARK = 0x4000;

export function isKubeProxyTable(table: { family: string; name: string }): boolean {
  return table.name === KUBE_PROXY_TABLE && (table.family === 'ip' || table.family === 'ip6');
}

/** Base chains: hooked into netfilter; named `${type}-${hook}`. */
export const NFT_BASE_CHAINS: Readonly<Record<string, string>> = {
  'filter-prerouting':
    'Base filter chain at prerouting, before DNAT (priority dstnat - 10; kube-proxy 1.30–1.33): sends new connections to firewall-check so LoadBalancer source ranges see the original destination.',
  'filter-prerouting-pre-dnat':
    'Base filter chain at prerouting before DNAT (priority dstnat - 10; kube-proxy 1.34 and later): new connections go to firewall-check so LoadBalancer source ranges see the original destination.',
  'filter-input':
    'Base filter chain at input: new connections to this node are checked against Services and NodePorts that have no endpoints.',
  'filter-forward':
    'Base filter chain at forward: new forwarded connections are checked for Services without endpoints and for unused ClusterIPs.',
  'filter-output':
    'Base filter chain at output: new connections from the node are checked for Services without endpoints (before DNAT up to 1.33, also for source ranges; after DNAT from 1.34, also for unused ClusterIPs).',
  'filter-output-pre-dnat':
    'Base filter chain at output before DNAT (priority -110; kube-proxy 1.34 and later): new connections from the node go to firewall-check.',
  'filter-output-post-dnat':
    'Base filter chain at output after DNAT (priority dstnat + 10; kube-proxy 1.30–1.33): new connections from the node to unused ClusterIPs or ports are refused here.',
  'nat-prerouting': 'Base nat chain at prerouting (priority dstnat): incoming first packets jump to the services dispatch chain.',
  'nat-output': 'Base nat chain at output (priority dstnat): first packets sent by the node jump to the services dispatch chain.',
  'nat-postrouting': 'Base nat chain at postrouting (priority srcnat): jumps to masquerading, which rewrites the source of marked packets.',
};

/** Regular chains kube-proxy creates once, jumped to from the base chains. */
export const NFT_HELPER_CHAINS: Readonly<Record<string, string>> = {
  services:
    'Service dispatch: looks up destination . protocol . port in the service-ips map, then NodePorts in service-nodeports, and jumps to the Service chain found.',
  masquerading: 'Masquerades packets that carry the masquerade mark (0x4000), clearing the mark first.',
  'mark-for-masquerade': 'Sets the masquerade bit (0x4000) in the packet mark, so nat-postrouting rewrites the source to the node address.',
  'firewall-check': 'Looks up LoadBalancer destinations with source ranges in the firewall-ips map and sends them to their firewall chain.',
  'service-endpoints-check': 'Looks up the destination in no-endpoint-services: Services without endpoints are rejected or dropped here.',
  'nodeport-endpoints-check': 'Looks up NodePorts in no-endpoint-nodeports: NodePorts of Services without endpoints are rejected or dropped here.',
  'cluster-ips-check':
    'Rejects traffic to active ClusterIPs on ports no Service uses, and drops traffic to unallocated addresses of the service CIDR.',
  'reject-chain': 'Helper for the no-endpoint maps: rejects the packet (ICMP port unreachable or TCP reset).',
};

/** Maps and sets kube-proxy creates once. */
export const NFT_MAPS_AND_SETS: Readonly<Record<string, string>> = {
  'service-ips': 'Verdict map of ClusterIP, externalIP and LoadBalancer IP . protocol . port to the Service chain that handles it.',
  'service-nodeports': 'Verdict map of protocol . NodePort to the Service\'s external chain.',
  'no-endpoint-services': 'Verdict map of Service IP . protocol . port with no usable endpoints to reject (goto reject-chain) or drop.',
  'no-endpoint-nodeports': 'Verdict map of protocol . NodePort with no usable endpoints to reject (goto reject-chain) or drop.',
  'firewall-ips': 'Verdict map of LoadBalancer IP . protocol . port with loadBalancerSourceRanges to the Service\'s firewall chain.',
  'cluster-ips': 'Set of the active ClusterIPs; used to reject traffic to ports no Service defines.',
  'nodeport-ips': 'Set of node addresses that accept NodePort traffic (--nodeport-addresses).',
};

export type ServiceChainKind = 'service' | 'local' | 'external' | 'firewall' | 'endpoint' | 'affinity';

/** What a per-Service chain or set name says about itself. */
export interface ServiceChainName {
  kind: ServiceChainKind;
  hash: string;
  namespace: string;
  name: string;
  protocol: string;
  portName: string;
  /** `ns/name:port` (or `ns/name` when the port has no name), as kube-proxy prints it. */
  servicePortName: string;
  /** For endpoint chains and affinity sets: the endpoint; IPv6 addresses get their colons back. */
  endpoint?: { ip: string; port: number };
}

const SERVICE_CHAIN = /^(service|local|external|firewall|endpoint|affinity)-([A-Z2-7]{8})-([^/]+)\/([^/]+)\/([a-z]+)\/([^/_]*)(?:__(.+)\/(\d+))?$/;

/** Reads `service-ULMVA6XW-ns1/svc1/tcp/p80` or `endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80`. */
export function parseServiceChainName(chain: string): ServiceChainName | undefined {
  const match = SERVICE_CHAIN.exec(chain);
  if (!match) return undefined;
  const [, kind, hash, namespace, name, protocol, portName, endpointIP, endpointPort] = match;
  if ((kind === 'endpoint' || kind === 'affinity') !== (endpointIP !== undefined)) return undefined;
  const parsed: ServiceChainName = {
    kind: kind as ServiceChainKind,
    hash,
    namespace,
    name,
    protocol,
    portName,
    servicePortName: portName ? `${namespace}/${name}:${portName}` : `${namespace}/${name}`,
  };
  if (endpointIP !== undefined) {
    // kube-proxy writes IPv6 endpoint addresses with dots for colons: fd00.10.180..1 is fd00:10:180::1.
    const ip = /^\d+\.\d+\.\d+\.\d+$/.test(endpointIP) ? endpointIP : endpointIP.replaceAll('.', ':');
    parsed.endpoint = { ip, port: Number(endpointPort) };
  }
  return parsed;
}

/** One sentence about a kube-proxy chain, map or set name, or undefined for names kube-proxy does not use. */
export function explainNftName(name: string): string | undefined {
  const fixed = NFT_BASE_CHAINS[name] ?? NFT_HELPER_CHAINS[name] ?? NFT_MAPS_AND_SETS[name];
  if (fixed) return fixed;
  const parsed = parseServiceChainName(name);
  if (!parsed) return undefined;
  const service = parsed.servicePortName;
  switch (parsed.kind) {
    case 'service':
      return `Cluster-policy chain of Service ${service} (${parsed.protocol}): marks off-cluster sources for masquerade and picks one of all endpoints at random.`;
    case 'local':
      return `Local-policy chain of Service ${service} (${parsed.protocol}): picks one of the endpoints on this node only (externalTrafficPolicy or internalTrafficPolicy Local).`;
    case 'external':
      return `External chain of Service ${service} (${parsed.protocol}): handles NodePort, externalIP and LoadBalancer traffic, masquerading it unless the traffic policy is Local.`;
    case 'firewall':
      return `Firewall chain of Service ${service} (${parsed.protocol}): drops LoadBalancer traffic from sources outside loadBalancerSourceRanges.`;
    case 'endpoint':
      return `Endpoint chain of Service ${service}: DNATs to ${parsed.endpoint!.ip}:${parsed.endpoint!.port}, marking hairpin traffic (from the endpoint itself) for masquerade.`;
    case 'affinity':
      return `Session-affinity set of Service ${service} for endpoint ${parsed.endpoint!.ip}:${parsed.endpoint!.port}: client addresses that stick to this endpoint until the timeout.`;
  }
}
