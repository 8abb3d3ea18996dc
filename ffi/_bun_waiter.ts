/**
 * Bun's fallback {@linkcode Waiter}, for threads other than the main one: Bun delivers signals
 * only to the main thread's listeners, so a Worker cannot use `_signal_waiter.ts` (its waits
 * would never wake). One shared poller Worker per thread that opens transports
 * (`_bun_poller.ts`), blocked in poll(2) over every socket with a pending wait plus a control
 * eventfd.
 *
 * Why this way (numbers in ffi/README.md): bun:ffi has no asynchronous calls, so blocking must
 * happen on another thread, and one Worker for all sockets costs one thread however many
 * sockets wait. The alternatives measured were worse or fragile: timer polling costs CPU and
 * milliseconds, `Bun.file(fd).stream()` merges datagrams, truncates them above 64 KiB and dies
 * on ENOBUFS, and TinyCC threads need a compiler at run time and have a crash history.
 *
 * Protocol. A SharedArrayBuffer, made by the worker and sent in its "ready" message, holds a
 * header (slot count, run state, control eventfd) and one slot per registered socket: state, fd,
 * generation. The worker cannot receive postMessage while blocked in FFI, so this side changes
 * slots with Atomics and then writes the control eventfd to wake the worker, which rebuilds its
 * poll set from the slots. The worker reports with postMessage, which is delivered even while it
 * is blocked again, as flat [slot, generation] pairs of readable slots:
 *
 * - FREE → IDLE: registered (this side), on a socket's first wait.
 * - IDLE → ARMED: a wait starts (this side, then wakes the worker).
 * - ARMED → IDLE: the worker saw it readable (then reports it), or this side cancelled.
 *   Disarming removes the fd from the poll set: a readable socket nobody waits for causes no
 *   busy loop.
 * - any → FREE: the transport closed (this side: slot freed, fd closed, worker woken).
 *
 * Generations (one counter per poller, so a reused slot never repeats one) make a stale report
 * (one that crossed a cancel or a close) match no wait.
 *
 * Descriptors. This side owns every one: it closes a socket itself, at once, and the control
 * eventfd too. A poll that already has a closed socket holds the file until it returns, which
 * the wake-up makes it do at once; the worker reports a slot only if it still holds the fd it
 * polled. Bun runs no JavaScript in a Worker it terminates (nor in the poller nested in it) and
 * closes no descriptor opened through FFI, so whatever is open then stays open: hence the run
 * state below, which leaves nothing of ours open once a thread's sockets are closed.
 *
 * Run state (header word), the poller's lifecycle:
 *
 * - PARKED: the worker waits in Atomics.wait, polls nothing, and no eventfd exists. It starts so.
 * - PARKED → RUNNING: a wait is armed: this side makes the eventfd, stores it, sets RUNNING and
 *   notifies.
 * - RUNNING → PARK_REQUESTED: the thread's last registered socket was released with no wait
 *   pending: this side sets it and wakes the worker, which moves it to PARKED (compare-exchange)
 *   and notifies; this side waits for that (up to PARK_ACK_MS, a context switch in practice) and
 *   then closes the eventfd, so close() returns with no descriptor of ours left. Were the worker
 *   not to answer in time, the eventfd is closed once it has (the next arming, the grace's end)
 *   or has exited: never while it may still poll or read that number.
 * - PARK_REQUESTED → RUNNING: a wait came first (compare-exchange): the eventfd stays.
 * - Sockets still registered but no wait for GRACE_MS (an unref'd timer): parked the same way,
 *   so a Worker terminated while it holds idle sockets leaves only those.
 * - Nothing registered for GRACE_MS: the worker is terminated; the next wait starts a new one,
 *   transparently. The grace spares a thread that opens, waits on and closes one socket after
 *   another a worker start per socket (ffi/README.md has the numbers).
 * - The thread's "exit" (process.exit() in the Worker, or its natural end) parks and stops it.
 *
 * Liveness: the Worker is unref'd except while at least one wait is pending, so an idle
 * process exits. Messages posted to a Worker before it finished loading can be dropped
 * (oven-sh/bun#40141); this side never posts to it, and waits until the worker's "ready"
 * message (which carries the buffer) before arming anything.
 *
 * @module
 */

import { SyscallError } from "../src/errors.ts";
import type { WaitResult } from "../src/transport.ts";
import type { BunLibc as Libc } from "./_bun_libc.ts";
// A type, for what the poller posts; the import also puts the poller in the package's module
// graph, which JSR's npm tarballs (`bunx jsr add`) are made of: a file that only a Worker URL
// names is left out of them.
import type { PollerMessage } from "./_bun_poller.ts";
import { EFD_CLOEXEC, EFD_NONBLOCK } from "./_constants.ts";
import type { Waiter } from "./_waiter.ts";

// --- protocol shared with _bun_poller.ts -------------------------------------------------------

/** Int32 index of the number of slots ever allocated (the worker scans that many). */
export const SLOT_COUNT = 0;
/** Int32 index of the run state (PARKED, RUNNING, PARK_REQUESTED). */
export const RUN_STATE = 1;
/** Int32 index of the control eventfd, valid while RUNNING. */
export const CONTROL = 2;
/** Int32s before slot 0. */
export const HEADER_INTS = 4;
/** Int32s per slot: state, fd, generation, spare. */
export const SLOT_INTS = 4;
/** Offsets within a slot. */
export const STATE = 0, FD = 1, GENERATION = 2;
/** Slot states. */
export const FREE = 0, IDLE = 1, ARMED = 2;
/** Run states (PARKED is 0: a new buffer starts parked). */
export const PARKED = 0, RUNNING = 1, PARK_REQUESTED = 2;
/** Slots the shared buffer starts with, and the most it grows to (registered sockets). */
export const INITIAL_SLOTS = 64, MAX_SLOTS = 65536;

/** Bytes of the shared buffer for `slots` slots. */
export function sharedBytes(slots: number): number {
  return (HEADER_INTS + slots * SLOT_INTS) * 4;
}

// --- the waiting thread's side ----------------------------------------------------------------

/**
 * How long a poller with no wait pending keeps running while sockets are registered (then it
 * parks), or stays parked with none registered (then it stops).
 */
export const GRACE_MS = 500;
/** How long releasing the last socket waits for the worker to confirm it parked. */
const PARK_ACK_MS = 50;

/**
 * The poller's file, beside this one and named as this one is: `.ts` here, `.js` in JSR's npm
 * tarballs (`bunx jsr add`), whose modules are transpiled and whose import specifiers are
 * rewritten to `.js`, which a Worker's URL is not.
 */
const POLLER_URL = new URL(
  `./_bun_poller${import.meta.url.slice(import.meta.url.lastIndexOf("."))}`,
  import.meta.url,
).href;

/** The subset of Bun's Worker used here (a web Worker plus ref/unref, bun-types globals.d.ts). */
interface BunWorker {
  onmessage: ((event: { data: PollerMessage }) => void) | null;
  onerror: ((event: { message?: string; error?: unknown }) => void) | null;
  addEventListener(type: "close", listener: () => void): void;
  ref(): void;
  unref(): void;
  terminate(): void;
}

/** Makes the waiter for socket `fd`. The shared poller starts on the first wait. */
export function newBunWaiter(libc: Libc, fd: number): Waiter {
  return new BunWaiter(libc, fd);
}

/** This thread's poller; undefined until a wait needs one, and again once it stopped. */
let poller: Poller | undefined;
/** The thread's "exit" listener is installed (once, with its first poller). */
let exitHooked = false;

/** The poller a new wait uses: the current one, or a new one if it stopped (or none ran). */
function currentPoller(libc: Libc): Poller {
  if (poller === undefined) {
    if (!exitHooked) {
      exitHooked = true;
      // Bun runs this on the thread's process.exit() and natural end, not on terminate().
      (globalThis as unknown as { process?: { on(event: "exit", f: () => void): void } }).process
        ?.on("exit", () => poller?.stop());
    }
    poller = new Poller(libc);
  }
  return poller;
}

class BunWaiter implements Waiter {
  readonly #libc: Libc;
  readonly #fd: number;
  /** The poller its slot is in, or its pending wait waits for. */
  #poller: Poller | undefined;
  #slot = -1;
  #generation = 0;
  #resolve: ((result: WaitResult) => void) | undefined;
  #reject: ((err: unknown) => void) | undefined;

  constructor(libc: Libc, fd: number) {
    this.#libc = libc;
    this.#fd = fd;
  }

  get pending(): boolean {
    return this.#resolve !== undefined;
  }

  wait(): Promise<WaitResult> {
    return new Promise((resolve, reject) => {
      // A registered socket keeps its poller alive; any other waits with the current one (the
      // one it used before may have stopped since).
      const p = this.#slot >= 0 ? this.#poller! : (this.#poller = currentPoller(this.#libc));
      this.#resolve = resolve;
      this.#reject = reject;
      p.hold();
      p.whenReady(this);
    });
  }

  cancel(): void {
    this.#end("cancelled");
  }

  wake(): void {
    this.#end("readable");
  }

  /** Ends the pending wait, if any, before the worker sees the socket readable. */
  #end(result: WaitResult): void {
    if (this.#resolve === undefined) return;
    // The worker may already have seen it readable: its report for this generation will then
    // find no pending wait and be dropped.
    if (this.#slot >= 0) this.#poller!.disarm(this.#slot);
    this.#finish(result);
  }

  close(): void {
    if (this.#slot >= 0) {
      this.#poller!.release(this.#slot, this.#fd);
      this.#slot = -1;
    } else {
      // Never reached the worker (no wait yet, or the worker is still starting): no poll can be
      // using the fd.
      this.#libc.close(this.#fd);
    }
    if (this.#resolve) this.#finish("closed");
  }

  /** The poller is ready: arm, unless the wait already ended (or waits for another poller). */
  onReady(p: Poller): void {
    if (this.#resolve === undefined || p !== this.#poller) return;
    try {
      if (this.#slot < 0) this.#slot = p.register(this, this.#fd);
      this.#generation = p.arm(this.#slot);
    } catch (err) {
      this.#fail(err);
    }
  }

  onReadable(generation: number): void {
    if (this.#resolve !== undefined && generation === this.#generation) this.#finish("readable");
  }

  /** Its poller failed: a pending wait rejects, and the next wait starts with a new poller. */
  onFailed(err: unknown): void {
    this.#slot = -1;
    this.#fail(err);
  }

  #fail(err: unknown): void {
    const reject = this.#reject;
    if (reject === undefined) return;
    this.#resolve = this.#reject = undefined;
    this.#poller!.unhold();
    reject(err);
  }

  #finish(result: WaitResult): void {
    const resolve = this.#resolve!;
    this.#resolve = this.#reject = undefined;
    this.#poller!.unhold();
    resolve(result);
  }
}

class Poller {
  readonly #libc: Libc;
  readonly #worker: BunWorker;
  #shared: Int32Array | undefined;
  #buffer: SharedArrayBuffer | undefined;
  #failure: unknown;
  /** Waits started before the worker was ready. */
  #early: BunWaiter[] = [];
  readonly #waiters: (BunWaiter | undefined)[] = [];
  readonly #free: number[] = [];
  #registered = 0;
  #holds = 0;
  #generation = 0;
  /** The control eventfd, or -1. Open while RUNNING, and after until the worker has parked. */
  #control = -1;
  /** RUNNING was set by this side and no park asked since. */
  #running = false;
  /** When the last wait ended or the last socket closed (performance.now()). */
  #quietSince = 0;
  /** The idle timer, while one is set (unref'd). */
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  readonly #one: Uint8Array;

  constructor(libc: Libc) {
    this.#libc = libc;
    this.#one = libc.alloc(8);
    new DataView(this.#one.buffer).setBigUint64(0, 1n, true);
    const WorkerClass = (globalThis as unknown as {
      Worker: new(url: string, options: { name: string }) => BunWorker;
    }).Worker;
    // The name is the thread's name in /proc (the tests count pollers by it).
    this.#worker = new WorkerClass(POLLER_URL, {
      name: "netlink-poller",
    });
    this.#worker.unref();
    this.#worker.onmessage = (event) => this.#onMessage(event.data);
    this.#worker.onerror = (event) => {
      this.#fail(event.error ?? new Error(`netlink poller worker failed: ${event.message}`));
    };
  }

  /** A wait is pending: the worker must keep the process alive. */
  hold(): void {
    if (this.#holds++ === 0) this.#worker.ref();
  }

  /** A wait ended. */
  unhold(): void {
    if (--this.#holds > 0 || this.#stopped) return;
    this.#worker.unref();
    this.#quiet();
  }

  whenReady(waiter: BunWaiter): void {
    if (this.#failure !== undefined) waiter.onFailed(this.#failure);
    else if (this.#shared) waiter.onReady(this);
    else if (!this.#early.includes(waiter)) this.#early.push(waiter);
  }

  register(waiter: BunWaiter, fd: number): number {
    const shared = this.#shared!;
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = Atomics.load(shared, SLOT_COUNT);
      if (slot >= MAX_SLOTS) {
        throw new Error(`netlink: more than ${MAX_SLOTS} sockets waiting in one thread`);
      }
      const bytes = sharedBytes(slot + 1);
      if (bytes > this.#buffer!.byteLength) {
        // Growable SharedArrayBuffer: both threads' length-tracking views see the new size.
        (this.#buffer as unknown as { grow(n: number): void }).grow(
          Math.min(Math.max(bytes, this.#buffer!.byteLength * 2), sharedBytes(MAX_SLOTS)),
        );
      }
      Atomics.store(shared, SLOT_COUNT, slot + 1);
    }
    const base = HEADER_INTS + slot * SLOT_INTS;
    Atomics.store(shared, base + FD, fd);
    Atomics.store(shared, base + STATE, IDLE);
    this.#waiters[slot] = waiter;
    this.#registered++;
    return slot;
  }

  /** Puts `slot` in the poll set; returns the generation its report will carry. */
  arm(slot: number): number {
    const shared = this.#shared!;
    const base = HEADER_INTS + slot * SLOT_INTS;
    const generation = this.#generation = (this.#generation + 1) | 0;
    Atomics.store(shared, base + GENERATION, generation);
    Atomics.store(shared, base + STATE, ARMED);
    try {
      // A parked worker, once notified, reads every slot anew: no write needed then.
      if (this.#run() || this.#kick()) return generation;
      throw new SyscallError("write", this.#libc.errno(), "waking the netlink poller");
    } catch (err) {
      Atomics.store(shared, base + STATE, IDLE);
      throw err;
    }
  }

  disarm(slot: number): void {
    // No wake-up needed: if the fd turns readable, the worker finds the slot IDLE, posts
    // nothing and drops the fd from its next poll.
    Atomics.compareExchange(this.#shared!, HEADER_INTS + slot * SLOT_INTS + STATE, ARMED, IDLE);
  }

  /** Closes a registered socket: out of the poll set first, then closed, then the worker woken. */
  release(slot: number, fd: number): void {
    Atomics.store(this.#shared!, HEADER_INTS + slot * SLOT_INTS + STATE, FREE);
    this.#libc.close(fd);
    // A poll that has the fd keeps the socket (bound, receiving) until it returns.
    if (this.#control >= 0) this.#kick();
    this.#waiters[slot] = undefined;
    this.#free.push(slot);
    this.#registered--;
    if (this.#holds === 0) this.#quiet();
  }

  /** Terminates the worker; closes the eventfd once the worker can no longer use it. */
  stop(): void {
    if (this.#stopped) return;
    if (this.#failure === undefined) this.#park();
    this.#closeControlIfParked();
    this.#stopped = true;
    clearTimeout(this.#idleTimer);
    if (poller === this) poller = undefined;
    this.#worker.onmessage = this.#worker.onerror = null;
    if (this.#control >= 0) {
      // It never confirmed it parked: it may still poll or read that number until it is gone.
      const control = this.#control;
      this.#worker.addEventListener("close", () => this.#libc.close(control));
    }
    this.#worker.terminate();
  }

  /** Wakes the worker; false if the eventfd could not be written. */
  #kick(): boolean {
    return this.#libc.write(this.#control, this.#one, 8) >= 0;
  }

  /** Makes sure the worker polls, with an open eventfd; true if it had to wake it from parking. */
  #run(): boolean {
    if (this.#running) return false;
    const shared = this.#shared!;
    this.#running = true;
    // Still asked to park, not parked yet: take it back; the eventfd stays.
    if (Atomics.compareExchange(shared, RUN_STATE, PARK_REQUESTED, RUNNING) === PARK_REQUESTED) {
      return false;
    }
    // Parked: the worker has let go of the old eventfd, if any is still open.
    this.#closeControlIfParked();
    const control = this.#libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (control < 0) {
      this.#running = false;
      throw new SyscallError("eventfd", this.#libc.errno(), "starting the netlink poller");
    }
    this.#control = control;
    Atomics.store(shared, CONTROL, control);
    Atomics.store(shared, RUN_STATE, RUNNING);
    Atomics.notify(shared, RUN_STATE);
    return true;
  }

  /**
   * No wait is pending. With no socket registered either, the worker parks now (so close()
   * leaves nothing of ours open) and stops after the grace; otherwise it parks after the grace.
   * One timer at most, checked when it fires, so that a monitor's waits do not each set one.
   */
  #quiet(): void {
    if (this.#stopped) return;
    this.#quietSince = performance.now();
    if (this.#registered === 0) this.#park();
    this.#setIdleTimer(GRACE_MS);
  }

  #setIdleTimer(ms: number): void {
    if (this.#idleTimer !== undefined) return;
    const timer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#holds > 0 || this.#stopped) return; // the wait's end sets it again
      const left = this.#quietSince + GRACE_MS - performance.now();
      if (left > 0) return this.#setIdleTimer(left);
      if (this.#registered === 0) this.stop();
      else this.#park();
    }, ms);
    // Bun's Timer; typed as whatever setTimeout returns where this is checked (a number in Deno).
    (timer as unknown as { unref(): void }).unref();
    this.#idleTimer = timer;
  }

  /** Asks a running worker to park, waits briefly for it, and closes the eventfd if it did. */
  #park(): void {
    if (!this.#running) return;
    this.#running = false;
    const shared = this.#shared!;
    Atomics.store(shared, RUN_STATE, PARK_REQUESTED);
    this.#kick();
    Atomics.wait(shared, RUN_STATE, PARK_REQUESTED, PARK_ACK_MS);
    this.#closeControlIfParked();
  }

  #closeControlIfParked(): void {
    if (this.#control < 0 || Atomics.load(this.#shared!, RUN_STATE) !== PARKED) return;
    this.#libc.close(this.#control);
    this.#control = -1;
  }

  #onMessage(data: PollerMessage): void {
    if (this.#shared === undefined) {
      const message = data as Extract<PollerMessage, { type: "ready" }>;
      this.#buffer = message.shared;
      this.#shared = new Int32Array(message.shared);
      for (const waiter of this.#early.splice(0)) waiter.onReady(this);
      return;
    }
    const events = data as number[];
    for (let i = 0; i < events.length; i += 2) this.#waiters[events[i]]?.onReadable(events[i + 1]);
  }

  #fail(err: unknown): void {
    this.#failure = err;
    this.stop(); // the next first wait starts a new worker
    for (const waiter of this.#early.splice(0)) waiter.onFailed(err);
    for (const waiter of this.#waiters) waiter?.onFailed(err);
  }
}
