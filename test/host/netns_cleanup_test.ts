// The test namespaces go away whatever runs: a filtered run of a file whose tests share one, and
// a namespace whose setup fails.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { test } from "node:test";
import { ip, Netns } from "./_netns.ts";

const root = new URL("../../", import.meta.url).pathname;
const isBun = "Bun" in globalThis;

/** The test namespaces process `pid` made that still exist. */
const namespacesOf = (pid: number) =>
  ip("netns", "list").split("\n").filter((line) => line.startsWith(`nltest-${pid}-`));

test("a filtered run of a file whose tests share a namespace (made in before()) deletes it", () => {
  // The namespace's teardown ran after the file's last test, which the filter skips (Deno).
  const filter = "equals `ip -j route get`";
  const args = isBun
    ? ["test", "--timeout", "120000", "./test/route/list_test.ts", "-t", filter]
    : ["test", "-A", "--no-check", "--filter", filter, "test/route/list_test.ts"];
  const child = spawnSync(process.execPath, args, {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, NO_COLOR: "1" },
  });
  const output = child.stdout + child.stderr;
  assert.equal(child.status, 0, output);
  assert.match(output, isBun ? /^ *1 pass$/m : /\| 1 passed \| 0 failed \| \d+ filtered out/);
  assert.deepEqual(namespacesOf(child.pid!), [], "left behind");
});

test("a namespace whose setup commands fail is deleted before the error is thrown", () => {
  const before = namespacesOf(process.pid);
  assert.throws(() => new Netns(["link add x0 type no-such-kind"]), /no-such-kind|Command failed/);
  assert.deepEqual(namespacesOf(process.pid), before);
});
