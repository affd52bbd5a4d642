// Opening a snapshot: the tree lists the Services from the worker's preview while the analysis runs.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { AnalysisBackend } from '../../src/extension/analysis/analysisBackend';
import { SnapshotStore, type LoadedSnapshot } from '../../src/extension/snapshots/snapshotStore';
import { childrenOf, describeElement, toTreeSnapshot, type TreeState } from '../../src/extension/tree/treeModel';
import { SHOP } from './helpers';

const SAMPLES = join(import.meta.dirname, '..', '..', 'samples');

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

/** A store over a real backend whose analyses wait for `release`, so the preview can be looked at first. */
function heldBackStore() {
  const backend = new AnalysisBackend();
  const release = deferred<void>();
  const store = new SnapshotStore({
    preview: (folder) => backend.preview(folder),
    open: async (folder) => {
      await release.promise;
      return backend.open(folder);
    },
    details: (folder, indexes) => backend.details(folder, indexes),
    match: (folder, filter) => backend.match(folder, filter),
    forget: async (folder) => backend.forget(folder),
  });
  return { backend, release, store };
}

test('the preview lists the analysed Services in their order, and the snapshot turns into the analysed one', async () => {
  const { release, store } = heldBackStore();
  const shown: LoadedSnapshot[] = [];
  store.onDidChange(() => shown.push(store.get(SHOP)!));
  const adding = store.add(SHOP);
  while (shown.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const preview = shown[0]!;
  assert.equal(preview.analysing, true);
  assert.equal(preview.summary, null);
  const state: TreeState = { snapshots: [toTreeSnapshot(preview)], hosts: [], filter: '' };
  const root = childrenOf(state)[0]!;
  assert.match(describeElement(state, root).description ?? '', /analysing/);
  assert.equal(describeElement(state, root).contextValue, 'analysingSnapshot', 'snapshot commands wait for the analysis');

  // Details asked of the preview wait for the analysis.
  let detailsDone = false;
  const details = store.ensureDetails(preview, [0]).then(() => (detailsDone = true));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(detailsDone, false);
  release.resolve();
  const loaded = await adding;
  await details;
  assert.equal(loaded.analysing, false);
  assert.equal(store.get(SHOP), loaded);
  // Same Services in the same order, so the tree's elements (by index) stay what they were.
  const listing = (snapshot: LoadedSnapshot) => snapshot.services!.services.map((service) => `${service.namespace} ${service.id} ${service.protocol}`);
  assert.deepEqual(listing(preview), listing(loaded));
  assert.ok(preview.services!.services.length > 0);
});

test('no preview for a folder that is already analysed, for other modes, or for a folder that cannot be read', async () => {
  const backend = new AnalysisBackend();
  await backend.open(SHOP);
  assert.equal(await backend.preview(SHOP), null);
  for (const other of ['ipvs-seed003', 'nftables-kind']) assert.equal(await backend.preview(join(SAMPLES, other)), null, other);
  assert.ok(((await backend.preview(join(SAMPLES, 'minikube-seed001'))) ?? []).length > 0, 'an iptables-mode sample has one');
  await assert.rejects(backend.preview('/nonexistent-folder'));
});

test('a snapshot removed while it is analysed stays removed', async () => {
  const { store, release } = heldBackStore();
  const adding = store.add(SHOP);
  while (!store.get(SHOP)) await new Promise((resolve) => setTimeout(resolve, 5));
  store.remove(SHOP);
  release.resolve();
  await adding;
  assert.equal(store.get(SHOP), undefined);
  assert.deepEqual(store.list(), []);
});
