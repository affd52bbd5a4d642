/**
 * Builds the Service tree for a node in IPVS mode from its virtual servers, kube-proxy's ipsets, the local
 * route table and (for names and stale rules) iptables. A ClusterIP virtual server anchors each Service; the
 * NodePort, external-IP and load-balancer virtual servers join it when their real servers match. kube-proxy
 * writes no Service names in IPVS mode, so names come only from ipset member comments or iptables comments
 * where those exist; otherwise a Service is labelled by its ClusterIP and port.
 * The grouping (the tree's first level) is decided up front from real-server keys read from the text; each
 * Service's endpoints, path, policies and warnings are computed when first read (lazyService), so real servers
 * stay text (realServerBlock.ts) until someone looks at their Service.
 */

import type { Ruleset } from '../iptables/model';
import { parseKubeComment } from '../iptables/vocabulary';
import { normalizeIp } from '../ipset/ipAddress';
import { ipsetHasAddress, ipsetHasAddressPort, ipsetMatch } from '../ipset/ipsetMatch';
import type { IpsetCollection, IpsetSet } from '../ipset/model';
import { lookupVirtualServer } from '../ipvs/lookupVirtualServer';
import type { IpvsTable, RealServer, VirtualServer } from '../ipvs/model';
import { parseAddressPort } from '../ipvs/parseIpvsadm';
import { forEachRealServerAddress, forEachRealServerKey, hasDrainingRealServer, realServerCount } from '../ipvs/realServerBlock';
import { realServerShares } from '../ipvs/realServerShares';
import { KUBE_IPVS_DEVICE, ipsetNameFor, nodePortSetName } from '../ipvs/vocabulary';
import type { LocalRoutes, RouteEntry } from '../routes/localRoutes';
import type { Protocol } from '../trace/result';
import { emptyService } from './emptyService';
import { lazyService } from './lazyService';
import type { EndpointInfo, PathNode, ServiceInfo, ServiceTree } from './model';

export interface IpvsServiceTreeInput {
  ipvs: IpvsTable;
  ipsets?: IpsetCollection;
  iptables?: Ruleset;
  routes?: LocalRoutes;
}

type Role = 'cluster' | 'nodeport' | 'external' | 'loadbalancer' | 'unplaced';

interface Classified {
  /** Position in the list of classified virtual servers. */
  index: number;
  vs: VirtualServer;
  protocol: Protocol;
  address: string;
  role: Role;
  /** externalTrafficPolicy Local, from the -LOCAL sets; undefined when the sets do not say. */
  local: boolean | undefined;
}

/** A step that fills in a Service's lazy fields (endpoints, path, policies, warnings), run on first read. */
type Detail = (info: ServiceInfo) => void;

/** How a virtual server was grouped with a Service, as a warning about `what` (e.g. `NodePort 30080/tcp`). */
type Note = (what: string) => string;

interface Draft {
  /** Position in the list of Services. */
  index: number;
  info: ServiceInfo;
  /** The virtual server whose real servers are the Service's endpoints. */
  endpointsFrom: VirtualServer;
  anchor: Classified | undefined;
  /** Sorted `ip:port` of the anchor's real servers, joined by spaces: how virtual servers of one Service recognise each other. */
  signature: string;
  details: Detail[];
}

/** ClusterIP Services indexed by real-server signature and (built on the first subset question) by each real server. */
class OwnerIndex {
  /** Per protocol: signature → ClusterIP Services with exactly those real servers. */
  private readonly exact = new Map<Protocol, Map<string, Draft[]>>();
  private readonly drafts: Draft[] = [];
  /** Per protocol: `ip:port` → ClusterIP Services with that real server; built on the first subset question. */
  private byEndpoint: Map<Protocol, Map<string, Draft[]>> | undefined;
  readonly byId = new Map<string, Draft>();

  add(draft: Draft): void {
    push(mapFor(this.exact, draft.anchor!.protocol), draft.signature, draft);
    this.drafts.push(draft);
    if (!this.byId.has(draft.info.id)) this.byId.set(draft.info.id, draft);
  }

  /** ClusterIP Services of the protocol whose real servers are exactly these. */
  exactMatches(protocol: Protocol, signature: string): Draft[] {
    return this.exact.get(protocol)?.get(signature) ?? [];
  }

  /** ClusterIP Services of the protocol that have all of these real servers (and maybe more). */
  supersets(protocol: Protocol, signature: string): Draft[] {
    if (signature === '') return [];
    const index = this.endpointIndex().get(protocol);
    const keys = signature.split(' ');
    // A real server belongs to few Services, so each list is short: testing membership by scanning it is cheap.
    return (index?.get(keys[0]!) ?? []).filter((draft) => keys.every((key) => index!.get(key)!.includes(draft)));
  }

  private endpointIndex(): Map<Protocol, Map<string, Draft[]>> {
    if (!this.byEndpoint) {
      this.byEndpoint = new Map();
      for (const draft of this.drafts) {
        if (draft.signature === '') continue;
        const index = mapFor(this.byEndpoint, draft.anchor!.protocol);
        for (const key of draft.signature.split(' ')) {
          const list = index.get(key);
          if (!list) index.set(key, [draft]);
          else if (list[list.length - 1] !== draft) list.push(draft);
        }
      }
    }
    return this.byEndpoint;
  }
}

function mapFor<K, V>(maps: Map<K, Map<string, V>>, key: K): Map<string, V> {
  let map = maps.get(key);
  if (!map) {
    map = new Map();
    maps.set(key, map);
  }
  return map;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * The first level (ids, addresses, NodePorts, which virtual servers belong together) is decided here for every
 * Service; endpoints, paths, policies and per-Service warnings are computed when a Service is first read
 * (lazyService), in the order the steps were recorded.
 */
export function buildIpvsServiceTree(input: IpvsServiceTreeInput): ServiceTree {
  const { ipvs, ipsets, iptables, routes } = input;
  const warnings: string[] = [];
  const file = ipvs.file;
  const names = serviceNamesFromIptables(iptables);
  const sets = new SetReader(ipsets);
  const routeReader = routes ? new RouteReader(routes) : undefined;

  const classified: Classified[] = [];
  // Signatures are needed only while grouping, so they live beside the entries, not in them (the entries stay
  // reachable from the Services' pending details).
  const signatures: string[] = [];
  const loopBack = new LoopBackMembers(sets);
  for (const vs of ipvs.virtualServers) {
    if (vs.protocol === 'FWM') {
      warnings.push(`Virtual server FWM ${vs.fwmark} (${file} line ${vs.line}) matches a firewall mark; kube-proxy does not write such services.`);
      continue;
    }
    const protocol = vs.protocol.toLowerCase() as Protocol;
    const address = normalizeIp(vs.address) ?? vs.address;
    const role = classify(vs, protocol, address, sets, routeReader);
    const local = sets.localPolicy(role, protocol, address, vs.port);
    const entry: Classified = { index: classified.length, vs, protocol, address, role, local };
    classified.push(entry);
    signatures.push(signatureOf(vs, (key) => loopBack.see(protocol, key)));
    if (role === 'cluster' && routeReader && !routeReader.boundToIpvs(address) && !routeReader.isLocal(address)) {
      warnings.push(`ClusterIP virtual server ${label(vs)} (${file} line ${vs.line}) is not bound to ${KUBE_IPVS_DEVICE}: packets to it are routed away instead of reaching IPVS.`);
    }
  }

  // One Service per ClusterIP virtual server.
  const drafts: Draft[] = [];
  const owners = new OwnerIndex();
  const clusterByKey = new Map<string, Draft>();
  // The Service each classified virtual server went to, by position (-1 for none yet).
  const ownerOf = new Int32Array(classified.length).fill(-1);
  for (const entry of classified) {
    if (entry.role !== 'cluster') continue;
    const key = `${entry.protocol}|${entry.address}|${entry.vs.port}`;
    const id = names.get(key) ?? sets.memberComment('KUBE-CLUSTER-IP', entry) ?? undefined;
    const draft: Draft = {
      info: newService(id, entry.protocol, `${formatAddress(entry.address)}:${entry.vs.port}/${entry.protocol}`),
      anchor: entry,
      index: drafts.length,
      endpointsFrom: entry.vs,
      signature: signatures[entry.index]!,
      details: [clusterDetail(entry, file, sets)],
    };
    draft.info.clusterIP = { ip: entry.address, port: entry.vs.port };
    draft.info.source = { file, line: entry.vs.line };
    drafts.push(draft);
    owners.add(draft);
    clusterByKey.set(key, draft);
    ownerOf[entry.index] = draft.index;
  }

  // NodePorts: one group per protocol and port, across every node address.
  const nodePortGroups = new Map<string, Classified[]>();
  for (const entry of classified) {
    if (entry.role === 'nodeport') push(nodePortGroups, `${entry.protocol}|${entry.vs.port}`, entry);
  }
  for (const group of nodePortGroups.values()) {
    const first = group[0]!;
    const nodePort = first.vs.port;
    const signature = signatures[first.index]!;
    const differing = group.filter((entry) => signatures[entry.index] !== signature);
    const local = group.some((entry) => entry.local === true) ? true : group.some((entry) => entry.local === false) ? false : undefined;
    const named = names.get(`nodeport|${first.protocol}|${nodePort}`);
    const byName = named ? owners.byId.get(named) : undefined;
    const owner = byName ? { draft: byName, note: undefined } : pickOwner(owners, first, signature, local, false);
    const target = owner.draft ?? orphan(drafts, newService(named, first.protocol, `nodePort ${nodePort}/${first.protocol}`), first, file, sets);
    target.info.nodePort = nodePort;
    for (const entry of group) ownerOf[entry.index] = target.index;
    addDetail(target, nodePortDetail(group, differing, local, owner.note, target.anchor, file));
  }

  // External IPs and load-balancer IPs: the Service port is the same as the ClusterIP port.
  for (const entry of classified) {
    if (entry.role !== 'external' && entry.role !== 'loadbalancer') continue;
    const kind = entry.role === 'external' ? 'external IP' : 'load-balancer IP';
    const named = names.get(`${entry.role}|${entry.protocol}|${entry.address}|${entry.vs.port}`);
    const byName = named ? owners.byId.get(named) : undefined;
    const owner = byName ? { draft: byName, note: undefined } : pickOwner(owners, entry, signatures[entry.index]!, entry.local, true);
    const target = owner.draft ?? orphan(drafts, newService(named, entry.protocol, `${kind} ${formatAddress(entry.address)}:${entry.vs.port}/${entry.protocol}`), entry, file, sets);
    const list = entry.role === 'external' ? target.info.externalIPs : target.info.loadBalancerIPs;
    list.push({ ip: entry.address, port: entry.vs.port });
    ownerOf[entry.index] = target.index;
    addDetail(target, addressDetail(entry, kind, owner.note, file, sets));
  }

  for (const entry of classified) {
    if (entry.role !== 'unplaced') continue;
    const draft = orphan(drafts, newService(undefined, entry.protocol, `${formatAddress(entry.address)}:${entry.vs.port}/${entry.protocol}`), entry, file, sets);
    ownerOf[entry.index] = draft.index;
    addDetail(draft, unplacedDetail(entry, file));
  }

  warnings.push(...nodeWarnings(classified, loopBack, clusterByKey, ipvs, sets, routes, iptables));
  if (drafts.some((draft) => draft.info.namespace === '')) {
    warnings.push('kube-proxy writes no Service names on the node in IPVS mode: Services are labelled by ClusterIP and port, and NodePorts are grouped with the ClusterIP whose real servers they share.');
  }
  // The Services keep only their detail steps (closures made by the functions below, which capture what each
  // step reads): the grouping's indexes and signatures are garbage once the tree is built.
  const services = drafts.map((draft) => lazyService(draft.info, completion(draft.details)));
  const tree: ServiceTree = { mode: 'ipvs', services, warnings, chainOwner: chainOwnerOf(ipvs, classified, ownerOf, services) };
  endpointLookups.set(tree, endpointLookupOf(drafts.map((draft) => draft.endpointsFrom), services));
  return tree;
}

const endpointLookups = new WeakMap<ServiceTree, (ip: string) => ServiceInfo[]>();

/**
 * The Services of an IPVS tree built here that have `ip` among their endpoints, in tree order, found from the
 * real servers without computing any Service's details (which reading `endpoints` of every Service would);
 * undefined for any other tree. Callers filter by port on the few Services returned.
 */
export function ipvsServicesWithEndpointAddress(tree: ServiceTree, ip: string): ServiceInfo[] | undefined {
  return endpointLookups.get(tree)?.(ip);
}

/** The endpoint-address index over each Service's endpoint source, built on the first question. */
function endpointLookupOf(sources: VirtualServer[], services: ServiceInfo[]): (ip: string) => ServiceInfo[] {
  let index: Map<string, ServiceInfo[]> | undefined;
  return (ip) => {
    if (!index) {
      const built = new Map<string, ServiceInfo[]>();
      sources.forEach((vs, position) => {
        const service = services[position]!;
        forEachRealServerAddress(vs, (address) => {
          const list = built.get(address);
          if (!list) built.set(address, [service]);
          else if (list[list.length - 1] !== service) list.push(service);
        });
      });
      index = built;
    }
    return index.get(ip) ?? [];
  };
}

/** Appends a step; the list is copied to its exact length, as most Services have one or two steps. */
function addDetail(draft: Draft, detail: Detail): void {
  draft.details = [...draft.details, detail];
}

/** Shared by every Service until its details are computed; never written to (the completion gives fresh arrays). */
const NOT_YET: readonly never[] = Object.freeze([]);

/** A new Service draft; its lazy list fields share one frozen empty array until completion replaces them. */
function newService(id: string | undefined, protocol: Protocol, fallbackId: string): ServiceInfo {
  const info = id ? emptyService(id, protocol) : emptyService(fallbackId, protocol, false);
  info.sourceRanges = info.endpoints = info.path = info.warnings = NOT_YET as never[];
  return info;
}

function completion(details: Detail[]): (draft: ServiceInfo) => void {
  return (draft) => {
    draft.sourceRanges = [];
    draft.endpoints = [];
    draft.path = [];
    draft.warnings = [];
    for (const detail of details) detail(draft);
  };
}

/** Chain lookups; the map from virtual server to Service is built on the first one. */
function chainOwnerOf(ipvs: IpvsTable, classified: Classified[], ownerOf: Int32Array, services: ServiceInfo[]): (chain: string) => ServiceInfo | undefined {
  let serviceOf: Map<VirtualServer, ServiceInfo> | undefined;
  return (chain) => {
    if (!serviceOf) {
      serviceOf = new Map();
      for (const entry of classified) {
        const owner = ownerOf[entry.index]!;
        if (owner >= 0) serviceOf.set(entry.vs, services[owner]!);
      }
    }
    return ownerOfPathLabel(chain, ipvs, serviceOf);
  };
}

/** A ClusterIP virtual server's part of its Service: affinity, endpoints, the first path step, its warnings. */
function clusterDetail(entry: Classified, file: string, sets: SetReader): Detail {
  return (info) => {
    const vs = entry.vs;
    info.sessionAffinitySeconds = vs.persistentSeconds ?? null;
    info.endpoints = endpointsOf(vs, file, sets);
    info.path.push(virtualServerNode(vs, 'ClusterIP', file));
    if (sets.present && !sets.contains('KUBE-CLUSTER-IP', entry.protocol, entry.address, vs.port)) {
      info.warnings.push(`${label(vs)} is bound to ${KUBE_IPVS_DEVICE} but is not in ${ipsetNameFor('KUBE-CLUSTER-IP', entry.address.includes(':') ? 'inet6' : 'inet')}: kube-proxy did not write it (or its sync failed); KUBE-IPVS-FILTER rejects new connections to it and traffic from outside the cluster is not masqueraded.`);
    }
    if (realServerCount(vs) === 0) {
      info.warnings.push(`ClusterIP virtual server ${label(vs)} has no endpoints (no real servers): IPVS answers new connections with ICMP port unreachable, so clients see "connection refused".`);
    }
    warnDrainingServers(info, vs);
  };
}

/** A NodePort group's part: the policy, one path step per node address, and how the grouping was decided. */
function nodePortDetail(group: Classified[], differing: Classified[], local: boolean | undefined, note: Note | undefined, anchor: Classified | undefined, file: string): Detail {
  return (info) => {
    const first = group[0]!;
    const nodePort = first.vs.port;
    info.externalTrafficPolicy = local === undefined ? info.externalTrafficPolicy : local ? 'Local' : 'Cluster';
    for (const entry of group) info.path.push(virtualServerNode(entry.vs, `NodePort on ${formatAddress(entry.address)}`, file));
    if (note) info.warnings.push(note(`NodePort ${nodePort}/${first.protocol}`));
    if (differing.length > 0) {
      info.warnings.push(`NodePort ${nodePort}/${first.protocol} has different real servers on ${differing.map((entry) => formatAddress(entry.address)).join(', ')} than on ${formatAddress(first.address)}.`);
    }
    if (realServerCount(first.vs) === 0 && anchor && realServerCount(anchor.vs) > 0) {
      info.warnings.push(`NodePort ${nodePort}/${first.protocol} has no real servers although the ClusterIP has ${realServerCount(anchor.vs)}: IPVS refuses connections to the NodePort (ICMP port unreachable).`);
    }
    for (const entry of group) warnDrainingServers(info, entry.vs);
  };
}

/** An external or load-balancer IP's part: policy, source ranges, its path step. */
function addressDetail(entry: Classified, kind: string, note: Note | undefined, file: string, sets: SetReader): Detail {
  return (info) => {
    if (entry.local !== undefined) info.externalTrafficPolicy = entry.local ? 'Local' : 'Cluster';
    if (entry.role === 'loadbalancer') info.sourceRanges.push(...sets.sourceRanges(entry));
    info.path.push(virtualServerNode(entry.vs, kind, file));
    if (note) info.warnings.push(note(`${kind} ${formatAddress(entry.address)}:${entry.vs.port}`));
    warnDrainingServers(info, entry.vs);
  };
}

function unplacedDetail(entry: Classified, file: string): Detail {
  return (info) => {
    info.path.push(virtualServerNode(entry.vs, 'not a local address', file));
    info.warnings.push(`Virtual server ${label(entry.vs)} (${file} line ${entry.vs.line}) is on ${formatAddress(entry.address)}, which is not a local address of this node: packets to it are routed away before IPVS sees them.`);
  };
}

/**
 * IPVS mode has no per-Service chains; the path steps are virtual servers, labelled `TCP 10.96.0.10:53 rr (…)`.
 * The owner of such a label is found through the virtual server it names, and only that Service's path is read
 * to confirm the label, so a lookup expands at most one Service.
 */
function ownerOfPathLabel(label: string, ipvs: IpvsTable, serviceOf: Map<VirtualServer, ServiceInfo>): ServiceInfo | undefined {
  // A path label ends with the virtual server's role in parentheses; the tracer's IPVS steps (`TCP 10.96.0.10:53`)
  // and iptables chains do not, and are answered without reading any Service.
  if (!label.endsWith(')')) return undefined;
  const [protocol, target] = label.split(' ', 2);
  if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP') return undefined;
  const address = target === undefined ? undefined : parseAddressPort(target);
  const vs = address && lookupVirtualServer(ipvs, protocol.toLowerCase() as Protocol, address.address, address.port);
  const service = vs ? serviceOf.get(vs) : undefined;
  return service?.path.some((node) => node.label === label) ? service : undefined;
}
/** Decides what a virtual server is for: ipsets first (they say it exactly), then the local route table. */
function classify(vs: VirtualServer, protocol: Protocol, address: string, sets: SetReader, routes: RouteReader | undefined): Role {
  if (sets.contains('KUBE-CLUSTER-IP', protocol, address, vs.port)) return 'cluster';
  if (sets.contains('KUBE-EXTERNAL-IP', protocol, address, vs.port) || sets.contains('KUBE-EXTERNAL-IP-LOCAL', protocol, address, vs.port)) return 'external';
  if (sets.contains('KUBE-LOAD-BALANCER', protocol, address, vs.port)) return 'loadbalancer';
  if (routes) {
    if (routes.boundToIpvs(address) && routes.isLocal(address)) return 'cluster';
    if (routes.isLocal(address)) return 'nodeport';
    // Addresses the routing code cannot judge (IPv6 in an IPv4 local table) fall through to the ipsets.
    if (address.includes(':') && !routes.hasIpv6) {
      return sets.nodePortListed(protocol, address, vs.port) ? 'nodeport' : 'cluster';
    }
    return 'unplaced';
  }
  return sets.nodePortListed(protocol, address, vs.port) ? 'nodeport' : 'cluster';
}

/**
 * The ClusterIP Service a NodePort, external or load-balancer virtual server belongs to: the one with the
 * same real servers (a subset for externalTrafficPolicy Local, which keeps only local endpoints). With
 * `samePort`, the Service port must match too. An ambiguous or missing match leaves it on its own.
 */
function pickOwner(owners: OwnerIndex, entry: Classified, signature: string, local: boolean | undefined, samePort: boolean): { draft?: Draft; note?: Note } {
  const portMatches = (draft: Draft): boolean => !samePort || draft.anchor!.vs.port === entry.vs.port;
  const exact = owners.exactMatches(entry.protocol, signature).filter(portMatches);
  if (exact.length === 1) {
    const empty = signature === '';
    return { draft: exact[0], note: empty ? (what) => `${what} was grouped with this ClusterIP because both have no real servers; nothing on the node confirms it.` : undefined };
  }
  if (exact.length > 1) {
    const ids = exact.map((draft) => draft.info.id);
    return { note: (what) => `${what} has the same real servers as ${ids.length} ClusterIP virtual servers (${ids.join(', ')}); it is shown on its own.` };
  }
  if (local !== false && signature !== '') {
    const superset = owners.supersets(entry.protocol, signature).filter(portMatches);
    if (superset.length === 1) {
      return { draft: superset[0], note: local === true ? undefined : (what) => `${what} has only some of this ClusterIP's real servers (as externalTrafficPolicy Local would); grouped by that.` };
    }
  }
  return { note: (what) => `${what} matches no ClusterIP virtual server by its real servers; it is shown on its own.` };
}

/** A Service of its own for a virtual server no ClusterIP claims. */
function orphan(drafts: Draft[], info: ServiceInfo, entry: Classified, file: string, sets: SetReader): Draft {
  info.source = { file, line: entry.vs.line };
  const draft: Draft = {
    index: drafts.length,
    info,
    endpointsFrom: entry.vs,
    anchor: undefined,
    signature: '',
    details: [
      (details) => {
        details.endpoints = endpointsOf(entry.vs, file, sets);
        if (realServerCount(entry.vs) === 0) details.warnings.push(`Virtual server ${label(entry.vs)} has no endpoints (no real servers): IPVS answers new connections with ICMP port unreachable, so clients see "connection refused".`);
      },
    ],
  };
  drafts.push(draft);
  return draft;
}


function endpointsOf(vs: VirtualServer, file: string, sets: SetReader): EndpointInfo[] {
  return realServerShares(vs).map(({ server, share }) => {
    const local = sets.isLocalEndpoint(vs, server);
    return {
      ip: server.address,
      port: server.port,
      share,
      source: { file, line: server.line },
      ...(local !== undefined ? { local } : {}),
      ...(server.weight !== undefined ? { weight: server.weight } : {}),
    };
  });
}

function virtualServerNode(vs: VirtualServer, role: string, file: string): PathNode {
  const flags = vs.flags.length > 0 ? ` ${vs.flags.join(' ')}` : '';
  return {
    label: `${label(vs)} ${vs.scheduler}${flags} (${role})`.replace(/\s+\(/, ' ('),
    kind: 'virtual-server',
    source: { file, line: vs.line },
    children: realServerShares(vs).map(({ server, share }) => ({
      label: `${formatEndpoint(server)} ${server.forward}${server.weight !== undefined ? ` weight ${server.weight}` : ''}`.trim(),
      kind: 'endpoint-chain' as const,
      source: { file, line: server.line },
      children: [],
      share,
    })),
  };
}

/** One warning per real server with weight 0, however many of the Service's virtual servers list it. */
function warnDrainingServers(info: ServiceInfo, vs: VirtualServer): void {
  if (!hasDrainingRealServer(vs)) return;
  for (const server of vs.realServers) {
    if (server.weight !== 0) continue;
    const message = `Real server ${formatEndpoint(server)} has weight 0: kube-proxy is draining it (a terminating endpoint) and it takes no new connections.`;
    if (!info.warnings.includes(message)) info.warnings.push(message);
  }
}

function nodeWarnings(
  classified: Classified[],
  loopBack: LoopBackMembers,
  clusterByKey: Map<string, Draft>,
  ipvs: IpvsTable,
  sets: SetReader,
  routes: LocalRoutes | undefined,
  iptables: Ruleset | undefined,
): string[] {
  const warnings: string[] = [];
  const addressesInUse = new Set(classified.map((entry) => entry.address));
  const bound = new Set<string>();
  if (routes) {
    for (const entry of routes.entries) {
      if (entry.type !== 'local' || entry.device !== KUBE_IPVS_DEVICE) continue;
      const address = normalizeIp(entry.prefix.includes('/') ? entry.prefix.replace(/\/(32|128)$/, '') : entry.prefix);
      if (address === undefined) continue;
      bound.add(address);
      const guarded = sets.inIpvsAddresses(address);
      if (!addressesInUse.has(address)) {
        const fate = guarded === true ? 'KUBE-IPVS-FILTER rejects new connections to it'
          : guarded === false ? 'it is not in KUBE-IPVS-IPS either, so connections reach any process of the node listening on all addresses'
          : 'connections to it reach the node\'s own sockets unless KUBE-IPVS-FILTER rejects them';
        warnings.push(`${address} is bound to ${KUBE_IPVS_DEVICE} (route-local.txt line ${entry.line}) but no IPVS virtual server uses it: ${fate}.`);
      } else if (guarded === false) {
        warnings.push(`${address} is bound to ${KUBE_IPVS_DEVICE} (route-local.txt line ${entry.line}) but missing from KUBE-IPVS-IPS: KUBE-IPVS-FILTER does not reject its other ports, so processes of the node listening on all addresses answer on this Service address.`);
      }
    }
  }
  warnings.push(...loopBack.unused());
  const nodePortsInUse = new Set(classified.filter((entry) => entry.role === 'nodeport').map((entry) => `${entry.protocol}|${entry.vs.port}`));
  const families = new Set(classified.map((entry) => (entry.address.includes(':') ? 'inet6' : 'inet')));
  for (const family of ['inet', 'inet6'] as const) {
    const clusterSet = sets.get(ipsetNameFor('KUBE-CLUSTER-IP', family));
    for (const member of clusterSet?.members ?? []) {
      const parsed = /^([^,]+),([a-z]+):(\d+)$/.exec(member.element);
      if (!parsed) continue;
      const key = `${parsed[2]}|${normalizeIp(parsed[1]!) ?? parsed[1]}|${Number(parsed[3])}`;
      if (!clusterByKey.has(key)) {
        warnings.push(`${clusterSet!.name} lists ${member.element} (ipset.txt line ${member.line}) but IPVS has no virtual server for it: a stale entry, or kube-proxy failed to create the virtual server.`);
      }
    }
    for (const protocol of ['tcp', 'udp'] as const) {
      const nodePortSet = sets.get(nodePortSetName(protocol, false, family));
      for (const member of nodePortSet?.members ?? []) {
        const port = Number(member.element.replace(/^[a-z]+:/, ''));
        if (Number.isInteger(port) && !nodePortsInUse.has(`${protocol}|${port}`) && families.has(family)) {
          warnings.push(`${nodePortSet!.name} lists port ${port} (ipset.txt line ${member.line}) but IPVS has no NodePort virtual server on it: a stale entry.`);
        }
      }
    }
  }
  if (iptables) {
    const nat = iptables.tables.get('nat');
    const leftovers = [...(nat?.chains.keys() ?? [])].filter((name) => /^KUBE-(SVC|SEP|SVL|EXT|FW)-/.test(name));
    if (leftovers.length > 0 && ipvs.virtualServers.length > 0) {
      warnings.push(`${leftovers.length} iptables-mode chains (${leftovers.slice(0, 3).join(', ')}${leftovers.length > 3 ? ', …' : ''}) are present beside IPVS virtual servers: leftovers of an earlier proxy mode or a second proxy; packets matching them in KUBE-SERVICES are DNATed by iptables before IPVS sees them.`);
    }
  }
  return warnings;
}

/**
 * KUBE-LOOP-BACK members by `ip:port`, marked as the real servers of every virtual server are walked once (for the
 * signatures); members are few (local endpoints only), so no index of all real servers is needed.
 */
class LoopBackMembers {
  private readonly byKey = new Map<string, { protocol: string; used: boolean }[]>();
  private readonly ordered: { protocol: string; used: boolean; report: () => string }[] = [];

  constructor(sets: SetReader) {
    for (const family of ['inet', 'inet6'] as const) {
      const loopBack = sets.get(ipsetNameFor('KUBE-LOOP-BACK', family));
      for (const member of loopBack?.members ?? []) {
        const parsed = /^([^,]+),([a-z]+):(\d+),/.exec(member.element);
        if (!parsed) continue;
        const report = () => `${loopBack!.name} lists ${member.element} (ipset.txt line ${member.line}) but no virtual server has ${parsed[1]}:${parsed[3]} as a real server: a stale entry (it only masquerades hairpin traffic to that address).`;
        const candidate = { protocol: parsed[2]!, used: false, report };
        push(this.byKey, `${normalizeIp(parsed[1]!) ?? parsed[1]}:${Number(parsed[3])}`, candidate);
        this.ordered.push(candidate);
      }
    }
  }

  /** A virtual server of this protocol has the real server `ip:port`. */
  see(protocol: Protocol, key: string): void {
    const candidates = this.byKey.size > 0 ? this.byKey.get(key) : undefined;
    for (const candidate of candidates ?? []) if (candidate.protocol === protocol) candidate.used = true;
  }

  /** Warnings for members no virtual server has as a real server, in set order. */
  unused(): string[] {
    return this.ordered.filter((candidate) => !candidate.used).map((candidate) => candidate.report());
  }
}

/**
 * The local route table as the grouping asks it: one lookup per distinct address (NodePort virtual servers share a
 * few node addresses), and whether the table holds any IPv6 route at all, decided once.
 */
class RouteReader {
  private readonly entries = new Map<string, RouteEntry | undefined>();
  private ipv6: boolean | undefined;

  constructor(private readonly routes: LocalRoutes) {}

  private entryFor(address: string): RouteEntry | undefined {
    if (this.entries.has(address)) return this.entries.get(address);
    const entry = this.routes.entryFor(address);
    this.entries.set(address, entry);
    return entry;
  }

  boundToIpvs(address: string): boolean {
    return this.entryFor(address)?.device === KUBE_IPVS_DEVICE;
  }

  isLocal(address: string): boolean {
    return this.entryFor(address)?.type === 'local';
  }

  get hasIpv6(): boolean {
    return (this.ipv6 ??= this.routes.entries.some((entry) => entry.prefix.includes(':')));
  }
}

/** Reads kube-proxy's ipsets for one IPVS virtual server, choosing the IPv4 or IPv6 set names by address. */
class SetReader {
  constructor(private readonly ipsets: IpsetCollection | undefined) {}

  /** Whether ipset.txt was collected and holds kube-proxy's ClusterIP set, so absence from it means something. */
  get present(): boolean {
    return this.ipsets?.get('KUBE-CLUSTER-IP') !== undefined || this.ipsets?.get(ipsetNameFor('KUBE-CLUSTER-IP', 'inet6')) !== undefined;
  }

  get(name: string): IpsetSet | undefined {
    return this.ipsets?.get(name);
  }

  private set(base: string, address: string): IpsetSet | undefined {
    return this.ipsets?.get(ipsetNameFor(base, address.includes(':') ? 'inet6' : 'inet'));
  }

  /** Whether an address is in KUBE-IPVS-IPS (the addresses KUBE-IPVS-FILTER guards); undefined without the set. */
  inIpvsAddresses(address: string): boolean | undefined {
    const set = this.set('KUBE-IPVS-IPS', address);
    if (!set) return undefined;
    return ipsetHasAddress(set, address);
  }

  /** `dst,dst` membership of address,protocol:port; false when the set is missing. */
  contains(base: string, protocol: Protocol, address: string, port: number): boolean {
    const set = this.set(base, address);
    if (!set) return false;
    return ipsetHasAddressPort(set, address, protocol, port);
  }

  /** Whether a NodePort is listed in kube-proxy's NodePort set for its protocol. */
  nodePortListed(protocol: Protocol, address: string, port: number): boolean {
    const family = address.includes(':') ? 'inet6' : 'inet';
    const set = this.ipsets?.get(nodePortSetName(protocol, false, family));
    if (!set) return false;
    const directions = set.dimensions.length === 1 ? (['dst'] as const) : (['dst', 'dst'] as const);
    return ipsetMatch(set, [...directions], { src: address, dst: address, proto: protocol, sport: 0, dport: port }) === true;
  }

  /** externalTrafficPolicy Local from the -LOCAL sets, for roles that have them. */
  localPolicy(role: Role, protocol: Protocol, address: string, port: number): boolean | undefined {
    if (!this.ipsets) return undefined;
    if (role === 'external') return this.contains('KUBE-EXTERNAL-IP-LOCAL', protocol, address, port);
    if (role === 'loadbalancer') return this.set('KUBE-LOAD-BALANCER-LOCAL', address) ? this.contains('KUBE-LOAD-BALANCER-LOCAL', protocol, address, port) : undefined;
    if (role === 'nodeport') {
      const family = address.includes(':') ? 'inet6' : 'inet';
      const set = this.ipsets.get(nodePortSetName(protocol, true, family));
      if (!set) return undefined;
      const directions = set.dimensions.length === 1 ? ['dst' as const] : ['dst' as const, 'dst' as const];
      return ipsetMatch(set, directions, { src: address, dst: address, proto: protocol, sport: 0, dport: port }) === true;
    }
    return undefined;
  }

  /** kube-proxy puts only endpoints on this node into KUBE-LOOP-BACK (endpoint, proto:port, endpoint). */
  isLocalEndpoint(vs: VirtualServer, server: RealServer): boolean | undefined {
    const set = this.set('KUBE-LOOP-BACK', server.address);
    if (!set) return undefined;
    const match = ipsetMatch(set, ['dst', 'dst', 'src'], {
      src: server.address, dst: server.address, proto: vs.protocol.toLowerCase(), sport: 0, dport: server.port,
    });
    return match;
  }

  private readonly comments = new Map<IpsetSet, Map<string, string>>();

  /** A member comment of the form `ns/name:port`, the only place an ipset could carry a Service name. */
  memberComment(base: string, entry: Classified): string | undefined {
    const set = this.set(base, entry.address);
    if (!set) return undefined;
    let byMember = this.comments.get(set);
    if (!byMember) {
      byMember = new Map();
      for (const member of set.members) {
        if (!member.comment || !/^[^/\s]+\/[^/\s]+$/.test(member.comment)) continue;
        const parsed = /^([^,]+),([a-z]+):(\d+)$/.exec(member.element);
        if (parsed) byMember.set(`${parsed[2]}|${normalizeIp(parsed[1]!) ?? parsed[1]}|${Number(parsed[3])}`, member.comment);
      }
      this.comments.set(set, byMember);
    }
    return byMember.get(`${entry.protocol}|${entry.address}|${entry.vs.port}`);
  }

  /** Allowed source ranges of a load-balancer IP from KUBE-LOAD-BALANCER-SOURCE-CIDR. */
  sourceRanges(entry: Classified): string[] {
    const set = this.set('KUBE-LOAD-BALANCER-SOURCE-CIDR', entry.address);
    const prefix = `${entry.vs.address},${entry.protocol}:${entry.vs.port},`;
    return (set?.members ?? []).filter((member) => member.element.startsWith(prefix)).map((member) => member.element.slice(prefix.length));
  }
}

/**
 * Service names from iptables comments kube-proxy writes in iptables mode (`ns/name:port cluster IP` on a
 * `-d IP -p proto --dport PORT` rule), keyed `proto|ip|port`; NodePort comments are keyed `nodeport|proto|port`.
 * In a pure IPVS node there are none; they appear when iptables-mode rules remain beside IPVS.
 */
function serviceNamesFromIptables(ruleset: Ruleset | undefined): Map<string, string> {
  const names = new Map<string, string>();
  const nat = ruleset?.tables.get('nat');
  for (const chain of nat?.chains.values() ?? []) {
    for (const rule of chain.rules) {
      if (!rule.raw.includes('--comment')) continue;
      const comment = parseKubeComment(rule.comment);
      if (!comment.service) continue;
      const protocol = rule.protocol?.value;
      const dport = rule.matches.flatMap((match) => match.options).find((option) => option.name === 'dport' && !option.negated)?.args[0];
      if (!protocol || !dport) continue;
      const destination = rule.destination && !rule.destination.negated ? normalizeIp(rule.destination.value.replace(/\/(32|128)$/, '')) : undefined;
      if (comment.kind === 'cluster-ip' && destination) names.set(`${protocol}|${destination}|${Number(dport)}`, comment.service);
      if (comment.kind === 'external-ip' && destination) names.set(`external|${protocol}|${destination}|${Number(dport)}`, comment.service);
      if (comment.kind === 'loadbalancer-ip' && destination) names.set(`loadbalancer|${protocol}|${destination}|${Number(dport)}`, comment.service);
      if (comment.kind === 'nodeport') names.set(`nodeport|${protocol}|${Number(dport)}`, comment.service);
    }
  }
  return names;
}

function label(vs: VirtualServer): string {
  return vs.protocol === 'FWM' ? `FWM ${vs.fwmark}` : `${vs.protocol} ${formatAddress(vs.address)}:${vs.port}`;
}

function formatAddress(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

function formatEndpoint(server: RealServer): string {
  return `${formatAddress(server.address)}:${server.port}`;
}

function endpointKey(server: RealServer): string {
  return `${normalizeIp(server.address) ?? server.address}:${server.port}`;
}

/** The default sort order of strings, with a comparator that skips the default's conversions. */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorted `ip:port` of a virtual server's real servers, joined by spaces ('' for none); `seen` gets each key. */
function signatureOf(vs: VirtualServer, seen: (key: string) => void): string {
  const keys: string[] = [];
  forEachRealServerKey(vs, endpointKey, (key) => {
    keys.push(key);
    seen(key);
  });
  return keys.length === 1 ? keys[0]! : keys.sort(byCodeUnits).join(' ');
}
