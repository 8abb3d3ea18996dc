// The library against the project's kernel module's classic netlink unit (protocol 30):
// echo, acks, errors with extended acks, multicast above group 32, kernel-initiated messages,
// a 10,000-entry dump, DUMP_INTR, and a flood past the receive buffer.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  NLTEST_A_COOKIE,
  NLTEST_A_COUNT,
  NLTEST_A_COUNTER,
  NLTEST_A_ERRMSG,
  NLTEST_A_ERRNO,
  NLTEST_A_GROUP,
  NLTEST_A_INDEX,
  NLTEST_A_INTERVAL_MS,
  NLTEST_A_INTR_AT,
  NLTEST_A_MISS_TYPE,
  NLTEST_A_MODE,
  NLTEST_A_NAME,
  NLTEST_A_PAYLOAD,
  NLTEST_A_SIZE,
  NLTEST_A_VALUE,
  NLTEST_FLOOD_LOSSY,
  NLTEST_MSG_ECHO,
  NLTEST_MSG_ENTRY,
  NLTEST_MSG_FAIL,
  NLTEST_MSG_FLOOD,
  NLTEST_MSG_FLOOD_DATA,
  NLTEST_MSG_FLOOD_DONE,
  NLTEST_MSG_MCAST,
  NLTEST_MSG_TICK,
  NLTEST_MSG_TIMER_START,
  NLTEST_MSG_TIMER_STOP,
  OFFSETOF_NLTEST_FLOOD_DATA_COUNTER,
} from "../../kernel-module/nltest_uapi.ts";
import { decodeAck } from "../../src/ack.ts";
import { alignAttribute } from "../../src/attribute.ts";
import {
  NLA_HDRLEN,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSG_OVERRUN,
} from "../../src/constants.ts";
import { DumpInterruptedError, NetlinkError } from "../../src/errors.ts";
import { open } from "../../src/open.ts";
import { Netns } from "../host/_netns.ts";
import { attr, nextWithin, nltest, UNIT } from "./_nltest.ts";

const text = new TextEncoder();

test("echo: the payload comes back with the same type and seq, then the ack", async () => {
  await using sock = await open(UNIT);
  const payload = text.encode("hello, kernel");
  const replies = await sock.request({ type: NLTEST_MSG_ECHO, payload });
  assert.equal(replies.length, 1);
  assert.equal(replies[0].type, NLTEST_MSG_ECHO);
  assert.equal(replies[0].sender, 0);
  assert.equal(replies[0].portid, sock.portid);
  assert.deepEqual([...replies[0].payload], [...payload], "13 bytes come back as 13");
});

test("echo keeps nlmsg_len for every payload length, not only multiples of 4", async () => {
  await using sock = await open(UNIT);
  for (let length = 0; length <= 9; length++) {
    const payload = Uint8Array.from({ length }, (_, i) => 0xa0 + i);
    const [echo] = await sock.request({ type: NLTEST_MSG_ECHO, payload });
    assert.equal(echo.payload.length, length, `nlmsg_len for ${length} payload bytes`);
    assert.deepEqual([...echo.payload], [...payload]);
  }
});

test("send() with NLM_F_REQUEST|NLM_F_ACK: the echo and the ack arrive in the stream, same seq", async () => {
  await using sock = await open(UNIT);
  // Without NLM_F_REQUEST the kernel only acks: "only requests are handled by the kernel".
  const seq = sock.send({
    type: NLTEST_MSG_ECHO,
    flags: NLM_F_REQUEST | NLM_F_ACK,
    payload: text.encode("x"),
  });
  const it = sock.messages();
  const echo = (await nextWithin(it, 5000))!;
  const ack = (await nextWithin(it, 5000))!;
  assert.equal(echo.type, NLTEST_MSG_ECHO);
  assert.equal(echo.seq, seq);
  assert.equal(ack.type, NLMSG_ERROR);
  assert.equal(ack.seq, seq);
  assert.equal(decodeAck(ack).errno, 0);
  await it.return!();
});

test("a rejected request: chosen errno, extended-ack message, offset, missing attribute, cookie", async () => {
  await using sock = await open(UNIT);
  const request = nltest(NLTEST_MSG_FAIL, (a) =>
    a.string(NLTEST_A_ERRMSG, "you asked for it")
      .u32(NLTEST_A_ERRNO, 13)
      .u32(NLTEST_A_MISS_TYPE, 77)
      .bytes(NLTEST_A_COOKIE, new Uint8Array([1, 2, 3])));
  const err = await sock.request(request).catch((e) => e);
  assert.ok(err instanceof NetlinkError, String(err));
  assert.equal(err.code, "EACCES");
  assert.equal(err.detail, "you asked for it");
  // The offset points at NLTEST_A_ERRNO, counted from the request's nlmsghdr (16 bytes): it
  // follows the padded NLTEST_A_ERRMSG attribute.
  const errnoInPayload = alignAttribute(NLA_HDRLEN + "you asked for it".length + 1);
  const p = request.payload!;
  assert.equal(
    new DataView(p.buffer, p.byteOffset).getUint16(errnoInPayload + 2, true),
    NLTEST_A_ERRNO,
  );
  assert.equal(err.offset, NLMSG_HDRLEN + errnoInPayload);
  assert.equal(err.missing?.type, 77);
  assert.deepEqual([...err.cookie!], [1, 2, 3]);

  const missing = await sock.request(nltest(NLTEST_MSG_FAIL)).catch((e) => e);
  assert.equal(missing.code, "EINVAL");
  assert.match(missing.detail, /missing NLTEST_A_ERRNO/);
  assert.equal(missing.missing?.type, NLTEST_A_ERRNO);
});

test("a kernel-internal errno a module returns (-ENOTSUPP, 524) is named", async () => {
  // include/linux/errno.h's errnos (512-531) are no UAPI header's, but netlink_ack carries any.
  await using sock = await open(UNIT);
  const err = await sock.request(nltest(NLTEST_MSG_FAIL, (a) => a.u32(NLTEST_A_ERRNO, 524)))
    .catch((e) => e);
  assert.ok(err instanceof NetlinkError, String(err));
  assert.equal(err.errno, 524);
  assert.equal(err.code, "ENOTSUPP"); // before: "E524"
  // The module's extended ack says why (without one, the description does: test/unit/ack_test.ts).
  assert.match(err.message, /^ENOTSUPP: nltest: failure requested/);
});

test("multicast: join and leave, including a group above 32", async () => {
  await using listener = await open(UNIT, { groups: [33] });
  await using sender = await open(UNIT);
  listener.join(40);
  const it = listener.messages();
  const mcast = (group: number, body: string) =>
    sender.request(
      nltest(NLTEST_MSG_MCAST, (a) =>
        a.u32(NLTEST_A_GROUP, group).bytes(NLTEST_A_PAYLOAD, text.encode(body))),
    );
  await mcast(40, "to 40");
  const first = (await nextWithin(it, 5000))!;
  assert.equal(first.type, NLTEST_MSG_MCAST);
  assert.equal(first.group, 40);
  assert.equal(first.sender, 0);
  assert.equal(attr(first.payload, NLTEST_A_GROUP, (a) => a.u32()), 40);
  listener.leave(40);
  assert.deepEqual(listener.groups, [33]);
  await mcast(40, "not for us any more");
  await mcast(33, "to 33");
  const second = (await nextWithin(it, 5000))!;
  assert.equal(second.group, 33, "group 40 was left: the next message is 33's");
  assert.equal(
    new TextDecoder().decode(attr(second.payload, NLTEST_A_PAYLOAD, (a) => a.bytes())),
    "to 33",
  );
  await it.return!();
});

test("kernel-initiated messages arrive through the iterator without the client sending", async () => {
  await using control = await open(UNIT);
  await using listener = await open(UNIT, { groups: [45] });
  await control.request(
    nltest(NLTEST_MSG_TIMER_START, (a) => a.u32(NLTEST_A_GROUP, 45).u32(NLTEST_A_INTERVAL_MS, 20)),
  );
  try {
    const counters: bigint[] = [];
    for await (const msg of listener.messages({ signal: AbortSignal.timeout(10_000) })) {
      assert.equal(msg.type, NLTEST_MSG_TICK);
      assert.equal(msg.group, 45);
      counters.push(attr(msg.payload, NLTEST_A_COUNTER, (a) => a.u64()));
      if (counters.length === 5) break;
    }
    for (let i = 1; i < counters.length; i++) assert.equal(counters[i], counters[i - 1] + 1n);
  } finally {
    await control.request(nltest(NLTEST_MSG_TIMER_STOP, (a) => a.u32(NLTEST_A_GROUP, 45)));
  }
  const stopped = await control.request(
    nltest(NLTEST_MSG_TIMER_STOP, (a) => a.u32(NLTEST_A_GROUP, 45)),
  ).catch((e) => e);
  assert.equal(stopped.code, "ENOENT");
  assert.match(stopped.detail, /no timer/);
});

test("a dump of 10,000 entries arrives whole and in order", async () => {
  await using sock = await open(UNIT);
  let next = 0;
  for await (
    const entry of sock.dump(nltest(NLTEST_MSG_ENTRY, (a) => a.u32(NLTEST_A_COUNT, 10_000)))
  ) {
    assert.equal(entry.type, NLTEST_MSG_ENTRY);
    const index = attr(entry.payload, NLTEST_A_INDEX, (a) => a.u32());
    assert.equal(index, next++);
    if (index % 997 === 0) {
      assert.equal(attr(entry.payload, NLTEST_A_VALUE, (a) => a.u64()), BigInt(index) ** 2n);
      assert.equal(attr(entry.payload, NLTEST_A_NAME, (a) => a.string()), `entry-${index}`);
    }
  }
  assert.equal(next, 10_000);
  // The same, collected by request().
  const all = await sock.request(
    nltest(NLTEST_MSG_ENTRY, (a) => a.u32(NLTEST_A_COUNT, 10_000), NLM_F_DUMP),
  );
  assert.equal(all.length, 10_000);
});

test("NLM_F_DUMP_INTR surfaces as DumpInterruptedError, after every part", async () => {
  await using sock = await open(UNIT);
  let parts = 0;
  await assert.rejects(async () => {
    for await (
      const _ of sock.dump(
        nltest(NLTEST_MSG_ENTRY, (a) => a.u32(NLTEST_A_COUNT, 2000).u32(NLTEST_A_INTR_AT, 1000)),
      )
    ) parts++;
  }, DumpInterruptedError);
  assert.equal(parts, 2000);
  const err = await sock.request(
    nltest(
      NLTEST_MSG_ENTRY,
      (a) => a.u32(NLTEST_A_COUNT, 300).u32(NLTEST_A_INTR_AT, 100),
      NLM_F_DUMP,
    ),
  ).catch((e) => e);
  assert.ok(err instanceof DumpInterruptedError);
  assert.equal(err.messages.length, 300);
  // A dump that fails at its end: NLMSG_DONE carries the error and the extended ack.
  const failed = await sock.request(
    nltest(NLTEST_MSG_ENTRY, (a) => a.u32(NLTEST_A_COUNT, 5).u32(NLTEST_A_ERRNO, 16), NLM_F_DUMP),
  ).catch((e) => e);
  assert.ok(failed instanceof NetlinkError);
  assert.equal(failed.code, "EBUSY");
  assert.match(failed.detail ?? "", /dump failed as requested/);
});

test("a dump of a type the unit runs as a request (echo: a reply, no dump) ends with that reply, and the next dumps run", async () => {
  // The unit dumps NLTEST_MSG_ENTRY alone: an echo with NLM_F_DUMP is echoed, without
  // NLM_F_MULTI, and nothing follows (with NLM_F_ACK, the ack). A dump the kernel runs has a part
  // queued until its NLMSG_DONE is read, so the read that finds the queue empty ends the dump
  // (before, it waited for its timeout); the socket's dump slot is free then.
  await using sock = await open(UNIT);
  for (const flags of [0, NLM_F_ACK]) {
    const echoed: number[] = [];
    await sock.dump(nltest(NLTEST_MSG_ECHO, (a) => a.u32(NLTEST_A_COUNT, 1), flags), {
      timeout: 10_000,
    }).forEach((m) => void echoed.push(m.type));
    assert.deepEqual(echoed, [NLTEST_MSG_ECHO], `flags ${flags}`);
    const entries = await sock.request(
      nltest(NLTEST_MSG_ENTRY, (a) => a.u32(NLTEST_A_COUNT, 50), NLM_F_DUMP),
      { timeout: 5000 },
    );
    assert.equal(entries.length, 50);
  }
});

test("a flood past the receive buffer reports the overrun and the stream keeps going", async () => {
  await using sock = await open(UNIT, { receiveBufferSize: 8192 });
  const count = 20_000;
  await sock.request(
    nltest(
      NLTEST_MSG_FLOOD,
      (a) =>
        a.u32(NLTEST_A_COUNT, count).u32(NLTEST_A_SIZE, 256).u32(NLTEST_A_MODE, NLTEST_FLOOD_LOSSY),
    ),
  );
  const it = sock.messages();
  let data = 0, markers = 0, dataAfterMarker = 0, done = false, last = -1n, gaps = 0, backwards = 0;
  // Lossy mode may drop the final FLOOD_DONE too: stop at it, or when the flood goes quiet.
  for (;;) {
    const msg = await nextWithin(it, 2000).catch(() => undefined);
    if (!msg) break;
    if (msg.type === NLMSG_OVERRUN) markers++;
    else if (msg.type === NLTEST_MSG_FLOOD_DATA) {
      data++;
      if (markers) dataAfterMarker++;
      const counter = new DataView(msg.payload.buffer, msg.payload.byteOffset)
        .getBigUint64(OFFSETOF_NLTEST_FLOOD_DATA_COUNTER, true);
      if (counter <= last) backwards++;
      else if (counter !== last + 1n) gaps++;
      last = counter;
    } else if (msg.type === NLTEST_MSG_FLOOD_DONE) {
      done = true;
      break;
    }
  }
  await it.return!();
  assert.ok(sock.overruns >= 1, `overruns: ${sock.overruns}`);
  assert.ok(markers >= 1, "an NLMSG_OVERRUN message was in the stream");
  assert.equal(backwards, 0, "counters only go up: nothing repeated or reordered");
  // Where the loss shows depends on timing: a gap, or (the burst outran the reader) a lost tail.
  assert.ok(gaps >= 1 || last < BigInt(count - 1), `the counters show the loss (last ${last})`);
  assert.ok(data < count, `received ${data} of ${count}`);
  assert.ok(dataAfterMarker > 0, "messages kept coming after the overrun");
  void done; // may be dropped too: not asserted
  // The socket still works.
  const echo = await sock.request({ type: NLTEST_MSG_ECHO, payload: text.encode("still here") });
  assert.equal(echo.length, 1);
});

test("the module's unit is per network namespace", async () => {
  using nsA = new Netns();
  using nsB = new Netns();
  await using a = await open(UNIT, { netns: nsA.name });
  await using b = await open(UNIT, { netns: nsB.name, groups: [7] });
  const it = b.messages();
  const mcast = (s: typeof a, body: string) =>
    s.request(
      nltest(NLTEST_MSG_MCAST, (x) =>
        x.u32(NLTEST_A_GROUP, 7).bytes(NLTEST_A_PAYLOAD, text.encode(body))),
    );
  await mcast(a, "from a");
  await mcast(b, "from b");
  const got = (await nextWithin(it, 5000))!;
  assert.equal(
    new TextDecoder().decode(attr(got.payload, NLTEST_A_PAYLOAD, (x) => x.bytes())),
    "from b",
  );
  await it.return!();
});
