/**
 * A watchdog for fuzz calls: each call runs in a worker thread (fuzzWorker.ts), and a call that does not
 * answer within its time bound terminates the worker and fails with a sentence naming the input, so a parser
 * that hangs fails the test instead of blocking CI. A fresh worker is started for the next call. Memory can be
 * capped per worker too: a worker whose heap outgrows the cap dies, and the call fails saying so.
 */

import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import type { FuzzReply, FuzzRequest } from './fuzzCalls';

export class WatchdogError extends Error {}

export class FuzzWatchdog {
  #worker: Worker | undefined;

  /** `maxHeapMb` caps the worker's old generation; undefined leaves Node's default. */
  constructor(private readonly maxHeapMb?: number) {}

  #start(): Worker {
    // The worker is TypeScript: tsx's require hook loads it, as `node --import tsx` loads the tests.
    const source = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(join(__dirname, 'fuzzWorker.ts'))});`;
    const worker = new Worker(source, {
      eval: true,
      resourceLimits: this.maxHeapMb === undefined ? undefined : { maxOldGenerationSizeMb: this.maxHeapMb },
    });
    worker.unref();
    return worker;
  }

  /** Runs one request; rejects with a WatchdogError if it takes longer than `timeoutMs` or the worker dies. */
  call(request: FuzzRequest, timeoutMs: number, label: string): Promise<FuzzReply> {
    const worker = (this.#worker ??= this.#start());
    return new Promise<FuzzReply>((resolve, reject) => {
      const finish = (error: Error | undefined, reply?: FuzzReply) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (error) {
          this.#worker = undefined;
          void worker.terminate();
          reject(error);
        } else resolve(reply!);
      };
      const onMessage = (reply: FuzzReply) => finish(undefined, reply);
      const onError = (error: Error) => finish(new WatchdogError(`${label}: the worker died: ${error.message}`));
      const onExit = (code: number) => finish(new WatchdogError(`${label}: the worker exited with code ${code}`));
      const timer = setTimeout(
        () => finish(new WatchdogError(`${label}: no answer within ${timeoutMs} ms; the call hangs or is far too slow`)),
        timeoutMs,
      );
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }
}
