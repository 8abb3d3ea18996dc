// The fake kernel (@netlink/netlink/testing) against the real one: each scenario runs on sockets
// of the real kernel (in a fresh namespace) and on sockets of a FakeKernel programmed with the
// same answers, and what the sockets see must be the same wherever the fake claims to model the
// kernel's rules (src/testing/fake_kernel.ts's list). Scenarios run at the transport level, the
// datagrams as they come, so that nothing of the socket layer hides a difference.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import process from "node:process";
import { test } from "node:test";
import { SO_RCVBUFFORCE, SO_SNDBUFFORCE } from "../../ffi/_constants.ts";
import { openTransport } from "../../ffi/mod.ts";
import { AttributeDecoder, AttributeEncoder } from "../../src/attribute.ts";
import {
  AF_INET,
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_OP,
  CTRL_CMD_GETFAMILY,
  CTRL_CMD_GETPOLICY,
  GENL_ID_CTRL,
  IFA_ADDRESS,
  IFA_LOCAL,
  IFLA_IFNAME,
  IFLA_MTU,
  NETLINK_ADD_MEMBERSHIP,
  NETLINK_CAP_ACK,
  NETLINK_EXT_ACK,
  NETLINK_GENERIC,
  NETLINK_KOBJECT_UEVENT,
  NETLINK_LIST_MEMBERSHIPS,
  NETLINK_NETFILTER,
  NETLINK_NO_ENOBUFS,
  NETLINK_ROUTE,
  NETLINK_SOCK_DIAG,
  NETLINK_USERSOCK,
  NFNL_SUBSYS_CTNETLINK,
  NFNL_SUBSYS_CTNETLINK_EXP,
  NLM_F_ACK,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_ECHO,
  NLM_F_EXCL,
  NLM_F_MULTI,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSG_NOOP,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
  NLMSGERR_ATTR_POLICY,
  RTM_GETLINK,
  RTM_GETROUTE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_LINK,
  RTNLGRP_MAX,
  SO_RCVBUF,
  SO_SNDBUF,
  SOL_NETLINK,
  SOL_SOCKET,
} from "../../src/constants.ts";
import { NetlinkError, SyscallError } from "../../src/errors.ts";
import { decodeFamily, encodeGeneric, resolvePolicy } from "../../src/genl.ts";
import { decodeMessages, encodeMessage, type Message } from "../../src/message.ts";
import { open, type OpenOptions } from "../../src/open.ts";
import { FakeKernel } from "../../src/testing/mod.ts";
import type { OpenTransport, Transport } from "../../src/transport.ts";
import { Netns } from "./_netns.ts";

/** The namespace's kernel, as a transport factory. */
const kernelOf = (ns: Netns): OpenTransport => (protocol, options) =>
  openTransport(protocol, { ...options, netns: `/run/netns/${ns.name}` });

/** Sends `message` (nlmsg_pid 0 unless given, empty payload unless given) to the kernel. */
function send(t: Transport, message: Partial<Message> & { type: number; flags: number }): void {
  t.send(encodeMessage({ seq: 0, portid: 0, payload: new Uint8Array(0), ...message }), 0, 0);
}

const errnoOf = (m: Message) =>
  -new DataView(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength).getInt32(0, true);

/** The NLMSGERR_ATTR_* types of an ack or NLMSG_DONE, in order. */
function tlvTypes(m: Message): number[] {
  if (!(m.flags & NLM_F_ACK_TLVS)) return [];
  const echoed = m.type === NLMSG_DONE
    ? 0
    : m.flags & NLM_F_CAPPED
    ? NLMSG_HDRLEN
    : new DataView(m.payload.buffer, m.payload.byteOffset).getUint32(4, true);
  const types: number[] = [];
  for (const a = new AttributeDecoder(m.payload.subarray(4 + echoed)); a.next();) {
    types.push(a.type);
  }
  return types;
}

/**
 * One message as a test compares it: type, flags, seq, nlmsg_pid ("self" for the reading
 * socket's port) and, for acks and NLMSG_DONE, the errno, the echoed request's length and the
 * extended-ack attribute types.
 */
function described(m: Message, self: number): string {
  let text = `${m.type} flags=0x${m.flags.toString(16)} seq=${m.seq} pid=${
    m.portid === self ? "self" : m.portid
  }`;
  if (m.type === NLMSG_ERROR || m.type === NLMSG_DONE) {
    text += ` errno=${errnoOf(m)} length=${m.payload.length} tlvs=${tlvTypes(m)}`;
  }
  return text;
}

/**
 * Everything queued for `t`, read until none is left: each datagram as its messages described
 * (runs of alike ones as "×n"), with its group when multicast; a failed read as its errno.
 */
function readAll(t: Transport): string[] {
  const seen: string[] = [];
  for (;;) {
    let datagram;
    try {
      datagram = t.receive();
    } catch (err) {
      if (!(err instanceof SyscallError)) throw err;
      seen.push(err.code);
      continue;
    }
    if (datagram === undefined) return seen;
    const runs: [string, number][] = [];
    for (const m of decodeMessages(datagram.data)) {
      const text = described(m, t.portid);
      if (runs.length && runs[runs.length - 1][0] === text) runs[runs.length - 1][1]++;
      else runs.push([text, 1]);
    }
    const group = datagram.group ? `group ${datagram.group}: ` : "";
    seen.push(group + runs.map(([text, n]) => n > 1 ? `${text} ×${n}` : text).join(" | "));
  }
}

/** Runs `scenario` on the real kernel's sockets, then on the fake's: both outcomes. */
async function both<T>(
  ns: Netns,
  kernel: FakeKernel,
  scenario: (open: OpenTransport, world: "kernel" | "fake") => T | Promise<T>,
): Promise<{ real: T; fake: T }> {
  const real = await scenario(kernelOf(ns), "kernel");
  const fake = await scenario(kernel.open, "fake");
  return { real, fake };
}

/** Opens sockets with `open`, closing them all when disposed. */
function sockets(open: OpenTransport) {
  const opened: Transport[] = [];
  return {
    open(protocol: number): Transport {
      const t = open(protocol, { portid: 0 });
      opened.push(t);
      return t;
    },
    [Symbol.dispose]() {
      for (const t of opened) t.close();
    },
  };
}

/** The parts of a dump of `type` as the real kernel sends them (type and payload). */
function realParts(
  ns: Netns,
  type: number,
  payload: Uint8Array,
): { type: number; payload: Uint8Array }[] {
  const t = kernelOf(ns)(NETLINK_ROUTE, { portid: 0 });
  try {
    send(t, { type, flags: NLM_F_REQUEST | NLM_F_DUMP, seq: 1, payload });
    const parts: { type: number; payload: Uint8Array }[] = [];
    for (let d; (d = t.receive()) !== undefined;) {
      for (const m of decodeMessages(d.data)) {
        if (m.type !== NLMSG_DONE) parts.push({ type: m.type, payload: m.payload.slice() });
      }
    }
    return parts;
  } finally {
    t.close();
  }
}

const rtmsg = () => Uint8Array.of(AF_INET, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
const ROUTES = 3000;

/** A namespace with `ROUTES` host routes on lo, and a fake kernel serving the same dump. */
function routeWorlds(): { ns: Netns; kernel: FakeKernel } {
  const ns = new Netns(
    Array.from({ length: ROUTES }, (_, i) => `route add 198.18.${i >> 8}.${i & 255}/32 dev lo`),
  );
  const parts = realParts(ns, RTM_GETROUTE, rtmsg());
  const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_GETROUTE, () => ({ messages: parts }));
  return { ns, kernel };
}

test("fake vs kernel: a dump's datagrams, and a second dump on the socket while it runs (EBUSY)", async () => {
  const { ns, kernel } = routeWorlds();
  using _ns = ns;
  const { real, fake } = await both(ns, kernel, (open) => {
    using s = sockets(open);
    const t = s.open(NETLINK_ROUTE);
    send(t, { type: RTM_GETROUTE, flags: NLM_F_REQUEST | NLM_F_DUMP, seq: 1, payload: rtmsg() });
    send(t, { type: RTM_GETROUTE, flags: NLM_F_REQUEST | NLM_F_DUMP, seq: 2, payload: rtmsg() });
    return readAll(t);
  });
  // The kernel refuses the second with EBUSY, acked after the first dump's first datagram, and
  // the first goes on.
  assert.match(real[1], new RegExp(`^${NLMSG_ERROR} flags=0x0 seq=2 pid=self errno=16 `));
  assert.match(
    real[real.length - 1],
    new RegExp(`${NLMSG_DONE} flags=0x${NLM_F_MULTI.toString(16)} seq=1 `),
  );
  assert.deepEqual(fake, real);
});

test("fake vs kernel: a dump advances only as it is read: a notification sent meanwhile comes second", async () => {
  const { ns, kernel } = routeWorlds();
  using _ns = ns;
  const { real, fake } = await both(ns, kernel, (open, world) => {
    using s = sockets(open);
    const t = s.open(NETLINK_ROUTE);
    t.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_LINK);
    send(t, { type: RTM_GETROUTE, flags: NLM_F_REQUEST | NLM_F_DUMP, seq: 1, payload: rtmsg() });
    // A link changes while the dump's first datagram waits to be read.
    if (world === "kernel") ns.ip("link", "set", "lo", "alias", "fidelity");
    else {
      kernel.multicast(NETLINK_ROUTE, RTNLGRP_LINK, [
        { type: RTM_NEWLINK, flags: 0, seq: 0, portid: 0, payload: new Uint8Array(16) },
      ]);
    }
    const seen = readAll(t);
    return { at: seen.findIndex((d) => d.startsWith("group")), datagrams: seen.length };
  });
  assert.equal(real.at, 1);
  assert.deepEqual(fake, real);
});

test("fake vs kernel: acks with and without NLM_F_ACK, capped or not, for a doit and a dump", async () => {
  using ns = new Netns();
  const lo = realParts(ns, RTM_GETLINK, new Uint8Array(16)).find((m) =>
    new DataView(m.payload.buffer).getInt32(4, true) === 1
  )!;
  const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_GETLINK, (request) => {
    const index = new DataView(request.payload.buffer, request.payload.byteOffset).getInt32(
      4,
      true,
    );
    if (request.flags & NLM_F_DUMP) return { messages: [lo] };
    return index === 1 ? { messages: [lo] } : { errno: 19 }; // ENODEV
  });
  const ifinfomsg = (index: number) => {
    const payload = new Uint8Array(16);
    new DataView(payload.buffer).setInt32(4, index, true);
    return payload;
  };
  const { real, fake } = await both(ns, kernel, (open) => {
    using s = sockets(open);
    const t = s.open(NETLINK_ROUTE);
    const seen: Record<string, string[]> = {};
    const ask = (name: string, flags: number, index: number) => {
      send(t, {
        type: RTM_GETLINK,
        flags: NLM_F_REQUEST | flags,
        seq: 7,
        payload: ifinfomsg(index),
      });
      seen[name] = readAll(t);
    };
    ask("reply", 0, 1);
    ask("reply, ACK", NLM_F_ACK, 1);
    ask("error", 0, 999);
    ask("error, ACK", NLM_F_ACK, 999);
    ask("dump, ACK", NLM_F_DUMP | NLM_F_ACK, 0);
    t.setOption(SOL_NETLINK, NETLINK_CAP_ACK, 1);
    ask("error, capped", 0, 999);
    ask("reply, ACK, capped", NLM_F_ACK, 1);
    return seen;
  });
  assert.equal(real["reply"].length, 1);
  assert.match(real["error"][0], / errno=19 length=36 /); // the request echoed whole
  assert.match(real["error, capped"][0], / errno=19 length=20 /);
  assert.deepEqual(fake, real);
});

test("fake vs kernel: an extended ack's attributes, their order and flags, with and without NETLINK_EXT_ACK", async () => {
  using ns = new Netns();
  // RTM_NEWLINK with a 2-byte IFLA_MTU: the kernel's policy refuses it, pointing at it.
  const attrs = new AttributeEncoder().string(IFLA_IFNAME, "fid0").bytes(
    IFLA_MTU,
    Uint8Array.of(1, 2),
  )
    .finish();
  const payload = new Uint8Array(16 + attrs.length);
  payload.set(attrs, 16);
  const request = {
    type: RTM_NEWLINK,
    flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE,
    seq: 3,
    payload,
  };
  // What the kernel answers, read once: the fake is given the same text, offset and policy.
  const answer = (() => {
    const t = kernelOf(ns)(NETLINK_ROUTE, { portid: 0 });
    try {
      t.setOption(SOL_NETLINK, NETLINK_EXT_ACK, 1);
      send(t, request);
      return decodeMessages(t.receive()!.data)[0];
    } finally {
      t.close();
    }
  })();
  const ext: Record<number, Uint8Array> = {};
  const echoed = new DataView(answer.payload.buffer, answer.payload.byteOffset).getUint32(4, true);
  for (const a = new AttributeDecoder(answer.payload.subarray(4 + echoed)); a.next();) {
    ext[a.type] = a.bytes().slice();
  }
  const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_NEWLINK, () => ({
    errno: errnoOf(answer),
    ext: {
      message: new TextDecoder().decode(ext[NLMSGERR_ATTR_MSG]).replace(/\0$/, ""),
      offset: new DataView(ext[NLMSGERR_ATTR_OFFS].buffer).getUint32(0, true),
      policy: (nest) => {
        for (const a = new AttributeDecoder(ext[NLMSGERR_ATTR_POLICY]); a.next();) {
          nest.bytes(a.type, a.bytes());
        }
      },
    },
  }));
  const { real, fake } = await both(ns, kernel, (open) => {
    using s = sockets(open);
    const t = s.open(NETLINK_ROUTE);
    send(t, request);
    const without = readAll(t);
    t.setOption(SOL_NETLINK, NETLINK_EXT_ACK, 1);
    send(t, request);
    const withExt = readAll(t);
    t.setOption(SOL_NETLINK, NETLINK_CAP_ACK, 1);
    send(t, request);
    return { without, withExt, capped: readAll(t) };
  });
  const tlvs = [NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS, NLMSGERR_ATTR_POLICY];
  assert.match(real.withExt[0], new RegExp(`tlvs=${tlvs}$`));
  assert.deepEqual(fake, real);
});

test("fake vs kernel: unknown types, control messages and messages that are not requests", async () => {
  using ns = new Netns();
  const kernel = new FakeKernel()
    .serve(NETLINK_ROUTE, RTM_GETLINK, () => ({ messages: [] }))
    .serve(NETLINK_GENERIC, 0x10, () => ({ messages: [] }));
  const { real, fake } = await both(ns, kernel, (open) => {
    using s = sockets(open);
    const route = s.open(NETLINK_ROUTE);
    const generic = s.open(NETLINK_GENERIC);
    const seen: Record<string, string[]> = {};
    const ask = (
      name: string,
      t: Transport,
      message: Partial<Message> & { type: number; flags: number },
    ) => {
      send(t, { seq: 9, payload: new Uint8Array(16), ...message });
      seen[name] = readAll(t);
    };
    ask("route: a type past the last", route, { type: 0x7ff, flags: NLM_F_REQUEST });
    ask("route: a dump of it", route, { type: 0x7ff, flags: NLM_F_REQUEST | NLM_F_DUMP });
    ask("generic: an id no family has", generic, { type: 0x7ff, flags: NLM_F_REQUEST });
    ask("NLMSG_NOOP, ACK", route, { type: NLMSG_NOOP, flags: NLM_F_REQUEST | NLM_F_ACK });
    ask("NLMSG_NOOP", route, { type: NLMSG_NOOP, flags: NLM_F_REQUEST });
    // A control type that reads as a GET ((14 & 3) == 2) is no dump: acked, as request() expects.
    const dumpAck = NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK;
    ask("route: control type 14, DUMP | ACK", route, { type: 14, flags: dumpAck });
    ask("generic: NLMSG_NOOP, DUMP | ACK", generic, { type: NLMSG_NOOP, flags: dumpAck });
    ask("not a request, ACK", route, { type: RTM_GETLINK, flags: NLM_F_ACK });
    ask("not a request", route, { type: RTM_GETLINK, flags: 0 });
    return seen;
  });
  assert.match(real["route: a type past the last"][0], / errno=95 /); // EOPNOTSUPP
  assert.match(real["generic: an id no family has"][0], / errno=2 /); // ENOENT
  for (const name of ["route: control type 14, DUMP | ACK", "generic: NLMSG_NOOP, DUMP | ACK"]) {
    assert.equal(real[name].length, 1, name);
    assert.match(real[name][0], / errno=0 /, name);
  }
  assert.deepEqual(fake, real);
});

test("fake vs kernel: a message too short for the header its protocol reads first is ignored, acked only when it asks", async () => {
  // rtnetlink_rcv_msg returns at once without the family byte (a type up to RTM_MAX),
  // nfnetlink_rcv_msg without a struct nfgenmsg: a dump of it never answers. What they answer:
  // rtnetlink one byte, a type past RTM_MAX; request(), requestBatch() and dump() refuse the rest.
  using ns = new Netns();
  const ctGet = (NFNL_SUBSYS_CTNETLINK << 8) | 1; // IPCTNL_MSG_CT_GET
  const kernel = new FakeKernel()
    .serve(NETLINK_ROUTE, RTM_GETLINK, () => ({ messages: [{ type: RTM_NEWLINK }] })) // lo
    .serve(NETLINK_NETFILTER, ctGet, () => ({ messages: [] }));
  const { real, fake } = await both(ns, kernel, (open) => {
    using s = sockets(open);
    const route = s.open(NETLINK_ROUTE);
    const netfilter = s.open(NETLINK_NETFILTER);
    const seen: Record<string, string[]> = {};
    const ask = (name: string, t: Transport, flags: number, type: number, length: number) => {
      send(t, { type, flags: NLM_F_REQUEST | flags, seq: 9, payload: new Uint8Array(length) });
      seen[name] = readAll(t);
    };
    ask("route: dump, 0 bytes", route, NLM_F_DUMP, RTM_GETLINK, 0);
    ask("route: ACK, 0 bytes", route, NLM_F_ACK, RTM_GETLINK, 0);
    ask("route: dump, 1 byte", route, NLM_F_DUMP, RTM_GETLINK, 1);
    ask("route: a type past the last, 0 bytes", route, NLM_F_DUMP, 0x7ff, 0);
    for (const length of [0, 3, 4]) {
      ask(`netfilter: dump, ${length} bytes`, netfilter, NLM_F_DUMP, ctGet, length);
      ask(
        `netfilter: dump | ACK, ${length} bytes`,
        netfilter,
        NLM_F_DUMP | NLM_F_ACK,
        ctGet,
        length,
      );
    }
    return seen;
  });
  for (
    const name of ["route: dump, 0 bytes", "netfilter: dump, 0 bytes", "netfilter: dump, 3 bytes"]
  ) {
    assert.deepEqual(real[name], [], name);
  }
  assert.equal(real["route: ACK, 0 bytes"].length, 1);
  assert.match(real["route: ACK, 0 bytes"][0], /^2 .* errno=0 /);
  assert.match(real["route: dump, 1 byte"].at(-1)!, /^3 /); // NLMSG_DONE
  assert.match(real["netfilter: dump, 4 bytes"].at(-1)!, /^3 /);
  assert.match(real["route: a type past the last, 0 bytes"][0], / errno=95 /); // EOPNOTSUPP
  assert.deepEqual(fake, real);
});

test("fake vs kernel: conntrack dumps its GET types with any of NLM_F_DUMP's bits, and runs the others as requests", async () => {
  // Each ctnetlink callback decides: a NEW's NLM_F_EXCL (NLM_F_MATCH's bit) is its own, a
  // DELETE flushes, IPCTNL_MSG_CT_GET_STATS answers one message. Which end with NLMSG_DONE.
  using ns = new Netns();
  const types = [
    ...[0, 1, 2, 3, 4, 5, 6, 7].map((m) => (NFNL_SUBSYS_CTNETLINK << 8) | m),
    ...[0, 1, 2, 3].map((m) => (NFNL_SUBSYS_CTNETLINK_EXP << 8) | m),
  ];
  const kernel = new FakeKernel();
  for (const type of types) kernel.serve(NETLINK_NETFILTER, type, () => ({ messages: [] }));
  const { real, fake } = await both(ns, kernel, (open) => {
    using s = sockets(open);
    const t = s.open(NETLINK_NETFILTER);
    const ends: string[] = [];
    for (const type of types) {
      for (const bits of [NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE]) {
        const flags = NLM_F_REQUEST | NLM_F_ACK | bits;
        send(t, { type, flags, seq: 3, payload: new Uint8Array([AF_INET, 0, 0, 0]) });
        const last = readAll(t).at(-1)!;
        ends.push(`${type.toString(16)} 0x${bits.toString(16)}: ${last.replace(/ .*/, "")}`);
      }
    }
    return ends;
  });
  const dumps = real.filter((end) => end.endsWith(": 3")).map((end) => end.split(" ")[0]);
  assert.deepEqual([...new Set(dumps)], ["101", "103", "104", "106", "107", "201", "203"]);
  assert.deepEqual(fake, real);
});

test("fake vs kernel: a datagram that ends in bytes that are no message: the messages before them are done", async () => {
  using ns = new Netns();
  // RTM_GETLINK of ifindex 1 (lo, in both worlds).
  const lo = new Uint8Array(16);
  new DataView(lo.buffer).setInt32(4, 1, true);
  const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_GETLINK, () => ({
    messages: [{ type: RTM_NEWLINK, payload: lo }],
  }));
  const request = (seq: number, length?: number) => {
    const bytes = encodeMessage({
      type: RTM_GETLINK,
      flags: NLM_F_REQUEST | NLM_F_ACK,
      seq,
      portid: 0,
      payload: lo,
    });
    if (length !== undefined) new DataView(bytes.buffer).setUint32(0, length, true);
    return bytes;
  };
  const { real, fake } = await both(ns, kernel, (open) => {
    using s = sockets(open);
    const t = s.open(NETLINK_ROUTE);
    const seen: Record<string, string[]> = {};
    const ask = (name: string, ...parts: Uint8Array[]) => {
      const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((at, p) => (data.set(p, at), at + p.length), 0);
      t.send(data, 0, 0);
      seen[name] = readAll(t).map((d) => d.replace(/ length=\d+/, ""));
    };
    ask("8 bytes after a message", request(1), new Uint8Array(8));
    ask("a message, then one cut short", request(2), request(3).subarray(0, 20));
    ask("a message, then a header with nlmsg_len 8", request(4), request(5, 8));
    ask("an nlmsg_len that is not aligned", request(6, 33), new Uint8Array(4), request(7));
    ask("nothing but a header with nlmsg_len 8", request(8, 8));
    return seen;
  });
  assert.equal(real["8 bytes after a message"].length, 2); // the reply, the ack
  assert.deepEqual(fake, real);
});

test("fake vs kernel: port IDs (autobind, nlmsg_pid of replies) and NLM_F_ECHO", async () => {
  using ns = new Netns();
  const ifaddr = () => {
    const attrs = new AttributeEncoder().bytes(IFA_LOCAL, Uint8Array.of(10, 9, 9, 9))
      .bytes(IFA_ADDRESS, Uint8Array.of(10, 9, 9, 9)).finish();
    const payload = new Uint8Array(8 + attrs.length);
    payload.set([AF_INET, 24, 0, 0]);
    new DataView(payload.buffer).setUint32(4, 1, true); // lo
    payload.set(attrs, 8);
    return payload;
  };
  const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_NEWADDR, (request) => ({
    notify: [{
      group: RTNLGRP_IPV4_IFADDR,
      messages: [{ type: RTM_NEWADDR, payload: request.payload }],
    }],
  }));
  const { real, fake } = await both(ns, kernel, (open) => {
    using s = sockets(open);
    const t = s.open(NETLINK_ROUTE);
    const listener = s.open(NETLINK_ROUTE);
    const ports = { first: t.portid === process.pid, second: listener.portid >= 2 ** 31 };
    t.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_IPV4_IFADDR);
    listener.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_IPV4_IFADDR);
    // nlmsg_pid 0 in the request: the answers carry the socket's port all the same.
    send(t, {
      type: RTM_NEWADDR,
      flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO | NLM_F_CREATE,
      seq: 5,
      portid: 0,
      payload: ifaddr(),
    });
    const requester = readAll(t).map((d) => d.replace(/ length=\d+/, ""));
    const other = readAll(listener).map((d) => d.replace(`pid=${t.portid}`, "pid=requester"));
    return { ports, requester, other };
  });
  assert.deepEqual(real.ports, { first: true, second: true });
  assert.match(
    real.requester[0],
    new RegExp(`^group ${RTNLGRP_IPV4_IFADDR}: ${RTM_NEWADDR} .* seq=5 pid=self$`),
  );
  assert.deepEqual(fake, real);
});

/** The errno a call throws (or the error's name), or "ok". */
function outcome(call: () => unknown): string {
  try {
    call();
    return "ok";
  } catch (err) {
    return err instanceof SyscallError ? err.code : (err as Error).name;
  }
}

test("fake vs kernel: SOL_NETLINK options: the ones netlink has, flags read back as 0 or 1, memberships as a mask", async () => {
  using ns = new Netns();
  const { real, fake } = await both(ns, new FakeKernel(), (open) => {
    using s = sockets(open);
    const get = (t: Transport, name: number) => {
      try {
        return String(t.getOption(SOL_NETLINK, name));
      } catch (err) {
        return err instanceof SyscallError ? err.code : (err as Error).name;
      }
    };
    // Each option on a fresh socket: read, set to 3, read, set to 0, read.
    const options = Array.from({ length: 15 }, (_, name) => {
      const t = s.open(NETLINK_USERSOCK);
      return [
        `${name}: ${get(t, name)}`,
        outcome(() => t.setOption(SOL_NETLINK, name, 3)),
        get(t, name),
        outcome(() => t.setOption(SOL_NETLINK, name, 0)),
        get(t, name),
      ].join(" ");
    });
    const t = s.open(NETLINK_USERSOCK);
    for (const group of [3, 32]) t.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group);
    return { options, memberships: get(t, NETLINK_LIST_MEMBERSHIPS) };
  });
  assert.equal(real.options[NETLINK_EXT_ACK], "11: 0 ok 1 ok 0");
  assert.equal(real.options[NETLINK_LIST_MEMBERSHIPS], "9: 0 ENOPROTOOPT 0 ENOPROTOOPT 0");
  assert.equal(real.options[13], "13: ENOPROTOOPT ENOPROTOOPT ENOPROTOOPT ENOPROTOOPT ENOPROTOOPT");
  assert.deepEqual(fake, real);
});

test("fake vs kernel: multicast groups: 0 and those past the protocol's count are refused (32; route's and generic's have more)", async () => {
  using ns = new Netns();
  // NETLINK_ROUTE's count is the running kernel's RTNLGRP_MAX (36 on Linux 6.1, 39 on 6.18):
  // the first group a join refuses, less one. The fake models that kernel when told its count.
  const routeGroups = (() => {
    using s = sockets(kernelOf(ns));
    const t = s.open(NETLINK_ROUTE);
    let count = 32;
    while (outcome(() => t.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, count + 1)) === "ok") {
      count++;
    }
    return count;
  })();
  assert.ok(routeGroups >= RTNLGRP_MAX, `${routeGroups}`);
  // NETLINK_GENERIC's is the bits of the longs of its group bitmap: 64 on this kernel, 128 on
  // one whose families' groups fill the first long. The fake is told it as routeGroups.
  const genericGroups = (() => {
    using s = sockets(kernelOf(ns));
    const t = s.open(NETLINK_GENERIC);
    let count = 64;
    while (outcome(() => t.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, count + 64)) === "ok") {
      count += 64;
    }
    return count;
  })();
  const kernel = new FakeKernel({ routeGroups, genericGroups });
  const { real, fake } = await both(ns, kernel, (open) => {
    using s = sockets(open);
    const join = (t: Transport, group: number) =>
      outcome(() => t.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group));
    const joins = (protocol: number, groups: number[]) => {
      const t = s.open(protocol);
      return groups.map((g) => `${g} ${join(t, g)}`);
    };
    return {
      usersock: joins(NETLINK_USERSOCK, [0, 1, 32, 33, 64]),
      route: joins(NETLINK_ROUTE, [0, 32, 33, RTNLGRP_MAX, routeGroups, routeGroups + 1, 64]),
      // 64 until its families have more groups (then another 64).
      generic: joins(NETLINK_GENERIC, [33, 64, genericGroups, genericGroups + 1]),
      netfilter: joins(NETLINK_NETFILTER, [32, 33]),
      sockDiag: joins(NETLINK_SOCK_DIAG, [32, 33]),
      uevent: joins(NETLINK_KOBJECT_UEVENT, [1, 33]),
    };
  });
  assert.deepEqual(real.usersock, ["0 EINVAL", "1 ok", "32 ok", "33 EINVAL", "64 EINVAL"]);
  assert.deepEqual(real.netfilter, ["32 ok", "33 EINVAL"]);
  assert.equal(real.generic.at(-1), `${genericGroups + 1} EINVAL`);
  assert.deepEqual(fake, real);
  // Without the count, the fake models these headers' kernel: the groups a newer one added are
  // refused, as that kernel refuses them.
  await using sock = await open(NETLINK_ROUTE, { transport: new FakeKernel().open });
  sock.join(RTNLGRP_MAX);
  assert.throws(() => sock.join(RTNLGRP_MAX + 1), /EINVAL/);
});

test("fake vs kernel: a user-space send to groups: the lowest group alone, the unicast copy tagged with it", async () => {
  using ns = new Netns();
  const { real, fake } = await both(ns, new FakeKernel(), (open) => {
    using s = sockets(open);
    const [sender, peer, of3, of4] = [0, 1, 2, 3].map(() => s.open(NETLINK_USERSOCK));
    for (const t of [peer, of3]) t.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, 3);
    of4.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, 4);
    const datagram = encodeMessage({
      type: 100,
      flags: 0,
      seq: 1,
      portid: 0,
      payload: new Uint8Array(4),
    });
    // netlink_sendmsg takes ffs(nl_groups): group 3 of the mask 3|4. To a port and a group, the
    // port gets the unicast copy (skipped by the multicast) with the group in NETLINK_PKTINFO.
    const toGroups = outcome(() => sender.send(datagram, 0, (1 << 2) | (1 << 3)));
    const afterMask = { of3: readAll(of3), of4: readAll(of4), peer: readAll(peer) };
    sender.send(datagram, peer.portid, 1 << 2);
    const afterPort = { peer: readAll(peer), of3: readAll(of3), of4: readAll(of4) };
    return { toGroups, afterMask, afterPort };
  });
  assert.deepEqual(real.afterPort.peer, ["group 3: 100 flags=0x0 seq=1 pid=0"]);
  assert.deepEqual(real.afterMask.of4, []);
  assert.deepEqual(fake, real);
});

/** net.core.NAME in the namespace `ns`. */
function coreSysctl(ns: Netns, name: string): number {
  return Number(
    execFileSync("ip", ["netns", "exec", ns.name, "cat", `/proc/sys/net/core/${name}`], {
      encoding: "utf8",
    }),
  );
}

/**
 * A buffer's size as `option` reads it, first as it is, then after each of these sets: `option`
 * to 1, 5000 and 2^30, and `forced` (its FORCE twin) to 2^30 and -1.
 */
function bufferSizes(t: Transport, option: number, forced: number): number[] {
  const sizes = [t.getOption(SOL_SOCKET, option)];
  for (
    const [name, value] of [[option, 1], [option, 5000], [option, 2 ** 30], [forced, 2 ** 30], [
      forced,
      -1,
    ]]
  ) {
    t.setOption(SOL_SOCKET, name, value);
    sizes.push(t.getOption(SOL_SOCKET, option));
  }
  return sizes;
}

test("fake vs kernel: SO_RCVBUF and SO_RCVBUFFORCE size the receive buffer (doubled, capped, a minimum)", async () => {
  using ns = new Netns();
  const kernel = new FakeKernel({
    receiveBufferSize: coreSysctl(ns, "rmem_default"),
    receiveBufferMax: coreSysctl(ns, "rmem_max"),
  });
  const { real, fake } = await both(ns, kernel, (open) => {
    using s = sockets(open);
    const t = s.open(NETLINK_USERSOCK);
    const sizes = bufferSizes(t, SO_RCVBUF, SO_RCVBUFFORCE);
    return sizes;
  });
  assert.deepEqual(real.slice(2, 3), [10000]);
  assert.deepEqual(fake, real);
});

test("fake vs kernel: SO_SNDBUF and SO_SNDBUFFORCE size the send buffer; a datagram past it less 32 bytes is EMSGSIZE", async () => {
  using ns = new Netns();
  const kernel = new FakeKernel({
    sendBufferSize: coreSysctl(ns, "wmem_default"),
    sendBufferMax: coreSysctl(ns, "wmem_max"),
  });
  const { real, fake } = await both(ns, kernel, (open) => {
    using s = sockets(open);
    const t = s.open(NETLINK_USERSOCK);
    const sizes = bufferSizes(t, SO_SNDBUF, SO_SNDBUFFORCE);
    // The least (4608 bytes): a datagram to this very socket of 4576 bytes goes, of 4580 not.
    const sends = [4576, 4580].map((length) => {
      const datagram = new Uint8Array(length);
      new DataView(datagram.buffer).setUint32(0, length, true); // one message, type 0
      return `${length} ${outcome(() => t.send(datagram, t.portid, 0))}`;
    });
    return { sizes, sends };
  });
  assert.deepEqual(real.sizes.slice(1, 3), [4608, 10000]);
  assert.deepEqual(real.sends, ["4576 ok", "4580 EMSGSIZE"]);
  assert.deepEqual(fake, real);
});

test("fake vs kernel: after close, a socket's calls fail and its port is free again", async () => {
  using ns = new Netns();
  const { real, fake } = await both(ns, new FakeKernel(), (open) => {
    using s = sockets(open);
    const t = s.open(NETLINK_USERSOCK);
    const peer = s.open(NETLINK_USERSOCK);
    const port = t.portid;
    t.close();
    return {
      send: outcome(() => t.send(new Uint8Array(16), 0, 0)),
      receive: outcome(() => t.receive()),
      setOption: outcome(() => t.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, 1)),
      toIt: outcome(() => peer.send(new Uint8Array(16), port, 0)),
      rebind: outcome(() => open(NETLINK_USERSOCK, { portid: port }).close()),
    };
  });
  assert.equal(real.toIt, "ECONNREFUSED");
  assert.deepEqual(fake, real);
});

for (const size of [20, 1000]) {
  test(`fake vs kernel: a multicast flood of ${size}-byte datagrams overruns a small receive buffer: ENOBUFS, then nothing until read empty`, async () => {
    using ns = new Netns();
    const { real, fake } = await both(ns, new FakeKernel(), (open) => {
      using s = sockets(open);
      const rx = s.open(NETLINK_USERSOCK);
      const quiet = s.open(NETLINK_USERSOCK);
      const tx = s.open(NETLINK_USERSOCK);
      for (const t of [rx, quiet]) {
        t.setOption(SOL_SOCKET, SO_RCVBUF, 4096);
        t.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, 1);
      }
      quiet.setOption(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1);
      const flood = (from: number, n: number, to = 0, group = 1) => {
        for (let seq = from; seq < from + n; seq++) {
          const message = {
            type: 0x10,
            flags: 0,
            seq,
            portid: 0,
            payload: new Uint8Array(size - 16),
          };
          const sent = outcome(() =>
            tx.send(encodeMessage(message), to, to ? 0 : 1 << (group - 1))
          );
          // A multicast to port 0 of NETLINK_USERSOCK is delivered, then refused: nothing in the
          // kernel serves the protocol.
          if (sent !== "ok" && !(to === 0 && sent === "ECONNREFUSED")) return `${sent} at ${seq}`;
        }
        return "ok";
      };
      const seqs = (t: Transport) =>
        readAll(t).map((d) => d.replace(/^group 1: \d+ flags=0x0 seq=(\d+) .*/, "$1"));
      flood(0, 40);
      const overrun = seqs(rx);
      const noENOBUFS = seqs(quiet);
      flood(40, 5);
      const after = seqs(rx);
      // A user-space sender to a full peer's port gets EAGAIN; the peer sees no overrun.
      const unicast = flood(100, 40, rx.portid);
      return { overrun, noENOBUFS, after, unicast, left: seqs(rx).length };
    });
    assert.equal(real.overrun[0], "ENOBUFS");
    assert.ok(!real.noENOBUFS.includes("ENOBUFS"));
    assert.match(real.unicast, /^EAGAIN at /);
    assert.deepEqual(fake, real);
  });
}

test("fake vs kernel: request() with NLM_F_ECHO and nlmsg_pid 0 resolves with the echoed notification", async () => {
  using ns = new Netns();
  const attrs = new AttributeEncoder().bytes(IFA_LOCAL, Uint8Array.of(10, 8, 8, 8)).finish();
  const payload = new Uint8Array(8 + attrs.length);
  payload.set([AF_INET, 32, 0, 0]);
  new DataView(payload.buffer).setUint32(4, 1, true); // lo
  payload.set(attrs, 8);
  const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_NEWADDR, (request) => ({
    notify: [{
      group: RTNLGRP_IPV4_IFADDR,
      messages: [{ type: RTM_NEWADDR, payload: request.payload }],
    }],
  }));
  const echoed = async (options: OpenOptions) => {
    await using sock = await open(NETLINK_ROUTE, options);
    const replies = await sock.request(
      { type: RTM_NEWADDR, flags: NLM_F_CREATE | NLM_F_ECHO, portid: 0, payload },
      { timeout: 5000 },
    );
    return replies.map((m) => `${m.type} pid-is-socket=${m.portid === sock.portid}`);
  };
  const real = await echoed({ netns: ns.name });
  const fake = await echoed({ transport: kernel.open });
  assert.deepEqual(real, [`${RTM_NEWADDR} pid-is-socket=true`]);
  assert.deepEqual(fake, real);
});

test("fake vs kernel: a reply the kernel cannot queue is dropped: ENOBUFS, and nothing until read empty", async () => {
  using ns = new Netns();
  const lo = realParts(ns, RTM_GETLINK, new Uint8Array(16))[0];
  const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_GETLINK, () => ({ messages: [lo] }));
  const ifinfomsg = new Uint8Array(16);
  new DataView(ifinfomsg.buffer).setInt32(4, 1, true); // lo
  const { real, fake } = await both(ns, kernel, (open, world) => {
    using s = sockets(open);
    const t = s.open(NETLINK_ROUTE);
    t.setOption(SOL_SOCKET, SO_RCVBUF, 1); // the least: one link message fills it
    t.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_LINK);
    for (const alias of ["a", "b"]) {
      if (world === "kernel") ns.ip("link", "set", "lo", "alias", alias);
      else kernel.multicast(NETLINK_ROUTE, RTNLGRP_LINK, [{ ...lo, flags: 0, seq: 0, portid: 0 }]);
    }
    const ask = () => {
      send(t, { type: RTM_GETLINK, flags: NLM_F_REQUEST, seq: 4, payload: ifinfomsg });
      return readAll(t).map((d) => d.replace(/^group \d+: .*/, "notification"));
    };
    return { full: ask(), after: ask() };
  });
  assert.deepEqual(real.full, ["ENOBUFS", "notification"]);
  assert.equal(real.after.length, 1);
  assert.match(real.after[0], new RegExp(`^${RTM_NEWLINK} flags=0x0 seq=4 pid=self$`));
  assert.deepEqual(fake, real);
});

test("fake vs kernel: which units a socket opens on (EPROTONOSUPPORT for one no module registered)", async () => {
  // The fake opened a socket of any unit. The kernel's own units open; the others (module units
  // not loaded, numbers no unit has) are refused.
  using ns = new Netns();
  const { real, fake } = await both(
    ns,
    new FakeKernel(),
    (open) =>
      Array.from(
        { length: 32 },
        (_, unit) => `${unit} ${outcome(() => open(unit, { portid: 0 }).close())}`,
      ),
  );
  assert.equal(real[30], "30 EPROTONOSUPPORT");
  assert.deepEqual(fake, real);
});

test("fake vs kernel: nlctrl's CTRL_CMD_GETFAMILY and CTRL_CMD_GETPOLICY answers (get by name or id, dump, errors), for families registered as the host has them", async () => {
  // The fake had no controller: a test resolving a family wrote nlctrl's replies by hand.
  // Every family of the host's nlctrl is registered in the fake as resolveFamily() reads it
  // (ids and group numbers as the host's), and the same requests must get the same bytes.
  const host = openTransport(NETLINK_GENERIC, { portid: 0 });
  const kernel = new FakeKernel();
  try {
    const hostSocket = await open(NETLINK_GENERIC);
    try {
      const dump = await hostSocket.request({
        type: GENL_ID_CTRL,
        flags: NLM_F_DUMP,
        payload: encodeGeneric(CTRL_CMD_GETFAMILY, 1),
      });
      for (const reply of dump) {
        const family = decodeFamily(reply);
        if (family.name === "nlctrl") continue;
        // With its policies as resolvePolicy() reads them (none: ENODATA), which the fake's
        // CTRL_CMD_GETPOLICY must tell as the host's does, byte for byte.
        const policy = await resolvePolicy(hostSocket, family.name).catch((err: unknown) => {
          if (err instanceof NetlinkError && err.code === "ENODATA") return undefined;
          throw err;
        });
        kernel.registerFamily(policy === undefined ? family : { ...family, policy });
      }
    } finally {
      await hostSocket.close();
    }
  } finally {
    host.close();
  }
  const name = (n: string) => new AttributeEncoder().string(CTRL_ATTR_FAMILY_NAME, n).finish();
  /** nlctrl's id, then a name if given (nlctrl's GETPOLICY goes by the id). */
  const ctrlId = (alsoName?: string) => {
    const attrs = new AttributeEncoder().u16(CTRL_ATTR_FAMILY_ID, GENL_ID_CTRL);
    return (alsoName === undefined ? attrs : attrs.string(CTRL_ATTR_FAMILY_NAME, alsoName))
      .finish();
  };
  /** `attrs` and CTRL_ATTR_OP `command`. */
  const op = (attrs: Uint8Array, command: number) => {
    const opAttr = new AttributeEncoder().u32(CTRL_ATTR_OP, command).finish();
    const both = new Uint8Array(attrs.length + opAttr.length);
    both.set(attrs);
    both.set(opAttr, attrs.length);
    return both;
  };
  using ns = new Netns();
  const { real, fake } = await both(ns, kernel, (openIn, world) => {
    // nlctrl shows a non-netnsok family only in the initial namespace: ask there.
    const t = world === "kernel"
      ? openTransport(NETLINK_GENERIC, { portid: 0 })
      : openIn(NETLINK_GENERIC, { portid: 0 });
    try {
      t.setOption(SOL_NETLINK, NETLINK_EXT_ACK, 1);
      const ask = (flags: number, body: Uint8Array, command = CTRL_CMD_GETFAMILY) => {
        const payload = encodeGeneric(command, 1, body);
        send(t, { type: GENL_ID_CTRL, flags: NLM_F_REQUEST | flags, seq: 9, payload });
        const seen: string[] = [];
        for (let d; (d = t.receive()) !== undefined;) {
          seen.push(
            decodeMessages(d.data).map((m) =>
              `${described(m, t.portid)} ${
                Array.from(m.payload, (b) => b.toString(16).padStart(2, "0")).join("")
              }`
            ).join(" | "),
          );
        }
        return seen;
      };
      return {
        nlctrl: ask(0, name("nlctrl")),
        ethtool: ask(NLM_F_ACK, name("ethtool")),
        byId: ask(0, new AttributeEncoder().u16(CTRL_ATTR_FAMILY_ID, GENL_ID_CTRL).finish()),
        both: ask(
          0,
          new AttributeEncoder().u16(CTRL_ATTR_FAMILY_ID, GENL_ID_CTRL)
            .string(CTRL_ATTR_FAMILY_NAME, "ethtool").finish(),
        ),
        unknown: ask(NLM_F_ACK, name("ethtoll")),
        unknownId: ask(0, new AttributeEncoder().u16(CTRL_ATTR_FAMILY_ID, 1000).finish()),
        neither: ask(0, new Uint8Array(0)),
        tooLong: ask(0, name("a-name-of-16-byte")),
        command: ask(NLM_F_ACK, new Uint8Array(0), 99),
        dump: ask(NLM_F_DUMP, new Uint8Array(0)),
        // CTRL_CMD_GETPOLICY: nlctrl's own policies, whole or per operation (GETPOLICY's, which
        // has no doit, nested by command 0), and the errors; a family with no policy (ENODATA).
        policy: ask(NLM_F_DUMP, name("nlctrl"), CTRL_CMD_GETPOLICY),
        policyById: ask(NLM_F_DUMP, ctrlId(), CTRL_CMD_GETPOLICY),
        policyGetFamily: ask(
          NLM_F_DUMP,
          op(name("nlctrl"), CTRL_CMD_GETFAMILY),
          CTRL_CMD_GETPOLICY,
        ),
        policyGetPolicy: ask(
          NLM_F_DUMP,
          op(name("nlctrl"), CTRL_CMD_GETPOLICY),
          CTRL_CMD_GETPOLICY,
        ),
        policyNoSuchOp: ask(NLM_F_DUMP, op(name("nlctrl"), 1), CTRL_CMD_GETPOLICY),
        policyIdOverName: ask(NLM_F_DUMP, op(ctrlId("ethtool"), 3), CTRL_CMD_GETPOLICY),
        policyUnknown: ask(NLM_F_DUMP, name("ethtoll"), CTRL_CMD_GETPOLICY),
        policyUnknownId: ask(
          NLM_F_DUMP,
          new AttributeEncoder().u16(CTRL_ATTR_FAMILY_ID, 1000).finish(),
          CTRL_CMD_GETPOLICY,
        ),
        policyNeither: ask(NLM_F_DUMP, new Uint8Array(0), CTRL_CMD_GETPOLICY),
        policyTooLong: ask(NLM_F_DUMP, name("a-name-of-16-byte"), CTRL_CMD_GETPOLICY),
        policyNotDumped: ask(NLM_F_ACK, name("nlctrl"), CTRL_CMD_GETPOLICY),
        policyNone: ask(NLM_F_DUMP, name("acpi_event"), CTRL_CMD_GETPOLICY),
        // A registered family's (their `policy`): ethtool's nest its header's policy; the whole
        // family (a dump of several datagrams) and one command (its policies numbered afresh).
        policyEthtool: ask(NLM_F_DUMP, name("ethtool"), CTRL_CMD_GETPOLICY),
        policyEthtoolOp: ask(NLM_F_DUMP, op(name("ethtool"), 3), CTRL_CMD_GETPOLICY),
        policyNetdev: ask(NLM_F_DUMP, name("netdev"), CTRL_CMD_GETPOLICY),
      };
    } finally {
      t.close();
    }
  });
  assert.match(real.ethtool[0], /657468746f6f6c/); // the family's name, in its reply
  assert.match(real.unknown[0], /errno=2 /);
  assert.ok(real.dump.join().split(" | ").length > 3, "the host has families to dump");
  // nlctrl's two operations, its policies' five attributes, NLMSG_DONE.
  assert.equal(real.policy.join(" | ").split(" | ").length, 8);
  assert.match(real.policyNone.at(-1)!, /errno=61 /);
  assert.ok(real.policyEthtool.length > 1, "ethtool's policies take several datagrams");
  for (const [key, value] of Object.entries(fake)) {
    assert.deepEqual(value, real[key as keyof typeof real], key);
  }
  assert.deepEqual(fake, real);
});
