// ip.fdb against `bridge fdb`: list() equals `bridge -j fdb show` (whole and filtered), add,
// append, replace and delete round trips on a bridge port and VXLAN links, the kernel's
// EEXIST and ENOENT typed, and bad input refused before any request. Links stay down: nothing
// is learned, and the kernel adds no entries of its own between our dump and bridge's.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { NETLINK_ROUTE } from "../../src/constants.ts";
import { NetlinkError } from "../../src/errors.ts";
import { open } from "../../src/open.ts";
import { type FdbEntry, openRoute } from "../../src/route/mod.ts";
import { Netns } from "../host/_netns.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** `bridge -j -n NS fdb ARGS...`, parsed. */
function bridge(ns: Netns, ...args: string[]): Json[] {
  const out = execFileSync("bridge", ["-j", "-n", ns.name, "fdb", ...args], { encoding: "utf8" });
  return out.trim() ? JSON.parse(out) : [];
}

/** `bridge -n NS fdb ARGS...` (a change). */
function bridgeDo(ns: Netns, ...args: string[]): void {
  execFileSync("bridge", ["-n", ns.name, "fdb", ...args], { stdio: "pipe" });
}

/** Our entry in `bridge -j fdb show`'s shape (without `ifname` when bridge filtered by link). */
function asBridge(e: FdbEntry, withDev = true): Record<string, unknown> {
  const out: Record<string, unknown> = { mac: e.mac };
  if (withDev) out.ifname = e.dev;
  if (e.dst !== undefined) out.dst = e.dst;
  if (e.vlan !== undefined) out.vlan = e.vlan;
  if (e.port !== undefined) out.port = e.port;
  if (e.vni !== undefined) out.vni = e.vni;
  if (e.srcVni !== undefined) out.src_vni = e.srcVni;
  if (e.via !== undefined) out.viaIf = e.via;
  if (e.nhid !== undefined) out.nhid = e.nhid;
  out.flags = e.flags;
  if (e.master !== undefined) out.master = e.master;
  out.state = e.state === "dynamic" ? "" : e.state;
  return out;
}

const byKey = (a: Json, b: Json) =>
  JSON.stringify([a.ifname, a.mac, a.dst]).localeCompare(JSON.stringify([b.ifname, b.mac, b.dst]));

function setup(): Netns {
  const ns = new Netns([
    "link add br0 type bridge",
    "link add v0 type veth peer name v1",
    "link set v0 master br0",
    "link add vx0 type vxlan id 42 dstport 4789",
    "link add vx1 type vxlan external dstport 4790",
  ]);
  try {
    bridgeDo(ns, "add", "02:00:00:00:00:01", "dev", "v0", "master", "static");
    bridgeDo(ns, "add", "02:00:00:00:00:02", "dev", "v0", "master", "static", "sticky");
    bridgeDo(ns, "add", "02:00:00:00:00:03", "dev", "v0", "master", "extern_learn");
    bridgeDo(ns, "add", "02:00:00:00:00:04", "dev", "v0"); // self permanent: v0's own list
    bridgeDo(ns, "add", "00:00:00:00:00:00", "dev", "vx0", "dst", "192.0.2.1");
    bridgeDo(ns, "append", "00:00:00:00:00:00", "dev", "vx0", "dst", "192.0.2.2");
    bridgeDo(ns, "add", "02:00:00:00:00:05", "dev", "vx0", "dst", "192.0.2.5", "port", "5000");
    bridgeDo(ns, "add", "02:00:00:00:00:06", "dev", "vx0", "dst", "192.0.2.6", "vni", "77");
    bridgeDo(ns, "add", "02:00:00:00:00:07", "dev", "vx0", "dst", "192.0.2.7", "via", "v1");
    bridgeDo(ns, "add", "02:00:00:00:00:08", "dev", "vx0", "dst", "192.0.2.8", "dynamic");
    bridgeDo(ns, "add", "02:00:00:00:00:09", "dev", "vx1", "dst", "192.0.2.9", "src_vni", "5");
    return ns;
  } catch (err) {
    ns[Symbol.dispose]();
    throw err;
  }
}

test("fdb.list() equals `bridge -j fdb show`: states, flags, master, vxlan remotes", async () => {
  using ns = setup();
  await using ip = await openRoute({ netns: ns.name });
  const ours = (await ip.fdb.list()).map((e) => asBridge(e)).sort(byKey);
  assert.deepEqual(ours, bridge(ns, "show").sort(byKey));
  // Every value the setup made is among them, as bridge names it.
  const seen = (mac: string, dst?: string) =>
    ours.find((e) => e.mac === mac && e.dst === dst) as Json;
  assert.deepEqual(
    [seen("02:00:00:00:00:01"), seen("02:00:00:00:00:02"), seen("02:00:00:00:00:03")].map((
      e,
    ) => [e.master, e.state, e.flags]),
    [["br0", "static", []], ["br0", "static", ["sticky"]], ["br0", "", ["extern_learn"]]],
  );
  assert.deepEqual(seen("02:00:00:00:00:04").flags, ["self"]);
  assert.equal(seen("02:00:00:00:00:04").state, "permanent");
  assert.equal(seen("02:00:00:00:00:05", "192.0.2.5").port, 5000);
  assert.equal(seen("02:00:00:00:00:06", "192.0.2.6").vni, 77);
  assert.equal(seen("02:00:00:00:00:07", "192.0.2.7").viaIf, "v1");
  assert.equal(seen("02:00:00:00:00:08", "192.0.2.8").state, "");
  assert.equal(seen("02:00:00:00:00:09", "192.0.2.9").src_vni, 5);
  assert.ok(seen("00:00:00:00:00:00", "192.0.2.2"));
  // The numbers stay under raw, and the indexes beside the names.
  const [entry] = await ip.fdb.list({ dev: "v0" });
  assert.equal(entry.index, ns.json<Json[]>("link", "show", "v0")[0].ifindex);
  assert.equal(entry.raw.ndmFamily, 7);
  const indexOf = (name: string) => ns.json<Json[]>("link", "show", name)[0].ifindex;
  const port = (await ip.fdb.list()).find((e) => e.master === "br0")!;
  assert.equal(port.masterIndex, indexOf("br0"));
  const via = (await ip.fdb.list({ dev: "vx0" })).find((e) => e.via === "v1")!;
  assert.equal(via.viaIndex, indexOf("v1"));
  assert.equal(JSON.stringify(port).includes("raw"), false);
});

test("a link's master is an index, an fdb entry's master a name beside its masterIndex: the same bridge, as documented", async () => {
  using ns = new Netns([
    "link add br0 type bridge",
    "link add va0 type veth peer name vb0",
    "link set va0 master br0",
    "link set br0 up",
    "link set va0 up",
  ]);
  await using ip = await openRoute({ netns: ns.name });
  await ip.fdb.add({ mac: "02:00:00:00:00:02", dev: "va0", flags: ["master"], state: "static" });
  const port = await ip.link.get("va0");
  const bridge = await ip.link.get("br0");
  assert.equal(port.master, bridge.index);
  // As Link.master's JSDoc says: get() and list({ master }) take the index as it is.
  assert.equal((await ip.link.get(port.master!)).name, "br0");
  assert.deepEqual((await ip.link.list({ master: port.master })).map((l) => l.name), ["va0"]);
  const [entry] = (await ip.fdb.list({ dev: "va0" })).filter((e) => e.mac === "02:00:00:00:00:02");
  assert.equal(entry.master, "br0");
  assert.equal(entry.masterIndex, port.master);
});

test("fdb.list() filters as `bridge fdb show dev / br / vlan` do, also on a socket without strict checking", async () => {
  using ns = setup();
  const socket = await open(NETLINK_ROUTE, { netns: ns.name }); // no strict checking
  try {
    for (const client of [await openRoute({ netns: ns.name }), await openRoute({ socket })]) {
      await using ip = client;
      const dev = (await ip.fdb.list({ dev: "v0" })).map((e) => asBridge(e, false)).sort(byKey);
      assert.deepEqual(dev, bridge(ns, "show", "dev", "v0").sort(byKey));
      const br = (await ip.fdb.list({ master: "br0" })).map((e) => asBridge(e)).sort(byKey);
      assert.deepEqual(br, bridge(ns, "show", "br", "br0").sort(byKey));
      // The bridge's table and its links' own lists (v0's "self" entries), no other link's.
      assert.equal(br.filter((e) => e.master === "br0").length, 4);
      assert.ok(br.some((e) => e.mac === "02:00:00:00:00:04"));
      assert.ok(br.every((e) => ["br0", "v0"].includes(e.ifname as string)));
      const both = await ip.fdb.list({ dev: "vx0", master: "br0" });
      assert.deepEqual(both, []);
      // No entry here has a VLAN (this kernel's bridge has no VLAN filtering): none listed.
      assert.deepEqual(await ip.fdb.list({ vlan: 1 }), []);
      assert.deepEqual(bridge(ns, "show", "vlan", "1"), []);
    }
  } finally {
    socket.close();
  }
});

test("fdb.add/append/replace/delete round trips, as bridge fdb sees them", async () => {
  using ns = new Netns([
    "link add br0 type bridge",
    "link add v0 type veth peer name v1",
    "link set v0 master br0",
    "link add vx0 type vxlan id 42 dstport 4789",
  ]);
  await using ip = await openRoute({ netns: ns.name });
  const find = (mac: string, ...filter: string[]) =>
    bridge(ns, "show", ...filter).filter((e) => e.mac === mac);
  // A bridge port's static entry; "self" by default, as bridge fdb add: the port's own list.
  await ip.fdb.add({ mac: "02:00:00:00:00:01", dev: "v0", flags: ["master"], state: "static" });
  await ip.fdb.add({ mac: "02:00:00:00:00:02", dev: "v0" });
  await ip.fdb.add({
    mac: "02:00:00:00:00:03",
    dev: "v0",
    flags: ["master", "sticky"],
    state: "static",
  });
  assert.deepEqual(find("02:00:00:00:00:01"), [
    { mac: "02:00:00:00:00:01", ifname: "v0", flags: [], master: "br0", state: "static" },
  ]);
  assert.deepEqual(find("02:00:00:00:00:02"), [
    { mac: "02:00:00:00:00:02", ifname: "v0", flags: ["self"], state: "permanent" },
  ]);
  assert.deepEqual(find("02:00:00:00:00:03"), [
    {
      mac: "02:00:00:00:00:03",
      ifname: "v0",
      flags: ["sticky"],
      master: "br0",
      state: "static",
    },
  ]);
  // Replace: static to permanent, in place.
  await ip.fdb.replace({ mac: "02:00:00:00:00:01", dev: "v0", flags: ["master"] });
  assert.equal(find("02:00:00:00:00:01")[0].state, "permanent");
  // VXLAN remotes: add, append a second for the same MAC, a dynamic one with port and VNI.
  await ip.fdb.add({ mac: "00:00:00:00:00:00", dev: "vx0", dst: "192.0.2.1" });
  await ip.fdb.append({ mac: "00:00:00:00:00:00", dev: "vx0", dst: "192.0.2.2" });
  await ip.fdb.add({
    mac: "02:00:00:00:00:05",
    dev: "vx0",
    dst: "192.0.2.5",
    port: 5000,
    vni: 77,
    state: "dynamic",
  });
  assert.deepEqual(find("00:00:00:00:00:00", "dev", "vx0").map((e) => e.dst).sort(), [
    "192.0.2.1",
    "192.0.2.2",
  ]);
  assert.deepEqual(find("02:00:00:00:00:05", "dev", "vx0"), [
    {
      mac: "02:00:00:00:00:05",
      dst: "192.0.2.5",
      port: 5000,
      vni: 77,
      flags: ["self"],
      state: "",
    },
  ]);
  // Delete by what list() returned: one remote of two, then every entry made.
  const remote = (await ip.fdb.list({ dev: "vx0" })).find((e) => e.dst === "192.0.2.2")!;
  await ip.fdb.delete(remote);
  assert.deepEqual(find("00:00:00:00:00:00", "dev", "vx0").map((e) => e.dst), ["192.0.2.1"]);
  const made = (e: FdbEntry) => e.mac.startsWith("02:00:00:00:00:") || e.mac.startsWith("00:");
  for (const entry of (await ip.fdb.list()).filter(made)) await ip.fdb.delete(entry);
  assert.deepEqual(bridge(ns, "show").filter(made as never), []);
  // And by the values bridge fdb del takes.
  await ip.fdb.add({ mac: "02:00:00:00:00:01", dev: "v0", flags: ["master"], state: "static" });
  await ip.fdb.add({ mac: "02:00:00:00:00:02", dev: "v0" });
  await ip.fdb.delete({ mac: "02:00:00:00:00:01", dev: "v0", flags: ["master"] });
  await ip.fdb.delete({ mac: "02:00:00:00:00:02", dev: "v0" });
  assert.deepEqual(bridge(ns, "show").filter(made as never), []);
});

test("fdb.delete() takes a copy of a listed entry (a spread, JSON read back), as the other objects' delete() does", async () => {
  // It was refused: 'unknown option "index"', where route, neighbour and address copies go.
  using ns = new Netns([
    "link add br0 type bridge",
    "link add v0 type veth peer name v1",
    "link set v0 master br0",
    "link add vx0 type vxlan id 42 dstport 4789",
  ]);
  await using ip = await openRoute({ netns: ns.name });
  await ip.fdb.add({ mac: "02:00:00:00:00:01", dev: "v0", flags: ["master"], state: "static" });
  await ip.fdb.add({ mac: "02:00:00:00:00:02", dev: "v0" });
  await ip.fdb.add({ mac: "00:00:00:00:00:00", dev: "vx0", dst: "192.0.2.1" });
  await ip.fdb.append({ mac: "00:00:00:00:00:00", dev: "vx0", dst: "192.0.2.2", vni: 7 });
  const made = (e: Json) => e.mac.startsWith("02:00:00:00:00:") || e.mac === "00:00:00:00:00:00";
  const listed = (await ip.fdb.list()).filter(made);
  const copy = (mac: string, dst?: string) =>
    JSON.parse(JSON.stringify(listed.find((e) => e.mac === mac && e.dst === dst)));
  // The bridge's entry on its port (flags [], master br0: not "self", which a spec assumes).
  await ip.fdb.delete(copy("02:00:00:00:00:01"));
  await ip.fdb.delete({ ...listed.find((e) => e.mac === "02:00:00:00:00:02")! });
  await ip.fdb.delete(copy("00:00:00:00:00:00", "192.0.2.2")); // one remote of two
  assert.deepEqual(bridge(ns, "show").filter(made).map((e) => [e.mac, e.dst]), [
    ["00:00:00:00:00:00", "192.0.2.1"],
  ]);
  await assert.rejects(
    ip.fdb.delete({ ...copy("00:00:00:00:00:00", "192.0.2.1"), state: "lost" }),
    /state: "lost" is not an FDB state/,
  );
});

test("fdb errors: EEXIST on add, ENOENT on delete, typed and saying which", async () => {
  using ns = new Netns([
    "link add br0 type bridge",
    "link add v0 type veth peer name v1",
    "link set v0 master br0",
  ]);
  await using ip = await openRoute({ netns: ns.name });
  const entry = {
    mac: "02:00:00:00:00:01",
    dev: "v0",
    flags: ["master"],
    state: "static" as const,
  };
  await ip.fdb.add(entry);
  await assert.rejects(ip.fdb.add(entry), (err) => {
    assert.ok(err instanceof NetlinkError);
    assert.equal(err.code, "EEXIST");
    assert.match(err.message, /^EEXIST: fdb add 02:00:00:00:00:01: /);
    return true;
  });
  const key = { mac: entry.mac, dev: "v0", flags: ["master"] };
  await ip.fdb.delete(key);
  await assert.rejects(ip.fdb.delete(key), (err) => {
    assert.ok(err instanceof NetlinkError);
    assert.equal(err.code, "ENOENT");
    assert.match(err.message, /^ENOENT: fdb delete 02:00:00:00:00:01: /);
    return true;
  });
  await assert.rejects(
    ip.fdb.add({ mac: "02:00:00:00:00:01", dev: "eth9" }),
    /^NetlinkError: ENODEV: no link named "eth9"$/,
  );
});

test("fdb: bad input is refused before any request, naming the field", async () => {
  // Over a closed socket: any request would fail with "closed", so the TypeError came first.
  const socket = await open(NETLINK_ROUTE);
  await using ip = await openRoute({ socket });
  socket.close();
  const x = (value: object) => value as never;
  const entry = { mac: "02:00:00:00:00:01", dev: "v0" };
  const refused: [Promise<unknown>, RegExp][] = [
    [ip.fdb.add(x({ ...entry, mac: "02:00:00:00:01" })), /^TypeError: mac: "02:00:00:00:01"/],
    [ip.fdb.add(x({ ...entry, dev: "a b" })), /^TypeError: dev: "a b" is not a link name/],
    [ip.fdb.add(x({ ...entry, state: "stale" })), /^TypeError: state: "stale" is not an FDB/],
    [ip.fdb.add(x({ ...entry, flags: ["slef"] })), /^TypeError: flags: "slef" is not one of/],
    [ip.fdb.add(x({ ...entry, flags: "self" })), /^TypeError: flags must be an array/],
    [
      ip.fdb.add(x({ ...entry, vlan: 4095 })),
      /^RangeError: vlan: 4095 is not an integer from 1 to 4094$/,
    ],
    [ip.fdb.add(x({ ...entry, vlan: 0 })), /^RangeError: vlan: 0 /],
    [
      ip.fdb.add(x({ ...entry, port: 65536 })),
      /^RangeError: port: 65536 is not an integer from 1 to 65535$/,
    ],
    [ip.fdb.add(x({ ...entry, vni: 1 << 24 })), /^RangeError: vni: 16777216 /],
    [ip.fdb.add(x({ ...entry, dst: "192.0.2" })), /^TypeError: dst: "192.0.2"/],
    [ip.fdb.append(x({ ...entry, macc: 1 })), /^TypeError: fdb.append\(\) entry: unknown/],
    [ip.fdb.replace(x({ ...entry, stat: 1 })), /did you mean "state"/],
    [ip.fdb.delete(x({ ...entry, state: "static" })), /^TypeError: fdb.delete\(\) entry: unknown/],
    [ip.fdb.delete(null as never), /^TypeError: fdb: expected an object/],
    [ip.fdb.list(x({ vlan: "1" })), /^TypeError: vlan: "1" /],
    [ip.fdb.list(x({ bridge: "br0" })), /^TypeError: fdb.list\(\) filter: unknown option/],
    [ip.fdb.list(x({ master: "" })), /^TypeError: master: "" is not a link name/],
  ];
  for (const [call, error] of refused) await assert.rejects(call, error);
});

test("monitor([\"fdb\"]) yields FDB entries as list() has them; neighbour events stay IPv4 and IPv6", async () => {
  using ns = new Netns([
    "link add br0 type bridge",
    "link add v0 type veth peer name v1",
    "link set v0 master br0",
    "link add vx0 type vxlan id 42 dstport 4789",
  ]);
  await using ip = await openRoute({ netns: ns.name });
  await using events = ip.monitor(["neighbour", "fdb"]);
  const next = async () => {
    const { value: e } = await events.next();
    if (e?.object === "fdb") return e;
    if (e?.object === "neighbour") return `neighbour ${e.action} ${e.value.address}`;
    throw new Error(`unexpected ${JSON.stringify(e)}`);
  };
  bridgeDo(ns, "add", "02:00:00:00:00:01", "dev", "v0", "master", "static");
  const added = await next() as Json;
  assert.equal(added.action, "new");
  const [listed] = (await ip.fdb.list({ dev: "v0" })).filter((l) => l.mac === "02:00:00:00:00:01");
  assert.deepEqual(asBridge(added.value), asBridge(listed));
  assert.equal(added.value.master, "br0");
  ns.ip("neigh", "add", "10.0.0.5", "lladdr", "02:00:00:00:00:05", "dev", "v0");
  assert.equal(await next(), "neighbour new 10.0.0.5");
  bridgeDo(ns, "add", "02:00:00:00:00:02", "dev", "vx0", "dst", "192.0.2.2");
  const remote = await next() as Json;
  assert.deepEqual([asBridge(remote.value, false)], bridge(ns, "show", "dev", "vx0"));
  assert.equal(remote.value.dev, "vx0");
  bridgeDo(ns, "del", "02:00:00:00:00:01", "dev", "v0", "master");
  const deleted = await next() as Json;
  assert.deepEqual([deleted.action, deleted.value.mac, deleted.value.dev], [
    "deleted",
    "02:00:00:00:00:01",
    "v0",
  ]);
});
