/**
 * How parsed iptables rules are held: a chain keeps only where its rules stand in the dump (line, start and end
 * offsets, target) in one columnar store shared by the whole file, and creates its Rule objects the first time
 * its `rules` are read. A 200,000-rule node therefore costs a few numbers per rule until a chain is looked at;
 * passes over every rule (the chain graph, stale chains) read the stored targets and never build a Rule. The parser
 * also records which chain of the table each rule jumps to, so walking the chain graph needs no lookup by name.
 */

import type { Chain, Negatable, Rule, RuleMatch, RuleTarget, TableName } from './model';
import { parseRuleDetails, type RuleDetails } from './ruleDetails';
import { tokenizeRule } from './tokenize';

/** A rule whose details are parsed on first use. */
export class SavedRule implements Rule {
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

/** `array` with room for `size` entries; new entries hold `fill`. */
function grown(array: Int32Array, size: number, fill = 0): Int32Array {
  if (size <= array.length) return array;
  const next = new Int32Array(Math.max(size, array.length * 2));
  if (fill !== 0) next.fill(fill, array.length);
  next.set(array);
  return next;
}

/**
 * Every rule of one dump, by its index in file order: lines, offsets and target positions in typed arrays; only
 * rule texts that differ from the dump (trimmed or joined lines) are kept as strings.
 */
export class RuleStore {
  private lines: Int32Array = new Int32Array(1024);
  private starts: Int32Array = new Int32Array(1024);
  private ends: Int32Array = new Int32Array(1024);
  private targetOffsets: Int32Array = new Int32Array(1024);
  /** Where the target's name stands in the rule's text (-1 without a target), and its length. */
  private targetStarts: Int32Array = new Int32Array(1024);
  private targetLengths: Int32Array = new Int32Array(1024);
  /** The chain each rule jumps or goes to, by its place in `chains`; -1 for built-in and unknown targets. */
  private targetChains: Int32Array = new Int32Array(1024).fill(-1);
  /** Rule text that is not a plain slice of the dump: folded lines joined back, indented lines trimmed. */
  private readonly rewritten = new Map<number, string>();
  /** Every chain of the dump, each at its `ordinal`. */
  private readonly chains: StoredChain[] = [];
  size = 0;

  constructor(private readonly text: string) {}

  /**
   * Records a rule whose text is `text.slice(start, end)`, or `raw` when given; `targetOffset` (the `-j`, or -1) and
   * `targetStart`…`targetEnd` (the target's name, or -1) are indexes in that text. Returns the rule's index.
   */
  add(line: number, start: number, end: number, raw: string | undefined, targetOffset: number, targetStart: number, targetEnd: number): number {
    const index = this.size++;
    if (index >= this.lines.length) {
      this.lines = grown(this.lines, index + 1);
      this.starts = grown(this.starts, index + 1);
      this.ends = grown(this.ends, index + 1);
      this.targetOffsets = grown(this.targetOffsets, index + 1);
      this.targetStarts = grown(this.targetStarts, index + 1);
      this.targetLengths = grown(this.targetLengths, index + 1);
      this.targetChains = grown(this.targetChains, index + 1, -1);
    }
    this.lines[index] = line;
    this.starts[index] = start;
    this.ends[index] = end;
    this.targetOffsets[index] = targetOffset;
    this.targetStarts[index] = targetStart;
    this.targetLengths[index] = targetStart === -1 ? 0 : targetEnd - targetStart;
    if (raw !== undefined) this.rewritten.set(index, raw);
    return index;
  }

  /** Gives back the room the arrays grew into beyond the last rule, once the whole dump is read. */
  finish(): void {
    this.lines = this.lines.slice(0, this.size);
    this.starts = this.starts.slice(0, this.size);
    this.ends = this.ends.slice(0, this.size);
    this.targetOffsets = this.targetOffsets.slice(0, this.size);
    this.targetStarts = this.targetStarts.slice(0, this.size);
    this.targetLengths = this.targetLengths.slice(0, this.size);
    this.targetChains = this.targetChains.slice(0, this.size);
  }

  /** Gives a new chain its ordinal. */
  register(chain: StoredChain): number {
    this.chains.push(chain);
    return this.chains.length - 1;
  }

  /** Records that rule `index` jumps or goes to `chain`. */
  setTargetChain(index: number, chain: StoredChain): void {
    this.targetChains[index] = chain.ordinal;
  }

  /** The chain rule `index` jumps or goes to, when the parser found it in the rule's table. */
  targetChain(index: number): StoredChain | undefined {
    const ordinal = this.targetChains[index]!;
    return ordinal === -1 ? undefined : this.chains[ordinal];
  }

  /** Whether the target's name starts with one of the prefixes, read in place. */
  targetStartsWith(index: number, prefixes: readonly string[]): boolean {
    const start = this.targetStarts[index]!;
    if (start < 0) return false;
    const rewritten = this.rewritten.size === 0 ? undefined : this.rewritten.get(index);
    const source = rewritten ?? this.text;
    const from = rewritten === undefined ? this.starts[index]! + start : start;
    const length = this.targetLengths[index]!;
    for (const prefix of prefixes) if (prefix.length <= length && source.startsWith(prefix, from)) return true;
    return false;
  }

  /** The 1-based line rule `index` stands on. */
  line(index: number): number {
    return this.lines[index]!;
  }

  /** The target's name, cut from the dump (the stored rules keep no strings of their own). */
  target(index: number): string | undefined {
    const start = this.targetStarts[index]!;
    if (start < 0) return undefined;
    const rewritten = this.rewritten.size === 0 ? undefined : this.rewritten.get(index);
    const from = rewritten === undefined ? this.starts[index]! + start : start;
    return (rewritten ?? this.text).slice(from, from + this.targetLengths[index]!);
  }

  rule(index: number, table: TableName, chain: string, position: number): SavedRule {
    const raw = (this.rewritten.size === 0 ? undefined : this.rewritten.get(index)) ?? this.text.slice(this.starts[index], this.ends[index]);
    return new SavedRule(table, chain, this.lines[index]!, position, raw, this.target(index), this.targetOffsets[index]!);
  }
}

/** A chain whose Rule objects are created when its rules are first read. */
export class StoredChain implements Chain {
  #rules: Rule[] | undefined;
  /** Set by the parser when a rule of the table jumps or goes to this chain. */
  jumpedTo = false;
  // The chain's rules are stored rules first … first + count - 1 (iptables-save lists a chain's rules together),
  // or the indexes in `scattered` once a rule arrives out of that run.
  private first = 0;
  private count = 0;
  private scattered: number[] | undefined;
  /** The chain's place among all chains of its dump, for the store's record of where rules jump. */
  readonly ordinal: number;

  constructor(
    private readonly store: RuleStore,
    readonly table: TableName,
    readonly name: string,
    readonly builtin: boolean,
    readonly policy: 'ACCEPT' | 'DROP' | undefined,
    readonly line: number,
    readonly counters: { packets: number; bytes: number } | undefined,
    /** Position among the table's declared chains, or -1 for a chain used before it was declared. */
    readonly declarationIndex: number,
  ) {
    this.ordinal = store.register(this);
  }

  /** Appends the stored rule `index` (rules arrive in file order). */
  append(index: number): void {
    if (this.scattered) this.scattered.push(index);
    else if (this.count === 0) {
      this.first = index;
      this.count = 1;
    } else if (this.first + this.count === index) this.count++;
    else this.scattered = [...Array.from({ length: this.count }, (_, i) => this.first + i), index];
  }

  get ruleCount(): number {
    return this.scattered ? this.scattered.length : this.count;
  }

  /** The line of the chain's last rule (rules are stored in file order), or undefined without rules. */
  get lastRuleLine(): number | undefined {
    const count = this.ruleCount;
    return count === 0 ? undefined : this.store.line(this.indexAt(count - 1));
  }

  private indexAt(position: number): number {
    return this.scattered ? this.scattered[position]! : this.first + position;
  }

  get rules(): Rule[] {
    this.#rules ??= this.readRules();
    return this.#rules;
  }

  /** The chain's rules as new objects that the chain does not keep (its cached ones, once they exist). */
  readRules(): Rule[] {
    if (this.#rules) return this.#rules;
    const rules: Rule[] = new Array(this.ruleCount);
    for (let i = 0; i < rules.length; i++) rules[i] = this.store.rule(this.indexAt(i), this.table, this.name, i + 1);
    return rules;
  }

  /**
   * Visits, in order, each rule's target that is a chain of the table, as the parser resolved it. A target the
   * parser found no chain for (a built-in target, an extension, a chain never declared) is given to `unresolved` by
   * name when it starts with one of `prefixes`.
   */
  eachTargetChain(visit: (chain: StoredChain) => void, prefixes: readonly string[], unresolved: (name: string) => void): void {
    const count = this.ruleCount;
    for (let i = 0; i < count; i++) {
      const index = this.indexAt(i);
      const chain = this.store.targetChain(index);
      if (chain) visit(chain);
      else if (this.store.targetStartsWith(index, prefixes)) unresolved(this.store.target(index)!);
    }
  }

  /** Visits the target of each rule in order, read from the store: no Rule is created. */
  eachTarget(visit: (target: string | undefined) => void): void {
    const count = this.ruleCount;
    for (let i = 0; i < count; i++) visit(this.store.target(this.indexAt(i)));
  }
}
