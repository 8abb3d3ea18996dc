// kernel-multicast: the classic "listen to what the kernel pushes" user program. Asks the
// project's kernel module to send a message to a multicast group every INTERVAL ms, joins the
// group, and prints each message as it arrives; stops the module's sender on exit.
//
//   deno run --allow-ffi examples/kernel_multicast.ts [GROUP] [COUNT] [INTERVAL_MS]
//   bun examples/kernel_multicast.ts [GROUP] [COUNT] [INTERVAL_MS]
//
// Groups go up to 64 (above 32 works too). Ctrl-C stops it early, the module's sender included
// (exit status 130: killed by SIGINT). Needs the module loaded, e.g. in the guest:
// `test/vm/run -- node_modules/.bin/bun examples/kernel_multicast.ts 42 5`.

import process from "node:process";
import {
  NLTEST_A_COUNTER,
  NLTEST_A_GROUP,
  NLTEST_A_INTERVAL_MS,
  NLTEST_A_TIMESTAMP_NS,
  NLTEST_MSG_TICK,
  NLTEST_MSG_TIMER_START,
  NLTEST_MSG_TIMER_STOP,
  NLTEST_UNIT_DEFAULT,
} from "../kernel-module/nltest_uapi.ts";
import { AttributeDecoder, AttributeEncoder, open } from "../mod.ts";

const [group, count, interval] = [42, 5, 200].map((d, i) => Number(process.argv[2 + i] ?? d));

await using control = await open(NLTEST_UNIT_DEFAULT);
await using listener = await open(NLTEST_UNIT_DEFAULT, { groups: [group] });
// Ctrl-C ends the loop rather than the process, so that the finally below still runs: the
// module's sender belongs to no socket, it would go on after we are gone.
const interrupted = new AbortController();
const interrupt = () => interrupted.abort();
process.once("SIGINT", interrupt);
await control.request({
  type: NLTEST_MSG_TIMER_START,
  payload: new AttributeEncoder().u32(NLTEST_A_GROUP, group).u32(NLTEST_A_INTERVAL_MS, interval)
    .finish(),
});
console.log(
  `listening on group ${group} (port ${listener.portid}); the kernel sends every ${interval} ms`,
);
try {
  let seen = 0;
  for await (const msg of listener.messages({ signal: interrupted.signal })) {
    if (msg.type !== NLTEST_MSG_TICK) continue;
    let counter = 0n, ns = 0n;
    for (const a = new AttributeDecoder(msg.payload); a.next();) {
      if (a.type === NLTEST_A_COUNTER) counter = a.u64();
      else if (a.type === NLTEST_A_TIMESTAMP_NS) ns = a.u64();
    }
    console.log(
      `group ${msg.group}: tick ${counter} at ${Number(ns / 1000n) / 1000} ms (monotonic)`,
    );
    if (++seen === count) break;
  }
} catch (err) {
  if (!interrupted.signal.aborted) throw err;
  process.exitCode = 130;
} finally {
  process.off("SIGINT", interrupt);
  await control.request({
    type: NLTEST_MSG_TIMER_STOP,
    payload: new AttributeEncoder().u32(NLTEST_A_GROUP, group).finish(),
  });
}
