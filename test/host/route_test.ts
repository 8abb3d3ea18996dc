// The public API against the real kernel's NETLINK_ROUTE, each test in a fresh network
// namespace, compared with what iproute2 (`ip -j`) reports for the same namespace.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  IFF_UP,
  NETLINK_ROUTE,
  NLM_F_DUMP,
  RT_TABLE_MAIN,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETROUTE,
  RTM_NEWLINK,
  RTN_UNICAST,
  RTNLGRP_LINK,
} from "../../src/constants.ts";
import { NetlinkError, SocketClosedError } from "../../src/errors.ts";
import type { ReceivedMessage } from "../../src/message.ts";
import { open } from "../../src/open.ts";
import { openDescriptors, settledNewDescriptors } from "../_fds.ts";
import { Netns } from "./_netns.ts";
import { decodeAddress, decodeLink, decodeRoute, ifaddrmsg, ifinfomsg, rtmsg } from "./_rtnl.ts";

function withVeths(ns: Netns, count = 1): void {
  for (let i = 0; i < count; i++) {
    ns.ip("link", "add", `va${i}`, "type", "veth", "peer", "name", `vb${i}`);
  }
}

test("dump links equals `ip -j link show`", async () => {
  using ns = new Netns();
  withVeths(ns, 3);
  ns.ip("link", "set", "va1", "mtu", "1400");
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name });
  const links = (await sock.request({
    type: RTM_GETLINK,
    flags: NLM_F_DUMP,
    payload: ifinfomsg(),
  })).map(decodeLink);
  const expected = ns.json<{ ifindex: number; ifname: string; mtu: number }[]>("link", "show");
  assert.deepEqual(
    links.map((l) => [l.index, l.name, l.mtu]).sort(),
    expected.map((l) => [l.ifindex, l.ifname, l.mtu]).sort(),
  );
  assert.equal(links.length, 7); // lo + 3 veth pairs
});

test("dump addresses (IPv4 and IPv6) equals `ip -j addr show`", async () => {
  using ns = new Netns();
  withVeths(ns);
  ns.ip("addr", "add", "198.51.100.1/24", "dev", "va0");
  ns.ip("addr", "add", "203.0.113.7/28", "dev", "va0");
  ns.ip("addr", "add", "2001:db8::1/64", "dev", "vb0", "nodad");
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name });
  const got = (await sock.request({
    type: RTM_GETADDR,
    flags: NLM_F_DUMP,
    payload: ifaddrmsg(AF_UNSPEC),
  })).map(decodeAddress);
  const expected = ns.json<
    { ifindex: number; addr_info: { local: string; prefixlen: number }[] }[]
  >("addr", "show").flatMap((l) =>
    l.addr_info.map((a) => `${l.ifindex} ${a.local}/${a.prefixlen}`)
  );
  assert.deepEqual(
    got.map((a) => `${a.index} ${a.address}/${a.prefixlen}`).sort(),
    expected.sort(),
  );
  assert.ok(expected.some((a) => a.endsWith("198.51.100.1/24")), "sanity: ip sees the address");
  assert.ok(got.some((a) => a.family === AF_INET6 && a.address === "2001:db8::1"));
});

test("dump routes equals `ip -j route show`", async () => {
  using ns = new Netns();
  withVeths(ns);
  ns.ip("link", "set", "va0", "up");
  ns.ip("addr", "add", "198.51.100.1/24", "dev", "va0");
  for (let i = 0; i < 50; i++) ns.ip("route", "add", `192.0.2.${i * 4}/30`, "dev", "va0");
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name });
  const routes = (await sock.request({
    type: RTM_GETROUTE,
    flags: NLM_F_DUMP,
    payload: rtmsg(AF_INET),
  })).map(decodeRoute).filter((r) => r.table === RT_TABLE_MAIN && r.type === RTN_UNICAST);
  const expected = ns.json<{ dst: string; dev: string }[]>("-4", "route", "show");
  const index = Object.fromEntries(
    ns.json<{ ifindex: number; ifname: string }[]>("link", "show").map((
      l,
    ) => [l.ifname, l.ifindex]),
  );
  const show = (dst: string, len: number) => (len === 32 ? dst : `${dst}/${len}`);
  assert.deepEqual(
    routes.map((r) => `${show(r.dst, r.dstLen)} ${r.oif}`).sort(),
    expected.map((r) => `${r.dst} ${index[r.dev]}`).sort(),
  );
  assert.equal(routes.length, 51);
});

test("get one link by index: a single reply", async () => {
  using ns = new Netns();
  withVeths(ns);
  const [{ ifindex }] = ns.json<{ ifindex: number }[]>("link", "show", "dev", "vb0");
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name });
  const replies = await sock.request({ type: RTM_GETLINK, payload: ifinfomsg({ index: ifindex }) });
  assert.equal(replies.length, 1);
  assert.equal(replies[0].type, RTM_NEWLINK);
  assert.equal(decodeLink(replies[0]).name, "vb0");
});

test("an invalid request rejects with NetlinkError carrying the kernel's extended ack", async () => {
  using ns = new Netns();
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name });
  const err = await sock.request({ type: RTM_GETLINK, payload: ifinfomsg({ index: 999_999 }) })
    .catch((e) => e);
  assert.ok(err instanceof NetlinkError, String(err));
  assert.equal(err.code, "ENODEV");
  // Strict checking (opt-in) rejects a dump header with fields set, with the kernel's own words.
  await using strict = await open(NETLINK_ROUTE, { netns: ns.name, strictChecking: true });
  const strictErr = await strict.request({
    type: RTM_GETLINK,
    flags: NLM_F_DUMP,
    payload: ifinfomsg({ change: 1 }),
  }).catch((e) => e);
  assert.ok(strictErr instanceof NetlinkError, String(strictErr));
  assert.equal(strictErr.code, "EINVAL");
  assert.match(strictErr.detail ?? "", /Invalid values in header for link dump request/);
  // Without strict checking the same dump is accepted.
  const lax = await sock.request({
    type: RTM_GETLINK,
    flags: NLM_F_DUMP,
    payload: ifinfomsg({ change: 1 }),
  });
  assert.ok(lax.length >= 1);
});

test("a RTNLGRP_LINK subscriber sees a veth going up and down", async () => {
  using ns = new Netns();
  withVeths(ns);
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name, groups: [RTNLGRP_LINK] });
  const states: string[] = [];
  const watching = (async () => {
    for await (const msg of sock) {
      if (msg.type !== RTM_NEWLINK || msg.group !== RTNLGRP_LINK) continue;
      const link = decodeLink(msg);
      if (link.name !== "va0") continue;
      const state = link.flags & IFF_UP ? "up" : "down";
      if (states.at(-1) !== state) states.push(state);
      if (states.length === 2) return;
    }
  })();
  ns.ip("link", "set", "va0", "up");
  ns.ip("link", "set", "va0", "down");
  await Promise.race([
    watching,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`saw ${states}`)), 5000)),
  ]);
  assert.deepEqual(states, ["up", "down"]);
});

test("batches(): 20 link changes made at once arrive in runs, in order, none missing", async () => {
  using ns = new Netns();
  withVeths(ns);
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name, groups: [RTNLGRP_LINK] });
  const it = sock.batches({ signal: AbortSignal.timeout(5000) });
  const first = it.next(); // subscribed and waiting before the changes
  // One `ip -batch` makes the changes while this thread is blocked running it, so every
  // notification is queued before the socket is read: one drain of the socket, one run.
  const mtus = Array.from({ length: 20 }, (_, i) => 1300 + i);
  ns.ipBatch(mtus.map((mtu) => `link set va0 mtu ${mtu}`));
  const seen: number[] = [];
  let runs = 0;
  for (let r = await first; !r.done; r = await it.next()) {
    runs++;
    for (const msg of r.value) {
      if (msg.type !== RTM_NEWLINK) continue;
      const link = decodeLink(msg);
      if (link.name === "va0" && seen.at(-1) !== link.mtu) seen.push(link.mtu);
    }
    if (seen.at(-1) === mtus.at(-1)) break;
  }
  assert.deepEqual(seen, mtus);
  assert.ok(runs <= 2, `${runs} runs for 20+ notifications queued together`);
});

test("a request on a subscribed socket is not confused by the notification it causes", async () => {
  using ns = new Netns();
  withVeths(ns);
  const [{ ifindex }] = ns.json<{ ifindex: number }[]>("link", "show", "dev", "va0");
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name, groups: [RTNLGRP_LINK] });
  // RTM_NEWLINK setting IFF_UP: the kernel acks it and multicasts a notification with our seq.
  const replies = await sock.request({
    type: RTM_NEWLINK,
    payload: ifinfomsg({ index: ifindex, flags: IFF_UP, change: IFF_UP }),
  });
  assert.deepEqual(replies, []);
  const it = sock.messages({ signal: AbortSignal.timeout(5000) });
  let event: ReceivedMessage;
  do event = (await it.next()).value!; while (decodeLink(event).index !== ifindex);
  assert.equal(event.group, RTNLGRP_LINK);
  assert.ok(decodeLink(event).flags & IFF_UP);
  await it.return!();
});

test("concurrent requests on one socket each get their own answer", async () => {
  using ns = new Netns();
  withVeths(ns, 4);
  const links = ns.json<{ ifindex: number; ifname: string }[]>("link", "show");
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name });
  const answers = await Promise.all([
    sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: ifinfomsg() }),
    ...links.map((l) =>
      sock.request({ type: RTM_GETLINK, payload: ifinfomsg({ index: l.ifindex }) })
    ),
    sock.request({ type: RTM_GETADDR, flags: NLM_F_DUMP, payload: ifaddrmsg(AF_UNSPEC) }),
  ]);
  assert.equal(answers[0].length, links.length);
  links.forEach((l, i) => assert.equal(decodeLink(answers[i + 1][0]).name, l.ifname));
  assert.ok(answers.at(-1)!.length >= 1);
});

test("dump() streams parts; close during a pending iteration ends it promptly", async () => {
  using ns = new Netns();
  withVeths(ns, 2);
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name, groups: [RTNLGRP_LINK] });
  let parts = 0;
  for await (const part of sock.dump({ type: RTM_GETLINK, payload: ifinfomsg() })) {
    assert.equal(part.type, RTM_NEWLINK);
    parts++;
  }
  assert.equal(parts, 5);
  const iterating = (async () => {
    for await (const _ of sock) { /* nothing arrives */ }
    return "ended";
  })();
  const pending = sock.request({ type: RTM_GETLINK, payload: ifinfomsg({ index: 1 }) });
  await new Promise((r) => setTimeout(r, 50));
  await pending; // answered before the close
  const start = performance.now();
  sock.close();
  assert.equal(await iterating, "ended");
  assert.ok(performance.now() - start < 500, "iteration ended promptly");
  await assert.rejects(
    sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }),
    SocketClosedError,
  );
});

test("10,000 open/close cycles leave no descriptor behind", async () => {
  const before = openDescriptors();
  for (let i = 0; i < 10_000; i++) (await open(NETLINK_ROUTE)).close();
  // One with a pending iteration, closed mid-wait, must release its descriptors too.
  for (let i = 0; i < 20; i++) {
    const sock = await open(NETLINK_ROUTE, { groups: [RTNLGRP_LINK] });
    const it = sock.messages();
    const next = it.next();
    await new Promise((r) => setTimeout(r, 1));
    sock.close();
    assert.equal((await next).done, true);
  }
  assert.deepEqual(await settledNewDescriptors(before), []);
});

test("a protocol the kernel lacks gives a clear error", async () => {
  // Unit 30 exists only while the project's module (or another) provides it.
  const err = await open(30).catch((e) => e);
  assert.equal(err.code, "EPROTONOSUPPORT");
  assert.match(err.message, /not available|module/);
});

test("netns given by name or path; a missing one is a clear error", async () => {
  using ns = new Netns();
  withVeths(ns);
  await using byPath = await open(NETLINK_ROUTE, { netns: `/run/netns/${ns.name}` });
  const links = await byPath.request({
    type: RTM_GETLINK,
    flags: NLM_F_DUMP,
    payload: ifinfomsg(),
  });
  assert.equal(links.length, 3);
  const err = await open(NETLINK_ROUTE, { netns: "no-such-netns-here" }).catch((e) => e);
  assert.equal(err.code, "ENOENT");
});
