/**
 * The indexes hovers, references and CodeLenses read, built right after a snapshot is analysed so the first
 * hover is as fast as the next. Each step is one index (tens of milliseconds on a 10,000-Service node); the
 * extension runs them one per turn of the event loop, after the tree has its first level, so requests that
 * arrive meanwhile are not held up by the whole batch.
 */

import type { Analysis } from '../../core/analyze';
import { prepareJumpIndex } from '../../core/explain/explainIptables';
import { prepareAddressLookup, prepareChainLookup } from '../../core/explain/serviceLookup';

export interface IndexStep {
  name: string;
  run(): void;
}

export function editorIndexSteps(analysis: Analysis): IndexStep[] {
  const steps: IndexStep[] = [
    { name: 'Service chains', run: () => prepareChainLookup(analysis.services) },
    { name: 'Service addresses', run: () => prepareAddressLookup(analysis.services) },
  ];
  const ruleset = analysis.iptables;
  if (ruleset) {
    for (const table of ruleset.tables.keys()) steps.push({ name: `${table} jumps`, run: () => prepareJumpIndex(ruleset, table) });
  }
  return steps;
}

/** Runs the steps one per event-loop turn (setImmediate lets pending I/O, such as the editor's requests, go first). */
export function prepareEditorIndexes(analysis: Analysis, onError: (error: unknown) => void): void {
  const steps = editorIndexSteps(analysis);
  const next = () => {
    try {
      steps.shift()?.run();
    } catch (error) {
      onError(error);
      return;
    }
    if (steps.length > 0) setImmediate(next);
  };
  setImmediate(next);
}
