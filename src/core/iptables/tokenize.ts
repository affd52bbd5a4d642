/**
 * Splits one iptables-save rule line into tokens the way iptables-restore reads it: white space separates,
 * double quotes group (with backslash escapes). It also repairs what web pages do to pasted rules:
 * typographic quotes act as double quotes and a leading en or em dash stands for `--`.
 */

export interface Tokens {
  readonly tokens: string[];
  /** Indexes of tokens that were quoted, so `"-j"` inside a comment is never read as an option. */
  readonly quoted: ReadonlySet<number> | undefined;
  /** Set when a quote was left open; the tokens still hold what was read. */
  readonly unbalancedQuote: boolean;
}

const OPEN_QUOTES = new Set(['"', '\u201c', '\u201d', '\u201e', '\u201f', '\u2033']);

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 13 || code === 11 || code === 12 || code === 0xa0;
}

/** Characters that need the careful path: a backslash, typographic quotes or dashes, white space other than spaces. */
export const NEEDS_CAREFUL_PATH = /[\\\u201c-\u201f\u2033\u2013\u2014\t\r\v\f\u00a0]/;

/**
 * The common case of real iptables-save output: plain words and `"..."` comments without escapes. Splitting on
 * the quotes and spaces natively is several times faster than walking characters.
 */
function tokenizePlain(line: string): Tokens | undefined {
  const parts = line.split('"');
  if (parts.length % 2 === 0) return undefined;
  const tokens: string[] = [];
  let quoted: Set<number> | undefined;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (i % 2 === 1) {
      (quoted ??= new Set()).add(tokens.length);
      tokens.push(part);
      continue;
    }
    // A quote must start and end a token, as in `--comment "a b"`; anything else goes the careful way.
    if (i > 0 && part.length > 0 && part.charCodeAt(0) !== 32) return undefined;
    if (i < parts.length - 1 && part.length > 0 && part.charCodeAt(part.length - 1) !== 32) return undefined;
    for (const word of part.split(' ')) if (word.length > 0) tokens.push(word);
  }
  return { tokens, quoted, unbalancedQuote: false };
}

export function tokenizeRule(line: string): Tokens {
  if (!NEEDS_CAREFUL_PATH.test(line)) {
    const plain = tokenizePlain(line);
    if (plain) return plain;
  }
  return tokenizeCarefully(line);
}

function tokenizeCarefully(line: string): Tokens {
  const tokens: string[] = [];
  let quoted: Set<number> | undefined;
  let unbalancedQuote = false;
  const length = line.length;
  let i = 0;
  while (i < length) {
    while (i < length && isSpace(line.charCodeAt(i))) i++;
    if (i >= length) break;
    if (OPEN_QUOTES.has(line[i])) {
      i++;
      let text = '';
      let closed = false;
      let start = i;
      while (i < length) {
        const ch = line[i];
        if (ch === '\\' && i + 1 < length) {
          text += line.slice(start, i) + line[i + 1];
          i += 2;
          start = i;
          continue;
        }
        if (OPEN_QUOTES.has(ch)) {
          closed = true;
          break;
        }
        i++;
      }
      text += line.slice(start, i);
      if (closed) i++;
      else unbalancedQuote = true;
      (quoted ??= new Set()).add(tokens.length);
      tokens.push(text);
      continue;
    }
    const start = i;
    while (i < length && !isSpace(line.charCodeAt(i))) i++;
    let token = line.slice(start, i);
    const first = token.charCodeAt(0);
    if (first === 0x2013 || first === 0x2014) token = '--' + token.slice(1);
    tokens.push(token);
  }
  return { tokens, quoted, unbalancedQuote };
}

/** True for `!`, `-x` and `--long` tokens: the places where an option's arguments end. */
export function isOptionLike(token: string): boolean {
  if (token === '!') return true;
  if (token.length < 2 || token.charCodeAt(0) !== 45 /* - */) return false;
  const second = token.charCodeAt(1);
  if (second === 45) return token.length > 2 && isLetter(token.charCodeAt(2));
  return token.length === 2 && isLetter(second);
}

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}
