/**
 * The analysis worker's entry (a worker_threads thread): relays each AnalysisRequest from the extension host to
 * an AnalysisBackend and posts the reply, so reading, parsing and indexing a snapshot never holds the host's
 * thread. Requests are answered in the order their work finishes; replies carry the request's id.
 */

import { parentPort } from 'node:worker_threads';
import type { AnalysisReply, AnalysisRequest } from './analysisProtocol';
import { AnalysisBackend, NeedTextError } from './analysisBackend';

const backend = new AnalysisBackend();
const port = parentPort;
if (!port) throw new Error('analysisWorker.ts runs as a worker thread');

port.on('message', async (request: AnalysisRequest) => {
  let reply: AnalysisReply;
  try {
    const method = backend[request.method] as (...args: unknown[]) => unknown;
    reply = { id: request.id, json: JSON.stringify((await method.apply(backend, request.args)) ?? null) };
  } catch (error) {
    reply = { id: request.id, error: error instanceof Error ? error.message : String(error), ...(error instanceof NeedTextError ? { code: 'needText' as const } : {}) };
  }
  port.postMessage(reply);
});
