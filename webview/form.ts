/**
 * The packet form: a Service dropdown that fills in its ClusterIP packet, the five packet fields, the
 * protocol dropdown and the Trace / Copy as Markdown buttons, all toolkit components.
 */

import type { WirePacket as Packet } from '../src/protocol/traceData';
import type { TraceView } from '../src/protocol/traceMessages';
import { el } from './dom';

export interface FormActions {
  trace(packet: Packet): void;
  copy(): void;
}

function field(id: string, label: string, value: string): HTMLElement {
  const input = el('vscode-text-field', { id, value, size: '18' }, label);
  (input as unknown as { value: string }).value = value;
  return input;
}

function valueOf(root: HTMLElement, id: string): string {
  const element = root.querySelector(`#${id}`) as unknown as { value?: string } | null;
  return (element?.value ?? '').trim();
}

export function renderForm(view: TraceView, actions: FormActions): HTMLElement {
  const form = el('section', { class: 'form', 'aria-label': 'Packet' });
  if (view.services.length > 0) {
    const dropdown = el('vscode-dropdown', { id: 'service', position: 'below' });
    dropdown.append(el('vscode-option', { value: '' }, 'Pick a Service…'));
    view.services.forEach((choice, index) => dropdown.append(el('vscode-option', { value: String(index) }, choice.label)));
    dropdown.addEventListener('change', () => {
      const choice = view.services[Number((dropdown as unknown as { value: string }).value)];
      if (!choice) return;
      setPacket(form, choice.packet);
    });
    form.append(el('div', { class: 'field' }, el('label', { for: 'service' }, 'Service'), dropdown));
  }
  const proto = el('vscode-dropdown', { id: 'proto' });
  for (const name of ['tcp', 'udp', 'sctp']) {
    const option = el('vscode-option', { value: name }, name);
    if (name === view.packet.proto) option.setAttribute('selected', '');
    proto.append(option);
  }
  const trace = el('vscode-button', { id: 'trace', appearance: 'primary' }, 'Trace');
  const copy = el('vscode-button', { id: 'copy', appearance: 'secondary' }, 'Copy as Markdown');
  form.append(
    el(
      'div',
      { class: 'fields' },
      field('src', 'Source', view.packet.src),
      field('sport', 'Source port', String(view.packet.sport)),
      field('dst', 'Destination', view.packet.dst),
      field('dport', 'Destination port', String(view.packet.dport)),
      el('div', { class: 'field' }, el('label', { for: 'proto' }, 'Protocol'), proto),
    ),
    el('div', { class: 'buttons' }, trace, copy),
  );
  trace.addEventListener('click', () => {
    actions.trace({
      src: valueOf(form, 'src'),
      sport: Number(valueOf(form, 'sport')),
      dst: valueOf(form, 'dst'),
      dport: Number(valueOf(form, 'dport')),
      proto: (valueOf(form, 'proto') || 'tcp') as Packet['proto'],
    });
  });
  copy.addEventListener('click', () => actions.copy());
  return form;
}

function setPacket(form: HTMLElement, packet: Packet): void {
  const set = (id: string, value: string) => {
    const element = form.querySelector(`#${id}`) as unknown as { value: string } | null;
    if (element) element.value = value;
  };
  set('src', packet.src);
  set('sport', String(packet.sport));
  set('dst', packet.dst);
  set('dport', String(packet.dport));
  set('proto', packet.proto);
}
