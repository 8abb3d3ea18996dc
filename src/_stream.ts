/**
 * The stream of what no request claims: a queue, the iterations reading it and the backlog that
 * pauses reading. Used twice by a socket: for messages (messages(), batches()) and for whole
 * datagrams (datagrams()). Does no I/O: the socket's read loop delivers, and `wake` tells it
 * that demand changed.
 *
 * @module
 */

import { whenCollected } from "./_collected.ts";
import { Fifo } from "./_fifo.ts";
import { methodsOf, perEventClosures, perEventClosuresOf, perEventCode } from "./_per_event.ts";
import { orderedSteps } from "./_steps.ts";
import type { Datagram } from "./transport.ts";

/** A datagram that did not decode, waiting in the stream for its next reader. */
export class QueuedFailure {
  /**
   * @param error What the reader that takes it throws, unless it skips it.
   * @param datagram The datagram, as it was received.
   */
  constructor(readonly error: unknown, readonly datagram: Datagram) {}
}

/**
 * What a reader that skips failures does with each instead of throwing it (see
 * {@linkcode Stream.iterate}); what it throws ends that reader, with that error.
 */
export type SkipFailure = (failure: QueuedFailure) => void;

/**
 * The key of an iteration's `next()` for a consumer of the library's own that settles its own
 * step (the typed monitor, src/ynl): see {@linkcode Stream.iterate}.
 */
export const nextThen: unique symbol = Symbol("nextThen");

/** An iteration's {@linkcode nextThen}: `onResult` or `onError` instead of a promise. */
export type NextThen<T> = (
  onResult: (result: IteratorResult<T>) => void,
  onError: (error: unknown) => void,
) => void;

/** One reader waiting for its next item. */
interface Waiter<T> {
  resolve(result: IteratorResult<T>): void;
  reject(error: unknown): void;
  /** Takes a failure without ending (a reader that skips them); undefined: reject with it. */
  skip: ((failure: QueuedFailure) => void) | undefined;
}

/** What a stream needs from its socket. */
export interface StreamHost<T> {
  /** Demand changed: start reading, or stop. */
  wake(): void;
  /** Throws if the socket is closed or broken (checked when an iteration starts). */
  checkOpen(): void;
  /**
   * The socket's state, kept by the socket (read it, never set it): fields, not calls, as a step
   * reads them each time.
   */
  readonly state: {
    /** True once the socket is closed. */
    readonly closed: boolean;
    /** The error that made reading impossible, if any. */
    readonly failure: unknown;
  };
  /**
   * The read loop. `inCall`: true while what is delivered was read inside a caller's own call
   * (the read a request's send makes at once, a step that resumes reading): a listen() handler
   * then runs from a microtask, not inside that call.
   */
  readonly reads: { readonly inCall: boolean };
  /** The item standing for a run of lost items. */
  overrunMarker(): T;
  /** Whether `item` is such a marker. */
  isOverrunMarker(item: T): boolean;
  /** Counts one overrun (a run of items dropped at the cap). */
  countOverrun(): void;
  /** The bytes `item` keeps alive (its datagram's share), for the cap in bytes. */
  bytesOf(item: T): number;
}

/**
 * What is queued for a socket's consumers is capped at this many bytes per item of the backlog
 * too, not only at the backlog: the kernel's notifications are far smaller, but another process
 * may send a port datagrams of hundreds of KB, which a count alone lets pile up into gigabytes.
 */
export const BACKLOG_BYTES_PER_ITEM = 4096;

/**
 * A queue of unclaimed items and its readers. Reading for it pauses at `backlog` queued items
 * and resumes once half are taken (hysteresis: resuming as soon as one is taken would read a
 * whole datagram into a queue with room for one).
 */
export class Stream<T> {
  readonly #host: StreamHost<T>;
  readonly #backlog: number;
  readonly #queue: Fifo<T | QueuedFailure>;
  readonly #waiters: Waiter<T>[] = [];
  #iterators = 0;
  #gathering = 0;
  #paused = false;
  /** The running listen()'s intake: takes every delivery at once, instead of the queue. */
  #sink: ((entry: T | QueuedFailure) => void) | undefined;
  /** Ends the running listen() (set from its call until it has ended). */
  #endListen: ((failed: boolean, error?: unknown) => void) | undefined;

  /**
   * @param host The socket's side.
   * @param backlog Most items queued before reading pauses for this stream.
   */
  constructor(host: StreamHost<T>, backlog: number) {
    this.#host = host;
    this.#backlog = backlog;
    this.#queue = new Fifo((entry) => entry instanceof QueuedFailure ? 0 : host.bytesOf(entry));
    perEventClosures(host.wake);
    perEventClosuresOf(this, Stream.#waitingSteps);
  }

  /** The closures a waiting step made (made per step: only the waiting one can be listed). */
  static #waitingSteps<U>(stream: Stream<U>): unknown[] {
    return stream.#waiters.map((w) => w.resolve);
  }

  /**
   * A batches() step was handed an item and takes the rest of the read loop's drain with it, in
   * a microtask: what is queued in the kernel now should be read before that runs. A field kept
   * by the stream (read it, never set it): the read loop asks it once per event.
   */
  gathering = false;

  /**
   * A next() is waiting, or a listen() runs: reading must go on, and may wait for data. Kept by
   * the stream as its readers come and go (read it, never set it): a field, not a getter, as the
   * read loop asks it some 20 times per event, each a call in Deno's lower tiers.
   */
  waiting = false;

  /** Brings {@linkcode waiting} up to date (the waiters or the listen changed). */
  #updateWaiting(): void {
    this.waiting = this.#waiters.length > 0 || this.#sink !== undefined;
  }

  /** How many items (and failures) are queued for the next steps. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * An iteration is open (it may not be waiting). A field kept by the stream, as
   * {@linkcode waiting} is: the socket asks it for every datagram.
   */
  active = false;

  /** An iteration is open, or a listen() runs. A field kept by the stream, as `active` is. */
  taking = false;

  /**
   * Whether an open iteration has room for read-ahead: reading may go on while data is queued
   * in the kernel, but an iteration that is not waiting never makes the socket wait for more.
   * A field kept by the stream as the queue and the iterations change (read it, never set it),
   * as {@linkcode waiting} is: the read loop asks it after each datagram of an event.
   */
  readAhead = false;

  /**
   * Brings the pause (see the class) and {@linkcode readAhead} up to date: the queue's length or
   * the iterations changed.
   */
  #pace(): void {
    const length = this.#queue.length;
    if (length >= this.#backlog) this.#paused = true;
    else if (length <= this.#backlog / 2) this.#paused = false;
    this.readAhead = this.#iterators > 0 && !this.#paused;
  }

  /** Hands an item (or a failure) to a waiting reader, or queues it. */
  deliver(entry: T | QueuedFailure): void {
    if (this.#sink !== undefined) {
      this.#sink(entry);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) {
      if (this.#waiters.length === 0) this.waiting = false;
      if (!(entry instanceof QueuedFailure)) waiter.resolve({ value: entry, done: false });
      else if (waiter.skip) waiter.skip(entry);
      else waiter.reject(entry.error);
      return;
    }
    // Reading for an iterator pauses at the backlog, overshooting by at most one datagram; it
    // goes on only for a pending request, and then the queue is capped, in items and in bytes
    // (overshooting by one item at most): drop, never silently.
    const cap = this.#iterators > 0 ? 2 * this.#backlog : this.#backlog;
    if (this.#queue.length >= cap || this.#queue.weight >= cap * BACKLOG_BYTES_PER_ITEM) {
      // One marker (one slot over the cap) stands for the whole run of drops; nothing already
      // queued is replaced.
      const last = this.#queue.last;
      if (
        last === undefined || last instanceof QueuedFailure || !this.#host.isOverrunMarker(last)
      ) {
        this.#host.countOverrun();
        this.#queue.push(this.#host.overrunMarker());
        this.#pace();
      }
      return;
    }
    this.#queue.push(entry);
    // A push can only pause reading, and only at the backlog: a comparison, not a call.
    if (this.#queue.length >= this.#backlog) this.#pace();
  }

  /**
   * Hands over an item held for this stream's first consumer (see the socket's #hold), which kept
   * it within the backlog already: queued past the cap, so a held overrun is not counted again.
   */
  adopt(entry: T | QueuedFailure): void {
    if (this.#sink !== undefined || this.#waiters.length !== 0) this.deliver(entry);
    else {
      this.#queue.push(entry);
      this.#pace();
    }
  }

  /** Ends every waiting step and a running listen() (the socket closed). */
  close(): void {
    const waiters = this.#waiters.splice(0);
    this.#updateWaiting();
    for (const waiter of waiters) waiter.resolve({ value: undefined, done: true });
    this.#endListen?.(false);
  }

  /** Rejects every waiting step, and a running listen(), with `error` (reading failed). */
  fail(error: unknown): void {
    const waiters = this.#waiters.splice(0);
    this.#updateWaiting();
    for (const waiter of waiters) waiter.reject(error);
    this.#endListen?.(true, error);
  }

  /**
   * Hands every item to `handler` as it is delivered, synchronously, until the stream closes
   * (resolves), fails, a failure is delivered, `handler` throws or its promise rejects, or
   * `signal` aborts (rejects with that error, or the signal's reason). Items queued before go
   * first, in order, from a microtask (never inside this call), and so do items read inside a
   * caller's own call ({@linkcode StreamHost.reads}). One at a time. With `skip`, a failure is
   * handed to it, in order with the items, and the listen goes on (unless `skip` throws).
   */
  listen(
    handler: (item: T) => unknown,
    signal: AbortSignal | undefined,
    skip?: SkipFailure,
  ): Promise<void> {
    const host = this.#host;
    host.checkOpen();
    if (this.#endListen !== undefined) {
      throw new Error(
        "listen() is already running on this socket: one handler takes every message, so only "
          + "one may run at a time (end the first, e.g. with its AbortSignal)",
      );
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const onAbort = () => end(true, signal!.reason);
    const end = (failed: boolean, error?: unknown): void => {
      if (this.#endListen !== end) return;
      this.#endListen = undefined;
      this.taking = this.#iterators > 0;
      if (this.#sink === sink) {
        this.#sink = undefined;
        this.#updateWaiting();
      }
      // Not handed over yet: the stream's next readers get them, in order.
      for (const entry of held.splice(0)) this.deliver(entry);
      signal?.removeEventListener("abort", onAbort);
      host.wake();
      if (failed) reject(error);
      else resolve();
    };
    const fail = (error: unknown) => end(true, error);
    /** Read inside a caller's own call: this listen's, in order, from a microtask. */
    const held: (T | QueuedFailure)[] = [];
    const takeHeld = (): void => {
      while (held.length > 0 && this.#endListen === end) take(held.shift()!);
    };
    const sink = (entry: T | QueuedFailure): void => {
      if (held.length > 0 || host.reads.inCall) {
        if (held.push(entry) === 1) queueMicrotask(takeHeld);
        return;
      }
      take(entry);
    };
    const take = (entry: T | QueuedFailure): void => {
      let result: unknown;
      try {
        if (entry instanceof QueuedFailure) {
          if (skip === undefined) throw entry.error;
          skip(entry);
          return;
        }
        result = handler(entry);
      } catch (err) {
        end(true, err);
        return;
      }
      // A promise (any thenable) the handler returns is not awaited, but its rejection ends
      // the listen with that error (one that comes after the listen ended has nobody to tell).
      try {
        const then = (result as PromiseLike<unknown> | undefined)?.then;
        if (typeof then === "function") then.call(result, undefined, fail);
      } catch (err) {
        end(true, err);
      }
    };
    this.#endListen = end;
    this.taking = true;
    perEventClosures(sink, take);
    if (signal?.aborted) {
      end(true, signal.reason);
      return promise;
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    queueMicrotask(() => {
      if (this.#endListen !== end) return;
      const queue = this.#queue;
      while (queue.length > 0) {
        take(queue.shift()!);
        if (this.#paused) this.#pace();
        if (this.#endListen !== end) return;
      }
      const failure = host.state.failure;
      if (failure !== undefined) return end(true, failure);
      if (host.state.closed) return end(false);
      this.#sink = sink;
      this.waiting = true;
      host.wake();
    });
    return promise;
  }

  /**
   * An iteration: one item per step, or (`runs`) every queued item up to the next failure. A
   * failure is thrown by the step that reaches it and ends that iteration; what follows stays
   * queued for the next. With `skip`, the step that reaches a failure hands it to `skip` instead
   * (from a microtask: never inside the read loop or a caller's call) and goes on; what `skip`
   * throws, that step throws. Aborting throws the signal's reason.
   */
  iterate(
    signal: AbortSignal | undefined,
    runs: boolean,
    skip?: SkipFailure,
  ): AsyncIterableIterator<T | T[]> & AsyncDisposable & { [nextThen]: NextThen<T | T[]> } {
    type Step = IteratorResult<T | T[]>;
    const host = this.#host;
    const queue = this.#queue;
    host.checkOpen();
    let active = true;
    this.#iterators++;
    this.#pace();
    this.active = this.taking = true;
    let onAbort: (() => void) | undefined;
    let waiter: Waiter<T> | undefined;
    /** Aborted while no step was pending: the next step throws the reason (and ends it). */
    let abortOwed = false;
    /** The iterator was garbage-collected: the step still pending (if any) is its last. */
    let orphaned = false;
    /** Cancels the release at collection (below) once the iteration has ended. */
    let forget = () => {};
    const finish = () => {
      if (!active) return;
      active = false;
      forget();
      if (--this.#iterators === 0) {
        this.readAhead = false;
        this.active = false;
        this.taking = this.#endListen !== undefined;
      }
      if (onAbort) signal!.removeEventListener("abort", onAbort);
      if (waiter) {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) {
          this.#waiters.splice(i, 1);
          this.#updateWaiting();
        }
      }
      host.wake();
    };
    if (signal) {
      onAbort = () => {
        const w = waiter;
        abortOwed = w === undefined;
        finish();
        w?.reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
    }
    /** Appends the queued items up to the first failure (which stays queued) to `run`. */
    const takeRun = (run: T[]): T[] => {
      while (queue.length > 0 && !(queue.first instanceof QueuedFailure)) {
        run.push(queue.shift() as T);
      }
      return run;
    };
    /**
     * Hands `failure` to `skip` in a microtask (also if the iteration ended meanwhile: it took
     * the failure), then takes the next item: one step's result.
     */
    const skipped = (failure: QueuedFailure): Promise<Step> =>
      Promise.resolve().then(() => {
        try {
          skip!(failure);
        } catch (err) {
          finish();
          throw err;
        }
        return take();
      });
    const take = (): Promise<Step> => {
      if (abortOwed) {
        abortOwed = false;
        return Promise.reject(signal!.reason);
      }
      // Ended (a step threw, or was done, or return()): every later step is done, as an async
      // generator's are; an abort throws from one step, not from every one after it.
      if (!active) return Promise.resolve({ value: undefined, done: true });
      if (signal?.aborted) {
        finish();
        return Promise.reject(signal.reason);
      }
      // Closed: the iteration ends at once, as listen() does, whatever is still queued.
      if (host.state.closed) {
        finish();
        return Promise.resolve({ value: undefined, done: true });
      }
      if (queue.length > 0) {
        const entry = queue.first!;
        if (entry instanceof QueuedFailure) {
          queue.shift();
          if (this.#paused) this.#pace();
          if (skip) return steps.waiting(skipped(entry));
          // Thrown like any error from an async iterator, it ends this iteration (a for-await
          // loop does not call return() after a throw); what follows stays queued for the next.
          finish();
          return Promise.reject(entry.error);
        }
        const value = runs ? takeRun([]) : queue.shift() as T;
        // Taking items can only matter to reading if the stream was paused for them; a check per
        // item would cost more than the item. Once the queue is empty, a waiting step wakes it.
        if (this.#paused) {
          this.#pace();
          host.wake();
        }
        return Promise.resolve({ value, done: false });
      }
      const failure = host.state.failure;
      if (failure !== undefined) {
        finish();
        return Promise.reject(failure);
      }
      // Settled here, and said so (settledNow) as it is: see orderedSteps' waitingOwned.
      return steps.waitingOwned(
        new Promise<Step>((resolve, reject) => {
          waiter = {
            resolve: (r) => {
              waiter = undefined;
              if (orphaned) finish(); // its owner awaits this step, and can ask for no other
              if (r.done) {
                finish();
                steps.settledNow();
                resolve(r);
              } else if (runs) {
                // Delivered while the read loop dispatches a datagram: the rest of it (and of
                // this drain) is queued by the time microtasks run, and joins the run.
                const run = [r.value];
                this.gathering = ++this.#gathering > 0;
                queueMicrotask(() => {
                  this.gathering = --this.#gathering > 0;
                  steps.settledNow();
                  resolve({ value: takeRun(run), done: false });
                  if (this.#paused) {
                    this.#pace();
                    host.wake();
                  }
                });
              } else {
                steps.settledNow();
                resolve(r);
              }
            },
            reject: (e) => {
              waiter = undefined;
              finish();
              steps.settledNow();
              reject(e);
            },
            skip: skip && ((failure) => {
              waiter = undefined;
              resolve(skipped(failure));
            }),
          };
          this.#waiters.push(waiter);
          this.waiting = true;
          host.wake();
        }),
      );
    };
    // A next() called while a step waits runs after it: steps take items in the order they were
    // asked for, and one iteration has one waiter at most.
    const steps = orderedSteps(take);
    /**
     * next() with callbacks, for a consumer that settles a step of its own with what it gets (the
     * typed monitor decodes it first): a delivery to the step that waits for it calls `onResult`
     * at once, in the read loop's task, as a listen() handler is called, so that the consumer's
     * own step settles there, and its continuation is the first job after the wake-up. Through a
     * promise, the consumer's reaction ran a microtask later, after the read-ahead of the rest of
     * the queue (a read that finds it empty, 10-20 us cold), on the way from a wake-up to its code.
     * Never inside a caller's own call, nor inside this one: every other ending (an item queued
     * already, the end, an error, a failure skipped, a delivery read inside a caller's call) comes
     * from a microtask at least, as a promise's would.
     */
    const thenNext: NextThen<T | T[]> = (onResult, onError) => {
      if (
        runs || waiter !== undefined || queue.length > 0 || !active || abortOwed
        || signal?.aborted || host.state.closed || host.state.failure !== undefined || !steps.idle()
      ) {
        steps.next().then(onResult, onError);
        return;
      }
      waiter = {
        resolve: (r) => {
          waiter = undefined;
          if (orphaned) finish();
          if (r.done) finish();
          if (r.done || host.reads.inCall) queueMicrotask(() => onResult(r));
          else onResult(r);
        },
        reject: (e) => {
          waiter = undefined;
          finish();
          queueMicrotask(() => onError(e));
        },
        skip: skip && ((failure) => {
          waiter = undefined;
          skipped(failure).then(onResult, onError);
        }),
      };
      this.#waiters.push(waiter);
      this.waiting = true;
      host.wake();
    };
    perEventClosures(take, thenNext, steps.next, steps.waitingOwned, steps.settledNow);
    const iterator: AsyncIterableIterator<T | T[]> & AsyncDisposable & {
      [nextThen]: NextThen<T | T[]>;
    } = {
      next: steps.next,
      [nextThen]: thenNext,
      return: () => {
        const w = waiter;
        finish();
        w?.resolve({ value: undefined, done: true }); // a next() still pending ends too
        return Promise.resolve({ value: undefined, done: true });
      },
      // Not closures over `iterator`: the release below shares this scope, and would keep it.
      [Symbol.asyncIterator]() {
        return this;
      },
      // `await using`: ends the iteration as the scope ends, not at a collection that may never come.
      [Symbol.asyncDispose]() {
        return this.return!().then(() => {});
      },
    };
    // Left without return(): until collected it still counts as open (read-ahead, and for
    // datagrams() the datagrams it takes whole) and keeps its abort listener on the signal.
    forget = whenCollected(iterator, () => {
      orphaned = true;
      if (waiter === undefined) finish();
    });
    return iterator;
  }
}

perEventCode(() => methodsOf(Stream.prototype));
