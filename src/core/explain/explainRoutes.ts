/**
 * Explains words in `ip route show table local` output: which addresses the kernel treats as this node's
 * own, why kube-ipvs0 holds every Service IP in IPVS mode, and what the route types and scopes mean.
 */

import type { ServiceTree } from '../services/model';
import { escapeMarkdown, inlineCode } from './markdown';
import { describeService, servicesAtAddress } from './serviceLookup';
import { tokenAt } from './tokenAt';
import type { Explanation } from './explainIptables';

const ROUTE_TYPES: Record<string, string> = {
  local: 'the address belongs to this node: packets to it are delivered locally (through INPUT), not forwarded.',
  broadcast: 'a broadcast address of an interface: delivered locally as broadcast.',
  anycast: 'an anycast address: delivered locally.',
  multicast: 'a multicast route.',
  unicast: 'an ordinary route to a host or network.',
  unreachable: 'packets to this prefix are refused with "host unreachable".',
  prohibit: 'packets to this prefix are refused with "administratively prohibited".',
  blackhole: 'packets to this prefix are silently discarded.',
};

const KEYWORDS: Record<string, string> = {
  dev: 'the interface the address is bound to.',
  proto: 'who installed the route (`kernel`: added automatically with the address).',
  scope: 'how far the address is valid: `host` = only on this node, `link` = on the attached network.',
  src: 'the source address the node uses for packets it sends by this route.',
  table: 'the routing table; `local` holds the node\'s own addresses and is consulted first.',
  kernel: 'installed by the kernel when the address was added.',
  host: 'scope host: valid only on this node.',
  link: 'scope link: valid on the directly attached network.',
};

/** Explains the word at 0-based `column` of one line of route-local.txt (or route-main.txt). */
export function explainRouteAt(lineText: string, column: number, services?: ServiceTree): Explanation | undefined {
  const found = tokenAt(lineText, column);
  if (!found) return undefined;
  const { token, words } = found;
  const word = token.text;
  const result = (markdown: string): Explanation => ({ markdown, start: token.start, end: token.end });
  if (word === 'kube-ipvs0') {
    return result('`kube-ipvs0`: the dummy interface kube-proxy creates in IPVS mode. It binds every Service IP to it, so the kernel treats Service IPs as local addresses: packets to them go through INPUT, where IPVS takes them at LOCAL_IN and sends them on to a real server. The interface itself never carries traffic.');
  }
  if (token.index === 0 && ROUTE_TYPES[word]) return result(`${inlineCode(word)}: ${ROUTE_TYPES[word]}`);
  const previous = words[token.index - 1]?.text;
  if (KEYWORDS[word] && previous !== 'dev') return result(`${inlineCode(word)}: ${KEYWORDS[word]}`);
  if (previous === 'dev') return result(`${inlineCode(word)}: the interface this address is bound to.`);
  const isPrefix = token.index === 1 && /^[0-9a-f.:]+(\/\d+)?$/i.test(word);
  if (isPrefix) {
    const onIpvs = words.some((each) => each.text === 'kube-ipvs0');
    const parts = [`${escapeMarkdown(word)}: ${words[0]?.text === 'local' ? 'an address of this node' : 'a prefix in the local table'}${onIpvs ? ', bound to kube-ipvs0 because it is a Service IP' : ''}.`];
    for (const service of servicesAtAddress(services, word.split('/')[0]!, undefined).slice(0, 3)) parts.push(describeService(service));
    return result(parts.join('\n\n'));
  }
  return undefined;
}
