// Watch link events: joins RTNLGRP_LINK and prints each link that appears, changes or goes.
// Stop with Ctrl-C, or pass a number of seconds to stop by itself.
//
//   deno run --allow-ffi examples/watch_links.ts [SECONDS]
//   bun examples/watch_links.ts [SECONDS]

import process from "node:process";
import {
  AttributeDecoder,
  IFF_UP,
  IFLA_IFNAME,
  NETLINK_ROUTE,
  NLMSG_OVERRUN,
  open,
  RTM_DELLINK,
  RTM_NEWLINK,
  RTNLGRP_LINK,
} from "../mod.ts";

const seconds = Number(process.argv[2] ?? Infinity);
const signal = Number.isFinite(seconds) ? AbortSignal.timeout(seconds * 1000) : undefined;

await using sock = await open(NETLINK_ROUTE, { groups: [RTNLGRP_LINK] });
console.log(`watching links (port ${sock.portid})...`);
try {
  for await (const msg of sock.messages({ signal })) {
    if (msg.type === NLMSG_OVERRUN) {
      console.log(`! the kernel dropped events (${sock.overruns} overruns so far)`);
      continue;
    }
    if (msg.type !== RTM_NEWLINK && msg.type !== RTM_DELLINK) continue;
    const view = new DataView(msg.payload.buffer, msg.payload.byteOffset);
    const index = view.getInt32(4, true); // struct ifinfomsg: ifi_index
    const flags = view.getUint32(8, true); // ifi_flags
    let name = "?";
    for (const a = new AttributeDecoder(msg.payload.subarray(16)); a.next();) {
      if (a.type === IFLA_IFNAME) name = a.string();
    }
    const what = msg.type === RTM_DELLINK ? "removed" : flags & IFF_UP ? "up" : "down";
    console.log(`${new Date().toISOString()} link ${index} ${name}: ${what}`);
  }
} catch (err) {
  if (!(err instanceof DOMException && err.name === "TimeoutError")) throw err;
}
