/**
 * `tsx bench/profileSummary.ts FILE.cpuprofile|FILE.heapprofile [--top N]`: prints the hot spots of a V8
 * CPU profile (`node --cpu-prof`: self and inclusive time per function with its file and line) or of a
 * sampling heap profile (`node --heap-prof`: bytes still live at exit per allocating function).
 * Used on the profiles `npm run bench -- --sizes 10000 --runs 1 --profile DIR` writes, to find where parse,
 * analyze and trace spend their time on the generated snapshots.
 */

import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

interface HeapNode {
  callFrame: ProfileNode['callFrame'];
  selfSize: number;
  children: HeapNode[];
}

const [file = '', ...rest] = process.argv.slice(2);
const top = rest[0] === '--top' ? Number(rest[1]) : 25;
const parsed = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile | { head: HeapNode };

const key = (node: { callFrame: ProfileNode['callFrame'] }): string => {
  const { functionName, url, lineNumber } = node.callFrame;
  const path = url.replace(/^file:\/\/.*?\/(src|bench|node_modules)\//, '$1/').replace(/^.*\/children\//, 'children/');
  return `${functionName || '(anonymous)'} ${path ? `${path}:${lineNumber + 1}` : ''}`.trim();
};

if ('head' in parsed) {
  const bytes = new Map<string, number>();
  let totalBytes = 0;
  const walk = (node: HeapNode): void => {
    bytes.set(key(node), (bytes.get(key(node)) ?? 0) + node.selfSize);
    totalBytes += node.selfSize;
    node.children.forEach(walk);
  };
  walk(parsed.head);
  process.stdout.write(`live at exit: ${(totalBytes / 1e6).toFixed(1)} MB sampled\n`);
  for (const [name, size] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${(size / 1e6).toFixed(1).padStart(7)} MB  ${name}\n`);
  }
  process.exit(0);
}
const profile = parsed;

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);


const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
profile.samples.forEach((sample, index) => {
  const micros = profile.timeDeltas[index] ?? 0;
  total += micros;
  const leaf = byId.get(sample);
  if (leaf === undefined) return;
  self.set(key(leaf), (self.get(key(leaf)) ?? 0) + micros);
  const seen = new Set<string>();
  for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) {
    const node = byId.get(id);
    if (node === undefined) break;
    const name = key(node);
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + micros);
  }
});

const ms = (micros: number): string => (micros / 1000).toFixed(0).padStart(6);
process.stdout.write(`total ${ms(total)} ms sampled\n\nself time:\n`);
for (const [name, micros] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  process.stdout.write(`${ms(micros)} ms ${((100 * micros) / total).toFixed(1).padStart(5)}%  ${name}\n`);
}
process.stdout.write('\ninclusive time (project code):\n');
for (const [name, micros] of [...inclusive].filter(([name]) => /(src|bench|children)\//.test(name)).sort((a, b) => b[1] - a[1]).slice(0, top)) {
  process.stdout.write(`${ms(micros)} ms ${((100 * micros) / total).toFixed(1).padStart(5)}%  ${name}\n`);
}
