/**
 * Finds the Services of a ServiceTree that a chain name, a virtual server address or an endpoint belongs to,
 * and summarises one Service in Markdown. Shared by the iptables, IPVS, ipset and route explanations.
 */

import type { PathNode, ServiceInfo, ServiceTree } from '../services/model';
import { escapeMarkdown, formatShare, inlineCode } from './markdown';

function pathHasChain(nodes: PathNode[], chain: string, depth = 0): boolean {
  if (depth > 64) return false;
  return nodes.some((node) => node.label === chain || pathHasChain(node.children, chain, depth + 1));
}

/** Services whose path or endpoints name this chain (KUBE-SVC-…, KUBE-EXT-…, KUBE-SEP-…, …). */
export function servicesOfChain(services: ServiceTree | undefined, chain: string): ServiceInfo[] {
  if (!services) return [];
  return services.services.filter(
    (service) => service.endpoints.some((endpoint) => endpoint.chain === chain) || pathHasChain(service.path, chain),
  );
}

/** Services reachable at ip:port as ClusterIP, external IP, load-balancer IP, or (any local ip) NodePort. */
export function servicesAtAddress(services: ServiceTree | undefined, ip: string, port: number | undefined): ServiceInfo[] {
  if (!services) return [];
  const same = (address: { ip: string; port: number }) => address.ip === ip && (port === undefined || address.port === port);
  return services.services.filter(
    (service) =>
      (service.clusterIP !== null && same(service.clusterIP)) ||
      service.externalIPs.some(same) ||
      service.loadBalancerIPs.some(same),
  );
}

/** Services that have ip (and port, when given) among their endpoints. */
export function servicesWithEndpoint(services: ServiceTree | undefined, ip: string, port?: number): ServiceInfo[] {
  if (!services) return [];
  return services.services.filter((service) =>
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
