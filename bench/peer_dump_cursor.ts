// ../shared/peers' dump workload through sock.dump().cursor(): the parts walked in place, each
// route decoded from the cursor's view as the harness's bare FFI loop (ts/nlwire.ts) decodes it
// from its receive buffer: the same four fields, the same tests. Run by the harness with
// bench/peers.tsv as EXTRA_PEERS (see bench/RESULTS.md). Usage: <runtime>
// bench/peer_dump_cursor.ts <checkout>/mod.ts
// deno-lint-ignore-file no-explicit-any
const g = globalThis as any;
const argv: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const nl: any = await import("file://" + argv[0]);
type Route = { dst: string; dstLen: number; table: number; oif: number };
const routes: Route[] = [];
const req = new Uint8Array(12);
req[0] = 2; // rtmsg, AF_INET
const t0 = performance.now();
const sock = await nl.open(0);
for await (const c of sock.dump({ type: 26, payload: req }).cursor()) {
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
const ms = performance.now() - t0;
const tf = g.Deno ? g.Deno.env.get("NLBENCH_TFILE") : g.process.env.NLBENCH_TFILE;
if (tf) {
  const line = ms.toFixed(3) + "\n";
  if (g.Deno) g.Deno.writeTextFileSync(tf, line, { append: true });
  else (await import("node:fs")).appendFileSync(tf, line);
}
console.log(routes.length);
