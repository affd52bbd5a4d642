// Every parser on mutated real fixtures: it returns (the watchdog fails a hang), never throws, and each
// diagnostic names the file and a line inside it. Seeded: a failure prints the seed and the mutation recipe.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { PARSERS, type ParsedFile } from './fuzzCalls';
import { applyMutations, loadCorpus, mutationsArbitrary, textsOf } from './mutations';
import { CALL_TIMEOUT_MS, FUZZ_SEED, runs } from './settings';
import { FuzzWatchdog } from './watchdog';

const watchdog = new FuzzWatchdog();
after(() => watchdog.close());

const allTexts = loadCorpus().flatMap(({ folder, files }) => Object.entries(files).map(([name, text]) => ({ folder: `${folder}/${name}`, text: text! })));

for (const file of Object.keys(PARSERS) as ParsedFile[]) {
  const own = textsOf(file).map(({ folder, text }) => ({ folder: `${folder}/${file}`, text }));
  test(`${file}: mutated fixtures end in diagnostics with lines inside the file, never a throw or a hang`, async () => {
    assert.ok(own.length > 0, `the corpus has no ${file} to mutate`);
    // Mostly the parser's own kind of file; sometimes another kind, as when a user saves output under the wrong name.
    const source = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...own) }, { weight: 1, arbitrary: fc.constantFrom(...allTexts) });
    await fc.assert(
      fc.asyncProperty(source, mutationsArbitrary, async (input, mutations) => {
        const text = applyMutations(input.text, mutations);
        const reply = await watchdog.call({ op: 'parse', file, text }, CALL_TIMEOUT_MS, `${file} from ${input.folder}`);
        assert.equal(reply.threw, undefined, `${file} threw on a mutation of ${input.folder}: ${reply.threw}`);
        assert.deepEqual(reply.problems, [], `${file} on a mutation of ${input.folder}`);
      }),
      { seed: FUZZ_SEED, numRuns: runs(file === 'iptables-save.txt' ? 80 : 50) },
    );
  });
}
