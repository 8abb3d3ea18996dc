/**
 * The iterator behind `dump()`: sends the request when iteration starts (once the socket's dump
 * slot is free: the kernel runs one dump per socket), yields each part as it arrives, pauses
 * reading while its consumer lags, and on an early exit leaves the rest of the dump to be read
 * and discarded.
 *
 * @module
 */

import { Fifo } from "./_fifo.ts";
import type { Matcher, Pending } from "./_matcher.ts";
import { orderedSteps } from "./_steps.ts";
import { NLM_F_DUMP, NLM_F_REQUEST } from "./constants.ts";
import { DumpInterruptedError } from "./errors.ts";
import type { ReceivedMessage } from "./message.ts";

/** A dump queue this long pauses reading until its consumer catches up; dumps never lose data. */
export const DUMP_HIGH_WATER = 8192;

/** What a dump needs from its socket. */
export interface DumpHost {
  readonly matcher: Matcher;
  /** Throws if the socket cannot be used. */
  checkOpen(): void;
  /** Demand changed. */
  kick(): void;
  /** Encodes the request with these flags and sequence number. */
  encode(flags: number, seq: number): Uint8Array;
  /** Sends a request's bytes to `to` and reads its first answers; throws on failure. */
  sendRequest(bytes: Uint8Array, to: number): void;
  /** Arms the timeout and abort signal; returns the function that disarms them. */
  guard(fail: (error: unknown) => void): () => void;
  /** The signal, checked before anything is sent. */
  readonly signal?: AbortSignal;
  /** The extra flags the message asked for. */
  readonly flags: number;
  /** Where the request goes (0: the kernel). */
  readonly to: number;
}

interface Consumer {
  resolve(result: IteratorResult<ReceivedMessage>): void;
  reject(error: unknown): void;
}

/** One iteration of a dump. */
export function dumpIterator(host: DumpHost): AsyncIterator<ReceivedMessage> {
  const { matcher } = host;
  const parts = new Fifo<ReceivedMessage>();
  let consumer: Consumer | undefined;
  let outcome: { error?: unknown } | undefined;
  let pending: Pending | undefined;
  let sent = false;
  let paused = false;
  let disarm = () => {};
  let withdraw = () => {};
  const settle = () => {
    if (!consumer) return;
    const c = consumer;
    if (parts.length > 0) {
      consumer = undefined;
      c.resolve({ value: parts.shift()!, done: false });
      if (paused) host.kick(); // reading paused for this consumer may resume
    } else if (outcome) {
      consumer = undefined;
      const { error } = outcome;
      outcome = {}; // an error is thrown once; then the iterator is done
      if (error !== undefined) c.reject(error);
      else c.resolve({ value: undefined, done: true });
    }
  };
  /** Ends the dump early (break, timeout, abort): what still comes for it is discarded. */
  const abandon = (error?: unknown) => {
    disarm();
    withdraw();
    if (pending) {
      // Sent: its answer is owed, and the kernel's dump runs until read to its end.
      if (sent) matcher.abandon(pending);
      else matcher.remove(pending);
    }
    parts.clear();
    outcome ??= { error };
    settle();
    host.kick();
  };
  const start = () => {
    host.checkOpen();
    host.signal?.throwIfAborted();
    const seq = matcher.nextSeq();
    const bytes = host.encode(host.flags | NLM_F_REQUEST | NLM_F_DUMP, seq);
    disarm = host.guard(abandon);
    const self: Pending = {
      seq,
      from: host.to,
      dump: true,
      endsAtDone: true,
      echo: false,
      interrupted: false,
      // Dumps never lose data (the kernel fills them only when read), so a lagging consumer
      // pauses reading rather than buffering the whole dump; hysteresis as for the stream.
      paused: () => {
        if (parts.length >= DUMP_HIGH_WATER) paused = true;
        else if (parts.length <= DUMP_HIGH_WATER / 2) paused = false;
        return paused;
      },
      push: (msg) => {
        parts.push(msg);
        settle();
      },
      finish: (error) => {
        if (!matcher.remove(self)) return;
        withdraw();
        disarm();
        outcome = {
          error: error ?? (self.interrupted ? new DumpInterruptedError([]) : undefined),
        };
        settle();
        host.kick();
      },
    };
    pending = self;
    matcher.add(self);
    const send = () => {
      if (host.to === 0) matcher.takeDumpSlot(seq);
      sent = true;
      try {
        host.sendRequest(bytes, host.to);
      } catch (err) {
        sent = false;
        self.finish(err);
        matcher.releaseDumpSlot(seq);
      }
    };
    // The kernel runs one dump per socket: a second one would fail with EBUSY.
    if (host.to === 0) withdraw = matcher.whenDumpSlotFree({ start: send });
    else send();
    host.kick();
  };
  const steps = orderedSteps((): Promise<IteratorResult<ReceivedMessage>> => {
    if (!pending && !outcome) {
      try {
        start();
      } catch (err) {
        outcome = {};
        return Promise.reject(err);
      }
    }
    if (parts.length > 0) {
      // The common case while a dump streams: no waiter to build.
      const value = parts.shift()!;
      if (paused) host.kick();
      return Promise.resolve({ value, done: false });
    }
    return steps.waiting(
      new Promise((resolve, reject) => {
        consumer = { resolve, reject };
        settle();
      }),
    );
  });
  return {
    next: steps.next,
    return: () => {
      const waiting = consumer;
      consumer = undefined;
      if (outcome === undefined || (pending && matcher.has(pending))) abandon();
      outcome = {};
      waiting?.resolve({ value: undefined, done: true });
      return Promise.resolve({ value: undefined, done: true });
    },
  };
}
