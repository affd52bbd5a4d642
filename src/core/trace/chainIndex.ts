/**
 * An index over long chains such as KUBE-SERVICES (one rule per Service port) and KUBE-NODEPORTS: rules that
 * can only match one destination address, or one destination port, are bucketed by it, so a packet is tested
 * only against the rules that could match it, still in chain order. Short chains are walked rule by rule.
 */

import type { Chain, Rule } from '../iptables/model';
import { readEntryRule } from '../iptables/entryRule';
import { ruleCountOf } from '../iptables/parseIptablesSave';
import { scanOptions } from '../iptables/scanRule';
import { parseIPv4, parsePrefix4 } from '../net/ipv4';
import type { PacketState } from './packetState';

/** Chains shorter than this are not indexed: a plain walk is as fast. */
const INDEX_THRESHOLD = 24;

interface ChainIndex {
  byDestination: Map<number, number[]>;
  byDport: Map<string, number[]>;
  /** Rules that may match any packet; tested in order with the bucket of the packet. */
  always: number[];
}

const indexes = new WeakMap<Chain, ChainIndex | null>();

const INDEX_OPTIONS = ['-d', '--destination', '--dst', '-p', '--protocol', '--dport', '--destination-port'];

/**
 * The one destination address (a /32) or the one protocol and destination port a rule can match, read by
 * scanning its text: parsing and caching the details of every rule in KUBE-SERVICES would hold them all in memory.
 */
function indexKeys(rule: Rule): { destination?: number; dport?: string } {
  const entry = readEntryRule(rule.raw);
  if (entry) {
    const destination = entry.host === undefined ? undefined : parseIPv4(entry.host);
    if (destination !== undefined) return { destination };
    return entry.protocol && entry.dport !== undefined ? { dport: `${entry.protocol}/${entry.dport}` } : {};
  }
  const options = scanOptions(rule.raw, INDEX_OPTIONS);
  const destination = options.get('-d') ?? options.get('--destination') ?? options.get('--dst');
  if (destination && !destination.negated && destination.args[0]) {
    const prefix = parsePrefix4(destination.args[0]);
    if (prefix && prefix.bits === 32) return { destination: prefix.network };
  }
  const protocol = options.get('-p') ?? options.get('--protocol');
  const dport = options.get('--dport') ?? options.get('--destination-port');
  const protocolName = protocol?.args[0];
  const port = dport?.args[0];
  if (protocolName && !protocol.negated && dport && !dport.negated && port && /^\d+$/.test(port)) {
    return { dport: `${protocolName}/${port}` };
  }
  return {};
}

function addTo<K>(map: Map<K, number[]>, key: K, position: number): void {
  const bucket = map.get(key);
  if (bucket) bucket.push(position);
  else map.set(key, [position]);
}

function buildIndex(chain: Chain): ChainIndex | null {
  if (chain.rules.length < INDEX_THRESHOLD) return null;
  const index: ChainIndex = { byDestination: new Map(), byDport: new Map(), always: [] };
  chain.rules.forEach((rule, position) => {
    const { destination, dport } = indexKeys(rule);
    if (destination !== undefined) addTo(index.byDestination, destination, position);
    else if (dport !== undefined) addTo(index.byDport, dport, position);
    else index.always.push(position);
  });
  return index;
}

/** Builds the index of a long chain ahead of time (the analyzer does this for KUBE-SERVICES and friends). */
export function prepareChainIndex(chain: Chain): void {
  if (!indexes.has(chain)) indexes.set(chain, buildIndex(chain));
}

/**
 * The positions (0-based) of the rules in the chain that could match the packet, in chain order;
 * undefined means "every rule" (the chain is short).
 */
export function candidateRules(chain: Chain, packet: PacketState): number[] | undefined {
  // Most chains a trace passes are short; they are walked without an index and without touching their rules here.
  if (ruleCountOf(chain) < INDEX_THRESHOLD) return undefined;
  let index = indexes.get(chain);
  if (index === undefined) {
    index = buildIndex(chain);
    indexes.set(chain, index);
  }
  if (index === null) return undefined;
  const lists = [
    index.always,
    index.byDestination.get(packet.dstNumber) ?? [],
    index.byDport.get(`${packet.proto}/${packet.dport}`) ?? [],
  ].filter((list) => list.length > 0);
  if (lists.length <= 1) return lists[0] ?? [];
  return lists.flat().sort((a, b) => a - b);
}
