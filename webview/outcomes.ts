/**
 * The outcome table: one row per fate of the packet (share, endpoint, verdict, delivery, masquerade, the rule
 * that decided it). Clicking a row selects the outcome whose path the diagram and the steps show.
 */

import type { WireOutcome as TraceOutcome, WireTraceResult as TraceResult } from '../src/protocol/traceData';
import { el, percent } from './dom';

export interface OutcomeActions {
  select(index: number): void;
  openRule(table: string, line: number, file?: string): void;
}

export function ruleLink(table: string, chain: string, line: number, actions: Pick<OutcomeActions, 'openRule'>, file?: string): HTMLElement {
  const link = el('a', { href: '#', class: 'rule-link', title: `Open ${file ?? table} ${chain} at line ${line}` }, `${chain}:${line}`);
  link.addEventListener('click', (event) => {
    event.preventDefault();
    event.stopPropagation();
    actions.openRule(table, line, file);
  });
  return link;
}

function endpointText(outcome: TraceOutcome): string {
  return outcome.dnat ? `${outcome.dnat.ip}:${outcome.dnat.port}` : '—';
}

export function renderOutcomes(result: TraceResult, selected: number, actions: OutcomeActions): HTMLElement {
  const head = el('tr', {}, ...['Share', 'Endpoint', 'Verdict', 'Delivery', 'Masquerade', 'Decided by'].map((name) => el('th', { scope: 'col' }, name)));
  const body = el('tbody');
  result.outcomes.forEach((outcome, index) => {
    const decided = outcome.decidedBy && outcome.decidedBy.line > 0 ? ruleLink(outcome.decidedBy.table, outcome.decidedBy.chain, outcome.decidedBy.line, actions) : 'chain policy';
    const row = el(
      'tr',
      { class: `outcome verdict-${outcome.verdict.toLowerCase()}${index === selected ? ' selected' : ''}`, tabindex: '0', 'aria-selected': String(index === selected) },
      el('td', { class: 'share' }, percent(outcome.probability)),
      el('td', { class: 'endpoint' }, endpointText(outcome)),
      el('td', { class: 'verdict' }, outcome.verdict),
      el('td', {}, outcome.delivery),
      el('td', {}, outcome.masquerade ? 'yes' : 'no'),
      el('td', {}, decided),
    );
    row.addEventListener('click', () => actions.select(index));
    row.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') actions.select(index);
    });
    body.append(row);
  });
  return el('table', { class: 'outcomes', id: 'outcomes' }, el('thead', {}, head), body);
}
