// The onMalformed option of messages(), batches(), listen() and cursor(): a datagram that does
// not decode is handed to the callback, with its sender, and the stream goes on.

import assert from "node:assert/strict";
import { test } from "node:test";
import { NLMSG_OVERRUN } from "../../src/constants.ts";
import { MalformedMessageError } from "../../src/errors.ts";
import type { ReceivedMessage } from "../../src/message.ts";
import type { ReceivedDatagram } from "../../src/socket.ts";
import { tap } from "../../src/tap.ts";
import { event, fakeSocket, settle } from "./_fake.ts";

/** A header whose nlmsg_len (40) runs past the datagram's 16 bytes. */
const GARBAGE = new Uint8Array([40, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

/** What the callback was handed: the error's text and the datagram's fields. */
type Seen = { error: string; data: number[]; sender: number; group: number };

function recorder(): {
  seen: Seen[];
  onMalformed: (e: MalformedMessageError, d: ReceivedDatagram) => void;
} {
  const seen: Seen[] = [];
  return {
    seen,
    onMalformed: (error, d) => {
      assert.ok(error instanceof MalformedMessageError);
      seen.push({ error: error.message, data: [...d.data], sender: d.sender, group: d.group });
    },
  };
}

const first = (m: ReceivedMessage) => m.payload[0];

test("messages({ onMalformed }): a queued malformed datagram is handed over with its sender, and the iteration goes on in order", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  t.deliver([event(1)], 0, 1);
  t.deliver(GARBAGE, 77, 1);
  t.deliver([event(2)], 0, 1);
  const { seen, onMalformed } = recorder();
  const it = sock.messages({ onMalformed });
  assert.equal(first((await it.next()).value!), 1);
  assert.equal(seen.length, 0);
  assert.equal(first((await it.next()).value!), 2);
  assert.deepEqual(seen, [{
    error: "nlmsg_len 40 runs past the end of the datagram (16 bytes left) (at byte 0)",
    data: [...GARBAGE],
    sender: 77,
    group: 1,
  }]);
  sock.close();
  assert.equal((await it.next()).done, true);
});

test("messages({ onMalformed }): a waiting step skips a malformed datagram and takes the next message", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  const { seen, onMalformed } = recorder();
  const it = sock.messages({ onMalformed });
  const step = it.next();
  await settle();
  t.deliver(GARBAGE, 5, 1);
  await settle();
  assert.equal(seen.length, 1, "handed over while the step still waits");
  t.deliver([event(3)], 0, 1);
  assert.equal(first((await step).value!), 3);
  // Two steps asked for at once still come in order, past a malformed datagram between them.
  const [a, b] = [it.next(), it.next()];
  await settle();
  t.deliver([event(4)], 0, 1);
  t.deliver(GARBAGE, 6, 1);
  t.deliver([event(5)], 0, 1);
  assert.deepEqual([first((await a).value!), first((await b).value!)], [4, 5]);
  assert.deepEqual(seen.map((s) => s.sender), [5, 6]);
  sock.close();
});

test("messages({ onMalformed }): the callback never runs inside a caller's call that read the datagram", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  const calls: boolean[] = [];
  let inRequest = false;
  const it = sock.messages({ onMalformed: () => void calls.push(inRequest) });
  const step = it.next();
  await settle();
  // The kernel multicasts garbage and answers inside sendmsg: request() reads both at once.
  t.script = (req) => {
    t.deliver(GARBAGE, 0, 1);
    t.deliver([{
      type: 2,
      flags: 0x100,
      seq: req.seq,
      portid: req.portid,
      payload: new Uint8Array(20),
    }]);
  };
  inRequest = true;
  const answered = sock.request({ type: 0x12, payload: new Uint8Array(16) });
  inRequest = false;
  await answered;
  t.deliver([event(7)], 0, 1);
  assert.equal(first((await step).value!), 7);
  assert.deepEqual(calls, [false]);
  sock.close();
});

test("messages() without onMalformed still throws MalformedMessageError, and what follows waits for the next iteration", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  t.deliver(GARBAGE, 0, 1);
  t.deliver([event(1)], 0, 1);
  await assert.rejects(sock.messages().next(), MalformedMessageError);
  assert.equal(first((await sock.messages().next()).value!), 1);
  sock.close();
});

test("messages({ onMalformed }): what the callback throws ends the iteration with that error; the rest stays queued", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  t.deliver(GARBAGE, 0, 1);
  t.deliver([event(1)], 0, 1);
  const it = sock.messages({
    onMalformed: () => {
      throw new Error("enough garbage");
    },
  });
  await assert.rejects(it.next(), /enough garbage/);
  assert.equal((await it.next()).done, true, "the throw ended the iteration");
  assert.equal(first((await sock.messages().next()).value!), 1);
  // Likewise for a step that was waiting when the datagram came.
  const waiting = sock.messages({
    onMalformed: () => {
      throw new Error("again");
    },
  }).next();
  await settle();
  t.deliver(GARBAGE, 0, 1);
  await assert.rejects(waiting, /again/);
  sock.close();
});

test("messages({ onMalformed }): an iteration ended while a skip is handed over still hands it over, then is done", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  const { seen, onMalformed } = recorder();
  const it = sock.messages({ onMalformed });
  // The tap sees the datagram just before the stream does, in the same task: its microtask
  // (the iteration's end) runs before the one that hands the datagram over.
  const detach = tap(sock, { received: () => queueMicrotask(() => void it.return!()) });
  const step = it.next();
  await settle();
  t.deliver(GARBAGE, 9, 1);
  assert.deepEqual(await step, { value: undefined, done: true });
  assert.deepEqual(seen.map((s) => s.sender), [9]);
  detach();
  sock.close();
});

test("batches({ onMalformed }): a run stops at a malformed datagram, the next step hands it over and goes on", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  t.deliver([event(1), event(2)], 0, 1);
  t.deliver(GARBAGE, 4, 1);
  t.deliver([event(3)], 0, 1);
  const { seen, onMalformed } = recorder();
  const it = sock.batches({ onMalformed });
  assert.deepEqual((await it.next()).value!.map(first), [1, 2]);
  assert.equal(seen.length, 0);
  assert.deepEqual((await it.next()).value!.map(first), [3]);
  assert.deepEqual(seen.map((s) => s.sender), [4]);
  sock.close();
});

test("listen({ onMalformed }): a malformed datagram is handed over in order with the messages, and the listen goes on", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  const order: string[] = [];
  const done = sock.listen((m) => void order.push(`message ${m.payload[0]}`), {
    onMalformed: (err, d) => void order.push(`malformed from ${d.sender}: ${err.offset}`),
  });
  t.deliver([event(1)], 0, 1);
  t.deliver(GARBAGE, 8, 1);
  t.deliver([event(2)], 0, 1);
  await settle();
  assert.deepEqual(order, ["message 1", "malformed from 8: 0", "message 2"]);
  sock.close();
  await done;
});

test("listen({ onMalformed }): what the callback throws rejects the listen", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  const done = sock.listen(() => {}, {
    onMalformed: () => {
      throw new Error("stop");
    },
  });
  await settle();
  t.deliver(GARBAGE, 0, 1);
  await assert.rejects(done, /stop/);
  sock.close();
});

test("cursor({ onMalformed }): next() hands a malformed datagram over (a copy) and goes on with the next", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  t.deliver([event(1)], 0, 1);
  t.deliver(GARBAGE, 3, 1);
  t.deliver([event(2)], 0, 1);
  const { seen, onMalformed } = recorder();
  const it = sock.cursor({ onMalformed });
  const walked: number[] = [];
  const c = (await it.next()).value!;
  while (c.next()) walked.push(c.data[c.payloadOffset]);
  assert.deepEqual(walked, [1, 2]);
  assert.deepEqual(seen.map(({ data, sender, group }) => ({ data, sender, group })), [
    { data: [...GARBAGE], sender: 3, group: 1 },
  ]);
  await it.return!();
  sock.close();
});

test("cursor({ onMalformed }): what the callback throws, next() throws", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  t.deliver(GARBAGE, 3, 1);
  const it = sock.cursor({
    onMalformed: () => {
      throw new Error("refused");
    },
  });
  const c = (await it.next()).value!;
  assert.throws(() => c.next(), /refused/);
  await it.return!();
  sock.close();
});

test("an overrun still comes as NLMSG_OVERRUN to an iteration with onMalformed", async () => {
  const { sock, t } = await fakeSocket({ groups: [1] });
  t.deliver(GARBAGE, 0, 1);
  t.overrun();
  const { seen, onMalformed } = recorder();
  const it = sock.messages({ onMalformed });
  assert.equal((await it.next()).value!.type, NLMSG_OVERRUN);
  t.deliver([event(5)], 0, 1);
  assert.equal(first((await it.next()).value!), 5);
  assert.equal(seen.length, 1);
  assert.equal(sock.overruns, 1);
  sock.close();
});

test("onMalformed must be a function; datagrams() refuses it, saying it never ends on garbage", async () => {
  const { sock } = await fakeSocket({ groups: [1] });
  for (
    const call of [
      () => sock.messages({ onMalformed: 1 as never }),
      () => sock.batches({ onMalformed: "skip" as never }),
      () => sock.cursor({ onMalformed: {} as never }),
    ]
  ) {
    assert.throws(call, /onMalformed must be a function, got/);
  }
  await assert.rejects(
    sock.listen(() => {}, { onMalformed: null as never }),
    /^TypeError: listen\(\) options: onMalformed is null, which it does not take/,
  );
  assert.throws(
    () => sock.datagrams({ onMalformed: () => {} } as never),
    /datagrams\(\) takes no onMalformed: it never ends on a malformed datagram/,
  );
  sock.close();
});
