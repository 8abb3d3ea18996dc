// onMalformed on the real kernel: another process multicasts garbage on a NETLINK_USERSOCK group
// (in a namespace of its own: the host's groups are shared by every process on it), and every
// way of reading the stream hands it over and goes on.

import assert from "node:assert/strict";
import { test } from "node:test";
import { NETLINK_USERSOCK } from "../../src/constants.ts";
import { MalformedMessageError } from "../../src/errors.ts";
import { open } from "../../src/open.ts";
import type { ReceivedDatagram } from "../../src/socket.ts";
import { Netns } from "./_netns.ts";

/** A message carrying `index` (u32). */
const indexed = (index: number) => ({
  type: 0x10,
  payload: new Uint8Array(new Uint32Array([index]).buffer),
});
/** Not netlink messages: a header whose nlmsg_len (0) is below the header's size. */
const GARBAGE = new Uint8Array(20);

for (const mode of ["messages", "batches", "listen", "cursor"] as const) {
  test(`${mode}({ onMalformed }): a peer's multicast garbage is handed over with its sender, and the stream goes on`, async () => {
    using ns = new Netns();
    await using sock = await open(NETLINK_USERSOCK, { netns: ns.name, groups: [3] });
    await using peer = await open(NETLINK_USERSOCK, { netns: ns.name });
    const skipped: { error: unknown; datagram: ReceivedDatagram }[] = [];
    const signal = AbortSignal.timeout(5_000);
    const options = {
      signal,
      onMalformed: (error: MalformedMessageError, datagram: ReceivedDatagram) =>
        void skipped.push({ error, datagram }),
    };
    peer.send(indexed(1), { group: 3 });
    peer.send(GARBAGE, { group: 3 });
    peer.send(indexed(2), { group: 3 });
    peer.send(GARBAGE, { group: 3 });
    peer.send(indexed(3), { group: 3 });
    const got: number[] = [];
    const index = (payload: Uint8Array) =>
      new DataView(payload.buffer, payload.byteOffset).getUint32(0, true);
    if (mode === "messages") {
      for await (const m of sock.messages(options)) if (got.push(index(m.payload)) === 3) break;
    } else if (mode === "batches") {
      for await (const run of sock.batches(options)) {
        for (const m of run) got.push(index(m.payload));
        if (got.length >= 3) break;
      }
    } else if (mode === "listen") {
      const controller = new AbortController();
      await sock.listen((m) => {
        if (got.push(index(m.payload)) === 3) controller.abort();
      }, { ...options, signal: AbortSignal.any([signal, controller.signal]) }).catch((err) => {
        if (!controller.signal.aborted) throw err;
      });
    } else {
      for await (const c of sock.cursor(options)) {
        while (c.next()) got.push(c.view.getUint32(c.byteOffset + c.payloadOffset, true));
        if (got.length >= 3) break;
      }
    }
    assert.deepEqual(got, [1, 2, 3]);
    assert.equal(skipped.length, 2);
    for (const { error, datagram } of skipped) {
      assert.ok(error instanceof MalformedMessageError, String(error));
      assert.match(error.message, /nlmsg_len 0 is shorter than the 16-byte header/);
      assert.equal(datagram.sender, peer.portid);
      assert.equal(datagram.group, 3);
      assert.deepEqual(datagram.data, GARBAGE);
    }
  });
}
