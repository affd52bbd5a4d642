/**
 * The one error type the SSH layer throws: a plain sentence for the user plus a kind that callers branch on
 * (the CLI's exit code, the extension's retry offers). Details for logs go in `detail`, never secrets.
 */

export type SshErrorKind =
  | 'connect'
  | 'timeout'
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'host-key-revoked'
  | 'auth'
  | 'disconnected'
  | 'cancelled';

export class SshError extends Error {
  constructor(
    readonly kind: SshErrorKind,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'SshError';
  }
}

/** True for the reason AbortSignal.timeout() aborts with, so a caller's time limit is reported as a timeout. */
export function isTimeout(reason: unknown): boolean {
  return reason instanceof Error && reason.name === 'TimeoutError';
}
