// A generic family's id cached per socket, against a fake kernel whose module is reloaded under
// another id: requests under the stale id are answered ENOENT (as genl_rcv_msg answers an id no
// family has), the family is resolved anew, and the request is sent again only when the id
// changed. A monitor follows the reload through nlctrl's announcements, which the fake makes as
// genl_register_family() and genl_unregister_family() do (test/guest/family_reload_test.ts holds
// the same against the real kernel and module).

import assert from "node:assert/strict";
import { test } from "node:test";
import { AttributeDecoder, AttributeEncoder } from "../../src/attribute.ts";
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_MCAST_GROUPS,
  CTRL_ATTR_MCAST_GRP_ID,
  CTRL_ATTR_MCAST_GRP_NAME,
  CTRL_CMD_DELFAMILY,
  CTRL_CMD_DELMCAST_GRP,
  CTRL_CMD_NEWFAMILY,
  CTRL_CMD_NEWMCAST_GRP,
  GENL_ID_CTRL,
  NETLINK_GENERIC,
} from "../../src/constants.ts";
import { NetlinkError } from "../../src/errors.ts";
import { decodeGeneric, encodeGeneric } from "../../src/genl.ts";
import type { Message, ReceivedMessage } from "../../src/message.ts";
import { open } from "../../src/open.ts";
import { FakeKernel } from "../../src/testing/mod.ts";
import { lookupLimits } from "../../src/ynl/_resolved.ts";
import { family, type NetlinkFamily } from "../../src/ynl/mod.ts";
import { netdev } from "../../src/ynl/netdev.ts";
import { nlctrl } from "../../src/ynl/nlctrl.ts";

const ENOENT = 2;

/** Lets queued promise callbacks and the read loop run. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
const DEV_GET = 1;
const DEV_ADD_NTF = 2;
const IFINDEX = 1;

/** A fake kernel with nlctrl and a "netdev" module that can be loaded under an id and unloaded. */
class Kernel extends FakeKernel {
  /** netdev's id now; 0 while unloaded. */
  netdevId = 0;
  /** netdev's "mgmt" group now. */
  mgmtGroup = 0;
  /** How many CTRL_CMD_GETFAMILY requests nlctrl answered, by family name. */
  readonly lookups = new Map<string, number>();
  /** The ids dev-get requests were sent to, in order. */
  readonly requests: number[] = [];
  /** Runs as nlctrl is asked for a family, before it answers. */
  onLookup: (name: string) => void = () => {};
  /** nlctrl answers nothing (its answer lost, say). */
  silentLookups = false;

  constructor() {
    super();
    this.serve(NETLINK_GENERIC, GENL_ID_CTRL, (request) => {
      let name = "";
      for (const a = new AttributeDecoder(decodeGeneric(request.payload).body); a.next();) {
        if (a.type === CTRL_ATTR_FAMILY_NAME) name = a.string();
      }
      this.lookups.set(name, (this.lookups.get(name) ?? 0) + 1);
      this.onLookup(name);
      if (this.silentLookups) return { silent: true };
      const id = name === "nlctrl" ? GENL_ID_CTRL : name === "netdev" ? this.netdevId : 0;
      if (id === 0) return { errno: ENOENT };
      const groups = name === "netdev" ? this.#groups() : undefined;
      return {
        messages: [{
          type: GENL_ID_CTRL,
          payload: familyPayload(CTRL_CMD_NEWFAMILY, name, id, groups),
        }],
      };
    });
  }

  #groups(): Map<string, number> {
    return new Map([["mgmt", this.mgmtGroup]]);
  }

  /** nlctrl's announcement of `command` about netdev, on its "notify" group. */
  #announce(command: number): void {
    const payload = familyPayload(command, "netdev", this.netdevId, this.#groups());
    this.multicast(NETLINK_GENERIC, GENL_ID_CTRL, [{
      type: GENL_ID_CTRL,
      flags: 0,
      seq: 0,
      portid: 0,
      payload,
    }]);
  }

  /**
   * Loads netdev under `id` with its "mgmt" group numbered `group`, unloading it from where it
   * was; announced as genl_register_family() does: the family, then each group.
   */
  load(id: number, group = 20): void {
    this.unload();
    this.netdevId = id;
    this.mgmtGroup = group;
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
    this.#announce(CTRL_CMD_NEWFAMILY);
    this.#announce(CTRL_CMD_NEWMCAST_GRP);
  }

  /**
   * Unloads netdev as genl_unregister_family() does: every membership of its group dropped
   * (__netlink_clear_multicast_users), each group announced gone, then the family.
   */
  unload(): void {
    if (this.netdevId === 0) return;
    for (const socket of this.sockets) socket.groups.delete(this.mgmtGroup);
    this.#announce(CTRL_CMD_DELMCAST_GRP);
    this.#announce(CTRL_CMD_DELFAMILY);
    this.unserve(NETLINK_GENERIC, this.netdevId);
    this.netdevId = 0;
  }

  /** The module multicasts a dev-add-ntf for `ifindex` on "mgmt". */
  devAdded(ifindex: number): number {
    const attrs = new AttributeEncoder().u32(IFINDEX, ifindex).finish();
    const payload = encodeGeneric(DEV_ADD_NTF, 1, attrs);
    return this.multicast(NETLINK_GENERIC, this.mgmtGroup, [{
      type: this.netdevId,
      flags: 0,
      seq: 0,
      portid: 0,
      payload,
    }]);
  }
}

function familyPayload(
  command: number,
  name: string,
  id: number,
  groups?: ReadonlyMap<string, number>,
): Uint8Array {
  const attrs = new AttributeEncoder().u16(CTRL_ATTR_FAMILY_ID, id).string(
    CTRL_ATTR_FAMILY_NAME,
    name,
  );
  if (groups !== undefined) {
    attrs.nested(CTRL_ATTR_MCAST_GROUPS, (list) => {
      let i = 1;
      for (const [group, number] of groups) {
        list.nested(
          i++,
          (entry) =>
            entry.u32(CTRL_ATTR_MCAST_GRP_ID, number).string(CTRL_ATTR_MCAST_GRP_NAME, group),
        );
      }
    });
  }
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

/** Resolves once `condition()` holds, letting the sockets read (a macrotask at a time). */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let turn = 0; !condition(); turn++) {
    if (turn === 200) throw new Error(`${what}: not after 200 turns`);
    await new Promise((r) => setTimeout(r, 0));
  }
}

test("a monitor across its module's reload: the groups are left, joined again by name under the new numbers, and it goes on", async () => {
  const { kernel, sock, nd } = await setup(0x20);
  const events = nd.monitor({ groups: ["mgmt"] });
  assert.deepEqual(sock.groups, [GENL_ID_CTRL, 20]); // nlctrl's "notify", then netdev's "mgmt"
  kernel.devAdded(1);
  assert.deepEqual((await events.next()).value, { op: "dev-add-ntf", message: { ifindex: 1 } });
  const pending = events.next();
  kernel.unload();
  await until(() => !sock.groups.includes(20), "the dropped group left");
  assert.deepEqual(sock.groups, [GENL_ID_CTRL]);
  kernel.load(0x21, 22);
  await until(() => sock.groups.includes(22), "the new group joined");
  assert.equal(nd.generic!.id, 0x21);
  assert.equal(kernel.lookups.get("netdev"), 1, "the announcement said it all: nlctrl not asked");
  assert.equal(kernel.devAdded(2), 1);
  // No marker in between: the step waiting since before the reload gets the next notification.
  assert.deepEqual((await pending).value, { op: "dev-add-ntf", message: { ifindex: 2 } });
  // The socket's cache took the announced family: a new client asks nlctrl nothing.
  assert.equal((await family(netdev, { socket: sock })).generic!.id, 0x21);
  assert.equal(kernel.lookups.get("netdev"), 1);
  await events.return();
  assert.deepEqual(sock.groups, []);
  sock.close();
});

test("two monitors on one socket: whichever reads the announcement rejoins for both, counted once each", async () => {
  const { kernel, sock, nd } = await setup(0x20);
  const first = nd.monitor({ groups: ["mgmt"] });
  const second = nd.monitor({ groups: ["mgmt"] });
  const pending = first.next(); // only this one reads
  kernel.unload();
  kernel.load(0x21, 20); // the same number again, as the kernel's first free bit often is
  await until(() => nd.generic!.id === 0x21, "the new family taken");
  assert.deepEqual(sock.groups, [GENL_ID_CTRL, 20]);
  await first.return();
  await pending;
  assert.deepEqual(sock.groups, [GENL_ID_CTRL, 20], "the second monitor still holds both");
  kernel.devAdded(3);
  assert.deepEqual((await second.next()).value, { op: "dev-add-ntf", message: { ifindex: 3 } });
  await second.return();
  assert.deepEqual(sock.groups, []);
  sock.close();
});

test("a group joined by hand is left when nlctrl announces its family's removal: the kernel dropped it", async () => {
  const { kernel, sock, nd } = await setup(0x20);
  sock.join(20);
  const events = nd.monitor({ groups: ["mgmt"] }); // finds it joined: not its to leave
  const pending = events.next();
  kernel.unload();
  await until(() => !sock.groups.includes(20), "the dropped group left");
  kernel.load(0x21, 21);
  await until(() => sock.groups.includes(21), "the new group joined");
  kernel.devAdded(4);
  assert.deepEqual((await pending).value, { op: "dev-add-ntf", message: { ifindex: 4 } });
  await events.return();
  assert.deepEqual(sock.groups, [], "joined by the monitor this time: left with it");
  sock.close();
});

test("an announcement not from the kernel, or a reply, changes nothing", async () => {
  const { sock, nd } = await setup(0x20);
  const events = nd.monitor({ groups: ["mgmt"] });
  const removal = familyPayload(CTRL_CMD_DELFAMILY, "netdev", 0x20, new Map([["mgmt", 20]]));
  const message = { type: GENL_ID_CTRL, flags: 0, seq: 0, portid: 0, payload: removal };
  // From a peer's port (root may multicast on nlctrl's group), or a reply to a request.
  const fromPeer: ReceivedMessage = { ...message, sender: 4242, group: GENL_ID_CTRL };
  assert.equal(nd.decode(fromPeer), undefined);
  assert.equal(nd.decode({ ...message, portid: sock.portid, seq: 7 }), undefined);
  assert.deepEqual(sock.groups, [GENL_ID_CTRL, 20]);
  assert.equal((await family(netdev, { socket: sock })).generic!.id, 0x20);
  await events.return();
  sock.close();
});

test("a request out under the old id while a monitor reads the announcement is sent again under the new one", async () => {
  const { kernel, sock, nd } = await setup(0x20);
  const events = nd.monitor({ groups: ["mgmt"] });
  const pending = events.next();
  kernel.unload();
  kernel.load(0x21);
  // Encoded under 0x20; its ENOENT is seen once the monitor has read the announcements (the
  // order the guest showed): the family has 0x21 by then.
  const request = sock.request.bind(sock);
  sock.request = (...args) =>
    request(...args).catch(async (err) => {
      await until(() => nd.generic!.id === 0x21, "the announcement read");
      throw err;
    });
  assert.deepEqual(await nd.do("dev-get", { ifindex: 1 }), { ifindex: 1 });
  assert.deepEqual(kernel.requests, [0x21]);
  await events.return();
  await pending;
  sock.close();
});

test("an abort while do() resolves a reloaded family anew rejects with the signal's reason, not the stale id's ENOENT", async () => {
  const { kernel, sock, nd } = await setup(0x20);
  kernel.load(0x21);
  const controller = new AbortController();
  const reason = new Error("stop");
  kernel.onLookup = () => controller.abort(reason);
  await assert.rejects(nd.do("dev-get", { ifindex: 1 }, { signal: controller.signal }), (err) => {
    assert.equal(err, reason);
    return true;
  });
  // The aborted lookup is not cached: the next request resolves the family and goes out.
  kernel.onLookup = () => {};
  assert.deepEqual(await nd.do("dev-get", { ifindex: 1 }), { ifindex: 1 });
  sock.close();
});

test("two clients renew one reloaded family at once: one's abort does not reject the other", async () => {
  const { kernel, sock, nd } = await setup(0x20);
  const other = await family(netdev, { socket: sock });
  kernel.load(0x21);
  const controller = new AbortController();
  const reason = new Error("only the first");
  kernel.onLookup = () => controller.abort(reason);
  const [first, second] = await Promise.allSettled([
    nd.do("dev-get", { ifindex: 1 }, { signal: controller.signal }),
    other.do("dev-get", { ifindex: 2 }),
  ]);
  assert.deepEqual(first, { status: "rejected", reason });
  assert.deepEqual(second, { status: "fulfilled", value: { ifindex: 2 } });
  sock.close();
});

test("do(), dump() and dumpStream() renewing a reloaded family: the timeout bounds the whole operation, lookup and second request included", async () => {
  const run = {
    do: (nd: NetlinkFamily<typeof netdev>) => nd.do("dev-get", { ifindex: 1 }, { timeout: 50 }),
    dump: (nd: NetlinkFamily<typeof netdev>) => nd.dump("dev-get", {}, { timeout: 50 }),
    dumpStream: async (nd: NetlinkFamily<typeof netdev>) => {
      for await (const _ of nd.dumpStream("dev-get", {}, { timeout: 50 }));
    },
  };
  for (const [name, operation] of Object.entries(run)) {
    const { kernel, sock, nd } = await setup(0x20);
    kernel.load(0x21);
    // nlctrl takes 80 ms to answer the lookup (synchronously: no timer can fire meanwhile).
    kernel.onLookup = () => {
      for (const until = performance.now() + 80; performance.now() < until;);
    };
    await assert.rejects(operation(nd), (err) => {
      assert.ok(err instanceof DOMException, `${name}: ${err}`);
      assert.equal(err.name, "TimeoutError");
      assert.equal(err.message, "netlink request timed out after 50 ms");
      return true;
    });
    assert.deepEqual(kernel.requests, [], `${name}: not sent again once the time was up`);
    sock.close();
  }
});

test("a monitor() aborted throws the reason from one step; every later step is done", async () => {
  // Each further next() rejected again with the reason (the socket's message stream did), where
  // the route monitor, an async generator, was done after its throw.
  const { sock, nd } = await setup(0x20);
  const controller = new AbortController();
  const reason = new Error("stop");
  const events = nd.monitor({ groups: ["mgmt"], signal: controller.signal });
  const first = events.next();
  controller.abort(reason);
  await assert.rejects(first, (err) => err === reason);
  assert.deepEqual(await events.next(), { value: undefined, done: true });
  assert.deepEqual(await events.next(), { value: undefined, done: true });
  sock.close();
});

test("a lookup nlctrl never answers: a caller's timeout ends its wait and, once no caller waits, the lookup; the next caller asks anew", async () => {
  // The lookup went on waiting for good, cached: every later renewal waited for it too, and
  // timed out, though nlctrl answered again.
  const { kernel, sock, nd } = await setup(0x20);
  kernel.load(0x21);
  kernel.silentLookups = true;
  await assert.rejects(nd.do("dev-get", { ifindex: 1 }, { timeout: 50 }), /timed out/);
  const controller = new AbortController();
  const aborted = nd.do("dev-get", { ifindex: 1 }, { signal: controller.signal });
  await settle();
  controller.abort(new Error("stop"));
  await assert.rejects(aborted, /stop/);
  assert.equal(kernel.lookups.get("netdev"), 3, "each asked anew"); // setup()'s, then these two
  kernel.silentLookups = false;
  assert.deepEqual(await nd.do("dev-get", { ifindex: 1 }, { timeout: 1_000 }), { ifindex: 1 });
  assert.deepEqual(kernel.requests, [0x21]);
  sock.close();
});

test("a lookup nlctrl never answers fails on its own timeout, saying so: family() does not hang", async () => {
  const kernel = new Kernel();
  kernel.load(0x20);
  kernel.silentLookups = true;
  const sock = await open(NETLINK_GENERIC, { transport: kernel.open });
  const { timeout } = lookupLimits;
  lookupLimits.timeout = 100;
  try {
    const hung = new Promise((_, reject) => setTimeout(() => reject(new Error("hung")), 3_000));
    await assert.rejects(Promise.race([family(netdev, { socket: sock }), hung]), (err) => {
      assert.ok(err instanceof DOMException, String(err));
      assert.equal(err.name, "TimeoutError");
      assert.match(
        err.message,
        /^nlctrl did not answer the lookup of generic netlink family "netdev" within 100 ms/,
      );
      return true;
    });
  } finally {
    lookupLimits.timeout = timeout;
    sock.close();
  }
});

test("a monitor()'s steps resolve in the order asked for, each with its own notification, with messages skipped in between", async () => {
  // A step settles only with a notification: what it skips (nlctrl's announcement of another
  // family, which is no notification of netdev's) it asks the socket again for, within the same
  // step, whether the next steps were asked for already or one at a time.
  const { kernel, sock, nd } = await setup(0x20);
  const other = () =>
    kernel.multicast(NETLINK_GENERIC, GENL_ID_CTRL, [{
      type: GENL_ID_CTRL,
      flags: 0,
      seq: 0,
      portid: 0,
      payload: familyPayload(CTRL_CMD_NEWFAMILY, "other", 0x30),
    }]);
  const events = nd.monitor({ groups: ["mgmt"] });
  const steps = [events.next(), events.next(), events.next()];
  const settled: number[] = [];
  steps.forEach((step, i) => void step.then(() => settled.push(i)));
  other();
  kernel.devAdded(1);
  other();
  other();
  kernel.devAdded(2);
  kernel.devAdded(3);
  const values = await Promise.all(steps);
  assert.deepEqual(values.map((r) => r.value?.message), [{ ifindex: 1 }, { ifindex: 2 }, {
    ifindex: 3,
  }]);
  assert.deepEqual(settled, [0, 1, 2]);
  const seen: unknown[] = [];
  for (let i = 4; i <= 6; i++) {
    other();
    kernel.devAdded(i);
  }
  for await (const event of events) {
    seen.push(event.message);
    if (seen.length === 3) break;
  }
  assert.deepEqual(seen, [{ ifindex: 4 }, { ifindex: 5 }, { ifindex: 6 }]);
  assert.deepEqual(sock.groups, []);
  sock.close();
});
