/**
 * The multicast groups typed monitor() iterations hold on each socket, and what nlctrl's
 * announcements do to them.
 *
 * - A group is counted per socket: it is left when the last iteration holding it ends (not when
 *   the first does), and a group the socket had joined otherwise is never left.
 * - A generic family's module can be unloaded and loaded again. Unregistering drops every
 *   membership of the family's groups (genl_unregister_mc_groups), and the family comes back
 *   under new ids. nlctrl announces both on its "notify" group (CTRL_CMD_DELFAMILY and
 *   CTRL_CMD_NEWFAMILY, each with the family's groups; and per group, CTRL_CMD_DELMCAST_GRP and
 *   CTRL_CMD_NEWMCAST_GRP). Whichever iteration on the socket reads an announcement applies it
 *   for every iteration there: two iterations on one socket split the socket's messages.
 *
 * @module
 */

import {
  CTRL_CMD_DELFAMILY,
  CTRL_CMD_DELMCAST_GRP,
  CTRL_CMD_NEWFAMILY,
  CTRL_CMD_NEWMCAST_GRP,
  GENL_ID_CTRL,
} from "../_constants.ts";
import { decodeFamily, type GenericFamily } from "../genl.ts";
import type { Message } from "../message.ts";
import type { NetlinkSocket } from "../socket.ts";
import { forgetResolved, rememberResolved } from "./_resolved.ts";

/**
 * nlctrl's "notify" group. The kernel numbers nlctrl's only group after nlctrl's id
 * (genl_validate_assign_mc_groups), as ELL's genl does too.
 */
export const NLCTRL_NOTIFY_GROUP = GENL_ID_CTRL;

/**
 * What follows a generic family's registrations (a typed monitor() iteration, the CLI's
 * `monitor genl`): see {@linkcode announce}.
 */
export interface FamilyWatcher {
  /**
   * The family was unregistered: `family` is all of it (`whole`, CTRL_CMD_DELFAMILY), or one
   * group of it (CTRL_CMD_DELMCAST_GRP). The kernel dropped the memberships of its groups.
   */
  removed(family: GenericFamily, whole: boolean): void;
  /**
   * The family was registered: `family` is all of it (`whole`, CTRL_CMD_NEWFAMILY), or one new
   * group of it (CTRL_CMD_NEWMCAST_GRP).
   */
  registered(family: GenericFamily, whole: boolean): void;
}

interface SocketGroups {
  /** Group → how many iterations hold it, for groups an iteration joined. */
  readonly counts: Map<number, number>;
  /** Family name → the iterations following it. */
  readonly watchers: Map<string, Set<FamilyWatcher>>;
}

const sockets = new WeakMap<NetlinkSocket, SocketGroups>();

function of(socket: NetlinkSocket): SocketGroups {
  let groups = sockets.get(socket);
  if (groups === undefined) {
    sockets.set(socket, groups = { counts: new Map(), watchers: new Map() });
  }
  return groups;
}

/**
 * Holds `group` on `socket`: joins it unless the socket is in it already. Whether the hold
 * counts (false: the socket had joined it otherwise, and it is not for us to leave).
 */
export function holdGroup(socket: NetlinkSocket, group: number): boolean {
  const { counts } = of(socket);
  const count = counts.get(group);
  if (count !== undefined) counts.set(group, count + 1);
  else if (!socket.groups.includes(group)) {
    socket.join(group);
    counts.set(group, 1);
  } else return false;
  return true;
}

/** Releases a hold {@linkcode holdGroup} counted: the last one leaves the group. */
export function releaseGroup(socket: NetlinkSocket, group: number): void {
  const { counts } = of(socket);
  const count = counts.get(group)! - 1;
  if (count > 0) counts.set(group, count);
  else {
    counts.delete(group);
    if (!socket.closed) socket.leave(group);
  }
}

/** Tells `watcher` what nlctrl announces about family `name` on `socket`, until unwatched. */
export function watchFamily(socket: NetlinkSocket, name: string, watcher: FamilyWatcher): void {
  const { watchers } = of(socket);
  let set = watchers.get(name);
  if (set === undefined) watchers.set(name, set = new Set());
  set.add(watcher);
}

/** Stops telling `watcher` ({@linkcode watchFamily}). */
export function unwatchFamily(socket: NetlinkSocket, name: string, watcher: FamilyWatcher): void {
  const { watchers } = of(socket);
  const set = watchers.get(name);
  set?.delete(watcher);
  if (set?.size === 0) watchers.delete(name);
}

/**
 * Applies nlctrl's announcement `message`, read on `socket`, if it is one (nlctrl's, from the
 * kernel: port 0, sequence 0; replies to requests carry the requester's port), and says whether
 * it was:
 * - a family or group removed: the socket's cached resolution of the family is forgotten, its
 *   watchers release the groups, and the socket leaves what it still lists of them (the kernel
 *   dropped the memberships already: {@linkcode NetlinkSocket.groups} says so again);
 * - a family or group registered: the resolution is cached and the watchers join again.
 * Malformed announcements are ignored (false): the caller decodes the message as anything else.
 */
export function announce(socket: NetlinkSocket, message: Message): boolean {
  const command = message.payload[0];
  if (
    message.type !== GENL_ID_CTRL || message.portid !== 0 || message.seq !== 0
    || (command !== CTRL_CMD_NEWFAMILY && command !== CTRL_CMD_DELFAMILY
      && command !== CTRL_CMD_NEWMCAST_GRP && command !== CTRL_CMD_DELMCAST_GRP)
  ) return false;
  let family: GenericFamily;
  try {
    family = decodeFamily(message);
  } catch {
    return false;
  }
  if (family.name === "") return false;
  const watchers = [...sockets.get(socket)?.watchers.get(family.name) ?? []];
  if (command === CTRL_CMD_DELFAMILY || command === CTRL_CMD_DELMCAST_GRP) {
    if (command === CTRL_CMD_DELFAMILY) forgetResolved(socket, family.name);
    for (const watcher of watchers) watcher.removed(family, command === CTRL_CMD_DELFAMILY);
    for (const group of family.groups.values()) {
      if (!socket.closed && socket.groups.includes(group)) socket.leave(group);
    }
  } else {
    if (command === CTRL_CMD_NEWFAMILY) rememberResolved(socket, family);
    for (const watcher of watchers) watcher.registered(family, command === CTRL_CMD_NEWFAMILY);
  }
  return true;
}
