/**
 * The whole collection from an ssh host name to a snapshot folder, for both front ends: resolve the host from
 * ~/.ssh/config and the overrides, connect (asking through the caller's Prompter), run the command set, close.
 * The CLI and the extension differ only in the Prompter, the progress display and where messages go.
 */

import { loadResolveContext, resolveHost } from '../ssh/hostConfig';
import type { HostOverrides, ResolveContext } from '../ssh/hostConfig';
import type { Prompter } from '../ssh/prompter';
import { createSshCommandRunner } from '../ssh/sshCommandRunner';
import { connectSsh } from '../ssh/sshConnection';
import { assertUsableOutDir } from '../snapshotWriter';
import { collectSnapshot } from './collectSnapshot';
import type { CollectResult, CommandProgress } from './collectSnapshot';

export interface CollectFromHostOptions {
  /** `host` or `user@host`, resolved like ssh does. */
  readonly target: string;
  readonly overrides?: HostOverrides;
  readonly outDir: string;
  readonly sudo: boolean;
  readonly prompter: Prompter;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: CommandProgress) => void;
  /** Connection notes (added host keys, skipped identity files); never secrets. */
  readonly log?: (line: string) => void;
  /** The real ~/.ssh/config, home and environment unless given (tests give their own). */
  readonly resolveContext?: ResolveContext;
}

export async function collectFromHost(options: CollectFromHostOptions): Promise<CollectResult> {
  const context = options.resolveContext ?? (await loadResolveContext());
  const host = resolveHost(options.target, options.overrides ?? {}, context);
  await assertUsableOutDir(options.outDir);
  const connection = await connectSsh(host, { prompter: options.prompter, signal: options.signal, log: options.log });
  const runner = createSshCommandRunner(connection);
  try {
    return await collectSnapshot({
      runner,
      outDir: options.outDir,
      target: { alias: host.alias, hostName: host.hostName, port: host.port, user: host.user },
      sudo: options.sudo,
      signal: options.signal,
      onProgress: options.onProgress,
    });
  } finally {
    runner.close();
  }
}
