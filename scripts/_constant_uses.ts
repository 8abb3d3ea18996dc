/**
 * Which of the library's modules import which kernel constants, found in their source:
 * scripts/gen_constants.ts writes into src/_constants.ts exactly the names the library's modules
 * import from it, and test/unit/constants_test.ts checks that it holds them and that only the
 * modules that need all of src/constants.ts import that. Uses node:fs, so that the test runs on
 * Bun as well as Deno.
 *
 * @module
 */

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** The internal module's path from the repository root. */
export const INTERNAL_CONSTANTS = "src/_constants.ts";

/** The library's directories (tests left out). */
const SOURCE_DIRS = ["src", "ffi"];

/** The `.ts` files under `dir` (a path from `root`), tests left out, as paths from `root`. */
function sourceFiles(root: string, dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(root, path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts") ? [path] : [];
  });
}

/**
 * The library's modules (under src/ and ffi/, paths from `root`, the repository's path) that
 * import `target` (a path from `root`), each with the names it takes: by a named import
 * (`import { A, B as C } from "./_constants.ts"`) or through a namespace
 * (`import * as K from "../_constants.ts"`, then `K.A`).
 */
export function importersOf(root: string, target: string): Map<string, Set<string>> {
  const importers = new Map<string, Set<string>>();
  const wanted = resolve(root, target);
  for (const file of SOURCE_DIRS.flatMap((dir) => sourceFiles(root, dir))) {
    const source = readFileSync(join(root, file), "utf8");
    const from = (specifier: string) => resolve(root, dirname(file), specifier) === wanted;
    const names = new Set<string>();
    let imports = false;
    for (const [, list, specifier] of source.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
      if (!from(specifier)) continue;
      imports = true;
      for (const item of list.split(",")) {
        const name = item.trim().replace(/^type\s+/, "").split(/\s+as\s+/)[0];
        if (name) names.add(name);
      }
    }
    const namespaces = /import\s*\*\s*as\s+(\w+)\s+from\s*"([^"]+)"/g;
    for (const [, alias, specifier] of source.matchAll(namespaces)) {
      if (!from(specifier)) continue;
      imports = true;
      for (const [, name] of source.matchAll(new RegExp(`\\b${alias}\\.([A-Za-z_]\\w*)`, "g"))) {
        names.add(name);
      }
    }
    if (imports) importers.set(file, names);
  }
  return importers;
}

/** Every name the library's modules import from {@linkcode INTERNAL_CONSTANTS}, sorted. */
export function internalConstantUses(root: string): string[] {
  const names = new Set<string>();
  for (const used of importersOf(root, INTERNAL_CONSTANTS).values()) {
    for (const name of used) names.add(name);
  }
  return [...names].sort();
}
