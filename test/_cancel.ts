// Cancelling a dump while its consumer takes the parts (test/unit/dump_cancel_test.ts on the
// fake kernel, test/host/dump_cancel_test.ts on the real one): the three ways to consume a dump,
// and an AbortSignal that counts the abort listeners left on it.

import assert from "node:assert/strict";
import { test } from "node:test";
import { NLM_F_DUMP } from "../src/constants.ts";
import { SocketClosedError } from "../src/errors.ts";
import type { DumpIterable, MessageInput, NetlinkSocket } from "../src/socket.ts";

/** The three ways to consume a dump. */
export const CONSUMERS = ["forEach", "for await", "cursor"] as const;
export type Consumer = typeof CONSUMERS[number];

/**
 * Consumes `dump` as `how` does, calling `step(n)` with each part (for `cursor`, each step: a
 * cursor's step is walked at once) and awaiting what it returns; `n` counts from 1. Returns how
 * many parts (steps) were delivered, and the error the dump ended with, if any.
 */
export async function consume(
  dump: DumpIterable,
  how: Consumer,
  step: (n: number) => unknown,
): Promise<{ delivered: number; error: unknown }> {
  let delivered = 0;
  try {
    if (how === "forEach") {
      await dump.forEach(() => step(++delivered));
    } else if (how === "for await") {
      for await (const _ of dump) await step(++delivered);
    } else {
      for await (const c of dump.cursor()) {
        while (c.next());
        await step(++delivered);
      }
    }
  } catch (error) {
    return { delivered, error };
  }
  return { delivered, error: undefined };
}

/** An AbortController whose signal counts the abort listeners added and not removed. */
export function countingSignal(): { controller: AbortController; listeners: () => number } {
  const controller = new AbortController();
  const signal = controller.signal;
  const live = new Set<unknown>();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((type: string, f: EventListener, o?: AddEventListenerOptions) => {
    live.add(f);
    add(type, f, o);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((type: string, f: EventListener, o?: EventListenerOptions) => {
    live.delete(f);
    remove(type, f, o);
  }) as typeof signal.removeEventListener;
  // A `once` listener leaves as the signal fires.
  add("abort", () => live.clear());
  return { controller, listeners: () => live.size };
}

/** Asserts `error` is the DOMException `name` (AbortError, TimeoutError). */
export function assertDomException(error: unknown, name: string, message?: RegExp): void {
  assert.ok(error instanceof DOMException, `a DOMException, got ${error}`);
  assert.equal(error.name, name);
  if (message) assert.match(error.message, message);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What the cases below run on: a socket, and a dump request whose answer is `parts` parts. */
export interface DumpFixture {
  readonly sock: NetlinkSocket;
  readonly request: MessageInput;
  readonly parts: number;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The cancellation cases, for each consumer, as node:test tests named after `where`: an abort,
 * a timeout or a close from inside the consumer, at once or after a macrotask (by then every
 * part has been read: `fixture` makes dumps small enough for that), stops the parts at once and
 * ends the dump with what the JSDoc says; the socket answers the next dump in full, and the
 * signal keeps no listener.
 */
export function cancelCases(where: string, fixture: () => Promise<DumpFixture>): void {
  /** The next dump on `sock` is answered in full. */
  const assertUsable = async (f: DumpFixture) => {
    const all = await f.sock.request({ ...f.request, flags: NLM_F_DUMP }, { timeout: 10_000 });
    assert.equal(all.length, f.parts, "the next dump is answered in full");
  };
  for (const how of CONSUMERS) {
    for (const wait of [false, true]) {
      const when = wait ? "after a macrotask" : "at once";
      /** Runs `act` in the consumer's first step, after a macrotask if `wait`. */
      const first = (act: () => unknown) => async (n: number) => {
        if (n !== 1) return;
        if (wait) await sleep(0);
        await act();
      };
      test(`${where}: ${how}: abort in the consumer (${when}) throws AbortError; nothing after it`, async () => {
        await using f = await fixture();
        const { controller, listeners } = countingSignal();
        const dump = f.sock.dump(f.request, { signal: controller.signal });
        const { delivered, error } = await consume(dump, how, first(() => controller.abort()));
        assertDomException(error, "AbortError");
        assert.equal(delivered, 1);
        assert.equal(listeners(), 0);
        await assertUsable(f);
      });
      test(`${where}: ${how}: abort with a reason in the consumer (${when}) throws that reason`, async () => {
        await using f = await fixture();
        const controller = new AbortController();
        const reason = new Error("stop here");
        const dump = f.sock.dump(f.request, { signal: controller.signal, timeout: 10_000 });
        const { delivered, error } = await consume(
          dump,
          how,
          first(() => controller.abort(reason)),
        );
        assert.equal(error, reason);
        assert.equal(delivered, 1);
        await assertUsable(f);
      });
      test(`${where}: ${how}: close() in the consumer (${when}) throws SocketClosedError; nothing after it`, async () => {
        await using f = await fixture();
        const { controller, listeners } = countingSignal();
        const dump = f.sock.dump(f.request, { signal: controller.signal, timeout: 10_000 });
        const { delivered, error } = await consume(dump, how, first(() => f.sock.close()));
        assert.ok(error instanceof SocketClosedError, `SocketClosedError, got ${error}`);
        assert.equal(delivered, 1);
        assert.equal(listeners(), 0);
      });
    }
    test(`${where}: ${how}: a timeout that expires while the consumer is slow throws TimeoutError`, async () => {
      await using f = await fixture();
      const { controller, listeners } = countingSignal();
      const dump = f.sock.dump(f.request, { signal: controller.signal, timeout: 40 });
      const { delivered, error } = await consume(dump, how, (n) => n === 1 && sleep(120));
      assertDomException(error, "TimeoutError", /^netlink request timed out after 40 ms$/);
      assert.equal(delivered, 1);
      assert.equal(listeners(), 0);
      await assertUsable(f);
    });
    test(`${where}: ${how}: a dump run to its end, or left early, keeps no listener on its signal`, async () => {
      await using f = await fixture();
      const { controller, listeners } = countingSignal();
      const options = { signal: controller.signal, timeout: 10_000 };
      const whole = await consume(f.sock.dump(f.request, options), how, () => {});
      assert.equal(whole.error, undefined);
      if (how !== "cursor") assert.equal(whole.delivered, f.parts);
      assert.equal(listeners(), 0);
      if (how !== "forEach") {
        const dump = f.sock.dump(f.request, options);
        for await (const _ of how === "cursor" ? dump.cursor() : dump) break;
        assert.equal(listeners(), 0);
      }
      await assertUsable(f);
    });
  }
}
