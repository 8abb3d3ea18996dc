// Helpers for the sock_diag tests: a process that opens sockets inside a namespace (python3, the
// same on both runtimes), and `ss` run in that namespace, its lines split into fields.

import { execFileSync, spawn } from "node:child_process";
import type { InetSocket } from "../../src/diag/mod.ts";
import type { Netns } from "../host/_netns.ts";

/** A python3 process in `ns` that ran `setup` and holds its sockets until disposed (killed). */
export interface SocketHolder extends AsyncDisposable {
  /** The lines `setup` printed before "ready". */
  readonly lines: string[];
  readonly pid: number;
}

/**
 * Runs python3 `setup` in the namespace; its sockets live until the holder is disposed (the
 * process is killed). `setup` may print lines; the helper prints "ready" after it.
 */
export function holdSockets(ns: Netns, setup: string): Promise<SocketHolder> {
  const code =
    `import socket, os, sys, time\n${setup}\nprint("ready", flush=True)\nwhile True: time.sleep(60)\n`;
  const child = spawn("ip", ["netns", "exec", ns.name, "python3", "-c", code], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let out = "", err = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`python did not get ready: ${err}`));
    }, 10_000);
    child.stderr.on("data", (d) => err += d);
    const early = (status: number | null) => {
      clearTimeout(timer);
      reject(new Error(`python exited (${status}) before ready: ${err}`));
    };
    child.on("exit", early);
    child.stdout.on("data", (d) => {
      out += d;
      const lines = out.split("\n");
      const ready = lines.indexOf("ready");
      if (ready < 0) return;
      clearTimeout(timer);
      child.off("exit", early);
      resolve({
        lines: lines.slice(0, ready),
        pid: child.pid!,
        [Symbol.asyncDispose]: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            const timer = setTimeout(() => child.kill("SIGKILL"), 2_000);
            child.on("exit", () => {
              clearTimeout(timer);
              done();
            });
            child.kill("SIGTERM");
          }),
      });
    });
  });
}

/** `ss ARGS` in the namespace, without its header: one array of whitespace-split fields a line. */
export function ss(ns: Netns, ...args: string[]): string[][] {
  const out = execFileSync("ip", ["netns", "exec", ns.name, "ss", "-H", ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return out.split("\n").filter((line) => line.trim() && !line.startsWith("\t")).map((line) =>
    line.trim().split(/\s+/)
  );
}

/** The value of a `name:value` field of an ss line (`ino:123`), or undefined. */
export function field(line: readonly string[], name: string): string | undefined {
  return line.find((f) => f.startsWith(`${name}:`))?.slice(name.length + 1);
}

/** How ss names a state in its State column. */
export function ssState(state: string): string {
  const names: Record<string, string> = { established: "ESTAB", close: "UNCONN" };
  return names[state] ?? state.toUpperCase();
}

/**
 * How ss -n prints an inet address and port: IPv6 in brackets, the IPv6 any-address as `*` (but
 * as `[::]` on a v6only socket), `%device` for a socket bound to one, port 0 as `*`.
 */
export function ssEndpoint(
  family: "inet" | "inet6",
  endpoint: { address: string; port: number },
  v6only = false,
  device?: string,
): string {
  const address = family === "inet6"
    ? (endpoint.address === "::" && !v6only ? "*" : `[${endpoint.address}]`)
    : endpoint.address;
  return `${address}${device ? `%${device}` : ""}:${endpoint.port === 0 ? "*" : endpoint.port}`;
}

/** `ss ARGS` in the namespace, without its header, as text (continuation lines included). */
export function ssText(ns: Netns, ...args: string[]): string {
  return execFileSync("ip", ["netns", "exec", ns.name, "ss", "-H", ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** The fields ss -tanHe shows, from the library's view of a socket. */
export function inetAsSs(s: InetSocket): string {
  return [
    ssState(s.state),
    s.receiveQueue,
    s.sendQueue,
    ssEndpoint(s.family, s.local, s.v6only, s.interface === 1 ? "lo" : undefined),
    ssEndpoint(s.family, s.peer, s.v6only),
    `ino:${s.inode}`,
    `sk:${s.cookie.toString(16)}`,
    `uid:${s.uid}`,
    shutdownArrow(s.shutdown),
  ].join(" ");
}

/**
 * The same fields from an ss -tanHe line. With a filter on one state ss leaves out the State
 * column: `state` puts it back.
 */
export function fromSs(line: string[], state?: string): string {
  const [recvQ, sendQ, local, peer] = state === undefined ? line.slice(1) : line;
  state ??= line[0];
  return [
    state,
    recvQ,
    sendQ,
    local,
    peer,
    `ino:${field(line, "ino") ?? 0}`,
    `sk:${field(line, "sk")}`,
    `uid:${field(line, "uid") ?? 0}`,
    ssArrow(line),
  ].join(" ");
}

/** How ss -e shows a shutdown state: `<->` open, `--\>` no receiving, `<--` no sending. */
export function shutdownArrow(mask: number | undefined): string {
  return mask === undefined ? "" : `${mask & 1 ? "-" : "<"}-${mask & 2 ? "-" : ">"}`;
}

/** The shutdown arrow of an ss -e line, or "" when it has none. */
export function ssArrow(line: readonly string[]): string {
  return line.find((f) => /^[<-]-[>-]$/.test(f)) ?? "";
}
