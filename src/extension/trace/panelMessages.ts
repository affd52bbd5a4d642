/**
 * The host side of the trace panel protocol without vscode: checks that a message from the webview has the
 * shape src/protocol/traceMessages.ts declares, runs the matching handler, and builds the reply. The panel
 * (tracePanel.ts) posts what this returns. Messages come from a web page, so nothing is trusted.
 */

import type { Packet, Protocol } from '../../core/trace/result';
import type { HostToWebview, TraceReply, TraceRequests, WebviewToHost } from '../../protocol/traceMessages';

export type TraceHandlers = {
  [M in keyof TraceRequests]: (params: TraceRequests[M]['params']) => Promise<TraceRequests[M]['result']> | TraceRequests[M]['result'];
};

const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'sctp'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 65535;
}

function isAddress(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 64 && /^[0-9a-fA-F.:]+$/.test(value);
}

/** A packet the tracer can take, or a sentence saying which field is wrong. */
export function checkPacket(value: unknown): Packet | string {
  if (!isRecord(value)) return 'The packet is missing.';
  if (!isAddress(value.src)) return 'The source address is not an IP address.';
  if (!isAddress(value.dst)) return 'The destination address is not an IP address.';
  if (typeof value.proto !== 'string' || !PROTOCOLS.includes(value.proto as Protocol)) return 'The protocol must be tcp, udp or sctp.';
  if (!isPort(value.sport)) return 'The source port must be a number from 0 to 65535.';
  if (!isPort(value.dport)) return 'The destination port must be a number from 0 to 65535.';
  return { src: value.src, dst: value.dst, proto: value.proto as Protocol, sport: value.sport, dport: value.dport };
}

/** Narrows an incoming message to the protocol, or returns undefined for anything else. */
export function parseWebviewMessage(message: unknown): WebviewToHost | undefined {
  if (!isRecord(message)) return undefined;
  if (message.type === 'ready') return { type: 'ready' };
  if (message.type !== 'request' || typeof message.id !== 'number' || !Number.isInteger(message.id)) return undefined;
  switch (message.method) {
    case 'trace':
      return { type: 'request', id: message.id, method: 'trace', params: message.params as Packet };
    case 'openRule': {
      const params = message.params;
      if (!isRecord(params) || typeof params.table !== 'string' || !Number.isInteger(params.line) || (params.line as number) < 1) return undefined;
      if (params.file !== undefined && typeof params.file !== 'string') return undefined;
      const file = typeof params.file === 'string' ? { file: params.file } : {};
      return { type: 'request', id: message.id, method: 'openRule', params: { table: params.table, line: params.line as number, ...file } };
    }
    case 'copyMarkdown':
      return { type: 'request', id: message.id, method: 'copyMarkdown', params: {} };
    default:
      return undefined;
  }
}

/**
 * Handles one message: `ready` gives the current view, a request runs its handler and gives the reply.
 * A handler's failure becomes `{ id, error }` with its message; an unknown message gives nothing.
 */
export async function handleWebviewMessage(
  message: unknown,
  handlers: TraceHandlers,
  currentView: () => HostToWebview | undefined,
): Promise<HostToWebview | undefined> {
  const parsed = parseWebviewMessage(message);
  if (!parsed) return undefined;
  if (parsed.type === 'ready') return currentView();
  try {
    switch (parsed.method) {
      case 'trace': {
        const packet = checkPacket(parsed.params);
        if (typeof packet === 'string') return { type: 'reply', id: parsed.id, error: packet };
        return { type: 'reply', id: parsed.id, result: await handlers.trace(packet) } satisfies TraceReply;
      }
      case 'openRule':
        return { type: 'reply', id: parsed.id, result: await handlers.openRule(parsed.params) };
      case 'copyMarkdown':
        return { type: 'reply', id: parsed.id, result: await handlers.copyMarkdown(parsed.params) };
    }
  } catch (error) {
    return { type: 'reply', id: parsed.id, error: error instanceof Error ? error.message : String(error) };
  }
}
