import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { newPlaces, scanCanonicalAt, scanRule, scanRuleByTokens } from '../../src/core/iptables/scanRule';

/** Every `-A` line of every iptables-save file shipped in the repository (samples and test fixtures). */
function shippedRuleLines(): string[] {
  const lines = new Set<string>();
  const visit = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) visit(path);
      else if (/^iptables.*save.*\.txt$/.test(name)) {
        for (const line of readFileSync(path, 'utf8').split('\n')) if (line.startsWith('-A') || line.startsWith('[')) lines.add(line.replace(/\r$/, ''));
      }
    }
  };
  visit('samples');
  visit('test/fixtures');
  return [...lines];
}

const LINES = shippedRuleLines();

test('the fast path for canonical lines agrees with the token walk on every shipped rule line', () => {
  assert.ok(LINES.length > 1000, `expected many shipped rule lines, found ${LINES.length}`);
  for (const line of LINES) assert.deepEqual(scanRule(line), scanRuleByTokens(line), line);
});

test('lines the fast path must leave to the token walk still get their problems reported', () => {
  const cases: [string, string][] = [
    ['-A X ! ! -s 10.0.0.0/8 -j ACCEPT', 'two "!" in a row'],
    ['-A X -j ACCEPT -j DROP', 'a second target DROP'],
    ['-A X --dport 80 -j ACCEPT', 'stands outside any -m match module'],
    ['-A X -s -j ACCEPT', 'option -s needs a value'],
    ['-A X -s 10.0.0.1 !', 'a "!" with nothing after it'],
  ];
  for (const [line, problem] of cases) {
    const scan = scanRule(line);
    assert.ok(scan.problems?.some((text) => text.includes(problem)), `${line}: ${JSON.stringify(scan.problems)}`);
  }
  assert.equal(scanRule('-A X -m comment --comment "open -j ACCEPT').unbalancedQuote, true);
});

const PIECES = [' ', '  ', '"', '!', ' ! ', '-j', ' -j X', ' -g Y', ' "a -j b"', ' --log-prefix "c -g d"', ' -j ', ' -m', ' --', '--x', '\\', '\u201c', '\t', ' -p tcp', ' -c 1 2', '[1:2] ', 'a', '\r', '\u2028'];

/** Shipped rule lines with up to four pieces spliced in: quotes, dashes, odd spaces, counters. */
const MUTATED = fc
  .tuple(fc.constantFrom(...LINES), fc.array(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom(...PIECES)), { minLength: 1, maxLength: 4 }))
  .map(([line, edits]) => {
    let text = line;
    for (const [at, cut, piece] of edits) {
      const start = at % (text.length + 1);
      text = text.slice(0, start) + piece + text.slice(start + (cut % 4));
    }
    return text;
  });

test('mutated rule lines: the fast path never disagrees with the token walk', () => {
  fc.assert(
    fc.property(MUTATED, (line) => {
      assert.deepEqual(scanRule(line), scanRuleByTokens(line), line);
    }),
    { numRuns: 5000, seed: 11 },
  );
});

test('rules read in place inside a whole dump agree with the token walk of each line alone', () => {
  // Lines with quotes left open, stray carriage returns and line separators must not let a match run past their end.
  fc.assert(
    fc.property(fc.array(MUTATED, { minLength: 1, maxLength: 6 }), (lines) => {
      const text = `${lines.join('\n')}\n`;
      let start = 0;
      for (const line of lines) {
        const places = newPlaces();
        if (scanCanonicalAt(text, start, start + line.length, undefined, undefined, places)) {
          const walked = scanRuleByTokens(line);
          assert.equal(walked.problems, undefined, line);
          assert.equal(places.chain, walked.chain, line);
          assert.equal(places.targetStart === -1 ? undefined : line.slice(places.targetStart, places.targetEnd), walked.target, line);
          assert.equal(places.targetOffset, walked.targetOffset, line);
          assert.equal(places.goto ? 'goto' : 'jump', walked.targetKind, line);
        }
        start += line.length + 1;
      }
    }),
    { numRuns: 2000, seed: 12 },
  );
});
