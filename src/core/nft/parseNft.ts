/**
 * Parses `nft list ruleset` text (or hands `nft -j` JSON to parseNftJson) into an NftRuleset: the block structure
 * (tables, chains, sets, maps), base-chain headers with resolved priorities, set elements, and rules, which
 * parseNftRule reads when a chain's rules are first asked for (one pass records where they are; a 10,000-Service
 * node has 60,000 chains and a trace reads a handful). It never throws and never loops without consuming input;
 * what it cannot read becomes a diagnostic with its line. Meaning for packets lives in the tracer.
 */

import { DiagnosticList, type Diagnostic, type ParseResult } from '../diagnostics';
import { chainsByName, type NftBaseChainInfo, type NftChain, type NftRule, type NftRuleset, type NftSet, type NftSetElement, type NftTable } from './model';
import { braceBalance, joinTokens, tokenizeLine, type NftToken } from './nftTokens';
import { parseNftJson } from './parseNftJson';
import { parseElementTokens, parseRuleTokens } from './parseNftRule';

/** Larger input is cut here: nft rulesets of very large clusters stay well below. */
export const MAX_NFT_TEXT_CHARS = 128 * 1024 * 1024;
/** One printed line longer than this is skipped (nft prints whole vmaps on one line, so this is generous). */
export const MAX_NFT_LINE_CHARS = 16 * 1024 * 1024;

const FAMILIES = new Set(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev']);
const OBJECT_KINDS = new Set(['flowtable', 'counter', 'quota', 'ct', 'limit', 'secmark', 'synproxy', 'tunnel']);

/** Standard priority names (nft(8) "PRIORITY"), per family: bridge has its own values. */
const STANDARD_PRIORITIES: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };
const BRIDGE_PRIORITIES: Record<string, number> = { dstnat: -300, filter: -200, out: 100, srcnat: 300 };

/** `dstnat - 10`, `-110`, `filter`, `srcnat + 5` → a number for the table's family. */
export function resolvePriority(text: string, family: string): number | undefined {
  const trimmed = text.trim();
  if (/^-?\d+$/.test(trimmed)) return Number(trimmed);
  const match = /^([a-z]+)\s*(?:([+-])\s*(\d+))?$/.exec(trimmed);
  if (!match) return undefined;
  const names = family === 'bridge' ? BRIDGE_PRIORITIES : STANDARD_PRIORITIES;
  const base = names[match[1]];
  if (base === undefined) return undefined;
  const offset = match[3] === undefined ? 0 : Number(match[3]) * (match[2] === '-' ? -1 : 1);
  return base + offset;
}

type Frame =
  | { kind: 'top' }
  | { kind: 'table'; table: NftTable; chainNames: Map<string, NftChain> }
  | { kind: 'chain'; table: NftTable; chain: NftChain }
  | { kind: 'set'; table: NftTable; set: NftSet }
  | { kind: 'skip'; depth: number };

interface Pending {
  tokens: NftToken[];
  texts: string[];
  line: number;
  handle?: number;
  /** Open braces so far; kept as a running count so long element lists stay linear. */
  depth: number;
  /** For `elements = { … }` of a set or map: elements read so far, so a 10,000-line list is never held as tokens. */
  elements?: ElementStream;
}

interface ElementStream {
  set: NftSet;
  /** Where the statement's first line starts in the text, to read it again if it ends in an unusual way. */
  start: number;
  /** The `elements = {` tokens have been read past. */
  flushed: boolean;
  /** A `;` appeared: the statement is split there, as the tokenizer path does, and nothing is read ahead. */
  semicolon: boolean;
  elements: NftSetElement[];
  bad: { line: number; text: string }[];
}

export function parseNft(text: string, file = 'nft.txt'): ParseResult<NftRuleset> {
  const diagnostics = new DiagnosticList(file);
  const ruleset: NftRuleset = { tables: [] };
  const report = (line: number, severity: Diagnostic['severity'], message: string) => diagnostics.add(line, severity, message);

  let source = text;
  if (source.length > MAX_NFT_TEXT_CHARS) {
    const lastLine = source.lastIndexOf('\n', MAX_NFT_TEXT_CHARS);
    source = source.slice(0, lastLine === -1 ? MAX_NFT_TEXT_CHARS : lastLine);
    report(0, 'error', `the file is larger than ${MAX_NFT_TEXT_CHARS} characters; only the start was read`);
  }
  if (/^\s*\{/.test(source.slice(0, 64))) {
    // `nft -j list ruleset`: the same ruleset as JSON.
    const json = parseNftJson(source, file);
    return { value: json.value, diagnostics: [...diagnostics.list(), ...json.diagnostics] };
  }

  const stack: Frame[] = [{ kind: 'top' }];
  let pending: Pending | undefined;
  // Lines are cut from the text one at a time (not split up front), and plain lines inside tables and chains are
  // read in place, without cutting them at all.
  const quotes = new NextChar(source, '"');
  const hashes = new NextChar(source, '#');
  const opens = new NextChar(source, '{');
  const closes = new NextChar(source, '}');
  let lineNumber = 0;
  for (let next = 0; next <= source.length; ) {
    const start = next;
    let end = source.indexOf('\n', start);
    if (end === -1) end = source.length;
    next = end + 1;
    lineNumber++;
    if (end - start > MAX_NFT_LINE_CHARS) {
      report(lineNumber, 'error', `line longer than ${MAX_NFT_LINE_CHARS} characters; skipped`);
      continue;
    }
    const top = stack[stack.length - 1];
    if (pending === undefined && (top.kind === 'chain' || top.kind === 'table') && quotes.from(start) >= end) {
      if (plainLine(top, start, end, lineNumber)) continue;
    }
    const raw = source.slice(start, end);
    const { tokens, handle, text: lineText, unclosedQuote } = tokenizeLine(raw, lineNumber);
    if (unclosedQuote) report(lineNumber, 'warning', 'a quote is not closed; the string runs to the end of the line');
    if (pending) {
      for (const token of tokens) pending.tokens.push(token);
      if (lineText && !pending.elements) pending.texts.push(lineText);
      if (handle !== undefined) pending.handle = handle;
      pending.depth += braceBalance(tokens);
      if (pending.elements && !pending.elements.semicolon && hasSemicolon(tokens)) pending.elements.semicolon = true;
      if (pending.depth <= 0) {
        if (pending.elements?.flushed) finishElements(pending, end);
        else statement(pending);
        pending = undefined;
      } else {
        readElements(pending);
      }
      continue;
    }
    if (tokens.length === 0) continue;
    const frame = stack[stack.length - 1];
    if (frame.kind === 'skip') {
      frame.depth += braceBalance(tokens);
      if (frame.depth <= 0) stack.pop();
      continue;
    }
    if (tokens.length === 1 && tokens[0].text === '}' && !tokens[0].quoted) {
      close(frame, lineNumber);
      continue;
    }
    if (openBlock(frame, tokens, lineNumber)) continue;
    const current: Pending = { tokens, texts: [lineText], line: lineNumber, handle, depth: braceBalance(tokens) };
    if (current.depth > 0) {
      pending = current;
      if (frame.kind === 'set' && isWord(tokens[0], 'elements') && isWord(tokens[1], '=') && isWord(tokens[2], '{')) {
        current.elements = { set: frame.set, start, flushed: false, semicolon: hasSemicolon(tokens), elements: [], bad: [] };
        readElements(current);
      }
    } else statement(current);
  }

  if (pending) report(pending.line, 'error', 'the statement that starts here is not closed before the end of the file');
  for (const frame of stack.slice(1).reverse()) {
    if (frame.kind === 'table') report(frame.table.line, 'error', `table ${frame.table.family} ${frame.table.name} is not closed`);
    if (frame.kind === 'chain') report(frame.chain.line, 'error', `chain ${frame.chain.name} is not closed`);
    if (frame.kind === 'set') report(frame.set.line, 'error', `${frame.set.kind} ${frame.set.name} is not closed`);
  }
  return { value: ruleset, diagnostics: diagnostics.list() };

  /**
   * A line without quotes inside a chain or table, read in place: most of a large ruleset. Such a line's tokens
   * are the characters between spaces and punctuation, so a rule is only recorded here (where its line starts)
   * and tokenized when its chain's rules are first read; blank lines, `}` and `chain NAME {` need no tokens
   * either. Returns false for what needs the full path: chain headers, statements that open a brace, other
   * table statements, and lines whose ends are not ASCII (trim and the tokenizer know more spaces than ASCII's).
   */
  function plainLine(frame: Extract<Frame, { kind: 'chain' | 'table' }>, start: number, end: number, line: number): boolean {
    const contentEnd = Math.min(hashes.from(start), end);
    let first = start;
    while (first < contentEnd && isAsciiSpace(source.charCodeAt(first))) first++;
    let last = contentEnd;
    while (last > first && isAsciiSpace(source.charCodeAt(last - 1))) last--;
    if (first === last) return true;
    if (source.charCodeAt(first) > 127 || source.charCodeAt(last - 1) > 127) return false;
    if (last - first === 1 && source.charCodeAt(first) === 125) {
      close(frame, line);
      return true;
    }
    if (frame.kind === 'table') {
      if (!source.startsWith('chain ', first) || source.charCodeAt(last - 1) !== 123) return false;
      const name = source.slice(first + 6, last - 1).trim();
      if (!PLAIN_NAME.test(name)) return false;
      openChain(frame, name, line);
      return true;
    }
    if (startsChainHeader(first, last)) return false;
    if (braceDepth(first, last) > 0) return false;
    unparsedRules(frame.chain).push(start, line);
    return true;
  }

  /** `type …`, `policy …`, `devices …` or `comment …` between first and last: a chain header statement. */
  function startsChainHeader(first: number, last: number): boolean {
    for (const word of CHAIN_HEADER_WORDS) {
      if (!source.startsWith(word, first)) continue;
      const after = first + word.length;
      if (after === last || isTokenBoundary(source.charCodeAt(after))) return true;
    }
    return false;
  }

  /** Net `{` minus `}` between first and last, in a line without quotes. */
  function braceDepth(first: number, last: number): number {
    let depth = 0;
    for (let at = opens.from(first); at < last; at = opens.from(at + 1)) depth++;
    for (let at = closes.from(first); at < last; at = closes.from(at + 1)) depth--;
    return depth;
  }

  function openChain(frame: Extract<Frame, { kind: 'table' }>, name: string, line: number): void {
    if (frame.chainNames.has(name)) report(line, 'warning', `chain ${name} appears twice in the table`);
    const chain = newChain(name, line, source);
    frame.chainNames.set(name, chain);
    frame.table.chains.push(chain);
    stack.push({ kind: 'chain', table: frame.table, chain });
  }

  /**
   * After a line of `elements = { … }`: when the tokens so far end with a comma between elements, they are whole
   * elements, read now and dropped. Splitting the list at its commas reads the same elements as reading it whole.
   */
  function readElements(current: Pending): void {
    const stream = current.elements;
    if (!stream) return;
    const last = current.tokens[current.tokens.length - 1];
    if (stream.semicolon || current.depth !== 1 || !isWord(last, ',')) return;
    const { elements, bad } = parseElementTokens(stream.flushed ? current.tokens : current.tokens.slice(3));
    for (const element of elements) stream.elements.push(element);
    for (const entry of bad) stream.bad.push(entry);
    current.tokens = [];
    stream.flushed = true;
  }

  /** The closing line of an element list read as it came: the last elements, then the set gets them all. */
  function finishElements(current: Pending, end: number): void {
    const stream = current.elements!;
    const last = current.tokens[current.tokens.length - 1];
    if (stream.semicolon || !isWord(last, '}')) {
      // An unusual ending (`;` or more text after the list): read the statement again from its first line.
      statement({ ...current, tokens: tokensBetween(stream.start, end, current.line), elements: undefined });
      return;
    }
    const rest = parseElementTokens(current.tokens.slice(0, -1));
    const { set } = stream;
    for (const element of [stream.elements, rest.elements]) for (const entry of element) set.elements.push(entry);
    for (const entry of [...stream.bad, ...rest.bad]) report(entry.line, 'warning', `${set.kind} ${set.name}: element not understood: "${shorten(entry.text)}"`);
  }

  /** Tokens of the lines from `start` to `end` of the text, the first being line `line`, as the main loop read them. */
  function tokensBetween(start: number, end: number, line: number): NftToken[] {
    const tokens: NftToken[] = [];
    source
      .slice(start, end)
      .split('\n')
      .forEach((text, index) => {
        if (text.length <= MAX_NFT_LINE_CHARS) for (const token of tokenizeLine(text, line + index).tokens) tokens.push(token);
      });
    return tokens;
  }

  function close(frame: Frame, line: number): void {
    if (frame.kind === 'top') {
      report(line, 'warning', 'closing brace without an open block; ignored');
      return;
    }
    if (frame.kind === 'table') frame.table.endLine = line;
    if (frame.kind === 'chain') {
      frame.chain.endLine = line;
      settleRules(frame.chain);
    }
    stack.pop();
  }

  /** A line such as `table ip kube-proxy {` or `chain services {`: pushes a frame and returns true. */
  function openBlock(frame: Frame, tokens: NftToken[], line: number): boolean {
    const last = tokens[tokens.length - 1];
    if (last.quoted || last.text !== '{') return false;
    const keyword = tokens[0].quoted ? '' : tokens[0].text;
    const names = tokens.slice(1, -1);
    if (frame.kind === 'top' && keyword === 'table') {
      let family = 'ip';
      let name: string | undefined;
      if (names.length === 2 && FAMILIES.has(names[0].text)) [family, name] = [names[0].text, names[1].text];
      else if (names.length === 1) name = names[0].text;
      if (name === undefined) {
        report(line, 'error', `cannot read the table header "${shorten(joinTokens(tokens))}"; its contents are skipped`);
        stack.push({ kind: 'skip', depth: 1 });
        return true;
      }
      const table: NftTable = { family, name, line, endLine: line, flags: [], chains: [], sets: [], objects: [] };
      ruleset.tables.push(table);
      stack.push({ kind: 'table', table, chainNames: chainsByName(table) });
      return true;
    }
    if (frame.kind === 'table' && (keyword === 'chain' || keyword === 'set' || keyword === 'map') && names.length === 1) {
      const name = names[0].text;
      if (keyword === 'chain') {
        openChain(frame, name, line);
      } else {
        const set: NftSet = { kind: keyword, name, line, keyType: [], flags: [], elements: [] };
        frame.table.sets.push(set);
        stack.push({ kind: 'set', table: frame.table, set });
      }
      return true;
    }
    if (frame.kind === 'table' && OBJECT_KINDS.has(keyword)) {
      frame.table.objects.push({ kind: names.length > 1 ? `${keyword} ${names[0].text}` : keyword, name: names[names.length - 1]?.text ?? '', line });
      stack.push({ kind: 'skip', depth: 1 });
      return true;
    }
    return false;
  }

  function statement(current: Pending): void {
    const frame = stack[stack.length - 1];
    const { tokens, line } = current;
    switch (frame.kind) {
      case 'top':
        report(line, 'warning', `text outside any table ignored: "${shorten(joinTokens(tokens))}"`);
        return;
      case 'skip':
        return;
      case 'table':
        tableStatement(frame.table, tokens, line);
        return;
      case 'chain':
        chainStatement(frame.table, frame.chain, current);
        return;
      case 'set':
        for (const part of splitSemicolons(tokens)) setStatement(frame.set, part, line);
        return;
    }
  }

  function tableStatement(table: NftTable, tokens: NftToken[], line: number): void {
    const keyword = tokens[0].text;
    if (keyword === 'comment' && tokens[1]?.quoted) table.comment = tokens[1].text;
    else if (keyword === 'flags') table.flags.push(...tokens.slice(1).filter((token) => token.text !== ',').map((token) => token.text));
    else report(line, 'warning', `unexpected statement in table ${table.family} ${table.name}: "${shorten(joinTokens(tokens))}"`);
  }

  function chainStatement(table: NftTable, chain: NftChain, current: Pending): void {
    const { tokens, line } = current;
    const first = tokens[0].quoted ? '' : tokens[0].text;
    if (first === 'type' || first === 'policy' || (first === 'comment' && tokens[1]?.quoted && tokens.length === 2) || first === 'devices') {
      // After a base-chain header that could not be read, its policy is not worth a second message.
      for (const part of splitSemicolons(tokens)) if (!chainHeader(table, chain, part, line)) break;
      return;
    }
    unparsedRules(chain).push(ruleOf(tokens, line, current.texts.join(' '), current.handle));
  }

  /** One part of a chain header; false when it was a `type … hook … priority …` that could not be read. */
  function chainHeader(table: NftTable, chain: NftChain, tokens: NftToken[], line: number): boolean {
    const keyword = tokens[0].text;
    if (keyword === 'comment' && tokens[1]?.quoted) {
      chain.comment = tokens[1].text;
      return true;
    }
    if (keyword === 'policy') {
      const policy = tokens[1]?.text;
      if (policy === 'accept' || policy === 'drop') {
        if (chain.base) chain.base.policy = policy;
        else report(line, 'warning', `policy on chain ${chain.name}, which has no hook`);
      } else {
        report(line, 'warning', `unknown chain policy "${policy ?? ''}"`);
      }
      return true;
    }
    if (keyword === 'devices') return true;
    // type <type> hook <hook> [device <dev>] priority <priority>
    const base: NftBaseChainInfo = { type: tokens[1]?.text ?? '', hook: '', priority: 0, priorityText: '', policy: chain.base?.policy ?? 'accept' };
    for (let i = 2; i < tokens.length; i++) {
      const word = tokens[i].text;
      if (word === 'hook') base.hook = tokens[++i]?.text ?? '';
      else if (word === 'device') base.device = tokens[++i]?.text;
      else if (word === 'priority') {
        base.priorityText = joinTokens(tokens.slice(i + 1));
        break;
      }
    }
    const priority = resolvePriority(base.priorityText, table.family);
    if (!base.type || !base.hook || priority === undefined) {
      report(line, 'error', `cannot read the base chain header "${shorten(joinTokens(tokens))}"`);
      if (priority === undefined) return false;
    }
    base.priority = priority ?? 0;
    chain.base = base;
    return true;
  }

  function setStatement(set: NftSet, tokens: NftToken[], line: number): void {
    const keyword = tokens[0].text;
    const rest = tokens.slice(1);
    switch (keyword) {
      case 'type':
      case 'typeof': {
        const colon = rest.findIndex((token) => token.text === ':' && !token.quoted);
        const keyTokens = colon === -1 ? rest : rest.slice(0, colon);
        if (colon !== -1) set.dataType = joinTokens(rest.slice(colon + 1));
        if (keyword === 'type') set.keyType = joinTokens(keyTokens).split(' . ');
        else set.typeofText = joinTokens(keyTokens);
        return;
      }
      case 'flags':
        set.flags.push(...rest.filter((token) => token.text !== ',').map((token) => token.text));
        return;
      case 'timeout':
        set.timeout = rest[0]?.text;
        return;
      case 'size':
        set.size = Number(rest[0]?.text);
        return;
      case 'comment':
        if (rest[0]?.quoted) set.comment = rest[0].text;
        return;
      case 'policy':
      case 'gc-interval':
      case 'auto-merge':
      case 'counter':
        return;
      case 'elements': {
        if (rest[0]?.text !== '=' || rest[1]?.text !== '{' || rest[rest.length - 1]?.text !== '}') {
          report(line, 'error', `cannot read the elements of ${set.kind} ${set.name}`);
          return;
        }
        const { elements, bad } = parseElementTokens(rest.slice(2, -1));
        for (const element of elements) set.elements.push(element);
        for (const entry of bad) report(entry.line, 'warning', `${set.kind} ${set.name}: element not understood: "${shorten(entry.text)}"`);
        return;
      }
    }
    report(line, 'warning', `unexpected statement in ${set.kind} ${set.name}: "${shorten(joinTokens(tokens))}"`);
  }
}

/** Statements that configure a chain rather than add a rule to it; they take the full path. */
const CHAIN_HEADER_WORDS = ['type', 'policy', 'devices', 'comment'];
function hasSemicolon(tokens: NftToken[]): boolean {
  return tokens.some((token) => isWord(token, ';'));
}

function isWord(token: NftToken | undefined, word: string): boolean {
  return token !== undefined && !token.quoted && token.text === word;
}

/** A chain name with nothing the tokenizer would split it at. */
const PLAIN_NAME = /^[^\s{},;]+$/;
/** What follows the `#` of a line nft printed with `-a`. */
const HANDLE = /^#\s*handle\s+(\d+)/;

/** The ASCII characters String.prototype.trim and the tokenizer's `\s` both take for spaces. */
function isAsciiSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

/** Where a word ends for the tokenizer (outside quotes): a space or one of `{ } , ;`. */
function isTokenBoundary(code: number): boolean {
  return isAsciiSpace(code) || code === 123 || code === 125 || code === 44 || code === 59 || code === 160 || code > 127;
}

/**
 * The next position of one character at or after a given position. Lines are read front to back, so each search
 * resumes where the last one ended, and finding the next quote of every line costs one pass over the text.
 */
class NextChar {
  #at = -1;
  constructor(
    readonly text: string,
    readonly char: string,
  ) {}

  from(position: number): number {
    if (this.#at < position) {
      const found = this.text.indexOf(this.char, position);
      this.#at = found === -1 ? this.text.length : found;
    }
    return this.#at;
  }
}

function ruleOf(tokens: NftToken[], line: number, text: string, handle: number | undefined): NftRule {
  const parsed = parseRuleTokens(tokens);
  const rule: NftRule = { line, text, exprs: parsed.exprs };
  if (handle !== undefined) rule.handle = handle;
  if (parsed.comment !== undefined) rule.comment = parsed.comment;
  return rule;
}

/** A line without its `#` comment, trimmed. */
function withoutComment(raw: string): string {
  const hash = raw.indexOf('#');
  return (hash === -1 ? raw : raw.slice(0, hash)).trim();
}

/** The one-line rule without quotes that starts at `start` of the text: what the tokenizer would make of the line. */
function plainRule(source: string, start: number, line: number): NftRule {
  let end = source.indexOf('\n', start);
  if (end === -1) end = source.length;
  const raw = source.slice(start, end);
  const text = withoutComment(raw);
  const hash = raw.indexOf('#');
  const handle = hash === -1 ? undefined : HANDLE.exec(raw.slice(hash))?.[1];
  return ruleOf(tokenizeLine(text, line).tokens, line, text, handle === undefined ? undefined : Number(handle));
}

/**
 * Rules of a chain before their first read, in order: a plain rule as two numbers (where its line starts in the
 * text, and its line number), a rule the first pass had to parse already as itself.
 */
type UnparsedRules = (number | NftRule)[];

interface ChainRules {
  source: string;
  unparsed: UnparsedRules | undefined;
  rules: NftRule[] | undefined;
}

const RULES = Symbol('chain rules');

type LazyChain = NftChain & { [RULES]: ChainRules };

function parseRules(slot: ChainRules): NftRule[] {
  const rules: NftRule[] = [];
  const unparsed = slot.unparsed ?? [];
  for (let i = 0; i < unparsed.length; i++) {
    const entry = unparsed[i];
    if (typeof entry === 'number') rules.push(plainRule(slot.source, entry, unparsed[++i] as number));
    else rules.push(entry);
  }
  return rules;
}

/** One getter for every chain: a chain costs a small record, not a closure. */
const RULES_DESCRIPTOR: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: LazyChain): NftRule[] {
    const slot = this[RULES];
    if (slot.rules === undefined) {
      slot.rules = parseRules(slot);
      slot.unparsed = undefined;
    }
    return slot.rules;
  },
  set(this: LazyChain, rules: NftRule[]) {
    this[RULES].rules = rules;
    this[RULES].unparsed = undefined;
  },
};

/**
 * A chain whose `rules` are parsed on first read (an own, enumerable accessor, so spread, JSON.stringify and deep
 * equality see an ordinary NftChain). On a 10,000-Service node the tree and a trace read a few hundred of 60,000.
 */
function newChain(name: string, line: number, source: string): NftChain {
  const chain = { name, line, endLine: line } as LazyChain;
  Object.defineProperty(chain, RULES, { value: { source, unparsed: undefined, rules: undefined } satisfies ChainRules, enumerable: false });
  Object.defineProperty(chain, 'rules', RULES_DESCRIPTOR);
  return chain;
}

/** Where the first pass adds a chain's rules. */
function unparsedRules(chain: NftChain): UnparsedRules {
  const slot = (chain as LazyChain)[RULES];
  slot.unparsed ??= [];
  return slot.unparsed;
}

/** At the chain's closing brace: the list is copied to its exact length (a grown array keeps spare room). */
function settleRules(chain: NftChain): void {
  const slot = (chain as LazyChain)[RULES];
  if (slot.unparsed !== undefined) slot.unparsed = slot.unparsed.slice();
}

/** Splits `type nat hook prerouting priority dstnat; policy accept;` at its semicolons. */
function splitSemicolons(tokens: NftToken[]): NftToken[][] {
  const parts: NftToken[][] = [[]];
  for (const token of tokens) {
    if (token.text === ';' && !token.quoted) parts.push([]);
    else parts[parts.length - 1].push(token);
  }
  return parts.filter((part) => part.length > 0);
}

function shorten(text: string): string {
  return text.length > 100 ? `${text.slice(0, 97)}…` : text;
}
