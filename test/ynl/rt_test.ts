// The generated rtnetlink families (rt-link, rt-addr, rt-route, rt-neigh, rt-rule) against the
// host kernel, each test in a fresh network namespace, compared with what `ip -j` reports.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  NETLINK_ROUTE,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_MATCH,
  NLM_F_ROOT,
  RTM_NEWLINK,
  RTNLGRP_LINK,
  RTNLGRP_STATS,
} from "../../src/constants.ts";
import { netlinkSockets } from "../../src/diag/mod.ts";
import { NetlinkError } from "../../src/errors.ts";
import { open } from "../../src/open.ts";
import { family, FamilyError } from "../../src/ynl/mod.ts";
import { rtAddr } from "../../src/ynl/rt_addr.ts";
import { rtLink } from "../../src/ynl/rt_link.ts";
import { rtNeigh } from "../../src/ynl/rt_neigh.ts";
import { rtRoute } from "../../src/ynl/rt_route.ts";
import { rtRule } from "../../src/ynl/rt_rule.ts";
import { ipv4 } from "../_format.ts";
import { Netns } from "../host/_netns.ts";

const AF_INET = 2, AF_INET6 = 10;
const CREATE = NLM_F_CREATE | NLM_F_EXCL;

function withVeth(ns: Netns): void {
  ns.ip("link", "add", "va0", "type", "veth", "peer", "name", "vb0");
  ns.ip("link", "set", "va0", "up");
  ns.ip("link", "set", "vb0", "up");
}

interface IpLink {
  ifindex: number;
  ifname: string;
  mtu: number;
  address: string;
  txqlen?: number;
  qdisc?: string;
  link?: string;
  linkinfo?: { info_kind: string; info_data?: Record<string, unknown> };
}

test("rt-link: getlink dump equals `ip -j -d link show`", async () => {
  using ns = new Netns();
  withVeth(ns);
  ns.ip("link", "set", "va0", "mtu", "1400");
  ns.ip("link", "add", "br0", "type", "bridge");
  await using rt = await family(rtLink, { netns: ns.name });
  const links = await rt.dump("getlink");
  const expected = ns.json<IpLink[]>("-d", "link", "show");
  const names = new Map(links.map((link) => [link.ifiIndex, link.ifname]));
  assert.equal(links.length, expected.length);
  for (const want of expected) {
    const got = links.find((link) => link.ifiIndex === want.ifindex);
    assert.ok(got, `link ${want.ifname}`);
    assert.equal(got.ifname, want.ifname);
    assert.equal(got.mtu, want.mtu);
    assert.equal(got.address, want.address); // text: its display hint says mac
    assert.equal(got.txqlen, want.txqlen);
    assert.equal(got.qdisc, want.qdisc);
    assert.equal(got.link === undefined ? undefined : names.get(got.link), want.link);
    assert.equal(got.linkinfo?.kind, want.linkinfo?.info_kind);
  }
  // The bridge's IFLA_INFO_DATA is decoded through the linkinfo-data-msg sub-message "bridge".
  const bridge = links.find((link) => link.ifname === "br0")!;
  const data = bridge.linkinfo!.data as { stpState?: number; helloTime?: number };
  const want = expected.find((link) => link.ifname === "br0")!.linkinfo!.info_data!;
  assert.equal(data.stpState, want.stp_state);
  assert.equal(data.helloTime, want.hello_time);
  // Kinds the spec has no format for keep their data as bytes; veth sends none.
  assert.equal(links.find((link) => link.ifname === "va0")!.linkinfo!.data, undefined);
});

test("rt-link: newlink with a sub-message, setlink, getlink, dellink", async () => {
  using ns = new Netns();
  await using rt = await family(rtLink, { netns: ns.name });
  await rt.do("newlink", {
    ifname: "br7",
    mtu: 1280,
    linkinfo: { kind: "bridge", data: { stpState: 1, helloTime: 300, priority: 4096 } },
  }, { flags: CREATE });
  const [ip] = ns.json<IpLink[]>("-d", "link", "show", "br7");
  assert.equal(ip.mtu, 1280);
  assert.equal(ip.linkinfo!.info_kind, "bridge");
  assert.equal(ip.linkinfo!.info_data!.stp_state, 1);
  assert.equal(ip.linkinfo!.info_data!.hello_time, 300);
  assert.equal(ip.linkinfo!.info_data!.priority, 4096);

  await rt.do("setlink", { ifiIndex: ip.ifindex, mtu: 1300, ifalias: "typed" });
  const got = await rt.do("getlink", { ifname: "br7" });
  assert.equal(got.ifiIndex, ip.ifindex);
  assert.equal(got.mtu, 1300);
  assert.equal(got.ifalias, "typed");
  assert.equal((got.linkinfo!.data as { priority?: number }).priority, 4096);

  await assert.rejects(
    rt.do("newlink", { ifname: "br7", linkinfo: { kind: "bridge" } }, { flags: CREATE }),
    (err: unknown) => err instanceof NetlinkError && err.code === "EEXIST",
  );
  await rt.do("dellink", { ifname: "br7" });
  assert.deepEqual(ns.json("link", "show", "type", "bridge"), []);
});

test("rt-link: monitor yields newlink-ntf and dellink notifications", async () => {
  using ns = new Netns();
  withVeth(ns);
  await using rt = await family(rtLink, { netns: ns.name });
  const events = rt.monitor({ groups: ["rtnlgrp-link"] });
  const first = events.next(); // joins the group before anything changes
  ns.ip("link", "set", "va0", "mtu", "1350");
  const seen: { op: string; ifname?: string; mtu?: number }[] = [];
  for (let next = first; seen.length < 20; next = events.next()) {
    const { value } = await next;
    if (!value) break;
    const message = value.message as { ifname?: string; mtu?: number };
    seen.push({ op: value.op, ifname: message.ifname, mtu: message.mtu });
    if (value.op === "newlink-ntf" && message.ifname === "va0" && message.mtu === 1350) break;
  }
  assert.ok(seen.some((e) => e.op === "newlink-ntf" && e.mtu === 1350), JSON.stringify(seen));

  const gone = events.next();
  ns.ip("link", "del", "va0");
  for (let next = gone;; next = events.next()) {
    const { value } = await next;
    assert.ok(value);
    if (value.op === "dellink") {
      assert.equal((value.message as { ifname?: string }).ifname, "va0");
      break;
    }
  }
  await events.return();
  assert.deepEqual(rt.socket.groups, []);
});

test("rt-link: monitor() joins before it returns: a link made before iterating is seen", async () => {
  using ns = new Netns();
  await using rt = await family(rtLink, { netns: ns.name });
  const events = rt.monitor({ groups: ["rtnlgrp-link"], signal: AbortSignal.timeout(10_000) });
  ns.ip("link", "add", "vm0", "type", "veth", "peer", "name", "vm1");
  await new Promise((resolve) => setTimeout(resolve, 50)); // the loop starts late
  const names: string[] = [];
  for await (const { op, message } of events) {
    if (op === "newlink-ntf" && "ifname" in message) names.push(message.ifname!);
    if (names.includes("vm0") && names.includes("vm1")) break;
  }
  assert.ok(names.includes("vm0") && names.includes("vm1"), names.join());
  assert.deepEqual(rt.socket.groups, [], "the loop's break left the group");

  // return() ends a next() that waits for a notification, at once.
  const waiting = rt.monitor({ groups: ["rtnlgrp-link"] });
  const pending = waiting.next();
  await waiting.return();
  assert.deepEqual(await pending, { value: undefined, done: true });
  assert.deepEqual(rt.socket.groups, []);
});

test("rt-link: monitor() yields no notification made before the call: a previous monitor's left unread are skipped", async () => {
  using ns = new Netns();
  await using rt = await family(rtLink, { netns: ns.name });
  const first = rt.monitor({ groups: ["rtnlgrp-link"], signal: AbortSignal.timeout(10_000) });
  const step = first.next();
  // Several link messages (the pair, then its removal): the first monitor takes one of them.
  ns.ipBatch(["link add b0 type veth peer name b1", "link del b0"]);
  await step;
  await first.return();
  // Made after the second monitor() call: its first notification.
  const second = rt.monitor({ groups: ["rtnlgrp-link"], signal: AbortSignal.timeout(10_000) });
  ns.ip("link", "add", "c0", "type", "veth", "peer", "name", "c1");
  const { value } = await second.next();
  await second.return();
  // It was "b0" or "b1" (the pair made or deleted before the call).
  assert.equal(value?.op, "newlink-ntf");
  assert.match((value!.message as { ifname: string }).ifname, /^c[01]$/);
  // With noENOBUFS nothing marks the call's place (its ack could be dropped unseen): the
  // monitor skips nothing, and still yields.
  await using quiet = await family(rtLink, { netns: ns.name, noENOBUFS: true });
  const third = quiet.monitor({ groups: ["rtnlgrp-link"], signal: AbortSignal.timeout(10_000) });
  ns.ip("link", "del", "c0");
  assert.ok((await third.next()).value);
  await third.return();
});

test("rt-link: a monitor that names a group twice leaves it when it ends", async () => {
  // The group was held twice and released once: the socket stayed in it for good, and the
  // kernel went on queueing every link change to it.
  using ns = new Netns();
  await using rt = await family(rtLink, { netns: ns.name });
  const twice = rt.monitor({ groups: ["rtnlgrp-link", "rtnlgrp-stats", "rtnlgrp-link"] });
  assert.deepEqual(rt.socket.groups, [RTNLGRP_LINK, RTNLGRP_STATS]);
  await twice.return();
  assert.deepEqual(rt.socket.groups, []);
  // The kernel's view (netlink_diag) of the socket's memberships agrees.
  const ours = (await netlinkSockets({ netns: ns.name, protocol: NETLINK_ROUTE }))
    .find((s) => s.portid === rt.socket.portid);
  assert.deepEqual(ours?.groups ?? [], []);
});

test("rt-link: monitor() yields only the kernel's notifications: another process's are skipped, parsed or not", async () => {
  using ns = new Netns();
  await using rt = await family(rtLink, { netns: ns.name });
  await using peer = await open(NETLINK_ROUTE, { netns: ns.name });
  const events = rt.monitor({ groups: ["rtnlgrp-link"], signal: AbortSignal.timeout(10_000) });
  const to = { portid: rt.socket.portid };
  const ifinfomsg = new Uint8Array(16);
  // A link "evil" (IFLA_IFNAME), to our port and (root may) to the group.
  const evil = new Uint8Array([...ifinfomsg, 9, 0, 3, 0, 101, 118, 105, 108, 0, 0, 0, 0]);
  peer.send({ type: RTM_NEWLINK, payload: evil }, to);
  peer.send({ type: RTM_NEWLINK, payload: evil }, { group: RTNLGRP_LINK });
  // Garbage: an nlmsg_len past the datagram's end, a short ifinfomsg, an nla_len past the end.
  peer.send(new Uint8Array(17).fill(1), to);
  peer.send({ type: RTM_NEWLINK, payload: new Uint8Array(4) }, to);
  peer.send({ type: RTM_NEWLINK, payload: new Uint8Array([...ifinfomsg, 200, 0, 3, 0]) }, {
    group: RTNLGRP_LINK,
  });
  ns.ip("link", "add", "vm0", "type", "veth", "peer", "name", "vm1");
  const names: string[] = [];
  for await (const { op, message } of events) {
    if (op === "newlink-ntf") names.push(String(message.ifname));
    if (names.includes("vm0")) break;
  }
  assert.deepEqual(names.filter((name) => name !== "vm1"), ["vm0"]);
});

test("rt-link: the attribute an extended ack points at, as a path of property names", async () => {
  using ns = new Netns();
  await using rt = await family(rtLink, { netns: ns.name });
  // The bridge's policy rejects IFLA_BR_FDB_N_LEARNED (a counter, read only): the kernel points
  // at it inside IFLA_INFO_DATA (the "bridge" sub-message) inside IFLA_LINKINFO.
  const request = { ifname: "br8", linkinfo: { kind: "bridge", data: { fdbNLearned: 1 } } };
  await assert.rejects(rt.do("newlink", request, { flags: CREATE }), (err: unknown) => {
    assert.ok(err instanceof FamilyError, String(err));
    assert.equal(err.attribute, "linkinfo.data.fdbNLearned");
    assert.match(err.message, /, at linkinfo\.data\.fdbNLearned$/);
    return true;
  });
  // A top-level attribute the policy rejects (NLA_REJECT: the permanent address is read only).
  ns.ip("link", "add", "va0", "type", "veth", "peer", "name", "vb0");
  await assert.rejects(
    rt.do("setlink", { ifname: "va0", permAddress: new Uint8Array(6) }),
    (err: unknown) => err instanceof FamilyError && err.attribute === "permAddress",
  );
});

test("rt-link: dump() and dumpStream() of an operation with no dump are refused, sending nothing", async () => {
  // NLM_F_DUMP's bits are NLM_F_REPLACE | NLM_F_EXCL on a new request, NLM_F_BULK on a delete:
  // dumpStream("setlink", ...) set the MTU it named, and the dump answered nothing.
  using ns = new Netns(["link add va0 type veth peer name vb0"]);
  await using rt = await family(rtLink, { netns: ns.name });
  const untyped = rt as unknown as {
    dump(op: string, request: object): Promise<unknown>;
    dumpStream(op: string, request: object): AsyncIterable<unknown>;
  };
  const noDump = (op: string) =>
    new RegExp(
      `^TypeError: rt-link operation "${op}" has no dump \\(nor a do with a reply\\): use do\\(\\)$`,
    );
  for (const op of ["setlink", "newlink", "dellink"]) {
    await assert.rejects(untyped.dump(op, { ifname: "va0", mtu: 1280 }), noDump(op));
    await assert.rejects(
      (async () => {
        for await (const _ of untyped.dumpStream(op, { ifname: "va0", mtu: 1280 })) break;
      })(),
      noDump(op),
    );
  }
  assert.equal(ns.json("link", "show", "va0")[0].mtu, 1500);
  assert.ok((await rt.dump("getlink")).some((link) => link.ifname === "va0"));
});

test("rt-link: do() refuses NLM_F_DUMP's bits on an operation that dumps, and flags that are no u16, sending nothing", async () => {
  // The kernel answers a getlink with either bit set with a dump of every link: do() returned
  // its first reply, lo, for a request that named vb0.
  using ns = new Netns(["link add va0 type veth peer name vb0"]);
  await using rt = await family(rtLink, { netns: ns.name });
  for (const flags of [NLM_F_DUMP, NLM_F_ROOT, NLM_F_MATCH]) {
    await assert.rejects(
      rt.do("getlink", { ifname: "vb0" }, { flags }),
      new RegExp(
        `^TypeError: rt-link operation "getlink": flags 0x${flags.toString(16)} ask the kernel `
          + "for a dump \\(NLM_F_DUMP's bits\\), of which do\\(\\) would return the first reply",
      ),
    );
  }
  // dump() added NLM_F_DUMP to what it was given: NaN and "1" became NLM_F_DUMP alone.
  const bad = [NaN, "1", 1.5, -1, 0x10000] as unknown as number[];
  for (const flags of bad) {
    const kind = Number.isInteger(flags) ? "RangeError" : "TypeError"; // the one rule
    const message = new RegExp(`^${kind}: operation options: flags must be a u16 `);
    await assert.rejects(rt.dump("getlink", {}, { flags }), message);
    await assert.rejects(rt.do("getlink", { ifname: "vb0" }, { flags }), message);
  }
  // Not a dump's bits: a write's NLM_F_EXCL (NLM_F_MATCH's bit) is a write's.
  await assert.rejects(
    rt.do("newlink", { ifname: "va0", linkinfo: { kind: "veth" } }, { flags: CREATE }),
    /EEXIST/,
  );
  assert.equal((await rt.do("getlink", { ifname: "vb0" }))?.ifname, "vb0");
  // monitor() names a signal that is not one, rather than failing inside.
  assert.throws(
    () => rt.monitor({ signal: 5 as unknown as AbortSignal }),
    /^TypeError: monitor\(\) options: signal must be an AbortSignal, got 5$/,
  );
});

interface IpAddr {
  ifindex: number;
  addr_info: { family: string; local: string; prefixlen: number; label?: string }[];
}

test("rt-addr: getaddr dump equals `ip -j addr show`; newaddr and deladdr", async () => {
  using ns = new Netns();
  withVeth(ns);
  ns.ip("addr", "add", "198.51.100.1/24", "dev", "va0");
  ns.ip("addr", "add", "2001:db8::1/64", "dev", "vb0", "nodad");
  await using rt = await family(rtAddr, { netns: ns.name });
  await rt.do("newaddr", {
    ifaFamily: AF_INET,
    ifaPrefixlen: 28,
    ifaIndex: Number(ns.json<IpLink[]>("link", "show", "va0")[0].ifindex),
    local: ipv4("203.0.113.7"),
    address: ipv4("203.0.113.7"),
    label: "va0:typed",
  }, { flags: CREATE });

  const got = (await rt.dump("getaddr")).map((a) =>
    [
      a.ifaIndex,
      a.ifaFamily === AF_INET ? "inet" : "inet6",
      a.local ?? a.address,
      a.ifaPrefixlen,
    ]
      .join(" ")
  );
  const want = ns.json<IpAddr[]>("addr", "show").flatMap((link) =>
    link.addr_info.map((a) => [link.ifindex, a.family, a.local, a.prefixlen].join(" "))
  );
  assert.deepEqual(got.sort(), want.sort());
  assert.ok(
    got.includes(`${ns.json<IpLink[]>("link", "show", "va0")[0].ifindex} inet 203.0.113.7 28`),
  );
  const labelled = (await rt.dump("getaddr")).find((a) => a.label === "va0:typed");
  assert.equal(labelled?.cacheinfo?.ifaValid, 0xffff_ffff); // a struct in a binary attribute

  await rt.do("deladdr", {
    ifaFamily: AF_INET,
    ifaPrefixlen: 28,
    ifaIndex: labelled!.ifaIndex,
    local: ipv4("203.0.113.7"),
  });
  assert.ok(!ns.ip("addr", "show").includes("203.0.113.7"));
});

interface IpRoute {
  type?: string;
  dst: string;
  table?: string;
  dev?: string;
  protocol?: string;
}

test("rt-route: getroute dump equals `ip -j route show table all`; newroute, delroute", async () => {
  using ns = new Netns();
  withVeth(ns);
  ns.ip("addr", "add", "198.51.100.1/24", "dev", "va0");
  ns.ip("route", "add", "192.0.2.0/25", "dev", "va0", "table", "100");
  ns.ip("-6", "route", "add", "2001:db8:1::/48", "dev", "vb0");
  await using rt = await family(rtRoute, { netns: ns.name });
  const vaIndex = ns.json<IpLink[]>("link", "show", "va0")[0].ifindex;
  await rt.do("newroute", {
    rtmFamily: AF_INET,
    rtmDstLen: 24,
    rtmTable: 254,
    rtmProtocol: 4, // RTPROT_STATIC
    rtmScope: 253, // RT_SCOPE_LINK
    rtmType: "unicast",
    dst: ipv4("203.0.113.0"),
    oif: vaIndex,
    priority: 42,
  }, { flags: CREATE });

  const names = new Map<number, string>(
    ns.json<{ ifindex: number; ifname: string }[]>("link", "show").map((
      l,
    ) => [l.ifindex, l.ifname]),
  );
  const tables: Record<number, string> = { 254: "main", 255: "local" };
  const describeRoute = (
    family: number,
    route: Awaited<ReturnType<typeof rt.dump<"getroute">>>[0],
  ) => {
    const full = family === AF_INET ? 32 : 128;
    const dst = route.rtmDstLen === 0
      ? "default"
      : route.dst! + (route.rtmDstLen === full ? "" : `/${route.rtmDstLen}`);
    const table = route.table ?? route.rtmTable;
    return [route.rtmType, dst, tables[table] ?? String(table), names.get(route.oif!)].join(" ");
  };
  for (const [familyNumber, flag] of [[AF_INET, "-4"], [AF_INET6, "-6"]] as const) {
    const got = (await rt.dump("getroute", { rtmFamily: familyNumber })).map((r) =>
      describeRoute(familyNumber, r)
    );
    const want = ns.json<IpRoute[]>(flag, "route", "show", "table", "all").map((r) =>
      [r.type ?? "unicast", r.dst, r.table ?? "main", r.dev].join(" ")
    );
    assert.deepEqual(got.sort(), want.sort());
  }
  const [added] = ns.json<(IpRoute & { metric: number })[]>("route", "show", "203.0.113.0/24");
  assert.equal(added.metric, 42);
  assert.equal(added.protocol, "static");

  await rt.do("delroute", {
    rtmFamily: AF_INET,
    rtmDstLen: 24,
    rtmTable: 254,
    rtmScope: 255, // RT_SCOPE_NOWHERE: any scope, as `ip route del` asks
    dst: ipv4("203.0.113.0"),
  });
  assert.deepEqual(ns.json("route", "show", "203.0.113.0/24"), []);
});

interface IpNeigh {
  dst: string;
  dev: string;
  lladdr?: string;
  state: string[];
}

test("rt-neigh: getneigh dump equals `ip -j neigh show`; newneigh", async () => {
  using ns = new Netns();
  withVeth(ns);
  ns.ip("addr", "add", "198.51.100.1/24", "dev", "va0");
  ns.ip(
    "neigh",
    "add",
    "198.51.100.9",
    "lladdr",
    "02:00:00:00:00:09",
    "dev",
    "va0",
    "nud",
    "permanent",
  );
  await using rt = await family(rtNeigh, { netns: ns.name });
  const vaIndex = ns.json<IpLink[]>("link", "show", "va0")[0].ifindex;
  await rt.do("newneigh", {
    ndmFamily: AF_INET,
    ndmIfindex: vaIndex,
    ndmState: "permanent", // a flag of nud-state by name (the mask 0x80 would do too)
    dst: "198.51.100.10", // text, as the display hints say (bytes are taken too)
    lladdr: "02:00:00:00:00:0a",
  }, { flags: CREATE });

  const names = new Map<number, string>(
    ns.json<{ ifindex: number; ifname: string }[]>("link", "show").map((
      l,
    ) => [l.ifindex, l.ifname]),
  );
  const got = (await rt.dump("getneigh", { ndmFamily: AF_INET })).map((n) =>
    [n.dst, names.get(n.ndmIfindex), n.lladdr ?? "-"].join(" ")
  );
  const want = ns.json<IpNeigh[]>("-4", "neigh", "show").map((n) =>
    [n.dst, n.dev, n.lladdr ?? "-"].join(" ")
  );
  assert.deepEqual(got.sort(), want.sort());
  const added = (await rt.dump("getneigh", { ndmFamily: AF_INET }))
    .find((n) => n.dst === "198.51.100.10")!;
  assert.equal(added.ndmState, rtNeigh.enums["nud-state"].entries.permanent);
  assert.ok(got.includes("198.51.100.10 va0 02:00:00:00:00:0a"));
});

interface IpRule {
  priority: number;
  src: string;
  srclen?: number;
  table: string;
}

test("rt-rule: getrule dump equals `ip -j rule show`; newrule, delrule", async () => {
  using ns = new Netns();
  await using rt = await family(rtRule, { netns: ns.name });
  await rt.do("newrule", {
    family: AF_INET,
    srcLen: 16,
    action: "to-tbl",
    table: 100,
    priority: 1000,
    // FRA_SRC is an address (scripts/ynl_corrections.ts; the spec calls it a u32), as text.
    src: "10.9.0.0",
  }, { flags: CREATE });
  const tables: Record<number, string> = { 253: "default", 254: "main", 255: "local" };
  const got = (await rt.dump("getrule", { family: AF_INET })).map((r) => {
    const src = r.src === undefined
      ? "all"
      : `${r.src}/${r.srcLen}`;
    return [r.priority ?? 0, src, tables[r.table!] ?? String(r.table)].join(" ");
  });
  const want = ns.json<IpRule[]>("-4", "rule", "show").map((r) =>
    [r.priority, r.src === "all" ? "all" : `${r.src}/${r.srclen}`, r.table].join(" ")
  );
  assert.deepEqual(got.sort(), want.sort());
  assert.ok(got.includes("1000 10.9.0.0/16 100"));
  // fib_rule_hdr's table and FRA_TABLE side by side: the header member becomes headerTable,
  // as the README says (the header's u8 holds the table while it fits).
  const added = (await rt.dump("getrule", { family: AF_INET })).find((r) => r.priority === 1000)!;
  assert.equal(added.table, 100);
  assert.equal(added.headerTable, 100);

  await rt.do("delrule", { family: AF_INET, priority: 1000, table: 100 });
  assert.ok(!ns.ip("rule", "show").includes("10.9.0.0"));
});
