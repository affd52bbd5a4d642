/**
 * What every parse and trace result must satisfy, whatever the input: diagnostics that name a known file and a
 * line inside it with a short message, and trace results that keep the `netpath trace --json` contract
 * (outcomes whose shares sum to 1, steps citing lines that exist). Each check returns the broken promises as
 * sentences, so a failing fuzz run says what was wrong rather than only that something was.
 */

import type { Diagnostic } from '../../src/core/diagnostics';
import type { TraceResult } from '../../src/core/trace/result';

/** A diagnostic's message echoes input at most this long: a 10 MB line must not come back inside a message. */
export const MAX_MESSAGE_CHARS = 2000;

/**
 * Real kube-proxy paths take a few dozen steps; an outcome with more than this many means the walk went round a
 * loop, and the trace (and its JSON) grows without bound for a tiny input.
 */
export const MAX_STEPS_PER_OUTCOME = 10_000;

const SEVERITIES = new Set(['error', 'warning', 'info']);
const VERDICTS = new Set(['ACCEPT', 'DROP', 'REJECT']);
const HOOKS = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

/** Number of lines a text has as an editor counts them (a final newline opens no extra line). */
export function lineCount(text: string): number {
  if (text.length === 0) return 0;
  let count = 1;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return text.endsWith('\n') ? count - 1 : count;
}

/** `files` maps each file name the diagnostics may cite to its text. */
export function checkDiagnostics(diagnostics: unknown, files: Record<string, string>): string[] {
  if (!Array.isArray(diagnostics)) return ['diagnostics is not an array'];
  const problems: string[] = [];
  const lines = new Map(Object.entries(files).map(([name, text]) => [name, lineCount(text)]));
  for (const [index, diagnostic] of (diagnostics as Diagnostic[]).entries()) {
    if (problems.length >= 5) break;
    const where = `diagnostic ${index}`;
    if (!lines.has(diagnostic.file)) problems.push(`${where} names file ${JSON.stringify(diagnostic.file)}, which is not an input`);
    const last = lines.get(diagnostic.file) ?? 0;
    if (!Number.isInteger(diagnostic.line) || diagnostic.line < 0 || diagnostic.line > last) {
      problems.push(`${where} cites line ${diagnostic.line} of ${diagnostic.file}, which has ${last} lines`);
    }
    if (!SEVERITIES.has(diagnostic.severity)) problems.push(`${where} has severity ${JSON.stringify(diagnostic.severity)}`);
    if (typeof diagnostic.message !== 'string' || diagnostic.message.trim() === '') problems.push(`${where} has no message`);
    else if (diagnostic.message.length > MAX_MESSAGE_CHARS) problems.push(`${where} has a ${diagnostic.message.length}-character message`);
  }
  return problems;
}

/** `files` are the snapshot's texts; a step without `file` cites the mode's rule file. */
export function checkTrace(result: TraceResult, files: Record<string, string>): string[] {
  const problems: string[] = [];
  const ruleFile = result.mode === 'nftables' ? 'nft.txt' : 'iptables-save.txt';
  const lines = (name: string) => (files[name] === undefined ? 0 : lineCount(files[name]));
  if (!['iptables', 'ipvs', 'nftables'].includes(result.mode)) problems.push(`mode is ${JSON.stringify(result.mode)}`);
  if (result.hook !== 'PREROUTING' && result.hook !== 'OUTPUT') problems.push(`hook is ${JSON.stringify(result.hook)}`);
  if (!Array.isArray(result.outcomes) || result.outcomes.length === 0) return [...problems, 'the trace has no outcome'];
  const total = result.outcomes.reduce((sum, outcome) => sum + outcome.probability, 0);
  if (!(Math.abs(total - 1) < 1e-6)) problems.push(`outcome probabilities sum to ${total}, not 1`);
  for (const [index, outcome] of result.outcomes.entries()) {
    const where = `outcome ${index}`;
    if (!(outcome.probability >= 0 && outcome.probability <= 1)) problems.push(`${where} has probability ${outcome.probability}`);
    if (!VERDICTS.has(outcome.verdict)) problems.push(`${where} has verdict ${JSON.stringify(outcome.verdict)}`);
    if (outcome.delivery !== 'forward' && outcome.delivery !== 'local') problems.push(`${where} has delivery ${JSON.stringify(outcome.delivery)}`);
    if (typeof outcome.masquerade !== 'boolean') problems.push(`${where} has masquerade ${JSON.stringify(outcome.masquerade)}`);
    if (outcome.steps.length > MAX_STEPS_PER_OUTCOME) {
      problems.push(`${where} has ${outcome.steps.length} steps, more than ${MAX_STEPS_PER_OUTCOME}: the walk went round a loop`);
      continue;
    }
    const cited = [...outcome.steps.map((step) => ({ ...step, what: 'a step' }))];
    if (outcome.decidedBy) {
      // decidedBy carries no file: it is the file of the step that cites the same rule (ipvsadm.txt for IPVS).
      const { table, chain, line } = outcome.decidedBy;
      const file = outcome.steps.find((step) => step.table === table && step.chain === chain && step.line === line)?.file;
      cited.push({ ...outcome.decidedBy, file, hook: 'INPUT', explanation: '', what: 'decidedBy' });
    }
    for (const step of cited) {
      const file = ('file' in step && typeof step.file === 'string' ? step.file : undefined) ?? ruleFile;
      if (!Number.isInteger(step.line) || step.line < 0 || step.line > lines(file)) {
        problems.push(`${where}: ${step.what} cites line ${step.line} of ${file}, which has ${lines(file)} lines`);
      }
      if (!HOOKS.has(step.hook)) problems.push(`${where}: ${step.what} has hook ${JSON.stringify(step.hook)}`);
      if (typeof step.rule !== 'string' || typeof step.explanation !== 'string') problems.push(`${where}: ${step.what} lacks rule text or explanation`);
    }
  }
  if (!result.warnings.every((warning) => typeof warning === 'string')) problems.push('a warning is not a string');
  try {
    JSON.stringify(result);
  } catch (error) {
    problems.push(`the result cannot be printed as JSON: ${(error as Error).message}`);
  }
  return problems.slice(0, 8);
}
