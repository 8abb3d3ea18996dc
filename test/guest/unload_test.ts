// Failure modes around the module: a protocol nobody serves, the module unloaded while sockets
// are open (clear errors, nothing hangs), a generic family client across reloads (its new id
// is resolved), and a dump left early (read to its end by itself, so it no longer holds the
// module). Reloads the module afterwards.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  NLTEST_A_COUNT,
  NLTEST_MSG_ECHO,
  NLTEST_MSG_ENTRY,
} from "../../kernel-module/nltest_uapi.ts";
import { nltest } from "../../kernel-module/nltest_ynl.ts";
import { NetlinkError, SocketClosedError, SyscallError } from "../../src/errors.ts";
import { open } from "../../src/open.ts";
import { family } from "../../src/ynl/mod.ts";
import {
  loadModule,
  moduleLoaded,
  nextWithin,
  nltest as unitMessage,
  UNIT,
  unloadModule,
} from "./_nltest.ts";

test("a protocol no module provides gives a clear error", async () => {
  const err = await open(31).catch((e) => e);
  assert.ok(err instanceof SyscallError);
  assert.equal(err.code, "EPROTONOSUPPORT");
  assert.match(err.message, /module/);
});

test("module unloaded while sockets are open: clear errors, nothing hangs", async () => {
  assert.ok(moduleLoaded());
  const sock = await open(UNIT);
  const subscriber = await open(UNIT, { groups: [3] });
  const waiting = subscriber.messages().next();
  try {
    assert.equal((await sock.request({ type: NLTEST_MSG_ECHO })).length, 1);
    unloadModule();
    const err = await sock.request({ type: NLTEST_MSG_ECHO }, { timeout: 5000 }).catch((e) => e);
    assert.ok(err instanceof SyscallError, String(err));
    assert.equal(err.code, "ECONNREFUSED");
    assert.match(err.message, /unloaded/);
    // The subscriber's pending wait ends as soon as it is closed.
    subscriber.close();
    assert.equal(await nextWithin({ next: () => waiting }, 1000), undefined);
    await assert.rejects(subscriber.request({ type: 1 }), SocketClosedError);
    // New sockets get the clear error at open.
    const reopen = await open(UNIT).catch((e) => e);
    assert.equal(reopen.code, "EPROTONOSUPPORT");
  } finally {
    sock.close();
    subscriber.close();
    loadModule();
  }
  await using again = await open(UNIT);
  assert.equal((await again.request({ type: NLTEST_MSG_ECHO })).length, 1);
});

test("a generic family client across its module's reloads: the new id is used, nothing stale", async () => {
  assert.ok(moduleLoaded());
  await using client = await family(nltest);
  const first = client.generic!.id;
  assert.equal((await client.do("echo", { msg: "before" })).msg, "before");
  unloadModule();
  try {
    await assert.rejects(client.do("echo", { msg: "gone" }), (err: unknown) => {
      assert.ok(err instanceof NetlinkError, String(err));
      assert.equal(err.code, "ENOENT");
      assert.match(err.message, /"nltest" is no longer registered/);
      return true;
    });
  } finally {
    loadModule();
  }
  // The cached id is stale: ENOENT under it, nlctrl gives the new one, the request goes again.
  assert.equal((await client.do("echo", { msg: "after" })).msg, "after");
  const second = client.generic!.id;
  assert.notEqual(second, first);
  unloadModule();
  loadModule();
  assert.equal((await client.dump("list", { count: 3 })).length, 3);
  assert.notEqual(client.generic!.id, second);
});

test("a dump left early does not hold the module: rmmod works while its socket stays open", async () => {
  assert.ok(moduleLoaded());
  await using sock = await open(UNIT);
  const entries = unitMessage(NLTEST_MSG_ENTRY, (a) => a.u32(NLTEST_A_COUNT, 20_000));
  for await (const _ of sock.dump(entries)) break;
  // The kernel's dump holds a reference on the module until it is read to its end (or the
  // socket closes): the socket reads the rest by itself, with nothing else asked of it.
  let unloaded = false;
  try {
    for (let i = 0; i < 300 && !unloaded; i++) {
      try {
        unloadModule();
        unloaded = true;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.ok(unloaded, "rmmod still failed (EBUSY) 30 s after the dump was left");
  } finally {
    loadModule();
  }
  assert.equal((await sock.request({ type: NLTEST_MSG_ECHO })).length, 1, "served after reload");
});
