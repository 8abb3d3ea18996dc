// Deno without `core.unrefOpPromise` (the pool waiter's requirement, ffi/_pool_waiter.ts): the
// library falls back to the signal waiter, and the whole transport suite runs on it, its child
// processes included (test/_waiters.ts). Deno runs each test file in an isolate of its own, so
// only this file's library is changed. On Bun the main thread's waiter is the signal waiter
// already, which transport_test.ts tests.
import { test } from "node:test";
import { openTransport } from "../../ffi/mod.ts";
import { NETLINK_ROUTE } from "../../src/constants.ts";
import { hideDenoInternals, usesPoolWaiter } from "../_waiters.ts";

if ("Bun" in globalThis) {
  test("the fallback to the signal waiter", { skip: "Bun: transport_test.ts tests it" }, () => {});
} else {
  const show = hideDenoInternals();
  // The library picks its waiter on the thread's first socket.
  openTransport(NETLINK_ROUTE, { portid: 0 }).close();
  show();
  if (usesPoolWaiter()) throw new Error("not hidden");
  await import("./transport_test.ts");
}
