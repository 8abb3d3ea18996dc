// Promises of NetlinkSocket's JSDoc that no other test held it to: every call after close()
// throws SocketClosedError, a timeout bounds the whole answer, and bytes given to send() are
// not matched to anything (a dump sent that way does not wait for the socket's dump slot).

import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeAck } from "../../src/ack.ts";
import {
  NETLINK_ROUTE,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  NLMSG_ERROR,
  RTM_GETLINK,
  RTM_NEWLINK,
  SOL_NETLINK,
} from "../../src/constants.ts";
import { SocketClosedError } from "../../src/errors.ts";
import { encodeMessage, type Message } from "../../src/message.ts";
import { countingSignal } from "../_cancel.ts";
import { event, FakeKernel, fakeSocket, reply, settle } from "./_fake.ts";

test("after close(), every call throws SocketClosedError (promises reject with it); fd is -1", async () => {
  const { sock } = await fakeSocket();
  sock.join(1);
  sock.close();
  assert.equal(sock.fd, -1);
  const calls: [string, () => unknown][] = [
    ["send", () => sock.send({ type: RTM_GETLINK })],
    ["send(bytes)", () => sock.send(new Uint8Array(16))],
    ["join", () => sock.join(2)],
    ["leave", () => sock.leave(1)],
    ["setOption", () => sock.setOption(SOL_NETLINK, 1, 1)],
    ["getOption", () => sock.getOption(SOL_NETLINK, 1)],
    ["attachFilter", () => sock.attachFilter([{ code: 0x06, jt: 0, jf: 0, k: 0 }])],
    ["detachFilter", () => sock.detachFilter()],
    ["lockFilter", () => sock.lockFilter()],
    ["messages", () => sock.messages()],
    ["batches", () => sock.batches()],
    ["datagrams", () => sock.datagrams()],
    ["for await", () => sock[Symbol.asyncIterator]()],
    ["dump", () => sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) })],
  ];
  for (const [name, call] of calls) assert.throws(call, SocketClosedError, name);
  for (
    const [name, call] of [
      ["request", () => sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) })],
      ["requestBatch", () => sock.requestBatch([{ type: RTM_GETLINK, flags: NLM_F_ACK }])],
    ] as const
  ) {
    await assert.rejects(call(), SocketClosedError, name);
  }
});

test("timeout bounds the whole answer: a reply without its ack, a dump without its end", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req, t) => {
    asked.push(req);
    t.deliver([reply(req, RTM_NEWLINK, new Uint8Array(16), req.flags & NLM_F_DUMP ? 2 : 0)]);
  };
  await assert.rejects(
    sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }, { timeout: 30 }),
    (err: unknown) => err instanceof DOMException && err.name === "TimeoutError",
  );
  const parts = [];
  await assert.rejects(async () => {
    for await (
      const part of sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }, { timeout: 30 })
    ) parts.push(part);
  }, (err: unknown) => err instanceof DOMException && err.name === "TimeoutError");
  assert.equal(parts.length, 1, "the part that came was yielded before the timeout");
  sock.close();
});

test("send(bytes) is not matched: a dump sent that way goes out at once, its answer to the stream", async () => {
  const kernel = new FakeKernel().serve(0, RTM_GETLINK, () => ({
    messages: Array.from(
      { length: 20_000 },
      () => ({ type: RTM_NEWLINK, payload: new Uint8Array(200) }),
    ),
  }));
  const { sock, t } = await fakeSocket({}, () => {}, 0, kernel);
  const running = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) })[
    Symbol.asyncIterator
  ]();
  await running.next(); // the socket's dump runs in the kernel, longer than one datagram
  assert.ok(t.dumping);
  const bytes = encodeMessage({
    type: RTM_GETLINK,
    flags: NLM_F_REQUEST | NLM_F_DUMP,
    seq: 77,
    portid: sock.portid,
    payload: new Uint8Array(16),
  });
  assert.equal(sock.send(bytes), 0);
  assert.equal(t.sent.length, 2, "sent at once, not queued behind the running dump");
  // The kernel refused it (one dump per socket): the error comes through the stream, unmatched,
  // once the lagging dump no longer holds reading back (left early: read to its end, discarded).
  await running.return!();
  const stream = sock.messages();
  const answer = (await stream.next()).value!;
  assert.equal(answer.type, NLMSG_ERROR);
  assert.equal(answer.seq, 77);
  assert.equal(decodeAck(answer).errno, 16); // EBUSY
  await stream.return!();
  await settle();
  sock.close();
});

test("close() ends an iteration at once, whatever is still queued: messages(), datagrams()", async () => {
  for (const kind of ["messages", "datagrams"] as const) {
    const { sock, t } = await fakeSocket();
    const steps: AsyncIterator<unknown> = kind === "messages" ? sock.messages() : sock.datagrams();
    const first = steps.next();
    for (let n = 0; n < 5; n++) t.deliver([event(n)], 0, 1);
    assert.equal((await first).done, false, kind);
    await settle(); // the other four are read ahead, queued for the next steps
    sock.close();
    assert.deepEqual(await steps.next(), { value: undefined, done: true }, kind);
  }
});

test("an abort throws from one step of messages(), batches(), datagrams() and cursor(); every later step is done, as a generator's", async () => {
  // Each further next() rejected again with the reason, where an async generator that threw is
  // done (the route monitor, a generator, was; the typed monitor rejected again too).
  const kinds = ["messages", "batches", "datagrams", "cursor"] as const;
  for (const kind of kinds) {
    for (const pending of [true, false]) {
      const where = `${kind}, ${pending ? "a step pending" : "no step pending"}`;
      const { sock } = await fakeSocket();
      const controller = new AbortController();
      const reason = new Error("stop");
      const signal = controller.signal;
      const steps: AsyncIterator<unknown> = kind === "messages"
        ? sock.messages({ signal })
        : kind === "batches"
        ? sock.batches({ signal })
        : kind === "datagrams"
        ? sock.datagrams({ signal })
        : sock.cursor({ signal });
      const first = pending ? steps.next() : undefined;
      controller.abort(reason);
      await assert.rejects(first ?? steps.next(), (err) => err === reason, where);
      assert.deepEqual(await steps.next(), { value: undefined, done: true }, where);
      assert.deepEqual(await steps.next(), { value: undefined, done: true }, where);
      sock.close();
    }
  }
  // An iteration ended by return() (or by a throw) stays done when its signal aborts later.
  const { sock } = await fakeSocket();
  const controller = new AbortController();
  const steps = sock.messages({ signal: controller.signal });
  await steps.return!();
  controller.abort();
  assert.deepEqual(await steps.next(), { value: undefined, done: true });
  sock.close();
});

test("an iteration declared with `await using` ends with its scope: what a request's read takes along then waits for the first consumer to open", async () => {
  // A messages() iteration stepped by hand had no way to end but return() or its collection;
  // until then it counted as open, and what no request claimed went to the message stream, not
  // to a datagrams() or cursor() opened next.
  for (const kind of ["messages", "batches", "datagrams", "cursor"] as const) {
    const { sock, t } = await fakeSocket();
    t.script = (req) => t.deliver([reply(req, NLMSG_ERROR, new Uint8Array(20))]);
    {
      await using _steps = kind === "messages"
        ? sock.messages()
        : kind === "batches"
        ? sock.batches()
        : kind === "datagrams"
        ? sock.datagrams()
        : sock.cursor();
    }
    t.deliver([event(7)], 0, 1);
    await sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }); // its read takes the event along
    await using datagrams = sock.datagrams();
    const { value } = await datagrams.next();
    assert.equal(value?.group, 1, kind);
    sock.close();
  }
});

test("cursor(): a second one while the first is open says how to end the first", async () => {
  const { sock } = await fakeSocket();
  const first = sock.cursor();
  assert.throws(
    () => sock.cursor(),
    /End it first: break out of its loop, call its return\(\), or declare it with `await using` \(one dropped without these stays open until it is garbage-collected\)$/,
  );
  await first.return!();
  await sock.cursor().return!();
  sock.close();
});

test("a dump's iterator and its cursor() declared with `await using` end the dump with their scope: its guard is released, the next dump runs whole", async () => {
  // Neither was AsyncDisposable: `await using` threw a TypeError, and one stepped by hand held the
  // socket's dump slot and its abort listener until return() or its collection.
  const parts = 40;
  const kernel = new FakeKernel({ dumpDatagramSize: 4096 }).serve(
    NETLINK_ROUTE,
    RTM_GETLINK,
    () => ({
      messages: Array.from({ length: parts }, () => ({
        type: RTM_NEWLINK,
        payload: new Uint8Array(1000),
      })),
    }),
  );
  const { sock } = await fakeSocket({}, () => {}, NETLINK_ROUTE, kernel);
  const request = { type: RTM_GETLINK, payload: new Uint8Array(16) };
  for (const kind of ["iterator", "cursor"] as const) {
    const { controller, listeners } = countingSignal();
    {
      const dump = sock.dump(request, { signal: controller.signal, timeout: 60_000 });
      await using steps = kind === "iterator" ? dump[Symbol.asyncIterator]() : dump.cursor();
      assert.equal((await steps.next()).done, false, kind);
      assert.equal(listeners(), 1, kind);
    }
    assert.equal(listeners(), 0, `${kind}: its abort listener left the signal`);
    let count = 0;
    await sock.dump(request).forEach(() => void count++);
    assert.equal(count, parts, kind);
  }
  sock.close();
});
