// A typed monitor's per-event code is listed for a runtime that asks to optimize it
// (src/_per_event.ts, ffi/_bun_jit.ts), as the socket's is: the family's and the codec's methods,
// each operation's message decoder and the decoders generated for its attribute sets. And its
// step settles where the socket's would, before the rest of the queue is read ahead.

import assert from "node:assert/strict";
import { test } from "node:test";
import { listPerEventCode, stopPerEventCode, wantPerEventCode } from "../../src/_per_event.ts";
import { AttributeEncoder } from "../../src/attribute.ts";
import { NLMSG_ERROR, NLMSG_NOOP, RTM_NEWLINK, RTNLGRP_LINK } from "../../src/constants.ts";
import { encodeGeneric } from "../../src/genl.ts";
import { Codec } from "../../src/ynl/_compile.ts";
import { messageDecoder, readerOf } from "../../src/ynl/_decode.ts";
import { NetlinkFamily } from "../../src/ynl/family.ts";
import { netdev } from "../../src/ynl/netdev.ts";
import { rtLink } from "../../src/ynl/rt_link.ts";
import { fakeSocket, settle } from "../unit/_fake.ts";

test("a typed monitor's decoders are listed as per-event code, made while a runtime wants the list", () => {
  const listed = listPerEventCode();
  assert.ok(listed.includes(NetlinkFamily.prototype.decode));
  assert.ok(listed.includes(Codec.prototype.operationOf));
  wantPerEventCode();
  try {
    const codec = new Codec(netdev); // its own: nothing decoded with it before
    const op = codec.operation("dev-add-ntf");
    const decode = messageDecoder(codec, op);
    const payload = encodeGeneric(2, 1, new AttributeEncoder().u32(1, 7).finish());
    assert.deepEqual(decode(payload), { ifindex: 7 });
    const list = listPerEventCode();
    assert.ok(list.includes(decode) && list.includes(decode.decodeAt), "the message decoder");
    const generated = codec.set(op.set!).decoder;
    assert.ok(generated !== undefined && list.includes(generated), "the set's generated decoder");
  } finally {
    stopPerEventCode();
  }
});

test("a struct's generated constructor is listed as per-event code, not only its reader", () => {
  wantPerEventCode();
  try {
    const codec = new Codec(rtLink); // its own: nothing decoded with it before
    const read = readerOf(codec.struct("rtnl-link-stats64"));
    const list = listPerEventCode();
    assert.ok(list.includes(read), "the reader");
    // Too large to inline into its reader (24 counters): run apart, once per event.
    const made = list.filter((f) => (f as { name?: string }).name === "Struct");
    assert.ok(made.length > 0, "the constructor the reader calls");
    assert.deepEqual(
      Object.keys(read(new Uint8Array(200), new DataView(new ArrayBuffer(200)), 0, 0)).slice(0, 2),
      ["rxPackets", "txPackets"],
    );
  } finally {
    stopPerEventCode();
  }
});

test("a typed monitor lists the decode it runs per notification", async () => {
  const { sock } = await fakeSocket();
  wantPerEventCode();
  try {
    const rt = new NetlinkFamily(rtLink, sock);
    const events = rt.monitor({ groups: ["rtnlgrp-link"] });
    // A private method (the monitor's way past decode()'s checks): found by its name.
    const names = listPerEventCode().map((f) => (f as { name?: string }).name);
    assert.ok(names.includes("#notification"), "the family's notification decode");
    await events.return!();
  } finally {
    stopPerEventCode();
    sock.close();
  }
});

test("typed monitor(): after a wait, its step runs before the rest of the queue is read ahead", async () => {
  // The kernel acks the monitor's marker (an NLMSG_NOOP with NLM_F_ACK) as it acks any.
  const { sock, t } = await fakeSocket({}, (t) => {
    t.script = (m) => {
      if (m.type !== NLMSG_NOOP) return;
      const ack = new Uint8Array(20);
      t.deliver(
        [{ type: NLMSG_ERROR, flags: 0, seq: m.seq, portid: m.portid, payload: ack }],
        0,
        0,
      );
    };
  });
  const rt = new NetlinkFamily(rtLink, sock);
  const events = rt.monitor({ groups: ["rtnlgrp-link"] });
  const step = events.next();
  await settle();
  for (const ifiIndex of [1, 2, 3]) {
    const { type, payload } = rt.encode("newlink", { ifiIndex, ifname: `eth${ifiIndex}` });
    assert.equal(type, RTM_NEWLINK);
    t.deliver([{ type, flags: 0, seq: 0, portid: 0, payload: payload! }], 0, RTNLGRP_LINK);
  }
  const first = (await step).value!;
  assert.equal(first.op, "newlink-ntf");
  assert.equal(first.message.ifname, "eth1");
  // The monitor's step settled in the task that read its datagram, as the socket's own does: its
  // consumer ran first, the other datagrams still queued (a read there costs an event microseconds).
  assert.equal(t.queued, 2, "the other datagrams were read before the monitor's step ran");
  const rest = [(await events.next()).value!, (await events.next()).value!];
  assert.deepEqual(rest.map((e) => e.op === "newlink-ntf" && e.message.ifname), ["eth2", "eth3"]);
  await events.return!();
  sock.close();
});
