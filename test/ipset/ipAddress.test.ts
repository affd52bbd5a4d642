import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { normalizeIp } from '../../src/core/ipset/ipAddress';

/** Dotted quads as they appear in dumps and in junk: octets with leading zeros, above 255, missing or extra. */
const quadLike = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0, max: 255 }).map(String),
      fc.integer({ min: 0, max: 999 }).map((n) => String(n).padStart(3, '0')),
      fc.integer({ min: 256, max: 9999 }).map(String),
      fc.constantFrom('', 'a', '-1', ' 1'),
    ),
    { minLength: 1, maxLength: 5 },
  )
  .map((octets) => octets.join('.'));

test('IPv4 text is canonical exactly when ipaddr.js reads it as four decimal parts, and then comes back unchanged', () => {
  fc.assert(
    fc.property(quadLike, (text) => {
      const expected = ipaddr.IPv4.isValidFourPartDecimal(text) ? ipaddr.IPv4.parse(text).toString() : undefined;
      assert.equal(normalizeIp(text), expected, text);
    }),
    { numRuns: 5000 },
  );
  for (const text of ['0.0.0.0', '10.96.0.10', '255.255.255.255', '1.2.3.4']) assert.equal(normalizeIp(text), text);
  for (const text of ['010.0.0.1', '256.1.1.1', '1.2.3', '1.2.3.4.5', '1..2.3', '1.2.3.4 ']) assert.equal(normalizeIp(text), undefined, text);
});

test('IPv6 text still goes through ipaddr.js to its canonical form', () => {
  assert.equal(normalizeIp('2001:DB8:0::1'), '2001:db8::1');
  assert.equal(normalizeIp('fd00::1:2::3'), undefined);
});
