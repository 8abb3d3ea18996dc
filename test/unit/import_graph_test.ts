// What a one-shot script loads: the entry points other than mod.ts (which exports every
// constant and Capture) reach neither src/constants.ts (1,400 exports: the library's own modules
// take what they use from src/_constants.ts) nor src/capture.ts (loaded by the first open()
// asked for a capture). Static imports only, as a module's evaluation follows them; `import type`
// and `import()` are not loaded with it.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { test } from "node:test";

const root = new URL("../../", import.meta.url).pathname;

/** The modules `entry` (a path from the root) loads, as paths from the root. */
function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [resolve(root, entry)];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, "utf8");
    const statements = /^(?:import|export)\s+(?!type\b)([^;]*?)\s*from\s*"([^"]+)"/gms;
    for (const [, what, specifier] of source.matchAll(statements)) {
      // `import { type A, type B }` is elided as a whole.
      const names = /^\{([^}]*)\}$/.exec(what)?.[1].split(",").map((s) => s.trim()).filter(Boolean);
      if (names !== undefined && names.length > 0 && names.every((s) => s.startsWith("type "))) {
        continue;
      }
      if (specifier.startsWith(".")) stack.push(resolve(dirname(file), specifier));
    }
  }
  return new Set([...seen].map((file) => relative(root, file)));
}

for (
  const entry of [
    "src/route/mod.ts",
    "src/uevent.ts",
    "src/connector.ts",
    "src/diag/mod.ts",
    "src/cli/main.ts",
    "src/ynl/mod.ts",
  ]
) {
  test(`${entry} loads neither src/constants.ts nor src/capture.ts`, () => {
    const graph = staticGraph(entry);
    assert.ok(graph.has("src/_constants.ts") && graph.has("src/socket.ts"), [...graph].join(" "));
    assert.deepEqual(["src/constants.ts", "src/capture.ts"].filter((f) => graph.has(f)), []);
  });
}

test("mod.ts loads both, which it exports", () => {
  const graph = staticGraph("mod.ts");
  assert.ok(graph.has("src/constants.ts") && graph.has("src/capture.ts"));
});
