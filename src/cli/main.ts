/**
 * The `netlink` command-line tool: `ip`, `tc`, `genl` and `ethtool` views of the kernel through
 * this library. Human output in iproute2's style; `--json` with `ip -j` / `tc -j` field names.
 *
 * ```sh
 * deno run -A jsr:@netlink/netlink/cli link show
 * bun node_modules/@netlink/netlink/src/cli/main.ts --netns blue --json addr show
 * ```
 *
 * Commands: `link show [DEV]`, `addr show [DEV]`, `route show|get|add|del`, `qdisc|class|filter
 * show dev DEV`, `genl [show FAMILY]`, `ethtool DEV`. Global options: `--json`, `--netns NAME`,
 * `--help`. A failure prints one line to stderr and exits with status 1 (2 for usage errors).
 *
 * @example
 * ```ts ignore
 * import { run } from "@netlink/netlink/cli";
 * const status = await run(["--json", "link", "show", "lo"]);
 * ```
 *
 * @module
 */

import process from "node:process";
import { NETLINK_GENERIC } from "../constants.ts";
import { NetlinkError } from "../errors.ts";
import { open } from "../open.ts";
import type { Address } from "../route/address.ts";
import { openRoute, type RouteClient } from "../route/client.ts";
import type { Link } from "../route/link.ts";
import type { NewRoute, Route } from "../route/route.ts";
import { TrafficControl } from "../route/tc.ts";
import { formatRate, formatSize, formatTime } from "../route/tc_units.ts";
import { ethtool } from "../ynl/ethtool.ts";
import { family } from "../ynl/family.ts";
import { nlctrl } from "../ynl/nlctrl.ts";

/** A bad command line: exit status 2 and the usage hint. */
export class UsageError extends Error {
  /** @param message What is wrong, in one line. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const USAGE = `Usage: netlink [--json] [--netns NAME] COMMAND ...
Commands:
  link show [DEV]                      links (ip link show)
  addr show [DEV]                      addresses (ip addr show)
  route show [table T]                 routes (ip route show)
  route get ADDRESS                    route lookup (ip route get)
  route add|del PREFIX [via GW] [dev DEV] [table T] [metric N] [type T]
  qdisc show [dev DEV]                 qdiscs (tc qdisc show)
  class show dev DEV                   classes (tc class show)
  filter show dev DEV [PARENT]         filters (tc filter show; PARENT: ingress, egress, 1:)
  genl [show FAMILY]                   generic netlink families, their ops and groups
  ethtool DEV                          link modes and features
Options:
  --json        JSON with ip -j / tc -j field names
  --netns NAME  run in the named network namespace (/run/netns/NAME)
  --help        this text`;

interface Global {
  json: boolean;
  netns?: string;
}

type Output = (line: string) => void;

/**
 * Runs the tool with `args` (without the program name), writing to `out`; resolves with the exit
 * status (0 ok, 1 failure, 2 usage). Errors are printed as one line to `err`.
 *
 * @example
 * ```ts ignore
 * import { run } from "@netlink/netlink/cli";
 * process.exitCode = await run(["route", "get", "1.1.1.1"]);
 * ```
 */
export async function run(
  args: string[],
  out: Output = (line) => console.log(line),
  err: Output = (line) => console.error(line),
): Promise<number> {
  try {
    const global: Global = { json: false };
    const rest: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      if (arg === "--json" || arg === "-j") global.json = true;
      else if (arg === "--netns" || arg === "-n") {
        global.netns = args[++i];
        if (global.netns === undefined) throw new UsageError("--netns needs a namespace name");
      } else if (arg === "--help" || arg === "-h" || arg === "help") {
        out(USAGE);
        return 0;
      } else if (arg.startsWith("-") && rest.length === 0) {
        throw new UsageError(`unknown option "${arg}"`);
      } else rest.push(arg);
    }
    const [command, ...operands] = rest;
    if (command === undefined) throw new UsageError("no command (try --help)");
    const handler = COMMANDS[command];
    if (handler === undefined) throw new UsageError(`unknown command "${command}" (try --help)`);
    await handler(operands, global, out);
    return 0;
  } catch (error) {
    err(`netlink: ${describe(error)}`);
    return error instanceof UsageError ? 2 : 1;
  }
}

function describe(error: unknown): string {
  if (error instanceof NetlinkError && error.code === "EPERM") {
    return `${error.message} (needs CAP_NET_ADMIN: run as root)`;
  }
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0];
}

type Handler = (args: string[], global: Global, out: Output) => Promise<void>;

const COMMANDS: Record<string, Handler> = {
  link: linkCommand,
  addr: addrCommand,
  address: addrCommand,
  route: routeCommand,
  qdisc: (args, g, out) => tcCommand("qdisc", args, g, out),
  class: (args, g, out) => tcCommand("class", args, g, out),
  filter: (args, g, out) => tcCommand("filter", args, g, out),
  genl: genlCommand,
  ethtool: ethtoolCommand,
};

function verb(args: string[], allowed: string[]): [string, string[]] {
  const [first, ...rest] = args;
  if (first === undefined || first === "list" || first === "ls") return ["show", rest];
  if (!allowed.includes(first)) {
    if (allowed.includes("show") && !["add", "del", "get"].includes(first)) {
      return ["show", args]; // `link show` may be left out before a device: `link eth0`
    }
    throw new UsageError(`unknown subcommand "${first}" (${allowed.join(", ")})`);
  }
  return [first, rest];
}

/** Key/value operands ("dev eth0 table 100") with the leftover positional ones. */
function keywords(args: string[], keys: string[]): [Record<string, string>, string[]] {
  const found: Record<string, string> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (keys.includes(args[i])) {
      const value = args[++i];
      if (value === undefined) throw new UsageError(`"${args[i - 1]}" needs a value`);
      found[args[i - 1]] = value;
    } else positional.push(args[i]);
  }
  return [found, positional];
}

async function withRoute<T>(global: Global, body: (ip: RouteClient) => Promise<T>): Promise<T> {
  await using ip = await openRoute(global.netns === undefined ? {} : { netns: global.netns });
  return await body(ip);
}

function json(out: Output, value: unknown): void {
  out(JSON.stringify(value, (_key, v) => typeof v === "bigint" ? Number(v) : v));
}

// ---- link / addr ------------------------------------------------------------------------------

/** A link with `ip -j link show`'s names. */
function linkJson(link: Link, names: Map<number, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ifindex: link.index,
    ifname: link.name,
    flags: link.flags,
    mtu: link.mtu,
    operstate: typeof link.operstate === "string" ? link.operstate.toUpperCase() : link.operstate,
  };
  if (link.master !== undefined) out.master = names.get(link.master) ?? link.master;
  if (link.txqlen !== undefined) out.txqlen = link.txqlen;
  if (link.address !== undefined) out.address = link.address;
  if (link.broadcast !== undefined) out.broadcast = link.broadcast;
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

async function linkCommand(args: string[], global: Global, out: Output): Promise<void> {
  const [, rest] = verb(args, ["show"]);
  const [kw, positional] = keywords(rest, ["dev"]);
  const dev = kw.dev ?? positional[0];
  if (positional.length > (kw.dev ? 0 : 1)) {
    throw new UsageError(`unexpected "${positional.at(-1)}"`);
  }
  const links = await withRoute(
    global,
    async (ip) => dev === undefined ? await ip.link.list() : [await ip.link.get(dev)],
  );
  const all = await withRoute(global, (ip) => ip.link.list());
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

async function addrCommand(args: string[], global: Global, out: Output): Promise<void> {
  const [, rest] = verb(args, ["show"]);
  const [kw, positional] = keywords(rest, ["dev"]);
  const dev = kw.dev ?? positional[0];
  const [links, addresses] = await withRoute(global, async (ip) =>
    [
      dev === undefined ? await ip.link.list() : [await ip.link.get(dev)],
      await ip.addr.list(dev === undefined ? {} : { dev }),
    ] as const);
  const names = new Map(links.map((l) => [l.index, l.name]));
  const shown = links.map((link) => ({
    ...linkJson(link, names),
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

async function routeCommand(args: string[], global: Global, out: Output): Promise<void> {
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

// ---- tc ---------------------------------------------------------------------------------------

async function tcCommand(
  what: "qdisc" | "class" | "filter",
  args: string[],
  global: Global,
  out: Output,
): Promise<void> {
  const [, rest] = verb(args, ["show"]);
  const [kw, positional] = keywords(rest, ["dev", "parent"]);
  const parent = kw.parent
    ?? positional.find((p) => p === "ingress" || p === "egress" || p === "root");
  await using tc = await TrafficControl.open(
    global.netns === undefined ? {} : { netns: global.netns },
  );
  if (what === "qdisc") {
    const qdiscs = await tc.qdiscs(kw.dev === undefined ? {} : { dev: kw.dev });
    const shown = qdiscs.map((q) => ({
      kind: q.kind,
      handle: q.handle,
      dev: q.dev,
      ...(q.parent === "root" ? { root: true } : { parent: q.parent }),
      ...(q.refcnt !== 1 ? { refcnt: q.refcnt } : {}),
      options: q.options,
    }));
    if (global.json) return json(out, shown);
    for (const q of shown) {
      const place = "root" in q ? "root" : `parent ${q.parent}`;
      const refcnt = q.refcnt === undefined ? "" : ` refcnt ${q.refcnt}`;
      out(
        `qdisc ${q.kind} ${q.handle} dev ${q.dev} ${place}${refcnt} ${optionsText(q.options)}`
          .trimEnd(),
      );
    }
    return;
  }
  if (kw.dev === undefined) throw new UsageError(`${what} show needs "dev DEV"`);
  if (what === "class") {
    const classes = await tc.classes({ dev: kw.dev, ...(parent ? { parent } : {}) });
    const shown = classes.map((c) => ({
      class: c.kind,
      handle: c.handle,
      ...(c.parent === "root" ? { root: true } : { parent: c.parent }),
      ...(c.leaf ? { leaf: c.leaf } : {}),
      ...c.options,
    }));
    if (global.json) return json(out, shown);
    for (const c of shown) {
      const { class: kind, handle, root, parent: p, leaf, ...options } = c as Record<
        string,
        unknown
      >;
      const place = root ? "root" : `parent ${p}`;
      out(
        `class ${kind} ${handle} ${place}${leaf ? ` leaf ${leaf}` : ""} ${optionsText(options)}`
          .trimEnd(),
      );
    }
    return;
  }
  const filters = await tc.filters({ dev: kw.dev, ...(parent ? { parent } : {}) });
  const shown = filters.map((f) => ({
    ...(f.parent === "ingress" || f.parent === "egress" ? {} : { parent: f.parent }),
    protocol: f.protocol,
    pref: f.pref,
    kind: f.kind,
    ...(f.chain === undefined ? {} : { chain: f.chain }),
    ...(Object.keys(f.options).length ? { options: f.options } : {}),
  }));
  if (global.json) return json(out, shown);
  for (const f of shown) {
    const place = f.parent ? `parent ${f.parent} ` : "";
    const chain = f.chain === undefined ? "" : ` chain ${f.chain}`;
    out(
      `filter ${place}protocol ${f.protocol} pref ${f.pref} ${f.kind}${chain} ${
        optionsText(f.options ?? {})
      }`.trimEnd(),
    );
  }
}

/** Options as tc prints them: rates, sizes and times in its units. */
function optionsText(options: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (key === "match") {
      for (const m of value as { value: string; mask: string; off: number }[]) {
        parts.push(`match ${m.value.padStart(8, "0")}/${m.mask.padStart(8, "0")} at ${m.off}`);
      }
    } else if (["rate", "ceil", "peakrate"].includes(key)) {
      parts.push(`${key} ${formatRate(value as number)}`);
    } else if (["burst", "cburst", "minburst"].includes(key)) {
      parts.push(`${key} ${formatSize(value as number)}`);
    } else if (key === "lat") parts.push(`lat ${formatTime(value as number)}`);
    else if (value === true || value === null) parts.push(key);
    else if (value !== false) parts.push(`${key} ${value}`);
  }
  return parts.join(" ");
}

// ---- genl -------------------------------------------------------------------------------------

async function genlCommand(args: string[], global: Global, out: Output): Promise<void> {
  const [, rest] = verb(args, ["show"]);
  const [name, ...extra] = rest;
  if (extra.length) throw new UsageError(`unexpected "${extra[0]}"`);
  const socket = await open(
    NETLINK_GENERIC,
    global.netns === undefined ? {} : { netns: global.netns },
  );
  await using ctrl = await family(nlctrl, { socket });
  try {
    const families = name === undefined
      ? await ctrl.dump("getfamily")
      : [(await ctrl.do("getfamily", { familyName: name }))!];
    const shown = await Promise.all(families.map(async (f) => {
      const names = await opNames(f.familyName ?? "");
      return {
        name: f.familyName,
        id: f.familyId,
        version: f.version,
        hdrsize: f.hdrsize,
        maxattr: f.maxattr,
        ops: (f.ops ?? []).map((op) => ({
          id: op.id,
          ...(names.get(op.id!) ? { name: names.get(op.id!) } : {}),
        })),
        groups: (f.mcastGroups ?? []).map((g) => ({ name: g.name, id: g.id })),
      };
    }));
    if (global.json) return json(out, shown);
    for (const f of shown) {
      out(
        `Name: ${f.name}\n\tID: 0x${f.id?.toString(16)}  Version: 0x${
          f.version?.toString(16)
        }  header size: ${f.hdrsize}  max attribs: ${f.maxattr}`,
      );
      if (f.ops.length) {
        out(`\tcommands supported:`);
        for (const op of f.ops) out(`\t\t#${op.id}: ${op.name ?? `ID-0x${op.id?.toString(16)}`}`);
      }
      if (f.groups.length) {
        out(`\tmulticast groups:`);
        for (const g of f.groups) out(`\t\t#${g.id}: ${g.name}`);
      }
    }
  } catch (error) {
    if (error instanceof NetlinkError && error.code === "ENOENT" && name !== undefined) {
      throw new Error(`no generic netlink family named ${name}`);
    }
    throw error;
  } finally {
    socket.close();
  }
}

/** Operation names by command number, from the family's YNL spec when the library has one. */
async function opNames(name: string): Promise<Map<number, string>> {
  const modules: Record<string, string> = {
    nlctrl: "../ynl/nlctrl.ts",
    ethtool: "../ynl/ethtool.ts",
    netdev: "../ynl/netdev.ts",
    devlink: "../ynl/devlink.ts",
    tcp_metrics: "../ynl/tcp_metrics.ts",
    mptcp_pm: "../ynl/mptcp_pm.ts",
    nl80211: "../ynl/nl80211.ts",
    wireguard: "../ynl/wireguard.ts",
    team: "../ynl/team.ts",
    fou: "../ynl/fou.ts",
    ovs_datapath: "../ynl/ovs_datapath.ts",
    ovs_vport: "../ynl/ovs_vport.ts",
    ovs_flow: "../ynl/ovs_flow.ts",
    ovs_packet: "../ynl/ovs_packet.ts",
    handshake: "../ynl/handshake.ts",
    dpll: "../ynl/dpll.ts",
    "net-shaper": "../ynl/net_shaper.ts",
    psp: "../ynl/psp.ts",
  };
  const path = modules[name];
  if (path === undefined) return new Map();
  const module = await import(path) as Record<
    string,
    { ops?: Record<string, { request?: number }> }
  >;
  const descriptor = Object.values(module).find((d) => d && typeof d === "object" && "ops" in d);
  const names = new Map<number, string>();
  for (const [op, spec] of Object.entries(descriptor?.ops ?? {})) {
    if (spec.request !== undefined && !names.has(spec.request)) names.set(spec.request, op);
  }
  return names;
}

// ---- ethtool ----------------------------------------------------------------------------------

interface Bitset {
  bits?: { bit?: { index?: number; name?: string; value?: boolean }[] };
}

async function ethtoolCommand(args: string[], global: Global, out: Output): Promise<void> {
  const [dev, ...extra] = args;
  if (dev === undefined) throw new UsageError("ethtool needs a device");
  if (extra.length) throw new UsageError(`unexpected "${extra[0]}"`);
  await using client = await family(
    ethtool,
    global.netns === undefined ? {} : { netns: global.netns },
  );
  let modes, features;
  try {
    modes = await client.do("linkmodes-get", { header: { devName: dev } });
    features = await client.do("features-get", { header: { devName: dev } });
  } catch (error) {
    if (error instanceof NetlinkError && error.code === "ENODEV") {
      throw new Error(`no link named ${dev}`);
    }
    throw error;
  }
  // features-get answers with list bitsets (nomask): the bits listed are the ones set.
  const active = ((features?.active as Bitset | undefined)?.bits?.bit ?? []).map((b) => b.name!);
  const duplexNames: Record<number, string> = { 0: "Half", 1: "Full", 255: "Unknown" };
  const shown = {
    ifname: dev,
    speed: modes?.speed === 0xffff_ffff ? null : modes?.speed,
    duplex: duplexNames[modes?.duplex as number] ?? modes?.duplex,
    autoneg: modes?.autoneg === 1,
    features: active,
  };
  if (global.json) return json(out, shown);
  out(`Settings for ${dev}:`);
  out(`\tSpeed: ${shown.speed === null ? "Unknown!" : `${shown.speed}Mb/s`}`);
  out(`\tDuplex: ${shown.duplex}`);
  out(`\tAuto-negotiation: ${shown.autoneg ? "on" : "off"}`);
  out(`Features on for ${dev}:`);
  for (const name of active) out(`${name}: on`);
}

if (import.meta.main) {
  process.exitCode = await run(process.argv.slice(2));
}
