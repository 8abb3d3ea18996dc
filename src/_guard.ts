/**
 * A request's timeout and abort signal, armed around whatever waits for its answer: the socket's
 * requests and dumps, and a caller's wait for a resolution other callers share.
 *
 * @module
 */

/** What arms a guard: `RequestOptions`' signal and timeout. */
export interface GuardOptions {
  readonly signal?: AbortSignal;
  readonly timeout?: number;
}

/** The error a request's (or `what`'s: `"link.wait()"`) `timeout` of `ms` rejects it with. */
export function timeoutError(ms: number, what = "netlink request"): DOMException {
  // What remaining() left of a timeout is fractional: 49.9, not 49.86057600000004.
  return new DOMException(`${what} timed out after ${+ms.toFixed(1)} ms`, "TimeoutError");
}

/**
 * What is left of `options`' timeout for a request that is part of an operation begun at
 * `started` (performance.now()): a second request after a first, say. Throws the timeout's
 * TimeoutError when nothing is left.
 */
export function remaining<T extends GuardOptions>(options: T, started: number): T {
  if (options.timeout === undefined) return options;
  const left = options.timeout - (performance.now() - started);
  if (left <= 0) throw timeoutError(options.timeout);
  // A request's timeout is 1 ms at least (RequestOptions): what is left of one, less than that.
  return { ...options, timeout: Math.max(left, 1) };
}

/** What {@linkcode armGuard} returns: the function that disarms the guard. */
export interface Disarm {
  (): void;
  /**
   * Whether the timeout's timer keeps the process alive on its own: it does once armed. A wait
   * that holds the process itself while someone waits on it lets go of the timer in between.
   */
  hold(on: boolean): void;
  /**
   * Fails now if the timeout has passed, though its timer has not run: a read that takes
   * answers the kernel keeps queuing never yields to the event loop (a yield costs a dump
   * dearly), so a timer set for it runs only once the answer is whole. Called between
   * datagrams; reads the clock only when a timeout is armed.
   */
  check(): void;
}

/** A disarmed guard's {@linkcode Disarm}: nothing to disarm, hold or check. */
export const DISARMED: Disarm = Object.assign(() => {}, { hold: () => {}, check: () => {} });

/**
 * Arms `options`' timeout and abort signal: `fail` runs with the signal's reason, or with a
 * "TimeoutError" DOMException once `timeout` ms have passed. Returns the function that disarms
 * both (the caller runs it once the wait is over, whatever ended it).
 */
export function armGuard(options: GuardOptions, fail: (error: unknown) => void): Disarm {
  // Nothing to arm, as for most requests and dumps: the arming's closures are not made, nor (on
  // Bun, which makes a function's bytecode at its first call) its code in a one-shot script.
  if (options.signal === undefined && options.timeout === undefined) return DISARMED;
  return armed(options, fail);
}

/** {@linkcode armGuard} of a timeout or a signal or both. */
function armed(options: GuardOptions, fail: (error: unknown) => void): Disarm {
  const { signal, timeout } = options;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let deadline = Infinity;
  const expire = () => {
    disarm();
    fail(timeoutError(timeout!));
  };
  const onAbort = () => fail(signal!.reason);
  if (timeout !== undefined) {
    deadline = performance.now() + timeout;
    timer = setTimeout(expire, timeout);
  }
  signal?.addEventListener("abort", onAbort, { once: true });
  const disarm = () => {
    if (timer !== undefined) clearTimeout(timer);
    deadline = Infinity; // checked no more: the wait is over
    signal?.removeEventListener("abort", onAbort);
  };
  return Object.assign(disarm, {
    hold: (on: boolean) => {
      if (timer !== undefined) holdTimer(timer, on);
    },
    check: () => {
      if (deadline !== Infinity && performance.now() >= deadline) expire();
    },
  });
}

/**
 * Refs or unrefs `timer`: Deno 2.9's, Bun's and Node's timers are objects with `ref()` and
 * `unref()`; earlier Deno releases' were numbers (`Deno.refTimer`, `Deno.unrefTimer`).
 */
function holdTimer(timer: ReturnType<typeof setTimeout>, on: boolean): void {
  if (typeof timer === "number") {
    const deno = (globalThis as {
      Deno?: { refTimer?(id: number): void; unrefTimer?(id: number): void };
    }).Deno;
    if (on) deno?.refTimer?.(timer);
    else deno?.unrefTimer?.(timer);
  } else {
    const handle = timer as { ref?(): void; unref?(): void };
    if (on) handle.ref?.();
    else handle.unref?.();
  }
}

/**
 * `promise`, or a rejection with the signal's reason or a TimeoutError if `options` end the wait
 * first (what `promise` comes to then is for its other waiters); `left` runs then, as the wait
 * ends.
 */
export function guarded<T>(
  promise: Promise<T>,
  options: GuardOptions,
  left?: () => void,
): Promise<T> {
  if (options.signal === undefined && options.timeout === undefined) return promise;
  if (options.signal?.aborted) {
    left?.();
    return Promise.reject(options.signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const disarm = armGuard(options, (err) => {
      disarm();
      left?.();
      reject(err);
    });
    promise.then((value) => {
      disarm();
      resolve(value);
    }, (err) => {
      disarm();
      reject(err);
    });
  });
}
