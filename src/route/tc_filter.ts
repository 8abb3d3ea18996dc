/**
 * Filters and their actions as `tc filter add` writes them: u32 (IPv4 header matches and raw
 * keys), matchall, basic and flower classifiers, with gact (pass, drop...) and mirred (redirect,
 * mirror) actions, turned into the TCA_OPTIONS tc sends. Pure: the {@linkcode TrafficControl}
 * client resolves device names and sends what these build.
 *
 * @module
 */

import {
  ETH_P_ALL,
  ETH_P_IP,
  ETH_P_IPV6,
  TC_ACT_OK,
  TC_ACT_PIPE,
  TC_ACT_RECLASSIFY,
  TC_ACT_SHOT,
  TC_ACT_STOLEN,
  TC_ACT_TRAP,
  TC_ACT_UNSPEC,
  TCA_EGRESS_MIRROR,
  TCA_EGRESS_REDIR,
  TCA_INGRESS_MIRROR,
  TCA_INGRESS_REDIR,
} from "../_constants.ts";
import { shown } from "../_options.ts";
import { parseMAC, parsePrefix } from "../ip.ts";
import { checkFilterKeys } from "./_tc_keys.ts";
import {
  boolean,
  defined,
  filterInfo,
  integer,
  named,
  nameSuggestion,
  protocolNumber,
  type TcMessage,
} from "./_tc_values.ts";
import { parseFilterParent, parseHandle, type TcHandle } from "./tc_handle.ts";
import type { Device } from "./tc_qdisc.ts";

/** One u32 key as `tc filter ... u32 match u32 VALUE MASK at OFF` writes it. */
export interface U32Key {
  /** The value to match (after the mask). */
  value: number;
  /** Bits of the 32-bit word that count. */
  mask: number;
  /** Byte offset of the word in the packet (from the network header): an int32, may be negative. */
  off: number;
  /**
   * The offset counts from the next header, where a hash table link's selector found it (tc's
   * `at nexthdr+N`: the key's offmask all ones). Absent: from the network header.
   */
  nexthdr?: boolean;
}

/** IPv4 header matches, as `match ip src|dst|protocol|sport|dport` writes them. */
export interface U32IpMatch {
  /** "10.0.0.0/24" or an address. */
  src?: string;
  /** "10.0.0.0/24" or an address. */
  dst?: string;
  /** IP protocol number (6 for TCP). */
  protocol?: number;
  /** Source port (after a 20-byte IPv4 header, as tc's `match ip sport`). */
  sport?: number;
  /** Destination port (likewise). */
  dport?: number;
}

/** Control actions of gact, by the names tc takes (`action drop`). */
export type GactControl =
  | "pass"
  | "ok"
  | "drop"
  | "shot"
  | "reclassify"
  | "pipe"
  | "continue"
  | "trap";

/**
 * An action a filter runs on a match: a gact verdict (`action drop`, or the name alone), or
 * mirred (`action mirred egress redirect dev DEV`).
 */
export type TcAction =
  | GactControl
  | { kind: "gact"; control: GactControl }
  | {
    kind: "mirred";
    /** "redirect" (the packet goes there, tc's default verdict stolen) or "mirror" (a copy). */
    action: "redirect" | "mirror";
    /** "egress" (the default) or "ingress" of `dev`. */
    direction?: "egress" | "ingress";
    /** The device: an index, or a name the client resolves. */
    dev: Device;
  };

/** What every filter spec has: where it goes and what it matches first. */
export interface FilterPlace {
  /** The device. */
  dev: Device;
  /** The qdisc or class ("1:"), or "ingress"/"egress" on a clsact or ingress qdisc. */
  parent: TcHandle;
  /** "ip", "ipv6", "all" (the default), "arp", "802.1Q", or an ethertype number. */
  protocol?: string | number;
  /** Priority (the kernel picks one when absent). */
  pref?: number;
  /** Where matching packets go ("1:10"); also called flowid. */
  classid?: TcHandle;
  /** Actions run on a match, in order. */
  actions?: TcAction[];
}

/** A u32 filter (`tc filter add ... u32 match ip dst 10.0.0.0/24 classid 1:10`). */
export interface U32FilterSpec extends FilterPlace {
  /** The filter kind. */
  kind: "u32";
  /** IPv4 matches, and/or raw keys. */
  match?: U32IpMatch;
  /** Raw keys, after the IPv4 matches. */
  keys?: U32Key[];
}

/** A matchall filter (`tc filter add ... matchall action drop`). */
export interface MatchallFilterSpec extends FilterPlace {
  /** The filter kind. */
  kind: "matchall";
  /** Only in hardware (`skip_sw`). */
  skipSw?: boolean;
  /** Never in hardware (`skip_hw`). */
  skipHw?: boolean;
}

/** A basic filter without ematches (`tc filter add ... basic classid 1:10`). */
export interface BasicFilterSpec extends FilterPlace {
  /** The filter kind. */
  kind: "basic";
}

/** A flower filter (`tc filter add ... flower ip_proto tcp dst_ip 10.0.0.0/24 dst_port 80`). */
export interface FlowerFilterSpec extends FilterPlace {
  /** The filter kind. */
  kind: "flower";
  /** "tcp", "udp", "sctp", "icmp", "icmpv6", or a number. */
  ipProto?: "tcp" | "udp" | "sctp" | "icmp" | "icmpv6" | number;
  /** Destination MAC ("aa:bb:cc:dd:ee:ff"). */
  dstMac?: string;
  /** Source MAC. */
  srcMac?: string;
  /** An IPv4 or IPv6 address or prefix (the filter's protocol must be ip or ipv6). */
  dstIp?: string;
  /** Source address or prefix. */
  srcIp?: string;
  /** Needs ipProto tcp, udp or sctp. */
  dstPort?: number;
  /** Source port; needs ipProto tcp, udp or sctp. */
  srcPort?: number;
  /** Only in hardware (`skip_sw`). */
  skipSw?: boolean;
  /** Never in hardware (`skip_hw`). */
  skipHw?: boolean;
}

/** What {@linkcode TrafficControl.addFilter} takes. */
export type FilterSpec =
  | U32FilterSpec
  | MatchallFilterSpec
  | BasicFilterSpec
  | FlowerFilterSpec;

/** Control actions by name, as tc's action_a2n. */
const CONTROLS: Record<GactControl, number> = {
  continue: TC_ACT_UNSPEC,
  drop: TC_ACT_SHOT,
  shot: TC_ACT_SHOT,
  pass: TC_ACT_OK,
  ok: TC_ACT_OK,
  reclassify: TC_ACT_RECLASSIFY,
  pipe: TC_ACT_PIPE,
  trap: TC_ACT_TRAP,
};

function control(name: GactControl): number {
  const code = named(CONTROLS, name);
  if (code === undefined) {
    throw new RangeError(
      `action: ${shown(name)} is not one of ${Object.keys(CONTROLS).join(", ")}`
        + nameSuggestion(name, Object.keys(CONTROLS)),
    );
  }
  return code;
}

/** struct tc_mirred: tc_gen (index, capab, action, refcnt, bindcnt), eaction, ifindex. */
const TC_MIRRED_SIZE = 28;

function mirredParms(action: Extract<TcAction, { kind: "mirred" }>): Uint8Array {
  if (typeof action.dev !== "number") {
    throw new TypeError(
      `mirred: dev ${shown(action.dev)} must be an index here (TrafficControl resolves names)`,
    );
  }
  const redirect = action.action === "redirect";
  if (!redirect && action.action !== "mirror") {
    throw new RangeError(`mirred: ${shown(action.action)} is not "redirect" or "mirror"`);
  }
  const ingress = action.direction === "ingress";
  if (!ingress && (action.direction ?? "egress") !== "egress") {
    throw new RangeError(
      `mirred: direction ${shown(action.direction)} is not "egress" or "ingress"`,
    );
  }
  const parms = new Uint8Array(TC_MIRRED_SIZE);
  const view = new DataView(parms.buffer);
  // As tc: a redirect steals the packet, a mirror lets it go on (pipe).
  view.setInt32(8, redirect ? TC_ACT_STOLEN : TC_ACT_PIPE, true);
  view.setInt32(
    20,
    ingress
      ? (redirect ? TCA_INGRESS_REDIR : TCA_INGRESS_MIRROR)
      : (redirect ? TCA_EGRESS_REDIR : TCA_EGRESS_MIRROR),
    true,
  );
  view.setUint32(24, integer(action.dev, "mirred dev")!, true);
  return parms;
}

/** The act attribute's list: one nest per action, numbered from 1 by the codec. */
function actionsIn(actions: TcAction[] | undefined): TcMessage[] | undefined {
  if (actions === undefined) return undefined;
  return actions.map((action) => {
    if (typeof action === "string") action = { kind: "gact", control: action };
    if (action.kind === "gact") {
      const parms = { index: 0, capab: 0, action: control(action.control), refcnt: 0, bindcnt: 0 };
      return { kind: "gact", options: { parms } };
    }
    if (action.kind === "mirred") {
      return { kind: "mirred", options: { parms: mirredParms(action) } };
    }
    throw new TypeError(
      `action kind ${shown((action as { kind: unknown }).kind)} is not supported (gact, mirred)`,
    );
  });
}

/** The keys `tc filter ... u32 match ip ...` writes (IPv4 header at offset 0, ports after a 20-byte header). */
function u32IpKeys(match: U32IpMatch): U32Key[] {
  const keys: U32Key[] = [];
  if (match.protocol !== undefined) {
    keys.push({
      value: integer(match.protocol, "protocol", 0xff)! << 16,
      mask: 0x00ff0000,
      off: 8,
    });
  }
  for (const [key, off] of [["src", 12], ["dst", 16]] as const) {
    const text = match[key];
    if (text === undefined) continue;
    const { family, address, prefixLength } = parsePrefix(text, key);
    if (family !== 2) {
      throw new RangeError(`${key}: ${shown(text)} is not an IPv4 address or prefix`);
    }
    const mask = prefixLength === 0 ? 0 : (0xffff_ffff << (32 - prefixLength)) >>> 0;
    const value = new DataView(address.buffer, address.byteOffset).getUint32(0, false);
    keys.push({ value: (value & mask) >>> 0, mask, off });
  }
  const sport = integer(match.sport, "sport", 0xffff);
  const dport = integer(match.dport, "dport", 0xffff);
  if (sport !== undefined && dport !== undefined) {
    keys.push({ value: ((sport << 16) | dport) >>> 0, mask: 0xffff_ffff, off: 20 });
  } else if (sport !== undefined) {
    keys.push({ value: (sport << 16) >>> 0, mask: 0xffff0000, off: 20 });
  } else if (dport !== undefined) {
    keys.push({ value: dport, mask: 0x0000ffff, off: 20 });
  }
  return keys;
}

/** struct tc_u32_sel (16 bytes) followed by its struct tc_u32_key entries (16 bytes each). */
const U32_SEL_SIZE = 16;
const U32_KEY_SIZE = 16;
const TC_U32_TERMINAL = 1;

function u32In(spec: U32FilterSpec, classid: number | undefined): TcMessage {
  const keys = [...u32IpKeys(spec.match ?? {}), ...(spec.keys ?? [])];
  if (keys.length > 128) throw new RangeError("u32: at most 128 keys");
  const sel = new Uint8Array(U32_SEL_SIZE + keys.length * U32_KEY_SIZE);
  const view = new DataView(sel.buffer);
  // As tc: a classid or an action ends the lookup here.
  sel[0] = classid === undefined && spec.actions === undefined ? 0 : TC_U32_TERMINAL;
  sel[2] = keys.length;
  keys.forEach((key, i) => {
    const at = U32_SEL_SIZE + i * U32_KEY_SIZE;
    integer(key.value, "key value");
    integer(key.mask, "key mask");
    // The kernel's `int off`: checked, not coerced (NaN and "20" were written as 0 and 20).
    if (!Number.isInteger(key.off) || key.off < -0x8000_0000 || key.off > 0x7fff_ffff) {
      throw new RangeError(
        `key off: ${shown(key.off)} is not an integer in -2147483648..2147483647`,
      );
    }
    view.setUint32(at, key.mask, false);
    view.setUint32(at + 4, (key.value & key.mask) >>> 0, false);
    view.setInt32(at + 8, key.off, true);
    // offmask, as tc writes nexthdr+
    if (boolean(key.nexthdr, "key nexthdr")) view.setInt32(at + 12, -1, true);
  });
  // In the order tc writes them: what came on the command line, the selector last.
  return defined({ classid, act: actionsIn(spec.actions), sel });
}

const IP_PROTOS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132 };

function clsFlags(spec: { skipSw?: boolean; skipHw?: boolean }): number {
  return (boolean(spec.skipHw, "skipHw") ? 1 : 0) | (boolean(spec.skipSw, "skipSw") ? 2 : 0);
}

function flowerIn(spec: FlowerFilterSpec, classid: number | undefined): TcMessage {
  const protocol = protocolNumber(spec.protocol ?? "all");
  const ipProto = typeof spec.ipProto === "string"
    ? named(IP_PROTOS, spec.ipProto)
    : integer(spec.ipProto, "ipProto", 0xff);
  if (ipProto === undefined && spec.ipProto !== undefined) {
    const names = Object.keys(IP_PROTOS);
    throw new RangeError(
      `ipProto: ${shown(spec.ipProto)} is not one of ${names.join(", ")}`
        + nameSuggestion(spec.ipProto, names),
    );
  }
  const out: TcMessage = {};
  if (ipProto !== undefined) out.keyIpProto = ipProto;
  for (const [key, attr] of [["dstMac", "keyEthDst"], ["srcMac", "keyEthSrc"]] as const) {
    if (spec[key] === undefined) continue;
    out[attr] = parseMAC(spec[key]!, key);
    out[`${attr}Mask`] = new Uint8Array(6).fill(0xff);
  }
  for (const [key, name] of [["dstIp", "Dst"], ["srcIp", "Src"]] as const) {
    const text = spec[key];
    if (text === undefined) continue;
    const { family, address, prefixLength } = parsePrefix(text, key);
    if (protocol !== (family === 2 ? ETH_P_IP : ETH_P_IPV6)) {
      throw new RangeError(
        `${key}: ${shown(text)} needs protocol ${family === 2 ? "ip" : "ipv6"}`,
      );
    }
    const mask = new Uint8Array(address.length);
    for (let bit = 0; bit < prefixLength; bit++) mask[bit >> 3] |= 0x80 >> (bit & 7);
    const network = address.map((byte, i) => byte & mask[i]);
    if (family === 2) {
      const view = (bytes: Uint8Array) => new DataView(bytes.buffer).getUint32(0, false);
      out[`keyIpv4${name}`] = view(network);
      out[`keyIpv4${name}Mask`] = view(mask);
    } else {
      out[`keyIpv6${name}`] = network;
      out[`keyIpv6${name}Mask`] = mask;
    }
  }
  for (const [key, name] of [["dstPort", "Dst"], ["srcPort", "Src"]] as const) {
    const port = integer(spec[key], key, 0xffff);
    if (port === undefined) continue;
    const l4 = { 6: "Tcp", 17: "Udp", 132: "Sctp" }[ipProto as 6 | 17 | 132];
    if (l4 === undefined) throw new RangeError(`${key}: needs ipProto tcp, udp or sctp`);
    out[`key${l4}${name}`] = port;
  }
  if (classid !== undefined) out.classid = classid;
  if (spec.actions !== undefined) out.act = actionsIn(spec.actions);
  // As tc: the flags always, the ethertype last unless it is "all".
  out.flags = clsFlags(spec);
  if (protocol !== ETH_P_ALL) out.keyEthType = protocol;
  return out;
}

/**
 * The TCA_OPTIONS `tc filter add` sends for this filter, as the tc codec's object (u32: its
 * selector as bytes, a tc_u32_sel and its keys; actions as the `act` list). Pure: a mirred
 * action's device must be an index here. The whole spec is checked as {@linkcode TrafficControl}
 * checks it (its `parent`, `pref` and `protocol` too, which go elsewhere in the request).
 *
 * @example
 * ```ts
 * import { filterOptions } from "@netlink/netlink/route";
 * const { sel } = filterOptions({ dev: 1, parent: "1:", kind: "u32", match: { dport: 80 } });
 * console.log((sel as Uint8Array).length); // 32: the selector and one key
 * ```
 */
export function filterOptions(spec: FilterSpec): TcMessage {
  checkFilterKeys("filterOptions() spec", spec);
  return encodeFilter(spec).options;
}

/**
 * The filter's place in its request (parent; tcm_info, its pref and protocol) and its options,
 * every value checked, of a spec whose keys were checked already (TrafficControl's methods check
 * them, in their own words): not exported from the package.
 */
export function encodeFilter(
  spec: FilterSpec,
): { parent: number; info: number; options: TcMessage } {
  const options = encodeFilterOptions(spec);
  const parent = parseFilterParent(spec.parent);
  return { parent, info: filterInfo(spec.pref ?? 0, spec.protocol ?? "all"), options };
}

/** {@linkcode filterOptions} without the key check and the place's: see {@linkcode encodeFilter}. */
export function encodeFilterOptions(spec: FilterSpec): TcMessage {
  const classid = spec.classid === undefined ? undefined : parseHandle(spec.classid, "classid");
  switch (spec.kind) {
    case "u32":
      return u32In(spec, classid);
    case "matchall": {
      const flags = clsFlags(spec);
      return defined({ classid, act: actionsIn(spec.actions), flags: flags || undefined });
    }
    case "basic":
      return defined({ classid, act: actionsIn(spec.actions) });
    case "flower":
      return flowerIn(spec, classid);
    default: {
      const kind = (spec as { kind: unknown }).kind;
      const kinds = ["u32", "matchall", "basic", "flower"];
      throw new TypeError(
        `filter kind ${shown(kind)} is not supported (${kinds.join(", ")})`
          + nameSuggestion(kind, kinds),
      );
    }
  }
}

/**
 * The selector of a u32 filter: its flags and keys, parsed from the kernel's tc_u32_sel bytes.
 *
 * @example
 * ```ts
 * import { u32Selector } from "@netlink/netlink/route";
 * console.log(u32Selector(new Uint8Array(16))); // { flags: 0, keys: [] }
 * ```
 */
export function u32Selector(sel: Uint8Array): { flags: number; keys: U32Key[] } {
  if (sel.byteLength < U32_SEL_SIZE) throw new RangeError("u32 selector: shorter than tc_u32_sel");
  const view = new DataView(sel.buffer, sel.byteOffset, sel.byteLength);
  const count = Math.min(sel[2], Math.floor((sel.byteLength - U32_SEL_SIZE) / U32_KEY_SIZE));
  const keys: U32Key[] = [];
  for (let i = 0; i < count; i++) {
    const at = U32_SEL_SIZE + i * U32_KEY_SIZE;
    keys.push({
      mask: view.getUint32(at, false),
      value: view.getUint32(at + 4, false),
      off: view.getInt32(at + 8, true),
      ...(view.getInt32(at + 12, true) !== 0 ? { nexthdr: true } : {}),
    });
  }
  return { flags: sel[0], keys };
}
