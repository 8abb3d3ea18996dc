// Running the command-line tool as a process on the runtime running the test (deno test: Deno,
// bun test: Bun), for the tests that compare it with ip and tc.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Netns } from "../host/_netns.ts";

/** The tool's entry point. */
export const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

/** The command that runs the tool on this runtime. */
export const RUNTIME = process.versions.bun
  ? [process.execPath, CLI]
  : [process.execPath, "run", "-A", CLI];

/** How a process ended and what it printed. */
export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `prefix... RUNTIME... args...`. */
export function cli(args: string[], prefix: string[] = []): Result {
  const [command, ...rest] = [...prefix, ...RUNTIME, ...args];
  // A command that hangs (a monitor with no end) fails its test instead of hanging the suite.
  const { status, stdout, stderr } = spawnSync(command, rest, {
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status, stdout, stderr };
}

/** The tool's --json output for `args` in `ns`, which must succeed. */
export function cliJson<T = Record<string, unknown>[]>(ns: Netns, ...args: string[]): T {
  const result = cli(["--netns", ns.name, "--json", ...args]);
  assert.equal(result.status, 0, `netlink ${args.join(" ")}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/**
 * A namespace holding what `commands` make, its links without IPv6 link-local addresses (and
 * their routes), which come and go with DAD between two reads. With `ipv6: false`, its links
 * have no IPv6 at all: no IPv6 route (ff00::/8, fe80::/64) appears when a veth's carrier comes
 * up, which the kernel signals a moment after the link is set up (linkwatch), maybe after a
 * monitor started.
 */
export function quietNetns(commands: string[], { ipv6 = true } = {}): Netns {
  const ns = new Netns();
  try {
    const sysctl = ["net.ipv6.conf.default.addr_gen_mode=1"];
    if (!ipv6) {
      sysctl.push("net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
    }
    spawnSync("ip", ["netns", "exec", ns.name, "sysctl", "-qw", ...sysctl]);
    ns.ipBatch(commands);
    return ns;
  } catch (error) {
    ns[Symbol.dispose]();
    throw error;
  }
}
