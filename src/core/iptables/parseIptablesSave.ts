/**
 * Parses `iptables-save` output in one pass over the text. Each rule is checked and stored as its line, offsets
 * and target position (storedRules.ts); a chain makes Rule objects when its rules are first read, and a rule's
 * details (addresses, match modules, target options) are parsed when first used, so a 200,000-rule node costs
 * little more memory than its text. Accepts real output and what people paste: `-c`/`[p:b]` counters,
 * legacy-table warnings, typographic quotes, folded lines, and kube-proxy's test-fixture form.
 */

import { DiagnosticList, type Diagnostic, type ParseResult } from '../diagnostics';
import type { Chain, Rule, RuleTarget, Ruleset, Table } from './model';
import { newPlaces, scanCanonicalAt, scanRuleByTokens } from './scanRule';
import { RuleStore, SavedRule, StoredChain } from './storedRules';

/** Lines longer than this are refused with a diagnostic: no real rule comes close. */
export const MAX_LINE_LENGTH = 64 * 1024;

const BUILTIN_CHAINS = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

/** Targets that are never chains: a rule using them needs no lookup for a chain declared later. */
const BUILTIN_TARGETS = new Set(['ACCEPT', 'DROP', 'RETURN', 'REJECT', 'DNAT', 'SNAT', 'MASQUERADE', 'MARK', 'LOG', 'CONNMARK', 'NOTRACK', 'CT', 'REDIRECT']);

const COUNTER_PATTERN = /^\[(\d+):(\d+)\]$/;

export function parseIptablesSave(text: string, file = 'iptables-save.txt'): ParseResult<Ruleset> {
  const diagnostics = new DiagnosticList(file);
  const tables = new Map<string, Table>();
  const notices: { line: number; text: string }[] = [];
  const report = (line: number, severity: Diagnostic['severity'], message: string) => diagnostics.add(line, severity, shortenMessage(message));

  const store = new RuleStore(text);
  let undeclaredTargets: { table: Table; name: string; rule: number }[] | undefined;
  let table: Table | undefined;
  let lastRuleLine = 0;
  let lastChain: StoredChain | undefined;
  // The declared chains of each table in order: rules follow that order, so the next chain is usually known.
  const declared = new Map<Table, StoredChain[]>();
  // Chains a rule used before their declaration (every table's; rare, and only read when such a chain is declared).
  const usedFirst: StoredChain[] = [];
  let order: StoredChain[] = [];
  let expected = 0;
  // The rule waiting for possible folded continuation lines: its line and where it stands in the dump, and its text
  // when that differs from the dump's (trimmed, or joined with folded lines); an unchanged rule is read in place.
  let pendingLine = 0;
  let pendingStart = 0;
  let pendingEnd = 0;
  let pendingText: string | undefined;
  const places = newPlaces();
  // The chain a rule last jumped to (already marked), and whether any chain bears a built-in target's name.
  let lastMarked: StoredChain | undefined;
  let chainsNamedLikeTargets = false;

  const chainOf = (name: string, line: number): StoredChain => {
    const current = table!;
    let chain = current.chains.get(name) as StoredChain | undefined;
    if (!chain) {
      report(line, 'warning', `chain ${name} is used in table ${current.name} before it is declared`);
      const builtin = BUILTIN_CHAINS.has(name);
      chain = new StoredChain(store, current.name, name, builtin, builtin ? 'ACCEPT' : undefined, line, undefined, -1);
      current.chains.set(name, chain);
      usedFirst.push(chain);
      if (BUILTIN_TARGETS.has(name)) chainsNamedLikeTargets = true;
    }
    return chain;
  };

  /** The pending rule's text: its own when rewritten, else cut from the dump. */
  const pendingRaw = (): string => pendingText ?? text.slice(pendingStart, pendingEnd);

  /**
   * Reads the pending rule into `places`: in place when it is canonical, else by walking its tokens, which also
   * reports its problems. Returns false when the line is not a rule at all.
   */
  const scanPending = (lineNumber: number, previous: string | undefined, next: string | undefined): boolean => {
    if (pendingText === undefined && scanCanonicalAt(text, pendingStart, pendingEnd, previous, next, places)) return true;
    const raw = pendingRaw();
    const scan = scanRuleByTokens(raw, previous);
    if (scan.unbalancedQuote) report(lineNumber, 'warning', 'a quote is not closed; read to the end of the line');
    if (!scan.appends) {
      report(lineNumber, 'error', `expected "-A CHAIN …" but found "${truncate(raw)}"`);
      return false;
    }
    if (scan.chain === undefined) {
      report(lineNumber, 'error', '"-A" needs a chain name');
      return false;
    }
    if (scan.problems) for (const problem of scan.problems) report(lineNumber, 'warning', problem);
    places.chain = scan.chain;
    places.targetOffset = scan.targetOffset;
    places.targetStart = scan.target === undefined ? -1 : scan.targetStart;
    places.targetEnd = scan.target === undefined ? -1 : scan.targetStart + scan.target.length;
    return true;
  };

  const addRule = () => {
    const lineNumber = pendingLine;
    const sameTable = lastChain?.table === table!.name;
    const next = order[expected];
    if (!scanPending(lineNumber, sameTable ? lastChain!.name : undefined, next?.name)) return;
    let chain: StoredChain;
    if (sameTable && lastChain!.name === places.chain) chain = lastChain!;
    else {
      chain = next !== undefined && next.name === places.chain ? next : chainOf(places.chain!, lineNumber);
      if (chain.declarationIndex >= 0) expected = chain.declarationIndex + 1;
    }
    lastChain = chain;
    const { targetStart, targetEnd } = places;
    const index = store.add(lineNumber, pendingStart, pendingEnd, pendingText, places.targetOffset, targetStart, targetEnd);
    chain.append(index);
    if (targetStart !== -1) {
      const base = pendingText === undefined ? pendingStart : 0;
      const target = (pendingText ?? text).slice(base + targetStart, base + targetEnd);
      // Most rules jump to a built-in target (DNAT) or to the chain marked last (KUBE-MARK-MASQ): both are known
      // without a lookup in the table's chain map, whose 70,000 entries make each lookup a few cache misses.
      if (target === lastMarked?.name) store.setTargetChain(index, lastMarked);
      else if (chainsNamedLikeTargets || !BUILTIN_TARGETS.has(target)) {
        const jumpedTo = table!.chains.get(target) as StoredChain | undefined;
        if (jumpedTo) {
          jumpedTo.jumpedTo = true;
          store.setTargetChain(index, jumpedTo);
          lastMarked = jumpedTo;
        } else if (!BUILTIN_TARGETS.has(target)) (undeclaredTargets ??= []).push({ table: table!, name: target, rule: index });
      }
    }
    lastRuleLine = lineNumber;
  };

  const flushPending = () => {
    if (pendingLine > 0) addRule();
    pendingLine = 0;
  };

  const length = text.length;
  let position = 0;
  let lineNumber = 0;
  while (position < length) {
    let end = text.indexOf('\n', position);
    if (end === -1) end = length;
    lineNumber++;
    const lineEnd = end > position && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    const lineLength = lineEnd - position;
    const start = position;
    position = end + 1;
    if (lineLength > MAX_LINE_LENGTH) {
      flushPending();
      report(lineNumber, 'error', `line is ${lineLength} characters long, over the ${MAX_LINE_LENGTH} limit; skipped`);
      continue;
    }
    const first = text.charCodeAt(start);
    if (first === 45 && table && !(pendingLine > 0 && !startsAppend(text, start, lineEnd))) {
      // A rule line as iptables-save prints it: only its place is kept here, its text is read in place.
      flushPending();
      pendingLine = lineNumber;
      pendingStart = start;
      pendingEnd = lineEnd;
      pendingText = undefined;
      continue;
    }
    let line = text.slice(start, lineEnd);
    const trimmed = first === 32 || first === 9;
    if (trimmed) line = line.trim();
    if (line.length === 0) {
      flushPending();
      continue;
    }
    const lead = line[0];
    if (lead === '-' && pendingLine > 0 && !startsAppend(line, 0, line.length)) {
      // A web page folded a long rule before one of its options: join it back.
      report(lineNumber, 'info', `joined to the rule on line ${pendingLine} as a folded line`);
      pendingText = `${pendingRaw()} ${line}`;
      continue;
    }
    if (lead === '-' || (lead === '[' && COUNTER_PATTERN.test(line.slice(0, line.indexOf(' '))))) {
      flushPending();
      if (!table) {
        report(lineNumber, 'error', 'rule outside any table (a "*table" line must come first); skipped');
        continue;
      }
      pendingLine = lineNumber;
      pendingStart = start;
      pendingEnd = lineEnd;
      pendingText = trimmed ? line : undefined;
      continue;
    }
    if (lead === '#') {
      flushPending();
      if (!line.startsWith('# Generated by') && !line.startsWith('# Completed on')) {
        notices.push({ line: lineNumber, text: line.slice(1).trim() });
      }
      continue;
    }
    if (lead === '*') {
      flushPending();
      if (table) report(lineNumber, 'warning', `table ${table.name} has no COMMIT before the next table`);
      const name = line.slice(1).trim();
      const existing = tables.get(name);
      if (existing) {
        report(lineNumber, 'warning', `table ${name} appears a second time; its chains are merged with the first`);
        table = existing;
      } else {
        table = { name, line: lineNumber, chains: new Map() };
        tables.set(name, table);
        declared.set(table, []);
      }
      order = declared.get(table)!;
      expected = 0;
      lastMarked = undefined;
      continue;
    }
    if (lead === ':') {
      flushPending();
      if (!table) {
        report(lineNumber, 'error', 'chain declaration outside any table; skipped');
        continue;
      }
      const declaredChain = declareChain(store, table, order, usedFirst, line, lineNumber, report);
      if (declaredChain && BUILTIN_TARGETS.has(declaredChain.name)) chainsNamedLikeTargets = true;
      continue;
    }
    if (line === 'COMMIT') {
      flushPending();
      if (!table) report(lineNumber, 'warning', 'COMMIT outside any table');
      table = undefined;
      continue;
    }
    if (pendingLine > 0 && table) {
      // A web page folded a long rule onto the next line: join it back.
      report(lineNumber, 'info', `joined to the rule on line ${pendingLine} as a folded line`);
      pendingText = `${pendingRaw()} ${line}`;
      continue;
    }
    flushPending();
    if (!table && lastRuleLine === 0 && tables.size === 0) {
      report(lineNumber, 'info', `not iptables-save output, ignored: "${truncate(line)}"`);
    } else {
      report(lineNumber, 'warning', `not an iptables-save line, ignored: "${truncate(line)}"`);
    }
  }
  flushPending();
  if (table) report(lineNumber, 'warning', `table ${table.name} ends without COMMIT (the file may be cut short)`);
  // A chain declared only after a rule jumped to it (not iptables-save's order, but seen in edited dumps).
  for (const { table: owner, name, rule } of undeclaredTargets ?? []) {
    const chain = owner.chains.get(name) as StoredChain | undefined;
    if (chain) {
      chain.jumpedTo = true;
      store.setTargetChain(rule, chain);
    }
  }
  store.finish();
  return { value: { file, tables, notices }, diagnostics: diagnostics.list() };
}

const APPEND = /-A\s|--append\s/y;

/** Whether the line `text.slice(start, end)` starts with `-A` or `--append` and a space. */
function startsAppend(text: string, start: number, end: number): boolean {
  APPEND.lastIndex = start;
  return APPEND.test(text) && APPEND.lastIndex <= end;
}

/** `[0:0]` counters are shared: tens of thousands of kube-proxy chains carry them. */
const NO_COUNTS: { packets: number; bytes: number } = Object.freeze({ packets: 0, bytes: 0 });

function declareChain(
  store: RuleStore,
  table: Table,
  order: StoredChain[],
  usedFirst: readonly StoredChain[],
  line: string,
  lineNumber: number,
  report: (line: number, severity: Diagnostic['severity'], message: string) => void,
): StoredChain | undefined {
  // `:NAME POLICY [packets:bytes]`, read with indexOf: there are tens of thousands on a big node.
  const nameEnd = line.indexOf(' ', 1);
  let name: string;
  let policyText: string | undefined;
  let counterText: string | undefined;
  if (nameEnd > 1 && line.endsWith(' - [0:0]') && line.length === nameEnd + 8) {
    // The user chains of a dump: `:KUBE-SEP-… - [0:0]`.
    name = line.slice(1, nameEnd);
    policyText = '-';
    counterText = '[0:0]';
  } else {
    name = (nameEnd === -1 ? line.slice(1) : line.slice(1, nameEnd)).trim();
    const rest = nameEnd === -1 ? '' : line.slice(nameEnd + 1).trim();
    const policyEnd = rest.indexOf(' ');
    policyText = rest === '' ? undefined : policyEnd === -1 ? rest : rest.slice(0, policyEnd);
    counterText = policyEnd === -1 ? undefined : rest.slice(policyEnd + 1).trim();
  }
  if (!name) {
    report(lineNumber, 'error', 'chain declaration without a name');
    return undefined;
  }
  let policy: 'ACCEPT' | 'DROP' | undefined;
  if (policyText === 'ACCEPT' || policyText === 'DROP') policy = policyText;
  else if (policyText !== undefined && policyText !== '-') {
    report(lineNumber, 'warning', `unknown policy "${policyText}" for chain ${name}`);
  }
  let counters: { packets: number; bytes: number } | undefined;
  if (counterText === '[0:0]') {
    counters = NO_COUNTS;
  } else if (counterText) {
    const counterMatch = COUNTER_PATTERN.exec(counterText);
    if (counterMatch) counters = { packets: Number(counterMatch[1]), bytes: Number(counterMatch[2]) };
  }
  // kube-proxy's test fixtures write built-in chains as `:PREROUTING - [0:0]`; the kernel's policy is ACCEPT.
  const builtin = BUILTIN_CHAINS.has(name);
  const chain = new StoredChain(store, table.name, name, builtin, builtin ? (policy ?? 'ACCEPT') : policy, lineNumber, counters, order.length);
  // Declared names are nearly always new: the map is asked once, by a set that must grow it, and only a name seen
  // before (declared again, or used by a rule first) puts the first chain back.
  const size = table.chains.size;
  table.chains.set(name, chain);
  if (table.chains.size === size) {
    const first = order.find((known) => known.name === name) ?? usedFirst.find((known) => known.table === table.name && known.name === name)!;
    table.chains.set(name, first);
    if (first.line !== lineNumber) report(lineNumber, 'warning', `chain ${name} is declared again in table ${table.name}`);
    return undefined;
  }
  order.push(chain);
  return chain;
}

/**
 * Messages quote names and tokens from the input, which can be a whole 64 KiB line (a `*table` line without
 * line ends, say); keep the start and the end, where the message says what happened.
 */
function shortenMessage(message: string): string {
  return message.length > 400 ? `${message.slice(0, 300)}…${message.slice(-80)}` : message;
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/** The name a rule jumps or goes to, read without parsing the whole rule. */
export function ruleTargetName(rule: Rule): string | undefined {
  return rule instanceof SavedRule ? rule.targetChain : rule.target?.name;
}

/**
 * A rule's details without keeping them in memory afterwards: for passes over every rule (the Service tree)
 * that would otherwise hold a parsed copy of the whole ruleset.
 */
export function peekRuleDetails(rule: Rule): Pick<Rule, 'source' | 'destination' | 'protocol' | 'matches' | 'target' | 'comment'> {
  return rule instanceof SavedRule ? rule.readDetails() : rule;
}

/** A rule's target with its options, read without parsing (or caching) the rest of the rule. */
export function peekRuleTarget(rule: Rule): RuleTarget | undefined {
  return rule instanceof SavedRule ? rule.readTarget() : rule.target;
}

/** The rule's text from its `-j`/`-g` on, when the parser recorded where that is. */
export function ruleTargetText(rule: Rule): string | undefined {
  return rule instanceof SavedRule ? rule.targetText : undefined;
}

/**
 * Visits the target name of every rule of a chain in order, without creating Rule objects when the chain came
 * from parseIptablesSave: for passes over a whole dump such as the jump index.
 */
export function forEachRuleTarget(chain: Chain, visit: (target: string | undefined) => void): void {
  if (chain instanceof StoredChain) chain.eachTarget(visit);
  else for (const rule of chain.rules) visit(rule.target?.name);
}

/**
 * Visits the chains the rules of `chain` jump or go to, in rule order. Chains from parseIptablesSave know them from
 * the parse, so no name is looked up; others look each target up in `table`. A target that names no chain of the
 * table is given to `unresolved` by name when it starts with one of `prefixes` (built-in targets never do).
 */
export function forEachTargetChain(
  chain: Chain,
  table: Table,
  visit: (target: Chain) => void,
  prefixes: readonly string[],
  unresolved: (name: string) => void,
): void {
  if (chain instanceof StoredChain) {
    chain.eachTargetChain(visit, prefixes, unresolved);
    return;
  }
  for (const rule of chain.rules) {
    const name = rule.target?.name;
    if (name === undefined) continue;
    const target = table.chains.get(name);
    if (target) visit(target);
    else if (prefixes.some((prefix) => name.startsWith(prefix))) unresolved(name);
  }
}

/**
 * A chain's rules for one pass that will not come back to them: chains from parseIptablesSave hand out objects
 * they do not keep, so a trace through one Service's chains leaves nothing behind in memory.
 */
export function readRulesOnce(chain: Chain): Rule[] {
  return chain instanceof StoredChain ? chain.readRules() : chain.rules;
}

/** The line of a chain's last rule (undefined without rules), without creating its Rule objects. */
export function lastRuleLineOf(chain: Chain): number | undefined {
  if (chain instanceof StoredChain) return chain.lastRuleLine;
  return chain.rules.length === 0 ? undefined : Math.max(...chain.rules.map((rule) => rule.line));
}

/** How many rules a chain has, without creating its Rule objects. */
export function ruleCountOf(chain: Chain): number {
  return chain instanceof StoredChain ? chain.ruleCount : chain.rules.length;
}

/**
 * Whether some rule of the chain's table jumps or goes to it. Chains from parseIptablesSave know it from the
 * parse; others are checked against every rule of the table.
 */
export function isJumpedTo(chain: Chain, table: Table): boolean {
  if (chain instanceof StoredChain) return chain.jumpedTo;
  for (const other of table.chains.values()) if (other.rules.some((rule) => rule.target?.name === chain.name)) return true;
  return false;
}
