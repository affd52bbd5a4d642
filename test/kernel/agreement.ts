// What the kernel agreement tests compare, shared by the iptables and nftables tests: a probe table row,
// the summary of what the kernel did with its connections, the check of that against what kube-proxy
// means the rules to do (which proves the harness and ruleset), and the check of it against what
// `netpath trace --json` predicts. Both checks return plain sentences, one per disagreement.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TraceOutcome, TraceResult } from '../../src/core/trace/result';
import type { ConnectionResult, Origin, ProbeRun } from './netns';
import { podPort, pods } from './netns';

export const cliPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli.js');

/**
 * What kube-proxy means the rules to do with one probe: pods that answer (and whether masqueraded), a
 * refusal (an ICMP error or a reset: ECONNREFUSED), or a drop (a timeout; a SYN that netfilter drops on
 * the node's own output path may instead fail connect() at once with EPERM, so that counts as a drop too).
 */
export type Intent = { pods: Record<string, { masquerade: boolean }> } | 'refused' | 'dropped';

export interface ProbeRow {
  name: string;
  from: Origin;
  dst: string;
  dport: number;
  /** TCP unless said otherwise. */
  proto?: 'tcp' | 'udp';
  /** Connections to open; enough that every endpoint with a share of 1/3 answers at least once. */
  count: number;
  intent: Intent;
  /**
   * Session affinity (ClientIP): the first connection picks an endpoint, every later one from this client
   * goes to the same. The intent's pods are then the candidates, exactly one of which must answer them all.
   */
  sticky?: boolean;
}

/** A fate that the kernel shows and the tracer predicts, in the same words. */
type Fate = { kind: 'pod'; ip: string; masquerade: boolean } | { kind: 'refused' } | { kind: 'dropped' };

/** How many connections met each fate, keyed by `fateKey`. */
export interface Observation {
  src: string;
  total: number;
  fates: Map<string, { fate: Fate; count: number }>;
  errors: string[];
}

function fateKey(fate: Fate): string {
  return fate.kind === 'pod' ? `pod ${fate.ip}${fate.masquerade ? ' masqueraded' : ''}` : fate.kind;
}

function podIp(name: string): string | undefined {
  return pods.find((pod) => pod.name === name)?.ip;
}

function podName(ip: string): string {
  return pods.find((pod) => pod.ip === ip)?.name ?? ip;
}

/** Sums up a probe's connections: which pod answered and whether it saw the original source, refusals, drops. */
export function observe(run: ProbeRun): Observation {
  const fates = new Map<string, { fate: Fate; count: number }>();
  const errors: string[] = [];
  const add = (fate: Fate): void => {
    const key = fateKey(fate);
    const entry = fates.get(key) ?? { fate, count: 0 };
    entry.count += 1;
    fates.set(key, entry);
  };
  for (const result of run.results as ConnectionResult[]) {
    if (result.outcome === 'answered') {
      const ip = podIp(result.pod);
      if (ip === undefined) errors.push(`unknown answer ${JSON.stringify(result)}`);
      else add({ kind: 'pod', ip, masquerade: result.peer !== run.src });
    } else if (result.outcome === 'refused') {
      add({ kind: 'refused' });
    } else if (result.outcome === 'timeout' || (result.outcome === 'error' && result.code === 'EPERM')) {
      add({ kind: 'dropped' });
    } else {
      errors.push(`connection error ${result.code}`);
    }
  }
  return { src: run.src, total: run.results.length, fates, errors };
}

export function describeObservation(observation: Observation): string {
  const parts = [...observation.fates.values()].map(({ fate, count }) =>
    fate.kind === 'pod' ? `${podName(fate.ip)}${fate.masquerade ? ' (masqueraded)' : ''} ×${count}` : `${fate.kind} ×${count}`,
  );
  return `${parts.concat(observation.errors).join(', ') || 'nothing'} of ${observation.total} from ${observation.src}`;
}

/**
 * The smallest share that N connections are practically sure to hit at least once: (1 - share)^N < 1e-4.
 * Thirty connections give 0.27, so every endpoint of a three-way split must show up.
 */
export function sureShare(count: number): number {
  return 1 - Math.pow(1e-4, 1 / count);
}

/** Checks the kernel against kube-proxy's intent; an empty list means the harness and ruleset behave as designed. */
export function checkIntent(row: ProbeRow, observation: Observation): string[] {
  const problems = observation.errors.map((error) => `${row.name}: ${error}`);
  const intent = row.intent;
  if (intent === 'refused' || intent === 'dropped') {
    const met = observation.fates.get(intent)?.count ?? 0;
    if (met !== observation.total) problems.push(`${row.name}: expected every connection ${intent}, kernel: ${describeObservation(observation)}`);
    return problems;
  }
  const expected = new Map<string, boolean>();
  for (const [name, { masquerade }] of Object.entries(intent.pods)) expected.set(podIp(name) ?? name, masquerade);
  for (const { fate, count } of observation.fates.values()) {
    if (fate.kind !== 'pod') problems.push(`${row.name}: ${fate.kind} ×${count}, expected only answers`);
    else if (!expected.has(fate.ip)) problems.push(`${row.name}: ${podName(fate.ip)} answered but is not an intended endpoint`);
    else if (expected.get(fate.ip) !== fate.masquerade) {
      problems.push(`${row.name}: ${podName(fate.ip)} saw ${fate.masquerade ? 'a rewritten' : 'the original'} source, intended the opposite`);
    }
  }
  if (row.sticky) {
    if (observation.fates.size > 1) problems.push(`${row.name}: session affinity should keep one endpoint, kernel: ${describeObservation(observation)}`);
    return problems;
  }
  const share = 1 / expected.size;
  if (share >= sureShare(row.count)) {
    for (const [ip, masquerade] of expected) {
      if (!observation.fates.has(fateKey({ kind: 'pod', ip, masquerade }))) problems.push(`${row.name}: ${podName(ip)} never answered in ${observation.total} connections`);
    }
  }
  return problems;
}

/** The fate of a trace outcome in the kernel's terms, or why it has none. */
function predictedFate(outcome: TraceOutcome): Fate | string {
  if (outcome.verdict === 'REJECT') return { kind: 'refused' };
  if (outcome.verdict === 'DROP') return { kind: 'dropped' };
  // Accepted for this node with nothing listening on the node: the local stack answers with a reset.
  if (outcome.delivery === 'local') return { kind: 'refused' };
  if (outcome.dnat) return { kind: 'pod', ip: outcome.dnat.ip, masquerade: outcome.masquerade };
  return 'forwarded without DNAT (no pod would answer)';
}

export function describeTrace(trace: TraceResult): string {
  const lines = [`hook ${trace.hook}, service ${trace.service ?? 'none'}`];
  for (const outcome of trace.outcomes) {
    const by = outcome.decidedBy ? `${outcome.decidedBy.table} ${outcome.decidedBy.chain} line ${outcome.decidedBy.line}: ${outcome.decidedBy.rule}` : 'policy';
    const dnat = outcome.dnat ? ` dnat ${outcome.dnat.ip}:${outcome.dnat.port}` : '';
    lines.push(`  ${(outcome.probability * 100).toFixed(1)}% ${outcome.verdict} ${outcome.delivery}${dnat}${outcome.masquerade ? ' masquerade' : ''} (decided by ${by})`);
  }
  for (const warning of trace.warnings) lines.push(`  warning: ${warning}`);
  return lines.join('\n');
}

/**
 * Checks the kernel against the trace: every fate the kernel showed must be predicted with a share above
 * zero, every predicted fate with a share the probe is sure to hit must have been seen (unless session
 * affinity makes later connections follow the first), answers must come from the predicted endpoint port,
 * and the entry hook must match the probe's origin.
 */
export function checkTrace(row: ProbeRow, observation: Observation, trace: TraceResult): string[] {
  const problems: string[] = [];
  const expectedHook = row.from === 'node' ? 'OUTPUT' : 'PREROUTING';
  if (trace.hook !== expectedHook) problems.push(`${row.name}: trace enters at ${trace.hook}, the kernel at ${expectedHook}`);
  const predicted = new Map<string, { fate: Fate; share: number }>();
  for (const outcome of trace.outcomes) {
    const fate = predictedFate(outcome);
    if (typeof fate === 'string') {
      problems.push(`${row.name}: trace predicts ${(outcome.probability * 100).toFixed(1)}% ${fate}`);
      continue;
    }
    if (fate.kind === 'pod' && outcome.dnat && outcome.dnat.port !== podPort) {
      problems.push(`${row.name}: trace DNATs to port ${outcome.dnat.port}, the pods listen on ${podPort}`);
    }
    const key = fateKey(fate);
    const entry = predicted.get(key) ?? { fate, share: 0 };
    entry.share += outcome.probability;
    predicted.set(key, entry);
  }
  for (const [key, { fate, count }] of observation.fates) {
    if ((predicted.get(key)?.share ?? 0) <= 0) {
      const what = fate.kind === 'pod' ? `${podName(fate.ip)} answered${fate.masquerade ? ' with the source masqueraded' : ' with the original source'}` : `${fate.kind}`;
      problems.push(`${row.name}: kernel ${what} ×${count}, trace does not predict it`);
    }
  }
  // With session affinity only the first connection is a fresh choice (the one the trace describes); the
  // others follow it, so a likely fate that was never seen says nothing.
  const sure = row.sticky ? Infinity : sureShare(row.count);
  for (const [key, { fate, share }] of predicted) {
    if (share >= sure && !observation.fates.has(key)) {
      const what = fate.kind === 'pod' ? `${podName(fate.ip)}${fate.masquerade ? ' masqueraded' : ' not masqueraded'}` : fate.kind;
      problems.push(`${row.name}: trace predicts ${(share * 100).toFixed(1)}% ${what}, kernel never did it in ${observation.total} connections`);
    }
  }
  return problems;
}

export interface TraceRun {
  trace?: TraceResult;
  problem?: string;
}

/** Runs `node dist/cli.js trace <dir> --dst … --dport … --proto … --src … --json` and parses its one JSON object. */
export function runTrace(snapshotDir: string, row: ProbeRow, src: string): Promise<TraceRun> {
  if (!existsSync(cliPath)) return Promise.resolve({ problem: `${cliPath} does not exist: run npm run build first` });
  const { dst, dport } = row;
  const argv = [cliPath, 'trace', snapshotDir, '--dst', dst, '--dport', String(dport), '--proto', row.proto ?? 'tcp', '--src', src, '--json'];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        resolve({ problem: `netpath trace --dst ${dst} --dport ${dport} --src ${src} exited ${code}: ${stderr.trim()}` });
        return;
      }
      try {
        resolve({ trace: JSON.parse(stdout) as TraceResult });
      } catch {
        resolve({ problem: `netpath trace printed no JSON: ${stdout.slice(0, 300)}` });
      }
    });
  });
}
