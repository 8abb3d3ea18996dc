// The example scripts/gen_ynl.ts writes into each generated family's JSDoc, pasted as a new user
// would (imports rewritten to this checkout), each run as a script of its own in a fresh
// namespace on the runtime running the tests (Deno: --allow-ffi alone, and --no-check:
// scripts/check.sh type-checks them). Each lists or asks something of its family, or says the family is not
// registered on this kernel (no module for it here: the guest runs those it has); nothing else.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { importsFromCheckout, jsdocExamples, runInNetns } from "../_jsdoc.ts";
import { Netns } from "../host/_netns.ts";

const root = new URL("../../", import.meta.url).pathname;
const modules = Object.entries(
  JSON.parse(readFileSync(join(root, "deno.json"), "utf8")).exports as Record<string, string>,
)
  .filter(([name]) => /^\.\/ynl\/[a-z]/.test(name))
  .map(([, file]) => file.slice(2));

test("every generated family's example answers, or says its family is not registered here", () => {
  using ns = new Netns();
  const dir = mkdtempSync(join(tmpdir(), "ynl-examples-"));
  try {
    const outcomes: Record<string, string> = {};
    for (const file of modules) {
      const found = jsdocExamples(file);
      assert.equal(found.length, 1, file);
      const example = join(dir, "example.ts");
      writeFileSync(example, importsFromCheckout(found[0].code));
      const child = runInNetns(ns.name, example);
      outcomes[file] = child.status === 0
        ? "ok"
        : `${child.stderr} status ${child.status} ${child.signal} ${child.error}`;
    }
    const failed = Object.entries(outcomes).filter(([, outcome]) =>
      outcome !== "ok"
      && !/ENOENT: generic netlink family "[a-z0-9_-]+" is not registered/.test(outcome)
    );
    assert.deepEqual(failed, []);
    // The families this host has are among them, and answered.
    for (const file of ["rt_link", "nftables", "conntrack", "netdev", "nlctrl"]) {
      assert.equal(outcomes[`src/ynl/${file}.ts`], "ok", file);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a generated example asks something (a dump, or a do with a reply) before it would act", () => {
  for (const file of modules) {
    const code = jsdocExamples(file)[0].code;
    const call = /client\.(do|dump)\("([a-z0-9-]+)"\)/.exec(code);
    if (call === null || call[1] === "dump") continue;
    const descriptor = readFileSync(join(root, file), "utf8");
    const op = new RegExp(`\\n    "?${call[2]}"?: \\{[^}]*do: \\{([^}]*)\\}`).exec(descriptor);
    assert.ok(op, `${file}: ${call[2]}`);
    const anyReply = /do: \{ [^}]*reply: true/.test(descriptor);
    if (anyReply) assert.match(op[1], /reply: true/, `${file}: ${call[2]} answers nothing`);
  }
});
