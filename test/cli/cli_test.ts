// The command-line tool run as a process on the runtime running this test (deno test: Deno,
// bun test: Bun), in a fresh namespace holding varied objects: its --json compared with
// `ip -j` / `tc -j` for the same namespace, its writes read back with `ip`, its errors one line
// with a non-zero status.

import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { CaptureFile } from "../../src/cli/_capture.ts";
import { linkJson, linkText } from "../../src/cli/_ip.ts";
import { countText } from "../../src/cli/_link_stats.ts";
import {
  NETLINK_GENERIC,
  NETLINK_ROUTE,
  NLM_F_DUMP,
  NLMSG_OVERRUN,
  RTM_GETLINK,
  RTM_NEWLINK,
  RTNLGRP_LINK,
} from "../../src/constants.ts";
import { resolveFamily } from "../../src/genl.ts";
import { open } from "../../src/open.ts";
import { toLink } from "../../src/route/link.ts";
import { openRoute } from "../../src/route/mod.ts";
import { family } from "../../src/ynl/mod.ts";
import { rtLink } from "../../src/ynl/rt_link.ts";
import { afterFile } from "../_after_file.ts";
import { jsdocExamples, runExampleInNetns } from "../_jsdoc.ts";
import { Netns } from "../host/_netns.ts";
import { tcJson, tcRun } from "../route/_tc.ts";
import { tsharkFields } from "../wire/_tshark.ts";
import { CLI, cli, cliJson, quietNetns, RUNTIME } from "./_cli.ts";

const tmp = mkdtempSync(`${tmpdir()}/nlcli-`);
// After the file's tests (process.on("exit") left the directory behind, run after run).
afterFile(() => rmSync(tmp, { recursive: true, force: true }));

/** A namespace with the objects the comparisons walk over. */
function variedNetns(): Netns {
  const ns = new Netns([
    "link add va0 type veth peer name vb0",
    "link add br0 type bridge",
    "link set va0 master br0",
    "link set va0 up",
    "link set vb0 up",
    "link set br0 up",
    "link set vb0 mtu 1400",
    "link set va0 alias uplink",
    "link property add dev va0 altname upl0",
    "addr add 10.9.0.1/24 dev br0",
    "addr add 10.9.2.1/24 dev br0 label br0:two",
    "addr add 2001:db8::1/64 dev br0 nodad",
    "addr add 10.9.1.1/24 dev vb0 valid_lft 300 preferred_lft 100",
    "addr add 10.9.3.1 peer 10.9.3.2/32 dev vb0",
    "addr add 10.9.0.9/24 dev br0",
    "addr add 2001:db8:1::1/64 dev vb0 nodad valid_lft 500 preferred_lft 200",
    "addr add 10.9.4.1/24 dev br0 noprefixroute metric 50", // IFA_RT_PRIORITY
    "route add 10.50.0.0/16 via 10.9.0.2 metric 20",
    "route add blackhole 10.66.0.0/16",
    "route add 10.70.0.0/16 via 10.9.0.3 table 100",
    "route add 10.80.0.0/16 nexthop via 10.9.0.2 weight 1 nexthop via 10.9.1.2 weight 3",
    "route add 2001:db8:5::/48 via 2001:db8::2",
    "route add 10.81.0.0/16 dev br0 mtu 1300",
    // IPv6 gateways of IPv4 routes (RTA_VIA): "via inet6 ..." as ip prints them.
    "route add 10.82.0.0/16 via inet6 2001:db8::3 dev br0",
    "route add 10.83.0.0/16 nexthop via inet6 2001:db8::4 dev br0 nexthop via 10.9.0.2",
    "route add 2001:db8:9::/48 from 2001:db8:100::/48 via 2001:db8::2",
    "nexthop add id 5 via 10.9.0.2 dev br0",
    "route add 10.55.0.0/16 nhid 5",
    "route add 10.56.0.0/16 via 10.9.0.2 realm 5",
    "route add 10.57.0.0/16 via 10.9.0.2 realms 3/4",
    "route add 10.58.0.0/16 via 10.9.0.2 tos 0x10",
    "route add 10.59.0.0/16 via 10.9.0.2 mtu lock 1300 advmss 1200 rtt 300ms rttvar 1500 "
    + "rto_min 2s features ecn congctl lock cubic hoplimit 64 initcwnd 10",
    "neigh add 10.9.0.5 lladdr 02:00:00:00:00:05 dev br0",
    "neigh add 2001:db8::5 lladdr 02:00:00:00:00:07 dev br0 router",
    // Two flags, in ip's order (router before extern_learn); extern_learn: the kernel keeps it.
    "neigh add 10.9.0.6 lladdr 02:00:00:00:00:06 dev br0 nud stale router extern_learn",
    "rule add fwmark 0x64/0xff table 100 pref 100",
    "rule add from 10.9.0.0/24 to 10.50.0.0/16 iif br0 lookup 100 pref 200",
    "rule add from 192.0.2.0/24 blackhole pref 300",
    "rule add not from 10.20.0.0/16 goto 32766 pref 400",
    "rule add tos 0x10 oif br0 table 5 pref 401",
    "rule add nop pref 402",
    "rule add iif nosuch0 oif nosuch1 table 5 pref 403",
    "rule add tun_id 5 lookup 5 pref 404",
  ]);
  // Forwarding on, for lookups as if a packet came in (route get ... iif).
  spawnSync("ip", ["netns", "exec", ns.name, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
  // Link-local addresses are tentative until DAD is done (a second or two): compared before
  // that, one side could read "tentative" and the other not.
  for (let i = 0; i < 100 && ns.json("-6", "addr", "show", "tentative").length > 0; i++) {
    spawnSync("sleep", ["0.1"]);
  }
  return ns;
}

/**
 * `actual` with each countdown (route expiry, address lifetimes) set to `expected`'s where the
 * two are within 5 s: they tick between the two reads. Everything else is compared exactly.
 */
function alignCountdowns(actual: unknown, expected: unknown): unknown {
  if (Array.isArray(actual) && Array.isArray(expected)) {
    return actual.map((value, i) => alignCountdowns(value, expected[i]));
  }
  if (
    actual === null || expected === null || typeof actual !== "object"
    || typeof expected !== "object"
  ) return actual;
  const want = expected as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(actual)) {
    const other = want[key];
    const countdown = key === "expires" || key === "valid_life_time"
      || key === "preferred_life_time";
    out[key] = countdown && typeof value === "number" && typeof other === "number"
        && Math.abs(value - other) <= 5
      ? other
      : alignCountdowns(value, other);
  }
  return out;
}

test("cli --json equals ip -j: links, addresses, routes, lookups, neighbours, rules", () => {
  using ns = variedNetns();
  const same = (args: string[]) => {
    const expected = ns.json(...args);
    const actual = alignCountdowns(cliJson(ns, ...args), expected);
    assert.deepEqual(actual, expected, `netlink --json ${args.join(" ")}`);
    // In ip's order of keys too.
    assert.equal(JSON.stringify(actual), JSON.stringify(expected), `key order: ${args.join(" ")}`);
  };
  same(["link", "show"]);
  same(["link", "show", "va0"]);
  same(["route", "show"]);
  same(["route", "show", "table", "all"]);
  same(["route", "show", "table", "100"]);
  same(["route", "show", "dev", "br0"]);
  same(["route", "show", "proto", "kernel"]);
  same(["route", "show", "proto", "boot"]);
  same(["route", "show", "proto", "0x2"]); // read as ip reads numbers: kernel
  same(["route", "show", "proto", "all"]);
  same(["route", "show", "type", "blackhole"]);
  same(["route", "show", "table", "all", "type", "local"]);
  same(["-6", "route", "show"]);
  // Scope, metric and TOS, as ip's filter_nlmsg selects by them (each then not printed); "scope
  // all" is every scope, printed. They were refused ('route show selects by table, dev...').
  same(["route", "show", "scope", "link"]);
  same(["route", "show", "scope", "global"]);
  same(["route", "show", "scope", "all"]);
  same(["route", "show", "table", "all", "scope", "host"]);
  same(["route", "show", "metric", "20"]);
  same(["route", "show", "metric", "0"]);
  same(["-6", "route", "show", "metric", "1024"]);
  same(["route", "show", "tos", "0x10"]);
  same(["route", "show", "tos", "0"]);
  // Gateway, preferred source, realms, mark and "oif" (dev), as ip's filter_nlmsg selects by
  // them (a whole address then not printed, nor realms given both ways). They were refused.
  const selectors = [
    ["via", "10.9.0.2"],
    ["via", "10.9.0.0/24"],
    ["via", "inet6", "2001:db8::3"],
    ["via", "inet", "10.9.0.3", "table", "all"],
    ["src", "10.9.0.1"],
    ["src", "10.9.0.0/16"],
    ["realm", "5"],
    ["realms", "3/4"],
    ["realms", "3/"],
    ["realms", "0/4"],
    ["mark", "0"],
    ["mark", "5"],
    ["oif", "br0"],
  ];
  for (const selector of selectors) {
    same(["route", "show", ...selector]);
    const text = cli(["--netns", ns.name, "route", "show", ...selector]);
    assert.equal(text.stdout, ns.ip("route", "show", ...selector), selector.join(" "));
  }
  same(["-6", "route", "show", "via", "2001:db8::2"]);
  // The source prefix (RTA_SRC), with root, match and exact as for the destination.
  for (const from of ["2001:db8:100::/48", "root 2001:db8::/32", "match 2001:db8:100:1::/64"]) {
    same(["-6", "route", "show", "from", ...from.split(" ")]);
  }
  same(["-6", "route", "show", "from", "root", "2001:db8:100::/40"]);
  same(["-6", "route", "show", "src", "2001:db8::/32"]);
  // Destination selectors, as ip's filter_nlmsg applies them.
  same(["route", "show", "10.50.0.0/16"]);
  same(["route", "show", "to", "exact", "10.50.0.0/16"]);
  same(["route", "show", "root", "10.0.0.0/8"]);
  same(["route", "show", "match", "10.50.1.1"]);
  same(["route", "show", "match", "10.50.0.0/16", "root", "10.0.0.0/8"]);
  same(["route", "show", "default"]);
  same(["route", "show", "all"]);
  same(["-4", "route", "show", "any"]);
  same(["route", "show", "table", "all", "root", "10.9.0.0/16"]);
  same(["-6", "route", "show", "root", "2001:db8::/32"]);
  same(["route", "get", "10.50.1.1"]);
  same(["route", "get", "10.9.0.7"]);
  same(["route", "get", "10.55.0.1"]);
  same(["route", "get", "10.9.0.7", "mark", "20"]);
  same(["route", "get", "10.9.0.7", "dev", "br0"]); // as ip: dev is the outgoing link (oif)
  same(["route", "get", "10.9.0.7", "oif", "lo", "dev", "br0"]); // the last one, as ip
  same(["route", "get", "10.9.0.255"]);
  same(["route", "get", "to", "10.9.0.7"]); // as ip: "to" may come before the destination
  same(["route", "get", "10.50.1.1", "to", "10.9.0.7"]); // the last one, as ip
  // Destinations as ip's get_prefix reads them: default, all and any (0.0.0.0), the parts left
  // out of an IPv4 address 0 ("10.9" is 10.9.0.0), in base 0 (012 is 10), a length not the full
  // one made full (with ip's warning on stderr), a netmask as a length.
  same(["route", "get", "default"]);
  same(["route", "get", "all"]);
  same(["route", "get", "10.9"]);
  same(["route", "get", "10.9.0"]);
  same(["route", "get", "012.9.0.0x7"]);
  same(["route", "get", "10.9.0.7/24"]);
  same(["route", "get", "10.9.0.7/255.255.0.0"]);
  same(["route", "get", "2001:db8::7/64"]);
  // The rest of what RTM_GETROUTE takes, as ip sends it; its keywords may be shortened.
  same(["route", "get", "10.9.0.7", "tos", "0x10"]);
  same(["route", "get", "10.9.0.7", "dsf", "0x10"]);
  same(["route", "get", "10.9.0.7", "uid", "1000"]);
  same(["route", "get", "10.9.0.7", "u", "7", "m", "0x20"]);
  same(["route", "get", "10.9.0.7", "fibmatch"]);
  same(["route", "get", "10.50.1.1", "fibmatch"]);
  same(["route", "get", "2001:db8::7", "fibmatch"]);
  same(["route", "get", "10.9.0.7", "sport", "80", "dport", "0x50", "ipproto", "tcp"]);
  same(["route", "get", "10.9.0.7", "ipproto", "17"]);
  same(["route", "get", "10.9.0.7", "from", "10.9.0.1"]);
  same(["route", "get", "10.9.0.7", "f", "10.9.0.1", "o", "br0"]);
  same(["neigh", "show"]);
  same(["-6", "neigh", "show"]);
  same(["rule", "show"]);
  same(["-6", "rule", "show"]);
  same(["addr", "show"]);
  same(["addr", "show", "dev", "vb0"]);
  for (const family of ["-4", "-6"]) {
    same([family, "addr", "show"]);
  }
  // `connected`: the lookup, then one from the source it gave (what ip means; ip 6.1 prints the
  // first twice). It failed with EINVAL: the source's length was taken from its text.
  const connected = cli(["--netns", ns.name, "route", "get", "10.9.0.7", "connected"]);
  assert.equal(connected.status, 0, connected.stderr);
  assert.equal(
    connected.stdout,
    ns.ip("route", "get", "10.9.0.7") + ns.ip("route", "get", "10.9.0.7", "from", "10.9.0.1"),
  );
  // The text output has ip's shape too.
  const text = cli(["--netns", ns.name, "route", "show"]).stdout;
  assert.match(text, /^10\.50\.0\.0\/16 via 10\.9\.0\.2 dev br0 metric 20/m);
  assert.match(text, /^blackhole 10\.66\.0\.0\/16 $/m); // as ip: a space after each field
  // Line for line what ip prints, multipath paths, source prefixes and metrics included.
  const lines = (out: string) =>
    out.split("\n").map((line) => line.trimEnd().replace(/expires \d+sec/, "expires Nsec"))
      .filter(Boolean);
  for (
    const args of [
      ["route", "show"],
      ["-6", "route", "show"],
      ["route", "show", "table", "all"],
      ["route", "show", "root", "10.0.0.0/8"],
      ["route", "show", "match", "10.80.1.1"],
      ["route", "show", "scope", "link"],
      ["route", "show", "metric", "20"],
      ["route", "show", "tos", "0x10"],
      ["rule", "show"],
      ["-6", "rule", "show"],
      ["neigh", "show"],
      // A lookup's uid, mark (decimal below 16, hex above) and cache line.
      ["route", "get", "10.55.0.1"],
      ["route", "get", "10.9.0.7", "mark", "5"],
      ["route", "get", "10.9.0.7", "mark", "20"],
      ["route", "get", "10.9.0.7", "from", "10.9.1.9", "iif", "vb0"],
      // The cache flags of a broadcast (<local,brd>).
      ["route", "get", "10.9.0.255"],
      ["route", "get", "default"],
      ["route", "get", "10.9.0.7", "fibmatch"],
      ["route", "get", "10.9.0.7", "uid", "1000", "tos", "0x10"],
    ]
  ) {
    assert.deepEqual(
      lines(cli(["--netns", ns.name, ...args]).stdout),
      lines(ns.ip(...args)),
      args.join(" "),
    );
  }
  // Links and addresses too.
  const countdowns = (out: string) => lines(out).map((line) => line.replace(/\d+sec/g, "Nsec"));
  for (const view of ["link", "addr", "-4 addr", "-6 addr"]) {
    const args = [...view.split(" "), "show"];
    assert.deepEqual(
      countdowns(cli(["--netns", ns.name, ...args]).stdout),
      countdowns(ns.ip(...args)),
      args.join(" "),
    );
  }
});

test("cli link show: qlen as ip prints it (print_queuelen): none when 0, a signed int above 2^31", async () => {
  using ns = quietNetns(["link add va0 type veth peer name vb0", "link set va0 txqlen 0"], {
    ipv6: false,
  });
  // ip refuses a queue length above INT_MAX; the kernel takes any u32.
  {
    await using ip = await openRoute({ netns: ns.name });
    await ip.link.set("vb0", { txqlen: 0xffff_ffff });
  }
  const lines = (out: string) => out.split("\n").map((line) => line.trimEnd()).filter(Boolean);
  for (const view of ["link show", "addr show"]) {
    const args = view.split(" ");
    assert.deepEqual(cliJson(ns, ...args), ns.json(...args), `--json ${view}`);
    assert.deepEqual(lines(cli(["--netns", ns.name, ...args]).stdout), lines(ns.ip(...args)), view);
  }
  assert.equal(ns.json<{ txqlen?: number }[]>("link", "show", "vb0")[0].txqlen, -1);
  // Byte for byte: without a queue length, ip's first line ends with the space after the group.
  for (const args of [["link", "show", "va0"], ["addr", "show", "va0"]]) {
    assert.equal(cli(["--netns", ns.name, ...args]).stdout, ns.ip(...args), args.join(" "));
  }
});

test("cli link show and neigh show: a link mode and a neighbour state as ip prints them, whatever their number", async () => {
  using ns = quietNetns([
    "link add va0 type veth peer name vb0",
    "link add vc0 type veth peer name vd0",
    "link set va0 mode dormant",
    "link set va0 up",
  ], { ipv6: false });
  {
    // ip sets modes 0 and 1 only and names only those: mode 2 (IF_LINK_MODE_TESTING) is
    // `mode 2`, `"linkmode_index": 2`. The CLI printed DEFAULT for any mode but 1.
    await using rt = await family(rtLink, { netns: ns.name });
    await rt.do("newlink", { ifname: "vc0", linkmode: 2 });
    // The kernel keeps a neighbour state of several bits as it is given (ip refuses to give
    // one): ip prints each bit it names. The CLI printed the number.
    await using ip = await openRoute({ netns: ns.name });
    for (const [host, state] of [[5, 0x84], [6, 0x44], [7, 0x02]]) {
      await ip.neigh.add({
        dev: "va0",
        address: `10.9.0.${host}`,
        lladdr: "02:00:00:00:00:05",
        state,
      });
    }
  }
  assert.equal(ns.json<{ linkmode_index?: number }[]>("link", "show", "vc0")[0].linkmode_index, 2);
  const lines = (out: string) => out.split("\n").map((line) => line.trimEnd()).filter(Boolean);
  for (const view of ["link show", "neigh show nud all"]) {
    const args = view.split(" ");
    const json = cliJson(ns, ...args);
    assert.deepEqual(json, ns.json(...args), `--json ${view}`);
    assert.equal(JSON.stringify(json), JSON.stringify(ns.json(...args)), `key order: ${view}`);
    assert.deepEqual(lines(cli(["--netns", ns.name, ...args]).stdout), lines(ns.ip(...args)), view);
  }
  // A state ip has no name for (the kernel's are 0 to 6) is `state 0xN`, `"operstate_index"`.
  const odd = linkJson(
    toLink({ ifiIndex: 9, ifname: "x0", ifiFlags: 0, ifiType: 1, operstate: 9 } as never),
    new Map(),
  );
  assert.equal(odd.operstate_index, 9);
  assert.equal(odd.operstate, undefined);
  assert.match(linkText(odd), /^9: x0: <> mtu 0 state 0x9 /);
});

test("cli neigh: proxy entries, shown with `neigh show proxy` and added and deleted with `proxy ADDRESS`, as ip's", () => {
  using ns = quietNetns([
    "link add va0 type veth peer name vb0",
    "link set va0 up",
    "neigh add proxy 10.9.0.11 dev va0",
    "neigh add 10.9.0.5 lladdr 02:00:00:00:00:05 dev va0",
  ], { ipv6: false });
  // "proxy" was refused (unexpected "proxy"), in show and in add.
  const ok = (...args: string[]) => {
    const r = cli(["--netns", ns.name, ...args]);
    assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  ok("neigh", "add", "proxy", "10.9.0.12", "dev", "va0");
  for (const view of ["neigh show proxy", "neigh show proxy dev va0", "neigh show"]) {
    const args = view.split(" ");
    assert.deepEqual(cliJson(ns, ...args), ns.json(...args), `--json ${view}`);
    assert.equal(ok(...args), ns.ip(...args), view);
  }
  assert.deepEqual(ns.json("neigh", "show", "proxy").map((n) => n.dst), ["10.9.0.11", "10.9.0.12"]);
  ok("neigh", "del", "proxy", "10.9.0.11", "dev", "va0");
  assert.deepEqual(ns.json("neigh", "show", "proxy").map((n) => n.dst), ["10.9.0.12"]);
  // One address: "proxy ADDRESS" and another is one too many.
  const twice = cli([
    "--netns",
    ns.name,
    "neigh",
    "add",
    "proxy",
    "10.9.0.13",
    "10.9.0.14",
    "dev",
    "va0",
  ]);
  assert.equal(twice.status, 255);
  assert.match(twice.stderr, /unexpected "10\.9\.0\.14"/);
});

test("cli link show: a link's address line as ip prints it: no brd without IFLA_BROADCAST, peer for a point-to-point one", () => {
  // A tun has neither address: ip prints "link/none " (its format ends with a space).
  using ns = quietNetns(["tuntap add tn0 mode tun"], { ipv6: false });
  for (const args of [["link", "show", "tn0"], ["addr", "show", "tn0"]]) {
    assert.equal(cli(["--netns", ns.name, ...args]).stdout, ns.ip(...args), args.join(" "));
    assert.deepEqual(cliJson(ns, ...args), ns.json(...args), `--json ${args.join(" ")}`);
  }
  // The kernel's AF_BRIDGE link messages (a bridge port's, to the link group) carry an address
  // but no broadcast: ip monitor prints "link/ether ADDR" there, not "brd " and nothing. And a
  // point-to-point link's broadcast is its peer (ipip, gre: kinds the test host lacks).
  const link = {
    ifindex: 5,
    ifname: "b0",
    flags: ["BROADCAST", "MULTICAST"],
    mtu: 1500,
    operstate: "DOWN",
    link_type: "ether",
    address: "02:00:00:00:00:05",
  };
  assert.equal(
    linkText(link),
    "5: b0: <BROADCAST,MULTICAST> mtu 1500 state DOWN \n    link/ether 02:00:00:00:00:05",
  );
  assert.equal(
    linkText({
      ...link,
      flags: ["POINTOPOINT", "NOARP"],
      link_type: "ipip",
      address: "10.0.0.1",
      link_pointtopoint: true,
      broadcast: "10.0.0.2",
    }).split("\n")[1],
    "    link/ipip 10.0.0.1 peer 10.0.0.2",
  );
});

test("cli route show: a route's ip/ip6 encapsulation (RTA_ENCAP) as ip prints it, text and JSON", () => {
  using ns = quietNetns([
    "link add va0 type veth peer name vb0",
    "link set va0 up",
    "route add 10.22.0.0/16 encap ip id 5 dst 192.0.2.4 dev va0",
    "route add 10.23.0.0/16 encap ip id 7 dst 192.0.2.5 ttl 9 tos 4 key csum dev va0",
    // The route's own tos after the encapsulation's: ip -j has "tos" twice, the route's last.
    "route add 10.24.0.0/16 tos 0x10 encap ip id 9 dst 192.0.2.6 dev va0",
    "route add 2001:db8:e::/48 encap ip6 id 8 dst 2001:db8::9 hoplimit 3 tc 2 dev va0",
  ]);
  const lines = (out: string) => out.split("\n").filter(Boolean);
  // IPv6: this route only (the multicast route of va0 comes when its carrier does).
  for (const args of [["route", "show"], ["-6", "route", "show", "exact", "2001:db8:e::/48"]]) {
    // Line for line, spaces included (ip prints two before "encap").
    const text = lines(cli(["--netns", ns.name, ...args]).stdout);
    assert.deepEqual(text, lines(ns.ip(...args)), args.join(" "));
    // ip -j prints the encapsulation's dst under the route's key: read as one, the last value.
    assert.deepEqual(cliJson(ns, ...args), ns.json(...args), `--json ${args.join(" ")}`);
  }
  assert.match(
    cli(["--netns", ns.name, "route", "show"]).stdout,
    /^10\.23\.0\.0\/16 {2}encap ip id 7 src 0\.0\.0\.0 dst 192\.0\.2\.5 ttl 9 tos 4 key csum dev va0 /m,
  );
});

test("cli link show up, addr show scope, neigh show nud: ip's filters, as ip applies them", () => {
  // No IPv6: no multicast neighbour entry or address comes and goes between two reads.
  using ns = quietNetns([
    "link add va0 type veth peer name vb0",
    "link add vc0 type veth peer name vd0",
    "link add br0 type bridge",
    "link set vc0 master br0",
    "link set va0 up",
    "addr add 10.9.0.1/24 dev va0",
    "addr add 10.9.1.1/24 dev va0 scope link",
    "addr add 10.9.4.1/24 dev vc0",
    "addr add 10.9.2.1/32 dev vb0 scope host",
    "addr add 10.9.3.1/24 dev vb0 scope site",
    "neigh add 10.9.0.5 lladdr 02:00:00:00:00:05 dev va0",
    "neigh add 10.9.0.6 lladdr 02:00:00:00:00:06 dev va0 nud noarp",
    "neigh add 10.9.0.7 lladdr 02:00:00:00:00:07 dev va0 nud stale",
    "neigh add 10.9.0.8 dev va0 nud none",
  ], { ipv6: false });
  const lines = (out: string) => out.split("\n").map((line) => line.trimEnd()).filter(Boolean);
  const same = (view: string) => {
    const args = view.split(" ");
    // ip -j prints an empty object for each link or address a filter leaves out (it opens the
    // object before deciding): left out here.
    const filled = (o: object) => Object.keys(o).length > 0;
    const expected = ns.json(...args).filter(filled).map((o) =>
      Array.isArray(o.addr_info) ? { ...o, addr_info: o.addr_info.filter(filled) } : o
    );
    assert.deepEqual(cliJson(ns, ...args), expected, `--json ${view}`);
    assert.deepEqual(lines(cli(["--netns", ns.name, ...args]).stdout), lines(ns.ip(...args)), view);
    return expected.length;
  };
  assert.equal(same("link show up"), 2); // lo, va0
  same("link show");
  same("link show va0 up");
  assert.equal(same("link show vb0 up"), 0);
  // A link holding addresses but none of the scope is left out; one holding none is shown.
  for (const scope of ["link", "host", "global", "site", "253", "0xfe", "all"]) {
    same(`addr show scope ${scope}`);
  }
  assert.deepEqual(
    cliJson(ns, "addr", "show", "scope", "link").map((l) => l.ifname),
    ["va0", "vd0", "br0"], // by index: the peer of a veth is made first
  );
  same("addr show up");
  same("addr show up scope host");
  same("addr show vb0 scope host");
  same("addr show dev vb0 scope link");
  same("-4 addr show scope link");
  // A master's ports and links of a kind (KIND_slave: ports of a master of that kind), as ip
  // selects them (they were refused: unexpected "master").
  assert.deepEqual(cliJson(ns, "link", "show", "master", "br0").map((l) => l.ifname), ["vc0"]);
  assert.equal(same("link show type veth"), 4);
  for (
    const view of [
      "link show master br0",
      "link show master vb0",
      "link show type bridge",
      "link show type bridge_slave",
      "link show vc0 type bridge",
      "link show up type veth",
      "addr show master br0",
      "addr show type veth scope global",
      "addr show type bridge_slave",
    ]
  ) {
    same(view);
  }
  // Without nud, every state but noarp and none; each nud adds one; state 0 prints none.
  for (
    const view of [
      "neigh show",
      "neigh show nud all",
      "neigh show nud none",
      "neigh show nud 0",
      "neigh show nud noarp",
      "neigh show nud stale nud perm",
      "neigh show nud 0x80",
      "neigh show dev va0 nud noarp",
    ]
  ) {
    same(view);
  }
  assert.equal(same("neigh show nud all"), 4);
  for (
    const [view, error] of [
      ["addr show scope bogus", /^netlink: argument "bogus" is wrong: invalid "scope"$/m],
      ["link show master nosuch", /^netlink: argument "nosuch" is wrong: Device does not exist$/m],
      ["neigh show nud 3", /^netlink: argument "3" is wrong: nud state is bad$/m],
      ["neigh show nud bogus", /^netlink: argument "bogus" is wrong: nud state is bad$/m],
    ] as const
  ) {
    const result = cli(["--netns", ns.name, ...view.split(" ")]);
    assert.equal(result.status, 255, view);
    assert.match(result.stderr, error, view);
    assert.throws(() => ns.ip(...view.split(" ")), /wrong/, `ip refuses ${view} too`);
  }
  // An empty word is a beginning of no keyword (iproute2's matches()): it was taken as nud
  // permanent and as route type broadcast.
  for (
    const [view, error] of [
      [["neigh", "show", "nud", ""], /^netlink: argument "" is wrong: nud state is bad$/m],
      [
        ["route", "show", "type", ""],
        /^netlink: argument "" is wrong: node type value is invalid$/m,
      ],
    ] as const
  ) {
    const result = cli(["--netns", ns.name, ...view]);
    assert.equal(result.status, 255, view.join(" "));
    assert.match(result.stderr, error, view.join(" "));
    assert.throws(() => ns.ip(...view), /wrong/, `ip refuses ${view.join(" ")} too`);
  }
});

test("cli qdisc/class/filter show equal tc -j; genl and ethtool agree with genl and sysfs", () => {
  using ns = variedNetns();
  // tc objects on a pair left down: no packet moves their counters between two reads.
  ns.ip("link", "add", "vc0", "type", "veth", "peer", "name", "vd0");
  tcRun(ns, "qdisc", "add", "dev", "vd0", "root", "handle", "1:", "htb", "default", "10");
  tcRun(
    ns,
    ...["class", "add", "dev", "vd0", "parent", "1:", "classid", "1:10"],
    "htb",
    "rate",
    "1mbit",
  );
  tcRun(
    ns,
    ...["qdisc", "add", "dev", "vd0", "parent", "1:10", "tbf", "rate", "1mbit"],
    ...["burst", "10kb", "latency", "50ms"],
  );
  tcRun(ns, "qdisc", "add", "dev", "vc0", "clsact");
  tcRun(
    ns,
    ...["filter", "add", "dev", "vc0", "ingress", "protocol", "ip", "pref", "10", "u32"],
    ...["match", "ip", "dst", "10.0.0.0/24", "classid", "1:10"],
  );
  assert.deepEqual(cliJson(ns, "qdisc", "show"), tcJson(ns, "qdisc", "show"));
  assert.deepEqual(
    cliJson(ns, "qdisc", "show", "dev", "vd0"),
    tcJson(ns, "qdisc", "show", "dev", "vd0"),
  );
  const filters = cliJson(ns, "filter", "show", "dev", "vc0", "ingress");
  const want = tcJson(ns, "filter", "show", "dev", "vc0", "ingress");
  assert.deepEqual(
    filters.map((f) => [f.protocol, f.pref, f.kind, f.chain]),
    want.map((f) => [f.protocol, f.pref, f.kind, f.chain]),
  );
  assert.equal((filters[2].options as Record<string, unknown>).flowid, "1:10");
  // A parent named bare by its handle, as the usage has it (`filter show dev DEV 1:`), selects
  // as `parent` does: ffff:fff2 is clsact's ingress (a bare handle was ignored: no filter shown).
  assert.deepEqual(
    cliJson(ns, "filter", "show", "dev", "vc0", "ffff:fff2").map((f) => [f.pref, f.kind]),
    want.map((f) => [f.pref, f.kind]),
  );
  const classText = cli(["--netns", ns.name, "class", "show", "dev", "vd0"]).stdout;
  assert.match(
    classText,
    /^class htb 1:10 root leaf \w+: prio 0 rate 1Mbit ceil 1Mbit burst 1600b cburst 1600b/m,
  );

  const families = cliJson<
    {
      family: string;
      id: string;
      operations: { id: string; name?: string; capabilities?: string[] }[];
      mcast: { id: string; name: string }[];
    }[]
  >(ns, "genl");
  // Some families exist only in the first namespace: list the same namespace's.
  const listed = spawnSync("ip", ["netns", "exec", ns.name, "genl", "ctrl", "list"], {
    encoding: "utf8",
  }).stdout;
  const want2 = [...listed.matchAll(/^Name: (\S+)\n\s+ID: (0x[0-9a-f]+)/gm)].map((
    m,
  ) => [m[1], m[2]]);
  assert.deepEqual(families.map((f) => [f.family, f.id]).sort(), want2.sort());
  const [ctrl] = cliJson<typeof families>(ns, "genl", "show", "nlctrl");
  assert.deepEqual(ctrl.operations.map((op) => op.name), ["getfamily", "getpolicy"]);
  assert.deepEqual(ctrl.operations[0].capabilities, ["do", "dump", "policy"]);
  assert.deepEqual(ctrl.mcast, [{ id: "0x10", name: "notify" }]);
  // The text is genl ctrl list's. genl before 6.3 (2a98bc13, "print caps for all families")
  // leaves out the capabilities of families whose own version is 1: so does the comparison.
  const text = cli(["--netns", ns.name, "genl"]).stdout;
  const capsOfVersion1 = (listing: string) =>
    listing.split("\nName: ").map((family) =>
      /Version: 0x1 /.test(family)
        ? family.replace(/\n\t\tCapabilities \(0x[0-9a-f]+\):\n [^\n]*\n/g, "")
        : family
    ).join("\nName: ");
  const genlVersion = spawnSync("genl", ["-V"], { encoding: "utf8" }).stdout;
  const old = Number(/iproute2-6\.(\d+)/.exec(genlVersion)?.[1] ?? 99) < 3;
  assert.equal(old ? capsOfVersion1(text) : text, listed);
  assert.match(text, /^\tcommands supported: \n\t\t#1: {2}ID-0x3 \n\t\tCapabilities \(0xe\):/m);
  for (const args of [["genl", "ctrl", "get", "name", "nlctrl"], ["genl", "show", "nlctrl"]]) {
    const one =
      spawnSync("ip", ["netns", "exec", ns.name, "genl", "ctrl", "get", "name", "nlctrl"], {
        encoding: "utf8",
      }).stdout;
    assert.equal(cli(["--netns", ns.name, ...args]).stdout, one, args.join(" "));
  }

  // A genl ctrl command the tool lacks is a bad command line, as for genl.
  const bad = cli(["--netns", ns.name, "genl", "ctrl", "monitor"]);
  assert.equal(bad.status, spawnSync("genl", ["ctrl", "bogus"]).status);
  assert.equal(bad.stderr, "netlink: genl ctrl takes list, or get name FAMILY\n");

  const eth = cliJson<{ speed: number; duplex: string; features: string[] }>(ns, "ethtool", "va0");
  const sys = (file: string) =>
    spawnSync("ip", ["netns", "exec", ns.name, "cat", `/sys/class/net/va0/${file}`], {
      encoding: "utf8",
    }).stdout.trim();
  assert.equal(eth.speed, Number(sys("speed")));
  assert.equal(eth.duplex.toLowerCase(), sys("duplex"));
  assert.ok(eth.features.includes("tx-checksum-ip-generic"));
});

test("cli class and filter show print tc's lines: u32's ht divisor, key ht, *flowid, one match a line, nexthdr+; -j's text; htb without its details", () => {
  using ns = new Netns();
  ns.ip("link", "add", "ve0", "type", "veth", "peer", "name", "vf0");
  tcRun(ns, "qdisc", "add", "dev", "ve0", "root", "handle", "1:", "htb");
  tcRun(
    ns,
    "class",
    "add",
    "dev",
    "ve0",
    "parent",
    "1:",
    "classid",
    "1:20",
    "htb",
    "rate",
    "10mbit",
  );
  tcRun(
    ns,
    ...["filter", "add", "dev", "ve0", "parent", "1:", "protocol", "ip", "pref", "10", "u32"],
    ...["match", "ip", "dst", "10.1.0.0/16", "match", "ip", "dport", "443", "0xffff"],
    ...["classid", "1:20"],
  );
  // A key past the next header: "at nexthdr+2".
  tcRun(
    ns,
    ...["filter", "add", "dev", "ve0", "parent", "1:", "protocol", "ip", "pref", "20", "u32"],
    ...["match", "u16", "0x50", "0xffff", "at", "nexthdr+2", "classid", "1:20"],
  );
  const lines = (text: string) => text.split("\n").map((l) => l.trimEnd()).filter((l) => l);
  // tc 6.1 prints classes as text even with -j: --json has that text's names, in bytes.
  assert.deepEqual(
    cliJson(ns, "class", "show", "dev", "ve0").map((c) => [c.handle, c.rate, c.burst, c.cburst]),
    [["1:20", 1_250_000, 1600, 1600]],
  );
  for (const what of ["class", "filter"]) {
    assert.deepEqual(
      lines(cli(["--netns", ns.name, what, "show", "dev", "ve0"]).stdout),
      lines(tcRun(ns, what, "show", "dev", "ve0")),
    );
  }
  // Filters to the byte, -j's text too: u32's "match" once per key (as tc prints it: a JSON
  // parser keeps the last), the flags before it, no "terminal"; the parent asked for left out.
  for (const parent of [[], ["parent", "1:"]]) {
    for (const options of [[], ["-j"], ["-s", "-j"]]) {
      const args = ["filter", "show", "dev", "ve0", ...parent];
      const ours = cli([
        "--netns",
        ns.name,
        ...options.map((o) => o === "-j" ? "--json" : o),
        ...args,
      ]);
      assert.equal(ours.stdout, tcRun(ns, ...options, ...args), [...options, ...args].join(" "));
    }
  }
});

/**
 * Three namespaces, host - router - host, the far link's MTU 1300: a 1400-byte datagram from the
 * first gets "fragmentation needed" (IPv6: "packet too big") back, and its kernel caches the
 * path MTU as a route exception (sent until both are there: the links come up a moment after
 * they are set up). The first namespace is returned; the others go with it.
 */
function pmtuNetns(): Netns {
  const far = new Netns(["link set lo up"]);
  const router = new Netns();
  const near = new Netns();
  const dispose = near[Symbol.dispose].bind(near);
  near[Symbol.dispose] = () => {
    dispose();
    router[Symbol.dispose]();
    far[Symbol.dispose]();
  };
  try {
    const sysctl = (ns: Netns, ...settings: string[]) =>
      spawnSync("ip", ["netns", "exec", ns.name, "sysctl", "-qw", ...settings]);
    sysctl(router, "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1");
    near.ipBatch([
      `link add a0 type veth peer name r0 netns ${router.name}`,
      "addr add 10.70.0.1/24 dev a0",
      "addr add 2001:db8:70::1/64 dev a0 nodad",
      "link set a0 up",
      "route add 10.71.0.0/24 via 10.70.0.2",
      "route add 2001:db8:71::/64 via 2001:db8:70::2",
    ]);
    router.ipBatch([
      `link add r1 mtu 1300 type veth peer name b0 netns ${far.name}`,
      "addr add 10.70.0.2/24 dev r0",
      "addr add 2001:db8:70::2/64 dev r0 nodad",
      "addr add 10.71.0.2/24 dev r1",
      "addr add 2001:db8:71::2/64 dev r1 nodad",
      "link set r0 up",
      "link set r1 up",
    ]);
    far.ipBatch([
      "link set b0 mtu 1300 up",
      "addr add 10.71.0.1/24 dev b0",
      "addr add 2001:db8:71::1/64 dev b0 nodad",
      "route add default via 10.71.0.2",
      "route add default via 2001:db8:71::2",
    ]);
    const deadline = Date.now() + 10_000;
    const cached = () =>
      near.ip("route", "show", "cache").trim() !== ""
      && near.ip("-6", "route", "show", "cache").trim() !== "";
    while (!cached()) {
      assert.ok(Date.now() < deadline, "no route exception appeared");
      for (const to of ["10.71.0.1", "2001:db8:71::1"]) {
        // bash's /dev/udp: one datagram, sent with DF (the default, IP_PMTUDISC_WANT).
        spawnSync("ip", [
          ...["netns", "exec", near.name, "bash", "-c"],
          `head -c 1400 /dev/zero > /dev/udp/${to}/9`,
        ]);
      }
      spawnSync("sleep", ["0.1"]);
    }
    return near;
  } catch (error) {
    near[Symbol.dispose]();
    throw error;
  }
}

test("cli route show cache (table cache, cached, cloned) lists the route exceptions as ip does", async () => {
  using ns = pmtuNetns();
  // The expiry counts down between two reads.
  const ticking = (text: string) =>
    text.replace(/expires \d+sec/g, "expires Nsec").replace(/"expires":\d+/g, "\"expires\":N");
  for (
    const args of [
      ["route", "show", "cache"],
      ["route", "show", "table", "cache"],
      ["route", "show", "cached", "dev", "a0"],
      ["-6", "route", "show", "cloned"],
      ["-6", "route", "show", "table", "cache"],
    ]
  ) {
    for (const json of [false, true]) {
      const theirs = ns.ip(...(json ? ["-j"] : []), ...args);
      const ours = cli(["--netns", ns.name, ...(json ? ["--json"] : []), ...args]);
      assert.equal(ours.status, 0, ours.stderr);
      assert.equal(ticking(ours.stdout), ticking(theirs), args.join(" "));
      assert.match(ours.stdout, /mtu 1300|"mtu":1300/);
    }
  }
  // route show without cache lists no exception; the library's `cached: true` lists them.
  assert.doesNotMatch(cli(["--netns", ns.name, "route", "show"]).stdout, /10\.71\.0\.1 /);
  await using ip = await openRoute({ netns: ns.name });
  const cached = await ip.route.list({ cached: true });
  const expected = [["10.71.0.1", 1300], ["2001:db8:71::1", 1300]];
  assert.deepEqual(cached.map((r) => [r.dst, r.mtu]).sort(), expected);
  assert.ok(!(await ip.route.list()).some((r) => r.dst === "10.71.0.1"));
  await assert.rejects(
    ip.route.list({ cached: "yes" as unknown as boolean }),
    /cached: "yes" is not a boolean/,
  );
});

test("cli writes: route, neigh and rule add/del, read back with ip", () => {
  using ns = new Netns();
  ns.ipBatch([
    "link add br0 type bridge",
    "link set br0 up",
    "addr add 10.9.0.1/24 dev br0",
    "addr add 2001:db8::1/64 dev br0 nodad",
  ]);
  const run = (...args: string[]) => {
    const result = cli(["--netns", ns.name, ...args]);
    assert.equal(result.status, 0, `netlink ${args.join(" ")}: ${result.stderr}`);
    assert.equal(result.stdout, "");
  };
  run("route", "add", "10.99.0.0/16", "via", "10.9.0.9", "table", "200", "metric", "7");
  assert.deepEqual(ns.json("route", "show", "table", "200"), [
    { dst: "10.99.0.0/16", gateway: "10.9.0.9", dev: "br0", metric: 7, flags: [] },
  ]);
  run("route", "del", "10.99.0.0/16", "table", "200");
  assert.deepEqual(ns.json("route", "show", "table", "200"), []);
  // A table the kernel never made is its error, as ip has it (route.list() lists it empty).
  for (const family of ["-4", "-6"]) {
    const none = cli(["--netns", ns.name, family, "route", "show", "table", "4242"]);
    const byIp = spawnSync("ip", ["-n", ns.name, family, "route", "show", "table", "4242"]);
    assert.equal(none.status, byIp.status);
    assert.equal(
      none.stderr,
      `netlink: ENOENT: route list: ipv${family[1]}: FIB table does not exist\n`,
    );
  }
  // As ip: `via FAMILY ADDRESS`, an IPv4 route's IPv6 gateway (RTA_VIA) with "inet6".
  run("route", "add", "10.96.0.0/16", "via", "inet6", "2001:db8::9", "dev", "br0", "table", "202");
  run("route", "add", "10.95.0.0/16", "via", "inet", "10.9.0.8", "table", "202");
  run("-6", "route", "add", "default", "via", "inet6", "2001:db8::8", "dev", "br0", "table", "202");
  assert.deepEqual(ns.json("route", "show", "table", "202"), [
    { dst: "10.95.0.0/16", gateway: "10.9.0.8", dev: "br0", flags: [] },
    { dst: "10.96.0.0/16", via: { family: "inet6", host: "2001:db8::9" }, dev: "br0", flags: [] },
  ]);
  assert.deepEqual(ns.json("-6", "route", "show", "table", "202").map((r) => r.gateway), [
    "2001:db8::8",
  ]);
  run("route", "del", "10.96.0.0/16", "via", "inet6", "2001:db8::9", "table", "202");
  assert.deepEqual(ns.json("route", "show", "table", "202").map((r) => r.dst), ["10.95.0.0/16"]);
  // As ip: a scope by name or number (ip route add ... dev br0 scope link).
  run("route", "add", "10.94.0.0/16", "dev", "br0", "scope", "host");
  run("route", "add", "10.93.0.0/16", "dev", "br0", "scope", "200");
  assert.deepEqual(
    ns.json("route", "show").filter((r) => ["10.94.0.0/16", "10.93.0.0/16"].includes(`${r.dst}`)),
    [
      { dst: "10.93.0.0/16", dev: "br0", scope: "site", flags: [] },
      { dst: "10.94.0.0/16", dev: "br0", scope: "host", flags: [] },
    ],
  );
  const badScope = cli(["--netns", ns.name, "route", "add", "10.92.0.0/16", "scope", "bogus"]);
  assert.equal(badScope.status, 255);
  assert.equal(badScope.stderr, "netlink: argument \"bogus\" is wrong: invalid \"scope\" value\n");
  run("route", "add", "blackhole", "10.98.0.0/16");
  run("route", "add", "10.97.0.0/16", "type", "unreachable");
  assert.ok(
    ns.json("route", "show").some((r) => r.dst === "10.97.0.0/16" && r.type === "unreachable"),
  );
  // -6 picks the family where nothing else says it, as with ip -6 route add default dev br0.
  run("-6", "route", "add", "default", "dev", "br0", "table", "201");
  assert.deepEqual(ns.json("-6", "route", "show", "table", "201").map((r) => r.dst), ["default"]);
  assert.ok(!ns.json("-4", "route", "show", "table", "all").some((r) => r.table === "201"));

  run("neigh", "add", "10.9.0.77", "lladdr", "02:00:00:00:00:77", "dev", "br0");
  assert.deepEqual(ns.json("neigh", "show", "10.9.0.77"), [
    { dst: "10.9.0.77", dev: "br0", lladdr: "02:00:00:00:00:77", state: ["PERMANENT"] },
  ]);
  run("neigh", "del", "10.9.0.77", "dev", "br0");
  assert.deepEqual(ns.json("neigh", "show", "10.9.0.77"), []);

  run("rule", "add", "fwmark", "0x20/0xf0", "table", "300", "pref", "1000");
  assert.deepEqual(ns.json("rule", "show", "pref", "1000"), [
    { priority: 1000, src: "all", fwmark: "0x20", fwmask: "0xf0", table: "300" },
  ]);
  run("rule", "del", "pref", "1000");
  assert.deepEqual(ns.json("rule", "show", "pref", "1000"), []);
  run("rule", "add", "not", "from", "10.20.0.0/16", "table", "300", "pref", "1001");
  assert.deepEqual(ns.json("rule", "show", "pref", "1001"), [
    { priority: 1001, not: null, src: "10.20.0.0", srclen: 16, table: "300" },
  ]);
});

test("cli numbers are read as ip reads them (strtoul, base 0), and refused where ip refuses them, in its words", () => {
  using ns = new Netns([
    "link add br0 type bridge",
    "link set br0 up",
    "addr add 10.9.0.1/24 dev br0",
  ]);
  const routes = () =>
    ns.json("route", "show", "table", "all").filter((r) => r.dst === "10.99.0.0/16");
  const dropRoutes = (shown: Record<string, unknown>[]) => {
    for (const r of shown) {
      ns.ip("route", "del", "10.99.0.0/16", "table", String(r.table ?? "main"));
    }
  };
  const rules = () =>
    ns.json("rule", "show").filter((r) => ![0, 32766, 32767].includes(r.priority as number));
  const dropRules = (shown: Record<string, unknown>[]) => {
    for (const r of shown) ns.ip("rule", "del", "pref", String(r.priority));
  };
  /** `write` made by ip, then by the cli: both succeed with the same result, or both fail. */
  const compare = (
    write: string[],
    read: () => Record<string, unknown>[],
    drop: (shown: Record<string, unknown>[]) => void,
  ) => {
    const what = JSON.stringify(write);
    const byIp = spawnSync("ip", ["-n", ns.name, ...write], { encoding: "utf8" });
    const ipMade = read();
    drop(ipMade);
    const byCli = cli(["--netns", ns.name, ...write]);
    const cliMade = read();
    drop(cliMade);
    // The same status: 0, 1 (ip refused it), 2 (the kernel did) or 255 (ip's invarg()).
    assert.equal(byCli.status, byIp.status, `${what}: ip: ${byIp.stderr} cli: ${byCli.stderr}`);
    assert.deepEqual(cliMade, ipMade, what);
    if (byIp.status === 0) assert.equal(ipMade.length, 1, what);
    // ip's invarg(): "Error: argument "X" is wrong: WHY".
    if (/^Error: argument/.test(byIp.stderr)) {
      assert.equal(
        byCli.stderr.trimEnd(),
        `netlink: ${byIp.stderr.trim().slice("Error: ".length)}`,
      );
      assert.equal(byCli.status, 255, what);
    }
  };
  const route = ["route", "add", "10.99.0.0/16", "via", "10.9.0.9"];
  const metrics = ["0x10", "010", "+7", "-0", " 9", "08", "0x", "-1", "4294967295", "4294967296"];
  for (const metric of [...metrics, "1e3", "1.5", "", "9 "]) {
    compare([...route, "metric", metric], routes, dropRoutes);
  }
  for (const table of ["0x64", "0144", "main", "08", "4294967296", "nosuch"]) {
    compare([...route, "table", table], routes, dropRoutes);
  }
  for (const proto of ["0x10", "020", "boot", "256", "-1"]) {
    compare([...route, "proto", proto], routes, dropRoutes);
  }
  // Gateways as ip's get_addr reads them (an IPv4 one as strtoul parts, "default" the zero
  // address): the kernel refuses one it cannot reach. The cli refused "1.2.3" itself (status 1).
  const gateways = ["012.9.0.9", "10.9.0x0.9", "10.9.0.9/24", "10.9.0.256", "10.9.0.9.", "1.2.3"];
  for (const via of [...gateways, "default", "2001:db8::9"]) {
    compare(["route", "add", "10.99.0.0/16", "via", via], routes, dropRoutes);
  }
  compare(["route", "add", "10.99.0.0/16", "via", "default", "dev", "br0"], routes, dropRoutes);
  const rule = ["rule", "add", "table", "100"];
  for (const pref of ["0x3e8", "01750", "08", "4294967296"]) {
    compare([...rule, "pref", pref], rules, dropRules);
  }
  for (const fwmark of ["0x10/0xf0", "020/0x0f", "16", "0x10/", "1/2/3", "/1"]) {
    compare([...rule, "pref", "1000", "fwmark", fwmark], rules, dropRules);
  }
  for (const table of ["0x64", "0144", "main", "nosuch"]) {
    compare(["rule", "add", "pref", "1000", "table", table], rules, dropRules);
  }
  for (const target of ["0x7d0", "x"]) {
    compare(["rule", "add", "pref", "1000", "goto", target], rules, dropRules);
  }
});

/**
 * Runs the CLI until it exits by itself, calling `change` (with 0, 1, 2...) every 100 ms: the
 * monitor subscribes once it has started, so changes are made until it reports one. Returns its
 * output; fails after 30 s.
 */
/**
 * Runs the monitor `args` until it exits, calling `change` every 100 ms with a count and what the
 * monitor has printed so far.
 */
async function monitorUntilExit(
  args: string[],
  change: (n: number, printed: string) => void,
): Promise<string> {
  const [command, ...rest] = [...RUNTIME, ...args];
  const child = spawn(command, rest, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => stdout += chunk);
  child.stderr.on("data", (chunk) => stderr += chunk);
  // "close": the process has exited and its output is all read.
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  let n = 0;
  const timer = setInterval(() => change(n++, stdout), 100);
  const status = await Promise.race([
    exited,
    new Promise((r) => setTimeout(() => r("timeout"), 30_000)),
  ]);
  clearInterval(timer);
  if (status === "timeout") child.kill();
  assert.equal(status, 0, `netlink ${args.join(" ")}: ${stderr}`);
  return stdout;
}

test("cli monitor: sees the changes ip makes, then stops after count", async () => {
  // A namespace where nothing else changes (no link coming up, no addresses being set).
  using ns = new Netns();
  const stdout = await monitorUntilExit(
    ["--netns", ns.name, "--json", "monitor", "route", "count", "1"],
    (n) => ns.ip("route", "add", "blackhole", `10.123.${n}.0/24`),
  );
  const event = JSON.parse(stdout.trim());
  assert.equal(event.object, "route");
  assert.match(event.dst, /^10\.123\.\d+\.0\/24$/);
  assert.equal(event.type, "blackhole");
});

test("cli monitor | head -1: the monitor ends at its next line once its output's reader is gone, quietly, with ip's status (141, SIGPIPE)", async () => {
  // The runtimes' console.log drops a line a closed pipe refuses, unsaid: the monitor printed
  // on for ever, and `netlink monitor | head -1` never ended.
  using ns = new Netns();
  const [command, ...rest] = [...RUNTIME, "--netns", ns.name, "monitor", "route"];
  const child = spawn(command, rest, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => stderr += chunk);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let first = "";
  const firstLine = new Promise<void>((resolve) =>
    child.stdout.on("data", (chunk) => {
      first += chunk;
      if (first.includes("\n")) resolve();
    })
  );
  let n = 0;
  let status: number | null | "running" = "running";
  void exited.then((code) => status = code);
  try {
    // Changes until the first line comes; then the reader goes, and the next lines fail.
    while (!first.includes("\n") && n < 200) {
      ns.ip("route", "add", "blackhole", `10.124.${n++}.0/24`);
      await Promise.race([firstLine, new Promise((resolve) => setTimeout(resolve, 100))]);
    }
    child.stdout.destroy();
    for (let i = 0; i < 100 && status === "running"; i++) {
      ns.ip("route", "add", "blackhole", `10.124.${n++ % 250}.0/24`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    if (status === "running") child.kill();
  }
  assert.equal(status, 141, `exit status ${status}; stderr: ${stderr}`);
  assert.equal(stderr, "");
  assert.match(first, /blackhole 10\.124\./);
});

test("cli monitor: an address of a link deleted since it started is named, as ip names it from the links it read at its start", async () => {
  using ns = new Netns();
  ns.ipBatch(
    Array.from({ length: 300 }, (_, i) => [
      `link add x${i} type veth peer name y${i}`,
      `addr add 10.77.${i >> 8}.${i & 255}/16 dev x${i}`,
    ]).flat(),
  );
  // The monitor watches addresses only, and no link event comes (the links are down): a lookup
  // when an address's event is read finds its link gone, and it printed "ifN". ip names it from
  // the links it read at its start, and so does the monitor: a link deleted once it has printed
  // a first line (its start over; a link deleted before may have gone before it read the links)
  // is named. Before that, a link every 2 s: two queued before the first line would end it.
  const out = await monitorUntilExit(
    ["--netns", ns.name, "monitor", "address", "count", "2"],
    (n, printed) => {
      if (printed !== "" || n % 20 === 0) ns.ip("link", "del", `x${n}`);
    },
  );
  const last = out.split(/\n(?=Deleted)/).at(-1)!;
  assert.match(
    last,
    /^Deleted \d+: (x\d+) {4}inet 10\.77\.\d+\.\d+\/16 scope global \1\n {7}valid_lft forever preferred_lft forever\n$/,
  );
});

test("cli monitor: each event is what ip monitor prints, the lines of ip's show command", async () => {
  // No link-local address, nor an IPv6 route of the veths' carrier coming up, may come under a
  // monitor in place of the change made.
  using ns = quietNetns([
    "link add va0 type veth peer name vb0",
    "link set va0 up",
    "link set vb0 up",
    "addr add 10.9.0.1/24 dev va0",
  ], { ipv6: false });
  const lines = (text: string) => text.split("\n").map((l) => l.trimEnd()).filter(Boolean);
  const monitor = (object: string, change: (n: number) => void) =>
    monitorUntilExit(["--netns", ns.name, "monitor", object, "count", "1"], change);
  // Changes go on every 100 ms until the monitor has reported one: each makes a new object.
  const rule = await monitor("rule", (n) =>
    ns.ip(
      ...["rule", "add", "not", "from", `10.20.${n}.0/24`, "tos", "0x10", "fwmark", "0x6/0xff"],
      ...["iif", "va0", "table", "7", "pref", String(500 + n)],
    ));
  const pref = /^(\d+):/.exec(rule)?.[1] ?? assert.fail(rule);
  assert.deepEqual(lines(rule), lines(ns.ip("rule", "show", "pref", pref)));

  const route = await monitor("route", (n) =>
    ns.ip(
      ...["route", "add", `10.1.${n}.0/24`, "via", "10.9.0.2", "table", "100", "proto", "static"],
      ...["metric", "7", "src", "10.9.0.1"],
    ));
  const dst = /^(10\.1\.\d+\.0\/24) /.exec(route)?.[1] ?? assert.fail(route);
  assert.deepEqual(lines(route), lines(ns.ip("route", "show", "table", "all", dst)));

  const address = await monitor(
    "address",
    (n) =>
      ns.ip(
        "addr",
        "add",
        `10.8.${n}.1/24`,
        "dev",
        "va0",
        "valid_lft",
        "forever",
        "label",
        "va0:x",
      ),
  );
  const local = /inet (10\.8\.\d+\.1\/24) /.exec(address)?.[1] ?? assert.fail(address);
  // ip -o puts an address's two lines on one, with a backslash between.
  assert.deepEqual(
    lines(address),
    lines(ns.ip("-o", "addr", "show", "to", local).replace("\\", "\n")),
  );

  const neighbour = await monitor(
    "neigh",
    (n) => ns.ip("neigh", "add", `10.9.0.${10 + n}`, "lladdr", "02:00:00:00:00:09", "dev", "va0"),
  );
  const neighbourAddress = /^(10\.9\.0\.\d+) /.exec(neighbour)?.[1] ?? assert.fail(neighbour);
  assert.deepEqual(lines(neighbour), lines(ns.ip("neigh", "show", neighbourAddress)));

  // A veth's peer by name, as ip shows it: the monitor knows the links that were there before it.
  const link = await monitor("link", (n) => ns.ip("link", "set", "vb0", "mtu", String(1400 + n)));
  const shown = ns.ip("link", "show", "vb0").replace(/ mode DEFAULT| qlen 1000/g, "");
  const mtu = (text: string) => lines(text).map((l) => l.replace(/mtu \d+/, "mtu N"));
  assert.deepEqual(mtu(link), mtu(shown));
});

test("cli monitor link: the event a notification says it is for, as ip monitor prints it (event FEATURE CHANGE)", async () => {
  using ns = quietNetns(["link add va0 type veth peer name vb0"], { ipv6: false });
  // A change of the link's features: the kernel's notification carries IFLA_EVENT_FEATURES.
  const link = await monitorUntilExit(
    ["--netns", ns.name, "monitor", "link", "count", "1"],
    (n) =>
      execFileSync("ip", [
        ...["netns", "exec", ns.name, "ethtool", "-K", "va0", "tso", n % 2 ? "on" : "off"],
      ]),
  );
  const shown = ns.ip("link", "show", "va0").split("\n")[0].replace(
    / mode DEFAULT| qlen 1000/g,
    "",
  );
  assert.equal(link.split("\n")[0], `${shown} event FEATURE CHANGE `);
});

test("cli link/addr show and monitor: a veth peer's namespace by its ip netns name (link-netns), its id when it has none", async () => {
  using peers = new Netns();
  using ns = quietNetns([`link add va0 type veth peer name vb0 netns ${peers.name}`], {
    ipv6: false,
  });
  // A namespace with no name: a process's, where the second veth's peer goes (once it is in it).
  const holder = spawn("unshare", ["-n", "sh", "-c", "echo in; exec sleep 600"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  try {
    await new Promise((resolve) => holder.stdout.once("data", resolve));
    ns.ipBatch(["link add vc0 type veth peer name vd0", `link set vd0 netns ${holder.pid}`]);
    for (const args of [["link", "show"], ["addr", "show"]]) {
      assert.equal(cli(["--netns", ns.name, ...args]).stdout, ns.ip(...args), args.join(" "));
      assert.deepEqual(cliJson(ns, ...args), ns.json(...args), `--json ${args.join(" ")}`);
    }
    assert.match(ns.ip("link", "show", "va0"), new RegExp(` link-netns ${peers.name}\n$`));
    assert.match(ns.ip("link", "show", "vc0"), / link-netnsid \d+\n$/);
    const link = await monitorUntilExit(
      ["--netns", ns.name, "monitor", "link", "count", "1"],
      (n) => ns.ip("link", "set", "va0", "mtu", String(1400 + n)),
    );
    // ip monitor prints neither the mode nor the queue length (nor the space before it).
    const shown = ns.ip("link", "show", "va0").replace(" mode DEFAULT", "")
      .replace(" qlen 1000", " ");
    const mtu = (text: string) => text.replace(/mtu \d+/, "mtu N");
    assert.equal(mtu(link), mtu(shown));
  } finally {
    holder.kill();
  }
});

test("cli link-netns: RTM_GETNSID's attributes are generated from <linux/net_namespace.h> (NETNSA_*), not numbers typed by hand", async () => {
  // The header's enum, counted as C counts it (NETNSA_NONE is 0).
  const header = readFileSync("/usr/include/linux/net_namespace.h", "utf8");
  const names = [...header.matchAll(/^\s*(NETNSA_\w+),/gm)].map((m) => m[1]);
  const generated: Record<string, unknown> = await import("../../src/constants.ts");
  assert.deepEqual(names.map((name) => generated[name]), names.map((_, i) => i));
  assert.equal(generated.NETNSA_NSID_NOT_ASSIGNED, -1);
  const source = readFileSync(new URL("../../src/cli/_ip.ts", import.meta.url), "utf8");
  assert.doesNotMatch(source, /const NETNSA_/);
});

test("cli monitor --raw and --tree: every message received, decoded by format()", async () => {
  using ns = new Netns();
  const file = `${tmp}/monitor.pcap`;
  const line = await monitorUntilExit(
    ["--netns", ns.name, "--capture", file, "monitor", "--raw", "link", "count", "1"],
    (n) => ns.ip("link", "add", `vr${n}`, "type", "veth", "peer", "name", `vs${n}`),
  );
  assert.equal(line.trimEnd().split("\n").length, 1, line);
  const [, name] = line.match(
    /^RTM_NEWLINK flags=0 seq=0 port=0 ifinfomsg=\{ifiFamily=0 ifiType=1 ifiIndex=\d+ [^}]*\} ifname="(v[rs]\d+)" .*mtu=1500 /,
  ) ?? assert.fail(`not a formatted RTM_NEWLINK: ${line}`);
  // The capture holds the same notification first, as tshark reads it (then any other the
  // socket received before the monitor stopped: veth's peer).
  const names = tsharkFields(file, ["netlink-route.nltype", "netlink-route.ifla_ifname"]);
  assert.deepEqual(names[0], [String(RTM_NEWLINK), name]);
  assert.ok(names.every(([type]) => type === String(RTM_NEWLINK)), JSON.stringify(names));

  ns.ip("link", "add", "va0", "type", "veth", "peer", "name", "vb0");
  const tree = await monitorUntilExit(
    ["--netns", ns.name, "monitor", "--tree", "link", "count", "1"],
    (n) => ns.ip("link", "set", "va0", "mtu", String(1400 + n)),
  );
  const lines = tree.trimEnd().split("\n");
  assert.match(lines[0], /^RTM_NEWLINK flags=0 seq=0 port=0$/);
  assert.equal(lines[1], "  ifinfomsg:");
  assert.match(lines[2], /^ {4}ifiFamily: 0$/);
  assert.ok(lines.includes(`  ifname: "va0"`), tree);
  assert.ok(lines.some((l) => /^ {2}mtu: 14\d\d$/.test(l)), tree);
  assert.ok(lines.includes(`  linkinfo:`) && lines.includes(`    kind: "veth"`), tree);
});

test("cli monitor --raw: a datagram that is not netlink messages is shown, and the monitor goes on", async () => {
  using ns = new Netns();
  await using peer = await open(NETLINK_ROUTE, { netns: ns.name });
  // Root may multicast anything to the kernel's groups: an nlmsg_len past the datagram's end.
  const out = await monitorUntilExit(
    ["--netns", ns.name, "monitor", "--raw", "link", "count", "1"],
    (n, printed) => {
      peer.send(new Uint8Array(17).fill(1), { group: RTNLGRP_LINK });
      // Only once the monitor has shown the garbage: it may join at any time.
      if (printed !== "") ns.ip("link", "add", `vr${n}`, "type", "veth", "peer", "name", `vs${n}`);
    },
  );
  const lines = out.trimEnd().split("\n");
  assert.match(lines[0], /^not netlink messages: nlmsg_len 16843009 runs past the end/);
  assert.match(lines.at(-1)!, /^RTM_NEWLINK flags=0 seq=0 port=0 /);
});

test("cli monitor --raw has the route client's receive buffer (1 MiB, as ip monitor's), not the default", async () => {
  using ns = new Netns();
  // The monitor's socket (the only one in the namespace in group 1) as ss shows it: its rb
  // (the kernel doubles what SO_RCVBUFFORCE asks) once it has joined; then a change ends it.
  let rb: number | undefined;
  await monitorUntilExit(["--netns", ns.name, "monitor", "--raw", "link", "count", "1"], (n) => {
    if (rb === undefined) {
      const ss = execFileSync("ip", [
        "netns",
        "exec",
        ns.name,
        "ss",
        "-f",
        "netlink",
        "-m",
        "-e",
        "-n",
      ], {
        encoding: "utf8",
      });
      const found = ss.match(/^0 .* 0:[1-9]\d* .*groups=0x00000001\s+skmem:\(r\d+,rb(\d+),/m);
      if (found === null) return;
      rb = Number(found[1]);
    }
    ns.ip("link", "add", `vr${n}`, "type", "veth", "peer", "name", `vs${n}`);
  });
  assert.equal(rb, 2 * (1 << 20));
});

test("cli monitor --raw: another process's NLMSG_OVERRUN is its message, shown decoded, not an overrun", async () => {
  using ns = new Netns();
  await using peer = await open(NETLINK_ROUTE, { netns: ns.name });
  const out = await monitorUntilExit(
    ["--netns", ns.name, "monitor", "--raw", "link", "count", "1"],
    () => peer.send({ type: NLMSG_OVERRUN, payload: new Uint8Array(4) }, { group: RTNLGRP_LINK }),
  );
  assert.match(out, /^NLMSG_OVERRUN flags=0 seq=\d+ port=\d+ payload=00000000\n$/);
});

test("cli monitor genl: a generic netlink family's notifications, decoded", async () => {
  using ns = new Netns();
  // netdev's "mgmt" group announces every new device of the namespace, and changes to one (a
  // veth's XDP features change once its peer is there: the monitor may join between the two).
  const line = await monitorUntilExit(
    ["--netns", ns.name, "monitor", "genl", "netdev", "mgmt", "count", "1"],
    (n) => ns.ip("link", "add", `vr${n}`, "type", "veth", "peer", "name", `vs${n}`),
  );
  const [, ifindex] =
    line.match(/^netdev dev-(?:add|change)-ntf flags=0 seq=0 port=0 v\d+ ifindex=(\d+) /)
      ?? assert.fail(`not a formatted netdev dev-add-ntf: ${line}`);
  const links = ns.json<{ ifindex: number; ifname: string }[]>("link", "show");
  assert.match(links.find((l) => l.ifindex === Number(ifindex))?.ifname ?? "", /^v[rs]\d+$/);
  // No group named: every group of the family, mgmt among them (a veth's first notification
  // may be the change to its XDP features, before or after its own add).
  const any = await monitorUntilExit(
    ["--netns", ns.name, "monitor", "genl", "netdev", "count", "1"],
    (n) => ns.ip("link", "add", `vt${n}`, "type", "veth", "peer", "name", `vu${n}`),
  );
  assert.match(any, /^netdev dev-(add|change)-ntf flags=0 seq=0 port=0 /);
});

test("cli --capture: a command's session as pcap, read back by tshark", () => {
  using ns = variedNetns();
  const file = `${tmp}/links.pcap`;
  const result = cli(["--netns", ns.name, "--capture", file, "link", "show"]);
  assert.equal(result.status, 0, result.stderr);
  const rows = tsharkFields(file, [
    "netlink.family",
    "netlink-route.nltype",
    "netlink.hdr_flags.request",
    "netlink-route.ifla_ifname",
  ]);
  assert.equal(rows[0][0], "0x0000", "family: route");
  assert.equal(Number(rows[0][1]), RTM_GETLINK);
  assert.equal(rows[0][2].split(",")[0], "1", "the request first");
  const names = rows.slice(1).flatMap((r) => r[3] ? r[3].split(",") : []).sort();
  assert.deepEqual(
    names,
    ns.json<{ ifname: string }[]>("link", "show").map((l) => l.ifname).sort(),
  );

  const genl = `${tmp}/genl.pcap`;
  assert.equal(cli(["--capture", genl, "genl", "show", "nlctrl"]).status, 0);
  const ctrl = tsharkFields(genl, ["netlink.family", "genl.ctrl.family_name"]);
  assert.ok(ctrl.length >= 2 && ctrl.every((r) => r[0] === "0x0010"), "family: generic");
  assert.equal(ctrl[0][1], "nlctrl");
});

test("cli --capture file: two sockets' sessions in one pcap, one file header", async () => {
  const file = `${tmp}/two.pcap`;
  const capture = new CaptureFile(file);
  {
    await using route = await open(NETLINK_ROUTE, { capture: capture.target() });
    await using generic = await open(NETLINK_GENERIC, { capture: capture.target() });
    await route.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
    await resolveFamily(generic, "nlctrl");
  }
  capture.close();
  const rows = tsharkFields(file, ["netlink.family", "netlink-route.nltype"]);
  assert.deepEqual(rows[0], ["0x0000", String(RTM_GETLINK)]);
  const generic = rows.filter((r) => r[0] === "0x0010");
  assert.equal(generic.length, 3, "nlctrl request, reply, ack");
  assert.equal(rows.filter((r) => r[0] === "0x0000").length + 3, rows.length);
});

test("cli -s: link and qdisc counters as ip -s -j and tc -s -j show them", () => {
  // Links left down and an idle loopback: no counter moves between two reads.
  using ns = new Netns();
  ns.ip("link", "add", "va0", "type", "veth", "peer", "name", "vb0");
  ns.ip("link", "set", "vb0", "mtu", "1400");
  ns.ip("link", "property", "add", "dev", "va0", "altname", "upl0"); // after stats64, as ip
  tcRun(ns, "qdisc", "add", "dev", "va0", "root", "handle", "1:", "htb");
  tcRun(ns, "qdisc", "add", "dev", "vb0", "root", "pfifo", "limit", "10");
  tcRun(ns, "qdisc", "add", "dev", "vb0", "ingress");
  for (const args of [["-s", "link", "show"], ["-s", "link", "show", "va0"]]) {
    // Keys in ip's order too.
    assert.equal(JSON.stringify(cliJson(ns, ...args)), JSON.stringify(ns.json(...args)));
  }
  assert.deepEqual(cliJson(ns, "-s", "qdisc", "show"), tcJson(ns, "-s", "qdisc", "show"));
  // The links' text is ip's, spacing included (columns as wide as their widest), with
  // loopback's counters moved once (it then stays idle).
  ns.ip("link", "set", "lo", "up");
  const send = "for i in 1 2 3; do echo hello > /dev/udp/127.0.0.1/9; done";
  spawnSync("ip", ["netns", "exec", ns.name, "bash", "-c", send]);
  const [lo] = ns.json<{ stats64: { rx: { packets: number } } }[]>("-s", "link", "show", "lo");
  assert.ok(lo.stats64.rx.packets > 0);
  const lines = (text: string) => text.split("\n").map((l) => l.trimEnd()).filter(Boolean);
  assert.deepEqual(
    lines(cli(["--netns", ns.name, "-s", "link", "show"]).stdout),
    lines(ns.ip("-s", "link", "show")),
  );
  // The text is tc's, but for spacing.
  const words = (text: string) => text.trim().split("\n").map((l) => l.trim().split(/\s+/));
  for (const dev of ["va0", "vb0"]) {
    assert.deepEqual(
      words(cli(["--netns", ns.name, "-s", "qdisc", "show", "dev", dev]).stdout),
      words(tcRun(ns, "-s", "qdisc", "show", "dev", dev)),
    );
  }
});

test("cli on Deno with --allow-ffi only: every command group works, --netns included", () => {
  using ns = variedNetns();
  tcRun(
    ns,
    "qdisc",
    "add",
    "dev",
    "vb0",
    "root",
    "tbf",
    "rate",
    "1mbit",
    "burst",
    "10kb",
    "latency",
    "50ms",
  );
  const deno = fileURLToPath(new URL("../../node_modules/.bin/deno", import.meta.url));
  for (
    const args of [
      ["link"],
      ["addr"],
      ["route", "get", "10.9.0.7"],
      ["neigh"],
      ["rule"],
      ["qdisc", "show", "dev", "vb0"],
      ["genl", "show", "ethtool"],
      ["ethtool", "va0"],
      ["--capture", `${tmp}/ffi-only.pcap`, "link"],
    ]
  ) {
    const { status, stdout, stderr } = spawnSync(
      deno,
      ["run", "--allow-ffi", "--no-prompt", CLI, "--netns", ns.name, "--json", ...args],
      { encoding: "utf8" },
    );
    assert.equal(status, 0, `netlink ${args.join(" ")}: ${stderr}`);
    assert.ok(JSON.parse(stdout), args.join(" "));
  }
});

test("cli route, rule and neigh changes read prefixes and addresses as ip does (10/8, a netmask, 10.9.1), and refuse in ip's words what ip refuses", () => {
  // "10/8" was refused ('is not a prefix such as "10.0.0.0/24"'), and a /33 in the library's words.
  using ns = new Netns(["link add br0 type bridge", "link set br0 up"]);
  for (
    const [written, listed] of [["10/8", "10.0.0.0/8"], ["10.20.0.0/255.255.0.0", "10.20.0.0/16"]]
  ) {
    const added = cli(["--netns", ns.name, "route", "add", written, "dev", "br0"]);
    assert.equal(added.status, 0, added.stderr);
    assert.deepEqual(
      JSON.parse(ns.ip("-j", "route", "show", listed, "dev", "br0")).map((r: { dst: string }) =>
        r.dst
      ),
      [listed.replace("/32", "")],
    );
    const deleted = cli(["--netns", ns.name, "route", "del", written, "dev", "br0"]);
    assert.equal(deleted.status, 0, deleted.stderr);
  }
  // rule's from and to, neigh's address: the same readings.
  const ok = (...args: string[]) => {
    const r = cli(["--netns", ns.name, ...args]);
    assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
  };
  ok("rule", "add", "from", "10/8", "to", "192.168/16", "table", "5", "pref", "50");
  assert.match(
    ns.ip("rule", "show", "pref", "50"),
    /from 10\.0\.0\.0\/8 to 192\.168\.0\.0\/16 lookup 5/,
  );
  ok("rule", "del", "from", "10/8", "to", "192.168/16", "table", "5", "pref", "50");
  ok("neigh", "add", "10.9.1", "lladdr", "02:00:00:00:00:01", "dev", "br0");
  assert.match(ns.ip("neigh", "show", "dev", "br0"), /^10\.9\.1\.0 lladdr 02:00:00:00:00:01/);
  ok("neigh", "del", "10.9.1", "dev", "br0");
  const refusals = [
    ["route", "add", "10.0.0.0/33", "dev", "br0"],
    ["route", "add", "::/129", "dev", "br0"],
    ["route", "del", "10.0.0.256/8", "dev", "br0"],
    ["rule", "add", "from", "10.0.0.0/33", "table", "5"],
    ["rule", "add", "to", "1.2.3.4.5", "table", "5"],
    ["neigh", "add", "10.9.1.300", "lladdr", "02:00:00:00:00:01", "dev", "br0"],
    ["neigh", "add", "10/8", "lladdr", "02:00:00:00:00:01", "dev", "br0"],
  ];
  for (const words of refusals) {
    const byIp = spawnSync("ip", ["-n", ns.name, ...words], { encoding: "utf8" });
    const ours = cli(["--netns", ns.name, ...words]);
    assert.equal(ours.status, byIp.status, words.join(" "));
    assert.equal(ours.stderr.replace(/^netlink: /, ""), byIp.stderr.replace(/^Error: /, ""));
  }
  // "all" and "any" are no address: as a prefix, the whole space, as ip reads them (`route add
  // all` is the default route; a rule "to any" matches every destination). The CLI refused them
  // ('dst: "all" is not a prefix').
  ok("route", "add", "all", "dev", "br0", "metric", "7");
  assert.deepEqual(ns.json("route", "show", "default").map((r) => [r.dst, r.metric]), [
    ["default", 7],
  ]);
  ok("route", "del", "all", "dev", "br0", "metric", "7");
  ok("-6", "route", "add", "all", "dev", "br0", "metric", "7"); // ("any" first: an anycast route, as ip)
  assert.deepEqual(ns.json("-6", "route", "show", "default").map((r) => r.metric), [7]);
  ok("rule", "add", "from", "any", "to", "all", "table", "5", "pref", "51");
  assert.match(ns.ip("rule", "show", "pref", "51"), /^51:\tfrom all lookup 5 *$/m);
  // As an address (a gateway, a source, a neighbour): refused before any request, one way
  // everywhere, in ip's words for an address it cannot read. ip sends an empty attribute the
  // kernel refuses (status 2) or refuses a neighbour itself (255); the CLI sent "all" as a
  // source and a neighbour to the library, which refused them in its own words.
  for (
    const [words, family] of [
      [["route", "add", "10.5.0.0/16", "via", "all"], "inet"],
      [["route", "add", "10.5.0.0/16", "via", "any", "dev", "br0"], "inet"],
      [["route", "del", "10.5.0.0/16", "via", "any"], "inet"],
      [["-6", "route", "add", "2001:db8:5::/48", "via", "any"], "inet6"],
      [["route", "add", "10.6.0.0/16", "dev", "br0", "src", "all"], "inet"],
      [["neigh", "add", "any", "lladdr", "02:00:00:00:00:01", "dev", "br0"], "any valid"],
    ] as const
  ) {
    const ours = cli(["--netns", ns.name, ...words]);
    assert.equal(ours.status, 1, words.join(" "));
    assert.match(ours.stderr, new RegExp(`^netlink: ${family} address is expected rather than "a`));
    assert.notEqual(spawnSync("ip", ["-n", ns.name, ...words]).status, 0, words.join(" "));
  }
  // And "src" is read as ip reads an address (10.9.3 is 10.9.3.0): it went to the library as
  // written, which refused it.
  ns.ip("addr", "add", "10.9.3.0/24", "dev", "br0");
  ok("route", "add", "10.7.0.0/16", "dev", "br0", "src", "10.9.3");
  assert.deepEqual(ns.json("route", "show", "10.7.0.0/16").map((r) => r.prefsrc), ["10.9.3.0"]);
});

test("cli exit statuses are ip's and tc's: 255 bad command line, 2 refused by the kernel, 1 not found", () => {
  using ns = variedNetns();
  // [the tool's command line, the same asked of ip or tc]
  const pairs: [string[], string[]][] = [
    [["route", "add", "10.1.0.0/16", "via"], ["ip", "route", "add", "10.1.0.0/16", "via"]],
    [
      ["route", "add", "10.51.0.0/16", "via", "10.9.0.2", "metric", "abc"],
      ["ip", "route", "add", "10.51.0.0/16", "via", "10.9.0.2", "metric", "abc"],
    ],
    [["route", "get", "10.9.0.2", "mark", "x"], ["ip", "route", "get", "10.9.0.2", "mark", "x"]],
    [
      ["route", "get", "10.9.0.2", "via", "10.9.0.1"],
      ["ip", "route", "get", "10.9.0.2", "via", "10.9.0.1"],
    ],
    // What a lookup takes no such thing as is no prefix to ip, with a value or without one.
    [["route", "get", "10.9.0.2", "table"], ["ip", "route", "get", "10.9.0.2", "table"]],
    [["route", "get", "10.9.0.2", "mark"], ["ip", "route", "get", "10.9.0.2", "mark"]],
    [["route", "get", "to"], ["ip", "route", "get", "to"]],
    [["route", "get", "to", "mark", "5"], ["ip", "route", "get", "to", "mark", "5"]],
    // A change takes no mark: it was ignored.
    [
      ["route", "add", "10.52.0.0/16", "dev", "br0", "mark", "5"],
      ["ip", "route", "add", "10.52.0.0/16", "dev", "br0", "mark", "5"],
    ],
    [
      ["neigh", "add", "10.9.0.7", "dev", "br0", "nud", "bogus"],
      ["ip", "neigh", "add", "10.9.0.7", "dev", "br0", "nud", "bogus"],
    ],
    [
      ["route", "add", "10.50.0.0/16", "via", "10.9.0.2", "metric", "20"],
      ["ip", "route", "add", "10.50.0.0/16", "via", "10.9.0.2", "metric", "20"],
    ],
    [["route", "get", "203.0.113.1"], ["ip", "route", "get", "203.0.113.1"]],
    [["bogus"], ["ip", "bogus"]], // an unknown object: 1
    // route get's words as ip reads them: bad values (255), what ip reads as no prefix (1),
    // what the kernel refuses (2): a partial source length, a source of no length, RTA_NEWDST.
    ...[
      ["10.9.0.7", "tos", "lowdelay"],
      ["10.9.0.7", "uid", "4294967296"],
      ["10.9.0.7", "sport", "65536"],
      ["10.9.0.7", "ipproto", "bogus"],
      ["10.9.0.7", "vrf", "br0"], // no VRF
      ["default/8"],
      ["10.9.0.256"],
      ["10.9.0.7.1"],
      ["10.9.0.7", "from", "10.9.0.1/24"],
      ["10.9.0.7", "from", "default"],
      ["10.9.0.7", "as", "10.1.1.1"],
      ["10.9.0.7", "as", "10.1.1.1/8"],
      ["10.9.0.7", "oif", "nosuch0"],
    ].map((words): [string[], string[]] => [
      ["route", "get", ...words],
      ["ip", "route", "get", ...words],
    ]),
    [["-6", "route", "get", "10.9.0.7"], ["ip", "-6", "route", "get", "10.9.0.7"]],
    [["route", "del", "10.99.0.0/16"], ["ip", "route", "del", "10.99.0.0/16"]],
    [["link", "show", "nosuch0"], ["ip", "link", "show", "nosuch0"]],
    [["addr", "show", "nosuch0"], ["ip", "addr", "show", "nosuch0"]],
    [["neigh", "show", "dev", "nosuch0"], ["ip", "neigh", "show", "dev", "nosuch0"]],
    [["qdisc", "show", "dev", "nosuch0"], ["tc", "qdisc", "show", "dev", "nosuch0"]],
    [["filter", "show", "dev", "nosuch0"], ["tc", "filter", "show", "dev", "nosuch0"]],
  ];
  for (const [ours, theirs] of pairs) {
    const [tool, ...rest] = theirs;
    const byTool = spawnSync(tool, ["-n", ns.name, ...rest], { encoding: "utf8" });
    const byCli = cli(["--netns", ns.name, ...ours]);
    assert.notEqual(byTool.status, 0, theirs.join(" "));
    assert.equal(
      byCli.status,
      byTool.status,
      `${ours.join(" ")}: ${byCli.stderr} ${tool}: ${byTool.stderr}`,
    );
  }
  // A namespace that is not there, or a file that is no namespace: 255 from both (ip's
  // netns_switch() exits -1), before the command is looked at, in ip's words.
  const notNamespace = `/run/netns/nltest-not-a-namespace-${process.pid}`;
  writeFileSync(notNamespace, "");
  try {
    for (const name of ["nltest-no-such-namespace", notNamespace.slice("/run/netns/".length)]) {
      for (const command of [["link", "show"], ["bogus"]]) {
        const byIp = spawnSync("ip", ["-n", name, ...command], { encoding: "utf8" });
        const byCli = cli(["--netns", name, ...command]);
        assert.equal(byIp.status, 255, byIp.stderr);
        assert.equal(byCli.status, 255, `${name} ${command.join(" ")}: ${byCli.stderr}`);
      }
    }
    const missing = spawnSync("ip", ["-n", "nltest-no-such-namespace", "link"], {
      encoding: "utf8",
    });
    assert.equal(
      cli(["--netns", "nltest-no-such-namespace", "link"]).stderr,
      `netlink: ${missing.stderr}`,
    );
    // ip netns exec as well.
    assert.equal(
      spawnSync("ip", ["netns", "exec", "nltest-no-such-namespace", "true"]).status,
      255,
    );
  } finally {
    rmSync(notNamespace, { force: true });
  }
  // Without CAP_NET_ADMIN the kernel refuses: 2 from both.
  const unprivileged = ["setpriv", "--inh-caps=-net_admin", "--bounding-set=-net_admin", "--"];
  const write = ["route", "add", "10.44.0.0/16", "dev", "br0"];
  const byIp = spawnSync(unprivileged[0], [
    ...unprivileged.slice(1),
    "ip",
    "-n",
    ns.name,
    ...write,
  ]);
  assert.equal(cli(["--netns", ns.name, ...write], unprivileged).status, byIp.status);
  assert.equal(byIp.status, 2);
});

test("cli command abbreviations: a word names the first of ip's objects and subcommands it begins, as ip reads it", () => {
  using ns = quietNetns([
    "link add va0 type veth peer name vb0",
    "link set va0 up",
    "addr add 10.9.0.1/24 dev va0",
    "route add 10.50.0.0/16 via 10.9.0.2",
    "neigh add 10.9.0.5 lladdr 02:00:00:00:00:05 dev va0",
    "rule add from 10.9.0.0/24 table 100",
  ], { ipv6: false });
  const views = [
    ...["l", "li li", "link sh", "link l", "link ls va0", "a", "a s", "addr sh dev va0", "ad l"],
    ...["r", "ro", "route s", "route sh", "r l", "r g 10.50.1.1", "n", "ne l", "neighbour s"],
    ...["neigh", "ru", "ru s", "rule ls", "-4 r s"],
  ];
  for (const view of views) {
    const args = view.split(" ");
    const ours = cli(["--netns", ns.name, ...args]);
    assert.equal(ours.status, 0, `${view}: ${ours.stderr}`);
    assert.equal(ours.stdout, ns.ip(...args), view);
  }
  // tc's own order: "l" is qdisc's link, class's list.
  assert.equal(cli(["--netns", ns.name, "qdisc", "ls"]).stdout, tcRun(ns, "qdisc", "ls"));
  assert.equal(cli(["--netns", ns.name, "class", "l", "dev", "va0"]).status, 0);
  // The first match wins, whether or not the tool has it: `ip link s` is set, `ip m` maddress.
  const refused: [string[], number, RegExp][] = [
    [["link", "s", "va0"], 0, /^$/], // set, with nothing to change: as ip
    [["link", "ch", "va0"], 255, /^netlink: unknown subcommand "change"/],
    [["route", "ch", "10.50.0.0/16"], 255, /^netlink: unknown subcommand "change"/],
    [["qdisc", "l"], 255, /^netlink: unknown subcommand "link"/],
    [["link", "x"], 255, /^netlink: unknown subcommand "xstats"/],
    [["link", "va0"], 255, /^netlink: Command "va0" is unknown/],
    [["m"], 1, /^netlink: unknown command "m": ip's "maddress"/],
    [["lin"], 0, /^$/],
    [["linkx"], 1, /^netlink: unknown command "linkx" \(try --help\)$/m],
    [["q"], 1, /^netlink: unknown command "q" \(try --help\)$/m], // tc's objects: named in full
    [["constructor"], 1, /^netlink: unknown command "constructor"/],
  ];
  for (const [args, status, message] of refused) {
    const result = cli(["--netns", ns.name, ...args]);
    assert.equal(result.status, status, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message, args.join(" "));
  }
});

test("cli global options: ip's, read as ip reads them (-j -p, -f inet6, --s, -c=never), or refused as not supported", () => {
  using ns = quietNetns([
    "link add va0 type veth peer name vb0",
    "link set va0 up",
    "addr add 10.9.0.1/24 dev va0",
    "addr add 2001:db8::1/64 dev va0 nodad",
  ]);
  const ours = (...args: string[]) => {
    const result = cli(["--netns", ns.name, ...args]);
    assert.equal(result.status, 0, `${args.join(" ")}: ${result.stderr}`);
    return result.stdout.trimEnd();
  };
  // ip -j -p: json_writer's layout, byte for byte (the last newline aside).
  assert.equal(ours("-j", "-p", "link", "show"), ns.ip("-j", "-p", "link", "show").trimEnd());
  assert.equal(
    ours("-json", "--pretty", "addr", "show", "va0"),
    ns.ip("-j", "-p", "a", "s", "va0").trimEnd(),
  );
  assert.equal(ours("-f", "inet6", "route"), ns.ip("-f", "inet6", "route").trimEnd());
  assert.equal(ours("-family", "inet6", "addr"), ns.ip("-6", "addr").trimEnd());
  assert.equal(ours("--s", "link", "show", "va0"), ns.ip("-s", "link", "show", "va0").trimEnd());
  // -color: plain, as ip prints -color=auto when the output is not a terminal.
  for (const color of ["-c", "-color", "--color=auto", "-c=never", "-col=always"]) {
    assert.equal(ours(color, "addr"), ns.ip("-color=auto", "addr").trimEnd(), color);
  }
  const refused: [string[], RegExp][] = [
    [["-br", "link"], /^netlink: "-br" \(ip's -brief\) is not supported/],
    [["-o", "link"], /^netlink: "-o" \(ip's -oneline\) is not supported/],
    [["-b", "link"], /^netlink: "-b" \(ip's -batch\) is not supported/],
    [["-s", "-s", "qdisc"], /^netlink: -s -s \(the error counters\) is not supported by "qdisc"/],
    [["-iec", "qdisc"], /^netlink: -iec is not supported by "qdisc"/],
    [["-f", "link", "link"], /^netlink: -family "link" is not supported \(inet, inet6\)/],
    [["-f"], /^netlink: Command line is not complete/],
    // ip -d prints route and rule lines otherwise ("unicast ...", "proto kernel").
    [["-d", "route"], /^netlink: -d \(ip's -details\) is not supported by "route" \(link, addr\)/],
    [["-d", "qdisc"], /^netlink: -d \(ip's -details\) is not supported by "qdisc"/],
    [["-color=sometimes", "link"], /^netlink: unknown option "-color=sometimes"/], // ip's too
  ];
  for (const [args, message] of refused) {
    const result = cli(["--netns", ns.name, ...args]);
    assert.equal(result.status, 255, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message, args.join(" "));
  }
  // ip refuses what it refuses with the same status.
  for (const args of [["-color=sometimes", "link"], ["-f"]]) {
    assert.equal(spawnSync("ip", ["-n", ns.name, ...args]).status, 255, args.join(" "));
  }
  // After the command, monitor's own options are not ip's (--raw is no -resolve).
  const monitor = cli(["--netns", ns.name, "monitor", "--raw", "link", "count", "0"]);
  assert.match(monitor.stderr, /^netlink: monitor: count "0" is not a positive number$/m);
});

test("cli -s -s, -h, -iec: a link's counters as ip -s prints them, under link and addr", () => {
  using ns = quietNetns([
    "link add va0 type veth peer name vb0",
    "link set va0 up",
    "link set vb0 up",
    "addr add 10.9.0.1/24 dev va0",
  ], { ipv6: false });
  // Past 1000 bytes each way, for -h's units: to a neighbour that is not there, out of va0.
  ns.ip("neigh", "add", "10.9.0.9", "lladdr", "02:00:00:00:00:09", "dev", "va0");
  const datagram = "head -c 1400 /dev/zero > /dev/udp/10.9.0.9/9";
  execFileSync("ip", ["netns", "exec", ns.name, "bash", "-c", Array(4).fill(datagram).join(";")]);
  for (
    const view of [
      "-s link show",
      "-s -s link show",
      "-s -h link show",
      "-h -s -s link show",
      "-human -s -iec link show va0",
      "-s addr show",
      "-s -s -h addr show va0",
    ]
  ) {
    const args = view.split(" ");
    const text = cli(["--netns", ns.name, ...args]);
    assert.equal(text.status, 0, `${view}: ${text.stderr}`);
    assert.equal(text.stdout, ns.ip(...args), view);
    assert.deepEqual(cliJson(ns, ...args), ns.json(...args), `-j ${view}`);
  }
  assert.match(cli(["--netns", ns.name, "-h", "-s", "link", "show", "va0"]).stdout, /\d\.\d\dk /);
});

test("cli -h's units as ip's print_num: three digits, k M G T P E (-iec: of 1024, ki...)", () => {
  const human = { level: 1, human: true };
  const iec = { level: 1, human: true, iec: true };
  const cases: [bigint, typeof human, string][] = [
    [999n, human, "999"],
    [1000n, human, "1.00k"],
    [4362n, human, "4.36k"],
    [12_345n, human, "12.3k"],
    [123_456n, human, "123k"],
    [999_999n, human, "1000k"],
    [1_234_567n, human, "1.23M"],
    [98_765_432_100n, human, "98.8G"],
    [2n ** 64n - 1n, human, "18.4E"],
    [1023n, iec, "1023"],
    [1024n, iec, "1.00ki"],
    [4362n, iec, "4.26ki"],
    [5n * 1024n ** 3n, iec, "5.00Gi"],
  ];
  for (const [count, options, text] of cases) {
    assert.equal(countText(count, 10, options), `${text.padStart(10)} `, String(count));
  }
  // Without -h, the number itself.
  assert.equal(countText(123_456n, 7, { level: 1 }), " 123456 ");
});

test("cli neigh show: the protocol that added an entry, and with -s its cache times and probes, as ip", () => {
  using ns = quietNetns([
    "link add va0 type veth peer name vb0",
    "link set va0 up",
    "neigh add 10.9.0.5 lladdr 02:00:00:00:00:05 dev va0",
    "neigh add 10.9.0.6 lladdr 02:00:00:00:00:06 dev va0 nud stale protocol static",
    "neigh add 10.9.0.7 lladdr 02:00:00:00:00:07 dev va0 nud reachable router protocol 42",
  ], { ipv6: false });
  // The times are whole seconds since an event: one may tick between ip's read and ours.
  const ticks = (text: string) => text.replace(/used \d+\/\d+\/\d+/g, "used T/T/T");
  const jsonTicks = (value: Record<string, unknown>[]) =>
    value.map((n) => ({ ...n, used: 0, confirmed: 0, updated: 0 }));
  for (const view of ["neigh show", "-s neigh show", "-s neigh show dev va0"]) {
    const args = view.split(" ");
    const text = cli(["--netns", ns.name, ...args]);
    assert.equal(text.status, 0, `${view}: ${text.stderr}`);
    assert.equal(ticks(text.stdout), ticks(ns.ip(...args)), view);
    const [ours, theirs] = [cliJson(ns, ...args), ns.json(...args)];
    assert.deepEqual(
      view.startsWith("-s") ? jsonTicks(ours) : ours,
      view.startsWith("-s") ? jsonTicks(theirs) : theirs,
      `-j ${view}`,
    );
  }
  assert.match(ns.ip("-s", "neigh", "show"), /used \d+\/\d+\/\d+probes \d+ STALE proto static/);
});

test("cli -d: each link's details as ip -d shows them (veth, macvlan, loopback), text and JSON, link and addr", () => {
  using ns = quietNetns([
    "link add va0 type veth peer name vb0",
    "link add link va0 name mv0 type macvlan mode bridge",
    "link add vc0 type veth peer name vd0",
    "link add link vc0 name mv1 type macvlan mode passthru nopromisc",
    "link set va0 up",
    "link set va0 alias uplink",
    "link property add dev va0 altname upl0",
    "addr add 10.9.0.1/24 dev va0",
  ]);
  for (const view of ["link show", "addr show", "-s link show va0", "link show mv1"]) {
    const args = ["-d", ...view.split(" ")];
    const text = cli(["--netns", ns.name, ...args]);
    assert.equal(text.status, 0, `${view}: ${text.stderr}`);
    assert.equal(text.stdout, ns.ip(...args), view);
    assert.deepEqual(cliJson(ns, ...args), ns.json(...args), `-j ${view}`);
  }
  const [mv1] = cliJson(ns, "-details", "link", "show", "mv1");
  assert.deepEqual(mv1.linkinfo, {
    info_kind: "macvlan",
    info_data: { mode: "passthru", nopromisc: true, bcqueuelen: 1000, usedbcqueuelen: 1000 },
  });
});

test("cli -d: a bridge's options, its ports' and vxlans' as ip -d shows them, text and JSON", () => {
  using ns = quietNetns([
    "link add br0 type bridge forward_delay 400 ageing_time 12000",
    ...["link add br1 type bridge group_fwd_mask 0x4000 mcast_snooping 0 no_linklocal_learn 1"]
      .map((line) => `${line} mcast_router 2 priority 1 nf_call_iptables 1`),
    "link add va0 type veth peer name vb0",
    "link add vc0 type veth peer name vd0",
    "link set va0 master br0",
    "link set vc0 master br1",
    "link set vd0 master br0",
    "link set va0 type bridge_slave cost 7 priority 5 learning off",
    [
      "link set vc0 type bridge_slave hairpin on guard on root_block on fastleave on flood off",
      "proxy_arp on mcast_router 0 group_fwd_mask 0x4009 neigh_suppress on isolated on locked on",
      "mcast_to_unicast on bcast_flood off mcast_flood off cost 100 priority 3",
    ].join(" "),
    "link set vb0 up",
    "link set va0 up",
    "link set vd0 up", // a port must be up to take a backup port
    "link set vd0 type bridge_slave backup_port va0",
    "link add vx0 type vxlan id 42 dstport 4789 local 10.0.0.1 remote 10.0.0.2 ttl 10 dev va0",
    [
      "link add vx1 type vxlan id 7 group 239.1.1.1 dev vb0 dstport 8472 srcport 1000 2000",
      "ttl inherit nolearning l2miss l3miss proxy tos inherit df set maxaddr 100 noudpcsum gbp",
    ].join(" "),
    [
      "link add vx2 type vxlan id 8 remote 2001:db8::9 local 2001:db8::1 dstport 4789 ttl 0",
      "tos 0x10 udp6zerocsumtx udp6zerocsumrx remcsumtx remcsumrx df inherit flowlabel 0x12",
    ].join(" "),
    "link add vx3 type vxlan dstport 4790 external",
  ]);
  // The timers run between ip's read and ours.
  const timers = (text: string) => text.replace(/(_timer +)\d+\.\d\d /g, "$1X ");
  const text = cli(["--netns", ns.name, "-d", "link", "show"]);
  assert.equal(text.status, 0, text.stderr);
  assert.equal(timers(text.stdout), timers(ns.ip("-d", "link", "show")));
  const jsonTimers = (text: string) => text.replace(/("[a-z_]+_timer"):\d+\.\d\d/g, "$1:0");
  const ours = cli(["--netns", ns.name, "-d", "-j", "link", "show"]);
  assert.equal(jsonTimers(ours.stdout), jsonTimers(ns.ip("-d", "-j", "link", "show")));
  const linkinfo = (name: string) =>
    (cliJson<{ ifname: string; linkinfo: Record<string, Record<string, unknown>> }[]>(
      ns,
      "-d",
      "link",
      "show",
      name,
    ))[0].linkinfo;
  assert.equal(linkinfo("vc0").info_slave_data.group_fwd_mask_str, "stp,0x8,lldp");
  assert.equal(linkinfo("vd0").info_slave_data.backup_port, "va0");
  assert.equal(linkinfo("vx1").info_data.group, "239.1.1.1");
  assert.equal(linkinfo("vx2").info_data.remote6, "2001:db8::9");
});

test("cli errors: one line on stderr and a non-zero status", () => {
  using ns = variedNetns();
  const twiceDir = mkdtempSync(`${tmpdir()}/nlcli-`);
  const twice = [`${twiceDir}/a.pcap`, `${twiceDir}/b.pcap`];
  const cases: [string[], number, RegExp][] = [
    [["bogus"], 1, /^netlink: unknown command "bogus"/], // as ip's "Object ... is unknown"
    [[], 255, /^netlink: no command/],
    [["--frobnicate", "link"], 255, /^netlink: unknown option "--frobnicate"/],
    [["--netns"], 255, /^netlink: --netns needs a namespace name/],
    [["--netns", ns.name, "link", "show", "nosuch0"], 1, /^netlink: .*no link named "?nosuch0/],
    [["--netns", ns.name, "route", "add", "10.1.2.300/24"], 1, /^netlink: .*10\.1\.2\.300/],
    [
      ["--netns", ns.name, "route", "add", "10.1.0.0/16", "via"],
      255,
      /^netlink: "via" needs a value/,
    ],
    [
      ["--netns", ns.name, "route", "add", "10.51.0.0/16", "via", "10.9.0.2", "metric", "abc"],
      255,
      /^netlink: argument "abc" is wrong: "metric" value is invalid$/m,
    ],
    [
      ["--netns", ns.name, "route", "get", "10.9.0.2", "mark", "x"],
      255,
      /^netlink: argument "x" is wrong: invalid mark value$/m,
    ],
    [
      ["--netns", ns.name, "route", "add", "10.50.0.0/16", "via", "10.9.0.2", "metric", "20"],
      2,
      /^netlink: EEXIST/,
    ],
    [
      ["--netns", "nltest-no-such-namespace", "link"],
      255,
      /^netlink: Cannot open network namespace "nltest-no-such-namespace": No such file or directory$/m,
    ],
    // A name, as ip -n takes: a relative path opened from the current directory.
    [["--netns", "../../etc", "link"], 255, /^netlink: --netns: "\.\.\/\.\.\/etc" holds a "\/"/m],
    [["--netns", "..", "link"], 255, /^netlink: --netns: "\.\." is not a name/m],
    [["--netns", ns.name, "class", "show"], 255, /^netlink: class show needs "dev DEV"/],
    // An ip subcommand this tool lacks is named as such, not taken for a link's name.
    [
      ["--netns", ns.name, "link", "change", "lo", "up"],
      255,
      /^netlink: unknown subcommand "change"/,
    ],
    [["--netns", ns.name, "addr", "save"], 255, /^netlink: unknown subcommand "save"/],
    // tc's show commands too: what they cannot select by, or a parent that is no handle.
    [
      ["--netns", ns.name, "filter", "show", "dev", "va0", "bogus"],
      255,
      /^netlink: unexpected "bogus"/,
    ],
    [
      ["--netns", ns.name, "qdisc", "show", "dev", "va0", "parent", "1:"],
      255,
      /^netlink: qdisc show selects by dev, not "parent"/,
    ],
    [
      ["--netns", ns.name, "class", "show", "dev", "va0", "parent", "zz"],
      255,
      /^netlink: parent: "zz" is not a handle/,
    ],
    // Operands tc show does not take are refused, not ignored.
    [
      ["--netns", ns.name, "qdisc", "show", "dev", "lo", "root"],
      255,
      /^netlink: unexpected "root"/,
    ],
    [
      ["--netns", ns.name, "filter", "show", "dev", "lo", "ingress", "bogus"],
      255,
      /^netlink: unexpected "bogus"/,
    ],
    [
      ["--netns", ns.name, "qdisc", "show", "dev", "nosuch0"],
      1,
      /^netlink: ENODEV: no link named "nosuch0"/,
    ],
    // route show selects by what it can, refusing the rest rather than ignoring it; what is no
    // prefix is refused as ip refuses it (status 1), and so is a lookup of nothing.
    [
      ["--netns", ns.name, "route", "show", "bogus"],
      1,
      /^netlink: any valid prefix is expected rather than "bogus"\.$/m,
    ],
    [
      ["--netns", ns.name, "-6", "route", "show", "root", "10.0.0.0/8"],
      1,
      /^netlink: inet6 prefix is expected rather than "10\.0\.0\.0\/8"\.$/m,
    ],
    [
      ["--netns", ns.name, "route", "show", "match"],
      255,
      /^netlink: Command line is not complete/,
    ],
    [["--netns", ns.name, "route", "get"], 1, /^netlink: need at least a destination address$/m],
    // A lookup takes no gateway: it was ignored. ip reads the word as the destination, a prefix
    // of the family known by then, and fails with status 1.
    [
      ["--netns", ns.name, "route", "get", "10.9.0.5", "via", "10.9.0.1"],
      1,
      /^netlink: inet prefix is expected rather than "via"\.$/m,
    ],
    [
      ["--netns", ns.name, "route", "get", "2001:db8::5", "table", "5"],
      1,
      /^netlink: inet6 prefix is expected rather than "table"\.$/m,
    ],
    [
      ["--netns", ns.name, "route", "get", "10.9.0.5", "table"],
      1,
      /^netlink: inet prefix is expected rather than "table"\.$/m,
    ],
    [
      ["--netns", ns.name, "route", "get", "to", "mark", "5", "10.9.0.5"],
      1,
      /^netlink: any valid prefix is expected rather than "mark"\.$/m,
    ],
    [
      ["--netns", ns.name, "route", "get", "10.9.0.5", "2001:db8::5"],
      1,
      /^netlink: inet prefix is expected rather than "2001:db8::5"\.$/m,
    ],
    [
      ["--netns", ns.name, "route", "get", "metric", "5", "10.9.0.5"],
      1,
      /^netlink: any valid prefix is expected rather than "metric"\.$/m,
    ],
    [
      ["--netns", ns.name, "-6", "route", "get", "src", "10.9.0.1", "2001:db8::5"],
      1,
      /^netlink: inet6 prefix is expected rather than "src"\.$/m,
    ],
    // A gateway not of the family named (or of the route's, none named) is refused in ip's
    // words: an IPv4 route's IPv6 gateway is written `via inet6`.
    [
      ["--netns", ns.name, "route", "add", "10.1.0.0/16", "via", "2001:db8::9"],
      1,
      /^netlink: inet address is expected rather than "2001:db8::9"\.$/m,
    ],
    [
      ["--netns", ns.name, "route", "add", "10.1.0.0/16", "via", "inet6", "10.9.0.9"],
      1,
      /^netlink: inet6 address is expected rather than "10\.9\.0\.9"\.$/m,
    ],
    [
      ["--netns", ns.name, "route", "add", "10.1.0.0/16", "via", "inet6"],
      255,
      /^netlink: Command line is not complete/,
    ],
    [
      ["--netns", ns.name, "route", "add", "10.1.0.0/16", "via", "mpls", "100"],
      255,
      /^netlink: "via mpls" is not supported: via \[inet\|inet6\] ADDRESS$/m,
    ],
    // What is no subcommand is refused, as ip and tc do (not taken for a link's name).
    [["--netns", ns.name, "link", "lo"], 255, /^netlink: Command "lo" is unknown, try --help$/m],
    [
      ["--netns", ns.name, "route", "10.0.0.0/8"],
      255,
      /^netlink: Command "10\.0\.0\.0\/8" is unknown/,
    ],
    [["--netns", ns.name, "qdisc", "foo"], 255, /^netlink: Command "foo" is unknown/],
    [["--netns", ns.name, "route", "show", "iif", "nosuch0"], 1, /^netlink: ENODEV: no link /],
    [
      ["--netns", ns.name, "neigh", "show", "lladdr", "02:00:00:00:00:05"],
      255,
      /^netlink: neigh show selects by dev, nud, not "lladdr"/,
    ],
    [
      ["--netns", ns.name, "rule", "show", "pref", "300"],
      255,
      /^netlink: rule show takes no "pref"/,
    ],
    [
      ["--netns", ns.name, "genl", "show", "nosuchfamily"],
      1,
      /^netlink: no generic netlink family named "nosuchfamily"/,
    ],
    [["--netns", ns.name, "ethtool", "nosuch0"], 1, /^netlink: no link named "nosuch0"/],
    // An empty name is said as one, as link show says it (it was "no link named ", cut short).
    [["--netns", ns.name, "ethtool", ""], 1, /^netlink: no link named ""$/m],
    [["--netns", ns.name, "genl", "show", ""], 1, /^netlink: no generic netlink family named ""$/m],
    [["--netns", ns.name, "monitor", "bogus"], 255, /^netlink: monitor: unknown object "bogus"/],
    [
      ["--netns", ns.name, "monitor", "link", "count", "1.5"],
      255,
      /^netlink: monitor: count "1.5" is not a positive/,
    ],
    [
      ["--netns", ns.name, "monitor", "link", "count", "Infinity"],
      255,
      /^netlink: monitor: count "Infinity" is not/,
    ],
    // Read as ip reads numbers: a leading 0 is octal, and 8 is no octal digit.
    [
      ["--netns", ns.name, "monitor", "link", "count", "08"],
      255,
      /^netlink: monitor: count "08" is not/,
    ],
    [["--json", "monitor", "--raw"], 255, /^netlink: monitor --raw prints decoded messages/],
    [["monitor", "genl"], 255, /^netlink: monitor genl needs a family name/],
    [
      ["--json", "monitor", "genl", "nlctrl"],
      255,
      /^netlink: monitor genl prints decoded messages/,
    ],
    [
      ["--netns", ns.name, "monitor", "genl", "nosuchfamily"],
      1,
      /^netlink: no generic netlink family named "nosuchfamily"/,
    ],
    [
      ["--netns", ns.name, "monitor", "genl", "nlctrl", "bogus"],
      1,
      /^netlink: nlctrl has no multicast group "bogus" \(notify\)/,
    ],
    [["--capture"], 255, /^netlink: --capture needs a file name/],
    [["--capture", "", "link"], 255, /^netlink: --capture needs a file name/],
    [["--capture", "/nonexistent-dir/x.pcap", "link"], 1, /^netlink: open: ENOENT.*nonexistent/],
    // The second was the one written, the first silently left out.
    [
      ["--capture", twice[0], "--capture", twice[1], "link"],
      255,
      /^netlink: --capture given twice \(".*a\.pcap", then ".*b\.pcap"\): every socket's traffic goes to one file\n/,
    ],
  ];
  for (const [args, status, message] of cases) {
    const result = cli(args);
    assert.equal(result.status, status, `netlink ${args.join(" ")}: ${result.stderr}`);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, message, `netlink ${args.join(" ")}`);
    assert.equal(result.stderr.trimEnd().split("\n").length, 1, `one line: ${result.stderr}`);
  }
  // Refused before either file was made.
  assert.deepEqual(readdirSync(twiceDir), []);
  rmSync(twiceDir, { recursive: true });
  // Without CAP_NET_ADMIN (root otherwise, so the namespace can still be entered).
  const denied = cli(
    ["--netns", ns.name, "route", "add", "10.44.0.0/16", "dev", "br0"],
    ["setpriv", "--inh-caps=-net_admin", "--bounding-set=-net_admin", "--"],
  );
  assert.equal(denied.status, 2, denied.stderr);
  assert.match(denied.stderr, /^netlink: EPERM: .*CAP_NET_ADMIN/);
  assert.equal(denied.stderr.trimEnd().split("\n").length, 1);

  const help = cli(["--help"]);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: netlink/);
  assert.match(
    help.stdout,
    /^Exit status \(as ip's\): 0 done, 1 failed .*, 2 refused by the kernel, 255 bad usage$/m,
  );
  for (
    const command of [
      "link",
      "addr",
      "route",
      "neigh",
      "rule",
      "monitor",
      "qdisc",
      "class",
      "filter",
      "genl",
      "ethtool",
    ]
  ) {
    assert.match(help.stdout, new RegExp(`^  ${command} `, "m"), command);
  }
});

test("cli errors: an operand given twice that ip or tc refuses is refused in its words (the last one was taken: another device's entries shown, another gateway or MAC written)", () => {
  using ns = quietNetns([
    "link add va0 type veth peer name vb0",
    "link set va0 up",
    "addr add 10.9.0.1/24 dev va0",
  ]);
  const cases: [string, string[]][] = [
    ["ip", ["link", "show", "dev", "lo", "dev", "va0"]],
    ["ip", ["link", "show", "lo", "va0"]],
    ["ip", ["link", "show", "dev", "lo", "va0"]],
    ["ip", ["addr", "show", "dev", "lo", "dev", "va0"]],
    ["ip", ["neigh", "show", "dev", "lo", "dev", "va0"]],
    ["ip", ["route", "add", "10.8.0.0/16", "via", "10.9.0.2", "via", "10.9.0.3"]],
    ["ip", [
      "neigh",
      "add",
      "10.9.0.7",
      "lladdr",
      "02:00:00:00:00:01",
      "lladdr",
      "02:00:00:00:00:02",
      "dev",
      "va0",
    ]],
    ["tc", ["class", "show", "dev", "lo", "dev", "va0"]],
    ["tc", ["class", "show", "dev", "lo", "parent", "1:", "parent", "2:"]],
    ["tc", ["filter", "show", "dev", "lo", "dev", "va0"]],
  ];
  for (const [tool, args] of cases) {
    const theirs = spawnSync(tool, ["-n", ns.name, ...args], { encoding: "utf8" });
    const ours = cli(["--netns", ns.name, ...args]);
    const line = `${tool} ${args.join(" ")}`;
    assert.equal(theirs.status, 255, `${line}: ${theirs.stderr}`);
    assert.equal(ours.status, 255, `netlink ${line}: ${ours.stderr}`);
    assert.equal(ours.stdout, "");
    // Their text, without "Error: " and the blank line ip's "via" message ends with.
    assert.equal(
      ours.stderr,
      `netlink: ${theirs.stderr.replace(/^Error: /, "").trimEnd()}\n`,
      line,
    );
  }
  // Nothing was written.
  assert.doesNotMatch(ns.ip("route"), /10\.8\.0\.0/);
  assert.doesNotMatch(ns.ip("neigh"), /10\.9\.0\.7/);
  // What ip and tc take again, the last one wins, as theirs: a qdisc's dev, a route's table.
  for (
    const args of [["qdisc", "show", "dev", "lo", "dev", "va0"], [
      "route",
      "show",
      "table",
      "local",
      "table",
      "main",
    ]]
  ) {
    const tool = args[0] === "qdisc" ? "tc" : "ip";
    const theirs = spawnSync(tool, ["-n", ns.name, ...args], { encoding: "utf8" });
    assert.equal(cli(["--netns", ns.name, ...args]).stdout, theirs.stdout, args.join(" "));
  }
});

test("cli errors: what the command line gave is quoted escaped, so it cannot write to the terminal", () => {
  using ns = quietNetns([]);
  // An escape sequence (clears the screen) and a one-character C1 CSI; argv holds no NUL.
  const forged = "\x1b[2J\u009b31m";
  const escaped = "\\u001b[2J\\u009b31m";
  const n = ["--netns", ns.name];
  const cases: [string[], string][] = [
    [[forged], `unknown command "${escaped}"`],
    [[`--${forged}`, "link"], `unknown option "--${escaped}"`],
    [["--netns", forged, "link"], `Cannot open network namespace "${escaped}"`],
    [[...n, "route", "add", "10.51.0.0/16", "metric", forged], `argument "${escaped}" is wrong`],
    [[...n, "qdisc", "show", "dev", "lo", forged], `unexpected "${escaped}"`],
    [
      [...n, "filter", "show", "dev", "lo", "parent", `1:${forged}`],
      `"1:${escaped}" is not a handle`,
    ],
    [[...n, "link", "show", forged], `no link named "${escaped}"`],
    [[...n, "ethtool", forged], `no link named "${escaped}"`],
    [[...n, "genl", "show", forged], `no generic netlink family named "${escaped}"`],
    [[...n, "monitor", "count", forged], `count "${escaped}" is not a positive number`],
    [[...n, "monitor", "genl", "nlctrl", forged], `has no multicast group "${escaped}"`],
  ];
  for (const [args, message] of cases) {
    const { status, stderr } = cli(args);
    assert.notEqual(status, 0, args.join(" "));
    assert.ok(stderr.includes(message), `${args.join(" ")}: ${stderr}`);
    // deno-lint-ignore no-control-regex
    assert.ok(!/[\x00-\x09\x0b-\x1f\x7f-\x9f]/.test(stderr), `${args.join(" ")}: ${stderr}`);
  }
});

/**
 * Runs `command` until it has printed a line (calling `change` with 0, 1, 2... every 100 ms
 * meanwhile) or exits, then stops it; its output. Fails after 30 s with nothing printed. A
 * command that `exits` by itself is waited for (up to the same 30 s), not stopped: a busy machine
 * can take longer than the 200 ms granted to the rest of a monitor's output to end a process.
 */
async function firstLines(
  command: string[],
  change: (n: number) => void = () => {},
  exits = false,
) {
  const child = spawn(command[0], command.slice(1), {
    stdio: ["ignore", "pipe", "pipe"],
    cwd: tmp,
  });
  let stdout = "", stderr = "";
  child.stdout.on("data", (chunk) => stdout += chunk);
  child.stderr.on("data", (chunk) => stderr += chunk);
  // "close": the process has exited and its output is all read.
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  let n = 0;
  const deadline = Date.now() + 30_000;
  while (
    (exits || !stdout.includes("\n")) && child.exitCode === null && Date.now() < deadline
  ) {
    change(n++);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!exits) {
    await new Promise((resolve) => setTimeout(resolve, 200)); // the rest of what it was printing
  }
  child.kill(); // nothing if it has exited
  const status = await exited;
  return { status, stdout, stderr };
}

test("README's command-line examples run as shown (jsr:@netlink/netlink/cli: this checkout's)", async () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("\n## Command line"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1];
  const commands = block.split("\n").filter((line) => line.startsWith("deno run"));
  const comment = /^# (.*)$/m.exec(block)![1];
  assert.equal(commands.length, 5, block);
  using ns = new Netns();
  ns.ipBatch([
    "link add veth0 type veth peer name veth1",
    "link set veth0 up",
    "link set veth1 up",
  ]);
  ns.ipBatch(["addr add 10.0.0.1/24 dev veth0"]);
  const deno = fileURLToPath(new URL("../../node_modules/.bin/deno", import.meta.url));
  let n = 0; // over every command: each change makes new objects
  for (const line of commands) {
    // As written, on Deno with --allow-ffi alone; on Bun, `bun src/cli/main.ts` as the README says.
    const args = line.replace(/^deno run --allow-ffi jsr:@netlink\/netlink\/cli /, "").split(" ")
      .map((arg) => arg === "blue" ? ns.name : arg);
    const runtime = process.versions.bun
      ? [process.execPath, CLI]
      : [deno, "run", "--allow-ffi", "--no-prompt", CLI];
    // Those without --netns run inside the namespace, as `ip netns exec` runs them.
    const inNs = args.includes("--netns") ? [] : ["ip", "netns", "exec", ns.name];
    const result = await firstLines([...inNs, ...runtime, ...args], () => {
      n++;
      ns.ip("link", "set", "veth1", "mtu", String(1300 + n));
      if (n % 10 === 1) {
        ns.ipBatch([
          `link add vr${n} type veth peer name vs${n}`,
          `route add 10.7.${n}.0/24 dev veth0`,
        ]);
      }
    }, args.includes("get"));
    assert.equal(result.stderr, "", line);
    if (args.includes("get")) {
      assert.equal(result.status, 0);
      assert.deepEqual(JSON.parse(result.stdout)[0].dev, "veth0");
    } else if (args.includes("--raw")) {
      assert.equal(result.status, 0);
      // The line the README shows, up to its first "...".
      const shown = comment.slice(0, comment.indexOf(" ..."));
      const pattern = shown.replace(/[|{}[\]().*+?^$\\]/g, "\\$&").replace(/=\d+/g, "=\\d+");
      assert.match(result.stdout, new RegExp(`^${pattern}`), result.stdout);
    } else if (args.includes("genl")) {
      assert.match(result.stdout, /^netdev dev-add-ntf /);
    } else if (args.includes("--capture")) {
      assert.equal(result.status, 0);
      assert.match(result.stdout, /^1: lo: /);
      assert.ok(readFileSync(`${tmp}/links.pcap`).length > 24);
    } else {
      // A link's line, or a route's (ours, or one the kernel added for a link).
      assert.match(
        result.stdout,
        /^(\d+: \S+: <[A-Z_,-]*> mtu |.* dev \S+)/,
        `${line}: ${result.stdout}`,
      );
    }
  }
});

test("run()'s JSDoc examples run as pasted: the tool's output, and ip's exit status", () => {
  using ns = new Netns([
    "link add eth0 type veth peer name eth0p",
    "link set eth0 up",
    "link set eth0p up",
    "addr add 10.0.0.1/24 dev eth0",
    "route add default via 10.0.0.254",
  ]);
  const [show, get] = ["\"link\", \"show\", \"lo\"", "\"route\", \"get\", \"1.1.1.1\""].map((
    args,
  ) => jsdocExamples("src/cli/main.ts").find(({ code }) => code.includes(args))!.code);
  const shown = runExampleInNetns(ns.name, show);
  assert.equal(shown.status, 0, shown.stderr);
  assert.deepEqual(
    JSON.parse(shown.stdout).map((l: { ifname: string }) => l.ifname),
    ["lo"],
  );
  const got = runExampleInNetns(ns.name, get);
  assert.equal(got.status, 0, got.stderr);
  assert.match(got.stdout, /^1\.1\.1\.1 via 10\.0\.0\.254 dev eth0 src 10\.0\.0\.1 /);
  // process.exitCode = await run(...): a kernel refusal is the process's exit status 2.
  ns.ip("route", "del", "default");
  const refused = runExampleInNetns(ns.name, get);
  assert.equal(refused.status, 2, refused.stderr);
});
