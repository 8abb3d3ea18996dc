// The everyday tasks' snippets of src/route/README.md, run as written (import rewritten to this
// checkout) on the runtime running the tests, each in a fresh namespace holding a link eth0 with
// 10.0.0.1/24; on Deno with --allow-ffi only, as the README's permission section says.
// Then README.md's own blocks: its everyday example, and those of its blocks that end by themselves.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { Netns } from "../host/_netns.ts";

const root = new URL("../../", import.meta.url).pathname;
const readme = readFileSync(join(root, "src/route/README.md"), "utf8");
const snippets = [...readme.matchAll(/^([^\n]*):\n\n```ts\n([\s\S]*?)```/gm)].map((
  [, title, code],
) => ({
  title,
  code: code.replaceAll("@netlink/netlink/route", join(root, "src/route/mod.ts")),
}));
// The top README's example: the same, with its monitor loop.
const top = readFileSync(join(root, "README.md"), "utf8");
const lead = /## Quick start: everyday networking[\s\S]*?```ts\n([\s\S]*?)```/.exec(top)![1];
snippets.push({
  title: "README.md's everyday example",
  code: lead.replaceAll("@netlink/netlink/route", join(root, "src/route/mod.ts")),
});
const isBun = "Bun" in globalThis;
const deno = isBun ? join(root, "node_modules/.bin/deno") : process.execPath;

function run(
  command: string[],
  options: { whileRunning?: () => void; killAfterMs?: number } = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), { env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => stdout += d);
    child.stderr.on("data", (d) => stderr += d);
    const timer = setTimeout(() => child.kill("SIGKILL"), options.killAfterMs ?? 20_000);
    if (options.whileRunning) setTimeout(options.whileRunning, 1500);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

test("the README has a snippet for each everyday task it claims", () => {
  assert.equal(snippets.length, 11, snippets.map((s) => s.title).join("\n"));
});

for (const { title, code } of snippets) {
  test(`README snippet runs: ${title}`, async () => {
    using ns = new Netns();
    // The top README's example makes its own links; the tasks work on an eth0.
    if (!title.startsWith("README.md")) {
      ns.ipBatch([
        "link add eth0 type veth peer name eth0p",
        "link set eth0 up",
        "link set eth0p up",
        "addr add 10.0.0.1/24 dev eth0",
      ]);
    }
    const dir = mkdtempSync(join(tmpdir(), "route-doc-"));
    try {
      const file = join(dir, "snippet.ts");
      writeFileSync(file, code);
      const runtime = isBun ? [process.execPath, file] : [deno, "run", "--allow-ffi", file];
      const monitoring = code.includes("monitor(");
      const { status, stdout, stderr } = await run(
        ["ip", "netns", "exec", ns.name, ...runtime],
        monitoring
          ? {
            whileRunning: () => ns.ip("link", "add", "x0", "type", "veth", "peer", "name", "x1"),
            killAfterMs: 4000,
          }
          : {},
      );
      if (monitoring) {
        if (title.startsWith("README.md")) {
          assert.match(stdout, /dst: "10.0.0.7"/, stderr);
          assert.match(stdout, /dev: "veth0"/);
          assert.match(stdout, /link new (Link )?\{/);
        } else if (title.startsWith("Keep a table")) {
          // The links listed, then the pair made while it runs, in one table.
          assert.match(stdout, /^lo .*\beth0\b.*\bx0\b/m, stderr);
          return;
        } else assert.match(stdout, /object: "link"/, stderr);
        assert.match(stdout, /name: "x0"/);
        return;
      }
      assert.equal(status, 0, stderr);
      if (title.startsWith("List")) assert.match(stdout, /^1 lo /m);
      if (title.startsWith("Make a veth")) {
        assert.equal(ns.json<{ mtu: number }[]>("link", "show", "uplink")[0].mtu, 1400);
      }
      if (title.startsWith("A bridge")) {
        const port =
          ns.json<{ master: string; linkinfo: { info_slave_data: { learning: boolean } } }[]>(
            "-d",
            "link",
            "show",
            "veth0",
          )[0];
        assert.equal(port.master, "br0");
        assert.equal(port.linkinfo.info_slave_data.learning, false);
      }
      if (title.startsWith("FDB entries")) {
        const fdb = JSON.parse(
          execFileSync("bridge", ["-n", ns.name, "-j", "fdb", "show"], { encoding: "utf8" }),
        ) as { mac: string; ifname: string; dst?: string }[];
        assert.ok(!fdb.some((e) => e.mac === "02:00:00:00:00:02"), JSON.stringify(fdb));
        assert.ok(fdb.some((e) => e.ifname === "vx0" && e.dst === "192.0.2.2"));
        assert.match(stdout, /^02:00:00:00:00:02 veth0 static \[\]$/m);
      }
      if (title.startsWith("Add and delete")) {
        const addrs = ns.json<{ addr_info: { local: string }[] }[]>("address", "show", "eth0")[0]
          .addr_info.map((a) => a.local);
        assert.ok(addrs.includes("2001:db8::2") && !addrs.includes("10.0.0.2"), addrs.join(" "));
        const [metric] = ns.json<{ dst: string; metric?: number }[]>(
          "route",
          "show",
          "10.0.1.0/24",
        );
        assert.equal(metric.metric, 50);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("Deno: a netns name works with --allow-ffi alone (no --allow-read)", async () => {
  using ns = new Netns();
  const dir = mkdtempSync(join(tmpdir(), "route-perm-"));
  try {
    const file = join(dir, "netns.ts");
    writeFileSync(
      file,
      `import { openRoute } from "${join(root, "src/route/mod.ts")}";\n`
        + `await using ip = await openRoute({ netns: "${ns.name}" });\n`
        + `console.log((await ip.link.list()).map((l) => l.name).join(","));\n`,
    );
    const { status, stdout, stderr } = await run([deno, "run", "--allow-ffi", file]);
    assert.equal(status, 0, stderr);
    assert.equal(stdout.trim(), "lo");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** README.md's code block under `heading` (the first, or the one containing `marker`). */
function topSnippet(heading: string, marker = ""): string {
  const section = top.slice(top.indexOf(`\n## ${heading}`));
  const block = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].find(([, c]) => c.includes(marker));
  const exports: Record<string, string> = JSON.parse(
    readFileSync(join(root, "deno.json"), "utf8"),
  ).exports;
  return block![1].replaceAll(
    /"@netlink\/netlink(\/[a-z-]+)?"/g,
    (_, sub = "") => JSON.stringify(join(root, exports[`.${sub}`])),
  );
}

// README.md's other blocks that end by themselves, with what each must print; run as the README
// says (Deno: --allow-ffi only) in a namespace holding a veth pair veth0/veth1.
const finite: [string, string, RegExp][] = [
  ["Traffic control", "TrafficControl", /^htb 1: /m],
  ["The protocol layer", "NLM_F_DUMP", /^3 links$/m],
  ["Sockets", "inetSockets", /^$/],
];
for (const [heading, marker, expected] of finite) {
  test(`README.md's ${marker} example runs as shown`, async () => {
    using ns = new Netns();
    ns.ipBatch(["link add veth0 type veth peer name veth1", "link set veth0 up"]);
    const dir = mkdtempSync(join(tmpdir(), "readme-"));
    try {
      const file = join(dir, "snippet.ts");
      writeFileSync(file, topSnippet(heading, marker));
      const runtime = isBun ? [process.execPath, file] : [deno, "run", "--allow-ffi", file];
      const { status, stdout, stderr } = await run(["ip", "netns", "exec", ns.name, ...runtime]);
      assert.equal(status, 0, stderr);
      assert.match(stdout, expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("Deno: a capture file is written with --allow-ffi alone (no --allow-write)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "readme-perm-"));
  try {
    const file = join(dir, "capture.ts"), pcap = join(dir, "nl.pcap");
    writeFileSync(
      file,
      `import { NETLINK_ROUTE, NLM_F_DUMP, open, RTM_GETLINK } from "${join(root, "mod.ts")}";\n`
        + `await using sock = await open(NETLINK_ROUTE, { capture: ${JSON.stringify(pcap)} });\n`
        + `await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });\n`,
    );
    const { status, stderr } = await run([deno, "run", "--allow-ffi", "--no-prompt", file]);
    assert.equal(status, 0, stderr);
    // pcap's magic, little-endian, then a header and at least the request and a reply.
    const bytes = readFileSync(pcap);
    assert.equal(bytes.readUInt32LE(0), 0xa1b2c3d4);
    assert.ok(bytes.length > 24 + 2 * 16, `${bytes.length} bytes`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
