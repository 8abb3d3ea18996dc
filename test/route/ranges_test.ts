// Link kinds' options and the route layer's numbers whose range is narrower than their type: out
// of range is a RangeError naming the field and the range, before any request, where the kernel
// would answer ERANGE or EINVAL; at each end of the range the kernel takes the value.

import assert from "node:assert/strict";
import { test } from "node:test";
import { openRoute } from "../../src/route/mod.ts";
import { tap } from "../../src/tap.ts";
import { Netns } from "../host/_netns.ts";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

const range = (field: string, value: number, min: number, max: number) => ({
  name: "RangeError",
  message: `${field}: ${value} is not an integer from ${min} to ${max}`,
});

/**
 * For each option of `cases` (name, lowest, highest): `set()` of either end is taken, of one
 * past either a RangeError naming `where.name` and the range, with what `shown()` reads of the
 * kernel unchanged.
 */
async function bounds(
  cases: [string, number, number][],
  where: string,
  set: (options: Record<string, number>) => Promise<void>,
  shown: () => unknown,
): Promise<void> {
  for (const [field, min, max] of cases) {
    for (const value of [min, max]) await set({ [field]: value });
    const before = JSON.stringify(shown());
    for (const value of [min - 1, max + 1]) {
      await assert.rejects(set({ [field]: value }), range(`${where}.${field}`, value, min, max));
    }
    assert.equal(JSON.stringify(shown()), before);
  }
}

test("vxlan: an id over 24 bits is a RangeError before the request (the kernel's ERANGE), 2^24-1 is taken", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  await assert.rejects(
    ip.link.add({
      name: "vx0",
      kind: "vxlan",
      data: { id: 2 ** 24, port: 4789 },
    }),
    range("data.id", 2 ** 24, 0, 2 ** 24 - 1),
  );
  assert.equal(ns.json("link", "show").some((l) => l.ifname === "vx0"), false);
  await ip.link.add({
    name: "vx0",
    kind: "vxlan",
    data: { id: 2 ** 24 - 1, port: 4789 },
  });
  const vx0 = await ip.link.get("vx0");
  assert.ok(vx0.kind === "vxlan");
  assert.equal(vx0.data?.id, 2 ** 24 - 1);
  // A df without a name is the kernel's EINVAL ("Invalid DF attribute").
  await assert.rejects(ip.link.set("vx0", { data: { df: 3 as never } }), {
    name: "RangeError",
    message: "data.df: 3 is not a vxlan df: one of unset (0), set (1), inherit (2)",
  });
  await assert.rejects(
    ip.link.set("vx0", { data: { id: -1 } }),
    range("data.id", -1, 0, 2 ** 24 - 1),
  );
  // Not a number at all is still a TypeError.
  await assert.rejects(
    ip.link.set("vx0", { data: { id: "5" as never } }),
    TypeError,
  );
});

test("bridge: helloTime, maxAge, multicast router and versions out of range are RangeErrors; each end is taken", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  await ip.link.add({ name: "br0", kind: "bridge" });
  const data = () => ns.json<Json[]>("-d", "link", "show", "br0")[0].linkinfo.info_data;
  const cases: [string, number, number][] = [
    ["helloTime", 100, 1000],
    ["maxAge", 600, 4000],
    ["mcastRouter", 0, 2],
    ["mcastIgmpVersion", 2, 3],
    ["mcastMldVersion", 1, 2],
  ];
  await bounds(cases, "data", (data) => ip.link.set("br0", { data }), data);
  // On add too, before anything is made.
  await assert.rejects(
    ip.link.add({ name: "br1", kind: "bridge", data: { helloTime: 50 } }),
    range("data.helloTime", 50, 100, 1000),
  );
  assert.equal(ns.json("link", "show").some((l) => l.ifname === "br1"), false);
});

test("bridge port: priority, cost, multicast router out of range and a state without a name are RangeErrors", async () => {
  using ns = new Netns([
    "link add br0 type bridge",
    "link add p0 type veth peer name p1",
  ]);
  await using ip = await openRoute({ netns: ns.name });
  await ip.link.set("p0", { master: "br0" });
  const port = () => ns.json<Json[]>("-d", "link", "show", "p0")[0].linkinfo.info_slave_data;
  const cases: [string, number, number][] = [
    ["priority", 0, 63],
    ["cost", 1, 65535],
    ["multicastRouter", 0, 3],
  ];
  await bounds(cases, "portData", (portData) => ip.link.set("p0", { portData }), port);
  await assert.rejects(ip.link.set("p0", { portData: { state: 5 as never } }), {
    name: "RangeError",
    message: "portData.state: 5 is not a bridge port state: one of disabled (0), listening (1), "
      + "learning (2), forwarding (3), blocking (4)",
  });
  // A number with a name is taken (the bridge and the port up: a state changes only then).
  for (const link of ["br0", "p1", "p0"]) await ip.link.set(link, { up: true });
  await ip.link.set("p0", { portData: { state: 3 as never } });
  assert.equal(port().state, "forwarding");
});

test("macvlan: a mode without a name is a RangeError (the kernel's EINVAL), before the link is made", async () => {
  using ns = new Netns(["link add p0 type veth peer name p1"]);
  await using ip = await openRoute({ netns: ns.name });
  await assert.rejects(
    ip.link.add({
      name: "m0",
      kind: "macvlan",
      link: "p0",
      data: { mode: 3 as never },
    }),
    /^RangeError: data\.mode: 3 is not a macvlan mode: one of private \(1\), vepa \(2\), bridge \(4\), passthru \(8\), source \(16\)$/,
  );
  assert.equal(ns.json("link", "show").some((l) => l.ifname === "m0"), false);
  await ip.link.add({
    name: "m0",
    kind: "macvlan",
    link: "p0",
    data: { mode: 16 as never },
  });
  const m0 = await ip.link.get("m0");
  assert.ok(m0.kind === "macvlan");
  assert.equal(m0.data?.mode, "source");
});

test("kinds this host lacks (vlan, geneve, bond): out of range is a RangeError before any request", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  let sent = 0;
  tap(ip.socket, { sent: () => void sent++ });
  const refused: [() => Promise<unknown>, RegExp | object][] = [
    [
      () => ip.link.add({ name: "v0", kind: "vlan", link: "eth9", data: { id: 4095 } }),
      range("data.id", 4095, 0, 4094),
    ],
    [
      () => ip.link.add({ name: "g0", kind: "geneve", master: "eth9", data: { id: 2 ** 24 } }),
      range("data.id", 2 ** 24, 0, 2 ** 24 - 1),
    ],
    [
      () => ip.link.add({ name: "b0", kind: "bond", master: "eth9", data: { mode: 7 as never } }),
      /^RangeError: data\.mode: 7 is not a bond mode: one of balance-rr \(0\), /,
    ],
    [
      () => ip.link.add({ name: "b0", kind: "bond", data: { adUserPortKey: 1024 } }),
      range("data.adUserPortKey", 1024, 0, 1023),
    ],
    [
      () => ip.link.add({ name: "b0", kind: "bond", data: { missedMax: 0 } }),
      range("data.missedMax", 0, 1, 255),
    ],
  ];
  for (const [call, error] of refused) await assert.rejects(call, error as RegExp);
  assert.equal(sent, 0);
});

test("the route layer's numbers out of range are RangeErrors naming the field and the range; not numbers stay TypeErrors", async () => {
  using ns = new Netns(["link add p0 type veth peer name p1"]);
  await using ip = await openRoute({ netns: ns.name });
  await assert.rejects(
    ip.link.set("p0", { mtu: 2 ** 31 }),
    range("mtu", 2 ** 31, 0, 2 ** 31 - 1),
  );
  await assert.rejects(ip.link.set("p0", { mtu: "1400" as never }), TypeError);
  await assert.rejects(
    ip.route.add({ dst: "10.9.0.0/16", dev: "p0", table: 2 ** 32 }),
    range("table", 2 ** 32, 1, 2 ** 32 - 1),
  );
  await assert.rejects(
    ip.route.add({ dst: "10.9.0.0/16", dev: "p0", metrics: { hoplimit: 256 } }),
    range("metrics.hoplimit", 256, 0, 255),
  );
  await assert.rejects(
    ip.fdb.add({
      mac: "02:00:00:00:00:02",
      dev: "p0",
      dst: "192.0.2.1",
      port: 65536,
    }),
    range("port", 65536, 1, 65535),
  );
  await assert.rejects(
    ip.addr.add("p0", "10.0.0.1/24", { metric: -1 }),
    range("metric", -1, 0, 2 ** 32 - 1),
  );
  await assert.rejects(ip.addr.add("p0", "10.0.0.1/33"), {
    name: "RangeError",
    message: "address: \"10.0.0.1/33\": the prefix length 33 is not from 0 to 32",
  });
  await assert.rejects(
    ip.addr.add("p0", "10.0.0.1/24", { validLifetime: 2 ** 32 }),
    {
      name: "RangeError",
      message: "validLifetime: 4294967296 is not a number of seconds from 0 to 4294967295 (or "
        + "Infinity)",
    },
  );
  // A route type past RTN_MAX (the kernel's EINVAL), a preference with no name (which the kernel
  // took as "medium", unsaid): every number that has a name is taken.
  await assert.rejects(ip.route.add({ dst: "10.9.0.0/16", type: 12 as never }), {
    name: "RangeError",
    message: /^type: 12 is not a route type: one of unspec \(0\), unicast \(1\), /,
  });
  await assert.rejects(
    ip.route.add({ dst: "2001:db8:9::/48", dev: "p0", pref: 2 as never }),
    /^RangeError: pref: 2 is not a route preference: one of low \(3\), medium \(0\), high \(1\)$/,
  );
  assert.deepEqual(ns.json("-6", "route", "show", "2001:db8:9::/48"), []);
  await ip.route.add({ dst: "10.9.0.0/16", type: 6 as never });
  assert.equal((await ip.route.list({ type: "blackhole" })).length, 1);
  await assert.rejects(
    ip.rule.add({ table: 100, priority: 2 ** 32 }),
    range("priority", 2 ** 32, 0, 2 ** 32 - 1),
  );
});
