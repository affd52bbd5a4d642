// Authentication and routing the way OpenSSH users set them up, against real sshd processes: keys held by a
// real ssh-agent, an identity file with a passphrase asked through the Prompter, ProxyJump through a bastion,
// and a key the server does not accept.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCollect } from '../../src/cli/collectCommand';
import type { Prompter } from '../../src/node/ssh/prompter';
import { generateKey, sshdSkipReason, startSshd } from '../helpers/sshd';
import type { Sshd } from '../helpers/sshd';
import { createClientHome, recordingIo } from './sshClient';

const skip = sshdSkipReason() ?? (existsSync('/usr/bin/ssh-agent') ? false : 'ssh-agent is not installed');
let work: string;
let node: Sshd | undefined;

before(async () => {
  if (skip) return;
  work = await mkdtemp(join(tmpdir(), 'npssh-auth-'));
  node = await startSshd();
});

after(async () => {
  await node?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const refuseHostKeys: Prompter = { confirmNewHostKey: async () => false };

test('keys held by ssh-agent (SSH_AUTH_SOCK) authenticate when no identity file is configured', { skip }, async () => {
  const socket = join(work, 'agent.sock');
  const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  const client = await createClientHome(node!, 'trusted');
  try {
    for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    execFileSync('ssh-add', [node!.clientKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
    const configText = client.context.configText!.replace(/ {2}IdentityFile .*\n {2}IdentitiesOnly yes\n/, '');
    assert.ok(!configText.includes('IdentityFile'));
    // The home has no ~/.ssh/id_* files, so only the agent can succeed.
    const io = recordingIo(false);
    const code = await runCollect(['testnode', '--out', join(work, 'via-agent')], io, {
      resolveContext: { ...client.context, configText, env: { SSH_AUTH_SOCK: socket } },
      prompter: refuseHostKeys,
    });
    assert.equal(code, 0, io.err.join(''));

    const withoutAgent = recordingIo(false);
    const failed = await runCollect(['testnode', '--out', join(work, 'no-agent')], withoutAgent, {
      resolveContext: { ...client.context, configText, env: {} },
      prompter: refuseHostKeys,
    });
    assert.equal(failed, 1);
    assert.match(withoutAgent.err.join(''), /Authentication as root@127\.0\.0\.1:\d+ failed/);
  } finally {
    agent.kill();
    await client.remove();
  }
});

test('an encrypted identity file is opened with the passphrase the Prompter gives, retried when wrong', { skip }, async () => {
  const keyPath = await generateKey(join(work, 'locked_key'), 'correct horse');
  await appendFile(join(node!.dir, 'authorized_keys'), await readFile(`${keyPath}.pub`));
  const client = await createClientHome(node!, 'trusted');
  try {
    const configText = client.context.configText!.replace(node!.clientKeyPath, keyPath);
    const asked: [string, number][] = [];
    const prompter: Prompter = {
      confirmNewHostKey: async () => false,
      askPassphrase: async (file, attempt) => {
        asked.push([file, attempt]);
        return attempt === 1 ? 'wrong guess' : 'correct horse';
      },
    };
    const io = recordingIo(false);
    const code = await runCollect(['testnode', '--out', join(work, 'passphrase')], io, {
      resolveContext: { ...client.context, configText },
      prompter,
    });
    assert.equal(code, 0, io.err.join(''));
    assert.deepEqual(asked, [
      [keyPath, 1],
      [keyPath, 2],
    ]);
    assert.equal(io.err.join('').includes('correct horse'), false, 'the passphrase is never printed');

    // Without a way to ask, the key is skipped and authentication fails with a sentence.
    const noPrompt = recordingIo(false);
    const failed = await runCollect(['testnode', '--out', join(work, 'no-passphrase')], noPrompt, {
      resolveContext: { ...client.context, configText },
      prompter: refuseHostKeys,
    });
    assert.equal(failed, 1);
    assert.match(noPrompt.err.join(''), /is encrypted and no passphrase can be asked for/);
  } finally {
    await client.remove();
  }
});

test('ProxyJump (config or --jump) goes through the bastion: the bastion logs the login, the node answers', { skip }, async () => {
  const bastion = await startSshd({ extraConfig: ['LogLevel VERBOSE'] });
  const client = await createClientHome(node!, 'trusted');
  try {
    await appendFile(client.knownHosts, `${bastion.knownHostsLine}\n`);
    const configText =
      client.context.configText!.replace('Host testnode\n', 'Host testnode\n  ProxyJump bastion\n') +
      [
        'Host bastion',
        '  HostName 127.0.0.1',
        `  Port ${bastion.port}`,
        '  User root',
        `  IdentityFile ${bastion.clientKeyPath}`,
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${client.knownHosts}`,
        '  GlobalKnownHostsFile none',
        '',
      ].join('\n');
    const io = recordingIo(false);
    const code = await runCollect(['testnode', '--out', join(work, 'jumped')], io, {
      resolveContext: { ...client.context, configText },
      prompter: refuseHostKeys,
    });
    assert.equal(code, 0, io.err.join(''));
    assert.match(bastion.logs(), /Accepted publickey for root/);
    assert.ok(existsSync(join(work, 'jumped', 'meta.json')));

    // --jump on the command line does the same for a host whose config has no ProxyJump.
    const logins = (bastion.logs().match(/Accepted publickey for root/g) ?? []).length;
    const viaFlag = recordingIo(false);
    const flagCode = await runCollect(['testnode', '--out', join(work, 'jumped-flag'), '--jump', 'bastion'], viaFlag, {
      resolveContext: { ...client.context, configText: configText.replace('  ProxyJump bastion\n', '') },
      prompter: refuseHostKeys,
    });
    assert.equal(flagCode, 0, viaFlag.err.join(''));
    assert.equal((bastion.logs().match(/Accepted publickey for root/g) ?? []).length, logins + 1);
  } finally {
    await client.remove();
    await bastion.stop();
  }
});

test('a key the server does not accept fails with the methods tried', { skip }, async () => {
  const stranger = await generateKey(join(work, 'stranger_key'));
  const client = await createClientHome(node!, 'trusted');
  try {
    const io = recordingIo(false);
    const code = await runCollect(['testnode', '--out', join(work, 'refused'), '--identity', stranger], io, {
      resolveContext: { ...client.context, configText: client.context.configText!.replace(node!.clientKeyPath, stranger) },
      prompter: refuseHostKeys,
    });
    assert.equal(code, 1);
    assert.match(io.err.join(''), new RegExp(`failed: tried key ${stranger.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(the server accepts: publickey\\)`));
    assert.equal(existsSync(join(work, 'refused')), false);
  } finally {
    await client.remove();
  }
});
