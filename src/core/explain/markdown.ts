/**
 * Small helpers for the Markdown that hovers and "Copy Trace as Markdown" produce. Text from a node is
 * untrusted, so every piece of it goes through escapeMarkdown or inlineCode before it is put in a string.
 */

/** Escapes Markdown punctuation and HTML brackets so node text shows literally. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>&~]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : `\\${c}`));
}

/** Inline code that cannot be broken out of: the fence is longer than any backtick run inside. */
export function inlineCode(text: string): string {
  const clean = text.replace(/[\r\n]+/g, ' ');
  const longest = Math.max(0, ...(clean.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = clean.startsWith('`') || clean.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${clean}${pad}${fence}`;
}

/** A share (0..1) as a percentage with at most one decimal: 0.33333 → "33.3%", 1 → "100%". */
export function formatShare(share: number): string {
  const percent = Math.round(share * 1000) / 10;
  return `${percent}%`;
}
