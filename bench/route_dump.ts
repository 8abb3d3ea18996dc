// Benchmark body, run by bench/run.sh under Deno and under Bun: dumps and decodes every IPv4
// route of a namespace (destination prefix, length, table, output interface), several times,
// then measures event latency (link toggle -> message yielded) and a waiting subscriber's CPU.
// Prints one JSON line.
//
//   bench/route_dump.ts NETNS ITERATIONS

import process from "node:process";
import {
  AF_INET,
  AttributeDecoder,
  IFF_UP,
  type Message,
  NETLINK_ROUTE,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  open,
  RTA_DST,
  RTA_OIF,
  RTA_TABLE,
  RTM_GETROUTE,
  RTM_NEWLINK,
  RTNLGRP_LINK,
} from "../mod.ts";

const [netns, iterationsArg, toggleIndexArg] = process.argv.slice(2);
const iterations = Number(iterationsArg ?? 10);
const toggleIndex = Number(toggleIndexArg ?? 0);

interface Route {
  dst: number;
  dstLen: number;
  table: number;
  oif: number;
}

const RTMSG_SIZE = 12; // struct rtmsg

function decodeRoute(m: Message): Route {
  const route: Route = { dst: 0, dstLen: m.payload[1], table: m.payload[4], oif: 0 };
  for (const a = new AttributeDecoder(m.payload, RTMSG_SIZE); a.next();) {
    if (a.type === RTA_DST) route.dst = a.u32be();
    else if (a.type === RTA_TABLE) route.table = a.u32();
    else if (a.type === RTA_OIF) route.oif = a.u32();
  }
  return route;
}

const request = new Uint8Array(RTMSG_SIZE);
request[0] = AF_INET;

/** Streaming: dump() yields each route as it is decoded from its datagram. */
async function dumpRoutes(): Promise<Route[]> {
  await using sock = await open(NETLINK_ROUTE, { netns });
  const routes: Route[] = [];
  for await (const m of sock.dump({ type: RTM_GETROUTE, payload: request })) {
    routes.push(decodeRoute(m));
  }
  return routes;
}

/** Collecting: request() with NLM_F_DUMP resolves with every part, then they are decoded. */
async function requestRoutes(): Promise<Route[]> {
  await using sock = await open(NETLINK_ROUTE, { netns });
  const parts = await sock.request({ type: RTM_GETROUTE, flags: NLM_F_DUMP, payload: request });
  return parts.map(decodeRoute);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
}

// --- idle CPU of a waiting subscriber (first: no garbage from the dumps to collect) ----------------------------------------------------------
/** CPU use of this process, in percent of one core, over `ms` of waiting on a timer. */
async function cpuPercentOver(ms: number): Promise<number> {
  const c0 = process.cpuUsage(), t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const used = process.cpuUsage(c0); // microseconds, user + system, every thread of the process
  return (used.user + used.system) / 1000 / (performance.now() - t0) * 100;
}
// The runtime's own housekeeping, with no socket: the baseline the subscriber is compared with.
const baselineCpuPercent = await cpuPercentOver(3000);
let idleCpuPercent = -1;
{
  await using idle = await open(NETLINK_ROUTE, { netns, groups: [RTNLGRP_LINK] });
  const waiting = idle.messages({ signal: AbortSignal.timeout(3200) }).next().catch(() => {});
  await new Promise((r) => setTimeout(r, 100));
  idleCpuPercent = await cpuPercentOver(3000);
  await waiting;
}

// --- dump + decode ---------------------------------------------------------------------------
async function timeRuns(run: () => Promise<Route[]>): Promise<number[]> {
  await run(); // warm-up: JIT and the kernel's caches
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    count = (await run()).length;
    times.push(performance.now() - t0);
  }
  return times;
}
let count = 0;
const streamTimes = await timeRuns(dumpRoutes);
const collectTimes = await timeRuns(requestRoutes);

// --- event latency: set a link up/down through netlink, time until the subscriber yields it --
const latencies: number[] = [];
if (toggleIndex > 0) {
  const ifinfo = (up: boolean) => {
    const b = new Uint8Array(16); // struct ifinfomsg: index, flags, change
    const v = new DataView(b.buffer);
    v.setInt32(4, toggleIndex, true);
    v.setUint32(8, up ? IFF_UP : 0, true);
    v.setUint32(12, IFF_UP, true);
    return b;
  };
  await using control = await open(NETLINK_ROUTE, { netns });
  // Up before subscribing: a toggle that changes nothing sends no notification.
  await control.request({ type: RTM_NEWLINK, payload: ifinfo(true) });
  await using watcher = await open(NETLINK_ROUTE, { netns, groups: [RTNLGRP_LINK] });
  // Bounded: a lost notification must end the benchmark, not hang it.
  const events = watcher.messages({ signal: AbortSignal.timeout(60_000) });
  // An even number of toggles (down, up, ...) leaves the link up, as it was.
  for (let i = 0; i < 202; i++) {
    const t0 = performance.now();
    control.send({ type: RTM_NEWLINK, flags: NLM_F_REQUEST, payload: ifinfo(i % 2 === 1) });
    for (;;) {
      const { value } = await events.next();
      if (value?.type === RTM_NEWLINK) break;
    }
    if (i > 1) latencies.push((performance.now() - t0) * 1000); // the first two warm up
  }
  await events.return!();
}

console.log(JSON.stringify({
  runtime: "Deno" in globalThis ? "deno" : "bun",
  routes: count,
  dumpMs: { median: median(streamTimes), min: Math.min(...streamTimes), runs: iterations },
  requestMs: { median: median(collectTimes), min: Math.min(...collectTimes), runs: iterations },
  eventLatencyUs: latencies.length
    ? { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), n: latencies.length }
    : null,
  idleCpuPercent,
  baselineCpuPercent,
}));
