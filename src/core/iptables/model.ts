/**
 * The parsed form of `iptables-save` output. Every rule keeps its raw text and 1-based line beside its
 * typed fields; negation is explicit. Parsing lives in parseIptablesSave.ts; this file holds types only.
 */

export type TableName = 'raw' | 'mangle' | 'nat' | 'filter' | 'security' | (string & {});

export interface Negatable<T> {
  readonly negated: boolean;
  readonly value: T;
}

/** One `--name arg…` option of a match module or target, in the order written. */
export interface RuleOption {
  /** Without the leading dashes: `dport`, `match-set`, `to-destination`. */
  readonly name: string;
  readonly negated: boolean;
  readonly args: string[];
}

/** A `-m module` block (or the implicit protocol module of `-p tcp --dport 80`). */
export interface RuleMatch {
  readonly module: string;
  readonly options: RuleOption[];
}

export interface RuleTarget {
  /** ACCEPT, DROP, DNAT, a user chain name, … */
  readonly name: string;
  /** `-j` jumps (and returns); `-g` goes to the chain without a return point. */
  readonly kind: 'jump' | 'goto';
  readonly options: RuleOption[];
}

export interface Rule {
  readonly table: TableName;
  readonly chain: string;
  /** 1-based line in the file. */
  readonly line: number;
  /** Position in its chain, 1-based, as `iptables -L --line-numbers` counts. */
  readonly position: number;
  /** The line as written (after quote repair), without the trailing newline. */
  readonly raw: string;
  readonly source?: Negatable<string>;
  readonly destination?: Negatable<string>;
  readonly protocol?: Negatable<string>;
  readonly inInterface?: Negatable<string>;
  readonly outInterface?: Negatable<string>;
  readonly fragment?: Negatable<true>;
  readonly matches: RuleMatch[];
  readonly target?: RuleTarget;
  /** The `-m comment --comment` text, unquoted, when present. */
  readonly comment?: string;
  /** `-c packets bytes` or `[p:b]` counters when present. */
  readonly counters?: { packets: number; bytes: number };
}

export interface Chain {
  readonly table: TableName;
  readonly name: string;
  /** ACCEPT/DROP for built-in chains; undefined for user chains (`-` in the file). */
  readonly policy?: 'ACCEPT' | 'DROP';
  readonly builtin: boolean;
  /** Line of the `:NAME POLICY [p:b]` declaration, or of the first rule when undeclared. */
  readonly line: number;
  readonly counters?: { packets: number; bytes: number };
  readonly rules: Rule[];
}

export interface Table {
  readonly name: TableName;
  /** Line of the `*table` header. */
  readonly line: number;
  readonly chains: Map<string, Chain>;
}

export interface Ruleset {
  /** The snapshot file the rules came from, e.g. `iptables-save.txt`. */
  readonly file: string;
  readonly tables: Map<string, Table>;
  /** Header lines such as `# Warning: iptables-legacy tables present, use iptables-legacy-save to see them`. */
  readonly notices: { line: number; text: string }[];
}
