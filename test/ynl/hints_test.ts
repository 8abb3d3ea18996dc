// Display hints (a spec's display-hint) as the kernel's ynl.py applies them: addresses and UUIDs
// read as text and are written from it (or from the number or bytes), one test per hint kind,
// through a descriptor written for the purpose and through the generated ones that have them.

import assert from "node:assert/strict";
import { test } from "node:test";
import { AttributeDecoder } from "../../src/attribute.ts";
import { formatIP, formatMAC } from "../../src/ip.ts";
import type { NetlinkSocket } from "../../src/socket.ts";
import { macText } from "../../src/ynl/_hints.ts";
import { type FamilyDescriptor, NetlinkFamily, unknownAttributes } from "../../src/ynl/mod.ts";
import { mptcpPm } from "../../src/ynl/mptcp_pm.ts";
import { rtRoute } from "../../src/ynl/rt_route.ts";

const hinted = {
  name: "hinted",
  protocol: "netlink-raw",
  protonum: 31,
  consts: {},
  enums: {},
  structs: {
    key: [
      ["src4", "u32", { bigEndian: true, hint: "ipv4" }],
      ["src6", "binary", { len: 16, hint: "ipv6" }],
      ["mac", "binary", { len: 6, hint: "mac" }],
      ["mask", "u32", { hint: "hex" }],
    ],
  },
  sets: {
    main: {
      be32: [1, "u32", { bigEndian: true, hint: "ipv4" }],
      ip: [2, "binary", { hint: "ipv4" }],
      ip6: [3, "binary", { hint: "ipv6", checks: { exactLen: 16 } }],
      either: [4, "binary", { hint: "ipv4-or-v6" }],
      mac: [5, "binary", { hint: "mac" }],
      uuid: [6, "binary", { hint: "uuid" }],
      hex: [7, "u32", { hint: "hex" }],
      hexBytes: [8, "binary", { hint: "hex" }],
      key: [9, "binary", { struct: "key" }],
      targets: [10, "indexed-array", { subType: "u32", bigEndian: true, hint: "ipv4" }],
      targets6: [11, "indexed-array", { subType: "binary", hint: "ipv6" }],
    },
  },
  subMessages: {},
  ops: { set: { set: "main", request: 16, do: { request: true } } },
  groups: {},
} as const satisfies FamilyDescriptor;

const codec = new NetlinkFamily(hinted, {} as NetlinkSocket);

function roundTrip(value: Record<string, unknown>): Record<string | symbol, unknown> {
  const message = codec.encode("set", value);
  return codec.decode({ ...message, flags: 0, seq: 0, portid: 0 } as never)!
    .message as unknown as Record<string | symbol, unknown>;
}

/** The value bytes of each attribute of an encoded "set" request, by type. */
function wire(value: Record<string, unknown>): Map<number, number[]> {
  const out = new Map<number, number[]>();
  const payload = codec.encode("set", value).payload!;
  for (const d = new AttributeDecoder(payload, 0); d.next();) out.set(d.type, [...d.bytes()]);
  return out;
}

test("ipv4 on a big-endian u32 reads and writes a dotted quad (the number still writes)", () => {
  assert.deepEqual(wire({ be32: "10.9.0.1" }).get(1), [10, 9, 0, 1]);
  assert.deepEqual(wire({ be32: 0x0a090001 }).get(1), [10, 9, 0, 1]);
  assert.equal(roundTrip({ be32: "10.9.0.1" }).be32, "10.9.0.1");
  assert.equal(roundTrip({ be32: 0xffffffff }).be32, "255.255.255.255");
  assert.throws(
    () => codec.encode("set", { be32: "10.9.0" }),
    (err: Error) => err instanceof TypeError && /^be32: "10\.9\.0" is not/.test(err.message),
  );
  assert.throws(() => codec.encode("set", { be32: "::1" }), /be32: "::1" is not an IPv4/);
});

test("ip hints on bytes read by length, as ynl.py does: 4 bytes dotted, 16 as ip prints", () => {
  // rt-route's dst says ipv4, and holds an IPv6 route's 16 bytes too.
  const v6 = "2001:db8::1:0:0:1";
  const decoded = roundTrip({ ip: "192.0.2.1", ip6: v6, either: "::ffff:192.0.2.1" });
  assert.equal(decoded.ip, "192.0.2.1");
  assert.equal(decoded.ip6, v6);
  assert.equal(decoded.either, "::ffff:192.0.2.1");
  assert.equal(roundTrip({ ip: "fe80::1" }).ip, "fe80::1");
  assert.deepEqual(wire({ ip: "192.0.2.1" }).get(2), [192, 0, 2, 1]);
  // Bytes are still taken, and decode as formatIP() formats them.
  const bytes = new Uint8Array([0x20, 1, 0xd, 0xb8, ...new Array(11).fill(0), 9]);
  assert.equal(roundTrip({ ip6: bytes }).ip6, formatIP(bytes));
  // A length no address has is kept as it came, not misread.
  const odd = roundTrip({ ip: new Uint8Array(5) });
  assert.equal(odd.ip, undefined);
  assert.equal((odd[unknownAttributes] as unknown[]).length, 1);
  // The spec's checks apply to the address's bytes.
  assert.throws(() => codec.encode("set", { ip6: "192.0.2.1" }), /exactly 16 bytes/);
  assert.throws(() => codec.encode("set", { ip: "192.0.2.256" }), /ip: "192\.0\.2\.256"/);
  assert.throws(() => codec.encode("set", { ip: 7 }), /ip: expected an IP address/);
});

test("mac reads as lowercase hex pairs and writes from them (or from bytes)", () => {
  assert.equal(roundTrip({ mac: "02:00:00:AB:cd:0a" }).mac, "02:00:00:ab:cd:0a");
  assert.deepEqual(wire({ mac: "020000abcd0a" }).get(5), [2, 0, 0, 0xab, 0xcd, 0x0a]);
  assert.equal(roundTrip({ mac: new Uint8Array([1, 2, 3, 4]) }).mac, "01:02:03:04");
  // Any length, as formatMAC() formats a link address: InfiniBand's is 20 bytes.
  const long = Uint8Array.from({ length: 20 }, (_, i) => i * 13);
  assert.equal(roundTrip({ mac: long }).mac, formatMAC(long));
  assert.equal(macText(long, 0, 20), formatMAC(long));
  assert.deepEqual(wire({ mac: formatMAC(long) }).get(5), [...long]);
  for (const bad of ["02:00:00:00:00:0g", "0200000", "", "02::00"]) {
    assert.throws(() => codec.encode("set", { mac: bad }), /mac: .* is not a MAC address/);
  }
});

test("uuid reads as its 8-4-4-4-12 text and writes from it, dashed or not", () => {
  const text = "123e4567-e89b-12d3-a456-426614174000";
  assert.equal(roundTrip({ uuid: text }).uuid, text);
  assert.equal(roundTrip({ uuid: text.replaceAll("-", "").toUpperCase() }).uuid, text);
  assert.deepEqual(wire({ uuid: text }).get(6)!.slice(0, 3), [0x12, 0x3e, 0x45]);
  assert.throws(() => codec.encode("set", { uuid: "123e4567" }), /uuid: .* is not a UUID/);
  assert.equal(roundTrip({ uuid: new Uint8Array(15) }).uuid, undefined); // kept as unknown
});

test("hex changes no value: a number stays a number, bytes stay bytes", () => {
  const decoded = roundTrip({ hex: 0x1f, hexBytes: new Uint8Array([0xab]) });
  assert.equal(decoded.hex, 0x1f);
  assert.deepEqual(decoded.hexBytes, new Uint8Array([0xab]));
});

test("hinted struct members and indexed-array elements read and write as text", () => {
  const key = { src4: "198.51.100.7", src6: "fe80::2", mac: "aa:bb:cc:dd:ee:ff", mask: 0xff };
  assert.deepEqual({ ...roundTrip({ key }).key as object }, key);
  assert.deepEqual({ ...roundTrip({ key: { src4: 0xc6336407 } }).key as object }, {
    src4: "198.51.100.7",
    src6: "::",
    mac: "00:00:00:00:00:00",
    mask: 0,
  });
  assert.throws(() => codec.encode("set", { key: { mac: "aa" + ":bb".repeat(6) } }), /at most 6/);
  assert.throws(() => codec.encode("set", { key: { src4: "x" } }), /key\.src4: "x" is not/);
  const decoded = roundTrip({ targets: ["10.0.0.1", 0x0a000002], targets6: ["2001:db8::5"] });
  assert.deepEqual(decoded.targets, ["10.0.0.1", "10.0.0.2"]);
  assert.deepEqual(decoded.targets6, ["2001:db8::5"]);
});

test("generated families: mptcp_pm's addr4 and rt-route's dst are text", () => {
  const mp = new NetlinkFamily(mptcpPm, {} as NetlinkSocket, {
    name: "mptcp_pm",
    id: 30,
    version: 1,
    headerSize: 0,
    maxAttribute: 10,
    groups: new Map(),
  });
  const request = mp.encode("add-addr", { addr: { family: 2, id: 7, addr4: "10.9.0.1" } });
  const back = mp.decode({ ...request, flags: 0, seq: 0, portid: 0 } as never)!.message as {
    addr?: { addr4?: string };
  };
  assert.equal(back.addr?.addr4, "10.9.0.1");
  assert.throws(
    () => mp.encode("add-addr", { addr: { family: 2, addr4: "10.9.0.300" } }),
    /addr\.addr4: "10\.9\.0\.300" is not an IPv4 or IPv6 address/,
  );
  const rt = new NetlinkFamily(rtRoute, {} as NetlinkSocket);
  const route = rt.encode("newroute", {
    rtmFamily: 10,
    rtmDstLen: 64,
    dst: "2001:db8::",
    gateway: "fe80::1",
  });
  const decoded = rt.decode({ ...route, flags: 0, seq: 0, portid: 0 } as never)!.message as {
    dst?: string;
    gateway?: string;
  };
  assert.equal(decoded.dst, "2001:db8::");
  assert.equal(decoded.gateway, "fe80::1");
});
