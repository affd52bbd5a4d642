/**
 * `npm run gen -- --services N --endpoints M --out DIR [--mode iptables|ipvs|nftables] [--seed S]`: writes a
 * realistic snapshot folder of a large node, in kube-proxy's exact output form. N counts Service ports
 * (one KUBE-SVC chain each) and M the endpoints of each Service port that has endpoints.
 */

import { generateSnapshot, type GeneratorMode } from './generator/snapshot';
import { writeSnapshotFolder } from './generator/writeSnapshot';

const USAGE =
  'usage: npm run gen -- --services N --endpoints M --out DIR [--mode iptables|ipvs|nftables] [--seed S]';

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): { services: number; endpoints: number; out: string; mode: GeneratorMode; seed: number } {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? '';
    const value = argv[i + 1];
    if (!flag.startsWith('--') || value === undefined) fail(`gen: unexpected argument "${flag}".`);
    values.set(flag.slice(2), value);
    i++;
  }
  for (const key of values.keys()) {
    if (!['services', 'endpoints', 'out', 'mode', 'seed'].includes(key)) fail(`gen: unknown option --${key}.`);
  }
  const integer = (key: string, fallback: number | undefined, max: number): number => {
    const text = values.get(key);
    if (text === undefined) {
      if (fallback === undefined) fail(`gen: --${key} is required.`);
      return fallback;
    }
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0 || n > max) fail(`gen: --${key} must be an integer from 0 to ${max}.`);
    return n;
  };
  const out = values.get('out') ?? fail('gen: --out is required.');
  const mode = values.get('mode') ?? 'iptables';
  if (mode !== 'iptables' && mode !== 'ipvs' && mode !== 'nftables') fail(`gen: --mode must be iptables, ipvs or nftables, not "${mode}".`);
  return {
    services: integer('services', undefined, 200_000),
    endpoints: integer('endpoints', undefined, 1000),
    out,
    mode,
    seed: integer('seed', 1, 0xffffffff),
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const { cluster, files } = generateSnapshot(options);
  await writeSnapshotFolder(options.out, files);
  const main = options.mode === 'nftables' ? 'nft.txt' : options.mode === 'ipvs' ? 'ipvsadm.txt' : 'iptables-save.txt';
  const text = files[main] ?? '';
  const lines = text.split('\n').length - 1;
  process.stdout.write(
    `gen: ${options.mode} snapshot of ${cluster.services.length} Service ports, ${cluster.totalEndpoints} endpoints → ${options.out}\n` +
      `     ${main} ${lines} lines, ${(Buffer.byteLength(text) / 1e6).toFixed(1)} MB; ${(performance.now() - started).toFixed(0)} ms\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`gen: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
