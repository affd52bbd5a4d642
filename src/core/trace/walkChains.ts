/**
 * Walks one table's built-in chain for one hook, as the kernel does: rules in order, jumps and gotos with a
 * return stack, RETURN, and the chain policy at the end. A statistic match forks the branch; a rule the
 * tracer cannot decide is assumed not to match and noted. Targets change the packet (marks, NAT) in place.
 */

import { readRulesOnce, ruleTargetName } from '../iptables/parseIptablesSave';
import type { Chain, Rule, RuleOption, Ruleset } from '../iptables/model';
import { findOption } from '../iptables/ruleDetails';
import { isPerServiceChain, parseKubeComment } from '../iptables/vocabulary';
import { parseIPv4 } from '../net/ipv4';
import { copyBranch, type Branch } from './branch';
import { candidateRules } from './chainIndex';
import { evaluateRule, type MatchEnvironment } from './compileRule';
import { explainRule, type StepFacts } from './explainRule';
import type { Hook, RuleRef } from './result';

export interface WalkContext extends MatchEnvironment {
  readonly ruleset: Ruleset;
  /** Node-wide warnings (each listed once). */
  warn(text: string): void;
  /** How many more branches a statistic split may create before the trace stops splitting. */
  splitBudget: number;
  /** The mode's own sentence for a chain, when it differs from iptables mode's. */
  readonly describeChain?: (chain: string) => string | undefined;
}

/** The kernel refuses rulesets with loops; a dump can still hold one, so the walk is bounded. */
const MAX_CALL_DEPTH = 128;
const MAX_RULES_PER_BRANCH = 200_000;
/** Path steps a split may copy for one unit of the split budget (kube-proxy's paths are a few dozen steps). */
const STEPS_PER_SPLIT = 100;

const NON_TERMINATING_TARGETS = new Set([
  'LOG', 'NFLOG', 'ULOG', 'TRACE', 'AUDIT', 'CHECKSUM', 'TCPMSS', 'TOS', 'DSCP', 'TTL', 'HL', 'CLASSIFY',
  'SET', 'CONNSECMARK', 'SECMARK', 'IDLETIMER', 'LED', 'RATEEST', 'TEE', 'NETMAP-LOG',
]);

interface Frame {
  chain: Chain;
  /** The chain's rules; for per-Service chains, objects read for this walk only (see readRulesOnce). */
  rules: Rule[];
  /** Whether compiled checks are kept for the next trace: only for chains that many traces pass. */
  keep: boolean;
  /** Next index into `candidates` (or into the chain's rules when candidates is undefined). */
  cursor: number;
  candidates: number[] | undefined;
  /** Chains this frame's place held before gotos replaced them: going back to one is a loop too. */
  replaced?: Chain[];
}

function ruleRef(rule: Rule): RuleRef {
  return { table: rule.table, chain: rule.chain, line: rule.line, rule: rule.raw };
}

/**
 * A frame for walking a chain. kube-proxy's chains of one Service or endpoint are read afresh rather than kept in
 * memory: a trace passes few of the tens of thousands on a big node, and rarely the same ones as the trace before.
 */
function makeFrame(chain: Chain, branch: Branch): Frame {
  const keep = !isPerServiceChain(chain.name);
  return { chain, rules: keep ? chain.rules : readRulesOnce(chain), keep, cursor: 0, candidates: candidateRules(chain, branch.packet) };
}

function nextRule(frame: Frame): Rule | undefined {
  const { rules, candidates } = frame;
  if (candidates === undefined) return rules[frame.cursor++];
  const position = candidates[frame.cursor++];
  return position === undefined ? undefined : rules[position];
}

/** `a.b.c.d[-e.f.g.h][:port[-port]]` → the first address and port, plus whether it was a range. */
function parseNatDestination(text: string, fallbackPort: number): { ip: string | undefined; port: number; range: boolean } {
  const match = /^([\d.]*)(?:-([\d.]+))?(?::(\d+)(?:-(\d+))?)?/.exec(text);
  if (!match) return { ip: undefined, port: fallbackPort, range: false };
  return {
    ip: match[1] || undefined,
    port: match[3] ? Number(match[3]) : fallbackPort,
    range: Boolean(match[2] || match[4]),
  };
}

function applyMark(current: number, options: RuleOption[]): number | undefined {
  const read = (text: string | undefined) => {
    const [value, mask] = (text ?? '').split('/');
    return { value: Number(value) >>> 0, mask: mask === undefined ? 0xffffffff : Number(mask) >>> 0 };
  };
  const setX = findOption(options, 'set-xmark');
  if (setX) {
    const { value, mask } = read(setX.args[0]);
    return ((current & ~mask) ^ value) >>> 0;
  }
  const set = findOption(options, 'set-mark');
  if (set) {
    const { value, mask } = read(set.args[0]);
    return ((current & ~mask) | value) >>> 0;
  }
  const or = findOption(options, 'or-mark');
  if (or) return (current | read(or.args[0]).value) >>> 0;
  const and = findOption(options, 'and-mark');
  if (and) return (current & read(and.args[0]).value) >>> 0;
  const xor = findOption(options, 'xor-mark');
  if (xor) return (current ^ read(xor.args[0]).value) >>> 0;
  return undefined;
}

/**
 * Runs `chainName` of `tableName` for the branch. Returns the branches that come out: each either has a
 * verdict (dropped, rejected) or goes on to the next table or hook.
 */
export function walkTable(ctx: WalkContext, tableName: string, hook: Hook, branch: Branch): Branch[] {
  const builtin = ctx.ruleset.tables.get(tableName)?.chains.get(hook);
  if (!builtin) return [branch];
  const finished: Branch[] = [];
  const work: { branch: Branch; stack: Frame[]; budget: number }[] = [
    { branch, stack: [makeFrame(builtin, branch)], budget: MAX_RULES_PER_BRANCH },
  ];
  while (work.length > 0) {
    const item = work.pop()!;
    runBranch(ctx, builtin, hook, item, work);
    finished.push(item.branch);
  }
  return finished;
}

function step(branch: Branch, hook: Hook, rule: Rule, explanation: string): void {
  branch.steps.push({ hook, table: rule.table, chain: rule.chain, line: rule.line, rule: rule.raw, explanation });
}

function runBranch(
  ctx: WalkContext,
  builtin: Chain,
  hook: Hook,
  item: { branch: Branch; stack: Frame[]; budget: number },
  work: { branch: Branch; stack: Frame[]; budget: number }[],
): void {
  const { branch, stack } = item;
  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    const rule = nextRule(frame);
    if (!rule) {
      stack.pop();
      continue;
    }
    if (--item.budget < 0) {
      ctx.warn(`The walk through ${builtin.table} ${hook} stopped after ${MAX_RULES_PER_BRANCH} rules; the chains may loop.`);
      branch.notes.push(`the walk through ${builtin.table} ${hook} was cut short`);
      return;
    }
    let result = evaluateRule(rule, branch.packet, ctx, frame.keep);
    if (result.kind === 'no') continue;
    if (result.kind === 'unknown') {
      branch.notes.push(`${rule.table} ${rule.chain} line ${rule.line} was assumed not to match: ${result.reason}`);
      continue;
    }
    let splitProbability: number | undefined;
    if (result.kind === 'split') {
      if (result.probability <= 0) continue;
      if (result.probability < 1) {
        // A split copies the branch's path so far, so a long path costs more of the budget than a short one.
        const cost = 1 + Math.floor((branch.steps.length + branch.notes.length) / STEPS_PER_SPLIT);
        if (ctx.splitBudget < cost) {
          ctx.warn('Too many random splits to follow them all; the least likely paths were left out.');
          if (result.probability < 0.5) continue;
        } else {
          ctx.splitBudget -= cost;
          const other = copyBranch(branch);
          other.probability *= 1 - result.probability;
          const otherStack = stack.map((f) => ({ ...f }));
          work.push({ branch: other, stack: otherStack, budget: item.budget });
          branch.probability *= result.probability;
          splitProbability = result.probability;
        }
      }
      result = { kind: 'match' };
    }
    const outcome = applyTarget(ctx, hook, branch, rule, splitProbability, stack);
    if (outcome === 'stop') return;
  }
  // Fell off the end of the built-in chain: its policy decides.
  if (builtin.policy === 'DROP') {
    branch.verdict = { verdict: 'DROP', decidedBy: null };
    branch.steps.push({
      hook,
      table: builtin.table,
      chain: builtin.name,
      line: builtin.line,
      rule: `:${builtin.name} DROP`,
      explanation: `No rule decided in ${builtin.table} ${builtin.name}; its policy DROP discards the packet.`,
    });
  }
}

/** Applies the rule's target; 'stop' ends the walk of this table for the branch. */
function applyTarget(
  ctx: WalkContext,
  hook: Hook,
  branch: Branch,
  rule: Rule,
  splitProbability: number | undefined,
  stack: Frame[],
): 'go-on' | 'stop' {
  const packet = branch.packet;
  const markBefore = packet.mark;
  const facts: StepFacts = {
    splitProbability,
    overallShare: branch.probability,
    markBefore,
    markAfter: markBefore,
    describeChain: ctx.describeChain,
  };
  const targetName = ruleTargetName(rule);
  const comment = parseKubeComment(rule.comment);
  if (comment.service && !branch.service && comment.kind !== 'masquerade-external' && comment.kind !== 'pod-traffic-external') {
    branch.service = comment.service;
  }
  if (!targetName) {
    step(branch, hook, rule, explainRule(rule, packet, facts));
    return 'go-on';
  }
  const target = rule.target!;
  switch (targetName) {
    case 'ACCEPT':
      step(branch, hook, rule, explainRule(rule, packet, facts));
      branch.lastAccept = ruleRef(rule);
      return 'stop';
    case 'DROP':
    case 'REJECT':
      step(branch, hook, rule, explainRule(rule, packet, facts));
      branch.verdict = { verdict: targetName, decidedBy: ruleRef(rule) };
      return 'stop';
    case 'RETURN':
      step(branch, hook, rule, explainRule(rule, packet, facts));
      // Leaving the built-in chain itself this way ends the walk, and the policy decides.
      stack.pop();
      return 'go-on';
    case 'MARK':
    case 'CONNMARK': {
      if (targetName === 'CONNMARK' && findOption(target.options, 'save-mark')) {
        packet.connmark = packet.mark;
      } else if (targetName === 'CONNMARK' && findOption(target.options, 'restore-mark')) {
        packet.mark = packet.connmark;
      } else {
        const field = targetName === 'MARK' ? 'mark' : 'connmark';
        const next = applyMark(packet[field], target.options);
        if (next === undefined) ctx.warn(`${rule.table} ${rule.chain} line ${rule.line}: ${targetName} options are not modelled.`);
        else packet[field] = next;
      }
      facts.markAfter = packet.mark;
      step(branch, hook, rule, explainRule(rule, packet, facts));
      return 'go-on';
    }
    case 'DNAT':
    case 'REDIRECT': {
      if (rule.table !== 'nat') return 'go-on';
      if (targetName === 'DNAT') {
        const to = parseNatDestination(findOption(target.options, 'to-destination')?.args[0] ?? '', packet.dport);
        if (to.range) ctx.warn(`${rule.table} ${rule.chain} line ${rule.line}: DNAT to a range; the trace follows its first address and port.`);
        if (to.ip) {
          packet.dst = to.ip;
          packet.dstNumber = parseIPv4(to.ip) ?? packet.dstNumber;
        }
        packet.dport = to.port;
      } else {
        const ports = findOption(target.options, 'to-ports')?.args[0];
        const redirected = hook === 'OUTPUT' ? '127.0.0.1' : packet.dst;
        packet.dst = redirected;
        packet.dstNumber = parseIPv4(redirected) ?? packet.dstNumber;
        if (ports) packet.dport = Number(ports.split('-')[0]);
      }
      packet.dnatDone = true;
      branch.dnat = { ip: packet.dst, port: packet.dport };
      facts.dnatTo = `${packet.dst}:${packet.dport}`;
      step(branch, hook, rule, explainRule(rule, packet, facts));
      return 'stop';
    }
    case 'SNAT':
    case 'MASQUERADE':
      if (rule.table !== 'nat') return 'go-on';
      packet.snatDone = true;
      branch.masquerade = true;
      step(branch, hook, rule, explainRule(rule, packet, facts));
      return 'stop';
    case 'NOTRACK':
      packet.untracked = true;
      step(branch, hook, rule, 'NOTRACK: the packet is not tracked by conntrack, so no NAT applies to it.');
      return 'go-on';
    case 'CT':
      if (findOption(target.options, 'notrack')) packet.untracked = true;
      step(branch, hook, rule, explainRule(rule, packet, facts));
      return 'go-on';
  }
  if (NON_TERMINATING_TARGETS.has(targetName)) {
    step(branch, hook, rule, explainRule(rule, packet, facts));
    return 'go-on';
  }
  const chain = ctx.ruleset.tables.get(rule.table)?.chains.get(targetName);
  if (!chain) {
    ctx.warn(`${rule.table} ${rule.chain} line ${rule.line}: target ${targetName} is not modelled; the walk goes on as if it did nothing.`);
    branch.notes.push(`${rule.table} ${rule.chain} line ${rule.line}: target ${targetName} was assumed to do nothing`);
    step(branch, hook, rule, `${targetName} is not modelled by the tracer; assumed to let the packet go on.`);
    return 'go-on';
  }
  const loops = stack.some((frame) => frame.chain === chain || frame.replaced?.includes(chain));
  if (loops || stack.length >= MAX_CALL_DEPTH) {
    const why = loops ? 'would loop (the kernel refuses such rulesets)' : `would nest chains deeper than ${MAX_CALL_DEPTH}, the most the tracer follows`;
    ctx.warn(`${rule.table} ${rule.chain} line ${rule.line}: jumping to ${targetName} ${why}; the jump was skipped.`);
    branch.notes.push(`${rule.table} ${rule.chain} line ${rule.line}: a ${loops ? 'looping' : 'too deep'} jump to ${targetName} was skipped`);
    return 'go-on';
  }
  step(branch, hook, rule, explainRule(rule, packet, facts));
  const frame = makeFrame(chain, branch);
  if (target.kind === 'goto') {
    // A goto replaces the current chain: when the target ends, the walk returns to our caller, or,
    // from a built-in chain, ends at that chain's policy.
    const current = stack[stack.length - 1];
    frame.replaced = [...(current.replaced ?? []), current.chain];
    stack[stack.length - 1] = frame;
  } else {
    stack.push(frame);
  }
  return 'go-on';
}

