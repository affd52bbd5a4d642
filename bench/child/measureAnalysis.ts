/**
 * Benchmark child: in a fresh process, analyses one snapshot (parse + index + Service tree, first level
 * read) and traces the given packets one by one, then prints times and memory as one JSON line.
 * bench.ts bundles it with esbuild and runs `node --expose-gc measureAnalysis.js DIR PACKETS.json`; it also runs
 * as is with `node --expose-gc --import tsx bench/child/measureAnalysis.ts DIR PACKETS.json`.
 */

import { readFileSync } from 'node:fs';
import { analyzeSnapshot } from '../../src/core/analyze';
import { tracePacket } from '../../src/core/trace/tracePacket';
import type { BenchmarkPacket, PacketKind } from '../packets';
import { keepYoungGenerationSmall } from '../../src/cli/youngGeneration';
import { collectGarbage, megabytes, printResult, readSnapshot, timed } from './childSupport';

// The V8 setting the netpath CLI makes, so memory is measured as the CLI uses it.
keepYoungGenerationSmall();

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return sorted[Math.max(0, index)] as number;
}

const [dir = '', packetsFile = ''] = process.argv.slice(2);
const packets = JSON.parse(readFileSync(packetsFile, 'utf8')) as BenchmarkPacket[];
collectGarbage();
const baselineRss = process.memoryUsage().rss;
const snapshot = readSnapshot(dir);
const fileBytes = Object.values(snapshot.files).reduce((sum, text) => sum + (text?.length ?? 0), 0);
collectGarbage();
const beforeHeap = process.memoryUsage().heapUsed;

const analysis = timed(() => {
  const result = analyzeSnapshot(snapshot);
  // The tree's first level: what the editor shows when the snapshot opens.
  const labels = result.services.services.map((service) => service.id);
  return { result, firstLevel: labels.length };
});
const afterAnalysis = process.memoryUsage();
collectGarbage();
const retainedHeap = process.memoryUsage().heapUsed - beforeHeap;

const first = packets[0];
const firstTrace = first === undefined ? undefined : timed(() => tracePacket(analysis.value.result, first.packet));
const durations: number[] = [];
// CPU time per trace as well: on a loaded machine the wall clock also counts time the process waited.
const cpuDurations: number[] = [];
const byKind = new Map<PacketKind, number[]>();
const withService = new Map<PacketKind, number>();
for (const { kind, packet } of packets) {
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  const trace = tracePacket(analysis.value.result, packet);
  const elapsed = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  durations.push(elapsed);
  cpuDurations.push((cpu.user + cpu.system) / 1000);
  const list = byKind.get(kind) ?? [];
  list.push(elapsed);
  byKind.set(kind, list);
  if (trace.service !== null) withService.set(kind, (withService.get(kind) ?? 0) + 1);
}
durations.sort((a, b) => a - b);
cpuDurations.sort((a, b) => a - b);
const kinds: Record<string, { count: number; medianMs: number; p99Ms: number; withService: number }> = {};
for (const [kind, list] of byKind) {
  list.sort((a, b) => a - b);
  kinds[kind] = { count: list.length, medianMs: percentile(list, 0.5), p99Ms: percentile(list, 0.99), withService: withService.get(kind) ?? 0 };
}

// Keep the analysis reachable to the end, so a --heap-prof profile (written at exit) shows what it retains.
(globalThis as Record<string, unknown>)['benchRetainedAnalysis'] = analysis.value.result;

printResult({
  mode: analysis.value.result.mode,
  services: analysis.value.firstLevel,
  diagnostics: analysis.value.result.diagnostics.length,
  analyzeWallMs: analysis.wallMs,
  analyzeCpuMs: analysis.cpuMs,
  firstTraceMs: firstTrace?.wallMs ?? Number.NaN,
  traces: durations.length,
  traceMedianMs: percentile(durations, 0.5),
  traceP99Ms: percentile(durations, 0.99),
  traceMaxMs: durations[durations.length - 1] ?? Number.NaN,
  traceCpuMedianMs: percentile(cpuDurations, 0.5),
  traceCpuP99Ms: percentile(cpuDurations, 0.99),
  kinds,
  fileMB: megabytes(fileBytes),
  baselineRssMB: megabytes(baselineRss),
  rssAfterAnalysisMB: megabytes(afterAnalysis.rss),
  peakRssMB: megabytes(process.resourceUsage().maxRSS * 1024),
  heapAfterAnalysisMB: megabytes(afterAnalysis.heapUsed),
  retainedHeapMB: megabytes(retainedHeap),
});
