// Runs an example the way its header comment tells users to, on the runtime running the tests:
// the `deno run ...` line's permission flags verbatim under Deno, `bun examples/x.ts` under Bun.
// So a usage line that lacks a permission the example needs fails a test.

import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";

const root = new URL("../", import.meta.url).pathname;

/** The permission flags the example's `deno run` usage line gives. */
export function documentedDenoFlags(example: string): string[] {
  const text = readFileSync(`${root}examples/${example}`, "utf8");
  const line = text.split("\n").find((l) => l.includes("deno run") && l.includes(example));
  if (line === undefined) throw new Error(`examples/${example} has no "deno run" usage line`);
  const words = line.replace(/^\/\/\s*/, "").split(/\s+/);
  return words.slice(words.indexOf("run") + 1, words.indexOf(`examples/${example}`));
}

/** Output and exit status of running examples/`example` with `args` (optionally via a prefix). */
export function runExample(
  example: string,
  args: string[] = [],
  options: {
    prefix?: string[];
    timeoutMs?: number;
    /** Called with the output so far each time some arrives, and the running example. */
    onStdout?: (text: string, child: ChildProcess) => void;
  } = {},
): Promise<
  { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
> {
  const runtime = "Deno" in globalThis
    ? [process.execPath, "run", ...documentedDenoFlags(example)]
    : [process.execPath];
  const [command, ...rest] = [...options.prefix ?? [], ...runtime, `examples/${example}`, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(command, rest, { cwd: root, env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
      options.onStdout?.(stdout, child);
    });
    child.stderr.on("data", (d) => stderr += d);
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 20_000);
    child.on("error", reject);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}
