/**
 * Finds the Services of a ServiceTree that a chain name, a virtual server address or an endpoint belongs to,
 * and summarises one Service in Markdown. Shared by the iptables, IPVS, ipset, route and nft explanations.
 * Every lookup goes through an index built once per tree, never a scan of 10,000 Services per hover; chains
 * use the tree's own ServiceIndex, which finds a chain's Service without expanding every Service's details.
 */

import { ipvsServicesWithEndpointAddress } from '../services/ipvsServiceTree';
import { serviceIndexOf } from '../services/serviceIndex';
import type { ServiceInfo, ServiceTree } from '../services/model';
import { escapeMarkdown, formatShare, inlineCode } from './markdown';

/** Services by a key, in tree order, each Service at most once per key. */
type ServicesByKey = Map<string, ServiceInfo[]>;

const byAddress = new WeakMap<ServiceTree, ServicesByKey>();

/** The endpoint index of a tree, filled Service by Service; `next` is the first Service not read yet. */
interface EndpointIndexBuild {
  index: ServicesByKey;
  next: number;
}

const byEndpoint = new WeakMap<ServiceTree, EndpointIndexBuild>();

function remember(map: ServicesByKey, key: string, service: ServiceInfo): void {
  const list = map.get(key);
  if (!list) map.set(key, [service]);
  else if (list[list.length - 1] !== service) list.push(service);
}

/** ClusterIP, external and load-balancer IP → Services; these fields are cheap to read in every mode. */
function addressIndex(tree: ServiceTree): ServicesByKey {
  let index = byAddress.get(tree);
  if (!index) {
    index = new Map();
    for (const service of tree.services) {
      if (service.clusterIP) remember(index, service.clusterIP.ip, service);
      for (const address of service.externalIPs) remember(index, address.ip, service);
      for (const address of service.loadBalancerIPs) remember(index, address.ip, service);
    }
    byAddress.set(tree, index);
  }
  return index;
}

/**
 * Reads about `budget` more Services into the endpoint index (endpoint IP → Services); true once every Service is
 * in. It reads each Service's endpoints, which the iptables and IPVS trees compute only when asked (about 0.2 ms a
 * Service on a big node), so it is built in slices ahead of time or on the first question about an endpoint.
 */
function advanceEndpointIndex(tree: ServiceTree, budget: number): EndpointIndexBuild {
  let build = byEndpoint.get(tree);
  if (!build) byEndpoint.set(tree, (build = { index: new Map(), next: 0 }));
  const services = tree.services;
  const end = Math.min(services.length, build.next + budget);
  for (; build.next < end; build.next++) {
    const service = services[build.next]!;
    for (const endpoint of service.endpoints) remember(build.index, endpoint.ip, service);
  }
  return build;
}

/**
 * Reads about `budget` more Services into the endpoint lookup, so a first IPVS or nftables endpoint hover does not
 * pay for all; true when done. An IPVS tree answers from its real servers instead (built at once, in about 80 ms
 * on 10,000 Services, without computing any Service's details).
 */
export function prepareEndpointLookup(tree: ServiceTree, budget = Infinity): boolean {
  if (ipvsServicesWithEndpointAddress(tree, '') !== undefined) return true;
  return advanceEndpointIndex(tree, budget).next >= tree.services.length;
}

/**
 * Builds the tree's chain lookup now, so a first hover does not pay for it: the ServiceIndex builds its chain
 * map on the first lookup of a per-Service chain, so `chain` should name one (any chain of the snapshot's
 * KUBE-SVC-/KUBE-SEP- kind; the answer is not used).
 */
export function prepareChainLookup(tree: ServiceTree, chain: string): void {
  serviceIndexOf(tree).byChain(chain);
}

/** Builds the address lookup now, so a first route or ipset hover does not pay for it. */
export function prepareAddressLookup(tree: ServiceTree): void {
  addressIndex(tree);
}

/** The Service whose path or endpoints name this chain (KUBE-SVC-…, KUBE-EXT-…, KUBE-SEP-…, …), as a list. */
export function servicesOfChain(services: ServiceTree | undefined, chain: string): ServiceInfo[] {
  const owner = services ? serviceIndexOf(services).byChain(chain) : undefined;
  return owner ? [owner] : [];
}

/** Services reachable at ip:port as ClusterIP, external IP, load-balancer IP, or (any local ip) NodePort. */
export function servicesAtAddress(services: ServiceTree | undefined, ip: string, port: number | undefined): ServiceInfo[] {
  if (!services) return [];
  const same = (address: { ip: string; port: number }) => address.ip === ip && (port === undefined || address.port === port);
  return (addressIndex(services).get(ip) ?? []).filter(
    (service) =>
      (service.clusterIP !== null && same(service.clusterIP)) ||
      service.externalIPs.some(same) ||
      service.loadBalancerIPs.some(same),
  );
}

/** Services that have ip (and port, when given) among their endpoints. */
export function servicesWithEndpoint(services: ServiceTree | undefined, ip: string, port?: number): ServiceInfo[] {
  if (!services) return [];
  const candidates = ipvsServicesWithEndpointAddress(services, ip) ?? advanceEndpointIndex(services, Infinity).index.get(ip) ?? [];
  return candidates.filter((service) =>
    service.endpoints.some((endpoint) => endpoint.ip === ip && (port === undefined || endpoint.port === port)),
  );
}

/** How to reach a Service, in one line: ClusterIP, NodePort, external and load-balancer IPs. */
export function serviceAddresses(service: ServiceInfo): string {
  const parts: string[] = [];
  if (service.clusterIP) parts.push(`ClusterIP ${service.clusterIP.ip}:${service.clusterIP.port}`);
  if (service.nodePort !== null) parts.push(`NodePort ${service.nodePort}`);
  for (const address of service.externalIPs) parts.push(`external IP ${address.ip}:${address.port}`);
  for (const address of service.loadBalancerIPs) parts.push(`load balancer ${address.ip}:${address.port}`);
  return parts.join(' · ');
}

/** A Markdown block for one Service: name, addresses, endpoints with their shares, warnings. */
export function describeService(service: ServiceInfo, maxEndpoints = 20): string {
  const lines = [`Service **${escapeMarkdown(service.id)}** (${service.protocol})`];
  const addresses = serviceAddresses(service);
  if (addresses) lines.push('', escapeMarkdown(addresses));
  if (service.endpoints.length === 0) {
    lines.push('', 'has no endpoints: kube-proxy rejects its packets.');
  } else {
    lines.push('', `${service.endpoints.length} endpoint${service.endpoints.length === 1 ? '' : 's'}:`);
    for (const endpoint of service.endpoints.slice(0, maxEndpoints)) {
      const chain = endpoint.chain ? ` via ${inlineCode(endpoint.chain)}` : '';
      const local = endpoint.local ? ' (on this node)' : '';
      lines.push(`- ${escapeMarkdown(`${endpoint.ip}:${endpoint.port}`)} gets ${formatShare(endpoint.share)} of new connections${chain}${local}`);
    }
    if (service.endpoints.length > maxEndpoints) lines.push(`- … and ${service.endpoints.length - maxEndpoints} more`);
  }
  for (const warning of service.warnings) lines.push('', `⚠ ${escapeMarkdown(warning)}`);
  return lines.join('\n');
}
