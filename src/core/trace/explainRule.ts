/**
 * Plain sentences for the steps of a trace: why a rule matched this packet and what its target did, in
 * kube-proxy's words with the meaning beside them. The CLI, the trace panel and Markdown export show these.
 */

import type { Rule, RuleOption } from '../iptables/model';
import { findOption } from '../iptables/ruleDetails';
import { classifyChain, MASQUERADE_MARK, parseKubeComment } from '../iptables/vocabulary';
import type { PacketState } from './packetState';

export function formatShare(probability: number): string {
  const percent = probability * 100;
  if (percent === 100) return '100%';
  if (percent >= 10) return `${percent.toFixed(1)}%`;
  if (percent >= 0.1) return `${percent.toFixed(2)}%`;
  return `${percent.toPrecision(2)}%`;
}

/** Why the rule's conditions hold for this packet, as a short clause ("" when the rule matches everything). */
function describeConditions(rule: Rule, packet: PacketState): string {
  const parts: string[] = [];
  if (rule.destination) {
    parts.push(`destination ${packet.dst} ${rule.destination.negated ? 'is not in' : 'is in'} ${rule.destination.value}`);
  }
  if (rule.source) parts.push(`source ${packet.src} ${rule.source.negated ? 'is not in' : 'is in'} ${rule.source.value}`);
  for (const match of rule.matches) {
    if (match.module === 'tcp' || match.module === 'udp' || match.module === 'sctp') {
      const dport = findOption(match.options, 'dport', 'destination-port');
      if (dport) parts.push(`${match.module.toUpperCase()} port ${packet.dport}${dport.negated ? ' is not' : ' matches'} ${dport.args[0]}`);
    } else if (match.module === 'addrtype') {
      const dstType = findOption(match.options, 'dst-type');
      const srcType = findOption(match.options, 'src-type');
      if (dstType) parts.push(`destination ${packet.dst} is ${dstType.negated ? 'not ' : ''}a ${dstType.args[0]} address of this node`);
      if (srcType) parts.push(`source ${packet.src} is ${srcType.negated ? 'not ' : ''}a ${srcType.args[0]} address of this node`);
    } else if (match.module === 'mark') {
      const mark = findOption(match.options, 'mark');
      if (mark) parts.push(`mark 0x${packet.mark.toString(16)} ${mark.negated ? 'does not match' : 'matches'} ${mark.args[0]}`);
    } else if (match.module === 'set') {
      const set = findOption(match.options, 'match-set');
      if (set) parts.push(`the packet is ${set.negated ? 'not ' : ''}in ipset ${set.args[0]} (${set.args[1]})`);
    } else if (match.module === 'conntrack' || match.module === 'state') {
      const state = findOption(match.options, 'ctstate', 'state');
      if (state) parts.push(`connection state ${state.negated ? 'is not' : 'is'} ${state.args[0]}`);
    } else if (match.module === 'multiport') {
      const ports = findOption(match.options, 'dports', 'destination-ports');
      if (ports) parts.push(`port ${packet.dport} is ${ports.negated ? 'not ' : ''}in ${ports.args[0]}`);
    }
  }
  return parts.join(', ');
}

function describeMarkChange(target: string, options: RuleOption[], before: number, after: number): string {
  const change = options.map((o) => `--${o.name} ${o.args.join(' ')}`).join(' ');
  const masq = (after & MASQUERADE_MARK) !== 0 && (before & MASQUERADE_MARK) === 0 ? ' (masquerade requested)' : '';
  return `${target} ${change}: mark 0x${before.toString(16)} → 0x${after.toString(16)}${masq}.`;
}

export interface StepFacts {
  /** Share of packets reaching this rule that match it, when a statistic split applied. */
  splitProbability?: number;
  /** Share of all packets that follow this branch after the rule. */
  overallShare: number;
  markBefore: number;
  markAfter: number;
  /** Destination after a DNAT/REDIRECT of this rule. */
  dnatTo?: string;
  /** The dataplane mode's own sentence for a chain, used before iptables mode's. */
  describeChain?: (chain: string) => string | undefined;
}

export function explainRule(rule: Rule, packet: PacketState, facts: StepFacts): string {
  const target = rule.target;
  const comment = parseKubeComment(rule.comment);
  const conditions = describeConditions(rule, packet);
  const because = conditions ? `${conditions[0].toUpperCase()}${conditions.slice(1)}` : 'Matches every packet';
  const sentences: string[] = [];
  if (facts.splitProbability !== undefined) {
    const endpoint = comment.endpoint ? ` endpoint ${comment.endpoint.ip}:${comment.endpoint.port} of ${comment.service}` : '';
    sentences.push(
      `Taken by ${formatShare(facts.splitProbability)} of the packets that reach this rule (statistic), ${formatShare(facts.overallShare)} of all:${endpoint ? endpoint : ` ${target?.name ?? 'no target'}`}.`,
    );
  } else if (conditions) {
    sentences.push(`${because}.`);
  }
  if (!target) {
    sentences.push('The rule has no target; it only counts the packet.');
    return sentences.join(' ');
  }
  const name = target.name;
  switch (name) {
    case 'ACCEPT':
      sentences.push('ACCEPT: this table lets the packet through.');
      break;
    case 'DROP':
      sentences.push(comment.kind === 'no-local-endpoints' && comment.service
        ? `${comment.service} has no endpoints on this node for external traffic (traffic policy Local): DROP.`
        : 'DROP: the packet is discarded silently; the client times out.');
      break;
    case 'REJECT': {
      const reply = findOption(target.options, 'reject-with')?.args[0] ?? 'icmp-port-unreachable';
      const why = comment.kind === 'no-endpoints' && comment.service ? `${comment.service} has no endpoints, so ` : '';
      sentences.push(`${why}REJECT with ${reply}: the client sees "connection refused".`);
      break;
    }
    case 'RETURN':
      sentences.push('RETURN to the calling chain.');
      break;
    case 'DNAT':
      sentences.push(`DNAT: destination rewritten to ${facts.dnatTo ?? findOption(target.options, 'to-destination')?.args[0]}.`);
      break;
    case 'REDIRECT':
      sentences.push(`REDIRECT to this node, port ${facts.dnatTo ?? findOption(target.options, 'to-ports')?.args[0]}.`);
      break;
    case 'MASQUERADE':
      sentences.push(
        (facts.markBefore & MASQUERADE_MARK) !== 0
          ? 'MASQUERADE: the packet carries kube-proxy\'s 0x4000 mark, so its source is rewritten to the node\'s address on the way out.'
          : 'MASQUERADE: the source is rewritten to the address of the outgoing interface.',
      );
      break;
    case 'SNAT':
      sentences.push(`SNAT: the source is rewritten to ${findOption(target.options, 'to-source')?.args[0] ?? 'another address'}.`);
      break;
    case 'MARK':
    case 'CONNMARK':
      sentences.push(describeMarkChange(name, target.options, facts.markBefore, facts.markAfter));
      break;
    case 'LOG':
    case 'NFLOG':
    case 'TRACE':
    case 'ULOG':
      sentences.push(`${name} records the packet and the walk goes on.`);
      break;
    default: {
      const info = classifyChain(name);
      const verb = target.kind === 'goto' ? 'Go to' : 'Jump to';
      if (info.kind === 'mark-masq') {
        sentences.push(`${verb} KUBE-MARK-MASQ: the packet will be masqueraded on its way out.`);
      } else if (comment.service && (info.kind === 'service' || info.kind === 'external' || info.kind === 'firewall' || info.kind === 'service-local')) {
        const what = comment.kind === 'cluster-ip' ? 'cluster IP' : comment.kind === 'external-ip' ? 'external IP' : comment.kind === 'loadbalancer-ip' ? 'load-balancer IP' : comment.kind === 'nodeport' || comment.kind === 'service' ? 'NodePort or Service rule' : 'rule';
        sentences.push(`${verb} ${name}, the chain of ${comment.service} (${what}).`);
      } else if (info.kind === 'endpoint' && facts.splitProbability === undefined) {
        sentences.push(`${verb} ${name} (an endpoint chain).`);
      } else if (facts.splitProbability === undefined) {
        const own = facts.describeChain?.(name);
        sentences.push(`${verb} ${name}. ${own ?? (info.kind === 'not-kube' ? '' : info.explanation)}`.trim());
      }
    }
  }
  return sentences.join(' ');
}
