// The package as JSR's npm compatibility layer serves it to Bun and Node users (`bunx jsr add
// @netlink/netlink`, as the README says): JSR puts in that tarball the module graph of deno.json's
// exports, code and type dependencies, each TypeScript module transpiled to a .js file whose
// import, export and import() specifiers are rewritten to .js; no other file
// (jsr-io/jsr api/src/npm/tarball.rs and import_transform.rs). A file that only a Worker's URL
// names is not in it, and that URL is not rewritten. Runs on both runtimes; the install itself
// is built and run on Bun.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const isBun = "Bun" in globalThis;
const DENO = isBun ? join(ROOT, "node_modules/.bin/deno") : process.execPath;
const EXPORTS: Record<string, string> = JSON.parse(
  readFileSync(join(ROOT, "deno.json"), "utf8"),
).exports;

/** The repository's files (relative paths) in the module graph of every export. */
function packageGraph(): string[] {
  const dir = mkdtempSync(join(tmpdir(), "jsr-graph-"));
  try {
    const entry = join(dir, "all.ts");
    writeFileSync(
      entry,
      Object.values(EXPORTS).map((file) => `import ${JSON.stringify(join(ROOT, file))};\n`).join(
        "",
      ),
    );
    const info = JSON.parse(
      execFileSync(DENO, ["info", "--json", entry], { encoding: "utf8", maxBuffer: 1 << 28 }),
    ) as { modules: { specifier: string }[] };
    return info.modules.map((m) => m.specifier).filter((s) => s.startsWith(`file://${ROOT}`))
      .map((s) => fileURLToPath(s).slice(ROOT.length)).sort();
  } finally {
    rmSync(dir, { recursive: true });
  }
}

test("the Bun poller Worker's module is in the exports' module graph, which JSR's npm tarball holds", () => {
  const graph = packageGraph();
  assert.ok(graph.includes("src/route/mod.ts"), graph.join(" "));
  assert.ok(graph.includes("ffi/_bun_poller.ts"), "ffi/_bun_poller.ts is not in the graph");
});

/** The install `bunx jsr add @netlink/netlink` makes, built as JSR builds its tarball (Bun). */
function install(): string {
  const dir = mkdtempSync(join(tmpdir(), "jsr-npm-"));
  installs.push(dir);
  const pkg = join(dir, "node_modules/@netlink/netlink");
  const transpiler = new (globalThis as unknown as {
    Bun: { Transpiler: new(options: { loader: string }) => { transformSync(c: string): string } };
  }).Bun.Transpiler({ loader: "ts" });
  for (const file of packageGraph()) {
    const js = transpiler.transformSync(readFileSync(join(ROOT, file), "utf8")).replace(
      /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']+)\.ts(["'])/g,
      "$1$2.js$3",
    );
    const target = join(pkg, file.replace(/\.ts$/, ".js"));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, js);
  }
  writeFileSync(
    join(pkg, "package.json"),
    JSON.stringify({
      name: "@jsr/netlink__netlink",
      type: "module",
      exports: Object.fromEntries(
        Object.entries(EXPORTS).map(([key, file]) => [key, file.replace(/\.ts$/, ".js")]),
      ),
    }),
  );
  return dir;
}

const installs: string[] = [];
after(() => {
  for (const dir of installs) rmSync(dir, { recursive: true });
});
const bunOnly = {
  skip: isBun
    ? false
    : "the npm install is Bun's way in (Deno imports jsr: directly); Bun transpiles here",
};

test("installed as JSR's npm tarball, a Bun Worker waits: its poller is found", bunOnly, () => {
  const dir = install();
  // A Worker of the user's waits for a datagram another socket sends it (NETLINK_USERSOCK,
  // unicast: no privilege, nothing another test sees).
  writeFileSync(
    join(dir, "worker.js"),
    `import { NETLINK_USERSOCK, open } from "@netlink/netlink";
    try {
      await using a = await open(NETLINK_USERSOCK);
      await using b = await open(NETLINK_USERSOCK);
      const steps = b.messages();
      const next = steps.next();
      a.send({ type: 0x20 }, { portid: b.portid });
      postMessage(\`woke: type \${(await next).value.type}\`);
      await steps.return();
    } catch (error) {
      postMessage(\`failed: \${error}\`);
    }`,
  );
  writeFileSync(
    join(dir, "main.js"),
    `const worker = new Worker(new URL("./worker.js", import.meta.url).href);
    worker.onmessage = (event) => {
      console.log(event.data);
      worker.terminate();
    };`,
  );
  const run = spawnSync(process.execPath, ["main.js"], {
    cwd: dir,
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.equal(run.stdout.trim(), "woke: type 32", run.stderr);
});

test(
  "installed as JSR's npm tarball, the command line runs as src/cli/main.ts's JSDoc says",
  bunOnly,
  () => {
    const dir = install();
    const doc = readFileSync(join(ROOT, "src/cli/main.ts"), "utf8");
    const command = /^ \* (bun node_modules\/\S+)/m.exec(doc)?.[1];
    assert.equal(command, "bun node_modules/@netlink/netlink/src/cli/main.js");
    const run = spawnSync(
      process.execPath,
      [command!.split(" ")[1], "--json", "link", "show", "lo"],
      { cwd: dir, encoding: "utf8", timeout: 60_000 },
    );
    assert.equal(run.status, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout)[0].ifname, "lo");
  },
);
