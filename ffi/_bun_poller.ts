/**
 * The Bun poller Worker's entry point (see `_bun_waiter.ts` for the protocol). Not a library
 * module: it is only ever loaded with `new Worker(...)`, by `_bun_waiter.ts`.
 *
 * Loop: rebuild the poll set from the ARMED slots (closing the fds of CLOSING slots, which is
 * safe here because this thread is not polling them), block in poll(2) with no timeout, disarm
 * every readable slot and post its number, repeat. Writing the control eventfd is how the main
 * thread makes it look at the slots again.
 *
 * @module
 */

import { errnoName } from "../src/_errno.ts";
import { loadBunLibc } from "./_bun_libc.ts";
import {
  ARMED,
  CLOSED,
  CLOSING,
  FD,
  FREE,
  GENERATION,
  HEADER_INTS,
  IDLE,
  INITIAL_SLOTS,
  MAX_SLOTS,
  READABLE,
  sharedBytes,
  SLOT_COUNT,
  SLOT_INTS,
  STATE,
} from "./_bun_waiter.ts";
import { EFD_CLOEXEC, EFD_NONBLOCK } from "./_constants.ts";
import { pollfdBytes, pollfdRevents, setPollfd } from "./_pollfd.ts";

const post = (globalThis as unknown as { postMessage(message: unknown): void }).postMessage.bind(
  globalThis,
);

function run(): void {
  const libc = loadBunLibc();
  const control = libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (control < 0) {
    post({ type: "failed", message: `eventfd: ${errnoName(libc.errno())}` });
    return;
  }
  const buffer = new (SharedArrayBuffer as unknown as new(
    length: number,
    options: { maxByteLength: number },
  ) => SharedArrayBuffer)(sharedBytes(INITIAL_SLOTS), { maxByteLength: sharedBytes(MAX_SLOTS) });
  // Length-tracking: sees the buffer grow when the main thread registers more slots.
  const shared = new Int32Array(buffer);
  post({ type: "ready", shared: buffer, control });

  const scratch = libc.alloc(8);
  let capacity = 0;
  let fds = libc.alloc(0);
  let view = new DataView(fds.buffer);
  let slotAt = new Int32Array(0);
  let events: number[] = [];

  for (;;) {
    const count = Atomics.load(shared, SLOT_COUNT);
    if (count + 1 > capacity) {
      capacity = Math.max(count + 1, capacity * 2, 16);
      fds = libc.alloc(pollfdBytes(capacity));
      view = new DataView(fds.buffer);
      slotAt = new Int32Array(capacity);
    }
    setPollfd(view, 0, control);
    let n = 1;
    for (let slot = 0; slot < count; slot++) {
      const base = HEADER_INTS + slot * SLOT_INTS;
      const state = Atomics.load(shared, base + STATE);
      if (state === ARMED) {
        setPollfd(view, n, Atomics.load(shared, base + FD));
        slotAt[n++] = slot;
      } else if (state === CLOSING) {
        libc.close(Atomics.load(shared, base + FD));
        Atomics.store(shared, base + STATE, FREE);
        events.push(slot, 0, CLOSED);
      }
    }
    if (events.length > 0) {
      post(events);
      events = [];
    }
    // Blocks this thread only. -1 is EINTR in practice: just look at the slots again.
    if (libc.poll(fds, n, -1) <= 0) continue;
    if (pollfdRevents(view, 0) !== 0) libc.read(control, scratch, 8);
    for (let i = 1; i < n; i++) {
      if (pollfdRevents(view, i) === 0) continue;
      const base = HEADER_INTS + slotAt[i] * SLOT_INTS;
      // Only if still ARMED: a cancel (IDLE) or close (CLOSING) since the poll started wins.
      if (Atomics.compareExchange(shared, base + STATE, ARMED, IDLE) === ARMED) {
        events.push(slotAt[i], Atomics.load(shared, base + GENERATION), READABLE);
      }
    }
    if (events.length > 0) {
      post(events);
      events = [];
    }
  }
}

run();
