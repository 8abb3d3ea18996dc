// Cancelling a dump from inside its consumer, on the real kernel: the IPv4 routes of a
// namespace with 150 host routes on lo, some 155 parts in two or three datagrams, all read
// before the consumer's first step ends (a dump's read-ahead is 256 parts). The same cases run
// on the fake kernel in test/unit/dump_cancel_test.ts.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AF_INET,
  NETLINK_NETFILTER,
  NETLINK_ROUTE,
  NFNETLINK_V0,
  NFNL_SUBSYS_CTNETLINK,
  NFNL_SUBSYS_CTNETLINK_TIMEOUT,
  NFNL_SUBSYS_NFTABLES,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_MULTI,
  RTM_GETLINK,
  RTM_GETROUTE,
  RTM_NEWROUTE,
  RTM_SETLINK,
} from "../../src/constants.ts";
import { open } from "../../src/open.ts";
import { afterFile } from "../_after_file.ts";
import { cancelCases } from "../_cancel.ts";
import { type Netns, routesNetns } from "./_netns.ts";
import { COUNTING_SIGNAL, runSoak } from "./_soak.ts";

let ns: Netns | undefined;

/** From <linux/netfilter/nfnetlink_conntrack.h> and <linux/netfilter/nfnetlink_cttimeout.h>. */
const IPCTNL_MSG_CT_GET = 1;
const IPCTNL_MSG_TIMEOUT_DELETE = 2;
/** From <linux/netfilter/nf_tables.h>. */
const NFT_MSG_NEWGEN = 15;
const NFT_MSG_GETGEN = 16;
afterFile(() => ns?.[Symbol.dispose]());

const rtmsg = new Uint8Array(12);
rtmsg[0] = AF_INET;
const request = { type: RTM_GETROUTE, payload: rtmsg };

cancelCases("kernel", async () => {
  ns ??= routesNetns(150);
  const sock = await open(NETLINK_ROUTE, { netns: ns.name });
  const parts = (await sock.request({ ...request, flags: NLM_F_DUMP })).length;
  return { sock, request, parts, [Symbol.asyncDispose]: () => sock[Symbol.asyncDispose]() };
});

test("dump iterations stepped by hand and dropped leave no listener or timer behind", () => {
  // Kept from NLMSG_DONE on until the consumer takes the last part (the cases above), the timer
  // and the abort listener of an iteration stepped once and dropped would stay for good: a
  // FinalizationRegistry ends it. The last one is dropped mid-dump (its read-ahead full): the
  // next dump still runs.
  const r = runSoak<{ listeners: number; parts: number }>(
    `${COUNTING_SIGNAL}
    const { signal, listeners } = countingSignal();
    using ns = netns();
    const sock = await nl.open(nl.NETLINK_ROUTE, { netns: ns.name });
    execFileSync("ip", ["-n", ns.name, "link", "set", "lo", "up"]);
    const rtmsg = new Uint8Array(12);
    rtmsg[0] = 2;
    const request = { type: nl.RTM_GETROUTE, payload: rtmsg };
    const routes = (from, n) => Array.from({ length: n }, (_, i) =>
      "route add 198.18." + ((from + i) >> 8) + "." + ((from + i) & 255) + "/32 dev lo").join("\\n") + "\\n";
    execFileSync("ip", ["-n", ns.name, "-batch", "-"], { input: routes(0, 20) });
    const drop = async () => {
      for (let i = 0; i < 20; i++) await sock.dump(request, { signal, timeout: 600_000 })[Symbol.asyncIterator]().next();
    };
    await drop();
    execFileSync("ip", ["-n", ns.name, "-batch", "-"], { input: routes(20, 1000) });
    await sock.dump(request, { signal, timeout: 600_000 })[Symbol.asyncIterator]().next();
    for (let i = 0; i < 3; i++) {
      heapAfterGc();
      await sleep(10); // finalizers run as tasks
    }
    const left = listeners(); // before close(), which ends every iteration
    const parts = (await sock.request({ ...request, flags: nl.NLM_F_DUMP }, { timeout: 10_000 })).length;
    sock.close();
    console.log(JSON.stringify({ listeners: left, parts }));
  `,
    30_000,
  );
  assert.equal(r.listeners, 0);
  assert.ok(r.parts >= 1020, `${r.parts} parts`);
});

test("a dump iterator stepped by hand to its last part and dropped lets the process exit: its timeout's timer does not hold it", () => {
  // The guard stays armed until the consumer takes the end: the timer of a 60 s timeout kept
  // the process alive for 60 s after its script had ended (runSoak fails a child that does not
  // exit by itself). The namespace is made here: on Deno, a child that has run execFileSync()
  // exits with the library's timer still pending.
  ns ??= routesNetns(150);
  const r = runSoak<{ parts: number }>(
    `const sock = await nl.open(nl.NETLINK_ROUTE, { netns: ${JSON.stringify(ns.name)} });
    const request = { type: nl.RTM_GETLINK, payload: new Uint8Array(16) };
    const parts = (await sock.request({ ...request, flags: nl.NLM_F_DUMP })).length;
    const it = sock.dump(request, { timeout: 60_000 })[Symbol.asyncIterator]();
    for (let i = 0; i < parts; i++) await it.next();
    console.log(JSON.stringify({ parts }));
  `,
    15_000,
  );
  assert.equal(r.parts, 1); // lo
});

test("a dump iterator stepped by hand mid-dump and dropped lets the process exit: its timeout's timer holds the process only while a step waits", () => {
  // The first part taken, then dropped: the timer of a 60 s timeout kept the process alive for
  // 60 s after its script had ended (garbage collection, which ends the iteration, does not
  // come to an idle process).
  ns ??= routesNetns(150);
  const r = runSoak<{ first: number }>(
    `const sock = await nl.open(nl.NETLINK_ROUTE, { netns: ${JSON.stringify(ns.name)} });
    const rtmsg = new Uint8Array(12);
    rtmsg[0] = 2;
    const it = sock.dump({ type: nl.RTM_GETROUTE, payload: rtmsg }, { timeout: 60_000 })[Symbol.asyncIterator]();
    const first = (await it.next()).value.type;
    console.log(JSON.stringify({ first }));
  `,
    15_000,
  );
  assert.equal(r.first, RTM_NEWROUTE);
});

test("a dump the kernel does not run (a type it has no dump for) times out, and frees the socket's dump slot: the next dumps run", async () => {
  // cttimeout_del_timeout runs IPCTNL_MSG_TIMEOUT_DELETE as a change whatever the flags: without
  // a name it deletes the namespace's timeout policies (none here) and answers nothing. A dump
  // the kernel runs always has a part queued until its end, so a read that finds the queue empty
  // shows that none runs: the slot is free, not held for good. What the library knows the kernel
  // ignores or never dumps it refuses instead: on NETLINK_ROUTE a type that is no RTM_GET*
  // (RTM_SETLINK), or a message without its family byte; conntrack's changes (a DELETE).
  ns ??= routesNetns(150);
  await using route = await open(NETLINK_ROUTE, { netns: ns.name });
  assert.throws(() => route.dump({ type: RTM_SETLINK, payload: new Uint8Array(16) }), TypeError);
  assert.throws(() => route.dump({ type: RTM_GETLINK }), /^TypeError: NETLINK_ROUTE ignores /);
  await using sock = await open(NETLINK_NETFILTER, { netns: ns.name });
  const nfgenmsg = new Uint8Array([AF_INET, NFNETLINK_V0, 0, 0]);
  assert.throws(
    () => sock.dump({ type: (NFNL_SUBSYS_CTNETLINK << 8) | 2, payload: nfgenmsg }),
    /^TypeError: NETLINK_NETFILTER has no dump of message type 258: /, // IPCTNL_MSG_CT_DELETE
  );
  const flush = {
    type: (NFNL_SUBSYS_CTNETLINK_TIMEOUT << 8) | IPCTNL_MSG_TIMEOUT_DELETE,
    payload: nfgenmsg,
  };
  const conntrack = { type: (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET, payload: nfgenmsg };
  for (const run of ["forEach", "for await"] as const) {
    const dump = sock.dump(flush, { timeout: 300 });
    await assert.rejects(
      run === "forEach" ? dump.forEach(() => {}) : (async () => {
        for await (const _ of dump);
      })(),
      (e: Error) => e.name === "TimeoutError",
    );
    // The namespace tracks no connection: the dump is its NLMSG_DONE alone.
    assert.deepEqual(
      await sock.request({ ...conntrack, flags: NLM_F_DUMP }, { timeout: 5000 }),
      [],
    );
    let parts = 0;
    for await (const _ of sock.dump(conntrack, { timeout: 5000 })) parts++;
    assert.equal(parts, 0, run);
  }
});

test("a dump the kernel runs as a plain request ends with its one reply, without NLM_F_MULTI: no timeout, and the next dumps run", async () => {
  // nf_tables_getgen runs NFT_MSG_GETGEN as a plain get whatever the flags: it answers one
  // NFT_MSG_NEWGEN, without NLM_F_MULTI, and no NLMSG_DONE (measured on this kernel); with
  // NLM_F_ACK, netlink_rcv_skb's ack follows it. Every part of a dump the kernel runs is flagged
  // NLM_F_MULTI, so that reply is the whole answer (as mdlayher/netlink and pyroute2 read it).
  ns ??= routesNetns(150);
  await using sock = await open(NETLINK_NETFILTER, { netns: ns.name });
  const nfgenmsg = new Uint8Array([0, NFNETLINK_V0, 0, 0]);
  const getgen = { type: (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN, payload: nfgenmsg };
  const newgen = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN;
  const conntrack = {
    type: (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET,
    payload: new Uint8Array([AF_INET, NFNETLINK_V0, 0, 0]),
  };
  const runs = ["forEach", "for await", "cursor"] as const;
  for (const run of runs) {
    for (const flags of [0, NLM_F_ACK]) {
      const where = `${run}, flags ${flags}`;
      const types: number[] = [];
      const multi: number[] = [];
      // Before the fix, this waited for an NLMSG_DONE that never comes: a TimeoutError.
      const dump = sock.dump({ ...getgen, flags }, { timeout: 5000 });
      if (run === "forEach") {
        await dump.forEach((m) => {
          types.push(m.type);
          multi.push(m.flags & NLM_F_MULTI);
        });
      } else if (run === "for await") {
        for await (const m of dump) {
          types.push(m.type);
          multi.push(m.flags & NLM_F_MULTI);
        }
      } else {
        for await (const c of dump.cursor()) {
          while (c.next()) {
            types.push(c.type);
            multi.push(c.flags & NLM_F_MULTI);
          }
        }
      }
      assert.deepEqual(types, [newgen], where);
      assert.deepEqual(multi, [0], where);
      // The socket's dump slot is free: the namespace tracks no connection, so the next dump is
      // its NLMSG_DONE alone.
      let parts = 0;
      for await (const _ of sock.dump(conntrack, { timeout: 5000 })) parts++;
      assert.equal(parts, 0, where);
    }
  }
  // request() adds NLM_F_ACK: the reply, then the ack; requestBatch() without it: the reply.
  assert.deepEqual(
    (await sock.request({ ...getgen, flags: NLM_F_DUMP }, { timeout: 5000 })).map((m) => m.type),
    [newgen],
  );
  assert.deepEqual(
    (await sock.requestBatch([{ ...getgen, flags: NLM_F_DUMP }], { timeout: 5000 }))
      .map((m) => m.type),
    [newgen],
  );
});
