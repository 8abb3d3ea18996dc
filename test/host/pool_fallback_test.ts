// Deno without its pipe handle (the signalfd waiter's requirement, ffi/_signalfd.ts): the library
// falls back to the pool waiter (ffi/_pool_waiter.ts), and the whole transport suite runs on it,
// its child processes included (test/_waiters.ts). Deno runs each test file in an isolate of its
// own, so only this file's library is changed. Bun has no pool waiter.
import { test } from "node:test";
import { openTransport } from "../../ffi/mod.ts";
import { NETLINK_ROUTE } from "../../src/constants.ts";
import { hidePipeHandle, waiterKind } from "../_waiters.ts";

if ("Bun" in globalThis) {
  test("the fallback to the pool waiter", { skip: "Bun has no pool waiter" }, () => {});
} else {
  const show = hidePipeHandle();
  // The library picks its waiter on the thread's first wait.
  const t = openTransport(NETLINK_ROUTE, { portid: 0 });
  const pending = t.wait();
  t.close();
  await pending;
  show();
  if (waiterKind() !== "pool") throw new Error("not hidden");
  await import("./transport_test.ts");
}
