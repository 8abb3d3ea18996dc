// listen() against the real kernel: the socket's waits end in the signal's own task (the
// transport's waitThen()), and the handler runs there.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import {
  NETLINK_ROUTE,
  NETLINK_USERSOCK,
  NLM_F_CREATE,
  NLM_F_ECHO,
  NLM_F_EXCL,
  NLM_F_MULTI,
  NLMSG_DONE,
  NLMSG_OVERRUN,
  RTM_GETLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_LINK,
} from "../../src/constants.ts";
import { encodeMessages, type ReceivedMessage } from "../../src/message.ts";
import { open } from "../../src/open.ts";
import { usesPoolWaiter } from "../_waiters.ts";
import { Netns } from "./_netns.ts";
import { decodeLink, ifinfomsg, loAddress } from "./_rtnl.ts";

const indexed = (index: number) => ({
  type: 0x10,
  payload: new Uint8Array(new Uint32Array([index, 0]).buffer),
});
const indexOf = (m: ReceivedMessage) =>
  new DataView(m.payload.buffer, m.payload.byteOffset).getUint32(0, true);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("listen(): datagrams sent one per timer tick each wake the socket; all arrive, in order", async () => {
  await using sock = await open(NETLINK_USERSOCK);
  await using peer = await open(NETLINK_USERSOCK);
  const seen: number[] = [];
  const ac = new AbortController();
  const done = sock.listen((m) => {
    seen.push(indexOf(m));
    if (seen.length === 50) ac.abort();
  }, { signal: ac.signal });
  for (let i = 0; i < 50; i++) {
    await sleep(1);
    peer.send(indexed(i), { portid: sock.portid });
  }
  await assert.rejects(Promise.race([done, sleep(5000)]).then(() => "timeout"), {
    name: "AbortError",
  });
  assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => i));
});

test("listen(): a multicast flood overflowing a small receive buffer: one NLMSG_OVERRUN, counted, the rest in order", async () => {
  // In a namespace of its own: every process of a namespace shares its USERSOCK groups.
  using ns = new Netns();
  await using sock = await open(NETLINK_USERSOCK, {
    netns: ns.name,
    groups: [3],
    receiveBufferSize: 4096,
  });
  await using peer = await open(NETLINK_USERSOCK, { netns: ns.name });
  const seen: (number | "overrun")[] = [];
  const done = sock.listen((m) => {
    seen.push(m.type === NLMSG_OVERRUN ? "overrun" : indexOf(m));
  });
  // Sent before the handler can run (it starts in a microtask): the queue overflows.
  for (let i = 0; i < 200; i++) peer.send(indexed(i), { group: 3 });
  await sleep(300);
  assert.equal(seen[0], "overrun", `the kernel reports the drop first: ${seen.join(" ")}`);
  assert.equal(seen.filter((x) => x === "overrun").length, 1);
  assert.equal(sock.overruns, 1);
  const indices = seen.slice(1) as number[];
  assert.ok(indices.length > 0 && indices.length < 200, `${indices.length} arrived`);
  assert.deepEqual(indices, [...indices].sort((x, y) => x - y), "in order");
  // The queue was read empty: the kernel delivers again.
  peer.send(indexed(1000), { group: 3 });
  await sleep(100);
  assert.equal(seen.at(-1), 1000);
  sock.close();
  await done;
});

test("listen(): a handler that makes requests on the same socket gets their answers", async () => {
  using ns = new Netns();
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name, groups: [RTNLGRP_LINK] });
  const ac = new AbortController();
  const answers: Promise<number>[] = [];
  const done = sock.listen((m) => {
    if (m.type !== RTM_NEWLINK || answers.length > 0) return;
    const { index } = decodeLink(m);
    answers.push(
      sock.request({ type: RTM_GETLINK, payload: ifinfomsg({ index }) }).then((replies) => {
        ac.abort();
        return decodeLink(replies[0]).mtu;
      }),
    );
  }, { signal: ac.signal });
  await sleep(10);
  ns.ip("link", "set", "lo", "mtu", "1400");
  await assert.rejects(Promise.race([done, sleep(5000)]).then(() => "timeout"), {
    name: "AbortError",
  });
  assert.equal(await answers[0], 1400);
});

test("listen(): keeps the process alive while it waits, and the handler runs in the signal's own task", async () => {
  const dir = mkdtempSync(join(tmpdir(), "nl-listen-"));
  try {
    const script = join(dir, "listen.ts");
    const openUrl = new URL("../../src/open.ts", import.meta.url).href;
    writeFileSync(
      script,
      `import { open } from ${JSON.stringify(openUrl)};
import process from "node:process";
const order = [];
// A SIGURG listener of the script's own, installed before the socket's: it runs first and
// queues a microtask. A handler called through a promise would run after that microtask.
const mine = () => queueMicrotask(() => order.push("microtask"));
if ("Bun" in globalThis) process.on("SIGURG", mine); else Deno.addSignalListener("SIGURG", mine);
const sock = await open(${NETLINK_USERSOCK});
console.log(sock.portid);
await sock.listen(() => {
  order.push("handler");
  sock.close();
});
await new Promise((r) => setTimeout(r, 10));
console.log(order.join(","));
`,
    );
    const isBun = "Bun" in globalThis;
    const args = isBun ? [script] : ["run", "-A", script];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    child.stdout.on("data", (d) => out += d);
    while (!out.includes("\n")) await sleep(10);
    const portid = Number(out.split("\n")[0]);
    // Nothing but the pending listen() keeps the child alive.
    assert.equal(await Promise.race([exited.then(() => "exited"), sleep(500)]), undefined);
    await using peer = await open(NETLINK_USERSOCK);
    peer.send(indexed(1), { portid });
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const code = await exited;
    clearTimeout(timer);
    assert.equal(code, 0);
    // Deno's pool waiter takes no signal: the script's listener never runs (its wake-up, the
    // poll's completion, calls the handler directly as well; ffi/README.md).
    assert.equal(out.split("\n")[1], usesPoolWaiter() ? "handler" : "handler,microtask");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("listen(): the handler never runs inside request(), even when the read its send makes finds messages queued", async () => {
  await using sock = await open(NETLINK_USERSOCK);
  await using peer = await open(NETLINK_USERSOCK);
  const calls: string[] = [];
  let inside = false;
  const done = sock.listen((m) => void calls.push(`${indexOf(m)} ${inside ? "inside" : "after"}`));
  await sleep(5);
  // Queued before the request: the read the request's send makes at once takes them too.
  peer.send(indexed(1), { portid: sock.portid });
  peer.send(indexed(2), { portid: sock.portid });
  inside = true;
  const answer = sock.request(indexed(0), { to: peer.portid, timeout: 20 });
  inside = false;
  await assert.rejects(answer, { name: "TimeoutError" });
  assert.deepEqual(calls, ["1 after", "2 after"]);
  // And it goes on with what comes next, in order.
  peer.send(indexed(3), { portid: sock.portid });
  await sleep(20);
  assert.deepEqual(calls, ["1 after", "2 after", "3 after"]);
  sock.close();
  await done;
});

test("listen(): the handler never runs inside a dump step whose read resumes a paused socket", async () => {
  await using sock = await open(NETLINK_USERSOCK);
  await using peer = await open(NETLINK_USERSOCK);
  const calls: string[] = [];
  let inside = false;
  const done = sock.listen((m) => void calls.push(`${indexOf(m)} ${inside ? "inside" : "after"}`));
  const requests = peer.messages();
  const it = sock.dump(indexed(0), { to: peer.portid })[Symbol.asyncIterator]();
  const first = it.next();
  const request = (await requests.next()).value!;
  const part = (i: number) => ({ ...indexed(i), flags: NLM_F_MULTI, seq: request.seq, portid: 0 });
  // More parts than a dump reads ahead: reading pauses until the consumer takes them.
  for (let b = 0; b < 3; b++) {
    peer.send(encodeMessages(Array.from({ length: 100 }, (_, i) => part(b * 100 + i))), {
      portid: sock.portid,
    });
  }
  assert.equal(indexOf((await first).value), 0);
  await sleep(20);
  peer.send(indexed(7), { portid: sock.portid });
  peer.send({ ...part(0), type: NLMSG_DONE, payload: new Uint8Array(4) }, { portid: sock.portid });
  await sleep(20);
  assert.deepEqual(calls, [], "paused with the dump");
  let parts = 1;
  for (;;) {
    inside = true;
    const step = it.next();
    inside = false;
    if ((await step).done) break;
    parts++;
  }
  assert.equal(parts, 300);
  assert.deepEqual(calls, ["7 after"]);
  sock.close();
  await done;
});

test("listen(): handlers run for sockets woken together may close another socket or throw; the rest keep every message", async () => {
  const socks = await Promise.all([0, 1, 2, 3].map(() => open(NETLINK_USERSOCK)));
  const [a, b, c, d] = socks;
  await using peer = await open(NETLINK_USERSOCK);
  const seen: number[] = [];
  const ends = [
    a.listen(() => b.close()),
    b.listen(() => a.close()),
    c.listen(() => {
      throw new Error("boom");
    }),
    d.listen((m) => void seen.push(indexOf(m))),
  ].map((p) => p.then(() => "closed", (err) => err.message));
  await sleep(5);
  // Sent in one go: one signal's listener finds all four readable, and runs their handlers.
  for (const s of socks) peer.send(indexed(0), { portid: s.portid });
  for (let i = 1; i < 20; i++) {
    await sleep(1);
    peer.send(indexed(i), { portid: d.portid });
  }
  await sleep(50);
  assert.deepEqual(seen, Array.from({ length: 20 }, (_, i) => i));
  assert.equal([a, b].filter((s) => s.closed).length >= 1, true);
  for (const s of socks) s.close();
  assert.deepEqual(await Promise.all(ends), ["closed", "closed", "boom", "closed"]);
});

test("listen(): messages read inside a request() go to the handler, not to a messages() step asked for right after", async () => {
  await using sock = await open(NETLINK_USERSOCK);
  await using peer = await open(NETLINK_USERSOCK);
  const seen: number[] = [];
  const ac = new AbortController();
  const done = sock.listen((m) => void seen.push(indexOf(m)), { signal: ac.signal });
  await sleep(5);
  peer.send(indexed(1), { portid: sock.portid });
  peer.send(indexed(2), { portid: sock.portid });
  const answer = sock.request(indexed(0), { to: peer.portid, timeout: 20 });
  const it = sock.messages();
  const step = it.next();
  await assert.rejects(answer, { name: "TimeoutError" });
  assert.deepEqual(seen, [1, 2]);
  ac.abort();
  await assert.rejects(done, { name: "AbortError" });
  peer.send(indexed(3), { portid: sock.portid });
  assert.equal(indexOf((await step).value!), 3, "the step waited for listen() to end");
  await it.return!();
});

test("listen(): a handler that throws on a message read inside a request() leaves the ones after it to messages()", async () => {
  await using sock = await open(NETLINK_USERSOCK);
  await using peer = await open(NETLINK_USERSOCK);
  const done = sock.listen((m) => {
    if (indexOf(m) === 1) throw new Error("boom");
  });
  await sleep(5);
  for (let i = 1; i <= 3; i++) peer.send(indexed(i), { portid: sock.portid });
  const answer = sock.request(indexed(0), { to: peer.portid, timeout: 20 });
  await assert.rejects(done, /boom/);
  const it = sock.messages();
  assert.equal(indexOf((await it.next()).value!), 2);
  assert.equal(indexOf((await it.next()).value!), 3);
  await it.return!();
  await assert.rejects(answer, { name: "TimeoutError" });
});

test("listen(): with an NLM_F_ECHO request pending, its echo answers the request; other multicast goes to the handler", async () => {
  using ns = new Netns();
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name, groups: [RTNLGRP_IPV4_IFADDR] });
  const seen: number[] = []; // prefix lengths: ours /24, the other's /25
  const ac = new AbortController();
  const done = sock.listen((m) => {
    if (m.type !== RTM_NEWADDR) return;
    seen.push(m.payload[1]);
    if (m.payload[1] === 25) ac.abort();
  }, { signal: ac.signal }).catch((err) => {
    if (!ac.signal.aborted) throw err;
  });
  const replies = await sock.request(
    { type: RTM_NEWADDR, flags: NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO, payload: loAddress(7) },
    { timeout: 5000 },
  );
  assert.deepEqual(replies.map((m) => [m.type, m.group]), [[RTM_NEWADDR, RTNLGRP_IPV4_IFADDR]]);
  // Made by another process (ip): multicast, for the handler.
  ns.ip("addr", "add", "192.0.2.8/25", "dev", "lo");
  await Promise.race([done, sleep(5000).then(() => ac.abort())]);
  assert.deepEqual(
    seen,
    [25],
    "the echo went to the request only; the other change to listen()",
  );
});

test(
  "listen() on Bun: the per-event code is optimized after some events (bun:jsc), and every event still arrives in order",
  {
    skip: !("Bun" in globalThis) && "Bun only (ffi/_bun_jit.ts)",
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "nl-per-event-"));
    try {
      const script = join(dir, "per_event.ts");
      const src = (path: string) =>
        JSON.stringify(new URL(`../../src/${path}`, import.meta.url).href);
      // A fresh process: in this one, earlier tests may have optimized the code already. The
      // count of events is what bounds it (DFG compiles run on a thread of their own).
      writeFileSync(
        script,
        `import { open } from ${src("open.ts")};
import { decodeDatagram } from ${src("message.ts")};
import { Stream } from ${src("_stream.ts")};
const jsc = import.meta.require("bun:jsc");
const optimized = () =>
  jsc.numberOfDFGCompiles(decodeDatagram) > 0 && jsc.numberOfDFGCompiles(Stream.prototype.deliver) > 0;
const sock = await open(${NETLINK_USERSOCK});
const peer = await open(${NETLINK_USERSOCK});
const seen = [];
const done = sock.listen((m) => void seen.push(new DataView(m.payload.buffer, m.payload.byteOffset).getUint32(0, true)));
let sent = 0;
for (; sent < 600 && !(sent >= 100 && optimized()); sent++) {
  await new Promise((r) => setTimeout(r, 1));
  peer.send({ type: 0x10, payload: new Uint8Array(new Uint32Array([sent, 0]).buffer) }, { portid: sock.portid });
}
while (seen.length < sent) await new Promise((r) => setTimeout(r, 1));
sock.close();
peer.close();
await done;
console.log(JSON.stringify({ optimized: optimized(), sent, inOrder: seen.every((v, i) => v === i) }));
`,
      );
      const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.on("data", (d) => out += d);
      const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      const code = await exited;
      clearTimeout(timer);
      assert.equal(code, 0);
      const result = JSON.parse(out);
      assert.equal(result.inOrder, true);
      assert.equal(result.optimized, true, `not optimized after ${result.sent} events`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
