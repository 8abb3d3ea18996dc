// A generic family's notifications across its module's reload (rmmod + insmod): unregistering
// drops every membership of the family's groups and registering gives new ids, which nlctrl
// announces on its "notify" group. A typed monitor() follows them and goes on delivering.
// Leaves the module loaded.

import assert from "node:assert/strict";
import { test } from "node:test";
import { nltest } from "../../kernel-module/nltest_ynl.ts";
import { GENL_ID_CTRL } from "../../src/constants.ts";
import { family } from "../../src/ynl/mod.ts";
import { loadModule, moduleLoaded, unloadModule } from "./_nltest.ts";

/**
 * Calls `trigger` every 100 ms until `pending` settles (or `ms` pass): the monitor joins the
 * family's new groups when it reads nlctrl's announcement, and nothing tells the test when.
 */
async function triggerUntil<T>(
  pending: Promise<T>,
  trigger: (attempt: number) => Promise<unknown>,
  ms = 15_000,
): Promise<T> {
  let settled = false;
  const result = pending.finally(() => void (settled = true));
  for (let attempt = 0, start = Date.now(); !settled; attempt++) {
    if (Date.now() - start > ms) throw new Error(`nothing arrived within ${ms} ms`);
    await trigger(attempt);
    await Promise.race([result.catch(() => {}), new Promise((r) => setTimeout(r, 100))]);
  }
  return await result;
}

/** Resolves once `condition()` holds, checking every 20 ms; rejects after `ms`. */
async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (const start = Date.now(); !condition();) {
    if (Date.now() - start > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("a typed monitor across its module's reload: its groups are left, joined again under their new ids, and it goes on", async () => {
  assert.ok(moduleLoaded());
  await using client = await family(nltest);
  await using events = client.monitor({ groups: ["events"] });
  const firstId = client.generic!.id;
  const firstGroup = client.group("events");
  await client.do("notify", { msg: "before" });
  const before = await events.next();
  assert.equal(before.value?.op, "event");
  assert.equal((before.value!.message as { msg?: string }).msg, "before");

  // A step waiting while the module goes: it reads nlctrl's announcements as they come.
  const pending = events.next();
  unloadModule();
  let leftWhileGone: unknown;
  try {
    // The kernel dropped the membership: the socket no longer says it holds the group (checked
    // at the end: what comes next matters more).
    leftWhileGone = await until(() => !client.socket.groups.includes(firstGroup), "left")
      .then(() => true, (err) => err);
  } finally {
    loadModule();
  }
  // The family announced under its new id: the monitor joins its group again by name, and the
  // notification sent after that arrives on the step that was waiting all along.
  const after = await triggerUntil(
    pending,
    (attempt) => client.do("notify", { msg: `after-${attempt}` }),
  );
  assert.equal(after.value?.op, "event");
  assert.match((after.value!.message as { msg?: string }).msg!, /^after-\d+$/);
  assert.equal(leftWhileGone, true, "the dropped group left while the family was gone");
  assert.notEqual(client.generic!.id, firstId);
  assert.deepEqual(client.socket.groups, [GENL_ID_CTRL, client.group("events")]);
  // Counted once: ending the monitor leaves the group (and nlctrl's) for good.
  await events.return();
  assert.deepEqual(client.socket.groups, []);
});

test("a typed monitor started while its family is gone receives once the module is back", async () => {
  assert.ok(moduleLoaded());
  await using client = await family(nltest);
  unloadModule();
  let events;
  try {
    events = client.monitor({ groups: ["events"] });
  } finally {
    loadModule();
  }
  await using _ = events;
  const received = await triggerUntil(
    events.next(),
    (attempt) => client.do("notify", { msg: `back-${attempt}` }),
  );
  assert.equal(received.value?.op, "event");
  assert.match((received.value!.message as { msg?: string }).msg!, /^back-\d+$/);
});
