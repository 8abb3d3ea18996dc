/**
 * Ordered steps for hand-written async iterators.
 *
 * @module
 */

/**
 * Keeps the steps of one async iteration in order when next() is called again before an earlier
 * step has settled (the iterator protocol allows that): such a call runs once every step asked
 * for before it has settled. Only a step that waits registers itself, through `waiting` or
 * `waitingOwned`, so a step answered at once costs nothing extra.
 */
export function orderedSteps<T>(step: () => Promise<T>): {
  next: () => Promise<T>;
  /** A step that waits: the steps asked for after it run once its promise has settled. */
  waiting: (pending: Promise<T>) => Promise<T>;
  /**
   * A step that waits and whose owner settles it itself, calling `settledNow` as it does: no
   * reaction is registered on its promise unless a later step is asked for while it waits. A
   * `for await` consumer's step is then resumed by the first job the settling queues, its own;
   * a reaction registered first ran before it, on the way from a wake-up to the consumer's code.
   */
  waitingOwned: (pending: Promise<T>) => Promise<T>;
  /** The waiting step's owner settles it now (see `waitingOwned`). */
  settledNow: () => void;
  /** Settles once every step asked for so far has (at once when none is unsettled). */
  settled: () => Promise<void>;
  /** No step is unsettled: one run now would be the only one. */
  idle: () => boolean;
} {
  /** Settles once the last step asked for has; undefined while no step is unsettled. */
  let tail: Promise<void> | undefined;
  /** How the step that next() runs waits: 0, it does not; 1, `waiting`; 2, `waitingOwned`. */
  let waited = 0;
  /** The step that waits (asked for alone) whose owner calls settledNow() when it settles. */
  let owned: Promise<T> | undefined;
  /** settledNow() was called while next() ran its step: it settled before it was seen waiting. */
  let settledEarly = false;
  const track = (pending: Promise<T>): void => {
    const clear = () => {
      if (tail === settled) tail = undefined;
    };
    const settled: Promise<void> = pending.then(clear, clear);
    tail = settled;
  };
  /** Steps asked for from now on follow the owned step that waits, if any. */
  const follow = (): void => {
    if (owned === undefined) return;
    track(owned);
    owned = undefined;
  };
  const next = (): Promise<T> => {
    // follow(), written out: next() runs once per part of a `for await` over a dump, a call
    // more per part until the code is optimized.
    if (owned !== undefined) {
      track(owned);
      owned = undefined;
    }
    if (tail !== undefined) {
      // After the steps asked for before it, even one asked for while those wait to run.
      const chained = tail.then(step);
      track(chained);
      return chained;
    }
    waited = 0;
    settledEarly = false;
    const pending = step();
    if (waited === 1) track(pending);
    else if (waited === 2 && !settledEarly) owned = pending;
    return pending;
  };
  const waiting = (pending: Promise<T>): Promise<T> => {
    waited = 1;
    return pending;
  };
  const waitingOwned = (pending: Promise<T>): Promise<T> => {
    waited = 2;
    return pending;
  };
  const settledNow = (): void => {
    if (owned !== undefined) owned = undefined;
    else settledEarly = true;
  };
  const settled = (): Promise<void> => {
    follow();
    return tail ?? Promise.resolve();
  };
  const idle = (): boolean => tail === undefined && owned === undefined;
  return { next, waiting, waitingOwned, settledNow, settled, idle };
}
