// The classic programs that talk to the project's module, run as their headers say
// (test/_examples.ts).

import assert from "node:assert/strict";
import { test } from "node:test";
import { NLTEST_A_GROUP, NLTEST_MSG_TIMER_STOP } from "../../kernel-module/nltest_uapi.ts";
import { open } from "../../src/open.ts";
import { runExample } from "../_examples.ts";
import { nltest, UNIT } from "./_nltest.ts";

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

test("examples/kernel_multicast.ts stopped with Ctrl-C stops the module's sender too", async () => {
  let interrupted = false;
  const run = await runExample("kernel_multicast.ts", ["43", "100000", "50"], {
    onStdout: (text, child) => {
      if (!interrupted && /^group 43: tick 1 /m.test(text)) {
        interrupted = true;
        child.kill("SIGINT");
      }
    },
  });
  assert.ok(interrupted, `no tick before the timeout: ${run.stdout} ${run.stderr}`);
  // Bun exits with 130; Deno, having run the cleanup, ends by the signal, as C programs do.
  assert.ok(run.status === 130 || run.signal === "SIGINT", `${run.status} ${run.stderr}`);
  // The example's timer is gone: stopping it again finds none.
  await using control = await open(UNIT);
  const err = await control.request(
    nltest(NLTEST_MSG_TIMER_STOP, (a) => a.u32(NLTEST_A_GROUP, 43)),
  ).catch((e) => e);
  assert.equal(err?.code, "ENOENT", "the module's timer on group 43 was still running");
});
