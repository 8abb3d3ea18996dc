/**
 * Decodes C structs member by member from a table of their layout (generated from the headers
 * by scripts/gen_constants.ts), so a struct the kernel made shorter or longer than these headers
 * decodes as far as both agree.
 *
 * @module
 */

import { HOST_LITTLE_ENDIAN } from "../_endian.ts";
import { checkBytes } from "../_options.ts";
import { MalformedMessageError } from "../errors.ts";

/**
 * One member: a whole-byte integer (or array of them), a bit-field, or a u64 the header splits
 * into two u32 words (tcp_bbr_info's bbr_bw_lo and bbr_bw_hi) read as one number.
 */
export type StructField =
  | {
    readonly name: string;
    readonly offset: number;
    readonly size: number;
    readonly signed?: boolean;
    /** Arrays: the element count (`size` is the element's). */
    readonly count?: number;
  }
  | {
    readonly name: string;
    /** First bit, counting from bit 0 of byte 0 (bit-fields are allocated from the low bits). */
    readonly bit: number;
    readonly bits: number;
  }
  | {
    readonly name: string;
    /** Offsets of the low and the high u32 word. */
    readonly low: number;
    readonly high: number;
  };

/** A struct's size and members, in the order the header declares them. */
export interface StructLayout {
  readonly struct: string;
  readonly size: number;
  readonly fields: readonly StructField[];
}

type Reader = (view: DataView, bytes: Uint8Array) => unknown;

function integerReader(at: number, size: number, signed: boolean): Reader {
  const le = HOST_LITTLE_ENDIAN;
  switch (size) {
    case 1:
      return signed ? (v) => v.getInt8(at) : (v) => v.getUint8(at);
    case 2:
      return signed ? (v) => v.getInt16(at, le) : (v) => v.getUint16(at, le);
    case 4:
      return signed ? (v) => v.getInt32(at, le) : (v) => v.getUint32(at, le);
    case 8:
      // As numbers, exact up to 2^53, as every value of the diag layer (JSON.stringify takes them).
      return signed
        ? (v) => Number(v.getBigInt64(at, le))
        : (v) => v.getUint32(at + (le ? 4 : 0), le) * 2 ** 32 + v.getUint32(at + (le ? 0 : 4), le);
  }
  throw new Error(`no ${size}-byte integers`);
}

/** One member's name, the end of the bytes it needs, and how to read it. */
interface Member {
  readonly name: string;
  readonly end: number;
  readonly read: Reader;
}

function member(field: StructField): Member {
  if ("low" in field) {
    const { low, high } = field;
    return {
      name: field.name,
      end: Math.max(low, high) + 4,
      read: (view) =>
        view.getUint32(high, HOST_LITTLE_ENDIAN) * 2 ** 32
        + view.getUint32(low, HOST_LITTLE_ENDIAN),
    };
  }
  if ("bit" in field) {
    const { bit: first, bits } = field;
    return {
      name: field.name,
      end: ((first + bits - 1) >> 3) + 1,
      read: (_, bytes) => {
        let value = 0;
        for (let i = 0; i < bits; i++) {
          const bit = first + i;
          value |= ((bytes[bit >> 3] >> (bit & 7)) & 1) << i;
        }
        return value;
      },
    };
  }
  const { offset, size, count } = field;
  const signed = field.signed ?? false;
  if (count === undefined) {
    return { name: field.name, end: offset + size, read: integerReader(offset, size, signed) };
  }
  const end = offset + size * count;
  if (size === 1 && !signed) {
    return { name: field.name, end, read: (_, bytes) => bytes.slice(offset, end) };
  }
  const elements = Array.from(
    { length: count },
    (_, i) => integerReader(offset + i * size, size, signed),
  );
  return {
    name: field.name,
    end,
    read: (view, bytes) => elements.map((read) => read(view, bytes)),
  };
}

/** Each layout's members, turned into readers once (a dump decodes thousands of structs). */
const compiled = new WeakMap<StructLayout, readonly Member[]>();

/**
 * The members of `layout` that lie wholly within `bytes`, as an object keyed by member name:
 * members past a shorter struct's end are absent, bytes past the layout's end are ignored.
 */
export function decodeStruct<T>(layout: StructLayout, bytes: Uint8Array): T {
  let members = compiled.get(layout);
  if (members === undefined) {
    members = layout.fields.map(member);
    compiled.set(layout, members);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Record<string, unknown> = {};
  for (const { name, end, read } of members) {
    if (end <= bytes.length) out[name] = read(view, bytes);
  }
  return out as T;
}

/**
 * A socket cookie (`__u32 cookie[2]`, low word first) as one number: exact up to 2^53, which
 * the kernel's cookies (counted up from 1 as sockets ask for one) do not reach.
 */
export function readCookie(view: DataView, at: number): number {
  return view.getUint32(at + 4, HOST_LITTLE_ENDIAN) * 2 ** 32
    + view.getUint32(at, HOST_LITTLE_ENDIAN);
}

/** Each whole struct in an array of them (PACKET_DIAG_MCLIST, PACKET_DIAG_FILTER...). */
export function decodeStructs<T>(layout: StructLayout, bytes: Uint8Array): T[] {
  const out: T[] = [];
  for (let at = 0; at + layout.size <= bytes.length; at += layout.size) {
    out.push(decodeStruct(layout, bytes.subarray(at, at + layout.size)));
  }
  return out;
}

/** Throws MalformedMessageError unless a reply is long enough for its fixed header. */
export function checkLength(payload: Uint8Array, size: number, struct: string): void {
  checkBytes(`${struct}: the payload`, payload);
  if (payload.length < size) {
    throw new MalformedMessageError(`${struct} needs ${size} bytes, got ${payload.length}`, 0);
  }
}
