// Throwaway network namespaces for tests that need the real kernel, driven with iproute2.
// Works on both runtimes through node:child_process.

import { execFileSync, spawn } from "node:child_process";

/** Runs `ip ARGS...` and returns its stdout; throws with ip's stderr on failure. */
export function ip(...args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

let counter = 0;

/**
 * A fresh network namespace, deleted on dispose (`using ns = new Netns()`), holding what
 * `commands` (`ip -batch` lines) make; deleted at once if one of them fails.
 */
export class Netns implements Disposable {
  readonly name: string;

  constructor(commands: string[] = []) {
    this.name = `nltest-${process.pid}-${Date.now() % 100000}-${counter++}`;
    ip("netns", "add", this.name);
    try {
      // Loopback up so the namespace has its local routes, like a real host.
      this.ipBatch(["link set lo up", ...commands]);
    } catch (err) {
      this[Symbol.dispose]();
      throw err;
    }
  }

  /** `ip -n NAME ARGS...` */
  ip(...args: string[]): string {
    return ip("-n", this.name, ...args);
  }

  /** `ip -n NAME -batch -`: the commands, one per line, run by a single ip process. */
  ipBatch(commands: string[]): void {
    execFileSync("ip", ["-n", this.name, "-batch", "-"], {
      input: commands.join("\n") + "\n",
      stdio: ["pipe", "pipe", "pipe"],
    });
  }

  /** `ip -j -n NAME ARGS...`, parsed. */
  json<T = Record<string, unknown>[]>(...args: string[]): T {
    const out = ip("-j", "-n", this.name, ...args).trim();
    return (out ? JSON.parse(out) : []) as T;
  }

  /**
   * A process (`sleep`) inside the namespace, for what names a namespace by pid
   * (/proc/PID/ns/net, IFLA_NET_NS_PID); killed on dispose.
   */
  async process(): Promise<{ pid: number } & Disposable> {
    const child = spawn("ip", ["netns", "exec", this.name, "sleep", "60"], { stdio: "ignore" });
    // `ip netns exec` enters the namespace, then execs sleep: same pid, once it is inside.
    const pid = child.pid!;
    for (let i = 0; i < 100 && ip("netns", "identify", String(pid)).trim() !== this.name; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { pid, [Symbol.dispose]: () => child.kill() };
  }

  [Symbol.dispose](): void {
    try {
      ip("netns", "del", this.name);
    } catch {
      // Already gone: nothing to clean.
    }
  }
}

/** A namespace with `n` host routes (198.18.0.0/15, set aside for benchmarks) on lo. */
export function routesNetns(n: number): Netns {
  return new Netns(
    Array.from(
      { length: n },
      (_, i) => `route add 198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32 dev lo`,
    ),
  );
}

/** The columns of `sock`'s row in the namespace's /proc/net/netlink. */
function netlinkRow(ns: Netns, sock: { protocol: number; portid: number }): string[] {
  const table = execFileSync("ip", ["netns", "exec", ns.name, "cat", "/proc/net/netlink"], {
    encoding: "utf8",
  });
  for (const line of table.split("\n").slice(1)) {
    const row = line.trim().split(/\s+/); // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
    if (Number(row[1]) === sock.protocol && Number(row[2]) === sock.portid) return row;
  }
  throw new Error(`socket ${sock.portid} is not in /proc/net/netlink`);
}

/** Whether the kernel still runs a dump for `sock` (the Dump column of /proc/net/netlink). */
export function kernelDumping(ns: Netns, sock: { protocol: number; portid: number }): boolean {
  return netlinkRow(ns, sock)[6] === "1";
}

/** Bytes queued to `sock` in the namespace (the Rmem column of /proc/net/netlink). */
export function queuedBytes(ns: Netns, sock: { protocol: number; portid: number }): number {
  return Number(netlinkRow(ns, sock)[4]);
}
