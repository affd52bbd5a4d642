/**
 * Explains the word under the cursor in `nft list ruleset` text (nft.txt), for hovers: kube-proxy's chain,
 * map and set names with their Service, the masquerade mark, nft keywords kube-proxy uses, base-chain hooks
 * and priorities, and addresses that are Service IPs or endpoints. Node text is escaped before it enters
 * Markdown. Which editor language shows it is the extension's business.
 */

import type { Explanation } from '../explain/explainIptables';
import { escapeMarkdown, inlineCode } from '../explain/markdown';
import { serviceAddresses, servicesAtAddress, servicesOfChain, servicesWithEndpoint } from '../explain/serviceLookup';
import { tokenAt } from '../explain/tokenAt';
import type { ServiceTree } from '../services/model';
import { resolvePriority } from './parseNft';
import { DEFAULT_MASQUERADE_MARK, explainNftName, parseServiceChainName } from './vocabulary';

/** nft words kube-proxy's rules use, with what they do. */
const KEYWORDS: Record<string, string> = {
  vmap: 'verdict map lookup: the key before it (fields joined with `.`) is looked up, and the verdict of the matching element (`goto chain`, `drop` …) is taken; no match means the rule does not match.',
  numgen: '`numgen random mod N` draws a number from 0 to N-1 for each new connection; with `vmap` each value picks one endpoint, so each gets 1/N of new connections.',
  dnat: '`dnat to ip:port` rewrites the destination of the connection (first packet; later packets follow conntrack) and ends this base chain with accept.',
  masquerade: '`masquerade` rewrites the source to the address of the outgoing interface; kube-proxy does it only for packets carrying the masquerade mark.',
  'fully-random': '`fully-random`: the source port for masquerading is chosen at random, to avoid port collisions.',
  fib: '`fib daddr type local` asks the routing table whether the address is local to this node (as `ip route show table local` lists it).',
  goto: '`goto` continues in another chain and does not come back: when that chain ends, processing returns to the caller of this one.',
  jump: '`jump` runs another chain and comes back to the next rule when it ends or returns.',
  return: '`return` leaves this chain and continues after the rule that jumped here.',
  reject: '`reject` drops the packet and answers the sender (TCP reset or ICMP port unreachable), so clients fail fast.',
  drop: '`drop` discards the packet silently; the client waits until it times out.',
  ct: '`ct state new` matches the first packet of a connection; the tracer assumes such a packet.',
  update: '`update @set { ip saddr }` records the client address in a dynamic set (session affinity) with the set\'s timeout.',
  th: '`th dport` is the destination port of the transport header, whatever the protocol.',
  l4proto: '`meta l4proto` is the transport protocol (tcp, udp, sctp).',
  mark: '`meta mark` is the packet mark, a 32-bit value kube-proxy uses to flag packets for masquerade (bit 0x4000).',
};

const HOOK_WORDS: Record<string, string> = {
  prerouting: 'the prerouting hook: packets arriving from outside, before the routing decision.',
  input: 'the input hook: packets delivered to this node.',
  forward: 'the forward hook: packets routed on to another host, such as a pod.',
  output: 'the output hook: packets sent by processes on this node.',
  postrouting: 'the postrouting hook: every packet on its way out; source NAT happens here.',
};

/** Explains the word at 0-based `column` of one line of nft.txt. */
export function explainNftAt(lineText: string, column: number, services?: ServiceTree): Explanation | undefined {
  const found = tokenAt(lineText, column);
  if (!found) return undefined;
  const { token, words } = found;
  const raw = token.text;
  const word = raw.replace(/^@/, '').replace(/[,;]$/, '');
  const result = (markdown: string): Explanation => ({ markdown, start: token.start, end: token.end });

  const about = explainNftName(word);
  if (about) {
    const parts = [`${inlineCode(word)}: ${escapeMarkdown(about)}`];
    const parsed = parseServiceChainName(word);
    const owners = parsed ? servicesOfChain(services, word) : [];
    for (const service of owners.slice(0, 3)) parts.push(`Service **${escapeMarkdown(service.id)}**: ${escapeMarkdown(serviceAddresses(service))}`);
    return result(parts.join('\n\n'));
  }
  const number = /^0x[0-9a-f]+$/i.test(word) ? Number.parseInt(word, 16) : undefined;
  if (number !== undefined && number === DEFAULT_MASQUERADE_MARK) {
    return result(`${inlineCode(word)}: kube-proxy's masquerade bit (0x4000). \`mark-for-masquerade\` sets it; \`masquerading\` in nat-postrouting clears it and masquerades the packet.`);
  }
  const previous = words[token.index - 1]?.text;
  if (previous === 'hook' && HOOK_WORDS[word]) return result(`${inlineCode(word)}: ${HOOK_WORDS[word]}`);
  const priority = priorityAround(words.map((candidate) => candidate.text), token.index);
  if (priority) {
    return result(`Priority ${inlineCode(priority.text)} = ${priority.value}: base chains at the same hook run from the lowest priority up (DNAT at -100, SNAT at 100).`);
  }
  if (KEYWORDS[word]) return result(KEYWORDS[word]);
  const endpoint = /^(\d+\.\d+\.\d+\.\d+|\[[0-9a-f:]+\]):(\d+)$/i.exec(word);
  if (endpoint) {
    const ip = endpoint[1].replace(/^\[|\]$/g, '');
    const owners = servicesWithEndpoint(services, ip, Number(endpoint[2]));
    const parts = [`Endpoint ${escapeMarkdown(word)}.`];
    for (const service of owners.slice(0, 3)) parts.push(`Endpoint of **${escapeMarkdown(service.id)}**: ${escapeMarkdown(serviceAddresses(service))}`);
    return result(parts.join('\n\n'));
  }
  if (/^(\d+\.\d+\.\d+\.\d+|[0-9a-f]*:[0-9a-f:]+)$/i.test(word)) {
    // In a concatenated element `ip . proto . port`, the port two words on says which Service port it is.
    const element = words[token.index + 1]?.text === '.' && words[token.index + 3]?.text === '.';
    const protocol = element ? words[token.index + 2]?.text : undefined;
    const port = element ? Number(words[token.index + 4]?.text.replace(/[^0-9]/g, '')) : undefined;
    const owners = servicesAtAddress(services, word, Number.isFinite(port) ? port : undefined).filter(
      (service) => protocol === undefined || service.protocol === protocol,
    );
    const endpointOf = servicesWithEndpoint(services, word);
    if (owners.length === 0 && endpointOf.length === 0) return undefined;
    const parts = owners.slice(0, 3).map((service) => `Service **${escapeMarkdown(service.id)}**: ${escapeMarkdown(serviceAddresses(service))}`);
    for (const service of endpointOf.slice(0, 3)) parts.push(`Endpoint of **${escapeMarkdown(service.id)}**.`);
    return result(parts.join('\n\n'));
  }
  return undefined;
}

/** The priority expression (`dstnat - 10`) the word at `index` belongs to in a base-chain header. */
function priorityAround(words: string[], index: number): { text: string; value: number } | undefined {
  const start = words.indexOf('priority');
  if (start === -1 || index <= start) return undefined;
  let end = start + 1;
  while (end < words.length && !words[end - 1].endsWith(';') && end - start <= 3) end++;
  if (index >= end) return undefined;
  const text = words.slice(start + 1, end).join(' ').replace(/;$/, '');
  const value = resolvePriority(text, 'ip');
  return value === undefined ? undefined : { text, value };
}
