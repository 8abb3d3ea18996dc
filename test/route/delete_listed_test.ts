// Every object kind's delete() takes what its list() gave, as vishvananda's RouteDel(&r) takes a
// listed route: typed without casts (this file is type-checked), and it deletes exactly that one.

import assert from "node:assert/strict";
import { test } from "node:test";
import { openRoute, type Route } from "../../src/route/mod.ts";
import { Netns } from "../host/_netns.ts";

function namespace(): Netns {
  return new Netns([
    "link set lo up",
    "link add a0 type veth peer name a1",
    "link add d0 type veth peer name d1",
    "link set a0 up",
    "link set a1 up",
    "link set d0 up",
    "address add 10.0.0.1/24 dev a0",
    "address add 10.0.1.5/24 dev a0",
    "address add 10.9.0.1 peer 10.9.0.2/32 dev d0",
    "address add 2001:db8::1/64 dev a0 nodad",
    "route add 10.1.0.0/16 via 10.0.0.254 metric 7",
    "route add 10.1.0.0/16 via 10.0.0.253 metric 9",
    "route add 10.2.0.0/16 dev a0 table 100 proto static tos 0x10",
    "route add 10.3.0.0/16 nexthop via 10.0.0.2 nexthop via 10.0.0.3 weight 3",
    "route add blackhole 192.0.2.0/24 table 1000",
    "route add 2001:db8:1::/48 via 2001:db8::2 metric 5",
    "route add 2001:db8:2::/48 nexthop via 2001:db8::2 nexthop via 2001:db8::3",
    "neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev a0",
    "neigh add 2001:db8::2 lladdr 02:00:00:00:00:03 dev a0 router",
    "neigh add proxy 10.0.0.9 dev a0",
    "rule add from 10.0.0.0/8 table 100 pref 100",
    "rule add fwmark 0x64/0xff lookup 100 pref 101",
    "rule add not to 192.0.2.0/24 iif a0 goto 32766 pref 102",
    "nexthop add id 1 via 10.0.0.2 dev a0",
    "nexthop add id 2 via 10.0.0.3 dev a0",
    "nexthop add id 3 group 1/2",
    "route add 10.4.0.0/16 nhid 3",
    "route add 10.5.0.0/16 nhid 1 table 100",
  ]);
}

test("route.delete() of each listed route, every table and both families: each goes, alone", async () => {
  using ns = namespace();
  await using ip = await openRoute({ netns: ns.name });
  const key = (r: Route) =>
    `${r.family} ${r.table} ${r.type} ${r.dst} ${r.gateway} ${r.metric} ${r.nexthops?.length}`;
  const before = await ip.route.list({ table: "all" });
  assert.ok(before.some((r) => r.nexthops !== undefined && r.family === "inet6"));
  assert.ok(before.some((r) => r.table === 1000 && r.type === "blackhole"));
  assert.ok(before.some((r) => r.tos === 0x10 && r.protocol === "static"));
  // A route using a nexthop object is listed with its paths too (nexthop_compat_mode).
  assert.ok(before.some((r) => r.nhid === 1 && r.gateway === "10.0.0.2"));
  // Two routes to 10.1.0.0/16 differing only in gateway and metric: the one given goes, alone.
  for (const [i, route] of before.entries()) {
    await ip.route.delete(route);
    const left = (await ip.route.list({ table: "all" })).map(key).sort();
    assert.deepEqual(left, before.slice(i + 1).map(key).sort(), `deleting ${key(route)}`);
  }
});

test("neigh.delete(), addr.delete(), rule.delete(), nexthop.delete(), link.delete() of what list() gave", async () => {
  using ns = namespace();
  await using ip = await openRoute({ netns: ns.name });
  for (const proxy of [false, true]) {
    // Those made above (the kernel may make others meanwhile: a solicitation's).
    const entries = (await ip.neigh.list({ proxy })).filter((n) =>
      proxy || n.state === "permanent"
    );
    assert.equal(entries.length, proxy ? 1 : 2);
    for (const n of entries) await ip.neigh.delete(n);
    assert.deepEqual(
      (await ip.neigh.list({ proxy })).filter((n) => n.state === "permanent" || proxy),
      [],
    );
  }
  const addresses = (await ip.addr.list()).filter((a) => a.dev !== "lo");
  assert.ok(addresses.some((a) => a.peer !== undefined));
  for (const a of addresses) {
    await ip.addr.delete(a);
    const left = await ip.addr.list();
    assert.ok(!left.some((b) => b.index === a.index && b.address === a.address), a.address);
  }
  const rules = await ip.rule.list();
  for (const r of rules) await ip.rule.delete(r);
  assert.deepEqual(await ip.rule.list(), []);
  for (const family of ["inet", "inet6"] as const) {
    assert.deepEqual(await ip.rule.list({ family }), []);
  }
  const nexthops = await ip.nexthop.list();
  assert.equal(nexthops.length, 3);
  // The group first (a member's deletion would change it).
  for (const nh of nexthops.reverse()) await ip.nexthop.delete(nh);
  assert.deepEqual(await ip.nexthop.list(), []);
  const links = (await ip.link.list()).filter((l) => l.name !== "lo");
  for (const l of links) {
    // A veth's peer goes with it: gone already.
    if ((await ip.link.list()).some((m) => m.index === l.index)) await ip.link.delete(l);
  }
  assert.deepEqual((await ip.link.list()).map((l) => l.name), ["lo"]);
});

test("delete() of what another client listed in another namespace: refused where its link's index is another link there; deleted where it names the same", async () => {
  // The same index is another link in each namespace: an address listed in one and deleted
  // through the other's client removed that client's address of the same prefix, in silence.
  const commands = [
    "link add a0 type veth peer name a1",
    "link set a0 up",
    "link set a1 up",
    "address add 10.0.0.1/24 dev a0",
    "neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev a0",
    "nexthop add id 1 via 10.0.0.2 dev a0",
  ];
  using blue = new Netns(commands);
  using red = new Netns(commands.map((c) => c.replaceAll("a0", "r0").replaceAll("a1", "r1")));
  await using ipBlue = await openRoute({ netns: blue.name });
  await using ipRed = await openRoute({ netns: red.name });
  const a0 = (await ipBlue.link.list()).find((l) => l.name === "a0")!;
  assert.equal((await ipRed.link.get(a0.index)).name, "r0"); // the same index, another link
  const address = (await ipBlue.addr.list({ dev: "a0", family: "inet" }))[0];
  const route = (await ipBlue.route.list({ dev: "a0", family: "inet" }))[0];
  const neighbour = (await ipBlue.neigh.list({ dev: "a0", family: "inet" }))[0];
  const nexthop = (await ipBlue.nexthop.list())[0];
  const refused =
    /listed by another client, maybe in another namespace: its link "a0" \(index \d+\) is "r0" here/;
  await assert.rejects(ipRed.addr.delete(address), refused);
  await assert.rejects(ipRed.route.delete(route), refused);
  await assert.rejects(ipRed.neigh.delete(neighbour), refused);
  await assert.rejects(ipRed.link.delete(a0), refused);
  await assert.rejects(ipRed.nexthop.delete(nexthop), refused); // id 1 is red's own there
  assert.equal((await ipRed.nexthop.list()).length, 1);
  assert.equal((await ipRed.addr.list({ dev: "r0", family: "inet" })).length, 1);
  assert.equal((await ipRed.route.list({ dev: "r0", family: "inet" })).length, 1);
  assert.equal((await ipRed.neigh.list({ dev: "r0", family: "inet" })).length, 1);
  // Another client in the same namespace: its link has that name there, and it goes.
  await using ipBlue2 = await openRoute({ netns: blue.name });
  await ipBlue2.neigh.delete(neighbour);
  await ipBlue2.addr.delete(address);
  assert.deepEqual(await ipBlue.addr.list({ dev: "a0", family: "inet" }), []);
  assert.deepEqual(await ipBlue.neigh.list({ dev: "a0", family: "inet" }), []);
});
