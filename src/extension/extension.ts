/**
 * The composition root: activate() builds the snapshot store, the tree, the trace panel's dependencies and the
 * language features, registers every command from the command table, and puts each disposable into
 * context.subscriptions. Nothing else in the extension registers anything.
 */

import { basename, isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import { analyzeSnapshot } from '../core/analyze';
import type { Analysis } from '../core/analyze';
import { readSnapshotFolder } from '../node/snapshotFolder';
import { COMMANDS, guarded, type CommandDeps } from './commands';
import { registerLanguageFeatures } from './language/languageFeatures';
import { prepareEditorIndexes } from './snapshots/editorIndexes';
import { SnapshotStore } from './snapshots/snapshotStore';
import { DEFAULT_OUTSIDE_CLIENT } from './trace/traceSetting';
import { ServiceTreeProvider } from './tree/serviceTreeProvider';
import { untrustedOverrides } from './workspaceTrust';

const OPENED_FOLDERS = 'kubeNetpath.openedFolders';

/**
 * Reads and analyses a snapshot folder with a status-bar progress. The analysis itself holds the extension
 * host's thread (seconds on a 10,000-Service node), so the progress is shown before it starts.
 */
async function loadFolder(folder: string): Promise<Analysis> {
  const title = `Kube Netpath: analysing ${basename(folder)}`;
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title }, async () => {
    const snapshot = await readSnapshotFolder(folder);
    await new Promise((resolve) => setImmediate(resolve));
    return analyzeSnapshot(snapshot);
  });
}

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Kube Netpath');
  const log = (message: string) => output.appendLine(`[${new Date().toISOString()}] ${message}`);
  // After each analysis, the hover indexes are built in the background so the first hover is fast too.
  const load = async (folder: string) => {
    const analysis = await loadFolder(folder);
    prepareEditorIndexes(analysis, (error) => log(`Could not index ${folder} for hovers: ${error instanceof Error ? error.message : String(error)}`));
    return analysis;
  };
  const store = new SnapshotStore(load);
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
    },
  };
  for (const entry of COMMANDS) context.subscriptions.push(vscode.commands.registerCommand(entry.id, guarded(entry, deps)));

  // Analyses for rule files opened outside the tree, one per folder, dropped when a file in it is saved.
  const adHoc = new Map<string, Promise<Analysis | undefined>>();
  const analysisFor = (folder: string) => {
    const loaded = store.get(folder)?.analysis;
    if (loaded) return Promise.resolve(loaded);
    let pending = adHoc.get(folder);
    if (!pending) {
      pending = load(folder).catch((error: unknown) => {
        log(`Could not analyse ${folder} for hovers: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      });
      adHoc.set(folder, pending);
    }
    return pending;
  };

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
    ...registerLanguageFeatures(analysisFor),
    vscode.workspace.onDidSaveTextDocument((document) => {
      const folder = vscode.Uri.joinPath(document.uri, '..').fsPath;
      adHoc.delete(folder);
      if (store.get(folder)) void store.add(folder);
    }),
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
