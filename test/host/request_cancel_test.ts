// requestBatch() on the real kernel: after the first error ends a batch, the answers to its
// other messages are discarded, as the JSDoc says, also the errors of messages sent without
// NLM_F_ACK (the kernel answers those only when they fail). The fake-kernel cases of signal and
// timeout are test/unit/request_cancel_test.ts.

import assert from "node:assert/strict";
import { test } from "node:test";
import { NETLINK_ROUTE, NLM_F_ACK, RTM_DELLINK, RTM_GETLINK } from "../../src/constants.ts";
import { NetlinkError } from "../../src/errors.ts";
import { open } from "../../src/open.ts";
import { assertDomException } from "../_cancel.ts";
import { Netns } from "./_netns.ts";
import { ifinfomsg } from "./_rtnl.ts";

test("requestBatch(): two messages without NLM_F_ACK fail: the first error rejects it, the second is discarded", async () => {
  using ns = new Netns();
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name });
  const batch = [
    { type: RTM_DELLINK, payload: ifinfomsg({ index: 9999 }) },
    { type: RTM_DELLINK, payload: ifinfomsg({ index: 9998 }) },
    { type: RTM_GETLINK, flags: NLM_F_ACK, payload: ifinfomsg({ index: 1 }) },
  ];
  for (let round = 0; round < 3; round++) {
    await assert.rejects(
      sock.requestBatch(batch),
      (err) => err instanceof NetlinkError && err.code === "ENODEV",
    );
  }
  // Nothing of those batches reached the message stream: it stays empty until the timeout.
  await assert.rejects(
    sock.messages({ signal: AbortSignal.timeout(100) }).next(),
    (err) => (assertDomException(err, "TimeoutError"), true),
  );
  // And the socket answers the next request.
  assert.equal((await sock.request(batch[2])).length, 1);
});
