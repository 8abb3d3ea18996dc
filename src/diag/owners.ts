/**
 * Which processes hold which sockets: the inode → process map `ss -p` builds from /proc.
 *
 * @module
 */

import { readDirectory, readLink, readTextFile } from "../../ffi/mod.ts";
import { shown } from "../_options.ts";

/**
 * A process holding a socket, through one of its file descriptors.
 *
 * @example
 * ```ts
 * import type { SocketOwner } from "@netlink/netlink/diag";
 * const show = (o: SocketOwner) => `users:(("${o.command}",pid=${o.pid},fd=${o.fd}))`;
 * ```
 */
export interface SocketOwner {
  /** The process ID. */
  pid: number;
  /** Its command name (/proc/PID/comm), as ss -p prints it. */
  command: string;
  /** The file descriptor number. */
  fd: number;
}

/**
 * The inodes asked for, checked: a string (iterable, by characters) or a value that is no inode
 * would match nothing, and the answer would be an empty map rather than an error.
 */
function wantedInodes(inodes: Iterable<number>): Set<number> {
  if (
    typeof inodes !== "object" || inodes === null
    || typeof (inodes as Partial<Iterable<number>>)[Symbol.iterator] !== "function"
  ) {
    throw new TypeError(`inodes must be an iterable of socket inodes, got ${shown(inodes)}`);
  }
  const wanted = new Set<number>();
  for (const inode of inodes) {
    if (typeof inode !== "number" || !Number.isSafeInteger(inode) || inode < 1) {
      throw new RangeError(`a socket inode is a positive integer, got ${shown(inode)}`);
    }
    wanted.add(inode);
  }
  return wanted;
}

/**
 * Maps socket inodes (the `inode` of every listed socket) to the processes holding them, by
 * reading /proc/PID/fd as `ss -p` does. Sockets and processes of every network namespace are
 * seen (inodes are unique across namespaces); processes of other users need root, and ones that
 * exit while being read are skipped. With `inodes`, only those are looked up (positive
 * integers, else a TypeError or RangeError; none: an empty map, without reading /proc). /proc
 * is read through libc: on Deno, --allow-ffi is all it needs.
 *
 * @example
 * ```ts
 * import { netlinkSockets, socketOwners } from "@netlink/netlink/diag";
 * const owners = socketOwners();
 * for (const s of await netlinkSockets()) {
 *   console.log(s.protocol, s.portid, owners.get(s.inode)?.map((o) => o.command) ?? "kernel");
 * }
 * ```
 */
export function socketOwners(inodes?: Iterable<number>): Map<number, SocketOwner[]> {
  const wanted = inodes === undefined ? undefined : wantedInodes(inodes);
  const owners = new Map<number, SocketOwner[]>();
  if (wanted?.size === 0) return owners; // nothing to look for: /proc is not read
  for (const entry of readDirectory("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let fds: string[];
    let command: string;
    try {
      fds = readDirectory(`/proc/${pid}/fd`);
      command = readTextFile(`/proc/${pid}/comm`).trimEnd();
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readLink(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (!match) continue;
      const inode = Number(match[1]);
      if (wanted && !wanted.has(inode)) continue;
      const list = owners.get(inode) ?? [];
      list.push({ pid, command, fd: Number(fd) });
      owners.set(inode, list);
    }
  }
  return owners;
}
