/**
 * `npm run bench:editor [-- --dir DIR --runs N]`: how the editor feels on a big snapshot (issue 6's editor
 * targets: the tree's first level within 300 ms of opening, a hover within 50 ms). Bundles editorMeasure.ts and
 * the analysis worker as the extension is bundled and runs the measurement in a fresh process each time: once
 * per kind of first hover (a KUBE-SVC chain name, a `--probability` value, a KUBE-SERVICES rule) and once cold
 * (the hover comes right after the first level, before the CodeLens request that sends the document to the
 * worker), each N times. Prints one Markdown table of medians and ranges, with the host's longest stalls.
 * The folder defaults to the 10,000-Service snapshot `npm run bench` generates.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { HOVER_KINDS, type EditorMeasurement, type HoverKind } from './editorResults';

const here = dirname(fileURLToPath(import.meta.url));
const USAGE = 'usage: npm run bench:editor -- [--dir SNAPSHOT_FOLDER] [--runs N]';

function parseOptions(argv: string[]): { dir: string; runs: number } {
  const options = { dir: join(tmpdir(), 'kube-netpath-bench', 'iptables-10000x5-seed1'), runs: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--dir' && value) options.dir = value;
    else if (flag === '--runs' && value && Number.isInteger(Number(value)) && Number(value) >= 1) options.runs = Number(value);
    else throw new Error(`bench:editor: unexpected argument ${flag ?? ''}\n${USAGE}`);
  }
  if (!existsSync(join(options.dir, 'iptables-save.txt'))) {
    throw new Error(
      `bench:editor: ${options.dir} has no iptables-save.txt; make one with npm run gen -- --services 10000 --endpoints 5 --out ${options.dir}`,
    );
  }
  return options;
}

function runChild(script: string, args: string[]): EditorMeasurement {
  const result = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const last = (result.stdout ?? '').trim().split('\n').pop() ?? '';
  if (result.status !== 0 || !last.startsWith('{')) {
    throw new Error(`bench:editor: the measuring process failed (exit ${result.status}): ${(result.stderr ?? '').trim().slice(-2000)}`);
  }
  return JSON.parse(last) as EditorMeasurement;
}

/** "median (min–max)" in milliseconds. */
function summary(values: number[]): string {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return '–';
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const format = (ms: number) => (ms < 10 ? ms.toFixed(1) : ms.toFixed(0));
  return sorted.length === 1 ? format(median) : `${format(median)} (${format(sorted[0]!)}–${format(sorted[sorted.length - 1]!)})`;
}

const LABELS: Record<HoverKind, string> = {
  chain: 'a KUBE-SVC chain name (`-A KUBE-SVC-…`)',
  probability: 'a `--probability` value',
  kubeServices: 'a KUBE-SERVICES rule (its `-j KUBE-SVC-…`)',
};

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const outdir = join(tmpdir(), 'kube-netpath-editor-bench');
  mkdirSync(outdir, { recursive: true });
  // The measuring process and the analysis worker, bundled as scripts/build.mjs bundles the extension.
  await build({
    entryPoints: { editorMeasure: join(here, 'editorMeasure.ts'), analysisWorker: join(here, '../src/extension/analysis/analysisWorker.ts') },
    outdir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
  });
  const script = join(outdir, 'editorMeasure.js');
  const worker = join(outdir, 'analysisWorker.js');

  const warm = new Map<HoverKind, EditorMeasurement[]>(HOVER_KINDS.map((kind) => [kind, []]));
  const cold = new Map<HoverKind, EditorMeasurement[]>(HOVER_KINDS.map((kind) => [kind, []]));
  for (let run = 0; run < options.runs; run++) {
    for (const kind of HOVER_KINDS) {
      process.stderr.write(`bench:editor: run ${run + 1}/${options.runs}, first hover at ${kind}\n`);
      warm.get(kind)!.push(runChild(script, [worker, options.dir, kind]));
      cold.get(kind)!.push(runChild(script, [worker, options.dir, kind, '--cold']));
    }
  }

  const all = [...warm.values()].flat();
  const allCold = [...cold.values()].flat();
  const first = all[0]!;
  const rows: [string, string][] = [
    ['the worker thread starts and answers (on activation, before any open)', summary(all.map((each) => each.workerStartMs))],
    ['**open → first level shown from the preview** (the snapshot and its namespaces, while the analysis runs)', summary(all.map((each) => each.openToPreviewMs ?? Number.NaN))],
    ['open: the worker reads and analyses the folder (SnapshotStore.add)', summary(all.map((each) => each.openMs))],
    [`tree's first level (roots, namespaces, one namespace's Services with their details: ${first.firstLevelItems} items)`, summary(all.map((each) => each.firstLevelMs))],
    ['**open → a namespace expanded**, its Services with their details (after the analysis)', summary(all.map((each) => each.openToFirstLevelMs))],
    ['**longest host stall** from open to first level', summary(all.map((each) => each.openStallMs))],
    ['iptables-save.txt opens 1 s later: VS Code splits it into lines (not ours)', summary(all.map((each) => each.documentOpenMs))],
    [`CodeLens request on open (the text sent to the worker, ${first.codeLenses} lenses)`, summary(all.map((each) => each.codeLensesMs ?? Number.NaN))],
    ['  longest host stall during it', summary(all.map((each) => each.codeLensStallMs ?? Number.NaN))],
    [`outline request on open (${first.outlineChains} chains)`, summary(all.map((each) => each.outlineMs ?? Number.NaN))],
    ['  longest host stall during it', summary(all.map((each) => each.outlineStallMs ?? Number.NaN))],
  ];
  for (const kind of HOVER_KINDS) {
    rows.push([`**first hover**, 0.5 s after the file opened, at ${LABELS[kind]}`, summary(warm.get(kind)!.map((each) => each.firstHovers[0]!.ms))]);
  }
  rows.push(['**second hover** (the same word again)', summary(all.flatMap((each) => each.repeatedHovers.map((hover) => hover.ms)))]);
  rows.push(['a later hover on another Service', summary(all.flatMap((each) => each.otherServiceHovers.map((hover) => hover.ms)))]);
  rows.push(['longest host stall during the hovers', summary(all.map((each) => each.hoverStallMs))]);
  for (const kind of HOVER_KINDS) {
    rows.push([`cold first hover (right after the first level: the file's text sent, indexes not built) at ${LABELS[kind]}`, summary(cold.get(kind)!.map((each) => each.firstHovers[0]!.ms))]);
  }
  rows.push(['find references of a KUBE-SVC chain', summary(all.map((each) => each.referencesMs))]);

  const empty = [...all, ...allCold].flatMap((each) => [...each.firstHovers, ...each.repeatedHovers, ...each.otherServiceHovers]).filter((hover) => hover.preview === '(nothing)');
  const lines = [
    `Editor on ${options.dir}: ${first.services} Services, ${first.lines} lines; ${options.runs} fresh process(es) per row, median (min–max) in ms.`,
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, load average ${loadavg().map((value) => value.toFixed(2)).join(' ')} at the end.`,
    '',
    '| step | ms |',
    '|---|---|',
    ...rows.map(([label, value]) => `| ${label} | ${value} |`),
  ];
  if (empty.length > 0) lines.push('', `⚠ ${empty.length} hover(s) explained nothing: the targets are not what the benchmark expects.`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
