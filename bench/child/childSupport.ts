/**
 * Helpers shared by the benchmark's child processes: reading a snapshot folder into core's Snapshot,
 * CPU and wall clocks around a piece of work, and the one JSON line a child prints for its parent.
 */

import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { SNAPSHOT_FILES, type Snapshot } from '../../src/core/snapshot';

/**
 * Reads the files as src/node/snapshotFolder.ts does (bytes decoded as UTF-8), so the analysis works on the same
 * kind of string as in the CLI and the editor: a heap string, where a big file read as latin1 would be an external
 * one held outside V8's heap.
 */
export function readSnapshot(dir: string): Snapshot {
  const files: Snapshot['files'] = {};
  for (const name of SNAPSHOT_FILES) {
    const path = join(dir, name);
    if (existsSync(path)) files[name] = readFileSync(path).toString('utf8');
  }
  return { name: dir, files };
}

export interface Timed<T> {
  value: T;
  wallMs: number;
  /** User + system CPU of the whole process (all threads, so GC helper threads count too). */
  cpuMs: number;
}

export function timed<T>(work: () => T): Timed<T> {
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  const value = work();
  const wallMs = performance.now() - wallStart;
  const cpu = process.cpuUsage(cpuStart);
  return { value, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Runs a full garbage collection when the child was started with --expose-gc. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
}

export function megabytes(bytes: number): number {
  return Math.round((bytes / 1e6) * 10) / 10;
}

export function printResult(result: object): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
