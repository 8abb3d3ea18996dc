// NetlinkSocket's protocol logic over an in-memory transport: request/reply matching, dumps,
// the message stream, overruns, close, timeouts and argument checking.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  NETLINK_ADD_MEMBERSHIP,
  NETLINK_EXT_ACK,
  NETLINK_GENERIC,
  NETLINK_NETFILTER,
  NETLINK_ROUTE,
  NFNL_MSG_BATCH_BEGIN,
  NFNL_MSG_BATCH_END,
  NFNL_SUBSYS_CTNETLINK,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_EXCL,
  NLM_F_MULTI,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
  NLM_F_ROOT,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  RTM_DELROUTE,
  RTM_GETLINK,
  RTM_MAX,
  RTM_NEWLINK,
  RTM_SETLINK,
  RTNLGRP_LINK,
} from "../../src/constants.ts";
import {
  DumpInterruptedError,
  MalformedMessageError,
  NetlinkError,
  SocketClosedError,
  SyscallError,
} from "../../src/errors.ts";
import {
  decodeMessages,
  encodeMessages,
  type Message,
  type ReceivedMessage,
} from "../../src/message.ts";
import { open } from "../../src/open.ts";
import { ack, done, FakeKernel, type FakeSocket, fakeSocket, reply, settle } from "./_fake.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

test("request: sets REQUEST|ACK and a fresh seq, resolves replies without the ack", async () => {
  const { sock, t } = await fakeSocket();
  t.script = (req, t) => {
    t.deliver([reply(req, RTM_NEWLINK, bytes(1, 2, 3, 4)), ack(req)]);
  };
  const replies = await sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  const sent = t.sent[0].message;
  assert.equal(sent.flags, NLM_F_REQUEST | NLM_F_ACK);
  assert.notEqual(sent.seq, 0);
  assert.equal(sent.portid, sock.portid);
  assert.equal(t.sent[0].portid, 0);
  assert.equal(replies.length, 1);
  assert.equal(replies[0].type, RTM_NEWLINK);
  assert.deepEqual([...replies[0].payload], [1, 2, 3, 4]);
  assert.equal(replies[0].sender, 0);
  assert.equal(replies[0].group, 0);
  const second = await sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  assert.equal(second.length, 1);
  assert.notEqual(t.sent[1].message.seq, sent.seq);
  sock.close();
});

test("request: extended ack becomes NetlinkError with code, detail and offset", async () => {
  const { sock, t } = await fakeSocket();
  t.script = (req, t) => t.deliver([ack(req, 22, { detail: "Unknown device type", offset: 36 })]);
  const err = await sock.request({ type: RTM_NEWLINK, payload: new Uint8Array(16) }).then(
    () => assert.fail("should reject"),
    (e) => e,
  );
  assert.ok(err instanceof NetlinkError);
  assert.equal(err.code, "EINVAL");
  assert.equal(err.errno, 22);
  assert.equal(err.detail, "Unknown device type");
  assert.equal(err.offset, 36);
  assert.match(err.message, /EINVAL: Unknown device type/);
  assert.equal(err.requestType, RTM_NEWLINK);
  sock.close();
});

test("request with NLM_F_DUMP collects every part up to DONE, across datagrams", async () => {
  const { sock, t } = await fakeSocket();
  t.script = (req, t) => {
    t.deliver([reply(req, RTM_NEWLINK, bytes(1), NLM_F_MULTI), reply(req, RTM_NEWLINK, bytes(2))]);
    t.deliver([reply(req, RTM_NEWLINK, bytes(3), NLM_F_MULTI), done(req)]);
  };
  const parts = await sock.request({
    type: RTM_GETLINK,
    flags: NLM_F_DUMP,
    payload: new Uint8Array(16),
  });
  assert.deepEqual(parts.map((p) => p.payload[0]), [1, 2, 3]);
  assert.equal(t.sent[0].message.flags & NLM_F_DUMP, NLM_F_DUMP);
  sock.close();
});

test("a DONE carrying an error rejects the dump with NetlinkError", async () => {
  const { sock, t } = await fakeSocket();
  t.script = (req, t) => t.deliver([reply(req, RTM_NEWLINK, bytes(1)), done(req, 16)]);
  await assert.rejects(
    sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) }),
    (e: unknown) => e instanceof NetlinkError && e.code === "EBUSY",
  );
  sock.close();
});

test("dump() streams parts and raises DumpInterruptedError after the last", async () => {
  const { sock, t } = await fakeSocket();
  t.script = (req, t) => {
    t.deliver([reply(req, RTM_NEWLINK, bytes(1), NLM_F_MULTI)]);
    t.deliver([reply(req, RTM_NEWLINK, bytes(2), NLM_F_MULTI | NLM_F_DUMP_INTR)]);
    t.deliver([done(req, 0, NLM_F_DUMP_INTR)]);
  };
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const part of sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) })) {
      seen.push(part.payload[0]);
    }
  }, DumpInterruptedError);
  assert.deepEqual(seen, [1, 2]);
  assert.equal(t.sent[0].message.flags, NLM_F_REQUEST | NLM_F_DUMP);
  // request() reports it too, with every part attached.
  const err = await sock.request({
    type: RTM_GETLINK,
    flags: NLM_F_DUMP,
    payload: new Uint8Array(16),
  }).catch((e) => e);
  assert.ok(err instanceof DumpInterruptedError);
  assert.equal(err.messages.length, 2);
  sock.close();
});

test("dump(): sends nothing until iterated; breaking out discards the rest", async () => {
  const { sock, t } = await fakeSocket();
  let request: Message | undefined;
  t.script = (req, t) => {
    request = req;
    // The kernel queues a dump's next part as a read takes the last: the rest is queued too.
    t.deliver([reply(req, RTM_NEWLINK, bytes(1), NLM_F_MULTI)]);
    t.deliver([reply(req, RTM_NEWLINK, bytes(2), NLM_F_MULTI), done(req)]);
  };
  const dump = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  assert.equal(t.sent.length, 0);
  for await (const part of dump) {
    assert.equal(part.payload[0], 1);
    break;
  }
  assert.ok(request);
  // The rest of the abandoned dump is read and discarded: it must not leak into the stream.
  const stream = sock.messages();
  const next = stream.next();
  t.deliver([{ type: RTM_NEWLINK, flags: 0, seq: 0, portid: 0, payload: bytes(9) }], 0, 1);
  const got = await next;
  assert.equal(got.value!.payload[0], 9);
  sock.close();
});

test("concurrent requests get their own replies, answered out of order", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const a = sock.request({ type: RTM_GETLINK, payload: bytes(0xa) });
  const b = sock.request({ type: RTM_GETLINK, payload: bytes(0xb) });
  const c = sock.request({ type: RTM_GETLINK, payload: bytes(0xc) });
  await settle();
  const [ra, rb, rc] = asked;
  t.deliver([reply(rc, RTM_NEWLINK, bytes(0xc)), reply(ra, RTM_NEWLINK, bytes(0xa))]);
  t.deliver([ack(rc), reply(rb, RTM_NEWLINK, bytes(0xb)), ack(rb), ack(ra)]);
  const results = await Promise.all([a, b, c]);
  assert.deepEqual(results.map((r) => r.map((m) => m.payload[0])), [[0xa], [0xb], [0xc]]);
  sock.close();
});

test("a multicast message with a pending request's seq goes to the stream", async () => {
  const { sock, t } = await fakeSocket({ groups: [RTNLGRP_LINK] });
  let request!: Message;
  t.script = (req) => request = req;
  const pending = sock.request({ type: RTM_NEWLINK, payload: new Uint8Array(16) });
  const stream = sock.messages();
  await settle();
  // rtnetlink echoes the requester's seq and portid in the notification a change causes.
  t.deliver([reply(request, RTM_NEWLINK, bytes(7))], 0, RTNLGRP_LINK);
  t.deliver([ack(request)]);
  assert.deepEqual(await pending, []);
  const event = (await stream.next()).value as ReceivedMessage;
  assert.equal(event.group, RTNLGRP_LINK);
  assert.equal(event.payload[0], 7);
  sock.close();
});

test("a reply from a port other than the kernel cannot answer a request", async () => {
  const { sock, t } = await fakeSocket();
  let request!: Message;
  t.script = (req) => request = req;
  const pending = sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  await settle();
  t.deliver([ack(request, 1, { detail: "spoofed" })], 31337);
  t.deliver([reply(request, RTM_NEWLINK, bytes(5)), ack(request)], 0);
  const replies = await pending;
  assert.deepEqual(replies.map((r) => r.payload[0]), [5]);
  // The spoofed message is not dropped: it is in the stream, with its real sender.
  const spoof = (await sock.messages().next()).value as ReceivedMessage;
  assert.equal(spoof.sender, 31337);
  sock.close();
});

test("request({to}) accepts replies only from that port", async () => {
  const { sock, t, kernel } = await fakeSocket();
  const peer = kernel.open(NETLINK_ROUTE, { portid: 77 }) as FakeSocket;
  const pending = sock.request({ type: 0x20 }, { to: 77 });
  const [req] = decodeMessages(peer.receive()!.data);
  t.deliver([ack(req, 1)], 0); // the kernel can't answer a request sent to port 77
  peer.send(encodeMessages([reply(req, 0x20, bytes(1)), ack(req)]), sock.portid, 0);
  const replies = await pending;
  assert.equal(t.sent[0].portid, 77);
  assert.equal(replies[0].sender, 77);
  sock.close();
  peer.close();
});

test("requestBatch: one datagram, consecutive seqs, done when every acked message is", async () => {
  const { sock, t } = await fakeSocket();
  const seen: Message[] = [];
  t.script = (req) => seen.push(req);
  const batch = sock.requestBatch([
    { type: 0x10, payload: bytes(1) },
    { type: 0x20, flags: NLM_F_ACK, payload: bytes(1) },
    { type: 0x21, flags: NLM_F_ACK, payload: bytes(2) },
    { type: 0x11, payload: bytes(1) },
  ]);
  await settle();
  assert.equal(t.sentDatagrams.length, 1, "all four messages went in one datagram");
  assert.deepEqual(seen.map((m) => m.seq - seen[0].seq), [0, 1, 2, 3]);
  assert.ok(seen.every((m) => m.flags & NLM_F_REQUEST));
  assert.deepEqual(seen.map((m) => m.flags & NLM_F_ACK), [0, NLM_F_ACK, NLM_F_ACK, 0]);
  t.deliver([reply(seen[1], 0x20, bytes(7)), ack(seen[1])]);
  await settle();
  let settled = false;
  void batch.then(() => settled = true);
  await settle();
  assert.equal(settled, false, "one acked message is still unanswered");
  t.deliver([ack(seen[2])]);
  assert.deepEqual((await batch).map((m) => m.payload[0]), [7]);
  sock.close();
});

test("requestBatch: the first error rejects, naming its message; later answers are discarded", async () => {
  const { sock, t } = await fakeSocket();
  const seen: Message[] = [];
  t.script = (req) => seen.push(req);
  const batch = sock.requestBatch([
    { type: 0x20, flags: NLM_F_ACK, payload: bytes(1) },
    { type: 0x21, flags: NLM_F_ACK, payload: bytes(1) },
  ]);
  await settle();
  t.deliver([ack(seen[0], 17, { detail: "exists" }), ack(seen[1])]);
  const err = await batch.catch((e) => e);
  assert.ok(err instanceof NetlinkError);
  assert.equal(err.code, "EEXIST");
  assert.equal(err.requestSeq, seen[0].seq);
  const it = sock.messages();
  const next = it.next();
  t.deliver([{ type: RTM_NEWLINK, flags: 0, seq: 0, portid: 0, payload: bytes(3) }], 0, 1);
  assert.equal((await next).value!.payload[0], 3, "the second ack did not leak into the stream");
  sock.close();
});

test("requestBatch: bad batches are refused before sending", async () => {
  const { sock, t } = await fakeSocket();
  await assert.rejects(sock.requestBatch([]), TypeError);
  await assert.rejects(sock.requestBatch([{ type: 0x10 }, { type: 0x11 }]), /NLM_F_ACK/);
  await assert.rejects(
    sock.requestBatch([{ type: 0x10, flags: NLM_F_ACK, payload: "x" as unknown as Uint8Array }]),
    TypeError,
  );
  assert.equal(t.sentDatagrams.length, 0);
  sock.close();
});

test("close() ends pending requests, dumps and iterations promptly", async () => {
  const { sock, t } = await fakeSocket();
  const req = sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  const dumpNext = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) })
    [Symbol.asyncIterator]().next();
  const iterated = (async () => {
    const seen = [];
    for await (const m of sock) seen.push(m);
    return seen;
  })();
  await settle();
  assert.ok(t.waiting, "the read loop waits for data");
  sock.close();
  await assert.rejects(req, SocketClosedError);
  await assert.rejects(dumpNext, SocketClosedError);
  assert.deepEqual(await iterated, []);
  assert.ok(t.closed);
  assert.ok(sock.closed);
  sock.close(); // idempotent
  assert.throws(() => sock.send({ type: RTM_GETLINK }), SocketClosedError);
  await assert.rejects(
    sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }),
    SocketClosedError,
  );
  assert.throws(() => sock.join(1), SocketClosedError);
});

test("after close() the getters answer without throwing: no groups, fd -1", async () => {
  const { sock } = await fakeSocket({ groups: [RTNLGRP_LINK, 33] });
  const { portid, protocol } = sock;
  assert.deepEqual(sock.groups, [RTNLGRP_LINK, 33]);
  sock.close();
  // The memberships ended with the descriptor: a closed socket belongs to no group.
  assert.deepEqual(sock.groups, []);
  assert.equal(sock.fd, -1);
  assert.equal(sock.closed, true);
  assert.equal(sock.portid, portid);
  assert.equal(sock.protocol, protocol);
  assert.equal(sock.overruns, 0);
  assert.throws(() => sock.leave(RTNLGRP_LINK), SocketClosedError);
});

test("await using closes the socket", async () => {
  const kernel = new FakeKernel();
  {
    await using sock = await open(NETLINK_ROUTE, { transport: kernel.open });
    assert.equal(sock.closed, false);
    assert.equal(kernel.sockets.length, 1);
  }
  assert.equal(kernel.sockets.length, 0, "closed");
});

test("timeout rejects with TimeoutError; the late reply is discarded", async () => {
  const { sock, t } = await fakeSocket();
  let request!: Message;
  t.script = (req) => request = req;
  await assert.rejects(
    sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }, { timeout: 20 }),
    (e: unknown) => e instanceof DOMException && e.name === "TimeoutError",
  );
  const stream = sock.messages();
  const next = stream.next();
  t.deliver([reply(request, RTM_NEWLINK, bytes(1)), ack(request)]);
  t.deliver([{ type: RTM_NEWLINK, flags: 0, seq: 0, portid: 0, payload: bytes(2) }], 0, 1);
  assert.equal((await next).value!.payload[0], 2);
  sock.close();
});

test("a timeout out of range is refused before sending, with the range it must be in", async () => {
  const { sock, t } = await fakeSocket();
  for (const timeout of [-1, 0.5, 2 ** 31, NaN]) {
    await assert.rejects(
      sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }, { timeout }),
      (e: unknown) =>
        // NaN is no number of milliseconds at all: a TypeError, as every layer says it.
        e instanceof (Number.isNaN(timeout) ? TypeError : RangeError)
        && e.message
          === `timeout must be a number of milliseconds from 1 to 2147483647, got ${timeout}`,
    );
  }
  // 0 too, saying what no limit is; for a dump and a batch alike.
  const zero = {
    name: "RangeError",
    message: "timeout must be a number of milliseconds from 1 to 2147483647, got 0: leave it out "
      + "to wait without a limit",
  };
  await assert.rejects(
    sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }, { timeout: 0 }),
    zero,
  );
  await assert.rejects(
    sock.requestBatch([{ type: RTM_GETLINK, flags: NLM_F_ACK, payload: new Uint8Array(16) }], {
      timeout: 0,
    }),
    zero,
  );
  await assert.rejects(async () => {
    for await (
      const _ of sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }, { timeout: 0 })
    ) break;
  }, zero);
  assert.equal(t.sent.length, 0);
  sock.close();
});

test("abort signal rejects with its reason", async () => {
  const { sock } = await fakeSocket();
  const ctl = new AbortController();
  const pending = sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }, {
    signal: ctl.signal,
  });
  ctl.abort(new Error("stop"));
  await assert.rejects(pending, /stop/);
  await assert.rejects(
    sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }, {
      signal: AbortSignal.abort(new Error("already")),
    }),
    /already/,
  );
  const it = sock.messages({ signal: ctl.signal });
  await assert.rejects(it.next(), /stop/);
  sock.close();
});

test("ENOBUFS: counted, an NLMSG_OVERRUN in the stream, and the stream goes on", async () => {
  const { sock, t } = await fakeSocket();
  const event = (n: number): Message => ({
    type: RTM_NEWLINK,
    flags: 0,
    seq: 0,
    portid: 0,
    payload: bytes(n),
  });
  const it = sock.messages();
  const take = async () => {
    const m = (await it.next()).value!;
    return m.type === NLMSG_OVERRUN ? -1 : m.payload[0];
  };
  t.deliver([event(1)], 0, 1);
  assert.equal(await take(), 1);
  t.overrun();
  assert.equal(t.deliver([event(2)], 0, 1), false, "dropped: the socket is congested");
  assert.equal(await take(), -1);
  t.deliver([event(3)], 0, 1); // the queue was read empty: delivered again
  assert.equal(await take(), 3);
  assert.equal(sock.overruns, 1);
  sock.close();
});

test("ENOBUFS fails a pending plain request (its ack may be lost), not a dump", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const plain = sock.request({ type: RTM_NEWLINK, payload: new Uint8Array(16) });
  const dump = sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
  await settle();
  t.overrun();
  await assert.rejects(plain, (e: unknown) => e instanceof SyscallError && e.code === "ENOBUFS");
  // The kernel queues dump parts only when there is room: an overrun never takes them.
  t.deliver([reply(asked[1], RTM_NEWLINK, bytes(1)), done(asked[1])]);
  assert.equal((await dump).length, 1);
  sock.close();
});

test("ENOBUFS reported before a queued ack does not fail that request", async () => {
  const { sock, t } = await fakeSocket();
  t.script = (req, t) => {
    t.deliver([ack(req)]); // the ack is queued, then a later message is dropped:
    t.overrun(); // the kernel reports the drop first, then hands out what was queued
  };
  assert.deepEqual(await sock.request({ type: RTM_NEWLINK, payload: new Uint8Array(16) }), []);
  assert.equal(sock.overruns, 1);
  sock.close();
});

test("unclaimed messages beyond the backlog become one overrun, not silent loss", async () => {
  const { sock, t } = await fakeSocket({ backlog: 2 });
  let request!: Message;
  t.script = (req) => request = req;
  const pending = sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  await settle();
  for (let i = 1; i <= 4; i++) {
    t.deliver([{ type: RTM_NEWLINK, flags: 0, seq: 0, portid: 0, payload: bytes(i) }], 0, 1);
  }
  t.deliver([ack(request)]);
  await pending;
  const it = sock.messages();
  const seen = [];
  for (let i = 0; i < 3; i++) {
    const m = (await it.next()).value!;
    seen.push(m.type === NLMSG_OVERRUN ? "overrun" : m.payload[0]);
  }
  // What was queued stays queued; the two dropped messages are one overrun, one marker.
  assert.deepEqual(seen, [1, 2, "overrun"]);
  assert.equal(sock.overruns, 1);
  sock.close();
});

test("another process's NLMSG_OVERRUN at the end of a full queue does not hide the drops after it", async () => {
  // The queue's last entry stands for the run of drops only when it is the socket's own marker
  // (sender 0): a peer's message of that type was taken for one, and what was dropped after it
  // went uncounted, with no marker.
  const { sock, t } = await fakeSocket({ backlog: 2 });
  let request!: Message;
  t.script = (req) => request = req;
  const it = sock.messages();
  const pending = sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  await settle();
  for (const n of [1, 2, 3]) t.deliver([event(n)], 0, 1);
  t.deliver([{ ...event(4), type: NLMSG_OVERRUN }], 99, 0); // a peer's, to our port
  t.deliver([event(5)], 0, 1);
  t.deliver([event(6)], 0, 1);
  t.deliver([ack(request)]);
  await pending;
  const seen = [];
  for (let i = 0; i < 5; i++) {
    const m = (await it.next()).value!;
    seen.push(m.type === NLMSG_OVERRUN ? `overrun from ${m.sender}` : m.payload[0]);
  }
  assert.deepEqual(seen, [1, 2, 3, "overrun from 99", "overrun from 0"]);
  assert.equal(sock.overruns, 1);
  sock.close();
});

test("a slow iterator over many-message datagrams loses nothing (reading pauses, resumes)", async () => {
  const { sock, t } = await fakeSocket({ backlog: 100 });
  let next = 0;
  const datagram = () => {
    const messages: Message[] = [];
    for (let i = 0; i < 64; i++) {
      const payload = new Uint8Array(4);
      new DataView(payload.buffer).setUint32(0, next++, true);
      messages.push({ type: RTM_NEWLINK, flags: 0, seq: 0, portid: 0, payload });
    }
    return messages;
  };
  for (let i = 0; i < 50; i++) t.deliver(datagram(), 0, 1); // 3,200 messages queued at once
  let expected = 0;
  for await (const m of sock) {
    assert.notEqual(m.type, NLMSG_OVERRUN);
    assert.equal(
      new DataView(m.payload.buffer, m.payload.byteOffset).getUint32(0, true),
      expected++,
    );
    if (expected % 10 === 0) await settle(); // a slow consumer
    if (expected === 3200) break;
  }
  assert.equal(sock.overruns, 0);
  assert.ok(t.waits < 50, `read in bursts, not one wait per message (${t.waits} waits)`);
  sock.close();
});

test("idle socket: no wait is left pending once nothing wants data", async () => {
  const { sock, t } = await fakeSocket();
  t.script = (req, t) => t.deliver([ack(req)]);
  await sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  await settle();
  assert.equal(t.waiting, false);
  const it = sock.messages();
  const next = it.next();
  await settle();
  assert.equal(t.waiting, true);
  await it.return!();
  await settle();
  assert.equal(t.waiting, false, "a finished iteration cancels the wait");
  void next;
  sock.close();
});

test("open: joins groups, turns on extended acks, closes the transport if an option fails", async () => {
  const { sock, t } = await fakeSocket({ groups: [RTNLGRP_LINK, 33] });
  assert.ok(t.options.some(([, n, v]) => n === NETLINK_EXT_ACK && v === 1));
  const joined = t.options.filter(([, n]) => n === NETLINK_ADD_MEMBERSHIP).map(([, , v]) => v);
  assert.deepEqual(joined, [RTNLGRP_LINK, 33]);
  assert.deepEqual(sock.groups, [RTNLGRP_LINK, 33]);
  sock.close();

  const kernel = new FakeKernel();
  let failing!: FakeSocket;
  await assert.rejects(
    open(NETLINK_ROUTE, {
      groups: [99],
      transport: (p, o) => {
        failing = kernel.open(p, o) as FakeSocket;
        failing.failOption = (_l, n) =>
          n === NETLINK_ADD_MEMBERSHIP ? new SyscallError("setsockopt", 22) : undefined;
        return failing;
      },
    }),
    (e: unknown) => e instanceof SyscallError && e.code === "EINVAL",
  );
  assert.ok(failing.closed, "no descriptor leaks when an option fails");
});

test("a number given as a string is refused showing the string, not a number the range allows", async () => {
  const transport = (p: number, o: { portid: number }) => new FakeKernel().open(p, o);
  const asString = <T>(text: string) => text as unknown as T;
  await assert.rejects(open(asString<number>("0"), { transport }), /got "0"$/);
  await assert.rejects(
    open(NETLINK_ROUTE, { groups: asString<number[]>("1"), transport }),
    /got "1"$/,
  );
  await assert.rejects(
    open(NETLINK_ROUTE, { portid: asString<number>("7"), transport }),
    /got "7"$/,
  );
  const { sock } = await fakeSocket();
  assert.throws(() => sock.send({ type: 1 }, { portid: asString<number>("7") }), /got "7"$/);
  assert.throws(() => sock.send({ type: 1, flags: asString<number>("1") }), /got "1"$/);
  await assert.rejects(sock.request({ type: 1 }, { timeout: asString<number>("5") }), /got "5"$/);
  assert.throws(() => sock.setOption(1, 1, asString<number>("1")), /got "1"$/);
  sock.close();
});

test("bad arguments are rejected before the transport is opened", async () => {
  let opened = 0;
  const transport = (p: number, o: { portid: number }) => {
    opened++;
    return new FakeKernel().open(p, o);
  };
  await assert.rejects(open(32, { transport }), RangeError);
  await assert.rejects(open(-1, { transport }), RangeError);
  await assert.rejects(open(1.5, { transport }), TypeError);
  await assert.rejects(open(NETLINK_ROUTE, { groups: [0], transport }), /group/);
  await assert.rejects(open(NETLINK_ROUTE, { portid: -3, transport }), /portid/);
  await assert.rejects(open(NETLINK_ROUTE, { receiveBufferSize: 0, transport }), RangeError);
  await assert.rejects(open(NETLINK_ROUTE, { netns: "", transport }), TypeError);
  assert.equal(opened, 0);

  const { sock, t } = await fakeSocket();
  assert.throws(() => sock.join(0), /group 0 means none/);
  assert.throws(() => sock.send({ type: 1 }, { group: 33 }), /groups 1-32/);
  assert.throws(
    () => sock.send({ type: 1, payload: "hi" as unknown as Uint8Array }),
    TypeError,
  );
  assert.throws(() => sock.send({ type: 0x1_0000 }), RangeError);
  await assert.rejects(sock.request({ type: 1 }, { timeout: -1 }), RangeError);
  assert.throws(() => sock.dump({ type: 1, payload: [1] as unknown as Uint8Array }), TypeError);
  assert.equal(t.sent.length, 0, "nothing was sent");
  sock.close();
});

test("send: defaults and destinations", async () => {
  const { sock, t, kernel } = await fakeSocket();
  const peer = kernel.open(NETLINK_ROUTE, { portid: 555 });
  const seq = sock.send({ type: 0x30, payload: bytes(1, 2) }, { group: 32 });
  assert.equal(t.sent[0].groupMask, 0x8000_0000);
  assert.equal(t.sent[0].message.seq, seq);
  assert.equal(t.sent[0].message.portid, sock.portid);
  sock.send({ type: 0x30, seq: 7, portid: 9 }, { portid: 555 });
  assert.equal(t.sent[1].portid, 555);
  assert.equal(t.sent[1].message.seq, 7);
  assert.equal(t.sent[1].message.portid, 9);
  assert.equal(decodeMessages(peer.receive()!.data)[0].seq, 7);
  sock.close();
  peer.close();
});

// --- regressions found in review ------------------------------------------------------------

test("a wait() that rejects fails pending requests and iterations, never unhandled", async () => {
  const { sock } = await fakeSocket({}, (t) => {
    t.wait = () => Promise.reject(new Error("poller died"));
  });
  const iterating = sock.messages().next(); // waits: the wait fails
  await assert.rejects(iterating, /poller died/);
  // From then on the socket reports that failure to every caller.
  await assert.rejects(
    sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }),
    /poller died/,
  );
  assert.throws(() => sock.messages(), /poller died/);
  assert.throws(() => sock.send({ type: RTM_GETLINK }), /poller died/);
  sock.close();
});

/** A kernel serving an RTM_GETLINK dump of `n` parts, each a u32 counting from 0. */
function servedDump(n: number): FakeKernel {
  const parts = Array.from({ length: n }, (_, i) => {
    const payload = new Uint8Array(4);
    new DataView(payload.buffer).setUint32(0, i, true);
    return { type: RTM_NEWLINK, payload };
  });
  return new FakeKernel()
    .serve(NETLINK_ROUTE, RTM_GETLINK, () => ({ messages: parts }))
    .serve(NETLINK_ROUTE, RTM_NEWLINK, () => undefined);
}

const counter = (m: Message) =>
  new DataView(m.payload.buffer, m.payload.byteOffset).getUint32(0, true);
/** A struct ifinfomsg: rtnetlink does nothing with a request too short for its header. */
const ifinfomsg = new Uint8Array(16);

test("a lagging dump() holds back only itself: requests go on, a second dump runs after it", async () => {
  const { sock, t } = await fakeSocket({}, () => {}, NETLINK_ROUTE, servedDump(20_000));
  const big = sock.dump({ type: RTM_GETLINK, payload: ifinfomsg })[Symbol.asyncIterator]();
  assert.equal(counter((await big.next()).value!), 0); // the consumer then stalls
  await settle();
  assert.ok(t.dumping, "the kernel's dump waits to be read");
  // A plain request is answered meanwhile...
  assert.deepEqual(
    await sock.request({ type: RTM_NEWLINK, payload: ifinfomsg }, { timeout: 2000 }),
    [],
  );
  // ...and a second dump is queued, not refused with EBUSY: the first is read to its end.
  const nested = await sock.request(
    { type: RTM_GETLINK, flags: NLM_F_DUMP, payload: ifinfomsg },
    { timeout: 2000 },
  );
  assert.equal(nested.length, 20_000);
  let expected = 1;
  for (let r = await big.next(); !r.done; r = await big.next()) {
    assert.equal(counter(r.value), expected++);
  }
  assert.equal(expected, 20_000, "the first dump lost nothing");
  sock.close();
});

test("a dump() that outgrows its queue pauses reading, and the kernel's dump with it", async () => {
  const { sock, t } = await fakeSocket({}, () => {}, NETLINK_ROUTE, servedDump(30_000));
  let expected = 0;
  for await (const part of sock.dump({ type: RTM_GETLINK, payload: ifinfomsg })) {
    assert.equal(counter(part), expected++);
    assert.ok(t.queuedBytes <= t.receiveBufferSize + 40_000, "the kernel fills only when read");
    if (expected === 5000) {
      await settle(); // a slow consumer: reading paused well before the end
      await settle();
      assert.ok(t.dumping, "reading paused: the kernel's dump waits");
    }
  }
  assert.equal(expected, 30_000);
  assert.equal(t.dumping, false);
  sock.close();
});

test("NLM_F_ROOT alone starts a dump (no ack follows): request() ends at NLMSG_DONE", async () => {
  const { sock, t } = await fakeSocket();
  t.script = (req, t) => {
    t.deliver([reply(req, RTM_NEWLINK, bytes(1), NLM_F_MULTI), done(req, 0, NLM_F_MULTI)]);
  };
  const parts = await sock.request({
    type: RTM_GETLINK,
    flags: NLM_F_ROOT,
    payload: new Uint8Array(16),
  }, { timeout: 2000 });
  assert.equal(parts.length, 1);
  sock.close();
});

test("breaking out of a dump() disarms its timeout and abort listener", async () => {
  const { sock, t } = await fakeSocket();
  t.script = (req, t) => t.deliver([reply(req, RTM_NEWLINK, bytes(1), NLM_F_MULTI)]);
  const ctl = new AbortController();
  let listeners = 0;
  const add = ctl.signal.addEventListener.bind(ctl.signal);
  const remove = ctl.signal.removeEventListener.bind(ctl.signal);
  ctl.signal.addEventListener = ((...args: Parameters<typeof add>) => {
    listeners++;
    add(...args);
  }) as typeof add;
  ctl.signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    listeners--;
    remove(...args);
  }) as typeof remove;
  for await (
    const _ of sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }, {
      signal: ctl.signal,
      timeout: 60_000,
    })
  ) {
    break;
  }
  assert.equal(listeners, 0, "the abort listener was removed");
  ctl.abort(); // must not reach the finished dump
  sock.close(); // and no 60 s timer keeps the process alive: the runner would notice
});

test("a late multipart reply to an abandoned request does not leak its ack", async () => {
  const { sock, t } = await fakeSocket();
  let request!: Message;
  t.script = (req) => request = req;
  await assert.rejects(
    sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }, { timeout: 5 }),
    /timed out/,
  );
  const it = sock.messages();
  const next = it.next();
  t.deliver([
    reply(request, RTM_NEWLINK, bytes(1), NLM_F_MULTI),
    done(request, 0, NLM_F_MULTI),
    ack(request),
  ]);
  t.deliver([{ type: RTM_NEWLINK, flags: 0, seq: 0, portid: 0, payload: bytes(9) }], 0, 1);
  assert.equal((await next).value!.payload[0], 9);
  sock.close();
});

test("a dump the kernel would never answer is refused before anything is sent", async () => {
  const { sock, t } = await fakeSocket();
  // rtnetlink runs a type that is no RTM_GET* as a change (NLM_F_DUMP's bits its
  // NLM_F_REPLACE | NLM_F_EXCL), which answers nothing when it works; a control type it skips.
  for (const type of [RTM_NEWLINK, RTM_SETLINK, RTM_DELROUTE]) {
    assert.throws(
      () => sock.dump({ type, payload: new Uint8Array(16) }),
      new RegExp(
        `^TypeError: NETLINK_ROUTE has no dump of message type ${type}: it dumps only RTM_GET\\* `
          + `types .* runs any other as a change, .*: use request\\(\\)$`,
      ),
    );
  }
  for (const type of [NLMSG_NOOP, 14]) {
    const never = new RegExp(`^TypeError: NETLINK_ROUTE has no dump of message type ${type}: `);
    assert.throws(() => sock.dump({ type, payload: new Uint8Array(16) }), never);
  }
  assert.equal(t.sent.length, 0);
  // A user-space peer's types are its own: sent (nothing is bound to port 5000), not refused.
  const peerDump = sock.dump({ type: RTM_NEWLINK, payload: new Uint8Array(16) }, { to: 5000 });
  await assert.rejects(peerDump.forEach(() => {}), /ECONNREFUSED/);
  sock.close();

  const genl = await fakeSocket({}, () => {}, NETLINK_GENERIC);
  assert.throws(
    () => genl.sock.dump({ type: NLMSG_NOOP, payload: new Uint8Array(4) }),
    /^TypeError: NETLINK_GENERIC has no dump of message type 1: the kernel dispatches no control /,
  );
  assert.equal(genl.t.sent.length, 0);
  genl.sock.close();

  // Conntrack dumps its GET types only: a NEW or DELETE is a change, GET_STATS one reply.
  const nf = await fakeSocket({}, () => {}, NETLINK_NETFILTER);
  const nfgenmsg = new Uint8Array(4);
  for (const type of [0x100, 0x102, 0x105, 0x200, 0x202]) {
    assert.throws(
      () => nf.sock.dump({ type, payload: nfgenmsg }),
      new RegExp(
        `^TypeError: NETLINK_NETFILTER has no dump of message type ${type}: conntrack dumps `
          + `only its GET types .*: use request\\(\\)$`,
      ),
    );
  }
  assert.throws(
    () => nf.sock.dump({ type: NLMSG_NOOP, payload: nfgenmsg }),
    /^TypeError: NETLINK_NETFILTER has no dump of message type 1: the kernel dispatches no /,
  );
  assert.equal(nf.t.sent.length, 0);
  // Its GETs, and what the library does not know (another subsystem), are sent.
  nf.t.script = (req, t) => t.deliver([done(req)]);
  for (const type of [0x101, 0x107, 0x201, 0x801]) {
    assert.deepEqual(await nf.sock.request({ type, flags: NLM_F_DUMP, payload: nfgenmsg }), []);
    assert.equal((await Array.fromAsync(nf.sock.dump({ type, payload: nfgenmsg }))).length, 0);
  }
  assert.equal(nf.t.sent.length, 8);
  nf.sock.close();
});

test("a message the kernel ignores for its length is refused before anything is sent: dump(), request() and requestBatch()", async () => {
  // rtnetlink_rcv_msg returns at once for a type up to RTM_MAX without its 1-byte struct
  // rtgenmsg, nfnetlink_rcv_msg without its 4-byte struct nfgenmsg: only the ack comes, if asked
  // (a dump never ends), and nfnetlink_rcv_batch drops a batch holding one, unanswered.
  const { sock, t } = await fakeSocket();
  const empty = /^TypeError: NETLINK_ROUTE ignores message type 18 with an empty payload: /;
  assert.throws(() => sock.dump({ type: RTM_GETLINK }), empty);
  assert.throws(
    () => sock.dump({ type: RTM_GETLINK }),
    /\(the dump would never end\): send the type's header, .*new Uint8Array\(1\): AF_UNSPEC\)$/,
  );
  await assert.rejects(sock.request({ type: RTM_GETLINK }), /\(only the ack comes\)/);
  await assert.rejects(
    sock.requestBatch([
      { type: RTM_NEWLINK, flags: NLM_F_ACK, payload: new Uint8Array(16) },
      { type: RTM_SETLINK, flags: NLM_F_ACK },
    ]),
    /^TypeError: NETLINK_ROUTE ignores message type 19 with an empty payload: /,
  );
  // A type past this machine's RTM_MAX too: a newer kernel knows more types, and ignores them
  // so (this one answers EOPNOTSUPP, which the TypeError takes the place of).
  for (const type of [RTM_MAX + 1, 0xffff]) {
    await assert.rejects(
      sock.request({ type }),
      new RegExp(`^TypeError: NETLINK_ROUTE ignores message type ${type} with an empty payload: `),
    );
  }
  assert.throws(() => sock.dump({ type: RTM_MAX + 3 }), /^TypeError: NETLINK_ROUTE ignores /);
  assert.equal(t.sent.length, 0);
  // What the kernel answers is sent: one byte, a control type (acked by netlink_rcv_skb), a
  // type past RTM_MAX with its family byte (EOPNOTSUPP), anything to a user-space port.
  t.script = (req, t) => t.deliver([ack(req)]);
  await sock.request({ type: RTM_GETLINK, payload: new Uint8Array(1) });
  await sock.request({ type: NLMSG_NOOP });
  await sock.request({ type: RTM_MAX + 1, payload: new Uint8Array(1) });
  assert.equal(t.sent.length, 3);
  const peer = sock.request({ type: RTM_GETLINK }, { to: 5000 });
  await assert.rejects(peer, /ECONNREFUSED/);
  sock.close();

  const nf = await fakeSocket({}, () => {}, NETLINK_NETFILTER);
  const ctGet = (NFNL_SUBSYS_CTNETLINK << 8) | 1;
  for (const length of [0, 3]) {
    assert.throws(
      () => nf.sock.dump({ type: ctGet, payload: new Uint8Array(length) }),
      new RegExp(
        `^TypeError: NETLINK_NETFILTER ignores message type 257 with a ${length}-byte payload: `
          + `nfnetlink reads a struct nfgenmsg .*\\(the dump would never end\\): start the `
          + `payload with one, e\\.g\\. new Uint8Array\\(\\[AF_UNSPEC, NFNETLINK_V0, 0, 0\\]\\)`,
      ),
    );
  }
  const nfgenmsg = new Uint8Array(4);
  await assert.rejects(
    nf.sock.requestBatch([
      { type: NFNL_MSG_BATCH_BEGIN, payload: nfgenmsg },
      { type: ctGet + 1, flags: NLM_F_ACK, payload: nfgenmsg },
      { type: NFNL_MSG_BATCH_END },
    ]),
    /^TypeError: NETLINK_NETFILTER ignores message type 17 with a 0-byte payload: .*\(the whole batch is dropped, unanswered\)/,
  );
  assert.equal(nf.t.sent.length, 0);
  nf.t.script = (req, t) => t.deliver([ack(req)]);
  await nf.sock.request({ type: NLMSG_NOOP }); // outside a batch, acked by netlink_rcv_skb
  await nf.sock.request({ type: ctGet, payload: nfgenmsg });
  assert.equal(nf.t.sent.length, 2);
  nf.sock.close();
});

test("a request of a control type with NLM_F_DUMP's bits is no dump: the kernel acks it", async () => {
  // netlink_rcv_skb skips a control type (below NLMSG_MIN_TYPE) and acks it when asked, on
  // NETLINK_ROUTE (14 reads as a GET: (type & 3) == 2) as on generic netlink: request() adds
  // NLM_F_ACK, and the ack ends it. The fake kernel's netlink_rcv_skb answers (no script).
  for (const [protocol, type] of [[NETLINK_ROUTE, 14], [NETLINK_GENERIC, NLMSG_NOOP]]) {
    // A protocol the fake kernel serves (any type: 16 is never sent here).
    const kernel = new FakeKernel().serve(protocol, 16, () => undefined);
    const { sock, t } = await fakeSocket({}, (t) => t.script = undefined, protocol, kernel);
    for (const flags of [NLM_F_DUMP, NLM_F_ROOT]) {
      const replies = await sock.request({ type, flags, payload: new Uint8Array(16) }, {
        timeout: 5000,
      });
      assert.equal(replies.length, 0);
    }
    assert.equal(t.sent.length, 2);
    sock.close();
  }
});

test("on NETLINK_ROUTE a change's NLM_F_EXCL or NLM_F_REPLACE is no dump: not queued behind one, batched freely", async () => {
  const { sock, t } = await fakeSocket();
  let dumpRequest: Message | undefined;
  t.script = (req, t) => {
    if (req.type === RTM_GETLINK) dumpRequest = req; // a dump that runs until told
    else t.deliver([ack(req)]);
  };
  const dump = sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
  await settle();
  assert.ok(dumpRequest, "the dump was sent");
  // ip link add's flags: NLM_F_EXCL is NLM_F_MATCH's bit, and a NEW type is never dumped.
  for (const flags of [NLM_F_CREATE | NLM_F_EXCL, NLM_F_REPLACE, NLM_F_DUMP]) {
    const replies = await sock.request(
      { type: RTM_NEWLINK, flags, payload: new Uint8Array(16) },
      { timeout: 5000 },
    );
    assert.equal(replies.length, 0, "acked at once, while the dump still runs");
  }
  const batch = await sock.requestBatch([
    {
      type: RTM_NEWLINK,
      flags: NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK,
      payload: new Uint8Array(16),
    },
    {
      type: RTM_NEWLINK,
      flags: NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK,
      payload: new Uint8Array(16),
    },
  ], { timeout: 5000 });
  assert.equal(batch.length, 0);
  t.deliver([done(dumpRequest!)]);
  assert.deepEqual(await dump, []);
  sock.close();
});

test("on NETLINK_NETFILTER a conntrack change's NLM_F_EXCL is no dump: not queued behind one; a GET's is", async () => {
  const { sock, t } = await fakeSocket({}, () => {}, NETLINK_NETFILTER);
  const ct = (message: number) => (NFNL_SUBSYS_CTNETLINK << 8) | message;
  const nfgenmsg = new Uint8Array(4);
  const dumps: Message[] = [];
  t.script = (req, t) => {
    if (req.type === ct(1)) dumps.push(req); // IPCTNL_MSG_CT_GET: a dump that runs until told
    else t.deliver([ack(req)]);
  };
  const dump = sock.request({ type: ct(1), flags: NLM_F_DUMP, payload: nfgenmsg });
  await settle();
  assert.equal(dumps.length, 1, "the dump was sent");
  // conntrack -I's flags on IPCTNL_MSG_CT_NEW; IPCTNL_MSG_CT_DELETE and _GET_STATS read none.
  for (
    const [message, flags] of [[0, NLM_F_CREATE | NLM_F_EXCL], [2, NLM_F_DUMP], [5, NLM_F_DUMP]]
  ) {
    const replies = await sock.request({ type: ct(message), flags, payload: nfgenmsg }, {
      timeout: 5000,
    });
    assert.equal(replies.length, 0, "acked at once, while the dump still runs");
  }
  // A GET with NLM_F_MATCH's bit alone is a dump: it waits for the running one to end.
  const second = sock.request({ type: ct(1), flags: NLM_F_EXCL, payload: nfgenmsg });
  await settle();
  assert.equal(dumps.length, 1, "queued behind the running dump");
  t.deliver([done(dumps[0])]);
  assert.deepEqual(await dump, []);
  await settle();
  assert.equal(dumps.length, 2, "sent once the first ended");
  t.deliver([done(dumps[1])]);
  assert.deepEqual(await second, []);
  sock.close();
});

test("successful batches do not evict abandoned requests", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  await assert.rejects(
    sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }, { timeout: 5 }),
    /timed out/,
  );
  const abandoned = asked[0];
  t.script = (req, t) => {
    if (req.flags & NLM_F_ACK) t.deliver([ack(req)]);
  };
  for (let i = 0; i < 300; i++) {
    await sock.requestBatch([
      { type: 0x10, payload: bytes(1) },
      { type: 0x20, flags: NLM_F_ACK, payload: bytes(1) },
    ]);
  }
  const it = sock.messages();
  const next = it.next();
  t.deliver([ack(abandoned)]);
  t.deliver([{ type: RTM_NEWLINK, flags: 0, seq: 0, portid: 0, payload: bytes(9) }], 0, 1);
  assert.equal((await next).value!.payload[0], 9, "the abandoned request's ack was discarded");
  sock.close();
});

test("return() while next() is pending ends that next(); a dump() returned early sends nothing", async () => {
  const { sock, t } = await fakeSocket();
  const it = sock.messages();
  const pending = it.next();
  await settle();
  await it.return!();
  assert.deepEqual(await pending, { value: undefined, done: true });

  const dump = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) })
    [Symbol.asyncIterator]();
  await dump.return!();
  assert.deepEqual(await dump.next(), { value: undefined, done: true });
  assert.equal(t.sent.length, 0, "no dump request was sent");
  sock.close();
});

test("a malformed datagram's error keeps its place when the backlog overflows", async () => {
  const { sock, t } = await fakeSocket({ backlog: 3 });
  let request!: Message;
  t.script = (req) => request = req;
  const pending = sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  await settle();
  const event = (n: number): Message => ({
    type: RTM_NEWLINK,
    flags: 0,
    seq: 0,
    portid: 0,
    payload: bytes(n),
  });
  t.deliver([event(1)], 0, 1);
  t.deliver([event(2)], 0, 1);
  t.deliver(new Uint8Array(7), 0, 1); // garbage
  t.deliver([event(4)], 0, 1);
  t.deliver([event(5)], 0, 1);
  t.deliver([ack(request)]);
  await pending;
  const it = sock.messages();
  assert.equal((await it.next()).value!.payload[0], 1);
  assert.equal((await it.next()).value!.payload[0], 2);
  await assert.rejects(it.next(), MalformedMessageError);
  const after = sock.messages();
  assert.equal((await after.next()).value!.type, NLMSG_OVERRUN);
  assert.equal(sock.overruns, 1);
  sock.close();
});

const event = (n: number): Message => ({
  type: RTM_NEWLINK,
  flags: 0,
  seq: 0,
  portid: 0,
  payload: bytes(n),
});
const firstBytes = (run: ReceivedMessage[]) => run.map((m) => m.payload[0]);

test("batches(): a waiting step gets the whole datagram; queued messages come as one run", async () => {
  const { sock, t } = await fakeSocket();
  const it = sock.batches();
  const step = it.next();
  await settle();
  t.deliver([event(1), event(2), event(3)], 0, 1);
  assert.deepEqual(firstBytes((await step).value!), [1, 2, 3]);
  t.deliver([event(4)], 0, 1);
  t.deliver([event(5), event(6)], 0, 1);
  await settle();
  assert.deepEqual(firstBytes((await it.next()).value!), [4, 5, 6]);
  sock.close();
  assert.equal((await it.next()).done, true);
});

test("batches(): a run stops before a malformed datagram; the next step throws; the rest stays queued", async () => {
  const { sock, t } = await fakeSocket();
  t.deliver([event(1), event(2)], 0, 1);
  t.deliver(new Uint8Array(7), 0, 1); // garbage
  t.deliver([event(4)], 0, 1);
  const it = sock.batches();
  const first = it.next();
  await settle();
  assert.deepEqual(firstBytes((await first).value!), [1, 2]);
  await assert.rejects(it.next(), MalformedMessageError);
  assert.equal((await it.next()).done, true, "a throw ends the iteration");
  assert.deepEqual(firstBytes((await sock.batches().next()).value!), [4]);
  sock.close();
});

test("batches(): an overrun is a marker in the run; close ends a pending step", async () => {
  const { sock, t } = await fakeSocket();
  const it = sock.batches();
  const step = it.next();
  await settle();
  t.deliver([event(1)], 0, 1);
  const run = (await step).value!;
  t.overrun();
  const marker = (await it.next()).value!;
  t.deliver([event(2)], 0, 1);
  const all = [...run, ...marker, ...(await it.next()).value!];
  assert.deepEqual(all.map((m) => m.type === NLMSG_OVERRUN ? "overrun" : m.payload[0]), [
    1,
    "overrun",
    2,
  ]);
  assert.equal(sock.overruns, 1);
  const pending = it.next();
  await settle();
  sock.close();
  assert.equal((await pending).done, true);
});

test("batches() and messages() at once split the stream: nothing lost, nothing twice", async () => {
  const { sock, t } = await fakeSocket({ backlog: 64 });
  const seen: number[] = [];
  const runs = (async () => {
    for await (const run of sock.batches()) {
      for (const m of run) {
        seen.push(new DataView(m.payload.buffer, m.payload.byteOffset).getUint16(0, true));
      }
    }
  })();
  const singles = (async () => {
    for await (const m of sock.messages()) {
      seen.push(new DataView(m.payload.buffer, m.payload.byteOffset).getUint16(0, true));
      await settle(); // the slower reader
    }
  })();
  await settle();
  let n = 0;
  for (let d = 0; d < 100; d++) {
    const messages = Array.from({ length: 20 }, () => {
      const payload = new Uint8Array(2);
      new DataView(payload.buffer).setUint16(0, n++, true);
      return { ...event(0), payload };
    });
    t.deliver(messages, 0, 1);
    if (d % 10 === 0) await settle();
  }
  while (seen.length < n) await settle();
  sock.close();
  await Promise.all([runs, singles]);
  assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
  assert.equal(sock.overruns, 0);
});

test("batches(): abort throws the reason; later messages reach the next iteration", async () => {
  const { sock, t } = await fakeSocket();
  const ctl = new AbortController();
  const it = sock.batches({ signal: ctl.signal });
  const step = it.next();
  await settle();
  ctl.abort(new Error("stop"));
  await assert.rejects(step, /stop/);
  t.deliver([event(7)], 0, 1);
  const [m] = (await sock.batches().next()).value!;
  assert.equal(m.payload[0], 7);
  sock.close();
});

test("messages(): after a wait, the step that waited runs before the rest of the queue is read ahead", async () => {
  const { sock, t } = await fakeSocket();
  const it = sock.messages();
  const step = it.next();
  await settle();
  for (const n of [1, 2, 3]) t.deliver([event(n)], 0, 1);
  const first = (await step).value!;
  assert.equal(first.payload[0], 1);
  assert.equal(t.queued, 2, "the other datagrams were read before the step that waited ran");
  // Read ahead before any timer runs, without a next() asking for it.
  const atTimer = await new Promise<number>((resolve) => setTimeout(() => resolve(t.queued), 0));
  assert.equal(atTimer, 0, "what was queued is read ahead before the first timer");
  assert.deepEqual([(await it.next()).value!.payload[0], (await it.next()).value!.payload[0]], [
    2,
    3,
  ]);
  sock.close();
});

test("messages(): the read-ahead after a wait reads nothing a later step has read empty", async () => {
  const { sock, t } = await fakeSocket();
  let empty = 0;
  const receive = t.receive.bind(t);
  t.receive = () => {
    const d = receive();
    if (d === undefined) empty++;
    return d;
  };
  const it = sock.messages();
  const step = it.next();
  await settle();
  empty = 0;
  for (const n of [1, 2, 3]) t.deliver([event(n)], 0, 1);
  const got = [(await step).value!.payload[0]];
  // The next step reads the other two (one to itself, one queued) and the queue empty; the
  // read-ahead the first step's wake-up queued then has nothing to read, and the step that finds
  // the stream's queue empty waits without reading the kernel's empty again.
  for (let i = 0; i < 2; i++) got.push((await it.next()).value!.payload[0]);
  const waiting = it.next();
  await settle();
  assert.deepEqual(got, [1, 2, 3]);
  assert.equal(empty, 1, "the queue read empty once, by the steps; not again before the wait");
  t.deliver([event(4)], 0, 1);
  assert.equal((await waiting).value!.payload[0], 4);
  sock.close();
});

test("messages(): a datagram queued after a step read the queue empty, before the next step's wait, is that step's", async () => {
  const { sock, t } = await fakeSocket();
  let reads = 0;
  const receive = t.receive.bind(t);
  t.receive = () => (reads++, receive());
  const it = sock.messages();
  const step = it.next();
  await settle();
  for (const n of [1, 2, 3]) t.deliver([event(n)], 0, 1);
  assert.equal((await step).value!.payload[0], 1);
  // This step reads 2 (its own), 3 (queued) and the queue empty.
  assert.equal((await it.next()).value!.payload[0], 2);
  // Queued now, with no read to see it: the next step takes 3 from the stream's queue, and the
  // one after it finds that empty and waits, and the wait sees 4.
  t.deliver([event(4)], 0, 1);
  assert.equal((await it.next()).value!.payload[0], 3);
  reads = 0;
  const waits = t.waits;
  assert.equal((await it.next()).value!.payload[0], 4);
  assert.equal(t.waits, waits + 1, "the step waited rather than read");
  assert.equal(reads, 1, "no read before the wait; after it, 4 (the rest is read ahead later)");
  sock.close();
});

test("messages(): a send() after a step read the queue empty lets the next step read what it queued, without a wait", async () => {
  const { sock, t } = await fakeSocket();
  // The kernel's answer to it (an ack here) is queued inside sendmsg.
  t.script = (req, t) => t.deliver([ack(req)]);
  const it = sock.messages();
  const step = it.next();
  await settle();
  for (const n of [1, 2]) t.deliver([event(n)], 0, 1);
  assert.equal((await step).value!.payload[0], 1);
  assert.equal((await it.next()).value!.payload[0], 2); // and the queue read empty
  const waits = t.waits;
  const seq = sock.send({ type: RTM_GETLINK, flags: NLM_F_ACK, payload: new Uint8Array(16) });
  const answer = (await it.next()).value!;
  assert.equal(answer.type, 2); // NLMSG_ERROR: the ack, read by the step itself
  assert.equal(answer.seq, seq);
  assert.equal(t.waits, waits, "read at once, not through a wait");
  sock.close();
});

test("messages(): close() ends a step that waits without a read after the queue was read empty, at once", async () => {
  const { sock, t } = await fakeSocket();
  const it = sock.messages();
  const step = it.next();
  await settle();
  for (const n of [1, 2]) t.deliver([event(n)], 0, 1);
  assert.equal((await step).value!.payload[0], 1);
  assert.equal((await it.next()).value!.payload[0], 2);
  const waiting = it.next();
  await settle();
  assert.equal(t.waiting, true);
  sock.close();
  // Settled before any timer runs.
  const ended = await Promise.race([
    waiting,
    new Promise((resolve) => setTimeout(() => resolve("a timer ran first"), 0)),
  ]);
  assert.deepEqual(ended, { value: undefined, done: true });
});

for (const kind of ["messages", "batches"] as const) {
  test(`${kind}(): next() calls made before data arrives are served in order, one at a time`, async () => {
    const { sock, t } = await fakeSocket();
    const it = sock[kind]();
    const a = it.next();
    const b = it.next();
    const c = it.next();
    await settle();
    t.deliver([event(1), event(2), event(3), event(4)], 0, 1);
    t.deliver([event(5)], 0, 1);
    const taken = async (step: typeof a) => {
      const { value } = await step;
      return firstBytes(Array.isArray(value) ? value : [value!]);
    };
    if (kind === "messages") {
      assert.deepEqual([await taken(a), await taken(b), await taken(c)], [[1], [2], [3]]);
    } else {
      // The first step's run takes everything queued; the others wait for what comes next.
      assert.deepEqual(await taken(a), [1, 2, 3, 4, 5]);
      t.deliver([event(6)], 0, 1);
      assert.deepEqual(await taken(b), [6]);
      t.deliver([event(7)], 0, 1);
      assert.deepEqual(await taken(c), [7]);
    }
    sock.close();
  });

  test(`${kind}(): return() with two next() pending leaves no reader behind`, async () => {
    const { sock, t } = await fakeSocket();
    const it = sock[kind]();
    const a = it.next();
    const b = it.next();
    await settle();
    t.deliver([event(1)], 0, 1);
    await a;
    await it.return!();
    assert.equal((await b).done, true);
    await settle();
    assert.equal(t.waiting, false, "nothing reads for an ended iteration");
    t.deliver([event(2)], 0, 1);
    const other = await sock.messages().next();
    assert.equal(other.value!.payload[0], 2, "the next event goes to the live iteration");
    sock.close();
  });
}

test("a malformed datagram ends the messages() iteration that throws it; reading stops", async () => {
  const { sock, t } = await fakeSocket();
  let request!: Message;
  t.script = (req) => request = req;
  const pending = sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  await settle();
  // Read while the request waits: the error and the event are queued before anyone iterates.
  t.deliver(new Uint8Array(7), 0, 1); // garbage
  t.deliver([event(2)], 0, 1);
  t.deliver([ack(request)]);
  await pending;
  const it = sock.messages();
  await assert.rejects(async () => {
    for await (const _ of it) { /* the first step throws */ }
  }, MalformedMessageError);
  await settle();
  assert.equal(t.waiting, false, "no iteration left: nothing reads");
  assert.equal((await sock.messages().next()).value!.payload[0], 2, "what followed is kept");
  sock.close();
});

test("a request that times out with nothing else pending stops the read loop", async () => {
  const { sock, t } = await fakeSocket();
  await assert.rejects(
    sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }, { timeout: 20 }),
    /timed out|ETIMEDOUT/,
  );
  await settle();
  assert.equal(t.waiting, false, "a pending wait would keep the process alive");
  sock.close();
});

test("dump(): next() calls made before the parts arrive are served in order", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const it = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) })[Symbol.asyncIterator]();
  const steps = [it.next(), it.next(), it.next()];
  await settle();
  t.deliver([
    reply(asked[0], RTM_NEWLINK, bytes(1), NLM_F_MULTI),
    reply(asked[0], RTM_NEWLINK, bytes(2), NLM_F_MULTI),
    done(asked[0], 0, NLM_F_MULTI),
  ]);
  const [a, b, c] = await Promise.all(steps);
  assert.deepEqual([a.value?.payload[0], b.value?.payload[0], c.done], [1, 2, true]);
  sock.close();
});

test("messages(): steps asked for while one waits, or as one is handed its message, take theirs in order", async () => {
  const { sock, t } = await fakeSocket();
  const it = sock.messages();
  const first = (step: Promise<IteratorResult<ReceivedMessage>>) =>
    step.then((r) => r.value?.payload[0]);
  // Three asked for before anything arrives: the second and third follow the first.
  const waiting = [it.next(), it.next(), it.next()].map(first);
  await settle();
  for (const n of [1, 2, 3]) t.deliver([event(n)], 0, 1);
  assert.deepEqual(await Promise.all(waiting), [1, 2, 3]);
  // One waits; the next is asked for in the same task as the first is handed its message (before
  // any reaction to it has run), and another while that one waits.
  const fourth = it.next();
  await settle();
  t.deliver([event(4)], 0, 1);
  const later = [first(fourth), first(it.next()), first(it.next())];
  await settle();
  t.deliver([event(5)], 0, 1);
  t.deliver([event(6)], 0, 1);
  assert.deepEqual(await Promise.all(later), [4, 5, 6]);
  // A step handed its message while it is being asked for (the read its wait starts finds it).
  t.deliver([event(7)], 0, 1);
  assert.equal(await first(it.next()), 7);
  // Two asked for while nothing is queued, then return(): both end, and no step of this
  // iteration is left waiting to take what comes later from the next one.
  const ended = [it.next(), it.next()];
  await settle();
  await it.return!();
  assert.deepEqual((await Promise.all(ended)).map((r) => r.done), [true, true]);
  const next = sock.messages();
  t.deliver([event(8)], 0, 1);
  assert.equal(await first(next.next()), 8);
  sock.close();
});

test("open() and request() refuse wrong shapes with a TypeError naming them, before any transport is opened or message sent (attack12a)", async () => {
  const kernel = new FakeKernel();
  let opened = 0;
  const transport: typeof kernel.open = (protocol, options) => {
    opened++;
    return kernel.open(protocol, options);
  };
  // `groups` that is no iterable: "(options.groups ?? []) is not iterable".
  for (const groups of [5, {}, true]) {
    await assert.rejects(
      open(NETLINK_ROUTE, { transport, groups: groups as never }),
      /^TypeError: groups must be iterable \(an array\), got /,
    );
  }
  assert.equal(opened, 0);
  // A transport function returning no Transport: "this[#inner].close is not a function".
  await assert.rejects(
    open(NETLINK_ROUTE, { transport: (() => 1) as never }),
    /^TypeError: transport returned 1, which is no Transport: it has no send\(\)$/,
  );
  // A Symbol type: "Cannot convert a Symbol value to a number" from the dump checks.
  await using sock = await open(NETLINK_ROUTE, { transport });
  await assert.rejects(
    sock.request({ type: Symbol("s") as never }),
    /^TypeError: message type must be a number, got symbol$/,
  );
});
