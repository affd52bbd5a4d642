/**
 * `netpath collect <ssh-host> --out <dir>`: resolves the host like ssh does, connects, runs the fixed command
 * set and writes the snapshot folder, with a progress line per command on a terminal. Exit codes: 0 collected,
 * 1 the collection failed (connection, host key, authentication, sudo), 2 bad usage or an unusable --out.
 */

import { resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import { collectFromHost } from '../node/collect/collectFromHost';
import { CollectError } from '../node/collect/collectSnapshot';
import type { CommandProgress } from '../node/collect/collectSnapshot';
import { HostConfigError } from '../node/ssh/hostConfig';
import type { ResolveContext } from '../node/ssh/hostConfig';
import type { Prompter } from '../node/ssh/prompter';
import { formatBytes } from '../node/ssh/sshCommandRunner';
import { SshError } from '../node/ssh/sshError';
import { createTerminalPrompter } from '../node/ssh/terminalPrompter';
import { SnapshotOutError } from '../node/snapshotWriter';
import { CliError } from './io';
import { safeText } from './terminalText';
import type { CliIo } from './io';

const USAGE =
  'usage: netpath collect <ssh-host> --out <dir> [--sudo] [--port N] [--user U] [--identity FILE] [--jump HOST] [--accept-new-host-key]';

/** What tests (and other front ends) may replace; the CLI uses the real process for all of it. */
export interface CollectDependencies {
  readonly resolveContext?: ResolveContext;
  readonly prompter?: Prompter;
  readonly signal?: AbortSignal;
}

export async function runCollect(args: string[], io: CliIo, dependencies: CollectDependencies = {}): Promise<number> {
  try {
    return await collect(args, io, dependencies);
  } catch (error) {
    if (error instanceof CliError || error instanceof HostConfigError || error instanceof SnapshotOutError) {
      io.stderr(`netpath collect: ${error.message}\n`);
      return 2;
    }
    if (error instanceof SshError || error instanceof CollectError) {
      io.stderr(`netpath collect: ${safeText(error.message)}${hint(error)} No snapshot was written.\n`);
      return 1;
    }
    io.stderr(`netpath collect: ${safeText((error as Error)?.message ?? String(error))}\n`);
    return 1;
  }
}

function hint(error: SshError | CollectError): string {
  if (error.kind === 'host-key-unknown') {
    return ' If the fingerprint is the node\'s (ask its administrator or check its console), rerun with --accept-new-host-key to trust it.';
  }
  return '';
}

async function collect(args: string[], io: CliIo, dependencies: CollectDependencies): Promise<number> {
  const options = parseCollectArgs(args);
  // An unknown host key is refused unless --accept-new-host-key; the refusal names the fingerprint, and an
  // accepted key is announced through the connection log.
  const prompter = dependencies.prompter ?? createTerminalPrompter({ acceptNewHostKey: options.acceptNewHostKey });

  const controller = new AbortController();
  const onInterrupt = (): void => controller.abort();
  const onOuterAbort = (): void => controller.abort(dependencies.signal?.reason);
  dependencies.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (!dependencies.signal) process.once('SIGINT', onInterrupt);
  const started = Date.now();
  try {
    const result = await collectFromHost({
      target: options.host,
      overrides: options.overrides,
      outDir: options.out,
      sudo: options.sudo,
      prompter,
      signal: controller.signal,
      onProgress: io.isTTY ? (progress) => io.stdout(formatProgress(progress)) : undefined,
      log: (line) => io.stderr(`${safeText(line)}\n`),
      resolveContext: dependencies.resolveContext,
    });
    // Warnings quote the node's stderr and the summary its host name: untrusted text, shown inert.
    for (const warning of result.meta.warnings) io.stderr(`warning: ${safeText(warning)}\n`);
    const files = Object.keys(result.meta.files).length;
    const bytes = Object.values(result.meta.commands).reduce((sum, record) => sum + (record.file ? record.bytes : 0), 0);
    const missing = result.meta.missingTools.length > 0 ? `; not installed on the node: ${result.meta.missingTools.join(', ')}` : '';
    io.stdout(
      `Snapshot of ${safeText(result.meta.node)} written to ${result.dir} (${files} files, ${formatBytes(bytes)}, ${Date.now() - started} ms${missing}).\n`,
    );
    return 0;
  } finally {
    dependencies.signal?.removeEventListener('abort', onOuterAbort);
    process.removeListener('SIGINT', onInterrupt);
  }
}

function formatProgress(progress: CommandProgress): string {
  const status =
    progress.status === 'ok'
      ? 'ok'
      : progress.status === 'missing'
        ? 'not installed'
        : progress.status === 'failed'
          ? `exit ${progress.exitCode}`
          : 'stopped';
  return `  ${progress.id.padEnd(26)} ${status.padEnd(13)} ${formatBytes(progress.bytes).padStart(10)} ${String(progress.milliseconds).padStart(6)} ms\n`;
}

interface CollectArgs {
  readonly host: string;
  readonly out: string;
  readonly sudo: boolean;
  readonly acceptNewHostKey: boolean;
  readonly overrides: { user?: string; port?: number; identityFile?: string; jump?: string };
}

export function parseCollectArgs(args: string[]): CollectArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: 'string' },
        sudo: { type: 'boolean' },
        port: { type: 'string' },
        user: { type: 'string' },
        identity: { type: 'string' },
        jump: { type: 'string' },
        'accept-new-host-key': { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new CliError(`${(error as Error).message.split('\n')[0]} (${USAGE})`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new CliError(`give exactly one ssh host (${USAGE}).`);
  if (!values.out) throw new CliError(`--out <dir> is required (${USAGE}).`);
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port < 1 || port > 65535) throw new CliError(`--port ${values.port} is not a port number.`);
  }
  const identity = values.identity;
  return {
    host: positionals[0]!,
    out: values.out,
    sudo: values.sudo ?? false,
    acceptNewHostKey: values['accept-new-host-key'] ?? false,
    overrides: {
      ...(values.user !== undefined ? { user: values.user } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(identity !== undefined ? { identityFile: identity.startsWith('~') ? identity : resolvePath(identity) } : {}),
      ...(values.jump !== undefined ? { jump: values.jump } : {}),
    },
  };
}
