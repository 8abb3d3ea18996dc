/**
 * The libc transport: netlink sockets through the runtime's built-in FFI (`Deno.dlopen` on
 * Deno, `bun:ffi` on Bun). The only module that knows which runtime it runs on.
 *
 * Importing it has no effect on either runtime: libc is opened, and the runtime checked, on the
 * first {@linkcode openTransport} call.
 *
 * @module
 */

import { SyscallError } from "../src/errors.ts";
import type { OpenTransport, Transport, TransportOptions } from "../src/transport.ts";
import { bunOptimizer, keepPerEventCodeFromFTL } from "./_bun_jit.ts";
import { loadBunLibc } from "./_bun_libc.ts";
import { newBunWaiter } from "./_bun_waiter.ts";
import { AF_NETLINK, SOCK_CLOEXEC, SOCK_RAW } from "./_constants.ts";
import { loadDenoLibc, loadDenoPool } from "./_deno_libc.ts";
import {
  createFile,
  type FileWriter,
  readDirectory as readDirectoryWith,
  readLink as readLinkWith,
  readRegularFile as readRegularFileWith,
  readWholeFile,
  type RegularFileRead,
  writeAll,
} from "./_file.ts";
import type { Libc } from "./_libc.ts";
import { createNamedNetns, deleteNamedNetns, openNetnsFile } from "./_netns.ts";
import { newPoolWaiter } from "./_pool_waiter.ts";
import { newSignalWaiter, type Signals } from "./_signal_waiter.ts";
import { openSocket, type Runtime } from "./_socket.ts";

let runtime: Runtime | undefined;

/** The longest delay both runtimes' timers take as given (longer ones fire at once). */
const FOREVER_MS = 0x7fffffff;

/** The parts of Bun's globals used here (bun-types: process.on, Timer.ref/unref, setImmediate). */
interface BunGlobals {
  process: { on(signal: "SIGURG", listener: () => void): void };
  setInterval(fn: () => void, ms: number): { ref(): void; unref(): void };
  setImmediate(run: () => void): void;
}

/** Bun's own setImmediate: native, some 7-15 us a turn. */
const bunDefer = (run: () => void) => (globalThis as unknown as BunGlobals).setImmediate(run);

/**
 * Deno's cheapest macrotask that loads nothing: a message through a fresh MessageChannel, both
 * ports closed when it arrives (some 90 us a turn). Deno's `setImmediate` would load the Node
 * compatibility layer on first use (24-47 ms, measured), `setTimeout(run, 0)` is clamped to 1-4
 * ms, and a long-lived port, once it has received, keeps the process alive even when unref'd
 * (measured on Deno 2.9.6). While the message is in flight, its port keeps the process alive, as
 * a pending setImmediate does. A port left open is never collected: it stays in Deno's resource
 * table, some 6 KB of memory each (measured: 100,000 turns grew the process by 600 MB).
 */
function denoDefer(run: () => void): void {
  const { port1, port2 } = new MessageChannel();
  port1.onmessage = () => {
    port1.close();
    port2.close();
    run();
  };
  port2.postMessage(null);
}

/** Bun's main thread's signals (a Worker waits with a poller Worker: see detect()). */
function bunSignals(): Signals {
  return {
    listen: (listener) => (globalThis as unknown as BunGlobals).process.on("SIGURG", listener),
    keepAlive() {
      const timer = (globalThis as unknown as BunGlobals).setInterval(() => {}, FOREVER_MS);
      timer.unref();
      return timer;
    },
    afterWake: bunOptimizer(),
  };
}

/**
 * Deno's first signal listener of a kind takes two descriptors, and Deno panics, killing the
 * process, when there are none left ("called `Result::unwrap()` on an `Err` value: ... Too many
 * open files", Deno 2.9.6, measured): a program at its descriptor limit (a socket per namespace,
 * say) would die at its first wait. So two are taken and given back first: without them, the
 * listener is not installed and the wait fails with EMFILE, which the socket reports.
 */
function denoSignals(libc: Libc): Signals {
  return {
    listen(listener) {
      const spare = [libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0)];
      if (spare[0] >= 0) spare.push(libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0));
      const errno = spare[spare.length - 1] < 0 ? libc.errno() : 0;
      for (const fd of spare) if (fd >= 0) libc.close(fd);
      if (errno !== 0) {
        throw new SyscallError(
          "socket",
          errno,
          "no descriptor left for Deno's signal listener, which netlink waits need (Deno would "
            + "abort the process without one): close descriptors, or raise the limit (ulimit -n)",
        );
      }
      Deno.addSignalListener("SIGURG", listener);
    },
    keepAlive() {
      const id = setInterval(() => {}, FOREVER_MS);
      Deno.unrefTimer(id);
      return { ref: () => Deno.refTimer(id), unref: () => Deno.unrefTimer(id) };
    },
  };
}

function detect(): Runtime {
  const g = globalThis as { Bun?: unknown; Deno?: { dlopen?: unknown } };
  // Bun first: Bun is the one that might someday provide a `Deno` global for compatibility.
  if (g.Bun !== undefined) {
    const libc = loadBunLibc();
    const flooded = keepPerEventCodeFromFTL();
    // Bun calls signal listeners on the main thread only: a Worker waits with a poller Worker.
    if ((g.Bun as { isMainThread?: boolean }).isMainThread === false) {
      return { libc, defer: bunDefer, flooded, newWaiter: (fd) => newBunWaiter(libc, fd) };
    }
    const signals = bunSignals();
    return {
      libc,
      defer: bunDefer,
      flooded,
      newWaiter: (fd) => newSignalWaiter(libc, signals, fd),
    };
  }
  if (typeof g.Deno?.dlopen === "function") {
    const libc = loadDenoLibc();
    // A poll on Deno's thread pool, which needs a way to unref the pending call; signals if not.
    const pool = loadDenoPool();
    if (pool !== undefined) {
      return { libc, defer: denoDefer, newWaiter: (fd) => newPoolWaiter(libc, pool, fd) };
    }
    const signals = denoSignals(libc);
    return { libc, defer: denoDefer, newWaiter: (fd) => newSignalWaiter(libc, signals, fd) };
  }
  throw new Error(
    "netlink: this runtime has no supported FFI; run on Deno 2 (with --allow-ffi) or Bun",
  );
}

/**
 * Opens and binds a netlink socket through libc (see {@linkcode OpenTransport}). The first call
 * loads libc; on an unsupported runtime (Node.js, browsers) it throws an Error saying so.
 */
export const openTransport: OpenTransport = (
  protocol: number,
  options: TransportOptions,
): Transport => openSocket(runtime ??= detect(), protocol, options);

export type { FileWriter };

/**
 * Creates (or truncates) the file at `path`, mode 0644, for synchronous writes through libc:
 * no runtime file API, no permission beyond --allow-ffi. Throws SyscallError (e.g. ENOENT).
 */
export function openFile(path: string): FileWriter {
  return createFile((runtime ??= detect()).libc, path);
}

/**
 * Reads the whole file at `path` as UTF-8 text through libc (for small files such as
 * /proc/net/psched): no runtime file API, no permission beyond --allow-ffi. Throws SyscallError
 * (e.g. ENOENT).
 */
export function readTextFile(path: string): string {
  return new TextDecoder().decode(readWholeFile((runtime ??= detect()).libc, path));
}

export type { RegularFileRead };

/**
 * Reads the regular file at `path` (symbolic links followed) through libc when it holds at most
 * `limit` bytes, for configuration files such as /etc/iproute2's: a FIFO, device or directory
 * in its place is reported, not read (it could block or never end), as is a larger file. Throws
 * SyscallError (e.g. ENOENT).
 */
export function readRegularFile(path: string, limit: number): RegularFileRead {
  return readRegularFileWith((runtime ??= detect()).libc, path, limit);
}

/**
 * The program's arguments, without the runtime and script (`Deno.args`, or `process.argv`
 * from the third on Bun). Not `node:process` on Deno: it loads the Node compatibility layer.
 */
export function commandLine(): string[] {
  const deno = denoNamespace();
  if (deno) return [...deno.args];
  return (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
}

/**
 * Writes `text` (UTF-8) to standard output through libc, whole, before returning. Throws
 * SyscallError: EPIPE once a pipe's reader is gone (the runtime's console drops the line
 * unsaid).
 */
export function writeStandardOutput(text: string): void {
  writeAll((runtime ??= detect()).libc, 1, (encoder ??= new TextEncoder()).encode(text));
}

let encoder: TextEncoder | undefined;

/** Sets the status the process exits with once its event loop is done (`Deno.exitCode`). */
export function setExitCode(code: number): void {
  const deno = denoNamespace();
  if (deno) deno.exitCode = code;
  else (globalThis as unknown as { process: { exitCode: number } }).process.exitCode = code;
}

/** Deno's namespace on Deno; undefined on Bun, checked first as in detect(). */
function denoNamespace(): { args: string[]; exitCode: number } | undefined {
  const g = globalThis as { Bun?: unknown; Deno?: { args: string[]; exitCode: number } };
  return g.Bun === undefined ? g.Deno : undefined;
}

/**
 * The names in directory `path` (not "." or "..") through libc, as /proc needs: no runtime file
 * API, no permission beyond --allow-ffi. Throws SyscallError (ENOENT, EACCES...).
 */
export function readDirectory(path: string): string[] {
  return readDirectoryWith((runtime ??= detect()).libc, path);
}

/** The target of the symbolic link at `path` through libc. Throws SyscallError. */
export function readLink(path: string): string {
  return readLinkWith((runtime ??= detect()).libc, path);
}

/** An open network namespace file: its descriptor, until {@linkcode NetnsFile.close}. */
export interface NetnsFile extends Disposable {
  /** The descriptor (O_RDONLY | O_CLOEXEC); -1 once closed. */
  readonly fd: number;
  /** Closes the descriptor. Idempotent. */
  close(): void;
}

/**
 * Opens the network namespace file at `path` (/run/netns/NAME, /proc/PID/ns/net) through libc,
 * as `open()` does for its `netns` option: no runtime file API, no permission beyond
 * --allow-ffi. For requests that name a namespace by descriptor (IFLA_NET_NS_FD); close it
 * once they are answered. Throws SyscallError ("no network namespace at PATH" for ENOENT).
 */
export function openNetns(path: string): NetnsFile {
  const libc = (runtime ??= detect()).libc;
  let fd = openNetnsFile(libc, path);
  const close = () => {
    if (fd < 0) return;
    libc.close(fd);
    fd = -1;
  };
  return {
    get fd() {
      return fd;
    },
    close,
    [Symbol.dispose]: close,
  };
}

/**
 * The environment variable `name`, or undefined when it is unset or this process may not read
 * it: on Deno without --allow-env (for it), where asking would throw or prompt, it is never
 * asked for. Never throws.
 */
export function environment(name: string): string | undefined {
  const g = globalThis as {
    Bun?: unknown;
    process?: { env?: Record<string, string | undefined> };
    Deno?: {
      env?: { get(name: string): string | undefined };
      permissions?: { querySync?(d: { name: "env"; variable: string }): { state: string } };
    };
  };
  try {
    if (g.Bun !== undefined) return g.process?.env?.[name];
    const state = g.Deno?.permissions?.querySync?.({ name: "env", variable: name }).state;
    return state === "granted" ? g.Deno?.env?.get(name) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates the network namespace `ip netns` names `name` (/run/netns/NAME), as `ip netns add`
 * does, on the calling thread, which is back in its own namespace when this returns or throws.
 * `name` must be checked already. Throws SyscallError (EEXIST when the name is taken, EPERM
 * without CAP_SYS_ADMIN).
 */
export function createNetnsNamed(name: string): void {
  createNamedNetns((runtime ??= detect()).libc, name);
}

/**
 * Deletes the `ip netns` name `name` (checked already) as `ip netns delete` does. Throws
 * SyscallError (ENOENT "no network namespace named NAME").
 */
export function deleteNetnsNamed(name: string): void {
  deleteNamedNetns((runtime ??= detect()).libc, name);
}
