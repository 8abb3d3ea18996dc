/**
 * Where a monitor's call falls in its socket's stream: changes made before the call are not its
 * events, yet the socket may hold some (a previous monitor's, read ahead or still in the
 * kernel's queue). A request sent before the groups are joined is answered behind them all.
 * One marker per socket, whichever monitors run on it (the route client's, the typed layer's):
 * they share its stream, and any of them may read the marker's ack.
 *
 * @module
 */

import {
  NETLINK_GENERIC,
  NETLINK_NETFILTER,
  NETLINK_NO_ENOBUFS,
  NETLINK_ROUTE,
  NLM_F_ACK,
  NLM_F_REQUEST,
  NLMSG_NOOP,
  SOL_NETLINK,
} from "./_constants.ts";
import type { NetlinkSocket } from "./socket.ts";

/** The protocols whose kernel input acks an NLMSG_NOOP with NLM_F_ACK (netlink_rcv_skb()). */
const ACKS_NOOP = new Set([NETLINK_ROUTE, NETLINK_GENERIC, NETLINK_NETFILTER]);

/**
 * Sends an NLMSG_NOOP with NLM_F_ACK, which every protocol's netlink_rcv_skb() acks, running
 * nothing (rtnetlink, generic netlink, nfnetlink): its ack, to the socket's port, queues behind
 * every message already queued. Its sequence number, or undefined when it could not be sent
 * (nothing is skipped then). Only on NETLINK_ROUTE, GENERIC and NETFILTER sockets; not on a socket
 * with NETLINK_NO_ENOBUFS: the ack may be dropped there (a full receive buffer) without the overrun
 * that says so, and the monitor would skip for good.
 */
function sendMarker(socket: NetlinkSocket): number | undefined {
  // Only where the kernel's input is netlink_rcv_skb(), which acks a NOOP: a unit served by
  // another module (a user's, reading each skb itself) may never answer, and nothing would end
  // the skipping.
  if (!ACKS_NOOP.has(socket.protocol)) return undefined;
  try {
    if (socket.getOption(SOL_NETLINK, NETLINK_NO_ENOBUFS) !== 0) return undefined;
    return socket.send({ type: NLMSG_NOOP, flags: NLM_F_REQUEST | NLM_F_ACK });
  } catch {
    return undefined;
  }
}

/** Per socket, the marker whose ack its monitors skip up to, until one of them reads it. */
const pending = new WeakMap<NetlinkSocket, number>();
/** Per socket, how many monitors run on it (started, not yet ended), route and typed alike. */
const running = new WeakMap<NetlinkSocket, number>();

/**
 * A monitor starts on `socket`, before it joins its groups: the marker it skips up to, or
 * undefined (it skips nothing). One started while another's marker is pending skips up to that
 * one too; one started while another monitor runs (none pending) sends none: the socket holds
 * nothing from before its call that the running one would not have taken. Two markers would
 * each be read by either monitor, and one whose ack the other read and dropped skipped every
 * event for good. {@linkcode monitorEnds} once it ends.
 */
export function monitorStarts(socket: NetlinkSocket): number | undefined {
  let marker = pending.get(socket);
  if (marker === undefined && (running.get(socket) ?? 0) === 0) {
    marker = sendMarker(socket);
    if (marker !== undefined) pending.set(socket, marker);
  }
  running.set(socket, (running.get(socket) ?? 0) + 1);
  return marker;
}

/** A monitor {@linkcode monitorStarts} started has ended (once). */
export function monitorEnds(socket: NetlinkSocket): void {
  const left = running.get(socket)! - 1;
  running.set(socket, left);
  // An ack no monitor is left to read may never be read: the next monitor sends its own.
  if (left === 0) pending.delete(socket);
}

/**
 * Whether a monitor skipping up to `marker` (what {@linkcode monitorStarts} gave it) skips
 * `message`, sent before its call: not once any monitor on the socket has read the marker's ack,
 * nor the ack itself or the socket's marker of an overrun, which may have dropped it (they end
 * the skipping, and are no event: the overrun is the monitor's to report).
 */
export function skips(
  socket: NetlinkSocket,
  message: { seq: number; sender: number; group: number; overrun?: true },
  marker: number | undefined,
): boolean {
  if (marker === undefined || pending.get(socket) !== marker) return false;
  if (endsSkipping(message, marker)) {
    pending.delete(socket);
    return false;
  }
  return true;
}

/**
 * Whether `message` ends the skipping up to marker `seq`: the marker's ack (the kernel's, to the
 * port), or the socket's marker of an overrun, which may have dropped it (not a message of
 * type NLMSG_OVERRUN another process sent: it has no `overrun`).
 */
function endsSkipping(
  message: { seq: number; sender: number; group: number; overrun?: true },
  seq: number | undefined,
): boolean {
  return (message.seq === seq && message.sender === 0 && message.group === 0)
    || message.overrun === true;
}
