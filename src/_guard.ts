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

/**
 * Arms `options`' timeout and abort signal: `fail` runs with the signal's reason, or with a
 * "TimeoutError" DOMException once `timeout` ms have passed. Returns the function that disarms
 * both (the caller runs it once the wait is over, whatever ended it).
 */
export function armGuard(options: GuardOptions, fail: (error: unknown) => void): () => void {
  const { signal, timeout } = options;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => fail(signal!.reason);
  if (timeout !== undefined) {
    timer = setTimeout(() => {
      fail(new DOMException(`netlink request timed out after ${timeout} ms`, "TimeoutError"));
    }, timeout);
  }
  signal?.addEventListener("abort", onAbort, { once: true });
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  };
}

/**
 * `promise`, or a rejection with the signal's reason or a TimeoutError if `options` end the wait
 * first (what `promise` comes to then is for its other waiters).
 */
export function guarded<T>(promise: Promise<T>, options: GuardOptions): Promise<T> {
  if (options.signal === undefined && options.timeout === undefined) return promise;
  if (options.signal?.aborted) return Promise.reject(options.signal.reason);
  return new Promise<T>((resolve, reject) => {
    const disarm = armGuard(options, reject);
    promise.then((value) => {
      disarm();
      resolve(value);
    }, (err) => {
      disarm();
      reject(err);
    });
  });
}
