// A one-shot route dump, for bench/dump_setup_functions.sh: the library's open(), dump() and
// cursor() up to the first step's cursor, then the rest of the dump and the socket's close,
// between three marker functions (named in JavaScriptCore's compile report, as every function
// run is when its thresholds are 0). The library is this checkout's, or NL_LIB's (another
// checkout).
//
//   [NL_LIB=DIR] bench/dump_setup.ts
import process from "node:process";
import type * as thisLibrary from "../mod.ts";

const lib: typeof thisLibrary = await import(
  new URL(
    "mod.ts",
    process.env.NL_LIB ? `file://${process.env.NL_LIB}/` : new URL("../", import.meta.url),
  ).href
);
const rtmsg = new Uint8Array(12);
rtmsg[0] = lib.AF_INET;

function setupStarts(): void {}
function firstDatagram(): void {}
function closed(): void {}

async function run(): Promise<void> {
  setupStarts();
  const sock = await lib.open(lib.NETLINK_ROUTE);
  let first = true;
  for await (const c of sock.dump({ type: lib.RTM_GETROUTE, payload: rtmsg }).cursor()) {
    if (first) firstDatagram();
    first = false;
    while (c.next());
  }
  sock.close();
  closed();
  process.exit(0);
}
await run();
