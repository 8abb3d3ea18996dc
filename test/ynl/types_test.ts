// The types a descriptor gives its family: wrong operation, attribute, enum or value type are
// compile errors. `deno check` (and `deno test`) verify every @ts-expect-error below is one; the
// function is never called, so Bun, which does not check types, runs only the last test.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { ethtool } from "../../src/ynl/ethtool.ts";
import type { DumpReply, NetlinkFamily } from "../../src/ynl/mod.ts";
import type { netdev } from "../../src/ynl/netdev.ts";
import type { rtLink } from "../../src/ynl/rt_link.ts";
import type { rtNeigh } from "../../src/ynl/rt_neigh.ts";
import type { rtRoute } from "../../src/ynl/rt_route.ts";
import type { rtRule } from "../../src/ynl/rt_rule.ts";

type Route = DumpReply<typeof rtRoute, "getroute">;

async function typeChecks(
  link: NetlinkFamily<typeof rtLink>,
  route: NetlinkFamily<typeof rtRoute>,
  dev: NetlinkFamily<typeof netdev>,
  tool: NetlinkFamily<typeof ethtool>,
  neigh: NetlinkFamily<typeof rtNeigh>,
  rule: NetlinkFamily<typeof rtRule>,
): Promise<void> {
  // Operations.
  await link.dump("getlink");
  // @ts-expect-error: no such operation
  await link.dump("getlnk");
  // @ts-expect-error: newlink has neither a dump nor a reply
  await link.dump("newlink");
  // @ts-expect-error: getstats is rt-link's, not rt-route's
  await route.do("getstats");

  // Attribute names and value types, fixed header members included.
  await link.do("getlink", { ifname: "lo", ifiIndex: 1 });
  // @ts-expect-error: misspelt attribute
  await link.do("getlink", { ifnam: "lo" });
  // @ts-expect-error: mtu is a u32
  await link.do("setlink", { ifiIndex: 1, mtu: "1500" });
  // @ts-expect-error: ifi-index is an s32 member of ifinfomsg
  await link.do("setlink", { ifiIndex: 1n });
  await tool.do("features-set", { header: { devName: "eth0" }, wanted: { nomask: true } });
  // @ts-expect-error: a flag is a boolean
  await tool.do("features-set", { header: { devName: "eth0" }, wanted: { nomask: 1 } });
  // @ts-expect-error: no such member of the ethtool header nest
  await tool.do("linkinfo-get", { header: { devName: "eth0", nope: 1 } });
  // @ts-expect-error: netdev's ifindex is a u32: a number, not a bigint
  await dev.do("dev-get", { ifindex: 1n });
  // 64-bit values accept bigints and numbers.
  await route.dump("getroute", { rtmFamily: 2, table: 254 });

  // Enums: the kernel's names, or numbers.
  await route.dump("getroute", { rtmType: "unicast" });
  await route.dump("getroute", { rtmType: 1 });
  // @ts-expect-error: no such rtm-type
  await route.dump("getroute", { rtmType: "unicst" });

  // Flag sets: a bit mask as decoded; as input also a flag's name, or a list of them.
  await neigh.do("newneigh", { ndmState: "permanent", ndmFlags: ["router", "proxy"] });
  await neigh.do("newneigh", { ndmState: 0x80 });
  // @ts-expect-error: no such nud-state flag
  await neigh.do("newneigh", { ndmState: "permanant" });
  // @ts-expect-error: no such ntf-flags flag in the list
  await neigh.do("newneigh", { ndmFlags: ["router", "proxi"] });
  const [entry] = await neigh.dump("getneigh");
  const state: number = entry.ndmState;
  // @ts-expect-error: decoded, it is the mask
  const stateName: string = entry.ndmState;

  // Nests and sub-messages.
  await link.do("newlink", { ifname: "br0", linkinfo: { kind: "bridge", data: { stpState: 1 } } });
  // @ts-expect-error: stp-state is a u32
  await link.do("newlink", { linkinfo: { kind: "bridge", data: { stpState: "on" } } });
  // @ts-expect-error: no such linkinfo attribute
  await link.do("newlink", { linkinfo: { knd: "bridge" } });

  // Replies.
  const routes: Route[] = await route.dump("getroute");
  const oif: number | undefined = routes[0].oif;
  const type: string | number = routes[0].rtmType;
  // @ts-expect-error: oif is a number
  const wrong: string | undefined = routes[0].oif;
  // @ts-expect-error: comparing with a name rtm-type does not have
  if (routes[0].rtmType === "unicst") return;
  const lo = await link.do("getlink", { ifname: "lo" });
  const bytes: bigint | undefined = lo.stats64?.rxBytes;
  // @ts-expect-error: 64-bit counters are bigints
  const small: number | undefined = lo.stats64?.rxBytes;
  // @ts-expect-error: dellink only acks
  const none: { ifname?: string } = await link.do("dellink", { ifname: "x" });

  // ethtool's stats counters: each group's one array of { id, value }, however many came.
  const stats = await tool.do("stats-get", { header: { devName: "eth0" } });
  const counter: { id: number; value: bigint } | undefined = stats.grp?.[0].stat?.[0];
  // @ts-expect-error: a counter's value is a u64: a bigint
  const counterValue: number | undefined = stats.grp?.[0].stat?.[0].value;
  // @ts-expect-error: the counters are one array, not an array per attribute
  const nested: { id: number }[][] | undefined = stats.grp?.[0].stat;

  // Display hints: addresses read as text, and are written from text or from the bytes.
  const [first] = await route.dump("getroute");
  const dst: string | undefined = first.dst;
  // @ts-expect-error: rt-route's dst reads as text (its display hint), not bytes
  const dstBytes: Uint8Array | undefined = first.dst;
  const mac: string | undefined = (await link.do("getlink", { ifname: "lo" })).address;
  await route.do("newroute", { rtmFamily: 2, rtmDstLen: 24, dst: "10.9.0.0", gateway: "10.0.0.1" });
  await route.do("newroute", { rtmFamily: 2, rtmDstLen: 24, dst: new Uint8Array([10, 9, 0, 0]) });
  // @ts-expect-error: an address is text or bytes, not a number (dst is binary)
  await route.do("newroute", { rtmFamily: 2, dst: 0x0a090000 });
  const fwmark: number | undefined = (await rule.dump("getrule"))[0].fwmark; // hex: a number

  // Multicast groups.
  link.monitor({ groups: ["rtnlgrp-link"] });
  // @ts-expect-error: no such group
  link.monitor({ groups: ["rtnlgrp-lnk"] });
  // ethtool's spec lists no groups: the kernel's names are looked up at run time.
  tool.monitor({ groups: ["monitor"] });
  for await (const event of link.monitor()) {
    // @ts-expect-error: no such operation to notify
    if (event.op === "newlinkntf") return;
  }

  // attrs: the names are the reply's, and the reply is typed with those only (and the header).
  const [picked] = await link.dump("getlink", {}, { attrs: ["ifname", "operstate"] });
  const pickedName: string | undefined = picked.ifname;
  const pickedIndex: number = picked.ifiIndex;
  // @ts-expect-error: mtu was not picked
  void picked.mtu;
  // @ts-expect-error: no such attribute
  await link.dump("getlink", {}, { attrs: ["ifnme"] });
  // @ts-expect-error: an attribute of another operation's set (getstats')
  await link.dump("getlink", {}, { attrs: ["link64"] });
  const one = await link.do("getlink", { ifname: "lo" }, { attrs: ["mtu"] });
  const oneMtu: number | undefined = one.mtu;
  // @ts-expect-error: ifname was not picked
  void one.ifname;
  // Without attrs, the whole reply (its type unchanged).
  const whole: DumpReply<typeof rtLink, "getlink"> = (await link.dump("getlink"))[0];
  for await (const streamed of link.dumpStream("getlink", {}, { attrs: ["address"] })) {
    const address: string | undefined = streamed.address;
    void address;
    // @ts-expect-error: txqlen was not picked
    void streamed.txqlen;
  }
  // A monitor takes the names of any operation's messages; each is typed with those it has.
  for await (const event of link.monitor({ attrs: ["ifname", "link64"] })) {
    if (event.op === "newlink-ntf") {
      const name: string | undefined = event.message.ifname;
      // @ts-expect-error: mtu was not picked
      void event.message.mtu;
      void name;
    }
  }
  // @ts-expect-error: no operation's message has it
  link.monitor({ attrs: ["ifnme"] });
  void [oif, type, wrong, bytes, small, none, state, stateName, counter, counterValue, nested];
  void [dst, dstBytes, mac, fwmark, pickedName, pickedIndex, oneMtu, whole];
}

test("descriptor types are checked at compile time (see typeChecks)", () => {
  assert.equal(typeof typeChecks, "function");
});
