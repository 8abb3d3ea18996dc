// Watch device events: prints each uevent's sequence number, action, device path, subsystem and
// name as the kernel sends it (or, with --udev, as udevd re-broadcasts it once its rules ran).
// Needs no privilege. Network devices' events go to the network namespace they are in: run it
// under `ip netns exec NAME` to watch a namespace. Stop with Ctrl-C, or pass a number of seconds
// to watch.
//
//   deno run --allow-ffi examples/uevents.ts [SECONDS] [--udev]
//   bun examples/uevents.ts [SECONDS] [--udev]

import process from "node:process";
import { openUevents } from "../src/uevent.ts";

const args = process.argv.slice(2);
const source = args.includes("--udev") ? "udev" : "kernel";
const extra = args.filter((a) => a !== "--udev");
// A timer takes at most 2^31-1 ms: Deno fires a longer AbortSignal.timeout() at once.
const MAX_SECONDS = 2_147_483;
const seconds = Number(extra[0] ?? Infinity);
if (extra.length > 1 || !(seconds > 0) || (Number.isFinite(seconds) && seconds > MAX_SECONDS)) {
  console.error(
    `usage: uevents.ts [SECONDS] [--udev], SECONDS a positive number up to ${MAX_SECONDS}; got ${
      extra.join(" ")
    }`,
  );
  process.exit(2);
}

await using uevents = await openUevents({ source });
console.log(`watching ${source} uevents...`);
const signal = Number.isFinite(seconds) ? AbortSignal.timeout(seconds * 1000) : undefined;
try {
  for await (const event of uevents.events({ signal })) {
    if (event.type === "overrun") {
      console.log(`! the kernel dropped events (${uevents.overruns} overruns so far)`);
      continue;
    }
    const name = event.env.INTERFACE ?? event.env.DEVNAME;
    console.log(
      `${event.seqnum ?? "-"} ${event.action} ${event.devpath} (${event.subsystem ?? "?"})`
        + (name ? ` ${name}` : ""),
    );
  }
} catch (err) {
  if (!(err instanceof DOMException && err.name === "TimeoutError")) throw err;
}
