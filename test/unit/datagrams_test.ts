// Whole datagrams: unframed sockets (NETLINK_KOBJECT_UEVENT) and datagrams() on framed ones.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  NETLINK_KOBJECT_UEVENT,
  NETLINK_ROUTE,
  RTM_GETLINK,
  RTM_NEWLINK,
} from "../../src/constants.ts";
import { decodeDatagram, type Message } from "../../src/message.ts";
import { open, type OpenOptions } from "../../src/open.ts";
import { ack, event, fakeSocket as fakeSocketOf, reply, settle } from "./_fake.ts";

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
  await assert.rejects(sock.request({ type: RTM_GETLINK }), /unframed/);
  await assert.rejects(sock.requestBatch([{ type: RTM_GETLINK }]), /unframed/);
  assert.throws(() => sock.dump({ type: RTM_GETLINK }), /unframed/);
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
  const pending = sock.request({ type: RTM_GETLINK });
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
