// inet_diag against the real kernel: sockets a python3 process opens in a fresh namespace,
// listed by the library and by `ss` in that namespace, field by field.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { NETLINK_SOCK_DIAG, NetlinkError, open } from "../../mod.ts";
import { type InetFilter, inetSockets } from "../../src/diag/mod.ts";
import { bigintsIn } from "../_json.ts";
import { Netns } from "../host/_netns.ts";
import { field, fromSs, holdSockets, inetAsSs as asSs, ss, ssText } from "./_ss.ts";

/** Listeners (one owned by uid 65534), a connection with unread bytes, a pending one, IPv6, TIME-WAIT. */
const TCP_SETUP = `
L = socket.socket(); L.bind(("127.0.0.1", 5000)); L.listen(7)
C = socket.create_connection(("127.0.0.1", 5000)); A, _ = L.accept(); C.sendall(b"hello")
L6 = socket.socket(socket.AF_INET6); L6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
L6.bind(("::1", 5001)); L6.listen(3)
D = socket.socket(socket.AF_INET6); D.bind(("::", 5002)); D.listen(2)
P = socket.create_connection(("127.0.0.1", 5002))
os.seteuid(65534); N = socket.socket(); os.seteuid(0); N.bind(("0.0.0.0", 5003)); N.listen(1)
V = socket.socket(); V.setsockopt(socket.SOL_SOCKET, 25, b"lo"); V.bind(("127.0.0.1", 5005)); V.listen(1)  # SO_BINDTODEVICE
K = socket.socket(); K.setsockopt(socket.SOL_SOCKET, 36, 1); K.bind(("127.0.0.1", 5004)); K.listen(1)  # SO_MARK
G = socket.create_connection(("127.0.0.1", 5004)); G.shutdown(socket.SHUT_RD)
T = socket.create_connection(("127.0.0.1", 5000)); B, _ = L.accept(); T.close(); time.sleep(0.05); B.close()
time.sleep(0.2)
`;

const sorted = (lines: string[]) => [...lines].sort();

/** What InetQuery.states says ss lists by default. */
const SS_DEFAULT_STATES = [
  "established",
  "syn-sent",
  "fin-wait-1",
  "fin-wait-2",
  "close-wait",
  "last-ack",
  "closing",
] as const;

test("TCP sockets match ss -tan: states, addresses, queues, inode, cookie, uid (IPv4 and IPv6)", async () => {
  using ns = new Netns();
  await using _ = await holdSockets(ns, TCP_SETUP);
  const ours = await inetSockets({ protocol: "tcp", netns: ns.name });
  const theirs = ss(ns, "-tane");
  assert.deepEqual(sorted(ours.map(asSs)), sorted(theirs.map((line) => fromSs(line))));
  // What the setup made is all there, by name.
  const states = new Set(ours.map((s) => s.state));
  for (const state of ["listen", "established", "time-wait"]) {
    assert.ok(states.has(state as never), state);
  }
  assert.ok(ours.some((s) => s.uid === 65534 && s.local.port === 5003));
  assert.ok(
    ours.some((s) => s.family === "inet6" && s.local.address === "::1" && s.v6only === true),
  );
  assert.ok(ours.some((s) => s.local.address === "::ffff:127.0.0.1" && s.local.port === 5002));
  assert.ok(ours.some((s) => s.peer.port === 5004 && s.shutdown === 1), "SHUT_RD");
  const timeWait = ours.find((s) => s.state === "time-wait")!;
  assert.equal(timeWait.timer, 3, "the TIME-WAIT timer");
  assert.ok(timeWait.expires > 0 && timeWait.expires <= 60_000, `${timeWait.expires} ms`);
  const listener = ours.find((s) => s.state === "listen" && s.local.port === 5000)!;
  assert.equal(listener.sendQueue, 7, "a listener's Send-Q is its backlog");
});

test("UDP sockets match ss -uan, IPv4 and IPv6, connected and not", async () => {
  using ns = new Netns();
  await using _ = await holdSockets(
    ns,
    `
U = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); U.bind(("127.0.0.1", 6000))
U.sendto(b"x" * 10, ("127.0.0.1", 6000))
U6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); U6.bind(("::", 6001))
UC = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); UC.connect(("127.0.0.1", 6000))
time.sleep(0.1)
`,
  );
  const ours = await inetSockets({ protocol: "udp", netns: ns.name });
  assert.deepEqual(sorted(ours.map(asSs)), sorted(ss(ns, "-uane").map((line) => fromSs(line))));
  assert.equal(ours.length, 3);
  assert.ok(ours.find((s) => s.local.port === 6000)!.receiveQueue > 0, "the unread datagram");
  assert.ok(ours.some((s) => s.state === "established" && s.peer.port === 6000));
  assert.deepEqual(
    await inetSockets({ protocol: "udp", family: "inet6", netns: ns.name }).then((l) =>
      l.map((s) => s.local.port)
    ),
    [6001],
  );
});

test("states by name and ss's groups select what ss's state filters select", async () => {
  using ns = new Netns();
  await using _ = await holdSockets(ns, TCP_SETUP);
  const cases: [Parameters<typeof inetSockets>[0], string[], string?][] = [
    [{ states: ["listen"] }, ["state", "listening"], "LISTEN"],
    [{ states: ["established"] }, ["state", "established"], "ESTAB"],
    [{ states: ["time-wait"] }, ["state", "time-wait"], "TIME-WAIT"],
    [{ states: ["connected"] }, ["state", "connected"]],
    [{ states: ["bucket"] }, ["state", "bucket"]],
    [{ states: ["listen", "time-wait"] }, ["state", "listening", "state", "time-wait"]],
    // ss without -a or a state filter: not "connected", which lists TIME-WAIT too (InetQuery).
    [{ states: SS_DEFAULT_STATES }, []],
  ];
  for (const [query, filter, state] of cases) {
    const ours = await inetSockets({ ...query, netns: ns.name });
    assert.ok(ours.length > 0, JSON.stringify(query));
    assert.deepEqual(
      sorted(ours.map(asSs)),
      sorted(ss(ns, "-tne", ...filter).map((line) => fromSs(line, state))),
      JSON.stringify(query),
    );
  }
});

test("filters compile to bytecode the kernel applies: the same sockets as ss's expression", async () => {
  using ns = new Netns();
  await using _ = await holdSockets(ns, TCP_SETUP);
  const all = await inetSockets({ netns: ns.name });
  const cases: [InetFilter, string][] = [
    [{ sport: 5000 }, "sport = :5000"],
    [{ dport: { ge: 5000 } }, "dport >= :5000"],
    [{ any: [{ sport: 5001 }, { dport: 5000 }] }, "( sport = :5001 or dport = :5000 )"],
    [{ not: { src: "127.0.0.0/8" } }, "not src 127.0.0.0/8"],
    [{ dst: "127.0.0.1", port: 5000 }, "dst 127.0.0.1:5000"],
    [{ src: "::1" }, "src [::1]"],
    [{ sport: { gt: 5001, lt: 5003 } }, "sport > :5001 and sport < :5003"],
    [
      { all: [{ src: "127.0.0.1" }, { not: { sport: 5000 } }] },
      "src 127.0.0.1 and not sport = :5000",
    ],
    [{ mark: 1, mask: 0xff }, "fwmark = 0x1/0xff"],
  ];
  for (const [filter, expression] of cases) {
    const ours = await inetSockets({ filter, netns: ns.name });
    const theirs = ss(ns, "-tane", expression);
    assert.ok(ours.length > 0 && ours.length < all.length, `${expression}: selects some`);
    assert.deepEqual(
      sorted(ours.map(asSs)),
      sorted(theirs.map((line) => fromSs(line))),
      expression,
    );
  }
  // ss narrows "autobound" down further with a port-range guess: the kernel's is exact, every
  // socket whose port bind() did not choose (clients, accepted connections), and no listener.
  const autobound = await inetSockets({ filter: { autobound: true }, netns: ns.name });
  assert.deepEqual(
    sorted(autobound.map(asSs)),
    sorted(all.filter((s) => s.state !== "listen").map(asSs)),
  );
  // ss filters devices and cgroups itself; the kernel's conditions select the same sockets.
  const bound = await inetSockets({ filter: { dev: 1 }, netns: ns.name });
  assert.deepEqual(bound.map(asSs), all.filter((s) => s.interface === 1).map(asSs));
  assert.equal(bound.length, 1);
  const cgroup = all[0].cgroupId!;
  assert.deepEqual(
    (await inetSockets({ filter: { cgroup }, netns: ns.name })).map(asSs),
    all.filter((s) => s.cgroupId === cgroup).map(asSs),
  );
  assert.deepEqual(await inetSockets({ filter: { cgroup: cgroup + 1000 }, netns: ns.name }), []);
});

/** `name:value` pairs of ss -i/-m's detail line. */
function details(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const word of text.trim().split(/\s+/)) {
    const at = word.indexOf(":");
    if (at > 0) out.set(word.slice(0, at), word.slice(at + 1));
  }
  return out;
}

test("tcp_info, congestion control and memory match ss -tim", async () => {
  using ns = new Netns();
  await using _ = await holdSockets(ns, TCP_SETUP);
  const [server] = await inetSockets({
    netns: ns.name,
    states: ["established"],
    filter: { all: [{ sport: 5000 }, { dport: { ne: 5000 } }] },
    info: true,
    memory: true,
  });
  const text = ssText(ns, "-tnim", "state", "established", "sport = :5000");
  const [head, detail] = text.split("\n");
  assert.match(head, /^5\s+0\s+127\.0\.0\.1:5000/); // one state: no State column
  const ssInfo = details(detail);
  const info = server.tcpInfo!;
  assert.equal(info.state, 1);
  assert.equal(`${info.sndWscale},${info.rcvWscale}`, ssInfo.get("wscale"));
  assert.equal(String(info.rto! / 1000), ssInfo.get("rto"));
  assert.equal(String(info.sndMss), ssInfo.get("mss"));
  assert.equal(String(info.pmtu), ssInfo.get("pmtu"));
  assert.equal(String(info.advmss), ssInfo.get("advmss"));
  assert.equal(String(info.sndCwnd), ssInfo.get("cwnd"));
  assert.equal(String(info.bytesReceived), ssInfo.get("bytes_received"));
  assert.equal(info.bytesReceived, 5);
  assert.equal(String(info.segsIn), ssInfo.get("segs_in"));
  assert.equal(String(info.rcvSpace), ssInfo.get("rcv_space"));
  assert.ok(info.rtt! > 0);
  assert.ok(detail.includes(` ${server.congestion} wscale:`), `congestion ${server.congestion}`);
  if (server.congestion === "bbr") {
    // ss -i: bbr:(bw:...,mrtt:MS...) from INET_DIAG_BBRINFO.
    assert.match(detail, new RegExp(`bbr:\\(bw:\\d+bps,mrtt:${server.bbr!.minRtt / 1000}[,)]`));
  } else if (server.congestion === "vegas") assert.ok(server.vegas);
  const m = server.memory!;
  const skmem = `(r${m.rmemAlloc},rb${m.rcvbuf},t${m.wmemAlloc},tb${m.sndbuf},f${m.fwdAlloc},`
    + `w${m.wmemQueued},o${m.optmem},bl${m.backlog},d${m.drops})`;
  assert.equal(skmem, ssInfo.get("skmem"));
  assert.ok(m.rmemAlloc! > 0, "5 unread bytes take receive memory");
  assert.ok(server.memInfo !== undefined);
});

/**
 * A socket of each timer: keepalive on an idle connection, retransmit on a SYN to an address no
 * one answers (on), timewait, and none on a listener. Its ports are 7000-7002.
 */
const TIMER_SETUP = `
L = socket.socket(); L.bind(("127.0.0.1", 7000)); L.listen(4)
K = socket.socket(); K.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
K.connect(("127.0.0.1", 7000)); A, _ = L.accept()
S = socket.socket(); S.setblocking(False); S.connect_ex(("10.0.0.2", 7001))
T = socket.create_connection(("127.0.0.1", 7000)); B, _ = L.accept(); T.close(); time.sleep(0.05); B.close()
time.sleep(0.2)
`;

test("timers by the name ss -o prints: on, keepalive, timewait; none (off) as ss shows none", async () => {
  using ns = new Netns([
    "link add v0 type veth peer name v1",
    "addr add 10.0.0.1/24 dev v0",
    "link set v0 up",
    "link set v1 up",
  ]);
  await using _ = await holdSockets(ns, TIMER_SETUP);
  const ours = await inetSockets({ netns: ns.name });
  const theirs = new Map(
    ss(ns, "-tanoe").map((line) => [
      field(line, "sk"),
      /^timer:\((\w+),/.exec(line.find((f) => f.startsWith("timer:")) ?? "")?.[1] ?? "off",
    ]),
  );
  const names = ours.map((s) => theirs.get(s.cookie.toString(16)));
  assert.deepEqual(ours.map((s) => s.timerName), names);
  for (const name of ["off", "on", "keepalive", "timewait"]) assert.ok(names.includes(name), name);
});

/** A connection whose sender set SO_MAX_PACING_RATE (47) to 1 MB/s, and a listener. */
const PACING_SETUP = `
L = socket.socket(); L.bind(("127.0.0.1", 7100)); L.listen(1)
C = socket.create_connection(("127.0.0.1", 7100)); A, _ = L.accept()
C.setsockopt(socket.SOL_SOCKET, 47, 1000000)
C.sendall(b"x" * 10000); A.recv(65536)
time.sleep(0.1)
`;

test("pacing rates: ~0 (no limit) is left out, as ss -i leaves it out; the others are ss's in bytes", async () => {
  using ns = new Netns();
  await using _ = await holdSockets(ns, PACING_SETUP);
  const socks = await inetSockets({ netns: ns.name, info: true });
  const listener = socks.find((s) => s.state === "listen")!;
  assert.equal(listener.tcpInfo!.pacingRate, undefined);
  assert.equal(listener.tcpInfo!.maxPacingRate, undefined);
  const rates = (sport: string) => {
    const detail = ssText(ns, "-tni", "state", "established", sport).split("\n")[1];
    return /pacing_rate (\d+)bps(?:\/(\d+)bps)?/.exec(detail) ?? [];
  };
  const client = socks.find((s) => s.peer.port === 7100)!;
  const server = socks.find((s) => s.local.port === 7100 && s.state === "established")!;
  // The client's maximum is set; the server's is ~0: ss prints no "/max" for it.
  assert.equal(client.tcpInfo!.maxPacingRate, 1000000);
  assert.equal(String(client.tcpInfo!.maxPacingRate! * 8), rates("dport = :7100")[2]);
  assert.equal(server.tcpInfo!.maxPacingRate, undefined);
  assert.equal(rates("sport = :7100")[2], undefined);
  assert.equal(String(server.tcpInfo!.pacingRate! * 8), rates("sport = :7100")[1]);
  assert.ok(!JSON.stringify(socks).includes(String(2 ** 64)));
});

test("MPTCP sockets match ss -M", async () => {
  using ns = new Netns();
  await using _ = await holdSockets(
    ns,
    `
M = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262); M.bind(("127.0.0.1", 7000)); M.listen(2)
`,
  );
  const ours = await inetSockets({ protocol: "mptcp", netns: ns.name });
  assert.deepEqual(sorted(ours.map(asSs)), sorted(ss(ns, "-Mane").map((line) => fromSs(line))));
  assert.equal(ours.length, 1);
  assert.equal(ours[0].local.port, 7000);
});

test("bad queries are refused before any I/O, with what to do", async () => {
  await assert.rejects(inetSockets({ protocol: "tpc" as never }), /protocol must be one of tcp/);
  await assert.rejects(
    inetSockets({ states: ["listening" as never] }),
    /unknown socket state "listening"/,
  );
  await assert.rejects(inetSockets({ states: [] }), /states is empty/);
  await assert.rejects(
    inetSockets({ family: "ipv4" as never }),
    /family must be "inet" or "inet6"/,
  );
  await assert.rejects(inetSockets({ filter: { sport: 70000 } }), /sport must be a port number/);
  await assert.rejects(inetSockets({ filter: { src: "10.0.0.256" } }), /src/);
  await assert.rejects(inetSockets({ filter: { sport: 1, dport: 2 } as never }), /exactly one of/);
  await assert.rejects(inetSockets({ netns: "nltest-no-such-namespace" }));
  await using diag = await open(NETLINK_SOCK_DIAG);
  await assert.rejects(inetSockets({ socket: diag, netns: "x" }), /give socket or netns, not both/);
  await assert.rejects(inetSockets({ timeout: -1 }), /timeout must be a number/);
  await assert.rejects(
    inetSockets({ signal: AbortSignal.abort(new Error("stop")) }),
    /^Error: stop$/,
  );
});

test("raw sockets: without raw_diag (this host's kernel) ENOENT; with it, as ss -w lists them", async () => {
  using ns = new Netns();
  await using _ = await holdSockets(
    ns,
    `R = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)`,
  );
  let ours;
  try {
    ours = await inetSockets({ protocol: "raw", netns: ns.name });
  } catch (err) {
    assert.ok(err instanceof NetlinkError, String(err));
    assert.equal(err.code, "ENOENT");
    // What to do, not a bare "No such file or directory".
    assert.equal(
      err.message,
      "ENOENT: raw sockets: the kernel has no raw_diag (built in, or modprobe raw_diag)",
    );
    return;
  }
  // test/guest/diag_raw_test.ts runs this side on a kernel that has raw_diag.
  assert.deepEqual(ours.map(asSs).sort(), ss(ns, "-wane").map((line) => fromSs(line)).sort());
});

/** A BBR connection that has sent 1 MB, so BBR has measured a bandwidth; and a UDP socket. */
const BBR_SETUP = `
L = socket.socket(); L.bind(("127.0.0.1", 6000)); L.listen(1)
C = socket.socket(); C.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"bbr")
C.connect(("127.0.0.1", 6000)); A, _ = L.accept()
C.sendall(b"x" * 1000000)
n = 0
while n < 1000000: n += len(A.recv(65536))
U = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); U.bind(("::1", 6001))
time.sleep(0.2)
`;

test("BBR's bandwidth is one number (bbr_bw_hi and bbr_bw_lo), in bytes per second: ss -i's bbr:(bw:... is it in bits", async (t) => {
  const allowed = readFileSync("/proc/sys/net/ipv4/tcp_allowed_congestion_control", "utf8");
  if (!allowed.split(/\s+/).includes("bbr")) return t.skip("this kernel does not allow bbr");
  using ns = new Netns();
  await using _ = await holdSockets(ns, BBR_SETUP);
  const [client] = await inetSockets({
    netns: ns.name,
    states: ["established"],
    filter: { dport: 6000 },
    info: true,
  });
  assert.equal(client.congestion, "bbr");
  const bbr = client.bbr!;
  assert.deepEqual(Object.keys(bbr), ["bw", "minRtt", "pacingGain", "cwndGain"]);
  assert.ok(bbr.bw > 0, `bw ${bbr.bw}`);
  const detail = ssText(ns, "-tni", "state", "established", "dport = :6000").split("\n")[1];
  const printed = /bbr:\(bw:(\S+?)bps,/.exec(detail)?.[1];
  // Over loopback BBR measures tens of GB/s: past 2^32, so bbr_bw_hi is not 0.
  assert.equal(String(bbr.bw * 8), printed, detail);
  // The gains as ss prints them (%g of the kernel's fixed point / 256): 2.88672 in startup.
  for (const gain of ["pacingGain", "cwndGain"] as const) {
    const name = gain === "pacingGain" ? "pacing_gain" : "cwnd_gain";
    const shown = new RegExp(`${name}:([\\d.]+)`).exec(detail)?.[1];
    assert.equal(Number(bbr[gain].toPrecision(6)), Number(shown), `${gain} ${detail}`);
  }
});

test("inet sockets go through JSON.stringify: tcp_info's u64s, the cookie and the cgroup id are numbers; family is named as the route layer names it", async () => {
  using ns = new Netns();
  await using _ = await holdSockets(ns, TCP_SETUP + BBR_SETUP);
  const tcp = await inetSockets({ netns: ns.name, info: true, memory: true });
  const udp = await inetSockets({ netns: ns.name, protocol: "udp" });
  assert.ok(tcp.some((s) => s.tcpInfo?.bytesAcked !== undefined));
  for (const [name, list] of Object.entries({ tcp, udp })) {
    assert.deepEqual(bigintsIn(list, name), [], name);
    assert.deepEqual(JSON.parse(JSON.stringify(list)), list, name);
  }
  const [client] = tcp.filter((s) => s.peer.port === 6000);
  assert.equal(typeof client.tcpInfo!.bytesAcked, "number");
  assert.ok(client.tcpInfo!.bytesAcked! >= 1000000);
  assert.equal(typeof client.cookie, "number");
  assert.equal(typeof client.cgroupId, "number");
  assert.deepEqual(new Set(tcp.map((s) => s.family)), new Set(["inet", "inet6"]));
  assert.deepEqual(udp.map((s) => s.family), ["inet6"]);
});
