/**
 * Turns the tokens of one nft rule into an expression list (matches, lookups, statements, verdicts),
 * and the tokens of a set's `elements = { … }` into elements. It understands the expressions kube-proxy
 * and common host firewalls write; anything else becomes an `unknown` expression, never an error.
 */

import type { NftExpr, NftKey, NftOperand, NftSelector, NftSetElement, NftVerdict } from './model';
import { joinTokens, type NftToken } from './nftTokens';

/** Header fields per protocol keyword: `ip daddr`, `tcp dport`, `th sport` … */
const PROTOCOL_FIELDS: Record<string, Set<string>> = {
  ip: new Set(['saddr', 'daddr', 'protocol', 'length', 'ttl', 'dscp', 'version', 'id', 'hdrlength', 'checksum', 'frag-off', 'ecn']),
  ip6: new Set(['saddr', 'daddr', 'nexthdr', 'hoplimit', 'flowlabel', 'length', 'dscp', 'version', 'ecn']),
  th: new Set(['sport', 'dport']),
  tcp: new Set(['sport', 'dport', 'flags', 'sequence', 'ackseq', 'window', 'checksum', 'urgptr', 'doff']),
  udp: new Set(['sport', 'dport', 'length', 'checksum']),
  udplite: new Set(['sport', 'dport', 'checksum']),
  sctp: new Set(['sport', 'dport', 'vtag', 'checksum']),
  dccp: new Set(['sport', 'dport', 'type']),
  icmp: new Set(['type', 'code', 'id', 'sequence', 'mtu', 'gateway', 'checksum']),
  icmpv6: new Set(['type', 'code', 'id', 'sequence', 'mtu', 'max-delay', 'checksum']),
  ether: new Set(['saddr', 'daddr', 'type']),
  vlan: new Set(['id', 'pcp', 'cfi', 'type']),
};

const META_KEYS = new Set([
  'l4proto', 'protocol', 'mark', 'iif', 'oif', 'iifname', 'oifname', 'iiftype', 'oiftype', 'iifgroup', 'oifgroup',
  'nfproto', 'pkttype', 'skuid', 'skgid', 'length', 'priority', 'cgroup', 'cpu', 'random', 'secpath', 'ibrname', 'obrname',
]);
/** Meta keys nft prints without the `meta` keyword. */
const BARE_META_KEYS = new Set(['mark', 'iif', 'oif', 'iifname', 'oifname', 'iiftype', 'oiftype', 'iifgroup', 'oifgroup', 'skuid', 'skgid', 'cgroup']);
const CT_KEYS = new Set(['state', 'status', 'mark', 'direction', 'zone', 'expiration', 'helper', 'label', 'l3proto', 'protocol']);
const FIB_RESULTS = new Set(['type', 'oif', 'oifname']);

const VERDICTS = new Set(['accept', 'drop', 'continue', 'return', 'jump', 'goto', 'queue']);
const OPERATORS: Record<string, '==' | '!=' | '<' | '>' | '<=' | '>='> = {
  '==': '==', eq: '==', '!=': '!=', ne: '!=', '<': '<', lt: '<', '>': '>', gt: '>', '<=': '<=', le: '<=', '>=': '>=', ge: '>=',
};
const MASK_OPERATORS: Record<string, '&' | '|' | '^'> = { '&': '&', and: '&', '|': '|', or: '|', '^': '^', xor: '^' };
/** Tokens where an unknown stretch of a rule ends, because a statement nft always prints the same way starts. */
const RESYNC = new Set(['accept', 'drop', 'jump', 'goto', 'return', 'reject', 'counter', 'comment', 'masquerade', 'continue']);
const NAT_FLAGS = new Set(['random', 'fully-random', 'persistent']);

export interface ParsedRule {
  exprs: NftExpr[];
  comment?: string;
}

/** A cursor over a token list. */
class Cursor {
  index = 0;
  constructor(readonly tokens: NftToken[]) {}
  peek(offset = 0): NftToken | undefined {
    return this.tokens[this.index + offset];
  }
  word(offset = 0): string | undefined {
    const token = this.peek(offset);
    return token && !token.quoted ? token.text : undefined;
  }
  next(): NftToken | undefined {
    return this.tokens[this.index++];
  }
  done(): boolean {
    return this.index >= this.tokens.length;
  }
}

export function parseRuleTokens(tokens: NftToken[]): ParsedRule {
  const cursor = new Cursor(tokens);
  const exprs: NftExpr[] = [];
  let comment: string | undefined;
  while (!cursor.done()) {
    const start = cursor.index;
    const expr = parseOne(cursor);
    if (expr) {
      if (expr.kind === 'comment') comment = expr.text;
      exprs.push(expr);
      continue;
    }
    // Not understood: skip to the next statement nft always prints the same way, keeping the text.
    cursor.index = start;
    const skipped: NftToken[] = [];
    let depth = 0;
    do {
      const token = cursor.next()!;
      if (!token.quoted && token.text === '{') depth++;
      if (!token.quoted && token.text === '}') depth--;
      skipped.push(token);
    } while (!cursor.done() && (depth > 0 || !RESYNC.has(cursor.word() ?? '')));
    const previous = exprs[exprs.length - 1];
    if (previous?.kind === 'unknown') previous.text += ` ${joinTokens(skipped)}`;
    else exprs.push({ kind: 'unknown', text: joinTokens(skipped) });
  }
  return { exprs, comment };
}

/** Parses one expression at the cursor, or returns undefined (cursor position then undefined too). */
function parseOne(cursor: Cursor): NftExpr | undefined {
  const word = cursor.word();
  if (word === undefined) return undefined;
  if (VERDICTS.has(word)) {
    const verdict = parseVerdict(cursor);
    return verdict ? { kind: 'verdict', verdict } : undefined;
  }
  switch (word) {
    case 'counter':
      return parseCounter(cursor);
    case 'comment': {
      cursor.next();
      const text = cursor.next();
      return text?.quoted ? { kind: 'comment', text: text.text } : undefined;
    }
    case 'reject':
      return parseReject(cursor);
    case 'masquerade':
    case 'redirect':
    case 'dnat':
    case 'snat':
      return parseNat(cursor);
    case 'update':
    case 'add':
    case 'delete':
      return parseSetUpdate(cursor);
    case 'log':
      return parseLog(cursor);
    case 'notrack':
      cursor.next();
      return { kind: 'statement', text: 'notrack' };
  }
  if (word === 'meta' && cursor.word(1) === 'nftrace' && cursor.word(2) === 'set') {
    const value = cursor.peek(3)?.text ?? '';
    cursor.index += 4;
    return { kind: 'statement', text: `meta nftrace set ${value}` };
  }
  return parseMatchLike(cursor);
}

function parseVerdict(cursor: Cursor): NftVerdict | undefined {
  const word = cursor.word();
  if (word === 'jump' || word === 'goto') {
    const target = cursor.peek(1);
    if (!target || (!target.quoted && ['{', '}', ',', ';'].includes(target.text))) return undefined;
    cursor.index += 2;
    return { kind: word, target: target.text };
  }
  if (word === 'accept' || word === 'drop' || word === 'continue' || word === 'return') {
    cursor.next();
    return { kind: word };
  }
  if (word === 'queue') {
    cursor.next();
    while (['num', 'flags', 'bypass', 'fanout', 'to'].includes(cursor.word() ?? '')) {
      const key = cursor.next()!.text;
      if (key === 'num' || key === 'flags' || key === 'to') cursor.next();
    }
    return { kind: 'queue' };
  }
  return undefined;
}

function parseCounter(cursor: Cursor): NftExpr {
  cursor.next();
  const expr: { kind: 'counter'; packets?: number; bytes?: number } = { kind: 'counter' };
  while (cursor.word() === 'packets' || cursor.word() === 'bytes') {
    const key = cursor.next()!.text;
    const value = Number(cursor.next()?.text);
    if (key === 'packets') expr.packets = value;
    else expr.bytes = value;
  }
  return expr;
}

function parseReject(cursor: Cursor): NftExpr {
  cursor.next();
  if (cursor.word() !== 'with') return { kind: 'reject' };
  cursor.next();
  const words: string[] = [];
  while (!cursor.done() && !RESYNC.has(cursor.word() ?? '') && words.length < 4) words.push(cursor.next()!.text);
  return { kind: 'reject', with: words.join(' ') };
}

function parseNat(cursor: Cursor): NftExpr | undefined {
  const type = cursor.next()!.text as 'dnat' | 'snat' | 'masquerade' | 'redirect';
  const expr: { kind: 'nat'; type: typeof type; address?: string; port?: number; flags: string[] } = { kind: 'nat', type, flags: [] };
  if ((type === 'dnat' || type === 'snat') && (cursor.word() === 'ip' || cursor.word() === 'ip6')) cursor.next();
  if (cursor.word() === 'to') {
    cursor.next();
    const target = cursor.word();
    if (target === undefined) return undefined;
    const parsed = parseNatTarget(target);
    if (!parsed) return undefined;
    // A target followed by a concatenation or map is an expression we do not evaluate.
    if (cursor.word(1) === '.' || cursor.word(1) === 'map') return undefined;
    cursor.next();
    if (parsed.address !== undefined) expr.address = parsed.address;
    if (parsed.port !== undefined) expr.port = parsed.port;
    if ((type === 'dnat' || type === 'snat') && parsed.address === undefined) return undefined;
  } else if (type === 'dnat' || type === 'snat') {
    return undefined;
  }
  while (!cursor.done()) {
    const word = cursor.word() ?? '';
    if (NAT_FLAGS.has(word)) expr.flags.push(cursor.next()!.text);
    else if (word === ',') cursor.next();
    else break;
  }
  return expr;
}

/** `10.0.0.1:80`, `10.0.0.1`, `[fd00::1]:80`, `fd00::1`, `:8080` (redirect and masquerade ports). */
function parseNatTarget(text: string): { address?: string; port?: number } | undefined {
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) return { address: bracketed[1], port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) };
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d+))?$/.exec(text);
  if (v4) return { address: v4[1], port: v4[2] === undefined ? undefined : Number(v4[2]) };
  const portOnly = /^:(\d+)$/.exec(text);
  if (portOnly) return { port: Number(portOnly[1]) };
  if (/^[0-9a-fA-F:]+$/.test(text) && text.includes(':')) return { address: text };
  return undefined;
}

function parseSetUpdate(cursor: Cursor): NftExpr | undefined {
  const op = cursor.word() as 'update' | 'add' | 'delete';
  const ref = cursor.word(1);
  if (ref === undefined) return undefined;
  let name: string;
  let at = cursor.index + 2;
  if (ref === '@') {
    name = cursor.word(2) ?? '';
    at++;
  } else if (ref.startsWith('@')) {
    name = ref.slice(1);
  } else {
    return undefined;
  }
  if (cursor.tokens[at]?.text !== '{') return undefined;
  cursor.index = at + 1;
  const key = parseSelectors(cursor);
  if (!key) return undefined;
  // Per-element options inside the braces (`timeout 1h`) do not change what the rule does to this packet.
  while (!cursor.done() && cursor.word() !== '}') cursor.next();
  if (cursor.word() !== '}') return undefined;
  cursor.next();
  return { kind: 'setUpdate', op, set: name, key };
}

function parseLog(cursor: Cursor): NftExpr {
  const start = cursor.index;
  cursor.next();
  while (['prefix', 'level', 'group', 'snaplen', 'queue-threshold', 'flags'].includes(cursor.word() ?? '')) {
    cursor.next();
    cursor.next();
    while (cursor.word() === ',') {
      cursor.next();
      cursor.next();
    }
  }
  return { kind: 'statement', text: joinTokens(cursor.tokens.slice(start, cursor.index)) };
}

/** A match, a map lookup or a mark assignment, all of which start with a selector. */
function parseMatchLike(cursor: Cursor): NftExpr | undefined {
  const left = parseSelectors(cursor);
  if (!left) return undefined;
  const word = cursor.word();
  if (word === 'set' && left.length === 1 && (left[0].name === 'meta mark' || left[0].name === 'ct mark') && !left[0].mask) {
    cursor.next();
    return parseMarkSet(cursor, left[0].name);
  }
  if (word === 'vmap') {
    cursor.next();
    const ref = parseRef(cursor);
    if (ref) return { kind: 'vmap', left, map: { kind: 'ref', name: ref } };
    if (cursor.word() !== '{') return undefined;
    const entries = parseVerdictMapBody(cursor);
    return entries ? { kind: 'vmap', left, map: { kind: 'inline', entries } } : undefined;
  }
  let op: '==' | '!=' | '<' | '>' | '<=' | '>=' = '==';
  if (word !== undefined && OPERATORS[word]) {
    op = OPERATORS[word];
    cursor.next();
  }
  const right = parseOperand(cursor);
  if (!right) return undefined;
  return { kind: 'match', left, op, right };
}

function parseMarkSet(cursor: Cursor, target: 'meta mark' | 'ct mark'): NftExpr | undefined {
  // `meta mark set meta mark | 0x4000` (as printed) or `mark set mark or 0x4000` (as written), or a constant.
  const source = parseSelector(cursor);
  if (source) {
    if (source.name !== target || !source.mask) return undefined;
    return { kind: 'markSet', target, op: source.mask.op, value: source.mask.value };
  }
  const value = cursor.word();
  if (value === undefined || !/^(0x[0-9a-fA-F]+|\d+)$/.test(value)) return undefined;
  cursor.next();
  return { kind: 'markSet', target, op: '=', value };
}

/** One or more selectors joined by `.` (a concatenation). */
function parseSelectors(cursor: Cursor): NftSelector[] | undefined {
  const selectors: NftSelector[] = [];
  for (;;) {
    const selector = parseSelector(cursor);
    if (!selector) return undefined;
    selectors.push(selector);
    if (cursor.word() !== '.') return selectors;
    cursor.next();
  }
}

function parseSelector(cursor: Cursor): NftSelector | undefined {
  const start = cursor.index;
  const word = cursor.word();
  if (word === undefined) return undefined;
  let name: string | undefined;
  let numgen: NftSelector['numgen'];
  if (PROTOCOL_FIELDS[word]?.has(cursor.word(1) ?? '')) {
    name = `${word} ${cursor.word(1)}`;
    cursor.index += 2;
  } else if (word === 'meta' && META_KEYS.has(cursor.word(1) ?? '')) {
    name = `meta ${cursor.word(1)}`;
    cursor.index += 2;
  } else if (BARE_META_KEYS.has(word)) {
    name = `meta ${word}`;
    cursor.index += 1;
  } else if (word === 'ct' && CT_KEYS.has(cursor.word(1) ?? '')) {
    name = `ct ${cursor.word(1)}`;
    cursor.index += 2;
  } else if (word === 'fib') {
    const parts: string[] = [];
    cursor.next();
    while (!cursor.done() && !FIB_RESULTS.has(cursor.word() ?? '')) {
      const part = cursor.word();
      if (part === undefined || !['saddr', 'daddr', 'iif', 'oif', 'mark', '.'].includes(part)) {
        cursor.index = start;
        return undefined;
      }
      parts.push(part);
      cursor.next();
    }
    if (cursor.done()) {
      cursor.index = start;
      return undefined;
    }
    name = `fib ${parts.join(' ')} ${cursor.next()!.text}`;
  } else if (word === 'numgen' && (cursor.word(1) === 'random' || cursor.word(1) === 'inc') && cursor.word(2) === 'mod') {
    const mod = Number(cursor.word(3));
    if (!Number.isInteger(mod) || mod <= 0) return undefined;
    const mode = cursor.word(1) as 'random' | 'inc';
    cursor.index += 4;
    let offset = 0;
    if (cursor.word() === 'offset') {
      offset = Number(cursor.word(1));
      cursor.index += 2;
    }
    name = 'numgen';
    numgen = { mode, mod, offset };
  }
  if (name === undefined) return undefined;
  const selector: NftSelector = { name };
  if (numgen) selector.numgen = numgen;
  const maskOp = MASK_OPERATORS[cursor.word() ?? ''];
  const maskValue = cursor.word(1);
  if (maskOp && maskValue !== undefined && /^(0x[0-9a-fA-F]+|\d+)$/.test(maskValue)) {
    selector.mask = { op: maskOp, value: maskValue };
    cursor.index += 2;
  }
  return selector;
}

function parseRef(cursor: Cursor): string | undefined {
  const word = cursor.word();
  if (word === '@') {
    const name = cursor.peek(1)?.text;
    if (name === undefined) return undefined;
    cursor.index += 2;
    return name;
  }
  if (word !== undefined && word.startsWith('@') && word.length > 1) {
    cursor.next();
    return word.slice(1);
  }
  return undefined;
}

/** A value token: anything that is not punctuation. */
function isValue(token: NftToken | undefined): token is NftToken {
  return token !== undefined && (token.quoted || !['{', '}', ',', ';', ':', '.'].includes(token.text));
}

/** One key: values joined by `.`. */
function parseKey(cursor: Cursor): NftKey | undefined {
  const key: string[] = [];
  for (;;) {
    const token = cursor.peek();
    if (!isValue(token)) return undefined;
    key.push(token.text);
    cursor.next();
    if (cursor.word() !== '.') return key;
    cursor.next();
  }
}

function parseOperand(cursor: Cursor): NftOperand | undefined {
  const ref = parseRef(cursor);
  if (ref) return { kind: 'ref', name: ref };
  if (cursor.word() === '{') {
    cursor.next();
    const keys: NftKey[] = [];
    while (cursor.word() !== '}') {
      const key = parseKey(cursor);
      if (!key) return undefined;
      keys.push(key);
      if (cursor.word() === ',') cursor.next();
      else if (cursor.word() !== '}') return undefined;
    }
    cursor.next();
    return { kind: 'values', keys };
  }
  const first = parseKey(cursor);
  if (!first) return undefined;
  const keys = [first];
  // Flag lists such as `ct state established,related`.
  while (cursor.word() === ',' && isValue(cursor.peek(1))) {
    cursor.next();
    keys.push([cursor.next()!.text]);
  }
  return { kind: 'values', keys };
}

/** `{ 0 : goto a, 1 : goto b }` at the cursor. */
function parseVerdictMapBody(cursor: Cursor): { key: NftKey; verdict: NftVerdict }[] | undefined {
  cursor.next();
  const entries: { key: NftKey; verdict: NftVerdict }[] = [];
  while (cursor.word() !== '}') {
    const key = parseKey(cursor);
    if (!key || cursor.word() !== ':') return undefined;
    cursor.next();
    const verdict = parseVerdict(cursor);
    if (!verdict) return undefined;
    entries.push({ key, verdict });
    if (cursor.word() === ',') cursor.next();
    else if (cursor.word() !== '}') return undefined;
  }
  cursor.next();
  return entries;
}

/**
 * The elements between the braces of `elements = { … }`: keys (concatenations with `.`), optional
 * `timeout`, `expires`, `comment`, `counter`, and for maps `: verdict` or `: data`.
 * Returns the elements and the texts of entries it could not read.
 */
export function parseElementTokens(tokens: NftToken[]): { elements: NftSetElement[]; bad: { line: number; text: string }[] } {
  const cursor = new Cursor(tokens);
  const elements: NftSetElement[] = [];
  const bad: { line: number; text: string }[] = [];
  while (!cursor.done()) {
    const start = cursor.index;
    const element = parseElement(cursor);
    if (element && (cursor.done() || cursor.word() === ',')) {
      elements.push(element);
    } else {
      cursor.index = start;
      const skipped: NftToken[] = [];
      while (!cursor.done() && cursor.word() !== ',') skipped.push(cursor.next()!);
      bad.push({ line: tokens[start]?.line ?? 0, text: joinTokens(skipped) });
    }
    if (cursor.word() === ',') cursor.next();
  }
  return { elements, bad };
}

function parseElement(cursor: Cursor): NftSetElement | undefined {
  const line = cursor.peek()?.line ?? 0;
  const key = parseKey(cursor);
  if (!key) return undefined;
  const element: NftSetElement = { key, line };
  for (;;) {
    const word = cursor.word();
    if (word === 'timeout' || word === 'expires') {
      cursor.next();
      const value = cursor.next()?.text;
      if (word === 'timeout') element.timeout = value;
      else element.expires = value;
    } else if (word === 'counter') {
      parseCounter(cursor);
    } else if (cursor.peek()?.text === 'comment' && cursor.peek(1)?.quoted) {
      cursor.next();
      element.comment = cursor.next()!.text;
    } else {
      break;
    }
  }
  if (cursor.word() === ':') {
    cursor.next();
    const verdict = parseVerdict(cursor);
    if (verdict) element.verdict = verdict;
    else {
      const data = parseKey(cursor);
      if (!data) return undefined;
      element.data = data;
    }
  }
  return element;
}
