// "Did you mean": a key misspelt by a letter or two names the closest, and so does the word
// `ip`, pyroute2 or vishvananda/netlink use for the same thing (`via` for a route's `gateway`,
// `type` for a link's `kind`, `vni` and `dstport` for a vxlan's `id` and `port`): a person who
// knows those tools types their word first, which no edit distance finds.

import assert from "node:assert/strict";
import { test } from "node:test";
import { suggestion } from "../../src/_suggest.ts";
import { flagValue, NEIGH_FLAGS, NEIGH_STATES, SCOPES } from "../../src/route/_names.ts";
import { openRoute } from "../../src/route/mod.ts";
import type { NetlinkSocket } from "../../src/socket.ts";
import { FakeKernel } from "../../src/testing/mod.ts";
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
  for (const [given, ours] of [["vni", "id"], ["dstport", "port"], ["dev", "link"]]) {
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
