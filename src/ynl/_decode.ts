/**
 * Decoding: every attribute set and struct a message meets is turned, on first use, into a
 * function generated for it (`new Function`): a `switch` on the attribute type whose cases read
 * their value inline, at offsets and with byte orders fixed in the code, into an object whose
 * header members come as one literal. An interpreter walking the descriptor for each attribute
 * of each message paid a lookup, a switch on the kind and a call per value, about as much as the
 * kernel's own cost of a dump (issue 10: typed decode within 1.3x of hand-written code).
 *
 * The generated code only ever embeds numbers and `JSON.stringify`d keys; everything else it
 * uses (enum tables, nested decoders, helpers) comes in as a constant of its closure.
 *
 * Kept as they are found: attributes the set does not describe, values of the wrong size, and
 * repeats of an attribute that is not multi-attr go to {@linkcode unknownAttributes}.
 *
 * @module
 */

import { strictUtf8 } from "../_bytes.ts";
import { GENL_HDRLEN } from "../_constants.ts";
import { HOST_LITTLE_ENDIAN } from "../_endian.ts";
import { perEventClosures, perEventCode } from "../_per_event.ts";
import { sharedView } from "../_view.ts";
import { Attribute, AttributeDecoder } from "../attribute.ts";
import { MalformedMessageError } from "../errors.ts";
import {
  BINARY,
  BITFIELD32,
  type Codec,
  type CompiledAttribute,
  type CompiledEnum,
  type CompiledMember,
  type CompiledSet,
  type CompiledStruct,
  findSelector,
  FLAG,
  INDEXED_ARRAY,
  NEST,
  NEST_TYPE_VALUE,
  nestedSet,
  PAD,
  S32,
  S64,
  S8,
  type Scope,
  SINT,
  SIZES,
  STRING,
  SUB_MESSAGE,
  U32,
  U64,
  U8,
  UINT,
  UNUSED,
} from "./_compile.ts";
import type { DisplayHint, OperationDescriptor } from "./_descriptor.ts";
import { structTail, unknownAttributes } from "./_descriptor.ts";
import { ipText, ipv4Text, macText, textHint, uuidText } from "./_hints.ts";
import { type AttributePick, keptPick } from "./_pick.ts";

/**
 * Decodes the attributes of `bytes[start..end)` into `out`. `view` is a DataView over all of
 * `bytes.buffer` and `base` is `bytes.byteOffset` (offsets are relative to `bytes`); `parent` is
 * the scope of the enclosing objects, for sub-message selectors.
 */
export type SetDecoder = (
  bytes: Uint8Array,
  view: DataView,
  base: number,
  start: number,
  end: number,
  out: Record<string, unknown>,
  parent: Scope | undefined,
) => void;

/** Decodes a struct at `bytes[at...]` (the caller checks the length) into a new object. */
export type StructReader = (
  bytes: Uint8Array,
  view: DataView,
  base: number,
  at: number,
) => Record<string, unknown>;

/** Decodes one value of `length` bytes at `bytes[at...]`, or returns MISFIT. */
type ValueReader = (
  bytes: Uint8Array,
  view: DataView,
  base: number,
  at: number,
  length: number,
  scope: Scope | undefined,
) => unknown;

/** Returned by a value reader when the value does not have the spec's size. */
const MISFIT: unique symbol = Symbol("misfit");
const NLA_F_NESTED = 0x8000, NLA_F_NET_BYTEORDER = 0x4000, NLA_TYPE_MASK = 0x3fff;
const LITTLE = String(HOST_LITTLE_ENDIAN);
const textDecoder = new TextDecoder();

/**
 * The string at `bytes[start, end)`, up to its first NUL. A short ASCII one (a link's name, its
 * qdisc, a kind) is built by the walk itself: a view and a call into the runtime's decoder cost
 * more, cold, than the whole walk (a typed monitor decodes a few per event). Bytes that are not
 * UTF-8 read as U+FFFD; then, given the object and key it is stored under, their copy is kept
 * for {@linkcode textBytes} (a link's name may be any bytes).
 */
function nulTerminated(
  bytes: Uint8Array,
  start: number,
  end: number,
  out?: object,
  key?: string,
): string {
  let text = "";
  let stop = start;
  for (; stop < end; stop++) {
    const byte = bytes[stop];
    if (byte === 0) return text;
    if (byte > 0x7f || stop - start === SHORT_STRING) break;
    text += String.fromCharCode(byte);
  }
  while (stop < end && bytes[stop] !== 0) stop++;
  const value = bytes.subarray(start, stop);
  text = textDecoder.decode(value);
  // U+FFFD is rare in names: only then is it asked whether the bytes were UTF-8.
  if (out !== undefined && text.includes("\ufffd") && strictUtf8(value) === undefined) {
    let kept = (out as { [TEXT_BYTES]?: Record<string, Uint8Array> })[TEXT_BYTES];
    if (kept === undefined) {
      kept = {};
      Object.defineProperty(out, TEXT_BYTES, { value: kept, enumerable: false });
    }
    kept[key!] = value.slice();
  }
  return text;
}

const TEXT_BYTES: unique symbol = Symbol("textBytes");

/**
 * The bytes of `decoded`'s string attribute `key` when they were not UTF-8 (the string reads
 * them as U+FFFD, so it cannot name them back), else undefined. Internal: the route layer's
 * `Link.nameBytes`.
 */
export function textBytes(decoded: object, key: string): Uint8Array | undefined {
  return (decoded as { [TEXT_BYTES]?: Record<string, Uint8Array> })[TEXT_BYTES]?.[key];
}

/** Bytes of ASCII that nulTerminated() builds into a string itself (IFNAMSIZ, 16, and more). */
const SHORT_STRING = 32;

/** Throws the core decoder's MalformedMessageError for the attribute header at `at`. */
function malformed(bytes: Uint8Array, at: number, end: number): never {
  new AttributeDecoder(bytes, at, end).next();
  throw new MalformedMessageError(`malformed attribute at ${at}`, at); // not reached
}

function unknown(bytes: Uint8Array, at: number, length: number, typeField: number): Attribute {
  return new Attribute(typeField & NLA_TYPE_MASK, bytes.subarray(at + 4, at + length), {
    nested: (typeField & NLA_F_NESTED) !== 0,
    netByteOrder: (typeField & NLA_F_NET_BYTEORDER) !== 0,
  });
}

/** Keeps the attribute at `bytes[at...]` under `unknownAttributes`, as it came. */
function keep(
  out: Record<string | symbol, unknown>,
  bytes: Uint8Array,
  at: number,
  length: number,
  typeField: number,
): void {
  const attribute = unknown(bytes, at, length, typeField);
  const list = out[unknownAttributes] as Attribute[] | undefined;
  if (list === undefined) out[unknownAttributes] = [attribute];
  else list.push(attribute);
}

/** The decoder's current attribute, as it came. */
function attributeOf(decoder: AttributeDecoder): Attribute {
  return new Attribute(decoder.type, decoder.bytes(), {
    nested: decoder.nested,
    netByteOrder: decoder.netByteOrder,
  });
}

// --- code generation ---------------------------------------------------------------------------

/** DataView getter of each fixed-size integer kind, by code. */
const GETTERS = [
  "",
  "getUint8",
  "getUint16",
  "getUint32",
  "getBigUint64",
  "getInt8",
  "getInt16",
  "getInt32",
  "getBigInt64",
];

/**
 * Source being generated, and the values it refers to: `ref(value)` names a constant of the
 * generated function's closure (an enum table, a compiled attribute, another decoder).
 */
class Source {
  readonly #values: unknown[] = [];
  readonly #names = new Map<unknown, string>();

  ref(value: unknown): string {
    let name = this.#names.get(value);
    if (name === undefined) {
      name = `c${this.#values.length}`;
      this.#values.push(value);
      this.#names.set(value, name);
    }
    return name;
  }

  /**
   * Compiles `body` (which returns the function) with the constants it refers to. The function
   * is listed as per-event code: a typed monitor runs it once an event (see src/_per_event.ts).
   */
  compile<F>(body: string): F {
    const names = this.#values.map((_, i) => `c${i}`);
    const compiled = new Function(...names, `"use strict";\n${body}`)(...this.#values) as F;
    perEventClosures(compiled);
    return compiled;
  }
}

/** An enum's names as the fastest lookup: an array when its values are small, else the map. */
function enumTable(enumeration: CompiledEnum): unknown {
  const names = enumeration.names!;
  const values = [...names.keys()];
  if (values.every((value) => Number.isInteger(value) && value >= 0 && value < 4096)) {
    const table: (string | undefined)[] = new Array(Math.max(-1, ...values) + 1).fill(undefined);
    for (const [value, name] of names) table[value] = name;
    return table;
  }
  return names;
}

/** `expression` (a number) turned into the enum's name when it has one. */
function named(source: Source, enumeration: CompiledEnum | undefined, expression: string): string {
  if (enumeration?.names === undefined) return expression;
  const table = enumTable(enumeration);
  const ref = source.ref(table);
  const lookup = Array.isArray(table) ? source.ref(nameOf) : source.ref(nameIn);
  return `${lookup}(${ref}, ${expression})`;
}

function nameOf(table: readonly (string | undefined)[], value: number): string | number {
  return table[value] ?? value;
}

function nameIn(table: ReadonlyMap<number, string>, value: number): string | number {
  return table.get(value) ?? value;
}

/**
 * An integer of kind `code` read by `read`, as it is decoded: an enum's name, or (a u32 with an
 * `ipv4` hint) the address's text.
 */
function integerValue(
  source: Source,
  code: number,
  enumeration: CompiledEnum | undefined,
  hint: DisplayHint | undefined,
  read: string,
): string {
  if (code === U64 || code === S64) return read;
  if (code === U32 && hint === "ipv4") return `${source.ref(ipv4Text)}(${read})`;
  return named(source, enumeration, read);
}

/**
 * How bytes with a text hint (an address, a UUID) at `vs`, `vl` long, are read: the IP hints
 * by length as ynl.py reads them (4 or 16 bytes, else the value is kept as unknown), a MAC at
 * any length (a tunnel's link address is 4 bytes, InfiniBand's 20), a UUID at 16.
 */
function hintedRead(
  source: Source,
  hint: DisplayHint | undefined,
): { check?: string; read: string } | undefined {
  if (!textHint(hint)) return undefined;
  if (hint === "mac") return { read: `v = ${source.ref(macText)}(bytes, vs, vs + vl);` };
  if (hint === "uuid") {
    return { check: "vl === 16", read: `v = ${source.ref(uuidText)}(bytes, vs);` };
  }
  return { check: "vl === 4 || vl === 16", read: `v = ${source.ref(ipText)}(bytes, vs, vl);` };
}

/** A fixed-size integer at `at` (an expression of the offset in the view) of kind `code`. */
function integer(code: number, bigEndian: boolean, at: string): string {
  if (code === U8) return `view.getUint8(${at})`;
  if (code === S8) return `view.getInt8(${at})`;
  return `view.${GETTERS[code]}(${at}, ${bigEndian ? "false" : LITTLE})`;
}

/**
 * How a value of `attribute` at `vs` (relative to `bytes`), `vl` bytes long, is read: the
 * condition its length must meet (else it is kept as unknown), statements that set `v`, and
 * whether they may set it to MISFIT. `owner`, the expression of the object the value goes in,
 * is where a string's bytes are kept when they are not UTF-8 (nowhere when "undefined").
 */
function valueSource(
  codec: Codec,
  source: Source,
  attribute: CompiledAttribute,
  scope: string,
  owner = "undefined",
): { check?: string; read: string; fallible?: boolean } | undefined {
  const code = attribute.code;
  const at = "base + vs";
  if (code <= S64) {
    const value = integer(code, attribute.bigEndian, at);
    return {
      check: `vl === ${SIZES[code]}`,
      read: `v = ${
        integerValue(source, code, attribute.enumeration, attribute.options.hint, value)
      };`,
    };
  }
  switch (code) {
    case UINT:
    case SINT: {
      const [narrow, wide] = code === UINT ? [U32, U64] : [S32, S64];
      return {
        check: "vl === 4 || vl === 8",
        read: `v = vl === 4 ? BigInt(${integer(narrow, attribute.bigEndian, at)}) : ${
          integer(wide, attribute.bigEndian, at)
        };`,
      };
    }
    case FLAG:
      // A flag is its presence; one sent with a byte (the kernel puts vxlan's TTL_INHERIT, a
      // flag in its policy, with nla_put_u8 of 0 or 1) is that byte's truth, not always true.
      return { check: "vl <= 1", read: "v = vl === 0 || bytes[vs] !== 0;" };
    case STRING:
      return {
        read: `v = ${source.ref(nulTerminated)}(bytes, vs, vs + vl, ${owner}, ${
          JSON.stringify(attribute.key)
        });`,
      };
    case BINARY:
      if (attribute.struct !== undefined) {
        // A newer kernel's longer struct: the bytes past the members known are kept.
        const size = attribute.struct.size;
        return {
          check: `vl >= ${size}`,
          read: `v = ${source.ref(readerOf(attribute.struct))}(bytes, view, base, vs);\n`
            + `if (vl > ${size}) v[${
              source.ref(structTail)
            }] = bytes.subarray(vs + ${size}, vs + vl);`,
        };
      }
      if (attribute.element !== undefined && attribute.element.code <= S64) {
        // A C array of integers (rt-link's IPv4 and IPv6 devconf and stats: some 140 values in
        // a link notification), read by a loop generated for its element into an array made at
        // its length. A shared loop that called a reader with a switch on the kind per element,
        // pushing each, cost a typed link monitor's decode some 10 us per event cold on Deno
        // (~15%), and warm 1 us of 4 on Bun.
        const element = attribute.element;
        const size = SIZES[element.code];
        return {
          check: size === 1 ? undefined : `vl % ${size} === 0`,
          read:
            `v = new Array(vl / ${size});\nfor (let j = 0, i = base + vs; j < v.length; j++, i += ${size}) v[j] = ${
              integer(element.code, element.bigEndian, "i")
            };`,
        };
      }
      return hintedRead(source, attribute.options.hint)
        ?? { read: "v = new Uint8Array(bytes.buffer, base + vs, vl);" };
    case NEST: {
      const set = nestedSet(codec, attribute);
      const decoder = source.ref(lazyDecoder(codec, set));
      const passed = needsScope(codec, set) ? scope : "undefined";
      return {
        read: `v = new ${
          source.ref(objectsOf(set))
        }();\n${decoder}.run(bytes, view, base, vs, vs + vl, v, ${passed});`,
      };
    }
    case INDEXED_ARRAY:
      return {
        read: `v = ${source.ref(decodeIndexedArray)}(${source.ref(codec)}, ${
          source.ref(attribute)
        }, bytes, vs, vl, ${scope});`,
      };
    case NEST_TYPE_VALUE:
      return {
        read: `v = ${source.ref(decodeTypeValue)}(${source.ref(codec)}, ${
          source.ref(attribute)
        }, bytes, vs, vl, ${scope});`,
        fallible: attribute.element !== undefined,
      };
    case BITFIELD32:
      return {
        check: "vl === 8",
        read:
          `v = { value: view.getUint32(${at}, ${LITTLE}), selector: view.getUint32(${at} + 4, ${LITTLE}) };`,
      };
    default:
      return undefined;
  }
}

/** A nested set's decoder, generated when it is first run (sets may nest each other in cycles). */
function lazyDecoder(codec: Codec, set: CompiledSet): { run: SetDecoder } {
  const lazy = {
    run: ((...args) => (lazy.run = decoderOf(codec, set))(...args)) as SetDecoder,
  };
  return lazy;
}

/** Whether decoding `set` may look up a sub-message selector in enclosing sets. */
function needsScope(codec: Codec, set: CompiledSet, visiting = new Set<CompiledSet>()): boolean {
  if (visiting.has(set)) return false;
  visiting.add(set);
  for (const attribute of set.byKey.values()) {
    if (attribute.code === SUB_MESSAGE) return true;
    const nests = attribute.code === NEST || attribute.element?.code === NEST
      || attribute.code === NEST_TYPE_VALUE && attribute.element === undefined;
    if (nests && needsScope(codec, nestedSet(codec, attribute.element ?? attribute), visiting)) {
      return true;
    }
  }
  return false;
}

/**
 * The decoder of `set`, generated on first use; with a pick, one that decodes only the picked
 * attributes and skips the others (unknown ones too: none is kept), made once per pick.
 */
export function decoderOf(codec: Codec, set: CompiledSet, pick?: AttributePick): SetDecoder {
  if (pick !== undefined) {
    return keptPick(set.picked ??= new Map(), pick.key, () => generate(codec, set, pick.names));
  }
  return set.decoder ??= generate(codec, set, undefined);
}

function generate(
  codec: Codec,
  set: CompiledSet,
  picked: ReadonlySet<string> | undefined,
): SetDecoder {
  const source = new Source();
  const scope = `(scope ??= { values: out, set: ${source.ref(set)}, parent })`;
  // Each case ends in `continue` once its value is stored; what falls out of the switch (a
  // value of the wrong size, a repeat, a type the set does not have) is kept by the one call
  // after it. A call per case (or two: the size, the repeat) was a third of the bytecode of
  // rt-link's link-attrs decoder, and each call site is code the JIT compiles and an event runs
  // through cold (see the typedevt section of bench/RESULTS.md).
  const cases: string[] = [];
  let subMessages = false;
  for (const attribute of set.byType) {
    if (attribute === undefined || attribute.code === UNUSED) continue;
    if (picked !== undefined && !picked.has(attribute.key)) continue;
    if (attribute.code === PAD) {
      cases.push(`case ${attribute.type}: continue;`);
      continue;
    }
    const key = JSON.stringify(attribute.key);
    const append = attribute.code === NEST_TYPE_VALUE
      // One list of the entries of every occurrence (ethtool's stats: one counter each).
      ? `{ const list = out[${key}]; if (list === undefined) out[${key}] = v; else list.push(...v); continue; }`
      : `{ const list = out[${key}]; if (list === undefined) out[${key}] = [v]; else list.push(v); continue; }`;
    if (attribute.code === SUB_MESSAGE) {
      subMessages = true;
      const ref = source.ref(attribute);
      cases.push(`case ${attribute.type}: {
        const selector = findSelector(${scope}, ${JSON.stringify(attribute.options.selector)});
        if (selector === undefined) {
          // The selector may come later in this set.
          (deferred ??= []).push([${ref}, bytes.subarray(vs, vs + vl)]);
          continue;
        }
        v = decodeSubMessage(codec, ${ref}, selector[0], bytes.subarray(vs, vs + vl), scope);
        ${
        attribute.multi ? append : `if (out[${key}] === undefined) { out[${key}] = v; continue; }`
      }
        break;
      }`);
      continue;
    }
    // A string's bytes are kept beside it when they are not UTF-8 (textBytes()): one value's.
    const value = valueSource(codec, source, attribute, scope, attribute.multi ? undefined : "out");
    if (value === undefined) continue;
    // Repeated, though the spec does not say multi-attr (team's option list, for one): the
    // first is decoded, the others are kept as they came (not decoded, so not overwritten).
    const conditions = [
      value.check === undefined ? "" : `(${value.check})`,
      attribute.multi ? "" : `out[${key}] === undefined`,
    ].filter(Boolean);
    const store = attribute.multi ? append : `{ out[${key}] = v; continue; }`;
    const stored = value.fallible ? `if (v !== MISFIT) ${store}` : store;
    const read = `${value.read}\n${stored}`;
    cases.push(
      `case ${attribute.type}:${
        conditions.length === 0
          ? ` {\n${read}\n}`
          : ` if (${conditions.join(" && ")}) {\n${read}\n}`
      }\nbreak;`,
    );
  }
  // With a pick, what was not picked (and what the set does not have) is skipped, not kept.
  if (picked !== undefined) cases.push("default: continue;");
  const body = `
    const keep = ${source.ref(keep)}, malformed = ${source.ref(malformed)};
    const MISFIT = ${source.ref(MISFIT)}, codec = ${source.ref(codec)};
    const findSelector = ${source.ref(findSelector)};
    const decodeSubMessage = ${source.ref(decodeSubMessage)};
    const finishDeferred = ${source.ref(finishDeferred)};
    return function decode(bytes, view, base, start, end, out, parent) {
      let scope, deferred, v, len = 0;
      for (let at = start; at < end; at += (len + 3) & -4) {
        if (end - at < 4) malformed(bytes, at, end);
        len = view.getUint16(base + at, ${LITTLE});
        if (len < 4 || len > end - at) malformed(bytes, at, end);
        const tf = view.getUint16(base + at + 2, ${LITTLE});
        const vs = at + 4, vl = len - 4;
        switch (tf & ${NLA_TYPE_MASK}) {
          ${cases.join("\n")}
        }
        keep(out, bytes, at, len, tf);
      }
      ${subMessages ? `if (deferred !== undefined) finishDeferred(codec, deferred, ${scope});` : ""}
    };`;
  return source.compile<SetDecoder>(body);
}

/**
 * Why decoded objects come from constructors whose prototype is Object.prototype (so they are
 * plain objects) rather than from literals: V8 leaves room in objects a constructor makes for
 * the properties that instances go on to get (the attributes after a fixed header, the
 * attributes of a nest), where a literal's overflow goes to a second allocation per object.
 * In a micro-benchmark building 100,000 route-like objects (nine members, three attributes),
 * this took about 17% less time on Deno, and about as long on Bun.
 */
const PLAIN = "// plain objects with room for their attributes (see PLAIN in _decode.ts)";

/** An empty object for `set`'s attributes; see {@linkcode PLAIN}. */
function objectsOf(set: CompiledSet): new() => Record<string, unknown> {
  return set.objects ??= new Function(
    `${PLAIN}\nfunction Attributes() {}\nAttributes.prototype = Object.prototype;\nreturn Attributes;`,
  )() as new() => Record<string, unknown>;
}

/** The reader of `struct`, generated on first use: its members, set in order. */
export function readerOf(struct: CompiledStruct): StructReader {
  if (struct.reader !== undefined) return struct.reader;
  const source = new Source();
  const members: string[] = [];
  for (const member of struct.members) {
    if (member.code === PAD) continue;
    const at = `at + ${member.offset}`;
    let value: string;
    if (member.code === STRING) {
      value = `${source.ref(nulTerminated)}(bytes, ${at}, ${at} + ${member.size})`;
    } else if (member.code === BINARY) {
      value = member.struct !== undefined
        ? `${source.ref(readerOf(member.struct))}(bytes, view, base, ${at})`
        : hintedMember(source, member, at) ?? `bytes.subarray(${at}, ${at} + ${member.size})`;
    } else {
      const read = integer(member.code, member.bigEndian, `base + ${at}`);
      value = integerValue(source, member.code, member.enumeration, member.hint, read);
    }
    members.push(`this[${JSON.stringify(member.key)}] = ${value};`);
  }
  // The constructor is per-event code too, listed as the reader is: JavaScriptCore compiles it
  // apart (a struct of 24 counters is too large to inline into its reader), and it would run in
  // Baseline for as long as a monitor runs.
  return struct.reader = source.compile<StructReader>(`
    ${PLAIN}
    function Struct(bytes, view, base, at) {\n${members.join("\n")}\n}
    Struct.prototype = Object.prototype;
    ${source.ref(perEventClosures)}(Struct);
    return function read(bytes, view, base, at) {
      return new Struct(bytes, view, base, at);
    };`);
}

/** A bytes member with a text hint, read as its text; undefined when it has none it can be. */
function hintedMember(source: Source, member: CompiledMember, at: string): string | undefined {
  const { hint, size } = member;
  if (!textHint(hint)) return undefined;
  if (hint === "mac") return `${source.ref(macText)}(bytes, ${at}, ${at} + ${size})`;
  if (hint === "uuid") return size === 16 ? `${source.ref(uuidText)}(bytes, ${at})` : undefined;
  return size === 4 || size === 16 ? `${source.ref(ipText)}(bytes, ${at}, ${size})` : undefined;
}

/** The reader of one value of `attribute` (an indexed-array element), generated on first use. */
function valueReaderOf(codec: Codec, attribute: CompiledAttribute): ValueReader {
  let reader = valueReaders.get(attribute);
  if (reader === undefined) {
    const source = new Source();
    const value = valueSource(codec, source, attribute, "scope");
    reader = value === undefined ? () => MISFIT : source.compile<ValueReader>(
      `return function read(bytes, view, base, vs, vl, scope) {
        let v;
        ${value.check ? `if (!(${value.check})) return ${source.ref(MISFIT)};` : ""}
        ${value.read}
        return v;
      };`,
    );
    valueReaders.set(attribute, reader);
  }
  return reader;
}

const valueReaders = new WeakMap<CompiledAttribute, ValueReader>();

// --- what the generated code calls for the rarer kinds -------------------------------------------

function decodeIndexedArray(
  codec: Codec,
  attribute: CompiledAttribute,
  bytes: Uint8Array,
  at: number,
  length: number,
  scope: Scope | undefined,
): unknown[] {
  const element = attribute.element!;
  const list: unknown[] = [];
  for (const inner = new AttributeDecoder(bytes, at, at + length); inner.next();) {
    const value = inner.bytes();
    const view = sharedView(value.buffer);
    if (element.code === NEST) {
      const set = nestedSet(codec, element);
      const out = new (objectsOf(set))();
      decoderOf(codec, set)(
        value,
        view,
        value.byteOffset,
        0,
        value.byteLength,
        out,
        scope,
      );
      list.push(out);
    } else {
      const decoded = valueReaderOf(codec, element)(
        value,
        view,
        value.byteOffset,
        0,
        value.byteLength,
        scope,
      );
      list.push(decoded === MISFIT ? attributeOf(inner) : decoded);
    }
  }
  return list;
}

/**
 * A nest-type-value attribute: levels of nests numbered by type, then attributes, or one integer
 * (`value`) when the attribute has a sub-type; MISFIT when such an integer has the wrong size.
 */
function decodeTypeValue(
  codec: Codec,
  attribute: CompiledAttribute,
  bytes: Uint8Array,
  at: number,
  length: number,
  scope: Scope | undefined,
): Record<string, unknown>[] | typeof MISFIT {
  const names = attribute.options.typeValue!;
  const element = attribute.element;
  const decode = element === undefined ? decoderOf(codec, nestedSet(codec, attribute)) : undefined;
  const read = element === undefined ? undefined : valueReaderOf(codec, element);
  const list: Record<string, unknown>[] = [];
  let misfit = false;
  const level = (decoder: AttributeDecoder, depth: number, keys: Record<string, unknown>) => {
    while (decoder.next()) {
      const here = { ...keys, [names[depth]]: decoder.type };
      if (depth + 1 < names.length) level(decoder.nestedDecoder(), depth + 1, here);
      else {
        const value = decoder.bytes();
        const view = sharedView(value.buffer);
        if (decode !== undefined) {
          decode(value, view, value.byteOffset, 0, value.byteLength, here, scope);
        } else {
          here.value = read!(value, view, value.byteOffset, 0, value.byteLength, scope);
          if (here.value === MISFIT) misfit = true;
        }
        list.push(here);
      }
    }
  };
  level(new AttributeDecoder(bytes, at, at + length), 0, {});
  return misfit ? MISFIT : list;
}

/** A sub-message value in the format its selector names; bytes when it names none. */
function decodeSubMessage(
  codec: Codec,
  attribute: CompiledAttribute,
  selector: unknown,
  bytes: Uint8Array,
  scope: Scope | undefined,
): unknown {
  const formats = codec.descriptor.subMessages[attribute.options.subMessage!];
  const format =
    formats !== undefined && typeof selector === "string" && Object.hasOwn(formats, selector)
      ? formats[selector]
      : undefined;
  if (format === undefined) return bytes;
  const view = sharedView(bytes.buffer);
  let out = format.set === undefined ? {} : new (objectsOf(codec.set(format.set)))();
  let offset = 0;
  if (format.header !== undefined) {
    const header = codec.struct(format.header);
    if (bytes.byteLength < header.size) return bytes;
    out = readerOf(header)(bytes, view, bytes.byteOffset, 0);
    offset = header.size;
  }
  if (format.set !== undefined) {
    decoderOf(codec, codec.set(format.set))(
      bytes,
      view,
      bytes.byteOffset,
      offset,
      bytes.byteLength,
      out,
      scope,
    );
  }
  return out;
}

/** Sub-messages that came before their selector, decoded once the whole set is read. */
function finishDeferred(
  codec: Codec,
  deferred: [CompiledAttribute, Uint8Array][],
  scope: Scope,
): void {
  for (const [attribute, bytes] of deferred) {
    const selector = findSelector(scope, attribute.options.selector!);
    scope.values[attribute.key] = decodeSubMessage(codec, attribute, selector?.[0], bytes, scope);
  }
}

/**
 * Sets that nest each other in a cycle (ovs-flow's encap, the example's main and inner) recurse
 * once per level, and a 64 KiB attribute holds 16,383 levels: more than Deno's stack (a
 * RangeError, "Maximum call stack size exceeded"). No kernel nests so deep; say what it is.
 */
function tooDeep(err: unknown): unknown {
  return err instanceof RangeError && /call stack/i.test(err.message)
    ? new MalformedMessageError("attributes nested too deep to decode", 0)
    : err;
}

/**
 * Decodes the payload of one operation's messages; `decodeAt` decodes one whose bytes are
 * `bytes[start, end)` (a message where it was received, without a view of its own).
 */
export interface MessageDecoder {
  (payload: Uint8Array): Record<string, unknown>;
  decodeAt(bytes: Uint8Array, start: number, end: number): Record<string, unknown>;
}

/**
 * The decoder of operation `op`'s message payloads: the fixed header's members and the
 * attributes, in one object. For generic netlink the payload starts with the genlmsghdr. Made
 * once per operation, so that a dump looks nothing up per message.
 */
export function messageDecoder(
  codec: Codec,
  op: OperationDescriptor,
  pick?: AttributePick,
): MessageDecoder {
  if (pick !== undefined) {
    let picks = codec.pickedDecoders.get(op);
    if (picks === undefined) codec.pickedDecoders.set(op, picks = new Map());
    return keptPick(picks, pick.key, () => generateMessageDecoder(codec, op, pick));
  }
  let decode = codec.messageDecoders.get(op);
  if (decode === undefined) {
    decode = generateMessageDecoder(codec, op, undefined);
    codec.messageDecoders.set(op, decode);
  }
  return decode;
}

function generateMessageDecoder(
  codec: Codec,
  op: OperationDescriptor,
  pick: AttributePick | undefined,
): MessageDecoder {
  const header = op.header === undefined ? undefined : codec.struct(op.header);
  const skip = codec.genetlink ? GENL_HDRLEN : 0;
  const size = skip + (header?.size ?? 0);
  const tooShort = `is too short for ${
    [codec.genetlink ? "genlmsghdr" : "", op.header ?? ""].filter(Boolean).join(" and ")
  } (${size} bytes)`;
  const read = header === undefined ? undefined : readerOf(header);
  const set = op.set === undefined ? undefined : codec.set(op.set);
  const attributes = set === undefined ? undefined : decoderOf(codec, set, pick);
  const make = set === undefined
    ? Object as unknown as new() => Record<string, unknown>
    : objectsOf(set);
  const decodeAt = (bytes: Uint8Array, start: number, end: number) => {
    if (end - start < size) {
      throw new MalformedMessageError(`payload of ${end - start} bytes ${tooShort}`, 0);
    }
    const view = sharedView(bytes.buffer);
    const base = bytes.byteOffset;
    const out = read !== undefined ? read(bytes, view, base, start + skip) : new make();
    if (attributes !== undefined) {
      try {
        attributes(bytes, view, base, start + size, end, out, undefined);
      } catch (err) {
        throw tooDeep(err);
      }
    } else if (end - start > size && pick === undefined) {
      const kept: Attribute[] = [];
      for (const decoder = new AttributeDecoder(bytes, start + size, end); decoder.next();) {
        kept.push(attributeOf(decoder));
      }
      (out as Record<symbol, unknown>)[unknownAttributes] = kept;
    }
    return out;
  };
  const decode = Object.assign(
    (payload: Uint8Array) => decodeAt(payload, 0, payload.byteLength),
    { decodeAt },
  );
  perEventClosures(decode, decodeAt);
  return decode;
}

// What the generated decoders call (they are listed as they are compiled, see Source.compile).
perEventCode(() => [
  nulTerminated,
  keep,
  unknown,
  decodeIndexedArray,
  decodeTypeValue,
  decodeSubMessage,
  finishDeferred,
  nameOf,
  nameIn,
  attributeOf,
  ipv4Text,
  ipText,
  macText,
  uuidText,
]);
