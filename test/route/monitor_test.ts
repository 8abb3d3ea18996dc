// monitor(): what `ip` commands change arrives as typed events; subscribed before it returns;
// overruns surfaced; ended by break or an AbortSignal.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { test } from "node:test";
import {
  NETLINK_ROUTE,
  NLMSG_OVERRUN,
  open,
  RTM_NEWLINK,
  RTNLGRP_LINK,
  SocketClosedError,
} from "../../mod.ts";
import { type Address, type Link, openRoute, type RouteEvent } from "../../src/route/mod.ts";
import { Netns } from "../host/_netns.ts";

/** Reads events until `done` says it has what it wants (or the signal times out). */
async function collect(
  events: AsyncIterableIterator<RouteEvent>,
  done: (seen: RouteEvent[]) => boolean,
): Promise<RouteEvent[]> {
  const seen: RouteEvent[] = [];
  for await (const event of events) {
    seen.push(event);
    if (done(seen)) break;
  }
  return seen;
}

const summary = (e: RouteEvent) =>
  e.object === "overrun"
    ? "overrun"
    : `${e.object} ${e.action} ${
      e.object === "link" || e.object === "port"
        ? e.value.name
        : e.object === "address"
        ? `${e.value.address}/${e.value.prefixLength} ${e.value.dev}`
        : e.object === "route"
        ? `${e.value.dst} ${e.value.table}`
        : e.object === "neighbour"
        ? `${e.value.address} ${e.value.lladdr} ${e.value.state}`
        : e.object === "fdb"
        ? `${e.value.mac} ${e.value.dev} ${e.value.state}`
        : `${e.value.priority} ${e.value.from}`
    }`;

test("monitor() sees what ip changes: links, addresses, routes, neighbours, rules, new and deleted", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  const events = ip.monitor(["link", "address", "route", "neighbour", "rule"], {
    signal: AbortSignal.timeout(10_000),
  });
  // No next() yet: what happens from here on is already subscribed to.
  ns.ipBatch([
    "link add a0 type veth peer name a1",
    "link set a0 up",
    "addr add 10.0.0.1/24 dev a0",
    "route add 10.5.0.0/16 via 10.0.0.2 table 100",
    "neigh add 10.0.0.5 lladdr 02:00:00:00:00:05 dev a0",
    "rule add from 10.10.0.0/16 table 100 pref 100",
    "route del 10.5.0.0/16 table 100",
    "rule del pref 100",
    "addr del 10.0.0.1/24 dev a0",
    "link del a0",
  ]);
  const want = [
    "link new a0",
    "address new 10.0.0.1/24 a0",
    "route new 10.5.0.0/16 100",
    "neighbour new 10.0.0.5 02:00:00:00:00:05 permanent",
    "rule new 100 10.10.0.0/16",
    "route deleted 10.5.0.0/16 100",
    "rule deleted 100 10.10.0.0/16",
    "address deleted 10.0.0.1/24 a0",
    "link deleted a0",
  ];
  const seen = (await collect(events, (s) => s.map(summary).includes("link deleted a0"))).map(
    summary,
  );
  // Each wanted event, in order (the kernel adds others: a1's, the local routes...).
  let at = 0;
  for (const line of seen) if (line === want[at]) at++;
  assert.equal(at, want.length, `missing ${want[at]} in:\n${seen.join("\n")}`);
  // break left the groups.
  assert.deepEqual(ip.socket.groups, []);
});

test("monitor(): a link event of a name that is not UTF-8 has its nameBytes, as list() gives them", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  const events = ip.monitor(["link"], { signal: AbortSignal.timeout(10_000) });
  // The name's bytes 0xff 0xfe, made by printf (an argument from JavaScript would be UTF-8).
  execFileSync("sh", [
    "-c",
    `ip -n ${ns.name} link add "$(printf '\\377\\376')" type veth peer name p1`,
  ]);
  for await (const event of events) {
    if (event.object !== "link" || event.value.name === "p1") continue;
    assert.equal(event.value.name, "\ufffd\ufffd");
    assert.deepEqual([...event.value.nameBytes!], [0xff, 0xfe]);
    break;
  }
});

test("monitor() names an event's link as it is named then: renamed before it started, or while it runs", async () => {
  // Only link events kept the names up to date: watching addresses alone, a renamed link's
  // events kept its old name, as did those of a link renamed since the last list().
  using ns = new Netns(["link add a0 type veth peer name a1"]);
  await using ip = await openRoute({ netns: ns.name });
  assert.ok((await ip.link.list()).some((l) => l.name === "a0")); // the names, as they are now
  ns.ip("link", "set", "a0", "name", "b0");
  const events = ip.monitor(["address"], { signal: AbortSignal.timeout(10_000) });
  assert.deepEqual(ip.socket.groups, [5, 9, 1], "the link group too, to follow renames");
  ns.ip("addr", "add", "10.0.0.1/24", "dev", "b0");
  assert.equal(summary((await events.next()).value!), "address new 10.0.0.1/24 b0");
  ns.ipBatch(["link set b0 name c0", "addr add 10.0.0.2/24 dev c0"]);
  const seen = await collect(
    events,
    (s) => s.some((e) => e.object === "address" && e.value.address === "10.0.0.2"),
  );
  assert.deepEqual(seen.map(summary), [
    "address new 10.0.0.1/24 c0", // the kernel announces the address again, relabelled
    "address new 10.0.0.2/24 c0",
  ]);
  await events.return!();
  assert.deepEqual(ip.socket.groups, []);
});

test("monitor() names the link of what goes with a link deleted while down, as ip monitor does: no link event came first, and a lookup found none", async () => {
  using ns = new Netns(["link add d0 type veth peer name d1", "addr add 10.0.0.1/24 dev d0"]);
  await using ip = await openRoute({ netns: ns.name });
  const events = ip.monitor(["address", "route"], { signal: AbortSignal.timeout(10_000) });
  ns.ip("link", "del", "d0");
  const seen = await collect(events, (s) => s.some((e) => e.object === "route"));
  assert.deepEqual(
    seen.map((e) => e.object === "address" || e.object === "route" ? [e.object, e.value.dev] : e),
    [["address", "d0"], ["route", "d0"]], // ip: "Deleted 2: d0 inet 10.0.0.1/24", "... dev d0"
  );
});

test("monitor() names follow its events, not a list() that ran meanwhile on the client", async () => {
  // The monitor shared the client's names, which a list() replaces with what its dump saw:
  // here a0's address event, read before the rename's, was said to be on b0.
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  const events = ip.monitor(["link", "address"], { signal: AbortSignal.timeout(10_000) });
  ns.ipBatch([
    "link add a0 type veth peer name a1",
    "addr add 10.0.0.1/24 dev a0",
    "link set a0 name b0",
  ]);
  const next = async () => (await events.next()).value as RouteEvent;
  let event = await next();
  while (!(event.object === "link" && event.value.name === "a0")) event = await next();
  assert.ok((await ip.link.list()).some((l) => l.name === "b0"));
  do event = await next(); while (event.object !== "address");
  assert.equal(summary(event), "address new 10.0.0.1/24 a0");
  await events.return!();
});

test("monitor() only yields the objects asked for, and one runs at a time per client", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  const events = ip.monitor(["route"], { signal: AbortSignal.timeout(10_000) });
  assert.throws(() => ip.monitor(["link"]), /already monitoring/);
  assert.throws(() => ip.monitor(["links" as never]), /"links" is not one of link, address/);
  ns.ipBatch([
    "link add a0 type veth peer name a1",
    "link set a0 up",
    "route add 10.9.0.0/16 dev a0",
  ]);
  const seen = await collect(
    events,
    (s) => s.some((e) => e.object === "route" && e.value.dst === "10.9.0.0/16"),
  );
  assert.ok(seen.every((e) => e.object === "route"), seen.map(summary).join("\n"));
  // The first has ended (break): another may start.
  const again = ip.monitor(["link"]);
  await again.return!();
  assert.deepEqual(ip.socket.groups, []);
});

test("monitor() yields no change made before it was called: a previous monitor's events left unread are skipped", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  await using peer = await open(NETLINK_ROUTE, { netns: ns.name });
  const first = ip.monitor(["link"], { signal: AbortSignal.timeout(10_000) });
  const step = first.next();
  // Several link messages (the pair, then its removal): the first monitor takes one of them.
  ns.ipBatch(["link add b0 type veth peer name b1", "link del b0"]);
  await step;
  // Another process's NLMSG_OVERRUN, then more changes, left unread too: it is no overrun of
  // the socket's and does not end the skipping (it did: the changes after it were yielded).
  peer.send({ type: NLMSG_OVERRUN, payload: new Uint8Array(4) }, { portid: ip.socket.portid });
  ns.ipBatch(["link add d0 type veth peer name d1", "link del d0"]);
  await first.return!();
  // Made after the second monitor() call: its first event.
  const second = ip.monitor(["link"], { signal: AbortSignal.timeout(10_000) });
  ns.ip("link", "add", "c0", "type", "veth", "peer", "name", "c1");
  const { value } = await second.next();
  await second.return!();
  // It was the first monitor's "b0" or "b1" (the pair made or deleted before the call), or "d0".
  assert.match(summary(value!), /^link new c[01]$/);
  // With noENOBUFS nothing marks the call's place (what would could be dropped unseen): the
  // monitor skips nothing, and still yields the changes.
  await using quiet = await openRoute({ netns: ns.name, noENOBUFS: true });
  const third = quiet.monitor(["link"], { signal: AbortSignal.timeout(10_000) });
  ns.ip("link", "del", "c0");
  assert.match(summary((await third.next()).value!), /^link (new|deleted) c[01]$/);
  await third.return!();
});

test("monitor() of a closed client throws SocketClosedError; one running when it closes ends", async () => {
  using ns = new Netns();
  // Closed before monitor(): refused, also when the socket was in the groups already (nothing to
  // join, which used to return a monitor that threw from its first step).
  for (const groups of [[], [RTNLGRP_LINK]]) {
    const socket = await open(NETLINK_ROUTE, { netns: ns.name, groups });
    const ip = await openRoute({ socket });
    socket.close();
    assert.throws(() => ip.monitor(["link"]), SocketClosedError);
    assert.throws(() => ip.monitor(), SocketClosedError);
  }
  // Closed while a monitor runs: it ends, whether its next() was pending or comes after.
  for (const pending of [true, false]) {
    const ip = await openRoute({ netns: ns.name });
    const events = ip.monitor(["link"]);
    const step = pending ? events.next() : undefined;
    ip.close();
    assert.deepEqual(await (step ?? events.next()), { value: undefined, done: true });
    assert.deepEqual(await events.next(), { value: undefined, done: true });
    assert.deepEqual(ip.socket.groups, []);
  }
});

test("monitor() declared with `await using` ends with its scope: groups left, the client free", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  {
    await using events = ip.monitor(["link", "route"]);
    assert.equal(typeof events[Symbol.asyncDispose], "function");
    assert.deepEqual([...ip.socket.groups].sort((a, b) => a - b), [1, 7, 11]);
    assert.throws(() => ip.monitor(["link"]), /already monitoring/);
  }
  assert.deepEqual(ip.socket.groups, []);
  const again = ip.monitor(["link"]); // the client is free at once, not at a collection
  await again.return!();
});

test("monitor() ends with the AbortSignal's reason; return() before next() leaves the groups", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  const controller = new AbortController();
  const events = ip.monitor(["link"], { signal: controller.signal });
  const next = events.next();
  controller.abort(new Error("stop watching"));
  await assert.rejects(next, /stop watching/);
  assert.deepEqual(ip.socket.groups, []);
  const unused = ip.monitor(["route", "address"]);
  assert.deepEqual([...ip.socket.groups].sort((a, b) => a - b), [1, 5, 7, 9, 11]);
  await unused.return!();
  assert.deepEqual(ip.socket.groups, []);
});

test("monitor() return() while next() steps wait ends it at once: the steps done, groups left", async () => {
  // return() queued behind the waiting steps (an async generator's own return() waits for the
  // step in flight), so with no event coming it never settled: the groups stayed joined and the
  // client monitoring, and `await using` hung at the end of its scope.
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  const settled = async <T>(promise: Promise<T>) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve("still waiting"), 10_000);
    });
    try {
      return await Promise.race([promise, late]);
    } finally {
      clearTimeout(timer);
    }
  };
  const events = ip.monitor(["link", "route"]);
  const first = events.next();
  const second = events.next();
  assert.deepEqual(await settled(events.return!()), { done: true, value: undefined });
  assert.deepEqual(await settled(first), { done: true, value: undefined });
  assert.deepEqual(await settled(second), { done: true, value: undefined });
  assert.deepEqual(ip.socket.groups, []);
  {
    await using scoped = ip.monitor(["link"]);
    void scoped.next();
  }
  assert.deepEqual(ip.socket.groups, []);
  await ip.monitor(["link"]).return!(); // the client is free
});

test("monitor(): one at a time per socket, also for two clients over one socket", async () => {
  // Keyed by client, two clients over one socket (openRoute({ socket })) each ran a monitor:
  // the socket's events were split between them, and the first to end left the groups the
  // other still read.
  using ns = new Netns();
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name });
  await using a = await openRoute({ socket: sock });
  await using b = await openRoute({ socket: sock });
  const first = a.monitor(["link"]);
  assert.throws(() => b.monitor(["link"]), /^TypeError: this client is already monitoring/);
  await first.return!();
  const second = b.monitor(["link"]); // free once the first ended
  ns.ipBatch(["link add z0 type veth peer name z1", "link del z0"]);
  const seen = await collect(second, (s) => s.length === 4);
  assert.deepEqual(seen.map(summary).sort(), [
    "link deleted z0",
    "link deleted z1",
    "link new z0",
    "link new z1",
  ]);
  assert.deepEqual(sock.groups, []);
});

test("monitor() with a signal that is no AbortSignal is a TypeError before it joins anything", async () => {
  // It joined the groups and marked the client as monitoring, then failed inside with
  // 'signal?.addEventListener is not a function': the client stayed "already monitoring".
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  for (const signal of ["x", {}, 5, null]) {
    assert.throws(
      () => ip.monitor(["link"], { signal: signal as never }),
      /^TypeError: monitor\(\) options: signal (must be an AbortSignal, got |is null, which it does not take)/,
    );
    assert.deepEqual(ip.socket.groups, []);
  }
  await ip.monitor(["link"]).return!(); // the client is free
});

test("monitor() aborted with no next() pending frees the client at once: groups left, a second monitor() works", async () => {
  // The client stayed marked as monitoring, and the groups joined, until a next() was called.
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  const controller = new AbortController();
  const events = ip.monitor(["link"], { signal: controller.signal });
  controller.abort(new Error("stop watching"));
  assert.deepEqual(ip.socket.groups, []);
  const second = ip.monitor(["route"]);
  assert.deepEqual(ip.socket.groups, [7, 11, 1]);
  await second.return!();
  await assert.rejects(events.next(), /stop watching/);
  // Already aborted when called: the same, from the start.
  const late = ip.monitor(["link"], { signal: controller.signal });
  assert.deepEqual(ip.socket.groups, []);
  await assert.rejects(late.next(), /stop watching/);
  await ip.monitor(["link"]).return!();
});

test("monitor() surfaces an overrun when events come faster than they are read", async () => {
  using ns = new Netns();
  ns.ipBatch(["link add a0 type veth peer name a1", "link set a0 up"]);
  await using ip = await openRoute({ netns: ns.name, receiveBufferSize: 4096 });
  const events = ip.monitor(["route"], { signal: AbortSignal.timeout(10_000) });
  const routes = Array.from(
    { length: 2000 },
    (_, i) => `route add 10.${i >> 8}.${i & 255}.0/24 dev a0`,
  );
  ns.ipBatch(routes);
  const seen = await collect(events, (s) => s.some((e) => e.object === "overrun"));
  assert.equal(seen.at(-1)!.object, "overrun");
  assert.ok(seen.length < 2000);
  assert.ok(ip.socket.overruns >= 1);
});

test("monitor(objects) types its events by the objects watched: a link monitor's are links' or overruns", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  const events = ip.monitor(["link"], { signal: AbortSignal.timeout(10_000) });
  ns.ip("link", "add", "a0", "type", "veth", "peer", "name", "a1");
  const names: string[] = [];
  for await (const e of events) {
    if (e.object === "overrun") continue;
    names.push(e.value.name); // TS2339 before: the value of any object's event
    if (names.length === 2) break;
  }
  assert.deepEqual(names.sort(), ["a0", "a1"]);
});

test("monitor() keeps a burst whole, as ip monitor does: a client's own socket has ip's 1 MiB receive buffer", async () => {
  // With the kernel's default (rmem_default, 208 KiB) the 200 link events of these 100 veth
  // pairs, made while the program reads nothing (ipBatch blocks it), were an overrun; ip
  // monitor, whose socket has 1 MiB (iproute2's rtnl_open), gets them all.
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  const events = ip.monitor(["link"], { signal: AbortSignal.timeout(20_000) });
  ns.ipBatch(Array.from({ length: 100 }, (_, i) => `link add x${i} type veth peer name y${i}`));
  const seen = await collect(
    events,
    (s) => s.some((e) => e.object === "overrun" || (e.object === "link" && e.value.name === "x99")),
  );
  assert.deepEqual(seen.filter((e) => e.object === "overrun"), []);
  assert.equal(seen.length, 200);
});

test("monitor() yields only the kernel's events: another process's, parsed or not, are skipped", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  await using peer = await open(NETLINK_ROUTE, { netns: ns.name });
  const events = ip.monitor(["link"], { signal: AbortSignal.timeout(10_000) });
  // RTM_NEWLINK of a link "evil": an ifinfomsg of index 77 and IFLA_IFNAME.
  const ifinfomsg = new Uint8Array(16);
  new DataView(ifinfomsg.buffer).setInt32(4, 77, true);
  const evil = {
    type: RTM_NEWLINK,
    payload: new Uint8Array([
      ...ifinfomsg,
      9,
      0,
      3,
      0,
      ...new TextEncoder().encode("evil\0"),
      0,
      0,
      0,
    ]),
  };
  peer.send(evil, { portid: ip.socket.portid }); // to our port
  peer.send(evil, { group: RTNLGRP_LINK }); // root may multicast on the kernel's groups
  // A datagram whose nlmsg_len runs past its end, and attributes that do.
  peer.send(new Uint8Array(17).fill(1), { portid: ip.socket.portid });
  peer.send({ type: RTM_NEWLINK, payload: new Uint8Array([...ifinfomsg, 200, 0, 3, 0]) }, {
    portid: ip.socket.portid,
  });
  peer.send({ type: RTM_NEWLINK, payload: new Uint8Array(4) }, { group: RTNLGRP_LINK });
  // An NLMSG_OVERRUN of its own is no overrun: it made an { object: "overrun" } event (a
  // monitor told to list everything again, as often as another process likes).
  peer.send({ type: NLMSG_OVERRUN, payload: new Uint8Array(4) }, { portid: ip.socket.portid });
  peer.send({ type: NLMSG_OVERRUN, payload: new Uint8Array(4) }, { group: RTNLGRP_LINK });
  ns.ip("link", "add", "a0", "type", "veth", "peer", "name", "a1");
  const seen = await collect(
    events,
    (s) => s.some((e) => e.object === "link" && e.value.name === "a0"),
  );
  assert.deepEqual(seen.map(summary).filter((line) => !line.endsWith("a1")), ["link new a0"]);
});

test("monitor() goes on when a link name's lookup is lost to an overrun: the event comes without dev", async () => {
  using ns = new Netns();
  ns.ipBatch(Array.from({ length: 40 }, (_, i) => `link add f${i} type veth peer name g${i}`));
  // Links it has not seen: each address event asks for its link's name, on the socket the
  // flood overruns, so some of those answers are lost (ENOBUFS ended the monitor).
  await using ip = await openRoute({ netns: ns.name, receiveBufferSize: 4096 });
  const events = ip.monitor(["address"], { signal: AbortSignal.timeout(30_000) });
  const batches = Array.from(
    { length: 20 },
    (_, r) => Array.from({ length: 40 }, (_, i) => `addr add 10.${r}.${i}.1/24 dev f${i}`),
  );
  const flood = spawn("sh", [
    "-c",
    batches.map((batch) =>
      `printf '%s\\n' ${
        batch.map((c) => `'${c}'`).join(" ")
      } | ip -n ${ns.name} -batch -; sleep 0.01`
    )
      .join("\n"),
  ], { stdio: "ignore" });
  const flooded = new Promise((resolve) => flood.on("exit", resolve));
  // Then addresses until one is seen (the first may find the queue still full).
  let n = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  void flooded.then(() => {
    timer = setInterval(() => ns.ip("addr", "add", `10.99.${n++}.1/24`, "dev", "f0"), 100);
  });
  let seen: RouteEvent[];
  try {
    seen = await collect(
      events,
      (s) => s.some((e) => e.object === "address" && e.value.address.startsWith("10.99.")),
    );
  } finally {
    clearInterval(timer);
  }
  assert.ok(seen.some((e) => e.object === "overrun"), "the flood overran the socket");
  const last = seen.at(-1)!;
  assert.ok(last.object === "address" && last.value.index > 0);
});

test("monitor()'s link events list M-DOWN as link.get() does: the link it sits on is down", async () => {
  // Link events never said M-DOWN (ip monitor prints it, from its cache of the links' flags): a
  // veth whose peer was down read as one whose peer was up.
  using ns = new Netns(["link add p0 type veth peer name p1"]); // p1 down, there before the monitor
  await using ip = await openRoute({ netns: ns.name });
  const events = ip.monitor(["link"], { signal: AbortSignal.timeout(10_000) });
  const flagsOf = async (name: string, mtu: number) => {
    // Stepped by hand: a for await would end the monitor at its return.
    for (let step = await events.next(); !step.done; step = await events.next()) {
      const e = step.value;
      if (e.object === "link" && e.value.name === name && e.value.mtu === mtu) {
        return e.value.flags.join(",");
      }
    }
  };
  ns.ip("link", "set", "p0", "up"); // p1, looked up, is down
  assert.equal(await flagsOf("p0", 1500), "NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN");
  ns.ipBatch(["link set p1 up", "link set p0 mtu 1400"]); // p1's own event says it is up
  assert.equal(await flagsOf("p0", 1400), "BROADCAST,MULTICAST,UP,LOWER_UP");
  ns.ipBatch(["link set p1 down", "link set p0 mtu 1300"]);
  assert.equal(await flagsOf("p0", 1300), "NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN");
  ns.ipBatch(["link add q0 type veth peer name q1", "link set q0 mtu 1400"]); // q1 new, down
  assert.equal(await flagsOf("q0", 1400), "BROADCAST,MULTICAST,M-DOWN");
  assert.equal((await ip.link.get("q0")).flags.join(","), "BROADCAST,MULTICAST,M-DOWN");
  await events.return!();
});

test("monitor(): a port leaving its bridge is no link deleted; the bridge's word on its ports is a \"port\" event", async () => {
  using ns = new Netns();
  ns.ipBatch(["link add br0 type bridge", "link add a0 type veth peer name a1"]);
  const [{ ifindex: br0 }] = JSON.parse(ns.ip("-j", "link", "show", "br0"));
  await using ip = await openRoute({ netns: ns.name });
  await using other = await openRoute({ netns: ns.name });
  const signal = AbortSignal.timeout(10_000);
  const links = ip.monitor(["link"], { signal });
  const ports = other.monitor(["port"], { signal });
  ns.ipBatch(["link set a0 master br0", "link set a0 nomaster", "link del a1"]);
  const seen = await collect(links, (s) => {
    const all = s.map(summary);
    return all.includes("link deleted a0") && all.includes("link deleted a1");
  });
  // The bridge's messages on a0 (AF_BRIDGE: a bare one as it joins, an RTM_DELLINK as it
  // leaves, which the link outlives) are no link events: a link's are its own, whole (txqlen,
  // its port kind...), and a0 is deleted once, when it goes.
  for (const e of seen) if (e.object === "link") assert.notEqual(e.value.txqlen, undefined);
  assert.equal(seen.map(summary).filter((s) => s === "link deleted a0").length, 1);
  assert.ok(seen.some((e) => e.object === "link" && e.value.name === "a0" && e.value.master));
  // They are "port" events, for whoever watches them ("bridge monitor link").
  const bridge = await collect(ports, (s) => s.map(summary).includes("port deleted a0"));
  assert.ok(bridge.every((e) => e.object === "port"));
  const first = bridge.find((e) => e.object === "port" && e.value.name === "a0");
  assert.equal(first?.object === "port" && `${first.action} ${first.value.master}`, `new ${br0}`);
  const left = bridge.at(-1)!;
  assert.equal(left.object === "port" && `${left.action} ${left.value.master}`, `deleted ${br0}`);
});

test("monitor(): a \"port\" event carries the port's bridge options in portData, its STP state as bridge monitor shows it", async () => {
  using ns = new Netns();
  ns.ipBatch([
    "link add br0 type bridge",
    "link add a0 type veth peer name a1",
    "link set br0 up",
    "link set a1 up",
  ]);
  await using ip = await openRoute({ netns: ns.name });
  const ports = ip.monitor(["port"], { signal: AbortSignal.timeout(10_000) });
  ns.ipBatch(["link set a0 master br0", "link set a0 type bridge_slave cost 7", "link set a0 up"]);
  // No STP: the port goes from disabled (down) to forwarding once up.
  const seen = await collect(
    ports,
    (s) => s.some((e) => e.object === "port" && e.value.portData?.state === "forwarding"),
  );
  const states = seen.map((e) => e.object === "port" ? e.value.portData?.state : e.object);
  assert.equal(states[0], "disabled", JSON.stringify(states));
  assert.equal(states.at(-1), "forwarding");
  const last = seen.at(-1)!;
  assert.ok(last.object === "port" && last.value.portKind === "bridge");
  const portData = last.object === "port" ? last.value.portData : undefined;
  const [shown] = JSON.parse(
    execFileSync("bridge", ["-n", ns.name, "-j", "-d", "link", "show", "dev", "a0"], {
      encoding: "utf8",
    }),
  );
  assert.deepEqual([portData?.state, portData?.cost], [shown.state, shown.cost]);
  assert.equal(shown.cost, 7);
});

test("link.wait() resolves once its condition holds for the link: at once, on a change made by ip, on the link's coming and going; a signal bounds it and frees the monitor", async () => {
  using ns = new Netns(["link add w0 type veth peer name w1"]);
  await using ip = await openRoute({ netns: ns.name });
  const later = (...commands: string[]) => setTimeout(() => ns.ipBatch(commands), 150);
  // Already true: no change needed.
  assert.equal((await ip.link.wait("w0", (l) => l?.mtu === 1500))?.name, "w0");
  // A change ip makes in another process.
  later("link set w0 up", "link set w1 up");
  const up = await ip.link.wait("w0", (l) => l?.operstate === "up");
  assert.equal(up?.operstate, "up");
  assert.equal(up?.name, "w0");
  // By index.
  later("link set w0 mtu 1400");
  assert.equal((await ip.link.wait(up!.index, (l) => l?.mtu === 1400))?.mtu, 1400);
  // A link that is not there yet, then gone.
  later("link add n0 type veth peer name n1");
  const made = await ip.link.wait("n0", (l) => l !== undefined);
  assert.equal(made?.name, "n0");
  later("link del n0");
  assert.equal(await ip.link.wait("n0", (l) => l === undefined), undefined);
  // A name follows the name: renamed away is none, renamed to it is the one watched.
  later("link set w1 down", "link set w1 name w9");
  assert.equal(await ip.link.wait("w1", (l) => l === undefined), undefined);
  later("link set w9 name w1");
  assert.equal((await ip.link.wait("w1", (l) => l !== undefined))?.name, "w1");
  // Bounded by a signal, which frees the client's monitor at once.
  await assert.rejects(
    ip.link.wait("w0", (l) => l?.mtu === 9000, { signal: AbortSignal.timeout(200) }),
    (err: unknown) => err instanceof DOMException && err.name === "TimeoutError",
  );
  const events = ip.monitor(["link"], { signal: AbortSignal.timeout(3000) });
  later("link set w0 mtu 1300");
  for await (const event of events) if (event.object === "link" && event.value.mtu === 1300) break;
  // What until throws rejects, and bad input is a TypeError before any request.
  await assert.rejects(
    ip.link.wait("w0", () => {
      throw new Error("mine");
    }),
    /^Error: mine$/,
  );
  await assert.rejects(ip.link.wait("w0", "up" as never), TypeError);
  await assert.rejects(ip.link.wait("", () => true), TypeError);
  await assert.rejects(
    ip.link.wait("w0", () => true, { signl: undefined } as never),
    /did you mean "signal"/,
  );
  // A signal that is none is named as the caller's, not as the monitor() it runs on.
  await assert.rejects(
    ip.link.wait("w0", () => true, { signal: {} } as never),
    /^TypeError: link\.wait\(\) options: signal must be an AbortSignal, got \{\}$/,
  );
  // Not while a monitor of the client runs.
  const running = ip.monitor(["link"]);
  await assert.rejects(ip.link.wait("w0", () => true));
  await running.return?.();
  assert.equal((await ip.link.wait("w0", () => true))?.name, "w0");
});

test("addr.wait() resolves once its condition holds for the address: IPv6 duplicate address detection ending, as ip -j shows it; by prefix; its coming and going; a signal bounds it; bad input first", async () => {
  using ns = new Netns(["link add v0 type veth peer name v1"]);
  await using ip = await openRoute({ netns: ns.name });
  const later = (...commands: string[]) => setTimeout(() => ns.ipBatch(commands), 150);
  const signal = () => AbortSignal.timeout(10_000);
  await ip.addr.add("v0", "2001:db8::1/64");
  await ip.addr.add("v1", "2001:db8::2/64");
  const settled = (a?: Address) =>
    a !== undefined && (!a.flags.includes("tentative") || a.flags.includes("dadfailed"));
  // Tentative until the link has a carrier and DAD has run: both ends up, then a second or so.
  const ipShows = () =>
    (JSON.parse(ns.ip("-j", "addr", "show", "dev", "v0"))[0].addr_info as Record<string, unknown>[])
      .find((a) => a.local === "2001:db8::1")!;
  assert.equal(ipShows().tentative, true);
  await ip.link.set("v0", { up: true });
  await ip.link.set("v1", { up: true });
  assert.equal(
    ipShows().tentative,
    true,
    "still tentative: the wait below has something to wait for",
  );
  let looks = 0;
  const ready = await ip.addr.wait("v0", "2001:db8::1", (a) => (looks++, settled(a)), {
    signal: signal(),
  });
  assert.ok(looks >= 2, `looked again at a change (${looks} looks)`);
  assert.equal(ready?.address, "2001:db8::1");
  assert.equal(ready?.prefixLength, 64);
  assert.equal(ready?.dev, "v0");
  assert.deepEqual(ready?.flags, ["permanent"]);
  assert.equal(ipShows().tentative, undefined, "ip agrees: no longer tentative");
  assert.equal(ipShows().dadfailed, undefined);
  // Already true: at once. With a prefix length, that is matched too.
  assert.equal((await ip.addr.wait("v0", "2001:db8::1/64", settled))?.address, "2001:db8::1");
  await assert.rejects(
    ip.addr.wait("v0", "2001:db8::1/80", (a) => a !== undefined, {
      signal: AbortSignal.timeout(300),
    }),
    (err: unknown) => err instanceof DOMException && err.name === "TimeoutError",
  );
  // An address that is not there yet, then gone; IPv4 as well.
  later("addr add 10.7.0.1/24 dev v0");
  assert.equal((await ip.addr.wait("v0", "10.7.0.1", (a) => a !== undefined))?.prefixLength, 24);
  later("addr del 10.7.0.1/24 dev v0");
  assert.equal(await ip.addr.wait("v0", "10.7.0.1", (a) => a === undefined), undefined);
  // Not another link's address of the same text.
  later("addr add 2001:db8::3/64 dev v1 nodad");
  await assert.rejects(
    ip.addr.wait("v0", "2001:db8::3", (a) => a !== undefined, { signal: AbortSignal.timeout(600) }),
    (err: unknown) => err instanceof DOMException && err.name === "TimeoutError",
  );
  // What until throws rejects, and bad input is a TypeError before any request.
  await assert.rejects(
    ip.addr.wait("v0", "2001:db8::1", () => {
      throw new Error("mine");
    }),
    /^Error: mine$/,
  );
  await assert.rejects(ip.addr.wait("v0", "2001:db8::1", "up" as never), TypeError);
  await assert.rejects(ip.addr.wait("v0", "2001:db8::zz", () => true), TypeError);
  await assert.rejects(
    ip.addr.wait("v0", "10.7.0.1", () => true, { signl: undefined } as never),
    /did you mean "signal"/,
  );
  await assert.rejects(
    ip.addr.wait("v0", "10.7.0.1", () => true, { signal: "soon" } as never),
    /^TypeError: addr\.wait\(\) options: signal must be an AbortSignal, got "soon"$/,
  );
  // A link that is not there is waited for (below); what can name no link is refused.
  await assert.rejects(ip.addr.wait("", "10.7.0.1", () => true), TypeError);
});

test("addr.wait() on a link not there yet waits for the link too, as link.wait() does: made, then given the address; by name, the link made anew with it", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  const later = (...commands: string[]) => setTimeout(() => ns.ipBatch(commands), 150);
  const signal = () => AbortSignal.timeout(10_000);
  let looks = 0;
  later("link add w0 type veth peer name w1", "addr add 10.8.0.1/24 dev w0");
  const found = await ip.addr.wait("w0", "10.8.0.1", (a) => (looks++, a !== undefined), {
    signal: signal(),
  });
  assert.equal(found?.dev, "w0");
  assert.equal(found?.prefixLength, 24);
  assert.ok(looks >= 2, `${looks} looks`); // undefined while there was no w0
  // Deleted and made anew under the name (another index): the new link's address is the one.
  const first = found!.index;
  later("link del w0", "link add w0 type veth peer name w1", "addr add 10.8.0.1/24 dev w0");
  const again = await ip.addr.wait(
    "w0",
    "10.8.0.1",
    (a) => a !== undefined && a.index !== first,
    { signal: signal() },
  );
  assert.equal(again?.dev, "w0");
  assert.equal(again?.index, JSON.parse(ns.ip("-j", "link", "show", "w0"))[0].ifindex);
  // Another link's address of the same text is not it, while there is no such link.
  later("addr add 10.9.0.1/24 dev w1");
  await assert.rejects(
    ip.addr.wait("w9", "10.9.0.1", (a) => a !== undefined, { signal: AbortSignal.timeout(600) }),
    (err: unknown) => err instanceof DOMException && err.name === "TimeoutError",
  );
  // By an index no link has: undefined, at once (an until that takes it).
  assert.equal(await ip.addr.wait(9999, "10.9.0.1", (a) => a === undefined), undefined);
});

test("neigh.wait() resolves once its condition holds for the entry: its coming and going, on a link not there yet; not a proxy entry; bad input first", async () => {
  using ns = new Netns(["link add n0 type veth peer name n1"]);
  await using ip = await openRoute({ netns: ns.name });
  const later = (...commands: string[]) => setTimeout(() => ns.ipBatch(commands), 150);
  const signal = () => AbortSignal.timeout(10_000);
  later("neigh add 10.0.0.9 lladdr 02:00:00:00:00:09 dev n0");
  const entry = await ip.neigh.wait("n0", "10.0.0.9", (n) => n?.state === "permanent", {
    signal: signal(),
  });
  assert.equal(entry?.lladdr, "02:00:00:00:00:09");
  assert.equal(entry?.dev, "n0");
  later("neigh del 10.0.0.9 dev n0");
  assert.equal(await ip.neigh.wait("n0", "10.0.0.9", (n) => n === undefined), undefined);
  // IPv6, on a link that comes later.
  later(
    "link add n2 type veth peer name n3",
    "neigh add 2001:db8::9 lladdr 02:00:00:00:00:0a dev n2",
  );
  const v6 = await ip.neigh.wait("n2", "2001:db8:0::9", (n) => n !== undefined, {
    signal: signal(),
  });
  assert.equal(v6?.address, "2001:db8::9");
  assert.equal(v6?.family, "inet6");
  // A proxy entry of that address is not it.
  later("neigh add proxy 10.0.0.10 dev n0");
  await assert.rejects(
    ip.neigh.wait("n0", "10.0.0.10", (n) => n !== undefined, { signal: AbortSignal.timeout(600) }),
    (err: unknown) => err instanceof DOMException && err.name === "TimeoutError",
  );
  await assert.rejects(ip.neigh.wait("n0", "10.0.0.9", "up" as never), TypeError);
  await assert.rejects(ip.neigh.wait("n0", "10.0.0.zz", () => true), TypeError);
  await assert.rejects(ip.neigh.wait("", "10.0.0.9", () => true), TypeError);
  await assert.rejects(
    ip.neigh.wait("n0", "10.0.0.9", () => true, { signal: 5000 } as never),
    /^TypeError: neigh\.wait\(\) options: signal must be an AbortSignal, got 5000$/,
  );
  await assert.rejects(
    ip.neigh.wait("n0", "10.0.0.9", () => true, { signl: undefined } as never),
    /did you mean "signal"/,
  );
});

test("link.wait() and addr.wait() refuse an until that returns a promise (an async function): it was truthy, so they resolved at once whatever it would say", async () => {
  using ns = new Netns(["link add w0 type veth peer name w1", "addr add 10.7.0.1/24 dev w0"]);
  await using ip = await openRoute({ netns: ns.name });
  await assert.rejects(
    ip.link.wait("w0", ((l: Link | undefined) => Promise.resolve(l?.mtu === 9000)) as never),
    /^TypeError: until returned a promise: link\.wait\(\) calls it synchronously/,
  );
  await assert.rejects(
    ip.addr.wait("w0", "10.7.0.1", (() => Promise.resolve(false)) as never),
    /^TypeError: until returned a promise: addr\.wait\(\) calls it synchronously/,
  );
  // The client's monitor is free again, and a plain truthy value is still true.
  assert.equal((await ip.link.wait("w0", (l) => (l?.mtu ?? 0) as unknown as boolean))?.name, "w0");
});

test("link.wait(), addr.wait() and neigh.wait() take the same options, checked alike before anything is sent: a timeout rejects with a TimeoutError naming the wait and frees the monitor", async () => {
  using ns = new Netns(["link add w0 type veth peer name w1"]);
  await using ip = await openRoute({ netns: ns.name });
  const never = () => false;
  const waits = [
    ["link.wait()", (options: unknown) => ip.link.wait("w0", never, options as never)],
    ["addr.wait()", (options: unknown) => ip.addr.wait("w0", "10.7.0.1", never, options as never)],
    [
      "neigh.wait()",
      (options: unknown) => ip.neigh.wait("w0", "10.7.0.2", never, options as never),
    ],
  ] as const;
  for (const [what, wait] of waits) {
    const started = performance.now();
    await assert.rejects(wait({ timeout: 100 }), (err: unknown) => {
      assert.ok(err instanceof DOMException && err.name === "TimeoutError", String(err));
      assert.equal(err.message, `${what} timed out after 100 ms`);
      return true;
    });
    assert.ok(performance.now() - started >= 90);
    // With a signal too: whichever ends it first.
    const controller = new AbortController();
    const aborted = wait({ timeout: 60_000, signal: controller.signal });
    setTimeout(() => controller.abort(new Error("stop")), 50);
    await assert.rejects(aborted, /^Error: stop$/);
    for (const timeout of [0, -1, 0.5, 2 ** 31, NaN, "5"]) {
      await assert.rejects(wait({ timeout }), {
        name: typeof timeout === "number" && !Number.isNaN(timeout) ? "RangeError" : "TypeError",
        message: `${what} options: timeout must be a number of milliseconds from 1 to 2147483647, `
          + `got ${typeof timeout === "string" ? `"${timeout}"` : timeout}${
            timeout === 0 ? ": leave it out to wait without a limit" : ""
          }`,
      });
    }
    await assert.rejects(wait({ signal: "soon" }), {
      name: "TypeError",
      message: `${what} options: signal must be an AbortSignal, got "soon"`,
    });
    await assert.rejects(wait({ timeot: 5 }), {
      name: "TypeError",
      message: `${what} options: unknown option "timeot" (did you mean "timeout"?); the options `
        + "are signal, timeout",
    });
  }
  await assert.rejects(ip.link.wait("w0", "up" as never), {
    name: "TypeError",
    message:
      "link.wait(): until must be a function of what it waits for, such as (l) => l?.up, got \"up\"",
  });
  await assert.rejects(ip.neigh.wait("w0", "10.7.0.2", undefined as never), {
    name: "TypeError",
    message: "neigh.wait(): until must be a function of what it waits for, such as "
      + "(n) => n?.state === \"reachable\", got undefined",
  });
  // The monitor is free again: a wait that holds at once resolves.
  assert.equal((await ip.link.wait("w0", () => true, { timeout: 1000 }))?.name, "w0");
});

test("link.wait() looks again after an overrun: a change whose event the kernel dropped is still seen", async () => {
  using ns = new Netns();
  // A receive buffer too small for the burst below, which runs while this thread is blocked.
  await using ip = await openRoute({ netns: ns.name, receiveBufferSize: 4096 });
  let firstLook!: () => void;
  const looked = new Promise<void>((resolve) => firstLook = resolve);
  let looks = 0;
  const waiting = ip.link.wait("z0", (l) => {
    if (looks++ === 0) firstLook();
    return l !== undefined;
  }, { signal: AbortSignal.timeout(10_000) });
  await looked;
  ns.ipBatch([
    ...Array.from({ length: 100 }, (_, i) => `link add b${i} type veth peer name c${i}`),
    "link add z0 type veth peer name z1",
  ]);
  const found = await waiting;
  assert.equal(found?.name, "z0");
  // Fewer looks than events: some were dropped (the overrun), and z0 was found all the same.
  assert.ok(looks < 200, `${looks} looks`);
});
