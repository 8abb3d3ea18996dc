// A typed monitor's per-event code is listed for a runtime that asks to optimize it
// (src/_per_event.ts, ffi/_bun_jit.ts), as the socket's is: the family's and the codec's methods,
// each operation's message decoder and the decoders generated for its attribute sets.

import assert from "node:assert/strict";
import { test } from "node:test";
import { listPerEventCode, stopPerEventCode, wantPerEventCode } from "../../src/_per_event.ts";
import { AttributeEncoder } from "../../src/attribute.ts";
import { encodeGeneric } from "../../src/genl.ts";
import { Codec } from "../../src/ynl/_compile.ts";
import { messageDecoder } from "../../src/ynl/_decode.ts";
import { NetlinkFamily } from "../../src/ynl/family.ts";
import { netdev } from "../../src/ynl/netdev.ts";

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
