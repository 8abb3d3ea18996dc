// Loaded as a Worker by worker_test.ts. Announces "ready", takes one scenario name by message,
// runs it and posts what it saw. Bun's Workers wait through a poller Worker (ffi/_bun_poller.ts),
// whose thread is named "netlink-poller"; Deno's use the signal waiter, and have none.
import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";
import { GRACE_MS } from "../../ffi/_bun_waiter.ts";
import { openTransport } from "../../ffi/mod.ts";
import type { Transport } from "../../src/transport.ts";

const scope = globalThis as unknown as {
  postMessage(message: unknown): void;
  onmessage: ((event: { data: string }) => void) | null;
};

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Threads of this process named as the poller Worker is. */
function pollerThreads(): number {
  let n = 0;
  for (const task of readdirSync("/proc/self/task")) {
    try {
      if (readFileSync(`/proc/self/task/${task}/comm`, "utf8").trim() === "netlink-poller") n++;
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return n;
}

/** A wait on `t` for one datagram `from` sends: its result, or "timeout" after 5 s. */
async function waitForOne(from: Transport, t: Transport): Promise<string> {
  const pending = t.wait();
  from.send(new Uint8Array(16), t.portid, 0);
  const result = await Promise.race([pending, sleep(5000).then(() => "timeout")]);
  if (result === "readable") t.receive();
  return result;
}

const scenarios: Record<string, () => Promise<unknown>> = {
  // Opens two sockets, waits on one, closes both: nothing of the library's may stay open.
  async closed() {
    const a = openTransport(0, { portid: 0 });
    const b = openTransport(0, { portid: 0 });
    const woke = await waitForOne(a, b);
    a.close();
    b.close();
    return woke;
  },
  // Sockets left open, no wait pending for longer than the grace: the test then terminates it.
  async idle() {
    const a = openTransport(0, { portid: 0 });
    const b = openTransport(0, { portid: 0 });
    const woke = await waitForOne(a, b);
    await sleep(GRACE_MS + 300);
    return [woke, a.fd, b.fd];
  },
  // A wait pending on an open socket, then process.exit(): the sockets are the user's to close.
  async exits() {
    const a = openTransport(0, { portid: 0 });
    const b = openTransport(0, { portid: 0 });
    const woke = await waitForOne(a, b);
    b.wait();
    scope.postMessage([woke, a.fd, b.fd]);
    await sleep(50);
    process.exit(0);
  },
  // The poller's life: it outlives the last socket only by the grace, a later wait starts a new
  // one, waits right around the grace's end work, and close still ends a wait at once.
  async lifecycle() {
    const a = openTransport(0, { portid: 0 }); // sends only: never registered with a poller
    const seen: Record<string, unknown> = {};
    const b = openTransport(0, { portid: 0 });
    seen.first = await waitForOne(a, b);
    seen.whileOpen = pollerThreads();
    b.close();
    await sleep(GRACE_MS + 500);
    seen.afterGrace = pollerThreads();
    // A wait cancelled before the new poller is ready, then one that is woken.
    const c = openTransport(0, { portid: 0 });
    const cancelled = c.wait();
    c.cancelWait();
    seen.cancelled = await cancelled;
    seen.afterStop = await waitForOne(a, c);
    c.close();
    // Waits arriving just before, at and just after the grace's end.
    const around: string[] = [];
    for (const delay of [GRACE_MS - 20, GRACE_MS, GRACE_MS + 20]) {
      await sleep(delay);
      const d = openTransport(0, { portid: 0 });
      around.push(await waitForOne(a, d));
      d.close();
    }
    seen.around = around;
    // Sockets opened, waited on and closed one after another (the poller parks each time).
    const cycles: string[] = [];
    for (let i = 0; i < 50; i++) {
      const e = openTransport(0, { portid: 0 });
      cycles.push(await waitForOne(a, e));
      e.close();
    }
    seen.cycles = cycles.filter((r) => r !== "readable");
    // close() ends a pending wait at once.
    const f = openTransport(0, { portid: 0 });
    await waitForOne(a, f);
    const pending = f.wait();
    await sleep(20);
    const closedAt = performance.now();
    f.close();
    seen.closed = await pending;
    seen.closeMs = performance.now() - closedAt;
    a.close();
    return seen;
  },
};

scope.onmessage = async (event) => {
  scope.onmessage = null;
  scope.postMessage(await scenarios[event.data]());
};
// After this module has finished loading: Bun can drop messages posted to a Worker before that
// (oven-sh/bun#40141).
setTimeout(() => scope.postMessage("ready"), 0);
