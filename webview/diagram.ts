/**
 * The path diagram: the netfilter hooks in a fixed layout (PREROUTING/OUTPUT → routing → INPUT/FORWARD →
 * POSTROUTING), the hooks the selected outcome passes highlighted, and inside each hook the chains it took,
 * in order. Below it, the exact order of hooks as one line of text.
 */

import type { WireHook as Hook, WireOutcome as TraceOutcome, WireStep as TraceStep, WireTraceResult as TraceResult } from '../src/protocol/traceData';
import { el } from './dom';
import { ruleLink, type OutcomeActions } from './outcomes';

/** The tracer reports the routing decision as a step of table `routing` (line 0); it belongs between hooks. */
function isRouting(step: TraceStep): boolean {
  return step.table === 'routing';
}

/** Hooks in the order the outcome's rule steps first visit them. */
export function hookOrder(outcome: TraceOutcome, entry: Hook): Hook[] {
  const order: Hook[] = [entry];
  for (const step of outcome.steps) if (!isRouting(step) && !order.includes(step.hook)) order.push(step.hook);
  return order;
}

/** A link to the rule's line, or just the chain name for steps that come from no line. */
function stepLabel(step: TraceStep, actions: Pick<OutcomeActions, 'openRule'>): Node {
  return step.line > 0 ? ruleLink(step.table, step.chain, step.line, actions, step.file) : document.createTextNode(step.chain);
}

function hookBox(hook: Hook, outcome: TraceOutcome, visited: Set<Hook>, actions: Pick<OutcomeActions, 'openRule'>): HTMLElement {
  const chains = el('ul', { class: 'chains' });
  const seen = new Set<string>();
  for (const step of outcome.steps) {
    if (step.hook !== hook || isRouting(step)) continue;
    const key = `${step.table}/${step.chain}`;
    if (seen.has(key)) continue;
    seen.add(key);
    chains.append(el('li', { class: 'chain taken' }, el('span', { class: 'table' }, step.table), ' ', stepLabel(step, actions)));
  }
  const decided = outcome.decidedBy && outcome.steps.some((step) => step.hook === hook && step.line === outcome.decidedBy!.line);
  return el(
    'div',
    { class: `hook ${visited.has(hook) ? 'visited' : 'skipped'}${decided ? ` decided verdict-${outcome.verdict.toLowerCase()}` : ''}`, 'data-hook': hook },
    el('div', { class: 'hook-name' }, hook),
    seen.size > 0 ? chains : el('div', { class: 'muted small' }, visited.has(hook) ? 'no rule decided here' : 'not passed'),
  );
}

export function renderDiagram(result: TraceResult, outcome: TraceOutcome, actions: Pick<OutcomeActions, 'openRule'>): HTMLElement {
  const order = hookOrder(outcome, result.hook);
  const visited = new Set<Hook>(order);
  if (outcome.verdict === 'ACCEPT') {
    // Hooks without rules still carry the packet: from outside it is forwarded or delivered; from the node
    // it leaves through POSTROUTING (and comes back in through INPUT when the destination is local).
    if (result.hook === 'PREROUTING') visited.add(outcome.delivery === 'local' ? 'INPUT' : 'FORWARD');
    else if (outcome.delivery === 'local') visited.add('INPUT');
    if (outcome.delivery === 'forward' || result.mode === 'ipvs' || result.hook === 'OUTPUT') visited.add('POSTROUTING');
  }
  const routingSteps = outcome.steps.filter(isRouting);
  const routingText = routingSteps.length > 0 ? routingSteps.map((step) => step.explanation).join(' ') : outcome.delivery === 'local' ? 'local address: delivered to this node' : 'not a local address: sent on';
  const arrow = () => el('div', { class: 'arrow', 'aria-hidden': 'true' }, '→');
  const column = (...hooks: Hook[]) => el('div', { class: 'column' }, ...hooks.map((hook) => hookBox(hook, outcome, visited, actions)));
  const routeLinks = routingSteps.filter((step) => step.line > 0).map((step) => el('div', { class: 'small' }, stepLabel(step, actions)));
  const routing = el('div', { class: 'column' }, el('div', { class: 'hook routing visited' }, el('div', { class: 'hook-name' }, 'routing'), el('div', { class: 'small' }, routingText), ...routeLinks));
  const diagram = el('div', { class: 'diagram', role: 'img', 'aria-label': `Path: ${order.join(' → ')}` }, column('PREROUTING', 'OUTPUT'), arrow(), routing, arrow(), column('INPUT', 'FORWARD'), arrow(), column('POSTROUTING'));
  return el('section', { class: 'path' }, diagram, el('p', { class: 'order' }, `Order: ${[order[0], 'routing', ...order.slice(1)].join(' → ')}`));
}

export function renderSteps(outcome: TraceOutcome, actions: Pick<OutcomeActions, 'openRule'>): HTMLElement {
  const list = el('ol', { class: 'steps' });
  for (const step of outcome.steps) {
    list.append(
      el(
        'li',
        { class: 'step' },
        el('div', { class: 'step-head' }, el('span', { class: 'badge' }, isRouting(step) ? 'routing' : step.hook), ' ', el('span', { class: 'table' }, step.table), ' ', stepLabel(step, actions)),
        el('div', { class: 'explanation' }, step.explanation),
        step.rule ? el('code', { class: 'rule' }, step.rule) : null,
      ),
    );
  }
  return list;
}
