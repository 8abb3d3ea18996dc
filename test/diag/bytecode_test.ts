// The filter compiler against the bytecode iproute2's ss 6.1 sends for the same expressions
// (captured with `strace -e trace=sendmsg -e write=3 ss -tan EXPR`), and its refusals.

import assert from "node:assert/strict";
import { test } from "node:test";
import { compileFilter, type InetFilter, inetSockets } from "../../src/diag/mod.ts";

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

const SS: [string, InetFilter, string][] = [
  ["sport = :22", { sport: 22 }, "07101400000000001600000000000000"],
  [
    "sport = :22 or dport >= :1024",
    { any: [{ sport: 22 }, { dport: { ge: 1024 } }] },
    "0710140000000000160000000000000001040c0004080c0000000004",
  ],
  ["src 10.0.0.0/8", { src: "10.0.0.0/8" }, "0710140002080000ffffffff0a000000"],
  ["not dport = :80", { not: { dport: 80 } }, "0810140000000000500000000000000001040800"],
  ["dport != :22", { dport: { ne: 22 } }, "0810140000000000160000000000000001040800"],
  ["sport > :1024", { sport: { gt: 1024 } }, "03080c000000000401040800"],
  ["sport < :1000", { sport: { lt: 1000 } }, "02080c000000e80301040800"],
  [
    "src 10.0.0.0/8 and sport = :22",
    { all: [{ src: "10.0.0.0/8" }, { sport: 22 }] },
    "0710240002080000ffffffff0a00000007101400000000001600000000000000",
  ],
  [
    "dst [::1]:443",
    { dst: "::1", port: 443 },
    "081c20000a800000bb01000000000000000000000000000000000001",
  ],
  [
    "sport >= :1000 and sport <= :2000",
    { sport: { ge: 1000, le: 2000 } },
    "020814000000e80303080c000000d007",
  ],
  ["fwmark = 0x1/0xff", { mark: 1, mask: 0xff }, "0a0c100001000000ff000000"],
  [
    "( sport = :1 or sport = :2 ) and not dst 127.0.0.1",
    { all: [{ any: [{ sport: 1 }, { sport: 2 }] }, { not: { dst: "127.0.0.1" } }] },
    "0710140000000000010000000000000001041400071028000000000002000000000000000810140002200000ffffffff7f00000101040800",
  ],
];

for (const [expression, filter, bytes] of SS) {
  test(`compileFilter matches ss's bytecode for '${expression}'`, () => {
    assert.equal(hex(compileFilter(filter)), bytes);
  });
}

test("the conditions ss has no syntax for have the kernel's shape: op, then the argument", () => {
  // INET_DIAG_BC_DEV_COND (9): yes = 8 (op + u32), no = 12; then the ifindex.
  assert.equal(hex(compileFilter({ dev: 2 })), "09080c0002000000");
  // INET_DIAG_BC_CGROUP_COND (13): op + u64.
  assert.equal(hex(compileFilter({ cgroup: 0x1234n })), "0d0c10003412000000000000");
  // A number, as InetSocket.cgroupId reads, the same.
  assert.equal(hex(compileFilter({ cgroup: 0x1234 })), "0d0c10003412000000000000");
  // INET_DIAG_BC_AUTO (6): no argument.
  assert.equal(hex(compileFilter({ autobound: true })), "06040800");
  // A mark without a mask matches all its bits.
  assert.equal(hex(compileFilter({ mark: 5 })), "0a0c100005000000ffffffff");
});

test("empty lists: all of nothing accepts every socket, any of nothing none", () => {
  assert.equal(hex(compileFilter({ all: [] })), "");
  // A lone jump past the end + 4: reject.
  assert.equal(hex(compileFilter({ any: [] })), "01040800");
});

test("bad filters throw before anything is sent, saying what is wrong", () => {
  const bad: [unknown, RegExp][] = [
    [{ sport: 65536 }, /sport must be a port number from 0 to 65535/],
    [{ dport: -1 }, /dport must be a port number/],
    [{ sport: { above: 3 } }, /unknown bound "above"/],
    [{ sport: {} }, /has no bound/],
    [{ src: "10.0.0.0/33" }, /src/],
    [{ dst: 7 }, /dst must be an address/],
    [{ src: "10.0.0.1", port: 1.5 }, /src port must be a port number/],
    [{ sport: 1, dport: 2 }, /exactly one of/],
    [{}, /exactly one of/],
    // ss's words, a port of neither end, a misspelt key: what to write instead.
    [{ port: 443 }, /got keys port \(port goes with src or dst.*\{ any: \[\{ sport: 443 \}/],
    [{ daddr: "10.0.0.1" }, /unknown filter key "daddr" \(did you mean "dst"\?\)/],
    [{ dprot: 443 }, /unknown filter key "dprot" \(did you mean "dport"\?\)/],
    [{ all: "x" }, /all must be an array/],
    [{ mark: -1 }, /mark must be an integer/],
    [{ cgroup: -1 }, /cgroup must be a u64 cgroup id/],
    [
      { cgroup: 2 ** 53 },
      /cgroup must be a u64 cgroup id \(a safe integer or a bigint\), got 9007199254740992/,
    ],
    [{ cgroup: 1.5 }, /cgroup must be a u64 cgroup id/],
    [{ autobound: false }, /autobound must be true/],
    [null, /a filter must be an object/],
  ];
  for (const [filter, message] of bad) {
    assert.throws(() => compileFilter(filter as InetFilter), message, JSON.stringify(filter));
  }
});

test("a filter too large for an attribute or for the 16-bit jumps is refused", () => {
  const many: InetFilter = { any: Array.from({ length: 4200 }, (_, i) => ({ sport: i })) };
  assert.throws(
    () => compileFilter(many),
    /compiles to 83996 bytes of bytecode; an attribute holds 65531/,
  );
  // An AND's failure jump skips everything after it: 4,000 conditions make it too long.
  const nested: InetFilter = {
    all: [{ not: { sport: 1 } }, { any: Array.from({ length: 4000 }, (_, i) => ({ sport: i })) }],
  };
  assert.throws(() => compileFilter(nested), /too large for inet_diag bytecode/);
});

test("a filter nested past 64 levels, or containing itself, is refused saying what to do, before any I/O", async () => {
  // Compiling recursed once per level: `not` 100,000 times deep, or a cycle, threw "Maximum call
  // stack size exceeded".
  const nots = (levels: number): InetFilter => {
    let filter: InetFilter = { sport: 22 };
    for (let i = 0; i < levels; i++) filter = { not: filter };
    return filter;
  };
  assert.equal(compileFilter(nots(64)).length, compileFilter({ sport: 22 }).length + 64 * 4);
  const deep =
    /^RangeError: a filter nests all, any and not more than 64 levels deep: flatten it \(one all or any lists every condition; not of not is the filter itself\)$/;
  assert.throws(() => compileFilter(nots(65)), deep);
  assert.throws(() => compileFilter(nots(100_000)), deep);
  // The queries compile it before they open anything.
  await assert.rejects(inetSockets({ filter: nots(100_000) }), deep);
  const cycle =
    /^TypeError: a filter contains itself \(a cycle through all, any or not\): build it as a tree, with a new object where the same condition appears again$/;
  const loop: { not: unknown } = { not: undefined };
  loop.not = loop;
  assert.throws(() => compileFilter(loop as InetFilter), cycle);
  const list: InetFilter[] = [{ sport: 1 }];
  const around: InetFilter = { any: [{ all: list }] };
  list.push({ not: around });
  assert.throws(() => compileFilter(around), cycle);
  // One object used twice is no cycle.
  const leaf: InetFilter = { sport: 1 };
  assert.equal(compileFilter({ all: [leaf, { not: leaf }] }).length, 36);
});
