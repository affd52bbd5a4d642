import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { parseIPv4, parsePrefix4 } from '../../src/core/net/ipv4';

/** The reference: ipaddr.js's four-part decimal check and its octets. */
function reference(text: string): number | undefined {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  return ipaddr.IPv4.parse(text).octets.reduce((sum, octet) => sum * 256 + octet, 0);
}

const octetText = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map(String),
  fc.integer({ min: 256, max: 999 }).map(String),
  fc.constantFrom('00', '01', '010', '0x1', '1a', '', ' 1', '-1', '1e2', '٣'),
);
const candidate = fc.oneof(
  fc.array(octetText, { minLength: 4, maxLength: 4 }).map((parts) => parts.join('.')),
  fc.array(octetText, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('.')),
  fc.string({ maxLength: 20 }),
  fc.constantFrom('::1', 'fd00::1', '10.0.0.1 ', '10.0.0.1/32', '1.2.3', '1.2.3.4.5'),
);

test('parseIPv4 reads exactly the addresses ipaddr.js calls four-part decimal, to the same number', () => {
  fc.assert(
    fc.property(candidate, (text) => {
      assert.equal(parseIPv4(text), reference(text), JSON.stringify(text));
    }),
    { numRuns: 20000, seed: 3 },
  );
  assert.equal(parseIPv4('255.255.255.255'), 0xffffffff);
  assert.equal(parseIPv4('10.96.0.1'), 0x0a600001);
});

test('prefixes: bits, dotted masks and their network', () => {
  assert.deepEqual(parsePrefix4('10.244.1.7/16'), { network: 0x0af40000, mask: 0xffff0000, bits: 16 });
  assert.deepEqual(parsePrefix4('10.0.0.0/255.0.0.0'), { network: 0x0a000000, mask: 0xff000000, bits: 8 });
  assert.equal(parsePrefix4('10.0.0.0/33'), undefined);
  assert.equal(parsePrefix4('010.0.0.0/8'), undefined);
});
