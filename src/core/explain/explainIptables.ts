/**
 * Explains the word under the cursor in an iptables-save dump, in the context of the parsed Ruleset and the
 * Service tree: a kube-proxy chain names its Service and endpoints, a probability gives the endpoint's real
 * share, 0x4000 means masquerade. The editor's hover and the CLI use it; finding words is in tokenAt.ts.
 */

import type { Chain, Rule, Ruleset } from '../iptables/model';
import type { ServiceTree } from '../services/model';
import { forEachRuleTarget } from '../iptables/parseIptablesSave';
import { classifyChain } from '../iptables/vocabulary';
import { kubeIpsetTerm } from '../ipvs/vocabulary';
import { CTSTATES, HOOKS, IPVS_MODE_CHAINS, MODULES, TABLES, TARGETS } from './glossary';
import { escapeMarkdown, formatShare, inlineCode } from './markdown';
import { describeService, servicesOfChain } from './serviceLookup';
import { splitWords, tokenAt, type LineToken } from './tokenAt';

export interface ExplainContext {
  ruleset?: Ruleset;
  services?: ServiceTree;
}

export interface Explanation {
  /** Markdown; node text inside it is escaped. */
  markdown: string;
  /** 0-based columns of the explained word in its line. */
  start: number;
  end: number;
}

/** `[packets:bytes]`, which `iptables-save -c` writes before `-A`. */
const COUNTERS = /^\[\d+:\d+\]$/;

/**
 * The rule written on a 1-based line, found in the chain its text names (`-A NAME …`) rather than through an
 * index of the whole file: the first hover on a 200,000-rule dump would otherwise pay for that index.
 */
export function ruleAtLine(ruleset: Ruleset, line: number, lineText: string): Rule | undefined {
  const words = splitWords(lineText);
  const at = words[0] && COUNTERS.test(words[0].text) ? 1 : 0;
  const verb = words[at]?.text;
  const name = words[at + 1]?.text;
  if (!name || !(verb === '-A' || verb === '--append' || verb === '-I' || verb === '--insert')) return undefined;
  const table = tableAtLine(ruleset, line);
  const chain = table === undefined ? undefined : ruleset.tables.get(table)?.chains.get(name);
  return chain?.rules.find((rule) => rule.line === line);
}

/** The table a line belongs to: the last `*table` header at or above it. */
function tableAtLine(ruleset: Ruleset | undefined, line: number): string | undefined {
  if (!ruleset) return undefined;
  let found: { name: string; line: number } | undefined;
  for (const table of ruleset.tables.values()) {
    if (table.line <= line && (!found || table.line > found.line)) found = { name: table.name, line: table.line };
  }
  return found?.name;
}

function findChain(ruleset: Ruleset | undefined, table: string | undefined, name: string): Chain | undefined {
  if (!ruleset) return undefined;
  if (table) {
    const chain = ruleset.tables.get(table)?.chains.get(name);
    if (chain) return chain;
  }
  for (const candidate of ruleset.tables.values()) {
    const chain = candidate.chains.get(name);
    if (chain) return chain;
  }
  return undefined;
}

/** Where a rule stands: its chain and its 0-based position there. */
interface RulePlace {
  chain: Chain;
  position: number;
}

/** A table's jump index, filled chain by chain; `chains` yields the chains not read yet. */
interface JumpIndexBuild {
  places: Map<string, RulePlace[]>;
  chains: Iterator<Chain>;
  done: boolean;
}

/**
 * Per table, where the rules that jump or go to each user chain stand (built-in targets such as DNAT are left
 * out), read from the stored targets alone: no Rule object is created for the 200,000 rules of a big node. It is built on the first question about a
 * table, or ahead of time in slices with prepareJumpIndex.
 */
const jumpIndexes = new WeakMap<Ruleset, Map<string, JumpIndexBuild>>();

function jumpIndexBuild(ruleset: Ruleset, table: string): JumpIndexBuild | undefined {
  const rules = ruleset.tables.get(table);
  if (!rules) return undefined;
  let tables = jumpIndexes.get(ruleset);
  if (!tables) jumpIndexes.set(ruleset, (tables = new Map()));
  let build = tables.get(table);
  if (!build) tables.set(table, (build = { places: new Map(), chains: rules.chains.values(), done: false }));
  return build;
}

/** Reads chains into the index until about `budget` rules were read; true when the whole table is in. */
function advance(build: JumpIndexBuild, budget: number): boolean {
  let read = 0;
  while (!build.done && read < budget) {
    const next = build.chains.next();
    if (next.done) {
      build.done = true;
      break;
    }
    const chain = next.value;
    let position = 0;
    forEachRuleTarget(chain, (target) => {
      if (target !== undefined && !Object.hasOwn(TARGETS, target)) {
        const places = build.places.get(target);
        if (places) places.push({ chain, position });
        else build.places.set(target, [{ chain, position }]);
      }
      position++;
    });
    read += position;
  }
  return build.done;
}

function jumpIndex(ruleset: Ruleset, table: string): Map<string, RulePlace[]> | undefined {
  const build = jumpIndexBuild(ruleset, table);
  if (!build) return undefined;
  advance(build, Infinity);
  return build.places;
}

/** Every rule in the Ruleset that jumps or goes to `chain` in `table`. */
export function jumpsTo(ruleset: Ruleset, table: string, chain: string): Rule[] {
  return (jumpIndex(ruleset, table)?.get(chain) ?? []).map((place) => place.chain.rules[place.position]!);
}

/** How many rules in `table` jump or go to `chain`. */
export function jumpCount(ruleset: Ruleset, table: string, chain: string): number {
  return jumpIndex(ruleset, table)?.get(chain)?.length ?? 0;
}

/**
 * Indexes about `budget` more rules of one table's jumps, so the first chain hover or reference search there
 * does not pay for the whole table; true once the table is indexed (or has no such table).
 */
export function prepareJumpIndex(ruleset: Ruleset, table: string, budget = Infinity): boolean {
  const build = jumpIndexBuild(ruleset, table);
  return build ? advance(build, budget) : true;
}

function optionArgs(rule: Rule, module: string, option: string): string[] | undefined {
  for (const match of rule.matches) {
    if (match.module !== module) continue;
    const found = match.options.find((each) => each.name === option);
    if (found) return found.args;
  }
  return undefined;
}

/** The fraction of packets reaching a statistic rule that it matches, or undefined when it has none. */
function statisticFraction(rule: Rule): number | undefined {
  const mode = optionArgs(rule, 'statistic', 'mode')?.[0];
  if (mode === 'random') {
    const p = Number(optionArgs(rule, 'statistic', 'probability')?.[0]);
    return Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : undefined;
  }
  if (mode === 'nth') {
    const every = Number(optionArgs(rule, 'statistic', 'every')?.[0]);
    return every >= 1 ? 1 / every : undefined;
  }
  return undefined;
}

/**
 * The share of packets entering the chain's endpoint choice that this rule takes: kube-proxy's cascade
 * 1/n, 1/(n-1), …, rest. Rules that jump to KUBE-MARK-MASQ (and return) do not take packets; other
 * conditional rules before the cascade (session affinity) are assumed not to match.
 */
export function cascadeShare(chain: Chain, target: Rule): number | undefined {
  let remaining = 1;
  for (const rule of chain.rules) {
    const fraction = statisticFraction(rule);
    const takesPackets = fraction !== undefined || rule.target?.name.startsWith('KUBE-SEP-') === true;
    if (rule === target) return takesPackets ? remaining * (fraction ?? 1) : undefined;
    if (!takesPackets) continue;
    remaining *= 1 - (fraction ?? 1);
  }
  return undefined;
}

/** The `--to-destination` of a KUBE-SEP chain's DNAT rule. */
function endpointOfSep(chain: Chain | undefined): string | undefined {
  if (!chain) return undefined;
  for (const rule of chain.rules) {
    if (rule.target?.name === 'DNAT') return rule.target.options.find((option) => option.name === 'to-destination')?.args[0];
  }
  return undefined;
}

function explainChainName(name: string, context: ExplainContext, table: string | undefined): string {
  const lines: string[] = [];
  const builtin = HOOKS[name];
  if (builtin) return `${inlineCode(name)}: ${builtin}`;
  const kind = classifyChain(name);
  const prefixed = ['service', 'service-local', 'external', 'firewall', 'endpoint', 'legacy-external-local'].includes(kind.kind);
  lines.push(IPVS_MODE_CHAINS[name] ? `${inlineCode(name)}: ${IPVS_MODE_CHAINS[name]}` : escapeMarkdown(kind.explanation));
  const services = servicesOfChain(context.services, name);
  for (const service of services.slice(0, 3)) lines.push('', describeService(service));
  if (prefixed && services.length === 0) {
    const chain = findChain(context.ruleset, table, name);
    if (!chain || (chain.rules.length === 0 && context.ruleset)) {
      lines.push('', chain ? 'This chain is empty and no Service uses it: a stale chain.' : 'This chain is not declared in the file.');
    } else {
      lines.push('', 'No Service in this snapshot leads here: a stale chain, or one the Service tree could not place.');
    }
  }
  if (name.startsWith('KUBE-SEP-')) {
    const endpoint = endpointOfSep(findChain(context.ruleset, table, name));
    if (endpoint) lines.push('', `DNATs to endpoint ${escapeMarkdown(endpoint)}.`);
  }
  if (context.ruleset && table && !builtin) {
    const count = jumpCount(context.ruleset, table, name);
    lines.push('', `${count} rule${count === 1 ? '' : 's'} in ${table} jump${count === 1 ? 's' : ''} here.`);
  }
  return lines.join('\n');
}

function explainProbability(rule: Rule | undefined, context: ExplainContext): string {
  const base =
    '`--probability p` matches a random fraction p of the packets that *reach* this rule; the rules above it have already taken their part.';
  if (!rule) return base;
  const chain = findChain(context.ruleset, rule.table, rule.chain);
  const share = chain ? cascadeShare(chain, rule) : undefined;
  const fraction = statisticFraction(rule);
  if (share === undefined || fraction === undefined) return base;
  const target = rule.target?.name;
  const endpoint = target ? endpointOfSep(findChain(context.ruleset, rule.table, target)) : undefined;
  const to = target ? ` to ${inlineCode(target)}${endpoint ? ` (endpoint ${escapeMarkdown(endpoint)})` : ''}` : '';
  return [
    base,
    '',
    `This rule matches ${formatShare(fraction)} of what reaches it, which is **${formatShare(share)}** of all new connections entering ${inlineCode(rule.chain)}${to}.`,
  ].join('\n');
}

function explainMark(value: string): string | undefined {
  const [mark, mask] = value.split('/');
  const bits = Number(mark);
  if (!Number.isFinite(bits)) return undefined;
  if (bits & 0x4000) return `${inlineCode(value)}: bit 0x4000 is kube-proxy's **masquerade mark**: KUBE-MARK-MASQ sets it, and KUBE-POSTROUTING masquerades every packet that carries it.`;
  if (bits & 0x8000) return `${inlineCode(value)}: bit 0x8000 is kube-proxy's old drop mark (KUBE-MARK-DROP).`;
  if (bits === 0 && mask) return `${inlineCode(value)}: clears the bits in ${inlineCode(mask)} (kube-proxy clears 0x4000 so a packet is masqueraded only once).`;
  return undefined;
}

/** The option a word belongs to (itself when it is an option, else the nearest option before it) and its index. */
function owningOption(words: LineToken[], index: number): { name: string; index: number } | undefined {
  for (let i = index; i >= 0; i--) {
    const text = words[i]!.text;
    if (text.startsWith('-') && text !== '-') return { name: text.replace(/^-+/, ''), index: i };
  }
  return undefined;
}

function owningModule(words: LineToken[], index: number): string | undefined {
  for (let i = index; i >= 1; i--) if (words[i - 1]!.text === '-m') return words[i]!.text;
  return undefined;
}

function explainWord(word: string, words: LineToken[], index: number, rule: Rule | undefined, context: ExplainContext, table: string | undefined): string | undefined {
  const owner = owningOption(words, index);
  const option = owner?.name;
  const isOption = word.startsWith('-');
  const isValue = !isOption && option !== undefined;
  const negated = owner && owner.index > 0 && words[owner.index - 1]!.text === '!' ? 'Negated with `!`: the rule matches when this test fails. ' : '';
  if (/^0x[0-9a-f]+(\/0x[0-9a-f]+)?$/i.test(word)) return explainMark(word);
  if (word === 'KUBE-MARK-MASQ' || word === ':KUBE-MARK-MASQ') return explainChainName('KUBE-MARK-MASQ', context, table);
  if (word.startsWith('*') && TABLES[word.slice(1)]) return `${inlineCode(word)}: ${TABLES[word.slice(1)]}`;
  if (word.startsWith(':')) return explainChainName(word.slice(1), context, table);
  if (word === 'COMMIT') return '`COMMIT`: ends the table; iptables-restore applies it atomically.';
  if (isValue && (option === 'A' || option === 'j' || option === 'g' || option === 'N')) {
    if (TARGETS[word]) return `${inlineCode(word)}: ${TARGETS[word]}`;
    return explainChainName(word, context, table);
  }
  switch (option) {
    case 'probability':
      return explainProbability(rule, context);
    case 'mode':
    case 'every':
    case 'packet':
      return `${inlineCode(`--${option}`)}: ${MODULES.statistic} ${word === 'nth' || option !== 'mode' ? '`nth` matches every n-th packet, so the cascade gives each endpoint an equal share.' : '`random` matches each packet with the given probability.'}`;
    case 'dst-type':
    case 'src-type': {
      const which = option === 'dst-type' ? 'destination' : 'source';
      return `${negated}${inlineCode(`--${option}`)}: tests the type of the packet's ${which} address in the local routing table. \`LOCAL\` means an address of this node itself (route-local.txt: node IPs, 127.0.0.0/8, and in IPVS mode every Service IP on kube-ipvs0). kube-proxy uses \`--dst-type LOCAL\` to send packets addressed to the node to KUBE-NODEPORTS.`;
    }
    case 'ctstate':
    case 'state': {
      const states = (isValue ? word : words[index + 1]?.text ?? '').split(',').filter(Boolean);
      const listed = states.map((state) => `- ${inlineCode(state)}: ${CTSTATES[state] ?? 'a conntrack state'}`).join('\n');
      return `${negated}${inlineCode(`--${option}`)}: tests the connection-tracking state. Traces assume the first packet of a new connection (NEW).${listed ? `\n\n${listed}` : ''}`;
    }
    case 'rcheck':
    case 'set':
    case 'seconds':
    case 'reap':
    case 'rsource':
    case 'mask':
    case 'name':
      if (owningModule(words, index) !== 'recent') break;
      return `${inlineCode(`-m recent --${option}`)}: kube-proxy's **session affinity** (ClientIP). \`--set\` records the client address when a connection goes to this endpoint; \`--rcheck --seconds N\` sends a client seen within N seconds back to the same endpoint. Traces assume no affinity yet, so \`--rcheck\` rules do not match.`;
    case 'match-set': {
      const name = isValue && words[index - 1]?.text === '--match-set' ? word : words[index + 1]?.text;
      const flags = isValue && words[index - 1]?.text !== '--match-set' ? word : words[index + (isValue ? 1 : 2)]?.text;
      const set = name === undefined ? undefined : kubeIpsetTerm(name);
      const about = set ? ` ${inlineCode(set.name)}, a kube-proxy ipset: ${set.explanation}` : '';
      const fields = flags ? ` The flags ${inlineCode(flags)} say which packet fields are looked up, in order (\`src\` = source, \`dst\` = destination; address first, then port).` : '';
      return `${negated}${inlineCode('-m set --match-set')}: matches when the packet's fields are members of an ipset (see ipset.txt).${about}${fields}`;
    }
    case 'mark':
    case 'set-xmark':
    case 'or-mark':
    case 'and-mark':
      return explainMark(isValue ? word : words[index + 1]?.text ?? '') ?? `${inlineCode(`--${option}`)}: ${TARGETS.MARK}`;
    case 'to-destination':
      return `${inlineCode('--to-destination')}: DNAT rewrites the packet's destination to ${escapeMarkdown(isValue ? word : words[index + 1]?.text ?? 'this address')}; this is the endpoint (pod) the connection goes to.`;
    case 'random-fully':
      return '`--random-fully`: picks the source port for masquerade fully at random, avoiding port collisions between nodes.';
    case 'reject-with':
      return `${inlineCode('--reject-with')}: the ICMP error sent back; kube-proxy uses it for Services without endpoints, so the client sees "connection refused" at once.`;
    case 'comment':
      return `${inlineCode('--comment')}: ${MODULES.comment}`;
    case 'm':
      if (isValue && MODULES[word]) return `${inlineCode(`-m ${word}`)}: ${MODULES[word]}`;
      break;
    case 'd':
    case 's':
      return `${negated}${inlineCode(`-${option}`)}: matches the packet's ${option === 'd' ? 'destination' : 'source'} address${isValue ? ` against ${escapeMarkdown(word)}` : ''}.`;
    case 'dport':
    case 'sport':
      return `${negated}${inlineCode(`--${option}`)}: matches the ${option === 'dport' ? 'destination' : 'source'} port.`;
    case 'p':
      return `${negated}${inlineCode('-p')}: matches the protocol.`;
    case 'i':
    case 'o':
      return `${negated}${inlineCode(`-${option}`)}: matches the interface the packet ${option === 'i' ? 'came in by' : 'leaves by'}.`;
  }
  if (TARGETS[word]) return `${inlineCode(word)}: ${TARGETS[word]}`;
  if (MODULES[word]) return `${inlineCode(`-m ${word}`)}: ${MODULES[word]}`;
  if (/^KUBE-/.test(word) && findChain(context.ruleset, table, word)) return explainChainName(word, context, table);
  const set = kubeIpsetTerm(word);
  if (set) return `${inlineCode(word)}: kube-proxy ipset (${set.type}). ${set.explanation}`;
  return undefined;
}

/** Explains the word at 1-based `line`, 0-based `column` of an iptables-save file, or undefined. */
export function explainIptablesAt(lineText: string, line: number, column: number, context: ExplainContext): Explanation | undefined {
  const found = tokenAt(lineText, column);
  if (!found) return undefined;
  const { token, words } = found;
  const rule = context.ruleset ? ruleAtLine(context.ruleset, line, lineText) : undefined;
  const table = rule?.table ?? tableAtLine(context.ruleset, line);
  const markdown = explainWord(token.text, words, token.index, rule, context, table);
  return markdown ? { markdown, start: token.start, end: token.end } : undefined;
}
