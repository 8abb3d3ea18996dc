// The command-line tool's `-d` for the kinds the host's kernel cannot make (its modules load in
// the guest only): a VLAN's options (protocol, id, flags, QoS maps), a bond's and a bond port's,
// compared with `ip -d -j link show` and `ip -d link show` of the same namespace.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { cli } from "../cli/_cli.ts";
import { Netns } from "../host/_netns.ts";

test("cli -d: a VLAN's, a bond's and a bond port's options as ip -d prints them, text and JSON", () => {
  for (const module of ["8021q", "bonding", "dummy"]) {
    execFileSync("modprobe", [module], { stdio: "pipe" });
  }
  using ns = new Netns([
    "link add d0 type dummy",
    "link add link d0 name d0.10 type vlan id 10",
    "link add link d0 name d0.20 type vlan proto 802.1ad id 20 gvrp on loose_binding on "
    + "ingress-qos-map 1:2 3:4 egress-qos-map 2:5",
    "link add bond0 type bond mode active-backup miimon 100 arp_ip_target 10.0.0.1,10.0.0.2 "
    + "primary_reselect better",
    "link add bond1 type bond mode 802.3ad ad_actor_system 02:00:00:00:00:09 lacp_rate fast",
    "link add d1 type dummy",
    "link set d1 master bond0",
    "link add d2 type dummy",
    "link set d2 master bond1",
    "link set bond1 up",
  ]);
  const json = cli(["--netns", ns.name, "-d", "--json", "link", "show"]);
  assert.equal(json.status, 0, json.stderr);
  const ours = JSON.parse(json.stdout) as Record<string, unknown>[];
  const byIp = ns.json("-d", "link", "show");
  assert.deepEqual(ours, byIp);
  const kinds = byIp.map((l) => (l.linkinfo as Record<string, unknown> | undefined)?.info_kind);
  assert.deepEqual(kinds.filter((kind) => kind === "vlan" || kind === "bond").length, 4);
  const text = cli(["--netns", ns.name, "-d", "link", "show"]);
  assert.equal(text.stdout, ns.ip("-d", "link", "show"));
});
