// `link`, `addr` and `route`: the route client, printed as `ip` prints (`--json`: `ip -j`'s names).

import {
  ARPHRD_CAN,
  ARPHRD_ETHER,
  ARPHRD_IEEE80211,
  ARPHRD_INFINIBAND,
  ARPHRD_IP6GRE,
  ARPHRD_IPGRE,
  ARPHRD_LOOPBACK,
  ARPHRD_NONE,
  ARPHRD_PPP,
  ARPHRD_SIT,
  ARPHRD_TUNNEL,
  ARPHRD_TUNNEL6,
  ARPHRD_VOID,
} from "../constants.ts";
import type { Address } from "../route/address.ts";
import { openRoute, type RouteClient } from "../route/client.ts";
import type { Link } from "../route/link.ts";
import type { NewRoute, Route } from "../route/route.ts";
import { type Global, json, keywords, type Output, UsageError, verb } from "./_args.ts";

async function withRoute<T>(global: Global, body: (ip: RouteClient) => Promise<T>): Promise<T> {
  await using ip = await openRoute(global.netns === undefined ? {} : { netns: global.netns });
  return await body(ip);
}

// ---- link / addr ------------------------------------------------------------------------------

/** ARPHRD_* names as iproute2 prints a link type (lib/ll_types.c), for the common types. */
const LINK_TYPES = new Map<number, string>([
  [ARPHRD_ETHER, "ether"],
  [ARPHRD_LOOPBACK, "loopback"],
  [ARPHRD_NONE, "none"],
  [ARPHRD_VOID, "void"],
  [ARPHRD_TUNNEL, "ipip"],
  [ARPHRD_TUNNEL6, "tunnel6"],
  [ARPHRD_SIT, "sit"],
  [ARPHRD_IPGRE, "gre"],
  [ARPHRD_IP6GRE, "gre6"],
  [ARPHRD_PPP, "ppp"],
  [ARPHRD_INFINIBAND, "infiniband"],
  [ARPHRD_IEEE80211, "ieee802.11"],
  [ARPHRD_CAN, "can"],
]);

/**
 * A link with `ip -j link show`'s names and order (`linkmode` only where `ip link` shows it, not
 * under `ip addr`).
 */
function linkJson(
  link: Link,
  names: Map<number, string>,
  linkmode = true,
): Record<string, unknown> {
  const raw = link.raw;
  const out: Record<string, unknown> = { ifindex: link.index };
  if (link.link !== undefined && link.link !== link.index) {
    if (link.linkNetnsid !== undefined) out.link_index = link.link;
    else out.link = names.get(link.link) ?? null;
  }
  out.ifname = link.name;
  out.flags = link.flags;
  out.mtu = link.mtu;
  if (raw.qdisc !== undefined) out.qdisc = raw.qdisc;
  if (link.master !== undefined) out.master = names.get(link.master) ?? link.master;
  out.operstate = typeof link.operstate === "string"
    ? link.operstate.toUpperCase()
    : link.operstate;
  if (linkmode && raw.linkmode !== undefined) {
    out.linkmode = raw.linkmode === 1 ? "DORMANT" : "DEFAULT";
  }
  if (raw.group !== undefined) out.group = raw.group === 0 ? "default" : String(raw.group);
  if (link.txqlen !== undefined) out.txqlen = link.txqlen;
  out.link_type = LINK_TYPES.get(raw.ifiType) ?? `[${raw.ifiType}]`;
  if (link.address !== undefined) out.address = link.address;
  if (link.broadcast !== undefined) out.broadcast = link.broadcast;
  if (link.linkNetnsid !== undefined) out.link_netnsid = link.linkNetnsid;
  return out;
}

function linkText(link: Record<string, unknown>): string {
  const flags = (link.flags as string[]).join(",");
  let line = `${link.ifindex}: ${link.ifname}: <${flags}> mtu ${link.mtu}`;
  if (link.master !== undefined) line += ` master ${link.master}`;
  line += ` state ${link.operstate}`;
  if (link.txqlen !== undefined) line += ` qlen ${link.txqlen}`;
  if (link.address !== undefined) line += `\n    link ${link.address} brd ${link.broadcast ?? ""}`;
  return line;
}

/** `link show [DEV]`. */
export async function linkCommand(args: string[], global: Global, out: Output): Promise<void> {
  const [, rest] = verb(args, ["show"]);
  const [kw, positional] = keywords(rest, ["dev"]);
  const dev = kw.dev ?? positional.shift();
  if (positional.length) throw new UsageError(`unexpected "${positional[0]}"`);
  const [all, links] = await withRoute(global, async (ip) => {
    const all = await ip.link.list();
    return [all, dev === undefined ? all : [await ip.link.get(dev)]] as const;
  });
  const names = new Map(all.map((l) => [l.index, l.name]));
  const shown = links.map((l) => linkJson(l, names));
  if (global.json) json(out, shown);
  else for (const link of shown) out(linkText(link));
}

const FOREVER = 4294967295;

function addressJson(a: Address): Record<string, unknown> {
  const out: Record<string, unknown> = {
    family: a.family,
    local: a.address,
    prefixlen: a.prefixLength,
  };
  if (a.peer !== undefined) out.address = a.peer;
  if (a.broadcast !== undefined) out.broadcast = a.broadcast;
  out.scope = a.scope;
  for (const flag of a.flags) if (flag !== "permanent") out[flag] = true;
  if (!a.flags.includes("permanent")) out.dynamic = true;
  if (a.label !== undefined) out.label = a.label;
  out.valid_life_time = Number.isFinite(a.validLifetime) ? a.validLifetime : FOREVER;
  out.preferred_life_time = Number.isFinite(a.preferredLifetime) ? a.preferredLifetime : FOREVER;
  return out;
}

/** `addr show [DEV]`. */
export async function addrCommand(args: string[], global: Global, out: Output): Promise<void> {
  const [, rest] = verb(args, ["show"]);
  const [kw, positional] = keywords(rest, ["dev"]);
  const dev = kw.dev ?? positional.shift();
  if (positional.length) throw new UsageError(`unexpected "${positional[0]}"`);
  const [all, links, addresses] = await withRoute(global, async (ip) => {
    const all = await ip.link.list();
    const links = dev === undefined ? all : [await ip.link.get(dev)];
    return [all, links, await ip.addr.list(dev === undefined ? {} : { dev })] as const;
  });
  const names = new Map(all.map((l) => [l.index, l.name]));
  const shown = links.map((link) => ({
    ...linkJson(link, names, false),
    addr_info: addresses.filter((a) => a.index === link.index).map(addressJson),
  }));
  if (global.json) return json(out, shown);
  for (const link of shown) {
    out(linkText(link));
    for (const a of link.addr_info) {
      const life = (t: unknown) => t === FOREVER ? "forever" : `${t}sec`;
      out(
        `    ${a.family} ${a.local}/${a.prefixlen}`
          + (a.broadcast ? ` brd ${a.broadcast}` : "")
          + ` scope ${a.scope}` + (a.label ? ` ${a.label}` : ""),
      );
      out(
        `       valid_lft ${life(a.valid_life_time)} preferred_lft ${life(a.preferred_life_time)}`,
      );
    }
  }
}

// ---- route ------------------------------------------------------------------------------------

/** A route with `ip -j route show`'s names (type and table only when not unicast / main). */
function routeJson(r: Route): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (r.type !== "unicast") out.type = r.type;
  out.dst = r.dst;
  if (r.gateway !== undefined) out.gateway = r.gateway;
  if (r.dev !== undefined) out.dev = r.dev;
  if (r.table !== "main") out.table = r.table;
  out.protocol = r.protocol;
  if (r.scope !== "global") out.scope = r.scope;
  if (r.prefsrc !== undefined) out.prefsrc = r.prefsrc;
  if (r.metric !== undefined) out.metric = r.metric;
  out.flags = r.flags;
  if (r.nexthops) {
    out.nexthops = r.nexthops.map((nh) => ({ ...nh }));
  }
  return out;
}

function routeText(r: Record<string, unknown>): string {
  const parts: string[] = [];
  if (r.type !== undefined) parts.push(String(r.type));
  parts.push(String(r.dst));
  if (r.gateway !== undefined) parts.push("via", String(r.gateway));
  if (r.dev !== undefined) parts.push("dev", String(r.dev));
  if (r.table !== undefined) parts.push("table", String(r.table));
  if (r.protocol !== "boot") parts.push("proto", String(r.protocol));
  if (r.scope !== undefined) parts.push("scope", String(r.scope));
  if (r.prefsrc !== undefined) parts.push("src", String(r.prefsrc));
  if (r.metric !== undefined) parts.push("metric", String(r.metric));
  parts.push(...(r.flags as string[]));
  return parts.join(" ");
}

const ROUTE_KEYS = [
  "via",
  "dev",
  "table",
  "metric",
  "type",
  "proto",
  "src",
  "from",
  "mark",
  "oif",
  "iif",
];

function tableOf(text: string | undefined): NewRoute["table"] | undefined {
  if (text === undefined) return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  return text as NewRoute["table"];
}

/** `route show|get|add|del|replace`. */
export async function routeCommand(args: string[], global: Global, out: Output): Promise<void> {
  const [action, rest] = verb(args, ["show", "get", "add", "del", "delete", "replace"]);
  const [kw, positional] = keywords(rest, ROUTE_KEYS);
  if (action === "show") {
    const table = kw.table === "all" ? "all" : tableOf(kw.table);
    const routes = await withRoute(
      global,
      (ip) =>
        ip.route.list({
          ...(table === undefined ? {} : { table }),
          ...(kw.dev ? { dev: kw.dev } : {}),
        }),
    );
    const shown = routes.map(routeJson);
    if (global.json) json(out, shown);
    else for (const r of shown) out(routeText(r));
    return;
  }
  const [target, ...extra] = positional;
  if (target === undefined) throw new UsageError(`route ${action} needs an address or prefix`);
  if (extra.length) throw new UsageError(`unexpected "${extra[0]}"`);
  if (action === "get") {
    const route = await withRoute(global, (ip) =>
      ip.route.get(target, {
        ...(kw.from ? { from: kw.from } : {}),
        ...(kw.oif ? { oif: kw.oif } : {}),
        ...(kw.iif ? { iif: kw.iif } : {}),
        ...(kw.mark ? { mark: Number(kw.mark) } : {}),
      }));
    const shown = routeJson(route);
    if (global.json) json(out, [shown]);
    else out(routeText(shown));
    return;
  }
  const spec: NewRoute = {
    dst: target,
    ...(kw.via ? { gateway: kw.via } : {}),
    ...(kw.dev ? { dev: kw.dev } : {}),
    ...(kw.table ? { table: tableOf(kw.table) } : {}),
    ...(kw.metric ? { metric: Number(kw.metric) } : {}),
    ...(kw.type ? { type: kw.type as NewRoute["type"] } : {}),
    ...(kw.proto ? { protocol: kw.proto as NewRoute["protocol"] } : {}),
    ...(kw.src ? { prefsrc: kw.src } : {}),
  } as NewRoute;
  await withRoute(global, (ip) =>
    action === "add"
      ? ip.route.add(spec)
      : action === "replace"
      ? ip.route.replace(spec)
      : ip.route.delete(spec));
}
