/**
 * Traces one packet through an nftables ruleset the way the kernel runs it: at each hook, the base chains
 * of every ip/inet table (ip6/inet for IPv6) in priority order; nat chains only for the first packet and
 * only until one of them has NATed it; routing after DNAT (local → INPUT, else FORWARD); POSTROUTING
 * masquerade. `numgen random mod N` splits the trace into equal shares. An expression the tracer cannot
 * evaluate never matches: it is reported, and the outcomes that passed it say so. Parsing lives in parseNft.
 */

import type { LocalRoutes } from '../routes/localRoutes';
import type { Hook, Packet, RuleRef, TraceOutcome, TraceResult, TraceStep, Verdict } from '../trace/result';
import { chainsByName, tableLabel, type NftChain, type NftExpr, type NftKey, type NftRule, type NftRuleset, type NftSelector, type NftSet, type NftTable, type NftVerdict } from './model';
import { addressMatches, formatFields, keyMatches, lookupElement, numberMatches, parseNumber, protocolNumber, type FieldValue } from './nftMatch';
import { explainNftName, parseServiceChainName } from './vocabulary';

export interface NftTraceInput {
  nft: NftRuleset;
  /** The node's local routing table; without it only 127.0.0.0/8 and ::1 count as local. */
  routes?: Pick<LocalRoutes, 'isLocal'>;
  /** Snapshot file the ruleset came from, for messages. */
  file?: string;
}

/** The kernel's limit on nested jumps; deeper nesting is reported and not followed. */
const MAX_JUMP_DEPTH = 16;
/** Branches beyond this many (numgen splits inside numgen splits) are not followed. */
const MAX_BRANCHES = 20000;
/** A branch whose path is this many steps long counts as one more branch against MAX_BRANCHES. */
const STEPS_PER_BRANCH = 100;

export const ASSUME_FIRST_PACKET = 'first packet of a new connection: ct state is new, and nat chains are consulted';
export const ASSUME_NO_AFFINITY = 'no session-affinity entry exists yet for this client (ip saddr @affinity-… does not match)';
export const ASSUME_NUMGEN = 'numgen random picks each of its N values with equal probability';
const ASSUME_IPV6_NOT_LOCAL = 'which IPv6 addresses are local is not collected (route-local.txt lists IPv4): IPv6 destinations are taken as not local';
const ASSUME_NO_ROUTES = 'route-local.txt was not collected: only loopback addresses are treated as local';

interface Flow {
  probability: number;
  src: string;
  dst: string;
  dport: number;
  mark: number;
  dnat: { ip: string; port: number } | null;
  /** Destination NAT has been decided for this connection (by a rule, or by passing all nat chains). */
  dnatDone: boolean;
  snatDone: boolean;
  masquerade: boolean;
  steps: TraceStep[];
  /** Rules this flow passed that the tracer could not evaluate. */
  unsure: string[];
  lastAccept: RuleRef | null;
}

type Effect =
  | { type: 'next'; flow: Flow }
  | { type: 'return'; flow: Flow }
  | { type: 'final'; flow: Flow; verdict: 'accept' | 'drop' | 'reject'; rule: RuleRef | null };

type ChainEnd = { flow: Flow; end: 'continue' } | { flow: Flow; end: 'accept' | 'drop' | 'reject'; rule: RuleRef | null };

interface Context {
  hook: Hook;
  table: NftTable;
  chainType: string;
  family: 'ipv4' | 'ipv6';
}

export function traceNft(input: NftTraceInput, packet: Packet, entry: 'PREROUTING' | 'OUTPUT'): TraceResult {
  return new NftTracer(input, packet).run(entry);
}

class NftTracer {
  readonly #warnings = new Set<string>();
  readonly #assumptions = new Set<string>([ASSUME_FIRST_PACKET]);
  readonly #family: 'ipv4' | 'ipv6';
  readonly #tables: NftTable[];
  readonly #chainIndex = new Map<NftTable, Map<string, NftChain>>();
  readonly #setIndex = new Map<NftTable, Map<string, NftSet>>();
  #branches = 1;
  /** The chains jumped into and not yet left, to tell a loop from deep nesting. */
  readonly #active: NftChain[] = [];
  /** `ns/name:port` of the first Service chain or no-endpoint entry the packet reached. */
  #service: string | null = null;

  constructor(
    readonly input: NftTraceInput,
    readonly packet: Packet,
  ) {
    this.#family = packet.dst.includes(':') ? 'ipv6' : 'ipv4';
    const families = this.#family === 'ipv4' ? ['ip', 'inet'] : ['ip6', 'inet'];
    this.#tables = input.nft.tables.filter((table) => families.includes(table.family) && !table.flags.includes('dormant'));
    for (const table of this.#tables) {
      this.#chainIndex.set(table, chainsByName(table));
      this.#setIndex.set(table, cached(setIndexes, table, () => new Map(table.sets.map((set) => [set.name, set]))));
    }
    if (!input.routes) this.#assumptions.add(ASSUME_NO_ROUTES);
    for (const table of input.nft.tables) {
      const warning = cached(deviceHookWarnings, table, () => deviceHookWarning(table));
      if (warning) this.#warnings.add(warning);
    }
  }

  run(entry: 'PREROUTING' | 'OUTPUT'): TraceResult {
    const start: Flow = {
      probability: 1,
      src: this.packet.src,
      dst: this.packet.dst,
      dport: this.packet.dport,
      mark: 0,
      dnat: null,
      dnatDone: false,
      snatDone: false,
      masquerade: false,
      steps: [],
      unsure: [],
      lastAccept: null,
    };
    const outcomes: TraceOutcome[] = [];
    let flows = [start];
    if (entry === 'PREROUTING') {
      flows = this.#hook('PREROUTING', flows, outcomes);
      const local = flows.filter((flow) => this.#isLocal(flow.dst) === true);
      const forwarded = flows.filter((flow) => this.#isLocal(flow.dst) !== true);
      this.#deliver(this.#hook('INPUT', local, outcomes), 'local', outcomes);
      const out = this.#hook('FORWARD', forwarded, outcomes);
      this.#deliver(this.#hook('POSTROUTING', out, outcomes), 'forward', outcomes);
    } else {
      flows = this.#hook('OUTPUT', flows, outcomes);
      flows = this.#hook('POSTROUTING', flows, outcomes);
      const local = flows.filter((flow) => this.#isLocal(flow.dst) === true);
      const away = flows.filter((flow) => this.#isLocal(flow.dst) !== true);
      // Local-to-local traffic leaves through loopback and comes back in through INPUT.
      this.#deliver(this.#hook('INPUT', local, outcomes), 'local', outcomes);
      this.#deliver(away, 'forward', outcomes);
    }
    return {
      mode: 'nftables',
      packet: { ...this.packet },
      hook: entry,
      service: this.#service,
      outcomes: mergeOutcomes(outcomes),
      assumptions: [...this.#assumptions],
      warnings: [...this.#warnings],
    };
  }

  #isLocal(ip: string): boolean | undefined {
    if (ip.includes(':')) {
      // `ip route show table local` lists IPv4 only, so IPv6 locality cannot be read from the snapshot.
      if (addressMatches(ip, '::1') === true) return true;
      this.#assumptions.add(ASSUME_IPV6_NOT_LOCAL);
      return undefined;
    }
    if (this.input.routes) return this.input.routes.isLocal(ip);
    return addressMatches(ip, '127.0.0.0/8') === true;
  }

  #deliver(flows: Flow[], delivery: 'local' | 'forward', outcomes: TraceOutcome[]): void {
    for (const flow of flows) {
      outcomes.push(this.#outcome(flow, 'ACCEPT', flow.lastAccept, delivery));
    }
  }

  #outcome(flow: Flow, verdict: Verdict, decidedBy: RuleRef | null, delivery: 'local' | 'forward'): TraceOutcome {
    if (flow.unsure.length > 0) {
      this.#warnings.add(
        `${flow.unsure.length === 1 ? 'one rule' : `${flow.unsure.length} rules`} on the way to the outcome ${verdict}${flow.dnat ? ` → ${flow.dnat.ip}:${flow.dnat.port}` : ''} could not be evaluated and ${flow.unsure.length === 1 ? 'was' : 'were'} assumed not to match (${flow.unsure.join('; ')}); this outcome depends on ${flow.unsure.length === 1 ? 'it' : 'them'}`,
      );
    }
    return {
      probability: flow.probability,
      verdict,
      delivery,
      dnat: flow.dnat,
      masquerade: flow.masquerade,
      decidedBy,
      steps: flow.steps,
    };
  }

  /** Runs every base chain registered at the hook, in priority order; returns the flows that go on. */
  #hook(hook: Hook, flows: Flow[], outcomes: TraceOutcome[]): Flow[] {
    if (flows.length === 0) return flows;
    const chains = this.#baseChains(hook);
    const destinationNat = hook === 'PREROUTING' || hook === 'OUTPUT';
    let current = flows;
    for (const { table, chain } of chains) {
      const base = chain.base!;
      const next: Flow[] = [];
      for (const flow of current) {
        if (base.type === 'nat' && (destinationNat ? flow.dnatDone : flow.snatDone)) {
          next.push(flow);
          continue;
        }
        const context: Context = { hook, table, chainType: base.type, family: this.#family };
        for (const result of this.#chain(context, chain, flow, 0)) {
          const ended = result.flow;
          if (result.end === 'continue') {
            if (base.policy === 'drop') {
              const step = this.#step(context, chain, undefined, `Chain ${chain.name} ends with policy drop: the packet is dropped.`);
              outcomes.push(this.#outcome(withStep(ended, step), 'DROP', null, this.#deliveryAt(hook, ended)));
            } else {
              next.push({ ...ended, lastAccept: null });
            }
          } else if (result.end === 'accept') {
            next.push({ ...ended, lastAccept: result.rule });
          } else {
            outcomes.push(this.#outcome(ended, result.end === 'drop' ? 'DROP' : 'REJECT', result.rule, this.#deliveryAt(hook, ended)));
          }
        }
      }
      current = next;
    }
    if (destinationNat) current = current.map((flow) => (flow.dnatDone ? flow : { ...flow, dnatDone: true }));
    else if (hook === 'POSTROUTING' || hook === 'INPUT') current = current.map((flow) => (flow.snatDone ? flow : { ...flow, snatDone: true }));
    return current;
  }

  /** The base chains at a hook in the order the kernel runs them: by priority, then by table order. */
  #baseChains(hook: Hook): { table: NftTable; chain: NftChain }[] {
    const hookName = hook.toLowerCase();
    const perTable = this.#tables.map((table) =>
      cached(baseChainLists, table, () => table.chains.filter((chain) => chain.base !== undefined)).filter((chain) => chain.base!.hook === hookName),
    );
    const chains = perTable.flatMap((list, tableIndex) => list.map((chain, order) => ({ table: this.#tables[tableIndex], chain, order: tableIndex * 1e6 + order })));
    chains.sort((a, b) => a.chain.base!.priority - b.chain.base!.priority || a.order - b.order);
    return chains;
  }

  #deliveryAt(hook: Hook, flow: Flow): 'local' | 'forward' {
    if (hook === 'INPUT') return 'local';
    if (hook === 'FORWARD') return 'forward';
    return this.#isLocal(flow.dst) === true ? 'local' : 'forward';
  }

  /** Runs a chain for one flow; a flow may split (numgen), so several ends can come back. */
  #chain(context: Context, chain: NftChain, flow: Flow, depth: number): ChainEnd[] {
    const ends: ChainEnd[] = [];
    // Branches are taken in the order the rule lists them, so outcomes come out in the ruleset's order.
    const queue: { flow: Flow; index: number }[] = [{ flow, index: 0 }];
    for (let head = 0; head < queue.length; head++) {
      const item = queue[head];
      let current = item.flow;
      let index = item.index;
      let finished = false;
      while (index < chain.rules.length) {
        const effects = this.#rule(context, chain, chain.rules[index], current, depth);
        if (effects.length === 1 && effects[0].type === 'next') {
          current = effects[0].flow;
          index++;
          continue;
        }
        for (const effect of effects) {
          if (effect.type === 'next') queue.push({ flow: effect.flow, index: index + 1 });
          else if (effect.type === 'return') ends.push({ flow: effect.flow, end: 'continue' });
          else ends.push({ flow: effect.flow, end: effect.verdict, rule: effect.rule });
        }
        finished = true;
        break;
      }
      if (!finished) ends.push({ flow: current, end: 'continue' });
    }
    return ends;
  }

  /** `nft.txt line 12 (ip kube-proxy chain services)`, for warnings. */
  #where(context: Context, chain: NftChain, rule: NftRule): string {
    return `${this.input.file ?? 'nft.txt'} line ${rule.line} (${tableLabel(context.table)} chain ${chain.name})`;
  }

  /** A rule the tracer cannot evaluate: reported, shown as a step, and treated as not matching. */
  #unsure(context: Context, chain: NftChain, rule: NftRule, flow: Flow, why: string): Effect[] {
    this.#warnings.add(`${this.#where(context, chain, rule)}: ${why}; assumed not to match`);
    const step = this.#step(context, chain, rule, `Not understood (${why}): assumed not to match; the outcomes after this rule depend on that.`);
    return [{ type: 'next', flow: { ...withStep(flow, step), unsure: [...flow.unsure, `line ${rule.line}`] } }];
  }

  #ref(context: Context, chain: NftChain, rule: NftRule): RuleRef {
    return { table: tableLabel(context.table), chain: chain.name, line: rule.line, rule: rule.text };
  }

  #step(context: Context, chain: NftChain, rule: NftRule | undefined, explanation: string): TraceStep {
    return {
      hook: context.hook,
      table: tableLabel(context.table),
      chain: chain.name,
      line: rule ? rule.line : chain.line,
      rule: rule ? rule.text : `chain ${chain.name} (policy ${chain.base?.policy ?? 'accept'})`,
      explanation,
    };
  }

  /** Evaluates one rule for one flow: its matches in order, then its statements and verdict. */
  #rule(context: Context, chain: NftChain, rule: NftRule, flow: Flow, depth: number): Effect[] {
    let current = flow;
    const conditions: string[] = [];
    const notes: string[] = [];
    const unsure = (why: string): Effect[] => this.#unsure(context, chain, rule, current, why);
    for (let i = 0; i < rule.exprs.length; i++) {
      const expr = rule.exprs[i];
      switch (expr.kind) {
        case 'match': {
          const result = this.#match(context, expr, current);
          if (result === undefined) return unsure(`cannot evaluate "${describeMatch(expr)}"`);
          if (!result) return [{ type: 'next', flow: current }];
          if (!isRoutineMatch(expr)) conditions.push(this.#describeCondition(context, expr, current));
          break;
        }
        case 'vmap':
          return this.#vmap(context, chain, rule, expr, current, depth, withConditions(conditions, notes));
        case 'verdict':
          return this.#verdict(context, chain, rule, expr.verdict, current, depth, withConditions(conditions, notes));
        case 'nat': {
          if (context.chainType !== 'nat') return unsure(`${expr.type} outside a nat chain`);
          const nat = this.#nat(expr, current);
          if (!nat) return unsure(`${expr.type} without a target address`);
          current = nat.flow;
          notes.push(nat.note);
          const step = this.#step(context, chain, rule, sentence(withConditions(conditions, notes), rule));
          return [{ type: 'final', flow: withStep(current, step), verdict: 'accept', rule: this.#ref(context, chain, rule) }];
        }
        case 'reject': {
          notes.push(`Rejects the packet${expr.with ? ` with ${expr.with}` : ' (TCP reset or ICMP port unreachable)'}.`);
          const step = this.#step(context, chain, rule, sentence(withConditions(conditions, notes), rule));
          return [{ type: 'final', flow: withStep(current, step), verdict: 'reject', rule: this.#ref(context, chain, rule) }];
        }
        case 'markSet': {
          if (expr.target !== 'meta mark') return unsure(`${expr.target} set`);
          const value = parseNumber(expr.value);
          if (value === undefined) return unsure(`mark value ${expr.value}`);
          const mark = applyMarkOp(current.mark, expr.op, value);
          current = { ...current, mark };
          notes.push(markNote(expr.op, value, mark));
          break;
        }
        case 'setUpdate':
          notes.push(
            expr.set.startsWith('affinity-')
              ? `Records the client address in affinity set ${expr.set}, so its next connections stick to this endpoint.`
              : `${expr.op === 'delete' ? 'Removes' : 'Adds'} the packet's key ${expr.op === 'delete' ? 'from' : 'to'} set ${expr.set}.`,
          );
          break;
        case 'counter':
        case 'comment':
        case 'statement':
          break;
        case 'unknown':
          return unsure(`"${expr.text}"`);
      }
    }
    // Matched, with no verdict: the chain goes on with the next rule.
    if (notes.length > 0) return [{ type: 'next', flow: withStep(current, this.#step(context, chain, rule, sentence(withConditions(conditions, notes), rule))) }];
    return [{ type: 'next', flow: current }];
  }

  #verdict(context: Context, chain: NftChain, rule: NftRule, verdict: NftVerdict, flow: Flow, depth: number, notes: string[]): Effect[] {
    const ref = this.#ref(context, chain, rule);
    switch (verdict.kind) {
      case 'accept':
        return [{ type: 'final', flow: withStep(flow, this.#step(context, chain, rule, sentence([...notes, 'Accepts the packet in this base chain; later base chains still see it.'], rule))), verdict: 'accept', rule: ref }];
      case 'drop':
        return [{ type: 'final', flow: withStep(flow, this.#step(context, chain, rule, sentence([...notes, 'Drops the packet.'], rule))), verdict: 'drop', rule: ref }];
      case 'continue':
        return [{ type: 'next', flow: notes.length > 0 ? withStep(flow, this.#step(context, chain, rule, sentence(notes, rule))) : flow }];
      case 'return':
        return [{ type: 'return', flow: withStep(flow, this.#step(context, chain, rule, sentence([...notes, `Returns from ${chain.name}.`], rule))) }];
      case 'queue':
        this.#warnings.add(`${this.#where(context, chain, rule)}: the packet is queued to user space, whose verdict is unknown; assumed accepted`);
        return [{ type: 'final', flow: withStep(flow, this.#step(context, chain, rule, sentence([...notes, 'Queues the packet to a user-space program; its verdict is unknown (assumed accept).'], rule))), verdict: 'accept', rule: ref }];
      case 'jump':
      case 'goto': {
        const target = this.#chainIndex.get(context.table)!.get(verdict.target ?? '');
        if (!target) {
          this.#warnings.add(`${this.#where(context, chain, rule)}: ${verdict.kind} to chain ${verdict.target}, which is not in the table`);
          return [{ type: 'next', flow }];
        }
        if (target === chain || this.#active.includes(target)) {
          this.#warnings.add(`${this.#where(context, chain, rule)}: ${verdict.kind} to ${target.name} would loop (nft refuses such rulesets); not followed`);
          return [{ type: 'next', flow }];
        }
        if (depth >= MAX_JUMP_DEPTH) {
          this.#warnings.add(`${this.#where(context, chain, rule)}: jumps nest deeper than ${MAX_JUMP_DEPTH}; not followed`);
          return [{ type: 'next', flow }];
        }
        this.#noteService(target.name);
        const about = explainNftName(target.name);
        const text = `${verdict.kind === 'jump' ? 'Jumps' : 'Goes'} to ${target.name}${about ? `: ${lowerFirst(about)}` : '.'}`;
        const entered = withStep(flow, this.#step(context, chain, rule, sentence([...notes, text], rule)));
        const effects: Effect[] = [];
        this.#active.push(chain);
        try {
          for (const end of this.#chain(context, target, entered, depth + 1)) {
            if (end.end === 'continue') effects.push({ type: verdict.kind === 'jump' ? 'next' : 'return', flow: end.flow });
            else effects.push({ type: 'final', flow: end.flow, verdict: end.end, rule: end.rule });
          }
        } finally {
          this.#active.pop();
        }
        return effects;
      }
    }
  }

  /** A verdict-map lookup: `… vmap @name` or `numgen random mod N vmap { … }`. */
  #vmap(context: Context, chain: NftChain, rule: NftRule, expr: Extract<NftExpr, { kind: 'vmap' }>, flow: Flow, depth: number, notes: string[]): Effect[] {
    const unsure = (why: string): Effect[] => this.#unsure(context, chain, rule, flow, why);
    const numgen = expr.left.length === 1 ? expr.left[0].numgen : undefined;
    if (numgen) {
      if (expr.map.kind !== 'inline') return unsure('numgen with a named map');
      if (numgen.mode === 'inc') this.#warnings.add(`${this.#where(context, chain, rule)}: numgen inc is round-robin; treated as equal shares`);
      this.#assumptions.add(ASSUME_NUMGEN);
      const counted = countNumgenValues(numgen, expr.map.entries);
      if (!counted) return unsure(`numgen random mod ${numgen.mod} with map keys the tracer cannot count`);
      const { groups, missing } = counted;
      // Each new branch copies the path so far, so a long path costs more of the budget than a short one.
      const cost = groups.size * (1 + Math.floor(flow.steps.length / STEPS_PER_BRANCH));
      if (this.#branches + cost > MAX_BRANCHES) {
        this.#warnings.add(`more than ${MAX_BRANCHES} branches; the split at ${this.#where(context, chain, rule)} is not followed`);
        return unsure('too many branches');
      }
      this.#branches += cost;
      const effects: Effect[] = [];
      for (const [index, count] of groups) {
        const entry = expr.map.entries[index];
        const share = count / numgen.mod;
        const branch = { ...flow, probability: flow.probability * share };
        const pick = `Picks ${entry.key[0]} of numgen random mod ${numgen.mod} (share ${formatShare(count, numgen.mod)}).`;
        effects.push(...this.#verdict(context, chain, rule, entry.verdict, branch, depth, [...notes, pick]));
      }
      if (missing > 0) effects.push({ type: 'next', flow: { ...flow, probability: (flow.probability * missing) / numgen.mod } });
      return effects;
    }
    const fields = this.#fields(context, expr.left, flow);
    if (!fields) return unsure(`cannot read ${expr.left.map((selector) => selector.name).join(' . ')}`);
    const protocolComponents = expr.left.map((selector) => isProtocolSelector(selector.name));
    const shown = formatFields(fields, protocolComponents);
    let entries: { key: NftKey; verdict?: NftVerdict; comment?: string }[];
    let owner: object;
    let mapName = 'an anonymous map';
    if (expr.map.kind === 'ref') {
      const set = this.#setIndex.get(context.table)!.get(expr.map.name);
      if (!set) return unsure(`map ${expr.map.name} is not in the table`);
      entries = set.elements;
      owner = set;
      mapName = `map ${set.name}`;
    } else {
      entries = expr.map.entries;
      owner = expr.map;
    }
    const { element: entry, unreadable } = lookupElement(owner, entries, fields, protocolComponents);
    if (entry?.verdict) {
      if (entry.comment && expr.map.kind === 'ref' && expr.map.name.startsWith('no-endpoint')) this.#service ??= entry.comment;
      const verdictText = entry.verdict.target ? `${entry.verdict.kind} ${entry.verdict.target}` : entry.verdict.kind;
      const found = `Looks up ${shown} in ${mapName} and finds it: ${verdictText}${entry.comment ? ` (${entry.comment})` : ''}.`;
      const about = expr.map.kind === 'ref' && entry.verdict.kind !== 'jump' && entry.verdict.kind !== 'goto' ? explainNftName(expr.map.name) : undefined;
      return this.#verdict(context, chain, rule, entry.verdict, flow, depth, [...notes, found, ...(about ? [about] : [])]);
    }
    if (unreadable) return unsure(`some elements of ${mapName} could not be compared with ${shown}`);
    return [{ type: 'next', flow }];
  }

  /** `ip saddr != 10.244.0.0/16 (it is 172.18.0.2)`: the condition, and the packet's value where it adds something. */
  #describeCondition(context: Context, expr: Extract<NftExpr, { kind: 'match' }>, flow: Flow): string {
    const condition = describeMatch(expr);
    const fields = this.#fields(context, expr.left, flow);
    if (!fields) return condition;
    let shown = formatFields(fields, expr.left.map((selector) => isProtocolSelector(selector.name)));
    if (expr.left.length === 1 && expr.left[0].name === 'meta mark') shown = `0x${Number(shown).toString(16)}`;
    const literal = expr.op === '==' && expr.right.kind === 'values' && expr.right.keys.length === 1 && expr.right.keys[0].join(' . ') === shown;
    return literal ? condition : `${condition} (it is ${shown})`;
  }

  /** The packet's value for each selector, or undefined when one of them cannot be read. */
  #fields(context: Context, selectors: NftSelector[], flow: Flow): FieldValue[] | undefined {
    const fields: FieldValue[] = [];
    for (const selector of selectors) {
      const field = this.#field(context, selector, flow);
      if (field === undefined || field === null) return undefined;
      fields.push(field);
    }
    return fields;
  }

  /** One selector's value; null when the packet does not have the field (a `tcp dport` on UDP). */
  #field(context: Context, selector: NftSelector, flow: Flow): FieldValue | null | undefined {
    const proto = this.packet.proto;
    const value = ((): FieldValue | null | undefined => {
      switch (selector.name) {
        case 'ip saddr':
          return context.family === 'ipv4' ? { type: 'address', value: flow.src } : null;
        case 'ip daddr':
          return context.family === 'ipv4' ? { type: 'address', value: flow.dst } : null;
        case 'ip6 saddr':
          return context.family === 'ipv6' ? { type: 'address', value: flow.src } : null;
        case 'ip6 daddr':
          return context.family === 'ipv6' ? { type: 'address', value: flow.dst } : null;
        case 'meta l4proto':
        case 'ip protocol':
        case 'ip6 nexthdr':
          return { type: 'number', value: protocolNumber(proto)! };
        case 'th dport':
          return { type: 'number', value: flow.dport };
        case 'th sport':
          return { type: 'number', value: this.packet.sport };
        case 'tcp dport':
        case 'udp dport':
        case 'sctp dport':
          return selector.name.startsWith(proto) ? { type: 'number', value: flow.dport } : null;
        case 'tcp sport':
        case 'udp sport':
        case 'sctp sport':
          return selector.name.startsWith(proto) ? { type: 'number', value: this.packet.sport } : null;
        case 'ct state':
          return { type: 'word', value: 'new' };
        case 'ct direction':
          return { type: 'word', value: 'original' };
        case 'ct status': {
          // The first packet's conntrack entry: not confirmed, no reply seen; NAT bits once NAT is set up.
          const bits: string[] = [];
          if (flow.dnat) bits.push('dnat');
          if (flow.masquerade) bits.push('snat');
          return { type: 'flags', value: bits };
        }
        case 'meta nfproto':
          return { type: 'word', value: context.family };
        case 'meta mark':
          return { type: 'number', value: flow.mark };
        case 'fib daddr type':
        case 'fib saddr type': {
          const local = this.#isLocal(selector.name === 'fib daddr type' ? flow.dst : flow.src);
          if (local === undefined) return undefined;
          if (local) return { type: 'word', value: 'local' };
          return this.input.routes ? { type: 'word', value: 'unicast' } : undefined;
        }
        default:
          return undefined;
      }
    })();
    if (!value || !selector.mask) return value;
    if (value.type !== 'number') return undefined;
    const mask = parseNumber(selector.mask.value);
    if (mask === undefined) return undefined;
    return { type: 'number', value: applyMarkOp(value.value, selector.mask.op, mask) };
  }

  /** true, false, or undefined when the tracer cannot tell. */
  #match(context: Context, expr: Extract<NftExpr, { kind: 'match' }>, flow: Flow): boolean | undefined {
    const fields: FieldValue[] = [];
    for (const selector of expr.left) {
      const field = this.#field(context, selector, flow);
      // A header the packet does not have never matches, whatever the operator.
      if (field === null) return false;
      if (field === undefined) return undefined;
      fields.push(field);
    }
    const protocolComponents = expr.left.map((selector) => isProtocolSelector(selector.name));
    if (expr.right.kind === 'ref') {
      const set = this.#setIndex.get(context.table)!.get(expr.right.name);
      if (!set) return undefined;
      if (isAffinitySet(set)) {
        this.#assumptions.add(ASSUME_NO_AFFINITY);
        const held = set.elements.some((element) => keyMatches(fields, element.key, protocolComponents) === true);
        if (held) this.#warnings.add(`affinity set ${set.name} already holds ${flow.src}: an existing entry would send this client to that endpoint`);
        return expr.op === '!=';
      }
      const { element, unreadable } = lookupElement(set, set.elements, fields, protocolComponents);
      if (element) return expr.op !== '!=';
      return unreadable ? undefined : expr.op === '!=';
    }
    if (expr.op !== '==' && expr.op !== '!=') {
      if (fields.length !== 1 || fields[0].type !== 'number' || expr.right.keys.length !== 1) return undefined;
      const bound = protocolComponents[0] ? protocolNumber(expr.right.keys[0][0]) : parseNumber(expr.right.keys[0][0]);
      if (bound === undefined) return undefined;
      const value = fields[0].value;
      return expr.op === '<' ? value < bound : expr.op === '>' ? value > bound : expr.op === '<=' ? value <= bound : value >= bound;
    }
    return this.#membership(expr.op, fields, expr.right.keys.map((key) => ({ key })), protocolComponents);
  }

  #membership(op: string, fields: FieldValue[], elements: { key: NftKey }[], protocolComponents: boolean[]): boolean | undefined {
    let unknown = false;
    for (const element of elements) {
      const result = keyMatches(fields, element.key, protocolComponents);
      if (result === true) return op !== '!=';
      if (result === undefined) unknown = true;
    }
    if (unknown) return undefined;
    return op === '!=';
  }

  #nat(expr: Extract<NftExpr, { kind: 'nat' }>, flow: Flow): { flow: Flow; note: string } | undefined {
    switch (expr.type) {
      case 'dnat': {
        if (expr.address === undefined) return undefined;
        const port = expr.port ?? flow.dport;
        return {
          flow: { ...flow, dst: expr.address, dport: port, dnat: { ip: expr.address, port }, dnatDone: true },
          note: `DNAT: the destination becomes ${expr.address}:${port}.`,
        };
      }
      case 'redirect': {
        const ip = this.#family === 'ipv4' ? '127.0.0.1' : '::1';
        const port = expr.port ?? flow.dport;
        return {
          flow: { ...flow, dst: ip, dport: port, dnat: { ip, port }, dnatDone: true },
          note: `Redirects the packet to this node, port ${port}.`,
        };
      }
      case 'masquerade':
        return {
          flow: { ...flow, masquerade: true, snatDone: true },
          note: `Masquerades${expr.flags.length ? ` (${expr.flags.join(', ')})` : ''}: the source becomes the node's address on the way out.`,
        };
      case 'snat':
        if (expr.address === undefined) return undefined;
        return { flow: { ...flow, snatDone: true }, note: `SNAT: the source becomes ${expr.address}${expr.port ? `:${expr.port}` : ''}.` };
    }
  }

  #noteService(chainName: string): void {
    if (this.#service !== null) return;
    const parsed = parseServiceChainName(chainName);
    if (parsed && parsed.kind !== 'affinity') this.#service = parsed.servicePortName;
  }
}

/** `ct state new` holds for every traced packet; saying so at each rule would only add noise. */
function isRoutineMatch(expr: Extract<NftExpr, { kind: 'match' }>): boolean {
  return expr.left.length === 1 && expr.left[0].name === 'ct state';
}

/** Indexes built once per parsed table and reused by every trace over it. */
const setIndexes = new WeakMap<NftTable, Map<string, NftSet>>();
const baseChainLists = new WeakMap<NftTable, NftChain[]>();
/** Per table: the warning about its ingress/egress chains, or '' when it has none. */
const deviceHookWarnings = new WeakMap<NftTable, string>();

/** Ingress and egress chains run at the network device, outside the hooks the tracer follows. */
function deviceHookWarning(table: NftTable): string {
  const device = table.chains.filter((chain) => chain.base?.hook === 'ingress' || chain.base?.hook === 'egress');
  if (device.length === 0) return '';
  return `${tableLabel(table)} has ${device.map((chain) => `${chain.base!.hook} chain ${chain.name}`).join(', ')}, which run at the network device and are not traced`;
}

function cached<K extends object, V>(store: WeakMap<K, V>, key: K, make: () => V): V {
  let value = store.get(key);
  if (value === undefined) {
    value = make();
    store.set(key, value);
  }
  return value;
}

function isAffinitySet(set: NftSet): boolean {
  return set.name.startsWith('affinity-') || (set.flags.includes('dynamic') && set.flags.includes('timeout'));
}

function isProtocolSelector(name: string): boolean {
  return name === 'meta l4proto' || name === 'ip protocol' || name === 'ip6 nexthdr';
}

function applyMarkOp(mark: number, op: '=' | '|' | '^' | '&', value: number): number {
  switch (op) {
    case '=':
      return value >>> 0;
    case '|':
      return (mark | value) >>> 0;
    case '^':
      return (mark ^ value) >>> 0;
    case '&':
      return (mark & value) >>> 0;
  }
}

function markNote(op: '=' | '|' | '^' | '&', value: number, mark: number): string {
  const hex = (n: number) => `0x${n.toString(16)}`;
  const verb = op === '|' ? `Sets bit(s) ${hex(value)} in the packet mark` : op === '^' ? `Flips bit(s) ${hex(value)} of the packet mark` : op === '&' ? `Masks the packet mark with ${hex(value)}` : `Sets the packet mark to ${hex(value)}`;
  const why = op === '|' && value & 0x4000 ? ': nat-postrouting will masquerade it' : '';
  return `${verb} (now ${hex(mark)})${why}.`;
}

/** The rule's conditions as one sentence ahead of what it does. */
function withConditions(conditions: string[], notes: string[]): string[] {
  if (conditions.length === 0) return notes;
  const list = conditions.length === 1 ? conditions[0] : `${conditions.slice(0, -1).join(', ')} and ${conditions[conditions.length - 1]}`;
  return [`Matches ${list}.`, ...notes];
}

function withStep(flow: Flow, step: TraceStep): Flow {
  return { ...flow, steps: [...flow.steps, step] };
}

function sentence(notes: string[], rule: NftRule): string {
  const text = notes.join(' ');
  return rule.comment ? `${text} Rule comment: "${rule.comment}".` : text;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function formatShare(count: number, total: number): string {
  return count === total ? 'all' : `${count}/${total}`;
}

function describeMatch(expr: Extract<NftExpr, { kind: 'match' }>): string {
  const left = expr.left.map((selector) => (selector.mask ? `${selector.name} ${selector.mask.op} ${selector.mask.value}` : selector.name)).join(' . ');
  const right = expr.right.kind === 'ref' ? `@${expr.right.name}` : expr.right.keys.map((key) => key.join(' . ')).join(', ');
  return `${left} ${expr.op === '==' ? '' : `${expr.op} `}${right}`;
}

/** Above this many values, numgen shares are counted from the map's keys instead of value by value. */
const NUMGEN_VALUE_WALK_LIMIT = 65_536;

/**
 * How many of numgen's values each map entry takes (by entry index), and how many no entry takes. Small moduli
 * are walked value by value; large ones are counted from single-number and range keys, which nft keeps disjoint.
 */
function countNumgenValues(
  numgen: { mod: number; offset: number },
  entries: { key: NftKey }[],
): { groups: Map<number, number>; missing: number } | undefined {
  const groups = new Map<number, number>();
  const first = numgen.offset;
  const last = numgen.offset + numgen.mod - 1;
  if (numgen.mod <= NUMGEN_VALUE_WALK_LIMIT) {
    let missing = 0;
    for (let value = first; value <= last; value++) {
      const index = entries.findIndex((entry) => entry.key.length === 1 && numberMatches(value, entry.key[0]) === true);
      if (index === -1) missing++;
      else groups.set(index, (groups.get(index) ?? 0) + 1);
    }
    return { groups, missing };
  }
  let taken = 0;
  for (const [index, entry] of entries.entries()) {
    const range = entry.key.length === 1 ? /^(\d+)(?:-(\d+))?$/.exec(entry.key[0]) : null;
    if (!range) return undefined;
    const low = Math.max(first, Number(range[1]));
    const high = Math.min(last, Number(range[2] ?? range[1]));
    if (high < low) continue;
    groups.set(index, high - low + 1);
    taken += high - low + 1;
  }
  return { groups, missing: numgen.mod - taken };
}

/** Outcomes with the same fate are one outcome; their shares add up. */
function mergeOutcomes(outcomes: TraceOutcome[]): TraceOutcome[] {
  const merged = new Map<string, TraceOutcome>();
  for (const outcome of outcomes) {
    if (outcome.probability <= 0) continue;
    const key = JSON.stringify([outcome.verdict, outcome.delivery, outcome.dnat, outcome.masquerade, outcome.decidedBy?.line ?? null, outcome.decidedBy?.chain ?? null]);
    const existing = merged.get(key);
    if (existing) existing.probability += outcome.probability;
    else merged.set(key, { ...outcome });
  }
  // Adding many small shares can overshoot 1 by a rounding error; a share is never above 1.
  const values = [...merged.values()];
  for (const outcome of values) outcome.probability = Math.min(1, outcome.probability);
  return values;
}

