/**
 * Files through libc: writing one (open/write/close), what a capture to a path needs, and
 * reading /proc (a small file whole, a directory's names, a link's target), what tc's psched
 * and diag's socket owners need; no runtime file API
 * (on Deno, `node:fs` loads the Node compatibility layer), no permission beyond --allow-ffi.
 *
 * @module
 */

import { HOST_LITTLE_ENDIAN } from "../src/_endian.ts";
import { errnoNumber } from "../src/_errno.ts";
import { printable } from "../src/_printable.ts";
import { SyscallError } from "../src/errors.ts";
import {
  AT_EMPTY_PATH,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_NONBLOCK,
  O_RDONLY,
  O_TRUNC,
  O_WRONLY,
  OFFSETOF_STATX_STX_MODE,
  S_IFMT,
  S_IFREG,
  SIZEOF_STATX,
  STATX_TYPE,
} from "./_constants.ts";
import type { Libc } from "./_libc.ts";

const EAGAIN = errnoNumber("EAGAIN")!;
const EINTR = errnoNumber("EINTR")!;
const ENXIO = errnoNumber("ENXIO")!;

/**
 * A file open for writing, never blocking: a pipe or FIFO whose reader does not keep up (its
 * buffer full) refuses bytes rather than hold the thread until the reader reads again.
 */
export interface FileWriter {
  /**
   * Writes all of `bytes` and returns true; or returns false, having written none of them, when
   * the file takes nothing now (a full pipe: EAGAIN). Bytes a full pipe took only part of are
   * whole all the same: the rest is kept and written before the next bytes (which are refused
   * while it cannot be). Throws SyscallError.
   */
  write(bytes: Uint8Array): boolean;
  /** Closes the file. Idempotent. */
  close(): void;
}

/**
 * Creates (or truncates) `path` with mode 0644, for writing. Throws SyscallError, also for a
 * FIFO that no process has open for reading (ENXIO) rather than wait for one.
 */
export function createFile(libc: Libc, path: string): FileWriter {
  // In messages with its control characters escaped, as a namespace's path is: a capture's file
  // name may come from a command line (`--capture`).
  const shown = printable(path);
  // Close-on-exec, as every descriptor here: a child process must not inherit a capture file.
  // Non-blocking: a blocking open of a FIFO waits, the whole thread with it, until a reader
  // comes, which may be never; and a blocking write to a full pipe waits until its reader reads
  // again (a capture's socket, timers and all, stood still). A regular file never waits.
  const fd = libc.open(cPath(path), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0o644);
  if (fd < 0) {
    const errno = libc.errno();
    throw new SyscallError(
      "open",
      errno,
      errno === ENXIO ? `${shown}: a FIFO that no process reads (open its reader first)` : shown,
    );
  }
  let open = true;
  // The end of bytes a full pipe took only part of: written first, so that what the reader gets
  // is whole records.
  let rest: Uint8Array | undefined;
  // What of `bytes` the file did not take now (undefined: all of it went).
  const writeSome = (bytes: Uint8Array): Uint8Array | undefined => {
    let done = 0;
    while (done < bytes.length) {
      const left = done === 0 ? bytes : bytes.subarray(done);
      const n = libc.write(fd, left, left.length);
      if (n < 0) {
        const errno = libc.errno();
        if (errno === EINTR) continue;
        if (errno === EAGAIN) return left;
        throw new SyscallError("write", errno, shown);
      }
      done += n;
    }
    return undefined;
  };
  return {
    write(bytes) {
      if (!open) throw new Error(`${shown} is closed`);
      if (rest !== undefined && (rest = writeSome(rest)) !== undefined) return false;
      const left = writeSome(bytes);
      if (left === bytes) return false;
      if (left !== undefined) rest = left.slice(); // the caller may reuse its buffer
      return true;
    },
    close() {
      if (!open) return;
      open = false;
      // A last try for a cut record's end; a reader that still reads nothing loses it.
      try {
        if (rest !== undefined) writeSome(rest);
      } catch {
        // Closing all the same: a reader gone (EPIPE) reads nothing more.
      }
      libc.close(fd);
    },
  };
}

/**
 * Writes all of `bytes` to descriptor `fd`, as the runtime's console does to standard output,
 * but saying when it cannot: SyscallError EPIPE once the reader of a pipe is gone (the console
 * drops the line unsaid, and a `monitor | head -1` printed on for ever). A descriptor another
 * process left non-blocking is waited for, a millisecond at a time, as a blocking one would be.
 */
export function writeAll(libc: Libc, fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    const left = done === 0 ? bytes : bytes.subarray(done);
    const n = libc.write(fd, left, left.length);
    if (n >= 0) {
      done += n;
      continue;
    }
    const errno = libc.errno();
    if (errno === EAGAIN) libc.poll(noFds ??= libc.alloc(8), 0, 1);
    else if (errno !== EINTR) throw new SyscallError("write", errno, `descriptor ${fd}`);
  }
}

/** poll()'s array for a sleep: no descriptors. */
let noFds: Uint8Array | undefined;

/**
 * Reads the whole file at `path` (read until end of file, as /proc files must be read).
 * Throws SyscallError (e.g. ENOENT).
 */
export function readWholeFile(libc: Libc, path: string): Uint8Array {
  const fd = libc.open(cPath(path), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) throw new SyscallError("open", libc.errno(), path);
  try {
    return readToEnd(libc, fd, path, Infinity)!;
  } finally {
    libc.close(fd);
  }
}

/** What `fd` holds up to its end, or undefined past `limit` bytes. Throws SyscallError. */
function readToEnd(libc: Libc, fd: number, path: string, limit: number): Uint8Array | undefined {
  let buf = new Uint8Array(Math.min(4096, limit + 1));
  let length = 0;
  for (;;) {
    if (length === buf.length) {
      if (length > limit) return undefined;
      const bigger = new Uint8Array(Math.min(buf.length * 2, limit + 1));
      bigger.set(buf);
      buf = bigger;
    }
    const rest = buf.subarray(length);
    const n = libc.read(fd, rest, rest.length);
    if (n < 0) {
      const errno = libc.errno();
      if (errno === EINTR) continue;
      throw new SyscallError("read", errno, path);
    }
    if (n === 0) return buf.subarray(0, length);
    length += n;
  }
}

/** What {@linkcode readRegularFile} found at a path. */
export type RegularFileRead =
  | { readonly kind: "file"; readonly bytes: Uint8Array }
  | { readonly kind: "not regular" }
  | { readonly kind: "too large" };

/**
 * Reads the regular file at `path` (symbolic links followed), when it holds at most `limit`
 * bytes; anything else is not read: "not regular" for a FIFO, device, socket or directory (a
 * FIFO would block the open until a writer came, /dev/zero would never end), "too large" past
 * `limit`. Opened without blocking, its type asked of the descriptor, not the name, so the file
 * cannot be swapped in between. Throws SyscallError (e.g. ENOENT).
 */
export function readRegularFile(libc: Libc, path: string, limit: number): RegularFileRead {
  const fd = libc.open(cPath(path), O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
  if (fd < 0) throw new SyscallError("open", libc.errno(), path);
  try {
    const stat = new Uint8Array(SIZEOF_STATX);
    if (libc.statx(fd, EMPTY_PATH, AT_EMPTY_PATH, STATX_TYPE, stat) < 0) {
      throw new SyscallError("statx", libc.errno(), path);
    }
    const mode = new DataView(stat.buffer).getUint16(OFFSETOF_STATX_STX_MODE, HOST_LITTLE_ENDIAN);
    if ((mode & S_IFMT) !== S_IFREG) return { kind: "not regular" };
    const bytes = readToEnd(libc, fd, path, limit);
    return bytes === undefined ? { kind: "too large" } : { kind: "file", bytes };
  } finally {
    libc.close(fd);
  }
}

const EMPTY_PATH = new Uint8Array(1);

/** The names in directory `path`, but "." and "..", in the kernel's order. Throws SyscallError. */
export function readDirectory(libc: Libc, path: string): string[] {
  const fd = libc.open(cPath(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) throw new SyscallError("open", libc.errno(), path);
  try {
    const buf = new Uint8Array(32768);
    const view = new DataView(buf.buffer);
    const decoder = new TextDecoder();
    const names: string[] = [];
    for (;;) {
      const n = libc.getdents64(fd, buf, buf.length);
      if (n < 0) {
        const errno = libc.errno();
        if (errno === EINTR) continue;
        throw new SyscallError("getdents64", errno, path);
      }
      if (n === 0) return names;
      // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name (NUL-ended).
      for (let at = 0; at < n;) {
        const reclen = view.getUint16(at + 16, true);
        const start = at + 19;
        const end = buf.indexOf(0, start);
        const name = decoder.decode(
          buf.subarray(start, end < 0 || end > at + reclen ? at + reclen : end),
        );
        if (name !== "." && name !== "..") names.push(name);
        at += reclen;
      }
    }
  } finally {
    libc.close(fd);
  }
}

/** The target of symbolic link `path` (readlink). Throws SyscallError (EINVAL: not a link). */
export function readLink(libc: Libc, path: string): string {
  const c = cPath(path);
  for (let size = 256;; size *= 4) {
    const buf = new Uint8Array(size);
    const n = libc.readlink(c, buf, size);
    if (n < 0) throw new SyscallError("readlink", libc.errno(), path);
    if (n < size) return new TextDecoder().decode(buf.subarray(0, n));
  }
}

/** `path` NUL-terminated, as libc takes it. Throws TypeError if it holds a NUL itself. */
export function cPath(path: string): Uint8Array {
  if (path.includes("\0")) throw new TypeError("path must not contain NUL characters");
  return new TextEncoder().encode(path + "\0");
}
