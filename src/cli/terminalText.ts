/**
 * Makes node-sourced text (rule comments, chain names) safe to print on a terminal: control characters,
 * including the escape that starts ANSI sequences, are shown as visible escapes instead of being obeyed.
 */

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;

export function safeText(text: string): string {
  return text.replace(CONTROL, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
