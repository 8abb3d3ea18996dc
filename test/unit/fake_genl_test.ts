// The fake kernel's generic netlink controller: families registered with
// FakeKernel.registerFamily() resolve through resolveFamily() and the typed layer's family() as
// against the kernel's nlctrl (test/host/fake_fidelity_test.ts compares its bytes with the
// host's), and their registration and removal are announced as genl_register_family() and
// genl_unregister_family() announce them. Before, a test wrote nlctrl's replies by hand.

import assert from "node:assert/strict";
import { test } from "node:test";
import { AttributeEncoder } from "../../src/attribute.ts";
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_OP,
  CTRL_CMD_DELFAMILY,
  CTRL_CMD_DELMCAST_GRP,
  CTRL_CMD_GETFAMILY,
  CTRL_CMD_GETPOLICY,
  CTRL_CMD_NEWFAMILY,
  CTRL_CMD_NEWMCAST_GRP,
  GENL_CMD_CAP_DO,
  GENL_CMD_CAP_DUMP,
  GENL_CMD_CAP_HASPOL,
  GENL_ID_CTRL,
  NETLINK_GENERIC,
  NL_ATTR_TYPE_BITFIELD32,
  NL_ATTR_TYPE_NESTED,
  NL_ATTR_TYPE_NUL_STRING,
  NL_ATTR_TYPE_S8,
  NL_ATTR_TYPE_U16,
  NL_ATTR_TYPE_U32,
  NL_ATTR_TYPE_U64,
} from "../../src/constants.ts";
import { NetlinkError } from "../../src/errors.ts";
import {
  decodeFamily,
  decodeGeneric,
  encodeGeneric,
  resolveFamily,
  resolvePolicy,
} from "../../src/genl.ts";
import { open } from "../../src/open.ts";
import type { AttributePolicy } from "../../src/policy.ts";
import { FakeKernel } from "../../src/testing/mod.ts";
import { family } from "../../src/ynl/mod.ts";
import { netdev } from "../../src/ynl/netdev.ts";

const DO_POLICY = GENL_CMD_CAP_DO | GENL_CMD_CAP_HASPOL;

test("registerFamily(): resolveFamily() reads the family as registered, ids and groups allocated as the kernel allocates them", async () => {
  const kernel = new FakeKernel();
  const demo = kernel.registerFamily({
    name: "demo",
    version: 3,
    headerSize: 4,
    maxAttribute: 7,
    operations: [[1, DO_POLICY], [2, GENL_CMD_CAP_DUMP]],
    groups: ["events", "errors"],
  });
  // The first id past the fixed ones (GENL_START_ALLOC), the first free group ids (0, 1 and
  // nlctrl's 16 are taken).
  assert.deepEqual(demo, {
    name: "demo",
    id: 19,
    version: 3,
    headerSize: 4,
    maxAttribute: 7,
    operations: new Map([[1, DO_POLICY], [2, GENL_CMD_CAP_DUMP]]),
    groups: new Map([["events", 2], ["errors", 3]]),
  });
  const many = kernel.registerFamily({
    name: "many",
    groups: Array.from({ length: 13 }, (_, i) => `${i}`),
  });
  assert.equal(many.id, 20);
  assert.deepEqual([...many.groups.values()], [19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31]);
  await using sock = await open(NETLINK_GENERIC, { transport: kernel.open });
  assert.deepEqual(await resolveFamily(sock, "demo"), demo);
  const nlctrl = await resolveFamily(sock, "nlctrl");
  assert.deepEqual([nlctrl.id, nlctrl.version, [...nlctrl.groups]], [16, 2, [["notify", 16]]]);
  // An unknown name: ENOENT, and the "did you mean" the dump of every family gives.
  await assert.rejects(resolveFamily(sock, "dmeo"), {
    code: "ENOENT",
    message: /family "dmeo" is not registered \(did you mean "demo"\?\)/,
  });
  // The groups can be joined.
  sock.join(demo.groups.get("errors")!);
});

test("registerFamily(): the typed layer's family() resolves it and sends to its id; monitor() follows its removal and registration again", async () => {
  const kernel = new FakeKernel();
  const serveNetdev = () => {
    const registered = kernel.registerFamily({
      name: "netdev",
      operations: [[1, DO_POLICY | GENL_CMD_CAP_DUMP]],
      groups: ["mgmt", "page-pool"],
    });
    kernel.serve(NETLINK_GENERIC, registered.id, (request) => ({
      messages: [{
        type: registered.id,
        payload: encodeGeneric(1, 1, decodeGeneric(request.payload).body.slice()),
      }],
    }));
    return registered;
  };
  const first = serveNetdev();
  await using sock = await open(NETLINK_GENERIC, { transport: kernel.open });
  const nd = await family(netdev, { socket: sock });
  assert.equal(nd.generic!.id, first.id);
  assert.deepEqual(await nd.do("dev-get", { ifindex: 4 }), { ifindex: 4 });
  const events = nd.monitor({ groups: ["mgmt"] });
  assert.deepEqual(sock.groups, [GENL_ID_CTRL, first.groups.get("mgmt")]);
  const pending = events.next();
  kernel.unregisterFamily("netdev");
  const again = serveNetdev();
  assert.notEqual(again.id, first.id, "a new id, as the kernel's cyclic allocation gives");
  const notification = (ifindex: number) => [{
    type: again.id,
    flags: 0,
    seq: 0,
    portid: 0,
    payload: encodeGeneric(2, 1, new AttributeEncoder().u32(1, ifindex).finish()),
  }];
  for (let i = 0; i < 50 && nd.generic!.id !== again.id; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  assert.equal(kernel.multicast(NETLINK_GENERIC, again.groups.get("mgmt")!, notification(7)), 1);
  assert.deepEqual((await pending).value, { op: "dev-add-ntf", message: { ifindex: 7 } });
  assert.deepEqual(await nd.do("dev-get", { ifindex: 5 }), { ifindex: 5 });
  await events.return();
});

test("registerFamily() and unregisterFamily() announce on nlctrl's notify group, as genl_register_family() and genl_unregister_family() do; the removed groups' memberships end", async () => {
  const kernel = new FakeKernel();
  kernel.registerFamily({ name: "first" });
  await using watcher = await open(NETLINK_GENERIC, {
    transport: kernel.open,
    groups: [GENL_ID_CTRL],
  });
  const registered = kernel.registerFamily({ name: "demo", groups: ["a", "b"] });
  await using member = await open(NETLINK_GENERIC, {
    transport: kernel.open,
    groups: [...registered.groups.values()],
  });
  kernel.unregisterFamily("demo");
  const seen: string[] = [];
  const steps = watcher.messages();
  for (let i = 0; i < 6; i++) {
    const message = (await steps.next()).value!;
    const { command } = decodeGeneric(message.payload);
    const { name, groups } = decodeFamily(message);
    seen.push(`${message.group} ${command} ${name} ${[...groups.keys()]}`);
  }
  await steps.return?.();
  assert.deepEqual(seen, [
    `16 ${CTRL_CMD_NEWFAMILY} demo a,b`,
    `16 ${CTRL_CMD_NEWMCAST_GRP} demo a`,
    `16 ${CTRL_CMD_NEWMCAST_GRP} demo b`,
    `16 ${CTRL_CMD_DELMCAST_GRP} demo a`,
    `16 ${CTRL_CMD_DELMCAST_GRP} demo b`,
    `16 ${CTRL_CMD_DELFAMILY} demo a,b`,
  ]);
  // The kernel dropped the memberships (the socket's own list still has them).
  const fake = kernel.sockets.find((s) => s.portid === member.portid)!;
  assert.deepEqual([...fake.groups], []);
  // Its id is no family's now.
  await assert.rejects(member.request({ type: registered.id, payload: encodeGeneric(1, 1) }), {
    code: "ENOENT",
  });
});

test("registerFamily(): groups past the bitmap grow it, as the kernel does (genericGroups), and can be joined", async () => {
  const kernel = new FakeKernel();
  assert.equal(kernel.genericGroups, 64);
  const big = kernel.registerFamily({
    name: "big",
    groups: Array.from({ length: 70 }, (_, i) => `${i}`),
  });
  // 70 from 19 (the first run free that long) end past 64: the bitmap grows by two longs.
  assert.equal(big.groups.get("0"), 19);
  assert.equal(kernel.genericGroups, 192);
  await using sock = await open(NETLINK_GENERIC, { transport: kernel.open });
  sock.join(big.groups.get("69")!);
});

test("registerFamily() refuses a family the kernel would not register, naming what is wrong; unregisterFamily() an unknown name", () => {
  const kernel = new FakeKernel();
  kernel.registerFamily({ name: "taken", id: 40 });
  const cases: [unknown, RegExp][] = [
    [{ name: "" }, /^TypeError: registerFamily\(\): name must be a non-empty string/],
    [{ name: "a-name-of-16-byte" }, /^RangeError: .*longer than 15 bytes/],
    [{ name: "taken" }, /^RangeError: .*registered already/],
    [{ name: "x", id: 40 }, /^RangeError: registerFamily\(\): id 40 is taken/],
    [{ name: "x", id: 16 }, /^RangeError: registerFamily\(\): id must be an integer from 17/],
    [{ name: "x", group: ["a"] }, /unknown option "group" \(did you mean "groups"\?\)/],
    [{ name: "x", groups: ["a", "a"] }, /group "a" is given twice/],
    [{ name: "x", groups: "a" }, /groups must be a Map or an array, got "a"/],
    [
      { name: "x", operations: [[256, 2]] },
      /^RangeError: .*command must be an integer from 0 to 255/,
    ],
    [{ name: "x", operations: [1] }, /each entry must be a \[key, value\] pair, got 1/],
  ];
  for (const [spec, error] of cases) {
    assert.throws(() => kernel.registerFamily(spec as never), error, JSON.stringify(spec));
  }
  assert.throws(() => kernel.unregisterFamily("nope"), /no family named "nope" is registered/);
  assert.throws(() => kernel.unregisterFamily("nlctrl"), /no family named "nlctrl"/);
});

test("nlctrl's CTRL_CMD_GETPOLICY: resolvePolicy() reads nlctrl's own policies from the fake, whole or per command; a registered family without a policy: ENODATA", async () => {
  // The fake listed GETPOLICY among nlctrl's operations and answered it EOPNOTSUPP.
  const kernel = new FakeKernel();
  kernel.registerFamily({ name: "demo", operations: [[1, DO_POLICY]] });
  await using sock = await open(NETLINK_GENERIC, { transport: kernel.open });
  const family: AttributePolicy = { type: NL_ATTR_TYPE_U16, minValue: 0n, maxValue: 0xffffn };
  const name: AttributePolicy = { type: NL_ATTR_TYPE_NUL_STRING, maxLength: 15 };
  const op: AttributePolicy = { type: NL_ATTR_TYPE_U32, minValue: 0n, maxValue: 0xffff_ffffn };
  const whole = await resolvePolicy(sock, "nlctrl");
  // GETPOLICY has no doit: the kernel nests its indices under command 0, as the fake does.
  assert.deepEqual([...whole.operations], [
    [CTRL_CMD_GETFAMILY, { do: 0, dump: 0 }],
    [CTRL_CMD_GETPOLICY, { dump: 1 }],
  ]);
  assert.deepEqual(
    whole.policies.get(0),
    new Map([[CTRL_ATTR_FAMILY_ID, family], [CTRL_ATTR_FAMILY_NAME, name]]),
  );
  assert.deepEqual(
    whole.policies.get(1),
    new Map([[CTRL_ATTR_FAMILY_ID, family], [CTRL_ATTR_FAMILY_NAME, name], [CTRL_ATTR_OP, op]]),
  );
  // One command: its policies alone, numbered from 0.
  const one = await resolvePolicy(sock, "nlctrl", { command: CTRL_CMD_GETPOLICY });
  assert.deepEqual([...one.operations], [[CTRL_CMD_GETPOLICY, { dump: 0 }]]);
  assert.deepEqual([...one.policies.keys()], [0]);
  assert.deepEqual([...one.policies.get(0)!.keys()], [
    CTRL_ATTR_FAMILY_ID,
    CTRL_ATTR_FAMILY_NAME,
    CTRL_ATTR_OP,
  ]);
  await assert.rejects(resolvePolicy(sock, "nlctrl", { command: 9 }), /has no command 9/);
  await assert.rejects(
    resolvePolicy(sock, "demo"),
    (e: unknown) => e instanceof NetlinkError && e.code === "ENODATA",
  );
  await assert.rejects(
    resolvePolicy(sock, "nosuch"),
    (e: unknown) => e instanceof NetlinkError && e.code === "ENOENT",
  );
  // The socket goes on: the refused dumps left no dump running.
  assert.equal((await resolveFamily(sock, "demo")).name, "demo");
});

test("a registered family's policy (resolvePolicy()'s shape) is what CTRL_CMD_GETPOLICY answers, whole or per command, nested policies numbered as the kernel numbers them", async () => {
  // It answered ENODATA for any registered family: a policy could not be given.
  const vlan: AttributePolicy = { type: NL_ATTR_TYPE_U16, minValue: 1n, maxValue: 4094n };
  const nest: AttributePolicy = { type: NL_ATTR_TYPE_NESTED, policyIndex: 1, policyMaxType: 2 };
  const label: AttributePolicy = { type: NL_ATTR_TYPE_NUL_STRING, maxLength: 15 };
  const level: AttributePolicy = { type: NL_ATTR_TYPE_S8, minValue: -5n, maxValue: 5n };
  const bits: AttributePolicy = { type: NL_ATTR_TYPE_U64, mask: 0xffn };
  const flags: AttributePolicy = { type: NL_ATTR_TYPE_BITFIELD32, bitfield32Mask: 3 };
  const policy = {
    policies: new Map([
      [0, new Map([[1, vlan], [2, nest], [3, label]])],
      [1, new Map([[1, level], [2, bits]])],
      [2, new Map([[1, flags]])],
    ]),
    operations: new Map([[1, { do: 0 }], [2, { dump: 1 }], [4, { do: 2, dump: 0 }]]),
  };
  const operations: [number, number][] = [
    [1, DO_POLICY],
    [2, GENL_CMD_CAP_DUMP | GENL_CMD_CAP_HASPOL],
    [3, GENL_CMD_CAP_DO],
    [4, DO_POLICY | GENL_CMD_CAP_DUMP],
  ];
  const kernel = new FakeKernel();
  kernel.registerFamily({ name: "demo", operations, policy });
  await using sock = await open(NETLINK_GENERIC, { transport: kernel.open });
  // The whole family reads back as given (a dump-only command included).
  assert.deepEqual(await resolvePolicy(sock, "demo"), policy);
  // One command: its policies and those they nest, numbered from 0 in the kernel's order (the
  // doit's, what it nests, then the dumpit's).
  assert.deepEqual(await resolvePolicy(sock, "demo", { command: 4 }), {
    policies: new Map([
      [0, new Map([[1, flags]])],
      [1, new Map([[1, vlan], [2, { ...nest, policyIndex: 2 }], [3, label]])],
      [2, new Map([[1, level], [2, bits]])],
    ]),
    operations: new Map([[4, { do: 0, dump: 1 }]]),
  });
  assert.deepEqual(await resolvePolicy(sock, "demo", { command: 2 }), {
    policies: new Map([[0, new Map([[1, level], [2, bits]])]]),
    operations: new Map([[2, { dump: 0 }]]),
  });
  // A command without a policy: ENODATA, as the kernel answers.
  await assert.rejects(
    resolvePolicy(sock, "demo", { command: 3 }),
    (e: unknown) => e instanceof NetlinkError && e.code === "ENODATA",
  );
  // A policy that does not hold together is refused at registration.
  const nest9 = { ...nest, policyIndex: 1.5 };
  for (
    const [bad, message] of [
      [{ ...policy, operations: new Map([[9, { do: 0 }]]) }, /command 9 is none of the operations/],
      [{ ...policy, operations: new Map([[1, { do: -1 }]]) }, /command 1's do policy must be/],
      [
        { ...policy, policies: new Map([...policy.policies, [2, new Map([[5, nest9]])]]) },
        /policy 2's attribute 5's nested policy must be/,
      ],
      [{ policies: {}, operations: {} }, /two Maps/],
    ] as const
  ) {
    assert.throws(
      () => kernel.registerFamily({ name: "bad", operations, policy: bad as never }),
      (e: unknown) =>
        (e instanceof TypeError || e instanceof RangeError) && message.test(e.message),
    );
  }
});
