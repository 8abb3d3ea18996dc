/**
 * Deterministic property tests of the codec: random and mutated input either decodes into results
 * that lie within the input, or throws MalformedMessageError (never another error, never a hang);
 * random well-formed values survive encode → decode unchanged.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeAck } from "../../src/ack.ts";
import {
  AttributeDecoder,
  AttributeEncoder,
  decodeAttributes,
  encodeAttributes,
} from "../../src/attribute.ts";
import {
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSGERR_ATTR_COOKIE,
  NLMSGERR_ATTR_MISS_NEST,
  NLMSGERR_ATTR_MISS_TYPE,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
  NLMSGERR_ATTR_POLICY,
} from "../../src/constants.ts";
import { MalformedMessageError } from "../../src/errors.ts";
import { decodeMessages, encodeMessages, type Message } from "../../src/message.ts";

/** mulberry32: small, fast, and the same sequence on every runtime. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (below: number): number => Math.floor(next() * below);
  return {
    int,
    chance: (p: number): boolean => next() < p,
    pick: <T>(items: readonly T[]): T => items[int(items.length)],
    bytes(length: number): Uint8Array {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) out[i] = int(256);
      return out;
    },
  };
}
type Random = ReturnType<typeof random>;

/** Counts both outcomes, so that a generator that only ever produces one is caught. */
class Outcomes {
  ok = 0;
  malformed = 0;

  /** Runs `fn`; MalformedMessageError is an accepted outcome, any other error fails the test. */
  run(fn: () => void): void {
    try {
      fn();
      this.ok++;
    } catch (error) {
      if (!(error instanceof MalformedMessageError)) throw error;
      assert.ok(Number.isInteger(error.offset) && error.offset >= 0, `bad offset ${error.offset}`);
      this.malformed++;
    }
  }

  /** Both outcomes happened at least `min` times each. */
  assertBoth(min: number, what: string): void {
    assert.ok(this.ok >= min, `${what}: only ${this.ok} decoded`);
    assert.ok(this.malformed >= min, `${what}: only ${this.malformed} malformed`);
  }
}

const BOUNDARY_U32 = [
  0,
  1,
  3,
  4,
  5,
  15,
  16,
  17,
  20,
  0x7fff,
  0xffff,
  0x10000,
  0x7fffffff,
  0xffffffff,
];
const BOUNDARY_U16 = [0, 1, 3, 4, 5, 8, 0x3fff, 0x4000, 0x8000, 0xffff];

/** Damages a copy of `input` in one to three random ways. */
function mutate(rng: Random, input: Uint8Array): Uint8Array {
  let out = input.slice();
  const rounds = 1 + rng.int(3);
  for (let round = 0; round < rounds; round++) {
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    switch (rng.int(6)) {
      case 0: // a random byte
        if (out.length > 0) out[rng.int(out.length)] = rng.int(256);
        break;
      case 1: // cut short
        out = out.subarray(0, rng.int(out.length + 1));
        break;
      case 2: // a length-like u32 at an aligned offset
        if (out.length >= 4) {
          view.setUint32(rng.int(out.length >> 2) * 4, rng.pick(BOUNDARY_U32), true);
        }
        break;
      case 3: // a length-like u16 at an aligned offset
        if (out.length >= 2) {
          view.setUint16(rng.int(out.length >> 1) * 2, rng.pick(BOUNDARY_U16), true);
        }
        break;
      case 4: { // trailing garbage
        const grown = new Uint8Array(out.length + 1 + rng.int(20));
        grown.set(out);
        grown.set(rng.bytes(grown.length - out.length), out.length);
        out = grown;
        break;
      }
      case 5: // a random bit
        if (out.length > 0) out[rng.int(out.length)] ^= 1 << rng.int(8);
        break;
    }
  }
  // Sometimes decode from inside a larger buffer, to catch offsets taken from the wrong base.
  if (rng.chance(0.3)) {
    const backing = rng.bytes(out.length + 16);
    const at = 1 + rng.int(8);
    backing.set(out, at);
    return backing.subarray(at, at + out.length);
  }
  return out;
}

/** Asserts that decoded messages are exactly what the bytes they came from say. */
function checkMessages(datagram: Uint8Array, messages: Message[]): void {
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  assert.ok(messages.length <= datagram.length / 16, "more messages than room for headers");
  let previousEnd = 0;
  for (const message of messages) {
    const payload = message.payload;
    assert.ok(payload instanceof Uint8Array);
    assert.equal(payload.buffer, datagram.buffer, "payload is a view into the datagram");
    const start = payload.byteOffset - datagram.byteOffset;
    const headerAt = start - 16;
    assert.ok(headerAt >= previousEnd, `message at ${headerAt} overlaps the previous one`);
    assert.ok(start + payload.length <= datagram.length, "payload runs past the datagram");
    assert.equal(view.getUint32(headerAt, true), payload.length + 16, "nlmsg_len");
    assert.equal(message.type, view.getUint16(headerAt + 4, true));
    assert.equal(message.flags, view.getUint16(headerAt + 6, true));
    assert.equal(message.seq, view.getUint32(headerAt + 8, true));
    assert.equal(message.portid, view.getUint32(headerAt + 12, true));
    previousEnd = start + payload.length;
  }
}

const FIXED: [keyof AttributeDecoder & string, number][] = [
  ["u8", 1],
  ["s8", 1],
  ["u16", 2],
  ["s16", 2],
  ["u16be", 2],
  ["u32", 4],
  ["s32", 4],
  ["u32be", 4],
  ["u64", 8],
  ["s64", 8],
  ["u64be", 8],
];

/**
 * Walks every attribute (and, to `depth`, every value as nested attributes), asserting that each
 * value lies within `bytes[start, end)` and that fixed-size getters throw exactly when the length
 * is wrong. Returns how many attributes it saw.
 */
function walkAttributes(
  decoder: AttributeDecoder,
  bytes: Uint8Array,
  start: number,
  end: number,
  depth: number,
): number {
  let count = 0;
  let previousEnd = start;
  while (decoder.next()) {
    count++;
    assert.ok(count <= (end - start) / 4, "more attributes than room for headers");
    const value = decoder.bytes();
    assert.equal(value.buffer, bytes.buffer, "value is a view into the input");
    const at = value.byteOffset - bytes.byteOffset;
    assert.ok(at - 4 >= previousEnd, "attributes overlap");
    assert.ok(at + value.length <= end, "value runs past the end");
    assert.equal(value.length, decoder.length);
    assert.ok(decoder.type >= 0 && decoder.type <= 0x3fff);
    for (const [getter, size] of FIXED) {
      const read = () => (decoder[getter] as () => unknown)();
      if (value.length === size) read();
      else assert.throws(read, MalformedMessageError);
    }
    assert.equal(typeof decoder.string(), "string");
    if (depth > 0) {
      const inner = decoder.nestedDecoder();
      try {
        count += walkAttributes(inner, bytes, at, at + value.length, depth - 1);
      } catch (error) {
        if (!(error instanceof MalformedMessageError)) throw error;
        // A value that is not attributes is fine; the outer walk goes on.
      }
    }
    previousEnd = at + value.length;
  }
  return count;
}

const SCALARS = [
  "u8",
  "u16",
  "u32",
  "u64",
  "s8",
  "s16",
  "s32",
  "s64",
  "u16be",
  "u32be",
  "u64be",
] as const;
type Scalar = (typeof SCALARS)[number];
type Node =
  | { kind: Scalar; type: number; value: number | bigint }
  | { kind: "string"; type: number; value: string }
  | { kind: "bytes"; type: number; value: Uint8Array }
  | { kind: "flag"; type: number }
  | { kind: "nested"; type: number; children: Node[] };

const RANGES: Record<Scalar, [bigint, bigint]> = {
  u8: [0n, 0xffn],
  u16: [0n, 0xffffn],
  u32: [0n, 0xffffffffn],
  u64: [0n, 2n ** 64n - 1n],
  s8: [-0x80n, 0x7fn],
  s16: [-0x8000n, 0x7fffn],
  s32: [-(2n ** 31n), 2n ** 31n - 1n],
  s64: [-(2n ** 63n), 2n ** 63n - 1n],
  u16be: [0n, 0xffffn],
  u32be: [0n, 0xffffffffn],
  u64be: [0n, 2n ** 64n - 1n],
};

function randomScalar(rng: Random, kind: Scalar): number | bigint {
  const [min, max] = RANGES[kind];
  let value: bigint;
  if (rng.chance(0.3)) {
    value = rng.chance(0.5) ? min : max;
  } else {
    const span = max - min + 1n;
    const draw = (BigInt(rng.int(2 ** 32)) << 32n) | BigInt(rng.int(2 ** 32));
    value = min + draw % span;
  }
  return kind.includes("64") ? value : Number(value);
}

const CHARACTERS = ["a", "Z", "0", " ", "-", "é", "ß", "€", "語", "😀"];

function randomTree(rng: Random, depth: number, budget: { left: number }): Node[] {
  const nodes: Node[] = [];
  const count = rng.int(6);
  for (let i = 0; i < count && budget.left > 0; i++) {
    budget.left--;
    const type = rng.chance(0.1) ? rng.pick([0, 0x3fff]) : rng.int(40);
    const choice = rng.int(15);
    if (choice < SCALARS.length) {
      const kind = SCALARS[choice];
      nodes.push({ kind, type, value: randomScalar(rng, kind) });
    } else if (choice === 11) {
      let text = "";
      for (let n = rng.int(12); n > 0; n--) text += rng.pick(CHARACTERS);
      nodes.push({ kind: "string", type, value: text });
    } else if (choice === 12) {
      nodes.push({ kind: "bytes", type, value: rng.bytes(rng.int(24)) });
    } else if (choice === 13 || depth === 0) {
      nodes.push({ kind: "flag", type });
    } else {
      nodes.push({ kind: "nested", type, children: randomTree(rng, depth - 1, budget) });
    }
  }
  return nodes;
}

function encodeTree(encoder: AttributeEncoder, nodes: Node[]): AttributeEncoder {
  for (const node of nodes) {
    switch (node.kind) {
      case "string":
        encoder.string(node.type, node.value);
        break;
      case "bytes":
        encoder.bytes(node.type, node.value);
        break;
      case "flag":
        encoder.flag(node.type);
        break;
      case "nested":
        encoder.nested(node.type, (inner) => encodeTree(inner, node.children));
        break;
      case "u64":
      case "s64":
      case "u64be":
        encoder[node.kind](node.type, node.value);
        break;
      default:
        encoder[node.kind](node.type, node.value as number);
    }
  }
  return encoder;
}

/** Reads attributes back with the getters the tree says, asserting they match. */
function assertTree(decoder: AttributeDecoder, nodes: Node[]): void {
  for (const node of nodes) {
    assert.ok(decoder.next(), "an attribute is missing");
    assert.equal(decoder.type, node.type);
    assert.equal(decoder.nested, node.kind === "nested");
    switch (node.kind) {
      case "string":
        assert.equal(decoder.string(), node.value);
        break;
      case "bytes":
        assert.deepEqual(decoder.bytes(), node.value);
        break;
      case "flag":
        assert.equal(decoder.length, 0);
        break;
      case "nested":
        assertTree(decoder.nestedDecoder(), node.children);
        break;
      default: {
        const read = decoder[node.kind]() as number | bigint;
        assert.equal(read, typeof read === "bigint" ? BigInt(node.value) : node.value);
      }
    }
  }
  assert.equal(decoder.next(), false, "an attribute too many");
}

function randomMessage(rng: Random): Message {
  const payload = rng.chance(0.5)
    ? encodeTree(new AttributeEncoder(), randomTree(rng, 2, { left: 12 })).finish()
    : rng.bytes(rng.int(40));
  return {
    type: rng.chance(0.2) ? rng.pick([0, 2, 3, 0xffff]) : rng.int(0x10000),
    flags: rng.int(0x10000),
    seq: rng.chance(0.2) ? rng.pick([0, 0xffffffff]) : rng.int(2 ** 32),
    portid: rng.int(2 ** 32),
    payload,
  };
}

function randomDatagram(rng: Random): Uint8Array {
  const messages: Message[] = [];
  for (let n = 1 + rng.int(4); n > 0; n--) messages.push(randomMessage(rng));
  return encodeMessages(messages);
}

test("the checkers can fail", () => {
  // A payload that does not match its header, and one outside the datagram.
  const datagram = encodeMessages([{
    type: 1,
    flags: 0,
    seq: 0,
    portid: 0,
    payload: new Uint8Array(4),
  }]);
  const honest = decodeMessages(datagram);
  checkMessages(datagram, honest);
  assert.throws(() => checkMessages(datagram, [{ ...honest[0], type: 2 }]));
  assert.throws(() => checkMessages(datagram, [{ ...honest[0], payload: new Uint8Array(4) }]));
  assert.throws(() => checkMessages(datagram.subarray(0, 19), honest));
  // An attribute read back as the wrong value.
  const tree: Node[] = [{ kind: "u8", type: 1, value: 5 }];
  const bytes = encodeTree(new AttributeEncoder(), tree).finish();
  assertTree(new AttributeDecoder(bytes), tree);
  assert.throws(() => assertTree(new AttributeDecoder(bytes), [{ kind: "u8", type: 1, value: 6 }]));
  assert.throws(() => assertTree(new AttributeDecoder(bytes), []));
  // An error other than MalformedMessageError is not an accepted outcome.
  assert.throws(
    () => new Outcomes().run(() => new DataView(new ArrayBuffer(1)).getUint32(0)),
    RangeError,
  );
  assert.throws(() => new Outcomes().assertBoth(1, "nothing"));
});

test("decodeMessages: random bytes decode within bounds or are malformed", () => {
  const rng = random(0x5eed0001);
  const outcomes = new Outcomes();
  for (let i = 0; i < 6000; i++) {
    const datagram = rng.bytes(rng.int(80));
    // Give many of them a plausible first length, so that more than the first check is reached.
    if (datagram.length >= 4 && rng.chance(0.7)) {
      const length = rng.chance(0.5) ? datagram.length : 16 + rng.int(datagram.length);
      new DataView(datagram.buffer).setUint32(0, length, true);
    }
    outcomes.run(() => checkMessages(datagram, decodeMessages(datagram)));
  }
  outcomes.assertBoth(300, "random datagrams");
});

test("decodeMessages: mutated valid datagrams decode within bounds or are malformed", () => {
  const rng = random(0x5eed0002);
  const outcomes = new Outcomes();
  for (let i = 0; i < 8000; i++) {
    const datagram = mutate(rng, randomDatagram(rng));
    outcomes.run(() => {
      const messages = decodeMessages(datagram);
      checkMessages(datagram, messages);
      // Payloads go on to the attribute decoder and, for acks, to decodeAck, as a socket would.
      for (const message of messages) {
        outcomes.run(() => {
          walkAttributes(
            new AttributeDecoder(message.payload),
            message.payload,
            0,
            message.payload.length,
            2,
          );
        });
        if (message.type === NLMSG_ERROR || message.type === NLMSG_DONE) {
          outcomes.run(() => void decodeAck(message));
        }
      }
    });
  }
  outcomes.assertBoth(1000, "mutated datagrams");
});

test("AttributeDecoder: random bytes decode within bounds or are malformed", () => {
  const rng = random(0x5eed0003);
  const outcomes = new Outcomes();
  for (let i = 0; i < 6000; i++) {
    const input = rng.bytes(rng.int(64));
    // Plausible lengths at the start of most inputs, so that walks get past the first header.
    if (input.length >= 2 && rng.chance(0.7)) {
      new DataView(input.buffer).setUint16(0, 4 + rng.int(input.length - 3), true);
    }
    outcomes.run(() => void walkAttributes(new AttributeDecoder(input), input, 0, input.length, 3));
  }
  outcomes.assertBoth(300, "random attributes");
});

test("AttributeDecoder: mutated valid attributes decode within bounds or are malformed", () => {
  const rng = random(0x5eed0004);
  const outcomes = new Outcomes();
  for (let i = 0; i < 8000; i++) {
    const valid = encodeTree(new AttributeEncoder(), randomTree(rng, 3, { left: 16 })).finish();
    const input = mutate(rng, valid);
    const start = rng.chance(0.2) ? Math.min(input.length, rng.int(8)) : 0;
    outcomes.run(() => {
      walkAttributes(new AttributeDecoder(input, start), input, start, input.length, 4);
    });
    outcomes.run(() => {
      for (const attribute of decodeAttributes(input)) {
        assert.equal(attribute.value.buffer, input.buffer);
        assert.ok(
          attribute.value.byteOffset + attribute.value.length <= input.byteOffset + input.length,
        );
      }
    });
  }
  outcomes.assertBoth(1000, "mutated attributes");
});

/** A random NLMSG_ERROR or NLMSG_DONE as the kernel would build it, and what it should decode to. */
function randomAck(rng: Random): { message: Message; expected: Record<string, unknown> } {
  const done = rng.chance(0.3);
  const tlvs = rng.chance(0.7);
  const capped = rng.chance(0.5);
  const errno = rng.chance(0.3) ? 0 : 1 + rng.int(133);
  const expected: Record<string, unknown> = { errno };
  const encoder = new AttributeEncoder();
  if (tlvs) {
    if (rng.chance(0.7)) {
      expected.detail = rng.pick(["Unknown device type", "", "é"]);
      encoder.string(NLMSGERR_ATTR_MSG, expected.detail as string);
    }
    if (rng.chance(0.5)) {
      expected.offset = rng.int(2 ** 32);
      encoder.u32(NLMSGERR_ATTR_OFFS, expected.offset as number);
    }
    if (rng.chance(0.3)) {
      expected.cookie = rng.bytes(1 + rng.int(20));
      encoder.bytes(NLMSGERR_ATTR_COOKIE, expected.cookie as Uint8Array);
    }
    if (rng.chance(0.3)) {
      // As netlink_policy_dump_write_attr writes it: the type, then 64-bit limits.
      const maxValue = BigInt(rng.int(2 ** 32));
      encoder.nested(NLMSGERR_ATTR_POLICY, (p) => p.u32(1, 4).u64(5, maxValue));
      expected.policy = { type: 4, maxValue };
    }
    if (rng.chance(0.4)) {
      const type = rng.int(100);
      encoder.u32(NLMSGERR_ATTR_MISS_TYPE, type);
      if (rng.chance(0.5)) {
        const nestOffset = rng.int(1000);
        encoder.u32(NLMSGERR_ATTR_MISS_NEST, nestOffset);
        expected.missing = { type, nestOffset };
      } else {
        expected.missing = { type };
      }
    }
  }
  const attributes = encoder.finish();
  const seq = rng.int(2 ** 32);
  const flags = (tlvs ? NLM_F_ACK_TLVS : 0) | (capped && !done ? NLM_F_CAPPED : 0);
  let head: Uint8Array;
  if (done) {
    head = new Uint8Array(4);
    new DataView(head.buffer).setInt32(0, -errno, true);
    expected.requestSeq = seq;
  } else {
    const requestPayload = capped ? 0 : rng.int(30);
    const request = encodeMessages([{
      type: rng.int(0x10000),
      flags: rng.int(0x10000),
      seq,
      portid: rng.int(2 ** 32),
      payload: rng.bytes(requestPayload),
    }]);
    const echoed = capped ? request.subarray(0, 16) : request;
    head = new Uint8Array(4 + echoed.length);
    const view = new DataView(head.buffer);
    view.setInt32(0, -errno, true);
    head.set(echoed, 4);
    if (capped) view.setUint32(4, 16 + requestPayload + rng.int(100), true); // capped: length as sent
    expected.requestType = view.getUint16(8, true);
    expected.requestSeq = seq;
  }
  const payload = new Uint8Array(head.length + attributes.length);
  payload.set(head);
  payload.set(attributes, head.length);
  return {
    message: { type: done ? NLMSG_DONE : NLMSG_ERROR, flags, seq, portid: 0, payload },
    expected,
  };
}

test("decodeAck: acks as the kernel builds them decode to what they say", () => {
  const rng = random(0x5eed0005);
  for (let i = 0; i < 3000; i++) {
    const { message, expected } = randomAck(rng);
    assert.deepEqual({ ...decodeAck(message) }, expected);
  }
});

test("decodeAck: mutated and random acks decode within bounds or are malformed", () => {
  const rng = random(0x5eed0006);
  const outcomes = new Outcomes();
  for (let i = 0; i < 6000; i++) {
    const { message } = randomAck(rng);
    const payload = rng.chance(0.15) ? rng.bytes(rng.int(48)) : mutate(rng, message.payload);
    const flags = rng.chance(0.2) ? rng.int(0x10000) : message.flags;
    outcomes.run(() => {
      const fields = decodeAck({ ...message, flags, payload });
      assert.ok(Number.isInteger(fields.errno) && fields.errno >= 0 && fields.errno <= 2 ** 31);
      if (fields.cookie) assert.ok(fields.cookie.length <= payload.length);
      if (fields.offset !== undefined) assert.ok(fields.offset >= 0 && fields.offset < 2 ** 32);
      if (fields.detail !== undefined) assert.ok(fields.detail.length <= payload.length);
    });
  }
  outcomes.assertBoth(500, "mutated acks");
});

test("round trip: random messages survive encodeMessages → decodeMessages", () => {
  const rng = random(0x5eed0007);
  for (let i = 0; i < 3000; i++) {
    const messages: Message[] = [];
    for (let n = rng.int(5); n > 0; n--) messages.push(randomMessage(rng));
    const decoded = decodeMessages(encodeMessages(messages));
    assert.equal(decoded.length, messages.length);
    for (let m = 0; m < messages.length; m++) {
      const { payload, ...header } = decoded[m];
      const { payload: sent, ...sentHeader } = messages[m];
      assert.deepEqual(header, sentHeader);
      assert.deepEqual(payload, sent);
    }
  }
});

test("round trip: random attribute trees survive encode → decode, and re-encode byte for byte", () => {
  const rng = random(0x5eed0008);
  for (let i = 0; i < 3000; i++) {
    const tree = randomTree(rng, 3, { left: 20 });
    const encoded = encodeTree(new AttributeEncoder(), tree).finish();
    assertTree(new AttributeDecoder(encoded), tree);
    assert.deepEqual(encodeAttributes(decodeAttributes(encoded)), encoded);
  }
});
