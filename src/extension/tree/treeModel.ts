/**
 * The Kube Netpath tree as plain data: elements are a tagged union of ids and indexes (never vscode objects),
 * and this file computes each element's children and how it looks. The vscode TreeDataProvider in
 * serviceTreeProvider.ts only turns these descriptions into TreeItems. No vscode import here, so it is unit-tested.
 */

import type { PathNode, ServiceInfo, ServiceTree } from '../../core/services/model';
import { formatShare } from '../../core/explain/markdown';
import type { LoadedSnapshot } from '../snapshots/snapshotStore';

/** A loaded snapshot as the tree needs it. */
export interface TreeSnapshot {
  id: string;
  name: string;
  /** Folder on disk, shown in the tooltip. */
  folder: string;
  services: ServiceTree | null;
  /** Why the snapshot could not be analysed, when it could not. */
  error: string | null;
  /** Node-level diagnostics worth a warning (missing files, parse problems), already sentences. */
  warnings: string[];
  /** Only the preview is there: the Services' first level, while the analysis runs. */
  analysing?: boolean;
  /**
   * The Services a filter matches, when they were asked of the analysis (whose Services know their endpoints);
   * without it the filter is applied to the Services here.
   */
  matching?: { filter: string; indexes: number[] };
}

/** What the tree shows of a loaded snapshot: its Service tree, and its files' first problems as sentences. */
export function toTreeSnapshot(loaded: LoadedSnapshot): TreeSnapshot {
  return {
    id: loaded.id,
    name: loaded.name,
    folder: loaded.folder,
    services: loaded.services,
    error: loaded.error,
    warnings: loaded.summary?.problems ?? [],
    ...(loaded.analysing ? { analysing: true } : {}),
  };
}

export type TreeElement =
  | { kind: 'snapshot'; snapshotId: string }
  | { kind: 'host'; host: string }
  | { kind: 'namespace'; snapshotId: string; namespace: string }
  | { kind: 'service'; snapshotId: string; index: number }
  | { kind: 'path'; snapshotId: string; index: number; route: number[] }
  | { kind: 'message'; key: string; text: string; tooltip: string; severity: 'warning' | 'info' };

export interface TreeItemView {
  label: string;
  description?: string;
  tooltip?: string;
  /** A codicon id, e.g. `server`, `warning`. */
  icon?: string;
  /** A theme color id for the icon, e.g. `list.warningForeground`. */
  iconColor?: string;
  collapsible: 'none' | 'collapsed' | 'expanded';
  /** Context value for menus: `snapshot`, `service`, `pathNode`, `host`. */
  contextValue?: string;
  /** Opens a rule when the item is clicked. */
  open?: { snapshotId: string; file: string; line: number };
  /** Stable id so VS Code keeps expansion state across refreshes. */
  id: string;
}

/** Above this many Services a snapshot groups them by namespace, so no level lists thousands of items. */
export const GROUP_THRESHOLD = 200;

export interface TreeState {
  snapshots: TreeSnapshot[];
  hosts: string[];
  /** Lower-case substring; Services whose id or addresses do not contain it are hidden. */
  filter: string;
}

/** Whether a Service's id, addresses, NodePort or endpoints contain the (lower-case) filter. */
export function serviceMatches(service: ServiceInfo, filter: string): boolean {
  if (!filter) return true;
  const haystack = [
    service.id,
    service.clusterIP?.ip ?? '',
    service.nodePort === null ? '' : String(service.nodePort),
    ...service.externalIPs.map((address) => address.ip),
    ...service.loadBalancerIPs.map((address) => address.ip),
    ...service.endpoints.map((endpoint) => endpoint.ip),
  ]
    .join(' ')
    .toLowerCase();
  return haystack.includes(filter);
}

interface VisibleIndex {
  all: number[];
  byNamespace: Map<string, number[]>;
}

/** Visible Services per snapshot and filter, computed once: a node with 10,000 Services is scanned once, not per row. */
const visibleCache = new WeakMap<TreeSnapshot, Map<string, VisibleIndex>>();

function visibleIndex(snapshot: TreeSnapshot, filter: string): VisibleIndex {
  let byFilter = visibleCache.get(snapshot);
  if (!byFilter) visibleCache.set(snapshot, (byFilter = new Map()));
  let index = byFilter.get(filter);
  if (!index) {
    index = { all: [], byNamespace: new Map() };
    const services = snapshot.services?.services ?? [];
    const matched = filter && snapshot.matching?.filter === filter ? new Set(snapshot.matching.indexes) : undefined;
    for (let i = 0; i < services.length; i++) {
      const service = services[i]!;
      if (matched ? !matched.has(i) : !serviceMatches(service, filter)) continue;
      index.all.push(i);
      const list = index.byNamespace.get(service.namespace);
      if (list) list.push(i);
      else index.byNamespace.set(service.namespace, [i]);
    }
    byFilter.set(filter, index);
  }
  return index;
}

function visibleServiceIndexes(snapshot: TreeSnapshot, filter: string, namespace?: string): number[] {
  const index = visibleIndex(snapshot, filter);
  return namespace === undefined ? index.all : index.byNamespace.get(namespace) ?? [];
}

function pathNodeAt(service: ServiceInfo, route: number[]): PathNode | undefined {
  let nodes = service.path;
  let node: PathNode | undefined;
  for (const step of route) {
    node = nodes[step];
    if (!node) return undefined;
    nodes = node.children;
  }
  return node;
}

/** The children of an element (or the roots when element is undefined). */
export function childrenOf(state: TreeState, element?: TreeElement): TreeElement[] {
  if (!element) {
    return [
      ...state.snapshots.map((snapshot): TreeElement => ({ kind: 'snapshot', snapshotId: snapshot.id })),
      ...state.hosts.map((host): TreeElement => ({ kind: 'host', host })),
    ];
  }
  const snapshot = 'snapshotId' in element ? state.snapshots.find((each) => each.id === element.snapshotId) : undefined;
  switch (element.kind) {
    case 'snapshot': {
      if (!snapshot) return [];
      const notes: TreeElement[] = [];
      const key = (n: number) => `${snapshot.id}:${n}`;
      if (snapshot.error) notes.push({ kind: 'message', key: key(0), text: snapshot.error, tooltip: snapshot.error, severity: 'warning' });
      [...snapshot.warnings, ...(snapshot.services?.warnings ?? [])].forEach((warning, n) => {
        notes.push({ kind: 'message', key: key(n + 1), text: warning, tooltip: warning, severity: 'warning' });
      });
      const services = snapshot.services?.services ?? [];
      if (services.length > GROUP_THRESHOLD) {
        const shown = [...visibleIndex(snapshot, state.filter).byNamespace.keys()].sort();
        return [...notes, ...shown.map((namespace): TreeElement => ({ kind: 'namespace', snapshotId: snapshot.id, namespace }))];
      }
      const indexes = visibleServiceIndexes(snapshot, state.filter);
      if (snapshot.services && indexes.length === 0 && !snapshot.error) {
        const text = state.filter ? `No Service matches "${state.filter}"` : 'No Services found';
        notes.push({ kind: 'message', key: `${snapshot.id}:empty`, text, tooltip: text, severity: 'info' });
      }
      return [...notes, ...indexes.map((index): TreeElement => ({ kind: 'service', snapshotId: snapshot.id, index }))];
    }
    case 'namespace':
      if (!snapshot) return [];
      return visibleServiceIndexes(snapshot, state.filter, element.namespace).map((index) => ({ kind: 'service', snapshotId: snapshot.id, index }));
    case 'service': {
      const service = snapshot?.services?.services[element.index];
      if (!service) return [];
      const notes = service.warnings.map(
        (warning, n): TreeElement => ({ kind: 'message', key: `${element.snapshotId}:${element.index}:${n}`, text: warning, tooltip: warning, severity: 'warning' }),
      );
      return [...notes, ...service.path.map((_, step): TreeElement => ({ kind: 'path', snapshotId: element.snapshotId, index: element.index, route: [step] }))];
    }
    case 'path': {
      const service = snapshot?.services?.services[element.index];
      const node = service ? pathNodeAt(service, element.route) : undefined;
      if (!node) return [];
      return node.children.map((_, step) => ({ kind: 'path', snapshotId: element.snapshotId, index: element.index, route: [...element.route, step] }));
    }
    default:
      return [];
  }
}

/** The rule file a path node or Service came from, for the current mode. */
function sourceOpen(snapshotId: string, source: { file: string; line: number } | undefined): TreeItemView['open'] {
  return source ? { snapshotId, file: source.file, line: source.line } : undefined;
}

function serviceDescription(service: ServiceInfo): string {
  const parts: string[] = [];
  if (service.clusterIP) parts.push(service.clusterIP.ip);
  if (service.nodePort !== null) parts.push(`NodePort ${service.nodePort}`);
  for (const address of service.externalIPs) parts.push(`ext ${address.ip}`);
  for (const address of service.loadBalancerIPs) parts.push(`LB ${address.ip}`);
  return parts.join(' · ');
}

const PATH_ICONS: Record<PathNode['kind'], string> = {
  'service-chain': 'symbol-namespace',
  'external-chain': 'globe',
  'firewall-chain': 'shield',
  'local-chain': 'home',
  'endpoint-chain': 'debug-stackframe-dot',
  'virtual-server': 'server-process',
  other: 'symbol-misc',
};

/** How an element looks. */
export function describeElement(state: TreeState, element: TreeElement): TreeItemView {
  switch (element.kind) {
    case 'snapshot': {
      const snapshot = state.snapshots.find((each) => each.id === element.snapshotId);
      const mode = snapshot?.services?.mode;
      const count = snapshot?.services?.services.length ?? 0;
      const troubled = Boolean(snapshot?.error) || (snapshot?.warnings.length ?? 0) > 0 || (snapshot?.services?.warnings.length ?? 0) > 0;
      return {
        id: `snapshot:${element.snapshotId}`,
        label: snapshot?.name ?? element.snapshotId,
        description: snapshot?.error
          ? 'could not be read'
          : `${mode ?? 'none'} · ${count} Service${count === 1 ? '' : 's'}${snapshot?.analysing ? ' · analysing…' : ''}`,
        tooltip: snapshot ? `${snapshot.folder}${snapshot.error ? `\n${snapshot.error}` : ''}` : undefined,
        icon: troubled ? 'warning' : 'server',
        iconColor: troubled ? 'list.warningForeground' : undefined,
        collapsible: 'expanded',
        // Its commands need the analysis; a snapshot shown from its preview offers them once that is done.
        contextValue: snapshot?.analysing ? 'analysingSnapshot' : 'snapshot',
      };
    }
    case 'host':
      return {
        id: `host:${element.host}`,
        label: element.host,
        description: 'not collected yet',
        tooltip: `SSH host ${element.host} from the kubeNetpath.hosts setting`,
        icon: 'remote',
        collapsible: 'none',
        contextValue: 'host',
      };
    case 'namespace': {
      const snapshot = state.snapshots.find((each) => each.id === element.snapshotId);
      const count = snapshot ? visibleServiceIndexes(snapshot, state.filter, element.namespace).length : 0;
      return {
        id: `ns:${element.snapshotId}:${element.namespace}`,
        label: element.namespace,
        description: `${count} Service${count === 1 ? '' : 's'}`,
        icon: 'symbol-folder',
        collapsible: 'collapsed',
        contextValue: 'namespace',
      };
    }
    case 'service': {
      const snapshot = state.snapshots.find((each) => each.id === element.snapshotId);
      const service = snapshot?.services?.services[element.index];
      if (!service) return { id: `svc:${element.snapshotId}:${element.index}`, label: '(gone)', collapsible: 'none' };
      const noEndpoints = service.endpoints.length === 0;
      const warned = noEndpoints || service.warnings.length > 0;
      const mode = snapshot?.services?.mode;
      const tooltipLines = [
        `${service.id} (${service.protocol})`,
        serviceDescription(service),
        noEndpoints ? 'has no endpoints' : `${service.endpoints.length} endpoint${service.endpoints.length === 1 ? '' : 's'}`,
        ...service.warnings,
      ].filter(Boolean);
      return {
        id: `svc:${element.snapshotId}:${service.id}:${service.protocol}`,
        label: service.id,
        description: `${serviceDescription(service)}${mode ? ` [${mode}]` : ''}`,
        tooltip: tooltipLines.join('\n'),
        icon: warned ? 'warning' : 'symbol-interface',
        iconColor: warned ? 'list.warningForeground' : undefined,
        collapsible: service.path.length > 0 || service.warnings.length > 0 ? 'collapsed' : 'none',
        contextValue: 'service',
        open: sourceOpen(element.snapshotId, service.source),
      };
    }
    case 'path': {
      const snapshot = state.snapshots.find((each) => each.id === element.snapshotId);
      const service = snapshot?.services?.services[element.index];
      const node = service ? pathNodeAt(service, element.route) : undefined;
      if (!service || !node) return { id: `path:${element.snapshotId}:${element.index}:${element.route.join('.')}`, label: '(gone)', collapsible: 'none' };
      const endpoint = service.endpoints.find((each) => each.chain === node.label);
      const share = node.share ?? endpoint?.share;
      const descriptionParts: string[] = [];
      if (endpoint) descriptionParts.push(`→ ${endpoint.ip}:${endpoint.port}`);
      if (share !== undefined) descriptionParts.push(formatShare(share));
      if (endpoint?.local) descriptionParts.push('local');
      if (endpoint?.weight !== undefined) descriptionParts.push(`weight ${endpoint.weight}`);
      return {
        id: `path:${element.snapshotId}:${service.id}:${service.protocol}:${element.route.join('.')}`,
        label: node.label,
        description: descriptionParts.join(' · '),
        tooltip: `${node.label}${share !== undefined ? `\ngets ${formatShare(share)} of the traffic entering its parent` : ''}${node.source ? `\n${node.source.file} line ${node.source.line}` : ''}`,
        icon: PATH_ICONS[node.kind],
        collapsible: node.children.length > 0 ? 'expanded' : 'none',
        contextValue: 'pathNode',
        open: sourceOpen(element.snapshotId, node.source),
      };
    }
    case 'message':
      return {
        id: `msg:${element.key}`,
        label: element.text,
        tooltip: element.tooltip,
        icon: element.severity === 'warning' ? 'warning' : 'info',
        iconColor: element.severity === 'warning' ? 'list.warningForeground' : undefined,
        collapsible: 'none',
      };
  }
}
