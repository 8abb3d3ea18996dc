// Bridge VLANs (`bridge vlan`): the requests vlan.add(), vlan.delete() and vlan.list() send, as
// iproute2's bridge/vlan.c sends them, and what list() makes of the kernel's AF_BRIDGE link
// messages, over a fake kernel (this host's kernel has no bridge VLAN filtering:
// test/guest/bridge_vlan_test.ts runs them on a real one, against `bridge -j vlan show`); and, on
// this host's kernel, list() and add() agreeing with `bridge` whatever the kernel supports.

import assert from "node:assert/strict";
import { test } from "node:test";
import { AttributeDecoder, AttributeEncoder } from "../../src/attribute.ts";
import {
  AF_BRIDGE,
  BRIDGE_FLAGS_MASTER,
  BRIDGE_FLAGS_SELF,
  BRIDGE_VLAN_INFO_PVID,
  BRIDGE_VLAN_INFO_RANGE_BEGIN,
  BRIDGE_VLAN_INFO_RANGE_END,
  BRIDGE_VLAN_INFO_UNTAGGED,
  IFLA_AF_SPEC,
  IFLA_BRIDGE_FLAGS,
  IFLA_BRIDGE_VLAN_INFO,
  IFLA_EXT_MASK,
  IFLA_IFNAME,
  IFLA_MASTER,
  NETLINK_ROUTE,
  NLM_F_DUMP,
  RTEXT_FILTER_BRVLAN,
  RTM_DELLINK,
  RTM_GETLINK,
  RTM_NEWLINK,
  RTM_SETLINK,
} from "../../src/constants.ts";
import { NetlinkError } from "../../src/errors.ts";
import type { Message } from "../../src/message.ts";
import { open } from "../../src/open.ts";
import { openRoute } from "../../src/route/mod.ts";
import { FakeKernel } from "../../src/testing/mod.ts";
import { Netns } from "../host/_netns.ts";
import { asBridgeRows, bridge, bridgeVlans } from "./_bridge.ts";

/** A request's AF_BRIDGE ifinfomsg and IFLA_AF_SPEC, read attribute by attribute. */
interface SeenRequest {
  type: number;
  family: number;
  index: number;
  bridgeFlags?: number;
  infos: [flags: number, vid: number][];
}

function seen(message: Message): SeenRequest {
  const view = new DataView(message.payload.buffer, message.payload.byteOffset);
  const out: SeenRequest = {
    type: message.type,
    family: message.payload[0],
    index: view.getInt32(4, true),
    infos: [],
  };
  const attrs = new AttributeDecoder(message.payload, 16);
  while (attrs.next()) {
    assert.equal(attrs.type, IFLA_AF_SPEC, "a vlan request carries IFLA_AF_SPEC alone");
    const spec = attrs.nestedDecoder();
    while (spec.next()) {
      if (spec.type === IFLA_BRIDGE_FLAGS) out.bridgeFlags = spec.u16();
      else if (spec.type === IFLA_BRIDGE_VLAN_INFO) {
        const info = spec.bytes();
        assert.equal(info.length, 4);
        out.infos.push([info[0] | info[1] << 8, info[2] | info[3] << 8]);
      } else assert.fail(`unexpected IFLA_AF_SPEC attribute ${spec.type}`);
    }
  }
  return out;
}

/**
 * An AF_BRIDGE RTM_NEWLINK as the kernel's br_fill_ifinfo() sends it, with its VLAN infos: the
 * bridge's own names the bridge its master too.
 */
function bridgeLink(
  index: number,
  name: string,
  master: number | undefined,
  infos: [flags: number, vid: number][],
) {
  const attrs = new AttributeEncoder().string(IFLA_IFNAME, name);
  if (master !== undefined) attrs.u32(IFLA_MASTER, master);
  attrs.nested(IFLA_AF_SPEC, (spec) => {
    for (const [flags, vid] of infos) {
      spec.bytes(IFLA_BRIDGE_VLAN_INFO, new Uint8Array([flags, flags >> 8, vid, vid >> 8]));
    }
  });
  const body = attrs.finish();
  const payload = new Uint8Array(16 + body.length);
  payload[0] = AF_BRIDGE;
  new DataView(payload.buffer).setInt32(4, index, true);
  payload.set(body, 16);
  return { type: RTM_NEWLINK, payload };
}

/** A plain RTM_NEWLINK (AF_UNSPEC) with a name: a link dump's or lookup's answer. */
function plainLink(index: number, name: string) {
  const body = new AttributeEncoder().string(IFLA_IFNAME, name).finish();
  const payload = new Uint8Array(16 + body.length);
  new DataView(payload.buffer).setInt32(4, index, true);
  payload.set(body, 16);
  return { type: RTM_NEWLINK, payload };
}

const LINKS: [number, string][] = [[1, "lo"], [5, "br0"], [6, "v0"], [7, "v1"]];

/**
 * A client over a fake kernel with links br0 (5), its ports v0 (6) and v1 (7): link lookups by
 * name, link dumps, the AF_BRIDGE dump answering `dump`, and every setlink/dellink recorded.
 */
async function fakeClient(dump: ReturnType<typeof bridgeLink>[] = []) {
  const requests: Message[] = [];
  const kernel = new FakeKernel()
    .serve(NETLINK_ROUTE, RTM_GETLINK, (message) => {
      requests.push(message);
      if (message.flags & NLM_F_DUMP) {
        if (message.payload[0] === AF_BRIDGE) return { messages: dump };
        return { messages: LINKS.map(([i, n]) => plainLink(i, n)) };
      }
      const attrs = new AttributeDecoder(message.payload, 16);
      let name = "";
      while (attrs.next()) if (attrs.type === IFLA_IFNAME) name = attrs.string();
      const link = LINKS.find(([, n]) => n === name);
      return link ? { messages: [plainLink(...link)] } : { errno: 19 };
    })
    .serve(NETLINK_ROUTE, RTM_SETLINK, (message) => void requests.push(message))
    .serve(NETLINK_ROUTE, RTM_DELLINK, (message) => void requests.push(message));
  const socket = await open(NETLINK_ROUTE, { transport: kernel.open });
  const client = await openRoute({ socket });
  const writes = () =>
    requests.filter((m) => m.type === RTM_SETLINK || m.type === RTM_DELLINK).map(seen);
  return { client, requests, writes, socket };
}

test("vlan.add() sends bridge vlan add's RTM_SETLINK: AF_BRIDGE, the port, IFLA_AF_SPEC { flags, vlan info }", async () => {
  const { client, writes, socket } = await fakeClient();
  await client.vlan.add({ dev: "v0", vid: 10, pvid: true, untagged: true });
  await client.vlan.add({ dev: "v0", vid: 20, vidEnd: 29 });
  await client.vlan.add({ dev: "br0", vid: 30, self: true });
  await client.vlan.add({ dev: 7, vid: 40, master: true, untagged: true });
  await client.vlan.add({ dev: "v1", vid: 50, vidEnd: 50 });
  assert.deepEqual(writes(), [
    // No IFLA_BRIDGE_FLAGS without self or master, as bridge sends it: the kernel means master.
    {
      type: RTM_SETLINK,
      family: AF_BRIDGE,
      index: 6,
      infos: [[BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED, 10]],
    },
    {
      type: RTM_SETLINK,
      family: AF_BRIDGE,
      index: 6,
      infos: [[BRIDGE_VLAN_INFO_RANGE_BEGIN, 20], [BRIDGE_VLAN_INFO_RANGE_END, 29]],
    },
    {
      type: RTM_SETLINK,
      family: AF_BRIDGE,
      index: 5,
      bridgeFlags: BRIDGE_FLAGS_SELF,
      infos: [[0, 30]],
    },
    {
      type: RTM_SETLINK,
      family: AF_BRIDGE,
      index: 7,
      bridgeFlags: BRIDGE_FLAGS_MASTER,
      infos: [[BRIDGE_VLAN_INFO_UNTAGGED, 40]],
    },
    // A range of one is one VLAN: the kernel refuses an end not above its beginning.
    { type: RTM_SETLINK, family: AF_BRIDGE, index: 7, infos: [[0, 50]] },
  ]);
  socket.close();
});

test("vlan.delete() sends RTM_DELLINK: given by dev and vid (a range), or as list() gave it (a port's from its bridge, the bridge's own with self)", async () => {
  const { client, writes, socket } = await fakeClient([
    bridgeLink(5, "br0", 5, [[BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED, 1]]),
    bridgeLink(6, "v0", 5, [[0, 10]]),
  ]);
  await client.vlan.delete({ dev: "v0", vid: 20, vidEnd: 29 });
  await client.vlan.delete({ dev: "br0", vid: 30, self: true });
  const [own, port] = await client.vlan.list();
  await client.vlan.delete(own);
  await client.vlan.delete(port);
  await client.vlan.delete(JSON.parse(JSON.stringify(port)));
  const kept = { type: RTM_DELLINK, family: AF_BRIDGE };
  assert.deepEqual(writes(), [
    {
      ...kept,
      index: 6,
      infos: [[BRIDGE_VLAN_INFO_RANGE_BEGIN, 20], [BRIDGE_VLAN_INFO_RANGE_END, 29]],
    },
    { ...kept, index: 5, bridgeFlags: BRIDGE_FLAGS_SELF, infos: [[0, 30]] },
    { ...kept, index: 5, bridgeFlags: BRIDGE_FLAGS_SELF, infos: [[0, 1]] },
    { ...kept, index: 6, bridgeFlags: BRIDGE_FLAGS_MASTER, infos: [[0, 10]] },
    { ...kept, index: 6, bridgeFlags: BRIDGE_FLAGS_MASTER, infos: [[0, 10]] },
  ]);
  socket.close();
});

test("vlan.list() sends bridge vlan show's dump and lists one object per VLAN, ranges expanded, filtered by dev and vid", async () => {
  const { client, requests, socket } = await fakeClient([
    bridgeLink(5, "br0", 5, [[BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED, 1]]),
    bridgeLink(6, "v0", 5, [
      [BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED, 10],
      // As RTEXT_FILTER_BRVLAN_COMPRESSED sends a range: listed VLAN by VLAN all the same.
      [BRIDGE_VLAN_INFO_RANGE_BEGIN, 20],
      [BRIDGE_VLAN_INFO_RANGE_END, 22],
    ]),
    bridgeLink(7, "v1", 5, []),
  ]);
  const all = await client.vlan.list();
  assert.deepEqual(
    all.map((v) => ({ ...v })),
    [
      { index: 5, dev: "br0", vid: 1, pvid: true, untagged: true },
      { index: 6, dev: "v0", vid: 10, pvid: true, untagged: true, masterIndex: 5, master: "br0" },
      ...[20, 21, 22].map((vid) => ({
        ...{ index: 6, dev: "v0", vid, pvid: false, untagged: false },
        ...{ masterIndex: 5, master: "br0" },
      })),
    ],
  );
  const dumps = requests.filter((m) => m.flags & NLM_F_DUMP && m.payload[0] === AF_BRIDGE);
  assert.equal(dumps.length, 1);
  // bridge vlan show's request: an AF_BRIDGE ifinfomsg, all else zero, and IFLA_EXT_MASK alone.
  const mask = new AttributeEncoder().u32(IFLA_EXT_MASK, RTEXT_FILTER_BRVLAN).finish();
  const want = new Uint8Array(16 + mask.length);
  want[0] = AF_BRIDGE;
  want.set(mask, 16);
  assert.deepEqual(dumps[0].payload, want);
  assert.deepEqual((await client.vlan.list({ dev: "v0" })).map((v) => v.vid), [10, 20, 21, 22]);
  assert.deepEqual((await client.vlan.list({ vid: 21 })).map((v) => v.dev), ["v0"]);
  assert.deepEqual(await client.vlan.list({ dev: "v1" }), []);
  socket.close();
});

test("vlan: bad input is a TypeError (a RangeError out of range) before any request", async () => {
  const { client, requests, socket } = await fakeClient();
  const bad: [() => Promise<unknown>, RegExp][] = [
    [() => client.vlan.add({ dev: "v0", vid: 0 }), /vid: 0 is not an integer from 1 to 4094/],
    [() => client.vlan.add({ dev: "v0", vid: 4095 }), /vid: 4095/],
    [() => client.vlan.add({ dev: "v0", vid: 1.5 }), /vid: 1.5/],
    [() => client.vlan.add({ dev: "v0", vid: "10" as never }), /vid: "10"/],
    [() => client.vlan.add({ dev: "v0", vid: 10, vidEnd: 4095 }), /vidEnd: 4095/],
    [() => client.vlan.add({ dev: "v0", vid: 20, vidEnd: 10 }), /vidEnd: 10 is below vid 20/],
    [() => client.vlan.delete({ dev: "v0", vid: 20, vidEnd: 10 }), /vidEnd: 10 is below vid 20/],
    [
      () => client.vlan.add({ dev: "v0", vid: 20, vidEnd: 29, pvid: true }),
      /one PVID, not a range/,
    ],
    [() => client.vlan.add({ dev: "v0", vid: 10, untagged: 1 as never }), /untagged must be/],
    [() => client.vlan.add({ dev: "v0", vid: 10, tagged: true } as never), /tagged/],
    [() => client.vlan.delete({ dev: "v0", vid: 10, pvid: true } as never), /pvid/],
    [() => client.vlan.add(null as never), /expected an object/],
    [() => client.vlan.list({ vid: 5000 }), /vid: 5000/],
    [() => client.vlan.list({ vlan: 10 } as never), /vlan/],
    [() => client.vlan.delete({ index: 6, vid: 0, pvid: false, untagged: false }), /vid: 0/],
  ];
  // An integer out of range is a RangeError naming the range, any other bad value a TypeError.
  for (const [call, message] of bad) {
    await assert.rejects(call, (err: unknown) => {
      const range = /: -?\d+ is not an integer from /.test(String(err));
      assert.equal((err as Error).name, range ? "RangeError" : "TypeError", String(err));
      assert.match((err as Error).message, message);
      return true;
    });
  }
  assert.deepEqual(requests, []);
  socket.close();
});

test("vlan.list() and vlan.add() on this host's kernel agree with bridge vlan show and bridge vlan add", async () => {
  using ns = new Netns([
    "link add br0 type bridge",
    "link add v0 type veth peer name v1",
    "link set v0 master br0",
  ]);
  let bridgeError: string | undefined;
  try {
    bridge(ns, "vlan", "add", "dev", "v0", "vid", "10", "pvid", "untagged");
  } catch (err) {
    bridgeError = String((err as { stderr?: string }).stderr);
  }
  await using ip = await openRoute({ netns: ns.name });
  const added = ip.vlan.add({ dev: "v0", vid: 20 });
  if (bridgeError === undefined) await added;
  else {
    // Without CONFIG_BRIDGE_VLAN_FILTERING (this host's kernel), bridge says "Operation not
    // supported": the same error, with what to do.
    assert.match(bridgeError, /Operation not supported/);
    await assert.rejects(added, (err) => {
      assert.ok(err instanceof NetlinkError);
      assert.equal(err.code, "EOPNOTSUPP");
      assert.match(err.message, /vlan add 20 dev v0: .*CONFIG_BRIDGE_VLAN_FILTERING/);
      return true;
    });
  }
  assert.deepEqual(asBridgeRows(await ip.vlan.list()), bridgeVlans(ns));
});
