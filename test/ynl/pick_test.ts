// `attrs`: the typed layer's do(), dump(), dumpStream() and monitor() decoding only the
// attributes named. Against the host kernel in fresh namespaces (veths, an htb qdisc), and, for
// what the kernel cannot be made to send (an attribute of the wrong size, one no spec has), a
// stand-in socket answering with bytes laid out by hand.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { inspect } from "node:util";
import { type Attribute, AttributeEncoder } from "../../src/attribute.ts";
import { NLM_F_CREATE, NLM_F_EXCL, TC_H_ROOT } from "../../src/constants.ts";
import type { Message } from "../../src/message.ts";
import type { NetlinkSocket } from "../../src/socket.ts";
import { codecOf } from "../../src/ynl/_compile.ts";
import { messageDecoder } from "../../src/ynl/_decode.ts";
import { pickOf, PICKS_KEPT } from "../../src/ynl/_pick.ts";
import { family, NetlinkFamily, unknownAttributes } from "../../src/ynl/mod.ts";
import { nlctrl } from "../../src/ynl/nlctrl.ts";
import { rtLink } from "../../src/ynl/rt_link.ts";
import { tc } from "../../src/ynl/tc.ts";
import { Netns } from "../host/_netns.ts";

const HEADER = ["ifiFamily", "ifiType", "ifiIndex", "ifiFlags", "ifiChange"];

/** `picked` is `whole` with only `names` of its attributes: same values, nothing else. */
function assertPicked(
  pickedObject: object,
  wholeObject: object,
  names: readonly string[],
): void {
  const picked = pickedObject as Record<string, unknown>;
  const whole = wholeObject as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(picked), Object.prototype); // a plain object
  const present = names.filter((name) => whole[name] !== undefined);
  assert.deepEqual(
    Object.keys(picked).sort(),
    [...new Set([...HEADER, ...present])].sort(),
    `picked ${JSON.stringify(names)}`,
  );
  for (const key of Object.keys(picked)) assert.deepEqual(picked[key], whole[key], key);
  // Absent, not undefined properties; and data, not getters (console.log shows values).
  for (const key of Object.keys(whole)) {
    if (!present.includes(key) && !HEADER.includes(key)) assert.ok(!(key in picked), key);
  }
  assert.doesNotMatch(inspect(picked), /Getter|Setter/);
}

test("attrs: dump(), dumpStream() and do() decode only the attributes named (a nest whole)", async () => {
  using ns = new Netns(["link add va0 type veth peer name vb0", "link set va0 up"]);
  await using rt = await family(rtLink, { netns: ns.name });
  const whole = await rt.dump("getlink");
  assert.ok(whole.some((link) => link.afSpec !== undefined && link.stats64 !== undefined));
  // A header member may be named: it is there anyway.
  const names = ["ifname", "operstate", "linkinfo", "ifiIndex"] as const;
  const picked = await rt.dump("getlink", {}, { attrs: names });
  assert.equal(picked.length, whole.length);
  for (const link of picked) {
    const same = whole.find((w) => w.ifiIndex === link.ifiIndex)!;
    assertPicked(link, same, names);
  }
  // veth's linkinfo, a nest, decoded as without a pick.
  assert.equal(picked.find((link) => link.ifname === "va0")!.linkinfo!.kind, "veth");

  // In another order: the same decoder, the same result.
  const reordered = await rt.dump("getlink", {}, { attrs: ["linkinfo", "ifname", "operstate"] });
  assert.deepEqual(reordered, picked);

  const streamed = [];
  for await (const link of rt.dumpStream("getlink", {}, { attrs: ["mtu"] })) streamed.push(link);
  assert.equal(streamed.length, whole.length);
  for (const link of streamed) {
    assertPicked(link, whole.find((w) => w.ifiIndex === link.ifiIndex)!, ["mtu"]);
  }

  const va0 = await rt.do("getlink", { ifname: "va0" }, { attrs: ["mtu", "address"] });
  assertPicked(va0, whole.find((w) => w.ifname === "va0")!, ["mtu", "address"]);
  // No attribute at all: the fixed header only.
  const bare = await rt.do("getlink", { ifname: "va0" }, { attrs: [] });
  assert.deepEqual(Object.keys(bare).sort(), [...HEADER].sort());
  // An operation that only acks answers undefined, pick or not.
  assert.equal(await rt.do("setlink", { ifname: "va0", mtu: 1400 }, { attrs: ["mtu"] }), undefined);
  assert.equal((await rt.do("getlink", { ifname: "va0" }, { attrs: ["mtu"] })).mtu, 1400);
});

test("attrs: monitor() yields notifications with only the attributes named their sets have", async () => {
  using ns = new Netns(["link add va0 type veth peer name vb0"]);
  await using rt = await family(rtLink, { netns: ns.name });
  // link64 is stats-attrs' (getstats): a link-attrs notification has none of it.
  const names = ["ifname", "operstate", "mtu", "link64"] as const;
  const events = rt.monitor({ groups: ["rtnlgrp-link"], attrs: names });
  const first = events.next();
  ns.ip("link", "set", "va0", "mtu", "1350");
  ns.ip("link", "del", "va0");
  const seen: string[] = [];
  for (let next = first;; next = events.next()) {
    const { value } = await next;
    assert.ok(value);
    const message = value.message as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(message), Object.prototype);
    const extra = Object.keys(message).filter((key) => !HEADER.includes(key));
    assert.ok(extra.every((key) => ["ifname", "operstate", "mtu"].includes(key)), `${extra}`);
    assert.ok(message.ifname === "va0" || message.ifname === "vb0", inspect(message));
    assert.ok(!("afSpec" in message) && !("stats64" in message) && !("link64" in message));
    seen.push(`${value.op} ${message.ifname} ${message.mtu}`);
    if (value.op === "dellink" && message.ifname === "va0") break;
  }
  assert.ok(seen.includes("newlink-ntf va0 1350"), `${seen}`);
  await events.return();

  // Without attrs, as before: the whole message (a monitor's pick is its own).
  const all = rt.monitor({ groups: ["rtnlgrp-link"] });
  const next = all.next();
  ns.ip("link", "add", "vc0", "type", "veth", "peer", "name", "vd0");
  const { value } = await next;
  assert.ok((value!.message as object as { afSpec?: object }).afSpec !== undefined);
  await all.return();
});

test("attrs: a name that is no attribute is a TypeError naming the set and the closest name, before anything is sent", async () => {
  using ns = new Netns(["link add va0 type veth peer name vb0"]);
  await using rt = await family(rtLink, { netns: ns.name });
  const untyped = rt as unknown as {
    do(op: string, request: object, options: object): Promise<unknown>;
    dump(op: string, request: object, options: object): Promise<unknown>;
    dumpStream(op: string, request: object, options: object): AsyncIterable<unknown>;
    monitor(options: object): unknown;
  };
  const sent: unknown[] = [];
  const { request, dump } = rt.socket;
  rt.socket.request = (...args) => (sent.push(args), request.apply(rt.socket, args));
  rt.socket.dump = (...args) => (sent.push(args), dump.apply(rt.socket, args));
  const typo =
    /^TypeError: rt-link (getlink|dellink): attrs: "ifnme" is no attribute of link-attrs nor member of ifinfomsg \(did you mean "ifname"\?\)$/;
  await assert.rejects(untyped.dump("getlink", {}, { attrs: ["ifnme"] }), typo);
  await assert.rejects(untyped.do("getlink", { ifname: "va0" }, { attrs: ["ifnme"] }), typo);
  // A write with a pick that does not check is not sent: va0 is still there.
  await assert.rejects(untyped.do("dellink", { ifname: "va0" }, { attrs: ["ifnme"] }), typo);
  assert.equal(ns.json("link", "show", "va0").length, 1);
  assert.throws(() => untyped.dumpStream("getlink", {}, { attrs: ["ifnme"] }), typo);
  // The kernel's spelling points at ours.
  await assert.rejects(
    untyped.dump("getlink", {}, { attrs: ["af-spec"] }),
    /"af-spec" is no attribute of link-attrs nor member of ifinfomsg \(did you mean "afSpec"\?\)$/,
  );
  for (const attrs of ["ifname", [1], [null], {}]) {
    await assert.rejects(
      untyped.dump("getlink", {}, { attrs }),
      /^TypeError: rt-link getlink: attrs must be an array of attribute names \(such as "address"\), got /,
    );
  }
  // monitor() names every set its messages may have, and joins nothing.
  assert.throws(
    () => untyped.monitor({ groups: ["rtnlgrp-link"], attrs: ["ifnme"] }),
    /^TypeError: rt-link monitor\(\): attrs: "ifnme" is no attribute of link-attrs or stats-attrs nor member of ifinfomsg or if-stats-msg \(did you mean "ifname"\?\)$/,
  );
  assert.deepEqual(rt.socket.groups, []);
  assert.deepEqual(sent, []);
  assert.equal((await rt.dump("getlink", {}, { attrs: ["ifname"] })).length, 3);
  assert.equal(sent.length, 1);
});

test("attrs: a sub-message needs the attribute that selects its format (tc's options and kind)", async () => {
  using ns = new Netns(["link add va0 type veth peer name vb0"]);
  await using client = await family(tc, { netns: ns.name });
  const vb0 = ns.json<{ ifindex: number }[]>("link", "show", "vb0")[0].ifindex;
  await client.do("newqdisc", {
    ifindex: vb0,
    handle: 0x2_0000,
    parent: TC_H_ROOT,
    kind: "htb",
    options: { init: { version: 3, rate2quantum: 10, defcls: 0x20 }, directQlen: 500 },
  }, { flags: NLM_F_CREATE | NLM_F_EXCL });
  const untyped = client as unknown as {
    dump(op: string, request: object, options: object): Promise<unknown>;
  };
  await assert.rejects(
    untyped.dump("getqdisc", {}, { attrs: ["options"] }),
    /^TypeError: tc getqdisc: attrs: "options" is a sub-message whose format "kind" selects: add "kind"$/,
  );
  // stats2 holds one (app, tc_stats' xstats), selected by the qdisc's kind.
  await assert.rejects(
    untyped.dump("getqdisc", {}, { attrs: ["stats2"] }),
    /^TypeError: tc getqdisc: attrs: "stats2" holds a sub-message whose format "kind" selects: add "kind"$/,
  );
  const whole = (await client.dump("getqdisc")).find((q) => q.kind === "htb")!;
  const picked = (await client.dump("getqdisc", {}, { attrs: ["kind", "options", "stats2"] }))
    .find((q) => q.kind === "htb")!;
  assert.deepEqual(picked.options, whole.options);
  assert.equal((picked.options as { directQlen?: number }).directQlen, 500);
  assert.ok(picked.stats2 !== undefined);
  assert.ok(!("stats" in picked) && !("xstats" in picked));
  execFileSync("ip", ["netns", "exec", ns.name, "tc", "qdisc", "del", "dev", "vb0", "root"]);
});

// A stand-in socket answering every request with `payload`, as an RTM_NEWLINK.
function answering(payload: Uint8Array): NetlinkSocket {
  const reply: Message = { type: 16, flags: 0, seq: 0, portid: 0, payload };
  return { request: () => Promise.resolve([reply]) } as unknown as NetlinkSocket;
}

test("attrs: attributes no spec has are skipped; a picked one that does not fit the spec is kept", async () => {
  const header = new Uint8Array(16); // ifinfomsg
  const attributes = new AttributeEncoder()
    .string(3, "va0") // ifname
    .u32(4, 1500) // mtu
    .u16(13, 7) // txqlen (u32): the wrong size
    .u32(0x3ff0, 9) // no attribute of link-attrs
    .u32(4, 9000) // mtu again
    .finish();
  const payload = new Uint8Array([...header, ...attributes]);
  const rt = new NetlinkFamily(rtLink, answering(payload));
  const whole = await rt.do("getlink", { ifname: "va0" });
  const kept = (value: object) =>
    ((value as { [unknownAttributes]?: Attribute[] })[unknownAttributes] ?? []).map((a) => a.type);
  assert.deepEqual(kept(whole), [13, 0x3ff0, 4]);

  const picked = await rt.do("getlink", { ifname: "va0" }, { attrs: ["ifname", "mtu", "txqlen"] });
  assert.equal(picked.ifname, "va0");
  assert.equal(picked.mtu, 1500);
  assert.ok(!("txqlen" in picked));
  // The misfit and the repeat of what was picked are kept, the unknown type is not.
  assert.deepEqual(kept(picked), [13, 4]);
  const names = await rt.do("getlink", { ifname: "va0" }, { attrs: ["ifname"] });
  assert.deepEqual(Object.keys(names).filter((key) => !HEADER.includes(key)), ["ifname"]);
  assert.deepEqual(kept(names), []);
});

test("attrs: one decoder per distinct list, in any order, the last 32 kept", () => {
  const codec = codecOf(rtLink);
  const getlink = codec.operation("getlink");
  const decoderFor = (names: string[]) =>
    messageDecoder(codec, getlink, pickOf(codec, "rt-link getlink", [getlink], names));
  const first = decoderFor(["ifname", "mtu"]);
  assert.equal(decoderFor(["mtu", "ifname", "mtu"]), first);
  assert.notEqual(decoderFor(["ifname"]), first);
  assert.notEqual(decoderFor([]), first);
  const names = [...codec.set("link-attrs").byKey.keys()];
  // PICKS_KEPT others, each new (none is ["ifname", "mtu"]): the oldest ones go.
  for (let i = 0; i < PICKS_KEPT; i++) decoderFor([names[i], "weight"]);
  assert.equal(codec.pickedDecoders.get(getlink)!.size, PICKS_KEPT);
  assert.ok(codec.set("link-attrs").picked!.size <= PICKS_KEPT);
  // Made again once dropped: the same result.
  const again = decoderFor(["ifname", "mtu"]);
  assert.notEqual(again, first);
  const payload = new Uint8Array([
    ...new Uint8Array(16),
    ...new AttributeEncoder().string(3, "lo").u32(4, 65536).u32(13, 1000).finish(),
  ]);
  assert.deepEqual(again(payload), first(payload));
  assert.deepEqual(Object.keys(again(payload)), [...HEADER, "ifname", "mtu"]);
});

test("attrs: a generic family's replies (nlctrl getfamily), past the genlmsghdr", async () => {
  await using ctrl = await family(nlctrl);
  const whole = await ctrl.do("getfamily", { familyName: "nlctrl" });
  const picked = await ctrl.do("getfamily", { familyName: "nlctrl" }, {
    attrs: ["familyId", "familyName"],
  });
  assert.deepEqual(picked, { familyId: whole.familyId, familyName: "nlctrl" });
  assert.ok(whole.ops !== undefined && !("ops" in picked));
  const dumped = await ctrl.dump("getfamily", {}, { attrs: ["familyName"] });
  assert.ok(dumped.some((f) => f.familyName === "nlctrl"));
  assert.ok(dumped.every((f) => Object.keys(f).join() === "familyName"));
});
