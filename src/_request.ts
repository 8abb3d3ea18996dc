/**
 * A request (or a batch of them, in one datagram) in flight: one pending entry per message in
 * the matcher, one outcome for the caller, the dump slot taken for a dump to the kernel, and on
 * an early end (timeout, abort, error) the answers still owed left to the matcher to discard.
 *
 * @module
 */

import { CN_MSG_LEN, SIZEOF_CN_MSG } from "./_connector_layout.ts";
import {
  CONNECTOR_MAX_MSG_SIZE,
  NETLINK_GENERIC,
  NETLINK_NETFILTER,
  NETLINK_ROUTE,
  NFNL_MSG_BATCH_BEGIN,
  NFNL_SUBSYS_CTNETLINK,
  NFNL_SUBSYS_CTNETLINK_EXP,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_ECHO,
  NLMSG_MIN_TYPE,
  RTM_BASE,
} from "./_constants.ts";
import { HOST_LITTLE_ENDIAN } from "./_endian.ts";
import { type Disarm, DISARMED } from "./_guard.ts";
import type { Matcher, Pending } from "./_matcher.ts";
import { DumpInterruptedError, type NetlinkErrorInit } from "./errors.ts";
import type { Message } from "./message.ts";
import type { Replies } from "./socket.ts";

/**
 * The nfnetlink subsystems whose dumps are known here, conntrack's (nf_conntrack_netlink), each
 * with the message types it dumps with any of NLM_F_DUMP's bits (its callbacks test
 * `nlmsg_flags & NLM_F_DUMP`): IPCTNL_MSG_CT_GET, _GET_CTRZERO, _GET_STATS_CPU, _GET_DYING and
 * _GET_UNCONFIRMED; IPCTNL_MSG_EXP_GET and _GET_STATS_CPU. The others read no such bit as a dump:
 * a NEW's NLM_F_EXCL (NLM_F_MATCH's bit) is its own, a DELETE flushes, IPCTNL_MSG_CT_GET_STATS
 * answers one message (shown on the real kernel in test/host/fake_fidelity_test.ts).
 */
const NFNL_DUMPS = new Map([
  [NFNL_SUBSYS_CTNETLINK, new Set([1, 3, 4, 6, 7])],
  [NFNL_SUBSYS_CTNETLINK_EXP, new Set([1, 3])],
]);

/**
 * The bits of NLM_F_DUMP in `flags` that ask for a dump of `type` from `to` (0: the kernel).
 * Any of them (NLM_F_ROOT or NLM_F_MATCH alone start one), except where the kernel's own
 * protocol says otherwise: NETLINK_ROUTE dumps only its RTM_GET* types ((type & 3) == 2), and
 * runs any other type as a change, reading the bits as NLM_F_REPLACE | NLM_F_EXCL (a delete's
 * NLM_F_NONREC | NLM_F_BULK); generic netlink dumps only with both bits set, and runs a do
 * with one of them; nfnetlink leaves it to each message type's callback, known here for
 * conntrack's ({@linkcode NFNL_DUMPS}). None of the three dispatches a control type (below
 * NLMSG_MIN_TYPE) at all: it is acked when it asks (netlink_rcv_skb), a request like any change.
 */
export function dumpBits(protocol: number, to: number, type: number, flags: number): number {
  const bits = flags & NLM_F_DUMP;
  if (to !== 0 || bits === 0) return bits;
  // netlink_rcv_skb acks a control type (when asked) and runs nothing: a request, not a dump.
  if (
    type < NLMSG_MIN_TYPE
    && (protocol === NETLINK_ROUTE || protocol === NETLINK_GENERIC
      || protocol === NETLINK_NETFILTER)
  ) {
    return 0;
  }
  if (protocol === NETLINK_ROUTE) return (type & 3) === 2 ? bits : 0;
  if (protocol === NETLINK_GENERIC) return bits === NLM_F_DUMP ? bits : 0;
  const dumps = protocol === NETLINK_NETFILTER ? NFNL_DUMPS.get(type >> 8) : undefined;
  return dumps === undefined || dumps.has(type & 0xff) ? bits : 0;
}

/**
 * Why the kernel will never answer `dump()` of `type` on `protocol` (or undefined): what
 * {@linkcode dumpBits} finds no dump in, though NLM_F_DUMP is set, the kernel runs as a request,
 * and a dump asks for no ack: a control type is not dispatched at all, a change answers nothing
 * when it works. Generic netlink answers a family's operation that has no dump with
 * EOPNOTSUPP; other protocols, and nfnetlink's subsystems but conntrack's, are not known here (a
 * `timeout` or `signal` bounds such a dump). request() needs no such check: it asks for the ack.
 */
export function undumpable(protocol: number, to: number, type: number): string | undefined {
  return dumpBits(protocol, to, type, NLM_F_DUMP) === 0 ? noDump(protocol, type) : undefined;
}

/** {@linkcode undumpable}'s answer, built apart (see {@linkcode unheard}). */
function noDump(protocol: number, type: number): string {
  const name = protocol === NETLINK_ROUTE
    ? "NETLINK_ROUTE"
    : protocol === NETLINK_GENERIC
    ? "NETLINK_GENERIC"
    : "NETLINK_NETFILTER";
  if (type < NLMSG_MIN_TYPE) {
    return `${name} has no dump of message type ${type}: the kernel dispatches no control `
      + `message (below NLMSG_MIN_TYPE), and the dump would never end`;
  }
  if (protocol === NETLINK_ROUTE) {
    return `NETLINK_ROUTE has no dump of message type ${type}: it dumps only RTM_GET* types `
      + `((type & 3) == 2) and runs any other as a change, NLM_F_DUMP's bits read as `
      + `NLM_F_REPLACE | NLM_F_EXCL, which answers nothing when it works: use request()`;
  }
  return `NETLINK_NETFILTER has no dump of message type ${type}: conntrack dumps only its GET `
    + `types (but IPCTNL_MSG_CT_GET_STATS) and runs any other as a request, a change answering `
    + `nothing when it works (NLM_F_DUMP's bits read as NLM_F_REPLACE | NLM_F_EXCL), `
    + `IPCTNL_MSG_CT_GET_STATS one message without NLMSG_DONE: use request()`;
}

/** An nfnetlink batch: a datagram to the kernel that starts with NFNL_MSG_BATCH_BEGIN. */
function nfnetlinkBatch(
  protocol: number,
  to: number,
  messages: readonly { readonly type: number }[],
): boolean {
  return protocol === NETLINK_NETFILTER && to === 0 && messages[0].type === NFNL_MSG_BATCH_BEGIN;
}

/**
 * {@linkcode dumpBits} of each message of one datagram to `to`. An nfnetlink batch (a datagram
 * to the kernel that starts with NFNL_MSG_BATCH_BEGIN) dumps nothing: nfnetlink_rcv_batch runs
 * every message as a change, NLM_F_EXCL and NLM_F_REPLACE (NLM_F_MATCH's and NLM_F_ROOT's bits)
 * included.
 */
export function datagramDumpBits(
  protocol: number,
  to: number,
  messages: readonly { readonly type: number; readonly flags: number }[],
): number[] {
  const batch = nfnetlinkBatch(protocol, to, messages);
  return messages.map((m) => batch ? 0 : dumpBits(protocol, to, m.type, m.flags));
}

/**
 * Throws a TypeError for a message of one datagram to `to` that the kernel ignores for its
 * payload's length, doing nothing and answering nothing but the ack netlink_rcv_skb sends when
 * asked (a request "succeeds" undone, a dump never ends): rtnetlink_rcv_msg returns at once
 * for a type it knows without the 1-byte struct rtgenmsg it reads the family from. The types it
 * knows end at the running kernel's RTM_MAX, which grows with kernel versions (a later type is
 * EOPNOTSUPP), not at this machine's headers': every type from RTM_BASE on needs the byte, so
 * none hangs on a newer kernel. nfnetlink_rcv_msg ignores one without the 4-byte struct
 * nfgenmsg, and nfnetlink_rcv_batch drops a whole batch, unanswered, for one such message
 * (control types included). A control type (below NLMSG_MIN_TYPE) outside a batch never
 * reaches either: acked. Generic netlink answers a short message with EINVAL, as sock_diag does;
 * the connector takes no request ({@linkcode CONNECTOR_ANSWERS_NOTHING}); other protocols are
 * not known here. `dump`: the datagram is dump()'s request.
 */
export function checkHeard(
  protocol: number,
  to: number,
  messages: readonly { readonly type: number; readonly payload: Uint8Array }[],
  dump: boolean,
): void {
  if (to !== 0) return;
  const batch = nfnetlinkBatch(protocol, to, messages);
  for (const { type, payload } of messages) {
    const length = payload.length;
    if (
      (protocol === NETLINK_ROUTE && length === 0 && type >= RTM_BASE)
      || (protocol === NETLINK_NETFILTER && length < 4 && (batch || type >= NLMSG_MIN_TYPE))
    ) {
      throw unheard(protocol, type, length, batch ? "batch" : dump ? "dump" : "request");
    }
  }
}

/**
 * Why `request()`, `requestBatch()` and `dump()` refuse NETLINK_CONNECTOR's kernel side: the
 * connector acks nothing and runs no dump (cn_rx_skb hands the cn_msg to its callback and answers
 * nothing itself), so each would wait for its timeout.
 */
export const CONNECTOR_ANSWERS_NOTHING =
  "NETLINK_CONNECTOR's kernel side acks nothing and runs no dump, so a request() or dump() to "
  + "it would only wait for its timeout: send the message with send() (its payload made by "
  + "encodeConnectorMessage()) and read what the callback answers, if anything, from messages() "
  + "or listen() (a subscription's answers come on its group: join() it first); for process "
  + "events, openProcEvents() from @netlink/netlink/connector does all of that";

/**
 * checkHeard's error, built apart: JavaScriptCore makes a function's bytecode whole at its first
 * call, error branches included (some 0.2 us a byte of bytecode, cold), and every dump() and
 * request() runs checkHeard, where these strings were most of the code.
 */
function unheard(
  protocol: number,
  type: number,
  length: number,
  what: "batch" | "dump" | "request",
): TypeError {
  const outcome = what === "batch"
    ? "the whole batch is dropped, unanswered"
    : what === "dump"
    ? "the dump would never end"
    : "only the ack comes";
  if (protocol === NETLINK_ROUTE) {
    return new TypeError(
      `NETLINK_ROUTE ignores message type ${type} with an empty payload: rtnetlink reads the `
        + `family from its first byte (struct rtgenmsg) and without it does nothing for a type `
        + `it knows (${outcome}): send the type's header, e.g. a zeroed struct ifinfomsg `
        + `(new Uint8Array(16)) for RTM_GETLINK, or at least the family byte `
        + `(new Uint8Array(1): AF_UNSPEC)`,
    );
  }
  return new TypeError(
    `NETLINK_NETFILTER ignores message type ${type} with a ${length}-byte payload: `
      + `nfnetlink reads a struct nfgenmsg (4 bytes: family, version, res_id) first and `
      + `without it does nothing (${outcome}): start the payload with one, e.g. `
      + `new Uint8Array([AF_UNSPEC, NFNETLINK_V0, 0, 0]), the attributes after it`,
  );
}

/**
 * Throws a TypeError for a NETLINK_CONNECTOR message to the kernel that it drops unread: cn_rx_skb
 * ignores a payload shorter than a struct cn_msg or longer than CONNECTOR_MAX_MSG_SIZE, and
 * cn_call_callback one shorter than the header and the `len` bytes it says follow. The connector
 * never acks, so nothing would say so.
 */
export function checkConnectorHeard(payload: Uint8Array): void {
  const length = payload.length;
  const drop = (why: string) =>
    new TypeError(
      `NETLINK_CONNECTOR ignores a message with a ${length}-byte payload: ${why}, and the kernel `
        + "drops it unread, answering nothing (the connector acks nothing): make the payload with "
        + "encodeConnectorMessage() from @netlink/netlink/connector",
    );
  const fault = cnMsgFault(payload);
  if (fault === "header") {
    throw drop(`it is shorter than a struct cn_msg (${SIZEOF_CN_MSG} bytes)`);
  }
  if (length > CONNECTOR_MAX_MSG_SIZE) {
    throw drop(
      `it is longer than the connector takes (CONNECTOR_MAX_MSG_SIZE, ${CONNECTOR_MAX_MSG_SIZE} `
        + "bytes: the struct cn_msg and its data)",
    );
  }
  if (fault !== undefined) {
    throw drop(`its struct cn_msg says ${fault.len} bytes of data follow, and ${fault.data} do`);
  }
}

/**
 * What is wrong with the struct cn_msg `payload` starts with, as cn_call_callback finds it (for
 * the caller's own error: a send's TypeError, a decode's MalformedMessageError): "header" when
 * the payload is shorter than one, else the data length its `len` says and the `data` bytes that
 * follow when it says more; undefined when it is sound.
 */
export function cnMsgFault(
  payload: Uint8Array,
): "header" | { len: number; data: number } | undefined {
  if (payload.length < SIZEOF_CN_MSG) return "header";
  // A u16 in host order, read without a view: a decode runs this for every process event.
  const first = payload[CN_MSG_LEN], second = payload[CN_MSG_LEN + 1];
  const len = HOST_LITTLE_ENDIAN ? first | second << 8 : first << 8 | second;
  const data = payload.length - SIZEOF_CN_MSG;
  return len > data ? { len, data } : undefined;
}

/** A dump (its bits from {@linkcode dumpBits}): the kernel runs one per socket. */
export const isDump = (bits: number): boolean => bits !== 0;

/**
 * Whether a dump sent to port `to` with `flags` ends at a plain reply (Pending.endsAtPlainReply):
 * one asked of the kernel without NLM_F_ACK, which the kernel may run as a plain request.
 */
export const endsAtPlainReply = (to: number, flags: number): boolean =>
  to === 0 && (flags & NLM_F_ACK) === 0;

/**
 * The kernel's answer to a message with these flags (and {@linkcode dumpBits}) is how its
 * request is known complete.
 */
export const completes = (flags: number, bits: number): boolean =>
  (flags & NLM_F_ACK) !== 0 || bits === NLM_F_DUMP;

/** What a request needs from its socket. */
export interface RequestHost {
  readonly matcher: Matcher;
  /** Arms the timeout and abort signal; returns the function that disarms them. */
  guard(fail: (error: unknown) => void): Disarm;
  /** Sends the datagram to `to` and reads its first answers; throws on failure. */
  send(bytes: Uint8Array, to: number): void;
  /** Demand changed. */
  kick(): void;
}

/**
 * Registers `messages` (built, with their sequence numbers; `bits` their
 * {@linkcode datagramDumpBits}; `bytes` their datagram) and sends them, at once or, holding a
 * dump to the kernel, once the socket's dump slot is free. Resolves with every reply once each
 * message whose answer completes it has been answered.
 */
export function requestInFlight(
  host: RequestHost,
  messages: readonly Message[],
  bits: readonly number[],
  bytes: Uint8Array,
  from: number,
): Promise<Replies> {
  const { matcher } = host;
  const dumpMessage = from === 0 ? messages.find((_, i) => isDump(bits[i])) : undefined;
  const dumpSeq = dumpMessage?.seq ?? 0;
  let remaining = messages.filter((m, i) => completes(m.flags, bits[i])).length;
  return new Promise<Replies>((resolve, reject) => {
    const replies: Replies = [];
    const members: (Pending & { readonly completes: boolean })[] = [];
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
        if (sent) matcher.abandon(member, !member.completes);
        else matcher.remove(member);
      }
      if (!sent && dumpSeq) matcher.releaseDumpSlot(dumpSeq);
      if (error !== undefined) reject(error);
      else if (interrupted) reject(new DumpInterruptedError(replies));
      else resolve(replies);
      host.kick(); // nothing may want data now (a timeout, say): stop reading
    };
    const cleanup = host.guard(settle);
    for (const [i, { seq, flags }] of messages.entries()) {
      const member: Pending & { completes: boolean } = {
        seq,
        completes: completes(flags, bits[i]),
        from,
        dump: bits[i] === NLM_F_DUMP,
        endsAtDone: isDump(bits[i]),
        endsAtPlainReply: isDump(bits[i]) && endsAtPlainReply(from, flags),
        echo: (flags & NLM_F_ECHO) !== 0,
        interrupted: false,
        push: (msg) => replies.push(msg),
        pushRun: (messages, start, end) => {
          for (let i = start; i < end; i++) replies.push(messages[i]);
          // A dump's datagram: the timer cannot run while the kernel keeps answering (Disarm).
          if (cleanup !== DISARMED) cleanup.check();
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
          else if (member.completes && --remaining === 0) settle();
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
