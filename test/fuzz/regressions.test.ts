// Replays test/fixtures/regressions/: every input that once broke a parser or the tracer, one snapshot folder
// per case with a case.json saying what broke. Each file goes through its parser alone, then the folder through
// analyzeSnapshot and tracePacket, under the watchdog and the same invariants as the fuzz tests.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SNAPSHOT_FILES, type SnapshotFileName } from '../../src/core/snapshot';
import type { Packet } from '../../src/core/trace/result';
import { PARSERS, type ParsedFile } from './fuzzCalls';
import { ROOT } from './mutations';
import { LARGE_CALL_TIMEOUT_MS } from './settings';
import { FuzzWatchdog } from './watchdog';

interface RegressionCase {
  /** What the input broke, in one sentence. */
  broke: string;
  /** The commit message (or its start) of the fix, or the owner who has yet to fix it. */
  fixedBy?: string;
  /** Set while the bug is open in code this suite may not change: the case then shows as todo. */
  todo?: string;
  packets?: Packet[];
  /** Words that must appear in some trace warning (a loop or depth report, say). */
  warningIncludes?: string[];
  /** Words that must appear in some parse diagnostic of the folder. */
  diagnosticIncludes?: string[];
  /** A tighter watchdog bound for a case that hangs, so its todo run costs seconds, not a minute. */
  timeoutMs?: number;
}

const corpusDir = join(ROOT, 'test', 'fixtures', 'regressions');
const watchdog = new FuzzWatchdog();
after(() => watchdog.close());

const cases = existsSync(corpusDir) ? readdirSync(corpusDir).filter((name) => existsSync(join(corpusDir, name, 'case.json'))).sort() : [];

test('the regression corpus is present', () => {
  assert.ok(cases.length > 0, `no cases under ${corpusDir}`);
});

for (const name of cases) {
  const folder = join(corpusDir, name);
  const spec = JSON.parse(readFileSync(join(folder, 'case.json'), 'utf8')) as RegressionCase;
  const timeout = spec.timeoutMs ?? LARGE_CALL_TIMEOUT_MS;
  test(`regression ${name}: ${spec.broke}`, { todo: spec.todo }, async () => {
    const files: Partial<Record<SnapshotFileName, string>> = {};
    for (const file of SNAPSHOT_FILES) {
      if (existsSync(join(folder, file))) files[file] = readFileSync(join(folder, file), 'utf8');
    }
    assert.ok(Object.keys(files).length > 0, `${name} holds no snapshot file`);
    for (const [file, text] of Object.entries(files)) {
      if (!(file in PARSERS)) continue;
      const reply = await watchdog.call({ op: 'parse', file: file as ParsedFile, text: text! }, timeout, `${name}/${file}`);
      assert.equal(reply.threw, undefined, `${name}/${file}: ${reply.threw}`);
      assert.deepEqual(reply.problems, [], `${name}/${file}`);
    }
    const reply = await watchdog.call({ op: 'analyze', files, packets: spec.packets ?? [], perService: 5 }, timeout, name);
    assert.equal(reply.threw, undefined, `${name}: ${reply.threw}`);
    assert.deepEqual(reply.problems, [], name);
    for (const words of spec.diagnosticIncludes ?? []) {
      assert.ok(
        reply.diagnosticMessages.some((message) => message.includes(words)),
        `${name}: no diagnostic mentions "${words}"; diagnostics: ${JSON.stringify(reply.diagnosticMessages)}`,
      );
    }
    for (const words of spec.warningIncludes ?? []) {
      assert.ok(
        reply.traceWarnings.some((warning) => warning.includes(words)),
        `${name}: no trace warning mentions "${words}"; warnings: ${JSON.stringify(reply.traceWarnings)}`,
      );
    }
  });
}
