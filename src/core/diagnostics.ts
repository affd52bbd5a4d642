/**
 * Diagnostics are how every parser in core reports what it could not understand. Parsers never throw:
 * they return what they understood plus a list of these, each naming the file and the 1-based line.
 */

export type Severity = 'error' | 'warning' | 'info';

export interface Diagnostic {
  /** The snapshot file name the text came from, e.g. `iptables-save.txt`. */
  readonly file: string;
  /** 1-based line number; 0 when the problem concerns the whole file. */
  readonly line: number;
  readonly severity: Severity;
  readonly message: string;
}

export interface ParseResult<T> {
  readonly value: T;
  readonly diagnostics: Diagnostic[];
}

/** One sentence for the edge of the program: `iptables-save.txt line 12: unknown option "--foo".` */
export function formatDiagnostic(diagnostic: Diagnostic): string {
  const where = diagnostic.line > 0 ? `${diagnostic.file} line ${diagnostic.line}` : diagnostic.file;
  return `${where}: ${diagnostic.message}`;
}
