// Benchmark body for bench/flood.sh (runs in the guest, next to the loaded module): asks the
// module for a lossless flood of COUNT messages of SIZE bytes, BATCH per datagram, receives and
// decodes every one through the library's message stream (checking each counter): one message
// per iteration step (MODE messages) or a run per step (MODE batches). Prints one JSON line
// shaped like bench/flood_recv.c's.
//
//   bench/flood.ts COUNT SIZE BATCH [messages|batches]

import process from "node:process";
import {
  NLTEST_A_BATCH,
  NLTEST_A_COUNT,
  NLTEST_A_MODE,
  NLTEST_A_SIZE,
  NLTEST_FLOOD_LOSSLESS,
  NLTEST_MSG_FLOOD,
  NLTEST_MSG_FLOOD_DATA,
  NLTEST_MSG_FLOOD_DONE,
  NLTEST_UNIT_DEFAULT,
  OFFSETOF_NLTEST_FLOOD_DATA_COUNTER,
} from "../kernel-module/nltest_uapi.ts";
import { AttributeEncoder, NLM_F_ACK, NLM_F_REQUEST, open, type ReceivedMessage } from "../mod.ts";

const [count, size, batch] = [200_000, 64, 1].map((d, i) => Number(process.argv[2 + i] ?? d));
const mode = process.argv[5] ?? "messages";

await using sock = await open(NLTEST_UNIT_DEFAULT, { receiveBufferSize: 1 << 20 });
const t0 = performance.now();
sock.send({
  type: NLTEST_MSG_FLOOD,
  flags: NLM_F_REQUEST | NLM_F_ACK,
  payload: new AttributeEncoder().u32(NLTEST_A_COUNT, count).u32(NLTEST_A_SIZE, size)
    .u32(NLTEST_A_MODE, NLTEST_FLOOD_LOSSLESS).u32(NLTEST_A_BATCH, batch).finish(),
});
let received = 0, outOfOrder = 0, next = 0n, bytes = 0;
/** Checks one message; true at the module's FLOOD_DONE. */
function take(msg: ReceivedMessage): boolean {
  if (msg.type === NLTEST_MSG_FLOOD_DATA) {
    const p = msg.payload;
    const counter = new DataView(p.buffer, p.byteOffset, p.byteLength)
      .getBigUint64(OFFSETOF_NLTEST_FLOOD_DATA_COUNTER, true);
    if (counter !== next) outOfOrder++;
    next = counter + 1n;
    received++;
    bytes += 16 + p.length;
  }
  return msg.type === NLTEST_MSG_FLOOD_DONE;
}
if (mode === "batches") {
  all: for await (const run of sock.batches()) for (const msg of run) if (take(msg)) break all;
} else {
  for await (const msg of sock) if (take(msg)) break;
}
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({
  bench: ("Deno" in globalThis ? "deno" : "bun") + (mode === "batches" ? " batches()" : ""),
  count,
  size,
  batch,
  received,
  out_of_order: outOfOrder,
  overruns: sock.overruns,
  seconds,
  msgs_per_sec: Math.round(received / seconds),
}));
process.exitCode = received === count && !outOfOrder && !sock.overruns ? 0 : 1;
