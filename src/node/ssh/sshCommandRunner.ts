/**
 * CommandRunner over one ssh2 connection: each command is an exec channel, a bounded number open at once.
 * Stdout is piped with backpressure into the caller's writable and counted against a cap; stderr is kept up
 * to a cap. A run succeeds only when the node sent an exit status and stdout ended: a channel that closes
 * without one means the connection was cut.
 */

import { Transform } from 'node:stream';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientChannel } from 'ssh2';
import { CommandFailure } from './commandRunner';
import type { CommandResult, CommandRunner, RunOptions } from './commandRunner';
import type { SshConnection } from './sshConnection';

/**
 * Channels open at once. OpenSSH's default MaxSessions is 10; a lower limit is met by narrowing (see run).
 * Against the test sshd on 2 busy cores, 11 commands took ~1150 ms on 1 channel, ~650 on 2, ~450 on 4 and
 * ~350 on 8; 6 keeps most of that gain without putting every heavy dump on the node's CPUs at once.
 */
const DEFAULT_MAX_CHANNELS = 6;
const MAX_OPEN_ATTEMPTS = 4;

export interface SshRunnerOptions {
  readonly maxChannels?: number;
}

/** Quotes one argv element for the remote POSIX shell; plain words stay as they are. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function createSshCommandRunner(connection: SshConnection, options: SshRunnerOptions = {}): CommandRunner {
  const slots = new Semaphore(options.maxChannels ?? DEFAULT_MAX_CHANNELS);
  let connectionClosed = false;
  void connection.closed.then(() => {
    connectionClosed = true;
  });

  async function run(argv: readonly string[], stdout: Writable, runOptions: RunOptions): Promise<CommandResult> {
    // Time is counted from holding a channel slot, so meta.json shows the command's own time, not the queue's.
    let started = Date.now();
    const fail = (kind: CommandFailure['kind'], message: string): CommandFailure => {
      stdout.destroy();
      return new CommandFailure(kind, message, { argv, bytes: 0, stderr: '', stderrTruncated: false, milliseconds: Date.now() - started });
    };
    let release = await slots.acquire(runOptions.signal).catch(() => {
      throw fail('cancelled', 'The collection was cancelled.');
    });
    started = Date.now();
    try {
      for (let attempt = 1; ; attempt++) {
        if (connectionClosed) throw fail('disconnected', `${argv[0]} did not run: the SSH connection is closed.`);
        try {
          return await execAndDrive(connection, argv, stdout, runOptions, started, () => connectionClosed);
        } catch (error) {
          // A server with a lower MaxSessions than our bound refuses the extra channel: narrow the bound and
          // try again once another command has given its channel back.
          const refusedOpen = error instanceof ChannelOpenRefused;
          if (!refusedOpen) throw error;
          if (connectionClosed) throw fail('disconnected', `${argv[0]} did not run: the SSH connection was cut.`);
          if (slots.active <= 1 || attempt >= MAX_OPEN_ATTEMPTS) throw fail('channel', error.message);
          slots.shrink();
          release();
          release = await slots.acquire(runOptions.signal).catch(() => {
            throw fail('cancelled', 'The collection was cancelled.');
          });
          started = Date.now();
        }
      }
    } finally {
      release();
    }
  }

  return {
    run,
    close: () => connection.close(),
  };
}

/** The server would not open another channel (its MaxSessions, usually); nothing ran. */
class ChannelOpenRefused extends Error {}

/**
 * Opens the exec channel and attaches every listener inside ssh2's callback: a fast command's exit status, EOF
 * and close can arrive in the same packet batch as the open confirmation, before any later microtask runs.
 */
function execAndDrive(
  connection: SshConnection,
  argv: readonly string[],
  stdout: Writable,
  options: RunOptions,
  started: number,
  isConnectionClosed: () => boolean,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const refuse = (error: Error): void => reject(new ChannelOpenRefused(`The node did not run ${argv[0]}: ${error.message}.`));
    try {
      connection.client.exec(argv.map(shellQuote).join(' '), (error, channel) => {
        if (error) refuse(error);
        else drive(channel, argv, stdout, options, started, isConnectionClosed).then(resolve, reject);
      });
    } catch (error) {
      // ssh2 throws synchronously when the connection is already gone.
      refuse(error as Error);
    }
  });
}

function drive(
  channel: ClientChannel,
  argv: readonly string[],
  stdout: Writable,
  options: RunOptions,
  started: number,
  isConnectionClosed: () => boolean,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let stderr = '';
    let stderrBytes = 0;
    let stderrTruncated = false;
    let exit: { code: number | null; signal: string | null } | undefined;
    let stdoutDone = false;
    let channelClosed = false;
    let failure: CommandFailure | undefined;
    let settled = false;

    const snapshot = () => ({ argv, bytes, stderr, stderrTruncated, milliseconds: Date.now() - started });
    const finish = (): void => {
      if (settled) return;
      if (failure) {
        settled = true;
        cleanup();
        reject(failure);
        return;
      }
      if (!stdoutDone || !channelClosed) return;
      settled = true;
      cleanup();
      if (exit === undefined) {
        const why = isConnectionClosed() ? 'the SSH connection was cut' : 'the channel closed without an exit status';
        reject(new CommandFailure('disconnected', `${argv[0]} did not finish: ${why}.`, snapshot()));
        return;
      }
      resolve({ ...snapshot(), exitCode: exit.code, exitSignal: exit.signal });
    };
    const failWith = (kind: CommandFailure['kind'], message: string): void => {
      if (failure || settled) return;
      failure = new CommandFailure(kind, message, snapshot());
      channel.close();
      channel.destroy();
      stdout.destroy();
      finish();
    };

    const timer = setTimeout(
      () => failWith('timeout', `${argv[0]} did not finish within ${Math.round(options.timeoutMs / 1000)} s.`),
      options.timeoutMs,
    );
    const onAbort = (): void => failWith('cancelled', 'The collection was cancelled.');
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    function cleanup(): void {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }

    channel.on('exit', (code: number | null, signal?: string) => {
      exit = { code: typeof code === 'number' ? code : null, signal: signal ?? null };
    });
    channel.on('close', () => {
      channelClosed = true;
      finish();
    });
    channel.stderr.on('data', (chunk: Buffer) => {
      const room = options.maxStderrBytes - stderrBytes;
      if (room <= 0) {
        stderrTruncated = true;
        return;
      }
      const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
      if (kept.length < chunk.length) stderrTruncated = true;
      stderrBytes += kept.length;
      stderr += kept.toString('utf8');
    });

    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        if (bytes > options.maxStdoutBytes) {
          callback(new Error('too large'));
          return;
        }
        callback(null, chunk);
      },
    });
    // Not pipeline(channel, …): pipeline destroys its source when done, and a channel closed from this side
    // before the node's exit status arrives loses that status.
    channel.pipe(counter);
    pipeline(counter, stdout).then(
      () => {
        stdoutDone = true;
        finish();
      },
      (error: Error) => {
        if (bytes > options.maxStdoutBytes) {
          failWith(
            'too-large',
            `${argv[0]} printed more than ${formatBytes(options.maxStdoutBytes)}, the limit for one file; the collection stopped it.`,
          );
        } else if (!failure) {
          const kind = isConnectionClosed() ? 'disconnected' : 'write';
          failWith(kind, `${argv[0]}: ${kind === 'disconnected' ? 'the SSH connection was cut' : `writing its output failed (${error.message})`}.`);
        }
      },
    );
  });
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** A counting semaphore whose size can shrink and whose waiters can give up through an AbortSignal. */
class Semaphore {
  /** Permits held right now. */
  active = 0;
  private size: number;
  private readonly waiters: (() => void)[] = [];

  constructor(size: number) {
    this.size = Math.max(1, size);
  }

  /** One permit fewer from now on (never below one). */
  shrink(): void {
    if (this.size > 1) this.size--;
  }

  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(new Error('aborted'));
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.active--;
      while (this.active < this.size && this.waiters.length > 0) {
        this.active++;
        this.waiters.shift()!();
      }
    };
    if (this.active < this.size) {
      this.active++;
      return Promise.resolve(release);
    }
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(release);
      };
      const onAbort = (): void => {
        const index = this.waiters.indexOf(grant);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(grant);
    });
  }
}
