import assert from "node:assert/strict";
import { test } from "node:test";
import { MessageCursor } from "../../src/cursor.ts";
import { MalformedMessageError } from "../../src/errors.ts";
import { decodeMessages, encodeMessages, type Message } from "../../src/message.ts";

const sample: Message[] = [
  { type: 0x10, flags: 0x2, seq: 1, portid: 7, payload: Uint8Array.of(1, 2, 3, 4, 5) },
  { type: 0x11, flags: 0x300, seq: 0xffffffff, portid: 0, payload: new Uint8Array(0) },
  { type: 0x03, flags: 0x2, seq: 2, portid: 0x80000000, payload: new Uint8Array(20).fill(9) },
];

/** What the cursor saw, message by message, as decodeMessages would give it. */
function walk(c: MessageCursor, data: Uint8Array): Message[] {
  const out: Message[] = [];
  for (c.reset(data); c.next();) {
    const { type, flags, seq, portid } = c;
    out.push({ type, flags, seq, portid, payload: c.payload() });
  }
  return out;
}

test("the cursor sees what decodeMessages sees: fields, payloads without padding, order", () => {
  const data = encodeMessages(sample);
  assert.deepEqual(walk(new MessageCursor(), data), decodeMessages(data));
  assert.deepEqual(
    walk(new MessageCursor(), data).map((m) => m.payload),
    sample.map((m) => m.payload),
  );
});

test("offsets point into the datagram, also when it is a view at an offset in a larger buffer", () => {
  const inner = encodeMessages(sample);
  const outer = new Uint8Array(inner.length + 13);
  outer.set(inner, 5);
  const data = outer.subarray(5, 5 + inner.length);
  const c = new MessageCursor().reset(data);
  assert.ok(c.next());
  assert.equal(c.offset, 0);
  assert.equal(c.payloadOffset, 16);
  assert.equal(c.payloadLength, 5);
  assert.equal(c.view.getUint8(c.byteOffset + c.payloadOffset + 4), 5);
  assert.ok(c.next());
  assert.equal(c.offset, 24); // 16 + 5, aligned to 4
  assert.equal(c.payloadLength, 0);
  assert.ok(c.next());
  assert.equal(c.data[c.payloadOffset + 19], 9);
  assert.equal(c.next(), false);
  assert.equal(c.next(), false, "stays at the end");
});

test("one cursor serves datagram after datagram; an empty datagram has no message", () => {
  const c = new MessageCursor();
  assert.equal(c.next(), false, "before any reset");
  assert.equal(c.reset(new Uint8Array(0)).next(), false);
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(walk(c, encodeMessages([sample[i]])), [sample[i]]);
  }
});

test("malformed datagrams throw MalformedMessageError with the offset, then the cursor is at the end", () => {
  const good = encodeMessages([sample[0]]); // 24 bytes
  const cases: [Uint8Array, RegExp, number][] = [
    [Uint8Array.of(...good, 1, 2, 3), /3 trailing bytes are too short/, 24],
    [Uint8Array.of(...good, 8, 0, 0, 0, ...new Array(12).fill(0)), /nlmsg_len 8 is shorter/, 24],
    [Uint8Array.of(...good, 64, 0, 0, 0, ...new Array(12).fill(0)), /runs past the end/, 24],
  ];
  for (const [data, message, offset] of cases) {
    const c = new MessageCursor().reset(data);
    assert.ok(c.next(), "the well-formed first message is read");
    assert.throws(() => c.next(), (err: unknown) => {
      assert.ok(err instanceof MalformedMessageError);
      assert.match(err.message, message);
      assert.equal(err.offset, offset);
      return true;
    });
    assert.equal(c.next(), false);
    assert.throws(
      () => decodeMessages(data),
      MalformedMessageError,
      "the same rule as decodeMessages",
    );
  }
});

test("fields are valid until the next step: they describe the current message only", () => {
  const c = new MessageCursor().reset(encodeMessages(sample));
  c.next();
  const first = c.seq;
  c.next();
  assert.notEqual(c.seq, first);
  assert.equal(c.seq, 0xffffffff);
});

test("reset(data, length) walks only the datagram at the start of a larger buffer, and checks length", () => {
  const inner = encodeMessages(sample);
  const buffer = new Uint8Array(inner.length + 64).fill(0xff); // garbage after the datagram
  buffer.set(inner);
  const c = new MessageCursor();
  const out: Message[] = [];
  for (c.reset(buffer, inner.length); c.next();) {
    const { type, flags, seq, portid } = c;
    out.push({ type, flags, seq, portid, payload: c.payload() });
  }
  assert.deepEqual(out, decodeMessages(inner));
  assert.equal(c.length, inner.length);
  assert.equal(c.reset(buffer).length, buffer.length, "the whole of data by default");
  for (const bad of [-1, buffer.length + 1]) assert.throws(() => c.reset(buffer, bad), RangeError);
  for (const bad of [1.5, NaN]) assert.throws(() => c.reset(buffer, bad), TypeError);
  // A datagram cut short inside the buffer is malformed, as it would be on its own.
  c.reset(buffer, 20);
  assert.throws(() => c.next(), MalformedMessageError);
});

test("data at any alignment is walked alike, malformed headers included (off a 4-byte boundary the headers are not read as words)", () => {
  const inner = encodeMessages(sample);
  const bad = Uint8Array.of(...encodeMessages([sample[0]]), 64, 0, 0, 0, ...new Array(12).fill(0));
  for (let shift = 0; shift < 4; shift++) {
    const outer = new Uint8Array(inner.length + 8);
    outer.set(inner, shift);
    const c = new MessageCursor();
    assert.deepEqual(walk(c, outer.subarray(shift, shift + inner.length)), decodeMessages(inner));
    const broken = new Uint8Array(bad.length + 8);
    broken.set(bad, shift);
    c.reset(broken.subarray(shift, shift + bad.length));
    assert.ok(c.next());
    assert.throws(() => c.next(), (err: unknown) => {
      assert.ok(err instanceof MalformedMessageError);
      assert.match(err.message, /runs past the end/);
      assert.equal(err.offset, 24);
      return true;
    });
  }
});

test("a resizable buffer grown since its words were made: a header across their old end is read in full", () => {
  // The words of a buffer are shared (and kept) while it is the same buffer: grown since, a
  // header across the old end read its seq as undefined.
  const [one, two] = [encodeMessages([sample[0]]), encodeMessages([sample[1]])];
  const memory = new ArrayBuffer(one.length + 8, { maxByteLength: one.length + two.length });
  new Uint8Array(memory).set(one);
  const c = new MessageCursor();
  assert.deepEqual(walk(c, new Uint8Array(memory, 0, one.length)), decodeMessages(one));
  memory.resize(one.length + two.length);
  new Uint8Array(memory).set(two, one.length);
  assert.deepEqual(
    walk(c, new Uint8Array(memory)),
    decodeMessages(encodeMessages([sample[0], sample[1]])),
  );
});

test("a resizable buffer grown since the cursor's last reset over it is read in full", () => {
  const inner = encodeMessages(sample);
  const memory = new ArrayBuffer(64, { maxByteLength: 64 + inner.length });
  const c = new MessageCursor();
  assert.equal(c.reset(new Uint8Array(memory), 0).next(), false);
  memory.resize(64 + inner.length);
  new Uint8Array(memory).set(inner, 64);
  assert.deepEqual(walk(c, new Uint8Array(memory, 64, inner.length)), decodeMessages(inner));
});
