// The everyday lists run their dump again when the kernel flags it interrupted (NLM_F_DUMP_INTR:
// what they list changed meanwhile), as libnl's cache refill does, and give up after ten; against
// a fake kernel, which flags the first dumps as told.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  NETLINK_ROUTE,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETQDISC,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWQDISC,
} from "../../src/constants.ts";
import { DumpInterruptedError } from "../../src/errors.ts";
import { open } from "../../src/open.ts";
import { openRoute, TrafficControl } from "../../src/route/mod.ts";
import { FakeKernel } from "../../src/testing/mod.ts";
import { NetlinkFamily } from "../../src/ynl/family.ts";
import { rtAddr } from "../../src/ynl/rt_addr.ts";
import { rtLink } from "../../src/ynl/rt_link.ts";
import { tc as tcDescriptor } from "../../src/ynl/tc.ts";

/** A client over a fake kernel whose link and address dumps are flagged interrupted `times` times. */
async function client(times: number) {
  const socket = await open(NETLINK_ROUTE, {
    transport: new FakeKernel()
      .serve(NETLINK_ROUTE, RTM_GETLINK, () => ({
        messages: [{ type: RTM_NEWLINK, payload: link.payload }],
        interrupted: dumps.link++ < times,
      }))
      .serve(NETLINK_ROUTE, RTM_GETADDR, () => ({
        messages: [{ type: RTM_NEWADDR, payload: addr.payload }],
        interrupted: dumps.addr++ < times,
      })).open,
  });
  const dumps = { link: 0, addr: 0 };
  const link = new NetlinkFamily(rtLink, socket).encode("newlink", {
    ifiIndex: 7,
    ifname: "eth0",
    ifiFlags: 0,
  });
  const addr = new NetlinkFamily(rtAddr, socket).encode("newaddr", {
    ifaFamily: 2,
    ifaPrefixlen: 24,
    ifaIndex: 7,
    address: Uint8Array.of(10, 0, 0, 1),
    local: Uint8Array.of(10, 0, 0, 1),
  });
  return { ip: await openRoute({ socket }), socket, dumps };
}

test("link.list() and addr.list() run an interrupted dump again, and give what the next one lists", async () => {
  const { ip, socket, dumps } = await client(2);
  await using _ = socket;
  assert.deepEqual((await ip.link.list()).map((l) => [l.index, l.name]), [[7, "eth0"]]);
  assert.deepEqual(
    (await ip.addr.list()).map((a) => `${a.dev} ${a.address}/${a.prefixLength}`),
    ["eth0 10.0.0.1/24"],
  );
  // Two interrupted link dumps, then link.list()'s; addr.list() refreshes the names: one more.
  assert.deepEqual(dumps, { link: 4, addr: 3 });
});

test("a list whose dump is interrupted ten times in a row rejects with DumpInterruptedError", async () => {
  const { ip, socket, dumps } = await client(Infinity);
  await using _ = socket;
  await assert.rejects(ip.link.list(), DumpInterruptedError);
  assert.equal(dumps.link, 10);
});

test("TrafficControl's lists run an interrupted dump again too, with the route client's limit", async () => {
  const dumps = { qdisc: 0 };
  let times = 2;
  const socket = await open(NETLINK_ROUTE, {
    transport: new FakeKernel()
      .serve(NETLINK_ROUTE, RTM_GETLINK, () => ({
        messages: [{ type: RTM_NEWLINK, payload: link.payload }],
      }))
      .serve(NETLINK_ROUTE, RTM_GETQDISC, () => ({
        messages: [{ type: RTM_NEWQDISC, payload: qdisc.payload }],
        interrupted: dumps.qdisc++ < times,
      })).open,
  });
  await using _ = socket;
  const link = new NetlinkFamily(rtLink, socket).encode("newlink", {
    ifiIndex: 7,
    ifname: "eth0",
    ifiFlags: 0,
  });
  const qdisc = new NetlinkFamily(tcDescriptor, socket).encode("newqdisc", {
    family: 0,
    ifindex: 7,
    handle: 0x10000,
    parent: 0xffff_ffff,
    info: 2,
    kind: "noqueue",
  });
  await using tc = await TrafficControl.open({ socket });
  assert.deepEqual((await tc.qdiscs()).map((q) => `${q.dev} ${q.kind} ${q.handle}`), [
    "eth0 noqueue 1:",
  ]);
  assert.equal(dumps.qdisc, 3);
  times = Infinity;
  dumps.qdisc = 0;
  await assert.rejects(tc.qdiscs(), DumpInterruptedError);
  assert.equal(dumps.qdisc, 10);
});
