/**
 * Files through libc: writing one (creat/write/close), what a capture to a path needs, and
 * reading a small one whole (open/read/close), what /proc/net/psched needs; no runtime file API
 * (on Deno, `node:fs` loads the Node compatibility layer), no permission beyond --allow-ffi.
 *
 * @module
 */

import { SyscallError } from "../src/errors.ts";
import { O_CLOEXEC, O_RDONLY } from "./_constants.ts";
import type { Libc } from "./_libc.ts";

const EINTR = 4;

/** A file open for writing; every write is whole before it returns. */
export interface FileWriter {
  /** Writes all of `bytes` (looping over short writes). Throws SyscallError. */
  write(bytes: Uint8Array): void;
  /** Closes the file. Idempotent. */
  close(): void;
}

/** Creates (or truncates) `path` with mode 0644, for writing. Throws SyscallError. */
export function createFile(libc: Libc, path: string): FileWriter {
  if (path.includes("\0")) throw new TypeError("file path must not contain NUL");
  const fd = libc.creat(new TextEncoder().encode(path + "\0"), 0o644);
  if (fd < 0) throw new SyscallError("creat", libc.errno(), path);
  let open = true;
  return {
    write(bytes) {
      if (!open) throw new Error(`${path} is closed`);
      let done = 0;
      while (done < bytes.length) {
        const rest = done === 0 ? bytes : bytes.subarray(done);
        const n = libc.write(fd, rest, rest.length);
        if (n < 0) {
          const errno = libc.errno();
          if (errno === EINTR) continue;
          throw new SyscallError("write", errno, path);
        }
        done += n;
      }
    },
    close() {
      if (!open) return;
      open = false;
      libc.close(fd);
    },
  };
}

/**
 * Reads the whole file at `path` (read until end of file, as /proc files must be read).
 * Throws SyscallError (e.g. ENOENT).
 */
export function readWholeFile(libc: Libc, path: string): Uint8Array {
  if (path.includes("\0")) throw new TypeError("file path must not contain NUL");
  const fd = libc.open(new TextEncoder().encode(path + "\0"), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw new SyscallError("open", libc.errno(), path);
  try {
    let buf = new Uint8Array(4096);
    let length = 0;
    for (;;) {
      if (length === buf.length) {
        const bigger = new Uint8Array(buf.length * 2);
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
      if (n === 0) return buf.slice(0, length);
      length += n;
    }
  } finally {
    libc.close(fd);
  }
}
