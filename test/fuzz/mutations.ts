/**
 * The raw material of the fuzz tests: every real snapshot folder in samples/ and test/fixtures/, and fast-check
 * arbitraries that break their files the way copies, pastes and failing collections do (cut short, lines
 * swapped or repeated, bytes flipped, binary junk, CRLF, stray quotes, unknown tables and modules). Mutations
 * are plain data, so a failing run prints the exact recipe that reproduces it.
 */

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { SNAPSHOT_FILES, type SnapshotFileName } from '../../src/core/snapshot';

export const ROOT = resolve(__dirname, '..', '..');

export interface CorpusFolder {
  /** Path relative to the repository root. */
  folder: string;
  files: Partial<Record<SnapshotFileName, string>>;
}

function snapshotFoldersUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isDirectory() && SNAPSHOT_FILES.some((file) => existsSync(join(path, file))))
    .sort();
}

let corpus: CorpusFolder[] | undefined;

/** Every snapshot folder of the repository's samples and fixtures, read once. */
export function loadCorpus(): CorpusFolder[] {
  corpus ??= ['samples', 'test/fixtures', 'test/extension/fixtures'].flatMap((dir) =>
    snapshotFoldersUnder(join(ROOT, dir)).map((path) => {
      const files: Partial<Record<SnapshotFileName, string>> = {};
      for (const name of SNAPSHOT_FILES) {
        const file = join(path, name);
        if (existsSync(file)) files[name] = readFileSync(file, 'utf8');
      }
      return { folder: path.slice(ROOT.length + 1), files };
    }),
  );
  return corpus;
}

/** The texts of one kind of file across the corpus, each with the folder it came from. */
export function textsOf(name: SnapshotFileName): { folder: string; text: string }[] {
  return loadCorpus().flatMap(({ folder, files }) => (files[name] === undefined ? [] : [{ folder, text: files[name]! }]));
}

/** Lines that mean something to one parser or another, dropped where they do not belong. */
const HOSTILE_LINES = [
  '*bogus',
  '*nat',
  'COMMIT',
  ':KUBE-LOOP - [0:0]',
  ':PREROUTING FROBNICATE [1:2]',
  '-A KUBE-LOOP -j KUBE-LOOP',
  '-A PREROUTING -j KUBE-LOOP',
  '-A KUBE-SERVICES -m frobnicate --frob 1 -j ACCEPT',
  '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 443 -m comment --comment "unbalanced -j KUBE-SVC-X',
  '-A KUBE-SVC-X -m statistic --mode random --probability 1.5 -j KUBE-SEP-Y',
  '-A KUBE-SEP-Y -p tcp -j DNAT --to-destination 999.1.1.1:99999',
  '[18446744073709551616:1] -A INPUT -j ACCEPT',
  '-A',
  '-A INPUT -g INPUT',
  'table ip bogus {',
  'table inet kube-proxy {',
  'chain loop { jump loop; }',
  '\tchain services {',
  '\t\tip daddr . meta l4proto . th dport vmap @service-ips',
  '\t\tjump services',
  '\t\tnumgen random mod 0 vmap { 0 : goto x }',
  '}',
  '}}}}',
  '{',
  'IP Virtual Server version 1.2.1 (size=4096)',
  'TCP  10.96.0.1:443 rr',
  'UDP  [::1]:53 wrr persistent 99999999999',
  '  -> 10.244.0.5:8080              Masq    -1      0          0',
  '  -> 999.0.0.1:0 Tunnel 1 0 0',
  'Name: KUBE-CLUSTER-IP',
  'Type: hash:ip,port,frobnicate',
  'Members:',
  '10.96.0.1,tcp:443',
  '10.96.0.1,frob:99999',
  'local 10.0.0.1 dev eth0 proto kernel scope host src 10.0.0.1',
  'local 10.0.0.0/33 dev kube-ipvs0',
  'broadcast 255.255.255.255 dev',
  'default via',
  'unreachable',
  '"',
  "'",
  '\u201c',
  '\\',
];

export type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'swapLines'; a: number; b: number }
  | { kind: 'flipChars'; at: number[]; codes: number[] }
  | { kind: 'junk'; at: number; bytes: number[] }
  | { kind: 'crlf' }
  | { kind: 'carriageReturnsOnly' }
  | { kind: 'repeatLine'; at: number; times: number }
  | { kind: 'deleteLines'; at: number; count: number }
  | { kind: 'insertQuote'; at: number; quote: string }
  | { kind: 'insertLine'; at: number; line: number }
  | { kind: 'byteOrderMark' }
  | { kind: 'tabs' };

export const mutationArbitrary: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swapLines' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({
    kind: fc.constant('flipChars' as const),
    at: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
    // Any UTF-16 code unit, lone surrogates and control characters included.
    codes: fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('junk' as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 300 }) }),
  fc.constant({ kind: 'crlf' as const }),
  fc.constant({ kind: 'carriageReturnsOnly' as const }),
  fc.record({ kind: fc.constant('repeatLine' as const), at: fc.nat(), times: fc.integer({ min: 2, max: 300 }) }),
  fc.record({ kind: fc.constant('deleteLines' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ kind: fc.constant('insertQuote' as const), at: fc.nat(), quote: fc.constantFrom('"', "'", '\u201c', '\u201d', '\\"', '{', '}') }),
  fc.record({ kind: fc.constant('insertLine' as const), at: fc.nat(), line: fc.nat({ max: HOSTILE_LINES.length - 1 }) }),
  fc.constant({ kind: 'byteOrderMark' as const }),
  fc.constant({ kind: 'tabs' as const }),
);

function mutateLines(text: string, change: (lines: string[]) => void): string {
  const lines = text.split('\n');
  change(lines);
  return lines.join('\n');
}

export function applyMutation(text: string, mutation: Mutation): string {
  switch (mutation.kind) {
    case 'truncate':
      return text.slice(0, text.length === 0 ? 0 : mutation.at % text.length);
    case 'swapLines':
      return mutateLines(text, (lines) => {
        const a = mutation.a % lines.length;
        const b = mutation.b % lines.length;
        [lines[a], lines[b]] = [lines[b], lines[a]];
      });
    case 'flipChars': {
      if (text.length === 0) return text;
      const chars = text.split('');
      mutation.at.forEach((at, index) => {
        chars[at % chars.length] = String.fromCharCode(mutation.codes[index % mutation.codes.length]);
      });
      return chars.join('');
    }
    case 'junk': {
      const at = text.length === 0 ? 0 : mutation.at % text.length;
      return text.slice(0, at) + Buffer.from(mutation.bytes).toString('latin1') + text.slice(at);
    }
    case 'crlf':
      return text.replace(/\n/g, '\r\n');
    case 'carriageReturnsOnly':
      return text.replace(/\n/g, '\r');
    case 'repeatLine':
      return mutateLines(text, (lines) => {
        const at = mutation.at % lines.length;
        lines.splice(at, 0, ...Array<string>(mutation.times - 1).fill(lines[at]));
      });
    case 'deleteLines':
      return mutateLines(text, (lines) => {
        lines.splice(mutation.at % lines.length, mutation.count);
      });
    case 'insertQuote': {
      const at = text.length === 0 ? 0 : mutation.at % text.length;
      return text.slice(0, at) + mutation.quote + text.slice(at);
    }
    case 'insertLine':
      return mutateLines(text, (lines) => {
        lines.splice(mutation.at % (lines.length + 1), 0, HOSTILE_LINES[mutation.line]);
      });
    case 'byteOrderMark':
      return `\uFEFF${text}`;
    case 'tabs':
      return text.replace(/ {2,}/g, '\t');
  }
}

export const mutationsArbitrary = fc.array(mutationArbitrary, { minLength: 1, maxLength: 4 });

export function applyMutations(text: string, mutations: Mutation[]): string {
  return mutations.reduce(applyMutation, text);
}

/** The IPv4 addresses and ports a text mentions, to aim fuzzed packets at what the rules talk about. */
export function addressesAndPorts(texts: string[]): { ips: string[]; ports: number[] } {
  const ips = new Set<string>();
  const ports = new Set<number>();
  for (const text of texts) {
    for (const match of text.matchAll(/\b(\d{1,3}(?:\.\d{1,3}){3})(?:\/\d+)?(?::(\d{1,5}))?/g)) {
      ips.add(match[1]);
      if (match[2]) ports.add(Number(match[2]));
      if (ips.size > 200) break;
    }
    for (const match of text.matchAll(/dport (\d{1,5})\b/g)) {
      ports.add(Number(match[1]));
      if (ports.size > 200) break;
    }
  }
  return { ips: [...ips].sort(), ports: [...ports].filter((port) => port > 0 && port < 65536).sort((a, b) => a - b) };
}
