/**
 * Rebuilds the Service tree from kube-proxy's nftables table (`ip kube-proxy`, `ip6 kube-proxy`): the maps
 * service-ips, service-nodeports, firewall-ips and the no-endpoint maps say which addresses and ports belong
 * to which Service (the tree's first level, built at once); the per-Service chains give endpoints, their shares
 * and the traffic policies, read the first time a Service's details are (lazyService). Same shape as the
 * iptables and IPVS builders. Packet tracing is elsewhere (src/core/nft/traceNft.ts).
 */

import type { LocalRoutes } from '../routes/localRoutes';
import type { Protocol } from '../trace/result';
import { chainsByName, tableLabel, type NftChain, type NftRuleset, type NftSet, type NftSetElement, type NftTable } from '../nft/model';
import { isKubeProxyTable, parseServiceChainName, type ServiceChainName } from '../nft/vocabulary';
import { emptyService } from './emptyService';
import { lazyService } from './lazyService';
import { sortByService } from './serviceOrder';
import type { EndpointInfo, PathNode, ServiceInfo, ServiceTree, SourceRef } from './model';

const NFT_FILE = 'nft.txt';
const PROTOCOLS = new Set<Protocol>(['tcp', 'udp', 'sctp']);

/** Per table: chains and sets by name. */
interface TableIndex {
  table: NftTable;
  /** The chain with this name. */
  chain(name: string): NftChain | undefined;
  sets: Map<string, NftSet>;
  clusterIPs: Set<string>;
  firewallIPs: Set<string>;
  /** Per-Service chains and affinity sets, keyed by `ns/name:port/protocol`. */
  byService: Map<string, ServiceChains>;
}

function serviceKey(servicePortName: string, protocol: string): string {
  return `${servicePortName}/${protocol}`;
}

/** A Service's cluster-policy, local-policy, external and firewall chains (the first of each kind), and its affinity set. */
interface ServiceChains {
  service?: NftChain;
  local?: NftChain;
  external?: NftChain;
  firewall?: NftChain;
  affinitySet?: NftSet;
}

function groupByService(table: NftTable): TableIndex['byService'] {
  const groups: TableIndex['byService'] = new Map();
  const group = (parsed: ServiceChainName) => {
    const key = serviceKey(parsed.servicePortName, parsed.protocol);
    let entry = groups.get(key);
    if (!entry) {
      entry = {};
      groups.set(key, entry);
    }
    return entry;
  };
  for (const chain of table.chains) {
    // Endpoint chains, most of the table, are found from their Service chain's vmap instead.
    if (chain.name.startsWith('endpoint-')) continue;
    const parsed = parseServiceChainName(chain.name);
    if (parsed && parsed.kind !== 'endpoint' && parsed.kind !== 'affinity') group(parsed)[parsed.kind] ??= chain;
  }
  for (const set of table.sets) {
    const parsed = parseServiceChainName(set.name);
    if (parsed?.kind === 'affinity') group(parsed).affinitySet ??= set;
  }
  return groups;
}

export function buildNftServiceTree(nft: NftRuleset, routes?: Pick<LocalRoutes, 'isLocal'>): ServiceTree {
  const tree: ServiceTree = { mode: 'nftables', services: [], warnings: [] };
  const tables = nft.tables.filter(isKubeProxyTable);
  if (tables.length === 0) {
    tree.warnings.push('nft.txt has no kube-proxy table (ip kube-proxy or ip6 kube-proxy): kube-proxy does not run in nftables mode on this node');
    return tree;
  }
  let ambiguousExternal = false;
  const drafts: { draft: ServiceInfo; index: TableIndex }[] = [];
  for (const table of tables) {
    const index: TableIndex = {
      table,
      chain: (name) => chainsByName(table).get(name),
      sets: new Map(table.sets.map((set) => [set.name, set])),
      clusterIPs: new Set(table.sets.find((set) => set.name === 'cluster-ips')?.elements.map((element) => element.key[0]) ?? []),
      firewallIPs: new Set(table.sets.find((set) => set.name === 'firewall-ips')?.elements.map((element) => element.key[0]) ?? []),
      byService: groupByService(table),
    };
    const services = new Map<string, ServiceInfo>();
    const referenced = new Set<string>();
    const serviceFor = (id: { namespace: string; name: string; portName: string }, protocol: string): ServiceInfo | undefined => {
      if (!PROTOCOLS.has(protocol as Protocol)) return undefined;
      const key = `${id.namespace}/${id.name}:${id.portName}/${protocol}`;
      let service = services.get(key);
      if (!service) {
        service = emptyService(id.portName ? `${id.namespace}/${id.name}:${id.portName}` : `${id.namespace}/${id.name}`, protocol as Protocol);
        services.set(key, service);
      }
      return service;
    };
    const source = (line: number): SourceRef => ({ file: NFT_FILE, line });

    // Addresses and ports that reach a Service chain.
    for (const element of index.sets.get('service-ips')?.elements ?? []) {
      const target = element.verdict?.target;
      const parsed = target ? parseServiceChainName(target) : undefined;
      if (!parsed || element.key.length !== 3) continue;
      referenced.add(target!);
      const service = serviceFor(parsed, parsed.protocol);
      if (!service) continue;
      const address = { ip: element.key[0], port: Number(element.key[2]) };
      if (parsed.kind === 'service' || parsed.kind === 'local') {
        service.clusterIP = address;
        service.internalTrafficPolicy = parsed.kind === 'local' ? 'Local' : 'Cluster';
        service.source ??= source(element.line);
      } else if (parsed.kind === 'external') {
        if (index.firewallIPs.has(address.ip)) addOnce(service.loadBalancerIPs, address);
        else {
          addOnce(service.externalIPs, address);
          ambiguousExternal = true;
        }
      }
    }
    for (const element of index.sets.get('service-nodeports')?.elements ?? []) {
      const target = element.verdict?.target;
      const parsed = target ? parseServiceChainName(target) : undefined;
      if (!parsed || element.key.length !== 2) continue;
      referenced.add(target!);
      const service = serviceFor(parsed, parsed.protocol);
      if (service) service.nodePort = Number(element.key[1]);
    }
    for (const element of index.sets.get('firewall-ips')?.elements ?? []) {
      const target = element.verdict?.target;
      const parsed = target ? parseServiceChainName(target) : undefined;
      if (!parsed || element.key.length !== 3) continue;
      referenced.add(target!);
      const service = serviceFor(parsed, parsed.protocol);
      if (service) addOnce(service.loadBalancerIPs, { ip: element.key[0], port: Number(element.key[2]) });
    }
    // Services without (usable) endpoints appear only in the no-endpoint maps, named by the element comment.
    for (const mapName of ['no-endpoint-services', 'no-endpoint-nodeports']) {
      for (const element of index.sets.get(mapName)?.elements ?? []) {
        const id = parseServicePortComment(element.comment);
        const protocol = element.key[element.key.length - 2];
        if (!id || protocol === undefined) continue;
        const service = serviceFor(id, protocol);
        if (service) noEndpointEntry(service, mapName, element, index);
      }
    }

    // A Service's own chains count as used, whether or not a map names them (the local chain behind an external one).
    for (const service of services.values()) {
      const group = index.byService.get(serviceKey(service.id, service.protocol));
      for (const chain of [group?.service, group?.local, group?.external, group?.firewall]) if (chain) referenced.add(chain.name);
      drafts.push({ draft: service, index });
    }
    for (const chain of table.chains) {
      if (chain.name.startsWith('endpoint-') || referenced.has(chain.name)) continue;
      const parsed = parseServiceChainName(chain.name);
      if (parsed && parsed.kind !== 'endpoint') {
        tree.warnings.push(`${tableLabel(table)}: chain ${chain.name} (line ${chain.line}) is not used by any map: a stale chain kube-proxy has not deleted yet`);
      }
    }
  }
  if (ambiguousExternal) {
    tree.warnings.push('kube-proxy writes externalIPs and LoadBalancer IPs without source ranges the same way; both are listed as external IPs');
  }
  // Endpoints, paths, policies and affinity are read from the chains when a Service is first looked at.
  tree.services = sortByService(drafts, ({ draft }) => draft).map(({ draft, index }) => lazyService(draft, () => describeChains(draft, index, routes)));
  // kube-proxy names a Service's chains (endpoint chains too) after it, so their owner is found without reading a rule.
  const owners = new Map<string, ServiceInfo>();
  for (const service of tree.services) {
    const key = serviceKey(service.id, service.protocol);
    if (!owners.has(key)) owners.set(key, service);
  }
  tree.chainOwner = (chain) => {
    const parsed = parseServiceChainName(chain);
    return parsed ? owners.get(serviceKey(parsed.servicePortName, parsed.protocol)) : undefined;
  };
  return tree;
}

/** `ns/name:port` or `ns/name` (a Service port without a name). */
function parseServicePortComment(comment: string | undefined): { namespace: string; name: string; portName: string } | undefined {
  const match = comment ? /^([^/\s]+)\/([^:\s]+)(?::(\S*))?$/.exec(comment) : null;
  if (!match) return undefined;
  return { namespace: match[1], name: match[2], portName: match[3] ?? '' };
}

function noEndpointEntry(service: ServiceInfo, mapName: string, element: NftSetElement, index: TableIndex): void {
  const rejects = element.verdict?.kind === 'goto' && element.verdict.target === 'reject-chain';
  const drops = element.verdict?.kind === 'drop';
  if (mapName === 'no-endpoint-nodeports') {
    service.nodePort = Number(element.key[1]);
  } else {
    const address = { ip: element.key[0], port: Number(element.key[2]) };
    if (index.clusterIPs.has(address.ip)) {
      service.clusterIP = address;
      service.source ??= { file: NFT_FILE, line: element.line };
      if (drops) service.internalTrafficPolicy = 'Local';
    } else if (index.firewallIPs.has(address.ip)) {
      addOnce(service.loadBalancerIPs, address);
    } else {
      addOnce(service.externalIPs, address);
    }
  }
  const where =
    mapName === 'no-endpoint-nodeports'
      ? `NodePort ${element.key[1]}`
      : index.clusterIPs.has(element.key[0])
        ? `ClusterIP ${element.key[0]}:${element.key[2]}`
        : `${element.key[0]}:${element.key[2]}`;
  let warning: string;
  if (rejects) warning = `has no endpoints: connections to ${where} are rejected (line ${element.line})`;
  else if (drops && mapName === 'no-endpoint-services' && index.clusterIPs.has(element.key[0])) {
    warning = `has no endpoints on this node (internalTrafficPolicy Local): connections to ${where} are dropped (line ${element.line})`;
  } else if (drops) {
    warning = `has no endpoints on this node (externalTrafficPolicy Local): external connections to ${where} are dropped (line ${element.line})`;
  } else {
    warning = `is in ${mapName} with verdict ${element.verdict?.kind ?? 'unknown'} for ${where} (line ${element.line})`;
  }
  if (!service.warnings.includes(warning)) service.warnings.push(warning);
  if (drops && mapName !== 'no-endpoint-services') service.externalTrafficPolicy = 'Local';
  if (drops && mapName === 'no-endpoint-services' && !index.clusterIPs.has(element.key[0])) service.externalTrafficPolicy = 'Local';
}

function describeChains(service: ServiceInfo, index: TableIndex, routes?: Pick<LocalRoutes, 'isLocal'>): void {
  const group = index.byService.get(serviceKey(service.id, service.protocol));
  const clusterChain = group?.service;
  const localChain = group?.local;
  const externalChain = group?.external;
  const firewallChain = group?.firewall;

  const clusterEndpoints = clusterChain ? endpointsOf(clusterChain, index) : [];
  const localEndpoints = localChain ? endpointsOf(localChain, index) : [];
  const localKeys = new Set(localEndpoints.map((endpoint) => `${endpoint.ip}:${endpoint.port}`));
  const primary = clusterChain ? clusterEndpoints : localEndpoints;
  service.endpoints = primary.map((endpoint) => {
    const local = localChain ? localKeys.has(`${endpoint.ip}:${endpoint.port}`) : routes?.isLocal(endpoint.ip) === true ? true : undefined;
    return local === undefined ? endpoint : { ...endpoint, local };
  });

  if (externalChain) {
    const isLocalPolicy = externalChain.rules.some((rule) => rule.comment === 'short-circuit pod traffic' || rule.text.includes('fib saddr type local'));
    service.externalTrafficPolicy = isLocalPolicy ? 'Local' : 'Cluster';
  }
  if (firewallChain) {
    const lbIPs = new Set(service.loadBalancerIPs.map((address) => address.ip));
    for (const rule of firewallChain.rules) {
      for (const expr of rule.exprs) {
        if (expr.kind !== 'match' || expr.left[0]?.name.endsWith('saddr') !== true || expr.right.kind !== 'values') continue;
        for (const key of expr.right.keys) if (!lbIPs.has(key[0]) && !service.sourceRanges.includes(key[0])) service.sourceRanges.push(key[0]);
      }
    }
  }
  const affinitySet = group?.affinitySet;
  if (affinitySet?.timeout) service.sessionAffinitySeconds = parseDuration(affinitySet.timeout) ?? null;

  const chainNode = (chain: NftChain, kind: PathNode['kind'], endpoints: EndpointInfo[]): PathNode => ({
    label: chain.name,
    kind,
    source: { file: NFT_FILE, line: chain.line },
    children: endpoints.map((endpoint) => ({
      label: `${endpoint.chain ?? 'endpoint'} → ${endpoint.ip}:${endpoint.port}`,
      kind: 'endpoint-chain',
      source: endpoint.source,
      share: endpoint.share,
      children: [],
    })),
  });
  if (externalChain) {
    const node = chainNode(externalChain, 'external-chain', []);
    const target = service.externalTrafficPolicy === 'Local' ? localChain : clusterChain;
    if (target) node.children.push(chainNode(target, target === localChain ? 'local-chain' : 'service-chain', target === localChain ? localEndpoints : clusterEndpoints));
    service.path.push(node);
  }
  if (firewallChain) service.path.push(chainNode(firewallChain, 'firewall-chain', []));
  if (service.internalTrafficPolicy === 'Local' && localChain) service.path.push(chainNode(localChain, 'local-chain', localEndpoints));
  else if (clusterChain) service.path.push(chainNode(clusterChain, 'service-chain', clusterEndpoints));
  if (localChain && service.externalTrafficPolicy !== 'Local' && service.internalTrafficPolicy !== 'Local') {
    service.path.push(chainNode(localChain, 'local-chain', localEndpoints));
  }
  if (service.endpoints.length === 0 && service.warnings.length === 0 && (clusterChain || localChain)) {
    service.warnings.push('its Service chain sends no traffic to any endpoint');
  }
  if (service.externalTrafficPolicy === 'Local' && localEndpoints.length === 0 && externalChain && !service.warnings.some((warning) => warning.includes('externalTrafficPolicy'))) {
    service.warnings.push('externalTrafficPolicy Local with no endpoint on this node: external traffic is dropped');
  }
}

/** Endpoints a policy chain picks with `numgen random mod N vmap { … }`, with their shares. */
function endpointsOf(chain: NftChain, index: TableIndex): EndpointInfo[] {
  const endpoints: EndpointInfo[] = [];
  for (const rule of chain.rules) {
    for (const expr of rule.exprs) {
      const numgen = expr.kind === 'vmap' ? expr.left[0]?.numgen : undefined;
      if (expr.kind !== 'vmap' || !numgen || expr.map.kind !== 'inline') continue;
      const counts = new Map<string, number>();
      for (let value = numgen.offset; value < numgen.offset + numgen.mod; value++) {
        const entry = expr.map.entries.find((candidate) => candidate.key[0] === String(value));
        if (entry?.verdict.target) counts.set(entry.verdict.target, (counts.get(entry.verdict.target) ?? 0) + 1);
      }
      for (const [target, count] of counts) {
        const endpointChain = index.chain(target);
        const dnat = endpointChain?.rules.flatMap((candidate) => candidate.exprs).find((candidate) => candidate.kind === 'nat' && candidate.type === 'dnat');
        const parsed = parseServiceChainName(target);
        const ip = dnat?.kind === 'nat' && dnat.address ? dnat.address : parsed?.endpoint?.ip;
        const port = dnat?.kind === 'nat' && dnat.port !== undefined ? dnat.port : parsed?.endpoint?.port;
        if (ip === undefined || port === undefined) continue;
        endpoints.push({
          ip,
          port,
          share: count / numgen.mod,
          chain: target,
          source: { file: NFT_FILE, line: endpointChain?.line ?? rule.line },
        });
      }
    }
  }
  return endpoints;
}

function addOnce(list: { ip: string; port: number }[], address: { ip: string; port: number }): void {
  if (!list.some((existing) => existing.ip === address.ip && existing.port === address.port)) list.push(address);
}

/** nft durations: `3h`, `10800s`, `1d2h3m4s`, `500ms`. */
export function parseDuration(text: string): number | undefined {
  const units: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 };
  let total = 0;
  let rest = text;
  while (rest.length > 0) {
    const match = /^(\d+)(ms|d|h|m|s)/.exec(rest);
    if (!match) return undefined;
    total += Number(match[1]) * units[match[2]];
    rest = rest.slice(match[0].length);
  }
  return total;
}
