// The generated tc family (netlink-raw over rtnetlink) against the host kernel in a fresh
// network namespace, compared with `tc -j qdisc show`: qdisc options are sub-messages selected by
// the qdisc's kind, and their statistics nests that a kind-selected sub-message sits in.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { NLM_F_CREATE, NLM_F_EXCL } from "../../src/constants.ts";
import { u32Selector } from "../../src/route/tc.ts";
import type { NetlinkSocket } from "../../src/socket.ts";
import { family, NetlinkFamily } from "../../src/ynl/mod.ts";
import { tc } from "../../src/ynl/tc.ts";
import { Netns } from "../host/_netns.ts";

const TC_H_ROOT = 0xffff_ffff;

interface TcQdisc {
  kind: string;
  handle: string;
  dev: string;
  options?: Record<string, unknown>;
}

test("tc: getqdisc dump equals `tc -j qdisc show`; newqdisc htb with its options", async () => {
  using ns = new Netns();
  ns.ip("link", "add", "va0", "type", "veth", "peer", "name", "vb0");
  ns.ip("link", "set", "va0", "up");
  const tcJson = (...args: string[]): TcQdisc[] =>
    JSON.parse(
      execFileSync("ip", ["netns", "exec", ns.name, "tc", "-j", ...args], { encoding: "utf8" }),
    );
  execFileSync("ip", ["netns", "exec", ns.name, "tc", "qdisc", "add", "dev", "va0", "ingress"]);
  await using client = await family(tc, { netns: ns.name });
  const vb0 = ns.json<{ ifindex: number }[]>("link", "show", "vb0")[0].ifindex;
  await client.do("newqdisc", {
    ifindex: vb0,
    handle: 0x2_0000, // 2:
    parent: TC_H_ROOT,
    kind: "htb",
    options: { init: { version: 3, rate2quantum: 10, defcls: 0x20 }, directQlen: 500 },
  }, { flags: NLM_F_CREATE | NLM_F_EXCL });

  const names = new Map(
    ns.json<{ ifindex: number; ifname: string }[]>("link", "show").map((
      l,
    ) => [l.ifindex, l.ifname]),
  );
  const handle = (h: number) =>
    `${(h >>> 16).toString(16)}:${h & 0xffff ? (h & 0xffff).toString(16) : ""}`;
  const qdiscs = await client.dump("getqdisc");
  assert.deepEqual(
    qdiscs.map((q) => [names.get(q.ifindex), q.kind, handle(q.handle)].join(" ")).sort(),
    tcJson("qdisc", "show").map((q) => [q.dev, q.kind, q.handle].join(" ")).sort(),
  );
  const htb = qdiscs.find((q) => q.kind === "htb")!;
  const options = htb.options as {
    init?: { defcls: number; rate2quantum: number };
    directQlen?: number;
  };
  const [want] = tcJson("qdisc", "show", "dev", "vb0");
  assert.equal(`0x${options.init!.defcls.toString(16)}`, want.options!.default);
  assert.equal(options.init!.rate2quantum, want.options!.r2q);
  assert.equal(options.directQlen, want.options!.direct_qlen);
  assert.equal(typeof htb.stats2?.basic?.bytes, "bigint");
  assert.deepEqual(qdiscs.find((q) => q.kind === "ingress")!.options, {}); // a format without content

  await client.do("delqdisc", { ifindex: vb0, handle: 0x2_0000, parent: TC_H_ROOT });
  assert.ok(!tcJson("qdisc", "show", "dev", "vb0").some((q) => q.kind === "htb"));
});

test("tc: an htb class's rates decode as the C struct lays them out (tc-ratespec's u16 members)", async () => {
  using ns = new Netns();
  ns.ip("link", "add", "va0", "type", "veth", "peer", "name", "vb0");
  const tcRun = (...args: string[]) =>
    execFileSync("ip", ["netns", "exec", ns.name, "tc", ...args], { encoding: "utf8" });
  tcRun("qdisc", "add", "dev", "va0", "root", "handle", "1:", "htb");
  tcRun(
    ...["class", "add", "dev", "va0", "parent", "1:", "classid", "1:10", "htb"],
    ...["rate", "1mbit", "ceil", "2mbit", "overhead", "300", "mpu", "64"],
  );
  await using client = await family(tc, { netns: ns.name });
  const va0 = ns.json<{ ifindex: number }[]>("link", "show", "va0")[0].ifindex;
  const classes = await client.dump("gettclass", { ifindex: va0 });
  const htb = classes.find((c) => c.handle === 0x1_0010)!;
  const { parms } = htb.options as {
    parms: {
      rate: { rate: number; overhead: number; mpu: number };
      ceil: { rate: number; overhead: number; mpu: number };
    };
  };
  // 1 and 2 Mbit/s in bytes per second; the spec's packed u8 layout read 300 as 44 and the
  // rate from the wrong offset.
  assert.deepEqual(
    [parms.rate.rate, parms.rate.overhead, parms.rate.mpu, parms.ceil.rate, parms.ceil.overhead],
    [125_000, 300, 64, 250_000, 300],
  );
});

test("tc: a bitfield32 whose value sets bits its selector leaves out is refused before sending, as the kernel refuses it", async () => {
  // validate_nla_bitfield32() answers EINVAL to value bits outside the selector: the request
  // went out and came back "Attribute failed policy validation, at dumpFlags".
  using ns = new Netns();
  await using client = await family(tc, { netns: ns.name });
  const TERSE = 1; // TCA_DUMP_FLAGS_TERSE, the attribute's one valid bit
  assert.ok(
    (await client.dump("getqdisc", { dumpFlags: { value: TERSE, selector: TERSE } })).length > 0,
  );
  assert.ok(
    (await client.dump("getqdisc", { dumpFlags: { value: 0, selector: TERSE } })).length > 0,
  );
  await assert.rejects(
    client.dump("getqdisc", { dumpFlags: { value: TERSE, selector: 0 } }),
    /^RangeError: dumpFlags: value sets bits the selector does not select \(0x1\), which the kernel refuses/,
  );
});

test("tc: a u32 filter's selector decodes as its bytes, every key in them, and encodes back as it came", async () => {
  // Typed as a struct tc_u32_sel, the selector's first key alone was decoded: a filter with two
  // keys read (and, built from what was read, wrote) one.
  using ns = new Netns(["link add va0 type veth peer name vb0"]);
  const tcRun = (...args: string[]) =>
    execFileSync("ip", ["netns", "exec", ns.name, "tc", ...args], { encoding: "utf8" });
  tcRun("qdisc", "add", "dev", "va0", "root", "handle", "1:", "htb");
  tcRun(
    ...["filter", "add", "dev", "va0", "parent", "1:", "pref", "10", "u32"],
    ...["match", "ip", "dst", "10.1.0.0/16", "match", "ip", "dport", "443", "0xffff"],
    ...["classid", "1:20"],
  );
  await using client = await family(tc, { netns: ns.name });
  const va0 = ns.json<{ ifindex: number }[]>("link", "show", "va0")[0].ifindex;
  const filters = await client.dump("gettfilter", { ifindex: va0, parent: 0x1_0000 });
  const [u32] = filters.filter((f) => (f.options as { sel?: unknown } | undefined)?.sel);
  const { sel } = u32.options as { sel: Uint8Array };
  assert.ok(sel instanceof Uint8Array);
  assert.deepEqual(u32Selector(sel), {
    flags: 1, // TC_U32_TERMINAL: it has a classid
    keys: [
      { value: 0x0a01_0000, mask: 0xffff_0000, off: 16 },
      { value: 443, mask: 0xffff, off: 20 },
    ],
  });
  const { payload } = client.encode("newtfilter", u32);
  const again = client.decode({ type: 44, flags: 0, seq: 0, portid: 0, payload: payload! })!;
  assert.deepEqual((again.message.options as { sel: Uint8Array }).sel, sel);
});

test("tc: pedit's parms decode as their bytes, every key in them (bytes laid out as tcf_pedit_dump puts them)", () => {
  // Typed as a struct tc_pedit_sel, the first of the keys that follow it alone was decoded.
  // The host's kernel has no act_pedit: the attribute as the kernel lays it out, one struct
  // tc_pedit_sel (tc_gen, nkeys, flags: 24 bytes) then nkeys struct tc_pedit_key (24 bytes each).
  const parms = new Uint8Array(24 + 2 * 24);
  const view = new DataView(parms.buffer);
  view.setUint32(0, 5, true); // index
  parms[20] = 2; // nkeys
  for (const [i, [mask, val, off]] of [[0xffffff00, 1, 0], [0xffffff00, 2, 4]].entries()) {
    view.setUint32(24 + i * 24, mask, true);
    view.setUint32(24 + i * 24 + 4, val, true);
    view.setInt32(24 + i * 24 + 8, off, true);
  }
  const client = new NetlinkFamily(tc, {} as NetlinkSocket);
  const request = {
    ifindex: 1,
    kind: "matchall",
    options: { act: [{ kind: "pedit", options: { parms } }] },
  };
  const { payload } = client.encode("newtfilter", request);
  const decoded = client.decode({ type: 44, flags: 0, seq: 0, portid: 0, payload: payload! })!;
  const options = decoded.message.options as { act: { options: { parms: unknown } }[] };
  assert.deepEqual(options.act[0].options.parms, parms);
});
