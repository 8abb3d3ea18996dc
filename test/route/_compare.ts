// What `ip -j` prints, in the everyday API's shapes: each helper maps one ip object to the
// fields the API promises, so a test compares whole lists with deepEqual.

import { execFileSync } from "node:child_process";
import type { Address, Link, Neighbour, Route, Rule } from "../../src/route/mod.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** The fields of a Link that `ip -d -j link show` also shows, as ip shows them. */
export function linkFromIp(l: Json, index: Map<string, number>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    index: l.ifindex,
    name: l.ifname,
    flags: l.flags,
    up: l.flags.includes("UP"),
    operstate: String(l.operstate).toLowerCase(),
    mtu: l.mtu,
    txqlen: l.txqlen,
    address: l.address,
    broadcast: l.broadcast,
  };
  if (l.ifalias !== undefined) out.alias = l.ifalias;
  if (l.altnames !== undefined) out.altnames = l.altnames;
  if (l.master !== undefined) out.master = index.get(l.master);
  if (l.link !== undefined) out.link = index.get(l.link);
  if (l.linkinfo?.info_kind !== undefined) out.kind = l.linkinfo.info_kind;
  if (l.linkinfo?.info_slave_kind !== undefined) out.portKind = l.linkinfo.info_slave_kind;
  out.qdisc = l.qdisc;
  out.group = l.group === "default" ? l.group : Number(l.group);
  for (const [ours, theirs] of IP_COUNTS) {
    if (l[theirs] !== undefined) out[ours] = l[theirs];
  }
  // ip prints permaddr only when it differs from address.
  if (l.permaddr !== undefined) out.permAddress = l.permaddr;
  if (l.parentbus !== undefined) out.parentBus = l.parentbus;
  if (l.parentdev !== undefined) out.parentDev = l.parentdev;
  // With -s -s, among the tx counters.
  if (l.stats64 !== undefined) out.carrierChanges = l.stats64.tx.carrier_changes;
  out.protoDown = l.proto_down ?? false;
  // ip reads the reason bits as a u8 (names from /etc/iproute2/protodown_reasons.d: none here).
  if (l.proto_down_reason !== undefined) out.protoDownReason = l.proto_down_reason.map(Number);
  out.linkmode = String(l.linkmode).toLowerCase();
  out.linkType = /^\[\d+\]$/.test(l.link_type) ? Number(l.link_type.slice(1, -1)) : l.link_type;
  if (l.inet6_addr_gen_mode !== undefined) out.addrGenMode = l.inet6_addr_gen_mode;
  return out;
}

// Our counts and the names `ip -d -j` prints them under (iproute2 6.1 prints no IPv4 GSO/GRO
// sizes: list_test checks those against the sizes ip set).
const IP_COUNTS = [
  ["promiscuity", "promiscuity"],
  ["allmulti", "allmulti"],
  ["minMtu", "min_mtu"],
  ["maxMtu", "max_mtu"],
  ["numTxQueues", "num_tx_queues"],
  ["numRxQueues", "num_rx_queues"],
  ["gsoMaxSize", "gso_max_size"],
  ["gsoMaxSegs", "gso_max_segs"],
  ["groMaxSize", "gro_max_size"],
  ["tsoMaxSize", "tso_max_size"],
  ["tsoMaxSegs", "tso_max_segs"],
  ["gsoIpv4MaxSize", "gso_ipv4_max_size"],
  ["groIpv4MaxSize", "gro_ipv4_max_size"],
] as const;

/** The same fields of our Link. */
export function linkFields(l: Link): Record<string, unknown> {
  const out: Record<string, unknown> = {
    index: l.index,
    name: l.name,
    flags: l.flags,
    up: l.up,
    operstate: l.operstate,
    mtu: l.mtu,
    txqlen: l.txqlen,
    address: l.address,
    broadcast: l.broadcast,
  };
  if (l.alias !== undefined) out.alias = l.alias;
  if (l.altnames !== undefined) out.altnames = l.altnames;
  if (l.master !== undefined) out.master = l.master;
  if (l.link !== undefined) out.link = l.link;
  if (l.kind !== undefined) out.kind = l.kind;
  if (l.portKind !== undefined) out.portKind = l.portKind;
  out.qdisc = l.qdisc;
  out.group = l.group;
  for (const [ours, theirs] of IP_COUNTS) {
    if (IP_PRINTS_IPV4_SIZES || !theirs.includes("ipv4")) out[ours] = l[ours];
  }
  if (l.permAddress !== undefined && l.permAddress !== l.address) out.permAddress = l.permAddress;
  if (l.parentBus !== undefined) out.parentBus = l.parentBus;
  if (l.parentDev !== undefined) out.parentDev = l.parentDev;
  out.carrierChanges = l.carrierChanges;
  out.protoDown = l.protoDown;
  if (l.protoDownReason !== undefined) out.protoDownReason = l.protoDownReason;
  out.linkmode = l.linkmode;
  out.linkType = l.linkType;
  if (l.addrGenMode !== undefined) out.addrGenMode = l.addrGenMode;
  return out;
}

/** Our Address in `ip -j address show`'s addr_info shape (plus the link's name). */
export function addressAsIp(a: Address): Record<string, unknown> {
  const out: Record<string, unknown> = { dev: a.dev, family: a.family, local: a.address };
  if (a.peer !== undefined) out.address = a.peer;
  out.prefixlen = a.prefixLength;
  if (a.broadcast !== undefined) out.broadcast = a.broadcast;
  out.scope = a.scope;
  if (!a.flags.includes("permanent")) out.dynamic = true;
  for (
    const flag of [
      "secondary",
      "temporary",
      "tentative",
      "deprecated",
      "nodad",
      "noprefixroute",
      "optimistic",
      "dadfailed",
    ]
  ) {
    if (a.flags.includes(flag)) out[flag] = true;
  }
  if (a.label !== undefined) out.label = a.label;
  out.valid_life_time = a.validLifetime === Infinity ? 4294967295 : a.validLifetime;
  out.preferred_life_time = a.preferredLifetime === Infinity ? 4294967295 : a.preferredLifetime;
  return out;
}

/** ip's addr_info entries, with the link's name, flattened. */
export function addressesFromIp(links: Json[]): Record<string, unknown>[] {
  return links.flatMap((l: Json) =>
    l.addr_info.map((a: Json) => {
      const { dev: _, ...rest } = a;
      return { dev: l.ifname, ...rest };
    })
  );
}

/** Our Route in `ip -j route show`'s shape (what ip prints by default). */
export function routeAsIp(r: Route, withTable: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (r.type !== "unicast") out.type = r.type;
  out.dst = r.dst;
  if (r.gateway !== undefined) out.gateway = r.gateway;
  if (r.dev !== undefined) out.dev = r.dev;
  if (withTable && r.table !== "main") out.table = String(r.table);
  if (r.protocol !== "boot") out.protocol = r.protocol;
  if (r.scope !== "global") out.scope = r.scope;
  if (r.prefsrc !== undefined) out.prefsrc = r.prefsrc;
  if (r.metric !== undefined) out.metric = r.metric;
  out.flags = r.flags;
  if (r.nexthops !== undefined) {
    out.nexthops = r.nexthops.map((h) => ({
      gateway: h.gateway,
      dev: h.dev,
      weight: h.weight,
      flags: h.flags,
    }));
  }
  return out;
}

/** ip's route objects without the fields the API does not carry (pref, cache info). */
export function routeFromIp(r: Json): Record<string, unknown> {
  const { pref: _pref, expires: _e, ...rest } = r;
  return rest;
}

/** Our Neighbour in `ip -j neigh show nud all`'s shape. */
export function neighbourAsIp(n: Neighbour): Record<string, unknown> {
  const out: Record<string, unknown> = { dst: n.address, dev: n.dev };
  if (n.lladdr !== undefined) out.lladdr = n.lladdr;
  if (n.flags.includes("router")) out.router = null;
  out.state = [String(n.state).toUpperCase()];
  return out;
}

/** Our Rule in `ip -j rule show`'s shape. */
export function ruleAsIp(r: Rule): Record<string, unknown> {
  const out: Record<string, unknown> = { priority: r.priority };
  if (r.invert) out.not = null;
  const [src, srclen] = r.from.split("/");
  out.src = src;
  if (srclen !== undefined) out.srclen = Number(srclen);
  if (r.to !== "all") {
    const [dst, dstlen] = r.to.split("/");
    out.dst = dst;
    if (dstlen !== undefined) out.dstlen = Number(dstlen);
  }
  if (r.tos !== undefined) out.tos = `0x${r.tos.toString(16).padStart(2, "0")}`;
  if (r.fwmark !== undefined) out.fwmark = `0x${r.fwmark.toString(16)}`;
  if (r.fwmask !== undefined && r.fwmask !== 0xffffffff) out.fwmask = `0x${r.fwmask.toString(16)}`;
  if (r.iif !== undefined) out.iif = r.iif;
  if (r.oif !== undefined) out.oif = r.oif;
  if (r.action === "lookup") out.table = String(r.table);
  else if (r.action === "goto") out.goto = r.goto;
  else if (r.action === "nop") out.nop = null;
  else out.action = r.action;
  return out;
}

/** Whether this host's ip prints the IPv4 GSO/GRO sizes (iproute2 6.3 on). */
export const IP_PRINTS_IPV4_SIZES = "gso_ipv4_max_size"
  in JSON.parse(execFileSync("ip", ["-d", "-j", "link", "show", "lo"], { encoding: "utf8" }))[0];
