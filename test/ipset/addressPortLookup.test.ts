import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ipsetHasAddress, ipsetHasAddressPort, ipsetMatch } from '../../src/core/ipset/ipsetMatch';
import { parseIpset } from '../../src/core/ipset/parseIpset';

/** A small address space, so random packets hit members, near misses and other families often. */
const address = fc.oneof(
  fc.tuple(fc.constantFrom(10, 192), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 3 })).map(([a, b, c]) => `${a}.${b}.0.${c}`),
  fc.constantFrom('fd00::1', 'FD00:0::1', '010.0.0.1'),
);
const protocol = fc.constantFrom('tcp', 'udp', 'sctp', 'TCP');
const port = fc.integer({ min: 79, max: 81 });

const member = fc.oneof(
  fc.tuple(address, protocol, port).map(([ip, proto, p]) => `${ip},${proto.toLowerCase()}:${p}`),
  fc.tuple(fc.constantFrom('10.0.0.0/8', '10.1.0.0/16', '192.0.0.0/24'), protocol, port, fc.boolean()).map(
    ([net, proto, p, nomatch]) => `${net},${proto.toLowerCase()}:${p}${nomatch ? ' nomatch' : ''}`,
  ),
  fc.tuple(address, port).map(([ip, p]) => `${ip},${p}`),
  fc.constantFrom('10.0.0.5-10.0.0.7,tcp:80', '10.0.0.1', '80'),
);

test('the address,protocol:port lookup answers as the general dst,dst test does, for every set type', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('hash:ip,port', 'hash:net,port', 'hash:ip', 'bitmap:port', 'hash:ip,port,ip'),
      fc.constantFrom('family inet', 'family inet6', ''),
      fc.array(member, { maxLength: 8 }),
      address,
      protocol,
      port,
      (type, options, members, ip, proto, p) => {
        const text = [`create S ${type} ${options}`, ...members.map((each) => `add S ${each}`)].join('\n');
        const set = parseIpset(text).value.get('S')!;
        const general = ipsetMatch(set, ['dst', 'dst'], { src: ip, dst: ip, proto, sport: 0, dport: p }) === true;
        assert.equal(ipsetHasAddressPort(set, ip, proto, p), general, `${text}\n? ${ip} ${proto}:${p}`);
      },
    ),
    { numRuns: 3000 },
  );
});

test('a member is found, its nomatch exception wins, and a missing address is turned away', () => {
  const set = parseIpset(['create S hash:net,port family inet', 'add S 10.0.0.0/8,tcp:80', 'add S 10.1.0.0/16,tcp:80 nomatch', 'add S 192.0.0.1,udp:53'].join('\n')).value.get('S')!;
  assert.equal(ipsetHasAddressPort(set, '10.2.3.4', 'tcp', 80), true);
  assert.equal(ipsetHasAddressPort(set, '10.1.3.4', 'tcp', 80), false);
  assert.equal(ipsetHasAddressPort(set, '192.0.0.1', 'UDP', 53), true);
  assert.equal(ipsetHasAddressPort(set, '192.0.0.1', 'tcp', 53), false);
  assert.equal(ipsetHasAddressPort(set, '172.16.0.1', 'tcp', 80), false);
});

test('the address lookup answers as the general dst test does, for every set type', () => {
  const addressMember = fc.oneof(
    address,
    fc.tuple(fc.constantFrom('10.0.0.0/8', '10.1.0.0/16', '192.0.0.0/24', 'fd00::/64'), fc.boolean()).map(([net, nomatch]) => `${net}${nomatch ? ' nomatch' : ''}`),
    member,
  );
  fc.assert(
    fc.property(
      fc.constantFrom('hash:ip', 'hash:net', 'hash:ip,port', 'bitmap:port'),
      fc.constantFrom('family inet', 'family inet6', 'family inet netmask 24', ''),
      fc.array(addressMember, { maxLength: 8 }),
      address,
      (type, options, members, ip) => {
        const text = [`create S ${type} ${options}`, ...members.map((each) => `add S ${each}`)].join('\n');
        const set = parseIpset(text).value.get('S')!;
        const general = ipsetMatch(set, ['dst'], { src: ip, dst: ip, proto: 'tcp', sport: 0, dport: 0 }) === true;
        assert.equal(ipsetHasAddress(set, ip), general, `${text}\n? ${ip}`);
      },
    ),
    { numRuns: 3000 },
  );
});
