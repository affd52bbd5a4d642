// Loads the editor's test fixture the way the extension does: readSnapshotFolder, then analyzeSnapshot.
import { join } from 'node:path';
import { analyzeSnapshot, type Analysis } from '../../src/core/analyze';
import { readSnapshotFolder } from '../../src/node/snapshotFolder';

export const SHOP = join(import.meta.dirname, 'fixtures/iptables-shop');

export async function loadShop(): Promise<Analysis> {
  return analyzeSnapshot(await readSnapshotFolder(SHOP));
}
