// A generic family's notifications across its module's reload (rmmod + insmod): unregistering
// drops every membership of the family's groups and registering gives new ids, which nlctrl
// announces on its "notify" group. A typed monitor() follows them and goes on delivering; the
// untyped layer gets the same announcements (decodeFamily) and rejoins by hand, as the CLI's
// `monitor genl` does. Leaves the module loaded.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { nltest } from "../../kernel-module/nltest_ynl.ts";
import { AttributeEncoder } from "../../src/attribute.ts";
import {
  CTRL_CMD_DELFAMILY,
  CTRL_CMD_NEWFAMILY,
  GENL_ID_CTRL,
  NETLINK_GENERIC,
} from "../../src/constants.ts";
import { decodeFamily, decodeGeneric, encodeGeneric, resolveFamily } from "../../src/genl.ts";
import type { Message } from "../../src/message.ts";
import { open } from "../../src/open.ts";
import { family } from "../../src/ynl/mod.ts";
import { loadModule, moduleLoaded, unloadModule } from "./_nltest.ts";

const NOTIFY = 2; // NLTEST_GENL_CMD_NOTIFY
const EVENT = 3; // NLTEST_GENL_CMD_EVENT
const MSG = 1; // NLTEST_GENL_A_MSG

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

/** `text` as the CLI shows a NUL-terminated string attribute it has no descriptor for. */
function nulTerminatedHex(text: string): string {
  return [...new TextEncoder().encode(text), 0].map((b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
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

test("untyped: nlctrl's notify group announces the removal (with the groups dropped) and the return under new ids", async () => {
  assert.ok(moduleLoaded());
  await using sock = await open(NETLINK_GENERIC);
  const old = await resolveFamily(sock, "nltest");
  sock.join(old.groups.get("events")!);
  sock.join(GENL_ID_CTRL); // nlctrl's "notify" group: the kernel gives it nlctrl's id
  const announcements = sock.messages();
  /** The next nlctrl announcement about nltest, of `command`. */
  const announced = async (command: number) => {
    for (;;) {
      const { value } = await announcements.next();
      const message = value as Message;
      if (message.type !== GENL_ID_CTRL || message.payload[0] !== command) continue;
      const family = decodeFamily(message);
      if (family.name === "nltest") return family;
    }
  };
  unloadModule();
  try {
    const removed = await announced(CTRL_CMD_DELFAMILY);
    assert.equal(removed.id, old.id);
    assert.deepEqual(removed.groups, old.groups); // what the kernel dropped
    sock.leave(old.groups.get("events")!); // so that sock.groups says what the kernel holds
  } finally {
    loadModule();
  }
  const fresh = await announced(CTRL_CMD_NEWFAMILY);
  assert.notEqual(fresh.id, old.id);
  sock.join(fresh.groups.get("events")!);
  const attrs = new AttributeEncoder().string(MSG, "untyped").finish();
  await sock.request({ type: fresh.id, payload: encodeGeneric(NOTIFY, 1, attrs) });
  for (;;) {
    const { value } = await announcements.next();
    const message = value as Message;
    if (message.type !== fresh.id) continue;
    assert.equal(decodeGeneric(message.payload).command, EVENT);
    break;
  }
  await announcements.return?.();
});

test("cli monitor genl: says when the family goes and comes back, and prints its notifications after", async () => {
  assert.ok(moduleLoaded());
  const cli = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
  const runtime = process.versions.bun ? [cli] : ["run", "-A", cli];
  const child = spawn(process.execPath, [...runtime, "monitor", "genl", "nltest", "events"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => stdout += chunk);
  child.stderr.on("data", (chunk) => stderr += chunk);
  const exited = new Promise((resolve) => child.on("exit", resolve));
  try {
    await using client = await family(nltest);
    /** Sends notifications every 100 ms until the output matches `pattern`. */
    const notifyUntil = async (pattern: RegExp, msg: string) => {
      for (const start = Date.now(); !pattern.test(stdout);) {
        if (Date.now() - start > 30_000) assert.fail(`no ${pattern} in: ${stdout} ${stderr}`);
        await client.do("notify", { msg });
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    // The CLI has no descriptor of nltest: its event (command 3) shows raw, msg as hex.
    const before = new RegExp(`^nltest cmd 3 .*#1=${nulTerminatedHex("before")}(?: |$)`, "m");
    const after = new RegExp(`^nltest cmd 3 .*#1=${nulTerminatedHex("after")}(?: |$)`, "m");
    await notifyUntil(before, "before");
    unloadModule();
    try {
      await until(() => /^nltest unregistered: /m.test(stdout), "the CLI saw the family go");
    } finally {
      loadModule();
    }
    await notifyUntil(new RegExp(`^nltest registered: [^]*${after.source}`, "m"), "after");
    const lines = stdout.split("\n").filter((line) => !before.test(line));
    assert.match(lines[0], /^nltest unregistered: id \d+, groups events=\d+$/);
    assert.match(lines[1], /^nltest registered: id \d+, groups events=\d+$/);
    assert.match(lines[2], after);
  } finally {
    child.kill();
    await exited;
  }
});
