/**
 * Renders a TraceResult as Markdown for "Copy Trace as Markdown" (and any CLI output that wants it): the
 * packet, one row per outcome with share, verdict, destination and masquerade, then each outcome's steps.
 * Rule text from the node is escaped; rules go into code spans that cannot be broken out of.
 */

import type { TraceResult } from '../trace/result';
import { escapeMarkdown, formatShare, inlineCode } from './markdown';

function cell(text: string): string {
  return escapeMarkdown(text).replace(/\n/g, ' ');
}

export function traceToMarkdown(result: TraceResult, snapshotName?: string): string {
  const { packet } = result;
  const lines: string[] = [];
  lines.push(`## Trace: ${escapeMarkdown(`${packet.src}:${packet.sport} → ${packet.dst}:${packet.dport}/${packet.proto}`)}`);
  lines.push('');
  const facts = [`mode ${result.mode}`, `enters at ${result.hook}`];
  if (result.service) facts.push(`Service ${result.service}`);
  if (snapshotName) facts.push(`snapshot ${snapshotName}`);
  lines.push(escapeMarkdown(facts.join(', ')));
  lines.push('');
  lines.push('| share | verdict | delivery | destination after NAT | masquerade | decided by |');
  lines.push('|---|---|---|---|---|---|');
  for (const outcome of result.outcomes) {
    const dnat = outcome.dnat ? `${outcome.dnat.ip}:${outcome.dnat.port}` : 'unchanged';
    const decided = outcome.decidedBy ? `${outcome.decidedBy.table} ${outcome.decidedBy.chain} line ${outcome.decidedBy.line}` : 'chain policy';
    lines.push(`| ${formatShare(outcome.probability)} | ${outcome.verdict} | ${outcome.delivery} | ${cell(dnat)} | ${outcome.masquerade ? 'yes' : 'no'} | ${cell(decided)} |`);
  }
  result.outcomes.forEach((outcome, index) => {
    lines.push('');
    lines.push(`### Outcome ${index + 1}: ${formatShare(outcome.probability)} ${outcome.verdict}${outcome.dnat ? ` → ${escapeMarkdown(`${outcome.dnat.ip}:${outcome.dnat.port}`)}` : ''}`);
    lines.push('');
    outcome.steps.forEach((step, stepIndex) => {
      lines.push(`${stepIndex + 1}. **${step.hook}** ${escapeMarkdown(`${step.table}/${step.chain}`)} line ${step.line}: ${escapeMarkdown(step.explanation)}`);
      if (step.rule) lines.push(`   ${inlineCode(step.rule)}`);
    });
  });
  if (result.assumptions.length > 0) {
    lines.push('', 'Assumptions:', ...result.assumptions.map((assumption) => `- ${escapeMarkdown(assumption)}`));
  }
  if (result.warnings.length > 0) {
    lines.push('', 'Warnings:', ...result.warnings.map((warning) => `- ${escapeMarkdown(warning)}`));
  }
  return `${lines.join('\n')}\n`;
}
