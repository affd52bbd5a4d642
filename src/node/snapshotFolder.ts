/**
 * Reads a snapshot folder (DESIGN.md's format) from disk into the strings core works on. Files are read whole,
 * with a size cap, and a folder is checked for being one: a missing folder, a file that is not a folder, or a
 * folder with none of the snapshot files gives one clear error.
 */

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SNAPSHOT_FILES, type Snapshot, type SnapshotFileName, type SnapshotMeta } from '../core/snapshot';

/** The largest snapshot file read: far above a 30,000-Service node's 60 MB dump, far below memory trouble. */
export const MAX_SNAPSHOT_FILE_BYTES = 512 * 1024 * 1024;

export class SnapshotReadError extends Error {}

export interface SnapshotFolder extends Snapshot {
  readonly folder: string;
  /** False when meta.json is missing: the collection did not finish, or the folder was assembled by hand. */
  readonly complete: boolean;
}

async function readTextFile(path: string, name: string): Promise<string | undefined> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SnapshotReadError(`${name}: cannot read it (${(error as Error).message}).`);
  }
  if (!info.isFile()) throw new SnapshotReadError(`${name}: is not a regular file.`);
  if (info.size > MAX_SNAPSHOT_FILE_BYTES) {
    throw new SnapshotReadError(`${name}: is ${info.size} bytes, over the ${MAX_SNAPSHOT_FILE_BYTES}-byte limit for a snapshot file.`);
  }
  const bytes = await readFile(path);
  if (bytes.includes(0)) throw new SnapshotReadError(`${name}: holds binary data (a NUL byte), not command output.`);
  return bytes.toString('utf8');
}

export async function readSnapshotFolder(folder: string): Promise<SnapshotFolder> {
  let info;
  try {
    info = await stat(folder);
  } catch {
    throw new SnapshotReadError(`${folder}: no such snapshot folder.`);
  }
  if (!info.isDirectory()) throw new SnapshotReadError(`${folder}: is not a folder (a snapshot is a folder of command outputs).`);
  const files: Partial<Record<SnapshotFileName, string>> = {};
  for (const name of SNAPSHOT_FILES) {
    const text = await readTextFile(join(folder, name), join(folder, name));
    if (text !== undefined) files[name] = text;
  }
  if (Object.keys(files).length === 0) {
    throw new SnapshotReadError(`${folder}: holds none of the snapshot files (iptables-save.txt, route-local.txt, ipvsadm.txt, nft.txt, …).`);
  }
  let meta: SnapshotMeta | undefined;
  const metaPath = join(folder, 'meta.json');
  const metaText = await readTextFile(metaPath, metaPath);
  if (metaText !== undefined) {
    try {
      const parsed: unknown = JSON.parse(metaText);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) meta = parsed as SnapshotMeta;
      else throw new Error('not an object');
    } catch (error) {
      throw new SnapshotReadError(`${metaPath}: is not valid JSON (${(error as Error).message}).`);
    }
  }
  return { name: meta?.node ?? folder, folder, files, meta, complete: meta !== undefined };
}
