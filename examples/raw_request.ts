// A raw request built by hand: RTM_NEWLINK with nested IFLA_LINKINFO attributes, asking the
// kernel for a link kind it does not have, so it answers with an extended-ack error. Then a
// valid request in a throwaway network namespace (root only): a veth pair, created and listed.
//
//   deno run --allow-ffi --allow-read --allow-run --allow-env examples/raw_request.ts
//   bun examples/raw_request.ts

import { execFileSync } from "node:child_process";
import process from "node:process";
import {
  AttributeEncoder,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_LINKINFO,
  NETLINK_ROUTE,
  NetlinkError,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  open,
  RTM_GETLINK,
  RTM_NEWLINK,
  VETH_INFO_PEER,
} from "../mod.ts";

const IFINFOMSG_SIZE = 16; // struct ifinfomsg, all zero: no family, index or flags

function newLink(name: string, kind: string, peer?: string): Uint8Array {
  const attrs = new AttributeEncoder()
    .string(IFLA_IFNAME, name)
    .nested(IFLA_LINKINFO, (info) => {
      info.string(IFLA_INFO_KIND, kind);
      if (peer) {
        // veth's IFLA_INFO_DATA holds VETH_INFO_PEER: another ifinfomsg, then its attributes.
        info.nested(IFLA_INFO_DATA, (data) => {
          const peerAttrs = new AttributeEncoder().string(IFLA_IFNAME, peer).finish();
          const value = new Uint8Array(IFINFOMSG_SIZE + peerAttrs.length);
          value.set(peerAttrs, IFINFOMSG_SIZE);
          data.bytes(VETH_INFO_PEER, value);
        });
      }
    })
    .finish();
  const payload = new Uint8Array(IFINFOMSG_SIZE + attrs.length);
  payload.set(attrs, IFINFOMSG_SIZE);
  return payload;
}

{
  await using sock = await open(NETLINK_ROUTE);
  try {
    await sock.request({
      type: RTM_NEWLINK,
      flags: NLM_F_CREATE | NLM_F_EXCL,
      payload: newLink("demo0", "no-such-kind"),
    });
  } catch (err) {
    if (!(err instanceof NetlinkError)) throw err;
    console.log(`kernel said ${err.code} (errno ${err.errno}): ${err.detail ?? "(no detail)"}`);
  }
}

// A namespace of our own, so nothing on this machine changes.
const ns = `raw-request-demo-${Date.now()}`;
try {
  execFileSync("ip", ["netns", "add", ns]);
} catch (err) {
  console.log(`(skipping the veth part, which needs root and iproute2: ${(err as Error).message})`);
  process.exit(0);
}
try {
  await using sock = await open(NETLINK_ROUTE, { netns: ns });
  await sock.request({
    type: RTM_NEWLINK,
    flags: NLM_F_CREATE | NLM_F_EXCL,
    payload: newLink("demo-a", "veth", "demo-b"),
  });
  const links = await sock.request({
    type: RTM_GETLINK,
    flags: NLM_F_DUMP,
    payload: new Uint8Array(IFINFOMSG_SIZE),
  });
  console.log(`created a veth pair: ${links.length} links in namespace ${ns} now`);
} finally {
  execFileSync("ip", ["netns", "del", ns]);
}
