/**
 * The everyday rtnetlink client: one socket, and `link`, `addr`, `route`, `neigh`, `fdb`,
 * `vlan`, `rule`, `nexthop` and `monitor()` over it.
 *
 * @module
 */

import { NETLINK_ROUTE } from "../_constants.ts";
import { OPEN_KEYS } from "../_open_keys.ts";
import { checkAloneWithSocket, checkGivenSocket, checkOptions } from "../_options.ts";
import { protocolText } from "../_protocols.ts";
import { SocketClosedError } from "../errors.ts";
import { open, type OpenOptions } from "../open.ts";
import type { NetlinkSocket } from "../socket.ts";
import { Context, register, ROUTE_RECEIVE_BUFFER } from "./_context.ts";
import { Addresses } from "./address.ts";
import { BridgeVlans } from "./bridge_vlan.ts";
import { FdbEntries } from "./fdb.ts";
import { Links } from "./link.ts";
import { monitor, type MonitorObject, type MonitorOptions, type RouteEvent } from "./monitor.ts";
import { Neighbours } from "./neighbour.ts";
import { NexthopObjects } from "./nexthop.ts";
import { Routes } from "./route.ts";
import { Rules } from "./rule.ts";

/**
 * What `monitor()` watches unless told: not "fdb" nor "port", which `ip monitor` prints among
 * neighbours and links.
 */
type Everyday = Exclude<MonitorObject, "fdb" | "port">;
const EVERYTHING: readonly Everyday[] = ["link", "address", "route", "neighbour", "rule"];

/**
 * Options of {@linkcode openRoute}: those of `open()` (`netns`, `receiveBufferSize`...), or an
 * existing NETLINK_ROUTE socket to use.
 *
 * @example
 * ```ts
 * import type { RouteOptions } from "@netlink/netlink/route";
 * const inBlue: RouteOptions = { netns: "blue" };
 * ```
 */
export interface RouteOptions extends Omit<OpenOptions, "groups"> {
  /**
   * An open NETLINK_ROUTE socket to use instead of opening one; it stays open when the client
   * is closed. Filters the kernel ignores on it (no strict checking) still apply: the client
   * filters what comes back. A closed one (SocketClosedError), or one of another protocol
   * or opened `unframed` (TypeError), is refused at once.
   */
  socket?: NetlinkSocket;
}

/**
 * A client for links, addresses, routes, neighbours, FDB entries, bridge VLANs, rules and nexthop
 * objects, over one NETLINK_ROUTE socket. Close it with `close()` or `await using`.
 *
 * @example
 * ```ts
 * import { openRoute } from "@netlink/netlink/route";
 * await using ip = await openRoute({ netns: "blue" });
 * await ip.link.set("eth0", { up: true });
 * await ip.addr.add("eth0", "10.0.0.1/24");
 * await ip.route.add({ dst: "default", gateway: "10.0.0.254" });
 * ```
 */
export class RouteClient implements AsyncDisposable {
  /** The socket requests go through. */
  readonly socket: NetlinkSocket;
  /** `ip link`. */
  readonly link: Links;
  /** `ip address`. */
  readonly addr: Addresses;
  /** `ip route`. */
  readonly route: Routes;
  /** `ip neigh`. */
  readonly neigh: Neighbours;
  /** `bridge fdb`. */
  readonly fdb: FdbEntries;
  /** `bridge vlan`. */
  readonly vlan: BridgeVlans;
  /** `ip rule`. */
  readonly rule: Rules;
  /** `ip nexthop`. */
  readonly nexthop: NexthopObjects;
  readonly #ctx: Context;
  readonly #ownsSocket: boolean;

  /**
   * Wraps an open NETLINK_ROUTE socket; {@linkcode openRoute} is the usual way to get a client.
   * Throws TypeError for a socket of another protocol or one opened `unframed`, SocketClosedError
   * for a closed one.
   *
   * @param socket The socket.
   * @param ownsSocket Whether closing the client closes the socket (default false).
   */
  constructor(socket: NetlinkSocket, ownsSocket = false) {
    if (socket.protocol !== NETLINK_ROUTE) {
      throw new TypeError(
        `a route client needs a NETLINK_ROUTE socket, not ${protocolText(socket.protocol)}`,
      );
    }
    // Refused here, not at its first request.
    if (socket.closed) {
      throw new SocketClosedError("a route client needs an open socket, this one is closed");
    }
    // Its requests would throw, and a monitor() only after it joined its groups.
    if (socket.unframed) {
      throw new TypeError(
        "a route client needs a socket that reads netlink messages, this one was opened with "
          + "unframed: true (its datagrams are read whole): open one without it",
      );
    }
    this.socket = socket;
    this.#ctx = new Context(socket);
    this.#ownsSocket = ownsSocket;
    register(this, this.#ctx);
    this.link = new Links(this);
    this.addr = new Addresses(this);
    this.route = new Routes(this);
    this.neigh = new Neighbours(this);
    this.fdb = new FdbEntries(this);
    this.vlan = new BridgeVlans(this);
    this.rule = new Rules(this);
    this.nexthop = new NexthopObjects(this);
  }

  /**
   * Watches changes (`ip monitor`) to the objects named (default: links, addresses, routes,
   * neighbours and rules; "fdb" adds FDB entries, AF_BRIDGE neighbours, which `ip monitor`
   * prints among the neighbours and "neighbour" leaves out, and "port" a bridge's messages on
   * its ports, AF_BRIDGE links, which `ip monitor` prints among the links and "link" leaves out:
   * a port leaving its bridge is a "port" "deleted" event, never a "link" one): the groups are joined before this returns, so no change made after
   * the call is missed, even before the first `next()`, and none made before it is yielded (a
   * previous monitor's events left unread are skipped); the link group too when links are not
   * watched, to follow renames (an event's `dev` is the link's name at the time; the links'
   * names are read once at the call, as `ip monitor` reads them, for a link deleted before its
   * objects' events are read: one that is down sends no link event first). Yields a
   * {@linkcode RouteEvent} per change, and `{ object: "overrun" }` when the kernel dropped some;
   * skips what another process sends (to the port, or as root to the groups). Ends on `break`
   * or `return()` (leaving the groups; a `next()` pending then ends at once, `done`) or when `options.signal` aborts (rejecting with its reason, also during
   * the lookup of a link's name). One monitor at a time per client: open a second client for a
   * second. The client is free for the next one as soon as a monitor ends (on abort at once, also with no `next()` pending), or, for one left
   * without `return()`, once it is garbage-collected. A monitor stepped by hand can be declared
   * with `await using`: it ends (leaving the groups) with its scope. Throws SocketClosedError
   * once the client's socket is closed; a monitor running when it closes ends (`done`), as the
   * socket's own iterations do, whether a `next()` was pending or comes after. Its events are
   * typed by the objects watched: with `["link"]`, an event that is no overrun is a link's.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * for await (const event of ip.monitor(["link", "address", "route"])) {
   *   if (event.object === "link") console.log(event.action, event.value.name, event.value.operstate);
   * }
   * ```
   */
  monitor<O extends MonitorObject = Exclude<MonitorObject, "fdb" | "port">>(
    objects: readonly O[] = EVERYTHING as readonly O[],
    options: MonitorOptions = {},
  ): AsyncIterableIterator<Extract<RouteEvent, { object: O | "overrun" }>> & AsyncDisposable {
    return monitor(this.#ctx, objects, options) as
      & AsyncIterableIterator<Extract<RouteEvent, { object: O | "overrun" }>>
      & AsyncDisposable;
  }

  /**
   * Closes the socket, unless it was passed in with `options.socket`.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * const ip = await openRoute();
   * ip.close();
   * ```
   */
  close(): void {
    if (this.#ownsSocket) this.socket.close();
  }

  /** Closes the client: `await using ip = await openRoute()`. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

// Every key of RouteOptions and nothing else (`satisfies`): openRoute() refuses any other.
const ROUTE_KEYS = [
  ...OPEN_KEYS.filter((key) => key !== "groups"),
  ...Object.keys({ socket: 0 } satisfies Record<Exclude<keyof RouteOptions, keyof OpenOptions>, 0>),
];

/**
 * Opens a route client: a NETLINK_ROUTE socket with strict dump checking (so the kernel filters
 * dumps where it can) and a receive buffer of 1 MiB, as `ip` has (`receiveBufferSize` sets
 * another), in the caller's network namespace or `options.netns`, or over `options.socket`.
 *
 * @example
 * ```ts
 * import { openRoute } from "@netlink/netlink/route";
 * await using ip = await openRoute();
 * for (const link of await ip.link.list()) console.log(link.index, link.name, link.flags);
 * ```
 */
export async function openRoute(options: RouteOptions = {}): Promise<RouteClient> {
  const { socket: given, ...openOptions } = checkOptions(
    "openRoute() options",
    options,
    ROUTE_KEYS,
  );
  checkAloneWithSocket("openRoute()", given, openOptions);
  checkGivenSocket("openRoute()", given, NETLINK_ROUTE, "NETLINK_ROUTE");
  if (given !== undefined) return new RouteClient(given);
  const socket = await open(NETLINK_ROUTE, {
    strictChecking: true,
    receiveBufferSize: ROUTE_RECEIVE_BUFFER,
    ...openOptions,
  });
  return new RouteClient(socket, true);
}
