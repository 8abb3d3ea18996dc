// A tiny ss: the sockets of this network namespace through sock_diag, printed as `ss -an` does.
//
//   deno run --allow-ffi examples/ss.ts [-t] [-u] [-M] [-x] [-0] [--netlink] [-l] [-p] [-i] [PORT]
//   bun examples/ss.ts -t -l -p
//
// -t TCP, -u UDP, -M MPTCP, -x unix, -0 packet, --netlink netlink (default: -t -u -x); -l only
// listening sockets; -p the processes holding them; -i TCP's rtt, cwnd and congestion control.
// A PORT lists only inet sockets with that local or peer port (filtered by the kernel). -p
// reads /proc through libc: --allow-ffi covers it.

import process from "node:process";
import {
  type InetProtocol,
  type InetSocket,
  inetSockets,
  netlinkSockets,
  packetSockets,
  socketOwners,
  type SocketState,
  unixSockets,
} from "../src/diag/mod.ts";

const args = new Set(process.argv.slice(2));
const flag = (name: string) => args.delete(name);
let [tcp, udp, mptcp, unix, packet, netlink] = ["-t", "-u", "-M", "-x", "-0", "--netlink"].map(
  flag,
);
const listening = flag("-l"), processes = flag("-p"), info = flag("-i");
const port = [...args].find((a) => /^\d+$/.test(a));
if (port !== undefined) args.delete(port);
if (args.size > 0) {
  console.error(`unknown arguments: ${[...args].join(" ")}`);
  process.exit(2);
}
if (port !== undefined && Number(port) > 65535) {
  console.error(`PORT must be from 0 to 65535, got ${port}`);
  process.exit(2);
}
if (!(tcp || udp || mptcp || unix || packet || netlink)) [tcp, udp, unix] = [true, true, true];

const states: SocketState[] | undefined = listening ? ["listen"] : undefined;
const rows: { cells: string[]; inode: number; detail?: string }[] = [];
const STATE: Record<string, string> = { established: "ESTAB", close: "UNCONN" };
const state = (s: string) => STATE[s] ?? s.toUpperCase();
const endpoint = (s: InetSocket, e: InetSocket["local"]) =>
  `${s.family === "inet6" ? `[${e.address}]` : e.address}:${e.port || "*"}`;

const inet: [boolean, InetProtocol, string][] = [[tcp, "tcp", "tcp"], [udp, "udp", "udp"], [
  mptcp,
  "mptcp",
  "mptcp",
]];
for (const [wanted, protocol, netid] of inet) {
  if (!wanted) continue;
  const filter = port === undefined
    ? undefined
    : { any: [{ sport: Number(port) }, { dport: Number(port) }] };
  // UDP sockets are "listening" when unconnected, as ss -l shows them.
  const protocolStates = states && protocol === "udp" ? ["close" as const] : states;
  for (const s of await inetSockets({ protocol, states: protocolStates, filter, info })) {
    const tcpInfo = s.tcpInfo;
    rows.push({
      cells: [
        netid,
        state(s.state),
        `${s.receiveQueue}`,
        `${s.sendQueue}`,
        endpoint(s, s.local),
        endpoint(s, s.peer),
      ],
      inode: s.inode,
      detail: tcpInfo && s.state !== "listen"
        ? `${s.congestion} rtt:${tcpInfo.rtt! / 1000}/${
          tcpInfo.rttvar! / 1000
        } cwnd:${tcpInfo.sndCwnd}`
        : undefined,
    });
  }
}
if (unix) {
  const NETID: Record<string, string> = { stream: "u_str", dgram: "u_dgr", seqpacket: "u_seq" };
  for (const s of await unixSockets({ states })) {
    rows.push({
      cells: [
        NETID[s.type] ?? s.type,
        state(s.state),
        `${s.receiveQueue}`,
        `${s.sendQueue}`,
        `${s.path ?? "*"} ${s.inode}`,
        `* ${s.peer ?? 0}`,
      ],
      inode: s.inode,
    });
  }
}
if (netlink && !listening) {
  for (const s of await netlinkSockets()) {
    rows.push({
      cells: [
        "nl",
        state(s.state),
        `${s.memory?.rmemAlloc}`,
        `${s.memory?.wmemAlloc}`,
        `${s.protocol}:${s.portid}`,
        "*",
      ],
      inode: s.inode,
    });
  }
}
if (packet && !listening) {
  for (const s of await packetSockets()) {
    const proto = s.protocol === 3 ? "*" : `[${s.protocol}]`;
    rows.push({
      cells: [
        s.type === "raw" ? "p_raw" : "p_dgr",
        "UNCONN",
        `${s.memory?.rmemAlloc}`,
        "0",
        `${proto}:${s.info?.index || "*"}`,
        "*",
      ],
      inode: s.inode,
    });
  }
}

const owners = processes ? socketOwners(rows.map((r) => r.inode)) : undefined;
const table = [["Netid", "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port"]];
for (const row of rows) {
  const users = owners?.get(row.inode)?.map((o) => `("${o.command}",pid=${o.pid},fd=${o.fd})`);
  table.push([...row.cells, ...(users ? [`users:(${users.join(",")})`] : [])]);
}
const widths = table[0].map((_, i) => Math.max(...table.map((r) => (r[i] ?? "").length)));
for (const [i, row] of table.entries()) {
  console.log(row.map((cell, c) => cell.padEnd(widths[c])).join(" ").trimEnd());
  const detail = i > 0 ? rows[i - 1].detail : undefined;
  if (detail) console.log(`\t ${detail}`);
}
