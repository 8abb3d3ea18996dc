// What can name a link, checked before anything is asked of the kernel, and the lookup of its
// index. Internal: shared by the route client and TrafficControl (which does not load the route
// client's codecs).

import { strictUtf8 } from "../_bytes.ts";
import { checkWellFormed, shown } from "../_options.ts";
import { NetlinkError } from "../errors.ts";
import type { NetlinkFamily } from "../ynl/family.ts";
import type { rtLink } from "../ynl/rt_link.ts";

/**
 * Refuses what can name no link (TypeError naming `field`), before anything is asked: an index,
 * or a name or alternative name (`ip link property add ... altname`, up to 127 bytes), as text
 * or as its bytes.
 */
export function checkLinkRef(
  ref: unknown,
  field: string,
): asserts ref is string | number | Uint8Array {
  if (typeof ref !== "number") checkName(ref, field, ALTIFNAMSIZ - 1, "a link name or altname");
  else if (!Number.isInteger(ref) || ref <= 0 || ref > 0x7fff_ffff) {
    throw new TypeError(`${field}: ${ref} is not a link index (a positive integer)`);
  }
}

/**
 * A link reference as errors show it: a name as it is, an index as a number, a name's bytes as
 * their text when they are UTF-8, else with each byte that is not printable ASCII as `\xNN`.
 */
export function linkRefText(ref: string | number | Uint8Array): string {
  if (!(ref instanceof Uint8Array)) return String(ref);
  return strictUtf8(ref) ?? [...ref].map((byte) =>
    byte > 0x20 && byte < 0x7f
      ? String.fromCharCode(byte)
      : `\\x${byte.toString(16).padStart(2, "0")}`
  ).join("");
}

/**
 * `name` as a link name (what dev_valid_name() takes); a TypeError naming `field` otherwise. The
 * kernel counts and checks its UTF-8 bytes: at most 15, none NUL, "/", ":" or a space by the
 * kernel's isspace() (ASCII's, and 0xa0, which is in "à"'s encoding), and not "." or "..".
 */
export function checkLinkName(name: unknown, field: string): string {
  if (name instanceof Uint8Array) {
    throw new TypeError(`${field}: a name as text is taken here, not bytes`);
  }
  return checkName(name, field, IFNAMSIZ - 1, "a link name");
}

/**
 * A new link's name as {@linkcode checkLinkName} takes it, or as its bytes (a name that is not
 * UTF-8), checked alike.
 */
export function checkNewLinkName(name: unknown, field: string): string | Uint8Array {
  return checkName<string | Uint8Array>(name, field, IFNAMSIZ - 1, "a link name");
}

/**
 * The attribute a link's name is looked up by, as ip sends it: IFLA_IFNAME when it fits one (15
 * bytes), IFLA_ALT_IFNAME otherwise, which the kernel takes up to 127 bytes; either finds a
 * link by its name or by one of its altnames.
 */
export function nameLookup(
  name: string | Uint8Array,
): { ifname: string | Uint8Array } | { altIfname: string | Uint8Array } {
  const length = typeof name === "string" ? encoder.encode(name).length : name.byteLength;
  return length < IFNAMSIZ ? { ifname: name } : { altIfname: name };
}

/**
 * The index of link `ref`: an index as it is, a name asked of the kernel each time (a name seen
 * before may since name another link) by {@linkcode nameLookup}, without the link's stats
 * (RTEXT_FILTER_SKIP_STATS). What can name no link is a TypeError naming `field` first; the
 * kernel's ENODEV is said as `no link named "X"`, other errors go through `otherwise`.
 */
export async function linkIndex(
  links: NetlinkFamily<typeof rtLink>,
  ref: unknown,
  field: string,
  otherwise: (err: unknown) => unknown = (err) => err,
): Promise<number> {
  checkLinkRef(ref, field);
  if (typeof ref === "number") return ref;
  try {
    return (await links.do("getlink", { ...nameLookup(ref), extMask: 8 })).ifiIndex;
  } catch (err) {
    throw noLink(err, ref, otherwise);
  }
}

/**
 * The kernel's ENODEV for link `ref` said as `no link named "X"` (`no link with index N`); any
 * other error through `otherwise`.
 */
export function noLink(
  err: unknown,
  ref: string | number | Uint8Array,
  otherwise: (err: unknown) => unknown,
): unknown {
  if (!(err instanceof NetlinkError) || err.code !== "ENODEV") return otherwise(err);
  return new NetlinkError({
    errno: err.errno,
    detail: ref instanceof Uint8Array
      ? `no link named "${linkRefText(ref)}" (given as bytes)`
      : typeof ref === "string"
      ? `no link named ${shown(ref)}${
        ref.includes("\ufffd")
          ? " (a name read with U+FFFD stands for bytes that are not UTF-8, which the kernel"
            + " allows in a name: find that link by its index, or by its nameBytes)"
          : ""
      }`
      : `no link with index ${ref}`,
    requestType: err.requestType,
    requestSeq: err.requestSeq,
  });
}

/** IFNAMSIZ and ALTIFNAMSIZ (<linux/if.h>): the buffers, the NUL included. */
const IFNAMSIZ = 16;
const ALTIFNAMSIZ = 128;

function checkName<T extends string | Uint8Array = string>(
  name: unknown,
  field: string,
  max: number,
  what: string,
): T {
  const bytes = typeof name === "string"
    ? encoder.encode(checkWellFormed(name, field))
    : name instanceof Uint8Array
    ? name
    : undefined;
  if (
    bytes === undefined || bytes.length === 0 || bytes.length > max || isDots(bytes)
    || bytes.some((byte) => INVALID.has(byte))
  ) {
    const given = name instanceof Uint8Array
      ? `the bytes "${linkRefText(name)}" are`
      : `${shown(name)} is`;
    throw new TypeError(
      `${field}: ${given} not ${what} (1 to ${max} bytes, no space, NUL, / or :, not . or ..)`,
    );
  }
  return name as T;
}

/** Whether `bytes` are "." or "..", which no link is named. */
function isDots(bytes: Uint8Array): boolean {
  return bytes.every((byte) => byte === 0x2e) && bytes.length <= 2;
}

const encoder = new TextEncoder();

/** The bytes dev_valid_name() refuses: NUL, "/", ":", and the kernel's isspace() (lib/ctype.c). */
const INVALID = new Set([0, 0x2f, 0x3a, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0]);
