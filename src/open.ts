/**
 * open(): validate options, open the transport, apply socket options.
 *
 * @module
 */

import { openTransport } from "../ffi/mod.ts";
import {
  MAX_LINKS,
  NETLINK_BROADCAST_ERROR,
  NETLINK_CAP_ACK,
  NETLINK_EXT_ACK,
  NETLINK_GET_STRICT_CHK,
  NETLINK_LISTEN_ALL_NSID,
  NETLINK_NO_ENOBUFS,
  SOL_NETLINK,
} from "./_constants.ts";
import { netnsPath } from "./_netns.ts";
import { OPEN_KEYS } from "./_open_keys.ts";
import { checkInteger, checkIterable, checkOptions, shown } from "./_options.ts";
import { attachOnOpen, checkCaptureTarget, traceReady } from "./_wire.ts";
import type { CaptureTarget } from "./capture.ts";
import { SyscallError } from "./errors.ts";
import { NetlinkSocket, type SocketSettings } from "./socket.ts";
import { TapPoint } from "./tap.ts";
import type { OpenTransport, Transport } from "./transport.ts";

// Socket-level options are libc's, not netlink's; they live with the FFI layer's constants.
import { SO_RCVBUF, SO_RCVBUFFORCE, SOL_SOCKET } from "../ffi/_constants.ts";

/**
 * Options for {@linkcode open}.
 *
 * @example
 * ```ts
 * import { type OpenOptions, RTNLGRP_LINK } from "@netlink/netlink";
 * const options: OpenOptions = { groups: [RTNLGRP_LINK], receiveBufferSize: 1 << 20 };
 * ```
 */
export interface OpenOptions {
  /** Multicast group numbers to join (NETLINK_ADD_MEMBERSHIP), any size. */
  groups?: Iterable<number>;
  /** Port ID to bind to. Default 0: the kernel assigns a unique one. */
  portid?: number;
  /**
   * Receive buffer size in bytes (SO_RCVBUFFORCE when permitted, else SO_RCVBUF, which the
   * kernel caps at net.core.rmem_max). Larger buffers make ENOBUFS overruns rarer.
   */
  receiveBufferSize?: number;
  /** Ask for extended acks (NETLINK_EXT_ACK): error text and offsets. Default true. */
  extendedAcks?: boolean;
  /** Strict checking of dump requests (NETLINK_GET_STRICT_CHK). Default false. */
  strictChecking?: boolean;
  /** Capped acks (NETLINK_CAP_ACK): errors don't echo the request's payload. Default false. */
  capAcks?: boolean;
  /**
   * NETLINK_NO_ENOBUFS: the kernel stops reporting ENOBUFS when it drops messages for this
   * socket. For listeners that would rather lose events silently than see overruns. The kernel
   * then never tells a request that its answer was dropped either: give requests a `timeout`.
   * Default false.
   */
  noENOBUFS?: boolean;
  /**
   * NETLINK_BROADCAST_ERROR: a multicast the kernel fails to deliver to this socket (its queue
   * is full) is reported to the kernel code that sent it, which may fail the change that caused
   * it (ctnetlink's reliable event delivery does). Default false.
   */
  broadcastError?: boolean;
  /**
   * NETLINK_LISTEN_ALL_NSID: receive the multicast of every network namespace that has an id in
   * this socket's namespace, each message with `nsid` set to that id (see
   * `ReceivedMessage`). Needs CAP_NET_BROADCAST. Default false.
   */
  listenAllNsid?: boolean;
  /**
   * Network namespace to open the socket in: an absolute path (/run/netns/NAME, /proc/PID/ns/net)
   * or a name as `ip netns` uses it (no "/"; a relative path is a TypeError). Needs CAP_SYS_ADMIN.
   * Default: the caller's namespace.
   */
  netns?: string;
  /**
   * Most unclaimed messages (or, for {@linkcode NetlinkSocket.datagrams}, datagrams) kept for
   * iterators before reading pauses. Default 4096. While a request reads on (an iteration open
   * but not stepping), they queue up to twice the backlog, and up to 8 KiB per message of the
   * backlog in bytes (32 MiB by default); past either, an overrun stands for what was dropped.
   * What a request's reads take along while no
   * iteration is open waits for the first to open up to the backlog, and up to 4 KiB per message
   * of it in datagram bytes (16 MiB by default: another process may send the port datagrams of
   * hundreds of KB); past either, an overrun stands for what was dropped.
   */
  backlog?: number;
  /**
   * The protocol's datagrams are not netlink messages: NETLINK_KOBJECT_UEVENT (`KEY=value`
   * text), or your own protocol's raw bytes. The socket then never parses what it receives:
   * read it whole with {@linkcode NetlinkSocket.datagrams}, send bytes with `send(Uint8Array)`;
   * `request()`, `dump()`, `messages()` and `batches()` throw a TypeError. Default false.
   */
  unframed?: boolean;
  /**
   * The transport to use instead of the libc one: the seam for tests and other I/O back ends.
   * Given the protocol and the validated options, it returns a bound {@linkcode Transport}.
   */
  transport?: OpenTransport;
  /**
   * Capture every datagram the socket sends and receives, as pcap in the nlmon format (see
   * {@linkcode capture}): a file path, a function taking each chunk, or a WritableStream. The
   * capture ends when the socket closes. It starts once everything else is set up: an open()
   * that fails (a group it cannot join...) creates no file, leaves an existing one as it was, and
   * writes nothing to a function or stream.
   */
  capture?: CaptureTarget;
}

/**
 * Opens a netlink socket for `protocol` (NETLINK_ROUTE, NETLINK_GENERIC, a custom unit...): the
 * socket is bound, extended acks are on, and the requested groups are joined. Bad options throw
 * before any system call; a failure while applying options closes the socket again.
 *
 * With the environment variable NETLINK_DEBUG set (to anything but "0" or "false"; "tree" for
 * indented trees), every message the socket sends and receives is printed to stderr, decoded
 * (see `@netlink/netlink/format`). On Deno that takes --allow-env; without it tracing stays off.
 *
 * @example
 * ```ts
 * import { NETLINK_ROUTE, open, RTNLGRP_LINK } from "@netlink/netlink";
 * await using sock = await open(NETLINK_ROUTE, { groups: [RTNLGRP_LINK] });
 * for await (const msg of sock) console.log(msg.type);
 * ```
 */
export function open(protocol: number, options: OpenOptions = {}): Promise<NetlinkSocket> {
  try {
    const socket = openSync(protocol, options);
    if (socket instanceof Promise) return socket.then((s) => traceReady()?.then(() => s) ?? s);
    // With NETLINK_DEBUG on, the formatter loads (once) before the first socket is handed out.
    return traceReady()?.then(() => socket) ?? Promise.resolve(socket);
  } catch (err) {
    return Promise.reject(err);
  }
}

function checkFlag(name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    throw new TypeError(`${name} must be a boolean, got ${value === null ? "null" : typeof value}`);
  }
  return value;
}

/** What open() makes of its options, validated. */
interface Settings extends SocketSettings {
  readonly portid: number;
  readonly groups: readonly number[];
  readonly rcvbuf: number | undefined;
  readonly netns: string | undefined;
  readonly extendedAcks: boolean;
  /** The SOL_NETLINK flags to turn on (beyond NETLINK_EXT_ACK). */
  readonly flags: readonly number[];
  readonly openWith: OpenTransport;
  readonly capture: CaptureTarget | undefined;
}

/**
 * open() without options: what {@linkcode checkSettings} makes of none, without running it. On
 * Bun a function's bytecode is made on its first call, some 0.15-0.3 us per byte of bytecode in a
 * cold process, and a one-shot script's open() ran this validation's code before its first read.
 */
const DEFAULTS: Settings = {
  portid: 0,
  groups: [],
  rcvbuf: undefined,
  backlog: 4096,
  netns: undefined,
  unframed: false,
  extendedAcks: true,
  flags: [],
  openWith: openTransport,
  capture: undefined,
};

/** Validates open()'s options; throws before any system call. */
function checkSettings(value: OpenOptions): Settings {
  const options = checkOptions("open() options", value, OPEN_KEYS);
  const portid = checkInteger("portid", options.portid ?? DEFAULTS.portid, 0, 0xffff_ffff);
  const groups = [...checkIterable("groups", options.groups ?? [])];
  for (const group of groups) checkInteger("multicast group", group, 1, 0xffff_ffff);
  const rcvbuf = options.receiveBufferSize === undefined
    ? undefined
    : checkInteger("receiveBufferSize", options.receiveBufferSize, 1, 0x7fff_ffff);
  const backlog = checkInteger("backlog", options.backlog ?? DEFAULTS.backlog, 1, 0x7fff_ffff);
  const netns = options.netns === undefined ? undefined : netnsPath(options.netns);
  const unframed = checkFlag("unframed", options.unframed);
  const extendedAcks = checkFlag("extendedAcks", options.extendedAcks ?? DEFAULTS.extendedAcks);
  const flags: number[] = [];
  if (checkFlag("strictChecking", options.strictChecking)) flags.push(NETLINK_GET_STRICT_CHK);
  if (checkFlag("capAcks", options.capAcks)) flags.push(NETLINK_CAP_ACK);
  if (checkFlag("noENOBUFS", options.noENOBUFS)) flags.push(NETLINK_NO_ENOBUFS);
  if (checkFlag("broadcastError", options.broadcastError)) flags.push(NETLINK_BROADCAST_ERROR);
  if (checkFlag("listenAllNsid", options.listenAllNsid)) flags.push(NETLINK_LISTEN_ALL_NSID);
  const openWith = options.transport ?? DEFAULTS.openWith;
  if (typeof openWith !== "function") throw new TypeError("transport must be a function");
  if (options.capture !== undefined) checkCaptureTarget(options.capture);
  const capture = options.capture;
  return {
    portid,
    groups,
    rcvbuf,
    backlog,
    netns,
    unframed,
    extendedAcks,
    flags,
    openWith,
    capture,
  };
}

/**
 * True for `{}`, open()'s default: a plain object with no key (none inherited either, which the
 * options' reads would see).
 */
function noOptions(options: OpenOptions): boolean {
  if (options === null || typeof options !== "object") return false;
  if (Object.getPrototypeOf(options) !== Object.prototype) return false;
  for (const _ in options) return false;
  return true;
}

/** Sets the socket options `settings` ask for, in this order. */
function setOptions(transport: TapPoint, settings: Settings): void {
  const { rcvbuf } = settings;
  if (rcvbuf !== undefined) {
    try {
      transport.setOption(SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf);
    } catch (err) {
      if (!(err instanceof SyscallError && err.code === "EPERM")) throw err;
      transport.setOption(SOL_SOCKET, SO_RCVBUF, rcvbuf);
    }
  }
  if (settings.extendedAcks) transport.setOption(SOL_NETLINK, NETLINK_EXT_ACK, 1);
  for (const name of settings.flags) transport.setOption(SOL_NETLINK, name, 1);
}

// What a socket calls on every transport (the others are optional).
const TRANSPORT_METHODS = [
  "send",
  "receive",
  "wait",
  "cancelWait",
  "setOption",
  "getOption",
  "close",
];

/** What an `options.transport` returned, when it has a Transport's methods; else a TypeError. */
function checkTransport(transport: Transport): Transport {
  const missing = TRANSPORT_METHODS.find((name) =>
    typeof (transport as unknown as Record<string, unknown> | null)?.[name] !== "function"
  );
  if (missing !== undefined) {
    throw new TypeError(
      `transport returned ${shown(transport)}, which is no Transport: it has no ${missing}()`,
    );
  }
  return transport;
}

/** The socket, or with a capture, a promise of it once the capture is attached. */
function openSync(protocol: number, options: OpenOptions): NetlinkSocket | Promise<NetlinkSocket> {
  protocol = checkInteger("protocol", protocol, 0, MAX_LINKS - 1);
  const settings = noOptions(options) ? DEFAULTS : checkSettings(options);
  // Every socket reads and writes through a tap point: captures and traces attach there.
  const { portid, netns } = settings;
  const opened = settings.openWith(protocol, { portid, netns });
  // Only another transport is checked: a one-shot script's cold start runs none of the check.
  const transport = new TapPoint(
    settings.openWith === openTransport ? opened : checkTransport(opened),
  );
  try {
    // The defaults' one option, without the code of the others.
    if (settings === DEFAULTS) transport.setOption(SOL_NETLINK, NETLINK_EXT_ACK, 1);
    else setOptions(transport, settings);
    const socket = new NetlinkSocket(transport, settings);
    for (const group of settings.groups) socket.join(group);
    // Last, once nothing else can fail: a capture file is created (an existing one truncated).
    const attached = attachOnOpen(socket, transport, settings.capture);
    if (attached === undefined) return socket;
    return attached.then(() => socket, (err) => {
      transport.close();
      throw err;
    });
  } catch (err) {
    transport.close();
    throw err;
  }
}
