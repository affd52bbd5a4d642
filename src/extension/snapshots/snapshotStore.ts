/**
 * The snapshots the editor shows: folders the user opened or collected, each analysed once and kept until it
 * is refreshed or removed. Loading is injected (readSnapshotFolder + analyzeSnapshot in the real extension), so
 * this file needs neither vscode nor the disk.
 */

import type { Analysis } from '../../core/analyze';

export interface LoadedSnapshot {
  /** The folder path; also the id. */
  id: string;
  folder: string;
  name: string;
  analysis: Analysis | null;
  error: string | null;
}

export type SnapshotLoader = (folder: string) => Promise<Analysis>;

export class SnapshotStore {
  readonly #snapshots = new Map<string, LoadedSnapshot>();
  readonly #listeners = new Set<() => void>();

  constructor(private readonly load: SnapshotLoader) {}

  list(): LoadedSnapshot[] {
    return [...this.#snapshots.values()];
  }

  get(id: string): LoadedSnapshot | undefined {
    return this.#snapshots.get(id);
  }

  /** Adds (or reloads) a folder; a folder that cannot be read is kept with its error, so the tree can say why. */
  async add(folder: string): Promise<LoadedSnapshot> {
    const loaded = await this.analyse(folder);
    this.#snapshots.set(folder, loaded);
    this.changed();
    return loaded;
  }

  remove(id: string): void {
    if (this.#snapshots.delete(id)) this.changed();
  }

  async reloadAll(): Promise<void> {
    const folders = [...this.#snapshots.keys()];
    const reloaded = await Promise.all(folders.map((folder) => this.analyse(folder)));
    for (const loaded of reloaded) this.#snapshots.set(loaded.id, loaded);
    this.changed();
  }

  onDidChange(listener: () => void): { dispose(): void } {
    this.#listeners.add(listener);
    return { dispose: () => this.#listeners.delete(listener) };
  }

  private async analyse(folder: string): Promise<LoadedSnapshot> {
    const fallbackName = folder.split(/[\\/]/).filter(Boolean).pop() ?? folder;
    try {
      const analysis = await this.load(folder);
      const node = analysis.snapshot.meta?.node;
      return { id: folder, folder, name: typeof node === 'string' && node ? `${node} (${fallbackName})` : fallbackName, analysis, error: null };
    } catch (error) {
      return { id: folder, folder, name: fallbackName, analysis: null, error: error instanceof Error ? error.message : String(error) };
    }
  }

  private changed(): void {
    for (const listener of this.#listeners) listener();
  }
}
