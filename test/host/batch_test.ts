// Reads that take many datagrams at once (recvmmsg), against the real kernel: what a batch must
// not change (a dump advances only as it is read, nothing is lost or reordered, nothing hangs).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { SO_RCVBUFFORCE, SO_SNDBUFFORCE, SOL_SOCKET } from "../../ffi/_constants.ts";
import { openTransport } from "../../ffi/mod.ts";
import {
  AF_INET,
  NETLINK_ROUTE,
  NETLINK_USERSOCK,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  RTM_GETROUTE,
} from "../../src/constants.ts";
import { SocketClosedError, SyscallError } from "../../src/errors.ts";
import { open } from "../../src/open.ts";
import { kernelDumping, Netns, queuedBytes, routesNetns } from "./_netns.ts";
import { rtmsg } from "./_rtnl.ts";

/**
 * A USERSOCK transport in `ns`, a namespace of the test's own: any process of a namespace can
 * send to any of its USERSOCK ports, and other processes run on this machine.
 */
function usersock(ns: Netns) {
  return openTransport(NETLINK_USERSOCK, { portid: 0, netns: `/run/netns/${ns.name}` });
}

const routeDump = { type: RTM_GETROUTE, flags: NLM_F_DUMP, payload: rtmsg(AF_INET) };

test("a dump() paused after its first message is not read far ahead, its first dump or a later one", async () => {
  // Some 10 parts of 32 KiB: a read that took 16 datagrams would take the whole dump.
  using ns = routesNetns(5000);
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name });
  for (let round = 0; round < 2; round++) {
    const it = sock.dump(routeDump)[Symbol.asyncIterator]();
    await it.next(); // the consumer then stalls
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(kernelDumping(ns, sock), `dump ${round}: the kernel's dump was read to its end`);
    let n = 1;
    for (let r = await it.next(); !r.done; r = await it.next()) n++;
    assert.ok(n >= 5000, `dump ${round}: ${n}`);
  }
});

/** A route dump request, framed for a transport. */
function routeDumpBytes(): Uint8Array {
  const bytes = new Uint8Array(16 + 12);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, bytes.length, true);
  v.setUint16(4, RTM_GETROUTE, true);
  v.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, true);
  bytes[16] = AF_INET;
  return bytes;
}

test("another socket's flood of small datagrams does not make a dump's read take many parts", () => {
  using ns = routesNetns(5000);
  const dumper = openTransport(NETLINK_ROUTE, { portid: 0, netns: `/run/netns/${ns.name}` });
  const a = usersock(ns);
  const b = usersock(ns);
  try {
    dumper.send(routeDumpBytes(), 0, 0);
    for (let i = 0; i < 40; i++) a.send(new Uint8Array(16).fill(i), b.portid, 0);
    // b's reads, copying as the dumper's do, take its small datagrams many at a time.
    for (let i = 0; i < 20; i++) assert.deepEqual(b.receive()?.data, new Uint8Array(16).fill(i));
    assert.ok(dumper.receive() !== undefined);
    assert.ok(kernelDumping(ns, dumper), "one read took the whole dump");
  } finally {
    dumper.close();
    a.close();
    b.close();
  }
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

test("a wait pending while a read takes several datagrams resolves readable, another socket waiting too", async () => {
  // The read empties the kernel's queue into the transport: only the transport knows that
  // datagrams are left, and with two sockets waiting, the signal's poll finds none queued.
  using ns = new Netns();
  const a = usersock(ns);
  const b = usersock(ns);
  const c = usersock(ns);
  try {
    // A small datagram read first: the next read may take several.
    a.send(new Uint8Array(8), b.portid, 0);
    assert.ok(b.receive() !== undefined);
    assert.equal(b.receive(), undefined);
    const other = c.wait();
    const waiting = b.wait();
    for (let i = 1; i <= 3; i++) a.send(new Uint8Array(8).fill(i), b.portid, 0);
    assert.deepEqual(b.receive()?.data, new Uint8Array(8).fill(1)); // while the wait is pending
    const woke = await Promise.race([waiting, sleep(1000).then(() => "timeout")]);
    assert.equal(woke, "readable", "two datagrams are held and nothing woke the wait");
    assert.deepEqual(b.receive()?.data, new Uint8Array(8).fill(2));
    assert.deepEqual(b.receive()?.data, new Uint8Array(8).fill(3));
    c.cancelWait();
    // Nothing was sent to c: its wait ends cancelled, or readable when a signal the datagrams to b
    // raised is handled late, once b's wait has ended and c is the only socket armed ("may have a
    // datagram", wait()'s contract: seen under load). Either way a read finds nothing.
    assert.match(await other, /^(cancelled|readable)$/);
    assert.equal(c.receive(), undefined);
  } finally {
    a.close();
    b.close();
    c.close();
  }
});

test("a datagram read in place is not rewritten by the same socket's receive()", () => {
  using ns = new Netns();
  const a = usersock(ns);
  const b = usersock(ns);
  const c = usersock(ns);
  try {
    a.send(new Uint8Array(4), b.portid, 0);
    assert.ok(b.receiveInPlace!() !== undefined); // a small one: the next read may take several
    a.send(new Uint8Array(8).fill(1), b.portid, 0);
    c.send(new Uint8Array(24).fill(2), b.portid, 0);
    const d = b.receiveInPlace!()!;
    const seen = { bytes: d.buffer.slice(0, d.length), sender: d.sender, length: d.length };
    assert.deepEqual(seen, { bytes: new Uint8Array(8).fill(1), sender: a.portid, length: 8 });
    // "Valid only until this transport's next receiveInPlace()": a receive() reads on.
    assert.deepEqual(b.receive()?.data, new Uint8Array(24).fill(2));
    assert.deepEqual(
      { bytes: d.buffer.slice(0, d.length), sender: d.sender, length: d.length },
      seen,
    );
  } finally {
    a.close();
    b.close();
    c.close();
  }
});

/** This process's virtual size in MiB. */
function virtualMiB(): number {
  return Number(/VmSize:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]) >> 10;
}

test("an over-long datagram grows the room for the next read by what it needs; that socket then reads one datagram at a time, others 16", () => {
  // A root sender (SO_SNDBUFFORCE) may send datagrams of up to 2 GiB, to any socket: the
  // socket's reads take one datagram from then on, so one slot is all that must grow. Sixteen of
  // them would make a 32 MiB datagram cost 1 GiB of address space (refused outright on a small
  // machine: the socket would fail for good).
  const size = 24 << 20; // above anything the suite grows to elsewhere: slots of 32 MiB
  using ns = new Netns();
  const a = usersock(ns);
  const b = usersock(ns);
  const c = usersock(ns);
  try {
    a.setOption(SOL_SOCKET, SO_SNDBUFFORCE, 2 * size);
    b.setOption(SOL_SOCKET, SO_RCVBUFFORCE, 2 * size); // or the small one after it is refused
    // In place: a socket's own batch (the copying reads' batch is the thread's, and other tests
    // count on what it has grown to). Both are the same code.
    const length = () => b.receiveInPlace!()?.length ?? 0;
    a.send(new Uint8Array(size), b.portid, 0);
    a.send(new Uint8Array(8).fill(1), b.portid, 0);
    const before = virtualMiB();
    assert.throws(
      () => b.receiveInPlace!(),
      (err) => err instanceof SyscallError && err.code === "EMSGSIZE",
    );
    assert.equal(length(), 8, "what followed is kept");
    a.send(new Uint8Array(size).fill(2), b.portid, 0);
    assert.equal(length(), size, "the room grew");
    const grew = virtualMiB() - before;
    assert.ok(grew < 200, `${grew} MiB of address space for a ${size >> 20} MiB datagram`);
    a.send(new Uint8Array(8), b.portid, 0);
    assert.equal(length(), 8); // a small one: another socket's next read would take 16
    for (let i = 0; i < 20; i++) a.send(new Uint8Array(100), b.portid, 0);
    const queued = queuedBytes(ns, b);
    assert.equal(length(), 100);
    assert.equal(queuedBytes(ns, b), (queued / 20) * 19, "a read took one");
    for (let i = 0; i < 20; i++) a.send(new Uint8Array(100), c.portid, 0);
    assert.equal(c.receiveInPlace!()!.length, 100); // a read takes one after an empty one
    assert.equal(c.receiveInPlace!()!.length, 100); // after a small one, a read takes 16
    assert.equal(queuedBytes(ns, c), (queued / 20) * 3, "another socket's read took 16");
  } finally {
    a.close();
    b.close();
    c.close();
  }
});

test("over-long datagrams among small ones are lost only until the first is met: the socket then reads one at a time", () => {
  // Datagrams a read takes each get a 512 KiB slot; only the first grows, and a read takes 16
  // after small ones. Reading on 16 at a time would lose the over-long ones every time.
  const big = 600 << 10;
  using ns = new Netns();
  const a = usersock(ns);
  const b = usersock(ns);
  try {
    a.setOption(SOL_SOCKET, SO_SNDBUFFORCE, 4 * big);
    b.setOption(SOL_SOCKET, SO_RCVBUFFORCE, 16 * big);
    /** Reads in place until the queue is empty: each length, or "lost" for an EMSGSIZE. */
    const drain = () => {
      const got: (number | "lost")[] = [];
      for (;;) {
        try {
          const d = b.receiveInPlace!();
          if (d === undefined) return got;
          got.push(d.length);
        } catch (err) {
          if (!(err instanceof SyscallError && err.code === "EMSGSIZE")) throw err;
          got.push("lost");
        }
      }
    };
    const round = () => {
      for (let i = 0; i < 3; i++) {
        a.send(new Uint8Array(8), b.portid, 0);
        a.send(new Uint8Array(big), b.portid, 0);
      }
    };
    a.send(new Uint8Array(8), b.portid, 0);
    assert.deepEqual(drain(), [8]); // a small one: the next read takes 16
    round();
    assert.deepEqual(drain(), [8, "lost", 8, "lost", 8, "lost"], "taken by one read: reported");
    round();
    assert.deepEqual(drain(), [8, big, 8, big, 8, big], "none lost any more");
  } finally {
    a.close();
    b.close();
  }
});

test("a flood of small datagrams is taken 16 per read, handed out one at a time in order", () => {
  using ns = new Netns();
  const a = usersock(ns);
  const b = usersock(ns);
  try {
    for (const read of ["receive", "receiveInPlace"] as const) {
      a.send(new Uint8Array(4), b.portid, 0);
      assert.ok(b[read]!() !== undefined); // a small one: the next read may take 16
      for (let i = 0; i < 40; i++) a.send(new Uint8Array(100).fill(i), b.portid, 0);
      const before = queuedBytes(ns, b);
      for (let i = 0; i < 40; i++) {
        const d = b[read]!()!;
        const bytes = "data" in d ? d.data : d.buffer.subarray(0, d.length);
        assert.deepEqual(bytes, new Uint8Array(100).fill(i), `${read}: datagram ${i}`);
        if (i === 0) {
          assert.equal(queuedBytes(ns, b), (before / 40) * 24, `${read}: one read took 16`);
        }
        if (i === 15) {
          assert.equal(queuedBytes(ns, b), (before / 40) * 24, `${read}: 16 handed out`);
        }
        if (i === 16) {
          assert.equal(queuedBytes(ns, b), (before / 40) * 8, `${read}: the next took 16`);
        }
      }
      assert.equal(b[read]!(), undefined);
    }
  } finally {
    a.close();
    b.close();
  }
});

test("close drops what a read took and did not hand out: reads and waits say the socket is closed", async () => {
  using ns = new Netns();
  const a = usersock(ns);
  try {
    for (const read of ["receive", "receiveInPlace"] as const) {
      const c = usersock(ns);
      a.send(new Uint8Array(4), c.portid, 0);
      assert.ok(c[read]!() !== undefined); // a small one: the next read may take several
      for (let i = 0; i < 3; i++) a.send(new Uint8Array(8), c.portid, 0);
      assert.ok(c[read]!() !== undefined); // two more are the transport's now
      c.close();
      assert.throws(() => c[read]!(), SocketClosedError);
      await assert.rejects(c.wait(), SocketClosedError);
    }
  } finally {
    a.close();
  }
});
