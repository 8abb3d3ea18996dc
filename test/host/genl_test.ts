// Generic netlink family and policy resolution against the host kernel's nlctrl.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_CMD_GETFAMILY,
  CTRL_CMD_GETPOLICY,
  GENL_CMD_CAP_DO,
  GENL_CMD_CAP_DUMP,
  GENL_CMD_CAP_HASPOL,
  GENL_HDRLEN,
  GENL_ID_CTRL,
  NETLINK_GENERIC,
  NETLINK_ROUTE,
  NL_ATTR_TYPE_NUL_STRING,
  NL_ATTR_TYPE_U16,
} from "../../src/constants.ts";
import { NetlinkError } from "../../src/errors.ts";
import { resolveFamily, resolvePolicy } from "../../src/genl.ts";
import { open } from "../../src/open.ts";
import { tap } from "../../src/tap.ts";

test("resolveFamily: nlctrl's id, header size and operations with their flags", async () => {
  await using sock = await open(NETLINK_GENERIC);
  const family = await resolveFamily(sock, "nlctrl");
  assert.equal(family.id, GENL_ID_CTRL);
  assert.equal(family.headerSize, 0, "nlctrl has no header of its own after the genlmsghdr");
  assert.equal(GENL_HDRLEN, 4);
  const getFamily = family.operations!.get(CTRL_CMD_GETFAMILY);
  assert.ok(getFamily !== undefined, `operations: ${[...family.operations!.keys()]}`);
  assert.equal(
    getFamily & (GENL_CMD_CAP_DO | GENL_CMD_CAP_DUMP | GENL_CMD_CAP_HASPOL),
    GENL_CMD_CAP_DO | GENL_CMD_CAP_DUMP | GENL_CMD_CAP_HASPOL,
  );
  assert.ok(family.operations!.get(CTRL_CMD_GETPOLICY)! & GENL_CMD_CAP_DUMP);
});

test("resolvePolicy: nlctrl's GETFAMILY takes a u16 id and a name of at most 15 bytes", async () => {
  await using sock = await open(NETLINK_GENERIC);
  const all = await resolvePolicy(sock, "nlctrl");
  const { do: index } = all.operations.get(CTRL_CMD_GETFAMILY)!;
  assert.ok(index !== undefined);
  const attributes = all.policies.get(index)!;
  assert.deepEqual(attributes.get(CTRL_ATTR_FAMILY_ID), {
    type: NL_ATTR_TYPE_U16,
    minValue: 0n,
    maxValue: 65535n,
  });
  assert.deepEqual(attributes.get(CTRL_ATTR_FAMILY_NAME), {
    type: NL_ATTR_TYPE_NUL_STRING,
    maxLength: 15, // GENL_NAMSIZ - 1
  });
  const one = await resolvePolicy(sock, "nlctrl", { command: CTRL_CMD_GETFAMILY });
  assert.deepEqual([...one.operations.keys()], [CTRL_CMD_GETFAMILY]);
  // GETPOLICY is dump-only: the kernel nests its indices under command 0, read as 0 until now
  // (and several dump-only operations of one family as one).
  assert.deepEqual([...all.operations.keys()], [CTRL_CMD_GETFAMILY, CTRL_CMD_GETPOLICY]);
  assert.deepEqual(all.operations.get(CTRL_CMD_GETPOLICY), { dump: 1 });
  assert.deepEqual(
    [...(await resolvePolicy(sock, "nlctrl", { command: CTRL_CMD_GETPOLICY })).operations],
    [[CTRL_CMD_GETPOLICY, { dump: 0 }]],
  );
  // Every family: one entry per operation with a policy (GENL_CMD_CAP_HASPOL), keyed by its
  // command, in the order nlctrl lists them.
  for (const name of ["netdev", "ethtool", "thermal", "tcp_metrics"]) {
    const family = await resolveFamily(sock, name).catch(() => undefined);
    if (!family) continue;
    const withPolicy = [...family.operations!].filter(([, f]) => f & GENL_CMD_CAP_HASPOL);
    const { operations } = await resolvePolicy(sock, name);
    assert.deepEqual([...operations.keys()], withPolicy.map(([cmd]) => cmd), name);
  }
  await assert.rejects(
    resolvePolicy(sock, "no-such-family"),
    (e: unknown) => e instanceof NetlinkError && e.code === "ENOENT",
  );
  await using route = await open(NETLINK_ROUTE);
  await assert.rejects(resolvePolicy(route, "nlctrl"), /NETLINK_GENERIC/);
});

test("resolvePolicy refuses options it does not know, before asking (a number was taken for no command)", async () => {
  await using sock = await open(NETLINK_GENERIC);
  await assert.rejects(
    resolvePolicy(sock, "nlctrl", { comand: 3 } as never),
    (e) =>
      e instanceof TypeError
      && e.message === "resolvePolicy() options: unknown option \"comand\" (did you mean "
          + "\"command\"?); the options are signal, timeout, to, command",
  );
  await assert.rejects(
    resolvePolicy(sock, "nlctrl", CTRL_CMD_GETFAMILY as never),
    /resolvePolicy\(\) options must be an object, got number/,
  );
  await assert.rejects(resolvePolicy(sock, "nlctrl", null as never), /must be an object, got null/);
});

test("resolvePolicy refuses a command that is not a generic netlink command number (a u8), naming the option, before asking", async () => {
  // It was encoded as CTRL_ATTR_OP as it came: -1 was refused as "attribute 10: u32 value must
  // be ...", which names no option; 1.5 or "3" the same way.
  await using sock = await open(NETLINK_GENERIC);
  let sent = 0;
  tap(sock, { sent: () => sent++ });
  // Out of range a RangeError, no integer at all a TypeError (the library's one rule).
  for (
    const [command, kind] of [[-1, RangeError], [256, RangeError], [1.5, TypeError], [
      NaN,
      TypeError,
    ], ["3", TypeError]] as const
  ) {
    await assert.rejects(
      resolvePolicy(sock, "nlctrl", { command: command as number }),
      (e) =>
        e instanceof kind
        && e.message.startsWith("resolvePolicy() command must be an integer from 0 to 255, got "),
    );
  }
  assert.equal(sent, 0);
});

test("resolvePolicy says what its ENOENT means: a family not registered, or a command it lacks", async () => {
  await using sock = await open(NETLINK_GENERIC);
  await assert.rejects(
    resolvePolicy(sock, "no-such-family"),
    (e: unknown) =>
      e instanceof NetlinkError && e.code === "ENOENT"
      && e.message
        === "ENOENT: generic netlink family \"no-such-family\" is not registered (is its module loaded?)",
  );
  await assert.rejects(
    resolvePolicy(sock, "nlctrl", { command: 200 }),
    (e: unknown) =>
      e instanceof NetlinkError && e.code === "ENOENT" && e.offset !== undefined
      && /^ENOENT: generic netlink family "nlctrl" has no command 200, at offset \d+$/.test(
        e.message,
      ),
  );
});

test("resolveFamily and resolvePolicy name the registered family a misspelt name is closest to", async () => {
  // Said "(is its module loaded?)" only: wrong for a typo of a family that is there.
  await using sock = await open(NETLINK_GENERIC);
  for (const resolve of [resolveFamily, resolvePolicy]) {
    await assert.rejects(
      resolve(sock, "ethtol"),
      (e: unknown) =>
        e instanceof NetlinkError && e.code === "ENOENT"
        && e.message
          === "ENOENT: generic netlink family \"ethtol\" is not registered (did you mean \"ethtool\"?)",
    );
  }
});

test("a family name longer than GENL_NAMSIZ - 1 bytes is refused before anything is sent", async () => {
  await using sock = await open(NETLINK_GENERIC);
  let sent = 0;
  const detach = tap(sock, { sent: () => sent++ });
  const long = "x".repeat(16);
  for (const resolve of [resolveFamily, resolvePolicy]) {
    await assert.rejects(
      resolve(sock, long),
      (e: unknown) =>
        e instanceof RangeError
        && e.message
          === `family name "${long}" is 16 bytes long: generic netlink names are at most 15`,
    );
    // 15 bytes in UTF-8 (5 three-byte characters) is the longest a name can be: the kernel answers.
    await assert.rejects(resolve(sock, "\u20ac".repeat(5)), /ENOENT/);
    await assert.rejects(resolve(sock, "\u20ac".repeat(6)), RangeError);
    await assert.rejects(resolve(sock, "a\0b"), /must not contain NUL/);
  }
  detach();
  // Each 15-byte name's ENOENT is followed by the dump of the registered names (did you mean).
  assert.equal(sent, 4, "only the 15-byte names reached the kernel");
});

test("resolveFamily and resolvePolicy refuse what is not a socket in words that say so", async () => {
  for (const resolve of [resolveFamily, resolvePolicy]) {
    for (const socket of [null, undefined, 16, {}]) {
      await assert.rejects(
        resolve(socket as never, "nlctrl"),
        (e: unknown) =>
          e instanceof TypeError
          && /^nlctrl is reached through a NETLINK_GENERIC socket from open\(\), got /.test(
            e.message,
          ),
      );
    }
  }
  await using route = await open(NETLINK_ROUTE);
  await assert.rejects(
    resolveFamily(route, "nlctrl"),
    /^TypeError: nlctrl is reached through a NETLINK_GENERIC socket, this one is NETLINK_ROUTE$/,
  );
});
