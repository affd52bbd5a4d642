/**
 * Splits lines of `nft list ruleset` text into tokens: words, quoted strings, and the punctuation that
 * nft's grammar needs apart (`{ } , ;`). A `#` outside quotes starts a comment, which nft uses for
 * `# handle N`; the handle is kept. Parsing of what the tokens mean lives in parseNft and parseNftRule.
 */

export interface NftToken {
  text: string;
  /** True for `"…"` strings; `text` then holds the content without quotes. */
  quoted: boolean;
  line: number;
}

export interface TokenizedLine {
  tokens: NftToken[];
  /** The `# handle N` number, when the line carries one. */
  handle?: number;
  /** The line without its trailing `#` comment, trimmed. */
  text: string;
  /** A `"` string ran to the end of the line without its closing quote. */
  unclosedQuote?: boolean;
}

/** Quoted strings, punctuation, a `#` comment to the end of the line, or a run of anything else. */
// The quoted part is written as an unrolled loop: a plain run, then escapes each followed by a plain run, so a
// multi-megabyte string does not make the regex engine recurse once per character.
const TOKEN = /"([^"\\]*(?:\\.[^"\\]*)*)"?|([{},;])|(#.*)|([^\s{},;"#]+)|\s+/gy;

export function tokenizeLine(source: string, line: number): TokenizedLine {
  if (source.indexOf('"') === -1) return tokenizePlainLine(source, line);
  const tokens: NftToken[] = [];
  let handle: number | undefined;
  let unclosedQuote = false;
  let end = source.length;
  TOKEN.lastIndex = 0;
  let match: RegExpExecArray | null;
  while (TOKEN.lastIndex < source.length && (match = TOKEN.exec(source)) !== null) {
    if (match[1] !== undefined) {
      tokens.push({ text: match[1].replace(/\\(.)/g, '$1'), quoted: true, line });
      // The closing quote is optional in the pattern: the match is two longer than its content when it was there.
      if (match[0].length !== match[1].length + 2) unclosedQuote = true;
    }
    else if (match[2] !== undefined || match[4] !== undefined) tokens.push({ text: match[2] ?? match[4], quoted: false, line });
    else if (match[3] !== undefined) {
      end = match.index;
      const handleMatch = /^#\s*handle\s+(\d+)/.exec(match[3]);
      if (handleMatch) handle = Number(handleMatch[1]);
      break;
    }
  }
  return { tokens, handle, text: source.slice(0, end).trim(), ...(unclosedQuote ? { unclosedQuote } : {}) };
}

/** What `\s` matches (ECMAScript white space and line terminators), by character code. */
function isSpace(code: number): boolean {
  if (code <= 32) return code === 32 || (code >= 9 && code <= 13);
  if (code < 160) return false;
  return code === 160 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff;
}

/** `{ } , ;`: tokens of their own. */
function isPunctuation(code: number): boolean {
  return code === 123 || code === 125 || code === 44 || code === 59;
}

/**
 * tokenizeLine for a line without quotes (nearly every line nft prints), as a character scan: the same tokens
 * the pattern gives, without a match array per token.
 */
function tokenizePlainLine(source: string, line: number): TokenizedLine {
  const tokens: NftToken[] = [];
  const hash = source.indexOf('#');
  const end = hash === -1 ? source.length : hash;
  let i = 0;
  while (i < end) {
    const code = source.charCodeAt(i);
    if (isSpace(code)) {
      i++;
    } else if (isPunctuation(code)) {
      tokens.push({ text: source[i], quoted: false, line });
      i++;
    } else {
      const start = i;
      while (i < end && !isSpace(source.charCodeAt(i)) && !isPunctuation(source.charCodeAt(i))) i++;
      tokens.push({ text: source.slice(start, i), quoted: false, line });
    }
  }
  const handleMatch = hash === -1 ? null : /^#\s*handle\s+(\d+)/.exec(source.slice(hash));
  return { tokens, handle: handleMatch ? Number(handleMatch[1]) : undefined, text: source.slice(0, end).trim() };
}

/** Net brace depth change of a token list: `{` opens, `}` closes. */
export function braceBalance(tokens: NftToken[]): number {
  let depth = 0;
  for (const token of tokens) {
    if (token.quoted) continue;
    if (token.text === '{') depth++;
    else if (token.text === '}') depth--;
  }
  return depth;
}

/** Joins tokens back into nft's spacing, for messages and unknown expressions. */
export function joinTokens(tokens: NftToken[]): string {
  let out = '';
  for (const token of tokens) {
    const text = token.quoted ? `"${token.text}"` : token.text;
    if (out.length === 0) out = text;
    else if (text === ',' || text === ';') out += text;
    else out += ` ${text}`;
  }
  return out;
}
