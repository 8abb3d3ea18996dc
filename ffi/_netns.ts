/**
 * Network namespace files through libc: opening one (/run/netns/NAME, /proc/PID/ns/net) for its
 * descriptor, creating a descriptor with the calling thread inside one, and creating and deleting
 * `ip netns` names. No runtime file API:
 * --allow-ffi is the only permission either needs.
 *
 * @module
 */

import { errnoNumber } from "../src/_errno.ts";
import { printable } from "../src/_printable.ts";
import { SyscallError } from "../src/errors.ts";
import {
  CLONE_NEWNET,
  LOCK_EX,
  MNT_DETACH,
  MS_BIND,
  MS_REC,
  MS_SHARED,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NONBLOCK,
  O_RDONLY,
  S_IRGRP,
  S_IROTH,
  S_IRWXU,
  S_IXGRP,
  S_IXOTH,
} from "./_constants.ts";
import { cPath } from "./_file.ts";
import type { Libc } from "./_libc.ts";

const ENOENT = errnoNumber("ENOENT")!;
const EPERM = errnoNumber("EPERM")!;
const EEXIST = errnoNumber("EEXIST")!;
const EINVAL = errnoNumber("EINVAL")!;

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
      errno === ENOENT
        ? `no network namespace at ${shown}${notUtf8(path)}`
        : `cannot open ${shown}`,
    );
  }
  return fd;
}

/**
 * What an ENOENT for `name` adds when it holds U+FFFD: listNetns() reads a file name that is
 * not UTF-8 with U+FFFD for its bad bytes, which name another file when written back.
 */
function notUtf8(name: string): string {
  return name.includes("\ufffd")
    ? " (a name read with U+FFFD stands for bytes that are not UTF-8, which a file name may"
      + " hold: this text cannot reach that namespace; `ip netns` given its bytes can)"
    : "";
}

/** The calling thread's own network namespace file: /proc/self would be the main thread's. */
const THREAD_NETNS = "/proc/thread-self/ns/net";

/** What a namespace call failing with EPERM needs. */
const NEEDS_SYS_ADMIN = "needs CAP_SYS_ADMIN: run as root, or grant the process that capability";

/**
 * Runs `body` with this thread moved into another network namespace by `enter` (setns or
 * unshare, which change the calling thread only, and only when they succeed), and always moves it
 * back. Synchronous FFI calls all run on the calling thread, and nothing else runs on it until
 * this returns, so no other code observes the switch. When moving back fails, `undo` is handed
 * what `body` returned and that failure is thrown: the thread staying in the wrong namespace is
 * worse than `body` failing.
 */
function awayFromOwnNetns<T>(
  libc: Libc,
  enter: () => void,
  body: () => T,
  undo: (value: T) => void,
  from: string,
): T {
  const saved = libc.open(cPath(THREAD_NETNS), O_RDONLY | O_CLOEXEC, 0);
  if (saved < 0) throw new SyscallError("open", libc.errno(), `cannot open ${THREAD_NETNS}`);
  try {
    enter();
    let value: T | undefined;
    let failure: { error: unknown } | undefined;
    try {
      value = body();
    } catch (error) {
      failure = { error };
    }
    if (libc.setns(saved, CLONE_NEWNET) < 0) {
      const errno = libc.errno();
      if (!failure) undo(value as T);
      throw new SyscallError(
        "setns",
        errno,
        `could not return to the original network namespace from ${from}`,
      );
    }
    if (failure) throw failure.error;
    return value as T;
  } finally {
    libc.close(saved);
  }
}

/**
 * Runs `create` (which returns a new descriptor) with this thread switched into the network
 * namespace at `path`, and always switches back (see awayFromOwnNetns). The socket keeps the
 * namespace it was created in.
 */
export function inNetns(libc: Libc, path: string, create: () => number): number {
  const target = openNetnsFile(libc, path);
  try {
    return awayFromOwnNetns(
      libc,
      () => {
        if (libc.setns(target, CLONE_NEWNET) < 0) {
          const errno = libc.errno();
          throw new SyscallError(
            "setns",
            errno,
            errno === EPERM
              ? `entering a network namespace ${NEEDS_SYS_ADMIN}`
              : `${printable(path)} is not a network namespace`,
          );
        }
      },
      create,
      (fd) => libc.close(fd),
      printable(path),
    );
  } finally {
    libc.close(target);
  }
}

/** Where `ip netns` keeps its names: /run/netns/NAME are bind mounts of namespace files. */
export const NETNS_RUN_DIR = "/run/netns";

/**
 * Makes /run/netns (mode 0755) a shared mount point, as iproute2's netns_add() does (under its lock): a bind of
 * itself first when it is no mount point yet (mount --make-shared fails with EINVAL then). Shared,
 * a namespace unmounted here is unmounted in every mount namespace that copied it (`ip netns
 * exec` makes one), so the namespace can be freed.
 */
function prepareRunDir(libc: Libc): void {
  const dir = cPath(NETNS_RUN_DIR);
  if (libc.mkdir(dir, S_IRWXU | S_IRGRP | S_IXGRP | S_IROTH | S_IXOTH) < 0) {
    const errno = libc.errno();
    if (errno !== EEXIST) throw syscallFailure("mkdir", errno, `cannot create ${NETNS_RUN_DIR}`);
  }
  // Under iproute2's lock (flock of the directory), so that two processes finding it no mount
  // point yet do not both bind it onto itself.
  const lock = libc.open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (lock < 0) throw syscallFailure("open", libc.errno(), `cannot open ${NETNS_RUN_DIR}`);
  try {
    if (libc.flock(lock, LOCK_EX) < 0) {
      throw syscallFailure("flock", libc.errno(), `cannot lock ${NETNS_RUN_DIR}`);
    }
    const none = cPath("none");
    for (let bound = false;;) {
      if (libc.mount(cPath(""), dir, none, MS_SHARED | MS_REC) === 0) return;
      const errno = libc.errno();
      if (errno !== EINVAL || bound) {
        throw syscallFailure("mount", errno, `cannot make ${NETNS_RUN_DIR} a shared mount point`);
      }
      if (libc.mount(dir, dir, none, MS_BIND | MS_REC) < 0) {
        throw syscallFailure("mount", libc.errno(), `cannot bind ${NETNS_RUN_DIR} onto itself`);
      }
      bound = true;
    }
  } finally {
    // Closing releases the lock.
    libc.close(lock);
  }
}

/** A SyscallError whose message says what EPERM needs. */
function syscallFailure(syscall: string, errno: number, what: string): SyscallError {
  return new SyscallError(syscall, errno, errno === EPERM ? `${what}: ${NEEDS_SYS_ADMIN}` : what);
}

/**
 * Creates a new network namespace named `name` (already checked: no "/", not "." or "..") at
 * /run/netns/NAME, as `ip netns add` does: the file is created exclusively (EEXIST when the name
 * is taken), then this thread unshares into a fresh namespace, binds its namespace file there,
 * and returns to its own. On any failure the thread is back in its namespace and the file is
 * gone. Throws SyscallError.
 */
export function createNamedNetns(libc: Libc, name: string): void {
  const path = `${NETNS_RUN_DIR}/${name}`;
  const shown = printable(name);
  prepareRunDir(libc);
  const file = cPath(path);
  const fd = libc.open(file, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) {
    const errno = libc.errno();
    throw syscallFailure(
      "open",
      errno,
      errno === EEXIST
        ? `network namespace "${shown}" already exists (delete it first, or pick another name)`
        : `cannot create ${printable(path)}`,
    );
  }
  libc.close(fd);
  try {
    awayFromOwnNetns(
      libc,
      () => {
        if (libc.unshare(CLONE_NEWNET) < 0) {
          const errno = libc.errno();
          throw syscallFailure("unshare", errno, `cannot create network namespace "${shown}"`);
        }
      },
      () => {
        // The new namespace lives as long as this mount (or anything else that holds it).
        if (libc.mount(cPath(THREAD_NETNS), file, cPath("none"), MS_BIND) < 0) {
          throw syscallFailure("mount", libc.errno(), `cannot bind the new namespace to ${path}`);
        }
      },
      () => {},
      `the new network namespace "${shown}"`,
    );
  } catch (error) {
    // Back in the original namespace, or the error says it is not: the name goes either way.
    libc.umount2(file, MNT_DETACH);
    libc.unlink(file);
    throw error;
  }
}

/**
 * Deletes the network namespace name `name` (already checked) as `ip netns delete` does: detaches
 * the mount at /run/netns/NAME and removes the file. The namespace itself lives on while anything
 * still holds it (a process, a socket, another mount), as with `ip`. Throws SyscallError ENOENT
 * ("no network namespace named NAME") when there is no such name.
 */
export function deleteNamedNetns(libc: Libc, name: string): void {
  const path = `${NETNS_RUN_DIR}/${name}`;
  const file = cPath(path);
  // EINVAL: not a mount point (a file `ip netns add` left half made); ENOENT: reported below.
  if (libc.umount2(file, MNT_DETACH) < 0) {
    const errno = libc.errno();
    if (errno === EPERM) {
      throw syscallFailure("umount2", errno, `cannot unmount ${printable(path)}`);
    }
  }
  if (libc.unlink(file) < 0) {
    const errno = libc.errno();
    throw syscallFailure(
      "unlink",
      errno,
      errno === ENOENT
        ? `no network namespace named "${printable(name)}"${notUtf8(name)}`
        : `cannot remove ${printable(path)}`,
    );
  }
}
