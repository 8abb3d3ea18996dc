// examples/uevents.ts and examples/proc_events.ts, run as their headers say
// (test/_examples.ts), against the host's kernel.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { test } from "node:test";
import { NETLINK_KOBJECT_UEVENT } from "../../src/constants.ts";
import { open } from "../../src/open.ts";
import { runExample } from "../_examples.ts";
import { udevMessage } from "../_udev.ts";
import { Netns } from "./_netns.ts";

/** Options for runExample() and a promise that resolves once the example printed `ready`. */
function whenReady(ready: RegExp): { onStdout: (text: string) => void; started: Promise<void> } {
  let resolve!: () => void;
  const started = new Promise<void>((r) => resolve = r);
  return { onStdout: (text) => ready.test(text) && resolve(), started };
}

/**
 * Runs the rest of the command line without any capability (still uid 0, so a checkout under
 * /root stays readable): unprivileged as far as the kernel's checks go.
 */
const UNPRIVILEGED = ["setpriv", "--bounding-set=-all", "--inh-caps=-all"];

test("examples/uevents.ts prints a namespace's veth add and remove, unprivileged", async () => {
  using ns = new Netns();
  const { onStdout, started } = whenReady(/^watching/m);
  const watching = runExample("uevents.ts", ["2"], {
    prefix: ["ip", "netns", "exec", ns.name, ...UNPRIVILEGED],
    onStdout,
  });
  await started; // subscribed
  ns.ip("link", "add", "ux0", "type", "veth", "peer", "name", "ux1");
  ns.ip("link", "del", "ux0");
  const { status, stdout, stderr } = await watching;
  assert.equal(status, 0, stderr);
  assert.match(stdout, /^watching kernel uevents/m);
  assert.match(stdout, /^\d+ add \/devices\/virtual\/net\/ux0 \(net\) ux0$/m);
  assert.match(stdout, /^\d+ add \/devices\/virtual\/net\/ux1 \(net\) ux1$/m);
  assert.match(stdout, /^\d+ remove \/devices\/virtual\/net\/ux0 \(net\) ux0$/m);
});

test("examples/uevents.ts --udev prints what udevd multicasts (here, the test plays udevd)", async () => {
  using ns = new Netns();
  const { onStdout, started } = whenReady(/^watching/m);
  const watching = runExample("uevents.ts", ["2", "--udev"], {
    prefix: ["ip", "netns", "exec", ns.name, ...UNPRIVILEGED],
    onStdout,
  });
  await started;
  await using udevd = await open(NETLINK_KOBJECT_UEVENT, { unframed: true, netns: ns.name });
  const message = udevMessage(
    "ACTION=add\0DEVPATH=/devices/virtual/block/loop9\0SUBSYSTEM=block\0DEVNAME=/dev/loop9\0"
      + "SEQNUM=42\0",
  );
  udevd.send(message, { group: 2 });
  const { status, stdout, stderr } = await watching;
  assert.equal(status, 0, stderr);
  assert.match(stdout, /^watching udev uevents/m);
  assert.match(stdout, /^42 add \/devices\/virtual\/block\/loop9 \(block\) \/dev\/loop9$/m);
});

test("examples/proc_events.ts prints a child's fork, exec and exit status", async () => {
  const { onStdout, started } = whenReady(/^watching/m);
  const watching = runExample("proc_events.ts", ["2"], { onStdout });
  await started; // subscribed
  const child = spawnSync("sh", ["-c", "exit 7"]);
  assert.equal(child.status, 7);
  const { status, stdout, stderr } = await watching;
  assert.equal(status, 0, stderr);
  assert.match(stdout, /^watching process events/m);
  assert.match(stdout, new RegExp(`^fork: ${process.pid} -> ${child.pid} \\(process\\)$`, "m"));
  assert.match(stdout, new RegExp(`^exec: ${child.pid}$`, "m"));
  assert.match(stdout, new RegExp(`^exit: ${child.pid} status 7$`, "m"));
});

test("examples/proc_events.ts says why it can't: not root, or not in the initial namespace", async () => {
  const unprivileged = await runExample("proc_events.ts", ["1"], { prefix: UNPRIVILEGED });
  assert.equal(unprivileged.status, 1);
  assert.match(unprivileged.stderr, /cannot watch process events: .*EPERM.*CAP_NET_ADMIN/);
  using ns = new Netns();
  const elsewhere = await runExample("proc_events.ts", ["1"], {
    prefix: ["ip", "netns", "exec", ns.name],
  });
  assert.equal(elsewhere.status, 1);
  assert.match(elsewhere.stderr, /ECONNREFUSED.*only the initial network namespace/);
});

test("the watching examples refuse a SECONDS that is not a positive number a timer takes, saying so", async () => {
  for (
    const [example, args] of [
      ["uevents.ts", ["soon"]],
      ["uevents.ts", ["0", "--udev"]],
      ["proc_events.ts", ["-1"]],
      ["watch_links.ts", ["5s"]],
      ["watch_links.ts", ["1", "2"]],
      // Past a timer's 2^31-1 ms: Deno's AbortSignal.timeout() fired at once, and the example
      // watched nothing, exiting 0.
      ["watch_links.ts", ["3000000"]],
      ["uevents.ts", ["2147484"]],
      ["proc_events.ts", ["1e10"]],
    ] as const
  ) {
    const { status, stderr } = await runExample(example, [...args]);
    assert.equal(status, 2, `${example} ${args.join(" ")}: ${stderr}`);
    assert.match(stderr, /usage: \w+\.ts \[SECONDS\].*a positive number up to 2147483; got /);
  }
});
