// `monitor`: changes to links, addresses, routes, neighbours and rules as they happen, one line
// each (`ip monitor`'s style, "Deleted " before what went; `--json`: one object per line). With
// `--raw` (or `--tree`), every message the socket receives instead, decoded by format(); `monitor
// genl FAMILY [GROUP...]` does the same for a generic netlink family's multicast groups, and
// follows the family across its module's reloads.

import {
  GENL_ID_CTRL,
  NETLINK_GENERIC,
  NETLINK_ROUTE,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_IPV4_ROUTE,
  RTNLGRP_IPV4_RULE,
  RTNLGRP_IPV6_IFADDR,
  RTNLGRP_IPV6_ROUTE,
  RTNLGRP_IPV6_RULE,
  RTNLGRP_LINK,
  RTNLGRP_NEIGH,
} from "../_constants.ts";
import { shown } from "../_options.ts";
import { NetlinkError } from "../errors.ts";
import type { FormatOptions, NetlinkFormatter } from "../format.ts";
import { type GenericFamily, resolveFamily } from "../genl.ts";
import type { ReceivedMessage } from "../message.ts";
import { open } from "../open.ts";
import { ROUTE_RECEIVE_BUFFER } from "../route/_context.ts";
import { openRoute } from "../route/client.ts";
import type { MonitorObject } from "../route/monitor.ts";

import type { NetlinkSocket } from "../socket.ts";
import { announce, NLCTRL_NOTIFY_GROUP, watchFamily } from "../ynl/_monitor_groups.ts";
import {
  type Global,
  json,
  keywords,
  type Output,
  socketOptions,
  unsigned,
  UsageError,
} from "./_args.ts";
import {
  addressJson,
  addressText,
  linkJson,
  linkText,
  neighbourJson,
  neighbourText,
  netnsNames,
  routeJson,
  routeText,
  ruleJson,
  ruleText,
} from "./_ip.ts";

// FDB entries (the route monitor's "fdb") are left out: the command line prints no FDB entries
// (`bridge fdb` / `bridge monitor fdb` output), and `monitor neigh` stays IPv4 and IPv6. A
// bridge's messages on its ports ("port") are printed among the links, as ip monitor prints them.
type Watched = Exclude<MonitorObject, "fdb" | "port">;

const OBJECTS: Record<string, Watched> = {
  link: "link",
  addr: "address",
  address: "address",
  route: "route",
  neigh: "neighbour",
  neighbour: "neighbour",
  rule: "rule",
};

/** What ip monitor all (or label) prints before an event of each object (print_headers). */
const BANNERS: Record<Watched | "port", string> = {
  link: "[LINK]",
  port: "[LINK]",
  address: "[ADDR]",
  route: "[ROUTE]",
  neighbour: "[NEIGH]",
  rule: "[RULE]",
};

/** The rtnetlink multicast groups of each kind of object, for `--raw` (as `ip monitor` joins). */
const GROUPS: Record<Watched, number[]> = {
  link: [RTNLGRP_LINK],
  address: [RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR],
  route: [RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE],
  neighbour: [RTNLGRP_NEIGH],
  rule: [RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE],
};

/**
 * `monitor [--raw|--tree] [all|label] [OBJECT...] [count N]` (every kind of object when none is
 * named; `all` or `label`: each event after its object's label, as ip's `[LINK]`) and
 * `monitor [--tree] genl FAMILY [GROUP...] [count N]` (every group of the family when none is).
 */
export async function monitorCommand(args: string[], global: Global, out: Output): Promise<void> {
  const [kw, positional] = keywords(args, ["count"]);
  let style: FormatOptions["style"] | undefined;
  const operands = positional.filter((arg) => {
    if (arg === "--raw") style ??= "line";
    else if (arg === "--tree") style = "tree";
    else return true;
    return false;
  });
  // Read as ip reads its numbers (0x10 is 16, 010 is 8).
  const count = kw.count === undefined ? Infinity : unsigned(kw.count) ?? 0;
  if (count === 0) {
    throw new UsageError(`monitor: count ${shown(kw.count)} is not a positive number`);
  }
  if (operands[0] === "genl") {
    if (global.json) {
      throw new UsageError("monitor genl prints decoded messages; --json is not for it");
    }
    return await monitorGeneric(operands.slice(1), style ?? "line", global, count, out);
  }
  // As ip monitor: "all" (every object, as none named) and "label" put each event's object
  // before its line, "[LINK]" and the like (ip's prefix_banner).
  const banner = operands.some((name) => name === "all" || name === "label");
  const objects = operands.filter((name) => name !== "all" && name !== "label").map((name) => {
    const object = OBJECTS[name];
    if (object === undefined) {
      throw new UsageError(
        `monitor: unknown object "${name}" `
          + "(link, address, route, neigh, rule, all, or genl FAMILY)",
      );
    }
    return object;
  });
  const watched = [...new Set(objects.length ? objects : Object.values(OBJECTS))];
  if (style !== undefined) {
    if (global.json) throw new UsageError("monitor --raw prints decoded messages, not --json");
    await using socket = await open(NETLINK_ROUTE, {
      ...socketOptions(global),
      receiveBufferSize: ROUTE_RECEIVE_BUFFER, // the route client's, which `monitor` uses
      groups: new Set(watched.flatMap((object) => GROUPS[object])),
    });
    return await printMessages(socket, new Map(), style, count, out);
  }
  await using ip = await openRoute(socketOptions(global));
  // As ip monitor (ll_init_map): every link's name, for a link's peer and master, kept up to
  // date. Listed before the groups are joined: a flood of events cannot overrun the dump.
  const names = new Map<number, string>();
  if (watched.includes("link")) {
    for (const l of await ip.link.list()) names.set(l.index, l.name);
  }
  const events = ip.monitor(watched.includes("link") ? [...watched, "port"] : watched);
  // The names of the namespaces links' peers are in, looked up once, when first needed (as ip).
  let netns: Map<number, string> | undefined;
  let seen = 0;
  for await (const event of events) {
    if (event.object === "overrun") {
      out(global.json ? JSON.stringify({ overrun: true }) : "overrun: events were lost");
      continue;
    }
    const deleted = event.action === "deleted";
    // Each as ip monitor prints it: the line (or lines) of ip's show command for the object.
    let value: Record<string, unknown>;
    let text: string;
    switch (event.object) {
      case "link":
      case "port":
        if (deleted) names.delete(event.value.index);
        else names.set(event.value.index, event.value.name);
        value = linkJson(event.value, names, false);
        if (!global.json && netns === undefined && event.value.linkNetnsid !== undefined) {
          netns = await netnsNames(ip, [event.value]);
        }
        // ip monitor shows neither the link mode nor the queue length.
        text = linkText({ ...value, txqlen: undefined }, undefined, netns);
        break;
      case "address": {
        value = { ifindex: event.value.index, dev: event.value.dev, ...addressJson(event.value) };
        // A link gone before its name was known is `ifN`, as ip names it.
        text = `${value.ifindex}: ${value.dev ?? `if${value.ifindex}`}${addressText(value)}`;
        break;
      }
      case "route":
        value = routeJson(event.value, false);
        text = routeText(value);
        break;
      case "neighbour":
        value = neighbourJson(event.value, false);
        text = neighbourText(value);
        break;
      case "rule":
        value = ruleJson(event.value);
        text = ruleText(value);
        break;
    }
    if (global.json) {
      const object = event.object === "port" ? "link" : event.object;
      json(global, out, { object, ...(deleted ? { deleted: true } : {}), ...value });
    } else {
      const label = banner ? BANNERS[event.object] : "";
      out(`${label}${deleted ? "Deleted " : ""}${text}`);
    }
    if (++seen >= count) break;
  }
}

/** `monitor genl FAMILY [GROUP...]`: the family's groups, by name, resolved through nlctrl. */
async function monitorGeneric(
  operands: string[],
  style: FormatOptions["style"],
  global: Global,
  count: number,
  out: Output,
): Promise<void> {
  const [name, ...groupNames] = operands;
  if (name === undefined) throw new UsageError("monitor genl needs a family name");
  await using socket = await open(NETLINK_GENERIC, socketOptions(global));
  let family;
  try {
    family = await resolveFamily(socket, name);
  } catch (error) {
    if (error instanceof NetlinkError && error.code === "ENOENT") {
      throw new Error(`no generic netlink family named ${shown(name)}`);
    }
    throw error;
  }
  const known = [...family.groups.keys()].join(", ") || "none";
  if (family.groups.size === 0) throw new Error(`${name} has no multicast groups`);
  const groups = groupNames.length ? groupNames : [...family.groups.keys()];
  for (const group of groups) {
    const id = family.groups.get(group);
    if (id === undefined) {
      throw new Error(`${name} has no multicast group ${shown(group)} (${known})`);
    }
    socket.join(id);
  }
  // Unloading the family's module drops the memberships of its groups, and the family comes
  // back under new numbers: nlctrl announces both on its "notify" group (numbered as nlctrl's
  // id, which is fixed), applied as a typed monitor applies them (_monitor_groups.ts: the
  // dropped groups left, the watchers told). Each of the family's comings and goings is said in
  // a line of its own (not counted), and its groups joined again; other announcements are
  // skipped.
  const follows = family.id !== GENL_ID_CTRL;
  /** The formatter's family names, for the ids the family comes back under. */
  let names: Map<number, string> | undefined;
  const say = (what: string, announced: GenericFamily) => {
    const numbers = [...announced.groups].map(([group, id]) => `${group}=${id}`).join(" ");
    out(`${name} ${what}: id ${announced.id}, groups ${numbers || "none"}`);
  };
  if (follows) {
    socket.join(NLCTRL_NOTIFY_GROUP);
    watchFamily(socket, name, {
      removed: (gone, whole) => {
        if (!whole) return;
        say("unregistered", gone);
        names?.delete(gone.id);
      },
      registered: (back, whole) => {
        if (whole) {
          say("registered", back);
          names?.set(back.id, name);
        }
        for (const group of groups) {
          const id = back.groups.get(group);
          if (id !== undefined && !socket.groups.includes(id)) socket.join(id);
        }
      },
    });
  }
  const follow = (message: ReceivedMessage, formatter: NetlinkFormatter): boolean => {
    if (!follows || message.type !== GENL_ID_CTRL || message.sender !== 0) return true;
    names = formatter.families;
    return !announce(socket, message); // a malformed one is printed as the formatter sees it
  };
  await printMessages(socket, new Map([[family.id, family.name]]), style, count, out, follow);
}

/**
 * Every message the socket receives that `wanted` lets through, formatted, until `count` of
 * them. The formatter loads here only: the other commands start without the descriptors of
 * every family.
 */
async function printMessages(
  socket: NetlinkSocket,
  families: Map<number, string>,
  style: FormatOptions["style"],
  count: number,
  out: Output,
  wanted: (message: ReceivedMessage, formatter: NetlinkFormatter) => boolean = () => true,
): Promise<void> {
  const { NetlinkFormatter } = await import("../format.ts");
  const formatter: NetlinkFormatter = new NetlinkFormatter({ families });
  const protocol = socket.protocol;
  let seen = 0;
  // A datagram that is not netlink messages (another process's garbage, sent to the port or,
  // as root, to the groups) is shown, as NETLINK_DEBUG shows it; what follows it still comes.
  const onMalformed = (err: Error) => out(`not netlink messages: ${err.message}`);
  for await (const message of socket.messages({ onMalformed })) {
    if (!wanted(message, formatter)) continue;
    out(
      message.overrun // the socket's marker, not a peer's message of its type
        ? "overrun: messages were lost"
        : formatter.format(message, { protocol, style }),
    );
    if (++seen >= count) return;
  }
}
