// The command-line tool's `ethtool DEV` against ethtool: its settings block byte for byte on the
// kernel's devices (loopback, which has no link modes; a veth pair; a bridge), and the layout of
// link modes a NIC reports, from a reply made up as the kernel sends one.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { modesText } from "../../src/cli/_ethtool.ts";
import { Netns } from "../host/_netns.ts";
import { cli } from "./_cli.ts";

test("cli ethtool DEV prints ethtool's settings block, then the features on", () => {
  using ns = new Netns([
    "link add va0 type veth peer name vb0",
    "link set va0 up",
    "link set vb0 up",
    "link add br0 type bridge",
  ]);
  for (const dev of ["lo", "va0", "br0"]) {
    const want = spawnSync("ip", ["netns", "exec", ns.name, "ethtool", dev], { encoding: "utf8" });
    assert.equal(want.status, 0, want.stderr);
    const got = cli(["--netns", ns.name, "ethtool", dev]);
    assert.equal(got.status, 0, `${dev}: ${got.stderr}`);
    assert.ok(
      got.stdout.startsWith(want.stdout),
      `${dev}:\n${got.stdout}\nethtool:\n${want.stdout}`,
    );
    assert.match(got.stdout.slice(want.stdout.length), new RegExp(`^Features on for ${dev}:\n`));
  }
});

test("cli ethtool: link modes as ethtool lays them out, a half duplex mode beside its full one", () => {
  const names = [
    "10baseT/Half",
    "10baseT/Full",
    "100baseT/Half",
    "100baseT/Full",
    "1000baseT/Half",
    "1000baseT/Full",
    "Autoneg",
    "TP",
  ];
  // A non-compact bitset with a mask: every bit listed is supported, those with value advertised.
  const bit = (index: number, value: boolean) => ({ index, name: names[index], value });
  const ours = {
    size: 121,
    bits: { bit: [0, 1, 2, 3, 5, 6, 7].map((i) => bit(i, i !== 0 && i !== 2)) },
  };
  assert.deepEqual(modesText({ ours, speed: 1000, duplex: 1, autoneg: 1 }).join("\n").split("\n"), [
    "\tSupported ports: [ TP ]",
    "\tSupported link modes:   10baseT/Half 10baseT/Full",
    "\t                        100baseT/Half 100baseT/Full",
    "\t                        1000baseT/Full",
    "\tSupported pause frame use: No",
    "\tSupports auto-negotiation: Yes",
    "\tSupported FEC modes: Not reported",
    "\tAdvertised link modes:  10baseT/Full",
    "\t                        100baseT/Full",
    "\t                        1000baseT/Full",
    "\tAdvertised pause frame use: No",
    "\tAdvertised auto-negotiation: Yes",
    "\tAdvertised FEC modes: Not reported",
    "\tSpeed: 1000Mb/s",
    "\tDuplex: Full",
    "\tAuto-negotiation: on",
  ]);
});
