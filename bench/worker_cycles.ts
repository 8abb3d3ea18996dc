// One fresh Worker running bench/_worker_cycles.ts against the library at LIB (a directory URL
// or path; default: this checkout). Prints one JSON line: runtime, first (ms), per (us/cycle).
import process from "node:process";
import { pathToFileURL } from "node:url";

const lib = process.env.LIB
  ? pathToFileURL(process.env.LIB.replace(/\/?$/, "/")).href
  : new URL("../", import.meta.url).href;
const cycles = Number(process.env.CYCLES ?? 200);
const worker = new Worker(new URL("./_worker_cycles.ts", import.meta.url).href, {
  type: "module",
});
const result = await new Promise((resolve, reject) => {
  worker.onerror = reject;
  worker.onmessage = (e) => {
    if (e.data === "ready") worker.postMessage({ lib, cycles });
    else resolve(e.data);
  };
});
worker.terminate();
console.log(JSON.stringify({ runtime: "Bun" in globalThis ? "bun" : "deno", ...result as object }));
process.exit(0);
