/**
 * Default packets for "Trace This Service": which destination each port kind (ClusterIP, NodePort,
 * LoadBalancer, external IP) uses, and which source address stands for a pod on this node, a pod elsewhere,
 * the node itself and an outside client, all derived from the snapshot's rules and local routes.
 * Pure data in, data out: the quick picks that ask the user live in the command code.
 */

import type { Ruleset } from '../../core/iptables/model';
import type { RouteEntry } from '../../core/routes/localRoutes';
import type { ServiceInfo } from '../../core/services/model';
import type { Packet } from '../../core/trace/result';

export type PortKind = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalIP';
export type SourceKind = 'pod-here' | 'pod-elsewhere' | 'node' | 'outside';

export const SOURCE_LABELS: Record<SourceKind, string> = {
  'pod-here': 'A pod on this node',
  'pod-elsewhere': 'A pod on another node',
  node: 'The node itself',
  outside: 'A client outside the cluster',
};

/** What the defaults are derived from. */
export interface TraceSetting {
  routes: RouteEntry[];
  /** The pod CIDR found in kube-proxy's rules (clusterCidr), when there is one. */
  clusterCidr?: string;
  /** The address meta.json gives for the node, when present. */
  nodeAddress?: string;
  /** Address used for "outside client" (a documentation address by default). */
  outsideClient: string;
}

const VIRTUAL_DEVICES = /^(lo|kube-ipvs0|kube-bridge|nodelocaldns|dummy)/;
const POD_BRIDGES = /^(cni|cbr|docker|cilium_host|flannel|weave|vxlan|tunl|genev|kube-bridge)/;

function ipv4(ip: string): number[] | undefined {
  const parts = ip.split('.').map(Number);
  return parts.length === 4 && parts.every((part) => Number.isInteger(part) && part >= 0 && part <= 255) ? parts : undefined;
}

function withLastOctet(ip: string, last: number): string {
  const parts = ipv4(ip)!;
  return `${parts[0]}.${parts[1]}.${parts[2]}.${last}`;
}

/**
 * The routes the defaults read: all but kube-ipvs0's, which holds one address per Service in IPVS mode (10,000
 * entries on a big node) and is never a node or pod address.
 */
export function routesForDefaults(routes: RouteEntry[]): RouteEntry[] {
  return routes.filter((entry) => entry.device !== 'kube-ipvs0');
}

/** The node's own address: meta.json's, else the first local address on a real interface. */
export function nodeAddress(setting: TraceSetting): string | undefined {
  if (setting.nodeAddress && ipv4(setting.nodeAddress)) return setting.nodeAddress;
  const local = setting.routes.filter((entry) => entry.type === 'local' && !entry.prefix.includes('/') && ipv4(entry.prefix));
  const real = local.find((entry) => !VIRTUAL_DEVICES.test(entry.device ?? '') && !POD_BRIDGES.test(entry.device ?? ''));
  return real?.prefix;
}

/** The cluster (pod) CIDR kube-proxy writes in `! -s CIDR … -j KUBE-MARK-MASQ` rules of Service chains. */
export function clusterCidr(ruleset: Ruleset | undefined): string | undefined {
  const nat = ruleset?.tables.get('nat');
  if (!nat) return undefined;
  for (const chain of nat.chains.values()) {
    if (!chain.name.startsWith('KUBE-SVC-')) continue;
    for (const rule of chain.rules) {
      if (rule.target?.name === 'KUBE-MARK-MASQ' && rule.source?.negated) return rule.source.value;
    }
  }
  return undefined;
}

/** A source address for each source kind, where one can be derived. */
export function defaultSources(setting: TraceSetting, service?: ServiceInfo): Record<SourceKind, string | undefined> {
  const node = nodeAddress(setting);
  const bridge = setting.routes.find((entry) => entry.type === 'local' && POD_BRIDGES.test(entry.device ?? '') && ipv4(entry.prefix));
  const localEndpoint = service?.endpoints.find((endpoint) => endpoint.local && ipv4(endpoint.ip));
  // A pod on this node: an address in the pod bridge's subnet (not the bridge itself), or a local endpoint.
  const podHere = bridge ? withLastOctet(bridge.prefix, bridge.prefix.endsWith('.100') ? 101 : 100) : localEndpoint?.ip;
  // A pod elsewhere: inside the cluster CIDR but outside this node's bridge subnet.
  let podElsewhere: string | undefined;
  const cidr = setting.clusterCidr;
  const base = cidr ? ipv4(cidr.split('/')[0]!) : undefined;
  if (base) {
    const bridgeParts = bridge ? ipv4(bridge.prefix) : undefined;
    const third = bridgeParts && bridgeParts[2] === 200 ? 201 : 200;
    podElsewhere = `${base[0]}.${base[1]}.${third}.50`;
  }
  return { 'pod-here': podHere, 'pod-elsewhere': podElsewhere, node, outside: setting.outsideClient };
}

/** The port kinds a Service can be reached by. */
export function portKinds(service: ServiceInfo): PortKind[] {
  const kinds: PortKind[] = [];
  if (service.clusterIP) kinds.push('ClusterIP');
  if (service.nodePort !== null) kinds.push('NodePort');
  if (service.loadBalancerIPs.length > 0) kinds.push('LoadBalancer');
  if (service.externalIPs.length > 0) kinds.push('ExternalIP');
  return kinds;
}

/** The destination a port kind uses, or undefined when the Service (or the node address) lacks it. */
export function destinationFor(service: ServiceInfo, kind: PortKind, setting: TraceSetting): { ip: string; port: number } | undefined {
  switch (kind) {
    case 'ClusterIP':
      return service.clusterIP ?? undefined;
    case 'NodePort': {
      const node = nodeAddress(setting);
      return node && service.nodePort !== null ? { ip: node, port: service.nodePort } : undefined;
    }
    case 'LoadBalancer':
      return service.loadBalancerIPs[0];
    case 'ExternalIP':
      return service.externalIPs[0];
  }
}

/** The packet for a Service, port kind and source kind; source port is an ordinary ephemeral port. */
export function defaultPacket(service: ServiceInfo, kind: PortKind, source: SourceKind, setting: TraceSetting): Packet | undefined {
  const destination = destinationFor(service, kind, setting);
  const src = defaultSources(setting, service)[source];
  if (!destination || !src) return undefined;
  return { src, dst: destination.ip, proto: service.protocol, sport: 40000, dport: destination.port };
}
