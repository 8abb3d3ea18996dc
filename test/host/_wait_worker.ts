// Loaded as a Worker by transport_test.ts: a wait in a thread other than the main one must wake
// (Bun delivers signals only to the main thread, so its Workers wait another way).
import { openTransport } from "../../ffi/mod.ts";

const post = (message: unknown) =>
  (globalThis as unknown as { postMessage(message: unknown): void }).postMessage(message);
const a = openTransport(0, { portid: 0 });
const b = openTransport(0, { portid: 0 });
// Loading this module can take seconds on a loaded machine; the test times the waits, not that.
post("ready");
const pending = b.wait();
setTimeout(() => a.send(new Uint8Array(16), b.portid, 0), 50);
const woke = await pending;
const data = b.receive()?.data.length;
// A read while a wait is pending, which takes more datagrams than it hands out (with another
// socket waiting): the wait ends, though the kernel's queue is empty.
const c = openTransport(0, { portid: 0 });
const other = c.wait();
const held = b.wait();
for (let i = 0; i < 3; i++) a.send(new Uint8Array(8), b.portid, 0);
b.receive();
const heldWoke = await Promise.race([
  held,
  new Promise((resolve) => setTimeout(() => resolve("timeout"), 1000)),
]);
while (b.receive() !== undefined);
c.close();
await other;
// The sends' signals, still to be handled, would end the next wait "readable" (spuriously).
await new Promise((resolve) => setTimeout(resolve, 50));
const cancelled = b.wait();
setTimeout(() => b.cancelWait(), 50);
const after = await cancelled;
const closing = b.wait();
setTimeout(() => b.close(), 50);
a.close();
post([
  woke,
  data,
  heldWoke,
  after,
  await closing,
]);
