import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { build } from 'esbuild';
import { AnalysisClient, AnalysisError } from '../../src/extension/analysis/analysisClient';
import { SHOP, loadShop } from './helpers';

/** The worker bundled as scripts/build.mjs bundles it into the extension, once for this file. */
let workerCode: Promise<string> | undefined;

/** A client running the bundled worker from its source text, as the packaged extension does. */
async function client(): Promise<AnalysisClient> {
  workerCode ??= build({
    entryPoints: [join(import.meta.dirname, '../../src/extension/analysis/analysisWorker.ts')],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
  }).then((result) => result.outputFiles[0]!.text);
  return new AnalysisClient({ code: await workerCode });
}

test('a real worker opens a snapshot, and its answers cross to the host as plain data', async () => {
  const analysis = await client();
  try {
    const summary = await analysis.call('open', SHOP);
    const direct = await loadShop();
    assert.deepEqual(summary.services.map((service) => service.id), direct.services.services.map((service) => service.id));
    const web = summary.services.findIndex((service) => service.id === 'shop/web:http');
    const [details] = await analysis.call('details', SHOP, [web]);
    assert.deepEqual(details?.endpoints, direct.services.services[web]!.endpoints);
    const trace = await analysis.call('trace', SHOP, { src: '10.244.1.100', dst: '10.96.120.15', proto: 'tcp', sport: 40000, dport: 80 });
    assert.equal(trace.service, 'shop/web:http');
    assert.equal(trace.outcomes.length, 3);
  } finally {
    analysis.dispose();
  }
});

test('a document version the worker lacks is refused with needText, and answered once sent', async () => {
  const analysis = await client();
  try {
    const path = join(SHOP, 'iptables-save.txt');
    const document = { uri: `file://${path}`, path, version: 7, languageId: 'iptables-save' };
    const error = await analysis.call('hover', SHOP, document, 0, 0).catch((caught: unknown) => caught);
    assert.ok(error instanceof AnalysisError);
    assert.equal(error.code, 'needText');
    const text = (await loadShop()).snapshot.files['iptables-save.txt']!;
    await analysis.call('syncDocument', document, text);
    const line = text.split('\n').findIndex((each) => each.includes('--probability 0.33333333349'));
    const hover = await analysis.call('hover', SHOP, document, line, text.split('\n')[line]!.indexOf('0.333') + 1);
    assert.match(hover!.markdown, /\*\*33\.3+%\*\*/);
  } finally {
    analysis.dispose();
  }
});

test('errors come back as one sentence', async () => {
  const analysis = await client();
  try {
    await assert.rejects(analysis.call('open', '/nonexistent-folder'), /no such snapshot folder/);
    assert.deepEqual(await analysis.call('forget', '/nonexistent-folder'), false, 'and the worker goes on answering');
  } finally {
    analysis.dispose();
  }
  await assert.rejects(analysis.call('open', SHOP), /shutting down/);
});

test('a worker that dies fails its pending requests, is reported, and is replaced on the next request', async () => {
  const analysis = new AnalysisClient({ file: join(import.meta.dirname, 'dyingWorker.mjs') });
  try {
    let lost = 0;
    analysis.onDidLoseWorker(() => lost++);
    assert.deepEqual(await analysis.call('forget', '/a'), ['/a']);
    const echoed = analysis.call('forget', '/b');
    await assert.rejects(analysis.call('open', '/c'), /stopped \(exit code 3\)/);
    assert.deepEqual(await echoed, ['/b'], 'a request answered before the crash keeps its answer');
    assert.equal(lost, 1);
    assert.deepEqual(await analysis.call('forget', '/d'), ['/d'], 'a new worker answers');
  } finally {
    analysis.dispose();
  }
});
