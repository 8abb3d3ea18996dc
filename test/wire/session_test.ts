// Recorder and Replayer: a session recorded against the real kernel (a fresh namespace) and
// replayed without it gives the code under test the same answers; a different request fails
// with both requests shown.

import assert from "node:assert/strict";
import { test } from "node:test";
import { fromHex, toHex } from "../../src/_hex.ts";
import { AttributeEncoder } from "../../src/attribute.ts";
import {
  AF_INET,
  AF_INET6,
  IFLA_IFNAME,
  NETLINK_EXT_ACK,
  NETLINK_GENERIC,
  NETLINK_ROUTE,
  NETLINK_USERSOCK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLMSG_DONE,
  NLMSG_ERROR,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_NEWLINK,
  SO_RCVBUF,
  SOL_NETLINK,
  SOL_SOCKET,
} from "../../src/constants.ts";
import { MalformedMessageError, type NetlinkError } from "../../src/errors.ts";
import { resolveFamily } from "../../src/genl.ts";
import { decodeMessages, encodeMessages } from "../../src/message.ts";
import { open } from "../../src/open.ts";
import { FakeKernel } from "../../src/testing/mod.ts";
import { Recorder, Replayer, ReplayMismatchError } from "../../src/testing/session.ts";
import type { OpenTransport } from "../../src/transport.ts";
import { family } from "../../src/ynl/family.ts";
import { rtLink } from "../../src/ynl/rt_link.ts";
import { rtRoute } from "../../src/ynl/rt_route.ts";
import { Netns, routesNetns } from "../host/_netns.ts";

/** The code under test: a typed dump, a refused creation, a generic family lookup. */
async function scenario(netns: string, transport: OpenTransport) {
  await using rt = await family(rtLink, { netns, transport });
  const links = (await rt.dump("getlink")).map((l) => `${l.ifiIndex} ${l.ifname} ${l.mtu}`);
  const attrs = new AttributeEncoder().string(IFLA_IFNAME, "rec0").finish();
  const payload = new Uint8Array(16 + attrs.length);
  payload.set(attrs, 16);
  const refused = await rt.socket.request({
    type: RTM_NEWLINK,
    flags: NLM_F_CREATE | NLM_F_EXCL,
    payload,
  }).then(() => "created", (err: NetlinkError) => `${err.code} ${err.detail ?? ""}`);
  await using genl = await open(NETLINK_GENERIC, { netns, transport });
  const nlctrl = await resolveFamily(genl, "nlctrl");
  return { links, refused, nlctrl: `${nlctrl.id} ${[...nlctrl.groups.keys()]}` };
}

test("a session recorded against the kernel replays without it, to the same results", async () => {
  using ns = new Netns();
  ns.ip("link", "add", "rec0", "mtu", "1400", "type", "veth", "peer", "name", "rec1");
  const recorder = new Recorder();
  const live = await scenario(ns.name, recorder.transport);
  assert.ok(live.links.includes("1 lo 65536") && live.links.some((l) => l.endsWith("rec0 1400")));
  assert.match(live.refused, /^EEXIST/);
  const fixture = JSON.stringify(recorder.session());

  const replayer = new Replayer(fixture);
  // The namespace is gone by now in real use; the replay never touches the kernel.
  const replayed = await scenario("/nonexistent/netns", replayer.transport);
  assert.deepEqual(replayed, live);
  replayer.finish();

  // Replays are repeatable.
  const again = new Replayer(JSON.parse(fixture));
  assert.deepEqual(await scenario("x", again.transport), live);
});

test("what a Recorder did not record is refused when the Replayer is made, saying where", () => {
  // Text that is not JSON threw a SyntaxError, a socket entry that is null or has no events
  // list failed at the first open with "Cannot read properties of null (reading 'protocol')".
  const refused: [unknown, string][] = [
    ["{\"version\": 1, \"sockets\": [", "its text is not JSON"],
    [null, "version 1 with sockets expected"],
    ["[]", "version 1 with sockets expected"],
    [{ version: 2, sockets: [] }, "version 1 with sockets expected"],
    [{ version: 1, sockets: [null] }, "sockets[0] is not { protocol, portid, events"],
    [{ version: 1, sockets: [{ protocol: 0, portid: 1, events: "x" }] }, "sockets[0] is not"],
    [
      {
        version: 1,
        sockets: [{ protocol: 0, portid: 1, events: [] }, { protocol: "0", portid: 1, events: [] }],
      },
      "sockets[1] is not",
    ],
    [{ version: 1, sockets: [{ protocol: 0, portid: 1, events: [null] }] }, "sockets[0] is not"],
    // Integers out of range were taken: a replayed socket's portid was -5, which no port is.
    [{ version: 1, sockets: [{ protocol: 0, portid: -5, events: [] }] }, "sockets[0] is not"],
    [{ version: 1, sockets: [{ protocol: 0, portid: 2 ** 32, events: [] }] }, "sockets[0] is not"],
    [{ version: 1, sockets: [{ protocol: 32, portid: 1, events: [] }] }, "sockets[0] is not"],
    // An event edited by hand failed only when replayed, if at all: bytes that are not hex as
    // "not hex bytes", a read option that is not a number came back from getOption() as is.
    ...([
      [{ receive: "zz", sender: 0, group: 0 }, "sockets[0].events[1] is not a recorded event"],
      [{ send: "123", to: 0, groups: 0 }, "sockets[0].events[1] is not a recorded event"],
      [{ receive: "10", sender: "0", group: 0 }, "sockets[0].events[1] is not"],
      [{ receive: "10", sender: -1, group: 0 }, "sockets[0].events[1] is not"],
      [{ send: "10", to: 0, groups: -1 }, "sockets[0].events[1] is not"],
      [{ got: [1, 8, "x"] }, "sockets[0].events[1] is not"],
      [{ option: [1, 8] }, "sockets[0].events[1] is not"],
      [{ error: 105 }, "sockets[0].events[1] is not"],
      // Text that names no errno replayed as a read failing with errno 0 ("E0 (unknown error
      // 0)"), or, refused, as errno NaN.
      [{ error: "EFOO" }, "sockets[0].events[1] is not"],
      [{ error: "E0" }, "sockets[0].events[1] is not"],
      [{ send: "10", to: 0, groups: 0, refused: "EFOO" }, "sockets[0].events[1] is not"],
      [{ foo: 1 }, "sockets[0].events[1] is not"],
    ] as const).map(([event, why]): [unknown, string] => [
      { version: 1, sockets: [{ protocol: 0, portid: 1, events: [{ got: [1, 8, 4] }, event] }] },
      why,
    ]),
  ];
  for (const [session, why] of refused) {
    assert.throws(
      () => new Replayer(session as never),
      (e: Error) =>
        e instanceof TypeError && e.message.startsWith(`Replayer: not a recorded session: ${why}`),
      JSON.stringify(session),
    );
  }
  new Replayer({ version: 1, sockets: [] }).finish();
});

test("a request the recording does not have fails, showing both decoded", async () => {
  const recorder = new Recorder();
  {
    await using sock = await open(NETLINK_ROUTE, { transport: recorder.transport });
    await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
  }
  const replayer = new Replayer(recorder.session());
  await using sock = await open(NETLINK_ROUTE, { transport: replayer.transport });
  await assert.rejects(
    sock.request({ type: RTM_GETADDR, flags: NLM_F_DUMP, payload: new Uint8Array(8) }),
    (err: unknown) => {
      assert.ok(err instanceof ReplayMismatchError);
      assert.match(
        err.message,
        /socket 0 \(route\) sent\n {2}RTM_GETADDR flags=REQUEST\|ACK\|DUMP/,
      );
      assert.match(err.message, /but the recording has\n {2}RTM_GETLINK flags=REQUEST\|ACK\|DUMP/);
      return true;
    },
  );
  assert.throws(() => replayer.finish(), /never sent\n {2}RTM_GETLINK/);
  // Opening more sockets, or of another protocol, than recorded is refused too.
  await assert.rejects(
    open(NETLINK_ROUTE, { transport: replayer.transport }),
    /the recording has 1 socket/,
  );
  await assert.rejects(
    open(NETLINK_GENERIC, { transport: new Replayer(recorder.session()).transport }),
    /opened for generic, but the recording's is route/,
  );
  assert.throws(() => new Replayer("{}"), TypeError);
  assert.throws(() => new Replayer(recorder.session()).finish(), /0 of the recording's 1 sockets/);
});

test("notifications recorded before any request, and overruns, are replayed", async () => {
  const kernel = new FakeKernel();
  const recorder = new Recorder(kernel.open);
  const notification = {
    type: RTM_NEWLINK,
    flags: 0,
    seq: 0,
    portid: 0,
    payload: new Uint8Array(16),
  };
  const watch = async (transport: OpenTransport) => {
    await using sock = await open(NETLINK_ROUTE, { transport, groups: [1] });
    const seen: string[] = [];
    for await (const message of sock) {
      seen.push(`${message.type} ${message.group}`);
      if (seen.length === 3) break;
    }
    return { seen, overruns: sock.overruns };
  };
  const recording = watch(recorder.transport);
  kernel.multicast(NETLINK_ROUTE, 1, [notification]);
  kernel.sockets[0].overrun();
  const live = await new Promise<Awaited<typeof recording>>((resolve) => {
    // The overrun is read (and the queue emptied) before the kernel delivers again.
    setTimeout(() => {
      kernel.multicast(NETLINK_ROUTE, 1, [notification]);
      resolve(recording);
    }, 50);
  });
  // The kernel reports the overrun before what is still queued.
  assert.deepEqual(live, { seen: ["4 0", `${RTM_NEWLINK} 1`, `${RTM_NEWLINK} 1`], overruns: 1 });
  const events = recorder.session().sockets[0].events;
  assert.ok(events.some((e) => "error" in e && e.error === "ENOBUFS"));
  assert.ok(events.some((e) => "option" in e), "the group join is recorded");

  const replayer = new Replayer(recorder.session());
  assert.deepEqual(await watch(replayer.transport), live);
  replayer.finish();
});

test("replies get the live request's sequence number, acks the echoed one too", async () => {
  const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_GETLINK, () => ({
    messages: [{ type: RTM_NEWLINK, payload: new Uint8Array(16) }],
  }));
  const recorder = new Recorder(kernel.open);
  const get = { type: RTM_GETLINK, payload: new Uint8Array(16) };
  {
    await using sock = await open(NETLINK_ROUTE, { transport: recorder.transport });
    assert.equal((await sock.request(get)).length, 1);
  }
  const events = recorder.session().sockets[0].events;
  assert.equal(events.filter((e) => "receive" in e).length, 2, "the reply, then the ack");
  // Each socket starts from a random sequence number: the replay's differs from the recording's.
  const replayer = new Replayer(recorder.session());
  await using sock = await open(NETLINK_ROUTE, { transport: replayer.transport });
  // Unmapped, the reply would never answer the request, nor the ack end it.
  const [answer] = await sock.request(get, { timeout: 2_000 });
  assert.equal(answer.type, RTM_NEWLINK);
  assert.equal(answer.portid, recorder.session().sockets[0].portid);
});

test("a typed dump over many datagrams replays to the same routes; another request is a clear mismatch", async () => {
  using ns = routesNetns(2000);
  const list = async (transport: OpenTransport, netns?: string) => {
    await using rt = await family(rtRoute, { netns, transport });
    const routes: string[] = [];
    for await (const route of rt.dumpStream("getroute", { rtmFamily: AF_INET })) {
      routes.push(`${route.dst} ${route.oif}`); // dst as text: its display hint
    }
    return routes;
  };
  const recorder = new Recorder();
  const live = await list(recorder.transport, ns.name);
  assert.ok(live.length > 2000, `${live.length} routes`);
  const datagrams = recorder.session().sockets[0].events.filter((e) => "receive" in e).length;
  assert.ok(datagrams > 5, `${datagrams} datagrams recorded`);

  const replayer = new Replayer(JSON.stringify(recorder.session()));
  assert.deepEqual(await list(replayer.transport), live);
  replayer.finish();

  // The same code asking for IPv6 routes: the typed dump rejects with the mismatch itself.
  const other = new Replayer(recorder.session());
  await using rt = await family(rtRoute, { transport: other.transport });
  await assert.rejects(rt.dump("getroute", { rtmFamily: AF_INET6 }), (err: unknown) => {
    assert.ok(err instanceof ReplayMismatchError, String(err));
    assert.match(err.message, /sent\n {2}RTM_GETROUTE flags=REQUEST\|DUMP .*Family=10/);
    assert.match(
      err.message,
      /but the recording has\n {2}RTM_GETROUTE flags=REQUEST\|DUMP .*Family=2/,
    );
    return true;
  });
});

test("an over-long datagram from a peer, recorded, fails on replay only what it failed live", async () => {
  const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_GETLINK, () => ({
    messages: [{ type: RTM_NEWLINK, payload: new Uint8Array(16) }],
  }));
  const peer = kernel.open(NETLINK_ROUTE, { portid: 0 });
  const scenario = async (transport: OpenTransport, live: boolean) => {
    await using sock = await open(NETLINK_ROUTE, { transport });
    if (live) {
      kernel.socket(NETLINK_ROUTE, sock.portid)!.readBufferSize = 1024;
      peer.send(new Uint8Array(4000), sock.portid, 0); // too long: EMSGSIZE from the peer
    }
    // A request to the kernel, read after the peer's datagram: only a request to the peer fails.
    const links = await sock.request({ type: RTM_GETLINK, payload: new Uint8Array(16) });
    return { links: links.length, overruns: sock.overruns };
  };
  const recorder = new Recorder(kernel.open);
  const live = await scenario(recorder.transport, true);
  assert.deepEqual(live, { links: 1, overruns: 1 });
  const events = recorder.session().sockets[0].events;
  assert.ok(events.some((e) => "error" in e && e.error === "EMSGSIZE" && e.sender === peer.portid));
  const replayer = new Replayer(JSON.stringify(recorder.session()));
  assert.deepEqual(await scenario(replayer.transport, false), live);
  replayer.finish();
  peer.close();
});

test("the options the recorded code read replay with the values the kernel gave", async () => {
  /** Reads what a program might: the receive buffer before and after setting it, ext acks. */
  const reads = async (transport: OpenTransport) => {
    await using sock = await open(NETLINK_ROUTE, { transport });
    const before = sock.getOption(SOL_SOCKET, SO_RCVBUF);
    sock.setOption(SOL_SOCKET, SO_RCVBUF, 65536);
    return [
      before,
      sock.getOption(SOL_SOCKET, SO_RCVBUF),
      sock.getOption(SOL_NETLINK, NETLINK_EXT_ACK),
    ];
  };
  const recorder = new Recorder();
  const live = await reads(recorder.transport);
  assert.equal(live[1], 131072, "the kernel doubles what was set");
  assert.equal(live[2], 1);
  const replayer = new Replayer(JSON.stringify(recorder.session()));
  assert.deepEqual(await reads(replayer.transport), live);
  replayer.finish();
});

test("an open, a send or an option set the kernel refused is recorded, and refused alike on replay", async () => {
  /** Code that meets refusals and goes on: a port in use, a group past 32, a peer gone. */
  const attempts = async (transport: OpenTransport) => {
    const outcome = (call: () => unknown) => {
      try {
        call();
        return "ok";
      } catch (err) {
        return (err as Error).message;
      }
    };
    const seen: string[] = [];
    await using first = await open(NETLINK_USERSOCK, { transport, portid: 4242 });
    seen.push(
      await open(NETLINK_USERSOCK, { transport, portid: 4242 }).then(
        () => "ok",
        (err: Error) => err.message,
      ),
    );
    seen.push(outcome(() => first.join(33)));
    seen.push(outcome(() => first.join(5)));
    seen.push(outcome(() => first.send({ type: 100, payload: new Uint8Array(4) }, { portid: 77 })));
    await using second = await open(NETLINK_USERSOCK, { transport });
    seen.push(
      outcome(() => second.send({ type: 100, payload: new Uint8Array(4) }, { portid: 4242 })),
    );
    seen.push(`${(await first.messages()[Symbol.asyncIterator]().next()).value?.type}`);
    return seen;
  };
  const recorder = new Recorder(new FakeKernel().open);
  const live = await attempts(recorder.transport);
  assert.match(live[0], /EADDRINUSE/);
  assert.match(live[1], /EINVAL/);
  assert.equal(live[2], "ok");
  assert.match(live[3], /ECONNREFUSED/);
  assert.deepEqual(live.slice(4), ["ok", "100"]);
  const replayer = new Replayer(JSON.stringify(recorder.session()));
  assert.deepEqual(await attempts(replayer.transport), live);
  replayer.finish();
});

test("a fixture cut short, without the NLMSG_DONE or the ack the code waits for, fails the read with an error naming the recording's end, not a wait until the timeout", async () => {
  const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_GETLINK, () => ({
    messages: [1, 2].map((n) => ({ type: RTM_NEWLINK, payload: new Uint8Array(16).fill(n) })),
  }));
  const payload = new Uint8Array(16);
  const recorder = new Recorder(kernel.open);
  {
    await using sock = await open(NETLINK_ROUTE, { transport: recorder.transport });
    assert.equal((await Array.fromAsync(sock.dump({ type: RTM_GETLINK, payload }))).length, 2);
    assert.equal((await sock.request({ type: RTM_GETLINK, payload })).length, 2);
  }
  /** The recording, without the messages of type `type` it received. */
  const without = (type: number) => {
    const session = recorder.session();
    for (const event of session.sockets[0].events) {
      if (!("receive" in event)) continue;
      const kept = decodeMessages(fromHex(event.receive)).filter((m) => m.type !== type);
      event.receive = toHex(encodeMessages(kept));
    }
    return session;
  };
  for (const [type, owed] of [[NLMSG_DONE, "NLMSG_DONE"], [NLMSG_ERROR, "ack"]] as const) {
    const replayer = new Replayer(without(type));
    await using sock = await open(NETLINK_ROUTE, { transport: replayer.transport });
    const ends = new RegExp(
      `^ReplayMismatchError: replay: socket 0 \\(route\\): the recording ends without `
        + `the end of the request sent at its event \\d+, its ${owed}, which the code under `
        + `test waits for:\\n {2}RTM_GETLINK flags=REQUEST\\|${
          type === NLMSG_DONE ? "DUMP" : "ACK"
        } .*\\nwas the fixture cut short\\?`,
    );
    const timeout = 60_000; // before, the replay waited for it
    if (type === NLMSG_DONE) {
      // A failed read fails the socket's requests at once: the parts queued are dropped.
      await assert.rejects(
        sock.dump({ type: RTM_GETLINK, payload }, { timeout }).forEach(() => {}),
        ends,
      );
    } else {
      await sock.dump({ type: RTM_GETLINK, payload }, { timeout }).forEach(() => {});
      await assert.rejects(sock.request({ type: RTM_GETLINK, payload }, { timeout }), ends);
    }
  }
});

/** A session recording one RTM_GETLINK request that the kernel answered with EPERM. */
async function recordedEperm() {
  const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_GETLINK, () => ({ errno: 1 }));
  const recorder = new Recorder(kernel.open);
  const payload = new Uint8Array(16);
  {
    await using sock = await open(NETLINK_ROUTE, { transport: recorder.transport });
    await assert.rejects(sock.request({ type: RTM_GETLINK, payload }), { code: "EPERM" });
  }
  return { session: recorder.session(), payload };
}

test("a read error the errno table does not name, recorded as E<n>, replays as that errno", async () => {
  const { session, payload } = await recordedEperm();
  const events = session.sockets[0].events;
  // As the Recorder writes a failed read whose errno has no name (SyscallError's code).
  events[events.findIndex((event) => "receive" in event)] = { error: "E200" };
  const replayer = new Replayer(session);
  await using sock = await open(NETLINK_ROUTE, { transport: replayer.transport });
  // It failed with errno 0, "E0 (unknown error 0)".
  await assert.rejects(sock.request({ type: RTM_GETLINK, payload }), { errno: 200, code: "E200" });
});

test("a recorded datagram edited short (an NLMSG_ERROR cut inside) replays as a fixture cut short, not a RangeError", async () => {
  const { session, payload } = await recordedEperm();
  for (const event of session.sockets[0].events) {
    // The header and the error code: nlmsg_len still says 36 bytes or more.
    if ("receive" in event) event.receive = event.receive.slice(0, 2 * 24);
  }
  const replayer = new Replayer(session);
  await using sock = await open(NETLINK_ROUTE, { transport: replayer.transport });
  // The replay's own read of the echoed request's seq threw "Offset is outside the bounds of
  // the DataView". The datagram, from port 0 and malformed, fails the request at once.
  await assert.rejects(
    sock.request({ type: RTM_GETLINK, payload }),
    (err: Error) =>
      err instanceof MalformedMessageError && /runs past the end of the datagram/.test(err.message),
  );
});

test("a Recorder over what is no transport function is a TypeError at once, not an engine error when a socket opens (attack12a)", () => {
  for (const [bad, text] of [[null, "null"], [5, "5"], ["x", "\"x\""], [{}, "{}"]] as const) {
    assert.throws(
      () => new Recorder(bad as never),
      (e: Error) =>
        e instanceof TypeError
        && e.message === `Recorder: open must be a transport function, got ${text}`,
      text,
    );
  }
});
