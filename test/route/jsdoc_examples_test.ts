// The route layer's JSDoc examples that talk to the kernel (scripts/check.sh only type-checks
// them), pasted as a new user would (imports rewritten to this checkout, the namespace "blue" to
// the one they run in), each run on the runtime running the tests (Deno: --allow-ffi alone, as
// the README says, and --no-check: scripts/check.sh type-checks them) in a fresh namespace holding what test/route/docs_test.ts gives the README's
// snippets (eth0 with 10.0.0.1/24), plus what the example works on when it does not make it
// itself (SETUP). Each must exit 0 and print the values its comments give. Left out: the two
// that watch events until killed (docs_test runs the README's monitor).

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { jsdocExamples, promisedValues, runExampleInNetns } from "../_jsdoc.ts";
import { Netns } from "../host/_netns.ts";

const root = new URL("../../", import.meta.url).pathname;

const examples = readdirSync(join(root, "src/route"))
  .filter((f) => f.endsWith(".ts"))
  .flatMap((f) => jsdocExamples(`src/route/${f}`))
  .filter(({ code }) => /openRoute\(|TrafficControl\.open\(/.test(code))
  .filter(({ code }) => !/\.monitor\(/.test(code))
  // Bridge VLANs need a kernel with bridge VLAN filtering: test/guest/bridge_vlan_test.ts runs them.
  .filter(({ code }) => !/ip\.vlan\./.test(code));

// What an example works on without making it, keyed by a line of the example: ip -batch lines,
// or a tc or bridge command (first word "tc", "bridge"). Every example naming veth0 but not making it gets one.
const VETH0 = ["link add veth0 type veth peer name veth1", "link set veth0 up"];
const HTB = "tc qdisc add dev veth0 root handle 1: htb default 10";
const CLASS = "tc class add dev veth0 parent 1: classid 1:10 htb rate 5mbit";
const NEXTHOP = "nexthop add id 1 via 10.0.0.2 dev eth0";
const SETUP: [string, string[]][] = [
  ["ip.addr.add(\"eth0\", \"10.0.0.1/24\"", ["addr flush dev eth0"]],
  ["portData: { learning", ["link add br0 type bridge", "link set veth0 master br0"]],
  ["ip.neigh.delete(", ["neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0"]],
  ["ip.nexthop.get(1)", [NEXTHOP]],
  ["ip.nexthop.replace(", [NEXTHOP]],
  ["ip.nexthop.delete(1)", [NEXTHOP]],
  ["ip.route.get(\"192.0.2.1\")", ["route add default via 10.0.0.254"]],
  ["ip.route.delete({ dst: \"10.1.0.0/16\", table: 100 })", [
    "route add 10.1.0.0/16 via 10.0.0.2 table 100",
  ]],
  ["ip.rule.delete({ priority: 100 })", ["rule add priority 100 table 100"]],
  ["dev: \"veth0\", flags: [\"master\"]", [
    "link add br0 type bridge",
    "link set veth0 master br0",
  ]],
  ["ip.fdb.list({ master: \"br0\" })", ["link add br0 type bridge"]],
  ["ip.fdb.append(", ["link add vx0 type vxlan id 42 dstport 4789"]],
  ["ip.fdb.delete(", ["bridge fdb add 02:00:00:00:00:02 dev veth0 master static"]],
  ["tc.changeQdisc(", [
    "tc qdisc add dev veth0 root handle 1: tbf rate 1mbit burst 10kb latency 50ms",
  ]],
  ["tc.deleteQdisc(", [HTB, "tc qdisc add dev veth0 clsact"]],
  ["tc.addClass({ dev: \"veth0\"", [HTB]],
  ["tc.changeClass(", [HTB, CLASS]],
  ["tc.replaceClass(", [HTB]],
  ["tc.deleteClass(", [HTB, CLASS]],
  ["tc.classes(", [HTB, CLASS]],
  ["tc.addFilter({\n  dev: \"veth0\"", [HTB]],
  ["tc.replaceFilter(", [HTB]],
  ["tc.filters({ dev: \"veth0\", parent: \"ingress\" })", ["tc qdisc add dev veth0 clsact"]],
  ["tc.deleteFilter(", [
    HTB,
    "tc filter add dev veth0 parent 1: pref 10 protocol ip u32 match ip dport 80 0xffff classid 1:10",
  ]],
];

/** A setup line that is a tc or bridge command, not an ip -batch line. */
const OTHER_TOOL = /^(tc|bridge) /;

/** The setup of an example: its link veth0 first, then what its lines need. */
function setupOf(code: string): string[] {
  const veth0 = code.includes("\"veth0\"") && !code.includes("name: \"veth0\"") ? VETH0 : [];
  // Once each: two keys of one example may need the same line (tc.deleteClass( and tc.classes().
  const lines = SETUP.filter(([key]) => code.includes(key)).flatMap(([, lines]) => lines);
  return [...veth0, ...new Set(lines)];
}

test("the route layer has JSDoc examples that talk to the kernel, and each has its setup", () => {
  assert.ok(examples.length >= 40, `${examples.length} examples`);
  for (const [key] of SETUP) {
    assert.ok(examples.some(({ code }) => code.includes(key)), `no example has ${key}`);
  }
});

for (const { where, code } of examples) {
  test(`JSDoc example runs: ${where}`, () => {
    const commands = setupOf(code);
    using ns = new Netns([
      "link add eth0 type veth peer name eth0p",
      "link set eth0 up",
      "link set eth0p up",
      "addr add 10.0.0.1/24 dev eth0",
      ...commands.filter((c) => !OTHER_TOOL.test(c)),
    ]);
    for (const command of commands.filter((c) => OTHER_TOOL.test(c))) {
      execFileSync("ip", ["netns", "exec", ns.name, ...command.split(" ")], { stdio: "pipe" });
    }
    const child = runExampleInNetns(ns.name, code);
    assert.equal(child.status, 0, `${where}\n${code}\n${child.stderr}`);
    for (const value of promisedValues(code)) {
      assert.ok(child.stdout.split("\n").includes(value), `${where}: ${value}\n${child.stdout}`);
    }
  });
}
