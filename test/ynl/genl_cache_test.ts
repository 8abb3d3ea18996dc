// A generic family's id cached per socket, against a fake kernel whose module is reloaded under
// another id: requests under the stale id are answered ENOENT (as genl_rcv_msg answers an id no
// family has), the family is resolved anew, and the request is sent again only when the id
// changed.

import assert from "node:assert/strict";
import { test } from "node:test";
import { AttributeDecoder, AttributeEncoder } from "../../src/attribute.ts";
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_CMD_DELFAMILY,
  CTRL_CMD_NEWFAMILY,
  GENL_ID_CTRL,
  NETLINK_GENERIC,
} from "../../src/constants.ts";
import { NetlinkError } from "../../src/errors.ts";
import { decodeGeneric, encodeGeneric } from "../../src/genl.ts";
import type { Message } from "../../src/message.ts";
import { open } from "../../src/open.ts";
import { FakeKernel } from "../../src/testing/mod.ts";
import { family } from "../../src/ynl/mod.ts";
import { netdev } from "../../src/ynl/netdev.ts";
import { nlctrl } from "../../src/ynl/nlctrl.ts";

const ENOENT = 2;
const DEV_GET = 1;
const IFINDEX = 1;

/** A fake kernel with nlctrl and a "netdev" module that can be loaded under an id and unloaded. */
class Kernel extends FakeKernel {
  /** netdev's id now; 0 while unloaded. */
  netdevId = 0;
  /** How many CTRL_CMD_GETFAMILY requests nlctrl answered, by family name. */
  readonly lookups = new Map<string, number>();
  /** The ids dev-get requests were sent to, in order. */
  readonly requests: number[] = [];

  constructor() {
    super();
    this.serve(NETLINK_GENERIC, GENL_ID_CTRL, (request) => {
      let name = "";
      for (const a = new AttributeDecoder(decodeGeneric(request.payload).body); a.next();) {
        if (a.type === CTRL_ATTR_FAMILY_NAME) name = a.string();
      }
      this.lookups.set(name, (this.lookups.get(name) ?? 0) + 1);
      const id = name === "nlctrl" ? GENL_ID_CTRL : name === "netdev" ? this.netdevId : 0;
      if (id === 0) return { errno: ENOENT };
      return {
        messages: [{ type: GENL_ID_CTRL, payload: familyPayload(CTRL_CMD_NEWFAMILY, name, id) }],
      };
    });
  }

  /** Loads netdev under `id`, unloading it from where it was. */
  load(id: number): void {
    this.unload();
    this.netdevId = id;
    this.serve(NETLINK_GENERIC, id, (request) => {
      this.requests.push(request.type);
      const ifindex = new AttributeDecoder(decodeGeneric(request.payload).body);
      const wanted = ifindex.next() ? ifindex.u32() : 0;
      // The family's own ENOENT: no such device (a dump lists devices 1 and 2).
      if (wanted > 2) return { errno: ENOENT };
      const devices = wanted === 0 ? [1, 2] : [wanted];
      return {
        messages: devices.map((index) => ({
          type: id,
          payload: encodeGeneric(DEV_GET, 1, new AttributeEncoder().u32(IFINDEX, index).finish()),
        })),
      };
    });
  }

  unload(): void {
    if (this.netdevId !== 0) this.unserve(NETLINK_GENERIC, this.netdevId);
    this.netdevId = 0;
  }
}

function familyPayload(command: number, name: string, id: number): Uint8Array {
  const attrs = new AttributeEncoder().u16(CTRL_ATTR_FAMILY_ID, id).string(
    CTRL_ATTR_FAMILY_NAME,
    name,
  );
  return encodeGeneric(command, 2, attrs.finish());
}

async function setup(id = 0x20) {
  const kernel = new Kernel();
  kernel.load(id);
  const sock = await open(NETLINK_GENERIC, { transport: kernel.open });
  const nd = await family(netdev, { socket: sock });
  return { kernel, sock, nd };
}

test("fake kernel: a request to a generic family id nothing serves is answered ENOENT", async () => {
  const { kernel, sock } = await setup();
  kernel.unload();
  await assert.rejects(
    sock.request({ type: 0x20, payload: encodeGeneric(DEV_GET, 1) }),
    (err: unknown) => err instanceof NetlinkError && err.code === "ENOENT",
  );
  sock.close();
});

test("a module reloaded under a new id: do() resolves the family anew and sends again, once", async () => {
  const { kernel, sock, nd } = await setup(0x20);
  assert.deepEqual(await nd.do("dev-get", { ifindex: 1 }), { ifindex: 1 });
  kernel.load(0x21);
  assert.deepEqual(await nd.do("dev-get", { ifindex: 2 }), { ifindex: 2 });
  assert.equal(nd.generic!.id, 0x21);
  // Sent under the stale id (ENOENT: not run), then under the new one.
  assert.deepEqual(kernel.requests, [0x20, 0x21]);
  assert.equal(kernel.lookups.get("netdev"), 2);
  // The socket's cache holds the new id: another client on it asks nlctrl nothing.
  const again = await family(netdev, { socket: sock });
  assert.equal(again.generic!.id, 0x21);
  assert.equal(kernel.lookups.get("netdev"), 2);
  // The stale id went out once: the next request goes straight to the new one.
  await nd.do("dev-get", { ifindex: 1 });
  assert.deepEqual(kernel.requests, [0x20, 0x21, 0x21]);
  sock.close();
});

test("a family's own ENOENT (id unchanged) is thrown as it came and not sent again", async () => {
  const { kernel, sock, nd } = await setup();
  await assert.rejects(nd.do("dev-get", { ifindex: 9 }), (err: unknown) => {
    assert.ok(err instanceof NetlinkError);
    assert.equal(err.code, "ENOENT");
    assert.doesNotMatch(err.message, /registered/);
    return true;
  });
  assert.deepEqual(kernel.requests, [0x20]);
  assert.equal(kernel.lookups.get("netdev"), 2); // asked once more, found the same id
  assert.equal(nd.generic!.id, 0x20);
  sock.close();
});

test("a module unloaded: the ENOENT says the family is no longer registered", async () => {
  const { kernel, sock, nd } = await setup();
  kernel.unload();
  await assert.rejects(nd.do("dev-get", { ifindex: 1 }), (err: unknown) => {
    assert.ok(err instanceof NetlinkError);
    assert.equal(err.code, "ENOENT");
    assert.match(err.message, /"netdev" is no longer registered/);
    return true;
  });
  // Loaded again: the next request finds it under its new id.
  kernel.load(0x22);
  assert.deepEqual(await nd.do("dev-get", { ifindex: 1 }), { ifindex: 1 });
  assert.deepEqual(kernel.requests, [0x22]);
  sock.close();
});

test("dump() and dumpStream() after a reload: resolved anew and sent again", async () => {
  const { kernel, sock, nd } = await setup(0x20);
  kernel.load(0x21);
  assert.deepEqual(await nd.dump("dev-get"), [{ ifindex: 1 }, { ifindex: 2 }]);
  kernel.load(0x22);
  const streamed = [];
  for await (const dev of nd.dumpStream("dev-get")) streamed.push(dev.ifindex);
  assert.deepEqual(streamed, [1, 2]);
  assert.deepEqual(kernel.requests, [0x21, 0x22]);
  assert.equal(nd.generic!.id, 0x22);
  sock.close();
});

test("nlctrl's CTRL_CMD_DELFAMILY seen on the socket: the cached id is forgotten", async () => {
  const { kernel, sock, nd } = await setup(0x20);
  const ctrl = await family(nlctrl, { socket: sock });
  kernel.load(0x23);
  const removal: Message = {
    type: GENL_ID_CTRL,
    flags: 0,
    seq: 0,
    portid: 0,
    payload: familyPayload(CTRL_CMD_DELFAMILY, "netdev", 0x20),
  };
  ctrl.decode(removal);
  const fresh = await family(netdev, { socket: sock });
  assert.equal(fresh.generic!.id, 0x23);
  assert.equal(kernel.lookups.get("netdev"), 2);
  assert.equal(nd.generic!.id, 0x20); // an existing client renews on its next request
  sock.close();
});
