/**
 * Parses `iptables-save` output in one pass over the text. Rules keep their line, raw text, chain and
 * target name eagerly; the rest of a rule (addresses, match modules, target options) is read again on
 * first use and cached, so a 200,000-rule node costs little more memory than its text.
 * Accepts real output and what people paste: `-c`/`[p:b]` counters, legacy-table warnings, typographic
 * quotes, folded lines, and kube-proxy's test-fixture form.
 */

import { DiagnosticList, type Diagnostic, type ParseResult } from '../diagnostics';
import type { Chain, Negatable, Rule, RuleMatch, RuleTarget, Ruleset, Table, TableName } from './model';
import { parseRuleDetails, type RuleDetails } from './ruleDetails';
import { scanRule } from './scanRule';
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
    /** Where `-j`/`-g` stands in the raw line, so the target's options can be read alone. */
    private readonly targetOffset: number,
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

  /** The text from `-j`/`-g` to the end of the line: the target and its options. */
  get targetText(): string | undefined {
    return this.targetOffset < 0 ? undefined : this.raw.slice(this.targetOffset);
  }

  /** The target with its options, read from the end of the line alone (nothing is cached). */
  readTarget(): RuleTarget | undefined {
    if (this.#details) return this.#details.target;
    if (this.targetOffset < 0) return undefined;
    return parseRuleDetails(tokenizeRule(this.raw.slice(this.targetOffset)), 0).target;
  }
}

/** Index of the first token after `[p:b] -A CHAIN`. */
function ruleBodyStart(tokens: string[]): number {
  let i = 0;
  if (tokens[i]?.startsWith('[')) i++;
  return i + 2;
}

const COUNTER_PATTERN = /^\[(\d+):(\d+)\]$/;

interface MutableChain extends Chain {
  rules: Rule[];
}

export function parseIptablesSave(text: string, file = 'iptables-save.txt'): ParseResult<Ruleset> {
  const diagnostics = new DiagnosticList(file);
  const tables = new Map<string, Table>();
  const notices: { line: number; text: string }[] = [];
  const report = (line: number, severity: Diagnostic['severity'], message: string) => diagnostics.add(line, severity, shortenMessage(message));

  let table: Table | undefined;
  let lastRuleLine = 0;
  let lastChain: MutableChain | undefined;
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
    const scan = scanRule(raw, lastChain?.table === table!.name ? lastChain.name : undefined);
    if (scan.unbalancedQuote) report(lineNumber, 'warning', 'a quote is not closed; read to the end of the line');
    if (!scan.appends) {
      report(lineNumber, 'error', `expected "-A CHAIN …" but found "${truncate(raw)}"`);
      return;
    }
    if (scan.chain === undefined) {
      report(lineNumber, 'error', '"-A" needs a chain name');
      return;
    }
    const chain = lastChain && lastChain.name === scan.chain && lastChain.table === table!.name ? lastChain : chainOf(scan.chain, lineNumber);
    lastChain = chain;
    if (scan.problems) for (const problem of scan.problems) report(lineNumber, 'warning', problem);
    chain.rules.push(new SavedRule(table!.name, chain.name, lineNumber, chain.rules.length + 1, raw, scan.target, scan.targetOffset));
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
  return { value: { file, tables, notices }, diagnostics: diagnostics.list() };
}

function declareChain(
  table: Table,
  line: string,
  lineNumber: number,
  report: (line: number, severity: Diagnostic['severity'], message: string) => void,
): void {
  // `:NAME POLICY [packets:bytes]`, read with indexOf: there are tens of thousands on a big node.
  const nameEnd = line.indexOf(' ', 1);
  const name = (nameEnd === -1 ? line.slice(1) : line.slice(1, nameEnd)).trim();
  if (!name) {
    report(lineNumber, 'error', 'chain declaration without a name');
    return;
  }
  const rest = nameEnd === -1 ? '' : line.slice(nameEnd + 1).trim();
  const policyEnd = rest.indexOf(' ');
  const policyText = rest === '' ? undefined : policyEnd === -1 ? rest : rest.slice(0, policyEnd);
  const counterText = policyEnd === -1 ? undefined : rest.slice(policyEnd + 1).trim();
  let policy: 'ACCEPT' | 'DROP' | undefined;
  if (policyText === 'ACCEPT' || policyText === 'DROP') policy = policyText;
  else if (policyText !== undefined && policyText !== '-') {
    report(lineNumber, 'warning', `unknown policy "${policyText}" for chain ${name}`);
  }
  let counters: { packets: number; bytes: number } | undefined;
  if (counterText && counterText !== '[0:0]') {
    const counterMatch = COUNTER_PATTERN.exec(counterText);
    if (counterMatch) counters = { packets: Number(counterMatch[1]), bytes: Number(counterMatch[2]) };
  } else if (counterText === '[0:0]') {
    counters = { packets: 0, bytes: 0 };
  }
  const existing = table.chains.get(name);
  if (existing) {
    if (existing.line !== lineNumber) report(lineNumber, 'warning', `chain ${name} is declared again in table ${table.name}`);
    return;
  }
  // kube-proxy's test fixtures write built-in chains as `:PREROUTING - [0:0]`; the kernel's policy is ACCEPT.
  const builtin = BUILTIN_CHAINS.has(name);
  const chain: MutableChain = {
    table: table.name,
    name,
    policy: builtin ? (policy ?? 'ACCEPT') : policy,
    builtin,
    line: lineNumber,
    counters,
    rules: [],
  };
  table.chains.set(name, chain);
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
