// Generated YNL modules against what only the guest kernel has: the project's module's family
// (kernel-module/nltest_ynl.ts, from kernel-module/nltest.yaml), and wireguard (modprobe).

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import process from "node:process";
import { test } from "node:test";
import { nltest } from "../../kernel-module/nltest_ynl.ts";
import { family } from "../../src/ynl/mod.ts";
import { wireguard } from "../../src/ynl/wireguard.ts";

test("nltest family via its YNL module: echo, a dump, a notification, a checked value", async () => {
  await using client = await family(nltest);
  const reply = await client.do("echo", { msg: "typed", value: 7 });
  assert.equal(reply.msg, "typed");
  assert.equal(reply.value, 7);

  const entries = await client.dump("list", { count: 500 });
  assert.equal(entries.length, 500);
  assert.deepEqual(entries.slice(0, 3).map((e) => e.index), [0, 1, 2]);

  const events = client.monitor({ groups: ["events"], signal: AbortSignal.timeout(10_000) });
  const first = events[Symbol.asyncIterator]().next();
  await new Promise((r) => setTimeout(r, 50));
  await client.do("notify", { msg: "hello events" });
  const { value } = await first;
  assert.equal(value!.op, "event");
  assert.equal((value!.message as { msg?: string }).msg, "hello events");

  // The spec's checks are enforced before anything is sent: value is 1..100.
  await assert.rejects(client.do("echo", { value: 101 }), RangeError);
});

test("wireguard via modprobe: the generated module reads a device's settings", async () => {
  execFileSync("modprobe", ["wireguard"]);
  const ns = `wg-${process.pid}`;
  execFileSync("ip", ["netns", "add", ns]);
  try {
    execFileSync("ip", ["-n", ns, "link", "add", "wg0", "type", "wireguard"]);
    await using wg = await family(wireguard, { netns: ns });
    await wg.do("set-device", { ifname: "wg0", listenPort: 51820 });
    const [device] = await wg.dump("get-device", { ifname: "wg0" });
    assert.equal(device.ifname, "wg0");
    assert.equal(device.listenPort, 51820);
  } finally {
    execFileSync("ip", ["netns", "del", ns]);
  }
});
