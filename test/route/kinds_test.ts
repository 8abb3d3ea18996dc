// Link kinds the test host's kernel lacks (vlan, bond, ipvlan, wireguard), through a fake
// transport: what link.add() sends, decoded with the rt-link codec, and what link.get() makes of
// such a link as the kernel would send it. (veth, bridge, vxlan and macvlan are tested live.)

import assert from "node:assert/strict";
import { test } from "node:test";
import { NETLINK_ROUTE, RTM_GETLINK, RTM_NEWLINK } from "../../src/constants.ts";
import type { Message } from "../../src/message.ts";
import { open } from "../../src/open.ts";
import { openRoute } from "../../src/route/mod.ts";
import { FakeKernel } from "../../src/testing/mod.ts";
import { NetlinkFamily } from "../../src/ynl/family.ts";
import { rtLink } from "../../src/ynl/rt_link.ts";

/** A client over a fake kernel that knows one link, eth0 (index 7) and acks every newlink. */
async function fakeClient(links: Record<string, unknown>[] = []) {
  const known = [{ ifiIndex: 7, ifname: "eth0", ifiFlags: 0 }, ...links];
  const created: Record<string, unknown>[] = [];
  const kernel = new FakeKernel()
    .serve(NETLINK_ROUTE, RTM_GETLINK, (message) => {
      const asked = decode(message) as { ifname?: string; ifiIndex?: number };
      const link = known.find((l) =>
        l.ifname === asked.ifname || (asked.ifiIndex && l.ifiIndex === asked.ifiIndex)
      );
      if (link === undefined) return { errno: 19 };
      return { messages: [{ type: RTM_NEWLINK, payload: codec.encode("newlink", link).payload! }] };
    })
    .serve(NETLINK_ROUTE, RTM_NEWLINK, (message) => {
      created.push(decode(message));
    });
  const socket = await open(NETLINK_ROUTE, { transport: kernel.open });
  const codec = new NetlinkFamily(rtLink, socket);
  // Requests decoded as the link messages they carry (getlink's number is not a reply's).
  const decode = (message: Message) =>
    codec.decode({ ...message, type: RTM_NEWLINK })!.message as unknown as Record<string, unknown>;
  const client = await openRoute({ socket });
  return { client, created, socket };
}

test("link.add() sends vlan, bond, ipvlan, macvlan modes by name and wireguard by kind", async () => {
  const { client, created, socket } = await fakeClient();
  await client.link.add({
    name: "eth0.10",
    kind: "vlan",
    link: "eth0",
    data: { id: 10, protocol: "8021ad" },
  });
  await client.link.add({
    name: "bond0",
    kind: "bond",
    data: { mode: "active-backup", miimon: 100 },
  });
  await client.link.add({ name: "ipv0", kind: "ipvlan", link: "eth0", data: { mode: "l3s" } });
  await client.link.add({ name: "mv0", kind: "macvlan", link: "eth0", data: { mode: "source" } });
  await client.link.add({ name: "wg0", kind: "wireguard" });
  const info = created.map((m) => [m.ifname, m.link, m.linkinfo]);
  assert.deepEqual(info, [
    ["eth0.10", 7, { kind: "vlan", data: { id: 10, protocol: "8021ad" } }],
    ["bond0", undefined, { kind: "bond", data: { mode: 1, miimon: 100 } }],
    ["ipv0", 7, { kind: "ipvlan", data: { mode: 2 } }],
    ["mv0", 7, { kind: "macvlan", data: { mode: 16 } }],
    ["wg0", undefined, { kind: "wireguard" }],
  ]);
  socket.close();
});

test("link.get() names those kinds' modes, as ip -d shows them", async () => {
  const { client, socket } = await fakeClient([
    { ifiIndex: 8, ifname: "bond0", ifiFlags: 0, linkinfo: { kind: "bond", data: { mode: 4 } } },
    {
      ifiIndex: 9,
      ifname: "ipv0",
      ifiFlags: 0,
      link: 7,
      linkinfo: { kind: "ipvlan", data: { mode: 1 } },
    },
    {
      ifiIndex: 10,
      ifname: "v10",
      ifiFlags: 0,
      link: 7,
      linkinfo: { kind: "vlan", data: { id: 10, protocol: "8021q" } },
      // What a vlan on an ethernet link has as ip -d -j shows it: link_type ether, linkmode
      // DORMANT, inet6_addr_gen_mode stable_secret (values the live tests do not reach).
      ifiType: 1,
      linkmode: 1,
      afSpec: { inet6: { addrGenMode: 2 } },
    },
    // A wireguard link: ARPHRD_NONE, ip's link/none; a type ip has no name for is [N].
    { ifiIndex: 12, ifname: "wg0", ifiFlags: 0, ifiType: 65534, linkinfo: { kind: "wireguard" } },
    { ifiIndex: 13, ifname: "odd0", ifiFlags: 0, ifiType: 9999, linkmode: 7 },
    {
      ifiIndex: 11,
      ifname: "br0",
      ifiFlags: 0,
      linkinfo: { kind: "bridge", data: { vlanProtocol: 0x88a8 } },
    },
  ]);
  // Each link's data typed by its kind, once the kind is compared.
  const bond = await client.link.get("bond0");
  assert.ok(bond.kind === "bond");
  assert.equal(bond.data!.mode, "802.3ad");
  const ipv = await client.link.get("ipv0");
  assert.ok(ipv.kind === "ipvlan");
  assert.equal(ipv.data!.mode, "l3");
  const vlan = await client.link.get("v10");
  assert.deepEqual(vlan.data, { id: 10, protocol: "8021q" });
  assert.deepEqual(
    [vlan.linkType, vlan.linkmode, vlan.addrGenMode],
    ["ether", "dormant", "stable_secret"],
  );
  assert.equal((await client.link.get("wg0")).linkType, "none");
  const odd = await client.link.get("odd0");
  assert.deepEqual([odd.linkType, odd.linkmode, odd.addrGenMode], [9999, 7, undefined]);
  // A bridge's VLAN protocol by the same names as a vlan's (it was a number).
  const br = await client.link.get("br0");
  assert.ok(br.kind === "bridge");
  assert.equal(br.data!.vlanProtocol, "8021ad");
  await assert.rejects(client.link.get("nope0"), /no link named "nope0"/);
  socket.close();
});

test("Link.data and portData are typed by kind and portKind: a vlan's id is a number, no cast", async () => {
  const { client, socket } = await fakeClient([
    {
      ifiIndex: 10,
      ifname: "v10",
      ifiFlags: 0,
      link: 7,
      linkinfo: { kind: "vlan", data: { id: 10, protocol: "8021q" } },
    },
    {
      ifiIndex: 12,
      ifname: "p0",
      ifiFlags: 0,
      linkinfo: { kind: "veth", slaveKind: "bridge", slaveData: { learning: 0, state: 3 } },
    },
    { ifiIndex: 13, ifname: "wg0", ifiFlags: 0, linkinfo: { kind: "wireguard" } },
  ]);
  const vlan = await client.link.get("v10");
  if (vlan.kind !== "vlan") throw new Error(`v10 is a ${vlan.kind}`);
  // Compile-time checks (deno check and the test's own type check): each line fails to compile
  // if data were still a Record<string, unknown>, or typed as another kind's.
  const id: number | undefined = vlan.data?.id;
  const protocol: "8021q" | "8021ad" | number | undefined = vlan.data?.protocol;
  // @ts-expect-error a vlan has no mode
  vlan.data?.mode;
  assert.equal(id, 10);
  assert.equal(protocol, "8021q");
  const port = await client.link.get("p0");
  if (port.portKind !== "bridge") throw new Error(`p0's master is a ${port.portKind}`);
  const learning: boolean | undefined = port.portData?.learning;
  const state:
    | "disabled"
    | "listening"
    | "learning"
    | "forwarding"
    | "blocking"
    | number
    | undefined = port.portData?.state;
  assert.equal(learning, false);
  assert.equal(state, "forwarding");
  // A kind the rt-link spec does not describe has no data, and is typed so.
  const wg = await client.link.get("wg0");
  if (wg.kind === "wireguard") {
    const none: undefined = wg.data;
    assert.equal(none, undefined);
  }
  // Unnarrowed, data is one of the kinds' (a field only some have is not readable).
  // @ts-expect-error not every kind has an id
  wg.data?.id;
  socket.close();
});

test("a physical NIC's fields the test host's links lack: permAddress, parentBus, parentDev", async () => {
  const { client, socket } = await fakeClient([
    {
      ifiIndex: 12,
      ifname: "enp0s3",
      ifiFlags: 0,
      address: Uint8Array.of(2, 0, 0, 0, 0, 0x12),
      permAddress: Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56),
      parentDevName: "0000:00:03.0",
      parentDevBusName: "pci",
      group: 3,
      protoDown: 0,
    },
  ]);
  const nic = await client.link.get("enp0s3");
  assert.equal(nic.address, "02:00:00:00:00:12");
  assert.equal(nic.permAddress, "52:54:00:12:34:56");
  assert.equal(nic.parentBus, "pci");
  assert.equal(nic.parentDev, "0000:00:03.0");
  assert.equal(nic.group, 3);
  assert.equal(nic.protoDown, false);
  // eth0 as this fake sends it: no such attributes, no such fields.
  const eth0 = await client.link.get("eth0");
  for (const field of ["permAddress", "parentBus", "parentDev", "group", "protoDown"]) {
    assert.equal(field in eth0, false, field);
  }
  socket.close();
});

test("NewLink.data and LinkSettings.data are typed by kind: a misspelt option is a compile error", async () => {
  const { client, created, socket } = await fakeClient();
  // Compile-time checks (deno check and the test's own type check): each @ts-expect-error line
  // fails to compile if data were still a Record<string, unknown> for a known kind. The same
  // values are refused at run time too, before any request.
  await client.link.add({ name: "v20", kind: "vlan", link: "eth0", data: { id: 20 } });
  await assert.rejects(
    // @ts-expect-error a vlan's id is a number
    client.link.add({ name: "v21", kind: "vlan", link: "eth0", data: { id: "21" } }),
    TypeError,
  );
  await assert.rejects(
    // @ts-expect-error a vlan has no mode
    client.link.add({ name: "v22", kind: "vlan", link: "eth0", data: { id: 22, mode: 1 } }),
    TypeError,
  );
  // A vxlan's link by name, as add() resolves it.
  await client.link.add({ name: "vx0", kind: "vxlan", data: { id: 1, link: "eth0" } });
  await assert.rejects(
    // @ts-expect-error not a bond mode
    client.link.set<"bond">("eth0", { data: { mode: "fast" } }),
    TypeError,
  );
  assert.deepEqual(created.map((l) => l.ifname), ["v20", "vx0"]);
  socket.close();
});
