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
 * - O_ASYNC only while a wait is pending: a socket that is being drained raises no signal per
 *   datagram (each would interrupt the process and run the listener for nothing).
 * - Liveness: neither runtime's signal listener keeps the process alive, so a far-future
 *   interval timer is ref'd while at least one wait is pending and unref'd otherwise: it never
 *   fires in practice and costs no CPU.
 *
 * @module
 */

import { SyscallError } from "../src/errors.ts";
import type { WaitResult } from "../src/transport.ts";
import { F_GETFL, F_SETFL, F_SETOWN, F_SETSIG, O_ASYNC, SIGURG } from "./_constants.ts";
import type { Libc } from "./_libc.ts";
import { pollfdBytes, pollfdRevents, setPollfd } from "./_pollfd.ts";
import type { Waiter } from "./_waiter.ts";

/** The runtime-specific part: a signal listener, and a handle that keeps the process alive. */
export interface Signals {
  /** Calls `listener` on this thread's event loop each time the process gets SIGURG. */
  listen(listener: () => void): void;
  /** A handle that keeps the event loop alive while ref'd (and not before the first ref). */
  keepAlive(): { ref(): void; unref(): void };
}

/** Makes the waiter for socket `fd`. Nothing is set up until its first wait. */
export function newSignalWaiter(libc: Libc, signals: Signals, fd: number): Waiter {
  return new SignalWaiter(libc, signals, fd);
}

/** The armed waiters of this thread (module state is per thread: each Worker has its own). */
let hub: Hub | undefined;

class SignalWaiter implements Waiter {
  readonly fd: number;
  readonly #libc: Libc;
  readonly #signals: Signals;
  /** The descriptor's file status flags without O_ASYNC, read on the first wait. */
  #flags = -1;
  #resolve: ((result: WaitResult) => void) | undefined;

  constructor(libc: Libc, signals: Signals, fd: number) {
    this.#libc = libc;
    this.#signals = signals;
    this.fd = fd;
  }

  wait(): Promise<WaitResult> {
    const h = hub ??= new Hub(this.#libc, this.#signals);
    const libc = this.#libc;
    if (this.#flags < 0) {
      const flags = libc.fcntl(this.fd, F_GETFL, 0);
      if (flags < 0) return Promise.reject(new SyscallError("fcntl", libc.errno(), "F_GETFL"));
      if (
        libc.fcntl(this.fd, F_SETOWN, libc.getpid()) < 0
        || libc.fcntl(this.fd, F_SETSIG, SIGURG) < 0
      ) {
        return Promise.reject(new SyscallError("fcntl", libc.errno(), "F_SETOWN/F_SETSIG"));
      }
      this.#flags = flags & ~O_ASYNC;
    }
    if (libc.fcntl(this.fd, F_SETFL, this.#flags | O_ASYNC) < 0) {
      return Promise.reject(new SyscallError("fcntl", libc.errno(), "F_SETFL O_ASYNC"));
    }
    const pending = new Promise<WaitResult>((resolve) => this.#resolve = resolve);
    h.arm(this);
    // After arming: whatever was queued before is seen here, whatever comes later signals.
    if (h.readable(this)) this.finish("readable");
    return pending;
  }

  cancel(): void {
    this.finish("cancelled");
  }

  close(): void {
    // Nothing else ever has the descriptor in a poll: close it now.
    if (this.#resolve !== undefined) {
      hub!.disarm(this);
      const resolve = this.#resolve;
      this.#resolve = undefined;
      this.#libc.close(this.fd);
      resolve("closed");
    } else {
      this.#libc.close(this.fd);
    }
  }

  /** Ends the pending wait, if any, and stops the signals. */
  finish(result: WaitResult): void {
    const resolve = this.#resolve;
    if (resolve === undefined) return;
    this.#resolve = undefined;
    hub!.disarm(this);
    // Best effort: failing to clear O_ASYNC costs a spurious signal, never correctness.
    this.#libc.fcntl(this.fd, F_SETFL, this.#flags);
    resolve(result);
  }
}

class Hub {
  readonly #libc: Libc;
  readonly #armed = new Set<SignalWaiter>();
  readonly #alive: { ref(): void; unref(): void };
  #fds: Uint8Array;
  #fdsView: DataView;

  constructor(libc: Libc, signals: Signals) {
    this.#libc = libc;
    this.#fds = new Uint8Array(pollfdBytes(16));
    this.#fdsView = new DataView(this.#fds.buffer);
    this.#alive = signals.keepAlive();
    // Installed once per thread and never removed: with SIGURG ignored by default, a leftover
    // listener is harmless, and installing one per wait would cost more than the wait.
    signals.listen(() => this.#check());
  }

  arm(waiter: SignalWaiter): void {
    this.#armed.add(waiter);
    if (this.#armed.size === 1) this.#alive.ref();
  }

  disarm(waiter: SignalWaiter): void {
    if (this.#armed.delete(waiter) && this.#armed.size === 0) this.#alive.unref();
  }

  /** Whether `waiter`'s socket has something to read (or an error to report) right now. */
  readable(waiter: SignalWaiter): boolean {
    setPollfd(this.#fdsView, 0, waiter.fd);
    return this.#libc.poll(this.#fds, 1, 0) > 0 && pollfdRevents(this.#fdsView, 0) !== 0;
  }

  /** A signal came: ends the wait of every armed socket that is readable. */
  #check(): void {
    const armed = [...this.#armed];
    if (armed.length === 0) return;
    if (pollfdBytes(armed.length) > this.#fds.byteLength) {
      this.#fds = new Uint8Array(pollfdBytes(2 * armed.length));
      this.#fdsView = new DataView(this.#fds.buffer);
    }
    const v = this.#fdsView;
    for (let i = 0; i < armed.length; i++) setPollfd(v, i, armed[i].fd);
    // -1 (EINTR: another signal) leaves the waits armed; that signal's listener call rechecks.
    if (this.#libc.poll(this.#fds, armed.length, 0) <= 0) return;
    for (let i = 0; i < armed.length; i++) {
      if (pollfdRevents(v, i) !== 0) armed[i].finish("readable");
    }
  }
}
