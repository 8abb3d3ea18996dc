/**
 * Text that another process or a kernel module chose (an extended ack's message), made safe to
 * print: the characters a terminal acts on, C0 and C1 controls and DEL, escaped as JSON escapes
 * them (`\n`, `\u001b`). U+009B is a one-character CSI to a terminal that takes C1 controls;
 * JSON.stringify leaves it, and DEL, as they are. So are the characters that make text show
 * other than it reads: the bidirectional controls (U+202E puts what follows right to left, as
 * "Trojan Source" uses it) and the line and paragraph separators, which log viewers break at.
 *
 * @module
 */

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
/** What CONTROL escapes that JSON.stringify does not. */
const C1 = /[\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

const SHORT: Record<string, string> = {
  "\b": "\\b",
  "\t": "\\t",
  "\n": "\\n",
  "\f": "\\f",
  "\r": "\\r",
};

function escape(c: string): string {
  return SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/** `text` with its control characters escaped; everything else as it is. */
export function printable(text: string): string {
  return text.replace(CONTROL, escape);
}

/** `text` quoted as JSON.stringify quotes it, with C1 controls and DEL escaped too. */
export function quoted(text: string): string {
  return JSON.stringify(text).replace(C1, escape);
}
