// Bridge VLANs on a kernel with bridge VLAN filtering (the guest's: the host's has none): what
// `bridge vlan` made, listed as `bridge -j vlan show` shows it; what vlan.add() and
// vlan.delete() do, read back with `bridge -j vlan show`.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { test } from "node:test";
import { NetlinkError } from "../../src/errors.ts";
import { openRoute } from "../../src/route/mod.ts";
import { jsdocExamples, runExampleInNetns } from "../_jsdoc.ts";
import { Netns } from "../host/_netns.ts";
import { asBridgeRows, bridge, bridgeVlans } from "../route/_bridge.ts";

/** br0 filtering VLANs, with ports a0 and b0 (veth pairs a0/a1, b0/b1) and c0 no port. */
function bridgeNetns(more: string[] = []): Netns {
  execFileSync("modprobe", ["bridge"], { stdio: "pipe" });
  return new Netns([
    "link add br0 type bridge vlan_filtering 1",
    "link add a0 type veth peer name a1",
    "link add b0 type veth peer name b1",
    "link add c0 type veth peer name c1",
    "link set a0 master br0",
    "link set b0 master br0",
    ...more,
  ]);
}

test("vlan.list() shows what bridge vlan add made as bridge -j vlan show does: PVID, untagged, ranges, the bridge's own", async () => {
  using ns = bridgeNetns();
  bridge(ns, "vlan", "add", "dev", "a0", "vid", "10", "pvid", "untagged");
  bridge(ns, "vlan", "add", "dev", "a0", "vid", "20-22");
  bridge(ns, "vlan", "add", "dev", "b0", "vid", "20", "untagged");
  bridge(ns, "vlan", "add", "dev", "br0", "vid", "30", "self");
  await using ip = await openRoute({ netns: ns.name });
  const all = await ip.vlan.list();
  assert.deepEqual(asBridgeRows(all), bridgeVlans(ns));
  // What bridge shows beyond the rows: whose each VLAN is.
  const a0 = all.find((v) => v.dev === "a0" && v.vid === 10)!;
  assert.equal(a0.master, "br0");
  assert.equal(typeof a0.masterIndex, "number");
  const own = all.find((v) => v.dev === "br0" && v.vid === 30)!;
  assert.equal(own.master, undefined);
  assert.equal(own.masterIndex, undefined);
  assert.deepEqual(asBridgeRows(await ip.vlan.list({ dev: "a0" })), bridgeVlans(ns, "dev", "a0"));
  assert.deepEqual(
    asBridgeRows(await ip.vlan.list({ vid: 20 })),
    bridgeVlans(ns).filter(([, vid]) => vid === 20),
  );
});

test("vlan.add() and vlan.delete() do what bridge vlan add and del do, read back with bridge -j vlan show", async () => {
  using ns = bridgeNetns();
  await using ip = await openRoute({ netns: ns.name });
  await ip.vlan.add({ dev: "b0", vid: 100, pvid: true, untagged: true });
  await ip.vlan.add({ dev: "b0", vid: 200, vidEnd: 203 });
  await ip.vlan.add({ dev: "br0", vid: 300, self: true });
  await ip.vlan.add({ dev: "a0", vid: 400, master: true, untagged: true });
  const rows = (dev: string) => bridgeVlans(ns, "dev", dev).map(([, ...rest]) => rest);
  // Port VLAN 1 (the bridge's default_pvid) stays, no longer the PVID.
  assert.deepEqual(rows("b0"), [
    [1, false, true],
    [100, true, true],
    [200, false, false],
    [201, false, false],
    [202, false, false],
    [203, false, false],
  ]);
  assert.deepEqual(rows("br0"), [[1, true, true], [300, false, false]]);
  assert.deepEqual(rows("a0"), [[1, true, true], [400, false, true]]);
  assert.deepEqual(asBridgeRows(await ip.vlan.list()), bridgeVlans(ns));

  // Adding a VLAN a port has sets its flags, as bridge vlan add does: the PVID moves to 200.
  await ip.vlan.add({ dev: "b0", vid: 200, pvid: true });
  assert.deepEqual(rows("b0").filter(([, pvid]) => pvid), [[200, true, false]]);

  await ip.vlan.delete({ dev: "b0", vid: 201, vidEnd: 203 });
  const [ownVlan] = await ip.vlan.list({ dev: "br0", vid: 300 });
  await ip.vlan.delete(ownVlan); // the bridge's own: deleted with self
  const [portVlan] = await ip.vlan.list({ dev: "a0", vid: 400 });
  await ip.vlan.delete({ ...portVlan }); // a copy of a listed one
  assert.deepEqual(rows("b0"), [[1, false, true], [100, false, true], [200, true, false]]);
  assert.deepEqual(rows("br0"), [[1, true, true]]);
  assert.deepEqual(rows("a0"), [[1, true, true]]);
  assert.deepEqual(asBridgeRows(await ip.vlan.list()), bridgeVlans(ns));

  // A VLAN the port does not have: deleted without error, as the kernel (and bridge) has it.
  bridge(ns, "vlan", "del", "dev", "b0", "vid", "999");
  await ip.vlan.delete({ dev: "b0", vid: 999 });
  assert.deepEqual(asBridgeRows(await ip.vlan.list()), bridgeVlans(ns));
});

test("vlan.add() on a link that is no bridge port, or on the bridge without self: EOPNOTSUPP saying what to do, as bridge fails", async () => {
  using ns = bridgeNetns();
  await using ip = await openRoute({ netns: ns.name });
  for (const dev of ["c0", "br0"]) {
    assert.throws(() => bridge(ns, "vlan", "add", "dev", dev, "vid", "10"), /not supported/);
    await assert.rejects(ip.vlan.add({ dev, vid: 10 }), (err) => {
      assert.ok(err instanceof NetlinkError);
      assert.equal(err.code, "EOPNOTSUPP");
      assert.match(err.message, new RegExp(`vlan add 10 dev ${dev}: .*give self: true`));
      return true;
    });
  }
  assert.deepEqual(asBridgeRows(await ip.vlan.list()), bridgeVlans(ns));
});

// The route layer's JSDoc examples of bridge VLANs (test/route/jsdoc_examples_test.ts runs the
// others on the host, whose kernel has no VLAN filtering), as pasted, on a bridge br0 with ports
// veth0 and veth1.
const examples = readdirSync(new URL("../../src/route/", import.meta.url))
  .filter((f) => f.endsWith(".ts"))
  .flatMap((f) => jsdocExamples(`src/route/${f}`))
  .filter(({ code }) => /ip\.vlan\./.test(code));

test("the route layer has bridge VLAN JSDoc examples", () => {
  assert.ok(examples.length >= 5, `${examples.length} examples`);
});

for (const { where, code } of examples) {
  test(`JSDoc example runs: ${where}`, () => {
    using ns = bridgeNetns([
      "link add veth0 type veth peer name veth1",
      "link set veth0 master br0",
      "link set veth1 master br0",
    ]);
    const child = runExampleInNetns(ns.name, code);
    assert.equal(child.status, 0, `${where}\n${code}\n${child.stderr}`);
  });
}
