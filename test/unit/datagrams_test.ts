// Whole datagrams: unframed sockets (NETLINK_KOBJECT_UEVENT), datagrams() on framed ones, and
// cursor(), which walks each in place.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  NETLINK_KOBJECT_UEVENT,
  NETLINK_ROUTE,
  RTM_GETLINK,
  RTM_NEWLINK,
} from "../../src/constants.ts";
import { DatagramCursor } from "../../src/cursor.ts";
import { MalformedMessageError, SocketClosedError } from "../../src/errors.ts";
import { decodeDatagram, type Message } from "../../src/message.ts";
import { open, type OpenOptions } from "../../src/open.ts";
import { ack, event, FakeKernel, fakeSocket as fakeSocketOf, reply, settle } from "./_fake.ts";

const text = (s: string) => new TextEncoder().encode(s);
const fakeSocket = (protocol: number, options: OpenOptions = {}) =>
  fakeSocketOf(options, () => {}, protocol);

test("unframed: datagrams() yields each datagram whole, bytes as sent, with sender and group", async () => {
  const { sock, t } = await fakeSocket(NETLINK_KOBJECT_UEVENT, { unframed: true, groups: [1] });
  assert.equal(sock.unframed, true);
  const uevent = text("add@/devices/virtual/net/va0\0ACTION=add\0SUBSYSTEM=net\0");
  t.deliver(uevent, 0, 1);
  t.deliver(text("libudev\0..."), 777, 2);
  const it = sock.datagrams();
  const a = (await it.next()).value!;
  assert.deepEqual([...a.data], [...uevent]);
  assert.equal(a.sender, 0);
  assert.equal(a.group, 1);
  const b = (await it.next()).value!;
  assert.equal(new TextDecoder().decode(b.data), "libudev\0...");
  assert.equal(b.sender, 777);
  sock.close();
  assert.equal((await it.next()).done, true);
});

test("unframed: message-level calls throw a TypeError that names datagrams(); bytes are sent as they are", async () => {
  const { sock, t } = await fakeSocket(NETLINK_KOBJECT_UEVENT, { unframed: true });
  assert.throws(() => sock.messages(), /unframed.*datagrams\(\)/);
  assert.throws(() => sock.batches(), /unframed/);
  assert.throws(() => sock[Symbol.asyncIterator](), /unframed/);
  await assert.rejects(
    sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }),
    /unframed/,
  );
  await assert.rejects(sock.requestBatch([{ type: RTM_GETLINK }]), /unframed/);
  assert.throws(() => sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }), /unframed/);
  assert.throws(() => sock.send({ type: RTM_GETLINK }), /unframed.*Uint8Array/);
  const sentBefore = t.sentDatagrams.length;
  let raw: Uint8Array | undefined;
  t.send = (data) => raw = data;
  assert.equal(sock.send(text("hello"), { portid: 4242 }), 0);
  assert.equal(new TextDecoder().decode(raw), "hello");
  assert.equal(t.sentDatagrams.length, sentBefore);
  sock.close();
});

test("unframed: an overrun is one marker datagram (overrun: true, empty data) and is counted", async () => {
  const { sock, t } = await fakeSocket(NETLINK_KOBJECT_UEVENT, { unframed: true });
  t.deliver(text("a"), 0, 1);
  t.deliver(text("b"), 0, 1);
  t.overrun(); // reported before what is queued, as recvmsg does
  const seen: string[] = [];
  for await (const d of sock.datagrams()) {
    seen.push(d.overrun ? "overrun" : new TextDecoder().decode(d.data));
    if (seen.length === 3) break;
  }
  assert.deepEqual(seen, ["overrun", "a", "b"]);
  assert.equal(sock.overruns, 1);
  sock.close();
});

test("open: unframed must be a boolean", async () => {
  await assert.rejects(
    open(NETLINK_KOBJECT_UEVENT, {
      unframed: 1 as unknown as boolean,
      transport: () => assert.fail(),
    }),
    /unframed must be a boolean/,
  );
});

test("framed: while datagrams() is open, unclaimed datagrams come whole; replies still answer requests", async () => {
  const { sock, t } = await fakeSocket(NETLINK_ROUTE);
  let request!: Message;
  t.script = (req) => request = req;
  const it = sock.datagrams();
  const firstStep = it.next();
  const pending = sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  await settle();
  // A multicast datagram of three messages: one datagram, not three messages.
  t.deliver([event(1), event(2), event(3)], 0, 1);
  const first = (await firstStep).value!;
  assert.equal(first.group, 1);
  assert.deepEqual(decodeDatagram(first).map((m) => m.payload[0]), [1, 2, 3]);
  // A unicast datagram holding the reply and something else: the reply answers the request,
  // the rest goes to messages() (the datagram is no longer whole).
  const stray = { ...event(9), seq: 12345 };
  t.deliver([reply(request, RTM_NEWLINK, new Uint8Array([5])), stray, ack(request)]);
  assert.deepEqual((await pending).map((m) => m.payload[0]), [5]);
  const messages = sock.messages();
  assert.equal((await messages.next()).value!.seq, 12345);
  await messages.return!();
  // A datagram that is not netlink at all is handed over as it came, not thrown.
  t.deliver(new Uint8Array(7), 99, 0);
  const garbage = (await it.next()).value!;
  assert.equal(garbage.data.length, 7);
  assert.equal(garbage.sender, 99);
  await it.return!();
  // With no datagrams() open, messages() gets messages again.
  t.deliver([event(4)], 0, 1);
  assert.equal((await sock.messages().next()).value!.payload[0], 4);
  sock.close();
});

test("framed: an overrun goes to datagrams() while it is open", async () => {
  const { sock, t } = await fakeSocket(NETLINK_ROUTE);
  const it = sock.datagrams();
  const step = it.next();
  await settle();
  t.overrun();
  assert.equal((await step).value!.overrun, true);
  assert.equal(sock.overruns, 1);
  sock.close();
});

/** The payload's first byte of every message the cursor walks from where it is. */
const firstBytes = (c: DatagramCursor): number[] => {
  const out: number[] = [];
  while (c.next()) out.push(c.data[c.payloadOffset]);
  return out;
};

test("cursor(): one reused cursor; next() walks on from datagram to datagram, each with its sender and group", async () => {
  const { sock, t } = await fakeSocket(NETLINK_ROUTE);
  t.deliver([event(1), event(2), event(3)], 0, 1);
  t.deliver([event(4)], 4242, 0);
  const it = sock.cursor();
  const c = (await it.next()).value!;
  assert.ok(c instanceof DatagramCursor);
  const walked: number[][] = [];
  while (c.next()) walked.push([c.data[c.payloadOffset], c.offset, c.sender, c.group]);
  assert.deepEqual(walked, [[1, 0, 0, 1], [2, 20, 0, 1], [3, 40, 0, 1], [4, 0, 4242, 0]]);
  assert.equal(c.type, RTM_NEWLINK);
  assert.equal(c.overrun, false);
  assert.equal(c.nsid, undefined);
  // Nothing more queued: the next step waits for it, and yields the same cursor.
  const step = it.next();
  await settle();
  t.deliver([event(5)], 0, 1);
  assert.equal((await step).value, c);
  assert.deepEqual(firstBytes(c), [5]);
  await it.return!();
  sock.close();
});

test("cursor(): the last datagram is gone once the next step is asked for, and when the iteration ends", async () => {
  const { sock, t } = await fakeSocket(NETLINK_ROUTE);
  t.deliver([event(1), event(2)], 0, 1);
  t.deliver([event(3)], 0, 1);
  const it = sock.cursor();
  const c = (await it.next()).value!;
  assert.ok(c.next());
  assert.equal(c.data[c.payloadOffset], 1);
  // Asking for the next step leaves the rest of this datagram (event 2) behind for good.
  const step = it.next();
  await step;
  assert.deepEqual(firstBytes(c), [3]);
  // A step that has to wait shows nothing meanwhile: reuse is refused, not stale.
  const waiting = it.next();
  assert.equal(c.length, 0);
  assert.equal(c.next(), false);
  t.deliver([event(4)], 0, 1);
  await waiting;
  assert.deepEqual(firstBytes(c), [4]);
  await it.return!();
  assert.equal(c.length, 0);
  assert.equal(c.next(), false);
  sock.close();
});

test("cursor(): one iteration at a time; another may open once it ends; refused on unframed sockets", async () => {
  const { sock, t } = await fakeSocket(NETLINK_ROUTE);
  const it = sock.cursor();
  assert.throws(() => sock.cursor(), /already open.*one may be open at a time/);
  await it.return!();
  t.deliver([event(7)], 0, 1);
  const again = sock.cursor();
  assert.deepEqual(firstBytes((await again.next()).value!), [7]);
  await again.return!();
  sock.close();
  assert.throws(() => sock.cursor(), SocketClosedError);
  const unframed = await fakeSocket(NETLINK_KOBJECT_UEVENT, { unframed: true });
  assert.throws(() => unframed.sock.cursor(), /unframed.*datagrams\(\)/);
  unframed.sock.close();
});

test("cursor(): an overrun is one step with overrun true and no messages, counted; the stream goes on", async () => {
  const { sock, t } = await fakeSocket(NETLINK_ROUTE);
  const it = sock.cursor();
  const step = it.next();
  await settle();
  t.overrun();
  const c = (await step).value!;
  assert.equal(c.overrun, true);
  assert.equal(c.next(), false);
  assert.equal(sock.overruns, 1);
  // The kernel drops until the queue has been read empty, which the next step does.
  const next = it.next();
  await settle();
  t.deliver([event(5)], 0, 1);
  assert.equal((await next).value!.overrun, false);
  assert.deepEqual(firstBytes(c), [5]);
  await it.return!();
  sock.close();
});

test("cursor(): requests in flight still get their replies; what they do not claim comes to the cursor", async () => {
  const { sock, t } = await fakeSocket(NETLINK_ROUTE);
  let request!: Message;
  t.script = (req) => request = req;
  const it = sock.cursor();
  const firstStep = it.next();
  const pending = sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  await settle();
  t.deliver([event(1), event(2)], 0, 1);
  t.deliver([reply(request, RTM_NEWLINK, new Uint8Array([5])), ack(request)]);
  t.deliver([event(3)], 0, 1);
  // [1, 2] came whole through the ordinary read (copied); [3], read once the request was
  // answered, in place.
  assert.deepEqual(firstBytes((await firstStep).value!), [1, 2, 3]);
  assert.deepEqual((await pending).map((m) => m.payload[0]), [5]);
  await it.return!();
  sock.close();
});

test("cursor(): close ends a waiting step at once; abort throws the signal's reason", async () => {
  const { sock } = await fakeSocket(NETLINK_ROUTE);
  const waiting = sock.cursor().next();
  await settle();
  sock.close();
  assert.deepEqual(await waiting, { value: undefined, done: true });
  const other = await fakeSocket(NETLINK_ROUTE);
  const controller = new AbortController();
  const aborted = other.sock.cursor({ signal: controller.signal }).next();
  await settle();
  controller.abort(new Error("enough"));
  await assert.rejects(aborted, /enough/);
  assert.doesNotThrow(() => other.sock.cursor().return!(), "the aborted iteration ended");
  other.sock.close();
});

test("cursor(): a malformed datagram throws from next(), which then goes on with the next datagram", async () => {
  const { sock, t } = await fakeSocket(NETLINK_ROUTE);
  t.deliver(new Uint8Array(7), 99, 0);
  t.deliver([event(8)], 0, 1);
  const it = sock.cursor();
  const c = (await it.next()).value!;
  assert.equal(c.sender, 99);
  assert.throws(() => c.next(), MalformedMessageError);
  assert.deepEqual(firstBytes(c), [8]);
  await it.return!();
  sock.close();
});

test("cursor(): one step's walk ends after a few milliseconds of a flood; the next step goes on in order", async () => {
  const { sock, t } = await fakeSocketOf(
    {},
    () => {},
    NETLINK_ROUTE,
    new FakeKernel({ receiveBufferSize: 1 << 30 }),
  );
  const total = 50_000;
  for (let i = 0; i < total; i++) assert.ok(t.deliver([{ ...event(0), seq: i }], 0, 1));
  const perStep: number[] = [];
  let seq = 0;
  for await (const c of sock.cursor()) {
    let n = 0;
    while (c.next()) {
      assert.equal(c.seq, seq++);
      n++;
    }
    perStep.push(n);
    if (seq === total) break;
  }
  assert.ok(perStep.length > 1, `the first step walked all ${total}: its walk never ended`);
  assert.equal(perStep.reduce((a, b) => a + b), total);
  sock.close();
});

test("cursor(): nothing is read ahead: datagrams stay in the kernel's queue until the walk asks", async () => {
  const { sock, t } = await fakeSocket(NETLINK_ROUTE);
  const it = sock.cursor();
  const step = it.next();
  await settle();
  for (const n of [1, 2, 3]) t.deliver([event(n)], 0, 1);
  const c = (await step).value!;
  assert.equal(t.queued, 2, "the step read one datagram, the rest is still in the kernel");
  assert.deepEqual(firstBytes(c), [1, 2, 3]);
  assert.equal(t.queued, 0);
  await it.return!();
  // datagrams(), by contrast, reads what is queued into its own queue.
  const whole = sock.datagrams();
  const first = whole.next();
  await settle();
  for (const n of [4, 5, 6]) t.deliver([event(n)], 0, 1);
  await first;
  await settle(); // read ahead once the step that waited has run
  assert.equal(t.queued, 0);
  await whole.return!();
  sock.close();
});
