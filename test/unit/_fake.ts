// Helpers for the unit tests: sockets of a FakeKernel (src/testing/), and messages built by hand
// for tests that script the kernel's answers.

import assert from "node:assert/strict";
import { Matcher } from "../../src/_matcher.ts";
import { NETLINK_ROUTE, RTM_NEWLINK } from "../../src/constants.ts";
import type { Message } from "../../src/message.ts";
import { open, type OpenOptions } from "../../src/open.ts";
import type { NetlinkSocket } from "../../src/socket.ts";
import { ackMessage, doneMessage, FakeKernel, type FakeSocket } from "../../src/testing/mod.ts";

export { FakeKernel, type FakeSocket };

/** A socket of a fresh fake kernel, and its fake transport (`setup` runs before open applies options). */
export async function fakeSocket(
  options: OpenOptions = {},
  setup: (t: FakeSocket, kernel: FakeKernel) => void = () => {},
  protocol = NETLINK_ROUTE,
  given?: FakeKernel,
): Promise<{ sock: NetlinkSocket; t: FakeSocket; kernel: FakeKernel }> {
  const kernel = given ?? new FakeKernel();
  let t!: FakeSocket;
  const sock = await open(protocol, {
    ...options,
    transport: (p, o) => {
      t = kernel.open(p, o) as FakeSocket;
      // A kernel that answers nothing unless the test programs it (the fake's rtnetlink and
      // nlctrl answer from the start, as the kernel's do).
      if (!given || !kernel.serves(p)) t.script = () => {};
      setup(t, kernel);
      return t;
    },
  });
  return { sock, t, kernel };
}

/** A message answering `request`: same seq, the requester's portid in the header. */
export function reply(request: Message, type: number, payload: Uint8Array, flags = 0): Message {
  return { type, flags, seq: request.seq, portid: request.portid, payload };
}

/** NLMSG_ERROR answering `request` (capped): errno 0 is an ack. Extended-ack fields optional. */
export function ack(
  request: Message,
  errno = 0,
  ext: { detail?: string; offset?: number } = {},
): Message {
  return ackMessage(request, errno, { message: ext.detail, offset: ext.offset }, { capped: true });
}

/** NLMSG_DONE ending a dump, optionally with an error. */
export function done(request: Message, errno = 0, flags = 0): Message {
  return doneMessage(request, errno, {}, flags);
}

/** Lets queued promise callbacks and the read loop run. */
export const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/** An RTM_NEWLINK whose payload is the one byte `n`: an event to tell apart in the stream. */
export const event = (n: number): Message => ({
  type: RTM_NEWLINK,
  flags: 0,
  seq: 0,
  portid: 0,
  payload: new Uint8Array([n]),
});

/**
 * Checks that a monitor's `events(options)` refuses, in its own name, an option other than
 * `signal` (the socket's onMalformed included), a signal that is no AbortSignal, and options
 * that are not an object.
 */
export async function assertEventsOptionsChecked(
  events: (options: never) => AsyncIterator<unknown>,
): Promise<void> {
  const cases: [unknown, string][] = [
    [
      { signl: undefined },
      "events() options: unknown option \"signl\" (did you mean \"signal\"?); the options are signal",
    ],
    [
      { onMalformed: () => {} },
      "events() options: unknown option \"onMalformed\"; the options are signal",
    ],
    [null, "events() options must be an object, got null"],
    // Refused by name, not by AbortSignal.any() inside, in each runtime's words.
    [{ signal: "x" }, "events() options: signal must be an AbortSignal, got \"x\""],
    [{ signal: {} }, "events() options: signal must be an AbortSignal, got {}"],
  ];
  for (const [options, message] of cases) {
    await assert.rejects(
      events(options as never).next(),
      (e: unknown) => e instanceof TypeError && e.message === message,
    );
  }
}

/**
 * Counts the datagrams the socket handed to a request whole, as bytes (Matcher.claimDatagram),
 * while `run` runs.
 */
export async function countingDatagrams<T>(run: () => Promise<T>): Promise<[T, number]> {
  const claim = Matcher.prototype.claimDatagram;
  let claimed = 0;
  Matcher.prototype.claimDatagram = function(data, sender) {
    const taken = claim.call(this, data, sender);
    if (taken) claimed++;
    return taken;
  };
  try {
    return [await run(), claimed];
  } finally {
    Matcher.prototype.claimDatagram = claim;
  }
}
