/**
 * Which processes hold which sockets: the inode → process map `ss -p` builds from /proc.
 *
 * @module
 */

import { readDirectory, readLink, readTextFile } from "../../ffi/mod.ts";

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
 * Maps socket inodes (the `inode` of every listed socket) to the processes holding them, by
 * reading /proc/PID/fd as `ss -p` does. Sockets and processes of every network namespace are
 * seen (inodes are unique across namespaces); processes of other users need root, and ones that
 * exit while being read are skipped. With `inodes`, only those are looked up. /proc is read
 * through libc: on Deno, --allow-ffi is all it needs.
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
  const wanted = inodes === undefined ? undefined : new Set(inodes);
  const owners = new Map<number, SocketOwner[]>();
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
