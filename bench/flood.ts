// Benchmark body for bench/flood.sh (runs in the guest, next to the loaded module): asks the
// module for a lossless flood of COUNT messages of SIZE bytes, BATCH per datagram, receives and
// decodes every one through the library's message stream (checking each counter): one message
// per iteration step (MODE messages), a run per step (MODE batches), or walked in place with no
// allocation per message or datagram (MODE cursor: sock.cursor()). Prints one JSON line shaped
// like bench/flood_recv.c's.
//
//   bench/flood.ts COUNT SIZE BATCH [messages|batches|cursor]

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
} else if (mode === "cursor") {
  let expected = 0;
  all: for await (const c of sock.cursor()) {
    while (c.next()) {
      if (c.type === NLTEST_MSG_FLOOD_DATA) {
        // The u64 counter as two u32 halves: no BigInt per message.
        const at = c.byteOffset + c.payloadOffset + OFFSETOF_NLTEST_FLOOD_DATA_COUNTER;
        const counter = c.view.getUint32(at + 4, true) * 2 ** 32 + c.view.getUint32(at, true);
        if (counter !== expected) outOfOrder++;
        expected = counter + 1;
        received++;
        bytes += 16 + c.payloadLength;
      } else if (c.type === NLTEST_MSG_FLOOD_DONE) break all;
    }
  }
} else {
  for await (const msg of sock) if (take(msg)) break;
}
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({
  bench: ("Deno" in globalThis ? "deno" : "bun") + (mode === "messages" ? "" : ` ${mode}()`),
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
