// src/ynl/README.md's example, run as written (imports rewritten to this checkout, the namespace
// "blue" to a fresh one) in a child process on the runtime running the tests (Deno with
// --allow-ffi alone): it lists the links, makes a bridge with STP on, and prints the name of each
// link that changes from then on, until killed. Then its other examples (display hints,
// ethtool bitsets), each run alike and holding the values their comments print.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { runExampleInNetns } from "../_jsdoc.ts";
import { Netns } from "../host/_netns.ts";

const root = new URL("../../", import.meta.url).pathname;
const isBun = "Bun" in globalThis;
const deno = isBun ? join(root, "node_modules/.bin/deno") : process.execPath;

/** The README's first ts block, its imports pointing at this checkout and "blue" at `netns`. */
function example(netns: string): string {
  const readme = readFileSync(join(root, "src/ynl/README.md"), "utf8");
  return /```ts\n([\s\S]*?)```/.exec(readme)![1]
    .replaceAll("\"@netlink/netlink\"", JSON.stringify(join(root, "mod.ts")))
    .replaceAll("\"@netlink/netlink/ynl\"", JSON.stringify(join(root, "src/ynl/mod.ts")))
    .replace(
      /"@netlink\/netlink\/ynl\/([a-z0-9-]+)"/g,
      (_, spec) => JSON.stringify(join(root, `src/ynl/${spec.replaceAll("-", "_")}.ts`)),
    )
    .replaceAll("\"blue\"", JSON.stringify(netns));
}

test("src/ynl/README.md's example runs as written: links listed, a bridge made, link changes printed", async () => {
  using ns = new Netns();
  const dir = mkdtempSync(join(tmpdir(), "ynl-readme-"));
  try {
    const file = join(dir, "example.ts");
    writeFileSync(file, example(ns.name));
    const command = isBun ? [process.execPath, file] : [deno, "run", "--allow-ffi", file];
    const child = spawn(command[0], command.slice(1), { env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "", stderr = "";
    child.stderr.on("data", (d) => stderr += d);
    // Once the bridge exists the monitor starts (nothing tells when it has): a veth is made,
    // then its MTU changed every 300 ms until the monitor prints its name.
    let changes: ReturnType<typeof setInterval> | undefined;
    const seen = new Promise<void>((resolve) => {
      child.stdout.on("data", (d) => {
        stdout += d;
        if (/^yx0$/m.test(stdout)) resolve();
      });
      let mtu = 1500;
      changes = setInterval(() => {
        try {
          ns.ip("link", "show", "br0");
        } catch {
          return; // not made yet
        }
        if (mtu === 1500) ns.ip("link", "add", "yx0", "type", "veth", "peer", "name", "yx1");
        ns.ip("link", "set", "yx0", "mtu", String(--mtu));
      }, 300);
    });
    const exited = new Promise((resolve) => child.on("close", resolve));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    await Promise.race([seen, exited]);
    clearInterval(changes);
    child.kill("SIGKILL");
    clearTimeout(timer);
    await exited;
    assert.match(stdout, /^1 lo 65536$/m, stderr);
    assert.match(stdout, /^yx0$/m, stderr);
    const [br0] = ns.json<{ linkinfo: { info_kind: string; info_data: { stp_state: number } } }[]>(
      "-d",
      "link",
      "show",
      "br0",
    );
    assert.equal(br0.linkinfo.info_kind, "bridge");
    assert.equal(br0.linkinfo.info_data.stp_state, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("src/ynl/README.md's other examples run as written and print what their comments give", () => {
  // The mptcp_pm one lists an endpoint 10.9.0.1 with id 1; the ethtool one reads lo's features.
  using ns = new Netns([
    "link add e0 type veth peer name e1",
    "addr add 10.9.0.1/24 dev e0",
    "mptcp endpoint add 10.9.0.1 id 1",
  ]);
  const blocks = laterBlocks();
  assert.equal(blocks.length, 2);
  const printed: string[] = [];
  for (const code of blocks) {
    const child = runExampleInNetns(ns.name, code);
    assert.equal(child.status, 0, `${code}\n${child.stderr}`);
    printed.push(child.stdout);
  }
  assert.match(printed[0], /^1 10\.9\.0\.1$/m);
  assert.match(printed[1], /^\[\s*"tx-scatter-gather",/);
});

/** The README's ts blocks after its first, as code of their own (list items' indent removed). */
function laterBlocks(): string[] {
  const readme = readFileSync(join(root, "src/ynl/README.md"), "utf8");
  return [...readme.matchAll(/^( *)```ts\n([\s\S]*?)^ *```$/gm)].slice(1).map(([, indent, code]) =>
    code.split("\n").map((line) => line.slice(indent.length)).join("\n")
  );
}
