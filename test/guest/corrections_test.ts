// scripts/ynl_corrections.ts proven live where the host kernel cannot show the value:
// IFLA_BR_VLAN_PROTOCOL exists only with CONFIG_BRIDGE_VLAN_FILTERING, which the host's kernel
// lacks (its bridges carry no vlan_protocol) and the guest's Debian kernel has.

import assert from "node:assert/strict";
import { test } from "node:test";
import { NLM_F_CREATE, NLM_F_EXCL } from "../../src/constants.ts";
import { family } from "../../src/ynl/family.ts";
import { rtLink } from "../../src/ynl/rt_link.ts";
import { Netns } from "../host/_netns.ts";

type Json = Record<string, Record<string, Record<string, unknown>>>;

test("rt-link bridge vlan-protocol is big-endian: read and written as ip reads and writes it, named as a vlan's protocol", async () => {
  using ns = new Netns(["link add br0 type bridge vlan_protocol 802.1ad"]);
  await using rt = await family(rtLink, { netns: ns.name });
  const data = async (name: string) =>
    (await rt.do("getlink", { ifname: name })).linkinfo!.data as Record<string, unknown>;
  assert.equal((await data("br0")).vlanProtocol, "8021ad");
  await rt.do("newlink", {
    ifname: "br1",
    linkinfo: { kind: "bridge", data: { vlanProtocol: 0x88a8 } },
  }, { flags: NLM_F_CREATE | NLM_F_EXCL });
  const ipData = ns.json<Json[]>("-d", "link", "show", "br1")[0].linkinfo.info_data;
  assert.equal(ipData.vlan_protocol, "802.1ad");
  // Back to 802.1Q, as `ip link set br1 type bridge vlan_protocol 802.1Q` would, by name.
  await rt.do("newlink", {
    ifname: "br1",
    linkinfo: { kind: "bridge", data: { vlanProtocol: "8021q" } },
  });
  assert.equal(
    ns.json<Json[]>("-d", "link", "show", "br1")[0].linkinfo.info_data.vlan_protocol,
    "802.1Q",
  );
  assert.equal((await data("br1")).vlanProtocol, "8021q");
});
