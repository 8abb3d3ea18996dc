/**
 * Deno's {@linkcode Waiter}: one poll(2) per thread on Deno's blocking thread pool (a
 * `nonblocking: true` FFI call) over every armed socket of the thread plus a control eventfd.
 * The call's promise brings the wake-up back to the thread's event loop; the socket is then read
 * on the thread, as with every waiter.
 *
 * Why (numbers in ffi/README.md): an event through the library took 4-27% less than with the
 * signal waiter in two runs of three, 6% more (`for await`) in the other (Deno delivers a signal
 * through a handler that writes a socket its signal thread reads before it wakes the event loop). Deno's `core.unrefOpPromise` (Deno 2.9) lets a pending
 * call not keep the process alive; without it, a pending call always would, so `mod.ts` falls
 * back to the signal waiter when it is missing.
 *
 * Rules that make it correct:
 * - One poll in flight per thread at most, whatever the number of waiting sockets: a poll per
 *   socket would hold a thread of the pool (shared with file I/O) each.
 * - No lost wake-up: poll is level-triggered, so a datagram queued before the call is seen by it.
 *   A wait armed while a poll is in flight on a set without its socket writes the eventfd (once
 *   per poll), which ends that poll; the next one, started from its completion, has every armed
 *   socket.
 * - Never spins: each poll blocks until a socket of the set or the eventfd is readable; the
 *   eventfd is read back to zero before the next poll, and a readable socket whose wait has
 *   ended is left out of the next poll.
 * - A descriptor in the poll in flight is never closed under it (its number could go to another
 *   file, which the pool thread would then watch): close() writes the eventfd, and the poll's
 *   return (a pool round trip later) closes the descriptor and then ends the wait "closed".
 * - Liveness: the poll in flight is ref'd while a wait is pending or a close waits for it (a
 *   pending wait keeps the process alive), and unref'd and made to return when neither is (a
 *   cancel): it never keeps the process alive on its own, nor holds a pool thread for no wait.
 *   Between a wake-up and the next wait no call is in flight: the reader arms again in the same
 *   task or some microtasks later, before the event loop next asks what keeps it alive.
 * - The eventfd is made by the thread's first wait and closed once none of the thread's sockets
 *   that waited is open any more (after the poll in flight, if any, has returned).
 *
 * @module
 */

import { SyscallError } from "../src/errors.ts";
import type { WaitResult } from "../src/transport.ts";
import { OFFSETOF_POLLFD_REVENTS } from "./_constants.ts";
import type { Libc } from "./_libc.ts";
import { pollfdBytes, pollfdRevents, setPollfd } from "./_pollfd.ts";
import type { Waiter } from "./_waiter.ts";

/** What the pool waiter needs beyond {@linkcode Libc}: Deno-specific calls. */
export interface Pool {
  /** poll(2) on the runtime's thread pool; the promise is the runtime's op promise. */
  poll(fds: Uint8Array, nfds: number, timeout: number): Promise<number>;
  /**
   * eventfd(2) with EFD_NONBLOCK | EFD_CLOEXEC, on the calling thread; -1 and errno on failure.
   * The hub's first call (its eventfd comes before any poll, read or write).
   */
  eventfd(): number;
  /** read(2) of an eventfd's 8-byte counter into `counter`, on the calling thread. */
  readCounter(fd: number, counter: Uint8Array): number;
  /** write(2) of `counter`, 8 bytes, to an eventfd, on the calling thread. */
  writeCounter(fd: number, counter: Uint8Array): number;
  /** Lets a pending `poll` promise not keep the process alive, or keep it alive again. */
  unref(promise: Promise<number>): void;
  ref(promise: Promise<number>): void;
}

/** Makes the waiter for socket `fd`. Nothing is set up until its first wait. */
export function newPoolWaiter(libc: Libc, pool: Pool, fd: number): Waiter {
  return new PoolWaiter(libc, pool, fd);
}

/** This thread's poll (module state is per thread: each Worker its own). */
let hub: Hub | undefined;

class PoolWaiter implements Waiter {
  readonly fd: number;
  readonly #libc: Libc;
  readonly #pool: Pool;
  /** Counted among the hub's users: from the first wait until close. */
  #registered = false;
  #resolve: ((result: WaitResult) => void) | undefined;
  /** The pending wait came from waitThen(): see SignalWaiter's field of the same name. */
  #direct = false;

  constructor(libc: Libc, pool: Pool, fd: number) {
    this.#libc = libc;
    this.#pool = pool;
    this.fd = fd;
  }

  get pending(): boolean {
    return this.#resolve !== undefined;
  }

  wait(): Promise<WaitResult> {
    let settle!: (result: WaitResult) => void;
    const pending = new Promise<WaitResult>((resolve) => settle = resolve);
    try {
      this.#start(settle, false);
    } catch (err) {
      return Promise.reject(err);
    }
    return pending;
  }

  waitThen(done: (result: WaitResult) => void): void {
    this.#start(done, true);
  }

  #start(settle: (result: WaitResult) => void, direct: boolean): void {
    const h = hub ??= new Hub(this.#libc, this.#pool);
    h.open();
    if (!this.#registered) {
      h.register();
      this.#registered = true;
    }
    this.#resolve = settle;
    this.#direct = direct;
    h.arm(this);
  }

  wake(): void {
    this.finish("readable");
  }

  cancel(): void {
    this.finish("cancelled");
  }

  close(): void {
    const resolve = this.#resolve;
    this.#resolve = undefined;
    // "closed" once the descriptor is: a poll in flight may still have it for a moment.
    const closed = resolve && (() => this.#settle(resolve, "closed", false));
    if (this.#registered) {
      this.#registered = false;
      hub!.close(this, closed);
    } else {
      this.#libc.close(this.fd);
      closed?.();
    }
  }

  /**
   * The poll found this socket readable and its hub has disarmed it (it was armed, so a wait is
   * pending): the wait ends now, from the poll's completion. The common case's whole path.
   */
  woke(): void {
    const resolve = this.#resolve!;
    this.#resolve = undefined;
    resolve("readable");
  }

  /** Ends the pending wait, if any; `polled`: from the poll's completion (waitThen: at once). */
  finish(result: WaitResult, polled = false): void {
    const resolve = this.#resolve;
    if (resolve === undefined) return;
    this.#resolve = undefined;
    hub!.disarm(this);
    this.#settle(resolve, result, polled);
  }

  #settle(resolve: (result: WaitResult) => void, result: WaitResult, polled: boolean): void {
    if (this.#direct && !polled) queueMicrotask(() => resolve(result));
    else resolve(result);
  }
}

/** A socket closed while in the poll in flight: its descriptor, and what to tell once closed. */
interface Closing {
  fd: number;
  closed: (() => void) | undefined;
}

/** #polled while no poll is in flight; empty, so never written (see #returned). */
const NONE: PoolWaiter[] = [];

/** The eventfd's revents (pollfd 0) as an index into an Int16Array over the pollfds. */
const EVENTFD_REVENTS = OFFSETOF_POLLFD_REVENTS >> 1;

class Hub {
  readonly #libc: Libc;
  readonly #pool: Pool;
  /** Waiters registered (waited at least once) and not closed. */
  #users = 0;
  /** The control eventfd, or -1 (made by open(), closed once #users is 0 and no poll is in flight). */
  #eventfd = -1;
  readonly #armed = new Set<PoolWaiter>();
  /** The poll in flight, or undefined. */
  #inFlight: Promise<number> | undefined;
  /** Whether the poll in flight is ref'd. */
  #refd = false;
  /**
   * The waiters whose sockets the poll in flight has, in pollfd order after the eventfd: an
   * array of that poll's own (NONE while none is in flight), which its return reuses.
   */
  #polled: PoolWaiter[] = NONE;
  /** The eventfd was written since the poll in flight started. */
  #kicked = false;
  /** Sockets closed while in the poll in flight: closed when it returns, then told. */
  #closing: Closing[] = [];
  #fds = new Uint8Array(pollfdBytes(4));
  #fdsView = new DataView(this.#fds.buffer);
  /** The same memory as 16-bit words in host order, as the kernel writes revents. */
  #fdsWords = new Int16Array(this.#fds.buffer);
  /**
   * When the pollfds hold the eventfd and a single socket, written by an earlier poll and
   * unchanged since: that socket's waiter, the eventfd then, and that poll's array (one
   * waiter's: the next poll of the same socket reuses all three, see #poll).
   */
  #written: PoolWaiter | undefined;
  #writtenEventfd = -1;
  #writtenList: PoolWaiter[] = NONE;
  /** The eventfd counter read back (its value is not used). */
  readonly #word = new Uint8Array(8);
  /** 1 as an eventfd counter increment. */
  readonly #one = new Uint8Array(new BigUint64Array([1n]).buffer);

  constructor(libc: Libc, pool: Pool) {
    this.#libc = libc;
    this.#pool = pool;
  }

  register(): void {
    this.#users++;
  }

  /** Makes the eventfd, unless it is open; throws SyscallError (EMFILE) when it cannot. */
  open(): void {
    if (this.#eventfd < 0) {
      const fd = this.#pool.eventfd();
      if (fd < 0) {
        const errno = this.#libc.errno();
        throw new SyscallError(
          "eventfd",
          errno,
          "no descriptor left for the eventfd that netlink waits need on Deno: close "
            + "descriptors, or raise the limit (ulimit -n); this socket has failed for good: "
            + "open another once a descriptor is free",
        );
      }
      this.#eventfd = fd;
    }
  }

  /** Adds `waiter` to the poll (its hub is open()). */
  arm(waiter: PoolWaiter): void {
    this.#armed.add(waiter);
    if (this.#inFlight === undefined) {
      this.#poll(waiter);
      return;
    }
    // A poll in flight (unref'd if nothing was armed): it keeps the process alive again, and
    // if it does not have this socket, it returns and the next one will.
    this.#holdIfNeeded();
    if (!this.#polled.includes(waiter)) this.#kick();
  }

  /**
   * `waiter`'s wait ended. A poll left in flight with nothing armed (a cancel) is made to return,
   * so that no pool thread stays blocked for no wait, and unref'd meanwhile: it never keeps the
   * process alive on its own, even should the pool be too busy to run it soon.
   */
  disarm(waiter: PoolWaiter): void {
    this.#armed.delete(waiter);
    if (this.#armed.size !== 0 || this.#inFlight === undefined) return;
    this.#kick();
    this.#holdIfNeeded();
  }

  /**
   * `waiter` is closed: its descriptor is closed now, or when the poll in flight that has it
   * returns (made to return now), and then `closed` is called.
   */
  close(waiter: PoolWaiter, closed: (() => void) | undefined): void {
    this.#users--;
    if (this.#written === waiter) {
      this.#written = undefined;
      this.#writtenList = NONE;
    }
    if (this.#inFlight !== undefined && this.#polled.includes(waiter)) {
      this.#closing.push({ fd: waiter.fd, closed });
      this.disarm(waiter);
      this.#kick();
      return;
    }
    this.disarm(waiter);
    this.#libc.close(waiter.fd);
    if (this.#users === 0 && this.#inFlight === undefined) this.#closeEventfd();
    closed?.();
  }

  /**
   * Refs the poll in flight while a wait is pending or a close waits for its return (a wait it
   * ends "closed" must keep the process alive until then), unrefs it otherwise.
   */
  #holdIfNeeded(): void {
    const inFlight = this.#inFlight!;
    const hold = this.#armed.size !== 0 || this.#closing.length !== 0;
    if (hold === this.#refd) return;
    this.#refd = hold;
    if (hold) this.#pool.ref(inFlight);
    else this.#pool.unref(inFlight);
  }

  #closeEventfd(): void {
    if (this.#eventfd < 0) return;
    this.#libc.close(this.#eventfd);
    this.#eventfd = -1;
  }

  /** Makes the poll in flight return. */
  #kick(): void {
    if (this.#kicked) return;
    this.#kicked = true;
    this.#pool.writeCounter(this.#eventfd, this.#one);
  }

  /**
   * Starts the poll over every armed socket. `arming`: the waiter whose arm() starts it; when it
   * is the only one armed and the pollfds already hold it (a monitor's every wait after its
   * first), nothing is written: the kernel rewrites only revents.
   */
  #poll(arming?: PoolWaiter): void {
    let list: PoolWaiter[];
    if (
      arming !== undefined && arming === this.#written && this.#armed.size === 1
      && this.#writtenEventfd === this.#eventfd
    ) {
      list = this.#writtenList;
    } else {
      list = [...this.#armed];
      const n = list.length + 1;
      if (pollfdBytes(n) > this.#fds.byteLength) {
        this.#fds = new Uint8Array(pollfdBytes(2 * n));
        this.#fdsView = new DataView(this.#fds.buffer);
        this.#fdsWords = new Int16Array(this.#fds.buffer);
      }
      const v = this.#fdsView;
      setPollfd(v, 0, this.#eventfd);
      for (let i = 0; i < list.length; i++) setPollfd(v, i + 1, list[i].fd);
      this.#written = list.length === 1 ? list[0] : undefined;
      this.#writtenEventfd = this.#eventfd;
      this.#writtenList = list;
    }
    this.#polled = list;
    this.#kicked = false;
    this.#refd = true;
    const call = this.#pool.poll(this.#fds, list.length + 1, -1);
    this.#inFlight = call;
    call.then(this.#returned);
  }

  // Runs once per event, right after the wake-up, while a monitor's code is still cold (V8's
  // lower tiers): no array, closure or iterator made here in the common case (one wait ended,
  // no close), each of which cost microseconds there.
  readonly #returned = (ready: number): void => {
    this.#inFlight = undefined;
    // This poll's own array: the woken are gathered at its front (below).
    const polled = this.#polled;
    this.#polled = NONE;
    // A monitor's every event: one socket polled, it alone readable (one ready, not the eventfd),
    // nothing closing (so it is open, and the eventfd stays). Its wait ends with no call but
    // woke(); a socket armed meanwhile kicked the eventfd, which the next poll finds.
    if (
      ready === 1 && polled.length === 1 && this.#closing.length === 0
      && this.#fdsWords[EVENTFD_REVENTS] === 0
    ) {
      const waiter = polled[0];
      if (this.#armed.delete(waiter)) waiter.woke();
      if (this.#armed.size > 0 && this.#inFlight === undefined) this.#poll();
      return;
    }
    let closing: Closing[] | undefined;
    if (this.#closing.length !== 0) {
      closing = this.#closing;
      this.#closing = [];
      for (let i = 0; i < closing.length; i++) this.#libc.close(closing[i].fd);
    }
    const v = this.#fdsView;
    if (ready > 0 && pollfdRevents(v, 0) !== 0) this.#pool.readCounter(this.#eventfd, this.#word);
    if (this.#users === 0) this.#closeEventfd();
    // The readable first, then their waits ended: a waitThen() reader arms again from its
    // callback, and the next poll reuses these pollfds.
    let woken = 0;
    if (ready > 0) {
      for (let i = 0; i < polled.length; i++) {
        if (pollfdRevents(v, i + 1) !== 0) polled[woken++] = polled[i];
      }
    }
    if (closing !== undefined) { for (let i = 0; i < closing.length; i++) closing[i].closed?.(); }
    for (let i = 0; i < woken; i++) {
      const waiter = polled[i];
      if (this.#armed.has(waiter)) waiter.finish("readable", true);
    }
    if (this.#armed.size > 0 && this.#inFlight === undefined) this.#poll();
  };
}
