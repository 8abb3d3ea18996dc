// A subscriber for ../shared/peers' events workload (run by bench/event_latency.sh): joins
// RTNLGRP_LINK and prints "<CLOCK_MONOTONIC ns> <up>" for each up/down change of link IFINDEX,
// WANT of them. LAYER says what it measures:
//   socket     open(..., { groups }) + for await: what a user's monitor gets
//   listen     open(..., { groups }) + sock.listen(handler): the handler runs in the wake-up's task
//   transport  the bare transport: receive until empty, then wait(): the waiting design alone
//   then       the same with waitThen(): its callback runs in the wake-up's task
//   ynl        the typed monitor: family(rtLink) + for await over monitor({ groups })
//   ynlpick    the same with attrs: ["ifname", "operstate", "linkinfo"] (what a watcher reads)
// The clock is read as the harness's reference peers read it (clock_gettime through FFI).
// NL_LIB, if set, is another checkout of the library to measure (e.g. an older commit's
// worktree), loaded instead of this one's, never beside it: JavaScriptCore shares compiled code
// between modules of the same source text, and a class evaluated twice (each copy's) loses the
// constant folding of its private names in every optimized function (a `#field` read became a
// scope load and a check: 222 such in the DFG code of a `for await` subscriber with two copies
// of one tree, none with one). Each checkout's own MessageCursor walks its messages.
//
//   [NL_LIB=DIR] bench/events_peer.ts PEERS_TS_DIR LAYER IFINDEX WANT READY_FILE

import { writeFileSync } from "node:fs";
import process from "node:process";
import type { openTransport as OpenTransport } from "../ffi/mod.ts";
import type * as thisLibrary from "../mod.ts";
import { SignalEntry } from "./_signal_entry.ts";

const [peersTs, layer, ifindexArg, wantArg, ready] = process.argv.slice(2);
const ifindex = Number(ifindexArg), want = Number(wantArg);
const other = process.env.NL_LIB;
const libRoot = other ? `file://${other}/` : new URL("../", import.meta.url).href;
const lib: typeof thisLibrary = await import(new URL("mod.ts", libRoot).href);
const { openTransport }: { openTransport: typeof OpenTransport } = await import(
  new URL("ffi/mod.ts", libRoot).href
);
const {
  NETLINK_ADD_MEMBERSHIP,
  NETLINK_ROUTE,
  NLMSG_OVERRUN,
  open,
  RTM_NEWLINK,
  MessageCursor,
  RTNLGRP_LINK,
  SOL_NETLINK,
} = lib;
const { libc } = await import(
  new URL("Bun" in globalThis ? "libc_bun.ts" : "libc_deno.ts", `file://${peersTs}/`).href
);
const out: string[] = [];
let up = -1;
const rt = "Bun" in globalThis ? "bun" : "deno";
// Named as bench/event_latency.sh names the peer (DENO_V8_FLAGS: its V8_FLAGS option).
const flagged = process.env.DENO_V8_FLAGS ? "-v8flags" : "";
const entry = new SignalEntry(`${other ? "old-" : ""}${rt}-${layer}${flagged}`);
entry.listen();
/** Records a change of the watched link; true once WANT have been seen. */
function seen(time: bigint, index: number, flags: number): boolean {
  if (index !== ifindex || (flags & 1) === up) return false;
  entry.record();
  up = flags & 1;
  out.push(`${time} ${up}`);
  return out.length >= want;
}

if (layer === "then") {
  // The transport with waitThen(): receive until empty, then a callback that does the same.
  const t = openTransport(NETLINK_ROUTE, { portid: 0 });
  t.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_LINK);
  writeFileSync(ready, "");
  const c = new MessageCursor();
  const { promise: done, resolve, reject } = Promise.withResolvers<void>();
  const step = (): void => {
    for (let d = t.receive(); d !== undefined; d = t.receive()) {
      const time = libc.monoNs();
      for (c.reset(d.data); c.next();) {
        if (c.type !== RTM_NEWLINK) continue;
        const at = c.byteOffset + c.payloadOffset;
        if (seen(time, c.view.getInt32(at + 4, true), c.view.getUint32(at + 8, true))) {
          return resolve();
        }
      }
    }
    t.waitThen!(step, reject);
  };
  step();
  await done;
  t.close();
} else if (layer === "transport") {
  const t = openTransport(NETLINK_ROUTE, { portid: 0 });
  t.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_LINK);
  writeFileSync(ready, "");
  const c = new MessageCursor();
  all: for (;;) {
    for (let d = t.receive(); d !== undefined; d = t.receive()) {
      const time = libc.monoNs();
      for (c.reset(d.data); c.next();) {
        if (c.type !== RTM_NEWLINK) continue;
        const at = c.byteOffset + c.payloadOffset;
        if (seen(time, c.view.getInt32(at + 4, true), c.view.getUint32(at + 8, true))) break all;
      }
    }
    await t.wait();
  }
  t.close();
} else if (layer === "ynl" || layer === "ynlpick") {
  const { family } = await import(new URL("src/ynl/mod.ts", libRoot).href);
  const { rtLink } = await import(new URL("src/ynl/rt_link.ts", libRoot).href);
  const rt = await family(rtLink);
  writeFileSync(ready, "");
  // Without attrs unless asked: an older checkout (NL_LIB) refuses the option.
  const groups = ["rtnlgrp-link"];
  const options = layer === "ynlpick"
    ? { groups, attrs: ["ifname", "operstate", "linkinfo"] }
    : { groups };
  for await (const event of rt.monitor(options)) {
    if (event.op !== "newlink-ntf") continue;
    const time = libc.monoNs();
    const { ifiIndex, ifiFlags } = event.message;
    // IFF_UP, however the flag set is shown (a number, or the names set).
    const flags = typeof ifiFlags === "number" ? ifiFlags : Number(ifiFlags.includes("up"));
    if (seen(time, ifiIndex, flags)) break;
  }
  rt.socket.close();
} else if (layer === "listen") {
  const sock = await open(NETLINK_ROUTE, { groups: [RTNLGRP_LINK] });
  writeFileSync(ready, "");
  const done = new AbortController();
  await sock.listen((m) => {
    if (m.type === NLMSG_OVERRUN) {
      throw new Error(`overrun (ENOBUFS) after ${out.length} of ${want} changes`);
    }
    if (m.type !== RTM_NEWLINK) return;
    const time = libc.monoNs();
    const v = new DataView(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength);
    if (seen(time, v.getInt32(4, true), v.getUint32(8, true))) done.abort();
  }, { signal: done.signal }).catch((err) => {
    if (!done.signal.aborted) throw err;
  });
  sock.close();
} else {
  const sock = await open(NETLINK_ROUTE, { groups: [RTNLGRP_LINK] });
  writeFileSync(ready, "");
  for await (const m of sock) {
    // Lost events leave this subscriber short of WANT for good: say so and fail, rather than be
    // killed by the harness's timeout with nothing to show (the transport layer throws too).
    if (m.type === NLMSG_OVERRUN) {
      throw new Error(`overrun (ENOBUFS) after ${out.length} of ${want} changes`);
    }
    if (m.type !== RTM_NEWLINK) continue;
    const time = libc.monoNs();
    const v = new DataView(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength);
    if (seen(time, v.getInt32(4, true), v.getUint32(8, true))) break;
  }
  await sock.close();
}
entry.write();
console.log(out.join("\n"));
