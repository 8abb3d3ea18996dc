/**
 * Ordered steps for hand-written async iterators.
 *
 * @module
 */

/**
 * Keeps the steps of one async iteration in order when next() is called again before an earlier
 * step has settled (the iterator protocol allows that): such a call runs once the earlier steps
 * have. Only a step that waits registers itself through `waiting`, so a step answered at once
 * costs nothing extra.
 */
export function orderedSteps<T>(step: () => Promise<T>): {
  next: () => Promise<T>;
  waiting: (pending: Promise<T>) => Promise<T>;
} {
  let unsettled: Promise<void> | undefined;
  const next = (): Promise<T> => unsettled ? unsettled.then(() => next()) : step();
  const waiting = (pending: Promise<T>): Promise<T> => {
    const clear = () => {
      if (unsettled === settled) unsettled = undefined;
    };
    const settled: Promise<void> = pending.then(clear, clear);
    unsettled = settled;
    return pending;
  };
  return { next, waiting };
}
