/**
 * Neighbours (`ip neigh`): the ARP and NDP tables: list, add, replace, delete.
 *
 * @module
 */

import { NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NTF_PROXY } from "../_constants.ts";
import { checkOptions, shown } from "../_options.ts";
import { formatIP, parseIP, parseMAC } from "../ip.ts";
import type { DumpReply } from "../ynl/_descriptor.ts";
import type { rtNeigh } from "../ynl/rt_neigh.ts";
import { type Context, contextOf, type LinkRef } from "./_context.ts";
import { checkLinkRef, linkRefText } from "./_link_ref.ts";
import {
  FAMILIES,
  flagNames,
  flagValue,
  inetFamily,
  NEIGH_EXT_SHIFT,
  NEIGH_FLAGS,
  NEIGH_STATES,
  neighFlagBits,
  printAs,
  setNeighFlags,
  WithRaw,
} from "./_names.ts";
import type { RouteClient } from "./client.ts";
import { checkWait, waitOnLink, type WaitOptions } from "./monitor.ts";

/** A neighbour entry as the typed layer decodes it. */
export type RawNeighbour = DumpReply<typeof rtNeigh, "getneigh">;

/** Neighbour states (NUD_*), lowercase. */
export type NeighbourState =
  | "none"
  | "incomplete"
  | "reachable"
  | "stale"
  | "delay"
  | "probe"
  | "failed"
  | "noarp"
  | "permanent";

/**
 * A neighbour entry, as `ip -j neigh show nud all` shows it.
 *
 * @example
 * ```ts
 * import { openRoute } from "@netlink/netlink/route";
 * await using ip = await openRoute();
 * for (const n of await ip.neigh.list()) console.log(n.address, n.lladdr, n.state);
 * ```
 */
export interface Neighbour {
  /** "inet" or "inet6" (ARP or NDP): bridge FDB entries are not neighbours here. */
  readonly family: "inet" | "inet6";
  /** The link's index. */
  readonly index: number;
  /** The link's name. */
  readonly dev?: string;
  /** The neighbour's IP address. */
  readonly address: string;
  /** Its link-layer address, when known. */
  readonly lladdr?: string;
  /** Its state ("reachable", "stale", "permanent"...): the state's name, or the number. */
  readonly state: NeighbourState | number;
  /**
   * NTF_* names and NDA_FLAGS_EXT's NTF_EXT_* ("router", "proxy", "managed", "extern_learn"...),
   * in the order `ip neigh show` prints them.
   */
  readonly flags: string[];
  /** Everything the kernel sent, as the typed layer decodes it. */
  readonly raw: RawNeighbour;
}

/**
 * A neighbour entry to add, replace or delete (`ip neigh add 10.0.0.2 lladdr ... dev eth0`).
 *
 * @example
 * ```ts
 * import type { NewNeighbour } from "@netlink/netlink/route";
 * const entry: NewNeighbour = { dev: "eth0", address: "10.0.0.2", lladdr: "02:00:00:00:00:02" };
 * ```
 */
export interface NewNeighbour {
  /** The link. */
  dev: LinkRef;
  /** The neighbour's IP address. */
  address: string;
  /** Its link-layer address. */
  lladdr?: string;
  /**
   * State (default "permanent", as `ip neigh add`; "none" with the flag "managed", which the
   * kernel then resolves, as ip sends it: a permanent entry cannot be managed).
   */
  state?: NeighbourState | number;
  /** NTF_* and NTF_EXT_* names ("router", "proxy", "managed"...), as `ip neigh add` takes them. */
  flags?: string[];
}

/**
 * Filters of `neigh.list()`.
 *
 * @example
 * ```ts
 * import type { NeighbourFilter } from "@netlink/netlink/route";
 * const filter: NeighbourFilter = { dev: "eth0", family: "inet6" };
 * ```
 */
export interface NeighbourFilter {
  /** Only this link's entries. */
  dev?: LinkRef;
  /** Only IPv4 (ARP) or IPv6 (NDP). */
  family?: "inet" | "inet6";
  /**
   * The proxy entries instead (`ip neigh show proxy`): the addresses answered for on a link,
   * added with `flags: ["proxy"]`, which the kernel lists only when asked for them.
   */
  proxy?: boolean;
}

/** NTF_EXT_MANAGED as {@linkcode NEIGH_FLAGS} holds it. */
const NTF_EXT_MANAGED_FLAG = 0x1 << NEIGH_EXT_SHIFT;

// Every key of each spec and nothing else (`satisfies`): a misspelt one is refused, not ignored.
const FILTER_KEYS = Object.keys(
  { dev: 0, family: 0, proxy: 0 } satisfies Record<keyof NeighbourFilter, 0>,
);
const ENTRY_KEYS = Object.keys(
  { dev: 0, address: 0, lladdr: 0, state: 0, flags: 0 } satisfies Record<keyof NewNeighbour, 0>,
);
// What delete() takes: a spec's keys, or a listed entry's (its other keys select nothing).
const DELETE_KEYS = [
  ...["dev", "address", "flags"] satisfies (keyof NewNeighbour)[],
  ...Object.keys(
    { family: 0, index: 0, lladdr: 0, state: 0 } satisfies Record<
      Exclude<keyof Neighbour, "dev" | "address" | "flags" | "raw">,
      0
    >,
  ),
];

// Named as the interface is, for console.log.
const NeighbourObject = class Neighbour extends WithRaw<RawNeighbour> {};
printAs(NeighbourObject, class Neighbour {});

/** Turns a typed neighbour into a {@linkcode Neighbour}, with link names from `names`. */
export function toNeighbour(raw: RawNeighbour, names: Map<number, string>): Neighbour {
  const out = new NeighbourObject(raw) as unknown as Record<string, unknown>;
  out.family = FAMILIES.name(raw.ndmFamily);
  out.index = raw.ndmIfindex;
  const dev = names.get(raw.ndmIfindex);
  if (dev !== undefined) out.dev = dev;
  // The rt-neigh codec reads both as text (their display hints).
  out.address = raw.dst ?? "";
  if (raw.lladdr !== undefined) out.lladdr = raw.lladdr;
  out.state = NEIGH_STATES.name(raw.ndmState as unknown as number);
  out.flags = flagNames(NEIGH_FLAGS, neighFlagBits(raw));
  return out as unknown as Neighbour;
}

/**
 * `ip neigh`: the neighbour tables of the client's namespace.
 *
 * @example
 * ```ts
 * import { openRoute } from "@netlink/netlink/route";
 * await using ip = await openRoute();
 * await ip.neigh.add({ dev: "eth0", address: "10.0.0.2", lladdr: "02:00:00:00:00:02" });
 * ```
 */
export class Neighbours {
  readonly #ctx: Context;

  /** The client's; get one from `openRoute()`. */
  constructor(client: RouteClient) {
    this.#ctx = contextOf(client);
  }

  /**
   * Every IPv4 and IPv6 neighbour entry, in every state (`ip neigh show nud all`), or those of
   * a link or family: filtered by the kernel where it can (strict checking: link) and here.
   * Proxy entries are listed apart, as the kernel keeps them: `{ proxy: true }`.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * console.log(await ip.neigh.list({ dev: "eth0" }));
   * ```
   */
  async list(filter: NeighbourFilter = {}): Promise<Neighbour[]> {
    const ctx = this.#ctx;
    filter = checkOptions("neigh.list() filter", filter, FILTER_KEYS);
    const family = inetFamily(filter.family);
    if (filter.proxy !== undefined && typeof filter.proxy !== "boolean") {
      throw new TypeError(`proxy: ${shown(filter.proxy)} is not a boolean`);
    }
    const proxy = filter.proxy ? NTF_PROXY : 0;
    const index = filter.dev === undefined ? 0 : await ctx.ifindex(filter.dev); // values first
    await ctx.refreshNames();
    const raws = await ctx.list(
      "neighbour list",
      // The kernel takes the link as NDA_IFINDEX (as `ip neigh show dev` sends it): a strict
      // dump refuses a header ifindex. NTF_PROXY in the header asks for the proxy table.
      () =>
        ctx.neigh.dump("getneigh", {
          ndmFamily: family,
          ...(proxy ? { ndmFlags: proxy } : {}),
          ...(index ? { ifindex: index } : {}),
        }),
    );
    const out: Neighbour[] = [];
    for (const raw of raws) {
      if (raw.ndmFamily !== 2 && raw.ndmFamily !== 10) continue;
      if (family && raw.ndmFamily !== family) continue;
      if (index && raw.ndmIfindex !== index) continue;
      if (((raw.ndmFlags as unknown as number) & NTF_PROXY) !== proxy) continue;
      out.push(ctx.mine(toNeighbour(raw, ctx.names)));
    }
    return out;
  }

  /**
   * Waits until `until` holds for the entry of `address` on link `dev` (pyroute2's `poll()`, as
   * `ip.addr.wait()` for an address): calls it with the entry as {@linkcode list} gives it
   * (undefined while there is none, or no such link yet: the wait covers the link's coming too,
   * and by name a link made with that name or renamed to it is the one watched), then again at
   * each change to it, and resolves with what it last gave it once it returns true. What a script
   * waits for once it has sent to a neighbour: its address resolved (`(n) => n?.state ===
   * "reachable"`), or failed (`"failed"`). A proxy entry is not it. Watches through the client's
   * {@linkcode RouteClient.monitor}, joined before the first look, so no change is missed (an
   * overrun looks again): not while a monitor of the client runs (open a second client). Waits
   * as long as it takes: bound it with {@linkcode WaitOptions}' `timeout` (a "TimeoutError"
   * DOMException) or `signal` (its reason); it also rejects when the client closes, or with what
   * `until` throws (a TypeError if it returns a promise: it is called synchronously).
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.neigh.add({ dev: "eth0", address: "10.0.0.9", lladdr: "02:00:00:00:00:09" });
   * const entry = await ip.neigh.wait("eth0", "10.0.0.9", (n) => n?.state === "permanent", {
   *   timeout: 5000,
   * });
   * console.log(entry?.lladdr); // "02:00:00:00:00:09"
   * ```
   */
  async wait(
    dev: LinkRef,
    address: string,
    until: (entry: Neighbour | undefined) => boolean,
    options: WaitOptions = {},
  ): Promise<Neighbour | undefined> {
    const ip = parseIP(address, "address");
    options = checkWait("neigh.wait()", until, options, "(n) => n?.state === \"reachable\"");
    checkLinkRef(dev, "dev");
    const family = ip.length === 4 ? "inet" : "inet6";
    const text = formatIP(ip); // as list() writes it (RFC 5952)
    return await waitOnLink(
      this.#ctx,
      "neigh.wait()",
      "neighbour",
      dev,
      (index) => this.list({ dev: index, family }),
      (n) => n.family === family && n.address === text && !n.flags.includes("proxy"),
      until,
      options,
    );
  }

  /**
   * Adds an entry (`ip neigh add`); EEXIST when there is one for that address.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.neigh.add({ dev: "eth0", address: "10.0.0.2", lladdr: "02:00:00:00:00:02" });
   * ```
   */
  async add(entry: NewNeighbour): Promise<void> {
    const request = await this.#request(entry, "add");
    await this.#ctx.run(
      `neighbour add ${entry.address} dev ${linkRefText(entry.dev)}`,
      () => this.#ctx.neigh.do("newneigh", request as never, { flags: NLM_F_CREATE | NLM_F_EXCL }),
      { EEXIST: "the link has an entry for it: neigh.replace() changes it" },
    );
  }

  /**
   * Adds an entry or replaces the one for that address (`ip neigh replace`).
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.neigh.replace({ dev: "eth0", address: "10.0.0.2", lladdr: "02:00:00:00:00:03" });
   * ```
   */
  async replace(entry: NewNeighbour): Promise<void> {
    const request = await this.#request(entry, "replace");
    await this.#ctx.run(
      `neighbour replace ${entry.address}`,
      () =>
        this.#ctx.neigh.do("newneigh", request as never, { flags: NLM_F_CREATE | NLM_F_REPLACE }),
    );
  }

  /**
   * Deletes the entry for an address on a link (`ip neigh del`); a proxy entry with
   * `flags: ["proxy"]` (`ip neigh del proxy ADDRESS dev DEV`). Takes a {@linkcode Neighbour} as
   * `list()` gives it too: its link (by index), address and proxy flag say which; its state and
   * lladdr select nothing, as for `ip neigh del`.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.neigh.delete({ dev: "eth0", address: "10.0.0.2" });
   * for (const n of await ip.neigh.list({ dev: "eth0" })) await ip.neigh.delete(n);
   * ```
   */
  async delete(entry: Pick<NewNeighbour, "dev" | "address" | "flags"> | Neighbour): Promise<void> {
    const ctx = this.#ctx;
    if (typeof entry !== "object" || entry === null) {
      throw new TypeError("neighbour: expected an object such as { dev, address }");
    }
    checkOptions("neigh.delete() entry", entry, DELETE_KEYS);
    // A listed entry's link by index: its name may be stale, or unknown (dev undefined).
    const link = "index" in entry && entry.index !== undefined
      ? await ctx.listedIndex(entry, entry.index, entry.dev)
      : entry.dev;
    const dst = parseIP(entry.address, "address");
    const flags = entry.flags === undefined ? 0 : flagValue(NEIGH_FLAGS, entry.flags, "flags");
    const request = {
      ndmFamily: dst.length === 4 ? 2 : 10,
      ndmFlags: flags & 0xff, // NDA_FLAGS_EXT's (managed...) select nothing on delete
      ndmIfindex: await ctx.ifindex(link as LinkRef, link === entry.dev ? "dev" : "index"),
      dst,
    };
    await ctx.run(
      `neighbour delete ${entry.address} dev ${linkRefText(entry.dev ?? link as LinkRef)}`,
      () => ctx.neigh.do("delneigh", request as never),
      { ENOENT: "no such neighbour on that link (a proxy entry needs the flag proxy)" },
    );
  }

  async #request(entry: NewNeighbour, verb: "add" | "replace"): Promise<Record<string, unknown>> {
    if (typeof entry !== "object" || entry === null) {
      throw new TypeError("neighbour: expected an object");
    }
    checkOptions(`neigh.${verb}() entry`, entry, ENTRY_KEYS);
    const dst = parseIP(entry.address, "address");
    const flags = entry.flags === undefined ? 0 : flagValue(NEIGH_FLAGS, entry.flags, "flags");
    const request: Record<string, unknown> = {
      ndmFamily: dst.length === 4 ? 2 : 10,
      ndmState: NEIGH_STATES.value(
        entry.state ?? (flags & NTF_EXT_MANAGED_FLAG ? "none" : "permanent"),
        "state",
        0xffff,
      ),
      dst,
    };
    setNeighFlags(request, flags);
    if (entry.lladdr !== undefined) request.lladdr = parseMAC(entry.lladdr, "lladdr");
    request.ndmIfindex = await this.#ctx.ifindex(entry.dev); // last: looking it up is a request
    return request;
  }
}
