// src/_per_event.ts: the list of per-event code a runtime may ask to optimize (ffi/_bun_jit.ts).
// Nothing is kept unless a runtime wants the list, closures only weakly, and nothing once it is done.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  listPerEventCode,
  methodsOf,
  perEventClosures,
  perEventClosuresOf,
  perEventCode,
  stopPerEventCode,
  wantPerEventCode,
} from "../../src/_per_event.ts";
import { decodeDatagram } from "../../src/message.ts";

test("per-event code: modules' functions are listed, closures only while a runtime wants them", () => {
  const before = () => 1;
  perEventClosures(before);
  perEventClosuresOf({ before }, (o) => [o.before]);
  assert.ok(!listPerEventCode().includes(before), "kept while nobody wanted the list");
  assert.ok(listPerEventCode().includes(decodeDatagram));
  class Example {
    get value(): number {
      return 1;
    }
    run(): void {}
  }
  perEventCode(() => methodsOf(Example.prototype));
  const listed = listPerEventCode();
  assert.ok(listed.includes(Example.prototype.run));
  assert.ok(listed.includes(Object.getOwnPropertyDescriptor(Example.prototype, "value")!.get!));
  assert.ok(!listed.includes(Example as never), "the constructor is not a method");
  wantPerEventCode();
  try {
    const wanted = () => 2;
    const found = () => 4;
    const holder = { found };
    perEventClosures(wanted, "not a function", undefined);
    perEventClosures(wanted);
    perEventClosuresOf(holder, (o) => [o.found]);
    const list = listPerEventCode();
    assert.ok(list.includes(wanted));
    assert.ok(list.includes(found), "found in its instance when asked");
    assert.equal(list.filter((f) => f === wanted).length, 1, "listed once");
  } finally {
    stopPerEventCode();
  }
  const after = () => 3;
  perEventClosures(after);
  perEventClosuresOf({ after }, (o) => [o.after]);
  assert.ok(!listPerEventCode().includes(after), "kept once the runtime was done");
});
