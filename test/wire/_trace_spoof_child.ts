// Run by debug_test.ts with NETLINK_DEBUG=1: another socket (as another process would) sends
// this one an nlctrl NEWFAMILY naming ethtool's id "spoofed"; then a request to ethtool is traced.
// Prints "done" on stdout at the end.

import { AttributeEncoder } from "../../src/attribute.ts";
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_CMD_NEWFAMILY,
  GENL_ID_CTRL,
  NETLINK_GENERIC,
} from "../../src/constants.ts";
import { encodeGeneric, resolveFamily } from "../../src/genl.ts";
import { open } from "../../src/open.ts";

await using sock = await open(NETLINK_GENERIC);
await using peer = await open(NETLINK_GENERIC);
const ethtool = await resolveFamily(sock, "ethtool");
const spoof = new AttributeEncoder().string(CTRL_ATTR_FAMILY_NAME, "spoofed")
  .u16(CTRL_ATTR_FAMILY_ID, ethtool.id).finish();
peer.send({ type: GENL_ID_CTRL, flags: 0, payload: encodeGeneric(CTRL_CMD_NEWFAMILY, 2, spoof) }, {
  portid: sock.portid,
});
const messages = sock.messages();
await messages.next(); // the spoof, received
await messages.return!();
console.error("-- spoofed --");
// ETHTOOL_MSG_STRSET_GET without its header: refused, but traced under the family's name.
await sock.request({ type: ethtool.id, payload: encodeGeneric(1, 1) }).catch(() => {});
console.log("done");
