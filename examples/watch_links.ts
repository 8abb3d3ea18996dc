// Watch link events through the everyday API's monitor(): prints each link that appears,
// changes or goes. Stop with Ctrl-C, or pass a number of seconds to stop by itself.
//
//   deno run --allow-ffi examples/watch_links.ts [SECONDS]
//   bun examples/watch_links.ts [SECONDS]

import process from "node:process";
import { openRoute } from "../src/route/mod.ts";

// A timer takes at most 2^31-1 ms: Deno fires a longer AbortSignal.timeout() at once.
const MAX_SECONDS = 2_147_483;
const seconds = Number(process.argv[2] ?? Infinity);
if (
  !(seconds > 0) || (Number.isFinite(seconds) && seconds > MAX_SECONDS) || process.argv.length > 3
) {
  console.error(
    `usage: watch_links.ts [SECONDS], a positive number up to ${MAX_SECONDS}; got ${
      process.argv.slice(2).join(" ")
    }`,
  );
  process.exit(2);
}
const signal = Number.isFinite(seconds) ? AbortSignal.timeout(seconds * 1000) : undefined;

await using ip = await openRoute();
const events = ip.monitor(["link"], { signal }); // subscribed from here on
console.log(`watching links (port ${ip.socket.portid})...`);
try {
  for await (const event of events) {
    if (event.object === "overrun") {
      console.log(`! the kernel dropped events (${ip.socket.overruns} overruns so far)`);
    } else if (event.object === "link") {
      const { index, name, up, operstate } = event.value;
      const what = event.action === "deleted" ? "removed" : `${up ? "up" : "down"} (${operstate})`;
      console.log(`${new Date().toISOString()} link ${index} ${name}: ${what}`);
    }
  }
} catch (err) {
  if (!(err instanceof DOMException && err.name === "TimeoutError")) throw err;
}
