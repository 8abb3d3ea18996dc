// src/_per_event.ts: the list of per-event code a runtime may ask to optimize (ffi/_bun_jit.ts).
// Nothing is kept unless a runtime wants the list, closures only weakly, and nothing once it is done.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  capPerEventCode,
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

test("per-event code: a runtime's cap is applied to what is listed, before and after it", () => {
  // Process-wide from here on, as a runtime's is: the cap only records, weakly.
  const capped = new WeakSet<object>();
  class Before {
    run(): void {}
  }
  perEventCode(() => methodsOf(Before.prototype));
  capPerEventCode((f) => capped.add(f));
  assert.ok(capped.has(Before.prototype.run), "listed before: capped at once");
  assert.ok(capped.has(decodeDatagram), "a module's functions too");
  class After {
    run(): void {}
  }
  perEventCode(() => methodsOf(After.prototype));
  assert.ok(capped.has(After.prototype.run), "a module registered later: as it registers");
  // Closures are capped as they are listed, whether or not a runtime wants the list now.
  const closure = () => 1;
  perEventClosures(closure, "not a function");
  assert.ok(capped.has(closure));
  assert.ok(!listPerEventCode().includes(closure), "and not kept for it");
});
