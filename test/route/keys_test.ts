// Spec, filter and options objects with a key the route layer does not know are refused, naming
// the closest key, before any request: a misspelt key would otherwise be dropped in silence and
// the call would do something else than asked (`link.set("lo", { mut: 1400 })` changing nothing,
// `route.list({ tabel: 100 })` listing table main).

import assert from "node:assert/strict";
import { test } from "node:test";
import { NETLINK_GENERIC, NETLINK_ROUTE } from "../../src/constants.ts";
import { SocketClosedError } from "../../src/errors.ts";
import { open } from "../../src/open.ts";
import { openRoute, RouteClient } from "../../src/route/mod.ts";
import { filterOptions, qdiscOptions, TrafficControl } from "../../src/route/tc.ts";
import { family } from "../../src/ynl/family.ts";
import { rtLink } from "../../src/ynl/rt_link.ts";
import { Netns } from "../host/_netns.ts";

/**
 * The TypeError checkOptions throws: where, the key, and the closest known one (null: none is
 * close, the message lists them all).
 */
function unknownKey(where: string, key: string, closest: string | null) {
  return (err: unknown) => {
    assert.ok(err instanceof TypeError, `expected a TypeError, got ${err}`);
    const [head, list] = err.message.split("; ");
    const hint = closest === null ? "" : ` (did you mean "${closest}"?)`;
    assert.equal(head, `${where}: unknown option "${key}"${hint}`);
    assert.match(list, /^the options are /);
    if (closest !== null) assert.ok(list.slice(16).split(", ").includes(closest), list);
    return true;
  };
}

/** Every public route-layer method given a misspelt key: [where, the call, key, closest]. */
function routeCalls(ip: RouteClient): [string, () => Promise<unknown>, string, string | null][] {
  const x = (value: object) => value as never;
  return [
    // A link filter has no name: none is close, all are listed.
    ["link.list() filter", () => ip.link.list(x({ nmae: "lo" })), "nmae", null],
    ["link.list() filter", () => ip.link.list(x({ mastr: "br0" })), "mastr", "master"],
    ["link.set() changes", () => ip.link.set("lo", x({ mut: 1400 })), "mut", "mtu"],
    [
      "link.add() spec",
      () => ip.link.add(x({ name: "veth0", kind: "veth", mut: 1400 })),
      "mut",
      "mtu",
    ],
    [
      "link.add() peer",
      () => ip.link.add(x({ name: "veth0", kind: "veth", peer: { nmae: "veth1" } })),
      "nmae",
      "name",
    ],
    ["addr.list() filter", () => ip.addr.list(x({ deev: "lo" })), "deev", "dev"],
    ["addr.flush() filter", () => ip.addr.flush(x({ deev: "lo" })), "deev", "dev"],
    [
      "addr.add() options",
      () => ip.addr.add("lo", "10.9.0.1/24", x({ lable: "lo:a" })),
      "lable",
      "label",
    ],
    [
      "addr.delete() options",
      () => ip.addr.delete("lo", "127.0.0.1/8", x({ per: "" })),
      "per",
      "peer",
    ],
    ["route.list() filter", () => ip.route.list(x({ tabel: 100 })), "tabel", "table"],
    ["route.get() lookup", () => ip.route.get("127.0.0.1", x({ frm: "127.0.0.1" })), "frm", "from"],
    [
      "route.add() spec",
      () => ip.route.add(x({ dst: "10.9.0.0/16", dev: "lo", tabel: 100 })),
      "tabel",
      "table",
    ],
    [
      "route.replace() spec",
      () => ip.route.replace(x({ dst: "10.9.0.0/16", dev: "lo", metirc: 5 })),
      "metirc",
      "metric",
    ],
    [
      "route.delete() spec",
      () => ip.route.delete(x({ dst: "127.0.0.0/8", tabel: "local" })),
      "tabel",
      "table",
    ],
    [
      "route.add() nexthops[1]",
      () =>
        ip.route.add(x({
          dst: "10.9.0.0/16",
          nexthops: [{ dev: "lo" }, { dev: "lo", wieght: 2 }],
        })),
      "wieght",
      "weight",
    ],
    ["neigh.list() filter", () => ip.neigh.list(x({ famly: "inet" })), "famly", "family"],
    [
      "neigh.add() entry",
      () => ip.neigh.add(x({ dev: "lo", address: "10.9.0.2", lladr: "02:00:00:00:00:02" })),
      "lladr",
      "lladdr",
    ],
    [
      "neigh.replace() entry",
      () => ip.neigh.replace(x({ dev: "lo", address: "10.9.0.2", stat: "reachable" })),
      "stat",
      "state",
    ],
    [
      "neigh.delete() entry",
      () => ip.neigh.delete(x({ dev: "lo", adress: "10.9.0.2" })),
      "adress",
      "address",
    ],
    ["fdb.list() filter", () => ip.fdb.list(x({ mastr: "br0" })), "mastr", "master"],
    [
      "fdb.add() entry",
      () => ip.fdb.add(x({ dev: "lo", mac: "02:00:00:00:00:02", flag: ["self"] })),
      "flag",
      "flags",
    ],
    [
      "fdb.append() entry",
      () => ip.fdb.append(x({ dev: "lo", mac: "02:00:00:00:00:02", dts: "192.0.2.1" })),
      "dts",
      "dst",
    ],
    [
      "fdb.replace() entry",
      () => ip.fdb.replace(x({ dev: "lo", mac: "02:00:00:00:00:02", stat: "static" })),
      "stat",
      "state",
    ],
    [
      "fdb.delete() entry",
      () => ip.fdb.delete(x({ dev: "lo", mac: "02:00:00:00:00:02", vlna: 1 })),
      "vlna",
      "vlan",
    ],
    ["rule.list() filter", () => ip.rule.list(x({ famly: "inet" })), "famly", "family"],
    [
      "rule.add() spec",
      () => ip.rule.add(x({ fwmark: 0x64, tabel: 100, priority: 100 })),
      "tabel",
      "table",
    ],
    ["rule.delete() spec", () => ip.rule.delete(x({ prority: 0 })), "prority", "priority"],
    ["nexthop.list() filter", () => ip.nexthop.list(x({ grups: true })), "grups", "groups"],
    [
      "nexthop.add() spec",
      () => ip.nexthop.add(x({ id: 1, blakhole: true })),
      "blakhole",
      "blackhole",
    ],
    [
      "nexthop.replace() spec",
      () => ip.nexthop.replace(x({ id: 1, dev: "lo", protcol: "static" })),
      "protcol",
      "protocol",
    ],
    [
      "nexthop.add() group[0]",
      () => ip.nexthop.add(x({ id: 10, group: [{ id: 1, wieght: 2 }] })),
      "wieght",
      "weight",
    ],
    [
      "monitor() options",
      () => Promise.resolve().then(() => ip.monitor(["link"], x({ singal: undefined }))),
      "singal",
      "signal",
    ],
  ];
}

test("every route-layer method refuses a misspelt key, naming the closest, before any request", async () => {
  // Over a closed socket: any request would fail with "closed", so the TypeError came first.
  const socket = await open(NETLINK_ROUTE);
  await using ip = await openRoute({ socket });
  socket.close();
  for (const [where, call, key, closest] of routeCalls(ip)) {
    await assert.rejects(call(), unknownKey(where, key, closest), where);
  }
});

test("a refused key changes nothing: link.set(lo, { mut }) leaves the MTU, route.add() adds nothing", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  const mtu = (await ip.link.get("lo")).mtu;
  const routes = ns.ip("route", "show", "table", "all");
  const rules = ns.ip("rule", "show");
  const neighbours = ns.ip("neigh", "show");
  const addresses = ns.ip("address", "show");
  const links = ns.ip("link", "show");
  for (const [where, call, key, closest] of routeCalls(ip)) {
    await assert.rejects(call(), unknownKey(where, key, closest), where);
  }
  assert.equal((await ip.link.get("lo")).mtu, mtu);
  assert.equal(ns.ip("route", "show", "table", "all"), routes);
  assert.equal(ns.ip("rule", "show"), rules);
  assert.equal(ns.ip("neigh", "show"), neighbours);
  assert.equal(ns.ip("address", "show"), addresses);
  assert.equal(ns.ip("link", "show"), links);
  assert.equal(ns.ip("nexthop", "show"), "");
  // The filters that were refused would have listed something else, not nothing.
  assert.equal((await ip.link.list({ kind: "veth" })).length, 0);
  assert.ok((await ip.link.list()).length > 0);
});

test("openRoute() refuses a misspelt option, and open() options next to `socket`", async () => {
  await assert.rejects(
    openRoute({ sokcet: undefined } as never),
    unknownKey("openRoute() options", "sokcet", "socket"),
  );
  await assert.rejects(
    openRoute({ recieveBufferSize: 1 << 20 } as never),
    unknownKey("openRoute() options", "recieveBufferSize", "receiveBufferSize"),
  );
  // `groups` is open()'s, not openRoute()'s: monitor() joins them.
  await assert.rejects(openRoute({ groups: [1] } as never), /unknown option "groups"/);
  await using socket = await open(NETLINK_ROUTE);
  await assert.rejects(
    openRoute({ socket, netns: "blue" }),
    /^TypeError: openRoute\(\) options: netns would be ignored with `socket`/,
  );
  await using ip = await openRoute({ socket });
  assert.equal(ip.socket, socket);
});

test("openRoute(), TrafficControl.open() and family() refuse a closed socket, one of another protocol, an unframed one, or something else, at once", async () => {
  // openRoute({ socket }) and family() of a classic family took a closed socket and failed only
  // at the first call; openRoute() took one of any protocol.
  const closed = await open(NETLINK_ROUTE);
  closed.close();
  await using generic = await open(NETLINK_GENERIC);
  // Its messages cannot be read: family(rtLink)'s monitor() joined a group before it threw.
  await using unframed = await open(NETLINK_ROUTE, { unframed: true });
  const openers: [string, (socket: never) => Promise<unknown>][] = [
    ["openRoute()", (socket) => openRoute({ socket })],
    ["TrafficControl.open()", (socket) => TrafficControl.open({ socket })],
    ["family()", (socket) => family(rtLink, { socket })],
  ];
  for (const [name, opener] of openers) {
    const caller = name.replace(/[().]/g, "\\$&");
    await assert.rejects(
      opener(closed as never),
      (e) =>
        e instanceof SocketClosedError
        && new RegExp(
          `^${caller} options: socket is closed: pass an open one, or leave socket out \\(${caller} then opens its own\\)$`,
        ).test(e.message),
      name,
    );
    const whose = name === "family()" ? "the rt-link family's" : "NETLINK_ROUTE";
    await assert.rejects(
      opener(generic as never),
      new RegExp(
        `^TypeError: ${caller} options: socket must be a socket of protocol 0 \\(${whose}\\), got one of NETLINK_GENERIC$`,
      ),
      name,
    );
    await assert.rejects(
      opener(unframed as never),
      new RegExp(
        `^TypeError: ${caller} options: socket must be a socket of protocol 0 \\(${whose}\\) that reads netlink messages, got one opened with unframed: true \\(its datagrams are read whole\\): open one without it$`,
      ),
      name,
    );
    for (const bad of [5, null, { protocol: 0 }]) {
      await assert.rejects(
        opener(bad as never),
        new RegExp(
          bad === null
            ? `^TypeError: ${caller} options: socket is null, which it does not take`
            : `^TypeError: ${caller} options: socket must be a socket of protocol 0 .* from open\\(\\), got `,
        ),
        `${name} ${JSON.stringify(bad)}`,
      );
    }
  }
  assert.throws(
    () => new RouteClient(closed),
    (e) =>
      e instanceof SocketClosedError
      && e.message === "a route client needs an open socket, this one is closed",
  );
  // It took one, whose requests then threw and whose monitor() joined a group first.
  assert.throws(
    () => new RouteClient(unframed),
    /^TypeError: a route client needs a socket that reads netlink messages, this one was opened with unframed: true \(its datagrams are read whole\): open one without it$/,
  );
});

test("TrafficControl refuses misspelt keys in every method's object, changing nothing", async () => {
  using ns = new Netns();
  await assert.rejects(
    TrafficControl.open({ netns: ns.name, clok: undefined } as never),
    unknownKey("TrafficControl.open() options", "clok", "clock"),
  );
  await using tc = await TrafficControl.open({ netns: ns.name });
  const x = (value: object) => value as never;
  const calls: [string, () => Promise<unknown>, string, string][] = [
    ["tc.qdiscs() query", () => tc.qdiscs(x({ deev: "lo" })), "deev", "dev"],
    [
      "tc.addQdisc() spec",
      () => tc.addQdisc(x({ dev: "lo", kind: "tbf", rtae: "1mbit", burst: "10kb" })),
      "rtae",
      "rate",
    ],
    [
      "tc.changeQdisc() spec",
      () => tc.changeQdisc(x({ dev: "lo", kind: "pfifo", limt: 10 })),
      "limt",
      "limit",
    ],
    [
      "tc.replaceQdisc() spec",
      () => tc.replaceQdisc(x({ dev: "lo", kind: "netem", dealy: "10ms" })),
      "dealy",
      "delay",
    ],
    [
      "tc.deleteQdisc() ref",
      () => tc.deleteQdisc(x({ dev: "lo", kidn: "clsact" })),
      "kidn",
      "kind",
    ],
    ["tc.classes() query", () => tc.classes(x({ dev: "lo", parnet: "1:" })), "parnet", "parent"],
    [
      "tc.addClass() spec",
      () =>
        tc.addClass(x({ dev: "lo", parent: "1:", classid: "1:10", kind: "htb", rate: 1, ciel: 2 })),
      "ciel",
      "ceil",
    ],
    [
      "tc.changeClass() spec",
      () =>
        tc.changeClass(
          x({ dev: "lo", parent: "1:", classid: "1:10", kind: "htb", rate: 1, pro: 1 }),
        ),
      "pro",
      "prio",
    ],
    [
      "tc.replaceClass() spec",
      () => tc.replaceClass(x({ dev: "lo", parent: "1:", clasid: "1:10", kind: "htb", rate: 1 })),
      "clasid",
      "classid",
    ],
    [
      "tc.deleteClass() ref",
      () => tc.deleteClass(x({ dev: "lo", clasid: "1:10" })),
      "clasid",
      "classid",
    ],
    ["tc.filters() query", () => tc.filters(x({ dev: "lo", parnet: "1:" })), "parnet", "parent"],
    [
      "tc.addFilter() spec",
      () => tc.addFilter(x({ dev: "lo", parent: "ingress", kind: "matchall", acitons: ["drop"] })),
      "acitons",
      "actions",
    ],
    [
      "tc.replaceFilter() spec",
      () => tc.replaceFilter(x({ dev: "lo", parent: "ingress", kind: "flower", dstPrt: 80 })),
      "dstPrt",
      "dstPort",
    ],
    [
      "tc.deleteFilter() ref",
      () => tc.deleteFilter(x({ dev: "lo", parent: "ingress", perf: 1 })),
      "perf",
      "pref",
    ],
  ];
  const before = ns.ip("link", "show");
  for (const [where, call, key, closest] of calls) {
    await assert.rejects(call(), unknownKey(where, key, closest), where);
  }
  // lo keeps its default qdisc: nothing was added, changed or replaced.
  assert.deepEqual((await tc.qdiscs({ dev: "lo" })).map((q) => q.kind), ["noqueue"]);
  assert.equal(ns.ip("link", "show"), before);
});

test("tc qdiscs and filters refuse a key of another kind, and filters misspelt keys in match, keys and actions, adding nothing", async () => {
  // Each was dropped in silence: `match: { dprot: 443 }` made a u32 filter that sends every
  // packet to 1:10, mirred's `dir: "ingress"` redirected to egress, and a matchall took `match`.
  using ns = new Netns([
    "link add va0 type veth peer name vb0",
    "link add vc0 type veth peer name vd0",
  ]);
  await using tc = await TrafficControl.open({ netns: ns.name });
  await tc.addQdisc({ dev: "va0", handle: "1:", kind: "htb" });
  const place = { dev: "va0", parent: "1:", protocol: "ip", pref: 10 };
  const x = (value: object) => value as never;
  const where = "tc.addFilter() spec";
  const calls: [string, object, string, string | null][] = [
    [`${where} match`, { kind: "u32", match: { dprot: 443 }, classid: "1:10" }, "dprot", "dport"],
    [`${where} keys[0]`, { kind: "u32", keys: [{ value: 1, mask: 1, of: 20 }] }, "of", "off"],
    [
      `${where} actions[0]`,
      {
        kind: "u32",
        match: { dport: 1 },
        actions: [{ kind: "mirred", action: "redirect", dev: "vc0", dir: "ingress" }],
      },
      "dir",
      null,
    ],
    [
      `${where} actions[1]`,
      { kind: "matchall", actions: ["pass", { kind: "gact", action: "drop" }] },
      "action",
      null,
    ],
    [where, { kind: "matchall", match: { dport: 443 }, classid: "1:10" }, "match", null],
    [where, { kind: "basic", skipSw: true, classid: "1:10" }, "skipSw", null],
    [where, { kind: "u32", dstPort: 443, classid: "1:10" }, "dstPort", null],
  ];
  for (const [name, spec, key, closest] of calls) {
    await assert.rejects(
      tc.addFilter(x({ ...place, ...spec })),
      unknownKey(name, key, closest),
      name,
    );
  }
  const bad: [object, RegExp][] = [
    [
      { kind: "u32", match: "dport 443" },
      /^TypeError: tc.addFilter\(\) spec match must be an object, got string$/,
    ],
    [
      { kind: "u32", keys: [{ value: 1, mask: 1 }] },
      /^TypeError: tc.addFilter\(\) spec keys\[0\].off is required$/,
    ],
    [
      { kind: "matchall", actions: "drop" },
      /^TypeError: tc.addFilter\(\) spec actions must be an array, got "drop"$/,
    ],
    [
      { kind: "matchall", actions: [null] },
      /^TypeError: tc.addFilter\(\) spec actions\[0\] must be a gact control .*, got null$/,
    ],
    [
      { kind: "matchall", actions: [{ kind: "police" }] },
      /^TypeError: .*actions\[0\] must be .*, got kind "police"$/,
    ],
  ];
  for (const [spec, error] of bad) {
    await assert.rejects(tc.addFilter(x({ ...place, ...spec })), error);
  }
  assert.deepEqual(await tc.filters({ dev: "va0", parent: "1:" }), []);
  // A qdisc kind takes its own parameters only: pfifo given rate, htb given limit.
  const qdiscs: [object, string, string | null][] = [
    [{ kind: "pfifo", limit: 10, rate: "1mbit" }, "rate", null],
    [{ kind: "htb", limit: 100 }, "limit", null],
    [{ kind: "fq_codel", latency: "5ms" }, "latency", null],
    [{ kind: "clsact", default: "10" }, "default", null],
  ];
  for (const [spec, key, closest] of qdiscs) {
    await assert.rejects(
      tc.addQdisc(x({ dev: "vc0", handle: "2:", ...spec })),
      unknownKey("tc.addQdisc() spec", key, closest),
      key,
    );
  }
  assert.deepEqual(await tc.qdiscs({ dev: "vc0" }), []);
  assert.throws(
    () => qdiscOptions(x({ kind: "pfifo", rate: "1mbit" })),
    unknownKey("qdiscOptions() spec", "rate", null),
  );
  // The pure encoder checks the same.
  assert.throws(
    () => filterOptions(x({ dev: 1, parent: "1:", kind: "u32", match: { dprot: 443 } })),
    unknownKey("filterOptions() spec match", "dprot", "dport"),
  );
});

test("tc.addQdisc() and tc.addFilter() check a spec's keys once, in their own words", async () => {
  // The methods check the keys, then encode: the pure encoders' own check (qdiscOptions(),
  // filterOptions()) is theirs alone. Counted by the key lists read, through a Proxy.
  using ns = new Netns(["link add va0 type veth peer name vb0"]);
  await using tc = await TrafficControl.open({ netns: ns.name });
  let listed = 0;
  const counted = <T extends object>(value: T): T =>
    new Proxy(value, {
      ownKeys: (target) => {
        listed++;
        return Reflect.ownKeys(target);
      },
    });
  await tc.addQdisc(counted({ dev: "va0", handle: "1:", kind: "htb" as const }));
  assert.equal(listed, 1, "the qdisc spec's keys");
  listed = 0;
  await tc.addFilter({
    dev: "va0",
    parent: "1:",
    protocol: "ip",
    pref: 10,
    kind: "u32",
    match: counted({ dport: 443 }),
    classid: "1:10",
  });
  assert.equal(listed, 1, "the filter's match keys");
  assert.ok((await tc.filters({ dev: "va0", parent: "1:" })).some((f) => f.kind === "u32"));
  // The pure encoders check the same, naming themselves.
  assert.throws(
    () => qdiscOptions(counted({ kind: "pfifo", rate: "1mbit" }) as never),
    unknownKey("qdiscOptions() spec", "rate", null),
  );
});

test("a client closes the socket it opened, never one passed in; a RouteClient needs NETLINK_ROUTE", async () => {
  const own = await openRoute();
  const ownTc = await TrafficControl.open();
  own.close();
  ownTc.close();
  assert.deepEqual([own.socket.closed, ownTc.socket.closed], [true, true]);
  await using socket = await open(NETLINK_ROUTE);
  {
    await using ip = await openRoute({ socket });
    await using tc = await TrafficControl.open({ socket });
    assert.equal(ip.socket, socket);
    assert.ok((await tc.qdiscs()).length >= 0);
  }
  assert.equal(socket.closed, false);
  // Still usable: a client over it works after the others closed.
  await using again = await openRoute({ socket });
  assert.equal((await again.link.get("lo")).index, 1);
  await using generic = await open(NETLINK_GENERIC);
  assert.throws(
    () => new RouteClient(generic),
    /^TypeError: a route client needs a NETLINK_ROUTE socket, not NETLINK_GENERIC$/,
  );
});
