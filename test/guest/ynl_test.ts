// The project's module's own family through its generated YNL module (kernel-module/nltest_ynl.ts,
// from kernel-module/nltest.yaml): how a user with a custom family gets typed access.

import assert from "node:assert/strict";
import { test } from "node:test";
import { nltest } from "../../kernel-module/nltest_ynl.ts";
import { family } from "../../src/ynl/mod.ts";

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
