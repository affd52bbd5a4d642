/**
 * Makes node-sourced text (rule comments, chain names) safe to print on a terminal: control characters,
 * including the escape that starts ANSI sequences, C1 controls and bidirectional overrides, are shown as visible
 * escapes instead of being obeyed.
 */

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// JSON.stringify already escapes U+0000–U+001F; these are the rest a terminal could act on.
const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeCharacter(ch: string): string {
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

export function safeText(text: string): string {
  return text.replace(CONTROL, escapeCharacter);
}

/** JSON for stdout: the same value, with every character a terminal could act on written as a \\u escape. */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(JSON_UNSAFE, escapeCharacter);
}
