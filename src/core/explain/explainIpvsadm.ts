/**
 * Explains words in `ipvsadm -Ln` output: a virtual server names its Service, a real server gets its share
 * from the scheduler and the weights (as realServerShares computes it for traces), and `rr`, `Masq`, `persistent` say what they do. It reads the text of
 * the file itself (the block a real server belongs to), so it works even where the IPVS parser gave up.
 */

import type { VirtualServer } from '../ipvs/model';
import { realServerShares } from '../ipvs/realServerShares';
import type { ServiceTree } from '../services/model';
import { IPVS_FORWARDING, IPVS_SCHEDULERS } from './glossary';
import { escapeMarkdown, formatShare, inlineCode } from './markdown';
import { describeService, servicesAtAddress, servicesWithEndpoint } from './serviceLookup';
import { tokenAt } from './tokenAt';
import type { Explanation } from './explainIptables';

const VIRTUAL = /^(TCP|UDP|SCTP|FWM)\s+(\S+)\s+(\S+)(.*)$/;
const REAL = /^\s+->\s+(\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)/;

/** Splits `10.96.0.10:53` or `[fd00::1]:53` into address and port. */
export function splitAddressPort(text: string): { ip: string; port: number } | undefined {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text);
  return match ? { ip: match[1]!, port: Number(match[2]) } : undefined;
}

interface RealServer {
  address: string;
  forward: string;
  weight: number;
}

/**
 * The file's lines, read one at a time: the text of a 0-based line, or undefined past the end. The editor reads
 * them from its document, so a hover does not copy and split the whole file.
 */
export type LineOf = (index: number) => string | undefined;

/** The virtual-server line above `index` (0-based) and all real servers of its block. */
function blockAround(lineOf: LineOf, index: number): { header: RegExpExecArray; real: RealServer[] } | undefined {
  let start = index;
  while (start >= 0 && !VIRTUAL.test(lineOf(start) ?? '')) start--;
  if (start < 0) return undefined;
  const header = VIRTUAL.exec(lineOf(start)!)!;
  const real: RealServer[] = [];
  for (let i = start + 1; i < start + 100_000; i++) {
    const text = lineOf(i);
    const match = text === undefined ? null : REAL.exec(text);
    if (!match) break;
    real.push({ address: match[1]!, forward: match[2]!, weight: Number(match[3]) });
  }
  return { header, real };
}

/** The share of new connections each real server of the block gets, as realServerShares computes it. */
function blockShares(header: RegExpExecArray, real: RealServer[]): Map<string, number> {
  const address = splitAddressPort(header[2]!);
  const shares = realServerShares({
    protocol: header[1] as VirtualServer['protocol'],
    address: address?.ip ?? '',
    port: address?.port ?? 0,
    scheduler: header[3]!,
    flags: [],
    realServers: real.map((server) => {
      const at = splitAddressPort(server.address);
      return { address: at?.ip ?? server.address, port: at?.port ?? 0, forward: server.forward, weight: server.weight, activeConn: undefined, inactiveConn: undefined, line: 0, raw: '' };
    }),
    line: 0,
    raw: header[0],
  });
  return new Map(shares.map(({ share }, index) => [real[index]!.address, share]));
}

/** Explains the word at 1-based `line`, 0-based `column` of ipvsadm.txt, given its lines. */
export function explainIpvsadmAt(lineOf: LineOf, line: number, column: number, services?: ServiceTree): Explanation | undefined {
  const text = lineOf(line - 1);
  if (text === undefined) return undefined;
  const found = tokenAt(text, column);
  if (!found) return undefined;
  const { token, words } = found;
  const word = token.text;
  const result = (markdown: string): Explanation => ({ markdown, start: token.start, end: token.end });
  if (IPVS_SCHEDULERS[word]) return result(`${inlineCode(word)} scheduler: ${IPVS_SCHEDULERS[word]}`);
  if (IPVS_FORWARDING[word]) return result(`${inlineCode(word)}: ${IPVS_FORWARDING[word]}`);
  if (word === 'persistent') {
    const seconds = words[token.index + 1]?.text;
    return result(`${inlineCode('persistent')}: connections from one client go to the same real server for ${seconds ? `${escapeMarkdown(seconds)} seconds` : 'a while'} after the last one: kube-proxy's session affinity (ClientIP).`);
  }
  const virtual = VIRTUAL.exec(text);
  if (virtual && token.index === 1) {
    const address = splitAddressPort(word);
    const matches = address ? servicesAtAddress(services, address.ip, address.port).filter((service) => service.protocol.toUpperCase() === virtual[1]) : [];
    const block = blockAround(lineOf, line - 1);
    const lead = `Virtual server ${escapeMarkdown(word)} (${virtual[1]}): IPVS takes packets to this address and port at LOCAL_IN and sends each new connection to one real server below.`;
    const empty = block && block.real.length === 0 ? '\n\nIt has **no real servers**: IPVS answers new connections with ICMP port unreachable, so clients see "connection refused".' : '';
    return result([lead + empty, ...matches.slice(0, 3).map((service) => describeService(service))].join('\n\n'));
  }
  const real = REAL.exec(text);
  if (real && token.index === 1) {
    const block = blockAround(lineOf, line - 1);
    const address = splitAddressPort(word);
    const parts = [`Real server ${escapeMarkdown(word)}: an endpoint of the virtual server above.`];
    if (block) {
      const scheduler = block.header[3]!;
      const share = blockShares(block.header, block.real).get(word);
      const total = block.real.reduce((sum, server) => sum + server.weight, 0);
      if (share !== undefined) {
        parts.push(`With \`${escapeMarkdown(scheduler)}\` and weight ${real[3]} of ${total}, it gets **${formatShare(share)}** of new connections.`);
      }
    }
    if (address) {
      const owners = servicesWithEndpoint(services, address.ip, address.port);
      if (owners.length > 0) parts.push(`Endpoint of ${owners.slice(0, 5).map((service) => `**${escapeMarkdown(service.id)}**`).join(', ')}.`);
    }
    return result(parts.join('\n\n'));
  }
  if (real && token.index === 3) return result(`Weight ${escapeMarkdown(word)}: the real server's share under weighted schedulers; weight 0 takes no new connections (kube-proxy sets it for terminating endpoints).`);
  if (real && token.index === 4) return result('ActiveConn: connections in ESTABLISHED state to this real server.');
  if (real && token.index === 5) return result('InActConn: connections in other states (closing, or UDP entries) to this real server.');
  return undefined;
}
