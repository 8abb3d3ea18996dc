// A fresh process's fixed costs (run by bench/cold_open.sh, once per process): importing the
// library (mod.ts), its first open(), and a first small request (the links, as `ip link` asks
// for them) with close(). Prints one JSON line of milliseconds. LIB, if set, is another checkout
// of the library to measure (e.g. an older commit's worktree).
//
//   [LIB=DIR] bench/cold_open.ts

import process from "node:process";

const t0 = performance.now();
const lib: typeof import("../mod.ts") = await import(
  new URL(
    "mod.ts",
    process.env.LIB ? `file://${process.env.LIB}/` : new URL("../", import.meta.url),
  )
    .href
);
const t1 = performance.now();
const sock = await lib.open(lib.NETLINK_ROUTE);
const t2 = performance.now();
let links = 0;
for await (const _ of sock.dump({ type: lib.RTM_GETLINK, payload: new Uint8Array(16) })) links++;
await sock.close();
const t3 = performance.now();
console.log(JSON.stringify({
  runtime: "Bun" in globalThis ? "bun" : "deno",
  import: t1 - t0,
  open: t2 - t1,
  links: t3 - t2,
  count: links,
}));
