/**
 * Where a datagram dropped as too long for the receive buffer came from. A transport's EMSGSIZE
 * (see `Transport.receive`) says it when it knows: the kernel fills in the source address and
 * NETLINK_PKTINFO even for a datagram it truncates, so only the requests that datagram could
 * have answered fail, not every request in flight.
 *
 * @module
 */

import type { SyscallError } from "./errors.ts";

/** The source of a dropped datagram: its sender's port ID (0: the kernel) and group (0: unicast). */
export interface DroppedSource {
  readonly sender: number;
  readonly group: number;
}

/** Marks `error` (an EMSGSIZE for a dropped datagram) with the datagram's source; returns it. */
export function withDroppedSource(error: SyscallError, source: DroppedSource): SyscallError {
  return Object.assign(error, { sender: source.sender, group: source.group });
}

/** The source marked on `error` by {@linkcode withDroppedSource}, or undefined if unknown. */
export function droppedSource(error: unknown): DroppedSource | undefined {
  const { sender, group } = error as Partial<DroppedSource>;
  return typeof sender === "number" && typeof group === "number" ? { sender, group } : undefined;
}
