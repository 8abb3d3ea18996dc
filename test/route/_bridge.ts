// What `bridge -j vlan show` prints, in vlan.list()'s shape: one [dev, vid, pvid, untagged] per
// VLAN, in bridge's order, for the host's and the guest's tests to compare whole lists.

import { execFileSync } from "node:child_process";
import type { BridgeVlan } from "../../src/route/mod.ts";
import type { Netns } from "../host/_netns.ts";

/** `bridge -n NAME ARGS...`; throws with bridge's stderr when it fails. */
export function bridge(ns: Netns, ...args: string[]): string {
  return execFileSync("bridge", ["-n", ns.name, ...args], { encoding: "utf8", stdio: "pipe" });
}

/** `bridge -j vlan show [ARGS...]`, a VLAN a row. */
export function bridgeVlans(ns: Netns, ...args: string[]): [string, number, boolean, boolean][] {
  const shown = JSON.parse(bridge(ns, "-j", "vlan", "show", ...args) || "[]") as {
    ifname: string;
    vlans: { vlan: number; vlanEnd?: number; flags?: string[] }[];
  }[];
  return shown.flatMap((link) =>
    link.vlans.map((v): [string, number, boolean, boolean] => [
      link.ifname,
      v.vlan,
      v.flags?.includes("PVID") ?? false,
      v.flags?.includes("Egress Untagged") ?? false,
    ])
  );
}

/** vlan.list()'s VLANs as bridgeVlans() rows. */
export function asBridgeRows(vlans: BridgeVlan[]): [string, number, boolean, boolean][] {
  return vlans.map((v) => [v.dev ?? "", v.vid, v.pvid, v.untagged]);
}
