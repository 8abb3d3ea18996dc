/**
 * Ordered steps for hand-written async iterators.
 *
 * @module
 */

/**
 * Keeps the steps of one async iteration in order when next() is called again before an earlier
 * step has settled (the iterator protocol allows that): such a call runs once every step asked
 * for before it has settled. Only a step that waits registers itself through `waiting`, so a
 * step answered at once costs nothing extra.
 */
export function orderedSteps<T>(step: () => Promise<T>): {
  next: () => Promise<T>;
  waiting: (pending: Promise<T>) => Promise<T>;
  /** Settles once every step asked for so far has (at once when none is unsettled). */
  settled: () => Promise<void>;
} {
  /** Settles once the last step asked for has; undefined while no step is unsettled. */
  let tail: Promise<void> | undefined;
  let waited = false;
  const track = (pending: Promise<T>): void => {
    const clear = () => {
      if (tail === settled) tail = undefined;
    };
    const settled: Promise<void> = pending.then(clear, clear);
    tail = settled;
  };
  const next = (): Promise<T> => {
    if (tail !== undefined) {
      // After the steps asked for before it, even one asked for while those wait to run.
      const chained = tail.then(step);
      track(chained);
      return chained;
    }
    waited = false;
    const pending = step();
    if (waited) track(pending);
    return pending;
  };
  const waiting = (pending: Promise<T>): Promise<T> => {
    waited = true;
    return pending;
  };
  const settled = (): Promise<void> => tail ?? Promise.resolve();
  return { next, waiting, settled };
}
