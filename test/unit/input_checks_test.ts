// Small input checks: each a TypeError naming the argument, before any system call (they were
// `[]`, a RangeError about a length, an extra key taken, "empty datagram" for a detached buffer).

import assert from "node:assert/strict";
import { test } from "node:test";
import { MessageCursor } from "../../src/cursor.ts";
import { decodeDatagram, encodeMessage } from "../../src/message.ts";
import { fakeSocket } from "./_fake.ts";

test("decodeDatagram: data that is no Uint8Array is a TypeError naming it, not []", () => {
  for (const data of ["x", [16, 0, 0, 0], new ArrayBuffer(16), undefined]) {
    assert.throws(
      () => decodeDatagram({ data, sender: 0, group: 0 } as never),
      (e) =>
        e instanceof TypeError
        && /^decodeDatagram\(\): datagram\.data must be a Uint8Array/.test(e.message),
      String(data),
    );
  }
  assert.deepEqual(decodeDatagram({ data: new Uint8Array(0), sender: 0, group: 0 }), []);
  const data = encodeMessage({
    type: 0x10,
    flags: 0,
    seq: 1,
    portid: 0,
    payload: new Uint8Array(),
  });
  assert.equal(decodeDatagram({ data, sender: 0, group: 0 }).length, 1);
});

test("MessageCursor.reset: data that is no Uint8Array is a TypeError, a bad length a RangeError", () => {
  const c = new MessageCursor();
  assert.throws(
    () => c.reset("x" as never),
    (e) =>
      e instanceof TypeError && /reset\(\): data must be a Uint8Array, got "x"/.test(e.message),
  );
  assert.throws(() => c.reset("x" as never, 0), TypeError);
  assert.throws(() => c.reset(new Uint8Array(4), 5), RangeError);
});

test("attachFilter: an instruction with a key it does not have is refused, naming it, before any call", async () => {
  const { sock, t } = await fakeSocket();
  const before = t.filter;
  assert.throws(
    () => sock.attachFilter([{ code: 0x06, jt: 0, jf: 0, k: 0, kk: 1 } as never]),
    (e) => e instanceof TypeError && /filter instruction 0: unknown option "kk"/.test(e.message),
  );
  assert.equal(t.filter, before, "nothing attached");
  sock.attachFilter([{ code: 0x06, jt: 0, jf: 0, k: 0xffff_ffff }]);
  sock.close();
});

test("send(): a message whose buffer is detached says so, not \"empty datagram\"", async () => {
  const { sock } = await fakeSocket();
  const data = encodeMessage({
    type: 0x10,
    flags: 0,
    seq: 1,
    portid: 0,
    payload: new Uint8Array(),
  });
  const buffer = data.buffer as ArrayBuffer;
  structuredClone(buffer, { transfer: [buffer] });
  assert.throws(() => sock.send(data), (e) => e instanceof TypeError && /detached/.test(e.message));
  assert.throws(
    () => sock.send(new Uint8Array(0)),
    (e) => e instanceof RangeError && /empty datagram/.test(e.message),
  );
  sock.close();
});
