// The everyday API against a faulty module: a reply from the kernel that is no netlink message
// fails the request at once, saying what is malformed, where it waited forever for an NLMSG_DONE
// that never came (a list() has no timeout unless given one).

import assert from "node:assert/strict";
import { test } from "node:test";
import { NETLINK_ROUTE, RTM_GETLINK, RTM_NEWLINK } from "../../src/constants.ts";
import { MalformedMessageError } from "../../src/errors.ts";
import { encodeMessages } from "../../src/message.ts";
import { open } from "../../src/open.ts";
import { openRoute } from "../../src/route/mod.ts";
import { FakeKernel } from "../../src/testing/mod.ts";

test("link.list(): a malformed dump datagram from the kernel, and no NLMSG_DONE, rejects at once with MalformedMessageError", async () => {
  const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_GETLINK, (request, socket) => {
    // A part whose header claims more bytes than the datagram holds; then nothing.
    const part = { type: RTM_NEWLINK, flags: 2, seq: request.seq, portid: socket.portid };
    const bytes = encodeMessages([{ ...part, payload: new Uint8Array(16) }]);
    new DataView(bytes.buffer).setUint32(0, bytes.length + 8, true);
    socket.deliver(bytes);
    return { silent: true };
  });
  await using socket = await open(NETLINK_ROUTE, { transport: kernel.open });
  const ip = await openRoute({ socket });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise((resolve) => timer = setTimeout(() => resolve("hung"), 5_000));
  const outcome = await Promise.race([ip.link.list().catch((e: unknown) => e), hung]);
  clearTimeout(timer);
  assert.ok(outcome instanceof MalformedMessageError, String(outcome));
  assert.match(outcome.message, /nlmsg_len 40 runs past the end of the datagram \(32 bytes left\)/);
});
