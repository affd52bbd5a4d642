/**
 * A real OpenSSH sshd for tests: listens on 127.0.0.1 on a free port with its own host key and one authorized
 * client key, all in a temp folder, and runs every requested command through a ForceCommand wrapper, optionally
 * inside a network namespace (`ip netns exec <ns> sh -c "$SSH_ORIGINAL_COMMAND"`). Shared by the SSH tests and
 * the editor tests; it needs root (sshd re-executes as root and `ip netns exec` needs it).
 */

import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SshdOptions {
  /** Network namespace the commands run in; the caller creates and deletes it. */
  readonly netns?: string;
  /** Shell lines the wrapper runs before the command (e.g. a PATH with a fake sudo in front). */
  readonly wrapperPrelude?: string;
  /** More sshd_config lines; they come first, so they win over the defaults (sshd takes the first value). */
  readonly extraConfig?: readonly string[];
}

export interface Sshd {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly user: 'root';
  /** The temp folder holding keys, config and the session HOME. */
  readonly dir: string;
  /** Private key (ed25519, no passphrase) that the server accepts. */
  readonly clientKeyPath: string;
  /** The server's host public key blob (what an SSH client is shown). */
  readonly hostKey: Buffer;
  /** `[127.0.0.1]:port ssh-ed25519 AAAA…`, ready for a known_hosts file. */
  readonly knownHostsLine: string;
  /** The empty folder every session runs with as HOME. */
  readonly sessionHome: string;
  /** The sshd listener process. */
  readonly process: ChildProcess;
  /** What sshd logged so far (stderr, `-e`); raise LogLevel through extraConfig to see more. */
  logs(): string;
  /** SIGKILLs the listener and every session process under it (a cut connection). */
  kill(): Promise<void>;
  /** Stops everything and removes the temp folder. */
  stop(): Promise<void>;
}

/**
 * A wrapperPrelude line that makes commands matching a shell `case` pattern behave as not installed (the
 * shell's exit 127), so a test does not depend on what this machine happens to have installed.
 */
export function notInstalledPrelude(pattern: string): string {
  return `case "$SSH_ORIGINAL_COMMAND" in ${pattern}) echo "sh: 1: $SSH_ORIGINAL_COMMAND: not found" >&2; exit 127 ;; esac`;
}

/** Why the SSH tests cannot run here, or undefined when they can. */
export function sshdSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (sshd, ip netns)';
  if (!existsSync('/usr/sbin/sshd')) return '/usr/sbin/sshd is not installed (openssh-server)';
  if (!existsSync('/usr/bin/ssh-keygen')) return 'ssh-keygen is not installed';
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Generates an ed25519 key pair without passphrase (or with one); returns the private key path. */
export async function generateKey(path: string, passphrase = ''): Promise<string> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'kube-netpath-test', '-f', path]);
  return path;
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = await mkdtemp(join(tmpdir(), 'npssh-sshd-'));
  const sessionHome = join(dir, 'home');
  await mkdir(sessionHome);
  const hostKeyPath = await generateKey(join(dir, 'host_ed25519'));
  const clientKeyPath = await generateKey(join(dir, 'client_ed25519'));
  await writeFile(join(dir, 'authorized_keys'), await readFile(`${clientKeyPath}.pub`));
  const hostKey = Buffer.from((await readFile(`${hostKeyPath}.pub`, 'utf8')).split(' ')[1]!, 'base64');

  const wrapper = join(dir, 'force-command.sh');
  const runLine = options.netns
    ? `exec ip netns exec '${options.netns}' sh -c "$SSH_ORIGINAL_COMMAND"`
    : 'exec sh -c "$SSH_ORIGINAL_COMMAND"';
  await writeFile(wrapper, `#!/bin/sh\nHOME='${sessionHome}'\nexport HOME\n${options.wrapperPrelude ?? ''}\n${runLine}\n`);
  await chmod(wrapper, 0o755);

  const port = await freePort();
  const configPath = join(dir, 'sshd_config');
  await writeFile(
    configPath,
    [
      ...(options.extraConfig ?? []),
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKeyPath}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'StrictModes no',
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PrintMotd no',
      'PrintLastLog no',
      'MaxStartups 50',
      'LogLevel ERROR',
      `SetEnv HOME=${sessionHome}`,
      `ForceCommand ${wrapper}`,
      '',
    ].join('\n'),
  );

  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await waitForListener(port, child, () => stderr);

  const knownHostsLine = `[127.0.0.1]:${port} ssh-ed25519 ${hostKey.toString('base64')}`;
  const kill = async (): Promise<void> => {
    // Session processes left behind by a closed connection are re-parented to init, so they are found by the
    // HOME this server gives every session (a unique temp path) as well as by parentage.
    const sessions = [...(await descendants(child.pid!)), ...(await withHome(sessionHome))];
    const pids = [...new Set(sessions), child.pid!];
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once('exit', resolve));
  };
  return {
    host: '127.0.0.1',
    port,
    user: 'root',
    dir,
    clientKeyPath,
    hostKey,
    knownHostsLine,
    sessionHome,
    process: child,
    logs: () => stderr,
    kill,
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForListener(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited (${child.exitCode}): ${stderr().trim()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`sshd did not listen on ${port} within 10 s: ${stderr().trim()}`);
}

/** Processes whose environment has HOME set to `home` exactly. */
async function withHome(home: string): Promise<number[]> {
  const marker = Buffer.from(`HOME=${home}\0`);
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const environ = await readFile(`/proc/${name}/environ`);
      const at = environ.indexOf(marker);
      if (at === 0 || (at > 0 && environ[at - 1] === 0)) found.push(Number(name));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return found;
}

/** Every process whose parent chain leads to `pid`, found through /proc. */
async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(name), ppid);
    } catch {
      // The process ended while we looked.
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}
