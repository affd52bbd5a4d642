/**
 * The webview side of the trace panel protocol: sends `ready`, turns requests into promises keyed by id, and
 * hands `show` messages to a listener. Message shapes come from src/protocol/traceMessages.ts.
 */

import type { HostToWebview, TraceRequests, TraceView, WebviewToHost } from '../src/protocol/traceMessages';

export interface VsCodeApi {
  postMessage(message: unknown): void;
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

export class PanelClient {
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();

  constructor(
    private readonly api: VsCodeApi,
    private readonly onShow: (view: TraceView) => void,
  ) {}

  /** Announces the webview; the host answers with the view to show. */
  ready(): void {
    this.post({ type: 'ready' });
  }

  request<M extends keyof TraceRequests>(method: M, params: TraceRequests[M]['params']): Promise<TraceRequests[M]['result']> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.post({ type: 'request', id, method, params } as WebviewToHost);
    });
  }

  /** Feeds one message from the host; unknown shapes are ignored. */
  receive(message: unknown): void {
    if (typeof message !== 'object' || message === null) return;
    const data = message as HostToWebview;
    if (data.type === 'show') {
      this.onShow(data.view);
      return;
    }
    if (data.type !== 'reply') return;
    const pending = this.#pending.get(data.id);
    if (!pending) return;
    this.#pending.delete(data.id);
    if ('error' in data) pending.reject(new Error(data.error));
    else pending.resolve(data.result);
  }

  private post(message: WebviewToHost): void {
    this.api.postMessage(message);
  }
}
