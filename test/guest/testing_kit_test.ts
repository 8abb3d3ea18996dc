// The testing kit (src/testing) against the project's kernel module's unit, as a user of their
// own module uses it: a session recorded on the module replays the same (echo, a dump over many
// datagrams, an error with its extended ack, an interrupted dump, a multicast, an overrun), and a
// fake kernel programmed as the unit refuses and accepts what the module does (its 64 groups;
// once unloaded, ECONNREFUSED to a send and EPROTONOSUPPORT to a new socket). Reloads the module afterwards.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  NLTEST_A_COUNT,
  NLTEST_A_ERRMSG,
  NLTEST_A_ERRNO,
  NLTEST_A_GROUP,
  NLTEST_A_INTR_AT,
  NLTEST_A_MODE,
  NLTEST_A_PAYLOAD,
  NLTEST_A_SIZE,
  NLTEST_FLOOD_LOSSY,
  NLTEST_GROUPS,
  NLTEST_MSG_ECHO,
  NLTEST_MSG_ENTRY,
  NLTEST_MSG_FAIL,
  NLTEST_MSG_FLOOD,
  NLTEST_MSG_FLOOD_DONE,
  NLTEST_MSG_MCAST,
} from "../../kernel-module/nltest_uapi.ts";
import { NLM_F_DUMP, NLMSG_OVERRUN } from "../../src/constants.ts";
import { NetlinkError, SyscallError } from "../../src/errors.ts";
import { open, type OpenOptions } from "../../src/open.ts";
import { FakeKernel, Recorder, Replayer } from "../../src/testing/mod.ts";
import { loadModule, moduleLoaded, nextWithin, nltest, UNIT, unloadModule } from "./_nltest.ts";

const text = new TextEncoder();

/** What a client of the unit sees, every byte of it, as one string. */
async function session(options: OpenOptions): Promise<string> {
  const seen: unknown[] = [];
  const show = (m: { type: number; flags: number; payload: Uint8Array }) =>
    `${m.type}/${m.flags}/${Array.from(m.payload).join(",")}`;
  const groups = [NLTEST_GROUPS];
  await using sock = await open(UNIT, { ...options, groups, receiveBufferSize: 16_384 });
  seen.push((await sock.request({ type: NLTEST_MSG_ECHO, payload: text.encode("abc") })).map(show));
  // 300 entries of 100 bytes: several datagrams.
  const entries = nltest(
    NLTEST_MSG_ENTRY,
    (a) => a.u32(NLTEST_A_COUNT, 300).u32(NLTEST_A_SIZE, 100),
  );
  seen.push((await sock.request({ ...entries, flags: NLM_F_DUMP })).map(show));
  const fail = nltest(
    NLTEST_MSG_FAIL,
    (a) => a.u32(NLTEST_A_ERRNO, 22).string(NLTEST_A_ERRMSG, "no"),
  );
  const err = await sock.request(fail).catch((e) => e);
  assert.ok(err instanceof NetlinkError, String(err));
  seen.push([err.code, err.detail, err.offset]);
  let parts = 0;
  const interrupted = nltest(
    NLTEST_MSG_ENTRY,
    (a) => a.u32(NLTEST_A_COUNT, 50).u32(NLTEST_A_INTR_AT, 20),
  );
  await assert.rejects(
    (async () => {
      for await (const _ of sock.dump(interrupted)) parts++;
    })(),
    { name: "DumpInterruptedError" },
  );
  seen.push(parts);
  // A multicast to group 64, to this socket as a member.
  const mcast = nltest(NLTEST_MSG_MCAST, (a) => {
    a.u32(NLTEST_A_GROUP, NLTEST_GROUPS).bytes(NLTEST_A_PAYLOAD, text.encode("to all"));
  });
  await sock.request(mcast);
  const messages = sock.messages()[Symbol.asyncIterator]();
  const got = (await nextWithin(messages, 5000))!;
  seen.push([show(got), got.group]);
  // A lossy flood of 500 past the small receive buffer: the overrun shows in the stream.
  const flood = nltest(NLTEST_MSG_FLOOD, (a) => {
    a.u32(NLTEST_A_COUNT, 500).u32(NLTEST_A_SIZE, 200).u32(NLTEST_A_MODE, NLTEST_FLOOD_LOSSY);
  });
  await sock.request(flood);
  const counts = new Map<number, number>();
  for (let m; (m = (await nextWithin(messages, 5000))!).type !== NLTEST_MSG_FLOOD_DONE;) {
    counts.set(m.type, (counts.get(m.type) ?? 0) + 1);
  }
  assert.ok(counts.get(NLMSG_OVERRUN)! >= 1, "no overrun: the flood fit the buffer");
  seen.push([...counts], sock.overruns);
  await messages.return!();
  return JSON.stringify(seen);
}

test("a session recorded on the module's unit replays the same, byte for byte, with no kernel", async () => {
  const recorder = new Recorder();
  const live = await session({ transport: recorder.transport });
  const replayer = new Replayer(JSON.stringify(recorder.session()));
  assert.equal(await session({ transport: replayer.transport }), live);
  replayer.finish();
});

test("a fake kernel programmed as the module's unit refuses and accepts what the module does", async () => {
  assert.ok(moduleLoaded());
  const kernel = new FakeKernel({ protocolGroups: { [UNIT]: NLTEST_GROUPS } })
    .serve(
      UNIT,
      NLTEST_MSG_ECHO,
      (req) => ({ messages: [{ type: req.type, payload: req.payload }] }),
    );
  const joins = async (options: OpenOptions) => {
    await using sock = await open(UNIT, options);
    return [40, NLTEST_GROUPS, NLTEST_GROUPS + 1].map((group) => {
      try {
        sock.join(group);
        return `${group} ok`;
      } catch (err) {
        return `${group} ${(err as SyscallError).code}`;
      }
    });
  };
  const joined = await joins({});
  assert.deepEqual(joined, ["40 ok", "64 ok", "65 EINVAL"]);
  assert.deepEqual(await joins({ transport: kernel.open }), joined);
  // The module unloaded, the unit served no more: a socket still open is refused.
  const refused = async (options: OpenOptions, unload: () => void) => {
    await using sock = await open(UNIT, options);
    assert.equal((await sock.request({ type: NLTEST_MSG_ECHO })).length, 1);
    unload();
    const err = await sock.request({ type: NLTEST_MSG_ECHO }).catch((e) => e);
    assert.ok(err instanceof SyscallError, String(err));
    const reopen = await open(UNIT, options).catch((e) => e);
    assert.ok(reopen instanceof SyscallError, String(reopen));
    return [err.code, reopen.code];
  };
  try {
    assert.deepEqual(await refused({}, unloadModule), ["ECONNREFUSED", "EPROTONOSUPPORT"]);
  } finally {
    loadModule();
  }
  const fake = await refused(
    { transport: kernel.open },
    () => kernel.unserve(UNIT, NLTEST_MSG_ECHO),
  );
  assert.deepEqual(fake, ["ECONNREFUSED", "EPROTONOSUPPORT"]);
});
