/**
 * inet_diag: TCP, UDP, raw and MPTCP sockets over IPv4 and IPv6, as `ss -t`, `-u`, `-w` and
 * `-M` list them.
 *
 * @module
 */

import { HOST_LITTLE_ENDIAN } from "../_endian.ts";
import { checkOptions, shown } from "../_options.ts";
import { AttributeDecoder, AttributeEncoder } from "../attribute.ts";
import { formatIP } from "../ip.ts";
import {
  AF_INET,
  AF_INET6,
  INET_DIAG_BBRINFO,
  INET_DIAG_CGROUP_ID,
  INET_DIAG_CLASS_ID,
  INET_DIAG_CONG,
  INET_DIAG_DCTCPINFO,
  INET_DIAG_INFO,
  INET_DIAG_MARK,
  INET_DIAG_MEMINFO,
  INET_DIAG_MEMINFO_LAYOUT,
  INET_DIAG_PROTOCOL,
  INET_DIAG_REQ_BYTECODE,
  INET_DIAG_REQ_PROTOCOL,
  INET_DIAG_SHUTDOWN,
  INET_DIAG_SKMEMINFO,
  INET_DIAG_SKV6ONLY,
  INET_DIAG_TCLASS,
  INET_DIAG_TOS,
  INET_DIAG_ULP_INFO,
  INET_DIAG_VEGASINFO,
  INET_ULP_INFO_NAME,
  type InetMemInfo,
  IPPROTO_MPTCP,
  IPPROTO_RAW,
  IPPROTO_TCP,
  IPPROTO_UDP,
  OFFSETOF_INET_DIAG_MSG_ID,
  OFFSETOF_INET_DIAG_MSG_IDIAG_EXPIRES,
  OFFSETOF_INET_DIAG_MSG_IDIAG_FAMILY,
  OFFSETOF_INET_DIAG_MSG_IDIAG_INODE,
  OFFSETOF_INET_DIAG_MSG_IDIAG_RETRANS,
  OFFSETOF_INET_DIAG_MSG_IDIAG_RQUEUE,
  OFFSETOF_INET_DIAG_MSG_IDIAG_STATE,
  OFFSETOF_INET_DIAG_MSG_IDIAG_TIMER,
  OFFSETOF_INET_DIAG_MSG_IDIAG_UID,
  OFFSETOF_INET_DIAG_MSG_IDIAG_WQUEUE,
  OFFSETOF_INET_DIAG_REQ_RAW_SDIAG_RAW_PROTOCOL,
  OFFSETOF_INET_DIAG_REQ_V2_IDIAG_EXT,
  OFFSETOF_INET_DIAG_REQ_V2_IDIAG_STATES,
  OFFSETOF_INET_DIAG_REQ_V2_SDIAG_FAMILY,
  OFFSETOF_INET_DIAG_REQ_V2_SDIAG_PROTOCOL,
  OFFSETOF_INET_DIAG_SOCKID_IDIAG_COOKIE,
  OFFSETOF_INET_DIAG_SOCKID_IDIAG_DPORT,
  OFFSETOF_INET_DIAG_SOCKID_IDIAG_DST,
  OFFSETOF_INET_DIAG_SOCKID_IDIAG_IF,
  OFFSETOF_INET_DIAG_SOCKID_IDIAG_SPORT,
  OFFSETOF_INET_DIAG_SOCKID_IDIAG_SRC,
  SIZEOF_INET_DIAG_MSG,
  SIZEOF_INET_DIAG_REQ_V2,
  TCP_BBR_INFO_LAYOUT,
  TCP_DCTCP_INFO_LAYOUT,
  TCP_INFO_LAYOUT,
  type TcpBbrInfo,
  type TcpDctcpInfo,
  type TcpInfo,
  TCPVEGAS_INFO_LAYOUT,
  type TcpVegasInfo,
} from "./_constants.ts";
import { decodeSocketMemory, type SocketMemory } from "./_meminfo.ts";
import { DIAG_KEYS, type DiagOptions, dumpAll, listed } from "./_query.ts";
import { checkLength, decodeStruct, readCookie } from "./_struct.ts";
import { compileFilter, type InetFilter } from "./bytecode.ts";
import { type SocketState, type SocketStateGroup, stateMask, stateName } from "./states.ts";

/**
 * The inet protocols by name. "tcp" and "udp" come with inet_diag; "raw" and "mptcp" need the
 * kernel's raw_diag or mptcp_diag (built in, or a module the kernel loads on demand): without
 * it the query rejects with a NetlinkError whose code is "ENOENT", as a kernel built without
 * CONFIG_INET_RAW_DIAG does for "raw".
 *
 * @example
 * ```ts
 * import type { InetProtocol } from "@netlink/netlink/diag";
 * const protocol: InetProtocol = "udp";
 * ```
 */
export type InetProtocol = "tcp" | "udp" | "raw" | "mptcp";

const PROTOCOLS: Readonly<Record<InetProtocol, number>> = {
  tcp: IPPROTO_TCP,
  udp: IPPROTO_UDP,
  raw: IPPROTO_RAW,
  mptcp: IPPROTO_MPTCP,
};

/**
 * What to list: which protocol, address family and states, which sockets (a filter the kernel
 * applies), and which extra information to ask for.
 *
 * @example
 * ```ts
 * import type { InetQuery } from "@netlink/netlink/diag";
 * // ss -tn state established '( dport = :443 )' -i
 * const query: InetQuery = {
 *   protocol: "tcp",
 *   states: ["established"],
 *   filter: { dport: 443 },
 *   info: true,
 * };
 * ```
 */
export interface InetQuery extends DiagOptions {
  /** Default "tcp". */
  protocol?: InetProtocol;
  /** "inet" (IPv4) or "inet6" (IPv6). Default both, IPv4 first, as ss lists them. */
  family?: "inet" | "inet6";
  /**
   * States and state groups to list. Default "all". (ss's default, without -a or a state
   * filter, is not "connected", which has time-wait and syn-recv too: it is "established",
   * "syn-sent", "fin-wait-1", "fin-wait-2", "close-wait", "last-ack" and "closing".)
   * UDP and raw sockets are "close" (ss: UNCONN) unless connected ("established").
   */
  states?: Iterable<SocketState | SocketStateGroup>;
  /** Only sockets that match: compiled to bytecode and applied by the kernel. */
  filter?: InetFilter;
  /** Ask for tcp_info, the congestion control's name and its info (`ss -i`). Default false. */
  info?: boolean;
  /** Ask for memory use: `memory` (`ss -m`) and `memInfo`. Default false. */
  memory?: boolean;
}

/**
 * An address and port, as text and a number. ss prints the IPv6 any-address as `*` (`[::]` on
 * a v6only socket) and port 0 as `*`; here they are "::" and 0.
 *
 * @example
 * ```ts
 * import type { Endpoint } from "@netlink/netlink/diag";
 * const show = (e: Endpoint) => e.address.includes(":") ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
 * ```
 */
export interface Endpoint {
  /** The address as text: "127.0.0.1", "::1", "::ffff:10.0.0.1". */
  address: string;
  /** The port, 0 when none. */
  port: number;
}

/**
 * One inet socket, as ss shows it (`ss -tanie -m`).
 *
 * @example
 * ```ts
 * import type { InetSocket } from "@netlink/netlink/diag";
 * const line = (s: InetSocket) =>
 *   `${s.state} ${s.receiveQueue} ${s.sendQueue} ${s.local.address}:${s.local.port}`;
 * ```
 */
export interface InetSocket {
  /** "inet" (IPv4, AF_INET) or "inet6" (IPv6, AF_INET6), as the route layer names them. */
  family: "inet" | "inet6";
  /** The IP protocol (IPPROTO_TCP...); for raw sockets the one they were opened with. */
  protocol: number;
  /** The state by name ("listen", "established"...; "close" is ss's UNCONN). */
  state: SocketState | `state-${number}`;
  /** Local address and port. */
  local: Endpoint;
  /** Peer address and port; the any-address and 0 when not connected. */
  peer: Endpoint;
  /** Interface index the socket is bound to, 0 if none. */
  interface: number;
  /**
   * The kernel's unique socket cookie (`ss -e`: sk:... in hex): a number, exact up to 2^53,
   * which the kernel's cookies (counted up from 1) do not reach.
   */
  cookie: number;
  /** Recv-Q: bytes not read yet; for a listener, connections not accepted yet. */
  receiveQueue: number;
  /** Send-Q: bytes not acknowledged yet; for a listener, the accept backlog. */
  sendQueue: number;
  /** The owner's uid (`ss -e`: uid:...). */
  uid: number;
  /** The socket's inode (`ss -e`: ino:...; /proc/PID/fd links to socket:[inode]). */
  inode: number;
  /** Active timer: 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 zero-window probe. */
  timer: number;
  /**
   * The active timer by the name `ss -o` prints in `timer:(NAME,...)`: "off" (ss prints no
   * timer), "on" (retransmit), "keepalive", "timewait", "persist" (zero-window probe); a timer
   * with no name stays its number.
   */
  timerName: TimerName | number;
  /** Milliseconds until the timer fires. */
  expires: number;
  /** Retransmissions (for timer 1) or probes (timer 4) so far. */
  retransmits: number;
  /** IPv6 sockets: whether IPV6_V6ONLY is set. */
  v6only?: boolean;
  /** Shutdown state: bit 0 receive, bit 1 send (`ss -e`: ... `-->`, `<--`, `---`). */
  shutdown?: number;
  /** IP_TOS of IPv4 sockets. */
  tos?: number;
  /** IPV6_TCLASS of IPv6 sockets. */
  tclass?: number;
  /** The fwmark (SO_MARK); sent to CAP_NET_ADMIN only. */
  mark?: number;
  /** The net_cls class id or priority. */
  classId?: number;
  /** The cgroup v2 id of the owning cgroup (kernel 5.7+): a number, exact up to 2^53. */
  cgroupId?: number;
  /** The upper layer protocol ("tls", "mptcp"), if one is attached. */
  ulp?: string;
  /**
   * TCP: tcp_info (`ss -i`), with `info: true`. `pacingRate` and `maxPacingRate` are in bytes
   * per second (ss prints bits) and absent when the kernel's value is ~0, no limit, as ss leaves
   * them out (a listener's pacing rate; the maximum unless SO_MAX_PACING_RATE set one).
   */
  tcpInfo?: TcpInfo;
  /** TCP: the congestion control algorithm ("cubic"...), with `info: true`. */
  congestion?: string;
  /** TCP Vegas' info, with `info: true` when Vegas is in use. */
  vegas?: TcpVegasInfo;
  /** DCTCP's info, with `info: true` when DCTCP is in use. */
  dctcp?: TcpDctcpInfo;
  /** BBR's info, with `info: true` when BBR is in use. */
  bbr?: BbrInfo;
  /** Memory counters (`ss -m`: skmem), with `memory: true`. */
  memory?: SocketMemory;
  /** The older inet_diag_meminfo (`ss -m`: mem:(r,w,f,t)), with `memory: true`. */
  memInfo?: InetMemInfo;
}

/**
 * The names `ss -o` gives an inet socket's timer (idiag_timer), by number.
 *
 * @example
 * ```ts
 * import type { TimerName } from "@netlink/netlink/diag";
 * const waiting = (name: TimerName) => name === "timewait";
 * ```
 */
export type TimerName = "off" | "on" | "keepalive" | "timewait" | "persist";

// ss.c's tmr_name, by idiag_timer.
const TIMER_NAMES: readonly TimerName[] = ["off", "on", "keepalive", "timewait", "persist"];

/**
 * BBR's state (INET_DIAG_BBRINFO), as `ss -i` shows it in `bbr:(bw:...,mrtt:...,pacing_gain:...,
 * cwnd_gain:...)` ({@linkcode TcpBbrInfo} is the kernel's struct, its gains in fixed point).
 *
 * @example
 * ```ts
 * import type { BbrInfo } from "@netlink/netlink/diag";
 * const bitsPerSecond = (bbr: BbrInfo) => bbr.bw * 8; // ss's bw
 * ```
 */
export interface BbrInfo {
  /**
   * The bandwidth BBR estimates, in bytes per second (`bbr_bw_lo` and `bbr_bw_hi` as one number;
   * ss prints bits per second: `bw * 8`).
   */
  bw: number;
  /** The minimum RTT BBR has seen, in microseconds (ss's `mrtt` is in milliseconds). */
  minRtt: number;
  /**
   * The pacing gain as a factor (2.88671875 in startup, 1.25 probing for bandwidth), as ss prints
   * it: the kernel's fixed-point `bbr_pacing_gain` divided by 256.
   */
  pacingGain: number;
  /** The congestion window gain as a factor (2 in startup), as ss prints it: `bbr_cwnd_gain` / 256. */
  cwndGain: number;
}

// tcp_info's u64 rates are ~0 when unlimited; decodeStruct makes that 2^64 (a double).
const NO_RATE_LIMIT = 2 ** 64;

function extensionBit(extension: number): number {
  return 1 << (extension - 1);
}

function familyNumber(family: unknown): number[] {
  if (family === undefined) return [AF_INET, AF_INET6];
  if (family === "inet") return [AF_INET];
  if (family === "inet6") return [AF_INET6];
  throw new TypeError(`family must be "inet" or "inet6", got ${shown(family)}`);
}

function protocolNumber(protocol: unknown): number {
  if (protocol === undefined) return IPPROTO_TCP;
  if (typeof protocol === "string" && Object.hasOwn(PROTOCOLS, protocol)) {
    return PROTOCOLS[protocol as InetProtocol];
  }
  throw new TypeError(
    `protocol must be one of ${Object.keys(PROTOCOLS).join(", ")}, got ${shown(protocol)}`,
  );
}

// Every key of InetQuery and nothing else (`satisfies`): a misspelt one is refused, not ignored.
const INET_KEYS = [
  ...DIAG_KEYS,
  ...Object.keys(
    { protocol: 0, family: 0, states: 0, filter: 0, info: 0, memory: 0 } satisfies Record<
      Exclude<keyof InetQuery, keyof DiagOptions>,
      0
    >,
  ),
];

/**
 * The payloads of the SOCK_DIAG_BY_FAMILY dump requests a query sends (a struct
 * inet_diag_req_v2 and its attributes; one per address family). Throws before any I/O on a bad
 * query.
 *
 * @example
 * ```ts
 * import { encodeInetRequests } from "@netlink/netlink/diag";
 * const [v4, v6] = encodeInetRequests({ protocol: "udp" });
 * console.log(v4[0], v6[0]); // 2 10
 * ```
 */
export function encodeInetRequests(query: InetQuery = {}): Uint8Array[] {
  query = checkOptions("inet query", query, INET_KEYS);
  const protocol = protocolNumber(query.protocol);
  const families = familyNumber(query.family);
  const states = query.states === undefined ? stateMask(["all"]) : stateMask(query.states);
  const bytecode = query.filter === undefined ? undefined : compileFilter(query.filter);
  for (const key of ["info", "memory"] as const) {
    const value = query[key];
    if (value !== undefined && typeof value !== "boolean") {
      throw new TypeError(`inet query: ${key} must be a boolean, got ${shown(value)}`);
    }
  }
  let ext = 0;
  if (query.info) {
    ext |= extensionBit(INET_DIAG_INFO) | extensionBit(INET_DIAG_CONG)
      | extensionBit(INET_DIAG_VEGASINFO);
  }
  if (query.memory) ext |= extensionBit(INET_DIAG_MEMINFO) | extensionBit(INET_DIAG_SKMEMINFO);
  ext |= extensionBit(INET_DIAG_TOS) | extensionBit(INET_DIAG_TCLASS)
    | extensionBit(INET_DIAG_SHUTDOWN);
  return families.map((family) => {
    const attrs = new AttributeEncoder();
    if (bytecode !== undefined && bytecode.length > 0) {
      attrs.bytes(INET_DIAG_REQ_BYTECODE, bytecode);
    }
    // sdiag_protocol is a u8: MPTCP (262) goes in an attribute, as the kernel asks.
    if (protocol > 0xff) attrs.u32(INET_DIAG_REQ_PROTOCOL, protocol);
    const tail = attrs.finish();
    const payload = new Uint8Array(SIZEOF_INET_DIAG_REQ_V2 + tail.length);
    const view = new DataView(payload.buffer);
    view.setUint8(OFFSETOF_INET_DIAG_REQ_V2_SDIAG_FAMILY, family);
    // MPTCP's number does not fit: ss puts IPPROTO_TCP here and the real one in the attribute.
    view.setUint8(
      OFFSETOF_INET_DIAG_REQ_V2_SDIAG_PROTOCOL,
      protocol > 0xff ? IPPROTO_TCP : protocol,
    );
    view.setUint8(OFFSETOF_INET_DIAG_REQ_V2_IDIAG_EXT, ext);
    // raw_diag reads sdiag_raw_protocol to look one socket up; dumps list every raw socket.
    if (protocol === IPPROTO_RAW) {
      view.setUint8(OFFSETOF_INET_DIAG_REQ_RAW_SDIAG_RAW_PROTOCOL, IPPROTO_RAW);
    }
    view.setUint32(OFFSETOF_INET_DIAG_REQ_V2_IDIAG_STATES, states, HOST_LITTLE_ENDIAN);
    payload.set(tail, SIZEOF_INET_DIAG_REQ_V2);
    return payload;
  });
}

function endpoint(bytes: Uint8Array, family: number, address: number, port: number): Endpoint {
  const length = family === AF_INET6 ? 16 : 4;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    address: formatIP(bytes.subarray(address, address + length)),
    port: view.getUint16(port, false),
  };
}

/**
 * Decodes one inet_diag reply (the payload of a SOCK_DIAG_BY_FAMILY message from an inet
 * dump). `protocol` is the protocol asked for: replies say it only for raw sockets. Throws
 * MalformedMessageError on a truncated message.
 *
 * @example
 * ```ts
 * import { NETLINK_SOCK_DIAG, open } from "@netlink/netlink";
 * import {
 *   decodeInetSocket,
 *   encodeInetRequests,
 *   IPPROTO_TCP,
 *   SOCK_DIAG_BY_FAMILY,
 * } from "@netlink/netlink/diag";
 * await using sock = await open(NETLINK_SOCK_DIAG);
 * for (const payload of encodeInetRequests({ protocol: "tcp", states: ["listen"] })) {
 *   for await (const msg of sock.dump({ type: SOCK_DIAG_BY_FAMILY, payload })) {
 *     console.log(decodeInetSocket(msg.payload, IPPROTO_TCP).local.port);
 *   }
 * }
 * ```
 */
export function decodeInetSocket(payload: Uint8Array, protocol: number): InetSocket {
  checkLength(payload, SIZEOF_INET_DIAG_MSG, "inet_diag_msg");
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const family = view.getUint8(OFFSETOF_INET_DIAG_MSG_IDIAG_FAMILY);
  // inet_diag answers AF_INET or AF_INET6 only (the family asked for).
  const id = OFFSETOF_INET_DIAG_MSG_ID;
  const u32 = (at: number) => view.getUint32(at, HOST_LITTLE_ENDIAN);
  const timer = view.getUint8(OFFSETOF_INET_DIAG_MSG_IDIAG_TIMER);
  const socket: InetSocket = {
    family: family === AF_INET6 ? "inet6" : "inet",
    protocol,
    state: stateName(view.getUint8(OFFSETOF_INET_DIAG_MSG_IDIAG_STATE)),
    local: endpoint(
      payload,
      family,
      id + OFFSETOF_INET_DIAG_SOCKID_IDIAG_SRC,
      id + OFFSETOF_INET_DIAG_SOCKID_IDIAG_SPORT,
    ),
    peer: endpoint(
      payload,
      family,
      id + OFFSETOF_INET_DIAG_SOCKID_IDIAG_DST,
      id + OFFSETOF_INET_DIAG_SOCKID_IDIAG_DPORT,
    ),
    interface: u32(id + OFFSETOF_INET_DIAG_SOCKID_IDIAG_IF),
    cookie: readCookie(view, id + OFFSETOF_INET_DIAG_SOCKID_IDIAG_COOKIE),
    receiveQueue: u32(OFFSETOF_INET_DIAG_MSG_IDIAG_RQUEUE),
    sendQueue: u32(OFFSETOF_INET_DIAG_MSG_IDIAG_WQUEUE),
    uid: u32(OFFSETOF_INET_DIAG_MSG_IDIAG_UID),
    inode: u32(OFFSETOF_INET_DIAG_MSG_IDIAG_INODE),
    timer,
    timerName: TIMER_NAMES[timer] ?? timer,
    expires: u32(OFFSETOF_INET_DIAG_MSG_IDIAG_EXPIRES),
    retransmits: view.getUint8(OFFSETOF_INET_DIAG_MSG_IDIAG_RETRANS),
  };
  const attrs = new AttributeDecoder(payload, SIZEOF_INET_DIAG_MSG);
  while (attrs.next()) {
    switch (attrs.type) {
      case INET_DIAG_PROTOCOL:
        socket.protocol = attrs.u8();
        break;
      case INET_DIAG_INFO:
        if (protocol === IPPROTO_TCP) socket.tcpInfo = decodeTcpInfo(attrs.bytes());
        break;
      case INET_DIAG_CONG:
        socket.congestion = attrs.string();
        break;
      case INET_DIAG_VEGASINFO:
        socket.vegas = decodeStruct(TCPVEGAS_INFO_LAYOUT, attrs.bytes());
        break;
      case INET_DIAG_DCTCPINFO:
        socket.dctcp = decodeStruct(TCP_DCTCP_INFO_LAYOUT, attrs.bytes());
        break;
      case INET_DIAG_BBRINFO:
        socket.bbr = decodeBbrInfo(attrs.bytes());
        break;
      case INET_DIAG_MEMINFO:
        socket.memInfo = decodeStruct(INET_DIAG_MEMINFO_LAYOUT, attrs.bytes());
        break;
      case INET_DIAG_SKMEMINFO:
        socket.memory = decodeSocketMemory(attrs.bytes());
        break;
      case INET_DIAG_SHUTDOWN:
        socket.shutdown = attrs.u8();
        break;
      case INET_DIAG_TOS:
        socket.tos = attrs.u8();
        break;
      case INET_DIAG_TCLASS:
        socket.tclass = attrs.u8();
        break;
      case INET_DIAG_SKV6ONLY:
        socket.v6only = attrs.u8() !== 0;
        break;
      case INET_DIAG_MARK:
        socket.mark = attrs.u32();
        break;
      case INET_DIAG_CLASS_ID:
        socket.classId = attrs.u32();
        break;
      case INET_DIAG_CGROUP_ID:
        socket.cgroupId = Number(attrs.u64());
        break;
      case INET_DIAG_ULP_INFO: {
        const ulp = attrs.nestedDecoder();
        while (ulp.next()) if (ulp.type === INET_ULP_INFO_NAME) socket.ulp = ulp.string();
        break;
      }
    }
  }
  return socket;
}

/** tcp_info, its rates left out where the kernel has none (~0), as ss leaves them out. */
function decodeTcpInfo(bytes: Uint8Array): TcpInfo {
  const info = decodeStruct<TcpInfo>(TCP_INFO_LAYOUT, bytes);
  if (info.pacingRate === NO_RATE_LIMIT) delete info.pacingRate;
  if (info.maxPacingRate === NO_RATE_LIMIT) delete info.maxPacingRate;
  return info;
}

/** tcp_bbr_info with its gains as factors, as ss prints them. */
function decodeBbrInfo(bytes: Uint8Array): BbrInfo {
  const bbr = decodeStruct<TcpBbrInfo>(TCP_BBR_INFO_LAYOUT, bytes);
  bbr.pacingGain /= 256;
  bbr.cwndGain /= 256;
  return bbr;
}

/**
 * Streams the inet sockets a query selects, as the kernel dumps them (IPv4, then IPv6): for
 * tables too large to hold at once. See {@linkcode inetSockets}.
 *
 * @example
 * ```ts
 * import { inetSocketStream } from "@netlink/netlink/diag";
 * for await (const s of inetSocketStream({ protocol: "tcp", states: ["listen"] })) {
 *   console.log(s.local.port);
 * }
 * ```
 */
export async function* inetSocketStream(query: InetQuery = {}): AsyncGenerator<InetSocket> {
  const payloads = encodeInetRequests(query);
  const protocol = protocolNumber(query.protocol);
  const name = query.protocol ?? "tcp";
  for await (const message of dumpAll(query, payloads, name, `${name}_diag`)) {
    yield decodeInetSocket(message.payload, protocol);
  }
}

/**
 * Lists the inet sockets a query selects (`ss -tan` is `inetSockets({ protocol: "tcp" })`).
 * States and the filter are applied by the kernel. Bad queries throw before any I/O; kernel
 * errors reject with NetlinkError (ENOENT: the protocol's diag module is not loaded).
 *
 * @example
 * ```ts
 * import { inetSockets } from "@netlink/netlink/diag";
 * // ss -tln
 * for (const s of await inetSockets({ protocol: "tcp", states: ["listen"] })) {
 *   console.log(`${s.local.address}:${s.local.port} backlog ${s.sendQueue}`);
 * }
 * ```
 */
export function inetSockets(query: InetQuery = {}): Promise<InetSocket[]> {
  return listed(query, encodeInetRequests, inetSocketStream);
}
