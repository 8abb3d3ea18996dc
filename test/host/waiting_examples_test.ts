// The examples that wait for events, which test/host/jsdoc_examples_test.ts leaves out: README.md's
// and the JSDoc's, pasted as a new user would (imports rewritten to this checkout, the namespace
// "blue" to the one they run in), each run on the runtime running the tests (Deno: --allow-ffi
// alone, as the README says) in a fresh namespace (the process events' in the initial one, the
// only one the connector serves) while the test makes the events they wait for, until they print
// what those events make them print. Those that end by themselves (after a break, a first event,
// or their signal's timeout) must exit 0; the others are killed once they have printed it.
// Left out: resolveFamily()'s nl80211 example (the host has no wireless).

import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { importsFromCheckout, jsdocExamples } from "../_jsdoc.ts";
import { Netns } from "./_netns.ts";

const root = new URL("../../", import.meta.url).pathname;
const isBun = "Bun" in globalThis;
const deno = isBun ? join(root, "node_modules/.bin/deno") : process.execPath;

/** What makes the events an example waits for: a link, a route, a process. */
type Trigger = "link" | "route" | "process";

interface Case {
  /** Where the example is: a file, and a line of the example that tells it from the others. */
  file: string;
  marker: string;
  trigger: Trigger;
  /** What the example prints once events came. */
  prints: RegExp;
  /** It ends by itself (a break, a first event, its signal's timeout), exiting 0. */
  ends?: boolean;
  /** Deno permissions the example's own code needs besides the library's --allow-ffi. */
  denoFlags?: string[];
}

const CASES: Case[] = [
  {
    file: "README.md",
    marker: "RTNLGRP_LINK",
    trigger: "link",
    prints: /^link changed \d+ bytes$/m,
  },
  {
    file: "README.md",
    marker: "openUevents",
    trigger: "link",
    prints: /^\d+n? add \/devices\/virtual\/net\/t\d+ /m, // seqnum: a bigint
  },
  { file: "README.md", marker: "openProcEvents", trigger: "process", prints: /^\d+ 0$/m },
  { file: "src/open.ts", marker: "console.log(msg.type)", trigger: "link", prints: /^16$/m },
  {
    file: "src/socket.ts",
    marker: "sock.messages({ signal })",
    trigger: "link",
    prints: /^16 1$/m,
    ends: true,
  },
  {
    file: "src/socket.ts",
    marker: "sock.send({ type: 0x10 }",
    trigger: "link",
    prints: /^16$/m,
    ends: true,
  },
  {
    file: "src/socket.ts",
    marker: "await sock.listen(",
    trigger: "link",
    prints: /^link changed \d+$/m,
    ends: true,
  },
  { file: "src/socket.ts", marker: "sock.batches()", trigger: "link", prints: /^16$/m },
  {
    file: "src/socket.ts",
    marker: "sock.datagrams()",
    trigger: "link",
    prints: /add@\/devices\/virtual\/net\/t\d+/,
  },
  {
    file: "src/uevent.ts",
    marker: "event.subsystem);",
    trigger: "link",
    prints: /^add \/devices\/virtual\/net\/t\d+ net$/m,
  },
  {
    file: "src/uevent.ts",
    marker: "uevents.events({ signal })",
    trigger: "link",
    prints: /^add \/devices\/virtual\/net\/t\d+$/m,
    ends: true,
  },
  {
    file: "src/uevent.ts",
    marker: "console.log(event.action, event.env.INTERFACE)",
    trigger: "link",
    prints: /^add t\d+$/m,
  },
  {
    file: "src/ynl/family.ts",
    marker: "await events.next()",
    trigger: "link",
    prints: /^newlink-ntf$/m,
    ends: true,
  },
  {
    file: "src/ynl/family.ts",
    marker: "of rt.socket",
    trigger: "link",
    prints: /^newlink-ntf$/m,
  },
  {
    file: "src/ynl/family.ts",
    marker: "event.message.ifname",
    trigger: "link",
    prints: /^newlink-ntf t\d+$/m,
  },
  {
    file: "src/route/client.ts",
    marker: "ip.monitor(",
    trigger: "link",
    prints: /^new t\d+ (down|lowerlayerdown|unknown)$/m,
  },
  {
    file: "src/route/monitor.ts",
    marker: "ip.monitor(",
    trigger: "route",
    prints: /^new 10\.\d+\.0\.0\/16$/m,
  },
  {
    file: "src/connector.ts",
    marker: "`exec: process",
    trigger: "process",
    prints: /^exec: process \d+$/m,
  },
  {
    file: "src/connector.ts",
    marker: "monitor.events({ signal })",
    trigger: "process",
    prints: /^\d+ 0$/m,
    ends: true,
  },
  {
    file: "src/connector.ts",
    marker: "exited with",
    trigger: "process",
    prints: /^\d+ exited with 0$/m,
    ends: true,
    // Its spawnSync() of node:child_process.
    denoFlags: ["--allow-run=true", "--allow-env"],
  },
];

/** The code of `file`'s example (a ```ts block of README.md, or of its JSDoc) holding `marker`. */
function exampleCode(file: string, marker: string): string {
  const blocks = file.endsWith(".md")
    ? [...readFileSync(join(root, file), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1])
    : jsdocExamples(file).map(({ code }) => code);
  const found = blocks.filter((code) => code.includes(marker));
  assert.equal(found.length, 1, `${file}: ${found.length} examples hold ${marker}`);
  return found[0];
}

/** Makes one of the events `trigger` names, the `n`th, in `ns`. */
function makeEvent(trigger: Trigger, ns: Netns, n: number): void {
  if (trigger === "link") {
    ns.ipBatch([`link add t${n} type veth peer name t${n}p`, `link del t${n}`]);
  } else if (trigger === "route") ns.ip("route", "add", `10.${n % 250}.0.0/16`, "dev", "lo");
  else spawnSync("true");
}

for (const { file, marker, trigger, prints, ends, denoFlags = [] } of CASES) {
  test(`${file}'s example waiting for ${trigger} events (${marker}) prints them`, async () => {
    const code = exampleCode(file, marker);
    using ns = new Netns();
    const dir = mkdtempSync(join(tmpdir(), "waiting-example-"));
    let child: ChildProcess | undefined;
    try {
      const script = join(dir, "example.ts");
      writeFileSync(
        script,
        importsFromCheckout(code).replaceAll("netns: \"blue\"", "netns: \"/proc/self/ns/net\""),
      );
      const runtime = isBun
        ? [process.execPath, script]
        : [deno, "run", "--allow-ffi", ...denoFlags, script];
      // The connector serves the initial namespace only: process events are watched from there.
      const command = trigger === "process"
        ? runtime
        : ["ip", "netns", "exec", ns.name, ...runtime];
      const started = child = spawn(command[0], command.slice(1), {
        env: { ...process.env, NO_COLOR: "1" },
      });
      let stdout = "", stderr = "";
      started.stdout!.on("data", (d) => stdout += d);
      started.stderr!.on("data", (d) => stderr += d);
      const exited = new Promise<number | null>((resolve) => started.on("close", resolve));
      let status: number | null | undefined;
      exited.then((s) => status = s);
      // Events until it prints what they make it print (the first may come before it listens).
      for (let n = 0; !prints.test(stdout) && status === undefined; n++) {
        assert.ok(n < 200, `${file} (${marker}) printed nothing expected in 40 s:\n${stdout}`);
        makeEvent(trigger, ns, n);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      if (ends) {
        // Its signal's timeout is at most 10 s.
        const timer = setTimeout(() => started.kill("SIGKILL"), 20_000);
        const code = await exited;
        clearTimeout(timer);
        assert.equal(code, 0, `${file} (${marker}) exited ${code}:\n${stderr}`);
      } else {
        assert.equal(status, undefined, `${file} (${marker}) ended (${status}):\n${stderr}`);
      }
      assert.match(stdout, prints, stderr);
      assert.equal(stderr, "", `${file} (${marker})`);
    } finally {
      child?.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
