/**
 * Lookups over a Service tree, built once per tree: which Service a chain belongs to, and which Service an
 * address and port (or a NodePort) reaches. The tracer and hovers ask these per packet or per token, so they
 * must not scan thousands of Services each time.
 */

import type { Protocol } from '../trace/result';
import type { ServiceInfo, ServiceTree } from './model';

export interface ServiceIndex {
  byChain(chain: string): ServiceInfo | undefined;
  byAddress(proto: Protocol, ip: string, port: number): ServiceInfo | undefined;
  byNodePort(proto: Protocol, port: number): ServiceInfo | undefined;
}

const indexes = new WeakMap<ServiceTree, ServiceIndex>();

export function serviceIndexOf(tree: ServiceTree): ServiceIndex {
  let index = indexes.get(tree);
  if (!index) {
    index = buildIndex(tree.services, tree.chainOwner);
    indexes.set(tree, index);
  }
  return index;
}

function buildIndex(services: ServiceInfo[], chainOwner: ServiceTree['chainOwner']): ServiceIndex {
  let chains: Map<string, ServiceInfo> | undefined;
  const addresses = new Map<string, ServiceInfo>();
  const nodePorts = new Map<string, ServiceInfo>();
  for (const service of services) {
    const entries = [service.clusterIP, ...service.externalIPs, ...service.loadBalancerIPs];
    for (const entry of entries) if (entry) remember(addresses, `${service.protocol} ${entry.ip} ${entry.port}`, service);
    if (service.nodePort !== null) remember(nodePorts, `${service.protocol} ${service.nodePort}`, service);
  }
  return {
    byChain: (chain) => (chainOwner ? chainOwner(chain) : (chains ??= chainOwnersFromPaths(services)).get(chain)),
    byAddress: (proto, ip, port) => addresses.get(`${proto} ${ip} ${port}`),
    byNodePort: (proto, port) => nodePorts.get(`${proto} ${port}`),
  };
}

/** The chain map of a tree whose Services carry their paths already (IPVS and nftables modes). */
function chainOwnersFromPaths(services: ServiceInfo[]): Map<string, ServiceInfo> {
  const chains = new Map<string, ServiceInfo>();
  for (const service of services) {
    for (const node of service.path) {
      remember(chains, node.label, service);
      for (const child of node.children) if (child.kind !== 'endpoint-chain') remember(chains, child.label, service);
    }
    for (const endpoint of service.endpoints) if (endpoint.chain) remember(chains, endpoint.chain, service);
  }
  return chains;
}

/** The first Service to claim a key keeps it. */
function remember(map: Map<string, ServiceInfo>, key: string, service: ServiceInfo): void {
  if (!map.has(key)) map.set(key, service);
}
