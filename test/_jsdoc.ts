// The JSDoc examples of a source file, as a new user would paste them: the ```ts blocks under
// @example, with the package's import names ("@netlink/netlink/route"...) pointing at this
// checkout's files, as deno.json's "exports" maps them.

import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

const root = new URL("../", import.meta.url).pathname;
const exportsMap: Record<string, string> =
  JSON.parse(readFileSync(join(root, "deno.json"), "utf8")).exports;

/** Each ```ts block of `file`'s JSDoc: where it starts (`file:line`) and its code. */
export function jsdocExamples(file: string): { where: string; code: string }[] {
  const lines = readFileSync(join(root, file), "utf8").split("\n");
  const found: { where: string; code: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\* ```ts$/.test(lines[i])) continue;
    const start = i + 1;
    const code: string[] = [];
    while (!/^\s*\* ```$/.test(lines[++i])) code.push(lines[i].replace(/^\s*\* ?/, ""));
    found.push({ where: `${file}:${start}`, code: code.join("\n") });
  }
  return found;
}

/** `code` with each "@netlink/netlink..." import naming the checkout's file for that export. */
export function importsFromCheckout(code: string): string {
  return code.replace(/"@netlink\/netlink(\/[a-z0-9/-]+)?"/g, (name, sub: string | undefined) => {
    const file = exportsMap[sub === undefined ? "." : `.${sub}`];
    if (file === undefined) throw new Error(`${name} is not in deno.json's exports`);
    return JSON.stringify(join(root, file));
  });
}

/**
 * The values an example's comments say it prints: `console.log(x); // 16` (or `// 18: RTM_GETLINK`,
 * `// "nope"`, `// EPERM`) promises a line printing that, quotes removed. Comments that describe
 * rather than quote a value are left alone.
 */
export function promisedValues(code: string): string[] {
  return [
    ...code.matchAll(/console\.log\(.*\/\/ (-?\d+|true|false|"[^"]*"|[A-Z][A-Z0-9_]+)(:.*)?$/gm),
  ].map(([, value]) => value.replace(/^"(.*)"$/, "$1"));
}

/**
 * Runs the script `file` in network namespace `netns` as a user would, on the runtime running
 * the tests: `bun FILE`, or `deno run --allow-ffi FILE` (the one permission the README asks for;
 * --no-check: scripts/check.sh type-checks the examples).
 */
export function runInNetns(netns: string, file: string): SpawnSyncReturns<string> {
  const runtime = "Bun" in globalThis
    ? [process.execPath, file]
    : [process.execPath, "run", "--no-check", "--allow-ffi", file];
  return spawnSync("ip", ["netns", "exec", netns, ...runtime], {
    encoding: "utf8",
    timeout: 30_000,
    env: { ...process.env, NO_COLOR: "1" },
  });
}

/**
 * Runs an example's `code` as pasted into a file of its own ({@linkcode importsFromCheckout}, the
 * namespace "blue" it may name made the one it runs in) in network namespace `netns`:
 * {@linkcode runInNetns}.
 */
export function runExampleInNetns(netns: string, code: string): SpawnSyncReturns<string> {
  const dir = mkdtempSync(join(tmpdir(), "jsdoc-example-"));
  try {
    const file = join(dir, "example.ts");
    writeFileSync(
      file,
      importsFromCheckout(code).replaceAll("netns: \"blue\"", "netns: \"/proc/self/ns/net\""),
    );
    return runInNetns(netns, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
