/**
 * One collection from one node: runs the fixed command set through a CommandRunner, keeps each successful
 * command's stdout byte for byte as its snapshot file, picks the iptables backend, and writes meta.json last
 * through SnapshotStaging. Connecting (ssh) and presenting progress are the caller's; this module only needs a
 * runner, so it runs the same over ssh2 or a test double.
 */

import { setMaxListeners } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { CommandRecord, SnapshotMeta } from '../../core/snapshot';
import { CommandFailure } from '../ssh/commandRunner';
import type { CommandResult, CommandRunner } from '../ssh/commandRunner';
import { SnapshotStaging } from '../snapshotWriter';
import { isTimeout } from '../ssh/sshError';
import { FIRST_ROUND, IP6TABLES_FALLBACK, IPTABLES_FALLBACK, remoteArgv } from './commandSet';
import type { IptablesBackend, NodeCommand } from './commandSet';
import { chooseBackend, summarizeSaveFile } from './iptablesBackend';

export interface CollectTarget {
  /** The name the user gave (ssh alias). */
  readonly alias: string;
  readonly hostName: string;
  readonly port: number;
  readonly user: string;
}

export interface CollectOptions {
  readonly runner: CommandRunner;
  readonly outDir: string;
  readonly target: CollectTarget;
  readonly sudo: boolean;
  readonly signal?: AbortSignal;
  readonly commandTimeoutMs?: number;
  readonly overallTimeoutMs?: number;
  /** Per file; a command printing more is stopped and its file left out. */
  readonly maxFileBytes?: number;
  readonly onProgress?: (progress: CommandProgress) => void;
}

export type CommandStatus = 'ok' | 'missing' | 'failed' | 'error';

export interface CommandProgress {
  readonly id: string;
  readonly status: CommandStatus;
  readonly exitCode: number | null;
  readonly bytes: number;
  readonly milliseconds: number;
}

export interface CollectedCommand extends CommandRecord {
  /** ok: exit 0; missing: the tool is not installed; failed: non-zero exit; error: stopped (timeout, size). */
  status: CommandStatus;
  /** The snapshot file holding the output, or null when it was not kept. */
  file: string | null;
  stderrTruncated: boolean;
  error?: string;
}

export interface CollectionMeta extends SnapshotMeta {
  format: 1;
  node: string;
  address: string;
  host: string;
  user: string;
  time: string;
  finished: string;
  sudo: boolean;
  complete: true;
  /** The backend whose iptables-save became iptables-save.txt; null when there is no iptables. */
  iptablesBackend: IptablesBackend | null;
  /** Snapshot file → the command id that produced it. */
  files: Record<string, string>;
  missingTools: string[];
  warnings: string[];
  commands: Record<string, CollectedCommand>;
}

export interface CollectResult {
  readonly dir: string;
  readonly meta: CollectionMeta;
}

export type CollectErrorKind = 'sudo-password' | 'sudo-missing' | 'connection' | 'cancelled' | 'timeout' | 'io';

/** A collection that produced no snapshot; the message is one sentence for the user. */
export class CollectError extends Error {
  constructor(
    readonly kind: CollectErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'CollectError';
  }
}

// iptables-nft-save on a node with 240,000 rules has been seen to take minutes on a busy machine.
const DEFAULTS = {
  commandTimeoutMs: 300_000,
  overallTimeoutMs: 600_000,
  maxFileBytes: 512 * 1024 * 1024,
  maxStderrBytes: 16 * 1024,
};
const NODE_NAME_LIMIT = 255;

export async function collectSnapshot(options: CollectOptions): Promise<CollectResult> {
  const staging = await SnapshotStaging.create(options.outDir);
  const controller = new AbortController();
  // Every running command and every queued one listens on this signal.
  setMaxListeners(0, controller.signal);
  // A caller's time limit (AbortSignal.timeout) is reported as a timeout, anything else as a cancel.
  const onOuterAbort = (): void =>
    controller.abort(
      isTimeout(options.signal?.reason)
        ? new CollectError('timeout', 'The collection did not finish in the time allowed.')
        : new CollectError('cancelled', 'The collection was cancelled.'),
    );
  if (options.signal?.aborted) onOuterAbort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const overallMs = options.overallTimeoutMs ?? DEFAULTS.overallTimeoutMs;
  const overallTimer = setTimeout(
    () => controller.abort(new CollectError('timeout', `The collection did not finish within ${Math.round(overallMs / 1000)} s.`)),
    overallMs,
  );
  try {
    const meta = await collectInto(staging, options, controller);
    return { dir: await staging.commit(meta), meta };
  } catch (error) {
    await staging.discard();
    throw error;
  } finally {
    clearTimeout(overallTimer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
}

async function collectInto(staging: SnapshotStaging, options: CollectOptions, controller: AbortController): Promise<CollectionMeta> {
  const started = new Date();
  const records: Record<string, CollectedCommand> = {};
  const warnings: string[] = [];
  let fatal: CollectError | undefined;

  const runAll = async (commands: readonly NodeCommand[]): Promise<void> => {
    await Promise.all(
      commands.map(async (command) => {
        const record = await runOne(command, staging, options, controller.signal).catch((error: unknown) => {
          if (!fatal) fatal = toFatal(error, controller.signal);
          controller.abort(fatal);
          return undefined;
        });
        if (!record) return;
        records[command.id] = record;
        options.onProgress?.({
          id: command.id,
          status: record.status,
          exitCode: record.exitCode,
          bytes: record.bytes,
          milliseconds: record.milliseconds,
        });
      }),
    );
    if (fatal) throw fatal;
  };

  await runAll(FIRST_ROUND);
  checkSudo(records, options);
  const fallbacks = [
    [IPTABLES_FALLBACK, 'iptables'],
    [IP6TABLES_FALLBACK, 'ip6tables'],
  ] as const;
  const needed = fallbacks
    .filter(([, family]) =>
      FIRST_ROUND.filter((command) => command.candidateFor === family).every((command) => records[command.id]?.status === 'missing'),
    )
    .map(([command]) => command);
  if (needed.length > 0) {
    await runAll(needed);
    checkSudo(records, options);
  }

  const files: Record<string, string> = {};
  for (const command of [...FIRST_ROUND, ...needed]) {
    const record = records[command.id]!;
    if (command.file && record.status === 'ok') {
      record.file = command.file;
      files[command.file] = command.id;
    } else if (command.file) {
      await staging.remove(command.file);
    }
  }

  const allCommands = [...FIRST_ROUND, ...needed];
  const iptablesBackend = await placeIptables(staging, allCommands, records, files, warnings, 'iptables', undefined);
  await placeIptables(staging, allCommands, records, files, warnings, 'ip6tables', iptablesBackend ?? undefined);

  const unameRecord = records['uname -n']!;
  const nodeName =
    unameRecord.status === 'ok'
      ? (await readFile(staging.path(tempName('uname -n')), 'utf8')).trim().slice(0, NODE_NAME_LIMIT)
      : options.target.hostName;
  await staging.remove(tempName('uname -n'));

  // A backend-specific save that is not installed does not matter once the family has its file (most
  // distributions ship only one backend); it stays in `commands` for the record.
  const familyCollected = (command: NodeCommand): boolean =>
    command.candidateFor !== undefined && files[`${command.candidateFor}-save.txt`] !== undefined;
  const missingTools = [
    ...new Set(
      allCommands
        .filter((command) => records[command.id]!.status === 'missing' && !familyCollected(command))
        .map((command) => toolName(records[command.id]!.argv, options.sudo)),
    ),
  ];
  for (const [id, record] of Object.entries(records)) {
    if (record.status === 'failed') {
      const firstLine = record.stderr.split('\n').find((line) => line.trim() !== '') ?? '';
      warnings.push(`${id} exited with status ${record.exitCode ?? record.exitSignal}${firstLine ? `: ${firstLine.trim()}` : ''}`);
    } else if (record.status === 'error') {
      warnings.push(record.error ?? `${id} did not complete`);
    }
  }
  if (!options.sudo && Object.values(records).some((record) => /Permission denied|must be root|Operation not permitted/.test(record.stderr))) {
    warnings.push(`Some commands were refused for lack of privileges; connect as root or add --sudo.`);
  }
  if (!files['route-local.txt']) warnings.push('route-local.txt was not collected: the tools cannot tell which addresses are local.');

  return {
    format: 1,
    node: nodeName,
    address: `${options.target.hostName}:${options.target.port}`,
    host: options.target.alias,
    user: options.target.user,
    time: started.toISOString(),
    finished: new Date().toISOString(),
    sudo: options.sudo,
    complete: true,
    iptablesBackend,
    files,
    missingTools,
    warnings,
    commands: records,
  };
}

/** The first failure that ends the collection, as one CollectError (an overall timeout or cancel wins). */
function toFatal(error: unknown, signal: AbortSignal): CollectError {
  if (signal.aborted && signal.reason instanceof CollectError) return signal.reason;
  if (error instanceof CollectError) return error;
  if (error instanceof CommandFailure) return new CollectError(error.kind === 'cancelled' ? 'cancelled' : 'connection', error.message);
  return new CollectError('io', `Writing the snapshot failed: ${(error as Error)?.message ?? String(error)}.`);
}

/** Staging name for outputs whose final file is decided afterwards (or that end up only in meta.json). */
function tempName(id: string): string {
  return `.out-${id.replace(/[^A-Za-z0-9_.-]+/g, '_')}`;
}

async function runOne(command: NodeCommand, staging: SnapshotStaging, options: CollectOptions, signal: AbortSignal): Promise<CollectedCommand> {
  const argv = remoteArgv(command, options.sudo);
  const path = staging.path(command.file ?? tempName(command.id));
  const sink = createWriteStream(path);
  let result: CommandResult;
  try {
    result = await options.runner.run(argv, sink, {
      timeoutMs: options.commandTimeoutMs ?? DEFAULTS.commandTimeoutMs,
      maxStdoutBytes: options.maxFileBytes ?? DEFAULTS.maxFileBytes,
      maxStderrBytes: DEFAULTS.maxStderrBytes,
      signal,
    });
  } catch (error) {
    if (!(error instanceof CommandFailure) || error.kind === 'disconnected' || error.kind === 'cancelled') throw error;
    // A stopped command (too slow, too large, unwritable) costs its file, not the collection.
    return {
      argv: [...argv],
      exitCode: null,
      stderr: error.partial.stderr,
      stderrTruncated: error.partial.stderrTruncated,
      bytes: error.partial.bytes,
      milliseconds: error.partial.milliseconds,
      status: 'error',
      file: null,
      error: error.message,
    };
  }
  return {
    argv: [...result.argv],
    exitCode: result.exitCode,
    exitSignal: result.exitSignal,
    stderr: result.stderr,
    stderrTruncated: result.stderrTruncated,
    bytes: result.bytes,
    milliseconds: result.milliseconds,
    status: classify(result, options.sudo),
    file: null,
  };
}

/** 127 is the shell's "command not found"; through `sudo -n` a missing tool is sudo's exit 1 with that message. */
function classify(result: CommandResult, sudo: boolean): CommandStatus {
  if (result.exitCode === 0) return 'ok';
  if (result.exitCode === 127) return 'missing';
  if (sudo && result.exitCode === 1 && /^sudo: .*(command not found|No such file)/m.test(result.stderr)) return 'missing';
  return 'failed';
}

function toolName(argv: readonly string[], sudo: boolean): string {
  return (sudo ? argv[2] : argv[0]) ?? '';
}

/** A sudo that wants a password, or no sudo at all, makes every command fail the same way: one clear error. */
function checkSudo(records: Record<string, CollectedCommand>, options: CollectOptions): void {
  if (!options.sudo) return;
  const all = Object.values(records);
  if (all.some((record) => /sudo: (a )?password is required|sudo: a terminal is required|sudo: no tty present/.test(record.stderr))) {
    throw new CollectError(
      'sudo-password',
      `sudo on ${options.target.hostName} asks ${options.target.user} for a password; --sudo needs passwordless sudo (sudo -n) for the collection commands, or connect as root.`,
    );
  }
  if (all.length > 0 && all.every((record) => record.exitCode === 127 && /sudo/.test(record.stderr))) {
    throw new CollectError('sudo-missing', `sudo is not installed on ${options.target.hostName}; connect as root without --sudo.`);
  }
}

/**
 * Moves the chosen backend's output to `iptables-save.txt` (or `ip6tables-save.txt`); other backends that hold
 * rules too are kept as `iptables-<backend>-save.txt` with a warning, the rest are deleted. For ip6tables the
 * IPv4 choice is followed when that backend answered. Returns the chosen backend.
 */
async function placeIptables(
  staging: SnapshotStaging,
  commands: readonly NodeCommand[],
  records: Record<string, CollectedCommand>,
  files: Record<string, string>,
  warnings: string[],
  family: 'iptables' | 'ip6tables',
  follow: IptablesBackend | undefined,
): Promise<IptablesBackend | null> {
  const ran = commands.filter((command) => command.candidateFor === family && records[command.id]);
  const ok = ran.filter((command) => records[command.id]!.status === 'ok');
  const summaries = await Promise.all(
    ok.map(async (command) => ({ command, backend: command.backend!, summary: await summarizeSaveFile(staging.path(tempName(command.id))) })),
  );
  let choice = chooseBackend(summaries);
  if (choice && follow && follow !== choice.primary && summaries.some((s) => s.backend === follow)) {
    const others = summaries.filter((s) => s.backend !== follow && (s.summary.rules > 0 || s.summary.kubeChains > 0));
    choice = { primary: follow, alsoKept: others.map((s) => s.backend) };
  }
  // A backend whose save failed may be the one holding kube-proxy's rules: unless the chosen one has KUBE-*
  // chains, naming it `iptables-save.txt` could present an empty or unrelated backend as the node's rules.
  const unfinished = ran.filter((command) => ['failed', 'error'].includes(records[command.id]!.status));
  const primarySummary = summaries.find((s) => s.backend === choice?.primary)?.summary;
  if (choice && unfinished.length > 0 && (primarySummary?.kubeChains ?? 0) === 0) {
    const holdingRules = summaries.filter((s) => s.summary.rules > 0 || s.summary.kubeChains > 0).map((s) => s.backend);
    warnings.push(
      `${family}-save.txt was not written: ${unfinished.map((command) => command.id).join(', ')} did not complete, ` +
        `and no other backend shows KUBE-* chains, so which backend kube-proxy uses is unknown.`,
    );
    choice = undefined;
    for (const { command, backend } of summaries) {
      if (!holdingRules.includes(backend)) continue;
      const file = `${family}-${backend}-save.txt`;
      await staging.move(tempName(command.id), file);
      records[command.id]!.file = file;
      files[file] = command.id;
    }
  }
  for (const { command, backend } of summaries) {
    const record = records[command.id]!;
    const file = choice?.primary === backend ? `${family}-save.txt` : choice?.alsoKept.includes(backend) ? `${family}-${backend}-save.txt` : undefined;
    if (file) {
      await staging.move(tempName(command.id), file);
      record.file = file;
      files[file] = command.id;
    }
  }
  for (const command of ran) {
    if (!records[command.id]!.file) await staging.remove(tempName(command.id));
  }
  if (choice && choice.alsoKept.length > 0) {
    const kept = choice.alsoKept.map((backend) => `${family}-${backend}-save.txt`).join(', ');
    warnings.push(
      `Both iptables backends hold ${family} rules; the kernel applies both, each save shows only its own. ` +
        `${family}-save.txt holds the ${choice.primary} backend, ${kept} the other.`,
    );
  }
  return choice?.primary ?? null;
}
