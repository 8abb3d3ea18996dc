// What every part of the everyday API shares: the socket, the rt-* families on it, link names
// by index, and errors rewritten to say what to do. Internal.

import { errnoDescription } from "../_errno.ts";
import { DumpInterruptedError, NetlinkError } from "../errors.ts";
import type { NetlinkSocket } from "../socket.ts";
import type { DumpReply } from "../ynl/_descriptor.ts";
import { NEEDS_NET_ADMIN } from "../ynl/_extack.ts";
import { NetlinkFamily } from "../ynl/family.ts";
import { rtAddr } from "../ynl/rt_addr.ts";
import { rtLink } from "../ynl/rt_link.ts";
import { rtNeigh } from "../ynl/rt_neigh.ts";
import { rtRoute } from "../ynl/rt_route.ts";
import { rtRule } from "../ynl/rt_rule.ts";
import { linkIndex, linkRefText, noLink } from "./_link_ref.ts";

/**
 * A link as callers name it: its name (`"eth0"`), one of its alternative names (up to 127
 * bytes, found as `ip` finds them), its index (`2`), or its name's bytes as they are, for a
 * name that is not UTF-8 (the kernel allows any bytes but NUL, "/", ":" and whitespace): a
 * link's `nameBytes`.
 *
 * @example
 * ```ts
 * import type { LinkRef } from "@netlink/netlink/route";
 * const byName: LinkRef = "eth0", byIndex: LinkRef = 2;
 * const byBytes: LinkRef = new Uint8Array([0xff, 0xfe]); // a name that is not UTF-8
 * ```
 */
export type LinkRef = string | number | Uint8Array;

/**
 * Whether `ref` is an object `list()`, `get()` or `monitor()` gave (not a {@linkcode LinkRef}'s
 * name, index or name bytes). A type guard, so that it narrows in a consumer's non-strict
 * type-check too (where `!== null` does not).
 */
export function isListed<T extends object>(ref: LinkRef | T): ref is T {
  return typeof ref === "object" && ref !== null && !(ref instanceof Uint8Array);
}

/** What an errno means for someone running an `ip`-like command. */
const HINTS: Record<string, string> = {
  EPERM: NEEDS_NET_ADMIN,
  EACCES: NEEDS_NET_ADMIN,
};

/**
 * What an errno means for one request, by errno name: a text, or a function of the error giving
 * one or undefined (for a hint that holds only when the kernel said nothing more, `detail`).
 */
export type Hints = Record<string, string | ((err: NetlinkError) => string | undefined)>;

/**
 * Rewrites a NetlinkError so its message says which operation failed and, where the errno has
 * one answer (`hints`, by errno name, for what only this request can mean), what to do; the
 * kernel's extended-ack text is kept. Other errors pass unchanged.
 */
export function explain(err: unknown, what: string, hints: Hints = {}): unknown {
  if (!(err instanceof NetlinkError)) return err;
  const own = hints[err.code];
  const hint = (typeof own === "function" ? own(err) : own) ?? HINTS[err.code];
  const text = err.detail ?? errnoDescription(err.errno);
  return new NetlinkError({
    errno: err.errno,
    detail: `${what}: ${text}${hint ? ` (${hint})` : ""}`,
    offset: err.offset,
    missing: err.missing,
    cookie: err.cookie,
    requestType: err.requestType,
    requestSeq: err.requestSeq,
  });
}

/**
 * The receive buffer of a client's own socket unless `receiveBufferSize` says otherwise, and of
 * the command line's `monitor --raw`: 1 MiB, iproute2's (rtnl_open) and pyroute2's. With the
 * kernel's default (net.core.rmem_default, 208 KiB) a burst `ip monitor` keeps whole, a hundred
 * veth pairs made while the monitor's program is busy elsewhere, was an overrun.
 */
export const ROUTE_RECEIVE_BUFFER = 1 << 20;

/**
 * How many times a list runs its dump while the kernel flags it interrupted: a daemon listing
 * addresses as links come and go got a DumpInterruptedError from one list in a few.
 */
const DUMP_ATTEMPTS = 10;

/**
 * Runs a list's dump as {@linkcode Context.run} runs a request, and again when the kernel
 * flagged it interrupted (NLM_F_DUMP_INTR: what it lists changed while it ran, so the parts may
 * not agree), as libnl's cache refill restarts one, up to {@linkcode DUMP_ATTEMPTS} times in
 * all; then the DumpInterruptedError. `dump` starts afresh each time. The route client's lists
 * and TrafficControl's.
 */
export async function listed<T>(what: string, dump: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await dump();
    } catch (err) {
      if (err instanceof DumpInterruptedError && attempt < DUMP_ATTEMPTS) continue;
      throw explain(err, what);
    }
  }
}

/** What list(), get() and monitor() made, by the client that made it: see listedIndex(). */
const origins = new WeakMap<object, Context>();

/** Shared state of one client. */
export class Context {
  readonly socket: NetlinkSocket;
  readonly link: NetlinkFamily<typeof rtLink>;
  readonly addr: NetlinkFamily<typeof rtAddr>;
  readonly route: NetlinkFamily<typeof rtRoute>;
  readonly neigh: NetlinkFamily<typeof rtNeigh>;
  readonly rule: NetlinkFamily<typeof rtRule>;
  /** Link names by index, as last seen (dumps and link events refresh it). */
  readonly names: Map<number, string> = new Map();

  constructor(socket: NetlinkSocket) {
    this.socket = socket;
    this.link = new NetlinkFamily(rtLink, socket);
    this.addr = new NetlinkFamily(rtAddr, socket);
    this.route = new NetlinkFamily(rtRoute, socket);
    this.neigh = new NetlinkFamily(rtNeigh, socket);
    this.rule = new NetlinkFamily(rtRule, socket);
  }

  /** Runs a request, rewriting its error with {@linkcode explain}. */
  async run<T>(
    what: string,
    request: () => Promise<T>,
    hints?: Hints,
  ): Promise<T> {
    try {
      return await request();
    } catch (err) {
      throw explain(err, what, hints);
    }
  }

  /** Marks `object` as listed by this client, for {@linkcode listedIndex}; returns it. */
  mine<T extends object>(object: T): T {
    origins.set(object, this);
    return object;
  }

  /**
   * The index of the link a listed object is on (`index`, named `name` when listed), for its
   * delete(): as listed, its name may be stale. One listed by another client over another
   * socket may come from another namespace, where that index is some other link, which the
   * delete would hit (an address listed in one namespace deleted the same address of the link
   * with that index in the other): its index must still have that name here, or the delete is
   * a TypeError before anything is sent.
   */
  async listedIndex(object: object, index: number, name: unknown): Promise<number> {
    const origin = origins.get(object);
    if (origin === undefined || origin.socket === this.socket) return index;
    const here = await this.ifname(index);
    if (name !== undefined && here === name) return index;
    throw new TypeError(
      `this object was listed by another client, maybe in another namespace: its link `
        + `${typeof name === "string" ? `"${name}" ` : ""}(index ${index}) is ${
          here === undefined ? "not" : `"${here}"`
        } here. Delete it through the client that listed it, or by the link's name`,
    );
  }

  /** Runs a list's dump: {@linkcode listed}. */
  list<T>(what: string, dump: () => Promise<T>): Promise<T> {
    return listed(what, dump);
  }

  /** The index of a link given by name or index; "no link named X" when there is none. */
  async ifindex(ref: LinkRef, field = "dev"): Promise<number> {
    const index = await linkIndex(
      this.link,
      ref,
      field,
      (err) => explain(err, `link ${linkRefText(ref)}`),
    );
    if (typeof ref === "string") this.names.set(index, ref);
    return index;
  }

  /**
   * The name of link `index` now, asked of the kernel (a cached name may be stale: the link
   * renamed since); undefined when it is gone. `signal` aborts the lookup.
   */
  async ifname(index: number, signal?: AbortSignal): Promise<string | undefined> {
    return (await this.linkNow(index, signal))?.ifname;
  }

  /**
   * Link `index` as it is now (its name and flags: {@linkcode ifname}'s lookup), undefined when
   * it is gone.
   */
  async linkNow(
    index: number,
    signal?: AbortSignal,
  ): Promise<{ ifname?: string; ifiFlags: number } | undefined> {
    if (index === 0) return undefined;
    try {
      const link = await this.link.do("getlink", { ifiIndex: index, extMask: 8 }, { signal });
      if (link.ifname !== undefined) this.names.set(index, link.ifname);
      else this.names.delete(index);
      return link;
    } catch (err) {
      if (err instanceof NetlinkError && err.code === "ENODEV") {
        this.names.delete(index);
        return undefined;
      }
      throw explain(err, `link ${index}`);
    }
  }

  /** Refreshes every link name (one dump); returns the links dumped. */
  async refreshNames(): Promise<DumpReply<typeof rtLink, "getlink">[]> {
    const links = await this.list("link list", () => this.link.dump("getlink", { extMask: 8 }));
    this.names.clear();
    for (const link of links) {
      if (link.ifname !== undefined) this.names.set(link.ifiIndex, link.ifname);
    }
    return links;
  }

  /** ENODEV for a link asked for by name, said as "no link named X". */
  noLink(err: unknown, ref: LinkRef): unknown {
    return noLink(err, ref, (other) => explain(other, `link ${linkRefText(ref)}`));
  }
}

const contexts = new WeakMap<object, Context>();

/** Registers the context of a client, for the parts built on it. */
export function register(client: object, ctx: Context): void {
  contexts.set(client, ctx);
}

/** The context of a client; a TypeError for anything else. */
export function contextOf(client: object): Context {
  const ctx = contexts.get(client);
  if (ctx === undefined) throw new TypeError("expected a RouteClient (from openRoute())");
  return ctx;
}
