// Running iproute2's `tc` in a test namespace: its JSON, its text, and the exact request bytes it
// sends (from `strace -e write=FD`), to compare the library's requests with byte for byte.

import { execFileSync, spawnSync } from "node:child_process";
import { decodeMessages } from "../../src/message.ts";
import type { Netns } from "../host/_netns.ts";

/** `tc ARGS...` in the namespace; its stdout. */
export function tcRun(ns: Netns, ...args: string[]): string {
  return execFileSync("ip", ["netns", "exec", ns.name, "tc", ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** `tc -j ARGS...` parsed. */
export function tcJson<T = Record<string, unknown>[]>(ns: Netns, ...args: string[]): T {
  const out = tcRun(ns, "-j", ...args).trim();
  return (out ? JSON.parse(out) : []) as T;
}

/**
 * Runs `tc ARGS...` under strace and returns the payload (after the nlmsghdr) of the first
 * message it sent of `type`: the request tc builds for these arguments, whether or not the
 * kernel then accepts it (a qdisc kind this kernel lacks is still encoded by tc).
 */
export function tcRequest(ns: Netns, type: number, ...args: string[]): Uint8Array {
  const { stderr: trace } = spawnSync(
    "ip",
    [
      ...["netns", "exec", ns.name, "strace", "-qq", "-e", "trace=sendmsg", "-e", "write=3"],
      ...["tc", ...args],
    ],
    { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"], maxBuffer: 1 << 24 },
  );
  // strace dumps each sendmsg as " | OFFSET  hex bytes ... | ascii |" lines after a
  // " * N bytes in buffer 0" line.
  const dumps: number[][] = [];
  for (const line of trace.split("\n")) {
    if (line.includes("bytes in buffer")) dumps.push([]);
    const match = /^\s*\d*\s*\| [0-9a-f]{5} {2}((?:[0-9a-f]{2} {1,2}){1,16})/.exec(line);
    if (match && dumps.length) {
      dumps[dumps.length - 1].push(...match[1].trim().split(/\s+/).map((h) => parseInt(h, 16)));
    }
  }
  for (const dump of dumps) {
    const [message] = decodeMessages(new Uint8Array(dump));
    if (message?.type === type) return message.payload;
  }
  throw new Error(`tc ${args.join(" ")} sent no message of type ${type}:\n${trace}`);
}
