import assert from "node:assert/strict";
import { test } from "node:test";
import {
  alignAttribute,
  Attribute,
  AttributeDecoder,
  AttributeEncoder,
  decodeAttributes,
  encodeAttributes,
  NLA_HDRLEN,
} from "../../src/attribute.ts";
import { NLA_F_NESTED, NLA_F_NET_BYTEORDER } from "../../src/constants.ts";
import { MalformedMessageError } from "../../src/errors.ts";

// Fixtures are spelled out byte by byte, little-endian (the hosts Deno and Bun run on).
const u16 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff];
const bytes = (...parts: (number | number[])[]): Uint8Array => Uint8Array.from(parts.flat());
/** An attribute header: nla_len, nla_type. */
const nla = (len: number, type: number): number[] => [...u16(len), ...u16(type)];

function assertMalformed(fn: () => unknown, offset: number, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof MalformedMessageError, `expected MalformedMessageError: ${error}`);
    assert.equal(error.offset, offset);
    assert.match(error.message, pattern);
    return true;
  });
}

/** Walks `encoded` and returns its one attribute's decoder, positioned on it. */
function only(encoded: Uint8Array): AttributeDecoder {
  const decoder = new AttributeDecoder(encoded);
  assert.equal(decoder.next(), true);
  return decoder;
}

test("NLA_HDRLEN and alignAttribute", () => {
  assert.equal(NLA_HDRLEN, 4);
  assert.deepEqual([0, 1, 3, 4, 5, 8, 9].map(alignAttribute), [0, 4, 4, 4, 8, 8, 12]);
  assert.equal(alignAttribute(2 ** 40 + 1), 2 ** 40 + 4);
});

test("encoder writes each integer kind with its size, byte order and zeroed padding", () => {
  const encoded = new AttributeEncoder()
    .flag(1)
    .u8(2, 0xab)
    .u16(3, 0x1234)
    .u32(4, 0x89abcdef)
    .u64(5, 0x0102030405060708n)
    .s8(6, -2)
    .s16(7, -2)
    .s32(8, -2)
    .s64(9, -2n)
    .u16be(10, 0x1234)
    .u32be(11, 0x89abcdef)
    .u64be(12, 0x0102030405060708n)
    .finish();
  assert.deepEqual(
    encoded,
    bytes(
      nla(4, 1),
      nla(5, 2),
      [0xab, 0, 0, 0],
      nla(6, 3),
      [0x34, 0x12, 0, 0],
      nla(8, 4),
      [0xef, 0xcd, 0xab, 0x89],
      nla(12, 5),
      [8, 7, 6, 5, 4, 3, 2, 1],
      nla(5, 6),
      [0xfe, 0, 0, 0],
      nla(6, 7),
      [0xfe, 0xff, 0, 0],
      nla(8, 8),
      [0xfe, 0xff, 0xff, 0xff],
      nla(12, 9),
      [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
      nla(6, 10),
      [0x12, 0x34, 0, 0],
      nla(8, 11),
      [0x89, 0xab, 0xcd, 0xef],
      nla(12, 12),
      [1, 2, 3, 4, 5, 6, 7, 8],
    ),
  );
});

test("u64 and s64 accept safe-integer numbers as well as bigints", () => {
  const encoded = new AttributeEncoder().u64(1, 2 ** 53 - 1).s64(2, -(2 ** 53 - 1)).finish();
  const decoder = new AttributeDecoder(encoded);
  decoder.next();
  assert.equal(decoder.u64(), 2n ** 53n - 1n);
  decoder.next();
  assert.equal(decoder.s64(), -(2n ** 53n - 1n));
});

test("big-endian writers leave NLA_F_NET_BYTEORDER clear unless asked", () => {
  const plain = new AttributeEncoder().u32be(1, 1).finish();
  assert.deepEqual(plain, bytes(nla(8, 1), [0, 0, 0, 1]));
  const flagged = new AttributeEncoder()
    .u16be(1, 1, { netByteOrder: true })
    .u32be(2, 1, { netByteOrder: true })
    .u64be(3, 1n, { netByteOrder: true })
    .finish();
  const types = decodeAttributes(flagged).map((a) => [a.type, a.netByteOrder, a.nested]);
  assert.deepEqual(types, [[1, true, false], [2, true, false], [3, true, false]]);
  assert.deepEqual(flagged.subarray(0, 4), bytes(nla(6, 1 | NLA_F_NET_BYTEORDER)));
});

test("string is UTF-8 with a terminating NUL", () => {
  assert.deepEqual(
    new AttributeEncoder().string(3, "eth0").string(4, "").string(5, "é").finish(),
    bytes(
      nla(9, 3),
      [0x65, 0x74, 0x68, 0x30, 0, 0, 0, 0],
      nla(5, 4),
      [0, 0, 0, 0],
      nla(7, 5),
      [0xc3, 0xa9, 0, 0],
    ),
  );
});

test("bytes copies the value", () => {
  const value = Uint8Array.of(1, 2, 3, 4, 5, 6);
  const encoded = new AttributeEncoder().bytes(1, value).finish();
  value[0] = 99;
  assert.deepEqual(encoded, bytes(nla(10, 1), [1, 2, 3, 4, 5, 6, 0, 0]));
});

test("nested sets NLA_F_NESTED and the nest's total length, at any depth", () => {
  const encoded = new AttributeEncoder()
    .nested(18, (linkinfo) => {
      linkinfo.string(1, "vlan").nested(2, (data) => data.u16(1, 100));
    })
    .nested(7, () => {})
    .finish();
  assert.deepEqual(
    encoded,
    bytes(
      nla(28, 18 | NLA_F_NESTED),
      nla(9, 1),
      [0x76, 0x6c, 0x61, 0x6e, 0, 0, 0, 0],
      nla(12, 2 | NLA_F_NESTED),
      nla(6, 1),
      [100, 0, 0, 0],
      nla(4, 7 | NLA_F_NESTED),
    ),
  );
});

test("a nested callback that throws leaves nothing of the nest behind", () => {
  const encoder = new AttributeEncoder().u8(1, 1);
  assert.throws(
    () =>
      encoder.nested(2, (nest) => {
        nest.u32(1, 5).string(2, "partial");
        nest.u8(3, 256);
      }),
    RangeError,
  );
  assert.deepEqual(
    encoder.u8(4, 4).finish(),
    bytes(nla(5, 1), [1, 0, 0, 0], nla(5, 4), [4, 0, 0, 0]),
  );
});

test("a nested callback must be synchronous", () => {
  const encoder = new AttributeEncoder();
  assert.throws(
    () => encoder.nested(1, (async () => {}) as () => void),
    /nested\(\) callback must be synchronous/,
  );
  assert.equal(encoder.finish().length, 0);
});

test("finish hands over the bytes and empties the encoder", () => {
  const encoder = new AttributeEncoder();
  const first = encoder.u32(1, 1).finish();
  const second = encoder.u8(2, 2).finish();
  assert.deepEqual(first, bytes(nla(8, 1), [1, 0, 0, 0]));
  assert.deepEqual(second, bytes(nla(5, 2), [2, 0, 0, 0]));
  assert.equal(new AttributeEncoder().finish().length, 0);
  assert.throws(() => new AttributeEncoder().nested(1, (nest) => nest.finish()), TypeError);
});

test("the encoder grows past its first buffer", () => {
  const encoder = new AttributeEncoder();
  for (let i = 0; i < 1000; i++) encoder.u32(i, i);
  const decoded = decodeAttributes(encoder.finish());
  assert.equal(decoded.length, 1000);
  assert.deepEqual(decoded.map((a) => a.u32()), decoded.map((a) => a.type));
});

test("the encoder rejects values outside their type, naming attribute and range", () => {
  const cases: [(e: AttributeEncoder) => unknown, typeof RangeError, RegExp][] = [
    [
      (e) => e.u8(7, 256),
      RangeError,
      /attribute 7: u8 value must be an integer from 0 to 255, got 256/,
    ],
    [(e) => e.u8(7, -1), RangeError, /u8/],
    [(e) => e.u8(7, 1.5), TypeError, /u8/],
    [(e) => e.u8(7, NaN), TypeError, /u8/],
    [(e) => e.u8(7, "1" as unknown as number), TypeError, /attribute 7: u8 value must be a number/],
    [(e) => e.u16(7, 65536), RangeError, /u16 value must be an integer from 0 to 65535/],
    [(e) => e.u32(7, 2 ** 32), RangeError, /u32 value must be an integer from 0 to 4294967295/],
    [(e) => e.u32(7, -1), RangeError, /u32/],
    [(e) => e.s8(7, 128), RangeError, /s8 value must be an integer from -128 to 127/],
    [(e) => e.s8(7, -129), RangeError, /s8/],
    [(e) => e.s16(7, 32768), RangeError, /s16 value must be an integer from -32768 to 32767/],
    [
      (e) => e.s32(7, 2 ** 31),
      RangeError,
      /s32 value must be an integer from -2147483648 to 2147483647/,
    ],
    [
      (e) => e.u64(7, -1n),
      RangeError,
      /attribute 7: u64 value must be from 0 to 18446744073709551615, got -1n/,
    ],
    [(e) => e.u64(7, 2n ** 64n), RangeError, /u64/],
    [(e) => e.u64(7, 2 ** 53), RangeError, /u64 value must be a bigint or a safe integer/],
    [(e) => e.u64(7, -1), RangeError, /u64/],
    [
      (e) => e.u64(7, "1" as unknown as number),
      TypeError,
      /u64 value must be a bigint or a number/,
    ],
    [
      (e) => e.s64(7, 2n ** 63n),
      RangeError,
      /s64 value must be from -9223372036854775808 to 9223372036854775807/,
    ],
    [(e) => e.s64(7, -(2n ** 63n) - 1n), RangeError, /s64/],
    [(e) => e.u16be(7, 65536), RangeError, /u16be/],
    [(e) => e.u32be(7, 2 ** 32), RangeError, /u32be/],
    [(e) => e.u64be(7, 2n ** 64n), RangeError, /u64be/],
    [
      (e) => e.u8(0x4000, 0),
      RangeError,
      /attribute type must be an integer from 0 to 16383 .*got 16384/,
    ],
    [(e) => e.flag(-1), RangeError, /attribute type/],
    [(e) => e.flag(1.5), TypeError, /attribute type/],
    [(e) => e.flag(0x8001), RangeError, /attribute type/],
    [(e) => e.flag("1" as unknown as number), TypeError, /attribute type must be a number/],
    [
      (e) => e.string(7, 5 as unknown as string),
      TypeError,
      /attribute 7: string value must be a string/,
    ],
    [
      (e) => e.string(7, "x".repeat(65531)),
      RangeError,
      /attribute 7: string must be at most 65530 bytes/,
    ],
    [(e) => e.string(7, "ab\0cd"), RangeError, /attribute 7: a string cannot hold NUL/],
    // TextEncoder wrote U+FFFD for it: another string than the one given.
    [(e) => e.string(7, "ab\udc00"), TypeError, /attribute 7: "ab\\udc00" holds a lone surrogate/],
    [
      (e) => e.bytes(7, [1] as unknown as Uint8Array),
      TypeError,
      /attribute 7: value must be a Uint8Array/,
    ],
    [
      (e) => e.bytes(7, new Uint8Array(65532)),
      RangeError,
      /attribute 7: value must be at most 65531 bytes/,
    ],
    [(e) => e.nested(7, null as unknown as () => void), TypeError, /nested\(\) needs a function/],
    [
      (e) => e.nested(7, (n) => n.bytes(1, new Uint8Array(65528))),
      RangeError,
      /attribute 7: nested contents must be at most 65531 bytes/,
    ],
    [(e) => e.attribute({ type: 0x4000, value: new Uint8Array(0) }), RangeError, /attribute type/],
    [(e) => e.attribute({ type: 1, value: "x" as unknown as Uint8Array }), TypeError, /Uint8Array/],
    // A misspelt flag would leave NLA_F_NESTED (or NLA_F_NET_BYTEORDER) off in silence.
    [
      (e) => e.attribute({ type: 1, value: new Uint8Array(0), nestd: true } as never),
      TypeError,
      /attribute 1: unknown field "nestd" \(did you mean "nested"\?\); the fields are type, value, nested, netByteOrder/,
    ],
  ];
  for (const [write, kind, pattern] of cases) {
    const encoder = new AttributeEncoder().u8(1, 1);
    assert.throws(
      () => write(encoder),
      (e: unknown) => e instanceof kind && pattern.test(String(e)),
      String(pattern),
    );
    // Nothing of a rejected attribute was written.
    assert.deepEqual(encoder.finish(), bytes(nla(5, 1), [1, 0, 0, 0]), String(pattern));
  }
});

test("the largest values fit", () => {
  const value = new Uint8Array(65531);
  assert.equal(new AttributeEncoder().bytes(1, value).finish().length, 65536);
  assert.equal(new AttributeEncoder().u8(0x3fff, 0).finish()[2], 0xff);
  const nest = new AttributeEncoder().nested(1, (n) => n.bytes(2, new Uint8Array(65524))).finish();
  assert.equal(nest[0] | (nest[1] << 8), 65532);
});

test("the decoder reads every kind back, and type, flags and length", () => {
  const encoded = new AttributeEncoder()
    .flag(1)
    .u8(2, 0xab)
    .u16(3, 0xfedc)
    .u32(4, 0x89abcdef)
    .u64(5, 2n ** 64n - 1n)
    .s8(6, -128)
    .s16(7, -32768)
    .s32(8, -(2 ** 31))
    .s64(9, -(2n ** 63n))
    .u16be(10, 0xfedc, { netByteOrder: true })
    .u32be(11, 0x89abcdef)
    .u64be(12, 2n ** 64n - 2n)
    .string(13, "héllo")
    .bytes(14, Uint8Array.of(1, 2, 3))
    .finish();
  const d = new AttributeDecoder(encoded);
  const read: unknown[] = [];
  while (d.next()) {
    const base = [d.type, d.nested, d.netByteOrder, d.length];
    switch (d.type) {
      case 1:
        read.push([...base]);
        break;
      case 2:
        read.push([...base, d.u8()]);
        break;
      case 3:
        read.push([...base, d.u16()]);
        break;
      case 4:
        read.push([...base, d.u32()]);
        break;
      case 5:
        read.push([...base, d.u64()]);
        break;
      case 6:
        read.push([...base, d.s8()]);
        break;
      case 7:
        read.push([...base, d.s16()]);
        break;
      case 8:
        read.push([...base, d.s32()]);
        break;
      case 9:
        read.push([...base, d.s64()]);
        break;
      case 10:
        read.push([...base, d.u16be()]);
        break;
      case 11:
        read.push([...base, d.u32be()]);
        break;
      case 12:
        read.push([...base, d.u64be()]);
        break;
      case 13:
        read.push([...base, d.string()]);
        break;
      case 14:
        read.push([...base, [...d.bytes()]]);
        break;
    }
  }
  assert.deepEqual(read, [
    [1, false, false, 0],
    [2, false, false, 1, 0xab],
    [3, false, false, 2, 0xfedc],
    [4, false, false, 4, 0x89abcdef],
    [5, false, false, 8, 2n ** 64n - 1n],
    [6, false, false, 1, -128],
    [7, false, false, 2, -32768],
    [8, false, false, 4, -(2 ** 31)],
    [9, false, false, 8, -(2n ** 63n)],
    [10, false, true, 2, 0xfedc],
    [11, false, false, 4, 0x89abcdef],
    [12, false, false, 8, 2n ** 64n - 2n],
    [13, false, false, 7, "héllo"],
    [14, false, false, 3, [1, 2, 3]],
  ]);
  assert.equal(d.next(), false, "stays at the end");
});

test("string stops at the first NUL, and takes a value without one whole", () => {
  assert.equal(only(bytes(nla(7, 1), [0x61, 0x62, 0x63, 0])).string(), "abc");
  assert.equal(only(bytes(nla(7, 1), [0x61, 0, 0x63, 0])).string(), "a");
  assert.equal(only(bytes(nla(6, 1), [0x61, 0x62, 0, 0])).string(), "ab");
  assert.equal(only(bytes(nla(4, 1))).string(), "");
});

test("bytes is a view into the decoded buffer", () => {
  const backing = new Uint8Array(32);
  const input = backing.subarray(4, 12);
  input.set(bytes(nla(7, 1), [1, 2, 3]));
  const value = only(input).bytes();
  assert.equal(value.buffer, backing.buffer);
  assert.equal(value.byteOffset, 8);
  assert.deepEqual([...value], [1, 2, 3]);
});

test("type masks off both flags", () => {
  const d = only(bytes(nla(4, 0x3fff | NLA_F_NESTED | NLA_F_NET_BYTEORDER)));
  assert.equal(d.type, 0x3fff);
  assert.equal(d.nested, true);
  assert.equal(d.netByteOrder, true);
});

test("a getter on the wrong length throws, naming type, expected and actual length", () => {
  const input = bytes(nla(8, 1), [0, 0, 0, 0], nla(6, 9), [1, 2, 0, 0]);
  const d = new AttributeDecoder(input);
  d.next();
  d.next();
  assertMalformed(() => d.u32(), 8, /attribute 9 is 2 bytes long, but a u32 is 4/);
  assertMalformed(() => d.u8(), 8, /attribute 9 is 2 bytes long, but a u8 is 1/);
  assertMalformed(() => d.u64(), 8, /but a u64 is 8/);
  assertMalformed(() => d.s64(), 8, /but a s64 is 8/);
  assertMalformed(() => d.u32be(), 8, /but a u32be is 4/);
  assert.equal(d.u16(), 0x0201, "the right getter still works");
  assert.equal(d.u16be(), 0x0102);
});

test("getters before next() or after the end are a usage error", () => {
  const d = new AttributeDecoder(bytes(nla(5, 1), [1, 0, 0, 0]));
  assert.throws(() => d.u8(), TypeError);
  assert.throws(() => d.bytes(), TypeError);
  d.next();
  assert.equal(d.u8(), 1);
  assert.equal(d.next(), false);
  assert.throws(() => d.string(), TypeError);
  assert.throws(() => d.nestedDecoder(), TypeError);
});

test("malformed TLVs throw with their offset", () => {
  const ok = [...nla(5, 1), 1, 0, 0, 0];
  const walk = (input: Uint8Array) => {
    const d = new AttributeDecoder(input);
    while (d.next());
  };
  assertMalformed(
    () => walk(bytes(ok, nla(3, 2), [0, 0, 0, 0])),
    8,
    /nla_len 3 is shorter than the 4-byte/,
  );
  assertMalformed(() => walk(bytes(ok, nla(0, 2))), 8, /nla_len 0/);
  assertMalformed(
    () => walk(bytes(ok, nla(9, 2), [0, 0, 0, 0])),
    8,
    /nla_len 9 runs past the end of the attributes \(8 bytes left\)/,
  );
  assertMalformed(() => walk(bytes(ok, 0xff, 0xff, 0xff)), 8, /3 trailing bytes are too short/);
  assertMalformed(() => walk(bytes(0)), 0, /1 trailing bytes/);
});

test("the last attribute may lack its padding", () => {
  const d = new AttributeDecoder(bytes(nla(5, 1), [1, 0, 0, 0], nla(5, 2), [2]));
  assert.ok(d.next());
  assert.ok(d.next());
  assert.equal(d.u8(), 2);
  assert.equal(d.next(), false);
});

test("start and end limit the decoder to part of a buffer", () => {
  const input = bytes([0xee, 0xee], nla(5, 1), [1, 0, 0, 0], [0xee, 0xee]);
  const d = new AttributeDecoder(input, 2, 10);
  assert.ok(d.next());
  assert.equal(d.u8(), 1);
  assert.equal(d.next(), false);
  const longer = new AttributeDecoder(input, 2, 11);
  assert.ok(longer.next());
  assertMalformed(() => longer.next(), 10, /1 trailing bytes/);
});

test("the decoder rejects a bad range or buffer", () => {
  const input = new Uint8Array(8);
  assert.throws(() => new AttributeDecoder(input, 9), RangeError);
  assert.throws(() => new AttributeDecoder(input, 4, 2), RangeError);
  assert.throws(() => new AttributeDecoder(input, 0, 9), RangeError);
  assert.throws(() => new AttributeDecoder(input, -1), RangeError);
  assert.throws(() => new AttributeDecoder([] as unknown as Uint8Array), TypeError);
});

test("nestedDecoder walks the value, reporting offsets in the outer buffer", () => {
  const input = bytes(
    nla(4, 1),
    nla(20, 2 | NLA_F_NESTED),
    nla(5, 1),
    [7, 0, 0, 0],
    nla(8, 2),
    [0, 0, 0, 0],
    nla(12, 3), // not flagged nested, as older families send
    nla(3, 1), // malformed inside
    [0, 0, 0, 0],
  );
  const d = new AttributeDecoder(input);
  d.next();
  d.next();
  assert.equal(d.nested, true);
  const inner = d.nestedDecoder();
  assert.ok(inner.next());
  assert.equal(inner.u8(), 7);
  assert.ok(inner.next());
  assertMalformed(() => inner.u16(), 16, /attribute 2 is 4 bytes long, but a u16 is 2/);
  assert.equal(inner.next(), false, "stops at the end of the nest, not of the buffer");
  d.next();
  assert.equal(d.nested, false);
  const broken = d.nestedDecoder();
  assertMalformed(() => broken.next(), 28, /nla_len 3/);
});

test("decodeAttributes keeps types, flags and values", () => {
  const input = bytes(
    nla(5, 0x3fff),
    [1, 0, 0, 0],
    nla(4, 2 | NLA_F_NESTED),
    nla(6, 3 | NLA_F_NET_BYTEORDER),
    [1, 2, 0, 0],
  );
  const attributes = decodeAttributes(input);
  assert.deepEqual(
    attributes.map((a) => [a.type, a.nested, a.netByteOrder, [...a.value]]),
    [[0x3fff, false, false, [1]], [2, true, false, []], [3, false, true, [1, 2]]],
  );
  assert.ok(attributes.every((a) => a instanceof Attribute && a.value.buffer === input.buffer));
  assert.deepEqual(decodeAttributes(new Uint8Array(0)), []);
  assertMalformed(() => decodeAttributes(bytes(nla(5, 1))), 0, /runs past the end/);
});

test("decode then encodeAttributes is byte-exact, unknown types and flags included", () => {
  const input = new AttributeEncoder()
    .string(3, "eth0")
    .u32(0x3ffe, 123)
    .nested(18, (n) => n.string(1, "veth").nested(2, (d) => d.u32be(1, 5, { netByteOrder: true })))
    .bytes(9, Uint8Array.of(1, 2, 3, 4, 5))
    .flag(0x2000)
    .finish();
  assert.deepEqual(encodeAttributes(decodeAttributes(input)), input);
  const encoder = new AttributeEncoder();
  for (const attribute of decodeAttributes(input)) encoder.attribute(attribute);
  assert.deepEqual(encoder.finish(), input);
});

test("encodeAttributes takes plain records", () => {
  assert.deepEqual(
    encodeAttributes([
      { type: 1, value: Uint8Array.of(9) },
      { type: 2, value: new Uint8Array(0), nested: true, netByteOrder: true },
    ]),
    bytes(nla(5, 1), [9, 0, 0, 0], nla(4, 2 | NLA_F_NESTED | NLA_F_NET_BYTEORDER)),
  );
});

test("Attribute has the decoder's typed getters", () => {
  const of = (...values: number[]) => new Attribute(1, Uint8Array.from(values));
  assert.equal(of(200).u8(), 200);
  assert.equal(of(255).s8(), -1);
  assert.equal(of(0x34, 0x12).u16(), 0x1234);
  assert.equal(of(0xfe, 0xff).s16(), -2);
  assert.equal(of(0x12, 0x34).u16be(), 0x1234);
  assert.equal(of(0xef, 0xcd, 0xab, 0x89).u32(), 0x89abcdef);
  assert.equal(of(0xfe, 0xff, 0xff, 0xff).s32(), -2);
  assert.equal(of(0x89, 0xab, 0xcd, 0xef).u32be(), 0x89abcdef);
  assert.equal(of(8, 7, 6, 5, 4, 3, 2, 1).u64(), 0x0102030405060708n);
  assert.equal(of(0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff).s64(), -2n);
  assert.equal(of(1, 2, 3, 4, 5, 6, 7, 8).u64be(), 0x0102030405060708n);
  assert.equal(of(0x6c, 0x6f, 0).string(), "lo");
  assert.deepEqual([...of(1, 2).bytes()], [1, 2]);
  assertMalformed(() => of(1, 2, 3).u32(), 0, /attribute 1 is 3 bytes long, but a u32 is 4/);
  const nest = new Attribute(5, bytes(nla(5, 1), [42, 0, 0, 0]), { nested: true }).nestedDecoder();
  assert.ok(nest.next());
  assert.equal(nest.u8(), 42);
});

test("Attribute reads a value that sits at an offset in a larger buffer", () => {
  const backing = Uint8Array.of(0xff, 0x34, 0x12, 0xff);
  assert.equal(new Attribute(1, backing.subarray(1, 3)).u16(), 0x1234);
});

test("Attribute validates its parts", () => {
  assert.throws(() => new Attribute(0x4000, new Uint8Array(0)), RangeError);
  assert.throws(() => new Attribute(1, [1] as unknown as Uint8Array), TypeError);
  const attribute = new Attribute(1, new Uint8Array(0), { nested: true });
  assert.deepEqual([attribute.nested, attribute.netByteOrder], [true, false]);
});
