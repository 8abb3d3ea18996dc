// The library's side of bench/usersock_flood.c (run by bench/usersock_flood.sh): opens a
// NETLINK_USERSOCK socket, starts the C sender on its port, and receives and decodes COUNT
// messages through the message stream, checking each index: one message per iteration step
// (MODE messages) or a run per step (MODE batches). Prints one JSON line.
//
//   bench/usersock_flood.ts COUNT SIZE BATCH [messages|batches]

import { spawn } from "node:child_process";
import process from "node:process";
import { NETLINK_USERSOCK, open, type ReceivedMessage } from "../mod.ts";

const [count, size, batch] = [200_000, 64, 1].map((d, i) => Number(process.argv[2 + i] ?? d));
const mode = process.argv[5] ?? "messages";
await using sock = await open(NETLINK_USERSOCK, { receiveBufferSize: 1 << 20 });
const t0 = performance.now();
const sender = spawn(new URL("./usersock_flood", import.meta.url).pathname, [
  "send",
  String(sock.portid),
  String(count),
  String(size),
  String(batch),
], { stdio: "inherit" });
let received = 0, outOfOrder = 0, next = 0n;
/** Checks one message's index; true once all have arrived. */
function take(msg: ReceivedMessage): boolean {
  const p = msg.payload;
  const index = new DataView(p.buffer, p.byteOffset, p.byteLength).getBigUint64(0, true);
  if (index !== next) outOfOrder++;
  next = index + 1n;
  return ++received === count;
}
if (mode === "batches") {
  all: for await (const run of sock.batches()) for (const msg of run) if (take(msg)) break all;
} else {
  for await (const msg of sock) if (take(msg)) break;
}
const seconds = (performance.now() - t0) / 1000;
await new Promise((resolve) => sender.exitCode !== null ? resolve(0) : sender.on("exit", resolve));
console.log(JSON.stringify({
  bench: ("Deno" in globalThis ? "deno" : "bun") + (mode === "batches" ? " batches()" : ""),
  received,
  out_of_order: outOfOrder,
  overruns: sock.overruns,
  msgs_per_sec: Math.round(received / seconds),
}));
