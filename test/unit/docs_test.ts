// What the READMEs say about the repository itself: their links resolve, no code block hides from
// the type checker behind "ts ignore" (scripts/check.sh type-checks them all), the family count
// is the generated one, and every example is listed and run by a test as its header says.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { test } from "node:test";

const root = new URL("../../", import.meta.url).pathname;
const read = (path: string) => readFileSync(join(root, path), "utf8");
const READMES = [
  "README.md",
  "src/route/README.md",
  "src/ynl/README.md",
  "src/testing/README.md",
  "ffi/README.md",
  "test/vm/README.md",
  "kernel-module/README.md",
];

/** Every file under `dir` (relative to the root) whose name ends with `suffix`. */
function files(dir: string, suffix: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(suffix) && !f.includes("node_modules"))
    .map((f) => join(dir, f));
}

test("every relative link in the READMEs points at a file or directory of the repository", () => {
  for (const readme of READMES) {
    for (const [, target] of read(readme).matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      assert.ok(existsSync(join(root, dirname(readme), target)), `${readme}: link ${target}`);
    }
  }
});

test("no code block in the READMEs or the JSDoc is marked ts ignore", () => {
  const sources = [
    ...READMES,
    "mod.ts",
    ...files("src", ".ts"),
    ...files("ffi", ".ts"),
    ...files("kernel-module", ".ts"),
  ];
  const ignored = sources.filter((f) => /```ts ignore/.test(read(f)));
  assert.deepEqual(ignored, []);
});

test("the README's count of typed families is the number generated", () => {
  const exports = Object.keys(JSON.parse(read("deno.json")).exports);
  const families = exports.filter((e) => e.startsWith("./ynl/"));
  const count = Number(/nftables\.\.\. (\d+) in all/.exec(read("README.md"))![1]);
  assert.equal(families.length, count);
});

test("every example is listed in the README and run by a test", () => {
  const readme = read("README.md");
  const tests = [...files("test", "_test.ts")].map(read).join("\n");
  for (const example of readdirSync(join(root, "examples")).filter((f) => f.endsWith(".ts"))) {
    assert.ok(readme.includes(`\`${example}\``), `README.md lists examples/${example}`);
    assert.match(tests, new RegExp(`runExample\\(\\s*"${example.replace(".", "\\.")}"`), example);
  }
});

test("README's way to use a clone: the file it names is the export's, and Deno's links config resolves the names", () => {
  const readme = read("README.md");
  const exports = JSON.parse(read("deno.json")).exports as Record<string, string>;
  const [, file, name] = /`"\.\/netlink\/([^"]+)"` for\s+`@netlink\/netlink\/([^`]+)`/.exec(
    readme,
  )!;
  assert.equal(`./${file}`, exports[`./${name}`]);
  const config = /`(\{ "links": [^`]+\})`/.exec(readme)![1];
  const dir = mkdtempSync(join(tmpdir(), "netlink-clone-"));
  try {
    symlinkSync(root, join(dir, "netlink"));
    writeFileSync(join(dir, "deno.json"), config);
    writeFileSync(
      join(dir, "main.ts"),
      "import { openRoute } from \"@netlink/netlink/route\";\n"
        + "import { NETLINK_ROUTE } from \"@netlink/netlink\";\n"
        + "console.log(typeof openRoute, NETLINK_ROUTE);\n",
    );
    // Offline (no registry is asked): the links resolve the names to the clone.
    const deno = join(root, "node_modules/.bin/deno");
    const result = spawnSync(deno, ["run", "--allow-ffi", "main.ts"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    });
    assert.equal(result.stdout, "function 0\n", result.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
