/**
 * sock_diag (NETLINK_SOCK_DIAG): the sockets `ss` shows. TCP, UDP, raw and MPTCP sockets over
 * IPv4 and IPv6 with tcp_info and memory, filtered by state and by the kernel's bytecode; unix sockets with paths, peers and pending connections; netlink sockets
 * with their groups; packet sockets; and which processes hold them.
 *
 * @example
 * ```ts
 * import { inetSockets } from "@netlink/netlink/diag";
 * // ss -tn state established '( dport = :443 or sport = :443 )'
 * const sockets = await inetSockets({
 *   protocol: "tcp",
 *   states: ["established"],
 *   filter: { any: [{ dport: 443 }, { sport: 443 }] },
 * });
 * for (const s of sockets) {
 *   console.log(`${s.local.address}:${s.local.port} -> ${s.peer.address}:${s.peer.port}`);
 * }
 * ```
 *
 * @module
 */

export type {
  BpfInstruction,
  InetMemInfo,
  PacketInfo,
  PacketMulticast,
  PacketRing,
  TcpBbrInfo,
  TcpDctcpInfo,
  TcpInfo,
  TcpVegasInfo,
  UnixVfs,
} from "./_constants.ts";
// The numbers a hand-made sock_diag request needs (see decodeInetSocket's example).
export {
  IPPROTO_MPTCP,
  IPPROTO_RAW,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SOCK_DIAG_BY_FAMILY,
} from "./_constants.ts";
export type { SocketMemory } from "./_meminfo.ts";
export type { SocketType } from "./_names.ts";
export type { DiagOptions } from "./_query.ts";
export * from "./bytecode.ts";
export * from "./inet.ts";
export * from "./netlink.ts";
export * from "./owners.ts";
export * from "./packet.ts";
export * from "./states.ts";
export * from "./unix.ts";
