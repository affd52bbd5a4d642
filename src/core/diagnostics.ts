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

/** Diagnostics listed one by one; beyond these a file is junk, and one summary says how many more there were. */
export const MAX_LISTED_DIAGNOSTICS = 1000;

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

/**
 * Collects a parser's diagnostics with a bound: a million junk lines must not become a million messages held in
 * memory. The first MAX_LISTED_DIAGNOSTICS are kept; `list()` adds one summary of the rest with their worst severity.
 */
export class DiagnosticList {
  readonly #items: Diagnostic[] = [];
  #unlisted = 0;
  #unlistedSeverity: Severity = 'info';

  constructor(private readonly file: string) {}

  add(line: number, severity: Severity, message: string): void {
    if (this.#items.length < MAX_LISTED_DIAGNOSTICS) {
      this.#items.push({ file: this.file, line, severity, message });
      return;
    }
    this.#unlisted++;
    if (SEVERITY_RANK[severity] > SEVERITY_RANK[this.#unlistedSeverity]) this.#unlistedSeverity = severity;
  }

  /** How many diagnostics were added, listed or not. */
  get count(): number {
    return this.#items.length + this.#unlisted;
  }

  list(): Diagnostic[] {
    if (this.#unlisted === 0) return this.#items;
    return [
      ...this.#items,
      {
        file: this.file,
        line: 0,
        severity: this.#unlistedSeverity,
        message: `${this.#unlisted} more problems like these are not listed (only the first ${MAX_LISTED_DIAGNOSTICS} are)`,
      },
    ];
  }
}
