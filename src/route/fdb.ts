/**
 * Forwarding database entries (`bridge fdb`): a bridge's MAC table, a VXLAN link's remotes and a
 * link's own unicast and multicast addresses: list, add, append, replace, delete.
 *
 * @module
 */

import {
  AF_BRIDGE,
  NLM_F_APPEND,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  NTF_MASTER,
  NTF_SELF,
  NUD_NOARP,
  NUD_PERMANENT,
  NUD_REACHABLE,
  NUD_STALE,
} from "../_constants.ts";
import { checkOptions, shown } from "../_options.ts";
import { parseIP, parseMAC } from "../ip.ts";
import { type Context, contextOf, type LinkRef } from "./_context.ts";
import {
  FDB_FLAGS,
  flagNames,
  flagValue,
  neighFlagBits,
  printAs,
  setNeighFlags,
  WithRaw,
} from "./_names.ts";
import type { RouteClient } from "./client.ts";
import type { RawNeighbour } from "./neighbour.ts";
import { integer } from "./route.ts";

/**
 * An FDB entry as the typed layer decodes it: an AF_BRIDGE neighbour.
 *
 * @example
 * ```ts
 * import type { RawFdbEntry } from "@netlink/netlink/route";
 * const vlanOf = (raw: RawFdbEntry) => raw.vlan ?? 0;
 * ```
 */
export type RawFdbEntry = RawNeighbour;

/**
 * An entry's state, as `bridge fdb` names it: "permanent" (a local address: frames to it are the
 * host's), "static" (forwarded, never aged out), "dynamic" (learned or added so, aged out; which
 * `bridge fdb show` prints as nothing), "stale" (aged, not yet removed).
 *
 * @example
 * ```ts
 * import type { FdbState } from "@netlink/netlink/route";
 * const forwarded: FdbState = "static";
 * ```
 */
export type FdbState = "permanent" | "static" | "dynamic" | "stale";

/**
 * An FDB entry, as `bridge -j fdb show` shows it (its `ifname` is `dev`, `viaIf` is `via`,
 * `src_vni` is `srcVni`; an entry `bridge` prints with no state has "dynamic").
 *
 * @example
 * ```ts
 * import { openRoute } from "@netlink/netlink/route";
 * await using ip = await openRoute();
 * for (const e of await ip.fdb.list()) console.log(e.mac, e.dev, e.master, e.state, e.flags);
 * ```
 */
export interface FdbEntry {
  /** The MAC address. */
  readonly mac: string;
  /** The index of the link the entry is on (the bridge port, the VXLAN link). */
  readonly index: number;
  /** That link's name. */
  readonly dev?: string;
  /** The VLAN (NDA_VLAN), on a bridge with VLAN filtering. */
  readonly vlan?: number;
  /** A VXLAN entry's remote IP address. */
  readonly dst?: string;
  /** A VXLAN entry's remote UDP port, when not the link's. */
  readonly port?: number;
  /** A VXLAN entry's remote VNI, when not the link's. */
  readonly vni?: number;
  /** A VXLAN entry's source VNI (a link with `vnifilter`). */
  readonly srcVni?: number;
  /** The index of the link a VXLAN entry's remote is reached through. */
  readonly viaIndex?: number;
  /** That link's name (`bridge` prints `viaIf`). */
  readonly via?: string;
  /** The nexthop group a VXLAN entry's remotes are (`nhid`). */
  readonly nhid?: number;
  /** The index of the bridge a port's entry belongs to: what a `Link`'s `master` is. */
  readonly masterIndex?: number;
  /** That bridge's name, as `bridge -j fdb show` prints it (a `Link`'s `master` is its index). */
  readonly master?: string;
  /**
   * "permanent", "static", "stale" or "dynamic", by the first of the NUD_PERMANENT, NUD_NOARP,
   * NUD_STALE and NUD_REACHABLE bits set, as `bridge` names them; the number when none is.
   */
  readonly state: FdbState | number;
  /** NTF_* names ("self", "master", "extern_learn", "sticky"...), in `bridge fdb show`'s order. */
  readonly flags: string[];
  /** Everything the kernel sent, as the typed layer decodes it. */
  readonly raw: RawFdbEntry;
}

/**
 * An entry to add, append or replace (`bridge fdb add MAC dev DEV ...`), or to delete with
 * `mac`, `dev`, `vlan`, `dst`, `port`, `vni` and `flags`.
 *
 * @example
 * ```ts
 * import type { NewFdbEntry } from "@netlink/netlink/route";
 * const port: NewFdbEntry = { mac: "02:00:00:00:00:02", dev: "veth0", flags: ["master"], state: "static" };
 * const remote: NewFdbEntry = { mac: "00:00:00:00:00:00", dev: "vx0", dst: "192.0.2.2" };
 * ```
 */
export interface NewFdbEntry {
  /** The MAC address. */
  mac: string;
  /** The link: a bridge port, a VXLAN link, or any link for its own address lists. */
  dev: LinkRef;
  /**
   * "permanent" (default, as `bridge fdb add`: on a bridge, a local address), "static" or
   * "dynamic".
   */
  state?: "permanent" | "static" | "dynamic";
  /**
   * Where the entry goes and what it is: "self" (the link's own table: a VXLAN link's, or a
   * plain link's address list), "master" (the bridge the link is a port of), "router", "use",
   * "extern_learn", "sticky". Neither "self" nor "master" is "self", as `bridge fdb` assumes.
   */
  flags?: string[];
  /** The VLAN (1 to 4094), on a bridge with VLAN filtering. */
  vlan?: number;
  /** A VXLAN entry's remote IP address. */
  dst?: string;
  /** A VXLAN entry's remote UDP port (default the link's). */
  port?: number;
  /** A VXLAN entry's remote VNI (default the link's). */
  vni?: number;
}

/**
 * Filters of `fdb.list()`.
 *
 * @example
 * ```ts
 * import type { FdbFilter } from "@netlink/netlink/route";
 * const onBridge: FdbFilter = { master: "br0", vlan: 10 };
 * ```
 */
export interface FdbFilter {
  /** Only the entries on this link (`bridge fdb show dev` / `brport`). */
  dev?: LinkRef;
  /**
   * Only the entries on this bridge and its ports (`bridge fdb show br`): the bridge's table and
   * the links' own lists.
   */
  master?: LinkRef;
  /** Only those of this VLAN (`bridge fdb show vlan`). */
  vlan?: number;
}

/** What `bridge fdb add` sends for each state: it starts from NUD_NOARP (fdb_modify). */
const STATE_BITS: Record<NonNullable<NewFdbEntry["state"]>, number> = {
  permanent: NUD_NOARP | NUD_PERMANENT,
  static: NUD_NOARP | NUD_REACHABLE,
  dynamic: NUD_REACHABLE,
};

/** The name of a state, by the first bit `bridge` looks at (state_n2a). */
function stateName(state: number): FdbState | number {
  if (state & NUD_PERMANENT) return "permanent";
  if (state & NUD_NOARP) return "static";
  if (state & NUD_STALE) return "stale";
  if (state & NUD_REACHABLE) return "dynamic";
  return state;
}

// Every key of each spec and nothing else (`satisfies`): a misspelt one is refused, not ignored.
const FILTER_KEYS = Object.keys(
  { dev: 0, master: 0, vlan: 0 } satisfies Record<keyof FdbFilter, 0>,
);
const ENTRY_KEYS = Object.keys(
  { mac: 0, dev: 0, state: 0, flags: 0, vlan: 0, dst: 0, port: 0, vni: 0 } satisfies Record<
    keyof NewFdbEntry,
    0
  >,
);
const DELETE_KEYS = ENTRY_KEYS.filter((key) => key !== "state");
// A listed entry's keys beyond a spec's: delete() takes a copy of one (a spread, JSON) too, as the
// other objects' delete() does.
const COPY_KEYS = [
  ...ENTRY_KEYS,
  ...Object.keys(
    {
      index: 0,
      srcVni: 0,
      viaIndex: 0,
      via: 0,
      nhid: 0,
      masterIndex: 0,
      master: 0,
    } satisfies Record<
      Exclude<keyof FdbEntry, keyof NewFdbEntry | "raw">,
      0
    >,
  ),
];

// Named as the interface is, for console.log.
const FdbEntryObject = class FdbEntry extends WithRaw<RawFdbEntry> {};
printAs(FdbEntryObject, class FdbEntry {});

/** Turns a typed AF_BRIDGE neighbour into an {@linkcode FdbEntry}, with link names from `names`. */
export function toFdbEntry(raw: RawFdbEntry, names: Map<number, string>): FdbEntry {
  const out = new FdbEntryObject(raw) as unknown as Record<string, unknown>;
  out.mac = raw.lladdr ?? ""; // the rt-neigh codec reads addresses as text (display hints)
  out.index = raw.ndmIfindex;
  const dev = names.get(raw.ndmIfindex);
  if (dev !== undefined) out.dev = dev;
  if (raw.vlan) out.vlan = raw.vlan; // bridge prints no vlan 0 either
  if (raw.dst !== undefined) out.dst = raw.dst;
  if (raw.port !== undefined) out.port = raw.port;
  if (raw.vni !== undefined) out.vni = raw.vni;
  if (raw.srcVni !== undefined) out.srcVni = raw.srcVni;
  if (raw.ifindex !== undefined) {
    out.viaIndex = raw.ifindex;
    const via = raw.linkNetnsid === undefined ? names.get(raw.ifindex) : undefined;
    if (via !== undefined) out.via = via;
  }
  if (raw.nhId !== undefined) out.nhid = raw.nhId;
  if (raw.master !== undefined) {
    out.masterIndex = raw.master;
    const master = names.get(raw.master);
    if (master !== undefined) out.master = master;
  }
  out.state = stateName(raw.ndmState as unknown as number);
  out.flags = flagNames(FDB_FLAGS, neighFlagBits(raw));
  return out as unknown as FdbEntry;
}

/**
 * The request that deletes a listed entry: the kernel's own key (link, MAC, VLAN, remote) and
 * where it sits (self, master, or neither: a bridge port's entry, which the bridge deletes).
 */
function listedKey(raw: RawFdbEntry, index: number): Record<string, unknown> {
  const request: Record<string, unknown> = {
    ndmFamily: AF_BRIDGE,
    ndmIfindex: index,
    ndmState: raw.ndmState, // a link's own list deletes only "permanent" ones (ndo_dflt_fdb_del)
    ndmFlags: (raw.ndmFlags as unknown as number) & (NTF_SELF | NTF_MASTER),
    lladdr: raw.lladdr,
  };
  for (const key of ["vlan", "dst", "port", "vni", "srcVni"] as const) {
    if (raw[key] !== undefined) request[key] = raw[key];
  }
  return request;
}

/**
 * `bridge fdb`: the forwarding database entries of the client's namespace.
 *
 * @example
 * ```ts
 * import { openRoute } from "@netlink/netlink/route";
 * await using ip = await openRoute();
 * await ip.fdb.add({ mac: "02:00:00:00:00:02", dev: "veth0", flags: ["master"], state: "static" });
 * ```
 */
export class FdbEntries {
  readonly #ctx: Context;

  /** The client's; get one from `openRoute()`. */
  constructor(client: RouteClient) {
    this.#ctx = contextOf(client);
  }

  /**
   * Every FDB entry (`bridge fdb show`), or those on a link, of a bridge's ports, or of a VLAN:
   * filtered by the kernel where it can (strict checking: link and bridge) and here.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * console.log(await ip.fdb.list({ master: "br0" }));
   * ```
   */
  async list(filter: FdbFilter = {}): Promise<FdbEntry[]> {
    const ctx = this.#ctx;
    filter = checkOptions("fdb.list() filter", filter, FILTER_KEYS);
    const vlan = filter.vlan === undefined ? 0 : integer(filter.vlan, "vlan", 4094, 1);
    // Values first: looking a link up is a request.
    const index = filter.dev === undefined ? 0 : await ctx.ifindex(filter.dev);
    const master = filter.master === undefined ? 0 : await ctx.ifindex(filter.master, "master");
    const links = await ctx.refreshNames();
    // A bridge's entries are those on it and on its ports, as the kernel's filter has them.
    const onBridge = master
      ? new Set([master, ...links.filter((l) => l.master === master).map((l) => l.ifiIndex)])
      : undefined;
    const raws = await ctx.list(
      "fdb list",
      // The link in the header and the bridge as NDA_MASTER, as `bridge fdb show` sends them: a
      // socket without strict checking then gets every entry (a 12- or 20-byte request), which
      // the loop below filters.
      () =>
        ctx.neigh.dump("getneigh", {
          ndmFamily: AF_BRIDGE,
          ...(index ? { ndmIfindex: index } : {}),
          ...(master ? { master } : {}),
        }),
    );
    const out: FdbEntry[] = [];
    for (const raw of raws) {
      if (raw.ndmFamily !== AF_BRIDGE) continue;
      if (index && raw.ndmIfindex !== index) continue;
      if (onBridge && !onBridge.has(raw.ndmIfindex)) continue;
      if (vlan && raw.vlan !== vlan) continue;
      out.push(ctx.mine(toFdbEntry(raw, ctx.names)));
    }
    return out;
  }

  /**
   * Adds an entry (`bridge fdb add`); EEXIST when there is one.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.fdb.add({ mac: "02:00:00:00:00:02", dev: "veth0", flags: ["master"], state: "static" });
   * ```
   */
  add(entry: NewFdbEntry): Promise<void> {
    return this.#write(entry, "add", NLM_F_CREATE | NLM_F_EXCL);
  }

  /**
   * Adds an entry, or another remote to a VXLAN link's entry for that MAC (`bridge fdb append`):
   * the all-zeros MAC's remotes are where the link floods.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.fdb.append({ mac: "00:00:00:00:00:00", dev: "vx0", dst: "192.0.2.3" });
   * ```
   */
  append(entry: NewFdbEntry): Promise<void> {
    return this.#write(entry, "append", NLM_F_CREATE | NLM_F_APPEND);
  }

  /**
   * Adds an entry or replaces the one for that MAC (`bridge fdb replace`).
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.fdb.replace({ mac: "02:00:00:00:00:02", dev: "veth0", flags: ["master"], state: "static" });
   * ```
   */
  replace(entry: NewFdbEntry): Promise<void> {
    return this.#write(entry, "replace", NLM_F_CREATE | NLM_F_REPLACE);
  }

  /**
   * Deletes an entry (`bridge fdb del`): one `list()` returned, or given by `mac` and `dev` (with
   * `vlan`, a VXLAN remote's `dst`, `port`, `vni`, and `flags`: "master" for a bridge's entry,
   * "self" assumed without either, as `bridge fdb del` does); ENOENT when there is none.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.fdb.delete({ mac: "02:00:00:00:00:02", dev: "veth0", flags: ["master"] });
   * for (const e of await ip.fdb.list({ dev: "veth0" })) {
   *   if (e.state === "static") await ip.fdb.delete(e);
   * }
   * ```
   */
  async delete(entry: FdbEntry | Omit<NewFdbEntry, "state">): Promise<void> {
    const ctx = this.#ctx;
    const request = entry instanceof FdbEntryObject
      ? listedKey(entry.raw, await ctx.listedIndex(entry, entry.raw.ndmIfindex, entry.dev))
      : typeof entry === "object" && entry !== null && "index" in entry
      ? await this.#copiedKey(entry)
      : await this.#request(entry as NewFdbEntry, "delete");
    await ctx.run(
      `fdb delete ${entry.mac}`,
      () => ctx.neigh.do("delneigh", request as never),
      { ENOENT: "no such entry (a bridge's entry on its port needs the flag master)" },
    );
  }

  /**
   * listedKey() of a copy of a listed entry (a spread, or JSON read back): its fields as shown,
   * its link by index, its place by its flags alone ("self", "master" or neither: a bridge
   * port's, as listed), not "self" assumed as for a spec.
   */
  async #copiedKey(entry: FdbEntry): Promise<Record<string, unknown>> {
    checkOptions("fdb.delete() entry", entry, COPY_KEYS);
    const { state } = entry;
    const bits = typeof state === "number"
      ? integer(state, "state", 0xffff, 0)
      : state === "stale"
      ? NUD_STALE
      : Object.hasOwn(STATE_BITS, state)
      ? STATE_BITS[state as keyof typeof STATE_BITS]
      : undefined;
    if (bits === undefined) {
      throw new TypeError(
        `state: ${shown(state)} is not an FDB state: one of permanent, static, dynamic, stale`,
      );
    }
    const flags = entry.flags === undefined ? 0 : flagValue(FDB_FLAGS, entry.flags, "flags");
    const raw = {
      ndmIfindex: integer(entry.index, "index", 0x7fff_ffff, 1),
      ndmState: bits,
      ndmFlags: flags,
      lladdr: parseMAC(entry.mac, "mac"),
      ...(entry.vlan !== undefined ? { vlan: integer(entry.vlan, "vlan", 4094, 1) } : {}),
      ...(entry.dst !== undefined ? { dst: parseIP(entry.dst, "dst") } : {}),
      ...(entry.port !== undefined ? { port: integer(entry.port, "port", 0xffff, 1) } : {}),
      ...(entry.vni !== undefined ? { vni: integer(entry.vni, "vni", 0xffffff, 0) } : {}),
      ...(entry.srcVni !== undefined
        ? { srcVni: integer(entry.srcVni, "srcVni", 0xffffff, 0) }
        : {}),
    } as unknown as RawFdbEntry;
    return listedKey(raw, await this.#ctx.ifindex(raw.ndmIfindex, "index"));
  }

  async #write(entry: NewFdbEntry, verb: "add" | "append" | "replace", flags: number) {
    const request = await this.#request(entry, verb);
    await this.#ctx.run(
      `fdb ${verb} ${entry.mac}`,
      () => this.#ctx.neigh.do("newneigh", request as never, { flags }),
      verb === "add"
        ? { EEXIST: "there is one: fdb.replace() changes it, fdb.append() adds a VXLAN remote" }
        : {},
    );
  }

  /** The request `bridge fdb VERB` sends for `entry`, checked whole before any request. */
  async #request(
    entry: NewFdbEntry,
    verb: "add" | "append" | "replace" | "delete",
  ): Promise<Record<string, unknown>> {
    if (typeof entry !== "object" || entry === null) {
      throw new TypeError("fdb: expected an object such as { mac, dev }");
    }
    checkOptions(`fdb.${verb}() entry`, entry, verb === "delete" ? DELETE_KEYS : ENTRY_KEYS);
    const request: Record<string, unknown> = {
      ndmFamily: AF_BRIDGE,
      ndmState: NUD_PERMANENT | NUD_NOARP,
      lladdr: parseMAC(entry.mac, "mac"),
    };
    if (entry.state !== undefined) {
      if (!Object.hasOwn(STATE_BITS, entry.state)) {
        throw new TypeError(
          `state: ${shown(entry.state)} is not an FDB state: one of permanent, static, dynamic`,
        );
      }
      request.ndmState = STATE_BITS[entry.state];
    }
    let bits = entry.flags === undefined ? 0 : flagValue(FDB_FLAGS, entry.flags, "flags");
    if (!(bits & (NTF_SELF | NTF_MASTER))) bits |= NTF_SELF; // as bridge fdb assumes
    setNeighFlags(request, bits);
    if (entry.vlan !== undefined) request.vlan = integer(entry.vlan, "vlan", 4094, 1);
    if (entry.dst !== undefined) request.dst = parseIP(entry.dst, "dst");
    if (entry.port !== undefined) request.port = integer(entry.port, "port", 0xffff, 1);
    if (entry.vni !== undefined) request.vni = integer(entry.vni, "vni", 0xffffff, 0);
    request.ndmIfindex = await this.#ctx.ifindex(entry.dev); // last: looking it up is a request
    return request;
  }
}
