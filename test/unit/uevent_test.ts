// The uevent parsers (kernel text, udev's libudev header) and openUevents()'s stream, sender
// checks and overruns over an in-memory transport.

import assert from "node:assert/strict";
import { test } from "node:test";
import { SO_RCVBUFFORCE, SOL_SOCKET } from "../../ffi/_constants.ts";
import { NETLINK_KOBJECT_UEVENT } from "../../src/constants.ts";
import { MalformedMessageError } from "../../src/errors.ts";
import { FakeKernel, type FakeSocket } from "../../src/testing/mod.ts";
import {
  isUdevMessage,
  openUevents,
  parseUevent,
  UDEV_MONITOR_MAGIC,
  type UeventMonitor,
  type UeventOptions,
} from "../../src/uevent.ts";
import { udevMessage } from "../_udev.ts";
import { assertEventsOptionsChecked } from "./_fake.ts";

const text = (s: string) => new TextEncoder().encode(s);

/** A kernel uevent as the host's kernel sent it for a veth (captured). */
const VETH_ADD = text(
  "add@/devices/virtual/net/vb\0ACTION=add\0DEVPATH=/devices/virtual/net/vb\0SUBSYSTEM=net\0"
    + "INTERFACE=vb\0IFINDEX=2\0SEQNUM=3185\0",
);

const UDEV_PROPS = "ACTION=add\0DEVPATH=/devices/virtual/net/vb\0SUBSYSTEM=net\0"
  + "INTERFACE=vb\0IFINDEX=2\0SEQNUM=3185\0USEC_INITIALIZED=1234\0ID_NET_DRIVER=veth\0";

test("parseUevent reads a kernel uevent: action, devpath, subsystem, seqnum and all of env", () => {
  assert.deepEqual(parseUevent(VETH_ADD), {
    type: "uevent",
    source: "kernel",
    action: "add",
    devpath: "/devices/virtual/net/vb",
    subsystem: "net",
    devtype: undefined,
    seqnum: 3185n,
    env: {
      ACTION: "add",
      DEVPATH: "/devices/virtual/net/vb",
      SUBSYSTEM: "net",
      INTERFACE: "vb",
      IFINDEX: "2",
      SEQNUM: "3185",
    },
  });
});

test("parseUevent: DEVTYPE, values with '=', a u64 seqnum, no trailing NUL, a __proto__ key", () => {
  const event = parseUevent(text(
    "change@/devices/pci0000:00/block/sda\0DEVTYPE=disk\0ID_FS_LABEL=a=b\0"
      + "SEQNUM=18446744073709551615\0__proto__=x\0EMPTY=",
  ));
  assert.equal(event.action, "change");
  assert.equal(event.devpath, "/devices/pci0000:00/block/sda");
  assert.equal(event.devtype, "disk");
  assert.equal(event.subsystem, undefined);
  assert.equal(event.env.ID_FS_LABEL, "a=b");
  assert.equal(event.seqnum, 2n ** 64n - 1n);
  assert.equal(event.env.EMPTY, "");
  assert.ok(Object.hasOwn(event.env, "__proto__"));
  assert.equal(Object.getPrototypeOf(event.env), Object.prototype, "prototype untouched");
  assert.equal(event.env["__proto__"], "x");
});

test("parseUevent reads bytes that are not UTF-8 as U+FFFD, as Uevent.env says", () => {
  const text = new TextEncoder().encode("add@/devices/virtual/net/a\0INTERFACE=a");
  const data = Uint8Array.of(...text, 0xff, 0, ...new TextEncoder().encode("IFINDEX=7\0"));
  const event = parseUevent(data);
  assert.deepEqual([event.env.INTERFACE, event.env.IFINDEX], ["a\ufffd", "7"]);
});

test("parseUevent rejects what is not a uevent, saying what and where", () => {
  const bad: [string, RegExp][] = [
    ["", /header "" is not ACTION@DEVPATH/],
    ["add\0ACTION=add\0", /is not ACTION@DEVPATH/],
    ["@/devices/x\0", /is not ACTION@DEVPATH/], // no action
    ["add@devices\0", /is not ACTION@DEVPATH/], // devpath not absolute
    ["add@/devices/x\0ACTION=add\0garbage\0", /entry "garbage" is not KEY=VALUE/],
    ["add@/devices/x\0=value\0", /is not KEY=VALUE/],
    ["add@/devices/x\0SEQNUM=12a\0", /SEQNUM "12a" is not a u64/],
    ["add@/devices/x\0SEQNUM=18446744073709551616\0", /is not a u64/],
    // Whoever sent it chose the text: its control characters, C1 too, are shown escaped.
    ["\x1b[2J\u009b\0", /header "\\u001b\[2J\\u009b" is not/],
    ["add@/devices/x\0\u009b31m\0", /entry "\\u009b31m" is not KEY=VALUE/],
    ["add@/devices/x\0SEQNUM=1\u009b\0", /SEQNUM "1\\u009b" is not a u64/],
  ];
  for (const [input, message] of bad) {
    assert.throws(() => parseUevent(text(input)), (err: unknown) => {
      assert.ok(err instanceof MalformedMessageError, input);
      assert.match(err.message, message, input);
      return true;
    });
  }
  const entry = "add@/devices/x\0ACTION=add\0garbage\0";
  assert.throws(() => parseUevent(text(entry)), { offset: entry.indexOf("garbage") });
  assert.throws(() => parseUevent("add@/x" as unknown as Uint8Array), TypeError);
});

test("parseUevent reads udev's monitor message: libudev header fields and the properties", () => {
  const data = udevMessage(UDEV_PROPS, { bloom: 0x0102_0304_0506_0708n });
  assert.equal(isUdevMessage(data), true);
  assert.equal(isUdevMessage(VETH_ADD), false);
  const event = parseUevent(data);
  assert.deepEqual(event.udev, {
    magic: UDEV_MONITOR_MAGIC,
    headerSize: 40,
    propertiesOffset: 40,
    propertiesLength: UDEV_PROPS.length,
    subsystemHash: 0x11223344,
    devtypeHash: 0,
    tagBloom: 0x0102_0304_0506_0708n,
  });
  assert.equal(event.source, "udev");
  assert.equal(event.action, "add");
  assert.equal(event.devpath, "/devices/virtual/net/vb");
  assert.equal(event.subsystem, "net");
  assert.equal(event.seqnum, 3185n);
  assert.equal(event.env.ID_NET_DRIVER, "veth");
  assert.equal(event.env.USEC_INITIALIZED, "1234");
  assert.equal(Object.keys(event.env).length, 8);
});

test("parseUevent: udev properties are read from their offset and length only", () => {
  const data = new Uint8Array(60 + UDEV_PROPS.length + 5);
  const header = udevMessage("", { offset: 60, length: UDEV_PROPS.length });
  data.set(header.subarray(0, 40));
  data.set(text(UDEV_PROPS), 60);
  data.set(text("X=1\0\0"), 60 + UDEV_PROPS.length); // past properties_len: not a property
  const event = parseUevent(data);
  assert.equal(event.devpath, "/devices/virtual/net/vb");
  assert.equal(event.env.X, undefined);
});

test("parseUevent rejects a bad udev message: short, wrong magic, properties out of bounds", () => {
  assert.throws(() => parseUevent(udevMessage(UDEV_PROPS).subarray(0, 39)), /too short/);
  assert.throws(
    () => parseUevent(udevMessage(UDEV_PROPS, { magic: 0xcafefeed })),
    /magic 0xcafefeed is not 0xfeedcafe/,
  );
  assert.throws(
    () => parseUevent(udevMessage(UDEV_PROPS, { length: UDEV_PROPS.length + 1 })),
    /not within the/,
  );
  assert.throws(() => parseUevent(udevMessage(UDEV_PROPS, { offset: 8 })), /not within the/);
  assert.throws(
    () => parseUevent(udevMessage(UDEV_PROPS, { offset: 0xffff_fff0 })),
    MalformedMessageError,
  );
  assert.throws(() => parseUevent(udevMessage("SUBSYSTEM=net\0")), /no ACTION or no DEVPATH/);
});

// --- openUevents over a fake kernel ---------------------------------------------------------

/** A kernel with a NETLINK_KOBJECT_UEVENT socket of its own (uevent_net_rcv), as in every netns. */
function ueventKernel(): FakeKernel {
  return new FakeKernel().serve(NETLINK_KOBJECT_UEVENT, 0, () => ({ silent: true }));
}

async function fakeMonitor(
  options: UeventOptions = {},
): Promise<{ monitor: UeventMonitor; t: FakeSocket; kernel: FakeKernel; other: FakeSocket }> {
  const kernel = ueventKernel();
  let t!: FakeSocket;
  const monitor = await openUevents({
    ...options,
    transport: (protocol, opts) => {
      assert.equal(protocol, NETLINK_KOBJECT_UEVENT);
      return t = kernel.open(protocol, opts) as FakeSocket;
    },
  });
  // Another process's socket on the protocol (root: it may send to groups and ports).
  const other = kernel.open(NETLINK_KOBJECT_UEVENT, { portid: 0 }) as FakeSocket;
  return { monitor, t, kernel, other };
}

test("openUevents joins group 1 for the kernel's events (the default), group 2 for udev's", async () => {
  const kernel = await fakeMonitor();
  assert.deepEqual([...kernel.t.groups], [1]);
  assert.equal(kernel.monitor.source, "kernel");
  kernel.monitor.close();
  const udev = await fakeMonitor({ source: "udev" });
  assert.deepEqual([...udev.t.groups], [2]);
  assert.equal(udev.monitor.source, "udev");
  await udev.monitor[Symbol.asyncDispose]();
  assert.equal(udev.t.closed, true);
  assert.equal(udev.monitor.closed, true);
});

test("receiveBufferSize sizes the socket's receive buffer", async () => {
  const { monitor, t } = await fakeMonitor({ receiveBufferSize: 1 << 22 });
  assert.ok(
    t.options.some(([l, n, v]) => l === SOL_SOCKET && n === SO_RCVBUFFORCE && v === 1 << 22),
  );
  monitor.close();
});

test("openUevents rejects bad options before opening anything", async () => {
  let opened = false;
  const transport = () => {
    opened = true;
    throw new Error("unreachable");
  };
  await assert.rejects(
    openUevents({ source: "systemd" as "udev", transport }),
    /source must be "kernel" or "udev"/,
  );
  await assert.rejects(openUevents({ netns: "", transport }), TypeError);
  await assert.rejects(openUevents({ receiveBufferSize: -1, transport }), RangeError);
  await assert.rejects(
    openUevents({ sorce: "udev", transport } as never),
    /openUevents\(\) options: unknown option "sorce" \(did you mean "source"\?\)/,
  );
  await assert.rejects(openUevents(null as never), /openUevents\(\) options must be an object/);
  assert.equal(opened, false);
});

test("events(): return() while a step waits ends the iteration at once, that step done", async () => {
  // An async generator's return() waited for the step in flight: next() raced with a timeout,
  // then return(), hung until an event came (for good on a quiet machine).
  const { monitor, kernel } = await fakeMonitor();
  const events = monitor.events();
  const pending = events.next();
  assert.deepEqual(await events.return(), { value: undefined, done: true });
  assert.deepEqual(await pending, { value: undefined, done: true });
  // The monitor goes on: a new iteration gets the next event.
  const next = monitor.events().next();
  kernel.multicast(NETLINK_KOBJECT_UEVENT, 1, VETH_ADD);
  const { value } = await next;
  assert.equal(value?.type === "uevent" && value.devpath, "/devices/virtual/net/vb");
  monitor.close();
});

test("kernel source: only the kernel's multicast in the kernel's format is an event", async () => {
  const { monitor, t, kernel, other } = await fakeMonitor();
  other.send(VETH_ADD, 0, 1 << 0); // a process multicasting to group 1
  t.deliver(VETH_ADD, 0, 0); // the kernel, unicast
  other.send(VETH_ADD, t.portid, 0); // a process, to our port
  kernel.multicast(NETLINK_KOBJECT_UEVENT, 1, udevMessage(UDEV_PROPS)); // udev's format
  kernel.multicast(NETLINK_KOBJECT_UEVENT, 1, VETH_ADD); // the real one
  const { value } = await monitor.events().next();
  assert.equal(value?.type === "uevent" && value.devpath, "/devices/virtual/net/vb");
  assert.equal(monitor.rejected, 4);
  monitor.close();
});

test("udev source: only udevd's multicast with a libudev header is an event", async () => {
  const { monitor, t, kernel, other } = await fakeMonitor({ source: "udev" });
  kernel.multicast(NETLINK_KOBJECT_UEVENT, 2, udevMessage(UDEV_PROPS)); // port 0: not udevd
  other.send(udevMessage(UDEV_PROPS), t.portid, 0); // unicast
  other.send(VETH_ADD, 0, 1 << 1); // the kernel's format
  other.send(udevMessage(UDEV_PROPS), 0, 1 << 1); // udevd
  const { value } = await monitor.events().next();
  assert.equal(value?.type === "uevent" && value.source, "udev");
  assert.equal(monitor.rejected, 3);
  monitor.close();
});

test("udev source: a malformed message from a process is rejected; the stream goes on", async () => {
  const { monitor, other } = await fakeMonitor({ source: "udev" });
  other.send(udevMessage(UDEV_PROPS, { magic: 0xcafefeed }), 0, 1 << 1);
  other.send(udevMessage("SUBSYSTEM=net\0"), 0, 1 << 1); // no ACTION, no DEVPATH
  other.send(udevMessage(UDEV_PROPS), 0, 1 << 1);
  const { value } = await monitor.events().next();
  assert.equal(value?.type === "uevent" && value.devpath, "/devices/virtual/net/vb");
  assert.equal(monitor.rejected, 2);
  monitor.close();
});

test("an overrun is yielded as { type: 'overrun' }; the stream goes on", async () => {
  const { monitor, t, kernel } = await fakeMonitor();
  t.overrun();
  const events = monitor.events();
  assert.deepEqual((await events.next()).value, { type: "overrun" });
  kernel.multicast(NETLINK_KOBJECT_UEVENT, 1, VETH_ADD);
  assert.equal((await events.next()).value?.type, "uevent");
  assert.equal(monitor.overruns, 1);
  monitor.close();
});

test("a malformed uevent from the kernel throws from the iteration; the next goes on", async () => {
  const { monitor, kernel } = await fakeMonitor();
  kernel.multicast(NETLINK_KOBJECT_UEVENT, 1, text("nonsense"));
  kernel.multicast(NETLINK_KOBJECT_UEVENT, 1, VETH_ADD);
  await assert.rejects(monitor.events().next(), MalformedMessageError);
  const next = await monitor.events().next();
  assert.equal(next.value?.type === "uevent" && next.value.action, "add");
  monitor.close();
});

test("events({ signal }) ends with its reason; close() ends waiting iterations and for-await", async () => {
  const { monitor } = await fakeMonitor();
  const controller = new AbortController();
  const aborted = monitor.events({ signal: controller.signal }).next();
  controller.abort(new Error("stop"));
  await assert.rejects(aborted, /stop/);
  const seen: unknown[] = [];
  const loop = (async () => {
    for await (const event of monitor) seen.push(event);
  })();
  await new Promise((r) => setTimeout(r, 0));
  monitor.close();
  await loop;
  assert.deepEqual(seen, []);
  assert.equal((await monitor.events().next()).done, true, "closed: ends at once");
});

test("a bad source is shown as given: quoted, so that an object printing as kernel is not taken for it", async () => {
  await assert.rejects(
    openUevents({ source: "UDEV" as never }),
    (e: unknown) =>
      e instanceof RangeError
      && e.message === "source must be \"kernel\" or \"udev\", got \"UDEV\"",
  );
  await assert.rejects(
    openUevents({ source: { toString: () => "kernel" } as never }),
    (e: unknown) => e instanceof RangeError && !e.message.endsWith("got kernel"),
  );
});

test("events() names itself refusing an option it does not know, onMalformed included", async () => {
  const { monitor } = await fakeMonitor();
  await assertEventsOptionsChecked((options) => monitor.events(options));
  monitor.close();
});
