// Placeholder guest test: proves the test/vm plumbing (module built, loaded by
// test/vm/guest.sh, both runners started). node:test + node:assert so that the
// same file runs under `deno test` and `bun test`.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";

test("the project's kernel module is loaded", () => {
  // Module names come from the `obj-m` line(s) of kernel-module/Kbuild (or its
  // Makefile, where Kbuild-style builds may also put them).
  const names: string[] = [];
  for (const file of ["Kbuild", "Makefile"]) {
    const url = new URL(`../../kernel-module/${file}`, import.meta.url);
    if (!existsSync(url)) continue;
    for (const m of readFileSync(url, "utf8").matchAll(/^\s*obj-m\s*[:+]?=\s*(.+)$/gm)) {
      names.push(
        ...m[1].trim().split(/\s+/).map((o) => o.replace(/\.o$/, "").replaceAll("-", "_")),
      );
    }
  }
  assert.ok(names.length > 0, "no obj-m in kernel-module/Kbuild or Makefile");
  const loaded = readFileSync("/proc/modules", "utf8").split("\n").map((l) => l.split(" ")[0]);
  for (const name of names) assert.ok(loaded.includes(name), `${name} not in /proc/modules`);
});
