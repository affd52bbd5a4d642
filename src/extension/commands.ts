/**
 * The command table: every `kubeNetpath.*` command with its handler. activate() loops over it to register
 * them, wrapping each so a failure is logged in full to the output channel and shown as one sentence.
 */

import * as vscode from 'vscode';
import { join } from 'node:path';
import type { ServiceInfo } from '../core/services/model';
import type { Packet, Protocol } from '../core/trace/result';
import { collectFromNode, type CollectDeps } from './collect/collectCommand';
import type { LoadedSnapshot, SnapshotStore } from './snapshots/snapshotStore';
import { defaultSources, destinationFor, portKinds, SOURCE_LABELS, type PortKind, type SourceKind } from './trace/traceDefaults';
import { TracePanel, type PanelDeps } from './trace/tracePanel';
import { traceSettingOf } from './trace/traceSetting';
import type { ServiceTreeProvider } from './tree/serviceTreeProvider';
import type { TreeElement } from './tree/treeModel';

export interface CommandDeps {
  store: SnapshotStore;
  tree: ServiceTreeProvider;
  panel: PanelDeps;
  collect: CollectDeps;
  /** Remembers a folder the user opened, so it is there after a restart. */
  rememberFolder(folder: string, keep: boolean): Promise<void>;
  log(message: string): void;
}

export interface CommandEntry {
  id: string;
  run(deps: CommandDeps, ...args: unknown[]): unknown;
}

/** A user's choice was dismissed: the command stops quietly. */
class Cancelled extends Error {}

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Cancelled();
  return value;
}

async function pickSnapshot(store: SnapshotStore): Promise<LoadedSnapshot> {
  const snapshots = store.list().filter((snapshot) => snapshot.summary);
  if (snapshots.length === 0) throw new Error('Open a snapshot folder first (Kube Netpath: Open Snapshot Folder).');
  if (snapshots.length === 1) return snapshots[0]!;
  const picked = await vscode.window.showQuickPick(
    snapshots.map((snapshot) => ({ label: snapshot.name, description: snapshot.folder, snapshot })),
    { title: 'Trace in which snapshot?' },
  );
  return required(picked).snapshot;
}

function isTreeService(value: unknown): value is Extract<TreeElement, { kind: 'service' }> {
  return typeof value === 'object' && value !== null && (value as TreeElement).kind === 'service';
}

function isLensTarget(value: unknown): value is { folder: string; serviceId: string; protocol: Protocol } {
  return typeof value === 'object' && value !== null && typeof (value as { serviceId?: unknown }).serviceId === 'string';
}

/** The Service to trace, with its details fetched (the source defaults look at its endpoints). */
async function pickService(deps: CommandDeps, argument: unknown): Promise<{ snapshot: LoadedSnapshot; service: ServiceInfo }> {
  const withDetails = async (snapshot: LoadedSnapshot, index: number) => {
    await deps.store.ensureDetails(snapshot, [index]);
    return { snapshot, service: snapshot.services!.services[index]! };
  };
  if (isTreeService(argument)) {
    const snapshot = deps.store.get(argument.snapshotId);
    if (snapshot?.services?.services[argument.index]) return withDetails(snapshot, argument.index);
  }
  if (isLensTarget(argument)) {
    let snapshot = deps.store.get(argument.folder);
    if (!snapshot?.services) snapshot = await deps.store.add(argument.folder);
    const index = snapshot.services?.services.findIndex((each) => each.id === argument.serviceId && each.protocol === argument.protocol) ?? -1;
    if (index >= 0) return withDetails(snapshot, index);
  }
  const snapshot = await pickSnapshot(deps.store);
  const services = snapshot.services!.services;
  if (services.length === 0) throw new Error(`No Services were found in ${snapshot.name}.`);
  const picked = await vscode.window.showQuickPick(
    services.map((service, index) => ({
      label: service.id,
      description: `${service.protocol} ${service.clusterIP ? `${service.clusterIP.ip}:${service.clusterIP.port}` : ''}${service.nodePort !== null ? ` NodePort ${service.nodePort}` : ''}`,
      index,
    })),
    { title: 'Trace which Service?', matchOnDescription: true, ignoreFocusOut: true },
  );
  return withDetails(snapshot, required(picked).index);
}

const PORT_KIND_LABELS: Record<PortKind, string> = {
  ClusterIP: 'ClusterIP',
  NodePort: 'NodePort',
  LoadBalancer: 'LoadBalancer IP',
  ExternalIP: 'External IP',
};

function parseAddressPort(text: string): { ip: string; port: number } | undefined {
  const match = /^\s*\[?([0-9a-fA-F.:]+?)\]?:(\d{1,5})\s*$/.exec(text);
  if (!match || Number(match[2]) > 65535) return undefined;
  return { ip: match[1]!, port: Number(match[2]) };
}

const isIp = (text: string) => /^[0-9a-fA-F.:]+$/.test(text.trim()) && text.trim().length <= 64;

/**
 * Trace This Service. Its picks ignore focus changes: started from the tree's context menu, the closing menu
 * hands focus back to the tree just after the first pick opens, which would otherwise dismiss it.
 */
async function traceService(deps: CommandDeps, argument: unknown): Promise<void> {
  const { snapshot, service } = await pickService(deps, argument);
  const setting = traceSettingOf(snapshot.summary!, deps.panel.outsideClient());
  const kinds = portKinds(service);
  if (kinds.length === 0) throw new Error(`${service.id} has no address to trace to.`);
  const kindPick = await vscode.window.showQuickPick(
    kinds.map((kind) => {
      const destination = destinationFor(service, kind, setting);
      return { label: PORT_KIND_LABELS[kind], description: destination ? `${destination.ip}:${destination.port}` : 'node address unknown', portKind: kind };
    }),
    { title: `Trace ${service.id}: reach it by`, placeHolder: 'Port kind', ignoreFocusOut: true },
  );
  const kind = required(kindPick).portKind;
  let destination = destinationFor(service, kind, setting);
  if (!destination) {
    const typed = await vscode.window.showInputBox({
      title: 'Node address',
      prompt: 'The snapshot does not say the node address; type the address the NodePort is reached at, as ip:port.',
      value: service.nodePort !== null ? `:${service.nodePort}` : '',
      validateInput: (text) => (parseAddressPort(text) ? undefined : 'Type an address and port, like 10.0.0.11:30080.'),
    });
    destination = parseAddressPort(required(typed));
  }
  const sources = defaultSources(setting, service);
  const sourcePick = await vscode.window.showQuickPick(
    (Object.keys(SOURCE_LABELS) as SourceKind[]).map((source) => ({ label: SOURCE_LABELS[source], description: sources[source] ?? 'type an address', source })),
    { title: `Trace ${service.id}: the packet comes from`, placeHolder: 'Source', ignoreFocusOut: true },
  );
  let src = sources[required(sourcePick).source];
  if (!src) {
    src = required(await vscode.window.showInputBox({ title: 'Source address', validateInput: (text) => (isIp(text) ? undefined : 'Type an IP address.') })).trim();
  }
  const packet: Packet = { src, dst: destination!.ip, dport: destination!.port, proto: service.protocol, sport: 40000 };
  TracePanel.show(deps.panel, snapshot, packet);
}

async function tracePacketCommand(deps: CommandDeps): Promise<void> {
  const snapshot = await pickSnapshot(deps.store);
  const setting = traceSettingOf(snapshot.summary!, deps.panel.outsideClient());
  const destination = parseAddressPort(
    required(
      await vscode.window.showInputBox({
        title: 'Trace a packet: destination',
        prompt: 'Destination address and port',
        placeHolder: '10.96.0.10:53',
        validateInput: (text) => (parseAddressPort(text) ? undefined : 'Type an address and port, like 10.96.0.10:53.'),
      }),
    ),
  )!;
  const proto = required(await vscode.window.showQuickPick(['tcp', 'udp', 'sctp'], { title: 'Trace a packet: protocol' })) as Protocol;
  const fallback = defaultSources(setting)['pod-here'] ?? defaultSources(setting).node ?? '';
  const src = required(
    await vscode.window.showInputBox({
      title: 'Trace a packet: source address',
      value: fallback,
      validateInput: (text) => (isIp(text) ? undefined : 'Type an IP address.'),
    }),
  ).trim();
  TracePanel.show(deps.panel, snapshot, { src, dst: destination.ip, dport: destination.port, proto, sport: 40000 });
}

function isRuleTarget(value: unknown): value is { snapshotId: string; file: string; line: number } {
  const target = value as { snapshotId?: unknown; file?: unknown; line?: unknown } | null;
  return typeof target?.snapshotId === 'string' && typeof target.file === 'string' && Number.isInteger(target.line);
}

/** Only the files a snapshot folder holds may be opened by Open Rule. */
const RULE_FILES = new Set(['iptables-save.txt', 'ip6tables-save.txt', 'ipvsadm.txt', 'ipset.txt', 'route-local.txt', 'route-main.txt', 'nft.txt']);

async function openRule(deps: CommandDeps, target: unknown): Promise<void> {
  if (!isRuleTarget(target)) throw new Error('Open Rule needs a rule: use it from the tree or the trace panel.');
  const snapshot = deps.store.get(target.snapshotId);
  if (!snapshot) throw new Error('That snapshot is no longer open.');
  if (!RULE_FILES.has(target.file)) throw new Error(`${target.file} is not a snapshot rule file.`);
  const document = await vscode.workspace.openTextDocument(vscode.Uri.file(join(snapshot.folder, target.file)));
  const line = Math.min(Math.max(target.line, 1), document.lineCount) - 1;
  const range = document.lineAt(line).range;
  await vscode.window.showTextDocument(document, { selection: range, preview: true });
  vscode.window.activeTextEditor?.revealRange(range, vscode.TextEditorRevealType.InCenter);
}

async function openSnapshotFolder(deps: CommandDeps, argument: unknown): Promise<void> {
  let folder = typeof argument === 'string' ? argument : undefined;
  if (!folder) {
    const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Open Snapshot', title: 'Open a snapshot folder' });
    folder = required(picked?.[0]).fsPath;
  }
  const loaded = await deps.store.add(folder);
  if (loaded.error) throw new Error(`${folder} could not be read as a snapshot: ${loaded.error}`);
  await deps.rememberFolder(folder, true);
  const count = loaded.summary?.services.length ?? 0;
  deps.log(`Opened ${folder}: ${loaded.summary?.mode} mode, ${count} Services, ${loaded.summary?.diagnosticCount ?? 0} diagnostics.`);
  await vscode.commands.executeCommand('kubeNetpath.services.focus');
}

export const COMMANDS: CommandEntry[] = [
  { id: 'kubeNetpath.openSnapshotFolder', run: openSnapshotFolder },
  { id: 'kubeNetpath.collectFromNode', run: (deps, argument) => collectFromNode(deps.collect, argument) },
  { id: 'kubeNetpath.traceService', run: traceService },
  { id: 'kubeNetpath.tracePacket', run: tracePacketCommand },
  { id: 'kubeNetpath.openRule', run: openRule },
  {
    id: 'kubeNetpath.copyTraceAsMarkdown',
    run: async () => {
      const panel = TracePanel.current;
      if (!panel?.result) throw new Error('Trace a packet first; there is no trace to copy.');
      await panel.copyMarkdown();
      void vscode.window.showInformationMessage('Copied the trace as Markdown.');
    },
  },
  { id: 'kubeNetpath.refresh', run: (deps) => deps.store.reloadAll() },
  {
    id: 'kubeNetpath.filterServices',
    run: async (deps) => {
      const filter = await vscode.window.showInputBox({
        title: 'Filter Services',
        prompt: 'Show Services whose name, namespace, address, NodePort or endpoint contains this text (empty shows all).',
        value: deps.tree.filter,
      });
      if (filter !== undefined) deps.tree.setFilter(filter);
    },
  },
  { id: 'kubeNetpath.clearFilter', run: (deps) => deps.tree.setFilter('') },
  {
    id: 'kubeNetpath.removeSnapshot',
    run: async (deps, element) => {
      const id = (element as { snapshotId?: unknown } | undefined)?.snapshotId;
      if (typeof id !== 'string') throw new Error('Remove a snapshot from its item in the tree.');
      deps.store.remove(id);
      await deps.rememberFolder(id, false);
    },
  },
];

/** Wraps a command: a dismissed pick ends it quietly; an error is logged in full and shown as one sentence. */
export function guarded(entry: CommandEntry, deps: CommandDeps): (...args: unknown[]) => Promise<void> {
  return async (...args) => {
    try {
      await entry.run(deps, ...args);
    } catch (error) {
      if (error instanceof Cancelled) return;
      const message = error instanceof Error ? error.message : String(error);
      deps.log(`${entry.id} failed: ${error instanceof Error ? error.stack ?? message : message}`);
      void vscode.window.showErrorMessage(message);
    }
  };
}
