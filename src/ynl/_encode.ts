/**
 * Encoding: a request object checked against its descriptor and written with the core
 * AttributeEncoder. Interpreted from the compiled tables rather than generated as decoding is:
 * a request is encoded once per call, where a dump decodes thousands of replies, and every value
 * here is checked (type, range, the spec's checks, unknown keys) before any byte is sent.
 *
 * @module
 */

import { TYPE_MAX, VALUE_MAX } from "../_attribute_limits.ts";
import { HOST_LITTLE_ENDIAN } from "../_endian.ts";
import { checkInherited, checkWellFormed } from "../_options.ts";
import { quoted } from "../_printable.ts";
import { suggestion } from "../_suggest.ts";
import { AttributeEncoder } from "../attribute.ts";
import { encodeGeneric } from "../genl.ts";
import {
  BINARY,
  BITFIELD32,
  type Codec,
  type CompiledAttribute,
  type CompiledEnum,
  type CompiledSet,
  type CompiledStruct,
  enumName,
  findSelector,
  FLAG,
  INDEXED_ARRAY,
  NEST,
  NEST_TYPE_VALUE,
  nestedSet,
  PAD,
  S16,
  S32,
  S64,
  S8,
  type Scope,
  SINT,
  SIZES,
  STRING,
  SUB_MESSAGE,
  U16,
  U32,
  U64,
  U8,
  UINT,
} from "./_compile.ts";
import type { AttributeOptions, DisplayHint, OperationDescriptor } from "./_descriptor.ts";
import { type KeptTail, structTail, unknownAttributes } from "./_descriptor.ts";
import { hintedBytes, ipv4Number, textHint } from "./_hints.ts";

const textEncoder = new TextEncoder();

/** A struct's member names, pads left out. */
function memberKeys(struct: CompiledStruct): string[] {
  return struct.members.filter((member) => member.code !== PAD).map((member) => member.key);
}

/** Integer ranges by code, for encode checks. */
const RANGES: readonly (readonly [bigint, bigint])[] = [
  [0n, 0n],
  [0n, 0xffn],
  [0n, 0xffffn],
  [0n, 0xffff_ffffn],
  [0n, 0xffff_ffff_ffff_ffffn],
  [-0x80n, 0x7fn],
  [-0x8000n, 0x7fffn],
  [-0x8000_0000n, 0x7fff_ffffn],
  [-0x8000_0000_0000_0000n, 0x7fff_ffff_ffff_ffffn],
  [0n, 0xffff_ffff_ffff_ffffn],
  [-0x8000_0000_0000_0000n, 0x7fff_ffff_ffff_ffffn],
];

/**
 * An attribute's name in errors: its path in the request's property names (`linkinfo.data.ttl`),
 * as a FamilyError's `attribute` names one the kernel points at.
 */
function where(attribute: CompiledAttribute, scope: EncodeScope): string {
  return scope.path === "" ? attribute.key : `${scope.path}.${attribute.key}`;
}

function enumValue(
  enumeration: CompiledEnum | undefined,
  value: unknown,
  what: string,
): unknown {
  if (enumeration === undefined) return value;
  if (Array.isArray(value) && enumeration.names === undefined) {
    // A list of flag names: their bits together.
    let mask = 0n;
    // A loop, not forEach(): a hole is an undefined name, refused, not skipped.
    for (let i = 0; i < value.length; i++) {
      const name: unknown = value[i];
      if (typeof name !== "string") {
        throw new TypeError(`${what}[${i}]: expected a flag name, got ${describe(name)}`);
      }
      mask |= BigInt(enumValue(enumeration, name, what) as number);
    }
    return Number(mask);
  }
  if (typeof value !== "string") return value;
  if (!Object.hasOwn(enumeration.values, value)) {
    throw new TypeError(
      `${what}: ${quoted(value)} is not one of ${Object.keys(enumeration.values).join(", ")}${
        suggestion(value, Object.keys(enumeration.values))
      }`,
    );
  }
  return enumeration.values[value];
}

/** The kinds whose values are bigints when decoded: a bigint encodes them, not the others. */
const WIDE = new Set([U64, S64, UINT, SINT]);

/**
 * Checks `value` is an integer of kind `code` (and passes `checks`); returns it as a bigint.
 * A bigint only for the 64-bit kinds: a u32 is a number, as it decodes (and as typed).
 */
function checkInteger(
  value: unknown,
  code: number,
  what: string,
  checks: AttributeOptions["checks"],
): bigint {
  let big: bigint;
  if (typeof value === "bigint" && WIDE.has(code)) big = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) big = BigInt(value);
  else if (typeof value === "bigint") {
    throw new TypeError(`${what}: expected a number (not a bigint), got ${describe(value)}`);
  } else if (WIDE.has(code) && Number.isInteger(value)) {
    // Past 2^53 a number is no longer the integer written: a bigint holds it exactly.
    throw new TypeError(`${what}: ${value} is past Number.MAX_SAFE_INTEGER: give it as a bigint`);
  } else throw new TypeError(`${what}: expected an integer, got ${describe(value)}`);
  const [min, max] = RANGES[code];
  if (big < min || big > max) {
    throw new RangeError(`${what}: ${big} is out of range ${min}..${max}`);
  }
  if (checks !== undefined) {
    if (checks.min !== undefined && big < BigInt(checks.min)) {
      throw new RangeError(`${what}: ${big} is below the minimum ${checks.min}`);
    }
    if (checks.max !== undefined && big > BigInt(checks.max)) {
      throw new RangeError(`${what}: ${big} is above the maximum ${checks.max}`);
    }
    if (checks.mask !== undefined && (big & ~BigInt(checks.mask)) !== 0n) {
      throw new RangeError(`${what}: ${big} sets bits outside the mask ${checks.mask}`);
    }
  }
  return big;
}

function checkLength(length: number, what: string, checks: AttributeOptions["checks"]): void {
  if (checks === undefined) return;
  if (checks.exactLen !== undefined && length !== checks.exactLen) {
    throw new RangeError(`${what}: must be exactly ${checks.exactLen} bytes, got ${length}`);
  }
  if (checks.minLen !== undefined && length < checks.minLen) {
    throw new RangeError(`${what}: must be at least ${checks.minLen} bytes, got ${length}`);
  }
  if (checks.maxLen !== undefined && length > checks.maxLen) {
    throw new RangeError(`${what}: must be at most ${checks.maxLen} bytes, got ${length}`);
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value instanceof Uint8Array) return "a Uint8Array";
  if (Array.isArray(value)) return "an array";
  const tag = objectTag(value);
  if (tag !== undefined && tag !== "Object") return `a ${tag}`;
  return typeof value === "string"
    ? quoted(value)
    : typeof value === "bigint"
    ? `${value}n`
    : typeof value === "number"
    ? String(value)
    : typeof value;
}

function writeInteger(
  view: DataView,
  at: number,
  code: number,
  bigEndian: boolean,
  value: bigint,
): void {
  const little = !bigEndian && HOST_LITTLE_ENDIAN;
  switch (code) {
    case U8:
      return view.setUint8(at, Number(value));
    case U16:
      return view.setUint16(at, Number(value), little);
    case U32:
      return view.setUint32(at, Number(value), little);
    case U64:
      return view.setBigUint64(at, value, little);
    case S8:
      return view.setInt8(at, Number(value));
    case S16:
      return view.setInt16(at, Number(value), little);
    case S32:
      return view.setInt32(at, Number(value), little);
    default:
      return view.setBigInt64(at, value, little);
  }
}

/** Encodes struct `struct` from `value` (absent members are zero) into `bytes[start...]`. */
export function encodeStruct(
  struct: CompiledStruct,
  value: Record<string, unknown>,
  bytes: Uint8Array,
  start: number,
): void {
  // Every member is read, own or not: one Object.prototype has (polluted) would be written.
  for (const _ in Object.prototype) {
    checkInherited(`struct ${struct.name}`, memberKeys(struct));
    break;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const member of struct.members) {
    if (member.code === PAD) continue;
    const field = value[member.key];
    if (field === undefined) continue;
    const what = `${struct.name}.${member.key}`;
    const at = start + member.offset;
    switch (member.code) {
      case STRING: {
        const encoded = cString(field, what);
        if (encoded.byteLength > member.size) {
          throw new RangeError(
            `${what}: at most ${member.size - 1} bytes fit, got ${encoded.byteLength - 1}`,
          );
        }
        bytes.set(encoded, at);
        break;
      }
      case BINARY:
        if (member.struct !== undefined) {
          checkMembers(member.struct, field, what);
          encodeStruct(member.struct, field as Record<string, unknown>, bytes, at);
        } else {
          const given = textHint(member.hint) && typeof field === "string"
            ? hintedBytes(member.hint!, field, what)
            : field;
          if (!(given instanceof Uint8Array)) {
            throw new TypeError(
              `${what}: expected ${expected(member.hint)}, got ${describe(field)}`,
            );
          }
          if (given.byteLength > member.size) {
            throw new RangeError(
              `${what}: at most ${member.size} bytes fit, got ${given.byteLength}`,
            );
          }
          bytes.set(given, at);
        }
        break;
      default: {
        const number = checkInteger(
          member.hint === "ipv4" && typeof field === "string"
            ? ipv4Number(field, what)
            : enumValue(member.enumeration, field, what),
          member.code,
          what,
          undefined,
        );
        writeInteger(view, at, member.code, member.bigEndian, number);
      }
    }
  }
}

/** A nest-type-value level's range: an attribute type's, NLA_TYPE_MASK. */
const LEVEL_CHECKS = { max: TYPE_MAX } as const;

/**
 * `value` as a C string: its UTF-8 and the NUL that ends it, encoded once for both the size
 * checks and the writing (TypeError, RangeError naming `what`).
 */
function cString(value: unknown, what: string): Uint8Array {
  if (typeof value !== "string") {
    throw new TypeError(`${what}: expected a string, got ${describe(value)}`);
  }
  if (value.includes("\0")) {
    throw new RangeError(`${what}: a string cannot hold NUL (it ends C strings)`);
  }
  checkWellFormed(value, what);
  return textEncoder.encode(`${value}\0`);
}

/** `value`'s bytes as a C string: as they are, and the NUL that ends them (RangeError naming `what`). */
function cBytes(value: Uint8Array, what: string): Uint8Array {
  if (value.includes(0)) {
    throw new RangeError(`${what}: a string cannot hold NUL (it ends C strings)`);
  }
  const encoded = new Uint8Array(value.byteLength + 1);
  encoded.set(value);
  return encoded;
}

/** An object's built-in tag ("Object", "Map", "Promise", "Uint8Array"...); else undefined. */
function objectTag(value: unknown): string | undefined {
  return typeof value === "object" && value !== null
    ? Object.prototype.toString.call(value).slice(8, -1)
    : undefined;
}

/**
 * Throws unless `value` is an object of properties: a Map, a Promise (a request not awaited), a
 * Date or bytes would encode as nothing, their contents not being own properties.
 */
function checkObject(value: unknown, what: string): void {
  if (objectTag(value) !== "Object") {
    throw new TypeError(`${what}: expected an object, got ${describe(value)}`);
  }
}

/** Throws unless `value` is an object whose every key is a member of `struct`. */
function checkMembers(struct: CompiledStruct, value: unknown, what: string): void {
  checkObject(value, what);
  for (const key of Object.keys(value as Record<string, unknown>)) {
    if (!struct.members.some((member) => member.key === key && member.code !== PAD)) {
      throw new TypeError(
        `${what}: struct ${struct.name} has no member ${quoted(key)}${
          suggestion(key, memberKeys(struct))
        }`,
      );
    }
  }
}

/** A struct attribute's value: its members, then its {@linkcode structTail} as it came. */
function structBytes(struct: CompiledStruct, value: unknown, what: string): Uint8Array {
  checkMembers(struct, value, what);
  const tail = (value as KeptTail)[structTail];
  if (tail !== undefined && !(tail instanceof Uint8Array)) {
    throw new TypeError(`${what}: [structTail] must be a Uint8Array, got ${describe(tail)}`);
  }
  const bytes = new Uint8Array(struct.size + (tail?.byteLength ?? 0));
  encodeStruct(struct, value as Record<string, unknown>, bytes, 0);
  if (tail !== undefined) bytes.set(tail, struct.size);
  return bytes;
}

/**
 * The most levels of nests (and sub-messages) a request may have: real ones have a few, the
 * kernel validates at most 10 levels of nested policies (MAX_POLICY_RECURSION_DEPTH), and
 * encoding recurses once per level (a request nested 40,000 levels deep overflowed the stack).
 */
const MAX_NEST_DEPTH = 64;

/** A scope while encoding: with the objects of the nests it is in, to find a cycle at once. */
interface EncodeScope extends Scope {
  readonly parent: EncodeScope | undefined;
  /**
   * The objects of this scope and of those it is in (the request's own included), shared by the
   * whole request: its size is the depth, and a cycle is a lookup rather than a walk up the
   * parents at every nested set.
   */
  readonly ancestors: Set<object>;
  /** The request's path to this scope's object: "" for the request, `linkinfo.data`... */
  readonly path: string;
}

/**
 * Encodes the attributes of `value` with `set`, skipping `skip` (a fixed header's members).
 * Unknown keys are an error; kept unknown attributes are written back as they were.
 */
export function encodeAttributes(
  codec: Codec,
  set: CompiledSet,
  value: Record<string, unknown>,
  encoder: AttributeEncoder,
  skip?: CompiledStruct,
  parent?: EncodeScope,
  path = "",
): void {
  checkObject(value, path === "" ? set.name : path);
  const ancestors = parent?.ancestors ?? new Set<object>();
  if (ancestors.has(value)) {
    throw new TypeError(
      `attribute set ${set.name}: the request contains itself (a cycle through its nests): `
        + "build it as a tree, with a new object where the same contents appear again",
    );
  }
  if (ancestors.size > MAX_NEST_DEPTH) {
    throw new RangeError(
      `attribute set ${set.name}: the request nests more than ${MAX_NEST_DEPTH} levels deep`,
    );
  }
  // Out of the set again once its attributes are written (an error ends the whole request).
  ancestors.add(value);
  const scope: EncodeScope = { values: value, set, parent, ancestors, path };
  for (const key of Object.keys(value)) {
    const field = value[key];
    if (field === undefined) continue;
    const attribute = set.byKey.get(key);
    if (attribute === undefined) {
      if (skip?.members.some((member) => member.key === key && member.code !== PAD)) continue;
      throw new TypeError(
        `attribute set ${set.name} has no attribute ${quoted(key)}${
          suggestion(key, [...set.byKey.keys(), ...(skip ? memberKeys(skip) : [])])
        }`,
      );
    }
    if (attribute.multi) {
      if (!Array.isArray(field)) {
        throw new TypeError(
          `${where(attribute, scope)}: multi-attr value must be an array, got ${describe(field)}`,
        );
      }
      for (const element of field) {
        // A multi-attr nest-type-value's array lists entries: one attribute each, as the
        // kernel sends ethtool's stats counters.
        const value = attribute.code === NEST_TYPE_VALUE ? [element] : element;
        encodeValue(codec, attribute, attribute.type, value, scope, encoder);
      }
    } else {
      encodeValue(codec, attribute, attribute.type, field, scope, encoder);
    }
  }
  const unknown = (value as Record<symbol, unknown>)[unknownAttributes];
  if (Array.isArray(unknown)) { for (const attribute of unknown) encoder.attribute(attribute); }
  ancestors.delete(value);
}

function encodeValue(
  codec: Codec,
  attribute: CompiledAttribute,
  type: number,
  value: unknown,
  scope: EncodeScope,
  encoder: AttributeEncoder,
  what = where(attribute, scope),
): void {
  const code = attribute.code;
  const checks = attribute.options.checks;
  switch (code) {
    case FLAG:
      if (typeof value !== "boolean") {
        throw new TypeError(`${what}: flag value must be a boolean, got ${describe(value)}`);
      }
      if (value) encoder.flag(type);
      return;
    case U8:
    case U16:
    case U32:
    case U64:
    case S8:
    case S16:
    case S32:
    case S64: {
      const number = checkInteger(
        attribute.options.hint === "ipv4" && typeof value === "string"
          ? ipv4Number(value, what)
          : enumValue(attribute.enumeration, value, what),
        code,
        what,
        checks,
      );
      if (attribute.bigEndian || code >= S16 && code <= S64) {
        const bytes = new Uint8Array(SIZES[code]);
        writeInteger(new DataView(bytes.buffer), 0, code, attribute.bigEndian, number);
        encoder.bytes(type, bytes);
      } else if (code === U8) encoder.u8(type, Number(number));
      else if (code === U16) encoder.u16(type, Number(number));
      else if (code === U32) encoder.u32(type, Number(number));
      else if (code === U64) encoder.u64(type, number);
      else encoder.s8(type, Number(number));
      return;
    }
    case UINT:
    case SINT: {
      const number = checkInteger(
        enumValue(attribute.enumeration, value, what),
        code,
        what,
        checks,
      );
      const wide = code === UINT
        ? number > 0xffff_ffffn
        : number < -0x8000_0000n || number > 0x7fff_ffffn;
      const sized = code === UINT ? (wide ? U64 : U32) : (wide ? S64 : S32);
      const bytes = new Uint8Array(SIZES[sized]);
      writeInteger(new DataView(bytes.buffer), 0, sized, attribute.bigEndian, number);
      encoder.bytes(type, bytes);
      return;
    }
    case STRING: {
      // Bytes as they are (a link's name that is not UTF-8), else the string's UTF-8.
      const encoded = value instanceof Uint8Array ? cBytes(value, what) : cString(value, what);
      const length = encoded.byteLength - 1;
      checkLength(length, what, checks);
      if (length >= VALUE_MAX) {
        throw new RangeError(
          `${what}: at most ${VALUE_MAX - 1} bytes of UTF-8 fit (nla_len is a u16), got ${length}`,
        );
      }
      encoder.bytes(type, encoded);
      return;
    }
    case BINARY:
      encoder.bytes(type, binaryBytes(attribute, value, what));
      return;
    case NEST:
      checkObject(value, what);
      nestedAt(encoder, type, what, (inner) => {
        encodeAttributes(
          codec,
          nestedSet(codec, attribute),
          value as Record<string, unknown>,
          inner,
          undefined,
          scope,
          what,
        );
      });
      return;
    case INDEXED_ARRAY: {
      if (!Array.isArray(value)) {
        throw new TypeError(`${what}: expected an array, got ${describe(value)}`);
      }
      const element = attribute.element!;
      nestedAt(encoder, type, what, (inner) => {
        // Indexes start at 1: the kernel's parsers skip index 0 (the unspec slot).
        value.forEach((item, index) => {
          if (element.code === NEST) {
            checkObject(item, `${what}[${index}]`);
            nestedAt(inner, index + 1, `${what}[${index}]`, (nest) => {
              encodeAttributes(
                codec,
                nestedSet(codec, element),
                item as Record<string, unknown>,
                nest,
                undefined,
                scope,
                `${what}[${index}]`,
              );
            });
          } else {
            encodeValue(codec, element, index + 1, item, scope, inner, `${what}[${index}]`);
          }
        });
      });
      return;
    }
    case NEST_TYPE_VALUE: {
      if (!Array.isArray(value)) {
        throw new TypeError(`${what}: expected an array, got ${describe(value)}`);
      }
      const names = attribute.options.typeValue!;
      const element = attribute.element;
      nestedAt(encoder, type, what, (inner) => {
        for (const entry of value) {
          checkObject(entry, what);
          const record = entry as Record<string, unknown>;
          const rest = { ...record };
          for (const name of names) delete rest[name];
          if (element !== undefined) {
            const extra = Object.keys(rest).find((key) => key !== "value");
            if (extra !== undefined) {
              throw new TypeError(
                `${what}: an entry has ${names.join(", ")} and value, not ${quoted(extra)}`,
              );
            }
          }
          const level = (nest: AttributeEncoder, depth: number): void => {
            // A level is an attribute type: 14 bits, named here rather than by the encoder.
            const key = checkInteger(
              record[names[depth]],
              U16,
              `${what}.${names[depth]}`,
              LEVEL_CHECKS,
            );
            if (depth + 1 === names.length && element !== undefined) {
              encodeValue(codec, element, Number(key), rest.value, scope, nest);
              return;
            }
            nestedAt(nest, Number(key), what, (deeper) => {
              if (depth + 1 < names.length) level(deeper, depth + 1);
              else {
                encodeAttributes(
                  codec,
                  nestedSet(codec, attribute),
                  rest,
                  deeper,
                  undefined,
                  scope,
                  what,
                );
              }
            });
          };
          level(inner, 0);
        }
      });
      return;
    }
    case SUB_MESSAGE:
      encodeSubMessage(codec, attribute, type, value, scope, encoder);
      return;
    case BITFIELD32: {
      checkObject(value, what);
      for (const key of Object.keys(value as object)) {
        if (key !== "value" && key !== "selector") {
          throw new TypeError(
            `${what}: a bitfield32 has no member ${quoted(key)}${
              suggestion(key, ["value", "selector"])
            }`,
          );
        }
      }
      const { value: bits, selector } = value as { value?: unknown; selector?: unknown };
      const valueBits = Number(checkInteger(bits, U32, `${what}.value`, checks));
      // The kernel holds both to the attribute's valid bits (NLA_BITFIELD32's mask).
      const selectorBits = Number(checkInteger(selector, U32, `${what}.selector`, checks));
      // And refuses a value bit the selector leaves out (validate_nla_bitfield32: EINVAL).
      const unselected = (valueBits & ~selectorBits) >>> 0;
      if (unselected !== 0) {
        throw new RangeError(
          `${what}: value sets bits the selector does not select (0x${unselected.toString(16)}), `
            + "which the kernel refuses: add them to selector, or clear them from value",
        );
      }
      const bytes = new Uint8Array(8);
      const view = new DataView(bytes.buffer);
      view.setUint32(0, valueBits, HOST_LITTLE_ENDIAN);
      view.setUint32(4, selectorBits, HOST_LITTLE_ENDIAN);
      encoder.bytes(type, bytes);
      return;
    }
    default:
      throw new TypeError(
        `${what}: ${attribute.options.subType ?? "this"} attributes cannot be encoded`,
      );
  }
}

function binaryBytes(attribute: CompiledAttribute, value: unknown, what: string): Uint8Array {
  let bytes: Uint8Array;
  if (attribute.struct !== undefined && !(value instanceof Uint8Array)) {
    bytes = structBytes(attribute.struct, value, what);
  } else if (
    attribute.element !== undefined && attribute.element.code <= S64 && Array.isArray(value)
  ) {
    const element = attribute.element;
    const size = SIZES[element.code];
    bytes = new Uint8Array(value.length * size);
    const view = new DataView(bytes.buffer);
    value.forEach((item, index) => {
      const number = checkInteger(item, element.code, `${what}[${index}]`, undefined);
      writeInteger(view, index * size, element.code, element.bigEndian, number);
    });
  } else if (value instanceof Uint8Array) {
    bytes = value;
  } else if (textHint(attribute.options.hint) && typeof value === "string") {
    bytes = hintedBytes(attribute.options.hint!, value, what);
  } else {
    throw new TypeError(
      `${what}: expected ${expected(attribute.options.hint)}, got ${describe(value)}`,
    );
  }
  checkLength(bytes.byteLength, what, attribute.options.checks);
  checkFits(bytes.byteLength, what);
  return bytes;
}

/** What bytes with hint `hint` are given as, for an error message. */
function expected(hint: DisplayHint | undefined): string {
  if (!textHint(hint)) return "a Uint8Array";
  const text = hint === "mac"
    ? "a MAC address (\"aa:bb:cc:dd:ee:ff\")"
    : hint === "uuid"
    ? "a UUID's text"
    : "an IP address (\"192.0.2.1\", \"2001:db8::1\")";
  return `${text} or a Uint8Array`;
}

/**
 * Throws a RangeError named by the request's path for a value of `size` bytes, which no
 * attribute holds; the core encoder would name the attribute's type number.
 */
function checkFits(size: number, what: string): void {
  if (size > VALUE_MAX) {
    throw new RangeError(`${what}: at most ${VALUE_MAX} bytes fit (nla_len is a u16), got ${size}`);
  }
}

/** `encoder.nested()`, with contents too long for it named by the request's path. */
function nestedAt(
  encoder: AttributeEncoder,
  type: number,
  what: string,
  build: (inner: AttributeEncoder) => void,
): void {
  let built = false;
  try {
    encoder.nested(type, (inner) => {
      build(inner);
      built = true;
    });
  } catch (err) {
    // Thrown once the contents were built: the nest's own length check, which names the type.
    if (built && err instanceof RangeError) {
      throw new RangeError(err.message.replace(`attribute ${type}:`, `${what}:`));
    }
    throw err;
  }
}

function encodeSubMessage(
  codec: Codec,
  attribute: CompiledAttribute,
  type: number,
  value: unknown,
  scope: EncodeScope,
  encoder: AttributeEncoder,
): void {
  const what = where(attribute, scope);
  if (value instanceof Uint8Array) {
    checkFits(value.byteLength, what);
    encoder.bytes(type, value);
    return;
  }
  const selectorKey = attribute.options.selector!;
  const found = findSelector(scope, selectorKey);
  let selector = found?.[0];
  if (typeof selector === "number") selector = enumName(found![1]?.enumeration, selector);
  const formats = codec.descriptor.subMessages[attribute.options.subMessage!] ?? {};
  if (typeof selector !== "string" || !Object.hasOwn(formats, selector)) {
    throw new TypeError(
      `${what}: ${selectorKey} ${
        describe(selector)
      } selects no known format (pass the value as a Uint8Array)`,
    );
  }
  checkObject(value, what);
  const record = value as Record<string, unknown>;
  const format = formats[selector];
  const header = format.header === undefined ? undefined : codec.struct(format.header);
  const headerBytes = new Uint8Array(header?.size ?? 0);
  if (header !== undefined) encodeStruct(header, record, headerBytes, 0);
  if (format.set === undefined) {
    for (const key of Object.keys(record)) {
      if (!header?.members.some((member) => member.key === key)) {
        throw new TypeError(
          `${what}: format "${selector}" has no ${quoted(key)}${
            suggestion(key, header ? memberKeys(header) : [])
          }`,
        );
      }
    }
    encoder.bytes(type, headerBytes);
    return;
  }
  const inner = new AttributeEncoder();
  encodeAttributes(codec, codec.set(format.set), record, inner, header, scope, what);
  const attributes = inner.finish();
  const bytes = new Uint8Array(headerBytes.byteLength + attributes.byteLength);
  bytes.set(headerBytes);
  bytes.set(attributes, headerBytes.byteLength);
  checkFits(bytes.byteLength, what);
  encoder.attribute({ type, value: bytes, nested: true });
}

/**
 * Encodes a message payload for operation `op`: (genlmsghdr,) fixed header, attributes.
 * `command` goes into the genlmsghdr of generic netlink families.
 */
export function encodePayload(
  codec: Codec,
  op: OperationDescriptor,
  command: number,
  value: Record<string, unknown>,
): Uint8Array {
  checkObject(value, "message");
  const header = op.header === undefined ? undefined : codec.struct(op.header);
  const encoder = new AttributeEncoder();
  if (op.set !== undefined) {
    encodeAttributes(codec, codec.set(op.set), value, encoder, header);
  } else {
    for (const key of Object.keys(value)) {
      if (!header?.members.some((member) => member.key === key)) {
        throw new TypeError(
          `operation has no attribute set, and no header member ${quoted(key)}${
            suggestion(key, header ? memberKeys(header) : [])
          }`,
        );
      }
    }
  }
  const attributes = encoder.finish();
  const headerSize = header?.size ?? 0;
  const body = new Uint8Array(headerSize + attributes.byteLength);
  if (header !== undefined) encodeStruct(header, value, body, 0);
  body.set(attributes, headerSize);
  // The genlmsghdr is src/genl.ts's to lay out (and check: command and version are u8s).
  return codec.genetlink ? encodeGeneric(command, codec.descriptor.version ?? 1, body) : body;
}
