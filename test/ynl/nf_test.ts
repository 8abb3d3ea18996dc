// The generated nfnetlink families (conntrack, nftables: netlink-raw, protocol 12) against the
// host kernel in a fresh network namespace; nftables changes as transactions (batches: several
// messages in one datagram, sent with NetlinkSocket.requestBatch).

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AF_INET,
  NFNL_SUBSYS_NFTABLES,
  NFPROTO_INET,
  NFPROTO_UNSPEC,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_EXCL,
} from "../../src/constants.ts";
import { NetlinkError } from "../../src/errors.ts";
import { conntrack } from "../../src/ynl/conntrack.ts";
import { family } from "../../src/ynl/mod.ts";
import { nftables } from "../../src/ynl/nftables.ts";
import { Netns } from "../host/_netns.ts";

test("conntrack: get-stats equals /proc/net/stat/nf_conntrack; get dumps no entries", async () => {
  using ns = new Netns();
  await using ct = await family(conntrack, { netns: ns.name });
  const stats = await ct.dump("get-stats", { nfgenFamily: NFPROTO_UNSPEC });
  // One row per possible CPU, hex columns named by the first line.
  const [header, ...rows] = ns.ip("netns", "exec", ns.name, "cat", "/proc/net/stat/nf_conntrack")
    .trim().split("\n").map((line) => line.trim().split(/\s+/));
  assert.equal(stats.length, rows.length);
  const column = (row: string[], name: string) => parseInt(row[header.indexOf(name)], 16);
  stats.forEach((cpu, i) => {
    assert.equal(cpu.resId, i); // nfgenmsg res_id (big-endian) carries the CPU
    assert.equal(cpu.found, column(rows[i], "found"));
    assert.equal(cpu.insert, column(rows[i], "insert"));
    assert.equal(cpu.insertFailed, column(rows[i], "insert_failed"));
    assert.equal(cpu.drop, column(rows[i], "drop"));
    assert.equal(cpu.earlyDrop, column(rows[i], "early_drop"));
  });
  assert.deepEqual(await ct.dump("get", { nfgenFamily: AF_INET }), []);
});

test("nftables: an empty namespace has no tables; a missing table is ENOENT", async () => {
  using ns = new Netns();
  await using nft = await family(nftables, { netns: ns.name });
  assert.deepEqual(await nft.dump("gettable", { nfgenFamily: NFPROTO_UNSPEC }), []);
  assert.deepEqual(await nft.dump("getchain", { nfgenFamily: NFPROTO_UNSPEC }), []);
  await assert.rejects(
    nft.do("gettable", { nfgenFamily: AF_INET, name: "missing" }),
    (err: unknown) => err instanceof NetlinkError && err.code === "ENOENT",
  );
  // nfnetlink message types are (subsystem << 8) | message: NFNL_SUBSYS_NFTABLES is 10.
  assert.equal(nft.encode("gettable").type, 0xa01);
});

test("nftables: a transaction (batch in one datagram) creates a table; a failing one says which", async () => {
  using ns = new Netns();
  await using nft = await family(nftables, { netns: ns.name });
  // NFNL_MSG_BATCH_BEGIN/END frame the transaction; res_id names the subsystem.
  const begin = nft.encode("batch-begin", {
    nfgenFamily: NFPROTO_UNSPEC,
    resId: NFNL_SUBSYS_NFTABLES,
  });
  const end = nft.encode("batch-end", { nfgenFamily: NFPROTO_UNSPEC, resId: NFNL_SUBSYS_NFTABLES });
  const table = nft.encode("newtable", { nfgenFamily: NFPROTO_INET, name: "filter42" });
  const replies = await nft.socket.requestBatch([
    begin,
    { ...table, flags: NLM_F_CREATE | NLM_F_ACK },
    end,
  ]);
  assert.deepEqual(replies, []);
  const tables = await nft.dump("gettable", { nfgenFamily: NFPROTO_UNSPEC });
  assert.deepEqual(tables.map((t) => [t.nfgenFamily, t.name]), [[NFPROTO_INET, "filter42"]]);
  // The same table again, exclusively: the kernel rejects that message of the batch.
  const err = await nft.socket.requestBatch([
    begin,
    { ...table, flags: NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK },
    end,
  ]).catch((e) => e);
  assert.ok(err instanceof NetlinkError, String(err));
  assert.equal(err.code, "EEXIST");
  assert.equal(err.requestType, table.type);
  // Nothing leaked into the socket's stream, and the socket still works.
  assert.equal((await nft.dump("gettable", { nfgenFamily: NFPROTO_UNSPEC })).length, 1);
  // `nft create table` twice in one transaction: NLM_F_EXCL is NLM_F_MATCH's bit, but a batch
  // dumps nothing (it was refused as "a batch may hold one dump at most").
  const created = ["a", "b"].map((name) => ({
    ...nft.encode("newtable", { nfgenFamily: NFPROTO_INET, name }),
    flags: NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK,
  }));
  assert.deepEqual(await nft.socket.requestBatch([begin, ...created, end]), []);
  const names = (await nft.dump("gettable", { nfgenFamily: NFPROTO_UNSPEC })).map((t) => t.name);
  assert.deepEqual(names.sort(), ["a", "b", "filter42"]);
});
