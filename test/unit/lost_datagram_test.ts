// A datagram longer than the transport's receive buffer (EMSGSIZE from Transport.receive: read,
// dropped, the buffer grows for the next one) is a lost datagram, not a broken socket: an
// overrun in the stream, and the requests it may have answered fail with the error.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  NETLINK_ROUTE,
  NLM_F_DUMP,
  NLMSG_OVERRUN,
  RTM_GETLINK,
  RTM_NEWLINK,
} from "../../src/constants.ts";
import { SyscallError } from "../../src/errors.ts";
import type { Message } from "../../src/message.ts";
import { open } from "../../src/open.ts";
import { ack, done, event, FakeKernel, fakeSocket, reply, settle } from "./_fake.ts";

const READ_BUFFER = 1024;
const huge = new Uint8Array(4000);
const isEmsgsize = (e: unknown) => e instanceof SyscallError && e.code === "EMSGSIZE";

test("fake transport: a datagram over its read buffer is consumed and thrown as EMSGSIZE", async () => {
  const { sock, t } = await fakeSocket();
  t.readBufferSize = READ_BUFFER;
  t.deliver([{ ...event(1), payload: huge }], 0, 1);
  t.deliver([event(2)], 0, 1);
  assert.throws(() => t.receive(), (e: unknown) => isEmsgsize(e) && /4016-byte/.test(String(e)));
  assert.equal(t.receive()!.data.length, 20);
  assert.equal(t.receive(), undefined);
  sock.close();
});

test("EMSGSIZE in the stream: one overrun, counted, and the stream and socket go on", async () => {
  const { sock, t } = await fakeSocket();
  t.readBufferSize = READ_BUFFER;
  const it = sock.messages();
  t.deliver([event(1)], 0, 1);
  t.deliver([{ ...event(2), payload: huge }], 0, 1);
  t.deliver([event(3)], 0, 1);
  const seen = [];
  for (let i = 0; i < 3; i++) {
    const m = (await it.next()).value!;
    seen.push(m.type === NLMSG_OVERRUN ? "overrun" : m.payload[0]);
  }
  assert.deepEqual(seen, [1, "overrun", 3]);
  assert.equal(sock.overruns, 1);
  // Still usable: a request is answered.
  t.script = (req, t) => t.deliver([ack(req)]);
  assert.deepEqual(await sock.request({ type: RTM_NEWLINK, payload: new Uint8Array(16) }), []);
  await it.return!();
  sock.close();
});

test("datagrams(): EMSGSIZE is an overrun datagram; the iteration goes on", async () => {
  const { sock, t } = await fakeSocket();
  t.readBufferSize = READ_BUFFER;
  const it = sock.datagrams();
  t.deliver([{ ...event(2), payload: huge }], 0, 1);
  t.deliver([event(3)], 0, 1);
  assert.equal((await it.next()).value!.overrun, true);
  assert.equal((await it.next()).value!.data.length, 20);
  await it.return!();
  sock.close();
});

test("a request to a peer whose reply was too long fails with EMSGSIZE; its late ack is discarded", async () => {
  const kernel = new FakeKernel();
  await using a = await open(NETLINK_ROUTE, { transport: kernel.open });
  await using b = await open(NETLINK_ROUTE, { transport: kernel.open });
  kernel.socket(NETLINK_ROUTE, a.portid)!.readBufferSize = READ_BUFFER;
  const asked = b.messages();
  const pending = a.request({ type: RTM_NEWLINK, payload: new Uint8Array(16) }, { to: b.portid });
  const request = (await asked.next()).value!;
  b.send({ ...reply(request, RTM_NEWLINK, huge) }, { portid: a.portid });
  await assert.rejects(pending, isEmsgsize);
  // The peer's ack comes after: discarded, not in the stream.
  b.send({ ...ack(request) }, { portid: a.portid });
  b.send({ ...event(7) }, { portid: a.portid });
  const stream = a.messages();
  const first = (await stream.next()).value!;
  assert.equal(first.type, NLMSG_OVERRUN);
  const second = (await stream.next()).value!;
  assert.deepEqual([second.type, second.payload[0]], [RTM_NEWLINK, 7]);
  await stream.return!();
  await asked.return!();
});

test("a too-long datagram from a peer does not fail a dump from the kernel", async () => {
  const { sock, t } = await fakeSocket();
  t.readBufferSize = READ_BUFFER;
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const dump = sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
  await settle();
  t.deliver([reply(asked[0], RTM_NEWLINK, new Uint8Array([1]), 2)]);
  t.deliver(new Uint8Array(huge.length), 4242);
  t.deliver([reply(asked[0], RTM_NEWLINK, new Uint8Array([2]), 2), done(asked[0])]);
  assert.deepEqual((await dump).map((m) => m.payload[0]), [1, 2]);
  assert.equal(sock.overruns, 1);
  sock.close();
});

test("a too-long datagram fails only the requests its source could answer: a peer's or a multicast one leaves requests to the kernel and to other peers alone", async () => {
  const kernel = new FakeKernel();
  kernel.serve(NETLINK_ROUTE, RTM_GETLINK, () => ({ messages: [{ type: RTM_NEWLINK }] }));
  await using a = await open(NETLINK_ROUTE, { transport: kernel.open, groups: [1] });
  await using b = await open(NETLINK_ROUTE, { transport: kernel.open });
  await using c = await open(NETLINK_ROUTE, { transport: kernel.open });
  kernel.socket(NETLINK_ROUTE, a.portid)!.readBufferSize = READ_BUFFER;
  const askedB = b.messages();
  const askedC = c.messages();
  const toB = a.request({ type: RTM_NEWLINK, payload: new Uint8Array(16) }, { to: b.portid });
  const toC = a.request({ type: RTM_NEWLINK, payload: new Uint8Array(16) }, { to: c.portid });
  const requestB = (await askedB.next()).value!;
  const requestC = (await askedC.next()).value!;
  // b's over-long reply, then the kernel's answer to a request sent after it, queued behind it.
  b.send({ ...reply(requestB, RTM_NEWLINK, huge) }, { portid: a.portid });
  const toKernel = a.request({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  await assert.rejects(toB, isEmsgsize);
  assert.equal((await toKernel).length, 1);
  // A multicast too long: it answers no plain request, to the kernel or to a peer.
  kernel.multicast(NETLINK_ROUTE, 1, [{ ...event(1), payload: huge }]);
  const toKernelAgain = a.request({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  assert.equal((await toKernelAgain).length, 1);
  c.send({ ...ack(requestC) }, { portid: a.portid });
  assert.deepEqual(await toC, []);
  assert.equal(a.overruns, 2);
  await askedB.return!();
  await askedC.return!();
});
