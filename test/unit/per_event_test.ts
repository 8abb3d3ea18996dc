// src/_per_event.ts: the list of per-event code a runtime may ask to optimize (ffi/_bun_jit.ts).
// Nothing is kept unless a runtime wants the list, closures only weakly, and nothing once it is done.
// The checks are in _per_event_child.ts, each run in a process of its own.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { test } from "node:test";

/**
 * Runs check `name` of _per_event_child.ts in a child process of this runtime: its state is
 * process-wide, and another test file run before this one in the same process (bun test runs
 * them all in one) may have had a runtime ask for the list, or cap it, already.
 */
function inFreshProcess(name: string): void {
  const child = new URL("./_per_event_child.ts", import.meta.url).pathname;
  const { status, stdout, stderr } = spawnSync(
    process.execPath,
    "Bun" in globalThis ? [child, name] : ["run", "--no-lock", "--no-check", child, name],
    { encoding: "utf8", timeout: 60_000 },
  );
  assert.equal(status, 0, stderr);
  assert.equal(stdout.trim(), "ok", stderr);
}

test("per-event code: modules' functions are listed, closures only while a runtime wants them", () => {
  inFreshProcess("listing");
});

test("per-event code: a runtime's cap is applied to what is listed, before and after it", () => {
  inFreshProcess("cap");
});
