// The socket core against the real kernel, each test in a fresh network namespace: what the
// kernel's own rules (uevents, one dump per socket, acks inside sendmsg...) make of it.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  NETLINK_KOBJECT_UEVENT,
  NETLINK_ROUTE,
  RTM_NEWLINK,
  RTNLGRP_LINK,
} from "../../src/constants.ts";
import { decodeDatagram } from "../../src/message.ts";
import { open } from "../../src/open.ts";
import { Netns } from "./_netns.ts";

test("unframed NETLINK_KOBJECT_UEVENT: a veth's creation arrives as whole uevent datagrams", async () => {
  using ns = new Netns();
  await using sock = await open(NETLINK_KOBJECT_UEVENT, {
    netns: ns.name,
    unframed: true,
    groups: [1],
  });
  const it = sock.datagrams({ signal: AbortSignal.timeout(5000) });
  const first = it.next();
  ns.ip("link", "add", "va0", "type", "veth", "peer", "name", "vb0");
  // Each net device's add event, among the others (its queues...) the veth causes.
  const interfaces: string[] = [];
  for (let step = await first; !step.done; step = await it.next()) {
    const { data, sender, group } = step.value;
    assert.equal(sender, 0, "uevents come from the kernel");
    assert.equal(group, 1);
    const fields = new TextDecoder().decode(data).split("\0");
    assert.match(fields[0], /^[a-z]+@\//, "the header line: ACTION@DEVPATH");
    if (fields.includes("ACTION=add") && fields.includes("SUBSYSTEM=net")) {
      interfaces.push(fields.find((x) => x.startsWith("INTERFACE="))!);
    }
    if (interfaces.length === 2) break;
  }
  assert.deepEqual(interfaces.sort(), ["INTERFACE=va0", "INTERFACE=vb0"]);
});

test("datagrams() on NETLINK_ROUTE: a link event arrives as one whole datagram", async () => {
  using ns = new Netns();
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name, groups: [RTNLGRP_LINK] });
  const it = sock.datagrams({ signal: AbortSignal.timeout(5000) });
  const first = it.next();
  ns.ip("link", "set", "lo", "mtu", "1500");
  const datagram = (await first).value!;
  assert.equal(datagram.group, RTNLGRP_LINK);
  const messages = decodeDatagram(datagram);
  assert.ok(messages.length >= 1);
  assert.ok(messages.every((m) => m.type === RTM_NEWLINK && m.group === RTNLGRP_LINK));
  await it.return!();
});
