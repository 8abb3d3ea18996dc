// The process events connector on the host's kernel (CONFIG_PROC_EVENTS; root, initial
// namespaces): each test runs a child and finds its events among everyone else's by pid.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import process from "node:process";
import { test } from "node:test";
import {
  decodeConnectorMessage,
  encodeConnectorMessage,
  openProcEvents,
  type ProcEvent,
  type ProcEventMonitor,
} from "../../src/connector.ts";
import {
  CN_IDX_PROC,
  CN_VAL_PROC,
  CONNECTOR_MAX_MSG_SIZE,
  NETLINK_CONNECTOR,
  NLM_F_ACK,
  NLMSG_DONE,
  PROC_CN_MCAST_IGNORE,
  PROC_CN_MCAST_LISTEN,
  PROC_EVENT_EXEC,
} from "../../src/constants.ts";
import { encodeMessage } from "../../src/message.ts";
import { open } from "../../src/open.ts";
import { openDescriptors, settledNewDescriptors } from "../_fds.ts";

/**
 * Runs `command` and returns the events whose pids `related` accepts, from the child's fork up
 * to the exit of its main thread, and its exit code as the child_process module saw it.
 */
async function eventsOf(
  monitor: ProcEventMonitor,
  command: string[],
  related: (event: ProcEvent, pid: number) => boolean = involves,
): Promise<{ pid: number; events: ProcEvent[]; code: number | null }> {
  const child = spawn(command[0], command.slice(1), { stdio: "ignore" });
  child.on("error", () => {}); // reported below
  if (child.pid === undefined) throw new Error(`cannot run ${command[0]}: is it installed?`);
  const pid = child.pid;
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const events: ProcEvent[] = [];
  for await (const event of monitor.events({ signal: AbortSignal.timeout(15_000) })) {
    assert.notEqual(event.type, "overrun", "the kernel dropped events: the test can't tell");
    if (event.type === "overrun" || !related(event, pid)) continue;
    events.push(event);
    if (event.type === "exit" && event.processPid === pid) break;
  }
  return { pid, events, code: await exited };
}

/** The event is about process `pid` (its fork, or anything it did). */
function involves(event: ProcEvent, pid: number): boolean {
  if (event.type === "fork") return event.childTgid === pid;
  return "processTgid" in event && event.processTgid === pid;
}

test("a child's fork, exec and exit arrive with the right pids and exit code", async () => {
  await using monitor = await openProcEvents({ receiveBufferSize: 4 << 20 });
  const { pid, events, code } = await eventsOf(monitor, ["sh", "-c", "exit 3"]);
  assert.equal(code, 3, "sanity: the child exited with 3");
  const fork = events.find((e) => e.type === "fork");
  assert.ok(fork?.type === "fork", `a fork event for ${pid}`);
  assert.equal(fork.childPid, pid);
  assert.equal(fork.parentTgid, process.pid);
  const exec = events.find((e) => e.type === "exec");
  assert.ok(exec?.type === "exec", `an exec event for ${pid}`);
  assert.equal(exec.processPid, pid);
  const exit = events.at(-1)!;
  assert.ok(exit.type === "exit");
  assert.equal(exit.processTgid, pid);
  assert.equal(exit.exitStatus, 3);
  assert.equal(exit.exitCode, 3 << 8);
  assert.equal(exit.termSignal, undefined);
  assert.equal(exit.parentTgid, process.pid);
  assert.deepEqual(events.map((e) => e.type).slice(0, 2), ["fork", "exec"], "in order");
  assert.ok(fork.timestamp < exec.timestamp && exec.timestamp < exit.timestamp);
});

test("comm, sid, uid and gid changes arrive as typed events", async () => {
  await using monitor = await openProcEvents({ receiveBufferSize: 4 << 20 });
  // setsid and setpriv exec in place: the pid stays the child's throughout.
  const { events, code } = await eventsOf(monitor, [
    "setsid",
    "setpriv",
    "--regid=4321",
    "--reuid=1234",
    "--clear-groups",
    "sh",
    "-c",
    "printf nl-renamed > /proc/self/comm; exit 0",
  ]);
  assert.equal(code, 0);
  const types = events.map((e) => e.type);
  assert.ok(types.includes("sid"), types.join());
  const uid = events.find((e) => e.type === "uid");
  assert.ok(uid?.type === "uid", types.join());
  assert.equal(uid.ruid, 1234);
  assert.equal(uid.euid, 1234);
  const gid = events.find((e) => e.type === "gid");
  assert.ok(gid?.type === "gid", types.join());
  assert.equal(gid.rgid, 4321);
  const comm = events.find((e) => e.type === "comm");
  assert.ok(comm?.type === "comm", types.join());
  assert.equal(comm.comm, "nl-renamed");
});

test("a ptrace attach names its tracer; a core-dumping signal gives coredump and exit", async () => {
  await using monitor = await openProcEvents({ receiveBufferSize: 4 << 20 });
  // strace seizes the child it starts: the ptrace event's tracer is strace itself.
  const traced = await eventsOf(
    monitor,
    ["strace", "-o", "/dev/null", "true"],
    (e, pid) => involves(e, pid) || (e.type === "ptrace" && e.tracerTgid === pid),
  );
  const attach = traced.events.find((e) => e.type === "ptrace");
  assert.ok(attach?.type === "ptrace", traced.events.map((e) => e.type).join());
  assert.notEqual(attach.processTgid, traced.pid, "the traced task is strace's child");

  // SIGQUIT dumps core (none is written: ulimit -c 0), and the exit names the signal.
  const { events } = await eventsOf(monitor, ["sh", "-c", "ulimit -c 0; kill -QUIT $$"]);
  assert.ok(events.some((e) => e.type === "coredump"), events.map((e) => e.type).join());
  const exit = events.at(-1)!;
  assert.ok(exit.type === "exit");
  assert.equal(exit.termSignal, 3);
  assert.equal(exit.exitStatus, undefined);
});

test("a fake process event another process multicasts is rejected, never yielded", async () => {
  await using monitor = await openProcEvents({ receiveBufferSize: 4 << 20 });
  // Root may send to the connector's group; the kernel stamps the sender's port on it.
  await using spoofer = await open(NETLINK_CONNECTOR);
  const fakePid = 0x7fff_fff0;
  const event = new Uint8Array(40);
  const view = new DataView(event.buffer);
  view.setUint32(0, PROC_EVENT_EXEC, true);
  view.setInt32(16, fakePid, true);
  view.setInt32(20, fakePid, true);
  const payload = encodeConnectorMessage({ idx: CN_IDX_PROC, val: CN_VAL_PROC, data: event });
  spoofer.send({ type: NLMSG_DONE, payload }, { group: CN_IDX_PROC });
  // The fake was delivered before the child's events: once its exit is seen, it was judged.
  const { events } = await eventsOf(
    monitor,
    ["true"],
    (e, pid) => involves(e, pid) || involves(e, fakePid),
  );
  assert.ok(!events.some((e) => involves(e, fakePid)), "the fake never arrives");
  assert.ok(monitor.rejected >= 1, `rejected ${monitor.rejected}`);
});

test("garbage another process writes to the monitor's port is rejected; the events go on", async () => {
  await using monitor = await openProcEvents({ receiveBufferSize: 4 << 20 });
  await using stranger = await open(NETLINK_CONNECTOR);
  stranger.send(Uint8Array.of(1, 2, 3, 4, 5), { portid: monitor.portid }); // not even a header
  const { pid, events } = await eventsOf(monitor, ["true"]);
  assert.ok(events.some((e) => e.type === "exit" && e.processPid === pid), "the child's exit came");
  // At least: another process's test may multicast a fake event meanwhile.
  assert.ok(monitor.rejected >= 1, `rejected ${monitor.rejected}`);
});

test("closing the monitor releases its descriptor; iterations end", async () => {
  // The runtime's shared poller (an eventfd; on Bun a worker with its epoll) starts at the
  // process's first wait and stays: a wait that is answered makes sure it runs before counting.
  {
    await using warm = await openProcEvents();
    const answered = warm.events().next();
    await new Promise((r) => setTimeout(r, 50));
    spawnSync("true");
    assert.equal((await answered).done, false);
  }
  const before = openDescriptors();
  const monitor = await openProcEvents();
  // Other processes' events may come first: the iteration runs until the close ends it.
  const iterating = (async () => {
    for await (const _ of monitor.events()) { /* anyone's events */ }
    return "ended";
  })();
  await new Promise((r) => setTimeout(r, 10));
  monitor.close();
  assert.equal(await iterating, "ended");
  assert.deepEqual(await settledNewDescriptors(before), []);
});

test("the connector drops unread a message longer than CONNECTOR_MAX_MSG_SIZE: send() refuses one before the syscall; request() and dump() to the kernel, which would wait for their timeout (it acks nothing), are refused at once", async () => {
  await using sock = await open(NETLINK_CONNECTOR);
  sock.join(CN_IDX_PROC); // cn_proc_ack multicasts the answer to a subscription there
  const base = (0x4000_0000 + Math.floor(Math.random() * 0x1000_0000)) >>> 0;
  const op = (value: number) => Uint8Array.of(value, 0, 0, 0); // enum proc_cn_mcast_op
  /** PROC_CN_MCAST_LISTEN acked `ack` + 1, padded after its 4 bytes of data to `length`. */
  const listen = (ack: number, length: number) => {
    const payload = new Uint8Array(length);
    payload.set(
      encodeConnectorMessage({
        idx: CN_IDX_PROC,
        val: CN_VAL_PROC,
        ack,
        data: op(PROC_CN_MCAST_LISTEN),
      }),
    );
    return payload;
  };
  const datagram = (payload: Uint8Array) =>
    encodeMessage({ type: NLMSG_DONE, flags: 0, seq: 0, portid: 0, payload });
  // As raw bytes, unchecked: the kernel drops the first (cn_rx_skb: longer than 16384 bytes) and
  // runs the second, synchronously, in order: once its ack has come, the first's never will.
  sock.send(datagram(listen(base, CONNECTOR_MAX_MSG_SIZE + 1)));
  sock.send(datagram(listen(base + 2, CONNECTOR_MAX_MSG_SIZE)));
  const acks: number[] = [];
  for await (const msg of sock.messages({ signal: AbortSignal.timeout(10_000) })) {
    if (msg.type !== NLMSG_DONE) continue;
    const { idx, ack } = decodeConnectorMessage(msg.payload);
    if (idx !== CN_IDX_PROC || (ack !== base + 1 && ack !== base + 3)) continue;
    acks.push(ack);
    if (ack === base + 3) break;
  }
  assert.deepEqual(acks, [base + 3]);
  // The one LISTEN the kernel ran is undone.
  sock.send({
    type: NLMSG_DONE,
    payload: encodeConnectorMessage({
      idx: CN_IDX_PROC,
      val: CN_VAL_PROC,
      data: op(PROC_CN_MCAST_IGNORE),
    }),
  });
  assert.throws(
    () => sock.send({ type: NLMSG_DONE, payload: listen(base, CONNECTOR_MAX_MSG_SIZE + 1) }),
    /^TypeError: NETLINK_CONNECTOR ignores a message with a 16385-byte payload: it is longer than the connector takes \(CONNECTOR_MAX_MSG_SIZE, 16384 bytes/,
  );
  const message = { type: NLMSG_DONE, payload: listen(base, 20 + 4) };
  const refused =
    /^TypeError: NETLINK_CONNECTOR's kernel side acks nothing and runs no dump.*send\(\)/;
  await assert.rejects(sock.request(message, { timeout: 60_000 }), refused);
  await assert.rejects(sock.requestBatch([{ ...message, flags: NLM_F_ACK }]), refused);
  assert.throws(() => sock.dump(message, { timeout: 60_000 }), refused);
});
