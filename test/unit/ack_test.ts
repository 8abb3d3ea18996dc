import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeAck } from "../../src/ack.ts";
import {
  NL_ATTR_TYPE_U32,
  NL_POLICY_TYPE_ATTR_MAX_VALUE_U,
  NL_POLICY_TYPE_ATTR_TYPE,
  NLM_F_ACK,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_MULTI,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSGERR_ATTR_COOKIE,
  NLMSGERR_ATTR_MISS_NEST,
  NLMSGERR_ATTR_MISS_TYPE,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
  NLMSGERR_ATTR_POLICY,
} from "../../src/constants.ts";
import {
  type ErrnoName,
  MalformedMessageError,
  NetlinkError,
  SyscallError,
} from "../../src/errors.ts";
import type { Message } from "../../src/message.ts";

// Fixtures are spelled out byte by byte, little-endian (the hosts Deno and Bun run on).
const u16 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff];
const u32 = (n: number): number[] => [...u16(n & 0xffff), ...u16((n >>> 16) & 0xffff)];
const s32 = (n: number): number[] => u32(n >>> 0);
const bytes = (...parts: (number | number[])[]): Uint8Array => Uint8Array.from(parts.flat());
const nla = (len: number, type: number): number[] => [...u16(len), ...u16(type)];
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const header = (len: number, type: number, flags: number, seq: number, portid: number) => [
  ...u32(len),
  ...u16(type),
  ...u16(flags),
  ...u32(seq),
  ...u32(portid),
];

const RTM_NEWLINK = 16;
const REQUEST_FLAGS = NLM_F_REQUEST | NLM_F_ACK;

function error(flags: number, payload: Uint8Array, seq = 1): Message {
  return { type: NLMSG_ERROR, flags, seq, portid: 4242, payload };
}

function assertMalformed(fn: () => unknown, offset: number, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MalformedMessageError, `expected MalformedMessageError: ${e}`);
    assert.equal(e.offset, offset);
    assert.match(e.message, pattern);
    return true;
  });
}

test("a success ack (capped) is errno 0 with the request's type and seq", () => {
  const ack = error(
    NLM_F_CAPPED,
    bytes(s32(0), header(32, RTM_NEWLINK, REQUEST_FLAGS, 5, 4242)),
    5,
  );
  assert.deepEqual(decodeAck(ack), { errno: 0, requestType: RTM_NEWLINK, requestSeq: 5 });
});

test("an error ack echoing the whole request, without extended ack", () => {
  const ack = error(
    0,
    bytes(s32(-22), header(24, RTM_NEWLINK, REQUEST_FLAGS, 6, 4242), [1, 2, 3, 4, 5, 6, 7, 8]),
  );
  assert.deepEqual(decodeAck(ack), { errno: 22, requestType: RTM_NEWLINK, requestSeq: 6 });
});

test("a capped extended ack with MSG, OFFS and MISS_TYPE", () => {
  const ack = error(
    NLM_F_CAPPED | NLM_F_ACK_TLVS,
    bytes(
      s32(-22),
      header(40, RTM_NEWLINK, REQUEST_FLAGS | 0x400, 7, 4242),
      nla(24, NLMSGERR_ATTR_MSG),
      ascii("Unknown device type"),
      [0],
      nla(8, NLMSGERR_ATTR_OFFS),
      u32(36),
      nla(8, NLMSGERR_ATTR_MISS_TYPE),
      u32(3),
    ),
  );
  const fields = decodeAck(ack);
  assert.deepEqual(fields, {
    errno: 22,
    requestType: RTM_NEWLINK,
    requestSeq: 7,
    detail: "Unknown device type",
    offset: 36,
    missing: { type: 3 },
  });
  const err = new NetlinkError(fields);
  assert.equal(err.code, "EINVAL");
  assert.match(err.message, /Unknown device type/);
});

test("an uncapped extended ack: attributes start after the padded echoed request", () => {
  const ack = error(
    NLM_F_ACK_TLVS,
    bytes(
      s32(-34),
      header(17, RTM_NEWLINK, REQUEST_FLAGS, 8, 4242),
      [0xaa, 0, 0, 0], // the request's one payload byte, and the padding the kernel adds
      nla(8, NLMSGERR_ATTR_OFFS),
      u32(20),
      nla(7, NLMSGERR_ATTR_COOKIE),
      [0xc0, 0x0c, 0x1e, 0],
      nla(24, NLMSGERR_ATTR_POLICY | 0x8000), // NL_ATTR_TYPE_U32, at most 4094
      nla(8, NL_POLICY_TYPE_ATTR_TYPE),
      u32(NL_ATTR_TYPE_U32),
      nla(12, NL_POLICY_TYPE_ATTR_MAX_VALUE_U),
      u32(4094),
      u32(0),
      nla(8, NLMSGERR_ATTR_MISS_TYPE),
      u32(4),
      nla(8, NLMSGERR_ATTR_MISS_NEST),
      u32(32),
      nla(8, 99), // a type newer than this code
      u32(0),
    ),
    8,
  );
  const fields = decodeAck(ack);
  assert.deepEqual(fields, {
    errno: 34,
    requestType: RTM_NEWLINK,
    requestSeq: 8,
    offset: 20,
    cookie: Uint8Array.of(0xc0, 0x0c, 0x1e),
    policy: { type: NL_ATTR_TYPE_U32, maxValue: 4094n },
    missing: { type: 4, nestOffset: 32 },
  });
  assert.notEqual(fields.cookie?.buffer, ack.payload.buffer, "the cookie is copied");
});

test("a success ack can carry a warning", () => {
  const ack = error(
    NLM_F_CAPPED | NLM_F_ACK_TLVS,
    bytes(
      s32(0),
      header(20, RTM_NEWLINK, REQUEST_FLAGS, 9, 0),
      nla(9, NLMSGERR_ATTR_MSG),
      ascii("warn"),
      [0, 0, 0, 0],
    ),
  );
  assert.deepEqual(decodeAck(ack), {
    errno: 0,
    requestType: RTM_NEWLINK,
    requestSeq: 9,
    detail: "warn",
  });
});

test("MISS_NEST without MISS_TYPE reports nothing missing", () => {
  const ack = error(
    NLM_F_CAPPED | NLM_F_ACK_TLVS,
    bytes(s32(-22), header(20, 1, 0, 1, 0), nla(8, NLMSGERR_ATTR_MISS_NEST), u32(20)),
  );
  assert.equal(decodeAck(ack).missing, undefined);
});

test("NLM_F_ACK_TLVS with no attributes after an unpadded echoed request", () => {
  const ack = error(NLM_F_ACK_TLVS, bytes(s32(-1), header(17, 1, 0, 1, 0), [0xaa]));
  assert.deepEqual(decodeAck(ack), { errno: 1, requestType: 1, requestSeq: 1 });
});

test("an old kernel's success ack: header only, yet not flagged capped", () => {
  const ack = error(0, bytes(s32(0), header(36, RTM_NEWLINK, REQUEST_FLAGS, 3, 0)));
  assert.deepEqual(decodeAck(ack), { errno: 0, requestType: RTM_NEWLINK, requestSeq: 3 });
});

test("a positive error is taken as its absolute value", () => {
  const ack = error(NLM_F_CAPPED, bytes(s32(13), header(16, 1, 0, 1, 0)));
  assert.equal(decodeAck(ack).errno, 13);
});

test("DONE without payload, with 0, or with a positive count is success", () => {
  const done = (payload: Uint8Array): Message => ({
    type: NLMSG_DONE,
    flags: NLM_F_MULTI,
    seq: 77,
    portid: 4242,
    payload,
  });
  assert.deepEqual(decodeAck(done(new Uint8Array(0))), { errno: 0, requestSeq: 77 });
  assert.deepEqual(decodeAck(done(bytes(s32(0)))), { errno: 0, requestSeq: 77 });
  assert.deepEqual(decodeAck(done(bytes(s32(5)))), { errno: 0, requestSeq: 77 });
});

test("DONE carrying a dump's error, with an extended ack", () => {
  const done: Message = {
    type: NLMSG_DONE,
    flags: NLM_F_MULTI | NLM_F_ACK_TLVS,
    seq: 78,
    portid: 4242,
    payload: bytes(
      s32(-95),
      nla(15, NLMSGERR_ATTR_MSG),
      ascii("no dumping"),
      [0, 0],
      nla(8, NLMSGERR_ATTR_OFFS),
      u32(32),
    ),
  };
  assert.deepEqual(decodeAck(done), {
    errno: 95,
    requestSeq: 78,
    detail: "no dumping",
    offset: 32,
  });
  const plain = { ...done, flags: NLM_F_MULTI };
  assert.deepEqual(
    decodeAck(plain),
    { errno: 95, requestSeq: 78 },
    "attributes need NLM_F_ACK_TLVS",
  );
});

test("truncated acks are malformed", () => {
  assertMalformed(
    () => decodeAck(error(NLM_F_CAPPED, bytes(s32(-1), header(16, 1, 0, 1, 0)).subarray(0, 19))),
    0,
    /NLMSG_ERROR payload is 19 bytes, shorter than struct nlmsgerr \(20\)/,
  );
  assertMalformed(() => decodeAck(error(0, new Uint8Array(0))), 0, /payload is 0 bytes/);
  assertMalformed(
    () => decodeAck(error(NLM_F_ACK_TLVS, bytes(s32(-1), header(40, 1, 0, 1, 0), [0, 0, 0, 0]))),
    4,
    /echoes a 40-byte request but has only 20 bytes after the error/,
  );
  assertMalformed(
    () => decodeAck(error(NLM_F_ACK_TLVS, bytes(s32(-1), header(8, 1, 0, 1, 0)))),
    4,
    /echoes a request with nlmsg_len 8, shorter than its header/,
  );
  assertMalformed(
    () =>
      decodeAck({
        type: NLMSG_DONE,
        flags: NLM_F_MULTI,
        seq: 1,
        portid: 0,
        payload: bytes(0, 0, 0),
      }),
    0,
    /NLMSG_DONE payload is 3 bytes/,
  );
});

test("malformed extended-ack attributes are malformed", () => {
  const capped = (...tlvs: (number | number[])[]) =>
    error(NLM_F_CAPPED | NLM_F_ACK_TLVS, bytes(s32(-22), header(16, 1, 0, 1, 0), ...tlvs));
  assertMalformed(
    () => decodeAck(capped(nla(6, NLMSGERR_ATTR_OFFS), [1, 2, 0, 0])),
    20,
    /attribute 2 is 2 bytes long, but a u32 is 4/,
  );
  assertMalformed(() => decodeAck(capped(nla(3, 1))), 20, /nla_len 3/);
  assertMalformed(() => decodeAck(capped(nla(12, 1), [0, 0, 0, 0])), 20, /runs past the end/);
  assertMalformed(() => decodeAck(capped([0, 0])), 20, /2 trailing bytes/);
});

test("decodeAck refuses other message types", () => {
  assert.throws(
    () =>
      decodeAck({ type: RTM_NEWLINK, flags: 0, seq: 0, portid: 0, payload: new Uint8Array(20) }),
    (e: unknown) =>
      e instanceof TypeError && /message type 16 is neither NLMSG_ERROR/.test(e.message),
  );
});

test("the kernel-internal errnos (512-531, include/linux/errno.h) are named and described, as netlink carries them", () => {
  const notsupp = new NetlinkError({ errno: 524, requestSeq: 1 });
  assert.equal(notsupp.code, "ENOTSUPP"); // before: "E524"
  assert.match(
    notsupp.message,
    /^ENOTSUPP: Operation is not supported \(a kernel-internal errno, from the kernel's include\/linux\/errno\.h: not meant to reach user space; user space's EOPNOTSUPP \(95\) means the same\)$/,
  );
  const names = [
    [512, "ERESTARTSYS"],
    [517, "EPROBE_DEFER"],
    [519, "ENOPARAM"],
    [521, "EBADHANDLE"],
    [531, "ENOGRACE"],
  ] as const;
  for (const [errno, code] of names) {
    const err = new SyscallError("sendmsg", errno);
    assert.equal(err.code, code);
    assert.match(err.message, /a kernel-internal errno/);
  }
  // 520 is none: unnamed still.
  assert.equal(new SyscallError("sendmsg", 520).code, "E520");
});

test("NetlinkError.code and SyscallError.code are typed by the errno names: a misspelt one is a type error", () => {
  const exists = new NetlinkError({ errno: 17 });
  assert.ok(exists.code === "EEXIST");
  // @ts-expect-error: no errno is named EEXSIT (deno check fails on an unused expect-error)
  assert.ok(exists.code !== "EEXSIT");
  // A name the table lacks is E<n>, which compares too.
  const unknown: ErrnoName = new NetlinkError({ errno: 4000 }).code;
  assert.equal(unknown, "E4000");
  assert.ok(new SyscallError("socket", 93).code === "EPROTONOSUPPORT");
  // Still a string for code that takes one.
  const text: string = exists.code;
  assert.equal(text, "EEXIST");
});
