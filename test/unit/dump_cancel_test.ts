// Cancelling a dump from inside its consumer, on the fake kernel: 40 parts of 1,000 bytes, in
// four datagrams, all read before the consumer's first step ends (a dump's read-ahead is 256
// parts). The same cases run on the real kernel in test/host/dump_cancel_test.ts.

import { NETLINK_ROUTE, RTM_GETLINK, RTM_NEWLINK } from "../../src/constants.ts";
import { cancelCases } from "../_cancel.ts";
import { FakeKernel, fakeSocket } from "./_fake.ts";

const PARTS = 40;

cancelCases("fake kernel", async () => {
  const kernel = new FakeKernel();
  kernel.serve(NETLINK_ROUTE, RTM_GETLINK, () => ({
    messages: Array.from({ length: PARTS }, () => ({
      type: RTM_NEWLINK,
      payload: new Uint8Array(1000),
    })),
  }));
  const { sock } = await fakeSocket({}, () => {}, NETLINK_ROUTE, kernel);
  return {
    sock,
    request: { type: RTM_GETLINK, payload: new Uint8Array(16) },
    parts: PARTS,
    [Symbol.asyncDispose]: () => sock[Symbol.asyncDispose](),
  };
});
