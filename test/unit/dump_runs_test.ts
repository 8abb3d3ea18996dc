// dump() takes a datagram's parts as one run (src/_matcher.ts claimAll, src/_dump.ts): what a
// datagram mixes (parts of another request, messages nobody claims, an error, NLM_F_DUMP_INTR)
// and how an iteration leaves it (break mid-datagram) must come out as they did part by part.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  NETLINK_USERSOCK,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_MULTI,
  RTM_GETLINK,
  RTM_NEWLINK,
  RTM_NEWROUTE,
} from "../../src/constants.ts";
import type { MessageCursor } from "../../src/cursor.ts";
import {
  DumpInterruptedError,
  MalformedMessageError,
  NetlinkError,
  SocketClosedError,
} from "../../src/errors.ts";
import {
  decodeDatagram,
  decodeMessages,
  encodeMessages,
  type Message,
  type ReceivedMessage,
} from "../../src/message.ts";
import type { DumpIterable, MessageInput, NetlinkSocket } from "../../src/socket.ts";
import { assertDomException } from "../_cancel.ts";
import {
  ack,
  countingDatagrams,
  done,
  event,
  FakeKernel,
  fakeSocket,
  reply,
  settle,
} from "./_fake.ts";

const part = (request: Message, n: number, flags = NLM_F_MULTI, payload = new Uint8Array([n])) =>
  reply(request, RTM_NEWLINK, payload, flags);

const firstBytes = (messages: readonly ReceivedMessage[]) => messages.map((m) => m.payload[0]);

/**
 * A socket whose fake kernel answers nothing by itself, a dump() iteration on it that has sent
 * its request (`request`, to answer by hand), and the requests sent (`asked`).
 */
async function dumping() {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const it = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) })[Symbol.asyncIterator]();
  const first = it.next();
  await settle();
  return { sock, t, asked, it, first, request: asked[0] };
}

/**
 * Collects an iteration to its end, each step as `take` makes it (the step itself by default);
 * the error it throws, if any, is returned beside what came before.
 */
async function collect<T, U = T>(
  steps: AsyncIterable<T>,
  take: (step: T) => U = (step) => step as unknown as U,
) {
  const got: U[] = [];
  try {
    for await (const step of steps) got.push(take(step));
  } catch (error) {
    return { got, error };
  }
  return { got, error: undefined };
}

test("a datagram holding parts of a dump and of a request: each gets its own, in order", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const dump = collect(sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }));
  await settle();
  const request = sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }, {
    timeout: 2000,
  });
  await settle();
  const [d, r] = asked;
  t.deliver([
    part(d, 1),
    part(d, 2),
    reply(r, RTM_NEWROUTE, new Uint8Array([9])),
    part(d, 3),
    ack(r),
    part(d, 4),
    done(d, 0, NLM_F_MULTI),
  ]);
  const { got, error } = await dump;
  assert.equal(error, undefined);
  assert.deepEqual(firstBytes(got), [1, 2, 3, 4]);
  assert.ok(got.every((m) => m.seq === d.seq && m.type === RTM_NEWLINK && m.sender === 0));
  const replies = await request;
  assert.deepEqual(replies.map((m) => [m.type, m.payload[0]]), [[RTM_NEWROUTE, 9]]);
  sock.close();
});

test("messages nobody claims between a dump's parts go to the stream, the parts to the dump", async () => {
  const { sock, t, it, first, request: d } = await dumping();
  t.deliver([part(d, 1), event(7), part(d, 2), done(d, 0, NLM_F_MULTI)]);
  assert.equal((await first).value?.payload[0], 1);
  assert.equal((await it.next()).value?.payload[0], 2);
  assert.equal((await it.next()).done, true);
  const unclaimed = await sock.messages().next();
  assert.equal(unclaimed.value?.payload[0], 7);
  sock.close();
});

test("an error after parts in one datagram: the parts first, then the error, once", async () => {
  const { sock, t, it, first, request: d } = await dumping();
  t.deliver([part(d, 1), part(d, 2), done(d, 16, NLM_F_MULTI)]);
  assert.equal((await first).value?.payload[0], 1);
  assert.equal((await it.next()).value?.payload[0], 2);
  await assert.rejects(it.next(), (e) => e instanceof NetlinkError && e.code === "EBUSY");
  assert.equal((await it.next()).done, true);
  sock.close();
});

test("NLM_F_DUMP_INTR on a part inside a run: every part, then DumpInterruptedError", async () => {
  const { sock, t, it, first, request: d } = await dumping();
  t.deliver([part(d, 1), part(d, 2, NLM_F_MULTI | NLM_F_DUMP_INTR), part(d, 3)]);
  t.deliver([done(d, 0, NLM_F_MULTI)]);
  const rest = await collect({ [Symbol.asyncIterator]: () => it });
  assert.deepEqual(firstBytes([(await first).value!, ...rest.got]), [1, 2, 3]);
  assert.ok(rest.error instanceof DumpInterruptedError);
  sock.close();
});

test("a break in the middle of a datagram: the rest is discarded, the socket goes on", async () => {
  const { sock, t, asked, it, first, request: d } = await dumping();
  t.deliver([part(d, 1), part(d, 2), part(d, 3), part(d, 4)]);
  // The kernel queues a dump's next part as a read takes the last: its rest is queued.
  t.deliver([part(d, 5), done(d, 0, NLM_F_MULTI)]);
  assert.equal((await first).value?.payload[0], 1);
  assert.equal((await it.next()).value?.payload[0], 2);
  await it.return!(); // what `break` calls
  assert.equal((await it.next()).done, true, "nothing queued is handed out after return()");
  // The kernel's dump is read to its end and discarded; the next dump then runs.
  const next = collect(sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }));
  await settle();
  const d2 = asked[1];
  assert.ok(d2 !== undefined, "the second dump was sent once the first ended");
  t.deliver([part(d2, 6), done(d2, 0, NLM_F_MULTI)]);
  const { got, error } = await next;
  assert.equal(error, undefined);
  assert.deepEqual(firstBytes(got), [6]);
  const stray = sock.messages()[Symbol.asyncIterator]();
  const nothing = await Promise.race([stray.next(), settle().then(() => "none")]);
  assert.equal(nothing, "none", "no part of the abandoned dump reached the stream");
  await stray.return?.();
  sock.close();
});

test("dump(): a next() asked for after the earlier ones, while they wait to run, comes after them", async () => {
  const { sock, t, it, first: a, request } = await dumping();
  const b = it.next();
  const c = it.next();
  // `a` settles first; asked for as soon as it has, `d` still comes after `b` and `c`.
  const d = a.then(() => it.next());
  t.deliver([part(request, 1), part(request, 2), part(request, 3), part(request, 4)]);
  t.deliver([done(request, 0, NLM_F_MULTI)]);
  const steps = await Promise.all([a, b, c, d]);
  assert.deepEqual(steps.map((s) => s.value?.payload[0]), [1, 2, 3, 4]);
  assert.equal((await it.next()).done, true);
  sock.close();
});

test("request() of a dump takes runs too: every part in order, NLM_F_DUMP_INTR reported", async () => {
  const { sock, t } = await fakeSocket();
  t.script = (req, t) => {
    t.deliver([part(req, 1), part(req, 2), event(7), part(req, 3, NLM_F_MULTI | NLM_F_DUMP_INTR)]);
    t.deliver([part(req, 4), done(req, 0, NLM_F_MULTI)]);
  };
  const err = await sock.request({
    type: RTM_GETLINK,
    flags: NLM_F_DUMP,
    payload: new Uint8Array(16),
  }).catch((e) => e);
  assert.ok(err instanceof DumpInterruptedError);
  assert.deepEqual(firstBytes(err.messages as ReceivedMessage[]), [1, 2, 3, 4]);
  assert.equal((await sock.messages().next()).value?.payload[0], 7, "the event is the stream's");
  sock.close();
});

test("dump().forEach(): every part in order across datagrams, then resolves; each call dumps anew", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const dump = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  const seen: number[] = [];
  const first = dump.forEach((m) => void seen.push(m.payload[0]));
  await settle();
  t.deliver([part(asked[0], 1), part(asked[0], 2)]);
  t.deliver([part(asked[0], 3), done(asked[0], 0, NLM_F_MULTI)]);
  assert.equal(await first, undefined);
  assert.deepEqual(seen, [1, 2, 3]);
  const second = dump.forEach((m) => void seen.push(m.payload[0]));
  await settle();
  assert.equal(asked.length, 2, "a second forEach sends the request again");
  t.deliver([part(asked[1], 4), done(asked[1], 0, NLM_F_MULTI)]);
  await second;
  assert.deepEqual(seen, [1, 2, 3, 4]);
  sock.close();
});

test("dump(): for await and forEach() take datagrams of parts whole, as bytes, and hand out the messages decodeDatagram makes of them, whose payloads stay valid", async () => {
  const { sock, t } = await fakeSocket({ listenAllNsid: true });
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  // Payloads of lengths off the 4-byte alignment (padded on the wire), and an empty one.
  const payloads = [[1, 2, 3], [4], [], [5, 6, 7, 8, 9], [10, 11]].map((b) => new Uint8Array(b));
  /** Sends the dump's parts in three datagrams, the last with NLMSG_DONE; returns the bytes. */
  const answer = () => {
    const request = asked.at(-1)!;
    const datagrams = [
      encodeMessages(payloads.slice(0, 2).map((p) => part(request, 0, NLM_F_MULTI, p))),
      encodeMessages(payloads.slice(2, 4).map((p) => part(request, 0, NLM_F_MULTI, p))),
      encodeMessages([part(request, 0, NLM_F_MULTI, payloads[4]), done(request, 0, NLM_F_MULTI)]),
    ];
    for (const data of datagrams) t.deliver(data);
    // What decodeDatagram makes of them: every message but the NLMSG_DONE.
    return datagrams.flatMap((data) => decodeDatagram({ data, sender: 0, group: 0 })).slice(0, -1);
  };
  const dump = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  const kept: ReceivedMessage[][] = [];
  for (const way of ["for await", "forEach"]) {
    const got: ReceivedMessage[] = [];
    let expected: ReceivedMessage[] = [];
    const [, claimed] = await countingDatagrams(async () => {
      const taking = way === "forEach"
        ? dump.forEach((m) => void got.push(m))
        : (async () => {
          for await (const m of dump) got.push(m);
        })();
      await settle();
      expected = answer();
      await taking;
    });
    assert.equal(claimed, 3, `${way}: every datagram taken whole`);
    assert.equal(got.length, payloads.length, way);
    for (let i = 0; i < got.length; i++) {
      // The same fields, in the same order (so the same shape), and the same values.
      assert.deepEqual(Object.keys(got[i]), Object.keys(expected[i]), way);
      assert.deepEqual(got[i], expected[i], `${way}: part ${i}`);
    }
    kept.push(got);
  }
  // Kept past their dump's end, and past the next dump: still the parts' bytes.
  for (const got of kept) {
    assert.deepEqual(got.map((m) => [...m.payload]), payloads.map((p) => [...p]));
  }
  // A unicast datagram with an nsid (the kernel tags only multicast copies; a peer's transport
  // may) is decoded the ordinary way, its nsid on every message.
  const got: ReceivedMessage[] = [];
  const taking = dump.forEach((m) => void got.push(m));
  await settle();
  const request = asked.at(-1)!;
  t.deliver([part(request, 1), part(request, 2), done(request, 0, NLM_F_MULTI)], 0, 0, 5);
  await taking;
  assert.deepEqual(got.map((m) => [m.payload[0], m.nsid]), [[1, 5], [2, 5]]);
  sock.close();
});

test("dump(): each iteration sends the message dump() checked, whatever its object and payload hold later", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const message: MessageInput = { type: RTM_GETLINK, payload: new Uint8Array(16).fill(7) };
  const dump = sock.dump(message);
  // Changed after dump() checked it: an empty payload, which rtnetlink ignores (dump() refuses
  // it, since nothing would ever answer), another type, bytes overwritten.
  message.payload!.fill(9);
  message.payload = new Uint8Array(0);
  message.type = RTM_NEWLINK;
  for (const run of [dump.forEach(() => {}), dump.forEach(() => {})]) {
    await settle();
    const request = asked.at(-1)!;
    assert.equal(request.type, RTM_GETLINK);
    assert.deepEqual(request.payload, new Uint8Array(16).fill(7));
    t.deliver([done(request, 0, NLM_F_MULTI)]);
    await run;
  }
  assert.equal(asked.length, 2);
  sock.close();
});

test("dump().forEach(): an async handler is awaited part by part; errors reject after the parts", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const order: string[] = [];
  const run = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }).forEach(async (m) => {
    order.push(`start ${m.payload[0]}`);
    await settle();
    order.push(`end ${m.payload[0]}`);
  });
  await settle();
  t.deliver([part(asked[0], 1), part(asked[0], 2, NLM_F_MULTI | NLM_F_DUMP_INTR)]);
  t.deliver([done(asked[0], 0, NLM_F_MULTI)]);
  await assert.rejects(run, DumpInterruptedError);
  assert.deepEqual(order, ["start 1", "end 1", "start 2", "end 2"]);
  const failing = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }).forEach(() => {});
  await settle();
  t.deliver([part(asked[1], 3), done(asked[1], 16, NLM_F_MULTI)]);
  await assert.rejects(failing, (e) => e instanceof NetlinkError && e.code === "EBUSY");
  sock.close();
});

test("dump().forEach(): a throwing handler abandons the dump (read to its end, discarded) and rejects", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const seen: number[] = [];
  const boom = new Error("boom");
  const run = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }).forEach((m) => {
    seen.push(m.payload[0]);
    if (m.payload[0] === 2) throw boom;
  });
  await settle();
  t.deliver([part(asked[0], 1), part(asked[0], 2), part(asked[0], 3)]);
  await assert.rejects(run, (e) => e === boom);
  assert.deepEqual(seen, [1, 2]);
  const links = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  // deno-lint-ignore no-explicit-any
  await assert.rejects(links.forEach("x" as any), TypeError);
  const next = collect(sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }));
  await settle();
  t.deliver([part(asked[0], 4), done(asked[0], 0, NLM_F_MULTI)]);
  await settle();
  t.deliver([part(asked[1], 5), done(asked[1], 0, NLM_F_MULTI)]);
  const { got, error } = await next;
  assert.equal(error, undefined);
  assert.deepEqual(firstBytes(got), [5]);
  sock.close();
});

test("dump().forEach(): an abort mid-dump and a close from the handler reject; concurrent dumps queue", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const ac = new AbortController();
  const aborted = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }, {
    signal: ac.signal,
  }).forEach((m) => {
    if (m.payload[0] === 1) ac.abort(new Error("stop here"));
  });
  // A second dump, by iteration, waits for the kernel's one dump slot.
  const queued = collect(sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }));
  await settle();
  assert.equal(asked.length, 1, "one dump at a time");
  t.deliver([part(asked[0], 1), part(asked[0], 2)]);
  await assert.rejects(aborted, /stop here/);
  t.deliver([done(asked[0], 0, NLM_F_MULTI)]);
  await settle();
  assert.equal(asked.length, 2, "the queued dump runs once the abandoned one is read to its end");
  t.deliver([part(asked[1], 3), done(asked[1], 0, NLM_F_MULTI)]);
  assert.deepEqual(firstBytes((await queued).got), [3]);
  const closing = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }).forEach(() =>
    sock.close()
  );
  await settle();
  t.deliver([part(asked[2], 4), part(asked[2], 5)]);
  await assert.rejects(closing, SocketClosedError);
  // dump() itself checks the socket, as it checks the message, where it is called.
  assert.throws(
    () => sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }),
    SocketClosedError,
  );
});

for (const stop of ["abort", "close"] as const) {
  test(`dump(): ${stop === "abort" ? "an abort" : "a close"} while the consumer handles a part stops it there, for await, forEach and cursor() alike`, async () => {
    for (const consumer of ["for await", "forEach", "cursor"] as const) {
      const { sock, t } = await fakeSocket();
      const asked: Message[] = [];
      t.script = (req) => asked.push(req);
      const ac = new AbortController();
      const parts = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }, {
        signal: ac.signal,
      });
      const seen: number[] = [];
      const stopNow = () => stop === "abort" ? ac.abort(new Error("stop here")) : sock.close();
      const running = consumer === "forEach"
        ? parts.forEach((m) => {
          seen.push(m.payload[0]);
          stopNow();
        })
        : consumer === "cursor"
        ? (async () => {
          for await (const c of parts.cursor()) {
            while (c.next()) seen.push(c.data[c.payloadOffset]);
            stopNow();
          }
        })()
        : (async () => {
          for await (const m of parts) {
            seen.push(m.payload[0]);
            stopNow();
          }
        })();
      await settle();
      // One datagram, read before the consumer sees its first part: two parts, a message no
      // request claims (a cursor() step ends before it), a third part.
      t.deliver([part(asked[0], 1), part(asked[0], 2), event(9), part(asked[0], 3)]);
      await assert.rejects(running, stop === "abort" ? /stop here/ : SocketClosedError, consumer);
      // A cursor() step walks its datagram's stretch of parts itself.
      assert.deepEqual(seen, consumer === "cursor" ? [1, 2] : [1], consumer);
      sock.close();
    }
  });
}

for (const stop of ["abort", "timeout", "close"] as const) {
  test(`dump(): ${stop === "abort" ? "an abort" : `a ${stop}`} while the consumer handles a part stops it there even when the dump's NLMSG_DONE came with its parts, for await, forEach and cursor() alike`, async () => {
    for (const consumer of ["for await", "forEach", "cursor"] as const) {
      const { sock, t } = await fakeSocket();
      const asked: Message[] = [];
      t.script = (req) => asked.push(req);
      const ac = new AbortController();
      const parts = sock.dump(
        { type: RTM_GETLINK, payload: new Uint8Array(16) },
        stop === "timeout" ? { timeout: 20 } : { signal: ac.signal },
      );
      const seen: number[] = [];
      // The handler of the first part outlasts the timeout, or aborts, or closes.
      const stopNow = () =>
        stop === "timeout"
          ? new Promise((resolve) => setTimeout(resolve, 60))
          : stop === "abort"
          ? ac.abort(new Error("stop here"))
          : sock.close();
      const running = consumer === "forEach"
        ? parts.forEach((m) => {
          seen.push(m.payload[0]);
          return stopNow();
        })
        : consumer === "cursor"
        ? (async () => {
          for await (const c of parts.cursor()) {
            while (c.next()) seen.push(c.data[c.payloadOffset]);
            await stopNow();
          }
        })()
        : (async () => {
          for await (const m of parts) {
            seen.push(m.payload[0]);
            await stopNow();
          }
        })();
      await settle();
      // The whole dump in one datagram, read before the consumer sees its first part (a small
      // dump on kernels since 6.16): the dump has ended by then, its parts not yet handed out.
      t.deliver([
        part(asked[0], 1),
        part(asked[0], 2),
        event(9),
        part(asked[0], 3),
        done(asked[0]),
      ]);
      const why = stop === "abort"
        ? /stop here/
        : stop === "timeout"
        ? /timed out/
        : SocketClosedError;
      await assert.rejects(running, why, consumer);
      // A cursor() step walks its datagram's stretch of parts itself.
      assert.deepEqual(seen, consumer === "cursor" ? [1, 2] : [1], consumer);
      sock.close();
    }
  });
}

test("dump(): a dump handed out to its end leaves nothing armed: its timeout does not fire, a close after it is nothing to it", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const ac = new AbortController();
  const seen: number[] = [];
  const running = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }, {
    signal: ac.signal,
    timeout: 30,
  }).forEach(
    (m) => void seen.push(m.payload[0]),
  );
  await settle();
  t.deliver([part(asked[0], 1), part(asked[0], 2), done(asked[0])]);
  await running;
  assert.deepEqual(seen, [1, 2]);
  await new Promise((resolve) => setTimeout(resolve, 60));
  ac.abort();
  sock.close();
});

/**
 * A dump on a fake kernel that answers it in one datagram (`answer`, built from the request),
 * consumed as `how`: by hand with next(), by hand with its cursor(), or with forEach().
 */
async function dumpAnswered(
  answer: (request: Message) => Message[],
  options: { signal?: AbortSignal; timeout?: number },
) {
  const { sock, t } = await fakeSocket();
  t.script = (req) => queueMicrotask(() => t.deliver(answer(req)));
  return { sock, parts: sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }, options) };
}

/**
 * Runs `body` with setTimeout and clearTimeout counting the timers of `ms` milliseconds set,
 * neither cleared nor fired yet, that keep the process alive (`holding()`: Deno's and Bun's
 * timers are objects with Node's `hasRef()`).
 */
async function countingTimers(ms: number, body: (holding: () => number) => Promise<void>) {
  const g = globalThis as { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout };
  const { setTimeout: set, clearTimeout: clear } = g;
  const live = new Set<{ hasRef(): boolean }>();
  g.setTimeout = ((f: () => void, delay?: number) => {
    const id = set(() => {
      live.delete(id);
      f();
    }, delay) as unknown as { hasRef(): boolean };
    if (delay === ms) live.add(id);
    return id;
  }) as typeof setTimeout;
  g.clearTimeout = ((id: Parameters<typeof clearTimeout>[0]) => {
    live.delete(id as unknown as { hasRef(): boolean });
    clear(id);
  }) as typeof clearTimeout;
  try {
    await body(() => [...live].filter((id) => id.hasRef()).length);
  } finally {
    g.setTimeout = set;
    g.clearTimeout = clear;
  }
}

/** The first payload bytes of a dump's parts, taken as `how` does, up to its last part. */
async function takeEveryPart(parts: DumpIterable, how: "next" | "cursor" | "forEach") {
  const seen: number[] = [];
  if (how === "forEach") {
    await parts.forEach((m) => void seen.push(m.payload[0]));
    return { seen, it: undefined };
  }
  if (how === "next") {
    const it = parts[Symbol.asyncIterator]();
    for (let i = 0; i < 2; i++) seen.push(((await it.next()).value as ReceivedMessage).payload[0]);
    return { seen, it };
  }
  const it = parts.cursor();
  const c = (await it.next()).value as MessageCursor;
  while (c.next()) seen.push(c.data[c.payloadOffset]);
  return { seen, it };
}

test("dump(): once its consumer was handed every part, its timeout's timer does not keep the process alive", async () => {
  // The timer stayed until the consumer took the end: an iterator stepped by hand to its last
  // part and dropped kept it (and so the process alive) until the timeout or its collection.
  // It holds the process only while a step waits (test/host/dump_cancel_test.ts runs a child).
  for (const how of ["next", "cursor", "forEach"] as const) {
    await countingTimers(10_000, async (holding) => {
      const { sock, parts } = await dumpAnswered(
        (req) => [part(req, 1), part(req, 2), done(req)],
        { timeout: 10_000 },
      );
      const { seen, it } = await takeEveryPart(parts, how);
      assert.deepEqual(seen, [1, 2], how);
      assert.equal(holding(), 0, `${how}: no timer holds the process`);
      if (it) assert.equal((await it.next()).done, true, how);
      sock.close();
    });
  }
});

test("dump(): handed every part but not the end, the consumer still gets the timeout, the abort or the close from its next step", async () => {
  // The timer, which no longer holds the process once no step waits, still fires.
  for (const how of ["next", "cursor"] as const) {
    for (const stop of ["timeout", "abort", "close"] as const) {
      const where = `${how}, ${stop}`;
      const controller = new AbortController();
      const { sock, parts } = await dumpAnswered(
        (req) => [part(req, 1), part(req, 2), done(req)],
        { signal: controller.signal, timeout: 30 },
      );
      const { it } = await takeEveryPart(parts, how);
      if (stop === "timeout") await new Promise((resolve) => setTimeout(resolve, 60));
      else if (stop === "abort") controller.abort(new Error("stop"));
      else sock.close();
      await assert.rejects(it!.next(), (err) => {
        if (stop === "timeout") assertDomException(err, "TimeoutError", /after 30 ms$/);
        else if (stop === "abort") assert.match(String(err), /stop/);
        else assert.ok(err instanceof SocketClosedError, `${where}: ${err}`);
        return true;
      }, where);
      assert.deepEqual(await it!.next(), { value: undefined, done: true }, where);
      sock.close();
    }
  }
});

test("dump(): one the kernel ran as a plain request ends with its reply (no NLM_F_MULTI, no NLMSG_DONE) once the queue is read empty, in every way of iterating; the next dumps run", async () => {
  // A type with no dump runs as a request whatever the flags: its reply has no NLM_F_MULTI, and
  // no NLMSG_DONE follows; with NLM_F_ACK the ack does. A kernel dump has a part queued until its
  // NLMSG_DONE is read, so a read that finds the queue empty shows that none runs (what the
  // kernel module's unit does with NLTEST_MSG_ECHO: test/guest/unit_test.ts; nftables'
  // NFT_MSG_GETGEN: test/host/dump_cancel_test.ts). Before, each of these waited for its timeout.
  const { sock, t } = await fakeSocket(
    {},
    () => {},
    25,
    new FakeKernel({ protocolGroups: { 25: 32 } }),
  );
  t.script = (req) => {
    if (req.type === 0x10) {
      t.deliver([reply(req, 0x10, new Uint8Array([7]))]);
      if (req.flags & NLM_F_ACK) t.deliver([ack(req)]);
    } else t.deliver([part(req, 1), done(req, 0, NLM_F_MULTI)]);
  };
  const payload = new Uint8Array(4);
  for (const flags of [0, NLM_F_ACK]) {
    for (const run of ["for await", "forEach", "cursor", "request"] as const) {
      const where = `${run}, flags ${flags}`;
      const plain = sock.dump({ type: 0x10, flags, payload }, { timeout: 5000 });
      const got: number[] = [];
      if (run === "for await") { for await (const m of plain) got.push(m.payload[0]); }
      else if (run === "forEach") await plain.forEach((m) => void got.push(m.payload[0]));
      else if (run === "cursor") {
        for await (const c of plain.cursor()) while (c.next()) got.push(c.payload()[0]);
      } else {
        const replies = await sock.requestBatch([{
          type: 0x10,
          flags: flags | NLM_F_DUMP,
          payload,
        }], {
          timeout: 5000,
        });
        got.push(...firstBytes(replies));
      }
      assert.deepEqual(got, [7], where);
      const next = await sock.request({ type: 0x19, flags: NLM_F_DUMP, payload }, {
        timeout: 1000,
      });
      assert.deepEqual(firstBytes(next), [1], where);
    }
  }
  // Left at its reply: the dump slot is free all the same.
  for await (const msg of sock.dump({ type: 0x10, payload })) {
    assert.equal(msg.payload[0], 7);
    break;
  }
  const next = await sock.request({ type: 0x19, flags: NLM_F_DUMP, payload }, { timeout: 1000 });
  assert.deepEqual(firstBytes(next), [1]);
  sock.close();
});

test("dump(): parts without NLM_F_MULTI in a dump that goes on (genetlink's genlmsg_iput() sets none) do not end it: NLMSG_DONE does", async () => {
  const { sock, t } = await fakeSocket(
    {},
    () => {},
    25,
    new FakeKernel({ protocolGroups: { 25: 32 } }),
  );
  t.script = (req) => {
    t.deliver([part(req, 1, 0), part(req, 2, 0)]);
    t.deliver([part(req, 3, 0)]);
    t.deliver([part(req, 4, 0), done(req, 0, NLM_F_MULTI)]);
  };
  const payload = new Uint8Array(4);
  for (const run of ["for await", "forEach", "cursor"] as const) {
    const dump = sock.dump({ type: 0x19, payload }, { timeout: 5000 });
    const got: number[] = [];
    if (run === "for await") { for await (const m of dump) got.push(m.payload[0]); }
    else if (run === "forEach") await dump.forEach((m) => void got.push(m.payload[0]));
    else for await (const c of dump.cursor()) while (c.next()) got.push(c.payload()[0]);
    assert.deepEqual(got, [1, 2, 3, 4], run);
  }
  sock.close();
});

test("dump(): an abort, a timeout or a close after the dump ended with an error throws the kernel's error, which came first", async () => {
  // The abort's reason (or TimeoutError, SocketClosedError) replaced the pending NetlinkError.
  for (const taken of [1, 2]) {
    for (const stop of ["abort", "timeout", "close"] as const) {
      const where = `${taken} part(s) taken, ${stop}`;
      const controller = new AbortController();
      const { sock, parts } = await dumpAnswered(
        (req) => [part(req, 1), part(req, 2), done(req, 2)], // ENOENT
        { signal: controller.signal, timeout: 30 },
      );
      const it = parts[Symbol.asyncIterator]();
      for (let i = 0; i < taken; i++) assert.equal((await it.next()).done, false, where);
      if (stop === "abort") controller.abort(new Error("stop"));
      else if (stop === "timeout") await new Promise((resolve) => setTimeout(resolve, 60));
      else sock.close();
      // A part still queued is dropped all the same: the abort stops the consumer there.
      await assert.rejects(it.next(), (err) => {
        assert.ok(err instanceof NetlinkError, `${where}: ${err}`);
        assert.equal(err.code, "ENOENT");
        return true;
      });
      assert.deepEqual(await it.next(), { value: undefined, done: true }, where);
      sock.close();
    }
  }
});

/** Each step of a dump().cursor() iteration as the first payload bytes of its parts, and its end. */
async function walkSteps(cursor: AsyncIterableIterator<MessageCursor>) {
  const { got: steps, error } = await collect(cursor, (c) => {
    const parts: number[] = [];
    while (c.next()) parts.push(c.data[c.payloadOffset]);
    return parts;
  });
  return { steps, error };
}

test("dump().cursor(): a step per datagram over its parts, in order, then done; each iteration dumps anew", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const dump = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  const cursor = dump.cursor();
  assert.equal(cursor[Symbol.asyncIterator](), cursor);
  const first = cursor.next();
  await settle();
  assert.equal(asked.length, 1, "the request goes out when iteration starts");
  t.deliver([part(asked[0], 1), part(asked[0], 2)]);
  const step = await first;
  assert.equal(step.done, false);
  const c = step.value as MessageCursor;
  assert.ok(c.next());
  assert.deepEqual([c.type, c.flags, c.seq, c.payloadLength], [
    RTM_NEWLINK,
    NLM_F_MULTI,
    asked[0].seq,
    1,
  ]);
  assert.equal(c.payload()[0], 1);
  assert.ok(c.next());
  assert.equal(c.payload()[0], 2);
  assert.equal(c.next(), false);
  const second = cursor.next();
  assert.equal(c.next(), false, "asking for the next step empties the cursor");
  assert.equal(c.length, 0);
  // Parts and the NLMSG_DONE in one datagram: its parts still come in one step.
  t.deliver([part(asked[0], 3), part(asked[0], 4), done(asked[0], 0, NLM_F_MULTI)]);
  assert.equal((await second).value, c, "the same cursor at every step");
  const rest: number[] = [];
  while (c.next()) rest.push(c.payload()[0]);
  assert.deepEqual(rest, [3, 4]);
  assert.deepEqual(await cursor.next(), { value: undefined, done: true });
  assert.equal(c.length, 0, "empty once the iteration has ended");
  assert.deepEqual(await cursor.next(), { value: undefined, done: true });
  const again = walkSteps(dump.cursor());
  await settle();
  assert.equal(asked.length, 2, "a second iteration sends the request again");
  t.deliver([part(asked[1], 5), done(asked[1], 0, NLM_F_MULTI)]);
  assert.deepEqual(await again, { steps: [[5]], error: undefined });
  sock.close();
});

test("dump().cursor(): parts with another request's answer between them, split around it; errors end it", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const walked = walkSteps(sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }).cursor());
  await settle();
  const request = sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }, {
    timeout: 2000,
  });
  await settle();
  const [d, r] = asked;
  t.deliver([
    part(d, 1),
    part(d, 2),
    reply(r, RTM_NEWLINK, new Uint8Array([9])),
    part(d, 3, NLM_F_MULTI | NLM_F_DUMP_INTR),
  ]);
  t.deliver([ack(r)]);
  t.deliver([done(d, 0, NLM_F_MULTI)]);
  const { steps, error } = await walked;
  assert.deepEqual(steps, [[1, 2], [3]], "the parts before the answer in one step, the rest next");
  assert.ok(error instanceof DumpInterruptedError, "after every part");
  assert.deepEqual(firstBytes(await request), [9]);
  const failing = walkSteps(sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }).cursor());
  await settle();
  t.deliver([part(asked[2], 4), done(asked[2], 16, NLM_F_MULTI)]);
  const failed = await failing;
  assert.deepEqual(failed.steps, [[4]]);
  assert.ok(failed.error instanceof NetlinkError && failed.error.code === "EBUSY");
  sock.close();
});

test("dump().cursor(): break abandons the dump (read to its end, discarded); close and abort end it", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const cursor = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }).cursor();
  const first = cursor.next();
  await settle();
  t.deliver([part(asked[0], 1)]);
  // The kernel queues a dump's next part as a read takes the last: its rest is queued.
  t.deliver([part(asked[0], 2), done(asked[0], 0, NLM_F_MULTI)]);
  const c = (await first).value as MessageCursor;
  assert.ok(c.next());
  // What `break` calls.
  assert.deepEqual(await cursor.return!(), { value: undefined, done: true });
  assert.equal(c.next(), false, "empty once left");
  // The abandoned dump is read to its end and discarded; the next dump then runs.
  const next = collect(sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }));
  await settle();
  assert.equal(asked.length, 2, "the next dump ran once the abandoned one ended");
  t.deliver([part(asked[1], 5), done(asked[1], 0, NLM_F_MULTI)]);
  assert.deepEqual(firstBytes((await next).got), [5]);
  const ac = new AbortController();
  const aborted = walkSteps(
    sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }, { signal: ac.signal }).cursor(),
  );
  await settle();
  ac.abort(new Error("stop here"));
  assert.match(String((await aborted).error), /stop here/);
  t.deliver([done(asked[2], 0, NLM_F_MULTI)]);
  const closing = walkSteps(sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }).cursor());
  await settle();
  t.deliver([part(asked[3], 6)]);
  await settle();
  sock.close();
  const closed = await closing;
  assert.deepEqual(closed.steps, [[6]]);
  assert.ok(closed.error instanceof SocketClosedError);
});

test("dump().cursor(): a datagram's parts and its NLMSG_DONE in one step while a datagrams() or cursor() iteration is open", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  for (const open of [() => sock.datagrams(), () => sock.cursor()]) {
    // A monitor on the same socket: it takes, whole, the datagrams no request claims.
    const monitor = open();
    const parked = monitor.next();
    const walked = walkSteps(
      sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }).cursor(),
    );
    await settle();
    const d = asked.at(-1)!;
    t.deliver([part(d, 1), part(d, 2)]);
    t.deliver([part(d, 3), part(d, 4), done(d, 0, NLM_F_MULTI)]);
    assert.deepEqual(await walked, { steps: [[1, 2], [3, 4]], error: undefined });
    await monitor.return!();
    assert.equal((await parked).done, true, "the monitor got nothing");
  }
  sock.close();
});

/** A datagram of `request`'s parts `a` and `b`, cut 6 bytes short: 14 left of the second's header. */
const truncatedParts = (request: Message, a: number, b: number) => {
  const bytes = encodeMessages([part(request, a), part(request, b)]);
  return bytes.subarray(0, bytes.length - 6);
};

/** Nothing is queued for `sock`'s message stream: a step waits, and times out. */
const streamEmpty = (sock: NetlinkSocket) =>
  assert.rejects(
    sock.messages({ signal: AbortSignal.timeout(50) }).next(),
    (e: unknown) => e instanceof DOMException && e.name === "TimeoutError",
  );

test("dump() and request() to the kernel: a malformed datagram naming it (a faulty module's) fails it at once, not at an end that may never come; what follows is discarded", async () => {
  for (const consumer of ["request", "for await", "forEach", "cursor"] as const) {
    const { sock, t } = await fakeSocket();
    const asked: Message[] = [];
    t.script = (req) => asked.push(req);
    const dump = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) });
    const seen: number[] = [];
    const running = consumer === "request"
      ? sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) })
        .then((replies) => void seen.push(...firstBytes(replies)))
      : consumer === "forEach"
      ? dump.forEach((m) => void seen.push(m.payload[0]))
      : consumer === "cursor"
      ? walkSteps(dump.cursor()).then(({ steps, error }) => {
        seen.push(...steps.flat());
        if (error) throw error;
      })
      : collect(dump, (m) => m.payload[0]).then(({ got, error }) => {
        seen.push(...got);
        if (error) throw error;
      });
    await settle();
    const [req] = asked;
    t.deliver([part(req, 1)]);
    t.deliver(truncatedParts(req, 2, 3));
    // No NLMSG_DONE: the dump fails anyway, saying what was malformed.
    await assert.rejects(running, (err: unknown) => {
      assert.ok(err instanceof MalformedMessageError, `${consumer}: ${err}`);
      assert.match(err.message, /14 trailing bytes are too short .* \(at byte 20\)/, consumer);
      return true;
    });
    if (consumer !== "request") assert.deepEqual(seen, [1], consumer);
    // The queue was read empty, so no dump runs: the slot is free, the next dump runs, whole.
    const next = sock.request({
      type: RTM_GETLINK,
      flags: NLM_F_DUMP,
      payload: new Uint8Array(16),
    });
    await settle();
    t.deliver([part(asked[1], 5), done(asked[1], 0, NLM_F_MULTI)]);
    assert.deepEqual(firstBytes(await next), [5], consumer);
    sock.close();
  }
  // A plain request: its answer was garbled, and no ack comes.
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const requested = sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  await settle();
  t.deliver(truncatedParts(asked[0], 1, 2));
  await assert.rejects(requested, MalformedMessageError);
  // A dump whose rest is queued behind the garbage, as the kernel queues a running dump's next
  // part: the rest is discarded, not the stream's, and the dump's NLMSG_DONE frees its slot.
  const dumped = collect(sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }));
  await settle();
  t.deliver(truncatedParts(asked[1], 1, 2));
  t.deliver([part(asked[1], 3), done(asked[1], 0, NLM_F_MULTI)]);
  const { got, error } = await dumped;
  assert.deepEqual(got, []);
  assert.ok(error instanceof MalformedMessageError, String(error));
  const next = collect(sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }));
  await settle();
  t.deliver([part(asked[2], 4), done(asked[2], 0, NLM_F_MULTI)]);
  assert.deepEqual((await next).got.map((m) => m.payload[0]), [4]);
  // The errors were the requests' alone, as their replies are: the stream has none of them (a
  // monitor on the socket ended with it), nor anything else.
  await streamEmpty(sock);
  sock.close();
});

test("a monitor on the socket goes on when a request's answer is malformed: the error is the request's alone, as its reply would be", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const monitor = sock.messages()[Symbol.asyncIterator]();
  const first = monitor.next();
  const requested = sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  await settle();
  t.deliver(truncatedParts(asked[0], 1, 2));
  await assert.rejects(requested, MalformedMessageError);
  // Not ended by it (its step got the request's error too, which ended it): the event comes.
  t.deliver([event(7)], 0, 1);
  assert.equal((await first).value!.payload[0], 7);
  // Garbage no request is owed is the monitor's, as ever.
  t.deliver(new Uint8Array(7));
  await assert.rejects(monitor.next(), MalformedMessageError);
  sock.close();
});

test("a malformed datagram from the kernel with no header naming a pending request fails every request to the kernel at once (any may have lost its answer); a dump still running keeps its slot until it is read empty", async () => {
  const kernel = new FakeKernel();
  const { sock, t } = await fakeSocket({}, () => {}, NETLINK_USERSOCK, kernel);
  const peer = kernel.open(NETLINK_USERSOCK, { portid: 5000 });
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  for (const garbage of [new Uint8Array(7), new Uint8Array(20).fill(0xff)]) {
    const plain = sock.request({ type: 0x20, payload: new Uint8Array(4) });
    const dumped = collect(sock.dump({ type: 0x20 }));
    const toPeer = sock.request({ type: 0x20 }, { to: 5000 });
    await settle();
    t.deliver(garbage);
    await assert.rejects(plain, MalformedMessageError);
    const { got, error } = await dumped;
    assert.deepEqual(got, []);
    assert.ok(error instanceof MalformedMessageError, String(error));
    // The peer's request is not the kernel's: it is still answered.
    const [fromPeer] = decodeMessages(peer.receive()!.data);
    peer.send(
      encodeMessages([reply(fromPeer, 0x21, new Uint8Array([9])), ack(fromPeer)]),
      sock.portid,
      0,
    );
    assert.deepEqual(firstBytes(await toPeer), [9]);
    await streamEmpty(sock); // the requests' error alone
  }
  // Garbage that answers no request (none is pending) is the stream's.
  t.deliver(new Uint8Array(7));
  await assert.rejects(sock.messages().next(), MalformedMessageError);
  // The queue read empty, no dump runs: the next one is sent at once.
  const count = asked.length;
  const next = collect(sock.dump({ type: 0x20 }));
  await settle();
  assert.equal(asked.length, count + 1);
  t.deliver([part(asked[count], 6), done(asked[count], 0, NLM_F_MULTI)]);
  assert.deepEqual((await next).got.map((m) => m.payload[0]), [6]);
  sock.close();
});

test("a malformed datagram from the kernel naming an abandoned request, or multicast, fails no pending request", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const ac = new AbortController();
  const left = sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }, {
    signal: ac.signal,
  });
  await settle();
  ac.abort(new Error("left"));
  await assert.rejects(left, /left/);
  const pending = sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  await settle();
  t.deliver(truncatedParts(asked[0], 1, 2)); // the abandoned one's answer, garbled
  t.deliver(truncatedParts(asked[1], 3, 4), 0, 1); // multicast with its number
  t.deliver([ack(asked[0])]);
  t.deliver([reply(asked[1], RTM_NEWLINK, new Uint8Array([5])), ack(asked[1])]);
  assert.deepEqual(firstBytes(await pending), [5]);
  // The multicast one is the stream's; the abandoned request's garbled answer is discarded, as
  // its ack is.
  await assert.rejects(sock.messages().next(), MalformedMessageError);
  await streamEmpty(sock);
  sock.close();
});

test("dump() and request() to a user-space peer: a malformed datagram from it fails them (their answers may be in it); what follows is discarded", async () => {
  const kernel = new FakeKernel();
  const { sock } = await fakeSocket({}, () => {}, NETLINK_USERSOCK, kernel);
  const peer = kernel.open(NETLINK_USERSOCK, { portid: 5000 });
  const answer = (build: (req: Message) => Uint8Array) => {
    const [req] = decodeMessages(peer.receive()!.data);
    peer.send(build(req), sock.portid, 0);
    return req;
  };
  const truncated = (req: Message) => {
    const bytes = encodeMessages([part(req, 1), part(req, 2)]);
    return bytes.subarray(0, bytes.length - 6); // the second part's header claims 17 bytes of 14
  };
  const walked = walkSteps(sock.dump({ type: 0x20 }, { to: 5000 }).cursor());
  await settle();
  const req = answer(truncated);
  peer.send(encodeMessages([part(req, 3), done(req, 0, NLM_F_MULTI)]), sock.portid, 0);
  const { steps, error } = await walked;
  assert.deepEqual(steps, []);
  assert.ok(error instanceof MalformedMessageError, String(error));
  const iterated = collect(sock.dump({ type: 0x20 }, { to: 5000 }));
  await settle();
  const again = answer(truncated);
  peer.send(encodeMessages([part(again, 3), done(again, 0, NLM_F_MULTI)]), sock.portid, 0);
  const { got, error: thrown } = await iterated;
  assert.deepEqual(got, []);
  assert.ok(thrown instanceof MalformedMessageError, String(thrown));
  // The socket goes on: a well-formed dump to the peer is answered whole.
  const whole = walkSteps(sock.dump({ type: 0x20 }, { to: 5000 }).cursor());
  await settle();
  answer((r) => encodeMessages([part(r, 4), part(r, 5), done(r, 0, NLM_F_MULTI)]));
  assert.deepEqual(await whole, { steps: [[4, 5]], error: undefined });
  // request() to the peer, as its JSDoc says; the ack that follows the garbage is discarded.
  const requested = sock.request({ type: 0x20 }, { to: 5000 });
  await settle();
  const asked = answer(() => new Uint8Array(7));
  peer.send(encodeMessages([ack(asked)]), sock.portid, 0);
  await assert.rejects(requested, MalformedMessageError);
  // The malformed datagrams' errors were the requests' alone, and the parts that followed them
  // are discarded: the stream gets what the peer sends of its own, next.
  peer.send(encodeMessages([event(6)]), sock.portid, 0);
  assert.equal((await sock.messages().next()).value!.payload[0], 6);
  // Garbage from the peer when no request to it is pending is the stream's.
  peer.send(new Uint8Array(7), sock.portid, 0);
  await assert.rejects(sock.messages().next(), MalformedMessageError);
  sock.close();
});

test("dump().cursor() on a socket with nothing else going: a multicast datagram and a peer's datagram between its parts go where they always went (kept for the first iteration), its parts to the dump", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const walked = walkSteps(sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }).cursor());
  await settle();
  const d = asked[0];
  t.deliver([part(d, 1), part(d, 2)]);
  t.deliver([event(7)], 0, 1); // the kernel's multicast, group 1
  // A peer's datagram with the dump's sequence number: only the kernel answers the dump.
  t.deliver([part(d, 8)], 4242);
  t.deliver([part(d, 3), done(d, 0, NLM_F_MULTI)]);
  assert.deepEqual(await walked, { steps: [[1, 2], [3]], error: undefined });
  const stream = sock.messages();
  const kept = [(await stream.next()).value, (await stream.next()).value] as ReceivedMessage[];
  assert.deepEqual(kept.map((m) => [m.payload[0], m.sender, m.group]), [[7, 0, 1], [8, 4242, 0]]);
  await stream.return!();
  sock.close();
});

test("dump().cursor(): a close between its datagrams, with the next one queued, ends it at the next step; the cursor is empty", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const cursor = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }).cursor();
  const first = cursor.next();
  await settle();
  t.deliver([part(asked[0], 1)]);
  t.deliver([part(asked[0], 2)]);
  const c = (await first).value as MessageCursor;
  assert.ok(c.next());
  sock.close();
  assert.equal(c.next(), false, "the step's datagram was its last part handed out");
  await assert.rejects(cursor.next(), SocketClosedError);
  assert.equal(c.length, 0, "empty once the iteration has ended");
  assert.deepEqual(await cursor.next(), { value: undefined, done: true });
});
