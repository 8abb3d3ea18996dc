// The socket core against the real kernel, each test in a fresh network namespace: what the
// kernel's own rules (uevents, one dump per socket, acks inside sendmsg...) make of it.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { SO_SNDBUF, SO_SNDBUFFORCE, SOL_SOCKET } from "../../ffi/_constants.ts";
import {
  AF_INET,
  NETLINK_KOBJECT_UEVENT,
  NETLINK_PKTINFO,
  NETLINK_ROUTE,
  NETLINK_USERSOCK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_ECHO,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  RTM_GETLINK,
  RTM_GETROUTE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_LINK,
  SOL_NETLINK,
} from "../../src/constants.ts";
import type { MessageCursor } from "../../src/cursor.ts";
import { NetlinkError, SyscallError } from "../../src/errors.ts";
import { decodeDatagram } from "../../src/message.ts";
import { open } from "../../src/open.ts";
import type { NetlinkSocket } from "../../src/socket.ts";
import { tap } from "../../src/tap.ts";
import { ackMessage } from "../../src/testing/mod.ts";
import { kernelDumping, Netns, routesNetns } from "./_netns.ts";
import { ifinfomsg, loAddress } from "./_rtnl.ts";

const ROUTES = 20_000;

const rtmsg = new Uint8Array(12);
rtmsg[0] = AF_INET;
const routeDump = { type: RTM_GETROUTE, flags: NLM_F_DUMP, payload: rtmsg };

test("unframed NETLINK_KOBJECT_UEVENT: a veth's creation arrives as whole uevent datagrams", async () => {
  using ns = new Netns();
  await using sock = await open(NETLINK_KOBJECT_UEVENT, {
    netns: ns.name,
    unframed: true,
    groups: [1],
  });
  const it = sock.datagrams({ signal: AbortSignal.timeout(5000) });
  const first = it.next();
  ns.ip("link", "add", "va0", "type", "veth", "peer", "name", "vb0");
  // Each net device's add event, among the others (its queues...) the veth causes.
  const interfaces: string[] = [];
  for (let step = await first; !step.done; step = await it.next()) {
    const { data, sender, group } = step.value;
    assert.equal(sender, 0, "uevents come from the kernel");
    assert.equal(group, 1);
    const fields = new TextDecoder().decode(data).split("\0");
    assert.match(fields[0], /^[a-z]+@\//, "the header line: ACTION@DEVPATH");
    if (fields.includes("ACTION=add") && fields.includes("SUBSYSTEM=net")) {
      interfaces.push(fields.find((x) => x.startsWith("INTERFACE="))!);
    }
    if (interfaces.length === 2) break;
  }
  assert.deepEqual(interfaces.sort(), ["INTERFACE=va0", "INTERFACE=vb0"]);
});

test("datagrams() on NETLINK_ROUTE: a link event arrives as one whole datagram", async () => {
  using ns = new Netns();
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name, groups: [RTNLGRP_LINK] });
  const it = sock.datagrams({ signal: AbortSignal.timeout(5000) });
  const first = it.next();
  ns.ip("link", "set", "lo", "mtu", "1500");
  const datagram = (await first).value!;
  assert.equal(datagram.group, RTNLGRP_LINK);
  const messages = decodeDatagram(datagram);
  assert.ok(messages.length >= 1);
  assert.ok(messages.every((m) => m.type === RTM_NEWLINK && m.group === RTNLGRP_LINK));
  await it.return!();
});

test("defect 1: 2 and 10 concurrent dumps of 20,000 routes on one socket all succeed", async () => {
  using ns = routesNetns(ROUTES);
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name });
  for (const n of [2, 10]) {
    const results = await Promise.allSettled(
      Array.from({ length: n }, () => sock.request(routeDump, { timeout: 30_000 })),
    );
    const lengths = results.map((r) =>
      r.status === "fulfilled" ? r.value.length : String(r.reason)
    );
    assert.ok(lengths.every((l) => l === lengths[0]), `${n} dumps: ${lengths}`);
    assert.ok((lengths[0] as number) >= ROUTES, `${n} dumps: ${lengths}`);
  }
});

test("defect 2: a dump left early is read to its end: the next dump succeeds at once", async () => {
  using ns = routesNetns(ROUTES);
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name });
  for (let i = 0; i < 3; i++) {
    for await (const _ of sock.dump(routeDump)) break;
    const ctl = new AbortController();
    await assert.rejects(async () => {
      for await (const _ of sock.dump(routeDump, { signal: ctl.signal })) ctl.abort();
    });
    const all = await sock.request(routeDump, { timeout: 30_000 });
    assert.ok(all.length >= ROUTES, `attempt ${i}: ${all.length}`);
  }
  assert.equal(kernelDumping(ns, sock), false);
});

test("dump().forEach() on 20,000 routes: the parts for await yields; a throw mid-dump, then the next dump succeeds", async () => {
  using ns = routesNetns(ROUTES);
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name });
  const iterated: number[] = [];
  for await (const m of sock.dump(routeDump)) iterated.push(m.seq === 0 ? -1 : m.payload.length);
  const called: number[] = [];
  await sock.dump(routeDump).forEach((m) => void called.push(m.seq === 0 ? -1 : m.payload.length));
  assert.ok(called.length >= ROUTES, `${called.length}`);
  assert.deepEqual(called, iterated, "the same parts, in the same order");
  let n = 0;
  await assert.rejects(
    sock.dump(routeDump).forEach(() => {
      if (++n === 5000) throw new Error("enough");
    }),
    /enough/,
  );
  const all = await sock.request(routeDump, { timeout: 30_000 });
  assert.ok(all.length >= ROUTES, `${all.length}`);
  assert.equal(kernelDumping(ns, sock), false);
});

test("a small dump (its parts and NLMSG_DONE in one datagram): an abort or a close from forEach's handler stops it there, as forEach promises", async () => {
  using ns = new Netns([
    "link add va type veth peer name vb",
    "link add vc type veth peer name vd",
  ]);
  for (const stop of ["abort", "close"] as const) {
    await using sock = await open(NETLINK_ROUTE, { netns: ns.name });
    const ac = new AbortController();
    let calls = 0;
    const running = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }, {
      signal: ac.signal,
    }).forEach(() => {
      calls++;
      if (stop === "abort") ac.abort(new Error("stop here"));
      else sock.close();
    });
    await assert.rejects(running, stop === "abort" ? /stop here/ : /closed/);
    assert.equal(calls, 1, stop);
  }
});

test("dump().cursor() on 20,000 routes: the parts for await yields, a datagram a step; break mid-dump, then the next dump succeeds", async () => {
  using ns = routesNetns(ROUTES);
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name });
  const iterated: string[] = [];
  for await (const m of sock.dump(routeDump)) {
    iterated.push(`${m.type} ${m.flags} ${m.seq} ${m.portid} ${m.payload.join(",")}`);
  }
  const walked: string[] = [];
  let steps = 0;
  const cursor = sock.dump(routeDump).cursor();
  for await (const c of cursor) {
    steps++;
    while (c.next()) {
      walked.push(`${c.type} ${c.flags} ${c.seq} ${c.portid} ${c.payload().join(",")}`);
    }
  }
  assert.ok(walked.length >= ROUTES, `${walked.length}`);
  assert.deepEqual(
    walked.map((w) => w.replace(/^(\d+ \d+) \d+/, "$1")),
    iterated.map((w) => w.replace(/^(\d+ \d+) \d+/, "$1")),
    "the same parts (but their seq), in the same order",
  );
  // A datagram the kernel fills holds some hundred routes of ~60 bytes: steps are datagrams.
  assert.ok(steps > 1 && steps < walked.length / 50, `${steps} steps for ${walked.length} parts`);
  let seen = 0;
  for await (const c of sock.dump(routeDump).cursor()) {
    while (c.next()) seen++;
    if (seen > 5000) break;
  }
  const all = await sock.request(routeDump, { timeout: 30_000 });
  assert.ok(all.length >= ROUTES, `${all.length}`);
  assert.equal(kernelDumping(ns, sock), false);
});

test("a dump's timeout bounds the whole dump while the kernel keeps answering: 20,000 routes with a 1 ms timeout reject with a TimeoutError in each way of reading them; the next dump succeeds", async () => {
  // The kernel refills the queue as each datagram is read, so reading never waits and the
  // timer never ran: each of these resolved with every route, 144 ms later.
  using ns = routesNetns(ROUTES);
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name });
  const timedOut = (err: unknown) => err instanceof DOMException && err.name === "TimeoutError";
  const ways: Record<string, () => Promise<unknown>> = {
    "for await": async () => {
      for await (const _ of sock.dump(routeDump, { timeout: 1 }));
    },
    "forEach()": () => sock.dump(routeDump, { timeout: 1 }).forEach(() => {}),
    "cursor()": async () => {
      for await (const c of sock.dump(routeDump, { timeout: 1 }).cursor()) while (c.next());
    },
    "request()": () => sock.request(routeDump, { timeout: 1 }),
  };
  for (const [way, read] of Object.entries(ways)) await assert.rejects(read(), timedOut, way);
  const all = await sock.request(routeDump, { timeout: 30_000 });
  assert.ok(all.length >= ROUTES, `${all.length}`);
  assert.equal(kernelDumping(ns, sock), false);
});

test("dump().cursor() leaves a tap's datagrams intact: memory it walked is reused only while no tap was attached", async () => {
  using ns = routesNetns(ROUTES);
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name });
  const kept: { data: Uint8Array; copy: Uint8Array }[] = [];
  const detach = tap(sock, { received: (d) => kept.push({ data: d.data, copy: d.data.slice() }) });
  let parts = 0;
  for await (const c of sock.dump(routeDump).cursor()) while (c.next()) parts++;
  detach();
  for await (const c of sock.dump(routeDump).cursor()) while (c.next()) parts++;
  assert.ok(kept.length > 10 && parts >= 2 * ROUTES, `${kept.length} datagrams, ${parts} parts`);
  for (const [i, { data, copy }] of kept.entries()) {
    assert.deepEqual(data, copy, `datagram ${i} the tap was shown was overwritten`);
  }
});

test("defect 3: a lagging dump() is not read ahead while a for-await waits on the socket", async () => {
  using ns = routesNetns(ROUTES);
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name, groups: [RTNLGRP_LINK] });
  const events = sock.messages();
  const parked = events.next();
  const it = sock.dump(routeDump)[Symbol.asyncIterator]();
  await it.next(); // the consumer then stalls
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(kernelDumping(ns, sock), "the kernel's dump waits: it was not read to its end");
  let n = 1;
  for (let r = await it.next(); !r.done; r = await it.next()) n++;
  assert.ok(n >= ROUTES);
  assert.equal(kernelDumping(ns, sock), false);
  await events.return!();
  await parked;
});

test("defect 4: a loop of await request() lets a timer and another socket run", async () => {
  using ns = new Netns();
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name });
  await using other = await open(NETLINK_ROUTE, { netns: ns.name, groups: [RTNLGRP_LINK] });
  let fired = false;
  setTimeout(() => fired = true, 100);
  let event = false;
  void other.messages().next().then(() => event = true);
  ns.ip("link", "set", "lo", "mtu", "1500"); // an event for `other`, queued in its socket
  const getLo = { type: RTM_GETLINK, payload: ifinfomsg({ index: 1 }) };
  let requests = 0;
  const start = performance.now();
  while (!(fired && event) && performance.now() - start < 5000) {
    await sock.request(getLo);
    requests++;
  }
  assert.ok(fired, `a 100 ms timer did not fire during ${requests} requests`);
  assert.ok(event, `the other socket's event was not read during ${requests} requests`);
});

test("defect 5: an iteration stepped once and dropped does not keep the process alive", async () => {
  using ns = new Netns();
  const dir = mkdtempSync(join(tmpdir(), "nl-core-"));
  try {
    const script = join(dir, "dropped.ts");
    const openUrl = new URL("../../src/open.ts", import.meta.url).href;
    writeFileSync(
      script,
      `import { open } from ${JSON.stringify(openUrl)};
import { execFileSync } from "node:child_process";
const sock = await open(0, { netns: ${JSON.stringify(ns.name)}, groups: [1] });
const it = sock.messages();
const step = it.next();
execFileSync("ip", ["-n", ${JSON.stringify(ns.name)}, "link", "set", "lo", "mtu", "1400"]);
await step;
console.log("stepped");
// Neither return() nor close(): the process must still exit.
`,
    );
    const isBun = "Bun" in globalThis;
    const args = isBun ? [script] : ["run", "-A", script];
    const started = performance.now();
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => out += d);
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve(null);
      }, 20_000);
      child.on("exit", (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    assert.equal(out.trim(), "stepped");
    assert.equal(
      code,
      0,
      `the process did not exit (${Math.round(performance.now() - started)} ms)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("defect 6: ENOBUFS does not fail a request to a user-space peer whose answer is not due yet", async () => {
  using ns = new Netns();
  await using sock = await open(NETLINK_ROUTE, {
    netns: ns.name,
    groups: [RTNLGRP_LINK],
    receiveBufferSize: 4096,
  });
  await using peer = await open(NETLINK_ROUTE, { netns: ns.name });
  const asked = peer.messages();
  const pending = sock.request({ type: 0x7f0, payload: new Uint8Array(4) }, {
    to: peer.portid,
    timeout: 10_000,
  });
  const request = (await asked.next()).value!;
  // A burst of link events overflows the small receive buffer: the kernel reports ENOBUFS.
  ns.ipBatch(Array.from({ length: 40 }, (_, i) => `link add va${i} type veth peer name vb${i}`));
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(sock.overruns > 0, "the burst caused an overrun");
  peer.send({ type: 2, seq: request.seq, portid: sock.portid, payload: new Uint8Array(20) }, {
    portid: sock.portid,
  });
  assert.deepEqual(await pending, []);
  await asked.return!();
});

test("defect 7: 300 requests, 100 at a time, with a for-await parked: none fails with ENOBUFS", async () => {
  using ns = new Netns();
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name, groups: [RTNLGRP_LINK] });
  const events = sock.messages();
  const parked = events.next();
  const getLo = { type: RTM_GETLINK, payload: ifinfomsg({ index: 1 }) };
  for (let round = 0; round < 3; round++) {
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, () => sock.request(getLo)),
    );
    const failed = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    assert.equal(failed.length, 0, `round ${round}: ${failed[0]?.reason}`);
  }
  assert.equal(sock.overruns, 0);
  await events.return!();
  await parked;
});

test("defect 10: send({ group }) on NETLINK_USERSOCK reaches the group and does not throw", async () => {
  using ns = new Netns();
  await using listener = await open(NETLINK_USERSOCK, { netns: ns.name, groups: [5] });
  await using sender = await open(NETLINK_USERSOCK, { netns: ns.name });
  const next = listener.messages({ signal: AbortSignal.timeout(5000) }).next();
  sender.send({ type: 0x30, payload: new Uint8Array([42]) }, { group: 5 });
  const msg = (await next).value!;
  assert.deepEqual([msg.group, msg.sender, msg.payload[0]], [5, sender.portid, 42]);
});

test("defect 11: RTM_NEWADDR with NLM_F_ECHO resolves with the kernel's copy of the new address", async () => {
  using ns = new Netns();
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name, groups: [RTNLGRP_IPV4_IFADDR] });
  const replies = await sock.request(
    { type: RTM_NEWADDR, flags: NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO, payload: loAddress(7) },
    { timeout: 5000 },
  );
  assert.equal(replies.length, 1);
  assert.equal(replies[0].type, RTM_NEWADDR);
  assert.equal(replies[0].group, RTNLGRP_IPV4_IFADDR, "the kernel tags the echo with the group");
  assert.deepEqual([...replies[0].payload.subarray(0, 2)], [AF_INET, 24]);
  assert.match(ns.ip("-4", "addr", "show", "dev", "lo"), /192\.0\.2\.7\/24/);
});

test("setOption() keeps NETLINK_PKTINFO on: without it multicast reads as unicast, and the notification of our own change answered the request", async () => {
  using ns = new Netns();
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name, groups: [RTNLGRP_IPV4_IFADDR] });
  assert.throws(
    () => sock.setOption(SOL_NETLINK, NETLINK_PKTINFO, 0),
    (e: unknown) =>
      e instanceof RangeError
      && e.message
        === "NETLINK_PKTINFO cannot be turned off: the socket reads each datagram's multicast "
          + "group from it, and without it a multicast message would be taken for a reply",
  );
  sock.setOption(SOL_NETLINK, NETLINK_PKTINFO, 1); // on already: nothing changes
  assert.equal(sock.getOption(SOL_NETLINK, NETLINK_PKTINFO), 1);
  // The kernel multicasts the new address with the request's seq and port: not a reply.
  const replies = await sock.request(
    { type: RTM_NEWADDR, flags: NLM_F_CREATE | NLM_F_EXCL, payload: loAddress(7) },
    { timeout: 5000 },
  );
  assert.deepEqual(replies, []);
  const stream = sock.messages();
  const notification = (await stream.next()).value!;
  assert.deepEqual([notification.type, notification.group], [RTM_NEWADDR, RTNLGRP_IPV4_IFADDR]);
  await stream.return!();
});

test("NLM_F_ECHO: another process's change made with our next sequence number is not taken for our echo", async () => {
  using ns = new Netns();
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name, groups: [RTNLGRP_IPV4_IFADDR] });
  await using other = await open(NETLINK_ROUTE, { netns: ns.name });
  const seen = sock.send({ type: NLMSG_NOOP }); // the kernel ignores it; request() takes seen + 1
  // The kernel multicasts the other's new address with the seq it was asked with, and its port.
  other.send({
    type: RTM_NEWADDR,
    flags: NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL,
    seq: seen + 1,
    payload: loAddress(8),
  });
  const replies = await sock.request(
    { type: RTM_NEWADDR, flags: NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO, payload: loAddress(9) },
    { timeout: 5000 },
  );
  assert.deepEqual(replies.map((m) => [m.seq, m.portid]), [[seen + 1, sock.portid]]);
  // The other's notification is an ordinary multicast message.
  const stream = sock.messages();
  const notification = (await stream.next()).value!;
  assert.deepEqual([notification.type, notification.portid], [RTM_NEWADDR, other.portid]);
  await stream.return!();
});

test("a peer's reply longer than the receive buffer: the request fails EMSGSIZE, the socket goes on", async () => {
  const MAX = 64 << 20;
  await using a = await open(NETLINK_USERSOCK, { receiveBufferSize: 2 * MAX });
  await using b = await open(NETLINK_USERSOCK);
  b.setOption(SOL_SOCKET, SO_SNDBUFFORCE, 2 * MAX);
  const asked = b.messages();
  // The receive buffer is the process's and grows: double the reply until it no longer fits.
  let size = 1 << 20;
  let lost: unknown;
  for (; size <= MAX && lost === undefined; size *= 2) {
    const pending = a.request({ type: 0x10 }, { to: b.portid, timeout: 10_000 });
    const request = (await asked.next()).value!;
    b.send({ type: 0x11, seq: request.seq, payload: new Uint8Array(size) }, { portid: a.portid });
    b.send(ackMessage(request), { portid: a.portid }); // after a lost reply: discarded
    try {
      assert.equal((await pending)[0].payload.length, size);
    } catch (err) {
      lost = err;
    }
  }
  size /= 2;
  assert.ok(lost instanceof SyscallError, String(lost));
  assert.equal(lost.code, "EMSGSIZE");
  assert.match(lost.message, new RegExp(`a ${size + 16}-byte datagram`));
  // The same size now fits; the stream shows the loss as one overrun and goes on.
  b.send({ type: 0x11, payload: new Uint8Array(size).fill(7) }, { portid: a.portid });
  const stream = a.messages();
  assert.equal((await stream.next()).value!.overrun, true);
  const whole = (await stream.next()).value!;
  assert.equal(whole.payload.length, size);
  assert.equal(whole.payload[size - 1], 7);
  assert.equal(a.overruns, 1);
  await stream.return!();
  await asked.return!();
});

test("a peer's datagram longer than the receive buffer fails no request to the kernel or to another peer", async () => {
  const MAX = 64 << 20;
  await using a = await open(NETLINK_ROUTE, { receiveBufferSize: 2 * MAX });
  await using hostile = await open(NETLINK_ROUTE);
  await using peer = await open(NETLINK_ROUTE);
  hostile.setOption(SOL_SOCKET, SO_SNDBUFFORCE, 2 * MAX);
  const asked = peer.messages();
  const toPeer = a.request({ type: 0x10 }, { to: peer.portid, timeout: 10_000 });
  const request = (await asked.next()).value!;
  // The receive buffer is the process's and grows: double the datagram until one no longer fits,
  // each followed by a request to the kernel whose answer is queued right behind it.
  for (let size = 1 << 20; size <= MAX && a.overruns === 0; size *= 2) {
    hostile.send({ type: 0x10, payload: new Uint8Array(size) }, { portid: a.portid });
    const lo = await a.request({ type: RTM_GETLINK, payload: ifinfomsg({ index: 1 }) });
    assert.equal(lo.length, 1);
  }
  assert.equal(a.overruns, 1);
  peer.send(ackMessage(request), { portid: a.portid });
  assert.deepEqual(await toPeer, []);
  await asked.return!();
});

test("send() returns the seq it sent; to a port nothing is bound to, ECONNREFUSED saying so", async () => {
  await using a = await open(NETLINK_USERSOCK);
  await using b = await open(NETLINK_USERSOCK);
  const got = b.messages();
  const seq = a.send({ type: 0x10, seq: 4242 }, { portid: b.portid });
  assert.equal(seq, 4242);
  assert.equal((await got.next()).value!.seq, 4242);
  const fresh = a.send({ type: 0x10 }, { portid: b.portid });
  assert.equal((await got.next()).value!.seq, fresh);
  await got.return!();
  const unbound = b.portid;
  b.close();
  assert.throws(() => a.send({ type: 0x10 }, { portid: unbound }), (err: unknown) => {
    assert.ok(err instanceof SyscallError);
    assert.equal(err.code, "ECONNREFUSED");
    assert.match(err.message, new RegExp(`no socket is bound to port ${unbound}`));
    return true;
  });
  // To the kernel, which never served NETLINK_USERSOCK: not "any more (was the module that
  // provides it unloaded?)" (attack12a).
  assert.throws(
    () => a.send({ type: 0x10 }),
    /^SyscallError: sendmsg: ECONNREFUSED .*: nothing in the kernel serves NETLINK_USERSOCK: send to a peer's port \(\{ portid \}\) or to a group$/,
  );
});

test("join(), leave() and open({ groups }) of a group beyond the protocol's say so, not a bare EINVAL; the socket keeps its groups", async () => {
  // rtnetlink has RTNLGRP_MAX groups (under 64): the kernel's setsockopt refuses any above.
  const beyond = (err: unknown) => {
    assert.ok(err instanceof SyscallError);
    assert.equal(err.code, "EINVAL");
    assert.match(err.message, /: NETLINK_ROUTE has no multicast group 4000/);
    return true;
  };
  await using sock = await open(NETLINK_ROUTE, { groups: [RTNLGRP_LINK] });
  assert.throws(() => sock.join(4000), beyond);
  assert.throws(() => sock.leave(4000), beyond);
  assert.deepEqual(sock.groups, [RTNLGRP_LINK]);
  await assert.rejects(open(NETLINK_ROUTE, { groups: [RTNLGRP_LINK, 4000] }), beyond);
  // A protocol by its constant's name where the library knows it: USERSOCK has 32 groups.
  await using user = await open(NETLINK_USERSOCK);
  assert.throws(() => user.join(33), /: NETLINK_USERSOCK has no multicast group 33 /);
});

test("send(): an empty datagram is refused before the kernel; a full peer's EAGAIN and an over-long datagram's EMSGSIZE say what to do", async () => {
  await using a = await open(NETLINK_USERSOCK);
  await using b = await open(NETLINK_USERSOCK, { receiveBufferSize: 4096 });
  assert.throws(
    () => a.send(new Uint8Array(0), { portid: b.portid }),
    (err: unknown) =>
      err instanceof RangeError && /cannot send an empty datagram/.test(err.message),
  );
  // b never reads: its queue fills, and the kernel refuses the next datagram.
  let full: unknown;
  for (let i = 0; i < 10_000 && full === undefined; i++) {
    try {
      a.send({ type: 0x10, payload: new Uint8Array(200) }, { portid: b.portid });
    } catch (err) {
      full = err;
    }
  }
  assert.ok(full instanceof SyscallError, String(full));
  assert.equal(full.code, "EAGAIN");
  assert.match(full.message, new RegExp(`the receive queue of port ${b.portid} is full`));
  a.setOption(SOL_SOCKET, SO_SNDBUF, 4096);
  const room = a.getOption(SOL_SOCKET, SO_SNDBUF) - 32;
  assert.throws(() => a.send(new Uint8Array(room + 1), { portid: b.portid }), (err: unknown) => {
    assert.ok(err instanceof SyscallError);
    assert.equal(err.code, "EMSGSIZE");
    assert.match(
      err.message,
      new RegExp(`the ${room + 1}-byte datagram is longer than this socket's send buffer`),
    );
    return true;
  });
});

test("attachFilter: at most 4096 instructions, the kernel's BPF_MAXINSNS: 4096 attach, 4097 throw first", async () => {
  await using sock = await open(NETLINK_ROUTE);
  const accept = { code: 0x06, jt: 0, jf: 0, k: 0xffff_ffff }; // ret #-1
  sock.attachFilter(Array.from({ length: 4096 }, () => accept));
  assert.throws(
    () => sock.attachFilter(Array.from({ length: 4097 }, () => accept)),
    (err: unknown) => err instanceof RangeError && /at most 4096 instructions/.test(err.message),
  );
  assert.throws(() => sock.attachFilter(new Uint8Array(4097 * 8)), RangeError);
  // The 4096-instruction program is still attached: the kernel keeps what it accepts.
  assert.ok(
    (await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: ifinfomsg() })).length
      > 0,
  );
  sock.detachFilter();
  assert.throws(
    () => sock.detachFilter(),
    (err: unknown) => (err as SyscallError).code === "ENOENT",
  );
});

/** A NETLINK_USERSOCK message carrying `index` (u32) first. */
const indexed = (index: number) => ({
  type: 0x10,
  payload: new Uint8Array(new Uint32Array([index, 0]).buffer),
});

/**
 * A socket in USERSOCK group 3 with a receive buffer a flood of `indexed()` overflows, and a
 * peer to send them, in a namespace of their own: every process of a namespace shares its
 * USERSOCK groups.
 */
async function floodPair() {
  const ns = new Netns();
  let sock: NetlinkSocket | undefined;
  let peer: NetlinkSocket;
  try {
    sock = await open(NETLINK_USERSOCK, { netns: ns.name, groups: [3], receiveBufferSize: 4096 });
    peer = await open(NETLINK_USERSOCK, { netns: ns.name });
  } catch (err) {
    sock?.close();
    ns[Symbol.dispose]();
    throw err;
  }
  return {
    sock,
    peer,
    async [Symbol.asyncDispose]() {
      await sock!.close();
      await peer.close();
      ns[Symbol.dispose]();
    },
  };
}

test("cursor(): a multicast flood overflowing a small receive buffer is one overrun step, counted; the rest arrive in order", async () => {
  await using pair = await floodPair();
  const { sock, peer } = pair;
  const it = sock.cursor();
  // Nothing reads until a step asks: the kernel queues what fits and drops the rest.
  for (let i = 0; i < 200; i++) peer.send(indexed(i), { group: 3 });
  const seen: (number | "overrun")[] = [];
  let step = it.next();
  for (;;) {
    // Until the queue has been read empty (no step for a while).
    const r = await Promise.race([step, new Promise<null>((r) => setTimeout(r, 300, null))]);
    if (r === null) break;
    const c = r.value!;
    if (c.overrun) seen.push("overrun");
    while (c.next()) seen.push(c.view.getUint32(c.byteOffset + c.payloadOffset, true));
    step = it.next();
  }
  assert.equal(seen[0], "overrun", `the kernel reports the drop first: ${seen.join(" ")}`);
  assert.equal(seen.filter((x) => x === "overrun").length, 1, "one overrun step");
  assert.equal(sock.overruns, 1);
  const indices = seen.slice(1) as number[];
  assert.ok(indices.length > 0 && indices.length < 200, `${indices.length} arrived`);
  assert.deepEqual(indices, [...indices].sort((x, y) => x - y), "in order");
  // The queue was read empty: the kernel delivers again, to the step still waiting.
  peer.send(indexed(1000), { group: 3 });
  const c = (await step).value!;
  assert.ok(c.next());
  assert.equal(c.view.getUint32(c.byteOffset + c.payloadOffset, true), 1000);
  await it.return!();
});

test("cursor(): receive memory a caller transferred away is never written by a later read", async () => {
  await using sock = await open(NETLINK_USERSOCK);
  await using peer = await open(NETLINK_USERSOCK);
  const it = sock.cursor();
  peer.send(indexed(1), { portid: sock.portid });
  const first = (await it.next()).value!;
  // The socket's own receive memory, taken from it: another thread (postMessage) or, as here,
  // this one now owns it, and may have freed it before the next read.
  const memory = first.data.buffer as ArrayBuffer;
  const moved = new Uint8Array(structuredClone(memory, { transfer: [memory] }));
  const snapshot = moved.slice(0, 4096);
  peer.send(indexed(2), { portid: sock.portid });
  const c = (await it.next()).value!;
  assert.ok(c.next());
  assert.equal(c.view.getUint32(c.byteOffset + c.payloadOffset, true), 2);
  assert.deepEqual(moved.subarray(0, 4096), snapshot, "the read wrote into memory given away");
  await it.return!();
});

test("cursor(): datagrams read into memory a caller then transferred away are one overrun step, not a hang", async () => {
  await using sock = await open(NETLINK_USERSOCK);
  await using peer = await open(NETLINK_USERSOCK);
  const it = sock.cursor();
  for (let i = 1; i <= 4; i++) peer.send(indexed(i), { portid: sock.portid });
  const indexOf = (c: MessageCursor) => {
    assert.ok(c.next());
    return c.view.getUint32(c.byteOffset + c.payloadOffset, true);
  };
  assert.equal(indexOf((await it.next()).value!), 1); // a read of one datagram
  const second = (await it.next()).value!; // a read of the three queued: 3 and 4 wait in place
  assert.equal(indexOf(second), 2);
  const memory = second.data.buffer as ArrayBuffer;
  structuredClone(memory, { transfer: [memory] });
  const lost = (await it.next()).value!;
  assert.ok(lost.overrun, "the datagrams that went with the memory are reported lost");
  assert.equal(sock.overruns, 1);
  peer.send(indexed(5), { portid: sock.portid });
  assert.equal(indexOf((await it.next()).value!), 5);
  await it.return!();
});

test("cursor(): the bytes walked stay valid while other sockets read; next() goes on to the next datagram", async () => {
  await using sock = await open(NETLINK_USERSOCK);
  await using peer = await open(NETLINK_USERSOCK);
  await using other = await open(NETLINK_ROUTE);
  peer.send(indexed(1), { portid: sock.portid });
  peer.send(indexed(2), { portid: sock.portid });
  peer.send(indexed(3), { portid: sock.portid });
  const it = sock.cursor();
  const c = (await it.next()).value!;
  assert.ok(c.next());
  const view = c.payload();
  const kept = view.slice();
  // Another socket's reads in between never touch it.
  await other.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: ifinfomsg() });
  assert.equal(view[0], 1);
  assert.ok(c.next(), "on to the next datagram");
  assert.equal(c.offset, 0);
  assert.equal(c.sender, peer.portid);
  assert.equal(c.payload()[0], 2);
  // A view kept from the last datagram is no longer promised anything (the transport may have
  // read over it); a slice() keeps its bytes.
  assert.equal(kept[0], 1);
  // The next step, likewise.
  assert.equal((await it.next()).value, c);
  assert.ok(c.next());
  assert.equal(c.payload()[0], 3);
  assert.equal(c.next(), false);
  await it.return!();
  assert.equal(c.next(), false, "empty once the iteration ended");
});

test("cursor(): a tap attached to the socket sees every datagram the cursor walks", async () => {
  await using sock = await open(NETLINK_USERSOCK);
  await using peer = await open(NETLINK_USERSOCK);
  const tapped: number[] = [];
  const detach = tap(sock, {
    received: (d) =>
      tapped.push(new DataView(d.data.buffer, d.data.byteOffset).getUint32(16, true)),
  });
  for (const i of [1, 2, 3]) peer.send(indexed(i), { portid: sock.portid });
  const walked: number[] = [];
  const it = sock.cursor();
  const c = (await it.next()).value!;
  while (c.next()) walked.push(c.view.getUint32(c.byteOffset + c.payloadOffset, true));
  assert.deepEqual(walked, [1, 2, 3]);
  assert.deepEqual(tapped, [1, 2, 3]);
  detach();
  peer.send(indexed(4), { portid: sock.portid });
  assert.ok((await it.next()).value!.next());
  assert.deepEqual(tapped, [1, 2, 3], "detached");
  await it.return!();
});

test("a flood read through any iteration lets timers run meanwhile (the read loop yields a macrotask per turn)", async () => {
  // 20,000 datagrams queued before reading starts: the queue never runs empty while they are
  // read, so no wait ever blocks. A 1 ms timer must still fire long before the last is read.
  const total = 20000;
  for (const mode of ["messages", "batches", "datagrams", "cursor"] as const) {
    await using sock = await open(NETLINK_USERSOCK, { receiveBufferSize: 64 << 20 });
    await using peer = await open(NETLINK_USERSOCK);
    for (let i = 0; i < total; i++) peer.send(indexed(i), { portid: sock.portid });
    let count = 0;
    let atTimer = -1;
    setTimeout(() => atTimer = count, 1);
    if (mode === "cursor") {
      for await (const c of sock.cursor()) {
        while (c.next()) count++;
        if (count >= total) break;
      }
    } else if (mode === "datagrams") {
      for await (const _ of sock.datagrams()) if (++count >= total) break;
    } else if (mode === "batches") {
      for await (const run of sock.batches()) if ((count += run.length) >= total) break;
    } else {
      for await (const _ of sock) if (++count >= total) break;
    }
    assert.equal(count, total, mode);
    assert.ok(
      atTimer >= 0 && atTimer < total,
      `${mode}: the timer ran after ${atTimer} of ${total}`,
    );
  }
});

test("a request's read of a burst while a stream waits, with another socket waiting: the next datagram still wakes the stream", async () => {
  await using a = await open(NETLINK_USERSOCK);
  await using b = await open(NETLINK_USERSOCK);
  await using c = await open(NETLINK_USERSOCK);
  const signal = AbortSignal.timeout(3000);
  const events = a.messages({ signal });
  const other = c.messages({ signal });
  const parkedOther = other.next();
  parkedOther.catch(() => {});
  let step = events.next();
  await new Promise((r) => setTimeout(r, 20)); // both reads now wait (two armed sockets in this thread)
  // One synchronous task: a burst to a, then a request from a, whose send reads at once.
  for (let i = 0; i < 8; i++) b.send({ type: 0x10 + i }, { portid: a.portid });
  const asked = a.request({ type: 0x20 }, { to: b.portid, timeout: 2000 });
  asked.catch(() => {});
  for (let i = 0; i < 8; i++) {
    assert.equal((await step).value!.type, 0x10 + i);
    step = events.next();
  }
  await new Promise((r) => setTimeout(r, 20));
  b.send({ type: 0x30 }, { portid: a.portid });
  const last = await step.then((r) => r.value!.type, (err) => `failed: ${err}`);
  assert.equal(last, 0x30);
  await other.return!();
});

test("iterations that each break at the first message of a burst leave the rest, in order, to the next: none lost or repeated", async () => {
  // A wake-up's drain hands the step that waited one datagram and reads the rest a microtask
  // later; an iteration that ends in between leaves them to the next one.
  await using sock = await open(NETLINK_USERSOCK);
  await using peer = await open(NETLINK_USERSOCK);
  const index = (payload: Uint8Array) =>
    new DataView(payload.buffer, payload.byteOffset).getUint32(0, true);
  const send = (i: number) =>
    peer.send({ type: 0x10, payload: new Uint8Array(new Uint32Array([i]).buffer) }, {
      portid: sock.portid,
    });
  const got: number[] = [];
  let sent = 0;
  for (let round = 0; round < 20; round++) {
    const signal = AbortSignal.timeout(3000);
    const runs = round % 2 === 1;
    const it = runs ? sock.batches({ signal }) : sock.messages({ signal });
    const step = it.next();
    await new Promise((r) => setTimeout(r, 2)); // the step waits in the kernel's wait
    for (let i = 0; i < 4; i++) send(sent++);
    // Ended right after its step, as a `break` does: before the microtask that reads ahead.
    const value = (await step).value!;
    await it.return!();
    for (const m of Array.isArray(value) ? value : [value]) got.push(index(m.payload));
  }
  for await (const m of sock.messages({ signal: AbortSignal.timeout(3000) })) {
    got.push(index(m.payload));
    if (got.length >= sent) break;
  }
  assert.deepEqual(got, Array.from({ length: sent }, (_, i) => i));
});

test("a datagram sent after a step read the queue empty, before the next step's wait, reaches that step: messages() and cursor(), 20 rounds", async () => {
  // Reading an event's datagrams ahead, a step reads the queue empty; the step that next finds
  // nothing queued waits without reading it again, and the wait must see what came between.
  await using sock = await open(NETLINK_USERSOCK);
  await using peer = await open(NETLINK_USERSOCK);
  const send = (i: number) => peer.send(indexed(i), { portid: sock.portid });
  const index = (payload: Uint8Array) =>
    new DataView(payload.buffer, payload.byteOffset).getUint32(0, true);
  const signal = AbortSignal.timeout(5000);
  const got: number[] = [];
  let sent = 0;
  const it = sock.messages({ signal });
  for (let round = 0; round < 20; round++) {
    const step = it.next();
    await new Promise((r) => setTimeout(r, 2)); // the step waits in the kernel's wait
    for (let i = 0; i < 3; i++) send(sent++);
    got.push(index((await step).value!.payload));
    got.push(index((await it.next()).value!.payload)); // read 3 ahead, and the queue empty
    send(sent++);
    got.push(index((await it.next()).value!.payload)); // 3, from the stream's queue
    got.push(index((await it.next()).value!.payload)); // the one sent between: the wait's
  }
  await it.return!();
  const cursor = sock.cursor({ signal });
  for (let round = 0; round < 20; round++) {
    const step = cursor.next();
    await new Promise((r) => setTimeout(r, 2));
    for (let i = 0; i < 3; i++) send(sent++);
    const c = (await step).value!;
    // The walk reads the next datagrams in place, and then the queue empty.
    while (c.next()) got.push(c.view.getUint32(c.byteOffset + c.payloadOffset, true));
    send(sent++);
    const d = (await cursor.next()).value!;
    while (d.next()) got.push(d.view.getUint32(d.byteOffset + d.payloadOffset, true));
  }
  await cursor.return!();
  assert.deepEqual(got, Array.from({ length: sent }, (_, i) => i));
});

test("a multicast flood into a slow for-await consumer: ENOBUFS is one NLMSG_OVERRUN, in order; what comes once it caught up still arrives", async () => {
  await using pair = await floodPair();
  const { sock, peer } = pair;
  const index = (payload: Uint8Array) =>
    new DataView(payload.buffer, payload.byteOffset).getUint32(0, true);
  const seen: (number | "overrun")[] = [];
  const it = sock.messages({ signal: AbortSignal.timeout(10_000) });
  let step = it.next();
  await new Promise((r) => setTimeout(r, 2));
  peer.send(indexed(0), { group: 3 });
  // Taken, and while its consumer is busy (a timer) a flood far past the receive buffer comes.
  seen.push(index((await step).value!.payload));
  step = it.next();
  for (let i = 1; i < 200; i++) peer.send(indexed(i), { group: 3 });
  for (;;) {
    await new Promise((r) => setTimeout(r, 1)); // slow: a timer per message
    const r = await Promise.race([step, new Promise<null>((r) => setTimeout(r, 300, null))]);
    if (r === null) break; // caught up: the step waits, and nothing more comes
    const m = r.value!;
    seen.push(m.overrun ? "overrun" : index(m.payload));
    step = it.next();
  }
  assert.equal(seen.filter((x) => x === "overrun").length, 1, `one overrun: ${seen.join(" ")}`);
  assert.equal(sock.overruns, 1);
  const indices = seen.filter((x) => x !== "overrun") as number[];
  assert.ok(indices.length > 2 && indices.length < 200, `${indices.length} arrived`);
  assert.deepEqual(indices, [...indices].sort((x, y) => x - y), "in order");
  peer.send(indexed(1000), { group: 3 });
  assert.equal(index((await step).value!.payload), 1000);
  await it.return!();
});

test("a peer's message of type NLMSG_OVERRUN is its own, without `overrun`: only the socket's marker of lost messages has it, in messages() and listen() (attack16)", async () => {
  await using pair = await floodPair();
  const { sock, peer } = pair;
  const flood = () => {
    for (let i = 0; i < 200; i++) peer.send(indexed(i), { group: 3 });
  };
  // The spoof, then a flood past the receive buffer while nothing reads: ENOBUFS at the next
  // read, reported before what is still queued.
  peer.send({ type: NLMSG_OVERRUN }, { portid: sock.portid });
  const it = sock.messages({ signal: AbortSignal.timeout(10_000) });
  const spoofed = (await it.next()).value!;
  assert.deepEqual([spoofed.type, spoofed.sender, spoofed.overrun], [
    NLMSG_OVERRUN,
    peer.portid,
    undefined,
  ]);
  flood();
  const marker = (await it.next()).value!;
  assert.deepEqual([marker.type, marker.sender, marker.overrun], [NLMSG_OVERRUN, 0, true]);
  assert.equal(sock.overruns, 1);
  await it.return!();
  // listen() the same: the spoof, and a flood while the handler's task runs (not reading).
  const seen: string[] = [];
  const done = new AbortController();
  const signal = AbortSignal.any([done.signal, AbortSignal.timeout(10_000)]);
  const listening = sock.listen((m) => {
    if (m.overrun) seen.push("overrun");
    else if (m.type === NLMSG_OVERRUN) seen.push(`spoof from ${m.sender === peer.portid}`);
    if (seen.length === 2) done.abort();
  }, { signal });
  await new Promise((r) => setTimeout(r, 100)); // what the first flood left is read
  peer.send({ type: NLMSG_OVERRUN }, { portid: sock.portid });
  flood();
  await listening.catch(() => {});
  assert.deepEqual(seen.sort(), ["overrun", "spoof from true"]);
  assert.equal(sock.overruns, 2);
});

test("a USERSOCK peer's extended-ack text reaches the error's message with its escapes escaped", async () => {
  // Any process of the namespace can answer a request to its port: the text is its to choose.
  using ns = new Netns();
  await using a = await open(NETLINK_USERSOCK, { netns: ns.name });
  await using b = await open(NETLINK_USERSOCK, { netns: ns.name });
  const asked = b.messages();
  const pending = a.request({ type: 0x10 }, { to: b.portid, timeout: 10_000 });
  const request = (await asked.next()).value!;
  const text = "\x1b]0;owned\x07\u009b2J";
  b.send(ackMessage(request, 1, { message: text }), { portid: a.portid });
  await assert.rejects(pending, (err) => {
    assert.ok(err instanceof NetlinkError, String(err));
    assert.equal(err.message, "EPERM: \\u001b]0;owned\\u0007\\u009b2J");
    assert.equal(err.detail, text);
    return true;
  });
  await asked.return!();
});

test("what a request reads while no consumer is open is kept up to the backlog in bytes too: a peer's large datagrams past it are one overrun", async () => {
  // A program that only makes requests reads whatever another process sends its port, and kept
  // each datagram up to the backlog (4096), of any size: 1.6 GB of 400 KB datagrams from an
  // unprivileged process. Here a backlog of 16 keeps 16 * 4096 bytes: two 30,000-byte datagrams.
  await using a = await open(NETLINK_ROUTE, { backlog: 16 });
  await using hostile = await open(NETLINK_ROUTE);
  const big = (n: number) => ({ type: 0x10 + n, payload: new Uint8Array(30_000 - 16) });
  for (let n = 0; n < 4; n++) hostile.send(big(n), { portid: a.portid });
  // Its read takes the four along, no consumer being open.
  assert.equal(
    (await a.request({ type: RTM_GETLINK, payload: ifinfomsg({ index: 1 }) })).length,
    1,
  );
  assert.equal(a.overruns, 1);
  await using steps = a.messages();
  const types = [];
  for (let i = 0; i < 3; i++) types.push((await steps.next()).value!.type);
  assert.deepEqual(types, [0x10, 0x11, NLMSG_OVERRUN]);
});

test("what a request reads while an iteration is open but not stepping is capped in bytes too: a peer's large datagrams past it are one overrun", async () => {
  // With an iteration open, reading pauses at the backlog, but a request's reads go on and take
  // along what another process sends the port: up to twice the backlog in messages, of any size
  // (538 MB measured before this cap). Here a backlog of 4 keeps 2 * 4 * 4096 bytes: four
  // 10,000-byte messages, then one overrun for the other two.
  await using a = await open(NETLINK_ROUTE, { backlog: 4 });
  await using hostile = await open(NETLINK_ROUTE);
  await using steps = a.messages();
  const big = (n: number) => ({ type: 0x10 + n, payload: new Uint8Array(10_000) });
  for (let n = 0; n < 6; n++) hostile.send(big(n), { portid: a.portid });
  assert.equal(
    (await a.request({ type: RTM_GETLINK, payload: ifinfomsg({ index: 1 }) })).length,
    1,
  );
  assert.equal(a.overruns, 1);
  const types = [];
  for (let i = 0; i < 5; i++) types.push((await steps.next()).value!.type);
  assert.deepEqual(types, [0x10, 0x11, 0x12, 0x13, NLMSG_OVERRUN]);
});

test("integer arguments the libc calls take: -0 is 0, and a level or name above a C int is a RangeError naming it, never the FFI's own TypeError (attack12a)", async () => {
  // Deno's FFI refused -0 and 2^31 for an i32 argument ("Invalid FFI i32 type").
  await using sock = await open(-0);
  assert.equal(sock.protocol, NETLINK_ROUTE);
  assert.equal(sock.getOption(-0 + SOL_NETLINK, NETLINK_PKTINFO), 1);
  sock.setOption(SOL_NETLINK, -0 + NETLINK_PKTINFO, 1);
  assert.throws(() => sock.getOption(-0, -0), SyscallError); // SOL_IP's option 0: ENOPROTOOPT
  for (const call of [() => sock.setOption(2 ** 31, 1, 1), () => sock.getOption(2 ** 31, 1)]) {
    assert.throws(
      call,
      /^RangeError: option level must be an integer from 0 to 2147483647, got 2147483648$/,
    );
  }
  assert.throws(
    () => sock.setOption(SOL_NETLINK, 2 ** 31, 1),
    /^RangeError: option name must be an integer from 0 to 2147483647/,
  );
});
