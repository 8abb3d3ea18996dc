/**
 * The {@linkcode Waiter} of both runtimes: signal-driven I/O. While a wait is pending its socket
 * has O_ASYNC set, with the process as owner (F_SETOWN) and SIGURG as the signal (F_SETSIG), so
 * the kernel raises SIGURG when a datagram (or an error such as ENOBUFS) is queued to it. The
 * runtime's own signal machinery wakes the event loop and calls one listener per thread, which
 * polls every armed socket with a zero timeout (one syscall, however many sockets wait) and ends
 * the waits of those that are readable.
 *
 * Why (numbers in ffi/README.md): no thread blocks and no call is in flight, so a wake-up costs
 * a signal and one turn of the event loop. That was the fastest wake-up measured on both
 * runtimes, and it makes the rest simple: nothing else ever has the descriptor in a poll, so
 * close() closes it at once, and a pending wait never depends on a thread pool or a Worker.
 *
 * Rules that make it correct:
 * - No lost wake-up: the readiness check comes after arming (O_ASYNC set, socket in the armed
 *   set), so a datagram queued before the wait is seen by the check and one queued after it
 *   raises a signal. Signals coalesce, so the listener checks every armed socket, not one.
 * - SIGURG, not SIGIO: SIGURG's default action is to ignore, so a signal that arrives when no
 *   listener is installed (Bun restores the default action when the last one is removed; SIGIO's
 *   default kills the process) is harmless. Netlink sockets never carry the out-of-band data that
 *   SIGURG otherwise reports. A user's own SIGURG listener sees these signals too.
 * - O_ASYNC while a wait is pending and through the short drain that follows a wake-up: a wake
 *   costs no syscall but the reads (no fcntl to clear the flag, none to set it again, no
 *   readiness check when nothing can have been missed, below). A drain that finds more than a
 *   few datagrams (a burst or a flood) clears it, so a socket being drained raises no signal per
 *   datagram; so does a cancelled wait, and a signal that finds the socket neither waiting nor
 *   draining, so an idle socket raises at most one.
 * - The readiness check after arming is skipped when it cannot find anything: O_ASYNC has been
 *   set since the last read found the queue empty. Whatever arrived after that read raised a
 *   signal whose listener call is still to come (a call that found the socket not waiting would
 *   have cleared O_ASYNC), and it comes after the arming: listeners run as event-loop tasks,
 *   never inside this synchronous code.
 * - One armed socket and a signal: its wait ends without a poll (a spurious wake-up, from a
 *   socket still draining or a user's own SIGURG, costs the reader one empty read). With several
 *   armed, one poll with a zero timeout says which are readable.
 * - Liveness: neither runtime's signal listener keeps the process alive, so a far-future
 *   interval timer is ref'd while at least one wait is pending and unref'd otherwise (by a
 *   microtask once none is, a few microtasks later: before the event loop next asks what keeps
 *   it alive, but not between a wake-up and the wait its reader or a `for await` consumer
 *   starts again): it never fires and costs no CPU.
 *
 * @module
 */

import { methodsOf, perEventClosures, perEventCode } from "../src/_per_event.ts";
import { SyscallError } from "../src/errors.ts";
import type { WaitResult } from "../src/transport.ts";
import { F_GETFL, F_SETFL, F_SETOWN, F_SETSIG, O_ASYNC, SIGURG } from "./_constants.ts";
import type { Libc } from "./_libc.ts";
import { pollfdBytes, pollfdRevents, setPollfd } from "./_pollfd.ts";
import type { Waiter } from "./_waiter.ts";

/** The runtime-specific part: a signal listener, and a handle that keeps the process alive. */
export interface Signals {
  /**
   * Calls `listener` on this thread's event loop each time the process gets SIGURG. Throws
   * (SyscallError) when it cannot install the listener: the wait that asked fails.
   */
  listen(listener: () => void): void;
  /** A handle that keeps the event loop alive while ref'd (and not before the first ref). */
  keepAlive(): { ref(): void; unref(): void };
  /**
   * Called once each signal's listener call has ended the waits it found readable (and their
   * callbacks, a `listen()` handler, have run), until it returns false (Bun: see ffi/_bun_jit.ts).
   */
  afterWake?: () => boolean;
}

/** Makes the waiter for socket `fd`. Nothing is set up until its first wait. */
export function newSignalWaiter(libc: Libc, signals: Signals, fd: number): Waiter {
  return new SignalWaiter(libc, signals, fd);
}

/** The waiters of this thread with O_ASYNC set (module state is per thread: each Worker its own). */
let hub: Hub | undefined;

/** Datagrams one drain may read with O_ASYNC still set: more is a burst, and it is cleared. */
const QUIET_AFTER = 4;

/**
 * How many microtasks the keep-alive's release waits, once nothing is armed, for a wait to be
 * armed again. A `for await` consumer's continuation takes the event's messages and asks for the
 * next, which arms it, some microtasks after the wake-up that disarmed it: in the first for an
 * event of one datagram, the second for two, the third for three (a link change; counted on Bun
 * and on Deno's signal waiter, over 40 link changes), and through a typed monitor (src/ynl),
 * whose step settles in the wake-up's task too, in the first for one and the sixth for three (by
 * the order of its microtasks, not counted). Waiting one made a monitor of more than one datagram
 * unref and ref the timer at every event (15-20 us on Deno). Each extra wait is a microtask, and
 * comes only when nothing re-arms that soon (the iteration ended, or its code awaits other I/O
 * first).
 */
const RELEASE_HOPS = 8;

class SignalWaiter implements Waiter {
  readonly fd: number;
  readonly #libc: Libc;
  readonly #signals: Signals;
  /** The descriptor's file status flags without O_ASYNC, read on the first wait. */
  #flags = -1;
  /** True while O_ASYNC is set on the descriptor. */
  #async = false;
  /** Datagrams read since the last wake-up or empty read. */
  #burst = 0;
  /**
   * True when the last read found the queue empty with O_ASYNC set: whatever arrived since
   * raised a signal, and its listener call, which ends a wait or clears O_ASYNC, is still to come.
   */
  #drained = false;
  #resolve: ((result: WaitResult) => void) | undefined;
  /**
   * The pending wait came from waitThen(): a signal's listener calls its callback directly;
   * every other ending is deferred to a microtask, as a promise's would be, so that the reader
   * never runs inside the code that ended the wait (a cancel, a close, another read).
   */
  #direct = false;

  constructor(libc: Libc, signals: Signals, fd: number) {
    this.#libc = libc;
    this.#signals = signals;
    this.fd = fd;
    perEventClosures(this.#start, this.#settle);
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

  /** Arms a wait that ends through `settle`; throws SyscallError when O_ASYNC cannot be set. */
  #start(settle: (result: WaitResult) => void, direct: boolean): void {
    const h = hub ??= new Hub(this.#libc, this.#signals);
    const libc = this.#libc;
    let check = true;
    if (this.#async) {
      check = !this.#drained;
    } else {
      if (this.#flags < 0) {
        const flags = libc.fcntl(this.fd, F_GETFL, 0);
        if (flags < 0) throw new SyscallError("fcntl", libc.errno(), "F_GETFL");
        if (
          libc.fcntl(this.fd, F_SETOWN, libc.getpid()) < 0
          || libc.fcntl(this.fd, F_SETSIG, SIGURG) < 0
        ) {
          throw new SyscallError("fcntl", libc.errno(), "F_SETOWN/F_SETSIG");
        }
        this.#flags = flags & ~O_ASYNC;
      }
      if (libc.fcntl(this.fd, F_SETFL, this.#flags | O_ASYNC) < 0) {
        throw new SyscallError("fcntl", libc.errno(), "F_SETFL O_ASYNC");
      }
      this.#async = true;
      h.live.add(this);
    }
    this.#resolve = settle;
    this.#direct = direct;
    h.arm(this);
    // After arming: whatever was queued before is seen here, whatever comes later signals.
    if (check && h.readable(this)) this.finish("readable");
  }

  received(empty: boolean): void {
    if (empty) {
      this.#burst = 0;
      this.#drained = this.#async;
    } else {
      this.#drained = false;
      if (this.#async && ++this.#burst > QUIET_AFTER) this.quiet();
    }
  }

  wake(): void {
    this.finish("readable");
  }

  cancel(): void {
    if (this.#resolve === undefined) return;
    this.finish("cancelled");
    // Nobody is about to read: no signal per datagram meanwhile.
    this.quiet();
  }

  close(): void {
    // Nothing else ever has the descriptor in a poll: close it now.
    if (this.#async) hub!.live.delete(this);
    this.#async = false;
    const resolve = this.#resolve;
    if (resolve !== undefined) {
      hub!.disarm(this);
      this.#resolve = undefined;
    }
    this.#libc.close(this.fd);
    if (resolve !== undefined) this.#settle(resolve, "closed", false);
  }

  /**
   * Ends the pending wait, if any (O_ASYNC stays set for the drain that follows). `signalled`:
   * called from the signal's listener, where a waitThen() callback runs at once.
   */
  finish(result: WaitResult, signalled = false): void {
    const resolve = this.#resolve;
    if (resolve === undefined) return;
    this.#resolve = undefined;
    this.#burst = 0;
    // What woke it may still be queued: the next wait checks unless a read finds it empty first.
    this.#drained = false;
    hub!.disarm(this);
    this.#settle(resolve, result, signalled);
  }

  /**
   * The signal's listener found this waiter the one armed, and disarmed it: ends its wait with
   * "readable", a waitThen() callback at once (finish() with the hub's part done by the caller).
   */
  signalled(): void {
    const resolve = this.#resolve;
    if (resolve === undefined) return;
    this.#resolve = undefined;
    this.#burst = 0;
    this.#drained = false;
    resolve("readable");
  }

  #settle(resolve: (result: WaitResult) => void, result: WaitResult, signalled: boolean): void {
    if (this.#direct && !signalled) queueMicrotask(() => resolve(result));
    else resolve(result);
  }

  /**
   * Clears O_ASYNC: the socket raises no more signals until its next wait. Never while a wait is
   * pending (a read while the loop waits, e.g. a request's answers read at once): that wait
   * would get no signal, ever.
   */
  quiet(): void {
    if (!this.#async || this.#resolve !== undefined) return;
    this.#async = false;
    this.#drained = false;
    hub!.live.delete(this);
    // Best effort: failing to clear O_ASYNC costs spurious signals, never correctness.
    this.#libc.fcntl(this.fd, F_SETFL, this.#flags);
  }
}

class Hub {
  /** Waiters with O_ASYNC set: armed, draining after a wake-up, or idle since. */
  readonly live = new Set<SignalWaiter>();
  readonly #libc: Libc;
  /**
   * The armed waiters, when more than one is. A monitor's one armed waiter is #sole instead, so
   * that arming it, its wake-up and disarming it touch no set: the set's methods are calls into
   * the runtime, of code gone cold since the last event (5-7 us of each event's wake-up on Bun,
   * measured). #sole is set only while this set is empty.
   */
  readonly #armed = new Set<SignalWaiter>();
  #sole: SignalWaiter | undefined;
  readonly #alive: { ref(): void; unref(): void };
  /** Whether #alive is ref'd: from the first arm until a microtask finds nothing armed. */
  #held = false;
  /** A microtask to unref #alive is queued. */
  #releasing = false;
  /** Microtasks that release has waited so far (see RELEASE_HOPS). */
  #hops = 0;
  /** The signal's listener is ending waits: a release is queued once it is done. */
  #checking = false;
  /** A release is to be queued when the listener is done. */
  #releaseDue = false;
  #fds: Uint8Array;
  #fdsView: DataView;
  /** Signals.afterWake, until it asks for no more calls. */
  #afterWake: (() => boolean) | undefined;

  constructor(libc: Libc, signals: Signals) {
    this.#libc = libc;
    this.#fds = new Uint8Array(pollfdBytes(16));
    this.#fdsView = new DataView(this.#fds.buffer);
    // Installed once per thread and never removed: with SIGURG ignored by default, a leftover
    // listener is harmless, and installing one per wait would cost more than the wait. First:
    // if it cannot be (see Signals.listen), the wait fails and a later one makes a new hub.
    signals.listen(this.#check);
    this.#alive = signals.keepAlive();
    this.#afterWake = signals.afterWake;
    perEventClosures(this.#check, this.#release, this.#none);
  }

  arm(waiter: SignalWaiter): void {
    const sole = this.#sole;
    if (sole === undefined && this.#armed.size === 0) {
      this.#sole = waiter;
    } else {
      if (sole !== undefined) this.#armed.add(sole);
      this.#sole = undefined;
      this.#armed.add(waiter);
    }
    if (!this.#held) {
      this.#held = true;
      this.#alive.ref();
    }
  }

  disarm(waiter: SignalWaiter): void {
    if (this.#sole !== waiter) {
      // The set holds two waiters or more (one is #sole instead): one at least stays armed.
      const armed = this.#armed;
      if (armed.delete(waiter) && armed.size === 1) {
        this.#sole = armed.values().next().value;
        armed.clear();
      }
      return;
    }
    this.#sole = undefined;
    if (this.#releasing) return;
    // Not at once: a wake-up disarms its socket on the way to the data, and its reader arms it
    // again once the queue is empty: in the same task (listen()), or a few microtasks later (a
    // `for await` consumer's continuation asks for the next message). Unref'ing the timer there
    // cost Deno 15-20 us of every event before its handler ran (measured), and the ref after it
    // another 4. Microtasks, which all run before the event loop next checks what keeps it
    // alive, do it only if nothing was armed again meanwhile.
    this.#releasing = true;
    this.#hops = 0;
    // Inside the signal's listener, after its callbacks (a listen() handler) have run: queueing a
    // microtask is a call into the runtime, which before the handler cost it some 5-9 us of code
    // gone cold since the last event (Bun, measured).
    if (this.#checking) this.#releaseDue = true;
    else queueMicrotask(this.#release);
  }

  /** Whether no waiter is armed. */
  #none(): boolean {
    return this.#sole === undefined && this.#armed.size === 0;
  }

  readonly #release = (): void => {
    if (this.#none() && this.#held && ++this.#hops < RELEASE_HOPS) {
      queueMicrotask(this.#release);
      return;
    }
    this.#releasing = false;
    if (this.#none() && this.#held) {
      this.#held = false;
      this.#alive.unref();
    }
  };

  /** Whether `waiter`'s socket has something to read (or an error to report) right now. */
  readable(waiter: SignalWaiter): boolean {
    setPollfd(this.#fdsView, 0, waiter.fd);
    return this.#libc.poll(this.#fds, 1, 0) > 0 && pollfdRevents(this.#fdsView, 0) !== 0;
  }

  /**
   * A signal came: ends the waits of the armed sockets that are readable. The listener itself
   * (an arrow, not a call of a method: one call less on the way to the data).
   */
  readonly #check = (): void => {
    this.#checking = true;
    try {
      const armed = this.#armed;
      const sole = this.#sole;
      // A socket with O_ASYNC set that neither waits nor drains (a signal runs between tasks,
      // never inside a drain) would raise a signal per datagram for nothing: clear it.
      if (this.live.size > (sole === undefined ? armed.size : 1)) {
        for (const waiter of this.live) if (waiter !== sole && !armed.has(waiter)) waiter.quiet();
      }
      if (sole !== undefined) {
        // The only socket that can have raised it (or a spurious wake-up, which costs its reader
        // one empty read): no poll on the way to the data. Disarmed here, as disarm() would,
        // and its wait ended in one call (finish, disarm and settle were three, on code gone
        // cold since the last event).
        this.#sole = undefined;
        if (!this.#releasing) {
          this.#releasing = true;
          this.#hops = 0;
          this.#releaseDue = true;
        }
        sole.signalled();
        return;
      }
      if (armed.size === 0) return;
      const list = [...armed];
      if (pollfdBytes(list.length) > this.#fds.byteLength) {
        this.#fds = new Uint8Array(pollfdBytes(2 * list.length));
        this.#fdsView = new DataView(this.#fds.buffer);
      }
      const v = this.#fdsView;
      for (let i = 0; i < list.length; i++) setPollfd(v, i, list[i].fd);
      // -1 (EINTR: another signal) leaves the waits armed; that signal's listener call rechecks.
      if (this.#libc.poll(this.#fds, list.length, 0) <= 0) return;
      for (let i = 0; i < list.length; i++) {
        if (pollfdRevents(v, i) !== 0) list[i].finish("readable", true);
      }
    } finally {
      this.#checking = false;
      if (this.#releaseDue) {
        this.#releaseDue = false;
        queueMicrotask(this.#release);
      }
      if (this.#afterWake !== undefined && !this.#afterWake()) this.#afterWake = undefined;
    }
  };
}

perEventCode(() => [...methodsOf(SignalWaiter.prototype), ...methodsOf(Hub.prototype)]);
