// What a long-running daemon or a busy controller does to a socket, on the real kernel: memory
// stays flat over many events, requests and sockets, a long-lived AbortSignal gathers no
// listeners, and no loop starves the event loop. Heap figures come from child processes with a
// full collection on demand (./_soak.ts).

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { NETLINK_ROUTE, RTM_GETLINK } from "../../src/constants.ts";
import { open } from "../../src/open.ts";
import { COUNTING_SIGNAL, runSoak } from "./_soak.ts";

/** RTM_GETLINK of ifi_index 1 (lo): a request the kernel answers inside sendmsg. */
const LO = new Uint8Array(16);
new DataView(LO.buffer).setInt32(4, 1, true);

/** Runs `step` in a loop for 300 ms; returns how often a 1 ms interval ran meanwhile. */
async function ticksDuring(step: () => Promise<void>): Promise<number> {
  let ticks = 0;
  const interval = setInterval(() => ticks++, 1);
  try {
    const start = performance.now();
    while (performance.now() - start < 300) await step();
  } finally {
    clearInterval(interval);
  }
  return ticks;
}

test("the read loop's macrotask leaves nothing behind: 20,000 turns do not grow the process", () => {
  // Deno's turn is a MessageChannel: a port left open stayed in its resource table for good,
  // some 5 KB each (100 MB here). A request loop takes a turn every 2 ms, a flood every 4.
  const { grew } = runSoak<{ grew: number }>(`
    const { openTransport } = await import(${
    JSON.stringify(new URL("../../ffi/mod.ts", import.meta.url).href)
  });
    const t = openTransport(nl.NETLINK_USERSOCK, { portid: 0 });
    // Deno's allocator settles after some 40,000 (RSS 48, 108, 133, 139, 141 MB every 20,000).
    for (let i = 0; i < 40000; i++) await new Promise((resolve) => t.defer(resolve));
    heapAfterGc();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 20000; i++) await new Promise((resolve) => t.defer(resolve));
    heapAfterGc();
    t.close();
    console.log(JSON.stringify({ grew: process.memoryUsage().rss - before }));
  `);
  assert.ok(grew < 40e6, `RSS grew ${(grew / 1e6).toFixed(1)} MB over 20,000 turns`);
});

test("a loop of send() and messages().next(), each answer queued inside sendmsg, lets timers run", async () => {
  // Each step drains one datagram and never waits: the turn's clock, read once per 16 reads of
  // one drain, was never read, and no timer ran however long the loop went on.
  await using sock = await open(NETLINK_ROUTE);
  const steps = sock.messages();
  const ticks = await ticksDuring(async () => {
    sock.send({ type: RTM_GETLINK, flags: 1, payload: LO });
    assert.equal((await steps.next()).done, false);
  });
  await steps.return!();
  assert.ok(ticks >= 5, `a 1 ms interval ran ${ticks} times in 300 ms`);
});

test("iterations dropped without return() leave no listener on a long-lived signal", () => {
  // `await sock.messages({ signal }).next()` once per message: each iteration added an abort
  // listener to the signal that only return() or the end removed (1 KB of heap each), and a
  // dropped datagrams() iteration stayed open for good, taking every datagram from then on: the
  // messages() step after the datagrams() round waited forever.
  const r = runSoak<{ listeners: number; perIteration: number }>(
    `${COUNTING_SIGNAL}
    const { signal, listeners } = countingSignal();
    const sock = await nl.open(nl.NETLINK_USERSOCK);
    const ping = { type: 0x10, payload: new Uint8Array(4) };
    const round = async (n) => {
      for (let i = 0; i < n; i++) {
        sock.send(ping, { portid: sock.portid });
        await sock.messages({ signal }).next();
      }
      for (let i = 0; i < n; i++) {
        sock.send(ping, { portid: sock.portid });
        await sock.datagrams({ signal }).next();
      }
      for (let i = 0; i < 3; i++) {
        heapAfterGc();
        await sleep(10); // finalizers run as tasks
      }
    };
    await round(250);
    const before = heapAfterGc();
    await round(2500);
    const perIteration = (heapAfterGc() - before) / 5000;
    sock.close();
    console.log(JSON.stringify({ listeners: listeners(), perIteration }));
  `,
    20_000,
  );
  assert.ok(r.listeners < 100, `${r.listeners} listeners left after 5,500 dropped iterations`);
  assert.ok(r.perIteration < 200, `${r.perIteration.toFixed(0)} bytes of heap per iteration`);
});

test("a monitor over 30,000 events and 30,000 requests, one long-lived signal: the heap stays flat, no listener left", () => {
  // Measured: 2-12 KB per 10,000 events after warm-up (messages, batches, listen, cursor,
  // datagrams; route and typed monitors), 1-4 KB per 10,000 requests. A leak of 20 bytes an
  // item would be 200 KB per 10,000.
  const r = runSoak<{ events: number; requests: number; listeners: number }>(`${COUNTING_SIGNAL}
    using ns = netns();
    const { signal, listeners } = countingSignal();
    const sock = await nl.open(nl.NETLINK_USERSOCK, { netns: ns.name, groups: [1] });
    const peer = await nl.open(nl.NETLINK_USERSOCK, { netns: ns.name });
    const route = await nl.open(nl.NETLINK_ROUTE);
    const link1 = new Uint8Array(16);
    new DataView(link1.buffer).setInt32(4, 1, true);
    let seen = 0;
    let wake;
    const monitor = (async () => {
      for await (const _ of sock.messages({ signal })) {
        seen++;
        wake?.();
      }
    })();
    const ping = { type: 0x10, payload: new Uint8Array(8) };
    const events = async (n) => {
      for (let sent = seen; sent < n;) {
        for (let i = 0; i < 200; i++) peer.send(ping, { group: 1 });
        sent += 200;
        while (seen < sent) await new Promise((resolve) => wake = resolve);
      }
    };
    const requests = async (n) => {
      for (let i = 0; i < n; i++) await route.request({ type: nl.RTM_GETLINK, payload: link1 }, { signal });
    };
    await events(10000);
    let before = heapAfterGc();
    await events(40000);
    const eventsGrowth = (heapAfterGc() - before) / 3;
    await requests(10000);
    before = heapAfterGc();
    await requests(30000);
    const requestsGrowth = (heapAfterGc() - before) / 3;
    sock.close();
    await monitor;
    peer.close();
    route.close();
    console.log(JSON.stringify({ events: eventsGrowth, requests: requestsGrowth, listeners: listeners() }));
  `);
  assert.ok(r.events < 200e3, `${(r.events / 1e3).toFixed(1)} KB of heap per 10,000 events`);
  assert.ok(r.requests < 200e3, `${(r.requests / 1e3).toFixed(1)} KB of heap per 10,000 requests`);
  assert.equal(r.listeners, 0);
});

test("a loop that opens a socket per request lets timers run, and its closed sockets go", async () => {
  // The budget for answers settled synchronously was each socket's: every new socket began a
  // run of its own, so the loop's run never ended, no timer ran, and every socket stayed
  // reachable from the macrotask it had asked for (22 MB over 10,000 cycles, on Bun).
  const ticks = await ticksDuring(async () => {
    await using sock = await open(NETLINK_ROUTE);
    await sock.request({ type: RTM_GETLINK, payload: LO });
  });
  assert.ok(ticks >= 5, `a 1 ms interval ran ${ticks} times in 300 ms`);
  const { grew } = runSoak<{ grew: number }>(`
    const link1 = new Uint8Array(16);
    new DataView(link1.buffer).setInt32(4, 1, true);
    const cycles = async (n) => {
      for (let i = 0; i < n; i++) {
        await using sock = await nl.open(nl.NETLINK_ROUTE);
        await sock.request({ type: nl.RTM_GETLINK, payload: link1 });
      }
    };
    await cycles(1000);
    const before = heapAfterGc();
    await cycles(10000);
    console.log(JSON.stringify({ grew: heapAfterGc() - before }));
  `);
  assert.ok(grew < 3e6, `the heap grew ${(grew / 1e6).toFixed(1)} MB over 10,000 cycles`);
});

test("runSoak: a soak child killed at its timeout leaves no namespace behind", () => {
  // A child killed by the timeout never ran its namespace's disposal, and a namespace outlives
  // its process: a soak test that failed this way left one per run.
  const soakNamespaces = () =>
    execFileSync("ip", ["netns", "list"], { encoding: "utf8" }).split("\n")
      .map((line) => line.split(" ")[0]).filter((name) => name.startsWith("nlsoak-"));
  const before = soakNamespaces();
  assert.throws(
    () => runSoak(`using ns = netns(); console.log("made"); await sleep(60_000);`, 3_000),
    /soak child killed/,
  );
  assert.deepEqual(soakNamespaces(), before);
});
