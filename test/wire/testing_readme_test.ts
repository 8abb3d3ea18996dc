// src/testing/README.md shows test/wire/testing_fake_example_test.ts and
// test/wire/testing_example_test.ts verbatim (with the package's import specifiers), and the
// Deno permissions it gives (none; --allow-read --allow-env=NETLINK_RECORD) run them.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";
import { test } from "node:test";

const root = new URL("../../", import.meta.url).pathname;

const examples = ["testing_fake_example_test.ts", "testing_example_test.ts"];

test("the README's example tests are those in test/wire/, in order", () => {
  const readme = readFileSync(`${root}src/testing/README.md`, "utf8");
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.equal(blocks.length, examples.length);
  examples.forEach((file, i) => sameCode(blocks[i], file));
});

/** `block` is test/wire/`file` with the package's specifiers for the repository's paths. */
function sameCode(block: string, file: string): void {
  let example = readFileSync(`${root}test/wire/${file}`, "utf8");
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
  assert.deepEqual(split(block), split(example), file);
}

if ("Deno" in globalThis) {
  test("the examples pass with the README's Deno permissions: no FFI", () => {
    const run = (...args: string[]) => {
      const result = spawnSync(process.execPath, ["test", ...args], {
        cwd: root,
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "1", NETLINK_RECORD: "" },
      });
      assert.equal(result.status, 0, result.stdout + result.stderr);
      return result.stdout;
    };
    assert.match(run(`test/wire/${examples[0]}`), /2 passed/);
    assert.match(
      run("--allow-read", "--allow-env=NETLINK_RECORD", `test/wire/${examples[1]}`),
      /1 passed/,
    );
  });
}
