// Runs a script under Deno whichever runtime runs the test: for what only Deno's permissions,
// or only its globals, can show (e.g. that --allow-ffi alone is enough).

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

const deno = new URL("../node_modules/.bin/deno", import.meta.url).pathname;

/** The child's exit status and output. */
export interface DenoRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Writes `source` to a temporary .ts file and runs it with `deno run --no-prompt --no-lock`
 * and `flags` (permissions), waiting up to 30 s; the file is removed afterwards.
 */
export function runDeno(source: string, flags: string[]): DenoRun {
  const dir = mkdtempSync(join(tmpdir(), "nltest-deno-"));
  try {
    const file = join(dir, "child.ts");
    writeFileSync(file, source);
    const { status, stdout, stderr } = spawnSync(
      deno,
      ["run", "--no-prompt", "--no-lock", ...flags, file],
      { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 30_000 },
    );
    return { status, stdout, stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
