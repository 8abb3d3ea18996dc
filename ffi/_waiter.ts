/**
 * The waiting half of a transport: waiting for a socket to become readable without spinning,
 * and closing its descriptor while a wait may be pending (`_signal_waiter.ts` implements it).
 *
 * @module
 */

import type { WaitResult } from "../src/transport.ts";

/**
 * Waits on one socket. Created by a transport on its first `wait()`; a transport that never
 * waits never creates one (and closes its descriptor itself).
 *
 * Contract: at most one {@linkcode Waiter.wait} is pending at a time (the transport enforces
 * it); `cancel` and `close` are called on the same thread, at any time.
 */
export interface Waiter {
  /** True from {@linkcode Waiter.wait} until its promise is settled (or about to be). */
  readonly pending: boolean;
  /**
   * Resolves "readable" when the socket may have data, "cancelled" after {@linkcode cancel},
   * "closed" after {@linkcode close}. Keeps the process alive while pending, and only then.
   */
  wait(): Promise<WaitResult>;
  /**
   * As {@linkcode wait}, but calls `done` once with the result instead of settling a promise:
   * synchronously from the event-loop task that found the socket readable (so the reader runs
   * in that task, with no microtask hop), and in a microtask for every other ending (cancel,
   * close, a readiness check at arming, {@linkcode wake}). Never inside this call. Throws what
   * `wait()` would reject with. Optional: the transport falls back to `wait()`.
   */
  waitThen?(done: (result: WaitResult) => void): void;
  /** Ends the pending wait with "cancelled"; a no-op when none is pending. */
  cancel(): void;
  /**
   * Ends the pending wait with "readable"; a no-op when none is pending. The transport calls it
   * when a read took datagrams from the queue that it has not handed out yet: the queue may now
   * be empty, and nothing else would end the wait.
   */
  wake(): void;
  /**
   * Closes the socket descriptor, and ends a pending wait with "closed" after it is closed.
   * Called once.
   */
  close(): void;
  /**
   * Told after each read of the socket: `empty` when the read found nothing queued (EAGAIN).
   * Lets a waiter skip work on its next wait (optional).
   */
  received?(empty: boolean): void;
}

/** Makes the waiter for socket `fd`; nothing is set up until its first wait. */
export type WaiterFactory = (fd: number) => Waiter;
