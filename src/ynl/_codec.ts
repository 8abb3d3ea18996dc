/**
 * The one encoder/decoder for every generated family: a descriptor is compiled once (lazily, set by
 * set) into lookup tables, and messages are walked with the core attribute codec.
 *
 * @module
 */

import { HOST_LITTLE_ENDIAN } from "../_endian.ts";
import { sharedView } from "../_view.ts";
import { Attribute, AttributeDecoder, AttributeEncoder } from "../attribute.ts";
import { GENL_HDRLEN } from "../constants.ts";
import { MalformedMessageError } from "../errors.ts";
import { encodeGeneric } from "../genl.ts";
import type {
  AttributeDescriptor,
  AttributeKind,
  AttributeOptions,
  FamilyDescriptor,
  MemberDescriptor,
  OperationDescriptor,
} from "./_descriptor.ts";
import { unknownAttributes } from "./_descriptor.ts";

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

// Kinds as small integers: the decode loop switches on them.
const U8 = 1, U16 = 2, U32 = 3, U64 = 4, S8 = 5, S16 = 6, S32 = 7, S64 = 8, UINT = 9, SINT = 10;
const FLAG = 11, STRING = 12, BINARY = 13, NEST = 14, INDEXED_ARRAY = 15, NEST_TYPE_VALUE = 16;
const SUB_MESSAGE = 17, BITFIELD32 = 18, PAD = 19, UNUSED = 20;

const KIND_CODES: Record<AttributeKind, number> = {
  u8: U8,
  u16: U16,
  u32: U32,
  u64: U64,
  s8: S8,
  s16: S16,
  s32: S32,
  s64: S64,
  uint: UINT,
  sint: SINT,
  flag: FLAG,
  string: STRING,
  binary: BINARY,
  nest: NEST,
  "indexed-array": INDEXED_ARRAY,
  "nest-type-value": NEST_TYPE_VALUE,
  "sub-message": SUB_MESSAGE,
  bitfield32: BITFIELD32,
  pad: PAD,
  unused: UNUSED,
};

/** Sizes of the fixed-size integer kinds, by code. */
const SIZES: readonly number[] = [0, 1, 2, 4, 8, 1, 2, 4, 8];

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

/** Returned by a value decoder when the value does not have the spec's size. */
const MISFIT: unique symbol = Symbol("misfit");

/** An enum's two directions; `names` is undefined for flag sets and `asFlags` integers. */
interface CompiledEnum {
  readonly names?: ReadonlyMap<number, string>;
  readonly values: { readonly [name: string]: number };
}

/** A struct with its members' offsets. */
export interface CompiledStruct {
  readonly name: string;
  readonly size: number;
  readonly members: readonly CompiledMember[];
  /**
   * An object with every member, to copy: copies of one object share its shape, which makes
   * filling them in much cheaper than adding properties one by one to `{}`.
   */
  readonly template: Record<string, unknown>;
}

interface CompiledMember {
  readonly key: string;
  readonly code: number;
  readonly offset: number;
  readonly size: number;
  readonly bigEndian: boolean;
  readonly enumeration?: CompiledEnum;
  readonly struct?: CompiledStruct;
}

/** One attribute of a compiled set (or an array element: `type` is then unused). */
interface CompiledAttribute {
  readonly key: string;
  readonly set: string;
  readonly type: number;
  readonly code: number;
  readonly multi: boolean;
  readonly bigEndian: boolean;
  readonly options: AttributeOptions;
  readonly enumeration?: CompiledEnum;
  readonly struct?: CompiledStruct;
  /** Element of an indexed-array or of a binary C array. */
  readonly element?: CompiledAttribute;
  /** Resolved on first use: sets may refer to each other in cycles. */
  nested?: CompiledSet;
}

interface CompiledSet {
  readonly name: string;
  readonly byType: readonly (CompiledAttribute | undefined)[];
  readonly byKey: ReadonlyMap<string, CompiledAttribute>;
}

/**
 * The object being decoded or encoded, and those it is nested in: where a sub-message looks for
 * its selector (a sibling such as linkinfo's kind, or an attribute of an enclosing set, such as
 * tc's kind for TCA_STATS_APP).
 */
interface Scope {
  readonly values: Record<string, unknown>;
  readonly set: CompiledSet;
  readonly parent: Scope | undefined;
}

/** The selector's value and the attribute it is, looked up from the innermost scope out. */
function findSelector(
  scope: Scope | undefined,
  key: string,
): [unknown, CompiledAttribute | undefined] | undefined {
  for (let at = scope; at !== undefined; at = at.parent) {
    const attribute = at.set.byKey.get(key);
    const value = at.values[key];
    if (value !== undefined) return [value, attribute];
    // The nearest set that has the selector is the one meant, even before its value is read
    // (the caller then waits for the end of the set): an enclosing set's attribute of the same
    // name (tc's "kind", at two levels) is another selector.
    if (attribute !== undefined) return undefined;
  }
  return undefined;
}

/** A descriptor's lookup tables, built as they are needed. */
export class Codec {
  readonly descriptor: FamilyDescriptor;
  readonly genetlink: boolean;
  readonly #sets = new Map<string, CompiledSet>();
  readonly #structs = new Map<string, CompiledStruct>();
  readonly #enums = new Map<string, CompiledEnum>();
  #byMessageType?: Map<number, string>;

  constructor(descriptor: FamilyDescriptor) {
    this.descriptor = descriptor;
    this.genetlink = descriptor.protocol !== "netlink-raw";
  }

  operation(name: string): OperationDescriptor {
    const op = Object.hasOwn(this.descriptor.ops, name) ? this.descriptor.ops[name] : undefined;
    if (op === undefined) {
      throw new TypeError(`family ${this.descriptor.name} has no operation "${name}"`);
    }
    return op;
  }

  set(name: string): CompiledSet {
    let set = this.#sets.get(name);
    if (set === undefined) {
      const attributes = this.descriptor.sets[name];
      if (attributes === undefined) {
        throw new TypeError(`family ${this.descriptor.name} has no attribute set "${name}"`);
      }
      const byType: (CompiledAttribute | undefined)[] = [];
      const byKey = new Map<string, CompiledAttribute>();
      for (const [key, attribute] of Object.entries(attributes)) {
        const compiled = this.#attribute(name, key, attribute);
        if (compiled.code !== PAD && compiled.code !== UNUSED) byKey.set(key, compiled);
        byType[compiled.type] = compiled;
      }
      set = { name, byType, byKey };
      this.#sets.set(name, set);
    }
    return set;
  }

  #attribute(set: string, key: string, [type, kind, options = {}]: AttributeDescriptor) {
    const code = KIND_CODES[kind];
    const compiled: CompiledAttribute = {
      key,
      set,
      type,
      code,
      multi: options.multi === true,
      bigEndian: options.bigEndian === true,
      options,
      enumeration: options.enum === undefined ? undefined : this.#enum(options.enum, options),
      struct: options.struct === undefined ? undefined : this.struct(options.struct),
      element: (code === INDEXED_ARRAY || code === BINARY) && options.subType !== undefined
        // The element is the sub-type itself: it has no sub-type (a binary element of an
        // indexed array, bond's ns-ip6-target, would otherwise nest forever).
        ? this.#attribute(set, `${key}[]`, [0, options.subType, {
          ...options,
          multi: false,
          subType: undefined,
        }])
        : undefined,
    };
    return compiled;
  }

  #enum(name: string, options: { readonly asFlags?: boolean }): CompiledEnum {
    const key = options.asFlags ? `${name}\0flags` : name;
    let compiled = this.#enums.get(key);
    if (compiled === undefined) {
      const descriptor = this.descriptor.enums[name];
      if (descriptor === undefined) {
        throw new TypeError(`family ${this.descriptor.name} has no enum "${name}"`);
      }
      const names = descriptor.flags || options.asFlags ? undefined : new Map<number, string>();
      for (const [entry, value] of Object.entries(descriptor.entries)) names?.set(value, entry);
      compiled = { names, values: descriptor.entries };
      this.#enums.set(key, compiled);
    }
    return compiled;
  }

  struct(name: string): CompiledStruct {
    let struct = this.#structs.get(name);
    if (struct === undefined) {
      const members = this.descriptor.structs[name];
      if (members === undefined) {
        throw new TypeError(`family ${this.descriptor.name} has no struct "${name}"`);
      }
      let offset = 0;
      const compiled = members.map((member: MemberDescriptor): CompiledMember => {
        const [key, kind, options = {}] = member;
        const code = kind === "pad" ? PAD : KIND_CODES[kind];
        const nested = options.struct === undefined ? undefined : this.struct(options.struct);
        const size = nested?.size ?? (code <= S64 ? SIZES[code] : options.len ?? 0);
        const result: CompiledMember = {
          key,
          code,
          offset,
          size,
          bigEndian: options.bigEndian === true,
          enumeration: options.enum === undefined ? undefined : this.#enum(options.enum, options),
          struct: nested,
        };
        offset += size;
        return result;
      });
      const template: Record<string, unknown> = {};
      for (const member of compiled) if (member.code !== PAD) template[member.key] = undefined;
      struct = { name, size: offset, members: compiled, template };
      this.#structs.set(name, struct);
    }
    return struct;
  }

  /** Which operation a message of this type (netlink-raw) or command (generic) belongs to. */
  operationOf(type: number): string | undefined {
    if (this.#byMessageType === undefined) {
      const map = new Map<number, string>();
      const ops = Object.entries(this.descriptor.ops);
      // Notifications first, then (for rtnetlink's new/del messages) the request they mirror,
      // then replies.
      for (const [name, op] of ops) {
        if ((op.notify !== undefined || op.event !== undefined) && op.reply !== undefined) {
          if (!map.has(op.reply)) map.set(op.reply, name);
        }
      }
      // What the kernel sends with a request-only operation's number is that operation: rtnetlink
      // mirrors RTM_NEWLINK, ovs_datapath multicasts OVS_DP_CMD_NEW. Not so in a generic family
      // that numbers replies apart from requests (directional: some request and reply differ).
      const unified = ops.every(([, op]) =>
        op.request === undefined || op.reply === undefined || op.request === op.reply
      );
      if (!this.genetlink || unified) {
        for (const [name, op] of ops) {
          if (op.request !== undefined && op.do !== undefined && !op.do.reply) {
            if (!map.has(op.request)) map.set(op.request, name);
          }
        }
      }
      for (const [name, op] of ops) {
        if (op.reply !== undefined && !map.has(op.reply)) map.set(op.reply, name);
      }
      this.#byMessageType = map;
    }
    return this.#byMessageType.get(type);
  }
}

const codecs = new WeakMap<FamilyDescriptor, Codec>();

/** The compiled tables of a descriptor, made once per descriptor. */
export function codecOf(descriptor: FamilyDescriptor): Codec {
  let codec = codecs.get(descriptor);
  if (codec === undefined) {
    codec = new Codec(descriptor);
    codecs.set(descriptor, codec);
  }
  return codec;
}

// --- decoding ----------------------------------------------------------------------------------

function nulTerminated(bytes: Uint8Array, start: number, end: number): string {
  let stop = start;
  while (stop < end && bytes[stop] !== 0) stop++;
  return textDecoder.decode(bytes.subarray(start, stop));
}

function readInteger(
  view: DataView,
  at: number,
  code: number,
  bigEndian: boolean,
): number | bigint {
  const little = !bigEndian && HOST_LITTLE_ENDIAN;
  switch (code) {
    case U8:
      return view.getUint8(at);
    case U16:
      return view.getUint16(at, little);
    case U32:
      return view.getUint32(at, little);
    case U64:
      return view.getBigUint64(at, little);
    case S8:
      return view.getInt8(at);
    case S16:
      return view.getInt16(at, little);
    case S32:
      return view.getInt32(at, little);
    default:
      return view.getBigInt64(at, little);
  }
}

function enumName(enumeration: CompiledEnum | undefined, value: number | bigint): unknown {
  if (enumeration?.names === undefined || typeof value !== "number") return value;
  return enumeration.names.get(value) ?? value;
}

/** Decodes a struct at `bytes[start...]` into `out`; the caller checks the length. */
export function decodeStruct(
  struct: CompiledStruct,
  bytes: Uint8Array,
  start: number,
  out: Record<string, unknown>,
): void {
  const view = sharedView(bytes.buffer);
  const base = bytes.byteOffset + start;
  for (const member of struct.members) {
    const at = base + member.offset;
    switch (member.code) {
      case PAD:
        break;
      case U8: {
        const value = bytes[start + member.offset];
        out[member.key] = member.enumeration === undefined
          ? value
          : enumName(member.enumeration, value);
        break;
      }
      case STRING:
        out[member.key] = nulTerminated(
          bytes,
          start + member.offset,
          start + member.offset + member.size,
        );
        break;
      case BINARY:
        if (member.struct !== undefined) {
          const inner: Record<string, unknown> = {};
          decodeStruct(member.struct, bytes, start + member.offset, inner);
          out[member.key] = inner;
        } else {
          out[member.key] = bytes.subarray(
            start + member.offset,
            start + member.offset + member.size,
          );
        }
        break;
      default: {
        const value = readInteger(view, at, member.code, member.bigEndian);
        out[member.key] = member.enumeration === undefined
          ? value
          : enumName(member.enumeration, value);
      }
    }
  }
}

/** Decodes the attributes of `bytes[start..end)` with `set` into `out`. */
export function decodeAttributes(
  codec: Codec,
  set: CompiledSet,
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Record<string, unknown>,
  parent?: Scope,
): void {
  // Made when a nest or sub-message needs it: most attributes are scalars.
  let scope: Scope | undefined;
  let deferred: [CompiledAttribute, Attribute][] | undefined;
  for (const decoder = new AttributeDecoder(bytes, start, end); decoder.next();) {
    const attribute = set.byType[decoder.type];
    if (attribute === undefined || attribute.code === UNUSED) {
      keepUnknown(out, decoder);
      continue;
    }
    if (attribute.code === PAD) continue;
    let value: unknown;
    if (attribute.code === SUB_MESSAGE) {
      scope ??= { values: out, set, parent };
      const selector = findSelector(scope, attribute.options.selector!);
      if (selector === undefined) {
        // The selector may come later in this set.
        (deferred ??= []).push([attribute, unknownOf(decoder)]);
        continue;
      }
      value = decodeSubMessage(codec, attribute, selector[0], decoder.bytes(), scope);
    } else if (attribute.code <= FLAG) {
      value = decodeValue(codec, attribute, decoder, undefined!);
    } else {
      value = decodeValue(codec, attribute, decoder, scope ??= { values: out, set, parent });
    }
    if (value === MISFIT) {
      keepUnknown(out, decoder);
    } else if (attribute.multi) {
      const list = out[attribute.key] as unknown[] | undefined;
      if (list === undefined) out[attribute.key] = [value];
      else list.push(value);
    } else if (out[attribute.key] !== undefined) {
      // Repeated, though the spec does not say multi-attr (team's option list, for one): the
      // first is decoded, the others are kept as they came rather than overwritten.
      keepUnknown(out, decoder);
    } else {
      out[attribute.key] = value;
    }
  }
  if (deferred !== undefined) {
    scope ??= { values: out, set, parent };
    for (const [attribute, raw] of deferred) {
      const selector = findSelector(scope, attribute.options.selector!);
      out[attribute.key] = decodeSubMessage(codec, attribute, selector?.[0], raw.value, scope);
    }
  }
}

function unknownOf(decoder: AttributeDecoder): Attribute {
  return new Attribute(decoder.type, decoder.bytes(), {
    nested: decoder.nested,
    netByteOrder: decoder.netByteOrder,
  });
}

function keepUnknown(out: Record<string | symbol, unknown>, decoder: AttributeDecoder): void {
  const list = out[unknownAttributes] as Attribute[] | undefined;
  if (list === undefined) out[unknownAttributes] = [unknownOf(decoder)];
  else list.push(unknownOf(decoder));
}

function nestedSet(codec: Codec, attribute: CompiledAttribute): CompiledSet {
  return attribute.nested ??= codec.set(attribute.options.nest!);
}

function decodeNest(
  codec: Codec,
  set: CompiledSet,
  bytes: Uint8Array,
  parent: Scope,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  decodeAttributes(codec, set, bytes, 0, bytes.byteLength, out, parent);
  return out;
}

function decodeValue(
  codec: Codec,
  attribute: CompiledAttribute,
  decoder: AttributeDecoder,
  scope: Scope,
): unknown {
  const code = attribute.code;
  const length = decoder.length;
  switch (code) {
    case U8:
      return length === 1 ? enumName(attribute.enumeration, decoder.u8()) : MISFIT;
    case U16:
      if (length !== 2) return MISFIT;
      return enumName(attribute.enumeration, attribute.bigEndian ? decoder.u16be() : decoder.u16());
    case U32:
      if (length !== 4) return MISFIT;
      return enumName(attribute.enumeration, attribute.bigEndian ? decoder.u32be() : decoder.u32());
    case U64:
      if (length !== 8) return MISFIT;
      return attribute.bigEndian ? decoder.u64be() : decoder.u64();
    case S8:
      return length === 1 ? enumName(attribute.enumeration, decoder.s8()) : MISFIT;
    case S16:
    case S32:
    case S64: {
      if (length !== SIZES[code]) return MISFIT;
      const bytes = decoder.bytes();
      return enumName(
        attribute.enumeration,
        readInteger(sharedView(bytes.buffer), bytes.byteOffset, code, attribute.bigEndian),
      );
    }
    case UINT:
    case SINT: {
      if (length !== 4 && length !== 8) return MISFIT;
      const bytes = decoder.bytes();
      const sized = code === UINT ? (length === 4 ? U32 : U64) : (length === 4 ? S32 : S64);
      return BigInt(
        readInteger(sharedView(bytes.buffer), bytes.byteOffset, sized, attribute.bigEndian),
      );
    }
    case FLAG:
      return true;
    case STRING:
      return decoder.string();
    case BINARY:
      return decodeBinary(attribute, decoder.bytes());
    case NEST:
      return decodeNest(codec, nestedSet(codec, attribute), decoder.bytes(), scope);
    case INDEXED_ARRAY: {
      const element = attribute.element!;
      const list: unknown[] = [];
      for (const inner = decoder.nestedDecoder(); inner.next();) {
        const value = element.code === NEST
          ? decodeNest(codec, nestedSet(codec, element), inner.bytes(), scope)
          : decodeValue(codec, element, inner, scope);
        list.push(value === MISFIT ? unknownOf(inner) : value);
      }
      return list;
    }
    case NEST_TYPE_VALUE: {
      const list: Record<string, unknown>[] = [];
      decodeTypeValue(codec, attribute, decoder.nestedDecoder(), 0, {}, list, scope);
      return list;
    }
    case BITFIELD32: {
      if (length !== 8) return MISFIT;
      const bytes = decoder.bytes();
      const view = sharedView(bytes.buffer);
      return {
        value: view.getUint32(bytes.byteOffset, HOST_LITTLE_ENDIAN),
        selector: view.getUint32(bytes.byteOffset + 4, HOST_LITTLE_ENDIAN),
      };
    }
    default:
      return MISFIT;
  }
}

function decodeBinary(attribute: CompiledAttribute, bytes: Uint8Array): unknown {
  if (attribute.struct !== undefined) {
    if (bytes.byteLength < attribute.struct.size) return MISFIT;
    const out: Record<string, unknown> = {};
    decodeStruct(attribute.struct, bytes, 0, out);
    return out;
  }
  const element = attribute.element;
  if (element !== undefined && element.code <= S64) {
    const size = SIZES[element.code];
    if (bytes.byteLength % size !== 0) return MISFIT;
    const view = sharedView(bytes.buffer);
    const list: unknown[] = [];
    for (let at = 0; at < bytes.byteLength; at += size) {
      list.push(readInteger(view, bytes.byteOffset + at, element.code, element.bigEndian));
    }
    return list;
  }
  return bytes;
}

function decodeTypeValue(
  codec: Codec,
  attribute: CompiledAttribute,
  decoder: AttributeDecoder,
  level: number,
  keys: Record<string, unknown>,
  out: Record<string, unknown>[],
  scope: Scope,
): void {
  const names = attribute.options.typeValue!;
  while (decoder.next()) {
    const here = { ...keys, [names[level]]: decoder.type };
    if (level + 1 < names.length) {
      decodeTypeValue(codec, attribute, decoder.nestedDecoder(), level + 1, here, out, scope);
    } else {
      const bytes = decoder.bytes();
      decodeAttributes(codec, nestedSet(codec, attribute), bytes, 0, bytes.byteLength, here, scope);
      out.push(here);
    }
  }
}

function decodeSubMessage(
  codec: Codec,
  attribute: CompiledAttribute,
  selector: unknown,
  bytes: Uint8Array,
  scope: Scope,
): unknown {
  const formats = codec.descriptor.subMessages[attribute.options.subMessage!];
  const format =
    formats !== undefined && typeof selector === "string" && Object.hasOwn(formats, selector)
      ? formats[selector]
      : undefined;
  if (format === undefined) return bytes;
  const out: Record<string, unknown> = {};
  let offset = 0;
  if (format.header !== undefined) {
    const header = codec.struct(format.header);
    if (bytes.byteLength < header.size) return bytes;
    decodeStruct(header, bytes, 0, out);
    offset = header.size;
  }
  if (format.set !== undefined) {
    decodeAttributes(codec, codec.set(format.set), bytes, offset, bytes.byteLength, out, scope);
  }
  return out;
}

/**
 * Decodes a message payload as operation `op` describes it: the fixed header's members and the
 * attributes, in one object. For generic netlink the payload starts with the genlmsghdr.
 */
export function decodePayload(
  codec: Codec,
  op: OperationDescriptor,
  payload: Uint8Array,
): Record<string, unknown> {
  const header = op.header === undefined ? undefined : codec.struct(op.header);
  const out: Record<string, unknown> = header === undefined ? {} : { ...header.template };
  let offset = codec.genetlink ? GENL_HDRLEN : 0;
  if (header !== undefined) {
    if (payload.byteLength < offset + header.size) {
      throw new MalformedMessageError(
        `payload of ${payload.byteLength} bytes is too short for ${op.header} (${header.size} bytes)`,
        offset,
      );
    }
    decodeStruct(header, payload, offset, out);
    offset += header.size;
  }
  if (op.set !== undefined) {
    decodeAttributes(codec, codec.set(op.set), payload, offset, payload.byteLength, out);
  } else if (payload.byteLength > offset) {
    const raw = payload.subarray(offset);
    (out as Record<symbol, unknown>)[unknownAttributes] = [...decodeRaw(raw)];
  }
  return out;
}

function* decodeRaw(bytes: Uint8Array): Generator<Attribute> {
  for (const decoder = new AttributeDecoder(bytes); decoder.next();) yield unknownOf(decoder);
}

// --- encoding ----------------------------------------------------------------------------------

function where(attribute: CompiledAttribute): string {
  return `${attribute.set}.${attribute.key}`;
}

function enumValue(
  enumeration: CompiledEnum | undefined,
  value: unknown,
  what: string,
): unknown {
  if (typeof value !== "string" || enumeration === undefined) return value;
  if (!Object.hasOwn(enumeration.values, value)) {
    throw new TypeError(
      `${what}: "${value}" is not one of ${Object.keys(enumeration.values).join(", ")}`,
    );
  }
  return enumeration.values[value];
}

/** Checks `value` is an integer of kind `code` (and passes `checks`); returns it as a bigint. */
function checkInteger(
  value: unknown,
  code: number,
  what: string,
  checks: AttributeOptions["checks"],
): bigint {
  let big: bigint;
  if (typeof value === "bigint") big = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) big = BigInt(value);
  else throw new TypeError(`${what}: expected an integer, got ${describe(value)}`);
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
  return typeof value === "string"
    ? `"${value}"`
    : typeof value === "bigint"
    ? `${value}n`
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
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const member of struct.members) {
    if (member.code === PAD) continue;
    const field = value[member.key];
    if (field === undefined) continue;
    const what = `${struct.name}.${member.key}`;
    const at = start + member.offset;
    switch (member.code) {
      case STRING: {
        if (typeof field !== "string") {
          throw new TypeError(`${what}: expected a string, got ${describe(field)}`);
        }
        if (field.includes("\0")) {
          throw new RangeError(`${what}: a string cannot hold NUL (it ends C strings)`);
        }
        const encoded = textEncoder.encode(field);
        if (encoded.byteLength >= member.size) {
          throw new RangeError(
            `${what}: at most ${member.size - 1} bytes fit, got ${encoded.byteLength}`,
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
          if (!(field instanceof Uint8Array)) {
            throw new TypeError(`${what}: expected a Uint8Array, got ${describe(field)}`);
          }
          if (field.byteLength > member.size) {
            throw new RangeError(
              `${what}: at most ${member.size} bytes fit, got ${field.byteLength}`,
            );
          }
          bytes.set(field, at);
        }
        break;
      default: {
        const number = checkInteger(
          enumValue(member.enumeration, field, what),
          member.code,
          what,
          undefined,
        );
        writeInteger(view, at, member.code, member.bigEndian, number);
      }
    }
  }
}

function checkObject(value: unknown, what: string): void {
  if (
    typeof value !== "object" || value === null || Array.isArray(value)
    || value instanceof Uint8Array
  ) {
    throw new TypeError(`${what}: expected an object, got ${describe(value)}`);
  }
}

/** Throws unless `value` is an object whose every key is a member of `struct`. */
function checkMembers(struct: CompiledStruct, value: unknown, what: string): void {
  checkObject(value, what);
  for (const key of Object.keys(value as Record<string, unknown>)) {
    if (!struct.members.some((member) => member.key === key && member.code !== PAD)) {
      throw new TypeError(`${what}: struct ${struct.name} has no member "${key}"`);
    }
  }
}

function structBytes(struct: CompiledStruct, value: unknown, what: string): Uint8Array {
  checkMembers(struct, value, what);
  const bytes = new Uint8Array(struct.size);
  encodeStruct(struct, value as Record<string, unknown>, bytes, 0);
  return bytes;
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
  parent?: Scope,
): void {
  checkObject(value, set.name);
  const scope: Scope = { values: value, set, parent };
  for (const key of Object.keys(value)) {
    const field = value[key];
    if (field === undefined) continue;
    const attribute = set.byKey.get(key);
    if (attribute === undefined) {
      if (skip?.members.some((member) => member.key === key && member.code !== PAD)) continue;
      throw new TypeError(`attribute set ${set.name} has no attribute "${key}"`);
    }
    if (attribute.multi) {
      if (!Array.isArray(field)) {
        throw new TypeError(
          `${where(attribute)}: multi-attr value must be an array, got ${describe(field)}`,
        );
      }
      for (const element of field) {
        encodeValue(codec, attribute, attribute.type, element, scope, encoder);
      }
    } else {
      encodeValue(codec, attribute, attribute.type, field, scope, encoder);
    }
  }
  const unknown = (value as Record<symbol, unknown>)[unknownAttributes];
  if (Array.isArray(unknown)) { for (const attribute of unknown) encoder.attribute(attribute); }
}

function encodeValue(
  codec: Codec,
  attribute: CompiledAttribute,
  type: number,
  value: unknown,
  scope: Scope,
  encoder: AttributeEncoder,
): void {
  const what = where(attribute);
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
        enumValue(attribute.enumeration, value, what),
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
      if (typeof value !== "string") {
        throw new TypeError(`${what}: expected a string, got ${describe(value)}`);
      }
      checkLength(textEncoder.encode(value).byteLength, what, checks);
      encoder.string(type, value);
      return;
    }
    case BINARY:
      encoder.bytes(type, binaryBytes(attribute, value, what));
      return;
    case NEST:
      checkObject(value, what);
      encoder.nested(type, (inner) => {
        encodeAttributes(
          codec,
          nestedSet(codec, attribute),
          value as Record<string, unknown>,
          inner,
          undefined,
          scope,
        );
      });
      return;
    case INDEXED_ARRAY: {
      if (!Array.isArray(value)) {
        throw new TypeError(`${what}: expected an array, got ${describe(value)}`);
      }
      const element = attribute.element!;
      encoder.nested(type, (inner) => {
        // Indexes start at 1: the kernel's parsers skip index 0 (the unspec slot).
        value.forEach((item, index) => {
          if (element.code === NEST) {
            checkObject(item, `${what}[${index}]`);
            inner.nested(index + 1, (nest) => {
              encodeAttributes(
                codec,
                nestedSet(codec, element),
                item as Record<string, unknown>,
                nest,
                undefined,
                scope,
              );
            });
          } else {
            encodeValue(codec, element, index + 1, item, scope, inner);
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
      encoder.nested(type, (inner) => {
        for (const entry of value) {
          checkObject(entry, what);
          const record = entry as Record<string, unknown>;
          const rest = { ...record };
          for (const name of names) delete rest[name];
          const level = (nest: AttributeEncoder, depth: number): void => {
            const key = checkInteger(
              record[names[depth]],
              U16,
              `${what}.${names[depth]}`,
              undefined,
            );
            nest.nested(Number(key), (deeper) => {
              if (depth + 1 < names.length) level(deeper, depth + 1);
              else {
                encodeAttributes(
                  codec,
                  nestedSet(codec, attribute),
                  rest,
                  deeper,
                  undefined,
                  scope,
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
      const { value: bits, selector } = value as { value?: unknown; selector?: unknown };
      const bytes = new Uint8Array(8);
      const view = new DataView(bytes.buffer);
      view.setUint32(
        0,
        Number(checkInteger(bits, U32, `${what}.value`, checks)),
        HOST_LITTLE_ENDIAN,
      );
      view.setUint32(
        4,
        // The kernel holds both to the attribute's valid bits (NLA_BITFIELD32's mask).
        Number(checkInteger(selector, U32, `${what}.selector`, checks)),
        HOST_LITTLE_ENDIAN,
      );
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
  } else {
    throw new TypeError(`${what}: expected a Uint8Array, got ${describe(value)}`);
  }
  checkLength(bytes.byteLength, what, attribute.options.checks);
  return bytes;
}

function encodeSubMessage(
  codec: Codec,
  attribute: CompiledAttribute,
  type: number,
  value: unknown,
  scope: Scope,
  encoder: AttributeEncoder,
): void {
  const what = where(attribute);
  if (value instanceof Uint8Array) {
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
        throw new TypeError(`${what}: format "${selector}" has no "${key}"`);
      }
    }
    encoder.bytes(type, headerBytes);
    return;
  }
  const inner = new AttributeEncoder();
  encodeAttributes(codec, codec.set(format.set), record, inner, header, scope);
  const attributes = inner.finish();
  const bytes = new Uint8Array(headerBytes.byteLength + attributes.byteLength);
  bytes.set(headerBytes);
  bytes.set(attributes, headerBytes.byteLength);
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
        throw new TypeError(`operation has no attribute set, and no header member "${key}"`);
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
