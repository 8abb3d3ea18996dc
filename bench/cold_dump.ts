// One cold one-shot route dump (run by bench/cold_dump.sh in a fresh process each time): socket
// open to list built, decoding every IPv4 route's destination (as text), prefix length, table
// and output interface into a list of objects, as ../shared/peers' dump workload does. LAYER
// says through what, so the differences say where the time goes:
//   bare       libc only (the same Libc binding): socket, bind, sendto, recvmmsg of 1 into one buffer,
//              decoded in place: the floor on this runtime
//   transport  openTransport + receive() (one copy per datagram) + MessageCursor, in place
//   messages   the transport's datagrams decoded into ReceivedMessage objects (decodeDatagram),
//              taken by a plain loop: what building dump()'s objects costs
//   iterator   the same objects through a minimal hand-written async iterator and `for await`:
//              the floor of any per-message async iteration, which dump() is
//   dump       open() + sock.dump(), a DataView per message's payload: what a script writes
//   dump-view  the same, reusing one DataView while payloads share a buffer (messages of one
//              datagram do, and so do the messages and iterator layers): the socket layer's cost
//              without the script's per-message view
//   forEach    open() + sock.dump().forEach(handler): the parts of each datagram without a
//              promise per part, a DataView per message's payload as in `dump`
//   cursor     open() + sock.dump().cursor(): each datagram's parts walked in place with the
//              MessageCursor it yields, decoded as in the transport layer: no object per part
//   request    open() + sock.request() with NLM_F_DUMP: the same dump as one array (no
//              per-message iteration), a DataView per message's payload as in `dump`
// Run it inside the namespace (`ip netns exec NS`), as every layer opens its socket in the
// timed part. Prints one JSON line: wall ms, and CPU ms (steadier on a busy machine; it counts
// the runtime's GC and JIT threads too), and that CPU time by thread (`threads`: "main" and the
// runtime's own, by name); with REPEAT, also the wall ms of each further dump made the same way
// in the same process (`then`), and its main thread's CPU ms (`thenMain`). The bare and cursor
// layers also split the main thread's CPU time (`phases`, read from the thread's own clock,
// exact where /proc's schedstat moves a tick at a time) at the first datagram in hand: `setup`
// (libc or the socket opened, the request sent, the first part read) and `rest`.
//
//   bench/cold_dump.ts LAYER [REPEAT]

import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";
import { loadBunLibc } from "../ffi/_bun_libc.ts";
import {
  AF_NETLINK,
  OFFSETOF_IOVEC_IOV_BASE,
  OFFSETOF_IOVEC_IOV_LEN,
  OFFSETOF_MMSGHDR_MSG_HDR,
  OFFSETOF_MMSGHDR_MSG_LEN,
  OFFSETOF_MSGHDR_MSG_IOV,
  OFFSETOF_MSGHDR_MSG_IOVLEN,
  SIZEOF_IOVEC,
  SIZEOF_MMSGHDR,
  SOCK_CLOEXEC,
  SOCK_RAW,
} from "../ffi/_constants.ts";
import { loadDenoLibc } from "../ffi/_deno_libc.ts";
import { openTransport } from "../ffi/mod.ts";
import {
  AF_INET,
  decodeDatagram,
  MessageCursor,
  NETLINK_ROUTE,
  type NetlinkSocket,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  NLMSG_DONE,
  open,
  type ReceivedMessage,
  RTM_GETROUTE,
  RTM_NEWROUTE,
} from "../mod.ts";

const [layer, repeat] = process.argv.slice(2);
const isBun = "Bun" in globalThis;

interface Route {
  dst: string;
  dstLen: number;
  table: number;
  oif: number;
}
const routes: Route[] = [];
const RTMSG = 12, RTA_DST = 1, RTA_OIF = 4, RTA_TABLE = 15, MAIN = 254;

/** Decodes the rtmsg payload at bytes[at, end) (view offsets = bytes offsets + base). */
function take(bytes: Uint8Array, view: DataView, base: number, at: number, end: number): void {
  if (bytes[at] !== AF_INET) return;
  let table = bytes[at + 4], oif = 0, dst = -1;
  for (let o = at + RTMSG; o + 4 <= end;) {
    const len = view.getUint16(base + o, true);
    if (len < 4) break;
    const type = view.getUint16(base + o + 2, true) & 0x3fff;
    if (type === RTA_DST) dst = o + 4;
    else if (type === RTA_OIF) oif = view.getUint32(base + o + 4, true);
    else if (type === RTA_TABLE) table = view.getUint32(base + o + 4, true);
    o += (len + 3) & ~3;
  }
  if (table !== MAIN) return;
  const text = dst < 0
    ? "0.0.0.0"
    : `${bytes[dst]}.${bytes[dst + 1]}.${bytes[dst + 2]}.${bytes[dst + 3]}`;
  routes.push({ dst: text, dstLen: bytes[at + 1], table, oif });
}

function request(portid: number): Uint8Array {
  const bytes = new Uint8Array(16 + RTMSG);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, bytes.length, true);
  v.setUint16(4, RTM_GETROUTE, true);
  v.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, true);
  v.setUint32(8, 1, true);
  v.setUint32(12, portid, true);
  bytes[16] = AF_INET;
  return bytes;
}

/** Decodes one message as the dump-view layer does: one DataView while payloads share a buffer. */
let shared: ArrayBufferLike | undefined, sharedView: DataView | undefined;
function takeMessage(m: ReceivedMessage): void {
  const p = m.payload;
  if (p.buffer !== shared) [shared, sharedView] = [p.buffer, new DataView(p.buffer)];
  take(p, sharedView!, p.byteOffset, 0, p.length);
}

/** CPU time of this process (every thread: the GC's and the JIT's too), in ms. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * CPU ms of each of this process's threads so far, summed by thread name ("main" for the main
 * thread), from /proc's schedstat (nanoseconds): what the main thread ran apart from what the
 * runtime's JIT compiler and GC threads ran for it, which on a busy machine compete for the same
 * cores (and wall time follows that contest more than the code).
 */
function threadCpuMs(): Record<string, number> {
  const ms: Record<string, number> = {};
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const name = tid === String(process.pid)
        ? "main"
        : readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim().replace(/[\d\s]+$/, "");
      const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      ms[name] = (ms[name] ?? 0) + ns / 1e6;
    } catch {
      // The thread ended meanwhile.
    }
  }
  return ms;
}

/**
 * This thread's CPU ms (clock_gettime(CLOCK_THREAD_CPUTIME_ID), through a libc binding of its
 * own, made before anything is timed).
 */
const threadMs: () => number = (() => {
  const CLOCK_THREAD_CPUTIME_ID = 3;
  const ts = new BigInt64Array(2);
  let call: () => unknown;
  if (isBun) {
    const ffi = (import.meta as unknown as {
      require(id: string): {
        dlopen(name: string, symbols: unknown): {
          symbols: { clock_gettime(id: number, ts: BigInt64Array): number };
        };
      };
    }).require("bun:ffi");
    const lib = ffi.dlopen("libc.so.6", {
      clock_gettime: { args: ["i32", "ptr"], returns: "i32" },
    });
    call = () => lib.symbols.clock_gettime(CLOCK_THREAD_CPUTIME_ID, ts);
  } else {
    const lib = (globalThis as unknown as {
      Deno: {
        dlopen(name: string, symbols: unknown): {
          symbols: { clock_gettime(id: number, ts: BigInt64Array): number };
        };
      };
    }).Deno.dlopen("libc.so.6", {
      clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
    });
    call = () => lib.symbols.clock_gettime(CLOCK_THREAD_CPUTIME_ID, ts);
  }
  return () => {
    call();
    return Number(ts[0]) * 1e3 + Number(ts[1]) / 1e6;
  };
})();

let t0 = 0;
/** The main thread's clock at the timed start, and when the first datagram was in hand. */
let clock0 = 0;
let clockFirst = -1;
/** Starts the clocks of one dump. */
function startClocks(): void {
  t0 = performance.now();
  clock0 = threadMs();
  clockFirst = -1;
}
const threads0 = threadCpuMs();
const c0 = cpuMs();

/** Starts the clock and opens a socket, with an IPv4 dump request's rtmsg: each socket layer's start. */
async function openRouteDump(): Promise<{ sock: NetlinkSocket; payload: Uint8Array }> {
  startClocks();
  const sock = await open(NETLINK_ROUTE);
  const payload = new Uint8Array(RTMSG);
  payload[0] = AF_INET;
  return { sock, payload };
}

// In a function, as the peer harness's bare loops are, not at the module's top level, where JSC
// (Bun) optimizes less: the bare layer took 76.8 ms there against 70.2 ms here (medians of 5).
async function run(): Promise<void> {
  if (layer === "bare") {
    startClocks();
    const libc = isBun ? loadBunLibc() : loadDenoLibc();
    const fd = libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    const addr = libc.alloc(12);
    new DataView(addr.buffer).setUint16(0, AF_NETLINK, true);
    libc.bind(fd, addr, 12);
    const req = request(0);
    libc.sendto(fd, req, req.length, 0, addr, 12);
    const size = 32 << 10;
    const buffer = libc.alloc(size);
    // One struct mmsghdr, read by a blocking recvmmsg of 1: recvmsg's kernel path, through a
    // symbol the library binds anyway (Deno binds libc in groups, on first use: a recvmsg of
    // its own would bill this loop for a second group the library never loads).
    const msg = libc.alloc(SIZEOF_MMSGHDR + SIZEOF_IOVEC);
    const mv = new DataView(msg.buffer);
    const hdr = OFFSETOF_MMSGHDR_MSG_HDR;
    mv.setBigUint64(
      hdr + OFFSETOF_MSGHDR_MSG_IOV,
      libc.address(msg) + BigInt(SIZEOF_MMSGHDR),
      true,
    );
    mv.setBigUint64(hdr + OFFSETOF_MSGHDR_MSG_IOVLEN, 1n, true);
    mv.setBigUint64(SIZEOF_MMSGHDR + OFFSETOF_IOVEC_IOV_BASE, libc.address(buffer), true);
    mv.setBigUint64(SIZEOF_MMSGHDR + OFFSETOF_IOVEC_IOV_LEN, BigInt(size), true);
    const view = new DataView(buffer.buffer, buffer.byteOffset, size);
    all: for (;;) {
      if (libc.recvmmsg(fd, msg, 1, 0) !== 1) throw new Error(`recvmmsg: errno ${libc.errno()}`);
      if (clockFirst < 0) clockFirst = threadMs();
      const n = mv.getUint32(OFFSETOF_MMSGHDR_MSG_LEN, true);
      for (let off = 0; off + 16 <= n;) {
        const len = view.getUint32(off, true);
        const type = view.getUint16(off + 4, true);
        if (type === NLMSG_DONE) break all;
        if (type === RTM_NEWROUTE) take(buffer, view, 0, off + 16, off + len);
        off += (len + 3) & ~3;
      }
    }
    libc.close(fd);
  } else if (layer === "transport") {
    startClocks();
    const t = openTransport(NETLINK_ROUTE, { portid: 0 });
    t.send(request(t.portid), 0, 0);
    const c = new MessageCursor();
    all: for (;;) {
      const d = t.receive();
      if (d === undefined) {
        await t.wait();
        continue;
      }
      for (c.reset(d.data); c.next();) {
        if (c.type === NLMSG_DONE) break all;
        if (c.type === RTM_NEWROUTE) {
          take(c.data, c.view, c.byteOffset, c.payloadOffset, c.payloadOffset + c.payloadLength);
        }
      }
    }
    t.close();
  } else if (layer === "messages" || layer === "iterator") {
    startClocks();
    const t = openTransport(NETLINK_ROUTE, { portid: 0 });
    t.send(request(t.portid), 0, 0);
    let parts: ReceivedMessage[] = [], at = 0;
    if (layer === "messages") {
      all: for (;;) {
        const d = t.receive();
        if (d === undefined) {
          await t.wait();
          continue;
        }
        for (parts = decodeDatagram(d), at = 0; at < parts.length; at++) {
          if (parts[at].type === NLMSG_DONE) break all;
          takeMessage(parts[at]);
        }
      }
    } else {
      const iterator: AsyncIterator<ReceivedMessage> = {
        next(): Promise<IteratorResult<ReceivedMessage>> {
          while (at === parts.length) {
            const d = t.receive();
            if (d === undefined) return t.wait().then(() => this.next());
            parts = decodeDatagram(d);
            at = 0;
          }
          const m = parts[at++];
          return Promise.resolve(
            m.type === NLMSG_DONE ? { value: undefined, done: true } : { value: m, done: false },
          );
        },
      };
      for await (const m of { [Symbol.asyncIterator]: () => iterator }) takeMessage(m);
    }
    t.close();
  } else if (layer === "forEach") {
    const { sock, payload } = await openRouteDump();
    await sock.dump({ type: RTM_GETROUTE, payload }).forEach((m) => {
      const p = m.payload;
      take(p, new DataView(p.buffer), p.byteOffset, 0, p.length);
    });
    await sock.close();
  } else if (layer === "cursor") {
    const { sock, payload } = await openRouteDump();
    for await (const c of sock.dump({ type: RTM_GETROUTE, payload }).cursor()) {
      if (clockFirst < 0) clockFirst = threadMs();
      while (c.next()) {
        if (c.type === RTM_NEWROUTE) {
          take(c.data, c.view, c.byteOffset, c.payloadOffset, c.payloadOffset + c.payloadLength);
        }
      }
    }
    await sock.close();
  } else if (layer === "request") {
    const { sock, payload } = await openRouteDump();
    for (const m of await sock.request({ type: RTM_GETROUTE, flags: NLM_F_DUMP, payload })) {
      const p = m.payload;
      take(p, new DataView(p.buffer), p.byteOffset, 0, p.length);
    }
    await sock.close();
  } else {
    const { sock, payload } = await openRouteDump();
    for await (const m of sock.dump({ type: RTM_GETROUTE, payload })) {
      if (layer === "dump-view") takeMessage(m);
      else {
        const p = m.payload;
        take(p, new DataView(p.buffer), p.byteOffset, 0, p.length);
      }
    }
    await sock.close();
  }
}
await run();
const clockEnd = threadMs();
const ms = performance.now() - t0;
const phases = clockFirst < 0
  ? undefined
  : { setup: clockFirst - clock0, rest: clockEnd - clockFirst };
const cpu = cpuMs() - c0;
const threads = threadCpuMs();
for (const name in threads) threads[name] -= threads0[name] ?? 0;
// REPEAT > 1: the same dump again, in this process, REPEAT - 1 times more: how far the cold
// figure is the runtime warming up (compiling the code the dump runs) rather than steady cost.
const then: number[] = [];
/** The main thread's CPU ms in each further dump: steadier than `then` on a busy machine. */
const thenMain: number[] = [];
for (let i = 1, main = threads0.main + threads.main; i < Number(repeat ?? 1); i++) {
  routes.length = 0;
  await run();
  then.push(performance.now() - t0);
  const now = threadCpuMs().main;
  thenMain.push(now - main);
  main = now;
}
console.log(
  JSON.stringify({
    runtime: isBun ? "bun" : "deno",
    layer,
    routes: routes.length,
    ms,
    cpu,
    threads,
    then,
    thenMain,
    phases,
  }),
);
