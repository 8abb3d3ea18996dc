// Benchmark body, run by bench/ynl_routes.sh under Deno and under Bun. Prints one JSON line.
//
//   bench/ynl_routes.ts NETNS ITERATIONS    warm: every way below, interleaved, ITERATIONS times
//                                           each after a warm-up, in this one process
//   bench/ynl_routes.ts NETNS cold WAY      cold: WAY once, in a fresh process (JIT cold), timed
//                                           from opening the socket to the list built
//
// The ways dump every IPv4 route of the namespace:
//   receive:     the dump's messages, not decoded (the floor: syscalls and framing);
//   raw:         decoded by hand with the core AttributeDecoder into {dst, dstLen, table, oif},
//                as bench/route_dump.ts does;
//   typed:       decoded into typed objects by the generated rt-route module with dump() (an
//                array), then the same four fields read from each (so what a lazy decode leaves
//                undone is what a program reading those fields would leave undone too);
//   typedStream: the same with dumpStream() (an async iterable).

import process from "node:process";
import {
  AttributeDecoder,
  NETLINK_ROUTE,
  open,
  RTA_DST,
  RTA_OIF,
  RTA_TABLE,
  RTM_GETROUTE,
} from "../mod.ts";
import type { NetlinkSocket } from "../mod.ts";
import { family } from "../src/ynl/mod.ts";
import { rtRoute } from "../src/ynl/rt_route.ts";

const [netns, modeArg, wayArg] = process.argv.slice(2);
const AF_INET = 2;
const RTMSG_SIZE = 12;
const request = new Uint8Array(RTMSG_SIZE);
request[0] = AF_INET;

/** What every way returns: the route count and a checksum of the four fields, to compare. */
interface Result {
  routes: number;
  sum: number;
}

async function receive(sock: NetlinkSocket): Promise<Result> {
  let routes = 0;
  for await (const _ of sock.dump({ type: RTM_GETROUTE, payload: request })) routes++;
  return { routes, sum: -1 };
}

async function raw(sock: NetlinkSocket): Promise<Result> {
  const routes: { dst: number; dstLen: number; table: number; oif: number }[] = [];
  for await (const m of sock.dump({ type: RTM_GETROUTE, payload: request })) {
    const route = { dst: 0, dstLen: m.payload[1], table: m.payload[4], oif: 0 };
    for (const a = new AttributeDecoder(m.payload, RTMSG_SIZE); a.next();) {
      if (a.type === RTA_DST) route.dst = a.u32be();
      else if (a.type === RTA_TABLE) route.table = a.u32();
      else if (a.type === RTA_OIF) route.oif = a.u32();
    }
    routes.push(route);
  }
  let sum = 0;
  for (const r of routes) sum = (sum + (r.dst & 0xff) + r.dstLen + r.table + r.oif) | 0;
  return { routes: routes.length, sum };
}

// The typed dst is text ("10.1.2.0": rt-route's display hint); its last byte is the last number.
type Route = { dst?: string; rtmDstLen: number; table?: number; oif?: number };

function lastByte(address: string | undefined): number {
  return address === undefined ? 0 : Number(address.slice(address.lastIndexOf(".") + 1));
}

function readFour(routes: Route[]): Result {
  let sum = 0;
  for (const r of routes) {
    sum = (sum + lastByte(r.dst) + r.rtmDstLen + (r.table ?? 0) + (r.oif ?? 0)) | 0;
  }
  return { routes: routes.length, sum };
}

async function typed(sock: NetlinkSocket): Promise<Result> {
  const rt = await family(rtRoute, { socket: sock });
  return readFour(await rt.dump("getroute", { rtmFamily: AF_INET }));
}

async function typedStream(sock: NetlinkSocket): Promise<Result> {
  const rt = await family(rtRoute, { socket: sock });
  const routes = [];
  for await (const route of rt.dumpStream("getroute", { rtmFamily: AF_INET })) routes.push(route);
  return readFour(routes);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const ways: Record<string, (sock: NetlinkSocket) => Promise<Result>> = {
  receive,
  raw,
  typed,
  typedStream,
};
const runtime = "Deno" in globalThis ? "deno" : "bun";

/**
 * CPU time (user + system) this process used since `since`, in ms: steadier than wall time on a
 * busy machine, where another process's turn on the CPU lands on whichever way runs.
 */
function cpuMs(since: ReturnType<typeof process.cpuUsage>): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

if (modeArg === "cold") {
  const way = ways[wayArg];
  if (way === undefined) throw new Error(`no way "${wayArg}": ${Object.keys(ways).join(", ")}`);
  const [t0, c0] = [performance.now(), process.cpuUsage()];
  await using sock = await open(NETLINK_ROUTE, { netns, receiveBufferSize: 1 << 22 });
  const result = await way(sock);
  const ms = performance.now() - t0;
  console.log(JSON.stringify({ runtime, way: wayArg, ms, cpuMs: cpuMs(c0), ...result }));
} else {
  const iterations = Number(modeArg ?? 10);
  await using sock = await open(NETLINK_ROUTE, { netns, receiveBufferSize: 1 << 22 });
  const times: Record<string, number[]> = Object.fromEntries(
    Object.keys(ways).map((name) => [name, []]),
  );
  const cpuTimes: Record<string, number[]> = Object.fromEntries(
    Object.keys(ways).map((name) => [name, []]),
  );
  let expected: Result | undefined;
  for (const way of Object.values(ways)) await way(sock); // warm-up: JIT and the kernel's caches
  for (let i = 0; i < iterations; i++) {
    for (const [name, way] of Object.entries(ways)) {
      const [t0, c0] = [performance.now(), process.cpuUsage()];
      const result = await way(sock);
      times[name].push(performance.now() - t0);
      cpuTimes[name].push(cpuMs(c0));
      if (expected !== undefined && result.routes !== expected.routes) {
        throw new Error(`${name} saw ${result.routes} routes, not ${expected.routes}`);
      }
      if (name !== "receive" && expected !== undefined && expected.sum !== result.sum) {
        throw new Error(`${name}'s checksum ${result.sum} differs from raw's ${expected.sum}`);
      }
      if (name === "raw") expected = result;
    }
  }
  console.log(JSON.stringify({
    runtime,
    routes: expected?.routes,
    ms: Object.fromEntries(
      Object.entries(times).map((
        [name, xs],
      ) => [name, { median: median(xs), min: Math.min(...xs) }]),
    ),
    cpuMs: Object.fromEntries(
      Object.entries(cpuTimes).map(([name, xs]) => [name, { median: median(xs) }]),
    ),
  }));
}
