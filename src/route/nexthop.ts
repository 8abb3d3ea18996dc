/**
 * NexthopObject objects (`ip nexthop`): list, get, add, replace, delete. The kernel has no YNL spec
 * for them, so this is a small codec of its own over `AttributeEncoder` / `AttributeDecoder`,
 * with the numbers from <linux/nexthop.h> (src/constants.ts).
 *
 * @module
 */

import {
  NEXTHOP_GRP_TYPE_MPATH,
  NEXTHOP_GRP_TYPE_RES,
  NHA_BLACKHOLE,
  NHA_FDB,
  NHA_GATEWAY,
  NHA_GROUP,
  NHA_GROUP_TYPE,
  NHA_GROUPS,
  NHA_ID,
  NHA_OIF,
  NHA_RES_GROUP,
  NHA_RES_GROUP_BUCKETS,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_ECHO,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  RTM_DELNEXTHOP,
  RTM_GETNEXTHOP,
  RTM_NEWNEXTHOP,
} from "../_constants.ts";
import { checkOptions } from "../_options.ts";
import { AttributeDecoder, AttributeEncoder } from "../attribute.ts";
import { MalformedMessageError, NetlinkError } from "../errors.ts";
import { formatIP, parseIP } from "../ip.ts";
import type { ReceivedMessage } from "../message.ts";
import { type Context, contextOf, isListed, type LinkRef } from "./_context.ts";
import {
  FAMILIES,
  flagNames,
  inetFamily,
  Names,
  printAs,
  PROTOCOLS,
  ROUTE_FLAGS,
  SCOPES,
  WithRaw,
} from "./_names.ts";
import type { Scope } from "./address.ts";
import type { RouteClient } from "./client.ts";
import { integer, type RouteProtocol } from "./route.ts";

// struct nhmsg { u8 nh_family, nh_scope, nh_protocol, resvd; u32 nh_flags } and struct
// nexthop_grp { u32 id; u8 weight, weight_high; u16 resvd2 }: 8 bytes each (uapi, fixed).
const NHMSG_SIZE = 8;
const NEXTHOP_GRP_SIZE = 8;
const AF_INET = 2, AF_INET6 = 10;

const GROUP_TYPES = new Names("nexthop group type", {
  mpath: NEXTHOP_GRP_TYPE_MPATH,
  resilient: NEXTHOP_GRP_TYPE_RES,
});

/**
 * A member of a nexthop group: a nexthop's id and its weight.
 *
 * @example
 * ```ts
 * import type { NexthopGroupMember } from "@netlink/netlink/route";
 * const member: NexthopGroupMember = { id: 1, weight: 3 };
 * ```
 */
export interface NexthopGroupMember {
  /** The member nexthop's id. */
  id: number;
  /** Its weight, 1..256 (default 1); read back always present. */
  weight?: number;
}

/**
 * A nexthop object, as `ip -j nexthop show` shows it. The numbers behind the names stay under
 * `raw`: the RTM_NEWNEXTHOP payload (struct nhmsg and the NHA_* attributes) as the kernel sent it.
 *
 * @example
 * ```ts
 * import { openRoute } from "@netlink/netlink/route";
 * await using ip = await openRoute();
 * for (const nh of await ip.nexthop.list()) console.log(nh.id, nh.gateway ?? nh.group ?? "");
 * ```
 */
export interface NexthopObject {
  /** Its id (NHA_ID), what routes name with `nhid`. */
  readonly id: number;
  /** "inet", "inet6", or "unspec" for a group. */
  readonly family: string | number;
  /** Gateway address (`via`). */
  readonly gateway?: string;
  /** Outgoing link's name. */
  readonly dev?: string;
  /** Outgoing link's index. */
  readonly ifindex?: number;
  /**
   * Scope, as the kernel sets it: "link" for a gateway and for an IPv6 device alone, "host" for
   * an IPv4 device alone, "global" for groups and blackholes.
   */
  readonly scope: Scope | number;
  /** Who installed it ("unspec" when `ip nexthop add` did, "static"...). */
  readonly protocol: RouteProtocol | number;
  /** RTNH_F_* names ("onlink", "dead", "linkdown"...). */
  readonly flags: string[];
  /** A blackhole: packets sent to it are dropped. */
  readonly blackhole?: true;
  /** For the bridge's FDB (vxlan), not for routes. */
  readonly fdb?: true;
  /** The members of a group. */
  readonly group?: NexthopGroupMember[];
  /** A group's type: "mpath" (hash-threshold) or "resilient". */
  readonly groupType?: "mpath" | "resilient" | number;
  /** A resilient group's bucket count. */
  readonly buckets?: number;
  /** The RTM_NEWNEXTHOP payload as the kernel sent it. */
  readonly raw: Uint8Array;
}

/**
 * A nexthop to add or replace (`ip nexthop add ...`): a gateway and/or device, a blackhole, or a
 * group of other nexthops with weights.
 *
 * @example
 * ```ts
 * import type { NewNexthopObject } from "@netlink/netlink/route";
 * const viaGateway: NewNexthopObject = { id: 1, gateway: "10.0.0.2", dev: "eth0" };
 * const sink: NewNexthopObject = { id: 2, blackhole: true };
 * const ecmp: NewNexthopObject = { id: 3, group: [{ id: 1 }, { id: 4, weight: 3 }] };
 * ```
 */
export interface NewNexthopObject {
  /** Its id, 1..2^32-1; absent, the kernel picks one (`add()` resolves to it). */
  id?: number;
  /** Gateway address (`via`). */
  gateway?: string;
  /** Outgoing link (`dev`). */
  dev?: LinkRef;
  /** RTNH_F_ONLINK: the gateway is on the link even if no prefix says so. */
  onlink?: boolean;
  /** A blackhole (alone, or with `family`). */
  blackhole?: boolean;
  /** "inet" or "inet6": for a blackhole or a device alone (default "inet"). */
  family?: "inet" | "inet6";
  /** For the bridge's FDB (`fdb`). */
  fdb?: boolean;
  /** Members of a group (`group 1/2,3`), by id, with weights 1..256. */
  group?: NexthopGroupMember[];
  /** A group's type (default "mpath"). */
  groupType?: "mpath" | "resilient";
  /** A resilient group's bucket count (`buckets`), 1..65535. */
  buckets?: number;
  /** Protocol (`proto`; default "unspec", as `ip nexthop add`). */
  protocol?: RouteProtocol | number;
}

/**
 * Filters of `nexthop.list()`: sent to the kernel (NHA_OIF, NHA_GROUPS, NHA_FDB) and applied
 * to what comes back.
 *
 * @example
 * ```ts
 * import type { NexthopObjectFilter } from "@netlink/netlink/route";
 * const groupsOnly: NexthopObjectFilter = { groups: true };
 * ```
 */
export interface NexthopObjectFilter {
  /** Only nexthops out of this link. */
  dev?: LinkRef;
  /** Only "inet" or "inet6" nexthops. */
  family?: "inet" | "inet6";
  /** Only groups. */
  groups?: boolean;
  /** Only FDB nexthops. */
  fdb?: boolean;
}

// Every key of each spec and nothing else (`satisfies`): a misspelt one is refused, not ignored.
const FILTER_KEYS = Object.keys(
  { dev: 0, family: 0, groups: 0, fdb: 0 } satisfies Record<keyof NexthopObjectFilter, 0>,
);
const SPEC_KEYS = Object.keys(
  {
    id: 0,
    gateway: 0,
    dev: 0,
    onlink: 0,
    blackhole: 0,
    family: 0,
    fdb: 0,
    group: 0,
    groupType: 0,
    buckets: 0,
    protocol: 0,
  } satisfies Record<keyof NewNexthopObject, 0>,
);
const MEMBER_KEYS = Object.keys({ id: 0, weight: 0 } satisfies Record<keyof NexthopGroupMember, 0>);

// Named as the interface is, for console.log.
const NexthopClass = class NexthopObject extends WithRaw<Uint8Array> {};
printAs(NexthopClass, class NexthopObject {});

/** An optional boolean option: false when absent, a TypeError naming `field` when no boolean. */
export function boolean(value: unknown, field: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") throw new TypeError(`${field} must be a boolean`);
  return value;
}

/** Decodes one RTM_NEWNEXTHOP payload, with link names from `names`. */
function toNexthop(payload: Uint8Array, names: Map<number, string>): NexthopObject {
  if (payload.length < NHMSG_SIZE) {
    throw new RangeError(`a nexthop message needs ${NHMSG_SIZE} bytes, got ${payload.length}`);
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const out = new NexthopClass(payload) as unknown as Record<string, unknown>;
  out.id = 0;
  out.family = FAMILIES.name(payload[0]);
  out.scope = SCOPES.name(payload[1]);
  out.protocol = PROTOCOLS.name(payload[2]);
  out.flags = flagNames(ROUTE_FLAGS, view.getUint32(4, true) & 0xff);
  const attrs = new AttributeDecoder(payload, NHMSG_SIZE);
  while (attrs.next()) {
    switch (attrs.type) {
      case NHA_ID:
        out.id = attrs.u32();
        break;
      case NHA_GATEWAY: {
        const bytes = attrs.bytes();
        if (bytes.length !== 4 && bytes.length !== 16) {
          throw new MalformedMessageError(
            `nexthop message: NHA_GATEWAY is ${bytes.length} bytes long, but an IP address is 4 `
              + "or 16",
            bytes.byteOffset - payload.byteOffset - 4,
          );
        }
        out.gateway = formatIP(bytes);
        break;
      }
      case NHA_OIF: {
        const index = attrs.u32();
        const dev = names.get(index);
        if (dev !== undefined) out.dev = dev;
        out.ifindex = index;
        break;
      }
      case NHA_BLACKHOLE:
        out.blackhole = true;
        break;
      case NHA_FDB:
        out.fdb = true;
        break;
      case NHA_GROUP: {
        const bytes = attrs.bytes();
        const group: NexthopGroupMember[] = [];
        const members = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        for (let at = 0; at + NEXTHOP_GRP_SIZE <= bytes.length; at += NEXTHOP_GRP_SIZE) {
          // nexthop_grp_weight(): (weight_high << 8 | weight) + 1.
          group.push({
            id: members.getUint32(at, true),
            weight: (bytes[at + 5] << 8 | bytes[at + 4]) + 1,
          });
        }
        out.group = group;
        break;
      }
      case NHA_GROUP_TYPE:
        out.groupType = GROUP_TYPES.name(attrs.u16());
        break;
      case NHA_RES_GROUP: {
        const nested = attrs.nestedDecoder();
        while (nested.next()) if (nested.type === NHA_RES_GROUP_BUCKETS) out.buckets = nested.u16();
        break;
      }
    }
  }
  if (out.group !== undefined && out.groupType === undefined) out.groupType = "mpath";
  return out as unknown as NexthopObject;
}

/**
 * `ip nexthop`: the nexthop objects of the client's namespace, and groups of them, which routes
 * use by id (`ip.route.add({ dst, nhid })`).
 *
 * @example
 * ```ts
 * import { openRoute } from "@netlink/netlink/route";
 * await using ip = await openRoute();
 * await ip.nexthop.add({ id: 1, gateway: "10.0.0.2", dev: "eth0" });
 * await ip.nexthop.add({ id: 2, gateway: "10.0.0.3", dev: "eth0" });
 * await ip.nexthop.add({ id: 10, group: [{ id: 1 }, { id: 2, weight: 3 }] });
 * await ip.route.add({ dst: "10.9.0.0/16", nhid: 10 });
 * ```
 */
export class NexthopObjects {
  readonly #ctx: Context;

  /** The client's; get one from `openRoute()`. */
  constructor(client: RouteClient) {
    this.#ctx = contextOf(client);
  }

  /**
   * Every nexthop (`ip nexthop show`), optionally only those out of a link, of a family, only
   * groups or only FDB nexthops.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * console.log(await ip.nexthop.list({ groups: true }));
   * ```
   */
  async list(filter: NexthopObjectFilter = {}): Promise<NexthopObject[]> {
    const ctx = this.#ctx;
    if (typeof filter !== "object" || filter === null) {
      throw new TypeError("filter: expected an object such as { dev: \"eth0\" }");
    }
    checkOptions("nexthop.list() filter", filter, FILTER_KEYS);
    const family = inetFamily(filter.family);
    const groups = boolean(filter.groups, "groups");
    const fdb = boolean(filter.fdb, "fdb");
    const oif = filter.dev === undefined ? undefined : await ctx.ifindex(filter.dev);
    const attrs = new AttributeEncoder();
    if (oif !== undefined) attrs.u32(NHA_OIF, oif);
    if (groups) attrs.flag(NHA_GROUPS);
    if (fdb) attrs.flag(NHA_FDB);
    const payload = withHeader(family, 0, 0, attrs);
    await ctx.refreshNames();
    let out: NexthopObject[] = [];
    await ctx.list("nexthop list", async () => {
      out = [];
      for await (
        const message of ctx.socket.dump({ type: RTM_GETNEXTHOP, flags: NLM_F_DUMP, payload })
      ) {
        const nh = toNexthop(message.payload, ctx.names);
        if (family && nh.raw[0] !== family) continue;
        if (oif !== undefined && nh.ifindex !== oif) continue;
        if (groups && nh.group === undefined) continue;
        if (fdb && !nh.fdb) continue;
        out.push(ctx.mine(nh));
      }
    });
    return out;
  }

  /**
   * One nexthop by id (`ip nexthop get id ID`); rejects with NetlinkError ENOENT "no nexthop
   * with id N" when there is none.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * console.log((await ip.nexthop.get(1)).gateway);
   * ```
   */
  async get(id: number): Promise<NexthopObject> {
    const ctx = this.#ctx;
    const payload = withHeader(0, 0, 0, new AttributeEncoder().u32(NHA_ID, checkId(id)));
    const [reply] = await ctx.run(
      `nexthop get ${id}`,
      () => noNexthop(ctx.socket.request({ type: RTM_GETNEXTHOP, payload }), id),
    );
    return await this.#read(reply);
  }

  /**
   * Adds a nexthop (`ip nexthop add`); EEXIST when its id is taken. Resolves to its id (the
   * kernel's pick when `id` is absent).
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.nexthop.add({ id: 1, gateway: "10.0.0.2", dev: "eth0" });
   * await ip.nexthop.add({ id: 2, gateway: "10.0.0.3", dev: "eth0" });
   * const id = await ip.nexthop.add({ group: [{ id: 1 }, { id: 2, weight: 2 }] });
   * console.log(id > 2); // true: the kernel picked a free id
   * ```
   */
  add(nexthop: NewNexthopObject): Promise<number> {
    return this.#write(nexthop, NLM_F_CREATE | NLM_F_EXCL, "add");
  }

  /**
   * Adds a nexthop or replaces the one with the same id (`ip nexthop replace`): routes using it
   * follow the change. Resolves to its id.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.nexthop.replace({ id: 1, gateway: "10.0.0.3", dev: "eth0" });
   * ```
   */
  replace(nexthop: NewNexthopObject): Promise<number> {
    return this.#write(nexthop, NLM_F_CREATE | NLM_F_REPLACE, "replace");
  }

  /**
   * Deletes a nexthop by id (`ip nexthop del id ID`), or as `list()` gave it (by its id): routes
   * using it go with it, and it leaves the groups it is in. NetlinkError ENOENT "no nexthop
   * with id N" when there is none.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.nexthop.delete(1);
   * ```
   */
  async delete(nexthop: number | NexthopObject): Promise<void> {
    const ctx = this.#ctx;
    // A listed object: its id says which. Ids are per namespace: one another client listed on a
    // link must still be on a link of that name here (see listedIndex); a group has none to tell.
    const id = isListed(nexthop) ? nexthop.id : nexthop;
    if (isListed(nexthop) && nexthop.ifindex !== undefined) {
      await ctx.listedIndex(nexthop, nexthop.ifindex, nexthop.dev);
    }
    const payload = withHeader(0, 0, 0, new AttributeEncoder().u32(NHA_ID, checkId(id)));
    await ctx.run(
      `nexthop delete ${id}`,
      () => noNexthop(ctx.socket.request({ type: RTM_DELNEXTHOP, payload }), id),
    );
  }

  async #read(reply: ReceivedMessage | undefined): Promise<NexthopObject> {
    if (reply === undefined || reply.type !== RTM_NEWNEXTHOP) {
      throw new Error("nexthop: the kernel answered without the nexthop");
    }
    const nh = toNexthop(reply.payload, this.#ctx.names);
    if (nh.ifindex !== undefined && nh.dev === undefined) {
      const dev = await this.#ctx.ifname(nh.ifindex);
      if (dev !== undefined) (nh as { dev?: string }).dev = dev;
    }
    return this.#ctx.mine(nh);
  }

  async #write(spec: NewNexthopObject, flags: number, verb: string): Promise<number> {
    const ctx = this.#ctx;
    if (typeof spec !== "object" || spec === null) {
      throw new TypeError("nexthop: expected an object such as { id: 1, gateway, dev }");
    }
    checkOptions(`nexthop.${verb}() spec`, spec, SPEC_KEYS);
    const attrs = new AttributeEncoder();
    if (spec.id !== undefined) attrs.u32(NHA_ID, checkId(spec.id, "id"));
    const blackhole = boolean(spec.blackhole, "blackhole");
    const fdb = boolean(spec.fdb, "fdb");
    const onlink = boolean(spec.onlink, "onlink");
    const protocol = spec.protocol === undefined ? 0 : PROTOCOLS.value(spec.protocol, "protocol");
    let family = inetFamily(spec.family);
    if (spec.group !== undefined) {
      for (const key of ["gateway", "dev", "blackhole", "onlink", "family"] as const) {
        if (spec[key] !== undefined) {
          throw new TypeError(`${key}: a group has only members, not a ${key} of its own`);
        }
      }
      if (!Array.isArray(spec.group) || spec.group.length === 0) {
        throw new TypeError("group: expected a non-empty array of { id, weight }");
      }
      const members = new Uint8Array(spec.group.length * NEXTHOP_GRP_SIZE);
      const view = new DataView(members.buffer);
      for (const [i, member] of spec.group.entries()) {
        if (typeof member !== "object" || member === null) {
          throw new TypeError(`group[${i}]: expected { id, weight }`);
        }
        checkOptions(`nexthop.${verb}() group[${i}]`, member, MEMBER_KEYS);
        view.setUint32(i * NEXTHOP_GRP_SIZE, checkId(member.id, `group[${i}].id`), true);
        members[i * NEXTHOP_GRP_SIZE + 4] =
          integer(member.weight ?? 1, `group[${i}].weight`, 256, 1) - 1;
      }
      attrs.bytes(NHA_GROUP, members);
      const type = spec.groupType === undefined
        ? NEXTHOP_GRP_TYPE_MPATH
        : GROUP_TYPES.value(spec.groupType, "groupType", 0xffff);
      attrs.u16(NHA_GROUP_TYPE, type);
      if (spec.buckets !== undefined) {
        if (type !== NEXTHOP_GRP_TYPE_RES) {
          throw new TypeError("buckets: only a groupType \"resilient\" group has buckets");
        }
        const buckets = integer(spec.buckets, "buckets", 0xffff, 1);
        attrs.nested(NHA_RES_GROUP, (nested) => nested.u16(NHA_RES_GROUP_BUCKETS, buckets));
      }
    } else {
      if (spec.groupType !== undefined || spec.buckets !== undefined) {
        throw new TypeError("groupType, buckets: only a group (with `group`) has them");
      }
      if (blackhole) {
        if (spec.gateway !== undefined || spec.dev !== undefined || onlink) {
          throw new TypeError("blackhole: a blackhole has no gateway, dev or onlink");
        }
        attrs.flag(NHA_BLACKHOLE);
      } else if (spec.gateway === undefined && spec.dev === undefined) {
        throw new TypeError("nexthop: give a gateway, a dev, blackhole: true or a group");
      }
      if (spec.gateway !== undefined) {
        const gateway = parseIP(spec.gateway, "gateway");
        const own = gateway.length === 4 ? AF_INET : AF_INET6;
        if (family !== 0 && family !== own) {
          throw new TypeError(`gateway: ${spec.gateway} is not of family ${spec.family}`);
        }
        family = own;
        attrs.bytes(NHA_GATEWAY, gateway);
      }
      family ||= AF_INET;
      if (spec.dev !== undefined) attrs.u32(NHA_OIF, await ctx.ifindex(spec.dev));
    }
    if (fdb) attrs.flag(NHA_FDB);
    const payload = withHeader(family, protocol, onlink ? 4 : 0, attrs);
    const what = `nexthop ${verb}${spec.id === undefined ? "" : ` ${spec.id}`}`;
    if (spec.id !== undefined) {
      await ctx.run(
        what,
        () => ctx.socket.request({ type: RTM_NEWNEXTHOP, flags, payload }),
        verb === "add" ? { EEXIST: `id ${spec.id} is taken: nexthop.replace() changes it` } : {},
      );
      return spec.id;
    }
    // The kernel picks the id: its NLM_F_ECHO copy of the new nexthop says which. Only then:
    // the echo replaces this socket's own multicast copy of the change.
    const replies = await ctx.run(
      what,
      () => ctx.socket.request({ type: RTM_NEWNEXTHOP, flags: flags | NLM_F_ECHO, payload }),
    );
    const echo = replies.find((m) => m.type === RTM_NEWNEXTHOP);
    if (echo === undefined) throw new Error(`${what}: the kernel did not say which id it picked`);
    return toNexthop(echo.payload, ctx.names).id;
  }
}

/** ENOENT for a nexthop asked for by id, said as "no nexthop with id N". */
async function noNexthop<T>(request: Promise<T>, id: number): Promise<T> {
  try {
    return await request;
  } catch (err) {
    if (!(err instanceof NetlinkError && err.code === "ENOENT")) throw err;
    throw new NetlinkError({
      errno: err.errno,
      detail: `no nexthop with id ${id}`,
      requestType: err.requestType,
      requestSeq: err.requestSeq,
    });
  }
}

function checkId(id: unknown, field = "id"): number {
  return integer(id, field, 0xffff_ffff, 1);
}

/** struct nhmsg (scope 0: the kernel sets it), then the attributes. */
function withHeader(
  family: number,
  protocol: number,
  flags: number,
  attrs: AttributeEncoder,
): Uint8Array {
  const body = attrs.finish();
  const payload = new Uint8Array(NHMSG_SIZE + body.length);
  payload[0] = family;
  payload[2] = protocol;
  new DataView(payload.buffer).setUint32(4, flags, true);
  payload.set(body, NHMSG_SIZE);
  return payload;
}
