// Errors that say what to do: EPERM names the capability, an unknown link name says so, the
// kernel's extended-ack text is kept, and bad values are refused before any request.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { NetlinkError } from "../../src/errors.ts";
import { openRoute } from "../../src/route/mod.ts";
import { tap } from "../../src/tap.ts";
import { Netns } from "../host/_netns.ts";

test("EPERM says CAP_NET_ADMIN: run as root (routes, traffic control, the typed layer)", () => {
  using ns = new Netns();
  const child = new URL("./_eperm_child.ts", import.meta.url).pathname;
  const isBun = (globalThis as { Bun?: unknown }).Bun !== undefined;
  const runtime = isBun
    ? [process.execPath, child, ns.name]
    : [process.execPath, "run", "-A", child, ns.name];
  // Root without CAP_NET_ADMIN (CAP_SYS_ADMIN kept, to enter the namespace).
  const out = execFileSync("setpriv", [
    "--inh-caps=-net_admin",
    "--bounding-set=-net_admin",
    ...runtime,
  ], {
    encoding: "utf8",
  });
  const [link, qdisc, ethtoolSet] = out.trim().split("\n");
  assert.match(link, /^NetlinkError: EPERM: link add nope0: .*needs CAP_NET_ADMIN: run as root/);
  // TrafficControl's too, from the same module.
  assert.match(qdisc, /^NetlinkError: EPERM: qdisc add on lo: .*needs CAP_NET_ADMIN: run as root/);
  // The typed layer's: a generic family's admin-only operation (GENL_ADMIN_PERM).
  assert.equal(
    ethtoolSet,
    "FamilyError: EPERM: ethtool channels-set: Operation not permitted (needs CAP_NET_ADMIN: run "
      + "as root, or grant the process that capability)",
  );
});

test("setns EPERM says CAP_SYS_ADMIN: run as root, as the other hints do", () => {
  using ns = new Netns();
  const open = new URL("../../src/route/mod.ts", import.meta.url).href;
  const code = `import { openRoute } from "${open}";
try { await openRoute({ netns: "${ns.name}" }); console.log("no error"); }
catch (err) { console.log(String(err)); }`;
  const isBun = (globalThis as { Bun?: unknown }).Bun !== undefined;
  const runtime = isBun ? [process.execPath, "-e", code] : [process.execPath, "eval", code];
  const out = execFileSync("setpriv", [
    "--inh-caps=-sys_admin",
    "--bounding-set=-sys_admin",
    ...runtime,
  ], { encoding: "utf8" });
  assert.match(
    out.trim(),
    /^SyscallError: setns: EPERM .*needs CAP_SYS_ADMIN: run as root, or grant the process that capability$/,
  );
});

test("an unknown link name says 'no link named X', wherever a link is named", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  const noLink = (err: unknown) => {
    assert.ok(err instanceof NetlinkError);
    assert.equal(err.code, "ENODEV");
    assert.match(err.message, /^ENODEV: no link named "eth9"$/);
    return true;
  };
  await assert.rejects(ip.link.get("eth9"), noLink);
  await assert.rejects(ip.link.set("eth9", { up: true }), noLink);
  await assert.rejects(ip.link.delete("eth9"), noLink);
  await assert.rejects(ip.addr.add("eth9", "10.0.0.1/24"), noLink);
  await assert.rejects(ip.addr.list({ dev: "eth9" }), noLink);
  await assert.rejects(ip.route.add({ dst: "10.0.0.0/24", dev: "eth9" }), noLink);
  await assert.rejects(
    ip.neigh.add({ dev: "eth9", address: "10.0.0.2", lladdr: "02:00:00:00:00:02" }),
    noLink,
  );
  await assert.rejects(ip.link.add({ name: "x0", kind: "macvlan", link: "eth9" }), noLink);
  await assert.rejects(ip.link.get(4242), /^NetlinkError: ENODEV: no link with index 4242$/);
});

test("link.find() is undefined where link.get() is ENODEV, the link where it is there; bad input is still a TypeError", async () => {
  using ns = new Netns([
    "link add f0 type veth peer name f1",
    "link property add dev f0 altname f0-long-altname",
  ]);
  await using ip = await openRoute({ netns: ns.name });
  assert.equal(await ip.link.find("eth9"), undefined);
  assert.equal(await ip.link.find(4242), undefined);
  assert.equal(await ip.link.find(new Uint8Array([0xff, 0xfe])), undefined);
  const found = await ip.link.find("f0");
  assert.ok(found !== undefined);
  assert.deepEqual(found, await ip.link.get("f0"));
  assert.equal((await ip.link.find(found.index))?.name, "f0");
  assert.equal((await ip.link.find("f0-long-altname"))?.index, found.index);
  await assert.rejects(ip.link.find(""), TypeError);
  await assert.rejects(ip.link.find(-1), TypeError);
  await ip.link.delete("f0");
  assert.equal(await ip.link.find("f0"), undefined);
  // Other errors are not hidden: a closed client rejects.
  ip.close();
  await assert.rejects(ip.link.find("lo"), (err: unknown) => !(err instanceof TypeError));
});

test("the kernel's extended-ack text is kept, after what failed", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  await assert.rejects(
    ip.route.add({ dst: "10.9.0.0/16", gateway: "192.0.2.1" }),
    (err: unknown) => {
      assert.ok(err instanceof NetlinkError);
      assert.equal(err.code, "ENETUNREACH");
      assert.equal(err.detail, "route add 10.9.0.0/16: Nexthop has invalid gateway");
      return true;
    },
  );
  await assert.rejects(
    ip.link.add({ name: "k0", kind: "nosuchkind" }),
    /EOPNOTSUPP: link add k0: .*/,
  );
});

test("deleting what is not there says what is missing and where to look, not only the kernel's errno text", async () => {
  // ESRCH said "No such process" for a route, ENOENT "No such file or directory" for the rest.
  using ns = new Netns(["link add a0 type veth peer name a1", "link add br0 type bridge"]);
  await using ip = await openRoute({ netns: ns.name });
  await assert.rejects(
    ip.route.delete({ dst: "10.51.0.0/16" }),
    /^NetlinkError: ESRCH: route delete 10\.51\.0\.0\/16: No such process \(no such route: in table main unless a table is given\)$/,
  );
  await assert.rejects(
    ip.neigh.delete({ dev: "a0", address: "10.9.0.77" }),
    /ENOENT: neighbour delete 10\.9\.0\.77 dev a0: No such file or directory \(no such neighbour on that link \(a proxy entry needs the flag proxy\)\)$/,
  );
  // An address, by the link given or, listed, the one it was listed on.
  await assert.rejects(
    ip.addr.delete("a0", "10.9.9.9/24"),
    /^NetlinkError: EADDRNOTAVAIL: address delete 10\.9\.9\.9\/24 dev a0: /,
  );
  await ip.addr.add("a0", "10.9.9.9/24");
  const [listed] = await ip.addr.list({ dev: "a0", family: "inet" });
  await ip.addr.delete(listed);
  await assert.rejects(
    ip.addr.delete(listed),
    /^NetlinkError: EADDRNOTAVAIL: address delete 10\.9\.9\.9\/24 dev a0: /,
  );
  await assert.rejects(
    ip.rule.delete({ priority: 4242 }),
    /ENOENT: rule delete: No such file or directory \(no rule matches these selectors\)$/,
  );
  await assert.rejects(
    ip.fdb.delete({ mac: "02:00:00:00:00:77", dev: "br0" }),
    /ENOENT: fdb delete 02:00:00:00:00:77: No such file or directory \(no such entry \(a bridge's entry on its port needs the flag master\)\)$/,
  );
});

test("adding what is there says what changes it, not only the kernel's \"File exists\"", async () => {
  using ns = new Netns([
    "link add a0 type veth peer name a1",
    "link set a0 up",
    "link set a1 up",
    "link add br0 type bridge",
    "link add vx0 type vxlan id 42 dstport 4789",
    "addr add 10.0.0.1/24 dev a0",
    "route add 10.5.0.0/16 via 10.0.0.2",
    "neigh add 10.0.0.9 lladdr 02:00:00:00:00:09 dev a0",
    "rule add fwmark 1 table 100 pref 100",
    "nexthop add id 7 via 10.0.0.2 dev a0",
  ]);
  await using ip = await openRoute({ netns: ns.name });
  await ip.fdb.add({ mac: "02:00:00:00:00:02", dev: "vx0", dst: "192.0.2.2" });
  const exists = (what: string, hint: string) => (err: unknown) => {
    assert.ok(err instanceof NetlinkError);
    assert.equal(err.code, "EEXIST");
    assert.ok(err.message.startsWith(`EEXIST: ${what}: `), err.message);
    assert.ok(err.message.endsWith(` (${hint})`), err.message);
    return true;
  };
  await assert.rejects(
    ip.link.add({ name: "br0", kind: "bridge" }),
    exists(
      "link add br0",
      "a link named \"br0\" exists: link.set() changes it, link.delete() removes it",
    ),
  );
  await assert.rejects(
    ip.link.add({ name: "b1", kind: "veth", peer: { name: "a1" } }),
    exists(
      "link add b1",
      "a link named \"b1\" or \"a1\" exists: link.set() changes it, link.delete() removes it",
    ),
  );
  await assert.rejects(
    ip.addr.add("a0", "10.0.0.1/24"),
    exists(
      "address add 10.0.0.1/24 dev a0",
      "the link has it: add it with { replace: true } to change it",
    ),
  );
  await assert.rejects(
    ip.route.add({ dst: "10.5.0.0/16", gateway: "10.0.0.3" }),
    exists(
      "route add 10.5.0.0/16",
      "the table has that route (same metric): route.replace() changes it",
    ),
  );
  await assert.rejects(
    ip.neigh.add({ dev: "a0", address: "10.0.0.9", lladdr: "02:00:00:00:00:10" }),
    exists(
      "neighbour add 10.0.0.9 dev a0",
      "the link has an entry for it: neigh.replace() changes it",
    ),
  );
  await assert.rejects(
    ip.rule.add({ fwmark: 1, table: 100, priority: 100 }),
    exists("rule add", "a rule with these selectors, action and priority exists"),
  );
  await assert.rejects(
    ip.nexthop.add({ id: 7, gateway: "10.0.0.3", dev: "a0" }),
    exists("nexthop add 7", "id 7 is taken: nexthop.replace() changes it"),
  );
  await assert.rejects(
    ip.fdb.add({ mac: "02:00:00:00:00:02", dev: "vx0", dst: "192.0.2.2" }),
    exists(
      "fdb add 02:00:00:00:00:02",
      "there is one: fdb.replace() changes it, fdb.append() adds a VXLAN remote",
    ),
  );
  // What the hints say changes them does.
  await ip.addr.add("a0", "10.0.0.1/24", { replace: true, metric: 5 });
  await ip.route.replace({ dst: "10.5.0.0/16", gateway: "10.0.0.3" });
  await ip.neigh.replace({ dev: "a0", address: "10.0.0.9", lladdr: "02:00:00:00:00:10" });
  await ip.nexthop.replace({ id: 7, gateway: "10.0.0.3", dev: "a0" });
  await ip.fdb.replace({ mac: "02:00:00:00:00:02", dev: "vx0", dst: "192.0.2.3" });
});

test("a rename to a taken name, a master that takes no ports and a bridge's VLAN options the kernel lacks say so, not only the kernel's bare errno", async () => {
  using ns = new Netns(["link add a0 type veth peer name a1", "link add br0 type bridge"]);
  await using ip = await openRoute({ netns: ns.name });
  await assert.rejects(
    ip.link.set("a0", { name: "a1" }),
    /^NetlinkError: EEXIST: link set a0: File exists \(a link named "a1" exists: pick another name, or rename it first\)$/,
  );
  const noPorts = /\("a1" takes no ports: a master is a bridge, bond, team or VRF\)$/;
  await assert.rejects(ip.link.set("a0", { master: "a1" }), (err: unknown) => {
    assert.ok(err instanceof NetlinkError);
    assert.equal(err.code, "EOPNOTSUPP");
    assert.match(err.message, /^EOPNOTSUPP: link set a0: /);
    assert.match(err.message, noPorts);
    return true;
  });
  await assert.rejects(
    ip.link.add({ name: "b0", kind: "veth", peer: { name: "b1" }, master: "a1" }),
    /^NetlinkError: EOPNOTSUPP: link add b0: .*\("a1" takes no ports: a master is a bridge, bond, team or VRF\)$/,
  );
  assert.doesNotMatch(ns.ip("-o", "link", "show"), /: b0@/); // the kernel took it back
  // An EOPNOTSUPP the kernel explains is its words, with no word of the master: a kind it does
  // not have (the host has no vlan module), which may be misspelt.
  await assert.rejects(
    ip.link.add({ name: "b0", kind: "nosuchkind", master: "br0" }),
    {
      message: "EOPNOTSUPP: link add b0: Unknown device type (this kernel has no link kind "
        + "\"nosuchkind\": its module is not loaded (modprobe), or the kind is misspelt)",
    },
  );
  // The bridge's VLAN options on a kernel without CONFIG_BRIDGE_VLAN_FILTERING (this host's);
  // where the kernel has it, they are taken.
  const vlanHint =
    /^NetlinkError: EOPNOTSUPP: link (add br1|set br0): .*\(vlanFiltering needs bridge VLAN filtering, which this kernel may lack \(CONFIG_BRIDGE_VLAN_FILTERING\)\)$/;
  for (
    const change of [
      () => ip.link.add({ name: "br1", kind: "bridge", data: { vlanFiltering: 1 } }),
      () => ip.link.set<"bridge">("br0", { data: { vlanFiltering: 1 } }),
    ]
  ) {
    try {
      await change();
    } catch (err) {
      assert.match(String(err), vlanHint);
    }
  }
  // Several options: "need".
  await ip.link.add({
    name: "br2",
    kind: "bridge",
    data: { vlanFiltering: 1, vlanStatsEnabled: 1 },
  })
    .catch((err) =>
      assert.match(String(err), /\(vlanFiltering, vlanStatsEnabled need bridge VLAN/)
    );
  // A rename that works, and a move of a link whose name the namespace has, which the kernel
  // explains itself (no rename hint).
  await ip.link.set("a0", { name: "a2" });
  using other = new Netns(["link add a2 type veth peer name c1"]);
  await assert.rejects(
    ip.link.set("a2", { netns: other.name }),
    /^NetlinkError: EEXIST: link set a2: An interface with the same name exists in the target netns\.?$/,
  );
});

test("a macvlan, macvtap, ipvlan, ipvtap or vlan without the link it sits on is a TypeError before any request, not the kernel's bare EINVAL", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  let sent = 0;
  const detach = tap(ip.socket, { sent: () => void sent++ });
  for (const kind of ["macvlan", "macvtap", "ipvlan", "ipvtap", "vlan"]) {
    await assert.rejects(
      ip.link.add({ name: "m0", kind }),
      new RegExp(
        `^TypeError: link: a ${kind} needs the link it sits on \\(\`link: "eth0"\`, as \`ip link add NAME link eth0 type ${kind}\` names it\\)$`,
      ),
    );
  }
  detach();
  assert.equal(sent, 0);
});

test("bad values are refused before any request, naming the field", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  await assert.rejects(
    ip.addr.add("lo", "10.0.0.300/24"),
    /^TypeError: address: "10.0.0.300\/24" is not a prefix/,
  );
  // The link first: a prefix or an object in its place is said to be no link, where the
  // prefix after it was said to be missing ("address: undefined is not a prefix").
  await assert.rejects(
    (ip.addr.add as (...args: unknown[]) => Promise<void>)("10.0.0.1/24"),
    /^TypeError: dev: "10.0.0.1\/24" is not a link name/,
  );
  await assert.rejects(
    ip.addr.add({ dev: "lo", address: "10.0.0.1/24" } as never, undefined as never),
    /^TypeError: dev: \{"dev":"lo","address":"10.0.0.1\/24"\} is not a link name/,
  );
  await assert.rejects(
    ip.route.add({ dst: "10.0.0.0/24", gateway: "10.0.0" }),
    /^TypeError: gateway: "10.0.0"/,
  );
  await assert.rejects(
    ip.route.add({ dst: "10.0.0.0/24", table: "mian" as never }),
    /table: "mian" is not a routing table: one of/,
  );
  await assert.rejects(
    ip.route.add({ dst: "10.0.0.0/24", type: "blackhol" as never }),
    /type: "blackhol" is not a route type/,
  );
  await assert.rejects(
    ip.route.add({ dst: "2001:db8::/32", gateway: "10.0.0.1" }),
    /gateway: 10.0.0.1 is not of the destination's family/,
  );
  // The kernel would read an IPv6 broadcast's first 4 bytes as the IPv4 one (32.1.13.184).
  await assert.rejects(
    ip.addr.add("lo", "10.0.21.1/24", { broadcast: "2001:db8::9" }),
    /^TypeError: broadcast: "2001:db8::9" is not an IPv4 address/,
  );
  assert.deepEqual(ns.json("-4", "addr", "show", "to", "10.0.21.1"), []);
  await assert.rejects(
    ip.link.set("lo", { address: "aa:bb" }),
    /^TypeError: address: "aa:bb" is not a MAC address/,
  );
  await assert.rejects(ip.link.set("lo", { mtu: -1 }), /^RangeError: mtu: -1 is not an integer/);
  // A number given as text shows as text, not as the number it looks like.
  await assert.rejects(
    ip.link.set("lo", { mtu: "1400" as never }),
    /^TypeError: mtu: "1400" is not an integer/,
  );
  await assert.rejects(
    ip.route.add({ dst: "10.0.0.0/24", type: "blackhole", metric: "5" as never }),
    /^TypeError: metric: "5" is not an integer/,
  );
  await assert.rejects(
    ip.rule.add({ table: 100, priority: "7" as never }),
    /^TypeError: priority: "7" is not an integer/,
  );
  // A list's bad filter value is refused before its link is looked up (eth9 does not exist).
  await assert.rejects(ip.addr.list({ dev: "eth9", family: "x" as never }), /^TypeError: family/);
  await assert.rejects(ip.addr.list({ dev: "eth9", scope: "x" as never }), /^TypeError: scope/);
  await assert.rejects(ip.addr.flush({ dev: "eth9", scope: "x" as never }), /^TypeError: scope/);
  await assert.rejects(ip.neigh.list({ dev: "eth9", family: "x" as never }), /^TypeError: family/);
  await assert.rejects(ip.route.list({ dev: "eth9", type: "x" as never }), /^TypeError: type/);
  await assert.rejects(ip.route.list({ dev: "eth9", protocol: -1 }), /^RangeError: protocol/);
  await assert.rejects(
    ip.route.add({ dst: "10.0.0.0/24", family: "inet6", type: "blackhole" }),
    /^TypeError: family: inet6, but dst 10.0.0.0\/24 is not of it/,
  );
  // So is a bad value to write.
  const route = { dst: "10.0.0.0/24", dev: "eth9" };
  await assert.rejects(ip.route.add({ ...route, metric: -1 }), /^RangeError: metric/);
  await assert.rejects(ip.route.add({ ...route, scope: "x" as never }), /^TypeError: scope/);
  await assert.rejects(ip.route.add({ ...route, prefsrc: "2001:db8::1" }), /^TypeError: prefsrc/);
  const neighbour = { dev: "eth9", address: "10.0.0.2" };
  await assert.rejects(ip.neigh.add({ ...neighbour, lladdr: "zz" }), /^TypeError: lladdr/);
  await assert.rejects(ip.neigh.add({ ...neighbour, state: "x" as never }), /^TypeError: state/);
  await assert.rejects(ip.link.set("eth9", { mtu: -1 }), /^RangeError: mtu/);
  // The kernel takes an MTU as an int: 2^31 would be refused as "less than device minimum".
  await assert.rejects(ip.link.set("eth9", { mtu: 2 ** 31 }), {
    name: "RangeError",
    message: "mtu: 2147483648 is not an integer from 0 to 2147483647",
  });
  await assert.rejects(
    ip.link.add({ name: "m0", kind: "veth", peer: { name: "m1", mtu: 2 ** 31 } }),
    { name: "RangeError", message: "peer.mtu: 2147483648 is not an integer from 0 to 2147483647" },
  );
  assert.deepEqual(ns.json("link", "show", "type", "veth"), []);
  await assert.rejects(ip.link.set("eth9", { address: "zz" }), /^TypeError: address/);
  await assert.rejects(ip.link.set("eth9", { name: "a b" }), /^TypeError: name/);
  // A rule names its links by name (ip rule add iif NAME): not an index taken as the name "2".
  await assert.rejects(ip.rule.add({ iif: "a b", table: 100 }), /^TypeError: iif: "a b" is not a/);
  await assert.rejects(ip.rule.add({ oif: 2 as never, table: 100 }), /^TypeError: oif: 2 is not a/);
  assert.deepEqual((await ip.rule.list()).filter((r) => r.iif ?? r.oif), []);
  // The kernel's own refusal of a long label names no field ("Attribute failed policy
  // validation"): refused here first.
  await assert.rejects(
    ip.addr.add("lo", "10.0.0.1/24", { label: "lo:abcdefghijklm" }),
    /^TypeError: label: "lo:abcdefghijklm" is not a label \(1 to 15 bytes, no NUL\)/,
  );
  await assert.rejects(ip.addr.add("lo", "10.0.0.1/24", { label: "" }), /^TypeError: label: ""/);
  await assert.rejects(
    ip.neigh.add({ dev: "lo", address: "10.0.0.2", state: "permanant" as never }),
    /state: "permanant" is not a neighbour state/,
  );
  await assert.rejects(
    ip.link.add({ name: "a name with spaces", kind: "veth" }),
    /name: "a name with spaces" is not a link name/,
  );
  // The kernel counts bytes, and refuses NUL, "." and "..", and the byte 0xa0 ("à" is c3 a0):
  // refused here, naming the field, not after a request (ERANGE, EINVAL) or by the encoder.
  for (const name of ["éééééééé", "a\0b", ".", "..", "là"]) {
    await assert.rejects(
      ip.link.add({ name, kind: "veth" }),
      (err: unknown) =>
        err instanceof TypeError
        && err.message.startsWith(
          `name: ${JSON.stringify(name)} is not a link name (1 to 15 bytes`,
        ),
      JSON.stringify(name),
    );
  }
  // A lone surrogate was sent as U+FFFD: a link of another name than the one given.
  await assert.rejects(
    ip.link.add({ name: "a\ud800", kind: "veth" }),
    /^TypeError: name: "a\\ud800" holds a lone surrogate/,
  );
  // A kind that is no kind's name: a TypeError naming it, on add as on list (whose filter
  // listed nothing for 5, "" or null, as for a kind no link has).
  for (
    const [kind, text] of [[5, "5"], ["", "\"\""], [null, "null"], ["veth\0", "\"veth\\u0000\""]]
  ) {
    const refused = (err: unknown) =>
      err instanceof TypeError
      && (kind === null
        ? / (filter|spec): kind is null, which it does not take/.test(err.message)
        : err.message.startsWith(`kind: ${text} is not a link kind`));
    await assert.rejects(ip.link.list({ kind: kind as never }), refused, text as string);
    await assert.rejects(ip.link.add({ name: "k0", kind: kind as never }), refused, text as string);
  }
  await assert.rejects(
    // @ts-expect-error a misspelt mode is a compile error too (data is typed by kind)
    ip.link.add({ name: "m0", kind: "macvlan", link: "lo", data: { mode: "bridgee" } }),
    /data.mode: "bridgee" is not a macvlan mode: one of private, vepa, bridge, passthru, source/,
  );
});

test("route.get() from iif without from: IPv4's bare EINVAL says `from` is needed; IPv6 answers", async () => {
  using ns = new Netns();
  ns.ipBatch([
    "link add eth0 type veth peer name eth0p",
    "link set eth0 up",
    "link set eth0p up",
    "addr add 10.0.0.1/24 dev eth0",
    "addr add 2001:db8::1/64 dev eth0 nodad",
  ]);
  await using ip = await openRoute({ netns: ns.name });
  await assert.rejects(ip.route.get("10.0.0.7", { iif: "eth0" }), (err: unknown) => {
    assert.ok(err instanceof NetlinkError);
    assert.equal(err.code, "EINVAL");
    assert.match(err.message, /route get 10\.0\.0\.7: .*\(a lookup from iif needs `from`/);
    return true;
  });
  assert.equal((await ip.route.get("2001:db8::7", { iif: "eth0" })).dev, "eth0");
  // A bad mark is refused before the links are looked up.
  await assert.rejects(
    ip.route.get("10.0.0.7", { iif: "eth9", mark: -1 }),
    /^RangeError: mark: -1 is not an integer/,
  );
});

test("route.get() of an address a prohibit route covers says so, not that a capability is missing", async () => {
  // The kernel answers such a lookup EACCES; it needs no capability, and root got the hint
  // "needs CAP_NET_ADMIN: run as root".
  using ns = new Netns();
  ns.ipBatch(["route add prohibit 10.60.0.0/16", "route add prohibit 2001:db8:60::/48"]);
  await using ip = await openRoute({ netns: ns.name });
  for (const address of ["10.60.0.1", "2001:db8:60::1"]) {
    await assert.rejects(ip.route.get(address), (err: unknown) => {
      assert.ok(err instanceof NetlinkError);
      assert.equal(err.code, "EACCES");
      assert.equal(
        err.message,
        `EACCES: route get ${address}: Permission denied (a prohibit route matches it)`,
      );
      return true;
    });
  }
});

test("rule.delete() and addr.flush() with nothing to match are refused, as ip refuses them, and remove nothing", async () => {
  using ns = new Netns();
  ns.ipBatch([
    "link set lo up",
    "link add a0 type veth peer name a1",
    "addr add 10.0.0.1/24 dev a0",
  ]);
  await using ip = await openRoute({ netns: ns.name });
  const rules = ns.ip("rule", "show");
  const addresses = ns.ip("address", "show");
  // The kernel would delete the first rule (priority 0: table local, every local delivery) and
  // every address of every link, loopback's included: `ip rule del` and `ip address flush`
  // without arguments refuse.
  await assert.rejects(ip.rule.delete({}), /^TypeError: rule\.delete\(\) needs a selector/);
  await assert.rejects(ip.rule.delete({ family: "inet6" }), /^TypeError: rule\.delete\(\) needs/);
  await assert.rejects(ip.rule.delete({ priority: undefined }), /^TypeError: rule\.delete\(\)/);
  await assert.rejects(ip.addr.flush({}), /^TypeError: addr\.flush\(\) needs a filter/);
  await assert.rejects(ip.addr.flush({ dev: undefined }), /^TypeError: addr\.flush\(\) needs/);
  await assert.rejects(ip.addr.flush(undefined as never), /^TypeError: addr\.flush\(\) needs a/);
  assert.equal(ns.ip("rule", "show"), rules);
  assert.equal(ns.ip("address", "show"), addresses);
  // One selector is enough: what matches goes, and ENOENT when nothing does (ip's answer too).
  assert.equal(await ip.addr.flush({ family: "inet", scope: "global" }), 1);
  assert.match(ns.ip("address", "show"), /inet 127\.0\.0\.1\/8/);
  await assert.rejects(
    ip.rule.delete({ priority: 4242 }),
    (err: unknown) => err instanceof NetlinkError && err.code === "ENOENT",
  );
});

test("a caller's text in a route error is quoted escaped (ESC, NUL, C1 CSI), never raw", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  const forged = "\x1b[2J\0\u009b31m";
  const inner = "\\u001b[2J\\u0000\\u009b31m";
  const escaped = `"${inner}"`;
  const cases: [() => Promise<unknown> | unknown, string][] = [
    [() => ip.link.add({ name: forged, kind: "veth" }), `name: ${escaped} is not a link name`],
    [() => ip.link.set("lo", { netns: forged }), `netns: ${escaped} is not a namespace path`],
    [
      () => ip.addr.list({ family: forged as "inet" }),
      `family: ${escaped} is not "inet" or "inet6"`,
    ],
    [
      () => ip.addr.add("lo", "10.0.0.1/8", { label: forged.repeat(2) }), // over 15 bytes
      `label: "${inner}${inner}" is not a label`,
    ],
    [
      () => ip.addr.add("lo", "10.0.0.1/8", { validLifetime: forged as unknown as number }),
      `validLifetime: ${escaped} is not a number of seconds`,
    ],
    [
      () => ip.neigh.add({ dev: "lo", address: "10.0.0.2", state: forged as "reachable" }),
      `state: ${escaped} is not a neighbour state`,
    ],
    [() => ip.monitor([forged as "link"]), `objects: ${escaped} is not one of`],
  ];
  // A name the kernel does not know, in the NetlinkError's detail as in its message.
  const named = "\x1b[2J\u009b31m";
  const noLink = `no link named "\\u001b[2J\\u009b31m"`;
  for (const call of [() => ip.link.get(named), () => ip.addr.list({ dev: named })]) {
    await assert.rejects(call, (err: NetlinkError) => err.detail === noLink, noLink);
  }
  for (const [call, message] of cases) {
    await assert.rejects(
      async () => await call(),
      (err: Error) => err instanceof TypeError && err.message.startsWith(message),
      message,
    );
  }
});

test("an object or array where a value goes is shown as JSON in the error, not [object Object]", async () => {
  using ns = new Netns();
  // { pid } names a namespace for link.set/add, not for openRoute: the message shows what came.
  await assert.rejects(openRoute({ netns: { pid: 1 } as never }), {
    name: "TypeError",
    message: "netns: {\"pid\":1} is not a namespace path or `ip netns` name",
  });
  await using ip = await openRoute({ netns: ns.name });
  await assert.rejects(ip.link.set("lo", { mtu: { value: 1400 } as never }), {
    name: "TypeError",
    message: "mtu: {\"value\":1400} is not an integer from 0 to 2147483647",
  });
  await assert.rejects(ip.route.get(["10.0.0.1"] as never), {
    name: "TypeError",
    message: "address: [\"10.0.0.1\"] is not an IPv4 or IPv6 address",
  });
  // Escaped as a string is (C1 too), so the message cannot drive a terminal.
  await assert.rejects(ip.link.set("lo", { mtu: { "\u009b": "\x1b" } as never }), {
    name: "TypeError",
    message: "mtu: {\"\\u009b\":\"\\u001b\"} is not an integer from 0 to 2147483647",
  });
});

test("every list and nexthop.add() take the same families: inet, inet6, or none", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  for (const family of ["bridge", "x", "\u009b"] as never[]) {
    const message = `family: ${
      JSON.stringify(family).replace("\u009b", "\\u009b")
    } is not "inet" or "inet6"`;
    for (
      const call of [
        () => ip.addr.list({ family }),
        () => ip.route.list({ family }),
        () => ip.neigh.list({ family }),
        () => ip.rule.list({ family }),
        () => ip.nexthop.list({ family }),
        () => ip.nexthop.add({ id: 1, blackhole: true, family }),
      ]
    ) {
      await assert.rejects(call, { name: "TypeError", message });
    }
  }
  // Those two are taken.
  assert.ok((await ip.addr.list({ family: "inet" })).every((a) => a.family === "inet"));
  assert.ok((await ip.route.list({ family: "inet6" })).every((r) => r.family === "inet6"));
});

test("a value of the wrong type is a TypeError naming its field before any request is sent, never an engine error or a truthy value taken for true (attack12a)", async () => {
  using ns = new Netns();
  await using ip = await openRoute({ netns: ns.name });
  let sent = 0;
  tap(ip.socket, { sent: () => void sent++ });
  const refused = async (call: () => Promise<unknown>, pattern: RegExp) => {
    sent = 0;
    await assert.rejects(call, pattern);
    assert.equal(sent, 0, `${pattern}: ${sent} datagrams sent before the refusal`);
  };
  // JSON.stringify in the message threw for a bigint, and showed NaN as null.
  await refused(
    () => ip.link.set("lo", { netns: 10n as never }),
    /^TypeError: netns: 10n is not a namespace name/,
  );
  await refused(
    () => ip.link.set("lo", { netns: NaN as never }),
    /^TypeError: netns: NaN is not a namespace name/,
  );
  // Flags that are no array: "names is not iterable" (a string: one letter a flag).
  await refused(
    () => ip.addr.add("lo", "10.9.0.1/24", { flags: "nodad" as never }),
    /^TypeError: flags must be an array of names, got "nodad"$/,
  );
  await refused(
    () => ip.neigh.add({ dev: "lo", address: "10.9.0.2", flags: 1 as never }),
    /^TypeError: flags must be an array of names, got 1$/,
  );
  // Booleans: any truthy value was taken for true (replace: "no" replaced; onlink: 1.5 set it).
  await refused(
    () => ip.addr.add("lo", "10.9.0.1/24", { replace: "no" as never }),
    /^TypeError: replace: "no" is not a boolean$/,
  );
  await refused(
    () => ip.route.add({ dst: "10.9.0.0/24", dev: "lo", onlink: 1.5 as never }),
    /^TypeError: onlink: 1.5 is not a boolean$/,
  );
  // A missing hop: "Cannot read properties of undefined (reading 'gateway')".
  for (const nexthops of [[undefined], [, { gateway: "10.0.0.2" }]]) {
    await refused(
      () => ip.route.add({ dst: "10.9.0.0/24", nexthops: nexthops as never }),
      /^TypeError: route.add\(\) nexthops\[0\] must be an object, got undefined$/,
    );
  }
  // The hops' values and the route's are all checked before any link is looked up (a request).
  await refused(
    () => ip.route.add({ dst: "10.9.0.0/24", dev: "lo", nexthops: "x" as never }),
    /^TypeError: nexthops: expected a non-empty array/,
  );
  await refused(
    () => ip.route.add({ dst: "10.9.0.0/24", nexthops: [{ dev: "lo" }, { dev: "lo", weight: 0 }] }),
    /^RangeError: nexthops\[1\].weight: 0 is not an integer from 1 to 256$/,
  );
  await refused(
    () => ip.route.add({ dst: "10.9.0.0/24", nexthops: [{ dev: "lo" }, { dev: "a b" }] }),
    /^TypeError: nexthops\[1\].dev: "a b" is not a link name/,
  );
  // link.set()'s data and alias: refused once the link had been looked up, or by the encoder.
  await refused(
    () => ip.link.set("lo", { data: 5 as never }),
    /^TypeError: link.set\(\) data must be an object, got number$/,
  );
  await refused(
    () => ip.link.set("lo", { portData: "x" as never }),
    /^TypeError: link.set\(\) portData must be an object, got string$/,
  );
  await refused(
    () => ip.addr.add("lo", "10.9.0.1/24", { label: "lo\0x" }),
    /^TypeError: label: "lo\\u0000x" is not a label \(1 to 15 bytes, no NUL\)$/,
  );
  await refused(
    () => ip.link.set("lo", { alias: "a\0b" }),
    /^TypeError: settings.alias must not hold NUL$/,
  );
});
