// `route show` and `addr show` selectors as ip spells and reads them: its abbreviations ("ta",
// "pri", "ro"), `iif`, `vrf`, and `addr show to PREFIX`; each command line run by ip and by the
// tool in one namespace: the same output and exit status.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { openRoute } from "../../src/route/mod.ts";
import type { Netns } from "../host/_netns.ts";
import { cli, quietNetns } from "./_cli.ts";

/** Each line, run by ip and by the tool in `ns`: the same status and output (text). */
function sameAsIp(ns: Netns, lines: string[]): void {
  for (const line of lines) {
    const args = line.split(" ");
    const ip = spawnSync("ip", ["-n", ns.name, ...args], { encoding: "utf8" });
    const ours = cli(["--netns", ns.name, ...args]);
    const view =
      `${line}: ip ${ip.status} (${ip.stderr.trim()}), ours ${ours.status} (${ours.stderr})`;
    assert.equal(ours.status, ip.status, view);
    assert.equal(ours.stdout, ip.stdout, view);
  }
}

test("cli route show and addr show: ip's spellings, iif, vrf and to PREFIX, as ip reads them", () => {
  using ns = quietNetns([
    "link add v0 type veth peer name v1",
    "link set v0 up",
    "link set v1 up",
    "addr add 10.0.0.1/24 dev v0",
    "addr add 10.5.0.1/16 dev v1",
    "addr add 2001:db8::1/64 dev v0 nodad",
    "route add 10.1.0.0/16 via 10.0.0.9 metric 5 proto static table 100",
    "route add 10.3.0.0/16 dev v1 metric 6 table 100",
    "route add 10.2.0.0/16 dev v0 metric 7",
  ]);
  sameAsIp(ns, [
    "route show ta 100",
    "route show tab 100 pri 5",
    "route show t 100 preference 6",
    "route show table 100 p static",
    "route show ty unicast",
    "route show dsf 0",
    "route show iif v1",
    "route show iif nonex",
    "route show vrf v0",
    "route show vrf nonex",
    "route show ta 100 ro 10.0.0.0/8",
    "route show ta 100 f e 0/0",
    "route show table 100 ma 10.1.2.3",
    "route show sc link",
    "route show cache",
    "addr show to 10.0.0.0/8",
    "addr show to 10.5.0.0/16",
    "addr show dev v0 to 10.0.0.1",
    "addr show to 2001:db8::/32",
    "-6 addr show to 2001:db8::/32",
    "addr show to all",
    "addr show v0 to 2001:db8::/32",
  ]);
  // Refused as ip refuses them, with its status; the words are the tool's.
  for (const line of ["addr show to bogus", "-6 addr show to 10.0.0.0/8"]) {
    const ours = cli(["--netns", ns.name, ...line.split(" ")]);
    const ip = spawnSync("ip", ["-n", ns.name, ...line.split(" ")], { encoding: "utf8" });
    assert.equal(ours.status, ip.status, line);
    assert.equal(ours.stderr, `netlink: ${ip.stderr.replace(/^Error: /, "")}`, line);
  }
  // addr flush takes them too.
  const flush = cli(["--netns", ns.name, "addr", "flush", "to", "10.5.0.0/16"]);
  assert.equal(flush.status, 0, flush.stderr);
  assert.deepEqual(ns.json("addr", "show", "v1").map((l) => l.addr_info), [[]]);
});

test("cli neigh show: the flags ip prints, not a newer kernel's extern_valid, text and JSON", async () => {
  using ns = quietNetns(["link add v0 type veth peer name v1", "link set v0 up"]);
  await using ip = await openRoute({ netns: ns.name });
  const lladdr = "02:00:00:00:00:44";
  // What ip 6.1 cannot add: extern_valid (NTF_EXT_EXT_VALIDATED, Linux 6.17 on).
  const flags = [["router"], ["extern_learn", "extern_valid"], ["router", "extern_learn"], []];
  for (const [i, set] of flags.entries()) {
    await ip.neigh.add({ dev: "v0", address: `10.0.0.${50 + i}`, lladdr, flags: set as never });
  }
  sameAsIp(ns, ["neigh show", "-j neigh show"]);
});
