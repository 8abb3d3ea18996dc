/**
 * Bun: asks JavaScriptCore to optimize the library's per-event code (src/_per_event.ts) once a
 * monitor has run it for a few dozen events, through `bun:jsc`'s `optimizeNextInvocation`.
 *
 * Why (numbers in ffi/README.md, "Optimizing the per-event code"): code that runs once per event
 * stays in JavaScriptCore's Baseline tier for hundreds of events. Its optimizing tier (DFG)
 * waits for a call count, and then delays again, up to five times, while a function's type
 * profiles are "insufficient" (branches that never ran, such as error paths, count as empty
 * profiles), each delay another warm-up. `optimizeNextInvocation(f)` makes f's next call ask for
 * optimization now; asking at each of WINDOW wake-ups takes each function through its delays, so
 * the per-event functions are optimized by some fifty events, with the type profiles of the
 * events before. It changes no behaviour: the optimized code deoptimizes, as any does, if a
 * later call breaks what its profiles predicted. Nothing asks for a function already optimized
 * once (`numberOfDFGCompiles`), and nothing runs after the window.
 *
 * And once a flood starts, it keeps that code out of JavaScriptCore's top tier (FTL) with
 * `noFTL`, on every Bun thread: see keepPerEventCodeFromFTL.
 *
 * "bun:jsc" is loaded with `import.meta.require` on first use, as `bun:ffi` is (_bun_libc.ts),
 * so that Deno never sees the name. Bun 1.4.4's "bun:jsc" has these functions; without them
 * (another Bun), nothing is asked.
 *
 * @module
 */

import {
  capPerEventCode,
  listPerEventCode,
  stopPerEventCode,
  wantPerEventCode,
} from "../src/_per_event.ts";

/** The part of "bun:jsc" used here (Bun 1.4.4). */
interface BunJsc {
  optimizeNextInvocation(f: unknown): void;
  numberOfDFGCompiles(f: unknown): number;
  noFTL(f: unknown): void;
}

/** "bun:jsc", or undefined where Bun has none. */
function loadJsc(): BunJsc | undefined {
  try {
    return (import.meta as unknown as { require(id: string): BunJsc }).require("bun:jsc");
  } catch {
    return undefined;
  }
}

/**
 * Returns the transport's `flooded` (see Runtime): its first call keeps the per-event code out
 * of JavaScriptCore's top tier (FTL), in its optimizing tier (DFG), from then on; later calls do
 * nothing.
 *
 * Why: a flood runs the per-datagram part of that code (the read, the cursor's step to the next
 * datagram) tens of thousands of times within some 100 ms, and JavaScriptCore then compiles a
 * dozen of its functions with FTL on its compiler threads, while the receiver and the sender need
 * the machine's CPUs: on two vCPUs, the compiler threads took 75-118 ms of CPU during a
 * 1,000,000-message flood of 64 per datagram, against the bare FFI loop's 30, and 52-66 with
 * this (Bun 1.4.4; ffi/README.md, "Kept out of FTL"). Code run once per datagram gains little
 * from FTL over DFG. Not at the first open: loading "bun:jsc" and marking the functions took
 * 2-24 ms there (a loaded machine), which a one-shot dump would pay for nothing. A read that
 * takes a full batch is a flood's first reads; the functions' FTL compiles would come thousands
 * of datagrams later.
 */
export function keepPerEventCodeFromFTL(): () => void {
  // The closures made before the flood (a socket's, its cursor's) are kept until then.
  wantPerEventCode();
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const jsc = loadJsc();
    if (typeof jsc?.noFTL === "function") capPerEventCode((f) => jsc.noFTL(f));
    stopPerEventCode();
  };
}

/**
 * The first wake-up that asks: by then a monitor's per-event functions have run often enough for
 * JavaScriptCore's Baseline tier (some 30 calls; before it, there is nothing to ask of), and
 * their profiles hold that many events.
 */
const FIRST = 32;
/** How many wake-ups in a row ask: each takes the functions still waiting through one delay. */
const WINDOW = 24;

/**
 * Starts keeping the per-event code's list and returns the signal waiter's `afterWake` (see
 * Signals): it counts wake-ups and, from the FIRST on, asks for optimization after each one, in
 * a macrotask (after the event's own code, a `for await` step included), WINDOW times.
 */
export function bunOptimizer(): () => boolean {
  wantPerEventCode();
  let wakeUps = 0;
  const ask = (): void => {
    const jsc = loadJsc();
    if (typeof jsc?.optimizeNextInvocation !== "function") return;
    for (const f of listPerEventCode()) {
      if (jsc.numberOfDFGCompiles(f) === 0) jsc.optimizeNextInvocation(f);
    }
  };
  return () => {
    if (++wakeUps < FIRST) return true;
    const g = globalThis as unknown as { setImmediate(run: () => void): void };
    g.setImmediate(ask);
    if (wakeUps < FIRST + WINDOW - 1) return true;
    stopPerEventCode();
    return false;
  };
}
