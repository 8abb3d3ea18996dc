/**
 * Addresses (`ip address`): list, add, delete, flush.
 *
 * @module
 */

import {
  IFA_ADDRESS,
  IFA_BROADCAST,
  IFA_LOCAL,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REPLACE,
} from "../_constants.ts";
import { checkOptions, integerFieldError, shown } from "../_options.ts";
import { MalformedMessageError, NetlinkError } from "../errors.ts";
import { formatIP, parseIP, parsePrefix } from "../ip.ts";
import { type DumpReply, unknownAttributes } from "../ynl/_descriptor.ts";
import type { rtAddr } from "../ynl/rt_addr.ts";
import { type Context, contextOf, isListed, type LinkRef } from "./_context.ts";
import { checkLinkRef, linkRefText } from "./_link_ref.ts";
import {
  ADDRESS6_FLAGS,
  ADDRESS_FLAGS,
  flagNames,
  flagValue,
  inetFamily,
  printAs,
  SCOPES,
  WithRaw,
} from "./_names.ts";
import type { RouteClient } from "./client.ts";
import { checkWait, waitOnLink, type WaitOptions } from "./monitor.ts";
import { integer } from "./route.ts";

/** An address as the typed layer decodes it. */
export type RawAddress = DumpReply<typeof rtAddr, "getaddr">;

/** Address and route scopes, as `ip` names them. */
export type Scope = "global" | "site" | "link" | "host" | "nowhere";

/**
 * An interface address, as `ip -j address show` shows it.
 *
 * @example
 * ```ts
 * import { openRoute } from "@netlink/netlink/route";
 * await using ip = await openRoute();
 * for (const a of await ip.addr.list({ dev: "lo" })) console.log(`${a.address}/${a.prefixLength}`);
 * ```
 */
export interface Address {
  /** "inet" or "inet6". */
  readonly family: "inet" | "inet6";
  /** The link's index. */
  readonly index: number;
  /** The link's name. */
  readonly dev?: string;
  /** The address itself (IFA_LOCAL, or IFA_ADDRESS where there is no local), as text. */
  readonly address: string;
  /** Prefix length. */
  readonly prefixLength: number;
  /** The peer of a point-to-point address (`ip addr add A peer B`). */
  readonly peer?: string;
  /** IPv4 broadcast address. */
  readonly broadcast?: string;
  /** IPv4 label ("eth0:1"). */
  readonly label?: string;
  /** Scope ("global", "link", "host"...), or the number when it has no name. */
  readonly scope: Scope | number;
  /**
   * The metric of the prefix route the address makes (IFA_RT_PRIORITY, `ip addr add ... metric
   * 50`); absent when it was given none (0), as `ip -j` leaves it out.
   */
  readonly metric?: number;
  /**
   * IFA_F_* names as `ip -j` names them: "permanent", "secondary" (IPv6: "temporary", a privacy
   * address), "noprefixroute", "tentative", "nodad"... (`ip -j` gives each as a key set to true,
   * and prints no "permanent": an address without it is `"dynamic": true` there).
   */
  readonly flags: string[];
  /**
   * Seconds the address stays valid; Infinity for forever (4294967295 in JSON, as `ip -j`
   * prints it).
   */
  readonly validLifetime: number;
  /** Seconds the address stays preferred; Infinity for forever (4294967295 in JSON). */
  readonly preferredLifetime: number;
  /** Everything the kernel sent, as the typed layer decodes it. */
  readonly raw: RawAddress;
}

/**
 * Options of `addr.add()` beyond the address and prefix.
 *
 * @example
 * ```ts
 * import type { AddressOptions } from "@netlink/netlink/route";
 * const temporary: AddressOptions = { label: "eth0:tmp", validLifetime: 300, preferredLifetime: 60 };
 * ```
 */
export interface AddressOptions {
  /** Point-to-point peer address (`peer`). */
  peer?: string;
  /**
   * IPv4 broadcast address; "+" computes it from the prefix as `ip addr add ... brd +` does
   * (none for a /31 or /32).
   */
  broadcast?: string;
  /**
   * IPv4 label: 1 to 15 bytes, no NUL, by convention the link's name and a suffix ("eth0:1"), as
   * `ip address` shows aliases (the kernel takes any other).
   */
  label?: string;
  /** Scope; by default "host" for 127.0.0.0/8 and "global" otherwise, as `ip` picks. */
  scope?: Scope | number;
  /** Seconds valid (`valid_lft`); default forever (Infinity, or 4294967295 as `ip` takes it). */
  validLifetime?: number;
  /** Seconds preferred (`preferred_lft`); default `validLifetime` (so forever when that is). */
  preferredLifetime?: number;
  /** IFA_F_* names to set: "noprefixroute", "nodad", "mngtmpaddr", "home", "autojoin"... */
  flags?: string[];
  /**
   * The metric of the prefix route the address makes (`metric`, IFA_RT_PRIORITY): 0 to
   * 2^32-1; by default the kernel's (0: that route gets the family's default metric). With
   * `replace`, the existing address's route moves to the new metric.
   */
  metric?: number;
  /** Replace an existing address of the same prefix instead of failing with EEXIST. */
  replace?: boolean;
}

/**
 * Filters of `addr.list()` and `addr.flush()`.
 *
 * @example
 * ```ts
 * import type { AddressFilter } from "@netlink/netlink/route";
 * const v6OfEth0: AddressFilter = { dev: "eth0", family: "inet6" };
 * ```
 */
export interface AddressFilter {
  /** Only this link's addresses. */
  dev?: LinkRef;
  /** Only IPv4 ("inet") or IPv6 ("inet6"). */
  family?: "inet" | "inet6";
  /** Only this scope. */
  scope?: Scope | number;
}

// Every key of each spec and nothing else (`satisfies`): a misspelt one is refused, not ignored.
const FILTER_KEYS = Object.keys(
  { dev: 0, family: 0, scope: 0 } satisfies Record<keyof AddressFilter, 0>,
);
const OPTION_KEYS = Object.keys(
  {
    peer: 0,
    broadcast: 0,
    label: 0,
    scope: 0,
    validLifetime: 0,
    preferredLifetime: 0,
    flags: 0,
    metric: 0,
    replace: 0,
  } satisfies Record<keyof AddressOptions, 0>,
);
const DELETE_KEYS = ["peer"] satisfies (keyof AddressOptions)[];

const FOREVER = 0xffff_ffff;

// Named as the interface is, for console.log.
const AddressObject = class Address extends WithRaw<RawAddress> {};
// In JSON as `ip -j` prints it: a lifetime of forever as 4294967295 (the kernel's
// INFINITY_LIFE_TIME), which `add()` takes back, where JSON would write Infinity as null.
const forever = (seconds: unknown) => seconds === Infinity ? FOREVER : seconds;
printAs(AddressObject, class Address {}, {
  validLifetime: forever,
  preferredLifetime: forever,
});

/** Turns a typed address into an {@linkcode Address}, with link names from `names`. */
export function toAddress(raw: RawAddress, names: Map<number, string>): Address {
  checkAddresses(raw);
  const local = raw.local ?? raw.address;
  const flags = raw.flags ?? raw.ifaFlags;
  const cache = raw.cacheinfo;
  const out = new AddressObject(raw) as unknown as Record<string, unknown>;
  out.family = raw.ifaFamily === 10 ? "inet6" : "inet";
  out.index = raw.ifaIndex;
  const dev = names.get(raw.ifaIndex);
  if (dev !== undefined) out.dev = dev;
  out.address = local ?? ""; // the rt-addr codec reads addresses as text (display hints)
  out.prefixLength = raw.ifaPrefixlen;
  if (raw.local !== undefined && raw.address !== undefined && raw.local !== raw.address) {
    out.peer = raw.address;
  }
  if (raw.broadcast !== undefined) out.broadcast = raw.broadcast;
  if (raw.label !== undefined) out.label = raw.label;
  out.scope = SCOPES.name(raw.ifaScope);
  if (raw.rtPriority !== undefined) out.metric = raw.rtPriority;
  out.flags = flagNames(raw.ifaFamily === 10 ? ADDRESS6_FLAGS : ADDRESS_FLAGS, flags);
  out.validLifetime = cache === undefined || cache.ifaValid === FOREVER ? Infinity : cache.ifaValid;
  out.preferredLifetime = cache === undefined || cache.ifaPrefered === FOREVER
    ? Infinity
    : cache.ifaPrefered;
  return out as unknown as Address;
}

/** The address attributes of `raw`'s message, by type, named as errors name them. */
const ADDRESS_ATTRIBUTES = new Map([
  [IFA_ADDRESS, "IFA_ADDRESS"],
  [IFA_LOCAL, "IFA_LOCAL"],
  [IFA_BROADCAST, "IFA_BROADCAST"],
]);

/**
 * Throws MalformedMessageError when an address attribute came neither 4 nor 16 bytes long: the
 * typed layer keeps it raw (under unknownAttributes), and the address would read "" (a faulty
 * module or fake sent it; the kernel's are its family's length).
 */
function checkAddresses(raw: RawAddress): void {
  for (const attribute of raw[unknownAttributes] ?? []) {
    const name = ADDRESS_ATTRIBUTES.get(attribute.type);
    if (name === undefined) continue;
    throw new MalformedMessageError(
      `address message: ${name} is ${attribute.value.length} bytes long, but an IP address is 4 `
        + "or 16",
      0,
    );
  }
}

function lifetime(value: number | undefined, field: string): number {
  if (value === undefined || value === Infinity) return FOREVER;
  // FOREVER itself is forever, as ip reads `valid_lft 4294967295`, and as JSON gives it back.
  if (!Number.isInteger(value) || value < 0 || value > FOREVER) {
    throw integerFieldError(
      value,
      `${field}: ${shown(value)} is not a number of seconds from 0 to ${FOREVER} (or Infinity)`,
    );
  }
  return value;
}

/** The IPv4 broadcast address of a prefix (all host bits set). */
function broadcastOf(address: Uint8Array, prefixLength: number): Uint8Array {
  const out = Uint8Array.from(address);
  for (let bit = prefixLength; bit < 32; bit++) out[bit >> 3] |= 0x80 >> (bit & 7);
  return out;
}

/**
 * `ip address`: the addresses of the client's namespace.
 *
 * @example
 * ```ts
 * import { openRoute } from "@netlink/netlink/route";
 * await using ip = await openRoute();
 * await ip.addr.add("veth0", "10.0.0.1/24");
 * await ip.addr.delete("veth0", "10.0.0.1/24");
 * ```
 */
export class Addresses {
  readonly #ctx: Context;

  /** The client's; get one from `openRoute()`. */
  constructor(client: RouteClient) {
    this.#ctx = contextOf(client);
  }

  /**
   * Every address (`ip address show`), or those of a link, family or scope: filtered by the
   * kernel where it can (strict checking: link) and here in any case.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * console.log(await ip.addr.list({ family: "inet6" }));
   * ```
   */
  async list(filter: AddressFilter = {}): Promise<Address[]> {
    const ctx = this.#ctx;
    filter = checkOptions("addr.list() filter", filter, FILTER_KEYS);
    const family = inetFamily(filter.family);
    const scope = filter.scope === undefined ? undefined : SCOPES.value(filter.scope, "scope");
    const index = filter.dev === undefined ? 0 : await ctx.ifindex(filter.dev); // values first
    await ctx.refreshNames();
    const raws = await ctx.list(
      "address list",
      () => ctx.addr.dump("getaddr", { ifaFamily: family, ifaIndex: index }),
    );
    const out: Address[] = [];
    for (const raw of raws) {
      if (index && raw.ifaIndex !== index) continue;
      if (family && raw.ifaFamily !== family) continue;
      if (scope !== undefined && raw.ifaScope !== scope) continue;
      if (raw.ifaFamily !== 2 && raw.ifaFamily !== 10) continue;
      out.push(ctx.mine(toAddress(raw, ctx.names)));
    }
    return out;
  }

  /**
   * Adds an address to a link (`ip address add 10.0.0.1/24 dev eth0`); EEXIST when it is
   * there already (unless `replace`). An address without a prefix length is a host address
   * (/32, /128), as ip takes it.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.addr.add("eth0", "10.0.0.1/24", { broadcast: "+", label: "eth0:a" });
   * await ip.addr.add("eth0", "2001:db8::1/64", { flags: ["nodad"] });
   * await ip.addr.add("eth0", "10.1.0.1/24", { metric: 50 }); // its prefix route's metric
   * ```
   */
  async add(dev: LinkRef, prefix: string, options: AddressOptions = {}): Promise<void> {
    const ctx = this.#ctx;
    // The link first: a prefix or an object given as the first argument is said to be that.
    checkLinkRef(dev, "dev");
    options = checkOptions("addr.add() options", options, OPTION_KEYS);
    if (options.replace !== undefined && typeof options.replace !== "boolean") {
      throw new TypeError(`replace: ${shown(options.replace)} is not a boolean`);
    }
    const request = this.#request(prefix, options);
    request.ifaIndex = await ctx.ifindex(dev);
    const flags = NLM_F_CREATE | (options.replace ? NLM_F_REPLACE : NLM_F_EXCL);
    await ctx.run(
      `address add ${prefix} dev ${linkRefText(dev)}`,
      () => ctx.addr.do("newaddr", request as never, { flags }),
      { EEXIST: "the link has it: add it with { replace: true } to change it" },
    );
  }

  /**
   * Removes an address from a link (`ip address del`); EADDRNOTAVAIL when it is not there.
   * Takes an {@linkcode Address} as `list()` gives it too: its link (by index), address, prefix
   * length and peer say which.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.addr.delete("eth0", "10.0.0.1/24");
   * for (const a of await ip.addr.list({ dev: "eth0", family: "inet" })) await ip.addr.delete(a);
   * ```
   */
  delete(address: Address): Promise<void>;
  /** Removes `prefix` (`"10.0.0.1/24"`) from link `dev`, the peer's with `options.peer`. */
  delete(dev: LinkRef, prefix: string, options?: Pick<AddressOptions, "peer">): Promise<void>;
  async delete(
    dev: LinkRef | Address,
    prefix?: string,
    options: Pick<AddressOptions, "peer"> = {},
  ): Promise<void> {
    const ctx = this.#ctx;
    // The link as the error names it: a listed address's name, as it was listed.
    const devText = isListed(dev) ? dev.dev ?? String(dev.index) : dev;
    if (isListed(dev)) {
      // A listed address: exactly that one, on the link it is on now (its name may be stale).
      const listed = dev;
      dev = await ctx.listedIndex(
        listed,
        integer(listed.index, "index", 0x7fff_ffff, 1),
        listed.dev,
      );
      prefix = `${listed.address}/${integer(listed.prefixLength, "prefixLength", 128)}`;
      options = listed.peer === undefined ? {} : { peer: listed.peer };
    } else {
      options = checkOptions("addr.delete() options", options, DELETE_KEYS);
    }
    // parsePrefix refuses anything but a prefix's text, undefined too.
    const request = this.#request(prefix as string, { peer: options.peer, scope: 0 });
    request.ifaIndex = await ctx.ifindex(dev);
    delete request.cacheinfo;
    await ctx.run(
      `address delete ${prefix} dev ${linkRefText(devText)}`,
      () => ctx.addr.do("deladdr", request as never),
    );
  }

  /**
   * Waits until `until` holds for an address of link `dev` (pyroute2's `poll()`, as
   * `ip.link.wait()` for a link): calls it with the address as {@linkcode list} gives it
   * (undefined while the link has none such, or while there is no such link: the wait covers
   * the link's coming too, as `link.wait()`'s does, and by name a link made with that name or
   * renamed to it is the one watched), then again at each change to it, and resolves with what
   * it last gave it once it returns true. `address` is the address's text, with a
   * prefix length to match that too (`"2001:db8::1"`, `"2001:db8::1/64"`). What a script waits
   * for after adding an IPv6 address: it is "tentative" until duplicate address detection ends
   * (a second or so: `bind()` to it fails until then), and "dadfailed" too if another host has
   * it. Watches through the client's {@linkcode RouteClient.monitor}, joined before the first
   * look, so no change is missed (an overrun looks again): not while a monitor of the client
   * runs (open a second client). Waits as long as it takes: bound it with
   * {@linkcode WaitOptions}' `timeout` (a "TimeoutError" DOMException) or `signal` (its reason);
   * it also rejects when the client closes, or with what `until` throws (a TypeError if it
   * returns a promise: it is called synchronously).
   *
   * @example
   * ```ts
   * import { type Address, openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.link.add({ name: "veth0", kind: "veth", peer: { name: "veth1" }, up: true });
   * await ip.link.set("veth1", { up: true }); // DAD waits for a carrier
   * await ip.addr.add("veth0", "2001:db8::1/64");
   * const settled = (a?: Address) =>
   *   a !== undefined && (!a.flags.includes("tentative") || a.flags.includes("dadfailed"));
   * const address = await ip.addr.wait("veth0", "2001:db8::1", settled, { timeout: 5000 });
   * console.log(address?.flags); // ["permanent"] (and "tentative", "dadfailed" if another host has it)
   * ```
   */
  async wait(
    dev: LinkRef,
    address: string,
    until: (address: Address | undefined) => boolean,
    options: WaitOptions = {},
  ): Promise<Address | undefined> {
    const parsed = parsePrefix(address, "address");
    const prefixLength = address.includes("/") ? parsed.prefixLength : undefined;
    options = checkWait(
      "addr.wait()",
      until,
      options,
      "(a) => a?.flags.includes(\"tentative\") === false",
    );
    checkLinkRef(dev, "dev");
    const family = parsed.family === 10 ? "inet6" : "inet";
    const text = formatIP(parsed.address); // as list() writes it (RFC 5952)
    return await waitOnLink(
      this.#ctx,
      "addr.wait()",
      "address",
      dev,
      (index) => this.list({ dev: index, family }),
      (a) =>
        a.family === family && a.address === text
        && (prefixLength === undefined || a.prefixLength === prefixLength),
      until,
      options,
    );
  }

  /**
   * Removes every address matching the filter (`ip address flush dev eth0`) and resolves with
   * how many went. Secondaries the kernel removes with their primary count too. An empty filter
   * is a TypeError, as `ip address flush` without arguments is refused: it would remove every
   * address of every link, loopback's included.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * console.log(await ip.addr.flush({ dev: "eth0", family: "inet" }));
   * ```
   */
  async flush(filter: AddressFilter): Promise<number> {
    const ctx = this.#ctx;
    filter = checkOptions("addr.flush() filter", filter, FILTER_KEYS);
    if (!FILTER_KEYS.some((key) => filter[key as keyof AddressFilter] !== undefined)) {
      throw new TypeError(
        "addr.flush() needs a filter ({ dev }, { family }, { scope }): with none it would remove "
          + "every address of every link, loopback's too (ip address flush refuses too)",
      );
    }
    const addresses = await this.list(filter);
    let removed = 0;
    for (const a of addresses) {
      try {
        await ctx.addr.do("deladdr", {
          ifaFamily: a.raw.ifaFamily,
          ifaPrefixlen: a.raw.ifaPrefixlen,
          ifaIndex: a.raw.ifaIndex,
          ...(a.raw.local !== undefined ? { local: a.raw.local } : {}),
          ...(a.raw.address !== undefined ? { address: a.raw.address } : {}),
        });
        removed++;
      } catch (err) {
        // Gone with its primary (or by another hand) since the list.
        if (err instanceof NetlinkError && err.code === "EADDRNOTAVAIL") removed++;
        else throw ctx.noLink(err, a.index);
      }
    }
    return removed;
  }

  #request(prefix: string, options: AddressOptions): Record<string, unknown> {
    const { family, address, prefixLength } = parsePrefix(prefix, "address");
    const request: Record<string, unknown> = {
      ifaFamily: family,
      ifaPrefixlen: prefixLength,
      local: address,
      address: options.peer === undefined ? address : parseIP(options.peer, "peer"),
    };
    if (options.peer !== undefined && (request.address as Uint8Array).length !== address.length) {
      throw new TypeError(`peer: ${options.peer} is not of the address's family`);
    }
    const scope = options.scope ?? (family === 2 && address[0] === 127 ? "host" : "global");
    request.ifaScope = SCOPES.value(scope, "scope");
    if (options.broadcast !== undefined) {
      if (family !== 2) throw new TypeError("broadcast: only IPv4 addresses have one");
      // "+" as ip computes it: none for /31 (RFC 3021) and /32, which have no host part to fill.
      if (options.broadcast !== "+") {
        const broadcast = parseIP(options.broadcast, "broadcast");
        // The kernel would take the first 4 bytes of an IPv6 one as the IPv4 broadcast.
        if (broadcast.length !== 4) {
          throw new TypeError(`broadcast: ${shown(options.broadcast)} is not an IPv4 address`);
        }
        request.broadcast = broadcast;
      } else if (prefixLength <= 30) request.broadcast = broadcastOf(address, prefixLength);
    }
    if (options.label !== undefined) {
      if (family !== 2) throw new TypeError("label: only IPv4 addresses have one");
      const { label } = options;
      if (
        typeof label !== "string" || label === "" || label.includes("\0")
        || new TextEncoder().encode(label).length > 15
      ) {
        throw new TypeError(`label: ${shown(label)} is not a label (1 to 15 bytes, no NUL)`);
      }
      request.label = label;
    }
    if (options.metric !== undefined) {
      request.rtPriority = integer(options.metric, "metric", 0xffff_ffff);
    }
    if (options.flags !== undefined) {
      const flags = flagValue(ADDRESS_FLAGS, options.flags, "flags");
      request.flags = flags;
      request.ifaFlags = flags & 0xff;
    }
    if (options.validLifetime !== undefined || options.preferredLifetime !== undefined) {
      const valid = lifetime(options.validLifetime, "validLifetime");
      const preferred = lifetime(
        options.preferredLifetime ?? options.validLifetime,
        "preferredLifetime",
      );
      if (preferred > valid) throw new TypeError("preferredLifetime must not exceed validLifetime");
      request.cacheinfo = { ifaValid: valid, ifaPrefered: preferred };
    }
    return request;
  }
}
