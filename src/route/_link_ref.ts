// What can name a link, checked before anything is asked of the kernel. Internal: shared by the
// route client and TrafficControl (which does not load the route client's codecs).

import { shown } from "../_options.ts";

/** Refuses what can name no link (TypeError naming `field`), before anything is asked. */
export function checkLinkRef(ref: unknown, field: string): asserts ref is string | number {
  if (typeof ref !== "number") checkLinkName(ref, field);
  else if (!Number.isInteger(ref) || ref <= 0 || ref > 0x7fff_ffff) {
    throw new TypeError(`${field}: ${ref} is not a link index (a positive integer)`);
  }
}

/**
 * `name` as a link name (what dev_valid_name() takes); a TypeError naming `field` otherwise. The
 * kernel counts and checks its UTF-8 bytes: at most 15, none NUL, "/", ":" or a space by the
 * kernel's isspace() (ASCII's, and 0xa0, which is in "à"'s encoding), and not "." or "..".
 */
export function checkLinkName(name: unknown, field: string): string {
  const bytes = typeof name === "string" ? encoder.encode(name) : undefined;
  if (
    bytes === undefined || bytes.length === 0 || bytes.length > 15 || name === "." || name === ".."
    || bytes.some((byte) => INVALID.has(byte))
  ) {
    throw new TypeError(
      `${field}: ${shown(name)} is not a link name `
        + "(1 to 15 bytes, no space, NUL, / or :, not . or ..)",
    );
  }
  return name as string;
}

const encoder = new TextEncoder();

/** The bytes dev_valid_name() refuses: NUL, "/", ":", and the kernel's isspace() (lib/ctype.c). */
const INVALID = new Set([0, 0x2f, 0x3a, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0]);
