// Every write of the everyday API, read back with `ip` in a fresh namespace.

import assert from "node:assert/strict";
import { closeSync, openSync } from "node:fs";
import { test } from "node:test";
import { NetlinkError, SocketClosedError } from "../../src/errors.ts";
import { openRoute, TrafficControl } from "../../src/route/mod.ts";
import { Netns } from "../host/_netns.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

test("link.add: a veth pair named, its peer too; bridge, vxlan, macvlan with options", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  await ip.link.add({
    name: "a0",
    kind: "veth",
    peer: { name: "a1", mtu: 1300, address: "02:00:00:00:00:a1" },
  });
  await ip.link.add({
    name: "br0",
    kind: "bridge",
    up: true,
    data: { stpState: 1, priority: 0x1000 },
  });
  // A vxlan's underlying link by name, as ip takes it ("dev a0").
  await ip.link.add({
    name: "vx0",
    kind: "vxlan",
    data: { id: 77, port: 4789, group: "239.0.0.7", link: "a0", df: "inherit" },
  });
  await ip.link.add({ name: "mv0", kind: "macvlan", link: "a0", data: { mode: "bridge" } });
  const show = (name: string) => ns.json<Json[]>("-d", "link", "show", name)[0];
  const a1 = show("a1");
  assert.equal(a1.link, "a0");
  assert.equal(a1.mtu, 1300);
  assert.equal(a1.address, "02:00:00:00:00:a1");
  const br = show("br0").linkinfo.info_data;
  assert.equal(br.stp_state, 1);
  assert.equal(br.priority, 0x1000);
  assert.ok(show("br0").flags.includes("UP"));
  const vx = show("vx0").linkinfo.info_data;
  assert.deepEqual(
    [vx.id, vx.port, vx.group, vx.link, vx.df],
    [77, 4789, "239.0.0.7", "a0", "inherit"],
  );
  // A mode's name is checked before any request; its number is taken too.
  await assert.rejects(
    // @ts-expect-error an unknown mode is a compile error too (data is typed by kind)
    ip.link.add({ name: "vx1", kind: "vxlan", data: { id: 78, df: "sometimes" } }),
    TypeError,
  );
  await ip.link.set("vx0", { data: { df: 1 } });
  assert.equal(show("vx0").linkinfo.info_data.df, "set");
  assert.equal(show("mv0").linkinfo.info_data.mode, "bridge");
  assert.equal(show("mv0").link, "a0");
  await assert.rejects(ip.link.add({ name: "a0", kind: "veth" }), (err: unknown) => {
    assert.ok(err instanceof NetlinkError);
    assert.equal(err.code, "EEXIST");
    return true;
  });
});

test("link.add vxlan: an IPv6 group or local is sent as group6 / local6, as ip sends it", async () => {
  using ns = new Netns(["link add a0 type veth peer name a1"]);
  await using ip = await openRoute({ netns: ns.name });
  // IFLA_VXLAN_GROUP takes 4 bytes: sent there, ff05::7 became the IPv4 group 255.5.0.0.
  await ip.link.add({ name: "vx0", kind: "vxlan", data: { id: 7, group: "ff05::7", link: "a0" } });
  await ip.link.add({ name: "vx1", kind: "vxlan", data: { id: 8, local: "2001:db8::1" } });
  const show = (name: string) => ns.json<Json[]>("-d", "link", "show", name)[0].linkinfo.info_data;
  assert.equal(show("vx0").group6, "ff05::7");
  assert.equal(show("vx1").local6, "2001:db8::1");
  // Read back as ip -j shows it: under group6.
  const data = (await ip.link.get("vx0")).data as Record<string, unknown>;
  assert.deepEqual([data.group, data.group6], [undefined, "ff05::7"]);
  await assert.rejects(
    ip.link.add({ name: "vx2", kind: "vxlan", data: { id: 9, group6: "239.0.0.9" } }),
    /^TypeError: data.group6: "239.0.0.9" is not an IPv6 address/,
  );
  await assert.rejects(
    ip.link.add({
      name: "vx2",
      kind: "vxlan",
      data: { id: 9, group: "ff05::9", group6: "ff05::8" },
    }),
    /^TypeError: data: group and group6 are both given: a group is IPv4 \(group\) or IPv6 \(group6\), one of them$/,
  );
  // An IPv4 group and an IPv6 one: the kernel kept the first and dropped the other unsaid (ip
  // takes one group).
  await assert.rejects(
    ip.link.add({
      name: "vx2",
      kind: "vxlan",
      data: { id: 9, group: "239.0.0.9", group6: "ff05::8", link: "a0" },
    }),
    /^TypeError: data: group and group6 are both given: /,
  );
  await assert.rejects(
    ip.link.set("vx0", { data: { local: "10.0.0.1", local6: "2001:db8::1" } }),
    /^TypeError: data: local and local6 are both given: /,
  );
  assert.equal(ns.json("link", "show").some((l) => l.ifname === "vx2"), false);
});

test("link.add/set vxlan: a flow label is 20 bits, the largest taken, a larger refused as ip refuses it", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  const label = (name: string) =>
    ns.json<Json[]>("-d", "link", "show", name)[0].linkinfo.info_data.label;
  // A label is for an IPv6 vxlan (the kernel says so of a non-zero one on an IPv4 vxlan).
  const v6 = { port: 4789, local: "2001:db8::1" };
  await ip.link.add({ name: "vx0", kind: "vxlan", data: { id: 7, ...v6, label: 0xfffff } });
  assert.equal(label("vx0"), "0xfffff");
  const vx0 = await ip.link.get("vx0");
  assert.ok(vx0.kind === "vxlan");
  assert.equal(vx0.data?.label, 0xfffff);
  // The kernel masks IFLA_VXLAN_LABEL to 20 bits: 0x100000 was acked and became 0 (no label).
  const message = "data.label: 1048576 is not an integer from 0 to 1048575";
  await assert.rejects(
    ip.link.add({ name: "vx1", kind: "vxlan", data: { id: 8, ...v6, label: 0x100000 } }),
    { name: "RangeError", message },
  );
  assert.equal(ns.json("link", "show").some((l) => l.ifname === "vx1"), false);
  await assert.rejects(ip.link.set("vx0", { data: { label: 0x100000 } }), {
    name: "RangeError",
    message,
  });
  assert.equal(label("vx0"), "0xfffff");
});

test("link.set: up/down, mtu, name, address, alias, txqlen, master and nomaster, port options", async () => {
  using ns = new Netns();
  ns.ipBatch(["link add a0 type veth peer name a1", "link add br0 type bridge"]);
  await using ip = await openRoute({ netns: ns.name });
  const show = (name: string) => ns.json<Json[]>("-d", "link", "show", name)[0];
  await ip.link.set("a0", {
    up: true,
    mtu: 1280,
    address: "02:00:00:00:00:01",
    alias: "to the left",
    txqlen: 77,
  });
  let a0 = show("a0");
  assert.ok(a0.flags.includes("UP"));
  assert.deepEqual([a0.mtu, a0.address, a0.ifalias, a0.txqlen], [
    1280,
    "02:00:00:00:00:01",
    "to the left",
    77,
  ]);
  await ip.link.set("a0", { name: "left" });
  assert.equal(show("left").ifindex, a0.ifindex);
  await ip.link.set(a0.ifindex, { up: false });
  assert.ok(!show("left").flags.includes("UP"));
  await ip.link.set("left", { master: "br0" });
  a0 = show("left");
  assert.equal(a0.master, "br0");
  await ip.link.set("left", { portData: { learning: false, isolated: true, cost: 42 } });
  let port = show("left").linkinfo.info_slave_data;
  assert.deepEqual([port.learning, port.isolated, port.cost], [false, true, 42]);
  await ip.link.set("left", { portData: { learning: true } });
  port = show("left").linkinfo.info_slave_data;
  assert.equal(port.learning, true);
  await ip.link.set("br0", { data: { priority: 0x2000 } });
  assert.equal(show("br0").linkinfo.info_data.priority, 0x2000);
  await ip.link.set("left", { master: null });
  assert.equal(show("left").master, undefined);
  await ip.link.delete("left");
  assert.throws(() => ns.ip("link", "show", "a1"));
});

test("link.set: promisc, allmulticast, multicast and arp as ip link set's flags; link.add() takes them; read back as ip -j shows them", async () => {
  using ns = new Netns();
  ns.ipBatch(["link add a0 type veth peer name a1"]);
  await using ip = await openRoute({ netns: ns.name });
  const flags = (name: string) => ns.json<Json[]>("link", "show", name)[0].flags as string[];
  const has = (name: string) =>
    ["PROMISC", "ALLMULTI", "MULTICAST", "NOARP"].map((f) => flags(name).includes(f));
  assert.deepEqual(has("a0"), [false, false, true, false]);
  await ip.link.set("a0", { promisc: true, allmulticast: true, multicast: false, arp: false });
  assert.deepEqual(has("a0"), [true, true, false, true]);
  const link = await ip.link.get("a0");
  assert.ok(link.flags.includes("PROMISC") && link.flags.includes("NOARP"));
  assert.equal(link.promiscuity, 1);
  // One flag changes that one alone; up is untouched.
  await ip.link.set("a0", { up: true });
  await ip.link.set("a0", { promisc: false });
  assert.deepEqual(has("a0"), [false, true, false, true]);
  assert.ok(flags("a0").includes("UP"));
  await ip.link.set("a0", { allmulticast: false, multicast: true, arp: true });
  assert.deepEqual(has("a0"), [false, false, true, false]);
  await ip.link.add({ name: "b0", kind: "veth", peer: { name: "b1" }, promisc: true, arp: false });
  assert.deepEqual(has("b0"), [true, false, true, true]);
  await assert.rejects(
    ip.link.set("a0", { promisc: "on" as never }),
    /^TypeError: .*promisc must be a boolean/,
  );
  await assert.rejects(
    ip.link.set("a0", { promiscuous: true } as never),
    /unknown option "promiscuous" \(did you mean "promisc"\?\)/,
  );
});

test("link.set({ addrGenMode }) is ip's `addrgenmode`: read back as ip -d -j shows it; not add(); a wrong mode refused before any request", async () => {
  using ns = new Netns(["link add a0 type veth peer name a1"]);
  await using ip = await openRoute({ netns: ns.name });
  const mode = (name: string) => ns.json<Json[]>("-d", "link", "show", name)[0].inet6_addr_gen_mode;
  assert.equal(mode("a0"), "eui64");
  for (const addrGenMode of ["none", "random", "eui64"] as const) {
    await ip.link.set("a0", { addrGenMode });
    assert.equal(mode("a0"), addrGenMode);
    assert.equal((await ip.link.get("a0")).addrGenMode, addrGenMode);
  }
  // Not on add(): the kernel refuses it on a link being made (EAFNOSUPPORT), as ip has no
  // `ip link add ... addrgenmode`.
  await assert.rejects(
    // @ts-expect-error: NewLink has no addrGenMode
    ip.link.add({ name: "br0", kind: "bridge", addrGenMode: "none" }),
    /TypeError: link.add\(\) spec: unknown option "addrGenMode"/,
  );
  assert.ok(!ns.json<Json[]>("link", "show").some((l: Json) => l.ifname === "br0"));
  await assert.rejects(
    ip.link.set("nosuch0", { addrGenMode: "eui-64" as never }),
    /TypeError: settings.addrGenMode: "eui-64" is not an IPv6 address generation mode: one of "eui64", "none", "stable_secret", "random"/,
  );
  // The kernel's answer to stable_secret without a secret.
  await assert.rejects(ip.link.set("a0", { addrGenMode: "stable_secret" }), /EINVAL/);
  assert.equal(mode("a0"), "eui64");
});

test("link.set and link.add refuse a count the kernel keeps, naming it, before any change: what get() read of it is no option", async () => {
  // The kernel refuses each in a change (EINVAL: IFLA_BR_FDB_N_LEARNED and
  // IFLA_BRPORT_MCAST_N_GROUPS are NLA_REJECT, IFLA_BRPORT_MCAST_EHT_HOSTS_CNT has no policy).
  using ns = new Netns();
  ns.ipBatch([
    "link add a0 type veth peer name a1",
    "link add br0 type bridge",
    "link set a0 master br0",
  ]);
  await using ip = await openRoute({ netns: ns.name });
  const br = await ip.link.get("br0");
  assert.ok(br.kind === "bridge");
  assert.equal(typeof br.data!.fdbNLearned, "number");
  await assert.rejects(
    ip.link.set("br0", { data: { fdbNLearned: br.data!.fdbNLearned } }),
    /^TypeError: data\.fdbNLearned: read-only, a count the kernel keeps and refuses in a change: leave it out$/,
  );
  await assert.rejects(
    // @ts-expect-error a read-only count is a compile error too (NewLinkData leaves it out)
    ip.link.add({ name: "br1", kind: "bridge", data: { fdbNLearned: 0 } }),
    /^TypeError: data\.fdbNLearned: read-only/,
  );
  const port = await ip.link.get("a0");
  assert.ok(port.portKind === "bridge");
  for (const key of ["mcastNGroups", "mcastEhtHostsCnt"] as const) {
    assert.equal(typeof port.portData![key], "number", key);
    await assert.rejects(
      ip.link.set("a0", { portData: { [key]: port.portData![key] } }),
      new RegExp(`^TypeError: portData\\.${key}: read-only`),
    );
  }
  // What can be written is written as read.
  await ip.link.set("br0", {
    data: { ageingTime: br.data!.ageingTime, groupAddr: br.data!.groupAddr },
  });
  await ip.link.set("a0", {
    portData: { cost: port.portData!.cost, learning: port.portData!.learning },
  });
});

test("portData is typed by the master's kind and checked before any request: add() sets it as the link joins, a misspelt key is a compile error and a TypeError", async () => {
  using ns = new Netns(["link add br0 type bridge", "link add a0 type veth peer name a1"]);
  await using ip = await openRoute({ netns: ns.name });
  const portData = (name: string) =>
    ns.json<Json[]>("-d", "link", "show", name)[0].linkinfo.info_slave_data;
  // Made a port with its options, in one call (the kernel takes them in a second request).
  await ip.link.add({
    name: "b0",
    kind: "veth",
    peer: { name: "b1" },
    master: "br0",
    portData: { learning: false, cost: 77, mode: true },
  });
  assert.equal(portData("b0").learning, false);
  assert.equal(portData("b0").cost, 77);
  assert.equal(portData("b0").hairpin, true);
  await ip.link.set("a0", { master: "br0" });
  await ip.link.set<string, "bridge">("a0", { portData: { unicastFlood: false } });
  assert.equal(portData("a0").flood, false);
  // A misspelt key: a compile error, and a TypeError before any request (the link named is
  // not even looked up: there is none).
  await assert.rejects(
    // @ts-expect-error no bridge or bond port has "lerning"
    ip.link.set("nosuch0", { portData: { lerning: false } }),
    /^TypeError: link.set\(\) portData: unknown option "lerning" \(did you mean "learning"\?\)/,
  );
  await assert.rejects(
    // @ts-expect-error likewise on add()
    ip.link.add({ name: "c0", kind: "veth", master: "br0", portData: { cots: 5 } }),
    /^TypeError: link.add\(\) portData: unknown option "cots" \(did you mean "cost"\?\)/,
  );
  // Told the master's kind, only its ports' options compile (not run: a0's master is a bridge).
  void (() =>
    // @ts-expect-error a bond port has no learning option
    ip.link.set<string, "bond">("a0", { portData: { learning: false } }));
  // A bond port's option on a bridge port compiles (no kind told) but is refused once the
  // link's master is looked up, before any change.
  await assert.rejects(
    ip.link.set("a0", { portData: { queueId: 1 } }),
    /^TypeError: attribute set linkinfo-brport-attrs has no attribute "queueId"/,
  );
  // Port options need a master to join.
  await assert.rejects(
    ip.link.add({ name: "c0", kind: "veth", portData: { cost: 5 } }),
    /^TypeError: portData: port options need a master/,
  );
  // Options the kernel refuses once the link is made (a group forward mask with the MAC pause
  // bit, BR_GROUPFWD_MACPAUSE: EINVAL): the link goes too.
  await assert.rejects(
    ip.link.add({
      name: "c0",
      kind: "veth",
      peer: { name: "c1" },
      master: "br0",
      portData: { groupFwdMask: 2 },
    }),
    /EINVAL/,
  );
  const names = ns.json<Json[]>("link", "show").map((l: Json) => l.ifname);
  assert.ok(!names.includes("c0") && !names.includes("c1"), names.join(" "));
});

test("link.add({ portData }) with the client closed after the link is made: the SocketClosedError says the link is left, without its port options", async () => {
  using ns = new Netns(["link add br0 type bridge"]);
  const ip = await openRoute({ netns: ns.name });
  // Closed as the second request (the port options) starts: no delete can follow.
  const set = ip.link.set.bind(ip.link);
  ip.link.set = ((...args: Parameters<typeof set>) => {
    ip.close();
    return set(...args);
  }) as typeof set;
  await assert.rejects(
    ip.link.add({
      name: "d0",
      kind: "veth",
      peer: { name: "d1" },
      master: "br0",
      portData: { cost: 9 },
    }),
    (e: unknown) =>
      e instanceof SocketClosedError
      && /after link d0 was made, before its port options were set: the link is left/.test(
        e.message,
      ),
  );
  const d0 = ns.json<Json[]>("-d", "link", "show", "d0")[0];
  assert.notEqual(d0.linkinfo.info_slave_data.cost, 9);
});

test("link.set({ netns: { pid } }) and ({ netns: { fd } }) move a link; a veth peer is created in another namespace", async () => {
  using ns = new Netns();
  using other = new Netns();
  // A process in the other namespace, whose pid names it.
  using sleeper = await other.process();
  const pid = sleeper.pid;
  await using ip = await openRoute({ netns: ns.name });
  await ip.link.add({ name: "m0", kind: "veth", peer: { name: "m1", netns: { pid } } });
  assert.equal(other.json<Json[]>("link", "show", "m1")[0].ifname, "m1");
  await ip.link.set("m0", { netns: { pid } });
  assert.equal(other.json<Json[]>("link", "show", "m0")[0].ifname, "m0");
  assert.throws(() => ns.ip("link", "show", "m0"));
  // And by an open file descriptor of a namespace (here /run/netns/NAME, opened by node:fs).
  await ip.link.add({ name: "f0", kind: "veth", peer: { name: "f1" } });
  const fd = openSync(`/run/netns/${other.name}`, "r");
  try {
    await ip.link.set("f0", { netns: { fd } });
  } finally {
    closeSync(fd);
  }
  assert.equal(other.json<Json[]>("link", "show", "f0")[0].ifname, "f0");
});

test("addr.add / delete / flush, read back with ip: lifetimes, labels, peer, broadcast, flags", async () => {
  using ns = new Netns();
  ns.ipBatch(["link add a0 type veth peer name a1", "link set a0 up"]);
  await using ip = await openRoute({ netns: ns.name });
  await ip.addr.add("a0", "10.0.0.1/24", {
    broadcast: "+",
    label: "a0:x",
    validLifetime: 600,
    preferredLifetime: 60,
  });
  await ip.addr.add("a0", "10.2.0.1/32", { peer: "10.2.0.2" });
  await ip.addr.add("a0", "2001:db8::1/64", { flags: ["nodad", "noprefixroute"] });
  await ip.addr.add("lo", "127.0.0.2/8");
  // A valid lifetime alone: preferred as long (ip, which defaults it to forever, would refuse).
  await ip.addr.add("a1", "10.5.0.1/24", { validLifetime: 300 });
  const [timed] = ns.json<Json[]>("address", "show", "to", "10.5.0.1/32")[0].addr_info as Json[];
  assert.ok(timed.valid_life_time <= 300 && timed.valid_life_time > 290, JSON.stringify(timed));
  assert.equal(timed.preferred_life_time, timed.valid_life_time);
  const info = (dev: string) =>
    ns.json<Json[]>("address", "show", "dev", dev)[0].addr_info as Json[];
  const a = info("a0");
  const v4 = a.find((x) => x.local === "10.0.0.1");
  assert.deepEqual(
    [v4.prefixlen, v4.broadcast, v4.label, v4.valid_life_time, v4.preferred_life_time],
    [24, "10.0.0.255", "a0:x", 600, 60],
  );
  assert.equal(a.find((x) => x.local === "10.2.0.1").address, "10.2.0.2");
  const v6 = a.find((x) => x.local === "2001:db8::1");
  assert.deepEqual([v6.nodad, v6.noprefixroute], [true, true]);
  // "brd +" as ip computes it: none for /31 (RFC 3021) and /32, no host part to fill.
  ns.ipBatch(["addr add 10.3.0.0/31 brd + dev a1", "addr add 10.4.0.1/32 brd + dev a1"]);
  await ip.addr.add("a1", "10.3.0.2/31", { broadcast: "+" });
  await ip.addr.add("a1", "10.4.0.2/32", { broadcast: "+" });
  const a1 = info("a1");
  for (const [theirs, ours] of [["10.3.0.0", "10.3.0.2"], ["10.4.0.1", "10.4.0.2"]]) {
    const broadcast = (local: string) => a1.find((x) => x.local === local).broadcast;
    assert.equal(broadcast(ours), broadcast(theirs), ours);
  }
  // The scope ip picks: host for 127.0.0.0/8.
  assert.equal(info("lo").find((x) => x.local === "127.0.0.2").scope, "host");
  await assert.rejects(ip.addr.add("a0", "10.0.0.1/24"), /EEXIST/);
  await ip.addr.add("a0", "10.0.0.1/24", {
    replace: true,
    validLifetime: 9000,
    preferredLifetime: 900,
  });
  const replaced = info("a0").find((x) => x.local === "10.0.0.1");
  assert.ok(
    replaced.valid_life_time > 8000 && replaced.preferred_life_time > 800,
    JSON.stringify(replaced),
  );
  await ip.addr.delete("a0", "10.2.0.1/32", { peer: "10.2.0.2" });
  assert.equal(info("a0").find((x) => x.local === "10.2.0.1"), undefined);
  await ip.addr.add("a0", "10.0.0.2/24"); // a secondary: goes with its primary
  const removed = await ip.addr.flush({ dev: "a0", family: "inet" });
  assert.equal(removed, 2);
  assert.deepEqual(info("a0").filter((x) => x.family === "inet"), []);
  assert.ok(info("a0").some((x) => x.local === "2001:db8::1"));
});

test("addr.add() of an address without a prefix length adds a host address (/32, /128), as ip does", async () => {
  using ns = new Netns();
  ns.ipBatch([
    "link add h0 type veth peer name h1",
    "addr add 10.7.0.1 dev h1",
    "addr add 2001:db8:7::1 dev h1 nodad",
  ]);
  await using ip = await openRoute({ netns: ns.name });
  await ip.addr.add("h0", "10.7.0.2");
  await ip.addr.add("h0", "2001:db8:7::2", { flags: ["nodad"] });
  const info = (dev: string) =>
    (ns.json<Json[]>("address", "show", "dev", dev)[0].addr_info as Json[])
      .filter((x) => x.scope === "global")
      .map((x) => [x.family, x.prefixlen]);
  assert.deepEqual(info("h0"), [["inet", 32], ["inet6", 128]]);
  assert.deepEqual(info("h0"), info("h1"));
});

test("an address that lives forever is 4294967295 in JSON, as ip -j prints it (not null), and add() takes that back as forever", async () => {
  using ns = new Netns(["link add f0 type veth peer name f1", "addr add 10.8.0.1/24 dev f0"]);
  await using ip = await openRoute({ netns: ns.name });
  const [ours] = await ip.addr.list({ dev: "f0", family: "inet" });
  assert.equal(ours.validLifetime, Infinity); // the value itself stays Infinity
  const json = JSON.parse(JSON.stringify(ours));
  const [theirs] = ns.json<Json[]>("address", "show", "dev", "f0")[0].addr_info as Json[];
  assert.deepEqual(
    [json.validLifetime, json.preferredLifetime],
    [theirs.valid_life_time, theirs.preferred_life_time],
  );
  assert.equal(json.validLifetime, 4294967295);
  // A saved list replayed: the JSON's 4294967295 is forever, as ip reads `valid_lft 4294967295`.
  await ip.addr.add("f1", "10.8.0.2/24", {
    validLifetime: json.validLifetime,
    preferredLifetime: json.preferredLifetime,
  });
  const [added] = ns.json<Json[]>("address", "show", "dev", "f1")[0].addr_info as Json[];
  assert.deepEqual([added.valid_life_time, added.preferred_life_time], [4294967295, 4294967295]);
  const [back] = await ip.addr.list({ dev: "f1", family: "inet" });
  assert.equal(back.validLifetime, Infinity);
  // A finite lifetime is itself in JSON; beyond 2^32-1 is refused.
  await ip.addr.add("f1", "10.8.1.2/24", { validLifetime: 300 });
  const timed = (await ip.addr.list({ dev: "f1" })).find((a) => a.address === "10.8.1.2")!;
  assert.ok(JSON.parse(JSON.stringify(timed)).validLifetime <= 300);
  await assert.rejects(
    ip.addr.add("f1", "10.8.2.2/24", { validLifetime: 4294967296 }),
    /validLifetime: 4294967296 is not a number of seconds/,
  );
});

test("addr.add({ metric }) is ip's `metric`: the same object as ip makes, read back as ip -j shows it; replace moves it", async () => {
  using ns = new Netns();
  ns.ipBatch(["link add a0 type veth peer name a1", "link set a0 up", "link set a1 up"]);
  await using ip = await openRoute({ netns: ns.name });
  const ipJson = (local: string) =>
    (ns.json<Json[]>("address", "show", "dev", "a0")[0].addr_info as Json[])
      .find((x) => x.local === local);
  const listed = async (local: string) =>
    (await ip.addr.list({ dev: "a0" })).find((a) => a.address === local)!;
  const routeMetric = (dst: string) => ns.json<Json[]>("route", "show", dst)[0]?.metric;
  // The same address made by ip, then by us: ip -j shows the same.
  for (
    const [prefix, local] of [["10.6.0.1/24", "10.6.0.1"], ["2001:db8:6::1/64", "2001:db8:6::1"]]
  ) {
    ns.ip("addr", "add", prefix, "dev", "a0", "metric", "50", "nodad");
    const byIp = ipJson(local);
    ns.ip("addr", "del", prefix, "dev", "a0");
    await ip.addr.add("a0", prefix, { metric: 50, flags: ["nodad"] });
    assert.deepEqual(ipJson(local), byIp, prefix);
    assert.equal(byIp.metric, 50, prefix);
    assert.equal((await listed(local)).metric, 50, prefix);
  }
  assert.equal(routeMetric("10.6.0.0/24"), 50);
  // Replaced with another metric: the address and its prefix route move to it.
  await ip.addr.add("a0", "10.6.0.1/24", { metric: 70, replace: true });
  assert.equal(ipJson("10.6.0.1").metric, 70);
  assert.equal((await listed("10.6.0.1")).metric, 70);
  assert.equal(routeMetric("10.6.0.0/24"), 70);
  // None given, or 0: none shown, by ip -j or us.
  await ip.addr.add("a0", "10.7.0.1/24");
  await ip.addr.add("a0", "10.9.0.1/24", { metric: 0 });
  for (const local of ["10.7.0.1", "10.9.0.1"]) {
    assert.equal("metric" in ipJson(local), false, local);
    assert.equal("metric" in await listed(local), false, local);
  }
  // Bad values are refused before any request.
  // An integer out of range is a RangeError, what is no integer a TypeError.
  const bad = [[-1, "Range"], [2 ** 32, "Range"], [1.5, "Type"], ["50", "Type"]] as const;
  for (const [metric, error] of bad) {
    await assert.rejects(
      ip.addr.add("a0", "10.8.0.1/24", { metric: metric as number }),
      new RegExp(`^${error}Error: metric: .* is not an integer from 0 to 4294967295`),
    );
  }
});

test("route.add / replace / delete, multipath and blackhole, read back with ip; ip's defaults", async () => {
  using ns = new Netns();
  ns.ipBatch([
    "link add a0 type veth peer name a1",
    "link set a0 up",
    "link set a1 up",
    "addr add 10.0.0.1/24 dev a0",
    "addr add 10.1.0.1/24 dev a1",
    "addr add 2001:db8::1/64 dev a0 nodad",
  ]);
  await using ip = await openRoute({ netns: ns.name });
  await ip.route.add({ dst: "10.5.0.0/16", gateway: "10.0.0.254", table: 100 });
  await ip.route.add({ dst: "10.6.0.0/16", dev: "a0" });
  await ip.route.add({ dst: "192.0.2.0/24", type: "blackhole" });
  await ip.route.add({
    dst: "10.7.0.0/16",
    nexthops: [{ gateway: "10.0.0.2", weight: 2 }, { gateway: "10.1.0.2", dev: "a1", weight: 5 }],
    metric: 10,
    protocol: "static",
  });
  await ip.route.add({ dst: "2001:db8:9::/48", gateway: "2001:db8::2" });
  await ip.route.add({ dst: "default", gateway: "10.0.0.254", table: 1000 });
  const show = (...args: string[]) => ns.json<Json[]>("route", "show", ...args);
  assert.deepEqual(show("table", "100"), [{
    dst: "10.5.0.0/16",
    gateway: "10.0.0.254",
    dev: "a0",
    flags: [],
  }]);
  // No gateway: scope link, as ip picks.
  assert.deepEqual(show("10.6.0.0/16"), [{
    dst: "10.6.0.0/16",
    dev: "a0",
    scope: "link",
    flags: [],
  }]);
  assert.deepEqual(show("192.0.2.0/24"), [{ type: "blackhole", dst: "192.0.2.0/24", flags: [] }]);
  assert.deepEqual(show("10.7.0.0/16"), [{
    dst: "10.7.0.0/16",
    protocol: "static",
    metric: 10,
    flags: [],
    nexthops: [
      { gateway: "10.0.0.2", dev: "a0", weight: 2, flags: [] },
      { gateway: "10.1.0.2", dev: "a1", weight: 5, flags: [] },
    ],
  }]);
  assert.equal(ns.json<Json[]>("-6", "route", "show", "2001:db8:9::/48")[0].gateway, "2001:db8::2");
  assert.equal(show("table", "1000")[0].dst, "default");
  await assert.rejects(ip.route.add({ dst: "10.6.0.0/16", dev: "a0" }), /EEXIST/);
  await ip.route.replace({ dst: "10.6.0.0/16", gateway: "10.1.0.9" });
  assert.deepEqual(show("10.6.0.0/16"), [{
    dst: "10.6.0.0/16",
    gateway: "10.1.0.9",
    dev: "a1",
    flags: [],
  }]);
  // Read back through the API too: multipath as written.
  const mp = (await ip.route.list()).find((r) => r.dst === "10.7.0.0/16")!;
  assert.deepEqual(mp.nexthops!.map((h) => [h.gateway, h.dev, h.weight]), [["10.0.0.2", "a0", 2], [
    "10.1.0.2",
    "a1",
    5,
  ]]);
  for (const dst of ["10.6.0.0/16", "192.0.2.0/24", "10.7.0.0/16"]) await ip.route.delete({ dst });
  await ip.route.delete({ dst: "10.5.0.0/16", table: 100 });
  await ip.route.delete({ dst: "2001:db8:9::/48" });
  assert.deepEqual(show("table", "100"), []);
  assert.deepEqual(show().map((r) => r.dst).sort(), ["10.0.0.0/24", "10.1.0.0/24"]);
  await assert.rejects(ip.route.delete({ dst: "10.6.0.0/16" }), /ESRCH/);
  await assert.rejects(ip.route.add({ dst: "10.0.0.1/8" }), /dst: 10.0.0.1\/8 has host bits set/);
  // Local, broadcast, anycast and nat routes go to table local, as ip puts them; ours are
  // beside ip's own, and read back the same.
  ns.ipBatch(["route add broadcast 10.0.0.64 dev a0", "route add anycast 10.0.0.65 dev a0"]);
  await ip.route.add({ dst: "10.0.0.66", type: "broadcast", dev: "a0" });
  await ip.route.add({ dst: "10.0.0.67", type: "anycast", dev: "a0" });
  await ip.route.add({ dst: "10.0.0.68", type: "local", dev: "a0" });
  const local = show("table", "local").filter((r) => /^10\.0\.0\.6[4-8]$/.test(r.dst));
  assert.deepEqual(local.map((r) => [r.type, r.dst]), [
    ["broadcast", "10.0.0.64"],
    ["anycast", "10.0.0.65"],
    ["broadcast", "10.0.0.66"],
    ["anycast", "10.0.0.67"],
    ["local", "10.0.0.68"],
  ]);
  assert.equal(local[2].scope, local[0].scope);
  await ip.route.delete({ dst: "10.0.0.66", type: "broadcast" });
  assert.equal(show("table", "local").some((r) => r.dst === "10.0.0.66"), false);
});

test("an IPv4 route via an IPv6 gateway (RTA_VIA, `via inet6`): read, written and deleted as ip does", async () => {
  using ns = new Netns();
  ns.ipBatch([
    "link add a0 type veth peer name a1",
    "link set a0 up",
    "link set a1 up",
    "addr add 10.1.0.1/24 dev a1",
    "addr add 2001:db8::1/64 dev a0 nodad",
    "route add 10.5.0.0/16 via inet6 2001:db8::5 dev a0",
    "route add 10.6.0.0/16 nexthop via inet6 2001:db8::6 dev a0 nexthop via 10.1.0.2 dev a1",
  ]);
  await using ip = await openRoute({ netns: ns.name });
  const find = async (dst: string) => (await ip.route.list()).find((r) => r.dst === dst)!;
  const single = await find("10.5.0.0/16");
  assert.deepEqual([single.family, single.gateway, single.dev], ["inet", "2001:db8::5", "a0"]);
  assert.deepEqual(
    (await find("10.6.0.0/16")).nexthops!.map((h) => [h.gateway, h.dev]),
    [["2001:db8::6", "a0"], ["10.1.0.2", "a1"]],
  );
  assert.equal((await ip.route.get("10.5.0.1")).gateway, "2001:db8::5");
  await ip.route.add({ dst: "10.7.0.0/16", gateway: "2001:db8::7", dev: "a0" });
  await ip.route.add({
    dst: "10.8.0.0/16",
    nexthops: [{ gateway: "2001:db8::8", dev: "a0" }, { gateway: "10.1.0.2", weight: 3 }],
  });
  const show = (dst: string) => ns.json<Json[]>("route", "show", dst)[0];
  assert.deepEqual(show("10.7.0.0/16").via, { family: "inet6", host: "2001:db8::7" });
  assert.deepEqual(show("10.8.0.0/16").nexthops, [
    { via: { family: "inet6", host: "2001:db8::8" }, dev: "a0", weight: 1, flags: [] },
    { gateway: "10.1.0.2", dev: "a1", weight: 3, flags: [] },
  ]);
  // Deleted by its gateway as read back.
  await ip.route.delete({ dst: "10.7.0.0/16", gateway: (await find("10.7.0.0/16")).gateway });
  assert.equal(show("10.7.0.0/16"), undefined);
  // IPv6 takes no RTA_VIA: an IPv4 gateway on an IPv6 route is still refused before sending.
  await assert.rejects(
    ip.route.add({ dst: "2001:db8:9::/48", gateway: "10.1.0.2" }),
    /^TypeError: gateway: 10.1.0.2 is not of the destination's family/,
  );
});

test("route metrics (ip route add ... advmss hoplimit rtt congctl lock): written as ip writes them, read as ip -j lists them", async () => {
  using ns = new Netns();
  ns.ipBatch([
    "link add a0 type veth peer name a1",
    "link set a0 up",
    "addr add 10.1.0.1/24 dev a0",
    "addr add 2001:db8::1/64 dev a0 nodad",
    "route add 10.5.0.0/16 via 10.1.0.5 mtu lock 1400 advmss 1360 hoplimit 16 initcwnd 10 "
    + "window 65535 rtt 30ms rttvar 10ms ssthresh 100 reordering 5 features ecn quickack 1",
    "route add 2001:db8:5::/48 via 2001:db8::5 hoplimit 5 rto_min 200ms initrwnd 20 "
    + "fastopen_no_cookie 1 cwnd 30 congctl reno",
  ]);
  await using ip = await openRoute({ netns: ns.name });
  const find = async (dst: string) =>
    (await ip.route.list({ table: "all" })).find((r) => r.dst === dst)!;
  /** `ip -j route show DST`'s metrics, named as RouteMetrics names them. */
  const theirs = (dst: string) => {
    const [{ metrics }] = ns.json<Json[]>("route", "show", "table", "all", dst);
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(metrics[0] as Record<string, unknown>)) {
      if (key === "ecn") out.ecn = true;
      else if (key === "congestion") out.congctl = value;
      else if (key === "quickack" || key === "fastopen_no_cookie") {
        out[key === "quickack" ? key : "fastopenNoCookie"] = value === 1;
      } else out[key === "rto_min" ? "rtoMin" : key] = value;
    }
    return out;
  };
  // ip -j prints no lock: its text does ("mtu lock 1400", "congctl lock reno").
  const text = (dst: string) => ns.ip("route", "show", "table", "all", dst);
  const v4 = await find("10.5.0.0/16");
  assert.deepEqual({ ...v4.metrics, lock: undefined }, {
    ...theirs("10.5.0.0/16"),
    lock: undefined,
  });
  assert.deepEqual(v4.metrics!.lock, ["mtu"]);
  assert.match(text("10.5.0.0/16"), / mtu lock 1400 /);
  assert.equal(v4.mtu, 1400);
  const v6 = await find("2001:db8:5::/48");
  assert.deepEqual({ ...v6.metrics, lock: undefined }, {
    ...theirs("2001:db8:5::/48"),
    lock: undefined,
  });
  assert.equal(v6.metrics!.congctl, "reno");

  // Written: the same metrics, read back by ip as the ones ip wrote.
  await ip.route.add({ dst: "10.6.0.0/16", gateway: "10.1.0.6", metrics: v4.metrics });
  assert.deepEqual(theirs("10.6.0.0/16"), theirs("10.5.0.0/16"));
  assert.match(text("10.6.0.0/16"), / mtu lock 1400 /);
  await ip.route.add({
    dst: "2001:db8:6::/48",
    gateway: "2001:db8::6",
    metrics: { hoplimit: 5, rtoMin: 200, initrwnd: 20, fastopenNoCookie: true, cwnd: 30 },
  });
  assert.deepEqual(theirs("2001:db8:6::/48"), {
    hoplimit: 5,
    rtoMin: 200,
    initrwnd: 20,
    fastopenNoCookie: true,
    cwnd: 30,
  });
  await ip.route.replace({ dst: "2001:db8:6::/48", gateway: "2001:db8::6", mtu: 1300 });
  assert.deepEqual(theirs("2001:db8:6::/48"), { mtu: 1300 });
  await ip.route.delete(await find("10.6.0.0/16"));
  assert.equal(ns.json<Json[]>("route", "show", "10.6.0.0/16")[0], undefined);

  // Bad values: TypeErrors naming the field, before any request.
  const bad: [Record<string, unknown>, RegExp][] = [
    [
      { metrics: { hoplimit: 256 } },
      /^RangeError: metrics.hoplimit: 256 is not an integer from 0 to 255/,
    ],
    [{ metrics: { rtt: 1.5 } }, /^TypeError: metrics.rtt: 1.5 is not an integer/],
    [{ metrics: { quickack: 1 } }, /^TypeError: metrics.quickack: 1 is not a boolean/],
    [{ metrics: { lock: ["mut"] } }, /^TypeError: metrics.lock: "mut" is not a metric/],
    [
      { metrics: { advms: 1 } },
      /^TypeError: route.add\(\) metrics: unknown option "advms" \(did you mean "advmss"\?\)/,
    ],
    [{ mtu: 1400, metrics: { mtu: 1300 } }, /^TypeError: mtu: 1400, but metrics.mtu 1300/],
  ];
  for (const [extra, error] of bad) {
    await assert.rejects(ip.route.add({ dst: "10.9.0.0/16", dev: "a0", ...extra }), error);
  }
});

test("IPv6 route preference and expiry (ip route add ... pref high expires 300): written as ip writes them, read as ip -j shows them", async () => {
  using ns = new Netns();
  ns.ipBatch([
    "link add a0 type veth peer name a1",
    "link set a0 up",
    "addr add 2001:db8::1/64 dev a0 nodad",
    "addr add 2001:db8:1::1/64 dev a0 nodad valid_lft 600 preferred_lft 300",
    "route add 2001:db8:5::/48 via 2001:db8::5 pref low expires 500",
  ]);
  await using ip = await openRoute({ netns: ns.name });
  await ip.route.add({
    dst: "2001:db8:6::/48",
    gateway: "2001:db8::6",
    pref: "high",
    expires: 300,
  });
  const ours = await ip.route.list({ family: "inet6" });
  const theirs = ns.json<Json[]>("-6", "route", "show");
  const pick = (
    r: { dst: string; pref?: unknown; expires?: number },
  ) => [r.dst, r.pref, r.expires === undefined];
  assert.deepEqual(ours.map(pick), theirs.map(pick));
  // Read a moment apart: a second may have gone.
  ours.forEach((r, i) => assert.ok(Math.abs((r.expires ?? 0) - (theirs[i].expires ?? 0)) <= 2));
  const byDst = (dst: string) => ours.find((r) => r.dst === dst)!;
  assert.deepEqual([byDst("2001:db8:6::/48").pref, byDst("2001:db8:5::/48").pref], ["high", "low"]);
  assert.ok(byDst("2001:db8:1::/64").expires! > 590, "an address's prefix route: its lifetime");
  assert.equal(byDst("2001:db8::/64").expires, undefined);
  // A listed route deletes (its expires, counting down, is not sent).
  await ip.route.delete(byDst("2001:db8:6::/48"));
  assert.equal(ns.json<Json[]>("-6", "route", "show", "2001:db8:6::/48")[0], undefined);
  await assert.rejects(
    ip.route.add({ dst: "10.9.0.0/16", dev: "a0", expires: 5 }),
    /^TypeError: expires: only IPv6 routes expire/,
  );
  // IPv4's FIB ignores a source prefix (RTA_SRC): the route came without it, unsaid. As
  // vishvananda's Src is the prefsrc, the message names it.
  await assert.rejects(
    ip.route.add({ dst: "10.9.0.0/16", dev: "a0", src: "10.0.0.1" }),
    /^TypeError: src: "10.0.0.1": an IPv4 route has no source prefix .* is prefsrc/,
  );
  assert.equal(ns.json<Json[]>("route", "show", "10.9.0.0/16")[0], undefined);
  await assert.rejects(
    ip.route.add({ dst: "2001:db8:9::/48", dev: "a0", pref: "top" as never }),
    /^TypeError: pref: "top" is not a route preference: one of low, medium, high/,
  );
});

test("proxy neighbours: added, listed with { proxy: true } and deleted, as ip neigh ... proxy", async () => {
  using ns = new Netns();
  ns.ipBatch([
    "link add a0 type veth peer name a1",
    "neigh add proxy 10.0.0.60 dev a0",
    "neigh add proxy 2001:db8::60 dev a0",
    "neigh add 10.0.0.5 lladdr 02:00:00:00:00:05 dev a0",
  ]);
  await using ip = await openRoute({ netns: ns.name });
  await ip.neigh.add({ dev: "a1", address: "10.0.0.70", flags: ["proxy"] });
  const proxies = () => ns.json<Json[]>("neigh", "show", "proxy").map((n) => [n.dst, n.dev]);
  const listed = async (filter = {}) =>
    (await ip.neigh.list({ proxy: true, ...filter })).map((n) => [n.address, n.dev]);
  assert.deepEqual((await listed()).sort(), proxies().sort());
  assert.equal(proxies().length, 3);
  assert.deepEqual(await listed({ dev: "a0", family: "inet6" }), [["2001:db8::60", "a0"]]);
  const entry = (await ip.neigh.list({ proxy: true, dev: "a1" }))[0];
  assert.deepEqual([entry.flags, entry.state], [["proxy"], "none"]);
  // Without proxy: the neighbour table alone, as ip neigh show.
  assert.deepEqual((await ip.neigh.list()).map((n) => n.address), ["10.0.0.5"]);
  await ip.neigh.delete({ dev: "a1", address: "10.0.0.70", flags: ["proxy"] });
  await ip.neigh.delete({ dev: "a0", address: "2001:db8::60", flags: ["proxy"] });
  assert.deepEqual(proxies(), [["10.0.0.60", "a0"]]);
  await assert.rejects(
    ip.neigh.list({ proxy: 1 as never }),
    /^TypeError: proxy: 1 is not a boolean/,
  );
});

test("neigh.add with flags [\"managed\"]: NDA_FLAGS_EXT, state none unless given, as ip neigh add ... managed", async () => {
  using ns = new Netns(["link add a0 type veth peer name a1", "link set a0 up"]);
  await using ip = await openRoute({ netns: ns.name });
  await ip.neigh.add({ dev: "a0", address: "10.0.0.80", flags: ["managed"] });
  const entry = ns.json<Json[]>("neigh", "show", "to", "10.0.0.80")[0];
  assert.equal(entry.managed, null);
  await ip.neigh.delete({ dev: "a0", address: "10.0.0.80", flags: ["managed"] });
  assert.deepEqual(ns.json("neigh", "show", "to", "10.0.0.80"), []);
  // A permanent entry cannot be managed: the kernel's refusal, when that state is asked for.
  await assert.rejects(
    ip.neigh.add({ dev: "a0", address: "10.0.0.81", flags: ["managed"], state: "permanent" }),
    /EINVAL: neighbour add 10.0.0.81/,
  );
});

test("neigh.add / replace / delete, read back with ip", async () => {
  using ns = new Netns();
  ns.ipBatch(["link add a0 type veth peer name a1", "link set a0 up"]);
  await using ip = await openRoute({ netns: ns.name });
  await ip.neigh.add({ dev: "a0", address: "10.0.0.5", lladdr: "02:00:00:00:00:05" });
  await ip.neigh.add({
    dev: "a0",
    address: "2001:db8::5",
    lladdr: "02:00:00:00:00:06",
    state: "stale",
    flags: ["router"],
  });
  const show = () => ns.json<Json[]>("neigh", "show", "nud", "all");
  assert.deepEqual(show(), [
    { dst: "10.0.0.5", dev: "a0", lladdr: "02:00:00:00:00:05", state: ["PERMANENT"] },
    { dst: "2001:db8::5", dev: "a0", lladdr: "02:00:00:00:00:06", router: null, state: ["STALE"] },
  ]);
  await assert.rejects(
    ip.neigh.add({ dev: "a0", address: "10.0.0.5", lladdr: "02:00:00:00:00:07" }),
    /EEXIST/,
  );
  await ip.neigh.replace({ dev: "a0", address: "10.0.0.5", lladdr: "02:00:00:00:00:07" });
  assert.equal(show()[0].lladdr, "02:00:00:00:00:07");
  await ip.neigh.delete({ dev: "a0", address: "10.0.0.5" });
  await ip.neigh.delete({ dev: "a0", address: "2001:db8::5" });
  assert.deepEqual(show().filter((n) => !(n.state as string[]).includes("FAILED")), []);
});

test("rule.add / delete, read back with ip: fwmark, from/to, iif, v6, blackhole", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  await ip.rule.add({ fwmark: 0x64, fwmask: 0xff, table: 100, priority: 100 });
  await ip.rule.add({
    from: "10.10.0.0/16",
    to: "192.0.2.0/24",
    iif: "lo",
    table: "main",
    priority: 200,
  });
  await ip.rule.add({ from: "198.51.100.0/24", action: "blackhole", priority: 300 });
  await ip.rule.add({ from: "2001:db8::/32", table: 1000, priority: 150 });
  const v4 = ns.json<Json[]>("-4", "rule", "show").filter((r) =>
    r.priority >= 100 && r.priority <= 300
  );
  assert.deepEqual(v4, [
    { priority: 100, src: "all", fwmark: "0x64", fwmask: "0xff", table: "100" },
    {
      priority: 200,
      src: "10.10.0.0",
      srclen: 16,
      dst: "192.0.2.0",
      dstlen: 24,
      iif: "lo",
      table: "main",
    },
    { priority: 300, src: "198.51.100.0", srclen: 24, action: "blackhole" },
  ]);
  assert.deepEqual(ns.json<Json[]>("-6", "rule", "show").find((r) => r.priority === 150), {
    priority: 150,
    src: "2001:db8::",
    srclen: 32,
    table: "1000",
  });
  for (const priority of [100, 200, 300]) await ip.rule.delete({ priority });
  await ip.rule.delete({ family: "inet6", priority: 150 });
  assert.deepEqual(ns.json<Json[]>("rule", "show").map((r) => r.priority), [0, 32766, 32767]);
});

test("rule.add({ invert: true }) is ip's `not`: added, read back, deleted", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  await ip.rule.add({ invert: true, from: "10.20.0.0/16", table: 100, priority: 400 });
  await ip.rule.add({ from: "10.30.0.0/16", table: 100, priority: 401 });
  assert.deepEqual(
    ns.json<Json[]>("rule", "show").filter((r) => r.priority >= 400 && r.priority < 500),
    [
      { priority: 400, not: null, src: "10.20.0.0", srclen: 16, table: "100" },
      { priority: 401, src: "10.30.0.0", srclen: 16, table: "100" },
    ],
  );
  const listed = (await ip.rule.list()).filter((r) => r.priority >= 400 && r.priority < 500);
  assert.deepEqual(listed.map((r) => r.invert), [true, false]);
  await ip.rule.delete({ invert: true, from: "10.20.0.0/16", priority: 400 });
  assert.deepEqual(ns.json<Json[]>("rule", "show", "pref", "400"), []);
  await assert.rejects(ip.rule.add({ invert: 1 as never, table: 5 }), /^TypeError: invert/);
});

test("rule.delete() takes a rule as list() gives it, with no cast (its action may be a number)", async () => {
  // NewRule's action took names only where Rule's may be a number: deleting what list() gave
  // did not compile (TS2345), though the request took it.
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  await ip.rule.add({ fwmark: 0x64, table: 100, priority: 100 });
  await ip.rule.add({ from: "198.51.100.0/24", action: "blackhole", priority: 300 });
  await ip.rule.add({ from: "2001:db8::/32", table: 1000, priority: 150 });
  for (const rule of await ip.rule.list()) {
    if (rule.priority >= 100 && rule.priority <= 300) await ip.rule.delete(rule);
  }
  assert.deepEqual(ns.json<Json[]>("rule", "show").map((r) => r.priority), [0, 32766, 32767]);
  assert.deepEqual(ns.json<Json[]>("-6", "rule", "show").map((r) => r.priority), [0, 32766]);
  // A number is the action itself, as ip's `action 6`.
  await ip.rule.add({ from: "198.51.100.0/24", action: 6, priority: 301 });
  assert.equal((await ip.rule.list()).find((r) => r.priority === 301)?.action, "blackhole");
});

test("link promises: a veth without peer.name gets the kernel's name, alias \"\" clears, delete takes the peer, add({ up }) is up", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  await ip.link.add({ name: "k0", kind: "veth" });
  const k0 = await ip.link.get("k0");
  const peer = (await ip.link.list()).find((l) => l.index === k0.link)!;
  assert.match(peer.name, /^veth\d+$/);
  await ip.link.set("k0", { alias: "uplink" });
  assert.equal((await ip.link.get("k0")).alias, "uplink");
  // At most 254 bytes of UTF-8 (the kernel's IFALIASZ - 1, with the NUL sent): the longest is
  // taken, a longer one refused before any request (the kernel answered ERANGE).
  const longest = "é".repeat(127);
  await ip.link.set("k0", { alias: longest });
  assert.equal((await ip.link.get("k0")).alias, longest);
  await assert.rejects(
    ip.link.set("k0", { alias: longest + "a" }),
    (e: Error) =>
      e instanceof TypeError && /alias must be a string of at most 254 bytes/.test(e.message),
  );
  await ip.link.set("k0", { alias: "" });
  assert.equal((await ip.link.get("k0")).alias, undefined);
  assert.doesNotMatch(ns.ip("-d", "link", "show", "k0"), /alias/);
  await ip.link.delete("k0");
  assert.deepEqual((await ip.link.list()).map((l) => l.name), ["lo"]);
  await ip.link.add({ name: "br9", kind: "bridge", up: true });
  assert.ok((ns.json<Json[]>("link", "show", "br9")[0].flags as string[]).includes("UP"));
});

test("a link is found by an altname longer than a name (16 to 127 bytes), as ip finds it", async () => {
  const long = "uplink-to-the-core-switch-in-rack-7"; // 35 bytes: only an altname can be this long
  const longest = "é".repeat(63) + "x"; // 127 bytes of UTF-8, the kernel's most (ALTIFNAMSIZ - 1)
  using ns = new Netns([
    "link add a0 type veth peer name a1",
    `link property add dev a0 altname ${long} altname ${longest}`,
  ]);
  await using ip = await openRoute({ netns: ns.name });
  const a0 = ns.json<Json[]>("link", "show", "a0")[0];
  assert.equal((await ip.link.get(long)).name, "a0");
  assert.equal((await ip.link.get(longest)).index, a0.ifindex);
  await ip.link.set(long, { mtu: 1400, up: true });
  await ip.addr.add(long, "10.0.0.1/24");
  assert.deepEqual((await ip.addr.list({ dev: longest })).map((a) => a.address), ["10.0.0.1"]);
  await ip.route.add({ dst: "10.5.0.0/16", dev: long });
  assert.equal(ns.json<Json[]>("route", "show", "10.5.0.0/16")[0].dev, "a0");
  assert.equal(ns.json<Json[]>("link", "show", "a0")[0].mtu, 1400);
  // TrafficControl looks links up the same way.
  await using tc = await TrafficControl.open({ netns: ns.name });
  assert.equal(await tc.ifindex(long), a0.ifindex);
  // One byte more than the kernel takes, or a name no link has: refused, or not found, by name.
  await assert.rejects(ip.link.get(longest + "y"), {
    name: "TypeError",
    message: `link: "${longest}y" is not a link name or altname (1 to 127 bytes, no space, NUL, / `
      + "or :, not . or ..)",
  });
  await assert.rejects(
    ip.link.get(long + "-b"),
    (e: Error) => e instanceof NetlinkError && e.message.includes(`no link named "${long}-b"`),
  );
  await ip.link.delete(longest);
  assert.deepEqual((await ip.link.list()).map((l) => l.name), ["lo"]);
});
