/**
 * Explains words in `ipset -L` output: what each of kube-proxy's sets holds, what a set type means, and
 * which Service a member such as `10.96.0.10,udp:53` belongs to.
 */

import type { ServiceTree } from '../services/model';
import { kubeIpsetTerm } from '../ipvs/vocabulary';
import { escapeMarkdown, inlineCode } from './markdown';
import { serviceAddresses, servicesAtAddress } from './serviceLookup';
import { tokenAt } from './tokenAt';
import type { Explanation } from './explainIptables';

const HEADERS: Record<string, string> = {
  'Name:': 'the set\'s name, as iptables rules refer to it with `-m set --match-set NAME`.',
  'Type:': 'how members are stored and matched: `hash:ip,port` holds address and port pairs, `bitmap:port` a port range.',
  'Members:': 'the entries below are the set\'s members, one per line.',
  'References:': 'how many iptables rules use the set.',
  'Header:': 'creation parameters of the set (family, sizes).',
};

/** Explains the word at 0-based `column` of one line of ipset.txt. */
export function explainIpsetAt(lineText: string, column: number, services?: ServiceTree): Explanation | undefined {
  const found = tokenAt(lineText, column);
  if (!found) return undefined;
  const { token } = found;
  const word = token.text;
  const result = (markdown: string): Explanation => ({ markdown, start: token.start, end: token.end });
  const set = kubeIpsetTerm(word);
  if (set) return result(`${inlineCode(word)}: kube-proxy ipset (${set.type}). ${set.explanation}`);
  if (HEADERS[word]) return result(`${inlineCode(word)} ${HEADERS[word]}`);
  if (/^(hash|bitmap|list):/.test(word)) return result(`${inlineCode(word)}: set type; the fields after the colon are what one member holds, in the order \`-m set\` flags (src/dst) look them up.`);
  const member = /^([0-9a-f.:]+),(tcp|udp|sctp):(\d+)(?:,([0-9a-f.:/]+))?$/i.exec(word);
  if (member) {
    const owners = servicesAtAddress(services, member[1]!, Number(member[3]));
    const parts = [`Member ${escapeMarkdown(word)}: address ${escapeMarkdown(member[1]!)}, ${member[2]} port ${member[3]}${member[4] ? `, and ${escapeMarkdown(member[4])}` : ''}.`];
    for (const service of owners.slice(0, 3)) parts.push(`Service **${escapeMarkdown(service.id)}**: ${escapeMarkdown(serviceAddresses(service))}`);
    return result(parts.join('\n\n'));
  }
  return undefined;
}
