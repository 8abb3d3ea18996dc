// Benchmark body, run by bench/ynl_pick.sh under Deno and under Bun: what `attrs` saves the typed
// layer, each way against the whole decode in the same process, the two alternating (a busy
// moment hits both alike). Prints one JSON line.
//
//   bench/ynl_pick.ts NETNS ROUNDS
//
// NETNS holds veths (bench/ynl_pick.sh makes them). Three measures, whole against picked (PICK:
// `ifname`, `operstate`, `linkinfo`, what a link watcher reads):
//   event:  one veth's RTM_NEWLINK (the reply to a getlink of it: the notification's format, the
//           same 1.5 KB) decoded by the decoder a typed monitor runs per event, once every 2 ms,
//           so that its code has gone cold by each turn as a monitor's has between events;
//           p50 over ROUNDS*20 decodes of each (microseconds);
//   warm:   the same message decoded 20,000 times a batch, ROUNDS batches of each (ns a decode,
//           median batch);
//   dump:   `dump("getlink")` of the namespace's links, ROUNDS of each (ms, median), and the
//           process's CPU time over them (user + system, ms a dump).

import process from "node:process";
import { codecOf } from "../src/ynl/_compile.ts";
import { messageDecoder } from "../src/ynl/_decode.ts";
import { pickOf } from "../src/ynl/_pick.ts";
import { family } from "../src/ynl/mod.ts";
import { rtLink } from "../src/ynl/rt_link.ts";

const [netns, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg ?? 10);
const PICK = ["ifname", "operstate", "linkinfo"] as const;

const rt = await family(rtLink, { netns });
const [reply] = await rt.socket.request({
  type: 18, // RTM_GETLINK
  payload: rt.encode("getlink", { ifname: "va0" }).payload!,
});
const payload = reply.payload;
const codec = codecOf(rtLink);
const ntf = codec.operation("newlink-ntf");
const whole = messageDecoder(codec, ntf);
const picked = messageDecoder(codec, ntf, pickOf(codec, "bench", [ntf], PICK));

const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let sink = 0;

// event: cold-ish, one decode per 2 ms, the two in turn.
const cold: Record<"whole" | "picked", number[]> = { whole: [], picked: [] };
for (let i = 0; i < rounds * 20 * 2; i++) {
  const which = (i & 1) === 0 ? "whole" : "picked";
  const decode = which === "whole" ? whole : picked;
  await sleep(2);
  const start = performance.now();
  const message = decode(payload);
  cold[which].push((performance.now() - start) * 1000);
  sink += Object.keys(message).length;
}

// warm: batches.
const BATCH = 20_000;
const warm: Record<"whole" | "picked", number[]> = { whole: [], picked: [] };
for (let i = 0; i < rounds * 2 + 2; i++) {
  const which = (i & 1) === 0 ? "whole" : "picked";
  const decode = which === "whole" ? whole : picked;
  const start = performance.now();
  for (let j = 0; j < BATCH; j++) sink += decode(payload).ifiIndex as number;
  if (i >= 2) warm[which].push((performance.now() - start) * 1e6 / BATCH);
}

// dump: the namespace's links, whole and picked in turn.
const dump: Record<"whole" | "picked", number[]> = { whole: [], picked: [] };
const cpu: Record<"whole" | "picked", number> = { whole: 0, picked: 0 };
let links = 0;
for (let i = 0; i < rounds * 2 + 2; i++) {
  const which = (i & 1) === 0 ? "whole" : "picked";
  const used = process.cpuUsage();
  const start = performance.now();
  const list = which === "whole"
    ? await rt.dump("getlink")
    : await rt.dump("getlink", {}, { attrs: PICK });
  const ms = performance.now() - start;
  const { user, system } = process.cpuUsage(used);
  links = list.length;
  sink += list.length;
  if (i < 2) continue; // warm-up
  dump[which].push(ms);
  cpu[which] += (user + system) / 1000;
}
rt.close();

const round = (x: number) => Math.round(x * 100) / 100;
console.log(JSON.stringify({
  runtime: typeof Bun === "undefined" ? "deno" : "bun",
  bytes: payload.byteLength,
  eventUs: { whole: round(median(cold.whole)), picked: round(median(cold.picked)) },
  warmNs: { whole: round(median(warm.whole)), picked: round(median(warm.picked)) },
  links,
  dumpMs: { whole: round(median(dump.whole)), picked: round(median(dump.picked)) },
  dumpCpuMs: { whole: round(cpu.whole / rounds), picked: round(cpu.picked / rounds) },
  sink: sink > 0,
}));
declare const Bun: unknown;
