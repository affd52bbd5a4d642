/**
 * The first, allocation-light pass over one rule line: it finds the chain, the target and where the target
 * starts, and checks the rule's structure (the same problems parseRuleDetails reports), walking character
 * codes without building token arrays. A 200,000-rule dump is scanned this way; the full typed reading of a
 * rule (ruleDetails.ts) happens only for the rules that are looked at.
 */

import { NEEDS_CAREFUL_PATH } from './tokenize';

const enum Char {
  Tab = 9,
  Space = 32,
  Bang = 33,
  Quote = 34,
  Dash = 45,
  Backslash = 92,
  OpenBracket = 91,
}

function isSpace(code: number): boolean {
  return code === Char.Space || code === Char.Tab || code === 13 || code === 11 || code === 12 || code === 0xa0;
}

function isQuote(code: number): boolean {
  return code === Char.Quote || (code >= 0x201c && code <= 0x201f) || code === 0x2033;
}

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** Walks the tokens of a line by index; `start`/`end` delimit the current token (quotes included). */
class TokenCursor {
  start = 0;
  end = 0;
  quoted = false;
  unbalanced = false;
  private position = 0;
  private line = '';
  /** The line holds only plain spaces, ASCII quotes and no backslashes, so native searches can find token ends. */
  private plain = false;

  /** Starts over on a new line; one cursor serves every line, so scanning allocates nothing per line. */
  reset(line: string): this {
    this.line = line;
    this.plain = !NEEDS_CAREFUL_PATH.test(line);
    this.position = 0;
    this.start = 0;
    this.end = 0;
    this.quoted = false;
    this.unbalanced = false;
    return this;
  }

  next(): boolean {
    return this.plain ? this.nextPlain() : this.nextCareful();
  }

  private nextPlain(): boolean {
    const line = this.line;
    let i = this.position;
    while (line.charCodeAt(i) === Char.Space) i++;
    if (i >= line.length) return false;
    this.start = i;
    this.quoted = line.charCodeAt(i) === Char.Quote;
    let end: number;
    if (this.quoted) {
      const close = line.indexOf('"', i + 1);
      if (close === -1) {
        this.unbalanced = true;
        end = line.length;
      } else end = close + 1;
    } else {
      const space = line.indexOf(' ', i);
      end = space === -1 ? line.length : space;
    }
    this.end = end;
    this.position = end;
    return true;
  }

  private nextCareful(): boolean {
    const line = this.line;
    const length = line.length;
    let i = this.position;
    while (i < length && isSpace(line.charCodeAt(i))) i++;
    if (i >= length) return false;
    this.start = i;
    this.quoted = isQuote(line.charCodeAt(i));
    if (this.quoted) {
      i++;
      while (i < length) {
        const code = line.charCodeAt(i);
        if (code === Char.Backslash) i += 2;
        else if (isQuote(code)) break;
        else i++;
      }
      if (i >= length) this.unbalanced = true;
      else i++;
    } else {
      while (i < length && !isSpace(line.charCodeAt(i))) i++;
    }
    this.end = i;
    this.position = i;
    return true;
  }

  /** `!`, `-x`, `--long` (or a web page's `–long`), outside quotes. */
  isOptionLike(): boolean {
    if (this.quoted) return false;
    const line = this.line;
    const first = line.charCodeAt(this.start);
    const length = this.end - this.start;
    if (first === Char.Bang) return length === 1;
    if (first === 0x2013 || first === 0x2014) return length > 1 && isLetter(line.charCodeAt(this.start + 1));
    if (first !== Char.Dash || length < 2) return false;
    const second = line.charCodeAt(this.start + 1);
    if (second === Char.Dash) return length > 2 && isLetter(line.charCodeAt(this.start + 2));
    return length === 2 && isLetter(second);
  }

  isAnyOf(texts: readonly string[]): boolean {
    for (const text of texts) if (this.is(text)) return true;
    return false;
  }

  /** The token's text, without its quotes when quoted. */
  value(): string {
    if (!this.quoted) return this.text();
    const closed = !this.unbalanced || this.end < this.line.length;
    return this.line.slice(this.start + 1, closed ? this.end - 1 : this.end).replace(/\\(.)/g, '$1');
  }

  is(text: string): boolean {
    return this.end - this.start === text.length && this.line.startsWith(text, this.start);
  }

  text(): string {
    return this.line.slice(this.start, this.end);
  }
}

/** `--name` (or a web page's `–name`) with at least one letter after the dashes. */
function isLongOption(line: string, cursor: TokenCursor): boolean {
  const first = line.charCodeAt(cursor.start);
  const length = cursor.end - cursor.start;
  if (first === 0x2013 || first === 0x2014) return length > 1;
  return first === Char.Dash && line.charCodeAt(cursor.start + 1) === Char.Dash && length > 2;
}

function normaliseDash(token: string): string {
  const first = token.charCodeAt(0);
  return first === 0x2013 || first === 0x2014 ? `--${token.slice(1)}` : token;
}

export interface RuleScan {
  /** False when the line is not `[p:b] -A CHAIN …`. */
  readonly appends: boolean;
  readonly chain: string | undefined;
  readonly target: string | undefined;
  readonly targetKind: 'jump' | 'goto';
  /** Index in the line where `-j`/`-g` stands, or -1. */
  readonly targetOffset: number;
  /** Index in the line where the target's name starts, or -1. */
  readonly targetStart: number;
  readonly problems: string[] | undefined;
  readonly unbalancedQuote: boolean;
}

const BASIC_WITH_VALUE = ['-s', '-d', '-p', '-i', '-o', '--source', '--src', '--destination', '--dst', '--protocol', '--in-interface', '--out-interface'];
const IMPLICIT_PROTOCOLS = new Set(['tcp', 'udp', 'sctp', 'icmp', 'udplite', 'dccp']);

const ruleCursor = new TokenCursor();
const optionCursor = new TokenCursor();

/**
 * The canonical form iptables-save prints, which is nearly every line of a real dump: `-A CHAIN`, the basic
 * options with plain values, `-m module` blocks of `--options` with plain or `"quoted"` arguments, and at most one
 * target at the end, single spaces between tokens. A line it matches has none of the problems scanRule reports, so
 * one native regex test replaces the token walk. Characters the careful walk treats specially (tabs and other
 * spaces, backslashes, typographic quotes and dashes) never match, nor do counters or options in another order:
 * such lines take the walk.
 *
 * The pattern is tried on the whole dump at a rule's offset (sticky), and `$` stops at the rule's line end
 * (multiline); a match counts only when it ends exactly at the rule's end, so `$` before a stray carriage return in
 * the middle of a line does not pass. Quoted arguments never span a line break.
 */
const SPECIAL = String.raw`\s"\\\u201c-\u201f\u2033\u2013\u2014`;
const PLAIN_TOKEN = String.raw`[^${SPECIAL}!-][^${SPECIAL}]*`;
const PLAIN_ARGUMENT = String.raw`(?:"[^\n"\\\u201c-\u201f\u2033]*"|${PLAIN_TOKEN})`;
const LONG_OPTION = String.raw`(?: (?:! )?--[A-Za-z][\w-]*(?: ${PLAIN_ARGUMENT})*)`;
const CANONICAL_RULE = new RegExp(
  String.raw`^-A [^${SPECIAL}][^${SPECIAL}]*(?: (?:! )?-[sdpio] ${PLAIN_TOKEN})*(?: -m ${PLAIN_TOKEN}${LONG_OPTION}*)*(?: -[jg] ${PLAIN_TOKEN}${LONG_OPTION}*)?$`,
  'my',
);

/** Where the parts of a canonical rule stand, relative to the rule's start; scanCanonicalAt fills one in place. */
export interface RulePlaces {
  chain: string | undefined;
  /** Where `-j`/`-g` stands, or -1 without a target. */
  targetOffset: number;
  /** Where the target's name starts and ends, or -1 without a target. */
  targetStart: number;
  targetEnd: number;
  goto: boolean;
}

export function newPlaces(): RulePlaces {
  return { chain: undefined, targetOffset: -1, targetStart: -1, targetEnd: -1, goto: false };
}

/**
 * Reads the rule `text.slice(start, end)` in place when it has the canonical form, filling `into` and returning
 * true; returns false, leaving `into` as it was, when the rule needs the token walk. Nothing is allocated but a copy
 * of the chain's name, dropped again when it is `previousChain` or `nextChain`. In a canonical rule the target flag
 * is the last ` -j ` or ` -g ` outside quotes; a quote after it (or anywhere in a rule without one) means a quoted
 * argument may hold that text, and the token walk decides instead.
 */
export function scanCanonicalAt(
  text: string,
  start: number,
  end: number,
  previousChain: string | undefined,
  nextChain: string | undefined,
  into: RulePlaces,
): boolean {
  CANONICAL_RULE.lastIndex = start;
  if (!CANONICAL_RULE.test(text) || CANONICAL_RULE.lastIndex !== end) return false;
  const chainFrom = start + 3;
  let chainEnd = text.indexOf(' ', chainFrom);
  if (chainEnd === -1 || chainEnd > end) chainEnd = end;
  // The flag is searched from the end: the target is the rule's last part, so only it and its options are walked,
  // once, looking for a quote on the way.
  let flag = -1;
  for (let i = end - 1; i >= chainEnd; i--) {
    const code = text.charCodeAt(i);
    if (code === Char.Quote) return false;
    if (code !== Char.Dash || i + 2 >= end || text.charCodeAt(i - 1) !== Char.Space || text.charCodeAt(i + 2) !== Char.Space) continue;
    const letter = text.charCodeAt(i + 1);
    if (letter === 106 || letter === 103) {
      flag = i - 1;
      break;
    }
  }
  // A fresh name compared natively beats comparing in place character by character; the known string is kept.
  const chain = text.slice(chainFrom, chainEnd);
  into.chain = chain === previousChain ? previousChain : chain === nextChain ? nextChain : chain;
  if (flag === -1) {
    into.targetOffset = into.targetStart = into.targetEnd = -1;
    into.goto = false;
    return true;
  }
  let nameEnd = text.indexOf(' ', flag + 4);
  if (nameEnd === -1 || nameEnd > end) nameEnd = end;
  into.targetOffset = flag + 1 - start;
  into.targetStart = flag + 4 - start;
  into.targetEnd = nameEnd - start;
  into.goto = text.charCodeAt(flag + 2) === 103;
  return true;
}

/**
 * Scans one rule line. `previousChain` is the chain of the line before and `nextChain` the one expected after it
 * (iptables-save lists rules chain by chain in declaration order): when the line's chain is one of them, that very
 * string is returned, so the caller can tell by identity and no copy is made.
 */
export function scanRule(line: string, previousChain?: string, nextChain?: string): RuleScan {
  const places = newPlaces();
  if (!scanCanonicalAt(line, 0, line.length, previousChain, nextChain, places)) return scanRuleByTokens(line, previousChain);
  const hasTarget = places.targetStart !== -1;
  return {
    appends: true,
    chain: places.chain,
    target: hasTarget ? line.slice(places.targetStart, places.targetEnd) : undefined,
    targetKind: places.goto ? 'goto' : 'jump',
    targetOffset: places.targetOffset,
    targetStart: places.targetStart,
    problems: undefined,
    unbalancedQuote: false,
  };
}

/** The token walk that handles every line, canonical or not; exported so tests can hold the fast path to it. */
export function scanRuleByTokens(line: string, previousChain?: string): RuleScan {
  const cursor = ruleCursor.reset(line);
  let problems: string[] | undefined;
  let chain: string | undefined;
  let target: string | undefined;
  let targetKind: 'jump' | 'goto' = 'jump';
  let targetOffset = -1;
  let targetStart = -1;

  if (!cursor.next()) return { appends: false, chain, target, targetKind, targetOffset, targetStart, problems: undefined, unbalancedQuote: false };
  if (line.charCodeAt(cursor.start) === Char.OpenBracket && !cursor.quoted) cursor.next();
  if (!(cursor.is('-A') || cursor.is('--append'))) {
    return { appends: false, chain, target, targetKind, targetOffset, targetStart, problems: undefined, unbalancedQuote: cursor.unbalanced };
  }
  if (cursor.next()) chain = previousChain !== undefined && cursor.is(previousChain) ? previousChain : cursor.text();

  let inModule = false;
  let protocolHasModule = false;
  let pendingBang = false;
  let advanced = cursor.next();
  while (advanced) {
    if (cursor.quoted) {
      (problems ??= []).push(`unexpected text "${cursor.text()}" where an option was expected`);
      advanced = cursor.next();
      continue;
    }
    if (cursor.is('!')) {
      if (pendingBang) (problems ??= []).push('two "!" in a row: iptables refuses this; read as one');
      pendingBang = true;
      advanced = cursor.next();
      continue;
    }
    pendingBang = false;
    if (cursor.isAnyOf(BASIC_WITH_VALUE)) {
      const isProtocol = cursor.is('-p') || cursor.is('--protocol');
      const name = cursor.text();
      const hasValue = cursor.next();
      if (!hasValue || (cursor.isOptionLike() && !cursor.quoted)) {
        (problems ??= []).push(`option ${name} needs a value`);
        advanced = hasValue;
        continue;
      }
      if (isProtocol) {
        inModule = false;
        protocolHasModule = IMPLICIT_PROTOCOLS.has(cursor.text());
      }
      advanced = cursor.next();
      continue;
    }
    if (cursor.is('-f') || cursor.is('--fragment')) {
      advanced = cursor.next();
      continue;
    }
    if (cursor.is('-c') || cursor.is('--set-counters')) {
      const name = cursor.text();
      const packets = cursor.next() ? Number(cursor.text()) : NaN;
      const bytes = cursor.next() ? Number(cursor.text()) : NaN;
      if (!Number.isFinite(packets) || !Number.isFinite(bytes)) (problems ??= []).push(`option ${name} needs two numbers`);
      advanced = cursor.next();
      continue;
    }
    if (cursor.is('-m') || cursor.is('--match')) {
      const name = cursor.text();
      const hasModule = cursor.next();
      if (!hasModule || cursor.isOptionLike()) {
        (problems ??= []).push(`option ${name} needs a module name`);
        advanced = hasModule;
        continue;
      }
      inModule = true;
      advanced = cursor.next();
      continue;
    }
    if (cursor.is('-j') || cursor.is('--jump') || cursor.is('-g') || cursor.is('--goto')) {
      const optionStart = cursor.start;
      const kind = cursor.is('-g') || cursor.is('--goto') ? 'goto' : 'jump';
      const name = cursor.text();
      const hasTarget = cursor.next();
      if (!hasTarget || cursor.isOptionLike()) {
        (problems ??= []).push(`option ${name} needs a target`);
        advanced = hasTarget;
        continue;
      }
      const targetName = cursor.text();
      if (target !== undefined) (problems ??= []).push(`a second target ${targetName} after ${target}`);
      else {
        target = targetName;
        targetKind = kind;
        targetOffset = optionStart;
        targetStart = cursor.start;
      }
      // Target options (`--to-destination …`, `! --opt`) with their arguments, as ruleDetails.ts reads them.
      let more = cursor.next();
      while (more && !cursor.quoted) {
        if (cursor.is('!')) {
          more = cursor.next();
          continue;
        }
        if (!isLongOption(line, cursor)) break;
        while ((more = cursor.next()) && !(cursor.isOptionLike() && !cursor.quoted));
      }
      advanced = more;
      continue;
    }
    if (isLongOption(line, cursor)) {
      if (!inModule && protocolHasModule) inModule = true;
      if (!inModule) (problems ??= []).push(`option ${normaliseDash(cursor.text())} stands outside any -m match module`);
      while ((advanced = cursor.next()) && !(cursor.isOptionLike() && !cursor.quoted));
      continue;
    }
    (problems ??= []).push(`unknown option "${cursor.text()}"`);
    advanced = cursor.next();
  }
  if (pendingBang) (problems ??= []).push('a "!" with nothing after it');
  return {
    appends: true,
    chain,
    target,
    targetKind,
    targetOffset,
    targetStart,
    problems,
    unbalancedQuote: cursor.unbalanced,
  };
}

export interface ScannedOption {
  negated: boolean;
  args: string[];
}

/**
 * The first occurrence of each named option (`-s`, `--probability`, …) in a rule line with its arguments,
 * found by walking tokens: a quoted comment that contains option-like text is never mistaken for options.
 * For passes over many rules that need a few fields each, without building the whole rule.
 */
export function scanOptions(line: string, names: readonly string[]): Map<string, ScannedOption> {
  const found = new Map<string, ScannedOption>();
  const cursor = optionCursor.reset(line);
  let negated = false;
  let advanced = cursor.next();
  while (advanced) {
    if (cursor.quoted) {
      advanced = cursor.next();
      continue;
    }
    if (cursor.is('!')) {
      negated = true;
      advanced = cursor.next();
      continue;
    }
    let name: string | undefined;
    if (line.charCodeAt(cursor.start) === Char.Dash) for (const candidate of names) if (cursor.is(candidate)) name = candidate;
    const wasNegated = negated;
    negated = false;
    if (!name || found.has(name)) {
      advanced = cursor.next();
      continue;
    }
    const args: string[] = [];
    while ((advanced = cursor.next()) && !cursor.isOptionLike()) {
      args.push(cursor.value());
      // Basic options take exactly one value.
      if (name.length === 2 || !name.startsWith('--')) {
        advanced = cursor.next();
        break;
      }
    }
    found.set(name, { negated: wasNegated, args });
  }
  return found;
}
