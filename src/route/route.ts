/**
 * Routes (`ip route`): list, get (lookup), add, replace, delete; multipath read and written.
 *
 * @module
 */

import { concat } from "../_bytes.ts";
import {
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  RTM_F_CLONED,
  RTM_F_LOOKUP_TABLE,
} from "../_constants.ts";
import { HOST_LITTLE_ENDIAN } from "../_endian.ts";
import { checkOptions, integerFieldError, shown } from "../_options.ts";
import { NetlinkError } from "../errors.ts";
import { formatIP, ipFamily, parseIP, parsePrefix } from "../ip.ts";
import type { DumpReply } from "../ynl/_descriptor.ts";
import type { NetlinkFamily } from "../ynl/family.ts";
import type { rtRoute } from "../ynl/rt_route.ts";
import { type Context, contextOf, type LinkRef } from "./_context.ts";
import { checkLinkRef } from "./_link_ref.ts";
import {
  FAMILIES,
  flagNames,
  flagValue,
  inetFamily,
  printAs,
  PROTOCOLS,
  ROUTE_FLAGS,
  ROUTE_PREFS,
  ROUTE_TYPES,
  SCOPES,
  TABLES,
  WithRaw,
} from "./_names.ts";
import type { Scope } from "./address.ts";
import type { RouteClient } from "./client.ts";
import { metricsIn, metricsOut, ROUTE_METRICS_KEYS, type RouteMetrics } from "./route_metrics.ts";

/** A route as the typed layer decodes it. */
export type RawRoute = DumpReply<typeof rtRoute, "getroute">;

/** Route types (RTN_*). */
export type RouteType =
  | "unspec"
  | "unicast"
  | "local"
  | "broadcast"
  | "anycast"
  | "multicast"
  | "blackhole"
  | "unreachable"
  | "prohibit"
  | "throw"
  | "nat"
  | "xresolve";

/**
 * IPv6 router preferences (RTA_PREF, ICMPV6_ROUTER_PREF_*), as `ip route` names them.
 *
 * @example
 * ```ts
 * import type { RoutePref } from "@netlink/netlink/route";
 * const pref: RoutePref = "high";
 * ```
 */
export type RoutePref = "low" | "medium" | "high";

/** Route protocols by the names iproute2 gives them (rt_protos). */
export type RouteProtocol =
  | "unspec"
  | "redirect"
  | "kernel"
  | "boot"
  | "static"
  | "gated"
  | "ra"
  | "mrt"
  | "zebra"
  | "bird"
  | "dnrouted"
  | "xorp"
  | "ntk"
  | "dhcp"
  | "keepalived"
  | "babel"
  | "openr"
  | "bgp"
  | "isis"
  | "ospf"
  | "rip"
  | "eigrp";

/** The named routing tables; others are numbers (1..2^32-1). */
export type TableName = "default" | "main" | "local";

/**
 * One path of a multipath route.
 *
 * @example
 * ```ts
 * import type { NextHop } from "@netlink/netlink/route";
 * const hop: NextHop = { gateway: "10.0.0.2", weight: 2 };
 * ```
 */
export interface NextHop {
  /** Gateway address (an IPv4 route's may be IPv6: `via inet6`, sent as RTA_VIA). */
  gateway?: string;
  /** Outgoing link: name or index (read back: its name). */
  dev?: LinkRef;
  /** Weight, 1..256 (default 1). */
  weight?: number;
  /** RTNH_F_* names ("onlink", "linkdown", "dead"...). */
  flags?: readonly string[];
}

/**
 * A route, as `ip -j route show` shows it.
 *
 * @example
 * ```ts
 * import { openRoute } from "@netlink/netlink/route";
 * await using ip = await openRoute();
 * for (const r of await ip.route.list()) console.log(r.dst, r.gateway ?? "", r.dev ?? "");
 * ```
 */
export interface Route {
  /** "inet", "inet6" (or another family's name or number). */
  readonly family: string | number;
  /** Route type ("unicast", "blackhole", "local"...). */
  readonly type: RouteType | number;
  /** Destination: "default", a prefix ("10.0.0.0/24"), or a host address without length. */
  readonly dst: string;
  /** Source prefix of a source-specific route (`from`). */
  readonly src?: string;
  /** Table: "main", "local", "default", or its number. */
  readonly table: TableName | number;
  /** Who installed it: "kernel", "boot", "static", "dhcp"... or the number. */
  readonly protocol: RouteProtocol | number;
  /** Scope ("global", "link", "host"...). */
  readonly scope: Scope | number;
  /** Gateway address (an IPv4 route's may be IPv6: `via inet6 ADDRESS`, RTA_VIA). */
  readonly gateway?: string;
  /** Outgoing link's name. */
  readonly dev?: string;
  /** Outgoing link's index. */
  readonly ifindex?: number;
  /** Preferred source address. */
  readonly prefsrc?: string;
  /** Metric (RTA_PRIORITY). */
  readonly metric?: number;
  /** TOS / DSCP byte. */
  readonly tos?: number;
  /** RTNH_F_* names ("onlink", "linkdown", "offload"...); frozen when empty. */
  readonly flags: readonly string[];
  /** The paths of a multipath route. */
  readonly nexthops?: NextHop[];
  /** Path MTU (RTAX_MTU), when set; also in `metrics`. */
  readonly mtu?: number;
  /**
   * Every metric the route has (RTA_METRICS: `mtu`, `advmss`, `hoplimit`, `rtt`...), as
   * `ip -j route show` lists them under `metrics`, times in milliseconds.
   */
  readonly metrics?: RouteMetrics;
  /** The nexthop object the route uses (`nhid`; see `ip.nexthop`). */
  readonly nhid?: number;
  /** An IPv6 route's router preference (RTA_PREF: `pref medium`), by name. */
  readonly pref?: RoutePref | number;
  /**
   * Seconds until the route expires (RTA_CACHEINFO's rta_expires, as `ip -j` shows it), for a
   * route that does: an IPv6 route learnt from a router advertisement, the prefix route of an
   * address with a lifetime, one added with `expires`.
   */
  readonly expires?: number;
  /** Everything the kernel sent, as the typed layer decodes it. */
  readonly raw: RawRoute;
}

/**
 * A route to add, replace or delete (`ip route add ...`). Defaults are `ip`'s: type "unicast",
 * table "main" ("local" for local, broadcast, anycast and nat routes), protocol "boot", and the
 * scope `ip` would pick ("link" for a unicast route without gateway, "host" for local,
 * "global" otherwise).
 *
 * @example
 * ```ts
 * import type { NewRoute } from "@netlink/netlink/route";
 * const viaGateway: NewRoute = { dst: "10.1.0.0/16", gateway: "10.0.0.254", table: 100 };
 * const ecmp: NewRoute = {
 *   dst: "default",
 *   nexthops: [{ gateway: "10.0.0.1", weight: 1 }, { gateway: "10.0.0.2", weight: 3 }],
 * };
 * const sink: NewRoute = { dst: "192.0.2.0/24", type: "blackhole" };
 * ```
 */
export interface NewRoute {
  /** Destination prefix ("10.0.0.0/24", "2001:db8::/32") or "default". */
  dst: string;
  /**
   * "inet" or "inet6": what a "default" route without gateway needs (default "inet"); with a
   * prefix or gateway, it must be theirs (a "default" route via an IPv6 gateway is IPv6 unless
   * this says "inet").
   */
  family?: "inet" | "inet6";
  /**
   * Gateway address (`via`): of the destination's family, or IPv6 for an IPv4 route (`via inet6`,
   * RFC 5549: sent as RTA_VIA).
   */
  gateway?: string;
  /** Outgoing link (`dev`). */
  dev?: LinkRef;
  /** Table (default "main"). */
  table?: TableName | number;
  /** Metric (`metric`). */
  metric?: number;
  /** Protocol (default "boot", as `ip route add`). */
  protocol?: RouteProtocol | number;
  /** Scope (default: the one `ip` would pick). */
  scope?: Scope | number;
  /** Type (default "unicast"). */
  type?: RouteType | number;
  /** Preferred source address (`src`). */
  prefsrc?: string;
  /**
   * Source prefix (`from`, IPv6 source routing; an IPv4 route is a TypeError: the kernel
   * ignores it). The source address to prefer is `prefsrc`.
   */
  src?: string;
  /** TOS (`tos`). */
  tos?: number;
  /** Paths of a multipath route (`nexthop via ... weight ...`). */
  nexthops?: NextHop[];
  /** RTNH_F_ONLINK: the gateway is on the link even if no prefix says so. */
  onlink?: boolean;
  /** Path MTU (`mtu`); or `metrics.mtu` (both given: the same). */
  mtu?: number;
  /**
   * The route's metrics (`ip route add ... advmss 1360 hoplimit 16 initcwnd 10 rtt 30ms`), times
   * in milliseconds; `lock` names those TCP may not change (`mtu lock 1400`).
   */
  metrics?: RouteMetrics;
  /** IPv6 router preference (`pref low|medium|high`). */
  pref?: RoutePref;
  /** IPv6: seconds until the route expires (`expires`); not sent by delete(). */
  expires?: number;
  /** A nexthop object's id (`nhid`), instead of gateway, dev or nexthops (see `ip.nexthop`). */
  nhid?: number;
}

/**
 * Filters of `route.list()`.
 *
 * @example
 * ```ts
 * import type { RouteFilter } from "@netlink/netlink/route";
 * const everything: RouteFilter = { table: "all" };
 * const table100v6: RouteFilter = { table: 100, family: "inet6" };
 * const routeCache: RouteFilter = { cached: true }; // ip route show cache
 * ```
 */
export interface RouteFilter {
  /** Table (default "main", as `ip route show`); "all" for every table. */
  table?: TableName | number | "all";
  /** Only IPv4 or IPv6 (default both). */
  family?: "inet" | "inet6";
  /** Only routes out of this link. */
  dev?: LinkRef;
  /** Only routes of this protocol. */
  protocol?: RouteProtocol | number;
  /** Only routes of this type. */
  type?: RouteType | number;
  /**
   * The route cache instead (`ip route show cache`): the exceptions the kernel learnt for single
   * destinations (a path MTU, a redirect), in the table of the route they hang from; their
   * expiry is in `raw.cacheinfo`.
   */
  cached?: boolean;
}

/**
 * Options of `route.get()` (`ip route get ADDRESS from ... iif ... oif ... mark ...`).
 *
 * @example
 * ```ts
 * import type { RouteLookup } from "@netlink/netlink/route";
 * const lookup: RouteLookup = { from: "10.0.0.1", mark: 7 };
 * ```
 */
export interface RouteLookup {
  /** Source address. */
  from?: string;
  /** Incoming link (a forwarding lookup; IPv4 needs `from`, else the kernel's EINVAL). */
  iif?: LinkRef;
  /** Outgoing link. */
  oif?: LinkRef;
  /** Firewall mark. */
  mark?: number;
}

// Every key of each spec and nothing else (`satisfies`): a misspelt one is refused, not ignored.
const FILTER_KEYS = Object.keys(
  { table: 0, family: 0, dev: 0, protocol: 0, type: 0, cached: 0 } satisfies Record<
    keyof RouteFilter,
    0
  >,
);
const LOOKUP_KEYS = Object.keys(
  { from: 0, iif: 0, oif: 0, mark: 0 } satisfies Record<keyof RouteLookup, 0>,
);
const ROUTE_KEYS = Object.keys(
  {
    dst: 0,
    family: 0,
    gateway: 0,
    dev: 0,
    table: 0,
    metric: 0,
    protocol: 0,
    scope: 0,
    type: 0,
    prefsrc: 0,
    src: 0,
    tos: 0,
    nexthops: 0,
    onlink: 0,
    mtu: 0,
    metrics: 0,
    pref: 0,
    expires: 0,
    nhid: 0,
  } satisfies Record<keyof NewRoute, 0>,
);
// A listed route's keys beyond a spec's: delete() takes one as list() gave it.
const LISTED_KEYS = Object.keys(
  { ifindex: 0, flags: 0 } satisfies Record<Exclude<keyof Route, keyof NewRoute | "raw">, 0>,
);
const NEXTHOP_KEYS = Object.keys(
  { gateway: 0, dev: 0, weight: 0, flags: 0 } satisfies Record<keyof NextHop, 0>,
);

/** A route to delete as delete() reads it: a spec, or a listed route with its link's index. */
type RouteToDelete = NewRoute & {
  ifindex?: number;
  nexthops?: (NextHop & { ifindex?: number })[];
};

/** The rt-route family on a client's socket: its codec reads and writes next hops' attributes. */
type RouteFamily = NetlinkFamily<typeof rtRoute>;
const RTMSG_SIZE = 12;
// Shared by the routes without flags (nearly all): one array less per route to build and collect.
const NO_FLAGS: readonly string[] = Object.freeze([]);

function hostBits(address: Uint8Array, length: number): boolean {
  for (let bit = length; bit < address.length * 8; bit++) {
    if (address[bit >> 3] & (0x80 >> (bit & 7))) return true;
  }
  return false;
}

/** An RTA_VIA's address (struct rtvia: a u16 family, then the address), as text. */
function viaText(via: Uint8Array): string | undefined {
  const family = via.length >= 2
    ? new DataView(via.buffer, via.byteOffset, 2).getUint16(0, HOST_LITTLE_ENDIAN)
    : 0;
  const bytes = family === 2 ? 4 : family === 10 ? 16 : 0;
  return bytes && via.length >= 2 + bytes ? formatIP(via.subarray(2, 2 + bytes)) : undefined;
}

/** A gateway as a route of `family` carries it: RTA_GATEWAY, or RTA_VIA (struct rtvia) if not. */
function gatewayAttribute(gateway: Uint8Array, family: number): Record<string, Uint8Array> {
  if (gateway.length === (family === 10 ? 16 : 4)) return { gateway };
  const via = new Uint8Array(2 + gateway.length);
  new DataView(via.buffer).setUint16(0, gateway.length === 16 ? 10 : 2, HOST_LITTLE_ENDIAN);
  via.set(gateway, 2);
  return { via };
}

/** A route's dst or src: the rt-route codec reads the address as text (its display hint). */
function prefixText(family: number, address: string | undefined, length: number): string {
  if (address === undefined) {
    if (length === 0) return "default";
    return `${family === 10 ? "::" : "0.0.0.0"}/${length}`;
  }
  return length === (address.includes(":") ? 128 : 32) ? address : `${address}/${length}`;
}

/**
 * Parses RTA_MULTIPATH: a struct rtnexthop per path, then its attributes, which the rt-route
 * codec decodes as a route's (behind an empty rtmsg: the family's public decode()).
 */
function decodeMultipath(
  bytes: Uint8Array,
  names: Map<number, string>,
  family: RouteFamily,
): NextHop[] {
  const hops: NextHop[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let offset = 0; offset + 8 <= bytes.length;) {
    const length = view.getUint16(offset, true);
    if (length < 8 || offset + length > bytes.length) break;
    const payload = new Uint8Array(RTMSG_SIZE + length - 8);
    payload.set(bytes.subarray(offset + 8, offset + length), RTMSG_SIZE);
    const attrs = family.decode({ type: 24, flags: 0, seq: 0, portid: 0, payload })?.message as
      | RawRoute
      | undefined;
    const hop: NextHop & { ifindex?: number } = {};
    if (attrs?.gateway !== undefined) hop.gateway = attrs.gateway;
    else if (attrs?.via !== undefined) {
      const via = viaText(attrs.via);
      if (via !== undefined) hop.gateway = via;
    }
    const ifindex = view.getInt32(offset + 4, true);
    if (ifindex) {
      const dev = names.get(ifindex);
      if (dev !== undefined) hop.dev = dev;
      hop.ifindex = ifindex;
    }
    hop.weight = bytes[offset + 3] + 1;
    hop.flags = flagNames(ROUTE_FLAGS, bytes[offset + 2]);
    hops.push(hop);
    offset += (length + 3) & ~3;
  }
  return hops;
}

// Named as the interface is, for console.log.
const RouteObject = class Route extends WithRaw<RawRoute> {};
printAs(RouteObject, class Route {});

/** Turns a typed route into a {@linkcode Route}, with link names from `names`. */
export function toRoute(raw: RawRoute, names: Map<number, string>, routes: RouteFamily): Route {
  const family = raw.rtmFamily;
  const out = new RouteObject(raw) as unknown as Record<string, unknown>;
  out.family = FAMILIES.name(family);
  out.type = typeof raw.rtmType === "number" ? ROUTE_TYPES.name(raw.rtmType) : raw.rtmType;
  out.dst = prefixText(family, raw.dst, raw.rtmDstLen);
  if (raw.src !== undefined || raw.rtmSrcLen) out.src = prefixText(family, raw.src, raw.rtmSrcLen);
  out.table = TABLES.name(raw.table ?? raw.rtmTable);
  out.protocol = PROTOCOLS.name(raw.rtmProtocol);
  out.scope = SCOPES.name(raw.rtmScope);
  if (raw.gateway !== undefined) out.gateway = raw.gateway;
  else if (raw.via !== undefined) {
    const via = viaText(raw.via);
    if (via !== undefined) out.gateway = via;
  }
  if (raw.oif !== undefined) {
    const dev = names.get(raw.oif);
    if (dev !== undefined) out.dev = dev;
    out.ifindex = raw.oif;
  }
  if (raw.prefsrc !== undefined) out.prefsrc = raw.prefsrc;
  if (raw.priority !== undefined) out.metric = raw.priority;
  if (raw.rtmTos) out.tos = raw.rtmTos;
  const flags = raw.rtmFlags & 0xff;
  out.flags = flags === 0 ? NO_FLAGS : flagNames(ROUTE_FLAGS, flags);
  if (raw.multipath !== undefined) out.nexthops = decodeMultipath(raw.multipath, names, routes);
  if (raw.metrics?.mtu !== undefined) out.mtu = raw.metrics.mtu;
  const metrics = metricsOut(raw.metrics);
  if (metrics !== undefined) out.metrics = metrics;
  if (raw.nhId !== undefined) out.nhid = raw.nhId;
  if (raw.pref !== undefined) out.pref = ROUTE_PREFS.name(raw.pref);
  // In clock ticks (USER_HZ, 100 a second on Linux), in whole seconds as ip shows them.
  const expires = raw.cacheinfo?.rtaExpires;
  if (expires) out.expires = Math.trunc(expires / 100);
  return out as unknown as Route;
}

/**
 * `value` as an integer from `min` to `max`: one out of that range is a RangeError naming `field`
 * and the range, anything else a TypeError.
 */
export function integer(value: unknown, field: string, max: number, min = 0): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw integerFieldError(
      value,
      `${field}: ${shown(value)} is not an integer from ${min} to ${max}`,
    );
  }
  return value;
}

/** The table as rtm_table and RTA_TABLE carry it. */
function tableNumber(table: TableName | number, field = "table"): number {
  return typeof table === "number"
    ? integer(table, field, 0xffff_ffff, 1)
    : TABLES.value(table, field);
}

/**
 * Runs the RTM_GETROUTE lookup `request` (the rt-route family's rtmsg fields and attributes, the
 * links as indexes) and returns the route the kernel answered. Internal: `Routes.get()`, and
 * the CLI's `route get`, which sends what `ip route get` sends.
 */
export async function lookupRoute(
  ctx: Context,
  request: Record<string, unknown>,
  label: string,
): Promise<Route> {
  // IPv4 takes a packet from iif without a source (0.0.0.0) for a martian, and says only
  // EINVAL; a few destinations (broadcast, local multicast) allow it, so it is not refused here.
  const needsFrom = request.iif !== undefined && request.src === undefined
    && request.rtmFamily === 2;
  const raw = await ctx.run(
    label,
    () => ctx.route.do("getroute", request as never),
    {
      // Not a missing capability (a lookup needs none): what the kernel says for a route of
      // type prohibit.
      EACCES: "a prohibit route matches it",
      ...needsFrom
        ? { EINVAL: "a lookup from iif needs `from`: the packet's source address" }
        : {},
    },
  );
  // Its name now, not as last listed: the link may have been renamed since.
  if (raw.oif !== undefined) await ctx.ifname(raw.oif);
  return ctx.mine(toRoute(raw, ctx.names, ctx.route));
}

/**
 * `ip route`: the routes of the client's namespace.
 *
 * @example
 * ```ts
 * import { openRoute } from "@netlink/netlink/route";
 * await using ip = await openRoute();
 * await ip.route.add({ dst: "10.1.0.0/16", gateway: "10.0.0.254", table: 100 });
 * console.log((await ip.route.list({ table: 100 })).map((r) => r.dst)); // [ "10.1.0.0/16" ]
 * ```
 */
export class Routes {
  readonly #ctx: Context;

  /** The client's; get one from `openRoute()`. */
  constructor(client: RouteClient) {
    this.#ctx = contextOf(client);
  }

  /**
   * The routes of a table (`ip route show [table T]`; default "main", "all" for every table),
   * IPv4 and IPv6 unless `family` says. Filtered by the kernel where it can (strict checking:
   * table, link, protocol, type) and here in any case; cloned (cache) routes are left out, as
   * `ip` leaves them out, or are all that is listed with `cached: true`. A table no route was
   * ever added to lists empty (where `ip -4 route show table 100` says the kernel's "FIB table
   * does not exist").
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * console.log(await ip.route.list({ table: "all", family: "inet" }));
   * ```
   */
  async list(filter: RouteFilter = {}): Promise<Route[]> {
    const ctx = this.#ctx;
    filter = checkOptions("route.list() filter", filter, FILTER_KEYS);
    const table = filter.table === undefined
      ? 254
      : filter.table === "all"
      ? 0
      : tableNumber(filter.table);
    const family = inetFamily(filter.family);
    const protocol = filter.protocol === undefined
      ? undefined
      : PROTOCOLS.value(filter.protocol, "protocol");
    const type = filter.type === undefined ? undefined : ROUTE_TYPES.value(filter.type, "type");
    const oif = filter.dev === undefined ? undefined : await ctx.ifindex(filter.dev); // values first
    if (filter.cached !== undefined && typeof filter.cached !== "boolean") {
      throw new TypeError(`cached: ${shown(filter.cached)} is not a boolean`);
    }
    const cloned = filter.cached ? RTM_F_CLONED : 0;
    // RTM_F_CLONED asks for the exceptions (IPv4 since Linux 5.3; IPv6 always dumps them).
    const request: Record<string, unknown> = { rtmFamily: family, rtmFlags: cloned };
    if (table) {
      request.rtmTable = table < 256 ? table : 0;
      request.table = table;
    }
    if (oif !== undefined) request.oif = oif;
    if (protocol !== undefined) request.rtmProtocol = protocol;
    if (type !== undefined) request.rtmType = type;
    await ctx.refreshNames();
    // A table the kernel never made (no route was ever added to it) is ENOENT "FIB table does
    // not exist" to a dump of one family, nothing to AF_UNSPEC's: empty, either way.
    const raws = await ctx.list("route list", () => ctx.route.dump("getroute", request as never))
      .catch((err) => {
        if (table && err instanceof NetlinkError && err.code === "ENOENT") return [];
        throw err;
      });
    const out: Route[] = [];
    const names = ctx.names;
    for (const raw of raws) {
      if (raw.rtmFamily !== 2 && raw.rtmFamily !== 10) continue;
      if (family && raw.rtmFamily !== family) continue;
      if (table && (raw.table ?? raw.rtmTable) !== table) continue;
      if ((raw.rtmFlags & RTM_F_CLONED) !== cloned) continue;
      if (oif !== undefined && raw.oif !== oif) continue;
      if (protocol !== undefined && raw.rtmProtocol !== protocol) continue;
      if (type !== undefined && ROUTE_TYPES.value(raw.rtmType, "type") !== type) continue;
      out.push(ctx.mine(toRoute(raw, names, ctx.route)));
    }
    return out;
  }

  /**
   * The route the kernel would use to reach an address (`ip route get`).
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * const r = await ip.route.get("192.0.2.1");
   * console.log(r.gateway, r.dev, r.prefsrc);
   * ```
   */
  async get(address: string, lookup: RouteLookup = {}): Promise<Route> {
    const ctx = this.#ctx;
    lookup = checkOptions("route.get() lookup", lookup, LOOKUP_KEYS);
    const dst = parseIP(address, "address");
    const request: Record<string, unknown> = {
      rtmFamily: dst.length === 4 ? 2 : 10,
      rtmDstLen: dst.length * 8,
      // Report the table the route was found in (IPv6 refuses the flag).
      rtmFlags: dst.length === 4 ? RTM_F_LOOKUP_TABLE : 0,
      dst,
    };
    if (lookup.from !== undefined) {
      const src = parseIP(lookup.from, "from");
      if (src.length !== dst.length) throw new TypeError("from: not of the address's family");
      request.src = src;
      request.rtmSrcLen = src.length * 8;
    }
    if (lookup.mark !== undefined) request.mark = integer(lookup.mark, "mark", 0xffff_ffff);
    if (lookup.iif !== undefined) request.iif = await ctx.ifindex(lookup.iif, "iif");
    if (lookup.oif !== undefined) request.oif = await ctx.ifindex(lookup.oif, "oif");
    return await lookupRoute(ctx, request, `route get ${address}`);
  }

  /**
   * Adds a route (`ip route add`); EEXIST when one with the same key is there.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.route.add({ dst: "10.1.0.0/16", gateway: "10.0.0.254", table: 100 });
   * await ip.route.add({ dst: "192.0.2.0/24", type: "blackhole" });
   * ```
   */
  async add(route: NewRoute): Promise<void> {
    const request = await this.#request(route, "add");
    await this.#ctx.run(
      `route add ${route.dst}`,
      () => this.#ctx.route.do("newroute", request as never, { flags: NLM_F_CREATE | NLM_F_EXCL }),
      { EEXIST: "the table has that route (same metric): route.replace() changes it" },
    );
  }

  /**
   * Adds a route or replaces the one with the same key (`ip route replace`).
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.route.replace({ dst: "default", gateway: "10.0.0.1" });
   * ```
   */
  async replace(route: NewRoute): Promise<void> {
    const request = await this.#request(route, "replace");
    await this.#ctx.run(
      `route replace ${route.dst}`,
      () =>
        this.#ctx.route.do("newroute", request as never, { flags: NLM_F_CREATE | NLM_F_REPLACE }),
    );
  }

  /**
   * Deletes a route (`ip route del`): the first that matches what is given (dst and table at
   * least; gateway, dev, metric narrow it). ESRCH when none does. Takes a {@linkcode Route} as
   * `list()` gives it too, and deletes that one: what `ip route del` would send with its fields
   * (table, dst, src, tos, type, protocol, scope, metric, prefsrc, gateway or nexthops, its link
   * by index: its name may be stale; with `nhid`, not the paths the kernel lists with it, which
   * it refuses beside one). Its flags select nothing (`linkdown`, `offload`: the kernel's).
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.route.delete({ dst: "10.1.0.0/16", table: 100 });
   * for (const r of await ip.route.list({ protocol: "dhcp" })) await ip.route.delete(r);
   * ```
   */
  async delete(route: NewRoute | Route): Promise<void> {
    const request = await this.#request(route as RouteToDelete, "delete");
    // Its links as listed, when another client listed it (see listedIndex); the paths select
    // nothing beside a nexthop object (#request leaves them out).
    const listed = route as RouteToDelete;
    if (listed.ifindex !== undefined && listed.nhid === undefined) {
      await this.#ctx.listedIndex(route, listed.ifindex, listed.dev);
    }
    for (const hop of listed.nhid === undefined ? listed.nexthops ?? [] : []) {
      if (hop.ifindex !== undefined) await this.#ctx.listedIndex(route, hop.ifindex, hop.dev);
    }
    await this.#ctx.run(
      `route delete ${route.dst}`,
      () => this.#ctx.route.do("delroute", request as never),
      // The kernel's word for it (ip prints it as it is) says nothing of routes.
      { ESRCH: "no such route: in table main unless a table is given" },
    );
  }

  async #request(
    route: RouteToDelete,
    verb: "add" | "replace" | "delete",
  ): Promise<Record<string, unknown>> {
    const ctx = this.#ctx;
    if (typeof route !== "object" || route === null) {
      throw new TypeError("route: expected an object");
    }
    const deleting = verb === "delete";
    checkOptions(
      `route.${verb}() spec`,
      route,
      deleting ? [...ROUTE_KEYS, ...LISTED_KEYS] : ROUTE_KEYS,
    );
    if (route.nhid !== undefined && deleting) {
      // The paths the kernel lists with a route using a nexthop object (nexthop_compat_mode)
      // select nothing: the id does, and the kernel refuses them beside it.
      route = {
        ...route,
        gateway: undefined,
        dev: undefined,
        ifindex: undefined,
        nexthops: undefined,
      };
    }
    if (route.nexthops !== undefined) {
      if (!Array.isArray(route.nexthops) || route.nexthops.length === 0) {
        throw new TypeError("nexthops: expected a non-empty array of { gateway, dev, weight }");
      }
      // entries(), not forEach(): a hole is an undefined hop, refused, not skipped.
      for (const [i, hop] of route.nexthops.entries()) {
        if (hop === undefined) {
          throw new TypeError(`route.${verb}() nexthops[${i}] must be an object, got undefined`);
        }
        checkOptions(
          `route.${verb}() nexthops[${i}]`,
          hop,
          deleting ? [...NEXTHOP_KEYS, "ifindex"] : NEXTHOP_KEYS,
        );
      }
    }
    if (route.onlink !== undefined && typeof route.onlink !== "boolean") {
      throw new TypeError(`onlink: ${shown(route.onlink)} is not a boolean`);
    }
    const gateway = route.gateway === undefined ? undefined : parseIP(route.gateway, "gateway");
    let family: number;
    let dst: Uint8Array | undefined;
    let dstLen = 0;
    if (route.dst === "default") {
      family = route.family !== undefined
        ? FAMILIES.value(route.family, "family")
        : gateway?.length === 16 || ipFamily(route.nexthops?.[0]?.gateway ?? "") === 10
        ? 10
        : 2;
    } else {
      const prefix = parsePrefix(route.dst, "dst");
      if (hostBits(prefix.address, prefix.prefixLength)) {
        throw new TypeError(`dst: ${route.dst} has host bits set beyond /${prefix.prefixLength}`);
      }
      family = prefix.family;
      if (route.family !== undefined && FAMILIES.value(route.family, "family") !== family) {
        throw new TypeError(`family: ${route.family}, but dst ${route.dst} is not of it`);
      }
      dst = prefix.address;
      dstLen = prefix.prefixLength;
    }
    const bytes = family === 10 ? 16 : 4;
    // An IPv4 route may have an IPv6 gateway (RTA_VIA); IPv6 takes no RTA_VIA.
    if (gateway !== undefined && family === 10 && gateway.length !== 16) {
      throw new TypeError(`gateway: ${route.gateway} is not of the destination's family`);
    }
    const type = route.type === undefined
      ? (deleting ? 0 : 1)
      : ROUTE_TYPES.known(route.type, "type"); // EINVAL past RTN_MAX: every type has a name
    // As ip (iproute_modify): local, broadcast, anycast and nat routes go to table local.
    const table = route.table === undefined
      ? (type === 2 || type === 3 || type === 4 || type === 10 ? 255 : 254)
      : tableNumber(route.table);
    const request: Record<string, unknown> = {
      rtmFamily: family,
      rtmDstLen: dstLen,
      rtmTable: table < 256 ? table : 0,
      rtmProtocol: route.protocol === undefined
        ? (deleting ? 0 : 3)
        : PROTOCOLS.value(route.protocol, "protocol"),
      rtmType: type,
      rtmFlags: route.onlink ? 4 : 0,
    };
    if (table >= 256) request.table = table;
    if (dst !== undefined) request.dst = dst;
    if (gateway !== undefined) Object.assign(request, gatewayAttribute(gateway, family));
    if (route.metric !== undefined) request.priority = integer(route.metric, "metric", 0xffff_ffff);
    if (route.tos !== undefined) request.rtmTos = integer(route.tos, "tos", 255);
    if (route.prefsrc !== undefined) {
      const prefsrc = parseIP(route.prefsrc, "prefsrc");
      if (prefsrc.length !== bytes) throw new TypeError("prefsrc: not of the destination's family");
      request.prefsrc = prefsrc;
    }
    if (route.src !== undefined) {
      // IPv4's FIB has no source routing: it drops RTA_SRC unsaid, and ip's `from` with it.
      if (family === 2) {
        throw new TypeError(
          `src: ${shown(route.src)}: an IPv4 route has no source prefix (the kernel ignores it); `
            + "the source address to prefer is prefsrc (ip route add ... src ADDRESS)",
        );
      }
      const src = parsePrefix(route.src, "src");
      if (src.family !== family) throw new TypeError("src: not of the destination's family");
      request.src = src.address;
      request.rtmSrcLen = src.prefixLength;
    }
    if (route.metrics !== undefined) {
      checkOptions(`route.${verb}() metrics`, route.metrics, ROUTE_METRICS_KEYS);
      // A listed route has both, alike.
      const { mtu } = route.metrics;
      if (route.mtu !== undefined && mtu !== undefined && route.mtu !== mtu) {
        throw new TypeError(`mtu: ${shown(route.mtu)}, but metrics.mtu ${shown(mtu)}: give one`);
      }
    }
    const metrics = route.metrics === undefined ? {} : metricsIn(route.metrics);
    if (route.mtu !== undefined) metrics.mtu = integer(route.mtu, "mtu", 0xffff_ffff);
    if (Object.keys(metrics).length) request.metrics = metrics;
    // The kernel takes another as "medium", unsaid; ip refuses it.
    if (route.pref !== undefined) request.pref = ROUTE_PREFS.known(route.pref, "pref");
    if (route.expires !== undefined && !deleting) {
      if (family !== 10) throw new TypeError("expires: only IPv6 routes expire");
      request.expires = integer(route.expires, "expires", 0x7fff_ffff);
    }
    if (route.nhid !== undefined) {
      if (gateway !== undefined || route.dev !== undefined || route.nexthops !== undefined) {
        throw new TypeError("nhid: a route using a nexthop object has no gateway, dev or nexthops");
      }
      request.nhId = integer(route.nhid, "nhid", 0xffff_ffff, 1);
    }
    const scope = route.scope === undefined ? undefined : SCOPES.value(route.scope, "scope");
    const multipath = route.nexthops === undefined
      ? undefined
      : this.#multipath(route.nexthops, family);
    // The links last, once every value is checked: looking one up is a request. A listed
    // route's by index: its name may be stale.
    if (route.ifindex !== undefined) request.oif = await ctx.ifindex(route.ifindex, "ifindex");
    else if (route.dev !== undefined) request.oif = await ctx.ifindex(route.dev);
    if (multipath !== undefined) request.multipath = await multipath();
    // The scope `ip route` picks (iproute_modify): host for local and nat, link for broadcast,
    // multicast, anycast and for a unicast route with no gateway, nexthops or nhid; global otherwise. Deleting
    // matches any scope (nowhere). IPv6 routes are always global.
    let rtmScope: number;
    if (scope !== undefined) rtmScope = scope;
    else if (family === 10) rtmScope = 0;
    else if (type === 2 || type === 10) rtmScope = 254;
    else if (type === 3 || type === 4 || type === 5) rtmScope = 253;
    else if (type <= 1) {
      const via = gateway !== undefined || route.nexthops !== undefined || route.nhid !== undefined;
      rtmScope = deleting ? 255 : via ? 0 : 253;
    } else rtmScope = 0;
    request.rtmScope = rtmScope;
    return request;
  }

  /**
   * Checks every hop's values, then returns what builds RTA_MULTIPATH: it looks the hops'
   * links up (requests), so it runs once the route's other values are checked too.
   */
  #multipath(
    hops: (NextHop & { ifindex?: number })[],
    family: number,
  ): () => Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    const devs: (() => Promise<void>)[] = [];
    for (const [i, hop] of hops.entries()) {
      const field = `nexthops[${i}]`;
      const attrs: Record<string, unknown> = {};
      if (hop.gateway !== undefined) {
        const gateway = parseIP(hop.gateway, `${field}.gateway`);
        if (family === 10 && gateway.length !== 16) {
          throw new TypeError(`${field}.gateway: not of the destination's family`);
        }
        Object.assign(attrs, gatewayAttribute(gateway, family));
      }
      // The attributes as the rt-route codec encodes a route's, without the rtmsg before them.
      const body = this.#ctx.route.encode("newroute", attrs).payload!.subarray(RTMSG_SIZE);
      const part = new Uint8Array(8 + body.length);
      const view = new DataView(part.buffer);
      view.setUint16(0, part.length, true);
      part[2] = hop.flags === undefined ? 0 : flagValue(ROUTE_FLAGS, hop.flags, `${field}.flags`);
      part[3] = integer(hop.weight ?? 1, `${field}.weight`, 256, 1) - 1;
      part.set(body, 8);
      parts.push(part);
      // A listed hop's link by index, as a route's.
      const dev = hop.ifindex ?? hop.dev;
      if (dev !== undefined) {
        const name = `${field}.${hop.ifindex === undefined ? "dev" : "ifindex"}`;
        checkLinkRef(dev, name);
        devs.push(async () => {
          view.setInt32(4, await this.#ctx.ifindex(dev, name), true);
        });
      }
    }
    return async () => {
      for (const resolve of devs) await resolve();
      return concat(...parts);
    };
  }
}
