// Generated YNL modules against families only the guest kernel has (the host kernel lacks them
// and cannot load modules): wireguard, fou, team, nl80211 (mac80211_hwsim radios), openvswitch.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { test } from "node:test";
import { type Attribute, AttributeDecoder } from "../../src/attribute.ts";
import { NETLINK_GENERIC } from "../../src/constants.ts";
import { resolveFamily } from "../../src/genl.ts";
import { open } from "../../src/open.ts";
import { fou } from "../../src/ynl/fou.ts";
import { family, unknownAttributes } from "../../src/ynl/mod.ts";
import { nl80211 } from "../../src/ynl/nl80211.ts";
import { ovsDatapath } from "../../src/ynl/ovs_datapath.ts";
import { ovsVport } from "../../src/ynl/ovs_vport.ts";
import { team } from "../../src/ynl/team.ts";
import { wireguard } from "../../src/ynl/wireguard.ts";
import { ip, Netns } from "../host/_netns.ts";

const modprobe = (...args: string[]) => execFileSync("modprobe", args, { stdio: "pipe" });

test("wireguard via modprobe: the generated module sets and reads a device's settings", async () => {
  modprobe("wireguard");
  using ns = new Netns();
  ns.ip("link", "add", "wg0", "type", "wireguard");
  await using wg = await family(wireguard, { netns: ns.name });
  await wg.do("set-device", { ifname: "wg0", listenPort: 51820 });
  const [device] = await wg.dump("get-device", { ifname: "wg0" });
  assert.equal(device.ifname, "wg0");
  assert.equal(device.listenPort, 51820);
});

test("fou: add, get and del a receive port, as `ip fou` sees it", async () => {
  modprobe("fou");
  using ns = new Netns();
  await using client = await family(fou, { netns: ns.name });
  await client.do("add", { port: 5555, ipproto: 4, af: 2, type: 1 }); // AF_INET, direct
  const ports = await client.dump("get");
  assert.deepEqual(ports.map((p) => [p.port, p.ipproto, p.af, p.type]), [[5555, 4, 2, 1]]);
  assert.match(ns.ip("fou", "show"), /port 5555 ipproto 4/);
  await client.do("del", { port: 5555, af: 2 });
  assert.deepEqual(await client.dump("get"), []);
  assert.equal(ns.ip("fou", "show").trim(), "");
});

/**
 * A team options-get reply's options, name to data. Its spec misses multi-attr on the option
 * list, so the first is decoded and the others are kept raw (never dropped): decoded by hand.
 */
function teamOptions(list: Record<string | symbol, unknown>): Map<string, Uint8Array> {
  const first = list.option as { name: string; data?: Uint8Array };
  const options = new Map<string, Uint8Array>([[first.name, first.data ?? new Uint8Array()]]);
  for (const kept of (list[unknownAttributes] ?? []) as Attribute[]) {
    let name = "", data: Uint8Array = new Uint8Array();
    for (const d = new AttributeDecoder(kept.value); d.next();) {
      if (d.type === 1) name = d.string();
      else if (d.type === 4) data = d.bytes();
    }
    options.set(name, data);
  }
  return options;
}

test("team: options read and set on a team device", async () => {
  modprobe("team");
  using ns = new Netns();
  ns.ip("link", "add", "t0", "type", "team");
  const [{ ifindex }] = ns.json<{ ifindex: number }[]>("link", "show", "t0");
  await using client = await family(team, { netns: ns.name });
  const before = await client.do("options-get", { teamIfindex: ifindex });
  assert.equal(before.teamIfindex, ifindex);
  const options = teamOptions(before.listOption as Record<string | symbol, unknown>);
  for (const name of ["mode", "notify_peers_count", "mcast_rejoin_interval"]) {
    assert.ok(options.has(name), `${name} in ${[...options.keys()]}`);
  }
  // The kernel multicasts every change and fails the request with ESRCH when nobody listens
  // (teamd always does): listen, as teamd would.
  await using listener = await open(NETLINK_GENERIC, { netns: ns.name });
  listener.join((await resolveFamily(listener, "team")).groups.get("change_event")!);
  const data = new TextEncoder().encode("activebackup\0");
  await client.do("options-set", {
    teamIfindex: ifindex,
    listOption: { option: { name: "mode", type: 5, /* NLA_STRING */ data } },
  });
  const after = await client.do("options-get", { teamIfindex: ifindex });
  const mode = teamOptions(after.listOption as Record<string | symbol, unknown>).get("mode");
  assert.equal(new TextDecoder().decode(mode).replace(/\0.*$/, ""), "activebackup");
});

test("nl80211: the mac80211_hwsim radios and their interfaces, as sysfs and ip see them", async () => {
  modprobe("mac80211_hwsim", "radios=2");
  try {
    await using client = await family(nl80211);
    // monitor() joins the groups this kernel has (the spec's "testmode" is not built here).
    const events = client.monitor({ signal: AbortSignal.timeout(200) });
    await assert.rejects(events.next(), (err: Error) => err.name === "TimeoutError");
    const wiphys = await client.dump("get-wiphy");
    assert.deepEqual(
      wiphys.map((w) => w.wiphyName).sort(),
      readdirSync("/sys/class/ieee80211").sort(),
    );
    const ifaces = await client.dump("get-interface");
    const links = JSON.parse(ip("-j", "link", "show")) as {
      ifname: string;
      ifindex: number;
    }[];
    assert.equal(ifaces.length, 2);
    for (const iface of ifaces) {
      assert.equal(links.find((l) => l.ifname === iface.ifname)?.ifindex, iface.ifindex);
      assert.equal(iface.iftype, 2); // NL80211_IFTYPE_STATION
      assert.ok(wiphys.some((w) => w.wiphy === iface.wiphy));
    }
  } finally {
    modprobe("-r", "mac80211_hwsim");
  }
});

test("openvswitch: a datapath and its internal vport, created and deleted", async () => {
  modprobe("openvswitch");
  using ns = new Netns();
  await using dp = await family(ovsDatapath, { netns: ns.name });
  // The kernel multicasts OVS_DP_CMD_NEW itself: a request-only command, decoded as "new".
  const events = dp.monitor({ signal: AbortSignal.timeout(10_000) });
  const firstEvent = events.next();
  await new Promise((r) => setTimeout(r, 50));
  await dp.do("new", { dpIfindex: 0, name: "dp0", upcallPid: 0 });
  const { value: event } = await firstEvent;
  assert.equal(event?.op, "new");
  assert.equal((event?.message as { name?: string }).name, "dp0");
  await events.return();
  const got = await dp.do("get", { dpIfindex: 0, name: "dp0" });
  const [link] = ns.json<{ ifindex: number }[]>("link", "show", "dp0");
  assert.equal(got.name, "dp0");
  assert.equal(got.dpIfindex, link.ifindex);
  assert.equal(got.stats?.nFlows, 0n);
  await using vp = await family(ovsVport, { netns: ns.name });
  const ports = await vp.dump("get", { dpIfindex: got.dpIfindex });
  assert.deepEqual(ports.map((p) => [p.portNo, p.type, p.name, p.ifindex]), [
    [0, "internal", "dp0", link.ifindex],
  ]);
  await dp.do("del", { dpIfindex: 0, name: "dp0" });
  assert.deepEqual(await dp.dump("get", { dpIfindex: 0 }), []);
});
