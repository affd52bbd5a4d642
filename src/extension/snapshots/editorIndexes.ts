/**
 * The indexes hovers, references and CodeLenses read, built right after a snapshot is analysed so the first
 * hover is as fast as the next. The analysis worker runs them one slice per turn of its event loop, so requests
 * that arrive meanwhile wait for one slice at most: a jump index is read RULES_PER_TURN rules at a time; the
 * Service chain owners are one slice, as the Service tree builds them.
 */

import type { Analysis } from '../../core/analyze';
import { prepareJumpIndex } from '../../core/explain/explainIptables';
import { prepareAddressLookup, prepareChainLookup, prepareEndpointLookup } from '../../core/explain/serviceLookup';

/** About this many rules are indexed per turn: a few milliseconds, so the editor's requests wait little. */
const RULES_PER_TURN = 20_000;

/** About this many Services' endpoints are indexed per turn (their details are computed then: ~0.2 ms each). */
const SERVICES_PER_TURN = 200;

export interface IndexStep {
  name: string;
  /** Does one slice of the work; true when the step is complete, false when it wants another turn. */
  run(): boolean;
}

/**
 * A per-Service chain of the snapshot to warm the chain lookup with: in iptables mode the first KUBE-SVC-/KUBE-SEP-
 * chain in nat (reading it does not expand a Service), in the other modes the first Service's first path step.
 */
function someServiceChain(analysis: Analysis): string {
  if (analysis.mode === 'iptables') {
    for (const name of analysis.iptables?.tables.get('nat')?.chains.keys() ?? []) {
      if (name.startsWith('KUBE-SVC-') || name.startsWith('KUBE-SEP-')) return name;
    }
  }
  return analysis.services.services[0]?.path[0]?.label ?? '';
}

export function editorIndexSteps(analysis: Analysis): IndexStep[] {
  const steps: IndexStep[] = [
    { name: 'Service chains', run: () => (prepareChainLookup(analysis.services, someServiceChain(analysis)), true) },
    { name: 'Service addresses', run: () => (prepareAddressLookup(analysis.services), true) },
  ];
  // IPVS and nftables hovers look Services up by endpoint; iptables hovers never do, so its Services stay unexpanded.
  if (analysis.mode === 'ipvs' || analysis.mode === 'nftables') {
    steps.push({ name: 'Service endpoints', run: () => prepareEndpointLookup(analysis.services, SERVICES_PER_TURN) });
  }
  const ruleset = analysis.iptables;
  if (ruleset) {
    for (const table of ruleset.tables.keys()) steps.push({ name: `${table} jumps`, run: () => prepareJumpIndex(ruleset, table, RULES_PER_TURN) });
  }
  return steps;
}

/** Runs one slice per event-loop turn (setImmediate lets pending messages, such as the editor's requests, go first). */
export function prepareEditorIndexes(analysis: Analysis, onError: (error: unknown) => void): void {
  const steps = editorIndexSteps(analysis);
  const next = () => {
    try {
      if (steps[0]?.run()) steps.shift();
    } catch (error) {
      onError(error);
      return;
    }
    if (steps.length > 0) setImmediate(next);
  };
  setImmediate(next);
}
