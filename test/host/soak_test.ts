// What a long-running daemon or a busy controller does to a socket, on the real kernel: memory
// stays flat over many events, requests and sockets, a long-lived AbortSignal gathers no
// listeners, and no loop starves the event loop. Heap figures come from child processes with a
// full collection on demand (./_soak.ts).

import assert from "node:assert/strict";
import { test } from "node:test";
import { NETLINK_ROUTE, RTM_GETLINK } from "../../src/constants.ts";
import { open } from "../../src/open.ts";
import { runSoak } from "./_soak.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
  const link1 = new Uint8Array(16);
  new DataView(link1.buffer).setInt32(4, 1, true); // ifi_index 1: lo
  let ticks = 0;
  const interval = setInterval(() => ticks++, 1);
  try {
    const steps = sock.messages();
    const start = performance.now();
    while (performance.now() - start < 300) {
      sock.send({ type: RTM_GETLINK, flags: 1, payload: link1 });
      assert.equal((await steps.next()).done, false);
    }
    await steps.return!();
  } finally {
    clearInterval(interval);
  }
  assert.ok(ticks >= 5, `a 1 ms interval ran ${ticks} times in 300 ms`);
  await sleep(0);
});
