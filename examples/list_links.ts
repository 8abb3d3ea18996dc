// The demo: this machine's links, addresses and IPv4/IPv6 routes, read through NETLINK_ROUTE
// dumps and decoded by hand with the attribute decoder.
//
//   deno run --allow-ffi examples/list_links.ts
//   bun examples/list_links.ts

import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  AttributeDecoder,
  IFA_ADDRESS,
  IFA_LOCAL,
  IFF_UP,
  IFLA_ADDRESS,
  IFLA_IFNAME,
  IFLA_MTU,
  type Message,
  NETLINK_ROUTE,
  NLM_F_DUMP,
  open,
  RT_TABLE_MAIN,
  RTA_DST,
  RTA_GATEWAY,
  RTA_OIF,
  RTA_TABLE,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETROUTE,
} from "../mod.ts";

// Fixed headers from <linux/rtnetlink.h> and <linux/if_addr.h>; only the family is set in
// requests (a dump of everything).
const IFINFOMSG_SIZE = 16; // u8 family, pad; u16 type; i32 index; u32 flags, change
const IFADDRMSG_SIZE = 8; // u8 family, prefixlen, flags, scope; u32 index
const RTMSG_SIZE = 12; // u8 family, dst_len, src_len, tos, table, protocol, scope, type; u32 flags

function header(size: number, family = AF_UNSPEC): Uint8Array {
  const b = new Uint8Array(size);
  b[0] = family;
  return b;
}

function ip(family: number, b: Uint8Array): string {
  if (family === AF_INET) return b.join(".");
  const hex = [];
  for (let i = 0; i < b.length; i += 2) hex.push(((b[i] << 8) | b[i + 1]).toString(16));
  return hex.join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
}

function view(m: Message): DataView {
  return new DataView(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength);
}

await using sock = await open(NETLINK_ROUTE);
const names = new Map<number, string>();

console.log("links:");
for (
  const m of await sock.request({
    type: RTM_GETLINK,
    flags: NLM_F_DUMP,
    payload: header(IFINFOMSG_SIZE),
  })
) {
  const index = view(m).getInt32(4, true);
  const flags = view(m).getUint32(8, true);
  let name = "?", mtu = 0, mac = "";
  for (const a = new AttributeDecoder(m.payload.subarray(IFINFOMSG_SIZE)); a.next();) {
    if (a.type === IFLA_IFNAME) name = a.string();
    else if (a.type === IFLA_MTU) mtu = a.u32();
    else if (a.type === IFLA_ADDRESS) {
      mac = [...a.bytes()].map((x) => x.toString(16).padStart(2, "0")).join(":");
    }
  }
  names.set(index, name);
  console.log(`  ${index}: ${name} mtu ${mtu} ${flags & IFF_UP ? "UP" : "DOWN"} ${mac}`);
}

console.log("addresses:");
for (
  const m of await sock.request({
    type: RTM_GETADDR,
    flags: NLM_F_DUMP,
    payload: header(IFADDRMSG_SIZE),
  })
) {
  const family = m.payload[0], prefixlen = m.payload[1], index = view(m).getUint32(4, true);
  let address = "";
  for (const a = new AttributeDecoder(m.payload.subarray(IFADDRMSG_SIZE)); a.next();) {
    if (a.type === IFA_LOCAL || (a.type === IFA_ADDRESS && !address)) {
      address = ip(family, a.bytes());
    }
  }
  console.log(`  ${names.get(index)}: ${address}/${prefixlen}`);
}

console.log("routes (main table):");
for (const family of [AF_INET, AF_INET6]) {
  for (
    const m of await sock.request({
      type: RTM_GETROUTE,
      flags: NLM_F_DUMP,
      payload: header(RTMSG_SIZE, family),
    })
  ) {
    let table = m.payload[4], dst = "default", gateway = "", oif = 0;
    const dstLen = m.payload[1];
    for (const a = new AttributeDecoder(m.payload.subarray(RTMSG_SIZE)); a.next();) {
      if (a.type === RTA_TABLE) table = a.u32();
      else if (a.type === RTA_DST) dst = `${ip(family, a.bytes())}/${dstLen}`;
      else if (a.type === RTA_GATEWAY) gateway = ` via ${ip(family, a.bytes())}`;
      else if (a.type === RTA_OIF) oif = a.u32();
    }
    if (table === RT_TABLE_MAIN) console.log(`  ${dst}${gateway} dev ${names.get(oif) ?? oif}`);
  }
}
