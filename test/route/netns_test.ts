// Moving links between namespaces by name and by path (IFLA_NET_NS_FD on a descriptor the client
// opens through FFI and closes after the request), read back with `ip` in fresh namespaces.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { SyscallError } from "../../src/errors.ts";
import { openRoute } from "../../src/route/mod.ts";
import { runDeno } from "../_deno.ts";
import { openDescriptors, settledNewDescriptors } from "../_fds.ts";
import { Netns } from "../host/_netns.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const root = new URL("../../", import.meta.url).pathname;

/** The link's ifname in `ns`, or undefined when `ns` has no such link. */
function linkIn(ns: Netns, name: string): string | undefined {
  try {
    return ns.json<Json[]>("link", "show", name)[0]?.ifname;
  } catch {
    return undefined;
  }
}

test("link.set({ netns: NAME }) and add with peer.netns NAME, as ip link ... netns NAME; no fd left open", async () => {
  using ns = new Netns();
  using other = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  const before = openDescriptors();
  // ip link add a0 type veth peer name a1 netns OTHER
  await ip.link.add({ name: "a0", kind: "veth", peer: { name: "a1", netns: other.name } });
  assert.equal(linkIn(other, "a1"), "a1");
  assert.equal(linkIn(ns, "a1"), undefined);
  assert.equal(linkIn(ns, "a0"), "a0");
  // The pair spans the namespaces: a0's peer is in the namespace `ip` knows as OTHER.
  assert.equal(ns.json<Json[]>("link", "show", "a0")[0].link_netnsid, 0);
  // Link.link is then the peer's index there, in the namespace linkNetnsid names.
  const a0 = await ip.link.get("a0");
  assert.equal(a0.link, other.json<Json[]>("link", "show", "a1")[0].ifindex);
  assert.equal(a0.linkNetnsid, 0);
  // ip link set a0 netns OTHER
  await ip.link.set("a0", { netns: other.name });
  assert.equal(linkIn(other, "a0"), "a0");
  assert.equal(linkIn(ns, "a0"), undefined);
  await assert.rejects(ip.link.get("a0"), /no link named "a0"/);
  // ip link add b0 netns OTHER type veth peer name b1: the link in OTHER, its peer here.
  await ip.link.add({ name: "b0", kind: "veth", netns: other.name, peer: { name: "b1" } });
  assert.equal(linkIn(other, "b0"), "b0");
  assert.equal(linkIn(ns, "b1"), "b1");
  assert.deepEqual(await settledNewDescriptors(before), []);
});

test("link.set({ netns: PATH }): /run/netns/NAME and /proc/PID/ns/net; peer.netns by path", async () => {
  using ns = new Netns();
  using other = new Netns();
  using third = new Netns();
  using sleeper = await third.process();
  const pid = sleeper.pid;
  await using ip = await openRoute({ netns: ns.name });
  const before = openDescriptors();
  await ip.link.add({
    name: "p0",
    kind: "veth",
    peer: { name: "p1", netns: `/run/netns/${other.name}` },
  });
  assert.equal(linkIn(other, "p1"), "p1");
  await ip.link.set("p0", { netns: `/proc/${pid}/ns/net`, up: false });
  assert.equal(linkIn(third, "p0"), "p0");
  assert.equal(linkIn(ns, "p0"), undefined);
  assert.deepEqual(await settledNewDescriptors(before), []);
});

test("netns errors: unknown name (ENOENT, named), not a namespace (EINVAL), bad refs (TypeError); nothing moved, no fd left", async () => {
  using ns = new Netns();
  ns.ipBatch(["link add e0 type veth peer name e1"]);
  await using ip = await openRoute({ netns: ns.name });
  const before = openDescriptors();
  await assert.rejects(ip.link.set("e0", { netns: "nltest-no-such-ns" }), (err: unknown) => {
    assert.ok(err instanceof SyscallError, String(err));
    assert.equal(err.code, "ENOENT");
    assert.match(err.message, /no network namespace at \/run\/netns\/nltest-no-such-ns/);
    return true;
  });
  // A name with control characters is shown escaped, as the kernel's extended-ack text is.
  await assert.rejects(openRoute({ netns: "nltest-\u001b[2Jx\ny" }), (err: unknown) => {
    assert.ok(err instanceof SyscallError, String(err));
    assert.match(err.message, /at \/run\/netns\/nltest-\\u001b\[2Jx\\ny$/);
    return true;
  });
  await assert.rejects(
    ip.link.add({ name: "e2", kind: "veth", peer: { name: "e3", netns: "nltest-no-such-ns" } }),
    (err: unknown) => err instanceof SyscallError && err.code === "ENOENT",
  );
  // A file that is not a namespace: opened, refused by the kernel, closed.
  await assert.rejects(ip.link.set("e0", { netns: "/dev/null" }), /EINVAL/);
  for (
    const bad of ["", ".", "..", "../../etc", "a/b", "a\0b", 7, null, {}, { fd: 1.5 }]
  ) {
    await assert.rejects(
      ip.link.set("e0", { netns: bad as never }),
      (err: unknown) => err instanceof TypeError && /netns/.test(err.message),
      String(bad),
    );
  }
  // A pid out of range is a RangeError naming the field, as every number out of range is.
  await assert.rejects(
    ip.link.set("e0", { netns: { pid: -1 } }),
    (err: unknown) => err instanceof RangeError && /netns\.pid/.test(err.message),
  );
  await assert.rejects(
    ip.link.add({ name: "e2", kind: "veth", peer: { netns: "" } }),
    /peer\.netns/,
  );
  assert.equal(linkIn(ns, "e0"), "e0");
  assert.equal(linkIn(ns, "e2"), undefined);
  assert.deepEqual(await settledNewDescriptors(before), []);
});

test("a netns path that is a FIFO is refused at once (EINVAL), not waited on for a writer", () => {
  // open(O_RDONLY) of a FIFO waits in the kernel, the whole thread with it, until a writer
  // comes: open({ netns }) and link.set({ netns }) hung. In a child, so the test fails if so.
  using ns = new Netns();
  ns.ipBatch(["link add e0 type veth peer name e1"]);
  const dir = mkdtempSync(join(tmpdir(), "nltest-fifo-"));
  try {
    const fifo = join(dir, "netns.fifo");
    execFileSync("mkfifo", [fifo]);
    const script = join(dir, "child.ts");
    writeFileSync(
      script,
      `import { open } from ${JSON.stringify(join(root, "src/open.ts"))};\n`
        + `import { openRoute } from ${JSON.stringify(join(root, "src/route/mod.ts"))};\n`
        + `try { await open(0, { netns: ${
          JSON.stringify(fifo)
        } }); } catch (e) { console.log(e.message); }\n`
        + `await using ip = await openRoute({ netns: ${JSON.stringify(ns.name)} });\n`
        + `try { await ip.link.set("e0", { netns: ${
          JSON.stringify(fifo)
        } }); } catch (e) { console.log(e.message); }\n`,
    );
    const runtime = "Bun" in globalThis ? [script] : ["run", "-A", "--no-check", script];
    const child = spawnSync(process.execPath, runtime, { encoding: "utf8", timeout: 20_000 });
    assert.equal(child.status, 0, `${child.error ?? ""} ${child.stderr}`);
    assert.deepEqual(child.stdout.trim().split("\n"), [
      `setns: EINVAL (Invalid argument): ${fifo} is not a network namespace`,
      "EINVAL: link set e0: Invalid argument",
    ]);
    assert.equal(linkIn(ns, "e0"), "e0");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("Deno: moving a link by netns name needs --allow-ffi only (no --allow-read)", () => {
  using ns = new Netns();
  using other = new Netns();
  ns.ipBatch(["link add m0 type veth peer name m1"]);
  const { status, stderr } = runDeno(
    `import { openRoute } from "${join(root, "src/route/mod.ts")}";\n`
      + `await using ip = await openRoute({ netns: "${ns.name}" });\n`
      + `await ip.link.set("m0", { netns: "${other.name}" });\n`
      + `await ip.link.add({ name: "n0", kind: "veth", peer: { name: "n1", netns: "${other.name}" } });\n`,
    ["--allow-ffi"],
  );
  assert.equal(status, 0, stderr);
  assert.equal(linkIn(other, "m0"), "m0");
  assert.equal(linkIn(other, "n1"), "n1");
  assert.equal(linkIn(ns, "n0"), "n0");
});
