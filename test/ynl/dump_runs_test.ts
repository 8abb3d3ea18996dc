// The typed dump() reads a dump a datagram at a time and decodes the parts of datagrams that
// hold nothing else where they were received (src/_dump.ts nextRun, Matcher.claimDatagram):
// what it returns, throws and leaves behind must be what decoding each part's payload gives.

import assert from "node:assert/strict";
import { test } from "node:test";
import { NETLINK_ROUTE, NLM_F_MULTI, RTM_GETROUTE, RTM_NEWROUTE } from "../../src/constants.ts";
import {
  DumpInterruptedError,
  MalformedMessageError,
  SocketClosedError,
} from "../../src/errors.ts";
import type { Message } from "../../src/message.ts";
import { type Answer, FakeKernel, type MessageSpec } from "../../src/testing/mod.ts";
import { family, NetlinkFamily } from "../../src/ynl/family.ts";
import { rtRoute } from "../../src/ynl/rt_route.ts";
import { countingDatagrams, done, fakeSocket, reply, settle } from "../unit/_fake.ts";

const AF_INET = 2;
const encoder = new NetlinkFamily(rtRoute, {} as never);

/** Route `n`'s payload: rtmsg and attributes (dst, table, oif, and a metrics nest). */
function route(n: number): Uint8Array {
  return encoder.encode("newroute", {
    rtmFamily: AF_INET,
    rtmDstLen: 32,
    rtmTable: 254,
    rtmType: "unicast",
    dst: new Uint8Array([10, n >> 16 & 255, n >> 8 & 255, n & 255]),
    table: 254,
    oif: n % 7,
    metrics: { mtu: 1000 + n },
  }).payload!;
}

const routes = (count: number): MessageSpec[] =>
  Array.from({ length: count }, (_, n) => ({ type: RTM_NEWROUTE, payload: route(n) }));

/** What decode() gives for each part's payload alone: what dump() must return. */
const expected = (parts: readonly MessageSpec[]) =>
  parts.map((part) =>
    encoder.decode({ type: RTM_NEWROUTE, flags: 0, seq: 0, portid: 0, payload: part.payload! })!
      .message
  );

/** A family on a fake kernel that answers getroute dumps with `parts` (~16 per datagram). */
async function servingRoutes(parts: MessageSpec[] | (() => Answer)) {
  const kernel = new FakeKernel({ dumpDatagramSize: 1024 }).serve(
    NETLINK_ROUTE,
    RTM_GETROUTE,
    typeof parts === "function" ? parts : () => ({ messages: parts }),
  );
  const { sock } = await fakeSocket({}, () => {}, NETLINK_ROUTE, kernel);
  return { sock, rt: new NetlinkFamily(rtRoute, sock) };
}

/**
 * 40 routes of which the 26th does not decode (its second attribute claims 200 bytes, more than
 * its message holds), and the error decoding its payload alone throws.
 */
function withBadPart() {
  const parts = routes(40);
  const bad = parts[25].payload!.slice();
  new DataView(bad.buffer).setUint16(12 + 8, 200, true);
  parts[25] = { type: RTM_NEWROUTE, payload: bad };
  try {
    expected([parts[25]]);
  } catch (alone) {
    assert.ok(alone instanceof MalformedMessageError);
    return { parts, alone };
  }
  throw new Error("the bad part decoded");
}

test("typed dump(): parts decoded where they were received equal decode() of each payload", async () => {
  const parts = routes(500);
  // 16 routes per datagram: 32 datagrams, the last one with NLMSG_DONE in it.
  const { sock, rt } = await servingRoutes(parts);
  const [got, claimed] = await countingDatagrams(() => rt.dump("getroute", { rtmFamily: AF_INET }));
  assert.deepEqual(got, expected(parts));
  assert.equal(got[300].dst, "10.0.1.44"); // text: its display hint
  assert.equal(got[300].metrics?.mtu, 1300);
  assert.ok(claimed > 30, `${claimed} datagrams as bytes`);
  // Again, on the same socket: nothing of the first dump is left over.
  assert.deepEqual(await rt.dump("getroute"), expected(parts));
  sock.close();
});

test("typed dump(): a datagram that mixes in another request's reply and NLMSG_DONE", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (message) => asked.push(message);
  const rt = new NetlinkFamily(rtRoute, sock);
  const dump = rt.dump("getroute");
  await settle();
  const request = sock.request({ type: RTM_GETROUTE, payload: new Uint8Array(16) }, {
    timeout: 2000,
  });
  await settle();
  const [d, r] = asked;
  const parts = routes(6);
  const part = (n: number) => reply(d, RTM_NEWROUTE, parts[n].payload!, NLM_F_MULTI);
  t.deliver([part(0), part(1)]); // bytes
  t.deliver([part(2), reply(r, RTM_NEWROUTE, route(99)), part(3)]); // messages
  t.deliver([part(4)]);
  t.deliver([part(5), { ...reply(r, 2, new Uint8Array(4)) }, done(d, 0, NLM_F_MULTI)]);
  assert.deepEqual(await dump, expected(parts));
  const replies = await request;
  assert.deepEqual(replies.map((m) => m.payload), [route(99)]);
  sock.close();
});

test("typed dump(): NLM_F_DUMP_INTR on a datagram of parts throws DumpInterruptedError", async () => {
  const { sock, rt } = await servingRoutes(() => ({ messages: routes(100), interrupted: true }));
  const [error, claimed] = await countingDatagrams(() =>
    rt.dump("getroute").then(() => undefined, (err) => err)
  );
  assert.ok(error instanceof DumpInterruptedError, String(error));
  assert.ok(claimed > 0);
  sock.close();
});

test("typed dump(): a part that does not decode throws what its payload alone throws", async () => {
  const { parts, alone } = withBadPart();
  const { sock, rt } = await servingRoutes(parts);
  const [error, claimed] = await countingDatagrams(() =>
    rt.dump("getroute").then(() => undefined, (err) => err)
  );
  assert.ok(claimed > 0, "the bad part came in a datagram of parts");
  assert.ok(error instanceof MalformedMessageError, String(error));
  assert.equal(error.message, alone.message);
  assert.equal(error.offset, alone.offset);
  // The rest of that dump was read and discarded: the next one runs, whole.
  parts[25] = routes(26)[25];
  assert.deepEqual(await rt.dump("getroute"), expected(parts));
  sock.close();
});

test("typed dumpStream(): the same parts, in order, however many next() calls wait at once", async () => {
  const parts = routes(300);
  const { sock, rt } = await servingRoutes(parts);
  const [streamed, claimed] = await countingDatagrams(async () => {
    const got = [];
    for await (const route of rt.dumpStream("getroute")) got.push(route);
    return got;
  });
  assert.deepEqual(streamed, expected(parts));
  assert.ok(claimed > 15, `${claimed} datagrams as bytes`);
  // 40 steps asked for at once, more than a datagram holds: each resolves with its own part.
  const it = rt.dumpStream("getroute")[Symbol.asyncIterator]();
  const steps = await Promise.all(Array.from({ length: 40 }, () => it.next()));
  assert.deepEqual(steps.map((step) => step.value), expected(parts.slice(0, 40)));
  // Left mid-datagram: the rest of the dump is discarded, and the next dump runs whole.
  assert.deepEqual(await it.return!(), { value: undefined, done: true });
  assert.deepEqual((await it.next()).done, true);
  assert.equal((await rt.dump("getroute")).length, 300);
  sock.close();
});

test("typed dumpStream(): an iteration declared with `await using` ends the dump with its scope; the next dump runs whole", async () => {
  // Its iterator was not AsyncDisposable: `await using` threw a TypeError.
  const { sock, rt } = await servingRoutes(routes(300));
  {
    await using it = rt.dumpStream("getroute")[Symbol.asyncIterator]();
    assert.equal((await it.next()).done, false);
  }
  assert.equal((await rt.dump("getroute")).length, 300);
  sock.close();
});

test("typed dumpStream(): the request is sent when iteration starts, not when the stream is made", async () => {
  const parts = routes(3);
  const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_GETROUTE, () => ({ messages: parts }));
  const { sock, t } = await fakeSocket({}, () => {}, NETLINK_ROUTE, kernel);
  const rt = new NetlinkFamily(rtRoute, sock);
  const stream = rt.dumpStream("getroute", { rtmFamily: AF_INET });
  await settle();
  assert.equal(t.sent.length, 0, "nothing sent before iterating");
  const got = [];
  for await (const route of stream) got.push(route);
  assert.equal(t.sent.length, 1);
  assert.deepEqual(got, expected(parts));
  sock.close();
});

test("typed dumpStream(): a close or an abort while a part is handled ends the stream there, mid-datagram", async () => {
  for (const stop of ["close", "abort"] as const) {
    const { sock, rt } = await servingRoutes(routes(300));
    const ac = new AbortController();
    let seen = 0;
    const error = await (async () => {
      for await (const _ of rt.dumpStream("getroute", {}, { signal: ac.signal })) {
        seen++;
        if (stop === "close") sock.close();
        else ac.abort(new Error("stop here"));
      }
    })().then(() => undefined, (err) => err);
    assert.equal(seen, 1, stop);
    assert.ok(error instanceof Error, stop);
    sock.close();
  }
});

test("typed dumpStream(): every part read already, a close, an abort or a timeout in the loop body ends it with its error; the socket is usable after", async () => {
  // 20 parts, two datagrams and NLMSG_DONE, all read before the first part is handled.
  for (const stop of ["close", "abort", "timeout"] as const) {
    const { sock, rt } = await servingRoutes(routes(20));
    const ac = new AbortController();
    let seen = 0;
    const error = await (async () => {
      const options = { signal: ac.signal, timeout: stop === "timeout" ? 30 : 10_000 };
      for await (const _ of rt.dumpStream("getroute", {}, options)) {
        seen++;
        await settle();
        if (stop === "close") sock.close();
        else if (stop === "abort") ac.abort();
        else await new Promise((r) => setTimeout(r, 90));
      }
    })().then(() => undefined, (err) => err);
    assert.equal(seen, 1, stop);
    if (stop === "close") assert.ok(error instanceof SocketClosedError, `${stop}: ${error}`);
    else {
      assert.ok(error instanceof DOMException, `${stop}: ${error}`);
      assert.equal(error.name, stop === "abort" ? "AbortError" : "TimeoutError");
      assert.equal((await rt.dump("getroute")).length, 20);
    }
    sock.close();
  }
});

test("typed dumpStream(): a part that does not decode ends the dump and throws what its payload does", async () => {
  const { parts, alone } = withBadPart();
  const { sock, rt } = await servingRoutes(parts);
  const got: unknown[] = [];
  const error = await (async () => {
    for await (const route of rt.dumpStream("getroute")) got.push(route);
  })().then(() => undefined, (err) => err);
  assert.ok(error instanceof MalformedMessageError, String(error));
  assert.deepEqual(got, expected(parts.slice(0, 25)));
  assert.equal(error.message, alone.message);
  assert.equal(error.offset, alone.offset);
  parts[25] = routes(26)[25];
  assert.deepEqual(await rt.dump("getroute"), expected(parts));
  sock.close();
});

test("typed do() and dump() refuse an option they do not know, naming the closest, before sending", async () => {
  const { sock, rt } = await servingRoutes(routes(3));
  // deno-lint-ignore no-explicit-any
  const typo = { flag: 0 } as any;
  await assert.rejects(
    rt.dump("getroute", { rtmFamily: AF_INET }, typo),
    (e) =>
      e instanceof TypeError
      && e.message === "operation options: unknown option \"flag\" (did you mean \"flags\"?); "
          + "the options are signal, timeout, to, flags, attrs",
  );
  await assert.rejects(rt.do("getroute", { rtmFamily: AF_INET }, typo), /unknown option "flag"/);
  // The known ones still work, flags included.
  const all = await rt.dump("getroute", { rtmFamily: AF_INET }, { flags: 0, timeout: 5000 });
  assert.equal(all.length, 3);
  sock.close();
});

test("typed monitor() refuses an option it does not know, naming the closest, before joining anything", async () => {
  const { sock, rt } = await servingRoutes(routes(1));
  assert.throws(
    () => rt.monitor({ group: ["rtnlgrp-ipv4-route"] } as never),
    (e) =>
      e instanceof TypeError
      && e.message === "monitor() options: unknown option \"group\" (did you mean \"groups\"?); "
          + "the options are groups, signal, attrs",
  );
  assert.deepEqual(sock.groups, [], "a typo joins no group (it joined every one)");
  sock.close();
});

test("typed monitor(): a next() waiting when the socket closes ends, done", async () => {
  const { sock, rt } = await servingRoutes(routes(1));
  const events = rt.monitor({ groups: ["rtnlgrp-ipv4-route"] });
  const waiting = events.next();
  await settle();
  sock.close();
  assert.deepEqual(await waiting, { value: undefined, done: true });
  assert.deepEqual(await events.next(), { value: undefined, done: true });
});

test("typed monitor() refuses groups that are not a list of names, saying so, before joining anything", async () => {
  const { sock, rt } = await servingRoutes(routes(1));
  for (const groups of ["rtnlgrp-ipv4-route", new Set(["rtnlgrp-ipv4-route"]), 3]) {
    assert.throws(
      () => rt.monitor({ groups } as never),
      (e) =>
        e instanceof TypeError
        && e.message.startsWith("monitor() options: groups must be an array of group names, got "),
      String(groups),
    );
  }
  assert.deepEqual(sock.groups, []);
  sock.close();
});

test("family() refuses an option it does not know, and open() options next to a socket", async () => {
  const { sock } = await servingRoutes(routes(1));
  await assert.rejects(
    family(rtRoute, { sockt: sock } as never),
    /family\(\) options: unknown option "sockt" \(did you mean "socket"\?\)/,
  );
  await assert.rejects(
    family(rtRoute, { socket: sock, netns: "blue" }),
    /netns would be ignored with `socket`/,
  );
  const rt = await family(rtRoute, { socket: sock });
  assert.equal((await rt.dump("getroute", { rtmFamily: AF_INET })).length, 1);
  sock.close();
});
