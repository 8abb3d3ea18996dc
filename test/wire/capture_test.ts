// Captures of real sessions (fresh network namespaces), read back by tshark: the pcap is what
// `tcpdump -i nlmon0 -w` writes, so Wireshark's netlink dissectors decode it.

import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { test } from "node:test";
import { capture, CAPTURE_MAX_PENDING, LINKTYPE_NETLINK } from "../../src/capture.ts";
import { setWarningOutput } from "../../src/cli/_args.ts";
import { CaptureFile } from "../../src/cli/_capture.ts";
import {
  CTRL_CMD_GETFAMILY,
  CTRL_CMD_NEWFAMILY,
  GENL_ID_CTRL,
  NETLINK_GENERIC,
  NETLINK_ROUTE,
  NETLINK_USERSOCK,
  NLM_F_DUMP,
  RTM_GETLINK,
  RTM_NEWLINK,
} from "../../src/constants.ts";
import { SyscallError } from "../../src/errors.ts";
import { resolveFamily } from "../../src/genl.ts";
import { decodeMessages } from "../../src/message.ts";
import { open } from "../../src/open.ts";
import { NetlinkSocket } from "../../src/socket.ts";
import { tap } from "../../src/tap.ts";
import { FakeKernel } from "../../src/testing/mod.ts";
import { Netns } from "../host/_netns.ts";
import { tsharkFields, tsharkVerbose } from "./_tshark.ts";

const dir = mkdtempSync(`${tmpdir()}/nlcap-`);
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

/** The records of a pcap file: cooked header fields and datagram. */
function records(
  file: Uint8Array,
): { pktType: number; hatype: number; protocol: number; data: Uint8Array }[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  assert.equal(view.getUint32(0, true), 0xa1b2c3d4, "pcap magic, microsecond timestamps");
  assert.equal(view.getUint32(20, true), LINKTYPE_NETLINK);
  const out = [];
  for (let at = 24; at < file.length;) {
    const kept = view.getUint32(at + 8, true);
    assert.equal(view.getUint32(at + 12, true), kept, "nothing cut");
    const packet = file.subarray(at + 16, at + 16 + kept);
    const pv = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
    out.push({
      pktType: pv.getUint16(0),
      hatype: pv.getUint16(2),
      protocol: pv.getUint16(14),
      data: packet.subarray(16),
    });
    at += 16 + kept;
  }
  return out;
}

test("capture option: an rtnetlink dump, decoded by tshark (type, flags, interface names)", async () => {
  using ns = new Netns();
  ns.ip("link", "add", "cap0", "type", "veth", "peer", "name", "cap1");
  const file = `${dir}/route.pcap`;
  let names: string[];
  {
    await using sock = await open(NETLINK_ROUTE, { netns: ns.name, capture: file });
    const links = await sock.request({
      type: RTM_GETLINK,
      flags: NLM_F_DUMP,
      payload: new Uint8Array(16),
    });
    assert.equal(links.length, 3);
    names = ns.json<{ ifname: string }[]>("link", "show").map((l) => l.ifname).sort();
  }
  const rows = tsharkFields(file, [
    "netlink.family",
    "netlink-route.nltype",
    "netlink.hdr_flags.request",
    "netlink.hdr_type",
    "netlink-route.ifla_ifname",
  ]);
  // The request, then the parts of the dump (NLMSG_DONE included).
  assert.equal(rows[0][0], "0x0000", "family: route");
  assert.equal(Number(rows[0][1]), RTM_GETLINK);
  assert.equal(rows[0][2].split(",")[0], "1", "flagged NLM_F_REQUEST");
  const decodedNames = rows.slice(1).flatMap((r) => r[4] ? r[4].split(",") : []).sort();
  assert.deepEqual(decodedNames, names);
  assert.ok(rows.slice(1).some((r) => r[1].split(",").map(Number).includes(RTM_NEWLINK)));
  assert.ok(rows.at(-1)![3].split(",").includes("0x0003"), "the dump ends with NLMSG_DONE");
  assert.match(tsharkVerbose(file), /Device name: cap0/);

  // Direction and protocol in the cooked header, as the kernel marks nlmon's copies.
  const recs = records(readFileSync(file));
  assert.equal(recs[0].pktType, 7, "PACKET_KERNEL: sent to the kernel");
  assert.ok(recs.slice(1).every((r) => r.pktType === 6), "PACKET_USER: received");
  assert.ok(recs.every((r) => r.hatype === 824 && r.protocol === NETLINK_ROUTE));
  assert.equal(decodeMessages(recs[0].data)[0].type, RTM_GETLINK);
});

test("capture to a function: a generic netlink session, decoded by tshark (nlctrl)", async () => {
  const chunks: Uint8Array[] = [];
  {
    await using sock = await open(NETLINK_GENERIC, { capture: (chunk) => chunks.push(chunk) });
    const family = await resolveFamily(sock, "nlctrl");
    assert.equal(family.id, GENL_ID_CTRL);
  }
  const file = `${dir}/genl.pcap`;
  writeFileSync(file, Buffer.concat(chunks));
  const rows = tsharkFields(file, [
    "netlink.family",
    "genl.family_id",
    "genl.ctrl.cmd",
    "genl.ctrl.family_name",
    "netlink.hdr_type",
    "netlink.error",
  ]);
  assert.equal(rows.length, 3, "request, reply, ack");
  assert.ok(rows.every((r) => r[0] === "0x0010"), "family: generic");
  assert.equal(Number(rows[0][1]), GENL_ID_CTRL);
  assert.equal(Number(rows[0][2]), CTRL_CMD_GETFAMILY);
  assert.equal(rows[0][3], "nlctrl");
  assert.equal(Number(rows[1][2]), CTRL_CMD_NEWFAMILY);
  assert.equal(rows[1][3], "nlctrl");
  // NLMSG_ERROR with error 0 (the ack), then the header of the request it echoes.
  assert.deepEqual([rows[2][4], rows[2][5]], ["0x0002,0x0010", "0"]);
  assert.match(tsharkVerbose(file), /Command: CTRL_CMD_NEWFAMILY/);
});

test("capture(): attached to a live socket and stopped, it holds exactly what happened between", async () => {
  await using sock = await open(NETLINK_ROUTE);
  const request = { type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) };
  await sock.request(request); // before: not captured
  const chunks: Uint8Array[] = [];
  const pcap = capture(sock, (chunk) => chunks.push(chunk));
  const links = await sock.request(request);
  await pcap.stop();
  await sock.request(request); // after: not captured
  const recs = records(Buffer.concat(chunks));
  assert.equal(pcap.packets, recs.length);
  const messages = recs.flatMap((r) => decodeMessages(r.data));
  assert.equal(messages[0].type, RTM_GETLINK);
  // Every link of the one dump, then its NLMSG_DONE.
  assert.equal(messages.length, 1 + links.length + 1);
  await pcap.stop(); // idempotent
});

test("datagrams sent to a group or another port are marked PACKET_USER, to the kernel PACKET_KERNEL", async () => {
  const kernel = new FakeKernel();
  const chunks: Uint8Array[] = [];
  await using sock = await open(NETLINK_USERSOCK, {
    transport: kernel.open,
    capture: (c) => chunks.push(c),
  });
  await using peer = await open(NETLINK_USERSOCK, { transport: kernel.open, groups: [1] });
  const message = { type: 0x20, payload: new Uint8Array(4) };
  sock.send(message, { group: 1 });
  sock.send(message, { portid: peer.portid });
  assert.throws(() => sock.send(message), SyscallError); // nothing in this kernel serves it
  assert.deepEqual(records(Buffer.concat(chunks)).map((r) => r.pktType), [6, 6]);
  const [kernelSide] = records(await captureOf(NETLINK_ROUTE));
  assert.equal(kernelSide.pktType, 7);
});

/** A capture of one RTM_GETLINK request to a fake kernel that serves it. */
async function captureOf(protocol: number): Promise<Uint8Array> {
  const kernel = new FakeKernel().serve(protocol, RTM_GETLINK, () => ({}));
  const chunks: Uint8Array[] = [];
  {
    await using sock = await open(protocol, {
      transport: kernel.open,
      capture: (c) => chunks.push(c),
    });
    await sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) });
  }
  return Buffer.concat(chunks);
}

test("capture to a WritableStream: flushed and closed by stop()", async () => {
  const chunks: Uint8Array[] = [];
  let closed = false;
  const stream = new WritableStream<Uint8Array>({
    write: (chunk) => void chunks.push(chunk),
    close: () => void (closed = true),
  });
  await using sock = await open(NETLINK_ROUTE);
  const pcap = capture(sock, stream);
  await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
  await pcap.stop();
  assert.ok(closed);
  assert.ok(records(Buffer.concat(chunks)).length >= 2);
});

test("an async function target: stop() waits for its writes, and its rejection stops the capture", async () => {
  // It finishes its writes late and out of order: stop() resolves only after every one has.
  const written: number[] = [];
  let calls = 0;
  await using sock = await open(NETLINK_ROUTE);
  const pcap = capture(sock, async (chunk) => {
    const n = calls++;
    await new Promise((r) => setTimeout(r, n === 0 ? 30 : 1));
    written.push(chunk.length);
  });
  await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
  await pcap.stop();
  assert.ok(calls >= 3);
  assert.equal(written.length, calls, "every write finished before stop() resolved");

  // A rejected write is the capture's error, as a throw is: not an unhandled rejection (which
  // fails this test on both runtimes, and ends a program).
  const full = new Error("disk full");
  let chunks = 0;
  const failing = capture(sock, async () => {
    await Promise.resolve();
    if (++chunks > 1) throw full;
  });
  await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(failing.error, full);
  await assert.rejects(failing.stop(), (e) => e === full);
});

test("packets counts the records a stream or async function target wrote, not those its failed or queued writes never did", async () => {
  const errors = console.error;
  console.error = () => {};
  try {
    await using sock = await open(NETLINK_ROUTE);
    const dump = { type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) };
    const full = new Error("disk full");
    // Chunk 1 is the file header, chunk 2 the first record; the third write fails, and the
    // stream, errored, writes none of those queued behind it.
    let chunks = 0;
    const stream = capture(
      sock,
      new WritableStream<Uint8Array>({
        write: () => {
          if (++chunks === 3) throw full;
        },
      }),
    );
    // The async function's writes are all still pending when the request ends.
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = capture(sock, async () => {
      if (++calls === 3) throw full;
      await gate;
    });
    await sock.request(dump);
    assert.ok(calls >= 3, `${calls} records handed to the async function`);
    assert.equal(slow.packets, 0, "none written yet");
    release();
    await assert.rejects(stream.stop(), (e) => e === full);
    await assert.rejects(slow.stop(), (e) => e === full);
    assert.equal(chunks, 3, "the stream wrote nothing after its failed write");
    assert.equal(stream.packets, 1);
    // Every call but the header's and the failed one resolved (those made before the rejection
    // detached the capture).
    assert.equal(slow.packets, calls - 2);
  } finally {
    console.error = errors;
  }
});

for (const kind of ["WritableStream", "async function"] as const) {
  test(`a slow ${kind} target holds at most CAPTURE_MAX_PENDING bytes: the rest is dropped and counted`, async () => {
    const chunks: Uint8Array[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slowWrite = async (chunk: Uint8Array) => {
      await gate;
      chunks.push(chunk);
    };
    const target = kind === "WritableStream"
      ? new WritableStream<Uint8Array>({ write: slowWrite })
      : slowWrite;
    const warnings: unknown[][] = [];
    const consoleError = console.error;
    console.error = (...args: unknown[]) => void warnings.push(args);
    try {
      await using sock = await open(NETLINK_ROUTE);
      let datagrams = 0;
      const untap = tap(sock, { sent: () => datagrams++, received: () => datagrams++ });
      const pcap = capture(sock, target);
      const dump = { type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) };
      let requests = 0;
      while (pcap.dropped === 0 && requests++ < 100_000) await sock.request(dump);
      assert.ok(pcap.dropped > 0, "the capture fell behind and dropped");
      assert.equal(chunks.length, 0, "nothing was written yet");
      assert.equal(pcap.packets, 0, "none written yet: packets counts what was");
      const held = datagrams - pcap.dropped;
      assert.equal(warnings.length, 1, "one warning at the first drop");
      assert.match(String(warnings[0].join(" ")), /dropping datagrams/);

      // Once the target catches up, the capture goes on; stop() waits for every write.
      release();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const packets = pcap.packets, dropped = pcap.dropped;
      assert.equal(packets, held, "every record held is written");
      await sock.request(dump);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(pcap.packets > packets, "capturing again after the target caught up");
      assert.equal(pcap.dropped, dropped);
      untap();
      await pcap.stop();
      const written = records(Buffer.concat(chunks));
      assert.equal(written.length, pcap.packets);
      // What was held unwritten when it dropped: the file header and the first records.
      const heldBytes = written.slice(0, held).reduce((n, r) => n + 32 + r.data.length, 24);
      assert.ok(heldBytes <= CAPTURE_MAX_PENDING, `${heldBytes} bytes held`);
      assert.ok(heldBytes > CAPTURE_MAX_PENDING - 65536, `${heldBytes} bytes held: near the bound`);
      assert.equal(warnings.length, 1);
    } finally {
      console.error = consoleError;
    }
  });
}

for (const kind of ["WritableStream", "async function"] as const) {
  test(`stop({ signal }) gives up on a ${kind} target whose writes never settle: it rejects with the reason, once and after`, async () => {
    const never = () => new Promise<void>(() => {});
    const target = kind === "WritableStream"
      ? new WritableStream<Uint8Array>({ write: never })
      : never;
    const logged: unknown[][] = [];
    const consoleError = console.error;
    console.error = (...args: unknown[]) => void logged.push(args);
    try {
      await using sock = await open(NETLINK_ROUTE);
      const pcap = capture(sock, target);
      await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
      // Bad options are refused before the capture is detached.
      await assert.rejects(pcap.stop({ signl: 1 } as never), TypeError);
      await assert.rejects(pcap.stop({ signal: 1 } as never), /signal must be an AbortSignal/);
      const reason = new Error("gave up");
      const controller = new AbortController();
      setTimeout(() => controller.abort(reason), 50);
      await assert.rejects(pcap.stop({ signal: controller.signal }), (err) => err === reason);
      assert.equal(pcap.error, reason);
      assert.equal(pcap.packets, 0);
      await assert.rejects(pcap.stop(), (err) => err === reason); // at once, no signal needed
      assert.deepEqual(logged, [], "a stop() that gave up is no failure to log");
    } finally {
      console.error = consoleError;
    }
  });
}

test("stop({ signal }) aborts a WritableStream target: once its write under way ends, the stream's abort() has the reason, and it is never closed", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const events: unknown[] = [];
  const stream = new WritableStream<Uint8Array>({
    write: async () => {
      events.push("write");
      await gate;
    },
    abort: (reason) => void events.push(reason),
    close: () => void events.push("close"),
  });
  await using sock = await open(NETLINK_ROUTE);
  const pcap = capture(sock, stream);
  await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
  const signal = AbortSignal.timeout(50);
  await assert.rejects(pcap.stop({ signal }), { name: "TimeoutError" });
  assert.deepEqual(events, ["write"]); // the header's write, under way; the rest were queued
  release();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(events, ["write", signal.reason]);
  assert.equal(pcap.packets, 0);
});

test("the socket's close ends its captures; a later capture or tap is refused", async () => {
  const chunks: Uint8Array[] = [];
  const sock = await open(NETLINK_ROUTE, { capture: (c) => chunks.push(c) });
  await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
  const before = chunks.length;
  sock.close();
  assert.equal(chunks.length, before);
  assert.throws(() => capture(sock, () => {}), /closed/);
  assert.throws(() => tap(sock, {}), /closed/);
});

test("the socket's close stops a file capture and closes its file, with every record written; stop() after it resolves", async () => {
  /** This process's descriptors open on `file`. */
  const descriptors = (file: string) =>
    readdirSync("/proc/self/fd").filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === file;
      } catch {
        return false; // the directory's own descriptor, gone by now
      }
    }).length;
  for (const how of ["capture()", "open() option"] as const) {
    const file = `${dir}/closed-${how === "capture()" ? "call" : "option"}.pcap`;
    const sock = await open(NETLINK_ROUTE, how === "capture()" ? {} : { capture: file });
    const pcap = how === "capture()" ? capture(sock, file) : undefined;
    await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
    assert.equal(descriptors(file), 1, how);
    sock.close();
    assert.equal(descriptors(file), 0, `${how}: the file is closed with the socket`);
    const written = records(readFileSync(file));
    assert.ok(written.length >= 2, `${how}: the request and its answers`);
    if (pcap) {
      assert.equal(pcap.packets, written.length);
      await pcap.stop();
      assert.equal(pcap.error, undefined);
    }
  }
});

test("a capture of a closed socket, or of one not made by open(), leaves an existing file as it was", async () => {
  const file = `${dir}/kept.pcap`;
  writeFileSync(file, "the user's data");
  const sock = await open(NETLINK_ROUTE);
  sock.close();
  assert.throws(() => capture(sock, file), /closed/);
  // A socket over a bare transport has no tap point.
  const bare = new NetlinkSocket(new FakeKernel().open(NETLINK_ROUTE, { portid: 0 }));
  assert.throws(() => capture(bare, file), /not made by open\(\)/);
  bare.close();
  assert.equal(readFileSync(file, "utf8"), "the user's data", "not truncated");
});

test("an open() that fails joining its groups leaves an existing capture file as it was, and writes nothing to a function", async () => {
  const file = `${dir}/kept-on-open.pcap`;
  writeFileSync(file, "the user's data");
  // NETLINK_USERSOCK has groups 1-32 alone: joining 33 fails (EINVAL) after the socket opened.
  const kernel = new FakeKernel();
  const chunks: Uint8Array[] = [];
  for (const target of [file, (chunk: Uint8Array) => void chunks.push(chunk)]) {
    await assert.rejects(
      open(NETLINK_USERSOCK, { transport: kernel.open, groups: [33], capture: target }),
      { code: "EINVAL" },
    );
  }
  assert.equal(readFileSync(file, "utf8"), "the user's data", "not truncated");
  assert.equal(chunks.length, 0, "no pcap header written");
});

test("a write that throws or rejects with undefined still fails the capture", async () => {
  const errors = console.error;
  console.error = () => {};
  try {
    await using sock = await open(NETLINK_ROUTE);
    let calls = 0;
    const thrown = capture(sock, () => {
      if (++calls === 2) throw undefined;
    });
    let rejections = 0;
    const rejected = capture(sock, async () => {
      await Promise.resolve();
      rejections++;
      throw undefined;
    });
    await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(calls, 2, "no write after the one that threw");
    await assert.rejects(thrown.stop(), (e) => e === undefined);
    // Every write handed before the first rejection settled was made; none after.
    const made = rejections;
    await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
    assert.equal(rejections, made, "detached at the first rejection");
    await assert.rejects(rejected.stop(), (e) => e === undefined);
  } finally {
    console.error = errors;
  }
});

test("bad capture targets are refused before any system call; an uncreatable file throws", async () => {
  let opened = 0;
  const transport = () => {
    opened++;
    throw new Error("not reached");
  };
  for (const bad of [42, null, "", {}, "a\0b"]) {
    await assert.rejects(
      // deno-lint-ignore no-explicit-any
      open(NETLINK_ROUTE, { capture: bad as any, transport }),
      TypeError,
    );
  }
  assert.equal(opened, 0);
  await assert.rejects(
    open(NETLINK_ROUTE, { capture: `${dir}/no/such/dir/x.pcap` }),
    (err: unknown) => err instanceof SyscallError && err.code === "ENOENT",
  );
  // The name in the error with its control characters escaped, as a namespace's is: a terminal
  // escape in a --capture argument went into the message raw.
  await assert.rejects(
    open(NETLINK_ROUTE, { capture: `${dir}/no/\x1b[2J.pcap` }),
    (err: Error) => err.message.endsWith(`${dir}/no/\\u001b[2J.pcap`),
  );
});

test("a capture to a FIFO nobody reads is refused at once (ENXIO); one with a reader gets every record", async () => {
  // open() waited in the kernel, the whole thread with it, for a reader that might never come:
  // in a child, so that the test fails rather than hangs if it waits again.
  const fifo = `${dir}/capture.fifo`;
  execFileSync("mkfifo", [fifo]);
  const script = `${dir}/fifo_child.ts`;
  writeFileSync(
    script,
    `import { open } from ${
      JSON.stringify(new URL("../../src/open.ts", import.meta.url).pathname)
    };\n`
      + `try { await open(0, { capture: ${JSON.stringify(fifo)} }); console.log("opened"); }\n`
      + `catch (e) { console.log(e.code, e.message); }\n`,
  );
  const runtime = "Bun" in globalThis ? [script] : ["run", "-A", "--no-check", script];
  const child = spawnSync(process.execPath, runtime, { encoding: "utf8", timeout: 20_000 });
  assert.equal(child.status, 0, `${child.error ?? ""} ${child.stderr}`);
  assert.match(
    child.stdout,
    /^ENXIO .*capture\.fifo: a FIFO that no process reads \(open its reader first\)$/m,
  );
  // With a reader, the capture goes through the FIFO (its descriptor non-blocking: see below).
  const reader = spawn("sh", ["-c", `cat ${fifo} > ${dir}/from_fifo.pcap`], { stdio: "ignore" });
  const exited = new Promise((resolve) => reader.on("exit", resolve));
  for (
    let i = 0;
    i < 200 && !readFileSync(`/proc/${reader.pid}/cmdline`, "utf8").startsWith("cat");
    i++
  ) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  let sock: NetlinkSocket | undefined;
  for (let i = 0; sock === undefined; i++) {
    try {
      sock = await open(NETLINK_ROUTE, { capture: fifo });
    } catch (err) {
      // cat may not have opened the FIFO yet.
      if (i === 200 || !(err instanceof SyscallError && err.code === "ENXIO")) throw err;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  const fd = readdirSync("/proc/self/fd").find((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === fifo;
    } catch {
      return false;
    }
  })!;
  const flags = parseInt(
    /^flags:\s+(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))![1],
    8,
  );
  assert.notEqual(flags & 0o4000, 0, `O_NONBLOCK kept: flags ${flags.toString(8)}`);
  const links = await sock.request({
    type: RTM_GETLINK,
    flags: NLM_F_DUMP,
    payload: new Uint8Array(16),
  });
  await sock.close();
  await exited;
  const pcap = readFileSync(`${dir}/from_fifo.pcap`);
  assert.equal(pcap.readUInt32LE(0), 0xa1b2c3d4);
  // The request, each link (one datagram may hold several) and NLMSG_DONE: at least two records.
  assert.ok(pcap.length > 24 + 2 * 16 + links.length * 16, `${pcap.length} bytes`);
});

test("a capture to a FIFO whose reader stops reading never blocks the program: records are dropped whole and counted, the rest arrive whole", async () => {
  // The descriptor blocked once the pipe was full: write() held the whole thread (timers, the
  // socket's reads) until the reader read again, which might be never. In a child, so that the
  // test fails rather than hangs.
  const fifo = `${dir}/stalled.fifo`;
  const out = `${dir}/stalled.pcap`;
  execFileSync("mkfifo", [fifo]);
  // The reader holds the FIFO open, reads nothing for 2 seconds, then everything.
  const reader = spawn("sh", ["-c", `exec 3<${fifo}; sleep 2; cat <&3 > ${out}`], {
    stdio: "ignore",
  });
  const exited = new Promise((resolve) => reader.on("exit", resolve));
  const script = `${dir}/stalled_child.ts`;
  writeFileSync(
    script,
    `import { open } from ${JSON.stringify(new URL("../../src/open.ts", import.meta.url).pathname)};
import { capture } from ${
      JSON.stringify(new URL("../../src/capture.ts", import.meta.url).pathname)
    };
let sock;
for (let i = 0; sock === undefined; i++) {
  try { sock = await open(0); } catch (e) { throw e; }
}
let pcap;
for (let i = 0; pcap === undefined; i++) {
  try { pcap = capture(sock, ${JSON.stringify(fifo)}); } catch (e) {
    if (i === 300 || e.code !== "ENXIO") throw e; // the reader has not opened it yet
    await new Promise((r) => setTimeout(r, 10));
  }
}
let ticks = 0, last = Date.now(), gap = 0;
const timer = setInterval(() => {
  ticks++;
  gap = Math.max(gap, Date.now() - last);
  last = Date.now();
}, 10);
const start = Date.now();
let dumps = 0;
// Dumps while the reader sleeps, and on after it reads again.
while (Date.now() - start < 3500) {
  await sock.request({ type: 18, flags: 0x300, payload: new Uint8Array(16) });
  dumps++;
}
clearInterval(timer);
await sock.close();
console.log(JSON.stringify({ dumps, ticks, gap, dropped: pcap.dropped, packets: pcap.packets }));
`,
  );
  const runtime = "Bun" in globalThis ? [script] : ["run", "-A", "--no-check", script];
  const child = spawnSync(process.execPath, runtime, { encoding: "utf8", timeout: 30_000 });
  reader.kill();
  await exited;
  assert.equal(child.status, 0, `${child.error ?? ""} ${child.stderr}`);
  const { dumps, ticks, gap, dropped, packets } = JSON.parse(child.stdout);
  // Timers ran all along (a tick each 10 ms, where a blocked thread gets none while the reader
  // sleeps), and some records did not fit in the pipe.
  assert.ok(gap < 1000, `timers waited ${gap} ms at most (${ticks} ticks, ${dumps} dumps)`);
  assert.ok(dropped > 0, `${dropped} dropped`);
  assert.match(child.stderr, /capture target .*dropping datagrams/);
  // What reached the file is whole records, one after another: a pipe's short write was
  // finished before the next record went.
  const pcap = readFileSync(out);
  assert.equal(pcap.readUInt32LE(0), 0xa1b2c3d4);
  let at = 24, records = 0;
  while (at + 16 <= pcap.length) {
    at += 16 + pcap.readUInt32LE(at + 8);
    records++;
  }
  assert.equal(at, pcap.length, `records end at the file's end (${records} records)`);
  assert.equal(records, packets, `${records} records in the file, ${packets} counted`);
});

test("the CLI's --capture writer warns of a full FIFO in the library's words: one wording, given once", async () => {
  // Each writer worded its own warning: "capture file ... is full" here, "capture target ... is
  // full" in capture().
  const fifo = `${dir}/cli-full.fifo`;
  execFileSync("mkfifo", [fifo]);
  // A reader that holds the FIFO open and reads nothing: the pipe fills (64 KiB).
  const reader = spawn("sh", ["-c", `exec 3<${fifo}; sleep 10`], { stdio: "ignore" });
  const exited = new Promise((resolve) => reader.on("exit", resolve));
  const warnings: string[] = [];
  setWarningOutput((line) => warnings.push(line));
  try {
    let file: CaptureFile | undefined;
    for (let i = 0; file === undefined; i++) {
      try {
        file = new CaptureFile(fifo);
      } catch (err) {
        if (i === 300 || !(err instanceof SyscallError && err.code === "ENXIO")) throw err;
        await new Promise((resolve) => setTimeout(resolve, 10)); // the reader is not there yet
      }
    }
    const write = file.target() as (chunk: Uint8Array) => void;
    for (let i = 0; i < 40; i++) write(new Uint8Array(4096));
    file.close();
  } finally {
    setWarningOutput((line) => console.error(line));
    reader.kill();
    await exited;
  }
  assert.deepEqual(warnings, [
    `netlink: capture target ${fifo} is full (a pipe its reader does not keep up with): dropping `
    + "datagrams from the capture",
  ]);
});

test("a capture file's descriptor is close-on-exec: a child process does not inherit it", async () => {
  const file = `${dir}/cloexec.pcap`;
  await using sock = await open(NETLINK_ROUTE, { capture: file });
  const fds = readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false; // the directory's own descriptor, gone by now
    }
  });
  assert.equal(fds.length, 1, `one descriptor for ${file}`);
  const flags = /^flags:\s+(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fds[0]}`, "utf8"))!;
  assert.ok((parseInt(flags[1], 8) & 0o2000000) !== 0, `O_CLOEXEC in flags ${flags[1]}`);
  assert.ok(sock.portid > 0);
});
