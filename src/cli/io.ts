/**
 * What a CLI command needs from the process, passed in so commands can be run and tested in-process.
 */

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** True when stdout is a terminal (progress lines and colours are only for terminals). */
  readonly isTTY: boolean;
  /** Resolves once what was written to stdout has been taken by the reader (a pipe holds only so much). */
  drained?(): Promise<void>;
}

/** A usage or input problem: the CLI prints the one-sentence message and exits with code 2. */
export class CliError extends Error {}
