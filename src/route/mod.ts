/**
 * Everyday networking, as `ip`, `bridge fdb` and `bridge vlan` do it: links, addresses, routes,
 * neighbours, FDB entries, bridge VLANs, rules and nexthop objects listed,
 * read, added, changed and deleted, and their changes monitored, over one NETLINK_ROUTE socket.
 * Values are as people write them: addresses and prefixes as text, MACs as "aa:bb:cc:dd:ee:ff",
 * enums and flags by name (the numbers stay reachable under `raw`). Built on the generated rt-*
 * codecs of `@netlink/netlink/ynl`.
 *
 * Needs root (CAP_NET_ADMIN for changes, CAP_SYS_ADMIN for `netns`) and, on Deno, `--allow-ffi`.
 *
 * @example
 * ```ts
 * import { openRoute } from "@netlink/netlink/route";
 *
 * await using ip = await openRoute();
 * await ip.link.add({ name: "veth0", kind: "veth", peer: { name: "veth1" } });
 * await ip.link.set("veth0", { up: true, mtu: 1400 });
 * await ip.addr.add("veth0", "10.0.0.1/24");
 * await ip.route.add({ dst: "10.1.0.0/16", gateway: "10.0.0.2", table: 100 });
 * console.log(await ip.route.get("10.0.0.7"));
 * ```
 *
 * @module
 */

export type { LinkRef } from "./_context.ts";
export * from "./address.ts";
export {
  type Address,
  Addresses,
  type AddressFilter,
  type AddressOptions,
  type RawAddress,
  type Scope,
} from "./address.ts";
export {
  type BridgeVlan,
  type BridgeVlanFilter,
  BridgeVlans,
  type NewBridgeVlan,
} from "./bridge_vlan.ts";
export * from "./client.ts";
export {
  FdbEntries,
  type FdbEntry,
  type FdbFilter,
  type FdbState,
  type NewFdbEntry,
  type RawFdbEntry,
} from "./fdb.ts";
export {
  type AddrGenMode,
  type DecodedLinkKind,
  type DecodedPortKind,
  type Link,
  type LinkData,
  type LinkFields,
  type LinkFilter,
  type LinkMode,
  type LinkOfKind,
  type LinkOptionShapes,
  type LinkPortData,
  Links,
  type LinkSettings,
  type LinkStats,
  type MacvlanMode,
  type NetnsRef,
  type NewLink,
  type NewLinkData,
  type NewLinkPortData,
  type Numbered,
  type Operstate,
  type OptionShape,
  type RawLink,
  type ShapeField,
  type ShownOptions,
} from "./link.ts";
export type { MonitorObject, MonitorOptions, RouteEvent, WaitOptions } from "./monitor.ts";
export {
  type Neighbour,
  type NeighbourFilter,
  Neighbours,
  type NeighbourState,
  type NewNeighbour,
  type RawNeighbour,
} from "./neighbour.ts";
export { createNetns, deleteNetns, listNetns } from "./netns.ts";
export {
  type NewNexthopObject,
  type NexthopGroupMember,
  type NexthopObject,
  type NexthopObjectFilter,
  NexthopObjects,
} from "./nexthop.ts";
export {
  type NewRoute,
  type NextHop,
  type RawRoute,
  type Route,
  type RouteFilter,
  type RouteLookup,
  type RoutePref,
  type RouteProtocol,
  Routes,
  type RouteType,
  type TableName,
} from "./route.ts";
export { type MetricName, type RouteMetrics } from "./route_metrics.ts";
export { type NewRule, type RawRule, type Rule, type RuleAction, Rules } from "./rule.ts";
export * from "./tc.ts";
