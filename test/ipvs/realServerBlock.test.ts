import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { normalizeIp } from '../../src/core/ipset/ipAddress';
import type { RealServer } from '../../src/core/ipvs/model';
import { parseIpvsadm } from '../../src/core/ipvs/parseIpvsadm';
import { forEachRealServerKey, hasDrainingRealServer, realServerCount } from '../../src/core/ipvs/realServerBlock';

/** How one real-server line is written: the plain form the parser keeps as text, or forms the general reader takes. */
type Style = 'plain' | 'tabs' | 'ipv6' | 'leadingZeroOctet' | 'paddedPort' | 'noSpaceAfterArrow';

interface Real {
  octets: [number, number, number, number];
  port: number;
  forward: 'Masq' | 'Route' | 'Tunnel' | 'Local';
  weight: number;
  active: number;
  inactive: number;
  style: Style;
  blankBefore: boolean;
}

const realArbitrary: fc.Arbitrary<Real> = fc.record({
  octets: fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })),
  port: fc.integer({ min: 1, max: 65535 }),
  forward: fc.constantFrom('Masq', 'Route', 'Tunnel', 'Local'),
  weight: fc.integer({ min: 0, max: 3 }),
  active: fc.integer({ min: 0, max: 100000 }),
  inactive: fc.integer({ min: 0, max: 100000 }),
  style: fc.constantFrom<Style>('plain', 'plain', 'plain', 'plain', 'tabs', 'ipv6', 'leadingZeroOctet', 'paddedPort', 'noSpaceAfterArrow'),
  blankBefore: fc.boolean(),
});

/** The line as ipvsadm (or a copy of it) prints it, and the RealServer a full parse gives for it at `line`. */
function render(real: Real, line: number): { text: string; expected: RealServer } {
  const [a, b, c, d] = real.octets;
  let address = `${a}.${b}.${c}.${d}`;
  let written = `${address}:${real.port}`;
  if (real.style === 'ipv6') {
    address = `fd00:10:244::${a.toString(16)}`;
    written = `[FD00:10:244::${a.toString(16).toUpperCase()}]:${real.port}`;
  } else if (real.style === 'leadingZeroOctet') {
    address = `0${a % 100}.${b}.${c}.${d}`;
    written = `${address}:${real.port}`;
  } else if (real.style === 'paddedPort') {
    written = `${address}:0${real.port}`.replace(/:0(\d{5})$/, ':$1');
  }
  const columns = [real.forward, String(real.weight), String(real.active), String(real.inactive)];
  const text =
    real.style === 'tabs' ? `\t->\t${written}\t${columns.join('\t')}\t`
    : real.style === 'noSpaceAfterArrow' ? `  ->${written.padEnd(28)} ${columns.map((column) => column.padEnd(6)).join(' ')}`
    : `  -> ${written.padEnd(28)} ${columns.map((column) => column.padEnd(6)).join(' ')}`;
  const port = Number(written.slice(written.lastIndexOf(':') + 1));
  return {
    text,
    expected: {
      address, port, forward: real.forward, weight: real.weight, activeConn: real.active, inactiveConn: real.inactive, line, raw: text.trimEnd(),
    },
  };
}

function listing(services: Real[][], crlf: boolean): { text: string; expected: RealServer[][] } {
  const lines = ['IP Virtual Server version 1.2.1 (size=4096)', 'Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn'];
  const expected: RealServer[][] = [];
  services.forEach((reals, index) => {
    lines.push(`TCP  10.96.${index >> 8}.${index & 255}:80 rr`);
    const servers: RealServer[] = [];
    for (const real of reals) {
      if (real.blankBefore) lines.push('   ');
      const { text, expected: server } = render(real, lines.length + 1);
      lines.push(text);
      servers.push(server);
    }
    expected.push(servers);
  });
  return { text: lines.join(crlf ? '\r\n' : '\n') + (crlf ? '\r\n' : '\n'), expected };
}

const plainCopy = (server: RealServer): RealServer => ({ ...server });

test('real servers kept in the text read back exactly as the general reader reads them, in every mix of line forms', () => {
  fc.assert(
    fc.property(fc.array(fc.array(realArbitrary, { maxLength: 6 }), { minLength: 1, maxLength: 6 }), fc.boolean(), (services, crlf) => {
      const { text, expected } = listing(services, crlf);
      const helpers = parseIpvsadm(text);
      assert.deepEqual(helpers.diagnostics, []);
      // The helpers answer from the text before anything was read ...
      helpers.value.virtualServers.forEach((vs, index) => {
        const reals = expected[index]!;
        assert.equal(realServerCount(vs), reals.length);
        assert.equal(hasDrainingRealServer(vs), reals.some((real) => real.weight === 0));
        const keys: string[] = [];
        forEachRealServerKey(vs, (server) => `${normalizeIp(server.address) ?? server.address}:${server.port}`, (key) => keys.push(key));
        assert.deepEqual(keys, reals.map((real) => `${normalizeIp(real.address) ?? real.address}:${real.port}`));
      });
      // ... and reading gives the same objects, line numbers and raw text as a full parse.
      const read = parseIpvsadm(text).value.virtualServers.map((vs) => vs.realServers.map(plainCopy));
      assert.deepEqual(read, expected);
    }),
    { numRuns: 300 },
  );
});

test('a virtual server whose real servers are still text serialises, spreads and compares like a plain one', () => {
  const { text, expected } = listing([[{ octets: [10, 244, 1, 5], port: 8080, forward: 'Masq', weight: 1, active: 0, inactive: 3, style: 'plain', blankBefore: false }]], false);
  const [vs] = parseIpvsadm(text).value.virtualServers;
  const json = JSON.parse(JSON.stringify(vs));
  assert.deepEqual(Object.keys(json), ['protocol', 'address', 'port', 'scheduler', 'flags', 'realServers', 'line', 'raw']);
  assert.deepEqual(json.realServers, expected[0]);
  assert.deepEqual([json.realServers[0].address, json.realServers[0].port, json.realServers[0].line], ['10.244.1.5', 8080, 5]);
  const spread = { ...vs! };
  assert.deepEqual(spread, json);
  assert.deepEqual(vs, json);
  // Once read, the same array is returned, and it can be replaced like a data property.
  assert.equal(vs!.realServers, vs!.realServers);
  (vs as { realServers: RealServer[] }).realServers = [];
  assert.equal(realServerCount(vs!), 0);
});

test('a plain real-server line after other text of the same virtual server is appended after the ones kept as text', () => {
  const text = [
    'TCP  10.96.0.1:443 rr',
    '  -> 10.0.0.1:6443                 Masq    1      0          0',
    '  -> 10.0.0.2:6443                 Masq    1      0          0',
    '  -> [fd00::3]:6443                Masq    1      0          0',
    '  -> 10.0.0.4:6443                 Masq    0      0          0',
    'UDP  10.96.0.10:53 rr',
  ].join('\n');
  const [api, dns] = parseIpvsadm(text).value.virtualServers;
  assert.equal(realServerCount(api!), 4);
  assert.equal(hasDrainingRealServer(api!), true);
  assert.deepEqual(api!.realServers.map((server) => [server.address, server.line, server.weight]), [['10.0.0.1', 2, 1], ['10.0.0.2', 3, 1], ['fd00::3', 4, 1], ['10.0.0.4', 5, 0]]);
  assert.deepEqual(dns!.realServers, []);
  assert.equal(hasDrainingRealServer(dns!), false);
});
