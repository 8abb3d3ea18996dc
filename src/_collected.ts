/**
 * Releases what an object still holds once its owner let go of it without ending it (an
 * iteration left without `return()`: `sock.messages().next()` once, a monitor never iterated):
 * its abort listener on a long-lived signal, the groups it joined, the state that marks its
 * client busy. As Node's own weak abort listeners do, the release runs once the garbage collector
 * finds the object gone.
 *
 * @module
 */

const registry = new FinalizationRegistry<() => void>((release) => {
  try {
    release();
  } catch {
    // Nobody is left to tell (the owner is gone), and a throw here would end the process: a
    // release only undoes what was done for the object (leave a group of a socket that closed).
  }
});

/**
 * Runs `release` once `target` is garbage-collected, unless the returned function (call it
 * when `target` ends the ordinary way) is called first. `release` must not reach `target`, nor be
 * a closure of a scope another closure captures `target` in (closures share their scope's
 * variables): it would keep `target` alive, and never run.
 */
export function whenCollected(target: object, release: () => void): () => void {
  const token = {};
  registry.register(target, release, token);
  return () => void registry.unregister(token);
}
