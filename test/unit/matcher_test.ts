// The matcher on its own: synchronous, no I/O, no socket. Messages go in, requests come out
// answered, abandoned answers are discarded, dumps take turns.

import assert from "node:assert/strict";
import { test } from "node:test";
import { ABANDONED_PEER_LIMIT, Matcher, type Pending } from "../../src/_matcher.ts";
import {
  NLM_F_DUMP_INTR,
  NLM_F_MULTI,
  NLMSG_DONE,
  NLMSG_NOOP,
  RTM_NEWADDR,
  RTM_NEWLINK,
} from "../../src/constants.ts";
import { NetlinkError, SyscallError } from "../../src/errors.ts";
import { encodeMessages, NLMSG_HDRLEN, type ReceivedMessage } from "../../src/message.ts";
import { ackMessage, doneMessage } from "../../src/testing/mod.ts";

interface Probe extends Pending {
  parts: ReceivedMessage[];
  outcome?: { error?: unknown };
  ack?: unknown;
}

function probe(
  matcher: Matcher,
  fields: Partial<Pick<Pending, "from" | "dump" | "endsAtDone" | "echo">> = {},
): Probe {
  const p: Probe = {
    seq: matcher.nextSeq(),
    from: 0,
    dump: false,
    endsAtDone: false,
    echo: false,
    ...fields,
    interrupted: false,
    parts: [],
    push: (m) => p.parts.push(m),
    acked: (ack) => p.ack = ack,
    finish: (error) => {
      if (matcher.remove(p)) p.outcome = { error };
    },
  };
  matcher.add(p);
  return p;
}

const received = (
  fields: Partial<ReceivedMessage> & { seq: number },
): ReceivedMessage => ({
  type: RTM_NEWLINK,
  flags: 0,
  portid: 0,
  payload: new Uint8Array(4),
  sender: 0,
  group: 0,
  ...fields,
});
const fromAck = (p: Probe, errno = 0, sender = 0): ReceivedMessage => ({
  ...ackMessage({ type: 0x10, flags: 5, seq: p.seq, portid: 0, payload: new Uint8Array() }, errno),
  sender,
  group: 0,
});

test("a reply and its ack answer the request; the ack's outcome ends it", () => {
  const m = new Matcher(100);
  const p = probe(m);
  assert.equal(p.seq, 101);
  assert.ok(m.claim(received({ seq: p.seq })));
  assert.equal(p.parts.length, 1);
  assert.equal(p.outcome, undefined);
  assert.ok(m.claim(fromAck(p)));
  assert.deepEqual(p.outcome, { error: undefined });
  assert.equal(m.pending.size, 0);
  // The same seq again is nobody's.
  assert.equal(m.claim(fromAck(p)), false);
});

test("an error ack ends the request with NetlinkError", () => {
  const m = new Matcher();
  const p = probe(m);
  m.claim(fromAck(p, 17));
  assert.ok(p.outcome?.error instanceof NetlinkError);
  assert.equal((p.outcome!.error as NetlinkError).code, "EEXIST");
});

test("multicast, and unicast from another sender, answer nothing", () => {
  const m = new Matcher();
  const p = probe(m);
  assert.equal(m.claim(received({ seq: p.seq, group: 1 })), false);
  assert.equal(m.claim(fromAck(p, 0, 31337)), false);
  assert.equal(p.outcome, undefined);
  const peer = probe(m, { from: 77 });
  assert.equal(m.claim(fromAck(peer, 0, 0)), false, "the kernel can't answer a peer's request");
  assert.ok(m.claim(fromAck(peer, 0, 77)));
});

test("NLM_F_ECHO: the kernel's group-tagged copy answers the request", () => {
  const m = new Matcher();
  const p = probe(m, { echo: true });
  assert.ok(m.echoing);
  assert.ok(m.claim(received({ seq: p.seq, group: 5, type: RTM_NEWADDR })));
  assert.equal(p.parts[0].type, RTM_NEWADDR);
  assert.equal(m.claim(received({ seq: p.seq, group: 5, sender: 9 })), false, "not from a peer");
  m.claim(fromAck(p));
  assert.equal(m.echoing, false);
});

test("dumps end at NLMSG_DONE; NLM_F_DUMP_INTR marks them; a multipart reply's DONE does not end a request", () => {
  const m = new Matcher();
  const dump = probe(m, { dump: true, endsAtDone: true });
  m.claim(received({ seq: dump.seq, flags: NLM_F_MULTI | NLM_F_DUMP_INTR }));
  m.claim({
    ...doneMessage({ type: 0, flags: 0, seq: dump.seq, portid: 0, payload: new Uint8Array() }),
    sender: 0,
    group: 0,
  });
  assert.ok(dump.interrupted);
  assert.deepEqual(dump.outcome, { error: undefined });
  const plain = probe(m);
  m.claim(received({ seq: plain.seq, flags: NLM_F_MULTI }));
  m.claim(received({ seq: plain.seq, type: NLMSG_DONE, flags: NLM_F_MULTI }));
  assert.equal(plain.outcome, undefined, "its ack ends it");
  m.claim(fromAck(plain));
  assert.equal(plain.parts.length, 1);
});

test("a success ack's warning and cookie go to acked()", () => {
  const m = new Matcher();
  const p = probe(m);
  const ack = ackMessage(
    { type: 0x10, flags: 5, seq: p.seq, portid: 0, payload: new Uint8Array() },
    0,
    {
      message: "careful",
      cookie: Uint8Array.of(9),
    },
  );
  m.claim({ ...ack, sender: 0, group: 0 });
  assert.deepEqual(p.ack, {
    errno: 0,
    requestType: 0x10,
    requestSeq: p.seq,
    detail: "careful",
    cookie: Uint8Array.of(9),
  });
});

test("abandoned answers are discarded until the one that ends them", () => {
  const m = new Matcher();
  const p = probe(m);
  m.abandon(p);
  assert.equal(m.pending.size, 0);
  assert.equal(m.abandoned, 1);
  assert.ok(m.claim(received({ seq: p.seq })), "a late reply is discarded");
  assert.ok(m.claim(received({ seq: p.seq, type: NLMSG_DONE, flags: NLM_F_MULTI })));
  assert.equal(m.abandoned, 1, "a non-dump's DONE does not end it");
  assert.ok(m.claim(fromAck(p)));
  assert.equal(m.abandoned, 0);
  assert.equal(m.claim(fromAck(p)), false);
});

test("abandoned kernel requests are never forgotten for peers' sake; peers' are bounded", () => {
  const m = new Matcher();
  const kernel = probe(m);
  m.abandon(kernel);
  for (let i = 0; i < ABANDONED_PEER_LIMIT + 500; i++) m.abandon(probe(m, { from: 5 }));
  assert.equal(m.abandoned, ABANDONED_PEER_LIMIT + 1);
  assert.ok(m.claim(fromAck(kernel)), "the kernel's late ack is still discarded");
});

test("an overrun puts the kernel's plain requests at risk, not dumps or peers'; drained() fails them", () => {
  const m = new Matcher();
  const plain = probe(m);
  const dump = probe(m, { dump: true, endsAtDone: true });
  const peer = probe(m, { from: 9 });
  const answered = probe(m);
  const lost = probe(m);
  m.abandon(lost);
  m.overrun(new SyscallError("recvmsg", 105));
  m.claim(fromAck(answered)); // its answer was queued before the drop
  m.drained();
  assert.ok(plain.outcome?.error instanceof SyscallError);
  assert.equal((plain.outcome!.error as SyscallError).code, "ENOBUFS");
  assert.deepEqual(answered.outcome, { error: undefined });
  assert.equal(dump.outcome, undefined);
  assert.equal(peer.outcome, undefined);
  assert.equal(m.abandoned, 0, "an abandoned answer lost to the overrun is no longer expected");
});

test("a kernel request sent after an overrun, before the queue was read empty, is at risk too", () => {
  // The kernel keeps the socket congested until its queue is read empty, dropping every answer
  // meanwhile with no further ENOBUFS: a route monitor's link-name lookup waited for good.
  const m = new Matcher();
  m.overrun(new SyscallError("recvmsg", 105));
  const lost = probe(m);
  const answered = probe(m);
  const dump = probe(m, { dump: true, endsAtDone: true });
  const peer = probe(m, { from: 9 });
  m.claim(fromAck(answered)); // queued after all: there was room
  m.drained();
  assert.equal((lost.outcome?.error as SyscallError).code, "ENOBUFS");
  assert.deepEqual(answered.outcome, { error: undefined });
  assert.equal(dump.outcome, undefined);
  assert.equal(peer.outcome, undefined);
  const after = probe(m); // the queue was read empty: the socket takes answers again
  m.drained();
  assert.equal(after.outcome, undefined);
});

test("a request sent while congested survives a stale drain: its answer may be read after it", () => {
  const m = new Matcher();
  m.overrun(new SyscallError("recvmsg", 105));
  const sent = probe(m);
  m.drained(true); // found empty before what was read meanwhile, perhaps before it was sent
  assert.ok(!sent.outcome, "still pending");
  m.drained(); // found empty now: its answer is lost
  assert.equal(((sent as Probe).outcome?.error as SyscallError).code, "ENOBUFS");
});

test("a request failed by a lost datagram (EMSGSIZE) no longer expects its answer once the queue is drained", () => {
  const m = new Matcher();
  const plain = probe(m);
  m.lost(new SyscallError("recvmsg", 90)); // EMSGSIZE: a datagram past the buffer, dropped
  assert.equal((plain.outcome?.error as SyscallError).code, "EMSGSIZE");
  assert.equal(m.abandoned, 1, "its answer may still be queued behind the lost datagram");
  m.drained();
  assert.equal(m.abandoned, 0, "read to the end of the queue: no answer is owed");
});

test("one dump at a time: queued dumps start when the running one ends, or is abandoned and read", () => {
  const m = new Matcher();
  const started: string[] = [];
  const a = probe(m, { dump: true, endsAtDone: true });
  m.whenDumpSlotFree({ start: () => (started.push("a"), m.takeDumpSlot(a.seq)) });
  const b = probe(m, { dump: true, endsAtDone: true });
  m.whenDumpSlotFree({ start: () => (started.push("b"), m.takeDumpSlot(b.seq)) });
  const c = probe(m, { dump: true, endsAtDone: true });
  const withdraw = m.whenDumpSlotFree({ start: () => started.push("c") });
  assert.deepEqual(started, ["a"]);
  assert.ok(m.dumpsQueued);
  withdraw(); // c gave up while queued
  const done = (p: Probe): ReceivedMessage => ({
    ...doneMessage({ type: 0, flags: 0, seq: p.seq, portid: 0, payload: new Uint8Array() }),
    sender: 0,
    group: 0,
  });
  m.abandon(a); // left early: the slot stays a's until its DONE is read
  assert.deepEqual(started, ["a"]);
  m.claim(done(a));
  assert.deepEqual(started, ["a", "b"]);
  m.claim(done(b));
  assert.deepEqual(started, ["a", "b"]);
  assert.equal(m.dumpsQueued, false);
  assert.equal(c.outcome, undefined, "c never started");
});

test("an abandoned kernel dump frees the slot once the queue is read empty, answered or not: no dump runs then", () => {
  // A dump the kernel runs has a part queued until its NLMSG_DONE is read. One that answered a
  // single message and no NLMSG_DONE (nftables' NFT_MSG_GETGEN) ran as a plain get.
  const m = new Matcher();
  const started: string[] = [];
  const a = probe(m, { dump: true, endsAtDone: true });
  m.whenDumpSlotFree({ start: () => (started.push("a"), m.takeDumpSlot(a.seq)) });
  m.claim(received({ seq: a.seq }));
  assert.equal(a.parts.length, 1);
  const b = probe(m, { dump: true, endsAtDone: true });
  m.whenDumpSlotFree({ start: () => (started.push("b"), m.takeDumpSlot(b.seq)) });
  m.abandon(a); // its timeout
  assert.ok(m.drainOwed);
  m.drained(true); // found empty before what was read since: proves nothing
  assert.deepEqual(started, ["a"]);
  m.drained();
  assert.deepEqual(started, ["a", "b"]);
  assert.equal(m.abandoned, 0);
});

test("sequence numbers wrap around, skipping 0", () => {
  const m = new Matcher(0xffff_fffe);
  assert.equal(probe(m).seq, 0xffff_ffff);
  assert.equal(m.nextSeq(), 1);
});

test("failAll ends every pending request", () => {
  const m = new Matcher();
  const a = probe(m), b = probe(m, { dump: true, endsAtDone: true });
  m.failAll(new Error("closed"));
  assert.match(String(a.outcome?.error), /closed/);
  assert.match(String(b.outcome?.error), /closed/);
  assert.equal(m.pending.size, 0);
});

test("claimAll: a dump's consecutive parts go over as runs, in order with everything else", () => {
  const matcher = new Matcher(100);
  const dump = probe(matcher, { dump: true, endsAtDone: true });
  const runs: [number, number][] = [];
  dump.pushRun = (messages, start, end) => {
    runs.push([start, end]);
    dump.parts.push(...messages.slice(start, end));
  };
  const plain = probe(matcher);
  const unclaimed: ReceivedMessage[] = [];
  const datagram = [
    received({ seq: dump.seq, type: RTM_NEWLINK }),
    received({ seq: dump.seq, type: RTM_NEWADDR }),
    received({ seq: plain.seq }), // another request's reply splits the run
    received({ seq: dump.seq, flags: NLM_F_DUMP_INTR }),
    received({ seq: 7 }), // nobody's
    received({ seq: dump.seq }),
    received({ seq: dump.seq, group: 3 }), // multicast answers no dump
    fromAck(plain),
    {
      ...doneMessage(
        { type: 0, flags: 0, seq: dump.seq, portid: 0, payload: new Uint8Array() },
        0,
        {},
        NLM_F_MULTI,
      ),
      sender: 0,
      group: 0,
    },
  ];
  matcher.claimAll(datagram, (m) => unclaimed.push(m));
  assert.deepEqual(runs, [[0, 2], [3, 4], [5, 6]]);
  assert.deepEqual(dump.parts, [datagram[0], datagram[1], datagram[3], datagram[5]]);
  assert.equal(dump.interrupted, true);
  assert.deepEqual(dump.outcome, { error: undefined }, "NLMSG_DONE ended the dump");
  assert.deepEqual(plain.parts, [datagram[2]]);
  assert.deepEqual(plain.outcome, { error: undefined });
  assert.deepEqual(unclaimed, [datagram[4], datagram[6]]);
});

/** A probe that takes datagrams as bytes, as a dump read by runs does. */
function datagramProbe(matcher: Matcher, from = 0) {
  const p = probe(matcher, { dump: true, endsAtDone: true, from });
  const datagrams: [Uint8Array, number][] = [];
  p.pushDatagram = (data, count) => datagrams.push([data, count]);
  return { p, datagrams };
}

const part = (seq: number, n: number, flags = NLM_F_MULTI) => ({
  type: RTM_NEWLINK,
  flags,
  seq,
  portid: 0,
  payload: new Uint8Array([n, 0, 0]), // 19 bytes: the next header starts after padding
});

test("claimDatagram: a datagram of data parts goes whole, as bytes, to a dump that takes them", () => {
  const m = new Matcher();
  const { p, datagrams } = datagramProbe(m);
  const data = encodeMessages([part(p.seq, 1), part(p.seq, 2), part(p.seq, 3)]);
  assert.ok(m.claimDatagram(data, 0));
  assert.deepEqual(datagrams, [[data, 3]]);
  assert.equal(p.interrupted, false);
  assert.deepEqual(p.parts, [], "no message objects");
  // NLM_F_DUMP_INTR on any part marks the dump interrupted, as claimAll does.
  assert.ok(m.claimDatagram(encodeMessages([part(p.seq, 4), part(p.seq, 5, NLM_F_DUMP_INTR)]), 0));
  assert.equal(datagrams[1][1], 2);
  assert.equal(p.interrupted, true);
  assert.equal(p.outcome, undefined, "still running");
  // A datagram that starts inside its buffer (a slab's), at a 4-byte boundary, reads the same.
  const parts = encodeMessages([part(p.seq, 6), part(p.seq, 7)]);
  const slab = new Uint8Array(8 + parts.length + 4);
  slab.set(parts, 8);
  assert.ok(m.claimDatagram(slab.subarray(8, 8 + parts.length), 0));
  assert.equal(datagrams[2][1], 2);
});

test("claimDatagram leaves every other datagram to claimAll, untouched", () => {
  const m = new Matcher();
  const { p, datagrams } = datagramProbe(m);
  const plain = probe(m, { dump: true, endsAtDone: true });
  const other = probe(m);
  const done = { ...doneMessage({ ...part(p.seq, 0), type: 0x12 }, 0, {}, NLM_F_MULTI) };
  const refused: [string, Uint8Array, number?][] = [
    ["its NLMSG_DONE", encodeMessages([part(p.seq, 1), done])],
    ["another request's reply", encodeMessages([part(p.seq, 1), part(other.seq, 2)])],
    ["another request's parts first", encodeMessages([part(other.seq, 2), part(p.seq, 1)])],
    ["a dump that takes messages", encodeMessages([part(plain.seq, 1)])],
    ["from another sender", encodeMessages([part(p.seq, 1)]), 42],
    ["a header shorter than 16 bytes", new Uint8Array(12)],
    ["an empty datagram", new Uint8Array(0)],
  ];
  // nlmsg_len running past the end, and too short to be a header: decodeDatagram's errors.
  const long = encodeMessages([part(p.seq, 1)]);
  new DataView(long.buffer).setUint32(0, 64, true);
  refused.push(["nlmsg_len past the end", long]);
  const short = encodeMessages([part(p.seq, 1)]);
  new DataView(short.buffer).setUint32(0, 8, true);
  refused.push(["nlmsg_len below the header", short]);
  // The largest length: the walk's step to the next header must not wrap to none (a loop).
  const largest = encodeMessages([part(p.seq, 1)]);
  new DataView(largest.buffer).setUint32(0, 0xffff_ffff, true);
  refused.push(["nlmsg_len 2^32 - 1", largest]);
  // A last message without its padding: the kernel pads every message, so this is a peer's
  // (claimAll takes it, as it takes a datagram off a word boundary).
  const unpadded = encodeMessages([part(p.seq, 1)]);
  refused.push(["not a whole number of words long", unpadded.subarray(0, NLMSG_HDRLEN + 3)]);
  refused.push([
    "trailing bytes",
    new Uint8Array([...encodeMessages([part(p.seq, 1)]), 1, 2, 3, 4]),
  ]);
  // Its headers read as words need 4-byte alignment; claimAll takes such a datagram as well.
  const parts = encodeMessages([part(p.seq, 1)]);
  const odd = new Uint8Array(parts.length + 1);
  odd.set(parts, 1);
  refused.push(["not 4-byte aligned in its buffer", odd.subarray(1)]);
  for (const [why, data, sender = 0] of refused) {
    assert.equal(m.claimDatagram(data, sender), false, why);
  }
  assert.deepEqual(datagrams, []);
  assert.equal(p.interrupted, false);
  assert.ok(m.pending.has(p.seq) && m.pending.has(plain.seq) && m.pending.has(other.seq));
});

test("claimDatagram: of the kernel's datagram only the last message's type is read; of a peer's, every message's", () => {
  const m = new Matcher();
  const kernel = datagramProbe(m);
  const peer = datagramProbe(m, 42);
  const noop = (seq: number) => ({ ...part(seq, 0), type: NLMSG_NOOP });
  // netlink_dump fills a datagram with one dump's messages, NLMSG_DONE (if any) last.
  const noopBetween = encodeMessages([
    part(kernel.p.seq, 1),
    noop(kernel.p.seq),
    part(kernel.p.seq, 2),
  ]);
  assert.ok(m.claimDatagram(noopBetween, 0));
  assert.deepEqual(kernel.datagrams, [[noopBetween, 3]]);
  const last = encodeMessages([part(kernel.p.seq, 1), noop(kernel.p.seq)]);
  assert.equal(m.claimDatagram(last, 0), false, "a control message last (its NLMSG_DONE)");
  // A peer may put anything in a datagram.
  const between = encodeMessages([part(peer.p.seq, 1), noop(peer.p.seq), part(peer.p.seq, 2)]);
  assert.equal(m.claimDatagram(between, 42), false, "a control message between");
  const peerLast = encodeMessages([part(peer.p.seq, 1), noop(peer.p.seq)]);
  assert.equal(m.claimDatagram(peerLast, 42), false, "a control message last");
  assert.deepEqual(peer.datagrams, []);
  const parts = encodeMessages([part(peer.p.seq, 1), part(peer.p.seq, 2, NLM_F_DUMP_INTR)]);
  assert.ok(m.claimDatagram(parts, 42));
  assert.deepEqual(peer.datagrams, [[parts, 2]]);
  assert.equal(peer.p.interrupted, true);
  assert.equal(kernel.p.interrupted, false);
});

test("idle, unrequested and echoing (fields, not getters) follow requests, the dump slot and the dump queue", () => {
  const m = new Matcher();
  const check = (why: string) => {
    const unrequested = m.pending.size === 0 && !m.dumpsQueued;
    assert.equal(m.unrequested, unrequested, `unrequested: ${why}`);
    assert.equal(m.idle, unrequested && !running, `idle: ${why}`);
    assert.equal(m.echoing, [...m.pending.values()].some((p) => p.echo), `echoing: ${why}`);
  };
  let running = false;
  check("new");
  assert.ok(m.idle && m.unrequested && !m.echoing);
  const echo = probe(m, { echo: true });
  check("an echo request added");
  const dump = probe(m, { dump: true, endsAtDone: true });
  m.whenDumpSlotFree({ start: () => m.takeDumpSlot(dump.seq) });
  running = true;
  check("a dump runs");
  const queued = probe(m, { dump: true, endsAtDone: true });
  const withdraw = m.whenDumpSlotFree({ start: () => m.takeDumpSlot(queued.seq) });
  check("a dump queued");
  m.claim(fromAck(echo));
  check("the echo request answered");
  withdraw();
  check("the queued dump withdrawn");
  m.remove(queued);
  check("its request removed");
  // Abandoned with the slot: no request pending, but the dump still runs in the kernel.
  m.abandon(dump);
  check("the running dump abandoned");
  assert.equal(m.unrequested, true);
  assert.equal(m.idle, false);
  m.claim(received({ seq: dump.seq, type: NLMSG_DONE, flags: NLM_F_MULTI }));
  running = false;
  check("its NLMSG_DONE read");
  assert.ok(m.idle);
  // A dump queued behind a running one starts as the slot is released.
  const first = probe(m, { dump: true, endsAtDone: true });
  m.whenDumpSlotFree({ start: () => m.takeDumpSlot(first.seq) });
  const second = probe(m, { dump: true, endsAtDone: true });
  m.whenDumpSlotFree({ start: () => m.takeDumpSlot(second.seq) });
  running = true;
  check("two dumps, one queued");
  m.claim(received({ seq: first.seq, type: NLMSG_DONE, flags: NLM_F_MULTI }));
  check("the first ended, the second started");
  m.failAll(new Error("closed"));
  running = false;
  m.releaseDumpSlot(second.seq);
  check("all failed");
  assert.ok(m.idle);
});
