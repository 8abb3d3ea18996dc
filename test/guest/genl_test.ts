// The module's generic netlink family: resolution of the family and its group by name, the
// echo command, a policy violation with its extended ack, a notification on the group.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  NLTEST_FAMILY_NAME,
  NLTEST_FAMILY_VERSION,
  NLTEST_GENL_A_MSG,
  NLTEST_GENL_A_VALUE,
  NLTEST_GENL_CMD_ECHO,
  NLTEST_GENL_CMD_EVENT,
  NLTEST_GENL_CMD_NOTIFY,
  NLTEST_GENL_VALUE_MAX,
  NLTEST_MCGRP_EVENTS,
} from "../../kernel-module/nltest_uapi.ts";
import { AttributeDecoder, AttributeEncoder } from "../../src/attribute.ts";
import { NETLINK_GENERIC } from "../../src/constants.ts";
import { NetlinkError } from "../../src/errors.ts";
import { decodeGeneric, encodeGeneric, resolveFamily } from "../../src/genl.ts";
import { open } from "../../src/open.ts";
import { nextWithin } from "./_nltest.ts";

function readAttrs(body: Uint8Array): { msg?: string; value?: number } {
  const out: { msg?: string; value?: number } = {};
  for (const a = new AttributeDecoder(body); a.next();) {
    if (a.type === NLTEST_GENL_A_MSG) out.msg = a.string();
    else if (a.type === NLTEST_GENL_A_VALUE) out.value = a.u32();
  }
  return out;
}

test("the family and its multicast group resolve by name", async () => {
  await using sock = await open(NETLINK_GENERIC);
  const family = await resolveFamily(sock, NLTEST_FAMILY_NAME);
  assert.equal(family.name, NLTEST_FAMILY_NAME);
  assert.ok(family.id >= 0x10, `family id ${family.id}`);
  assert.equal(family.version, NLTEST_FAMILY_VERSION);
  assert.ok(family.groups.has(NLTEST_MCGRP_EVENTS));
  assert.ok(family.groups.get(NLTEST_MCGRP_EVENTS)! > 0);
});

test("echo command: the attributes come back", async () => {
  await using sock = await open(NETLINK_GENERIC);
  const { id } = await resolveFamily(sock, NLTEST_FAMILY_NAME);
  const body = new AttributeEncoder().string(NLTEST_GENL_A_MSG, "hi genl").u32(
    NLTEST_GENL_A_VALUE,
    42,
  ).finish();
  const [reply] = await sock.request({
    type: id,
    payload: encodeGeneric(NLTEST_GENL_CMD_ECHO, NLTEST_FAMILY_VERSION, body),
  });
  assert.equal(reply.type, id);
  const { command, body: replyBody } = decodeGeneric(reply.payload);
  assert.equal(command, NLTEST_GENL_CMD_ECHO);
  assert.deepEqual(readAttrs(replyBody), { msg: "hi genl", value: 42 });
});

test("a policy violation is rejected with the kernel's extended ack and offset", async () => {
  await using sock = await open(NETLINK_GENERIC);
  const { id } = await resolveFamily(sock, NLTEST_FAMILY_NAME);
  const body = new AttributeEncoder().string(NLTEST_GENL_A_MSG, "ok").u32(
    NLTEST_GENL_A_VALUE,
    NLTEST_GENL_VALUE_MAX + 1,
  ).finish();
  const err = await sock.request({
    type: id,
    payload: encodeGeneric(NLTEST_GENL_CMD_ECHO, NLTEST_FAMILY_VERSION, body),
  }).catch((e) => e);
  assert.ok(err instanceof NetlinkError, String(err));
  assert.equal(err.code, "ERANGE");
  assert.match(err.detail ?? "", /out of range/i);
  // nlmsghdr (16) + genlmsghdr (4) + the padded "ok" string attribute (8): the VALUE attribute.
  assert.equal(err.offset, 16 + 4 + 8);
});

test("a notification on the family's group reaches a subscriber", async () => {
  await using control = await open(NETLINK_GENERIC);
  const family = await resolveFamily(control, NLTEST_FAMILY_NAME);
  await using listener = await open(NETLINK_GENERIC, {
    groups: [family.groups.get(NLTEST_MCGRP_EVENTS)!],
  });
  const it = listener.messages();
  const body = new AttributeEncoder().string(NLTEST_GENL_A_MSG, "event!").finish();
  await control.request({
    type: family.id,
    payload: encodeGeneric(NLTEST_GENL_CMD_NOTIFY, NLTEST_FAMILY_VERSION, body),
  });
  const event = (await nextWithin(it, 5000))!;
  assert.equal(event.type, family.id);
  assert.equal(event.group, family.groups.get(NLTEST_MCGRP_EVENTS));
  const { command, body: eventBody } = decodeGeneric(event.payload);
  assert.equal(command, NLTEST_GENL_CMD_EVENT);
  assert.equal(readAttrs(eventBody).msg, "event!");
  await it.return!();
});

test("a family that is not registered gives a clear error", async () => {
  await using sock = await open(NETLINK_GENERIC);
  const err = await resolveFamily(sock, "no-such-family").catch((e) => e);
  assert.ok(err instanceof NetlinkError);
  assert.equal(err.code, "ENOENT");
  assert.match(err.message, /not registered/);
});
