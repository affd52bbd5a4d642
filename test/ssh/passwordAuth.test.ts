// Password and keyboard-interactive authentication through the Prompter. OpenSSH here would check real system
// accounts, so the server is ssh2's own Server in-process, accepting one test user; the client code under test
// is the same that talks to OpenSSH.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Server, utils } from 'ssh2';
import { resolveHost } from '../../src/node/ssh/hostConfig';
import type { ResolveContext } from '../../src/node/ssh/hostConfig';
import type { KeyboardInteractiveQuestion, Prompter } from '../../src/node/ssh/prompter';
import { createSshCommandRunner } from '../../src/node/ssh/sshCommandRunner';
import { connectSsh } from '../../src/node/ssh/sshConnection';
import { SshError } from '../../src/node/ssh/sshError';

let server: Server;
let port: number;
let home: string;
let context: ResolveContext;
/** Which methods the server offers for the current test. */
let offered: ('password' | 'keyboard-interactive')[] = [];

before(async () => {
  const hostKey = utils.generateKeyPairSync('ed25519');
  home = await mkdtemp(join(tmpdir(), 'npssh-pw-'));
  server = new Server({ hostKeys: [hostKey.private] }, (connection) => {
    connection.on('authentication', (ctx) => {
      if (ctx.username !== 'tester') return ctx.reject();
      if (ctx.method === 'password' && offered.includes('password')) {
        return ctx.password === 'sesame' ? ctx.accept() : ctx.reject(offered);
      }
      if (ctx.method === 'keyboard-interactive' && offered.includes('keyboard-interactive')) {
        ctx.prompt(
          [
            { prompt: 'Password: ', echo: false },
            { prompt: 'One-time code: ', echo: true },
          ],
          'Two factors',
          'Enter both.',
          (answers) => (answers[0] === 'sesame' && answers[1] === '424242' ? ctx.accept() : ctx.reject(offered)),
        );
        return;
      }
      ctx.reject(offered);
    });
    connection.on('ready', () => {
      connection.on('session', (accept) => {
        accept().on('exec', (acceptExec, _reject, info) => {
          const channel = acceptExec();
          channel.write(`ran: ${info.command}\n`);
          channel.exit(0);
          channel.end();
        });
      });
    });
    connection.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  const knownHosts = join(home, 'known_hosts');
  await writeFile(knownHosts, `[127.0.0.1]:${port} ${hostKey.public.split(' ').slice(0, 2).join(' ')}\n`);
  const configText = `Host srv\n  HostName 127.0.0.1\n  Port ${port}\n  User tester\n  UserKnownHostsFile ${knownHosts}\n  GlobalKnownHostsFile none\n`;
  context = { configText, homeDir: home, localUser: 'tester', env: {} };
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(home, { recursive: true, force: true });
});

async function runEcho(prompter: Prompter): Promise<string> {
  const connection = await connectSsh(resolveHost('srv', {}, context), { prompter });
  const runner = createSshCommandRunner(connection);
  try {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    });
    await runner.run(['uname', '-n'], sink, { timeoutMs: 5000, maxStdoutBytes: 1024, maxStderrBytes: 1024 });
    return Buffer.concat(chunks).toString();
  } finally {
    runner.close();
  }
}

test('password authentication asks the Prompter, and asks again after a wrong password', async () => {
  offered = ['password'];
  const asked: [string, string, number][] = [];
  const output = await runEcho({
    confirmNewHostKey: async () => false,
    askPassword: async (user, host, attempt) => {
      asked.push([user, host, attempt]);
      return attempt === 1 ? 'guess' : 'sesame';
    },
  });
  assert.equal(output, 'ran: uname -n\n');
  assert.deepEqual(asked, [
    ['tester', '127.0.0.1', 1],
    ['tester', '127.0.0.1', 2],
  ]);
});

test('without a way to ask for a password, authentication fails naming what the server accepts', async () => {
  offered = ['password'];
  await assert.rejects(
    runEcho({ confirmNewHostKey: async () => false }),
    (error: unknown) =>
      error instanceof SshError && error.kind === 'auth' && /the server accepts: password/.test(error.message),
  );
  // Three wrong answers end the attempts instead of looping.
  let attempts = 0;
  await assert.rejects(
    runEcho({
      confirmNewHostKey: async () => false,
      askPassword: async () => {
        attempts++;
        return 'guess';
      },
    }),
    (error: unknown) => error instanceof SshError && error.kind === 'auth',
  );
  assert.equal(attempts, 3);
});

test('keyboard-interactive prompts reach the Prompter with their echo flags and instructions', async () => {
  offered = ['keyboard-interactive'];
  const questions: KeyboardInteractiveQuestion[] = [];
  const output = await runEcho({
    confirmNewHostKey: async () => false,
    askKeyboardInteractive: async (question) => {
      questions.push(question);
      return ['sesame', '424242'];
    },
  });
  assert.equal(output, 'ran: uname -n\n');
  assert.equal(questions.length, 1);
  assert.equal(questions[0]!.instructions, 'Enter both.');
  assert.deepEqual(questions[0]!.prompts, [
    { prompt: 'Password: ', echo: false },
    { prompt: 'One-time code: ', echo: true },
  ]);
});

/** Every file under a folder, read as text. */
async function allFileText(folder: string): Promise<string> {
  const { readdir, readFile } = await import('node:fs/promises');
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  const texts = await Promise.all(
    entries.filter((entry) => entry.isFile()).map((entry) => readFile(join(entry.parentPath ?? entry.path, entry.name), 'utf8')),
  );
  return texts.join('\n');
}

test('a collection authenticated by password leaves the password nowhere: not in the snapshot, the log, the progress or the ssh folder', async () => {
  offered = ['password'];
  const { collectFromHost } = await import('../../src/node/collect/collectFromHost');
  const outDir = join(home, 'snapshot');
  const logged: string[] = [];
  const progress: string[] = [];
  const result = await collectFromHost({
    target: 'srv',
    outDir,
    sudo: false,
    resolveContext: context,
    log: (line) => logged.push(line),
    onProgress: (step) => progress.push(JSON.stringify(step)),
    prompter: {
      confirmNewHostKey: async () => false,
      askPassword: async (_user, _host, attempt) => (attempt === 1 ? 'wrong-guess-7f3a' : 'sesame'),
    },
  });
  assert.ok(result, 'the collection finished');
  const everything = [await allFileText(outDir), await allFileText(home), logged.join('\n'), progress.join('\n'), JSON.stringify(result)].join('\n');
  assert.match(await allFileText(outDir), /ran: /, 'the snapshot holds what the commands printed, so the search below reads real files');
  for (const secret of ['sesame', 'wrong-guess-7f3a']) {
    assert.equal(everything.includes(secret), false, `"${secret}" was written somewhere`);
  }
});
