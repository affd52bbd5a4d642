// What must go wrong safely, against a real sshd: host keys that are changed or unknown, a connection cut in the
// middle of a collection, a sudo that wants a password, cancellation, and per-command limits. In every failure
// the --out folder must not exist afterwards and no staging folder may be left beside it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCollect } from '../../src/cli/collectCommand';
import { collectSnapshot } from '../../src/node/collect/collectSnapshot';
import type { CollectionMeta } from '../../src/node/collect/collectSnapshot';
import { resolveHost } from '../../src/node/ssh/hostConfig';
import { createSshCommandRunner } from '../../src/node/ssh/sshCommandRunner';
import { connectSsh } from '../../src/node/ssh/sshConnection';
import { generateKey, sshdSkipReason, startSshd } from '../helpers/sshd';
import type { Sshd } from '../helpers/sshd';
import { createClientHome, recordingIo } from './sshClient';

const skip = sshdSkipReason() ?? false;
let work: string;
/** Plain sshd: commands run on this machine (read-only dumps). */
let plain: Sshd | undefined;
/** `ipset -L` sleeps for 30 s, so a collection is reliably in flight when the test interferes. */
let slow: Sshd | undefined;

before(async () => {
  if (skip) return;
  work = await mkdtemp(join(tmpdir(), 'npssh-fail-'));
  plain = await startSshd();
  slow = await startSshd({ wrapperPrelude: 'case "$SSH_ORIGINAL_COMMAND" in "ipset -L") sleep 30 ;; esac' });
});

after(async () => {
  await plain?.stop();
  await slow?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Nothing that looks like a snapshot: neither the target nor a staging folder beside it. */
async function assertNoSnapshot(out: string): Promise<void> {
  assert.equal(existsSync(out), false, `${out} must not exist`);
  const parent = join(out, '..');
  const leftovers = (await readdir(parent)).filter((name) => name.includes('.partial-'));
  assert.deepEqual(leftovers, []);
}

test('a changed host key is refused, naming known_hosts and its line', { skip }, async () => {
  const otherKey = await generateKey(join(work, 'other_host_key'));
  const otherLine = `[127.0.0.1]:${plain!.port} ${(await readFile(`${otherKey}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ')}`;
  const client = await createClientHome(plain!, 'other', otherLine);
  try {
    const out = join(work, 'changed');
    const io = recordingIo(false);
    const code = await runCollect(['testnode', '--out', out, '--accept-new-host-key'], io, { resolveContext: client.context });
    assert.equal(code, 1);
    const message = io.err.join('');
    assert.match(message, /host key of \[127\.0\.0\.1\]:\d+ has changed/);
    assert.ok(message.includes(`${client.knownHosts} line 2`), message);
    await assertNoSnapshot(out);
  } finally {
    await client.remove();
  }
});

test('an unknown host key is refused without consent and shown by its SHA256 fingerprint', { skip }, async () => {
  const client = await createClientHome(plain!, 'empty');
  try {
    const out = join(work, 'unknown');
    const io = recordingIo(false);
    const code = await runCollect(['testnode', '--out', out], io, { resolveContext: client.context });
    assert.equal(code, 1);
    const fingerprint = execFileSync('ssh-keygen', ['-lf', join(plain!.dir, 'host_ed25519.pub')], { encoding: 'utf8' }).split(' ')[1]!;
    const message = io.err.join('');
    assert.ok(message.includes(fingerprint), message);
    assert.match(message, /--accept-new-host-key/);
    assert.equal(existsSync(client.knownHosts), false, 'nothing was added to known_hosts');
    await assertNoSnapshot(out);
  } finally {
    await client.remove();
  }
});

test('--accept-new-host-key trusts the key, records it in known_hosts, and later runs need no flag', { skip }, async () => {
  const client = await createClientHome(plain!, 'empty');
  try {
    const io = recordingIo(false);
    assert.equal(await runCollect(['testnode', '--out', join(work, 'accepted'), '--accept-new-host-key'], io, { resolveContext: client.context }), 0, io.err.join(''));
    assert.match(io.err.join(''), /Added the ssh-ed25519 key SHA256:\S+ of \[127\.0\.0\.1\]:\d+ to /);
    const found = execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${plain!.port}`, '-f', client.knownHosts], { encoding: 'utf8' });
    assert.ok(found.includes(plain!.hostKey.toString('base64')), found);
    const again = recordingIo(false);
    assert.equal(await runCollect(['testnode', '--out', join(work, 'accepted-again')], again, { resolveContext: client.context }), 0, again.err.join(''));
    assert.equal(again.err.join('').includes('Added'), false);
  } finally {
    await client.remove();
  }
});

test('hashed known_hosts entries (ssh-keygen -H, HashKnownHosts yes) are matched and written', { skip }, async () => {
  const client = await createClientHome(plain!, 'trusted');
  try {
    execFileSync('ssh-keygen', ['-H', '-f', client.knownHosts], { stdio: 'ignore' });
    assert.ok((await readFile(client.knownHosts, 'utf8')).startsWith('|1|'));
    const io = recordingIo(false);
    assert.equal(await runCollect(['testnode', '--out', join(work, 'hashed')], io, { resolveContext: client.context }), 0, io.err.join(''));

    // With HashKnownHosts yes a newly accepted key is written hashed, and OpenSSH finds it.
    await writeFile(client.knownHosts, '');
    const hashing = { ...client.context, configText: `${client.context.configText!}  HashKnownHosts yes\n` };
    const accept = recordingIo(false);
    assert.equal(await runCollect(['testnode', '--out', join(work, 'hashed-new'), '--accept-new-host-key'], accept, { resolveContext: hashing }), 0);
    const written = await readFile(client.knownHosts, 'utf8');
    assert.ok(written.startsWith('|1|') && !written.includes('127.0.0.1'), written);
    const found = execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${plain!.port}`, '-f', client.knownHosts], { encoding: 'utf8' });
    assert.ok(found.includes(plain!.hostKey.toString('base64')));
  } finally {
    await client.remove();
  }
});

test('sshd killed mid-collection: an error and no complete-looking snapshot', { skip }, async () => {
  const client = await createClientHome(slow!, 'trusted');
  try {
    const out = join(work, 'killed');
    let killed: Promise<void> | undefined;
    // The first progress line means commands have finished while `ipset -L` is still sleeping.
    const io = recordingIo(true, () => {
      killed ??= slow!.kill();
    });
    const code = await runCollect(['testnode', '--out', out], io, { resolveContext: client.context });
    await killed;
    assert.ok(killed, 'the collection reported progress before the kill');
    assert.equal(code, 1);
    assert.match(io.err.join(''), /did not (finish|run): the SSH connection (was cut|is closed)|closed the connection|reset the connection/);
    assert.match(io.err.join(''), /No snapshot was written/);
    await assertNoSnapshot(out);
  } finally {
    await client.remove();
    await slow!.stop();
    slow = await startSshd({ wrapperPrelude: 'case "$SSH_ORIGINAL_COMMAND" in "ipset -L") sleep 30 ;; esac' });
  }
});

test('cancelling through the AbortSignal stops the collection and leaves nothing behind', { skip }, async () => {
  const client = await createClientHome(slow!, 'trusted');
  try {
    const out = join(work, 'cancelled');
    const controller = new AbortController();
    const io = recordingIo(true, () => controller.abort());
    const code = await runCollect(['testnode', '--out', out], io, { resolveContext: client.context, signal: controller.signal });
    assert.equal(code, 1);
    assert.match(io.err.join(''), /cancelled/);
    await assertNoSnapshot(out);
  } finally {
    await client.remove();
  }
});

test('a caller\'s time limit (AbortSignal.timeout) is reported as a timeout, not a cancel', { skip }, async () => {
  const client = await createClientHome(slow!, 'trusted');
  try {
    const out = join(work, 'timed-out');
    const io = recordingIo(false);
    const code = await runCollect(['testnode', '--out', out], io, { resolveContext: client.context, signal: AbortSignal.timeout(1500) });
    assert.equal(code, 1);
    assert.match(io.err.join(''), /in the time allowed\./);
    await assertNoSnapshot(out);
  } finally {
    await client.remove();
  }
});

test('a slow command hits its timeout and a large one the size cap: both recorded, the rest collected', { skip }, async () => {
  const client = await createClientHome(slow!, 'trusted');
  try {
    const host = resolveHost('testnode', {}, client.context);
    const connection = await connectSsh(host, { prompter: { confirmNewHostKey: async () => false } });
    const runner = createSshCommandRunner(connection);
    try {
      const result = await collectSnapshot({
        runner,
        outDir: join(work, 'limits'),
        target: { alias: 'testnode', hostName: host.hostName, port: host.port, user: host.user },
        sudo: false,
        // Long enough for every other command even on a loaded machine; `ipset -L` sleeps 30 s.
        commandTimeoutMs: 5000,
        maxFileBytes: 64,
      });
      const { commands, files } = result.meta;
      assert.equal(commands['ipset -L']!.status, 'error');
      assert.match(commands['ipset -L']!.error!, /did not finish within 5 s/);
      // `ip -o addr show` prints more than 64 bytes on any machine (lo alone does).
      assert.equal(commands['ip -o addr show']!.status, 'error');
      assert.match(commands['ip -o addr show']!.error!, /more than 64 B/);
      assert.equal(files['addr.txt'], undefined);
      assert.equal(existsSync(join(result.dir, 'addr.txt')), false);
      assert.equal(existsSync(join(result.dir, 'ipset.txt')), false);
      assert.equal(commands['uname -n']!.status, 'ok');
      assert.ok(result.meta.warnings.some((w) => w.includes('ipset')));
    } finally {
      runner.close();
    }
  } finally {
    await client.remove();
  }
});

test('--sudo: a sudo that wants a password gives one clear error', { skip }, async () => {
  const fakeBin = join(work, 'sudo-password-bin');
  await mkdir(fakeBin);
  await writeFile(join(fakeBin, 'sudo'), '#!/bin/sh\necho "sudo: a password is required" >&2\nexit 1\n');
  await chmod(join(fakeBin, 'sudo'), 0o755);
  const sshd = await startSshd({ wrapperPrelude: `PATH='${fakeBin}':$PATH; export PATH` });
  const client = await createClientHome(sshd, 'trusted');
  try {
    const out = join(work, 'sudo-password');
    const io = recordingIo(false);
    const code = await runCollect(['testnode', '--out', out, '--sudo'], io, { resolveContext: client.context });
    assert.equal(code, 1);
    const lines = io.err.join('').trim().split('\n');
    assert.equal(lines.length, 1, io.err.join(''));
    assert.match(lines[0]!, /sudo on 127\.0\.0\.1 asks root for a password; --sudo needs passwordless sudo/);
    await assertNoSnapshot(out);
  } finally {
    await client.remove();
    await sshd.stop();
  }
});

test('--sudo with passwordless sudo: every command runs as sudo -n, a tool sudo cannot find is recorded as missing', { skip }, async () => {
  const fakeBin = join(work, 'sudo-ok-bin');
  await mkdir(fakeBin);
  // Behaves like sudo -n for a NOPASSWD user: refuses anything but -n first, reports unknown commands as sudo does.
  await writeFile(
    join(fakeBin, 'sudo'),
    '#!/bin/sh\n[ "$1" = "-n" ] || { echo "sudo: expected -n" >&2; exit 2; }\nshift\n' +
      // ipvsadm counts as not installed whatever this machine has.
      '[ "$1" != ipvsadm ] && command -v "$1" >/dev/null 2>&1 || { echo "sudo: $1: command not found" >&2; exit 1; }\nexec "$@"\n',
  );
  await chmod(join(fakeBin, 'sudo'), 0o755);
  const sshd = await startSshd({ wrapperPrelude: `PATH='${fakeBin}':$PATH; export PATH` });
  const client = await createClientHome(sshd, 'trusted');
  try {
    const out = join(work, 'sudo-ok');
    const io = recordingIo(false);
    assert.equal(await runCollect(['testnode', '--out', out, '--sudo'], io, { resolveContext: client.context }), 0, io.err.join(''));
    const meta = JSON.parse(await readFile(join(out, 'meta.json'), 'utf8')) as CollectionMeta;
    assert.equal(meta.sudo, true);
    for (const record of Object.values(meta.commands)) assert.deepEqual(record.argv.slice(0, 2), ['sudo', '-n']);
    assert.equal(meta.commands['ipvsadm -Ln']!.status, 'missing');
    assert.deepEqual(meta.missingTools, ['ipvsadm']);
    assert.equal(meta.commands['ip route show table local']!.status, 'ok');
  } finally {
    await client.remove();
    await sshd.stop();
  }
});

test('bad usage and a non-empty --out exit 2 with one sentence', { skip }, async () => {
  const client = await createClientHome(plain!, 'trusted');
  try {
    const busy = join(work, 'busy');
    await mkdir(busy);
    await writeFile(join(busy, 'keep.txt'), 'user data');
    const cases: [string[], RegExp][] = [
      [['testnode', '--out', busy], /is not empty/],
      [['--out', join(work, 'x')], /exactly one ssh host/],
      [['testnode'], /--out <dir> is required/],
      [['testnode', '--out', join(work, 'y'), '--port', '70000'], /not a port number/],
      [['testnode', '--out', join(work, 'z'), '--bogus'], /Unknown option '--bogus'/],
    ];
    for (const [args, pattern] of cases) {
      const io = recordingIo(false);
      assert.equal(await runCollect(args, io, { resolveContext: client.context }), 2, args.join(' '));
      assert.match(io.err.join(''), pattern);
      assert.equal(io.err.join('').trim().split('\n').length, 1);
    }
    assert.equal(await readFile(join(busy, 'keep.txt'), 'utf8'), 'user data');
    // An existing empty folder is fine.
    const empty = join(work, 'empty-out');
    await mkdir(empty);
    const io = recordingIo(false);
    assert.equal(await runCollect(['testnode', '--out', empty], io, { resolveContext: client.context }), 0, io.err.join(''));
    assert.ok(existsSync(join(empty, 'meta.json')));
  } finally {
    await client.remove();
  }
});
