/**
 * Byte arrays put together, and read as strict UTF-8.
 *
 * @module
 */

/** `parts` one after another, in a new array. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * `bytes` as text when they are UTF-8, else undefined (where a plain decoder would give U+FFFD:
 * the bytes of a name the kernel allows, a link's, that the text cannot name back).
 */
export function strictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}
