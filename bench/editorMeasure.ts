/**
 * Editor benchmark child: in a fresh process, opens one snapshot folder the way the extension does (the
 * SnapshotStore with readSnapshotFolder + analyzeSnapshot), reads the tree's first level through treeModel.ts,
 * builds the background hover indexes and answers the CodeLens request of the opened iptables-save.txt (unless
 * told `--cold`), then hovers over it through the hover provider's own core. Only vscode's TextDocument is
 * imitated: lines split once when the file opens, getText() joining them, as the extension host keeps a
 * document. Prints one JSON line for editor.ts.
 * Run: `node --import tsx bench/editorMeasure.ts DIR FIRST [--cold]`, FIRST = chain | probability | kubeServices.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeSnapshot } from '../src/core/analyze';
import { servicesOfChain } from '../src/core/explain/serviceLookup';
import { readSnapshotFolder } from '../src/node/snapshotFolder';
import { DocumentRulesets, explainIptablesDocumentAt, type RuleDocument } from '../src/extension/language/iptablesDocuments';
import { chainAt, chainReferences, serviceChainLines } from '../src/extension/language/ruleNavigation';
import { editorIndexSteps } from '../src/extension/snapshots/editorIndexes';
import { SnapshotStore } from '../src/extension/snapshots/snapshotStore';
import { childrenOf, describeElement, toTreeSnapshot, type TreeState } from '../src/extension/tree/treeModel';
import { HOVER_KINDS, type EditorMeasurement, type HoverKind, type HoverTiming } from './editorResults';

function elapsed<T>(work: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = work();
  return { value, ms: performance.now() - started };
}

/** The document as the extension host holds it: lines split on open, text joined on getText(). */
function openDocument(path: string): RuleDocument & { lineCount: number } {
  const lines = readFileSync(path, 'utf8').split(/\r\n|\r|\n/);
  return {
    uri: { path, toString: () => `file://${path}` },
    version: 1,
    lineCount: lines.length,
    getText: () => lines.join('\n'),
    lineAt: (line) => ({ text: lines[line] ?? '' }),
  };
}

interface Position {
  line: number;
  column: number;
}

/** Hover positions for each kind, on distinct Services in the second half of the file: [first, another]. */
function findTargets(document: RuleDocument & { lineCount: number }): Record<HoverKind, [Position, Position]> {
  const found: Record<HoverKind, Position[]> = { chain: [], probability: [], kubeServices: [] };
  const used = new Set<string>();
  for (let line = Math.floor(document.lineCount / 2); line < document.lineCount; line++) {
    const text = document.lineAt(line).text;
    const chain = /^-A (KUBE-SVC-\S+) .*--probability (\S+)/.exec(text);
    if (chain && !used.has(chain[1]!)) {
      if (found.chain.length < 2) {
        found.chain.push({ line, column: 3 });
        used.add(chain[1]!);
      } else if (found.probability.length < 2) {
        found.probability.push({ line, column: text.indexOf(chain[2]!) + 1 });
        used.add(chain[1]!);
      }
    }
    const services = /^-A KUBE-SERVICES .* -j (KUBE-SVC-\S+)$/.exec(text);
    if (services && !used.has(services[1]!) && found.kubeServices.length < 2) {
      found.kubeServices.push({ line, column: text.lastIndexOf(services[1]!) + 2 });
      used.add(services[1]!);
    }
  }
  for (const kind of HOVER_KINDS) if (found[kind].length < 2) throw new Error(`editorMeasure: no two ${kind} hover targets in the file`);
  return found as Record<HoverKind, [Position, Position]>;
}

async function main(): Promise<void> {
  const [dir = '', first = 'chain', ...flags] = process.argv.slice(2);
  if (!HOVER_KINDS.includes(first as HoverKind)) throw new Error(`editorMeasure: FIRST is one of ${HOVER_KINDS.join(', ')}`);
  const cold = flags.includes('--cold');

  // Open: what the tree waits for (the store reads and analyses the folder), then its first level.
  let analyseMs = 0;
  let analyseCpuMs = 0;
  const store = new SnapshotStore(async (folder) => {
    const snapshot = await readSnapshotFolder(folder);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const analysis = analyzeSnapshot(snapshot);
    analyseMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    analyseCpuMs = (used.user + used.system) / 1000;
    return analysis;
  });
  const opened = performance.now();
  const loaded = await store.add(dir);
  const readAndAnalyseMs = performance.now() - opened;
  if (!loaded.analysis) throw new Error(`editorMeasure: ${dir} could not be analysed: ${loaded.error}`);
  const analysis = loaded.analysis;
  const firstLevel = elapsed(() => {
    const state: TreeState = { snapshots: store.list().map(toTreeSnapshot), hosts: [], filter: '' };
    const roots = childrenOf(state);
    const shown = [...roots];
    // The snapshot opens expanded, so VS Code asks for its children (namespaces) at once; then one namespace.
    const level = childrenOf(state, roots[0]);
    shown.push(...level);
    const namespace = level.find((element) => element.kind === 'namespace');
    if (namespace) shown.push(...childrenOf(state, namespace));
    return shown.map((element) => describeElement(state, element)).length;
  });
  const openToFirstLevelMs = performance.now() - opened;

  // Each step runs slice by slice, as the extension runs them one per event-loop turn.
  const indexSteps = cold
    ? []
    : editorIndexSteps(analysis).map((step) => {
        const slices: number[] = [];
        for (let done = false; !done; ) {
          const slice = elapsed(() => step.run());
          done = slice.value;
          slices.push(slice.ms);
        }
        return { name: step.name, ms: slices.reduce((sum, ms) => sum + ms, 0), slices: slices.length, longestSliceMs: Math.max(...slices) };
      });

  const documentOpen = elapsed(() => openDocument(join(dir, 'iptables-save.txt')));
  const document = documentOpen.value;
  const targets = findTargets(document);
  const rulesets = new DocumentRulesets();
  // When the file opens, VS Code asks for its CodeLenses (and outline) at once; that first request checks the
  // text against the analysed file. A cold run hovers before it, so the hover pays for the check.
  const lenses = () => {
    const ruleset = rulesets.get(document, analysis);
    return serviceChainLines(ruleset).filter(({ chain }) => servicesOfChain(analysis.services, chain)[0] !== undefined).length;
  };
  const codeLenses = cold ? undefined : elapsed(lenses);
  const hover = (kind: HoverKind, position: Position): HoverTiming => {
    const { value, ms } = elapsed(() => explainIptablesDocumentAt(rulesets, document, analysis, position.line, position.column));
    return { kind, ms, preview: (value?.markdown ?? '(nothing)').slice(0, 60).replace(/\s+/g, ' ') };
  };
  const order = [first as HoverKind, ...HOVER_KINDS.filter((kind) => kind !== first)];
  const firstHovers = order.map((kind) => hover(kind, targets[kind][0]));
  const repeatedHovers = order.map((kind) => hover(kind, targets[kind][0]));
  const otherServiceHovers = order.map((kind) => hover(kind, targets[kind][1]));

  const ruleset = rulesets.get(document, analysis);
  const chainTarget = targets.kubeServices[1];
  const references = elapsed(() => {
    const chain = chainAt(ruleset, document.lineAt(chainTarget.line).text, chainTarget.line + 1, chainTarget.column);
    return chain ? chainReferences(ruleset, chain.table, chain.chain, (line) => document.lineAt(line - 1).text).length : 0;
  });

  const result: EditorMeasurement = {
    services: analysis.services.services.length,
    lines: document.lineCount,
    readAndAnalyseMs,
    analyseMs,
    analyseCpuMs,
    firstLevelMs: firstLevel.ms,
    openToFirstLevelMs,
    firstLevelItems: firstLevel.value,
    indexSteps,
    documentOpenMs: documentOpen.ms,
    firstHovers,
    repeatedHovers,
    otherServiceHovers,
    codeLensesMs: codeLenses?.ms ?? null,
    codeLenses: codeLenses?.value ?? null,
    referencesMs: references.ms,
    references: references.value,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
