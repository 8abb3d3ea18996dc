// What a consumer lets go of without return() releases once garbage-collected, on the real kernel
// (in a namespace of its own): the groups a monitor joined, its abort listener on a long-lived
// signal, and the client a route monitor marked as monitoring. Collection is forced in a child
// process (./_soak.ts): Bun.gc(true), or Deno's gc() under --expose-gc.

import assert from "node:assert/strict";
import { test } from "node:test";
import { PROC_CN_MCAST_IGNORE, PROC_CN_MCAST_LISTEN } from "../../src/constants.ts";
import { COUNTING_SIGNAL, runSoak } from "./_soak.ts";

const module = (path: string) => JSON.stringify(new URL(`../../src/${path}`, import.meta.url).href);

/**
 * Soak-script code: collects, and lets finalizers (which run as tasks) run; with `done`, until it
 * says so (up to `most`, 30, times: Bun's conservative stack scan can keep a dropped object one
 * more collection, more often on a loaded machine).
 */
const COLLECT = `
const collect = async (done, most = 30) => {
  for (let i = 0; i < (done ? most : 3) && !done?.(); i++) {
    heapAfterGc();
    await sleep(10);
  }
};
`;

/**
 * Soak-script code: `fds()`, this process's netlink descriptors (the runtime opens sockets of
 * its own meanwhile), and `fdsOf(path)`, its descriptors open on a file.
 */
const FDS = `
const { readdirSync, readFileSync, readlinkSync } = await import("node:fs");
const fdTargets = () => readdirSync("/proc/self/fd").map((fd) => {
  try {
    return readlinkSync("/proc/self/fd/" + fd);
  } catch {
    return ""; // the directory's own descriptor, closed by now
  }
});
const fds = () => {
  const inodes = new Set(readFileSync("/proc/self/net/netlink", "utf8").trim().split("\\n").slice(1)
    .map((row) => row.trim().split(/\\s+/).at(-1)));
  return fdTargets().filter((target) => inodes.has(/^socket:\\[(\\d+)\\]$/.exec(target)?.[1])).length;
};
const fdsOf = (path) => fdTargets().filter((target) => target === path).length;
`;

test("a typed monitor() left without return() leaves its groups and its abort listener once collected", () => {
  // Each kept its groups joined and its listener on the signal for good: 50 dropped monitors
  // left 50 listeners, and the link group joined.
  const r = runSoak<{
    never: { groups: number[]; listeners: number };
    stepped: { groups: number[]; listeners: number };
    pending: { before: number[]; after: number[]; op: string };
    generic: { joined: number; after: number[] };
    listeners: number;
  }>(`${COUNTING_SIGNAL}${COLLECT}
    const { family } = await import(${module("ynl/family.ts")});
    const { rtLink } = await import(${module("ynl/rt_link.ts")});
    using ns = netns();
    const ipn = (...args) => execFileSync("ip", ["-n", ns.name, ...args]);
    const rt = await family(rtLink, { netns: ns.name });
    const { signal, listeners } = countingSignal();
    const watch = () => rt.monitor({ groups: ["rtnlgrp-link"], signal });
    // Never iterated.
    for (let i = 0; i < 50; i++) watch();
    const released = () => rt.socket.groups.length === 0 && listeners() === 0;
    await collect(released);
    const never = { groups: rt.socket.groups, listeners: listeners() };
    // One step taken, then dropped.
    const stepOnce = async (mtu) => {
      const events = watch();
      ipn("link", "set", "lo", "mtu", String(mtu));
      await events.next();
    };
    for (let i = 0; i < 5; i++) await stepOnce(1000 + i);
    await collect(released);
    const stepped = { groups: rt.socket.groups, listeners: listeners() };
    // Dropped with a step pending: that step is its last, and ends it when it comes.
    let step = watch().next();
    await collect();
    const before = rt.socket.groups;
    ipn("link", "set", "lo", "mtu", "1500");
    const { value } = await step;
    step = undefined;
    await sleep(10);
    const pending = { before, after: rt.socket.groups, op: value.op };
    await rt.close();
    // A generic family's monitor also holds nlctrl's group, and its watch for the family's reloads.
    const { ethtool } = await import(${module("ynl/ethtool.ts")});
    const eth = await family(ethtool, { netns: ns.name });
    eth.monitor({ signal });
    const generic = { joined: eth.socket.groups.length };
    await collect(() => eth.socket.groups.length === 0);
    generic.after = eth.socket.groups;
    await eth.close();
    console.log(JSON.stringify({ never, stepped, pending, generic, listeners: listeners() }));
  `);
  assert.deepEqual(r.never, { groups: [], listeners: 0 });
  assert.deepEqual(r.stepped, { groups: [], listeners: 0 });
  assert.deepEqual(r.pending, { before: [1], after: [], op: "newlink-ntf" });
  assert.deepEqual(r.generic, { joined: 2, after: [] }); // ethtool's "monitor" and nlctrl's
  assert.equal(r.listeners, 0);
});

test("a route monitor() left without return() frees its client once collected: a second monitor() works", () => {
  // The client stayed marked as monitoring for good: every later monitor() on it threw.
  const r = runSoak<{ never: string; stepped: string; groups: number[]; listeners: number }>(
    `${COUNTING_SIGNAL}${COLLECT}
    const { openRoute } = await import(${module("route/mod.ts")});
    using ns = netns();
    const ip = await openRoute({ netns: ns.name });
    const { signal, listeners } = countingSignal();
    const again = async () => {
      await collect(() => ip.socket.groups.length === 0);
      try {
        await ip.monitor(["link"], { signal }).return();
        return "ok";
      } catch (err) {
        return String(err);
      }
    };
    ip.monitor(["link", "route"], { signal }); // never iterated
    const never = await again();
    let events = ip.monitor(["link"], { signal });
    execFileSync("ip", ["-n", ns.name, "link", "set", "lo", "mtu", "1000"]);
    await events.next();
    events = undefined;
    const stepped = await again();
    const groups = ip.socket.groups;
    ip.close();
    console.log(JSON.stringify({ never, stepped, groups, listeners: listeners() }));
  `,
  );
  assert.deepEqual(r, { never: "ok", stepped: "ok", groups: [], listeners: 0 });
});

test("a route monitor() dropped with a step pending: that step gets the next event, then the groups are left", () => {
  // The collection stopped the pending step: it resolved { done: true } at once, with no event
  // (on Bun as soon as the script's own variable was dead, a few milliseconds in).
  const r = runSoak<{ before: number[]; after: number[]; step: unknown }>(
    `${COLLECT}
    const { openRoute } = await import(${module("route/mod.ts")});
    using ns = netns();
    const ip = await openRoute({ netns: ns.name });
    let step = ip.monitor(["link"])[Symbol.asyncIterator]().next();
    await collect();
    const before = ip.socket.groups;
    execFileSync("ip", ["-n", ns.name, "link", "set", "lo", "mtu", "1400"]);
    const { value, done } = await step;
    step = undefined;
    await collect(() => ip.socket.groups.length === 0);
    const after = ip.socket.groups;
    await ip.close();
    console.log(JSON.stringify({ before, after, step: done ? "done" : [value.object, value.value.mtu] }));
  `,
  );
  assert.deepEqual(r, { before: [1], after: [], step: ["link", 1400] });
});

test("a dump iterator left without return() mid-dump abandons the dump once collected", () => {
  // The kernel went on holding the dump (and a reference on the module serving it) until the
  // socket's next request, and the abort listener stayed on the signal.
  const r = runSoak<{ running: number[]; listeners: number; again: number }>(
    `${COUNTING_SIGNAL}${COLLECT}
    using ns = netns();
    const routes = Array.from({ length: 3000 }, (_, i) => \`route add 10.0.\${i >> 8}.\${i & 255}/32 dev lo\`);
    execFileSync("ip", ["-n", ns.name, "-batch", "-"], { input: ["link set lo up", ...routes].join("\\n") });
    const sock = await nl.open(nl.NETLINK_ROUTE, { netns: ns.name });
    const { signal, listeners } = countingSignal();
    const rtmsg = Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0); // AF_INET
    const request = { type: nl.RTM_GETROUTE, payload: rtmsg };
    /** The socket's Dump column in the namespace's /proc/net/netlink: 1 while a dump runs. */
    const running = () => {
      const table = execFileSync("ip", ["netns", "exec", ns.name, "cat", "/proc/net/netlink"]);
      const row = String(table).split("\\n").map((l) => l.trim().split(/\\s+/))
        .find((f) => f[1] === "0" && f[2] === String(sock.portid));
      return Number(row[6]);
    };
    const firstPart = async () => {
      const parts = sock.dump(request, { signal })[Symbol.asyncIterator]();
      await parts.next();
    };
    await firstPart();
    const before = running();
    await collect();
    for (let i = 0; i < 100 && running() !== 0; i++) await sleep(10);
    const after = running();
    let again = 0;
    for await (const _ of sock.dump(request)) again++;
    sock.close();
    console.log(JSON.stringify({ running: [before, after], listeners: listeners(), again }));
  `,
  );
  assert.deepEqual(r.running, [1, 0]);
  assert.equal(r.listeners, 0);
  assert.ok(r.again >= 3000, `the next dump got ${r.again} routes`);
});

test("a socket or a ProcEventMonitor dropped without close() closes its descriptor once collected; one whose fd was read keeps it", () => {
  // Each kept its descriptor for good: 20 dropped sockets left 20 open descriptors.
  const r = runSoak<{
    opened: number;
    sockets: number;
    monitor: number;
    handedOut: string;
    used: number;
  }>(
    `${COLLECT}
${FDS}
    const { openProcEvents } = await import(${module("connector.ts")});
    const before = fds();
    // Made and dropped in functions of their own: a frame that ended holds nothing.
    // Dropped at once, and dropped after use (a request, a dropped iteration, groups joined).
    const drop = async () => {
      for (let i = 0; i < 10; i++) await nl.open(nl.NETLINK_ROUTE);
      for (let i = 0; i < 10; i++) {
        const sock = await nl.open(nl.NETLINK_ROUTE, { groups: [nl.RTNLGRP_LINK] });
        await sock.request({ type: nl.RTM_GETLINK, flags: nl.NLM_F_DUMP, payload: new Uint8Array(16) });
        sock.messages();
      }
      return fds() - before;
    };
    const opened = await drop();
    await collect(() => fds() === before);
    const sockets = fds() - before;
    await (async () => void await openProcEvents())();
    await collect(() => fds() === before);
    const monitor = fds() - before;
    // Handed out: the number may be used past the socket.
    const fd = await (async () => (await nl.open(nl.NETLINK_ROUTE)).fd)();
    await collect();
    const handedOut = readlinkSync("/proc/self/fd/" + fd);
    // In use: a socket a kept client holds stays open.
    const kept = await nl.open(nl.NETLINK_ROUTE);
    const holder = { kept };
    await collect();
    const used = (await holder.kept.request({ type: nl.RTM_GETLINK, flags: nl.NLM_F_DUMP, payload: new Uint8Array(16) })).length;
    holder.kept.close();
    console.log(JSON.stringify({ opened, sockets, monitor, handedOut, used }));
  `,
  );
  assert.equal(r.opened, 20);
  assert.equal(r.sockets, 0, "every dropped socket's descriptor closed");
  assert.equal(r.monitor, 0, "the dropped monitor's descriptor closed");
  assert.match(r.handedOut, /^socket:\[\d+\]$/, "a descriptor handed out stays open");
  assert.ok(r.used >= 1);
});

test("a ProcEventMonitor dropped without close() sends PROC_CN_MCAST_IGNORE before closing its socket, once collected", () => {
  // Closing the socket alone ends the subscription too, but the kernel goes on producing events
  // for the group until told: the unsubscribe is what the monitor's release adds. On the fake
  // kernel, which records what the socket sends (the real one shows no subscription count).
  const r = runSoak<{ ops: number[]; closed: boolean; kept: number[] }>(
    `${COLLECT}
    const { decodeConnectorMessage, encodeConnectorMessage, openProcEvents } = await import(${
      module("connector.ts")
    });
    const { FakeKernel } = await import(${module("testing/mod.ts")});
    /** A proc connector that acks LISTEN as the kernel does; records each op (LISTEN 1, IGNORE 2). */
    const connector = () => {
      const kernel = new FakeKernel().serve(nl.NETLINK_CONNECTOR, nl.NLMSG_DONE, () => ({ silent: true }));
      const seen = { ops: [], t: undefined };
      const transport = (protocol, options) => {
        const t = seen.t = kernel.open(protocol, options);
        t.script = (message) => {
          const cn = decodeConnectorMessage(message.payload);
          const op = new DataView(cn.data.buffer, cn.data.byteOffset).getUint32(0, true);
          seen.ops.push(op);
          if (op !== nl.PROC_CN_MCAST_LISTEN) return;
          // PROC_EVENT_NONE, errno 0: the ack, multicast with the request's ack number plus one.
          const payload = encodeConnectorMessage({
            idx: nl.CN_IDX_PROC, val: nl.CN_VAL_PROC, seq: 0, ack: (cn.ack + 1) >>> 0, data: new Uint8Array(40),
          });
          kernel.multicast(nl.NETLINK_CONNECTOR, nl.CN_IDX_PROC, [{ type: nl.NLMSG_DONE, flags: 0, seq: 0, portid: 0, payload }]);
        };
        return t;
      };
      return { seen, transport };
    };
    const dropped = connector();
    // Made and dropped in a function of its own: a frame that ended holds nothing.
    await (async () => void await openProcEvents({ transport: dropped.transport }))();
    // Bun let this monitor go only after 14 to 32 collections here (10 to 50 ms apart).
    await collect(() => dropped.seen.t.closed, 200);
    // One still held is not released.
    const held = connector();
    const monitor = await openProcEvents({ transport: held.transport });
    await collect();
    const kept = [...held.seen.ops];
    monitor.close();
    console.log(JSON.stringify({ ops: dropped.seen.ops, closed: dropped.seen.t.closed, kept }));
  `,
  );
  assert.deepEqual(r, {
    ops: [PROC_CN_MCAST_LISTEN, PROC_CN_MCAST_IGNORE],
    closed: true,
    kept: [PROC_CN_MCAST_LISTEN],
  });
});

test("a socket whose capture or tap references it is closed once collected, and its capture's file with it", () => {
  // The socket's release at collection held its transport, and through it every tap and
  // capture: one whose callback reached the socket kept the socket from collection for good
  // (its descriptor stayed open).
  const r = runSoak<{ referenced: number; file: number; held: number; stopped: boolean }>(
    `${COLLECT}${FDS}
    const { mkdtempSync, rmSync } = await import("node:fs");
    const dir = mkdtempSync("/tmp/nlcap-");
    const dump = (sock) => sock.request({ type: nl.RTM_GETLINK, flags: nl.NLM_F_DUMP, payload: new Uint8Array(16) });
    const before = fds();
    // Made and dropped in a function of its own: a frame that ended holds nothing.
    await (async () => {
      for (let i = 0; i < 5; i++) {
        // Called with the file header before open() returns: \`sock\` is not set yet then.
        let sock;
        sock = await nl.open(nl.NETLINK_ROUTE, { capture: () => void sock?.portid });
        await dump(sock);
      }
      for (let i = 0; i < 5; i++) {
        const sock = await nl.open(nl.NETLINK_ROUTE);
        nl.tap(sock, { received: () => void sock.portid });
        await dump(sock);
      }
    })();
    await collect(() => fds() === before);
    const referenced = fds() - before;
    // A file capture whose socket and capture were both dropped.
    const file = dir + "/dropped.pcap";
    await (async () => void await dump(await nl.open(nl.NETLINK_ROUTE, { capture: file })))();
    await collect(() => fdsOf(file) === 0);
    const dropped = fdsOf(file);
    // The capture kept, its socket dropped.
    const keptFile = dir + "/kept.pcap";
    const pcap = await (async () => {
      const sock = await nl.open(nl.NETLINK_ROUTE);
      const pcap = nl.capture(sock, keptFile);
      await dump(sock);
      return pcap;
    })();
    await collect(() => fdsOf(keptFile) === 0);
    const held = fdsOf(keptFile);
    const stopped = await pcap.stop().then(() => true);
    rmSync(dir, { recursive: true, force: true });
    console.log(JSON.stringify({ referenced, file: dropped, held, stopped }));
  `,
  );
  assert.deepEqual(r, { referenced: 0, file: 0, held: 0, stopped: true });
});
