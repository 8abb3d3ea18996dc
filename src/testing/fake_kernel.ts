/**
 * An in-memory netlink "kernel" for tests: sockets opened through it are {@linkcode Transport}s
 * that follow the kernel's rules, so code that passes against it does not fail on the real
 * kernel for a reason the fake hid:
 *
 * - a request to the kernel is answered inside `send()` (as sendmsg does), replies and the ack
 *   each in their own datagram, with the request's sequence number and the requesting socket's
 *   port (whatever nlmsg_pid the request had); errors are always acked, with the request echoed
 *   (unless NETLINK_CAP_ACK) and extended-ack attributes when NETLINK_EXT_ACK is on; a message
 *   that is no request (no NLM_F_REQUEST, or a control type such as NLMSG_NOOP) is only acked,
 *   if it asks for that; a datagram's messages are done in order, up to bytes that are no
 *   message (a header cut short, an nlmsg_len below 16 or past the end), which are dropped in
 *   silence, the messages before them done all the same (netlink_rcv_skb); a message too short
 *   for the header its protocol reads first is done at once, acked if it asks (rtnetlink's
 *   1-byte struct rtgenmsg for a type up to RTM_MAX, nfnetlink's 4-byte struct nfgenmsg);
 * - port IDs are assigned as the kernel's autobind does: the process ID first, then numbers
 *   above 2^31; a socket of a unit no module created (one neither served nor given in the
 *   `protocolGroups` option, nor of the kernel's own) is EPROTONOSUPPORT;
 * - one dump per socket: a dump request while a dump runs is answered with EBUSY; a dump's first
 *   datagram is queued inside `send()`, and each later one only when a `receive()` leaves the
 *   receive queue at most half full (a dump advances only when read); datagrams are sized as
 *   the kernel sizes them (3776 bytes until the socket has read, then 32448);
 * - the receive buffer is finite, sized by SO_RCVBUF and SO_RCVBUFFORCE as the kernel sizes it:
 *   a message the kernel sends to a socket whose queue is over its receive buffer is dropped and
 *   the next `receive()` throws ENOBUFS (unless
 *   NETLINK_NO_ENOBUFS), before anything still queued; until the queue has been emptied,
 *   everything else the kernel sends it is dropped too (NETLINK_S_CONGESTED); the send buffer,
 *   sized by SO_SNDBUF and SO_SNDBUFFORCE alike, refuses a datagram longer than it less 32 bytes
 *   with EMSGSIZE;
 * - multicast reaches every member of the group but the sender; a group past the protocol's
 *   count (32; NETLINK_ROUTE's RTNLGRP_MAX, the `routeGroups` option; NETLINK_GENERIC's 64,
 *   or 64 more for each long its group bitmap grew by, the `genericGroups` option; a unit a
 *   module creates with more, the `protocolGroups` option) cannot be joined (EINVAL); NLM_F_ECHO sends the requester its copy of a notification,
 *   tagged with the group; user-space senders to a full peer get
 *   EAGAIN, a send to several groups goes to the lowest alone, one to a port and a group gives
 *   the port its copy tagged with the group (a multicast to its reader), and a send with a group
 *   and port 0 to a protocol nothing in the kernel serves delivers the multicast, then fails with
 *   ECONNREFUSED;
 * - an attached classic BPF filter is checked as the kernel checks it and runs on everything
 *   queued to its socket, dump datagrams included (sk_filter); SO_LOCK_FILTER locks it;
 * - a pending `wait()` keeps the process alive, as a real socket's does, and nothing else does.
 *
 * What the kernel does is programmed per protocol and message type with
 * {@linkcode FakeKernel.serve}; a socket's `script` hook replaces that for tests that answer by
 * hand.
 *
 * @example
 * ```ts
 * import { NETLINK_ROUTE, open, RTM_GETLINK, RTM_NEWLINK } from "@netlink/netlink";
 * import { FakeKernel } from "@netlink/netlink/testing";
 *
 * const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_GETLINK, () => ({
 *   messages: [{ type: RTM_NEWLINK, payload: new Uint8Array(16) }],
 * }));
 * await using sock = await open(NETLINK_ROUTE, { transport: kernel.open });
 * const links = await sock.request({ type: RTM_GETLINK, flags: 0x300, payload: new Uint8Array(16) });
 * console.log(links.length); // 1
 * ```
 *
 * @module
 */

import { SO_RCVBUFFORCE, SO_SNDBUFFORCE } from "../../ffi/_constants.ts";
import { checkErrno, checkExt } from "../_ack_checks.ts";
import { withDroppedSource } from "../_dropped.ts";
import { HOST_LITTLE_ENDIAN } from "../_endian.ts";
import { errnoNumber } from "../_errno.ts";
import { checkInteger, checkOptions, shown, unknownKey } from "../_options.ts";
import { protocolText } from "../_protocols.ts";
import { dumpBits } from "../_request.ts";
import { ackMessage, doneMessage, type ExtendedAck } from "../ack.ts";
import {
  GENL_ID_CTRL,
  MAX_LINKS,
  NETLINK_ADD_MEMBERSHIP,
  NETLINK_AUDIT,
  NETLINK_BROADCAST_ERROR,
  NETLINK_CAP_ACK,
  NETLINK_CONNECTOR,
  NETLINK_DROP_MEMBERSHIP,
  NETLINK_EXT_ACK,
  NETLINK_FIB_LOOKUP,
  NETLINK_GENERIC,
  NETLINK_GET_STRICT_CHK,
  NETLINK_KOBJECT_UEVENT,
  NETLINK_LIST_MEMBERSHIPS,
  NETLINK_LISTEN_ALL_NSID,
  NETLINK_NETFILTER,
  NETLINK_NO_ENOBUFS,
  NETLINK_PKTINFO,
  NETLINK_ROUTE,
  NETLINK_SELINUX,
  NETLINK_SOCK_DIAG,
  NETLINK_USERSOCK,
  NETLINK_XFRM,
  NLM_F_ACK,
  NLM_F_DUMP_INTR,
  NLM_F_ECHO,
  NLM_F_MULTI,
  NLM_F_REQUEST,
  NLMSG_MIN_TYPE,
  RTM_GETACTION,
  RTM_GETADDR,
  RTM_GETCHAIN,
  RTM_GETLINK,
  RTM_GETQDISC,
  RTM_GETROUTE,
  RTM_GETTCLASS,
  RTM_GETTFILTER,
  RTM_MAX,
  RTNLGRP_MAX,
  SO_DETACH_FILTER,
  SO_LOCK_FILTER,
  SO_RCVBUF,
  SO_SNDBUF,
  SOL_NETLINK,
  SOL_SOCKET,
} from "../constants.ts";
import { SocketClosedError, SyscallError } from "../errors.ts";
import type { GenericFamily } from "../genl.ts";
import {
  alignMessage,
  decodeMessages,
  encodeMessage,
  encodeMessages,
  type Message,
  NLMSG_HDRLEN,
} from "../message.ts";
import type {
  Datagram,
  OpenTransport,
  Transport,
  TransportOptions,
  WaitResult,
} from "../transport.ts";
import { checkProgram, type Instruction, runProgram } from "./_bpf.ts";
import { type FakeFamily, GenlController } from "./_genl_controller.ts";

const EPERM = errnoNumber("EPERM")!;
const ENOENT = errnoNumber("ENOENT")!;
const EAGAIN = errnoNumber("EAGAIN")!;
const EINVAL = errnoNumber("EINVAL")!;
const EBUSY = errnoNumber("EBUSY")!;
const EADDRINUSE = errnoNumber("EADDRINUSE")!;
const ENOBUFS = errnoNumber("ENOBUFS")!;
const EMSGSIZE = errnoNumber("EMSGSIZE")!;
const ECONNREFUSED = errnoNumber("ECONNREFUSED")!;
const ENOPROTOOPT = errnoNumber("ENOPROTOOPT")!;
const EOPNOTSUPP = errnoNumber("EOPNOTSUPP")!;
const EPROTONOSUPPORT = errnoNumber("EPROTONOSUPPORT")!;
/**
 * The units the fake kernel has from its start, whatever is served: those of the kernel 6.18 it
 * models (as the test host boots it: af_netlink's usersock, rtnetlink, sock_diag, xfrm_user,
 * SELinux, audit, fib_frontend, the connector, nfnetlink, kobject_uevent, genetlink). Any other
 * is a unit of a module, which exists once served (or given in protocolGroups): opening one
 * before is EPROTONOSUPPORT, as netlink_create() answers for a unit no module registered.
 */
const BOOT_UNITS: ReadonlySet<number> = new Set([
  NETLINK_ROUTE,
  NETLINK_USERSOCK,
  NETLINK_SOCK_DIAG,
  NETLINK_XFRM,
  NETLINK_SELINUX,
  NETLINK_AUDIT,
  NETLINK_FIB_LOOKUP,
  NETLINK_CONNECTOR,
  NETLINK_NETFILTER,
  NETLINK_KOBJECT_UEVENT,
  NETLINK_GENERIC,
]);
/**
 * The units built into the kernel that answer requests whatever is served: rtnetlink (a type
 * nothing serves is EOPNOTSUPP) and genetlink (its nlctrl answers family lookups; a family id
 * nothing serves is ENOENT). No module provides them, so unserve() never unloads them.
 */
const BUILT_IN_SERVERS: ReadonlySet<number> = new Set([NETLINK_ROUTE, NETLINK_GENERIC]);
/** SOCK_MIN_RCVBUF: 2048 bytes and a struct sk_buff (x86-64, arm64). */
const SOCK_MIN_RCVBUF = 2304;
/**
 * How many multicast groups each protocol's kernel socket has (nl_table[].groups, which
 * NETLINK_ADD_MEMBERSHIP checks: `!val || val - 1 >= nlk->ngroups` is EINVAL): at least 32
 * (netlink_kernel_create), rtnetlink's RTNLGRP_MAX of the kernel modelled
 * ({@linkcode FakeKernelOptions.routeGroups}), generic netlink's the bits of the longs of its
 * group bitmap ({@linkcode FakeKernelOptions.genericGroups}), a module's unit its own
 * ({@linkcode FakeKernelOptions.protocolGroups}). bind() names groups 1-32 only,
 * within every protocol's count.
 */
const MIN_GROUP_COUNT = 32;
/**
 * BITS_PER_LONG (x86-64, arm64): generic netlink's group count is mc_groups_longs of them
 * (genl_validate_assign_mc_groups sets every genl socket's count to `mc_groups_longs *
 * BITS_PER_LONG`), one long until its families' groups fill it.
 */
const GENERIC_GROUP_STEP = 64;

/** SOCK_MIN_SNDBUF: twice SOCK_MIN_RCVBUF. */
const SOCK_MIN_SNDBUF = 2 * SOCK_MIN_RCVBUF;
/**
 * A socket buffer's size once set as sock_setsockopt sets it: SO_RCVBUF / SO_SNDBUF capped at
 * net.core.rmem_max / wmem_max (`max`, the value read as a u32), the FORCE options' (`max`
 * false) negative values 0; the kernel doubles the value for its bookkeeping, and keeps `min`.
 */
function bufferSize(value: number, max: number | false, min: number): number {
  const asked = max === false ? Math.max(value, 0) : Math.min(value >>> 0, max);
  return Math.max(Math.min(asked, 0x3fff_ffff) * 2, min);
}

/** NLMSG_GOODSIZE: a 4 KiB page less its skb_shared_info (x86-64, arm64). */
const NLMSG_GOODSIZE = 3776;
/** SKB_WITH_OVERHEAD(32768): the most a dump datagram holds. */
const DUMP_DATAGRAM_MAX = 32448;
/** NETLINK_ROUTE dumps whose NLMSG_DONE comes alone (kernel 6.18): link, address, route, tc. */
const DONE_ALONE = new Set([
  RTM_GETLINK,
  RTM_GETADDR,
  RTM_GETROUTE,
  RTM_GETQDISC,
  RTM_GETTCLASS,
  RTM_GETTFILTER,
  RTM_GETCHAIN,
  RTM_GETACTION,
]);

/**
 * A message as a handler writes it: the kernel fills in `seq` from the request, `portid` with
 * the requesting socket's port (and NLM_F_MULTI on dump parts).
 *
 * @example
 * ```ts
 * import { RTM_NEWLINK } from "@netlink/netlink";
 * import type { MessageSpec } from "@netlink/netlink/testing";
 * const link: MessageSpec = { type: RTM_NEWLINK, payload: new Uint8Array(16) };
 * ```
 */
export interface MessageSpec {
  /** nlmsg_type. */
  readonly type: number;
  /** nlmsg_flags; the kernel adds NLM_F_MULTI to dump parts. Default 0. */
  readonly flags?: number;
  /** Bytes after the header. Default empty. */
  readonly payload?: Uint8Array;
}

/**
 * How the kernel answers one request, as a {@linkcode RequestHandler} returns it.
 *
 * @example
 * ```ts
 * import type { Answer } from "@netlink/netlink/testing";
 * const refused: Answer = { errno: 22, ext: { message: "bad attribute" } };
 * ```
 */
export interface Answer {
  /** The replies (a `doit`'s, before the ack) or the dump's parts. */
  readonly messages?: readonly MessageSpec[];
  /** A positive errno fails the request: an NLMSG_ERROR, or for a dump an NLMSG_DONE carrying it. */
  readonly errno?: number;
  /**
   * Extended-ack attributes for the ack or the error; of a dump's, its NLMSG_DONE carries the
   * message alone (success or not), as the kernel's netlink_dump_done() writes it.
   */
  readonly ext?: ExtendedAck;
  /** Flags every dump datagram from the first NLM_F_DUMP_INTR (the data changed meanwhile). */
  readonly interrupted?: boolean;
  /**
   * Notifications the request causes: multicast to the group's members (the requester's seq
   * and port in their headers). With NLM_F_ECHO the requester is left out of the multicast and
   * gets its own copy, tagged with the group, before the ack, as rtnetlink does.
   */
  readonly notify?: readonly {
    readonly group: number;
    readonly messages: readonly MessageSpec[];
  }[];
  /** Answers nothing at all, not even an ack (a kernel that hangs, a dropped request). */
  readonly silent?: boolean;
  /**
   * A dump's NLMSG_DONE comes in a datagram of its own, after the last parts' (the kernel's
   * RTNL_FLAG_DUMP_SPLIT_NLM_DONE, and dumps that end only at an empty call). Default: as
   * kernel 6.18 does: on for NETLINK_ROUTE's link, address and route dumps and tc's (qdiscs,
   * classes, filters, chains, actions), off elsewhere (NLMSG_DONE joins the last parts when it
   * fits).
   */
  readonly doneAlone?: boolean;
  /**
   * A dump's `errno` is its start's (a netlink_dump_control start() callback that refuses the
   * request, as nlctrl's GETPOLICY refuses an unknown family): an NLMSG_ERROR, as for a request
   * that is no dump, and no dump runs. Default: the dump runs, and its NLMSG_DONE carries it.
   */
  readonly errnoAtStart?: boolean;
}

const ANSWER_KEYS = [
  "messages",
  "errno",
  "ext",
  "interrupted",
  "notify",
  "silent",
  "doneAlone",
  "errnoAtStart",
] as const satisfies readonly (keyof Answer)[];
const FAKE_KERNEL_KEYS = [
  "receiveBufferSize",
  "receiveBufferMax",
  "sendBufferSize",
  "sendBufferMax",
  "pid",
  "dumpDatagramSize",
  "datagramOverhead",
  "routeGroups",
  "genericGroups",
  "protocolGroups",
] as const satisfies readonly (keyof FakeKernelOptions)[];
/**
 * The messages of a datagram as netlink_rcv_skb walks them for the kernel: in order, until fewer
 * than NLMSG_HDRLEN bytes are left or a header's nlmsg_len is below NLMSG_HDRLEN or runs past the
 * end. What comes from there on is dropped in silence, and the messages before it are still
 * done: a strict decode would drop them all.
 */
function kernelMessages(data: Uint8Array): Message[] {
  const messages: Message[] = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let at = 0; data.byteLength - at >= NLMSG_HDRLEN;) {
    const length = view.getUint32(at, HOST_LITTLE_ENDIAN);
    if (length < NLMSG_HDRLEN || length > data.byteLength - at) break;
    messages.push(decodeMessages(data.subarray(at, at + length))[0]);
    at += alignMessage(length);
  }
  return messages;
}

/** The SOL_NETLINK flags netlink_setsockopt and netlink_getsockopt both know (0 or 1). */
const NETLINK_FLAGS = new Set([
  NETLINK_PKTINFO,
  NETLINK_BROADCAST_ERROR,
  NETLINK_NO_ENOBUFS,
  NETLINK_LISTEN_ALL_NSID,
  NETLINK_CAP_ACK,
  NETLINK_EXT_ACK,
  NETLINK_GET_STRICT_CHK,
]);

// The fields of a MessageSpec and of a notification, and nothing else (`satisfies`).
const MESSAGE_SPEC_KEYS = Object.keys(
  { type: 0, flags: 0, payload: 0 } satisfies Record<keyof MessageSpec, 0>,
);
const NOTIFY_KEYS = Object.keys(
  { group: 0, messages: 0 } satisfies Record<keyof NonNullable<Answer["notify"]>[number], 0>,
);

/** Throws TypeError for what is not an object or has a field other than `keys`. */
function checkFields(name: string, value: unknown, keys: readonly string[]): void {
  if (value === null || typeof value !== "object") {
    throw new TypeError(`${name} must be an object, got ${shown(value)}`);
  }
  for (const key in value) {
    if (Object.hasOwn(value, key) && !keys.includes(key)) {
      throw unknownKey(name, key, keys, "field");
    }
  }
}

/**
 * A handler's answer, checked (TypeError, RangeError): a promise, a misspelt key or a negative
 * errno would otherwise be taken for an empty answer, a success ack or a dump with no parts.
 */
function checkAnswer(answer: unknown, type: number): Answer {
  if (answer === undefined) return {};
  const handler = `the fake kernel's handler of message type ${type}`;
  if (typeof (answer as PromiseLike<unknown> | null)?.then === "function") {
    throw new TypeError(
      `${handler} returned a promise: the kernel answers inside sendmsg(), so handlers are synchronous`,
    );
  }
  const checked = checkOptions(`${handler}'s answer`, answer as Answer, ANSWER_KEYS);
  if (checked.errno !== undefined) checkErrno(handler, checked.errno);
  checkExt(`${handler}'s answer's ext`, checked.ext);
  if (checked.messages !== undefined) checkSpecs(`${handler}: messages`, checked.messages);
  if (checked.notify !== undefined) {
    checkArray(`${handler}: notify`, checked.notify);
    for (let i = 0; i < checked.notify.length; i++) {
      const notification = checked.notify[i];
      const name = `${handler}: notify[${i}]`;
      checkFields(name, notification, NOTIFY_KEYS);
      // Group 0 or none multicasts nothing: a notification that would vanish in silence.
      checkInteger(`${name}.group`, notification.group, 1, 0xffff_ffff);
      checkSpecs(`${name}.messages`, notification.messages);
    }
  }
  return checked;
}

/** Throws TypeError naming `name` unless `value` is an array. */
function checkArray(name: string, value: unknown): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array, got ${shown(value)}`);
}

/**
 * Throws unless `specs` is an array of message specs. A misspelt field (`paylod`) was left out
 * in silence (an empty payload), and a hole (`[, spec]`) failed inside the send.
 */
function checkSpecs(name: string, specs: unknown): void {
  checkArray(name, specs);
  for (let i = 0; i < specs.length; i++) checkFields(`${name}[${i}]`, specs[i], MESSAGE_SPEC_KEYS);
}

/**
 * Programs the kernel's answer to one message type: gets the request and the socket it came
 * from; returning undefined acks it with no replies. It runs inside the request's send, as the
 * kernel answers inside sendmsg(): it is synchronous. An answer it cannot read (a promise, a key
 * {@linkcode Answer}, {@linkcode ExtendedAck}, a {@linkcode MessageSpec} or a notification does
 * not have, an errno that is not a positive one, a notification without a group from 1 or without
 * its messages) fails that send with a TypeError or RangeError.
 *
 * @example
 * ```ts
 * import type { RequestHandler } from "@netlink/netlink/testing";
 * const echo: RequestHandler = (request) => ({ messages: [{ type: request.type, payload: request.payload }] });
 * ```
 */
export type RequestHandler = (request: Message, socket: FakeSocket) => Answer | undefined | void;

/**
 * Options of {@linkcode FakeKernel}. A key it does not have is a TypeError, a value that is not a
 * positive integer (for `datagramOverhead`, 0 too) a RangeError.
 *
 * @example
 * ```ts
 * import { FakeKernel } from "@netlink/netlink/testing";
 * const kernel = new FakeKernel({ receiveBufferSize: 64 * 1024 });
 * ```
 */
export interface FakeKernelOptions {
  /** sk_rcvbuf of each new socket, in bytes. Default 212992 (net.core.rmem_default). */
  readonly receiveBufferSize?: number;
  /**
   * net.core.rmem_max: the most SO_RCVBUF asks for (SO_RCVBUFFORCE is not capped). Default
   * 212992, the kernel's default.
   */
  readonly receiveBufferMax?: number;
  /** sk_sndbuf of each new socket, in bytes. Default 212992 (net.core.wmem_default). */
  readonly sendBufferSize?: number;
  /**
   * net.core.wmem_max: the most SO_SNDBUF asks for (SO_SNDBUFFORCE is not capped). Default
   * 212992, the kernel's default.
   */
  readonly sendBufferMax?: number;
  /**
   * The process ID, which the first socket of each protocol bound to port 0 gets as its port ID,
   * as the kernel's autobind gives it. Default: this process's.
   */
  readonly pid?: number;
  /**
   * Most bytes in one dump datagram (at least one part each). Default 32448, as the kernel's
   * (SKB_WITH_OVERHEAD(32768), for a reader whose receive buffer holds that much). A socket's
   * dump datagrams made before it has read anything hold at most 3776 bytes (NLMSG_GOODSIZE):
   * the kernel sizes them by the largest read it has seen.
   */
  readonly dumpDatagramSize?: number;
  /**
   * What a queued datagram costs against the receive buffer beyond its length. Default: none
   * given, a datagram costs its skb's truesize, as the kernel counts it (the head alloc_skb()
   * makes for its length, rounded up to a slab size, and a struct sk_buff: 832 bytes for up to
   * 256 bytes, 1280 up to 704...; a dump datagram, the 4352 or 33024 bytes of the skb it was
   * made in). The kernel often makes its own notifications in skbs larger than they need (an
   * estimate of the largest): fewer of them may fit in its receive buffers than in the fake's.
   */
  readonly datagramOverhead?: number;
  /**
   * NETLINK_ROUTE's multicast groups: its RTNLGRP_MAX, which grows with kernel versions, and
   * past which a join is EINVAL, as the kernel modelled refuses it. Default: these headers'
   * RTNLGRP_MAX (36, Linux 6.1's; Linux 6.18 has 39). At least 32.
   */
  readonly routeGroups?: number;
  /**
   * NETLINK_GENERIC's multicast groups, past which a join is EINVAL: the kernel gives families'
   * groups ids from a bitmap of longs and sets the count to the bitmap's bits, 64 until a
   * family's groups do not fit in it, then 64 more for each long it grew by
   * (genl_allocate_reserve_groups). Default: 64, a kernel whose families have fewer groups. A
   * multiple of 64.
   */
  readonly genericGroups?: number;
  /**
   * Units your modules create (netlink_kernel_create()), by protocol number, with their
   * multicast groups, past which a join is EINVAL: `cfg.groups`, at least 32 (the kernel gives
   * every unit that many), e.g. `{ 30: 64 }`. A unit given here exists from the start, as from
   * its module's netlink_kernel_create(), whatever it serves: a socket of it opens before
   * anything is served (a unit that only multicasts); one of a unit neither given here nor
   * served, nor one of the kernel's own (NETLINK_ROUTE, NETLINK_GENERIC...), is EPROTONOSUPPORT,
   * as socket() refuses a unit no module registered. NETLINK_ROUTE's and NETLINK_GENERIC's
   * groups are `routeGroups` and `genericGroups`.
   */
  readonly protocolGroups?: Readonly<Record<number, number>>;
}

/**
 * A message a socket sent, with where it went.
 *
 * @example
 * ```ts
 * import type { SentMessage } from "@netlink/netlink/testing";
 * const toKernel = (sent: SentMessage) => sent.portid === 0 && sent.groupMask === 0;
 * ```
 */
export interface SentMessage {
  /** The message as decoded from the datagram. */
  readonly message: Message;
  /** Destination port (0: the kernel). */
  readonly portid: number;
  /** Destination groups, bit n-1 for group n. */
  readonly groupMask: number;
}

interface Queued {
  readonly datagram: Datagram;
  readonly cost: number;
}

interface Dump {
  readonly request: Message;
  readonly parts: Message[];
  next: number;
  readonly answer: Answer;
}

/**
 * One socket of a {@linkcode FakeKernel}: a {@linkcode Transport} with what a test needs to see
 * (what was sent, options, queue) and to do by hand (deliver datagrams, script the kernel).
 *
 * @example
 * ```ts
 * import { NETLINK_ROUTE, open } from "@netlink/netlink";
 * import { FakeKernel } from "@netlink/netlink/testing";
 * const kernel = new FakeKernel();
 * await using sock = await open(NETLINK_ROUTE, { transport: kernel.open });
 * console.log(kernel.sockets[0].portid === sock.portid); // true
 * ```
 */
export class FakeSocket implements Transport {
  /** The protocol it was opened with. */
  readonly protocol: number;
  /** Its port ID. */
  readonly portid: number;
  /** A made-up descriptor number; -1 once closed. */
  fd: number;
  /** Every message sent (framed protocols), in order. */
  readonly sent: SentMessage[] = [];
  /** Every datagram sent, as bytes. */
  readonly sentDatagrams: Uint8Array[] = [];
  /** Every setOption call that succeeded, in order: [level, name, value]. */
  readonly options: [number, number, number][] = [];
  /** Multicast groups joined. */
  readonly groups: Set<number> = new Set();
  /**
   * The classic BPF program attached with attachFilter, if any (bytes as given). The fake runs
   * it on every datagram queued to this socket, as the kernel's sk_filter does (ancillary
   * SKF_AD_* loads are not modelled: they drop the datagram).
   */
  filter: Uint8Array | undefined;
  /** SO_LOCK_FILTER was set: the filter can no longer be replaced or removed. */
  filterLocked = false;
  /** sk_rcvbuf in bytes. */
  receiveBufferSize: number;
  /**
   * sk_sndbuf in bytes, sized by SO_SNDBUF and SO_SNDBUFFORCE: `send()` of a datagram longer
   * than it less 32 bytes throws EMSGSIZE (netlink_sendmsg).
   */
  sendBufferSize: number;
  /**
   * The transport's read buffer, in bytes: a longer datagram is consumed and receive() throws
   * SyscallError EMSGSIZE naming its length and carrying its `sender` and `group`, as the libc
   * transport does (whose buffer is 512 KiB and then grows; this one stays). Default Infinity.
   */
  readBufferSize: number = Infinity;
  /** How many times wait() was called. */
  waits = 0;
  /** True once closed. */
  closed = false;
  /** Messages dropped because the queue was full (sk_drops). */
  drops = 0;
  /**
   * Replaces the kernel for messages this socket sends to port 0: called once per message,
   * answers nothing by itself (use {@linkcode deliver}). For tests that answer by hand.
   */
  script: ((message: Message, socket: FakeSocket) => void) | undefined;
  /** Makes a setOption fail: return the error to throw. */
  failOption: ((level: number, name: number, value: number) => Error | undefined) | undefined;

  readonly #kernel: FakeKernel;
  readonly #queue: Queued[] = [];
  #queueHead = 0;
  #rmem = 0;
  #error = 0;
  #congested = false;
  /** A read took a datagram (the kernel's max_recvmsg_len is no longer 0). */
  #hasRead = false;
  #dump: Dump | undefined;
  #program: Instruction[] | undefined;
  #wake: ((result: WaitResult) => void) | undefined;
  /** Keeps the process alive while a wait is pending, as a real socket's wait does. */
  #hold: ReturnType<typeof setInterval> | undefined;

  /** Use {@linkcode FakeKernel.open}. */
  constructor(
    kernel: FakeKernel,
    protocol: number,
    portid: number,
    fd: number,
    rcvbuf: number,
    sndbuf: number,
  ) {
    this.#kernel = kernel;
    this.protocol = protocol;
    this.portid = portid;
    this.fd = fd;
    this.receiveBufferSize = rcvbuf;
    this.sendBufferSize = sndbuf;
  }

  /** Datagrams in the receive queue. */
  get queued(): number {
    return this.#queue.length - this.#queueHead;
  }

  /** Bytes charged against the receive buffer (sk_rmem_alloc). */
  get queuedBytes(): number {
    return this.#rmem;
  }

  /** True while a wait() is pending. */
  get waiting(): boolean {
    return this.#wake !== undefined;
  }

  /** True while a dump runs on this socket (the kernel's cb_running). */
  get dumping(): boolean {
    return this.#dump !== undefined;
  }

  /**
   * The value of a SOL_NETLINK option that is a flag (0 or 1). NETLINK_PKTINFO is on unless
   * turned off: every transport of this library turns it on, to tell multicast from unicast.
   */
  flag(name: number): boolean {
    const set = this.options.findLast(([l, n]) => l === SOL_NETLINK && n === name);
    return (set?.[2] ?? (name === NETLINK_PKTINFO ? 1 : 0)) !== 0;
  }

  /** Sends one datagram: to the kernel (port 0), a peer's port and/or groups in `groupMask`. */
  send(data: Uint8Array, portid: number, groupMask: number): void {
    this.#checkOpen("sendmsg");
    if (data.length > this.sendBufferSize - 32) throw new SyscallError("sendmsg", EMSGSIZE);
    this.sentDatagrams.push(data.slice());
    // Delivered to peers and groups as they are, whatever they hold (an unframed protocol's).
    const messages = kernelMessages(data);
    for (const message of messages) this.sent.push({ message, portid, groupMask });
    // netlink_sendmsg sends to ffs(nl_groups), the lowest group of the mask alone, and tags the
    // datagram with it (NETLINK_CB(skb).dst_group): the unicast copy too, whose receiver sees it
    // through NETLINK_PKTINFO.
    const group = 32 - Math.clz32(groupMask & -groupMask);
    if (group !== 0) {
      this.#kernel.broadcast(this.protocol, group, data.slice(), { from: this, exclude: portid });
    }
    if (portid !== 0) {
      const peer = this.#kernel.socket(this.protocol, portid);
      if (!peer) throw new SyscallError("sendmsg", ECONNREFUSED);
      const admitted = peer.filtered(data.slice());
      if (admitted === undefined) return; // the filter took it: the send still succeeds
      // A unicast's head is allocated at its size once past a page (netlink_alloc_large_skb).
      const cost = this.#kernel.cost(data.length, { exact: true });
      if (!peer.#fits(cost)) throw new SyscallError("sendmsg", EAGAIN);
      peer.#enqueue({ data: admitted, sender: this.portid, group }, cost);
      return;
    }
    if (this.script) {
      for (const message of messages) this.script(message, this);
      return;
    }
    if (!this.#kernel.serves(this.protocol)) {
      // What is true of the fake: the socket's own hint (a module unloaded) is the real kernel's.
      throw new SyscallError(
        "sendmsg",
        ECONNREFUSED,
        this.#kernel.unloaded(this.protocol)
          ? `the fake kernel serves no type of ${protocolText(this.protocol)} any more: `
            + "unserve() took its last (its module unloaded)"
          : `the fake kernel serves no type of ${protocolText(this.protocol)}: `
            + "serve() the types the test sends",
      );
    }
    for (const message of messages) this.#kernel.handle(this, message);
  }

  /** Reads the next datagram; throws ENOBUFS first if the kernel dropped messages for it. */
  receive(): Datagram | undefined {
    this.#checkOpen("recvmsg");
    try {
      if (this.#error) {
        const errno = this.#error;
        this.#error = 0;
        throw new SyscallError("recvmsg", errno);
      }
      if (this.#queueHead === this.#queue.length) return undefined;
      const datagram = this.#dequeue();
      if (datagram.data.length > this.readBufferSize) {
        throw withDroppedSource(
          new SyscallError(
            "recvmsg",
            EMSGSIZE,
            `a ${datagram.data.length}-byte datagram was longer than the ${this.readBufferSize}-byte `
              + "receive buffer and was dropped",
          ),
          datagram,
        );
      }
      return datagram;
    } finally {
      // netlink_rcv_wake, at the end of every recvmsg: an empty queue ends the congestion.
      if (this.#queueHead === this.#queue.length) this.#congested = false;
    }
  }

  #dequeue(): Datagram {
    const queued = this.#queue[this.#queueHead++];
    if (this.#queueHead === this.#queue.length) {
      this.#queue.length = 0;
      this.#queueHead = 0;
    }
    this.#rmem -= queued.cost;
    // netlink_recvmsg records the largest read, which sizes the dump's later datagrams.
    this.#hasRead = true;
    // netlink_recvmsg: a running dump goes on once the queue is at most half full.
    if (this.#dump && this.#rmem <= this.receiveBufferSize / 2) this.#continueDump();
    return queued.datagram;
  }

  /**
   * Resolves "readable" at once when something is queued, else when something arrives. While
   * pending it keeps the process alive, as the Transport contract says (a timer that never fires,
   * cleared as it ends): a process waiting on a fake socket for what a later task delivers stays
   * up until it comes, as on a real one.
   */
  wait(): Promise<WaitResult> {
    if (this.closed) return Promise.resolve("closed");
    if (this.#wake) throw new Error("FakeSocket: two waits outstanding");
    this.waits++;
    if (this.queued > 0 || this.#error) return Promise.resolve("readable");
    this.#hold = setInterval(() => {}, 0x7fff_ffff);
    return new Promise((resolve) => this.#wake = resolve);
  }

  /** Ends a pending wait with "cancelled". */
  cancelWait(): void {
    this.#resolve("cancelled");
  }

  /**
   * setsockopt: records it; joins and leaves groups (EINVAL for group 0, or one past the
   * protocol's count: 32, but NETLINK_ROUTE's RTNLGRP_MAX and NETLINK_GENERIC's `genericGroups`); SO_RCVBUF and SO_RCVBUFFORCE size the receive buffer as the kernel
   * does (doubled, at least 2304 bytes; SO_RCVBUF at most twice net.core.rmem_max), SO_SNDBUF
   * and SO_SNDBUFFORCE the send buffer alike (at least 4608 bytes; SO_SNDBUF at most twice
   * net.core.wmem_max); NETLINK_* flags change the rules; a
   * SOL_NETLINK option netlink does not have is ENOPROTOOPT.
   */
  setOption(level: number, name: number, value: number): void {
    this.#checkOpen("setsockopt");
    const err = this.failOption?.(level, name, value);
    if (err) throw err;
    // netlink_setsockopt: its flags and the memberships; anything else is ENOPROTOOPT.
    if (
      level === SOL_NETLINK && !NETLINK_FLAGS.has(name) && name !== NETLINK_ADD_MEMBERSHIP
      && name !== NETLINK_DROP_MEMBERSHIP
    ) throw new SyscallError("setsockopt", ENOPROTOOPT);
    if (
      level === SOL_NETLINK
      && (name === NETLINK_ADD_MEMBERSHIP || name === NETLINK_DROP_MEMBERSHIP)
      // netlink_setsockopt: `!val || val - 1 >= nlk->ngroups`, val unsigned.
      && ((value >>> 0) === 0
        || (value >>> 0) > this.#kernel.groupCount(this.protocol))
    ) throw new SyscallError("setsockopt", EINVAL);
    if (level === SOL_SOCKET && (name === SO_RCVBUF || name === SO_RCVBUFFORCE)) {
      this.receiveBufferSize = bufferSize(
        value,
        name === SO_RCVBUF && this.#kernel.receiveBufferMax,
        SOCK_MIN_RCVBUF,
      );
    }
    if (level === SOL_SOCKET && (name === SO_SNDBUF || name === SO_SNDBUFFORCE)) {
      this.sendBufferSize = bufferSize(
        value,
        name === SO_SNDBUF && this.#kernel.sendBufferMax,
        SOCK_MIN_SNDBUF,
      );
    }
    // Turning NETLINK_NO_ENOBUFS on ends a congestion: the kernel delivers again at once.
    if (level === SOL_NETLINK && name === NETLINK_NO_ENOBUFS && value !== 0) {
      this.#congested = false;
    }
    if (level === SOL_SOCKET && name === SO_DETACH_FILTER) {
      if (this.filterLocked) throw new SyscallError("setsockopt", EPERM);
      if (!this.#program) throw new SyscallError("setsockopt", ENOENT);
      this.filter = this.#program = undefined;
    }
    if (level === SOL_SOCKET && name === SO_LOCK_FILTER) this.filterLocked = value !== 0;
    if (level === SOL_NETLINK && name === NETLINK_ADD_MEMBERSHIP) this.groups.add(value);
    if (level === SOL_NETLINK && name === NETLINK_DROP_MEMBERSHIP) this.groups.delete(value);
    this.options.push([level, name, value]);
  }

  /**
   * getsockopt: SO_RCVBUF and SO_SNDBUF are the buffers' sizes; SOL_NETLINK as netlink_getsockopt
   * answers (a flag 0 or 1, NETLINK_LIST_MEMBERSHIPS the mask of groups 1-32 as an int,
   * ENOPROTOOPT for what it does not have); others the last value set, else 0.
   */
  getOption(level: number, name: number): number {
    this.#checkOpen("getsockopt");
    if (level === SOL_SOCKET && name === SO_RCVBUF) return this.receiveBufferSize;
    if (level === SOL_SOCKET && name === SO_SNDBUF) return this.sendBufferSize;
    if (level === SOL_NETLINK) {
      if (NETLINK_FLAGS.has(name)) return this.flag(name) ? 1 : 0;
      if (name !== NETLINK_LIST_MEMBERSHIPS) throw new SyscallError("getsockopt", ENOPROTOOPT);
      let mask = 0;
      for (const group of this.groups) if (group <= 32) mask |= 1 << (group - 1);
      return mask;
    }
    return this.options.findLast(([l, n]) => l === level && n === name)?.[2] ?? 0;
  }

  /**
   * SO_ATTACH_FILTER: checks the program as the kernel does (EINVAL for one it refuses, EPERM
   * once the filter is locked) and runs it on every datagram queued from now on.
   */
  attachFilter(program: Uint8Array): void {
    this.#checkOpen("setsockopt");
    if (this.filterLocked) throw new SyscallError("setsockopt", EPERM);
    const checked = checkProgram(program);
    if (!checked) throw new SyscallError("setsockopt", EINVAL);
    this.filter = program.slice();
    this.#program = checked;
  }

  /** Closes; a pending wait resolves "closed". */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fd = -1;
    this.#dump = undefined;
    this.#kernel.forget(this);
    this.#resolve("closed");
  }

  /**
   * Queues one datagram as the kernel (or `sender`) would send it: `messages` encoded back to
   * back, or bytes as they are. The receive buffer applies: returns false, and counts a drop
   * (with ENOBUFS at the next receive unless NETLINK_NO_ENOBUFS), when it is full.
   */
  deliver(
    messages: readonly Message[] | Uint8Array,
    sender = 0,
    group = 0,
    nsid?: number,
  ): boolean {
    const encoded = messages instanceof Uint8Array ? messages : encodeMessages(messages);
    const data = this.filtered(encoded);
    if (data === undefined) return false;
    const datagram: Datagram = nsid !== undefined && this.flag(NETLINK_LISTEN_ALL_NSID)
      ? { data, sender, group, nsid }
      : { data, sender, group };
    const cost = this.#kernel.cost(encoded.length);
    if (!this.#fits(cost)) {
      this.overrun();
      return false;
    }
    this.#enqueue(datagram, cost);
    return true;
  }

  /**
   * The kernel drops a message for this socket (netlink_overrun): counts it and, unless
   * NETLINK_NO_ENOBUFS is on, the next receive() throws ENOBUFS and the kernel drops what it
   * sends until the queue has been read empty.
   */
  overrun(): void {
    this.drops++;
    if (this.flag(NETLINK_NO_ENOBUFS)) return;
    if (!this.#congested) {
      this.#congested = true;
      this.#error = ENOBUFS;
      this.#resolve("readable");
    }
  }

  /** Starts a dump (netlink_dump_start, once none runs): its first datagram is queued now. */
  startDump(request: Message, answer: Answer, parts: Message[]): void {
    this.#dump = { request, parts, next: 0, answer };
    this.#continueDump();
  }

  /**
   * Sends the kernel's NLMSG_ERROR for `request` (errno 0: an ack) as netlink_ack builds it for
   * this socket: capped on success or with NETLINK_CAP_ACK, extended-ack attributes only with
   * NETLINK_EXT_ACK.
   */
  ack(request: Message, errno: number, ext: ExtendedAck): void {
    this.deliver([
      ackMessage(request, errno, this.flag(NETLINK_EXT_ACK) ? ext : {}, {
        capped: errno === 0 || this.flag(NETLINK_CAP_ACK),
        portid: this.portid,
      }),
    ]);
  }

  /** netlink_dump: one datagram of parts, NLMSG_DONE in it when they end and it fits. */
  #continueDump(): void {
    const dump = this.#dump!;
    // netlink_dump: an skb of the largest read so far, at least NLMSG_GOODSIZE, queued to an
    // empty queue or within the receive buffer (else made again at the next read).
    const limit = this.#hasRead
      ? this.#kernel.dumpDatagramSize
      : Math.min(this.#kernel.dumpDatagramSize, NLMSG_GOODSIZE);
    const cost = this.#kernel.cost(limit);
    if (this.#rmem !== 0 && this.#rmem + cost >= this.receiveBufferSize) return;
    const { request, parts, answer } = dump;
    const batch: Message[] = [];
    let size = 0;
    const intr = answer.interrupted ? NLM_F_DUMP_INTR : 0;
    while (dump.next < parts.length) {
      const part = parts[dump.next];
      const partSize = alignMessage(NLMSG_HDRLEN + part.payload.length);
      if (batch.length > 0 && size + partSize > limit) break;
      batch.push({ ...part, flags: part.flags | intr });
      size += partSize;
      dump.next++;
    }
    if (dump.next === parts.length) {
      const done = this.#done(request, answer);
      const alone = answer.doneAlone
        ?? (this.protocol === NETLINK_ROUTE && DONE_ALONE.has(request.type));
      if (
        batch.length === 0
        || (!alone && size + alignMessage(NLMSG_HDRLEN + done.payload.length) <= limit)
      ) {
        batch.push(done);
        this.#dump = undefined;
      }
    }
    // A dump's datagrams are queued only when there is room, so they are never dropped (but by
    // the socket's filter, which runs on them too).
    const data = this.filtered(encodeMessages(batch));
    if (data) this.#enqueue({ data, sender: 0, group: 0 }, cost);
  }

  #done(request: Message, answer: Answer): Message {
    // netlink_dump_done writes the extended ack's message alone: a dump's offset, cookie,
    // policy and missing attribute never reach user space.
    const message = answer.ext?.message;
    const ext = this.flag(NETLINK_EXT_ACK) && message !== undefined ? { message } : {};
    // The kernel's answers carry the requesting socket's port, not the request's nlmsg_pid.
    const answering = { ...request, portid: this.portid };
    return doneMessage(answering, answer.errno ?? 0, ext, answer.interrupted ? NLM_F_DUMP_INTR : 0);
  }

  /** sk_filter: `data` as the attached filter keeps it (trimmed), or undefined if it drops it. */
  filtered(data: Uint8Array): Uint8Array | undefined {
    if (!this.#program) return data;
    const keep = runProgram(this.#program, data);
    return keep === 0 ? undefined : data.subarray(0, keep);
  }

  /**
   * netlink_attachskb, netlink_broadcast_deliver (kernel 6.16 and later): a datagram of `cost`
   * is queued to an empty queue, or when the queue holds it within the receive buffer; never
   * while congested.
   */
  #fits(cost: number): boolean {
    return !this.closed && !this.#congested
      && (this.#rmem === 0 || this.#rmem + cost <= this.receiveBufferSize);
  }

  #enqueue(datagram: Datagram, cost: number): void {
    if (this.closed) return;
    this.#rmem += cost;
    this.#queue.push({ datagram, cost });
    this.#resolve("readable");
  }

  /** The transport's own error for a closed socket, as the libc transport throws it. */
  #checkOpen(_call: string): void {
    if (this.closed) throw new SocketClosedError();
  }

  #resolve(result: WaitResult): void {
    const wake = this.#wake;
    if (wake === undefined) return;
    this.#wake = undefined;
    clearInterval(this.#hold);
    this.#hold = undefined;
    wake(result);
  }
}

/**
 * The fake kernel: opens {@linkcode FakeSocket}s (pass {@linkcode open} as `open()`'s
 * `transport` option), routes what they send between them, and answers requests with the
 * handlers given to {@linkcode serve}.
 *
 * @example
 * ```ts
 * import { NETLINK_ROUTE, open, RTM_GETROUTE, RTM_NEWROUTE } from "@netlink/netlink";
 * import { FakeKernel } from "@netlink/netlink/testing";
 * // 10,000 routes: the dump spans many datagrams, each queued only once the last is read.
 * const routes = Array.from({ length: 10_000 }, () => ({ type: RTM_NEWROUTE, payload: new Uint8Array(60) }));
 * const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_GETROUTE, () => ({ messages: routes }));
 * await using sock = await open(NETLINK_ROUTE, { transport: kernel.open });
 * let n = 0;
 * for await (const _ of sock.dump({ type: RTM_GETROUTE, payload: new Uint8Array(12) })) n++;
 * console.log(n); // 10000
 * ```
 */
export class FakeKernel {
  /** Most bytes in one dump datagram. */
  readonly dumpDatagramSize: number;
  /** Receive-buffer cost of a datagram beyond its length; undefined: its skb's truesize. */
  readonly datagramOverhead: number | undefined;
  /** NETLINK_ROUTE's multicast groups (its RTNLGRP_MAX): a join past it is EINVAL. */
  readonly routeGroups: number;
  /**
   * NETLINK_GENERIC's multicast groups (a multiple of 64): a join past it is EINVAL. It grows as
   * the kernel's group bitmap grows, when families registered with {@linkcode registerFamily}
   * have groups past it.
   */
  get genericGroups(): number {
    return this.#controller?.groupCount ?? this.#genericGroups;
  }
  readonly #genericGroups: number;
  /** nlctrl, there from the start as the kernel's is (made when first used). */
  #controller: GenlController | undefined;
  /** The other protocols' multicast groups given by the `protocolGroups` option. */
  readonly #protocolGroups = new Map<number, number>();
  /** net.core.rmem_max: the most SO_RCVBUF asks for. */
  readonly receiveBufferMax: number;
  /** net.core.wmem_max: the most SO_SNDBUF asks for. */
  readonly sendBufferMax: number;
  /** The process ID autobind gives a protocol's first socket. */
  readonly pid: number;
  readonly #rcvbuf: number;
  readonly #sndbuf: number;
  readonly #handlers = new Map<number, Map<number, RequestHandler>>();
  /** Protocols whose every type was unserved: their module is unloaded. */
  readonly #unloaded = new Set<number>();
  readonly #sockets: FakeSocket[] = [];
  #nextPort = 0xffff_efff;
  #nextFd = 100;

  /** A kernel with no sockets and nothing served. */
  constructor(options: FakeKernelOptions = {}) {
    checkOptions("FakeKernel options", options, FAKE_KERNEL_KEYS);
    const int = (name: keyof FakeKernelOptions, min: number, max: number) => {
      const value = options[name];
      return value === undefined ? undefined : checkInteger(name, value, min, max);
    };
    this.#rcvbuf = int("receiveBufferSize", 1, 0x7fff_ffff) ?? 212_992;
    this.receiveBufferMax = int("receiveBufferMax", 1, 0x7fff_ffff) ?? 212_992;
    this.#sndbuf = int("sendBufferSize", 1, 0x7fff_ffff) ?? 212_992;
    this.sendBufferMax = int("sendBufferMax", 1, 0x7fff_ffff) ?? 212_992;
    this.pid = int("pid", 1, 0x7fff_ffff)
      ?? (globalThis as { process?: { pid?: number } }).process?.pid ?? 4242;
    this.dumpDatagramSize = int("dumpDatagramSize", 1, 0x7fff_ffff) ?? DUMP_DATAGRAM_MAX;
    this.datagramOverhead = int("datagramOverhead", 0, 0x7fff_ffff);
    this.routeGroups = int("routeGroups", MIN_GROUP_COUNT, 0x7fff_ffff) ?? RTNLGRP_MAX;
    this.#genericGroups = int("genericGroups", GENERIC_GROUP_STEP, 0x7fff_ffff)
      ?? GENERIC_GROUP_STEP;
    if (this.#genericGroups % GENERIC_GROUP_STEP !== 0) {
      throw new RangeError(
        `genericGroups must be a multiple of ${GENERIC_GROUP_STEP} (the bits of the longs of the kernel's group bitmap), got ${this.#genericGroups}`,
      );
    }
    const groups = options.protocolGroups;
    if (groups !== undefined && (typeof groups !== "object" || groups === null)) {
      throw new TypeError(
        `protocolGroups must be an object of group counts by protocol number, got ${shown(groups)}`,
      );
    }
    for (const [key, count] of Object.entries(groups ?? {})) {
      const protocol = Number(key);
      checkInteger(
        "protocolGroups: protocol",
        /^\d+$/.test(key) ? protocol : key,
        0,
        MAX_LINKS - 1,
      );
      if (protocol === NETLINK_ROUTE || protocol === NETLINK_GENERIC) {
        throw new TypeError(
          `protocolGroups: give protocol ${protocol}'s groups as ${
            protocol === NETLINK_ROUTE ? "routeGroups" : "genericGroups"
          }`,
        );
      }
      this.#protocolGroups.set(
        protocol,
        checkInteger(`protocolGroups[${protocol}]`, count, MIN_GROUP_COUNT, 0x7fff_ffff),
      );
    }
  }

  /** How many groups a protocol's kernel socket has (see MIN_GROUP_COUNT). */
  groupCount(protocol: number): number {
    return protocol === NETLINK_ROUTE
      ? this.routeGroups
      : protocol === NETLINK_GENERIC
      ? this.genericGroups
      : this.#protocolGroups.get(protocol) ?? MIN_GROUP_COUNT;
  }

  /** Every socket opened and not closed, in opening order. */
  get sockets(): readonly FakeSocket[] {
    return this.#sockets;
  }

  /**
   * Opens a socket in this kernel: the {@linkcode OpenTransport} to pass to `open()`. Port 0
   * gets a port as the kernel's autobind picks it: the process ID while no socket of the
   * protocol has it, else one from 0xffffefff down (the kernel's are random in [2^31, 2^32 -
   * 4097]: port IDs do not fit in an int32); a port in use throws EADDRINUSE. A protocol the
   * kernel does not have throws EPROTONOSUPPORT, as socket() does: one of a module's units
   * before it is served or given in the `protocolGroups` option, or whose last served type was
   * unserved (its module unloaded), until served again. The kernel's own units (NETLINK_ROUTE,
   * NETLINK_USERSOCK, NETLINK_SOCK_DIAG, NETLINK_XFRM, NETLINK_SELINUX, NETLINK_AUDIT,
   * NETLINK_FIB_LOOKUP, NETLINK_CONNECTOR, NETLINK_NETFILTER, NETLINK_KOBJECT_UEVENT,
   * NETLINK_GENERIC: those kernel 6.18 has as the test host boots it) open from the start.
   */
  readonly open: OpenTransport = (protocol: number, options: TransportOptions): FakeSocket => {
    if (this.#unloaded.has(protocol)) {
      throw new SyscallError(
        "socket",
        EPROTONOSUPPORT,
        `the fake kernel's protocol ${protocol} serves no type any more (unserve(): its module is unloaded)`,
      );
    }
    if (
      !this.#handlers.has(protocol) && !this.#protocolGroups.has(protocol)
      && !BOOT_UNITS.has(protocol)
    ) {
      throw new SyscallError(
        "socket",
        EPROTONOSUPPORT,
        `the fake kernel has no protocol ${protocol}: no module created it (serve() a type of it first, or give it in the protocolGroups option for a unit that exists before it serves anything)`,
      );
    }
    let portid = options.portid;
    if (portid === 0) {
      portid = this.pid;
      while (this.socket(protocol, portid)) portid = this.#nextPort--;
    } else if (this.socket(protocol, portid)) {
      throw new SyscallError("bind", EADDRINUSE);
    }
    const socket = new FakeSocket(
      this,
      protocol,
      portid,
      this.#nextFd++,
      this.#rcvbuf,
      this.#sndbuf,
    );
    this.#sockets.push(socket);
    return socket;
  };

  /**
   * Answers requests of `type` on `protocol` with `handler`. A protocol with any handler is
   * served by the kernel: its other types are answered EOPNOTSUPP (ENOENT on NETLINK_GENERIC,
   * whose types are family ids: no family has that id); sending to port 0 of a
   * protocol with none fails with ECONNREFUSED (nothing in the kernel serves it), but for the
   * kernel's built-in servers, served from the start: rtnetlink (NETLINK_ROUTE, each type
   * EOPNOTSUPP until served) and genetlink (NETLINK_GENERIC, with nlctrl). Throws
   * RangeError for a protocol past 31 or a type past 65535, TypeError for a handler that is not a
   * function.
   */
  serve(protocol: number, type: number, handler: RequestHandler): this {
    checkInteger("protocol", protocol, 0, MAX_LINKS - 1);
    checkInteger("message type", type, 0, 0xffff);
    if (typeof handler !== "function") {
      throw new TypeError(`serve(): handler must be a function, got ${shown(handler)}`);
    }
    let types = this.#handlers.get(protocol);
    if (!types) this.#handlers.set(protocol, types = new Map());
    types.set(type, handler);
    this.#unloaded.delete(protocol);
    return this;
  }

  /**
   * Stops answering requests of `type` on `protocol` (a module unloaded): they are answered as
   * types nothing serves are. Once a protocol has no type served, nothing in the kernel serves
   * it, as a unit whose module was unloaded: sending to its port 0 fails with ECONNREFUSED,
   * opening a socket of it with EPROTONOSUPPORT (not NETLINK_ROUTE's nor NETLINK_GENERIC's,
   * built into the kernel: they go on answering).
   */
  unserve(protocol: number, type: number): this {
    const types = this.#handlers.get(protocol);
    types?.delete(type);
    if (types?.size === 0) {
      this.#handlers.delete(protocol);
      if (!BUILT_IN_SERVERS.has(protocol)) this.#unloaded.add(protocol);
    }
    return this;
  }

  /**
   * Registers a generic netlink family with the fake kernel's controller (nlctrl), as a module's
   * genl_register_family() does, and returns it as `resolveFamily()` will: its id and group
   * numbers allocated as the kernel allocates them, unless given. From the first, nlctrl
   * (NETLINK_GENERIC, type GENL_ID_CTRL) answers CTRL_CMD_GETFAMILY as the kernel's does: a get
   * by CTRL_ATTR_FAMILY_NAME or CTRL_ATTR_FAMILY_ID with the family (ENOENT for none
   * registered, EINVAL for a request that names neither, or a name of 16 bytes or more with the
   * kernel's policy extended ack), a dump with every family, nlctrl's own first; and announces
   * the family to its "notify" group (CTRL_CMD_NEWFAMILY, then CTRL_CMD_NEWMCAST_GRP for each
   * group). So `resolveFamily()` and the typed layer's `family()` resolve it unchanged; serve
   * its operations with `serve(NETLINK_GENERIC, family.id, handler)`. CTRL_CMD_GETPOLICY
   * answers as the kernel's does for nlctrl's own policies (the whole family, or one operation
   * with CTRL_ATTR_OP; `resolvePolicy()` reads them) and for a registered family's `policy`
   * (`resolvePolicy()`'s shape: a host family's, read from its kernel, is one), and ENODATA for a
   * family registered without one (the kernel's answer for a family with none). Throws TypeError
   * or RangeError for a family the kernel would refuse (a bad name, one registered already, a
   * taken id) or a policy that does not hold together.
   *
   * @example
   * ```ts
   * import { GENL_CMD_CAP_DO, NETLINK_GENERIC, open, resolveFamily } from "@netlink/netlink";
   * import { FakeKernel } from "@netlink/netlink/testing";
   * const kernel = new FakeKernel();
   * const { id } = kernel.registerFamily({ name: "demo", operations: [[1, GENL_CMD_CAP_DO]], groups: ["events"] });
   * await using sock = await open(NETLINK_GENERIC, { transport: kernel.open });
   * const family = await resolveFamily(sock, "demo");
   * console.log(family.id === id, family.groups); // true Map(1) { "events" => 2 }
   * ```
   */
  registerFamily(family: FakeFamily): GenericFamily {
    const controller = this.#nlctrl();
    const registered = controller.register(family);
    this.#announce(controller.registered(registered));
    return registered;
  }

  /** The fake's nlctrl, made and served (as GENL_ID_CTRL) when first used. */
  #nlctrl(): GenlController {
    if (this.#controller) return this.#controller;
    const controller = this.#controller = new GenlController(this.#genericGroups);
    this.serve(NETLINK_GENERIC, GENL_ID_CTRL, (request) => {
      const dump = dumpBits(NETLINK_GENERIC, 0, request.type, request.flags) !== 0;
      const { payloads = [], ...rest } = controller.answer(request, dump);
      return { messages: payloads.map((payload) => ({ type: GENL_ID_CTRL, payload })), ...rest };
    });
    return controller;
  }

  /**
   * Unregisters the family called `name`, as genl_unregister_family() does (its module
   * unloaded): its groups' memberships end on every socket (a NetlinkSocket's `groups` still
   * lists them, as it does on the kernel), nlctrl announces CTRL_CMD_DELMCAST_GRP for each
   * group, then CTRL_CMD_DELFAMILY (the family as it was), and requests to its id are ENOENT,
   * whatever was served for it. Registered again, it gets a new id. Throws RangeError for a name
   * no family registered with {@linkcode registerFamily} has.
   */
  unregisterFamily(name: string): this {
    const family = this.#controller?.unregister(name);
    if (!family) {
      throw new RangeError(`unregisterFamily(): no family named ${shown(name)} is registered`);
    }
    for (const socket of this.#sockets) {
      if (socket.protocol !== NETLINK_GENERIC) continue;
      for (const group of family.groups.values()) socket.groups.delete(group);
    }
    this.#handlers.get(NETLINK_GENERIC)?.delete(family.id);
    this.#announce(this.#controller!.unregistered(family));
    return this;
  }

  /** genl_ctrl_event: each payload a datagram from the kernel to nlctrl's "notify" group. */
  #announce(payloads: Uint8Array[]): void {
    for (const payload of payloads) {
      const message = { type: GENL_ID_CTRL, flags: 0, seq: 0, portid: 0, payload };
      this.broadcast(NETLINK_GENERIC, GENL_ID_CTRL, encodeMessage(message), {});
    }
  }

  /**
   * What a datagram of `length` bytes costs against a receive buffer: `length` and the
   * `datagramOverhead` option when given, else the truesize of the skb the kernel makes for it
   * (x86-64): alloc_skb's head (the length rounded up to 64 bytes, 320 for skb_shared_info) from
   * a 576-byte cache or a kmalloc size, or with `exact` (a unicast from user space) past a page
   * at its size; and a struct sk_buff's 256.
   */
  cost(length: number, options: { exact?: boolean } = {}): number {
    if (this.datagramOverhead !== undefined) return length + this.datagramOverhead;
    const head = Math.ceil(length / 64) * 64 + 320;
    if (head <= 576) return 576 + 256;
    if (options.exact && head > 4096) return head + 256;
    return 2 ** Math.ceil(Math.log2(head)) + 256;
  }

  /**
   * Whether `protocol` was served and {@linkcode unserve} took its last type (its module
   * unloaded), and nothing serves it again since.
   */
  unloaded(protocol: number): boolean {
    return this.#unloaded.has(protocol);
  }

  /** Whether something in the kernel serves `protocol`. */
  serves(protocol: number): boolean {
    return this.#handlers.has(protocol) || BUILT_IN_SERVERS.has(protocol);
  }

  /** The open socket bound to `portid` on `protocol`, if any. */
  socket(protocol: number, portid: number): FakeSocket | undefined {
    return this.#sockets.find((s) => s.protocol === protocol && s.portid === portid);
  }

  /**
   * Sends a multicast from the kernel: one datagram of `messages` (or bytes) to every member of
   * `group`; a full member gets an overrun instead. `nsid` is attached for members with
   * NETLINK_LISTEN_ALL_NSID on. Returns how many members got it. A group that is no integer
   * from 1 to 2^32-1 is a RangeError.
   */
  multicast(
    protocol: number,
    group: number,
    messages: readonly Message[] | Uint8Array,
    options: { nsid?: number } = {},
  ): number {
    // Group NaN or 0 reached no member, in silence.
    checkInteger("multicast group", group, 1, 0xffff_ffff);
    const data = messages instanceof Uint8Array ? messages : encodeMessages(messages);
    return this.broadcast(protocol, group, data, { nsid: options.nsid });
  }

  /** netlink_broadcast: to the group's members but the sender and `exclude`. */
  broadcast(
    protocol: number,
    group: number,
    data: Uint8Array,
    options: { from?: FakeSocket; exclude?: number; nsid?: number },
  ): number {
    let delivered = 0;
    for (const member of this.#sockets) {
      if (member.protocol !== protocol || !member.groups.has(group)) continue;
      if (member === options.from || (options.exclude && member.portid === options.exclude)) {
        continue;
      }
      if (member.deliver(data, options.from?.portid ?? 0, group, options.nsid)) delivered++;
    }
    return delivered;
  }

  /** Removes a closed socket. */
  forget(socket: FakeSocket): void {
    const i = this.#sockets.indexOf(socket);
    if (i >= 0) this.#sockets.splice(i, 1);
  }

  /** netlink_rcv_skb for one message sent to the kernel by `socket`. */
  handle(socket: FakeSocket, request: Message): void {
    // netlink_rcv_skb: only requests of a type past the control messages reach the protocol;
    // the others are acked, when they ask for it, and nothing else.
    if (!(request.flags & NLM_F_REQUEST) || request.type < NLMSG_MIN_TYPE) {
      if (request.flags & NLM_F_ACK) socket.ack(request, 0, {});
      return;
    }
    // rtnetlink_rcv_msg: a message of a known type too short for its family byte is done at
    // once (acked when asked): a request without its header does and dumps nothing. So is one
    // too short for its struct nfgenmsg in nfnetlink_rcv_msg.
    if (
      (socket.protocol === NETLINK_ROUTE && request.type <= RTM_MAX
        && request.payload.length === 0)
      || (socket.protocol === NETLINK_NETFILTER && request.payload.length < 4)
    ) {
      if (request.flags & NLM_F_ACK) socket.ack(request, 0, {});
      return;
    }
    let handler = this.#handlers.get(socket.protocol)?.get(request.type);
    // genetlink's nlctrl is there from the start, unless a test serves one of its own.
    if (!handler && socket.protocol === NETLINK_GENERIC && request.type === GENL_ID_CTRL) {
      this.#nlctrl();
      handler = this.#handlers.get(NETLINK_GENERIC)!.get(GENL_ID_CTRL);
    }
    // rtnetlink_rcv_msg dumps only an RTM_GET* type ((type & 3) == 2): any other is a change,
    // the bits its NLM_F_REPLACE | NLM_F_EXCL. genl_family_rcv_msg dumps only with both bits,
    // conntrack's callbacks only for their GET types: the library's rule (src/_request.ts).
    const isDump = handler !== undefined
      && dumpBits(socket.protocol, 0, request.type, request.flags) !== 0;
    // netlink_dump_start: one dump per socket.
    if (isDump && socket.dumping) {
      socket.ack(request, EBUSY, {});
      return;
    }
    // genl_rcv_msg: no family has that id.
    const answer: Answer = handler
      ? checkAnswer(handler(request, socket), request.type)
      : { errno: socket.protocol === NETLINK_GENERIC ? ENOENT : EOPNOTSUPP };
    if (answer.silent) return;
    // Replies and the notifications a request causes carry its sequence number and the port
    // of the socket that sent it (NETLINK_CB(skb).portid), whatever its own nlmsg_pid says.
    const reply = (spec: MessageSpec, flags = 0): Message => ({
      type: spec.type,
      flags: (spec.flags ?? 0) | flags,
      seq: request.seq,
      portid: socket.portid,
      payload: spec.payload ?? new Uint8Array(0),
    });
    if (isDump && !(answer.errno && answer.errnoAtStart)) {
      socket.startDump(request, answer, (answer.messages ?? []).map((m) => reply(m, NLM_F_MULTI)));
      return;
    }
    if (answer.errno) {
      socket.ack(request, answer.errno, answer.ext ?? {});
      return;
    }
    for (const { group, messages } of answer.notify ?? []) {
      const data = encodeMessages(messages.map((m) => reply(m)));
      const echo = (request.flags & NLM_F_ECHO) !== 0;
      this.broadcast(socket.protocol, group, data, { exclude: echo ? socket.portid : undefined });
      if (echo) socket.deliver(data, 0, group);
    }
    for (const message of answer.messages ?? []) socket.deliver([reply(message)]);
    if (request.flags & NLM_F_ACK) socket.ack(request, 0, answer.ext ?? {});
  }
}
