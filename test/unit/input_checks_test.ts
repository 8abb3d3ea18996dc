// Small input checks: each a TypeError naming the argument, before any system call (they were
// `[]`, a RangeError about a length, an extra key taken, "empty datagram" for a detached buffer).

import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { encodeConnectorMessage } from "../../src/connector.ts";
import { NETLINK_ROUTE, RTM_GETLINK } from "../../src/constants.ts";
import { MessageCursor } from "../../src/cursor.ts";
import { compileFilter } from "../../src/diag/bytecode.ts";
import { decodeDatagram, encodeMessage } from "../../src/message.ts";
import { open } from "../../src/open.ts";
import { openRoute } from "../../src/route/mod.ts";
import { tap } from "../../src/tap.ts";
import { FakeKernel } from "../../src/testing/mod.ts";
import { family } from "../../src/ynl/mod.ts";
import { rtLink } from "../../src/ynl/rt_link.ts";
import { fakeSocket } from "./_fake.ts";

test("decodeDatagram: data that is no Uint8Array is a TypeError naming it, not []", () => {
  for (const data of ["x", [16, 0, 0, 0], new ArrayBuffer(16), undefined]) {
    assert.throws(
      () => decodeDatagram({ data, sender: 0, group: 0 } as never),
      (e) =>
        e instanceof TypeError
        && /^decodeDatagram\(\): datagram\.data must be a Uint8Array/.test(e.message),
      String(data),
    );
  }
  assert.deepEqual(decodeDatagram({ data: new Uint8Array(0), sender: 0, group: 0 }), []);
  const data = encodeMessage({
    type: 0x10,
    flags: 0,
    seq: 1,
    portid: 0,
    payload: new Uint8Array(),
  });
  assert.equal(decodeDatagram({ data, sender: 0, group: 0 }).length, 1);
});

test("MessageCursor.reset: data that is no Uint8Array is a TypeError, a bad length a RangeError", () => {
  const c = new MessageCursor();
  assert.throws(
    () => c.reset("x" as never),
    (e) =>
      e instanceof TypeError && /reset\(\): data must be a Uint8Array, got "x"/.test(e.message),
  );
  assert.throws(() => c.reset("x" as never, 0), TypeError);
  assert.throws(() => c.reset(new Uint8Array(4), 5), RangeError);
});

test("attachFilter: an instruction with a key it does not have is refused, naming it, before any call", async () => {
  const { sock, t } = await fakeSocket();
  const before = t.filter;
  assert.throws(
    () => sock.attachFilter([{ code: 0x06, jt: 0, jf: 0, k: 0, kk: 1 } as never]),
    (e) => e instanceof TypeError && /filter instruction 0: unknown option "kk"/.test(e.message),
  );
  assert.equal(t.filter, before, "nothing attached");
  sock.attachFilter([{ code: 0x06, jt: 0, jf: 0, k: 0xffff_ffff }]);
  sock.close();
});

test("send(): a message whose buffer is detached says so, not \"empty datagram\"", async () => {
  const { sock } = await fakeSocket();
  const data = encodeMessage({
    type: 0x10,
    flags: 0,
    seq: 1,
    portid: 0,
    payload: new Uint8Array(),
  });
  const buffer = data.buffer as ArrayBuffer;
  structuredClone(buffer, { transfer: [buffer] });
  assert.throws(() => sock.send(data), (e) => e instanceof TypeError && /detached/.test(e.message));
  assert.throws(
    () => sock.send(new Uint8Array(0)),
    (e) => e instanceof RangeError && /empty datagram/.test(e.message),
  );
  sock.close();
});

test("options that are an array, a Date, a Map, an AbortController or a class's instance are a TypeError naming the function, in the socket core, the typed layer and the route layer", async () => {
  // Each was taken: an array's or a Date's keys are no options, so the call ran with none (an
  // AbortController passed as a request's options was even obeyed, through its `signal`).
  const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_GETLINK, () => ({}));
  await using sock = await open(NETLINK_ROUTE, { transport: kernel.open });
  await using ip = await openRoute({ socket: sock });
  const message = { type: RTM_GETLINK, payload: new Uint8Array(16) };
  class Options {
    timeout = 5;
  }
  const calls: [string, (bad: never) => unknown][] = [
    ["open() options", (bad) => open(NETLINK_ROUTE, bad)],
    ["request options", (bad) => sock.request(message, bad)],
    ["dump() options", (bad) => sock.dump(message, bad)],
    ["messages() options", (bad) => sock.messages(bad)],
    ["batches() options", (bad) => sock.batches(bad)],
    ["datagrams() options", (bad) => sock.datagrams(bad)],
    ["cursor() options", (bad) => sock.cursor(bad)],
    ["listen() options", (bad) => sock.listen(() => {}, bad)],
    ["family() options", (bad) => family(rtLink, bad)],
    ["openRoute() options", (bad) => openRoute(bad)],
    ["link.set() changes", (bad) => ip.link.set("lo", bad)],
    ["link.set() data", (bad) => ip.link.set("lo", { data: bad })],
    ["link.add() spec", (bad) => ip.link.add(bad)],
    ["data", (bad) => ip.link.add({ name: "b0", kind: "bridge", data: bad })],
    ["link.list() filter", (bad) => ip.link.list(bad)],
    ["addr.add() options", (bad) => ip.addr.add("lo", "10.0.0.1/8", bad)],
    ["route.add() spec", (bad) => ip.route.add(bad)],
    ["monitor() options", (bad) => ip.monitor(["link"], bad)],
  ];
  const bads: [unknown, string][] = [
    [[], "an array"],
    [new Date(0), "a Date"],
    [new Map(), "a Map"],
    [new AbortController(), "an AbortController \\(pass \\{ signal: controller.signal \\}\\)"],
    [new Options(), "an Options"],
  ];
  for (const [name, call] of calls) {
    for (const [bad, kind] of bads) {
      const escaped = name.replace(/[()]/g, "\\$&");
      await assert.rejects(
        async () => await call(bad as never),
        new RegExp(`^TypeError: ${escaped} must be a plain object \\(\\{ ... \\}\\), got ${kind}$`),
        `${name}: ${kind}`,
      );
    }
  }
  // Objects without a class still do: one with no prototype, one inheriting from a plain one.
  assert.equal((await sock.request(message, Object.create(null))).length, 0);
  assert.equal((await sock.request(message, Object.create({ timeout: 1000 }))).length, 0);
});

test("null is no absence in the route layer's inputs: refused with one message everywhere, but for master, whose type has null", async () => {
  // Some optional fields took null as absent (a filter's kind, a route's table, an address's
  // label...) while link.set({ up: null }) was refused in its own words.
  const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_GETLINK, () => ({ errno: 19 }));
  await using sock = await open(NETLINK_ROUTE, { transport: kernel.open });
  await using ip = await openRoute({ socket: sock });
  const calls: [string, string, () => unknown][] = [
    ["link.set() changes", "up", () => ip.link.set("lo", { up: null as never })],
    ["link.set() changes", "mtu", () => ip.link.set("lo", { mtu: null as never })],
    [
      "link.add() spec",
      "txqlen",
      () => ip.link.add({ name: "v0", kind: "veth", txqlen: null as never }),
    ],
    [
      "link.add() peer",
      "name",
      () => ip.link.add({ name: "v0", kind: "veth", peer: { name: null as never } }),
    ],
    ["link.list() filter", "kind", () => ip.link.list({ kind: null as never })],
    [
      "addr.add() options",
      "label",
      () => ip.addr.add("lo", "10.0.0.1/8", { label: null as never }),
    ],
    ["addr.list() filter", "dev", () => ip.addr.list({ dev: null as never })],
    [
      "route.add() spec",
      "table",
      () => ip.route.add({ dst: "10.1.0.0/16", dev: "lo", table: null as never }),
    ],
    ["route.list() filter", "table", () => ip.route.list({ table: null as never })],
    ["neigh.list() filter", "dev", () => ip.neigh.list({ dev: null as never })],
    ["rule.add() spec", "priority", () => ip.rule.add({ table: 100, priority: null as never })],
    ["openRoute() options", "netns", () => openRoute({ netns: null as never })],
    ["open() options", "groups", () => open(NETLINK_ROUTE, { groups: null as never })],
    [
      "request options",
      "timeout",
      () => sock.request({ type: RTM_GETLINK }, { timeout: null as never }),
    ],
  ];
  for (const [name, field, call] of calls) {
    const escaped = name.replace(/[()]/g, "\\$&");
    await assert.rejects(
      async () => await call(),
      new RegExp(
        `^TypeError: ${escaped}: ${field} is null, which it does not take: leave it out \\(or undefined\\) for none$`,
      ),
      `${name} ${field}`,
    );
  }
  // master: null detaches (ip link set nomaster): taken, and the link looked up (ENODEV here).
  await assert.rejects(ip.link.set("eth9", { master: null }), { code: "ENODEV" });
});

test("prototype pollution: an option, a message field or a struct member set on Object.prototype is a TypeError before anything is opened or sent, not taken as given", async () => {
  // Each was read through the prototype of objects that lack it: Object.prototype.capture made
  // every socket write its traffic to the polluter's target, `to` sent requests to another port,
  // `payload` filled a message sent without one, and ifiIndex chose which link a typed dellink
  // by name deleted.
  const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_GETLINK, () => ({}));
  await using sock = await open(NETLINK_ROUTE, { transport: kernel.open });
  await using rt = await family(rtLink, { transport: kernel.open });
  const polluted = Object.prototype as Record<string, unknown>;
  const message = { type: RTM_GETLINK, payload: new Uint8Array(16) };
  let captured = 0;
  const cases: [string, unknown, () => unknown, RegExp][] = [
    [
      "capture",
      () => captured++,
      () => open(NETLINK_ROUTE, { transport: kernel.open }),
      /^open\(\) options/,
    ],
    ["capture", () => captured++, () => open(NETLINK_ROUTE), /^open\(\) options/],
    ["to", 4242, () => sock.request(message), /^request options/],
    ["timeout", 1, () => sock.request(message, { signal: undefined }), /^request options/],
    ["signal", AbortSignal.abort(), () => sock.dump(message), /^dump\(\) options/],
    ["payload", new Uint8Array(16), () => sock.request({ type: RTM_GETLINK }), /^message/],
    ["ifiIndex", 7, () => rt.encode("dellink", { ifname: "x" }), /^struct ifinfomsg/],
    ["netns", "/proc/1/ns/net", () => openRoute({ transport: kernel.open } as never), /openRoute/],
  ];
  for (const [key, value, call, where] of cases) {
    polluted[key] = value;
    try {
      await assert.rejects(
        async () => await call(),
        (e) =>
          e instanceof TypeError && where.test(e.message)
          && e.message.includes(`Object.prototype.${key} is set (prototype pollution)`),
        key,
      );
    } finally {
      delete polluted[key];
    }
  }
  const polluting = (key: string, value: unknown, call: () => unknown) => {
    polluted[key] = value;
    try {
      return call();
    } finally {
      delete polluted[key];
    }
  };
  // A tap's callback, and a connector message's field, read as the caller's own.
  for (
    const [key, call] of [
      ["sent", () => tap(sock, { received: () => {} })],
      ["data", () => encodeConnectorMessage({ idx: 1, val: 1 })],
    ] as const
  ) {
    assert.throws(
      () => polluting(key, key === "data" ? new Uint8Array(8) : () => captured++, call),
      (e) => e instanceof TypeError && e.message.includes(`Object.prototype.${key} is set`),
      key,
    );
  }
  // A socket filter's port or mask: only its own keys count, as for its kind.
  for (const filter of [{ src: "10.0.0.0/8" }, { mark: 1 }] as const) {
    const bytes = polluting("port", 22, () => polluting("mask", 1, () => compileFilter(filter)));
    assert.deepEqual(bytes, compileFilter(filter), JSON.stringify(filter));
  }
  assert.equal(captured, 0, "nothing captured");
  // Unpolluted, the same calls run.
  assert.equal((await sock.request(message)).length, 0);
  assert.equal(rt.encode("dellink", { ifname: "x" }).payload?.[4], 0);
});

test("a netns that is a relative path (\"../../etc\", \"a/b\") or \".\" / \"..\" is a TypeError before any call: it opened from the current directory, where `ip -n` looks in /run/netns", async () => {
  let opened = 0;
  const kernel = new FakeKernel();
  const transport = (protocol: number, options: { portid: number }) => {
    opened++;
    return kernel.open(protocol, options);
  };
  for (const netns of ["../../etc", "a/b", "./blue", "blue/", ".", ".."]) {
    await assert.rejects(
      open(NETLINK_ROUTE, { transport, netns }),
      (e) => e instanceof TypeError && /^netns: /.test(e.message) && /name/.test(e.message),
      netns,
    );
    await assert.rejects(openRoute({ transport, netns }), TypeError, netns);
  }
  assert.equal(opened, 0);
});

test("a netns or capture path holding a lone surrogate is a TypeError before any call: encoded, it named another namespace or file (U+FFFD in its place)", async () => {
  const kernel = new FakeKernel();
  const dir = mkdtempSync(join(tmpdir(), "nltest-surrogate-"));
  try {
    for (
      const options of [
        { netns: "\udc00blue" },
        { netns: "/run/netns/\udc00blue" },
        { capture: `${dir}/\udc00.pcap` }, // not join(): Bun's makes U+FFFD of it
      ]
    ) {
      await assert.rejects(
        open(NETLINK_ROUTE, { transport: kernel.open, ...options }),
        (e) => e instanceof TypeError && /holds a lone surrogate/.test(e.message),
        JSON.stringify(options),
      );
      await assert.rejects(openRoute({ transport: kernel.open, ...options }), TypeError);
    }
    assert.deepEqual(readdirSync(dir), [], "no file made");
  } finally {
    rmSync(dir, { recursive: true });
  }
});
