// The netlink protocols the library names: each number's constant (NETLINK_USERSOCK) for
// messages, and the short name format's protocolName() gives ("usersock"). Internal.

import {
  NETLINK_AUDIT,
  NETLINK_CONNECTOR,
  NETLINK_CRYPTO,
  NETLINK_FIB_LOOKUP,
  NETLINK_GENERIC,
  NETLINK_KOBJECT_UEVENT,
  NETLINK_NETFILTER,
  NETLINK_NFLOG,
  NETLINK_RDMA,
  NETLINK_ROUTE,
  NETLINK_SCSITRANSPORT,
  NETLINK_SELINUX,
  NETLINK_SMC,
  NETLINK_SOCK_DIAG,
  NETLINK_USERSOCK,
  NETLINK_XFRM,
} from "./_constants.ts";

/** Each protocol's constant, without its NETLINK_, and its short name when that differs. */
const NAMES: [number, string, string?][] = [
  [NETLINK_ROUTE, "ROUTE"],
  [NETLINK_USERSOCK, "USERSOCK"],
  [NETLINK_SOCK_DIAG, "SOCK_DIAG"],
  [NETLINK_NFLOG, "NFLOG"],
  [NETLINK_XFRM, "XFRM"],
  [NETLINK_SELINUX, "SELINUX"],
  [NETLINK_AUDIT, "AUDIT"],
  [NETLINK_FIB_LOOKUP, "FIB_LOOKUP"],
  [NETLINK_CONNECTOR, "CONNECTOR"],
  [NETLINK_NETFILTER, "NETFILTER"],
  [NETLINK_KOBJECT_UEVENT, "KOBJECT_UEVENT", "uevent"],
  [NETLINK_GENERIC, "GENERIC"],
  [NETLINK_SCSITRANSPORT, "SCSITRANSPORT"],
  [NETLINK_RDMA, "RDMA"],
  [NETLINK_CRYPTO, "CRYPTO"],
  [NETLINK_SMC, "SMC"],
];

/** Short names by number ("route", "sock_diag", "uevent"). */
export const PROTOCOL_NAMES: ReadonlyMap<number, string> = new Map(
  NAMES.map(([value, name, short]) => [value, short ?? name.toLowerCase()]),
);

const CONSTANTS = new Map(NAMES.map(([value, name]) => [value, `NETLINK_${name}`]));

/** A protocol as a message names it: its constant ("NETLINK_USERSOCK"), or "protocol 99". */
export function protocolText(protocol: number): string {
  return CONSTANTS.get(protocol) ?? `protocol ${protocol}`;
}
