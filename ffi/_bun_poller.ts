/**
 * The Bun poller Worker's entry point (see `_bun_waiter.ts` for the protocol). Not a library
 * module: it is only ever loaded with `new Worker(...)`, by `_bun_waiter.ts`, which imports
 * nothing from it but the type of what it posts.
 *
 * Loop: while RUNNING, rebuild the poll set from the ARMED slots plus the control eventfd, block
 * in poll(2) with no timeout, disarm every readable slot and post its number, repeat. Writing the
 * control eventfd is how the waiting thread makes it look at the slots again. Otherwise park:
 * confirm a requested park (after which it never touches that eventfd again) and wait in
 * Atomics.wait until the run state changes. It opens and closes no descriptor: the waiting
 * thread owns them all.
 *
 * @module
 */

import { loadBunLibc } from "./_bun_libc.ts";
import {
  ARMED,
  CONTROL,
  FD,
  GENERATION,
  HEADER_INTS,
  IDLE,
  INITIAL_SLOTS,
  MAX_SLOTS,
  PARK_REQUESTED,
  PARKED,
  RUN_STATE,
  RUNNING,
  sharedBytes,
  SLOT_COUNT,
  SLOT_INTS,
  STATE,
} from "./_bun_waiter.ts";
import { pollfdBytes, pollfdRevents, setPollfd } from "./_pollfd.ts";

/**
 * What the poller posts: first `{ type: "ready", shared }` with the buffer it shares, then the
 * readable slots, as pairs of a slot's number and its generation.
 */
export type PollerMessage =
  | { readonly type: "ready"; readonly shared: SharedArrayBuffer }
  | readonly number[];

const post = (globalThis as unknown as { postMessage(message: PollerMessage): void }).postMessage
  .bind(globalThis);

function run(): void {
  const libc = loadBunLibc();
  const buffer = new (SharedArrayBuffer as unknown as new(
    length: number,
    options: { maxByteLength: number },
  ) => SharedArrayBuffer)(sharedBytes(INITIAL_SLOTS), { maxByteLength: sharedBytes(MAX_SLOTS) });
  // Length-tracking: sees the buffer grow when the waiting thread registers more slots. All
  // zeros: PARKED, no slot.
  const shared = new Int32Array(buffer);
  post({ type: "ready", shared: buffer });

  const scratch = libc.alloc(8);
  let capacity = 0;
  let fds = libc.alloc(0);
  let view = new DataView(fds.buffer);
  let slotAt = new Int32Array(0);
  let fdAt = new Int32Array(0);
  let events: number[] = [];

  for (;;) {
    const state = Atomics.load(shared, RUN_STATE);
    if (state !== RUNNING) {
      if (
        state === PARK_REQUESTED
        && Atomics.compareExchange(shared, RUN_STATE, PARK_REQUESTED, PARKED) === PARK_REQUESTED
      ) {
        Atomics.notify(shared, RUN_STATE);
      }
      // Returns at once if the state is no longer PARKED (a wait took the park request back).
      Atomics.wait(shared, RUN_STATE, PARKED);
      continue;
    }
    const control = Atomics.load(shared, CONTROL);
    const count = Atomics.load(shared, SLOT_COUNT);
    if (count + 1 > capacity) {
      capacity = Math.max(count + 1, capacity * 2, 16);
      fds = libc.alloc(pollfdBytes(capacity));
      view = new DataView(fds.buffer);
      slotAt = new Int32Array(capacity);
      fdAt = new Int32Array(capacity);
    }
    setPollfd(view, 0, control);
    let n = 1;
    for (let slot = 0; slot < count; slot++) {
      const base = HEADER_INTS + slot * SLOT_INTS;
      if (Atomics.load(shared, base + STATE) !== ARMED) continue;
      const fd = Atomics.load(shared, base + FD);
      setPollfd(view, n, fd);
      slotAt[n] = slot;
      fdAt[n++] = fd;
    }
    // Blocks this thread only. -1 is EINTR in practice: just look at the slots again.
    if (libc.poll(fds, n, -1) <= 0) continue;
    // Still RUNNING or PARK_REQUESTED here: the eventfd is open until this thread parks.
    if (pollfdRevents(view, 0) !== 0) libc.read(control, scratch, 8);
    for (let i = 1; i < n; i++) {
      if (pollfdRevents(view, i) === 0) continue;
      const base = HEADER_INTS + slotAt[i] * SLOT_INTS;
      // Only if still ARMED with the fd polled: a cancel (IDLE) or close (FREE, perhaps reused
      // since by another socket) meanwhile wins.
      if (
        Atomics.load(shared, base + FD) === fdAt[i]
        && Atomics.compareExchange(shared, base + STATE, ARMED, IDLE) === ARMED
      ) {
        events.push(slotAt[i], Atomics.load(shared, base + GENERATION));
      }
    }
    if (events.length > 0) {
      post(events);
      events = [];
    }
  }
}

run();
