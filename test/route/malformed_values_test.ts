// The everyday API's readers against a faulty source (a module, a fake): an attribute of the
// wrong size is a MalformedMessageError naming it, not a value made up ("", a bare TypeError),
// and a bridge's VLAN list is no bigger than VLAN ids go (1-4094).

import assert from "node:assert/strict";
import { test } from "node:test";
import { AttributeEncoder } from "../../src/attribute.ts";
import {
  AF_BRIDGE,
  BRIDGE_VLAN_INFO_RANGE_BEGIN,
  BRIDGE_VLAN_INFO_RANGE_END,
  IFA_ADDRESS,
  IFA_LOCAL,
  IFLA_AF_SPEC,
  IFLA_BRIDGE_VLAN_INFO,
  NETLINK_ROUTE,
  NHA_GATEWAY,
  NHA_ID,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETNEXTHOP,
  RTM_NEWADDR,
  RTM_NEWNEXTHOP,
} from "../../src/constants.ts";
import { MalformedMessageError } from "../../src/errors.ts";
import { open } from "../../src/open.ts";
import { decodeVlanMessage } from "../../src/route/bridge_vlan.ts";
import { openRoute } from "../../src/route/mod.ts";
import { FakeKernel } from "../../src/testing/mod.ts";

/** `header` then the attributes `attrs` writes. */
function payload(header: Uint8Array, attrs: (a: AttributeEncoder) => void): Uint8Array {
  const encoder = new AttributeEncoder();
  attrs(encoder);
  const body = encoder.finish();
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

test("addr.list(): an IFA_ADDRESS or IFA_LOCAL neither 4 nor 16 bytes long is a MalformedMessageError naming it, not address \"\"", async () => {
  for (const type of [IFA_ADDRESS, IFA_LOCAL]) {
    const ifaddrmsg = Uint8Array.of(2, 24, 0, 0, 1, 0, 0, 0); // AF_INET /24 on lo
    const message = payload(ifaddrmsg, (a) => a.bytes(type, Uint8Array.of(10, 0, 0)));
    const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_GETLINK, () => ({ messages: [] }))
      .serve(NETLINK_ROUTE, RTM_GETADDR, () => ({
        messages: [{ type: RTM_NEWADDR, payload: message }],
      }));
    await using socket = await open(NETLINK_ROUTE, { transport: kernel.open });
    const ip = await openRoute({ socket });
    const name = type === IFA_ADDRESS ? "IFA_ADDRESS" : "IFA_LOCAL";
    await assert.rejects(ip.addr.list(), (e: unknown) => {
      assert.ok(e instanceof MalformedMessageError, String(e));
      assert.match(e.message, new RegExp(`${name} is 3 bytes long, but an IP address is 4 or 16`));
      return true;
    });
  }
});

test("nexthop.list(): an NHA_GATEWAY neither 4 nor 16 bytes long is a MalformedMessageError naming it", async () => {
  const nhmsg = Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0);
  const message = payload(
    nhmsg,
    (a) => a.u32(NHA_ID, 7).bytes(NHA_GATEWAY, Uint8Array.of(1, 2, 3)),
  );
  const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_GETLINK, () => ({ messages: [] })).serve(
    NETLINK_ROUTE,
    RTM_GETNEXTHOP,
    () => ({
      messages: [{ type: RTM_NEWNEXTHOP, payload: message }],
    }),
  );
  await using socket = await open(NETLINK_ROUTE, { transport: kernel.open });
  const ip = await openRoute({ socket });
  await assert.rejects(ip.nexthop.list(), (e: unknown) => {
    assert.ok(e instanceof MalformedMessageError, String(e));
    assert.match(
      e.message,
      /NHA_GATEWAY is 3 bytes long, but an IP address is 4 or 16 \(at byte 16\)/,
    );
    return true;
  });
});

/** An AF_BRIDGE link message of port 3 whose IFLA_AF_SPEC holds `entries` ([flags, vid]). */
function vlanMessage(entries: [number, number][]): Uint8Array {
  const ifinfomsg = new Uint8Array(16);
  ifinfomsg[0] = AF_BRIDGE;
  ifinfomsg[4] = 3;
  return payload(ifinfomsg, (a) =>
    a.nested(IFLA_AF_SPEC, (spec) => {
      for (const [flags, vid] of entries) {
        spec.bytes(IFLA_BRIDGE_VLAN_INFO, Uint8Array.of(flags, flags >> 8, vid, vid >> 8));
      }
    }));
}

test("bridge VLANs: an id outside 1-4094, or not above the one before it, is a MalformedMessageError: a range expanded up to 65,535 entries, overlapping ones without end", () => {
  const [RANGE_BEGIN, RANGE_END] = [BRIDGE_VLAN_INFO_RANGE_BEGIN, BRIDGE_VLAN_INFO_RANGE_END];
  // What the kernel sends: ascending ids, ranges within 1-4094.
  assert.deepEqual(
    decodeVlanMessage(vlanMessage([[0, 1], [RANGE_BEGIN, 10], [RANGE_END, 12], [0, 4094]]))?.vlans
      .map((v) => v.vid),
    [1, 10, 11, 12, 4094],
  );
  for (
    const [entries, why] of [
      [[[RANGE_BEGIN, 1], [RANGE_END, 65535]], /VLAN 65535 is outside 1-4094/],
      [[[0, 0]], /VLAN 0 is outside 1-4094/],
      [
        [[RANGE_BEGIN, 1], [RANGE_END, 4094], [RANGE_BEGIN, 1]],
        /VLAN 1 is not above the one before it \(4094\)/,
      ],
      [[[RANGE_BEGIN, 20], [RANGE_END, 10]], /VLAN 10 is not above the one before it \(20\)/],
      [[[0, 5], [0, 5]], /VLAN 5 is not above/],
    ] as [[number, number][], RegExp][]
  ) {
    assert.throws(() => decodeVlanMessage(vlanMessage(entries)), (e: unknown) => {
      assert.ok(e instanceof MalformedMessageError, String(e));
      assert.match(e.message, /IFLA_BRIDGE_VLAN_INFO's VLAN/);
      assert.match(e.message, why);
      return true;
    }, JSON.stringify(entries));
  }
});
