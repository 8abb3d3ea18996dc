// `link`, `addr` and `route`: the route client, printed as `ip` prints (`--json`: `ip -j`'s names).

import { openNetns, readDirectory } from "../../ffi/mod.ts";
import {
  NETNSA_FD,
  NETNSA_NSID,
  NTF_EXT_LEARNED,
  NTF_PROXY,
  NUD_DELAY,
  NUD_FAILED,
  NUD_INCOMPLETE,
  NUD_NOARP,
  NUD_PERMANENT,
  NUD_PROBE,
  NUD_REACHABLE,
  NUD_STALE,
} from "../_constants.ts";
import {
  FIB_RULE_IIF_DETACHED,
  FIB_RULE_OIF_DETACHED,
  FIB_RULE_UNRESOLVED,
  RT_SCOPE_UNIVERSE,
  RT_TABLE_MAIN,
  RTAX_FEATURE_ECN,
  RTCF_BROADCAST,
  RTCF_DIRECTDST,
  RTCF_DIRECTSRC,
  RTCF_DNAT,
  RTCF_DOREDIRECT,
  RTCF_FAST,
  RTCF_LOCAL,
  RTCF_MASQ,
  RTCF_MULTICAST,
  RTCF_NOTIFY,
  RTCF_REDIRECTED,
  RTCF_REJECT,
  RTCF_SNAT,
  RTCF_TPROXY,
  RTM_F_CLONED,
  RTM_F_FIB_MATCH,
  RTM_F_LOOKUP_TABLE,
  RTM_F_NOTIFY,
  RTM_GETNSID,
  RTPROT_BOOT,
  RTPROT_KERNEL,
} from "../_constants.ts";
import { shown } from "../_options.ts";
import { AttributeDecoder, AttributeEncoder, decodeAttributes } from "../attribute.ts";
import { NetlinkError } from "../errors.ts";
import { formatIP, ipFamily, parseIP, parsePrefix } from "../ip.ts";
import { contextOf } from "../route/_context.ts";
import type { Address } from "../route/address.ts";
import { openRoute, type RouteClient } from "../route/client.ts";
import type { Link } from "../route/link.ts";
import type { Neighbour, NewNeighbour } from "../route/neighbour.ts";
import { lookupRoute, type NewRoute, type Route } from "../route/route.ts";
import type { NewRule, Rule } from "../route/rule.ts";
import {
  abbreviates,
  duplicate,
  duplicateOrGarbage,
  type Global,
  invalidArgument,
  IP_SUBCOMMANDS,
  ipNumber,
  ipOperand,
  json,
  keywords,
  type Output,
  selectors,
  socketOptions,
  unexpected,
  unsigned,
  UsageError,
  verb,
  warn,
} from "./_args.ts";
import {
  bondDetails,
  bondPortDetails,
  bridgeDetails,
  bridgePortDetails,
  type Detail,
  detailsJson,
  detailsLine,
  macvlanDetails,
  vlanDetails,
  vxlanDetails,
} from "./_link_details.ts";
import { stats64Json, type StatsOptions, statsText } from "./_link_stats.ts";
import {
  dsfieldId,
  dsfieldName,
  groupName,
  ipProtocolId,
  ipProtocolName,
  isIpLinkName,
  neighbourStateId,
  protocolId,
  protocolName,
  realmName,
  realmsId,
  routeTypeId,
  scopeId,
  scopeName,
  tableId,
  tableName,
} from "./_rt_names.ts";

async function withRoute<T>(global: Global, body: (ip: RouteClient) => Promise<T>): Promise<T> {
  await using ip = await openRoute(socketOptions(global));
  return await body(ip);
}

// ---- link / addr ------------------------------------------------------------------------------

/** IFLA_EVENT_* by ip's names (ip/ipaddress.c's link_events; 0, none, is not printed). */
const LINK_EVENTS: readonly string[] = [
  "NONE",
  "REBOOT",
  "FEATURE CHANGE",
  "BONDING FAILOVER",
  "NOTIFY PEERS",
  "RESEND IGMP",
  "BONDING OPTION",
];

/**
 * A link with `ip -j link show`'s names and order (`linkmode` only where `ip link` shows it, not
 * under `ip addr`); with `details`, `ip -d -j`'s ({@linkcode linkDetailsJson}).
 */
export function linkJson(
  link: Link,
  names: Map<number, string>,
  linkmode = true,
  details = false,
): Record<string, unknown> {
  const raw = link.raw;
  const out: Record<string, unknown> = { ifindex: link.index };
  // As ip: whenever the kernel sends IFLA_LINK (it leaves it out when it is the link's own index,
  // but not for a peer in another namespace, whose index may be the same number).
  if (link.link !== undefined) {
    if (link.linkNetnsid !== undefined) out.link_index = link.link;
    // As ip: index 0 is "NONE", an index it cannot name "ifN" (ll_index_to_name).
    else out.link = link.link === 0 ? null : names.get(link.link) ?? `if${link.link}`;
  }
  out.ifname = link.name;
  out.flags = link.flags;
  out.mtu = link.mtu;
  if (raw.qdisc !== undefined) out.qdisc = raw.qdisc;
  if (link.master !== undefined) out.master = names.get(link.master) ?? link.master;
  // As ip's print_operstate and print_linkmode: a state or mode it has no name for is a number
  // under another key (ip names modes 0 and 1 only: "testing", 2, is `"linkmode_index": 2`).
  if (typeof link.operstate === "string") out.operstate = link.operstate.toUpperCase();
  else out.operstate_index = link.operstate;
  if (linkmode && link.linkmode !== undefined) {
    if (link.linkmode === "default" || link.linkmode === "dormant") {
      out.linkmode = link.linkmode.toUpperCase();
    } else out.linkmode_index = raw.linkmode;
  }
  if (raw.group !== undefined) out.group = groupName(raw.group);
  // As ip's print_queuelen: none when 0, and printed as a signed int (4294967295 is -1).
  if (link.txqlen) out.txqlen = link.txqlen | 0;
  // A notification's IFLA_EVENT (what made the kernel send it), as ip's print_link_event.
  const event = raw.event;
  if (event) out.event = LINK_EVENTS[event] ?? event;
  // The route layer names the type as iproute2's ll_types.c does; ip prints one it cannot "[N]".
  out.link_type = typeof link.linkType === "string" ? link.linkType : `[${link.linkType}]`;
  if (link.address !== undefined) out.address = link.address;
  if (link.broadcast !== undefined) {
    // As ip: a point-to-point link's "broadcast" is its peer.
    if (link.flags.includes("POINTOPOINT")) out.link_pointtopoint = true;
    out.broadcast = link.broadcast;
  }
  if (link.linkNetnsid !== undefined) out.link_netnsid = link.linkNetnsid;
  if (details) Object.assign(out, linkDetailsJson(link, linkmode, names));
  // As ip: the alias under `link` (or -d), not `addr`; the alternative names everywhere.
  if ((linkmode || details) && link.alias !== undefined) out.ifalias = link.alias;
  if (link.altnames !== undefined) out.altnames = link.altnames;
  return out;
}

/**
 * What `ip -d -j` adds to a link (ip/ipaddress.c's print_linkinfo with show_details), in its
 * order: promiscuity and the MTU bounds, the kind (`linkinfo.info_kind`) with its options in
 * ip's names for bridge, vxlan and macvlan (for other kinds, the kind alone), a port's master's
 * kind (`info_slave_kind`) with the port's options for a bridge's, the IPv6 address generation
 * mode (`linkmode`: under `ip link` only, as ip), the queue counts and the GSO, TSO and GRO
 * limits. The options' text, which differs from the JSON in places, is kept for
 * {@linkcode linkText} under a symbol that JSON leaves out.
 */
export function linkDetailsJson(
  link: Link,
  linkmode: boolean,
  names: ReadonlyMap<number, string> = new Map(),
): Record<string, unknown> {
  const raw = link.raw;
  const out: Record<string, unknown> = {
    promiscuity: raw.promiscuity,
    allmulti: raw.allmulti,
    min_mtu: raw.minMtu,
    max_mtu: raw.maxMtu,
  };
  if (link.kind !== undefined || link.portKind !== undefined) {
    const info: Record<string | symbol, unknown> = {};
    const text: string[] = [];
    if (link.kind !== undefined) {
      info.info_kind = link.kind;
      const data = kindDetails(link, names);
      if (data !== undefined) info.info_data = detailsJson(data);
      text.push(`\n    ${link.kind} ${detailsLine(data ?? [])}`);
    }
    if (link.portKind !== undefined) {
      info.info_slave_kind = link.portKind;
      const portData = link.portData as Record<string, unknown> | undefined;
      const data = portData === undefined
        ? undefined
        : link.portKind === "bridge"
        ? bridgePortDetails(portData, names)
        : link.portKind === "bond"
        ? bondPortDetails(portData)
        : undefined;
      if (data !== undefined) info.info_slave_data = detailsJson(data);
      text.push(`\n    ${link.portKind}_slave ${detailsLine(data ?? [])}`);
    }
    info[DETAILS_TEXT] = text.join("");
    out.linkinfo = info;
  }
  if (linkmode) out.inet6_addr_gen_mode = link.addrGenMode;
  Object.assign(out, {
    num_tx_queues: raw.numTxQueues,
    num_rx_queues: raw.numRxQueues,
    gso_max_size: raw.gsoMaxSize,
    gso_max_segs: raw.gsoMaxSegs,
    tso_max_size: raw.tsoMaxSize,
    tso_max_segs: raw.tsoMaxSegs,
    gro_max_size: raw.groMaxSize,
  });
  return Object.fromEntries(Object.entries(out).filter(([, value]) => value !== undefined));
}

/** The linkinfo's text as ip prints it: the kind and its options, the port's kind and its. */
const DETAILS_TEXT = Symbol("linkinfo text");

/** The options of a link's kind that ip -d prints, for the kinds this tool prints them of. */
function kindDetails(link: Link, names: ReadonlyMap<number, string>): Detail[] | undefined {
  const data = link.data as Record<string, unknown> | undefined;
  if (data === undefined) return undefined;
  if (link.kind === "bridge") return bridgeDetails(data);
  if (link.kind === "vxlan") return vxlanDetails(data, names);
  if (link.kind === "vlan") return vlanDetails(data);
  if (link.kind === "bond") return bondDetails(data, names);
  if (link.kind === "macvlan" || link.kind === "macvtap") {
    return macvlanDetails(link.data as Extract<Link, { kind: "macvlan" }>["data"]);
  }
  return undefined;
}

/** `ip -d link`'s text for the details ({@linkcode linkDetailsJson}): words after the keys. */
const DETAIL_WORDS: [string, string][] = [
  ["inet6_addr_gen_mode", "addrgenmode"],
  ["num_tx_queues", "numtxqueues"],
  ["num_rx_queues", "numrxqueues"],
  ...["gso_max_size", "gso_max_segs", "tso_max_size", "tso_max_segs", "gro_max_size"].map((
    key,
  ): [string, string] => [key, key]),
];

/** The details' text as `ip -d link` prints it, after the link/TYPE line. */
function detailsText(link: Record<string, unknown>): string {
  if (link.promiscuity === undefined) return "";
  let text = ` promiscuity ${link.promiscuity} `;
  if (link.allmulti !== undefined) text += ` allmulti ${link.allmulti} `;
  if (link.min_mtu !== undefined) text += `minmtu ${link.min_mtu} `;
  if (link.max_mtu !== undefined) text += `maxmtu ${link.max_mtu} `;
  const info = link.linkinfo as Record<symbol, string> | undefined;
  if (info !== undefined) text += info[DETAILS_TEXT] ?? "";
  for (const [key, word] of DETAIL_WORDS) {
    if (link[key] !== undefined) text += `${word} ${link[key]} `;
  }
  return text;
}

/**
 * The `ip netns` names (/run/netns) of the namespaces that have an id here, by id, as ip's
 * netns_map_init finds them (RTM_GETNSID for each file) to print a link's peer namespace by
 * name, `link-netns blue`; empty when none of `links` is in another namespace.
 */
export async function netnsNames(
  ip: RouteClient,
  links: readonly Link[],
): Promise<Map<number, string>> {
  if (!links.some((link) => (link.linkNetnsid ?? -1) >= 0)) return new Map();
  // As ip's hash list, the name listed last wins when two name one namespace.
  const ids = (await netnsIds(ip)).filter(([, id]) => id !== undefined && id >= 0);
  return new Map(ids.map(([name, id]) => [id as number, name]));
}

/**
 * Each `ip netns` name (/run/netns, in the directory's order, as ip's netns_list reads it) with
 * the id the namespace has here (RTM_GETNSID with its descriptor; -1: none assigned), undefined
 * where it is no namespace or cannot be opened; none when there is no /run/netns.
 */
export async function netnsIds(ip: RouteClient): Promise<[string, number | undefined][]> {
  let files: string[];
  try {
    files = readDirectory("/run/netns");
  } catch {
    return []; // as ip: no directory, no names
  }
  const ids: [string, number | undefined][] = [];
  for (const name of files) {
    let file;
    try {
      file = openNetns(`/run/netns/${name}`);
    } catch {
      ids.push([name, undefined]); // gone since it was listed, or not readable
      continue;
    }
    let id: number | undefined;
    try {
      // struct rtgenmsg (AF_UNSPEC), aligned to 4 bytes, then the namespace's descriptor.
      const attrs = new AttributeEncoder().u32(NETNSA_FD, file.fd).finish();
      const payload = new Uint8Array(4 + attrs.length);
      payload.set(attrs, 4);
      const [reply] = await ip.socket.request({ type: RTM_GETNSID, payload });
      const read = new AttributeDecoder(reply.payload, 4);
      while (read.next()) if (read.type === NETNSA_NSID) id = read.s32();
    } catch {
      // Not a namespace (the kernel's EINVAL): ip skips it too.
    } finally {
      file.close();
    }
    ids.push([name, id]);
  }
  return ids;
}

/**
 * A link's lines as `ip link show` prints them, from its `ip -j` shape; `stats` (-s) go after
 * the alias and before the alternative names, where ip puts them. A peer namespace's id is
 * shown by its name in `netns` ({@linkcode netnsNames}), as ip shows it.
 */
export function linkText(
  link: Record<string, unknown>,
  stats?: string,
  netns?: ReadonlyMap<number, string>,
): string {
  const flags = (link.flags as string[]).join(",");
  const under = link.link_index !== undefined
    ? `@if${link.link_index}`
    : "link" in link
    ? `@${link.link ?? "NONE"}`
    : "";
  let line = `${link.ifindex}: ${link.ifname}${under}: <${flags}> mtu ${link.mtu}`;
  if (link.qdisc !== undefined) line += ` qdisc ${link.qdisc}`;
  if (link.master !== undefined) line += ` master ${link.master}`;
  line += link.operstate_index === undefined
    ? ` state ${link.operstate}`
    : ` state 0x${(link.operstate_index as number).toString(16)}`;
  if (link.linkmode !== undefined) line += ` mode ${link.linkmode}`;
  if (link.linkmode_index !== undefined) line += ` mode ${link.linkmode_index}`;
  if (link.group !== undefined) line += ` group ${link.group}`;
  // As ip: each field is followed by a space, but the queue length, last when there is one.
  line += link.txqlen !== undefined ? ` qlen ${link.txqlen}` : " ";
  // As ip, after the queue length with no space between (a monitor prints none).
  if (link.event !== undefined) line += `event ${link.event} `;
  if (link.link_type !== undefined) {
    // As ip's print_linkinfo: "link/TYPE " then each address there is (the kernel's AF_BRIDGE
    // link messages have no broadcast; a tun has neither).
    line += `\n    link/${link.link_type} `;
    if (link.address !== undefined) line += link.address;
    if (link.broadcast !== undefined) {
      line += `${link.link_pointtopoint ? " peer " : " brd "}${link.broadcast}`;
    }
    // As ip's print_linkinfo: by name when it has one, "unknown" when not assigned (-1).
    const id = link.link_netnsid as number | undefined;
    if (id !== undefined) {
      const name = netns?.get(id);
      line += name !== undefined
        ? ` link-netns ${name}`
        : ` link-netnsid ${id < 0 ? "unknown" : id}`;
    }
  }
  line += detailsText(link);
  if (link.ifalias !== undefined) line += `\n    alias ${link.ifalias}`;
  if (stats !== undefined) line += `\n${stats}`;
  for (const name of (link.altnames ?? []) as string[]) line += `\n    altname ${name}`;
  return line;
}

/**
 * What `link show` and `addr show` select by, as ip's ipaddr_list_flush_or_save reads it: the
 * device (`[dev] DEV`), `up` (links administratively up: IFF_UP), `master DEV` (its ports),
 * `type KIND` (links of that kind; `KIND_slave`: ports of a master of that kind) and, for
 * addresses, `scope SCOPE|all` (the last one of each wins).
 */
function showSelectors(
  rest: string[],
  addresses: boolean,
): LinkSelectors & { scope?: number; to?: string } {
  const [kw, positional] = keywords(
    rest,
    addresses ? ["master", "type", "scope", "to"] : ["master", "type"],
  );
  const up = positional.includes("up");
  // The device as `dev DEV` or bare, once: ip refuses a second one (duparg2), in either form.
  let dev: string | undefined;
  const words = positional.filter((word) => word !== "up");
  for (let i = 0; i < words.length; i++) {
    const name = words[i] === "dev" ? words[++i] : words[i];
    if (name === undefined) throw new UsageError(`"dev" needs a value`);
    if (dev !== undefined) throw duplicateOrGarbage("dev", name);
    dev = name;
  }
  // As ip: "all" selects every scope, as no scope does.
  const scope = kw.scope === undefined || kw.scope === "all"
    ? undefined
    : ipOperand(scopeId, kw.scope, "invalid \"scope\"");
  return { dev, up, master: kw.master, type: kw.type, scope, to: kw.to };
}

/** The links `link show` and `addr show` select ({@linkcode showSelectors}). */
interface LinkSelectors {
  dev?: string;
  up: boolean;
  master?: string;
  type?: string;
}

/**
 * The links to show (one, or all; of the master and type asked for, as ip's iplink_filter_req
 * and its match_link_kind select them) and every link's name by index. A master that is not
 * there is refused in ip's words.
 */
async function linksOf(ip: RouteClient, { dev, master, type }: LinkSelectors) {
  const all = await ip.link.list();
  const names = new Map(all.map((l) => [l.index, l.name]));
  let links = dev === undefined ? all : [await ip.link.get(dev)];
  if (master !== undefined) {
    const index = (await ip.link.get(master).catch(() => undefined))?.index;
    if (index === undefined) throw invalidArgument(master, "Device does not exist");
    links = links.filter((link) => link.master === index);
  }
  if (type !== undefined) {
    const port = type.endsWith("_slave") ? type.slice(0, -"_slave".length) : undefined;
    links = links.filter((link) =>
      port === undefined ? link.kind === type : link.portKind === port
    );
  }
  return { names, links };
}

/** `link show [DEV] [up]` (`-s`: with the counters); `link add|set|delete` (linkWrite()). */
export async function linkCommand(args: string[], global: Global, out: Output): Promise<void> {
  const [action, rest] = verb(args, ["show", "add", "set", "delete"], IP_SUBCOMMANDS.link);
  if (action !== "show") {
    const { linkWrite } = await import("./_link_write.ts");
    return await linkWrite(action, rest, global);
  }
  const selectors = showSelectors(rest, false);
  const { names, links, netns } = await withRoute(global, async (ip) => {
    const found = await linksOf(ip, selectors);
    return { ...found, netns: global.json ? undefined : await netnsNames(ip, found.links) };
  });
  const selected = links.filter((l) => l.up || !selectors.up);
  const shown = selected.map((l) => {
    const link = linkJson(l, names, true, global.details);
    const stats64 = global.stats ? stats64Json(l, statsOptions(global)) : undefined;
    if (!stats64) return link;
    // As ip -s -j: the alternative names after the counters, as its text prints them.
    const { altnames, ...rest } = link;
    return altnames === undefined ? { ...rest, stats64 } : { ...rest, stats64, altnames };
  });
  if (global.json) return json(global, out, shown);
  for (const [i, link] of shown.entries()) {
    const stats = link.stats64 === undefined
      ? undefined
      : statsText(selected[i], statsOptions(global));
    out(linkText(link, stats, netns));
  }
}

/** How -s, -h and -iec ask for a link's counters to be shown. */
function statsOptions(global: Global): StatsOptions {
  return { level: global.stats ?? 0, human: global.human, iec: global.iec };
}

const FOREVER = 4294967295;

export function addressJson(a: Address): Record<string, unknown> {
  // In ip's order, which --json keeps: the peer before the prefix length.
  const out: Record<string, unknown> = { family: a.family, local: a.address };
  if (a.peer !== undefined) out.address = a.peer;
  out.prefixlen = a.prefixLength;
  if (a.broadcast !== undefined) out.broadcast = a.broadcast;
  if (a.metric !== undefined) out.metric = a.metric;
  out.scope = scopeName(a.raw.ifaScope);
  for (const flag of a.flags) if (flag !== "permanent") out[flag] = true;
  if (!a.flags.includes("permanent")) out.dynamic = true;
  if (a.label !== undefined) out.label = a.label;
  out.valid_life_time = Number.isFinite(a.validLifetime) ? a.validLifetime : FOREVER;
  out.preferred_life_time = Number.isFinite(a.preferredLifetime) ? a.preferredLifetime : FOREVER;
  return out;
}

/**
 * As ip: with -4 or -6, `addr show` leaves out the link-layer line (type and addresses); with
 * -6 and no device it lists links through the kernel's AF_INET6 link dump, which carries only
 * these fields (a device named is asked for alone, all of it).
 */
const INET6_LINK_FIELDS = [
  ...["ifindex", "link", "ifname", "flags", "mtu", "operstate", "operstate_index", "txqlen"],
];

function forFamily(link: Record<string, unknown>, family: Global["family"], oneLink: boolean) {
  if (family === undefined) return link;
  const { link_type: _type, address: _address, broadcast: _broadcast, ...rest } = link;
  if (family === "inet" || oneLink) return rest;
  return Object.fromEntries(Object.entries(rest).filter(([k]) => INET6_LINK_FIELDS.includes(k)));
}

/** The flags `ip address` prints, in its order (ifa_flag_names; "dynamic": not permanent). */
const ADDRESS_FLAG_ORDER = [
  ...["secondary", "temporary", "nodad", "optimistic", "dadfailed", "home", "deprecated"],
  ...["tentative", "dynamic", "mngtmpaddr", "noprefixroute", "autojoin", "stable-privacy"],
];

/**
 * `addr show [DEV] [up] [scope SCOPE|all]`, as ip's ipaddr_filter: the addresses of the family
 * (-4, -6) and scope asked for, under the links holding one; a link holding no address at all
 * is shown too, without -4 or -6.
 */
export async function addrCommand(args: string[], global: Global, out: Output): Promise<void> {
  const [action, rest] = verb(
    args,
    ["show", "add", "replace", "delete", "flush"],
    IP_SUBCOMMANDS.address,
  );
  if (action !== "show" && action !== "flush") {
    const { addrWrite } = await import("./_addr_write.ts");
    return await addrWrite(action, rest, global);
  }
  // As ip: a flush of every address of every link is refused (status 1).
  if (action === "flush" && rest.length === 0) throw new Error("Flush requires arguments.");
  const { dev, up, scope, to, ...selectors } = showSelectors(rest, true);
  // As ip: `to PREFIX`, the addresses within it, of its family (as -4 or -6 would).
  const prefix = to === undefined ? undefined : dstPrefix(to, global.family);
  const family = global.family
    ?? (prefix?.family === 2 ? "inet" : prefix?.family === 10 ? "inet6" : undefined);
  const wanted = (a: Address) =>
    (!family || a.family === family)
    && (scope === undefined || a.raw.ifaScope === scope)
    && (!prefix?.family || sameBits(parseIP(a.address), prefix.address, prefix.bits));
  const { names, links, addresses, netns } = await withRoute(global, async (ip) => {
    const found = await linksOf(ip, { dev, up, ...selectors });
    const addresses = await ip.addr.list(dev === undefined ? {} : { dev });
    if (action === "flush") {
      const flushed = new Set(found.links.filter((l) => l.up || !up).map((l) => l.index));
      await flushAddresses(ip, addresses.filter((a) => flushed.has(a.index) && wanted(a)));
    }
    return {
      ...found,
      addresses,
      netns: global.json ? undefined : await netnsNames(ip, found.links),
    };
  });
  // As ip: a flush prints nothing.
  if (action === "flush") return;
  const shown = links
    .filter((link) => link.up || !up)
    .map((link) => {
      const held = addresses.filter((a) => a.index === link.index);
      const selected = held.filter(wanted);
      return { link, bare: held.length === 0, selected };
    })
    .filter(({ bare, selected }) => selected.length || (bare && !family))
    .map(({ link, selected }) => {
      const stats64 = global.stats ? stats64Json(link, statsOptions(global)) : undefined;
      return {
        link,
        shown: {
          ...forFamily(
            linkJson(link, names, false, global.details),
            family,
            // Only -6 makes ip list the links by the AF_INET6 dump (not `to` an IPv6 prefix).
            dev !== undefined || global.family !== "inet6",
          ),
          addr_info: selected.map(addressJson),
          // As ip -s: the link's counters after its addresses.
          ...(stats64 === undefined ? {} : { stats64 }),
        },
      };
    });
  if (global.json) return json(global, out, shown.map((entry) => entry.shown));
  for (const { link, shown: entry } of shown) {
    out(linkText(entry, undefined, netns));
    for (const a of entry.addr_info) out(addressText(a));
    if (entry.stats64 !== undefined) out(statsText(link, statsOptions(global)));
  }
}

/**
 * Deletes each address as ip's flush does (ipaddr_flush: the listed message as RTM_DELADDR), one
 * gone already (a secondary the kernel removed with its primary) as deleted.
 */
async function flushAddresses(ip: RouteClient, addresses: Address[]): Promise<void> {
  for (const a of addresses) {
    await ip.addr.delete(a).catch((error) => {
      if (!(error instanceof NetlinkError && error.code === "EADDRNOTAVAIL")) throw error;
    });
  }
}

/** An address's two lines as `ip addr show` prints them under its link, from its `ip -j` shape. */
export function addressText(a: Record<string, unknown>): string {
  const life = (t: unknown) => t === FOREVER ? "forever" : `${t}sec`;
  const flags = ADDRESS_FLAG_ORDER.filter((flag) => a[flag] === true);
  return `    ${a.family} ${a.local}` + (a.address ? ` peer ${a.address}` : "") + `/${a.prefixlen}`
    + (a.broadcast ? ` brd ${a.broadcast}` : "")
    + (a.metric !== undefined ? ` metric ${a.metric}` : "")
    + ` scope ${a.scope}` + flags.map((flag) => ` ${flag}`).join("")
    + (a.label ? ` ${a.label}` : " ") // as ip: a space after each field but the label
    + `\n       valid_lft ${life(a.valid_life_time)} preferred_lft ${life(a.preferred_life_time)}`;
}

// ---- route ------------------------------------------------------------------------------------

/** A cached route's RTCF_* flags as ip names them, in its order (ip/iproute.c print_cache_flags). */
const CACHE_FLAGS: [number, string][] = [
  [RTCF_LOCAL, "local"],
  [RTCF_REJECT, "reject"],
  [RTCF_MULTICAST, "mc"],
  [RTCF_BROADCAST, "brd"],
  [RTCF_DNAT, "dst-nat"],
  [RTCF_SNAT, "src-nat"],
  [RTCF_MASQ, "masq"],
  [RTCF_DIRECTDST, "dst-direct"],
  [RTCF_DIRECTSRC, "src-direct"],
  [RTCF_REDIRECTED, "redirected"],
  [RTCF_DOREDIRECT, "redirect"],
  [RTCF_FAST, "fastroute"],
  [RTCF_NOTIFY, "notify"],
  [RTCF_TPROXY, "proxy"],
];

/**
 * RTA_METRICS' keys as the typed layer names them, with ip's names, in RTAX_* order (ip's
 * mx_names; the congestion control algorithm is "congctl" in text, "congestion" in JSON).
 */
const METRICS: [string, string][] = [
  ["mtu", "mtu"],
  ["window", "window"],
  ["rtt", "rtt"],
  ["rttvar", "rttvar"],
  ["ssthresh", "ssthresh"],
  ["cwnd", "cwnd"],
  ["advmss", "advmss"],
  ["reordering", "reordering"],
  ["hoplimit", "hoplimit"],
  ["initcwnd", "initcwnd"],
  ["features", "features"],
  ["rtoMin", "rto_min"],
  ["initrwnd", "initrwnd"],
  ["quickack", "quickack"],
  ["ccAlgo", "congestion"],
  ["fastopenNoCookie", "fastopen_no_cookie"],
];

/** The metrics a route's text shows with "lock" (RTAX_LOCK), kept out of its JSON. */
const LOCKED = Symbol("locked metrics");

/** A route's metrics as ip -j shows them (ip/iproute.c print_rta_metrics); see {@linkcode LOCKED}. */
function metricsJson(metrics: Record<string, number | string>): Record<string, unknown> {
  const out: Record<string | symbol, unknown> = {};
  const lock = (metrics.lock as number | undefined) ?? 0;
  const locked: string[] = [];
  METRICS.forEach(([key, name], i) => {
    const bit = 1 << (i + 2); // RTAX_MTU is 2
    if (metrics[key] === undefined && !(lock & bit)) return;
    const value = metrics[key] ?? 0;
    if (key === "hoplimit" && value === 0xffff_ffff) return;
    if (lock & bit) locked.push(name);
    if (key === "features") {
      const features = value as number;
      if (features & RTAX_FEATURE_ECN) out.ecn = null;
      if (features & ~RTAX_FEATURE_ECN) out.features = `0x${features.toString(16)}`;
    } else if (key === "rtt") out[name] = Math.trunc((value as number) / 8);
    else if (key === "rttvar") out[name] = Math.trunc((value as number) / 4);
    else out[name] = value;
  });
  out[LOCKED] = locked;
  return out;
}

/** A route's metrics as ip prints them: "mtu lock 1300 advmss 1200 rtt 25ms congctl cubic". */
function metricsText(metrics: Record<string | symbol, unknown>): string[] {
  const locked = (metrics[LOCKED] ?? []) as string[];
  const parts: string[] = [];
  for (const [key, value] of Object.entries(metrics)) {
    const name = key === "congestion" ? "congctl" : key;
    // RTAX_FEATURES: "features ecn", then any other bits in hex (after ecn, or alone).
    const feature = key === "ecn" || key === "features";
    if (!(key === "features" && "ecn" in metrics)) {
      parts.push(feature ? "features" : name);
      if (locked.includes(feature ? "features" : key)) parts.push("lock");
    }
    if (key === "ecn") {
      parts.push("ecn");
      continue;
    }
    const time = key === "rtt" || key === "rttvar" || key === "rto_min";
    const ms = value as number;
    parts.push(time ? (ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`) : String(value));
  }
  return parts;
}

/** RTA_PREF values as ip names them. */

/**
 * A gateway as ip -j shows it: `gateway`, or `via: { family, host }` for an IPv4 route's IPv6
 * gateway (RTA_VIA; the kernel turns an IPv4 RTA_VIA into RTA_GATEWAY).
 */
function gatewayJson(family: Route["family"], gateway: string): Record<string, unknown> {
  return family === "inet" && gateway.includes(":")
    ? { via: { family: "inet6", host: gateway } }
    : { gateway };
}

/** A gateway as ip prints it: "via ADDRESS", or "via inet6 ADDRESS" (RTA_VIA). */
function gatewayText(r: Record<string, unknown>): string[] {
  if (r.gateway !== undefined) return ["via", String(r.gateway)];
  const via = r.via as { family: string; host: string } | undefined;
  return via ? ["via", via.family, via.host] : [];
}

/** LWTUNNEL_ENCAP_* (<linux/lwtunnel.h>) as ip names them (format_encap_type). */
const ENCAP_TYPES = [
  "none",
  "mpls",
  "ip",
  "ila",
  "ip6",
  "seg6",
  "bpf",
  "seg6local",
  "rpl",
  "ioam6",
  "xfrm",
];

/**
 * Where a route with an encapsulation keeps its own dst and tos for its line: ip -j prints the
 * encapsulation's dst and tos under the same keys, which a parser reads as one key each, the
 * last value in the first's place (`{"dst":"1.2.3.4","encap":"ip",...}`), as the JSON here has it.
 */
const ENCAP = Symbol("route's own dst and tos, and its encapsulation's words");

interface EncapLine {
  dst: unknown;
  tos: unknown;
  words: string[];
}

/**
 * A route's lightweight-tunnel encapsulation as ip prints it (lwt_print_encap): its type, and an
 * ip or ip6 tunnel key's fields (print_encap_ip, print_encap_ip6); the key/value pairs in ip's
 * order, with the words of its line.
 */
function encapFields(type: number, encap: Uint8Array | undefined): [[string, unknown][], string[]] {
  const name = ENCAP_TYPES[type] ?? "unknown";
  const fields: [string, unknown][] = [["encap", name]];
  const words = ["encap", name];
  if (encap === undefined || (type !== 2 && type !== 4)) return [fields, words];
  const v6 = type === 4;
  const attrs = new Map(decodeAttributes(encap).map((a) => [a.type, a]));
  const put = (key: string, value: unknown, text = String(value)) => {
    fields.push([key, value]);
    words.push(key, text);
  };
  // LWTUNNEL_IP(6)_ID (be64), SRC, DST, TTL or HOPLIMIT, TOS or TC, FLAGS (be16 TUNNEL_*).
  const id = attrs.get(1);
  if (id) put("id", Number(id.u64be()), id.u64be().toString());
  for (const [type, key] of [[3, "src"], [2, "dst"]] as const) {
    const address = attrs.get(type)?.value;
    if (address) put(key, formatIP(address));
  }
  const ttl = attrs.get(4);
  if (ttl) put(v6 ? "hoplimit" : "ttl", ttl.u8());
  const tos = attrs.get(5);
  if (tos) put(v6 ? "tc" : "tos", tos.u8());
  const flags = attrs.get(6)?.u16be() ?? 0;
  for (const [bit, key] of [[0x04, "key"], [0x01, "csum"], [0x08, "seq"]] as const) {
    if (flags & bit) {
      fields.push([key, true]);
      words.push(key);
    }
  }
  return [fields, words];
}

/**
 * A route with `ip -j route show`'s names and rules (ip/iproute.c print_route): the table when it
 * is not main (and no table was asked for), the protocol unless "boot", the scope unless
 * "global"; neither for a cached lookup result, which gets `cache` instead.
 */
export function routeJson(r: Route, tableAsked: boolean): Record<string, unknown> {
  const raw = r.raw as unknown as Record<string, unknown>;
  const cloned = ((raw.rtmFlags as number) & RTM_F_CLONED) !== 0;
  const out: Record<string, unknown> = {};
  if (r.type !== "unicast") out.type = r.type;
  out.dst = r.dst;
  if (r.src !== undefined) out.from = r.src;
  if (r.nhid !== undefined) out.nhid = r.nhid;
  const tos = r.tos ? dsfieldName(r.tos) : undefined;
  if (raw.encapType !== undefined) {
    const [fields, words] = encapFields(raw.encapType as number, raw.encap as Uint8Array);
    for (const [key, value] of fields) out[key] = value;
    (out as Record<symbol, EncapLine>)[ENCAP] = { dst: r.dst, tos, words };
  }
  if (tos !== undefined) out.tos = tos;
  if (r.gateway !== undefined) Object.assign(out, gatewayJson(r.family, r.gateway));
  if (r.dev !== undefined) out.dev = r.dev;
  const table = (raw.table ?? raw.rtmTable) as number;
  if (table && table !== RT_TABLE_MAIN && !tableAsked) out.table = tableName(table);
  if (!cloned) {
    if (raw.rtmProtocol !== RTPROT_BOOT) out.protocol = protocolName(raw.rtmProtocol as number);
    if (raw.rtmScope !== RT_SCOPE_UNIVERSE) out.scope = scopeName(raw.rtmScope as number);
  }
  if (r.prefsrc !== undefined) out.prefsrc = r.prefsrc;
  if (r.metric !== undefined) out.metric = r.metric;
  out.flags = r.flags;
  if (raw.mark) out.mark = raw.mark;
  if (raw.flow !== undefined) {
    // RTA_FLOW: the source realm in the high 16 bits, the destination's in the low ones.
    const flow = raw.flow as number;
    out.flow = {
      ...(flow >>> 16 ? { from: realmName(flow >>> 16) } : {}),
      to: realmName(flow & 0xffff),
    };
  }
  if (raw.uid !== undefined) out.uid = raw.uid;
  if (cloned && r.family === "inet") {
    const flags = raw.rtmFlags as number;
    out.cache = CACHE_FLAGS.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
  }
  if (r.expires !== undefined) out.expires = r.expires;
  const cacheinfo = raw.cacheinfo as { rtaError: number } | undefined;
  if (cacheinfo?.rtaError) out.error = cacheinfo.rtaError;
  const metrics = raw.metrics as Record<string, number | string> | undefined;
  if (metrics !== undefined) out.metrics = [metricsJson(metrics)];
  if (r.pref !== undefined) out.pref = r.pref;
  if (r.nexthops) {
    out.nexthops = r.nexthops.map((nh) => ({
      ...(nh.gateway === undefined ? {} : gatewayJson(r.family, nh.gateway)),
      ...(nh.dev === undefined ? {} : { dev: nh.dev }),
      weight: nh.weight ?? 1,
      flags: nh.flags ?? [],
    }));
  }
  return out;
}

/**
 * A route's line as `ip route show` prints it, trailing space included (a multipath route's
 * paths on lines below).
 */
export function routeText(r: Record<string, unknown>): string {
  const parts: string[] = [];
  const encap = (r as Record<symbol, EncapLine | undefined>)[ENCAP];
  if (r.type !== undefined) parts.push(String(r.type));
  parts.push(String(encap ? encap.dst : r.dst));
  if (r.from !== undefined) parts.push("from", String(r.from));
  if (r.nhid !== undefined) parts.push("nhid", String(r.nhid));
  // As ip: " encap %s " after the destination, two spaces before it.
  if (encap) parts.push("", ...encap.words);
  const tos = encap ? encap.tos : r.tos;
  if (tos !== undefined) parts.push("tos", String(tos));
  parts.push(...gatewayText(r));
  if (r.dev !== undefined) parts.push("dev", String(r.dev));
  if (r.table !== undefined) parts.push("table", String(r.table));
  if (r.protocol !== undefined) parts.push("proto", String(r.protocol));
  if (r.scope !== undefined) parts.push("scope", String(r.scope));
  if (r.prefsrc !== undefined) parts.push("src", String(r.prefsrc));
  if (r.metric !== undefined) parts.push("metric", String(r.metric));
  parts.push(...(r.flags as string[]));
  // As ip: a mark below 16 in decimal, others in hex.
  if (r.mark !== undefined) {
    const mark = r.mark as number;
    parts.push("mark", mark < 16 ? String(mark) : `0x${mark.toString(16)}`);
  }
  const flow = r.flow as { from?: string; to: string } | undefined;
  if (flow) parts.push(...(flow.from ? ["realms", `${flow.from}/${flow.to}`] : ["realm", flow.to]));
  if (r.uid !== undefined) parts.push("uid", String(r.uid));
  const cache = r.cache as string[] | undefined;
  if (cache) parts.push("\n    cache", ...(cache.length ? [`<${cache.join(",")}>`] : []));
  if (r.expires !== undefined) parts.push("expires", `${r.expires}sec`);
  if (r.error !== undefined) parts.push("error", String(r.error));
  for (const metrics of (r.metrics ?? []) as Record<string, unknown>[]) {
    parts.push(...metricsText(metrics));
  }
  if (r.iif !== undefined) parts.push("iif", String(r.iif));
  // As ip: every field followed by a space but the preference, the last on its line.
  let text = `${parts.join(" ")} `;
  if (r.pref !== undefined) text += `pref ${r.pref}`;
  // A multipath route's paths on lines of their own.
  for (const hop of (r.nexthops ?? []) as Record<string, unknown>[]) {
    const path = ["\n\tnexthop"];
    path.push(...gatewayText(hop));
    if (hop.dev !== undefined) path.push("dev", String(hop.dev));
    path.push("weight", String(hop.weight), ...(hop.flags as string[]));
    text += `${path.join(" ")} `;
  }
  return text;
}

const ROUTE_KEYS = [
  "vrf",
  "realm",
  "realms",
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
  "scope",
  "tos",
];

/** A link's name where ip checks one (get_ifname); otherwise a UsageError in its words. */
function ipLinkName(name: string, invalid: string): string {
  if (!isIpLinkName(name)) throw invalidArgument(name, invalid);
  return name;
}

/**
 * A table number as the route API takes it: 0 (RT_TABLE_UNSPEC, which the kernel reads as main
 * for a route) by the name the API knows it by, which its type leaves out.
 */
function tableOption(id: number): NewRoute["table"] {
  return id === 0 ? "unspec" as NewRoute["table"] : id;
}

/** What `route add|del|replace` take of ROUTE_KEYS. */
const ROUTE_CHANGE_KEYS = ["via", "dev", "table", "metric", "type", "proto", "src", "scope"];

/**
 * The keywords of `ip route show` and `ip route flush` (iproute_list_flush_or_save), in the order
 * it tries them, each with how it is matched ("exact", or "prefix": a beginning of the word, as
 * iproute2's matches(), so "ta" is table and "pri" priority) and the name it has here.
 */
const ROUTE_SHOW_WORDS: readonly (readonly [string, "exact" | "prefix", string])[] = [
  ["table", "prefix", "table"],
  ["vrf", "prefix", "vrf"],
  ["cached", "prefix", "cached"],
  ["cloned", "prefix", "cached"],
  ["tos", "exact", "tos"],
  ["dsfield", "prefix", "tos"],
  ["protocol", "prefix", "proto"],
  ["scope", "prefix", "scope"],
  ["type", "prefix", "type"],
  ["dev", "exact", "dev"],
  ["oif", "exact", "oif"],
  ["iif", "exact", "iif"],
  ["mark", "exact", "mark"],
  ["metric", "prefix", "metric"],
  ["priority", "prefix", "metric"],
  ["preference", "exact", "metric"],
  ["via", "exact", "via"],
  ["src", "exact", "src"],
  ["realms", "prefix", "realms"],
  ["from", "prefix", "from"],
];

/** Which of root, match and exact `word` is as ip matches them ("ro", "ma", "e"), if any. */
const prefixKind = (word: string) =>
  ["root", "match", "exact"].find((kind) => abbreviates(word, kind));

/**
 * `route show` or `flush`'s words with ip's spellings of its keywords (ROUTE_SHOW_WORDS) as they
 * are named here, their values untouched; of the others, `root`, `match` and `exact` as ip
 * matches them ("ro", "ma", "ex"), the rest (prefixes, "to") as they are.
 */
function routeShowWords(words: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    const found = ROUTE_SHOW_WORDS.find(([keyword, how]) =>
      how === "exact" ? word === keyword : abbreviates(word, keyword)
    )?.[2];
    if (found === undefined) {
      out.push(prefixKind(word) ?? word);
      continue;
    }
    out.push(found);
    if (found === "cached" || i + 1 >= words.length) continue;
    const value = words[++i];
    // from [root|match|exact] PREFIX
    const kind = found === "from" ? prefixKind(value) : undefined;
    out.push(kind ?? value);
  }
  return out;
}

/**
 * A destination prefix of `route show [to] [root|match|exact] PREFIX`, as ip's get_prefix reads
 * it: "default" is a length of 0 (`specified`), "all" or "any" selects nothing unless a family
 * was given (-4, -6).
 */
interface DstPrefix {
  /** 2 or 10; 0: any (ip's AF_UNSPEC). */
  readonly family: number;
  readonly address: Uint8Array;
  readonly bits: number;
  /** A length was written (or "default"): it bounds the route's length without a family. */
  readonly specified: boolean;
}

/**
 * An IPv4 address as ip's get_addr_ipv4 reads one: up to four parts split by dots, each a number
 * up to 255 as strtoul reads one in base 0 (hex after 0x, octal after a leading 0); the parts
 * left out are 0 ("10.8" is 10.8.0.0).
 */
function ipv4Parts(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length > 4) return undefined;
  const bytes = new Uint8Array(4);
  for (const [i, part] of parts.entries()) {
    const value = unsigned(part, 255);
    if (value === undefined) return undefined;
    bytes[i] = value;
  }
  return bytes;
}

/** A prefix length as ip's get_netmask reads one: a number, or a dotted netmask ("255.0.0.0"). */
function netmaskBits(text: string): number | undefined {
  const bits = unsigned(text);
  if (bits !== undefined) return bits;
  const mask = ipv4Parts(text);
  if (mask === undefined) return undefined;
  const value = new DataView(mask.buffer).getUint32(0);
  const host = ~value >>> 0;
  if ((host & (host + 1)) !== 0) return undefined; // not 2^n - 1: no netmask
  return 32 - Math.log2(host + 1);
}

/**
 * `PREFIX` as ip's get_prefix reads it for `family` (0: any): "default" (of no family, no
 * address; of one, its zero address), "all" or "any" (no address), an IPv6 address, or an IPv4
 * one as ip reads it ({@linkcode ipv4Parts}), each with an optional "/LENGTH" (a number or a
 * netmask; not after default, all or any), of at most the family's length. Undefined otherwise.
 */
function ipPrefix(text: string, family: number): DstPrefix | undefined {
  const slash = text.indexOf("/");
  const address = slash < 0 ? text : text.slice(0, slash);
  let found: { family: number; address: Uint8Array };
  if (address === "default" || address === "all" || address === "any") {
    if (slash >= 0) return undefined;
    const length = address === "default" ? (family === 2 ? 4 : family === 10 ? 16 : 0) : 0;
    return { family, address: new Uint8Array(length), bits: 0, specified: address === "default" };
  } else if (address.includes(":")) {
    if (family !== 0 && family !== 10) return undefined;
    try {
      found = { family: 10, address: parseIP(address, "prefix") };
    } catch {
      return undefined;
    }
    if (found.address.length !== 16) return undefined;
  } else {
    if (family !== 0 && family !== 2) return undefined;
    const bytes = ipv4Parts(address);
    if (bytes === undefined) return undefined;
    found = { family: 2, address: bytes };
  }
  const full = found.address.length * 8;
  const bits = slash < 0 ? full : netmaskBits(text.slice(slash + 1));
  if (bits === undefined || bits > full) return undefined;
  return { ...found, bits, specified: slash >= 0 };
}

/** ip's family number of `family` (-4, -6): 0 for any. */
const familyNumber = (family: Global["family"]) =>
  family === "inet" ? 2 : family === "inet6" ? 10 : 0;

/** ip's name of family number `family` in its errors (family_name_verbose). */
const familyText = (family: number) =>
  family === 2 ? "inet" : family === 10 ? "inet6" : "any valid";

/** `PREFIX` as ip reads it for `route show`; an Error in ip's words (status 1) otherwise. */
export function dstPrefix(text: string, family: Global["family"]): DstPrefix {
  const prefix = ipPrefix(text, familyNumber(family));
  if (prefix !== undefined) return prefix;
  throw new Error(`${family ?? "any valid"} prefix is expected rather than ${shown(text)}.`);
}

/**
 * `PREFIX` as ip's get_prefix reads it ("10/8" is 10.0.0.0/8, a netmask is a length), written
 * out for the library: "default", "all" and "any" of no family are "default" (as ip: "all" and
 * "any" are no address, the whole space: `route add all` adds the default route); an Error in
 * ip's words (status 1) for what it refuses.
 */
function prefixText(text: string, family: Global["family"]): string {
  const prefix = dstPrefix(text, family);
  return prefix.address.length === 0 ? "default" : `${formatIP(prefix.address)}/${prefix.bits}`;
}

/**
 * `ADDRESS` as ip's get_addr reads it ("10.9.1" is 10.9.1.0), written out: a gateway, a source
 * or a neighbour. Not as ip: "all" and "any", no address, which ip sends as an empty attribute
 * the kernel refuses ("Attribute failed policy validation", status 2) or refuses itself
 * (`neigh add all`, 255), are refused here before any request, in ip's words for an address it
 * cannot read (status 1): one address is asked for, and "all" is none.
 */
function ipAddressText(text: string, family: Global["family"]): string {
  const found = ipPrefix(text, familyNumber(family));
  if (found === undefined || text.includes("/") || text === "all" || text === "any") {
    throw new Error(`${family ?? "any valid"} address is expected rather than ${shown(text)}.`);
  }
  return found.address.length === 0 ? text : formatIP(found.address);
}

/** The first `bits` bits of `a` and `b` are the same (ip's inet_addr_match). */
function sameBits(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  for (let i = 0; i < bits; i += 8) {
    const mask = bits - i >= 8 ? 0xff : (0xff00 >> (bits - i)) & 0xff;
    if (((a[i / 8] ?? 0) ^ (b[i / 8] ?? 0)) & mask) return false;
  }
  return true;
}

/**
 * Whether route `r` is selected by `root` (its prefix lies within: ip's rdst) and `match` (it
 * covers the prefix: ip's mdst), as ip's filter_nlmsg decides; `exact PREFIX` is both.
 */
function selectedDst(r: Route, root?: DstPrefix, match?: DstPrefix, prefix = r.dst): boolean {
  const family = r.family === "inet" ? 2 : r.family === "inet6" ? 10 : -1;
  const dst = prefix === "default"
    ? { address: new Uint8Array(0), prefixLength: 0 }
    : parsePrefix(prefix);
  const length = dst.prefixLength;
  if (root !== undefined) {
    if (root.family && (family !== root.family || root.bits > length)) return false;
    if (!root.family && root.specified && root.bits > length) return false;
    if ((root.family || root.specified) && !sameBits(dst.address, root.address, root.bits)) {
      return false;
    }
  }
  if (match !== undefined) {
    if (match.family && (family !== match.family || match.bits < length)) return false;
    if (!match.family && match.specified && match.bits < length) return false;
    if ((match.family || match.specified) && !sameBits(dst.address, match.address, length)) {
      return false;
    }
  }
  return true;
}

/**
 * `words` without their `from [root|match|exact] PREFIX` selectors, and those selectors' words
 * (`[root|match|exact] PREFIX` each, for {@linkcode dstSelectors}), as ip's iproute_list reads a
 * source prefix.
 */
function fromOperands(words: string[]): [string[], string[]] {
  const rest: string[] = [];
  const from: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (words[i] !== "from") {
      rest.push(words[i]);
      continue;
    }
    const kind = words[++i];
    if (kind === undefined) throw new UsageError("Command line is not complete. Try --help");
    from.push(kind);
    if (["root", "match", "exact"].includes(kind)) {
      if (words[++i] === undefined) {
        throw new UsageError("Command line is not complete. Try --help");
      }
      from.push(words[i]);
    }
  }
  return [rest, from];
}

/** The `[to] [root|match|exact] PREFIX` selectors of `route show` (the last of each wins). */
function dstSelectors(words: string[], family: Global["family"]) {
  let root: DstPrefix | undefined;
  let match: DstPrefix | undefined;
  for (let i = 0; i < words.length; i++) {
    if (words[i] === "to") i++;
    const kind = ["root", "match", "exact"].includes(words[i]) ? words[i++] : "exact";
    if (words[i] === undefined) throw new UsageError("Command line is not complete. Try --help");
    const prefix = dstPrefix(words[i], family);
    if (kind !== "match") root = prefix;
    if (kind !== "root") match = prefix;
  }
  return { root, match };
}

/** The families ip's read_family names, which `via` may be given before its address. */
const VIA_FAMILIES: Record<string, Global["family"] | null> = {
  inet: "inet",
  inet6: "inet6",
  // The route API writes no gateway of these (MPLS labels, link-layer addresses).
  link: null,
  ipx: null,
  dnet: null,
  mpls: null,
  bridge: null,
};

/**
 * `words` without the family of `via [FAMILY] ADDRESS` (as ip's iproute_modify takes it), and
 * that family: "inet6" makes an IPv4 route's gateway IPv6 (RTA_VIA, RFC 5549).
 */
function viaFamily(words: string[]): [string[], Global["family"]] {
  const at = words.indexOf("via");
  const name = words[at + 1];
  if (at < 0 || name === undefined || !(name in VIA_FAMILIES)) return [words, undefined];
  const family = VIA_FAMILIES[name];
  if (family === null) {
    throw new UsageError(`"via ${name}" is not supported: via [inet|inet6] ADDRESS`);
  }
  if (words[at + 2] === undefined) throw new UsageError("Command line is not complete. Try --help");
  return [[...words.slice(0, at + 1), ...words.slice(at + 2)], family];
}

/** A route's second gateway, which ip refuses (its invarg) rather than take the last. */
function secondVia(): UsageError {
  return invalidArgument("via", "use nexthop syntax to specify multiple via");
}

/** The family of an address or prefix ("10.0.0.0/8"); undefined for "default" or no address. */
function prefixFamily(text: string): Global["family"] {
  const family = ipFamily(text.split("/")[0]);
  return family === 2 ? "inet" : family === 10 ? "inet6" : undefined;
}

/**
 * The gateway of `via [FAMILY] ADDRESS` as ip's get_addr takes it, written out: of the family
 * named, else of the route's (-4, -6, the destination's; any for "default"), an IPv4 one as ip
 * reads it ("1.2.3" is 1.2.3.0, "012.9.0.0x9" 10.9.0.9: the kernel refuses what it cannot
 * reach), "default" the family's zero address (IPv4's for any), which the kernel takes for no
 * gateway; an Error in ip's words (status 1) otherwise, as `via 2001:db8::9` for an IPv4 route
 * (ip wants `via inet6` there) and "all" or "any" ({@linkcode ipAddressText}).
 */
function gatewayOperand(
  text: string,
  named: Global["family"],
  dst: string,
  global: Global,
): string {
  const family = named ?? global.family ?? prefixFamily(dst);
  return ipAddressText(text, family ?? (text === "default" ? "inet" : undefined));
}

/** `route show`'s via, src, mark and realms selectors, read as ip's iproute_list reads them. */
function routeShowSelectors(
  kw: Record<string, string>,
  viaNamed: Global["family"],
  family: Global["family"],
) {
  const prefix = (text: string, of: Global["family"]) => {
    const found = dstPrefix(text, of);
    // "all" or "any" of no family: no address, nothing selected (as ip's family 0).
    return found.family === 0 ? undefined : found;
  };
  const realmsText = kw.realms ?? kw.realm;
  let realms: { realm: number; mask: number } | undefined;
  if (realmsText !== undefined) {
    const realm = ipOperand(realmsId, realmsText, "invalid realms");
    // As ip: a part not given (no "FROM/", or "FROM/" with no TO) is any.
    let mask = 0xffff_ffff;
    if ((realm & 0xffff) === 0 && realmsText.endsWith("/")) mask &= ~0xffff;
    if ((realm >>> 16) === 0 && (!realmsText.includes("/") || realmsText.startsWith("/"))) {
      mask &= 0xffff;
    }
    realms = { realm, mask: mask >>> 0 };
  }
  return {
    via: kw.via === undefined ? undefined : prefix(kw.via, viaNamed ?? family),
    prefsrc: kw.src === undefined ? undefined : prefix(kw.src, family),
    mark: kw.mark === undefined ? undefined : ipNumber(kw.mark, "invalid mark value"),
    realms,
  };
}

/** The bytes of `address`, or zeros of `family`'s length where there is none (ip's inet_prefix). */
function addressBytes(address: string | undefined, family: number): Uint8Array {
  return address === undefined ? new Uint8Array(family === 10 ? 16 : 4) : parseIP(address);
}

/**
 * Whether route `r` goes via `via` as ip's filter_nlmsg decides: its gateway (RTA_GATEWAY, or
 * RTA_VIA of another family) is of the family asked for and within the prefix; a route with no
 * gateway (a multipath route's are its paths') has none, the family's zero address.
 */
function selectedVia(r: Route, via: DstPrefix | undefined): boolean {
  if (via === undefined) return true;
  const own = r.family === "inet6" ? 10 : 2;
  const family = r.gateway === undefined ? own : ipFamily(r.gateway);
  if (family !== via.family) return false;
  return sameBits(addressBytes(r.gateway, family), via.address, via.bits);
}

/** Whether a route's `address` (its prefsrc) is of the prefix's family and within it. */
function selectedAddress(r: Route, address: string | undefined, prefix?: DstPrefix): boolean {
  if (prefix === undefined) return true;
  const family = r.family === "inet6" ? 10 : 2;
  if (family !== prefix.family) return false;
  return sameBits(addressBytes(address, family), prefix.address, prefix.bits);
}

/** `route show|get|add|del|replace`. */
export async function routeCommand(args: string[], global: Global, out: Output): Promise<void> {
  const [action, operands] = verb(
    args,
    ["show", "get", "add", "delete", "replace", "flush"],
    IP_SUBCOMMANDS.route,
  );
  if (action === "get") return await routeGet(operands, global, out);
  // As ip: a flush of the main table's every route is refused (status 1).
  if (action === "flush" && operands.length === 0) {
    throw new Error(`"ip route flush" requires arguments.`);
  }
  const selecting = action === "show" || action === "flush";
  const [rest, viaNamed] = viaFamily(selecting ? routeShowWords(operands) : operands);
  // As ip: `route show from [root|match|exact] PREFIX` selects by the source prefix (RTA_SRC).
  const [others, fromWords] = selecting ? fromOperands(rest) : [rest, []];
  const [kw, positional] = keywords(others, ROUTE_KEYS, { via: secondVia });
  if (selecting) {
    // As ip: "cache" (or "cached", "cloned") or "table cache" lists the main table's cache.
    const words = positional.filter((word) => !["cache", "cached", "cloned"].includes(word));
    const cached = words.length < positional.length || kw.table === "cache";
    if (kw.table === "cache") delete kw.table;
    if (cached && action === "flush") {
      throw new UsageError("route flush cache (the kernel's route cache) is not supported");
    }
    const { root, match } = dstSelectors(words, global.family);
    const from = dstSelectors(fromWords, global.family);
    // As ip: "oif" is "dev" (the last given of either, as ip reads them in turn).
    const devKey = others.findLast((word) => word === "dev" || word === "oif");
    if (devKey !== undefined) kw.dev = kw[devKey];
    delete kw.oif;
    // As ip: "proto all" selects nothing (and the protocol is shown then).
    if (kw.proto === "all") delete kw.proto;
    // As ip: `vrf NAME` is its table, without the local and broadcast routes; the last of table
    // and vrf counts.
    if (others.findLast((word) => word === "table" || word === "vrf") === "vrf") delete kw.table;
    else delete kw.vrf;
    // As ip: table 0 (or a name for it, "unspec") is every table, as "all" is.
    const tableNumber = kw.table === undefined || kw.table === "all"
      ? undefined
      : ipOperand(tableId, kw.table, "table id value is invalid");
    let table: number | "all" | undefined = kw.table === undefined
      ? undefined
      : tableNumber || "all";
    let iif: number | undefined;
    const routes = await withRoute(global, async (ip) => {
      const family = global.family ?? "inet";
      if (kw.vrf !== undefined) {
        const vrf = await ip.link.find(kw.vrf);
        if (vrf?.kind !== "vrf") throw invalidArgument(kw.vrf, "Invalid VRF");
        table = (vrf.data as { table?: number } | undefined)?.table ?? RT_TABLE_MAIN;
      }
      // As ip: the incoming link of the routes that have one (RTA_IIF), a link that is there.
      if (kw.iif !== undefined) iif = await contextOf(ip).ifindex(kw.iif, "iif");
      const listed = await ip.route.list({
        // As ip: IPv4 only unless -6, or every family with "table all".
        ...(global.family || table !== "all" ? { family } : {}),
        ...(table === undefined ? {} : { table }),
        ...(kw.dev ? { dev: kw.dev } : {}),
        ...(kw.proto !== undefined
          ? { protocol: ipOperand(protocolId, kw.proto, "invalid \"protocol\"") }
          : {}),
        ...(kw.type !== undefined
          ? { type: ipOperand(routeTypeId, kw.type, "node type value is invalid") }
          : {}),
        ...(cached ? { cached } : {}),
      });
      // As ip: a table the kernel never made is its error (status 2), where route.list() lists
      // it empty.
      if (listed.length === 0 && typeof table === "number") {
        const ctx = contextOf(ip);
        const request = {
          rtmFamily: family === "inet" ? 2 : 10,
          rtmTable: table < 256 ? table : 0,
          table,
        };
        await ctx.list("route list", () => ctx.route.dump("getroute", request as never));
      }
      return listed;
    });
    // As ip's filter_nlmsg: the scope ("all": any), metric and TOS asked for, each then not
    // printed (nor the device and protocol asked for; the type is).
    const scope = kw.scope === undefined || kw.scope === "all"
      ? undefined
      : ipOperand(scopeId, kw.scope, "invalid \"scope\"");
    const metric = kw.metric === undefined
      ? undefined
      : ipNumber(kw.metric, "\"metric\" value is invalid");
    const tos = kw.tos === undefined
      ? undefined
      : ipOperand(dsfieldId, kw.tos, "TOS value is invalid");
    const { via, prefsrc, mark, realms } = routeShowSelectors(kw, viaNamed, global.family);
    const selected = routes.filter((r) =>
      selectedDst(r, root, match)
      && selectedDst(r, from.root, from.match, r.src ?? "default")
      && (scope === undefined || r.raw.rtmScope === scope)
      && (metric === undefined || (r.metric ?? 0) === metric)
      && (tos === undefined || (r.tos ?? 0) === tos)
      && selectedVia(r, via)
      && selectedAddress(r, r.prefsrc, prefsrc)
      && (mark === undefined || (r.raw.mark ?? 0) === mark)
      && (realms === undefined || (((r.raw.flow ?? 0) ^ realms.realm) & realms.mask) === 0)
      && (iif === undefined || (r.raw.iif ?? 0) === iif)
      && (kw.vrf === undefined || (r.type !== "local" && r.type !== "broadcast"))
    );
    if (action === "flush") return await withRoute(global, (ip) => flushRoutes(ip, selected));
    const shown = selected.map((r) => {
      const route = routeJson(r, table !== undefined && table !== "all");
      if (kw.dev) delete route.dev;
      if (kw.proto) delete route.protocol;
      if (scope !== undefined) delete route.scope;
      if (metric !== undefined) delete route.metric;
      if (tos !== undefined) delete route.tos;
      // As ip's print_route: a gateway or source asked for as a whole address, and realms asked
      // for both ways, are not printed.
      const hostBits = r.family === "inet6" ? 128 : 32;
      if (via?.bits === hostBits) {
        delete route.gateway;
        delete route.via;
      }
      if (prefsrc?.bits === hostBits) delete route.prefsrc;
      if (realms?.mask === 0xffff_ffff) delete route.flow;
      return route;
    });
    if (global.json) json(global, out, shown);
    else for (const r of shown) out(routeText(r));
    return;
  }
  // As ip: a route type may come first ("route add blackhole 10.0.0.0/8").
  const first = positional[0];
  const typeWord = first !== undefined && !/^[0-9]/.test(first) && routeTypeId(first) !== undefined
    ? positional.shift()
    : undefined;
  if (typeWord !== undefined) kw.type ??= typeWord;
  const [target, ...extra] = positional;
  if (target === undefined) throw new UsageError(`route ${action} needs an address or prefix`);
  if (extra.length) throw unexpected(extra[0]);
  // A lookup's keywords (from, mark, oif, iif) were ignored here: refused, as ip refuses "mark".
  const ignored = Object.keys(kw).find((key) => !ROUTE_CHANGE_KEYS.includes(key));
  if (ignored !== undefined) throw unexpected(ignored);
  const dst = prefixText(target, global.family);
  const spec: NewRoute = {
    dst,
    ...(global.family ? { family: global.family } : {}),
    ...(kw.via ? { gateway: gatewayOperand(kw.via, viaNamed, dst, global) } : {}),
    ...(kw.dev ? { dev: kw.dev } : {}),
    ...(kw.table !== undefined
      ? { table: tableOption(ipOperand(tableId, kw.table, "\"table\" value is invalid")) }
      : {}),
    ...(kw.metric !== undefined
      ? { metric: ipNumber(kw.metric, "\"metric\" value is invalid") }
      : {}),
    ...(kw.type !== undefined
      ? { type: ipOperand(routeTypeId, kw.type, "node type value is invalid") }
      : {}),
    ...(kw.proto !== undefined
      ? { protocol: ipOperand(protocolId, kw.proto, "\"protocol\" value is invalid") }
      : {}),
    ...(kw.src ? { prefsrc: ipAddressText(kw.src, global.family ?? prefixFamily(dst)) } : {}),
    ...(kw.scope !== undefined
      ? { scope: ipOperand(scopeId, kw.scope, "invalid \"scope\" value") }
      : {}),
  } as NewRoute;
  await withRoute(global, (ip) =>
    action === "add"
      ? ip.route.add(spec)
      : action === "replace"
      ? ip.route.replace(spec)
      : ip.route.delete(spec));
}

/**
 * Deletes each route as ip's flush does (the listed message as RTM_DELROUTE, printing nothing),
 * but IPv6's null entry (unreachable default of metric 2^32-1, which ip leaves too); one gone
 * already (ESRCH: with its link, its nexthop) as deleted.
 */
async function flushRoutes(ip: RouteClient, routes: Route[]): Promise<void> {
  for (const r of routes) {
    if (r.family === "inet6" && r.dst === "default" && r.type === "unreachable") {
      if (r.metric === 0xffff_ffff) continue;
    }
    await ip.route.delete(r).catch((error) => {
      if (!(error instanceof NetlinkError && error.code === "ESRCH")) throw error;
    });
  }
}

/**
 * The words of `ip route get` (iproute_get), in the order it tries them, each with how it is
 * matched: "exact", or "prefix" (iproute2's matches(): a beginning of the word, "f" is "from").
 */
const ROUTE_GET_WORDS: readonly (readonly [string, "exact" | "prefix"])[] = [
  ["tos", "exact"],
  ["dsfield", "prefix"],
  ["from", "prefix"],
  ["iif", "prefix"],
  ["mark", "prefix"],
  ["oif", "prefix"],
  ["dev", "exact"],
  ["notify", "prefix"],
  ["connected", "prefix"],
  ["vrf", "prefix"],
  ["uid", "prefix"],
  ["fibmatch", "prefix"],
  ["as", "exact"],
  ["sport", "prefix"],
  ["dport", "prefix"],
  ["ipproto", "prefix"],
];

/** The keyword of ROUTE_GET_WORDS that `word` is, if any. */
function routeGetWord(word: string): string | undefined {
  return ROUTE_GET_WORDS.find(([keyword, how]) =>
    how === "exact" ? word === keyword : abbreviates(word, keyword)
  )?.[0];
}

/**
 * `route get`, its words read as ip route get reads them, in order (ROUTE_GET_WORDS; the last of
 * each counts), the request built as it builds it: the destination (after an optional "to") a
 * prefix of the family known by then (-4/-6, else that of a prefix before it), "default", "all"
 * or "any" included; a length not the family's full one is warned about and made full, as ip
 * does. `from` takes a prefix too, sent as it is (the kernel refuses a partial length). `tos`
 * (or `dsfield`), `mark`, `uid`, `sport`, `dport` and `ipproto` go to the kernel as ip sends
 * them, `fibmatch` asks for the FIB entry rather than the route, `notify` for RTM_F_NOTIFY,
 * `vrf` NAME is the outgoing link (a VRF's), `as` an RTA_NEWDST (which the kernel refuses in a
 * lookup), and `connected` looks up again from the source the first lookup gave (without its
 * gateway and link), printing both, unless `from` was given: what ip means by it (ip 6.1 sends
 * its first request again, unchanged, and prints the same route twice). Bad words are refused
 * in ip's words and with its status.
 */
async function routeGet(words: string[], global: Global, out: Output): Promise<void> {
  let family = familyNumber(global.family);
  const request: Record<string, unknown> = { rtmTos: 0, rtmFlags: 0, rtmSrcLen: 0, rtmDstLen: 0 };
  let iif: string | undefined;
  let oif: string | undefined;
  let vrf: string | undefined;
  let mark = 0;
  let connected = false;
  let fromGiven = false;
  let addressFound = false;
  const operand = (i: number) => {
    if (words[i] === undefined) throw new UsageError("Command line is not complete. Try --help");
    return words[i];
  };
  /** get_prefix: a prefix of the family known by then, or ip's error (status 1). */
  const prefix = (text: string) => {
    const found = ipPrefix(text, family);
    if (found === undefined) {
      throw new Error(`${familyText(family)} prefix is expected rather than ${shown(text)}.`);
    }
    if (family === 0) family = found.family;
    return found;
  };
  for (let i = 0; i < words.length; i++) {
    const keyword = routeGetWord(words[i]);
    if (keyword === "tos" || keyword === "dsfield") {
      request.rtmTos = ipOperand(dsfieldId, operand(++i), "TOS value is invalid");
    } else if (keyword === "from") {
      const src = prefix(operand(++i));
      fromGiven = true;
      if (src.address.length > 0) request.src = src.address;
      else delete request.src;
      request.rtmSrcLen = src.bits;
    } else if (keyword === "iif") iif = operand(++i);
    else if (keyword === "mark") mark = ipNumber(operand(++i), "invalid mark value");
    else if (keyword === "oif" || keyword === "dev") {
      oif = operand(++i);
      vrf = undefined;
    } else if (keyword === "notify") request.rtmFlags = (request.rtmFlags as number) | RTM_F_NOTIFY;
    else if (keyword === "connected") connected = true;
    else if (keyword === "vrf") oif = vrf = operand(++i);
    else if (keyword === "uid") request.uid = ipNumber(operand(++i), "invalid UID");
    else if (keyword === "fibmatch") {
      request.rtmFlags = (request.rtmFlags as number) | RTM_F_FIB_MATCH;
    } else if (keyword === "as") {
      if (operand(++i) === "to") i++;
      const text = operand(i);
      const found = ipPrefix(text, family);
      if (found === undefined || found.specified || text === "all" || text === "any") {
        throw new Error(`${familyText(family)} address is expected rather than ${shown(text)}.`);
      }
      if (family === 0) family = found.family;
      request.newdst = found.address;
    } else if (keyword === "sport" || keyword === "dport") {
      request[keyword] = ipNumber(operand(++i), `invalid ${keyword}`, 0xffff);
    } else if (keyword === "ipproto") {
      request.ipProto = ipOperand(ipProtocolId, operand(++i), `Invalid "ipproto" value`);
    } else {
      if (words[i] === "to") i++;
      const dst = prefix(operand(i));
      if (dst.address.length > 0) request.dst = dst.address;
      else delete request.dst;
      const full = family === 2 ? 32 : family === 10 ? 128 : dst.bits;
      if (dst.bits !== full) {
        warn(
          `Warning: /${dst.bits} as prefix is invalid, only /${full} (or none) is supported.`,
        );
      }
      request.rtmDstLen = full;
      addressFound = true;
    }
  }
  if (!addressFound) throw new Error("need at least a destination address");
  await withRoute(global, async (ip) => {
    const ctx = contextOf(ip);
    // As ip: a VRF is the outgoing link, and must be one.
    if (vrf !== undefined && (await ip.link.get(vrf).catch(() => undefined))?.kind !== "vrf") {
      throw invalidArgument(vrf, "Invalid VRF");
    }
    if (iif !== undefined) request.iif = await ctx.ifindex(iif, "iif");
    if (oif !== undefined) request.oif = await ctx.ifindex(oif, "oif");
    if (mark) request.mark = mark;
    request.rtmFamily = family || 2;
    // Only IPv4 takes RTM_F_LOOKUP_TABLE.
    if (request.rtmFamily === 2) {
      request.rtmFlags = (request.rtmFlags as number) | RTM_F_LOOKUP_TABLE;
    }
    const label = `route get ${words.join(" ")}`;
    const show = (route: Route) => {
      const found = routeJson(route, false);
      // As ip: the incoming link of a forwarding lookup, by the name it was asked by.
      if (iif !== undefined && route.raw.iif !== undefined) found.iif = iif;
      if (global.json) json(global, out, [found]);
      else out(routeText(found));
    };
    const route = await lookupRoute(ctx, request, label);
    if (connected && !fromGiven) {
      // ip's second lookup: from the source the first found, without its gateway or link.
      show(route);
      const raw = route.raw as unknown as Record<string, unknown>;
      const src = raw.prefsrc ?? raw.src;
      if (src === undefined) throw new Error("Failed to connect the route");
      // The address as the codec gives it (text: its display hint), of the lookup's family.
      request.src = src;
      request.rtmSrcLen = request.rtmFamily === 10 ? 128 : 32;
      show(await lookupRoute(ctx, request, label));
    } else show(route);
  });
}

// ---- neigh ------------------------------------------------------------------------------------

/**
 * A neighbour with `ip -j neigh show`'s names; with `stats` (-s), its cache times in seconds
 * (NDA_CACHEINFO, in clock ticks: USER_HZ, 100 a second) and probes, as ip -s prints them.
 */
export function neighbourJson(
  n: Neighbour,
  devAsked: boolean,
  stats = false,
): Record<string, unknown> {
  const out: Record<string, unknown> = { dst: n.address };
  if (!devAsked && n.dev !== undefined) out.dev = n.dev;
  if (n.lladdr !== undefined) out.lladdr = n.lladdr;
  for (const flag of n.flags) if (IP_NEIGH_FLAGS.includes(flag)) out[flag] = null;
  const cache = n.raw.cacheinfo;
  if (stats && cache !== undefined) {
    if (cache.refcnt) out.refcnt = cache.refcnt;
    out.used = Math.trunc(cache.used / 100);
    out.confirmed = Math.trunc(cache.confirmed / 100);
    out.updated = Math.trunc(cache.updated / 100);
  }
  if (stats && n.raw.probes !== undefined) out.probes = n.raw.probes;
  // As ip's print_neigh: no state for state 0 (NUD_NONE), else the name of each bit it names
  // (the kernel keeps a state of several bits as it was given: STALE and PERMANENT).
  const state = n.raw.ndmState;
  if (state !== 0) out.state = NEIGH_STATE_BITS.filter(([bit]) => state & bit).map(([, s]) => s);
  // Who added it (NDA_PROTOCOL: `ip neigh add ... protocol static`), as ip prints it.
  if (n.raw.protocol) out.protocol = protocolName(n.raw.protocol);
  return out;
}

/**
 * The flags ip 6.1's print_neigh prints, in its order (the route layer's order too): not a newer
 * kernel's "extern_valid" (NTF_EXT_EXT_VALIDATED), nor the bridge FDB's "self", "master",
 * "sticky", which `ip neigh` does not show.
 */
const IP_NEIGH_FLAGS = ["router", "proxy", "managed", "extern_learn", "offload"];

/** The NUD_* bits ip's print_neigh_state names, in its order. */
const NEIGH_STATE_BITS: [number, string][] = [
  [NUD_INCOMPLETE, "INCOMPLETE"],
  [NUD_REACHABLE, "REACHABLE"],
  [NUD_STALE, "STALE"],
  [NUD_DELAY, "DELAY"],
  [NUD_PROBE, "PROBE"],
  [NUD_FAILED, "FAILED"],
  [NUD_NOARP, "NOARP"],
  [NUD_PERMANENT, "PERMANENT"],
];

/** `neigh show|add|del`. */
export async function neighCommand(args: string[], global: Global, out: Output): Promise<void> {
  const [action, rest] = verb(
    args,
    ["show", "add", "delete", "replace", "flush"],
    IP_SUBCOMMANDS.neigh,
  );
  if (action === "show" || action === "flush") {
    // As ip: a flush of every entry of every link is refused (status 1).
    if (action === "flush" && rest.length === 0) throw new Error("Flush requires arguments.");
    const [states, others] = showStates(rest, action === "flush");
    const [kw, words] = keywords(others, ["dev", "lladdr"], { dev: duplicate });
    // As ip: "proxy" lists the proxy entries instead, which the kernel lists only when asked.
    const positional = words.filter((word) => word !== "proxy");
    if (positional.length) throw unexpected(positional[0]);
    selectors(kw, ["dev", "nud"], `neigh ${action}`);
    const entries = await withRoute(global, (ip) =>
      ip.neigh.list({
        ...(global.family ? { family: global.family } : {}),
        ...(kw.dev ? { dev: kw.dev } : {}),
        ...(positional.length < words.length ? { proxy: true } : {}),
      }));
    // As ip's print_neigh: the states asked for (state 0, "none", as bit 0x100), and whatever
    // the kernel learned from outside (NTF_EXT_LEARNED) or proxies.
    const selected = entries.filter(({ raw }) =>
      (raw.ndmState === 0 ? states & NUD_NONE_BIT : states & raw.ndmState)
      || raw.ndmFlags & (NTF_PROXY | NTF_EXT_LEARNED)
    );
    // As ip's flush: each entry's RTM_DELNEIGH, nothing printed; one gone already as deleted.
    if (action === "flush") {
      return await withRoute(global, async (ip) => {
        for (const n of selected) {
          await ip.neigh.delete(n).catch((error) => {
            if (!(error instanceof NetlinkError && error.code === "ENOENT")) throw error;
          });
        }
      });
    }
    const shown = selected
      .map((n) => neighbourJson(n, kw.dev !== undefined, global.stats !== undefined));
    if (global.json) return json(global, out, shown);
    for (const n of shown) out(neighbourText(n));
    return;
  }
  // As ip: `proxy ADDRESS` is a proxy entry's address (an address answered for on the link).
  const [kw, positional] = keywords(rest, ["dev", "lladdr", "nud", "proxy"], { lladdr: duplicate });
  const [address, ...extra] = kw.proxy === undefined ? positional : [kw.proxy, ...positional];
  if (address === undefined) throw new UsageError(`neigh ${action} needs an address`);
  if (extra.length) throw unexpected(extra[0]);
  if (kw.dev === undefined) throw new UsageError(`neigh ${action} needs "dev DEV"`);
  const entry: NewNeighbour = {
    dev: kw.dev,
    address: ipAddressText(address, global.family),
    ...(kw.proxy !== undefined ? { flags: ["proxy"] } : {}),
    ...(kw.lladdr ? { lladdr: kw.lladdr } : {}),
    ...(kw.nud !== undefined
      ? { state: ipOperand(neighbourStateId, kw.nud, "nud state is bad") }
      : {}),
  };
  await withRoute(global, (ip) =>
    action === "add"
      ? ip.neigh.add(entry)
      : action === "replace"
      ? ip.neigh.replace(entry)
      : ip.neigh.delete(entry));
}

/** What ip's print_neigh takes for state 0 (NUD_NONE) in its mask of states. */
const NUD_NONE_BIT = 0x100;

/**
 * The states `neigh show` selects (ip's do_show_or_flush): each `nud STATE` adds one (`all`:
 * every state), and without any, all but NUD_NOARP and none; `neigh flush`'s: all but
 * NUD_PERMANENT and NUD_NOARP (none included) without any, and `all` is all but NUD_NOARP. The
 * operands left over follow.
 */
function showStates(args: string[], flush = false): [number, string[]] {
  let states: number | undefined;
  const others: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== "nud") {
      others.push(args[i]);
      continue;
    }
    const text = args[++i];
    if (text === undefined) throw new UsageError(`"nud" needs a value`);
    const state = text === "all"
      ? (flush ? ~NUD_NOARP : 0xffff_ffff)
      : ipOperand(neighbourStateId, text, "nud state is bad") || NUD_NONE_BIT;
    states = ((states ?? 0) | state) >>> 0;
  }
  return [states ?? (flush ? ~(NUD_PERMANENT | NUD_NOARP) >>> 0 : 0xff & ~NUD_NOARP), others];
}

/** A neighbour's line as `ip neigh show` prints it, from its `ip -j` shape. */
export function neighbourText(n: Record<string, unknown>): string {
  const flags = Object.keys(n).filter((k) => n[k] === null);
  // As ip: every field followed by a space...
  let text = [
    n.dst,
    ...(n.dev ? ["dev", n.dev] : []),
    ...(n.lladdr ? ["lladdr", n.lladdr] : []),
    ...flags,
  ].join(" ") + " ";
  // ...but the cache times, each after a space ("lladdr X  used 1/2/3probes 0 STALE").
  if (n.refcnt !== undefined) text += ` ref ${n.refcnt}`;
  if (n.used !== undefined) text += ` used ${n.used}/${n.confirmed}/${n.updated}`;
  if (n.probes !== undefined) text += `probes ${n.probes} `;
  for (const state of (n.state as string[] | undefined) ?? []) text += `${state} `;
  if (n.protocol !== undefined) text += `proto ${n.protocol} `;
  return text;
}

// ---- rule -------------------------------------------------------------------------------------

function prefixJson(prefix: string, key: "src" | "dst", out: Record<string, unknown>): void {
  const [address, length] = prefix.split("/");
  out[key] = address;
  if (length !== undefined) out[`${key}len`] = Number(length);
}

/** A rule with `ip -j rule show`'s names and order (ip/iprule.c print_rule). */
export function ruleJson(r: Rule): Record<string, unknown> {
  const raw = r.raw as unknown as Record<string, unknown>;
  const flags = r.raw.flags;
  const out: Record<string, unknown> = { priority: r.priority };
  if (r.invert) out.not = null;
  prefixJson(r.from, "src", out);
  if (r.to !== "all") prefixJson(r.to, "dst", out);
  if (r.tos) out.tos = dsfieldName(r.tos);
  if (r.fwmark !== undefined || r.fwmask !== undefined) {
    out.fwmark = `0x${(r.fwmark ?? 0).toString(16)}`;
    if (r.fwmask !== undefined && r.fwmask !== 0xffff_ffff) {
      out.fwmask = `0x${r.fwmask.toString(16)}`;
    }
  }
  // "[detached]": the link named is not there (yet), and the rule waits for it.
  if (r.iif !== undefined) out.iif = r.iif;
  if (flags & FIB_RULE_IIF_DETACHED) out.iif_detached = null;
  if (r.oif !== undefined) out.oif = r.oif;
  if (flags & FIB_RULE_OIF_DETACHED) out.oif_detached = null;
  if (raw.l3mdev) out.l3mdev = null;
  const uids = raw.uidRange as { start: number; end: number } | undefined;
  if (uids) Object.assign(out, { uid_start: uids.start, uid_end: uids.end });
  if (raw.ipProto !== undefined) out.ipproto = ipProtocolName(raw.ipProto as number);
  for (const key of ["sport", "dport"] as const) {
    const range = raw[`${key}Range`] as { start: number; end: number } | undefined;
    if (range === undefined) continue;
    if (range.start === range.end) out[key] = range.start;
    else Object.assign(out, { [`${key}_start`]: range.start, [`${key}_end`]: range.end });
  }
  if (raw.tunId !== undefined) out.tun_id = raw.tunId;
  const table = (raw.table ?? raw.headerTable) as number;
  if (table) {
    out.table = tableName(table);
    const prefixlen = raw.suppressPrefixlen as number | undefined;
    if (prefixlen !== undefined && prefixlen !== 0xffff_ffff) {
      out.suppress_prefixlen = prefixlen | 0;
    }
    const group = raw.suppressIfgroup as number | undefined;
    if (group !== undefined && group !== 0xffff_ffff) out.suppress_ifgroup = groupName(group);
  }
  if (raw.flow !== undefined) {
    const flow = raw.flow as number;
    if (flow >>> 16) out.flow_from = realmName(flow >>> 16);
    out.flow_to = realmName(flow & 0xffff);
  }
  if (r.action === "goto") {
    out.goto = r.goto ?? "none";
    if (flags & FIB_RULE_UNRESOLVED) out.unresolved = null;
  } else if (r.action === "nop") out.nop = null;
  else if (r.action !== "lookup") out.action = r.action;
  // As ip: the protocol unless unspec or kernel (which made the default rules).
  const protocol = raw.protocol as number | undefined;
  if (protocol && protocol !== RTPROT_KERNEL) out.protocol = protocolName(protocol);
  return out;
}

/** A rule's line as `ip rule show` prints it, from its `ip -j` shape. */
export function ruleText(r: Record<string, unknown>): string {
  const from = `from ${r.src}${r.srclen === undefined ? "" : `/${r.srclen}`}`;
  let line = `${r.priority}:\t${"not" in r ? "not " : ""}${from}`;
  if (r.dst !== undefined) line += ` to ${r.dst}${r.dstlen === undefined ? "" : `/${r.dstlen}`}`;
  if (r.tos !== undefined) line += ` tos ${r.tos}`;
  if (r.fwmark !== undefined) line += ` fwmark ${r.fwmark}`;
  if (r.fwmask !== undefined) line += `/${r.fwmask}`;
  if (r.iif !== undefined) line += ` iif ${r.iif}${"iif_detached" in r ? " [detached]" : ""}`;
  if (r.oif !== undefined) line += ` oif ${r.oif}${"oif_detached" in r ? " [detached]" : ""}`;
  if ("l3mdev" in r) line += " lookup [l3mdev-table]";
  if (r.uid_start !== undefined) line += ` uidrange ${r.uid_start}-${r.uid_end}`;
  if (r.ipproto !== undefined) line += ` ipproto ${r.ipproto}`;
  for (const key of ["sport", "dport"]) {
    if (r[key] !== undefined) line += ` ${key} ${r[key]}`;
    if (r[`${key}_start`] !== undefined) {
      line += ` ${key} ${r[`${key}_start`]}-${r[`${key}_end`]}`;
    }
  }
  if (r.tun_id !== undefined) line += ` tun_id ${r.tun_id}`;
  if (r.table !== undefined) line += ` lookup ${r.table}`;
  if (r.suppress_prefixlen !== undefined) {
    line += ` suppress_prefixlength ${r.suppress_prefixlen}`;
  }
  if (r.suppress_ifgroup !== undefined) line += ` suppress_ifgroup ${r.suppress_ifgroup}`;
  if (r.flow_to !== undefined) {
    line += ` realms ${r.flow_from === undefined ? "" : `${r.flow_from}/`}${r.flow_to}`;
  }
  if (r.goto !== undefined) line += ` goto ${r.goto}${"unresolved" in r ? " [unresolved]" : ""}`;
  if ("nop" in r) line += " nop";
  if (r.action !== undefined) line += ` ${r.action}`;
  if (r.protocol !== undefined) line += ` proto ${r.protocol}`;
  return line;
}

const RULE_ACTIONS = ["blackhole", "unreachable", "prohibit", "nop"];

/** `rule show|add|del`. */
export async function ruleCommand(args: string[], global: Global, out: Output): Promise<void> {
  const [action, rest] = verb(args, ["show", "add", "delete"], IP_SUBCOMMANDS.rule);
  const [kw, positional] = keywords(rest, [
    ...["from", "to", "fwmark", "iif", "oif", "table", "lookup", "pref", "priority", "goto"],
    ...["tos", "dsfield"],
  ]);
  if (action === "show") {
    if (positional.length) throw unexpected(positional[0]);
    selectors(kw, [], "rule show");
    const rules = await withRoute(
      global,
      (ip) => ip.rule.list({ family: global.family ?? "inet" }),
    );
    const shown = rules.map(ruleJson);
    if (global.json) json(global, out, shown);
    else for (const r of shown) out(ruleText(r));
    return;
  }
  const ruleAction = positional.find((p) => RULE_ACTIONS.includes(p));
  const invert = positional.includes("not");
  const extra = positional.filter((p) => p !== ruleAction && p !== "not");
  if (extra.length) throw unexpected(extra[0]);
  // As ip: the mark and its mask split at the first "/" ("1/2/3": mask "2/3", refused).
  const slash = (kw.fwmark ?? "").indexOf("/");
  const [mark, mask] = slash < 0
    ? [kw.fwmark, undefined]
    : [kw.fwmark!.slice(0, slash), kw.fwmark!.slice(slash + 1)];
  // As ip: "all", "any" and "default" are every address, which a rule matches without one.
  const rulePrefix = (text: string) => {
    const prefix = prefixText(text, global.family);
    return prefix === "default" || prefix.endsWith("/0") ? undefined : prefix;
  };
  const table = kw.table ?? kw.lookup;
  const pref = kw.pref ?? kw.priority;
  const tos = kw.tos ?? kw.dsfield;
  const rule: NewRule = {
    ...(global.family ? { family: global.family } : {}),
    ...(kw.from && rulePrefix(kw.from) ? { from: rulePrefix(kw.from) } : {}),
    ...(kw.to && rulePrefix(kw.to) ? { to: rulePrefix(kw.to) } : {}),
    ...(mark !== undefined ? { fwmark: ipNumber(mark, "fwmark value is invalid") } : {}),
    ...(mask !== undefined ? { fwmask: ipNumber(mask, "fwmask value is invalid") } : {}),
    ...(kw.iif ? { iif: ipLinkName(kw.iif, "\"iif\"/\"dev\" not a valid ifname") } : {}),
    ...(kw.oif ? { oif: ipLinkName(kw.oif, "\"oif\" not a valid ifname") } : {}),
    ...(table !== undefined
      ? { table: tableOption(ipOperand(tableId, table, "invalid table ID")) }
      : {}),
    ...(pref !== undefined ? { priority: ipNumber(pref, "preference value is invalid") } : {}),
    ...(tos !== undefined ? { tos: ipOperand(dsfieldId, tos, "TOS value is invalid") } : {}),
    ...(kw.goto !== undefined
      ? { action: "goto" as const, goto: ipNumber(kw.goto, "invalid target") }
      : {}),
    ...(ruleAction ? { action: ruleAction as NewRule["action"] } : {}),
    ...(invert ? { invert } : {}),
  } as NewRule;
  await withRoute(global, (ip) => action === "add" ? ip.rule.add(rule) : ip.rule.delete(rule));
}
