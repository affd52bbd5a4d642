/**
 * The cluster a generated snapshot describes: one node, its addresses, and the Service ports kube-proxy
 * programs on it, with their endpoints. This is the mode-independent model; the writers for iptables and
 * IPVS mode turn it into the files a real node would hold. Everything is derived from the seed.
 */

import { createRandom, type Random } from './random';
import { servicePortName } from './chainNames';

export type ServiceProtocol = 'tcp' | 'udp';

export interface GeneratedEndpoint {
  ip: string;
  port: number;
  /** True when the pod runs on the generated node (its IP is in the node's pod CIDR). */
  local: boolean;
}

export interface GeneratedServicePort {
  namespace: string;
  name: string;
  portName: string;
  /** `ns/name:port` (or `ns/name` without a port name), as kube-proxy writes it. */
  id: string;
  protocol: ServiceProtocol;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  clusterIP: string;
  port: number;
  nodePort: number | null;
  healthCheckNodePort: number | null;
  externalIPs: string[];
  loadBalancerIPs: string[];
  loadBalancerSourceRanges: string[];
  externalTrafficPolicy: 'Cluster' | 'Local';
  /** ClientIP session affinity timeout, or null for no affinity. */
  affinitySeconds: number | null;
  endpoints: GeneratedEndpoint[];
}

export interface GeneratedNode {
  name: string;
  /** The node's own address on eth0. */
  ip: string;
  /** The node network, e.g. 10.10.0.0/16, for the broadcast route. */
  nodeNetworkPrefix: number;
  /** This node's pod CIDR (a /24 of the cluster CIDR). */
  podCIDR: string;
  /** The flannel.1 address (network address of the pod CIDR) and the cni0 bridge address. */
  flannelIP: string;
  bridgeIP: string;
}

export interface GeneratedCluster {
  seed: number;
  node: GeneratedNode;
  clusterCIDR: string;
  serviceCIDR: string;
  services: GeneratedServicePort[];
  totalEndpoints: number;
}

export interface ClusterOptions {
  /** Number of Service ports (kube-proxy's unit: one KUBE-SVC chain each). */
  services: number;
  /** Endpoints of each Service port that has endpoints. */
  endpoints: number;
  seed: number;
}

/** Shares of the generated Service mix, chosen to look like a large multi-tenant cluster. */
export const SERVICE_MIX = {
  noEndpoints: 0.03,
  nodePort: 0.22,
  loadBalancer: 0.08,
  externalTrafficLocal: 0.3,
  externalIP: 0.01,
  sourceRanges: 0.2,
  clientIPAffinity: 0.02,
  udp: 0.1,
} as const;

const NODE_INDEX = 7;
const NAMESPACE_WORDS = [
  'payments', 'checkout', 'catalog', 'search', 'identity', 'billing', 'ledger', 'orders', 'inventory', 'shipping',
  'analytics', 'reporting', 'notifications', 'gateway', 'media', 'recommend', 'fraud', 'pricing', 'support', 'auth',
];
const NAME_WORDS = [
  'api', 'web', 'worker', 'cache', 'db', 'queue', 'grpc', 'frontend', 'backend', 'proxy', 'indexer', 'scheduler',
  'exporter', 'collector', 'store', 'broker', 'router', 'sync', 'render', 'batch',
];
const PORT_CHOICES: readonly { name: string; port: number; targetPort: number }[] = [
  { name: 'http', port: 80, targetPort: 8080 },
  { name: 'https', port: 443, targetPort: 8443 },
  { name: 'grpc', port: 9090, targetPort: 9090 },
  { name: 'metrics', port: 9100, targetPort: 9100 },
  { name: '', port: 8080, targetPort: 8080 },
  { name: 'web', port: 3000, targetPort: 3000 },
  { name: 'redis', port: 6379, targetPort: 6379 },
  { name: 'postgres', port: 5432, targetPort: 5432 },
];

function ipv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Draws unique addresses from base + [low, high] so no two Services share a ClusterIP or LB IP. */
function addressPool(random: Random, base: number, low: number, high: number, taken: Set<number>): () => string {
  return () => {
    for (;;) {
      const n = (base + random.int(low, high)) >>> 0;
      const host = n & 255;
      if (host === 0 || host === 255 || taken.has(n)) continue;
      taken.add(n);
      return ipv4(n);
    }
  };
}

export function generateCluster(options: ClusterOptions): GeneratedCluster {
  const random = createRandom(options.seed);
  const perService = Math.max(0, Math.floor(options.endpoints));
  const count = Math.max(0, Math.floor(options.services));
  // About 110 pods per node, as kubelet allows by default, between 3 and 250 nodes in a 10.244.0.0/16.
  const nodeCount = Math.min(250, Math.max(3, Math.ceil((count * perService) / 110)));
  const node: GeneratedNode = {
    name: `node-${String(NODE_INDEX).padStart(3, '0')}`,
    ip: `10.10.0.${10 + NODE_INDEX}`,
    nodeNetworkPrefix: 16,
    podCIDR: `10.244.${NODE_INDEX}.0/24`,
    flannelIP: `10.244.${NODE_INDEX}.0`,
    bridgeIP: `10.244.${NODE_INDEX}.1`,
  };

  const takenServiceIPs = new Set<number>([0x0a600001, 0x0a60000a]);
  const serviceIP = addressPool(random, 0x0a600000, 16, 0xfffff, takenServiceIPs); // 10.96.0.0/12
  const loadBalancerIP = addressPool(random, 0xc6120000, 256, 0x1ffff, new Set()); // 198.18.0.0/15
  const externalIP = addressPool(random, 0x64400000, 256, 0x3fffff, new Set()); // 100.64.0.0/10
  const freeNodePorts = random.shuffle(Array.from({ length: 2768 }, (_, i) => 30000 + i));

  const podIP = (nodeIndex: number, host: number): string => `10.244.${nodeIndex}.${host}`;
  const drawEndpoints = (n: number, targetPort: number, localCount: number): GeneratedEndpoint[] => {
    const chosen = new Set<string>();
    const endpoints: GeneratedEndpoint[] = [];
    while (endpoints.length < n) {
      const wantLocal = endpoints.length < localCount;
      let nodeIndex = random.int(0, nodeCount - 1);
      if (wantLocal) nodeIndex = NODE_INDEX;
      else if (nodeIndex === NODE_INDEX && localCount > 0) continue;
      const ip = podIP(nodeIndex, random.int(2, 254));
      if (chosen.has(ip)) continue;
      chosen.add(ip);
      endpoints.push({ ip, port: targetPort, local: nodeIndex === NODE_INDEX });
    }
    return random.shuffle(endpoints);
  };

  const services: GeneratedServicePort[] = [];
  const base = (namespace: string, name: string, portName: string, protocol: ServiceProtocol): GeneratedServicePort => ({
    namespace,
    name,
    portName,
    id: servicePortName(namespace, name, portName),
    protocol,
    type: 'ClusterIP',
    clusterIP: '',
    port: 0,
    nodePort: null,
    healthCheckNodePort: null,
    externalIPs: [],
    loadBalancerIPs: [],
    loadBalancerSourceRanges: [],
    externalTrafficPolicy: 'Cluster',
    affinitySeconds: null,
    endpoints: [],
  });

  // Every cluster has the API server and DNS; they come first so small snapshots still contain them.
  const fixed: GeneratedServicePort[] = [];
  const apiServer = base('default', 'kubernetes', 'https', 'tcp');
  apiServer.clusterIP = '10.96.0.1';
  apiServer.port = 443;
  apiServer.endpoints = Array.from({ length: Math.min(3, perService) }, (_, i) => ({
    ip: `10.10.0.${10 + i}`,
    port: 6443,
    local: 10 + i === 10 + NODE_INDEX,
  }));
  fixed.push(apiServer);
  const dnsEndpoints = drawEndpoints(Math.min(2, perService), 53, 0);
  for (const [portName, protocol, port] of [['dns', 'udp', 53], ['dns-tcp', 'tcp', 53], ['metrics', 'tcp', 9153]] as const) {
    const dns = base('kube-system', 'kube-dns', portName, protocol);
    dns.clusterIP = '10.96.0.10';
    dns.port = port;
    dns.endpoints = dnsEndpoints.map((endpoint) => ({ ...endpoint, port }));
    fixed.push(dns);
  }
  services.push(...fixed.slice(0, count));

  for (let i = services.length; i < count; i++) {
    const namespace = `${random.pick(NAMESPACE_WORDS)}-${random.int(1, 40)}`;
    const name = `${random.pick(NAME_WORDS)}-${random.pick(NAME_WORDS)}-${i.toString(36)}`;
    const choice = random.pick(PORT_CHOICES);
    const protocol: ServiceProtocol = random.chance(SERVICE_MIX.udp) ? 'udp' : 'tcp';
    const service = base(namespace, name, choice.name, protocol);
    service.clusterIP = serviceIP();
    service.port = choice.port;

    const roll = random.next();
    if (roll < SERVICE_MIX.loadBalancer) service.type = 'LoadBalancer';
    else if (roll < SERVICE_MIX.loadBalancer + SERVICE_MIX.nodePort) service.type = 'NodePort';
    if (service.type !== 'ClusterIP') {
      const nodePort = freeNodePorts.pop();
      if (nodePort === undefined) service.type = 'ClusterIP';
      else service.nodePort = nodePort;
    }
    if (service.type !== 'ClusterIP' && random.chance(SERVICE_MIX.externalTrafficLocal)) {
      service.externalTrafficPolicy = 'Local';
      if (service.type === 'LoadBalancer') service.healthCheckNodePort = freeNodePorts.pop() ?? null;
    }
    if (service.type === 'LoadBalancer') {
      service.loadBalancerIPs.push(loadBalancerIP());
      if (random.chance(SERVICE_MIX.sourceRanges)) {
        service.loadBalancerSourceRanges.push(`203.0.113.${random.int(0, 1) * 128}/25`, `192.0.2.0/24`);
      }
    }
    if (random.chance(SERVICE_MIX.externalIP)) service.externalIPs.push(externalIP());
    if (random.chance(SERVICE_MIX.clientIPAffinity)) service.affinitySeconds = 10800;

    if (!random.chance(SERVICE_MIX.noEndpoints)) {
      // Half of the externalTrafficPolicy=Local Services have one or two pods on this node.
      const localCount = service.externalTrafficPolicy === 'Local' && random.chance(0.5) ? Math.min(perService, random.int(1, 2)) : 0;
      service.endpoints = drawEndpoints(perService, choice.targetPort, localCount);
    }
    services.push(service);
  }

  const totalEndpoints = services.reduce((sum, service) => sum + service.endpoints.length, 0);
  return { seed: options.seed, node, clusterCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12', services, totalEndpoints };
}
