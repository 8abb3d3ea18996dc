/**
 * Network namespace files through libc: opening one (/run/netns/NAME, /proc/PID/ns/net) for its
 * descriptor, and creating a descriptor with the calling thread inside one. No runtime file API:
 * --allow-ffi is the only permission either needs.
 *
 * @module
 */

import { errnoNumber } from "../src/_errno.ts";
import { printable } from "../src/_printable.ts";
import { SyscallError } from "../src/errors.ts";
import { CLONE_NEWNET, O_CLOEXEC, O_NONBLOCK, O_RDONLY } from "./_constants.ts";
import { cPath } from "./_file.ts";
import type { Libc } from "./_libc.ts";

const ENOENT = errnoNumber("ENOENT")!;
const EPERM = errnoNumber("EPERM")!;

/**
 * Opens the network namespace file at `path` read-only and close-on-exec, returning its
 * descriptor. Throws SyscallError ("no network namespace at PATH" for ENOENT), or TypeError for
 * a path holding NUL.
 */
export function openNetnsFile(libc: Libc, path: string): number {
  // In messages with its control characters escaped: the name may come from anyone.
  const shown = printable(path);
  // Non-blocking: a path that is a FIFO (or a device) must not hold the thread in open() until a
  // writer comes; it opens at once, and setns() or the kernel then says it is no namespace.
  const fd = libc.open(cPath(path), O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
  if (fd < 0) {
    const errno = libc.errno();
    throw new SyscallError(
      "open",
      errno,
      errno === ENOENT ? `no network namespace at ${shown}` : `cannot open ${shown}`,
    );
  }
  return fd;
}

/**
 * Runs `create` (which returns a new descriptor) with this thread switched into the network
 * namespace at `path`, and always switches back. Synchronous FFI calls all run on the calling
 * thread, and setns(2) changes only that thread, so nothing else observes the switch. The
 * socket keeps the namespace it was created in.
 */
export function inNetns(libc: Libc, path: string, create: () => number): number {
  const target = openNetnsFile(libc, path);
  try {
    const self = "/proc/thread-self/ns/net";
    const saved = libc.open(cPath(self), O_RDONLY | O_CLOEXEC, 0);
    if (saved < 0) throw new SyscallError("open", libc.errno(), `cannot open ${self}`);
    try {
      if (libc.setns(target, CLONE_NEWNET) < 0) {
        const errno = libc.errno();
        throw new SyscallError(
          "setns",
          errno,
          errno === EPERM
            ? "entering a network namespace needs CAP_SYS_ADMIN: run as root, or grant the "
              + "process that capability"
            : `${printable(path)} is not a network namespace`,
        );
      }
      let fd = -1;
      let failure: { error: unknown } | undefined;
      try {
        fd = create();
      } catch (error) {
        failure = { error };
      }
      // Always switch back, whatever create() did. Failing to is worse than create() failing:
      // this thread would stay in the wrong namespace, so that error wins.
      if (libc.setns(saved, CLONE_NEWNET) < 0) {
        const errno = libc.errno();
        if (fd >= 0) libc.close(fd);
        throw new SyscallError(
          "setns",
          errno,
          `could not return to the original network namespace from ${path}`,
        );
      }
      if (failure) throw failure.error;
      return fd;
    } finally {
      libc.close(saved);
    }
  } finally {
    libc.close(target);
  }
}
