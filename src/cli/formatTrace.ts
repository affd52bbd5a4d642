/**
 * The readable form of a trace for a terminal: the packet, one line per outcome with its share, then each
 * outcome's path as indented steps naming hook, table, chain and line, with the rule and a plain sentence.
 */

import { formatShare } from '../core/trace/explainRule';
import type { TraceOutcome, TraceResult } from '../core/trace/result';
import { safeText } from './terminalText';

function describeFate(outcome: TraceOutcome): string {
  const where = outcome.dnat ? `→ ${outcome.dnat.ip}:${outcome.dnat.port}` : '(destination unchanged)';
  const delivery = outcome.verdict === 'ACCEPT' ? (outcome.delivery === 'local' ? 'delivered to this node' : 'forwarded') : '';
  const masquerade = outcome.verdict === 'ACCEPT' ? (outcome.masquerade ? 'masqueraded' : 'source kept') : '';
  return [outcome.verdict, where, delivery, masquerade].filter(Boolean).join('  ');
}

function masqueradeReason(outcome: TraceOutcome): string {
  if (outcome.verdict !== 'ACCEPT') return '';
  const rule = [...outcome.steps].reverse().find((step) => /MASQUERADE|SNAT/.test(step.rule) && step.hook === 'POSTROUTING');
  if (outcome.masquerade && rule) return `Masqueraded by ${rule.table} ${rule.chain} line ${rule.line}.`;
  const mark = outcome.steps.find((step) => step.chain === 'KUBE-MARK-MASQ' || /KUBE-MARK-MASQ/.test(step.rule));
  if (outcome.masquerade && mark) return `Masqueraded: marked by ${mark.table} ${mark.chain} line ${mark.line}.`;
  if (outcome.masquerade) return 'Masqueraded.';
  return 'Not masqueraded: no rule marked the packet with 0x4000 or rewrote its source, so the endpoint sees the client\'s address.';
}

export function formatTrace(result: TraceResult): string {
  const { packet } = result;
  const lines: string[] = [];
  lines.push(`Packet   ${packet.proto} ${packet.src}:${packet.sport} → ${packet.dst}:${packet.dport}, enters at ${result.hook}`);
  lines.push(`Service  ${result.service ? safeText(result.service) : '(none matched)'}`);
  lines.push(`Mode     ${result.mode}`);
  lines.push('');
  lines.push('Outcomes');
  result.outcomes.forEach((outcome, index) => {
    lines.push(`  ${String(index + 1).padStart(2)}. ${formatShare(outcome.probability).padStart(6)}  ${describeFate(outcome)}`);
  });
  result.outcomes.forEach((outcome, index) => {
    lines.push('');
    lines.push(`Outcome ${index + 1}: ${formatShare(outcome.probability)} ${describeFate(outcome)}`);
    for (const step of outcome.steps) {
      const where = step.table === 'routing' || step.table === 'ipvs' ? `${step.table}` : `${step.table} ${step.chain}`;
      const file = step.file ? `${step.file} ` : '';
      const place = step.line > 0 ? `  (${file}line ${step.line})` : '';
      lines.push(`  ${step.hook.padEnd(11)} ${safeText(where)}${place}`);
      if (step.rule) lines.push(`      ${safeText(step.rule)}`);
      lines.push(`      ${safeText(step.explanation)}`);
    }
    const decided = outcome.decidedBy
      ? `Verdict ${outcome.verdict} from ${outcome.decidedBy.table} ${safeText(outcome.decidedBy.chain)} line ${outcome.decidedBy.line}.`
      : `Verdict ${outcome.verdict} by chain policy (no rule decided).`;
    lines.push(`  ${decided} ${masqueradeReason(outcome)}`.trimEnd());
  });
  if (result.assumptions.length > 0) {
    lines.push('');
    lines.push('Assumptions');
    for (const assumption of result.assumptions) lines.push(`  - ${safeText(assumption)}`);
  }
  if (result.warnings.length > 0) {
    lines.push('');
    lines.push('Warnings');
    for (const warning of result.warnings) lines.push(`  ! ${safeText(warning)}`);
  }
  return `${lines.join('\n')}\n`;
}
