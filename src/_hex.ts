/**
 * Bytes as lowercase hex and back: how format() shows raw bytes and how recorded sessions keep
 * datagrams.
 *
 * @module
 */

/** "0a1b..." for the bytes; "" for none. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

/** The bytes of an even-length hex string; TypeError for anything else. */
export function fromHex(text: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/i.test(text)) throw new TypeError(`not hex bytes: ${text.slice(0, 40)}`);
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}
