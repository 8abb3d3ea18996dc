// src/testing/README.md shows test/wire/testing_fake_example_test.ts and
// test/wire/testing_example_test.ts verbatim (with the package's import specifiers), and the
// Deno permissions it gives (none; --allow-read --allow-env=NETLINK_RECORD) run them, and its
// record command records.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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

  test("the record example records with the README's command, in a directory of its own", () => {
    // A copy of it where no fixtures/ directory is yet, its imports pointing at this checkout.
    const dir = mkdtempSync(`${tmpdir()}/nlrecord-`);
    try {
      const example = readFileSync(`${root}test/wire/${examples[1]}`, "utf8")
        .replaceAll("\"../../", `"${root}`);
      writeFileSync(`${dir}/mtu_test.ts`, example);
      const result = spawnSync(process.execPath, [
        ...["test", "--allow-ffi", "--allow-read", "--allow-write"],
        ...["--allow-env=NETLINK_RECORD", "mtu_test.ts"],
      ], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "1", NETLINK_RECORD: "1" },
      });
      assert.equal(result.status, 0, result.stdout + result.stderr);
      assert.ok(JSON.parse(readFileSync(`${dir}/fixtures/mtu_lo.json`, "utf8")));
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
}
