// src/_constants.ts, the kernel constants the library's own modules use, against what
// scripts/gen_constants.ts would write now: exactly the names the library's modules import from
// it (a name no module imports any more is stale; one imported but missing fails type-checking),
// each exported by src/constants.ts too. And only the modules that need every constant load
// src/constants.ts (1,400 exports: the largest module of a one-shot script's graph).

import assert from "node:assert/strict";
import { test } from "node:test";
import { importersOf, internalConstantUses } from "../../scripts/_constant_uses.ts";
import * as internal from "../../src/_constants.ts";
import * as constants from "../../src/constants.ts";

const root = new URL("../../", import.meta.url).pathname;

test("src/_constants.ts holds the names the library imports from it, which src/constants.ts exports", () => {
  assert.deepEqual(Object.keys(internal).sort(), internalConstantUses(root), "run `npm run gen`");
  const values = constants as Record<string, unknown>;
  for (const [name, value] of Object.entries(internal)) assert.equal(value, values[name], name);
});

test("only the formatter and the test kit import src/constants.ts; the rest src/_constants.ts", () => {
  // format.ts names any constant; src/testing/ imports format.ts. mod.ts re-exports them all.
  const importers = [...importersOf(root, "src/constants.ts").keys()].filter((file) =>
    file !== "src/format.ts" && !file.startsWith("src/testing/")
  );
  assert.deepEqual(importers, []);
});
