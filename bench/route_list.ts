// Benchmark body, run by bench/route_list.sh under Deno and under Bun: lists every IPv4 route of
// table main in a namespace two ways on one socket (strict checking on, as openRoute() opens it),
// interleaved, several times each, and prints one JSON line:
//   typed:    the typed layer's dump("getroute") with the same request the everyday API sends
//             (family inet, table main): complete typed objects, the reference;
//   everyday: openRoute()'s route.list({ family: "inet" }): the same dump, plus a link dump for
//             the names, turned into Route objects (addresses as text, enums by name).
//
//   bench/route_list.ts NETNS ITERATIONS

import process from "node:process";
import { NETLINK_ROUTE, open } from "../mod.ts";
import { openRoute } from "../src/route/mod.ts";
import { family } from "../src/ynl/mod.ts";
import { rtRoute } from "../src/ynl/rt_route.ts";
import { interleave } from "./_interleave.ts";

const [netns, iterationsArg] = process.argv.slice(2);
const iterations = Number(iterationsArg ?? 10);

await using sock = await open(NETLINK_ROUTE, {
  netns,
  receiveBufferSize: 1 << 22,
  strictChecking: true,
});
await using rt = await family(rtRoute, { socket: sock });
await using ip = await openRoute({ socket: sock });

async function typed(): Promise<number> {
  return (await rt.dump("getroute", { rtmFamily: 2, rtmTable: 254, table: 254 })).length;
}

async function everyday(): Promise<number> {
  return (await ip.route.list({ family: "inet" })).length;
}

await interleave({ typed, everyday }, iterations);
