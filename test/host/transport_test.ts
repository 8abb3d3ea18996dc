// The libc transport against the real kernel, on whichever runtime runs this file (Deno or Bun).
// Needs root: it creates network namespaces and veth pairs.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";

import { SO_RCVBUF, SO_RCVBUFFORCE, SO_SNDBUFFORCE, SOL_SOCKET } from "../../ffi/_constants.ts";
import {
  openTransport,
  readDirectory,
  readLink,
  readRegularFile,
  readTextFile,
} from "../../ffi/mod.ts";
import {
  NETLINK_ADD_MEMBERSHIP,
  NETLINK_LISTEN_ALL_NSID,
  NETLINK_ROUTE,
  NETLINK_USERSOCK,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  RTM_GETLINK,
  RTM_NEWLINK,
  RTNLGRP_LINK,
  SOL_NETLINK,
} from "../../src/constants.ts";
import { SocketClosedError, SyscallError } from "../../src/errors.ts";
import type { Datagram, Transport, WaitResult } from "../../src/transport.ts";
import { runDeno } from "../_deno.ts";
import { newDescriptors, openDescriptors, settledNewDescriptors } from "../_fds.ts";
import { HIDE_DENO_INTERNALS, usesPoolWaiter } from "../_waiters.ts";
import { startWorker } from "../_worker.ts";
import { Netns } from "./_netns.ts";

const ffiUrl = new URL("../../ffi/mod.ts", import.meta.url).href;
/**
 * "Promptly": the waits poll with no timeout, so a missed wake-up would never end. The bound is
 * generous so a loaded machine cannot fail it; typical times are in ffi/README.md (tens of us).
 */
const PROMPT_MS = 1000;
const openUrl = new URL("../../src/open.ts", import.meta.url).href;
const modUrl = new URL("../../mod.ts", import.meta.url).href;
const isBun = "Bun" in globalThis;
/** Deno's waits run on its thread pool; otherwise (Bun, signal_fallback_test.ts) signals. */
const poolWaiter = usesPoolWaiter();

/** A test of the signal waiter: skipped where Deno waits on its thread pool. */
function signalTest(name: string, fn: () => void | Promise<void>): void {
  test(name, { skip: poolWaiter && "Deno waits on its thread pool here, not for signals" }, fn);
}

/** A test of Deno's pool waiter: skipped where the signal waiter waits. */
function poolTest(name: string, fn: () => void | Promise<void>): void {
  test(name, { skip: !poolWaiter && "the signal waiter waits here, not Deno's pool" }, fn);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Starts the runtime's shared poller (its eventfd lives as long as the process), so descriptor
 * counts taken afterwards see only what a transport itself opens.
 */
async function warmUp(): Promise<void> {
  const before = openDescriptors();
  const t = openTransport(NETLINK_ROUTE, { portid: 0 });
  const socket = newDescriptors(before).find((d) => d.startsWith(`${t.fd} `));
  const p = t.wait();
  await sleep(50);
  t.cancelWait();
  await p;
  t.close();
  // On Deno's pool the socket stays open until the poll in flight returns: wait for it, so a
  // test's next wait starts a poll of its own (under load the pool thread returns late, and a
  // wait armed meanwhile is not in the poll in flight, whose sockets are closed at once).
  for (let i = 0; socket !== undefined && openDescriptors().has(socket); i++) {
    if (i === 5_000) throw new Error(`${socket} still open 5 s after close()`);
    await sleep(1);
  }
}

/** An RTM_GETLINK dump request: nlmsghdr + a zeroed 16-byte ifinfomsg. */
function getLinkDump(seq: number, portid: number): Uint8Array {
  const bytes = new Uint8Array(32);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, bytes.length, true);
  v.setUint16(4, RTM_GETLINK, true);
  v.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, true);
  v.setUint32(8, seq, true);
  v.setUint32(12, portid, true);
  return bytes;
}

interface Header {
  type: number;
  flags: number;
  seq: number;
}

function headers(data: Uint8Array): Header[] {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Header[] = [];
  for (let off = 0; off + 16 <= data.length;) {
    const len = v.getUint32(off, true);
    assert.ok(len >= 16 && off + len <= data.length, `bad nlmsg_len ${len} at ${off}`);
    out.push({
      type: v.getUint16(off + 4, true),
      flags: v.getUint16(off + 6, true),
      seq: v.getUint32(off + 8, true),
    });
    off += (len + 3) & ~3;
  }
  return out;
}

/** Next datagram, waiting (without spinning) up to `ms`. */
async function next(t: Transport, ms = 5000): Promise<Datagram> {
  const deadline = performance.now() + ms;
  for (;;) {
    const d = t.receive();
    if (d) return d;
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`no datagram within ${ms} ms`);
    const timer = setTimeout(() => t.cancelWait(), left);
    try {
      await t.wait();
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Sends a link dump and reads it to NLMSG_DONE; returns the number of RTM_NEWLINK messages. */
async function dumpLinks(t: Transport, seq: number): Promise<number> {
  t.send(getLinkDump(seq, t.portid), 0, 0);
  let links = 0;
  for (;;) {
    const d = await next(t);
    if (d.group !== 0) continue; // a multicast event, not our reply
    assert.equal(d.sender, 0);
    for (const h of headers(d.data)) {
      assert.equal(h.seq, seq);
      assert.notEqual(h.type, NLMSG_ERROR);
      if (h.type === NLMSG_DONE) return links;
      if (h.type === RTM_NEWLINK) links++;
    }
  }
}

/** Resolves with the wait's result and how long after `trigger` it came. */
async function timeWait(t: Transport, trigger: () => void): Promise<[WaitResult, number]> {
  const pending = t.wait();
  await sleep(100); // let the wait really block (on Bun: the poller is started and armed)
  const start = performance.now();
  trigger();
  const result = await pending;
  return [result, performance.now() - start];
}

test("open binds with a kernel-assigned port ID; close is idempotent and final", () => {
  const t = openTransport(NETLINK_ROUTE, { portid: 0 });
  assert.equal(t.protocol, NETLINK_ROUTE);
  assert.ok(t.portid > 0, `portid ${t.portid}`);
  assert.ok(t.fd >= 0);
  assert.equal(t.receive(), undefined);
  t.close();
  t.close();
  assert.equal(t.fd, -1);
  assert.throws(() => t.receive(), SocketClosedError);
  assert.throws(() => t.send(new Uint8Array(16), 0, 0), SocketClosedError);
  assert.throws(() => t.setOption(SOL_SOCKET, SO_RCVBUF, 1 << 16), SocketClosedError);
  t.cancelWait(); // a no-op
});

test("an RTM_GETLINK dump reads to NLMSG_DONE, from the kernel, unicast", async () => {
  const t = openTransport(NETLINK_ROUTE, { portid: 0 });
  try {
    assert.ok(await dumpLinks(t, 7) >= 1); // at least lo
  } finally {
    t.close();
  }
});

test("a wait pending when the reply arrives resolves readable", async () => {
  const t = openTransport(NETLINK_ROUTE, { portid: 0 });
  try {
    const [result, ms] = await timeWait(t, () => t.send(getLinkDump(1, t.portid), 0, 0));
    assert.equal(result, "readable");
    assert.ok(ms < PROMPT_MS, `${ms} ms`);
    assert.ok(t.receive() !== undefined);
  } finally {
    t.close();
  }
});

test("a 100 KiB datagram from another socket arrives whole, with its sender", async () => {
  const a = openTransport(NETLINK_ROUTE, { portid: 0 });
  const b = openTransport(NETLINK_ROUTE, { portid: 0 });
  try {
    const payload = new Uint8Array(100_005);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
    // A view at an odd offset: the address passed must be the view's, not its buffer's.
    a.send(payload.subarray(5), b.portid, 0);
    const d = await next(b);
    assert.equal(d.sender, a.portid);
    assert.equal(d.group, 0);
    assert.deepEqual(d.data, payload.subarray(5));
    // The caller owns it: the next receive must not overwrite it.
    a.send(new Uint8Array(64), b.portid, 0);
    await next(b);
    assert.equal(d.data[0], (5 * 7) & 0xff);
  } finally {
    a.close();
    b.close();
  }
});

test("small datagrams kept by the caller stay intact while thousands more arrive", async () => {
  const a = openTransport(NETLINK_ROUTE, { portid: 0 });
  const b = openTransport(NETLINK_ROUTE, { portid: 0 });
  try {
    // Sizes around the point where a datagram stops sharing memory with its neighbours, and
    // enough of them to fill many shared blocks.
    const sizes = [1, 7, 8, 4095, 4096, 4097, 20_000];
    const kept: { data: Uint8Array; fill: number }[] = [];
    for (let i = 0; i < 3000; i++) {
      const size = sizes[i % sizes.length];
      const fill = i & 0xff;
      a.send(new Uint8Array(size).fill(fill), b.portid, 0);
      const d = await next(b);
      assert.equal(d.data.length, size);
      kept.push({ data: d.data, fill });
    }
    for (const [i, { data, fill }] of kept.entries()) {
      assert.ok(
        data.every((x) => x === fill),
        `datagram ${i} (${data.length} bytes) was overwritten`,
      );
    }
  } finally {
    a.close();
    b.close();
  }
});

test("reads of one datagram each land small ones in the shared memory they are handed out in, whole, also one that no longer fits there", async () => {
  const a = openTransport(NETLINK_ROUTE, { portid: 0 });
  const b = openTransport(NETLINK_ROUTE, { portid: 0 });
  try {
    // A send that may start a dump makes b read one datagram per syscall until its queue is
    // empty: 24 of 1,500 bytes overflow the 16 KiB block small datagrams are read into, so one
    // lands partly there and partly in the receive buffer, and is copied out.
    b.send(getLinkDump(1, a.portid), a.portid, 0);
    for (let i = 1; i <= 24; i++) a.send(new Uint8Array(1_500).fill(i), b.portid, 0);
    const got: Uint8Array[] = [];
    for (let i = 1; i <= 24; i++) got.push((await next(b)).data);
    assert.equal(b.receive(), undefined);
    for (const [i, data] of got.entries()) {
      assert.equal(data.length, 1_500);
      assert.ok(data.every((x) => x === i + 1), `datagram ${i + 1} was overwritten or cut`);
    }
    assert.ok(new Set(got.map((d) => d.buffer)).size > 1, "they outgrew one block");
  } finally {
    a.close();
    b.close();
  }
});

test("recycle(): a large datagram's memory given back takes a later copy; anything else is left alone", async () => {
  const a = openTransport(NETLINK_ROUTE, { portid: 0 });
  const b = openTransport(NETLINK_ROUTE, { portid: 0 });
  try {
    a.send(new Uint8Array(20_000).fill(1), b.portid, 0);
    const first = await next(b);
    b.recycle!(first.data);
    a.send(new Uint8Array(10_000).fill(2), b.portid, 0);
    const second = await next(b);
    assert.equal(second.data.buffer, first.data.buffer, "the memory given back was used again");
    assert.equal(second.data.length, 10_000);
    assert.ok(second.data.every((x) => x === 2));
    // Not recycled: memory the transport did not make, a small datagram's (its slab holds
    // others), and one whose memory is too small.
    const mine = new Uint8Array(65_536).fill(7);
    b.recycle!(mine);
    a.send(new Uint8Array(100).fill(3), b.portid, 0);
    const small = await next(b);
    b.recycle!(small.data);
    a.send(new Uint8Array(30_000).fill(4), b.portid, 0);
    const third = await next(b);
    assert.ok(mine.every((x) => x === 7), "the caller's own buffer was never written");
    assert.notEqual(third.data.buffer, mine.buffer);
    assert.notEqual(third.data.buffer, small.data.buffer);
    assert.ok(small.data.every((x) => x === 3), "a small datagram kept its bytes");
    assert.ok(third.data.every((x) => x === 4));
    b.recycle!(third.data.subarray(0, 10_000));
    b.recycle!(second.data);
    a.send(new Uint8Array(25_000).fill(5), b.portid, 0);
    const fourth = await next(b);
    assert.equal(fourth.data.buffer, third.data.buffer, "the larger memory given back is kept");
    assert.ok(fourth.data.every((x) => x === 5));
  } finally {
    a.close();
    b.close();
  }
});

test("recycle(): a read of one lands in the memory given back: a small datagram is copied out of it, a longer one comes whole, detached memory is left alone", async () => {
  const a = openTransport(NETLINK_ROUTE, { portid: 0 });
  const b = openTransport(NETLINK_ROUTE, { portid: 0 });
  try {
    // Datagrams over 8 KiB keep b reading one at a time (see BATCH_MAX_DATAGRAM): reads of one.
    a.send(new Uint8Array(20_000).fill(1), b.portid, 0);
    const first = await next(b);
    b.recycle!(first.data);
    a.send(new Uint8Array(50).fill(2), b.portid, 0);
    const small = await next(b);
    assert.notEqual(small.data.buffer, first.data.buffer, "a small one does not take the memory");
    assert.deepEqual([...small.data], new Array(50).fill(2));
    a.send(new Uint8Array(30_000).fill(3), b.portid, 0);
    const longer = await next(b);
    assert.equal(longer.data.length, 30_000);
    assert.ok(longer.data.every((x) => x === 3), "the part past the memory given back came too");
    assert.deepEqual([...small.data], new Array(50).fill(2), "the small one kept its bytes");
    a.send(new Uint8Array(15_000).fill(4), b.portid, 0);
    const fits = await next(b);
    assert.equal(fits.data.buffer, first.data.buffer, "the memory given back was kept for it");
    assert.ok(fits.data.every((x) => x === 4));
    assert.ok(longer.data.every((x) => x === 3), "the longer one kept its bytes");
    // Given back, then transferred away (against the rules): the kernel never writes there.
    b.recycle!(fits.data);
    const moved = structuredClone(fits.data.buffer, {
      transfer: [fits.data.buffer as ArrayBuffer],
    });
    a.send(new Uint8Array(12_000).fill(5), b.portid, 0);
    const after = await next(b);
    assert.notEqual(after.data.buffer, moved);
    assert.ok(after.data.every((x) => x === 5));
    assert.ok(
      new Uint8Array(moved, 0, 15_000).every((x) => x === 4),
      "the moved memory kept its bytes",
    );
  } finally {
    a.close();
    b.close();
  }
});

test("a caller transferring a small datagram's buffer away does not break receiving", async () => {
  const a = openTransport(NETLINK_ROUTE, { portid: 0 });
  const b = openTransport(NETLINK_ROUTE, { portid: 0 });
  try {
    a.send(new Uint8Array(20).fill(1), b.portid, 0);
    const first = await next(b);
    // As worker.postMessage(data, [data.buffer]) does: the shared block is detached.
    structuredClone(first.data, { transfer: [first.data.buffer as ArrayBuffer] });
    assert.equal(first.data.length, 0);
    for (let i = 2; i < 5; i++) {
      a.send(new Uint8Array(20).fill(i), b.portid, 0);
      const d = await next(b);
      assert.deepEqual([...d.data], new Array(20).fill(i));
    }
  } finally {
    a.close();
    b.close();
  }
});

/**
 * Sends `b` datagrams longer than its reads' room among small ones, and reads them with `read`
 * (a datagram's bytes, or undefined when none is queued): two taken by one read with what
 * surrounds them (up to 16 queued datagrams at once) are each EMSGSIZE naming their size, in
 * their place, and what follows is kept; then the room has grown, and the same size arrives
 * whole. 6 MiB is above anything this process's reads have grown to so far: on Bun every test
 * file shares one process, and so the room, which socket_test.ts's two doubling searches for a
 * datagram that does not fit leave at 4 MiB.
 */
function checkOverLong(a: Transport, b: Transport, read: () => Uint8Array | undefined): void {
  const size = 6 << 20;
  a.setOption(SOL_SOCKET, SO_SNDBUFFORCE, 4 * size);
  b.setOption(SOL_SOCKET, SO_RCVBUFFORCE, 4 * size);
  const payload = new Uint8Array(size).map((_, i) => i * 13);
  const tooLong = (err: unknown) => {
    assert.ok(err instanceof SyscallError);
    assert.equal(err.code, "EMSGSIZE");
    assert.match(err.message, new RegExp(`a ${size}-byte datagram was longer than`));
    return true;
  };
  a.send(new Uint8Array(8).fill(7), b.portid, 0);
  a.send(payload, b.portid, 0);
  a.send(payload, b.portid, 0);
  a.send(new Uint8Array(8).fill(8), b.portid, 0);
  assert.deepEqual(read(), new Uint8Array(8).fill(7));
  assert.throws(read, tooLong);
  assert.throws(read, tooLong);
  assert.deepEqual(read(), new Uint8Array(8).fill(8), "what followed is kept");
  a.send(payload, b.portid, 0);
  a.send(new Uint8Array(8).fill(9), b.portid, 0);
  const d = read();
  assert.equal(d?.length, size, "the buffer grew: the same size now arrives whole");
  assert.deepEqual(d, payload);
  assert.deepEqual(read(), new Uint8Array(8).fill(9), "nothing else was lost");
  assert.equal(read(), undefined);
}

test("a datagram longer than the receive buffer is EMSGSIZE naming its size, in its place; the next read fits it", () => {
  const a = openTransport(NETLINK_ROUTE, { portid: 0 });
  const b = openTransport(NETLINK_ROUTE, { portid: 0 });
  try {
    checkOverLong(a, b, () => b.receive()?.data);
  } finally {
    a.close();
    b.close();
  }
});

/** struct sock_filter instructions, 8 bytes each: [code, jt, jf, k]. */
function bpf(...program: [number, number, number, number][]): Uint8Array {
  const bytes = new Uint8Array(program.length * 8);
  const v = new DataView(bytes.buffer);
  program.forEach(([code, jt, jf, k], i) => {
    v.setUint16(i * 8, code, true);
    v.setUint8(i * 8 + 2, jt);
    v.setUint8(i * 8 + 3, jf);
    v.setUint32(i * 8 + 4, k, true);
  });
  return bytes;
}
const BPF_RET_K = 0x06;

test("attachFilter: a program returning 0 drops every datagram, one returning ~0 keeps them", async () => {
  const sender = openTransport(NETLINK_ROUTE, { portid: 0 });
  const dropAll = openTransport(NETLINK_ROUTE, { portid: 0 });
  const keepAll = openTransport(NETLINK_ROUTE, { portid: 0 });
  try {
    dropAll.attachFilter!(bpf([BPF_RET_K, 0, 0, 0]));
    keepAll.attachFilter!(bpf([BPF_RET_K, 0, 0, 0xffffffff]));
    for (const t of [dropAll, keepAll]) sender.send(new Uint8Array(16).fill(3), t.portid, 0);
    assert.deepEqual((await next(keepAll)).data, new Uint8Array(16).fill(3));
    // Kernel replies are filtered too: the dump's datagrams never reach the dropping socket.
    dropAll.send(getLinkDump(1, dropAll.portid), 0, 0);
    await sleep(50);
    assert.equal(dropAll.receive(), undefined);
  } finally {
    sender.close();
    dropAll.close();
    keepAll.close();
  }
});

test("attachFilter refuses a malformed program before the kernel, and the kernel's EINVAL is explained", () => {
  const t = openTransport(NETLINK_ROUTE, { portid: 0 });
  try {
    for (const bad of [new Uint8Array(0), new Uint8Array(7), new Uint8Array(8 * 4097)]) {
      assert.throws(() => t.attachFilter!(bad), RangeError);
    }
    assert.throws(() => t.attachFilter!([1, 2] as unknown as Uint8Array), TypeError);
    // An undefined opcode: the kernel's checker refuses it.
    assert.throws(() => t.attachFilter!(bpf([0xffff, 0, 0, 0])), (err: unknown) => {
      assert.ok(err instanceof SyscallError);
      assert.equal(err.code, "EINVAL");
      assert.match(err.message, /refused the BPF program/);
      return true;
    });
    assert.ok(t.receive() === undefined, "still usable");
  } finally {
    t.close();
  }
});

test("NETLINK_LISTEN_ALL_NSID: an event from another namespace carries that namespace's nsid", async () => {
  using here = new Netns();
  using there = new Netns();
  // The id `here` gives `there`.
  here.ip("netns", "set", there.name, "7");
  const t = openTransport(NETLINK_ROUTE, { portid: 0, netns: `/run/netns/${here.name}` });
  try {
    t.setOption(SOL_NETLINK, NETLINK_LISTEN_ALL_NSID, 1);
    t.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_LINK);
    there.ip("link", "add", "vT", "type", "veth", "peer", "name", "vU");
    const remote = await next(t);
    assert.equal(remote.group, RTNLGRP_LINK);
    assert.equal(remote.nsid, 7);
    assert.equal(headers(remote.data)[0].type, RTM_NEWLINK);
    while (t.receive() !== undefined); // the peer's event too
    here.ip("link", "add", "vH", "type", "veth", "peer", "name", "vI");
    const local = await next(t);
    assert.equal(local.group, RTNLGRP_LINK);
    assert.notEqual(
      local.nsid,
      7,
      `a local event is not tagged with the peer's id (${local.nsid})`,
    );
  } finally {
    t.close();
  }
});

test("without NETLINK_LISTEN_ALL_NSID a datagram has no nsid", async () => {
  const a = openTransport(NETLINK_ROUTE, { portid: 0 });
  try {
    a.send(getLinkDump(1, a.portid), 0, 0);
    assert.equal("nsid" in await next(a), false);
  } finally {
    a.close();
  }
});

test("a wait started with a datagram already queued resolves readable at once", async () => {
  const a = openTransport(NETLINK_ROUTE, { portid: 0 });
  const b = openTransport(NETLINK_ROUTE, { portid: 0 });
  try {
    a.send(new Uint8Array(16), b.portid, 0);
    // No signal will come for it (it was queued before the wait): the wait must check.
    const result = await Promise.race([b.wait(), sleep(PROMPT_MS).then(() => "timeout")]);
    assert.equal(result, "readable");
    assert.ok(b.receive() !== undefined);
  } finally {
    a.close();
    b.close();
  }
});

/** Whether descriptor `fd` of this process has O_ASYNC set (/proc/self/fdinfo "flags", octal). */
async function hasAsync(fd: number): Promise<boolean> {
  const info = await readFile(`/proc/self/fdinfo/${fd}`, "utf8");
  const flags = parseInt(/^flags:\s+([0-7]+)$/m.exec(info)![1], 8);
  return (flags & 0o20000) !== 0; // O_ASYNC
}

test("no lost wake-up when a datagram comes between the empty read and the next wait", async () => {
  // After a wake-up the socket keeps O_ASYNC through its drain, and the next wait skips the
  // readiness check when nothing can have been missed: a datagram queued between the empty read
  // and the wait (its signal not yet handled), or handled while nobody waited, must still wake it.
  const a = openTransport(NETLINK_ROUTE, { portid: 0 });
  const b = openTransport(NETLINK_ROUTE, { portid: 0 });
  try {
    for (let round = 0; round < 200; round++) {
      const first = b.wait();
      a.send(new Uint8Array(16).fill(round), b.portid, 0);
      assert.equal(await first, "readable");
      assert.deepEqual(b.receive()?.data, new Uint8Array(16).fill(round));
      assert.equal(b.receive(), undefined);
      a.send(new Uint8Array(20).fill(round), b.portid, 0);
      // Odd rounds: the signal is handled before the wait (nobody armed); even: after it.
      if (round % 2 === 1) await sleep(1);
      const second = await Promise.race([b.wait(), sleep(PROMPT_MS).then(() => "timeout")]);
      assert.equal(second, "readable", `round ${round}`);
      assert.deepEqual(b.receive()?.data, new Uint8Array(20).fill(round));
      assert.equal(b.receive(), undefined);
    }
    // Read empty with O_ASYNC set, then a wake-up and a wait with no read between: the datagram
    // is still queued and no signal will come for it, so that second wait must check.
    const early = b.wait();
    a.send(new Uint8Array(8), b.portid, 0);
    assert.equal(await early, "readable");
    assert.equal(
      await Promise.race([b.wait(), sleep(PROMPT_MS).then(() => "timeout")]),
      "readable",
    );
    assert.deepEqual(b.receive()?.data, new Uint8Array(8));
  } finally {
    a.close();
    b.close();
  }
});

signalTest(
  "O_ASYNC: kept through a short drain, cleared by a burst, a cancel, or an idle socket's signal",
  async () => {
    const a = openTransport(NETLINK_ROUTE, { portid: 0 });
    const b = openTransport(NETLINK_ROUTE, { portid: 0 });
    try {
      assert.equal(await hasAsync(b.fd), false, "not before the first wait");
      // A wake-up and a one-datagram drain: still set, so the next wait costs no syscall.
      const woke = b.wait();
      a.send(new Uint8Array(16), b.portid, 0);
      assert.equal(await woke, "readable");
      assert.ok(b.receive() !== undefined);
      assert.equal(b.receive(), undefined);
      assert.equal(await hasAsync(b.fd), true, "kept after a short drain");
      // A burst: cleared while draining (no signal per datagram), set again by the next wait.
      for (let i = 0; i < 10; i++) a.send(new Uint8Array(16), b.portid, 0);
      let n = 0;
      while (b.receive() !== undefined) n++;
      assert.equal(n, 10);
      assert.equal(await hasAsync(b.fd), false, "cleared by a burst");
      // The burst's signals (raised before O_ASYNC was cleared) may still be on their way: one
      // arriving while the next wait is armed would end it "readable", as a wait may (a spurious
      // wake-up costs one empty read). Let them land first.
      await sleep(50);
      const cancelled = b.wait();
      assert.equal(await hasAsync(b.fd), true, "set while waiting");
      b.cancelWait();
      assert.equal(await cancelled, "cancelled");
      assert.equal(await hasAsync(b.fd), false, "cleared by a cancel");
      // An idle socket (woke, drained, no new wait): the first signal it raises clears it.
      const again = b.wait();
      a.send(new Uint8Array(16), b.portid, 0);
      assert.equal(await again, "readable");
      assert.ok(b.receive() !== undefined);
      assert.equal(b.receive(), undefined);
      assert.equal(await hasAsync(b.fd), true);
      let signals = 0;
      const listener = () => signals++;
      if (isBun) process.on("SIGURG", listener);
      else Deno.addSignalListener("SIGURG", listener);
      try {
        for (let i = 0; i < 100; i++) {
          a.send(new Uint8Array(16), b.portid, 0);
          if (i % 10 === 0) await sleep(2);
        }
        await sleep(20);
      } finally {
        if (isBun) process.off("SIGURG", listener);
        else Deno.removeSignalListener("SIGURG", listener);
      }
      assert.equal(await hasAsync(b.fd), false, "cleared by the idle socket's first signal");
      assert.ok(
        signals >= 1 && signals <= 2,
        `100 datagrams to an idle socket raised ${signals} signals`,
      );
      // And it still wakes: 100 datagrams queued, a wait resolves at once.
      assert.equal(await b.wait(), "readable");
    } finally {
      a.close();
      b.close();
    }
  },
);

test("waits on several sockets: each wakes for its own datagram, in any order, many times", async () => {
  const sender = openTransport(NETLINK_ROUTE, { portid: 0 });
  const ts = Array.from({ length: 4 }, () => openTransport(NETLINK_ROUTE, { portid: 0 }));
  try {
    for (let round = 0; round < 50; round++) {
      const target = ts[(round * 3) % ts.length];
      const waits = ts.map((t) => t.wait());
      const results: (WaitResult | undefined)[] = ts.map(() => undefined);
      waits.forEach((p, i) => p.then((r) => results[i] = r));
      sender.send(new Uint8Array(16).fill(round), target.portid, 0);
      assert.equal(await waits[ts.indexOf(target)], "readable");
      assert.deepEqual(target.receive()?.data, new Uint8Array(16).fill(round));
      for (const t of ts) t.cancelWait();
      assert.deepEqual(
        (await Promise.all(waits)).filter((r) => r === "readable").length,
        1,
        "only the target woke",
      );
    }
  } finally {
    sender.close();
    for (const t of ts) t.close();
  }
});

signalTest(
  "a user's own SIGURG listener and the transport's waits do not disturb each other",
  async () => {
    const a = openTransport(NETLINK_ROUTE, { portid: 0 });
    const b = openTransport(NETLINK_ROUTE, { portid: 0 });
    let calls = 0;
    const listener = () => calls++;
    if (isBun) process.on("SIGURG", listener);
    else Deno.addSignalListener("SIGURG", listener);
    try {
      const pending = b.wait();
      await sleep(20);
      a.send(new Uint8Array(16), b.portid, 0);
      assert.equal(await pending, "readable");
      assert.ok(b.receive() !== undefined);
    } finally {
      if (isBun) process.off("SIGURG", listener);
      else Deno.removeSignalListener("SIGURG", listener);
      a.close();
      b.close();
    }
    // After the user's listener is gone, waits still wake (and the process is not killed).
    const c = openTransport(NETLINK_ROUTE, { portid: 0 });
    try {
      assert.ok(await dumpLinks(c, 3) >= 1);
    } finally {
      c.close();
    }
    assert.ok(calls >= 1, "the user's listener saw the signal too");
  },
);

test("waits work in a Worker thread too: readable, woken by a read that took more, cancelled, closed", async () => {
  const worker = startWorker(new URL("./_wait_worker.ts", import.meta.url));
  try {
    const messages: unknown[] = [];
    let arrived = () => {};
    worker.onmessage = (e) => {
      messages.push(e.data);
      arrived();
    };
    const next = (ms: number) =>
      Promise.race([
        new Promise((resolve, reject) => {
          if (messages.length > 0) return resolve(messages.shift());
          arrived = () => resolve(messages.shift());
          worker.onerror = (e) => reject(e);
        }),
        sleep(ms).then(() => "timeout"),
      ]);
    // Starting a Worker (loading its modules) is not what is timed: a minute for that.
    assert.equal(await next(60_000), "ready");
    assert.deepEqual(await next(10 * PROMPT_MS), [
      "readable",
      16,
      "readable",
      "cancelled",
      "closed",
    ]);
  } finally {
    worker.terminate();
  }
});

test("options round-trip through setOption/getOption", () => {
  const t = openTransport(NETLINK_ROUTE, { portid: 0 });
  try {
    t.setOption(SOL_SOCKET, SO_RCVBUF, 1 << 16);
    assert.equal(t.getOption(SOL_SOCKET, SO_RCVBUF), 2 << 16); // the kernel doubles it
  } finally {
    t.close();
  }
});

test("an unknown protocol is EPROTONOSUPPORT with a hint", () => {
  const before = openDescriptors();
  assert.throws(() => openTransport(31, { portid: 0 }), (err: unknown) => {
    assert.ok(err instanceof SyscallError);
    assert.equal(err.syscall, "socket");
    assert.equal(err.code, "EPROTONOSUPPORT");
    assert.match(err.message, /netlink protocol 31 is not available in this kernel/);
    return true;
  });
  assert.deepEqual(newDescriptors(before), []);
});

test("a port ID in use is EADDRINUSE naming it, and leaks nothing", () => {
  const first = openTransport(NETLINK_ROUTE, { portid: 0 });
  const before = openDescriptors();
  try {
    assert.throws(() => openTransport(NETLINK_ROUTE, { portid: first.portid }), (err: unknown) => {
      assert.ok(err instanceof SyscallError);
      assert.equal(err.syscall, "bind");
      assert.equal(err.code, "EADDRINUSE");
      assert.match(err.message, new RegExp(`port ID ${first.portid} is already in use`));
      return true;
    });
    assert.deepEqual(newDescriptors(before), []);
  } finally {
    first.close();
  }
});

test("a missing namespace fails with ENOENT and leaks nothing", () => {
  const before = openDescriptors();
  assert.throws(
    () => openTransport(NETLINK_ROUTE, { portid: 0, netns: "/run/netns/nltest-does-not-exist" }),
    (err: unknown) => err instanceof SyscallError && err.code === "ENOENT",
  );
  assert.deepEqual(newDescriptors(before), []);
});

test("binding a port ID in use fails with EADDRINUSE and leaks nothing", () => {
  const a = openTransport(NETLINK_ROUTE, { portid: 0 });
  try {
    const before = openDescriptors();
    assert.throws(
      () => openTransport(NETLINK_ROUTE, { portid: a.portid }),
      (err: unknown) => err instanceof SyscallError && err.code === "EADDRINUSE",
    );
    assert.deepEqual(newDescriptors(before), []);
  } finally {
    a.close();
  }
});

test("in another netns: multicast RTNLGRP_LINK events carry their group", async () => {
  using ns = new Netns();
  const nsBefore = readlinkSync("/proc/thread-self/ns/net");
  const t = openTransport(NETLINK_ROUTE, { portid: 0, netns: `/run/netns/${ns.name}` });
  try {
    assert.equal(readlinkSync("/proc/thread-self/ns/net"), nsBefore, "thread switched back");
    assert.equal(await dumpLinks(t, 1), 1, "only lo: the socket is in the new namespace");
    t.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_LINK);
    ns.ip("link", "add", "vA", "type", "veth", "peer", "name", "vB");
    const d = await next(t);
    assert.equal(d.group, RTNLGRP_LINK);
    assert.equal(d.sender, 0);
    assert.equal(headers(d.data)[0].type, RTM_NEWLINK);
  } finally {
    t.close();
  }
});

test("cancelWait ends a pending wait promptly with cancelled; the socket stays usable", async () => {
  const t = openTransport(NETLINK_ROUTE, { portid: 0 });
  try {
    const [result, ms] = await timeWait(t, () => t.cancelWait());
    assert.equal(result, "cancelled");
    assert.ok(ms < PROMPT_MS, `${ms} ms`);
    t.cancelWait(); // nothing pending: a no-op that must not leak into the next wait
    assert.ok(await dumpLinks(t, 2) >= 1);
  } finally {
    t.close();
  }
});

test("close ends a pending wait promptly with closed, and releases the descriptor", async () => {
  await warmUp();
  const before = openDescriptors();
  const t = openTransport(NETLINK_ROUTE, { portid: 0 });
  const [result, ms] = await timeWait(t, () => t.close());
  assert.equal(result, "closed");
  assert.ok(ms < PROMPT_MS, `${ms} ms`);
  assert.equal(t.fd, -1);
  assert.deepEqual(newDescriptors(before), []);
  await assert.rejects(t.wait(), SocketClosedError);
});

test("ENOBUFS is reported once and the socket keeps working", async () => {
  using ns = new Netns();
  const t = openTransport(NETLINK_ROUTE, { portid: 0, netns: `/run/netns/${ns.name}` });
  try {
    t.setOption(SOL_SOCKET, SO_RCVBUF, 4096);
    t.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_LINK);
    const lines = [];
    for (let i = 0; i < 30; i++) lines.push(`link add a${i} type veth peer name b${i}`);
    for (let i = 0; i < 30; i++) lines.push(`link del a${i}`);
    ns.ipBatch(lines);

    let overrun: SyscallError | undefined;
    let events = 0;
    for (;;) {
      try {
        const d = t.receive();
        if (d === undefined) break;
        assert.equal(d.group, RTNLGRP_LINK);
        events++;
      } catch (err) {
        assert.ok(err instanceof SyscallError, String(err));
        assert.equal(err.code, "ENOBUFS");
        assert.equal(overrun, undefined, "reported once");
        overrun = err;
      }
    }
    assert.ok(overrun, "ENOBUFS");
    assert.ok(events > 0, "queued events are still delivered");
    assert.equal(await dumpLinks(t, 3), 1); // still usable: lo only, the veths are gone
  } finally {
    t.close();
  }
});

test("100 sockets waiting at once each wake for their own datagram; file I/O still runs", async () => {
  const sender = openTransport(NETLINK_ROUTE, { portid: 0 });
  const ts = Array.from({ length: 100 }, () => openTransport(NETLINK_ROUTE, { portid: 0 }));
  try {
    const waits = ts.map((t) => t.wait());
    await sleep(100);
    // Deno runs blocking calls on a 32-thread pool: one poll per socket would starve it.
    const io = await Promise.race([readFile("/proc/self/stat"), sleep(2000).then(() => null)]);
    assert.ok(io !== null, "file I/O starved while waits are pending");
    const results: (WaitResult | undefined)[] = ts.map(() => undefined);
    waits.forEach((p, i) => p.then((r) => results[i] = r));
    for (const i of [99, 0, 50]) {
      sender.send(new Uint8Array(16), ts[i].portid, 0);
      assert.equal(await waits[i], "readable");
    }
    await sleep(20);
    assert.deepEqual(
      results.map((r, i) => [i, r]).filter(([, r]) => r !== undefined),
      [[0, "readable"], [50, "readable"], [99, "readable"]],
    );
    for (const t of ts.slice(0, 30)) t.cancelWait();
    for (const t of ts.slice(30)) t.close();
    assert.deepEqual(
      new Set(await Promise.all(waits)),
      new Set(["readable", "cancelled", "closed"]),
    );
  } finally {
    sender.close();
    for (const t of ts) t.close();
  }
});

test("10,000 open/close cycles leak no descriptor", () => {
  const before = openDescriptors();
  for (let i = 0; i < 10_000; i++) openTransport(NETLINK_ROUTE, { portid: 0 }).close();
  assert.deepEqual(newDescriptors(before), []);
});

test("open/wait/cancel/close cycles leak no descriptor", async () => {
  await warmUp();
  const before = openDescriptors();
  for (let i = 0; i < 200; i++) {
    const t = openTransport(NETLINK_ROUTE, { portid: 0 });
    const p = t.wait();
    if (i % 2) await sleep(0);
    t.cancelWait();
    assert.equal(await p, "cancelled");
    t.close();
  }
  // A descriptor that reached the Bun poller is closed by it, asynchronously: give it a moment.
  assert.deepEqual(await settledNewDescriptors(before), []);
});

/** Runs `code` in a child process of this same runtime; returns its stdout and duration. */
function runChild(code: string, limit: string[] = []): { stdout: string; ms: number } {
  const dir = mkdtempSync(join(tmpdir(), "nltest-"));
  try {
    const file = join(dir, "child.ts");
    writeFileSync(
      file,
      `import { openTransport } from ${JSON.stringify(ffiUrl)};\n`
        + `import { open } from ${JSON.stringify(openUrl)};\n`
        // Under signal_fallback_test.ts, the child falls back too.
        + `${isBun || poolWaiter ? "" : HIDE_DENO_INTERNALS}\n${code}\n`,
    );
    const args = isBun ? [file] : ["run", "-A", file];
    const start = performance.now();
    const [command, ...rest] = [...limit, process.execPath, ...args];
    const r = spawnSync(command, rest, { encoding: "utf8", timeout: 20_000 });
    const ms = performance.now() - start;
    assert.equal(r.signal, null, `child killed (hung?) after ${ms} ms`);
    assert.equal(r.status, 0, r.stderr);
    return { stdout: r.stdout.trim(), ms };
  } finally {
    rmSync(dir, { recursive: true });
  }
}

test("on Deno, the library never reads setImmediate (which loads the Node layer), yet a request loop yields", () => {
  // Reading Deno's global setImmediate loads its Node compatibility layer (24-47 ms): the read
  // loop yields through the transport's defer() instead. Run with Deno whichever runtime runs this.
  const r = runDeno(
    `let touched = false;
    const real = Object.getOwnPropertyDescriptor(globalThis, "setImmediate");
    Object.defineProperty(globalThis, "setImmediate", {
      configurable: true,
      get() { touched = true; return real?.get ? real.get.call(globalThis) : real?.value; },
    });
    const { open, NETLINK_ROUTE, NLM_F_DUMP, RTM_GETLINK } = await import(${
      JSON.stringify(modUrl)
    });
    let ticks = 0;
    const interval = setInterval(() => ticks++, 1);
    const sock = await open(NETLINK_ROUTE);
    // Until the interval has run 10 times, or 20,000 requests: a loop that never yields ends
    // by the count with the interval not run, however loaded the machine (no timed bound).
    let requests = 0;
    while (ticks < 10 && requests < 20000) {
      await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
      requests++;
    }
    await sock.close();
    clearInterval(interval);
    console.log(JSON.stringify({ touched, ticks, requests }));`,
    ["-A"],
  );
  assert.equal(r.status, 0, r.stderr);
  const { touched, ticks, requests } = JSON.parse(r.stdout);
  assert.equal(touched, false, "setImmediate was read");
  assert.ok(ticks >= 10, `a 1 ms interval ran ${ticks} times during ${requests} requests`);
});

test("readTextFile reads a file whole through libc, a /proc file too; a missing one is ENOENT", () => {
  assert.equal(readTextFile("/proc/net/psched"), readFileSync("/proc/net/psched", "utf8"));
  const dir = mkdtempSync(join(tmpdir(), "nltest-"));
  try {
    const text = "é".repeat(5000) + "\n"; // 10,001 bytes: past the first 4 KiB read
    writeFileSync(join(dir, "f"), text);
    assert.equal(readTextFile(join(dir, "f")), text);
    writeFileSync(join(dir, "empty"), "");
    assert.equal(readTextFile(join(dir, "empty")), "");
    assert.throws(
      () => readTextFile(join(dir, "missing")),
      (err) => err instanceof SyscallError && err.code === "ENOENT",
    );
    assert.throws(() => readTextFile("a\0b"), TypeError);
  } finally {
    rmSync(dir, { recursive: true });
  }
  // On Deno with --allow-ffi alone (no --allow-read), as the library promises.
  const r = runDeno(
    `import { readTextFile } from ${JSON.stringify(ffiUrl)};\n`
      + `console.log(readTextFile("/proc/net/psched"));\n`
      + `console.log(Deno.permissions.querySync({ name: "read" }).state);\n`,
    ["--allow-ffi"],
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, readFileSync("/proc/net/psched", "utf8") + "\nprompt\n");
});

test("readDirectory and readLink read /proc through libc, as node:fs does", () => {
  // /proc/self's names are fixed. /proc/self/fd's are not: each listing holds a descriptor of its
  // own, and the runtime's threads may open or close one between the two (seen on Bun).
  assert.deepEqual(readDirectory("/proc/self").sort(), readdirSync("/proc/self").sort());
  for (const fd of ["0", "1", "2"]) assert.ok(readDirectory("/proc/self/fd").includes(fd), fd);
  const dir = mkdtempSync(join(tmpdir(), "nltest-"));
  try {
    // 3,000 entries with long names: many getdents64 reads of 32 KiB.
    const names = Array.from({ length: 3000 }, (_, i) => `entry-${"x".repeat(40)}-${i}`);
    mkdirSync(join(dir, "many"));
    for (const name of names) writeFileSync(join(dir, "many", name), "");
    assert.deepEqual(readDirectory(join(dir, "many")).sort(), names.sort());
    mkdirSync(join(dir, "empty"));
    assert.deepEqual(readDirectory(join(dir, "empty")), []);
    assert.throws(
      () => readDirectory(join(dir, "missing")),
      (e) => e instanceof SyscallError && e.code === "ENOENT",
    );
    writeFileSync(join(dir, "file"), "");
    assert.throws(
      () => readDirectory(join(dir, "file")),
      (e) => e instanceof SyscallError && e.code === "ENOTDIR",
    );
    const target = "/" + "t".repeat(300); // longer than the first 256-byte read
    symlinkSync(target, join(dir, "link"));
    assert.equal(readLink(join(dir, "link")), target);
    assert.throws(
      () => readLink(join(dir, "file")),
      (e) => e instanceof SyscallError && e.code === "EINVAL",
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
  const t = openTransport(NETLINK_ROUTE, { portid: 0 });
  try {
    assert.equal(readLink(`/proc/self/fd/${t.fd}`), readlinkSync(`/proc/self/fd/${t.fd}`));
    assert.match(readLink(`/proc/self/fd/${t.fd}`), /^socket:\[\d+\]$/);
  } finally {
    t.close();
  }
});

test("readRegularFile reads a regular file (through a link too) up to its limit; a FIFO, /dev/zero or a directory is not read, nothing left open", () => {
  const dir = mkdtempSync(join(tmpdir(), "nltest-"));
  try {
    const bytes = (read: ReturnType<typeof readRegularFile>) =>
      read.kind === "file" ? new TextDecoder().decode(read.bytes) : read.kind;
    writeFileSync(join(dir, "file"), "0 zero\n");
    symlinkSync(join(dir, "file"), join(dir, "link"));
    assert.equal(bytes(readRegularFile(join(dir, "file"), 100)), "0 zero\n");
    assert.equal(bytes(readRegularFile(join(dir, "link"), 100)), "0 zero\n");
    assert.equal(bytes(readRegularFile(join(dir, "file"), 7)), "0 zero\n"); // the limit itself
    assert.equal(bytes(readRegularFile(join(dir, "file"), 6)), "too large");
    const big = "x".repeat(100_000); // several reads, the buffer growing to the limit
    writeFileSync(join(dir, "big"), big);
    assert.equal(bytes(readRegularFile(join(dir, "big"), 100_000)), big);
    assert.equal(bytes(readRegularFile(join(dir, "big"), 99_999)), "too large");
    writeFileSync(join(dir, "empty"), "");
    assert.equal(bytes(readRegularFile(join(dir, "empty"), 0)), "");
    // A FIFO with no writer: opening it for reading would wait for one.
    assert.equal(spawnSync("mkfifo", [join(dir, "fifo")]).status, 0);
    assert.equal(bytes(readRegularFile(join(dir, "fifo"), 100)), "not regular");
    symlinkSync("/dev/zero", join(dir, "zero"));
    assert.equal(bytes(readRegularFile(join(dir, "zero"), 100)), "not regular");
    assert.equal(bytes(readRegularFile(dir, 100)), "not regular");
    assert.throws(
      () => readRegularFile(join(dir, "missing"), 100),
      (e) => e instanceof SyscallError && e.code === "ENOENT",
    );
    // Every file closed again (/dev/zero's descriptor shows its target).
    const left = [...openDescriptors()].filter((fd) =>
      fd.includes(dir) || fd.endsWith("/dev/zero")
    );
    assert.deepEqual(left, []);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("a process with an open, unclosed socket exits by itself", () => {
  const { stdout, ms } = runChild(`
    const t = openTransport(0, { portid: 0 });
    console.log(t.portid > 0);
  `);
  assert.equal(stdout, "true");
  assert.ok(ms < 10_000, `${ms} ms`);
});

test("a process whose request timed out, its socket left open, exits by itself", () => {
  const { stdout, ms } = runChild(`
    const sock = await open(0);
    const silent = await open(0); // a port that never answers
    const err = await sock.request({ type: 0x10 }, { to: silent.portid, timeout: 50 }).catch((e) => e);
    console.log(err.name);
  `);
  assert.equal(stdout, "TimeoutError");
  assert.ok(ms < 10_000, `${ms} ms`);
});

test("a pending wait keeps the process alive until it ends", () => {
  // The only thing that could wake the wait is an unref'd timer: it keeps nothing alive itself.
  const { stdout } = runChild(`
    const a = openTransport(0, { portid: 0 });
    const b = openTransport(0, { portid: 0 });
    const timer = setTimeout(() => a.send(new Uint8Array(16), b.portid, 0), 300);
    if ("Bun" in globalThis) timer.unref(); else Deno.unrefTimer(timer);
    b.wait().then((r) => console.log(r)); // no top-level await: Deno runs unref'd timers while one is pending
  `);
  assert.equal(stdout, "readable");
});

for (const how of ["listen()", "for await"]) {
  test(`${how}: a socket that waits again after each wake-up keeps the process alive throughout`, () => {
    // Each wake-up disarms the socket; its wait is armed again in the same task (listen()) or a
    // microtask later (for await). Only unref'd timers send: nothing else keeps the child alive
    // between events, so an unref that stuck would end it before the third.
    const { stdout } = runChild(`
      const sock = await open(${NETLINK_USERSOCK});
      const peer = await open(${NETLINK_USERSOCK});
      for (const ms of [100, 200, 300]) {
        const t = setTimeout(() => peer.send({ type: 0x10 }, { portid: sock.portid }), ms);
        if ("Bun" in globalThis) t.unref(); else Deno.unrefTimer(t);
      }
      let n = 0;
      if (${JSON.stringify(how)} === "listen()") {
        sock.listen(() => {
          if (++n === 3) sock.close();
        }).then(() => console.log(n));
      } else {
        (async () => {
          for await (const _ of sock) if (++n === 3) break;
          console.log(n);
        })();
      }
    `);
    assert.equal(stdout, "3");
  });
}

signalTest("a `for await` monitor refs its keep-alive timer once, not at every event", () => {
  // Each wake-up disarms the socket, and the consumer's continuation arms it again some
  // microtasks later: the timer's unref waits for that (it cost Deno 15-20 us of every event).
  // Events of one datagram and of three. The counts come from the runtime's own ref/unref.
  const { stdout } = runChild(`
    const counts = { ref: 0, unref: 0 };
    if ("Bun" in globalThis) {
      const setInterval = globalThis.setInterval;
      globalThis.setInterval = (...args) => {
        const t = setInterval(...args);
        const ref = t.ref.bind(t), unref = t.unref.bind(t);
        t.ref = () => (counts.ref++, ref());
        t.unref = () => (counts.unref++, unref());
        return t;
      };
    } else {
      const { refTimer, unrefTimer } = Deno;
      Deno.refTimer = (id) => (counts.ref++, refTimer(id));
      Deno.unrefTimer = (id) => (counts.unref++, unrefTimer(id));
    }
    const sock = await open(${NETLINK_USERSOCK});
    const peer = await open(${NETLINK_USERSOCK});
    const bursts = [1, 3, 1, 3];
    bursts.forEach((size, i) => {
      const t = setTimeout(() => {
        for (let j = 0; j < size; j++) peer.send({ type: 0x10 }, { portid: sock.portid });
      }, 50 * (i + 1));
      if ("Bun" in globalThis) t.unref(); else Deno.unrefTimer(t);
    });
    let n = 0;
    for await (const _ of sock) if (++n === 8) break;
    console.log(n, counts.ref);
  `);
  assert.equal(stdout, "8 1");
});

test("the first call of a fresh process's libc group that fails reports its own errno", () => {
  // Deno binds libc in groups on first use: the binding happens before that first call, never
  // between it and the errno read.
  const cases = {
    "readTextFile('/nonexistent')": "ENOENT",
    "openNetns('/nonexistent')": "ENOENT",
    "openTransport(0, { portid: 0 }).getOption(270, 9999)": "ENOPROTOOPT",
  };
  for (const [call, code] of Object.entries(cases)) {
    const { stdout } = runChild(`
      const { openNetns, readTextFile } = await import(${JSON.stringify(ffiUrl)});
      try { ${call}; console.log("no error"); } catch (e) { console.log(e.code); }
    `);
    assert.equal(stdout, code, call);
  }
});

signalTest(
  "a wait with one descriptor left: Deno's signal listener needs two, the wait fails with EMFILE saying so, the process lives",
  () => {
    // Deno panics when its first SIGURG listener finds no two descriptors free; Bun needs none.
    const { stdout } = runChild(
      `
    const socks = [];
    try {
      for (;;) socks.push(await open(${NETLINK_USERSOCK}));
    } catch (err) {
      if (err.code !== "EMFILE") throw err;
    }
    socks.pop().close();
    const [a, b] = socks;
    const next = a.messages().next();
    const timer = setTimeout(() => b.send({ type: 0x10 }, { portid: a.portid }), 50);
    try {
      console.log("got", (await next).value.type);
    } catch (err) {
      clearTimeout(timer);
      console.log(err.code, /ulimit -n/.test(err.message));
    }
    for (const s of socks) s.close();
  `,
      ["prlimit", "--nofile=256"],
    );
    assert.equal(stdout, isBun ? "got 16" : "EMFILE true");
  },
);

poolTest(
  "Deno's pool waiter with no descriptor left: the wait fails with EMFILE saying so, and works once one is free",
  () => {
    // Its eventfd is the one descriptor a thread's first wait needs.
    const { stdout } = runChild(
      `
      const socks = [];
      try {
        for (;;) socks.push(await open(${NETLINK_USERSOCK}));
      } catch (err) {
        if (err.code !== "EMFILE") throw err;
      }
      const [a, b] = socks;
      try {
        await a.messages().next();
        console.log("no error");
      } catch (err) {
        console.log(err.code, /ulimit -n.*this socket has failed for good: open another/.test(err.message));
      }
      // That socket has failed, as its error says (it said only "close descriptors", which does
      // not mend it: its request() threw the same EMFILE after); another waits once one is free.
      socks.pop().close();
      console.log(await a.request({ type: 0x10 }, { to: b.portid, timeout: 100 }).then(
        () => "answered",
        (err) => err.code ?? err.name,
      ));
      const c = socks[2];
      const next = c.messages().next();
      b.send({ type: 0x10 }, { portid: c.portid });
      console.log("got", (await next).value.type);
      for (const s of socks) s.close();
    `,
      ["prlimit", "--nofile=256"],
    );
    assert.equal(stdout, "EMFILE true\nEMFILE\ngot 16");
  },
);

poolTest(
  "Deno's pool waiter: a socket closed while a pool thread polls it keeps its number until that poll has returned; then nothing is left",
  async () => {
    await warmUp();
    const before = openDescriptors();
    const a = openTransport(NETLINK_ROUTE, { portid: 0 });
    const fd = a.fd;
    const socket = newDescriptors(before).find((d) => d.startsWith(`${fd} `));
    assert.ok(socket !== undefined);
    const pending = a.wait();
    await sleep(20); // the poll is on a pool thread
    a.close();
    // No task has run since close(): the poll's return has not reached this thread.
    assert.ok(openDescriptors().has(socket), "closed under the poll");
    const b = openTransport(NETLINK_ROUTE, { portid: 0 });
    try {
      assert.notEqual(b.fd, fd, "its number was reused under the poll");
      assert.equal(await pending, "closed");
      assert.ok(!openDescriptors().has(socket), "still open once the wait ended");
      assert.ok(await dumpLinks(b, 2) >= 1);
    } finally {
      b.close();
    }
    assert.deepEqual(await settledNewDescriptors(before), []);
  },
);

test("pending waits take no CPU, also after a cancel and with a wait added to a poll in flight", async () => {
  const a = openTransport(NETLINK_ROUTE, { portid: 0 });
  const b = openTransport(NETLINK_ROUTE, { portid: 0 });
  try {
    const first = a.wait();
    a.cancelWait();
    assert.equal(await first, "cancelled");
    const waitA = a.wait();
    await sleep(20);
    const waitB = b.wait(); // Deno's pool: its poll in flight returns, and the next has both
    await sleep(20);
    const start = process.cpuUsage();
    await sleep(300);
    const { user, system } = process.cpuUsage(start);
    assert.ok(user + system < 100_000, `${(user + system) / 1000} ms of CPU in 300 ms of waiting`);
    a.send(new Uint8Array(16), b.portid, 0);
    assert.equal(await waitB, "readable");
    a.cancelWait();
    assert.equal(await waitA, "cancelled");
  } finally {
    a.close();
    b.close();
  }
});

test("a process whose only pending wait is closed gets \"closed\" before it exits", () => {
  // Deno's pool waiter ends such a wait once its poll has returned (the descriptor is closed
  // then): the poll must keep the process alive until it has.
  const { stdout } = runChild(`
    const a = openTransport(0, { portid: 0 });
    const pending = a.wait();
    setTimeout(() => a.close(), 50);
    console.log(await pending);
  `);
  assert.equal(stdout, "closed");
});

test("a process whose wait ended (close, or cancel without close) exits by itself", () => {
  const { stdout, ms } = runChild(`
    const a = openTransport(0, { portid: 0 });
    const pa = a.wait();
    setTimeout(() => a.close(), 50);
    const b = openTransport(0, { portid: 0 });
    const pb = b.wait();
    setTimeout(() => b.cancelWait(), 50);
    console.log(await pa, await pb);
  `);
  assert.equal(stdout, "closed cancelled");
  assert.ok(ms < 10_000, `${ms} ms`);
});

test("receiveInPlace: the datagram stays in the socket's own buffer, one reused descriptor; only its next in-place read overwrites it", () => {
  const a = openTransport(NETLINK_ROUTE, { portid: 0 });
  const b = openTransport(NETLINK_ROUTE, { portid: 0 });
  const c = openTransport(NETLINK_ROUTE, { portid: 0 });
  try {
    assert.equal(b.receiveInPlace!(), undefined, "nothing queued");
    a.send(new Uint8Array(100).fill(1), b.portid, 0);
    const d = b.receiveInPlace!()!;
    assert.equal(d.length, 100);
    assert.equal(d.sender, a.portid);
    assert.equal(d.group, 0);
    assert.equal(d.nsid, undefined);
    const bytes = d.buffer.subarray(0, d.length);
    assert.ok(bytes.every((x) => x === 1));
    // Other sockets' reads, copying (receive) or in place, go to other buffers.
    a.send(new Uint8Array(100).fill(2), c.portid, 0);
    a.send(new Uint8Array(100).fill(3), c.portid, 0);
    assert.equal(c.receive()?.data[0], 2);
    assert.equal(c.receiveInPlace!()?.buffer[0], 3);
    assert.ok(bytes.every((x) => x === 1), "untouched by the other socket's reads");
    // This socket's copying receive() does not touch it either.
    a.send(new Uint8Array(10).fill(4), b.portid, 0);
    assert.deepEqual(b.receive()?.data, new Uint8Array(10).fill(4));
    assert.ok(bytes.every((x) => x === 1));
    // Its next in-place read does: same descriptor, same buffer, new datagram.
    a.send(new Uint8Array(60).fill(5), b.portid, 0);
    const e = b.receiveInPlace!()!;
    assert.equal(e, d);
    assert.equal(e.length, 60);
    assert.equal(bytes[0], 5, "the last datagram's bytes are overwritten");
  } finally {
    a.close();
    b.close();
    c.close();
  }
});

test("receiveInPlace reports ENOBUFS and EMSGSIZE as receive() does, and the socket goes on", () => {
  const a = openTransport(NETLINK_USERSOCK, { portid: 0 });
  const b = openTransport(NETLINK_USERSOCK, { portid: 0 });
  try {
    b.setOption(SOL_SOCKET, SO_RCVBUF, 4096);
    b.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, 3);
    // A multicast flood the small receive buffer cannot hold: the kernel drops and says ENOBUFS.
    for (let i = 0; i < 200; i++) {
      try {
        a.send(new Uint8Array(new Uint32Array([i, 0, 0, 0, 0, 0]).buffer), 0, 1 << 2);
      } catch (err) {
        // The multicast went out; only the unicast copy to port 0 (nothing in the kernel serves
        // NETLINK_USERSOCK) was refused.
        if (!(err instanceof SyscallError && err.code === "ECONNREFUSED")) throw err;
      }
    }
    const indices: number[] = [];
    let overruns = 0;
    for (;;) {
      try {
        const d = b.receiveInPlace!();
        if (d === undefined) break;
        assert.equal(d.group, 3);
        indices.push(new DataView(d.buffer.buffer, d.buffer.byteOffset).getUint32(0, true));
      } catch (err) {
        assert.ok(err instanceof SyscallError, String(err));
        assert.equal(err.code, "ENOBUFS");
        overruns++;
      }
    }
    assert.equal(overruns, 1, "reported once");
    assert.ok(indices.length > 0 && indices.length < 200, `${indices.length} arrived`);
    assert.deepEqual(indices, [...indices].sort((x, y) => x - y), "in order");
    // Datagrams longer than the socket's in-place buffer, as receive() reports them.
    checkOverLong(a, b, () => {
      const d = b.receiveInPlace!();
      return d?.buffer.subarray(0, d.length);
    });
  } finally {
    a.close();
    b.close();
  }
});
test("receiveInPlace takes a queue of datagrams in order, each with its own sender and group, mixed with receive()", async () => {
  const a = openTransport(NETLINK_USERSOCK, { portid: 0 });
  const c = openTransport(NETLINK_USERSOCK, { portid: 0 });
  const b = openTransport(NETLINK_USERSOCK, { portid: 0 });
  try {
    b.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, 5);
    // 50 datagrams (more than one read's 16), of varying sizes, from two senders, some through
    // group 5; the unicast copy to port 0 of a multicast is refused (nothing serves it).
    const sent: { index: number; sender: number; group: number; length: number }[] = [];
    for (let index = 0; index < 50; index++) {
      const from = index % 3 === 0 ? c : a;
      const length = 16 + (index % 7) * 40;
      const data = new Uint8Array(length).fill(index);
      if (index % 5 === 0) {
        try {
          from.send(data, 0, 1 << 4);
        } catch (err) {
          if (!(err instanceof SyscallError && err.code === "ECONNREFUSED")) throw err;
        }
      } else {
        from.send(data, b.portid, 0);
      }
      sent.push({ index, sender: from.portid, group: index % 5 === 0 ? 5 : 0, length });
    }
    const got: typeof sent = [];
    const take = (data: Uint8Array, length: number, sender: number, group: number) => {
      assert.ok(data.subarray(0, length).every((x) => x === data[0]), "bytes intact");
      got.push({ index: data[0], sender, group, length });
    };
    for (let i = 0; got.length < 50; i++) {
      // Reads in place and copying, in runs of 20: each gets first what the other's read took
      // and has not handed out.
      if (Math.floor(i / 20) % 2 === 1 || i % 7 === 3) {
        const d = b.receive();
        assert.ok(d !== undefined);
        take(d.data, d.data.length, d.sender, d.group);
      } else {
        const d = b.receiveInPlace!();
        assert.ok(d !== undefined);
        take(d.buffer, d.length, d.sender, d.group);
      }
      if (got.length === 49) {
        // The last read took the last two; one is not handed out yet. The kernel's queue is
        // empty, yet a wait ends at once.
        assert.equal(await b.wait(), "readable");
      }
    }
    assert.deepEqual(got, sent);
    assert.equal(b.receiveInPlace!(), undefined);
    assert.equal(b.receive(), undefined);
    // Taken, then the socket closed: nothing more is handed out.
    a.send(new Uint8Array(8), b.portid, 0);
    a.send(new Uint8Array(8), b.portid, 0);
    assert.ok(b.receiveInPlace!() !== undefined);
    b.close();
    assert.throws(() => b.receiveInPlace!(), SocketClosedError);
    assert.throws(() => b.receive(), SocketClosedError);
    await assert.rejects(b.wait(), SocketClosedError);
  } finally {
    a.close();
    b.close();
    c.close();
  }
});
