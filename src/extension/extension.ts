/**
 * The composition root: activate() starts the analysis worker's client and builds the snapshot store, the tree,
 * the trace panel's dependencies and the language features, registers every command from the command table, and
 * puts each disposable into context.subscriptions. Nothing else in the extension registers anything.
 */

import { basename, isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import { AnalysisClient } from './analysis/analysisClient';
import { COMMANDS, guarded, type CommandDeps } from './commands';
import { registerLanguageFeatures } from './language/languageFeatures';
import { SnapshotStore, type SnapshotBackend } from './snapshots/snapshotStore';
import { DEFAULT_OUTSIDE_CLIENT } from './trace/traceSetting';
import { ServiceTreeProvider } from './tree/serviceTreeProvider';
import { untrustedOverrides } from './workspaceTrust';

/** The analysis worker's bundled code, put here by scripts/build.mjs (see src/extension/analysis/). */
declare const KUBE_NETPATH_ANALYSIS_WORKER: string;

const OPENED_FOLDERS = 'kubeNetpath.openedFolders';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Kube Netpath');
  const log = (message: string) => output.appendLine(`[${new Date().toISOString()}] ${message}`);
  // Snapshots are read, parsed and indexed in a worker thread, so the extension host stays responsive.
  const analysis = new AnalysisClient({ code: KUBE_NETPATH_ANALYSIS_WORKER });
  // Started now, so opening a snapshot does not also wait for a thread to boot.
  analysis.start();
  const backend: SnapshotBackend = {
    open: async (folder) =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Kube Netpath: analysing ${basename(folder)}` }, () =>
        analysis.call('open', folder),
      ),
    preview: (folder) => analysis.call('preview', folder),
    details: (folder, indexes) => analysis.call('details', folder, indexes),
    match: (folder, filter) => analysis.call('match', folder, filter),
    forget: (folder) => analysis.call('forget', folder),
  };
  const store = new SnapshotStore(backend);
  const tree = new ServiceTreeProvider(store);
  const view = vscode.window.createTreeView('kubeNetpath.services', { treeDataProvider: tree, showCollapseAll: true });
  const config = () => vscode.workspace.getConfiguration('kubeNetpath');

  const rememberFolder = async (folder: string, keep: boolean) => {
    const folders = new Set(context.globalState.get<string[]>(OPENED_FOLDERS, []));
    if (keep) folders.add(folder);
    else folders.delete(folder);
    await context.globalState.update(OPENED_FOLDERS, [...folders]);
  };

  const deps: CommandDeps = {
    store,
    tree,
    rememberFolder,
    log,
    collect: {
      secrets: context.secrets,
      storageFolder: context.globalStorageUri,
      log,
      open: async (folder) => {
        await store.add(folder);
        await rememberFolder(folder, true);
        await vscode.commands.executeCommand('kubeNetpath.services.focus');
      },
    },
    panel: {
      extensionUri: context.extensionUri,
      outsideClient: () => config().get<string>('trace.outsideClientAddress') || DEFAULT_OUTSIDE_CLIENT,
      log,
      trace: (folder, packet) => analysis.call('trace', folder, packet),
      serviceChoices: (folder, outsideClient) => analysis.call('serviceChoices', folder, outsideClient),
    },
  };
  for (const entry of COMMANDS) context.subscriptions.push(vscode.commands.registerCommand(entry.id, guarded(entry, deps)));

  const loadConfiguredFolders = async () => {
    // Relative folders in the setting are taken from the first workspace folder.
    const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const configured = config()
      .get<string[]>('snapshotFolders', [])
      .filter((folder) => typeof folder === 'string' && folder)
      .map((folder) => (isAbsolute(folder) || !base ? folder : join(base, folder)));
    const remembered = context.globalState.get<string[]>(OPENED_FOLDERS, []);
    const folders = [...new Set([...configured, ...remembered])].filter((folder) => typeof folder === 'string' && folder && !store.get(folder));
    await Promise.all(folders.map((folder) => store.add(folder)));
  };
  const updateHosts = () => tree.setHosts(config().get<string[]>('hosts', []).filter((host) => typeof host === 'string' && host));

  context.subscriptions.push(
    output,
    tree,
    view,
    ...registerLanguageFeatures(analysis),
    vscode.workspace.onDidSaveTextDocument((document) => {
      const folder = vscode.Uri.joinPath(document.uri, '..').fsPath;
      if (store.get(folder)) void store.add(folder);
      else void analysis.call('forget', folder).catch(() => undefined);
    }),
    analysis.onDidLoseWorker(() => {
      log('The analysis worker stopped; reloading the snapshots.');
      void store.reloadAll();
    }),
    { dispose: () => analysis.dispose() },
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('kubeNetpath.snapshotFolders')) void loadConfiguredFolders();
      if (event.affectsConfiguration('kubeNetpath.hosts')) updateHosts();
    }),
  );
  updateHosts();
  void loadConfiguredFolders();

  const ignored = untrustedOverrides(vscode.workspace.isTrusted, (key) => config().inspect(key));
  if (ignored.length > 0) {
    void vscode.window.showWarningMessage(
      `This workspace is not trusted, so Kube Netpath ignores its settings ${ignored.map((key) => `kubeNetpath.${key}`).join(', ')}: they decide what runs on a node or which keys are used.`,
    );
  }
}

export function deactivate(): void {}
