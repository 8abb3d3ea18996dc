// A NETLINK_USERSOCK server written with the protocol layer's ack encoders, as a user-defined
// unit's peer would be: its acks, errors with extended ack and dump ends are what a client's
// request() and dump() take, on the host kernel.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ackMessage,
  doneMessage,
  NETLINK_USERSOCK,
  NetlinkError,
  NLM_F_DUMP,
  NLM_F_MULTI,
  open,
} from "../../mod.ts";
import * as testing from "../../src/testing/mod.ts";

test("ackMessage / doneMessage from @netlink/netlink: a USERSOCK server's ack, error (extended ack) and dump end", async () => {
  await using server = await open(NETLINK_USERSOCK);
  await using client = await open(NETLINK_USERSOCK);
  const served = (async () => {
    for await (const msg of server) {
      if (msg.type === 0x10) server.send(ackMessage(msg), { portid: msg.sender });
      else if (msg.type === 0x11) {
        const refused = ackMessage(msg, 95, { message: "not served here", offset: 20 });
        server.send(refused, { portid: msg.sender });
      } else if (msg.type === 0x12) {
        for (const n of [1, 2, 3]) {
          const part = { type: 0x13, flags: NLM_F_MULTI, seq: msg.seq, payload: Uint8Array.of(n) };
          server.send(part, { portid: msg.sender });
        }
        server.send(doneMessage(msg), { portid: msg.sender });
      } else if (msg.type === 0x14) {
        server.send(doneMessage(msg, 16, { message: "busy" }), { portid: msg.sender });
        return;
      }
    }
  })();
  const to = server.portid;
  // An ack: the request resolves, with no replies.
  const acked = await client.request({ type: 0x10, payload: new Uint8Array(4) }, { to });
  assert.equal(acked.length, 0);
  assert.equal(acked.ack?.warning, undefined);
  // An error: NetlinkError with the code and the extended ack's text and offset.
  await assert.rejects(
    client.request({ type: 0x11, payload: new Uint8Array(8) }, { to }),
    (err: unknown) => {
      assert.ok(err instanceof NetlinkError, String(err));
      assert.equal(err.code, "EOPNOTSUPP");
      assert.equal(err.detail, "not served here");
      assert.equal(err.offset, 20);
      return true;
    },
  );
  // A dump: its parts, then the end.
  const parts = await client.request({ type: 0x12, flags: NLM_F_DUMP }, { to });
  assert.deepEqual(parts.map((m) => [m.type, m.payload[0]]), [[0x13, 1], [0x13, 2], [0x13, 3]]);
  // A dump ended by an error.
  await assert.rejects(
    client.request({ type: 0x14, flags: NLM_F_DUMP }, { to }),
    /EBUSY.*busy/,
  );
  await served;
});

test("the testing kit's ackMessage / doneMessage are the same functions, not copies", () => {
  assert.equal(testing.ackMessage, ackMessage);
  assert.equal(testing.doneMessage, doneMessage);
});
