// The shape shared by the kernel agreement test files: build the namespace node, load one ruleset, take the
// snapshot folder from it, run every probe of the table, trace every probe with `netpath trace --json`, and
// then one test per probe and check (kernel against kube-proxy's intent, trace against the kernel). The
// rulesets and probe tables live in the test files; the comparisons in agreement.ts.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DataplaneMode } from '../../src/core/trace/result';
import type { Observation, ProbeRow, TraceRun } from './agreement';
import { checkIntent, checkTrace, describeObservation, describeTrace, observe, runTrace } from './agreement';
import { kernelSkipReason, Topology } from './netns';

export interface KernelSuite {
  title: string;
  mode: DataplaneMode;
  /** Programs besides ip and conntrack that the suite needs; it skips, saying so, when one is missing. */
  tools: string[];
  /** Loads the ruleset into the node namespace. */
  load(topology: Topology): Promise<unknown>;
  /** Which dumps go into the snapshot folder beside route-local.txt. */
  dumps: { iptables?: boolean; nft?: boolean };
  probes: ProbeRow[];
}

/** Runs the jobs at most `limit` at a time and returns their results in order. */
async function inBatches<T, R>(items: T[], limit: number, job: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      results[index] = await job(items[index]!);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function describeKernelAgreement(suite: KernelSuite): void {
  const skip = kernelSkipReason(suite.tools);

  describe(suite.title, { skip }, () => {
    let topology: Topology | undefined;
    let snapshotDir = '';
    const observations = new Map<string, Observation>();
    const traces = new Map<string, TraceRun>();

    before(
      async () => {
        topology = await Topology.create();
        await suite.load(topology);
        snapshotDir = mkdtempSync(join(tmpdir(), `npk-${suite.mode}-`));
        await topology.snapshot(snapshotDir, suite.dumps);
        // NETPATH_KERNEL_SNAPSHOT_OUT=<dir> keeps a copy of the snapshot, e.g. to refresh a fixture.
        const keep = process.env.NETPATH_KERNEL_SNAPSHOT_OUT;
        if (keep) cpSync(snapshotDir, keep, { recursive: true });
        // Probes run one after the other: each flushes conntrack, which would disturb a parallel one.
        for (const row of suite.probes) {
          // Affinity probes connect one at a time, so that the first connection has set the affinity
          // entry before the next one asks.
          const options = { count: row.count, proto: row.proto, concurrency: row.sticky ? 1 : undefined };
          const run = await topology.probe(row.from, row.dst, row.dport, options);
          observations.set(row.name, observe(run));
        }
        const runs = await inBatches(suite.probes, 2, (row) => runTrace(snapshotDir, row, observations.get(row.name)!.src));
        suite.probes.forEach((row, index) => traces.set(row.name, runs[index]!));
      },
      { timeout: 300_000 },
    );

    after(async () => {
      await topology?.destroy();
      if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
    });

    for (const row of suite.probes) {
      test(`kernel does what kube-proxy means: ${row.name}`, () => {
        const observation = observations.get(row.name);
        assert.ok(observation, 'the probe did not run');
        assert.deepEqual(checkIntent(row, observation), [], describeObservation(observation));
      });
    }

    for (const row of suite.probes) {
      test(`netpath trace agrees with the kernel: ${row.name}`, () => {
        const observation = observations.get(row.name);
        const run = traces.get(row.name);
        assert.ok(observation && run, 'the probe did not run');
        assert.ok(run.trace, run.problem);
        assert.equal(run.trace.mode, suite.mode);
        const problems = checkTrace(row, observation, run.trace);
        assert.deepEqual(problems, [], `kernel: ${describeObservation(observation)}\ntrace: ${describeTrace(run.trace)}`);
      });
    }
  });
}
