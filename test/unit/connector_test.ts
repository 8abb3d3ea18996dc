// The connector's cn_msg codec, the proc_event decoder, and openProcEvents()'s subscription,
// sender checks and unsubscription over an in-memory transport that plays the kernel's part.
// The byte offsets here are written out from <linux/cn_proc.h> on purpose: they check the
// generated layout rather than repeat it.

import assert from "node:assert/strict";
import { test } from "node:test";
import { SO_RCVBUFFORCE, SOL_SOCKET } from "../../ffi/_constants.ts";
import {
  decodeConnectorMessage,
  decodeProcEvent,
  encodeConnectorMessage,
  openProcEvents,
  type ProcEvent,
  type ProcEventMonitor,
  type ProcEventsOptions,
} from "../../src/connector.ts";
import {
  CN_IDX_PROC,
  CN_VAL_PROC,
  NETLINK_ADD_MEMBERSHIP,
  NETLINK_CONNECTOR,
  NLM_F_ACK,
  NLMSG_DONE,
  PROC_CN_MCAST_IGNORE,
  PROC_CN_MCAST_LISTEN,
  PROC_EVENT_COMM,
  PROC_EVENT_COREDUMP,
  PROC_EVENT_EXEC,
  PROC_EVENT_EXIT,
  PROC_EVENT_FORK,
  PROC_EVENT_GID,
  PROC_EVENT_NONE,
  PROC_EVENT_PTRACE,
  PROC_EVENT_SID,
  PROC_EVENT_UID,
  SOL_NETLINK,
} from "../../src/constants.ts";
import { MalformedMessageError, NetlinkError, SyscallError } from "../../src/errors.ts";
import { encodeMessage, type Message } from "../../src/message.ts";
import { FakeKernel, type FakeSocket } from "../../src/testing/mod.ts";
import { assertEventsOptionsChecked, fakeSocket } from "./_fake.ts";

/** A struct proc_event: `what`, cpu, timestamp, then the given 32-bit words of event_data. */
function procEvent(what: number, words: number[], extra?: (data: Uint8Array) => void): Uint8Array {
  const data = new Uint8Array(40);
  const view = new DataView(data.buffer);
  view.setUint32(0, what, true);
  view.setUint32(4, 1, true); // cpu
  view.setBigUint64(8, 123_456_789n, true); // timestamp_ns
  words.forEach((word, i) => view.setInt32(16 + 4 * i, word, true));
  extra?.(data);
  return data;
}

test("encodeConnectorMessage writes struct cn_msg (idx, val, seq, ack, len, flags) and data", () => {
  const bytes = encodeConnectorMessage({
    idx: 0x0102_0304,
    val: 5,
    seq: 6,
    ack: 0xffff_ffff,
    flags: 0x0a0b,
    data: Uint8Array.of(9, 8, 7),
  });
  assert.deepEqual(
    [...bytes],
    [4, 3, 2, 1, 5, 0, 0, 0, 6, 0, 0, 0, 255, 255, 255, 255, 3, 0, 0x0b, 0x0a, 9, 8, 7],
  );
  const decoded = decodeConnectorMessage(bytes);
  assert.deepEqual({ ...decoded, data: [...decoded.data] }, {
    idx: 0x0102_0304,
    val: 5,
    seq: 6,
    ack: 0xffff_ffff,
    flags: 0x0a0b,
    data: [9, 8, 7],
  });
});

test("encodeConnectorMessage defaults seq, ack, flags and data, and rejects bad fields up front", () => {
  assert.deepEqual(
    [...encodeConnectorMessage({ idx: 1, val: 1 })],
    [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  );
  assert.throws(() => encodeConnectorMessage({ idx: -1, val: 1 }), /idx must be a u32/);
  assert.throws(() => encodeConnectorMessage({ idx: 1, val: 2 ** 32 }), /val must be a u32/);
  assert.throws(() => encodeConnectorMessage({ idx: 1, val: 1, flags: 0x10000 }), /flags.*u16/);
  assert.throws(() => encodeConnectorMessage({ idx: 1, val: 1, seq: 1.5 }), TypeError);
  // The connector takes a cn_msg and its data of CONNECTOR_MAX_MSG_SIZE (16384) bytes at most.
  assert.equal(
    encodeConnectorMessage({ idx: 1, val: 1, data: new Uint8Array(16364) }).length,
    16384,
  );
  assert.throws(
    () => encodeConnectorMessage({ idx: 1, val: 1, data: new Uint8Array(16365) }),
    /^RangeError: connector message data must be at most 16364 bytes, got 16365: .*CONNECTOR_MAX_MSG_SIZE \(16384 bytes\)/,
  );
  assert.throws(
    () => encodeConnectorMessage({ idx: 1, val: 1, data: [1] as unknown as Uint8Array }),
    TypeError,
  );
  assert.throws(() => encodeConnectorMessage(null as never), TypeError);
  // A misspelt field would leave the data (or the seq...) out in silence.
  assert.throws(
    () => encodeConnectorMessage({ idx: 1, val: 1, dat: Uint8Array.of(1) } as never),
    (e: unknown) =>
      e instanceof TypeError
      && e.message === "connector message: unknown field \"dat\" (did you mean \"data\"?); the "
          + "fields are idx, val, seq, ack, flags, data",
  );
});

test("decodeConnectorMessage: data is len bytes (trailing padding ignored); short input throws", () => {
  const padded = new Uint8Array(28);
  padded.set(encodeConnectorMessage({ idx: 1, val: 1, data: Uint8Array.of(1, 2) }));
  assert.deepEqual([...decodeConnectorMessage(padded).data], [1, 2]);
  assert.throws(() => decodeConnectorMessage(new Uint8Array(19)), MalformedMessageError);
  const lying = encodeConnectorMessage({ idx: 1, val: 1, data: Uint8Array.of(1, 2) });
  lying[16] = 3; // len 3, 2 bytes present
  assert.throws(() => decodeConnectorMessage(lying), /len 3 runs past the end/);
});

test("decodeProcEvent decodes every event type of <linux/cn_proc.h>", () => {
  const header = { cpu: 1, timestamp: 123_456_789n };
  const cases: [Uint8Array, ProcEvent][] = [
    [procEvent(PROC_EVENT_NONE, [1]), { type: "ack", ...header, errno: 1 }],
    [procEvent(PROC_EVENT_FORK, [10, 11, 12, 13]), {
      type: "fork",
      ...header,
      parentPid: 10,
      parentTgid: 11,
      childPid: 12,
      childTgid: 13,
    }],
    [procEvent(PROC_EVENT_EXEC, [20, 21]), {
      type: "exec",
      ...header,
      processPid: 20,
      processTgid: 21,
    }],
    [procEvent(PROC_EVENT_UID, [30, 31, 1000, 0]), {
      type: "uid",
      ...header,
      processPid: 30,
      processTgid: 31,
      ruid: 1000,
      euid: 0,
    }],
    [procEvent(PROC_EVENT_GID, [40, 41, 100, -2]), {
      type: "gid",
      ...header,
      processPid: 40,
      processTgid: 41,
      rgid: 100,
      egid: 0xffff_fffe, // gid_t is unsigned
    }],
    [procEvent(PROC_EVENT_SID, [50, 51]), {
      type: "sid",
      ...header,
      processPid: 50,
      processTgid: 51,
    }],
    [procEvent(PROC_EVENT_PTRACE, [60, 61, 62, 63]), {
      type: "ptrace",
      ...header,
      processPid: 60,
      processTgid: 61,
      tracerPid: 62,
      tracerTgid: 63,
    }],
    [
      procEvent(PROC_EVENT_COMM, [70, 71], (d) => d.set(new TextEncoder().encode("worker-1"), 24)),
      { type: "comm", ...header, processPid: 70, processTgid: 71, comm: "worker-1" },
    ],
    [procEvent(PROC_EVENT_COREDUMP, [80, 81, 82, 83]), {
      type: "coredump",
      ...header,
      processPid: 80,
      processTgid: 81,
      parentPid: 82,
      parentTgid: 83,
    }],
    [procEvent(PROC_EVENT_EXIT, [90, 91, 3 << 8, 17, 92, 93]), {
      type: "exit",
      ...header,
      processPid: 90,
      processTgid: 91,
      exitCode: 768,
      exitStatus: 3,
      termSignal: undefined,
      exitSignal: 17,
      parentPid: 92,
      parentTgid: 93,
    }],
  ];
  for (const [data, expected] of cases) assert.deepEqual(decodeProcEvent(data), expected);
});

test("decodeProcEvent: exit by signal, a thread's exit, a full-length comm, an unknown what", () => {
  const killed = decodeProcEvent(procEvent(PROC_EVENT_EXIT, [5, 5, 9 | 0x80, 17, 1, 1]));
  assert.equal(killed.type === "exit" && killed.termSignal, 9); // SIGKILL, core-dump bit set
  assert.equal(killed.type === "exit" && killed.exitStatus, undefined);
  const thread = decodeProcEvent(procEvent(PROC_EVENT_EXIT, [6, 5, 0, -1, 1, 1]));
  assert.equal(thread.type === "exit" && thread.exitSignal, -1);
  assert.equal(thread.type === "exit" && thread.exitStatus, 0);
  const long = decodeProcEvent(procEvent(PROC_EVENT_COMM, [1, 1], (d) => d.fill(0x61, 24, 40)));
  assert.equal(long.type === "comm" && long.comm, "a".repeat(16)); // no NUL: all 16 bytes
  const unknown = decodeProcEvent(procEvent(0x2000_0000, [7]));
  assert.equal(unknown.type, "unknown");
  assert.equal(unknown.type === "unknown" && unknown.what, 0x2000_0000);
  assert.equal(unknown.type === "unknown" && unknown.data.length, 24);
});

test("decodeProcEvent: too short for the header or for the event's struct throws", () => {
  assert.throws(() => decodeProcEvent(new Uint8Array(15)), MalformedMessageError);
  assert.throws(
    () => decodeProcEvent(procEvent(PROC_EVENT_EXIT, []).subarray(0, 39)),
    /proc event 0x80000000 needs 40 bytes, got 39/,
  );
  assert.throws(() => decodeProcEvent("x" as unknown as Uint8Array), TypeError);
});

// --- openProcEvents over a fake kernel ------------------------------------------------------

/** The proc connector, played over a FakeKernel: what it was sent and how it answers. */
interface ProcConnector {
  kernel: FakeKernel;
  /** The socket openProcEvents() opened. */
  t: FakeSocket;
  /** The connector messages the library sent to the kernel, decoded. */
  requests: { op: number; ack: number; idx: number; val: number; nlType: number }[];
}

/**
 * A kernel with the connector in it (in the initial network namespace): it takes messages sent
 * to port 0; the proc connector's answers are scripted per socket.
 */
function connectorKernel(): FakeKernel {
  return new FakeKernel().serve(NETLINK_CONNECTOR, NLMSG_DONE, () => ({ silent: true }));
}

/** A proc connector message from the kernel: NLMSG_DONE around cn_msg around proc_event. */
function kernelMessage(data: Uint8Array, ack = 0, id = [CN_IDX_PROC, CN_VAL_PROC]): Message {
  const payload = encodeConnectorMessage({ idx: id[0], val: id[1], seq: 0, ack, data });
  return { type: NLMSG_DONE, flags: 0, seq: 0, portid: 0, payload };
}

/** The kernel multicasts a proc connector message to every member of group CN_IDX_PROC. */
function multicast(kernel: FakeKernel, data: Uint8Array, ack = 0, id?: number[]): void {
  kernel.multicast(NETLINK_CONNECTOR, CN_IDX_PROC, [kernelMessage(data, ack, id)]);
}

/**
 * Opens a monitor over a fake kernel whose proc connector answers as the real one does: the
 * ack of a LISTEN (PROC_EVENT_NONE, the request's ack + 1, errno `errno`) is multicast to the
 * whole group, after the events in `before`; IGNORE is not acked to its sender.
 */
async function fakeMonitor(
  options: { errno?: number; silent?: boolean; before?: Uint8Array[] } & ProcEventsOptions = {},
  connector: ProcConnector = { kernel: connectorKernel(), t: undefined!, requests: [] },
): Promise<{ monitor: ProcEventMonitor } & ProcConnector> {
  const { kernel } = connector;
  // The fake kernel's settings stay here: openProcEvents() refuses options it does not know.
  const { errno, silent, before, ...procOptions } = options;
  const monitor = await openProcEvents({
    ...procOptions,
    transport: (protocol, opts) => {
      assert.equal(protocol, NETLINK_CONNECTOR);
      const t = connector.t = kernel.open(protocol, opts) as FakeSocket;
      t.script = (message) => {
        const cn = decodeConnectorMessage(message.payload);
        const op = new DataView(cn.data.buffer, cn.data.byteOffset).getUint32(0, true);
        connector.requests.push({
          op,
          ack: cn.ack,
          idx: cn.idx,
          val: cn.val,
          nlType: message.type,
        });
        if (op !== PROC_CN_MCAST_LISTEN || silent) return;
        for (const event of before ?? []) multicast(kernel, event);
        const answer = procEvent(PROC_EVENT_NONE, [errno ?? 0]);
        multicast(kernel, answer, (cn.ack + 1) >>> 0);
      };
      return t;
    },
  });
  return { monitor, ...connector };
}

/** Another process's socket on NETLINK_CONNECTOR in the same fake kernel, in the group. */
function otherProcess(kernel: FakeKernel): FakeSocket {
  const other = kernel.open(NETLINK_CONNECTOR, { portid: 0 }) as FakeSocket;
  other.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, CN_IDX_PROC);
  return other;
}

test("events(): return() while a step waits ends the iteration at once, that step done", async () => {
  // An async generator's return() waited for the step in flight: next() raced with a timeout,
  // then return(), hung until an event came.
  const { monitor } = await fakeMonitor();
  const events = monitor.events();
  const pending = events.next();
  assert.deepEqual(await events.return(), { value: undefined, done: true });
  assert.deepEqual(await pending, { value: undefined, done: true });
  assert.equal(monitor.closed, false);
  monitor.close();
});

test("openProcEvents joins CN_IDX_PROC, sends PROC_CN_MCAST_LISTEN, waits for its ack", async () => {
  const { monitor, t, requests } = await fakeMonitor();
  assert.deepEqual([...t.groups], [CN_IDX_PROC]);
  assert.equal(requests.length, 1);
  assert.deepEqual(
    { ...requests[0], ack: 0 },
    { op: PROC_CN_MCAST_LISTEN, ack: 0, idx: CN_IDX_PROC, val: CN_VAL_PROC, nlType: NLMSG_DONE },
  );
  assert.equal(t.sent[0].portid, 0, "sent to the kernel");
  assert.equal(monitor.portid, t.portid);
  monitor.close();
  assert.equal(t.closed, true);
});

test("receiveBufferSize sizes the socket's receive buffer", async () => {
  const { monitor, t } = await fakeMonitor({ receiveBufferSize: 1 << 22 });
  assert.ok(
    t.options.some(([l, n, v]) => l === SOL_SOCKET && n === SO_RCVBUFFORCE && v === 1 << 22),
  );
  monitor.close();
  await assert.rejects(openProcEvents({ receiveBufferSize: 0 }), RangeError);
  await assert.rejects(
    openProcEvents({ timout: 100 } as never),
    /openProcEvents\(\) options: unknown option "timout" \(did you mean "timeout"\?\)/,
  );
});

test("close() unsubscribes with PROC_CN_MCAST_IGNORE, then closes; twice is a no-op", async () => {
  const { monitor, t, requests } = await fakeMonitor();
  await monitor[Symbol.asyncDispose]();
  assert.deepEqual(requests.map((r) => r.op), [PROC_CN_MCAST_LISTEN, PROC_CN_MCAST_IGNORE]);
  assert.equal(t.closed, true);
  assert.equal(monitor.closed, true);
  monitor.close();
  assert.equal(requests.length, 2);
  const ended = await monitor.events().next();
  assert.equal(ended.done, true);
});

test("events before the ack are kept, other listeners' acks skipped, then the stream flows", async () => {
  const { monitor, kernel } = await fakeMonitor({
    before: [procEvent(PROC_EVENT_FORK, [1, 1, 2, 2])],
  });
  multicast(kernel, procEvent(PROC_EVENT_EXEC, [2, 2]));
  multicast(kernel, procEvent(PROC_EVENT_NONE, [0]), 777); // another listener's ack
  multicast(kernel, procEvent(PROC_EVENT_EXIT, [2, 2, 0, 17, 1, 1]));
  const seen: string[] = [];
  for await (const event of monitor) {
    seen.push(event.type);
    if (event.type === "exit") break;
  }
  assert.deepEqual(seen, ["fork", "exec", "exit"]);
  assert.equal(monitor.rejected, 0);
  monitor.close();
});

test("events() ends at the step after close(), whatever was queued before the ack or read with it", async () => {
  const fork = procEvent(PROC_EVENT_FORK, [1, 1, 2, 2]);
  const exec = procEvent(PROC_EVENT_EXEC, [2, 2]);
  const { monitor, kernel } = await fakeMonitor({ before: [fork, exec, fork] });
  const events = monitor.events();
  assert.equal((await events.next()).value?.type, "fork");
  monitor.close();
  assert.deepEqual(await events.next(), { value: undefined, done: true });
  assert.deepEqual(await monitor.events().next(), { value: undefined, done: true }, "cleared");

  // Two events in one datagram: the second is not yielded after close() either.
  const second = await fakeMonitor({}, { kernel, t: undefined!, requests: [] });
  kernel.multicast(NETLINK_CONNECTOR, CN_IDX_PROC, [kernelMessage(fork), kernelMessage(exec)]);
  const stream = second.monitor.events();
  assert.equal((await stream.next()).value?.type, "fork");
  second.monitor.close();
  assert.deepEqual(await stream.next(), { value: undefined, done: true });
});

test("another listener's ack during our subscription does not complete it", async () => {
  const connector: ProcConnector = { kernel: connectorKernel(), t: undefined!, requests: [] };
  const othersAck = procEvent(PROC_EVENT_NONE, [1]); // EPERM, but for someone else's request
  const { monitor } = await fakeMonitor({ before: [othersAck] }, connector);
  assert.equal(monitor.closed, false, "subscribed: its own ack (errno 0) decided");
  monitor.close();
});

test("messages not from the kernel's proc connector are rejected, counted, never yielded", async () => {
  const { monitor, kernel, t } = await fakeMonitor();
  const exec = (pid: number) => kernelMessage(procEvent(PROC_EVENT_EXEC, [pid, pid]));
  const other = otherProcess(kernel);
  other.send(encodeMessage(exec(1)), 0, 1 << (CN_IDX_PROC - 1)); // a process multicasting
  other.send(encodeMessage(exec(2)), t.portid, 0); // a process writing to our port
  t.deliver([exec(3)], 0, 0); // the kernel, but unicast
  multicast(kernel, procEvent(PROC_EVENT_EXEC, [4, 4]), 0, [CN_IDX_PROC, 2]); // another val
  kernel.multicast(NETLINK_CONNECTOR, CN_IDX_PROC, [{ ...exec(5), type: NLMSG_DONE + 1 }]);
  multicast(kernel, procEvent(PROC_EVENT_EXEC, [6, 6])); // the real one
  const { value } = await monitor.events().next();
  assert.equal(value?.type === "exec" && value.processTgid, 6);
  assert.equal(monitor.rejected, 5);
  monitor.close();
});

test("a datagram another process writes to our port that does not parse is rejected; the stream goes on", async () => {
  const { monitor, kernel, t } = await fakeMonitor();
  const other = otherProcess(kernel);
  other.send(Uint8Array.of(1, 2, 3, 4, 5), t.portid, 0); // too short for a header
  const overlong = encodeMessage(kernelMessage(procEvent(PROC_EVENT_EXEC, [1, 1])));
  new DataView(overlong.buffer).setUint32(0, overlong.length + 4, true); // runs past the end
  other.send(overlong, t.portid, 0);
  multicast(kernel, procEvent(PROC_EVENT_EXEC, [6, 6]));
  const { value } = await monitor.events().next();
  assert.equal(value?.type === "exec" && value.processTgid, 6);
  assert.equal(monitor.rejected, 2);
  monitor.close();
});

test("a spoofed ack from another process does not complete the subscription", async () => {
  const kernel = connectorKernel();
  const spoofer = otherProcess(kernel);
  let t!: FakeSocket;
  const opening = openProcEvents({
    timeout: 200,
    transport: (protocol, opts) => {
      t = kernel.open(protocol, opts) as FakeSocket;
      t.script = (message) => {
        const cn = decodeConnectorMessage(message.payload);
        const answer = kernelMessage(procEvent(PROC_EVENT_NONE, [0]), cn.ack + 1);
        spoofer.send(encodeMessage(answer), 0, 1 << (CN_IDX_PROC - 1));
      };
      return t;
    },
  });
  await assert.rejects(opening, /did not acknowledge PROC_CN_MCAST_LISTEN within 200 ms/);
  assert.equal(t.closed, true);
});

test("a refused subscription rejects with NetlinkError and closes the socket", async () => {
  const connector: ProcConnector = { kernel: connectorKernel(), t: undefined!, requests: [] };
  await assert.rejects(
    fakeMonitor({ errno: 1 }, connector),
    (err: unknown) => err instanceof NetlinkError && err.code === "EPERM",
  );
  assert.equal(connector.t.closed, true);
});

test("no ack (outside the initial namespaces) rejects after `timeout`, saying why", async () => {
  const connector: ProcConnector = { kernel: connectorKernel(), t: undefined!, requests: [] };
  await assert.rejects(
    fakeMonitor({ silent: true, timeout: 50 }, connector),
    /within 50 ms: it ignores requests from outside the initial user and PID namespaces/,
  );
  assert.equal(connector.t.closed, true);
  await assert.rejects(openProcEvents({ timeout: 0 }), {
    name: "RangeError",
    message: "timeout must be a number of milliseconds from 1 to 2147483647, got 0: leave it out "
      + "for the default, 5000 ms",
  });
  await assert.rejects(openProcEvents({ timeout: Number.NaN }), TypeError);
  // Under 1 ms, as the message says: 0.5 was taken (a request's timeout refuses it too).
  for (const timeout of [0.5, 0.999, 2 ** 31]) {
    await assert.rejects(openProcEvents({ timeout }), {
      name: "RangeError",
      message: `timeout must be a number of milliseconds from 1 to 2147483647, got ${timeout}`,
    });
  }
});

test("no connector in the socket's namespace (ECONNREFUSED) rejects with a hint", async () => {
  const kernel = new FakeKernel(); // nothing serves NETLINK_CONNECTOR, as in another netns
  await assert.rejects(
    openProcEvents({ transport: kernel.open }),
    (err: unknown) =>
      err instanceof SyscallError && err.code === "ECONNREFUSED"
      && /only the initial network namespace/.test(err.message),
  );
  assert.equal(kernel.sockets.length, 0, "closed");
});

test("EPERM joining the group rejects with a hint", async () => {
  const kernel = new FakeKernel();
  await assert.rejects(
    openProcEvents({
      transport: (protocol, opts) => {
        const t = kernel.open(protocol, opts) as FakeSocket;
        t.failOption = (_, name) =>
          name === NETLINK_ADD_MEMBERSHIP ? new SyscallError("setsockopt", 1) : undefined;
        return t;
      },
    }),
    (err: unknown) =>
      err instanceof SyscallError && err.code === "EPERM" && /CAP_NET_ADMIN/.test(err.message),
  );
  assert.equal(kernel.sockets.length, 0, "closed");
});

test("an overrun is yielded as { type: 'overrun' } and the stream goes on", async () => {
  const { monitor, t, kernel } = await fakeMonitor();
  t.overrun();
  const events = monitor.events();
  assert.deepEqual((await events.next()).value, { type: "overrun" });
  multicast(kernel, procEvent(PROC_EVENT_SID, [3, 3]));
  assert.equal((await events.next()).value?.type, "sid");
  assert.equal(monitor.overruns, 1);
  monitor.close();
});

test("a malformed kernel message throws from the iteration; the next one goes on", async () => {
  const { monitor, kernel } = await fakeMonitor();
  multicast(kernel, new Uint8Array(8));
  multicast(kernel, procEvent(PROC_EVENT_SID, [3, 3]));
  await assert.rejects(monitor.events().next(), MalformedMessageError);
  assert.equal((await monitor.events().next()).value?.type, "sid");
  monitor.close();
});

test("events({ signal }) ends with the signal's reason; close() ends a waiting iteration", async () => {
  const { monitor } = await fakeMonitor();
  const controller = new AbortController();
  const waiting = monitor.events({ signal: controller.signal }).next();
  controller.abort(new Error("enough"));
  await assert.rejects(waiting, /enough/);
  const pending = monitor.events().next();
  monitor.close();
  assert.equal((await pending).done, true);
});

test("a number given as a string is shown quoted in the error: \"5\" is refused, 5 would not be", async () => {
  await assert.rejects(
    openProcEvents({ timeout: "5" as never }),
    (e: unknown) => e instanceof TypeError && e.message.endsWith("got \"5\""),
  );
  assert.throws(
    () => encodeConnectorMessage({ idx: "1" as never, val: 1 }),
    (e: unknown) => e instanceof TypeError && e.message.endsWith("got \"1\""),
  );
});

test("events() names itself refusing an option it does not know, onMalformed included", async () => {
  const { monitor } = await fakeMonitor();
  await assertEventsOptionsChecked((options) => monitor.events(options));
  monitor.close();
});

test("a connector message the kernel drops unread is refused before anything is sent; request() and dump() to the kernel, which acks nothing, are refused at once", async () => {
  // cn_rx_skb ignores a payload shorter than a struct cn_msg, cn_call_callback one shorter than
  // the header and the `len` bytes it says follow; the connector acks nothing, so nothing says so.
  const { sock, t } = await fakeSocket({}, () => {}, NETLINK_CONNECTOR);
  const whole = encodeConnectorMessage({
    idx: CN_IDX_PROC,
    val: CN_VAL_PROC,
    data: Uint8Array.of(1, 0, 0, 0),
  });
  const short =
    /^TypeError: NETLINK_CONNECTOR ignores a message with a 19-byte payload: it is shorter than a struct cn_msg \(20 bytes\), .*encodeConnectorMessage\(\)/;
  assert.throws(() => sock.send({ type: NLMSG_DONE, payload: whole.subarray(0, 19) }), short);
  assert.throws(
    () => sock.send({ type: NLMSG_DONE, payload: whole.subarray(0, 22) }),
    /^TypeError: NETLINK_CONNECTOR ignores a message with a 22-byte payload: its struct cn_msg says 4 bytes of data follow, and 2 do/,
  );
  assert.throws(() => sock.send({ type: NLMSG_DONE }), /with a 0-byte payload/);
  // cn_rx_skb drops a payload longer than CONNECTOR_MAX_MSG_SIZE too.
  const long = new Uint8Array(16385);
  long.set(whole);
  assert.throws(
    () => sock.send({ type: NLMSG_DONE, payload: long }),
    /^TypeError: NETLINK_CONNECTOR ignores a message with a 16385-byte payload: it is longer than the connector takes \(CONNECTOR_MAX_MSG_SIZE, 16384 bytes/,
  );
  // The connector acks nothing and runs no dump: requests to the kernel would only time out.
  const refused =
    /^TypeError: NETLINK_CONNECTOR's kernel side acks nothing and runs no dump, so a request\(\) or dump\(\) to it would only wait for its timeout: send the message with send\(\).*openProcEvents\(\)/;
  await assert.rejects(sock.request({ type: NLMSG_DONE, payload: whole }), refused);
  await assert.rejects(
    sock.requestBatch([{ type: NLMSG_DONE, flags: NLM_F_ACK, payload: whole }]),
    refused,
  );
  assert.throws(() => sock.dump({ type: NLMSG_DONE, payload: whole }), refused);
  assert.equal(t.sent.length, 0);
  // What the kernel reads is sent, and so is anything to a user-space port or a group.
  sock.send({ type: NLMSG_DONE, payload: whole });
  sock.send({ type: NLMSG_DONE, payload: Uint8Array.of(...whole, 0, 0) }); // padding: read
  sock.send({ type: NLMSG_DONE }, { portid: sock.portid });
  sock.send({ type: NLMSG_DONE }, { group: CN_IDX_PROC });
  sock.send({ type: NLMSG_DONE, payload: Uint8Array.of(...whole, ...new Uint8Array(16384 - 24)) });
  assert.equal(t.sent.length, 5);
  // A user-space port on the protocol answers as it likes: a request to one is sent.
  await assert.rejects(
    sock.request({ type: NLMSG_DONE, payload: whole }, { to: 0x7fff_fff0 }),
    (e: Error) => !(e instanceof TypeError) && /ECONNREFUSED/.test(String(e)),
  );
  sock.close();
});
