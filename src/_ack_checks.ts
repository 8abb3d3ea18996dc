// What an ack to be encoded must hold, checked: shared by ackMessage()/doneMessage() and the fake
// kernel's handlers' answers. Internal.

import { checkBytes, checkInteger, checkOptions, checkWellFormed, shown } from "./_options.ts";
import type { ExtendedAck } from "./ack.ts";

/** The keys of an {@linkcode ExtendedAck}: any other is refused, not ignored. */
export const EXT_KEYS = [
  "message",
  "offset",
  "cookie",
  "policy",
  "missingType",
  "missingNest",
] as const satisfies readonly (keyof ExtendedAck)[];

/** The longest `message` and `cookie` an attribute holds: 65535 less its header (and NUL). */
const MAX_COOKIE = 0xffff - 4;
const MAX_MESSAGE = MAX_COOKIE - 1;

const utf8 = new TextEncoder();

/**
 * An errno as the kernel has them (MAX_ERRNO 4095; 0: none), or a RangeError: NaN or 2^32 were
 * written as 0, an ack of success for a caller that meant a failure.
 */
export function checkErrno(what: string, errno: unknown): void {
  if (!(Number.isInteger(errno) && (errno as number) >= 0 && (errno as number) <= 4095)) {
    throw new RangeError(
      `${what}: errno must be a positive errno (1..4095, 0 for none), got ${shown(errno)}`,
    );
  }
}

/**
 * An extended ack to be encoded, checked (`what`: whose, for the message): no key but
 * {@linkcode EXT_KEYS}, and each value of its type, named as `ext.offset`: the attribute encoder
 * otherwise refused it as "attribute 2", which the caller never wrote.
 */
export function checkExt(what: string, ext: ExtendedAck | undefined): void {
  const { message, offset, cookie, policy, missingType, missingNest } = checkOptions(
    what,
    ext,
    EXT_KEYS,
  );
  if (message !== undefined) {
    if (typeof message !== "string") {
      throw new TypeError(`${what}: message must be a string, got ${shown(message)}`);
    }
    if (message.includes("\0")) throw new RangeError(`${what}: message cannot hold NUL`);
    checkWellFormed(message, `${what}: message`);
    // Its attribute's length is a u16: 4 bytes of header, the text and its NUL.
    const bytes = message.length > MAX_MESSAGE / 3 ? utf8.encode(message).length : 0;
    if (bytes > MAX_MESSAGE) {
      throw new RangeError(
        `${what}: message must be at most ${MAX_MESSAGE} bytes of UTF-8 (an attribute's length `
          + `is a u16), got ${bytes}`,
      );
    }
  }
  const u32s = { offset, missingType, missingNest };
  for (const [key, value] of Object.entries(u32s)) {
    if (value !== undefined) checkInteger(`${what}: ${key}`, value, 0, 0xffff_ffff);
  }
  if (cookie !== undefined) {
    checkBytes(`${what}: cookie`, cookie);
    if (cookie.byteLength > MAX_COOKIE) {
      throw new RangeError(
        `${what}: cookie must be at most ${MAX_COOKIE} bytes (an attribute's length is a u16), `
          + `got ${cookie.byteLength}`,
      );
    }
  }
  if (policy !== undefined && typeof policy !== "function") {
    throw new TypeError(
      `${what}: policy must be a function filling the nest, got ${shown(policy)}`,
    );
  }
}
