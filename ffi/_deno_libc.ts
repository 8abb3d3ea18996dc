/**
 * {@linkcode Libc} over `Deno.dlopen`.
 *
 * Importing this module does nothing; {@linkcode loadDenoLibc} opens libc on first use.
 *
 * @module
 */

import { EFD_CLOEXEC, EFD_NONBLOCK } from "./_constants.ts";
import type { Libc } from "./_libc.ts";
import type { Pool } from "./_pool_waiter.ts";

/** glibc's soname; musl is not supported. */
const LIBC = "libc.so.6";

// ssize_t results are declared "i32": both x86-64 and aarch64 return them in one 64-bit
// register whose low half is the int value (-1 stays -1), and "i32" gives a JS number where
// "isize" would allocate a BigInt per call. Nothing we read or write comes near 2 GiB.
// size_t/nfds_t parameters are "usize"/"u64" and get BigInts: a JS number there takes a slow
// path (636-730 ns vs ~150 ns per call, measured).
// Bound in groups, each on first use: Deno.dlopen compiles a call stub per symbol, at
// some 0.3 ms each on top of 3 ms for the first call (measured: 21 symbols 8.7-10.2 ms, 8 of
// them 5-6 ms), and a script that dumps or asks something once uses only the first group.
/** What every socket uses. */
const CORE = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "i32" },
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** What waiting for data uses (ffi/_signal_waiter.ts). */
const WAIT = {
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  // fcntl is variadic; every command used here takes an int, passed in the register a third
  // fixed int parameter uses on x86-64 and aarch64.
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  getpid: { parameters: [], result: "i32" },
} as const;

/** What waiting on the runtime's thread pool uses (ffi/_pool_waiter.ts). */
const POOL = {
  pollOnPool: {
    name: "poll",
    parameters: ["buffer", "u64", "i32"],
    result: "i32",
    nonblocking: true,
  },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  // read and write again, for the eventfd's 8-byte counter: REST is seven symbols to bind.
  readCounter: { name: "read", parameters: ["i32", "buffer", "usize"], result: "i32" },
  writeCounter: { name: "write", parameters: ["i32", "buffer", "usize"], result: "i32" },
} as const;

/** The rest: socket options read back, files, network namespaces. */
const REST = {
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  // open is variadic; its mode, read only with O_CREAT, goes in the register a third fixed
  // parameter uses on x86-64 and aarch64.
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  getdents64: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  readlink: { parameters: ["buffer", "buffer", "usize"], result: "i32" },
  setns: { parameters: ["i32", "i32"], result: "i32" },
} as const;

/** What creating and deleting a named network namespace uses (ffi/_netns.ts). */
const NAMESPACES = {
  unshare: { parameters: ["i32"], result: "i32" },
  mount: { parameters: ["buffer", "buffer", "buffer", "usize", "pointer"], result: "i32" },
  umount2: { parameters: ["buffer", "i32"], result: "i32" },
  unlink: { parameters: ["buffer"], result: "i32" },
  mkdir: { parameters: ["buffer", "u32"], result: "i32" },
  flock: { parameters: ["i32", "i32"], result: "i32" },
} as const;

/** A file's type, which only reading a name database asks (src/cli/_rt_names.ts). */
const STAT = {
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
} as const;

/** The symbols of `defs`, bound on the first call. */
function lazily<const S extends Deno.ForeignLibraryInterface>(
  defs: S,
): () => Deno.StaticForeignLibraryInterface<S> {
  let symbols: Deno.StaticForeignLibraryInterface<S> | undefined;
  return () => symbols ??= Deno.dlopen(LIBC, defs).symbols;
}

let loaded: Libc | undefined;

/**
 * Opens libc (once per thread: each Worker has its own module instance, hence its own errno
 * view). Throws Deno's own error when --allow-ffi is missing.
 */
export function loadDenoLibc(): Libc {
  return loaded ??= open();
}

function open(): Libc {
  const lib = Deno.dlopen(LIBC, CORE).symbols;
  const wait = lazily(WAIT);
  const rest = lazily(REST);
  const stat = lazily(STAT);
  const namespaces = lazily(NAMESPACES);
  // errno is thread-local: this view is over *this* thread's errno, which is the thread every
  // synchronous call runs on. Reading it costs ~1 ns; calling __errno_location 20-65 ns.
  const errnoPtr = lib.__errno_location();
  if (errnoPtr === null) throw new Error("__errno_location() returned NULL");
  const errnoView = new Int32Array(new Deno.UnsafePointerView(errnoPtr).getArrayBuffer(4));
  // The symbols themselves where nothing is converted: a wrapper would be one more call, cold,
  // in every event's reads (Deno calls them as plain functions).
  return {
    socket: lib.socket,
    bind: lib.bind,
    getsockname: lib.getsockname,
    setsockopt: lib.setsockopt,
    getsockopt: (fd, level, name, value, len) => rest().getsockopt(fd, level, name, value, len),
    sendto: (fd, buf, len, flags, addr, addrlen) =>
      lib.sendto(fd, buf, BigInt(len), flags, addr, addrlen),
    recvmmsg: (fd, msgvec, vlen, flags) => lib.recvmmsg(fd, msgvec, vlen, flags, null),
    recvmsg: lib.recvmsg,
    poll: (fds, nfds, timeout) => wait().poll(fds, BigInt(nfds), timeout),
    close: lib.close,
    open: (path, flags, mode) => rest().open(path, flags, mode),
    read: (fd, buf, len) => rest().read(fd, buf, BigInt(len)),
    write: (fd, buf, len) => rest().write(fd, buf, BigInt(len)),
    getdents64: (fd, buf, len) => rest().getdents64(fd, buf, BigInt(len)),
    readlink: (path, buf, len) => rest().readlink(path, buf, BigInt(len)),
    setns: (fd, nstype) => rest().setns(fd, nstype),
    unshare: (flags) => namespaces().unshare(flags),
    mount: (source, target, fstype, flags) =>
      namespaces().mount(source, target, fstype, BigInt(flags), null),
    umount2: (target, flags) => namespaces().umount2(target, flags),
    unlink: (path) => namespaces().unlink(path),
    mkdir: (path, mode) => namespaces().mkdir(path, mode),
    flock: (fd, operation) => namespaces().flock(fd, operation),
    statx: (dirfd, path, flags, mask, buf) => stat().statx(dirfd, path, flags, mask, buf),
    fcntl: (fd, cmd, arg) => wait().fcntl(fd, cmd, arg),
    getpid: () => wait().getpid(),
    errno: () => errnoView[0],
    // V8 never moves an ArrayBuffer's backing store.
    alloc: (size) => new Uint8Array(size),
    // V8 gets zeroed memory from calloc, which maps large sizes untouched: nothing to skip.
    allocUnzeroed: (size) => new Uint8Array(size),
    address: (buf) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf))),
  };
}

/** The parts of Deno's internal core used here (Deno 2.9: `Deno[Deno.internal].core`). */
interface DenoCore {
  unrefOpPromise(promise: Promise<unknown>): void;
  refOpPromise(promise: Promise<unknown>): void;
}

/**
 * Deno's thread-pool calls for {@linkcode Pool}, or undefined when this Deno cannot unref a
 * pending call (`core.unrefOpPromise` missing: a pending call would keep the process alive).
 */
export function loadDenoPool(): Pool | undefined {
  const deno = Deno as unknown as Record<symbol, { core?: Partial<DenoCore> } | undefined>;
  const internal = (Deno as unknown as { internal?: symbol }).internal;
  const core = internal === undefined ? undefined : deno[internal]?.core;
  if (typeof core?.unrefOpPromise !== "function" || typeof core.refOpPromise !== "function") {
    return undefined;
  }
  const { unrefOpPromise, refOpPromise } = core as DenoCore;
  const load = lazily(POOL);
  // Bound by the first wait's eventfd(); then read directly, not through load(): the poll is
  // started again at every event.
  let pool: ReturnType<typeof load> | undefined;
  return {
    poll: (fds, nfds, timeout) => pool!.pollOnPool(fds, BigInt(nfds), timeout),
    eventfd: () => (pool ??= load()).eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC),
    readCounter: (fd, counter) => pool!.readCounter(fd, counter, 8n),
    writeCounter: (fd, counter) => pool!.writeCounter(fd, counter, 8n),
    unref: (promise) => unrefOpPromise(promise),
    ref: (promise) => refOpPromise(promise),
  };
}
