/**
 * packet_diag: AF_PACKET sockets (what tcpdump and DHCP clients open), as `ss -0` lists them:
 * protocol, interface, rings, fanout, multicast memberships and the attached filter.
 *
 * @module
 */

import { HOST_LITTLE_ENDIAN } from "../_endian.ts";
import { checkOptions } from "../_options.ts";
import { AttributeDecoder } from "../attribute.ts";
import {
  AF_PACKET,
  type BpfInstruction,
  OFFSETOF_PACKET_DIAG_MSG_PDIAG_COOKIE,
  OFFSETOF_PACKET_DIAG_MSG_PDIAG_INO,
  OFFSETOF_PACKET_DIAG_MSG_PDIAG_NUM,
  OFFSETOF_PACKET_DIAG_MSG_PDIAG_TYPE,
  OFFSETOF_PACKET_DIAG_REQ_PDIAG_SHOW,
  OFFSETOF_PACKET_DIAG_REQ_SDIAG_FAMILY,
  PACKET_DIAG_FANOUT,
  PACKET_DIAG_FILTER,
  PACKET_DIAG_INFO,
  PACKET_DIAG_INFO_LAYOUT,
  PACKET_DIAG_MCLIST,
  PACKET_DIAG_MCLIST_LAYOUT,
  PACKET_DIAG_MEMINFO,
  PACKET_DIAG_RING_LAYOUT,
  PACKET_DIAG_RX_RING,
  PACKET_DIAG_TX_RING,
  PACKET_DIAG_UID,
  PACKET_SHOW_FANOUT,
  PACKET_SHOW_FILTER,
  PACKET_SHOW_INFO,
  PACKET_SHOW_MCLIST,
  PACKET_SHOW_MEMINFO,
  PACKET_SHOW_RING_CFG,
  type PacketInfo,
  type PacketMulticast,
  type PacketRing,
  SIZEOF_PACKET_DIAG_MSG,
  SIZEOF_PACKET_DIAG_REQ,
  SOCK_FILTER_LAYOUT,
} from "./_constants.ts";
import { decodeSocketMemory, type SocketMemory } from "./_meminfo.ts";
import { type SocketType, socketTypeName } from "./_names.ts";
import { DIAG_KEYS, type DiagOptions, dumpAll, listed } from "./_query.ts";
import { checkLength, decodeStruct, decodeStructs, readCookie } from "./_struct.ts";

/**
 * One packet socket, as `ss -0 -e` shows it.
 *
 * @example
 * ```ts
 * import type { PacketSocket } from "@netlink/netlink/diag";
 * const line = (s: PacketSocket) => `${s.type} proto 0x${s.protocol.toString(16)} if ${s.info?.index}`;
 * ```
 */
export interface PacketSocket {
  /** "raw" (link-layer header included) or "dgram" (cooked). */
  type: SocketType;
  /** The Ethernet protocol it receives (host order: 0x0003 is ETH_P_ALL), 0 for none yet. */
  protocol: number;
  /** The socket's inode. */
  inode: number;
  /** The kernel's unique socket cookie: a number, exact up to 2^53 (as InetSocket's). */
  cookie: number;
  /** Interface index it is bound to (0: all), TPACKET version, flags (PDI_*). */
  info?: PacketInfo;
  /** Multicast memberships (PACKET_ADD_MEMBERSHIP). */
  multicast?: PacketMulticast[];
  /** The receive ring (PACKET_RX_RING), if set up. */
  rxRing?: PacketRing;
  /** The transmit ring (PACKET_TX_RING), if set up. */
  txRing?: PacketRing;
  /** PACKET_FANOUT: group id in the low 16 bits, mode and flags above. */
  fanout?: number;
  /** The owner's uid. */
  uid?: number;
  /** Memory counters. */
  memory?: SocketMemory;
  /** The attached classic BPF filter (SO_ATTACH_FILTER); needs CAP_NET_ADMIN. */
  filter?: BpfInstruction[];
}

/**
 * The payload of a packet_diag dump request (struct packet_diag_req) asking for everything.
 *
 * @example
 * ```ts
 * import { encodePacketRequest } from "@netlink/netlink/diag";
 * console.log(encodePacketRequest()[0]); // 17 (AF_PACKET)
 * ```
 */
export function encodePacketRequest(): Uint8Array {
  const payload = new Uint8Array(SIZEOF_PACKET_DIAG_REQ);
  const view = new DataView(payload.buffer);
  view.setUint8(OFFSETOF_PACKET_DIAG_REQ_SDIAG_FAMILY, AF_PACKET);
  view.setUint32(
    OFFSETOF_PACKET_DIAG_REQ_PDIAG_SHOW,
    PACKET_SHOW_INFO | PACKET_SHOW_MCLIST | PACKET_SHOW_RING_CFG | PACKET_SHOW_FANOUT
      | PACKET_SHOW_MEMINFO | PACKET_SHOW_FILTER,
    HOST_LITTLE_ENDIAN,
  );
  return payload;
}

/**
 * Decodes one packet_diag reply payload. Throws MalformedMessageError when truncated.
 *
 * @example
 * ```ts
 * import { decodePacketSocket } from "@netlink/netlink/diag";
 * const msg = new Uint8Array(16);
 * msg.set([17, 3, 3, 0]); // AF_PACKET, SOCK_RAW, ETH_P_ALL
 * console.log(decodePacketSocket(msg).protocol); // 3
 * ```
 */
export function decodePacketSocket(payload: Uint8Array): PacketSocket {
  checkLength(payload, SIZEOF_PACKET_DIAG_MSG, "packet_diag_msg");
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const socket: PacketSocket = {
    type: socketTypeName(view.getUint8(OFFSETOF_PACKET_DIAG_MSG_PDIAG_TYPE)),
    protocol: view.getUint16(OFFSETOF_PACKET_DIAG_MSG_PDIAG_NUM, HOST_LITTLE_ENDIAN),
    inode: view.getUint32(OFFSETOF_PACKET_DIAG_MSG_PDIAG_INO, HOST_LITTLE_ENDIAN),
    cookie: readCookie(view, OFFSETOF_PACKET_DIAG_MSG_PDIAG_COOKIE),
  };
  const attrs = new AttributeDecoder(payload, SIZEOF_PACKET_DIAG_MSG);
  while (attrs.next()) {
    switch (attrs.type) {
      case PACKET_DIAG_INFO:
        socket.info = decodeStruct(PACKET_DIAG_INFO_LAYOUT, attrs.bytes());
        break;
      case PACKET_DIAG_MCLIST:
        socket.multicast = decodeStructs(PACKET_DIAG_MCLIST_LAYOUT, attrs.bytes());
        break;
      case PACKET_DIAG_RX_RING:
        socket.rxRing = decodeStruct(PACKET_DIAG_RING_LAYOUT, attrs.bytes());
        break;
      case PACKET_DIAG_TX_RING:
        socket.txRing = decodeStruct(PACKET_DIAG_RING_LAYOUT, attrs.bytes());
        break;
      case PACKET_DIAG_FANOUT:
        socket.fanout = attrs.u32();
        break;
      case PACKET_DIAG_UID:
        socket.uid = attrs.u32();
        break;
      case PACKET_DIAG_MEMINFO:
        socket.memory = decodeSocketMemory(attrs.bytes());
        break;
      case PACKET_DIAG_FILTER:
        socket.filter = decodeStructs(SOCK_FILTER_LAYOUT, attrs.bytes());
        break;
    }
  }
  return socket;
}

/**
 * Streams the packet sockets. See {@linkcode packetSockets}.
 *
 * @example
 * ```ts
 * import { packetSocketStream } from "@netlink/netlink/diag";
 * for await (const s of packetSocketStream()) console.log(s.inode);
 * ```
 */
export async function* packetSocketStream(options: DiagOptions = {}): AsyncGenerator<PacketSocket> {
  options = checkOptions("packet query", options, DIAG_KEYS);
  for await (
    const message of dumpAll(options, [encodePacketRequest()], "packet", "af_packet_diag")
  ) {
    yield decodePacketSocket(message.payload);
  }
}

/**
 * Lists the packet sockets (`ss -0 -a`). A kernel without af_packet_diag rejects with a
 * NetlinkError "ENOENT" that says so.
 *
 * @example
 * ```ts
 * import { packetSockets } from "@netlink/netlink/diag";
 * console.log((await packetSockets()).length);
 * ```
 */
export function packetSockets(options: DiagOptions = {}): Promise<PacketSocket[]> {
  return listed(options, (o) => checkOptions("packet query", o, DIAG_KEYS), packetSocketStream);
}
