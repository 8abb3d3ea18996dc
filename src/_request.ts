/**
 * A request (or a batch of them, in one datagram) in flight: one pending entry per message in
 * the matcher, one outcome for the caller, the dump slot taken for a dump to the kernel, and on
 * an early end (timeout, abort, error) the answers still owed left to the matcher to discard.
 *
 * @module
 */

import type { Matcher, Pending } from "./_matcher.ts";
import { NLM_F_ACK, NLM_F_DUMP, NLM_F_ECHO } from "./constants.ts";
import { DumpInterruptedError, type NetlinkErrorInit } from "./errors.ts";
import type { Message } from "./message.ts";
import type { Replies } from "./socket.ts";

/** Any dump bit (NLM_F_ROOT, NLM_F_MATCH): the kernel runs it as a dump, one per socket. */
export const isDump = (flags: number): boolean => (flags & NLM_F_DUMP) !== 0;

/** The kernel's answer to a message with these flags is how its request is known complete. */
export const completes = (flags: number): boolean =>
  (flags & NLM_F_ACK) !== 0 || (flags & NLM_F_DUMP) === NLM_F_DUMP;

/** What a request needs from its socket. */
export interface RequestHost {
  readonly matcher: Matcher;
  /** Arms the timeout and abort signal; returns the function that disarms them. */
  guard(fail: (error: unknown) => void): () => void;
  /** Sends the datagram to `to` and reads its first answers; throws on failure. */
  send(bytes: Uint8Array, to: number): void;
  /** Demand changed. */
  kick(): void;
}

/**
 * Registers `messages` (built, with their sequence numbers; `bytes` their datagram) and sends
 * them, at once or, holding a dump to the kernel, once the socket's dump slot is free. Resolves
 * with every reply once each message whose answer completes it has been answered.
 */
export function requestInFlight(
  host: RequestHost,
  messages: readonly Message[],
  bytes: Uint8Array,
  from: number,
): Promise<Replies> {
  const { matcher } = host;
  const dumpMessage = from === 0 ? messages.find((m) => isDump(m.flags)) : undefined;
  const dumpSeq = dumpMessage?.seq ?? 0;
  let remaining = messages.filter((m) => completes(m.flags)).length;
  return new Promise<Replies>((resolve, reject) => {
    const replies: Replies = [];
    const members: (Pending & { readonly flags: number })[] = [];
    let interrupted = false;
    let settled = false;
    let sent = false;
    let withdraw = () => {};
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      cleanup();
      withdraw();
      for (const member of members) {
        // An answer still owed may yet come: it must not leak into the stream. A message
        // without NLM_F_ACK is answered only if it fails: after an early end (the first error,
        // an abort, a timeout), or when it comes after the last acked one, its error may come.
        if (sent) matcher.abandon(member, !completes(member.flags));
        else matcher.remove(member);
      }
      if (!sent && dumpSeq) matcher.releaseDumpSlot(dumpSeq);
      if (error !== undefined) reject(error);
      else if (interrupted) reject(new DumpInterruptedError(replies));
      else resolve(replies);
      host.kick(); // nothing may want data now (a timeout, say): stop reading
    };
    const cleanup = host.guard(settle);
    for (const { seq, flags } of messages) {
      const member: Pending & { flags: number } = {
        seq,
        flags,
        from,
        dump: (flags & NLM_F_DUMP) === NLM_F_DUMP,
        endsAtDone: isDump(flags),
        echo: (flags & NLM_F_ECHO) !== 0,
        interrupted: false,
        push: (msg) => replies.push(msg),
        pushRun: (messages, start, end) => {
          for (let i = start; i < end; i++) replies.push(messages[i]);
        },
        acked: (ack: NetlinkErrorInit) => {
          if (ack.detail !== undefined || ack.cookie !== undefined) {
            replies.ack = { warning: ack.detail, cookie: ack.cookie };
          }
        },
        finish: (error) => {
          if (!matcher.remove(member)) return;
          if (member.interrupted) interrupted = true;
          if (error !== undefined) settle(error);
          else if (completes(flags) && --remaining === 0) settle();
        },
      };
      members.push(member);
      matcher.add(member);
    }
    const send = () => {
      if (dumpSeq) matcher.takeDumpSlot(dumpSeq);
      sent = true;
      try {
        host.send(bytes, from);
      } catch (err) {
        sent = false;
        settle(err);
      }
    };
    if (dumpSeq) {
      // The kernel runs one dump per socket: a second one would fail with EBUSY.
      withdraw = matcher.whenDumpSlotFree({ start: send });
      host.kick(); // a dump queued behind another needs that one read to its end
    } else {
      send();
    }
  });
}
