// createNetns / deleteNetns / listNetns against `ip netns` on the host kernel: what they make is
// what `ip` sees, the calling thread (and every other) stays in its namespace, errors are clear
// and leave nothing behind. The restore-on-failure paths, which the kernel can't be made to take
// on demand, run against a fake libc that keeps the kernel's per-thread namespace rule.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readlinkSync } from "node:fs";
import process from "node:process";
import { test } from "node:test";
import { CLONE_NEWNET } from "../../ffi/_constants.ts";
import type { Libc } from "../../ffi/_libc.ts";
import { createNamedNetns } from "../../ffi/_netns.ts";
import { SyscallError } from "../../src/errors.ts";
import { createNetns, deleteNetns, listNetns, openRoute } from "../../src/route/mod.ts";
import { jsdocExamples, runExampleInNetns } from "../_jsdoc.ts";
import { ip, Netns } from "../host/_netns.ts";

let counter = 0;
/** A name the test namespaces' cleanup recognises (nltest-PID-...). */
const fresh = () => `nltest-${process.pid}-named-${counter++}`;

/** `ip netns list`'s names (it prints "NAME" or "NAME (id: N)"). */
const ipNetnsList = () =>
  ip("netns", "list").split("\n").filter(Boolean).map((l) => l.split(" ")[0]);

/** The network namespace of every thread of this process, by thread id. */
function threadNamespaces(): Map<string, string> {
  const tasks = readdirSync("/proc/self/task");
  const out = new Map<string, string>();
  for (const tid of tasks) {
    try {
      out.set(tid, readlinkSync(`/proc/self/task/${tid}/ns/net`));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** Deletes `name` with ip, if it is there (cleanup after a failed assertion). */
function cleanup(name: string): void {
  spawnSync("ip", ["netns", "del", name], { stdio: "ignore" });
}

test("createNetns: ip netns list shows it, ip -n and openRoute({ netns }) use it; deleteNetns removes it", async () => {
  const name = fresh();
  const own = readlinkSync("/proc/thread-self/ns/net");
  try {
    createNetns(name);
    // Every thread of the process is still where it was: the main (calling) thread returned,
    // the runtime's others never moved.
    for (const [tid, ns] of threadNamespaces()) assert.equal(ns, own, `thread ${tid}`);
    assert.ok(ipNetnsList().includes(name));
    assert.ok(listNetns().includes(name));
    assert.deepEqual(listNetns(), [...ipNetnsList()].sort());
    // A fresh namespace: its own loopback only, and not this one.
    const links = JSON.parse(ip("-j", "-n", name, "link", "show"));
    assert.deepEqual(links.map((l: { ifname: string }) => l.ifname), ["lo"]);
    const inode = execFileSync("ip", ["netns", "exec", name, "readlink", "/proc/self/ns/net"], {
      encoding: "utf8",
    }).trim();
    assert.notEqual(inode, own);
    // The bind mount is the namespace, and /run/netns is a shared mount point, as ip makes it.
    const mounts = execFileSync("findmnt", ["-rno", "TARGET,PROPAGATION", "/run/netns"], {
      encoding: "utf8",
    });
    assert.match(mounts, /^\/run\/netns shared/m);
    {
      await using net = await openRoute({ netns: name });
      await net.link.add({ name: "v0", kind: "veth", peer: { name: "v1" } });
      assert.equal(JSON.parse(ip("-j", "-n", name, "link", "show", "v0"))[0].ifname, "v0");
      // Not here.
      assert.equal(spawnSync("ip", ["link", "show", "v0"], { stdio: "ignore" }).status, 1);
    }
    deleteNetns(name);
    assert.ok(!ipNetnsList().includes(name));
    assert.ok(!listNetns().includes(name));
    assert.notEqual(spawnSync("ip", ["-n", name, "link"], { stdio: "ignore" }).status, 0);
    assert.equal(readlinkSync("/proc/thread-self/ns/net"), own);
  } finally {
    cleanup(name);
  }
});

test("createNetns inside `ip netns exec` binds in that command's mount namespace, as ip netns add does: outside, the name opens no namespace", async () => {
  using outer = new Netns();
  const [name, byIp] = [fresh(), fresh()];
  const mod = new URL("../../src/route/mod.ts", import.meta.url).href;
  const code = `import { createNetns, openRoute } from "${mod}";
createNetns("${name}");
await using ip = await openRoute({ netns: "${name}" });
console.log((await ip.link.list()).map((l) => l.name).join(","));`;
  const isBun = (globalThis as { Bun?: unknown }).Bun !== undefined;
  const runtime = isBun ? [process.execPath, "-e", code] : [process.execPath, "eval", code];
  try {
    // Inside, the name is a namespace: a fresh one, its loopback only.
    const inside = execFileSync("ip", ["netns", "exec", outer.name, ...runtime], {
      encoding: "utf8",
    });
    assert.equal(inside.trim(), "lo");
    // ip does the same with its own name.
    execFileSync("ip", ["netns", "exec", outer.name, "ip", "netns", "add", byIp]);
    for (const made of [name, byIp]) {
      // Outside, both are listed, and neither is a namespace: the bind went with the command.
      assert.ok(listNetns().includes(made), made);
      assert.notEqual(spawnSync("ip", ["-n", made, "link"], { stdio: "ignore" }).status, 0);
      await assert.rejects(
        openRoute({ netns: made }),
        /setns: EINVAL \(Invalid argument\): \/run\/netns\/\S+ is not a network namespace/,
      );
      deleteNetns(made);
      assert.ok(!listNetns().includes(made), made);
    }
  } finally {
    cleanup(name);
    cleanup(byIp);
  }
});

test("createNetns: a taken name is EEXIST, said so, and the namespace there is untouched", () => {
  using ns = new Netns(["link add e0 type veth peer name e1"]);
  assert.throws(() => createNetns(ns.name), (err: unknown) => {
    assert.ok(err instanceof SyscallError);
    assert.equal(err.code, "EEXIST");
    assert.match(err.message, new RegExp(`network namespace "${ns.name}" already exists`));
    return true;
  });
  // Still the same namespace, with what it held.
  assert.equal(ns.json<{ ifname: string }[]>("link", "show", "e0")[0].ifname, "e0");
  assert.ok(ipNetnsList().includes(ns.name));
});

test("deleteNetns: no such name is ENOENT, named; a client inside keeps the namespace alive", async () => {
  const missing = fresh();
  assert.throws(() => deleteNetns(missing), (err: unknown) => {
    assert.ok(err instanceof SyscallError);
    assert.equal(err.code, "ENOENT");
    assert.match(err.message, new RegExp(`no network namespace named "${missing}"`));
    return true;
  });
  // Made by ip, deleted by us while a client is open in it: the name goes, the client works on.
  const name = fresh();
  ip("netns", "add", name);
  try {
    await using net = await openRoute({ netns: name });
    deleteNetns(name);
    assert.ok(!ipNetnsList().includes(name));
    assert.deepEqual((await net.link.list()).map((l) => l.name), ["lo"]);
  } finally {
    cleanup(name);
  }
});

test("a name that is not UTF-8: listNetns() reads it with U+FFFD, and opening or deleting by that text is ENOENT saying why", async () => {
  // The ENOENT said only "no network namespace named ..." of a name listNetns() had just given.
  const stem = fresh();
  const bash = (command: string) => execFileSync("bash", ["-c", command]);
  bash(`ip netns add $'${stem}\\xff'`);
  try {
    const read = listNetns().find((name) => name.startsWith(stem));
    assert.equal(read, `${stem}\ufffd`);
    const why = /stands for bytes that are not UTF-8/;
    await assert.rejects(openRoute({ netns: read }), { code: "ENOENT", message: why });
    assert.throws(() => deleteNetns(read!), { code: "ENOENT", message: why });
  } finally {
    bash(`ip netns del $'${stem}\\xff'`);
  }
});

test("createNetns / deleteNetns: a name that is no `ip netns` name is a TypeError before any system call", () => {
  const before = listNetns();
  const long = "n".repeat(255);
  for (
    const [bad, why] of [
      ["", /"" is empty/],
      [".", /"\." is not a name/],
      ["..", /"\.\." is not a name/],
      ["a/b", /holds a "\/"/],
      ["/run/netns/x", /holds a "\/"/],
      ["a\0b", /holds a NUL/],
      // Sent as U+FFFD, it made a namespace of another name (listNetns() did not show it).
      ["nltest-\ud800", /holds a lone surrogate/],
      [long, /255 bytes or longer/],
      ["é".repeat(128), /255 bytes or longer/],
      [7, /is not a string/],
      [undefined, /is not a string/],
    ] as const
  ) {
    assert.throws(() => createNetns(bad as string), (err: unknown) => {
      assert.ok(err instanceof TypeError, String(err));
      assert.match(err.message, /^createNetns\(\): /);
      assert.match(err.message, why);
      return true;
    });
    assert.throws(() => deleteNetns(bad as string), /^TypeError: deleteNetns\(\): /);
  }
  assert.deepEqual(listNetns(), before);
  // 254 bytes is a name (iproute2 takes fewer than NAME_MAX).
  const longest = `nltest-${process.pid}-${"m".repeat(254 - `nltest-${process.pid}-`.length)}`;
  try {
    createNetns(longest);
    assert.ok(ipNetnsList().includes(longest));
    deleteNetns(longest);
  } finally {
    cleanup(longest);
  }
});

test("createNetns without CAP_SYS_ADMIN: EPERM says what it needs; no name left behind", () => {
  const name = fresh();
  const mod = new URL("../../src/route/mod.ts", import.meta.url).href;
  const code = `import { createNetns } from "${mod}";
try { createNetns("${name}"); console.log("no error"); } catch (err) { console.log(String(err)); }`;
  const isBun = (globalThis as { Bun?: unknown }).Bun !== undefined;
  const runtime = isBun
    ? [process.execPath, "-e", code]
    : [process.execPath, "eval", code];
  try {
    const out = execFileSync("setpriv", [
      "--inh-caps=-sys_admin",
      "--bounding-set=-sys_admin",
      ...runtime,
    ], { encoding: "utf8" });
    assert.match(out.trim(), /^SyscallError: \w+: EPERM .*needs CAP_SYS_ADMIN: run as root/);
    assert.ok(!ipNetnsList().includes(name));
  } finally {
    cleanup(name);
  }
});

/**
 * A libc over a fake kernel: threads' namespaces are one number (this thread's), setns and
 * unshare change it only when they succeed, as the kernel's do; `fail` names the call that fails
 * (with `errno`) and on which of its calls.
 */
function fakeLibc(fail: { call: string; nth?: number; errno: number }) {
  const text = (b: Uint8Array) => new TextDecoder().decode(b.subarray(0, b.indexOf(0)));
  let current = 1; // this thread's namespace
  let next = 2;
  const fds = new Map<number, number>(); // descriptor: namespace it holds (-1: the directory)
  const files = new Set<string>();
  const counts = new Map<string, number>();
  let errno = 0;
  let fd = 10;
  const fails = (call: string) => {
    const n = (counts.get(call) ?? 0) + 1;
    counts.set(call, n);
    if (fail.call !== call || (fail.nth ?? 1) !== n) return false;
    errno = fail.errno;
    return true;
  };
  const libc = {
    open(path: Uint8Array) {
      if (fails("open")) return -1;
      const p = text(path);
      if (p === "/proc/thread-self/ns/net") fds.set(++fd, current);
      else if (p === "/run/netns") fds.set(++fd, -1);
      else files.add(p);
      return fd;
    },
    close: (d: number) => (fds.delete(d), 0),
    mkdir: () => (fails("mkdir") ? -1 : 0),
    flock: (d: number) => (assert.equal(fds.get(d), -1), fails("flock") ? -1 : 0),
    mount: () => (fails("mount") ? -1 : 0),
    umount2: () => 0,
    unlink: (path: Uint8Array) => (files.delete(text(path)), 0),
    unshare(flags: number) {
      assert.equal(flags, CLONE_NEWNET);
      if (fails("unshare")) return -1;
      current = next++;
      return 0;
    },
    setns(d: number) {
      if (fails("setns")) return -1;
      current = fds.get(d)!;
      return 0;
    },
    errno: () => errno,
  } as unknown as Libc;
  return { libc, files, fds, current: () => current };
}

test("createNetns' thread rule (fake libc): back in its own namespace and no name left, whatever fails", () => {
  // The bind after unshare fails: the thread returns, then the name goes.
  for (
    const [fail, message] of [
      [{ call: "mount", nth: 2, errno: 13 }, /mount: EACCES .*cannot bind the new namespace/],
      [{ call: "unshare", errno: 1 }, /unshare: EPERM .*needs CAP_SYS_ADMIN/],
      [{ call: "open", nth: 2, errno: 17 }, /already exists/],
      [{ call: "flock", errno: 9 }, /flock: EBADF .*cannot lock \/run\/netns/],
      [{ call: "mount", nth: 1, errno: 1 }, /cannot make \/run\/netns a shared mount point/],
    ] as const
  ) {
    const fake = fakeLibc(fail);
    assert.throws(() => createNamedNetns(fake.libc, "x"), message);
    assert.equal(fake.current(), 1, fail.call);
    assert.deepEqual([...fake.files], [], fail.call);
    assert.equal(fake.fds.size, 0, `${fail.call}: descriptors left`);
  }
  // Returning fails: that is the error (the thread is not where it should be), and the name goes.
  const fake = fakeLibc({ call: "setns", errno: 22 });
  assert.throws(() => createNamedNetns(fake.libc, "x"), /could not return to the original/);
  assert.deepEqual([...fake.files], []);
  // Success: back, name kept, no descriptor left.
  const ok = fakeLibc({ call: "none", errno: 0 });
  createNamedNetns(ok.libc, "x");
  assert.equal(ok.current(), 1);
  assert.deepEqual([...ok.files], ["/run/netns/x"]);
  assert.equal(ok.fds.size, 0);
});

test("the JSDoc examples of deleteNetns() and listNetns() run as pasted (test/route/jsdoc_examples_test.ts runs those with a client)", () => {
  using ns = new Netns();
  const [remove] = jsdocExamples("src/route/netns.ts").filter(({ code }) =>
    code.includes("createNetns(\"scratch\")")
  );
  const [list] = jsdocExamples("src/route/netns.ts").filter(({ code }) =>
    code.includes("listNetns()) console.log")
  );
  try {
    const removed = runExampleInNetns(ns.name, remove.code);
    assert.equal(removed.status, 0, removed.stderr);
    assert.ok(!ipNetnsList().includes("scratch"));
  } finally {
    cleanup("scratch");
  }
  const listed = runExampleInNetns(ns.name, list.code);
  assert.equal(listed.status, 0, listed.stderr);
  assert.ok(listed.stdout.split("\n").includes(ns.name), listed.stdout);
});

test("listNetns() is [] where /run/netns does not exist (a private mount namespace with an empty /run)", () => {
  const script = `import { listNetns } from ${
    JSON.stringify(new URL("../../src/route/mod.ts", import.meta.url).pathname)
  };\nconsole.log(JSON.stringify(listNetns()));\n`;
  const runtime = "Bun" in globalThis
    ? [process.execPath, "-e", script]
    : [process.execPath, "eval", script];
  // unshare -m: the tmpfs on /run is this child's alone; the host's /run/netns stays as it is.
  const child = spawnSync(
    "unshare",
    [
      "-m",
      "--propagation",
      "private",
      "sh",
      "-c",
      "mount -t tmpfs none /run && exec \"$@\"",
      "sh",
      ...runtime,
    ],
    { encoding: "utf8", timeout: 30_000 },
  );
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), "[]");
  // The host's /run was left alone: a name made here is listed.
  using ns = new Netns();
  assert.ok(listNetns().includes(ns.name));
});
