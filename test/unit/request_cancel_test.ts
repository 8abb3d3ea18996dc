// What RequestOptions and MessagesOptions promise about `signal` and `timeout`, for request(),
// requestBatch(), messages(), listen() and cursor(), against a user-space peer on the fake
// kernel: the error each rejects or throws with, that late answers are discarded (never leak
// into the message stream), and that a long-lived signal keeps no listener. The same for dump()
// is test/unit/dump_cancel_test.ts.

import assert from "node:assert/strict";
import { test } from "node:test";
import { remaining, timeoutError } from "../../src/_guard.ts";
import { NETLINK_USERSOCK, NLM_F_ACK, RTM_GETLINK, RTM_NEWLINK } from "../../src/constants.ts";
import type { Message } from "../../src/message.ts";
import { assertDomException, countingSignal, sleep } from "../_cancel.ts";
import { ack, event, FakeKernel, fakeSocket, reply, settle } from "./_fake.ts";

/**
 * A socket and a user-space peer (NETLINK_USERSOCK, fake kernel) that answers only when the test
 * does (`answer`); `requests` is what the peer received. `event(n)` comes from the peer too.
 */
async function withPeer() {
  const kernel = new FakeKernel();
  const { sock } = await fakeSocket({}, () => {}, NETLINK_USERSOCK, kernel);
  const { sock: peer } = await fakeSocket({}, () => {}, NETLINK_USERSOCK, kernel);
  const requests: Message[] = [];
  void peer.listen((m) => void requests.push(m)).catch(() => {});
  const answer = (messages: Message[]) => {
    for (const m of messages) peer.send(m, { portid: sock.portid });
  };
  const close = () => {
    sock.close();
    peer.close();
  };
  return { sock, peer, requests, answer, close };
}

type Peer = Awaited<ReturnType<typeof withPeer>>;

/** The next message the stream hands out is event `n`: nothing late leaked into it before. */
async function assertNextIsEvent(p: Peer, n: number) {
  p.answer([event(n)]);
  const it = p.sock.messages();
  const { value } = await it.next();
  await it.return!();
  assert.deepEqual([...value!.payload], [n], "a late answer leaked into the message stream");
}

for (const batch of [false, true]) {
  const name = batch ? "requestBatch()" : "request()";
  const send = (p: Peer, options: { signal?: AbortSignal; timeout?: number }) => {
    const to = p.peer.portid;
    return batch
      ? p.sock.requestBatch([{ type: RTM_NEWLINK }, { type: RTM_NEWLINK, flags: NLM_F_ACK }], {
        ...options,
        to,
      })
      : p.sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }, { ...options, to });
  };
  /** The peer's late answers: for the batch, the first message failed (no ack asked for). */
  const answers = ({ requests }: Peer): Message[] =>
    batch
      ? [ack(requests[0], 22), ack(requests[1])]
      : [reply(requests[0], RTM_NEWLINK, new Uint8Array(16)), ack(requests[0])];

  test(`${name}: abort rejects with the signal's reason; the late answer is discarded`, async () => {
    const p = await withPeer();
    const { controller, listeners } = countingSignal();
    const pending = send(p, { signal: controller.signal });
    await settle();
    controller.abort();
    await assert.rejects(pending, (err) => (assertDomException(err, "AbortError"), true));
    p.answer(answers(p));
    await assertNextIsEvent(p, 1);
    assert.equal(listeners(), 0);
    p.close();
  });

  test(`${name}: a timeout rejects with TimeoutError and removes the abort listener; the late answer is discarded`, async () => {
    const p = await withPeer();
    const { listeners } = countingSignal();
    const { controller: other, listeners: otherListeners } = countingSignal();
    const pending = send(p, { signal: other.signal, timeout: 20 });
    await assert.rejects(pending, (err) => {
      assertDomException(err, "TimeoutError", /^netlink request timed out after 20 ms$/);
      return true;
    });
    assert.equal(otherListeners(), 0);
    assert.equal(listeners(), 0);
    p.answer(answers(p));
    await assertNextIsEvent(p, 2);
    p.close();
  });

  test(`${name}: answered in full, it keeps no listener on a long-lived signal`, async () => {
    const p = await withPeer();
    const { controller, listeners } = countingSignal();
    const pending = send(p, { signal: controller.signal, timeout: 60_000 });
    await settle();
    p.answer(answers(p));
    if (batch) await assert.rejects(pending, /EINVAL/);
    else assert.equal((await pending).length, 1);
    assert.equal(listeners(), 0);
    p.close(); // and no 60 s timer keeps the process alive: the runner would notice
  });

  test(`${name}: an aborted signal rejects before anything is sent; close() rejects with SocketClosedError`, async () => {
    const p = await withPeer();
    const controller = new AbortController();
    controller.abort(new Error("already"));
    await assert.rejects(send(p, { signal: controller.signal }), /already/);
    await settle();
    assert.equal(p.requests.length, 0);
    const pending = send(p, {});
    p.close();
    await assert.rejects(pending, { name: "SocketClosedError" });
  });
}

test("messages(): an abort while a step waits rejects it with the reason; return() and close() leave no listener", async () => {
  const p = await withPeer();
  const { sock } = p;
  const { controller, listeners } = countingSignal();
  const it = sock.messages({ signal: controller.signal });
  const step = it.next();
  await settle();
  controller.abort();
  await assert.rejects(step, (err) => (assertDomException(err, "AbortError"), true));
  const { controller: c2, listeners: l2 } = countingSignal();
  const returned = sock.messages({ signal: c2.signal });
  await returned.return!();
  const closed = sock.messages({ signal: c2.signal });
  const waiting = closed.next();
  p.close();
  assert.deepEqual(await waiting, { value: undefined, done: true });
  assert.equal(listeners(), 0);
  assert.equal(l2(), 0);
});

test("listen(): an abort from a timer while it waits rejects with the reason; close() resolves it; no listener left", async () => {
  const p = await withPeer();
  const { sock } = p;
  const { controller, listeners } = countingSignal();
  const listening = sock.listen(() => {}, { signal: controller.signal });
  await sleep(5);
  controller.abort(new Error("stop"));
  await assert.rejects(listening, /stop/);
  const { controller: c2, listeners: l2 } = countingSignal();
  const second = sock.listen(() => {}, { signal: c2.signal });
  await settle();
  p.close();
  await second;
  assert.equal(listeners(), 0);
  assert.equal(l2(), 0);
});

/** Readers of the message stream, each calling `take` with each message's first payload byte. */
const readers: Record<
  string,
  (sock: Peer["sock"], signal: AbortSignal, take: (n: number) => void) => Promise<void>
> = {
  "messages()": async (sock, signal, take) => {
    for await (const m of sock.messages({ signal })) take(m.payload[0]);
  },
  "listen()": (sock, signal, take) => sock.listen((m) => take(m.payload[0]), { signal }),
  "cursor()": async (sock, signal, take) => {
    // The walk would go on into the next queued datagram: the abort stops it there.
    for await (const c of sock.cursor({ signal })) {
      while (c.next()) take(c.data[c.byteOffset + c.payloadOffset]);
    }
  },
};

for (const [name, read] of Object.entries(readers)) {
  test(`${name}: an abort while it takes the first of three queued datagrams ends it with the reason; the rest stay for the next reader`, async () => {
    const p = await withPeer();
    const { controller, listeners } = countingSignal();
    for (const n of [1, 2, 3]) p.answer([event(n)]);
    await settle();
    const seen: number[] = [];
    const reason = new Error("enough");
    await assert.rejects(
      read(p.sock, controller.signal, (n) => {
        seen.push(n);
        controller.abort(reason);
      }),
      (err) => err === reason,
    );
    assert.deepEqual(seen, [1]);
    assert.equal(listeners(), 0);
    const it = p.sock.messages();
    assert.deepEqual([...(await it.next()).value!.payload], [2]);
    await it.return!();
    p.close();
  });
}

test("a timeout's error names a whole number of ms, or one decimal of what was left of one", () => {
  assert.equal(timeoutError(50).message, "netlink request timed out after 50 ms");
  // A second request of an operation gets what is left of its timeout: a fraction.
  assert.equal(timeoutError(49.86057600000004).message, "netlink request timed out after 49.9 ms");
  const left = remaining({ timeout: 50 }, performance.now() - 0.3).timeout!;
  assert.ok(left < 50 && left > 0);
  assert.match(timeoutError(left).message, /^netlink request timed out after \d+(\.\d)? ms$/);
});
