// Benchmark body for bench/core_compare.sh: the socket core's request loop and route dump, this
// tree's library against a reference checkout's, both loaded in this one process and run in
// alternation (reference, this, reference, this...), so that a busy machine weighs on both
// alike. FIRST (ref or this) is the library whose socket is opened and warmed up first: on Deno,
// that one dumped 1.5-1.6x slower than the other for the whole run, whichever it was (even this
// tree against itself), so core_compare.sh runs both orders. Prints one JSON line with the
// medians of each.
//
//   bench/core_compare.ts REF_MOD_TS THIS_MOD_TS NETNS ROUNDS [FIRST]

import process from "node:process";

const [refPath, thisPath, netns, roundsArg, first = "ref"] = process.argv.slice(2);
const rounds = Number(roundsArg ?? 10);
const REQUESTS = 5000;
const RTM_GETLINK = 18, RTM_GETROUTE = 26, AF_INET = 2, NETLINK_ROUTE = 0;

/** CPU time of this process (user + system, every thread), in ms. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

interface Sample {
  requestsPerSecond: number;
  requestsPerCpuSecond: number;
  dumpMs: number;
  dumpCpuMs: number;
  routes: number;
}

type Socket = {
  request(m: unknown): Promise<unknown>;
  dump(m: unknown): AsyncIterable<unknown>;
  close(): void;
};

/** `await sock.request(RTM_GETLINK lo)` REQUESTS times, one at a time; then one route dump. */
async function sample(sock: Socket): Promise<Sample> {
  const payload = new Uint8Array(16);
  new DataView(payload.buffer).setInt32(4, 1, true); // ifindex 1: lo
  const request = { type: RTM_GETLINK, payload };
  let t0 = performance.now(), c0 = cpuMs();
  for (let i = 0; i < REQUESTS; i++) await sock.request(request);
  const requestsPerSecond = REQUESTS / ((performance.now() - t0) / 1000);
  const requestsPerCpuSecond = REQUESTS / ((cpuMs() - c0) / 1000);
  const rtmsg = new Uint8Array(12);
  rtmsg[0] = AF_INET;
  t0 = performance.now();
  c0 = cpuMs();
  let routes = 0;
  for await (const _ of sock.dump({ type: RTM_GETROUTE, payload: rtmsg })) routes++;
  return {
    requestsPerSecond,
    requestsPerCpuSecond,
    dumpMs: performance.now() - t0,
    dumpCpuMs: cpuMs() - c0,
    routes,
  };
}

const libs = { ref: await import(refPath), this: await import(thisPath) };
const sockets: Record<string, Socket> = {};
for (
  const [name, lib] of Object.entries(libs).sort(([a], [b]) =>
    Number(b === first) - Number(a === first)
  )
) {
  sockets[name] = await lib.open(NETLINK_ROUTE, { netns });
  await sample(sockets[name]); // warm-up
}
const samples: Record<string, Sample[]> = { ref: [], this: [] };
for (let round = 0; round < rounds; round++) {
  for (const name of ["ref", "this"]) samples[name].push(await sample(sockets[name]));
}
for (const sock of Object.values(sockets)) sock.close();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const medians = (name: string) =>
  Object.fromEntries(
    (Object.keys(samples[name][0]) as (keyof Sample)[]).map((k) => [
      k,
      median(samples[name].map((s) => s[k])),
    ]),
  );
console.log(JSON.stringify({
  runtime: "Bun" in globalThis ? "bun" : "deno",
  rounds,
  first,
  ref: medians("ref"),
  this: medians("this"),
}));
