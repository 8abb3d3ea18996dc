/**
 * Deno's {@linkcode Waiter}: one shared poll(2) per thread, over every socket with a pending wait
 * plus an eventfd, run as a `nonblocking` FFI call (Deno runs it on its blocking-call thread
 * pool and settles a promise when it returns). The main thread then reads with synchronous
 * recvmsg.
 *
 * Why (numbers in ffi/README.md):
 * - A nonblocking poll is the fastest no-spin wait measured on Deno, and its pending promise is
 *   exactly what keeps the process alive: while a wait is pending and never otherwise. (A Worker
 *   blocked in FFI keeps the process alive forever and Deno Workers cannot be unref'd.)
 * - ONE poll for all sockets, not one per socket: Deno's blocking pool has 32 threads here, and
 *   32 pending polls starve it: file I/O hangs, and a 33rd wait never even starts (measured).
 *
 * The poll set is fixed while the call is in flight (a pool thread reads the pollfd array), so
 * to change it this side writes the eventfd, which is in every poll: the poll returns, results
 * are handed out, and a new poll starts over the sockets still waiting. close(2) does not wake
 * a poll blocked on the descriptor, and closing a descriptor a pool thread is polling could let
 * its number be reused and polled by mistake: a socket closed while in the in-flight poll is
 * closed when the poll has returned, and its pending wait resolves "closed" right after.
 *
 * Readable sockets leave the set until their next wait (no busy loop on undrained data), and
 * when the last wait ends the poll is woken and not restarted, so nothing keeps the process
 * alive.
 *
 * @module
 */

import { HOST_LITTLE_ENDIAN as LE } from "../src/_endian.ts";
import { SyscallError } from "../src/errors.ts";
import type { WaitResult } from "../src/transport.ts";
import { EFD_CLOEXEC, EFD_NONBLOCK } from "./_constants.ts";
import type { DenoLibc } from "./_deno_libc.ts";
import { pollfdBytes, pollfdRevents, setPollfd } from "./_pollfd.ts";
import type { Waiter } from "./_waiter.ts";

/** Makes the waiter for socket `fd`. The shared poller (one eventfd) starts on the first wait. */
export function newDenoWaiter(libc: DenoLibc, fd: number): Waiter {
  return new DenoWaiter(libc, fd);
}

let poller: Poller | undefined;

class DenoWaiter implements Waiter {
  readonly fd: number;
  readonly #libc: DenoLibc;
  #poller: Poller | undefined;
  #resolve: ((result: WaitResult) => void) | undefined;
  #reject: ((err: unknown) => void) | undefined;

  constructor(libc: DenoLibc, fd: number) {
    this.#libc = libc;
    this.fd = fd;
  }

  wait(): Promise<WaitResult> {
    const p = this.#poller ??= poller ??= new Poller(this.#libc);
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      p.arm(this);
    });
  }

  cancel(): void {
    if (this.#resolve === undefined) return;
    this.#poller!.disarm(this);
    this.finish("cancelled");
  }

  close(): void {
    if (this.#poller === undefined) {
      this.#libc.close(this.fd);
    } else {
      // Closes the fd now, or after the in-flight poll returns; then calls finish("closed").
      this.#poller.release(this);
    }
  }

  /** Ends the pending wait, if any. */
  finish(result: WaitResult): void {
    const resolve = this.#resolve;
    if (resolve === undefined) return;
    this.#resolve = this.#reject = undefined;
    resolve(result);
  }

  /** Rejects the pending wait, if any. */
  fail(err: unknown): void {
    const reject = this.#reject;
    if (reject === undefined) return;
    this.#resolve = this.#reject = undefined;
    reject(err);
  }
}

class Poller {
  readonly #libc: DenoLibc;
  readonly #efd: number;
  readonly #one: Uint8Array;
  readonly #scratch: Uint8Array;
  /** Waiters whose wait is pending and not yet readable. */
  readonly #armed = new Set<DenoWaiter>();
  /** Whether a poll is in flight, and the waiters whose fds it covers (pollfd i + 1). */
  #inFlight = false;
  #polled: DenoWaiter[] = [];
  /** Closed while their fd was in the in-flight poll: close after it returns. */
  #closing: DenoWaiter[] = [];
  /** pollfd array of the in-flight poll; rewritten only between polls. */
  #fds: Uint8Array;
  #fdsView: DataView;
  #woken = false;

  constructor(libc: DenoLibc) {
    this.#libc = libc;
    const efd = libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) throw new SyscallError("eventfd", libc.errno());
    this.#efd = efd;
    this.#one = libc.alloc(8);
    new DataView(this.#one.buffer).setBigUint64(0, 1n, LE);
    this.#scratch = libc.alloc(8);
    this.#fds = libc.alloc(pollfdBytes(16));
    this.#fdsView = new DataView(this.#fds.buffer);
  }

  arm(waiter: DenoWaiter): void {
    this.#armed.add(waiter);
    if (!this.#inFlight) this.#start();
    else if (!this.#polled.includes(waiter)) this.#wake(); // restart with it included
  }

  disarm(waiter: DenoWaiter): void {
    this.#armed.delete(waiter);
    // Nothing left to wait for: end the poll, so it no longer keeps the process alive.
    if (this.#armed.size === 0 && this.#inFlight) this.#wake();
  }

  release(waiter: DenoWaiter): void {
    this.#armed.delete(waiter);
    if (this.#inFlight && this.#polled.includes(waiter)) {
      this.#closing.push(waiter);
      this.#wake();
      return;
    }
    this.#libc.close(waiter.fd);
    waiter.finish("closed");
    if (this.#armed.size === 0 && this.#inFlight) this.#wake();
  }

  #wake(): void {
    if (this.#woken) return;
    this.#woken = true;
    if (this.#libc.write(this.#efd, this.#one, 8) < 0) {
      throw new SyscallError("write", this.#libc.errno(), "waking the netlink poller");
    }
  }

  #start(): void {
    const polled = [...this.#armed];
    const n = polled.length + 1;
    if (pollfdBytes(n) > this.#fds.byteLength) {
      this.#fds = this.#libc.alloc(pollfdBytes(2 * n));
      this.#fdsView = new DataView(this.#fds.buffer);
    }
    const v = this.#fdsView;
    for (let i = 0; i < n; i++) setPollfd(v, i, i === 0 ? this.#efd : polled[i - 1].fd);
    this.#inFlight = true;
    this.#polled = polled;
    this.#libc.pollNonblocking(this.#fds, n, -1).then(
      (result) => this.#returned(result),
      (err) => this.#failed(err),
    );
  }

  #returned(result: number): void {
    this.#inFlight = false;
    const polled = this.#polled;
    this.#polled = [];
    if (this.#woken) {
      // Reset the counter so the next poll blocks (nonblocking: EAGAIN if already zero).
      this.#libc.read(this.#efd, this.#scratch, 8);
      this.#woken = false;
    }
    // result -1 (EINTR on the pool thread, whose errno is out of reach): nothing is reported
    // readable and the poll restarts.
    if (result > 0) {
      const v = this.#fdsView;
      for (let i = 0; i < polled.length; i++) {
        const waiter = polled[i];
        const revents = pollfdRevents(v, i + 1);
        if (revents !== 0 && this.#armed.delete(waiter)) waiter.finish("readable");
      }
    }
    for (const waiter of this.#closing.splice(0)) {
      this.#libc.close(waiter.fd);
      waiter.finish("closed");
    }
    if (this.#armed.size > 0) this.#start();
  }

  #failed(err: unknown): void {
    // The FFI call itself failed (not poll: that returns -1). Nothing was polled: fail every
    // pending wait rather than hang it, and release what was waiting to be closed.
    this.#inFlight = false;
    this.#polled = [];
    for (const waiter of this.#closing.splice(0)) {
      this.#libc.close(waiter.fd);
      waiter.finish("closed");
    }
    const armed = [...this.#armed];
    this.#armed.clear();
    for (const waiter of armed) waiter.fail(err);
  }
}
