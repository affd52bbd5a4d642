/**
 * The worker side of the fuzz watchdog (watchdog.ts): runs one parser, or analyzeSnapshot plus tracePacket, on
 * the input it is sent, checks the result against invariants.ts, and answers with the problems found, how long
 * the call took and, when asked, how much heap the result keeps alive. Running here lets the main thread end a
 * call that hangs by terminating the worker; anything core throws is caught and reported as a finding.
 */

import { setFlagsFromString, getHeapStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import { analyzeSnapshot } from '../../src/core/analyze';
import { formatDiagnostic } from '../../src/core/diagnostics';
import type { Snapshot } from '../../src/core/snapshot';
import { tracePacket } from '../../src/core/trace/tracePacket';
import type { Packet, TraceResult } from '../../src/core/trace/result';
import { PARSERS, type FuzzReply, type FuzzRequest } from './fuzzCalls';
import { checkDiagnostics, checkTrace } from './invariants';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** The current call's result, kept reachable until the heap after the call has been measured. */
const alive: unknown[] = [];

function usedHeap(): number {
  collectGarbage();
  collectGarbage();
  return getHeapStatistics().used_heap_size;
}

function servicePackets(result: ReturnType<typeof analyzeSnapshot>, perService: number): Packet[] {
  const packets: Packet[] = [];
  for (const service of result.services.services.slice(0, perService)) {
    const target = service.clusterIP ?? service.externalIPs[0] ?? service.loadBalancerIPs[0];
    if (target) packets.push({ src: '10.244.7.7', dst: target.ip, proto: service.protocol, sport: 40000, dport: target.port });
  }
  return packets;
}

function handle(request: FuzzRequest): FuzzReply {
  const files: Record<string, string> = request.op === 'parse' ? { [request.file]: request.text } : { ...request.files };
  const inputBytes = Object.values(files).reduce((sum, text) => sum + Buffer.byteLength(text), 0);
  const before = request.measure ? usedHeap() : 0;
  const started = performance.now();
  const reply: FuzzReply = { problems: [], diagnostics: 0, diagnosticMessages: [], traces: 0, traceWarnings: [], inputBytes, milliseconds: 0 };
  try {
    if (request.op === 'parse') {
      const result = PARSERS[request.file](request.text);
      alive.push(result);
      reply.diagnostics = result.diagnostics.length;
      reply.diagnosticMessages = result.diagnostics.slice(0, 50).map(formatDiagnostic);
      reply.problems.push(...checkDiagnostics(result.diagnostics, files));
    } else {
      const snapshot: Snapshot = { name: 'fuzz', files: request.files };
      const analysis = analyzeSnapshot(snapshot);
      reply.diagnostics = analysis.diagnostics.length;
      reply.diagnosticMessages = analysis.diagnostics.slice(0, 50).map(formatDiagnostic);
      reply.problems.push(...checkDiagnostics(analysis.diagnostics, files));
      const warnings = new Set<string>();
      const traces: TraceResult[] = [];
      for (const packet of [...request.packets, ...servicePackets(analysis, request.perService)]) {
        const trace = tracePacket(analysis, packet);
        traces.push(trace);
        for (const warning of trace.warnings) warnings.add(warning);
        for (const problem of checkTrace(trace, files)) reply.problems.push(`trace of ${JSON.stringify(packet)}: ${problem}`);
      }
      alive.push(analysis, traces);
      reply.traces = traces.length;
      reply.traceWarnings = [...warnings].slice(0, 50);
    }
  } catch (error) {
    reply.threw = error instanceof Error ? (error.stack ?? error.message) : String(error);
  }
  reply.milliseconds = performance.now() - started;
  if (request.measure) reply.retainedBytes = usedHeap() - before;
  // Only now may the result go: it had to be alive while the heap was measured.
  alive.length = 0;
  return reply;
}

parentPort?.on('message', (request: FuzzRequest) => {
  parentPort!.postMessage(handle(request));
});
