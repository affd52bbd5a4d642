import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tracePacket } from '../../src/core/trace/tracePacket';
import { AnalysisBackend, NeedTextError } from '../../src/extension/analysis/analysisBackend';
import type { DocumentRef } from '../../src/extension/analysis/analysisProtocol';
import { SnapshotStore } from '../../src/extension/snapshots/snapshotStore';
import { childrenOf, describeElement, toTreeSnapshot, type TreeState } from '../../src/extension/tree/treeModel';
import { SHOP, loadShop } from './helpers';

const IPTABLES = join(SHOP, 'iptables-save.txt');

function ref(path: string, version = 1, languageId = 'iptables-save'): DocumentRef {
  return { uri: `file://${path}`, path, version, languageId };
}

test('the summary carries the first level of every Service and what the trace defaults need, not the details', async () => {
  const backend = new AnalysisBackend();
  const summary = await backend.open(SHOP);
  const analysis = await loadShop();
  assert.equal(summary.mode, 'iptables');
  assert.deepEqual(summary.services.map((service) => service.id), analysis.services.services.map((service) => service.id));
  for (const service of summary.services) assert.ok(!('endpoints' in service) && !('path' in service), service.id);
  assert.equal(summary.clusterCidr, '10.244.0.0/16');
  assert.equal(summary.routes.length, analysis.routes!.entries.length);
  assert.doesNotThrow(() => structuredClone(summary), 'the summary crosses to the host as it is');
});

test('details, filter matches and traces answer what the Analysis itself answers', async () => {
  const backend = new AnalysisBackend();
  const analysis = await loadShop();
  const services = analysis.services.services;
  const all = services.map((_, index) => index);
  const details = await backend.details(SHOP, all);
  details.forEach((each, index) => {
    assert.deepEqual(each?.endpoints, services[index]!.endpoints);
    assert.deepEqual(each?.path, services[index]!.path);
    assert.deepEqual(each?.warnings, services[index]!.warnings);
  });
  assert.deepEqual(await backend.details(SHOP, [services.length + 5]), [null]);
  const endpoint = services.find((service) => service.endpoints.length > 0)!.endpoints[0]!.ip;
  const matched = await backend.match(SHOP, endpoint);
  assert.deepEqual(matched, all.filter((index) => services[index]!.endpoints.some((each) => each.ip.includes(endpoint))));
  const packet = { src: '10.244.1.100', dst: '10.96.120.15', proto: 'tcp' as const, sport: 40000, dport: 80 };
  assert.deepEqual(await backend.trace(SHOP, packet), tracePacket(analysis, packet));
});

test('a document is explained only once its text for that version was sent', async () => {
  const backend = new AnalysisBackend();
  const analysis = await loadShop();
  const text = analysis.snapshot.files['iptables-save.txt']!;
  const line = text.split('\n').findIndex((each) => each.startsWith(':KUBE-SVC-7EJNTS7AENER2WX5'));
  await assert.rejects(backend.hover(SHOP, ref(IPTABLES), line, 3), NeedTextError);
  backend.syncDocument(ref(IPTABLES), text);
  const hover = await backend.hover(SHOP, ref(IPTABLES), line, 3);
  assert.match(hover!.markdown, /shop\/web:http/);
  await assert.rejects(backend.hover(SHOP, ref(IPTABLES, 2), line, 3), NeedTextError, 'a newer version needs its text');
  const lenses = await backend.codeLenses(SHOP, ref(IPTABLES));
  assert.ok(lenses.some((lens) => lens.serviceId === 'shop/web:http' && lens.line === line + 1));
  const definition = await backend.definition(SHOP, ref(IPTABLES), line, 3);
  assert.equal(definition?.line, line + 1);
  backend.closeDocument(ref(IPTABLES).uri);
  await assert.rejects(backend.hover(SHOP, ref(IPTABLES), line, 3), NeedTextError);
});

test('a document outside any snapshot folder is explained from its own text', async () => {
  const backend = new AnalysisBackend();
  const path = '/nonexistent-folder/iptables-save.txt';
  backend.syncDocument(ref(path), '*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -j KUBE-MARK-MASQ\nCOMMIT\n');
  const hover = await backend.hover('/nonexistent-folder', ref(path), 2, 30);
  assert.match(hover!.markdown, /masquerade/i);
  assert.deepEqual((await backend.outline('/nonexistent-folder', ref(path))).map((table) => table.name), ['nat']);
});

test('the store keeps first-level Services and fetches details only for the Services it is asked about', async () => {
  const backend = new AnalysisBackend();
  const asked: number[][] = [];
  const store = new SnapshotStore({
    open: (folder) => backend.open(folder),
    details: (folder, indexes) => (asked.push(indexes), backend.details(folder, indexes)),
    match: (folder, filter) => backend.match(folder, filter),
    forget: async (folder) => backend.forget(folder),
  });
  const loaded = await store.add(SHOP);
  const analysis = await loadShop();
  const web = analysis.services.services.findIndex((service) => service.id === 'shop/web:http');
  assert.deepEqual(loaded.services!.services[web]!.endpoints, [], 'no details before they are asked for');
  await store.ensureDetails(loaded, [web, web]);
  await store.ensureDetails(loaded, [web]);
  assert.deepEqual(asked, [[web]], 'each Service is fetched once');
  assert.deepEqual(loaded.services!.services[web]!.endpoints, analysis.services.services[web]!.endpoints);
  // The tree shows what it would show from the Analysis itself.
  const state: TreeState = { snapshots: [toTreeSnapshot(loaded)], hosts: [], filter: '' };
  const element = childrenOf(state, childrenOf(state)[0]).find((each) => each.kind === 'service' && each.index === web)!;
  const direct: TreeState = { snapshots: [{ ...toTreeSnapshot(loaded), services: analysis.services }], hosts: [], filter: '' };
  assert.deepEqual(describeElement(state, element), describeElement(direct, element));
  assert.deepEqual(await store.matching(loaded, 'shop/web'), [web]);
});

test('a folder that is not a snapshot is kept with its reason', async () => {
  const backend = new AnalysisBackend();
  const store = new SnapshotStore({
    open: (folder) => backend.open(folder),
    details: (folder, indexes) => backend.details(folder, indexes),
    match: (folder, filter) => backend.match(folder, filter),
    forget: async (folder) => backend.forget(folder),
  });
  const loaded = await store.add('/nonexistent-folder');
  assert.equal(loaded.summary, null);
  assert.match(loaded.error!, /no such snapshot folder/);
});

test('a document with CRLF line ends is read line by line, without the CR', async () => {
  const backend = new AnalysisBackend();
  const path = '/nonexistent-folder/iptables-save.txt';
  const text = '*nat\r\n:KUBE-SERVICES - [0:0]\r\n:KUBE-SVC-AAAA - [0:0]\r\n-A KUBE-SERVICES -j KUBE-SVC-AAAA\r\nCOMMIT\r\n';
  backend.syncDocument(ref(path), text);
  const definition = await backend.definition(undefined, ref(path), 3, 25);
  assert.deepEqual(definition, { line: 3, start: 1, end: 14 });
  const references = await backend.references(undefined, ref(path), 2, 3, false);
  assert.deepEqual(references, [{ line: 4, start: 20, end: 33 }]);
  const hover = await backend.hover(undefined, ref(path), 3, 25);
  assert.deepEqual([hover?.start, hover?.end], [20, 33], 'the last word of a line ends before the CR');
  const [nat] = await backend.outline(undefined, ref(path));
  assert.equal(nat!.endLine, 6, 'five lines and the empty one after the last line end');
});
