/**
 * The trace panel's script: registers the toolkit, says `ready`, and renders each view the host sends
 * (form, outcome table, path diagram, steps). All node text goes into the page through textContent.
 */

import type { TraceView } from '../src/protocol/traceMessages';
import { registerToolkit } from './components/toolkit';
import { renderDiagram, renderSteps } from './diagram';
import { el } from './dom';
import { renderForm } from './form';
import { renderOutcomes } from './outcomes';
import { PanelClient, type VsCodeApi } from './rpc';

declare function acquireVsCodeApi(): VsCodeApi;

registerToolkit();
const app = document.getElementById('app')!;
let current: TraceView | undefined;
let selected = 0;

const client = new PanelClient(acquireVsCodeApi(), (view) => {
  current = view;
  selected = 0;
  render();
});

function showError(message: string): void {
  const status = document.getElementById('status');
  if (status) {
    status.textContent = message;
    status.className = 'status error';
  }
}

function openRule(table: string, line: number, file?: string): void {
  client.request('openRule', file ? { table, line, file } : { table, line }).catch((error: Error) => showError(error.message));
}

function render(): void {
  if (!current) return;
  const view = current;
  const children: HTMLElement[] = [
    el('header', {}, el('h1', {}, 'Trace a packet'), el('span', { class: 'muted' }, view.snapshotName)),
    renderForm(view, {
      trace: (packet) => {
        const status = document.getElementById('status');
        if (status) {
          status.textContent = 'Tracing…';
          status.className = 'status';
        }
        client
          .request('trace', packet)
          .then((next) => {
            current = next;
            selected = 0;
            render();
          })
          .catch((error: Error) => showError(error.message));
      },
      copy: () => {
        client
          .request('copyMarkdown', {})
          .then(() => {
            const status = document.getElementById('status');
            if (status) {
              status.textContent = 'Copied the trace as Markdown.';
              status.className = 'status';
            }
          })
          .catch((error: Error) => showError(error.message));
      },
    }),
    el('div', { id: 'status', class: view.error ? 'status error' : 'status', role: 'status' }, view.error ?? ''),
  ];
  const result = view.result;
  if (result) {
    const packet = result.packet;
    children.push(
      el(
        'p',
        { class: 'summary' },
        `${packet.src}:${packet.sport} → ${packet.dst}:${packet.dport}/${packet.proto} enters at ${result.hook}`,
        result.service ? ` · Service ${result.service}` : ' · no Service matches',
        ` · ${result.mode} mode`,
      ),
      el('h2', {}, 'Outcomes'),
      renderOutcomes(result, selected, {
        select: (index) => {
          selected = index;
          render();
        },
        openRule,
      }),
    );
    const outcome = result.outcomes[selected];
    if (outcome) {
      children.push(el('h2', {}, `Path of outcome ${selected + 1}`), renderDiagram(result, outcome, { openRule }), el('h2', {}, 'Steps'), renderSteps(outcome, { openRule }));
    }
    if (result.assumptions.length > 0) children.push(el('h2', {}, 'Assumptions'), el('ul', { class: 'notes' }, ...result.assumptions.map((text) => el('li', {}, text))));
    if (result.warnings.length > 0) children.push(el('h2', {}, 'Warnings'), el('ul', { class: 'notes warnings' }, ...result.warnings.map((text) => el('li', {}, text))));
  }
  app.replaceChildren(...children);
}

window.addEventListener('message', (event) => client.receive(event.data));
client.ready();
