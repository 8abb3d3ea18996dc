/**
 * Which waiter the library uses on this thread (ffi/mod.ts chooses the same way, on the thread's
 * first wait): on Deno, the signalfd waiter (ffi/_signalfd.ts) where Deno's pipe handle exists
 * (`process.binding("pipe_wrap").Pipe`), the thread-pool waiter (ffi/_pool_waiter.ts) where
 * Deno's `core.unrefOpPromise` does, the signal waiter with Deno's signal listener otherwise;
 * on Bun's main thread, the signal waiter.
 *
 * @module
 */

/** What the library waits with: see the module's text. */
export type WaiterKind = "signalfd" | "pool" | "signal";

/** How much of Deno was hidden on this thread: see {@linkcode hidePipeHandle}. */
let hidden: "pipe" | "internals" | undefined;

interface NodeProcess {
  binding(name: string): Record<string, unknown>;
}

/** Deno's Node `process` (loads its Node compatibility layer). */
function nodeProcess(): NodeProcess | undefined {
  return (globalThis as unknown as { process?: NodeProcess }).process;
}

/** The waiter this thread's waits use (asked now, not at import). */
export function waiterKind(): WaiterKind {
  const deno = (globalThis as { Deno?: Record<string | symbol, unknown> }).Deno;
  if ("Bun" in globalThis || deno === undefined) return "signal";
  if (hidden === undefined && typeof nodeProcess()?.binding("pipe_wrap").Pipe === "function") {
    return "signalfd";
  }
  if (hidden === "internals") return "signal";
  const internal = deno.internal as symbol | undefined;
  const core = internal === undefined
    ? undefined
    : (deno[internal] as { core?: { unrefOpPromise?: unknown } } | undefined)?.core;
  return typeof core?.unrefOpPromise === "function" ? "pool" : "signal";
}

/** What {@linkcode hidePipeHandle} does, as source for a child process (which keeps it hidden). */
const HIDE_PIPE_HANDLE = `{
  const binding = globalThis.process.binding;
  globalThis.process.binding = (name) => name === "pipe_wrap" ? {} : binding.call(globalThis.process, name);
}`;

/** What {@linkcode hideDenoInternals} does, as source for a child process. */
const HIDE_DENO_INTERNALS =
  `${HIDE_PIPE_HANDLE}\nObject.defineProperty(Deno, "internal", { value: Symbol("hidden") });`;

/**
 * Makes Deno look like a Deno without a pipe handle, so that the library, choosing its waiter on
 * this thread's first wait, falls back to the pool waiter. Returns what shows it again.
 */
export function hidePipeHandle(): () => void {
  const process = nodeProcess()!;
  const binding = process.binding;
  process.binding = (name) => name === "pipe_wrap" ? {} : binding.call(process, name);
  hidden = "pipe";
  return () => {
    process.binding = binding;
  };
}

/**
 * Makes Deno look like a Deno without a pipe handle or `core.unrefOpPromise` (its internals
 * hidden), so that the library falls back to the signal waiter. Returns what shows them again:
 * Deno's own test runner needs them.
 */
export function hideDenoInternals(): () => void {
  const showPipe = hidePipeHandle();
  const shown = Object.getOwnPropertyDescriptor(Deno, "internal")!;
  Object.defineProperty(Deno, "internal", { value: Symbol("hidden") });
  hidden = "internals";
  return () => {
    showPipe();
    Object.defineProperty(Deno, "internal", shown);
  };
}

/** Source that hides in a child process what is hidden on this thread (nothing, if nothing). */
export function hiddenInChild(): string {
  return hidden === "internals" ? HIDE_DENO_INTERNALS : hidden === "pipe" ? HIDE_PIPE_HANDLE : "";
}
