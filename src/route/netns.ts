/**
 * Named network namespaces, as `ip netns add`, `ip netns delete` and `ip netns list` make, remove
 * and list them (vishvananda/netns' NewNamed and DeleteNamed, pyroute2's netns.create, remove and
 * listnetns).
 *
 * @module
 */

import { NETNS_RUN_DIR } from "../../ffi/_netns.ts";
import { createNetnsNamed, deleteNetnsNamed, readDirectory } from "../../ffi/mod.ts";
import { checkNetnsName } from "../_netns.ts";
import { SyscallError } from "../errors.ts";

/**
 * Creates a network namespace named `name`, as `ip netns add NAME` does: a fresh namespace
 * (only its loopback, down), kept alive by a bind mount at /run/netns/NAME, where `ip netns`,
 * `ip -n NAME`, `openRoute({ netns: NAME })` and a link's `netns` find it. /run/netns is made
 * a shared mount point first, as iproute2 makes it.
 *
 * Synchronous, and on the calling thread only: that thread unshares into the new namespace for
 * the bind and returns to its own before this returns, or throws (the runtime's other threads
 * never leave theirs). Needs CAP_SYS_ADMIN (root).
 *
 * The bind mount is made in the calling process's mount namespace, as `ip netns add` makes it:
 * inside `ip netns exec` (which gives the command a mount namespace of its own) the name works
 * there, but everywhere else /run/netns/NAME is an empty file that opens no namespace
 * ("is not a network namespace", EINVAL), even while the process runs; `deleteNetns()` removes
 * it. Create names others use from the host's mount namespace.
 *
 * Throws TypeError for a name that is no `ip netns` name (empty, ".", "..", holding "/" or NUL,
 * 255 bytes or longer), before any system call; SyscallError EEXIST when the name is taken
 * (nothing is changed then), EPERM without the capability. On any failure, no name is left.
 *
 * @example
 * ```ts
 * import { createNetns, deleteNetns, listNetns } from "@netlink/netlink/route";
 *
 * createNetns("lab"); // then openRoute({ netns: "lab" }), ip -n lab ...
 * console.log(listNetns().includes("lab")); // true
 * deleteNetns("lab");
 * ```
 */
export function createNetns(name: string): void {
  createNetnsNamed(checkNetnsName(name, "createNetns()"));
}

/**
 * Deletes the network namespace name `name`, as `ip netns delete NAME` does: the bind mount at
 * /run/netns/NAME is detached and the file removed. The namespace itself (its links, addresses,
 * routes) goes once nothing else holds it: a process or socket inside it, such as an
 * `openRoute({ netns: NAME })` client not yet closed, keeps it, as with `ip`.
 *
 * Throws TypeError for a name that is no `ip netns` name, before any system call; SyscallError
 * ENOENT ("no network namespace named NAME") when there is none, EPERM without CAP_SYS_ADMIN.
 *
 * @example
 * ```ts
 * import { createNetns, deleteNetns } from "@netlink/netlink/route";
 *
 * createNetns("scratch");
 * deleteNetns("scratch"); // ip netns delete scratch
 * ```
 */
export function deleteNetns(name: string): void {
  deleteNetnsNamed(checkNetnsName(name, "deleteNetns()"));
}

/**
 * The names of the network namespaces in /run/netns, as `ip netns list` shows them, sorted; none
 * when /run/netns does not exist. Needs no privilege. A name that is not UTF-8 (a file name may
 * hold any byte but "/" and NUL) is read with U+FFFD for its bad bytes, and that text names no
 * namespace: opening or deleting by it is ENOENT, with a message saying why.
 *
 * @example
 * ```ts
 * import { listNetns } from "@netlink/netlink/route";
 *
 * for (const name of listNetns()) console.log(name);
 * ```
 */
export function listNetns(): string[] {
  try {
    return readDirectory(NETNS_RUN_DIR).sort();
  } catch (error) {
    if (error instanceof SyscallError && error.code === "ENOENT") return [];
    throw error;
  }
}
