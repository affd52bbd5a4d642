/**
 * `npm run bench [-- --mode iptables|ipvs|nftables --sizes 1000,10000,30000 --endpoints 5 --packets 1000
 *   --runs 3 --seed 1 --dir DIR --json FILE --markdown FILE --profile DIR]`: for each size, generates (or
 * reuses) a snapshot (iptables mode by default), then measures on the same files, each in a fresh child
 * process bundled like the shipped CLI: parse; parse + index + Service tree (analyzeSnapshot); 1,000
 * random traces; peak memory; and, in iptables mode, the CPU time of the kernel tool
 * `iptables-restore --test` in a throwaway network namespace as the native reference.
 * Prints one Markdown table with the ratio ours / native.
 */

import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCluster } from './generator/cluster';
import { generateSnapshot, type GeneratorMode } from './generator/snapshot';
import { writeSnapshotFolder } from './generator/writeSnapshot';
import { nativeUnavailableReason, timeRestoreTest, withNetns } from './native/netns';
import { benchmarkPackets } from './packets';

const here = dirname(fileURLToPath(import.meta.url));

interface Options {
  mode: GeneratorMode;
  sizes: number[];
  endpoints: number;
  packets: number;
  runs: number;
  seed: number;
  dir: string;
  json: string | undefined;
  markdown: string | undefined;
  /** When set, children run with --cpu-prof and --heap-prof writing into this folder. */
  profile: string | undefined;
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    mode: 'iptables',
    sizes: [1000, 10000, 30000],
    endpoints: 5,
    packets: 1000,
    runs: 3,
    seed: 1,
    dir: join(tmpdir(), 'kube-netpath-bench'),
    json: undefined,
    markdown: undefined,
    profile: undefined,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`bench: ${flag} needs a value`);
    const integer = (): number => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new Error(`bench: ${flag} must be a positive integer`);
      return n;
    };
    if (flag === '--mode') {
      if (value !== 'iptables' && value !== 'ipvs' && value !== 'nftables') throw new Error('bench: --mode is iptables, ipvs or nftables');
      options.mode = value;
    } else if (flag === '--sizes') options.sizes = value.split(',').map((part) => Number(part));
    else if (flag === '--endpoints') options.endpoints = integer();
    else if (flag === '--packets') options.packets = integer();
    else if (flag === '--runs') options.runs = integer();
    else if (flag === '--seed') options.seed = integer();
    else if (flag === '--dir') options.dir = value;
    else if (flag === '--json') options.json = value;
    else if (flag === '--markdown') options.markdown = value;
    else if (flag === '--profile') options.profile = value;
    else throw new Error(`bench: unknown option ${flag}`);
  }
  if (options.sizes.some((size) => !Number.isInteger(size) || size < 1)) throw new Error('bench: --sizes takes positive integers');
  return options;
}

function median(values: number[]): number {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * Bundles the child scripts the way scripts/build.mjs bundles the CLI and the extension (esbuild, CommonJS,
 * node20, no minification), so the benchmark runs the code that ships rather than tsx's on-the-fly
 * transform (which adds keepNames wrappers and a module-loader thread).
 */
async function bundleChildren(outdir: string): Promise<void> {
  await build({
    entryPoints: [join(here, 'child', 'measureParse.ts'), join(here, 'child', 'measureAnalysis.ts')],
    outdir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
  });
}

let childDir = '';
let profileFlags: string[] = [];

/** Runs a bundled child script with --expose-gc and returns the JSON object it printed last. */
function runChild(script: string, args: string[]): Record<string, unknown> {
  const result = spawnSync(process.execPath, ['--expose-gc', ...profileFlags, join(childDir, script), ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const last = (result.stdout ?? '').trim().split('\n').pop() ?? '';
  if (result.status !== 0 || !last.startsWith('{')) {
    throw new Error(`bench: ${script} failed (exit ${result.status}): ${(result.stderr ?? '').trim().slice(-2000)}`);
  }
  return JSON.parse(last) as Record<string, unknown>;
}

/** The median over runs of every numeric field; other fields come from the first run. */
function medianOfRuns(runs: Record<string, unknown>[]): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...runs[0] };
  for (const [key, value] of Object.entries(runs[0] ?? {})) {
    if (typeof value === 'number') merged[key] = median(runs.map((run) => run[key] as number));
  }
  return merged;
}

interface SizeResult {
  mode: GeneratorMode;
  services: number;
  endpoints: number;
  totalEndpoints: number;
  lines: number;
  fileMB: number;
  native: { cpuMs: number; runs: number[] } | { unavailable: string };
  parse: Record<string, unknown>;
  analysis: Record<string, unknown>;
}

/** The files the mode's analysis reads; the native reference and the parse-only child use iptables-save.txt. */
const MODE_FILES: Record<GeneratorMode, string[]> = {
  iptables: ['iptables-save.txt', 'route-local.txt'],
  ipvs: ['iptables-save.txt', 'ipvsadm.txt', 'ipset.txt', 'route-local.txt'],
  nftables: ['nft.txt', 'route-local.txt'],
};

async function measureSize(options: Options, services: number): Promise<SizeResult> {
  const folder = join(options.dir, `${options.mode}-${services}x${options.endpoints}-seed${options.seed}`);
  const file = join(folder, 'iptables-save.txt');
  if (!existsSync(join(folder, 'meta.json'))) {
    process.stderr.write(`bench: generating ${folder}\n`);
    const { files } = generateSnapshot({ services, endpoints: options.endpoints, seed: options.seed, mode: options.mode });
    await writeSnapshotFolder(folder, files);
  }
  const cluster = generateCluster({ services, endpoints: options.endpoints, seed: options.seed });
  const packetsFile = join(options.dir, `packets-${services}x${options.endpoints}-seed${options.seed}.json`);
  writeFileSync(packetsFile, JSON.stringify(benchmarkPackets(cluster, options.packets, options.seed)));
  let lines = 0;
  let bytes = 0;
  for (const name of MODE_FILES[options.mode]) {
    const text = readFileSync(join(folder, name), 'latin1');
    lines += text.length === 0 ? 0 : text.split('\n').length - 1;
    bytes += statSync(join(folder, name)).size;
  }
  const iptablesMode = options.mode === 'iptables';

  // Native and ours alternate run by run, so a machine that drifts in speed (shared CPUs do, by 20 % within minutes)
  // weighs on both sides of the ratio alike.
  const unavailable = iptablesMode ? nativeUnavailableReason() : `no native reference in ${options.mode} mode`;
  const nativeRuns: number[] = [];
  const parseRuns: Record<string, unknown>[] = [];
  const analysisRuns: Record<string, unknown>[] = [];
  for (let i = 0; i < options.runs; i++) {
    process.stderr.write(`bench: ${services} Services, run ${i + 1}/${options.runs}\n`);
    if (unavailable === null) {
      const timing = withNetns((netns) => timeRestoreTest(netns, file));
      if (timing.exitCode !== 0) throw new Error(`bench: iptables-restore --test rejected ${file}: ${timing.stderr.trim()}`);
      nativeRuns.push(timing.userMs + timing.systemMs);
    }
    if (iptablesMode) parseRuns.push(runChild('measureParse.js', [folder]));
    analysisRuns.push(runChild('measureAnalysis.js', [folder, packetsFile]));
  }
  const native: SizeResult['native'] = unavailable === null ? { cpuMs: median(nativeRuns), runs: nativeRuns } : { unavailable };
  return {
    mode: options.mode,
    services,
    endpoints: options.endpoints,
    totalEndpoints: cluster.totalEndpoints,
    lines,
    fileMB: Math.round((bytes / 1e6) * 10) / 10,
    native,
    parse: parseRuns.length > 0 ? medianOfRuns(parseRuns) : {},
    analysis: medianOfRuns(analysisRuns),
  };
}

function fixed(value: unknown, digits: number): string {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

function renderTable(results: SizeResult[]): string {
  const header = [
    'mode: Services × endpoints', 'lines', 'MB', 'parse CPU ms', 'parse+index+tree CPU ms', 'iptables-restore --test CPU ms',
    'ours / native', 'trace median ms (wall / CPU)', 'trace p99 ms (wall / CPU)', 'first trace ms', 'peak RSS MB', 'RSS growth MB', 'retained heap MB',
    'RSS growth / file',
  ];
  const rows = results.map((result) => {
    const nativeMs = 'cpuMs' in result.native ? result.native.cpuMs : Number.NaN;
    const analyzeMs = result.analysis['analyzeCpuMs'] as number;
    const peakRss = result.analysis['peakRssMB'] as number;
    // Growth over the RSS of the idle child (Node, tsx and the compiled code), so small files are not
    // dwarfed by the runtime's own 100 MB.
    const growth = peakRss - (result.analysis['baselineRssMB'] as number);
    return [
      `${result.mode}: ${result.services.toLocaleString('en-US')} × ${result.endpoints}`,
      result.lines.toLocaleString('en-US'),
      fixed(result.fileMB, 1),
      fixed(result.parse['parseCpuMs'], 0),
      fixed(analyzeMs, 0),
      'cpuMs' in result.native ? fixed(nativeMs, 0) : `n/a (${result.native.unavailable})`,
      fixed(analyzeMs / nativeMs, 2),
      `${fixed(result.analysis['traceMedianMs'], 3)} / ${fixed(result.analysis['traceCpuMedianMs'], 3)}`,
      `${fixed(result.analysis['traceP99Ms'], 2)} / ${fixed(result.analysis['traceCpuP99Ms'], 2)}`,
      fixed(result.analysis['firstTraceMs'], 1),
      fixed(peakRss, 0),
      fixed(growth, 0),
      fixed(result.analysis['retainedHeapMB'], 0),
      fixed(growth / result.fileMB, 1),
    ];
  });
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  const table = [line(header), line(header.map(() => '---')), ...rows.map(line)];
  // Growth: cost per 100,000 lines should stay flat when the cost is linear.
  const growth = results.map((result) => {
    const per = 100_000 / Math.max(1, result.lines);
    const nativeMs = 'cpuMs' in result.native ? result.native.cpuMs : Number.NaN;
    return `${result.services.toLocaleString('en-US')}: ours ${fixed((result.analysis['analyzeCpuMs'] as number) * per, 0)} ms, native ${fixed(nativeMs * per, 0)} ms per 100k lines`;
  });
  return `${table.join('\n')}\n\nGrowth (CPU per 100,000 lines): ${growth.join('; ')}\n`;
}

/** Where the figures came from: CPU count, load (other work skews even CPU times), versions. */
function describeMachine(loadBefore: number[], loadAfter: number[]): string {
  const iptables = spawnSync('iptables', ['--version'], { encoding: 'utf8' }).stdout?.trim() || 'iptables not found';
  const load = (values: number[]): string => values.map((value) => value.toFixed(1)).join(' ');
  return (
    `Machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, ${iptables}; ` +
    `load average ${load(loadBefore)} before, ${load(loadAfter)} after.\n`
  );
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  mkdirSync(options.dir, { recursive: true });
  childDir = join(options.dir, 'children');
  await bundleChildren(childDir);
  if (options.profile !== undefined) {
    mkdirSync(options.profile, { recursive: true });
    profileFlags = ['--cpu-prof', `--cpu-prof-dir=${options.profile}`, '--heap-prof', `--heap-prof-dir=${options.profile}`];
  }
  const loadBefore = loadavg();
  const results: SizeResult[] = [];
  for (const size of options.sizes) results.push(await measureSize(options, size));
  const report = `${renderTable(results)}\n${describeMachine(loadBefore, loadavg())}`;
  process.stdout.write(report);
  if (options.markdown !== undefined) writeFileSync(options.markdown, report);
  for (const result of results) {
    const kinds = result.analysis['kinds'] as Record<string, { medianMs: number; p99Ms: number; count: number; withService: number }>;
    const parts = Object.entries(kinds ?? {}).map(
      ([kind, k]) => `${kind} ${k.count} (Service found ${k.withService}) median ${fixed(k.medianMs, 3)} p99 ${fixed(k.p99Ms, 3)} ms`,
    );
    process.stdout.write(`${result.services}: ${parts.join('; ')}\n`);
  }
  if (options.json !== undefined) writeFileSync(options.json, JSON.stringify({ options, results }, null, 2) + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
