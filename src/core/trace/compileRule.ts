/**
 * Turns a parsed iptables rule into a list of checks that run against a packet. Addresses and port lists are
 * parsed once per rule and cached; a match module the tracer does not know becomes an "unknown" check, which
 * the walker treats as not matching and reports — never as silently true.
 */

import type { Negatable, Rule, RuleMatch, RuleOption } from '../iptables/model';
import { findOption } from '../iptables/ruleDetails';
import { parsePrefix4, prefixContains } from '../net/ipv4';
import type { LocalRoutes } from '../routes/localRoutes';
import { combineAll, fromBoolean, MATCH, negate, NO_MATCH, unknown, type MatchResult } from './matchResult';
import type { PacketState } from './packetState';

export type SetDirection = 'src' | 'dst';

export interface MatchEnvironment {
  readonly routes: LocalRoutes | undefined;
  /** Whether the packet's fields, taken in the given directions, are in the named ipset; undefined = cannot tell. */
  readonly ipsetMatch: ((name: string, directions: SetDirection[], packet: PacketState) => boolean | undefined) | undefined;
  /** Records an assumption the answer rests on (listed once in the trace's `assumptions`). */
  assume(text: string): void;
}

export type Check = (packet: PacketState, env: MatchEnvironment) => MatchResult;

export interface CompiledRule {
  readonly checks: Check[];
}

const cache = new WeakMap<Rule, CompiledRule>();

/** The rule's checks; `keep` false builds them for this one use (the rule object is not kept either). */
export function compileRule(rule: Rule, keep = true): CompiledRule {
  let compiled = cache.get(rule);
  if (!compiled) {
    compiled = { checks: buildChecks(rule) };
    if (keep) cache.set(rule, compiled);
  }
  return compiled;
}

export function evaluateRule(rule: Rule, packet: PacketState, env: MatchEnvironment, keep = true): MatchResult {
  const { checks } = compileRule(rule, keep);
  if (checks.length === 0) return MATCH;
  if (checks.length === 1) return checks[0](packet, env);
  const results: MatchResult[] = [];
  for (const check of checks) {
    const result = check(packet, env);
    if (result.kind === 'no') return NO_MATCH;
    results.push(result);
  }
  return combineAll(results);
}

const PROTOCOL_NUMBERS: Record<string, string> = { '6': 'tcp', '17': 'udp', '132': 'sctp', '1': 'icmp' };

function buildChecks(rule: Rule): Check[] {
  const checks: Check[] = [];
  if (rule.source) checks.push(addressCheck(rule.source, 'src'));
  if (rule.destination) checks.push(addressCheck(rule.destination, 'dst'));
  if (rule.protocol) checks.push(protocolCheck(rule.protocol));
  if (rule.inInterface) checks.push(interfaceCheck(rule.inInterface, 'in'));
  if (rule.outInterface) checks.push(interfaceCheck(rule.outInterface, 'out'));
  // The first packet of a connection is never a non-first fragment.
  if (rule.fragment) checks.push(() => fromBoolean(false, rule.fragment!.negated));
  for (const match of rule.matches) checks.push(...moduleChecks(match));
  return checks;
}

function addressCheck(address: Negatable<string>, field: 'src' | 'dst'): Check {
  const prefix = parsePrefix4(address.value);
  if (!prefix) return () => unknown(`cannot read the address "${address.value}"`);
  return (packet) =>
    fromBoolean(prefixContains(prefix, field === 'src' ? packet.srcNumber : packet.dstNumber), address.negated);
}

function normaliseProtocol(name: string): string {
  const lower = name.toLowerCase();
  return PROTOCOL_NUMBERS[lower] ?? lower;
}

function protocolCheck(protocol: Negatable<string>): Check {
  const wanted = normaliseProtocol(protocol.value);
  if (wanted === 'all' || wanted === '0') return () => fromBoolean(true, protocol.negated);
  return (packet) => fromBoolean(packet.proto === wanted, protocol.negated);
}

/** iptables interface names: a trailing `+` matches every name with that prefix. */
function interfaceMatches(pattern: string, name: string): boolean {
  return pattern.endsWith('+') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

function interfaceCheck(iface: Negatable<string>, direction: 'in' | 'out'): Check {
  return (packet) => {
    const actual = direction === 'in' ? packet.inInterface : packet.outInterface;
    if (actual === null) return NO_MATCH;
    if (actual === undefined) {
      return unknown(
        `the ${direction === 'in' ? 'incoming' : 'outgoing'} interface is not known (collect route-main.txt to know it), so "${iface.negated ? '! ' : ''}-${direction === 'in' ? 'i' : 'o'} ${iface.value}" cannot be decided`,
      );
    }
    return fromBoolean(interfaceMatches(iface.value, actual), iface.negated);
  };
}

/** `80`, `1000:2000`, `:1024`, `1024:`. */
function parsePortRange(text: string): [number, number] | undefined {
  const colon = text.indexOf(':');
  if (colon === -1) {
    const port = Number(text);
    return Number.isInteger(port) ? [port, port] : undefined;
  }
  const low = colon === 0 ? 0 : Number(text.slice(0, colon));
  const high = colon === text.length - 1 ? 65535 : Number(text.slice(colon + 1));
  return Number.isInteger(low) && Number.isInteger(high) ? [low, high] : undefined;
}

function portListCheck(option: RuleOption, field: 'sport' | 'dport' | 'either'): Check {
  const ranges = option.args.join(',').split(',').map(parsePortRange);
  if (ranges.some((range) => range === undefined)) {
    return () => unknown(`cannot read the ports "${option.args.join(' ')}"`);
  }
  const inRange = (port: number) => ranges.some((range) => port >= range![0] && port <= range![1]);
  return (packet) => {
    const hit = field === 'either' ? inRange(packet.sport) || inRange(packet.dport) : inRange(packet[field]);
    return fromBoolean(hit, option.negated);
  };
}

function markCheck(option: RuleOption, field: 'mark' | 'connmark'): Check {
  const [valueText, maskText] = (option.args[0] ?? '').split('/');
  const value = Number(valueText);
  const mask = maskText === undefined ? 0xffffffff : Number(maskText);
  if (!Number.isFinite(value) || !Number.isFinite(mask)) {
    return () => unknown(`cannot read the mark "${option.args.join(' ')}"`);
  }
  return (packet) => fromBoolean(((packet[field] & mask) >>> 0) === value >>> 0, option.negated);
}

/** The states the first packet of a new connection has, given what NAT already did to it. */
function connectionStates(packet: PacketState): Set<string> {
  if (packet.untracked) return new Set(['UNTRACKED']);
  const states = new Set(['NEW']);
  if (packet.dnatDone) states.add('DNAT');
  if (packet.snatDone) states.add('SNAT');
  return states;
}

export const FIRST_PACKET = 'first packet of a new connection (conntrack state NEW; ESTABLISHED and RELATED do not match)';

function stateCheck(option: RuleOption): Check {
  const wanted = option.args.join(',').toUpperCase().split(',');
  return (packet, env) => {
    env.assume(FIRST_PACKET);
    const states = connectionStates(packet);
    return fromBoolean(
      wanted.some((state) => states.has(state)),
      option.negated,
    );
  };
}

function addrtypeCheck(option: RuleOption, field: 'src' | 'dst'): Check {
  const types = option.args.join(',').toUpperCase().split(',');
  return (packet, env) => {
    const address = field === 'src' ? packet.src : packet.dst;
    if (!env.routes) {
      return unknown(`route-local.txt was not collected, so whether ${address} is ${types.join('/')} is not known`);
    }
    const local = env.routes.isLocal(address);
    const broadcast = env.routes.isBroadcast(address);
    const first = Number(address.split('.')[0]);
    const multicast = first >= 224 && first <= 239;
    const results: boolean[] = [];
    for (const type of types) {
      if (type === 'LOCAL') results.push(local);
      else if (type === 'BROADCAST') results.push(broadcast);
      else if (type === 'MULTICAST') results.push(multicast);
      else if (type === 'UNICAST') results.push(!local && !broadcast && !multicast);
      else return unknown(`address type ${type} is not modelled`);
    }
    return fromBoolean(results.some(Boolean), option.negated);
  };
}

function setCheck(option: RuleOption): Check {
  const [name, flagText] = option.args;
  const directions = (flagText ?? '').split(',').filter((flag) => flag === 'src' || flag === 'dst') as SetDirection[];
  return (packet, env) => {
    if (!name || directions.length === 0) return unknown(`cannot read "--match-set ${option.args.join(' ')}"`);
    if (!env.ipsetMatch) return unknown(`ipset.txt was not collected, so membership in ${name} is not known`);
    const member = env.ipsetMatch(name, directions, packet);
    if (member === undefined) return unknown(`membership in ipset ${name} cannot be decided from ipset.txt`);
    return fromBoolean(member, option.negated);
  };
}

function statisticCheck(match: RuleMatch): Check {
  const mode = findOption(match.options, 'mode')?.args[0];
  const probabilityOption = findOption(match.options, 'probability');
  const everyOption = findOption(match.options, 'every');
  let probability: number | undefined;
  let reason = '';
  let negated = false;
  if (mode === 'random' && probabilityOption) {
    probability = Number(probabilityOption.args[0]);
    negated = probabilityOption.negated;
    reason = `statistic random ${probabilityOption.args[0]}`;
  } else if (mode === 'nth' && everyOption) {
    const every = Number(everyOption.args[0]);
    probability = every > 0 ? 1 / every : undefined;
    negated = everyOption.negated;
    reason = `statistic nth every ${everyOption.args[0]}`;
  }
  if (probability === undefined || !Number.isFinite(probability) || probability < 0 || probability > 1) {
    return () => unknown(`cannot read the statistic match "${match.options.map((o) => `--${o.name} ${o.args.join(' ')}`).join(' ')}"`);
  }
  const result: MatchResult = { kind: 'split', probability, reason };
  const final = negated ? negate(result) : result;
  return () => final;
}

function tcpFlagsCheck(option: RuleOption): Check {
  const [maskText, setText] = option.args;
  const mask = (maskText ?? '').toUpperCase().split(',');
  const set = new Set((setText ?? '').toUpperCase().split(','));
  // The first packet of a new TCP connection carries SYN alone.
  const hasFlag = (flag: string) => flag === 'SYN' || flag === 'ALL';
  return (_packet, env) => {
    env.assume(FIRST_PACKET);
    const matches = mask.every((flag) => (flag === 'ALL' ? set.has('SYN') && set.size === 1 : hasFlag(flag) === set.has(flag)));
    return fromBoolean(matches, option.negated);
  };
}

function iprangeCheck(option: RuleOption, field: 'src' | 'dst'): Check {
  const [low, high] = (option.args[0] ?? '').split('-').map((part) => parsePrefix4(part)?.network);
  if (low === undefined || high === undefined) return () => unknown(`cannot read the range "${option.args[0]}"`);
  return (packet) => {
    const address = field === 'src' ? packet.srcNumber : packet.dstNumber;
    return fromBoolean(address >= low && address <= high, option.negated);
  };
}

/** Checks for a match module whose options all use the same kind of test. */
function moduleChecks(match: RuleMatch): Check[] {
  const checks: Check[] = [];
  const unsupported = (option: RuleOption) =>
    checks.push(() => unknown(`-m ${match.module} --${option.name} is not modelled by the tracer`));
  switch (match.module) {
    case 'comment':
      return checks;
    case 'tcp':
    case 'udp':
    case 'sctp':
    case 'udplite':
    case 'dccp':
      checks.push((packet) => fromBoolean(packet.proto === match.module));
      for (const option of match.options) {
        if (option.name === 'dport' || option.name === 'destination-port') checks.push(portListCheck(option, 'dport'));
        else if (option.name === 'sport' || option.name === 'source-port') checks.push(portListCheck(option, 'sport'));
        else if (option.name === 'tcp-flags') checks.push(tcpFlagsCheck(option));
        else if (option.name === 'syn') checks.push(tcpFlagsCheck({ ...option, args: ['FIN,SYN,RST,ACK', 'SYN'] }));
        else unsupported(option);
      }
      return checks;
    case 'icmp':
    case 'icmp6':
      // Traced packets are TCP, UDP or SCTP, never ICMP.
      return [() => NO_MATCH];
    case 'multiport':
      for (const option of match.options) {
        if (option.name === 'dports' || option.name === 'destination-ports') checks.push(portListCheck(option, 'dport'));
        else if (option.name === 'sports' || option.name === 'source-ports') checks.push(portListCheck(option, 'sport'));
        else if (option.name === 'ports') checks.push(portListCheck(option, 'either'));
        else unsupported(option);
      }
      return checks;
    case 'statistic':
      return [statisticCheck(match)];
    case 'mark':
      for (const option of match.options) {
        if (option.name === 'mark') checks.push(markCheck(option, 'mark'));
        else unsupported(option);
      }
      return checks;
    case 'connmark':
      for (const option of match.options) {
        if (option.name === 'mark') checks.push(markCheck(option, 'connmark'));
        else unsupported(option);
      }
      return checks;
    case 'addrtype':
      for (const option of match.options) {
        if (option.name === 'dst-type') checks.push(addrtypeCheck(option, 'dst'));
        else if (option.name === 'src-type') checks.push(addrtypeCheck(option, 'src'));
        else unsupported(option);
      }
      return checks;
    case 'set':
      for (const option of match.options) {
        if (option.name === 'match-set') checks.push(setCheck(option));
        else if (option.name === 'return-nomatch' || option.name.startsWith('update-') || option.name.startsWith('packets-') || option.name.startsWith('bytes-')) continue;
        else unsupported(option);
      }
      return checks;
    case 'conntrack':
    case 'state':
      for (const option of match.options) {
        if (option.name === 'ctstate' || option.name === 'state') checks.push(stateCheck(option));
        else if (option.name === 'ctdir') checks.push(() => fromBoolean((option.args[0] ?? '').toUpperCase() === 'ORIGINAL', option.negated));
        else if (option.name === 'ctorigdst') {
          const prefix = parsePrefix4(option.args[0] ?? '');
          checks.push((packet) =>
            prefix ? fromBoolean(prefixContains(prefix, parsePrefix4(packet.originalDst)!.network), option.negated) : unknown(`cannot read --ctorigdst ${option.args[0]}`),
          );
        } else if (option.name === 'ctorigdstport') {
          checks.push(portCheckOn(option, (packet) => packet.originalDport));
        } else if (option.name === 'ctproto') {
          checks.push((packet) => fromBoolean(packet.proto === normaliseProtocol(option.args[0] ?? ''), option.negated));
        } else unsupported(option);
      }
      return checks;
    case 'recent':
      return [recentCheck(match)];
    case 'nfacct':
      // Only counts packets into a named accounting object.
      return [];
    case 'limit':
    case 'hashlimit':
    case 'quota':
      return [
        (_packet, env) => {
          env.assume(`the rate limits and quotas of -m ${match.module} rules are not exceeded`);
          return MATCH;
        },
      ];
    case 'iprange':
      for (const option of match.options) {
        if (option.name === 'src-range') checks.push(iprangeCheck(option, 'src'));
        else if (option.name === 'dst-range') checks.push(iprangeCheck(option, 'dst'));
        else unsupported(option);
      }
      return checks;
    case 'physdev':
      for (const option of match.options) {
        if (option.name === 'physdev-is-in' || option.name === 'physdev-is-out' || option.name === 'physdev-is-bridged' || option.name === 'physdev-in' || option.name === 'physdev-out') {
          checks.push((_packet, env) => {
            env.assume('the packet did not cross a Linux bridge port (every -m physdev test is false; not so for pods on a bridge CNI with br_netfilter)');
            return fromBoolean(false, option.negated);
          });
        } else unsupported(option);
      }
      return checks;
    case 'pkttype':
      for (const option of match.options) {
        if (option.name === 'pkt-type') checks.push(() => fromBoolean((option.args[0] ?? '').toLowerCase() === 'unicast', option.negated));
        else unsupported(option);
      }
      return checks;
    case 'policy':
      for (const option of match.options) {
        if (option.name === 'pol') {
          checks.push((_packet, env) => {
            env.assume('no IPsec policy applies to the packet');
            return fromBoolean((option.args[0] ?? '') === 'none', option.negated);
          });
        } else if (option.name !== 'dir') unsupported(option);
      }
      return checks;
    default:
      return [() => unknown(`match module -m ${match.module} is not modelled by the tracer`)];
  }
}

function portCheckOn(option: RuleOption, read: (packet: PacketState) => number): Check {
  const range = parsePortRange(option.args[0] ?? '');
  if (!range) return () => unknown(`cannot read the port "${option.args[0]}"`);
  return (packet) => {
    const port = read(packet);
    return fromBoolean(port >= range[0] && port <= range[1], option.negated);
  };
}

const NO_AFFINITY = 'no session-affinity entry exists yet for the source (-m recent --rcheck/--update do not match)';

function recentCheck(match: RuleMatch): Check {
  const names = match.options.map((option) => option.name);
  if (names.includes('set') || names.includes('remove')) {
    // --set records the source and always matches; --remove deletes it and matches when it was present.
    return names.includes('set') ? () => MATCH : () => NO_MATCH;
  }
  if (names.includes('rcheck') || names.includes('update')) {
    const negated = match.options.some((option) => (option.name === 'rcheck' || option.name === 'update') && option.negated);
    return (_packet, env) => {
      env.assume(NO_AFFINITY);
      return fromBoolean(false, negated);
    };
  }
  return () => unknown(`-m recent ${names.map((name) => `--${name}`).join(' ')} is not modelled`);
}
