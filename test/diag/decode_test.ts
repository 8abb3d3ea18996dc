// Decoders and request encoders without the kernel: synthetic replies built from the generated
// layouts, structs shorter and longer than these headers', truncated messages.

import assert from "node:assert/strict";
import { test } from "node:test";
import { AttributeEncoder } from "../../src/attribute.ts";
import { NETLINK_SOCK_DIAG } from "../../src/constants.ts";
import {
  INET_DIAG_BBRINFO,
  INET_DIAG_INFO,
  INET_DIAG_REQ_BYTECODE,
  INET_DIAG_REQ_PROTOCOL,
  INET_DIAG_SKMEMINFO,
  INET_DIAG_ULP_INFO,
  INET_ULP_INFO_NAME,
  NETLINK_DIAG_GROUPS,
  OFFSETOF_INET_DIAG_MSG_ID,
  OFFSETOF_INET_DIAG_SOCKID_IDIAG_COOKIE,
  OFFSETOF_INET_DIAG_SOCKID_IDIAG_DPORT,
  OFFSETOF_INET_DIAG_SOCKID_IDIAG_DST,
  OFFSETOF_INET_DIAG_SOCKID_IDIAG_SPORT,
  OFFSETOF_INET_DIAG_SOCKID_IDIAG_SRC,
  SIZEOF_INET_DIAG_MSG,
  SIZEOF_INET_DIAG_REQ_V2,
  SIZEOF_NETLINK_DIAG_MSG,
  SIZEOF_UNIX_DIAG_MSG,
  SOCK_DIAG_BY_FAMILY,
  TCP_INFO_LAYOUT,
  UNIX_DIAG_NAME,
} from "../../src/diag/_constants.ts";
import { decodeStruct } from "../../src/diag/_struct.ts";
import {
  compileFilter,
  decodeInetSocket,
  decodeNetlinkSocket,
  decodePacketSocket,
  decodeUnixSocket,
  encodeInetRequests,
  encodeNetlinkRequest,
  encodeUnixRequest,
  inetSockets,
  netlinkSockets,
  packetSockets,
  stateMask,
  stateName,
  stateNumber,
  unixSockets,
} from "../../src/diag/mod.ts";
import type { TcpInfo } from "../../src/diag/mod.ts";
import { MalformedMessageError, NetlinkError } from "../../src/errors.ts";
import { open } from "../../src/open.ts";
import { FakeKernel } from "../../src/testing/mod.ts";

const concat = (a: Uint8Array, b: Uint8Array) => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

/** An inet_diag_msg for IPv6 [2001:db8::1]:443 -> [::ffff:10.0.0.1]:50000, cookie 2^32 + 5. */
function inetMessage(attrs: Uint8Array = new Uint8Array(0)): Uint8Array {
  const msg = new Uint8Array(SIZEOF_INET_DIAG_MSG);
  const view = new DataView(msg.buffer);
  msg[0] = 10; // AF_INET6
  msg[1] = 1; // established
  const id = OFFSETOF_INET_DIAG_MSG_ID;
  view.setUint16(id + OFFSETOF_INET_DIAG_SOCKID_IDIAG_SPORT, 443, false);
  view.setUint16(id + OFFSETOF_INET_DIAG_SOCKID_IDIAG_DPORT, 50000, false);
  msg.set(
    [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1],
    id + OFFSETOF_INET_DIAG_SOCKID_IDIAG_SRC,
  );
  msg.set(
    [...new Array(10).fill(0), 0xff, 0xff, 10, 0, 0, 1],
    id + OFFSETOF_INET_DIAG_SOCKID_IDIAG_DST,
  );
  view.setUint32(id + OFFSETOF_INET_DIAG_SOCKID_IDIAG_COOKIE, 5, true);
  view.setUint32(id + OFFSETOF_INET_DIAG_SOCKID_IDIAG_COOKIE + 4, 1, true);
  return concat(msg, attrs);
}

test("an inet reply decodes: addresses as text, ports in network order, the cookie whole", () => {
  const s = decodeInetSocket(inetMessage(), 6);
  assert.equal(s.state, "established");
  assert.deepEqual(s.local, { address: "2001:db8::1", port: 443 });
  assert.deepEqual(s.peer, { address: "::ffff:10.0.0.1", port: 50000 });
  assert.equal(s.cookie, 2 ** 32 + 5);
  assert.equal(s.family, "inet6");
  assert.equal(s.protocol, 6);
  assert.equal(s.tcpInfo, undefined);
});

test("BBR's info: bbr_bw_lo and bbr_bw_hi are one number, bw; the gains as factors, as ss prints them", () => {
  const bbr = new Uint8Array(20);
  const view = new DataView(bbr.buffer);
  view.setUint32(0, 5, true); // bbr_bw_lo
  view.setUint32(4, 3, true); // bbr_bw_hi
  view.setUint32(8, 61, true); // bbr_min_rtt
  view.setUint32(12, 320, true); // bbr_pacing_gain
  view.setUint32(16, 512, true); // bbr_cwnd_gain
  const attrs = new AttributeEncoder().bytes(INET_DIAG_BBRINFO, bbr).finish();
  const s = decodeInetSocket(inetMessage(attrs), 6);
  assert.deepEqual(s.bbr, { bw: 3 * 2 ** 32 + 5, minRtt: 61, pacingGain: 1.25, cwndGain: 2 });
  assert.equal(JSON.stringify(s.cookie), String(2 ** 32 + 5));
});

test("tcp_info shorter than these headers' decodes what it has; a longer one ignores the rest", () => {
  const full = new Uint8Array(TCP_INFO_LAYOUT.size + 24); // a newer kernel's, 24 bytes longer
  const view = new DataView(full.buffer);
  full[0] = 1; // state
  full[6] = 0x97; // snd_wscale 7 (low nibble), rcv_wscale 9
  full[7] = 0b101; // delivery_rate_app_limited 1, fastopen_client_fail 2
  const field = (name: string) =>
    TCP_INFO_LAYOUT.fields.find((f) => f.name === name) as { offset: number };
  view.setUint32(field("rtt").offset, 1234, true);
  view.setBigUint64(field("bytesAcked").offset, 1n << 40n, true);
  view.setUint32(field("sndWnd").offset, 65536, true);
  const long = decodeStruct<TcpInfo>(TCP_INFO_LAYOUT, full);
  assert.equal(long.state, 1);
  assert.equal(long.sndWscale, 7);
  assert.equal(long.rcvWscale, 9);
  assert.equal(long.deliveryRateAppLimited, 1);
  assert.equal(long.fastopenClientFail, 2);
  assert.equal(long.rtt, 1234);
  assert.equal(long.bytesAcked, 2 ** 40);
  assert.equal(long.sndWnd, 65536);

  // Linux 4.x's struct ended after tcpi_total_retrans: later members are absent, not zero.
  const short = decodeStruct<TcpInfo>(
    TCP_INFO_LAYOUT,
    full.subarray(0, field("pacingRate").offset),
  );
  assert.equal(short.rtt, 1234);
  assert.equal("pacingRate" in short, false);
  assert.equal("sndWnd" in short, false);

  const s = decodeInetSocket(
    inetMessage(new AttributeEncoder().bytes(INET_DIAG_INFO, full).finish()),
    6,
  );
  assert.equal(s.tcpInfo!.rtt, 1234);
});

test("SK_MEMINFO with fewer counters than these headers know gives those it has", () => {
  const memory = new Uint8Array(4 * 4);
  new DataView(memory.buffer).setUint32(4, 212992, true);
  const attrs = new AttributeEncoder().bytes(INET_DIAG_SKMEMINFO, memory)
    .nested(INET_DIAG_ULP_INFO, (ulp) => ulp.string(INET_ULP_INFO_NAME, "tls")).finish();
  const s = decodeInetSocket(inetMessage(attrs), 6);
  assert.deepEqual(s.memory, { rmemAlloc: 0, rcvbuf: 212992, wmemAlloc: 0, sndbuf: 0 });
  assert.equal(s.ulp, "tls");
});

test("truncated replies are MalformedMessageError", () => {
  assert.throws(() => decodeInetSocket(new Uint8Array(10), 6), MalformedMessageError);
  assert.throws(() => decodeUnixSocket(new Uint8Array(3)), MalformedMessageError);
  assert.throws(() => decodeNetlinkSocket(new Uint8Array(27)), MalformedMessageError);
  assert.throws(() => decodePacketSocket(new Uint8Array(0)), MalformedMessageError);
  // A bad attribute after a good header too.
  assert.throws(
    () => decodeInetSocket(inetMessage(Uint8Array.of(2, 0, 1, 0)), 6),
    MalformedMessageError,
  );
});

test("unix names: a path without its NUL, an abstract name with @ for each NUL", () => {
  const named = (name: Uint8Array) =>
    decodeUnixSocket(
      concat(
        new Uint8Array(SIZEOF_UNIX_DIAG_MSG),
        new AttributeEncoder().bytes(UNIX_DIAG_NAME, name).finish(),
      ),
    );
  const path = named(new TextEncoder().encode("/run/x.sock\0"));
  assert.equal(path.path, "/run/x.sock");
  const abstract = named(Uint8Array.of(0, 0x61, 0, 0x62));
  assert.equal(abstract.path, "@a@b");
  assert.deepEqual(abstract.name, Uint8Array.of(0, 0x61, 0, 0x62));
});

test("netlink groups: bit N of the bitmap is group N + 1", () => {
  const bitmap = new Uint8Array(8);
  bitmap[0] = 0b1001; // groups 1 and 4
  bitmap[7] = 0x80; // group 64
  const msg = concat(
    new Uint8Array(SIZEOF_NETLINK_DIAG_MSG),
    new AttributeEncoder().bytes(NETLINK_DIAG_GROUPS, bitmap).finish(),
  );
  assert.deepEqual(decodeNetlinkSocket(msg).groups, [1, 4, 64]);
});

test("a netlink reply's header: protocol, type, port IDs, group, inode, cookie, state", () => {
  const msg = new Uint8Array(SIZEOF_NETLINK_DIAG_MSG);
  const view = new DataView(msg.buffer);
  msg.set([16, 2, 15, 1]); // AF_NETLINK, SOCK_DGRAM, NETLINK_KOBJECT_UEVENT, connected
  view.setUint32(4, 77, true); // ndiag_portid
  view.setUint32(8, 88, true); // ndiag_dst_portid
  view.setUint32(12, 2, true); // ndiag_dst_group
  view.setUint32(16, 12345, true); // ndiag_ino
  view.setUint32(20, 9, true); // ndiag_cookie[0]
  assert.deepEqual(decodeNetlinkSocket(msg), {
    protocol: 15,
    type: "dgram",
    portid: 77,
    peerPortid: 88,
    peerGroup: 2,
    inode: 12345,
    cookie: 9,
    state: "established",
  });
});

test("states by name, ss's groups as ss defines them, unknown numbers named", () => {
  assert.equal(stateNumber("established"), 1);
  assert.equal(stateNumber("listen"), 10);
  assert.equal(stateName(12), "new-syn-recv");
  assert.equal(stateName(13), "state-13");
  const bits = (...codes: number[]) => codes.reduce((m, c) => m | (1 << c), 0);
  assert.equal(stateMask(["all"]), bits(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12));
  assert.equal(stateMask(["connected"]), bits(1, 2, 3, 4, 5, 6, 8, 9, 11, 12));
  assert.equal(stateMask(["synchronized"]), bits(1, 3, 4, 5, 6, 8, 9, 11, 12));
  assert.equal(stateMask(["bucket"]), bits(3, 6));
  assert.equal(stateMask(["big"]), bits(1, 2, 4, 5, 7, 8, 9, 10, 11, 12));
  assert.equal(stateMask(["listen", "time-wait"]), bits(6, 10));
  assert.throws(
    () => stateMask(["LISTEN" as never]),
    /unknown socket state "LISTEN"; states are established/,
  );
  // A state as ss prints it (ESTAB, UNCONN) or as its filter takes it (listening).
  for (
    const [given, ours] of [["ESTAB", "established"], ["UNCONN", "close"], ["listening", "listen"]]
  ) {
    assert.throws(
      () => stateMask([given as never]),
      new RegExp(`unknown socket state "${given}"; .* \\(did you mean "${ours}"\\?\\)$`),
    );
  }
  assert.throws(() => stateNumber("toString" as never), /unknown socket state/);
  // What is no string is shown as it is (JSON.stringify made a Symbol "undefined").
  assert.throws(() => stateNumber(Symbol("x") as never), /unknown socket state Symbol\(x\);/);
  assert.throws(() => stateMask(Symbol("x") as never), /list of state names, got Symbol\(x\)/);
  // JSON.stringify in the error threw for a bigint; stateName() named anything "state-x".
  assert.throws(() => stateNumber(10n as never), /^TypeError: unknown socket state 10n;/);
  assert.throws(
    () => stateMask(10n as never),
    /^TypeError: states must be a list of state names, got 10n$/,
  );
  for (const bad of ["x", NaN, -1, 256, 1.5, Symbol("s")]) {
    // An integer out of range a RangeError, anything else a TypeError: the one rule.
    assert.throws(
      () => stateName(bad as never),
      new RegExp(
        `^${
          Number.isInteger(bad) ? "Range" : "Type"
        }Error: stateName\\(\\): .* is no state number \\(0 to 255\\)$`,
      ),
    );
  }
});

test("inet requests: one per family, protocol, states, extensions and bytecode as asked", () => {
  const [v4, v6] = encodeInetRequests({
    protocol: "udp",
    states: ["close"],
    info: true,
    memory: true,
  });
  assert.deepEqual([v4[0], v4[1], v6[0]], [2, 17, 10]);
  // MEMINFO, INFO, VEGASINFO, CONG, TOS, TCLASS, SKMEMINFO, SHUTDOWN: all eight bits.
  assert.equal(v4[2], 0xff);
  assert.equal(new DataView(v4.buffer).getUint32(4, true), 1 << 7);
  assert.equal(v4.length, SIZEOF_INET_DIAG_REQ_V2);
  const plain = encodeInetRequests({ family: "inet" });
  assert.equal(plain.length, 1);
  assert.equal(plain[0][2], 0b1011_0000, "TOS, TCLASS and SHUTDOWN only");

  const [filtered] = encodeInetRequests({ family: "inet", filter: { sport: 22 } });
  const view = new DataView(filtered.buffer);
  assert.equal(view.getUint16(SIZEOF_INET_DIAG_REQ_V2 + 2, true), INET_DIAG_REQ_BYTECODE);
  assert.equal(view.getUint16(SIZEOF_INET_DIAG_REQ_V2, true), 4 + 16);

  const [mptcp] = encodeInetRequests({ family: "inet", protocol: "mptcp" });
  const m = new DataView(mptcp.buffer);
  assert.equal(mptcp[1], 6, "IPPROTO_TCP in the header, as ss sends it");
  assert.equal(m.getUint16(SIZEOF_INET_DIAG_REQ_V2 + 2, true), INET_DIAG_REQ_PROTOCOL);
  assert.equal(m.getUint32(SIZEOF_INET_DIAG_REQ_V2 + 4, true), 262);

  const [raw] = encodeInetRequests({ family: "inet", protocol: "raw" });
  assert.deepEqual([raw[1], raw[3]], [255, 255], "IPPROTO_RAW; sdiag_raw_protocol too");
});

test("unix and netlink requests ask for what the decoders read", () => {
  const unix = new DataView(encodeUnixRequest({ states: ["listen"] }).buffer);
  assert.equal(unix.getUint8(0), 1);
  assert.equal(unix.getUint32(4, true), 1 << 10);
  assert.equal(unix.getUint32(12, true), 0x7f, "name, vfs, peer, icons, rqlen, meminfo, uid");
  const netlink = encodeNetlinkRequest({ protocol: 0 });
  assert.deepEqual([netlink[0], netlink[1]], [16, 0]);
  assert.equal(encodeNetlinkRequest()[1], 255, "NDIAG_PROTO_ALL");
});

test("a misspelt query key is refused, naming the closest one, before any socket is opened", async () => {
  // A socket of the wrong protocol would be refused once a query reached it: none does.
  const socket = { protocol: -1 } as never;
  assert.throws(
    () => encodeInetRequests({ state: ["listen"] } as never),
    /inet query: unknown option "state" \(did you mean "states"\?\)/,
  );
  await assert.rejects(inetSockets({ protocl: "tcp", socket } as never), /did you mean "protocol"/);
  await assert.rejects(netlinkSockets({ protocols: 0, socket } as never), /netlink query/);
  await assert.rejects(unixSockets({ netNs: "x", socket } as never), /did you mean "netns"/);
  await assert.rejects(packetSockets({ timout: 5, socket } as never), /did you mean "timeout"/);
  assert.equal(encodeInetRequests({ protocol: "tcp", netns: undefined }).length, 2);
});

test("info and memory must be booleans: a string such as \"no\" is refused, not taken as true", async () => {
  const socket = { protocol: -1 } as never;
  for (const key of ["info", "memory"]) {
    for (const value of ["no", 0, 1, null]) {
      assert.throws(
        () => encodeInetRequests({ [key]: value } as never),
        (e: unknown) =>
          e instanceof TypeError
          && e.message.startsWith(
            value === null
              ? `inet query: ${key} is null`
              : `inet query: ${key} must be a boolean, got `,
          ),
        `${key}: ${JSON.stringify(value)}`,
      );
    }
    await assert.rejects(inetSockets({ [key]: "no", socket } as never), TypeError);
  }
  const [plain] = encodeInetRequests({ info: false, memory: false });
  const [asked] = encodeInetRequests({ info: true, memory: true });
  assert.notDeepEqual(plain, asked);
});

test("filter and protocol numbers given as strings are shown quoted in the error", () => {
  const cases: [() => unknown, string][] = [
    [() => compileFilter({ dport: { ge: "1024" as never } }), "got \"1024\""],
    [() => compileFilter({ dev: "3" as never }), "got \"3\""],
    [() => compileFilter({ mark: "1" as never }), "got \"1\""],
    [() => compileFilter({ src: "10.0.0.1", port: "80" as never }), "got \"80\""],
    [() => compileFilter({ cgroup: "5" as never }), "got \"5\""],
    [() => compileFilter("x" as never), "got \"x\""],
    [() => encodeNetlinkRequest({ protocol: "0" as never }), "got \"0\""],
  ];
  for (const [run, end] of cases) {
    assert.throws(run, (e: unknown) => e instanceof Error && e.message.endsWith(end), end);
  }
});

test("a kernel without a family's diag module (ENOENT) is told as such for unix, netlink and packet sockets too", async () => {
  const kernel = new FakeKernel().serve(NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY, () => ({
    errno: 2,
  }));
  await using socket = await open(NETLINK_SOCK_DIAG, { transport: kernel.open });
  const cases: [() => Promise<unknown>, string, string][] = [
    [() => unixSockets({ socket }), "unix", "unix_diag"],
    [() => netlinkSockets({ socket }), "netlink", "netlink_diag"],
    [() => packetSockets({ socket }), "packet", "af_packet_diag"],
    [() => inetSockets({ socket, protocol: "udp" }), "udp", "udp_diag"],
  ];
  for (const [run, what, module] of cases) {
    await assert.rejects(
      run(),
      (e: unknown) =>
        e instanceof NetlinkError && e.code === "ENOENT"
        && e.detail
          === `${what} sockets: the kernel has no ${module} (built in, or modprobe ${module})`,
      what,
    );
  }
});
