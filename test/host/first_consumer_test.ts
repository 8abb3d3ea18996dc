// What a socket reads while no consumer is open (a request to a peer is in flight: its reads take
// the multicast along) waits for the first consumer to open, in order, whatever its kind: as
// messages for messages(), batches() and listen(), whole for datagrams() and cursor(). Before,
// it always went to the message stream, and a cursor() or datagrams() opened next never saw it.
// On the real kernel: NETLINK_USERSOCK multicast, in a namespace of its own.

import assert from "node:assert/strict";
import { test } from "node:test";
import { NETLINK_USERSOCK } from "../../src/constants.ts";
import { encodeMessages, type Message, type ReceivedMessage } from "../../src/message.ts";
import { open } from "../../src/open.ts";
import type { NetlinkSocket } from "../../src/socket.ts";
import { ackMessage } from "../../src/testing/mod.ts";
import { Netns } from "./_netns.ts";

/** A message carrying `index` (u32). */
const indexed = (index: number): Message => ({
  type: 0x10,
  flags: 0,
  seq: 0,
  portid: 0,
  payload: new Uint8Array(new Uint32Array([index]).buffer),
});
const indexOf = (m: ReceivedMessage) =>
  new DataView(m.payload.buffer, m.payload.byteOffset).getUint32(0, true);
/** Not netlink messages: a header whose nlmsg_len (0) is below the header's size. */
const GARBAGE = new Uint8Array(20);

/**
 * `sock` (group 1) with a request to `peer` in flight, meanwhile reading what `peer` sends:
 * multicast datagrams [1], [2, 3] and garbage, then the answer in one datagram with a message of
 * the peer's own, [9] (what is left of it once the answer is claimed). Resolves once read.
 * `backlog`: the socket's.
 */
async function readWithNothingOpen(
  ns: Netns,
  backlog?: number,
): Promise<{ sock: NetlinkSocket; peer: NetlinkSocket }> {
  const sock = await open(NETLINK_USERSOCK, { netns: ns.name, groups: [1], backlog });
  const peer = await open(NETLINK_USERSOCK, { netns: ns.name });
  const asked = peer.messages();
  const answer = sock.request(indexed(0), { to: peer.portid, timeout: 10_000 });
  const request = (await asked.next()).value!;
  await asked.return!();
  peer.send(indexed(1), { group: 1 });
  peer.send(encodeMessages([indexed(2), indexed(3)]), { group: 1 });
  peer.send(GARBAGE, { group: 1 });
  peer.send(encodeMessages([ackMessage(request), indexed(9)]), { portid: sock.portid });
  assert.deepEqual(await answer, []);
  return { sock, peer };
}

/** The indexes of the messages in `data`, one datagram. */
function indexesIn(data: Uint8Array): number[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: number[] = [];
  for (let at = 0; at < data.byteLength; at += 20) out.push(view.getUint32(at + 16, true));
  return out;
}

for (const mode of ["cursor", "datagrams"] as const) {
  test(`${mode}() opened after a request's reads gets the datagrams they took first, whole and in order`, async () => {
    using ns = new Netns();
    const { sock, peer } = await readWithNothingOpen(ns);
    await using _sock = sock;
    await using _peer = peer;
    const signal = AbortSignal.timeout(5_000);
    const got: (number[] | "garbage")[] = [];
    let sent = false;
    const live = () => {
      if (!sent) peer.send(indexed(4), { group: 1 });
      sent = true;
    };
    if (mode === "cursor") {
      const onMalformed = () => void got.push("garbage");
      for await (const c of sock.cursor({ signal, onMalformed })) {
        const datagram: number[] = [];
        while (c.next()) datagram.push(c.view.getUint32(c.byteOffset + c.payloadOffset, true));
        if (datagram.length > 0) got.push(datagram);
        if (datagram.includes(4)) break;
        live();
      }
    } else {
      for await (const { data } of sock.datagrams({ signal })) {
        const datagram = data[4] === 0 && data[0] === 0 ? "garbage" : indexesIn(data);
        got.push(datagram);
        if (datagram !== "garbage" && datagram.includes(4)) break;
        live();
      }
    }
    assert.deepEqual(got, [[1], [2, 3], "garbage", [4]]);
    // What was left of the answer's datagram is the message stream's, as it would have been.
    const messages = sock.messages({ signal });
    assert.equal(indexOf((await messages.next()).value!), 9);
    await messages.return!();
  });
}

for (const mode of ["messages", "listen"] as const) {
  test(`${mode}() opened after a request's reads gets the messages they took first, in order`, async () => {
    using ns = new Netns();
    const { sock, peer } = await readWithNothingOpen(ns);
    await using _sock = sock;
    await using _peer = peer;
    const got: (number | "garbage")[] = [];
    const onMalformed = () => void got.push("garbage");
    const controller = new AbortController();
    const signal = AbortSignal.any([AbortSignal.timeout(5_000), controller.signal]);
    const take = (m: ReceivedMessage) => {
      if (got.push(indexOf(m)) === 1) peer.send(indexed(4), { group: 1 });
      return indexOf(m) === 4;
    };
    if (mode === "messages") {
      for await (const m of sock.messages({ signal, onMalformed })) if (take(m)) break;
    } else {
      await sock.listen((m) => void (take(m) && controller.abort()), { signal, onMalformed })
        .catch((err) => {
          if (!controller.signal.aborted) throw err;
        });
    }
    assert.deepEqual(got, [1, 2, 3, "garbage", 9, 4]);
  });
}

test("the first consumer to open takes what was read with nothing open: a cursor() opened after a messages() that ended does not", async () => {
  using ns = new Netns();
  const { sock, peer } = await readWithNothingOpen(ns);
  await using _sock = sock;
  await using _peer = peer;
  const signal = AbortSignal.timeout(5_000);
  await sock.messages({ signal }).return!(); // opened first: the messages are its stream's now
  peer.send(indexed(4), { group: 1 });
  for await (const c of sock.cursor({ signal })) {
    assert.ok(c.next());
    assert.equal(c.view.getUint32(c.byteOffset + c.payloadOffset, true), 4);
    assert.ok(!c.next());
    break;
  }
  const got: (number | "garbage")[] = [];
  const onMalformed = () => void got.push("garbage");
  for await (const m of sock.batches({ signal, onMalformed })) {
    got.push(...m.map(indexOf));
    if (got.includes(9)) break;
  }
  assert.deepEqual(got, [1, 2, 3, "garbage", 9]);
});

test("what waits for the first consumer is capped at the backlog: one overrun stands for the rest", async () => {
  using ns = new Netns();
  const { sock, peer } = await readWithNothingOpen(ns, 3); // room for [1] and [2, 3]
  await using _sock = sock;
  await using _peer = peer;
  assert.equal(sock.overruns, 1);
  const got: (number[] | "overrun")[] = [];
  peer.send(indexed(4), { group: 1 });
  for await (const c of sock.cursor({ signal: AbortSignal.timeout(5_000) })) {
    if (c.overrun) got.push("overrun"); // the step's start: c.next() may go on to the next
    const datagram: number[] = [];
    while (c.next()) datagram.push(c.view.getUint32(c.byteOffset + c.payloadOffset, true));
    if (datagram.length > 0) got.push(datagram);
    if (datagram.includes(4)) break;
  }
  assert.deepEqual(got, [[1], [2, 3], "overrun", [4]]);
});

for (const mode of ["listen", "messages"] as const) {
  test(`${mode}() handed a backlog-full hold gets all of it and its one overrun, counted once`, async () => {
    // backlog 3: [1], [2, 3] held, then the overrun standing for the garbage and [9]. Handed
    // over, they were capped again: listen() fills the stream's queue before it takes it, so the
    // marker, past a full queue, was dropped as a new run and counted a second time.
    using ns = new Netns();
    const { sock, peer } = await readWithNothingOpen(ns, 3);
    await using _sock = sock;
    await using _peer = peer;
    assert.equal(sock.overruns, 1);
    const got: (number | "overrun")[] = [];
    const take = (m: ReceivedMessage) => void got.push(m.type === 4 ? "overrun" : indexOf(m));
    peer.send(indexed(4), { group: 1 });
    const signal = AbortSignal.timeout(5_000);
    if (mode === "listen") {
      const stop = new AbortController();
      const done = sock.listen((m) => {
        take(m);
        if (got.includes(4)) stop.abort();
      }, { signal: AbortSignal.any([stop.signal, signal]) });
      await assert.rejects(done, (e) => e === stop.signal.reason);
    } else {
      for await (const m of sock.messages({ signal })) {
        take(m);
        if (got.includes(4)) break;
      }
    }
    assert.deepEqual(got, [1, 2, 3, "overrun", 4]);
    assert.equal(sock.overruns, 1);
  });
}
