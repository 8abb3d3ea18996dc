// "Did you mean": a key misspelt by a letter or two names the closest, and so does the word
// `ip`, pyroute2 or vishvananda/netlink use for the same thing (`via` for a route's `gateway`,
// `type` for a link's `kind`, `vni` and `dstport` for a vxlan's `id` and `port`): a person who
// knows those tools types their word first, which no edit distance finds.

import assert from "node:assert/strict";
import { test } from "node:test";
import { suggestion } from "../../src/_suggest.ts";
import { flagValue, NEIGH_FLAGS, NEIGH_STATES, SCOPES } from "../../src/route/_names.ts";
import { openRoute, TrafficControl } from "../../src/route/mod.ts";
import type { NetlinkSocket } from "../../src/socket.ts";
import { FakeKernel } from "../../src/testing/mod.ts";
import { ethtool } from "../../src/ynl/ethtool.ts";
import { NetlinkFamily } from "../../src/ynl/family.ts";
import { rtLink } from "../../src/ynl/rt_link.ts";

test("suggestion(): a typo names the closest candidate, a far name none", () => {
  assert.equal(suggestion("mut", ["mtu", "name"]), " (did you mean \"mtu\"?)");
  assert.equal(
    suggestion("vlan-filtering", ["vlanFiltering"]),
    " (did you mean \"vlanFiltering\"?)",
  );
  assert.equal(suggestion("zzzzzz", ["mtu", "name"]), "");
});

test("suggestion(): ip's, pyroute2's and vishvananda's words name ours, when we have it", () => {
  const route = ["dst", "gateway", "dev", "table", "metric", "type", "pref"];
  assert.equal(suggestion("via", route), " (did you mean \"gateway\"?)");
  assert.equal(suggestion("gw", route), " (did you mean \"gateway\"?)");
  assert.equal(suggestion("oif", route), " (did you mean \"dev\"?)");
  assert.equal(suggestion("priority", route), " (did you mean \"metric\"?)");
  const link = ["up", "mtu", "name", "address", "master", "kind", "data", "peer"];
  assert.equal(suggestion("type", link), " (did you mean \"kind\"?)");
  assert.equal(suggestion("state", link), " (did you mean \"up\"?)");
  assert.equal(suggestion("ifname", link), " (did you mean \"name\"?)");
  assert.equal(suggestion("mac", link), " (did you mean \"address\"?)");
  // ip link add dev NAME names the link; the typed layer's rt-link calls it ifname.
  assert.equal(suggestion("dev", [...link, "link"]), " (did you mean \"name\"?)");
  assert.equal(suggestion("dev", ["ifname", "mtu", "link"]), " (did you mean \"ifname\"?)");
  assert.equal(suggestion("mac", ["dev", "address", "lladdr"]), " (did you mean \"lladdr\"?)");
  assert.equal(suggestion("lookup", ["priority", "table", "fwmark"]), " (did you mean \"table\"?)");
  assert.equal(suggestion("pref", ["priority", "table"]), " (did you mean \"priority\"?)");
  const lifetimes = ["label", "validLifetime", "preferredLifetime"];
  assert.equal(suggestion("valid_lft", lifetimes), " (did you mean \"validLifetime\"?)");
  assert.equal(suggestion("preferred_lft", lifetimes), " (did you mean \"preferredLifetime\"?)");
  // Only a name the candidates have: no "gateway" to offer, nothing offered.
  assert.equal(suggestion("via", ["dst", "table"]), "");
  // Object.prototype's names are no words of another tool.
  assert.equal(suggestion("constructor", ["gateway"]), "");
  assert.equal(suggestion("__proto__", ["gateway"]), "");
});

test("a vxlan's data misnamed as ip names it (vni, dstport, dev) names the attribute to use", () => {
  const rt = new NetlinkFamily(rtLink, {} as NetlinkSocket);
  const vxlan = (data: Record<string, unknown>) => () =>
    rt.encode("newlink", { ifname: "vx0", linkinfo: { kind: "vxlan", data } } as never);
  const words = [["vni", "id"], ["dstport", "port"], ["dev", "link"], ["remote", "group"]];
  for (const [given, ours] of words) {
    assert.throws(vxlan({ [given]: 4789 }), {
      name: "TypeError",
      message:
        `attribute set linkinfo-vxlan-attrs has no attribute "${given}" (did you mean "${ours}"?)`,
    });
  }
});

test("a misspelt or ip-worded name of a route-layer value names ours: scope, neighbour state, flag, monitored object", async () => {
  assert.throws(() => SCOPES.value("lnik", "scope"), {
    message: "scope: \"lnik\" is not a scope: one of global, site, link, host, nowhere, or a "
      + "number (did you mean \"link\"?)",
  });
  assert.throws(() => NEIGH_STATES.value("reachble", "state"), /\(did you mean "reachable"\?\)$/);
  assert.throws(() => flagValue(NEIGH_FLAGS, ["prxy"], "flags"), /\(did you mean "proxy"\?\)$/);
  // ip monitor's words for two of them, and a plural.
  await using ip = await openRoute({ transport: new FakeKernel().open });
  for (const [given, ours] of [["neigh", "neighbour"], ["addr", "address"], ["links", "link"]]) {
    assert.throws(() => ip.monitor([given as "link"]), {
      name: "TypeError",
      message: `objects: "${given}" is not one of link, address, route, neighbour, fdb, rule, `
        + `port (did you mean "${ours}"?)`,
    });
  }
});

test("ip's, tc's, pyroute2's and vishvananda's words for a link's, port's, route's, neighbour's and filter's keys name ours", async () => {
  await using ip = await openRoute({ transport: new FakeKernel().open });
  await using tc = await TrafficControl.open({ socket: ip.socket });
  const cases: [string, () => Promise<unknown>, string][] = [
    ["txqueuelen", () => ip.link.set("a0", { txqueuelen: 500 } as never), "txqlen"],
    ["qlen", () => ip.link.set("a0", { qlen: 500 } as never), "txqlen"],
    ["hairpin", () => ip.link.set("a0", { portData: { hairpin: true } } as never), "mode"],
    ["flood", () => ip.link.set("a0", { portData: { flood: false } } as never), "unicastFlood"],
    ["root_block", () => ip.link.set("a0", { portData: { root_block: true } } as never), "protect"],
    ["multipath", () => ip.route.add({ dst: "10.7.0.0/16", multipath: [] } as never), "nexthops"],
    ["dst", () => ip.neigh.add({ dev: "a0", dst: "10.0.0.9" } as never), "address"],
    ["ip", () => ip.neigh.add({ dev: "a0", ip: "10.0.0.9" } as never), "address"],
    ["ifindex", () => ip.neigh.add({ ifindex: 2, address: "10.0.0.9" } as never), "dev"],
    ["LinkIndex", () => ip.neigh.add({ LinkIndex: 2, address: "10.0.0.9" } as never), "dev"],
    ["MasterIndex", () => ip.link.set("a0", { MasterIndex: 3 } as never), "master"],
    [
      "PeerName",
      () => ip.link.add({ name: "v0", kind: "veth", PeerName: "v1" } as never),
      "peer",
    ],
    [
      "flowid",
      () =>
        tc.addFilter({
          ...{ dev: "a0", parent: "1:", kind: "u32", protocol: "ip", pref: 1 },
          ...{ match: { dst: "10.0.0.0/8" }, flowid: "1:20" },
        } as never),
      "classid",
    ],
  ];
  for (const [given, call, ours] of cases) {
    await assert.rejects(call(), (err: Error) => {
      assert.equal(err.name, "TypeError");
      assert.match(err.message, new RegExp(`"${given}" \\(did you mean "${ours}"\\?\\)`));
      return true;
    });
  }
});

test("ethtool's header named as ip and ethtool name a device (dev, ifname, name, ifindex) names devName or devIndex; rt-link's name names ifname", () => {
  const generic = {
    ...{ name: "ethtool", id: 21, version: 1, headerSize: 0, maxAttribute: 0 },
    groups: new Map(),
  };
  const et = new NetlinkFamily(ethtool, {} as NetlinkSocket, generic);
  for (const [given, ours] of [["dev", "devName"], ["ifname", "devName"], ["name", "devName"]]) {
    assert.throws(
      () => et.encode("channels-get", { header: { [given]: "veth0" } } as never),
      { message: `attribute set header has no attribute "${given}" (did you mean "${ours}"?)` },
    );
  }
  assert.throws(
    () => et.encode("channels-get", { header: { ifindex: 3 } } as never),
    { message: `attribute set header has no attribute "ifindex" (did you mean "devIndex"?)` },
  );
  const rt = new NetlinkFamily(rtLink, {} as NetlinkSocket);
  assert.throws(() => rt.encode("getlink", { name: "lo" } as never), /\(did you mean "ifname"\?\)/);
});

test("a veth's peer given as its name (pyroute2's peer=\"veth1\") says the object to write", async () => {
  await using ip = await openRoute({ transport: new FakeKernel().open });
  await assert.rejects(ip.link.add({ name: "v0", kind: "veth", peer: "v1" as never }), {
    name: "TypeError",
    message: "link.add() peer must be an object such as { name: \"v1\" }, got \"v1\"",
  });
});
