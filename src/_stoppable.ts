/**
 * Async generators whose return() ends them at once, also while a step is pending.
 *
 * @module
 */

/** The reason `stoppable()` aborts its signal with: the generator ends quietly on it. */
export const STOPPED: unique symbol = Symbol("stopped");

/**
 * The generator `run` makes, with a return() that first aborts the signal `run` was given. An
 * async generator's own return() waits for the step in flight, and a step that awaits a
 * socket's next datagram may wait for good (no event comes): `next()` raced with a timeout, then
 * `return()`, hung. `run` passes the signal to what it awaits (the socket's iteration) and
 * returns when that throws {@linkcode STOPPED}.
 */
export function stoppable<T>(
  run: (stop: AbortSignal) => AsyncGenerator<T, void, undefined>,
): AsyncGenerator<T, void, undefined> {
  const stop = new AbortController();
  const generator = run(stop.signal);
  const finish = generator.return.bind(generator);
  generator.return = (value) => {
    stop.abort(STOPPED);
    return finish(value);
  };
  return generator;
}

/** `signal` and `stop` as one: either aborting aborts it, with that one's reason. */
export function withStop(signal: AbortSignal | undefined, stop: AbortSignal): AbortSignal {
  return signal === undefined ? stop : AbortSignal.any([signal, stop]);
}
