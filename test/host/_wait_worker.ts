// Loaded as a Worker by transport_test.ts: a wait in a thread other than the main one must wake
// (Bun delivers signals only to the main thread, so its Workers wait another way).
import { openTransport } from "../../ffi/mod.ts";

const a = openTransport(0, { portid: 0 });
const b = openTransport(0, { portid: 0 });
const pending = b.wait();
setTimeout(() => a.send(new Uint8Array(16), b.portid, 0), 50);
const woke = await pending;
const data = b.receive()?.data.length;
const cancelled = b.wait();
setTimeout(() => b.cancelWait(), 50);
const after = await cancelled;
const closing = b.wait();
setTimeout(() => b.close(), 50);
a.close();
(globalThis as unknown as { postMessage(message: unknown): void }).postMessage([
  woke,
  data,
  after,
  await closing,
]);
