// The command-line tool's `ethtool DEV` against ethtool: its settings block byte for byte on the
// kernel's devices (loopback, which has no link modes; a veth pair; a bridge), and the layout of
// link modes, Wake-on-LAN and the message level a NIC reports, from replies made up as the kernel
// sends them (no device on the host or in the guest has the last two).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { debugText, modesText, wolText } from "../../src/cli/_ethtool.ts";
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
    // Each feature listed is one ethtool -k shows on (by the kernel's name, or ethtool's older
    // one for those it renames), and each ethtool -k shows on is listed.
    const ours = got.stdout.split(`Features on for ${dev}:\n`)[1].trimEnd().split("\n")
      .map((line) => line.replace(/: on$/, ""));
    const k = spawnSync("ip", ["netns", "exec", ns.name, "ethtool", "-k", dev], {
      encoding: "utf8",
    }).stdout;
    const on = new Set([...k.matchAll(/^\t?([^\t:]+): on/gm)].map((m) => m[1]));
    for (const name of ours) {
      assert.ok(on.has(ETHTOOL_NAMES[name] ?? name), `${dev}: ${JSON.stringify(name)} is not on`);
    }
    const listed = new Set(ours.map((name) => ETHTOOL_NAMES[name] ?? name));
    for (const name of on) {
      if (!GROUPS.includes(name)) assert.ok(listed.has(name), `${dev}: ${name} not listed`);
    }
  }
});

/** The features ethtool -k shows by its older names (ethtool's off_flag_def). */
const ETHTOOL_NAMES: Record<string, string> = {
  "rx-checksum": "rx-checksumming",
  "tx-generic-segmentation": "generic-segmentation-offload",
  "rx-gro": "generic-receive-offload",
  "rx-lro": "large-receive-offload",
  "tx-vlan-hw-insert": "tx-vlan-offload",
  "rx-vlan-hw-parse": "rx-vlan-offload",
  "rx-ntuple-filter": "ntuple-filters",
  "rx-hashing": "receive-hashing",
};
/** ethtool -k's lines that sum up several features (tx-checksumming: the tx-checksum-* ones). */
const GROUPS = ["tx-checksumming", "scatter-gather", "tcp-segmentation-offload"];

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

test("cli ethtool: Wake-on-LAN and the message level as ethtool prints them", () => {
  // WOL_GET: a bitset with a mask (wol_fill_reply): supported bits listed, those on with a value.
  const wolNames = ["phy", "ucast", "mcast", "bcast", "arp", "magic", "magicsecure", "filter"];
  const wolBit = (index: number, value: boolean) => ({ index, name: wolNames[index], value });
  const e1000 = {
    modes: { size: 8, bits: { bit: [0, 1, 2, 3, 5].map((i) => wolBit(i, i === 5)) } },
  };
  assert.deepEqual(wolText(e1000), ["\tSupports Wake-on: pumbg", "\tWake-on: g"]);
  const off = { modes: { size: 8, bits: { bit: [wolBit(5, false)] } } };
  assert.deepEqual(wolText(off), ["\tSupports Wake-on: g", "\tWake-on: d"]);
  // With SecureOn supported, its password: zeros when the kernel withholds it (no CAP_NET_ADMIN).
  const secure = { modes: { size: 8, bits: { bit: [wolBit(5, true), wolBit(6, true)] } } };
  assert.deepEqual(wolText(secure), [
    "\tSupports Wake-on: gs",
    "\tWake-on: gs",
    "        SecureOn password: 00:00:00:00:00:00",
  ]);
  assert.equal(
    wolText({ ...secure, sopass: new Uint8Array([1, 0x23, 0x45, 0x67, 0x89, 0xab]) })[2],
    "        SecureOn password: 01:23:45:67:89:ab",
  );
  // DEBUG_GET: a list without a mask (debug_fill_reply): the classes on.
  const msgmask = (bits: [number, string][]) => ({
    msgmask: {
      nomask: true,
      size: 15,
      bits: { bit: bits.map(([index, name]) => ({ index, name })) },
    },
  });
  assert.deepEqual(debugText(msgmask([[0, "drv"], [1, "probe"], [2, "link"]])), [
    "        Current message level: 0x00000007 (7)",
    "                               drv probe link",
  ]);
  assert.deepEqual(debugText(msgmask([])), [
    "        Current message level: 0x00000000 (0)",
    " ".repeat(30),
  ]);
  // A device without them (EOPNOTSUPP, as veth) prints neither.
  assert.deepEqual([...wolText(undefined), ...debugText(undefined)], []);
});

test("cli ethtool: ethtool's options (-k, -S, -i...) are refused as such, before any request, not as an unexpected device", () => {
  for (const option of ["-k", "-S", "-i", "--show-features"]) {
    const got = cli(["ethtool", option, "lo"]);
    assert.equal(got.status, 255, got.stderr);
    assert.equal(
      got.stderr,
      `netlink: ethtool ${option} is not supported: ethtool DEV alone prints the device's `
        + "settings, then the features that are on\n",
    );
  }
});
