// listen(): a handler called with each unclaimed message, over the fake transport (whose waits
// are promises: the read loop's fallback; test/host/listen_test.ts has the real socket's).

import assert from "node:assert/strict";
import { test } from "node:test";
import { NETLINK_KOBJECT_UEVENT, NLMSG_OVERRUN } from "../../src/constants.ts";
import { MalformedMessageError, SocketClosedError } from "../../src/errors.ts";
import type { ReceivedMessage } from "../../src/message.ts";
import { event, fakeSocket, settle } from "./_fake.ts";

const bytes = (m: ReceivedMessage) => m.payload[0];

test("listen(): queued messages first, from a microtask, then each as it arrives; close resolves", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  t.deliver([event(1), event(2)], 0, 1);
  const it = sock.messages();
  assert.equal(bytes((await it.next()).value!), 1);
  await it.return!();
  // event 2 was read ahead into the queue: listen() hands it over first.
  const seen: number[] = [];
  const done = sock.listen((m) => void seen.push(bytes(m)));
  assert.deepEqual(seen, [], "never inside the call");
  await settle();
  assert.deepEqual(seen, [2]);
  t.deliver([event(3)], 0, 1);
  t.deliver([event(4), event(5)], 0, 1);
  await settle();
  assert.deepEqual(seen, [2, 3, 4, 5]);
  sock.close();
  assert.equal(await done, undefined);
});

test("listen(): a throwing handler ends it with that error; what follows goes to messages()", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  const boom = new Error("boom");
  const done = sock.listen((m) => {
    if (bytes(m) === 2) throw boom;
  });
  t.deliver([event(1), event(2), event(3)], 0, 1);
  await assert.rejects(done, (err) => err === boom);
  const it = sock.messages();
  assert.equal(bytes((await it.next()).value!), 3, "the message after the throw is not lost");
  sock.close();
});

test("listen(): a handler's rejected promise ends it with that error", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  const done = sock.listen(() => Promise.reject(new Error("async boom")));
  t.deliver([event(1)], 0, 1);
  await assert.rejects(done, /async boom/);
  sock.close();
});

test("listen(): an abort rejects with the signal's reason, also one aborted before the call", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  const ac = new AbortController();
  const seen: number[] = [];
  const done = sock.listen((m) => void seen.push(bytes(m)), { signal: ac.signal });
  t.deliver([event(1)], 0, 1);
  await settle();
  ac.abort(new Error("enough"));
  await assert.rejects(done, /enough/);
  assert.deepEqual(seen, [1]);
  await assert.rejects(
    sock.listen(() => {}, { signal: AbortSignal.abort(new Error("early")) }),
    /early/,
  );
  // Ended: reading stops for it, and a later message waits for the next reader.
  t.deliver([event(2)], 0, 1);
  const it = sock.messages();
  assert.equal(bytes((await it.next()).value!), 2);
  sock.close();
});

test("listen(): one at a time; a new one may start once the first has ended", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  const ac = new AbortController();
  const first = sock.listen(() => {}, { signal: ac.signal });
  await assert.rejects(sock.listen(() => {}), /already running/);
  ac.abort();
  await assert.rejects(first);
  const seen: number[] = [];
  const second = sock.listen((m) => void seen.push(bytes(m)));
  t.deliver([event(7)], 0, 1);
  await settle();
  assert.deepEqual(seen, [7]);
  sock.close();
  await second;
});

test("listen(): messages() steps wait while it runs and get what arrives after it ends", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  const it = sock.messages();
  const step = it.next();
  const ac = new AbortController();
  const seen: number[] = [];
  const done = sock.listen((m) => {
    seen.push(bytes(m));
    if (seen.length === 2) ac.abort();
  }, { signal: ac.signal });
  await settle();
  t.deliver([event(1), event(2), event(3)], 0, 1);
  await assert.rejects(done);
  assert.deepEqual(seen, [1, 2]);
  assert.equal(bytes((await step).value!), 3);
  sock.close();
});

test("listen(): bad input, a closed socket and an unframed one reject with errors that say why", async () => {
  const { sock } = await fakeSocket();
  // deno-lint-ignore no-explicit-any
  await assert.rejects(sock.listen("x" as any), TypeError);
  // deno-lint-ignore no-explicit-any
  await assert.rejects(sock.listen(() => {}, null as any), TypeError);
  sock.close();
  await assert.rejects(sock.listen(() => {}), SocketClosedError);
  const { sock: raw } = await fakeSocket({ unframed: true }, () => {}, NETLINK_KOBJECT_UEVENT);
  await assert.rejects(raw.listen(() => {}), /unframed.*datagrams\(\)/);
  raw.close();
});

test("listen(): an overrun comes as an NLMSG_OVERRUN message; a malformed datagram rejects", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  const types: number[] = [];
  const done = sock.listen((m) => void types.push(m.type));
  t.overrun();
  await settle(); // the kernel drops what comes until the queue is read empty
  t.deliver([event(1)], 0, 1);
  await settle();
  assert.equal(types[0], NLMSG_OVERRUN);
  assert.equal(types.length, 2);
  assert.equal(sock.overruns, 1);
  // A header claiming more bytes than the datagram holds.
  t.deliver(new Uint8Array([40, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 0, 1);
  await assert.rejects(done, MalformedMessageError);
  sock.close();
});

test("listen(): a signal that is not an AbortSignal is refused, and the socket can still listen", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  // deno-lint-ignore no-explicit-any
  await assert.rejects(sock.listen(() => {}, { signal: {} as any }), {
    name: "TypeError",
    message: "signal must be an AbortSignal",
  });
  const seen: number[] = [];
  const done = sock.listen((m) => void seen.push(bytes(m)));
  t.deliver([event(1)], 0, 1);
  await settle();
  assert.deepEqual(seen, [1]);
  sock.close();
  await done;
});

test("listen(): a thenable's rejection ends it too; iterations refuse a signal that is not an AbortSignal", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  const done = sock.listen(() => ({
    then: (_: unknown, reject: (e: unknown) => void) => reject(new Error("thenable boom")),
  }));
  t.deliver([event(1)], 0, 1);
  await assert.rejects(done, /thenable boom/);
  // deno-lint-ignore no-explicit-any
  const bad = { signal: {} as any };
  assert.throws(() => sock.messages(bad), /signal must be an AbortSignal/);
  assert.throws(() => sock.batches(bad), /signal must be an AbortSignal/);
  assert.throws(() => sock.datagrams(bad), /signal must be an AbortSignal/);
  assert.throws(() => sock.cursor(bad), /signal must be an AbortSignal/);
  sock.close();
});

test("listen(): while datagrams() is open, multicast datagrams go to it whole, as they would instead of to messages()", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  const seen: number[] = [];
  const done = sock.listen((m) => void seen.push(bytes(m)));
  const whole = sock.datagrams();
  const step = whole.next();
  t.deliver([event(1)], 0, 1);
  const { value } = await step;
  assert.equal(value!.group, 1);
  assert.deepEqual(seen, [], "the handler does not get it too");
  await whole.return!();
  t.deliver([event(2)], 0, 1);
  await settle();
  assert.deepEqual(seen, [2], "once datagrams() has ended, the handler gets them");
  sock.close();
  await done;
});
