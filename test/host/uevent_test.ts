// Uevents from the host's kernel, each test in a fresh network namespace: the kernel sends a
// network device's uevents to the namespace the device is in, so nothing else arrives there.

import assert from "node:assert/strict";
import { test } from "node:test";
import { NETLINK_KOBJECT_UEVENT } from "../../src/constants.ts";
import { open } from "../../src/open.ts";
import { openUevents, type Uevent, type UeventMonitor } from "../../src/uevent.ts";
import { openDescriptors, settledNewDescriptors } from "../_fds.ts";
import { udevMessage } from "../_udev.ts";
import { Netns } from "./_netns.ts";

/** Collects uevents until `done` says so (or 10 s pass, which fails the test). */
async function collect(
  monitor: UeventMonitor,
  done: (events: Uevent[]) => boolean,
): Promise<Uevent[]> {
  const events: Uevent[] = [];
  for await (const event of monitor.events({ signal: AbortSignal.timeout(10_000) })) {
    assert.notEqual(event.type, "overrun");
    if (event.type !== "uevent") continue;
    events.push(event);
    if (done(events)) break;
  }
  return events;
}

const netDevices = (events: Uevent[]) =>
  events.filter((e) => e.subsystem === "net").map((e) => `${e.action} ${e.devpath}`);

test("a veth created and deleted in a fresh namespace gives add and remove uevents", async () => {
  using ns = new Netns();
  await using monitor = await openUevents({ netns: ns.name });
  ns.ip("link", "add", "ue0", "type", "veth", "peer", "name", "ue1");
  ns.ip("link", "del", "ue0");
  const events = await collect(monitor, (seen) => netDevices(seen).length === 4);
  assert.deepEqual(netDevices(events).sort(), [
    "add /devices/virtual/net/ue0",
    "add /devices/virtual/net/ue1",
    "remove /devices/virtual/net/ue0",
    "remove /devices/virtual/net/ue1",
  ]);
  const add = events.find((e) => e.action === "add" && e.devpath.endsWith("/ue0"))!;
  assert.equal(add.source, "kernel");
  assert.equal(add.env.INTERFACE, "ue0");
  assert.equal(add.env.ACTION, "add");
  assert.equal(add.env.DEVPATH, "/devices/virtual/net/ue0");
  assert.match(add.env.IFINDEX, /^\d+$/);
  const remove = events.find((e) => e.action === "remove" && e.devpath.endsWith("/ue0"))!;
  assert.equal(remove.env.IFINDEX, add.env.IFINDEX);
  assert.equal(typeof add.seqnum, "bigint");
  const seqnums = events.map((e) => e.seqnum!);
  assert.deepEqual([...seqnums].sort((a, b) => (a < b ? -1 : 1)), seqnums, "in kernel order");
  assert.equal(monitor.rejected, 0);
});

test("a network device's uevents reach only its own namespace", async () => {
  using a = new Netns();
  using b = new Netns();
  await using inA = await openUevents({ netns: a.name });
  await using inB = await openUevents({ netns: b.name });
  a.ip("link", "add", "ua0", "type", "veth", "peer", "name", "ua1");
  await collect(inA, (seen) => netDevices(seen).length === 2);
  // Had A's events reached B, they would be queued ahead of B's own.
  b.ip("link", "add", "ub0", "type", "veth", "peer", "name", "ub1");
  const inBEvents = await collect(inB, (seen) => netDevices(seen).length === 2);
  assert.deepEqual(netDevices(inBEvents).sort(), [
    "add /devices/virtual/net/ub0",
    "add /devices/virtual/net/ub1",
  ]);
  assert.ok(inBEvents.every((e) => !e.devpath.includes("/ua")), "nothing of A's");
});

test("events the kernel dropped (a full receive buffer) show as an overrun; the stream goes on", async () => {
  using ns = new Netns();
  // The smallest buffer the kernel allows holds a few uevents; nothing reads while 20 veth
  // pairs (some 200 uevents) appear.
  await using monitor = await openUevents({ netns: ns.name, receiveBufferSize: 1 });
  const pairs = Array.from({ length: 20 }, (_, i) => `link add uo${i} type veth peer name up${i}`);
  ns.ipBatch(pairs);
  let overruns = 0;
  let after = false;
  const timers: ReturnType<typeof setTimeout>[] = [];
  try {
    for await (const event of monitor.events({ signal: AbortSignal.timeout(10_000) })) {
      if (event.type === "overrun") {
        overruns++;
        // Read on: once the backlog is drained, a new device's events still arrive. (The small
        // buffer may overflow again on the new pair's own burst: then another pair is added.)
        if (overruns <= 5) {
          const pair = [
            "link",
            "add",
            `uz${overruns}`,
            "type",
            "veth",
            "peer",
            "name",
            `uy${overruns}`,
          ];
          timers.push(setTimeout(() => ns.ip(...pair), 100));
        }
      } else if (/^\/devices\/virtual\/net\/u[zy]\d/.test(event.devpath)) {
        after = true;
        break;
      }
    }
  } finally {
    timers.forEach(clearTimeout);
  }
  assert.ok(overruns >= 1, "an overrun was reported");
  assert.equal(monitor.overruns, overruns);
  assert.ok(after, "events after the overrun arrive");
});

test("another process multicasting a fake kernel uevent is rejected, not an event", async () => {
  using ns = new Netns();
  await using monitor = await openUevents({ netns: ns.name });
  // Root may send to group 1 on this protocol; the kernel stamps the sender's port on it.
  await using spoofer = await open(NETLINK_KOBJECT_UEVENT, { unframed: true, netns: ns.name });
  const fake = "add@/devices/virtual/net/fake0\0ACTION=add\0SUBSYSTEM=net\0SEQNUM=1\0";
  spoofer.send(new TextEncoder().encode(fake), { group: 1 });
  ns.ip("link", "add", "ue2", "type", "veth", "peer", "name", "ue3");
  const events = await collect(monitor, (seen) => netDevices(seen).length === 2);
  assert.ok(!events.some((e) => e.devpath.includes("fake0")), "the spoofed event never arrives");
  assert.equal(monitor.rejected, 1);
});

test("udev source: a message with a libudev header from a process parses with its header", async () => {
  using ns = new Netns();
  await using monitor = await openUevents({ source: "udev", netns: ns.name });
  // Plays udevd: what device_monitor_send_device() multicasts to group 2.
  await using udevd = await open(NETLINK_KOBJECT_UEVENT, { unframed: true, netns: ns.name });
  const properties = "ACTION=add\0DEVPATH=/devices/virtual/net/ue4\0SUBSYSTEM=net\0"
    + "INTERFACE=ue4\0SEQNUM=7\0ID_NET_NAME=ue4\0";
  const message = udevMessage(properties, { subsystemHash: 0xdeadbeef });
  udevd.send(message, { group: 2 });
  const [event] = await collect(monitor, () => true);
  assert.equal(event.source, "udev");
  assert.equal(event.action, "add");
  assert.equal(event.devpath, "/devices/virtual/net/ue4");
  assert.equal(event.seqnum, 7n);
  assert.equal(event.env.ID_NET_NAME, "ue4");
  assert.equal(event.udev?.subsystemHash, 0xdeadbeef);
  assert.equal(event.udev?.propertiesLength, properties.length);
  assert.equal(monitor.rejected, 0);
});

test("closing the monitor releases its descriptor and ends iterations", async () => {
  using ns = new Netns();
  // The runtime's shared poller (an eventfd; on Bun a worker with its epoll) starts at the
  // process's first wait and stays: a wait that is answered makes sure it runs before counting.
  {
    await using warm = await openUevents({ netns: ns.name });
    const answered = warm.events().next();
    await new Promise((r) => setTimeout(r, 50));
    ns.ip("link", "add", "uw0", "type", "veth", "peer", "name", "uw1");
    assert.equal((await answered).done, false);
  }
  const before = openDescriptors();
  const monitor = await openUevents({ netns: ns.name });
  const waiting = monitor.events().next();
  await new Promise((r) => setTimeout(r, 10)); // mid-wait
  monitor.close();
  assert.equal((await waiting).done, true);
  assert.deepEqual(await settledNewDescriptors(before), []);
});
