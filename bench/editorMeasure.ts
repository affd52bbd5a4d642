/**
 * Editor benchmark child: in a fresh process, opens one snapshot folder the way the extension does (the
 * SnapshotStore asking the analysis worker, bundled as the extension bundles it), shows the tree's first level
 * through treeModel.ts (fetching the shown Services' details as the tree provider does), opens iptables-save.txt
 * a second later and answers its CodeLens request, then hovers half a second later through the same questions
 * the hover provider asks (`--cold`: no pauses and no CodeLens, the hover comes right after the first level). Only vscode's TextDocument is imitated: lines split once when the file opens, getText()
 * joining them, as the extension host keeps a document. A 1 ms timer measures the host's longest stall in each
 * phase. Prints one JSON line for editor.ts.
 * Run: `node editorMeasure.js WORKER.js DIR FIRST [--cold]`, FIRST = chain | probability | kubeServices.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AnalysisClient } from '../src/extension/analysis/analysisClient';
import type { DocumentRef } from '../src/extension/analysis/analysisProtocol';
import { askAboutDocument } from '../src/extension/language/askAboutDocument';
import { SnapshotStore } from '../src/extension/snapshots/snapshotStore';
import { childrenOf, describeElement, toTreeSnapshot, type TreeElement, type TreeState } from '../src/extension/tree/treeModel';
import { HOVER_KINDS, type EditorMeasurement, type HoverKind, type HoverTiming } from './editorResults';

/** The longest time the event loop did not get to run a 1 ms timer, since the last reading. */
class StallMonitor {
  #last = performance.now();
  #longest = 0;
  readonly #timer = setInterval(() => {
    const now = performance.now();
    this.#longest = Math.max(this.#longest, now - this.#last);
    this.#last = now;
  }, 1);

  read(): number {
    const now = performance.now();
    const longest = Math.max(this.#longest, now - this.#last);
    this.#longest = 0;
    this.#last = now;
    return longest;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** When the rule file opens after the tree's first level, and when the first hover comes after that. */
const OPEN_FILE_AFTER_MS = 1000;
const HOVER_AFTER_MS = 500;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function elapsed<T>(work: () => Promise<T> | T): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

/** The document as the extension host holds it: lines split on open, text joined on getText(). */
function openDocument(path: string) {
  const lines = readFileSync(path, 'utf8').split(/\r\n|\r|\n/);
  return {
    ref: { uri: `file://${path}`, path, version: 1, languageId: 'iptables-save' } satisfies DocumentRef,
    lineCount: lines.length,
    getText: () => lines.join('\n'),
    lineAt: (line: number) => lines[line] ?? '',
  };
}

interface Position {
  line: number;
  column: number;
}

/** Hover positions for each kind, on distinct Services in the second half of the file: [first, another]. */
function findTargets(document: ReturnType<typeof openDocument>): Record<HoverKind, [Position, Position]> {
  const found: Record<HoverKind, Position[]> = { chain: [], probability: [], kubeServices: [] };
  const used = new Set<string>();
  for (let line = Math.floor(document.lineCount / 2); line < document.lineCount; line++) {
    const text = document.lineAt(line);
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
  const [worker = '', dir = '', first = 'chain', ...flags] = process.argv.slice(2);
  if (!HOVER_KINDS.includes(first as HoverKind)) throw new Error(`editorMeasure: FIRST is one of ${HOVER_KINDS.join(', ')}`);
  const cold = flags.includes('--cold');
  const analysis = new AnalysisClient({ file: worker });
  const store = new SnapshotStore({
    preview: (folder) => analysis.call('preview', folder),
    open: (folder) => analysis.call('open', folder),
    details: (folder, indexes) => analysis.call('details', folder, indexes),
    match: (folder, filter) => analysis.call('match', folder, filter),
    forget: (folder) => analysis.call('forget', folder),
  });
  const stalls = new StallMonitor();

  // Open: the worker reads and analyses the folder; then the tree's first level, as ServiceTreeProvider asks it.
  // While the analysis runs, the store may list the snapshot from the worker's preview: the roots and namespaces.
  let openToPreviewMs: number | null = null;
  const previewShown = store.onDidChange(() => {
    const snapshot = store.get(dir);
    if (!snapshot?.analysing || openToPreviewMs !== null) return;
    const state: TreeState = { snapshots: store.list().map(toTreeSnapshot), hosts: [], filter: '' };
    const roots = childrenOf(state);
    for (const element of [...roots, ...childrenOf(state, roots[0])]) describeElement(state, element);
    openToPreviewMs = performance.now() - opened;
  });
  // The extension starts its worker on activation; the time it takes to answer is reported on its own.
  const started = performance.now();
  analysis.start();
  await analysis.call('forget', dir);
  const workerStartMs = performance.now() - started;
  const opened = performance.now();
  const loaded = await store.add(dir);
  previewShown.dispose();
  const openMs = performance.now() - opened;
  if (!loaded.summary) throw new Error(`editorMeasure: ${dir} could not be analysed: ${loaded.error}`);
  const firstLevel = await elapsed(async () => {
    const state: TreeState = { snapshots: store.list().map(toTreeSnapshot), hosts: [], filter: '' };
    const shown: TreeElement[] = [];
    const roots = childrenOf(state);
    shown.push(...roots);
    // The snapshot opens expanded, so VS Code asks for its children (namespaces) at once; then one namespace.
    const level = childrenOf(state, roots[0]);
    shown.push(...level);
    const namespace = level.find((element) => element.kind === 'namespace');
    if (namespace) {
      const services = childrenOf(state, namespace);
      await store.ensureDetails(loaded, services.flatMap((element) => (element.kind === 'service' ? [element.index] : [])));
      shown.push(...services);
    }
    return shown.map((element) => describeElement(state, element)).length;
  });
  const openToFirstLevelMs = performance.now() - opened;
  const openStallMs = stalls.read();

  // A user opens a rule file a moment after the tree shows, and hovers a moment after it opened; a cold run
  // does both at once, before the worker's background indexes are built.
  if (!cold) await pause(OPEN_FILE_AFTER_MS);
  const documentOpen = await elapsed(() => openDocument(join(dir, 'iptables-save.txt')));
  const document = documentOpen.value;
  const targets = findTargets(document);
  stalls.read();
  // When the file opens, VS Code asks for its CodeLenses and its outline at once; the first question sends the
  // document's text to the worker. A cold run hovers before it, so the first hover sends it.
  const ask = <T>(question: (ref: DocumentRef) => Promise<T>) => askAboutDocument(analysis, document, document.ref, question);
  const codeLenses = cold ? undefined : await elapsed(() => ask((ref) => analysis.call('codeLenses', dir, ref)));
  const codeLensStallMs = cold ? null : stalls.read();
  const outline = cold ? undefined : await elapsed(() => ask((ref) => analysis.call('outline', dir, ref)));
  const outlineStallMs = cold ? null : stalls.read();

  if (!cold) await pause(HOVER_AFTER_MS);
  stalls.read();
  const hover = async (kind: HoverKind, position: Position): Promise<HoverTiming> => {
    const { value, ms } = await elapsed(() => ask((ref) => analysis.call('hover', dir, ref, position.line, position.column)));
    return { kind, ms, preview: (value?.markdown ?? '(nothing)').slice(0, 60).replace(/\s+/g, ' ') };
  };
  const order = [first as HoverKind, ...HOVER_KINDS.filter((kind) => kind !== first)];
  const firstHovers: HoverTiming[] = [];
  for (const kind of order) firstHovers.push(await hover(kind, targets[kind][0]));
  const repeatedHovers: HoverTiming[] = [];
  for (const kind of order) repeatedHovers.push(await hover(kind, targets[kind][0]));
  const otherServiceHovers: HoverTiming[] = [];
  for (const kind of order) otherServiceHovers.push(await hover(kind, targets[kind][1]));
  const hoverStallMs = stalls.read();

  const chainTarget = targets.kubeServices[1];
  const references = await elapsed(() => ask((ref) => analysis.call('references', dir, ref, chainTarget.line, chainTarget.column, false)));
  stalls.stop();
  analysis.dispose();

  const result: EditorMeasurement = {
    services: loaded.summary.services.length,
    lines: document.lineCount,
    workerStartMs,
    openMs,
    openToPreviewMs,
    firstLevelMs: firstLevel.ms,
    openToFirstLevelMs,
    firstLevelItems: firstLevel.value,
    openStallMs,
    documentOpenMs: documentOpen.ms,
    codeLensesMs: codeLenses?.ms ?? null,
    codeLenses: codeLenses?.value.length ?? null,
    codeLensStallMs,
    outlineMs: outline?.ms ?? null,
    outlineChains: outline ? outline.value.reduce((sum, table) => sum + table.chains.length, 0) : null,
    outlineStallMs,
    firstHovers,
    repeatedHovers,
    otherServiceHovers,
    hoverStallMs,
    referencesMs: references.ms,
    references: references.value.length,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
