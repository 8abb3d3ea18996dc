// The checks of per_event_test.ts that need the process-wide state of src/_per_event.ts as a
// fresh process has it (no runtime has asked for the list, no cap applied): run by it in a child
// process of the same runtime, one check per run, named by the first argument. Not a test file.

import assert from "node:assert/strict";
import process from "node:process";
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

const CHECKS: Record<string, () => void> = {
  listing() {
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
  },
  cap() {
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
  },
};

CHECKS[process.argv[2]]();
console.log("ok");
