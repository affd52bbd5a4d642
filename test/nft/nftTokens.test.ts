import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tokenizeLine } from '../../src/core/nft/nftTokens';

/** The tokenizer's grammar as one pattern, the way the general path reads a line: the oracle for the character scan. */
function tokensByPattern(source: string): { texts: string[]; handle?: number; text: string } {
  const pattern = /([{},;])|(#.*)|([^\s{},;"#]+)|\s+/gy;
  const texts: string[] = [];
  let handle: number | undefined;
  let end = source.length;
  let match: RegExpExecArray | null;
  while (pattern.lastIndex < source.length && (match = pattern.exec(source)) !== null) {
    if (match[1] !== undefined || match[3] !== undefined) texts.push(match[1] ?? match[3]);
    else if (match[2] !== undefined) {
      end = match.index;
      const found = /^#\s*handle\s+(\d+)/.exec(match[2]);
      if (found) handle = Number(found[1]);
      break;
    }
  }
  return { texts, handle, text: source.slice(0, end).trim() };
}

test('a line without quotes gives the tokens, handle and text the pattern gives, whatever its spaces and punctuation', () => {
  const pieces = ['ip', 'daddr', '10.96.0.10', '.', ':', '@set', '{', '}', ',', ';', '#', '# handle 12', 'handle', '7', ' ', '\t', '\r', '\u00a0', '\u2003', '\u3000', '\ufeff', '\u0085', 'é', '-', '!='];
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.constantFrom(...pieces), fc.string().map((text) => text.replaceAll('"', ''))), { maxLength: 30 }), (parts) => {
      const line = parts.join('');
      const tokenized = tokenizeLine(line, 3);
      const expected = tokensByPattern(line);
      assert.deepEqual(tokenized.tokens, expected.texts.map((text) => ({ text, quoted: false, line: 3 })));
      assert.equal(tokenized.handle, expected.handle);
      assert.equal(tokenized.text, expected.text);
      assert.equal(tokenized.unclosedQuote, undefined);
    }),
    { numRuns: 3000 },
  );
  assert.deepEqual(tokenizeLine('\t\tip daddr { 10.0.0.1,\u00a010.0.0.2 } accept # handle 4', 1).tokens.map((token) => token.text), ['ip', 'daddr', '{', '10.0.0.1', ',', '10.0.0.2', '}', 'accept']);
});
