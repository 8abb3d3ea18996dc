// For bench/event_latency.sh's subscribers: with NL_ENTRY_FILE set, the time from the entry of
// the runtime's SIGURG listener call (on Deno's pool waiter, the settling of its poll's promise)
// to each recorded event, inside the process. That is what a subscriber adds once the runtime has
// delivered the wake-up: no kernel, no runtime signal delivery, so far steadier than the
// end-to-end latency (a run's p50 moves by less than its parts). Appended to the file as "<name>
// <p50 us> <p75 us> <mean us>" when the subscriber ends; with NL_EVENT_STAMPS set, every event's
// time, in order, to that file (bench/event_windows.sh). With NL_ENTRY_CLOCK=thread, the time is
// the main thread's CPU time (CLOCK_THREAD_CPUTIME_ID, through FFI), not the wall clock: on a
// loaded machine, time the thread spent preempted is left out, so two trees compare by the work
// an event costs them (caches included), not by what else ran.

import { appendFileSync } from "node:fs";
import process from "node:process";

/** The clock the stamps read, in milliseconds: the wall clock, or the thread's CPU time. */
const now: () => number = process.env.NL_ENTRY_CLOCK === "thread"
  ? await threadCpuClock()
  : () => performance.now();

async function threadCpuClock(): Promise<() => number> {
  const CLOCK_THREAD_CPUTIME_ID = 3;
  const ts = new BigInt64Array(new ArrayBuffer(16));
  const g = globalThis as unknown as {
    Deno?: {
      dlopen(path: string, defs: Record<string, unknown>): {
        symbols: { clock_gettime(id: number, ts: BigInt64Array): number };
      };
    };
  };
  let gettime: (id: number, ts: BigInt64Array) => number;
  if ("Bun" in globalThis) {
    const ffi = "bun:ffi"; // a variable: Deno never resolves the name
    const { dlopen } = await import(ffi);
    gettime = dlopen("libc.so.6", {
      clock_gettime: { args: ["i32", "ptr"], returns: "i32" },
    }).symbols.clock_gettime;
  } else {
    gettime = g.Deno!.dlopen("libc.so.6", {
      clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
    }).symbols.clock_gettime;
  }
  return () => {
    gettime(CLOCK_THREAD_CPUTIME_ID, ts);
    return Number(ts[0]) * 1e3 + Number(ts[1]) / 1e6;
  };
}

export class SignalEntry {
  readonly #name: string;
  readonly #file = process.env.NL_ENTRY_FILE;
  /** Where every event's time after the entry goes, in order, one a line. */
  readonly #stamps = process.env.NL_EVENT_STAMPS;
  readonly #after: number[] = [];
  #entry = 0;

  constructor(name: string) {
    this.#name = name;
  }

  /**
   * Marks the entry from a SIGURG listener of its own: installed before the library's (which
   * is installed on the first wait), it is called first. On Deno, also from each thread-pool
   * poll's settling (markPoolReturns).
   */
  listen(): void {
    if (this.#file === undefined && this.#stamps === undefined) return;
    const mark = () => this.mark();
    const g = globalThis as { Deno?: { addSignalListener(s: string, f: () => void): void } };
    if ("Bun" in globalThis) process.on("SIGURG", mark);
    else {
      g.Deno!.addSignalListener("SIGURG", mark);
      markPoolReturns(mark);
    }
    // A signalfd read through a pipe handle (the sigfd floor: ffi/README.md, Alternatives) takes
    // its signals in onread, where no listener sees them: every onread set from now on marks the
    // entry first.
    const Pipe = "Bun" in globalThis ? undefined : pipeClass();
    if (Pipe !== undefined) {
      const key = Symbol("onread");
      type Handle = Record<symbol, unknown>;
      Object.defineProperty(Pipe.prototype, "onread", {
        get(this: Handle) {
          return this[key];
        },
        set(this: Handle, f: (...args: unknown[]) => unknown) {
          this[key] = (...args: unknown[]) => (mark(), f.apply(this, args));
        },
        configurable: true,
      });
    }
  }

  /** The listener call starts now (for a subscriber whose own listener reads). */
  mark(): void {
    this.#entry = now();
  }

  /**
   * An event is recorded now. Not when no entry was ever marked: a subscriber whose waits take
   * neither a signal nor a pool poll has no entry to measure from.
   */
  record(): void {
    if ((this.#file !== undefined || this.#stamps !== undefined) && this.#entry !== 0) {
      this.#after.push((now() - this.#entry) * 1000);
    }
  }

  /** Appends the summary line. */
  write(): void {
    if (this.#stamps !== undefined) {
      appendFileSync(this.#stamps, this.#after.map((t) => t.toFixed(1)).join("\n") + "\n");
    }
    if (this.#file === undefined || this.#after.length === 0) return;
    const sorted = this.#after.sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
    appendFileSync(
      this.#file,
      `${this.#name} ${at(0.5).toFixed(1)} ${at(0.75).toFixed(1)} ${mean.toFixed(1)}\n`,
    );
  }
}

/**
 * Deno's pool waiter (ffi/_pool_waiter.ts) takes no signal: its wake-up is the settling of a
 * `nonblocking` poll's promise. Every such poll bound from now on marks the entry in the first
 * reaction to its promise, registered before the library's own (which runs next, in the same
 * microtask checkpoint): no promise hop is added, and the promise returned is the op's own
 * (core.unrefOpPromise needs it).
 */
function markPoolReturns(mark: () => void): void {
  type Symbols = Record<string, (...args: unknown[]) => unknown>;
  const deno = globalThis as unknown as {
    Deno: {
      dlopen(
        path: string,
        defs: Record<string, { nonblocking?: boolean; name?: string }>,
      ): { symbols: Symbols };
    };
  };
  const dlopen = deno.Deno.dlopen;
  deno.Deno.dlopen = (path, defs) => {
    const lib = dlopen(path, defs);
    const polls = Object.keys(defs).filter((k) =>
      defs[k].nonblocking && (defs[k].name ?? k) === "poll"
    );
    if (polls.length === 0) return lib;
    const symbols: Symbols = { ...lib.symbols };
    for (const k of polls) {
      const call = lib.symbols[k];
      symbols[k] = (...args) => {
        const promise = call(...args) as Promise<unknown>;
        promise.then(mark);
        return promise;
      };
    }
    return { ...lib, symbols };
  };
}

/** Deno's Node pipe handle class, if any. */
function pipeClass(): { prototype: object } | undefined {
  const p = process as unknown as { binding?: (name: string) => { Pipe?: { prototype: object } } };
  return p.binding?.("pipe_wrap").Pipe;
}
