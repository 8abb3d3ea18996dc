/**
 * Device events (NETLINK_KOBJECT_UEVENT): the kernel's uevents and udev's monitor messages,
 * parsed into typed events, and a stream of them.
 *
 * The kernel multicasts each uevent to group 1 as text, `ACTION@DEVPATH` then `KEY=VALUE`
 * strings, each ending in a NUL: no netlink header. systemd-udevd re-broadcasts each device,
 * once processed, to group 2, behind a 40-byte libudev header (systemd's
 * src/libsystemd/sd-device/device-monitor.c, `monitor_netlink_header`). The stream reads both
 * through an `unframed` socket.
 *
 * @example
 * ```ts
 * import { openUevents } from "@netlink/netlink/uevent";
 *
 * await using uevents = await openUevents(); // the kernel's, in this network namespace
 * for await (const event of uevents) {
 *   if (event.type === "uevent") console.log(event.action, event.devpath, event.subsystem);
 * }
 * ```
 *
 * @module
 */

import { NETLINK_KOBJECT_UEVENT } from "./_constants.ts";
import { HOST_LITTLE_ENDIAN } from "./_endian.ts";
import { checkBytes, checkOptions, checkSignal, shown } from "./_options.ts";
import { quoted } from "./_printable.ts";
import { stoppable, STOPPED, withStop } from "./_stoppable.ts";
import { MalformedMessageError } from "./errors.ts";
import { open } from "./open.ts";
import type { NetlinkSocket, ReceivedDatagram } from "./socket.ts";
import type { OpenTransport } from "./transport.ts";

/**
 * The multicast group the kernel sends uevents to (udev's MONITOR_GROUP_KERNEL).
 *
 * @example
 * ```ts
 * import { type OpenOptions } from "@netlink/netlink";
 * import { UEVENT_GROUP_KERNEL } from "@netlink/netlink/uevent";
 * // open(NETLINK_KOBJECT_UEVENT, options) reads them raw; openUevents() parses them.
 * const options: OpenOptions = { unframed: true, groups: [UEVENT_GROUP_KERNEL] };
 * ```
 */
export const UEVENT_GROUP_KERNEL = 1;

/**
 * The multicast group udevd sends its processed devices to (udev's MONITOR_GROUP_UDEV).
 *
 * @example
 * ```ts
 * import { UEVENT_GROUP_UDEV } from "@netlink/netlink/uevent";
 * console.log(UEVENT_GROUP_UDEV); // 2
 * ```
 */
export const UEVENT_GROUP_UDEV = 2;

/**
 * The magic number of the libudev monitor header, big-endian on the wire: it changes when the
 * message format does.
 *
 * @example
 * ```ts
 * import { UDEV_MONITOR_MAGIC } from "@netlink/netlink/uevent";
 * console.log(UDEV_MONITOR_MAGIC.toString(16)); // feedcafe
 * ```
 */
export const UDEV_MONITOR_MAGIC = 0xfeedcafe;

/** sizeof(monitor_netlink_header): the 8-byte prefix and eight 32-bit fields. */
const UDEV_HEADER_SIZE = 40;
/** "libudev" and its NUL: what tells a udev message from a kernel one. */
const UDEV_PREFIX = Uint8Array.of(0x6c, 0x69, 0x62, 0x75, 0x64, 0x65, 0x76, 0);

/**
 * The libudev monitor header of a message from udev: what the sender filled in. The four hashes
 * are in network byte order on the wire (for socket filters), the sizes in the sender's.
 *
 * @example
 * ```ts
 * import type { UdevMonitorHeader } from "@netlink/netlink/uevent";
 * const hasTags = (h: UdevMonitorHeader) => h.tagBloom !== 0n;
 * ```
 */
export interface UdevMonitorHeader {
  /** `magic`: {@linkcode UDEV_MONITOR_MAGIC}, the format's version check. */
  magic: number;
  /** `header_size`: the header's length as the sender knows it (40). */
  headerSize: number;
  /** `properties_off`: where the `KEY=VALUE` strings start, from the start of the datagram. */
  propertiesOffset: number;
  /** `properties_len`: their length in bytes. */
  propertiesLength: number;
  /** `filter_subsystem_hash`: MurmurHash2 (seed 0) of SUBSYSTEM. */
  subsystemHash: number;
  /** `filter_devtype_hash`: MurmurHash2 of DEVTYPE, 0 if none. */
  devtypeHash: number;
  /**
   * `filter_tag_bloom_hi` and `_lo` as one 64-bit bloom filter of the device's tags: a bigint,
   * as every bit counts (`JSON.stringify` needs a replacer, as for {@linkcode Uevent.seqnum}).
   */
  tagBloom: bigint;
}

/**
 * One device event, from the kernel or from udev. `action`, `devpath`, `subsystem`, `devtype`
 * and `seqnum` are read from the environment, which `env` holds whole. Text is decoded as UTF-8
 * (invalid bytes become U+FFFD).
 *
 * @example
 * ```ts
 * import type { Uevent } from "@netlink/netlink/uevent";
 * const isNetAdd = (e: Uevent) => e.action === "add" && e.subsystem === "net";
 * ```
 */
export interface Uevent {
  /** Discriminant (see {@linkcode UeventOverrun}). */
  type: "uevent";
  /** Who sent it: the kernel (group 1) or udev (group 2, after its rules ran). */
  source: "kernel" | "udev";
  /** ACTION: "add", "remove", "change", "move", "online", "offline", "bind", "unbind". */
  action: string;
  /** DEVPATH: the device's path under /sys, e.g. "/devices/virtual/net/veth0". */
  devpath: string;
  /** SUBSYSTEM ("net", "block", "usb"...), if present. */
  subsystem: string | undefined;
  /** DEVTYPE ("disk", "partition", "wlan"...), if present. */
  devtype: string | undefined;
  /**
   * SEQNUM: the kernel's event counter (a u64), if present, as a bigint. `JSON.stringify` needs
   * a replacer for it: `(_, v) => typeof v === "bigint" ? String(v) : v`.
   */
  seqnum: bigint | undefined;
  /**
   * Every `KEY=VALUE` of the event, in an object (own properties only, any key). Read as UTF-8:
   * bytes that are not (a network device's INTERFACE may hold any byte but NUL, "/", ":" and
   * spaces) show as U+FFFD; find such a device by its IFINDEX.
   */
  env: Record<string, string>;
  /** For udev messages, their libudev header. */
  udev?: UdevMonitorHeader;
}

const decoder = new TextDecoder();

/** Byte offset, from `start`, of the `index`th NUL-terminated string in `data` (for errors). */
function stringOffset(data: Uint8Array, start: number, index: number): number {
  let at = start;
  for (let i = 0; i < index; i++) at = data.indexOf(0, at) + 1;
  return at;
}

/**
 * Turns NUL-separated `KEY=VALUE` strings (`strings[first...]`, decoded from `data` at `start`
 * in one go: one decode per datagram, not one per string) into an object. Empty strings are
 * skipped.
 */
function environment(
  strings: string[],
  first: number,
  data: Uint8Array,
  start: number,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (let i = first; i < strings.length; i++) {
    const entry = strings[i];
    if (entry === "") continue;
    const eq = entry.indexOf("=");
    if (eq <= 0) {
      throw new MalformedMessageError(
        `uevent environment entry ${quoted(entry.slice(0, 64))} is not KEY=VALUE`,
        stringOffset(data, start, i),
      );
    }
    const key = entry.slice(0, eq);
    // Assigning "__proto__" would set the prototype: define it as the own key it is.
    if (key === "__proto__") {
      Object.defineProperty(env, key, {
        value: entry.slice(eq + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      env[key] = entry.slice(eq + 1);
    }
  }
  return env;
}

function seqnumOf(env: Record<string, string>, offset: number): bigint | undefined {
  const text = Object.hasOwn(env, "SEQNUM") ? env.SEQNUM : undefined;
  if (text === undefined) return undefined;
  if (!/^\d{1,20}$/.test(text) || BigInt(text) > 0xffff_ffff_ffff_ffffn) {
    throw new MalformedMessageError(`uevent SEQNUM ${quoted(text)} is not a u64`, offset);
  }
  return BigInt(text);
}

function field(env: Record<string, string>, key: string): string | undefined {
  return Object.hasOwn(env, key) ? env[key] : undefined;
}

/**
 * True if `data` starts with the libudev monitor header's "libudev\0" prefix: a message from
 * udev rather than from the kernel.
 *
 * @example
 * ```ts
 * import { isUdevMessage } from "@netlink/netlink/uevent";
 * console.log(isUdevMessage(new TextEncoder().encode("add@/devices/x\0"))); // false
 * ```
 */
export function isUdevMessage(data: Uint8Array): boolean {
  checkBytes("isUdevMessage(): the data", data);
  if (data.byteLength < UDEV_PREFIX.length) return false;
  for (let i = 0; i < UDEV_PREFIX.length; i++) if (data[i] !== UDEV_PREFIX[i]) return false;
  return true;
}

function parseKernel(data: Uint8Array): Uevent {
  const strings = decoder.decode(data).split("\0");
  const header = strings[0];
  const at = header.indexOf("@/");
  if (at <= 0) {
    throw new MalformedMessageError(
      `uevent header ${quoted(header.slice(0, 64))} is not ACTION@DEVPATH`,
      0,
    );
  }
  const env = environment(strings, 1, data, 0);
  return {
    type: "uevent",
    source: "kernel",
    action: header.slice(0, at),
    devpath: header.slice(at + 1),
    subsystem: field(env, "SUBSYSTEM"),
    devtype: field(env, "DEVTYPE"),
    seqnum: seqnumOf(env, stringOffset(data, 0, 1)),
    env,
  };
}

function parseUdev(data: Uint8Array): Uevent {
  if (data.byteLength < UDEV_HEADER_SIZE) {
    throw new MalformedMessageError(
      `${data.byteLength} bytes are too short for the ${UDEV_HEADER_SIZE}-byte libudev header`,
      0,
    );
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  // The magic and hashes are big-endian (socket filters read them); the sizes are host order.
  const host = HOST_LITTLE_ENDIAN;
  const magic = view.getUint32(8, false);
  if (magic !== UDEV_MONITOR_MAGIC) {
    throw new MalformedMessageError(
      `libudev header magic 0x${magic.toString(16)} is not 0x${
        UDEV_MONITOR_MAGIC.toString(16)
      }: a message format this library does not know`,
      8,
    );
  }
  const udev: UdevMonitorHeader = {
    magic,
    headerSize: view.getUint32(12, host),
    propertiesOffset: view.getUint32(16, host),
    propertiesLength: view.getUint32(20, host),
    subsystemHash: view.getUint32(24, false),
    devtypeHash: view.getUint32(28, false),
    tagBloom: (BigInt(view.getUint32(32, false)) << 32n) | BigInt(view.getUint32(36, false)),
  };
  const start = udev.propertiesOffset;
  const end = start + udev.propertiesLength;
  if (start < UDEV_HEADER_SIZE || end > data.byteLength) {
    throw new MalformedMessageError(
      `libudev properties at ${start}..${end} are not within the ${data.byteLength}-byte `
        + "message after its header",
      16,
    );
  }
  const env = environment(decoder.decode(data.subarray(start, end)).split("\0"), 0, data, start);
  const action = field(env, "ACTION");
  const devpath = field(env, "DEVPATH");
  if (action === undefined || devpath === undefined) {
    throw new MalformedMessageError("udev message has no ACTION or no DEVPATH property", start);
  }
  return {
    type: "uevent",
    source: "udev",
    action,
    devpath,
    subsystem: field(env, "SUBSYSTEM"),
    devtype: field(env, "DEVTYPE"),
    seqnum: seqnumOf(env, start),
    env,
    udev,
  };
}

/**
 * Parses one NETLINK_KOBJECT_UEVENT datagram: a kernel uevent (`ACTION@DEVPATH`, then
 * `KEY=VALUE` strings) or, when it starts with "libudev\0", a udev monitor message (its header
 * in `udev`). Throws MalformedMessageError, with the offset, for anything else: a header without
 * `@/`, an entry without `=`, a SEQNUM that is not a u64, a libudev header with another magic
 * or properties outside the datagram, a udev message without ACTION or DEVPATH.
 *
 * @example
 * ```ts
 * import { parseUevent } from "@netlink/netlink/uevent";
 * const data = new TextEncoder().encode(
 *   "add@/devices/virtual/net/va\0ACTION=add\0DEVPATH=/devices/virtual/net/va\0" +
 *     "SUBSYSTEM=net\0INTERFACE=va\0IFINDEX=3\0SEQNUM=3190\0",
 * );
 * const event = parseUevent(data);
 * console.log(event.action, event.devpath, event.subsystem, event.seqnum, event.env.INTERFACE);
 * // add /devices/virtual/net/va net 3190n va
 * ```
 */
export function parseUevent(data: Uint8Array): Uevent {
  if (!(data instanceof Uint8Array)) {
    throw new TypeError(`uevent data must be a Uint8Array, got ${typeof data}`);
  }
  return isUdevMessage(data) ? parseUdev(data) : parseKernel(data);
}

/**
 * Stands in the uevent stream for events the kernel dropped because the socket was not read fast
 * enough (ENOBUFS). The stream goes on after it.
 *
 * @example
 * ```ts
 * import type { UeventOverrun } from "@netlink/netlink/uevent";
 * const lost: UeventOverrun = { type: "overrun" };
 * ```
 */
export interface UeventOverrun {
  /** Discriminant. */
  type: "overrun";
}

/**
 * Options for {@linkcode openUevents}.
 *
 * @example
 * ```ts
 * import type { UeventOptions } from "@netlink/netlink/uevent";
 * const options: UeventOptions = { source: "kernel", netns: "blue" };
 * ```
 */
export interface UeventOptions {
  /**
   * Whose events: "kernel" (group 1, the default: raw, as soon as they happen) or "udev" (group
   * 2: after udevd's rules ran, with its properties; only where systemd-udevd or eudev runs).
   */
  source?: "kernel" | "udev";
  /**
   * Network namespace to listen in (a name or path, as for {@linkcode OpenOptions.netns}). The
   * kernel sends each network device's uevents only to the namespace the device is in; the
   * initial namespace gets every other device's.
   */
  netns?: string;
  /** Receive buffer size in bytes, as for {@linkcode OpenOptions.receiveBufferSize}. */
  receiveBufferSize?: number;
  /** The transport to use instead of the libc one (tests), as for {@linkcode open}. */
  transport?: OpenTransport;
}

// Every key of UeventOptions and nothing else (`satisfies`): openUevents() refuses any other.
const UEVENT_KEYS = Object.keys(
  { source: 0, netns: 0, receiveBufferSize: 0, transport: 0 } satisfies Record<
    keyof UeventOptions,
    0
  >,
);

/**
 * Options for {@linkcode UeventMonitor.events}.
 *
 * @example
 * ```ts
 * import type { UeventIterationOptions } from "@netlink/netlink/uevent";
 * const options: UeventIterationOptions = { signal: AbortSignal.timeout(1_000) };
 * ```
 */
export interface UeventIterationOptions {
  /** Aborting ends the iteration by throwing the signal's reason. */
  signal?: AbortSignal;
}

// Every key of UeventIterationOptions and nothing else: events() refuses any other (by its own
// name, not as the socket's datagrams() would).
const ITERATION_KEYS = Object.keys({ signal: 0 } satisfies Record<keyof UeventIterationOptions, 0>);

/** Makes a monitor: module-private, so the class has no public constructor. */
let createMonitor: (socket: NetlinkSocket, source: "kernel" | "udev") => UeventMonitor;

/**
 * A stream of device events from {@linkcode openUevents}. Only datagrams from the expected
 * sender are parsed: for "kernel", multicast to group 1 from port 0 (the kernel) in the kernel's
 * format; for "udev", multicast to group 2 from a non-zero port (udevd) with a libudev header.
 * Anything else is counted in {@linkcode rejected} and skipped, and so is, for "udev", a message
 * that does not parse: any process with CAP_NET_ADMIN can send to that group, and one bad
 * message must not end the stream (udev drops them too). (udev also checks that the sender's
 * uid is 0 through SCM_CREDENTIALS; this library does not read credentials. The kernel lets only
 * processes with CAP_NET_ADMIN send on this protocol to other sockets at all.)
 *
 * @example
 * ```ts
 * import { openUevents } from "@netlink/netlink/uevent";
 * await using uevents = await openUevents({ netns: "blue" });
 * const signal = AbortSignal.timeout(10_000);
 * try {
 *   for await (const event of uevents.events({ signal })) {
 *     if (event.type === "overrun") console.log(`lost events (${uevents.overruns} overruns)`);
 *     else console.log(event.action, event.devpath);
 *   }
 * } catch (err) {
 *   if (!signal.aborted) throw err; // the abort ends the loop by throwing its reason
 * }
 * ```
 */
export class UeventMonitor implements AsyncIterable<Uevent | UeventOverrun>, AsyncDisposable {
  readonly #socket: NetlinkSocket;
  readonly #source: "kernel" | "udev";
  #rejected = 0;

  static {
    createMonitor = (socket, source) => new UeventMonitor(socket, source);
  }

  private constructor(socket: NetlinkSocket, source: "kernel" | "udev") {
    this.#socket = socket;
    this.#source = source;
  }

  /** Whose events this monitor reads. */
  get source(): "kernel" | "udev" {
    return this.#source;
  }

  /**
   * Datagrams skipped: not from the expected sender or not in its format (and, for "udev",
   * messages that do not parse).
   */
  get rejected(): number {
    return this.#rejected;
  }

  /** Overruns so far: each is one `{ type: "overrun" }` in the stream. */
  get overruns(): number {
    return this.#socket.overruns;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#socket.closed;
  }

  /**
   * Iterates the events as they arrive. Ends when the monitor is closed, and at once on
   * `return()`, also while a step waits (that step is done); throws (and so ends) on
   * abort, with the signal's reason, and on a uevent from the kernel that does not parse
   * (MalformedMessageError: a kernel bug); a new iteration goes on with the next datagram.
   * Its first step rejects with a TypeError for an option other than `signal`.
   */
  events(
    options: UeventIterationOptions = {},
  ): AsyncGenerator<Uevent | UeventOverrun, void, undefined> {
    return stoppable((stop) => this.#events(options, stop));
  }

  async *#events(
    options: UeventIterationOptions,
    stop: AbortSignal,
  ): AsyncGenerator<Uevent | UeventOverrun, void, undefined> {
    const where = "events() options";
    const signal = checkSignal(where, checkOptions(where, options, ITERATION_KEYS).signal);
    if (this.#socket.closed) return;
    try {
      for await (const datagram of this.#socket.datagrams({ signal: withStop(signal, stop) })) {
        const event = this.#accept(datagram);
        if (event !== undefined) yield event;
      }
    } catch (err) {
      if (err !== STOPPED) throw err;
    }
  }

  /** Same as {@linkcode events} without options: `for await (const event of monitor)`. */
  [Symbol.asyncIterator](): AsyncGenerator<Uevent | UeventOverrun, void, undefined> {
    return this.events();
  }

  /** Closes the socket; iterations end. Idempotent. */
  close(): void {
    this.#socket.close();
  }

  /** Closes: `await using uevents = await openUevents()`. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  #accept(datagram: ReceivedDatagram): Uevent | UeventOverrun | undefined {
    if (datagram.overrun) return { type: "overrun" };
    const { data, sender, group } = datagram;
    const trusted = this.#source === "kernel"
      ? sender === 0 && group === UEVENT_GROUP_KERNEL && !isUdevMessage(data)
      : sender !== 0 && group === UEVENT_GROUP_UDEV && isUdevMessage(data);
    if (!trusted) {
      this.#rejected++;
      return undefined;
    }
    if (this.#source === "kernel") return parseUevent(data);
    try {
      return parseUevent(data);
    } catch (err) {
      if (!(err instanceof MalformedMessageError)) throw err;
      this.#rejected++;
      return undefined;
    }
  }
}

/**
 * Opens a stream of device events: an unframed NETLINK_KOBJECT_UEVENT socket joined to the
 * kernel's group (the default) or udev's, in this network namespace or `netns`. Listening needs
 * no privilege (`netns` needs CAP_SYS_ADMIN). Rejects with RangeError or TypeError for bad
 * options, before any system call, and with SyscallError if the socket cannot be opened.
 *
 * @example
 * ```ts
 * import { openUevents } from "@netlink/netlink/uevent";
 * await using uevents = await openUevents({ netns: "blue" });
 * for await (const event of uevents) {
 *   if (event.type === "uevent" && event.subsystem === "net") {
 *     console.log(event.action, event.env.INTERFACE);
 *   }
 * }
 * ```
 */
export async function openUevents(options: UeventOptions = {}): Promise<UeventMonitor> {
  options = checkOptions("openUevents() options", options, UEVENT_KEYS);
  const source = options.source ?? "kernel";
  if (source !== "kernel" && source !== "udev") {
    throw new RangeError(
      `source must be "kernel" or "udev", got ${
        typeof source === "object" ? "an object" : shown(source)
      }`,
    );
  }
  const socket = await open(NETLINK_KOBJECT_UEVENT, {
    unframed: true,
    groups: [source === "kernel" ? UEVENT_GROUP_KERNEL : UEVENT_GROUP_UDEV],
    netns: options.netns,
    receiveBufferSize: options.receiveBufferSize,
    transport: options.transport,
    extendedAcks: false,
  });
  return createMonitor(socket, source);
}
