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
}

const PUNCTUATION = new Set(['{', '}', ',', ';']);

export function tokenizeLine(source: string, line: number): TokenizedLine {
  const tokens: NftToken[] = [];
  let word = '';
  let handle: number | undefined;
  let end = source.length;
  const flush = () => {
    if (word.length > 0) tokens.push({ text: word, quoted: false, line });
    word = '';
  };
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    if (char === '"') {
      flush();
      let j = i + 1;
      let content = '';
      while (j < source.length && source[j] !== '"') {
        if (source[j] === '\\' && j + 1 < source.length) j++;
        content += source[j];
        j++;
      }
      tokens.push({ text: content, quoted: true, line });
      i = j;
    } else if (char === '#') {
      flush();
      end = i;
      const match = /^#\s*handle\s+(\d+)/.exec(source.slice(i));
      if (match) handle = Number(match[1]);
      break;
    } else if (char === ' ' || char === '\t' || char === '\r') {
      flush();
    } else if (PUNCTUATION.has(char)) {
      flush();
      tokens.push({ text: char, quoted: false, line });
    } else {
      word += char;
    }
  }
  flush();
  return { tokens, handle, text: source.slice(0, end).trim() };
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
