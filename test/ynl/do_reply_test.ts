// do() of an operation whose spec says it replies, answered with an ack only.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { Message } from "../../src/message.ts";
import { openRoute } from "../../src/route/mod.ts";
import { NetlinkFamily } from "../../src/ynl/family.ts";
import { rtLink } from "../../src/ynl/rt_link.ts";
import { team } from "../../src/ynl/team.ts";
import { ack, fakeSocket } from "../unit/_fake.ts";

test("typed do(): a replying operation answered with an ack only is an Error naming it; the ops the kernel answers so resolve with undefined", async () => {
  const { sock, t } = await fakeSocket();
  t.script = (request: Message) => t.deliver([ack(request)]);
  const rt = new NetlinkFamily(rtLink, sock);
  await assert.rejects(
    rt.do("getlink", { ifname: "lo" }),
    (e: unknown) =>
      e instanceof Error && e.constructor === Error
      && /^rt-link operation "getlink" was answered with an ack only/.test(e.message),
  );
  // An operation that only acks: undefined, as before.
  assert.equal(await rt.do("dellink", { ifname: "x" }), undefined);
  // team's options-set: its spec names a reply, the kernel sends none.
  const generic = {
    name: "team",
    id: 0x20,
    version: 1,
    headerSize: 0,
    maxAttribute: 2,
    groups: new Map(),
  };
  const client = new NetlinkFamily(team, sock, generic);
  assert.equal(await client.do("options-set", { teamIfindex: 1 }), undefined);
  await assert.rejects(client.do("options-get", { teamIfindex: 1 }), /"options-get"/);
  sock.close();
});

test("route layer: a link lookup answered with an ack only says so, not a TypeError from inside", async () => {
  const { sock, t } = await fakeSocket();
  t.script = (request: Message) => t.deliver([ack(request)]);
  await using ip = await openRoute({ socket: sock });
  await assert.rejects(
    ip.link.get("lo"),
    (e: unknown) =>
      !(e instanceof TypeError) && /"getlink" was answered with an ack only/.test(String(e)),
  );
});
