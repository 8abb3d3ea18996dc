// Run by debug_test.ts with NETLINK_DEBUG set: one rtnetlink request and one generic netlink
// family lookup, traced to stderr by the library itself. Prints "done" on stdout at the end.

import { NETLINK_GENERIC, NETLINK_ROUTE, RTM_GETLINK } from "../../src/constants.ts";
import { resolveFamily } from "../../src/genl.ts";
import { open } from "../../src/open.ts";

const ifinfomsg = new Uint8Array(16);
new DataView(ifinfomsg.buffer).setInt32(4, 1, true); // ifi_index 1: lo
{
  await using route = await open(NETLINK_ROUTE);
  await route.request({ type: RTM_GETLINK, payload: ifinfomsg });
}
console.error("-- between --"); // the trace must be in order with the program's own output
{
  await using generic = await open(NETLINK_GENERIC);
  await resolveFamily(generic, "nlctrl");
}
console.log("done");
