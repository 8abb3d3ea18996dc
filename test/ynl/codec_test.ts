// Every attribute type the generator emits, encoded and decoded through the runtime with a
// descriptor written for the purpose, plus the spec checks enforced on encode, unknown attributes
// kept, and the consistency of every generated family descriptor.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { type Attribute, AttributeDecoder, AttributeEncoder } from "../../src/attribute.ts";
import { GENL_ID_CTRL, NLA_F_NESTED } from "../../src/constants.ts";
import { MalformedMessageError } from "../../src/errors.ts";
import type { GenericFamily } from "../../src/genl.ts";
import type { NetlinkSocket } from "../../src/socket.ts";
import { codecOf } from "../../src/ynl/_compile.ts";
import { textBytes } from "../../src/ynl/_decode.ts";
import {
  type AttributeSetValue,
  family,
  type FamilyDescriptor,
  NetlinkFamily,
  structTail,
  unknownAttributes,
} from "../../src/ynl/mod.ts";
import { rtLink } from "../../src/ynl/rt_link.ts";

const example = {
  name: "example",
  protocol: "netlink-raw",
  protonum: 31,
  consts: {},
  enums: {
    color: { flags: false, entries: { red: 0, green: 1, blue: 7 } },
    feature: { flags: true, entries: { a: 1, b: 2, c: 4 } },
  },
  structs: {
    hdr: [
      ["family", "u8"],
      ["pad", "pad", { len: 1 }],
      ["port", "u16", { bigEndian: true }],
      ["index", "s32"],
      ["hue", "u8", { enum: "color" }],
      ["pad", "pad", { len: 3 }],
    ],
    pair: [
      ["lo", "u32"],
      ["hi", "u64"],
      ["label", "string", { len: 8 }],
      ["mac", "binary", { len: 6 }],
      ["pad", "pad", { len: 2 }],
      ["point", "binary", { struct: "point" }],
    ],
    point: [["x", "s16"], ["y", "u16"]],
  },
  sets: {
    main: {
      u8: [1, "u8"],
      u16: [2, "u16"],
      u32: [3, "u32"],
      u64: [4, "u64"],
      s8: [5, "s8"],
      s16: [6, "s16"],
      s32: [7, "s32"],
      s64: [8, "s64"],
      be16: [9, "u16", { bigEndian: true }],
      be32: [10, "u32", { bigEndian: true }],
      be64: [11, "u64", { bigEndian: true }],
      sbe32: [12, "s32", { bigEndian: true }],
      uintSmall: [13, "uint"],
      uintBig: [14, "uint"],
      sint: [15, "sint"],
      flag: [16, "flag"],
      name: [17, "string", { checks: { maxLen: 8 } }],
      blob: [18, "binary", { checks: { minLen: 2, maxLen: 4 } }],
      key: [19, "binary", { checks: { exactLen: 4 } }],
      pair: [20, "binary", { struct: "pair" }],
      nest: [21, "nest", { nest: "inner" }],
      multi: [22, "u32", { multi: true }],
      multiNest: [23, "nest", { nest: "inner", multi: true }],
      array: [24, "indexed-array", { subType: "u16" }],
      arrayNest: [25, "indexed-array", { subType: "nest", nest: "inner" }],
      cArray: [26, "binary", { subType: "u32" }],
      policy: [27, "nest-type-value", { nest: "inner", typeValue: ["outerId", "innerId"] }],
      kind: [28, "string"],
      data: [29, "sub-message", { subMessage: "kind-data", selector: "kind" }],
      bits: [30, "bitfield32", { checks: { mask: 7 } }],
      color: [31, "u32", { enum: "color" }],
      features: [32, "u32", { enum: "feature", asFlags: true }],
      ranged: [33, "u32", { checks: { min: 1, max: 100 } }],
      masked: [34, "u32", { checks: { mask: 7 } }],
      padding: [35, "pad"],
      unused: [36, "unused"],
      stats: [37, "nest", { nest: "stats" }],
      counters: [38, "nest-type-value", { subType: "u64", typeValue: ["id"], multi: true }],
      levels: [39, "nest-type-value", { subType: "u16", typeValue: ["outerId", "innerId"] }],
    },
    // Its sub-message is selected by `kind` of the enclosing set, as tc's TCA_STATS_APP is.
    stats: {
      app: [1, "sub-message", { subMessage: "kind-data", selector: "kind" }],
    },
    inner: {
      a: [1, "u32"],
      b: [2, "string"],
      c: [3, "nest", { nest: "main" }],
    },
  },
  subMessages: {
    "kind-data": {
      attrs: { set: "inner" },
      header: { header: "point" },
      both: { header: "point", set: "inner" },
      empty: {},
    },
  },
  ops: {
    set: { set: "main", header: "hdr", request: 16, do: { request: true } },
    get: {
      set: "main",
      header: "hdr",
      request: 18,
      reply: 17,
      do: { request: true, reply: true },
      dump: { request: true, reply: true },
    },
    notice: { set: "inner", reply: 20, event: true, group: "events" },
  },
  groups: { events: 3 },
} as const satisfies FamilyDescriptor;

const codec = new NetlinkFamily(example, {} as NetlinkSocket);

/**
 * Encodes `value` as a "set" request, decodes it back as the message it is. The payload is
 * decoded where received ones are: inside a larger buffer, here at an odd offset.
 */
function roundTrip(value: Record<string, unknown>): Record<string | symbol, unknown> {
  const message = codec.encode("set", value);
  const datagram = new Uint8Array(message.payload!.byteLength + 21);
  datagram.set(message.payload!, 17);
  const decoded = codec.decode({
    type: message.type,
    flags: 0,
    seq: 0,
    portid: 0,
    payload: datagram.subarray(17, 17 + message.payload!.byteLength),
  });
  assert.equal(decoded?.op, "set");
  return decoded!.message as unknown as Record<string | symbol, unknown>;
}

/** The attributes after the 12-byte hdr struct of an encoded request. */
function attributes(value: Record<string, unknown>): AttributeDecoder {
  return new AttributeDecoder(codec.encode("set", value).payload!, 12);
}

const HEADER = { family: 2, port: 8080, index: -3, hue: "blue" } as const;

test("every scalar kind round-trips with its width, sign and byte order", () => {
  const value = {
    ...HEADER,
    u8: 255,
    u16: 65535,
    u32: 0xffff_ffff,
    u64: 0xffff_ffff_ffff_ffffn,
    s8: -128,
    s16: -32768,
    s32: -0x8000_0000,
    s64: -0x8000_0000_0000_0000n,
    be16: 0x1234,
    be32: 0x0a000001,
    be64: 0x0102_0304_0506_0708n,
    sbe32: -2,
    uintSmall: 7,
    uintBig: 0x1_0000_0000n,
    sint: -5,
  };
  const decoded = roundTrip(value);
  assert.deepEqual(decoded, {
    ...value,
    u64: 0xffff_ffff_ffff_ffffn,
    uintSmall: 7n, // uint and sint decode as bigint, whatever their size on the wire
    sint: -5n,
  });
  const sizes = new Map<number, number[]>();
  for (const a = attributes(value); a.next();) sizes.set(a.type, [...a.bytes()]);
  assert.deepEqual(sizes.get(9), [0x12, 0x34]); // big-endian
  assert.deepEqual(sizes.get(10), [10, 0, 0, 1]);
  assert.deepEqual(sizes.get(12), [0xff, 0xff, 0xff, 0xfe]);
  assert.equal(sizes.get(13)!.length, 4); // uint: 4 bytes when the value fits
  assert.equal(sizes.get(14)!.length, 8);
  assert.equal(sizes.get(15)!.length, 4);
  // The fixed header: family, pad, port (big-endian), index, color = 7, pad.
  assert.deepEqual(
    [...codec.encode("set", HEADER).payload!],
    [2, 0, 0x1f, 0x90, 0xfd, 0xff, 0xff, 0xff, 7, 0, 0, 0],
  );
});

test("flags, strings, binary, structs and C arrays round-trip", () => {
  const value = {
    flag: true,
    name: "eight ch",
    blob: Uint8Array.of(1, 2, 3),
    key: Uint8Array.of(9, 9, 9, 9),
    pair: {
      lo: 1,
      hi: 2n ** 63n,
      label: "abc",
      mac: Uint8Array.of(2, 0, 0, 0, 0, 1),
      point: { x: -1, y: 2 },
    },
    cArray: [1, 2, 0xffff_ffff],
  };
  const decoded = roundTrip(value);
  assert.deepEqual(decoded, { family: 0, port: 0, index: 0, hue: "red", ...value });
  // Absent members of a struct are zero; a flag set to false is left out.
  const partial = roundTrip({ pair: { lo: 5 }, flag: false });
  assert.deepEqual(partial.pair, {
    lo: 5,
    hi: 0n,
    label: "",
    mac: new Uint8Array(6),
    point: { x: 0, y: 0 },
  });
  assert.equal("flag" in partial, false);
  for (const a = attributes({ name: "x" }); a.next();) assert.deepEqual([...a.bytes()], [120, 0]);
  // A string's UTF-8 and its NUL, at nla_len's bound too; a struct's member is NUL-padded.
  const widest = "\u00e9".repeat(32_765); // 65530 bytes of UTF-8, the most an attribute holds
  for (const a = attributes({ kind: widest }); a.next();) {
    assert.equal(a.length, 65_531);
    assert.deepEqual([...a.bytes().subarray(-3)], [0xc3, 0xa9, 0]);
  }
  assert.equal(roundTrip({ kind: widest }).kind, widest);
  const label = roundTrip({ pair: { label: "\u00e9t\u00e9!" } }).pair as { label: string };
  assert.equal(label.label, "\u00e9t\u00e9!");
  // Short ASCII is built by the walk, the rest decoded as UTF-8: both ways, and where they meet.
  for (
    const kind of ["", "a", "x".repeat(31), "x".repeat(32), "x".repeat(33), "ab\u00e9", "\u00e9"]
  ) {
    assert.equal(roundTrip({ kind }).kind, kind);
  }
  // No NUL within the attribute (the kernel always sends one; a peer may not): up to its end.
  const bare = new AttributeEncoder().bytes(28, new TextEncoder().encode("no nul \u00e9")).finish();
  const header = codec.encode("set", {}).payload!;
  const unended = codec.decode({
    type: codec.encode("set", {}).type,
    flags: 0,
    seq: 0,
    portid: 0,
    payload: Uint8Array.of(...header, ...bare),
  });
  assert.equal((unended!.message as { kind?: string }).kind, "no nul \u00e9");
});

test("a flag is true when present, or the truth of the byte the kernel sent it with", () => {
  // vxlan_fill_info() puts IFLA_VXLAN_TTL_INHERIT, an NLA_FLAG in its policy, as a u8 0 or 1.
  const message = codec.encode("set", {});
  const decode = (attrs: Uint8Array) =>
    codec.decode({
      type: message.type,
      flags: 0,
      seq: 0,
      portid: 0,
      payload: Uint8Array.of(...message.payload!, ...attrs),
    })!.message as Record<string, unknown>;
  assert.equal(decode(new AttributeEncoder().flag(16).finish()).flag, true);
  assert.equal(decode(new AttributeEncoder().u8(16, 1).finish()).flag, true);
  assert.equal(decode(new AttributeEncoder().u8(16, 0).finish()).flag, false);
  // Longer is no flag: kept as an unknown attribute, not read as one.
  assert.equal("flag" in decode(new AttributeEncoder().u32(16, 0).finish()), false);
});

test("a C array is read whole at any offset; one whose length is no multiple of its element is kept", () => {
  // At an odd offset: the generated loop reads through the DataView, never a view of its own.
  const decode = (attrs: Uint8Array, at: number) => {
    const message = codec.encode("set", {});
    const payload = new Uint8Array([...message.payload!, ...attrs]);
    const datagram = new Uint8Array(payload.byteLength + at);
    datagram.set(payload, at);
    const out = codec.decode({
      type: message.type,
      flags: 0,
      seq: 0,
      portid: 0,
      payload: datagram.subarray(at),
    })!.message as unknown as Record<string | symbol, unknown>;
    return out;
  };
  const words = new Uint8Array(new Uint32Array([7, 0xffff_ffff, 0]).buffer);
  for (const at of [0, 1, 3]) {
    assert.deepEqual(decode(new AttributeEncoder().bytes(26, words).finish(), at).cArray, [
      7,
      0xffff_ffff,
      0,
    ]);
    assert.deepEqual(
      decode(new AttributeEncoder().bytes(26, new Uint8Array()).finish(), at).cArray,
      [],
    );
    const misfit = decode(new AttributeEncoder().bytes(26, words.subarray(0, 6)).finish(), at);
    assert.equal(misfit.cArray, undefined);
    const kept = misfit[unknownAttributes] as Attribute[];
    assert.deepEqual(kept.map((a) => [a.type, a.value.byteLength]), [[26, 6]]);
  }
});

test("nests, multi-attr, indexed arrays and nest-type-value round-trip", () => {
  const value = {
    nest: { a: 1, b: "one", c: { u8: 3, nest: { b: "deep" } } },
    multi: [1, 2, 3],
    multiNest: [{ a: 1 }, { b: "two" }],
    array: [10, 20, 30],
    arrayNest: [{ a: 1 }, { a: 2, b: "x" }],
    policy: [
      { outerId: 1, innerId: 4, a: 5 },
      { outerId: 2, innerId: 0, b: "z" },
    ],
  };
  const decoded = roundTrip(value);
  assert.deepEqual(decoded, { family: 0, port: 0, index: 0, hue: "red", ...value });
  const types: number[] = [];
  for (const a = attributes({ multi: [1, 2] }); a.next();) types.push(a.type);
  assert.deepEqual(types, [22, 22]); // one attribute per element
  for (const a = attributes({ array: [10, 20] }); a.next();) {
    assert.equal(a.nested, true);
    const indexes: number[] = [];
    for (const inner = a.nestedDecoder(); inner.next();) indexes.push(inner.type);
    assert.deepEqual(indexes, [1, 2]); // indexed from 1: the kernel skips index 0
  }
});

test("nest-type-value with an integer sub-type: { ...levels, value }; multi-attr, one per entry", () => {
  const value = {
    counters: [{ id: 0, value: 12n }, { id: 3, value: 2n ** 63n }, { id: 0, value: 1n }],
    levels: [{ outerId: 1, innerId: 0, value: 7 }, { outerId: 2, innerId: 5, value: 65535 }],
  };
  assert.deepEqual(roundTrip(value), { family: 0, port: 0, index: 0, hue: "red", ...value });
  // As ethtool's stats: one attribute per counter, a nest holding the u64 typed by its id.
  const entries: [number, number, bigint][] = [];
  for (const a = attributes({ counters: value.counters }); a.next();) {
    assert.equal(a.nested, true);
    const inner = a.nestedDecoder();
    assert.ok(inner.next());
    entries.push([a.type, inner.type, inner.u64()]);
    assert.equal(inner.next(), false);
  }
  assert.deepEqual(entries, [[38, 0, 12n], [38, 3, 2n ** 63n], [38, 0, 1n]]);
  // Without multi-attr, one attribute holds every entry, level by level.
  const types: number[][] = [];
  for (const a = attributes({ levels: value.levels }); a.next();) {
    for (const outer = a.nestedDecoder(); outer.next();) {
      for (const inner = outer.nestedDecoder(); inner.next();) {
        types.push([a.type, outer.type, inner.type, inner.u16()]);
      }
    }
  }
  assert.deepEqual(types, [[39, 1, 0, 7], [39, 2, 5, 65535]]);
  assert.throws(() => codec.encode("set", { counters: [{ id: 1, value: 2n, name: "x" }] }), {
    name: "TypeError",
    message: "counters: an entry has id and value, not \"name\"",
  });
  assert.throws(() => codec.encode("set", { counters: [{ id: 1, value: -1n }] }), RangeError);
  assert.throws(() => codec.encode("set", { counters: [{ id: 1 }] }), /counters\[\]: expected/);
  // A level is an attribute type: 14 bits (the two above are the nested and byte-order flags).
  assert.throws(() => codec.encode("set", { counters: [{ id: 0x4000, value: 1n }] }), {
    name: "RangeError",
    message: "counters.id: 16384 is above the maximum 16383",
  });
  assert.throws(() => codec.encode("set", { policy: [{ outerId: 1, innerId: 0x4000 }] }), {
    name: "RangeError",
    message: "policy.innerId: 16384 is above the maximum 16383",
  });
  assert.ok(codec.encode("set", { counters: [{ id: 0x3fff, value: 1n }] }));
});

test("nest-type-value with an integer sub-type: a value of the wrong size keeps the attribute", () => {
  const misfit = new AttributeEncoder()
    .nested(38, (n) => n.u32(4, 1))
    .nested(38, (n) => n.u64(5, 9n))
    .finish();
  const message = codec.encode("set", {});
  const payload = new Uint8Array([...message.payload!, ...misfit]);
  const decoded = codec.decode({ type: message.type, flags: 0, seq: 0, portid: 0, payload });
  const out = decoded!.message as unknown as Record<string | symbol, unknown>;
  assert.deepEqual(out.counters, [{ id: 5, value: 9n }]);
  const kept = out[unknownAttributes] as Attribute[];
  assert.deepEqual(kept.map((a) => a.type), [38]);
  // Encoded back as it came, after the entries that decoded.
  const again: [number, number, number][] = [];
  for (const a = new AttributeDecoder(codec.encode("set", out).payload!, 12); a.next();) {
    const inner = a.nestedDecoder();
    assert.ok(inner.next());
    again.push([a.type, inner.type, inner.bytes().byteLength]);
  }
  assert.deepEqual(again, [[38, 5, 8], [38, 4, 4]]);
});

test("sub-messages: formats chosen by the selector, in either order; unknown formats as bytes", () => {
  assert.deepEqual(roundTrip({ kind: "attrs", data: { a: 1, b: "x" } }).data, { a: 1, b: "x" });
  assert.deepEqual(roundTrip({ kind: "header", data: { x: -2, y: 3 } }).data, { x: -2, y: 3 });
  assert.deepEqual(roundTrip({ kind: "both", data: { x: 1, a: 2 } }).data, { x: 1, y: 0, a: 2 });
  assert.deepEqual(roundTrip({ kind: "empty", data: {} }).data, {});
  // A selector in the enclosing set.
  assert.deepEqual(roundTrip({ kind: "attrs", stats: { app: { a: 4 } } }).stats, { app: { a: 4 } });
  // The attribute is nested when its format has attributes, as the kernel's own encoders do.
  const flags: boolean[] = [];
  for (const a = attributes({ kind: "attrs", data: {} }); a.next();) flags.push(a.nested);
  assert.deepEqual(flags, [false, true]);

  // Data before its selector: decoded once the selector has been seen.
  const encoder = new AttributeEncoder()
    .nested(29, (inner) => inner.u32(1, 9))
    .string(28, "attrs");
  const payload = new Uint8Array(12 + encoder.finish().length);
  payload.set(
    new AttributeEncoder().nested(29, (inner) => inner.u32(1, 9)).string(28, "attrs").finish(),
    12,
  );
  const late = codec.decode({ type: 16, flags: 0, seq: 0, portid: 0, payload })!.message;
  assert.deepEqual((late as { data: unknown }).data, { a: 9 });

  // A selector the spec does not know: the value stays bytes, and encodes from bytes.
  const unknown = roundTrip({ kind: "newer", data: Uint8Array.of(1, 2, 3, 4) });
  assert.deepEqual(unknown.data, Uint8Array.of(1, 2, 3, 4));
  assert.throws(
    () => codec.encode("set", { kind: "newer", data: { a: 1 } }),
    /selects no known format/,
  );
  assert.throws(() => codec.encode("set", { kind: "header", data: { a: 1 } }), /has no "a"/);
});

test("bitfield32, enums and enum-as-flags", () => {
  const decoded = roundTrip({ bits: { value: 5, selector: 7 }, color: "green", features: 6 });
  assert.deepEqual(decoded.bits, { value: 5, selector: 7 });
  assert.equal(decoded.color, "green");
  assert.equal(decoded.features, 6); // a bit mask stays a number
  assert.equal(roundTrip({ color: 1 }).color, "green"); // numbers are accepted too
  assert.equal(roundTrip({ color: 5 }).color, 5); // a value without a name stays a number
  assert.throws(
    () => codec.encode("set", { color: "purple" }),
    /"purple" is not one of red, green, blue/,
  );
});

test("checks from the spec are enforced on encode", () => {
  const rejects = (value: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(() => codec.encode("set", value), pattern);
  rejects({ name: "nine char" }, /name: must be at most 8 bytes, got 9/);
  // A string's NUL and nla_len's bound name the attribute too, as the spec's checks do.
  rejects({ name: "ab\0c" }, /^RangeError: name: a string cannot hold NUL/);
  rejects({ name: "a\ud800" }, /^TypeError: name: "a\\ud800" holds a lone surrogate/);
  rejects({ kind: "x".repeat(70_000) }, /^RangeError: kind: at most 65530 bytes of UTF-8/);
  rejects({ kind: "x".repeat(65_531) }, /at most 65530 bytes of UTF-8 .*, got 65531$/);
  // So do a binary's, a nest's and a sub-message's: the encoder under them names type numbers.
  rejects({ pair: new Uint8Array(65_532) }, /^RangeError: pair: at most 65531 bytes fit/);
  rejects(
    { cArray: Array.from({ length: 16_383 }, () => 1) },
    /^RangeError: cArray: at most 65531 bytes fit \(nla_len is a u16\), got 65532$/,
  );
  const long = { b: "x".repeat(40_000), c: { kind: "y".repeat(40_000) } };
  rejects({ nest: long }, /^RangeError: nest: nested contents must be at most 65531 bytes/);
  rejects({ array: Array.from({ length: 10_000 }, () => 1) }, /^RangeError: array: nested/);
  rejects({ arrayNest: [{}, long] }, /^RangeError: arrayNest\[1\]: nested contents/);
  rejects({ policy: [{ outerId: 1, innerId: 2, ...long }] }, /^RangeError: policy: nested/);
  rejects({ kind: "attrs", data: new Uint8Array(65_532) }, /^RangeError: data: at most/);
  rejects({ kind: "attrs", data: long }, /^RangeError: data: at most 65531 bytes fit/);
  rejects({ blob: Uint8Array.of(1) }, /at least 2 bytes/);
  rejects({ blob: new Uint8Array(5) }, /at most 4 bytes/);
  rejects({ key: new Uint8Array(3) }, /exactly 4 bytes/);
  rejects({ ranged: 0 }, /below the minimum 1/);
  rejects({ ranged: 101 }, /above the maximum 100/);
  rejects({ masked: 8 }, /outside the mask 7/);
  rejects({ bits: { value: 8, selector: 8 } }, /outside the mask 7/);
  rejects({ u8: 256 }, /out of range 0\.\.255/);
  rejects({ s8: -129 }, /out of range -128\.\.127/);
  // The number itself is shown, not its type ("got number").
  rejects({ u32: 1.5 }, /^TypeError: u32: expected an integer, got 1\.5$/);
  rejects({ u32: NaN }, /^TypeError: u32: expected an integer, got NaN$/);
  rejects({ u32: 2 ** 60 }, /^TypeError: u32: expected an integer, got 1152921504606847000$/);
  // A 64-bit kind past 2^53 is asked for as a bigint, which holds it exactly.
  rejects(
    { u64: 2 ** 60 },
    /^TypeError: u64: 1152921504606847000 is past Number\.MAX_SAFE_INTEGER: give it as a bigint$/,
  );
  rejects({ u64: 2n ** 64n }, /out of range/);
  // A bigint is a 64-bit kind's value: a u32 or a u8 is a number, as it decodes.
  rejects({ u32: 5n }, /^TypeError: u32: expected a number \(not a bigint\), got 5n$/);
  rejects({ u8: 1n }, /^TypeError: u8: expected a number \(not a bigint\), got 1n$/);
  rejects({ pair: { lo: 1n } }, /^TypeError: pair\.lo: expected a number \(not a bigint\)/);
  rejects({ multi: [1, 2n] }, /^TypeError: multi: expected a number \(not a bigint\)/);
  rejects({ cArray: [1n] }, /^TypeError: cArray\[0\]: expected a number \(not a bigint\)/);
  rejects({ pair: { label: "too long!" } }, /pair\.label: at most 7 bytes fit, got 9$/);
  rejects({ pair: { label: "\u00e9t\u00e9 ok" } }, /pair\.label: at most 7 bytes fit, got 8$/);
  rejects({ pair: { nope: 1 } }, /struct pair has no member "nope"/);
  rejects({ nope: 1 }, /attribute set main has no attribute "nope"/);
  rejects({ padding: 1 }, /has no attribute "padding"/);
  rejects({ flag: 1 }, /flag value must be a boolean/);
  rejects({ multi: 1 }, /multi-attr value must be an array/);
  rejects({ multi: "1" }, /^TypeError: multi: multi-attr value must be an array, got "1"$/);
  // Named by the request's path, as a FamilyError's attribute is: nests, arrays, sub-messages.
  rejects({ nest: { b: 1 } }, /^TypeError: nest\.b: /);
  rejects({ nest: "x" }, /expected an object/);
  // A Map, a Promise not awaited or a Date has no own properties: it encoded as an empty nest.
  rejects(
    { nest: new Map([["u32", 1]]) },
    /^TypeError: nest: expected an object, got a Map$/,
  );
  rejects({ nest: Promise.resolve({}) }, /expected an object, got a Promise$/);
  rejects({ pair: new Date() }, /expected an object, got a Date$/);
  assert.throws(
    () => codec.encode("set", new Map()),
    /^TypeError: message: expected an object, got a Map$/,
  );
  // A bitfield32's misspelt member was dropped in silence.
  rejects(
    { bits: { value: 1, selector: 1, mask: 1 } },
    /^TypeError: bits: a bitfield32 has no member "mask"/,
  );
  rejects({ name: 5 }, /expected a string/);
  rejects({ blob: [1] }, /expected a Uint8Array/);
  for (
    const ok of [
      ...[{ ranged: 1 }, { ranged: 100 }, { masked: 7 }, { name: "12345678" }],
      ...[{ u64: 1n }, { s64: -1n }, { uintBig: 2n ** 40n }, { sint: -2n }, { pair: { hi: 1n } }],
    ]
  ) {
    codec.encode("set", ok);
  }
});

test("an attribute repeated though not multi-attr: the first is decoded, the others kept", () => {
  const attrs = new AttributeEncoder().u32(3, 7).u32(3, 8).u32(3, 9).finish();
  const payload = new Uint8Array(12 + attrs.length);
  payload.set(attrs, 12);
  const decoded = codec.decode({ type: 16, flags: 0, seq: 0, portid: 0, payload })!.message as
    & Record<string, unknown>
    & { [unknownAttributes]?: Attribute[] };
  assert.equal(decoded.u32, 7);
  assert.deepEqual(decoded[unknownAttributes]!.map((a) => [a.type, a.u32()]), [[3, 8], [3, 9]]);
  assert.deepEqual([...codec.encode("set", decoded).payload!.subarray(12)], [...attrs]);
});

test("a repeat of an attribute that is not multi-attr is kept as it came, not decoded: a repeated name's bytes are not taken for the first's, a repeated nest that does not parse fails nothing", () => {
  const rt = new NetlinkFamily(rtLink, {} as NetlinkSocket);
  const decode = (attrs: Uint8Array) => {
    const payload = new Uint8Array(16 + attrs.length); // ifinfomsg, then the attributes
    payload.set(attrs, 16);
    return rt.decode({ type: 16, flags: 0, seq: 0, portid: 0, payload })!.message as unknown as
      & Record<string, unknown>
      & { [unknownAttributes]?: Attribute[] };
  };
  const names = decode(
    new AttributeEncoder().string(3, "eth0").bytes(3, Uint8Array.of(0xff, 0xfe, 0)).finish(),
  );
  assert.equal(names.ifname, "eth0");
  assert.equal(textBytes(names, "ifname"), undefined);
  assert.deepEqual(names[unknownAttributes]!.map((a) => [...a.value]), [[0xff, 0xfe, 0]]);
  // IFLA_LINKINFO (18) twice, the second holding an attribute whose length runs past the nest.
  const broken = Uint8Array.of(8, 0, 1, 0, 0x76, 0x65, 0x74, 0x68);
  const nests = decode(
    new AttributeEncoder()
      .nested(18, (info) => info.string(1, "veth"))
      .attribute({ type: 18, value: broken.subarray(0, 6), nested: true })
      .finish(),
  );
  assert.deepEqual({ ...nests.linkinfo as object }, { kind: "veth" });
  assert.deepEqual(nests[unknownAttributes]!.map((a) => a.type), [18]);
});

test("unknown and misfit attributes are kept and encoded back unchanged", () => {
  const attrs = new AttributeEncoder()
    .u32(3, 7)
    .u16(3 + 0, 1) // a u32 attribute two bytes long: does not fit the spec
    .string(99, "from a newer kernel")
    .nested(21, (inner) => inner.u8(77, 1)) // unknown inside a nest
    .bytes(36, Uint8Array.of(1)) // the set's "unused" slot
    .finish();
  const payload = new Uint8Array(12 + attrs.length);
  payload.set(attrs, 12);
  const decoded = codec.decode({ type: 16, flags: 0, seq: 0, portid: 0, payload })!.message as
    & Record<string, unknown>
    & { [unknownAttributes]?: Attribute[] };
  assert.equal(decoded.u32, 7);
  const unknown = decoded[unknownAttributes]!;
  assert.deepEqual(unknown.map((a) => a.type), [3, 99, 36]);
  assert.equal(unknown[1].string(), "from a newer kernel");
  const nest = decoded.nest as { [unknownAttributes]?: Attribute[] };
  assert.deepEqual(nest[unknownAttributes]!.map((a) => [a.type, a.u8()]), [[77, 1]]);
  // Encoding the decoded object reproduces the known attributes, then the kept ones.
  const again = codec.encode("set", decoded).payload!;
  const reordered = new AttributeEncoder()
    .u32(3, 7)
    .attribute({ type: 21, value: new AttributeEncoder().u8(77, 1).finish(), nested: true })
    .u16(3, 1)
    .string(99, "from a newer kernel")
    .bytes(36, Uint8Array.of(1))
    .finish();
  assert.deepEqual([...again.subarray(12)], [...reordered]);
  // Nothing in a message the descriptor does not describe.
  assert.equal(codec.decode({ type: 99, flags: 0, seq: 0, portid: 0, payload }), undefined);
  assert.equal((NLA_F_NESTED & 0x8000) !== 0, true);
});

/** What nlctrl would answer for the example family: id 0x1234, group "events" = 9. */
function resolvedExample(changes: Partial<GenericFamily> = {}): GenericFamily {
  return {
    name: "example",
    id: 0x1234,
    version: 1,
    headerSize: 0,
    maxAttribute: 40,
    groups: new Map([["events", 9]]),
    ...changes,
  };
}

test("generic netlink framing: genlmsghdr with the command, decoded by command", () => {
  const genl = {
    ...example,
    protocol: "genetlink",
    version: 3,
  } as const satisfies FamilyDescriptor;
  const resolved = resolvedExample({ version: 3 });
  const client = new NetlinkFamily(genl, {} as NetlinkSocket, resolved);
  const message = client.encode("get", { u8: 1 });
  assert.equal(message.type, 0x1234);
  assert.deepEqual([...message.payload!.subarray(0, 4)], [18, 3, 0, 0]); // cmd, version, reserved
  const reply = new Uint8Array(message.payload!);
  reply[0] = 17; // the reply's command
  const decoded = client.decode({ type: 0x1234, flags: 0, seq: 0, portid: 0, payload: reply });
  assert.equal(decoded?.op, "get");
  assert.equal((decoded!.message as { u8: number }).u8, 1);
  const notice = Uint8Array.of(20, 3, 0, 0, ...new AttributeEncoder().string(2, "hi").finish());
  const event = client.decode({ type: 0x1234, flags: 0, seq: 0, portid: 0, payload: notice });
  assert.deepEqual(event, { op: "notice", message: { b: "hi" } });
  assert.equal(
    client.decode({ type: 0x1235, flags: 0, seq: 0, portid: 0, payload: notice }),
    undefined,
  );
  assert.equal(client.group("events"), 9); // the kernel's number, not the spec's
  assert.throws(() => new NetlinkFamily(genl, {} as NetlinkSocket), /resolved id/);
});

test("generic netlink, one numbering: what the kernel sends with a request-only command decodes", () => {
  const unified = {
    ...example,
    protocol: "genetlink",
    ops: {
      new: { set: "inner", request: 1, do: { request: true } },
      get: { set: "inner", request: 3, reply: 3, do: { request: true, reply: true } },
    },
  } as const satisfies FamilyDescriptor;
  const resolved = resolvedExample({ groups: new Map() });
  const notice = Uint8Array.of(1, 1, 0, 0, ...new AttributeEncoder().string(2, "hi").finish());
  const client = new NetlinkFamily(unified, {} as NetlinkSocket, resolved);
  const event = client.decode({ type: 0x1234, flags: 0, seq: 0, portid: 0, payload: notice });
  assert.deepEqual(event, { op: "new", message: { b: "hi" } });
  // With separate numberings (example's get: request 18, reply 17), a request number is not
  // what arrives: command 16 (example's request-only "set") means nothing received.
  const directional = new NetlinkFamily(
    { ...example, protocol: "genetlink" } as const satisfies FamilyDescriptor,
    {} as NetlinkSocket,
    resolved,
  );
  notice[0] = 16;
  assert.equal(
    directional.decode({ type: 0x1234, flags: 0, seq: 0, portid: 0, payload: notice }),
    undefined,
  );
});

test("a sub-message before its selector waits for it, not for an enclosing set's namesake", () => {
  const nested = {
    name: "nested",
    protocol: "netlink-raw",
    protonum: 31,
    consts: {},
    enums: {},
    structs: { point: [["x", "s16"], ["y", "u16"]] },
    sets: {
      main: {
        kind: [1, "string"],
        data: [2, "sub-message", { subMessage: "fmt", selector: "kind" }],
        inner: [3, "nest", { nest: "main" }],
        n: [4, "u32"],
      },
    },
    subMessages: { fmt: { attrs: { set: "main" }, header: { header: "point" } } },
    ops: { set: { set: "main", request: 16, do: { request: true } } },
    groups: {},
  } as const satisfies FamilyDescriptor;
  const client = new NetlinkFamily(nested, {} as NetlinkSocket);
  // Inside "inner", data is encoded before kind (the key order), and the outer kind differs.
  for (
    const value of [
      { kind: "header", inner: { data: { n: 5 }, kind: "attrs" } },
      { kind: "attrs", inner: { data: { x: -2, y: 3 }, kind: "header" } },
    ]
  ) {
    const { type, payload } = client.encode("set", value);
    const decoded = client.decode({ type, flags: 0, seq: 0, portid: 0, payload: payload! });
    assert.deepEqual(decoded?.message, value);
  }
});

// deno-lint-ignore no-explicit-any
type AnyDescriptor = any;

test("every generated family descriptor is consistent and encodes every request", async () => {
  const dir = new URL("../../src/ynl/", import.meta.url);
  const files = readdirSync(dir).filter((f) =>
    f.endsWith(".ts") && !f.startsWith("_") && f !== "mod.ts" && f !== "family.ts"
  );
  assert.ok(files.length >= 30, `${files.length} generated modules`);
  for (const file of files) {
    const module = await import(new URL(file, dir).href);
    const [descriptor] = Object.values(module) as AnyDescriptor[];
    const where = `${file}`;
    const { sets, structs, enums, subMessages, ops } = descriptor;
    for (const [setName, set] of Object.entries<Record<string, AnyDescriptor>>(sets)) {
      for (const [key, [, kind, options = {}]] of Object.entries(set)) {
        const at = `${where} ${setName}.${key}`;
        if (options.nest) assert.ok(sets[options.nest], `${at}: set ${options.nest}`);
        if (options.struct) assert.ok(structs[options.struct], `${at}: struct ${options.struct}`);
        if (options.enum) assert.ok(enums[options.enum], `${at}: enum ${options.enum}`);
        if (kind === "sub-message") {
          assert.ok(subMessages[options.subMessage], `${at}: sub-message`);
          assert.ok(
            Object.values<AnyDescriptor>(sets).some((s) => s[options.selector]),
            `${at}: selector ${options.selector}`,
          );
        }
        if (kind === "nest") assert.ok(options.nest, `${at}: nest`);
        if (kind === "nest-type-value") {
          assert.ok(options.nest ?? options.subType, `${at}: nest or sub-type`);
        }
      }
    }
    for (const formats of Object.values<Record<string, AnyDescriptor>>(subMessages)) {
      for (const format of Object.values(formats)) {
        if (format.set) assert.ok(sets[format.set], `${where}: format set ${format.set}`);
        if (format.header) {
          assert.ok(structs[format.header], `${where}: format header ${format.header}`);
        }
      }
    }
    const client = new NetlinkFamily(
      descriptor,
      {} as NetlinkSocket,
      descriptor.protocol === "netlink-raw" ? undefined : {
        name: descriptor.name,
        id: 99,
        version: 1,
        headerSize: 0,
        maxAttribute: 0,
        groups: new Map(),
      },
    );
    // Sets and structs compile when first used: compile every one (a bond's nested
    // ns-ip6-target once recursed forever, found by no request).
    const codec = codecOf(descriptor);
    for (const setName of Object.keys(sets)) {
      assert.doesNotThrow(() => codec.set(setName), `${where}: set ${setName}`);
    }
    for (const structName of Object.keys(structs)) {
      assert.doesNotThrow(() => codec.struct(structName), `${where}: struct ${structName}`);
    }
    for (const [opName, op] of Object.entries<AnyDescriptor>(ops)) {
      if (op.set) assert.ok(sets[op.set], `${where} ${opName}: set ${op.set}`);
      if (op.header) assert.ok(structs[op.header], `${where} ${opName}: header ${op.header}`);
      if (op.request === undefined) continue;
      const message = client.encode(opName, {});
      // What was encoded decodes as a message of the family.
      const decoded = client.decode({
        type: message.type,
        flags: 0,
        seq: 0,
        portid: 0,
        payload: message.payload!,
      });
      if (descriptor.protocol === "netlink-raw" && op.reply === undefined) {
        assert.ok(decoded, `${where} ${opName}`);
      }
    }
  }
});

test("dumpStream(): a part that does not decode ends the socket's dump, then throws", async () => {
  let returned = 0;
  const socket = {
    dump: () => ({
      [Symbol.asyncIterator]: () => ({
        // 4 bytes: too short for the 16-byte ifinfomsg, so decoding throws.
        next: () =>
          Promise.resolve({
            value: { type: 16, flags: 2, seq: 1, portid: 0, payload: new Uint8Array(4) },
            done: false,
          }),
        return: () => {
          returned++;
          return Promise.resolve({ value: undefined, done: true });
        },
      }),
    }),
  } as unknown as NetlinkSocket;
  const rt = new NetlinkFamily(rtLink, socket);
  await assert.rejects(async () => {
    for await (const _ of rt.dumpStream("getlink")) { /* the first part throws */ }
  }, MalformedMessageError);
  assert.equal(returned, 1, "the socket's dump was ended");
});

test("monitor() joins by default the groups this kernel has, and says when there is none", async () => {
  const joined: number[] = [];
  const socket = {
    groups: [] as number[],
    closed: false,
    join: (group: number) => joined.push(group),
    leave: () => {},
    messages: () => ({
      [Symbol.asyncIterator]() {
        return this;
      },
      next: () => Promise.resolve({ value: undefined, done: true }),
    }),
  } as unknown as NetlinkSocket;
  // The spec lists "events" and "testmode"; this kernel registered "events" only (as nl80211's
  // testmode is missing from kernels built without it).
  const genl = {
    ...example,
    protocol: "genetlink",
    groups: { events: null, testmode: null },
  } as const satisfies FamilyDescriptor;
  const resolved = resolvedExample();
  for await (const _ of new NetlinkFamily(genl, socket, resolved).monitor()) { /* none */ }
  assert.deepEqual(joined, [GENL_ID_CTRL, 9]); // nlctrl's "notify" first: see monitor()
  // A raw family whose spec numbers no group (nftables's "mgmt"): a clear error, not a crash.
  const unnumbered = new NetlinkFamily(
    { ...example, groups: { mgmt: null } } as const satisfies FamilyDescriptor,
    socket,
  );
  assert.throws(() => unnumbered.monitor(), /no multicast group to join/);
  assert.throws(() => unnumbered.group("mgmt"), /gives multicast group "mgmt" no number/);
});

test("monitor(): a group two monitors use is left when the last one ends, not the first", async () => {
  const groups: number[] = [];
  const left: number[] = [];
  const socket = {
    groups,
    closed: false,
    join: (group: number) => groups.push(group),
    leave: (group: number) => {
      left.push(group);
      groups.splice(groups.indexOf(group), 1);
    },
    // No notification ever comes: each iteration waits until its signal aborts.
    messages: ({ signal }: { signal: AbortSignal }) => ({
      [Symbol.asyncIterator]() {
        return this;
      },
      next: () =>
        new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
    }),
  } as unknown as NetlinkSocket;
  const client = new NetlinkFamily(example, socket);
  const [a, b] = [new AbortController(), new AbortController()];
  const first = client.monitor({ signal: a.signal }).next().catch(() => {});
  const second = client.monitor({ signal: b.signal }).next().catch(() => {});
  assert.deepEqual(groups, [3], "joined once");
  a.abort();
  await first;
  assert.deepEqual(left, [], "still used by the second");
  b.abort();
  await second;
  assert.deepEqual(left, [3]);
});

test("struct encoding refuses a NUL in a string member and an unknown nested member", () => {
  const layered = {
    ...example,
    structs: {
      ...example.structs,
      inner: [["p", "u8"], ["name", "string", { len: 8 }]],
      outer: [["o", "binary", { struct: "inner" }]],
    },
    sets: {
      ...example.sets,
      main: { ...example.sets.main, packed: [40, "binary", { struct: "outer" }] },
    },
  } as const satisfies FamilyDescriptor;
  const client = new NetlinkFamily(layered, {} as NetlinkSocket);
  assert.throws(
    () => client.encode("set", { packed: { o: { p: 1, yy: 9 } } } as never),
    /struct inner has no member "yy"/,
  );
  assert.throws(
    () => client.encode("set", { packed: { o: { name: "ab\0cd" } } }),
    /cannot hold NUL/,
  );
  assert.ok(client.encode("set", { packed: { o: { p: 1, name: "ab" } } }).payload);
});

test("bitfield32: the spec's mask holds for the selector as for the value", () => {
  const masked = {
    ...example,
    sets: {
      ...example.sets,
      main: { ...example.sets.main, bits: [41, "bitfield32", { checks: { mask: 3 } }] },
    },
  } as const satisfies FamilyDescriptor;
  const client = new NetlinkFamily(masked, {} as NetlinkSocket);
  assert.ok(client.encode("set", { bits: { value: 1, selector: 3 } }).payload);
  assert.throws(
    () => client.encode("set", { bits: { value: 1, selector: 4 } }),
    /selector.*mask 3/,
  );
  assert.throws(() => client.encode("set", { bits: { value: 4, selector: 3 } }), /value.*mask 3/);
});

test("monitor() joins before it returns; return() before any next() leaves", async () => {
  const groups: number[] = [];
  const socket = {
    groups,
    closed: false,
    join: (group: number) => groups.push(group),
    leave: (group: number) => groups.splice(groups.indexOf(group), 1),
    messages: () => ({
      next: () => Promise.resolve({ value: undefined, done: true }),
      return: () => Promise.resolve({ value: undefined, done: true }),
    }),
  } as unknown as NetlinkSocket;
  const client = new NetlinkFamily(example, socket);
  const events = client.monitor();
  assert.deepEqual(groups, [3], "joined by the call itself, not at the first next()");
  assert.deepEqual(await events.return(), { value: undefined, done: true });
  assert.deepEqual(groups, []);
  // An unknown group name fails the call, and joins nothing.
  assert.throws(() => client.monitor({ groups: ["nope" as never] }), /no multicast group "nope"/);
  assert.deepEqual(groups, []);
  {
    await using _events = client.monitor();
    assert.deepEqual(groups, [3]);
  }
  assert.deepEqual(groups, [], "await using leaves");
  const abort = new AbortController();
  client.monitor({ signal: abort.signal });
  assert.deepEqual(groups, [3]);
  abort.abort();
  assert.deepEqual(groups, [], "aborting leaves, though no next() waits");
  assert.throws(() => client.monitor({ signal: abort.signal }), /abort/i);
  assert.deepEqual(groups, [], "an aborted signal joins nothing");
});

test("generated decoders: malformed attributes throw, odd keys are only keys", () => {
  const odd = {
    ...example,
    sets: { ...example.sets, main: { ...example.sets.main, "x\"); throw 1; (\"": [50, "u32"] } },
  } as const satisfies FamilyDescriptor;
  const client = new NetlinkFamily(odd, {} as NetlinkSocket);
  const attrs = new AttributeEncoder().u32(50, 5).nested(21, (inner) => inner.u32(1, 9)).finish();
  const payload = new Uint8Array(12 + attrs.length);
  payload.set(attrs, 12);
  const message = { type: 16, flags: 0, seq: 0, portid: 0, payload };
  const decoded = client.decode(message)!.message as Record<string, unknown>;
  assert.equal(decoded["x\"); throw 1; (\""], 5);
  assert.deepEqual(decoded.nest, { a: 9 });
  // The nest's inner attribute claims more bytes than there are: the core decoder's error, with
  // the offset of the bad header in the payload.
  const nla = 12 + 8 + 4; // fixed header, the u32 attribute, the nest's header
  new DataView(payload.buffer).setUint16(nla, 40, true);
  assert.throws(
    () => client.decode(message),
    (err: unknown) =>
      err instanceof MalformedMessageError && /runs past the end/.test(err.message)
      && err.offset === nla,
  );
});

test("generated decoders: sets nested in a cycle, 16,000 levels deep, are a MalformedMessageError", () => {
  const client = new NetlinkFamily(example, {} as NetlinkSocket);
  // main.nest (21) holds inner, whose c (3) holds main again: as deep as 64 KiB allows.
  const levels = 16_000;
  const payload = new Uint8Array(12 + levels * 4);
  const view = new DataView(payload.buffer);
  for (let i = 0; i < levels; i++) {
    view.setUint16(12 + i * 4, (levels - i) * 4, true);
    view.setUint16(12 + i * 4 + 2, (i % 2 === 0 ? 21 : 3) | NLA_F_NESTED, true);
  }
  const message = { type: 16, flags: 0, seq: 0, portid: 0, payload };
  let decoded: unknown;
  try {
    decoded = client.decode(message);
  } catch (err) {
    // Bun's stack holds the 16,000 levels; Deno's does not.
    assert.ok(err instanceof MalformedMessageError, String(err));
    assert.match(err.message, /nested too deep/);
    return;
  }
  assert.ok(decoded !== undefined);
});

test("encoding: a request that contains itself is a TypeError, one nested past 64 levels a RangeError, not a stack overflow", () => {
  // main.nest holds inner, whose c holds main: a cycle of sets, as ovs-flow's actions and
  // sample. Encoding recursed until 'Maximum call stack size exceeded'.
  const cycle: Record<string, unknown> = {};
  cycle.nest = { c: cycle };
  assert.throws(
    () => codec.encode("set", cycle as never),
    /^TypeError: attribute set main: the request contains itself \(a cycle through its nests\)/,
  );
  const nested = (levels: number) => {
    const root: Record<string, unknown> = {};
    let at = root;
    for (let i = 0; i < levels; i++) {
      const main = {};
      at.nest = { c: main };
      at = main;
    }
    return root;
  };
  assert.ok(codec.encode("set", nested(32) as never).payload); // 64 nests below the request
  assert.throws(
    () => codec.encode("set", nested(20_000) as never),
    /^RangeError: attribute set (main|inner): the request nests more than 64 levels deep$/,
  );
  // The same contents twice, side by side, are no cycle.
  const leaf = { a: 1 };
  assert.ok(codec.encode("set", { nest: { c: { nest: leaf } }, multiNest: [leaf, leaf] } as never));
});

test("an operation or group named by no string is a TypeError saying what names one (it was the engine's, from the suggestion)", () => {
  for (const name of [Symbol("x"), 5, undefined]) {
    assert.throws(
      () => codec.encode(name as never, {}),
      (e) =>
        e instanceof TypeError
        && /an operation is named by a string such as "\w+", got /.test(e.message),
      String(name),
    );
    assert.throws(
      () => codec.group(name as never),
      (e) =>
        e instanceof TypeError && /a multicast group is named by a string, got /.test(e.message),
      String(name),
    );
  }
});

test("unknown names: the error suggests the closest known one", () => {
  assert.throws(() => codec.encode("set", { uint32: 1 } as never), /no attribute "uint32"/);
  assert.throws(() => codec.encode("set", { nme: "x" } as never), /\(did you mean "name"\?\)/);
  assert.throws(
    () => codec.encode("set", { "multi-nest": [] } as never),
    /did you mean "multiNest"/,
  );
  assert.throws(() => codec.encode("set", { famly: 2 } as never), /did you mean "family"/);
  assert.throws(() => codec.encode("sett", {}), /no operation "sett" \(did you mean "set"\?\)/);
  assert.throws(() => codec.encode("set", { color: "gren" as never }), /did you mean "green"/);
  assert.throws(() => codec.group("event" as never), /did you mean "events"/);
  assert.throws(
    () => codec.encode("set", { pair: { lo: 1, hii: 2n } as never }),
    /no member "hii" \(did you mean "hi"\?\)/,
  );
  // Nothing close: no suggestion.
  assert.throws(
    () => codec.encode("set", { zzzzzz: 1 } as never),
    (err: unknown) => err instanceof TypeError && !/did you mean/.test(err.message),
  );
});

test("flags: a bit mask, a flag's name or a list of names; an enum used as flags has bit N", () => {
  const flagged = {
    ...example,
    sets: {
      ...example.sets,
      main: { ...example.sets.main, hues: [60, "u32", { enum: "color", asFlags: true }] },
    },
  } as const satisfies FamilyDescriptor;
  const client = new NetlinkFamily(flagged, {} as NetlinkSocket);
  const features = (value: unknown) => {
    const payload = client.encode("set", { features: value as never }).payload!;
    return client.decode({ type: 16, flags: 0, seq: 0, portid: 0, payload })!.message;
  };
  assert.equal((features(5) as { features: number }).features, 5);
  assert.equal((features("b") as { features: number }).features, 2);
  assert.equal((features(["a", "c"]) as { features: number }).features, 5);
  assert.throws(() => features(["a", "d"]), /"d" is not one of a, b, c/);
  assert.throws(() => features(["a", 4]), /\[1\]: expected a flag name/);
  // A hole was skipped by forEach(): [, "c"] encoded "c" alone (attack12a).
  assert.throws(() => features([, "c"]), /\[0\]: expected a flag name, got undefined/);
  const payload = client.encode("set", { hues: ["green", "blue"] }).payload!;
  const decoded = client.decode({ type: 16, flags: 0, seq: 0, portid: 0, payload })!.message;
  assert.equal((decoded as { hues: number }).hues, 2 ** 1 + 2 ** 7);
});

test("the kernel's spelling of an attribute suggests its property name", () => {
  const rt = new NetlinkFamily(rtLink, {} as NetlinkSocket);
  assert.throws(
    () =>
      rt.encode("newlink", {
        linkinfo: { kind: "bridge", data: { "vlan-filtering": 1 } as never },
      }),
    /no attribute "vlan-filtering" \(did you mean "vlanFiltering"\?\)/,
  );
});

test("a string attribute takes its bytes as they are (a name that is not UTF-8), and the decoder keeps such bytes beside the U+FFFD text", () => {
  const rt = new NetlinkFamily(rtLink, {} as NetlinkSocket);
  const payload = (value: Record<string, unknown>) => rt.encode("newlink", value).payload!;
  // The string path is as it was: its UTF-8 and a NUL, the same bytes given either way.
  assert.deepEqual(
    payload({ ifname: "eth0", ifalias: "é" }),
    payload({ ifname: new TextEncoder().encode("eth0"), ifalias: new Uint8Array([0xc3, 0xa9]) }),
  );
  const bytes = payload({ ifname: new Uint8Array([0xff, 0xfe]) });
  // ifinfomsg (16 bytes), then IFLA_IFNAME: len 7, type 3, ff fe 00, padding.
  assert.deepEqual([...bytes.subarray(16, 23)], [7, 0, 3, 0, 0xff, 0xfe, 0]);
  assert.throws(
    () => payload({ ifname: new Uint8Array([0x61, 0, 0x62]) }),
    /^RangeError: ifname: a string cannot hold NUL/,
  );
  const decode = (payload: Uint8Array) =>
    rt.decode({ type: 16, flags: 0, seq: 0, portid: 0, payload })!.message as object;
  const link = decode(bytes);
  assert.equal((link as { ifname: string }).ifname, "\ufffd\ufffd");
  assert.deepEqual([...textBytes(link, "ifname")!], [0xff, 0xfe]);
  // Kept out of sight: the same keys as a name that is UTF-8 has, the same JSON but the name.
  assert.deepEqual(Object.keys(link), Object.keys(decode(payload({ ifname: "ab" }))));
  // UTF-8, U+FFFD itself included, keeps nothing beside its text.
  assert.equal(textBytes(decode(payload({ ifname: "\ufffd" })), "ifname"), undefined);
  assert.equal(textBytes(decode(payload({ ifname: "eth0" })), "ifname"), undefined);
});

test("generated modules document each attribute: C name, kind, the spec's doc", () => {
  const source = readFileSync(new URL("../../src/ynl/rt_link.ts", import.meta.url), "utf8");
  assert.match(source, /\/\*\* IFLA_MTU \(u32\)\. \*\/\n\s+mtu: \[4, "u32"\],/);
  const netdev = readFileSync(new URL("../../src/ynl/netdev.ts", import.meta.url), "utf8");
  assert.match(netdev, /\/\*\* NETDEV_A_DEV_IFINDEX \(u32\)\. netdev ifindex \*\//);
});

test("family() refuses what is no family descriptor with a TypeError saying so, before opening anything", async () => {
  for (const bad of [null, undefined, 7, "rt-link", {}, { name: "rt-link" }]) {
    await assert.rejects(
      family(bad as never),
      (e: Error) =>
        e instanceof TypeError && e.message.startsWith("expected a family descriptor ("),
      String(bad),
    );
  }
});

test("a struct value longer than its struct (grown at its end by a newer kernel) decodes the members known and keeps the bytes past them, encoded again as they came", () => {
  const rt = new NetlinkFamily(rtLink, {} as NetlinkSocket);
  const size = codecOf(rtLink).struct("rtnl-link-stats64").size;
  const message = (valueLength: number) => {
    const payload = new Uint8Array(16 + 4 + valueLength);
    const view = new DataView(payload.buffer);
    view.setUint16(16, 4 + valueLength, true);
    view.setUint16(18, 23, true); // IFLA_STATS64
    view.setBigUint64(20, 7n, true); // rx_packets
    return { type: 16, flags: 0, seq: 0, portid: 0, payload };
  };
  const grown = message(size + 8);
  new DataView(grown.payload.buffer).setBigUint64(20 + size, 0x1122334455667788n, true);
  type Link = AttributeSetValue<typeof rtLink, "link-attrs">;
  const longer = rt.decode(grown)!.message as Link;
  assert.equal(longer.stats64!.rxPackets, 7n);
  assert.equal(longer[unknownAttributes], undefined);
  // The bytes past the members (a counter this spec does not name) were dropped.
  assert.deepEqual([...longer.stats64![structTail]!], [
    0x88,
    0x77,
    0x66,
    0x55,
    0x44,
    0x33,
    0x22,
    0x11,
  ]);
  assert.deepEqual(rt.encode("newlink", longer).payload, grown.payload);
  // A tail that is no bytes is refused, naming the attribute.
  assert.throws(
    () => rt.encode("newlink", { stats64: { [structTail]: [1, 2] as never } }),
    /^TypeError: .*stats64.*: \[structTail\] must be a Uint8Array, got /,
  );
  // One of the struct's size has none.
  const exact = rt.decode(message(size))!.message as Link;
  assert.equal(exact.stats64![structTail], undefined);
  assert.ok(!Object.getOwnPropertySymbols(exact.stats64!).includes(structTail));
  // Shorter than the struct: not decoded, kept as it came.
  const shorter = rt.decode(message(size - 8))!.message as unknown as Record<
    string | symbol,
    unknown
  >;
  assert.equal(shorter.stats64, undefined);
  assert.deepEqual(
    (shorter[unknownAttributes] as { type: number }[]).map((a) => a.type),
    [23],
  );
});

test("decode() of what is no message is a TypeError saying so, not an internal one", () => {
  // { type } alone failed inside, on reading the missing payload's byteLength.
  for (
    const [message, got] of [
      [{ type: 16 }, "one without a payload"],
      [{ type: 16, payload: [1, 2] }, "one whose payload is no Uint8Array"],
      [null, "null"],
      [5, "5"],
    ] as const
  ) {
    assert.throws(
      () => codec.decode(message as never),
      (err) =>
        err instanceof TypeError
        && err.message === "decode() takes a message ({ type, payload: Uint8Array, ... }, as "
            + `the socket yields them), got ${got}`,
    );
  }
  assert.throws(
    () => codec.decode({ type: 16, flags: 0, seq: 0, portid: 0, payload: new Uint8Array(0) }),
    MalformedMessageError,
  );
});

test("an operation or group that is no string (null, a number, a bigint) is a TypeError showing it (attack12a)", () => {
  // "Cannot read properties of undefined (reading 'replace')", "name.toLowerCase is not a
  // function", "Do not know how to serialize a BigInt".
  const rt = new NetlinkFamily(rtLink, {} as NetlinkSocket);
  for (const [bad, text] of [[undefined, "undefined"], [null, "null"], [7, "7"], [10n, "10n"]]) {
    assert.throws(
      () => rt.encode(bad as never, {}),
      (e: Error) =>
        e instanceof TypeError && e.message.startsWith("family rt-link: an operation is named")
        && e.message.endsWith(`, got ${text}`),
      String(bad),
    );
    assert.throws(
      () => rt.group(bad as never),
      (e: Error) =>
        e instanceof TypeError
        && e.message === `rt-link: a multicast group is named by a string, got ${text}`,
      String(bad),
    );
  }
});
