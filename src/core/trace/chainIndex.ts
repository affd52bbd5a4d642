/**
 * An index over long chains such as KUBE-SERVICES (one rule per Service port) and KUBE-NODEPORTS: rules that
 * can only match one destination address, or one destination port, are bucketed by it, so a packet is tested
 * only against the rules that could match it, still in chain order. Short chains are walked rule by rule.
 */

import type { Chain, Rule } from '../iptables/model';
import { parsePrefix4 } from '../net/ipv4';
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

function onlyDestination(rule: Rule): number | undefined {
  const destination = rule.destination;
  if (!destination || destination.negated) return undefined;
  const prefix = parsePrefix4(destination.value);
  return prefix && prefix.bits === 32 ? prefix.network : undefined;
}

function onlyDport(rule: Rule): string | undefined {
  const protocol = rule.protocol;
  if (!protocol || protocol.negated) return undefined;
  for (const match of rule.matches) {
    if (match.module !== protocol.value) continue;
    const dport = match.options.find((option) => option.name === 'dport' || option.name === 'destination-port');
    if (dport && !dport.negated && /^\d+$/.test(dport.args[0] ?? '')) return `${protocol.value}/${dport.args[0]}`;
  }
  return undefined;
}

function buildIndex(chain: Chain): ChainIndex | null {
  if (chain.rules.length < INDEX_THRESHOLD) return null;
  const index: ChainIndex = { byDestination: new Map(), byDport: new Map(), always: [] };
  chain.rules.forEach((rule, position) => {
    const destination = onlyDestination(rule);
    if (destination !== undefined) {
      const bucket = index.byDestination.get(destination);
      if (bucket) bucket.push(position);
      else index.byDestination.set(destination, [position]);
      return;
    }
    const dport = onlyDport(rule);
    if (dport !== undefined) {
      const bucket = index.byDport.get(dport);
      if (bucket) bucket.push(position);
      else index.byDport.set(dport, [position]);
      return;
    }
    index.always.push(position);
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
