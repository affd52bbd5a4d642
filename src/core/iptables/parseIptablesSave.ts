/**
 * Parses `iptables-save` output in one pass over the text. Rules keep their line, raw text, chain and
 * target name eagerly; the rest of a rule (addresses, match modules, target options) is read again on
 * first use and cached, so a 200,000-rule node costs little more memory than its text.
 * Accepts real output and what people paste: `-c`/`[p:b]` counters, legacy-table warnings, typographic
 * quotes, folded lines, and kube-proxy's test-fixture form.
 */

import type { Diagnostic, ParseResult } from '../diagnostics';
import type { Chain, Negatable, Rule, RuleMatch, RuleTarget, Ruleset, Table, TableName } from './model';
import { parseRuleDetails, type RuleDetails } from './ruleDetails';
import { tokenizeRule } from './tokenize';

/** Lines longer than this are refused with a diagnostic: no real rule comes close. */
export const MAX_LINE_LENGTH = 64 * 1024;

const BUILTIN_CHAINS = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

/** A rule whose details are parsed on first use. */
class SavedRule implements Rule {
  #details: RuleDetails | undefined;

  constructor(
    readonly table: TableName,
    readonly chain: string,
    readonly line: number,
    readonly position: number,
    readonly raw: string,
    /** The `-j`/`-g` target found while scanning the line, kept so the chain graph needs no full parse. */
    private readonly targetName: string | undefined,
  ) {}

  private details(): RuleDetails {
    this.#details ??= this.readDetails();
    return this.#details;
  }

  /** The rule's details, parsed afresh unless already cached; reading them this way does not cache them. */
  readDetails(): RuleDetails {
    if (this.#details) return this.#details;
    const tokens = tokenizeRule(this.raw);
    return parseRuleDetails(tokens, ruleBodyStart(tokens.tokens));
  }

  get source(): Negatable<string> | undefined {
    return this.details().source;
  }
  get destination(): Negatable<string> | undefined {
    return this.details().destination;
  }
  get protocol(): Negatable<string> | undefined {
    return this.details().protocol;
  }
  get inInterface(): Negatable<string> | undefined {
    return this.details().inInterface;
  }
  get outInterface(): Negatable<string> | undefined {
    return this.details().outInterface;
  }
  get fragment(): Negatable<true> | undefined {
    return this.details().fragment;
  }
  get matches(): RuleMatch[] {
    return this.details().matches;
  }
  get target(): RuleTarget | undefined {
    return this.targetName === undefined ? undefined : this.details().target;
  }
  get comment(): string | undefined {
    return this.details().comment;
  }
  get counters(): { packets: number; bytes: number } | undefined {
    return this.details().counters;
  }
  /** The target's name without parsing the rest of the rule (used to build the chain graph). */
  get targetChain(): string | undefined {
    return this.targetName;
  }
}

/** Index of the first token after `[p:b] -A CHAIN`. */
function ruleBodyStart(tokens: string[]): number {
  let i = 0;
  if (tokens[i]?.startsWith('[')) i++;
  return i + 2;
}

/** The name of the target in tokens, found without building the rest of the rule. */
function findTargetName(tokens: string[], quoted: ReadonlySet<number> | undefined): string | undefined {
  for (let i = tokens.length - 2; i >= 0; i--) {
    const token = tokens[i];
    if ((token === '-j' || token === '-g' || token === '--jump' || token === '--goto') && !quoted?.has(i)) {
      return tokens[i + 1];
    }
  }
  return undefined;
}

const COUNTER_PATTERN = /^\[(\d+):(\d+)\]$/;

interface MutableChain extends Chain {
  rules: Rule[];
}

export function parseIptablesSave(text: string, file = 'iptables-save.txt'): ParseResult<Ruleset> {
  const diagnostics: Diagnostic[] = [];
  const tables = new Map<string, Table>();
  const notices: { line: number; text: string }[] = [];
  const report = (line: number, severity: Diagnostic['severity'], message: string) =>
    diagnostics.push({ file, line, severity, message });

  let table: Table | undefined;
  let lastRuleLine = 0;
  let pending: { line: number; text: string } | undefined;

  const chainOf = (name: string, line: number): MutableChain => {
    const current = table!;
    let chain = current.chains.get(name) as MutableChain | undefined;
    if (!chain) {
      report(line, 'warning', `chain ${name} is used in table ${current.name} before it is declared`);
      const builtin = BUILTIN_CHAINS.has(name);
      chain = { table: current.name, name, builtin, policy: builtin ? 'ACCEPT' : undefined, line, rules: [] };
      current.chains.set(name, chain);
    }
    return chain;
  };

  const addRule = (lineNumber: number, raw: string) => {
    const tokens = tokenizeRule(raw);
    if (tokens.unbalancedQuote) report(lineNumber, 'warning', 'a quote is not closed; read to the end of the line');
    const list = tokens.tokens;
    let i = 0;
    if (COUNTER_PATTERN.test(list[0] ?? '')) i++;
    const verb = list[i];
    const chainName = list[i + 1];
    if (verb !== '-A' && verb !== '--append') {
      report(lineNumber, 'error', `expected "-A CHAIN …" but found "${truncate(raw)}"`);
      return;
    }
    if (chainName === undefined) {
      report(lineNumber, 'error', '"-A" needs a chain name');
      return;
    }
    const chain = chainOf(chainName, lineNumber);
    const details = parseRuleDetails(tokens, i + 2);
    for (const problem of details.problems) report(lineNumber, 'warning', problem);
    const targetName = findTargetName(list, tokens.quoted);
    chain.rules.push(new SavedRule(table!.name, chainName, lineNumber, chain.rules.length + 1, raw, targetName));
    lastRuleLine = lineNumber;
  };

  const flushPending = () => {
    if (pending) addRule(pending.line, pending.text);
    pending = undefined;
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
    let line = text.slice(start, lineEnd);
    const first = line.charCodeAt(0);
    if (first === 32 || first === 9) line = line.trim();
    if (line.length === 0) {
      flushPending();
      continue;
    }
    const lead = line[0];
    if (lead === '-' && pending && !/^(-A|--append)\s/.test(line)) {
      // A web page folded a long rule before one of its options: join it back.
      report(lineNumber, 'info', `joined to the rule on line ${pending.line} as a folded line`);
      pending.text = `${pending.text} ${line}`;
      continue;
    }
    if (lead === '-' || (lead === '[' && COUNTER_PATTERN.test(line.slice(0, line.indexOf(' '))))) {
      flushPending();
      if (!table) {
        report(lineNumber, 'error', 'rule outside any table (a "*table" line must come first); skipped');
        continue;
      }
      pending = { line: lineNumber, text: line };
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
      }
      continue;
    }
    if (lead === ':') {
      flushPending();
      if (!table) {
        report(lineNumber, 'error', 'chain declaration outside any table; skipped');
        continue;
      }
      declareChain(table, line, lineNumber, report);
      continue;
    }
    if (line === 'COMMIT') {
      flushPending();
      if (!table) report(lineNumber, 'warning', 'COMMIT outside any table');
      table = undefined;
      continue;
    }
    if (pending && table) {
      // A web page folded a long rule onto the next line: join it back.
      report(lineNumber, 'info', `joined to the rule on line ${pending.line} as a folded line`);
      pending.text = `${pending.text} ${line}`;
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
  return { value: { file, tables, notices }, diagnostics };
}

function declareChain(
  table: Table,
  line: string,
  lineNumber: number,
  report: (line: number, severity: Diagnostic['severity'], message: string) => void,
): void {
  const parts = line.slice(1).trim().split(/\s+/);
  const name = parts[0];
  if (!name) {
    report(lineNumber, 'error', 'chain declaration without a name');
    return;
  }
  const policyText = parts[1];
  const builtin = BUILTIN_CHAINS.has(name) && policyText !== '-';
  let policy: 'ACCEPT' | 'DROP' | undefined;
  if (policyText === 'ACCEPT' || policyText === 'DROP') policy = policyText;
  else if (policyText !== undefined && policyText !== '-') {
    report(lineNumber, 'warning', `unknown policy "${policyText}" for chain ${name}`);
  }
  const counterMatch = parts[2] ? COUNTER_PATTERN.exec(parts[2]) : null;
  const counters = counterMatch ? { packets: Number(counterMatch[1]), bytes: Number(counterMatch[2]) } : undefined;
  const existing = table.chains.get(name);
  if (existing) {
    if (existing.line !== lineNumber) {
      report(lineNumber, 'warning', `chain ${name} is declared again in table ${table.name}`);
    }
    return;
  }
  // kube-proxy's test fixtures write built-in chains as `:PREROUTING - [0:0]`; the kernel's policy is ACCEPT.
  const chain: MutableChain = {
    table: table.name,
    name,
    policy: BUILTIN_CHAINS.has(name) ? (policy ?? 'ACCEPT') : policy,
    builtin: BUILTIN_CHAINS.has(name) || builtin,
    line: lineNumber,
    counters,
    rules: [],
  };
  table.chains.set(name, chain);
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
