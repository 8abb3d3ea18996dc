// What console.log shows of the API's objects is the same on both runtimes: their fields, as
// `ip -j` and `tc -j` show them, without the accessor that keeps the decoded message (`raw`,
// tc's `message`), which Bun's formatter listed as `raw: [Getter]` and Deno's left out.

import assert from "node:assert/strict";
import { test } from "node:test";
import { openRoute, TrafficControl } from "../../src/route/mod.ts";
import { Netns } from "../host/_netns.ts";

/** What console.log prints of `value` on the runtime running the test. */
function printed(value: unknown): string {
  const runtime = globalThis as {
    Bun?: { inspect(value: unknown): string };
    Deno?: { inspect(value: unknown): string };
  };
  return (runtime.Bun ?? runtime.Deno)!.inspect(value);
}

test("console.log of a Link, Address, Route, Rule, FdbEntry and tc's Qdisc shows its fields, not its raw getter", async () => {
  using ns = new Netns([
    "link set lo up",
    "route add blackhole 192.0.2.0/24",
    "link add br0 type bridge",
    "link set br0 up",
  ]);
  await using ip = await openRoute({ netns: ns.name });
  await using tc = await TrafficControl.open({ socket: ip.socket });
  const objects: [string, object][] = [
    ["Link", (await ip.link.list())[0]],
    ["Address", (await ip.addr.list())[0]],
    ["Route", (await ip.route.list())[0]],
    ["Rule", (await ip.rule.list())[0]],
    ["FdbEntry", (await ip.fdb.list())[0]],
    ["Qdisc", (await tc.qdiscs())[0]],
  ];
  for (const [name, object] of objects) {
    const text = printed(object);
    assert.match(text, new RegExp(`^${name} \\{`), text);
    assert.doesNotMatch(text, /Getter|\braw\b|\bmessage\b/, text);
    // Every field is there, and the accessor still answers.
    for (const key of Object.keys(object)) assert.match(text, new RegExp(`\\b${key}\\b`), key);
    assert.ok("raw" in object ? object.raw !== undefined : "message" in object);
  }
});

test("an Address's JSON comes from the hook every API object shares: lifetimes of forever as 4294967295, bytes as arrays", async () => {
  using ns = new Netns([
    "addr add 10.0.0.1/24 dev lo",
    "addr add 10.0.1.1/24 dev lo valid_lft 300 preferred_lft 60",
  ]);
  await using ip = await openRoute({ netns: ns.name });
  const [forever, timed] = ["10.0.0.1", "10.0.1.1"].map(async (address) =>
    (await ip.addr.list({ family: "inet" })).find((a) => a.address === address)!
  );
  const json = JSON.parse(JSON.stringify(await forever));
  assert.equal(json.validLifetime, 4294967295);
  assert.equal(json.preferredLifetime, 4294967295);
  const limited = JSON.parse(JSON.stringify(await timed));
  assert.ok(
    limited.validLifetime > 0 && limited.validLifetime <= 300,
    String(limited.validLifetime),
  );
  assert.ok(limited.preferredLifetime <= 60, String(limited.preferredLifetime));
  // The shared hook: the same function as a Link's, so a byte field (as a Link's nameBytes) is
  // an array of numbers in JSON, not an object keyed by index as JSON.stringify writes a
  // Uint8Array (Address's own toJSON spread its fields as they were).
  const link = (await ip.link.list())[0];
  const address = await forever;
  assert.equal(
    (address as unknown as { toJSON: unknown }).toJSON,
    (link as unknown as { toJSON: unknown }).toJSON,
  );
  Object.assign(address, { extra: new Uint8Array([102, 255, 48]) });
  assert.deepEqual(JSON.parse(JSON.stringify(address)).extra, [102, 255, 48]);
  // A field the mapping names is written as the mapping says only on its own class.
  Object.assign(link, { validLifetime: Infinity });
  assert.equal(JSON.parse(JSON.stringify(link)).validLifetime, null);
});
