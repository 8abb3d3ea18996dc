// unix_diag against the real kernel: sockets a python3 process opens in a fresh namespace,
// listed by the library and by `ss -xa` in that namespace.

import assert from "node:assert/strict";
import { readFileSync, rmSync, statSync } from "node:fs";
import { test } from "node:test";
import { socketOwners, type UnixSocket, unixSockets } from "../../src/diag/mod.ts";
import { bigintsIn } from "../_json.ts";
import { Netns } from "../host/_netns.ts";
import { field, holdSockets, shutdownArrow, ss, ssArrow } from "./_ss.ts";

const NETID: Record<string, string> = { stream: "u_str", dgram: "u_dgr", seqpacket: "u_seq" };
const STATE: Record<string, string> = { established: "ESTAB", close: "UNCONN", listen: "LISTEN" };

/** ss -xaHe's columns, from the library's view: netid state recv-q send-q local inode peer peer-inode. */
function asSs(s: UnixSocket): string {
  return [
    NETID[s.type],
    STATE[s.state] ?? s.state,
    s.receiveQueue,
    s.sendQueue,
    s.path ?? "*",
    s.inode,
    "*",
    s.peer ?? 0,
    shutdownArrow(s.shutdown),
    s.vfs ? `ino:${s.vfs.ino}` : "",
    s.pending?.length ? `peers:${s.pending.join(",")}` : "",
  ].join(" ");
}

function fromSs(line: string[]): string {
  const peers = line.indexOf("peers:");
  return [
    ...line.slice(0, 8),
    ssArrow(line),
    field(line, "ino") === undefined ? "" : `ino:${field(line, "ino")}`,
    peers < 0 ? "" : `peers:${line.slice(peers + 1).join(",")}`,
  ].join(" ");
}

test("unix sockets match ss -xa: type, state, queues, path, inode, peer, pending connections", async () => {
  using ns = new Netns();
  const path = `/tmp/${ns.name}.sock`;
  try {
    await using held = await holdSockets(
      ns,
      `
X = socket.socket(socket.AF_UNIX); X.bind("${path}"); X.listen(4)
XC = socket.socket(socket.AF_UNIX); XC.connect("${path}")
XD = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); XD.bind("\\0${ns.name}")
S1, S2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET); S1.send(b"abc"); S1.shutdown(socket.SHUT_WR)
os.seteuid(65534); XU = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); os.seteuid(0)
print(os.fstat(XC.fileno()).st_ino, os.fstat(S1.fileno()).st_ino, os.fstat(S2.fileno()).st_ino,
      os.fstat(XU.fileno()).st_ino, X.fileno())
`,
    );
    const [client, s1, s2, owned, listenerFd] = held.lines[0].split(" ").map(Number);
    const ours = await unixSockets({ netns: ns.name });
    assert.deepEqual(ours.map(asSs).sort(), ss(ns, "-xae").map(fromSs).sort());

    const listener = ours.find((s) => s.path === path)!;
    assert.equal(listener.state, "listen");
    assert.equal(listener.type, "stream");
    assert.deepEqual(listener.pending, [client], "the connection not accepted yet");
    assert.equal(listener.receiveQueue, 1);
    assert.equal(listener.sendQueue, 4, "a listener's Send-Q is its backlog");
    assert.equal(listener.vfs!.ino, statSync(path).ino);
    const abstract = ours.find((s) => s.path === `@${ns.name}`)!;
    assert.equal(abstract.type, "dgram");
    assert.equal(abstract.name![0], 0, "abstract names start with NUL");
    const [a, b] = [ours.find((s) => s.inode === s1)!, ours.find((s) => s.inode === s2)!];
    assert.equal(a.type, "seqpacket");
    assert.equal(a.peer, s2);
    assert.equal(a.shutdown, 2, "SHUT_WR");
    assert.equal(b.peer, s1);
    assert.ok(b.receiveQueue! > 0, "the unread packet");
    assert.equal(ours.find((s) => s.inode === owned)!.uid, 65534);
    assert.equal(listener.uid, 0);
    assert.ok(listener.memory!.rcvbuf! > 0);

    // Which process holds it, through which descriptor (as ss -p finds it).
    assert.deepEqual(socketOwners([listener.inode]).get(listener.inode), [
      {
        pid: held.pid,
        command: readFileSync(`/proc/${held.pid}/comm`, "utf8").trim(),
        fd: listenerFd,
      },
    ]);

    const listening = await unixSockets({ netns: ns.name, states: ["listen"] });
    assert.deepEqual(listening.map((s) => s.inode), [listener.inode]);
  } finally {
    rmSync(path, { force: true });
  }
});

test("unix queries refuse bad states before any I/O", async () => {
  await assert.rejects(unixSockets({ states: ["unconnected" as never] }), /unknown socket state/);
  await assert.rejects(unixSockets({ states: "listen" as never }), /list of state names/);
});

test("unix sockets: a name with bytes that are no UTF-8 reads as U+FFFD in path, as sent in name", async () => {
  using ns = new Netns();
  await using _held = await holdSockets(
    ns,
    `A = socket.socket(socket.AF_UNIX); A.bind(b"\\0${ns.name}-\\xfe\\x01"); A.listen(1)`,
  );
  const [abstract] = (await unixSockets({ netns: ns.name, states: ["listen"] }))
    .filter((s) => s.path?.startsWith(`@${ns.name}-`));
  assert.equal(abstract.path, `@${ns.name}-\ufffd\x01`);
  assert.deepEqual(
    [...abstract.name!],
    [0, ...new TextEncoder().encode(`${ns.name}-`), 0xfe, 0x01],
  );
});

test("unix sockets go through JSON.stringify: the cookie is a number, the name's bytes an array", async () => {
  using ns = new Netns();
  await using _held = await holdSockets(
    ns,
    `A, B = socket.socketpair(); A.send(b"x"); D = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); D.bind(b"\\0${ns.name}")`,
  );
  const sockets = await unixSockets({ netns: ns.name });
  assert.ok(sockets.length >= 3);
  assert.deepEqual(bigintsIn(sockets), []);
  assert.equal(typeof sockets[0].cookie, "number");
  assert.deepEqual(
    JSON.parse(JSON.stringify(sockets)).map((s: UnixSocket) => s.cookie),
    sockets.map((s) => s.cookie),
  );
  // As the route layer writes bytes; it was {"0":0,"1":110,...}.
  const named = sockets.find((s) => s.path === `@${ns.name}`)!;
  const json = JSON.parse(JSON.stringify(named));
  assert.deepEqual(json.name, [...named.name!]);
  assert.deepEqual({ ...json, name: new Uint8Array(json.name) }, named);
});
