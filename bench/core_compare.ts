// Benchmark body for bench/core_compare.sh: the socket core's request loop and route dump,
// against the library at the given mod.ts (this tree's, or a reference commit's checkout), so
// that a change to src/ is measured against its reference in the same run. Prints one JSON line.
//
//   bench/core_compare.ts MOD_TS NETNS SECONDS

import process from "node:process";

const [modPath, netns, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg ?? 2);
const lib = await import(modPath);
const { open, NETLINK_ROUTE, RTM_GETLINK, RTM_GETROUTE, AF_INET } = lib;

/** CPU time of this process (user + system, every thread), in ms. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * `await sock.request(RTM_GETLINK lo)`, one at a time: requests per second of wall time, and
 * per second of CPU time (steadier on a shared machine).
 */
async function requestLoop(): Promise<{ wall: number; cpu: number }> {
  await using sock = await open(NETLINK_ROUTE, { netns });
  const payload = new Uint8Array(16);
  new DataView(payload.buffer).setInt32(4, 1, true); // ifindex 1: lo
  const request = { type: RTM_GETLINK, payload };
  for (let i = 0; i < 2000; i++) await sock.request(request); // warm-up
  let n = 0;
  const start = performance.now(), cpu0 = cpuMs();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) await sock.request(request);
    n += 100;
  }
  return { wall: n / ((performance.now() - start) / 1000), cpu: n / ((cpuMs() - cpu0) / 1000) };
}

/** Milliseconds (wall and CPU) to dump every IPv4 route with dump(), medians of 5. */
async function routeDump(): Promise<{ ms: number; cpuMs: number; routes: number }> {
  await using sock = await open(NETLINK_ROUTE, { netns });
  const rtmsg = new Uint8Array(12);
  rtmsg[0] = AF_INET;
  const times: number[] = [], cpu: number[] = [];
  let routes = 0;
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now(), c0 = cpuMs();
    routes = 0;
    for await (const _ of sock.dump({ type: RTM_GETROUTE, payload: rtmsg })) routes++;
    if (i === 0) continue; // a warm-up
    times.push(performance.now() - t0);
    cpu.push(cpuMs() - c0);
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { ms: median(times), cpuMs: median(cpu), routes };
}

const requests = await requestLoop();
const dump = await routeDump();
console.log(JSON.stringify({
  runtime: "Bun" in globalThis ? "bun" : "deno",
  requestsPerSecond: requests.wall,
  requestsPerCpuSecond: requests.cpu,
  dumpMs: dump.ms,
  dumpCpuMs: dump.cpuMs,
  routes: dump.routes,
}));
