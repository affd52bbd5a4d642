/**
 * The trace panel host: one webview panel showing traces of one snapshot at a time. It serves the fixed HTML
 * shell, answers the webview's requests through panelMessages.ts, and has the analysis worker run the tracer.
 * The webview's own code is in webview/; the message types are in src/protocol/traceMessages.ts.
 */

import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { traceToMarkdown } from '../../core/explain/traceMarkdown';
import type { Packet, TraceResult } from '../../core/trace/result';
import type { HostToWebview, ServiceChoice, TraceView } from '../../protocol/traceMessages';
import type { LoadedSnapshot } from '../snapshots/snapshotStore';
import { panelHtml } from './panelHtml';
import { handleWebviewMessage } from './panelMessages';
import { fileOfTable } from './traceSetting';

export interface PanelDeps {
  extensionUri: vscode.Uri;
  outsideClient(): string;
  log(message: string): void;
  /** The analysis worker's tracer and the Service dropdown's choices, for a snapshot folder. */
  trace(folder: string, packet: Packet): Promise<TraceResult>;
  serviceChoices(folder: string, outsideClient: string): Promise<ServiceChoice[]>;
}

export class TracePanel implements vscode.Disposable {
  static #current: TracePanel | undefined;
  readonly #disposables: vscode.Disposable[] = [];
  /** The last view computed; undefined until the first trace is done. */
  #view: TraceView | undefined;
  /** The webview said `ready`, so a `show` posted now is received. */
  #ready = false;

  /** Shows the panel (creating it when needed) for a snapshot and traces `packet`; the view follows when traced. */
  static show(deps: PanelDeps, snapshot: LoadedSnapshot, packet: Packet): TracePanel {
    const existing = TracePanel.#current;
    if (existing) {
      existing.#snapshot = snapshot;
      existing.panel.reveal(vscode.ViewColumn.Active);
      void existing.showTrace(packet);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel('kubeNetpath.trace', 'Kube Netpath Trace', vscode.ViewColumn.Active, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [vscode.Uri.joinPath(deps.extensionUri, 'dist'), vscode.Uri.joinPath(deps.extensionUri, 'media')],
    });
    TracePanel.#current = new TracePanel(panel, deps, snapshot, packet);
    return TracePanel.#current;
  }

  /** The panel on screen, if any (for Copy Trace as Markdown from the palette). */
  static get current(): TracePanel | undefined {
    return TracePanel.#current;
  }

  #snapshot: LoadedSnapshot;

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly deps: PanelDeps,
    snapshot: LoadedSnapshot,
    packet: Packet,
  ) {
    this.#snapshot = snapshot;
    void this.showTrace(packet);
    panel.iconPath = vscode.Uri.joinPath(deps.extensionUri, 'media', 'netpath.svg');
    const webview = panel.webview;
    webview.html = panelHtml({
      cspSource: webview.cspSource,
      nonce: randomBytes(18).toString('base64'),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(deps.extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(deps.extensionUri, 'media', 'trace.css')).toString(),
    });
    this.#disposables.push(
      webview.onDidReceiveMessage(async (message: unknown) => {
        const reply = await handleWebviewMessage(
          message,
          {
            trace: async (next) => {
              const view = await this.traceView(next);
              this.#view = view;
              return view;
            },
            openRule: async ({ table, line, file: stepFile }) => {
              // Open Rule itself refuses anything but a snapshot rule file, so a file name from the page is safe here.
              const file = stepFile ?? fileOfTable(this.#snapshot.summary?.mode ?? 'none', table);
              await vscode.commands.executeCommand('kubeNetpath.openRule', { snapshotId: this.#snapshot.id, file, line });
              return true;
            },
            copyMarkdown: async () => this.copyMarkdown(),
          },
          () => {
            this.#ready = true;
            return this.#view && { type: 'show', view: this.#view };
          },
        );
        if (reply) await this.post(reply);
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  get result(): TraceResult | null {
    return this.#view?.result ?? null;
  }

  /** Copies the current trace as Markdown; false when there is no trace yet. */
  async copyMarkdown(): Promise<boolean> {
    const result = this.#view?.result;
    if (!result) throw new Error('There is no trace to copy yet.');
    await vscode.env.clipboard.writeText(traceToMarkdown(result, this.#snapshot.name));
    return true;
  }

  /** Traces a packet and shows it, once the webview is ready for it. */
  private async showTrace(packet: Packet): Promise<void> {
    const snapshot = this.#snapshot;
    const view = await this.traceView(packet);
    // A later show for another snapshot wins over a trace that finishes after it.
    if (snapshot !== this.#snapshot) return;
    this.#view = view;
    if (this.#ready) await this.post({ type: 'show', view });
  }

  private async traceView(packet: Packet): Promise<TraceView> {
    const snapshot = this.#snapshot;
    const base = { snapshotName: snapshot.name, packet };
    if (!snapshot.summary) return { ...base, services: [], result: null, error: snapshot.error ?? 'The snapshot could not be read.' };
    let services: ServiceChoice[] = [];
    try {
      services = await this.deps.serviceChoices(snapshot.folder, this.deps.outsideClient());
      return { ...base, services, result: await this.deps.trace(snapshot.folder, packet), error: null };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.deps.log(`Trace of ${packet.src} → ${packet.dst}:${packet.dport}/${packet.proto} failed: ${error instanceof Error ? error.stack ?? message : message}`);
      return { ...base, services, result: null, error: `The trace failed: ${message}` };
    }
  }

  private async post(message: HostToWebview): Promise<void> {
    await this.panel.webview.postMessage(message);
  }

  dispose(): void {
    if (TracePanel.#current === this) TracePanel.#current = undefined;
    for (const disposable of this.#disposables.splice(0)) disposable.dispose();
    this.panel.dispose();
  }
}
