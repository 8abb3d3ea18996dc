/**
 * Traffic control as `tc` does it: qdiscs, classes and filters listed, added, changed, replaced
 * and deleted over rtnetlink, with handles as "1:10", rates and sizes as text ("10mbit",
 * "1500b"), and the rate tables and buffers `tc` computes. Built on the generated tc codec
 * (`@netlink/netlink/ynl/tc`); what it reads back is shaped like `tc -j` prints it.
 *
 * @example
 * ```ts
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
  NETLINK_ROUTE,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  TC_H_INGRESS,
  TC_H_MAJ_MASK,
} from "../_constants.ts";
import { OPEN_KEYS } from "../_open_keys.ts";
import { checkAloneWithSocket, checkGivenSocket, checkOptions, shown } from "../_options.ts";
import type { NetlinkError } from "../errors.ts";
import type { OpenOptions } from "../open.ts";
import type { NetlinkSocket } from "../socket.ts";
import { family, type NetlinkFamily } from "../ynl/family.ts";
import { rtLink } from "../ynl/rt_link.ts";
// A type only: the tc codec (the largest module of the route layer) is imported by open(), so a
// script that never opens a TrafficControl does not load it.
import type { tc as tcDescriptor } from "../ynl/tc.ts";
import { explain, type Hints, listed } from "./_context.ts";
import { checkLinkRef, linkIndex } from "./_link_ref.ts";
import { printAs, printFieldsOnly } from "./_names.ts";
import { checkFilterKeys, checkQdiscKeys } from "./_tc_keys.ts";
import {
  classOutOptions,
  filterHandleOut,
  filterOptionsOut,
  filterParentOut,
  qdiscOptionsOut,
  statsOut,
  type TcStats,
} from "./_tc_read.ts";
import { filterInfo, integer, protocolName, type TcMessage } from "./_tc_values.ts";
import { encodeFilter, encodeFilterOptions, type FilterSpec, type TcAction } from "./tc_filter.ts";
import {
  formatHandle,
  parseFilterParent,
  parseHandle,
  parseQdiscHandle,
  type TcHandle,
} from "./tc_handle.ts";
import {
  classOptions,
  type ClassSpec,
  type Device,
  encodeQdiscOptions,
  type QdiscSpec,
} from "./tc_qdisc.ts";
import { hostPsched, type Psched } from "./tc_units.ts";

export type { TcStats } from "./_tc_read.ts";
export type { TcMessage } from "./_tc_values.ts";
// Explicit lists: each module's encoder of checked specs (encodeQdiscOptions...) is the
// methods' below, not the package's.
export {
  type BasicFilterSpec,
  filterOptions,
  type FilterPlace,
  type FilterSpec,
  type FlowerFilterSpec,
  type GactControl,
  type MatchallFilterSpec,
  type TcAction,
  type U32FilterSpec,
  type U32IpMatch,
  type U32Key,
  u32Selector,
} from "./tc_filter.ts";
export * from "./tc_handle.ts";
export {
  classOptions,
  type ClassSpec,
  type Device,
  type FifoParams,
  type FqCodelParams,
  type HtbClassSpec,
  type HtbQdiscParams,
  type IngressParams,
  type NetemParams,
  type PrioParams,
  qdiscOptions,
  type QdiscParams,
  type QdiscPlace,
  type QdiscSpec,
  type Rate,
  type Size,
  type TbfParams,
  type Time,
} from "./tc_qdisc.ts";
export * from "./tc_units.ts";

/** A qdisc, as `tc -j qdisc show` shows it. */
export interface Qdisc {
  /** The device's name. */
  dev: string;
  /** The device's index. */
  ifindex: number;
  /** "htb", "tbf", "noqueue"... */
  kind: string;
  /** "1:" */
  handle: string;
  /** "root", "ffff:fff1" (ingress/clsact), or the class it hangs under ("1:10"). */
  parent: string;
  /** The kernel's reference count (tcm_info), as tc shows it. */
  refcnt: number;
  /**
   * The kind's options with `tc -j`'s names and values (rates in bytes/s, bursts in bytes,
   * times in microseconds) for htb, tbf, pfifo, bfifo, pfifo_head_drop, fq_codel, prio and
   * pfifo_fast; empty for other kinds, whose decoded attributes are in `message.options`.
   * A tbf's `peakrate`, when set, too, which `tc -j` leaves out (tc prints it in its text
   * only, PRINT_FP), though it shows the `minburst` that goes with it.
   */
  options: Record<string, unknown>;
  /** Counters, as `tc -s` shows them. */
  stats: TcStats;
  /**
   * The decoded message, every attribute the kernel sent (u64 values as bigints). A getter, as
   * a link's `raw`, so `JSON.stringify` and `console.log` show the object without it.
   */
  readonly message: Record<string, unknown>;
}

/** A class, as `tc class show` shows it. */
export interface TcClass {
  /** The device's name. */
  dev: string;
  /** The device's index. */
  ifindex: number;
  /** "htb"... */
  kind: string;
  /** "1:10" */
  handle: string;
  /** "root" or the parent class ("1:1"). */
  parent: string;
  /** The qdisc attached under the class, "10:", if any. */
  leaf?: string;
  /**
   * htb: prio, rate, ceil, burst and cburst, named as `tc class show` prints them (tc 6.1 has no
   * JSON for classes: `tc -j class show` prints that text too), and quantum and level (`tc -d`).
   * Rates in bytes/s, bursts in bytes: the kernel keeps a burst as the time it takes at its rate,
   * turned back into bytes here as tc does (`burst 15Kb` is 15360).
   */
  options: Record<string, unknown>;
  /** Counters, as `tc -s` shows them. */
  stats: TcStats;
  /**
   * The decoded message, every attribute the kernel sent (u64 values as bigints). A getter, as
   * a link's `raw`, so `JSON.stringify` and `console.log` show the object without it.
   */
  readonly message: Record<string, unknown>;
}

/** A filter, as `tc -j filter show` shows it. */
export interface TcFilter {
  /** The device's name. */
  dev: string;
  /** The device's index. */
  ifindex: number;
  /** "u32", "matchall", "flower"... */
  kind: string;
  /** "ingress", "egress", or the qdisc or class ("1:"). */
  parent: string;
  /** "ip", "ipv6", "all"... or "[hhhh]". */
  protocol: string;
  /** Priority. */
  pref: number;
  /** Chain index. */
  chain?: number;
  /** The filter's handle as its kind prints it (u32: "800::800"); absent for the kind's head. */
  handle?: string;
  /** As `tc -j filter show` prints them for u32, matchall, basic and flower, with their actions (gact and mirred in full); empty for other kinds. */
  options: Record<string, unknown>;
  /**
   * The decoded message, every attribute the kernel sent (u64 values as bigints). A getter, as
   * a link's `raw`, so `JSON.stringify` and `console.log` show the object without it.
   */
  readonly message: Record<string, unknown>;
}

/**
 * The base of tc's objects: the decoded message kept as `message`, a getter on a private field
 * (as the route layer's `raw`), so JSON.stringify, which throws on its bigints, and console.log
 * show what `tc -j` shows.
 */
class WithMessage {
  readonly #message: TcMessage;
  /** Keeps `message`. */
  constructor(message: TcMessage) {
    this.#message = message;
  }
  /** The decoded message, every attribute the kernel sent. */
  get message(): TcMessage {
    return this.#message;
  }
}
printFieldsOnly(WithMessage.prototype);

// Named as the interfaces are, for console.log.
const QdiscObject = class Qdisc extends WithMessage {};
printAs(QdiscObject, class Qdisc {});
const ClassObject = class TcClass extends WithMessage {};
printAs(ClassObject, class TcClass {});
const FilterObject = class TcFilter extends WithMessage {};
printAs(FilterObject, class TcFilter {});

/** `fields` on a new `Base` keeping `message`. */
function withMessage<T>(
  Base: new(message: TcMessage) => WithMessage,
  message: TcMessage,
  fields: Omit<T, "message">,
): T {
  return Object.assign(new Base(message), fields) as T;
}

/** A qdisc to delete, by place: {@linkcode TrafficControl.deleteQdisc} takes it or a listed one. */
export interface QdiscRef {
  /** The device. */
  dev: Device;
  /** "root" (the default), a class ("1:10"), or a number. */
  parent?: TcHandle;
  /** The qdisc's handle ("1:"). */
  handle?: TcHandle;
  /** The kind; "ingress" or "clsact" name the ingress place. */
  kind?: string;
}

/** A class to delete: {@linkcode TrafficControl.deleteClass} takes it or a listed one. */
export interface ClassRef {
  /** The device. */
  dev: Device;
  /** The class ("1:10"). */
  classid: TcHandle;
  /** Its parent. */
  parent?: TcHandle;
}

/** Filters to delete: {@linkcode TrafficControl.deleteFilter} takes it or a listed one. */
export interface FilterRef {
  /** The device. */
  dev: Device;
  /** "ingress", "egress", a qdisc or class ("1:"); the root qdisc when absent. */
  parent?: TcHandle;
  /** Their priority (every one at `parent` when absent). */
  pref?: number;
  /** Their protocol ("ip"...). */
  protocol?: string | number;
  /** One filter's handle, as a number (with `kind`). */
  handle?: number;
  /** Their kind. */
  kind?: string;
}

/** Options of {@linkcode TrafficControl.open}: a namespace, or an rtnetlink socket to use. */
export interface TrafficControlOptions extends OpenOptions {
  /**
   * An open NETLINK_ROUTE socket; it stays open when the client closes. A closed one
   * (SocketClosedError), or one of another protocol or opened `unframed` (TypeError), is refused
   * at once.
   */
  socket?: NetlinkSocket;
  /**
   * The scheduler clock rate tables and buffers are computed with (this host's by default); a
   * TypeError at once if it is not one (tickInUsec and hz positive numbers).
   */
  clock?: Psched;
}

/**
 * Refuses a clock no buffer can be computed with: a tick of 0 made every buffer and rate table
 * 0 (a class that never sends a burst), NaN failed deep in the encoder.
 */
function checkClock(clock: unknown): void {
  const { tickInUsec, hz, truncate } = (clock ?? {}) as Partial<Psched>;
  const positive = (n: unknown) => typeof n === "number" && Number.isFinite(n) && n > 0;
  if (
    typeof clock !== "object" || clock === null || !positive(tickInUsec) || !positive(hz)
    || (truncate !== undefined && typeof truncate !== "boolean")
  ) {
    throw new TypeError(
      `TrafficControl.open() options: clock must be a Psched (tickInUsec and hz positive `
        + `numbers, truncate a boolean if given), as readPsched() returns, got ${shown(clock)}`,
    );
  }
}

/** A qdisc or filter kind named to delete: a string, checked before the device is looked up. */
function kindName(kind: unknown): string {
  if (typeof kind !== "string") throw new TypeError(`kind: ${shown(kind)} is not a kind's name`);
  return kind;
}

/** nlmsg_flags of each way of writing: `tc ... add`, `change`, `replace`. */
const WRITE_FLAGS = {
  add: NLM_F_CREATE | NLM_F_EXCL,
  change: 0,
  replace: NLM_F_CREATE | NLM_F_REPLACE,
} as const;

/** What a refused write did, as its error says it: "class add 1:10 on veth0". */
function failed(object: string, verb: string, spec: { dev: Device; classid?: TcHandle }): string {
  const { classid } = spec;
  const id = object !== "class" || classid === undefined
    ? ""
    : ` ${typeof classid === "number" ? formatHandle(classid) : classid}`;
  return `${object} ${verb}${id} on ${spec.dev}`;
}

/**
 * What a write's refusal means, where the kernel's words are its flags' (`NLM_F_REPLACE needed
 * to override`) or none: the method to use instead. A class's ENOENT is its qdisc missing (the
 * kernel looks the qdisc up by the class id's major; a parent class that is not there is root).
 */
function writeHints(
  object: string,
  mode: keyof typeof WRITE_FLAGS,
  { dev, major, kind, actions = [] }: {
    dev: Device;
    major: string;
    kind?: string;
    actions?: string[];
  },
): Hints {
  const hints: Hints = { ENOENT: (err) => missingModule(err, kind, actions) };
  if (mode === "add" && object === "qdisc") {
    hints.EEXIST = "a qdisc is in that place or has that handle: replaceQdisc() replaces it, "
      + "changeQdisc() changes its options, deleteQdisc() removes it";
  }
  if (mode === "add" && object === "class") {
    hints.EEXIST = "the class exists: changeClass() changes it, replaceClass() adds or changes "
      + "it, deleteClass() removes it";
  }
  if (object === "class") {
    hints.ENOENT = (err) =>
      err.detail
        ? undefined
        : `no qdisc ${major}: on ${dev} holds it: add its qdisc first, tc.qdiscs() lists them`;
  }
  return hints;
}

/**
 * What the kernel's ENOENT for a kind it has no module for means, and which module that is
 * (sch_, cls_ or act_ and the kind, what the kernel's request_module() asks for): its words
 * name neither, nor, for an action, which of the filter's.
 */
function missingModule(
  err: NetlinkError,
  kind: string | undefined,
  actions: string[],
): string | undefined {
  const load = (what: string, prefix: string, kinds: string[]) =>
    `this kernel has no ${what} ${kinds.map((k) => shown(k)).join(" or ")}: load its module `
    + `(modprobe -a ${kinds.map((k) => prefix + k).join(" ")})`;
  if (kind === undefined) return undefined;
  if (err.detail === "Specified qdisc kind is unknown") return load("qdisc", "sch_", [kind]);
  if (err.detail === "TC classifier not found") return load("filter kind", "cls_", [kind]);
  if (err.detail === "Failed to load TC action module" && actions.length > 0) {
    return load("action kind", "act_", [...new Set(actions)]);
  }
  return undefined;
}

/**
 * What a delete sends for an object a list gave, to delete that one: its place as the kernel
 * sent it (device index, parent, handle, kind; a filter's pref and protocol, and chain), not
 * names and text that may have gone stale. Undefined for any other argument.
 */
function listedPlace(ref: object): TcMessage | undefined {
  if (!(ref instanceof WithMessage)) return undefined;
  const { ifindex, parent, handle, kind, info, chain } = ref.message;
  return {
    ifindex,
    parent,
    handle,
    kind,
    ...(info === undefined ? {} : { info }),
    ...(chain === undefined ? {} : { chain }),
  };
}

/** Every key of any member of a union (`keyof` of a union has only the common ones). */
type AnyKey<T> = T extends unknown ? keyof T : never;
/** The parameter objects of a TrafficControl method. */
type Argument<M extends keyof TrafficControl> = TrafficControl[M] extends (arg: infer A) => unknown
  ? NonNullable<A>
  : never;

// Every key of each object and nothing else (`satisfies`): a misspelt one is refused, not
// ignored. Specs that are unions by kind take the keys of every kind: a typo is none of them.
const TC_OPEN_KEYS = [
  ...OPEN_KEYS,
  ...Object.keys(
    { socket: 0, clock: 0 } satisfies Record<
      Exclude<keyof TrafficControlOptions, keyof OpenOptions>,
      0
    >,
  ),
];
const QDISC_QUERY_KEYS = Object.keys({ dev: 0 } satisfies Record<keyof Argument<"qdiscs">, 0>);
const QDISC_REF_KEYS = Object.keys(
  { dev: 0, parent: 0, handle: 0, kind: 0 } satisfies Record<keyof QdiscRef, 0>,
);
const CLASS_QUERY_KEYS = Object.keys(
  { dev: 0, parent: 0 } satisfies Record<keyof Argument<"classes">, 0>,
);
const CLASS_KEYS = Object.keys(
  {
    dev: 0,
    parent: 0,
    classid: 0,
    kind: 0,
    rate: 0,
    ceil: 0,
    burst: 0,
    cburst: 0,
    prio: 0,
    quantum: 0,
    mtu: 0,
    mpu: 0,
    overhead: 0,
    linklayer: 0,
  } satisfies Record<AnyKey<ClassSpec>, 0>,
);
const CLASS_REF_KEYS = Object.keys(
  { dev: 0, classid: 0, parent: 0 } satisfies Record<keyof ClassRef, 0>,
);
const FILTER_QUERY_KEYS = Object.keys(
  { dev: 0, parent: 0 } satisfies Record<keyof Argument<"filters">, 0>,
);
const FILTER_REF_KEYS = Object.keys(
  {
    dev: 0,
    parent: 0,
    pref: 0,
    protocol: 0,
    handle: 0,
    kind: 0,
  } satisfies Record<keyof FilterRef, 0>,
);

/** The actions with each mirred's device replaced by `index(dev)`. */
function mirredDevices(
  actions: TcAction[] | undefined,
  index: (dev: Device) => number,
): TcAction[] | undefined {
  return actions?.map((action) =>
    typeof action === "object" && action.kind === "mirred"
      ? { ...action, dev: index(action.dev) }
      : action
  );
}

/** The loosely typed face of the tc family this module drives with its own checked values. */
interface Loose {
  do(op: string, request: TcMessage, options?: { flags?: number }): Promise<unknown>;
  dump(op: string, request?: TcMessage): Promise<TcMessage[]>;
}

/** A spec is required: checkOptions() takes undefined for "no options". */
function checkSpec(where: string, spec: unknown): void {
  if (typeof spec !== "object" || spec === null) {
    throw new TypeError(`${where} must be an object, got ${shown(spec)}`);
  }
}

/**
 * A traffic-control client over one rtnetlink socket (in the caller's namespace or `netns`).
 * Writes, deletes and lists are checked before anything is sent, the device's lookup included
 * (a bad rate or handle is a RangeError naming the
 * field; a key the spec's kind does not take, in a filter's `match`, `keys` and `actions` too, a
 * TypeError naming it); kernel refusals are `NetlinkError`s with the kernel's text, after what
 * failed and with what to do where the errno says it (`EPERM: qdisc add on veth0: Operation not
 * permitted (needs CAP_NET_ADMIN: ...)`, `ENOENT: class add 9:1 on veth0: No such file or
 * directory`; a kind the kernel has no module for names the module: `ENOENT: qdisc add on
 * veth0: Specified qdisc kind is unknown (this kernel has no qdisc "netem": load its module
 * (modprobe -a sch_netem))`, and so do a filter's (cls_) and an action's (act_)).
 *
 * @example
 * ```ts
 * import { TrafficControl } from "@netlink/netlink/route";
 * await using tc = await TrafficControl.open();
 * console.log(await tc.qdiscs());
 * ```
 */
export class TrafficControl implements AsyncDisposable {
  readonly #tc: NetlinkFamily<typeof tcDescriptor>;
  readonly #links: NetlinkFamily<typeof rtLink>;
  readonly #clock: Psched;

  private constructor(
    tc: NetlinkFamily<typeof tcDescriptor>,
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
   * ```ts
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * ```
   */
  static async open(options: TrafficControlOptions = {}): Promise<TrafficControl> {
    const { clock, ...familyOptions } = checkOptions(
      "TrafficControl.open() options",
      options,
      TC_OPEN_KEYS,
    );
    if (clock !== undefined) checkClock(clock);
    // Here, not in family(): the errors name this call.
    const { socket, ...openOptions } = familyOptions;
    checkGivenSocket("TrafficControl.open()", socket, NETLINK_ROUTE, "NETLINK_ROUTE");
    checkAloneWithSocket("TrafficControl.open()", socket, openOptions);
    const { tc: descriptor } = await import("../ynl/tc.ts");
    const tc = await family(descriptor, familyOptions);
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
    op: "newqdisc" | "newtclass" | "newtfilter",
    request: Promise<TcMessage>,
    mode: keyof typeof WRITE_FLAGS,
    spec: { dev: Device; classid?: TcHandle },
  ): Promise<void> {
    const message = await request; // the spec is checked once this resolves
    const object = op === "newqdisc" ? "qdisc" : op === "newtclass" ? "class" : "filter";
    const what = failed(object, mode, spec);
    await this.#do(
      op,
      message,
      what,
      { flags: WRITE_FLAGS[mode] },
      writeHints(object, mode, {
        dev: spec.dev,
        major: ((message.handle as number) >>> 16).toString(16),
        kind: message.kind as string | undefined,
        actions: ((message.options as TcMessage | undefined)?.act as TcMessage[] | undefined)
          ?.map((action) => action.kind as string),
      }),
    );
  }

  /** A request whose refusal says what failed, and what to do where the errno tells (EPERM). */
  async #do(
    op: string,
    message: TcMessage,
    what: string,
    options?: { flags: number },
    hints?: Hints,
  ) {
    try {
      await this.#loose.do(op, message, options);
    } catch (err) {
      throw explain(err, what, hints);
    }
  }

  /**
   * Every qdisc, or those of `dev`, as `tc -s -j qdisc show` shows them.
   *
   * @example
   * ```ts
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open();
   * for (const q of await tc.qdiscs({ dev: "lo" })) console.log(q.kind, q.handle, q.parent);
   * ```
   */
  async qdiscs(query: { dev?: Device } = {}): Promise<Qdisc[]> {
    query = checkOptions("tc.qdiscs() query", query, QDISC_QUERY_KEYS);
    // The device first, as classes() and filters() do: a bad one is refused before any request.
    const ifindex = query.dev === undefined ? undefined : await this.ifindex(query.dev);
    const names = await this.#linkNames();
    const messages = await listed("qdisc list", () => this.#loose.dump("getqdisc", {}));
    return messages
      .filter((m) => ifindex === undefined || m.ifindex === ifindex)
      .map((m) =>
        withMessage(QdiscObject, m, {
          dev: names.get(m.ifindex as number) ?? String(m.ifindex),
          ifindex: m.ifindex as number,
          kind: m.kind as string,
          handle: `${((m.handle as number) >>> 16).toString(16)}:`,
          parent: formatHandle(m.parent as number),
          refcnt: m.info as number,
          options: qdiscOptionsOut(m.kind as string, m.options as TcMessage | undefined),
          stats: statsOut(m),
        })
      );
  }

  /**
   * Adds a qdisc (fails with EEXIST if one is there: see {@linkcode replaceQdisc}).
   *
   * @example
   * ```ts
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * await tc.addQdisc({ dev: "veth0", kind: "tbf", rate: "1mbit", burst: "10kb", latency: "50ms" });
   * ```
   */
  addQdisc(spec: QdiscSpec): Promise<void> {
    return this.#write("newqdisc", this.#qdiscRequest(spec, "addQdisc"), "add", spec);
  }

  /**
   * Changes the parameters of an existing qdisc (`tc qdisc change`): same place and kind.
   *
   * @example
   * ```ts
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * // Not every kind can change: htb cannot (EINVAL), replace it by one with a new handle.
   * await tc.changeQdisc({ dev: "veth0", handle: "1:", kind: "tbf", rate: "2mbit", burst: "20kb", limit: "40kb" });
   * ```
   */
  changeQdisc(spec: QdiscSpec): Promise<void> {
    return this.#write("newqdisc", this.#qdiscRequest(spec, "changeQdisc"), "change", spec);
  }

  /**
   * Adds the qdisc, or replaces the one in its place (`tc qdisc replace`).
   *
   * @example
   * ```ts
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * await tc.replaceQdisc({ dev: "veth0", kind: "pfifo", limit: 100 });
   * ```
   */
  replaceQdisc(spec: QdiscSpec): Promise<void> {
    return this.#write("newqdisc", this.#qdiscRequest(spec, "replaceQdisc"), "replace", spec);
  }

  /**
   * Deletes a qdisc by place (`parent`, "root" when absent) or handle, or one `qdiscs()` gave
   * (that one: by its device's index, parent and handle, as listed).
   *
   * @example
   * ```ts
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * await tc.deleteQdisc({ dev: "veth0" }); // the root qdisc
   * await tc.deleteQdisc({ dev: "veth0", kind: "clsact" });
   * for (const q of await tc.qdiscs({ dev: "veth0" })) if (q.kind === "tbf") await tc.deleteQdisc(q);
   * ```
   */
  async deleteQdisc(spec: QdiscRef | Qdisc): Promise<void> {
    const place = listedPlace(spec);
    if (place) return await this.#do("delqdisc", place, failed("qdisc", "delete", spec));
    const ref = checkOptions("tc.deleteQdisc() ref", spec as QdiscRef, QDISC_REF_KEYS);
    const ingress = ref.kind === "ingress" || ref.kind === "clsact";
    // Every value checked before the device is looked up: a bad one fails before any request.
    const given = {
      parent: ingress ? TC_H_INGRESS : parseHandle(ref.parent ?? "root", "parent"),
      handle: ingress ? (TC_H_INGRESS & TC_H_MAJ_MASK) >>> 0 : parseQdiscHandle(ref.handle ?? 0),
      ...(ref.kind === undefined ? {} : { kind: kindName(ref.kind) }),
    };
    await this.#do(
      "delqdisc",
      { ifindex: await this.ifindex(ref.dev), ...given },
      failed("qdisc", "delete", ref),
    );
  }

  /**
   * The classes of `dev` (optionally under one qdisc: all its classes; or under one class: its
   * children), as `tc -s class show` shows them.
   *
   * @example
   * ```ts
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * for (const c of await tc.classes({ dev: "veth0" })) console.log(c.handle, c.options.rate);
   * ```
   */
  async classes(query: { dev: Device; parent?: TcHandle }): Promise<TcClass[]> {
    checkOptions("tc.classes() query", query, CLASS_QUERY_KEYS);
    const parent = query.parent === undefined ? undefined : parseHandle(query.parent, "parent");
    const ifindex = await this.ifindex(query.dev);
    const dev = typeof query.dev === "string" ? query.dev : await this.#linkName(ifindex);
    // A qdisc's handle (minor 0) selects every class of it: its top-level classes' parent is
    // root, not the qdisc. A class's handle selects the classes under it.
    const under = (m: TcMessage) =>
      parent === undefined || m.parent === parent
      || (parent & 0xffff) === 0 && (m.handle as number) >>> 16 === parent >>> 16;
    const messages = await listed(
      `class list on ${dev}`,
      () => this.#loose.dump("gettclass", { ifindex }),
    );
    return messages
      .filter(under)
      .map((m) =>
        withMessage(ClassObject, m, {
          dev,
          ifindex,
          kind: m.kind as string,
          handle: formatHandle(m.handle as number),
          parent: formatHandle(m.parent as number),
          ...((m.info as number) ? { leaf: `${((m.info as number) >>> 16).toString(16)}:` } : {}),
          options: classOutOptions(m.kind as string, m.options as TcMessage | undefined),
          stats: statsOut(m),
        })
      );
  }

  /**
   * Adds a class (EEXIST if its id is taken).
   *
   * @example
   * ```ts
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * await tc.addClass({ dev: "veth0", parent: "1:", classid: "1:10", kind: "htb", rate: "5mbit" });
   * ```
   */
  addClass(spec: ClassSpec): Promise<void> {
    return this.#write("newtclass", this.#classRequest(spec, "addClass"), "add", spec);
  }

  /**
   * Changes an existing class's parameters (`tc class change`).
   *
   * @example
   * ```ts
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * await tc.changeClass({ dev: "veth0", parent: "1:", classid: "1:10", kind: "htb", rate: "8mbit" });
   * ```
   */
  changeClass(spec: ClassSpec): Promise<void> {
    return this.#write("newtclass", this.#classRequest(spec, "changeClass"), "change", spec);
  }

  /**
   * Adds the class or changes the one with its id (`tc class replace`).
   *
   * @example
   * ```ts
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * await tc.replaceClass({ dev: "veth0", parent: "1:", classid: "1:10", kind: "htb", rate: "8mbit" });
   * ```
   */
  replaceClass(spec: ClassSpec): Promise<void> {
    return this.#write("newtclass", this.#classRequest(spec, "replaceClass"), "replace", spec);
  }

  /**
   * Deletes a class, or one `classes()` gave (by its device's index and handle, as listed).
   *
   * @example
   * ```ts
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * await tc.deleteClass({ dev: "veth0", classid: "1:10" });
   * for (const c of await tc.classes({ dev: "veth0", parent: "1:1" })) await tc.deleteClass(c);
   * ```
   */
  async deleteClass(spec: ClassRef | TcClass): Promise<void> {
    const place = listedPlace(spec);
    if (place) {
      const { dev, handle } = spec as TcClass;
      return await this.#do(
        "deltclass",
        place,
        failed("class", "delete", { dev, classid: handle }),
      );
    }
    const ref = checkOptions("tc.deleteClass() ref", spec as ClassRef, CLASS_REF_KEYS);
    const handle = parseHandle(ref.classid, "classid");
    const parent = ref.parent === undefined ? 0 : parseHandle(ref.parent, "parent");
    await this.#do(
      "deltclass",
      { ifindex: await this.ifindex(ref.dev), handle, parent },
      failed("class", "delete", ref),
    );
  }

  /**
   * The filters attached at `parent` of `dev` ("root" qdisc when absent; "ingress"/"egress" on
   * clsact), as `tc -j filter show` shows them (a kind's head and its entries, like tc).
   *
   * @example
   * ```ts
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * for (const f of await tc.filters({ dev: "veth0", parent: "ingress" })) console.log(f);
   * ```
   */
  async filters(query: { dev: Device; parent?: TcHandle }): Promise<TcFilter[]> {
    checkOptions("tc.filters() query", query, FILTER_QUERY_KEYS);
    const parent = query.parent === undefined ? 0 : parseFilterParent(query.parent);
    const ifindex = await this.ifindex(query.dev);
    const names = await this.#linkNames(); // the filter's device, and mirred's
    const dev = names.get(ifindex) ?? String(ifindex);
    const messages = await listed(
      `filter list on ${dev}`,
      () => this.#loose.dump("gettfilter", { ifindex, parent }),
    );
    return messages.map((m) => {
      const info = m.info as number;
      const handle = m.handle as number;
      return withMessage(FilterObject, m, {
        dev,
        ifindex,
        kind: m.kind as string,
        parent: filterParentOut(m.parent as number),
        protocol: protocolName(((info & 0xff) << 8) | ((info >>> 8) & 0xff)),
        pref: info >>> 16,
        ...(m.chain === undefined ? {} : { chain: m.chain as number }),
        ...(handle ? { handle: filterHandleOut(m.kind as string, handle) } : {}),
        options: filterOptionsOut(
          m.kind as string,
          handle,
          m.options as TcMessage | undefined,
          names,
        ),
      });
    });
  }

  /**
   * Adds a filter.
   *
   * @example
   * ```ts
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * await tc.addFilter({
   *   dev: "veth0", parent: "1:", kind: "u32", protocol: "ip", pref: 10,
   *   match: { dst: "10.0.0.0/24", dport: 80 }, classid: "1:10",
   * });
   * ```
   */
  addFilter(spec: FilterSpec): Promise<void> {
    return this.#write("newtfilter", this.#filterRequest(spec, "addFilter"), "add", spec);
  }

  /**
   * Adds the filter or replaces the one with its handle (`tc filter replace`).
   *
   * @example
   * ```ts
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * await tc.replaceFilter({ dev: "veth0", parent: "1:", kind: "u32", pref: 10, match: { dport: 22 } });
   * ```
   */
  replaceFilter(spec: FilterSpec): Promise<void> {
    return this.#write("newtfilter", this.#filterRequest(spec, "replaceFilter"), "replace", spec);
  }

  /**
   * Deletes the filters at `parent` (all of them, or those of `pref`, or one `handle` of a kind),
   * or one `filters()` gave: that entry (a kind's head, without `handle`: every filter of its
   * pref and protocol), by its device's index, parent, pref, protocol, chain and handle as listed.
   *
   * @example
   * ```ts
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open({ netns: "blue" });
   * await tc.deleteFilter({ dev: "veth0", parent: "1:", pref: 10 });
   * // One u32 entry of several: the one a list gave (its head deletes every entry of its pref).
   * const [entry] = (await tc.filters({ dev: "veth0", parent: "1:" })).filter((f) => f.options.flowid === "1:10");
   * if (entry) await tc.deleteFilter(entry);
   * ```
   */
  async deleteFilter(spec: FilterRef | TcFilter): Promise<void> {
    const listed = listedPlace(spec);
    if (listed) return await this.#do("deltfilter", listed, failed("filter", "delete", spec));
    const ref = checkOptions("tc.deleteFilter() ref", spec as FilterRef, FILTER_REF_KEYS);
    const place = {
      parent: ref.parent === undefined ? 0 : parseFilterParent(ref.parent),
      info: filterInfo(ref.pref ?? 0, ref.protocol ?? 0),
      handle: integer(ref.handle, "handle") ?? 0,
      ...(ref.kind === undefined ? {} : { kind: kindName(ref.kind) }),
    };
    await this.#do(
      "deltfilter",
      { ifindex: await this.ifindex(ref.dev), ...place },
      failed("filter", "delete", ref),
    );
  }

  /**
   * The index of a device (an index passes through unasked); NetlinkError ENODEV
   * `no link named "X"` if there is none. What can name no link (0, -1, "", "a b") is a
   * TypeError, before any request.
   *
   * @example
   * ```ts
   * import { TrafficControl } from "@netlink/netlink/route";
   * await using tc = await TrafficControl.open();
   * console.log(await tc.ifindex("lo")); // 1
   * ```
   */
  ifindex(dev: Device): Promise<number> {
    // The route client's lookup, its ENODEV said the same way.
    return linkIndex(this.#links, dev, "dev");
  }

  async #linkNames(): Promise<Map<number, string>> {
    const links = await listed("link list", () => this.#links.dump("getlink"));
    return new Map(links.map((l) => [l.ifiIndex, l.ifname ?? String(l.ifiIndex)]));
  }

  async #linkName(ifindex: number): Promise<string> {
    const link = await this.#links.do("getlink", { ifiIndex: ifindex });
    return link?.ifname ?? String(ifindex);
  }

  // Each spec is checked whole before the device is looked up: bad input is refused before any
  // request is sent.

  async #qdiscRequest(spec: QdiscSpec, method: string): Promise<TcMessage> {
    checkSpec(`tc.${method}() spec`, spec);
    checkQdiscKeys(`tc.${method}() spec`, spec);
    const ingress = spec.kind === "ingress" || spec.kind === "clsact";
    const options = encodeQdiscOptions(spec, this.#clock);
    const parent = ingress ? TC_H_INGRESS : parseHandle(spec.parent ?? "root", "parent");
    const handle = ingress
      ? (TC_H_INGRESS & TC_H_MAJ_MASK) >>> 0
      : parseQdiscHandle(spec.handle ?? 0);
    return {
      ifindex: await this.ifindex(spec.dev),
      parent,
      handle,
      kind: spec.kind,
      ...(options === undefined ? {} : { options }),
    };
  }

  async #classRequest(spec: ClassSpec, method: string): Promise<TcMessage> {
    checkSpec(`tc.${method}() spec`, spec);
    checkOptions(`tc.${method}() spec`, spec, CLASS_KEYS);
    const options = classOptions(spec, this.#clock);
    const parent = parseHandle(spec.parent, "parent");
    const handle = parseHandle(spec.classid, "classid");
    return { ifindex: await this.ifindex(spec.dev), parent, handle, kind: "htb", options };
  }

  async #filterRequest(spec: FilterSpec, method: string): Promise<TcMessage> {
    checkSpec(`tc.${method}() spec`, spec);
    checkFilterKeys(`tc.${method}() spec`, spec);
    // The whole spec is checked before any lookup: mirred's device names (checked as names)
    // stand as index 1 in this first encoding, then are looked up and the options encoded again.
    const named = new Map<string, number>();
    const { parent, info, options } = encodeFilter({
      ...spec,
      actions: mirredDevices(spec.actions, (dev) => {
        checkLinkRef(dev, "mirred dev");
        if (typeof dev === "number") return dev;
        named.set(dev, 1);
        return 1;
      }),
    });
    const ifindex = await this.ifindex(spec.dev);
    for (const name of named.keys()) named.set(name, await this.ifindex(name));
    return {
      ifindex,
      parent,
      info,
      handle: 0,
      kind: spec.kind,
      options: named.size === 0 ? options : encodeFilterOptions({
        ...spec,
        actions: mirredDevices(
          spec.actions,
          (dev) => typeof dev === "number" ? dev : named.get(dev)!,
        ),
      }),
    };
  }

  /**
   * Closes the socket (unless it was given).
   *
   * @example
   * ```ts
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
