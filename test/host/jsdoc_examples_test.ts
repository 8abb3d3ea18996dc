// The JSDoc examples of the protocol layer, the typed layer's family.ts, the testing kit, the
// event and socket-diag modules and tc's pure helpers (scripts/check.sh type-checks them all, and
// runs some on Deno without holding what they print), run as written (imports rewritten to
// this checkout, /tmp/ to a scratch directory, the namespace "blue" to the one they run in) in a
// fresh namespace, one after another in one child process on the runtime running the tests
// (Deno: --allow-ffi, as the README says, --allow-read for the runner's imports and
// --allow-write for the scratch directory). Each must finish without throwing. Left out (WAITS):
// nl80211's (the host has no wireless), and those that wait for events and the process events',
// which test/host/waiting_examples_test.ts runs while it makes their events.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { importsFromCheckout, jsdocExamples, promisedValues } from "../_jsdoc.ts";
import { Netns } from "./_netns.ts";

const root = new URL("../../", import.meta.url).pathname;
const FILES = [
  "mod.ts",
  "src/socket.ts",
  "src/open.ts",
  "src/genl.ts",
  "src/capture.ts",
  "src/tap.ts",
  "src/ynl/family.ts",
  "src/ynl/_extack.ts",
  "src/testing/mod.ts",
  "src/testing/fake_kernel.ts",
  "src/testing/session.ts",
  // scripts/check.sh runs these on Deno (deno test --doc), without holding what they print.
  "src/ack.ts",
  "src/attribute.ts",
  "src/cursor.ts",
  "src/errors.ts",
  "src/format.ts",
  "src/ip.ts",
  "src/message.ts",
  "src/policy.ts",
  "src/route/tc_filter.ts",
  "src/route/tc_handle.ts",
  "src/route/tc_qdisc.ts",
  "src/route/tc_units.ts",
  // And these only type-checks.
  "src/uevent.ts",
  "src/connector.ts",
  "src/diag/bytecode.ts",
  "src/diag/mod.ts",
  "src/diag/inet.ts",
  "src/diag/netlink.ts",
  "src/diag/owners.ts",
  "src/diag/packet.ts",
  "src/diag/states.ts",
  "src/diag/unix.ts",
];
// Examples that watch until killed, and the process events' (the connector serves only the
// initial namespace): test/host/waiting_examples_test.ts runs them.
const WAITS =
  /of sock\)|of rt\.socket\)|\.monitor\(|\.messages\(|\.listen\(|\.batches\(|\.datagrams\(|nl80211|of uevents|\.events\(|openProcEvents\(/;

const isBun = "Bun" in globalThis;
const deno = isBun ? join(root, "node_modules/.bin/deno") : process.execPath;

test("the JSDoc examples that end by themselves run, and print the values their comments give", () => {
  using ns = new Netns();
  const dir = mkdtempSync(join(tmpdir(), "jsdoc-"));
  try {
    const runnable = FILES.flatMap(jsdocExamples).filter(({ code }) => !WAITS.test(code));
    assert.ok(runnable.length >= 200, `${runnable.length} examples`);
    const modules = runnable.map(({ where, code }, i) => {
      const file = join(dir, `example${i}.ts`);
      writeFileSync(
        file,
        // /tmp/ first: the checkout itself may be under /tmp (a CI clone).
        importsFromCheckout(code.replaceAll("\"/tmp/", `"${dir}/`))
          // The namespace the examples name is the one they run in.
          .replaceAll("netns: \"blue\"", "netns: \"/proc/self/ns/net\""),
      );
      return { where, file };
    });
    const runner = join(dir, "run.ts");
    // Each example's console.log lines are kept, to hold the values its comments promise.
    writeFileSync(
      runner,
      `const failed: string[] = [];\n`
        + `const printed: Record<string, string[]> = {};\n`
        + `const log = console.log;\n`
        + `for (const [where, file] of ${
          JSON.stringify(modules.map((m) => [m.where, m.file]))
        }) {\n`
        + `  const lines: string[] = printed[where] = [];\n`
        + `  console.log = (...args: unknown[]) => lines.push(args.map(String).join(" "));\n`
        + `  try { await import(file); } catch (e) { failed.push(where + ": " + e); }\n`
        + `  console.log = log;\n`
        + `}\n`
        + `console.log(JSON.stringify({ failed, printed }));\n`,
    );
    // Deno reads the examples it imports (--allow-read for them alone); they get nothing more.
    const runtime = isBun
      ? [process.execPath, runner]
      : [deno, "run", "--allow-ffi", `--allow-read=${dir},${root}`, `--allow-write=${dir}`, runner];
    const child = spawnSync("ip", ["netns", "exec", ns.name, ...runtime], {
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, NO_COLOR: "1" },
    });
    assert.equal(child.status, 0, child.stderr);
    const lines = child.stdout.trim().split("\n");
    const { failed, printed } = JSON.parse(lines[lines.length - 1]);
    assert.deepEqual(failed, [], child.stdout);
    let promised = 0;
    for (const { where, code } of runnable) {
      for (const value of promisedValues(code)) {
        promised++;
        assert.ok(printed[where].includes(value), `${where}: ${value}`);
      }
    }
    assert.ok(promised >= 70, `${promised} printed values checked`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
