/**
 * The seam between collection and transport: run one fixed command on the node, stream its stdout into a
 * writable, and report exit code, capped stderr, bytes and time. The ssh2 implementation is in
 * sshCommandRunner.ts; tests and other transports can implement the same interface.
 */

import type { Writable } from 'node:stream';

export interface RunOptions {
  /** The command is stopped and the run fails with kind `timeout` after this long. */
  readonly timeoutMs: number;
  /** More stdout than this stops the command; the run fails with kind `too-large`. */
  readonly maxStdoutBytes: number;
  /** Stderr beyond this is dropped (and `stderrTruncated` set); it never fails the run. */
  readonly maxStderrBytes: number;
  readonly signal?: AbortSignal;
}

export interface CommandResult {
  /** The argv as run on the node (with `sudo -n` when asked). */
  readonly argv: readonly string[];
  /** The remote exit status; null when the command died from a signal. */
  readonly exitCode: number | null;
  readonly exitSignal: string | null;
  readonly stderr: string;
  readonly stderrTruncated: boolean;
  /** Bytes of stdout written to the sink. */
  readonly bytes: number;
  readonly milliseconds: number;
}

export type CommandFailureKind = 'timeout' | 'too-large' | 'cancelled' | 'disconnected' | 'channel' | 'write';

/** A run that did not produce a complete stdout: the sink holds at most a prefix of it. */
export class CommandFailure extends Error {
  constructor(
    readonly kind: CommandFailureKind,
    message: string,
    /** What was seen before the failure, for meta.json. */
    readonly partial: Omit<CommandResult, 'exitCode' | 'exitSignal'>,
  ) {
    super(message);
    this.name = 'CommandFailure';
  }
}

export interface CommandRunner {
  /** Runs `argv` (fixed by the caller, never user text); resolves when stdout is fully written to `stdout`. */
  run(argv: readonly string[], stdout: Writable, options: RunOptions): Promise<CommandResult>;
  /** Ends the connection; runs still in flight fail with kind `disconnected`. */
  close(): void;
}
