/**
 * Netlink attributes: the struct nlattr TLVs (u16 length, u16 type, value, padding to 4 bytes)
 * that carry almost everything after a message's fixed header.
 *
 * {@linkcode AttributeEncoder} builds them; {@linkcode AttributeDecoder} walks them without
 * allocating, for hot paths such as large dumps; {@linkcode decodeAttributes} and
 * {@linkcode Attribute} are the convenient, allocating form of the same decoder.
 *
 * @module
 */

import { TYPE_MAX, VALUE_MAX } from "./_attribute_limits.ts";
import { NLA_ALIGNTO, NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_HDRLEN } from "./_constants.ts";
import { HOST_LITTLE_ENDIAN } from "./_endian.ts";
import {
  checkIterable,
  checkNumberArgument,
  checkWellFormed,
  integerFieldError,
  shown,
  unknownKey,
} from "./_options.ts";
import { sharedView } from "./_view.ts";
import { MalformedMessageError } from "./errors.ts";

// NLA_HDRLEN (4: NLA_ALIGN(sizeof(struct nlattr))) belongs with the attribute codec, but is
// generated from the headers; re-exporting the same binding keeps `export *` unambiguous.
export { NLA_HDRLEN };

/**
 * Rounds a length up to attribute alignment, like the kernel's NLA_ALIGN. Throws TypeError for
 * what is no whole number (a fraction, NaN, an infinity, a bigint, a string, a Symbol),
 * RangeError for a negative length.
 *
 * @example
 * ```ts
 * import { alignAttribute } from "@netlink/netlink";
 * console.log(alignAttribute(5)); // 8
 * ```
 */
export function alignAttribute(length: number): number {
  return nlaAlign(checkNumberArgument("alignAttribute(): length", length));
}

/** NLA_ALIGN of a length known to be a non-negative integer: the library's own. */
function nlaAlign(length: number): number {
  // -length & (ALIGNTO - 1) is the padding; `&` works modulo 2^32, which ALIGNTO divides.
  return length + (-length & (NLA_ALIGNTO - 1));
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/**
 * An attribute to encode: what {@linkcode encodeAttributes} and
 * {@linkcode AttributeEncoder.attribute} accept. An {@linkcode Attribute} is one.
 *
 * @example
 * ```ts
 * import { type AttributeInit, encodeAttributes } from "@netlink/netlink";
 * const ifname: AttributeInit = { type: 3, value: new TextEncoder().encode("eth0\0") };
 * encodeAttributes([ifname]);
 * ```
 */
export interface AttributeInit {
  /** Attribute type, without flag bits: 0 to NLA_TYPE_MASK. */
  readonly type: number;
  /** The value, without header or padding. */
  readonly value: Uint8Array;
  /** Sets NLA_F_NESTED: the value is itself attributes. */
  readonly nested?: boolean;
  /** Sets NLA_F_NET_BYTEORDER: the value is in network byte order. */
  readonly netByteOrder?: boolean;
}

// Every field of AttributeInit and nothing else (`satisfies`), for the error naming them.
const ATTRIBUTE_FIELDS = Object.keys(
  { type: 0, value: 0, nested: 0, netByteOrder: 0 } satisfies Record<keyof AttributeInit, 0>,
);

/**
 * Options of {@linkcode AttributeEncoder.u16be} and its 32/64-bit siblings.
 *
 * @example
 * ```ts
 * import { AttributeEncoder, type BigEndianOptions } from "@netlink/netlink";
 * const options: BigEndianOptions = { netByteOrder: true };
 * new AttributeEncoder().u32be(1, 0x0a000001, options).finish();
 * ```
 */
export interface BigEndianOptions {
  /**
   * Also set NLA_F_NET_BYTEORDER in the type, as the kernel's nla_put_net32 does (ipset requires
   * it). Default false, as the kernel's nla_put_be32, libnl and mdlayher/netlink do: most
   * families (e.g. nftables, conntrack) know a value's byte order from its type alone.
   */
  readonly netByteOrder?: boolean;
}

function describe(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return `"${value}"`;
  return String(value);
}

function checkType(type: unknown): number {
  if (typeof type !== "number") {
    throw new TypeError(`attribute type must be a number, got ${typeof type}`);
  }
  if (!Number.isInteger(type) || type < 0 || type > TYPE_MAX) {
    throw integerFieldError(
      type,
      `attribute type must be an integer from 0 to ${TYPE_MAX} (NLA_TYPE_MASK; flags are set by the encoder), got ${
        describe(type)
      }`,
    );
  }
  return type;
}

function checkInteger(
  type: number,
  kind: string,
  value: unknown,
  min: number,
  max: number,
): number {
  if (typeof value !== "number") {
    throw new TypeError(
      `attribute ${type}: ${kind} value must be a number, got ${typeof value}`,
    );
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw integerFieldError(
      value,
      `attribute ${type}: ${kind} value must be an integer from ${min} to ${max}, got ${value}`,
    );
  }
  return value;
}

function checkBigInteger(
  type: number,
  kind: string,
  value: unknown,
  min: bigint,
  max: bigint,
): bigint {
  let big: bigint;
  if (typeof value === "bigint") {
    big = value;
  } else if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw integerFieldError(
        value,
        `attribute ${type}: ${kind} value must be a bigint or a safe integer, got ${value}`,
      );
    }
    big = BigInt(value);
  } else {
    throw new TypeError(
      `attribute ${type}: ${kind} value must be a bigint or a number, got ${typeof value}`,
    );
  }
  if (big < min || big > max) {
    throw new RangeError(
      `attribute ${type}: ${kind} value must be from ${min} to ${max}, got ${describe(value)}`,
    );
  }
  return big;
}

function checkBytes(type: number, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(
      `attribute ${type}: value must be a Uint8Array, got ${
        value === null ? "null" : typeof value
      }`,
    );
  }
  if (value.byteLength > VALUE_MAX) {
    throw new RangeError(
      `attribute ${type}: value must be at most ${VALUE_MAX} bytes (nla_len is a u16), got ${value.byteLength}`,
    );
  }
  return value;
}

const U64_MAX = 0xffff_ffff_ffff_ffffn;
const S64_MIN = -0x8000_0000_0000_0000n;
const S64_MAX = 0x7fff_ffff_ffff_ffffn;

/**
 * Builds a run of attributes. Every method validates its arguments before writing (RangeError
 * naming the attribute type and the allowed range) and returns the encoder, so calls chain.
 * Integers are written in host byte order, the `be` variants in network byte order.
 *
 * @example
 * ```ts
 * import { AttributeEncoder } from "@netlink/netlink";
 * const IFLA_IFNAME = 3, IFLA_MTU = 4, IFLA_LINKINFO = 18, IFLA_INFO_KIND = 1;
 * const attrs = new AttributeEncoder()
 *   .string(IFLA_IFNAME, "br0")
 *   .u32(IFLA_MTU, 1500)
 *   .nested(IFLA_LINKINFO, (info) => info.string(IFLA_INFO_KIND, "bridge"))
 *   .finish();
 * ```
 */
export class AttributeEncoder {
  #bytes: Uint8Array = new Uint8Array(64);
  #view: DataView = new DataView(this.#bytes.buffer);
  #length = 0;
  #depth = 0;

  /** Makes room for `size` more bytes, growing geometrically. */
  #reserve(size: number): void {
    const needed = this.#length + size;
    if (needed <= this.#bytes.byteLength) return;
    const grown = new Uint8Array(Math.max(needed, this.#bytes.byteLength * 2, 64));
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
    this.#view = new DataView(grown.buffer);
  }

  /** Appends a header and room for a value of `size` bytes (padding zeroed); returns its offset. */
  #append(typeField: number, size: number): number {
    const total = nlaAlign(NLA_HDRLEN + size);
    this.#reserve(total);
    const offset = this.#length;
    this.#view.setUint16(offset, NLA_HDRLEN + size, HOST_LITTLE_ENDIAN);
    this.#view.setUint16(offset + 2, typeField, HOST_LITTLE_ENDIAN);
    this.#bytes.fill(0, offset + NLA_HDRLEN + size, offset + total);
    this.#length = offset + total;
    return offset + NLA_HDRLEN;
  }

  /**
   * Appends a flag: an attribute with no value, present or absent (NLA_FLAG).
   *
   * @example
   * ```ts
   * import { AttributeEncoder } from "@netlink/netlink";
   * new AttributeEncoder().flag(7).finish(); // 4 bytes: header only
   * ```
   */
  flag(type: number): this {
    this.#append(checkType(type), 0);
    return this;
  }

  /**
   * Appends a u8.
   *
   * @example
   * ```ts
   * import { AttributeEncoder } from "@netlink/netlink";
   * new AttributeEncoder().u8(1, 255).finish();
   * ```
   */
  u8(type: number, value: number): this {
    checkInteger(checkType(type), "u8", value, 0, 0xff);
    const offset = this.#append(type, 1);
    this.#view.setUint8(offset, value);
    return this;
  }

  /**
   * Appends a u16 in host byte order.
   *
   * @example
   * ```ts
   * import { AttributeEncoder } from "@netlink/netlink";
   * new AttributeEncoder().u16(1, 65535).finish();
   * ```
   */
  u16(type: number, value: number): this {
    checkInteger(checkType(type), "u16", value, 0, 0xffff);
    const offset = this.#append(type, 2);
    this.#view.setUint16(offset, value, HOST_LITTLE_ENDIAN);
    return this;
  }

  /**
   * Appends a u32 in host byte order.
   *
   * @example
   * ```ts
   * import { AttributeEncoder } from "@netlink/netlink";
   * new AttributeEncoder().u32(4, 1500).finish();
   * ```
   */
  u32(type: number, value: number): this {
    checkInteger(checkType(type), "u32", value, 0, 0xffff_ffff);
    const offset = this.#append(type, 4);
    this.#view.setUint32(offset, value, HOST_LITTLE_ENDIAN);
    return this;
  }

  /**
   * Appends a u64 in host byte order, from a bigint or a non-negative safe integer.
   *
   * @example
   * ```ts
   * import { AttributeEncoder } from "@netlink/netlink";
   * new AttributeEncoder().u64(1, 2n ** 64n - 1n).u64(2, 42).finish();
   * ```
   */
  u64(type: number, value: bigint | number): this {
    const big = checkBigInteger(checkType(type), "u64", value, 0n, U64_MAX);
    const offset = this.#append(type, 8);
    this.#view.setBigUint64(offset, big, HOST_LITTLE_ENDIAN);
    return this;
  }

  /**
   * Appends an s8.
   *
   * @example
   * ```ts
   * import { AttributeEncoder } from "@netlink/netlink";
   * new AttributeEncoder().s8(1, -128).finish();
   * ```
   */
  s8(type: number, value: number): this {
    checkInteger(checkType(type), "s8", value, -0x80, 0x7f);
    const offset = this.#append(type, 1);
    this.#view.setInt8(offset, value);
    return this;
  }

  /**
   * Appends an s16 in host byte order.
   *
   * @example
   * ```ts
   * import { AttributeEncoder } from "@netlink/netlink";
   * new AttributeEncoder().s16(1, -1).finish();
   * ```
   */
  s16(type: number, value: number): this {
    checkInteger(checkType(type), "s16", value, -0x8000, 0x7fff);
    const offset = this.#append(type, 2);
    this.#view.setInt16(offset, value, HOST_LITTLE_ENDIAN);
    return this;
  }

  /**
   * Appends an s32 in host byte order.
   *
   * @example
   * ```ts
   * import { AttributeEncoder } from "@netlink/netlink";
   * new AttributeEncoder().s32(1, -1).finish();
   * ```
   */
  s32(type: number, value: number): this {
    checkInteger(checkType(type), "s32", value, -0x8000_0000, 0x7fff_ffff);
    const offset = this.#append(type, 4);
    this.#view.setInt32(offset, value, HOST_LITTLE_ENDIAN);
    return this;
  }

  /**
   * Appends an s64 in host byte order, from a bigint or a safe integer.
   *
   * @example
   * ```ts
   * import { AttributeEncoder } from "@netlink/netlink";
   * new AttributeEncoder().s64(1, -1n).s64(2, -42).finish();
   * ```
   */
  s64(type: number, value: bigint | number): this {
    const big = checkBigInteger(checkType(type), "s64", value, S64_MIN, S64_MAX);
    const offset = this.#append(type, 8);
    this.#view.setBigInt64(offset, big, HOST_LITTLE_ENDIAN);
    return this;
  }

  /**
   * Appends a u16 in network byte order (a port, say). Does not set NLA_F_NET_BYTEORDER unless
   * asked: see {@linkcode BigEndianOptions}.
   *
   * @example
   * ```ts
   * import { AttributeEncoder } from "@netlink/netlink";
   * new AttributeEncoder().u16be(1, 443).finish();
   * ```
   */
  u16be(type: number, value: number, options?: BigEndianOptions): this {
    checkInteger(checkType(type), "u16be", value, 0, 0xffff);
    const offset = this.#append(netByteOrderType(type, options), 2);
    this.#view.setUint16(offset, value, false);
    return this;
  }

  /**
   * Appends a u32 in network byte order (an IPv4 address, say). Does not set NLA_F_NET_BYTEORDER
   * unless asked: see {@linkcode BigEndianOptions}.
   *
   * @example
   * ```ts
   * import { AttributeEncoder } from "@netlink/netlink";
   * new AttributeEncoder().u32be(1, 0xc0a80001).finish(); // 192.168.0.1
   * ```
   */
  u32be(type: number, value: number, options?: BigEndianOptions): this {
    checkInteger(checkType(type), "u32be", value, 0, 0xffff_ffff);
    const offset = this.#append(netByteOrderType(type, options), 4);
    this.#view.setUint32(offset, value, false);
    return this;
  }

  /**
   * Appends a u64 in network byte order, from a bigint or a non-negative safe integer. Does not
   * set NLA_F_NET_BYTEORDER unless asked: see {@linkcode BigEndianOptions}.
   *
   * @example
   * ```ts
   * import { AttributeEncoder } from "@netlink/netlink";
   * new AttributeEncoder().u64be(1, 1n, { netByteOrder: true }).finish();
   * ```
   */
  u64be(type: number, value: bigint | number, options?: BigEndianOptions): this {
    const big = checkBigInteger(checkType(type), "u64be", value, 0n, U64_MAX);
    const offset = this.#append(netByteOrderType(type, options), 8);
    this.#view.setBigUint64(offset, big, false);
    return this;
  }

  /**
   * Appends a string as UTF-8 with a terminating NUL, as NLA_STRING/NLA_NUL_STRING expect.
   * Throws RangeError for a string holding NUL (the kernel would read only up to it).
   *
   * @example
   * ```ts
   * import { AttributeEncoder } from "@netlink/netlink";
   * new AttributeEncoder().string(3, "eth0").finish(); // nla_len 9: "eth0\0"
   * ```
   */
  string(type: number, value: string): this {
    checkType(type);
    if (typeof value !== "string") {
      throw new TypeError(`attribute ${type}: string value must be a string, got ${typeof value}`);
    }
    if (value.includes("\0")) {
      // The kernel reads NLA_STRING/NLA_NUL_STRING up to the first NUL: the rest would vanish.
      throw new RangeError(`attribute ${type}: a string cannot hold NUL; use bytes() for binary`);
    }
    checkWellFormed(value, `attribute ${type}`);
    const encoded = textEncoder.encode(value);
    if (encoded.byteLength + 1 > VALUE_MAX) {
      throw new RangeError(
        `attribute ${type}: string must be at most ${
          VALUE_MAX - 1
        } bytes of UTF-8 (nla_len is a u16), got ${encoded.byteLength}`,
      );
    }
    const offset = this.#append(type, encoded.byteLength + 1);
    this.#bytes.set(encoded, offset);
    this.#bytes[offset + encoded.byteLength] = 0;
    return this;
  }

  /**
   * Appends raw bytes as the value (copied).
   *
   * @example
   * ```ts
   * import { AttributeEncoder } from "@netlink/netlink";
   * const IFLA_ADDRESS = 1;
   * new AttributeEncoder().bytes(IFLA_ADDRESS, Uint8Array.of(2, 0, 0, 0, 0, 1)).finish();
   * ```
   */
  bytes(type: number, value: Uint8Array): this {
    checkBytes(checkType(type), value);
    const offset = this.#append(type, value.byteLength);
    this.#bytes.set(value, offset);
    return this;
  }

  /**
   * Appends a nested attribute (NLA_F_NESTED set, as iproute2's addattr_nest and mdlayher/netlink
   * do; strict kernel policies require it). `build` is called synchronously with this encoder to
   * append the nest's contents. If it throws, everything it appended is removed.
   *
   * @example
   * ```ts
   * import { AttributeEncoder } from "@netlink/netlink";
   * const IFLA_LINKINFO = 18, IFLA_INFO_KIND = 1;
   * new AttributeEncoder()
   *   .nested(IFLA_LINKINFO, (info) => info.string(IFLA_INFO_KIND, "dummy"))
   *   .finish();
   * ```
   */
  nested(type: number, build: (encoder: this) => void): this {
    checkType(type);
    if (typeof build !== "function") {
      throw new TypeError(`attribute ${type}: nested() needs a function, got ${typeof build}`);
    }
    const start = this.#length;
    const valueStart = this.#append(type | NLA_F_NESTED, 0);
    this.#depth++;
    try {
      const result: unknown = build(this);
      if (typeof (result as PromiseLike<unknown> | undefined)?.then === "function") {
        throw new TypeError(`attribute ${type}: nested() callback must be synchronous`);
      }
    } catch (error) {
      this.#length = start;
      throw error;
    } finally {
      this.#depth--;
    }
    const size = this.#length - valueStart;
    if (size > VALUE_MAX) {
      this.#length = start;
      throw new RangeError(
        `attribute ${type}: nested contents must be at most ${VALUE_MAX} bytes (nla_len is a u16), got ${size}`,
      );
    }
    this.#view.setUint16(start, NLA_HDRLEN + size, HOST_LITTLE_ENDIAN);
    return this;
  }

  /**
   * Appends an attribute as given, flags included: re-encodes a decoded {@linkcode Attribute}
   * byte for byte, or writes a value that was encoded elsewhere. A field
   * {@linkcode AttributeInit} does not have (a misspelt `nested`) is a TypeError.
   *
   * @example
   * ```ts
   * import { AttributeEncoder, decodeAttributes } from "@netlink/netlink";
   * const input = new AttributeEncoder().u32(1, 7).u32(2, 8).finish();
   * const kept = decodeAttributes(input).filter((attr) => attr.type !== 2);
   * const encoder = new AttributeEncoder();
   * for (const attr of kept) encoder.attribute(attr);
   * encoder.finish();
   * ```
   */
  attribute(attribute: AttributeInit): this {
    if (typeof attribute !== "object" || attribute === null) {
      throw new TypeError(`attribute must be an object, got ${shown(attribute)}`);
    }
    const type = checkType(attribute.type);
    // A misspelt flag (`nestd`) would otherwise leave NLA_F_NESTED off in silence.
    for (const key in attribute) {
      switch (key) {
        case "type":
        case "value":
        case "nested":
        case "netByteOrder":
          continue;
      }
      if (Object.hasOwn(attribute, key)) {
        throw unknownKey(`attribute ${type}`, key, ATTRIBUTE_FIELDS, "field");
      }
    }
    const value = checkBytes(type, attribute.value);
    const typeField = type | (attribute.nested ? NLA_F_NESTED : 0)
      | (attribute.netByteOrder ? NLA_F_NET_BYTEORDER : 0);
    const offset = this.#append(typeField, value.byteLength);
    this.#bytes.set(value, offset);
    return this;
  }

  /**
   * Returns the encoded attributes and empties the encoder, which can then be reused. The result
   * is not copied: the encoder lets go of it and never writes to it again.
   *
   * @example
   * ```ts
   * import { AttributeEncoder } from "@netlink/netlink";
   * const bytes = new AttributeEncoder().u8(1, 1).finish();
   * console.log(bytes.length); // 8
   * ```
   */
  finish(): Uint8Array {
    if (this.#depth > 0) {
      throw new TypeError("finish() cannot be called inside a nested() callback");
    }
    const result = this.#bytes.subarray(0, this.#length);
    this.#bytes = new Uint8Array(64);
    this.#view = new DataView(this.#bytes.buffer);
    this.#length = 0;
    return result;
  }
}

function netByteOrderType(type: number, options: BigEndianOptions | undefined): number {
  return options?.netByteOrder ? type | NLA_F_NET_BYTEORDER : type;
}

/**
 * Encodes attributes given as records, flags included. Decoded {@linkcode Attribute}s re-encode
 * byte for byte.
 *
 * @example
 * ```ts
 * import { encodeAttributes } from "@netlink/netlink";
 * const bytes = encodeAttributes([
 *   { type: 1, value: Uint8Array.of(1, 2, 3) },
 *   { type: 2, value: new Uint8Array(0), nested: true },
 * ]);
 * console.log(bytes.length); // 12
 * ```
 */
export function encodeAttributes(attributes: Iterable<AttributeInit>): Uint8Array {
  const encoder = new AttributeEncoder();
  for (const attribute of checkIterable("encodeAttributes(): the attributes", attributes)) {
    encoder.attribute(attribute);
  }
  return encoder.finish();
}

function wrongLength(
  type: number,
  kind: string,
  expected: number,
  actual: number,
  offset: number,
): MalformedMessageError {
  return new MalformedMessageError(
    `attribute ${type} is ${actual} bytes long, but a ${kind} is ${expected}`,
    offset,
  );
}

/** The value's text, up to its first NUL as C readers see it (so the terminator is dropped). */
function decodeString(bytes: Uint8Array, start: number, end: number): string {
  let stop = start;
  while (stop < end && bytes[stop] !== 0) stop++;
  return textDecoder.decode(bytes.subarray(start, stop));
}

/**
 * A cursor over a run of attributes that allocates nothing while walking: call
 * {@linkcode AttributeDecoder.next} until it returns false, reading the current attribute with the
 * typed getters. Malformed input throws MalformedMessageError; offsets in errors count from the
 * start of the `bytes` given to the constructor, also in nested decoders.
 *
 * @example
 * ```ts
 * import { AttributeDecoder, AttributeEncoder } from "@netlink/netlink";
 * const IFLA_IFNAME = 3, IFLA_MTU = 4;
 * const bytes = new AttributeEncoder().string(IFLA_IFNAME, "lo").u32(IFLA_MTU, 65536).finish();
 * const attrs = new AttributeDecoder(bytes);
 * while (attrs.next()) {
 *   if (attrs.type === IFLA_IFNAME) console.log(attrs.string()); // "lo"
 *   else if (attrs.type === IFLA_MTU) console.log(attrs.u32()); // 65536
 * }
 * ```
 */
export class AttributeDecoder {
  readonly #bytes: Uint8Array;
  /** Over the whole of `#bytes.buffer`, shared with other decoders: add `#base` to offsets. */
  readonly #view: DataView;
  readonly #base: number;
  readonly #end: number;
  #next: number;
  #header = -1;
  #typeField = 0;
  #valueStart = 0;
  #valueLength = 0;

  /**
   * Starts a cursor before the first attribute of `bytes` (or of its `start`..`end` range).
   *
   * @param bytes The buffer holding the attributes (not copied).
   * @param start Where the attributes start in `bytes`, e.g. after a message's fixed header.
   * @param end Where they end; defaults to the end of `bytes`.
   */
  constructor(bytes: Uint8Array, start = 0, end: number = bytes?.byteLength) {
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(`AttributeDecoder needs a Uint8Array, got ${typeof bytes}`);
    }
    if (
      !Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start > end
      || end > bytes.byteLength
    ) {
      throw new RangeError(
        `AttributeDecoder range must satisfy 0 <= start <= end <= ${bytes.byteLength}, got start ${start}, end ${end}`,
      );
    }
    this.#bytes = bytes;
    this.#view = sharedView(bytes.buffer);
    this.#base = bytes.byteOffset;
    this.#next = start;
    this.#end = end;
  }

  /**
   * Moves to the next attribute. Returns false at the end (and on every later call). Throws
   * MalformedMessageError for an nla_len below 4 or past the end, or for 1 to 3 bytes left over
   * after the last attribute; the final attribute may lack its padding.
   *
   * @example
   * ```ts
   * import { AttributeDecoder } from "@netlink/netlink";
   * const attrs = new AttributeDecoder(new Uint8Array(0));
   * console.log(attrs.next()); // false
   * ```
   */
  next(): boolean {
    const offset = this.#next;
    const left = this.#end - offset;
    if (left <= 0) {
      this.#header = -1;
      return false;
    }
    if (left < NLA_HDRLEN) {
      throw new MalformedMessageError(
        `${left} trailing bytes are too short for a ${NLA_HDRLEN}-byte attribute header`,
        offset,
      );
    }
    const length = this.#view.getUint16(this.#base + offset, HOST_LITTLE_ENDIAN);
    if (length < NLA_HDRLEN) {
      throw new MalformedMessageError(
        `nla_len ${length} is shorter than the ${NLA_HDRLEN}-byte attribute header`,
        offset,
      );
    }
    if (length > left) {
      throw new MalformedMessageError(
        `nla_len ${length} runs past the end of the attributes (${left} bytes left)`,
        offset,
      );
    }
    this.#header = offset;
    this.#typeField = this.#view.getUint16(this.#base + offset + 2, HOST_LITTLE_ENDIAN);
    this.#valueStart = offset + NLA_HDRLEN;
    this.#valueLength = length - NLA_HDRLEN;
    this.#next = offset + nlaAlign(length);
    return true;
  }

  #current(): void {
    if (this.#header < 0) {
      throw new TypeError("AttributeDecoder: no current attribute; call next() first");
    }
  }

  /** Checks the current value is `size` bytes long; returns where it starts in `#view`. */
  #fixed(kind: string, size: number): number {
    this.#current();
    if (this.#valueLength !== size) {
      throw wrongLength(this.type, kind, size, this.#valueLength, this.#header);
    }
    return this.#base + this.#valueStart;
  }

  /**
   * The current attribute's type, without the NLA_F_NESTED and NLA_F_NET_BYTEORDER bits.
   *
   * @example
   * ```ts
   * import { AttributeDecoder, AttributeEncoder } from "@netlink/netlink";
   * const attrs = new AttributeDecoder(new AttributeEncoder().nested(5, () => {}).finish());
   * attrs.next();
   * console.log(attrs.type, attrs.nested); // 5 true
   * ```
   */
  get type(): number {
    return this.#typeField & TYPE_MAX;
  }

  /**
   * Whether the current attribute has NLA_F_NESTED set. Many older families nest without it, so
   * its absence does not prove the value is not attributes.
   *
   * @example
   * ```ts
   * import { AttributeDecoder, AttributeEncoder } from "@netlink/netlink";
   * const attrs = new AttributeDecoder(new AttributeEncoder().u8(1, 0).finish());
   * attrs.next();
   * console.log(attrs.nested); // false
   * ```
   */
  get nested(): boolean {
    return (this.#typeField & NLA_F_NESTED) !== 0;
  }

  /**
   * Whether the current attribute has NLA_F_NET_BYTEORDER set.
   *
   * @example
   * ```ts
   * import { AttributeDecoder, AttributeEncoder } from "@netlink/netlink";
   * const bytes = new AttributeEncoder().u32be(1, 1, { netByteOrder: true }).finish();
   * const attrs = new AttributeDecoder(bytes);
   * attrs.next();
   * console.log(attrs.netByteOrder); // true
   * ```
   */
  get netByteOrder(): boolean {
    return (this.#typeField & NLA_F_NET_BYTEORDER) !== 0;
  }

  /**
   * Length of the current attribute's value in bytes (nla_len minus the header, no padding).
   *
   * @example
   * ```ts
   * import { AttributeDecoder, AttributeEncoder } from "@netlink/netlink";
   * const attrs = new AttributeDecoder(new AttributeEncoder().string(1, "ab").finish());
   * attrs.next();
   * console.log(attrs.length); // 3
   * ```
   */
  get length(): number {
    return this.#valueLength;
  }

  /**
   * The current value as a u8; MalformedMessageError unless it is 1 byte long.
   *
   * @example
   * ```ts
   * import { AttributeDecoder, AttributeEncoder } from "@netlink/netlink";
   * const attrs = new AttributeDecoder(new AttributeEncoder().u8(1, 200).finish());
   * attrs.next();
   * console.log(attrs.u8()); // 200
   * ```
   */
  u8(): number {
    return this.#view.getUint8(this.#fixed("u8", 1));
  }

  /**
   * The current value as a host-order u16; MalformedMessageError unless it is 2 bytes long.
   *
   * @example
   * ```ts
   * import { AttributeDecoder, AttributeEncoder } from "@netlink/netlink";
   * const attrs = new AttributeDecoder(new AttributeEncoder().u16(1, 9000).finish());
   * attrs.next();
   * console.log(attrs.u16()); // 9000
   * ```
   */
  u16(): number {
    return this.#view.getUint16(this.#fixed("u16", 2), HOST_LITTLE_ENDIAN);
  }

  /**
   * The current value as a host-order u32; MalformedMessageError unless it is 4 bytes long.
   *
   * @example
   * ```ts
   * import { AttributeDecoder, AttributeEncoder } from "@netlink/netlink";
   * const attrs = new AttributeDecoder(new AttributeEncoder().u32(4, 1500).finish());
   * attrs.next();
   * console.log(attrs.u32()); // 1500
   * ```
   */
  u32(): number {
    return this.#view.getUint32(this.#fixed("u32", 4), HOST_LITTLE_ENDIAN);
  }

  /**
   * The current value as a host-order u64; MalformedMessageError unless it is 8 bytes long.
   *
   * @example
   * ```ts
   * import { AttributeDecoder, AttributeEncoder } from "@netlink/netlink";
   * const attrs = new AttributeDecoder(new AttributeEncoder().u64(1, 5n).finish());
   * attrs.next();
   * console.log(attrs.u64()); // 5n
   * ```
   */
  u64(): bigint {
    return this.#view.getBigUint64(this.#fixed("u64", 8), HOST_LITTLE_ENDIAN);
  }

  /**
   * The current value as an s8; MalformedMessageError unless it is 1 byte long.
   *
   * @example
   * ```ts
   * import { AttributeDecoder, AttributeEncoder } from "@netlink/netlink";
   * const attrs = new AttributeDecoder(new AttributeEncoder().s8(1, -2).finish());
   * attrs.next();
   * console.log(attrs.s8()); // -2
   * ```
   */
  s8(): number {
    return this.#view.getInt8(this.#fixed("s8", 1));
  }

  /**
   * The current value as a host-order s16; MalformedMessageError unless it is 2 bytes long.
   *
   * @example
   * ```ts
   * import { AttributeDecoder, AttributeEncoder } from "@netlink/netlink";
   * const attrs = new AttributeDecoder(new AttributeEncoder().s16(1, -2).finish());
   * attrs.next();
   * console.log(attrs.s16()); // -2
   * ```
   */
  s16(): number {
    return this.#view.getInt16(this.#fixed("s16", 2), HOST_LITTLE_ENDIAN);
  }

  /**
   * The current value as a host-order s32; MalformedMessageError unless it is 4 bytes long.
   *
   * @example
   * ```ts
   * import { AttributeDecoder, AttributeEncoder } from "@netlink/netlink";
   * const attrs = new AttributeDecoder(new AttributeEncoder().s32(1, -2).finish());
   * attrs.next();
   * console.log(attrs.s32()); // -2
   * ```
   */
  s32(): number {
    return this.#view.getInt32(this.#fixed("s32", 4), HOST_LITTLE_ENDIAN);
  }

  /**
   * The current value as a host-order s64; MalformedMessageError unless it is 8 bytes long.
   *
   * @example
   * ```ts
   * import { AttributeDecoder, AttributeEncoder } from "@netlink/netlink";
   * const attrs = new AttributeDecoder(new AttributeEncoder().s64(1, -2n).finish());
   * attrs.next();
   * console.log(attrs.s64()); // -2n
   * ```
   */
  s64(): bigint {
    return this.#view.getBigInt64(this.#fixed("s64", 8), HOST_LITTLE_ENDIAN);
  }

  /**
   * The current value as a network-order u16; MalformedMessageError unless it is 2 bytes long.
   *
   * @example
   * ```ts
   * import { AttributeDecoder, AttributeEncoder } from "@netlink/netlink";
   * const attrs = new AttributeDecoder(new AttributeEncoder().u16be(1, 443).finish());
   * attrs.next();
   * console.log(attrs.u16be()); // 443
   * ```
   */
  u16be(): number {
    return this.#view.getUint16(this.#fixed("u16be", 2), false);
  }

  /**
   * The current value as a network-order u32; MalformedMessageError unless it is 4 bytes long.
   *
   * @example
   * ```ts
   * import { AttributeDecoder, AttributeEncoder } from "@netlink/netlink";
   * const attrs = new AttributeDecoder(new AttributeEncoder().u32be(1, 0x7f000001).finish());
   * attrs.next();
   * console.log(attrs.u32be().toString(16)); // "7f000001"
   * ```
   */
  u32be(): number {
    return this.#view.getUint32(this.#fixed("u32be", 4), false);
  }

  /**
   * The current value as a network-order u64; MalformedMessageError unless it is 8 bytes long.
   *
   * @example
   * ```ts
   * import { AttributeDecoder, AttributeEncoder } from "@netlink/netlink";
   * const attrs = new AttributeDecoder(new AttributeEncoder().u64be(1, 1n).finish());
   * attrs.next();
   * console.log(attrs.u64be()); // 1n
   * ```
   */
  u64be(): bigint {
    return this.#view.getBigUint64(this.#fixed("u64be", 8), false);
  }

  /**
   * The current value as UTF-8 text, up to its first NUL (so the terminator is dropped, and a
   * value without one is taken whole).
   *
   * @example
   * ```ts
   * import { AttributeDecoder, AttributeEncoder } from "@netlink/netlink";
   * const attrs = new AttributeDecoder(new AttributeEncoder().string(3, "eth0").finish());
   * attrs.next();
   * console.log(attrs.string()); // "eth0"
   * ```
   */
  string(): string {
    this.#current();
    return decodeString(this.#bytes, this.#valueStart, this.#valueStart + this.#valueLength);
  }

  /**
   * The current value, as a view into the decoded buffer (not a copy).
   *
   * @example
   * ```ts
   * import { AttributeDecoder, AttributeEncoder } from "@netlink/netlink";
   * const attrs = new AttributeDecoder(new AttributeEncoder().bytes(1, Uint8Array.of(9)).finish());
   * attrs.next();
   * console.log(attrs.bytes()); // Uint8Array(1) [ 9 ]
   * ```
   */
  bytes(): Uint8Array {
    this.#current();
    return this.#bytes.subarray(this.#valueStart, this.#valueStart + this.#valueLength);
  }

  /**
   * A decoder over the attributes nested in the current value. Works whether or not the kernel
   * set NLA_F_NESTED; offsets in its errors still count from this decoder's buffer.
   *
   * @example
   * ```ts
   * import { AttributeDecoder, AttributeEncoder } from "@netlink/netlink";
   * const bytes = new AttributeEncoder().nested(18, (info) => info.string(1, "veth")).finish();
   * const attrs = new AttributeDecoder(bytes);
   * attrs.next();
   * const info = attrs.nestedDecoder();
   * info.next();
   * console.log(info.string()); // "veth"
   * ```
   */
  nestedDecoder(): AttributeDecoder {
    this.#current();
    return new AttributeDecoder(
      this.#bytes,
      this.#valueStart,
      this.#valueStart + this.#valueLength,
    );
  }
}

/**
 * One decoded attribute: its type, flags and value (a view into the decoded buffer), with the
 * same typed getters as {@linkcode AttributeDecoder}. Also an {@linkcode AttributeInit}, so it
 * re-encodes as it was.
 *
 * @example
 * ```ts
 * import { Attribute } from "@netlink/netlink";
 * const attr = new Attribute(4, Uint8Array.of(0xdc, 0x05, 0, 0));
 * console.log(attr.u32()); // 1500 on a little-endian host
 * ```
 */
export class Attribute implements AttributeInit {
  /** Attribute type, without flag bits. */
  readonly type: number;
  /** The value, without header or padding. */
  readonly value: Uint8Array;
  /** NLA_F_NESTED was set. */
  readonly nested: boolean;
  /** NLA_F_NET_BYTEORDER was set. */
  readonly netByteOrder: boolean;
  #view?: DataView;

  /**
   * Makes an attribute from its parts; {@linkcode decodeAttributes} makes them from bytes.
   *
   * @param type Attribute type, 0 to NLA_TYPE_MASK.
   * @param value The value (not copied).
   * @param flags Which of NLA_F_NESTED and NLA_F_NET_BYTEORDER are set.
   */
  constructor(
    type: number,
    value: Uint8Array,
    flags: { readonly nested?: boolean; readonly netByteOrder?: boolean } = {},
  ) {
    this.type = checkType(type);
    if (!(value instanceof Uint8Array)) {
      throw new TypeError(`attribute ${type}: value must be a Uint8Array, got ${typeof value}`);
    }
    this.value = value;
    this.nested = flags.nested === true;
    this.netByteOrder = flags.netByteOrder === true;
  }

  #fixed(kind: string, size: number): DataView {
    if (this.value.byteLength !== size) {
      throw wrongLength(this.type, kind, size, this.value.byteLength, 0);
    }
    return this.#view ??= new DataView(this.value.buffer, this.value.byteOffset, size);
  }

  /**
   * The value as a u8.
   *
   * @example
   * ```ts
   * import { Attribute } from "@netlink/netlink";
   * console.log(new Attribute(1, Uint8Array.of(7)).u8()); // 7
   * ```
   */
  u8(): number {
    return this.#fixed("u8", 1).getUint8(0);
  }

  /**
   * The value as a host-order u16.
   *
   * @example
   * ```ts
   * import { Attribute } from "@netlink/netlink";
   * console.log(new Attribute(1, new Uint8Array(2)).u16()); // 0
   * ```
   */
  u16(): number {
    return this.#fixed("u16", 2).getUint16(0, HOST_LITTLE_ENDIAN);
  }

  /**
   * The value as a host-order u32.
   *
   * @example
   * ```ts
   * import { Attribute } from "@netlink/netlink";
   * console.log(new Attribute(1, new Uint8Array(4)).u32()); // 0
   * ```
   */
  u32(): number {
    return this.#fixed("u32", 4).getUint32(0, HOST_LITTLE_ENDIAN);
  }

  /**
   * The value as a host-order u64.
   *
   * @example
   * ```ts
   * import { Attribute } from "@netlink/netlink";
   * console.log(new Attribute(1, new Uint8Array(8)).u64()); // 0n
   * ```
   */
  u64(): bigint {
    return this.#fixed("u64", 8).getBigUint64(0, HOST_LITTLE_ENDIAN);
  }

  /**
   * The value as an s8.
   *
   * @example
   * ```ts
   * import { Attribute } from "@netlink/netlink";
   * console.log(new Attribute(1, Uint8Array.of(255)).s8()); // -1
   * ```
   */
  s8(): number {
    return this.#fixed("s8", 1).getInt8(0);
  }

  /**
   * The value as a host-order s16.
   *
   * @example
   * ```ts
   * import { Attribute } from "@netlink/netlink";
   * console.log(new Attribute(1, Uint8Array.of(255, 255)).s16()); // -1
   * ```
   */
  s16(): number {
    return this.#fixed("s16", 2).getInt16(0, HOST_LITTLE_ENDIAN);
  }

  /**
   * The value as a host-order s32.
   *
   * @example
   * ```ts
   * import { Attribute } from "@netlink/netlink";
   * console.log(new Attribute(1, new Uint8Array(4).fill(255)).s32()); // -1
   * ```
   */
  s32(): number {
    return this.#fixed("s32", 4).getInt32(0, HOST_LITTLE_ENDIAN);
  }

  /**
   * The value as a host-order s64.
   *
   * @example
   * ```ts
   * import { Attribute } from "@netlink/netlink";
   * console.log(new Attribute(1, new Uint8Array(8).fill(255)).s64()); // -1n
   * ```
   */
  s64(): bigint {
    return this.#fixed("s64", 8).getBigInt64(0, HOST_LITTLE_ENDIAN);
  }

  /**
   * The value as a network-order u16.
   *
   * @example
   * ```ts
   * import { Attribute } from "@netlink/netlink";
   * console.log(new Attribute(1, Uint8Array.of(1, 187)).u16be()); // 443
   * ```
   */
  u16be(): number {
    return this.#fixed("u16be", 2).getUint16(0, false);
  }

  /**
   * The value as a network-order u32.
   *
   * @example
   * ```ts
   * import { Attribute } from "@netlink/netlink";
   * console.log(new Attribute(1, Uint8Array.of(127, 0, 0, 1)).u32be()); // 2130706433
   * ```
   */
  u32be(): number {
    return this.#fixed("u32be", 4).getUint32(0, false);
  }

  /**
   * The value as a network-order u64.
   *
   * @example
   * ```ts
   * import { Attribute } from "@netlink/netlink";
   * console.log(new Attribute(1, Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1)).u64be()); // 1n
   * ```
   */
  u64be(): bigint {
    return this.#fixed("u64be", 8).getBigUint64(0, false);
  }

  /**
   * The value as UTF-8 text, up to its first NUL.
   *
   * @example
   * ```ts
   * import { Attribute } from "@netlink/netlink";
   * console.log(new Attribute(3, new TextEncoder().encode("lo\0")).string()); // "lo"
   * ```
   */
  string(): string {
    return decodeString(this.value, 0, this.value.byteLength);
  }

  /**
   * The value (the same view as {@linkcode Attribute.value}).
   *
   * @example
   * ```ts
   * import { Attribute } from "@netlink/netlink";
   * console.log(new Attribute(1, Uint8Array.of(1, 2)).bytes().length); // 2
   * ```
   */
  bytes(): Uint8Array {
    return this.value;
  }

  /**
   * A decoder over the attributes nested in the value; offsets in its errors count from the
   * start of the value.
   *
   * @example
   * ```ts
   * import { Attribute } from "@netlink/netlink";
   * const inner = Uint8Array.of(5, 0, 1, 0, 42, 0, 0, 0); // one u8 attribute, type 1
   * const nest = new Attribute(18, inner, { nested: true }).nestedDecoder();
   * nest.next();
   * console.log(nest.type, nest.u8()); // 1 42
   * ```
   */
  nestedDecoder(): AttributeDecoder {
    return new AttributeDecoder(this.value);
  }
}

/**
 * Decodes a run of attributes into {@linkcode Attribute} records whose values are views into
 * `bytes`. Unknown types are kept, so encoding the result with {@linkcode encodeAttributes}
 * reproduces well-formed input byte for byte. Malformed input throws MalformedMessageError.
 *
 * @example
 * ```ts
 * import { AttributeEncoder, decodeAttributes } from "@netlink/netlink";
 * const bytes = new AttributeEncoder().string(3, "lo").u32(4, 65536).finish();
 * for (const attr of decodeAttributes(bytes)) console.log(attr.type, attr.value.length);
 * ```
 */
export function decodeAttributes(bytes: Uint8Array): Attribute[] {
  const attributes: Attribute[] = [];
  const decoder = new AttributeDecoder(bytes);
  while (decoder.next()) {
    attributes.push(
      new Attribute(decoder.type, decoder.bytes(), {
        nested: decoder.nested,
        netByteOrder: decoder.netByteOrder,
      }),
    );
  }
  return attributes;
}
