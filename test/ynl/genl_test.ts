// The generated generic netlink families this host kernel registers (nlctrl, netdev, ethtool,
// tcp_metrics, mptcp_pm) against the host kernel, in fresh network namespaces, compared with
// resolveFamily() and with `ip -j` where iproute2 shows the same.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { test } from "node:test";
import { NETLINK_GENERIC } from "../../src/constants.ts";
import { NetlinkError } from "../../src/errors.ts";
import { resolveFamily } from "../../src/genl.ts";
import { open } from "../../src/open.ts";
import { ethtool } from "../../src/ynl/ethtool.ts";
import { family, FamilyError } from "../../src/ynl/mod.ts";
import { mptcpPm } from "../../src/ynl/mptcp_pm.ts";
import { netdev } from "../../src/ynl/netdev.ts";
import { nlctrl } from "../../src/ynl/nlctrl.ts";
import { tcpMetrics } from "../../src/ynl/tcp_metrics.ts";
import { ipv4Number } from "../_format.ts";
import { Netns } from "../host/_netns.ts";

function withVeth(ns: Netns): number {
  ns.ip("link", "add", "va0", "type", "veth", "peer", "name", "vb0");
  ns.ip("link", "set", "va0", "up");
  ns.ip("link", "set", "vb0", "up");
  return ns.json<{ ifindex: number }[]>("link", "show", "va0")[0].ifindex;
}

test("nlctrl: getfamily matches resolveFamily(); getpolicy decodes nest-type-value", async () => {
  await using ctrl = await family(nlctrl);
  const families = await ctrl.dump("getfamily");
  const names = families.map((f) => f.familyName);
  for (const name of ["nlctrl", "netdev", "ethtool", "tcp_metrics", "mptcp_pm"]) {
    assert.ok(names.includes(name), name);
  }
  const expected = await resolveFamily(ctrl.socket, "netdev");
  const got = await ctrl.do("getfamily", { familyName: "netdev" });
  assert.equal(got.familyId, expected.id);
  assert.equal(got.version, expected.version);
  assert.deepEqual(
    new Map(got.mcastGroups!.map((group) => [group.name, group.id])),
    expected.groups,
  );
  assert.ok(got.ops!.length > 0 && got.ops!.every((op) => typeof op.id === "number"));
  // The family's id and groups were resolved once, through the same nlctrl.
  assert.equal(ctrl.generic!.id, 0x10);

  const policies = await ctrl.dump("getpolicy", { familyName: "netdev" });
  const perOp = policies.flatMap((p) => p.opPolicy ?? []);
  assert.ok(perOp.some((entry) => entry.opId === got.ops![0].id));
  const attributes = policies.flatMap((p) => p.policy ?? []);
  assert.ok(attributes.length > 0);
  for (const attribute of attributes) {
    assert.equal(typeof attribute.policyId, "number");
    assert.equal(typeof attribute.attrId, "number");
    assert.equal(typeof attribute.type, "string"); // attr-type enum, by the kernel's name
  }
  assert.ok(attributes.some((a) => a.type === "u32")); // netdev's ifindex
});

test("netdev: dev-get dump lists `ip -j link show`; mgmt monitor sees a new device", async () => {
  using ns = new Netns();
  const vaIndex = withVeth(ns);
  await using nd = await family(netdev, { netns: ns.name });
  const devices = await nd.dump("dev-get");
  const links = ns.json<{ ifindex: number }[]>("link", "show");
  assert.deepEqual(devices.map((d) => d.ifindex).sort(), links.map((l) => l.ifindex).sort());
  const va = await nd.do("dev-get", { ifindex: vaIndex });
  assert.equal(va.ifindex, vaIndex);
  assert.equal(typeof va.xdpFeatures, "bigint");
  assert.ok(va.xdpFeatures! > 0n); // veth does XDP

  const events = nd.monitor({ groups: ["mgmt"] });
  const next = events.next();
  ns.ip("link", "add", "vc0", "type", "veth", "peer", "name", "vd0");
  const { value } = await next;
  assert.equal(value?.op, "dev-add-ntf");
  const added = ns.json<{ ifindex: number }[]>("link", "show").map((l) => l.ifindex);
  assert.ok(added.includes((value!.message as { ifindex: number }).ifindex));
  await events.return();
});

test("ethtool: linkinfo, linkstate, features, channels of a veth; channels-ntf", async () => {
  using ns = new Netns();
  const vaIndex = withVeth(ns);
  await using et = await family(ethtool, { netns: ns.name });
  const info = await et.do("linkinfo-get", { header: { devName: "va0" } });
  assert.deepEqual(info.header, { devIndex: vaIndex, devName: "va0" });
  const state = await et.do("linkstate-get", { header: { devIndex: vaIndex } });
  assert.equal(state.link, 1); // both ends up: carrier
  const features = await et.do("features-get", { header: { devName: "va0" } });
  const active = features.active!.bits!.bit!.map((bit) => bit.name);
  assert.ok(active.includes("rx-checksum") && active.includes("highdma"), active.join());
  // As src/ynl/README.md says: a nomask bitset lists the bits that are on, without `value`; one
  // with a mask (hw) lists the mask's bits, `value: true` on those that are on.
  assert.equal(features.active!.nomask, true);
  assert.ok(features.active!.bits!.bit!.every((bit) => bit.value === undefined));
  assert.equal(features.hw!.nomask, undefined);
  assert.ok(features.hw!.bits!.bit!.some((bit) => bit.value === true));
  assert.ok(features.hw!.bits!.bit!.some((bit) => bit.value === undefined));
  const everyLink = await et.dump("linkinfo-get");
  assert.deepEqual(
    everyLink.map((l) => l.header!.devName).sort(),
    // Dumps skip devices without ethtool operations: loopback.
    ns.json<{ ifname: string }[]>("link", "show").map((l) => l.ifname).filter((n) => n !== "lo")
      .sort(),
  );

  const channels = await et.do("channels-get", { header: { devName: "va0" } });
  assert.ok(channels.rxMax! >= 2, `rxMax ${channels.rxMax}`);
  const events = et.monitor(); // every group the kernel has: ethtool's spec lists none
  const next = events.next();
  await et.do("channels-set", { header: { devName: "va0" }, rxCount: 2 });
  const { value } = await next;
  assert.equal(value?.op, "channels-ntf");
  const changed = value!.message as { header: { devName: string }; rxCount: number };
  assert.equal(changed.header.devName, "va0");
  assert.equal(changed.rxCount, 2);
  await events.return();
});

test("ethtool: monitor() yields no notification made before the call: a previous monitor's left unread are skipped", async () => {
  using ns = new Netns();
  withVeth(ns);
  await using et = await family(ethtool, { netns: ns.name });
  const first = et.monitor({ signal: AbortSignal.timeout(10_000) });
  const step = first.next();
  // Two notifications (a veth starts with 1 rx channel; a set that changes nothing notifies
  // nothing): the first monitor takes the one of rxCount 2.
  await et.do("channels-set", { header: { devName: "va0" }, rxCount: 2 });
  await et.do("channels-set", { header: { devName: "va0" }, rxCount: 1 });
  assert.equal((await step).value?.op, "channels-ntf");
  await first.return();
  // Made after the second monitor() call: its first notification, not the one of rxCount 1.
  const second = et.monitor({ signal: AbortSignal.timeout(10_000) });
  await et.do("channels-set", { header: { devName: "va0" }, rxCount: 2 });
  const { value } = await second.next();
  await second.return();
  assert.equal(value?.op, "channels-ntf");
  assert.equal((value!.message as { rxCount: number }).rxCount, 2);
});

test("ethtool: stats-get of a veth answers every group asked for, as `ethtool --json -S` does", async () => {
  using ns = new Netns();
  withVeth(ns);
  await using et = await family(ethtool, { netns: ns.name });
  const asked = ["eth-phy", "eth-mac", "eth-ctrl", "rmon"];
  const stats = await et.do("stats-get", {
    header: { devName: "va0" },
    groups: { nomask: true, bits: { bit: asked.map((name) => ({ name })) } },
  });
  // Names by id in a string set: the groups' in ETH_SS_STATS_STD (16), the counters' in ss-id.
  const strings = async (id: number) => {
    const reply = await et.do("strset-get", {
      header: { devName: "va0" },
      stringsets: { stringset: [{ id }] },
    });
    const set = reply.stringsets!.stringset![0];
    return new Map(set.strings?.[0].string?.map((s): [number, string] => [s.index!, s.value!]));
  };
  const groupNames = await strings(16);
  const ours: Record<string, Record<string, number>> = {};
  for (const group of stats.grp!) {
    const counterNames = await strings(group.ssId!);
    ours[groupNames.get(group.id!)!] = Object.fromEntries(
      (group.stat ?? []).map((counter) => [counterNames.get(counter.id)!, Number(counter.value)]),
    );
  }
  const output = execFileSync(
    "ip",
    ["netns", "exec", ns.name, "ethtool", "--json", "-S", "va0", "--groups", ...asked],
    { encoding: "utf8" },
  );
  const [theirs] = JSON.parse(output) as Record<string, unknown>[];
  const { ifname, ...groups } = theirs;
  assert.equal(ifname, "va0");
  // Every group (before the spec's correction, the first alone), with the same counters.
  assert.deepEqual(Object.keys(ours), asked);
  assert.deepEqual(ours, groups);
});

test("tcp_metrics: get dump equals `ip -j tcp_metrics show`; del", async () => {
  using client = new Netns();
  using server = new Netns();
  client.ip("link", "add", "va0", "type", "veth", "peer", "name", "vb0", "netns", server.name);
  client.ip("addr", "add", "10.1.2.3/24", "dev", "va0");
  client.ip("link", "set", "va0", "up");
  server.ip("addr", "add", "10.1.2.4/24", "dev", "vb0");
  server.ip("link", "set", "vb0", "up");
  // A TCP connection that closes leaves its metrics in the client's namespace.
  const listener = spawn("ip", [
    "netns",
    "exec",
    server.name,
    "python3",
    "-c",
    "import socket,sys\n"
    + "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    + "s.bind(('10.1.2.4', 5000)); s.listen(); print('ready', flush=True)\n"
    + "a,_=s.accept()\nwhile a.recv(65536): pass\n",
  ], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    await new Promise<void>((resolve, reject) => {
      listener.stdout!.once("data", () => resolve());
      listener.once("exit", (code) => reject(new Error(`listener exited with ${code}`)));
    });
    execFileSync("ip", [
      "netns",
      "exec",
      client.name,
      "python3",
      "-c",
      "import socket\nc=socket.create_connection(('10.1.2.4', 5000)); c.sendall(b'x'*1000000); c.close()",
    ]);
    await new Promise<void>((resolve) => listener.once("exit", () => resolve()));
  } finally {
    listener.kill();
  }

  await using tm = await family(tcpMetrics, { netns: client.name });
  let metrics = await tm.dump("get");
  for (let i = 0; metrics.length === 0 && i < 50; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20)); // saved as the socket closes
    metrics = await tm.dump("get");
  }
  const want = client.json<{ dst: string; source: string; cwnd?: number }[]>("tcp_metrics", "show");
  assert.equal(metrics.length, want.length);
  assert.equal(metrics.length, 1);
  // Text, as their display hint says (and as ip prints them).
  assert.equal(metrics[0].addrIpv4, want[0].dst);
  assert.equal(metrics[0].saddrIpv4, want[0].source);
  assert.equal(metrics[0].vals?.cwnd, want[0].cwnd);
  assert.equal(typeof metrics[0].age, "bigint");
  const one = await tm.do("get", { addrIpv4: "10.1.2.4" });
  assert.equal(one.saddrIpv4, "10.1.2.3");

  await tm.do("del", { addrIpv4: ipv4Number("10.1.2.4") });
  assert.deepEqual(await tm.dump("get"), []);
  await assert.rejects(
    tm.do("get", { addrIpv4: ipv4Number("10.1.2.4") }),
    (err: unknown) => err instanceof NetlinkError,
  );
});

test("mptcp_pm: endpoints and limits equal `ip -j mptcp`", async () => {
  using ns = new Netns();
  withVeth(ns);
  ns.ip("addr", "add", "10.1.2.3/24", "dev", "va0");
  await using sock = await open(NETLINK_GENERIC, { netns: ns.name });
  await using mp = await family(mptcpPm, { socket: sock });
  // Addresses as text (the spec's display hint, which ynl_corrections.ts gives mptcp_pm), as
  // pyroute2 takes them; a wrong one is refused before any request.
  await assert.rejects(
    mp.do("add-addr", { addr: { family: 2, id: 9, addr4: "10.9.0.256" } }),
    (err: unknown) => err instanceof TypeError && /^addr\.addr4: "10\.9\.0\.256"/.test(err.message),
  );
  await mp.do("add-addr", { addr: { family: 2, id: 7, addr4: "10.1.2.3", flags: 1 } });
  await mp.do("add-addr", { addr: { family: 10, id: 8, addr6: "2001:db8::3", flags: 1 } });
  await mp.do("set-limits", { rcvAddAddrs: 3, subflows: 2 });

  const endpoints = await mp.dump("get-addr");
  assert.deepEqual(endpoints.map((e) => e.addr), [
    { family: 2, id: 7, addr4: "10.1.2.3", port: 0, flags: 1 },
    { family: 10, id: 8, addr6: "2001:db8::3", port: 0, flags: 1 },
  ]);
  assert.deepEqual((await mp.do("get-addr", { addr: { id: 7 } })).addr?.addr4, "10.1.2.3");
  assert.deepEqual(ns.json("mptcp", "endpoint", "show"), [
    { address: "10.1.2.3", id: 7, signal: true },
    { address: "2001:db8::3", id: 8, signal: true },
  ]);
  const limits = await mp.do("get-limits", {});
  // iproute2 6.1 prints limits as text only: "add_addr_accepted 3 subflows 2".
  const want = Object.fromEntries(
    ns.ip("mptcp", "limits").trim().split(/\s+/).flatMap((word, i, words) =>
      i % 2 ? [] : [[word, Number(words[i + 1])]]
    ),
  );
  assert.deepEqual(limits, { rcvAddAddrs: want.add_addr_accepted, subflows: want.subflows });

  await mp.do("del-addr", { addr: { id: 7 } });
  await mp.do("del-addr", { addr: { id: 8 } });
  assert.deepEqual(await mp.dump("get-addr"), []);
  // The family stays resolved on the socket: a second client reuses it.
  await using again = await family(mptcpPm, { socket: sock });
  assert.equal(again.generic, mp.generic);
  mp.close(); // a borrowed socket stays open
  assert.equal(sock.closed, false);
});

test("extended acks as paths: a missing attribute by name; ops by name; an unknown family", async () => {
  using ns = new Netns();
  await using nd = await family(netdev, { netns: ns.name });
  // The kernel names the missing attribute by number (NLMSGERR_ATTR_MISS_TYPE).
  await assert.rejects(nd.do("dev-get", {}), (err: unknown) => {
    assert.ok(err instanceof FamilyError, String(err));
    assert.ok(err instanceof NetlinkError);
    assert.equal(err.code, "EINVAL");
    assert.equal(err.missingAttribute, "ifindex");
    assert.match(err.message, /missing ifindex/);
    return true;
  });
  // Every refusal names its family and operation, as the route layer's name theirs; the
  // kernel's errno stays in code and errno.
  // (A dump's: nlctrl's getpolicy below.)
  await using et0 = await family(ethtool, { socket: nd.socket });
  await assert.rejects(et0.do("rings-get", { header: { devName: "lo" } }), (err: unknown) => {
    assert.ok(err instanceof FamilyError, String(err));
    assert.equal(err.code, "EOPNOTSUPP");
    assert.equal(err.errno, 95);
    assert.equal(err.operation, "ethtool rings-get");
    assert.equal(err.message, "EOPNOTSUPP: ethtool rings-get: Operation not supported");
    return true;
  });

  // An offset past the genlmsghdr, inside a nest: ethtool's request header.
  await using et = await family(ethtool, { socket: nd.socket });
  await assert.rejects(
    et.do("linkinfo-get", { header: { devName: "nosuchdev0" } }),
    (err: unknown) =>
      err instanceof FamilyError && err.code === "ENODEV" && err.attribute === "header.devName"
      && err.message === "ENODEV: ethtool linkinfo-get: no device matches name, at header.devName",
  );

  const ops = await nd.operations();
  const devGet = ops.find((op) => op.id === netdev.ops["dev-get"].request);
  assert.deepEqual(devGet, {
    name: "dev-get",
    id: devGet!.id,
    do: true,
    dump: true,
    adminOnly: false,
  });
  assert.ok(ops.every((op) => op.name === undefined || Object.hasOwn(netdev.ops, op.name)));

  await using ctrl = await family(nlctrl, { socket: nd.socket });
  await assert.rejects(
    ctrl.do("getfamily", { familyName: "no-such-family" }),
    (err: unknown) =>
      err instanceof NetlinkError && err.code === "ENOENT"
      && /"no-such-family" is not registered \(is its module loaded\?\)/.test(err.message),
  );
});

test("typed nlctrl: getfamily by id and getpolicy of a family not registered say so, not a bare ENOENT", async () => {
  await using ctrl = await family(nlctrl);
  await assert.rejects(
    ctrl.do("getfamily", { familyId: 65000 }),
    (err: unknown) =>
      err instanceof NetlinkError && err.code === "ENOENT"
      && err.message
        === "ENOENT: nlctrl getfamily: no generic netlink family has id 65000 (is its module loaded?)",
  );
  for (
    const run of [() => ctrl.dump("getpolicy", { familyName: "no-such-family" }), async () => {
      for await (const _ of ctrl.dumpStream("getpolicy", { familyName: "no-such-family" })) break;
    }]
  ) {
    await assert.rejects(
      run(),
      (err: unknown) =>
        err instanceof NetlinkError && err.code === "ENOENT"
        && err.message
          === "ENOENT: nlctrl getpolicy: generic netlink family \"no-such-family\" is not registered (is its module loaded?)",
    );
  }
  // nlctrl points at the op it lacks: that stays the kernel's, as a path.
  await assert.rejects(
    ctrl.dump("getpolicy", { familyName: "nlctrl", op: 200 }),
    (err: unknown) => err instanceof FamilyError && err.attribute === "op",
  );
});
