// ../shared/peers' dump workload through sock.dump().forEach(): ts/lib_dump.ts with the
// `for await` loop replaced by a handler, the same decode of the same four fields. Run by the
// harness with bench/peers.tsv as EXTRA_PEERS (see bench/RESULTS.md). Usage: <runtime>
// bench/peer_dump_foreach.ts <checkout>/mod.ts
// deno-lint-ignore-file no-explicit-any
import { finish, nl, routes, rtmsg } from "./_peer_dump.ts";

const t0 = performance.now();
const sock = await nl.open(0);
await sock.dump({ type: 26, payload: rtmsg }).forEach((m: any) => {
  const p: Uint8Array = m.payload;
  if (m.type !== 24 || p[0] !== 2) return;
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  let table = p[4], dst = "", oif = 0;
  for (let o = 12; o + 4 <= p.length;) {
    const l = dv.getUint16(o, true), t = dv.getUint16(o + 2, true) & 0x3fff;
    if (l < 4) break;
    if (t === 1) dst = `${p[o + 4]}.${p[o + 5]}.${p[o + 6]}.${p[o + 7]}`;
    else if (t === 4) oif = dv.getUint32(o + 4, true);
    else if (t === 15) table = dv.getUint32(o + 4, true);
    o += (l + 3) & ~3;
  }
  if (table === 254) routes.push({ dst, dstLen: p[1], table, oif });
});
await sock.close();
await finish(t0);
