// The command-line tool's `link` and `addr` writes and the flushes, run side by side with ip: the
// same command line in two fresh namespaces, one given to ip and one to the tool, must end with
// the same exit status, the same output (none) and the same links, addresses, routes and
// neighbours, read back with `ip -j`.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import type { Netns } from "../host/_netns.ts";
import { cli, quietNetns } from "./_cli.ts";

/**
 * Runs each line with `ip -n` in `byIp` and with the tool in `ours`: the same exit status, the
 * same standard output, and on failure one line (ours) to standard error.
 */
function both(byIp: Netns, ours: Netns, lines: string[]): void {
  for (const line of lines) {
    const args = line.split(" ");
    const ip = spawnSync("ip", ["-n", byIp.name, ...args], { encoding: "utf8" });
    const r = cli(["--netns", ours.name, ...args]);
    const view = `${line}: ip ${ip.status} (${ip.stderr.trim()}), ours ${r.status} (${r.stderr})`;
    assert.equal(r.status, ip.status, view);
    assert.equal(r.stdout, ip.stdout, view);
    if (r.status !== 0) assert.match(r.stderr, /^netlink: [^\n]+\n$/, view);
  }
}

/** What no two namespaces share: indexes, random link-layer addresses, timers and bridge ids. */
const UNSHARED =
  /^(ifindex|link_index|address|broadcast|bridge_id|root_id|designated_root|.*_timer)$/;

function shared(value: unknown, keep: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((item) => shared(item, keep));
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value).filter(([key]) => keep.has(key) || !UNSHARED.test(key));
  return Object.fromEntries(entries.map(([key, item]) => [key, shared(item, keep)]));
}

/** `ip -j -d link show` of `ns`, without what differs between two namespaces. */
function links(ns: Netns): unknown {
  const all = ns.json("-d", "link", "show") as { ifname: string; address?: string }[];
  // The address set by hand (02:00:...) is compared; the random ones are not.
  return all.map((link) =>
    link.address?.startsWith("02:00:") ? link : shared(link, new Set()) as typeof link
  ).map((link) => shared(link, new Set(["address"])));
}

test("cli link add/set/delete: as ip's, the same links, statuses and output", () => {
  using byIp = quietNetns([]);
  using ours = quietNetns([]);
  both(byIp, ours, [
    "link add v0 type veth peer name v1 mtu 1400",
    "link add v0 type veth peer v1",
    "link add foo",
    "link add name a name b type veth",
    "link add v7 foo type veth",
    "link set v0 up mtu 1300 alias hello txqueuelen 500",
    "link add br0 up type bridge",
    "link set v0 master br0",
    "link set v0 master nope",
    "link set v1 name w1",
    "link set v0 address 02:00:00:00:00:01",
    "link set v0 mtu abc",
    "link add mv0 link w1 type macvlan mode bridge",
    "link add vx0 type vxlan id 42 dstport 4789 remote 10.1.1.1 dev w1 ttl 5",
    "link add dev v2 type veth peer name v3",
    "link set nonex up",
    "link set",
    "link del",
    "link del nonex",
    "link set w1 addrgenmode none",
    "link set w1 netns nonex",
    "link set w1 down",
    "link del v2 type veth",
    "link add foo type nosuchkind",
  ]);
  assert.deepEqual(links(ours), links(byIp));
  both(byIp, ours, ["link set v0 nomaster", "link del mv0", "link del vx0"]);
  assert.deepEqual(links(ours), links(byIp));
  assert.deepEqual(
    (ours.json("link", "show", "v0")[0] as Record<string, unknown>).ifalias,
    "hello",
  );
  // A word ip has that this tool does not take is refused as such, not read as a device.
  const arp = cli(["--netns", ours.name, "link", "set", "v0", "arp", "off"]);
  assert.equal(arp.status, 255);
  assert.equal(arp.stderr, "netlink: link set: \"arp\" is not supported\n");
  const peer = cli([
    "--netns",
    ours.name,
    "link",
    "add",
    "v8",
    "type",
    "veth",
    "peer",
    "v9",
    "mode",
    "x",
  ]);
  assert.equal(peer.status, 255);
});

test("cli link set netns, link add ... peer netns: the link moves to the namespace named, as ip's", () => {
  using ours = quietNetns(["link add v0 type veth peer name v1"]);
  using other = quietNetns([]);
  const run = (...args: string[]) => {
    const r = cli(["--netns", ours.name, ...args]);
    assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
  };
  run("link", "set", "v1", "netns", other.name);
  run("link", "add", "v2", "type", "veth", "peer", "name", "v3", "netns", other.name);
  assert.deepEqual(other.json("link", "show").map((l) => l.ifname).sort(), ["lo", "v1", "v3"]);
  assert.deepEqual(ours.json("link", "show").map((l) => l.ifname).sort(), ["lo", "v0", "v2"]);
});

/** `ip -j addr show` of `ns`: each link's name and addresses, the time left of a lifetime aside. */
function addresses(ns: Netns): unknown {
  return ns.json("addr", "show").map((link) => ({
    ifname: link.ifname,
    addr_info: (link.addr_info as Record<string, unknown>[]).map((a) => ({
      ...a,
      valid_life_time: a.valid_life_time === 4294967295 ? "forever" : "counting",
      preferred_life_time: a.preferred_life_time === 4294967295 ? "forever" : "counting",
    })),
  }));
}

test("cli addr add/replace/delete/flush: as ip's, the same addresses, statuses and output", () => {
  const links = ["link add v0 type veth peer name v1", "link set v0 up"];
  using byIp = quietNetns(links);
  using ours = quietNetns(links);
  both(byIp, ours, [
    "addr add 10.0.0.1/24 dev v0",
    "addr add 10.0.0.1/24 dev v0",
    "addr add 10.0.0.2/24 dev v0 brd + label v0:a",
    "addr add 10.0.0.3/24 dev v0 broadcast 10.0.0.99",
    "addr add 10.0.1.1 peer 10.0.1.2/30 dev v0",
    "addr add 2001:db8::1/64 dev v0 nodad",
    "addr add 2001:db8:1::1/64 dev v0 nodad noprefixroute home",
    "addr add 10.0.2.1/24 dev v0 valid_lft 300 preferred_lft 100 metric 9",
    "addr add 10.0.3.1/24 dev v0 brd - scope link",
    "addr add 10.9/16 dev v1",
    "addr add local 10.0.4.1/24 dev v1",
    "addr add 10.0.0.1/24",
    "addr add 10.0.0.1/24 dev nonex",
    "addr add 10.0.0.1/24 dev v0 scope bogus",
    "addr add 10.0.0.1/24 10.0.0.2 dev v0",
    "addr del 10.0.0.77/24 dev v0",
    "addr replace 10.0.0.1/24 dev v0 metric 5",
    "addr del 10.0.0.3 dev v0",
    "addr del 10.0.1.1 peer 10.0.1.2/30 dev v0",
    "addr del 2001:db8::1/64 dev v0",
  ]);
  assert.deepEqual(addresses(ours), addresses(byIp));
  // ip's wildcard deletion (an IPv4 address without its length), with its warning.
  const wildcard = cli(["--netns", ours.name, "addr", "del", "10.0.0.2", "dev", "v0"]);
  assert.equal(wildcard.status, 0);
  assert.match(wildcard.stderr, /^Warning: Executing wildcard deletion/);
  byIp.ip("addr", "del", "10.0.0.2/24", "dev", "v0");
  // A label, which the kernel would select by too, is refused rather than left out.
  const label = cli([
    "--netns",
    ours.name,
    "addr",
    "del",
    "10.0.0.1/24",
    "dev",
    "v0",
    "label",
    "x",
  ]);
  assert.equal(label.status, 255);
  assert.deepEqual(addresses(ours), addresses(byIp));
  both(byIp, ours, [
    "addr flush",
    "-6 addr flush dev v0",
    "addr flush dev v0 scope link",
    "addr flush dev nonex",
    "addr flush dev v0 scope bogus",
  ]);
  assert.deepEqual(addresses(ours), addresses(byIp));
  assert.ok((addresses(ours) as { addr_info: unknown[] }[]).some((l) => l.addr_info.length > 1));
  both(byIp, ours, ["addr flush dev v0", "addr flush v1"]);
  assert.deepEqual(addresses(ours), addresses(byIp));
});

test("cli route flush and neigh flush: as ip's, the same routes, neighbours, statuses and output", () => {
  const setup = [
    "link add v0 type veth peer name v1",
    "link set v0 up",
    "link set v1 up",
    "addr add 10.0.0.1/24 dev v0",
    "addr add 2001:db8::1/64 dev v0 nodad",
    "route add 10.1.0.0/16 via 10.0.0.9",
    "route add 10.3.0.0/16 dev v0 proto static",
    "route add 10.5.0.0/16 dev v1",
    "route add 10.2.0.0/16 dev v0 table 100",
    "route add 10.4.0.0/16 via 10.0.0.9 table 100",
    "route add 10.6.0.0/16 dev v1 table 100",
    "route add 2001:db8:5::/48 dev v0",
    "neigh add 10.0.0.5 lladdr 02:00:00:00:00:05 dev v0",
    "neigh add 10.0.0.6 lladdr 02:00:00:00:00:06 dev v0 nud stale",
    "neigh add 10.0.0.7 lladdr 02:00:00:00:00:07 dev v0 nud reachable",
    "neigh add 10.0.0.8 lladdr 02:00:00:00:00:08 dev v0 nud noarp",
    "neigh add 10.0.0.9 lladdr 02:00:00:00:00:09 dev v1 nud stale",
  ];
  using byIp = quietNetns(setup);
  using ours = quietNetns(setup);
  // In one order: the kernel dumps neighbours in its hash table's.
  const sorted = (ns: Netns, view: string[]) =>
    ns.json(...view).map((entry) => JSON.stringify(entry)).sort();
  const same = (...view: string[]) => {
    assert.deepEqual(sorted(ours, view), sorted(byIp, view), view.join(" "));
    return sorted(ours, view).length;
  };
  both(byIp, ours, [
    "route flush",
    "route flush table 4242",
    "route flush dev nonex",
    "route flush proto static",
  ]);
  assert.equal(same("route", "show"), 3);
  both(byIp, ours, ["route flush table 100 via 10.0.0.9", "route flush dev v0"]);
  assert.equal(same("route", "show"), 1);
  assert.equal(same("route", "show", "table", "100"), 2);
  both(byIp, ours, ["route flush table 100 10.6.0.0/16", "-6 route flush dev v0"]);
  assert.equal(same("route", "show", "table", "100"), 1);
  assert.equal(same("-6", "route", "show"), 0);

  both(byIp, ours, ["neigh flush", "neigh flush dev nonex", "neigh flush dev v0"]);
  assert.equal(same("-4", "neigh", "show", "nud", "all"), 3);
  both(byIp, ours, ["neigh flush dev v0 nud permanent", "neigh flush dev v1 nud all"]);
  assert.equal(same("-4", "neigh", "show", "nud", "all"), 1);
});
