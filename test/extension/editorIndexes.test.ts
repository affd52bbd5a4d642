import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Analysis } from '../../src/core/analyze';
import { editorIndexSteps, prepareEditorIndexes } from '../../src/extension/snapshots/editorIndexes';
import { loadShop } from './helpers';

const turn = () => new Promise((resolve) => setImmediate(resolve));

test('the background indexes are built one per event-loop turn, not all at once', async () => {
  const analysis = await loadShop();
  const steps = editorIndexSteps(analysis);
  assert.ok(steps.length >= 3);
  // The first two steps (Service chains, Service addresses) each read the analysis's Service tree once when they run.
  let ran = 0;
  const counting = { ...analysis };
  Object.defineProperty(counting, 'services', { get: () => (ran++, analysis.services) });
  const errors: unknown[] = [];
  prepareEditorIndexes(counting as Analysis, (error) => errors.push(error));
  assert.equal(ran, 0, 'nothing runs before the current task ends');
  await turn();
  assert.equal(ran, 1, 'the first step (Service chains) runs in the next turn');
  await turn();
  assert.equal(ran, 2, 'the second step (addresses) runs in the turn after');
  for (let i = 0; i < steps.length; i++) await turn();
  assert.deepEqual(errors, []);
});

test('a step that fails is reported and stops the rest, without throwing into the event loop', async () => {
  const analysis = await loadShop();
  const broken = { ...analysis };
  Object.defineProperty(broken, 'services', {
    get: () => {
      throw new Error('no tree');
    },
  });
  const errors: unknown[] = [];
  prepareEditorIndexes(broken as Analysis, (error) => errors.push(error));
  for (let i = 0; i < 10; i++) await turn();
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /no tree/);
});
