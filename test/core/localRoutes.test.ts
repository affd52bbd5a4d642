import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRouteLocal, parseRouteMain } from '../../src/core/routes/localRoutes';

const LOCAL = `local 10.0.0.5 dev eth0 proto kernel scope host src 10.0.0.5
broadcast 10.0.0.255 dev eth0 proto kernel scope link src 10.0.0.5
local 10.96.0.10 dev kube-ipvs0 proto kernel scope host src 10.96.0.10
local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1
local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1
broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1
anycast fe80:: dev eth0 proto kernel metric 0 pref medium
`;

test('local, broadcast and anycast entries with device and scope', () => {
  const { value, diagnostics } = parseRouteLocal(LOCAL);
  assert.deepEqual(diagnostics, []);
  assert.equal(value.entries.length, 7);
  assert.deepEqual(value.entries[2], { type: 'local', prefix: '10.96.0.10', device: 'kube-ipvs0', proto: 'kernel', scope: 'host', src: '10.96.0.10', line: 3 });
  assert.equal(value.entries[6].type, 'anycast');
});

test('isLocal follows the local table, including prefixes and broadcast exceptions', () => {
  const routes = parseRouteLocal(LOCAL).value;
  assert.equal(routes.isLocal('10.0.0.5'), true);
  assert.equal(routes.isLocal('10.96.0.10'), true);
  assert.equal(routes.deviceOf('10.96.0.10'), 'kube-ipvs0');
  assert.equal(routes.isLocal('127.3.4.5'), true);
  assert.equal(routes.isLocal('127.255.255.255'), false);
  assert.equal(routes.isBroadcast('10.0.0.255'), true);
  assert.equal(routes.isLocal('10.0.0.6'), false);
  assert.equal(routes.isLocal('not an address'), false);
});

test('main table: longest prefix wins, default route, junk lines reported with their line', () => {
  const { value, diagnostics } = parseRouteMain('default via 10.0.0.1 dev eth0\n10.244.1.0/24 via 10.0.0.6 dev eth0\n10.244.0.0/24 dev cni0 scope link\n10.244.0.7 dev veth1 scope link\nnonsense here\n');
  assert.equal(value.routeTo('10.244.0.7')?.device, 'veth1');
  assert.equal(value.routeTo('10.244.0.8')?.device, 'cni0');
  assert.equal(value.routeTo('10.244.1.3')?.via, '10.0.0.6');
  assert.equal(value.routeTo('8.8.8.8')?.prefix, 'default');
  assert.deepEqual(diagnostics.map((d) => d.line), [5]);
});
