// Benchmark body, run by bench/run.sh under Deno and under Bun: dumps and decodes every IPv4
// route of a namespace (destination prefix, length, table, output interface), several times,
// then measures event latency (link toggle -> message yielded) and a waiting subscriber's CPU.
// Prints one JSON line.
//
//   bench/route_dump.ts NETNS ITERATIONS

import { readFileSync } from "node:fs";
import process from "node:process";
import {
  AF_INET,
  AttributeDecoder,
  IFF_UP,
  NETLINK_ROUTE,
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

async function dumpRoutes(): Promise<Route[]> {
  const request = new Uint8Array(RTMSG_SIZE);
  request[0] = AF_INET;
  await using sock = await open(NETLINK_ROUTE, { netns });
  const routes: Route[] = [];
  for await (const m of sock.dump({ type: RTM_GETROUTE, payload: request })) {
    const route: Route = { dst: 0, dstLen: m.payload[1], table: m.payload[4], oif: 0 };
    for (const a = new AttributeDecoder(m.payload, RTMSG_SIZE); a.next();) {
      if (a.type === RTA_DST) route.dst = a.u32be();
      else if (a.type === RTA_TABLE) route.table = a.u32();
      else if (a.type === RTA_OIF) route.oif = a.u32();
    }
    routes.push(route);
  }
  return routes;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
}

// --- dump + decode ---------------------------------------------------------------------------
let count = 0;
await dumpRoutes(); // warm-up: JIT and the kernel's caches
const times: number[] = [];
for (let i = 0; i < iterations; i++) {
  const t0 = performance.now();
  count = (await dumpRoutes()).length;
  times.push(performance.now() - t0);
}

// --- event latency: set a link up/down through netlink, time until the subscriber yields it --
const latencies: number[] = [];
if (toggleIndex > 0) {
  await using watcher = await open(NETLINK_ROUTE, { netns, groups: [RTNLGRP_LINK] });
  await using control = await open(NETLINK_ROUTE, { netns });
  // Bounded: a lost notification must end the benchmark, not hang it.
  const events = watcher.messages({ signal: AbortSignal.timeout(60_000) });
  const ifinfo = (up: boolean) => {
    const b = new Uint8Array(16); // struct ifinfomsg: index, flags, change
    const v = new DataView(b.buffer);
    v.setInt32(4, toggleIndex, true);
    v.setUint32(8, up ? IFF_UP : 0, true);
    v.setUint32(12, IFF_UP, true);
    return b;
  };
  for (let i = 0; i < 201; i++) {
    const t0 = performance.now();
    control.send({ type: RTM_NEWLINK, flags: 1, /* NLM_F_REQUEST */ payload: ifinfo(i % 2 === 1) }); // starts up: go down first
    for (;;) {
      const { value } = await events.next();
      if (value?.type === RTM_NEWLINK) break;
    }
    if (i > 0) latencies.push((performance.now() - t0) * 1000);
  }
  await events.return!();
}

// --- idle CPU of a waiting subscriber ----------------------------------------------------------
function cpuTicks(): number {
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime, clock ticks (1/100 s)
}
let idleCpuPercent = -1;
{
  await using idle = await open(NETLINK_ROUTE, { netns, groups: [RTNLGRP_LINK] });
  const waiting = idle.messages({ signal: AbortSignal.timeout(3200) }).next().catch(() => {});
  await new Promise((r) => setTimeout(r, 100));
  const c0 = cpuTicks(), t0 = performance.now();
  await new Promise((r) => setTimeout(r, 3000));
  idleCpuPercent = ((cpuTicks() - c0) * 10) / (performance.now() - t0) * 100;
  await waiting;
}

console.log(JSON.stringify({
  runtime: "Deno" in globalThis ? "deno" : "bun",
  routes: count,
  dumpMs: { median: median(times), min: Math.min(...times), runs: times.length },
  eventLatencyUs: latencies.length
    ? { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), n: latencies.length }
    : null,
  idleCpuPercent,
}));
