/**
 * `ip monitor`: link, address, route, neighbour, FDB and rule changes as typed events.
 *
 * @module
 */

import { whenCollected } from "../_collected.ts";
import { IFF_UP } from "../_constants.ts";
import { timeoutError } from "../_guard.ts";
import { monitorEnds, monitorStarts, skips } from "../_marker.ts";
import { checkOptions, checkSignal, checkTimeout, shown } from "../_options.ts";
import { STOPPED, withStop } from "../_stoppable.ts";
import { suggestion } from "../_suggest.ts";
import { DumpInterruptedError, NetlinkError, SocketClosedError, SyscallError } from "../errors.ts";
import type { NetlinkSocket } from "../socket.ts";
import type { Context, LinkRef } from "./_context.ts";
import { type Address, type RawAddress, toAddress } from "./address.ts";
import { type FdbEntry, type RawFdbEntry, toFdbEntry } from "./fdb.ts";
import { type Link, lowerIndex, lowerUp, type RawLink, toLink } from "./link.ts";
import { type Neighbour, type RawNeighbour, toNeighbour } from "./neighbour.ts";
import { type RawRoute, type Route, toRoute } from "./route.ts";
import { type RawRule, type Rule, toRule } from "./rule.ts";

/**
 * The kinds of object `monitor()` can watch. "port" is a bridge's word on one of its ports
 * (an AF_BRIDGE link message, as `bridge monitor link` prints it), apart from the link's own
 * ("link"): the bridge sends one as a port joins, changes STP state or leaves, and a "deleted"
 * one when it leaves, which the link outlives. Its `portKind` is "bridge" and its `portData` the
 * port's bridge options as the bridge sent them (IFLA_PROTINFO): the STP `state`, `cost`...
 */
export type MonitorObject = "link" | "port" | "address" | "route" | "neighbour" | "fdb" | "rule";

/**
 * One change: which kind of object, whether it appeared (or changed: "new") or went
 * ("deleted"), and the object as `list()` gives it. An `{ object: "overrun" }` event says the
 * kernel dropped events because they came faster than they were read: list again to resync.
 * Only the kernel's messages are events: what another process sends (to the socket's port, or
 * as root to the groups) is skipped, parsed or not.
 *
 * @example
 * ```ts
 * import { openRoute, type RouteEvent } from "@netlink/netlink/route";
 * await using ip = await openRoute();
 * for await (const event of ip.monitor(["link", "route"])) {
 *   if (event.object === "route") console.log(event.action, event.value.dst);
 * }
 * ```
 */
export type RouteEvent =
  | { readonly object: "link"; readonly action: "new" | "deleted"; readonly value: Link }
  | { readonly object: "port"; readonly action: "new" | "deleted"; readonly value: Link }
  | { readonly object: "address"; readonly action: "new" | "deleted"; readonly value: Address }
  | { readonly object: "route"; readonly action: "new" | "deleted"; readonly value: Route }
  | { readonly object: "neighbour"; readonly action: "new" | "deleted"; readonly value: Neighbour }
  | { readonly object: "fdb"; readonly action: "new" | "deleted"; readonly value: FdbEntry }
  | { readonly object: "rule"; readonly action: "new" | "deleted"; readonly value: Rule }
  | { readonly object: "overrun" };

/**
 * Options of `monitor()`.
 *
 * @example
 * ```ts
 * import type { MonitorOptions } from "@netlink/netlink/route";
 * const options: MonitorOptions = { signal: AbortSignal.timeout(60_000) };
 * ```
 */
export interface MonitorOptions {
  /** Aborting ends the iteration: the pending `next()` rejects with the signal's reason. */
  signal?: AbortSignal;
}

// Every key of MonitorOptions and nothing else (`satisfies`): monitor() refuses any other.
const MONITOR_KEYS = Object.keys({ signal: 0 } satisfies Record<keyof MonitorOptions, 0>);

/** Multicast groups (RTNLGRP_*) of each kind of object. */
const GROUPS: Record<MonitorObject, readonly number[]> = {
  link: [1],
  address: [5, 9],
  route: [7, 11],
  neighbour: [3],
  fdb: [3], // AF_BRIDGE neighbours, in the neighbours' group
  rule: [8, 19],
  port: [1], // AF_BRIDGE links, in the links' group
};

/** The rtnetlink message types (RTM_NEW*, RTM_DEL*) of each kind of object. */
const TYPES: Record<number, [MonitorObject, "new" | "deleted"]> = {
  16: ["link", "new"],
  17: ["link", "deleted"],
  20: ["address", "new"],
  21: ["address", "deleted"],
  24: ["route", "new"],
  25: ["route", "deleted"],
  28: ["neighbour", "new"],
  29: ["neighbour", "deleted"],
  32: ["rule", "new"],
  33: ["rule", "deleted"],
};

const AF_BRIDGE = 7;
const FDB_NEW: [MonitorObject, "new"] = ["fdb", "new"];
const FDB_DELETED: [MonitorObject, "deleted"] = ["fdb", "deleted"];
const PORT_NEW: [MonitorObject, "new"] = ["port", "new"];
const PORT_DELETED: [MonitorObject, "deleted"] = ["port", "deleted"];

/**
 * The sockets a monitor runs on. Per socket, not per client: two clients over one socket
 * (`openRoute({ socket })`) would split its events between their monitors, and the first to end
 * would leave the groups the other reads.
 */
const active = new WeakSet<NetlinkSocket>();

/** The events of one kind of object. */
type EventOf<K extends MonitorObject> = Extract<RouteEvent, { readonly object: K }>;

/**
 * Options of `link.wait()`, `addr.wait()` and `neigh.wait()`: what bounds the wait, which
 * otherwise lasts as long as it takes.
 *
 * @example
 * ```ts
 * import type { WaitOptions } from "@netlink/netlink/route";
 * const options: WaitOptions = { timeout: 5_000 };
 * ```
 */
export interface WaitOptions {
  /** Aborting rejects the wait with the signal's reason, and frees the client's monitor. */
  signal?: AbortSignal;
  /**
   * Milliseconds to wait, from 1 to 2^31-1 (setTimeout's limit), before rejecting with a
   * "TimeoutError" DOMException, as a request's `timeout` does; leave it out to wait without a
   * limit. 0 is a RangeError before anything is sent.
   */
  timeout?: number;
}

// Every key of WaitOptions and nothing else (`satisfies`): the waits refuse any other.
const WAIT_KEYS = Object.keys({ signal: 0, timeout: 0 } satisfies Record<keyof WaitOptions, 0>);

/**
 * Checks a wait's `until` and `options`, before anything is sent; returns the options. `what`
 * is the method (`"link.wait()"`), `example` an `until` of its object, which the TypeError for
 * one that is no function shows.
 */
export function checkWait(
  what: string,
  until: unknown,
  options: WaitOptions | undefined,
  example: string,
): WaitOptions {
  if (typeof until !== "function") {
    throw new TypeError(
      `${what}: until must be a function of what it waits for, such as ${example}, got ${
        shown(until)
      }`,
    );
  }
  options = checkOptions(`${what} options`, options, WAIT_KEYS);
  checkSignal(`${what} options`, options.signal);
  checkTimeout(options.timeout, `${what} options`);
  return options;
}

/**
 * pyroute2's `poll()` for one object, behind `link.wait()`, `addr.wait()` and `neigh.wait()`:
 * resolves with the object once `until` holds for it. `look()` finds it (undefined while there
 * is none), first and after each overrun (what dropped events may have changed); `follow()` gives
 * it anew from each event of its kind (and may look again itself). The monitor is joined before
 * the first look, so no change is missed. `options` are checked already ({@linkcode checkWait}).
 */
export async function waitFor<K extends MonitorObject, T>(
  ctx: Context,
  what: string,
  object: K,
  look: (current: T | undefined) => Promise<T | undefined>,
  follow: (event: EventOf<K>, current: T | undefined) => T | undefined | Promise<T | undefined>,
  until: (current: T | undefined) => boolean,
  options: WaitOptions,
): Promise<T | undefined> {
  const { timeout } = options;
  // A timeout ends the monitor as an abort does, with its own TimeoutError as the reason.
  let signal = options.signal;
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (timeout !== undefined) {
    const timed = new AbortController();
    timer = setTimeout(() => timed.abort(timeoutError(timeout, what)), timeout);
    signal = signal === undefined ? timed.signal : AbortSignal.any([signal, timed.signal]);
  }
  const events = monitor(ctx, [object], { signal });
  try {
    let current: T | undefined = await look(undefined);
    while (!holds(what, until, current)) {
      const step = await events.next();
      if (step.done) throw new SocketClosedError(`${what}: the client closed`);
      const event = step.value;
      if (event.object === "overrun") current = await look(current);
      else if (event.object === object) current = await follow(event as EventOf<K>, current);
    }
    return current;
  } finally {
    clearTimeout(timer);
    await events.return?.();
  }
}

/**
 * Whether `until` holds for `current`: its result taken as JavaScript takes a condition, but a
 * promise (an async function's) is a TypeError, where it would be true whatever it settles to.
 */
function holds<T>(what: string, until: (current: T) => unknown, current: T): boolean {
  const result = until(current);
  if (typeof (result as PromiseLike<unknown> | null)?.then === "function") {
    throw new TypeError(
      `until returned a promise: ${what} calls it synchronously with each state and waits until it returns true (an async function's promise is always true): test the value itself`,
    );
  }
  return Boolean(result);
}

/**
 * {@linkcode waitFor} for an object on link `ref` (an address, a neighbour entry), which may not
 * be there yet: `list(index)` lists the link's objects, `matches()` says which is the one (of
 * those on the link). While there is no such link, an event of the kind looks again: a link
 * comes before its objects. By name, a link made with it or renamed to it (its next event says
 * so) is the one watched.
 */
export function waitOnLink<T extends Address | Neighbour>(
  ctx: Context,
  what: string,
  object: "address" | "neighbour",
  ref: LinkRef,
  list: (index: number) => Promise<T[]>,
  matches: (value: T) => boolean,
  until: (current: T | undefined) => boolean,
  options: WaitOptions,
): Promise<T | undefined> {
  /** The link's index at the last look; undefined while there was none. */
  let index: number | undefined;
  const isIt = (value: T) => value.index === index && matches(value);
  const look = async (): Promise<T | undefined> => {
    // Twice at most: the link may go between its lookup and the list, and a name be another's.
    for (let tries = 0; tries < 2; tries++) {
      try {
        index = await ctx.ifindex(ref);
        return (await list(index)).find(isIt);
      } catch (err) {
        if (!(err instanceof NetlinkError && err.code === "ENODEV")) throw err;
        if (typeof ref === "number") break;
      }
    }
    index = undefined; // gone, or never there: an event will say it came
    return undefined;
  };
  return waitFor(
    ctx,
    what,
    object,
    look,
    (event, current) => {
      const { action } = event;
      const value = event.value as T; // of the kind asked for
      // No link at the last look, or another has the name now: look again.
      if (index === undefined || (value.dev === ref && value.index !== index)) return look();
      if (!isIt(value)) return current;
      return action === "deleted" ? undefined : value;
    },
    until,
    options,
  );
}

/** The monitor behind `RouteClient.monitor()`. */
export function monitor(
  ctx: Context,
  objects: readonly MonitorObject[],
  options: MonitorOptions,
): AsyncIterableIterator<RouteEvent> & AsyncDisposable {
  options = checkOptions("monitor() options", options, MONITOR_KEYS);
  checkSignal("monitor() options", options.signal);
  if (!Array.isArray(objects) || objects.length === 0) {
    throw new TypeError(`objects: expected a non-empty array of ${Object.keys(GROUPS).join(", ")}`);
  }
  for (const object of objects) {
    if (!Object.hasOwn(GROUPS, object)) {
      const names = Object.keys(GROUPS);
      throw new TypeError(
        `objects: ${shown(object)} is not one of ${names.join(", ")}${
          suggestion(String(object), names)
        }`,
      );
    }
  }
  // Before the groups are looked at: a closed socket belongs to none, and its client monitors
  // nothing, whether or not the groups would need joining.
  if (ctx.socket.closed) {
    throw new SocketClosedError("a route monitor needs an open socket, this client's is closed");
  }
  if (active.has(ctx.socket)) {
    throw new TypeError(
      "this client is already monitoring (it, or another client over the same socket): end that "
        + "iteration first, or open a second client with a socket of its own",
    );
  }
  const wanted = new Set<MonitorObject>(objects);
  const socket = ctx.socket;
  // The names events' `dev` is looked up by, the monitor's own: the client's may be stale (a
  // link renamed since the last list()), and a list() running meanwhile replaces them with what
  // its dump saw, before or after the events read. These follow the events: kept up to date from
  // link events, also when links are not watched (their group is joined anyway, their events
  // not yielded), read at the call for objects on links (learnAllLinks), and looked up once for
  // a link neither named (an overrun cleared them).
  const names = new Map<number, string>();
  // Whether each link is up, kept alike: a link event's flags say "M-DOWN" when the link it sits
  // on is down, as link.get()'s do (and as ip monitor prints them, from its cache of the flags).
  const known: KnownLinks = { names, up: new Map() };
  // Changes made before this call are not its events, yet the socket may hold some: a previous
  // monitor's, read ahead or still in the kernel's queue. A request sent now, before the groups
  // are joined, is answered behind them all: what comes before its answer is skipped. One
  // marker per socket, shared with the typed layer's monitors on it.
  const marker = monitorStarts(socket);
  // Joined now, before returning: events from here on queue on the socket until read.
  const joined: number[] = [];
  try {
    for (const object of new Set<MonitorObject>([...wanted, "link"])) {
      for (const group of GROUPS[object]) {
        if (!socket.groups.includes(group)) {
          socket.join(group);
          joined.push(group);
        }
      }
    }
  } catch (err) {
    for (const group of joined) socket.leave(group);
    monitorEnds(socket);
    throw err;
  }
  active.add(ctx.socket);
  const { signal } = options;
  let ended = false;
  /** Cancels the release at collection (below) once the monitor has ended. */
  let forget = () => {};
  // The client is free again, and the groups left, as soon as the monitor ends: also on abort
  // with no next() pending, and once a monitor left without return() is garbage-collected.
  const end = () => {
    if (ended) return;
    ended = true;
    forget();
    signal?.removeEventListener("abort", end);
    active.delete(ctx.socket);
    monitorEnds(socket);
    if (!socket.closed) { for (const group of joined) socket.leave(group); }
  };
  if (signal?.aborted) end();
  else signal?.addEventListener("abort", end, { once: true });

  async function* events(abort: AbortSignal): AsyncGenerator<RouteEvent, void, undefined> {
    if (linksRead !== undefined) {
      try {
        await linksRead;
      } catch (err) {
        if (err !== STOPPED && !socket.closed) {
          end();
          throw err;
        }
      }
    }
    // Closed before the first step (or while the links were read): the monitor ends, as one
    // waiting when it closes does (and as the socket's own iterations do), rather than throwing
    // from messages(); stopped or aborted meanwhile, it ends as it would have in messages().
    if (socket.closed || abort.aborted) {
      end();
      if (abort.aborted && abort.reason !== STOPPED) throw abort.reason;
      return;
    }
    // A datagram that does not parse is no kernel's either (another process wrote it to our
    // port, or as root to the groups): skipped, as their messages are.
    const messages = socket.messages({ signal: abort, onMalformed: () => {} });
    let skipping = marker !== undefined;
    try {
      for await (const message of messages) {
        if (skipping) {
          // The marker's ack (read by this monitor or another on the socket) ends the skipping,
          // and is no event (no event's type); an overrun, which may have dropped it, ends it
          // too, and is yielded: the socket's own marker of one, that is, not a message of its
          // type another process sent.
          skipping = skips(socket, message, marker);
          if (skipping) continue;
        }
        if (message.overrun) {
          names.clear(); // a rename may be among what was dropped
          known.up.clear();
          yield { object: "overrun" };
          continue;
        }
        // Only the kernel's (port 0) are events: another process may write to our port, and
        // root may multicast to the groups, anything it likes.
        if (message.sender !== 0) continue;
        let kind = TYPES[message.type];
        // An AF_BRIDGE neighbour (ndm_family, the payload's first byte) is an FDB entry, an
        // AF_BRIDGE link (ifi_family) a bridge's word on its port: not the link's own, whose
        // RTM_DELLINK when the port leaves the bridge is no deletion of the link.
        if (kind !== undefined && message.payload[0] === AF_BRIDGE) {
          if (kind[0] === "neighbour") kind = kind[1] === "new" ? FDB_NEW : FDB_DELETED;
          else if (kind[0] === "link") kind = kind[1] === "new" ? PORT_NEW : PORT_DELETED;
        }
        // Link events keep the names up to date, watched or not.
        if (kind === undefined || (!wanted.has(kind[0]) && kind[0] !== "link")) continue;
        const [object, action] = kind;
        if (!wanted.has(object)) {
          learnFromLink(ctx, known, action, message);
          continue;
        }
        const event = await decode(ctx, known, object, action, message, abort);
        if (event !== undefined) yield event;
      }
    } catch (err) {
      if (err !== STOPPED) throw err;
    } finally {
      end();
    }
  }

  // `abort`: the caller's signal, or return() and throw(), which stop the step in flight first:
  // an async generator's own would wait for it, and with no event coming it waits for good (the
  // groups joined, the client monitoring).
  const stop = new AbortController();
  const abort = withStop(signal, stop.signal);
  // The links as they are now, read before the first event (see learnAllLinks) for events of
  // objects on links: a link's own events name it.
  const linksRead = objects.some((object) => object !== "link" && object !== "rule")
    ? learnAllLinks(ctx, known, abort)
    : undefined;
  linksRead?.catch(() => {}); // rejected for a step to throw: none may come
  const inner = events(abort);
  let started = false;
  /** The last step asked for: a monitor collected while it waits ends once it has settled. */
  let last: Promise<unknown> = Promise.resolve();
  // No closure here may capture `iterator` (they share this scope with the release below).
  const iterator: AsyncIterableIterator<RouteEvent> & AsyncDisposable = {
    next: () => {
      started = true;
      const step = inner.next();
      last = step;
      return step;
    },
    return: async () => {
      stop.abort(STOPPED);
      const result = await inner.return(undefined);
      end(); // also when next() was never called, and the generator's finally never ran
      return result;
    },
    throw: async (err?: unknown) => {
      end();
      stop.abort(STOPPED);
      return await inner.throw(err);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
    // `await using`: ends the monitor (leaves its groups, frees the client) with its scope.
    [Symbol.asyncDispose]() {
      return this.return!().then(() => {});
    },
  };
  // Left without return(): a generator that never started ends now; one that did runs its
  // finally, after the step still pending (its owner awaits it: a dropped iterator is no ended
  // one), as the typed monitor does.
  forget = whenCollected(iterator, () => {
    if (!started) end();
    else {
      const close = () => void inner.return(undefined).then(end, end);
      last.then(close, close);
    }
  });
  return iterator;
}

/** The links a monitor knows of, from its events and lookups: names, and whether each is up. */
interface KnownLinks {
  names: Map<number, string>;
  up: Map<number, boolean>;
}

/**
 * Reads every link's name and whether it is up, once, before the first event, as ip monitor
 * reads its cache (ll_init_map): the kernel deletes a link that is down with no link event
 * before its addresses', routes' and neighbours' deletions, so a lookup when the first of those
 * is read finds no link, and they came without `dev`.
 */
async function learnAllLinks(
  ctx: Context,
  known: KnownLinks,
  signal: AbortSignal,
): Promise<void> {
  try {
    // The name alone (the header's index and flags come with every pick): a link's statistics
    // and nests, most of its bytes, are not read here.
    const links = ctx.link.dumpStream("getlink", { extMask: 8 }, { signal, attrs: ["ifname"] });
    for await (const link of links) {
      if (link.ifname !== undefined) known.names.set(link.ifiIndex, link.ifname);
      known.up.set(link.ifiIndex, (link.ifiFlags & IFF_UP) !== 0);
    }
  } catch (err) {
    // What an overrun left, or a dump a link made or deleted meanwhile interrupted (ip keeps that
    // too), is kept: the links' events and lookups follow.
    if (err instanceof DumpInterruptedError) return;
    if (!(err instanceof SyscallError && err.code === "ENOBUFS")) throw err;
  }
}

/**
 * Looks link `index` up for an event, once: link events keep what it learns (the name, whether
 * the link is up) up to date. The answer may be lost to an overrun, as events are (ENOBUFS):
 * the event then comes without `dev` (or without "M-DOWN"), as one of a link already gone does,
 * and the overrun event follows; it does not end the monitor.
 */
async function learnLink(
  ctx: Context,
  known: KnownLinks,
  index: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (known.up.has(index) || index === 0) return;
  try {
    const link = await ctx.linkNow(index, signal);
    if (link === undefined) return;
    if (link.ifname !== undefined) known.names.set(index, link.ifname);
    known.up.set(index, (link.ifiFlags & IFF_UP) !== 0);
  } catch (err) {
    if (!(err instanceof SyscallError && err.code === "ENOBUFS")) throw err;
  }
}

/**
 * Keeps what a link event says of its link (name, up) in `known`, also when links are not
 * watched (it asks nothing of the kernel then); returns the link decoded.
 */
function learnFromLink(
  ctx: Context,
  known: KnownLinks,
  action: "new" | "deleted",
  message: { type: number; payload: Uint8Array },
): RawLink | undefined {
  const raw = ctx.link.decode(message as never)?.message as RawLink | undefined;
  if (raw === undefined) return undefined;
  if (action === "new" && raw.ifname !== undefined) {
    known.names.set(raw.ifiIndex, raw.ifname);
    known.up.set(raw.ifiIndex, (raw.ifiFlags & IFF_UP) !== 0);
  } else {
    known.names.delete(raw.ifiIndex);
    known.up.delete(raw.ifiIndex);
  }
  return raw;
}

async function decode(
  ctx: Context,
  known: KnownLinks,
  object: MonitorObject,
  action: "new" | "deleted",
  message: { type: number; payload: Uint8Array },
  signal: AbortSignal | undefined,
): Promise<RouteEvent | undefined> {
  switch (object) {
    case "link":
    case "port": {
      // A link's own state first, as ip updates its cache before printing. A port's events
      // leave it to the link's own: a port's deleted one is no deletion.
      const raw = object === "link"
        ? learnFromLink(ctx, known, action, message)
        : ctx.link.decode(message as never)?.message as RawLink | undefined;
      if (raw === undefined) return undefined;
      // The link it sits on, in this namespace (ip shows no M-DOWN for one in another).
      await learnLink(ctx, known, lowerIndex(raw), signal);
      return { object, action, value: ctx.mine(toLink(raw, lowerUp(raw, known.up))) };
    }
    case "address": {
      const raw = ctx.addr.decode(message as never)?.message as RawAddress | undefined;
      if (raw === undefined || (raw.ifaFamily !== 2 && raw.ifaFamily !== 10)) return undefined;
      await learnLink(ctx, known, raw.ifaIndex, signal);
      return { object, action, value: ctx.mine(toAddress(raw, known.names)) };
    }
    case "route": {
      const raw = ctx.route.decode(message as never)?.message as RawRoute | undefined;
      if (raw === undefined || (raw.rtmFamily !== 2 && raw.rtmFamily !== 10)) return undefined;
      if (raw.oif !== undefined) await learnLink(ctx, known, raw.oif, signal);
      return { object, action, value: ctx.mine(toRoute(raw, known.names, ctx.route)) };
    }
    case "neighbour": {
      const raw = ctx.neigh.decode(message as never)?.message as RawNeighbour | undefined;
      if (raw === undefined || (raw.ndmFamily !== 2 && raw.ndmFamily !== 10)) return undefined;
      await learnLink(ctx, known, raw.ndmIfindex, signal);
      return { object, action, value: ctx.mine(toNeighbour(raw, known.names)) };
    }
    case "fdb": {
      const raw = ctx.neigh.decode(message as never)?.message as RawFdbEntry | undefined;
      if (raw === undefined) return undefined;
      await learnLink(ctx, known, raw.ndmIfindex, signal);
      if (raw.master !== undefined) await learnLink(ctx, known, raw.master, signal);
      if (raw.ifindex !== undefined && raw.linkNetnsid === undefined) {
        await learnLink(ctx, known, raw.ifindex, signal);
      }
      return { object, action, value: ctx.mine(toFdbEntry(raw, known.names)) };
    }
    case "rule": {
      const raw = ctx.rule.decode(message as never)?.message as RawRule | undefined;
      if (raw === undefined) return undefined;
      return { object, action, value: toRule(raw) };
    }
  }
}
