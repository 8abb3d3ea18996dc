// The floor of signal-driven waiting, for bench/event_latency.sh: no library, libc through the
// runtime's FFI directly. A NETLINK_ROUTE socket joined to RTNLGRP_LINK, with O_ASYNC, the
// process as owner and SIGURG as the signal (as ffi/_signal_waiter.ts sets them), drained with
// recv(MSG_DONTWAIT) inside the signal's listener, where each change of link IFINDEX is stamped
// (CLOCK_MONOTONIC) and printed as "<ns> <up>", WANT of them. What the library adds to an event
// is what its peers (events_peer.ts) take longer than this.
// With NL_FLOOR_TID=1 (Deno, x86-64), the signal goes to the runtime's signal thread instead of
// the process (F_SETOWN_EX, F_OWNER_TID): an experiment, whether sparing the main thread the
// signal's interruption (the runtime's handler only writes to a socket its signal thread reads)
// shortens Deno's wake-up. It did not, measurably (bench/RESULTS.md, eighth round).
// With NL_FLOOR_WAIT=poll or recv (Deno), no signal: the other waiting mechanisms Deno offers,
// for comparison in the same run. poll: poll(2) on the socket as a `nonblocking: true` call (the
// runtime's thread pool), then the same drain on the main thread; recv: a blocking recv as a
// `nonblocking: true` call, whose promise brings the datagram. Neither is usable by the library
// as is (close() does not wake them, and a pending call keeps the process alive): floors only.
// With NL_FLOOR_WAIT=sigfd (Deno), SIGURG to this thread, blocked, read from a signalfd that
// Deno's event loop polls (tried as a waiter: ffi/README.md, Alternatives); atomics or message:
// a Worker blocked in poll(2) (bench/_floor_poller.ts) tells this thread through Atomics.notify
// (this thread in Atomics.waitAsync) or postMessage, then waits until it has drained. uring: no
// signal and no thread, an io_uring's multishot poll on the socket writes an eventfd that
// Deno's event loop polls; pipe: the socket itself opened as a node:net pipe handle, which
// reads (consumes) its datagrams (both tried as waiters: ffi/README.md, Alternatives). context
// (Deno, x86-64 glibc): a thread of libc's own loops on poll(2), then a
// Deno.UnsafeCallback.threadSafe that Deno runs in this thread's event loop (a spike, nineteenth
// round: see bench/RESULTS.md).
//
//   [NL_FLOOR_TID=1 | NL_FLOOR_WAIT=poll|recv|sigfd|atomics|message|uring|pipe|context] \
//     bench/events_signal_floor.ts IFINDEX WANT READY_FILE
// deno-lint-ignore-file no-explicit-any

import { writeFileSync } from "node:fs";
import process from "node:process";
import { SignalEntry } from "./_signal_entry.ts";

const [ifindex, want] = process.argv.slice(2, 4).map(Number);
const ready = process.argv[4];
const g = globalThis as any;
const defs = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "i64" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  getpid: { parameters: [], result: "i32" },
  // fcntl(F_SETOWN_EX) takes a struct f_owner_ex pointer (Deno only: Bun's dlopen has no alias).
  fcntlOwner: { name: "fcntl", parameters: ["i32", "i32", "buffer"], result: "i32" },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  // NL_FLOOR_WAIT (Deno only): on the runtime's thread pool.
  pollWait: {
    name: "poll",
    parameters: ["buffer", "u64", "i32"],
    result: "i32",
    nonblocking: true,
  },
  recvWait: {
    name: "recv",
    parameters: ["i32", "buffer", "usize", "i32"],
    result: "i64",
    nonblocking: true,
  },
  // NL_FLOOR_WAIT=sigfd (Deno only).
  pthread_sigmask: { parameters: ["i32", "buffer", "pointer"], result: "i32" },
  signalfd: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  gettid: { parameters: [], result: "i32" },
  // NL_FLOOR_WAIT=uring (Deno only): io_uring_setup (425), io_uring_enter (426) and
  // io_uring_register (427) through libc's syscall(), the rings mapped with mmap.
  uringSetup: { name: "syscall", parameters: ["i64", "u32", "buffer"], result: "i64" },
  uringEnter: {
    name: "syscall",
    parameters: ["i64", "i32", "u32", "u32", "u32", "pointer", "usize"],
    result: "i64",
  },
  uringRegister: {
    name: "syscall",
    parameters: ["i64", "i32", "u32", "buffer", "u32"],
    result: "i64",
  },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
} as const;
const DENO_ONLY = [
  "fcntlOwner",
  "pollWait",
  "recvWait",
  "pthread_sigmask",
  "signalfd",
  "gettid",
  "uringSetup",
  "uringEnter",
  "uringRegister",
  "mmap",
  "eventfd",
];
let libc: any;
if (g.Bun) {
  const { dlopen } = await import("bun:ffi");
  const bun: Record<string, unknown> = {};
  for (const [name, d] of Object.entries(defs)) {
    if (DENO_ONLY.includes(name)) continue;
    const args = (d.parameters as readonly string[]).map((p) => p === "buffer" ? "ptr" : p);
    bun[name] = { args, returns: d.result === "i64" ? "i64_fast" : d.result };
  }
  libc = dlopen("libc.so.6", bun as any).symbols;
} else {
  libc = g.Deno.dlopen("libc.so.6", defs).symbols;
}
const SIZE = 65536;
const size = g.Bun ? SIZE : BigInt(SIZE);
const clock = new BigInt64Array(2);
const now = () => {
  libc.clock_gettime(1, clock); // CLOCK_MONOTONIC
  return clock[0] * 1_000_000_000n + clock[1];
};
const fd = libc.socket(16, 3 | 0o2000000, 0); // AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, ROUTE
const address = new Uint8Array(new ArrayBuffer(12));
new DataView(address.buffer).setUint16(0, 16, true);
new DataView(address.buffer).setUint32(8, 1, true); // RTMGRP_LINK
if (fd < 0 || libc.bind(fd, address, 12) !== 0) throw new Error("socket/bind failed");
libc.fcntl(fd, 8, libc.getpid()); // F_SETOWN
libc.fcntl(fd, 10, 23); // F_SETSIG SIGURG
libc.fcntl(fd, 4, 0o20000 | 0o4000); // F_SETFL O_ASYNC | O_NONBLOCK
const buffer = new Uint8Array(new ArrayBuffer(SIZE));
const view = new DataView(buffer.buffer);
const out: string[] = [];
let up = -1;
const { promise: done, resolve } = Promise.withResolvers<void>();
const alive = setInterval(() => {}, 1 << 30);
const toThread = process.env.NL_FLOOR_TID === "1" && !g.Bun;
const wait = g.Bun ? undefined : process.env.NL_FLOOR_WAIT;
const entry = new SignalEntry(
  `${g.Bun ? "bun" : "deno"}-${wait ?? "signal"}-floor${toThread ? "-tid" : ""}`,
);
function drain(): void {
  entry.mark();
  for (;;) {
    const n = Number(libc.recv(fd, buffer, size, 0x40)); // MSG_DONTWAIT
    if (n <= 0) break;
    take(n);
  }
  if (out.length >= want) resolve();
}
/** Records the changes of link IFINDEX among the `n` bytes read into `buffer`. */
function take(n: number): void {
  {
    const time = now();
    for (let at = 0; at + 16 <= n;) {
      const length = view.getUint32(at, true);
      if (length < 16) break;
      // RTM_NEWLINK: ifinfomsg's index at +4, flags at +8 of the payload (after 16 bytes).
      if (view.getUint16(at + 4, true) === 16 && view.getInt32(at + 20, true) === ifindex) {
        const flags = view.getUint32(at + 24, true) & 1;
        if (flags !== up) {
          entry.record();
          up = flags;
          out.push(`${time} ${flags}`);
        }
      }
      at += (length + 3) & ~3;
    }
  }
}
if (wait === "poll" || wait === "recv") {
  // No signal: the entry mark is where the thread pool's result reaches JavaScript.
  // No O_ASYNC; recv: no O_NONBLOCK either, so that the pool's recv blocks (the drains after it
  // pass MSG_DONTWAIT).
  libc.fcntl(fd, 4, wait === "poll" ? 0o4000 : 0); // F_SETFL
  const pollfd = new Uint8Array(new ArrayBuffer(8));
  new DataView(pollfd.buffer).setInt32(0, fd, true);
  new DataView(pollfd.buffer).setInt16(4, 1, true); // POLLIN
  (async () => {
    while (out.length < want) {
      if (wait === "poll") {
        await libc.pollWait(pollfd, 1n, -1);
        drain();
      } else {
        const n = Number(await libc.recvWait(fd, buffer, size, 0));
        entry.mark();
        if (n > 0) take(n);
        drain();
      }
    }
    resolve();
  })();
} else if (wait === "sigfd") {
  // SIGURG blocked on this thread and sent to this thread alone (F_SETOWN_EX, F_OWNER_TID), so
  // it stays pending for a signalfd, which a node:net pipe handle (Deno's uv_compat: a tokio
  // AsyncFd) registers with the event loop's own epoll: the kernel wakes this thread directly.
  const set = new Uint8Array(128);
  set[2] = 1 << 6; // SIGURG (23): bit 22
  if (libc.pthread_sigmask(0, set, null) !== 0) throw new Error("pthread_sigmask failed");
  const sfd = libc.signalfd(-1, set, 0o4000 | 0o2000000); // SFD_NONBLOCK | SFD_CLOEXEC
  const owner = new Int32Array([0, libc.gettid()]); // struct f_owner_ex: F_OWNER_TID, tid
  if (sfd < 0 || libc.fcntlOwner(fd, 15, new Uint8Array(owner.buffer)) !== 0) {
    throw new Error("signalfd / F_SETOWN_EX failed");
  }
  libc.fcntl(fd, 10, 23); // F_SETSIG SIGURG
  libc.fcntl(fd, 4, 0o20000 | 0o4000); // F_SETFL O_ASYNC | O_NONBLOCK
  const { Pipe } = (process as any).binding("pipe_wrap");
  const pipe = new Pipe(0);
  if (pipe.open(sfd) !== 0) throw new Error("pipe open failed");
  pipe.onread = () => drain();
  pipe.readStart();
} else if (wait === "uring") {
  // No signal, no thread: one io_uring on this thread holds a multishot IORING_OP_POLL_ADD on
  // the socket, and an eventfd registered with the ring (IORING_REGISTER_EVENTFD) is written by
  // the kernel whenever a completion posts. The completion is posted from task work queued to
  // the thread that submitted (this one, asleep in its event loop's epoll_wait, which the task
  // work wakes), and the eventfd is opened as a node:net pipe handle as in sigfd (its readiness
  // is the tokio reactor's): the kernel wakes this thread once per event. That wake-up
  // interrupts the epoll_wait (EINTR) to run the task work, which writes the eventfd: the loop
  // waits again and finds it.
  libc.fcntl(fd, 4, 0o4000); // F_SETFL O_NONBLOCK, no O_ASYNC
  const ring = openRing(fd);
  const efd = libc.eventfd(0, 0o4000 | 0o2000000); // EFD_NONBLOCK | EFD_CLOEXEC
  if (efd < 0 || libc.uringRegister(427, ring.fd, 4, new Int32Array([efd]), 1) !== 0n) {
    throw new Error("eventfd / IORING_REGISTER_EVENTFD failed");
  }
  const { Pipe } = (process as any).binding("pipe_wrap");
  const pipe = new Pipe(0);
  if (pipe.open(efd) !== 0) throw new Error("pipe open failed");
  pipe.onread = () => {
    ring.reap();
    drain();
  };
  pipe.readStart();
  ring.arm();
} else if (wait === "pipe") {
  // The socket itself opened as a node:net pipe handle: Deno's pipe reads it with read(2) at
  // each readiness (a datagram each, consumed, cut at 64 KiB, no MSG_TRUNC) and hands the
  // bytes to onread, so nothing is left for a reader of its own: not a waiter (the library
  // reads its sockets itself), only the floor of a wake-up through Deno's reactor with no
  // eventfd between.
  const { Pipe } = (process as any).binding("pipe_wrap");
  const pipe = new Pipe(0);
  if (pipe.open(fd) !== 0) throw new Error("pipe open failed");
  pipe.onread = (bytes: ArrayBuffer | undefined) => {
    entry.mark();
    if (bytes === undefined) return;
    const n = Math.min(bytes.byteLength, SIZE);
    buffer.set(new Uint8Array(bytes, 0, n));
    take(n);
    if (out.length >= want) resolve();
  };
  pipe.readStart();
} else if (wait === "context") {
  // No Worker, no pool: a thread of libc's own (pthread_create) that loops on poll(2) over the
  // socket, then calls a Deno.UnsafeCallback.threadSafe, which Deno runs on this thread's event
  // loop while that thread waits for it to return. Built without compiled code from two
  // ucontexts (makecontext): A runs poll(fds, 1, -1) and links to B, B runs the callback and
  // links back to A; the thread starts as setcontext(&A). The callback drains the socket, so
  // the next poll blocks until the next datagram.
  libc.fcntl(fd, 4, 0o4000); // F_SETFL O_NONBLOCK, no O_ASYNC
  const uc = g.Deno.dlopen("libc.so.6", {
    getcontext: { parameters: ["buffer"], result: "i32" },
    makecontext3: {
      name: "makecontext",
      parameters: ["buffer", "pointer", "i32", "pointer", "u64", "i32"],
      result: "void",
    },
    makecontext0: { name: "makecontext", parameters: ["buffer", "pointer", "i32"], result: "void" },
    pthread_create: { parameters: ["buffer", "pointer", "pointer", "pointer"], result: "i32" },
    dlsym: { parameters: ["pointer", "buffer"], result: "pointer" },
  }).symbols;
  const P = g.Deno.UnsafePointer;
  const sym = (name: string) => uc.dlsym(null, new TextEncoder().encode(name + "\0"));
  const addr = (b: Uint8Array) => P.value(P.of(b)) as bigint;
  const pollfd = new Uint8Array(new ArrayBuffer(8));
  new DataView(pollfd.buffer).setInt32(0, fd, true);
  new DataView(pollfd.buffer).setInt16(4, 1, true); // POLLIN
  // makecontext puts the return address of the context's function (libc's __start_context) at
  // the top of its stack, and __start_context's own call to setcontext overwrites that slot as
  // it leaves: a context runs once. The callback puts it back in both (A is not running then;
  // B's function is this callback, whose return reads the slot after it has been put back).
  let slots: [DataView, number][] = [];
  let startContext = 0n;
  const callback = g.Deno.UnsafeCallback.threadSafe(
    { parameters: [], result: "void" },
    () => {
      for (const [v, at] of slots) v.setBigUint64(at, startContext, true);
      drain();
    },
  );
  const STACK = 1 << 20;
  // x86-64 glibc ucontext_t (968 bytes): uc_link at 8, uc_stack.ss_sp at 16, ss_size at 32,
  // uc_sigmask at 296.
  const a = new Uint8Array(new ArrayBuffer(1024));
  const b = new Uint8Array(new ArrayBuffer(1024));
  const context = (c: Uint8Array, link: Uint8Array) => {
    const stack = new Uint8Array(new ArrayBuffer(STACK));
    if (uc.getcontext(c) !== 0) throw new Error("getcontext failed");
    const v = new DataView(c.buffer);
    v.setBigUint64(8, addr(link), true);
    v.setBigUint64(16, addr(stack), true);
    v.setBigUint64(32, BigInt(stack.byteLength), true);
    c.fill(0xff, 296, 296 + 128); // every signal blocked on the thread
    return stack;
  };
  const stackA = context(a, b);
  const stackB = context(b, a);
  uc.makecontext3(a, sym("poll"), 3, P.of(pollfd), 1n, -1);
  uc.makecontext0(b, callback.pointer, 0);
  // Each context's stack pointer (gregs[REG_RSP], at 160) points at that slot.
  slots = [[a, stackA], [b, stackB]].map(([c, stack]) => {
    const rsp = new DataView(c.buffer).getBigUint64(160, true);
    return [new DataView(stack.buffer), Number(rsp - addr(stack))];
  });
  startContext = slots[0][0].getBigUint64(slots[0][1], true);
  const thread = new Uint8Array(8);
  if (uc.pthread_create(thread, null, sym("setcontext"), P.of(a)) !== 0) {
    throw new Error("pthread_create failed");
  }
  (globalThis as any).keep = [a, b, stackA, stackB, pollfd, callback];
} else if (wait === "atomics" || wait === "message") {
  // A Worker blocked in a synchronous poll(2) on the socket; it tells this thread through
  // Atomics.notify (this thread in Atomics.waitAsync) or postMessage, then waits to be told
  // the socket was drained before it polls again.
  const state = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(new URL("./_floor_poller.ts", import.meta.url), { type: "module" });
  worker.postMessage({ fd, state, mode: wait });
  if (wait === "message") {
    worker.onmessage = () => {
      drain();
      worker.postMessage(0);
    };
  } else {
    (async () => {
      for (;;) {
        const r = Atomics.waitAsync(state, 0, 0);
        if (r.async) await r.value;
        drain();
        Atomics.store(state, 0, 0);
        Atomics.notify(state, 0);
      }
    })();
  }
} else if (g.Bun) process.on("SIGURG", drain);
else g.Deno.addSignalListener("SIGURG", drain);
if (toThread) {
  // Deno's signal thread, started by the first listener: the one thread blocked in recvfrom
  // (x86-64 syscall 45), reading the socket its signal handler writes to.
  const threads = [...g.Deno.readDirSync("/proc/self/task")].map((e: { name: string }) => e.name)
    .filter((tid: string) =>
      g.Deno.readTextFileSync(`/proc/self/task/${tid}/syscall`).split(" ")[0] === "45"
    );
  if (threads.length !== 1) {
    throw new Error(`signal thread not found: ${threads.length} in recvfrom`);
  }
  const owner = new Int32Array([0, Number(threads[0])]); // struct f_owner_ex: F_OWNER_TID, tid
  if (libc.fcntlOwner(fd, 15, new Uint8Array(owner.buffer)) !== 0) { // F_SETOWN_EX
    throw new Error("fcntl F_SETOWN_EX failed");
  }
}
/**
 * An io_uring of 4 entries with one multishot poll for POLLIN on `socket` (re-armed when the
 * kernel ends it), COOP_TASKRUN when the kernel has it (task work without an interrupt while
 * the thread runs).
 */
function openRing(socket: number) {
  const params = new Uint8Array(120);
  const p = new DataView(params.buffer);
  p.setUint32(8, 1 << 8, true); // IORING_SETUP_COOP_TASKRUN (5.19)
  let ringFd = Number(libc.uringSetup(425, 4, params));
  if (ringFd < 0) {
    params.fill(0);
    ringFd = Number(libc.uringSetup(425, 4, params));
  }
  if (ringFd < 0) throw new Error("io_uring_setup failed");
  const u32 = (at: number) => p.getUint32(at, true);
  if ((u32(20) & 1) === 0) throw new Error("no IORING_FEAT_SINGLE_MMAP");
  const size = Math.max(u32(64) + u32(0) * 4, u32(100) + u32(4) * 16);
  const map = (length: number, offset: bigint) => {
    const at = libc.mmap(null, BigInt(length), 3, 0x8001, ringFd, offset); // RW, SHARED|POPULATE
    if (g.Deno.UnsafePointer.value(at) === 0xffffffffffffffffn) throw new Error("mmap failed");
    return new DataView(g.Deno.UnsafePointerView.getArrayBuffer(at!, length));
  };
  const rings = map(size, 0n);
  const sqes = map(u32(0) * 64, 0x10000000n); // IORING_OFF_SQES
  const [sqTail, sqMask, sqArray] = [u32(44), rings.getUint32(u32(48), true), u32(64)];
  const [cqHead, cqTail, cqMask, cqes] = [
    u32(80),
    u32(84),
    rings.getUint32(u32(88), true),
    u32(100),
  ];
  const arm = () => {
    const tail = rings.getUint32(sqTail, true);
    const slot = tail & sqMask;
    const sqe = slot * 64;
    for (let i = 0; i < 64; i += 8) sqes.setBigUint64(sqe + i, 0n);
    sqes.setUint8(sqe, 6); // IORING_OP_POLL_ADD
    sqes.setInt32(sqe + 4, socket, true);
    sqes.setUint32(sqe + 24, 1, true); // IORING_POLL_ADD_MULTI
    sqes.setUint32(sqe + 28, 1, true); // POLLIN
    rings.setUint32(sqArray + slot * 4, slot, true);
    rings.setUint32(sqTail, tail + 1, true);
    if (libc.uringEnter(426, ringFd, 1, 0, 0, null, 0n) !== 1n) throw new Error("submit failed");
  };
  /** Takes every completion; re-arms when the poll ended (no IORING_CQE_F_MORE). */
  const reap = () => {
    const tail = rings.getUint32(cqTail, true);
    let more = true;
    for (let head = rings.getUint32(cqHead, true); head !== tail; head++) {
      const cqe = cqes + (head & cqMask) * 16;
      if ((rings.getUint32(cqe + 12, true) & 2) === 0) more = false;
    }
    rings.setUint32(cqHead, tail, true);
    if (!more) arm();
  };
  return { fd: ringFd, arm, reap };
}
writeFileSync(ready, "");
drain();
await done;
clearInterval(alive);
entry.write();
console.log(out.join("\n"));
process.exit(0);
