// `monitor all` run beside `ip monitor all` in one namespace: the same events, each after its
// object's label ("[LINK]"), but for the objects this tool does not watch (ip's "[NETCONF]").

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { quietNetns, RUNTIME } from "./_cli.ts";

/** A process whose standard output is gathered as it comes. */
function watch(command: string, args: string[]) {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  const output = { stdout: "", stderr: "" };
  child.stdout.on("data", (chunk) => output.stdout += chunk);
  child.stderr.on("data", (chunk) => output.stderr += chunk);
  const closed = new Promise((resolve) => child.on("close", resolve));
  return {
    output,
    async [Symbol.asyncDispose]() {
      child.kill();
      await closed;
    },
  };
}

/** Waits until `done()` holds, for at most 30 s, doing `step(n)` every 100 ms meanwhile. */
async function until(done: () => boolean, step: (n: number) => void = () => {}) {
  for (let n = 0; !done(); n++) {
    assert.ok(n < 300, "timed out");
    step(n);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test("cli monitor all: every object's events after its label, as ip monitor all prints them", async () => {
  using ns = quietNetns(["link set lo up"], { ipv6: false });
  await using byIp = watch("ip", ["-n", ns.name, "monitor", "all"]);
  const [command, ...rest] = RUNTIME;
  await using ours = watch(command, [...rest, "--netns", ns.name, "monitor", "all"]);
  // Rules until both print one: then both are watching.
  await until(
    () => ours.output.stdout.includes("[RULE]") && byIp.output.stdout.includes("[RULE]"),
    (n) => ns.ip("rule", "add", "pref", String(500 + n), "table", "5"),
  );
  ns.ipBatch([
    "link add v0 type veth peer name v1",
    "addr add 10.0.0.1/24 dev v0",
    "link set v0 up",
    "route add 10.1.0.0/16 dev v0",
    "neigh add 10.0.0.5 lladdr 02:00:00:00:00:05 dev v0",
    "route del 10.1.0.0/16 dev v0",
    "link del v0",
  ]);
  const last = "[LINK]Deleted 2: v1@NONE";
  await until(() => ours.output.stdout.includes(last) && byIp.output.stdout.includes(last));
  const events = (text: string) =>
    text.split("\n").filter((line) => line && !/^\[(RULE|NETCONF)\]/.test(line));
  assert.deepEqual(events(ours.output.stdout), events(byIp.output.stdout), ours.output.stderr);
  assert.ok(events(ours.output.stdout).length >= 10);
  for (const label of ["[LINK]", "[ADDR]", "[ROUTE]", "[NEIGH]", "[ROUTE]Deleted "]) {
    assert.ok(ours.output.stdout.includes(label), label);
  }
});
