import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AttributeEncoder,
  IFLA_IFNAME,
  NETLINK_ROUTE,
  type OpenOptions,
  RTM_GETLINK,
  RTM_NEWLINK,
} from "../../mod.ts";
import { FakeKernel, type MessageSpec } from "../../src/testing/mod.ts";
import { family } from "../../src/ynl/mod.ts";
import { rtLink } from "../../src/ynl/rt_link.ts";

// The code under test: the names of all links.
async function linkNames(options: OpenOptions = {}): Promise<string[]> {
  await using rt = await family(rtLink, options);
  return (await rt.dump("getlink")).map((link) => link.ifname ?? "?");
}

/** An RTM_NEWLINK as the kernel sends it: a struct ifinfomsg, then IFLA_IFNAME. */
function link(index: number, name: string): MessageSpec {
  const attrs = new AttributeEncoder().string(IFLA_IFNAME, name).finish();
  const payload = new Uint8Array(16 + attrs.length);
  new DataView(payload.buffer).setInt32(4, index, true);
  payload.set(attrs, 16);
  return { type: RTM_NEWLINK, payload };
}

test("linkNames() lists the links of the dump", async () => {
  const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_GETLINK, () => ({
    messages: [link(1, "lo"), link(2, "eth0")],
  }));
  assert.deepEqual(await linkNames({ transport: kernel.open }), ["lo", "eth0"]);
});

test("linkNames() fails as the kernel does", async () => {
  const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_GETLINK, () => ({ errno: 1 }));
  await assert.rejects(linkNames({ transport: kernel.open }), { code: "EPERM" });
});
