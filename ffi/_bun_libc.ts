/**
 * {@linkcode Libc} over `bun:ffi`.
 *
 * Importing this module does nothing and never names "bun:ffi" in an import statement (Deno
 * could not resolve it, and `deno check`/`deno publish` of the package would fail):
 * {@linkcode loadBunLibc} loads it with Bun's `import.meta.require` on first use.
 *
 * @module
 */

import { perEventCode } from "../src/_per_event.ts";
import type { Libc } from "./_libc.ts";

/** glibc's soname; musl is not supported. */
const LIBC = "libc.so.6";

/**
 * The part of "bun:ffi" used here, checked against bun-types 1.4.4 (ffi.d.ts): `dlopen(name,
 * symbols)` returns `{ symbols, close }`; `ptr(view)` returns the address as a number;
 * `toArrayBuffer(address, byteOffset, byteLength)` views foreign memory. Argument and result
 * types are the FFIType names below ("i32", "u32", "u64", "ptr").
 */
interface BunFfi {
  dlopen(
    name: string,
    symbols: Record<string, { args: readonly string[]; returns: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown>; close(): void };
  ptr(view: ArrayBufferView, byteOffset?: number): number;
  toArrayBuffer(address: number, byteOffset?: number, byteLength?: number): ArrayBuffer;
}

/** The part of the `Bun` global used here (bun-types 1.4.4, bun.d.ts): memory left unzeroed. */
interface BunGlobal {
  allocUnsafe(size: number): Uint8Array;
}

// ssize_t results are declared "i32": x86-64 and aarch64 return them in one 64-bit register
// whose low half is the int value (-1 stays -1), and "i32" is a plain number where "i64" would
// be a BigInt. Nothing read or written comes near 2 GiB. "ptr" arguments take a Uint8Array and
// Bun passes its address at call time.
const SYMBOLS = {
  socket: { args: ["i32", "i32", "i32"], returns: "i32" },
  bind: { args: ["i32", "ptr", "u32"], returns: "i32" },
  getsockname: { args: ["i32", "ptr", "ptr"], returns: "i32" },
  setsockopt: { args: ["i32", "i32", "i32", "ptr", "u32"], returns: "i32" },
  getsockopt: { args: ["i32", "i32", "i32", "ptr", "ptr"], returns: "i32" },
  sendto: { args: ["i32", "ptr", "u64", "i32", "ptr", "u32"], returns: "i32" },
  recvmmsg: { args: ["i32", "ptr", "u32", "i32", "ptr"], returns: "i32" },
  recvmsg: { args: ["i32", "ptr", "i32"], returns: "i32" },
  poll: { args: ["ptr", "u64", "i32"], returns: "i32" },
  close: { args: ["i32"], returns: "i32" },
  eventfd: { args: ["u32", "i32"], returns: "i32" },
  read: { args: ["i32", "ptr", "u64"], returns: "i32" },
  write: { args: ["i32", "ptr", "u64"], returns: "i32" },
  getdents64: { args: ["i32", "ptr", "u64"], returns: "i32" },
  readlink: { args: ["ptr", "ptr", "u64"], returns: "i32" },
  // open is variadic; its mode, read only with O_CREAT, goes in the register a third fixed
  // parameter uses on x86-64 and aarch64.
  open: { args: ["ptr", "i32", "u32"], returns: "i32" },
  setns: { args: ["i32", "i32"], returns: "i32" },
  statx: { args: ["i32", "ptr", "i32", "u32", "ptr"], returns: "i32" },
  // fcntl is variadic; every command used here takes an int, passed in the register a third
  // fixed int parameter uses on x86-64 and aarch64.
  fcntl: { args: ["i32", "i32", "i32"], returns: "i32" },
  getpid: { args: [], returns: "i32" },
  __errno_location: { args: [], returns: "ptr" },
} as const;

/**
 * What creating and deleting a named network namespace uses (ffi/_netns.ts): bound by a second
 * dlopen on first use, since Bun compiles a stub per symbol when it opens them and a script that
 * never makes a namespace should not pay for these.
 */
const NAMESPACES = {
  unshare: { args: ["i32"], returns: "i32" },
  mount: { args: ["ptr", "ptr", "ptr", "u64", "ptr"], returns: "i32" },
  umount2: { args: ["ptr", "i32"], returns: "i32" },
  unlink: { args: ["ptr"], returns: "i32" },
  mkdir: { args: ["ptr", "u32"], returns: "i32" },
  flock: { args: ["i32", "i32"], returns: "i32" },
} as const;

interface NamespaceSymbols {
  unshare: Fn<[number]>;
  mount: Fn<[Uint8Array, Uint8Array, Uint8Array, number, null]>;
  umount2: Fn<[Uint8Array, number]>;
  unlink: Fn<[Uint8Array]>;
  mkdir: Fn<[Uint8Array, number]>;
  flock: Fn<[number, number]>;
}

type Fn<A extends unknown[]> = (...args: A) => number;

interface Symbols {
  socket: Fn<[number, number, number]>;
  bind: Fn<[number, Uint8Array, number]>;
  getsockname: Fn<[number, Uint8Array, Uint8Array]>;
  setsockopt: Fn<[number, number, number, Uint8Array, number]>;
  getsockopt: Fn<[number, number, number, Uint8Array, Uint8Array]>;
  sendto: Fn<[number, Uint8Array, number, number, Uint8Array, number]>;
  recvmmsg: Fn<[number, Uint8Array, number, number, null]>;
  recvmsg: Fn<[number, Uint8Array, number]>;
  poll: Fn<[Uint8Array, number, number]>;
  close: Fn<[number]>;
  eventfd: Fn<[number, number]>;
  read: Fn<[number, Uint8Array, number]>;
  write: Fn<[number, Uint8Array, number]>;
  getdents64: Fn<[number, Uint8Array, number]>;
  readlink: Fn<[Uint8Array, Uint8Array, number]>;
  open: Fn<[Uint8Array, number, number]>;
  setns: Fn<[number, number]>;
  statx: Fn<[number, Uint8Array, number, number, Uint8Array]>;
  fcntl: Fn<[number, number, number]>;
  getpid: Fn<[]>;
  __errno_location: Fn<[]>;
}

/** {@linkcode Libc} plus the calls only the poller Worker fallback (`_bun_waiter.ts`) uses. */
export interface BunLibc extends Libc {
  /** eventfd(2). */
  eventfd(initval: number, flags: number): number;
}

let loaded: BunLibc | undefined;

/** Opens libc once per thread (each Worker has its own module instance and errno view). */
export function loadBunLibc(): BunLibc {
  return loaded ??= open();
}

// The calls a read makes (recvmmsg, errno) are arrows of this module: see src/_per_event.ts.
perEventCode(() => loaded === undefined ? [] : Object.values(loaded));

function open(): BunLibc {
  const ffi = (import.meta as unknown as { require(id: string): BunFfi }).require("bun:ffi");
  const lib = ffi.dlopen(LIBC, SYMBOLS).symbols as unknown as Symbols;
  // errno is thread-local: a view over this thread's errno, read after a failed synchronous
  // call (~1 ns, instead of calling __errno_location each time). Reading an exported `errno`
  // symbol crashes Bun (oven-sh/bun#22212).
  const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
  const errnoView = new Int32Array(ffi.toArrayBuffer(lib.__errno_location(), 0, 4));
  let namespaceSymbols: NamespaceSymbols | undefined;
  const namespaces = () =>
    namespaceSymbols ??= ffi.dlopen(LIBC, NAMESPACES).symbols as unknown as NamespaceSymbols;
  return {
    socket: lib.socket,
    bind: lib.bind,
    getsockname: lib.getsockname,
    setsockopt: lib.setsockopt,
    getsockopt: lib.getsockopt,
    sendto: lib.sendto,
    recvmmsg: (fd, msgvec, vlen, flags) => lib.recvmmsg(fd, msgvec, vlen, flags, null),
    recvmsg: lib.recvmsg,
    poll: lib.poll,
    close: lib.close,
    eventfd: lib.eventfd,
    read: lib.read,
    write: lib.write,
    getdents64: lib.getdents64,
    readlink: lib.readlink,
    open: lib.open,
    setns: lib.setns,
    unshare: (flags) => namespaces().unshare(flags),
    mount: (source, target, fstype, flags) =>
      namespaces().mount(source, target, fstype, flags, null),
    umount2: (target, flags) => namespaces().umount2(target, flags),
    unlink: (path) => namespaces().unlink(path),
    mkdir: (path, mode) => namespaces().mkdir(path, mode),
    flock: (fd, operation) => namespaces().flock(fd, operation),
    statx: lib.statx,
    fcntl: lib.fcntl,
    getpid: lib.getpid,
    errno: () => errnoView[0],
    // Not `new Uint8Array(size)`: a small typed array can be moved by JSC when its `.buffer`
    // is first materialized, leaving any stored address stale (oven-sh/bun#32054). A view over
    // an explicit ArrayBuffer has a fixed backing store.
    alloc: (size) => new Uint8Array(new ArrayBuffer(size)),
    // JSC zeroes a new ArrayBuffer itself, page by page, unless it knows the pages fresh from the
    // kernel: the 8 MiB of the receive slots cost 23-36 ms of page faults in most cold processes
    // (measured), before the first reply could be read. Bun.allocUnsafe skips that; a buffer this
    // large is allocated out of line and never moves.
    allocUnzeroed: (size) =>
      size < 1 << 16 ? new Uint8Array(new ArrayBuffer(size)) : bun.allocUnsafe(size),
    address: (buf) => BigInt(ffi.ptr(buf)),
  };
}
