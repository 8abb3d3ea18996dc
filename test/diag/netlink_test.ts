// netlink_diag against the real kernel: the library's own sockets opened in a fresh namespace,
// listed by the library and by `ss -f netlink` in that namespace, and their owner found.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { test } from "node:test";
import {
  NETLINK_GENERIC,
  NETLINK_ROUTE,
  NETLINK_SOCK_DIAG,
  open,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_LINK,
} from "../../mod.ts";
import { inetSockets, netlinkSockets, socketOwners } from "../../src/diag/mod.ts";
import { SocketClosedError } from "../../src/errors.ts";
import { runDeno } from "../_deno.ts";
import { Netns } from "../host/_netns.ts";
import { ss } from "./_ss.ts";

test("netlink sockets match ss -f netlink; this library's own show their groups, flags and owner", async () => {
  using ns = new Netns();
  await using diag = await open(NETLINK_SOCK_DIAG, { netns: ns.name });
  await using rt = await open(NETLINK_ROUTE, {
    netns: ns.name,
    groups: [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR],
    capAcks: true,
  });
  await using genl = await open(NETLINK_GENERIC, { netns: ns.name });
  const ours = await netlinkSockets({ socket: diag });
  // ss lists its own sock_diag socket as well: leave it out. Our diag socket's queues move while
  // it dumps: compare its address only. ss prints a socket that joined groups twice, as the
  // kernel lists it (netlink_diag walks each protocol's mc_list after the bound sockets, meaning
  // to skip those with sk_hashed(), which is never true of a netlink socket): once here.
  const listed = ss(ns, "-f", "netlink", "-an");
  const theirs = listed.filter((l, i) =>
    listed.findIndex((m) => m.join(" ") === l.join(" ")) === i
  );
  const key = (protocol: number | string, portid: number | string) => `${protocol}:${portid}`;
  const diagKey = key(NETLINK_SOCK_DIAG, diag.portid);
  const ssOwn = theirs.filter((l) => l[3].startsWith(`${NETLINK_SOCK_DIAG}:`))
    .map((l) => l[3]).filter((k) => !ours.some((s) => key(s.protocol, s.portid) === k));
  assert.equal(ssOwn.length, 1, "ss's own socket");
  assert.deepEqual(
    ours.map((s) => {
      const address = key(s.protocol, s.portid);
      if (address === diagKey) return address;
      return `UNCONN ${s.memory!.rmemAlloc} ${s.memory!.wmemAlloc} ${address} *`;
    }).sort(),
    theirs.filter((l) => l[3] !== ssOwn[0]).map((l) => l[3] === diagKey ? l[3] : l.join(" "))
      .sort(),
  );

  const mines = ours.filter((s) => s.protocol === NETLINK_ROUTE && s.portid === rt.portid);
  assert.equal(mines.length, 1, "each socket once");
  const mine = mines[0];
  assert.deepEqual(mine.groups, [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR].sort((a, b) => a - b));
  assert.equal(mine.flags!.capAck, true);
  assert.equal(mine.state, "close");
  assert.equal(mine.type, "raw");
  assert.ok(ours.some((s) => s.protocol === NETLINK_GENERIC && s.portid === genl.portid));
  assert.ok(ours.some((s) => s.protocol === NETLINK_ROUTE && s.portid === 0), "the kernel's own");
  const generic = ours.find((s) => s.protocol === NETLINK_GENERIC && s.portid === genl.portid)!;
  assert.equal(generic.flags!.capAck, false);
  assert.deepEqual(generic.groups ?? [], []);

  const owners = socketOwners([mine.inode]);
  assert.deepEqual(owners.get(mine.inode)!.map((o) => o.pid), [process.pid]);
  assert.equal(owners.size, 1);
  assert.equal(
    owners.get(mine.inode)![0].command,
    readFileSync(`/proc/${process.pid}/comm`, "utf8").trim(),
  );

  const onlyRoute = await netlinkSockets({ socket: diag, protocol: NETLINK_ROUTE });
  assert.ok(onlyRoute.length >= 2 && onlyRoute.every((s) => s.protocol === NETLINK_ROUTE));
});

test("socketOwners reads /proc through libc: on Deno --allow-ffi is enough", () => {
  const diagUrl = new URL("../../src/diag/mod.ts", import.meta.url).href;
  const modUrl = new URL("../../mod.ts", import.meta.url).href;
  const r = runDeno(
    `import { netlinkSockets, socketOwners } from ${JSON.stringify(diagUrl)};
    import { open } from ${JSON.stringify(modUrl)};
    const sock = await open(0);
    const mine = (await netlinkSockets({ protocol: 0 })).find((s) => s.portid === sock.portid);
    const owners = socketOwners([mine.inode]).get(mine.inode);
    console.log(JSON.stringify({ owners, pid: Deno.pid, read: Deno.permissions.querySync({ name: "read" }).state }));
    await sock.close();`,
    ["--allow-ffi"],
  );
  assert.equal(r.status, 0, r.stderr);
  const { owners, pid, read } = JSON.parse(r.stdout);
  assert.equal(read, "prompt", "the child had no read permission");
  assert.equal(owners.length, 1);
  assert.equal(owners[0].pid, pid);
  assert.equal(owners[0].command, "deno");
});

test("socketOwners refuses inodes that are not inodes, rather than matching none", () => {
  // A string is iterable by characters: it matched nothing, and the map was empty.
  assert.throws(() => socketOwners("123" as never), /TypeError: inodes must be an iterable/);
  assert.throws(() => socketOwners(5 as never), /TypeError: inodes must be an iterable/);
  assert.throws(
    () => socketOwners([NaN]),
    /RangeError: a socket inode is a positive integer, got NaN/,
  );
  assert.throws(() => socketOwners([0]), /RangeError: a socket inode is a positive integer, got 0/);
  assert.throws(() => socketOwners(["7" as never]), /RangeError: .*got "7"/);
  assert.equal(socketOwners(new Set<number>()).size, 0);
});

test("socketOwners of no inodes answers an empty map without reading /proc", () => {
  // It read every process's descriptors to keep none of them. Seen by strace: the child opens
  // /proc for socketOwners([1]) only, after a marker (a missing directory it tries to read).
  const dir = mkdtempSync(`${tmpdir()}/nlowners-`);
  try {
    const script = `${dir}/owners.ts`;
    const url = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
    writeFileSync(
      script,
      `import { socketOwners } from ${url("../../src/diag/mod.ts")};
      import { readDirectory } from ${url("../../ffi/mod.ts")};
      const sizes = [socketOwners([]).size, socketOwners(new Set()).size];
      try { readDirectory(${JSON.stringify(`${dir}/marker`)}); } catch { /* ENOENT */ }
      socketOwners([1]);
      console.log(JSON.stringify(sizes));`,
    );
    const trace = `${dir}/trace`;
    const runtime = "Bun" in globalThis ? [script] : ["run", "-A", "--no-check", script];
    const child = spawnSync(
      "strace",
      ["-f", "-qq", "-e", "trace=open,openat", "-o", trace, process.execPath, ...runtime],
      { encoding: "utf8", timeout: 60_000 },
    );
    assert.equal(child.status, 0, `${child.error ?? ""} ${child.stderr}`);
    assert.deepEqual(JSON.parse(child.stdout), [0, 0]);
    const opens = readFileSync(trace, "utf8").split("\n");
    const marker = opens.findIndex((line) => line.includes(`"${dir}/marker"`));
    const ofProc = (lines: string[]) => lines.filter((line) => line.includes(`"/proc", `)).length;
    assert.ok(marker > 0, "the marker's open was traced");
    assert.equal(ofProc(opens.slice(0, marker)), 0, "no /proc read for no inodes");
    assert.equal(ofProc(opens.slice(marker)), 1, "socketOwners([1]) read /proc, once");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("netlink queries refuse a bad protocol, and a socket with a namespace, before any I/O", async () => {
  await assert.rejects(netlinkSockets({ protocol: 255 }), /protocol must be a netlink protocol/);
  // Past MAX_LINKS the kernel answers ENOENT, which said "the kernel has no netlink_diag".
  await assert.rejects(
    netlinkSockets({ protocol: 32 }),
    /RangeError: protocol must be a netlink protocol number from 0 to 31, got 32/,
  );
  assert.deepEqual(await netlinkSockets({ protocol: 31 }), []);
  await using rt = await open(NETLINK_ROUTE);
  await assert.rejects(
    netlinkSockets({ socket: rt }),
    /must be a socket of protocol 4 \(NETLINK_SOCK_DIAG\), got one of NETLINK_ROUTE/,
  );
});

test("diag queries refuse a closed socket saying so, before any I/O", async () => {
  // The dump's own "netlink socket is closed" said nothing of the option.
  const diag = await open(NETLINK_SOCK_DIAG);
  diag.close();
  for (
    const [name, query] of [["netlink", () => netlinkSockets({ socket: diag })], [
      "tcp",
      () => inetSockets({ socket: diag }),
    ]] as const
  ) {
    await assert.rejects(
      query(),
      (e) =>
        e instanceof SocketClosedError
        && e.message
          === `${name} query options: socket is closed: pass an open one, or leave socket out (${name} query then opens its own)`,
      name,
    );
  }
});
