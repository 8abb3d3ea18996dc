/**
 * NetlinkSocket: requests, dumps, multicast and the stream of unclaimed messages over one
 * {@linkcode Transport}.
 *
 * @module
 */

import { Fifo } from "./_fifo.ts";
import { orderedSteps } from "./_steps.ts";
import { QueuedFailure, Stream, type StreamHost } from "./_stream.ts";
import { decodeAck } from "./ack.ts";
import {
  NETLINK_ADD_MEMBERSHIP,
  NETLINK_DROP_MEMBERSHIP,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_MULTI,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  SOL_NETLINK,
} from "./constants.ts";
import { DumpInterruptedError, NetlinkError, SocketClosedError, SyscallError } from "./errors.ts";
import {
  decodeDatagram,
  encodeMessage,
  encodeMessages,
  type Message,
  type ReceivedMessage,
} from "./message.ts";
import type { Datagram, Transport, WaitResult } from "./transport.ts";

/**
 * A message to send. Omitted fields default: `flags` 0, `seq` the socket's next sequence number,
 * `portid` the socket's own port ID, `payload` empty.
 *
 * @example
 * ```ts
 * import { type MessageInput, RTM_GETLINK } from "@netlink/netlink";
 * const msg: MessageInput = { type: RTM_GETLINK, payload: new Uint8Array(16) };
 * ```
 */
export interface MessageInput {
  /** nlmsg_type. */
  type: number;
  /** nlmsg_flags; request() and dump() add the bits they need. */
  flags?: number;
  /** nlmsg_seq; request() and dump() always pick their own. */
  seq?: number;
  /** nlmsg_pid. */
  portid?: number;
  /** Bytes after the header. */
  payload?: Uint8Array;
}

/**
 * Where {@linkcode NetlinkSocket.send} sends: the kernel (the default, port 0), another socket's
 * port, and/or a multicast group (1-32: sockaddr_nl addresses groups as a 32-bit mask).
 *
 * @example
 * ```ts
 * import type { Destination } from "@netlink/netlink";
 * const toPeer: Destination = { portid: 4242 };
 * ```
 */
export interface Destination {
  /** Destination port ID; 0 (the default) is the kernel. */
  portid?: number;
  /** Multicast group number to send to, 1-32. */
  group?: number;
}

/**
 * Options for {@linkcode NetlinkSocket.request} and {@linkcode NetlinkSocket.dump}.
 *
 * @example
 * ```ts
 * import type { RequestOptions } from "@netlink/netlink";
 * const options: RequestOptions = { timeout: 5_000 };
 * ```
 */
export interface RequestOptions {
  /** Aborting rejects the request with the signal's reason; late replies are discarded. */
  signal?: AbortSignal;
  /** Milliseconds to wait for the whole answer before rejecting with a "TimeoutError". */
  timeout?: number;
  /**
   * Port ID to send the request to and to accept replies from. Default 0: the kernel. Replies
   * from any other sender (a process spoofing our sequence numbers) never answer the request.
   */
  to?: number;
}

/**
 * Options for {@linkcode NetlinkSocket.messages} and {@linkcode NetlinkSocket.batches}.
 *
 * @example
 * ```ts
 * import type { MessagesOptions } from "@netlink/netlink";
 * const options: MessagesOptions = { signal: AbortSignal.timeout(1_000) };
 * ```
 */
export interface MessagesOptions {
  /** Aborting ends the iteration by throwing the signal's reason. */
  signal?: AbortSignal;
}

/** Socket-level settings that are not socket options; see {@linkcode OpenOptions}. */
export interface SocketSettings {
  /** Most unclaimed messages (or datagrams) queued for iterators before reading pauses. */
  readonly backlog: number;
  /**
   * The protocol's datagrams are not netlink messages (NETLINK_KOBJECT_UEVENT): they are never
   * parsed, only {@linkcode NetlinkSocket.datagrams} reads them, and requests are refused.
   */
  readonly unframed?: boolean;
}

/**
 * A whole datagram as {@linkcode NetlinkSocket.datagrams} yields it: the bytes, who sent them
 * (`sender`, 0 for the kernel), the multicast group they came through (0: unicast) and, with
 * `listenAllNsid`, the sender's namespace id.
 *
 * @example
 * ```ts
 * import type { ReceivedDatagram } from "@netlink/netlink";
 * const text = (d: ReceivedDatagram) => new TextDecoder().decode(d.data);
 * ```
 */
export interface ReceivedDatagram extends Datagram {
  /**
   * True only for the marker that stands for datagrams lost to an overrun (its `data` is
   * empty); see {@linkcode NetlinkSocket.overruns}.
   */
  readonly overrun?: boolean;
}

/** A request waiting for its answer; dumps stream their parts through `push`. */
interface Pending {
  readonly seq: number;
  readonly from: number;
  /** A true dump (NLM_F_DUMP): its parts are never dropped by the kernel. */
  readonly dump: boolean;
  /**
   * NLMSG_DONE (flagged NLM_F_MULTI) ends it: any dump bit was set (NLM_F_ROOT or NLM_F_MATCH
   * alone start a dump too, and dumps are not acked).
   */
  readonly endsAtDone: boolean;
  /** Reading for it pauses while this says so (a dump() whose consumer lags). */
  paused?(): boolean;
  interrupted: boolean;
  /** The kernel dropped messages while this was pending: its reply may be among them. */
  atRisk?: SyscallError;
  /** Delivers one reply part. */
  push(message: ReceivedMessage): void;
  /** Ends the request: with an error, or successfully when `error` is undefined. */
  finish(error?: unknown): void;
}

/** One reader of the unclaimed-message stream waiting for its next message. */
interface Waiter {
  resolve(result: IteratorResult<ReceivedMessage>): void;
  reject(error: unknown): void;
}

const EMPTY = new Uint8Array(0);
/**
 * How long one turn of the read loop may drain the socket before it yields to the event loop
 * (through a wait, which returns at once while data is queued): long enough that a flood of
 * one-message datagrams isn't slowed by a poll round trip every few messages, short enough that
 * timers and other sockets still run.
 */
const DRAIN_BUDGET_MS = 4;
/** The clock is read once per this many datagrams: reading it costs more than a small datagram. */
const DRAIN_CLOCK_EVERY = 16;
/** Replies to abandoned requests that are still expected and silently discarded (bounded). */
const ABANDONED_LIMIT = 256;
/** A dump queue this long stops reading until its consumer catches up; dumps never lose data. */
const DUMP_HIGH_WATER = 8192;

function checkU32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new RangeError(`${name} must be an integer from 0 to 4294967295, got ${value}`);
  }
}

function checkGroup(group: number): void {
  if (!Number.isInteger(group) || group < 1 || group > 0xffff_ffff) {
    throw new RangeError(
      `multicast group must be an integer from 1 to 4294967295, got ${group} (group 0 means none)`,
    );
  }
}

function unframedError(what: string): TypeError {
  return new TypeError(
    `this socket is unframed (opened with unframed: true, its datagrams are not netlink messages): ${what}`,
  );
}

function checkTimeout(timeout: number | undefined): void {
  if (
    timeout !== undefined && !(typeof timeout === "number" && timeout >= 0 && timeout < 2 ** 31)
  ) {
    throw new RangeError(`timeout must be a number of milliseconds >= 0, got ${timeout}`);
  }
}

/** Stands in datagrams() for the datagrams an overrun lost. */
const OVERRUN_DATAGRAM: ReceivedDatagram = Object.freeze({
  data: EMPTY,
  sender: 0,
  group: 0,
  overrun: true,
});

function overrunMessage(): ReceivedMessage {
  return { type: NLMSG_OVERRUN, flags: 0, seq: 0, portid: 0, payload: EMPTY, sender: 0, group: 0 };
}

/**
 * An open netlink socket. Create one with {@linkcode open}.
 *
 * Concurrency: any number of `request()`, `dump()` and iterations may be in flight at once on one
 * socket; replies are matched to requests by sequence number, sender and unicast delivery, so a
 * request never takes a multicast message and an iterator never takes a reply. Messages that no
 * request claims (multicast, acks for `send()`, messages from other ports) go to the socket's
 * stream, read with `for await (const msg of socket)`; concurrent iterators share that stream,
 * each message going to one of them.
 *
 * Reading happens only while something waits for data (a request, a dump, an iteration), and
 * reads eagerly then, so a socket nobody waits on does not keep the process alive.
 *
 * On close: pending requests and dumps reject with {@linkcode SocketClosedError}, iterations end
 * (`done`), and every later call throws SocketClosedError. Closing twice is a no-op.
 *
 * @example
 * ```ts ignore
 * import { NETLINK_ROUTE, open, RTM_GETLINK } from "@netlink/netlink";
 * await using sock = await open(NETLINK_ROUTE);
 * const links = await sock.request({ type: RTM_GETLINK, flags: 0x300, payload: new Uint8Array(16) });
 * console.log(links.length);
 * ```
 */
export class NetlinkSocket implements AsyncIterable<ReceivedMessage>, AsyncDisposable {
  readonly #transport: Transport;
  readonly #settings: SocketSettings;
  #seq: number;
  #closed = false;
  #failure: unknown = undefined;
  #pumping = false;
  #overruns = 0;
  readonly #pending = new Map<number, Pending>();
  /** Sequence numbers of abandoned requests whose answers are discarded → ends at NLMSG_DONE. */
  readonly #abandoned = new Map<number, boolean>();
  /** Unclaimed messages: messages(), batches(), `for await`. */
  readonly #messages: Stream<ReceivedMessage>;
  /** Whole datagrams: datagrams(). */
  readonly #datagrams: Stream<ReceivedDatagram>;
  readonly #unframed: boolean;
  readonly #groups = new Set<number>();

  /**
   * Wraps an opened transport. Use {@linkcode open} instead, which validates options, opens the
   * transport and applies socket options.
   */
  constructor(transport: Transport, settings: SocketSettings = { backlog: 4096 }) {
    this.#transport = transport;
    this.#settings = settings;
    this.#unframed = settings.unframed ?? false;
    this.#seq = crypto.getRandomValues(new Uint32Array(1))[0] || 1;
    const host = {
      wake: () => this.#kick(),
      checkOpen: () => this.#checkOpen(),
      failure: () => this.#failure,
      closed: () => this.#closed,
      reading: () => this.#pumping,
      countOverrun: () => this.#overruns++,
    };
    this.#messages = new Stream<ReceivedMessage>(
      {
        ...host,
        overrunMarker: overrunMessage,
        isOverrunMarker: (m) => m.type === NLMSG_OVERRUN,
      } satisfies StreamHost<ReceivedMessage>,
      settings.backlog,
    );
    this.#datagrams = new Stream<ReceivedDatagram>(
      {
        ...host,
        overrunMarker: () => OVERRUN_DATAGRAM,
        isOverrunMarker: (d) => d.overrun === true,
      } satisfies StreamHost<ReceivedDatagram>,
      settings.backlog,
    );
  }

  /**
   * True when the socket was opened with `unframed: true`: its datagrams
   * are read whole with {@linkcode datagrams}, never parsed as netlink messages.
   */
  get unframed(): boolean {
    return this.#unframed;
  }

  /** The port ID this socket is bound to. */
  get portid(): number {
    return this.#transport.portid;
  }

  /** The netlink protocol (NETLINK_ROUTE, NETLINK_GENERIC, a custom unit...). */
  get protocol(): number {
    return this.#transport.protocol;
  }

  /** True once {@linkcode close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * How many times messages were lost: each ENOBUFS the kernel reported (it dropped messages for
   * this socket), plus each run of messages dropped because the unclaimed-message queue was full.
   * Each overrun also appears in the message stream as one NLMSG_OVERRUN message.
   */
  get overruns(): number {
    return this.#overruns;
  }

  /** The multicast groups this socket has joined, in joining order. */
  get groups(): readonly number[] {
    return [...this.#groups];
  }

  /**
   * Sends one message without waiting for anything, to the kernel by default. Fills in defaults
   * (see {@linkcode MessageInput}) and returns the sequence number sent. Replies, if any, arrive
   * in the message stream. Throws SyscallError if the kernel refuses the datagram.
   *
   * Given a `Uint8Array` instead, sends those bytes as they are, as one datagram, and returns 0:
   * how an `unframed` socket sends (which takes nothing else), and a way to send hand-built
   * messages on any socket.
   *
   * @example
   * ```ts ignore
   * import { NETLINK_USERSOCK, open } from "@netlink/netlink";
   * await using sock = await open(NETLINK_USERSOCK, { unframed: true });
   * sock.send(new TextEncoder().encode("hello"), { portid: 4242 });
   * ```
   */
  send(message: MessageInput | Uint8Array, to: Destination = {}): number {
    this.#checkOpen();
    const portid = to.portid ?? 0;
    checkU32("destination portid", portid);
    let mask = 0;
    if (to.group !== undefined) {
      checkGroup(to.group);
      if (to.group > 32) {
        throw new RangeError(
          `cannot send to group ${to.group}: sockaddr_nl addresses groups 1-32 only`,
        );
      }
      mask = (1 << (to.group - 1)) >>> 0;
    }
    if (message instanceof Uint8Array) {
      this.#sendBytes(message, portid, mask);
      return 0;
    }
    if (this.#unframed) throw unframedError("send() takes the datagram's bytes (a Uint8Array)");
    const seq = message.seq ?? this.#nextSeq();
    const bytes = this.#encode(message, message.flags ?? 0, seq);
    this.#sendBytes(bytes, portid, mask);
    return seq;
  }

  /**
   * Sends a request (NLM_F_REQUEST | NLM_F_ACK added, a fresh sequence number) and resolves with
   * its replies, without the final ack; with NLM_F_DUMP in `flags`, every part of the dump up to
   * NLMSG_DONE. Rejects with {@linkcode NetlinkError} when the kernel answers with an error,
   * {@linkcode DumpInterruptedError} when a dump was flagged NLM_F_DUMP_INTR,
   * SyscallError("recvmsg", ENOBUFS) when the kernel dropped messages for this socket while the
   * request was pending (its reply may be among them: retry), a "TimeoutError" DOMException on
   * timeout, the signal's reason on abort, and SocketClosedError on close.
   */
  request(message: MessageInput, options: RequestOptions = {}): Promise<ReceivedMessage[]> {
    return this.#requestMany([message], NLM_F_ACK, options);
  }

  /**
   * Sends several messages in ONE datagram, each with NLM_F_REQUEST and its own sequence number
   * (consecutive, in order), as transactions need (nfnetlink batches: NFNL_MSG_BATCH_BEGIN, the
   * changes, NFNL_MSG_BATCH_END). NLM_F_ACK is not added: set it on the messages whose answer
   * the kernel sends, and at least one must have it (or NLM_F_DUMP), since those answers are how
   * the batch is known to be complete. Resolves with every reply to any of the messages, without
   * the acks; rejects as {@linkcode request} does, with the first error (its `requestSeq` says
   * which message failed), after which answers to the others are discarded.
   */
  requestBatch(
    messages: readonly MessageInput[],
    options: RequestOptions = {},
  ): Promise<ReceivedMessage[]> {
    if (!Array.isArray(messages) || messages.length === 0) {
      return Promise.reject(new TypeError("requestBatch takes a non-empty array of messages"));
    }
    return this.#requestMany(messages, 0, options);
  }

  /** request() and requestBatch(): one datagram, one Pending per message, one outcome. */
  #requestMany(
    messages: readonly MessageInput[],
    addFlags: number,
    options: RequestOptions,
  ): Promise<ReceivedMessage[]> {
    try {
      const from = this.#checkRequest(options);
      const built = messages.map((message) => {
        const flags = (message?.flags ?? 0) | NLM_F_REQUEST | addFlags;
        return this.#message(message, flags, this.#nextSeq());
      });
      const dumps = (m: Message) => (m.flags & NLM_F_DUMP) === NLM_F_DUMP;
      const endsAtDone = (m: Message) => (m.flags & NLM_F_DUMP) !== 0;
      const completes = (m: Message) => (m.flags & NLM_F_ACK) !== 0 || dumps(m);
      let remaining = built.filter(completes).length;
      if (remaining === 0) {
        throw new TypeError(
          "a batch needs a message with NLM_F_ACK or NLM_F_DUMP: its answer is how the batch "
            + "is known to be complete",
        );
      }
      const bytes = encodeMessages(built);
      options.signal?.throwIfAborted();
      return new Promise<ReceivedMessage[]>((resolve, reject) => {
        const replies: ReceivedMessage[] = [];
        const members: Pending[] = [];
        let interrupted = false;
        let settled = false;
        const settle = (error?: unknown) => {
          if (settled) return;
          settled = true;
          cleanup();
          for (const [i, member] of members.entries()) {
            if (this.#pending.get(member.seq) !== member) continue;
            this.#pending.delete(member.seq);
            // An answer still owed may yet come: it must not leak into the stream. (A message
            // without NLM_F_ACK is answered only if it fails, before the acks that follow it.)
            if (completes(built[i])) this.#abandon(member.seq, member.endsAtDone);
          }
          if (error !== undefined) reject(error);
          else if (interrupted) reject(new DumpInterruptedError(replies));
          else resolve(replies);
          this.#kick(); // nothing may want data now (a timeout, say): stop reading
        };
        const cleanup = this.#guard(options, settle);
        for (const message of built) {
          const member: Pending = {
            seq: message.seq,
            from,
            dump: dumps(message),
            endsAtDone: endsAtDone(message),
            interrupted: false,
            push: (msg) => replies.push(msg),
            finish: (error) => {
              if (this.#pending.get(member.seq) !== member) return;
              this.#pending.delete(member.seq);
              if (member.interrupted) interrupted = true;
              if (error !== undefined) settle(error);
              else if (completes(message) && --remaining === 0) settle();
            },
          };
          members.push(member);
          this.#pending.set(member.seq, member);
        }
        try {
          this.#sendBytes(bytes, from, 0);
        } catch (err) {
          settle(err);
          return;
        }
        this.#kick();
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Sends a dump request (NLM_F_REQUEST | NLM_F_DUMP added) when iteration starts and yields each
   * part as it arrives, ending at NLMSG_DONE. Throws as {@linkcode request} does; a
   * {@linkcode DumpInterruptedError} comes after every part has been yielded. Breaking out of
   * the loop abandons the dump: its remaining parts are read and discarded.
   */
  dump(message: MessageInput, options: RequestOptions = {}): AsyncIterable<ReceivedMessage> {
    const from = this.#checkRequest(options);
    // Validate the message now, not on first iteration: bad input fails where it is written.
    this.#encode(message, 0, 0);
    return { [Symbol.asyncIterator]: () => this.#dumpIterator(message, options, from) };
  }

  #dumpIterator(
    message: MessageInput,
    options: RequestOptions,
    from: number,
  ): AsyncIterator<ReceivedMessage> {
    const parts = new Fifo<ReceivedMessage>();
    let consumer: Waiter | undefined;
    let outcome: { error?: unknown } | undefined;
    let pending: Pending | undefined;
    let seq = 0;
    let paused = false;
    let disarm = () => {};
    const settle = () => {
      if (!consumer) return;
      const c = consumer;
      if (parts.length > 0) {
        consumer = undefined;
        c.resolve({ value: parts.shift()!, done: false });
        if (paused) this.#kick(); // reading paused for this consumer may resume
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
      if (pending && this.#pending.get(seq) === pending) {
        this.#pending.delete(seq);
        this.#abandon(seq, true);
      }
      parts.clear();
      outcome ??= { error };
      settle();
      this.#kick();
    };
    const start = () => {
      this.#checkOpen();
      options.signal?.throwIfAborted();
      seq = this.#nextSeq();
      const bytes = this.#encode(message, (message.flags ?? 0) | NLM_F_REQUEST | NLM_F_DUMP, seq);
      disarm = this.#guard(options, abandon);
      pending = {
        seq,
        from,
        dump: true,
        endsAtDone: true,
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
          if (this.#pending.get(seq) !== pending) return;
          this.#pending.delete(seq);
          disarm();
          outcome = {
            error: error ?? (pending!.interrupted ? new DumpInterruptedError([]) : undefined),
          };
          settle();
        },
      };
      this.#start(pending, bytes, from);
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
        if (paused) this.#kick();
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
        if (outcome === undefined || pending) abandon();
        outcome = {};
        waiting?.resolve({ value: undefined, done: true });
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /**
   * Joins multicast group `group` (NETLINK_ADD_MEMBERSHIP); its messages then arrive in the
   * message stream with `group` set. Any group number the protocol has, including above 32.
   */
  join(group: number): void {
    this.#checkOpen();
    checkGroup(group);
    this.#transport.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group);
    this.#groups.add(group);
  }

  /** Leaves multicast group `group` (NETLINK_DROP_MEMBERSHIP). */
  leave(group: number): void {
    this.#checkOpen();
    checkGroup(group);
    this.#transport.setOption(SOL_NETLINK, NETLINK_DROP_MEMBERSHIP, group);
    this.#groups.delete(group);
  }

  /**
   * Iterates the messages no request claims: multicast messages (`group` set), acks and replies
   * to `send()`, messages from other ports, and one NLMSG_OVERRUN message for each overrun
   * (see {@linkcode overruns}). Ends when the socket is closed. Throws, and so ends, on abort
   * (the signal's reason), on a datagram that does not decode (MalformedMessageError: what
   * follows it stays queued for the next iteration), or on the error that made reading
   * impossible. Several iterations at once split the stream between them: each message goes to
   * one. Steps of one iteration are taken in the order they are asked for, even when several
   * `next()` calls are pending.
   *
   * @example
   * ```ts ignore
   * import { NETLINK_ROUTE, open, RTNLGRP_LINK } from "@netlink/netlink";
   * await using sock = await open(NETLINK_ROUTE, { groups: [RTNLGRP_LINK] });
   * for await (const msg of sock.messages({ signal: AbortSignal.timeout(10_000) })) {
   *   console.log(msg.type, msg.group);
   * }
   * ```
   */
  messages(options: MessagesOptions = {}): AsyncIterableIterator<ReceivedMessage> {
    return this.#stream(options, false) as AsyncIterableIterator<ReceivedMessage>;
  }

  /**
   * The stream of {@linkcode messages}, a run at a time: each step yields every message that has
   * arrived and not been taken (at least one, in order), up to an error, which the next step
   * throws. For high message rates (a flood of multicast events, say) this saves the per-message
   * cost of an async iteration step. Ends, throws and shares the stream as `messages()` does.
   *
   * @example
   * ```ts ignore
   * import { NETLINK_ROUTE, open, RTNLGRP_LINK } from "@netlink/netlink";
   * await using sock = await open(NETLINK_ROUTE, { groups: [RTNLGRP_LINK] });
   * for await (const run of sock.batches()) {
   *   for (const msg of run) console.log(msg.type);
   * }
   * ```
   */
  batches(options: MessagesOptions = {}): AsyncIterableIterator<ReceivedMessage[]> {
    return this.#stream(options, true) as AsyncIterableIterator<ReceivedMessage[]>;
  }

  /**
   * Iterates whole datagrams, unparsed: `data` (the datagram's bytes), `sender`, `group` and
   * (with `listenAllNsid`) `nsid`. On an `unframed` socket (NETLINK_KOBJECT_UEVENT, whose
   * datagrams are not netlink messages) this is how everything is read. On other sockets it is
   * for consumers that walk the messages themselves ({@linkcode decodeDatagram}) or need to
   * know which messages came in one datagram: while a `datagrams()` iteration is open, every
   * datagram none of whose messages answers a request comes to it whole (datagrams() never
   * throws MalformedMessageError: garbage arrives as it was sent), and `messages()` gets only
   * what is left of datagrams that also held replies. An overrun appears as one datagram with
   * `overrun: true` and empty `data`. Ends, throws and is shared between concurrent iterations
   * as `messages()` is.
   *
   * @example
   * ```ts ignore
   * import { NETLINK_KOBJECT_UEVENT, open } from "@netlink/netlink";
   * await using sock = await open(NETLINK_KOBJECT_UEVENT, { unframed: true, groups: [1] });
   * for await (const { data } of sock.datagrams()) {
   *   console.log(new TextDecoder().decode(data).split("\0"));
   * }
   * ```
   */
  datagrams(options: MessagesOptions = {}): AsyncIterableIterator<ReceivedDatagram> {
    return this.#datagrams.iterate(options?.signal, false) as AsyncIterableIterator<
      ReceivedDatagram
    >;
  }

  /** An iteration of the unclaimed-message stream: one message per step, or runs of them. */
  #stream(
    options: MessagesOptions,
    runs: boolean,
  ): AsyncIterableIterator<ReceivedMessage | ReceivedMessage[]> {
    this.#checkOpen();
    if (this.#unframed) throw unframedError("read it with datagrams()");
    return this.#messages.iterate(options?.signal, runs);
  }

  /** Same as {@linkcode messages} without options: `for await (const msg of socket)`. */
  [Symbol.asyncIterator](): AsyncIterableIterator<ReceivedMessage> {
    return this.messages();
  }

  /**
   * Closes the socket and releases its descriptor. Pending requests and dumps reject with
   * SocketClosedError, iterations end. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const closedError = new SocketClosedError("netlink socket was closed while waiting");
    for (const pending of [...this.#pending.values()]) pending.finish(closedError);
    this.#messages.close();
    this.#datagrams.close();
    this.#transport.close();
  }

  /** Closes the socket: `await using sock = await open(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  // --- internals -------------------------------------------------------------------------------

  #checkOpen(): void {
    if (this.#closed) throw new SocketClosedError();
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Checks a request's socket and options; returns the port replies must come from. */
  #checkRequest(options: RequestOptions): number {
    this.#checkOpen();
    if (this.#unframed) {
      throw unframedError("requests and dumps need netlink messages; use send() and datagrams()");
    }
    checkTimeout(options.timeout);
    const from = options.to ?? 0;
    checkU32("request destination", from);
    return from;
  }

  #nextSeq(): number {
    this.#seq = (this.#seq + 1) >>> 0 || 1;
    // Skip sequence numbers still in use by a long-running request (after 2^32 others).
    while (this.#pending.has(this.#seq) || this.#abandoned.has(this.#seq)) {
      this.#seq = (this.#seq + 1) >>> 0 || 1;
    }
    return this.#seq;
  }

  #encode(message: MessageInput, flags: number, seq: number): Uint8Array {
    return encodeMessage(this.#message(message, flags, seq));
  }

  /** The full message to send: checks what encodeMessage does not (object, payload type). */
  #message(message: MessageInput, flags: number, seq: number): Message {
    if (message === null || typeof message !== "object") {
      throw new TypeError("message must be an object like { type, flags?, payload? }");
    }
    const payload = message.payload ?? EMPTY;
    if (!(payload instanceof Uint8Array)) {
      throw new TypeError(
        `message payload must be a Uint8Array, got ${Object.prototype.toString.call(payload)}`,
      );
    }
    return {
      type: message.type,
      flags,
      seq,
      portid: message.portid ?? this.#transport.portid,
      payload,
    };
  }

  /** Arms timeout and abort: `fail` runs with the reason; returns the function that disarms. */
  #guard(options: RequestOptions, fail: (error: unknown) => void): () => void {
    const { signal, timeout } = options;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => fail(signal!.reason);
    if (timeout !== undefined) {
      timer = setTimeout(() => {
        fail(new DOMException(`netlink request timed out after ${timeout} ms`, "TimeoutError"));
      }, timeout);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    return () => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
  }

  #start(pending: Pending, bytes: Uint8Array, to: number): void {
    this.#pending.set(pending.seq, pending);
    try {
      this.#sendBytes(bytes, to, 0);
    } catch (err) {
      pending.finish(err);
      return;
    }
    this.#kick();
  }

  #sendBytes(bytes: Uint8Array, portid: number, groupMask: number): void {
    try {
      this.#transport.send(bytes, portid, groupMask);
    } catch (err) {
      if (err instanceof SyscallError && err.code === "ECONNREFUSED") {
        throw new SyscallError(
          "sendmsg",
          err.errno,
          portid === 0
            ? `nothing in the kernel serves netlink protocol ${this.protocol} any more `
              + "(was the module that provides it unloaded?)"
            : `no socket is bound to port ${portid}`,
        );
      }
      throw err;
    }
  }

  #abandon(seq: number, endsAtDone: boolean): void {
    this.#abandoned.set(seq, endsAtDone);
    if (this.#abandoned.size > ABANDONED_LIMIT) {
      this.#abandoned.delete(this.#abandoned.keys().next().value!);
    }
  }

  /** Whether anything waits for data that reading could deliver. */
  #wantsData(): boolean {
    if (this.#closed || this.#failure !== undefined) return false;
    const messages = this.#messages, datagrams = this.#datagrams;
    if (messages.waiting || datagrams.waiting) return true;
    if (messages.wantsReadAhead || datagrams.wantsReadAhead) return true;
    for (const p of this.#pending.values()) {
      if (!p.paused?.()) return true;
    }
    return false;
  }

  /** Starts the read loop if something wants data, or cancels its wait if nothing does. */
  #kick(): void {
    if (this.#wantsData()) {
      if (!this.#pumping) void this.#pump();
    } else if (this.#pumping) {
      this.#transport.cancelWait();
    }
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#wantsData()) {
        const deadline = performance.now() + DRAIN_BUDGET_MS;
        for (let n = 1; this.#wantsData(); n++) {
          if (n % DRAIN_CLOCK_EVERY === 0 && performance.now() >= deadline) break;
          let datagram: Datagram | undefined;
          try {
            datagram = this.#transport.receive();
          } catch (err) {
            if (err instanceof SyscallError && err.code === "ENOBUFS") {
              this.#overrun(err);
              continue;
            }
            this.#fail(err);
            return;
          }
          if (datagram === undefined) {
            this.#failAtRisk();
            break;
          }
          this.#dispatch(datagram);
        }
        if (!this.#wantsData()) break;
        let woke: WaitResult;
        try {
          woke = await this.#transport.wait();
        } catch (err) {
          this.#fail(err); // never an unhandled rejection, never a silent stall
          return;
        }
        if (woke === "closed") break;
      }
    } finally {
      this.#pumping = false;
    }
  }

  #dispatch(datagram: Datagram): void {
    if (this.#unframed) {
      this.#datagrams.deliver(datagram);
      return;
    }
    // An open datagrams() iteration takes, whole, every datagram no request claims: multicast
    // never answers a request, so it is not even parsed.
    const whole = this.#datagrams.active;
    if (whole && datagram.group !== 0) {
      this.#datagrams.deliver(datagram);
      return;
    }
    let messages: ReceivedMessage[];
    try {
      messages = decodeDatagram(datagram);
    } catch (err) {
      // Garbage from a peer (or a kernel bug): the stream's next reader gets the error.
      if (whole) this.#datagrams.deliver(datagram);
      else this.#messages.deliver(new QueuedFailure(err));
      return;
    }
    if (whole) {
      const unclaimed = messages.filter((msg) => !this.#claim(msg));
      if (unclaimed.length === messages.length) this.#datagrams.deliver(datagram);
      else for (const msg of unclaimed) this.#messages.deliver(msg);
      return;
    }
    for (const msg of messages) {
      if (!this.#claim(msg)) this.#messages.deliver(msg);
    }
  }

  /** Hands `msg` to the request it answers, or discards it for an abandoned one: true if so. */
  #claim(msg: ReceivedMessage): boolean {
    if (msg.group !== 0) return false;
    const pending = this.#pending.get(msg.seq);
    if (pending && pending.from === msg.sender) {
      this.#answer(pending, msg);
      return true;
    }
    const endsAtDone = this.#abandoned.get(msg.seq);
    if (endsAtDone === undefined) return false;
    // A non-dump's multipart reply has its NLMSG_DONE before the ack: only the ack ends it.
    if (msg.type === NLMSG_ERROR || (msg.type === NLMSG_DONE && endsAtDone)) {
      this.#abandoned.delete(msg.seq);
    }
    return true;
  }

  #answer(pending: Pending, msg: ReceivedMessage): void {
    if (msg.flags & NLM_F_DUMP_INTR) pending.interrupted = true;
    if (msg.type === NLMSG_ERROR || (msg.type === NLMSG_DONE && pending.endsAtDone)) {
      let errno: number;
      let error: NetlinkError | undefined;
      try {
        const ack = decodeAck(msg);
        errno = ack.errno;
        if (errno !== 0) error = new NetlinkError(ack);
      } catch (err) {
        pending.finish(err);
        return;
      }
      pending.finish(error);
      return;
    }
    // A multipart reply's NLMSG_DONE (flagged NLM_F_MULTI) precedes the ack; without the flag it
    // is data (the connector sends its messages with that type).
    if (msg.type === NLMSG_NOOP || (msg.type === NLMSG_DONE && msg.flags & NLM_F_MULTI)) return;
    pending.push(msg);
  }

  #overrun(err: SyscallError): void {
    this.#overruns++;
    // Dump parts are never dropped (the kernel fills dumps only when there is room); plain
    // replies and acks may have been. The kernel reports ENOBUFS before handing out what is
    // already queued, so a request is failed only if its answer isn't there once the queue
    // has been read to the end (#failAtRisk).
    for (const pending of this.#pending.values()) {
      if (!pending.dump) pending.atRisk = err;
    }
    if (this.#unframed || this.#datagrams.active) this.#datagrams.deliver(OVERRUN_DATAGRAM);
    else this.#messages.deliver(overrunMessage());
  }

  /** Fails the requests whose replies an overrun may have taken, now the queue is empty. */
  #failAtRisk(): void {
    for (const pending of [...this.#pending.values()]) {
      if (!pending.atRisk) continue;
      pending.finish(
        new SyscallError(
          "recvmsg",
          pending.atRisk.errno,
          "the kernel dropped messages for this socket, among them this request's answer: "
            + "retry, and consider a separate socket for multicast or a larger receiveBufferSize",
        ),
      );
    }
  }

  #fail(err: unknown): void {
    this.#failure = err;
    for (const pending of [...this.#pending.values()]) pending.finish(err);
    this.#messages.fail(err);
    this.#datagrams.fail(err);
  }
}
