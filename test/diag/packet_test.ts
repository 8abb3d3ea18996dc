// packet_diag against the real kernel: packet sockets a python3 process opens in a fresh
// namespace, listed by the library and by `ss -0` in that namespace.

import assert from "node:assert/strict";
import { test } from "node:test";
import { type PacketSocket, packetSockets } from "../../src/diag/mod.ts";
import { Netns } from "../host/_netns.ts";
import { field, holdSockets, ss } from "./_ss.ts";

const ETH_P_ALL = 3;

/** ss -0 -anHe's columns: netid state recv-q send-q proto:iface peer ino sk. */
function asSs(s: PacketSocket, ifname: (index: number) => string): string {
  const proto = s.protocol === ETH_P_ALL ? "*" : `[${s.protocol}]`;
  const iface = s.info!.index === 0 ? "*" : ifname(s.info!.index);
  return [
    s.type === "raw" ? "p_raw" : "p_dgr",
    "UNCONN",
    s.memory!.rmemAlloc,
    0,
    `${proto}:${iface}`,
    "*",
    `ino:${s.inode}`,
    `sk:${s.cookie.toString(16)}`,
  ].join(" ");
}

test("packet sockets match ss -0: type, protocol, interface, inode; fanout, rings, multicast, filter", async () => {
  using ns = new Netns();
  await using _ = await holdSockets(
    ns,
    `
import struct, ctypes
P = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3)); P.bind(("lo", 0))
P.setsockopt(263, 1, struct.pack("iHH8s", 1, 1, 0, b""))  # PACKET_ADD_MEMBERSHIP, PACKET_MR_PROMISC
P.setsockopt(263, 18, 42)  # PACKET_FANOUT: group 42, PACKET_FANOUT_HASH
ins = ctypes.create_string_buffer(struct.pack("HBBI", 6, 0, 0, 0xffffffff))  # ret #-1
P.setsockopt(socket.SOL_SOCKET, 26, struct.pack("HL", 1, ctypes.addressof(ins)))  # SO_ATTACH_FILTER
P2 = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x800))
P2.setsockopt(263, 5, struct.pack("IIII", 4096, 1, 2048, 2))  # PACKET_RX_RING: struct tpacket_req
`,
  );
  const ours = await packetSockets({ netns: ns.name });
  const names = new Map(
    ns.json<{ ifindex: number; ifname: string }[]>("link", "show").map((
      l,
    ) => [l.ifindex, l.ifname]),
  );
  const theirs = ss(ns, "-0", "-ane").map((l) =>
    [...l.slice(0, 6), `ino:${field(l, "ino")}`, `sk:${field(l, "sk")}`].join(" ")
  );
  assert.deepEqual(ours.map((s) => asSs(s, (i) => names.get(i)!)).sort(), theirs.sort());
  assert.equal(ours.length, 2);

  const raw = ours.find((s) => s.type === "raw")!;
  assert.equal(raw.protocol, ETH_P_ALL);
  assert.equal(raw.info!.index, 1);
  assert.equal(raw.fanout, 42, "group 42, mode 0 (hash)");
  assert.deepEqual(raw.filter, [{ code: 6, jt: 0, jf: 0, k: 0xffffffff }]);
  assert.equal(raw.multicast!.length, 1);
  assert.equal(raw.multicast![0].index, 1);
  assert.equal(raw.multicast![0].type, 1);
  assert.equal(raw.uid, 0);
  const cooked = ours.find((s) => s.type === "dgram")!;
  assert.equal(cooked.protocol, 0x800);
  assert.equal(cooked.info!.index, 0);
  assert.equal(raw.rxRing, undefined);
  assert.deepEqual(
    [
      cooked.rxRing!.blockSize,
      cooked.rxRing!.blockNr,
      cooked.rxRing!.frameSize,
      cooked.rxRing!.frameNr,
    ],
    [4096, 1, 2048, 2],
  );
  assert.equal(cooked.txRing, undefined);
});
