// What bench/peer_dump_*.ts share, as ../shared/peers' ts/lib_dump.ts has it: the library under
// test (its mod.ts given as the first argument), the list of routes each peer builds, the dump
// request's rtmsg (AF_INET), and the end of a run (the in-process time appended to
// $NLBENCH_TFILE, the count printed for the harness to check).
// deno-lint-ignore-file no-explicit-any
const g = globalThis as any;
const argv: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);

/** The library under test. */
export const nl: any = await import("file://" + argv[0]);

/** One main-table IPv4 route, the four fields every peer decodes. */
export type Route = { dst: string; dstLen: number; table: number; oif: number };

/** The routes decoded so far. */
export const routes: Route[] = [];

/** RTM_GETROUTE's payload: an rtmsg asking for AF_INET. */
export const rtmsg = new Uint8Array(12);
rtmsg[0] = 2;

/** Ends a run that began at `t0` (performance.now(), taken just before opening the socket). */
export async function finish(t0: number): Promise<void> {
  const ms = performance.now() - t0;
  const tf = g.Deno ? g.Deno.env.get("NLBENCH_TFILE") : g.process.env.NLBENCH_TFILE;
  if (tf) {
    const line = ms.toFixed(3) + "\n";
    if (g.Deno) g.Deno.writeTextFileSync(tf, line, { append: true });
    else (await import("node:fs")).appendFileSync(tf, line);
  }
  console.log(routes.length);
}
