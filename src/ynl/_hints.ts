/**
 * Display hints (a spec's `display-hint`) as the kernel's ynl.py applies them
 * (`_formatted_string`, `_from_string`): an address or UUID reads as its text and is written
 * from it. The IP hints format by length, as ynl.py's `ipaddress.ip_address(bytes)` does: a spec
 * says `ipv4` for rt-route's dst, which an IPv6 route fills with 16 bytes. `hex` changes no
 * value (a number or bytes is what a program computes with; `format()` shows bytes in hex).
 * Pure; the decoders generated in _decode.ts call the formatters, _encode.ts the parsers.
 *
 * @module
 */

import { shown } from "../_options.ts";
import { formatIP, parseIP } from "../ip.ts";
import type { DisplayHint } from "./_descriptor.ts";

/** The hints that make a value text: the others (hex, none) leave it a number or bytes. */
export function textHint(hint: DisplayHint | undefined): boolean {
  return hint !== undefined && hint !== "hex";
}

/** An IPv4 address held in a u32 (its value, most significant byte first) as a dotted quad. */
export function ipv4Text(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

/** `bytes[start, start + length)` (4 or 16 bytes) as `ip` prints an address. */
export function ipText(bytes: Uint8Array, start: number, length: number): string {
  return length === 4
    ? `${bytes[start]}.${bytes[start + 1]}.${bytes[start + 2]}.${bytes[start + 3]}`
    : formatIP(bytes.subarray(start, start + length));
}

const HEX_PAIRS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** `bytes[start, end)` as lowercase hex pairs joined by `:` (formatMAC's text, any length). */
export function macText(bytes: Uint8Array, start: number, end: number): string {
  let text = "";
  for (let i = start; i < end; i++) text += (i === start ? "" : ":") + HEX_PAIRS[bytes[i]];
  return text;
}

/** 16 bytes at `start` as a UUID's text, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`. */
export function uuidText(bytes: Uint8Array, start: number): string {
  let text = "";
  for (let i = 0; i < 16; i++) {
    text += (i === 4 || i === 6 || i === 8 || i === 10 ? "-" : "") + HEX_PAIRS[bytes[start + i]];
  }
  return text;
}

/** The value of a u32 with an `ipv4` hint, from a dotted quad (TypeError naming `what`). */
export function ipv4Number(text: string, what: string): number {
  const bytes = parseIP(text, what);
  if (bytes.length !== 4) {
    throw new TypeError(`${what}: ${shown(text)} is not an IPv4 address (the value is a u32)`);
  }
  return ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
}

/**
 * The bytes of a value with a text hint, from its text (TypeError naming `what`): an IPv4 or
 * IPv6 address for any IP hint (4 or 16 bytes, as decoding reads them), hex pairs for a MAC
 * (`"aa:bb:cc:dd:ee:ff"`, or unseparated as ynl.py takes them, `"aabbccddeeff"`), a UUID's 32
 * hex digits with or without its dashes.
 */
export function hintedBytes(hint: DisplayHint, text: string, what: string): Uint8Array {
  if (hint === "mac") {
    const pairs = text.includes(":")
      ? text.split(":")
      : /^(?:[0-9a-fA-F]{2})+$/.test(text)
      ? text.match(/../g)!
      : [];
    if (pairs.length === 0 || !pairs.every((pair) => /^[0-9a-fA-F]{1,2}$/.test(pair))) {
      throw new TypeError(
        `${what}: ${shown(text)} is not a MAC address such as "aa:bb:cc:dd:ee:ff"`,
      );
    }
    return Uint8Array.from(pairs, (pair) => parseInt(pair, 16));
  }
  if (hint === "uuid") {
    const digits =
      /^[0-9a-fA-F]{8}(-?)[0-9a-fA-F]{4}\1[0-9a-fA-F]{4}\1[0-9a-fA-F]{4}\1[0-9a-fA-F]{12}$/
          .test(text)
        ? text.replaceAll("-", "")
        : undefined;
    if (digits === undefined) {
      throw new TypeError(
        `${what}: ${shown(text)} is not a UUID such as "123e4567-e89b-12d3-a456-426614174000"`,
      );
    }
    return Uint8Array.from(digits.match(/../g)!, (pair) => parseInt(pair, 16));
  }
  return parseIP(text, what);
}
