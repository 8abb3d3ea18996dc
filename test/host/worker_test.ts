// Workers that wait leave nothing behind: Bun's poller Worker (ffi/_bun_poller.ts) and its
// eventfd live only while the Worker's sockets do (plus a grace with no descriptor), and Deno's
// Workers (the signal waiter) keep nothing either. Runs on both runtimes.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { loadBunLibc } from "../../ffi/_bun_libc.ts";
import { loadDenoLibc } from "../../ffi/_deno_libc.ts";
import { openDescriptors, settledNewDescriptors } from "../_fds.ts";
import { startWorker } from "../_worker.ts";

const workerUrl = new URL("./_lifecycle_worker.ts", import.meta.url);
const isBun = "Bun" in globalThis;

/**
 * What the library could have left among `descriptors` (from settledNewDescriptors): all of them
 * on Bun, whose own descriptors of a Worker's thread are closed as it ends. Deno keeps the last
 * terminated Worker's eventfd and epoll descriptors until the next Worker starts (measured, with
 * Workers that never touch netlink), and the library opens only netlink sockets there.
 */
function ours(descriptors: string[]): string[] {
  if (isBun) return descriptors;
  const netlink = new Set(
    readFileSync("/proc/net/netlink", "utf8").trim().split("\n").slice(1).map((line) =>
      line.trim().split(/\s+/).at(-1)
    ),
  );
  return descriptors.filter((d) => netlink.has(/socket:\[(\d+)\]/.exec(d)?.[1] ?? ""));
}

/**
 * Runs one scenario of _lifecycle_worker.ts. Returns what it posted; with `terminate`, the Worker
 * is terminated as soon as it has; either way it has ended (its "close" event, or a moment after
 * termination where the runtime has none) when this resolves.
 */
async function runWorker(scenario: string, terminate: boolean): Promise<unknown> {
  const worker = startWorker(workerUrl);
  const ended = new Promise<void>((resolve) => worker.addEventListener("close", () => resolve()));
  try {
    const result = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${scenario}: no answer in 60 s`)), 60_000);
      worker.onerror = (e) => {
        clearTimeout(timer);
        reject(e);
      };
      worker.onmessage = (e) => {
        if (e.data === "ready") return worker.postMessage(scenario);
        clearTimeout(timer);
        resolve(e.data);
      };
    });
    if (terminate) worker.terminate();
    // Deno has no "close" event on the Worker object: a moment for the thread to go.
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, isBun ? 5000 : 200))]);
    return result;
  } finally {
    worker.terminate();
  }
}

test("Workers that waited, closed their sockets and were terminated leave no descriptor", async () => {
  await runWorker("closed", true); // the runtime's own first-Worker descriptors
  const before = openDescriptors();
  for (let i = 0; i < 3; i++) assert.equal(await runWorker("closed", true), "readable");
  // Bun closes its own descriptors of a Worker's thread as it ends: a moment for those.
  assert.deepEqual(ours(await settledNewDescriptors(before)), []);
});

/**
 * Runs `scenario`, which leaves its two sockets open and posts [its wait's result, their fds],
 * and checks that those sockets are all that is left; then closes them.
 */
async function onlyItsSocketsLeft(scenario: string, terminate: boolean): Promise<void> {
  await runWorker("closed", true);
  const before = openDescriptors();
  const [woke, a, b] = await runWorker(scenario, terminate) as [string, number, number];
  const left = ours(await settledNewDescriptors(before));
  try {
    assert.equal(woke, "readable");
    const fds = left.map((d) => Number(d.split(" ")[0]));
    assert.deepEqual(fds.sort((x, y) => x - y), [a, b].sort((x, y) => x - y), left.join());
  } finally {
    const libc = isBun ? loadBunLibc() : loadDenoLibc();
    for (const fd of [a, b]) libc.close(fd);
  }
}

test("a Worker that exits with a wait pending leaves only the sockets it never closed", async () => {
  await onlyItsSocketsLeft("exits", false);
});

test("a Worker terminated with sockets open but no wait for a while leaves only those", async () => {
  await onlyItsSocketsLeft("idle", true);
});

test("a Worker's poller stops after its last socket, and a later wait starts another", async () => {
  const seen = await runWorker("lifecycle", true) as Record<string, unknown>;
  assert.equal(seen.first, "readable");
  assert.equal(seen.whileOpen, isBun ? 1 : 0, "Bun: one poller thread while a socket is open");
  assert.equal(seen.afterGrace, 0, "no poller thread once the grace has passed");
  assert.equal(seen.cancelled, "cancelled");
  assert.equal(seen.afterStop, "readable");
  assert.deepEqual(seen.around, ["readable", "readable", "readable"]);
  assert.deepEqual(seen.cycles, []);
  assert.equal(seen.closed, "closed");
  assert.ok((seen.closeMs as number) < 100, `close ended the wait after ${seen.closeMs} ms`);
});
