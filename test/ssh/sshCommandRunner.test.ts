// The ssh2 CommandRunner against a real sshd: argv reaches the remote shell as separate words with nothing
// interpolated, large stdout is streamed to a file, stderr is capped, exit codes and signals are kept, and the
// channel bound queues commands and narrows itself when a server allows fewer sessions (MaxSessions).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { CommandFailure } from '../../src/node/ssh/commandRunner';
import type { CommandRunner, RunOptions } from '../../src/node/ssh/commandRunner';
import { resolveHost } from '../../src/node/ssh/hostConfig';
import { createSshCommandRunner, shellQuote } from '../../src/node/ssh/sshCommandRunner';
import { connectSsh } from '../../src/node/ssh/sshConnection';
import { sshdSkipReason, startSshd } from '../helpers/sshd';
import type { Sshd } from '../helpers/sshd';
import { createClientHome } from './sshClient';
import type { ClientHome } from './sshClient';

const skip = sshdSkipReason() ?? false;
let work: string;
let sshd: Sshd | undefined;
let client: ClientHome | undefined;

before(async () => {
  if (skip) return;
  work = await mkdtemp(join(tmpdir(), 'npssh-runner-'));
  sshd = await startSshd({ extraConfig: ['MaxSessions 3'] });
  client = await createClientHome(sshd, 'trusted');
});

after(async () => {
  await client?.remove();
  await sshd?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function openRunner(maxChannels: number): Promise<CommandRunner> {
  const host = resolveHost('testnode', {}, client!.context);
  const connection = await connectSsh(host, { prompter: { confirmNewHostKey: async () => false } });
  return createSshCommandRunner(connection, { maxChannels });
}

const limits: RunOptions = { timeoutMs: 20_000, maxStdoutBytes: 64 * 1024 * 1024, maxStderrBytes: 1024 };

/** A sink that keeps what it is given, for small outputs. */
function collector(): { sink: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return { sink, text: () => Buffer.concat(chunks).toString('utf8') };
}

test('shellQuote keeps plain words and single-quotes everything else', () => {
  assert.equal(shellQuote('iptables-save'), 'iptables-save');
  assert.equal(shellQuote('-Ln'), '-Ln');
  assert.equal(shellQuote("it's $HOME"), `'it'\\''s $HOME'`);
  assert.equal(shellQuote(''), "''");
});

test('argv reaches the node word for word: no expansion, no command substitution', { skip }, async () => {
  const runner = await openRunner(2);
  try {
    const words = ['a b', "it's", '$HOME', '`id`', '$(id)', '*', 'semi;colon', 'new\nline'];
    const { sink, text } = collector();
    const result = await runner.run(['printf', '%s|', ...words], sink, limits);
    assert.equal(result.exitCode, 0);
    assert.equal(text(), `${words.join('|')}|`);
  } finally {
    runner.close();
  }
});

test('20 MB of stdout is streamed into a file; bytes, exit code, capped stderr and signals are reported', { skip }, async () => {
  const runner = await openRunner(2);
  try {
    const path = join(work, 'big.out');
    const big = await runner.run(['head', '-c', '20000000', '/dev/zero'], createWriteStream(path), limits);
    assert.equal(big.exitCode, 0);
    assert.equal(big.bytes, 20_000_000);
    assert.equal((await stat(path)).size, 20_000_000);

    const noisy = collector();
    const loud = await runner.run(['sh', '-c', 'i=0; while [ $i -lt 500 ]; do echo "warning line $i" >&2; i=$((i+1)); done; exit 3'], noisy.sink, limits);
    assert.equal(loud.exitCode, 3);
    assert.equal(loud.stderrTruncated, true);
    assert.equal(Buffer.byteLength(loud.stderr), 1024);
    assert.ok(loud.stderr.startsWith('warning line 0\n'));

    // The session's top process (the test sshd's wrapper shell) dies from a signal: sshd reports exit-signal.
    const killed = await runner.run(['sh', '-c', 'kill -TERM $PPID'], collector().sink, limits);
    assert.equal(killed.exitCode, null);
    assert.equal(killed.exitSignal, 'SIGTERM');

    const missing = await runner.run(['no-such-tool-npssh'], collector().sink, limits);
    assert.equal(missing.exitCode, 127);
  } finally {
    runner.close();
  }
});

test('over the size cap the command is stopped with a clear error; a timeout likewise', { skip }, async () => {
  const runner = await openRunner(2);
  try {
    await assert.rejects(
      runner.run(['head', '-c', '5000000', '/dev/zero'], collector().sink, { ...limits, maxStdoutBytes: 1_000_000 }),
      (error: unknown) => error instanceof CommandFailure && error.kind === 'too-large' && /more than 976\.6 KiB/.test(error.message),
    );
    await assert.rejects(
      runner.run(['sleep', '20'], collector().sink, { ...limits, timeoutMs: 300 }),
      (error: unknown) => error instanceof CommandFailure && error.kind === 'timeout',
    );
    // The connection is still usable afterwards.
    const { sink, text } = collector();
    assert.equal((await runner.run(['echo', 'still here'], sink, limits)).exitCode, 0);
    assert.equal(text(), 'still here\n');
  } finally {
    runner.close();
  }
});

test('more commands than channels wait for a free channel and all complete with their own output', { skip }, async () => {
  const bounded = await openRunner(2);
  try {
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => {
        const { sink, text } = collector();
        return bounded.run(['sh', '-c', `sleep 0.2; echo ${i}`], sink, limits).then((result) => ({ result, text: text() }));
      }),
    );
    assert.deepEqual(
      results.map(({ result, text }) => [result.exitCode, text]),
      Array.from({ length: 6 }, (_, i) => [0, `${i}\n`]),
    );
  } finally {
    bounded.close();
  }
});

test('a server allowing fewer sessions than the bound: refused channels narrow the bound and all commands run', { skip }, async () => {
  const strict = await startSshd({ extraConfig: ['MaxSessions 1'] });
  const strictClient = await createClientHome(strict, 'trusted');
  try {
    const connection = await connectSsh(resolveHost('testnode', {}, strictClient.context), { prompter: { confirmNewHostKey: async () => false } });
    const runner = createSshCommandRunner(connection, { maxChannels: 6 });
    try {
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => {
          const { sink, text } = collector();
          return runner.run(['sh', '-c', `sleep 0.1; echo ${i}`], sink, limits).then((result) => [result.exitCode, text()]);
        }),
      );
      assert.deepEqual(results, Array.from({ length: 6 }, (_, i) => [0, `${i}\n`]));
    } finally {
      runner.close();
    }
  } finally {
    await strictClient.remove();
    await strict.stop();
  }
});

test('runs after the connection is closed fail as disconnected', { skip }, async () => {
  const runner = await openRunner(2);
  runner.close();
  await new Promise((resolve) => setTimeout(resolve, 100));
  await assert.rejects(
    runner.run(['echo', 'x'], collector().sink, limits),
    (error: unknown) => error instanceof CommandFailure && error.kind === 'disconnected',
  );
});

test('files written through the runner are byte-identical to the command output', { skip }, async () => {
  const runner = await openRunner(2);
  try {
    const path = join(work, 'bytes.out');
    // Every byte value, including NUL and invalid UTF-8, must survive untouched.
    await runner.run(['sh', '-c', 'i=0; while [ $i -lt 256 ]; do printf "\\\\$(printf %o $i)"; i=$((i+1)); done'], createWriteStream(path), limits);
    const bytes = await readFile(path);
    assert.equal(bytes.length, 256);
    assert.deepEqual([...bytes], Array.from({ length: 256 }, (_, i) => i));
  } finally {
    runner.close();
  }
});
