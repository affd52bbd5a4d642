/**
 * The trace panel host: one webview panel showing traces of one snapshot at a time. It serves the fixed HTML
 * shell, answers the webview's requests through panelMessages.ts, and runs the tracer. The webview's own code
 * is in webview/; the message types are in src/protocol/traceMessages.ts.
 */

import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { traceToMarkdown } from '../../core/explain/traceMarkdown';
import type { Packet, TraceResult } from '../../core/trace/result';
import { tracePacket } from '../../core/trace/tracePacket';
import type { HostToWebview, TraceView } from '../../protocol/traceMessages';
import type { LoadedSnapshot } from '../snapshots/snapshotStore';
import { panelHtml } from './panelHtml';
import { handleWebviewMessage } from './panelMessages';
import { fileOfTable, serviceChoices, traceSettingOf } from './traceSetting';

export interface PanelDeps {
  extensionUri: vscode.Uri;
  outsideClient(): string;
  log(message: string): void;
}

export class TracePanel implements vscode.Disposable {
  static #current: TracePanel | undefined;
  readonly #disposables: vscode.Disposable[] = [];
  #view: TraceView;

  /** Shows the panel (creating it when needed) for a snapshot and traces `packet` at once. */
  static show(deps: PanelDeps, snapshot: LoadedSnapshot, packet: Packet): TracePanel {
    const existing = TracePanel.#current;
    if (existing) {
      existing.#snapshot = snapshot;
      existing.#view = existing.traceView(packet);
      existing.panel.reveal(vscode.ViewColumn.Active);
      void existing.post({ type: 'show', view: existing.#view });
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
    this.#view = this.traceView(packet);
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
            trace: (next) => {
              this.#view = this.traceView(next);
              return this.#view;
            },
            openRule: async ({ table, line, file: stepFile }) => {
              // Open Rule itself refuses anything but a snapshot rule file, so a file name from the page is safe here.
              const file = stepFile ?? fileOfTable(this.#snapshot.analysis?.mode ?? 'none', table);
              await vscode.commands.executeCommand('kubeNetpath.openRule', { snapshotId: this.#snapshot.id, file, line });
              return true;
            },
            copyMarkdown: async () => this.copyMarkdown(),
          },
          () => ({ type: 'show', view: this.#view }),
        );
        if (reply) await this.post(reply);
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  get result(): TraceResult | null {
    return this.#view.result;
  }

  /** Copies the current trace as Markdown; false when there is no trace yet. */
  async copyMarkdown(): Promise<boolean> {
    if (!this.#view.result) throw new Error('There is no trace to copy yet.');
    await vscode.env.clipboard.writeText(traceToMarkdown(this.#view.result, this.#snapshot.name));
    return true;
  }

  private traceView(packet: Packet): TraceView {
    const analysis = this.#snapshot.analysis;
    const base = { snapshotName: this.#snapshot.name, packet };
    if (!analysis) return { ...base, services: [], result: null, error: this.#snapshot.error ?? 'The snapshot could not be read.' };
    const services = serviceChoices(analysis, traceSettingOf(analysis, this.deps.outsideClient()));
    try {
      return { ...base, services, result: tracePacket(analysis, packet), error: null };
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
