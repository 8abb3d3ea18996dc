// Watch processes: prints every fork, exec, exit and change of identity on the machine, as the
// kernel's process events connector reports them (what `forkstat` shows). Needs root, in the
// initial namespaces. Stop with Ctrl-C, or pass a number of seconds to watch.
//
//   deno run --allow-ffi examples/proc_events.ts [SECONDS]
//   bun examples/proc_events.ts [SECONDS]

import process from "node:process";
import { openProcEvents, type ProcEvent } from "../src/connector.ts";

// A timer takes at most 2^31-1 ms: Deno fires a longer AbortSignal.timeout() at once.
const MAX_SECONDS = 2_147_483;
const seconds = Number(process.argv[2] ?? Infinity);
if (
  !(seconds > 0) || (Number.isFinite(seconds) && seconds > MAX_SECONDS) || process.argv.length > 3
) {
  console.error(
    `usage: proc_events.ts [SECONDS], a positive number up to ${MAX_SECONDS}; got ${
      process.argv.slice(2).join(" ")
    }`,
  );
  process.exit(2);
}

function describe(event: ProcEvent): string {
  switch (event.type) {
    case "fork": {
      const what = event.childTgid === event.childPid ? "process" : "thread";
      return `fork: ${event.parentTgid} -> ${event.childPid} (${what})`;
    }
    case "exec":
      return `exec: ${event.processTgid}`;
    case "exit":
      return `exit: ${event.processPid} ` + (event.termSignal === undefined
        ? `status ${event.exitStatus}`
        : `killed by signal ${event.termSignal}`);
    case "uid":
      return `uid: ${event.processTgid} ruid ${event.ruid} euid ${event.euid}`;
    case "gid":
      return `gid: ${event.processTgid} rgid ${event.rgid} egid ${event.egid}`;
    case "sid":
      return `sid: ${event.processTgid} leads a new session`;
    case "comm":
      return `comm: ${event.processPid} is now "${event.comm}"`;
    case "ptrace":
      return `ptrace: ${event.processPid} `
        + (event.tracerTgid ? `traced by ${event.tracerTgid}` : "detached");
    case "coredump":
      return `coredump: ${event.processTgid}`;
    case "ack":
      return `ack: errno ${event.errno}`;
    case "unknown":
      return `event 0x${event.what.toString(16)}`;
  }
}

let events;
try {
  events = await openProcEvents({ receiveBufferSize: 4 << 20 });
} catch (err) {
  console.error(`cannot watch process events: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
}
await using monitor = events;
console.log("watching process events...");
const signal = Number.isFinite(seconds) ? AbortSignal.timeout(seconds * 1000) : undefined;
try {
  for await (const event of monitor.events({ signal })) {
    if (event.type === "overrun") {
      console.log(`! the kernel dropped events (${monitor.overruns} overruns so far)`);
    } else {
      console.log(describe(event));
    }
  }
} catch (err) {
  if (!(err instanceof DOMException && err.name === "TimeoutError")) throw err;
}
