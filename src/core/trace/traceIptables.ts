/**
 * The packet's path through the node in iptables and IPVS modes, hook by hook as DESIGN.md describes it:
 * PREROUTING (raw, mangle, nat) or OUTPUT for local sources, the routing decision on the rewritten
 * destination, INPUT or FORWARD, IPVS at LOCAL_IN/LOCAL_OUT, and POSTROUTING where masquerading happens.
 * Chain walking itself lives in walkChains.ts.
 */

import type { Ruleset } from '../iptables/model';
import { parseIPv4 } from '../net/ipv4';
import type { LocalRoutes, MainRoutes } from '../routes/localRoutes';
import { copyBranch, type Branch } from './branch';
import { FIRST_PACKET, type SetDirection } from './compileRule';
import { formatShare } from './explainRule';
import type { IpvsLookup } from './ipvsStep';
import type { PacketState } from './packetState';
import type { DataplaneMode, Hook, Packet, RuleRef, TraceOutcome, TraceResult } from './result';
import { walkTable, type WalkContext } from './walkChains';

export interface IptablesTraceInput {
  mode: Extract<DataplaneMode, 'iptables' | 'ipvs'>;
  ruleset: Ruleset;
  routes?: LocalRoutes;
  mainRoutes?: MainRoutes;
  ipsetMatch?: (name: string, directions: SetDirection[], packet: PacketState) => boolean | undefined;
  ipvs?: IpvsLookup;
  /** The mode's own sentence for a chain (IPVS mode reuses iptables names with other meanings). */
  describeChain?: (chain: string) => string | undefined;
  /** Maps a KUBE-SVC/EXT/SVL/FW chain to its Service, for dumps without comments. */
  serviceOfChain?: (chain: string) => string | undefined;
}

const MAX_SPLITS = 20_000;

export function traceIptables(input: IptablesTraceInput, packet: Packet): TraceResult {
  const assumptions = new Set<string>([FIRST_PACKET]);
  const warnings = new Set<string>();
  const ctx: WalkContext = {
    ruleset: input.ruleset,
    routes: input.routes,
    ipsetMatch: input.ipsetMatch,
    assume: (text) => assumptions.add(text),
    warn: (text) => warnings.add(text),
    splitBudget: MAX_SPLITS,
    describeChain: input.describeChain,
  };
  if (!input.routes) {
    warnings.add('route-local.txt is missing: the tracer cannot tell which addresses belong to the node, so it assumes the source is remote and the destination is not local.');
  }
  const isLocal = (ip: string) => input.routes?.isLocal(ip) ?? false;
  const entry: 'PREROUTING' | 'OUTPUT' = isLocal(packet.src) ? 'OUTPUT' : 'PREROUTING';
  const state: PacketState = {
    src: packet.src,
    dst: packet.dst,
    srcNumber: parseIPv4(packet.src) ?? 0,
    dstNumber: parseIPv4(packet.dst) ?? 0,
    proto: packet.proto,
    sport: packet.sport,
    dport: packet.dport,
    originalDst: packet.dst,
    originalDport: packet.dport,
    hook: entry,
    mark: 0,
    connmark: 0,
    inInterface: entry === 'OUTPUT' ? null : input.mainRoutes?.routeTo(packet.src)?.device,
    outInterface: null,
    dnatDone: false,
    snatDone: false,
    untracked: false,
  };
  const start: Branch = {
    probability: 1,
    packet: state,
    steps: [],
    notes: [],
    masquerade: false,
    dnat: null,
    lastAccept: null,
    service: null,
    // Until routing decides, a packet dropped early is reported by where its destination would have taken it.
    delivery: isLocal(packet.dst) ? 'local' : 'forward',
  };
  const path = new PacketPath(ctx, input, isLocal);
  const finished = entry === 'OUTPUT' ? path.fromLocalProcess(start) : path.fromNetwork(start);
  const outcomes = mergeOutcomes(finished);
  const outcomeWarnings = describeUncertainOutcomes(finished, outcomes);
  const service =
    finished.find((branch) => branch.service)?.service ??
    findServiceByChain(finished, input.serviceOfChain) ??
    null;
  return {
    mode: input.mode,
    packet: { ...packet },
    hook: entry,
    service,
    outcomes,
    assumptions: [...assumptions],
    warnings: [...warnings, ...outcomeWarnings],
  };
}

function findServiceByChain(branches: Branch[], serviceOfChain: ((chain: string) => string | undefined) | undefined) {
  if (!serviceOfChain) return undefined;
  for (const branch of branches) {
    for (const step of branch.steps) {
      const service = serviceOfChain(step.chain);
      if (service) return service;
    }
  }
  return undefined;
}

class PacketPath {
  constructor(
    private readonly ctx: WalkContext,
    private readonly input: IptablesTraceInput,
    private readonly isLocal: (ip: string) => boolean,
  ) {}

  /** Runs the tables of one hook in kernel priority order; NAT tables only while the connection is new. */
  private hook(branches: Branch[], hook: Hook, tables: string[]): Branch[] {
    let current = branches;
    for (const table of tables) {
      const next: Branch[] = [];
      for (const branch of current) {
        if (branch.verdict) {
          next.push(branch);
          continue;
        }
        branch.packet.hook = hook;
        if (table === 'nat' && branch.packet.untracked) {
          next.push(branch);
          continue;
        }
        next.push(...walkTable(this.ctx, table, hook, branch));
      }
      current = next;
    }
    return current;
  }

  private routingStep(branch: Branch, hook: Hook, local: boolean): void {
    branch.delivery = local ? 'local' : 'forward';
    const entry = local ? this.input.routes?.entryFor(branch.packet.dst) : this.input.mainRoutes?.routeTo(branch.packet.dst);
    const file = local ? 'route-local.txt' : 'route-main.txt';
    const where = local
      ? `${branch.packet.dst} is a local address of this node${entry?.device ? ` (on ${entry.device})` : ''}, so the packet is delivered locally (INPUT).`
      : `${branch.packet.dst} is not a local address, so the packet is routed onwards (${hook === 'OUTPUT' ? 'out of the node' : 'FORWARD'})${entry?.device ? ` through ${entry.device}` : ''}.`;
    branch.steps.push({
      hook,
      table: 'routing',
      chain: 'route',
      line: entry?.line ?? 0,
      rule: entry ? `${entry.type === 'unicast' ? '' : `${entry.type} `}${entry.prefix}${entry.via ? ` via ${entry.via}` : ''}${entry.device ? ` dev ${entry.device}` : ''}` : '',
      explanation: `Routing decision: ${where}`,
      file,
    });
    if (!local && branch.packet.originalDst.startsWith('127.')) {
      this.ctx.assume('net.ipv4.conf.all.route_localnet=1, which kube-proxy sets for NodePorts on 127.0.0.1; without it the kernel drops loopback-addressed packets routed elsewhere');
    }
  }

  private setOutInterface(branch: Branch): void {
    branch.packet.outInterface = this.isLocal(branch.packet.dst) ? 'lo' : this.input.mainRoutes?.routeTo(branch.packet.dst)?.device;
  }

  fromNetwork(start: Branch): Branch[] {
    const afterPrerouting = this.hook([start], 'PREROUTING', ['raw', 'mangle', 'nat']);
    const results: Branch[] = [];
    for (const branch of afterPrerouting) {
      if (branch.verdict) {
        results.push(branch);
        continue;
      }
      const local = this.isLocal(branch.packet.dst);
      this.routingStep(branch, 'PREROUTING', local);
      if (local) results.push(...this.deliverLocally(branch));
      else results.push(...this.forward(branch));
    }
    return results;
  }

  fromLocalProcess(start: Branch): Branch[] {
    let branches = this.hook([start], 'OUTPUT', ['raw', 'mangle', 'nat']);
    branches = branches.flatMap((branch) => (branch.verdict ? [branch] : (this.ipvs(branch, 'OUTPUT') ?? [branch])));
    // The route is looked up again after nat OUTPUT rewrote the destination, before the filter chains run.
    for (const branch of branches) {
      if (branch.verdict) continue;
      this.routingStep(branch, 'OUTPUT', this.isLocal(branch.packet.dst));
      this.setOutInterface(branch);
    }
    branches = this.hook(branches, 'OUTPUT', ['filter', 'security']);
    branches = this.hook(branches, 'POSTROUTING', ['mangle', 'nat']);
    const results: Branch[] = [];
    for (const branch of branches) {
      if (branch.verdict) {
        results.push(branch);
        continue;
      }
      if (branch.delivery === 'forward') {
        branch.verdict = { verdict: 'ACCEPT', decidedBy: branch.lastAccept };
        results.push(branch);
        continue;
      }
      // Local to local: the packet loops back through lo and comes in through INPUT (NAT was decided already).
      branch.packet.inInterface = 'lo';
      branch.packet.outInterface = null;
      const delivered = this.hook([branch], 'INPUT', ['mangle', 'filter', 'security']);
      for (const done of delivered) {
        done.delivery = 'local';
        done.verdict ??= { verdict: 'ACCEPT', decidedBy: done.lastAccept };
      }
      results.push(...delivered);
    }
    return results;
  }

  private deliverLocally(branch: Branch): Branch[] {
    branch.packet.outInterface = null;
    const afterFilter = this.hook([branch], 'INPUT', ['mangle', 'filter', 'security']);
    const results: Branch[] = [];
    for (const current of afterFilter) {
      if (current.verdict) {
        results.push(current);
        continue;
      }
      const balanced = this.ipvs(current, 'INPUT');
      if (!balanced) {
        const delivered = this.hook([current], 'INPUT', ['nat']);
        for (const done of delivered) {
          done.delivery = 'local';
          done.verdict ??= { verdict: 'ACCEPT', decidedBy: done.lastAccept };
        }
        results.push(...delivered);
        continue;
      }
      // IPVS sent the packet on: it leaves through LOCAL_OUT's filter chains and POSTROUTING.
      for (const sent of balanced) this.setOutInterface(sent);
      let sent = this.hook(balanced, 'OUTPUT', ['mangle', 'filter', 'security']);
      sent = this.hook(sent, 'POSTROUTING', ['mangle', 'nat']);
      for (const done of sent) {
        done.delivery = this.isLocal(done.packet.dst) ? 'local' : 'forward';
        done.verdict ??= { verdict: 'ACCEPT', decidedBy: done.lastAccept };
      }
      results.push(...sent);
    }
    return results;
  }

  /**
   * IPVS at LOCAL_IN (from the network) or LOCAL_OUT (from the node). Returns one branch per real server when a
   * virtual service takes the packet, or null when IPVS leaves it to the local stack.
   */
  private ipvs(branch: Branch, hook: Hook): Branch[] | null {
    if (this.input.mode !== 'ipvs' || !this.input.ipvs) return null;
    const packet = branch.packet;
    const match = this.input.ipvs(packet.proto, packet.dst, packet.dport);
    if (!match) return null;
    const base = {
      hook,
      table: 'ipvs',
      chain: `${packet.proto.toUpperCase()} ${packet.dst}:${packet.dport}`,
      line: match.line,
      rule: match.raw,
      file: 'ipvsadm.txt',
    };
    const serving = match.choices.filter((choice) => choice.share > 0);
    if (serving.length === 0) {
      // ip_vs_leave(): no real server can take the connection, so IPVS answers ICMP port unreachable and drops it.
      const ref = { table: 'ipvs', chain: base.chain, line: match.line, rule: match.raw };
      branch.steps.push({
        ...base,
        explanation: `IPVS virtual service ${match.raw} has no real server with weight above 0: IPVS answers ICMP port unreachable and drops the packet, so the client sees "connection refused".`,
      });
      branch.verdict = { verdict: 'REJECT', decidedBy: ref };
      branch.delivery = 'local';
      this.ctx.warn(`IPVS virtual service ${match.raw} has no real servers: connections to it are refused.`);
      return [branch];
    }
    if (match.assumption) this.ctx.assume(match.assumption);
    return serving.map((choice, index) => {
      const next = index === serving.length - 1 ? branch : copyBranch(branch);
      next.probability = branch.probability * choice.share;
      const masq = choice.forward.toLowerCase().startsWith('masq');
      if (masq) {
        next.packet.dst = choice.ip;
        next.packet.dstNumber = parseIPv4(choice.ip) ?? next.packet.dstNumber;
        next.packet.dport = choice.port;
        next.packet.dnatDone = true;
        next.dnat = { ip: choice.ip, port: choice.port };
      }
      next.steps.push({
        ...base,
        explanation: `IPVS (${match.scheduler}) sends ${formatShare(choice.share)} of new connections to real server ${choice.ip}:${choice.port} (weight ${choice.weight}, ${choice.forward}${masq ? ': destination rewritten' : ': forwarded unchanged'}).`,
      });
      return next;
    });
  }

  private forward(branch: Branch): Branch[] {
    this.setOutInterface(branch);
    let branches = this.hook([branch], 'FORWARD', ['mangle', 'filter', 'security']);
    branches = this.hook(branches, 'POSTROUTING', ['mangle', 'nat']);
    for (const done of branches) {
      done.delivery = 'forward';
      done.verdict ??= { verdict: 'ACCEPT', decidedBy: done.lastAccept };
    }
    return branches;
  }
}

function fateKey(
  verdict: string,
  delivery: string,
  dnat: { ip: string; port: number } | null,
  masquerade: boolean,
  decidedBy: RuleRef | null,
): string {
  return `${verdict}|${delivery}|${dnat ? `${dnat.ip}:${dnat.port}` : '-'}|${masquerade}|${decidedBy ? `${decidedBy.table}:${decidedBy.line}` : 'policy'}`;
}

function outcomeKey(branch: Branch): string {
  const verdict = branch.verdict!;
  return fateKey(verdict.verdict, branch.delivery, branch.dnat, branch.masquerade, verdict.decidedBy);
}

/** One outcome per distinct fate, largest share first; shares of equal fates add up. */
function mergeOutcomes(branches: Branch[]): TraceOutcome[] {
  const byKey = new Map<string, TraceOutcome>();
  for (const branch of branches) {
    const verdict = branch.verdict ?? { verdict: 'ACCEPT' as const, decidedBy: branch.lastAccept };
    branch.verdict = verdict;
    const key = outcomeKey(branch);
    const existing = byKey.get(key);
    if (existing) {
      // Summing many small shares can overshoot 1 by a rounding error; a share is never more than all packets.
      existing.probability = Math.min(1, existing.probability + branch.probability);
      continue;
    }
    byKey.set(key, {
      probability: branch.probability,
      verdict: verdict.verdict,
      delivery: branch.delivery,
      dnat: branch.dnat ? { ...branch.dnat } : null,
      masquerade: branch.masquerade,
      decidedBy: verdict.decidedBy,
      steps: branch.steps,
    });
  }
  // Shares stay unrounded so that they sum to 1; the kernel's own probabilities are k/2^31, printed to 11 digits.
  const outcomes = [...byKey.values()];
  return outcomes.sort((a, b) => b.probability - a.probability);
}

/** Says which outcomes rest on rules the tracer could not decide. */
function describeUncertainOutcomes(branches: Branch[], outcomes: TraceOutcome[]): string[] {
  const indexByKey = new Map<string, number>();
  outcomes.forEach((outcome, index) => indexByKey.set(keyOfOutcome(outcome), index));
  const warnings = new Set<string>();
  for (const branch of branches) {
    if (branch.notes.length === 0) continue;
    const index = indexByKey.get(outcomeKey(branch));
    const label = index === undefined ? 'An outcome' : `Outcome ${index + 1}`;
    for (const note of branch.notes) warnings.add(`${label} depends on an assumption: ${note}.`);
  }
  return [...warnings];
}

function keyOfOutcome(outcome: TraceOutcome): string {
  return fateKey(outcome.verdict, outcome.delivery, outcome.dnat, outcome.masquerade, outcome.decidedBy);
}
