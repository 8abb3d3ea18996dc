/**
 * The libc calls the transport needs, as one small interface with a Deno and a Bun
 * implementation (`_deno_libc.ts`, `_bun_libc.ts`). Everything above it (struct encoding, the
 * socket logic in `_socket.ts`) is written once against this interface.
 *
 * Conventions, shared by both implementations so callers can't tell them apart:
 * - Every call returns what libc returns: -1 on failure, after which {@linkcode Libc.errno}
 *   must be read before any other call on this thread.
 * - Buffers are passed as `Uint8Array` and the runtime passes their current address at call time,
 *   so they may be any `Uint8Array`. Only memory whose address is *stored* (inside a msghdr,
 *   iovec...) must come from {@linkcode Libc.alloc}, whose address never changes.
 * - `ssize_t` results are returned as numbers: a datagram or a write is never near 2 GiB.
 * - `size_t` arguments are numbers; an implementation converts them if its FFI needs to.
 *
 * @module
 */

/** Synchronous libc calls on the calling thread. */
export interface Libc {
  /** socket(2). */
  socket(domain: number, type: number, protocol: number): number;
  /** bind(2). */
  bind(fd: number, addr: Uint8Array, addrlen: number): number;
  /** getsockname(2); `addrlen` holds a socklen_t, in and out. */
  getsockname(fd: number, addr: Uint8Array, addrlen: Uint8Array): number;
  /** setsockopt(2). */
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  /** getsockopt(2); `len` holds a socklen_t, in and out. */
  getsockopt(fd: number, level: number, name: number, value: Uint8Array, len: Uint8Array): number;
  /** sendto(2) of `buf[0..len)`. */
  sendto(
    fd: number,
    buf: Uint8Array,
    len: number,
    flags: number,
    addr: Uint8Array,
    addrlen: number,
  ): number;
  /**
   * recvmmsg(2) with no timeout: up to `vlen` datagrams into the struct mmsghdr array `msgvec`,
   * whose pointers come from {@linkcode Libc.alloc}.
   */
  recvmmsg(fd: number, msgvec: Uint8Array, vlen: number, flags: number): number;
  /**
   * recvmsg(2): one datagram, as the struct msghdr `msg` (pointers from {@linkcode Libc.alloc})
   * describes. The read of one a wake-up starts with: cold, it cost 3 us less than a recvmmsg of
   * one (ffi/README.md, Receive path).
   */
  recvmsg(fd: number, msg: Uint8Array, flags: number): number;
  /** poll(2); the waiter only ever calls it with timeout 0. */
  poll(fds: Uint8Array, nfds: number, timeout: number): number;
  /** close(2). */
  close(fd: number): number;
  /** open(2); `path` is NUL-terminated, `mode` is read only with O_CREAT. */
  open(path: Uint8Array, flags: number, mode: number): number;
  /** fcntl(2) with an int argument (F_GETFL, F_SETFL, F_SETOWN, F_SETSIG). */
  fcntl(fd: number, cmd: number, arg: number): number;
  /** getpid(2). */
  getpid(): number;
  /** read(2) into `buf[0..len)`. */
  read(fd: number, buf: Uint8Array, len: number): number;
  /** write(2). */
  write(fd: number, buf: Uint8Array, len: number): number;
  /** getdents64(2) (glibc 2.30+): struct linux_dirent64 records into `buf[0..len)`. */
  getdents64(fd: number, buf: Uint8Array, len: number): number;
  /** readlink(2) of a NUL-terminated `path` into `buf[0..len)` (no NUL appended). */
  readlink(path: Uint8Array, buf: Uint8Array, len: number): number;
  /**
   * statx(2) (glibc 2.28+) into `buf`, a struct statx (256 bytes): one layout on every
   * architecture, unlike struct stat. With AT_EMPTY_PATH and an empty `path`, of descriptor `dirfd`.
   */
  statx(dirfd: number, path: Uint8Array, flags: number, mask: number, buf: Uint8Array): number;
  /** setns(2), for the calling thread. */
  setns(fd: number, nstype: number): number;
  /** unshare(2), for the calling thread. */
  unshare(flags: number): number;
  /**
   * mount(2) of NUL-terminated `source` on `target`, filesystem type `fstype`, no data; only
   * binds and propagation changes are asked for (`flags` below 2^31).
   */
  mount(source: Uint8Array, target: Uint8Array, fstype: Uint8Array, flags: number): number;
  /** umount2(2) of a NUL-terminated `target`. */
  umount2(target: Uint8Array, flags: number): number;
  /** unlink(2) of a NUL-terminated `path`. */
  unlink(path: Uint8Array): number;
  /** mkdir(2) of a NUL-terminated `path`. */
  mkdir(path: Uint8Array, mode: number): number;
  /** flock(2). */
  flock(fd: number, operation: number): number;
  /** This thread's errno, as left by the last failed call. */
  errno(): number;
  /**
   * Allocates zeroed memory that never moves for as long as the returned view is reachable (on
   * Bun a small `new Uint8Array(n)` can move: oven-sh/bun#32054).
   */
  alloc(size: number): Uint8Array;
  /**
   * Like {@linkcode alloc}, but not zeroed where the runtime can skip that (Bun): for large
   * buffers that only reads fill and whose bytes are never shown past what a read wrote. Zeroing
   * touches every page, and each first touch is a page fault.
   */
  allocUnzeroed(size: number): Uint8Array;
  /** Address of `buf[0]`, for storing inside a struct. Only for buffers from `alloc*`. */
  address(buf: Uint8Array): bigint;
}
