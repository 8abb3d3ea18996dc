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

/**
 * `timeout`: how long a lookup waits for nlctrl's answer, whoever waits for it (25 s: systemd's
 * sd-netlink waits as long for a call by default; read at each lookup, tests shorten it). The
 * kernel answers inside the send; the answer fails to come only when it is lost without an
 * ENOBUFS (a receive queue full with NETLINK_NO_ENOBUFS on, a filter that drops it) or from a
 * transport that does not answer. A lookup no caller waits for any more (each one's timeout or
 * signal ended its wait) is given up at once.
 */
export const lookupLimits = { timeout: 25_000 };

interface Entry {
  readonly promise: Promise<GenericFamily>;
  /** Set once resolved. */
  family?: GenericFamily;
  /** Set once settled. */
  settled?: boolean;
  /** The callers still waiting for it. */
  waiting: number;
  /** Gives the lookup up. */
  readonly controller: AbortController;
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
 * this caller's wait for it, and the lookup itself once no caller waits for it any more. The
 * lookup fails with a TimeoutError after `lookupLimits.timeout` (and is not cached).
 */
export function resolveCached(
  socket: NetlinkSocket,
  name: string,
  options: RequestOptions = {},
): Promise<GenericFamily> {
  const families = familiesOf(socket);
  let entry = families.get(name);
  if (entry === undefined) {
    const controller = new AbortController();
    const promise = lookUp(socket, name, controller.signal);
    const created: Entry = entry = { promise, waiting: 0, controller };
    families.set(name, created);
    promise.then((family) => {
      created.family = family;
      created.settled = true;
    }, () => {
      created.settled = true;
      if (families.get(name) === created) families.delete(name);
    });
  }
  return waitFor(entry, options, () => {
    if (families.get(name) === entry) families.delete(name);
  });
}

/** nlctrl's answer about `name`, within the lookup's timeout, unless `signal` gives it up. */
async function lookUp(
  socket: NetlinkSocket,
  name: string,
  signal: AbortSignal,
): Promise<GenericFamily> {
  const { timeout } = lookupLimits;
  try {
    return await resolveFamily(socket, name, { signal, timeout });
  } catch (err) {
    if (!(err instanceof DOMException && err.name === "TimeoutError") || signal.aborted) throw err;
    throw new DOMException(
      `nlctrl did not answer the lookup of generic netlink family "${name}" within `
        + `${timeout} ms (was its answer lost? a receive queue full with noENOBUFS, `
        + "or a filter, drops it in silence)",
      "TimeoutError",
    );
  }
}

/**
 * `entry`'s promise, or a rejection with `options`' signal's reason or TimeoutError if they end
 * this caller's wait first; the last caller to leave an unsettled lookup gives it up (`uncache`
 * forgets it first, so that the next caller asks anew).
 */
function waitFor(
  entry: Entry,
  options: RequestOptions,
  uncache: () => void,
): Promise<GenericFamily> {
  entry.waiting++;
  return guarded(entry.promise, options, () => {
    if (--entry.waiting > 0 || entry.settled) return;
    uncache();
    entry.controller.abort(new DOMException("no caller waits for the lookup", "AbortError"));
  });
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
  families.set(family.name, {
    promise: Promise.resolve(family),
    family,
    settled: true,
    waiting: 0,
    controller: new AbortController(),
  });
}
