// One cold one-shot route dump for bench/cold_dump_counts.sh, run under callgrind: the bare libc
// loop or `dump().cursor()` of the library at ROOT (bench/cold_dump.ts's bare and cursor layers,
// the same decode), calling getppid() at each boundary, which the script's callgrind dumps its
// counts before: the timed start, each datagram in hand (the first ends the setup), the last
// message walked, the socket closed. No other code here calls getppid, nor does the runtime.
// With SECOND_SOCKET=1, a socket is opened (and kept) first, so that the dump's is the process's
// second, whose port ID the kernel picks above 2^31 (netlink_autobind: the first gets the
// process's ID): every header of the dump holds it. With PHASES=1, the cursor layer also marks
// the ends of open(), dump() and cursor(), splitting its setup into those and the first step.
//
//   [SECOND_SOCKET=1] [PHASES=1] bun bench/_dump_marks.ts ROOT bare|cursor
// deno-lint-ignore-file no-explicit-any
import process from "node:process";

const [root, layer] = process.argv.slice(2);
const ffi = (import.meta as any).require("bun:ffi");
const marker = ffi.dlopen("libc.so.6", { getppid: { args: [], returns: "i32" } }).symbols.getppid;
const mark = (): void => {
  marker();
};
const nl: any = await import(`file://${root}/mod.ts`);
const { loadBunLibc } = await import(`file://${root}/ffi/_bun_libc.ts`);
const K: any = await import(`file://${root}/ffi/_constants.ts`);

const routes: { dst: string; dstLen: number; table: number; oif: number }[] = [];
const RTMSG = 12;
/** bench/cold_dump.ts's decode of the rtmsg payload at bytes[at, end). */
function take(bytes: Uint8Array, view: DataView, base: number, at: number, end: number): void {
  if (bytes[at] !== 2) return;
  let table = bytes[at + 4], oif = 0, dst = -1;
  for (let o = at + RTMSG; o + 4 <= end;) {
    const len = view.getUint16(base + o, true);
    if (len < 4) break;
    const type = view.getUint16(base + o + 2, true) & 0x3fff;
    if (type === 1) dst = o + 4;
    else if (type === 4) oif = view.getUint32(base + o + 4, true);
    else if (type === 15) table = view.getUint32(base + o + 4, true);
    o += (len + 3) & ~3;
  }
  if (table !== 254) return;
  const text = dst < 0
    ? "0.0.0.0"
    : `${bytes[dst]}.${bytes[dst + 1]}.${bytes[dst + 2]}.${bytes[dst + 3]}`;
  routes.push({ dst: text, dstLen: bytes[at + 1], table, oif });
}

// In a function, as in bench/cold_dump.ts.
async function run(): Promise<void> {
  if (process.env.SECOND_SOCKET) {
    // Its own binding: the library's code runs first in the timed part, as without it.
    const libc = ffi.dlopen("libc.so.6", {
      socket: { args: ["i32", "i32", "i32"], returns: "i32" },
      bind: { args: ["i32", "ptr", "u32"], returns: "i32" },
    }).symbols;
    const first = libc.socket(16, K.SOCK_RAW | K.SOCK_CLOEXEC, 0);
    const addr = new Uint8Array(new ArrayBuffer(12));
    addr[0] = 16; // AF_NETLINK, port ID 0: the kernel's pick
    if (first < 0 || libc.bind(first, addr, 12) < 0) throw new Error("first socket");
  }
  if (layer === "bare") {
    mark();
    const libc = loadBunLibc();
    const fd = libc.socket(16, K.SOCK_RAW | K.SOCK_CLOEXEC, 0);
    const addr = libc.alloc(12);
    new DataView(addr.buffer).setUint16(0, 16, true);
    libc.bind(fd, addr, 12);
    const req = new Uint8Array(16 + RTMSG);
    const v = new DataView(req.buffer);
    v.setUint32(0, req.length, true);
    v.setUint16(4, 26, true); // RTM_GETROUTE
    v.setUint16(6, 0x301, true); // NLM_F_REQUEST | NLM_F_DUMP
    v.setUint32(8, 1, true);
    req[16] = 2; // AF_INET
    libc.sendto(fd, req, req.length, 0, addr, 12);
    const size = 32 << 10;
    const buffer = libc.alloc(size);
    const msg = libc.alloc(K.SIZEOF_MMSGHDR + K.SIZEOF_IOVEC);
    const mv = new DataView(msg.buffer);
    const hdr = K.OFFSETOF_MMSGHDR_MSG_HDR;
    mv.setBigUint64(
      hdr + K.OFFSETOF_MSGHDR_MSG_IOV,
      libc.address(msg) + BigInt(K.SIZEOF_MMSGHDR),
      true,
    );
    mv.setBigUint64(hdr + K.OFFSETOF_MSGHDR_MSG_IOVLEN, 1n, true);
    mv.setBigUint64(K.SIZEOF_MMSGHDR + K.OFFSETOF_IOVEC_IOV_BASE, libc.address(buffer), true);
    mv.setBigUint64(K.SIZEOF_MMSGHDR + K.OFFSETOF_IOVEC_IOV_LEN, BigInt(size), true);
    const view = new DataView(buffer.buffer, buffer.byteOffset, size);
    all: for (;;) {
      if (libc.recvmmsg(fd, msg, 1, 0) !== 1) throw new Error(`recvmmsg: errno ${libc.errno()}`);
      mark();
      const n = mv.getUint32(K.OFFSETOF_MMSGHDR_MSG_LEN, true);
      for (let off = 0; off + 16 <= n;) {
        const len = view.getUint32(off, true);
        const type = view.getUint16(off + 4, true);
        if (type === 3) break all; // NLMSG_DONE
        if (type === 24) take(buffer, view, 0, off + 16, off + len); // RTM_NEWROUTE
        off += (len + 3) & ~3;
      }
    }
    mark();
    libc.close(fd);
  } else {
    const phases = process.env.PHASES !== undefined;
    mark();
    const sock = await nl.open(0);
    if (phases) mark();
    const payload = new Uint8Array(RTMSG);
    payload[0] = 2;
    const dump = sock.dump({ type: 26, payload });
    if (phases) mark();
    const cursor = dump.cursor();
    if (phases) mark();
    for await (const c of cursor) {
      mark();
      while (c.next()) {
        if (c.type === 24) {
          take(c.data, c.view, c.byteOffset, c.payloadOffset, c.payloadOffset + c.payloadLength);
        }
      }
    }
    mark();
    await sock.close();
  }
}
await run();
mark();
if (routes.length === 0) throw new Error("no routes decoded");
