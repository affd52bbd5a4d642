// Faults before any command runs, through the built CLI as a user meets them: a host name that does not resolve
// and a port nobody listens on. Each ends in one sentence, exit code 1, and no snapshot folder.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';

const root = resolve(__dirname, '..', '..');
let home = '';

before(() => {
  const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  home = mkdtempSync(join(tmpdir(), 'npssh-faults-'));
});
after(() => rmSync(home, { recursive: true, force: true }));

function collect(...args: string[]) {
  return spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), 'collect', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH, HOME: home },
  });
}

/** A port on 127.0.0.1 that was free a moment ago. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

test('a host name that does not resolve: one sentence naming it, exit 1, no snapshot', () => {
  const out = join(home, 'dns');
  const run = collect('node-that-does-not-exist.invalid', '--out', out);
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /node-that-does-not-exist\.invalid could not be resolved/);
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  assert.equal(existsSync(out), false);
});

test('a port where nothing listens: connection refused in one sentence, exit 1, no snapshot', async () => {
  const port = await closedPort();
  const out = join(home, 'refused');
  const run = collect('127.0.0.1', '--port', String(port), '--out', out);
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, new RegExp(`127\\.0\\.0\\.1:${port} was refused`));
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  assert.equal(existsSync(out), false);
});
