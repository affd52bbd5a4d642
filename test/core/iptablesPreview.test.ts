import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeSnapshot } from '../../src/core/analyze';
import type { Snapshot, SnapshotFileName } from '../../src/core/snapshot';
import { previewIptablesServices } from '../../src/core/services/iptablesPreview';
import { generateSnapshot } from '../../bench/generator/snapshot';

/** Snapshot folders shipped in the repository whose iptables-save.txt exists. */
function iptablesFolders(): string[] {
  const folders: string[] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (!statSync(path).isDirectory()) continue;
      if (existsSync(join(path, 'iptables-save.txt'))) folders.push(path);
      else visit(path);
    }
  };
  visit('samples');
  visit('test/fixtures');
  return folders;
}

function readFolder(folder: string): Snapshot {
  const files: Partial<Record<SnapshotFileName, string>> = {};
  for (const name of readdirSync(folder)) if (name.endsWith('.txt')) files[name as SnapshotFileName] = readFileSync(join(folder, name), 'utf8');
  return { name: folder, files };
}


test('the preview lists the same Services (id and protocol), in the same order, as the full tree', () => {
  let compared = 0;
  // The shipped snapshots, and a generated node with NodePorts, LoadBalancers, eTP Local and Services without endpoints.
  const generated = generateSnapshot({ services: 400, endpoints: 3, seed: 7, mode: 'iptables' }).files as Snapshot['files'];
  const snapshots = [...iptablesFolders().map(readFolder), { name: 'generated', files: generated }];
  for (const snapshot of snapshots) {
    const folder = snapshot.name;
    const analysis = analyzeSnapshot(snapshot);
    if (analysis.mode !== 'iptables') continue;
    const preview = previewIptablesServices(snapshot.files['iptables-save.txt']!);
    const pick = (service: { id: string; protocol: string }) => `${service.id} ${service.protocol}`;
    assert.deepEqual(preview.map(pick), analysis.services.services.map(pick), folder);
    compared += preview.length;
  }
  assert.ok(compared > 400, `expected many Services across the fixtures, compared ${compared}`);
});

test('a dump with counters on every line has no preview rather than a wrong one', () => {
  const text = '*nat\n:KUBE-SERVICES - [0:0]\n[5:300] -A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-SVC-X\nCOMMIT\n';
  assert.deepEqual(previewIptablesServices(text), []);
  assert.equal(previewIptablesServices(text.replace('[5:300] ', '')).length, 1);
});
