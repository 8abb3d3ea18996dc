// ROUNDS fresh Workers, each running bench/_worker_cycles.ts against this checkout's library and,
// in turn, against the one at OLD (another checkout) if set. Each Worker loads the library
// anew (a Worker has its own modules). Prints the medians: us per cycle, ms for the first wait.
//
//   [OLD=DIR] [CYCLES=200] {bun | deno run -A} bench/worker_cycles.ts [ROUNDS]
import process from "node:process";
import { pathToFileURL } from "node:url";

const runtime = "Bun" in globalThis ? "bun" : "deno";
const rounds = Number(process.argv.at(-1)) || 9;
const cycles = Number(process.env.CYCLES ?? 200);
const trees: [string, string][] = [["this", new URL("../", import.meta.url).href]];
if (process.env.OLD) trees.push([process.env.OLD, pathToFileURL(`${process.env.OLD}/`).href]);

interface Run {
  first: number;
  per: number;
}

async function run(lib: string): Promise<Run> {
  const worker = new Worker(new URL("./_worker_cycles.ts", import.meta.url).href, {
    type: "module",
  });
  try {
    return await new Promise<Run>((resolve, reject) => {
      worker.onerror = reject;
      worker.onmessage = (e) => {
        if (e.data === "ready") worker.postMessage({ lib, cycles });
        else resolve(e.data);
      };
    });
  } finally {
    worker.terminate();
  }
}

const runs = new Map<string, Run[]>(trees.map(([name]) => [name, []]));
for (let i = 0; i < rounds; i++) {
  // Each goes first in every other round.
  for (const [name, lib] of i % 2 ? trees.toReversed() : trees) {
    runs.get(name)!.push(await run(lib));
  }
}
const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
const range = (xs: number[]) => `${xs[0].toFixed(0)}-${xs.at(-1)!.toFixed(0)}`;
console.log(`${runtime}: a Worker opens / waits for one datagram / closes, ${cycles} cycles`);
for (const [name, rs] of runs) {
  const per = rs.map((r) => r.per), first = rs.map((r) => r.first);
  console.log(
    `  ${name.padEnd(20)} ${median(per).toFixed(0)} us/cycle (${range(per)}) | first wait `
      + `${median(first).toFixed(1)} ms (${range(first)})  (${rs.length} runs)`,
  );
}
process.exit(0);
