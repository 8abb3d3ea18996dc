/**
 * netlink_diag: netlink sockets, as `ss -f netlink` lists them: protocol, port ID, groups,
 * flags. {@linkcode socketOwners} says which processes hold them.
 *
 * @module
 */

import { MAX_LINKS } from "../_constants.ts";
import { HOST_LITTLE_ENDIAN } from "../_endian.ts";
import { checkOptions, shown } from "../_options.ts";
import { AttributeDecoder } from "../attribute.ts";
import {
  AF_NETLINK,
  NDIAG_FLAG_BROADCAST_ERROR,
  NDIAG_FLAG_CAP_ACK,
  NDIAG_FLAG_CB_RUNNING,
  NDIAG_FLAG_LISTEN_ALL_NSID,
  NDIAG_FLAG_NO_ENOBUFS,
  NDIAG_FLAG_PKTINFO,
  NDIAG_PROTO_ALL,
  NDIAG_SHOW_FLAGS,
  NDIAG_SHOW_GROUPS,
  NDIAG_SHOW_MEMINFO,
  NETLINK_DIAG_FLAGS,
  NETLINK_DIAG_GROUPS,
  NETLINK_DIAG_MEMINFO,
  OFFSETOF_NETLINK_DIAG_MSG_NDIAG_COOKIE,
  OFFSETOF_NETLINK_DIAG_MSG_NDIAG_DST_GROUP,
  OFFSETOF_NETLINK_DIAG_MSG_NDIAG_DST_PORTID,
  OFFSETOF_NETLINK_DIAG_MSG_NDIAG_INO,
  OFFSETOF_NETLINK_DIAG_MSG_NDIAG_PORTID,
  OFFSETOF_NETLINK_DIAG_MSG_NDIAG_PROTOCOL,
  OFFSETOF_NETLINK_DIAG_MSG_NDIAG_STATE,
  OFFSETOF_NETLINK_DIAG_MSG_NDIAG_TYPE,
  OFFSETOF_NETLINK_DIAG_REQ_NDIAG_SHOW,
  OFFSETOF_NETLINK_DIAG_REQ_SDIAG_FAMILY,
  OFFSETOF_NETLINK_DIAG_REQ_SDIAG_PROTOCOL,
  SIZEOF_NETLINK_DIAG_MSG,
  SIZEOF_NETLINK_DIAG_REQ,
} from "./_constants.ts";
import { decodeSocketMemory, type SocketMemory } from "./_meminfo.ts";
import { type SocketType, socketTypeName } from "./_names.ts";
import { DIAG_KEYS, type DiagOptions, dumpAll, listed } from "./_query.ts";
import { checkLength, readCookie } from "./_struct.ts";
import { type SocketState, stateName } from "./states.ts";

/**
 * Which netlink sockets to list.
 *
 * @example
 * ```ts
 * import { NETLINK_ROUTE } from "@netlink/netlink";
 * import type { NetlinkQuery } from "@netlink/netlink/diag";
 * const rtnl: NetlinkQuery = { protocol: NETLINK_ROUTE };
 * ```
 */
export interface NetlinkQuery extends DiagOptions {
  /**
   * Only sockets of this netlink protocol (NETLINK_ROUTE...), 0 to 31. Default: every protocol.
   */
  protocol?: number;
}

/**
 * A netlink socket's options, and whether a dump is in progress on it.
 *
 * @example
 * ```ts
 * import type { NetlinkSocketFlags } from "@netlink/netlink/diag";
 * const busy = (f: NetlinkSocketFlags) => f.dumpRunning;
 * ```
 */
export interface NetlinkSocketFlags {
  /** A dump is in progress (its next part is sent when the socket reads). */
  dumpRunning: boolean;
  /** NETLINK_PKTINFO. */
  pktinfo: boolean;
  /** NETLINK_BROADCAST_ERROR. */
  broadcastError: boolean;
  /** NETLINK_NO_ENOBUFS. */
  noEnobufs: boolean;
  /** NETLINK_LISTEN_ALL_NSID. */
  listenAllNsid: boolean;
  /** NETLINK_CAP_ACK. */
  capAck: boolean;
}

/**
 * One netlink socket, as `ss -f netlink -e` shows it. The kernel's own sockets have port ID 0.
 *
 * @example
 * ```ts
 * import type { NetlinkSocketInfo } from "@netlink/netlink/diag";
 * const line = (s: NetlinkSocketInfo) => `${s.protocol}:${s.portid} groups ${s.groups}`;
 * ```
 */
export interface NetlinkSocketInfo {
  /** The netlink protocol (NETLINK_ROUTE is 0). */
  protocol: number;
  /** "raw" or "dgram". */
  type: SocketType;
  /** The port ID it is bound to (0 for the kernel's sockets). */
  portid: number;
  /** The port ID it is connected to, 0 if none. */
  peerPortid: number;
  /** The group it sends to by default, 0 if none. */
  peerGroup: number;
  /** The socket's inode; /proc/PID/fd links to socket:[inode] (see socketOwners()). */
  inode: number;
  /** The kernel's unique socket cookie: a number, exact up to 2^53 (as InetSocket's). */
  cookie: number;
  /** "close" (ss: UNCONN) or, after connect(), "established". */
  state: SocketState | `state-${number}`;
  /** The multicast groups joined, by number. */
  groups?: number[];
  /** Socket options and whether a dump is running (NETLINK_DIAG_FLAGS, kernel 4.6+). */
  flags?: NetlinkSocketFlags;
  /** Memory counters (`ss -m`). */
  memory?: SocketMemory;
}

// The kernel's netlink_diag answers ENOENT for a protocol past MAX_LINKS, which would read as
// "no netlink_diag": refused here instead, as open() refuses it.
function checkProtocol(protocol: unknown): number {
  if (protocol === undefined) return NDIAG_PROTO_ALL;
  if (
    typeof protocol !== "number" || !Number.isInteger(protocol) || protocol < 0
    || protocol >= MAX_LINKS
  ) {
    throw new RangeError(
      `protocol must be a netlink protocol number from 0 to ${MAX_LINKS - 1}, got ${
        shown(protocol)
      }`,
    );
  }
  return protocol;
}

// Every key of NetlinkQuery and nothing else (`satisfies`): a misspelt one is refused.
const NETLINK_KEYS = [
  ...DIAG_KEYS,
  ...Object.keys(
    { protocol: 0 } satisfies Record<Exclude<keyof NetlinkQuery, keyof DiagOptions>, 0>,
  ),
];

/**
 * The payload of a netlink_diag dump request (struct netlink_diag_req) asking for memory,
 * groups and flags.
 *
 * @example
 * ```ts
 * import { encodeNetlinkRequest } from "@netlink/netlink/diag";
 * console.log(encodeNetlinkRequest().length); // 20
 * ```
 */
export function encodeNetlinkRequest(query: NetlinkQuery = {}): Uint8Array {
  query = checkOptions("netlink query", query, NETLINK_KEYS);
  const protocol = checkProtocol(query.protocol);
  const payload = new Uint8Array(SIZEOF_NETLINK_DIAG_REQ);
  const view = new DataView(payload.buffer);
  view.setUint8(OFFSETOF_NETLINK_DIAG_REQ_SDIAG_FAMILY, AF_NETLINK);
  view.setUint8(OFFSETOF_NETLINK_DIAG_REQ_SDIAG_PROTOCOL, protocol);
  view.setUint32(
    OFFSETOF_NETLINK_DIAG_REQ_NDIAG_SHOW,
    NDIAG_SHOW_MEMINFO | NDIAG_SHOW_GROUPS | NDIAG_SHOW_FLAGS,
    HOST_LITTLE_ENDIAN,
  );
  return payload;
}

/** Group numbers from a bitmap of longs: bit N (counting from bit 0 of byte 0) is group N+1. */
function groupList(bitmap: Uint8Array): number[] {
  const groups: number[] = [];
  for (let byte = 0; byte < bitmap.length; byte++) {
    for (let bit = 0; bit < 8; bit++) {
      if (bitmap[byte] & (1 << bit)) groups.push(byte * 8 + bit + 1);
    }
  }
  return groups;
}

/**
 * Decodes one netlink_diag reply payload. Throws MalformedMessageError when truncated.
 *
 * @example
 * ```ts
 * import { decodeNetlinkSocket } from "@netlink/netlink/diag";
 * const msg = new Uint8Array(28);
 * msg.set([16, 3, 0]); // AF_NETLINK, SOCK_RAW, NETLINK_ROUTE
 * console.log(decodeNetlinkSocket(msg).type); // "raw"
 * ```
 */
export function decodeNetlinkSocket(payload: Uint8Array): NetlinkSocketInfo {
  checkLength(payload, SIZEOF_NETLINK_DIAG_MSG, "netlink_diag_msg");
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const u32 = (at: number) => view.getUint32(at, HOST_LITTLE_ENDIAN);
  const socket: NetlinkSocketInfo = {
    protocol: view.getUint8(OFFSETOF_NETLINK_DIAG_MSG_NDIAG_PROTOCOL),
    type: socketTypeName(view.getUint8(OFFSETOF_NETLINK_DIAG_MSG_NDIAG_TYPE)),
    portid: u32(OFFSETOF_NETLINK_DIAG_MSG_NDIAG_PORTID),
    peerPortid: u32(OFFSETOF_NETLINK_DIAG_MSG_NDIAG_DST_PORTID),
    peerGroup: u32(OFFSETOF_NETLINK_DIAG_MSG_NDIAG_DST_GROUP),
    inode: u32(OFFSETOF_NETLINK_DIAG_MSG_NDIAG_INO),
    cookie: readCookie(view, OFFSETOF_NETLINK_DIAG_MSG_NDIAG_COOKIE),
    state: stateName(view.getUint8(OFFSETOF_NETLINK_DIAG_MSG_NDIAG_STATE)),
  };
  const attrs = new AttributeDecoder(payload, SIZEOF_NETLINK_DIAG_MSG);
  while (attrs.next()) {
    switch (attrs.type) {
      case NETLINK_DIAG_GROUPS:
        socket.groups = groupList(attrs.bytes());
        break;
      case NETLINK_DIAG_FLAGS: {
        const flags = attrs.u32();
        socket.flags = {
          dumpRunning: (flags & NDIAG_FLAG_CB_RUNNING) !== 0,
          pktinfo: (flags & NDIAG_FLAG_PKTINFO) !== 0,
          broadcastError: (flags & NDIAG_FLAG_BROADCAST_ERROR) !== 0,
          noEnobufs: (flags & NDIAG_FLAG_NO_ENOBUFS) !== 0,
          listenAllNsid: (flags & NDIAG_FLAG_LISTEN_ALL_NSID) !== 0,
          capAck: (flags & NDIAG_FLAG_CAP_ACK) !== 0,
        };
        break;
      }
      case NETLINK_DIAG_MEMINFO:
        socket.memory = decodeSocketMemory(attrs.bytes());
        break;
    }
  }
  return socket;
}

/**
 * Streams the netlink sockets (of one protocol, or all). See {@linkcode netlinkSockets}.
 *
 * @example
 * ```ts
 * import { netlinkSocketStream } from "@netlink/netlink/diag";
 * for await (const s of netlinkSocketStream()) if (s.portid === 0) console.log("kernel", s.protocol);
 * ```
 */
export async function* netlinkSocketStream(
  query: NetlinkQuery = {},
): AsyncGenerator<NetlinkSocketInfo> {
  const payload = encodeNetlinkRequest(query);
  // netlink_diag lists a socket that joined groups twice (shown on 6.18, as `ss -f netlink`
  // prints it): it walks the bound sockets, then each protocol's mc_list, whose sockets it means
  // to skip if bound (sk_hashed), but netlink sockets are hashed in their own table, not
  // sk_node. A socket's cookie is its own: each is yielded once.
  const seen = new Set<number>();
  for await (const message of dumpAll(query, [payload], "netlink", "netlink_diag")) {
    const socket = decodeNetlinkSocket(message.payload);
    if (seen.has(socket.cookie)) continue;
    seen.add(socket.cookie);
    yield socket;
  }
}

/**
 * Lists the netlink sockets (of one protocol, or all: `ss -f netlink -a`), the kernel's own
 * included (port ID 0), each once (the kernel lists one that joined multicast groups twice, and
 * `ss` prints it twice). A kernel without netlink_diag rejects with a NetlinkError "ENOENT" that
 * says so.
 *
 * @example
 * ```ts
 * import { NETLINK_ROUTE } from "@netlink/netlink";
 * import { netlinkSockets } from "@netlink/netlink/diag";
 * const rtnl = await netlinkSockets({ protocol: NETLINK_ROUTE });
 * console.log(rtnl.map((s) => s.portid));
 * ```
 */
export function netlinkSockets(query: NetlinkQuery = {}): Promise<NetlinkSocketInfo[]> {
  return listed(query, encodeNetlinkRequest, netlinkSocketStream);
}
