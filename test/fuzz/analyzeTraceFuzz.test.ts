// analyzeSnapshot and tracePacket on whole snapshot folders with mutated, emptied or missing files: the analysis
// returns, every trace keeps the JSON contract (shares summing to 1, cited lines inside the files), nothing throws.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fc from 'fast-check';
import type { SnapshotFileName } from '../../src/core/snapshot';
import type { Packet } from '../../src/core/trace/result';
import { addressesAndPorts, applyMutations, loadCorpus, mutationsArbitrary, type CorpusFolder, type Mutation } from './mutations';
import { CALL_TIMEOUT_MS, FUZZ_SEED, runs } from './settings';
import { FuzzWatchdog } from './watchdog';

const watchdog = new FuzzWatchdog();
after(() => watchdog.close());

type FileChange = { kind: 'mutate'; mutations: Mutation[] } | { kind: 'empty' } | { kind: 'drop' };

const fileChange: fc.Arbitrary<FileChange> = fc.oneof(
  { weight: 6, arbitrary: mutationsArbitrary.map((mutations) => ({ kind: 'mutate' as const, mutations })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'empty' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'drop' as const }) },
);

/** A folder, changes to one or two of its files, and packets aimed at the addresses its files mention. */
function caseFor(folder: CorpusFolder) {
  const names = Object.keys(folder.files) as SnapshotFileName[];
  const { ips, ports } = addressesAndPorts(Object.values(folder.files) as string[]);
  // Mostly addresses the rules mention; sometimes any IPv4 or IPv6 address, or text that is no address at all.
  const ip = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...(ips.length > 0 ? ips : ['10.0.0.1'])) },
    { weight: 2, arbitrary: fc.ipV4() },
    { weight: 1, arbitrary: fc.ipV6() },
    { weight: 1, arbitrary: fc.constantFrom('127.0.0.1', '0.0.0.0', '255.255.255.255', '::ffff:10.96.0.10', '', '1.2.3', '999.1.1.1', 'fe80::1%eth0') },
  );
  const packet: fc.Arbitrary<Packet> = fc.record({
    src: ip,
    dst: ip,
    proto: fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const),
    sport: fc.integer({ min: 1, max: 65535 }),
    dport: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...(ports.length > 0 ? ports : [80])) },
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 65535 }) },
      { weight: 1, arbitrary: fc.constantFrom(-1, 65536, 4294967296) },
    ),
  });
  return fc.record({
    changes: fc.array(fc.tuple(fc.constantFrom(...names), fileChange), { minLength: 1, maxLength: 2 }),
    packets: fc.array(packet, { maxLength: 3 }),
  });
}

const corpus = loadCorpus();

test('analyzeSnapshot + tracePacket on mutated snapshot folders: contract kept, no throw, no hang', async () => {
  assert.ok(corpus.length >= 10, 'the corpus of snapshot folders is missing');
  const input = fc.constantFrom(...corpus).chain((folder) => caseFor(folder).map((change) => ({ folder, ...change })));
  await fc.assert(
    fc.asyncProperty(input, async ({ folder, changes, packets }) => {
      const files = { ...folder.files };
      for (const [name, change] of changes) {
        if (change.kind === 'drop') delete files[name];
        else if (change.kind === 'empty') files[name] = '';
        else if (files[name] !== undefined) files[name] = applyMutations(files[name]!, change.mutations);
      }
      const reply = await watchdog.call({ op: 'analyze', files, packets, perService: 3 }, CALL_TIMEOUT_MS, `analysis of a changed ${folder.folder}`);
      assert.equal(reply.threw, undefined, `core threw on a changed ${folder.folder}: ${reply.threw}`);
      assert.deepEqual(reply.problems, [], `a changed ${folder.folder}`);
    }),
    { seed: FUZZ_SEED, numRuns: runs(60) },
  );
});

test('every unchanged corpus folder analyses and traces within the contract', async () => {
  for (const folder of corpus) {
    const reply = await watchdog.call({ op: 'analyze', files: folder.files, packets: [], perService: 20 }, CALL_TIMEOUT_MS, folder.folder);
    assert.equal(reply.threw, undefined, `${folder.folder}: ${reply.threw}`);
    assert.deepEqual(reply.problems, [], folder.folder);
  }
});
