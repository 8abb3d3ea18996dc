// Socket options on the real kernel: a classic BPF filter (attach, lock, detach) and
// NETLINK_LISTEN_ALL_NSID (each message with its sender's namespace id).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  BPF_ABS,
  BPF_H,
  BPF_JEQ,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_RET,
  NETLINK_BROADCAST_ERROR,
  NETLINK_CAP_ACK,
  NETLINK_EXT_ACK,
  NETLINK_GET_STRICT_CHK,
  NETLINK_LISTEN_ALL_NSID,
  NETLINK_NO_ENOBUFS,
  NETLINK_ROUTE,
  RTM_DELLINK,
  RTM_NEWLINK,
  RTNLGRP_LINK,
  SO_RCVBUF,
  SOL_NETLINK,
  SOL_SOCKET,
} from "../../src/constants.ts";
import { SyscallError } from "../../src/errors.ts";
import type { ReceivedMessage } from "../../src/message.ts";
import { open } from "../../src/open.ts";
import type { NetlinkSocket } from "../../src/socket.ts";
import { Netns } from "./_netns.ts";

/** The messages of `sock` until none came for `quietMs`. */
async function collect(sock: NetlinkSocket, quietMs = 300): Promise<ReceivedMessage[]> {
  const seen: ReceivedMessage[] = [];
  const it = sock.messages();
  for (;;) {
    const next = await Promise.race([
      it.next(),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), quietMs)),
    ]);
    if (next === undefined || next.done) break;
    seen.push(next.value);
  }
  await it.return!();
  return seen;
}

/** Keeps messages whose nlmsg_type is `type`: BPF loads halves big-endian, the header is host order. */
function keepType(type: number) {
  const hostOrder = ((type & 0xff) << 8) | (type >> 8);
  return [
    { code: BPF_LD | BPF_H | BPF_ABS, jt: 0, jf: 0, k: 4 }, // nlmsg_type
    { code: BPF_JMP | BPF_JEQ | BPF_K, jt: 0, jf: 1, k: hostOrder },
    { code: BPF_RET | BPF_K, jt: 0, jf: 0, k: 0xffff_ffff },
    { code: BPF_RET | BPF_K, jt: 0, jf: 0, k: 0 },
  ];
}

test("attachFilter: the kernel drops what the program refuses; lockFilter keeps it; detach before", async () => {
  using ns = new Netns();
  await using sock = await open(NETLINK_ROUTE, { netns: ns.name, groups: [RTNLGRP_LINK] });
  sock.attachFilter(keepType(RTM_DELLINK));
  ns.ip("link", "add", "va0", "type", "veth", "peer", "name", "vb0");
  ns.ip("link", "del", "va0");
  const filtered = await collect(sock);
  assert.ok(filtered.length > 0, "the deletions came through");
  assert.ok(filtered.every((m) => m.type === RTM_DELLINK), `${filtered.map((m) => m.type)}`);
  sock.detachFilter();
  ns.ip("link", "add", "va1", "type", "veth", "peer", "name", "vb1");
  assert.ok((await collect(sock)).some((m) => m.type === RTM_NEWLINK), "no filter: all come");
  sock.attachFilter(keepType(RTM_DELLINK));
  sock.lockFilter();
  assert.throws(
    () => sock.detachFilter(),
    (e: unknown) => e instanceof SyscallError && e.code === "EPERM",
  );
  assert.throws(
    () => sock.attachFilter(keepType(RTM_NEWLINK)),
    (e: unknown) => e instanceof SyscallError && e.code === "EPERM",
  );
  assert.throws(
    () => sock.attachFilter([{ code: 0xffff, jt: 0, jf: 0, k: 0 }]),
    (e: unknown) => e instanceof SyscallError,
    "the kernel's checker refuses a bad program",
  );
});

test("listenAllNsid: an event from another namespace carries that namespace's id", async () => {
  using here = new Netns();
  using there = new Netns();
  here.ip("netns", "set", there.name, "7"); // `there` is namespace id 7 as seen from `here`
  await using sock = await open(NETLINK_ROUTE, {
    netns: here.name,
    groups: [RTNLGRP_LINK],
    listenAllNsid: true,
  });
  there.ip("link", "set", "lo", "mtu", "1400");
  const seen = await collect(sock);
  const fromThere = seen.filter((m) => m.nsid === 7);
  assert.ok(fromThere.length > 0, `nsids: ${seen.map((m) => m.nsid)}`);
  assert.ok(fromThere.every((m) => m.type === RTM_NEWLINK && m.group === RTNLGRP_LINK));
});

test("open()'s option defaults and flags are what the kernel socket has (read back with getsockopt)", async () => {
  const flags = [
    ["extendedAcks", NETLINK_EXT_ACK, 1], // on unless turned off
    ["strictChecking", NETLINK_GET_STRICT_CHK, 0],
    ["capAcks", NETLINK_CAP_ACK, 0],
    ["noENOBUFS", NETLINK_NO_ENOBUFS, 0],
    ["broadcastError", NETLINK_BROADCAST_ERROR, 0],
    ["listenAllNsid", NETLINK_LISTEN_ALL_NSID, 0],
  ] as const;
  {
    await using plain = await open(NETLINK_ROUTE);
    for (const [name, option, initial] of flags) {
      assert.equal(plain.getOption(SOL_NETLINK, option), initial, `${name} by default`);
    }
  }
  for (const [name, option, initial] of flags) {
    await using sock = await open(NETLINK_ROUTE, { [name]: !initial });
    assert.equal(sock.getOption(SOL_NETLINK, option), initial ? 0 : 1, name);
  }
  // SO_RCVBUFFORCE as root: past net.core.rmem_max, which plain SO_RCVBUF would cap at. The
  // kernel doubles the value it is given (its bookkeeping), as socket(7) says.
  const max = Number(readFileSync("/proc/sys/net/core/rmem_max", "utf8"));
  await using big = await open(NETLINK_ROUTE, { receiveBufferSize: max + 4096 });
  assert.equal(big.getOption(SOL_SOCKET, SO_RCVBUF), 2 * (max + 4096));
});
