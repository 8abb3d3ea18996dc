/**
 * Where a monitor's call falls in its socket's stream: changes made before the call are not its
 * events, yet the socket may hold some (a previous monitor's, read ahead or still in the
 * kernel's queue). A request sent before the groups are joined is answered behind them all.
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
} from "./constants.ts";
import type { NetlinkSocket } from "./socket.ts";

/** The protocols whose kernel input acks an NLMSG_NOOP with NLM_F_ACK (netlink_rcv_skb()). */
const ACKS_NOOP = new Set([NETLINK_ROUTE, NETLINK_GENERIC, NETLINK_NETFILTER]);

/**
 * Sends an NLMSG_NOOP with NLM_F_ACK, which every protocol's netlink_rcv_skb() acks, running
 * nothing (rtnetlink, generic netlink, nfnetlink): its ack, to the socket's port, queues behind
 * every message already queued. Its sequence number, or undefined when it could not be sent
 * (nothing is skipped then). Only on NETLINK_ROUTE, GENERIC and NETFILTER sockets; not on a socket with NETLINK_NO_ENOBUFS: the ack may be dropped
 * there (a full receive buffer) without the overrun that says so, and the monitor would skip
 * for good.
 */
export function sendMarker(socket: NetlinkSocket): number | undefined {
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

/**
 * Whether `message` ends the skipping up to marker `seq`: the marker's ack (the kernel's, to the
 * port), or the socket's marker of an overrun, which may have dropped it (not a message of
 * type NLMSG_OVERRUN another process sent: it has no `overrun`).
 */
export function endsSkipping(
  message: { seq: number; sender: number; group: number; overrun?: true },
  seq: number | undefined,
): boolean {
  return (message.seq === seq && message.sender === 0 && message.group === 0)
    || message.overrun === true;
}
