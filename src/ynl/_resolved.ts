/**
 * Generic netlink families resolved per socket, so that opening several clients of one family on
 * a socket asks nlctrl once. An id stays cached until it is known to be stale: a request under it
 * was answered ENOENT and nlctrl now gives another id (the module was reloaded), or nlctrl's
 * CTRL_CMD_DELFAMILY notification was seen on the socket; nlctrl's CTRL_CMD_NEWFAMILY
 * notification caches the family it announces.
 *
 * @module
 */

import { guarded } from "../_guard.ts";
import { type GenericFamily, resolveFamily } from "../genl.ts";
import type { NetlinkSocket, RequestOptions } from "../socket.ts";

interface Entry {
  readonly promise: Promise<GenericFamily>;
  /** Set once resolved. */
  family?: GenericFamily;
}

const cache = new WeakMap<NetlinkSocket, Map<string, Entry>>();

function familiesOf(socket: NetlinkSocket): Map<string, Entry> {
  let families = cache.get(socket);
  if (families === undefined) cache.set(socket, families = new Map());
  return families;
}

/**
 * Resolves generic netlink family `name` on `socket`, or returns the cached resolution. The
 * resolution is shared by every caller on the socket: `options`' signal and timeout end only
 * this caller's wait for it.
 */
export function resolveCached(
  socket: NetlinkSocket,
  name: string,
  options: RequestOptions = {},
): Promise<GenericFamily> {
  const families = familiesOf(socket);
  const cached = families.get(name);
  if (cached !== undefined) return guarded(cached.promise, options);
  const promise = resolveFamily(socket, name);
  const entry: Entry = { promise };
  families.set(name, entry);
  promise.then((family) => void (entry.family = family), () => {
    if (families.get(name) === entry) families.delete(name);
  });
  return guarded(promise, options);
}

/**
 * Forgets the resolution of `name` on `socket`: the next {@linkcode resolveCached} asks nlctrl.
 * With `stale`, only if that is what is cached (a resolution another caller already renewed, or
 * still under way, is kept).
 */
export function forgetResolved(socket: NetlinkSocket, name: string, stale?: GenericFamily): void {
  const families = cache.get(socket);
  const entry = families?.get(name);
  if (entry !== undefined && (stale === undefined || entry.family === stale)) {
    families!.delete(name);
  }
}

/**
 * Caches `family` as `socket`'s resolution of its name: nlctrl announced it (registered, its
 * module loaded again), so the next {@linkcode resolveCached} need not ask.
 */
export function rememberResolved(socket: NetlinkSocket, family: GenericFamily): void {
  const families = familiesOf(socket);
  families.set(family.name, { promise: Promise.resolve(family), family });
}
