/** Writes a generated snapshot's files into a snapshot folder, creating the folder when needed. */

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function writeSnapshotFolder(dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
}
