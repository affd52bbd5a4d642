/**
 * The parsed form of `nft list ruleset`: tables of every family, their chains (base chains with hook,
 * type, priority and policy), named sets and maps with their elements, and rules as expression lists.
 * Every object keeps its 1-based line in the snapshot file; rules also keep their raw text. A chain from the
 * text parser reads its rules when `rules` is first read (an own, enumerable accessor). What the expressions
 * mean for a packet lives in the tracer, not here.
 */

/** A key or element value as nft prints it: `10.0.0.1`, `10.0.0.0/8`, `1.2.3.4-1.2.3.9`, `tcp`, `80`. */
export type NftKey = string[];

export interface NftRuleset {
  tables: NftTable[];
}

export interface NftTable {
  /** `ip`, `ip6`, `inet`, `arp`, `bridge` or `netdev`. */
  family: string;
  name: string;
  line: number;
  endLine: number;
  comment?: string;
  flags: string[];
  chains: NftChain[];
  /** Named sets and maps (`kind` tells them apart). */
  sets: NftSet[];
  /** Other objects (flowtables, counters, quotas, ct helpers …), kept by name only. */
  objects: { kind: string; name: string; line: number }[];
}

export interface NftBaseChainInfo {
  /** `filter`, `nat` or `route`. */
  type: string;
  /** `prerouting`, `input`, `forward`, `output`, `postrouting`, `ingress`, `egress`. */
  hook: string;
  /** The priority as a number, with standard names (`dstnat - 10`) resolved for the table's family. */
  priority: number;
  /** The priority as printed, e.g. `dstnat - 10` or `-110`. */
  priorityText: string;
  /** `accept` unless the chain says otherwise. */
  policy: 'accept' | 'drop';
  device?: string;
}

export interface NftChain {
  name: string;
  line: number;
  endLine: number;
  comment?: string;
  /** Present for base chains: those attached to a netfilter hook. */
  base?: NftBaseChainInfo;
  rules: NftRule[];
}

export interface NftSetElement {
  /** One entry per component of a concatenated key (`10.0.0.1 . tcp . 80` has three). */
  key: NftKey;
  /** For maps: the element's value, a verdict or data. */
  verdict?: NftVerdict;
  data?: NftKey;
  comment?: string;
  timeout?: string;
  expires?: string;
  line: number;
}

export interface NftSet {
  kind: 'set' | 'map';
  name: string;
  line: number;
  /** Key type components: `ipv4_addr . inet_proto . inet_service` gives three. Empty when unknown. */
  keyType: string[];
  /** For maps: `verdict`, `ipv4_addr`, `ipv4_addr . inet_service`, … */
  dataType?: string;
  /** The `typeof …` text when the set was declared by expression instead of type. */
  typeofText?: string;
  flags: string[];
  timeout?: string;
  size?: number;
  comment?: string;
  elements: NftSetElement[];
}

export type NftVerdictKind = 'accept' | 'drop' | 'continue' | 'return' | 'jump' | 'goto' | 'queue';

export interface NftVerdict {
  kind: NftVerdictKind;
  /** Target chain of `jump`/`goto`. */
  target?: string;
}

/**
 * One packet field or computed value that a match or lookup reads: `ip daddr`, `meta l4proto`,
 * `th dport`, `fib daddr type`, `ct state`, `meta mark` (optionally masked: `meta mark & 0x4000`),
 * or `numgen random mod 3`.
 */
export interface NftSelector {
  /** Normalised name: `ip daddr`, `meta mark`, `tcp dport`, `fib saddr type`, `numgen`. */
  name: string;
  /** Bitwise mask applied before comparing (`meta mark & 0x4000`). */
  mask?: { op: '&' | '|' | '^'; value: string };
  numgen?: { mode: 'random' | 'inc'; mod: number; offset: number };
}

/** The right-hand side of a match: literal values (an anonymous set is several keys) or a named set. */
export type NftOperand = { kind: 'values'; keys: NftKey[] } | { kind: 'ref'; name: string };

export type NftExpr =
  | { kind: 'match'; left: NftSelector[]; op: '==' | '!=' | '<' | '>' | '<=' | '>='; right: NftOperand }
  | {
      kind: 'vmap';
      left: NftSelector[];
      map: { kind: 'ref'; name: string } | { kind: 'inline'; entries: { key: NftKey; verdict: NftVerdict }[] };
    }
  | { kind: 'verdict'; verdict: NftVerdict }
  | { kind: 'nat'; type: 'dnat' | 'snat' | 'masquerade' | 'redirect'; address?: string; port?: number; flags: string[] }
  | { kind: 'reject'; with?: string }
  | { kind: 'markSet'; target: 'meta mark' | 'ct mark'; op: '=' | '|' | '^' | '&'; value: string }
  | { kind: 'setUpdate'; op: 'update' | 'add' | 'delete'; set: string; key: NftSelector[] }
  | { kind: 'counter'; packets?: number; bytes?: number }
  | { kind: 'comment'; text: string }
  /** Statements that neither match nor decide (log, nftrace, notrack). */
  | { kind: 'statement'; text: string }
  /** Text the parser does not understand; the tracer never assumes it matches. */
  | { kind: 'unknown'; text: string };

export interface NftRule {
  line: number;
  /** The rule as printed, trimmed, without a trailing `# handle N`. */
  text: string;
  handle?: number;
  comment?: string;
  exprs: NftExpr[];
}

const chainMaps = new WeakMap<NftTable, Map<string, NftChain>>();

/**
 * The table's chains by name, one map per table shared by everyone who looks chains up (the parser fills it as it
 * declares them; for other tables it is built on the first call). Where a name appears twice, the later chain wins.
 * The table's chains must not change after the first call.
 */
export function chainsByName(table: NftTable): Map<string, NftChain> {
  let map = chainMaps.get(table);
  if (map === undefined) {
    map = new Map(table.chains.map((chain) => [chain.name, chain]));
    chainMaps.set(table, map);
  }
  return map;
}

/** The chain with this name in the table, if any. */
export function findChain(table: NftTable, name: string): NftChain | undefined {
  return table.chains.find((chain) => chain.name === name);
}

/** The set or map with this name in the table, if any. */
export function findSet(table: NftTable, name: string): NftSet | undefined {
  return table.sets.find((set) => set.name === name);
}

/** `ip kube-proxy`: the way steps and messages name a table. */
export function tableLabel(table: Pick<NftTable, 'family' | 'name'>): string {
  return `${table.family} ${table.name}`;
}
