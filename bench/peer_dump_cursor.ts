// ../shared/peers' dump workload through sock.dump().cursor(): the parts walked in place, each
// route decoded from the cursor's view as the harness's bare FFI loop (ts/nlwire.ts) decodes it
// from its receive buffer: the same four fields, the same tests. Run by the harness with
// bench/peers.tsv as EXTRA_PEERS (see bench/RESULTS.md). Usage: <runtime>
// bench/peer_dump_cursor.ts <checkout>/mod.ts
import { finish, nl, routes, rtmsg } from "./_peer_dump.ts";

const t0 = performance.now();
const sock = await nl.open(0);
for await (const c of sock.dump({ type: 26, payload: rtmsg }).cursor()) {
  const dv: DataView = c.view;
  const buf: Uint8Array = c.data;
  const base: number = c.byteOffset;
  while (c.next()) {
    const off: number = c.offset; // the header's offset in buf
    if (c.type !== 24 || buf[off + 16] !== 2) continue;
    const dstLen = buf[off + 17];
    let table = buf[off + 20];
    let oif = 0, dst = -1;
    const end = off + 16 + c.payloadLength;
    for (let a = off + 28; a + 4 <= end;) { // nlmsghdr(16) + rtmsg(12)
      const alen = dv.getUint16(base + a, true);
      if (alen < 4 || a + alen > end) break;
      switch (dv.getUint16(base + a + 2, true)) {
        case 15:
          table = dv.getUint32(base + a + 4, true);
          break; // RTA_TABLE
        case 4:
          oif = dv.getInt32(base + a + 4, true);
          break; // RTA_OIF
        case 1:
          dst = a + 4;
          break; // RTA_DST
      }
      a += (alen + 3) & ~3;
    }
    if (table === 254) {
      routes.push({
        dst: dst < 0 ? "0.0.0.0" : `${buf[dst]}.${buf[dst + 1]}.${buf[dst + 2]}.${buf[dst + 3]}`,
        dstLen,
        table,
        oif,
      });
    }
  }
}
await sock.close();
await finish(t0);
