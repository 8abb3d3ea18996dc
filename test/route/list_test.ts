// Every list of the everyday API compared field by field with `ip -j` / `ip -d -j` in a fresh
// namespace holding varied objects: veth, bridge and port, vxlan, macvlan; v4 and v6 addresses
// with lifetimes and labels; multipath, blackhole, other tables; rules with fwmark; neighbours.

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { execFileSync } from "node:child_process";
import { before, test } from "node:test";
import { NETLINK_ROUTE } from "../../src/constants.ts";
import { open } from "../../src/open.ts";
import { type Link, openRoute, type RouteClient, TrafficControl } from "../../src/route/mod.ts";
import { afterFile } from "../_after_file.ts";
import { bigintsIn } from "../_json.ts";
import { Netns } from "../host/_netns.ts";
import {
  addressAsIp,
  addressesFromIp,
  linkFields,
  linkFromIp,
  neighbourAsIp,
  routeAsIp,
  routeFromIp,
  ruleAsIp,
} from "./_compare.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

let ns: Netns;
let ip: RouteClient;

before(async () => {
  ns = new Netns([
    "link add v0 type veth peer name v1",
    "link add br0 type bridge priority 1234 stp_state 1 forward_delay 500",
    "link set v1 master br0",
    "link set v1 type bridge_slave learning off hairpin on",
    "link add vx0 type vxlan id 42 dstport 4789 local 10.0.0.1 group 239.1.1.1 dev v0",
    "link add mv0 link v0 type macvlan mode private",
    "link set v0 up",
    "link set v1 up",
    "link set br0 up",
    "link set v0 alias uplink",
    "link property add dev v0 altname uplink0 altname wan0",
    "link set v0 mtu 1400",
    // The common fields away from their defaults: a group, promiscuity 2 on a bridge port,
    // smaller GSO/GRO sizes (which set the IPv4 ones too), a link held down.
    "link set v0 group 5",
    "link set v1 promisc on allmulticast on",
    "link set v0 gso_max_size 32768 gso_max_segs 100 gro_max_size 32000",
    "link set vx0 protodown on",
    "link set vx0 protodown_reason 2 on",
    "link set vx0 protodown_reason 5 on",
    "link set mv0 addrgenmode none",
    "link set br0 addrgenmode random",
    "addr add 10.0.0.1/24 brd + dev v0 label v0:a valid_lft 1000 preferred_lft 500",
    "addr add 10.0.0.9/24 dev v0",
    "addr add 10.9.0.1 peer 10.9.0.2/32 dev v0",
    "addr add 2001:db8::1/64 dev v0 nodad",
    "addr add 2001:db8:1::1/64 dev v0 nodad noprefixroute valid_lft 900 preferred_lft 300",
    "addr add 10.1.0.1/24 dev br0",
    "route add 10.5.0.0/16 via 10.0.0.2 table 100 metric 5 proto static",
    "route add blackhole 10.6.0.0/16",
    "route add unreachable 10.8.0.0/16 table 200",
    "route add 10.7.0.0/16 nexthop via 10.0.0.2 weight 2 nexthop via 10.1.0.2 dev br0 weight 3",
    "route add 2001:db8:5::/48 via 2001:db8::2 dev v0 proto static metric 7",
    "route add prohibit 2001:db8:6::/48",
    "rule add fwmark 0x64/0xff table 100 pref 100",
    "rule add from 10.10.0.0/16 to 192.0.2.0/24 iif v0 table main pref 200",
    "rule add from 198.51.100.0/24 blackhole pref 300",
    // Inverted, goto, tos, nop: what ip shows of each ("not", "goto", "tos", "nop").
    "rule add not from 10.20.0.0/16 goto 32766 pref 400",
    "rule add tos 0x10 oif v0 table 5 pref 401",
    "rule add nop pref 402",
    "neigh add 10.0.0.5 lladdr 02:00:00:00:00:05 dev v0 nud permanent",
    "neigh add 10.0.0.6 lladdr 02:00:00:00:00:06 dev v0 nud stale",
    // States that hold still: reachable decays to stale within seconds, which would race ip.
    "neigh add 2001:db8::5 lladdr 02:00:00:00:00:07 dev v0 nud stale router",
    "neigh add 10.0.0.7 lladdr 02:00:00:00:00:08 dev v0 nud noarp",
    "neigh add 10.1.0.5 lladdr 02:00:00:00:00:09 dev br0 nud permanent",
  ]);
  ns.ip("-6", "rule", "add", "from", "2001:db8::/32", "table", "100", "pref", "150");
  ip = await openRoute({ netns: ns.name });
});

afterFile(() => {
  ip?.close();
  ns?.[Symbol.dispose]();
});

const indexes = (links: Json[]) =>
  new Map<string, number>(links.map((l: Json) => [l.ifname, l.ifindex]));

test("link.list() equals `ip -s -s -d -j link show`, field by field", async () => {
  const theirs: Json[] = ns.json("-s", "-s", "-d", "link", "show");
  const index = indexes(theirs);
  const ours = await ip.link.list();
  assert.deepEqual(ours.map(linkFields), theirs.map((l) => linkFromIp(l, index)));
  assert.ok(ours.some((l) => l.kind === "vxlan") && ours.some((l) => l.portKind === "bridge"));
  // A link's alternative names, and a link found by one of them, as `ip link show wan0` does.
  assert.deepEqual(ours.find((l) => l.name === "v0")!.altnames, ["uplink0", "wan0"]);
  assert.equal((await ip.link.get("wan0")).name, "v0");
});

test("link fields ip 6.1 does not print: carrier up/down counts, IPv4 GSO/GRO sizes", async () => {
  const v0 = await ip.link.get("v0");
  const sysfs = (file: string) =>
    Number(ns.ip("netns", "exec", ns.name, "cat", `/sys/class/net/v0/${file}`).trim());
  assert.equal(v0.carrierUpCount, sysfs("carrier_up_count"));
  assert.equal(v0.carrierDownCount, sysfs("carrier_down_count"));
  assert.equal(v0.carrierChanges, v0.carrierUpCount! + v0.carrierDownCount!);
  // The kernel sets the IPv4 sizes with the others when they are at most 64k.
  assert.equal(v0.gsoIpv4MaxSize, 32768);
  assert.equal(v0.groIpv4MaxSize, 32000);
  assert.equal(v0.group, 5);
  assert.equal((await ip.link.get("lo")).group, "default");
  assert.equal((await ip.link.get("vx0")).protoDown, true);
});

test("link mode, type, IPv6 address generation mode and protodown reasons, as ip -d -j shows them", async () => {
  const links = new Map((await ip.link.list()).map((l) => [l.name, l]));
  const vx0 = links.get("vx0")!;
  assert.deepEqual(vx0.protoDownReason, [2, 5]);
  assert.equal(links.get("v0")!.protoDownReason, undefined, "none set: absent");
  assert.equal(links.get("lo")!.linkType, "loopback");
  assert.equal(links.get("v0")!.linkType, "ether");
  assert.equal(links.get("v0")!.linkmode, "default");
  assert.equal(links.get("v0")!.addrGenMode, "eui64");
  assert.equal(links.get("mv0")!.addrGenMode, "none");
  assert.equal(links.get("br0")!.addrGenMode, "random");
  // Each against ip's own print of it, for every link (veth, bridge, vxlan, macvlan, lo).
  for (const theirs of ns.json<Json[]>("-d", "link", "show")) {
    const ours = links.get(theirs.ifname)!;
    assert.equal(ours.linkmode, theirs.linkmode.toLowerCase(), theirs.ifname);
    assert.equal(ours.linkType, theirs.link_type, theirs.ifname);
    assert.equal(ours.addrGenMode, theirs.inet6_addr_gen_mode, theirs.ifname);
    assert.deepEqual(ours.protoDownReason, theirs.proto_down_reason?.map(Number), theirs.ifname);
  }
});

test("link stats equal `ip -s -j link show`'s, after traffic", () => {
  // A few datagrams over lo, from inside the namespace.
  ns.ip(
    "netns",
    "exec",
    ns.name,
    "bash",
    "-c",
    "for i in 1 2 3; do echo hi > /dev/udp/127.0.0.1/9; done",
  );
  return ip.link.get("lo").then((lo) => {
    const theirs = ns.json<Json[]>("-s", "link", "show", "lo")[0].stats64;
    assert.deepEqual(lo.stats, {
      rxBytes: theirs.rx.bytes,
      rxPackets: theirs.rx.packets,
      rxErrors: theirs.rx.errors,
      rxDropped: theirs.rx.dropped,
      rxOverErrors: theirs.rx.over_errors,
      multicast: theirs.rx.multicast,
      txBytes: theirs.tx.bytes,
      txPackets: theirs.tx.packets,
      txErrors: theirs.tx.errors,
      txDropped: theirs.tx.dropped,
      txCarrierErrors: theirs.tx.carrier_errors,
      collisions: theirs.tx.collisions,
    });
    assert.ok(lo.stats!.txPackets >= 3);
  });
});

test("link.get() by name and by index equals the list's entry", async () => {
  const list = await ip.link.list();
  for (const link of list) {
    assert.deepEqual(linkFields(await ip.link.get(link.name)), linkFields(link));
    assert.deepEqual(linkFields(await ip.link.get(link.index)), linkFields(link));
  }
});

test("link kinds' data equals ip -d -j's: bridge, bridge port, vxlan, macvlan", async () => {
  const info = (name: string) => ns.json<Json[]>("-d", "link", "show", name)[0].linkinfo;
  const br = await ip.link.get("br0");
  assert.ok(br.kind === "bridge");
  const brIp = info("br0").info_data;
  for (
    const [ours, theirs] of [
      ["stpState", "stp_state"],
      ["priority", "priority"],
      ["forwardDelay", "forward_delay"],
      ["helloTime", "hello_time"],
      ["maxAge", "max_age"],
      ["ageingTime", "ageing_time"],
      ["vlanFiltering", "vlan_filtering"],
      ["mcastSnooping", "mcast_snooping"],
    ] as const
  ) {
    assert.equal(br.data![ours], brIp[theirs], ours);
  }
  assert.equal(br.data!.groupAddr, brIp.group_addr);
  // ip prints a bridge id as "8000.2:0:0:0:0:1" (prio in hex, then the MAC unpadded).
  const ipBridgeId = (text: string) => {
    const [prio, mac] = text.split(".");
    return {
      prio: parseInt(prio, 16),
      addr: mac.split(":").map((byte) => byte.padStart(2, "0")).join(":"),
    };
  };
  assert.deepEqual(br.data!.bridgeId, ipBridgeId(brIp.bridge_id));
  assert.deepEqual(br.data!.rootId, ipBridgeId(brIp.root_id));
  // Written as read, the MAC address as text: it was a TypeError from the codec (the kernel
  // ignores a bridge id in a change).
  await ip.link.set("br0", { data: { bridgeId: br.data!.bridgeId, rootId: br.data!.rootId } });

  const port = await ip.link.get("v1");
  assert.ok(port.portKind === "bridge");
  const portIp = info("v1").info_slave_data;
  for (
    const [ours, theirs] of [
      ["learning", "learning"],
      ["mode", "hairpin"],
      ["guard", "guard"],
      ["protect", "root_block"],
      ["fastLeave", "fastleave"],
      ["unicastFlood", "flood"],
      ["proxyarp", "proxy_arp"],
      ["mcastFlood", "mcast_flood"],
      ["bcastFlood", "bcast_flood"],
      ["isolated", "isolated"],
      ["neighSuppress", "neigh_suppress"],
      ["vlanTunnel", "vlan_tunnel"],
      ["priority", "priority"],
      ["cost", "cost"],
    ] as const
  ) {
    assert.equal(port.portData![ours], portIp[theirs], ours);
  }
  assert.equal(port.portData!.learning, false);
  assert.equal(port.portData!.mode, true);
  // The STP state by ip's name ("forwarding"...), the ids with their MAC as text.
  assert.equal(port.portData!.state, portIp.state);
  assert.equal(typeof port.portData!.state, "string");
  assert.deepEqual(port.portData!.bridgeId, ipBridgeId(portIp.bridge_id));
  assert.deepEqual(port.portData!.rootId, ipBridgeId(portIp.root_id));

  const vx = await ip.link.get("vx0");
  assert.ok(vx.kind === "vxlan");
  const vxIp = info("vx0").info_data;
  assert.deepEqual(
    {
      id: vx.data!.id,
      group: vx.data!.group,
      local: vx.data!.local,
      port: vx.data!.port,
      learning: vx.data!.learning,
      ageing: vx.data!.ageing,
      df: vx.data!.df,
      link: vx.data!.link,
    },
    {
      id: vxIp.id,
      group: vxIp.group,
      local: vxIp.local,
      port: vxIp.port,
      learning: vxIp.learning,
      ageing: vxIp.ageing,
      df: vxIp.df,
      link: (await ip.link.get(vxIp.link)).index,
    },
  );
  const [mv] = await ip.link.list({ kind: "macvlan" });
  assert.equal(mv.name, "mv0");
  assert.equal(mv.data!.mode, info("mv0").info_data.mode);
  assert.equal(mv.data!.mode, "private");
  assert.equal(vx.data!.df, "unset");
});

/**
 * Waits until no address in the test namespace is tentative: an IPv6 address's DAD ends a second
 * or more after its link came up (longer on a busy machine), and two listings taken across that
 * end differ ("tentative").
 */
async function dadDone(): Promise<void> {
  const tentative = () =>
    ns.json<Json[]>("-6", "address", "show", "tentative")
      .some((l) => (l.addr_info as Json[] | undefined ?? []).length > 0);
  for (let i = 0; tentative(); i++) {
    assert.ok(i < 300, "an address still tentative after 30 s");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * `ours` with each finite lifetime replaced by `theirs`' where the two differ by at most a
 * second: the kernel counts lifetimes down in seconds, and one may pass between two listings.
 */
function withinASecond(ours: Json[], theirs: Json[]): Json[] {
  return ours.map((a, i) => {
    const b = theirs[i] ?? {};
    const out = { ...a };
    for (const key of ["valid_life_time", "preferred_life_time"]) {
      const [x, y] = [a[key], b[key]];
      if (typeof x === "number" && typeof y === "number" && Math.abs(x - y) <= 1) out[key] = y;
    }
    return out;
  });
}

test("addr.list() equals `ip -j address show`: lifetimes, labels, peers, broadcast, flags", async () => {
  await dadDone();
  // ip groups them by link; the kernel (and the API) lists IPv4 first, then IPv6. Both sorted
  // with the lifetimes left out, so that a second passing between them cannot change the order.
  const key = ({ valid_life_time: _, preferred_life_time: __, ...rest }: Json) => rest;
  const sorted = (a: Json[]) =>
    a.map((x) => [JSON.stringify(key(x)), x] as const)
      .sort(([x], [y]) => x < y ? -1 : 1).map(([, x]) => x);
  const ours = sorted((await ip.addr.list()).map(addressAsIp));
  const theirs = sorted(addressesFromIp(ns.json("address", "show")));
  assert.deepEqual(withinASecond(ours, theirs), theirs);
  assert.ok(ours.some((a) => a.label === "v0:a" && a.valid_life_time !== 4294967295));
});

test("addr.list(): an IPv6 privacy address is \"temporary\", as ip names it, not \"secondary\"", async () => {
  using own = new Netns(["link add t0 type veth peer name t1", "link set t0 up", "link set t1 up"]);
  execFileSync("ip", [
    "netns",
    "exec",
    own.name,
    "sysctl",
    "-qw",
    "net.ipv6.conf.t0.use_tempaddr=2",
  ]);
  // The kernel makes a temporary address from a mngtmpaddr one once that one's DAD is done.
  own.ip("addr", "add", "2001:db8:7::1/64", "dev", "t0", "mngtmpaddr", "nodad");
  const theirs = () =>
    addressesFromIp(own.json("-6", "address", "show", "dev", "t0", "temporary"))
      .filter((a) => String(a.local).startsWith("2001:db8:7:"));
  for (let i = 0; theirs().length === 0; i++) {
    assert.ok(i < 200, "no temporary address after 20 s");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await using client = await openRoute({ netns: own.name });
  const ours = (await client.addr.list({ dev: "t0", family: "inet6" }))
    .filter((a) => a.flags.includes("temporary"));
  const lifetimes = ({ valid_life_time: _, preferred_life_time: __, ...rest }: Json) => rest;
  assert.deepEqual(ours.map(addressAsIp).map(lifetimes), theirs().map(lifetimes));
  assert.ok(!ours[0].flags.includes("secondary"));
});

test("addr.list() filters by link and family, as ip does", async () => {
  await dadDone();
  const v0 = (await ip.addr.list({ dev: "v0", family: "inet6" })).map(addressAsIp);
  assert.equal(v0.length, 3);
  assert.deepEqual(v0, addressesFromIp(ns.json("-6", "address", "show", "dev", "v0")));
  const v4 = (await ip.addr.list({ family: "inet" })).map(addressAsIp);
  assert.deepEqual(v4, addressesFromIp(ns.json("-4", "address", "show")));
});

test("route.list({ table: 'all' }) equals `ip -j route show table all` (v4 and v6)", async () => {
  for (const family of ["inet", "inet6"] as const) {
    const ours = (await ip.route.list({ table: "all", family })).map((r) => routeAsIp(r, true));
    const theirs = ns.json<Json[]>(family === "inet" ? "-4" : "-6", "route", "show", "table", "all")
      .map(routeFromIp);
    assert.deepEqual(ours, theirs, family);
  }
  const all = await ip.route.list({ table: "all" });
  assert.ok(all.some((r) => r.type === "blackhole"));
  assert.ok(all.some((r) => r.nexthops?.length === 2));
});

test("route.list() defaults to table main; table, dev and protocol filters match ip's", async () => {
  const v4 = (rs: Json[]) => rs.map(routeFromIp);
  const main = (await ip.route.list({ family: "inet" })).map((r) => routeAsIp(r, false));
  assert.deepEqual(main, v4(ns.json("-4", "route", "show")));
  const t100 = (await ip.route.list({ table: 100, family: "inet" })).map((r) =>
    routeAsIp(r, false)
  );
  assert.deepEqual(t100, v4(ns.json("-4", "route", "show", "table", "100")));
  assert.equal(t100.length, 1);
  const viaBr0 = (await ip.route.list({ dev: "br0", family: "inet" })).map((r) =>
    routeAsIp(r, false)
  );
  assert.deepEqual(
    viaBr0,
    v4(ns.json("-4", "route", "show", "dev", "br0")).map((r) => ({ ...r, dev: "br0" })),
  );
  const statics = await ip.route.list({ table: "all", protocol: "static" });
  assert.deepEqual(statics.map((r) => r.dst).sort(), ["10.5.0.0/16", "2001:db8:5::/48"]);
});

test("route.list() of a table with no routes is empty for every family, not the kernel's ENOENT", async () => {
  // The kernel answers a dump of a table it has not made (no route was ever added to it) with
  // ENOENT "FIB table does not exist" when one family is asked for, and with nothing for
  // AF_UNSPEC: an empty table, whichever was asked, as pyroute2 and vishvananda list it.
  for (const family of [undefined, "inet", "inet6"] as const) {
    assert.deepEqual(await ip.route.list({ table: 4242, ...(family ? { family } : {}) }), []);
    assert.deepEqual(
      await ip.route.list({ table: 4242, cached: true, ...(family ? { family } : {}) }),
      [],
    );
  }
});

test("routes without flags share one frozen empty flags array (src/route/README.md's Cost)", async () => {
  const flagless = (await ip.route.list({ table: "all" })).filter((r) => r.flags.length === 0);
  assert.ok(flagless.length >= 2, `${flagless.length} routes without flags`);
  assert.ok(flagless.every((r) => r.flags === flagless[0].flags));
  assert.ok(Object.isFrozen(flagless[0].flags));
  assert.throws(() => (flagless[0].flags as string[]).push("onlink"), TypeError);
});

test("link.list() filters by kind and master on the client's own (strict) socket", async () => {
  assert.deepEqual((await ip.link.list({ master: "br0" })).map((l) => l.name), ["v1"]);
  assert.deepEqual((await ip.link.list({ kind: "vxlan" })).map((l) => l.name), ["vx0"]);
});

test("filters hold on a socket without strict checking (the library filters)", async () => {
  await using plain = await openRoute({ socket: await open(NETLINK_ROUTE, { netns: ns.name }) });
  try {
    const t100 = await plain.route.list({ table: 100 });
    assert.deepEqual(t100.map((r) => r.dst), ["10.5.0.0/16"]);
    const br0 = await plain.addr.list({ dev: "br0" });
    assert.deepEqual(br0.map((a) => a.address), [
      "10.1.0.1",
      ...br0.slice(1).map((a) => a.address),
    ]);
    assert.ok(br0.every((a) => a.dev === "br0"));
    const ports = await plain.link.list({ master: "br0" });
    assert.deepEqual(ports.map((l) => l.name), ["v1"]);
    const veths = await plain.link.list({ kind: "veth" });
    assert.deepEqual(veths.map((l) => l.name).sort(), ["v0", "v1"]);
  } finally {
    plain.socket.close();
  }
});

test("route.get() equals `ip -j route get`", async () => {
  for (const address of ["10.0.0.77", "10.1.0.5", "2001:db8::99"]) {
    const ours = await ip.route.get(address);
    const theirs = ns.json<Json[]>("route", "get", address)[0];
    assert.equal(ours.dst, theirs.dst, address);
    assert.equal(ours.dev, theirs.dev, address);
    assert.equal(ours.prefsrc, theirs.prefsrc, address);
    assert.equal(ours.gateway, theirs.gateway, address);
  }
  // from, oif, and a forwarding lookup (iif, with forwarding on), as ip route get takes them.
  const viaOif = await ip.route.get("10.1.0.5", { oif: "br0", from: "10.1.0.1" });
  const ipOif = ns.json<Json[]>("route", "get", "10.1.0.5", "from", "10.1.0.1", "oif", "br0")[0];
  assert.deepEqual([viaOif.dev, viaOif.prefsrc ?? viaOif.src], [
    ipOif.dev,
    ipOif.prefsrc ?? ipOif.from,
  ]);
  ns.ip("netns", "exec", ns.name, "sysctl", "-qw", "net.ipv4.ip_forward=1");
  const forwarded = await ip.route.get("10.1.0.5", { from: "10.0.0.2", iif: "v0" });
  const ipForwarded =
    ns.json<Json[]>("route", "get", "10.1.0.5", "from", "10.0.0.2", "iif", "v0")[0];
  assert.equal(forwarded.dev, ipForwarded.dev);
  assert.equal(forwarded.dev, "br0");
  assert.equal(forwarded.raw.iif, (await ip.link.get("v0")).index);
  const marked = await ip.route.get("10.5.1.1", { mark: 0x64 });
  assert.equal(marked.gateway, "10.0.0.2"); // the fwmark rule sends it to table 100
  assert.equal(marked.table, 100);
});

test("route.get() names the link as it is named now, not as the client last listed it", async () => {
  // The name came from the client's cache, filled by the last list(): a link renamed since
  // was given its old name.
  using renamed = new Netns([
    "link add r0 type veth peer name r1",
    "link set r0 up",
    "addr add 10.33.0.1/24 dev r0",
  ]);
  await using client = await openRoute({ netns: renamed.name });
  assert.equal((await client.route.get("10.33.0.7")).dev, "r0");
  renamed.ipBatch(["link set r0 down", "link set r0 name r5", "link set r5 up"]);
  assert.equal((await client.route.get("10.33.0.7")).dev, "r5");
  assert.equal(renamed.json<Json[]>("route", "get", "10.33.0.7")[0].dev, "r5");
});

test("neigh.list() equals `ip -j neigh show nud all`", async () => {
  // The entries made here: the kernel adds its own as it solicits routers on v0 (multicast,
  // link-local), between our dump and ip's.
  const made = (n: Json) => ["10.0.0.5", "10.0.0.6", "10.0.0.7", "2001:db8::5"].includes(n.dst);
  const ours = (await ip.neigh.list()).map(neighbourAsIp).filter(made);
  const theirs = ns.json<Json[]>("neigh", "show", "nud", "all").filter(made);
  assert.deepEqual(ours, theirs);
  assert.deepEqual(ours.map((n) => (n.state as string[])[0]).sort(), [
    "NOARP",
    "PERMANENT",
    "STALE",
    "STALE",
  ]);
  assert.deepEqual(
    (await ip.neigh.list({ family: "inet6" })).map(neighbourAsIp).filter(made),
    ns.json<Json[]>("-6", "neigh", "show", "nud", "all").filter(made),
  );
});

test("neigh.list() filters by link and family, as `ip neigh show dev D` does", async () => {
  // The kernel adds entries of its own (multicast, routers) at any time: compare the ones made.
  const made = ["10.0.0.5", "10.0.0.6", "10.0.0.7", "2001:db8::5", "10.1.0.5"];
  const shown = async (filter: Parameters<RouteClient["neigh"]["list"]>[0], ...args: string[]) => {
    const ours = await ip.neigh.list(filter);
    const theirs = ns.json<Json[]>(
      ...args,
      "neigh",
      "show",
      "dev",
      filter!.dev as string,
      "nud",
      "all",
    );
    assert.ok(ours.every((n) => n.dev === filter!.dev), JSON.stringify(ours));
    const kept = (addresses: string[]) => addresses.filter((a) => made.includes(a)).sort();
    assert.deepEqual(kept(ours.map((n) => n.address)), kept(theirs.map((n) => n.dst)));
    return kept(ours.map((n) => n.address));
  };
  assert.deepEqual(await shown({ dev: "br0" }), ["10.1.0.5"]);
  // br0 holds FDB entries (family bridge) that a dump of every family returns: not neighbours.
  const families = new Set((await ip.neigh.list()).map((n) => n.family));
  assert.deepEqual([...families].sort(), ["inet", "inet6"]);
  assert.deepEqual(await shown({ dev: "v0", family: "inet6" }, "-6"), ["2001:db8::5"]);
  assert.deepEqual(await shown({ dev: "v0", family: "inet" }, "-4"), [
    "10.0.0.5",
    "10.0.0.6",
    "10.0.0.7",
  ]);
});

test("neigh.list(): flags as ip prints them, in its order, NDA_FLAGS_EXT's managed included", async () => {
  using own = new Netns([
    "link add n0 type veth peer name n1",
    "link set n0 up",
    "addr add 10.0.0.1/24 dev n0",
    "neigh add 10.0.0.5 lladdr 02:00:00:00:00:05 dev n0 nud stale router extern_learn",
    "neigh add 10.0.0.6 dev n0 managed",
  ]);
  await using client = await openRoute({ netns: own.name });
  // The flags only: the kernel resolves a managed entry (its state moves as it probes).
  const flagsOf = (n: Json) => Object.keys(n).filter((key) => n[key] === null);
  const theirs = own.json<Json[]>("neigh", "show", "dev", "n0", "nud", "all")
    .filter((n) => n.dst === "10.0.0.5" || n.dst === "10.0.0.6")
    .map((n) => [n.dst, flagsOf(n)]);
  const ours = (await client.neigh.list({ dev: "n0" }))
    .filter((n) => n.address === "10.0.0.5" || n.address === "10.0.0.6")
    .map((n) => [n.address, n.flags]);
  assert.deepEqual(ours, theirs);
  assert.deepEqual(Object.fromEntries(ours), {
    "10.0.0.5": ["router", "extern_learn"],
    "10.0.0.6": ["managed"],
  });
});

test("rule.list() equals `ip -j rule show`, v4 and v6", async () => {
  assert.deepEqual(
    (await ip.rule.list({ family: "inet" })).map(ruleAsIp),
    ns.json("-4", "rule", "show"),
  );
  assert.deepEqual(
    (await ip.rule.list({ family: "inet6" })).map(ruleAsIp),
    ns.json("-6", "rule", "show"),
  );
  const marked = (await ip.rule.list()).find((r) => r.priority === 100)!;
  assert.deepEqual([marked.fwmark, marked.fwmask, marked.table, marked.action], [
    0x64,
    0xff,
    100,
    "lookup",
  ]);
  // `not from 10.20.0.0/16`: the rule is for what does NOT come from there.
  const inverted = (await ip.rule.list()).find((r) => r.priority === 400)!;
  assert.deepEqual([inverted.invert, inverted.from, inverted.action, inverted.goto], [
    true,
    "10.20.0.0/16",
    "goto",
    32766,
  ]);
  assert.equal(marked.invert, false);
});

test("rule.list(): a rule whose action ip has no word for (ip rule add type 0, 4, 5) is its number", async () => {
  using own = new Netns();
  own.ipBatch(["rule add pref 510 type 0", "rule add pref 514 type 4", "rule add pref 515 type 5"]);
  await using client = await openRoute({ netns: own.name });
  const rules = (await client.rule.list({ family: "inet" })).filter((r) => r.priority >= 510);
  const actions = rules.map((r) => `${r.priority} ${r.action}`);
  assert.deepEqual(actions.slice(0, 3), ["510 0", "514 4", "515 5"]);
});

test("rule.list(): selectors Rule does not name are in raw, as ip -j shows them", async () => {
  using own = new Netns([
    "rule add ipproto tcp sport 1000-2000 dport 80 lookup 104 pref 104",
    "rule add uidrange 100-200 lookup 105 pref 105",
    "rule add lookup main suppress_prefixlength 0 pref 106",
  ]);
  await using client = await openRoute({ netns: own.name });
  const rules = await client.rule.list({ family: "inet" });
  const pref = (n: number) => rules.find((r) => r.priority === n)!;
  const shown = (n: number) => own.json("rule", "show", "pref", String(n))[0];
  // What Rule shows of each is "from all lookup N": the selectors are in raw.
  assert.deepEqual([pref(104).from, pref(104).to, pref(104).table], ["all", "all", 104]);
  const ports = shown(104);
  assert.equal(pref(104).raw.ipProto, 6);
  assert.equal(ports.ipproto, "tcp");
  assert.deepEqual(pref(104).raw.sportRange, { start: ports.sport_start, end: ports.sport_end });
  assert.deepEqual(pref(104).raw.dportRange, { start: ports.dport, end: ports.dport });
  const uids = shown(105);
  assert.deepEqual(pref(105).raw.uidRange, { start: uids.uid_start, end: uids.uid_end });
  assert.equal(pref(106).raw.suppressPrefixlen, shown(106).suppress_prefixlen);
});

test("every list goes through JSON.stringify: a bridge's and its port's u64 options as numbers (exact to 2^53, as LinkStats), bigints only in raw", async () => {
  using own = new Netns([
    "link add v0 type veth peer name v1",
    "link add br0 type bridge forward_delay 500",
    "link set v1 master br0",
    "link set v0 up",
    "link set v1 up",
    "link set br0 up",
    "addr add 10.0.0.1/24 dev v0",
    "addr add 2001:db8::1/64 dev v0 nodad",
    "route add 10.5.0.0/16 via 10.0.0.2 table 100",
    "route add blackhole 10.6.0.0/16",
    "rule add fwmark 0x64 table 100 pref 100",
    "neigh add 10.0.0.5 lladdr 02:00:00:00:00:05 dev v0 nud permanent",
    "neigh add proxy 10.0.0.77 dev v0",
    "nexthop add id 7 via 10.0.0.2 dev v0",
  ]);
  await using client = await openRoute({ netns: own.name });
  const lists: Record<string, unknown> = {
    links: await client.link.list(),
    bridge: await client.link.get("br0"),
    addresses: await client.addr.list(),
    routes: await client.route.list({ table: "all" }),
    cached: await client.route.list({ cached: true }),
    lookup: await client.route.get("10.0.0.7"),
    neighbours: await client.neigh.list(),
    proxies: await client.neigh.list({ proxy: true }),
    rules: await client.rule.list(),
    nexthops: await client.nexthop.list(),
  };
  for (const [name, list] of Object.entries(lists)) {
    assert.deepEqual(bigintsIn(list, name), [], name);
    assert.doesNotThrow(() => JSON.stringify(list), name);
  }
  const bridge = lists.bridge as Link;
  assert.ok(bridge.kind === "bridge");
  const port = (lists.links as Link[]).find((l) => l.name === "v1")!;
  assert.ok(port.portKind === "bridge");
  const raw = bridge.raw.linkinfo!.data as Record<string, unknown>;
  assert.equal(typeof raw.helloTimer, "bigint", "the typed layer's rule: u64 is a bigint");
  assert.equal(bridge.data!.helloTimer, Number(raw.helloTimer));
  assert.equal(bridge.data!.forwardDelay, 500, "the other values as before");
  const rawPort = port.raw.linkinfo!.slaveData as Record<string, unknown>;
  assert.equal(typeof rawPort.holdTimer, "bigint");
  assert.equal(port.portData!.holdTimer, Number(rawPort.holdTimer));
  // JSON.stringify gives the link without raw (a getter); what it names round-trips.
  const parsed = JSON.parse(JSON.stringify(bridge));
  assert.equal(parsed.raw, undefined);
  assert.deepEqual(parsed.data.bridgeId, bridge.data!.bridgeId);
  // A u64 option read as a number is taken back by set() (the typed layer encodes it).
  await client.link.set("br0", { data: { mcastQueryIntvl: bridge.data!.mcastQueryIntvl } });
});

test("a link name that is not UTF-8 (the kernel allows it) reads with U+FFFD; get() by it says to use the index, which finds it", async () => {
  using own = new Netns(["link add vq0 type veth peer name vq1"]);
  // The name's bytes 0xff, "x", made by printf (an argument from JavaScript would be UTF-8).
  execFileSync("sh", ["-c", `ip -n ${own.name} link set vq0 name "$(printf '\\377x')"`]);
  await using client = await openRoute({ netns: own.name });
  const link = (await client.link.list()).find((l) => l.name === "\ufffdx")!;
  assert.ok(link, "listed, its name read with U+FFFD");
  await assert.rejects(
    client.link.get(link.name),
    (e: Error) =>
      /no link named "\ufffdx" \(a name read with U\+FFFD .*find that link by its index, or by its nameBytes\)/
        .test(
          e.message,
        ),
  );
  assert.equal((await client.link.get(link.index)).name, "\ufffdx");
  await assert.rejects(
    client.link.set(link.index, { netns: Symbol("x") as never }),
    /netns: Symbol\(x\) is not a namespace name/,
  );
});

test("JSON.stringify of what every list() gives is each object's fields, bytes as an array of numbers (nameBytes), raw left out", async () => {
  using own = new Netns([
    "link add br0 type bridge",
    "link add va0 type veth peer name vb0",
    "link set va0 master br0",
    "link add vx0 type vxlan id 5 dstport 4789 local 10.9.0.1",
    "link set br0 up",
    "link set va0 up",
    "link set vb0 up",
    "addr add 10.9.0.1/24 dev br0",
    "addr add 2001:db8::1/64 dev br0 nodad",
  ]);
  // A nexthop object on br0 needs its carrier, which comes once its port's does: a moment after
  // the links are up ("Carrier for nexthop device is down" under load).
  for (let i = 0; i < 200; i++) {
    if (own.json<{ flags: string[] }[]>("link", "show", "br0")[0].flags.includes("LOWER_UP")) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  own.ipBatch([
    "route add 10.50.0.0/16 via 10.9.0.2 metric 20 mtu lock 1300",
    "route add 10.80.0.0/16 nexthop via 10.9.0.2 weight 1 nexthop via 10.9.0.3 weight 3",
    "route add 10.22.0.0/16 encap ip id 5 dst 192.0.2.4 dev br0",
    "nexthop add id 5 via 10.9.0.2 dev br0",
    "nexthop add id 6 group 5",
    "neigh add 10.9.0.5 lladdr 02:00:00:00:00:05 dev br0",
    "rule add fwmark 0x64/0xff table 100 pref 100",
  ]);
  for (
    const command of [
      "qdisc add dev vb0 root handle 1: htb",
      "class add dev vb0 parent 1: classid 1:1 htb rate 1mbit",
      "filter add dev vb0 parent 1: protocol ip u32 match ip dst 10.0.0.0/8 flowid 1:1",
    ]
  ) execFileSync("tc", ["-n", own.name, ...command.split(" ")]);
  await using ip = await openRoute({ netns: own.name });
  await ip.link.add({
    name: new Uint8Array([0x66, 0xff, 0x30]),
    kind: "veth",
    peer: { name: "p0" },
  });
  const tc = await TrafficControl.open({ netns: own.name });
  const lists: Record<string, object[]> = {
    link: await ip.link.list(),
    addr: await ip.addr.list(),
    route: await ip.route.list({ table: "all" }),
    neigh: await ip.neigh.list(),
    fdb: await ip.fdb.list(),
    rule: await ip.rule.list(),
    nexthop: await ip.nexthop.list(),
    qdisc: await tc.qdiscs(),
    class: await tc.classes({ dev: "vb0" }),
    filter: await tc.filters({ dev: "vb0" }),
  };
  tc.close();
  for (const [what, objects] of Object.entries(lists)) {
    assert.ok(objects.length > 0, what);
    const parsed = JSON.parse(JSON.stringify(objects)) as Json[];
    for (const [i, object] of objects.entries()) {
      // The object's own fields, in its order: no raw (a getter), nothing added.
      assert.deepEqual(Object.keys(parsed[i]), Object.keys(object), `${what} ${i}`);
      // Written as JSON.stringify writes them, bytes and forever aside: nothing else changes.
      const bytes = (_key: string, value: unknown) =>
        value instanceof Uint8Array ? [...value] : value === Infinity ? 0xffff_ffff : value;
      assert.equal(JSON.stringify(parsed[i]), JSON.stringify({ ...object }, bytes), `${what} ${i}`);
    }
  }
  // A name that is not UTF-8: its bytes as an array, which Uint8Array takes back. They were an
  // object keyed by index ({"0":102,"1":255,"2":48}).
  const odd = JSON.parse(JSON.stringify(lists.link)).find((l: Json) => l.nameBytes);
  assert.deepEqual(odd.nameBytes, [0x66, 0xff, 0x30]);
  assert.equal((await ip.link.get(new Uint8Array(odd.nameBytes))).index, odd.index);
  // Inside a monitor's event (a Link in an object) too.
  assert.match(JSON.stringify({ value: lists.link }), /"nameBytes":\[102,255,48\]/);
});

test("a link name that is not UTF-8 names the link back by its nameBytes: listed, got, set down, deleted, exactly", async () => {
  using own = new Netns();
  // The name's bytes 0xff 0xfe, made by printf (an argument from JavaScript would be UTF-8).
  execFileSync("sh", [
    "-c",
    `ip -n ${own.name} link add "$(printf '\\377\\376')" type veth peer name p1 && `
    + `ip -n ${own.name} link set "$(printf '\\377\\376')" up`,
  ]);
  await using client = await openRoute({ netns: own.name });
  const links = await client.link.list();
  const link = links.find((l) => l.nameBytes !== undefined)!;
  assert.ok(link, "listed with its bytes");
  assert.equal(link.name, "\ufffd\ufffd");
  assert.deepEqual([...link.nameBytes!], [0xff, 0xfe]);
  // Only a name that is not UTF-8 has them.
  assert.deepEqual(links.filter((l) => l.nameBytes !== undefined).map((l) => l.index), [
    link.index,
  ]);
  assert.equal((await client.link.get(link.nameBytes!)).index, link.index);
  assert.deepEqual([...(await client.link.get(link.index)).nameBytes!], [0xff, 0xfe]);
  // Another name of the same U+FFFD text is another link: the bytes tell them apart.
  await assert.rejects(
    client.link.get(new Uint8Array([0xfe, 0xff])),
    /ENODEV: no link named "\\xfe\\xff" \(given as bytes\)/,
  );
  assert.equal(own.json<Json[]>("link", "show", "dev", "p1")[0].link, "\ufffd\ufffd");
  await client.link.set(link.nameBytes!, { up: false });
  assert.equal((await client.link.get(link.index)).up, false);
  // By the same bytes as a LinkRef anywhere: an address on it, listed by them.
  await client.addr.add(link.nameBytes!, "10.0.0.1/24");
  assert.deepEqual((await client.addr.list({ dev: link.nameBytes! })).map((a) => a.address), [
    "10.0.0.1",
  ]);
  await client.link.delete(link.nameBytes!);
  assert.deepEqual(own.json<Json[]>("link", "show").map((l: Json) => l.ifname), ["lo"]);
  // Made and renamed with such names through the typed API too: ip lists the bytes given.
  const bytes = (...values: number[]) => new Uint8Array(values);
  await client.link.add({
    name: bytes(0x61, 0xff),
    kind: "veth",
    peer: { name: bytes(0x62, 0xfe) },
  });
  // Made again: the names in the kernel's EEXIST as they are given everywhere else (they were
  // "97,255" and "98,254", the Uint8Array's text).
  await assert.rejects(
    client.link.add({ name: bytes(0x61, 0xff), kind: "veth", peer: { name: bytes(0x62, 0xfe) } }),
    /a link named "a\\xff" or "b\\xfe" exists: link\.set\(\) changes it/,
  );
  await client.link.set(bytes(0x61, 0xff), { name: bytes(0xfe, 0xfd) });
  const ipNames = execFileSync("ip", ["-n", own.name, "-o", "link", "show"]);
  assert.ok(ipNames.includes(Buffer.from([0x20, 0xfe, 0xfd, 0x40])), "ip shows \\xfe\\xfd@");
  assert.ok(ipNames.includes(Buffer.from([0x20, 0x62, 0xfe, 0x40])), "ip shows b\\xfe@");
  const renamed = await client.link.get(bytes(0xfe, 0xfd));
  assert.deepEqual([...renamed.nameBytes!], [0xfe, 0xfd]);
  await assert.rejects(
    client.link.add({ name: bytes(0x61, 0x3a), kind: "veth" }),
    /^TypeError: name: the bytes "a:" are not a link name/,
  );
  await client.link.delete(renamed.nameBytes!);
  // Bytes that can name no link are refused before any request, as such a string is.
  for (const bad of [new Uint8Array(), new Uint8Array([0x61, 0x2f]), new Uint8Array([0x2e])]) {
    await assert.rejects(
      client.link.get(bad),
      /^TypeError: link: the bytes ".*" are not a link name or altname/,
    );
  }
});
