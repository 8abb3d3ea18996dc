// The socket under the kernel's rules, as the fake kernel models them: one regression test per
// defect of issue 7 (each failed on the socket before it was split), and the options that change
// those rules. test/host/socket_test.ts shows the same on the real kernel where it can.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import {
  AttributeDecoder,
  AttributeEncoder,
  BPF_ABS,
  BPF_H,
  BPF_JEQ,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_RET,
  decodeAck,
  decodeAttributePolicy,
  decodeMessages,
  encodeMessages,
  GENL_ID_CTRL,
  type Message,
  NETLINK_BROADCAST_ERROR,
  NETLINK_GENERIC,
  NETLINK_LISTEN_ALL_NSID,
  NETLINK_NO_ENOBUFS,
  NETLINK_ROUTE,
  NETLINK_SOCK_DIAG,
  NETLINK_USERSOCK,
  NetlinkError,
  NL_ATTR_TYPE_U32,
  NL_POLICY_TYPE_ATTR_MAX_VALUE_U,
  NL_POLICY_TYPE_ATTR_TYPE,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_ECHO,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSGERR_ATTR_COOKIE,
  NLMSGERR_ATTR_MISS_NEST,
  NLMSGERR_ATTR_MISS_TYPE,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
  NLMSGERR_ATTR_POLICY,
  open,
  resolveFamily,
  RTM_DELLINK,
  RTM_GETLINK,
  RTM_GETROUTE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_LINK,
  SO_DETACH_FILTER,
  SO_LOCK_FILTER,
  SOL_NETLINK,
  SOL_SOCKET,
  SyscallError,
} from "../../mod.ts";
import { SOCK_DIAG_BY_FAMILY } from "../../src/diag/_constants.ts";
import {
  ackMessage,
  doneMessage,
  FakeKernel,
  type FakeSocket,
  type RequestHandler,
} from "../../src/testing/mod.ts";
import { fakeSocket, settle } from "./_fake.ts";

/** A kernel whose RTM_GETROUTE dump has `n` routes (60-byte payloads, a u32 counter first). */
function routeKernel(n: number, kernel = new FakeKernel()): FakeKernel {
  const routes = Array.from({ length: n }, (_, i) => {
    const payload = new Uint8Array(60);
    new DataView(payload.buffer).setUint32(0, i, true);
    return { type: RTM_NEWROUTE, payload };
  });
  return kernel
    .serve(NETLINK_ROUTE, RTM_GETROUTE, () => ({ messages: routes }))
    .serve(NETLINK_ROUTE, RTM_GETLINK, () => ({
      messages: [{ type: RTM_NEWLINK, payload: new Uint8Array(1500) }],
    }))
    .serve(NETLINK_ROUTE, RTM_NEWLINK, () => undefined);
}

const counter = (m: Message) =>
  new DataView(m.payload.buffer, m.payload.byteOffset).getUint32(0, true);
const routeDump = { type: RTM_GETROUTE, flags: NLM_F_DUMP, payload: new Uint8Array(12) };

test("defect 1: concurrent dumps on one socket are queued, not refused with EBUSY", async () => {
  const { sock, t } = await fakeSocket({}, () => {}, NETLINK_ROUTE, routeKernel(20_000));
  const results = await Promise.allSettled(
    Array.from({ length: 10 }, () => sock.request(routeDump, { timeout: 10_000 })),
  );
  assert.deepEqual(
    results.map((r) => r.status === "fulfilled" ? r.value.length : String(r.reason)),
    Array(10).fill(20_000),
  );
  // And every part in order, each dump from 0.
  for (const r of results) {
    const parts = (r as PromiseFulfilledResult<Message[]>).value;
    assert.ok(parts.every((m, i) => counter(m) === i));
  }
  assert.equal(t.dumping, false);
  sock.close();
});

test("dump() iterations run one after another, requests in between", async () => {
  const { sock } = await fakeSocket({}, () => {}, NETLINK_ROUTE, routeKernel(5_000));
  const count = async () => {
    let n = 0;
    for await (const _ of sock.dump(routeDump)) n++;
    return n;
  };
  const [a, b, plain, c] = await Promise.all([
    count(),
    count(),
    sock.request({ type: RTM_NEWLINK, payload: new Uint8Array(16) }),
    count(),
  ]);
  assert.deepEqual([a, b, plain.length, c], [5_000, 5_000, 0, 5_000]);
  sock.close();
});

for (
  const [how, leave] of [
    ["break", async (sock) => {
      for await (const _ of sock.dump(routeDump)) break;
    }],
    ["timeout", async (sock) => {
      await assert.rejects(async () => {
        for await (const _ of sock.dump(routeDump, { timeout: 1 })) {
          await new Promise((r) => setTimeout(r, 20));
        }
      }, /timed out/);
    }],
    ["abort", async (sock) => {
      const ctl = new AbortController();
      await assert.rejects(async () => {
        for await (const _ of sock.dump(routeDump, { signal: ctl.signal })) ctl.abort();
      });
    }],
    ["request() aborted", async (sock, t) => {
      const ctl = new AbortController();
      // Aborted as the send returns, the kernel's dump begun (its first part queued, nothing
      // read), whatever the machine's speed: aborting after request() returned raced a drain
      // that may finish first.
      const send = t.send;
      t.send = (...args) => {
        t.send = send;
        send.apply(t, args);
        assert.ok(t.dumping);
        ctl.abort(new Error("enough"));
      };
      await assert.rejects(sock.request(routeDump, { signal: ctl.signal }), /enough/);
    }],
  ] as [string, (sock: Awaited<ReturnType<typeof open>>, t: FakeSocket) => Promise<void>][]
) {
  test(`defect 2: a dump left early (${how}) is read to its end; the next dump succeeds`, async () => {
    const { sock, t } = await fakeSocket({}, () => {}, NETLINK_ROUTE, routeKernel(20_000));
    await leave(sock, t);
    const again = await sock.request(routeDump, { timeout: 10_000 });
    assert.equal(again.length, 20_000);
    assert.ok(again.every((m, i) => counter(m) === i), "none of the abandoned dump's parts");
    // Nothing of the abandoned dump reaches the stream.
    const it = sock.messages();
    const next = it.next();
    t.deliver(
      [{ type: RTM_NEWLINK, flags: 0, seq: 0, portid: 0, payload: new Uint8Array(4) }],
      0,
      1,
    );
    assert.equal((await next).value!.seq, 0);
    sock.close();
  });

  test(`a dump left early (${how}) is read to its end at once, nothing else asked`, async () => {
    // Until it is, the kernel keeps the dump: its skbs, and a reference on the module serving it.
    const { sock, t } = await fakeSocket({}, () => {}, NETLINK_ROUTE, routeKernel(20_000));
    await leave(sock, t);
    for (let i = 0; i < 500 && t.dumping; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(t.dumping, false, "the abandoned dump was read to its end");
    sock.close();
  });
}

test("defect 3: a lagging dump()'s read-ahead limit holds while a for-await waits on the stream", async () => {
  const { sock, t } = await fakeSocket(
    { groups: [RTNLGRP_LINK] },
    () => {},
    NETLINK_ROUTE,
    routeKernel(40_000),
  );
  const events = sock.messages();
  const event = events.next(); // a for-await parked on the stream
  const it = sock.dump(routeDump)[Symbol.asyncIterator]();
  assert.equal(counter((await it.next()).value!), 0); // then the consumer stalls
  for (let i = 0; i < 10; i++) await settle();
  assert.ok(t.dumping, "the kernel's dump was not read ahead to its end");
  let n = 1;
  for (let r = await it.next(); !r.done; r = await it.next()) assert.equal(counter(r.value), n++);
  assert.equal(n, 40_000);
  await events.return!();
  await event;
  sock.close();
});

test("defect 4: a loop of requests answered inside sendmsg lets timers run", async () => {
  const { sock } = await fakeSocket({}, () => {}, NETLINK_ROUTE, routeKernel(0));
  let fired = false;
  setTimeout(() => fired = true, 20);
  let requests = 0;
  const start = performance.now();
  while (!fired && performance.now() - start < 3000) {
    await sock.request({ type: RTM_NEWLINK, payload: new Uint8Array(16) });
    requests++;
  }
  assert.ok(fired, `a 20 ms timer did not fire during ${requests} requests in 3 s`);
  assert.ok(requests > 0);
  sock.close();
});

test("defect 5: an iteration stepped once and dropped leaves no wait behind", async () => {
  const { sock, t } = await fakeSocket({ groups: [RTNLGRP_LINK] });
  const it = sock.messages();
  const step = it.next();
  t.deliver([{ type: RTM_NEWLINK, flags: 0, seq: 0, portid: 0, payload: new Uint8Array(4) }], 0, 1);
  await step; // and then dropped, without return()
  await settle();
  assert.equal(t.waiting, false, "a pending wait would keep the process alive");
  // Demand comes back with the next step.
  const again = it.next();
  await settle();
  assert.equal(t.waiting, true);
  await it.return!();
  await again;
  sock.close();
});

test("defect 6: ENOBUFS does not fail a request to a user-space peer", async () => {
  const kernel = new FakeKernel();
  const { sock, t } = await fakeSocket({}, () => {}, NETLINK_USERSOCK, kernel);
  const peer = kernel.open(NETLINK_USERSOCK, { portid: 5000 }) as FakeSocket;
  const pending = sock.request({ type: 0x20 }, { to: 5000 });
  const [req] = decodeMessages(peer.receive()!.data);
  t.overrun(); // the kernel dropped something for this socket meanwhile
  await settle();
  await settle();
  assert.equal(sock.overruns, 1);
  // The peer answers later: the request still gets it.
  setTimeout(() => peer.send(encodeMessages([ackMessage(req)]), sock.portid, 0), 50);
  assert.deepEqual(await pending, []);
  sock.close();
});

test("defect 7: 100 concurrent requests with a for-await parked: the answers are read as they come", async () => {
  const { sock, t } = await fakeSocket(
    { groups: [RTNLGRP_LINK] },
    () => {},
    NETLINK_ROUTE,
    routeKernel(0),
  );
  const events = sock.messages();
  const parked = events.next();
  await settle();
  for (let round = 0; round < 3; round++) {
    const answers = await Promise.allSettled(
      Array.from(
        { length: 100 },
        () => sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }),
      ),
    );
    const failed = answers.filter((a) => a.status === "rejected");
    assert.equal(failed.length, 0, String((failed[0] as PromiseRejectedResult)?.reason));
  }
  assert.equal(t.drops, 0);
  await events.return!();
  await parked;
  sock.close();
});

test("defect 8: late answers of 1,000 aborted requests never reach the stream", async () => {
  const { sock, t } = await fakeSocket();
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const ctl = new AbortController();
  const pending = Array.from(
    { length: 1000 },
    () => sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }, { signal: ctl.signal }),
  );
  ctl.abort(new Error("gave up"));
  for (const p of pending) await assert.rejects(p, /gave up/);
  // The kernel answers all of them, late, in datagrams of 50.
  for (let i = 0; i < 1000; i += 50) {
    t.deliver(asked.slice(i, i + 50).map((req) => ackMessage(req)));
  }
  const it = sock.messages();
  const next = it.next();
  t.deliver([{ type: RTM_NEWLINK, flags: 0, seq: 0, portid: 0, payload: new Uint8Array(4) }], 0, 1);
  const first = (await next).value!;
  assert.equal(first.type, RTM_NEWLINK, "the first unclaimed message is the event, no late ack");
  sock.close();
});

test("defect 8: timed-out requests to a silent peer do not push out the kernel's late answers", async () => {
  const kernel = new FakeKernel();
  const { sock, t } = await fakeSocket({}, () => {}, NETLINK_USERSOCK, kernel);
  const peer = kernel.open(NETLINK_USERSOCK, { portid: 5000 });
  const asked: Message[] = [];
  t.script = (req) => asked.push(req);
  const late = sock.request({ type: 0x20 }, { timeout: 1 });
  await assert.rejects(late, /timed out/);
  // 2,000 requests to a peer that never answers, abandoned on timeout.
  await Promise.allSettled(
    Array.from({ length: 2000 }, () => sock.request({ type: 0x21 }, { to: 5000, timeout: 1 })),
  );
  t.deliver([ackMessage(asked[0])]); // the kernel's answer to the first, at last
  const it = sock.messages();
  const next = it.next();
  t.deliver([{ type: 0x30, flags: 0, seq: 0, portid: 0, payload: new Uint8Array(0) }], 0, 1);
  assert.equal((await next).value!.type, 0x30);
  peer.close();
  sock.close();
});

test("defect 9: flags and options are validated by request(), requestBatch() and dump()", async () => {
  const { sock, t } = await fakeSocket();
  for (const flags of ["x", 1.5, NaN, {}, 2 ** 32 + 0x300, -1, 0x10000]) {
    const message = { type: RTM_GETLINK, flags: flags as number };
    // No integer at all a TypeError, one out of range a RangeError.
    const kind = Number.isInteger(flags) ? RangeError : TypeError;
    await assert.rejects(sock.request(message), kind, `request flags ${String(flags)}`);
    await assert.rejects(sock.requestBatch([{ ...message, flags: NLM_F_ACK }, message]), kind);
    assert.throws(() => sock.dump(message), kind, `dump flags ${String(flags)}`);
    assert.throws(() => sock.send(message), kind, `send flags ${String(flags)}`);
  }
  await assert.rejects(
    sock.request({ type: 1 }, null as never),
    /request options must be an object/,
  );
  await assert.rejects(sock.request(null as never), /message must be an object/);
  await assert.rejects(sock.request({ type: 1 }, { signal: {} as AbortSignal }), /AbortSignal/);
  assert.equal(t.sentDatagrams.length, 0, "nothing was sent");
  await assert.rejects(open(0, null as never), /open\(\) options must be an object, got null/);
  await assert.rejects(
    open(0, { noENOBUFS: "yes" as never, transport: () => assert.fail() }),
    /noENOBUFS must be a boolean/,
  );
  sock.close();
});

test("a misspelt option is refused, naming it and the closest one, before anything is sent or opened", async () => {
  const { sock, t } = await fakeSocket();
  const message = { type: RTM_GETLINK };
  // deno-lint-ignore no-explicit-any
  const typo = (options: object) => options as any;
  await assert.rejects(
    sock.request(message, typo({ timout: 100 })),
    (e) =>
      e instanceof TypeError
      && e.message === "request options: unknown option \"timout\" (did you mean \"timeout\"?); "
          + "the options are signal, timeout, to",
  );
  await assert.rejects(
    sock.requestBatch([message], typo({ portid: 5 })),
    /unknown option "portid"/,
  );
  assert.throws(() => sock.dump(message, typo({ Signal: undefined })), /did you mean "signal"/);
  assert.throws(
    () => sock.send(message, typo({ groups: 1 })),
    /unknown option "groups" \(did you mean "group"\?\)/,
  );
  assert.throws(() => sock.messages(typo({ timeout: 5 })), /options: unknown option "timeout"/);
  assert.throws(() => sock.batches(typo({ timeout: 5 })), /unknown option "timeout"/);
  assert.throws(() => sock.datagrams(typo({ timeout: 5 })), /unknown option "timeout"/);
  assert.throws(() => sock.cursor(typo({ timeout: 5 })), /unknown option "timeout"/);
  await assert.rejects(sock.listen(() => {}, typo({ timeout: 5 })), /unknown option "timeout"/);
  assert.equal(t.sentDatagrams.length, 0, "nothing was sent");
  await assert.rejects(
    open(0, typo({ group: [1], transport: () => assert.fail("opened") })),
    /open\(\) options: unknown option "group" \(did you mean "groups"\?\)/,
  );
  await assert.rejects(
    open(0, typo({ extendedAck: false, transport: () => assert.fail("opened") })),
    /did you mean "extendedAcks"/,
  );
  // The known keys still pass, undefined or not, and so does an inherited key.
  const inherited = Object.create({ anything: 1 });
  await sock.request(message, { signal: undefined, timeout: 1, to: undefined }).catch(() => {});
  sock.messages(inherited).return!();
  sock.close();
});

test("a misspelt message field is refused, naming the closest one, before anything is sent", async () => {
  const { sock, t } = await fakeSocket();
  const payload = new Uint8Array(16);
  // deno-lint-ignore no-explicit-any
  const typo = (message: object) => message as any;
  const misspelt = (key: string, closest: string) => (e: unknown) =>
    e instanceof TypeError
    && e.message === `message: unknown field "${key}" (did you mean "${closest}"?); `
        + "the fields are type, flags, seq, portid, payload";
  await assert.rejects(
    sock.request(typo({ type: RTM_GETLINK, flag: NLM_F_DUMP, payload }), { timeout: 100 }),
    misspelt("flag", "flags"),
  );
  await assert.rejects(
    sock.request(typo({ type: RTM_GETLINK, paylod: payload }), { timeout: 100 }),
    misspelt("paylod", "payload"),
  );
  assert.throws(
    () => sock.send(typo({ type: RTM_GETLINK, Flags: NLM_F_DUMP })),
    misspelt("Flags", "flags"),
  );
  assert.throws(() => sock.dump(typo({ type: RTM_GETLINK, pid: 0 })), /unknown field "pid"/);
  await assert.rejects(
    sock.requestBatch(
      [{ type: RTM_GETLINK, flags: NLM_F_ACK }, typo({ type: RTM_GETLINK, sq: 9 })],
      { timeout: 100 },
    ),
    /^TypeError: messages\[1\]: unknown field "sq" \(did you mean "seq"\?\)/,
  );
  // A received message sent back whole: its sender and group are no fields to send.
  assert.throws(
    () => sock.send(typo({ type: 0x10, payload, sender: 0, group: 1 })),
    /message: "sender" is a received message's field, not one to send: send\(\) takes where/,
  );
  assert.equal(t.sentDatagrams.length, 0, "nothing was sent");
  // Every field passes, undefined or not, and so does an inherited key.
  const inherited = Object.assign(Object.create({ anything: 1 }), { type: 0x10 });
  sock.send({ type: 0x10, flags: undefined, seq: 1, portid: 0, payload });
  sock.send(inherited);
  assert.equal(t.sentDatagrams.length, 2);
  sock.close();
});

test("defect 10: send({ group }) on NETLINK_USERSOCK delivers the multicast and does not throw", async () => {
  const kernel = new FakeKernel();
  const { sock: sender } = await fakeSocket({}, () => {}, NETLINK_USERSOCK, kernel);
  const { sock: listener } = await fakeSocket({ groups: [3] }, () => {}, NETLINK_USERSOCK, kernel);
  // The fake kernel serves no USERSOCK: a unicast to port 0 is refused, as the real one does.
  kernel.sockets[0].script = undefined;
  sender.send({ type: 0x30, payload: new Uint8Array([7]) }, { group: 3 });
  const got = (await listener.messages().next()).value!;
  assert.deepEqual([got.group, got.sender, got.payload[0]], [3, sender.portid, 7]);
  assert.throws(
    () => sender.send({ type: 0x30 }),
    (e: unknown) => e instanceof SyscallError && e.code === "ECONNREFUSED",
  );
  sender.close();
  listener.close();
});

test("defect 11: request() with NLM_F_ECHO resolves with the kernel's echoed notification", async () => {
  const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_NEWADDR, () => ({
    notify: [{
      group: RTNLGRP_IPV4_IFADDR,
      messages: [{ type: RTM_NEWADDR, payload: new Uint8Array([2, 24, 0, 0, 1, 0, 0, 0]) }],
    }],
  }));
  const { sock } = await fakeSocket(
    { groups: [RTNLGRP_IPV4_IFADDR] },
    () => {},
    NETLINK_ROUTE,
    kernel,
  );
  const { sock: other } = await fakeSocket(
    { groups: [RTNLGRP_IPV4_IFADDR] },
    () => {},
    NETLINK_ROUTE,
    kernel,
  );
  const ifaddrmsg = new Uint8Array(8);
  const replies = await sock.request(
    { type: RTM_NEWADDR, flags: NLM_F_ECHO, payload: ifaddrmsg },
    { timeout: 1000 },
  );
  assert.equal(replies.length, 1);
  assert.equal(replies[0].type, RTM_NEWADDR);
  assert.equal(replies[0].group, RTNLGRP_IPV4_IFADDR, "the echo comes tagged with the group");
  // The other member gets the notification as usual.
  assert.equal((await other.messages().next()).value!.type, RTM_NEWADDR);
  // Without NLM_F_ECHO the requester's own copy is an event, not a reply.
  assert.deepEqual(await sock.request({ type: RTM_NEWADDR, payload: ifaddrmsg }), []);
  assert.equal((await sock.messages().next()).value!.type, RTM_NEWADDR);
  sock.close();
  other.close();
});

test("defect 12: an error ack whose echoed request is malformed keeps its errno", async () => {
  const { sock, t } = await fakeSocket();
  t.script = (req, t) => {
    const ack = ackMessage(req, 22, { message: "bad" }, { capped: false });
    // The echoed request claims to be longer than what follows the error.
    new DataView(ack.payload.buffer, ack.payload.byteOffset).setUint32(4, 4000, true);
    t.deliver([ack]);
  };
  const err = await sock.request({ type: RTM_NEWLINK, payload: new Uint8Array(8) }).catch((e) => e);
  assert.ok(err instanceof NetlinkError, String(err));
  assert.equal(err.code, "EINVAL");
  assert.match(err.message, /extended ack with it was malformed/);
  sock.close();
});

test("a success ack's warning and cookie reach request()'s caller; errors carry the policy", async () => {
  const kernel = new FakeKernel()
    .serve(NETLINK_ROUTE, RTM_NEWLINK, () => ({
      ext: { message: "this is deprecated", cookie: Uint8Array.of(1, 2, 3, 4) },
    }))
    .serve(NETLINK_ROUTE, RTM_GETLINK, () => ({
      errno: 34,
      ext: {
        message: "value out of range",
        offset: 32,
        policy: (p) =>
          p.u32(NL_POLICY_TYPE_ATTR_TYPE, NL_ATTR_TYPE_U32).u64(
            NL_POLICY_TYPE_ATTR_MAX_VALUE_U,
            4094n,
          ),
      },
    }));
  const { sock } = await fakeSocket({}, () => {}, NETLINK_ROUTE, kernel);
  const ifinfomsg = new Uint8Array(16);
  const replies = await sock.request({ type: RTM_NEWLINK, payload: ifinfomsg });
  assert.deepEqual(replies.ack, {
    warning: "this is deprecated",
    cookie: Uint8Array.of(1, 2, 3, 4),
  });
  const err = await sock.request({ type: RTM_GETLINK, payload: ifinfomsg }).catch((e) => e);
  assert.ok(err instanceof NetlinkError);
  assert.deepEqual(err.policy, { type: NL_ATTR_TYPE_U32, maxValue: 4094n });
  assert.equal(err.offset, 32);
  // Without a warning or cookie, no `ack` at all.
  kernel.serve(NETLINK_ROUTE, RTM_NEWLINK, () => undefined);
  assert.equal((await sock.request({ type: RTM_NEWLINK, payload: ifinfomsg })).ack, undefined);
  sock.close();
});

test("ackMessage(): an error's extended ack in netlink_ack_tlv_fill's order, the cookie second", () => {
  const request = { type: RTM_NEWLINK, flags: 5, seq: 1, portid: 0, payload: new Uint8Array(16) };
  const ack = ackMessage(request, 22, {
    message: "bad",
    cookie: Uint8Array.of(1),
    offset: 20,
    policy: (p) => p.u32(NL_POLICY_TYPE_ATTR_TYPE, NL_ATTR_TYPE_U32),
    missingType: 3,
    missingNest: 20,
  }, { capped: true });
  const types = [];
  for (const a = new AttributeDecoder(ack.payload.subarray(4 + 16)); a.next();) types.push(a.type);
  assert.deepEqual(types, [
    NLMSGERR_ATTR_MSG,
    NLMSGERR_ATTR_COOKIE,
    NLMSGERR_ATTR_OFFS,
    NLMSGERR_ATTR_POLICY,
    NLMSGERR_ATTR_MISS_TYPE,
    NLMSGERR_ATTR_MISS_NEST,
  ]);
});

test("open(): noENOBUFS, broadcastError and listenAllNsid set their socket options", async () => {
  const { sock, t } = await fakeSocket({
    noENOBUFS: true,
    broadcastError: true,
    listenAllNsid: true,
  });
  for (const name of [NETLINK_NO_ENOBUFS, NETLINK_BROADCAST_ERROR, NETLINK_LISTEN_ALL_NSID]) {
    assert.ok(t.flag(name), `option ${name}`);
  }
  // With NETLINK_NO_ENOBUFS the kernel drops silently: no overrun is reported.
  t.overrun();
  t.deliver(
    [{ type: RTM_NEWLINK, flags: 0, seq: 0, portid: 0, payload: new Uint8Array(0) }],
    0,
    1,
    7,
  );
  const msg = (await sock.messages().next()).value!;
  assert.equal(msg.type, RTM_NEWLINK);
  assert.equal(msg.nsid, 7, "LISTEN_ALL_NSID: the sender's namespace id on each message");
  assert.equal(sock.overruns, 0);
  assert.equal(t.drops, 1);
  sock.close();
});

test("setOption/getOption, fd; attachFilter encodes struct sock_filter; detach and lock", async () => {
  const { sock, t } = await fakeSocket();
  assert.equal(sock.fd, t.fd);
  sock.setOption(SOL_NETLINK, NETLINK_BROADCAST_ERROR, 1);
  assert.equal(sock.getOption(SOL_NETLINK, NETLINK_BROADCAST_ERROR), 1);
  sock.attachFilter([
    { code: 0x28, jt: 0, jf: 0, k: 4 },
    { code: 0x06, jt: 1, jf: 2, k: 0xffff_ffff },
  ]);
  assert.deepEqual(
    [...t.filter!],
    [0x28, 0, 0, 0, 4, 0, 0, 0, 0x06, 0, 1, 2, 0xff, 0xff, 0xff, 0xff],
  );
  sock.detachFilter();
  assert.equal(t.filter, undefined);
  assert.throws(() => sock.detachFilter(), /ENOENT/, "nothing attached");
  sock.attachFilter([{ code: 0x06, jt: 0, jf: 0, k: 0xffff_ffff }]);
  sock.lockFilter();
  assert.deepEqual(t.options.slice(-2).map(([l, n]) => [l, n]), [
    [SOL_SOCKET, SO_DETACH_FILTER],
    [SOL_SOCKET, SO_LOCK_FILTER],
  ]);
  assert.throws(() => sock.detachFilter(), /EPERM/, "locked");
  assert.throws(() => sock.attachFilter([{ code: 0x06, jt: 0, jf: 0, k: 0 }]), /EPERM/);
  assert.throws(() => sock.attachFilter([]), TypeError);
  assert.throws(
    () => sock.attachFilter([{ code: 0x10000, jt: 0, jf: 0, k: 0 }]),
    /instruction 0: code/,
  );
  assert.throws(() => sock.attachFilter(new Uint8Array(7)), /8 bytes per instruction/);
  assert.throws(() => sock.setOption(SOL_NETLINK, 1, 2 ** 31), RangeError);
  sock.close();
  assert.equal(sock.fd, -1);
  assert.throws(() => sock.setOption(SOL_NETLINK, 1, 1), /closed/);
});

test("the policy decoder reads the kernel's 64-bit limits", () => {
  const bytes = new AttributeEncoder()
    .u32(NL_POLICY_TYPE_ATTR_TYPE, NL_ATTR_TYPE_U32)
    .u64(NL_POLICY_TYPE_ATTR_MAX_VALUE_U, 10n)
    .finish();
  assert.deepEqual(decodeAttributePolicy(bytes), { type: NL_ATTR_TYPE_U32, maxValue: 10n });
});

test("the fake kernel refuses a second dump on one socket with EBUSY, as the kernel does", () => {
  const kernel = routeKernel(20_000);
  const socket = kernel.open(NETLINK_ROUTE, { portid: 0 }) as FakeSocket;
  const request = (seq: number) =>
    encodeMessages([{
      type: RTM_GETROUTE,
      flags: NLM_F_REQUEST | NLM_F_DUMP,
      seq,
      portid: 0,
      payload: new Uint8Array(12),
    }]);
  socket.send(request(1), 0, 0);
  assert.equal(socket.queued, 1, "the first dump datagram is queued inside sendmsg");
  socket.send(request(2), 0, 0);
  const seen: Message[] = [];
  for (let d = socket.receive(); d; d = socket.receive()) seen.push(...decodeMessages(d.data));
  const busy = seen.find((m) => m.seq === 2)!;
  assert.equal(busy.type, NLMSG_ERROR);
  assert.equal(new DataView(busy.payload.buffer, busy.payload.byteOffset).getInt32(0, true), -16);
  assert.equal(seen.filter((m) => m.seq === 1).length, 20_001, "the first dump, read to its end");
  socket.close();
});

test("the fake kernel runs an attached BPF filter on multicast, replies and dumps, as sk_filter", async () => {
  const kernel = routeKernel(3000);
  const { sock, t } = await fakeSocket({ groups: [RTNLGRP_LINK] }, () => {}, NETLINK_ROUTE, kernel);
  // Keep messages whose nlmsg_type is RTM_DELLINK (ldh loads big-endian; the header is host order).
  const keepDellink = [
    { code: BPF_LD | BPF_H | BPF_ABS, jt: 0, jf: 0, k: 4 },
    { code: BPF_JMP | BPF_JEQ | BPF_K, jt: 0, jf: 1, k: RTM_DELLINK << 8 },
    { code: BPF_RET | BPF_K, jt: 0, jf: 0, k: 0xffff_ffff },
    { code: BPF_RET | BPF_K, jt: 0, jf: 0, k: 0 },
  ];
  sock.attachFilter(keepDellink);
  const event = (type: number): Message => ({
    type,
    flags: 0,
    seq: 0,
    portid: 0,
    payload: new Uint8Array(4),
  });
  kernel.multicast(NETLINK_ROUTE, RTNLGRP_LINK, [event(RTM_NEWLINK)]);
  kernel.multicast(NETLINK_ROUTE, RTNLGRP_LINK, [event(RTM_DELLINK)]);
  assert.equal(t.queued, 1, "the filter dropped RTM_NEWLINK");
  assert.equal((await sock.messages().next()).value!.type, RTM_DELLINK);
  // A program that keeps the first 16 bytes trims each datagram to its first header.
  sock.attachFilter([{ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: 16 }]);
  kernel.multicast(NETLINK_ROUTE, RTNLGRP_LINK, encodeMessages([event(RTM_NEWLINK)]));
  assert.equal(t.queued, 1);
  const trimmed = t.receive()!;
  assert.equal(trimmed.data.length, 16);
  // Dump datagrams go through the filter too: dropping everything loses the dump's parts.
  sock.attachFilter([{ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: 0 }]);
  await assert.rejects(sock.request(routeDump, { timeout: 200 }), /timed out/);
  // The kernel's checker refuses what it cannot run.
  for (
    const program of [
      [{ code: 0xffff, jt: 0, jf: 0, k: 0 }], // no such instruction
      [{ code: BPF_LD | BPF_H | BPF_ABS, jt: 0, jf: 0, k: 4 }], // does not end in a RET
      [{ code: BPF_JMP | BPF_JEQ | BPF_K, jt: 5, jf: 0, k: 0 }, {
        code: BPF_RET | BPF_K,
        jt: 0,
        jf: 0,
        k: 0,
      }],
    ]
  ) {
    assert.throws(() => sock.attachFilter(program), /EINVAL/);
  }
  sock.close();
});

test("the fake kernel refuses a handler's answer it would misread: a promise, a misspelt key (of ext too), a bad errno, a hole, a notification without its group or messages", async () => {
  // Each was taken for an empty answer: a dump with no parts, a bare ack, a success.
  const bad: [string, () => unknown, RegExp][] = [
    ["async", () => Promise.resolve({ messages: [] }), /returned a promise: .* synchronous/],
    ["misspelt", () => ({ message: [] }), /unknown option "message" \(did you mean "messages"\?\)/],
    ["negative errno", () => ({ errno: -22 }), /errno must be a positive errno .* got -22/],
    ["NaN errno", () => ({ errno: NaN }), /errno must be a positive errno .* got NaN/],
    ["a number", () => 5, /must be an object, got number/],
    ["messages not a list", () => ({ messages: 5 }), /messages must be an array/],
    ["misspelt ext", () => ({ errno: 22, ext: { msg: "x" } }), /unknown option "msg"/],
    [
      "misspelt message field",
      () => ({ messages: [{ type: RTM_NEWLINK, paylod: new Uint8Array(16) }] }),
      /messages\[0\]: unknown field "paylod" \(did you mean "payload"\?\)/,
    ],
    [
      "misspelt notification",
      () => ({ notify: [{ grup: 1, messages: [] }] }),
      /notify\[0\]: unknown field "grup" \(did you mean "group"\?\)/,
    ],
    // Each failed inside the send ("Cannot read properties of undefined"), or multicast nothing.
    [
      "a hole in messages",
      () => ({ messages: [, { type: RTM_NEWLINK }] }),
      /messages\[0\] must be an object, got undefined/,
    ],
    ["notify not a list", () => ({ notify: { group: 1 } }), /notify must be an array/],
    [
      "notification without messages",
      () => ({ notify: [{ group: 1 }] }),
      /notify\[0\]\.messages must be an array, got undefined/,
    ],
    [
      "notification without a group",
      () => ({ notify: [{ messages: [] }] }),
      /notify\[0\]\.group must be an integer from 1 to 4294967295, got undefined/,
    ],
    [
      "notification to group 0",
      () => ({ notify: [{ group: 0, messages: [] }] }),
      /notify\[0\]\.group must be an integer from 1/,
    ],
    [
      "a hole in a notification",
      () => ({ notify: [{ group: 1, messages: [,] }] }),
      /notify\[0\]\.messages\[0\] must be an object/,
    ],
  ];
  for (const [name, handler, message] of bad) {
    for (const flags of [NLM_F_DUMP, NLM_F_ACK]) {
      const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_GETLINK, handler as RequestHandler);
      await using sock = await open(NETLINK_ROUTE, { transport: kernel.open });
      await assert.rejects(
        sock.request({ type: RTM_GETLINK, flags, payload: new Uint8Array(16) }),
        message,
        name,
      );
    }
  }
});

/** Joins each group on a socket of `protocol` over `kernel`: "GROUP ok" or "GROUP ERRNO" each. */
async function joinEach(kernel: FakeKernel, protocol: number, groups: number[]): Promise<string[]> {
  await using sock = await open(protocol, { transport: kernel.open });
  return groups.map((group) => {
    try {
      sock.join(group);
      return `${group} ok`;
    } catch (err) {
      return `${group} ${(err as NetlinkError).code}`;
    }
  });
}

test("the fake kernel's generic netlink group count: 64, or the multiple of 64 it is told (a kernel whose families' groups grew its bitmap)", async () => {
  // genl_allocate_reserve_groups grows the bitmap of group ids a long at a time, and every genl
  // socket's count is its bits: 128 once a family's groups do not fit in the first 64.
  const joins = (kernel: FakeKernel, groups: number[]) => joinEach(kernel, NETLINK_GENERIC, groups);
  assert.deepEqual(await joins(new FakeKernel(), [33, 64, 65]), ["33 ok", "64 ok", "65 EINVAL"]);
  assert.deepEqual(
    await joins(new FakeKernel({ genericGroups: 128 }), [65, 128, 129]),
    ["65 ok", "128 ok", "129 EINVAL"],
  );
  for (const genericGroups of [32, 100]) {
    assert.throws(() => new FakeKernel({ genericGroups }), /^RangeError: genericGroups/);
  }
  assert.throws(() => new FakeKernel({ genericGroups: 64.5 }), /^TypeError: genericGroups/);
  assert.equal(new FakeKernel({ genericGroups: 192 }).genericGroups, 192);
});

test("the fake kernel's groups of a module's own unit: 32, or the count it is told (the project's module has 64)", async () => {
  // netlink_kernel_create() gives a unit max(cfg.groups, 32): a monitor of group 40 of a unit
  // with 64, as the project's module has, was refused (EINVAL) by every fake kernel.
  const joins = (kernel: FakeKernel, groups: number[]) => joinEach(kernel, 30, groups);
  assert.deepEqual(await joins(new FakeKernel({ protocolGroups: { 30: 32 } }), [32, 33]), [
    "32 ok",
    "33 EINVAL",
  ]);
  const kernel = new FakeKernel({ protocolGroups: { 30: 64 } });
  assert.deepEqual(await joins(kernel, [40, 64, 65]), ["40 ok", "64 ok", "65 EINVAL"]);
  assert.deepEqual(await joins(new FakeKernel({ protocolGroups: { 29: 64, 30: 32 } }), [33]), [
    "33 EINVAL",
  ]);
  // A notification to group 40 reaches its member.
  kernel.serve(30, 0x12, () => ({ notify: [{ group: 40, messages: [{ type: 0x12 }] }] }));
  await using member = await open(30, { transport: kernel.open, groups: [40] });
  await using sender = await open(30, { transport: kernel.open });
  await sender.request({ type: 0x12 });
  const got = (await member.messages().next()).value!;
  assert.deepEqual([got.type, got.group], [0x12, 40]);
  assert.throws(
    () => new FakeKernel({ protocolGroups: { 30: 31 } }),
    /^RangeError: protocolGroups\[30\]/,
  );
  assert.throws(
    () => new FakeKernel({ protocolGroups: { 32: 64 } }),
    /^RangeError: protocolGroups/,
  );
  assert.throws(
    () => new FakeKernel({ protocolGroups: { x: 64 } as never }),
    /^TypeError: protocolGroups/,
  );
  assert.throws(() => new FakeKernel({ protocolGroups: { 0: 64 } }), /as routeGroups/);
  assert.throws(
    () => new FakeKernel({ protocolGroups: 64 as never }),
    /^TypeError: protocolGroups/,
  );
});

test("a dump's NLMSG_DONE carries its extended ack's message alone, as netlink_dump_done() writes it", async () => {
  // The fake put the offset, cookie and missing attribute in it too: a client reading them off
  // a failed dump passed on the fake and found nothing on the kernel.
  const ext = { message: "m", offset: 20, cookie: new Uint8Array([1]), missingType: 3 };
  const kernel = new FakeKernel()
    .serve(30, 0x19, () => ({ messages: [{ type: 0x19 }], errno: 22, ext }))
    .serve(30, 0x1a, () => ({ messages: [{ type: 0x1a }], ext }));
  await using sock = await open(30, { transport: kernel.open });
  const err = await sock.request({ type: 0x19, flags: NLM_F_DUMP }).catch((e) => e);
  assert.ok(err instanceof NetlinkError, String(err));
  assert.deepEqual(
    [err.code, err.detail, err.offset, err.cookie, err.missing],
    ["EINVAL", "m", undefined, undefined, undefined],
  );
  // A dump that succeeds with a warning: the message, no cookie.
  const done = (await sock.request({ type: 0x1a, flags: NLM_F_DUMP })).ack;
  assert.deepEqual([done?.warning, done?.cookie], ["m", undefined]);
  // A request that is no dump keeps them all.
  const doit = await sock.request({ type: 0x19 }).catch((e) => e);
  assert.deepEqual([doit.offset, doit.missing?.type], [20, 3]);
});

test("unserve() of a unit's last type: nothing serves the unit any more, a send to it is ECONNREFUSED and a new socket EPROTONOSUPPORT (a module unloaded)", async () => {
  // It stayed served with no type: EOPNOTSUPP, where the real kernel refuses the send.
  const kernel = new FakeKernel().serve(30, 0x10, (req) => ({ messages: [{ type: req.type }] }));
  await using sock = await open(30, { transport: kernel.open });
  assert.equal((await sock.request({ type: 0x10 })).length, 1);
  kernel.unserve(30, 0x10);
  await assert.rejects(
    sock.request({ type: 0x10 }),
    (e: unknown) => e instanceof SyscallError && e.code === "ECONNREFUSED",
  );
  // A new socket of the unit: EPROTONOSUPPORT, as socket() once its module is gone.
  await assert.rejects(
    open(30, { transport: kernel.open }),
    (e: unknown) => e instanceof SyscallError && e.code === "EPROTONOSUPPORT",
  );
  // Served again (the module reloaded): answered again.
  kernel.serve(30, 0x10, (req) => ({ messages: [{ type: req.type }] }));
  assert.equal((await sock.request({ type: 0x10 })).length, 1);
});

test("a send to port 0 of a unit the fake kernel serves nothing of says what is true of the fake (serve(), unserve()), not that a module was unloaded", async () => {
  // It said "nothing in the kernel serves NETLINK_SOCK_DIAG any more (was the module that
  // provides it unloaded?)" of an empty FakeKernel, whose sock_diag nothing ever served (unlike
  // rtnetlink and genetlink, which a fresh fake answers from the start, as the kernel does).
  const kernel = new FakeKernel();
  await using diag = await open(NETLINK_SOCK_DIAG, { transport: kernel.open });
  await assert.rejects(
    diag.request({ type: SOCK_DIAG_BY_FAMILY, payload: new Uint8Array(56) }),
    /^SyscallError: sendmsg: ECONNREFUSED \(Connection refused\): the fake kernel serves no type of NETLINK_SOCK_DIAG: serve\(\) the types the test sends$/,
  );
  kernel.serve(30, 0x10, () => ({}));
  await using unit = await open(30, { transport: kernel.open });
  kernel.unserve(30, 0x10);
  assert.throws(
    () => unit.send({ type: 0x10 }),
    /^SyscallError: sendmsg: ECONNREFUSED \(Connection refused\): the fake kernel serves no type of protocol 30 any more: unserve\(\) took its last \(its module unloaded\)$/,
  );
});

test("a unit no module created cannot be opened (EPROTONOSUPPORT) until served or given in protocolGroups; the kernel's own units always can", async () => {
  // The fake opened a socket of any unit, where socket() refuses one nothing registered.
  const refused = (e: unknown) => e instanceof SyscallError && e.code === "EPROTONOSUPPORT";
  const kernel = new FakeKernel();
  await assert.rejects(open(30, { transport: kernel.open }), refused);
  await assert.rejects(open(1, { transport: kernel.open }), /no module created it/);
  for (const unit of [0, 2, 4, 6, 7, 9, 10, 11, 12, 15, 16]) {
    (await open(unit, { transport: kernel.open })).close();
  }
  // Served: the module's unit exists, its other types answered EOPNOTSUPP.
  kernel.serve(30, 0x10, () => ({}));
  await using sock = await open(30, { transport: kernel.open });
  await assert.rejects(sock.request({ type: 0x11 }), { code: "EOPNOTSUPP" });
  // A unit that exists before it serves anything (netlink_kernel_create with no input).
  await using unit = await open(31, {
    transport: new FakeKernel({ protocolGroups: { 31: 32 } }).open,
  });
  await assert.rejects(
    unit.request({ type: 0x10 }),
    (e: unknown) => e instanceof SyscallError && e.code === "ECONNREFUSED",
  );
});

test("rtnetlink and genetlink answer from the start, and nlctrl with them, as the kernel's built-in units do: nothing served is EOPNOTSUPP, a family not registered ENOENT", async () => {
  // A fresh fake refused every send to them with ECONNREFUSED ("was the module unloaded?"), so
  // a test of code that reports a missing family passed against a failure the kernel never gives.
  const kernel = new FakeKernel();
  await using route = await open(NETLINK_ROUTE, { transport: kernel.open });
  await assert.rejects(
    route.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }),
    { code: "EOPNOTSUPP" },
  );
  await using genl = await open(NETLINK_GENERIC, { transport: kernel.open });
  assert.equal((await resolveFamily(genl, "nlctrl")).id, GENL_ID_CTRL);
  await assert.rejects(resolveFamily(genl, "netdev"), { code: "ENOENT" });
  await assert.rejects(genl.request({ type: 0x30, payload: new Uint8Array(4) }), {
    code: "ENOENT",
  });
  // Built in, they are never unloaded: unserving the last type served leaves them answering.
  kernel.serve(NETLINK_ROUTE, RTM_GETLINK, () => ({})).unserve(NETLINK_ROUTE, RTM_GETLINK);
  await assert.rejects(
    route.request({ type: RTM_GETLINK, payload: new Uint8Array(16) }),
    { code: "EOPNOTSUPP" },
  );
  (await open(NETLINK_ROUTE, { transport: kernel.open })).close();
});

test("the fake kernel refuses options and serve() arguments it does not take, naming them", () => {
  // Each was taken in silence: a misspelt option kept its default, a negative buffer made every
  // datagram an overrun, a handler of type "16" (a string) never answered.
  assert.throws(
    () => new FakeKernel({ recieveBufferSize: 5 } as never),
    /unknown option "recieveBufferSize" \(did you mean "receiveBufferSize"\?\)/,
  );
  assert.throws(() => new FakeKernel({ receiveBufferSize: -1 }), /^RangeError: receiveBufferSize/);
  assert.throws(() => new FakeKernel({ pid: NaN }), /^TypeError: pid must be an integer/);
  assert.throws(() => new FakeKernel({ datagramOverhead: -1 }), /^RangeError: datagramOverhead/);
  // No protocol has fewer than 32 groups (netlink_kernel_create).
  assert.throws(() => new FakeKernel({ routeGroups: 31 }), /^RangeError: routeGroups/);
  assert.throws(() => new FakeKernel(null as never), /must be an object, got null/);
  new FakeKernel({ datagramOverhead: 0, pid: 1 });
  const kernel = new FakeKernel();
  assert.throws(() => kernel.serve(32, 16, () => {}), /^RangeError: protocol must be .* 0 to 31/);
  assert.throws(() => kernel.serve(0, "16" as never, () => {}), /message type .* got "16"/);
  assert.throws(() => kernel.serve(0, 70_000, () => {}), /^RangeError: message type/);
  assert.throws(
    () => kernel.serve(0, 16, 5 as never),
    /^TypeError: serve\(\): handler must be a function/,
  );
});

test("a fake socket's pending wait keeps the process alive, as a real one's does (the Transport contract)", async () => {
  // A child whose only pending work is a messages() step on a fake socket: it must still be
  // running well after it said so (it is then killed). It ended at once: a test waiting on a
  // fake for what a later task delivers could end before it came, unlike on a real socket.
  const testing = new URL("../../src/testing/mod.ts", import.meta.url).href;
  const library = new URL("../../mod.ts", import.meta.url).href;
  const dir = mkdtempSync(join(tmpdir(), "nlfake-"));
  const file = join(dir, "wait.ts");
  writeFileSync(
    file,
    `import * as nl from ${JSON.stringify(library)};
    import { FakeKernel } from ${JSON.stringify(testing)};
    const kernel = new FakeKernel();
    const sock = await nl.open(nl.NETLINK_ROUTE, {
      transport: (protocol, options) => kernel.open(protocol, options),
    });
    sock.messages().next();
    console.log(kernel.socket(nl.NETLINK_ROUTE, sock.portid).waiting ? "waiting" : "not waiting");
    `,
  );
  try {
    const child = spawn(
      process.execPath,
      "Bun" in globalThis ? [file] : ["run", "-A", "--no-lock", file],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const said = new Promise<void>((resolve) =>
      child.stdout.on("data", (chunk) => {
        out += chunk;
        if (out.includes("\n")) resolve();
      })
    );
    await Promise.race([said, exited]);
    assert.equal(out.trim(), "waiting");
    const later = new Promise((resolve) => setTimeout(() => resolve("alive"), 500));
    const outcome = await Promise.race([later, exited.then((code) => `exited (${code})`)]);
    child.kill();
    await exited;
    assert.equal(outcome, "alive");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("ackMessage(), doneMessage() and multicast() refuse what they would write wrong: an errno NaN or 2^32 was a success ack, group NaN reached no one, a null ext threw in the engine's words (attack12a), an ext value of the wrong kind was 'attribute 2' (attack16)", () => {
  const request = { type: RTM_GETLINK, flags: 1, seq: 1, portid: 5, payload: new Uint8Array(16) };
  for (const errno of [NaN, 2 ** 32, -22, 1.5, 5000]) {
    for (const call of [() => ackMessage(request, errno), () => doneMessage(request, errno)]) {
      assert.throws(
        call,
        /^RangeError: (ackMessage|doneMessage)\(\): errno must be a positive errno/,
      );
    }
  }
  assert.throws(
    () => ackMessage(request, 22, null!),
    /^TypeError: ackMessage\(\) ext must be an object, got null$/,
  );
  assert.throws(
    () => doneMessage(request, 22, { mesage: "x" } as never),
    /unknown option "mesage" \(did you mean "message"\?\)/,
  );
  assert.throws(
    () => doneMessage(request, 0, {}, 2 ** 16),
    /^RangeError: doneMessage\(\) flags must be an integer from 0 to 65535/,
  );
  // Each value of ext named as given: the attribute encoder said "attribute 2: u32 value...".
  const exts: [object, RegExp][] = [
    [{ offset: -1 }, /^RangeError: ext: offset must be an integer from 0 to 4294967295, got -1$/],
    [{ offset: "4" }, /^TypeError: ext: offset must be an integer from 0 to 4294967295, got "4"$/],
    [{ missingType: 2 ** 32 }, /^RangeError: ext: missingType must be an integer from 0/],
    [{ missingNest: 1.5 }, /^TypeError: ext: missingNest must be an integer from 0/],
    [{ cookie: "ab" }, /^TypeError: ext: cookie must be a Uint8Array, got "ab"$/],
    [{ message: 5 }, /^TypeError: ext: message must be a string, got 5$/],
    [{ message: "a\0b" }, /^RangeError: ext: message cannot hold NUL$/],
    [{ message: "\ud800" }, /^TypeError: ext: message: "\\ud800" holds a lone surrogate/],
    // Past an attribute's u16 length: the encoder said "attribute 1: string must be...".
    [
      { message: "x".repeat(65531) },
      /^RangeError: ext: message must be at most 65530 bytes of UTF-8 \(an attribute's length is a u16\), got 65531$/,
    ],
    [
      { message: "\u00e9".repeat(32766) },
      /^RangeError: ext: message must be at most 65530 .*got 65532$/,
    ],
    [
      { cookie: new Uint8Array(65532) },
      /^RangeError: ext: cookie must be at most 65531 bytes \(an attribute's length is a u16\), got 65532$/,
    ],
    [{ policy: 5 }, /^TypeError: ext: policy must be a function filling the nest, got 5$/],
  ];
  for (const [ext, message] of exts) {
    for (
      const [name, call] of [["ackMessage()", ackMessage], ["doneMessage()", doneMessage]] as const
    ) {
      assert.throws(
        () => call(request, 22, ext as never),
        (e) => e instanceof Error && message.test(e.toString().replace(`${name} `, "")),
        `${name} ${JSON.stringify(ext)}`,
      );
    }
    // A fake kernel's handler answering with it: named in its words, for a request and a dump.
    const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_GETLINK, () => ({ errno: 22, ext }));
    const t = kernel.open(NETLINK_ROUTE, { portid: 0 });
    for (const flags of [NLM_F_REQUEST, NLM_F_REQUEST | NLM_F_DUMP]) {
      assert.throws(
        () => t.send(encodeMessages([{ ...request, flags }]), 0, 0),
        (e) =>
          e instanceof Error
          && message.test(
            e.toString().replace("the fake kernel's handler of message type 18's answer's ", ""),
          ),
        `handler ${JSON.stringify(ext)} ${flags}`,
      );
    }
    t.close();
  }
  // The longest an attribute holds are written whole.
  const longest = { message: "x".repeat(65530), cookie: new Uint8Array(65531) };
  const written = decodeAck(ackMessage(request, 22, longest));
  assert.equal(written.detail?.length, 65530);
  assert.equal(written.cookie?.length, 65531);
  for (const group of [NaN, 0, -1, 1.5]) {
    assert.throws(
      () => new FakeKernel().multicast(NETLINK_ROUTE, group, []),
      new RegExp(
        `^${
          Number.isInteger(group) ? "Range" : "Type"
        }Error: multicast group must be an integer from 1 to 4294967295`,
      ),
    );
  }
});

test("a dump handler's errnoAtStart: the errno comes as an NLMSG_ERROR and no dump runs (a start() callback's refusal); without it, the dump's NLMSG_DONE carries it", () => {
  const kernel = new FakeKernel().serve(
    30,
    0x10,
    (req) => req.payload[0] === 1 ? { errno: 22, errnoAtStart: true } : { errno: 22 },
  );
  const t = kernel.open(30, { portid: 0 });
  const types = (first: number) => {
    const payload = new Uint8Array([first]);
    t.send(
      encodeMessages([{
        type: 0x10,
        flags: NLM_F_REQUEST | NLM_F_DUMP,
        seq: 5,
        portid: 0,
        payload,
      }]),
      0,
      0,
    );
    const seen: number[] = [];
    for (let d; (d = t.receive()) !== undefined;) {
      seen.push(...decodeMessages(d.data).map((m) => m.type));
    }
    return seen;
  };
  assert.deepEqual(types(1), [NLMSG_ERROR]);
  // No dump runs: the next one is not EBUSY.
  assert.deepEqual(types(0), [NLMSG_DONE]);
  t.close();
});
