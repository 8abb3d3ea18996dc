// scripts/ynl_corrections.ts, proven live: each corrected value read through the typed layer
// equals what `ip -d -j` says in a fresh namespace, and each corrected attribute writes.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { NLM_F_CREATE, NLM_F_EXCL } from "../../src/constants.ts";
import { parseIP } from "../../src/ip.ts";
import { openRoute } from "../../src/route/mod.ts";
import { family } from "../../src/ynl/family.ts";
import { rtLink } from "../../src/ynl/rt_link.ts";
import { rtNeigh } from "../../src/ynl/rt_neigh.ts";
import { rtRoute } from "../../src/ynl/rt_route.ts";
import { rtRule } from "../../src/ynl/rt_rule.ts";
import { Netns } from "../host/_netns.ts";

// ip -d -j's name for each bridge-port option the spec typed `flag` (kernel: u8 0/1).
const BRPORT_FLAGS = {
  mode: "hairpin",
  guard: "guard",
  protect: "root_block",
  fastLeave: "fastleave",
  learning: "learning",
  unicastFlood: "flood",
  proxyarp: "proxy_arp",
  proxyarpWifi: "proxy_arp_wifi",
  mcastFlood: "mcast_flood",
  mcastToUcast: "mcast_to_unicast",
  bcastFlood: "bcast_flood",
  neighSuppress: "neigh_suppress",
  vlanTunnel: "vlan_tunnel",
  isolated: "isolated",
  locked: "locked",
} as const;

type Json = Record<string, Record<string, Record<string, unknown>>>;

test("bridge-port options read as ip reads them (u8 0/1, not flags), and write both ways", async () => {
  using ns = new Netns();
  ns.ipBatch([
    "link add br0 type bridge",
    "link add v0 type veth peer name v1",
    "link set v0 master br0",
    "link set v0 type bridge_slave learning off hairpin on guard on root_block on flood off proxy_arp on isolated on",
  ]);
  await using rt = await family(rtLink, { netns: ns.name });
  const check = async () => {
    const link = await rt.do("getlink", { ifname: "v0" });
    const data = link.linkinfo!.slaveData as Record<string, unknown>;
    const ipData = ns.json<Json[]>("-d", "link", "show", "v0")[0].linkinfo.info_slave_data;
    for (const [ours, theirs] of Object.entries(BRPORT_FLAGS)) {
      assert.equal(data[ours] === 1, ipData[theirs], `${ours} vs ip's ${theirs}`);
    }
    return data;
  };
  const before = await check();
  assert.equal(before.learning, 0);
  assert.equal(before.mode, 1);
  // learning off -> on and isolated on -> off, through the typed layer; ip agrees.
  await rt.do("newlink", {
    ifname: "v0",
    linkinfo: { slaveKind: "bridge", slaveData: { learning: 1, isolated: 0 } },
  });
  const after = await check();
  assert.equal(after.learning, 1);
  assert.equal(after.isolated, 0);
  await rt.do("newlink", {
    ifname: "v0",
    linkinfo: { slaveKind: "bridge", slaveData: { learning: 0 } },
  });
  assert.equal((await check()).learning, 0);
});

test("rt-link protinfo is a nest of bridge-port attributes: a bridge's AF_BRIDGE message on its port reads as bridge -d -j link shows it", async () => {
  using ns = new Netns();
  ns.ipBatch([
    "link add br0 type bridge",
    "link add v0 type veth peer name v1",
    "link set v0 master br0",
    "link set v0 type bridge_slave learning off cost 7 priority 9 isolated on",
  ]);
  await using rt = await family(rtLink, { netns: ns.name });
  const ports = await rt.dump("getlink", { ifiFamily: 7 }); // AF_BRIDGE: rtnl_bridge_getlink
  const v0 = ports.find((l) => l.ifname === "v0");
  const data = v0?.protinfo as Record<string, unknown> | undefined;
  assert.equal(typeof data, "object", `protinfo read as ${typeof data}`); // a string before
  const shown = JSON.parse(
    execFileSync("bridge", ["-n", ns.name, "-d", "-j", "link", "show", "dev", "v0"], {
      encoding: "utf8",
    }),
  )[0];
  assert.equal(data!.state, 0); // BR_STATE_DISABLED: v0 is down
  assert.equal(shown.state, "disabled");
  assert.equal(data!.cost, shown.cost);
  assert.equal(data!.priority, shown.priority);
  for (const [ours, theirs] of Object.entries(BRPORT_FLAGS)) {
    if (theirs in shown) assert.equal(data![ours] === 1, shown[theirs], `${ours} vs ${theirs}`);
  }
});

test("ifla-bridge-id's prio reads in network byte order, as ip prints it", async () => {
  using ns = new Netns();
  ns.ip("link", "add", "br0", "type", "bridge", "priority", "1234");
  await using rt = await family(rtLink, { netns: ns.name });
  const link = await rt.do("getlink", { ifname: "br0" });
  const data = link.linkinfo!.data as { bridgeId: { prio: number }; rootId: { prio: number } };
  assert.equal(data.bridgeId.prio, 1234);
  assert.equal(data.rootId.prio, 1234);
  const ipData = ns.json<Json[]>("-d", "link", "show", "br0")[0].linkinfo.info_data;
  assert.equal(String(ipData.bridge_id).split(".")[0], (1234).toString(16).padStart(4, "0"));
});

test("a vxlan's ttlInherit reads as ip reads it (a u8 0 or 1, sent for a flag), and writes", async () => {
  using ns = new Netns([
    "link add vx0 type vxlan id 42 dstport 4789 ttl 10",
    "link add vx1 type vxlan id 43 dstport 4789 ttl inherit",
  ]);
  await using rt = await family(rtLink, { netns: ns.name });
  await using ip = await openRoute({ netns: ns.name });
  for (const [name, inherit] of [["vx0", false], ["vx1", true]] as const) {
    const { linkinfo } = await rt.do("getlink", { ifname: name });
    const data = linkinfo!.data as Record<string, unknown>;
    assert.equal(data.ttlInherit, inherit, name);
    assert.equal(((await ip.link.get(name)).data as Record<string, unknown>).ttlInherit, inherit);
    assert.equal(ns.ip("-d", "link", "show", name).includes("ttl inherit"), inherit);
  }
  // Written as the kernel's policy takes it (a flag, as ip sends "ttl inherit").
  await ip.link.add({ name: "vx2", kind: "vxlan", data: { id: 44, port: 4789, ttlInherit: true } });
  assert.match(ns.ip("-d", "link", "show", "vx2"), /ttl inherit/);
  // Another flag, read back as a boolean as the kernel sends it (present when set).
  await ip.link.add({ name: "vx3", kind: "vxlan", data: { id: 45, port: 4789, gbp: true } });
  assert.match(ns.ip("-d", "link", "show", "vx3"), / gbp /);
  assert.equal(((await ip.link.get("vx3")).data as Record<string, unknown>).gbp, true);
  assert.equal(((await ip.link.get("vx2")).data as Record<string, unknown>).gbp, undefined);
});

test("rt-link proto-down-reason is a nest of u32s, read and written as ip does", async () => {
  using ns = new Netns();
  // vxlan takes protodown (dev->change_proto_down); veth does not.
  ns.ipBatch([
    "link add vx0 type vxlan id 5 dstport 4789",
    "link set dev vx0 protodown_reason 3 on",
  ]);
  await using rt = await family(rtLink, { netns: ns.name });
  const read = async () => (await rt.do("getlink", { ifname: "vx0" })).protoDownReason;
  assert.deepEqual(await read(), { value: 1 << 3 });
  const ipReasons = () => ns.json<{ proto_down_reason?: string[] }[]>("link", "show", "vx0")[0];
  assert.deepEqual(ipReasons().proto_down_reason, ["3"]);
  // Reason 5 on, 3 off, through the typed layer (do_set_proto_down: mask, then value).
  await rt.do("newlink", {
    ifname: "vx0",
    protoDownReason: { mask: (1 << 3) | (1 << 5), value: 1 << 5 },
  });
  assert.deepEqual(await read(), { value: 1 << 5 });
  assert.deepEqual(ipReasons().proto_down_reason, ["5"]);
});

test("rt-rule src and dst are addresses, IPv4 and IPv6, as ip shows them", async () => {
  using ns = new Netns();
  await using rt = await family(rtRule, { netns: ns.name });
  const flags = NLM_F_CREATE | NLM_F_EXCL;
  await rt.do("newrule", {
    family: 2,
    action: "to-tbl",
    table: 100,
    priority: 100,
    srcLen: 16,
    src: parseIP("10.10.0.0"),
    dstLen: 24,
    dst: parseIP("192.0.2.0"),
  }, { flags });
  await rt.do("newrule", {
    family: 10,
    action: "to-tbl",
    table: 100,
    priority: 100,
    srcLen: 32,
    src: parseIP("2001:db8::"),
  }, { flags });
  const v4 = (await rt.dump("getrule", { family: 2 })).find((r) => r.priority === 100)!;
  const v6 = (await rt.dump("getrule", { family: 10 })).find((r) => r.priority === 100)!;
  const ip4 = ns.json("-4", "rule", "show", "pref", "100")[0];
  const ip6 = ns.json("-6", "rule", "show", "pref", "100")[0];
  // Text, with the display hint rt-route's addresses have.
  assert.equal(v4.src, ip4.src);
  assert.equal(v4.dst, ip4.dst);
  assert.equal(v6.src, ip6.src);
  assert.deepEqual([ip4.src, ip4.dst, ip6.src], ["10.10.0.0", "192.0.2.0", "2001:db8::"]);
});

test("rt-rule tun-id is big-endian: read and written as ip reads and writes it", async () => {
  using ns = new Netns(["rule add tun_id 5 lookup 100 pref 100"]);
  await using rt = await family(rtRule, { netns: ns.name });
  const rule = (await rt.dump("getrule", { family: 2 })).find((r) => r.priority === 100)!;
  assert.equal(rule.tunId, 5n);
  await rt.do("newrule", {
    family: 2,
    action: "to-tbl",
    table: 101,
    priority: 101,
    tunId: 0x1234n,
  }, { flags: NLM_F_CREATE | NLM_F_EXCL });
  assert.equal(ns.json("rule", "show", "pref", "101")[0].tun_id, 0x1234);
});

test("rt-route sport and dport are big-endian: a lookup matches ip's port-range rule", async () => {
  using ns = new Netns([
    "link add v0 type veth peer name v1",
    "link set v0 up",
    "address add 10.0.0.1/24 dev v0",
    "route add 10.5.0.0/16 via 10.0.0.2",
    "route add 10.5.0.0/16 dev v0 table 104",
    "rule add ipproto tcp sport 1000-2000 dport 80 lookup 104 pref 104",
  ]);
  await using rt = await family(rtRoute, { netns: ns.name });
  // RTM_F_LOOKUP_TABLE: the reply says which table answered.
  const lookup = (dport: number) =>
    rt.do("getroute", {
      rtmFamily: 2,
      rtmDstLen: 32,
      rtmFlags: 0x1000,
      dst: parseIP("10.5.1.1"),
      ipProto: 6,
      sport: 1500,
      dport,
    });
  assert.equal((await lookup(80)).table, 104);
  assert.equal(
    ns.json("route", "get", "10.5.1.1", "ipproto", "tcp", "sport", "1500", "dport", "80")[0].table,
    "104",
  );
  assert.equal((await lookup(81)).table, 254);
});

test("rt-neigh port (a vxlan fdb entry's) is big-endian, as bridge fdb reads and writes it", async () => {
  using ns = new Netns([
    "link add vx0 type vxlan id 42 dstport 4789 local 10.0.0.1",
  ]);
  execFileSync("bridge", [
    ...["-n", ns.name, "fdb", "add", "02:00:00:00:00:01", "dev", "vx0"],
    ...["dst", "10.0.0.9", "port", "5000", "vni", "77"],
  ]);
  await using rt = await family(rtNeigh, { netns: ns.name });
  const index = ns.json<{ ifindex: number }[]>("link", "show", "vx0")[0].ifindex;
  const entry = (await rt.dump("getneigh", { ndmFamily: 7 }))
    .find((n) => n.ndmIfindex === index && n.dst !== undefined)!;
  assert.equal(entry.port, 5000);
  assert.equal(entry.vni, 77);
  await rt.do("newneigh", {
    ndmFamily: 7,
    ndmIfindex: index,
    ndmState: 0x80, // NUD_PERMANENT
    ndmFlags: 2, // NTF_SELF
    lladdr: new Uint8Array([2, 0, 0, 0, 0, 2]),
    dst: parseIP("10.0.0.10"),
    port: 6000,
  }, { flags: NLM_F_CREATE | NLM_F_EXCL });
  const fdb = JSON.parse(
    execFileSync("bridge", ["-n", ns.name, "-j", "fdb", "show", "dev", "vx0"], {
      encoding: "utf8",
    }),
  ) as { mac: string; port?: number }[];
  assert.equal(fdb.find((e) => e.mac === "02:00:00:00:00:02")?.port, 6000);
});

test("rt-route's multicast groups: monitor() sees a route ip adds", async () => {
  using ns = new Netns();
  ns.ipBatch(["link add v0 type veth peer name v1", "link set v0 up", "link set v1 up"]);
  await using rt = await family(rtRoute, { netns: ns.name });
  const events = rt.monitor({ groups: ["rtnlgrp-ipv4-route", "rtnlgrp-ipv6-route"] });
  const first = events.next(); // joins the groups
  await new Promise((resolve) => setTimeout(resolve, 50));
  ns.ip("route", "add", "198.51.100.0/24", "dev", "v0");
  let seen = await first;
  while (!seen.done && seen.value.message.rtmDstLen !== 24) seen = await events.next();
  assert.equal(seen.done, false);
  assert.equal(seen.value!.op, "newroute");
  assert.equal(seen.value!.message.dst, "198.51.100.0");
  await events.return();
});
