/**
 * Socket types by name, shared by the unix, netlink and packet listings.
 *
 * @module
 */

import { SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET, SOCK_STREAM } from "./_constants.ts";

/**
 * A socket type by name (`socket(2)`'s SOCK_*), or `type-N` for one this library does not know.
 *
 * @example
 * ```ts
 * import type { SocketType } from "@netlink/netlink/diag";
 * const type: SocketType = "stream";
 * ```
 */
export type SocketType = "stream" | "dgram" | "raw" | "seqpacket" | `type-${number}`;

const TYPES = new Map<number, SocketType>([
  [SOCK_STREAM, "stream"],
  [SOCK_DGRAM, "dgram"],
  [SOCK_RAW, "raw"],
  [SOCK_SEQPACKET, "seqpacket"],
]);

/** The name of a SOCK_* number. */
export function socketTypeName(type: number): SocketType {
  return TYPES.get(type) ?? `type-${type}`;
}
