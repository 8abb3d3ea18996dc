// Minimal rtnetlink decoding for the integration tests, written against the raw codec.
// Struct layouts follow <linux/rtnetlink.h>: ifinfomsg (16 bytes), ifaddrmsg (8), rtmsg (12).

import { AttributeDecoder, AttributeEncoder } from "../../src/attribute.ts";
import {
  AF_INET,
  IFA_ADDRESS,
  IFA_LOCAL,
  IFLA_IFNAME,
  IFLA_MTU,
  RTA_DST,
  RTA_OIF,
  RTA_TABLE,
} from "../../src/constants.ts";
import type { Message } from "../../src/message.ts";
import { formatIp } from "../_format.ts";

const IFINFOMSG_SIZE = 16;
const IFADDRMSG_SIZE = 8;
const RTMSG_SIZE = 12;

/** struct ifinfomsg { u8 family, pad; u16 type; i32 index; u32 flags, change; } */
export function ifinfomsg(
  fields: { family?: number; index?: number; flags?: number; change?: number } = {},
): Uint8Array {
  const b = new Uint8Array(IFINFOMSG_SIZE);
  const v = new DataView(b.buffer);
  v.setUint8(0, fields.family ?? 0);
  v.setInt32(4, fields.index ?? 0, true);
  v.setUint32(8, fields.flags ?? 0, true);
  v.setUint32(12, fields.change ?? 0, true);
  return b;
}

function view(msg: Message): DataView {
  return new DataView(msg.payload.buffer, msg.payload.byteOffset, msg.payload.byteLength);
}

export interface Link {
  index: number;
  name: string;
  flags: number;
  mtu: number;
}

export function decodeLink(msg: Message): Link {
  const v = view(msg);
  const link: Link = { index: v.getInt32(4, true), flags: v.getUint32(8, true), name: "", mtu: 0 };
  const ad = new AttributeDecoder(msg.payload.subarray(IFINFOMSG_SIZE));
  while (ad.next()) {
    if (ad.type === IFLA_IFNAME) link.name = ad.string();
    else if (ad.type === IFLA_MTU) link.mtu = ad.u32();
  }
  return link;
}

export interface Address {
  family: number;
  prefixlen: number;
  index: number;
  address: string;
}

export function decodeAddress(msg: Message): Address {
  const v = view(msg);
  const family = v.getUint8(0);
  const addr: Address = {
    family,
    prefixlen: v.getUint8(1),
    index: v.getUint32(4, true),
    address: "",
  };
  const ad = new AttributeDecoder(msg.payload.subarray(IFADDRMSG_SIZE));
  let local = "";
  while (ad.next()) {
    if (ad.type === IFA_ADDRESS) addr.address = formatIp(ad.bytes());
    else if (ad.type === IFA_LOCAL) local = formatIp(ad.bytes());
  }
  // IFA_LOCAL is the interface's own address on point-to-point links; ip shows it as "local".
  if (local) addr.address = local;
  return addr;
}

export interface Route {
  family: number;
  dstLen: number;
  table: number;
  type: number;
  dst: string;
  oif: number;
}

export function decodeRoute(msg: Message): Route {
  const v = view(msg);
  const family = v.getUint8(0);
  const route: Route = {
    family,
    dstLen: v.getUint8(1),
    table: v.getUint8(4),
    type: v.getUint8(7),
    dst: "",
    oif: 0,
  };
  const ad = new AttributeDecoder(msg.payload.subarray(RTMSG_SIZE));
  while (ad.next()) {
    if (ad.type === RTA_DST) route.dst = formatIp(ad.bytes());
    else if (ad.type === RTA_TABLE) route.table = ad.u32();
    else if (ad.type === RTA_OIF) route.oif = ad.u32();
  }
  return route;
}

/** struct rtmsg with just the family set: a dump of every route of that family. */
export function rtmsg(family: number): Uint8Array {
  const b = new Uint8Array(RTMSG_SIZE);
  b[0] = family;
  return b;
}

/** struct ifaddrmsg with just the family set. */
export function ifaddrmsg(family: number): Uint8Array {
  const b = new Uint8Array(IFADDRMSG_SIZE);
  b[0] = family;
  return b;
}

/** struct ifaddrmsg for 192.0.2.`last`/24 on lo, with IFA_LOCAL and IFA_ADDRESS. */
export function loAddress(last: number): Uint8Array {
  const ifaddrmsg = new Uint8Array(8);
  ifaddrmsg[0] = AF_INET;
  ifaddrmsg[1] = 24;
  new DataView(ifaddrmsg.buffer).setUint32(4, 1, true); // lo
  const address = Uint8Array.of(192, 0, 2, last);
  const attrs = new AttributeEncoder().bytes(IFA_LOCAL, address).bytes(IFA_ADDRESS, address)
    .finish();
  const payload = new Uint8Array(ifaddrmsg.length + attrs.length);
  payload.set(ifaddrmsg);
  payload.set(attrs, ifaddrmsg.length);
  return payload;
}
