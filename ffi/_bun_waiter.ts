/**
 * Bun's fallback {@linkcode Waiter}, for threads other than the main one: Bun delivers signals
 * only to the main thread's listeners, so a Worker cannot use `_signal_waiter.ts` (its waits
 * would never wake). One shared poller Worker per thread that opens transports
 * (`_bun_poller.ts`), blocked in poll(2) over every socket with a pending wait plus its own
 * control eventfd.
 *
 * Why this way (numbers in ffi/README.md): bun:ffi has no asynchronous calls, so blocking must
 * happen on another thread, and one Worker for all sockets costs one thread however many
 * sockets wait. The alternatives measured were worse or fragile: timer polling costs CPU and
 * milliseconds, `Bun.file(fd).stream()` merges datagrams, truncates them above 64 KiB and dies
 * on ENOBUFS, and TinyCC threads need a compiler at run time and have a crash history.
 *
 * Protocol. A SharedArrayBuffer holds one slot per registered socket: state, fd, generation.
 * The worker cannot receive postMessage while blocked in FFI, so this side changes slots with
 * Atomics and then writes the control eventfd to wake the worker, which rebuilds its poll set
 * from the slots. The worker reports with postMessage, which is delivered even while it is
 * blocked again, as flat [slot, generation, kind] triples:
 *
 * - FREE → IDLE: registered (this side), on a socket's first wait.
 * - IDLE → ARMED: a wait starts (this side, then wakes the worker).
 * - ARMED → IDLE: the worker saw it readable (then posts READABLE), or this side cancelled.
 *   Disarming removes the fd from the poll set: a readable socket nobody waits for causes no
 *   busy loop.
 * - any → CLOSING: the transport closed (this side, then wakes the worker).
 * - CLOSING → FREE: the worker closed the fd (it may have been in the poll it just left, so only
 *   the worker knows when that is safe), then posts CLOSED; the slot is reused only after that.
 *
 * Generations make a stale READABLE (one that crossed a cancel) match no wait.
 *
 * Liveness: the Worker is unref'd except while at least one wait is pending, so an idle
 * process exits. Messages posted to a Worker before it finished loading can be dropped
 * (oven-sh/bun#40141); this side never posts to it, and waits until the worker's "ready"
 * message (which carries the buffer and the eventfd) before arming anything.
 *
 * @module
 */

import { SyscallError } from "../src/errors.ts";
import type { WaitResult } from "../src/transport.ts";
import type { BunLibc as Libc } from "./_bun_libc.ts";
import type { Waiter } from "./_waiter.ts";

// --- protocol shared with _bun_poller.ts -------------------------------------------------------

/** Int32 index of the number of slots ever allocated (the worker scans that many). */
export const SLOT_COUNT = 0;
/** Int32s before slot 0. */
export const HEADER_INTS = 2;
/** Int32s per slot: state, fd, generation, spare. */
export const SLOT_INTS = 4;
/** Offsets within a slot. */
export const STATE = 0, FD = 1, GENERATION = 2;
/** Slot states. */
export const FREE = 0, IDLE = 1, ARMED = 2, CLOSING = 3;
/** Message kinds from the worker. */
export const READABLE = 1, CLOSED = 2;
/** Slots the shared buffer starts with, and the most it grows to (registered sockets). */
export const INITIAL_SLOTS = 64, MAX_SLOTS = 65536;

/** Bytes of the shared buffer for `slots` slots. */
export function sharedBytes(slots: number): number {
  return (HEADER_INTS + slots * SLOT_INTS) * 4;
}

/** The worker's first message. */
export interface ReadyMessage {
  readonly type: "ready";
  readonly shared: SharedArrayBuffer;
  readonly control: number;
}

/** The worker's message when it cannot start. */
export interface FailedMessage {
  readonly type: "failed";
  readonly message: string;
}

// --- main-thread side --------------------------------------------------------------------------

/** The subset of Bun's Worker used here (a web Worker plus ref/unref, bun-types globals.d.ts). */
interface BunWorker {
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: { message?: string; error?: unknown }) => void) | null;
  ref(): void;
  unref(): void;
  terminate(): void;
}

/** Makes the waiter for socket `fd`. The shared poller starts on the first wait. */
export function newBunWaiter(libc: Libc, fd: number): Waiter {
  return new BunWaiter(libc, fd);
}

let poller: Poller | undefined;

class BunWaiter implements Waiter {
  readonly #libc: Libc;
  readonly #fd: number;
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
      const p = this.#poller ??= poller ??= new Poller(this.#libc);
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
    // The worker may already have seen it readable: its READABLE for this generation will then
    // find no pending wait and be dropped.
    if (this.#slot >= 0) this.#poller!.disarm(this.#slot);
    this.#finish(result);
  }

  close(): void {
    if (this.#slot < 0) {
      // Never reached the worker (no wait yet, or the worker is still starting): no poll can be
      // using the fd.
      this.#libc.close(this.#fd);
      if (this.#resolve) this.#finish("closed");
    } else {
      // The worker closes it once out of its poll; a pending wait ends "closed" then (onClosed).
      this.#poller!.release(this.#slot, this.#fd);
    }
  }

  /** The poller is ready: arm, unless the wait already ended. */
  onReady(p: Poller): void {
    if (this.#resolve === undefined) return;
    try {
      if (this.#slot < 0) this.#slot = p.register(this, this.#fd);
    } catch (err) {
      this.onFailed(err);
      return;
    }
    this.#generation = (this.#generation + 1) | 0;
    p.arm(this.#slot, this.#generation);
  }

  onReadable(generation: number): void {
    if (this.#resolve !== undefined && generation === this.#generation) this.#finish("readable");
  }

  onClosed(): void {
    if (this.#resolve !== undefined) this.#finish("closed");
  }

  onFailed(err: unknown): void {
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
  #control = -1;
  #failure: unknown;
  /** Waits started before the worker was ready. */
  #early: BunWaiter[] = [];
  readonly #waiters: (BunWaiter | undefined)[] = [];
  readonly #free: number[] = [];
  #holds = 0;
  readonly #one: Uint8Array;

  constructor(libc: Libc) {
    this.#libc = libc;
    this.#one = libc.alloc(8);
    new DataView(this.#one.buffer).setBigUint64(0, 1n, true);
    const WorkerClass = (globalThis as unknown as {
      Worker: new(url: string) => BunWorker;
    }).Worker;
    this.#worker = new WorkerClass(new URL("./_bun_poller.ts", import.meta.url).href);
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
    if (--this.#holds === 0) this.#worker.unref();
  }

  whenReady(waiter: BunWaiter): void {
    if (this.#failure !== undefined) waiter.onFailed(this.#failure);
    else if (this.#shared) waiter.onReady(this);
    else this.#early.push(waiter);
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
    return slot;
  }

  arm(slot: number, generation: number): void {
    const base = HEADER_INTS + slot * SLOT_INTS;
    Atomics.store(this.#shared!, base + GENERATION, generation);
    Atomics.store(this.#shared!, base + STATE, ARMED);
    this.#kick();
  }

  disarm(slot: number): void {
    // No wake-up needed: if the fd turns readable, the worker finds the slot IDLE, posts
    // nothing and drops the fd from its next poll.
    Atomics.compareExchange(this.#shared!, HEADER_INTS + slot * SLOT_INTS + STATE, ARMED, IDLE);
  }

  release(slot: number, fd: number): void {
    if (this.#failure !== undefined) {
      // The worker is gone (it failed to start or crashed): nobody else will close it.
      this.#libc.close(fd);
      this.#waiters[slot]?.onClosed();
      return;
    }
    Atomics.store(this.#shared!, HEADER_INTS + slot * SLOT_INTS + STATE, CLOSING);
    this.#kick();
  }

  #kick(): void {
    if (this.#libc.write(this.#control, this.#one, 8) < 0) {
      throw new SyscallError("write", this.#libc.errno(), "waking the netlink poller");
    }
  }

  #onMessage(data: unknown): void {
    if (this.#shared === undefined) {
      const message = data as ReadyMessage | FailedMessage;
      if (message.type === "failed") {
        this.#fail(new Error(`netlink poller worker failed: ${message.message}`));
        return;
      }
      this.#buffer = message.shared;
      this.#shared = new Int32Array(message.shared);
      this.#control = message.control;
      for (const waiter of this.#early.splice(0)) waiter.onReady(this);
      return;
    }
    const events = data as number[];
    for (let i = 0; i < events.length; i += 3) {
      const slot = events[i];
      const waiter = this.#waiters[slot];
      if (events[i + 2] === READABLE) {
        waiter?.onReadable(events[i + 1]);
      } else {
        this.#waiters[slot] = undefined;
        this.#free.push(slot);
        waiter?.onClosed();
      }
    }
  }

  #fail(err: unknown): void {
    this.#failure = err;
    if (poller === this) poller = undefined; // the next first wait starts a new worker
    this.#worker.terminate();
    for (const waiter of this.#early.splice(0)) waiter.onFailed(err);
    for (const waiter of this.#waiters) waiter?.onFailed(err);
  }
}
