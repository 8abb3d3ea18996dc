/**
 * IP addresses, prefixes and MAC addresses as people write them, to and from the bytes netlink
 * carries. Formatting gives the text `ip` prints: dotted quads, IPv6 as RFC 5952 (lowercase, the
 * longest run of two or more zero groups as `::`, the first one on a tie) with glibc's mixed
 * notation for IPv4-mapped addresses (`::ffff:1.2.3.4`), MACs as lowercase `aa:bb:cc:dd:ee:ff`.
 * Parsing is strict (no leading zeros in a dotted quad, no zone index) and a bad text throws a
 * `TypeError` that names the field it came from.
 *
 * @example
 * ```ts
 * import { formatIP, parseIP, parsePrefix } from "@netlink/netlink";
 *
 * console.log(formatIP(parseIP("2001:DB8:0:0:1:0:0:1"))); // "2001:db8::1:0:0:1"
 * console.log(parsePrefix("10.0.0.0/24").prefixLength); // 24
 * ```
 *
 * @module
 */

import { checkBytes, integerFieldError, shown } from "./_options.ts";

/** Address family numbers as netlink carries them (AF_INET, AF_INET6). */
export type IPFamily = 2 | 10;

/** A parsed prefix: the address bytes (4 or 16), its family and the prefix length. */
export interface Prefix {
  /** AF_INET (2) or AF_INET6 (10). */
  readonly family: IPFamily;
  /** 4 bytes for IPv4, 16 for IPv6, in network byte order. */
  readonly address: Uint8Array;
  /** 0..32 for IPv4, 0..128 for IPv6; the full length when the text had no `/`. */
  readonly prefixLength: number;
}

function bad(field: string, text: unknown, what: string): TypeError {
  return new TypeError(`${field}: ${shown(text)} is not ${what}`);
}

function parseIPv4Into(text: string, out: Uint8Array, at: number): boolean {
  const parts = text.split(".");
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const part = parts[i];
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return false;
    const n = Number(part);
    if (n > 255) return false;
    out[at + i] = n;
  }
  return true;
}

function parseIPv6(text: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  // A trailing dotted quad stands for the last two groups.
  const last = halves.length === 2 ? tail : head;
  let v4: Uint8Array | undefined;
  if (last.length > 0 && last[last.length - 1].includes(".")) {
    v4 = new Uint8Array(4);
    if (!parseIPv4Into(last.pop()!, v4, 0)) return undefined;
  }
  const words = head.length + tail.length + (v4 ? 2 : 0);
  if (halves.length === 2 ? words > 7 : words !== 8) return undefined;
  const put = (list: string[], start: number): boolean => {
    for (let i = 0; i < list.length; i++) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(list[i])) return false;
      const n = parseInt(list[i], 16);
      out[start + 2 * i] = n >> 8;
      out[start + 2 * i + 1] = n & 0xff;
    }
    return true;
  };
  if (!put(head, 0)) return undefined;
  const tailBytes = tail.length * 2 + (v4 ? 4 : 0);
  if (halves.length === 2 && !put(tail, 16 - tailBytes)) return undefined;
  if (v4) out.set(v4, 12);
  return out;
}

/**
 * Parses an IPv4 (`"192.0.2.1"`) or IPv6 (`"2001:db8::1"`, `"::ffff:192.0.2.1"`) address into
 * its 4 or 16 bytes, network byte order.
 *
 * @param text The address.
 * @param field Named in the error when the text is not an address (default `"address"`).
 * @throws {TypeError} `field: "text" is not an IPv4 or IPv6 address`.
 *
 * @example
 * ```ts
 * import { parseIP } from "@netlink/netlink";
 * console.log(parseIP("10.0.0.1")); // Uint8Array(4) [ 10, 0, 0, 1 ]
 * ```
 */
export function parseIP(text: string, field = "address"): Uint8Array {
  if (typeof text === "string") {
    if (text.includes(":")) {
      const v6 = parseIPv6(text);
      if (v6) return v6;
    } else {
      const v4 = new Uint8Array(4);
      if (parseIPv4Into(text, v4, 0)) return v4;
    }
  }
  throw bad(field, text, "an IPv4 or IPv6 address");
}

/**
 * The family of an address written as text: AF_INET (2) for a dotted quad, AF_INET6 (10) for
 * IPv6, undefined for anything that is neither.
 *
 * @example
 * ```ts
 * import { ipFamily } from "@netlink/netlink";
 * console.log(ipFamily("fe80::1"), ipFamily("10.0.0.1"), ipFamily("eth0")); // 10 2 undefined
 * ```
 */
export function ipFamily(text: string): IPFamily | undefined {
  try {
    return parseIP(text).length === 4 ? 2 : 10;
  } catch {
    return undefined;
  }
}

function hex4(bytes: Uint8Array, i: number): number {
  return (bytes[2 * i] << 8) | bytes[2 * i + 1];
}

/**
 * Formats 4 or 16 address bytes as `ip` prints them: a dotted quad, or IPv6 in RFC 5952's
 * canonical form (with glibc's `::ffff:a.b.c.d` for IPv4-mapped addresses and `::a.b.c.d` for
 * IPv4-compatible ones, as `inet_ntop` writes them).
 *
 * @throws {TypeError} when the bytes are neither 4 nor 16 long.
 *
 * @example
 * ```ts
 * import { formatIP } from "@netlink/netlink";
 * console.log(formatIP(new Uint8Array([192, 0, 2, 1]))); // "192.0.2.1"
 * ```
 */
export function formatIP(bytes: Uint8Array): string {
  checkBytes("formatIP(): the address", bytes);
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) {
    throw new TypeError(`an IP address is 4 or 16 bytes, not ${bytes.length}`);
  }
  // The longest run of zero groups (at least two), the first on a tie.
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (hex4(bytes, i) !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && hex4(bytes, j) === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  const quad = () => `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  if (bestStart === 0 && (bestLen === 6 || (bestLen === 5 && hex4(bytes, 5) === 0xffff))) {
    return bestLen === 6 ? `::${quad()}` : `::ffff:${quad()}`;
  }
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += "::";
      i += bestLen - 1;
      continue;
    }
    if (out !== "" && !out.endsWith(":")) out += ":";
    out += hex4(bytes, i).toString(16);
  }
  return out;
}

/**
 * Parses a prefix: an address, optionally followed by `/length` (the full length when absent).
 * Host bits may be set (`"10.0.0.1/24"` is an interface address); callers that need a network
 * check that themselves.
 *
 * @param text The prefix, e.g. `"10.0.0.0/24"` or `"2001:db8::/32"`.
 * @param field Named in the error (default `"prefix"`).
 * @throws {TypeError} naming the field, for a bad address or length.
 * @throws {RangeError} naming the field and the range, for a length longer than the address.
 *
 * @example
 * ```ts
 * import { parsePrefix } from "@netlink/netlink";
 * const { family, prefixLength } = parsePrefix("2001:db8::/32");
 * console.log(family, prefixLength); // 10 32
 * ```
 */
export function parsePrefix(text: string, field = "prefix"): Prefix {
  if (typeof text !== "string") throw bad(field, text, "a prefix such as \"10.0.0.0/24\"");
  const slash = text.indexOf("/");
  const addressText = slash < 0 ? text : text.slice(0, slash);
  let address: Uint8Array;
  try {
    address = parseIP(addressText, field);
  } catch {
    throw bad(field, text, "a prefix such as \"10.0.0.0/24\" or \"2001:db8::/32\"");
  }
  const max = address.length * 8;
  let prefixLength = max;
  if (slash >= 0) {
    const len = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]*)$/.test(len)) {
      throw bad(
        field,
        text,
        `a prefix: the length must be 0..${max}${netmaskHint(addressText, len)}`,
      );
    }
    if (Number(len) > max) {
      throw new RangeError(
        `${field}: ${shown(text)}: the prefix length ${len} is not from 0 to ${max}`,
      );
    }
    prefixLength = Number(len);
  }
  return { family: address.length === 4 ? 2 : 10, address, prefixLength };
}

/**
 * ` (the netmask 255.255.255.0 is /24: "10.0.0.1/24")` when an IPv4 prefix's length is written as
 * a netmask (as ifconfig, and ip's get_prefix, take it); "" for anything else.
 */
function netmaskHint(addressText: string, len: string): string {
  const mask = new Uint8Array(4);
  if (!addressText.includes(".") || !parseIPv4Into(len, mask, 0)) return "";
  const zeros = ~((mask[0] << 24) | (mask[1] << 16) | (mask[2] << 8) | mask[3]) >>> 0;
  if ((zeros & (zeros + 1)) !== 0) return ""; // not ones then zeros
  const length = Math.clz32(zeros);
  return ` (the netmask ${len} is /${length}: "${addressText}/${length}")`;
}

/**
 * Formats an address and prefix length as `"10.0.0.0/24"`; a RangeError for a length that is
 * no integer from 0 to the address's bits.
 *
 * @example
 * ```ts
 * import { formatPrefix } from "@netlink/netlink";
 * console.log(formatPrefix(new Uint8Array(16), 0)); // "::/0"
 * ```
 */
export function formatPrefix(address: Uint8Array, prefixLength: number): string {
  const text = formatIP(address);
  const max = address.length * 8;
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > max) {
    throw integerFieldError(
      prefixLength,
      `formatPrefix(): the prefix length must be an integer from 0 to ${max}, got ${
        shown(prefixLength)
      }`,
    );
  }
  return `${text}/${prefixLength}`;
}

/**
 * Parses a MAC address: six bytes in hex separated by `:` (or `-`), any case, one or two
 * digits each (`"aa:bb:cc:dd:ee:ff"`, `"AA-BB-CC-DD-EE-FF"`, `"0:1:2:3:4:5"`).
 *
 * @param text The MAC address.
 * @param field Named in the error (default `"address"`).
 * @throws {TypeError} naming the field.
 *
 * @example
 * ```ts
 * import { parseMAC } from "@netlink/netlink";
 * console.log(parseMAC("02:00:00:00:00:01").length); // 6
 * ```
 */
export function parseMAC(text: string, field = "address"): Uint8Array {
  const parts = typeof text === "string" ? text.split(/[:-]/) : [];
  const sameSeparator = typeof text === "string" && !(text.includes(":") && text.includes("-"));
  if (parts.length !== 6 || !sameSeparator || !parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw bad(field, text, "a MAC address such as \"aa:bb:cc:dd:ee:ff\"");
  }
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

/**
 * Formats link-layer address bytes (a MAC, or any other length) as lowercase hex pairs joined
 * by `:`, as `ip` prints them.
 *
 * @example
 * ```ts
 * import { formatMAC } from "@netlink/netlink";
 * console.log(formatMAC(new Uint8Array([2, 0, 0, 0, 0, 0xab]))); // "02:00:00:00:00:ab"
 * ```
 */
export function formatMAC(bytes: Uint8Array): string {
  checkBytes("formatMAC(): the address", bytes);
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    out += (i ? ":" : "") + (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
  }
  return out;
}
