// The classic programs that talk to the project's module, run as their headers say
// (test/_examples.ts).

import assert from "node:assert/strict";
import { test } from "node:test";
import { runExample } from "../_examples.ts";

test("examples/hello_kernel.ts sends a string and prints the kernel's reply", async () => {
  const { status, stdout, stderr } = await runExample("hello_kernel.ts", ["hi there"]);
  assert.equal(status, 0, stderr);
  assert.match(stdout, /sending "hi there" to the kernel/);
  assert.match(stdout, /kernel replied \(seq \d+, from port 0\): "hi there"/);
});

test("examples/kernel_multicast.ts prints what the kernel pushes to group 42, then stops", async () => {
  const { status, stdout, stderr } = await runExample("kernel_multicast.ts", ["42", "3", "50"]);
  assert.equal(status, 0, stderr);
  assert.deepEqual(stdout.match(/^group 42: tick \d+/gm), [
    "group 42: tick 1",
    "group 42: tick 2",
    "group 42: tick 3",
  ]);
});
