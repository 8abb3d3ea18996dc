/**
 * Which waiter the library uses on this thread (ffi/mod.ts chooses the same way): Deno's
 * thread-pool waiter (ffi/_pool_waiter.ts) where Deno's `core.unrefOpPromise` exists, the signal
 * waiter (ffi/_signal_waiter.ts) otherwise and on Bun's main thread.
 *
 * @module
 */

/** hideDenoInternals() was called on this thread: the library chose the signal waiter then. */
let hidden = false;

/** True when this thread's waits run on Deno's thread pool (asked now, not at import). */
export function usesPoolWaiter(): boolean {
  if (hidden) return false;
  const deno = (globalThis as { Deno?: Record<string | symbol, unknown> }).Deno;
  if ("Bun" in globalThis || deno === undefined) return false;
  const internal = deno.internal as symbol | undefined;
  const core = internal === undefined
    ? undefined
    : (deno[internal] as { core?: { unrefOpPromise?: unknown } } | undefined)?.core;
  return typeof core?.unrefOpPromise === "function";
}

/**
 * Makes Deno look like a Deno without `core.unrefOpPromise` (its internals hidden), so that the
 * library, detecting its runtime on this thread's first socket, falls back to the signal waiter.
 * Returns what shows them again: Deno's own test runner needs them.
 */
export function hideDenoInternals(): () => void {
  const shown = Object.getOwnPropertyDescriptor(Deno, "internal")!;
  Object.defineProperty(Deno, "internal", { value: Symbol("hidden") });
  hidden = true;
  return () => Object.defineProperty(Deno, "internal", shown);
}

/** What {@linkcode hideDenoInternals} does, as source for a child process (which keeps them hidden). */
export const HIDE_DENO_INTERNALS =
  `Object.defineProperty(Deno, "internal", { value: Symbol("hidden") });`;
