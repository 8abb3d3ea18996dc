// TapPoint and tap(): what taps see, and what a tap can't break.

import assert from "node:assert/strict";
import { test } from "node:test";
import { capture } from "../../src/capture.ts";
import { NETLINK_ROUTE, NLM_F_DUMP, RTM_GETLINK, RTM_NEWLINK } from "../../src/constants.ts";
import { SocketClosedError, SyscallError } from "../../src/errors.ts";
import { decodeMessages } from "../../src/message.ts";
import { open } from "../../src/open.ts";
import { NetlinkSocket } from "../../src/socket.ts";
import { tap, TapPoint } from "../../src/tap.ts";
import { FakeKernel } from "../../src/testing/mod.ts";
import type { Datagram, Transport } from "../../src/transport.ts";

/** A kernel whose RTM_GETLINK dump has one link. */
function kernel(): FakeKernel {
  return new FakeKernel().serve(NETLINK_ROUTE, RTM_GETLINK, () => ({
    messages: [{ type: RTM_NEWLINK, payload: new Uint8Array(16) }],
  }));
}

test("a tap sees each datagram sent (with its address) and received, until detached", async () => {
  await using sock = await open(NETLINK_ROUTE, { transport: kernel().open });
  const seen: string[] = [];
  const detach = tap(sock, {
    sent: (data, portid, groups) =>
      seen.push(`sent ${decodeMessages(data)[0].type} ${portid} ${groups}`),
    received: (d: Datagram) => seen.push(`received ${decodeMessages(d.data).length}`),
    detached: () => seen.push("detached"),
  });
  await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
  detach();
  detach(); // idempotent
  await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
  // The link, then NLMSG_DONE alone, as the kernel ends a link dump.
  assert.deepEqual(seen, [`sent ${RTM_GETLINK} 0 0`, "received 1", "received 1", "detached"]);
});

test("a tap that throws is detached and reported; the socket goes on", async () => {
  await using sock = await open(NETLINK_ROUTE, { transport: kernel().open });
  let calls = 0;
  const reported: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => reported.push(args);
  try {
    tap(sock, {
      sent: () => {
        calls++;
        throw new Error("tap bug");
      },
    });
    await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
    await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
  } finally {
    console.error = original;
  }
  assert.equal(calls, 1);
  assert.equal(reported.length, 1);
  assert.match(String((reported[0] as unknown[])[1]), /tap bug/);
});

test("a tap that throws is told it was detached (its last call), once", async () => {
  await using sock = await open(NETLINK_ROUTE, { transport: kernel().open });
  const seen: string[] = [];
  const original = console.error;
  console.error = () => {};
  try {
    tap(sock, {
      received: () => {
        seen.push("received");
        throw new Error("tap bug");
      },
      detached: () => {
        seen.push("detached");
        throw new Error("detached bug too");
      },
    });
    await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
    await sock.close();
  } finally {
    console.error = original;
  }
  assert.deepEqual(seen, ["received", "detached"]);
});

test("an async tap whose promise rejects is detached, told and reported, as one that throws", async () => {
  // Not an unhandled rejection, which fails this test on both runtimes and ends a program.
  await using sock = await open(NETLINK_ROUTE, { transport: kernel().open });
  const seen: string[] = [];
  const reported: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => reported.push(args);
  try {
    tap(sock, {
      received: async () => {
        seen.push("received");
        await Promise.resolve();
        throw new Error("async tap bug");
      },
      detached: () => void seen.push("detached"),
    });
    await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
    await new Promise((r) => setTimeout(r, 10));
    await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
  } finally {
    console.error = original;
  }
  assert.equal(seen.at(-1), "detached");
  assert.equal(seen.filter((s) => s === "detached").length, 1);
  assert.equal(reported.length, 1);
  assert.match(String((reported[0] as unknown[])[1]), /async tap bug/);
});

test("read errors (ENOBUFS) reach receiveFailed, and the socket still counts the overrun", async () => {
  const fake = kernel();
  await using sock = await open(NETLINK_ROUTE, { transport: fake.open, groups: [1] });
  const errors: unknown[] = [];
  tap(sock, { receiveFailed: (err) => errors.push(err) });
  fake.sockets[0].overrun();
  const iterator = sock[Symbol.asyncIterator]();
  await iterator.next();
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof SyscallError && errors[0].code === "ENOBUFS");
  assert.equal(sock.overruns, 1);
  await iterator.return?.();
});

test("an untapped socket reads its transport past the point; a tap attached while it waits sees the next datagram", async () => {
  // Counts the point's reads (the point checks its methods against the prototype, patched first).
  const receive = TapPoint.prototype.receive;
  let throughPoint = 0;
  TapPoint.prototype.receive = function(this: TapPoint) {
    throughPoint++;
    return receive.call(this);
  };
  try {
    const fake = kernel();
    // A transport with an in-place read, as the real one has (the point adds none then).
    const transport = (protocol: number, options: { portid: number }): Transport => {
      const t = fake.open(protocol, options);
      return Object.assign(t, {
        receiveInPlace: () => {
          const d = t.receive();
          return d
            && {
              buffer: d.data,
              length: d.data.length,
              sender: d.sender,
              group: d.group,
              nsid: d.nsid,
            };
        },
      });
    };
    await using sock = await open(NETLINK_ROUTE, { transport, groups: [1] });
    const event = (
      n: number,
    ) => [{ type: RTM_NEWLINK, flags: 0, seq: 0, portid: 0, payload: new Uint8Array([n]) }];
    const iterator = sock[Symbol.asyncIterator]();
    const first = iterator.next();
    fake.sockets[0].deliver(event(1), 0, 1);
    assert.deepEqual((await first).value.payload, new Uint8Array([1]));
    assert.equal(throughPoint, 0);
    const seen: number[] = [];
    tap(sock, { received: (d) => seen.push(decodeMessages(d.data)[0].payload[0]) });
    const second = iterator.next(); // waiting, its wait started before the tap
    fake.sockets[0].deliver(event(2), 0, 1);
    assert.deepEqual((await second).value.payload, new Uint8Array([2]));
    assert.deepEqual(seen, [2]);
    assert.ok(throughPoint > 0);
    await iterator.return?.();
  } finally {
    TapPoint.prototype.receive = receive;
  }
});

test("TapPoint forwards attachFilter exactly when its transport has one", () => {
  const plain: Transport = {
    protocol: NETLINK_ROUTE,
    portid: 1,
    fd: 3,
    send: () => {},
    receive: () => undefined,
    wait: () => Promise.resolve("closed"),
    cancelWait: () => {},
    setOption: () => {},
    getOption: () => 0,
    close: () => {},
  };
  assert.equal(new TapPoint(plain).attachFilter, undefined);
  const programs: Uint8Array[] = [];
  const filtering = {
    ...plain,
    attachFilter: (program: Uint8Array) => void programs.push(program),
  };
  new TapPoint(filtering).attachFilter!(new Uint8Array(8));
  assert.equal(programs.length, 1);
});

test("tap() and attach() refuse a tap that would see nothing or a callback that is not a function", async () => {
  await using sock = await open(NETLINK_ROUTE, { transport: kernel().open });
  assert.throws(
    () => tap(sock, { snt: () => {} } as never),
    (e) =>
      e instanceof TypeError
      && e.message === "tap: unknown callback \"snt\" (did you mean \"sent\"?); the callbacks are "
          + "sent, received, receiveFailed, optionSet, detached",
  );
  assert.throws(() => tap(sock, {}), /tap: no callback; the callbacks are sent, received/);
  assert.throws(() => tap(sock, { sent: 5 } as never), /tap: sent must be a function, got number/);
  const point = new TapPoint(kernel().open(NETLINK_ROUTE, { portid: 0 }));
  assert.throws(() => point.attach({ recieved: () => {} } as never), /did you mean "received"/);
  // A tap written as a class, its callbacks inherited and its own state beside them, is a tap.
  class Counter {
    count = 0;
    received(): void {
      this.count++;
    }
  }
  const counter = new Counter();
  tap(sock, counter);
  await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
  assert.ok(counter.count > 0);
});

test("tap() and capture() refuse a closed socket with SocketClosedError, each naming itself", async () => {
  // capture() said "tap: the socket is closed" (a plain Error), naming a function not called.
  const sock = await open(NETLINK_ROUTE, { transport: kernel().open });
  sock.close();
  assert.throws(
    () => tap(sock, { sent: () => {} }),
    (e) => e instanceof SocketClosedError && e.message === "tap(): the socket is closed",
  );
  assert.throws(
    () => capture(sock, () => {}),
    (e) => e instanceof SocketClosedError && e.message === "capture(): the socket is closed",
  );
});

test("tap() and capture() refuse a socket not made by open(), naming themselves alike", () => {
  const sock = new NetlinkSocket(kernel().open(NETLINK_ROUTE, { portid: 0 }));
  for (
    const [name, call] of [["tap", () => tap(sock, {})], [
      "capture",
      () => capture(sock, () => {}),
    ]] as const
  ) {
    assert.throws(
      call,
      (e) =>
        e instanceof TypeError
        && e.message
          === `${name}(): this socket was not made by open(); wrap its transport in a TapPoint`,
    );
  }
  sock.close();
});
