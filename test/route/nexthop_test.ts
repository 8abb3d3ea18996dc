// NexthopObject objects (`ip nexthop`) on the real kernel in fresh namespaces: what `ip` made, listed
// and compared with `ip -j nexthop`; what the client writes, read back with `ip`; routes by nhid.

import assert from "node:assert/strict";
import { test } from "node:test";
import { NetlinkError } from "../../src/errors.ts";
import { type NexthopGroupMember, type NexthopObject, openRoute } from "../../src/route/mod.ts";
import { Netns } from "../host/_netns.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

function namespace(): Netns {
  return new Netns([
    "link add a0 type veth peer name a1",
    "link set a0 up",
    "link set a1 up",
    "address add 10.0.0.1/24 dev a0",
    "address add 2001:db8::1/64 dev a0 nodad",
  ]);
}

/** A nexthop as `ip -j nexthop` prints it (iproute2 6.1: weight only when not 1). */
function asIp(nh: NexthopObject): Json {
  const out: Json = { id: nh.id };
  if (nh.group !== undefined) {
    out.group = nh.group.map((m: NexthopGroupMember) =>
      m.weight === 1 ? { id: m.id } : { id: m.id, weight: m.weight }
    );
  }
  if (nh.groupType === "resilient") out.type = "resilient";
  if (nh.blackhole) out.blackhole = null;
  if (nh.fdb) out.fdb = null;
  if (nh.gateway !== undefined) out.gateway = nh.gateway;
  if (nh.dev !== undefined) out.dev = nh.dev;
  if (nh.gateway !== undefined || nh.dev !== undefined) out.scope = nh.scope;
  out.flags = nh.flags;
  return out;
}

/** `ip -j nexthop` without what asIp leaves out (resilient groups' timers). */
function ipNexthops(ns: Netns, ...args: string[]): Json[] {
  return ns.json<Json[]>("nexthop", "show", ...args).map((nh) => {
    const { resilient_args: _, ...rest } = nh;
    return rest;
  });
}

test("nexthop.list() matches ip -j nexthop: gateway, onlink, dev alone, blackholes, groups with weights, resilient", async () => {
  using ns = namespace();
  ns.ipBatch([
    "nexthop add id 1 via 10.0.0.2 dev a0",
    "nexthop add id 2 via 10.0.0.3 dev a0 onlink",
    "nexthop add id 3 blackhole",
    "nexthop add id 4 dev a0",
    "nexthop add id 5 group 1/2,3",
    "nexthop add id 6 via 2001:db8::2 dev a0",
    "nexthop add id 7 group 1,2/2 type resilient buckets 8",
  ]);
  ns.ip("-6", "nexthop", "add", "id", "8", "blackhole");
  ns.ip("nexthop", "add", "id", "9", "via", "10.0.0.5", "fdb");
  ns.ip("-6", "nexthop", "add", "id", "10", "dev", "a0");
  await using ip = await openRoute({ netns: ns.name });
  const list = await ip.nexthop.list();
  assert.deepEqual(list.map(asIp), ipNexthops(ns));
  const byId = new Map(list.map((nh) => [nh.id, nh]));
  assert.deepEqual(byId.get(5)!.group, [{ id: 1, weight: 1 }, { id: 2, weight: 3 }]);
  assert.equal(byId.get(5)!.groupType, "mpath");
  assert.equal(
    byId.get(7)!.buckets,
    ns.json<Json[]>("nexthop", "show", "id", "7")[0].resilient_args.buckets,
  );
  assert.deepEqual([byId.get(6)!.family, byId.get(8)!.family, byId.get(3)!.family], [
    "inet6",
    "inet6",
    "inet",
  ]);
  assert.equal(byId.get(1)!.ifindex, ns.json<Json[]>("link", "show", "a0")[0].ifindex);
  assert.equal(byId.get(1)!.protocol, "unspec");
  // The scopes NexthopObject.scope says: gateway, IPv4 and IPv6 device alone, group, blackhole.
  assert.deepEqual([1, 4, 10, 5, 3].map((id) => byId.get(id)!.scope), [
    "link",
    "host",
    "link",
    "global",
    "global",
  ]);
  // get() is the same object.
  assert.deepEqual(asIp(await ip.nexthop.get(2)), ipNexthops(ns, "id", "2")[0]);
  // Filters, by the kernel and here: as ip's own.
  assert.deepEqual((await ip.nexthop.list({ groups: true })).map(asIp), ipNexthops(ns, "groups"));
  assert.deepEqual((await ip.nexthop.list({ dev: "a0" })).map(asIp), ipNexthops(ns, "dev", "a0"));
  assert.deepEqual(
    (await ip.nexthop.list({ fdb: true })).map(asIp),
    ipNexthops(ns).filter((nh) => "fdb" in nh),
  );
  assert.equal(byId.get(9)!.fdb, true);
  assert.deepEqual(
    (await ip.nexthop.list({ family: "inet6" })).map((nh) => nh.id),
    ns.json<Json[]>("-6", "nexthop", "show").map((nh) => nh.id),
  );
});

test("nexthop.add/replace/delete, read back with ip; a route by nhid, listed with it", async () => {
  using ns = namespace();
  await using ip = await openRoute({ netns: ns.name });
  assert.equal(await ip.nexthop.add({ id: 1, gateway: "10.0.0.2", dev: "a0" }), 1);
  assert.equal(await ip.nexthop.add({ id: 2, gateway: "10.0.0.3", dev: "a0", onlink: true }), 2);
  assert.equal(await ip.nexthop.add({ id: 3, blackhole: true }), 3);
  assert.equal(await ip.nexthop.add({ id: 4, blackhole: true, family: "inet6" }), 4);
  assert.equal(await ip.nexthop.add({ id: 5, dev: "a0" }), 5);
  assert.equal(await ip.nexthop.add({ id: 6, gateway: "2001:db8::2", dev: "a0" }), 6);
  assert.equal(await ip.nexthop.add({ id: 10, group: [{ id: 1 }, { id: 2, weight: 3 }] }), 10);
  assert.equal(
    await ip.nexthop.add({
      id: 11,
      group: [{ id: 1, weight: 256 }, { id: 2 }],
      groupType: "resilient",
      buckets: 16,
    }),
    11,
  );
  assert.equal(await ip.nexthop.add({ id: 12, gateway: "10.0.0.6", fdb: true }), 12);
  // No id: the kernel picks one, and add() says which.
  const picked = await ip.nexthop.add({ gateway: "10.0.0.9", dev: "a0", protocol: "static" });
  const shown = ns.json<Json[]>("nexthop", "show");
  const at = (id: number) => shown.find((nh) => nh.id === id);
  assert.deepEqual(at(1), { id: 1, gateway: "10.0.0.2", dev: "a0", scope: "link", flags: [] });
  assert.deepEqual(at(2).flags, ["onlink"]);
  assert.equal(at(3).blackhole, null);
  assert.equal(ns.json<Json[]>("-6", "nexthop", "show", "id", "4")[0].blackhole, null);
  assert.deepEqual([at(5).dev, at(5).scope], ["a0", "host"]);
  assert.equal(at(6).gateway, "2001:db8::2");
  assert.deepEqual(at(10).group, [{ id: 1 }, { id: 2, weight: 3 }]);
  assert.deepEqual([at(11).type, at(11).resilient_args.buckets], ["resilient", 16]);
  assert.deepEqual(at(11).group, [{ id: 1, weight: 256 }, { id: 2 }]);
  assert.equal(at(picked).gateway, "10.0.0.9");
  assert.deepEqual(at(12), { id: 12, gateway: "10.0.0.6", scope: "link", fdb: null, flags: [] });
  assert.equal((await ip.nexthop.get(picked)).protocol, "static");
  assert.match(ns.ip("nexthop", "show", "id", String(picked)), /proto static/);

  // ip route add 10.9.0.0/16 nhid 10
  await ip.route.add({ dst: "10.9.0.0/16", nhid: 10 });
  await ip.route.add({ dst: "10.8.0.0/16", nhid: 1, table: 100 });
  const route = ns.json<Json[]>("route", "show", "10.9.0.0/16")[0];
  assert.equal(route.nhid, 10);
  assert.deepEqual(route.nexthops.map((h: Json) => [h.gateway, h.weight]), [["10.0.0.2", 1], [
    "10.0.0.3",
    3,
  ]]);
  const listed = (await ip.route.list()).find((r) => r.dst === "10.9.0.0/16")!;
  assert.equal(listed.nhid, 10);
  assert.deepEqual(listed.nexthops!.map((h) => [h.gateway, h.weight]), [["10.0.0.2", 1], [
    "10.0.0.3",
    3,
  ]]);
  const inTable = (await ip.route.list({ table: 100 }))[0];
  assert.deepEqual([inTable.nhid, inTable.gateway, inTable.dev], [1, "10.0.0.2", "a0"]);
  assert.equal(ns.json<Json[]>("route", "show", "table", "100")[0].nhid, 1);

  // replace: routes follow; EEXIST on add of a taken id.
  assert.equal(await ip.nexthop.replace({ id: 1, gateway: "10.0.0.4", dev: "a0" }), 1);
  assert.equal(ns.json<Json[]>("nexthop", "show", "id", "1")[0].gateway, "10.0.0.4");
  assert.equal(ns.json<Json[]>("route", "show", "table", "100")[0].gateway, "10.0.0.4");
  await assert.rejects(ip.nexthop.add({ id: 1, blackhole: true }), (err: unknown) => {
    assert.ok(err instanceof NetlinkError);
    assert.equal(err.code, "EEXIST");
    return true;
  });
  // route.delete by nhid, then nexthop delete: the group loses the member.
  await ip.route.delete({ dst: "10.8.0.0/16", table: 100 });
  assert.deepEqual(ns.json<Json[]>("route", "show", "table", "100"), []);
  await ip.nexthop.delete(2);
  assert.deepEqual(ns.json<Json[]>("nexthop", "show", "id", "10")[0].group, [{ id: 1 }]);
  await ip.nexthop.delete(10);
  assert.deepEqual(ns.json<Json[]>("route", "show", "10.9.0.0/16"), []);
  await assert.rejects(ip.nexthop.get(10), (err: unknown) => {
    assert.ok(err instanceof NetlinkError);
    assert.equal(err.code, "ENOENT");
    assert.match(err.message, /no nexthop with id 10/);
    return true;
  });
  await assert.rejects(ip.nexthop.delete(10), /no nexthop with id 10/);
});

test("nexthop: bad input is a TypeError naming the field, before any request; kernel refusals keep their text", async () => {
  using ns = namespace();
  await using ip = await openRoute({ netns: ns.name });
  const cases: [unknown, RegExp][] = [
    [null, /nexthop: expected an object/],
    [{ id: 0, blackhole: true }, /id: 0 is not an integer from 1/],
    [{ id: 1 }, /give a gateway, a dev, blackhole: true or a group/],
    [{ id: 1, gateway: "10.0.0" }, /gateway/],
    [{ id: 1, gateway: "10.0.0.2", family: "inet6" }, /gateway: 10.0.0.2 is not of family inet6/],
    [{ id: 1, blackhole: true, dev: "a0" }, /blackhole: a blackhole has no gateway/],
    [{ id: 1, group: [] }, /group: expected a non-empty array/],
    [{ id: 1, group: [{ id: 2, weight: 257 }] }, /group\[0\]\.weight: 257/],
    [{ id: 1, group: [{ id: 2 }], gateway: "10.0.0.2" }, /gateway: a group has only members/],
    [{ id: 1, group: [{ id: 2 }], buckets: 8 }, /buckets: only a groupType "resilient"/],
    [
      { id: 1, group: [{ id: 2 }], groupType: "fancy" },
      /groupType: "fancy" is not a nexthop group type/,
    ],
    [{ id: 1, gateway: "10.0.0.2", groupType: "mpath" }, /only a group/],
    [{ id: 1, blackhole: "yes" }, /blackhole must be a boolean/],
    [{ id: 1, dev: "a0", protocol: "nope" }, /protocol/],
  ];
  for (const [spec, message] of cases) {
    await assert.rejects(ip.nexthop.add(spec as never), (err: unknown) => {
      // An integer out of range is a RangeError, any other bad value a TypeError.
      assert.ok(
        err instanceof TypeError || err instanceof RangeError,
        `${JSON.stringify(spec)}: ${err}`,
      );
      assert.match(err.message, message);
      return true;
    });
  }
  await assert.rejects(ip.nexthop.get(-1), RangeError);
  await assert.rejects(ip.nexthop.delete(1.5), TypeError);
  await assert.rejects(ip.nexthop.list({ family: "mpls" as never }), TypeError);
  await assert.rejects(
    ip.route.add({ dst: "10.9.0.0/16", nhid: 1, gateway: "10.0.0.2" }),
    /nhid: a route using a nexthop object/,
  );
  await assert.rejects(ip.route.add({ dst: "10.9.0.0/16", nhid: 0 }), /nhid: 0/);
  assert.deepEqual(ns.json<Json[]>("nexthop", "show"), []);
  // The kernel's reasons: a group of a missing nexthop; a route by a missing nhid.
  await assert.rejects(ip.nexthop.add({ id: 9, group: [{ id: 77 }] }), (err: unknown) => {
    assert.ok(err instanceof NetlinkError);
    assert.match(err.message, /nexthop add 9: .*[Nn]exthop id/);
    return true;
  });
  await assert.rejects(
    ip.route.add({ dst: "10.9.0.0/16", nhid: 77 }),
    /route add 10\.9\.0\.0\/16: .*[Nn]exthop id/,
  );
});
