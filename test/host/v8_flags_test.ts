// The README's advice for Deno monitors: DENO_V8_FLAGS asking V8 to compile sooner. A child Deno
// run with those flags (and --trace-opt, to see them act) receives 600 messages one wake-up at a
// time, through `for await` and then `listen()`, all in order, and V8 has compiled the library's
// per-datagram decode with TurboFan within them (by default it takes 3,000 calls).

import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { runDeno } from "../_deno.ts";

const openUrl = new URL("../../src/open.ts", import.meta.url).href;
const constantsUrl = new URL("../../src/constants.ts", import.meta.url).href;
/** As the README gives them, plus --trace-opt. */
const README_FLAGS = "--invocation-count-for-maglev=20,--invocation-count-for-turbofan=60";

const child = `
import { open } from ${JSON.stringify(openUrl)};
import { NETLINK_USERSOCK } from ${JSON.stringify(constantsUrl)};
const indexOf = (m) => new DataView(m.payload.buffer, m.payload.byteOffset).getUint32(0, true);
const indexed = (i) => ({ type: 0x10, payload: new Uint8Array(new Uint32Array([i]).buffer) });
await using sock = await open(NETLINK_USERSOCK);
await using peer = await open(NETLINK_USERSOCK);
const sendLater = (i) => setTimeout(() => peer.send(indexed(i), { portid: sock.portid }), 1);
let next = 0;
sendLater(next);
for await (const msg of sock) {
  if (indexOf(msg) !== next) throw new Error("for await: got " + indexOf(msg) + ", want " + next);
  if (++next === 300) break;
  sendLater(next);
}
const done = new AbortController();
sendLater(next);
await sock.listen((msg) => {
  if (indexOf(msg) !== next) throw new Error("listen: got " + indexOf(msg) + ", want " + next);
  if (++next === 600) done.abort();
  else sendLater(next);
}, { signal: done.signal }).catch((e) => { if (!done.signal.aborted) throw e; });
console.error("received " + next); // stdout has the trace
`;

test(
  "Deno with the README's DENO_V8_FLAGS: every message arrives, and the decode is tiered up early",
  {
    skip: "Bun" in globalThis && "runs a Deno child; once, from Deno",
  },
  () => {
    const before = process.env.DENO_V8_FLAGS;
    process.env.DENO_V8_FLAGS = `${README_FLAGS},--trace-opt`;
    let run;
    try {
      run = runDeno(child, ["--allow-ffi", "--allow-read"]);
    } finally {
      if (before === undefined) delete process.env.DENO_V8_FLAGS;
      else process.env.DENO_V8_FLAGS = before;
    }
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /^received 600$/m);
    assert.match(
      run.stdout,
      /completed compiling [^\n]*<JSFunction decodeDatagram [^\n]*\(target TURBOFAN/,
      "decodeDatagram not compiled by TurboFan within 600 datagrams",
    );
  },
);
