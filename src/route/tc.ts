/**
 * Traffic control as `tc` does it: qdiscs, classes and filters listed, added, changed, replaced
 * and deleted over rtnetlink, with handles as "1:10", rates and sizes as text ("10mbit",
 * "1500b"), and the rate tables and buffers `tc` computes. Built on the generated tc codec
 * (`@netlink/netlink/ynl/tc`); what it reads back is shaped like `tc -j` prints it.
 *
 * @example
 * ```ts ignore
 * import { TrafficControl } from "@netlink/netlink/route";
 * await using tc = await TrafficControl.open({ netns: "blue" });
 * await tc.addQdisc({ dev: "eth0", handle: "1:", kind: "htb", default: "20" });
 * await tc.addClass({ dev: "eth0", parent: "1:", classid: "1:20", kind: "htb", rate: "10mbit" });
 * for (const q of await tc.qdiscs({ dev: "eth0" })) console.log(q.kind, q.handle, q.options);
 * ```
 *
 * @module
 */

import {
  ETH_P_8021Q,
  ETH_P_ALL,
  ETH_P_ARP,
  ETH_P_IP,
  ETH_P_IPV6,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  TC_H_INGRESS,
  TC_H_MAJ_MASK,
  TC_LINKLAYER_ETHERNET,
  TC_LINKLAYER_MASK,
} from "../constants.ts";
import { NetlinkError } from "../errors.ts";
import type { OpenOptions } from "../open.ts";
import type { NetlinkSocket } from "../socket.ts";
import type { FamilyDescriptor } from "../ynl/_descriptor.ts";
import { family, type NetlinkFamily } from "../ynl/family.ts";
import { rtLink } from "../ynl/rt_link.ts";
import { tc as tcDescriptor } from "../ynl/tc.ts";
import {
  formatHandle,
  parseFilterParent,
  parseHandle,
  parseQdiscHandle,
  type TcHandle,
} from "./tc_handle.ts";
export * from "./tc_handle.ts";
export * from "./tc_units.ts";

import {
  calcRtable,
  calcXmitsize,
  calcXmittime,
  hostPsched,
  type LinkLayer,
  parseRate,
  parseSize,
  parseTime,
  type Psched,
} from "./tc_units.ts";

/**
 * The tc descriptor with one correction: tc_u32_sel ends in a flexible array of keys
 * (`struct tc_u32_key keys[]`), which a spec struct cannot express (it reads one key). The
 * selector is kept as bytes here and parsed by {@linkcode u32Selector}.
 */
const tcFamily = {
  ...tcDescriptor,
  sets: {
    ...tcDescriptor.sets,
    "u32-attrs": { ...tcDescriptor.sets["u32-attrs"], sel: [5, "binary"] },
  },
} as const satisfies FamilyDescriptor;

/** A rate: text as `tc` takes it ("10mbit", "1gbit", "100kbps") or bytes per second. */
export type Rate = string | number;
/** A size: text as `tc` takes it ("1500b", "10kb", "1mb") or bytes. */
export type Size = string | number;
/** A time: text as `tc` takes it ("50ms", "1s", "100us") or microseconds. */
export type Time = string | number;
/** A network device: its name or its index. */
export type Device = string | number;

/** Where a qdisc goes: a device and a parent ("root" when absent), and its own handle. */
export interface QdiscPlace {
  /** The device. */
  dev: Device;
  /** "root" (the default), a class ("1:10"), or a number. */
  parent?: TcHandle;
  /** The qdisc's handle, "1:" (the kernel picks one when absent). */
  handle?: TcHandle;
}

/** htb qdisc parameters (`tc qdisc add ... htb default 20 r2q 10`). */
export interface HtbQdiscParams {
  kind: "htb";
  /** Class minor that unclassified traffic goes to: hexadecimal text like tc ("20"), or a number. */
  default?: string | number;
  /** Rate-to-quantum divisor (10 by default, as tc). */
  r2q?: number;
  /** Packets the direct queue holds. */
  directQlen?: number;
}

/** tbf parameters (`tc qdisc add ... tbf rate 1mbit burst 10kb latency 50ms`). */
export interface TbfParams {
  kind: "tbf";
  rate: Rate;
  burst: Size;
  /** Queue size in bytes; give this or `latency`. */
  limit?: Size;
  /** Longest time a packet may wait; give this or `limit`. */
  latency?: Time;
  peakrate?: Rate;
  /** Needed with `peakrate` (minburst). */
  mtu?: Size;
  mpu?: Size;
  overhead?: number;
  linklayer?: LinkLayer;
}

/** pfifo / bfifo / pfifo_head_drop parameters: a limit in packets (pfifo) or bytes (bfifo). */
export interface FifoParams {
  kind: "pfifo" | "bfifo" | "pfifo_head_drop";
  limit?: number;
}

/** fq_codel parameters (`tc qdisc add ... fq_codel limit 10240 target 5ms ecn`). */
export interface FqCodelParams {
  kind: "fq_codel";
  limit?: number;
  flows?: number;
  target?: Time;
  interval?: Time;
  quantum?: Size;
  ecn?: boolean;
  ceThreshold?: Time;
  memoryLimit?: Size;
  dropBatch?: number;
}

/** prio parameters (`tc qdisc add ... prio bands 3 priomap 1 2 2 2 ...`). */
export interface PrioParams {
  kind: "prio";
  bands?: number;
  /** Band numbers for priorities 0, 1, ...; the rest keep tc's default map (1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1). */
  priomap?: number[];
}

/** netem parameters (`tc qdisc add ... netem delay 100ms 10ms loss 1%`); percentages 0..100. */
export interface NetemParams {
  kind: "netem";
  delay?: Time;
  jitter?: Time;
  loss?: number;
  duplicate?: number;
  corrupt?: number;
  reorder?: number;
  gap?: number;
  /** Packets (1000 by default, as tc). */
  limit?: number;
  rate?: Rate;
}

/** ingress and clsact: no parameters, their fixed place (ffff:fff1) and handle (ffff:). */
export interface IngressParams {
  kind: "ingress" | "clsact";
}

/** What {@linkcode TrafficControl.addQdisc} takes: a place and a kind with its parameters. */
export type QdiscSpec =
  & QdiscPlace
  & (
    | HtbQdiscParams
    | TbfParams
    | FifoParams
    | FqCodelParams
    | PrioParams
    | NetemParams
    | IngressParams
  );

/** htb class parameters (`tc class add ... htb rate 10mbit ceil 20mbit burst 15k prio 1`). */
export interface HtbClassSpec {
  dev: Device;
  /** The qdisc ("1:") or parent class ("1:1"). */
  parent: TcHandle;
  /** The class's id, "1:10". */
  classid: TcHandle;
  kind: "htb";
  rate: Rate;
  /** Defaults to `rate`, as tc. */
  ceil?: Rate;
  /** Defaults to rate / HZ + mtu, as tc. */
  burst?: Size;
  cburst?: Size;
  prio?: number;
  quantum?: number;
  /** Largest packet the rate table accounts for (1600 by default, as tc). */
  mtu?: number;
  mpu?: number;
  overhead?: number;
  linklayer?: LinkLayer;
}

/** What {@linkcode TrafficControl.addClass} takes. */
export type ClassSpec = HtbClassSpec;

/** One u32 key as `tc filter ... u32 match u32 VALUE MASK at OFF` writes it. */
export interface U32Key {
  value: number;
  mask: number;
  off: number;
}

/** IPv4 header matches, as `match ip src|dst|protocol|sport|dport` writes them. */
export interface U32IpMatch {
  /** "10.0.0.0/24" or an address. */
  src?: string;
  dst?: string;
  protocol?: number;
  sport?: number;
  dport?: number;
}

/** A u32 filter (`tc filter add ... u32 match ip dst 10.0.0.0/24 classid 1:10`). */
export interface U32FilterSpec {
  dev: Device;
  /** The qdisc or class ("1:"), or "ingress"/"egress" on a clsact or ingress qdisc. */
  parent: TcHandle;
  kind: "u32";
  /** "ip", "ipv6", "all" (the default), "arp", "802.1Q", or an ethertype number. */
  protocol?: string | number;
  /** Priority (the kernel picks one when absent). */
  pref?: number;
  /** Where matching packets go ("1:10"); also called flowid. */
  classid?: TcHandle;
  /** IPv4 matches, and/or raw keys. */
  match?: U32IpMatch;
  keys?: U32Key[];
}

/** What {@linkcode TrafficControl.addFilter} takes. */
export type FilterSpec = U32FilterSpec;

/** Statistics as `tc -s -j` prints them. */
export interface TcStats {
  bytes: number;
  packets: number;
  drops: number;
  overlimits: number;
  requeues: number;
  backlog: number;
  qlen: number;
}

/** A qdisc, as `tc -j qdisc show` shows it. */
export interface Qdisc {
  dev: string;
  ifindex: number;
  kind: string;
  /** "1:" */
  handle: string;
  /** "root", "ffff:fff1" (ingress/clsact), or the class it hangs under ("1:10"). */
  parent: string;
  refcnt: number;
  /**
   * The kind's options with `tc -j`'s names and values (rates in bytes/s, bursts in bytes) for
   * htb, tbf, pfifo, bfifo and pfifo_head_drop; empty for other kinds, whose decoded
   * attributes are in `message.options`.
   */
  options: Record<string, unknown>;
  stats: TcStats;
  /** The decoded message, every attribute the kernel sent. */
  message: Record<string, unknown>;
}

/** A class, as `tc class show` shows it. */
export interface TcClass {
  dev: string;
  ifindex: number;
  kind: string;
  /** "1:10" */
  handle: string;
  parent: string;
  /** The qdisc attached under the class, "10:", if any. */
  leaf?: string;
  options: Record<string, unknown>;
  stats: TcStats;
  message: Record<string, unknown>;
}

/** A filter, as `tc -j filter show` shows it. */
export interface TcFilter {
  dev: string;
  ifindex: number;
  kind: string;
  parent: string;
  protocol: string;
  pref: number;
  chain?: number;
  /** The filter's handle as its kind prints it (u32: "800::800"); absent for the kind's head. */
  handle?: string;
  options: Record<string, unknown>;
  message: Record<string, unknown>;
}

/** Options of {@linkcode TrafficControl.open}: a namespace, or an rtnetlink socket to use. */
export interface TrafficControlOptions extends OpenOptions {
  /** An open NETLINK_ROUTE socket; it stays open when the client closes. */
  socket?: NetlinkSocket;
  /** The scheduler clock rate tables and buffers are computed with (this host's by default). */
  clock?: Psched;
}

/** nlmsg_flags of each way of writing: `tc ... add`, `change`, `replace`. */
const WRITE_FLAGS = {
  add: NLM_F_CREATE | NLM_F_EXCL,
  change: 0,
  replace: NLM_F_CREATE | NLM_F_REPLACE,
} as const;

/** A message or options object as the tc codec reads and writes it. */
export type TcMessage = Record<string, unknown>;

/** The loosely typed face of the tc family this module drives with its own checked values. */
interface Loose {
  do(op: string, request: TcMessage, options?: { flags?: number }): Promise<unknown>;
  dump(op: string, request?: TcMessage): Promise<TcMessage[]>;
}

/**
 * A traffic-control client over one rtnetlink socket (in the caller's namespace or `netns`).
 * Writes are checked before anything is sent (a bad rate or handle is a RangeError naming the
 * field); kernel refusals are `NetlinkError`s with the kernel's text.
 *
 * @example
 * ```ts ignore
 * import { TrafficControl } from "@netlink/netlink/route";
 * await using tc = await TrafficControl.open();
 * console.log(await tc.qdiscs());
 * ```
 */
export class TrafficControl implements AsyncDisposable {
  readonly #tc: NetlinkFamily<typeof tcFamily>;
  readonly #links: NetlinkFamily<typeof rtLink>;
  readonly #clock: Psched;

  private constructor(
    tc: NetlinkFamily<typeof tcFamily>,
    links: NetlinkFamily<typeof rtLink>,
    clock: Psched,
  ) {
    this.#tc = tc;
    this.#links = links;
    this.#clock = clock;
  }

  /**
   * Opens a client (its own socket, or `options.socket`).
   *
   * @example
   * ```ts ignore
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * ```
   */
  static async open(options: TrafficControlOptions = {}): Promise<TrafficControl> {
    const { clock, ...familyOptions } = options;
    const tc = await family(tcFamily, familyOptions);
    const links = await family(rtLink, { socket: tc.socket });
    return new TrafficControl(tc, links, clock ?? hostPsched());
  }

  /** The rtnetlink socket this client uses. */
  get socket(): NetlinkSocket {
    return this.#tc.socket;
  }

  get #loose(): Loose {
    return this.#tc as unknown as Loose;
  }

  async #write(
    op: string,
    request: Promise<TcMessage>,
    mode: keyof typeof WRITE_FLAGS,
  ): Promise<void> {
    await this.#loose.do(op, await request, { flags: WRITE_FLAGS[mode] });
  }

  /**
   * Every qdisc, or those of `dev`, as `tc -s -j qdisc show` shows them.
   *
   * @example
   * ```ts ignore
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open();
   * for (const q of await tc.qdiscs({ dev: "lo" })) console.log(q.kind, q.handle, q.parent);
   * ```
   */
  async qdiscs(query: { dev?: Device } = {}): Promise<Qdisc[]> {
    const names = await this.#linkNames();
    const ifindex = query.dev === undefined ? undefined : await this.ifindex(query.dev);
    const messages = await this.#loose.dump("getqdisc", {});
    return messages
      .filter((m) => ifindex === undefined || m.ifindex === ifindex)
      .map((m) => ({
        dev: names.get(m.ifindex as number) ?? String(m.ifindex),
        ifindex: m.ifindex as number,
        kind: m.kind as string,
        handle: `${((m.handle as number) >>> 16).toString(16)}:`,
        parent: formatHandle(m.parent as number),
        refcnt: m.info as number,
        options: qdiscOptionsOut(m.kind as string, m.options as TcMessage | undefined),
        stats: statsOut(m),
        message: m,
      }));
  }

  /**
   * Adds a qdisc (fails with EEXIST if one is there: see {@linkcode replaceQdisc}).
   *
   * @example
   * ```ts ignore
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * await tc.addQdisc({ dev: "veth0", kind: "tbf", rate: "1mbit", burst: "10kb", latency: "50ms" });
   * ```
   */
  addQdisc(spec: QdiscSpec): Promise<void> {
    return this.#write("newqdisc", this.#qdiscRequest(spec), "add");
  }

  /**
   * Changes the parameters of an existing qdisc (`tc qdisc change`): same place and kind.
   *
   * @example
   * ```ts ignore
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * await tc.changeQdisc({ dev: "veth0", handle: "1:", kind: "htb", default: "30" });
   * ```
   */
  changeQdisc(spec: QdiscSpec): Promise<void> {
    return this.#write("newqdisc", this.#qdiscRequest(spec), "change");
  }

  /**
   * Adds the qdisc, or replaces the one in its place (`tc qdisc replace`).
   *
   * @example
   * ```ts ignore
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * await tc.replaceQdisc({ dev: "veth0", kind: "pfifo", limit: 100 });
   * ```
   */
  replaceQdisc(spec: QdiscSpec): Promise<void> {
    return this.#write("newqdisc", this.#qdiscRequest(spec), "replace");
  }

  /**
   * Deletes a qdisc by place (`parent`, "root" when absent) or handle.
   *
   * @example
   * ```ts ignore
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * await tc.deleteQdisc({ dev: "veth0" }); // the root qdisc
   * await tc.deleteQdisc({ dev: "veth0", kind: "clsact" });
   * ```
   */
  async deleteQdisc(
    ref: { dev: Device; parent?: TcHandle; handle?: TcHandle; kind?: string },
  ): Promise<void> {
    const ingress = ref.kind === "ingress" || ref.kind === "clsact";
    await this.#loose.do("delqdisc", {
      ifindex: await this.ifindex(ref.dev),
      parent: ingress ? TC_H_INGRESS : parseHandle(ref.parent ?? "root", "parent"),
      handle: ingress ? (TC_H_INGRESS & TC_H_MAJ_MASK) >>> 0 : parseQdiscHandle(ref.handle ?? 0),
      ...(ref.kind === undefined ? {} : { kind: ref.kind }),
    });
  }

  /**
   * The classes of `dev` (optionally under one qdisc or class), as `tc -s class show` shows them.
   *
   * @example
   * ```ts ignore
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * for (const c of await tc.classes({ dev: "veth0" })) console.log(c.handle, c.options.rate);
   * ```
   */
  async classes(query: { dev: Device; parent?: TcHandle }): Promise<TcClass[]> {
    const ifindex = await this.ifindex(query.dev);
    const dev = typeof query.dev === "string" ? query.dev : await this.#linkName(ifindex);
    const parent = query.parent === undefined ? undefined : parseHandle(query.parent, "parent");
    const messages = await this.#loose.dump("gettclass", { ifindex });
    return messages
      .filter((m) => parent === undefined || m.parent === parent)
      .map((m) => ({
        dev,
        ifindex,
        kind: m.kind as string,
        handle: formatHandle(m.handle as number),
        parent: formatHandle(m.parent as number),
        ...((m.info as number) ? { leaf: `${((m.info as number) >>> 16).toString(16)}:` } : {}),
        options: classOptionsOut(m.kind as string, m.options as TcMessage | undefined),
        stats: statsOut(m),
        message: m,
      }));
  }

  /**
   * Adds a class (EEXIST if its id is taken).
   *
   * @example
   * ```ts ignore
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * await tc.addClass({ dev: "veth0", parent: "1:", classid: "1:10", kind: "htb", rate: "5mbit" });
   * ```
   */
  addClass(spec: ClassSpec): Promise<void> {
    return this.#write("newtclass", this.#classRequest(spec), "add");
  }

  /**
   * Changes an existing class's parameters (`tc class change`).
   *
   * @example
   * ```ts ignore
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * await tc.changeClass({ dev: "veth0", parent: "1:", classid: "1:10", kind: "htb", rate: "8mbit" });
   * ```
   */
  changeClass(spec: ClassSpec): Promise<void> {
    return this.#write("newtclass", this.#classRequest(spec), "change");
  }

  /**
   * Adds the class or changes the one with its id (`tc class replace`).
   *
   * @example
   * ```ts ignore
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * await tc.replaceClass({ dev: "veth0", parent: "1:", classid: "1:10", kind: "htb", rate: "8mbit" });
   * ```
   */
  replaceClass(spec: ClassSpec): Promise<void> {
    return this.#write("newtclass", this.#classRequest(spec), "replace");
  }

  /**
   * Deletes a class.
   *
   * @example
   * ```ts ignore
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * await tc.deleteClass({ dev: "veth0", classid: "1:10" });
   * ```
   */
  async deleteClass(ref: { dev: Device; classid: TcHandle; parent?: TcHandle }): Promise<void> {
    await this.#loose.do("deltclass", {
      ifindex: await this.ifindex(ref.dev),
      handle: parseHandle(ref.classid, "classid"),
      parent: ref.parent === undefined ? 0 : parseHandle(ref.parent, "parent"),
    });
  }

  /**
   * The filters attached at `parent` of `dev` ("root" qdisc when absent; "ingress"/"egress" on
   * clsact), as `tc -j filter show` shows them (a kind's head and its entries, like tc).
   *
   * @example
   * ```ts ignore
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * for (const f of await tc.filters({ dev: "veth0", parent: "ingress" })) console.log(f);
   * ```
   */
  async filters(query: { dev: Device; parent?: TcHandle }): Promise<TcFilter[]> {
    const ifindex = await this.ifindex(query.dev);
    const dev = typeof query.dev === "string" ? query.dev : await this.#linkName(ifindex);
    const parent = query.parent === undefined ? 0 : parseFilterParent(query.parent);
    const messages = await this.#loose.dump("gettfilter", { ifindex, parent });
    return messages.map((m) => {
      const info = m.info as number;
      const handle = m.handle as number;
      return {
        dev,
        ifindex,
        kind: m.kind as string,
        parent: filterParentOut(m.parent as number),
        protocol: protocolName(((info & 0xff) << 8) | ((info >>> 8) & 0xff)),
        pref: info >>> 16,
        ...(m.chain === undefined ? {} : { chain: m.chain as number }),
        ...(handle ? { handle: filterHandleOut(m.kind as string, handle) } : {}),
        options: filterOptionsOut(m.kind as string, handle, m.options as TcMessage | undefined),
        message: m,
      };
    });
  }

  /**
   * Adds a filter.
   *
   * @example
   * ```ts ignore
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * await tc.addFilter({
   *   dev: "veth0", parent: "1:", kind: "u32", protocol: "ip", pref: 10,
   *   match: { dst: "10.0.0.0/24", dport: 80 }, classid: "1:10",
   * });
   * ```
   */
  addFilter(spec: FilterSpec): Promise<void> {
    return this.#write("newtfilter", this.#filterRequest(spec), "add");
  }

  /**
   * Adds the filter or replaces the one with its handle (`tc filter replace`).
   *
   * @example
   * ```ts ignore
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * await tc.replaceFilter({ dev: "veth0", parent: "1:", kind: "u32", pref: 10, match: { dport: 22 } });
   * ```
   */
  replaceFilter(spec: FilterSpec): Promise<void> {
    return this.#write("newtfilter", this.#filterRequest(spec), "replace");
  }

  /**
   * Deletes the filters at `parent` (all of them, or those of `pref`, or one `handle` of a kind).
   *
   * @example
   * ```ts ignore
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * await tc.deleteFilter({ dev: "veth0", parent: "1:", pref: 10 });
   * ```
   */
  async deleteFilter(
    ref: {
      dev: Device;
      parent?: TcHandle;
      pref?: number;
      protocol?: string | number;
      handle?: number;
      kind?: string;
    },
  ): Promise<void> {
    await this.#loose.do("deltfilter", {
      ifindex: await this.ifindex(ref.dev),
      parent: ref.parent === undefined ? 0 : parseFilterParent(ref.parent),
      info: filterInfo(ref.pref ?? 0, ref.protocol ?? 0),
      handle: ref.handle ?? 0,
      ...(ref.kind === undefined ? {} : { kind: ref.kind }),
    });
  }

  /**
   * The index of a device (numbers pass through); "no link named X" if there is none.
   *
   * @example
   * ```ts ignore
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open();
   * console.log(await tc.ifindex("lo")); // 1
   * ```
   */
  async ifindex(dev: Device): Promise<number> {
    if (typeof dev === "number") return dev;
    try {
      const link = await this.#links.do("getlink", { ifname: dev });
      return link!.ifiIndex;
    } catch (err) {
      if (err instanceof NetlinkError && err.code === "ENODEV") {
        throw new RangeError(`no link named ${dev}`, { cause: err });
      }
      throw err;
    }
  }

  async #linkNames(): Promise<Map<number, string>> {
    const links = await this.#links.dump("getlink");
    return new Map(links.map((l) => [l.ifiIndex, l.ifname ?? String(l.ifiIndex)]));
  }

  async #linkName(ifindex: number): Promise<string> {
    const link = await this.#links.do("getlink", { ifiIndex: ifindex });
    return link?.ifname ?? String(ifindex);
  }

  async #qdiscRequest(spec: QdiscSpec): Promise<TcMessage> {
    const ingress = spec.kind === "ingress" || spec.kind === "clsact";
    const options = qdiscOptions(spec, this.#clock);
    return {
      ifindex: await this.ifindex(spec.dev),
      parent: ingress ? TC_H_INGRESS : parseHandle(spec.parent ?? "root", "parent"),
      handle: ingress ? (TC_H_INGRESS & TC_H_MAJ_MASK) >>> 0 : parseQdiscHandle(spec.handle ?? 0),
      kind: spec.kind,
      ...(options === undefined ? {} : { options }),
    };
  }

  async #classRequest(spec: ClassSpec): Promise<TcMessage> {
    if (spec.kind !== "htb") {
      throw new TypeError(`class kind "${spec.kind}" is not supported (htb)`);
    }
    return {
      ifindex: await this.ifindex(spec.dev),
      parent: parseHandle(spec.parent, "parent"),
      handle: parseHandle(spec.classid, "classid"),
      kind: "htb",
      options: classOptions(spec, this.#clock),
    };
  }

  async #filterRequest(spec: FilterSpec): Promise<TcMessage> {
    if (spec.kind !== "u32") {
      throw new TypeError(`filter kind "${spec.kind}" is not supported (u32)`);
    }
    return {
      ifindex: await this.ifindex(spec.dev),
      parent: parseFilterParent(spec.parent),
      info: filterInfo(spec.pref ?? 0, spec.protocol ?? "all"),
      handle: 0,
      kind: "u32",
      options: filterOptions(spec),
    };
  }

  /**
   * Closes the socket (unless it was given).
   *
   * @example
   * ```ts ignore
   * import { TrafficControl } from "@netlink/netlink/route";
   * const tc = await TrafficControl.open();
   * tc.close();
   * ```
   */
  close(): void {
    this.#tc.close();
  }

  /** Same as {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

// ---- writing: parameters to the kernel's options --------------------------------------------

const UINT32_MAX = 0xffff_ffff;

function u32Bytes(table: Uint32Array): Uint8Array {
  return new Uint8Array(table.buffer, table.byteOffset, table.byteLength);
}

function integer(value: number | undefined, what: string, max = UINT32_MAX): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${what}: ${value} is not an integer in 0..${max}`);
  }
  return value;
}

function field<T>(what: string, parse: (value: T) => number, value: T | undefined) {
  if (value === undefined) return undefined;
  try {
    return parse(value);
  } catch (err) {
    throw new RangeError(`${what}: ${(err as Error).message}`);
  }
}

function defined(object: TcMessage): TcMessage {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined));
}

/**
 * The TCA_OPTIONS `tc qdisc add` sends for these parameters, as the tc codec's object (rate
 * tables, buffers in ticks, limits computed as tc computes them); undefined when the kind takes
 * none. Pure: {@linkcode TrafficControl.addQdisc} sends it.
 *
 * @example
 * ```ts
 * import { qdiscOptions } from "@netlink/netlink/route";
 * console.log(qdiscOptions({ kind: "htb", default: "20" })); // { init: { version: 3, rate2quantum: 10, defcls: 32 } }
 * ```
 */
export function qdiscOptions(
  spec:
    | HtbQdiscParams
    | TbfParams
    | FifoParams
    | FqCodelParams
    | PrioParams
    | NetemParams
    | IngressParams,
  clock: Psched = hostPsched(),
): TcMessage | undefined {
  switch (spec.kind) {
    case "htb": {
      const defcls = typeof spec.default === "string"
        ? field("default", (t: string) => parseHandle(t, "default"), spec.default)
        : integer(spec.default, "default");
      return defined({
        init: { version: 3, rate2quantum: integer(spec.r2q, "r2q") ?? 10, defcls: defcls ?? 0 },
        directQlen: integer(spec.directQlen, "directQlen"),
      });
    }
    case "tbf":
      return tbfIn(spec, clock);
    case "pfifo":
    case "bfifo":
    case "pfifo_head_drop":
      return spec.limit === undefined ? undefined : { limit: integer(spec.limit, "limit") };
    case "fq_codel":
      // In the order tc writes them.
      return defined({
        limit: integer(spec.limit, "limit"),
        flows: integer(spec.flows, "flows"),
        quantum: field("quantum", parseSize, spec.quantum),
        interval: field("interval", parseTime, spec.interval),
        target: field("target", parseTime, spec.target),
        ecn: spec.ecn === undefined ? undefined : spec.ecn ? 1 : 0,
        ceThreshold: field("ceThreshold", parseTime, spec.ceThreshold),
        memoryLimit: field("memoryLimit", parseSize, spec.memoryLimit),
        dropBatchSize: integer(spec.dropBatch, "dropBatch"),
      });
    case "prio": {
      const bands = integer(spec.bands, "bands") ?? 3;
      // As tc: the given bands replace the first entries of its default map.
      const map = Uint8Array.from([1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
      const given = spec.priomap ?? [];
      if (given.length > 16 || given.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) {
        throw new RangeError("priomap: at most 16 band numbers expected");
      }
      map.set(given);
      if (map.some((band) => band >= bands)) {
        throw new RangeError(`priomap: every band must be below bands (${bands})`);
      }
      return { bands, priomap: map };
    }
    case "netem":
      return netemIn(spec);
    case "ingress":
    case "clsact":
      return undefined;
    default:
      throw new TypeError(
        `qdisc kind "${(spec as { kind: string }).kind}" is not supported `
          + "(htb, tbf, pfifo, bfifo, pfifo_head_drop, fq_codel, prio, netem, ingress, clsact)",
      );
  }
}

function tbfIn(spec: TbfParams, clock: Psched): TcMessage {
  const rate = field("rate", parseRate, spec.rate);
  const burst = field("burst", parseSize, spec.burst);
  if (!rate) throw new RangeError("tbf: \"rate\" is required");
  if (!burst) throw new RangeError("tbf: \"burst\" is required");
  if ((spec.limit === undefined) === (spec.latency === undefined)) {
    throw new RangeError("tbf: give either \"limit\" or \"latency\"");
  }
  const peakrate = field("peakrate", parseRate, spec.peakrate) ?? 0;
  const mtu = field("mtu", parseSize, spec.mtu) ?? 0;
  if (peakrate && !mtu) throw new RangeError("tbf: \"mtu\" is required with \"peakrate\"");
  const mpu = field("mpu", parseSize, spec.mpu) ?? 0;
  const overhead = integer(spec.overhead, "overhead", 0xffff) ?? 0;
  let limit = field("limit", parseSize, spec.limit);
  if (limit === undefined) {
    const latency = field("latency", parseTime, spec.latency)!;
    limit = rate * latency / 1e6 + burst;
    if (peakrate) limit = Math.min(limit, peakrate * latency / 1e6 + mtu);
    limit = Math.trunc(limit);
  }
  const r = calcRtable({
    rate: Math.min(rate, UINT32_MAX),
    mtu,
    mpu,
    linklayer: spec.linklayer,
    clock,
  });
  const buffer = calcXmittime(rate, burst, clock);
  if (buffer === UINT32_MAX) throw new RangeError("tbf: burst out of range");
  const rateSpec = { ...ratespec(r, Math.min(rate, UINT32_MAX)), mpu, overhead };
  const parms: TcMessage = { rate: rateSpec, peakrate: {}, limit, buffer, mtu: 0 };
  // Attributes in the order tc writes them.
  const options: TcMessage = { parms };
  if (burst <= UINT32_MAX) options.burst = burst;
  if (rate > UINT32_MAX) options.rate64 = BigInt(rate);
  options.rtab = u32Bytes(r.table);
  if (peakrate) {
    const p = calcRtable({
      rate: Math.min(peakrate, UINT32_MAX),
      mtu,
      mpu,
      linklayer: spec.linklayer,
      clock,
    });
    parms.peakrate = { ...ratespec(p, Math.min(peakrate, UINT32_MAX)), mpu, overhead };
    parms.mtu = calcXmittime(Math.min(peakrate, UINT32_MAX), mtu, clock);
    if (peakrate > UINT32_MAX) options.prate64 = BigInt(peakrate);
    options.pburst = mtu;
    options.ptab = u32Bytes(p.table);
  }
  return options;
}

function ratespec(r: ReturnType<typeof calcRtable>, rate: number): TcMessage {
  return { cellLog: r.cellLog, cellAlign: r.cellAlign, linklayer: r.linklayer, rate };
}

/**
 * The TCA_OPTIONS `tc class add` sends for these parameters (htb: tc_htb_opt with buffers in
 * ticks, rate and ceil tables), as the tc codec's object. Pure.
 *
 * @example
 * ```ts
 * import { classOptions } from "@netlink/netlink/route";
 * const options = classOptions({ dev: 1, parent: "1:", classid: "1:10", kind: "htb", rate: "1mbit" });
 * console.log((options.parms as { rate: { rate: number } }).rate.rate); // 125000
 * ```
 */
export function classOptions(spec: ClassSpec, clock: Psched = hostPsched()): TcMessage {
  if (spec.kind !== "htb") throw new TypeError(`class kind "${spec.kind}" is not supported (htb)`);
  const rate = field("rate", parseRate, spec.rate);
  if (!rate) throw new RangeError("htb class: \"rate\" is required");
  const ceil = field("ceil", parseRate, spec.ceil) ?? rate;
  const mtu = integer(spec.mtu, "mtu") ?? 1600;
  const mpu = integer(spec.mpu, "mpu", 0xffff) ?? 0;
  const overhead = integer(spec.overhead, "overhead", 0xffff) ?? 0;
  const { hz } = clock;
  const burst = field("burst", parseSize, spec.burst) ?? Math.trunc(rate / hz + mtu);
  const cburst = field("cburst", parseSize, spec.cburst) ?? Math.trunc(ceil / hz + mtu);
  const rtab = calcRtable({
    rate: Math.min(rate, UINT32_MAX),
    mtu,
    mpu,
    linklayer: spec.linklayer,
    clock,
  });
  const ctab = calcRtable({
    rate: Math.min(ceil, UINT32_MAX),
    mtu,
    mpu,
    linklayer: spec.linklayer,
    clock,
  });
  const buffer = calcXmittime(rate, burst, clock);
  if (buffer === UINT32_MAX) throw new RangeError("htb class: burst out of range");
  // Attributes in the order tc writes them.
  const options: TcMessage = {};
  if (rate > UINT32_MAX) options.rate64 = BigInt(rate);
  if (ceil > UINT32_MAX) options.ceil64 = BigInt(ceil);
  Object.assign(options, {
    parms: {
      rate: { ...ratespec(rtab, Math.min(rate, UINT32_MAX)), mpu, overhead },
      ceil: { ...ratespec(ctab, Math.min(ceil, UINT32_MAX)), mpu, overhead },
      buffer,
      cbuffer: calcXmittime(ceil, cburst, clock),
      quantum: integer(spec.quantum, "quantum") ?? 0,
      prio: integer(spec.prio, "prio") ?? 0,
    },
    rtab: u32Bytes(rtab.table),
    ctab: u32Bytes(ctab.table),
  });
  return options;
}

/** A percentage 0..100 scaled to the kernel's u32 probability, as tc's set_percent. */
function probability(value: number | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!(value >= 0 && value <= 100)) {
    throw new RangeError(`${what}: ${value} is not a percentage 0..100`);
  }
  return Math.round(value / 100 * UINT32_MAX);
}

function netemIn(spec: NetemParams): TcMessage {
  const delay = field("delay", parseTime, spec.delay);
  const jitter = field("jitter", parseTime, spec.jitter);
  const reorder = probability(spec.reorder, "reorder");
  if (reorder && !delay) throw new RangeError("netem: reorder needs a delay");
  const rate = field("rate", parseRate, spec.rate);
  return defined({
    latency: 0,
    limit: integer(spec.limit, "limit") ?? 1000,
    headerLoss: probability(spec.loss, "loss") ?? 0,
    gap: integer(spec.gap, "gap") ?? (reorder ? 1 : 0),
    duplicate: probability(spec.duplicate, "duplicate") ?? 0,
    jitter: 0,
    latency64: delay === undefined ? undefined : BigInt(delay) * 1000n,
    jitter64: jitter === undefined ? undefined : BigInt(jitter) * 1000n,
    reorder: reorder === undefined ? undefined : { probability: reorder, correlation: 0 },
    corrupt: spec.corrupt === undefined
      ? undefined
      : { probability: probability(spec.corrupt, "corrupt"), correlation: 0 },
    rate64: rate !== undefined && rate > UINT32_MAX ? BigInt(rate) : undefined,
    rate: rate === undefined ? undefined : { rate: Math.min(rate, UINT32_MAX) },
  });
}

const PROTOCOLS: Record<string, number> = {
  all: ETH_P_ALL,
  ip: ETH_P_IP,
  ipv6: ETH_P_IPV6,
  arp: ETH_P_ARP,
  "802.1Q": ETH_P_8021Q,
};

function protocolNumber(protocol: string | number): number {
  if (typeof protocol === "number") return integer(protocol, "protocol", 0xffff)!;
  const number = PROTOCOLS[protocol] ?? PROTOCOLS[protocol.toLowerCase()];
  if (number === undefined) {
    throw new RangeError(
      `protocol: "${protocol}" is not one of ${Object.keys(PROTOCOLS).join(", ")}`,
    );
  }
  return number;
}

function protocolName(protocol: number): string {
  const name = Object.keys(PROTOCOLS).find((key) => PROTOCOLS[key] === protocol);
  return name ?? `[${protocol.toString(16).padStart(4, "0")}]`;
}

/** tcm_info of a filter: its priority over its protocol in network byte order. */
function filterInfo(pref: number, protocol: string | number): number {
  integer(pref, "pref", 0xffff);
  const p = protocol === 0 ? 0 : protocolNumber(protocol);
  return ((pref << 16) | ((p & 0xff) << 8) | (p >>> 8)) >>> 0;
}

function ipv4Prefix(text: string, what: string): [number, number] {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(text);
  const octets = match?.slice(1, 5).map(Number) ?? [];
  const length = match?.[5] === undefined ? 32 : Number(match[5]);
  if (!match || octets.some((o) => o > 255) || length > 32) {
    throw new RangeError(`${what}: "${text}" is not an IPv4 address or prefix`);
  }
  const mask = length === 0 ? 0 : (0xffff_ffff << (32 - length)) >>> 0;
  const address = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  return [(address & mask) >>> 0, mask];
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
  if (match.src !== undefined) {
    const [value, mask] = ipv4Prefix(match.src, "src");
    keys.push({ value, mask, off: 12 });
  }
  if (match.dst !== undefined) {
    const [value, mask] = ipv4Prefix(match.dst, "dst");
    keys.push({ value, mask, off: 16 });
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

/**
 * The TCA_OPTIONS `tc filter add ... u32` sends for this filter (its selector as bytes: a
 * tc_u32_sel and its keys), as the tc codec's object. Pure.
 *
 * @example
 * ```ts
 * import { filterOptions } from "@netlink/netlink/route";
 * const { sel } = filterOptions({ dev: 1, parent: "1:", kind: "u32", match: { dport: 80 } });
 * console.log((sel as Uint8Array).length); // 32: the selector and one key
 * ```
 */
export function filterOptions(spec: FilterSpec): TcMessage {
  if (spec.kind !== "u32") throw new TypeError(`filter kind "${spec.kind}" is not supported (u32)`);
  const keys = [...u32IpKeys(spec.match ?? {}), ...(spec.keys ?? [])];
  if (keys.length > 128) throw new RangeError("u32: at most 128 keys");
  const classid = spec.classid === undefined ? undefined : parseHandle(spec.classid, "classid");
  const sel = new Uint8Array(U32_SEL_SIZE + keys.length * U32_KEY_SIZE);
  const view = new DataView(sel.buffer);
  sel[0] = classid === undefined ? 0 : TC_U32_TERMINAL;
  sel[2] = keys.length;
  keys.forEach((key, i) => {
    const at = U32_SEL_SIZE + i * U32_KEY_SIZE;
    integer(key.value, "key value");
    integer(key.mask, "key mask");
    view.setUint32(at, key.mask, false);
    view.setUint32(at + 4, (key.value & key.mask) >>> 0, false);
    view.setInt32(at + 8, key.off, true);
  });
  return defined({ sel, classid });
}

// ---- reading: the kernel's options as `tc -j` shows them ------------------------------------

function num(value: unknown): number {
  return typeof value === "bigint" ? Number(value) : (value as number) ?? 0;
}

function statsOut(m: TcMessage): TcStats {
  const stats2 = (m.stats2 ?? {}) as TcMessage;
  const basic = (stats2.basic ?? {}) as TcMessage;
  const queue = (stats2.queue ?? {}) as TcMessage;
  return {
    bytes: num(basic.bytes),
    packets: num(basic.packets),
    drops: num(queue.drops),
    overlimits: num(queue.overlimits),
    requeues: num(queue.requeues),
    backlog: num(queue.backlog),
    qlen: num(queue.qlen),
  };
}

function linklayerOut(ratespec: TcMessage, out: TcMessage): void {
  const linklayer = num(ratespec.linklayer) & TC_LINKLAYER_MASK;
  if (linklayer > TC_LINKLAYER_ETHERNET) out.linklayer = "atm";
}

function qdiscOptionsOut(kind: string, o: TcMessage | undefined): TcMessage {
  if (o === undefined || o instanceof Uint8Array) return {};
  switch (kind) {
    case "htb": {
      const init = o.init as TcMessage | undefined;
      const out: TcMessage = {};
      if (init) {
        out.r2q = init.rate2quantum;
        out.default = `0x${num(init.defcls).toString(16)}`;
        out.direct_packets_stat = init.directPkts;
      }
      if (o.directQlen !== undefined) out.direct_qlen = o.directQlen;
      if (o.offload) out.offload = null;
      return out;
    }
    case "tbf": {
      const parms = o.parms as TcMessage | undefined;
      if (!parms) return {};
      const rateSpec = parms.rate as TcMessage;
      const rate = o.rate64 !== undefined ? num(o.rate64) : num(rateSpec.rate);
      const peakSpec = parms.peakrate as TcMessage;
      const peakrate = o.prate64 !== undefined ? num(o.prate64) : num(peakSpec.rate);
      const clock = hostPsched();
      const out: TcMessage = {
        rate,
        burst: calcXmitsize(rate, num(parms.buffer)),
      };
      if (peakrate) {
        out.peakrate = peakrate;
        if (num(parms.mtu) || num(peakSpec.mpu)) {
          out.minburst = calcXmitsize(peakrate, num(parms.mtu));
        }
      }
      let latency = 1e6 * (num(parms.limit) / rate) - num(parms.buffer) / clock.tickInUsec;
      if (peakrate) {
        const lat2 = 1e6 * (num(parms.limit) / peakrate) - num(parms.mtu) / clock.tickInUsec;
        if (lat2 > latency) latency = lat2;
      }
      if (latency >= 0) out.lat = Math.trunc(latency);
      else out.limit = num(parms.limit);
      if (num(rateSpec.overhead)) out.overhead = num(rateSpec.overhead);
      linklayerOut(rateSpec, out);
      return out;
    }
    case "pfifo":
    case "bfifo":
    case "pfifo_head_drop":
      return o.limit === undefined ? {} : { limit: o.limit };
    default:
      return {};
  }
}

function classOptionsOut(kind: string, o: TcMessage | undefined): TcMessage {
  if (kind !== "htb" || o === undefined || !o.parms) return {};
  const parms = o.parms as TcMessage;
  const rateSpec = parms.rate as TcMessage;
  const ceilSpec = parms.ceil as TcMessage;
  const rate = o.rate64 !== undefined ? num(o.rate64) : num(rateSpec.rate);
  const ceil = o.ceil64 !== undefined ? num(o.ceil64) : num(ceilSpec.rate);
  const out: TcMessage = {};
  if (!num(parms.level)) out.prio = num(parms.prio);
  out.rate = rate;
  if (num(rateSpec.overhead)) out.overhead = num(rateSpec.overhead);
  out.ceil = ceil;
  linklayerOut(rateSpec, out);
  out.burst = calcXmitsize(rate, num(parms.buffer));
  out.cburst = calcXmitsize(ceil, num(parms.cbuffer));
  out.quantum = num(parms.quantum);
  out.level = num(parms.level);
  return out;
}

function filterParentOut(parent: number): string {
  if (parent === parseFilterParent("ingress")) return "ingress";
  if (parent === parseFilterParent("egress")) return "egress";
  return formatHandle(parent);
}

/** A u32 handle as tc prints it: "800:", "800::800", "800:1:800". */
function u32HandleOut(handle: number): string {
  const htid = handle >>> 20;
  const hash = (handle >>> 12) & 0xff;
  const node = handle & 0xfff;
  let text = htid ? `${htid.toString(16)}:` : "";
  if (hash || node) {
    if (hash) text += hash.toString(16);
    if (node) text += `:${node.toString(16)}`;
  }
  return text;
}

function filterHandleOut(kind: string, handle: number): string {
  return kind === "u32" ? u32HandleOut(handle) : `0x${handle.toString(16)}`;
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
    });
  }
  return { flags: sel[0], keys };
}

/** TCA_CLS_FLAGS_* bits as tc -j names them. */
const CLS_FLAGS: ReadonlyArray<readonly [number, string]> = [
  [1, "skip_hw"],
  [2, "skip_sw"],
  [4, "in_hw"],
  [8, "not_in_hw"],
];

function filterOptionsOut(kind: string, handle: number, o: TcMessage | undefined): TcMessage {
  if (kind !== "u32" || o === undefined || o instanceof Uint8Array) return {};
  const out: TcMessage = {};
  if (handle) out.fh = u32HandleOut(handle);
  if (handle & 0xfff) out.order = handle & 0xfff;
  if (o.divisor !== undefined) out.ht_divisor = o.divisor;
  if (o.hash !== undefined) {
    const hash = num(o.hash);
    out.key_ht = (hash >>> 20).toString(16);
    out.bkt = ((hash >>> 12) & 0xff).toString(16);
  }
  if (o.classid !== undefined) out.flowid = formatHandle(num(o.classid));
  if (o.sel instanceof Uint8Array) {
    const { flags, keys } = u32Selector(o.sel);
    out.terminal = (flags & TC_U32_TERMINAL) !== 0;
    out.match = keys.map((k) => ({
      value: k.value.toString(16),
      mask: k.mask.toString(16),
      off: k.off,
    }));
  }
  for (const [bit, name] of CLS_FLAGS) if (num(o.flags) & bit) out[name] = true;
  return out;
}
