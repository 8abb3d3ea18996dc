// Runs a soak script in a child process of the runtime that runs the test, with a full garbage
// collection on demand (`heapAfterGc()`): Bun.gc(true), or Deno's gc() under --expose-gc. A
// child of its own, because Bun runs every test file in one process: what other files left on
// the heap, or collect meanwhile, would be noise in a figure of a few hundred kilobytes.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

const root = new URL("../../", import.meta.url).href;
const isBun = "Bun" in globalThis;

/** What every soak script starts with: the library (`nl`) and the helpers below. */
const PRELUDE = `
import * as nl from ${JSON.stringify(root + "mod.ts")};
import { execFileSync } from "node:child_process";
import process from "node:process";
const g = globalThis;
/** The heap in use after a full collection, in bytes. */
const heapAfterGc = () => {
  for (let i = 0; i < 3; i++) g.Bun ? g.Bun.gc(true) : g.gc();
  return process.memoryUsage().heapUsed;
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** A throwaway network namespace, deleted by the returned function. */
const netns = () => {
  const name = "nlsoak-" + process.pid + "-" + Math.floor(Math.random() * 1e9);
  execFileSync("ip", ["netns", "add", name]);
  return { name, [Symbol.dispose]: () => execFileSync("ip", ["netns", "del", name]) };
};
`;

/**
 * Runs `code` (JavaScript with top-level await, after PRELUDE) and returns what it printed last,
 * parsed as JSON. Fails if the child fails, or does not exit by itself within `ms`.
 */
export function runSoak<T = unknown>(code: string, ms = 60_000): T {
  const dir = mkdtempSync(join(tmpdir(), "nlsoak-"));
  let pid: number | undefined;
  try {
    const file = join(dir, "soak.ts");
    writeFileSync(file, PRELUDE + code);
    const args = isBun
      ? [file]
      : ["run", "-A", "--no-lock", "--no-prompt", "--v8-flags=--expose-gc", file];
    const r = spawnSync(process.execPath, args, { encoding: "utf8", timeout: ms });
    pid = r.pid;
    assert.equal(r.signal, null, `soak child killed (hung?): ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    return JSON.parse(lines.at(-1)!) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (pid) deleteNetnsOf(pid);
  }
}

/**
 * Deletes the namespaces a soak child made and left: one killed at its timeout, or failing,
 * never ran their disposal, and a namespace outlives its process.
 */
function deleteNetnsOf(pid: number): void {
  const prefix = `nlsoak-${pid}-`;
  const names = execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n").map((line) => line.split(" ")[0]);
  for (const name of names) {
    if (name.startsWith(prefix)) execFileSync("ip", ["netns", "del", name]);
  }
}

/**
 * Soak-script code that defines `countingSignal()`: an AbortController's signal that counts the
 * abort listeners added to it and not removed (`listeners()`).
 */
export const COUNTING_SIGNAL = `
const countingSignal = () => {
  const controller = new AbortController();
  const signal = controller.signal;
  const live = new Set();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = (type, f, o) => (live.add(f), add(type, f, o));
  signal.removeEventListener = (type, f, o) => (live.delete(f), remove(type, f, o));
  return { controller, signal, listeners: () => live.size };
};
`;
