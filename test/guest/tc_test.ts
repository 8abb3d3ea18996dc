// Traffic control with the kinds the host kernel lacks (it cannot load modules): fq_codel, prio
// and netem qdiscs; matchall, basic and flower filters with gact actions. Written by the library
// in the guest, read back with `tc -j`, and read by the library as `tc -j` shows them.

import assert from "node:assert/strict";
import { test } from "node:test";
import { TrafficControl } from "../../src/route/tc.ts";
import { Netns } from "../host/_netns.ts";
import { tcJson } from "../route/_tc.ts";

interface TcJsonQdisc {
  kind: string;
  handle: string;
  options: Record<string, unknown>;
}

/** A veth pair left down: nothing moves the counters between tc's read and ours. */
function vethNetns(): Netns {
  const ns = new Netns();
  ns.ip("link", "add", "va0", "type", "veth", "peer", "name", "vb0");
  return ns;
}

test("tc qdiscs fq_codel, prio and netem: written, read back with tc -j, read as tc -j shows them", async () => {
  using ns = vethNetns();
  await using tc = await TrafficControl.open({ netns: ns.name });
  const compare = async () => {
    const want = tcJson<TcJsonQdisc[]>(ns, "qdisc", "show", "dev", "va0");
    const got = await tc.qdiscs({ dev: "va0" });
    assert.deepEqual(got.map((q) => [q.kind, q.handle]), want.map((q) => [q.kind, q.handle]));
    return [got[0].options, want[0].options];
  };

  await tc.addQdisc({
    ...{ dev: "va0", handle: "1:", kind: "fq_codel", limit: 2000, flows: 512, quantum: 1514 },
    ...{ target: "4ms", interval: "80ms", ecn: true, ceThreshold: "2ms" },
    ...{ memoryLimit: "16mb", dropBatch: 32 },
  });
  let [got, want] = await compare();
  assert.deepEqual(got, want);
  assert.equal(want.interval, 80_000);
  assert.equal(want.memory_limit, 16 << 20);
  assert.equal(want.ecn, true);

  await tc.changeQdisc({ dev: "va0", handle: "1:", kind: "fq_codel", limit: 1000 });
  [got, want] = await compare();
  assert.deepEqual(got, want);
  assert.equal(want.limit, 1000);
  await tc.deleteQdisc({ dev: "va0" });

  await tc.addQdisc({ dev: "va0", handle: "2:", kind: "prio", bands: 4, priomap: [3, 2, 1, 0] });
  [got, want] = await compare();
  assert.deepEqual(got, want);
  assert.deepEqual(want.priomap, [3, 2, 1, 0, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
  await tc.deleteQdisc({ dev: "va0" });

  await tc.addQdisc({
    ...{ dev: "va0", handle: "3:", kind: "netem", delay: "100ms", jitter: "10ms", loss: 1 },
    ...{ duplicate: 2, reorder: 25, corrupt: 0.5, rate: "10mbit", limit: 500 },
  });
  const [netem] = tcJson<TcJsonQdisc[]>(ns, "qdisc", "show", "dev", "va0");
  assert.equal(netem.kind, "netem");
  const o = netem.options as Record<string, Record<string, number> | number>;
  assert.equal(o.limit, 500);
  assert.equal((o.delay as Record<string, number>).delay, 0.1);
  assert.equal((o.delay as Record<string, number>).jitter, 0.01);
  assert.equal((o["loss-random"] as Record<string, number>).loss, 0.01);
  assert.equal((o.duplicate as Record<string, number>).duplicate, 0.02);
  assert.equal((o.reorder as Record<string, number>).reorder, 0.25);
  assert.equal((o.corrupt as Record<string, number>).corrupt, 0.005);
  assert.equal((o.rate as Record<string, number>).rate, 1_250_000);
  // The library gives netem's decoded attributes (not tc's JSON shape) in message.options.
  const [mine] = await tc.qdiscs({ dev: "va0" });
  const options = mine.message.options as { limit: number; latency64: bigint };
  assert.deepEqual([options.limit, options.latency64], [500, 100_000_000n]);
});

interface TcJsonFilter {
  protocol: string;
  pref: number;
  kind: string;
  options?: Record<string, unknown>;
}

test("tc filters matchall, basic and flower with gact and mirred actions: written, read as tc -j shows them", async () => {
  using ns = vethNetns();
  await using tc = await TrafficControl.open({ netns: ns.name });
  await tc.addQdisc({ dev: "vb0", kind: "clsact" });
  const place = { dev: "vb0", parent: "ingress", protocol: "ip" } as const;
  await tc.addFilter({
    ...place,
    pref: 10,
    kind: "matchall",
    classid: "1:10",
    actions: ["pass", { kind: "mirred", action: "mirror", direction: "ingress", dev: "va0" }],
  });
  await tc.addFilter({ ...place, pref: 20, kind: "basic", classid: "1:20", actions: ["drop"] });
  await tc.addFilter({
    ...place,
    pref: 30,
    kind: "flower",
    ...{ ipProto: "tcp", dstIp: "10.0.0.0/24", srcIp: "10.1.0.1", dstPort: 80 },
    ...{ classid: "1:10", actions: ["drop"] },
  });
  await tc.addFilter({
    ...place,
    protocol: "ipv6",
    pref: 40,
    kind: "flower",
    ...{ ipProto: "udp", dstMac: "02:00:00:00:00:01", srcIp: "2001:db8::/48", srcPort: 53 },
    ...{ skipHw: true, actions: ["pipe"] },
  });

  const want = tcJson<TcJsonFilter[]>(ns, "filter", "show", "dev", "vb0", "ingress");
  const got = await tc.filters({ dev: "vb0", parent: "ingress" });
  assert.deepEqual(
    got.map((f) => [f.protocol, f.pref, f.kind]),
    want.map((f) => [f.protocol, f.pref, f.kind]),
  );
  got.forEach((f, i) => assert.deepEqual(f.options, want[i].options ?? {}, `${f.kind} ${f.pref}`));
  const flower = want.find((f) => f.pref === 30 && f.options)!.options!;
  assert.deepEqual(flower.keys, {
    eth_type: "ipv4",
    ip_proto: "tcp",
    dst_ip: "10.0.0.0/24",
    src_ip: "10.1.0.1",
    dst_port: 80,
  });

  await tc.deleteFilter({ dev: "vb0", parent: "ingress", pref: 30 });
  assert.ok(
    !tcJson<TcJsonFilter[]>(ns, "filter", "show", "dev", "vb0", "ingress").some((f) =>
      f.pref === 30
    ),
  );
  // A filter kind the kernel lacks, or options it refuses, come back with its text.
  await assert.rejects(
    tc.addFilter({ ...place, pref: 50, kind: "matchall", skipSw: true, actions: ["reclassify"] }),
    /Offload of "reclassify" action is not supported/,
  );
});
