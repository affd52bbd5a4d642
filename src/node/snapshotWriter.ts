/**
 * Writing a snapshot folder so that only a finished collection ever looks finished: files go into a hidden
 * staging folder beside the target, meta.json is written last, and the staging folder is renamed onto the
 * target in one step. A failed collection removes its staging folder. Reading folders is snapshotFolder.ts.
 */

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** The target folder cannot be used (not empty, not a folder, not writable). */
export class SnapshotOutError extends Error {}

/** Refuses a target that exists and is not an empty folder; collections check this before connecting. */
export async function assertUsableOutDir(outDir: string): Promise<void> {
  const existing = await stat(outDir).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw new SnapshotOutError(`${outDir} exists and is not a folder.`);
  if (existing && (await readdir(outDir)).length > 0) {
    throw new SnapshotOutError(`${outDir} is not empty; give a new folder (or an empty one) for the snapshot.`);
  }
}

export class SnapshotStaging {
  private constructor(
    /** The folder the snapshot ends up in. */
    readonly target: string,
    /** The hidden sibling the files are written to first. */
    readonly dir: string,
  ) {}

  /** Checks that `outDir` is absent or an empty folder and creates the staging folder beside it. */
  static async create(outDir: string): Promise<SnapshotStaging> {
    const target = resolve(outDir);
    await assertUsableOutDir(target);
    const parent = dirname(target);
    try {
      await mkdir(parent, { recursive: true });
      const dir = join(parent, `.${basename(target)}.partial-${randomBytes(4).toString('hex')}`);
      await mkdir(dir);
      return new SnapshotStaging(target, dir);
    } catch (error) {
      throw new SnapshotOutError(`Cannot create a folder next to ${outDir}: ${(error as Error).message}.`);
    }
  }

  /** Where a file of the snapshot is written while collecting. */
  path(file: string): string {
    return join(this.dir, file);
  }

  async remove(file: string): Promise<void> {
    await rm(this.path(file), { force: true });
  }

  async move(from: string, to: string): Promise<void> {
    await rename(this.path(from), this.path(to));
  }

  /** Writes meta.json last and moves the folder into place; returns the target path. */
  async commit(meta: unknown): Promise<string> {
    await writeFile(this.path('meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
    // An empty target (allowed by create) has to go first: rename does not replace a folder on every system.
    await rmdir(this.target).catch(() => undefined);
    try {
      await rename(this.dir, this.target);
    } catch (error) {
      throw new SnapshotOutError(`Cannot move the snapshot into ${this.target}: ${(error as Error).message}.`);
    }
    return this.target;
  }

  /** Deletes the staging folder and everything in it. */
  async discard(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
