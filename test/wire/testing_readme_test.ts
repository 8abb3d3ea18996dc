// src/testing/README.md shows test/wire/testing_example_test.ts verbatim (with the package's
// import specifiers), and the Deno command it gives (no --allow-ffi) runs it.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";
import { test } from "node:test";

const root = new URL("../../", import.meta.url).pathname;

test("the README's example test is test/wire/testing_example_test.ts", () => {
  const readme = readFileSync(`${root}src/testing/README.md`, "utf8");
  const block = readme.match(/```ts\n([\s\S]*?)```/)?.[1];
  assert.ok(block !== undefined, "a ts code block");
  let example = readFileSync(`${root}test/wire/testing_example_test.ts`, "utf8");
  const exports: Record<string, string> = JSON.parse(
    readFileSync(`${root}deno.json`, "utf8"),
  ).exports;
  for (const [name, path] of Object.entries(exports)) {
    example = example.replaceAll(`"../../${path.slice(2)}"`, `"@netlink/netlink${name.slice(1)}"`);
  }
  // The same imports (dprint orders them differently in Markdown), then the same code.
  const split = (code: string) => {
    const lines = code.split("\n");
    const imports = lines.filter((l) => l.startsWith("import "));
    return { imports: imports.sort(), body: lines.filter((l) => !l.startsWith("import ")) };
  };
  assert.deepEqual(split(block), split(example));
});

if ("Deno" in globalThis) {
  test("the example passes with the README's Deno permissions: no FFI", () => {
    const result = spawnSync(
      process.execPath,
      ["test", "--allow-read", "--allow-env=NETLINK_RECORD", "test/wire/testing_example_test.ts"],
      { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", NETLINK_RECORD: "" } },
    );
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /1 passed/);
  });
}
