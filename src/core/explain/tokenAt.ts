/**
 * Finds the word under a cursor in one line of a dump, the way a hover needs it: iptables-save words are
 * separated by spaces, and a double-quoted comment is one word. This file only splits lines; what a word
 * means is decided by the explain* modules beside it.
 */

export interface LineToken {
  /** The word as written, quotes included for a quoted comment. */
  text: string;
  /** 0-based start and end (exclusive) columns in the line. */
  start: number;
  end: number;
  /** Index of the word in the line, so callers can look at the words before it. */
  index: number;
}

/** Splits a line into words; a double-quoted run (with backslash escapes) stays one word. */
export function splitWords(line: string): LineToken[] {
  const words: LineToken[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
    if (i >= line.length) break;
    const start = i;
    if (line[i] === '"') {
      i++;
      while (i < line.length && line[i] !== '"') i += line[i] === '\\' ? 2 : 1;
      i = Math.min(i + 1, line.length);
    } else {
      while (i < line.length && line[i] !== ' ' && line[i] !== '\t') i++;
    }
    words.push({ text: line.slice(start, i), start, end: i, index: words.length });
  }
  return words;
}

/** The word covering `column` (0-based), or undefined when the cursor is on white space. */
export function tokenAt(line: string, column: number): { token: LineToken; words: LineToken[] } | undefined {
  const words = splitWords(line);
  const token = words.find((word) => column >= word.start && column < word.end);
  return token ? { token, words } : undefined;
}
