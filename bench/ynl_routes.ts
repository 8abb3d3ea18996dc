// Benchmark body, run by bench/ynl_routes.sh under Deno and under Bun: dumps every IPv4 route of
// a namespace three ways, interleaved, several times each, and prints one JSON line:
//   receive: the dump's messages, not decoded (the floor: syscalls and framing);
//   raw:     decoded by hand with the core AttributeDecoder (prefix, length, table, oif), as
//            bench/route_dump.ts does;
//   typed:   decoded into complete typed objects by the generated rt-route module (every rtmsg
//            member and every attribute, enums by name), with dump() (an array) and with
//            dumpStream() (an async iterable).
//
//   bench/ynl_routes.ts NETNS ITERATIONS

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
import { family } from "../src/ynl/mod.ts";
import { rtRoute } from "../src/ynl/rt_route.ts";
import { interleave } from "./_interleave.ts";

const [netns, iterationsArg] = process.argv.slice(2);
const iterations = Number(iterationsArg ?? 10);
const AF_INET = 2;
const RTMSG_SIZE = 12;

await using sock = await open(NETLINK_ROUTE, { netns, receiveBufferSize: 1 << 22 });
await using rt = await family(rtRoute, { socket: sock });
const request = new Uint8Array(RTMSG_SIZE);
request[0] = AF_INET;

async function receive(): Promise<number> {
  let count = 0;
  for await (const _ of sock.dump({ type: RTM_GETROUTE, payload: request })) count++;
  return count;
}

async function raw(): Promise<number> {
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
  return routes.length;
}

async function typed(): Promise<number> {
  return (await rt.dump("getroute", { rtmFamily: AF_INET })).length;
}

async function typedStream(): Promise<number> {
  const routes = [];
  for await (const route of rt.dumpStream("getroute", { rtmFamily: AF_INET })) routes.push(route);
  return routes.length;
}

await interleave({ receive, raw, typed, typedStream }, iterations);
