// For bench/event_latency.sh's subscribers: with NL_ENTRY_FILE set, the time from the entry of
// the runtime's SIGURG listener call to each recorded event, inside the process. That is what a
// subscriber adds once the runtime has delivered the signal: no kernel, no runtime signal
// delivery, so far steadier than the end-to-end latency (a run's p50 moves by less than its
// parts). Appended to the file as "<name> <p50 us> <p75 us> <mean us>" when the subscriber ends.

import { appendFileSync } from "node:fs";
import process from "node:process";

export class SignalEntry {
  readonly #name: string;
  readonly #file = process.env.NL_ENTRY_FILE;
  readonly #after: number[] = [];
  #entry = 0;

  constructor(name: string) {
    this.#name = name;
  }

  /**
   * Marks the entry from a SIGURG listener of its own: installed before the library's (which
   * is installed on the first wait), it is called first.
   */
  listen(): void {
    if (this.#file === undefined) return;
    const mark = () => this.mark();
    const g = globalThis as { Deno?: { addSignalListener(s: string, f: () => void): void } };
    if ("Bun" in globalThis) process.on("SIGURG", mark);
    else g.Deno!.addSignalListener("SIGURG", mark);
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
    this.#entry = performance.now();
  }

  /**
   * An event is recorded now. Not when no listener call was ever marked: a subscriber whose waits
   * take no signal (Deno's pool waiter) has no entry to measure from.
   */
  record(): void {
    if (this.#file !== undefined && this.#entry !== 0) {
      this.#after.push((performance.now() - this.#entry) * 1000);
    }
  }

  /** Appends the summary line. */
  write(): void {
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

/** Deno's Node pipe handle class, if any. */
function pipeClass(): { prototype: object } | undefined {
  const p = process as unknown as { binding?: (name: string) => { Pipe?: { prototype: object } } };
  return p.binding?.("pipe_wrap").Pipe;
}
