import assert from "node:assert/strict";
import { test } from "node:test";
import { concat } from "../../src/_bytes.ts";
import { decodeAck } from "../../src/ack.ts";
import { NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE } from "../../src/constants.ts";
import { decodeInetSocket } from "../../src/diag/inet.ts";
import { decodeNetlinkSocket } from "../../src/diag/netlink.ts";
import { decodePacketSocket } from "../../src/diag/packet.ts";
import { decodeUnixSocket } from "../../src/diag/unix.ts";
import { MalformedMessageError } from "../../src/errors.ts";
import { decodeFamily, decodeGeneric, encodeGeneric } from "../../src/genl.ts";
import { formatIP, formatMAC, formatPrefix } from "../../src/ip.ts";
import {
  alignMessage,
  decodeDatagram,
  decodeMessages,
  encodeMessage,
  encodeMessages,
  type Message,
  NLMSG_HDRLEN,
} from "../../src/message.ts";
import { isUdevMessage } from "../../src/uevent.ts";

// Fixtures are spelled out byte by byte, little-endian (the hosts Deno and Bun run on).
const u16 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff];
const u32 = (n: number): number[] => [...u16(n & 0xffff), ...u16(n >>> 16)];
const bytes = (...parts: (number | number[])[]): Uint8Array => Uint8Array.from(parts.flat());

function header(len: number, type: number, flags: number, seq: number, portid: number) {
  return bytes(u32(len), u16(type), u16(flags), u32(seq), u32(portid));
}

function assertMalformed(fn: () => unknown, offset: number, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof MalformedMessageError, `expected MalformedMessageError: ${error}`);
    assert.equal(error.offset, offset);
    assert.match(error.message, pattern);
    return true;
  });
}

test("NLMSG_HDRLEN is the aligned size of struct nlmsghdr", () => {
  assert.equal(NLMSG_HDRLEN, 16);
});

test("alignMessage rounds up to 4, also beyond 31 bits", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 16, 17].map(alignMessage), [0, 4, 4, 4, 4, 8, 16, 20]);
  assert.equal(alignMessage(2 ** 32 + 1), 2 ** 32 + 4);
  assert.equal(alignMessage(2 ** 31 - 1), 2 ** 31);
});

test("encodeMessage writes the header in host order and pads the payload", () => {
  const encoded = encodeMessage({
    type: 18,
    flags: NLM_F_REQUEST | NLM_F_DUMP,
    seq: 0x01020304,
    portid: 0xfffffffe,
    payload: Uint8Array.of(0xaa, 0xbb, 0xcc, 0xdd, 0xee),
  });
  assert.deepEqual(
    encoded,
    concat(
      header(21, 18, 0x301, 0x01020304, 0xfffffffe),
      bytes(0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0, 0, 0),
    ),
  );
});

test("encodeMessage copies the payload", () => {
  const payload = Uint8Array.of(1, 2, 3, 4);
  const encoded = encodeMessage({ type: 1, flags: 0, seq: 0, portid: 0, payload });
  payload[0] = 9;
  assert.equal(encoded[16], 1);
});

test("encodeMessage accepts the extremes of each field", () => {
  const encoded = encodeMessage({
    type: 0xffff,
    flags: 0xffff,
    seq: 0xffffffff,
    portid: 0xffffffff,
    payload: new Uint8Array(0),
  });
  assert.deepEqual(encoded, header(16, 0xffff, 0xffff, 0xffffffff, 0xffffffff));
});

test("encodeMessages packs messages back to back, each padded", () => {
  const encoded = encodeMessages([
    { type: 16, flags: 1, seq: 1, portid: 0, payload: Uint8Array.of(7) },
    { type: 17, flags: 5, seq: 2, portid: 9, payload: Uint8Array.of(1, 2, 3, 4) },
    { type: 3, flags: 0, seq: 3, portid: 0, payload: Uint8Array.of(5, 6) },
  ]);
  assert.deepEqual(
    encoded,
    concat(
      header(17, 16, 1, 1, 0),
      bytes(7, 0, 0, 0),
      header(20, 17, 5, 2, 9),
      bytes(1, 2, 3, 4),
      header(18, 3, 0, 3, 0),
      bytes(5, 6, 0, 0),
    ),
  );
});

test("encodeMessages accepts any iterable, and nothing", () => {
  function* two(): Generator<Message> {
    yield { type: 1, flags: 0, seq: 0, portid: 0, payload: new Uint8Array(0) };
    yield { type: 2, flags: 0, seq: 0, portid: 0, payload: new Uint8Array(0) };
  }
  assert.equal(encodeMessages(two()).length, 32);
  assert.equal(encodeMessages([]).length, 0);
});

test("encoding rejects fields outside their C types, naming the field", () => {
  const ok: Message = { type: 1, flags: 0, seq: 0, portid: 0, payload: new Uint8Array(0) };
  const cases: [Partial<Record<keyof Message, unknown>>, typeof RangeError, RegExp][] = [
    [{ type: 0x10000 }, RangeError, /type must be a u16: an integer from 0 to 65535, got 65536/],
    [{ type: -1 }, RangeError, /type/],
    [{ type: 1.5 }, TypeError, /type/],
    [{ type: NaN }, TypeError, /type/],
    [{ type: "1" }, TypeError, /type must be a number, got string/],
    [{ flags: 0x10000 }, RangeError, /flags must be a u16/],
    [{ seq: 2 ** 32 }, RangeError, /seq must be a u32: an integer from 0 to 4294967295/],
    [{ seq: -1 }, RangeError, /seq/],
    [{ portid: 2 ** 32 }, RangeError, /portid must be a u32/],
    [{ portid: 1n }, TypeError, /portid must be a number, got bigint/],
    [{ payload: [1, 2] }, TypeError, /payload must be a Uint8Array, got object/],
    [{ payload: new Uint16Array(2) }, TypeError, /payload must be a Uint8Array/],
    [{ payload: undefined }, TypeError, /payload must be a Uint8Array, got undefined/],
  ];
  for (const [change, kind, pattern] of cases) {
    const bad = { ...ok, ...change } as Message;
    assert.throws(
      () => encodeMessage(bad),
      (e: unknown) => e instanceof kind && pattern.test(String(e)),
    );
    assert.throws(() => encodeMessages([ok, bad]), kind);
  }
  assert.throws(() => encodeMessage(null as unknown as Message), TypeError);
});

test("decodeMessages of an empty datagram is no messages", () => {
  assert.deepEqual(decodeMessages(new Uint8Array(0)), []);
});

test("decodeMessages splits a datagram and reads every header field", () => {
  const datagram = concat(
    header(20, 16, 2, 7, 1234),
    bytes(1, 2, 3, 4),
    header(17, 3, 2, 7, 1234),
    bytes(9, 0, 0, 0),
    header(16, 0xffff, 0xffff, 0xffffffff, 0xffffffff),
  );
  const messages = decodeMessages(datagram);
  assert.equal(messages.length, 3);
  assert.deepEqual(
    messages.map((
      { type, flags, seq, portid, payload },
    ) => [type, flags, seq, portid, [...payload]]),
    [
      [16, 2, 7, 1234, [1, 2, 3, 4]],
      [3, 2, 7, 1234, [9]],
      [0xffff, 0xffff, 0xffffffff, 0xffffffff, []],
    ],
  );
});

test("decodeMessages payloads are views into the datagram, also at a byte offset", () => {
  const backing = new Uint8Array(64);
  const datagram = backing.subarray(8, 8 + 24);
  datagram.set(concat(header(24, 16, 0, 0, 0), bytes(1, 2, 3, 4, 5, 6, 7, 8)));
  const [message] = decodeMessages(datagram);
  assert.equal(message.payload.buffer, backing.buffer);
  assert.equal(message.payload.byteOffset, 8 + 16);
  assert.equal(message.payload.length, 8);
  backing[8 + 16] = 42;
  assert.equal(message.payload[0], 42);
});

test("decodeDatagram: a resizable buffer grown since it was last decoded is read in full", () => {
  // Its 4-byte words were kept as they were: a header straddling the old end read type 0 and
  // seq undefined.
  const memory = new ArrayBuffer(24, { maxByteLength: 64 });
  const first = header(16, 16, 0, 1, 0);
  new Uint8Array(memory).set(first);
  assert.deepEqual(
    decodeDatagram({ data: new Uint8Array(memory, 0, 16), sender: 0, group: 0 })
      .map((m) => m.type),
    [16],
  );
  memory.resize(32);
  new Uint8Array(memory).set(concat(first, header(16, 17, 5, 9, 0)));
  const messages = decodeDatagram({ data: new Uint8Array(memory), sender: 0, group: 0 });
  assert.deepEqual(messages.map((m) => [m.type, m.flags, m.seq]), [[16, 0, 1], [17, 5, 9]]);
});

test("decodeDatagram: datagrams that share one buffer each decode from their own offset", () => {
  const backing = new Uint8Array(96);
  const first = backing.subarray(4, 4 + 20);
  first.set(concat(header(20, 16, 1, 11, 0), bytes(1, 2, 3, 4)));
  const second = backing.subarray(40, 40 + 24);
  second.set(concat(header(24, 17, 2, 22, 0), bytes(5, 6, 7, 8, 9, 10, 11, 12)));
  for (let round = 0; round < 2; round++) {
    const [a] = decodeDatagram({ data: first, sender: 0, group: 0 });
    const [b] = decodeDatagram({ data: second, sender: 7, group: 3 });
    assert.deepEqual([a.type, a.seq, [...a.payload]], [16, 11, [1, 2, 3, 4]]);
    assert.deepEqual([b.type, b.seq, b.sender, b.group, [...b.payload]], [
      17,
      22,
      7,
      3,
      [5, 6, 7, 8, 9, 10, 11, 12],
    ]);
  }
});

test("decodeDatagram: every payload, the first as the others, is a view of its own bytes in the datagram's memory", () => {
  // The first message's payload is made otherwise than the others' (see decodeDatagram): both
  // ways give the same view, at 4-byte alignment (the header words) and off it (the DataView).
  for (const start of [8, 6]) {
    const backing = new Uint8Array(96);
    const datagram = backing.subarray(start, start + 44);
    datagram.set(concat(
      header(24, 16, 0, 1, 0),
      bytes(1, 2, 3, 4, 5, 6, 7, 8),
      header(20, 17, 0, 2, 0),
      bytes(9, 10, 11, 12),
    ));
    const messages = decodeDatagram({ data: datagram, sender: 0, group: 1 });
    assert.deepEqual(
      messages.map((m) => [m.type, m.seq, m.payload.byteOffset, m.payload.length, [...m.payload]]),
      [[16, 1, start + 16, 8, [1, 2, 3, 4, 5, 6, 7, 8]], [17, 2, start + 40, 4, [9, 10, 11, 12]]],
    );
    for (const m of messages) {
      assert.equal(m.payload.buffer, backing.buffer);
      assert.ok(m.payload instanceof Uint8Array);
    }
    backing[start + 16] = 42;
    assert.equal(messages[0].payload[0], 42);
  }
});

test("decodeMessages accepts a final message without its padding", () => {
  const datagram = concat(
    header(20, 16, 0, 0, 0),
    bytes(1, 2, 3, 4),
    header(17, 3, 0, 0, 0),
    bytes(9),
  );
  const messages = decodeMessages(datagram);
  assert.equal(messages.length, 2);
  assert.deepEqual([...messages[1].payload], [9]);
});

test("decodeMessages rejects a datagram shorter than a header", () => {
  assertMalformed(() => decodeMessages(new Uint8Array(7)), 0, /7 trailing bytes are too short/);
});

test("decodeMessages rejects nlmsg_len below the header size, including 0", () => {
  assertMalformed(() => decodeMessages(header(15, 1, 0, 0, 0)), 0, /nlmsg_len 15 is shorter/);
  assertMalformed(() => decodeMessages(header(0, 1, 0, 0, 0)), 0, /nlmsg_len 0 is shorter/);
  const second = concat(header(16, 1, 0, 0, 0), header(4, 1, 0, 0, 0));
  assertMalformed(() => decodeMessages(second), 16, /nlmsg_len 4/);
});

test("decodeMessages rejects nlmsg_len past the end", () => {
  assertMalformed(
    () => decodeMessages(header(17, 1, 0, 0, 0)),
    0,
    /nlmsg_len 17 runs past the end of the datagram \(16 bytes left\)/,
  );
  const huge = concat(header(20, 1, 0, 0, 0), bytes(0, 0, 0, 0), header(0xffffffff, 1, 0, 0, 0));
  assertMalformed(() => decodeMessages(huge), 20, /nlmsg_len 4294967295 runs past/);
});

test("decodeMessages rejects trailing bytes too short for a header", () => {
  const datagram = concat(header(20, 1, 0, 0, 0), bytes(1, 2, 3, 4), new Uint8Array(5));
  assertMalformed(() => decodeMessages(datagram), 20, /5 trailing bytes/);
  // Padding of the last message that runs past 16 bytes is not padding any more.
  const padded = concat(header(17, 1, 0, 0, 0), new Uint8Array(8));
  assertMalformed(() => decodeMessages(padded), 20, /4 trailing bytes/);
});

test("encodeMessages then decodeMessages gives the messages back", () => {
  const messages: Message[] = [
    { type: 20, flags: 0x300 | 1, seq: 99, portid: 0, payload: Uint8Array.of(2, 0, 0, 0) },
    { type: 21, flags: 0, seq: 100, portid: 77, payload: Uint8Array.of(1, 2, 3, 4, 5, 6, 7) },
    { type: NLMSG_DONE, flags: 2, seq: 101, portid: 77, payload: new Uint8Array(4) },
  ];
  const decoded = decodeMessages(encodeMessages(messages));
  assert.deepEqual(
    decoded.map((m) => ({ ...m, payload: [...m.payload] })),
    messages.map((m) => ({ ...m, payload: [...m.payload] })),
  );
});

test("the decoders and formatters of bytes refuse what is no Uint8Array with a TypeError naming it, not silently or in the engine's words", () => {
  // decodeMessages("x") and formatMAC("12") returned [] and "01:02"; decodeMessages(undefined),
  // decodeGeneric(1), decodeFamily(undefined), formatIP(null), the socket-diag decoders and
  // isUdevMessage(undefined) threw "Cannot read properties of undefined (reading 'length')" or
  // "payload.subarray is not a function".
  const calls: [string, (bad: never) => unknown][] = [
    ["decodeMessages(): the datagram", (bad) => decodeMessages(bad)],
    ["decodeGeneric(): the payload", (bad) => decodeGeneric(bad)],
    ["encodeGeneric(): the body", (bad) => encodeGeneric(1, 1, bad ?? ("" as never))],
    ["decodeFamily(): the message's payload", (bad) => decodeFamily({ payload: bad } as never)],
    ["formatIP(): the address", (bad) => formatIP(bad)],
    ["formatMAC(): the address", (bad) => formatMAC(bad)],
    ["formatIP(): the address", (bad) => formatPrefix(bad, 24)],
    ["inet_diag_msg: the payload", (bad) => decodeInetSocket(bad, 6)],
    ["unix_diag_msg: the payload", (bad) => decodeUnixSocket(bad)],
    ["netlink_diag_msg: the payload", (bad) => decodeNetlinkSocket(bad)],
    ["packet_diag_msg: the payload", (bad) => decodePacketSocket(bad)],
    ["isUdevMessage(): the data", (bad) => isUdevMessage(bad)],
  ];
  for (const [name, call] of calls) {
    for (const bad of [undefined, null, 1, "12", [1, 2], new Uint16Array(8)]) {
      assert.throws(
        () => call(bad as never),
        (err: Error) =>
          err instanceof TypeError && err.message.startsWith(`${name} must be a Uint8Array, got `),
        `${name}: ${String(bad)}`,
      );
    }
  }
  assert.throws(() => decodeFamily(undefined as never), /decodeFamily\(\): the message's payload/);
  // The length was pasted in as it came: "0.0.0.0/NaN", "::/129", or an engine error for a Symbol.
  for (
    const [address, length] of [[4, NaN], [4, 33], [16, 129], [4, -1], [4, 1.5], [4, Symbol()]]
  ) {
    // Out of range a RangeError, no integer at all a TypeError.
    const kind = Number.isInteger(length) ? "RangeError" : "TypeError";
    assert.throws(
      () => formatPrefix(new Uint8Array(address as number), length as never),
      new RegExp(
        `^${kind}: formatPrefix\\(\\): the prefix length must be an integer from 0 to (32|128), got `,
      ),
    );
  }
  assert.throws(
    () => decodeAck(undefined as never),
    /decodeAck: message payload must be a Uint8Array/,
  );
});

test("the codec's entry points refuse what is no message, attribute or datagram with a TypeError that shows it, never an engine error (attack12a)", async () => {
  const { AttributeEncoder, encodeAttributes } = await import("../../src/attribute.ts");
  const symbol = Symbol("s");
  // A Symbol in the message made the error itself throw ("Cannot convert a Symbol value").
  assert.throws(
    () => encodeMessage(symbol as never),
    /^TypeError: message 0 must be an object, got Symbol\(s\)$/,
  );
  assert.throws(
    () => new AttributeEncoder().attribute(symbol as never),
    /^TypeError: attribute must be an object, got Symbol\(s\)$/,
  );
  assert.throws(
    () => encodeGeneric(symbol as never, 1),
    /^TypeError: genlmsghdr command must be an integer from 0 to 255, got Symbol\(s\)$/,
  );
  // Not iterable: "is not iterable" from the engine, or (Array.from(NaN)) no message at all.
  for (const value of [NaN, 5, null, {}]) {
    assert.throws(
      () => encodeMessages(value as never),
      /^TypeError: encodeMessages\(\): the messages must be iterable \(an array\), got /,
    );
    assert.throws(
      () => encodeAttributes(value as never),
      /^TypeError: encodeAttributes\(\): the attributes must be iterable \(an array\), got /,
    );
  }
  // A datagram's bytes where the datagram goes: "Cannot read properties of undefined".
  for (const value of [new Uint8Array(300_000), undefined, null, 7]) {
    assert.throws(
      () => decodeDatagram(value as never),
      /^TypeError: decodeDatagram\(\) takes \{ data: Uint8Array, sender, group \}, got /,
    );
  }
  assert.throws(
    () => decodeDatagram({ data: [] } as never),
    /^TypeError: decodeDatagram\(\): datagram\.data must be a Uint8Array, got /,
  );
  // A buffer in a message is its type and size, not every byte listed.
  assert.throws(
    () => decodeDatagram(new Uint8Array(300_000) as never),
    /got a Uint8Array of 300000 bytes$/,
  );
});
