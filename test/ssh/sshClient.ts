/**
 * The client side of the SSH tests: a throwaway HOME with an ssh config pointing `testnode` at a test sshd,
 * a known_hosts file in the state a test needs, and a CliIo that records what `netpath collect` prints.
 */

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIo } from '../../src/cli/io';
import type { ResolveContext } from '../../src/node/ssh/hostConfig';
import type { Sshd } from '../helpers/sshd';

export interface ClientHome {
  readonly home: string;
  readonly knownHosts: string;
  readonly context: ResolveContext;
  remove(): Promise<void>;
}

/** `trusted`: the sshd's real key is listed; `empty`: nothing is; `other`: a different key of the same type is. */
export async function createClientHome(sshd: Sshd, knownHosts: 'trusted' | 'empty' | 'other', otherKeyLine?: string): Promise<ClientHome> {
  const home = await mkdtemp(join(tmpdir(), 'npssh-home-'));
  await mkdir(join(home, '.ssh'), { mode: 0o700 });
  const knownHostsFile = join(home, '.ssh', 'known_hosts');
  const configText = [
    'Host testnode',
    '  HostName 127.0.0.1',
    `  Port ${sshd.port}`,
    '  User root',
    `  IdentityFile ${sshd.clientKeyPath}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${knownHostsFile}`,
    '  GlobalKnownHostsFile none',
    '',
  ].join('\n');
  await writeFile(join(home, '.ssh', 'config'), configText);
  if (knownHosts === 'trusted') await writeFile(knownHostsFile, `${sshd.knownHostsLine}\n`);
  if (knownHosts === 'other') await writeFile(knownHostsFile, `# another node once answered here\n${otherKeyLine}\n`);
  return {
    home,
    knownHosts: knownHostsFile,
    context: { configText, homeDir: home, localUser: 'root', env: {} },
    remove: () => rm(home, { recursive: true, force: true }),
  };
}

export interface RecordingIo extends CliIo {
  readonly out: string[];
  readonly err: string[];
}

export function recordingIo(isTTY: boolean, onStdout?: (text: string) => void): RecordingIo {
  const out: string[] = [];
  const err: string[] = [];
  return {
    isTTY,
    out,
    err,
    stdout(text) {
      out.push(text);
      onStdout?.(text);
    },
    stderr(text) {
      err.push(text);
    },
  };
}
