/**
 * The messages between the extension host and the trace panel webview, declared once for both sides.
 * The webview says `ready`, the host answers with `show`; after that the webview sends requests with an id
 * and the host replies `{ id, result }` or `{ id, error }`. Types only: handling lives in each side's code.
 */

import type { WirePacket as Packet, WireTraceResult as TraceResult } from './traceData';

/** A Service the form's dropdown offers, with the packet that reaches it by ClusterIP. */
export interface ServiceChoice {
  id: string;
  label: string;
  packet: Packet;
}

/** Everything the panel shows: the snapshot, the form's packet, and the last trace (or why there is none). */
export interface TraceView {
  snapshotName: string;
  packet: Packet;
  services: ServiceChoice[];
  result: TraceResult | null;
  error: string | null;
}

/** Request method → its parameters and its result. */
export interface TraceRequests {
  /** Trace a packet in the panel's snapshot. */
  trace: { params: Packet; result: TraceView };
  /** Reveal a rule's line in its snapshot file: the step's `file` when it has one, else by `table` (`ipvs` → ipvsadm.txt, …). */
  openRule: { params: { table: string; line: number; file?: string }; result: boolean };
  /** Copy the current trace to the clipboard as Markdown. */
  copyMarkdown: { params: Record<string, never>; result: boolean };
}

export type TraceMethod = keyof TraceRequests;

export type TraceRequest = {
  [M in TraceMethod]: { type: 'request'; id: number; method: M; params: TraceRequests[M]['params'] };
}[TraceMethod];

export type WebviewToHost = { type: 'ready' } | TraceRequest;

export type TraceReply =
  | { type: 'reply'; id: number; result: TraceRequests[TraceMethod]['result'] }
  | { type: 'reply'; id: number; error: string };

export type HostToWebview = { type: 'show'; view: TraceView } | TraceReply;
