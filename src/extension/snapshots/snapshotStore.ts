/**
 * The snapshots the editor shows: folders the user opened or collected, each analysed once (by the analysis
 * worker) and kept until it is refreshed or removed. The host holds each snapshot's summary and a Service tree
 * whose first-level fields are there at once and whose details (endpoints, path, warnings) are fetched for the
 * Services the tree shows. The backend is injected, so this file needs neither vscode nor a worker.
 */

import type { ServiceInfo, ServiceTree } from '../../core/services/model';
import { emptyService } from '../../core/services/emptyService';
import type { AnalysisMethods, PreviewService, ServiceHeader, SnapshotSummary } from '../analysis/analysisProtocol';

export interface LoadedSnapshot {
  /** The folder path; also the id. */
  id: string;
  folder: string;
  name: string;
  summary: SnapshotSummary | null;
  /** The Service tree as the host holds it; a Service's details are empty until ensureDetails fetched them. */
  services: ServiceTree | null;
  error: string | null;
  /** True while only the preview is held (the Services' first level) and the analysis still runs. */
  analysing: boolean;
}

type Asked<M extends keyof AnalysisMethods> = (...args: Parameters<AnalysisMethods[M]>) => Promise<Awaited<ReturnType<AnalysisMethods[M]>>>;

/** What the store asks of the analysis (the worker's client, or a backend in tests); `preview` is optional. */
export type SnapshotBackend = { [M in 'open' | 'details' | 'match' | 'forget']: Asked<M> } & { preview?: Asked<'preview'> };

/** A Service with empty details; written field by field, which is ten times faster than a spread on 10,000 Services. */
function hostService(header: ServiceHeader): ServiceInfo {
  const { id, namespace, name, portName, protocol, clusterIP, nodePort, externalIPs, loadBalancerIPs, source } = header;
  const service: ServiceInfo = {
    id,
    namespace,
    name,
    portName,
    protocol,
    clusterIP,
    nodePort,
    externalIPs,
    loadBalancerIPs,
    sourceRanges: [],
    externalTrafficPolicy: null,
    internalTrafficPolicy: null,
    sessionAffinitySeconds: null,
    endpoints: [],
    path: [],
    warnings: [],
  };
  if (source) service.source = source;
  return service;
}

/** Per loaded snapshot: which Services have their details, and the Services each filter matched. */
interface HostState {
  detailed: Set<number>;
  matches: Map<string, Promise<number[]>>;
}

export class SnapshotStore {
  readonly #snapshots = new Map<string, LoadedSnapshot>();
  readonly #host = new WeakMap<LoadedSnapshot, HostState>();
  readonly #listeners = new Set<() => void>();
  /** Analyses under way, by folder. */
  readonly #loading = new Map<string, Promise<LoadedSnapshot>>();

  constructor(private readonly backend: SnapshotBackend) {}

  list(): LoadedSnapshot[] {
    return [...this.#snapshots.values()];
  }

  get(id: string): LoadedSnapshot | undefined {
    return this.#snapshots.get(id);
  }

  /**
   * Adds (or reloads) a folder; a folder that cannot be read is kept with its error, so the tree can say why.
   * A folder not shown yet is listed from its preview as soon as that arrives, while the analysis runs.
   */
  async add(folder: string): Promise<LoadedSnapshot> {
    // The preview is asked first: the worker answers it from the same read, before the analysis holds its thread.
    const preview = this.#snapshots.has(folder) ? undefined : this.backend.preview?.(folder);
    const loading = this.analyse(folder);
    this.#loading.set(folder, loading);
    if (preview) void this.showPreview(folder, loading, preview);
    const loaded = await loading;
    // Removed while it loaded, or loaded again since: this result is not shown.
    if (this.#loading.get(folder) !== loading) return loaded;
    this.#loading.delete(folder);
    this.#snapshots.set(folder, loaded);
    this.changed();
    return loaded;
  }

  private async showPreview(folder: string, loading: Promise<LoadedSnapshot>, preview: Promise<PreviewService[] | null>): Promise<void> {
    const listed = await preview.catch(() => null);
    // Shown only while that analysis is still the one under way and nothing else shows the folder.
    if (!listed || this.#loading.get(folder) !== loading || this.#snapshots.has(folder)) return;
    // Ids and protocols only: the snapshot and its namespaces are what the tree shows before the analysis is done.
    const services: ServiceTree = { mode: 'iptables', services: listed.map(([id, protocol]) => emptyService(id, protocol)), warnings: [] };
    const name = folder.split(/[\\/]/).filter(Boolean).pop() ?? folder;
    this.#snapshots.set(folder, { id: folder, folder, name, summary: null, services, error: null, analysing: true });
    this.changed();
  }

  /** The snapshot as it is once its analysis is done: `loaded` itself, unless it is a preview. */
  private async settled(loaded: LoadedSnapshot): Promise<LoadedSnapshot | undefined> {
    if (!loaded.analysing) return loaded;
    await this.#loading.get(loaded.id);
    return this.#snapshots.get(loaded.id);
  }

  remove(id: string): void {
    this.#loading.delete(id);
    if (!this.#snapshots.delete(id)) return;
    // The worker may keep serving hovers in that folder's files; it analyses it again when asked.
    void this.backend.forget(id).catch(() => undefined);
    this.changed();
  }

  async reloadAll(): Promise<void> {
    const folders = [...this.#snapshots.keys()];
    const reloaded = await Promise.all(folders.map((folder) => this.analyse(folder)));
    for (const loaded of reloaded) this.#snapshots.set(loaded.id, loaded);
    this.changed();
  }

  /**
   * Fetches the details of the given Services (by index) that the host does not hold yet. For a preview it waits
   * for the analysis instead: the tree is then refreshed and asks again about the analysed snapshot.
   */
  async ensureDetails(loaded: LoadedSnapshot, indexes: number[]): Promise<void> {
    if (loaded.analysing) {
      await this.settled(loaded);
      return;
    }
    const state = this.#host.get(loaded);
    const services = loaded.services?.services;
    if (!state || !services) return;
    const missing = [...new Set(indexes)].filter((index) => !state.detailed.has(index) && services[index]);
    if (missing.length === 0) return;
    const details = await this.backend.details(loaded.folder, missing);
    missing.forEach((index, n) => {
      const fetched = details[n];
      if (!fetched) return;
      Object.assign(services[index]!, fetched);
      state.detailed.add(index);
    });
  }

  /** The indexes of the Services matching a (lower-case) filter, asked once per snapshot and filter. */
  async matching(loaded: LoadedSnapshot, filter: string): Promise<number[]> {
    if (loaded.analysing) {
      const settled = await this.settled(loaded);
      return settled && !settled.analysing ? this.matching(settled, filter) : [];
    }
    const state = this.#host.get(loaded);
    if (!state) return Promise.resolve([]);
    let found = state.matches.get(filter);
    if (!found) {
      const pending = this.backend.match(loaded.folder, filter);
      // A failed match is asked again next time.
      pending.catch(() => {
        if (state.matches.get(filter) === pending) state.matches.delete(filter);
      });
      state.matches.set(filter, pending);
      found = pending;
    }
    return found;
  }

  onDidChange(listener: () => void): { dispose(): void } {
    this.#listeners.add(listener);
    return { dispose: () => this.#listeners.delete(listener) };
  }

  private async analyse(folder: string): Promise<LoadedSnapshot> {
    const fallbackName = folder.split(/[\\/]/).filter(Boolean).pop() ?? folder;
    try {
      const summary = await this.backend.open(folder);
      const services: ServiceTree = { mode: summary.mode, services: summary.services.map(hostService), warnings: summary.warnings };
      const name = summary.node ? `${summary.node} (${fallbackName})` : fallbackName;
      const loaded: LoadedSnapshot = { id: folder, folder, name, summary, services, error: null, analysing: false };
      this.#host.set(loaded, { detailed: new Set(), matches: new Map() });
      return loaded;
    } catch (error) {
      return { id: folder, folder, name: fallbackName, summary: null, services: null, error: error instanceof Error ? error.message : String(error), analysing: false };
    }
  }

  private changed(): void {
    for (const listener of this.#listeners) listener();
  }
}
