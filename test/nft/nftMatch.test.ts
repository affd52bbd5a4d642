import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { addressMatches, fieldText, lookupElement } from '../../src/core/nft/nftMatch';

/** What ipaddr.js says about an IPv4 address and an address, prefix or range: the reference for the fast path. */
function reference(ip: string, text: string): boolean | undefined {
  const parse = (value: string) => (ipaddr.IPv4.isValid(value) ? ipaddr.IPv4.parse(value) : undefined);
  const address = parse(ip)!;
  const toNumber = (value: ipaddr.IPv4) => value.octets.reduce((sum, octet) => sum * 256 + octet, 0);
  if (text.includes('/')) {
    const [network, bits] = text.split('/');
    const parsed = parse(network);
    return parsed ? address.match(parsed, Number(bits)) : undefined;
  }
  if (text.includes('-')) {
    const [low, high] = text.split('-').map(parse);
    return low && high ? toNumber(address) >= toNumber(low) && toNumber(address) <= toNumber(high) : undefined;
  }
  const single = parse(text);
  return single ? toNumber(single) === toNumber(address) : undefined;
}

const octet = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 1, 10, 96, 127, 128, 255));
const quad = fc.tuple(octet, octet, octet, octet).map((parts) => parts.join('.'));
/** Sometimes with a leading zero, which ipaddr.js reads as octal: such text must take the general path. */
const written = fc.oneof(quad, quad.map((text) => text.replace(/^(\d)\./, '0$1.')));

test('IPv4 addresses, prefixes and ranges match exactly as ipaddr.js says', () => {
  fc.assert(
    fc.property(
      quad,
      fc.oneof(
        written,
        fc.tuple(written, fc.integer({ min: 0, max: 32 })).map(([network, bits]) => `${network}/${bits}`),
        fc.tuple(written, written).map(([low, high]) => `${low}-${high}`),
      ),
      (ip, text) => {
        assert.equal(addressMatches(ip, text), reference(ip, text), `${ip} in ${text}`);
      },
    ),
    { numRuns: 3000 },
  );
  assert.equal(addressMatches('10.96.0.10', '10.96.0.0/12'), true);
  assert.equal(addressMatches('10.112.0.1', '10.96.0.0/12'), false);
  assert.equal(addressMatches('10.0.0.8', '010.0.0.8'), false, 'a leading zero is octal for ipaddr.js: 010 is 8');
  assert.equal(addressMatches('10.0.0.1', 'fd00::/8'), false);
  assert.equal(addressMatches('fd00::1', 'fd00::/8'), true);
});

test('set lookups find canonical IPv4 keys directly and other spellings through ipaddr.js', () => {
  const elements = [{ key: ['10.96.0.10', 'udp', '53'] }, { key: ['fd00:0:0::a', 'tcp', '80'] }, { key: ['10.0.0.0/8', 'tcp', '80'] }];
  const fields = (ip: string, proto: number, port: number) => [
    { type: 'address' as const, value: ip },
    { type: 'number' as const, value: proto },
    { type: 'number' as const, value: port },
  ];
  const protocolComponents = [false, true, false];
  assert.equal(lookupElement({}, elements, fields('10.96.0.10', 17, 53), protocolComponents).element, elements[0]);
  assert.equal(lookupElement({}, elements, fields('fd00::a', 6, 80), protocolComponents).element, elements[1]);
  assert.equal(lookupElement({}, elements, fields('10.1.2.3', 6, 80), protocolComponents).element, elements[2]);
  assert.equal(lookupElement({}, elements, fields('10.96.0.10', 6, 53), protocolComponents).element, undefined);
  assert.equal(fieldText({ type: 'address', value: 'FD00:0::A' }), 'fd00:0:0:0:0:0:0:a');
  assert.equal(fieldText({ type: 'address', value: '10.96.0.10' }), '10.96.0.10');
});
