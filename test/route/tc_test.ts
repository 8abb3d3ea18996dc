// Traffic control against the host kernel in fresh namespaces: requests compared byte for byte
// with what iproute2's `tc` sends for the same arguments, every write read back with `tc -j`,
// and the values as tc parses and prints them.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { NETLINK_ROUTE, RTM_NEWQDISC, RTM_NEWTCLASS, RTM_NEWTFILTER } from "../../src/constants.ts";
import { open } from "../../src/open.ts";
import { protocolNumber } from "../../src/route/_tc_values.ts";
import { openRoute } from "../../src/route/client.ts";
import {
  calcRtable,
  calcXmitsize,
  calcXmittime,
  classOptions,
  type ClassSpec,
  filterOptions,
  type FilterSpec,
  formatHandle,
  formatRate,
  formatSize,
  formatTime,
  parseFilterParent,
  parseHandle,
  parseQdiscHandle,
  parseRate,
  parseSize,
  parseTime,
  qdiscOptions,
  type QdiscSpec,
  readPsched,
  type TcAction,
  type TcStats,
  TrafficControl,
} from "../../src/route/tc.ts";
import { tap } from "../../src/tap.ts";
import { FakeKernel } from "../../src/testing/mod.ts";
import { family } from "../../src/ynl/mod.ts";
import { tc as tcDescriptor } from "../../src/ynl/tc.ts";
import { runExample } from "../_examples.ts";
import { newDescriptors, openDescriptors } from "../_fds.ts";
import { bigintsIn } from "../_json.ts";
import { Netns } from "../host/_netns.ts";
import { tcJson, tcRequest, tcRun } from "./_tc.ts";

/**
 * The clock the host's `tc` computes with: iproute2 before 6.15 truncated microseconds and
 * ticks (the fix in 6.15 rounds up), so requests compare byte for byte only with its rounding.
 */
function tcClock() {
  const version = execFileSync("tc", ["-V"], { encoding: "utf8" });
  const [major, minor] = /iproute2-(\d+)\.(\d+)/.exec(version)!.slice(1).map(Number);
  return { ...readPsched(), truncate: major < 6 || (major === 6 && minor < 15) };
}

/**
 * A namespace with a veth pair, left down: no packet (IPv6 neighbour discovery...) moves the
 * counters between tc's read and the library's.
 */
function vethNetns(): Netns {
  return new Netns(["link add va0 type veth peer name vb0"]);
}

test("tc values: rates, sizes and times parse and print as tc's", () => {
  assert.equal(parseRate("10mbit"), 1_250_000);
  assert.equal(parseRate("1Gbit"), 125_000_000);
  assert.equal(parseRate("100kbps"), 100_000);
  assert.equal(parseRate("1kibit"), 128);
  assert.equal(parseRate("8000"), 1000); // bits per second without a unit
  assert.equal(parseRate(5000), 5000);
  assert.throws(() => parseRate("10mbits"), /rate: unknown unit/);
  assert.throws(() => parseRate("fast"), /rate: "fast" is not a number/);
  // Past what a number holds exactly (1e400 is Infinity): refused, naming the field and value.
  assert.throws(() => parseRate("1e400bit"), /^RangeError: rate: "1e400bit" is out of range/);
  assert.throws(() => parseRate("1e300tbit"), /^RangeError: rate: "1e300tbit" is out of range/);
  assert.throws(() => parseSize("1e400"), /^RangeError: size: "1e400" is out of range/);
  assert.throws(() => parseTime("1e400s"), /^RangeError: time: "1e400s" is out of range/);
  // The value quoted as other errors quote one: a NUL or an escape shown escaped, not raw.
  const escaped: [() => unknown, string][] = [
    [() => parseRate("10\0mbit"), "rate: unknown unit in \"10\\u0000mbit\" ("],
    [() => parseRate("\x1b[31m"), "rate: \"\\u001b[31m\" is not a number with a unit"],
    [() => parseRate("1e400\nbit"), "rate: unknown unit in \"1e400\\nbit\" ("],
    [() => parseRate("1e400bit\0"), "rate: unknown unit in \"1e400bit\\u0000\" ("],
    [() => parseSize("1\x1bkb"), "size: unknown unit in \"1\\u001bkb\" ("],
    [() => parseSize("1.5\0"), "size: unknown unit in \"1.5\\u0000\" ("],
    [() => parseTime("5\0ms"), "time: unknown unit in \"5\\u0000ms\" ("],
    [() => parseTime("\0"), "time: \"\\u0000\" is not a number with a unit"],
    [() => parseRate("\v1e400bit"), "rate: \"\\u000b1e400bit\" is out of range"],
  ];
  for (const [parse, message] of escaped) {
    assert.throws(parse, (e) => e instanceof RangeError && e.message.startsWith(message), message);
  }
  assert.equal(formatRate(1_250_000), "10Mbit");
  assert.equal(formatRate(187_500), "1500Kbit");
  assert.equal(formatRate(125), "1Kbit");
  assert.equal(formatRate(100), "800bit");
  assert.equal(parseSize("1500"), 1500);
  assert.equal(parseSize("1500b"), 1500);
  assert.equal(parseSize("10kb"), 10240);
  assert.equal(parseSize("15k"), 15360);
  assert.equal(parseSize("1mb"), 1 << 20);
  assert.equal(parseSize("64kbit"), 8192);
  assert.equal(parseSize("1.5kb"), 1536);
  assert.throws(() => parseSize("1.5b"), /not a whole number of bytes/);
  assert.throws(() => parseSize("10kib"), /size: unknown unit/);
  assert.equal(formatSize(15360), "15Kb");
  assert.equal(formatSize(1600), "1600b");
  assert.equal(formatSize(1 << 20), "1Mb");
  assert.equal(parseTime("50ms"), 50_000);
  assert.equal(parseTime("1s"), 1_000_000);
  assert.equal(parseTime("100"), 100);
  assert.throws(() => parseTime("5min"), /time: unknown unit/);
  assert.equal(formatTime(50_000), "50ms");
  assert.equal(formatTime(1_500), "1.5ms");
  assert.equal(formatTime(2_000_000), "2s");
  assert.equal(formatTime(800), "800us");
});

test("tc handles: parse and print as tc's get_tc_classid / print_tc_classid", () => {
  assert.equal(parseHandle("1:10"), 0x1_0010);
  assert.equal(parseHandle("1:"), 0x1_0000);
  assert.equal(parseHandle(":10"), 0x10);
  assert.equal(parseHandle("root"), 0xffff_ffff);
  assert.equal(parseHandle("ingress"), 0xffff_fff1);
  assert.equal(parseHandle("none"), 0);
  assert.equal(parseQdiscHandle("10:"), 0x10_0000);
  assert.equal(parseQdiscHandle("10"), 0x10_0000);
  assert.equal(parseFilterParent("ingress"), 0xffff_fff2);
  assert.equal(parseFilterParent("egress"), 0xffff_fff3);
  assert.throws(() => parseHandle("1:10000"), /handle: "1:10000" is not a handle/);
  assert.throws(() => parseHandle("x:1"), /is not a handle/);
  assert.throws(() => parseQdiscHandle("1:10"), /not a qdisc handle/);
  // Control characters in a bad value are escaped in the error, as the route layer's are: they
  // went into the message raw (a NUL, a terminal escape).
  const escaped: [() => unknown, string][] = [
    [() => parseHandle("1:\0"), "handle: \"1:\\u0000\" is not a handle"],
    [() => parseQdiscHandle("1\u001b[31m"), "qdisc handle: \"1\\u001b[31m\" is not a qdisc handle"],
    [() => qdiscOptions({ kind: "sfq\0" } as never), "qdisc kind \"sfq\\u0000\" is not supported"],
    [
      () => classOptions({ kind: "hfsc\0" } as never),
      "class kind \"hfsc\\u0000\" is not supported",
    ],
    [
      () => filterOptions({ kind: "u32\0" } as never),
      "filter kind \"u32\\u0000\" is not supported",
    ],
    [
      () => filterOptions({ dev: 1, parent: "1:", kind: "matchall", actions: ["drop\0" as never] }),
      "action: \"drop\\u0000\" is not one of",
    ],
    [
      () =>
        filterOptions({
          dev: 1,
          parent: "1:",
          kind: "matchall",
          actions: [{ kind: "gact\0" } as never],
        }),
      "kind \"gact\\u0000\"",
    ],
    [() => protocolNumber("ip\0"), "protocol: \"ip\\u0000\" is not one of"],
  ];
  for (const [call, text] of escaped) {
    assert.throws(
      call,
      (e: Error) =>
        e.message.includes(text) && !e.message.includes("\0") && !e.message.includes("\u001b"),
      text,
    );
  }
  assert.equal(formatHandle(0x1_0010), "1:10");
  assert.equal(formatHandle(0x1_0000), "1:");
  assert.equal(formatHandle(0x10), ":10");
  assert.equal(formatHandle(0xffff_ffff), "root");
  assert.equal(formatHandle(0xffff_fff1), "ffff:fff1");
});

test("tc errors: a filter spec is checked whole before any lookup (its device, mirred's); filterOptions() checks parent, pref and protocol as TrafficControl does", async () => {
  // A mirred device name was looked up before the rest of the spec was checked: a missing one
  // answered ENODEV rather than the bad value, a present one cost a request before the error.
  // filterOptions() took a bad pref or protocol that TrafficControl refuses.
  using ns = vethNetns();
  await using tc = await TrafficControl.open({ netns: ns.name });
  let sent = 0;
  const untap = tap(tc.socket, { sent: () => void sent++ });
  const mirred = { kind: "mirred", action: "redirect", dev: "vb0" } as const;
  const filter: FilterSpec = { dev: "va0", parent: "1:", kind: "matchall", actions: [mirred] };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ pref: 70000 }, /^RangeError: pref: 70000 is not an integer in 0\.\.65535$/],
    [{ pref: "10" }, /^RangeError: pref: "10" is not an integer/],
    [{ protocol: "ipx" }, /^RangeError: protocol: "ipx" is not one of /],
    [{ protocol: 0x10000 }, /^RangeError: protocol: 65536 is not an integer in 0\.\.65535$/],
    [{ parent: "x" }, /^RangeError: parent: "x" is not a /],
    [{ skipHw: "no" }, /^TypeError: skipHw: "no" is not a boolean$/],
    [{ actions: [mirred, "dorp"] }, /^RangeError: action: "dorp" is not one of /],
    // A misspelt name, or one tc does not give it (ipv4), names tc's.
    [{ protocol: "ipv4" }, /^RangeError: protocol: "ipv4" is not one of .*did you mean "ip"/],
    [{ protocol: "ipv7" }, /^RangeError: protocol: "ipv7" is not one of .*did you mean "ipv6"/],
    [{ actions: ["dorp"] }, /^RangeError: action: "dorp" is not one of .*did you mean "drop"/],
    // Sent, none made a u32 entry terminal with nothing to do.
    [{ actions: [] }, /^TypeError: [^ ]+ spec actions is empty: give at least one /],
    [{ actions: [{ ...mirred, action: "steal" }] }, /^RangeError: mirred: "steal" is not /],
    [{ actions: [{ ...mirred, dev: "a b" }] }, /^TypeError: mirred dev: "a b" is not a link /],
    [{ actions: [{ ...mirred, dev: 0 }] }, /^TypeError: mirred dev: 0 is not a link index/],
  ];
  /** The spec with mirred's device "vb0" given as `dev`. */
  const to = (spec: Record<string, unknown>, dev: string | number) => ({
    ...spec,
    actions: (spec.actions as TcAction[]).map((action) =>
      typeof action === "object" && action.kind === "mirred" && action.dev === "vb0"
        ? { ...action, dev }
        : action
    ),
  });
  for (const [change, refused] of cases) {
    for (const dev of ["va0", "nosuch0"]) {
      for (const mirredDev of ["vb0", "nosuch1"]) {
        const spec = to({ ...filter, dev, ...change }, mirredDev);
        await assert.rejects(tc.addFilter(spec as never), refused, JSON.stringify(spec));
      }
    }
    // filterOptions() takes mirred's device as an index only ("must be an index here").
    if (String(refused).includes("mirred dev")) continue;
    const pure = to({ ...filter, ...change }, 2);
    assert.throws(() => filterOptions(pure as never), refused, JSON.stringify(pure));
  }
  assert.equal(sent, 0, "no request, no lookup");
  // Both names are looked up once the spec is good: the filter's device first.
  const missing = (name: string) => (err: Error & { code?: string }) =>
    err.code === "ENODEV" && err.message === `ENODEV: no link named "${name}"`;
  await assert.rejects(tc.addFilter({ ...filter, dev: "nosuch0" }), missing("nosuch0"));
  const toMissing = { ...filter, actions: [{ ...mirred, dev: "nosuch1" }] };
  await assert.rejects(tc.addFilter(toMissing), missing("nosuch1"));
  untap();
});

test("tc errors: a caller's text is quoted escaped (NUL, ESC, C1 CSI), never raw", () => {
  const forged = "\x1b[2J\0\u009b31m";
  const shown = "\"\\u001b[2J\\u0000\\u009b31m\"";
  const place = { dev: 1, parent: "ingress", pref: 10 } as const;
  const mirred = { kind: "mirred", action: "redirect", dev: 2 } as const;
  const cases: [() => unknown, string][] = [
    [() => parseHandle(`1:${forged}`), `handle: "1:${shown.slice(1)} is not a handle`],
    [() => parseQdiscHandle(forged), `qdisc handle: ${shown} is not a qdisc handle`],
    [
      () => classOptions({ ...place, classid: "1:1", kind: forged, rate: "1mbit" } as never),
      `class kind ${shown} is not supported`,
    ],
    [() => qdiscOptions({ kind: forged } as never), `qdisc kind ${shown} is not supported`],
    [
      () => qdiscOptions({ kind: "netem", loss: forged as never }),
      `loss: ${shown} is not a percentage`,
    ],
    [
      () => filterOptions({ ...place, kind: forged } as never),
      `filter kind ${shown} is not supported`,
    ],
    [
      () => filterOptions({ ...place, kind: "matchall", actions: [{ ...mirred, dev: forged }] }),
      `mirred: dev ${shown} must be an index here`,
    ],
    [
      () =>
        filterOptions({
          ...place,
          kind: "matchall",
          actions: [{ ...mirred, action: forged as "mirror" }],
        }),
      `mirred: ${shown} is not "redirect" or "mirror"`,
    ],
    [
      () =>
        filterOptions({
          ...place,
          kind: "matchall",
          actions: [{ ...mirred, direction: forged as "ingress" }],
        }),
      `mirred: direction ${shown} is not "egress" or "ingress"`,
    ],
    [
      () => filterOptions({ ...place, kind: "matchall", actions: [{ kind: forged } as never] }),
      `filterOptions() spec actions[0] must be a gact control ("drop"...) or { kind: "gact" | "mirred", ... }, got kind ${shown}`,
    ],
    [
      () => filterOptions({ ...place, kind: "matchall", actions: [forged as "drop"] }),
      `action: ${shown} is not one of`,
    ],
    [
      () => filterOptions({ ...place, kind: "flower", ipProto: forged as "tcp" }),
      `ipProto: ${shown} is not one of`,
    ],
    [
      () => filterOptions({ ...place, kind: "flower", protocol: forged }),
      `protocol: ${shown} is not one of`,
    ],
    [() => filterOptions({ ...place, kind: "flower", dstIp: forged }), `dstIp: ${shown} is not`],
    [
      () => filterOptions({ ...place, kind: "u32", match: { src: forged } }),
      `src: ${shown} is not`,
    ],
  ];
  for (const [make, message] of cases) {
    assert.throws(make, (e: Error) => e.message.startsWith(message), message);
  }
  // A name every object has ("constructor", "toString") is no name of these tables: it was
  // taken, and a function went into the message.
  for (const name of ["constructor", "toString", "__proto__"]) {
    assert.throws(
      () => filterOptions({ ...place, kind: "flower", ipProto: name as "tcp" }),
      /^RangeError: ipProto: .* is not one of/,
    );
    assert.throws(
      () => filterOptions({ ...place, kind: "flower", protocol: name }),
      /^RangeError: protocol: .* is not one of/,
    );
    assert.throws(
      () => filterOptions({ ...place, kind: "matchall", actions: [name as "drop"] }),
      /^RangeError: action: .* is not one of/,
    );
  }
  assert.throws(
    () => filterOptions({ ...place, kind: "flower", ipProto: "tpc" as "tcp" }),
    /^RangeError: ipProto: "tpc" is not one of icmp, tcp, udp, icmpv6, sctp \(did you mean "tcp"\?\)$/,
  );
  // An address that parses, of the wrong family, is quoted the same way.
  assert.throws(
    () => filterOptions({ ...place, kind: "u32", match: { dst: "::1" } }),
    /^RangeError: dst: "::1" is not an IPv4 address or prefix$/,
  );
});

test("tc: a misspelt qdisc or filter kind names the closest, and tc -j's lat names latency", async () => {
  assert.throws(
    () => qdiscOptions({ kind: "fq-codel" } as never),
    /^TypeError: qdisc kind "fq-codel" is not supported \(.*\) \(did you mean "fq_codel"\?\)$/,
  );
  const place = { dev: 2, parent: "ffff:", pref: 1 };
  assert.throws(
    () => filterOptions({ ...place, kind: "flowr" } as never),
    /^TypeError: filter kind "flowr" is not supported \(.*\) \(did you mean "flower"\?\)$/,
  );
  // A tbf read back has tc -j's lat; the spec's word is tc qdisc add's latency.
  await using tc = await TrafficControl.open({ transport: new FakeKernel().open });
  await assert.rejects(
    tc.addQdisc({ dev: 1, kind: "tbf", rate: "1mbit", burst: "10k", lat: "50ms" } as never),
    /unknown option "lat" \(did you mean "latency"\?\)/,
  );
});

test("tc clock: /proc/net/psched read as tc reads it; xmittime and rate tables", () => {
  const clock = readPsched("000003e8 00000040 000f4240 3b9aca00");
  assert.deepEqual(clock, { tickInUsec: 15.625, hz: 1_000_000_000 });
  assert.equal(calcXmittime(125_000, 10_240, clock), 1_280_000);
  assert.equal(calcXmitsize(125_000, 1_280_000, clock), 10_240);
  const { cellLog, table } = calcRtable({ rate: 125_000, mtu: 1600, clock });
  assert.equal(cellLog, 3); // 1600 >> 3 = 200 <= 255
  assert.equal(table[0], calcXmittime(125_000, 8, clock));
  assert.equal(table[255], calcXmittime(125_000, 2048, clock));
  assert.throws(() => readPsched("nonsense"), /psched/);
});

test("tc clock: where /proc/net/psched cannot be read (Deno without --allow-ffi), the values every kernel since 2.6.31 prints there", () => {
  const deno = fileURLToPath(new URL("../../node_modules/.bin/deno", import.meta.url));
  const probe = fileURLToPath(new URL("./_psched_probe.ts", import.meta.url));
  const { status, stdout, stderr } = spawnSync(deno, ["run", "--no-prompt", probe], {
    encoding: "utf8",
  });
  assert.equal(status, 0, stderr);
  assert.deepEqual(JSON.parse(stdout), readPsched(readFileSync("/proc/net/psched", "utf8")));
});

test("tc clock: TrafficControl.open() refuses a clock no buffer can be computed with, before opening anything", async () => {
  // A tick of 0 made every buffer and rate table 0: an htb class was installed with burst 0.
  using ns = vethNetns();
  const before = openDescriptors();
  const clock = readPsched("000003e8 00000040 000f4240 3b9aca00");
  for (
    const bad of [
      { ...clock, tickInUsec: 0 },
      { ...clock, tickInUsec: NaN },
      { ...clock, hz: -1 },
      { ...clock, truncate: "yes" },
      "15.625",
      null,
    ]
  ) {
    await assert.rejects(
      TrafficControl.open({ netns: ns.name, clock: bad as never }),
      /^TypeError: TrafficControl\.open\(\) options: clock (must be a Psched |is null, which it does not take)/,
    );
  }
  assert.deepEqual(newDescriptors(before), []);
  const tc = await TrafficControl.open({ netns: ns.name, clock: { ...clock, truncate: true } });
  tc.close();
});

test("tc over a route client's socket: one socket for both, left open when tc closes", async () => {
  using ns = vethNetns();
  await using ip = await openRoute({ netns: ns.name });
  {
    await using tc = await TrafficControl.open({ socket: ip.socket });
    assert.equal(tc.socket, ip.socket);
    await tc.addQdisc({ dev: "va0", kind: "pfifo", handle: "5:", limit: 10 });
    assert.deepEqual((await tc.qdiscs({ dev: "va0" })).map((q) => [q.kind, q.handle]), [
      ["pfifo", "5:"],
    ]);
  }
  assert.equal((await ip.link.get("va0")).name, "va0"); // still open
});

/** The request the library would send, encoded by the generated codec. */
async function libraryPayload(
  ns: Netns,
  op: "newqdisc" | "newtclass" | "newtfilter",
  header: { ifindex: number; parent: number; handle: number; info?: number },
  kind: string,
  options: Record<string, unknown> | undefined,
): Promise<Uint8Array> {
  await using client = await family(tcDescriptor, { netns: ns.name });
  const request = { family: 0, info: 0, ...header, kind, ...(options ? { options } : {}) };
  return client.encode(op, request as never).payload!;
}

/**
 * The payload with the NLA_F_NESTED bit cleared wherever it is set: the codec marks every nest
 * as the kernel asks of new code, the host's tc only some (TCA_ACT_OPTIONS); the kernel reads
 * both alike. Both sides are walked alike, into every payload that parses as attributes.
 */
function withoutNestedFlag(payload: Uint8Array): Uint8Array {
  const copy = payload.slice();
  const view = new DataView(copy.buffer);
  const wellFormed = (start: number, end: number) => {
    let at = start;
    while (at + 4 <= end) {
      const len = view.getUint16(at, true);
      if (len < 4 || at + len > end) return false;
      at += (len + 3) & ~3;
    }
    return at >= end;
  };
  const clear = (start: number, end: number) => {
    for (let at = start; at + 4 <= end; at += (view.getUint16(at, true) + 3) & ~3) {
      const len = view.getUint16(at, true);
      const type = view.getUint16(at + 2, true);
      view.setUint16(at + 2, type & 0x7fff, true);
      if (len > 4 && wellFormed(at + 4, at + len)) clear(at + 4, at + len);
    }
  };
  clear(20, copy.length); // after the tcmsg
  return copy;
}

function headerOf(payload: Uint8Array) {
  const view = new DataView(payload.buffer, payload.byteOffset);
  return {
    ifindex: view.getInt32(4, true),
    handle: view.getUint32(8, true),
    parent: view.getUint32(12, true),
    info: view.getUint32(16, true),
  };
}

test("tc requests: byte for byte what `tc` sends (htb qdisc and class, tbf, pfifo)", async () => {
  using ns = vethNetns();
  tcRun(ns, "qdisc", "add", "dev", "va0", "root", "handle", "1:", "htb");
  const clock = tcClock();
  const cases: [string[], number, "newqdisc" | "newtclass", QdiscSpec | ClassSpec][] = [
    [
      ["qdisc", "add", "dev", "vb0", "root", "handle", "2:", "htb", "default", "20", "r2q", "5"],
      RTM_NEWQDISC,
      "newqdisc",
      { dev: "vb0", kind: "htb", default: "20", r2q: 5 },
    ],
    [
      ["qdisc", "add", "dev", "vb0", "root", "handle", "2:", "htb", "direct_qlen", "100"],
      RTM_NEWQDISC,
      "newqdisc",
      { dev: "vb0", kind: "htb", directQlen: 100 },
    ],
    [
      ["class", "add", "dev", "va0", "parent", "1:", "classid", "1:10", "htb", "rate", "3mbit"],
      RTM_NEWTCLASS,
      "newtclass",
      { dev: "va0", parent: "1:", classid: "1:10", kind: "htb", rate: "3mbit" },
    ],
    [
      [
        ...["class", "add", "dev", "va0", "parent", "1:", "classid", "1:11", "htb", "rate"],
        ...["2.5mbit", "ceil", "1gbit", "burst", "15k", "cburst", "30kb", "prio", "3"],
        ...["quantum", "3000", "mtu", "9000", "mpu", "64", "overhead", "24"],
      ],
      RTM_NEWTCLASS,
      "newtclass",
      {
        ...{ dev: "va0", parent: "1:", classid: "1:11", kind: "htb", rate: "2.5mbit" },
        ...{ ceil: "1gbit", burst: "15k", cburst: "30kb", prio: 3, quantum: 3000 },
        ...{ mtu: 9000, mpu: 64, overhead: 24 },
      },
    ],
    [
      ["class", "add", "dev", "va0", "parent", "1:", "classid", "1:12", "htb", "rate", "40gbit"],
      RTM_NEWTCLASS,
      "newtclass",
      { dev: "va0", parent: "1:", classid: "1:12", kind: "htb", rate: "40gbit" },
    ],
    [
      [
        ...["qdisc", "add", "dev", "vb0", "root", "tbf", "rate", "1mbit", "burst", "10kb"],
        ...["latency", "50ms"],
      ],
      RTM_NEWQDISC,
      "newqdisc",
      { dev: "vb0", kind: "tbf", rate: "1mbit", burst: "10kb", latency: "50ms" },
    ],
    [
      [
        ...["qdisc", "add", "dev", "vb0", "root", "tbf", "rate", "10mbit", "burst", "20kb"],
        ...["limit", "30000", "peakrate", "12mbit", "mtu", "1540", "mpu", "64", "overhead", "4"],
      ],
      RTM_NEWQDISC,
      "newqdisc",
      {
        ...{ dev: "vb0", kind: "tbf", rate: "10mbit", burst: "20kb", limit: 30000 },
        ...{ peakrate: "12mbit", mtu: 1540, mpu: 64, overhead: 4 },
      },
    ],
    [
      ["qdisc", "add", "dev", "vb0", "root", "pfifo", "limit", "50"],
      RTM_NEWQDISC,
      "newqdisc",
      { dev: "vb0", kind: "pfifo", limit: 50 },
    ],
    // tc reads htb's default in hex, as a u32 (not a handle's 16-bit minor), and every fifo's
    // limit as a size.
    [
      ["qdisc", "add", "dev", "vb0", "root", "handle", "2:", "htb", "default", "10000"],
      RTM_NEWQDISC,
      "newqdisc",
      { dev: "vb0", kind: "htb", default: "10000" },
    ],
    [
      ["qdisc", "add", "dev", "vb0", "root", "handle", "2:", "htb", "default", "0xffffffff"],
      RTM_NEWQDISC,
      "newqdisc",
      { dev: "vb0", kind: "htb", default: "0xffffffff" },
    ],
    [
      ["qdisc", "add", "dev", "vb0", "root", "bfifo", "limit", "1gb"],
      RTM_NEWQDISC,
      "newqdisc",
      { dev: "vb0", kind: "bfifo", limit: "1gb" },
    ],
    [
      ["qdisc", "add", "dev", "vb0", "root", "pfifo", "limit", "1kb"],
      RTM_NEWQDISC,
      "newqdisc",
      { dev: "vb0", kind: "pfifo", limit: "1kb" },
    ],
  ];
  for (const [args, type, op, spec] of cases) {
    const want = tcRequest(ns, type, ...args);
    const options = op === "newqdisc"
      ? qdiscOptions(spec as QdiscSpec, clock)
      : classOptions(spec as ClassSpec, clock);
    const got = await libraryPayload(ns, op, headerOf(want), spec.kind, options);
    assert.deepEqual(withoutNestedFlag(got), withoutNestedFlag(want), `tc ${args.join(" ")}`);
    // Undo what tc did, so the next case starts from the same state.
    if (op === "newqdisc") {
      tcRun(ns, "qdisc", "del", "dev", "vb0", "root");
    } else {
      tcRun(ns, "class", "del", "dev", "va0", "classid", (spec as ClassSpec).classid as string);
    }
  }
});

test("tc requests: fq_codel, netem and prio encode as `tc` encodes them (this kernel lacks them)", async () => {
  using ns = vethNetns();
  const clock = tcClock();
  const cases: [string[], QdiscSpec][] = [
    [
      [
        ...["fq_codel", "limit", "2000", "flows", "512", "quantum", "1514", "target", "4ms"],
        ...["interval", "80ms", "ecn", "ce_threshold", "2ms", "memory_limit", "16mb"],
        ...["drop_batch", "32"],
      ],
      {
        ...{ dev: "vb0", kind: "fq_codel", limit: 2000, flows: 512, quantum: 1514 },
        ...{ target: "4ms", interval: "80ms", ecn: true, ceThreshold: "2ms" },
        ...{ memoryLimit: "16mb", dropBatch: 32 },
      },
    ],
    [["fq_codel"], { dev: "vb0", kind: "fq_codel" }],
    [
      ["netem", "loss", "1%", "duplicate", "2%", "limit", "500"],
      { dev: "vb0", kind: "netem", loss: 1, duplicate: 2, limit: 500 },
    ],
    [
      ["netem", "corrupt", "0.5%", "rate", "10mbit"],
      { dev: "vb0", kind: "netem", corrupt: 0.5, rate: "10mbit" },
    ],
    [["prio"], { dev: "vb0", kind: "prio" }],
    [
      ["prio", "bands", "4", "priomap", "3", "2", "1", "0", "3", "2", "1", "0"],
      { dev: "vb0", kind: "prio", bands: 4, priomap: [3, 2, 1, 0, 3, 2, 1, 0] },
    ],
  ];
  for (const [args, spec] of cases) {
    let want = tcRequest(ns, RTM_NEWQDISC, "qdisc", "add", "dev", "vb0", "root", ...args);
    if (spec.kind === "prio") {
      // tc writes prio's struct as a "compat nest": the struct, then an empty nested
      // TCA_OPTIONS the kernel skips. Without it, the bytes are the library's.
      const view = new DataView(want.buffer, want.byteOffset);
      const options = 20 + ((view.getUint16(20, true) + 3) & ~3); // after tcmsg and TCA_KIND
      view.setUint16(options, view.getUint16(options, true) - 4, true);
      want = want.slice(0, -4);
    }
    const got = await libraryPayload(
      ns,
      "newqdisc",
      headerOf(want),
      spec.kind,
      qdiscOptions(spec, clock),
    );
    assert.deepEqual(withoutNestedFlag(got), withoutNestedFlag(want), `tc ${args.join(" ")}`);
  }
  // Delays go in nanoseconds as TCA_NETEM_LATENCY64/JITTER64, as iproute2 sends them since 6.9
  // (this host's older tc still writes 32-bit ticks into the header, which the kernel also reads).
  assert.deepEqual(
    qdiscOptions({ kind: "netem", delay: "100ms", jitter: "10ms", reorder: 25 }),
    {
      ...{ latency: 0, limit: 1000, headerLoss: 0, gap: 1, duplicate: 0, jitter: 0 },
      ...{ latency64: 100_000_000n, jitter64: 10_000_000n },
      reorder: { probability: Math.round(0.25 * 0xffff_ffff), correlation: 0 },
    },
  );
  assert.throws(() => qdiscOptions({ kind: "netem", reorder: 25 }), /reorder needs a delay/);
  assert.throws(() => qdiscOptions({ kind: "prio", bands: 2, priomap: [3] }), /priomap/);
  assert.throws(() => qdiscOptions({ kind: "netem", loss: 120 }), /loss: 120 is not a percentage/);
});

/** `tc -s -j qdisc show`'s objects: the statistics sit beside the other fields. */
test("tc requests: filters and actions byte for byte what `tc` sends (u32, matchall, basic, flower; gact, mirred)", async () => {
  using ns = vethNetns();
  tcRun(ns, "qdisc", "add", "dev", "va0", "clsact");
  const vb0 = ns.json<{ ifindex: number }[]>("link", "show", "vb0")[0].ifindex;
  const place = { dev: "va0", parent: "ingress", protocol: "ip", pref: 10 } as const;
  const cases: [string[], FilterSpec][] = [
    [
      [
        "u32",
        "match",
        "ip",
        "dst",
        "10.0.0.0/24",
        "match",
        "ip",
        "dport",
        "80",
        "0xffff",
        "classid",
        "1:10",
      ],
      { ...place, kind: "u32", match: { dst: "10.0.0.0/24", dport: 80 }, classid: "1:10" },
    ],
    [
      [
        "u32",
        "match",
        "ip",
        "src",
        "10.1.0.0/16",
        "action",
        "mirred",
        "egress",
        "redirect",
        "dev",
        "vb0",
      ],
      {
        ...place,
        kind: "u32",
        match: { src: "10.1.0.0/16" },
        actions: [{ kind: "mirred", action: "redirect", dev: vb0 }],
      },
    ],
    // A key past the next header (offmask all ones, as tc writes `at nexthdr+N`).
    [
      ["u32", "match", "u16", "0x50", "0xffff", "at", "nexthdr+2", "classid", "1:10"],
      {
        ...place,
        kind: "u32",
        keys: [{ value: 0x50, mask: 0xffff, off: 0, nexthdr: true }],
        classid: "1:10",
      },
    ],
    [["matchall", "action", "drop"], { ...place, kind: "matchall", actions: ["drop"] }],
    [
      [
        "matchall",
        "classid",
        "1:10",
        "action",
        "pass",
        "action",
        "mirred",
        "ingress",
        "mirror",
        "dev",
        "vb0",
      ],
      {
        ...place,
        kind: "matchall",
        classid: "1:10",
        actions: ["pass", { kind: "mirred", action: "mirror", direction: "ingress", dev: vb0 }],
      },
    ],
    [["matchall", "skip_sw", "action", "reclassify"], {
      ...place,
      kind: "matchall",
      skipSw: true,
      actions: ["reclassify"],
    }],
    [["basic", "classid", "1:20"], { ...place, kind: "basic", classid: "1:20" }],
    [
      [
        ...["flower", "ip_proto", "tcp", "dst_ip", "10.0.0.0/24", "src_ip", "10.1.0.1"],
        ...["dst_port", "80", "classid", "1:10", "action", "drop"],
      ],
      {
        ...place,
        kind: "flower",
        ...{ ipProto: "tcp", dstIp: "10.0.0.0/24", srcIp: "10.1.0.1", dstPort: 80 },
        ...{ classid: "1:10", actions: ["drop"] },
      },
    ],
    [
      [
        ...["flower", "ip_proto", "udp", "dst_mac", "02:00:00:00:00:01", "src_ip", "2001:db8::/48"],
        ...["src_port", "53", "skip_hw", "action", "pipe"],
      ],
      {
        ...place,
        protocol: "ipv6",
        kind: "flower",
        ...{ ipProto: "udp", dstMac: "02:00:00:00:00:01", srcIp: "2001:db8::/48", srcPort: 53 },
        ...{ skipHw: true, actions: ["pipe"] },
      },
    ],
    [["flower", "action", "trap"], {
      ...place,
      protocol: "all",
      kind: "flower",
      actions: ["trap"],
    }],
  ];
  for (const [args, spec] of cases) {
    const protocol = String(spec.protocol);
    const want = tcRequest(
      ns,
      RTM_NEWTFILTER,
      ...["filter", "add", "dev", "va0", "ingress", "protocol", protocol, "pref", "10", ...args],
    );
    const got = await libraryPayload(
      ns,
      "newtfilter",
      headerOf(want),
      spec.kind,
      filterOptions(spec),
    );
    assert.deepEqual(
      withoutNestedFlag(got),
      withoutNestedFlag(want),
      `tc filter add ... ${args.join(" ")}`,
    );
    tcRun(ns, "filter", "del", "dev", "va0", "ingress");
  }
  assert.throws(
    () => filterOptions({ ...place, kind: "flower", dstPort: 80 }),
    /dstPort: needs ipProto tcp, udp or sctp/,
  );
  assert.throws(
    () => filterOptions({ ...place, kind: "flower", dstIp: "2001:db8::1" }),
    /dstIp: "2001:db8::1" needs protocol ipv6/,
  );
  assert.throws(
    () => filterOptions({ ...place, kind: "matchall", actions: ["explode" as "drop"] }),
    /action: "explode" is not one of/,
  );
  assert.throws(
    () =>
      filterOptions({
        ...place,
        kind: "matchall",
        actions: [{ kind: "mirred", action: "redirect", dev: "vb0" }],
      }),
    /mirred: dev "vb0" must be an index here/,
  );
});

interface TcJsonQdisc extends TcStats {
  kind: string;
  handle: string;
  dev: string;
  root?: true;
  parent?: string;
  refcnt?: number;
  options: Record<string, unknown>;
}

test("tc qdiscs: added, listed as `tc -s -j qdisc show`, changed, replaced, deleted", async () => {
  using ns = vethNetns();
  await using tc = await TrafficControl.open({ netns: ns.name });
  await tc.addQdisc({ dev: "va0", handle: "1:", kind: "htb", default: "20", directQlen: 300 });
  await tc.addClass({ dev: "va0", parent: "1:", classid: "1:10", kind: "htb", rate: "1mbit" });
  await tc.addQdisc({
    ...{ dev: "va0", parent: "1:10", handle: "10:", kind: "tbf" },
    ...{ rate: "1mbit", burst: "10kb", latency: "50ms" },
  });
  await tc.addQdisc({ dev: "vb0", kind: "pfifo", handle: "2:", limit: 50 });
  await tc.addQdisc({ dev: "vb0", kind: "clsact" });
  ns.ip("link", "add", "vc0", "type", "veth", "peer", "name", "vd0");
  await tc.addQdisc({ dev: "vc0", kind: "ingress" });

  const compare = async () => {
    const want = tcJson<TcJsonQdisc[]>(ns, "-s", "qdisc", "show");
    const got = await tc.qdiscs();
    const key = (q: { dev: string; handle: string; kind: string }) =>
      `${q.dev} ${q.handle} ${q.kind}`;
    assert.deepEqual(got.map(key).sort(), want.map(key).sort());
    for (const q of got) {
      const w = want.find((w) => key(w) === key(q))!;
      assert.equal(q.parent, w.root ? "root" : w.parent, key(q));
      assert.equal(q.refcnt, w.refcnt ?? 1, key(q));
      assert.deepEqual(q.options, w.options, key(q));
      const { bytes, packets, drops, overlimits, requeues, backlog, qlen } = w;
      assert.deepEqual(q.stats, { bytes, packets, drops, overlimits, requeues, backlog, qlen });
    }
    return got;
  };
  const qdiscs = await compare();
  assert.deepEqual(
    qdiscs.filter((q) => q.dev === "va0").map((q) => [q.kind, q.handle, q.parent]),
    [["htb", "1:", "root"], ["tbf", "10:", "1:10"]],
  );
  assert.deepEqual((await tc.qdiscs({ dev: "vc0" })).map((q) => q.kind), ["ingress"]);

  // htb has no qdisc change in the kernel: its refusal comes back with the kernel's text.
  await assert.rejects(
    tc.changeQdisc({ dev: "va0", handle: "1:", kind: "htb", default: "30" }),
    /EINVAL: qdisc change on va0: Change operation not supported by specified qdisc/,
  );
  await tc.changeQdisc({
    ...{ dev: "va0", parent: "1:10", handle: "10:", kind: "tbf" },
    ...{ rate: "2mbit", burst: "20kb", limit: "40kb" },
  });
  await tc.replaceQdisc({ dev: "vb0", kind: "bfifo", handle: "3:", limit: 100_000 });
  await compare();
  const [tbf] = tcJson<TcJsonQdisc[]>(ns, "qdisc", "show", "dev", "va0", "parent", "1:10");
  assert.deepEqual(tbf.options, { rate: 250_000, burst: 20_480, lat: 81_920 });
  assert.equal(tcJson<TcJsonQdisc[]>(ns, "qdisc", "show", "dev", "vb0")[0].kind, "bfifo");

  await assert.rejects(
    tc.addQdisc({ dev: "vb0", kind: "clsact" }),
    (err: Error & { code?: string }) => err.code === "EEXIST",
  );
  await tc.deleteQdisc({ dev: "vb0", kind: "clsact" });
  await tc.deleteQdisc({ dev: "va0" });
  await compare();
  assert.ok(!tcJson<TcJsonQdisc[]>(ns, "qdisc", "show").some((q) => q.kind === "htb"));
  // pfifo_fast, added by tc, read as tc shows it (with prio's printer).
  tcRun(ns, "qdisc", "add", "dev", "va0", "root", "pfifo_fast");
  const [fast] = (await compare()).filter((q) => q.kind === "pfifo_fast");
  assert.deepEqual(fast.options.priomap, [1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
  assert.ok(!tcJson<TcJsonQdisc[]>(ns, "qdisc", "show").some((q) => q.kind === "clsact"));
});

test("tc errors: a qdisc or class there already, or a class's missing qdisc, says which method to use (not NLM_F_REPLACE)", async () => {
  using ns = vethNetns();
  await using tc = await TrafficControl.open({ netns: ns.name });
  await tc.addQdisc({ dev: "va0", handle: "1:", kind: "htb" });
  await tc.addClass({ dev: "va0", parent: "1:", classid: "1:10", kind: "htb", rate: "1mbit" });
  // The root taken by another qdisc, or the handle by this one: the kernel's text, then ours.
  const qdiscThere =
    "a qdisc is in that place or has that handle: replaceQdisc() replaces it, changeQdisc() "
    + "changes its options, deleteQdisc() removes it";
  await assert.rejects(tc.addQdisc({ dev: "va0", handle: "2:", kind: "htb" }), {
    message: `EEXIST: qdisc add on va0: NLM_F_REPLACE needed to override (${qdiscThere})`,
  });
  await assert.rejects(tc.addQdisc({ dev: "va0", handle: "1:", kind: "htb" }), {
    message: `EEXIST: qdisc add on va0: Exclusivity flag on, cannot modify (${qdiscThere})`,
  });
  await assert.rejects(
    tc.addClass({ dev: "va0", parent: "1:", classid: "1:10", kind: "htb", rate: "2mbit" }),
    {
      message: "EEXIST: class add 1:10 on va0: File exists (the class exists: changeClass() "
        + "changes it, replaceClass() adds or changes it, deleteClass() removes it)",
    },
  );
  // A class under a qdisc that is not there: the kernel says only ENOENT.
  await assert.rejects(
    tc.addClass({ dev: "va0", parent: "9:", classid: "9:1", kind: "htb", rate: "1mbit" }),
    {
      message: "ENOENT: class add 9:1 on va0: No such file or directory (no qdisc 9: on va0 "
        + "holds it: add its qdisc first, tc.qdiscs() lists them)",
    },
  );
});

test("tc errors: a qdisc, filter or action kind the kernel has no module for names the module to load", async () => {
  using ns = vethNetns();
  await using tc = await TrafficControl.open({ netns: ns.name });
  await tc.addQdisc({ dev: "va0", kind: "clsact" });
  // What tc itself is told for the same request: only where this kernel lacks the kind.
  const kernelSays = (...args: string[]) => {
    try {
      tcRun(ns, ...args);
      return undefined;
    } catch (err) {
      return String((err as { stderr: string }).stderr);
    }
  };
  const cases: [string[], () => Promise<void>, string, string][] = [
    [
      ["qdisc", "add", "dev", "va0", "root", "fq_codel"],
      () => tc.addQdisc({ dev: "va0", kind: "fq_codel" }),
      "Specified qdisc kind is unknown",
      "ENOENT: qdisc add on va0: Specified qdisc kind is unknown (this kernel has no qdisc "
      + "\"fq_codel\": load its module (modprobe -a sch_fq_codel))",
    ],
    [
      ["filter", "add", "dev", "va0", "ingress", "pref", "7", "flower"],
      () => tc.addFilter({ dev: "va0", parent: "ingress", kind: "flower", pref: 7 }),
      "TC classifier not found",
      "ENOENT: filter add on va0: TC classifier not found (this kernel has no filter kind "
      + "\"flower\": load its module (modprobe -a cls_flower))",
    ],
    [
      ["filter", "add", "dev", "va0", "ingress", "pref", "8", "u32", "match", "u32", "0", "0"]
        .concat(["action", "drop"]),
      () =>
        tc.addFilter({
          ...{ dev: "va0", parent: "ingress", kind: "u32", pref: 8 },
          ...{ keys: [{ value: 0, mask: 0, off: 0 }], actions: ["drop", "pass"] },
        }),
      "Failed to load TC action module",
      "ENOENT: filter add on va0: Failed to load TC action module (this kernel has no action "
      + "kind \"gact\": load its module (modprobe -a act_gact))",
    ],
  ];
  for (const [args, call, kernelText, message] of cases) {
    const said = kernelSays(...args);
    if (said === undefined) continue; // this kernel has the kind: nothing to check
    assert.match(said, new RegExp(kernelText));
    await assert.rejects(call(), { message });
  }
});

/** `tc class show dev DEV` lines as { handle: words after it }. */
function tcClasses(ns: Netns, dev: string): Map<string, string> {
  const lines = tcRun(ns, "class", "show", "dev", dev).trim().split("\n").filter(Boolean);
  return new Map(lines.map((line) => {
    const [, , handle, ...rest] = line.trim().split(/\s+/);
    return [handle, rest.join(" ")];
  }));
}

test("tc classes: htb classes added, listed, changed and deleted; tc shows the same rates and bursts", async () => {
  using ns = vethNetns();
  await using tc = await TrafficControl.open({ netns: ns.name });
  await tc.addQdisc({ dev: "va0", handle: "1:", kind: "htb" });
  await tc.addClass({
    ...{ dev: "va0", parent: "1:", classid: "1:1", kind: "htb" },
    ...{ rate: "10mbit", ceil: "20mbit" },
  });
  await tc.addClass({
    ...{ dev: "va0", parent: "1:1", classid: "1:10", kind: "htb" },
    ...{ rate: "1mbit", burst: "15k", prio: 2 },
  });
  tcRun(ns, "qdisc", "add", "dev", "va0", "parent", "1:10", "handle", "10:", "pfifo");
  const shown = tcClasses(ns, "va0");
  assert.equal(shown.get("1:1"), "root rate 10Mbit ceil 20Mbit burst 1600b cburst 1600b");
  assert.equal(
    shown.get("1:10"),
    "parent 1:1 leaf 10: prio 2 rate 1Mbit ceil 1Mbit burst 15Kb cburst 1600b",
  );
  const classes = await tc.classes({ dev: "va0" });
  const text = (c: (typeof classes)[number]) =>
    [
      c.parent === "root" ? "root" : `parent ${c.parent}`,
      ...(c.leaf ? [`leaf ${c.leaf}`] : []),
      ...(c.options.prio === undefined ? [] : [`prio ${c.options.prio}`]),
      `rate ${formatRate(c.options.rate as number)}`,
      `ceil ${formatRate(c.options.ceil as number)}`,
      `burst ${formatSize(c.options.burst as number)}`,
      `cburst ${formatSize(c.options.cburst as number)}`,
    ].join(" ");
  assert.deepEqual(
    new Map(classes.filter((c) => c.kind === "htb").map((c) => [c.handle, text(c)])),
    shown,
  );
  assert.deepEqual((await tc.classes({ dev: "va0", parent: "1:1" })).map((c) => c.handle), [
    "1:10",
  ]);
  // Under a qdisc: every class of it, top-level ones (whose parent is root) included, as
  // `tc class show parent 1:` shows them.
  const underQdisc = (await tc.classes({ dev: "va0", parent: "1:" })).map((c) => c.handle);
  assert.deepEqual(underQdisc.sort(), ["1:1", "1:10"]);
  assert.deepEqual(
    [...tcRun(ns, "class", "show", "dev", "va0", "parent", "1:").matchAll(/^class \S+ (\S+)/gm)]
      .map((m) => m[1]).sort(),
    underQdisc,
  );
  assert.deepEqual(await tc.classes({ dev: "va0", parent: "2:" }), []);

  await tc.changeClass({
    ...{ dev: "va0", parent: "1:1", classid: "1:10", kind: "htb" },
    ...{ rate: "2mbit", ceil: "4mbit", prio: 1 },
  });
  await tc.replaceClass({ dev: "va0", parent: "1:1", classid: "1:20", kind: "htb", rate: "3mbit" });
  const after = tcClasses(ns, "va0");
  assert.match(after.get("1:10")!, /prio 1 rate 2Mbit ceil 4Mbit/);
  assert.match(after.get("1:20")!, /rate 3Mbit ceil 3Mbit/);
  await tc.deleteClass({ dev: "va0", classid: "1:20" });
  assert.ok(!tcClasses(ns, "va0").has("1:20"));
});

interface TcJsonFilter {
  parent?: string;
  protocol: string;
  pref: number;
  kind: string;
  chain: number;
  options?: Record<string, unknown>;
}

test("tc filters: u32 added on htb and clsact, listed as `tc -j filter show`, deleted", async () => {
  using ns = vethNetns();
  await using tc = await TrafficControl.open({ netns: ns.name });
  await tc.addQdisc({ dev: "va0", handle: "1:", kind: "htb" });
  await tc.addQdisc({ dev: "vb0", kind: "clsact" });
  await tc.addFilter({
    ...{ dev: "va0", parent: "1:", kind: "u32", protocol: "ip", pref: 5 },
    ...{ match: { src: "192.168.1.1", dport: 80 }, classid: "1:10" },
  });
  await tc.addFilter({
    ...{ dev: "vb0", parent: "ingress", kind: "u32", protocol: "ip", pref: 10 },
    ...{ match: { dst: "10.0.0.0/24", protocol: 6 }, classid: "1:10" },
  });
  // A key past the next header: tc shows it `at nexthdr+0`, -j with offmask "nexthdr+".
  await tc.addFilter({
    ...{ dev: "va0", parent: "1:", kind: "u32", protocol: "ip", pref: 4 },
    ...{ keys: [{ value: 0x50, mask: 0xffff, off: 0, nexthdr: true }], classid: "1:10" },
  });
  assert.match(
    tcRun(ns, "filter", "show", "dev", "va0"),
    /^ {2}match 00000050\/0000ffff at nexthdr\+0$/m,
  );
  // tc itself, for the same matches, writes the same keys.
  tcRun(
    ns,
    ...["filter", "add", "dev", "vb0", "egress", "protocol", "ip", "pref", "10", "u32"],
    ...["match", "ip", "dst", "10.0.0.0/24", "match", "ip", "protocol", "6", "0xff"],
    ...["classid", "1:10"],
  );

  for (const [dev, parent] of [["va0", undefined], ["vb0", "ingress"], ["vb0", "egress"]]) {
    const want = tcJson<TcJsonFilter[]>(
      ns,
      ...["filter", "show", "dev", dev!, ...(parent ? [parent] : [])],
    );
    const got = await tc.filters({ dev: dev!, parent });
    assert.equal(got.length, want.length);
    got.forEach((f, i) => {
      const w = want[i];
      assert.deepEqual([f.protocol, f.pref, f.kind, f.chain], [
        w.protocol,
        w.pref,
        w.kind,
        w.chain,
      ]);
      if (w.parent) assert.equal(f.parent, w.parent);
      for (const key of ["fh", "order", "key_ht", "bkt", "flowid", "ht_divisor", "not_in_hw"]) {
        assert.deepEqual(f.options[key], w.options?.[key], `${dev} ${key}`);
      }
      // tc -j repeats "match" once per key; JSON.parse keeps the last.
      const match = f.options.match as unknown[] | undefined;
      assert.deepEqual(match?.at(-1), w.options?.match, `${dev} match`);
    });
  }
  // An action (mirred is the one this kernel has), read as tc -j lists it.
  await tc.addFilter({
    ...{ dev: "vb0", parent: "egress", kind: "u32", protocol: "ip", pref: 20 },
    ...{ match: { dport: 53 }, actions: [{ kind: "mirred", action: "redirect", dev: "va0" }] },
  });
  const withAction = (filters: { pref: number; options?: Record<string, unknown> }[]) =>
    filters.filter((f) => f.pref === 20 && f.options?.actions).map((f) => f.options!.actions);
  const actions = withAction(await tc.filters({ dev: "vb0", parent: "egress" }));
  assert.deepEqual(actions, withAction(tcJson(ns, "filter", "show", "dev", "vb0", "egress")));
  assert.deepEqual(actions, [[{
    ...{ order: 1, kind: "mirred", mirred_action: "redirect", direction: "egress" },
    ...{ to_dev: "va0", control_action: { type: "stolen" }, index: 1, ref: 1, bind: 1 },
  }]]);

  const ingress = await tc.filters({ dev: "vb0", parent: "ingress" });
  const egress = (await tc.filters({ dev: "vb0", parent: "egress" })).filter((f) => f.pref === 10);
  assert.deepEqual(ingress.at(-1)!.options.match, egress.at(-1)!.options.match);
  assert.deepEqual((await tc.filters({ dev: "va0" })).at(-1)!.options.match, [
    { value: "c0a80101", mask: "ffffffff", offmask: "", off: 12 },
    { value: "50", mask: "ffff", offmask: "", off: 20 },
  ]);

  await tc.deleteFilter({ dev: "vb0", parent: "ingress", pref: 10 });
  assert.deepEqual(tcJson(ns, "filter", "show", "dev", "vb0", "ingress"), []);
  await tc.deleteFilter({ dev: "va0", parent: "1:" });
  assert.deepEqual(tcJson(ns, "filter", "show", "dev", "va0"), []);
});

test("tc deletes take what a list gave: that u32 entry (not its pref's others), that class, that qdisc; as tc shows after", async () => {
  using ns = vethNetns();
  await using tc = await TrafficControl.open({ netns: ns.name });
  await tc.addQdisc({ dev: "va0", handle: "1:", kind: "htb" });
  await tc.addClass({ dev: "va0", parent: "1:", classid: "1:10", kind: "htb", rate: "1mbit" });
  await tc.addClass({ dev: "va0", parent: "1:", classid: "1:20", kind: "htb", rate: "2mbit" });
  await tc.addQdisc({
    ...{ dev: "va0", parent: "1:20", handle: "20:", kind: "tbf" },
    ...{ rate: "1mbit", burst: "10k", latency: "50ms" },
  });
  await tc.addQdisc({ dev: "va0", kind: "clsact" });
  for (const [dport, classid] of [[80, "1:10"], [443, "1:20"]] as const) {
    await tc.addFilter({
      ...{ dev: "va0", parent: "1:", kind: "u32", protocol: "ip", pref: 5 },
      ...{ match: { dport }, classid },
    });
  }
  const flowids = () =>
    tcJson<TcJsonFilter[]>(ns, "filter", "show", "dev", "va0").map((f) => f.options?.flowid);
  assert.deepEqual(flowids(), [undefined, undefined, "1:10", "1:20"]);

  const entry = (await tc.filters({ dev: "va0", parent: "1:" }))
    .find((f) => f.options.flowid === "1:10")!;
  await tc.deleteFilter(entry);
  assert.deepEqual(flowids(), [undefined, undefined, "1:20"]);

  const tbfQdisc = (await tc.qdiscs({ dev: "va0" })).find((q) => q.kind === "tbf")!;
  await tc.deleteQdisc(tbfQdisc);
  const clsact = (await tc.qdiscs({ dev: "va0" })).find((q) => q.kind === "clsact")!;
  await tc.deleteQdisc(clsact);
  assert.deepEqual(tcJson(ns, "qdisc", "show", "dev", "va0").map((q) => q.kind), ["htb"]);

  const class10 = (await tc.classes({ dev: "va0" })).find((c) => c.handle === "1:10")!;
  await tc.deleteClass(class10);
  assert.deepEqual(
    tcRun(ns, "class", "show", "dev", "va0").match(/class htb \S+/g),
    ["class htb 1:20"],
  );
  // A listed object whose place is gone: the kernel's error, naming what failed.
  await assert.rejects(tc.deleteClass(class10), /^NetlinkError: ENOENT: class delete 1:10 on va0/);
  const head = (await tc.filters({ dev: "va0", parent: "1:" }))[0];
  await tc.deleteFilter(head); // the kind's head: every entry of its pref
  assert.deepEqual(tcJson(ns, "filter", "show", "dev", "va0"), []);
});

test("tc errors: bad values are refused before sending, naming the field; unknown devices", async () => {
  using ns = vethNetns();
  const before = tcJson(ns, "qdisc", "show", "dev", "va0");
  await using tc = await TrafficControl.open({ netns: ns.name });
  // A number given as text shows as text, not as the number it looks like.
  await assert.rejects(
    tc.deleteFilter({ dev: "va0", pref: "10" as never }),
    /^RangeError: pref: "10" is not an integer in 0\.\.65535$/,
  );
  await assert.rejects(
    tc.addQdisc({ dev: "va0", kind: "tbf", rate: "1 megabit", burst: "10kb", latency: "1ms" }),
    /rate: unknown unit in "1 megabit"/,
  );
  await assert.rejects(
    tc.addQdisc({ dev: "va0", kind: "tbf", rate: "1mbit", burst: "10kb" }),
    /tbf: give either "limit" or "latency"/,
  );
  await assert.rejects(
    tc.addClass({ dev: "va0", parent: "1:", classid: "1:x", kind: "htb", rate: "1mbit" }),
    /classid: "1:x" is not a handle/,
  );
  await assert.rejects(
    tc.addQdisc({ dev: "\x1b[2J\u009b", kind: "pfifo" }),
    (err: { detail?: string }) => err.detail === `no link named "\\u001b[2J\\u009b"`,
  );
  await assert.rejects(
    tc.addQdisc({ dev: "nosuch0", kind: "pfifo" }),
    // The kernel's refusal, a NetlinkError, said as the route client says it.
    (err: Error & { code?: string }) =>
      err.code === "ENODEV" && err.message === "ENODEV: no link named \"nosuch0\"",
  );
  // What can name no device is refused before asking, in lists as in changes (not an empty list).
  for (const dev of [0, -5, 1.5, "", "va 0"]) {
    const named = /dev: .* is not a link (index|name)/;
    await assert.rejects(tc.addQdisc({ dev, kind: "pfifo" }), TypeError);
    await assert.rejects(tc.addQdisc({ dev, kind: "pfifo" }), named);
    await assert.rejects(tc.qdiscs({ dev }), named);
    await assert.rejects(tc.classes({ dev }), named);
    await assert.rejects(tc.filters({ dev }), named);
  }
  await assert.rejects(
    tc.addQdisc({ dev: "va0", kind: "sfq" } as unknown as QdiscSpec),
    /qdisc kind "sfq" is not supported/,
  );
  // The kernel's own refusal keeps its text, after what failed (and what it means, after).
  await assert.rejects(
    tc.addClass({ dev: "va0", parent: "1:", classid: "1:10", kind: "htb", rate: "1mbit" }),
    (err: Error & { code?: string }) =>
      err.code === "ENOENT"
      && err.message.startsWith("ENOENT: class add 1:10 on va0: No such file or directory ("),
  );
  await assert.rejects(
    tc.deleteQdisc({ dev: "va0", handle: "7:" }),
    (err: Error & { code?: string }) => /^E[A-Z]+: qdisc delete on va0: /.test(err.message),
  );
  assert.deepEqual(tcJson(ns, "qdisc", "show", "dev", "va0"), before); // nothing was added
});

test("tc errors: a u32 key's offset and the boolean options are checked, not coerced", async () => {
  // A key's off went through DataView.setInt32: NaN, Infinity and 2^33 were installed as "at 0",
  // "20" as 20 and 1.5 as 1; skipHw: "false" set skip_hw, and nexthdr: "no" meant nexthdr+.
  using ns = vethNetns();
  ns.ip("link", "set", "va0", "up");
  await using tc = await TrafficControl.open({ netns: ns.name });
  await tc.addQdisc({ dev: "va0", handle: "1:", kind: "htb" });
  const filters = () =>
    tcJson<{ options?: { match?: { off: number } } }[]>(
      ns,
      ...["filter", "show", "dev", "va0", "parent", "1:"],
    );
  const u32 = (key: Record<string, unknown>) =>
    tc.addFilter({
      ...{ dev: "va0", parent: "1:", kind: "u32", pref: 30, classid: "1:20" },
      keys: [{ value: 1, mask: 0xff, off: 4, ...key } as never],
    });
  for (const off of [NaN, Infinity, 2 ** 33, -(2 ** 31) - 1, 1.5, "20"]) {
    await assert.rejects(
      u32({ off }),
      new RegExp(`^RangeError: key off: .* is not an integer in -2147483648\\.\\.2147483647$`),
    );
  }
  await assert.rejects(u32({ nexthdr: "no" }), /^TypeError: key nexthdr: "no" is not a boolean$/);
  await assert.rejects(
    tc.addFilter({ dev: "va0", parent: "1:", kind: "matchall", skipHw: "false" as never }),
    /^TypeError: skipHw: "false" is not a boolean$/,
  );
  await assert.rejects(
    tc.replaceQdisc({ dev: "vb0", kind: "fq_codel", ecn: 1 as never }),
    /^TypeError: ecn: 1 is not a boolean$/,
  );
  assert.deepEqual(filters(), []); // nothing was installed
  // The kernel takes any int32 offset, negative and unaligned too (tc wants 32-bit aligned).
  await u32({ off: -8 });
  assert.deepEqual(filters().flatMap((f) => f.options?.match?.off ?? []), [-8]);
});

test("tc errors: an unknown linklayer, a priomap that is no array and a percentage given as text are refused, not taken", async () => {
  // linklayer "wifi" was taken as ethernet, and the class installed; a priomap string threw
  // 'given.some is not a function'; netem's loss "5" passed as 5%.
  using ns = vethNetns();
  await using tc = await TrafficControl.open({ netns: ns.name });
  await tc.addQdisc({ dev: "va0", handle: "1:", kind: "htb" });
  await assert.rejects(
    tc.addClass({
      ...{ dev: "va0", parent: "1:", classid: "1:10", kind: "htb", rate: "1mbit" },
      linklayer: "wifi" as never,
    }),
    /^RangeError: linklayer: "wifi" is not "ethernet" or "atm"$/,
  );
  assert.equal(tcRun(ns, "class", "show", "dev", "va0").trim(), "");
  await tc.addClass({
    ...{ dev: "va0", parent: "1:", classid: "1:10", kind: "htb", rate: "1mbit" },
    linklayer: "atm",
  });
  assert.match(tcRun(ns, "class", "show", "dev", "va0"), /linklayer atm/);
  assert.throws(
    () => qdiscOptions({ kind: "prio", priomap: "1 2 2 2" as never }),
    /^RangeError: priomap: an array of at most 16 band numbers expected, got "1 2 2 2"$/,
  );
  assert.throws(
    () => qdiscOptions({ kind: "netem", loss: "5" as never }),
    /^RangeError: loss: "5" is not a percentage 0\.\.100$/,
  );
});

test("tc errors: deletes and lists check their handles, kinds and filter handle before looking the device up", async () => {
  // They asked the kernel for the device first: a missing one answered ENODEV rather than the
  // bad value, and a present one cost a request before the RangeError. A filter's handle went
  // to the encoder unchecked ("tcmsg.handle: expected an integer").
  using ns = vethNetns();
  await using tc = await TrafficControl.open({ netns: ns.name });
  const dev = "nosuch0"; // a lookup would answer ENODEV
  const handle = /^RangeError: (parent|classid|qdisc handle): "x" is not a /;
  await assert.rejects(tc.deleteQdisc({ dev, parent: "x" }), handle);
  await assert.rejects(tc.deleteQdisc({ dev, handle: "x" }), handle);
  await assert.rejects(tc.deleteClass({ dev, classid: "x" }), handle);
  await assert.rejects(tc.deleteClass({ dev, classid: "1:1", parent: "x" }), handle);
  await assert.rejects(tc.classes({ dev, parent: "x" }), handle);
  await assert.rejects(tc.filters({ dev, parent: "x" }), handle);
  await assert.rejects(tc.deleteFilter({ dev, parent: "x" }), handle);
  for (const bad of [NaN, -1, "800::800"]) {
    await assert.rejects(
      tc.deleteFilter({ dev, parent: "1:", pref: 1, handle: bad as never }),
      /^RangeError: handle: .* is not an integer in 0\.\.4294967295$/,
    );
  }
  const kind = /^TypeError: kind: 5 is not a kind's name$/;
  await assert.rejects(tc.deleteQdisc({ dev, kind: 5 as never }), kind);
  await assert.rejects(tc.deleteFilter({ dev, parent: "1:", kind: 5 as never }), kind);
  await assert.rejects(tc.deleteQdisc({ dev }), /^NetlinkError: ENODEV: no link named "nosuch0"$/);
});

test("examples/traffic_control.ts runs as its header says; what it prints is what tc -j shows", async () => {
  using ns = new Netns();
  const { status, stdout, stderr } = await runExample("traffic_control.ts", [], {
    prefix: ["ip", "netns", "exec", ns.name],
  });
  assert.equal(status, 0, stderr);
  const [htb] = tcJson<TcJsonQdisc[]>(ns, "qdisc", "show", "dev", "veth0");
  assert.ok(stdout.includes(`qdisc htb 1: root ${JSON.stringify(htb.options)}\n`), stdout);
  assert.match(stdout, /^class htb 1:20 root \{"prio":0,"rate":1250000,"ceil":1250000,/m);
  const [, , entry] = tcJson<TcJsonFilter[]>(ns, "filter", "show", "dev", "veth0");
  assert.equal(entry.options?.flowid, "1:20");
  assert.match(
    stdout,
    /"match":\[\{"value":"a010000","mask":"ffff0000","offmask":"","off":16\},\{"value":"1bb"/,
  );
});

test("tc: a value of the wrong type is a TypeError naming the field, and a spec is checked whole before the device is looked up", async () => {
  // A bigint or bytes for a rate threw "rate: text.slice is not a function" (or
  // "unit.toLowerCase is not a function"); a null parent "Cannot read properties of null
  // (reading 'indexOf')"; an array for a handle was read as its text ([1] as "1").
  const wrong: [() => unknown, string][] = [
    [() => parseRate(10n as never), "rate: 10n is neither a number nor a string with a unit"],
    [() => parseSize(new Uint8Array(2) as never), "size: a Uint8Array of 2 bytes is neither"],
    [() => parseTime(null as never), "time: null is neither a number nor"],
    [() => parseHandle(null as never), "handle: null is neither a number nor a handle"],
    [() => parseHandle([1] as never, "parent"), "parent: [1] is neither a number nor a handle"],
    [() => parseQdiscHandle([1] as never), "qdisc handle: [1] is neither a number nor"],
    [() => parseFilterParent({} as never), "parent: {} is neither a number nor a handle"],
  ];
  for (const [parse, message] of wrong) {
    assert.throws(parse, (e) => e instanceof TypeError && e.message.startsWith(message), message);
  }
  const kernel = new FakeKernel();
  await using socket = await open(NETLINK_ROUTE, { transport: kernel.open });
  const sent: Uint8Array[] = [];
  tap(socket, { sent: (data) => void sent.push(data.slice()) });
  await using tc = await TrafficControl.open({ socket });
  const place = { dev: "veth0", kind: "htb" } as const;
  const tbf = { dev: "veth0", kind: "tbf", rate: "1mbit", burst: "10k", latency: "50ms" } as const;
  const refused: [() => Promise<unknown>, RegExp][] = [
    // The parent and the classid were read only once the device was looked up (a request).
    [
      () => tc.addClass({ ...place, parent: "1:x", classid: "1:1", rate: "1mbit" }),
      /parent: "1:x"/,
    ],
    [
      () => tc.addClass({ ...place, parent: "1:", classid: null!, rate: "1mbit" }),
      /^TypeError: tc\.addClass\(\) spec: classid is null, which it does not take/,
    ],
    [() => tc.addQdisc({ ...place, handle: "1:1" }), /qdisc handle: "1:1"/],
    [() => tc.addQdisc({ ...place, parent: "x" }), /parent: "x"/],
    [() => tc.addFilter({ dev: "veth0", kind: "matchall", parent: "z:" }), /parent: "z:"/],
    [() => tc.addFilter({ dev: "veth0", kind: "matchall", parent: "1:", pref: -1 }), /pref/],
    // Read as a spec with no kind, or "Cannot read properties of undefined (reading 'kind')".
    [
      () => tc.addQdisc(undefined!),
      /^TypeError: tc\.addQdisc\(\) spec must be an object, got undefined/,
    ],
    [() => tc.addClass(undefined!), /^TypeError: tc\.addClass\(\) spec must be an object/],
    [() => tc.replaceFilter(null!), /^TypeError: tc\.replaceFilter\(\) spec must be an object/],
    // qdiscs() dumped the links' names before it checked the device (attack12a).
    [
      () => tc.qdiscs({ dev: null! }),
      /^TypeError: tc\.qdiscs\(\) query: dev is null, which it does not take/,
    ],
    // Refused by the codec once the device was looked up, or sent cut or saturated (attack12a):
    // tc_ratespec's u16 mpu, tc_tbf_qopt's u32 limit, htb's cbuffer in ticks.
    [
      () => tc.addQdisc({ ...tbf, mpu: 70000 }),
      /^RangeError: mpu: 70000 is not an integer in 0\.\.65535$/,
    ],
    [
      () => tc.addQdisc({ ...tbf, rate: "10gbit", latency: "1000s" }),
      /^RangeError: tbf: "limit" too large/,
    ],
    [
      () => tc.addClass({ ...place, parent: "1:", classid: "1:1", rate: "1mbit", cburst: 2 ** 32 }),
      /^RangeError: htb class: cburst out of range$/,
    ],
  ];
  for (const [call, error] of refused) await assert.rejects(call(), error);
  assert.deepEqual(sent, [], "nothing was sent for a spec refused");
});

test("tc lists go through JSON.stringify: the decoded message (u64 counters as bigints) is a getter, as a link's raw", async () => {
  using ns = vethNetns();
  await using tc = await TrafficControl.open({ netns: ns.name });
  await tc.addQdisc({ dev: "va0", handle: "1:", kind: "htb", default: "10" });
  await tc.addClass({ dev: "va0", parent: "1:", classid: "1:10", kind: "htb", rate: "10mbit" });
  await tc.addFilter({
    ...{ dev: "va0", parent: "1:", kind: "u32", protocol: "ip", pref: 5 },
    ...{ match: { dport: 53 }, actions: [{ kind: "mirred", action: "redirect", dev: "vb0" }] },
  });
  const lists = {
    qdiscs: await tc.qdiscs({ dev: "va0" }),
    classes: await tc.classes({ dev: "va0" }),
    filters: await tc.filters({ dev: "va0" }),
  };
  for (const [name, list] of Object.entries(lists)) {
    assert.ok(list.length > 0, name);
    assert.deepEqual(bigintsIn(list, name), [], name);
    const parsed = JSON.parse(JSON.stringify(list));
    assert.equal(parsed[0].message, undefined, name);
    assert.equal(parsed[0].kind, list[0].kind, name);
  }
  const [htb] = lists.qdiscs;
  const stats = (htb.message.stats2 as { basic: { bytes: unknown } }).basic;
  assert.equal(typeof stats.bytes, "bigint", "message keeps the typed layer's values");
  assert.equal(htb.stats.bytes, Number(stats.bytes));
  assert.deepEqual(Object.keys(htb), [
    "dev",
    "ifindex",
    "kind",
    "handle",
    "parent",
    "refcnt",
    "options",
    "stats",
  ]);
});

test("qdiscOptions(): what tc refuses of htb's default (no hex u32) and a fifo's limit (past a u32) is a RangeError naming it", () => {
  for (const bad of ["100000000", "1:20", "2g", "", "-1"]) {
    assert.throws(
      () => qdiscOptions({ kind: "htb", default: bad }),
      /^RangeError: default: .* is not a hexadecimal u32/,
      bad,
    );
  }
  assert.deepEqual(qdiscOptions({ kind: "htb", default: "0x20" }), {
    init: { version: 3, rate2quantum: 10, defcls: 0x20 },
  });
  assert.throws(() => qdiscOptions({ kind: "bfifo", limit: "4gb" }), /^RangeError: limit: /);
  assert.throws(() => qdiscOptions({ kind: "pfifo", limit: "10 apples" }), /^RangeError: limit: /);
});
