/**
 * Rebuilds the Services kube-proxy programmed in iptables mode from the nat and filter tables: each Service
 * port's ClusterIP, NodePort, external and load-balancer IPs, traffic policies, affinity, endpoints with their
 * exact shares, and the chain path. Rule details are read without caching, so a 200,000-rule node stays small.
 */

import type { Chain, Rule, Ruleset, Table } from '../iptables/model';
import { forEachTargetChain, isJumpedTo, peekRuleDetails, peekRuleTarget, readRulesOnce, ruleTargetName, ruleTargetText } from '../iptables/parseIptablesSave';
import { readEntryRule } from '../iptables/entryRule';
import { scanOptions } from '../iptables/scanRule';
import { classifyChain, isPerServiceChain, parseKubeComment, PER_SERVICE_PREFIXES } from '../iptables/vocabulary';
import { emptyService } from './emptyService';
import { lazyService } from './lazyService';
import { sortByService } from './serviceOrder';
import type { Protocol } from '../trace/result';
import type { EndpointInfo, PathNode, ServiceInfo, ServiceTree, SourceRef } from './model';

type Details = ReturnType<typeof peekRuleDetails>;

function option(details: Details, module: string | undefined, name: string): string[] | undefined {
  for (const match of details.matches) {
    if (module && match.module !== module) continue;
    const found = match.options.find((candidate) => candidate.name === name && !candidate.negated);
    if (found) return found.args;
  }
  return undefined;
}

const ENTRY_TARGET = /^KUBE-(SVC|SVL|EXT|FW|XLB)-/;

interface EntryFields {
  host: string | undefined;
  protocol: Protocol;
  dport: number | undefined;
  comment: string | undefined;
  localDestination: boolean;
}

/** What the first level needs from an entry rule: from its text when it has kube-proxy's shape, else parsed. */
function entryFields(rule: Rule): EntryFields {
  const fast = readEntryRule(rule.raw);
  if (fast) return { ...fast, protocol: fast.protocol ?? 'tcp' };
  const details = peekRuleDetails(rule);
  const port = option(details, details.protocol?.value, 'dport') ?? option(details, undefined, 'dport');
  const value = details.protocol?.value;
  const destination = details.destination?.value;
  const [ip, bits] = destination?.split('/') ?? [];
  return {
    host: ip !== undefined && (bits === undefined || bits === '32') ? ip : undefined,
    protocol: value === 'udp' || value === 'sctp' ? value : 'tcp',
    dport: port && /^\d+$/.test(port[0]) ? Number(port[0]) : undefined,
    comment: details.comment,
    localDestination: details.matches.some((match) => match.module === 'addrtype'),
  };
}

/** The endpoint chains of a KUBE-SVC/SVL chain with each one's share of the traffic entering it. */
interface EndpointPick {
  chain: string;
  share: number;
  rule: Rule;
  endpointFromComment?: { ip: string; port: number };
}

interface ServiceChainReading {
  picks: EndpointPick[];
  affinitySeconds: number | null;
  clusterCidrs: string[];
}

const SERVICE_CHAIN_OPTIONS = ['-s', '--source', '--probability', '--every', '--seconds', '--rcheck', '--comment'];

function readServiceChain(chain: Chain): ServiceChainReading {
  const picks: EndpointPick[] = [];
  let remaining = 1;
  let affinitySeconds: number | null = null;
  const clusterCidrs: string[] = [];
  for (const rule of readRulesOnce(chain)) {
    const target = ruleTargetName(rule);
    if (!target) continue;
    const options = scanOptions(rule.raw, SERVICE_CHAIN_OPTIONS);
    if (target === 'KUBE-MARK-MASQ') {
      const source = options.get('-s') ?? options.get('--source');
      if (source?.negated && source.args[0]) clusterCidrs.push(source.args[0]);
      continue;
    }
    if (!target.startsWith('KUBE-SEP-')) continue;
    if (options.has('--rcheck')) {
      const seconds = options.get('--seconds')?.args[0];
      if (seconds !== undefined) affinitySeconds = Number(seconds);
      continue;
    }
    const probabilityText = options.get('--probability')?.args[0];
    const everyText = options.get('--every')?.args[0];
    const probability = probabilityText !== undefined ? Number(probabilityText) : everyText !== undefined ? 1 / Number(everyText) : 1;
    const share = remaining * probability;
    remaining -= share;
    picks.push({ chain: target, share, rule, endpointFromComment: parseKubeComment(options.get('--comment')?.args.join(' ')).endpoint });
  }
  return { picks, affinitySeconds, clusterCidrs };
}

/** `--to-destination` of a DNAT rule, read from the target's own text (nothing quoted follows `-j DNAT`). */
function dnatDestination(rule: Rule): string | undefined {
  const tail = ruleTargetText(rule);
  if (tail === undefined) return peekRuleTarget(rule)?.options.find((option) => option.name === 'to-destination')?.args[0];
  return /\s--to-destination\s+(\S+)/.exec(tail)?.[1];
}

function readEndpointChain(chain: Chain | undefined): { ip: string; port: number } | undefined {
  for (const rule of chain ? readRulesOnce(chain) : []) {
    if (ruleTargetName(rule) !== 'DNAT') continue;
    const to = dnatDestination(rule);
    const match = to ? /^([\d.]+):(\d+)/.exec(to) : null;
    if (match) return { ip: match[1], port: Number(match[2]) };
  }
  return undefined;
}

/** A Service being read: its ServiceInfo fields plus the chains it enters, which completeDraft follows. */
export interface Draft extends ServiceInfo {
  serviceChain?: string;
  localChain?: string;
  externalChain?: string;
  firewallChain?: string;
}

export function buildIptablesServiceTree(ruleset: Ruleset): ServiceTree {
  const warnings: string[] = [];
  const nat = ruleset.tables.get('nat');
  const ref = (line: number): SourceRef => ({ file: ruleset.file, line });
  const drafts = firstLevelDrafts(ruleset);

  // Chains kube-proxy no longer uses but did not delete (forEach: no iterator result per chain, 70,000 on a big node).
  nat?.chains.forEach((chain) => {
    if (!chain.name.startsWith('KUBE-') || isJumpedTo(chain, nat)) return;
    const kind = classifyChain(chain.name).kind;
    if (kind === 'service' || kind === 'endpoint' || kind === 'external' || kind === 'service-local' || kind === 'firewall') {
      warnings.push(`${chain.name} (nat, line ${chain.line}) is not jumped to from anywhere: a stale chain.`);
    }
  });
  // Endpoints, paths and policies are read from the chains when a Service is first looked at.
  const services = drafts.map((draft) => lazyService(draft, () => completeDraft(draft, nat?.chains, ref)));
  let ownerOf: ((name: string) => ServiceInfo | undefined) | undefined;
  const chainOwner = (chain: string) => (isPerServiceChain(chain) ? (ownerOf ??= chainOwnersOf(drafts, services, nat))(chain) : undefined);
  return { mode: 'iptables', services, warnings, chainOwner };
}

/**
 * The first level of the tree from the entry chains alone (nat KUBE-SERVICES and KUBE-NODEPORTS, filter
 * KUBE-SERVICES, KUBE-EXTERNAL-SERVICES and KUBE-NODEPORTS), in the tree's order: each Service's id, addresses,
 * ports and the chains it enters. The rest of the ruleset is not read, so a preview of the tree can be built from
 * those chains before the whole dump is parsed (iptablesPreview.ts).
 */
export function firstLevelDrafts(ruleset: Ruleset): Draft[] {
  const nat = ruleset.tables.get('nat');
  const filter = ruleset.tables.get('filter');
  const file = ruleset.file;
  // One map per protocol, keyed by the Service id as read from the comment: no joined key string per rule.
  const drafts: Record<Protocol, Map<string, Draft>> = { tcp: new Map(), udp: new Map(), sctp: new Map() };
  const ref = (line: number): SourceRef => ({ file, line });

  const draftFor = (id: string, protocol: Protocol, line: number): Draft => {
    let draft = drafts[protocol].get(id);
    if (!draft) {
      draft = emptyService(id, protocol);
      draft.source = ref(line);
      drafts[protocol].set(id, draft);
    }
    return draft;
  };

  // Entry rules: KUBE-SERVICES (cluster, external and load-balancer IPs) and KUBE-NODEPORTS.
  for (const rule of nat?.chains.get('KUBE-SERVICES')?.rules ?? []) {
    const target = ruleTargetName(rule);
    if (!target || !ENTRY_TARGET.test(target)) continue;
    const fields = entryFields(rule);
    const comment = parseKubeComment(fields.comment);
    const draft = draftFor(comment.service ?? target, fields.protocol, rule.line);
    const address = fields.host !== undefined && fields.dport !== undefined ? { ip: fields.host, port: fields.dport } : undefined;
    if (comment.kind === 'external-ip') {
      if (address) draft.externalIPs.push(address);
    } else if (comment.kind === 'loadbalancer-ip') {
      if (address) draft.loadBalancerIPs.push(address);
    } else {
      draft.clusterIP ??= address ?? null;
      draft.source = ref(rule.line);
    }
    assignChain(draft, target, comment.kind === 'cluster-ip' || comment.kind === 'other');
  }
  for (const rule of nat?.chains.get('KUBE-NODEPORTS')?.rules ?? []) {
    const target = ruleTargetName(rule);
    if (!target || !ENTRY_TARGET.test(target)) continue;
    const fields = entryFields(rule);
    const comment = parseKubeComment(fields.comment);
    const draft = draftFor(comment.service ?? target, fields.protocol, rule.line);
    draft.nodePort = fields.dport ?? draft.nodePort;
    assignChain(draft, target, false);
  }

  // Services without endpoints appear only as REJECT/DROP rules in the filter table.
  for (const chainName of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS']) {
    for (const rule of filter?.chains.get(chainName)?.rules ?? []) {
      const fields = entryFields(rule);
      const comment = parseKubeComment(fields.comment);
      if (!comment.service) continue;
      if (comment.kind === 'health-check') {
        // The health-check port is always TCP, whatever the Service's protocol: it marks the Service, not a port.
        for (const protocol of ['tcp', 'udp', 'sctp'] as const) {
          const draft = drafts[protocol].get(comment.service);
          if (draft) draft.externalTrafficPolicy = 'Local';
        }
        continue;
      }
      const draft = draftFor(comment.service, fields.protocol, rule.line);
      const ip = fields.host;
      const port = fields.dport;
      if (comment.kind === 'no-endpoints') {
        if (fields.localDestination && port !== undefined) draft.nodePort ??= port;
        else if (ip && port !== undefined && chainName === 'KUBE-SERVICES') draft.clusterIP ??= { ip, port };
        else if (ip && port !== undefined && !draft.externalIPs.some((a) => a.ip === ip && a.port === port)) draft.externalIPs.push({ ip, port });
        addWarning(draft, `${comment.service} has no endpoints: kube-proxy REJECTs its traffic (filter ${chainName}, line ${rule.line}).`);
      } else if (comment.kind === 'no-local-endpoints') {
        draft.externalTrafficPolicy = 'Local';
        addWarning(draft, `${comment.service} has no endpoints on this node: external traffic (traffic policy Local) is dropped (filter ${chainName}, line ${rule.line}).`);
      }
    }
  }

  return sortByService([...drafts.tcp.values(), ...drafts.udp.values(), ...drafts.sctp.values()], (draft) => draft);
}

/**
 * Which Service each per-Service chain belongs to, following rule targets from the entry chains found in
 * KUBE-SERVICES and KUBE-NODEPORTS to the firewall, external, service and endpoint chains they lead to. The parser
 * resolved each rule's target to its chain, so the walk looks no name up (on a big node that was most of its cost).
 * The first Service in the tree's order that reaches a chain owns it; a target that names no declared chain is
 * owned by name.
 */
function chainOwnersOf(drafts: Draft[], services: ServiceInfo[], nat: Table | undefined): (name: string) => ServiceInfo | undefined {
  const owners = new Map<Chain, ServiceInfo>();
  const undeclared = new Map<string, ServiceInfo>();
  drafts.forEach((draft, i) => {
    const service = services[i]!;
    const ownByName = (name: string) => {
      if (!undeclared.has(name)) undeclared.set(name, service);
    };
    const queue: Chain[] = [];
    for (const name of [draft.firewallChain, draft.externalChain, draft.serviceChain, draft.localChain]) {
      if (name === undefined) continue;
      const chain = nat?.chains.get(name);
      if (chain) queue.push(chain);
      else ownByName(name);
    }
    while (queue.length > 0) {
      const chain = queue.pop()!;
      if (owners.has(chain) || !isPerServiceChain(chain.name)) continue;
      owners.set(chain, service);
      forEachTargetChain(chain, nat!, (target) => queue.push(target), PER_SERVICE_PREFIXES, ownByName);
    }
  });
  return (name) => {
    const chain = nat?.chains.get(name);
    return chain ? owners.get(chain) : undeclared.get(name);
  };
}

function assignChain(draft: Draft, target: string, fromClusterIP: boolean): void {
  if (target.startsWith('KUBE-SVC-')) draft.serviceChain ??= target;
  else if (target.startsWith('KUBE-SVL-')) {
    draft.localChain ??= target;
    if (fromClusterIP) draft.internalTrafficPolicy = 'Local';
  } else if (target.startsWith('KUBE-EXT-') || target.startsWith('KUBE-XLB-')) draft.externalChain ??= target;
  else if (target.startsWith('KUBE-FW-')) draft.firewallChain ??= target;
}

function addWarning(draft: Draft, warning: string): void {
  if (!draft.warnings.includes(warning)) draft.warnings.push(warning);
}

function completeDraft(draft: Draft, chains: Map<string, Chain> | undefined, ref: (line: number) => SourceRef): void {
  if (!chains) return;
  const chainNode = (name: string, kind: PathNode['kind'], label = name): PathNode => {
    const chain = chains.get(name);
    return { label, kind, source: chain ? ref(chain.line) : undefined, children: [] };
  };
  // The firewall and external chains tell the policies and lead to the service chains.
  if (draft.firewallChain) {
    const fw = chains.get(draft.firewallChain);
    for (const rule of fw ? readRulesOnce(fw) : []) {
      const details = peekRuleDetails(rule);
      if (details.source && !details.source.negated && ruleTargetName(rule)?.startsWith('KUBE-EXT-')) draft.sourceRanges.push(details.source.value);
      if (!draft.externalChain && ruleTargetName(rule)?.startsWith('KUBE-EXT-')) draft.externalChain = ruleTargetName(rule);
    }
  }
  const externalNode = draft.externalChain ? chainNode(draft.externalChain, 'external-chain') : undefined;
  if (draft.externalChain) {
    const external = chains.get(draft.externalChain);
    const rules = external ? readRulesOnce(external) : [];
    rules.forEach((rule, position) => {
      const target = ruleTargetName(rule);
      if (target?.startsWith('KUBE-SVL-')) {
        draft.externalTrafficPolicy = 'Local';
        draft.localChain ??= target;
      } else if (target?.startsWith('KUBE-SVC-')) {
        draft.serviceChain ??= target;
        if (position === rules.length - 1) draft.externalTrafficPolicy ??= 'Cluster';
      }
    });
    draft.externalTrafficPolicy ??= draft.externalChain.startsWith('KUBE-XLB-') ? 'Local' : 'Cluster';
  }
  if (draft.clusterIP && !draft.internalTrafficPolicy) draft.internalTrafficPolicy = draft.serviceChain ? 'Cluster' : null;

  const endpointChildren = (serviceChain: string, local: boolean): { node: PathNode; endpoints: EndpointInfo[] } => {
    const chain = chains.get(serviceChain);
    const node = chainNode(serviceChain, local ? 'local-chain' : 'service-chain');
    const endpoints: EndpointInfo[] = [];
    if (!chain) {
      addWarning(draft, `${serviceChain} is jumped to but not declared in the nat table.`);
      return { node, endpoints };
    }
    const reading = readServiceChain(chain);
    if (reading.affinitySeconds !== null) draft.sessionAffinitySeconds = reading.affinitySeconds;
    for (const pick of reading.picks) {
      const endpoint = readEndpointChain(chains.get(pick.chain)) ?? pick.endpointFromComment;
      if (!endpoint) addWarning(draft, `${pick.chain} has no DNAT rule: it cannot deliver traffic.`);
      const label = endpoint ? `${pick.chain} → ${endpoint.ip}:${endpoint.port}` : pick.chain;
      const sepChain = chains.get(pick.chain);
      node.children.push({ label, kind: 'endpoint-chain', share: pick.share, source: sepChain ? ref(sepChain.line) : ref(pick.rule.line), children: [] });
      if (endpoint) {
        endpoints.push({ ip: endpoint.ip, port: endpoint.port, share: pick.share, chain: pick.chain, source: sepChain ? ref(sepChain.line) : undefined, local });
      }
    }
    if (reading.picks.length === 0) addWarning(draft, `${serviceChain} has no endpoint chains: traffic that reaches it is not load-balanced.`);
    return { node, endpoints };
  };

  if (draft.serviceChain) {
    const { node, endpoints } = endpointChildren(draft.serviceChain, false);
    draft.endpoints = endpoints;
    draft.path.push(node);
  }
  if (draft.localChain) {
    const { node, endpoints } = endpointChildren(draft.localChain, true);
    if (!draft.serviceChain) draft.endpoints = endpoints;
    else for (const endpoint of draft.endpoints) endpoint.local = endpoints.some((local) => local.ip === endpoint.ip && local.port === endpoint.port);
    draft.path.push(node);
  }
  if (externalNode) {
    const lead = draft.externalTrafficPolicy === 'Local' ? draft.localChain : draft.serviceChain;
    if (lead) externalNode.children.push({ label: lead, kind: lead.startsWith('KUBE-SVL-') ? 'local-chain' : 'service-chain', source: chains.get(lead) ? ref(chains.get(lead)!.line) : undefined, children: [] });
    draft.path.push(externalNode);
  }
  if (draft.firewallChain) {
    const node = chainNode(draft.firewallChain, 'firewall-chain');
    if (draft.externalChain) node.children.push({ label: draft.externalChain, kind: 'external-chain', children: [] });
    draft.path.push(node);
  }
  if (draft.endpoints.length === 0 && !draft.warnings.some((warning) => warning.includes('no endpoints'))) {
    addWarning(draft, `${draft.id} has no endpoints in the nat table.`);
  }
}
