/**
 * Decodes C structs member by member from a table of their layout (generated from the headers
 * by scripts/gen_constants.ts), so a struct the kernel made shorter or longer than these headers
 * decodes as far as both agree.
 *
 * @module
 */

import { HOST_LITTLE_ENDIAN } from "../_endian.ts";
import { MalformedMessageError } from "../errors.ts";

/** One member: a whole-byte integer (or array of them), or a bit-field. */
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
  };

/** A struct's size and members, in the order the header declares them. */
export interface StructLayout {
  readonly struct: string;
  readonly size: number;
  readonly fields: readonly StructField[];
}

function integer(view: DataView, at: number, size: number, signed: boolean): number | bigint {
  switch (size) {
    case 1:
      return signed ? view.getInt8(at) : view.getUint8(at);
    case 2:
      return signed
        ? view.getInt16(at, HOST_LITTLE_ENDIAN)
        : view.getUint16(at, HOST_LITTLE_ENDIAN);
    case 4:
      return signed
        ? view.getInt32(at, HOST_LITTLE_ENDIAN)
        : view.getUint32(at, HOST_LITTLE_ENDIAN);
    case 8:
      return signed
        ? view.getBigInt64(at, HOST_LITTLE_ENDIAN)
        : view.getBigUint64(at, HOST_LITTLE_ENDIAN);
  }
  throw new Error(`no ${size}-byte integers`);
}

/**
 * The members of `layout` that lie wholly within `bytes`, as an object keyed by member name:
 * members past a shorter struct's end are absent, bytes past the layout's end are ignored.
 */
export function decodeStruct<T>(layout: StructLayout, bytes: Uint8Array): T {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Record<string, unknown> = {};
  for (const field of layout.fields) {
    if ("bit" in field) {
      const last = (field.bit + field.bits - 1) >> 3;
      if (last >= bytes.length) continue;
      let value = 0;
      for (let i = 0; i < field.bits; i++) {
        const bit = field.bit + i;
        value |= ((bytes[bit >> 3] >> (bit & 7)) & 1) << i;
      }
      out[field.name] = value;
      continue;
    }
    const count = field.count ?? 1;
    if (field.offset + field.size * count > bytes.length) continue;
    if (field.count === undefined) {
      out[field.name] = integer(view, field.offset, field.size, field.signed ?? false);
    } else if (field.size === 1 && !field.signed) {
      out[field.name] = bytes.slice(field.offset, field.offset + count);
    } else {
      out[field.name] = Array.from(
        { length: count },
        (_, i) => integer(view, field.offset + i * field.size, field.size, field.signed ?? false),
      );
    }
  }
  return out as T;
}

/** A socket cookie (`__u32 cookie[2]`, low word first) as one number. */
export function readCookie(view: DataView, at: number): bigint {
  return (BigInt(view.getUint32(at + 4, HOST_LITTLE_ENDIAN)) << 32n)
    | BigInt(view.getUint32(at, HOST_LITTLE_ENDIAN));
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
  if (payload.length < size) {
    throw new MalformedMessageError(`${struct} needs ${size} bytes, got ${payload.length}`, 0);
  }
}
