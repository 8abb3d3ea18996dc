/**
 * A bridge's VLANs (`bridge vlan`): which VLANs each port and the bridge itself carry, which one
 * is a port's PVID and which egress untagged: list, add, delete. The rt-link spec has no
 * AF_BRIDGE section for them, so this is a small codec of its own over `AttributeEncoder` /
 * `AttributeDecoder`, with the numbers from <linux/if_bridge.h> and <linux/rtnetlink.h>
 * (src/constants.ts): an AF_BRIDGE link message whose IFLA_AF_SPEC carries IFLA_BRIDGE_FLAGS and
 * struct bridge_vlan_info entries.
 *
 * @module
 */

import {
  AF_BRIDGE,
  BRIDGE_FLAGS_MASTER,
  BRIDGE_FLAGS_SELF,
  BRIDGE_VLAN_INFO_PVID,
  BRIDGE_VLAN_INFO_RANGE_BEGIN,
  BRIDGE_VLAN_INFO_RANGE_END,
  BRIDGE_VLAN_INFO_UNTAGGED,
  IFLA_AF_SPEC,
  IFLA_BRIDGE_FLAGS,
  IFLA_BRIDGE_VLAN_INFO,
  IFLA_EXT_MASK,
  IFLA_IFNAME,
  IFLA_MASTER,
  NLM_F_DUMP,
  RTEXT_FILTER_BRVLAN,
  RTM_DELLINK,
  RTM_GETLINK,
  RTM_NEWLINK,
  RTM_SETLINK,
} from "../_constants.ts";
import { checkOptions } from "../_options.ts";
import { AttributeDecoder, AttributeEncoder } from "../attribute.ts";
import { MalformedMessageError } from "../errors.ts";
import { type Context, contextOf, type LinkRef } from "./_context.ts";
import { printAs } from "./_names.ts";
import type { RouteClient } from "./client.ts";
import { boolean } from "./nexthop.ts";
import { integer } from "./route.ts";

// struct ifinfomsg { u8 family, pad; u16 type; s32 index; u32 flags, change } and struct
// bridge_vlan_info { u16 flags, vid }: 16 and 4 bytes (uapi, fixed).
const IFINFOMSG_SIZE = 16;
const VLAN_INFO_SIZE = 4;

/**
 * A VLAN of a bridge port or of the bridge itself, as `bridge -j vlan show` shows it: one per
 * VLAN (a range is listed VLAN by VLAN, as `bridge vlan show` without `-c` lists it), `vlan` as
 * `vid`, the flags "PVID" and "Egress Untagged" as `pvid` and `untagged`.
 *
 * @example
 * ```ts
 * import { openRoute } from "@netlink/netlink/route";
 * await using ip = await openRoute();
 * for (const v of await ip.vlan.list()) console.log(v.dev, v.vid, v.pvid, v.untagged);
 * ```
 */
export interface BridgeVlan {
  /** The index of the link: a bridge port, or the bridge itself. */
  readonly index: number;
  /** That link's name. */
  readonly dev?: string;
  /** The VLAN id, 1 to 4094. */
  readonly vid: number;
  /** The port's PVID: untagged frames it receives go to this VLAN. */
  readonly pvid: boolean;
  /** Frames of this VLAN leave the port untagged. */
  readonly untagged: boolean;
  /**
   * The index of the bridge a port's VLAN belongs to; absent for the bridge's own VLANs (those
   * `bridge vlan ... self` adds on the bridge device), which `delete()` deletes with `self`.
   */
  readonly masterIndex?: number;
  /** That bridge's name, as `bridge -j vlan show` prints it (a `Link`'s `master` is its index). */
  readonly master?: string;
}

/**
 * A VLAN, or a range of them, to add to a port or a bridge (`bridge vlan add dev DEV vid VID`),
 * or, without `pvid` and `untagged`, to delete.
 *
 * @example
 * ```ts
 * import type { NewBridgeVlan } from "@netlink/netlink/route";
 * const access: NewBridgeVlan = { dev: "veth0", vid: 10, pvid: true, untagged: true };
 * const trunk: NewBridgeVlan = { dev: "veth1", vid: 20, vidEnd: 29 };
 * const onBridge: NewBridgeVlan = { dev: "br0", vid: 10, self: true };
 * ```
 */
export interface NewBridgeVlan {
  /** The link: a bridge port, or (with `self`) the bridge itself. */
  dev: LinkRef;
  /** The VLAN id, 1 to 4094; with `vidEnd`, the first of a range. */
  vid: number;
  /** The last VLAN of a range `vid`..`vidEnd` (`vid 20-29`), not below `vid`. */
  vidEnd?: number;
  /** Make it the port's PVID (`pvid`): a single VLAN, not a range. */
  pvid?: boolean;
  /** Its frames leave the port untagged (`untagged`). */
  untagged?: boolean;
  /**
   * The link's own VLANs (`self`, BRIDGE_FLAGS_SELF): on the bridge device, the bridge's own
   * (the host's side of the bridge); on a switch port, its hardware's.
   */
  self?: boolean;
  /**
   * The VLANs of the bridge the link is a port of (`master`, BRIDGE_FLAGS_MASTER): what the
   * kernel does when neither `self` nor `master` is given.
   */
  master?: boolean;
}

/**
 * Filters of `vlan.list()`.
 *
 * @example
 * ```ts
 * import type { BridgeVlanFilter } from "@netlink/netlink/route";
 * const ofPort: BridgeVlanFilter = { dev: "veth0", vid: 10 };
 * ```
 */
export interface BridgeVlanFilter {
  /** Only the VLANs of this link (`bridge vlan show dev`). */
  dev?: LinkRef;
  /** Only this VLAN (`bridge vlan show vid`). */
  vid?: number;
}

// Every key of each spec and nothing else (`satisfies`): a misspelt one is refused, not ignored.
const FILTER_KEYS = Object.keys({ dev: 0, vid: 0 } satisfies Record<keyof BridgeVlanFilter, 0>);
const ADD_KEYS = Object.keys(
  { dev: 0, vid: 0, vidEnd: 0, pvid: 0, untagged: 0, self: 0, master: 0 } satisfies Record<
    keyof NewBridgeVlan,
    0
  >,
);
const DELETE_KEYS = ADD_KEYS.filter((key) => key !== "pvid" && key !== "untagged");
// A listed VLAN's keys: delete() takes a copy of one (a spread, JSON) too, as fdb.delete() does.
const LISTED_KEYS = Object.keys(
  { index: 0, dev: 0, vid: 0, pvid: 0, untagged: 0, masterIndex: 0, master: 0 } satisfies Record<
    keyof BridgeVlan,
    0
  >,
);

// Named as the interface is, for console.log.
const BridgeVlanObject = class BridgeVlan {};
printAs(BridgeVlanObject, class BridgeVlan {});

/** One AF_BRIDGE link message's VLANs: struct bridge_vlan_info entries, ranges expanded. */
interface VlanMessage {
  index: number;
  name?: string;
  master?: number;
  vlans: { vid: number; flags: number }[];
}

/**
 * Decodes an RTM_NEWLINK of family AF_BRIDGE: its link, its bridge (IFLA_MASTER) and the
 * IFLA_BRIDGE_VLAN_INFO entries of its IFLA_AF_SPEC, a RANGE_BEGIN..RANGE_END pair as every
 * VLAN between; undefined for a message of another family.
 */
export function decodeVlanMessage(payload: Uint8Array): VlanMessage | undefined {
  if (payload.length < IFINFOMSG_SIZE) {
    throw new RangeError(`a link message needs ${IFINFOMSG_SIZE} bytes, got ${payload.length}`);
  }
  if (payload[0] !== AF_BRIDGE) return undefined;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const out: VlanMessage = { index: view.getInt32(4, true), vlans: [] };
  const attrs = new AttributeDecoder(payload, IFINFOMSG_SIZE);
  while (attrs.next()) {
    if (attrs.type === IFLA_IFNAME) out.name = attrs.string();
    else if (attrs.type === IFLA_MASTER) out.master = attrs.u32();
    else if (attrs.type !== IFLA_AF_SPEC) continue;
    else {
      const spec = attrs.nestedDecoder();
      let begin = 0;
      let last = 0; // the highest VLAN id so far: the kernel sends a port's in ascending order
      while (spec.next()) {
        if (spec.type !== IFLA_BRIDGE_VLAN_INFO) continue;
        const info = spec.bytes();
        if (info.length < VLAN_INFO_SIZE) continue;
        const flags = info[0] | info[1] << 8;
        const vid = info[2] | info[3] << 8;
        // A faulty source's range could expand to 65,535 entries, and ranges overlapping again
        // and again to millions: an id outside 1-4094, or not above the last, is refused.
        if (vid < 1 || vid > 4094 || vid <= last) {
          throw new MalformedMessageError(
            `bridge VLAN message: IFLA_BRIDGE_VLAN_INFO's VLAN ${vid} is ${
              vid < 1 || vid > 4094 ? "outside 1-4094" : `not above the one before it (${last})`
            }`,
            info.byteOffset - payload.byteOffset - 4,
          );
        }
        last = vid;
        const kept = flags & (BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED);
        if (flags & BRIDGE_VLAN_INFO_RANGE_BEGIN) {
          begin = vid;
        } else if (flags & BRIDGE_VLAN_INFO_RANGE_END && begin) {
          for (let v = begin; v <= vid; v++) out.vlans.push({ vid: v, flags: kept });
          begin = 0;
        } else {
          out.vlans.push({ vid, flags: kept });
        }
      }
    }
  }
  return out;
}

/**
 * The RTM_SETLINK (add) or RTM_DELLINK (delete) payload `bridge vlan` sends: an AF_BRIDGE
 * ifinfomsg for link `index`, IFLA_AF_SPEC { IFLA_BRIDGE_FLAGS when `bridgeFlags`, then one
 * IFLA_BRIDGE_VLAN_INFO, or a RANGE_BEGIN and a RANGE_END one for `vid`..`vidEnd` }.
 */
export function encodeVlanRequest(
  index: number,
  bridgeFlags: number,
  vlanFlags: number,
  vid: number,
  vidEnd = vid,
): Uint8Array {
  const info = (flags: number, id: number) => {
    const bytes = new Uint8Array(VLAN_INFO_SIZE);
    const view = new DataView(bytes.buffer);
    view.setUint16(0, flags, true);
    view.setUint16(2, id, true);
    return bytes;
  };
  const body = new AttributeEncoder().nested(IFLA_AF_SPEC, (spec) => {
    if (bridgeFlags) spec.u16(IFLA_BRIDGE_FLAGS, bridgeFlags);
    if (vidEnd === vid) {
      spec.bytes(IFLA_BRIDGE_VLAN_INFO, info(vlanFlags, vid));
    } else {
      spec.bytes(IFLA_BRIDGE_VLAN_INFO, info(vlanFlags | BRIDGE_VLAN_INFO_RANGE_BEGIN, vid));
      spec.bytes(IFLA_BRIDGE_VLAN_INFO, info(vlanFlags | BRIDGE_VLAN_INFO_RANGE_END, vidEnd));
    }
  }).finish();
  const payload = new Uint8Array(IFINFOMSG_SIZE + body.length);
  payload[0] = AF_BRIDGE;
  new DataView(payload.buffer).setInt32(4, index, true);
  payload.set(body, IFINFOMSG_SIZE);
  return payload;
}

function vlanId(value: unknown, field: string): number {
  return integer(value, field, 4094, 1);
}

/** The VLAN, or range, of a spec: `vid`, and `vidEnd` not below it. */
function vlanRange(spec: { vid: unknown; vidEnd?: unknown }): [number, number] {
  const vid = vlanId(spec.vid, "vid");
  if (spec.vidEnd === undefined) return [vid, vid];
  const vidEnd = vlanId(spec.vidEnd, "vidEnd");
  if (vidEnd < vid) {
    throw new TypeError(
      `vidEnd: ${vidEnd} is below vid ${vid}: a range goes up (vid ${vidEnd}, vidEnd ${vid})`,
    );
  }
  return [vid, vidEnd];
}

/** IFLA_BRIDGE_FLAGS of `self` and `master`: none when neither (the kernel then means master). */
function bridgeFlagsOf(spec: { self?: unknown; master?: unknown }): number {
  return (boolean(spec.self, "self") ? BRIDGE_FLAGS_SELF : 0)
    | (boolean(spec.master, "master") ? BRIDGE_FLAGS_MASTER : 0);
}

/** What EOPNOTSUPP means for a bridge VLAN request. */
const NOT_SUPPORTED = "the link is no bridge port (for the bridge's own VLANs give self: true), "
  + "or the kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)";

/**
 * `bridge vlan`: the VLANs of the bridges of the client's namespace, their ports' and their own.
 * Takes effect once the bridge filters by VLAN (`vlan_filtering 1`); the kernel keeps them
 * either way.
 *
 * @example
 * ```ts
 * import { openRoute } from "@netlink/netlink/route";
 * await using ip = await openRoute();
 * await ip.vlan.add({ dev: "veth0", vid: 10, pvid: true, untagged: true });
 * await ip.vlan.add({ dev: "veth1", vid: 10 });
 * console.log(await ip.vlan.list({ vid: 10 }));
 * ```
 */
export class BridgeVlans {
  readonly #ctx: Context;

  /** The client's; get one from `openRoute()`. */
  constructor(client: RouteClient) {
    this.#ctx = contextOf(client);
  }

  /**
   * Every VLAN of every bridge port and bridge (`bridge vlan show`), or those of a link or of
   * one VLAN, one object per VLAN: an AF_BRIDGE link dump with IFLA_EXT_MASK
   * RTEXT_FILTER_BRVLAN, filtered here (the kernel filters none of it). A kernel without
   * bridge VLAN filtering lists none.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * const pvid = (await ip.vlan.list({ dev: "veth0" })).find((v) => v.pvid)?.vid;
   * console.log(pvid);
   * ```
   */
  async list(filter: BridgeVlanFilter = {}): Promise<BridgeVlan[]> {
    const ctx = this.#ctx;
    filter = checkOptions("vlan.list() filter", filter, FILTER_KEYS);
    const vid = filter.vid === undefined ? 0 : vlanId(filter.vid, "vid");
    const index = filter.dev === undefined ? 0 : await ctx.ifindex(filter.dev);
    await ctx.refreshNames();
    // As `bridge vlan show` asks: the header all zeros (strict checking refuses an index) and
    // the mask alone.
    const payload = new Uint8Array(IFINFOMSG_SIZE + 8);
    payload[0] = AF_BRIDGE;
    payload.set(new AttributeEncoder().u32(IFLA_EXT_MASK, RTEXT_FILTER_BRVLAN).finish(), 16);
    let out: BridgeVlan[] = [];
    await ctx.list("vlan list", async () => {
      out = [];
      for await (
        const message of ctx.socket.dump({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload })
      ) {
        if (message.type !== RTM_NEWLINK) continue;
        const link = decodeVlanMessage(message.payload);
        if (link === undefined || (index && link.index !== index)) continue;
        const dev = link.name ?? ctx.names.get(link.index);
        // The bridge's own message names the bridge its master too (br_fill_ifinfo()): none.
        const masterIndex = link.master === link.index ? undefined : link.master;
        const master = masterIndex === undefined ? undefined : ctx.names.get(masterIndex);
        for (const v of link.vlans) {
          if (vid && v.vid !== vid) continue;
          const entry = new BridgeVlanObject() as unknown as Record<string, unknown>;
          entry.index = link.index;
          if (dev !== undefined) entry.dev = dev;
          entry.vid = v.vid;
          entry.pvid = (v.flags & BRIDGE_VLAN_INFO_PVID) !== 0;
          entry.untagged = (v.flags & BRIDGE_VLAN_INFO_UNTAGGED) !== 0;
          if (masterIndex !== undefined) {
            entry.masterIndex = masterIndex;
            if (master !== undefined) entry.master = master;
          }
          out.push(ctx.mine(entry as unknown as BridgeVlan));
        }
      }
    });
    return out;
  }

  /**
   * Adds a VLAN, or a range, to a bridge port, or with `self` to the bridge itself (`bridge vlan
   * add`): one the link has already takes these flags (`pvid` moves the PVID; no `untagged` makes
   * it tagged). Bad input (a range going down, a PVID range) is a TypeError before any request,
   * a `vid` outside 1-4094 a RangeError; EOPNOTSUPP when the link is no bridge port or the kernel has no
   * VLAN filtering.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.vlan.add({ dev: "veth0", vid: 10, pvid: true, untagged: true });
   * await ip.vlan.add({ dev: "veth0", vid: 100, vidEnd: 199 });
   * await ip.vlan.add({ dev: "br0", vid: 10, self: true });
   * ```
   */
  async add(vlan: NewBridgeVlan): Promise<void> {
    if (typeof vlan !== "object" || vlan === null) {
      throw new TypeError("vlan.add(): expected an object such as { dev, vid }");
    }
    checkOptions("vlan.add() vlan", vlan, ADD_KEYS);
    const [vid, vidEnd] = vlanRange(vlan);
    const pvid = boolean(vlan.pvid, "pvid");
    if (pvid && vidEnd !== vid) {
      throw new TypeError(`pvid: a port has one PVID, not a range (${vid}-${vidEnd})`);
    }
    const flags = (pvid ? BRIDGE_VLAN_INFO_PVID : 0)
      | (boolean(vlan.untagged, "untagged") ? BRIDGE_VLAN_INFO_UNTAGGED : 0);
    await this.#send("add", RTM_SETLINK, vlan.dev, bridgeFlagsOf(vlan), flags, vid, vidEnd);
  }

  /**
   * Deletes a VLAN or a range from a link (`bridge vlan del`): one `list()` returned (a bridge's
   * own VLAN with `self`, a port's from its bridge), or given by `dev`, `vid` (`vidEnd`) and
   * `self`/`master` as for `add()`. Deleting a VLAN the link does not have succeeds, as the
   * kernel has it. Bad input is a TypeError before any request (a RangeError out of range).
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.vlan.delete({ dev: "veth0", vid: 100, vidEnd: 199 });
   * for (const v of await ip.vlan.list({ dev: "veth1" })) {
   *   if (!v.pvid) await ip.vlan.delete(v);
   * }
   * ```
   */
  async delete(vlan: BridgeVlan | Omit<NewBridgeVlan, "pvid" | "untagged">): Promise<void> {
    if (typeof vlan !== "object" || vlan === null) {
      throw new TypeError("vlan.delete(): expected an object such as { dev, vid }");
    }
    if ("index" in vlan) {
      // A listed VLAN, or a copy of one: by its link's index, from where it was listed.
      if (!(vlan instanceof BridgeVlanObject)) {
        checkOptions("vlan.delete() vlan", vlan, LISTED_KEYS);
      }
      const vid = vlanId(vlan.vid, "vid");
      const index = await this.#ctx.listedIndex(
        vlan,
        integer(vlan.index, "index", 0x7fff_ffff, 1),
        vlan.dev,
      );
      const flags = vlan.masterIndex === undefined ? BRIDGE_FLAGS_SELF : BRIDGE_FLAGS_MASTER;
      await this.#send("delete", RTM_DELLINK, vlan.dev ?? index, flags, 0, vid, vid, index);
      return;
    }
    checkOptions("vlan.delete() vlan", vlan, DELETE_KEYS);
    const [vid, vidEnd] = vlanRange(vlan);
    await this.#send("delete", RTM_DELLINK, vlan.dev, bridgeFlagsOf(vlan), 0, vid, vidEnd);
  }

  async #send(
    verb: "add" | "delete",
    type: number,
    dev: LinkRef,
    bridgeFlags: number,
    vlanFlags: number,
    vid: number,
    vidEnd: number,
    listedIndex?: number,
  ): Promise<void> {
    const ctx = this.#ctx;
    const what = `vlan ${verb} ${vid === vidEnd ? vid : `${vid}-${vidEnd}`} dev ${dev}`;
    const index = listedIndex ?? await ctx.ifindex(dev); // last: looking it up is a request
    const payload = encodeVlanRequest(index, bridgeFlags, vlanFlags, vid, vidEnd);
    await ctx.run(what, () => ctx.socket.request({ type, payload }), {
      EOPNOTSUPP: NOT_SUPPORTED,
    });
  }
}
