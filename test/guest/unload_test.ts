// Failure modes around the module: a protocol nobody serves, the module unloaded while sockets
// are open (clear errors, nothing hangs), and a generic family client across reloads (its new
// id is resolved). Reloads the module afterwards.

import assert from "node:assert/strict";
import { test } from "node:test";
import { NLTEST_MSG_ECHO } from "../../kernel-module/nltest_uapi.ts";
import { nltest } from "../../kernel-module/nltest_ynl.ts";
import { NetlinkError, SocketClosedError, SyscallError } from "../../src/errors.ts";
import { open } from "../../src/open.ts";
import { family } from "../../src/ynl/mod.ts";
import { loadModule, moduleLoaded, nextWithin, UNIT, unloadModule } from "./_nltest.ts";

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
