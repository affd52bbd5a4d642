// Limits and broken snapshot folders at the edge users meet them: the file-size cap and NUL refusal of
// readSnapshotFolder, the per-line limits of the iptables and route parsers, and the built `netpath services` and
// `netpath trace` on folders with missing, empty, oversized or binary files. Each ends in exit 0 with warnings or
// exit 2 with one sentence, never a stack trace.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MAX_LINE_LENGTH, parseIptablesSave } from '../../src/core/iptables/parseIptablesSave';
import { parseRouteLocal } from '../../src/core/routes/localRoutes';
import { MAX_SNAPSHOT_FILE_BYTES, readSnapshotFolder, SnapshotReadError } from '../../src/node/snapshotFolder';
import { iptablesJumpLoop, nestedIptablesJumps, ROUTE_LOCAL, tenMegabyteLines, type SnapshotFiles } from './hostileInputs';
import { ROOT } from './mutations';

const cli = join(ROOT, 'dist', 'cli.js');
const sample = join(ROOT, 'samples', 'calico-seed002');
let scratch = '';

before(() => {
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  scratch = mkdtempSync(join(tmpdir(), 'netpath-limits-'));
});
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the calico sample in a fresh folder, changed by `change`. */
function folderFrom(name: string, change: (dir: string) => void): string {
  const dir = join(scratch, name);
  mkdirSync(dir);
  for (const file of ['iptables-save.txt', 'route-local.txt', 'route-main.txt', 'ipset.txt', 'meta.json']) copyFileSync(join(sample, file), join(dir, file));
  change(dir);
  return dir;
}

test('readSnapshotFolder refuses a file over the size cap before reading it, naming the file and the limit', async () => {
  // A sparse file: its size is over the cap without writing 512 MiB to disk.
  const dir = folderFrom('oversized', (d) => truncateSync(join(d, 'route-local.txt'), MAX_SNAPSHOT_FILE_BYTES + 1));
  await assert.rejects(readSnapshotFolder(dir), (error: Error) => {
    assert.ok(error instanceof SnapshotReadError);
    assert.match(error.message, /route-local\.txt: is 536870913 bytes, over the 536870912-byte limit/);
    return true;
  });
});

test('readSnapshotFolder refuses a file holding a NUL byte as binary, not command output', async () => {
  const dir = folderFrom('binary', (d) => writeFileSync(join(d, 'iptables-save.txt'), Buffer.from('*nat\n\u0000\u0001\u0002COMMIT\n', 'latin1')));
  await assert.rejects(readSnapshotFolder(dir), /iptables-save\.txt: holds binary data \(a NUL byte\)/);
});

test(`iptables-save lines over ${MAX_LINE_LENGTH} characters are refused with an error on their line; the rest is read`, () => {
  const long = `-A KUBE-SERVICES -m comment --comment "${'x'.repeat(MAX_LINE_LENGTH)}" -j ACCEPT`;
  const text = ['*nat', ':PREROUTING ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]', long, '-A PREROUTING -j KUBE-SERVICES', 'COMMIT', ''].join('\n');
  const { value, diagnostics } = parseIptablesSave(text);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  assert.equal(errors.length, 1);
  assert.equal(errors[0].line, 4);
  assert.match(errors[0].message, new RegExp(`over the ${MAX_LINE_LENGTH} limit`));
  assert.ok(errors[0].message.length < 200, 'the message does not quote the line');
  assert.equal(value.tables.get('nat')?.chains.get('PREROUTING')?.rules.length, 1, 'the line after the long one is read');
});

test('route lines over 4 KiB are refused with an error on their line; the rest is read', () => {
  const text = ['local 10.0.0.10 dev eth0 scope host', `local 10.0.0.11 dev ${'e'.repeat(4096)}`, 'local 10.0.0.12 dev eth0 scope host', ''].join('\n');
  const { value, diagnostics } = parseRouteLocal(text);
  assert.deepEqual(
    diagnostics.map((d) => [d.line, d.severity]),
    [[2, 'error']],
  );
  assert.ok(value.isLocal('10.0.0.10') && value.isLocal('10.0.0.12') && !value.isLocal('10.0.0.11'));
});

interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI; a run that does not end within a minute is killed and fails the test as a hang. */
function netpath(...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      const status = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ status, stdout, stderr: error?.killed ? `${stderr}\n(killed after 60 s)` : stderr });
    });
  });
}

/** Exit 0 (warnings allowed) or 2 with exactly one `netpath:` line; never an internal error or a stack trace. */
function assertExplained(run: CliRun, label: string): void {
  assert.ok(run.status === 0 || run.status === 2, `${label}: exit ${run.status}; stderr: ${run.stderr}`);
  assert.doesNotMatch(run.stderr, /^\s+at |internal error|Error:/m, `${label}: stderr holds a stack trace or an internal error:\n${run.stderr}`);
  for (const line of run.stderr.split('\n').filter(Boolean)) assert.match(line, /^netpath: /, `${label}: stray stderr line "${line}"`);
  if (run.status === 2) {
    assert.equal(run.stderr.trim().split('\n').length, 1, `${label}: exit 2 should say one sentence:\n${run.stderr}`);
  }
}

const brokenFolders: { name: string; change: (dir: string) => void; status: 0 | 2; says: RegExp }[] = [
  { name: 'no route-local.txt', change: (d) => rmSync(join(d, 'route-local.txt')), status: 0, says: /route-local\.txt/ },
  { name: 'an empty route-local.txt', change: (d) => writeFileSync(join(d, 'route-local.txt'), ''), status: 0, says: /route-local\.txt: the file is empty/ },
  { name: 'no iptables-save.txt', change: (d) => rmSync(join(d, 'iptables-save.txt')), status: 0, says: /iptables-save\.txt was not collected/ },
  { name: 'an empty iptables-save.txt', change: (d) => writeFileSync(join(d, 'iptables-save.txt'), ''), status: 0, says: /kube-proxy/ },
  { name: 'only empty files', change: (d) => ['iptables-save.txt', 'route-local.txt', 'route-main.txt', 'ipset.txt'].forEach((f) => writeFileSync(join(d, f), '')), status: 0, says: /route-local\.txt: the file is empty[^]*No kube-proxy dataplane/ },
  { name: 'no meta.json', change: (d) => rmSync(join(d, 'meta.json')), status: 0, says: /no meta\.json/ },
  { name: 'a meta.json that is not JSON', change: (d) => writeFileSync(join(d, 'meta.json'), '{"node": '), status: 2, says: /meta\.json: is not valid JSON/ },
  { name: 'no snapshot file at all', change: (d) => ['iptables-save.txt', 'route-local.txt', 'route-main.txt', 'ipset.txt'].forEach((f) => rmSync(join(d, f))), status: 2, says: /holds none of the snapshot files/ },
  { name: 'a folder named iptables-save.txt', change: (d) => (rmSync(join(d, 'iptables-save.txt')), mkdirSync(join(d, 'iptables-save.txt'))), status: 2, says: /is not a regular file/ },
  { name: 'a NUL byte in iptables-save.txt', change: (d) => writeFileSync(join(d, 'iptables-save.txt'), '*nat\n\u0000COMMIT\n'), status: 2, says: /binary data/ },
  { name: 'a route-local.txt over the size cap', change: (d) => truncateSync(join(d, 'route-local.txt'), MAX_SNAPSHOT_FILE_BYTES + 1), status: 2, says: /over the 536870912-byte limit/ },
  { name: 'an iptables-save.txt that is not iptables-save output', change: (d) => writeFileSync(join(d, 'iptables-save.txt'), 'Permission denied (you must be root)\n'), status: 2, says: /iptables-save\.txt/ },
  { name: 'an iptables-save.txt cut in the middle of a rule', change: (d) => writeFileSync(join(d, 'iptables-save.txt'), '*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -m comment --comment "kubernetes ser'), status: 0, says: /line 3/ },
];

for (const { name, change, status, says } of brokenFolders) {
  test(`netpath services and trace on a snapshot folder with ${name}: exit ${status}, explained`, async () => {
    const dir = folderFrom(name.replace(/\W+/g, '-'), change);
    const commands = [['services', dir], ['trace', dir, '--dst', '10.96.0.10', '--dport', '53', '--proto', 'udp', '--json']];
    const runs = await Promise.all(commands.map((args) => netpath(...args)));
    for (const [index, args] of commands.entries()) {
      const run = runs[index];
      const label = `netpath ${args[0]} on a folder with ${name}`;
      assertExplained(run, label);
      assert.equal(run.status, status, `${label}: stderr: ${run.stderr}`);
      assert.match(`${run.stderr}${run.stdout}`, says, label);
      if (args.includes('--json') && status === 0) assert.doesNotThrow(() => JSON.parse(run.stdout), `${label}: stdout is not one JSON object`);
    }
  });
}

test('netpath on a folder that does not exist: exit 2 with one sentence', async () => {
  const run = await netpath('services', join(scratch, 'no-such-folder'));
  assertExplained(run, 'missing folder');
  assert.equal(run.status, 2);
  assert.match(run.stderr, /no such snapshot folder/);
});

/** Writes hand-built snapshot files (hostileInputs.ts) into a fresh folder with a meta.json. */
function folderOf(name: string, files: SnapshotFiles): string {
  const dir = join(scratch, name);
  mkdirSync(dir);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text!);
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ node: name }));
  return dir;
}

const hostileFolders: { name: string; files: () => SnapshotFiles; says: RegExp }[] = [
  { name: '100,000 nested chains', files: () => nestedIptablesJumps(100_000), says: /would nest chains deeper than 128/ },
  { name: 'a goto loop', files: () => iptablesJumpLoop('goto'), says: /would loop/ },
  {
    name: 'an nft.txt holding a 10 MB unclosed quote (its parser once threw on it)',
    files: () => ({ 'nft.txt': tenMegabyteLines().find((entry) => entry.name === 'a 10 MB nft rule with an unbalanced quote')!.text, 'route-local.txt': ROUTE_LOCAL }),
    says: /nft\.txt line 3: a quote is not closed/,
  },
];

for (const { name, files, says } of hostileFolders) {
  test(`netpath trace on a snapshot folder with ${name}: exit 0 with the problem named, output of bounded size`, async () => {
    const dir = folderOf(name.replace(/\W+/g, '-'), files());
    const run = await netpath('trace', dir, '--dst', '10.96.0.10', '--dport', '80', '--src', '203.0.113.9', '--json');
    assertExplained(run, `netpath trace on ${name}`);
    assert.equal(run.status, 0, run.stderr);
    assert.match(`${run.stderr}${run.stdout}`, says);
    assert.ok(run.stdout.length < 1_000_000, `${name}: ${run.stdout.length} characters of JSON`);
    assert.doesNotThrow(() => JSON.parse(run.stdout));
  });
}
