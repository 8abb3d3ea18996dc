/**
 * NetlinkSocket: requests, dumps, multicast and the stream of unclaimed messages over one
 * {@linkcode Transport}. A facade over its pieces: the matcher (src/_matcher.ts: which request a
 * message answers), the read loop (src/_reader.ts), the dump iterator (src/_dump.ts) and the
 * streams of unclaimed messages and datagrams (src/_stream.ts).
 *
 * @module
 */

import { whenCollected } from "./_collected.ts";
import {
  NETLINK_ADD_MEMBERSHIP,
  NETLINK_CONNECTOR,
  NETLINK_DROP_MEMBERSHIP,
  NETLINK_PKTINFO,
  NETLINK_USERSOCK,
  NLM_F_ACK,
  NLM_F_REQUEST,
  NLMSG_OVERRUN,
  SO_DETACH_FILTER,
  SO_LOCK_FILTER,
  SOL_NETLINK,
  SOL_SOCKET,
} from "./_constants.ts";
import { cursorParts, dumpIterator, forEachPart } from "./_dump.ts";
import { Fifo } from "./_fifo.ts";
import { encodeFilter, type FilterInstruction } from "./_filter.ts";
import { armGuard, type Disarm } from "./_guard.ts";
import { Matcher } from "./_matcher.ts";
import {
  checkInherited,
  checkInteger,
  checkOptions,
  checkTimeout,
  integerFieldError,
  shown,
  unknownKey,
} from "./_options.ts";
import { methodsOf, perEventClosures, perEventCode } from "./_per_event.ts";
import { protocolText } from "./_protocols.ts";
import { DRAIN_BUDGET_MS, DRAIN_CLOCK_EVERY, Reader, type ReaderHost } from "./_reader.ts";
import {
  checkConnectorHeard,
  checkHeard,
  completes,
  CONNECTOR_ANSWERS_NOTHING,
  datagramDumpBits,
  isDump,
  requestInFlight,
  undumpable,
} from "./_request.ts";
import {
  BACKLOG_BYTES_PER_ITEM,
  QueuedFailure,
  type SkipFailure,
  Stream,
  type StreamHost,
} from "./_stream.ts";
import { DatagramCursor, type MessageCursor } from "./cursor.ts";
import { MalformedMessageError, SocketClosedError, SyscallError } from "./errors.ts";
import {
  decodeDatagram,
  encodeMessage,
  encodeMessages,
  type Message,
  type ReceivedMessage,
} from "./message.ts";
import { readPath, TapPoint } from "./tap.ts";
import type { Datagram, DatagramInPlace, Transport } from "./transport.ts";

/**
 * A message to send. Omitted fields default: `flags` 0, `seq` the socket's next sequence number,
 * `portid` the socket's own port ID, `payload` empty. A field it does not have (`flag`,
 * `paylod`) is refused with a TypeError (`did you mean "flags"?`) before anything is sent, by
 * `send()`, `request()`, `requestBatch()` and `dump()`, rather than left out in silence.
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
  /**
   * Aborting rejects the request with the signal's reason; late replies are discarded. A
   * `dump()` throws it from its next step, also when every part has been read already: parts
   * not yet taken are dropped. A dump that ended with an error (a NetlinkError,
   * DumpInterruptedError) before the abort throws that error instead: it came first.
   */
  signal?: AbortSignal;
  /**
   * Milliseconds to wait for the whole answer before rejecting with a "TimeoutError"
   * DOMException: from 1 to 2^31-1 (setTimeout's limit); leave it out to wait without a limit.
   * 0 is a RangeError before anything is sent, as any other value out of that range: waiting
   * no time at all, a request would fail or not by when its answer is read, not by when it came
   * (the kernel answers most requests inside the send, yet a socket reads some of them later,
   * as when several requests are in flight). For a `dump()`, until its consumer has taken the
   * last part: a consumer still busy with the parts when it expires gets the TimeoutError from
   * its next step. It bounds the whole answer, not a silence: checked between datagrams too, as the
   * kernel fills the next datagram of a long dump as each is read, and reading then never waits for
   * the event loop, where the timer would run. A dump's timer keeps the process alive only while a
   * step waits: an iterator stepped by hand and dropped, mid-dump or at its last part, does not
   * keep the process alive.
   */
  timeout?: number;
  /**
   * Port ID to send the request to and to accept replies from. Default 0: the kernel. Replies
   * from any other sender (a process spoofing our sequence numbers) never answer the request.
   */
  to?: number;
}

/**
 * Options for {@linkcode NetlinkSocket.messages}, {@linkcode NetlinkSocket.batches},
 * {@linkcode NetlinkSocket.listen} and {@linkcode NetlinkSocket.cursor}
 * ({@linkcode NetlinkSocket.datagrams} takes `signal` alone).
 *
 * @example
 * ```ts
 * import type { MessagesOptions } from "@netlink/netlink";
 * // A monitor that outlives another process's garbage, and says so.
 * const options: MessagesOptions = {
 *   signal: AbortSignal.timeout(60_000),
 *   onMalformed: (err, { sender, group }) =>
 *     console.warn(`skipped a datagram from port ${sender} (group ${group}): ${err.message}`),
 * };
 * ```
 */
export interface MessagesOptions {
  /**
   * Aborting ends the iteration by throwing the signal's reason, from one step: the steps after
   * it are done.
   */
  signal?: AbortSignal;
  /**
   * Skips datagrams that do not decode as netlink messages, instead of ending: each is handed
   * here, with the error, as it was received (`data`, `sender`: 0 is the kernel, `group`,
   * `nsid`), and what follows it still comes. Without it, such a datagram ends the iteration
   * (or the listen) with that MalformedMessageError. On a multicast group or a protocol that
   * other processes can send to (NETLINK_USERSOCK peers, or root on any group), one bad
   * datagram from them would otherwise end a monitor. Called in order with the messages: from
   * a microtask for `messages()` and `batches()`, as `listen()` calls its handler for
   * `listen()`, and inside `c.next()` for `cursor()` (whose `data` is then a copy: the
   * well-formed messages before the bad one in that datagram were walked already). What it
   * throws ends the iteration (or the listen) with that error; for `cursor()`, `c.next()`
   * throws it.
   */
  onMalformed?: (error: MalformedMessageError, datagram: ReceivedDatagram) => void;
}

/**
 * What {@linkcode NetlinkSocket.dump} returns: iterate it (`for await`), run it to its end with
 * {@linkcode DumpIterable.forEach}, or walk it in place with {@linkcode DumpIterable.cursor}.
 *
 * @example
 * ```ts
 * import { NETLINK_ROUTE, open, RTM_GETLINK } from "@netlink/netlink";
 * await using sock = await open(NETLINK_ROUTE);
 * const links = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) });
 * await links.forEach((msg) => console.log(msg.type, msg.payload.length));
 * ```
 */
export interface DumpIterable extends AsyncIterable<ReceivedMessage> {
  /**
   * One iteration of the dump: the request goes out at its first step. The iterator is
   * AsyncDisposable: stepped by hand and declared with `await using`, it ends with its scope as
   * `return()` ends it (a dump still running is abandoned: the socket reads the rest and discards
   * it; its timeout, abort listener and close watch are released).
   *
   * @example Stepped by hand: the first part, then the dump ends with the block.
   * ```ts
   * import { NETLINK_ROUTE, open, RTM_GETLINK } from "@netlink/netlink";
   * await using sock = await open(NETLINK_ROUTE);
   * {
   *   await using links = sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) })[Symbol.asyncIterator]();
   *   const { value } = await links.next();
   *   console.log(value?.type); // 16 (RTM_NEWLINK)
   * }
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<ReceivedMessage> & AsyncDisposable;
  /**
   * Sends the request and calls `handler` with each part, in order, until NLMSG_DONE: what a
   * `for await` over the dump does, at one promise per datagram the kernel sends (a few hundred
   * parts) instead of one per part, for large dumps in one-shot scripts
   * (bench/cold_dump.sh). A promise the handler returns is awaited before the next part.
   * Resolves once the dump has ended; rejects as the iteration would throw (NetlinkError,
   * DumpInterruptedError after every part, an abort...), or with what the handler threw or its
   * promise rejected with, which abandons the dump (its remaining parts are read and
   * discarded). An abort, a timeout or a close takes effect at once, even while the handler
   * runs: it is not called again. Each call runs the dump anew.
   */
  forEach(handler: (message: ReceivedMessage) => unknown): Promise<void>;
  /**
   * Sends the request when iteration starts and yields, a datagram at a time until NLMSG_DONE,
   * one {@linkcode MessageCursor} over the parts where they were received: no object and no view
   * per part, as libmnl's callbacks see a dump (one promise per datagram, a few hundred parts, as
   * in `forEach`). Walk each step with `while (c.next())`; read fields at `c.byteOffset +
   * c.payloadOffset` through `c.view`.
   *
   * **Lifetime: what the cursor shows, and every byte of `c.data` (views from `c.payload()`
   * included), is valid only until the iteration's next step**: later reads reuse its memory, so
   * `slice()` what you keep. Asking for the next step empties the cursor; it stays empty once the
   * iteration has ended. The cursor is the same object at every step.
   *
   * It throws as the `for await` over the dump would (NetlinkError, DumpInterruptedError once
   * every part has been shown, SocketClosedError, an abort or timeout), and leaving it early
   * (`break`) abandons the dump the same way: the socket reads the rest and discards it, as does
   * the end of the scope of one declared with `await using` (it is AsyncDisposable). Each
   * iteration runs the dump anew.
   *
   * @example
   * ```ts
   * import { NETLINK_ROUTE, open, RTM_GETLINK, RTM_NEWLINK } from "@netlink/netlink";
   * await using sock = await open(NETLINK_ROUTE);
   * const indexes: number[] = [];
   * for await (const c of sock.dump({ type: RTM_GETLINK, payload: new Uint8Array(16) }).cursor()) {
   *   // struct ifinfomsg: the index is the s32 at offset 4 of the payload.
   *   while (c.next()) {
   *     if (c.type === RTM_NEWLINK) indexes.push(c.view.getInt32(c.byteOffset + c.payloadOffset + 4, true));
   *   }
   * }
   * console.log(indexes);
   * ```
   */
  cursor(): AsyncIterableIterator<MessageCursor> & AsyncDisposable;
}

/** Socket-level settings that are not socket options; see `OpenOptions`. */
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

/**
 * What a success ack (or a dump's NLMSG_DONE) carried besides success: the kernel's extended-ack
 * warning text and cookie. Found on the array {@linkcode NetlinkSocket.request} resolves with.
 *
 * @example
 * ```ts
 * import { NETLINK_ROUTE, NLM_F_DUMP, open, RTM_GETLINK } from "@netlink/netlink";
 * await using sock = await open(NETLINK_ROUTE);
 * const links = await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
 * if (links.ack?.warning) console.warn("netlink:", JSON.stringify(links.ack.warning));
 * ```
 */
export interface Acknowledgement {
  /**
   * NLMSGERR_ATTR_MSG on success: a warning the kernel attached to a request it carried out, as
   * sent. A module or, on NETLINK_USERSOCK, any process chooses it: escape its control characters
   * before printing it (`NetlinkError.message` does so for an error's text).
   */
  readonly warning?: string;
  /** NLMSGERR_ATTR_COOKIE: opaque bytes some families return (an id of what was created...). */
  readonly cookie?: Uint8Array;
}

/**
 * The replies {@linkcode NetlinkSocket.request} resolves with: the messages, plus `ack` when
 * the final ack carried a warning or a cookie.
 *
 * @example
 * ```ts
 * import type { Replies } from "@netlink/netlink";
 * const cookieOf = (replies: Replies) => replies.ack?.cookie;
 * ```
 */
export interface Replies extends Array<ReceivedMessage> {
  /** The success ack's warning and cookie, present only when it carried one of them. */
  ack?: Acknowledgement;
}

export type { FilterInstruction };

const EMPTY = new Uint8Array(0);

/** Stands in datagrams() for the datagrams an overrun lost. */
const OVERRUN_DATAGRAM: ReceivedDatagram = Object.freeze({
  data: EMPTY,
  sender: 0,
  group: 0,
  overrun: true,
});

/**
 * A datagram read while no consumer was open (a request's read took it along), and the messages
 * in it no request claimed: all of them (`whole`), or what is left of a datagram that also held
 * answers.
 */
interface Unclaimed {
  readonly datagram: Datagram;
  readonly messages: readonly ReceivedMessage[];
  readonly whole: boolean;
}

const NO_MESSAGES: readonly ReceivedMessage[] = Object.freeze([]);

/** What waits for the first consumer to open: a datagram, one that did not decode, an overrun. */
type Unowned = Unclaimed | QueuedFailure | typeof OVERRUN_DATAGRAM;

function overrunMessage(): ReceivedMessage {
  return {
    type: NLMSG_OVERRUN,
    flags: 0,
    seq: 0,
    portid: 0,
    payload: EMPTY,
    sender: 0,
    group: 0,
    nsid: undefined,
    overrun: true, // what no received message has: a peer's NLMSG_OVERRUN is not this
  };
}

// setsockopt's level and optname are C ints.
const INT_MAX = 0x7fff_ffff;

/** Whether a transport's error says more than its errno: a hint after it (the fake kernel's). */
function hasHint(err: SyscallError): boolean {
  return err.message !== new SyscallError(err.syscall, err.errno).message;
}

function checkFlags(flags: unknown): number {
  if (flags === undefined) return 0;
  if (typeof flags !== "number" || !Number.isInteger(flags) || flags < 0 || flags > 0xffff) {
    throw integerFieldError(
      flags,
      `message flags must be a u16: an integer from 0 to 65535, got ${shown(flags)}`,
    );
  }
  return flags;
}

function checkGroup(group: number): void {
  if (!Number.isInteger(group) || group < 1 || group > 0xffff_ffff) {
    throw integerFieldError(
      group,
      `multicast group must be an integer from 1 to 4294967295, got ${
        shown(group)
      } (group 0 means none)`,
    );
  }
}

// The keys of Destination, RequestOptions and MessagesOptions: `satisfies` makes each list
// name every key of its type and nothing else.
const DESTINATION_KEYS = Object.keys(
  { portid: 0, group: 0 } satisfies Record<keyof Destination, 0>,
);
const REQUEST_KEYS = Object.keys(
  { signal: 0, timeout: 0, to: 0 } satisfies Record<keyof RequestOptions, 0>,
);
const MESSAGES_KEYS = Object.keys(
  { signal: 0, onMalformed: 0 } satisfies Record<keyof MessagesOptions, 0>,
);
const DATAGRAMS_KEYS = ["signal"];
const MESSAGE_KEYS = Object.keys(
  { type: 0, flags: 0, seq: 0, portid: 0, payload: 0 } satisfies Record<keyof MessageInput, 0>,
);

/**
 * Throws TypeError for a field a message to send does not have: a misspelt one (`flag`,
 * `paylod`) would otherwise be left out in silence, and the message sent with its default.
 * `index` names the message of a batch (-1: not one). A for-in with a switch, the error built
 * only when one is found: request() runs in tight loops.
 */
function checkMessageKeys(message: object, index: number): void {
  checkInherited(index < 0 ? "message" : `messages[${index}]`, MESSAGE_KEYS);
  for (const key in message) {
    switch (key) {
      case "type":
      case "payload":
      case "flags":
      case "seq":
      case "portid":
        continue;
    }
    if (Object.hasOwn(message, key)) throw unknownMessageKey(key, index);
  }
}

function unknownMessageKey(key: string, index: number): TypeError {
  const name = index < 0 ? "message" : `messages[${index}]`;
  if (key === "sender" || key === "group" || key === "nsid") {
    // A received message, sent back whole: where it came from is no field of a message.
    return new TypeError(
      `${name}: "${key}" is a received message's field, not one to send: send() takes where to `
        + `send (portid, group) as its second argument; send { type, flags, payload } of it`,
    );
  }
  return unknownKey(name, key, MESSAGE_KEYS, "field");
}

function checkHandler(method: string, handler: unknown): void {
  if (typeof handler !== "function") {
    throw new TypeError(`${method}: handler must be a function, got ${typeof handler}`);
  }
}

function checkSignal(signal: AbortSignal | undefined): void {
  if (signal !== undefined) checkAbortSignal(signal);
}

/**
 * {@linkcode checkSignal} of a signal given, apart: naming the global `AbortSignal` in a function
 * makes Bun create that class (some 0.1-0.2 ms, measured) as the function is first called, even
 * when the name is never reached, and a request or dump without a signal needs none.
 */
function checkAbortSignal(signal: unknown): void {
  if (!(signal instanceof AbortSignal)) throw new TypeError("signal must be an AbortSignal");
}

/**
 * Checks `options` of messages(), batches(), listen() or cursor(); returns how the stream skips
 * a malformed datagram for them (undefined: it throws).
 */
function checkMessagesOptions(options: MessagesOptions): SkipFailure | undefined {
  checkSignal(options.signal);
  const onMalformed = options.onMalformed;
  if (onMalformed === undefined) return undefined;
  if (typeof onMalformed !== "function") {
    throw new TypeError(`onMalformed must be a function, got ${typeof onMalformed}`);
  }
  return (failure) => onMalformed(failure.error as MalformedMessageError, failure.datagram);
}

function unframedError(what: string): TypeError {
  return new TypeError(
    `this socket is unframed (opened with unframed: true, its datagrams are not netlink messages): ${what}`,
  );
}

/** The cursor a socket's cursor() iteration yields: reads on in place through `readNext`. */
class SocketCursor extends DatagramCursor {
  readonly #readNext: () => boolean;

  constructor(readNext: () => boolean) {
    super();
    this.#readNext = readNext;
  }

  protected override advance(): boolean {
    return this.#readNext();
  }
}

/**
 * A socket cursor that skips datagrams that do not decode (the cursor() option onMalformed): a
 * class of its own, so that the cursor without it pays nothing per message for the check.
 */
class SkippingSocketCursor extends SocketCursor {
  readonly #onMalformed: NonNullable<MessagesOptions["onMalformed"]>;

  constructor(readNext: () => boolean, onMalformed: NonNullable<MessagesOptions["onMalformed"]>) {
    super(readNext);
    this.#onMalformed = onMalformed;
  }

  override next(): boolean {
    for (;;) {
      try {
        return super.next();
      } catch (err) {
        if (!(err instanceof MalformedMessageError)) throw err;
        // The cursor is at the datagram's end now: the next call goes on with the next one.
        this.#onMalformed(err, {
          data: this.data.slice(0, this.length),
          sender: this.sender,
          group: this.group,
          nsid: this.nsid,
        });
      }
    }
  }
}

perEventCode(() => [
  ...methodsOf(SocketCursor.prototype),
  ...methodsOf(SkippingSocketCursor.prototype),
]);

/**
 * An open netlink socket. Create one with {@linkcode open}.
 *
 * Concurrency: any number of `request()`, `dump()` and iterations may be in flight at once on one
 * socket; replies are matched to requests by sequence number, sender and unicast delivery, so a
 * request never takes a multicast message and an iterator never takes a reply. The kernel runs
 * one dump per socket: dumps to the kernel (`dump()`, or `request()` with NLM_F_DUMP) are queued
 * and sent one at a time, each once the one before has been read to its end, while other
 * requests go on. Messages that no request claims (multicast, acks for `send()`, messages from
 * other ports) go to the socket's stream, read with `for await (const msg of socket)`;
 * concurrent iterators share that stream, each message going to one of them.
 *
 * Reading happens only while something waits for data (a request, a dump, a pending `next()`),
 * and reads eagerly then, so a socket nobody waits on does not keep the process alive. After a
 * wait, the step that waited runs first: what else is queued is read a microtask later (before
 * any timer or I/O callback), so an event's first message is not held up by its others. While a
 * `dump()` consumer lags past its read-ahead limit, the socket reads only for requests to the
 * kernel (and to finish that dump when another waits for its turn): multicast on the same
 * socket waits meanwhile. Answers the kernel gives inside sendmsg are read at once, but a loop
 * of requests answered that way still lets the event loop run (timers, I/O, other sockets)
 * every few milliseconds.
 *
 * On close: pending requests and dumps reject with {@linkcode SocketClosedError}, iterations end
 * (`done`), and every later call throws SocketClosedError. Closing twice is a no-op.
 *
 * A socket dropped without `close()` is closed once garbage-collected, as Go's `os.File` and
 * Python's `socket` are: its descriptor is not kept for good. Nothing that still uses the socket
 * lets it be collected (a pending request, a waiting step, an iteration or a client over it that
 * the program still holds). Collection comes late, or never in a short script, so close it (`await using`) rather
 * than rely on it. A socket whose {@linkcode fd} was read keeps its descriptor until `close()`.
 *
 * @example
 * ```ts
 * import { NETLINK_ROUTE, open, RTM_GETLINK } from "@netlink/netlink";
 * await using sock = await open(NETLINK_ROUTE);
 * const links = await sock.request({ type: RTM_GETLINK, flags: 0x300, payload: new Uint8Array(16) });
 * console.log(links.length);
 * ```
 */
export class NetlinkSocket implements AsyncIterable<ReceivedMessage>, AsyncDisposable {
  readonly #transport: Transport;
  readonly #unframed: boolean;
  readonly #matcher: Matcher;
  readonly #reader: Reader;
  // The three streams are made when first used ({@linkcode #messagesStream} and the others):
  // a socket that only sends requests and dumps never makes one, and a cold Bun process ran their
  // construction before its first dump's first datagram. Until made, a stream has nothing queued,
  // no consumer and nothing waiting (its checks read `?.`); closing or failing it would do
  // nothing (a later consumer reads the socket's state).
  /** Unclaimed messages: messages(), batches(), `for await`. */
  #messages: Stream<ReceivedMessage> | undefined;
  /** Whole datagrams: datagrams(). */
  #datagrams: Stream<ReceivedDatagram> | undefined;
  /** Whole datagrams for the cursor() iteration (one at most), copied or in place. */
  #cursors: Stream<ReceivedDatagram | DatagramInPlace> | undefined;
  /** What was read while no consumer was open, for the first to open ({@linkcode #adopt}). */
  readonly #unowned = new Fifo<Unowned>();
  /** The messages in #unowned (a datagram that did not decode, or an overrun, counts as one). */
  #unownedCount = 0;
  /** The bytes of the datagrams #unowned keeps alive. */
  #unownedBytes = 0;
  readonly #backlog: number;
  readonly #groups = new Set<number>();
  /**
   * What ends each dump iteration still armed (see `#guardDump`) on close: the dumps whose parts
   * have all been read are no longer the matcher's, but their consumers have yet to take them.
   */
  readonly #dumpsOnClose = new Set<(error: unknown) => void>();
  /**
   * Closed, and the error that made reading impossible: an object the streams read too (fields,
   * not calls: a `for await` step reads both each time).
   */
  readonly #state: { closed: boolean; failure: unknown } = { closed: false, failure: undefined };
  #overruns = 0;
  /** Cancels the close at collection: close() ran, or {@linkcode fd} handed the descriptor out. */
  readonly #forgetClose: () => void;

  /**
   * Wraps an opened transport. Use {@linkcode open} instead, which validates options, opens the
   * transport and applies socket options.
   */
  constructor(transport: Transport, settings: SocketSettings = { backlog: 4096 }) {
    this.#transport = transport;
    // Dropped without close(): the descriptor is closed once the socket is garbage-collected. A
    // bound method, not a closure: closures of this scope capture `this`, and would keep it. A
    // tap point's own release: it does not hold the taps, whose callbacks may reach the socket.
    this.#forgetClose = whenCollected(
      this,
      transport instanceof TapPoint
        ? transport.releaseAtCollection()
        : transport.close.bind(transport),
    );
    this.#matcher = new Matcher(undefined, transport.portid);
    this.#unframed = settings.unframed ?? false;
    this.#backlog = settings.backlog;
    this.#reader = new Reader(
      readPath(transport),
      this.#readerHost = {
        // The private arrows themselves, not calls of them: each is called per datagram or more
        // often, and a call costs on Bun's baseline tiers, where a monitor's code stays.
        demand: this.#demand,
        dispatch: this.#dispatch,
        // Set with the cursor() stream (#cursorsStream): until then none may.
        inPlace: undefined,
        requests: this.#matcher,
        // Only while a cursor() step waits (#inPlace): its stream is made.
        dispatchInPlace: (datagram) => this.#cursors!.deliver(datagram),
        overrun: (err) => this.#overrun(err),
        drained: (stale) => this.#matcher.drained(stale),
        gathering: () => this.#messages?.gathering === true,
        fail: (err) => this.#fail(err),
      },
    );
    // Listed with the reader's (host.dispatch calls it for every datagram no request claims).
    perEventClosures(this.#dispatchUnclaimed);
  }

  /** What the read loop asks of the socket. */
  readonly #readerHost: ReaderHost;

  /** What each stream asks of the socket. */
  #streamHost() {
    return {
      wake: this.#reader.kick,
      checkOpen: () => this.#checkOpen(),
      state: this.#state,
      reads: this.#reader,
      countOverrun: () => this.#overruns++,
    };
  }

  /** The unclaimed messages' stream, made now if not yet. */
  #messagesStream(): Stream<ReceivedMessage> {
    return this.#messages ??= new Stream<ReceivedMessage>(
      {
        ...this.#streamHost(),
        overrunMarker: overrunMessage,
        // The socket's own (the kernel never sends one): another process may send that type.
        isOverrunMarker: (m) => m.overrun === true,
        bytesOf: (m) => m.payload.byteLength,
      } satisfies StreamHost<ReceivedMessage>,
      this.#backlog,
    );
  }

  /** The datagrams() stream, made now if not yet. */
  #datagramsStream(): Stream<ReceivedDatagram> {
    return this.#datagrams ??= new Stream<ReceivedDatagram>(
      {
        ...this.#streamHost(),
        overrunMarker: () => OVERRUN_DATAGRAM,
        isOverrunMarker: (d) => d.overrun === true,
        bytesOf: (d) => d.data.byteLength,
      } satisfies StreamHost<ReceivedDatagram>,
      this.#backlog,
    );
  }

  /** The cursor() stream, made now if not yet. */
  #cursorsStream(): Stream<ReceivedDatagram | DatagramInPlace> {
    if (this.#cursors !== undefined) return this.#cursors;
    // Reading in place is for a cursor() step alone: the read loop asks from now on.
    this.#readerHost.inPlace = this.#inPlace;
    perEventClosures(this.#inPlace);
    return this.#cursors = new Stream<ReceivedDatagram | DatagramInPlace>(
      {
        ...this.#streamHost(),
        overrunMarker: () => OVERRUN_DATAGRAM,
        isOverrunMarker: (d) => (d as ReceivedDatagram).overrun === true,
        bytesOf: (d) => "data" in d ? d.data.byteLength : d.length,
      } satisfies StreamHost<ReceivedDatagram | DatagramInPlace>,
      this.#backlog,
    );
  }

  /** The port ID this socket is bound to. */
  get portid(): number {
    return this.#transport.portid;
  }

  /** The netlink protocol (NETLINK_ROUTE, NETLINK_GENERIC, a custom unit...). */
  get protocol(): number {
    return this.#transport.protocol;
  }

  /**
   * The socket's file descriptor, for what this library does not wrap (getsockopt of a struct,
   * SO_BINDTODEVICE...) through your own FFI, or for diagnostics; -1 once closed. Reading from it
   * or closing it behind the socket's back breaks the socket. Reading it hands the descriptor
   * out: from then on only {@linkcode close} closes it, not the socket's garbage collection (the
   * number could be kept past the socket, and would name whatever file reused it).
   */
  get fd(): number {
    this.#forgetClose();
    return this.#transport.fd;
  }

  /**
   * True when the socket was opened with `unframed: true`: its datagrams are read whole with
   * {@linkcode datagrams}, never parsed as netlink messages.
   */
  get unframed(): boolean {
    return this.#unframed;
  }

  /** True once {@linkcode close} has been called. */
  get closed(): boolean {
    return this.#state.closed;
  }

  /**
   * How many times messages were lost: each ENOBUFS the kernel reported (it dropped messages for
   * this socket), each datagram too long for the transport's receive buffer (EMSGSIZE: it was
   * dropped whole, and the buffer grew for the next one), plus each run of messages dropped
   * because the unclaimed-message queue was full. Each overrun also appears in the message
   * stream as one message with `overrun: true` (type NLMSG_OVERRUN, sender 0, empty payload; in
   * `datagrams()` a datagram with `overrun: true`, in `cursor()` a step with `c.overrun`); the
   * stream goes on. Check `overrun`, not the type: the kernel sends no NLMSG_OVERRUN, and one
   * another process sends is that process's message, without the field.
   */
  get overruns(): number {
    return this.#overruns;
  }

  /**
   * The multicast groups this socket has joined, in joining order; none once closed (the
   * memberships end with the descriptor, as {@linkcode fd} is -1 then). Like the socket's other
   * getters it does not throw after {@linkcode close}; `join()` and `leave()` do.
   */
  get groups(): readonly number[] {
    return [...this.#groups];
  }

  /**
   * Sends one message without waiting for anything, to the kernel by default. Fills in defaults
   * (see {@linkcode MessageInput}) and returns the sequence number sent. Replies, if any, arrive
   * in the message stream. Throws SyscallError if the kernel refuses the datagram (EAGAIN: the
   * receiving port's queue is full; EMSGSIZE: longer than this socket's send buffer allows), a
   * RangeError for an empty datagram, which the kernel never takes, a TypeError for bytes whose
   * ArrayBuffer is detached (transferred), and a TypeError for a
   * NETLINK_CONNECTOR message to the kernel that it drops unread, acking nothing (a payload
   * shorter than a struct cn_msg, or than the data its `len` says, or longer than
   * CONNECTOR_MAX_MSG_SIZE, 16384 bytes). Sending to a
   * group with port 0 (the default) means the multicast alone: the kernel's ECONNREFUSED for
   * its unicast copy, on a protocol nothing in the kernel serves (NETLINK_USERSOCK), is not an
   * error then, since the multicast went out.
   *
   * Given a `Uint8Array` instead, sends those bytes as they are, as one datagram, and returns 0:
   * how an `unframed` socket sends (which takes nothing else), and a way to send hand-built
   * messages on any socket (they are not matched to anything: a dump sent this way does not
   * wait for the socket's dump slot).
   *
   * @example
   * ```ts
   * import { NETLINK_USERSOCK, open } from "@netlink/netlink";
   * await using sock = await open(NETLINK_USERSOCK, { unframed: true });
   * sock.send(new TextEncoder().encode("hello"), { portid: sock.portid }); // to itself
   * ```
   */
  send(message: MessageInput | Uint8Array, to: Destination = {}): number {
    this.#checkOpen();
    to = checkOptions("destination", to, DESTINATION_KEYS);
    const portid = checkInteger("destination portid", to.portid ?? 0, 0, 0xffff_ffff);
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
      if (message.byteLength === 0) {
        // A view of a transferred buffer reads as 0 bytes too: not the caller's empty datagram.
        if ((message.buffer as ArrayBuffer).detached) {
          throw new TypeError(
            "cannot send the message: its ArrayBuffer is detached (transferred or given away)",
          );
        }
        throw new RangeError(
          "cannot send an empty datagram: the kernel refuses a netlink datagram of 0 bytes (ENODATA)",
        );
      }
      this.#sendBytes(message, portid, mask);
      return 0;
    }
    if (this.#unframed) throw unframedError("send() takes the datagram's bytes (a Uint8Array)");
    const seq = message?.seq === undefined ? this.#matcher.nextSeq() : message.seq;
    const bytes = this.#encode(message, checkFlags(message?.flags), seq);
    // The connector's messages go by send() (it acks nothing): one it drops unread is refused.
    if (this.protocol === NETLINK_CONNECTOR && portid === 0 && mask === 0) {
      checkConnectorHeard(message.payload ?? EMPTY);
    }
    this.#sendBytes(bytes, portid, mask);
    return seq;
  }

  /**
   * Sends a request (NLM_F_REQUEST | NLM_F_ACK added, a fresh sequence number) and resolves with
   * its replies, without the final ack (its warning or cookie, if any, in `replies.ack`); with
   * NLM_F_DUMP in `flags`, every part of the dump up to NLMSG_DONE (on NETLINK_ROUTE for an
   * RTM_GET* type, on NETLINK_NETFILTER's conntrack subsystems for a type they dump, a GET but
   * IPCTNL_MSG_CT_GET_STATS: for another type there those bits are NLM_F_REPLACE | NLM_F_EXCL, a
   * conntrack NEW's NLM_F_EXCL being its own, and it is a plain request; so is a control type's,
   * below NLMSG_MIN_TYPE, on these and NETLINK_GENERIC, which the kernel only acks); with
   * NLM_F_ECHO, the kernel's copy of the notifications the request caused. A message the kernel
   * ignores for its length, acking it undone, is a TypeError before anything is sent: on
   * NETLINK_ROUTE any type but a control one without a payload (rtnetlink reads the family from
   * its first byte, for every type a kernel knows: newer kernels know more), on NETLINK_NETFILTER
   * a payload shorter than a struct nfgenmsg (4 bytes; in an nfnetlink batch, which the kernel
   * then drops unanswered, any type). On NETLINK_CONNECTOR a request to the kernel is a
   * TypeError: the connector acks nothing and runs no dump, so it would only wait for its
   * timeout (so is `requestBatch()`'s and `dump()`'s): use {@linkcode send} and read what comes,
   * or `openProcEvents()`. Rejects with {@linkcode NetlinkError}
   * when the kernel answers with an error, {@linkcode DumpInterruptedError} when a dump was flagged
   * NLM_F_DUMP_INTR, SyscallError("recvmsg", ENOBUFS) when the kernel dropped messages for this
   * socket while the request was pending, or since an overrun whose queue was not yet read empty
   * (the kernel drops every answer until then; the reply may be among them: retry),
   * SyscallError("recvmsg", EMSGSIZE) when a unicast datagram from the request's destination too
   * long for the receive buffer was dropped while the request was pending (it may have been the
   * reply; what else comes for the request is discarded), MalformedMessageError at once when a
   * unicast datagram that does not decode comes from where it was sent (likewise): from a
   * user-space port (`to`), any; from the kernel (which never sends one, but a faulty module
   * might), one whose first header carries the request's sequence number, or one that names no
   * request nor an abandoned one (too short for a header, or another number), which fails every
   * request to the kernel (a malformed multicast datagram fails none); the error is then the
   * requests' alone, as a reply is (`messages()` does not get it too), a "TimeoutError"
   * DOMException on timeout, the signal's reason on abort, and SocketClosedError on close. Bad
   * `message` fields or options throw before anything is sent.
   */
  request(message: MessageInput, options: RequestOptions = {}): Promise<Replies> {
    return this.#requestMany([message], NLM_F_ACK, options);
  }

  /**
   * Sends several messages in ONE datagram, each with NLM_F_REQUEST and its own sequence number
   * (consecutive, in order), as transactions need (nfnetlink batches: NFNL_MSG_BATCH_BEGIN, the
   * changes, NFNL_MSG_BATCH_END). NLM_F_ACK is not added: set it on the messages whose answer
   * the kernel sends, and at least one must have it (or NLM_F_DUMP), since those answers are how
   * the batch is known to be complete; at most one may be a dump (an nfnetlink batch, which
   * starts with NFNL_MSG_BATCH_BEGIN, holds none: its messages' NLM_F_EXCL and NLM_F_REPLACE,
   * NLM_F_DUMP's bits, are the changes' own, as on a NETLINK_ROUTE change). Resolves with every
   * reply to any of the messages, without the acks; rejects as {@linkcode request} does, with the
   * first error (its `requestSeq` says which message failed), after which answers to the others
   * are discarded. The batch is complete once the messages with NLM_F_ACK (or a dump) are
   * answered: one after the last of them, without NLM_F_ACK, is answered only if it fails, after
   * the batch resolved, and that error is discarded too. To hear of every failure, set NLM_F_ACK
   * on the last message (nfnetlink acks NFNL_MSG_BATCH_END too when asked).
   */
  requestBatch(
    messages: readonly MessageInput[],
    options: RequestOptions = {},
  ): Promise<Replies> {
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
  ): Promise<Replies> {
    try {
      options = checkOptions("request options", options, REQUEST_KEYS);
      const from = this.#checkRequest(options);
      const matcher = this.#matcher;
      let remaining = 0;
      let dumps = 0;
      const batch = addFlags === 0;
      const built = messages.map((message, i) => {
        if (message === null || typeof message !== "object") {
          throw new TypeError("message must be an object like { type, flags?, payload? }");
        }
        const flags = checkFlags(message.flags) | NLM_F_REQUEST | addFlags;
        return this.#message(message, flags, matcher.nextSeq(), batch ? i : -1);
      });
      // Every field is checked here, before anything is registered or sent (and before the
      // checks below compare a type that may be no number).
      const bytes = encodeMessages(built);
      const bits = datagramDumpBits(this.protocol, from, built);
      bits.forEach((messageBits, i) => {
        if (completes(built[i].flags, messageBits)) remaining++;
        if (isDump(messageBits) && ++dumps > 1) {
          throw new TypeError(
            "a batch may hold one dump at most: the kernel runs one dump per socket",
          );
        }
      });
      if (remaining === 0) {
        throw new TypeError(
          "a batch needs a message with NLM_F_ACK or NLM_F_DUMP: its answer is how the batch "
            + "is known to be complete",
        );
      }
      checkHeard(this.protocol, from, built, false);
      options.signal?.throwIfAborted();
      return requestInFlight(
        {
          matcher,
          guard: (fail) => armGuard(options, fail),
          send: (bytes, to) => {
            this.#sendBytes(bytes, to, 0);
            this.#reader.afterSend();
          },
          kick: this.#kickReader,
        },
        built,
        bits,
        bytes,
        from,
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Sends a dump request (NLM_F_REQUEST | NLM_F_DUMP added) when iteration starts and yields each
   * part as it arrives, ending at NLMSG_DONE. The message is checked and copied by this call: each
   * iteration sends that copy, whatever `message` and its payload hold later. Throws as
   * {@linkcode request} does; a {@linkcode DumpInterruptedError} comes after every part has been
   * yielded. Leaving the loop early (break, return, a timeout or an abort) abandons the dump: the
   * socket reads its remaining parts and discards them, and the next dump runs once they have
   * been read. An iterator left mid-dump without `return()` abandons it once garbage-collected;
   * declared with `await using` (it is AsyncDisposable), it is abandoned as its scope ends.
   *
   * A dump the kernel would never answer is a TypeError, before anything is sent: on
   * NETLINK_ROUTE, a type that is no RTM_GET* (RTM_SETLINK: rtnetlink runs it as a change,
   * NLM_F_DUMP's bits read as NLM_F_REPLACE | NLM_F_EXCL); on NETLINK_NETFILTER, a conntrack
   * type that is no dump (a NEW, a DELETE, IPCTNL_MSG_CT_GET_STATS); on these and
   * NETLINK_GENERIC, a control type (below NLMSG_MIN_TYPE), which the kernel does not dispatch;
   * on NETLINK_CONNECTOR, any (the connector runs no dump); a message it ignores for its length,
   * as {@linkcode request} refuses it. Generic netlink
   * answers an operation that has no dump with EOPNOTSUPP. On other protocols and nfnetlink
   * subsystems, a type the kernel has no dump for runs as a plain request: answered with one
   * message without NLM_F_MULTI and no NLMSG_DONE (nftables' NFT_MSG_GETGEN), that message is
   * the dump's one part, and the dump ends once a read finds the receive queue empty (a dump the
   * kernel runs has its next part queued until its end) or, with NLM_F_ACK, at the ack; one that
   * answers nothing when it works (without NLM_F_ACK) ends only by the dump's `timeout` or
   * `signal`. The socket's next dumps run then.
   *
   * For a large dump, `.forEach(handler)` ({@linkcode DumpIterable.forEach}) does the same work
   * with one promise per datagram instead of one per part, and `.cursor()`
   * ({@linkcode DumpIterable.cursor}) with no object per part either.
   */
  dump(message: MessageInput, given?: RequestOptions): DumpIterable {
    // Undefined when left out, not a default `{}`: checkOptions takes none as `{}` without the
    // plain-object check's code, which a one-shot dump then never makes (Bun).
    const options = checkOptions("dump() options", given, REQUEST_KEYS);
    const from = this.#checkRequest(options);
    const flags = checkFlags(message?.flags);
    // Validate the message now, not on first iteration: bad input fails where it is written.
    // Each iteration sends this encoding (a copy, with its flags and sequence number), not the
    // caller's object or payload, which may have changed since into what the checks below refuse
    // (an empty payload: a dump nothing answers).
    const built = this.#message(message, flags, 0, -1);
    const request = encodeMessage(built);
    const never = undumpable(this.protocol, from, message.type);
    if (never !== undefined) throw new TypeError(never);
    checkHeard(this.protocol, from, [built], true);
    const iterate = () =>
      dumpIterator({
        matcher: this.#matcher,
        checkOpen: () => this.#checkOpen(),
        kick: this.#kickReader,
        readNow: () => this.#reader.readNow(),
        request,
        sendRequest: (bytes, to, read) => {
          this.#sendBytes(bytes, to, 0);
          if (read) this.#reader.afterSend();
          else this.#reader.countSend();
        },
        guard: (fail) => this.#guardDump(options, fail),
        signal: options.signal,
        flags,
        to: from,
      });
    return {
      [Symbol.asyncIterator]: iterate,
      forEach: async (handler) => {
        checkHandler("forEach", handler);
        await forEachPart(iterate(), handler, from);
      },
      cursor: () => cursorParts(iterate(), (data) => this.#transport.recycle?.(data)),
    };
  }

  /**
   * Joins multicast group `group` (NETLINK_ADD_MEMBERSHIP); its messages then arrive in the
   * message stream with `group` set. Any group number the protocol has, including above 32.
   * Throws SyscallError: EINVAL (saying so) for a group beyond the protocol's last.
   */
  join(group: number): void {
    this.#membership(NETLINK_ADD_MEMBERSHIP, group);
    this.#groups.add(group);
  }

  /**
   * Leaves multicast group `group` (NETLINK_DROP_MEMBERSHIP). Throws SyscallError: EINVAL (saying
   * so) for a group beyond the protocol's last, as join() does.
   */
  leave(group: number): void {
    this.#membership(NETLINK_DROP_MEMBERSHIP, group);
    this.#groups.delete(group);
  }

  /**
   * Sets an int socket option (setsockopt), as mdlayher/netlink's SetOption does for
   * SOL_NETLINK flags: `sock.setOption(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1)`. {@linkcode open}
   * has options for the common ones; use {@linkcode join}/{@linkcode leave} for groups, so
   * that {@linkcode groups} stays true. Throws SyscallError; a RangeError, before any system
   * call, for a level or name that is no int from 0 to 2^31-1, a value that is no 32-bit int,
   * and for turning NETLINK_PKTINFO off: the socket tells multicast from unicast by it (a multicast message
   * would otherwise be taken for a request's reply).
   *
   * @example
   * ```ts
   * import { NETLINK_BROADCAST_ERROR, NETLINK_ROUTE, open, SOL_NETLINK } from "@netlink/netlink";
   * await using sock = await open(NETLINK_ROUTE);
   * sock.setOption(SOL_NETLINK, NETLINK_BROADCAST_ERROR, 1);
   * ```
   */
  setOption(level: number, name: number, value: number): void {
    this.#checkOpen();
    level = checkInteger("option level", level, 0, INT_MAX);
    name = checkInteger("option name", name, 0, INT_MAX);
    if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
      throw new RangeError(`option value must be a 32-bit int, got ${shown(value)}`);
    }
    if (level === SOL_NETLINK && name === NETLINK_PKTINFO && value === 0) {
      throw new RangeError(
        "NETLINK_PKTINFO cannot be turned off: the socket reads each datagram's multicast group "
          + "from it, and without it a multicast message would be taken for a reply",
      );
    }
    this.#transport.setOption(level, name, value);
  }

  /**
   * Reads an int socket option (getsockopt): `sock.getOption(SOL_NETLINK, NETLINK_NO_ENOBUFS)`.
   * Throws SyscallError.
   *
   * @example
   * ```ts
   * import { NETLINK_ROUTE, open, SO_RCVBUF, SOL_SOCKET } from "@netlink/netlink";
   * await using sock = await open(NETLINK_ROUTE);
   * console.log(sock.getOption(SOL_SOCKET, SO_RCVBUF));
   * ```
   */
  getOption(level: number, name: number): number {
    this.#checkOpen();
    return this.#transport.getOption(
      checkInteger("option level", level, 0, INT_MAX),
      checkInteger("option name", name, 0, INT_MAX),
    );
  }

  /**
   * Attaches a classic BPF program (SO_ATTACH_FILTER) that the kernel runs on every datagram
   * before queueing it: return 0 drops it, anything else keeps that many bytes, as
   * mdlayher/netlink's SetBPF. The program sees the datagram from its first nlmsghdr; it
   * replaces any program attached before. Accepts instructions or their struct sock_filter
   * bytes (8 per instruction, host byte order); at most 4096. Throws SyscallError (EPERM once the
   * filter is locked, EINVAL for a program the kernel's checker refuses).
   *
   * @example
   * ```ts
   * import { NETLINK_ROUTE, open, RTM_NEWLINK, RTNLGRP_LINK } from "@netlink/netlink";
   * await using sock = await open(NETLINK_ROUTE, { groups: [RTNLGRP_LINK] });
   * // Keep RTM_NEWLINK messages (nlmsg_type, a u16 at offset 4), drop everything else.
   * sock.attachFilter([
   *   { code: 0x28, jt: 0, jf: 0, k: 4 }, // ldh [4]
   *   { code: 0x15, jt: 0, jf: 1, k: RTM_NEWLINK << 8 }, // jeq #RTM_NEWLINK (host order!)
   *   { code: 0x06, jt: 0, jf: 0, k: 0xffff_ffff }, // ret #-1
   *   { code: 0x06, jt: 0, jf: 0, k: 0 }, // ret #0
   * ]);
   * ```
   */
  attachFilter(program: readonly FilterInstruction[] | Uint8Array): void {
    this.#checkOpen();
    const bytes = encodeFilter(program);
    if (typeof this.#transport.attachFilter !== "function") {
      throw new TypeError("this socket's transport cannot attach filters (no attachFilter)");
    }
    this.#transport.attachFilter(bytes);
  }

  /** Removes the attached filter (SO_DETACH_FILTER). Throws SyscallError (ENOENT: none). */
  detachFilter(): void {
    this.#checkOpen();
    this.#transport.setOption(SOL_SOCKET, SO_DETACH_FILTER, 0);
  }

  /**
   * Locks the attached filter (SO_LOCK_FILTER): from now on it cannot be replaced or detached,
   * for a process about to hand the socket to less trusted code.
   */
  lockFilter(): void {
    this.#checkOpen();
    this.#transport.setOption(SOL_SOCKET, SO_LOCK_FILTER, 1);
  }

  /**
   * Iterates the messages no request claims: multicast messages (`group` set), acks and replies
   * to `send()`, messages from other ports, and for each overrun one message with
   * `overrun: true` (see {@linkcode overruns}). Ends when the socket is closed, at once: the step after close()
   * is done, whatever is still queued. Throws, and so ends (every later step is done, as an async
   * generator's are after a throw), on abort (the signal's reason), on a
   * datagram that does not decode and answered no request (MalformedMessageError: what follows
   * it stays queued for the next iteration; with `onMalformed`, the datagram is handed to it and
   * the iteration goes on; one that failed requests, see {@linkcode request}, is theirs alone),
   * or on the error that made reading impossible. Several iterations at once split the stream
   * between them: each message goes to one. Steps of one iteration are taken in the order they
   * are asked for, even when several `next()` calls are pending. Only a pending `next()` makes
   * the socket wait for data (and so keeps the process alive): an iteration left without
   * `return()` holds nothing, and once garbage-collected it ends as `return()` would have ended
   * it (its abort listener leaves the signal). Until then it counts as open: what no request
   * claims goes to the message stream, read ahead for it, and not to the first consumer to open
   * next (a `datagrams()` or `cursor()` would not see it). Collection comes late, or never: end
   * an iteration you step by hand with `return()`, or declare it with `await using` (every
   * iteration here is AsyncDisposable), and it ends with its scope.
   *
   * Which consumer gets what is decided as it is read: while a `datagrams()` or `cursor()`
   * iteration is open, whole datagrams go to it (see {@linkcode datagrams}), the rest to the
   * message stream. What is read while no consumer at all is open (a request's reads take along
   * whatever was queued before its answer) waits, in order, for the first to open, of any kind:
   * `messages()`, `batches()` and `listen()` take it as messages, `datagrams()` and `cursor()`
   * whole (but what is left of a datagram that also held an answer: the message stream's).
   * Messages the stream holds already stay its own: an iteration that ended leaves them to the
   * next `messages()`, `batches()` or `listen()`.
   *
   * @example
   * ```ts
   * import { NETLINK_ROUTE, open, RTNLGRP_LINK } from "@netlink/netlink";
   * await using sock = await open(NETLINK_ROUTE, { groups: [RTNLGRP_LINK] });
   * const signal = AbortSignal.timeout(10_000);
   * try {
   *   for await (const msg of sock.messages({ signal })) {
   *     if (msg.overrun) console.log("messages were lost: list again to resync");
   *     else console.log(msg.type, msg.group);
   *   }
   * } catch (err) {
   *   if (!signal.aborted) throw err; // the abort ends the loop by throwing its reason
   * }
   * ```
   *
   * @example Stepped by hand: `await using` ends the iteration with its block.
   * ```ts
   * import { NETLINK_USERSOCK, open } from "@netlink/netlink";
   * await using sock = await open(NETLINK_USERSOCK);
   * sock.send({ type: 0x10 }, { portid: sock.portid }); // to itself
   * {
   *   await using messages = sock.messages();
   *   const { value } = await messages.next();
   *   console.log(value?.type); // 16
   * }
   * ```
   */
  messages(
    options: MessagesOptions = {},
  ): AsyncIterableIterator<ReceivedMessage> & AsyncDisposable {
    return this.#stream(options, false) as AsyncIterableIterator<ReceivedMessage> & AsyncDisposable;
  }

  /**
   * Calls `handler` with each message {@linkcode messages} would yield, synchronously, in the
   * task that read it: the lowest-latency way to watch a socket. The wake-up that finds a
   * datagram queued reads it and calls the handler with no promise in between (Bun Workers,
   * which wait through a poller Worker: one), where a `for await` step costs a promise or two
   * after the wake-up, and a run of datagrams costs no iteration step per message.
   *
   * Returns a promise that resolves when the socket closes, and rejects, ending the listen,
   * when `handler` throws or a promise it returns rejects (with that error), when `signal`
   * aborts (with its reason), on a malformed datagram (MalformedMessageError, unless
   * `onMalformed` takes it: see {@linkcode MessagesOptions}) and when reading fails; bad
   * arguments, a closed socket and a second listen() reject too. A promise the handler returns
   * is not awaited: the next message may come before it settles (and one that
   * rejects after the listen has ended is ignored: nothing is left to reject). Messages that
   * arrived before the call and were not taken (those the message stream holds, and those read
   * while no consumer was open: see {@linkcode messages}) come first, in order, from a microtask
   * (never inside this call). Nor inside your own calls: messages that a `request()` or a `dump()`
   * step happens to read come from a microtask, in order. An overrun comes as a message with
   * `overrun: true`, as in `messages()`. While it runs the socket waits for data, which keeps the
   * process alive, and the handler takes every message: `messages()` and `batches()` steps wait
   * until it ends (while `datagrams()` or `cursor()` is open, multicast datagrams go to that
   * iteration whole, as they would instead of to `messages()`). One listen() at a time per
   * socket. Not for `unframed` sockets.
   *
   * @example
   * ```ts
   * import { NETLINK_ROUTE, open, RTM_NEWLINK, RTNLGRP_LINK } from "@netlink/netlink";
   * await using sock = await open(NETLINK_ROUTE, { groups: [RTNLGRP_LINK] });
   * const signal = AbortSignal.timeout(10_000);
   * await sock.listen((msg) => {
   *   if (msg.type === RTM_NEWLINK) console.log("link changed", msg.payload.length);
   * }, { signal }).catch((err) => {
   *   if (!signal.aborted) throw err;
   * });
   * ```
   */
  listen(
    handler: (message: ReceivedMessage) => unknown,
    options: MessagesOptions = {},
  ): Promise<void> {
    try {
      checkHandler("listen", handler);
      this.#checkOpen();
      options = checkOptions("listen() options", options, MESSAGES_KEYS);
      const skip = checkMessagesOptions(options);
      if (this.#unframed) throw unframedError("read it with datagrams()");
      const messages = this.#messagesStream();
      const listening = messages.listen(handler, options.signal, skip);
      this.#adopt(messages); // taken from a microtask, after what the stream has queued
      return listening;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * The stream of {@linkcode messages}, a run at a time: each step yields every message that has
   * arrived and not been taken (at least one, in order), up to an error, which the next step
   * throws. For high message rates (a flood of multicast events, say) this saves the per-message
   * cost of an async iteration step. Ends, throws and shares the stream as `messages()` does.
   *
   * @example
   * ```ts
   * import { NETLINK_ROUTE, open, RTNLGRP_LINK } from "@netlink/netlink";
   * await using sock = await open(NETLINK_ROUTE, { groups: [RTNLGRP_LINK] });
   * for await (const run of sock.batches()) {
   *   for (const msg of run) console.log(msg.type);
   * }
   * ```
   */
  batches(
    options: MessagesOptions = {},
  ): AsyncIterableIterator<ReceivedMessage[]> & AsyncDisposable {
    return this.#stream(options, true) as
      & AsyncIterableIterator<ReceivedMessage[]>
      & AsyncDisposable;
  }

  /**
   * Iterates whole datagrams, unparsed: `data` (the datagram's bytes), `sender`, `group` and
   * (with `listenAllNsid`) `nsid`. On an `unframed` socket (NETLINK_KOBJECT_UEVENT, whose
   * datagrams are not netlink messages) this is how everything is read. On other sockets it is
   * for consumers that walk the messages themselves ({@linkcode decodeDatagram}) or need to
   * know which messages came in one datagram: while a `datagrams()` iteration is open, every
   * datagram none of whose messages answers a request comes to it whole (datagrams() never
   * throws MalformedMessageError: garbage arrives as it was sent), and `messages()` gets only
   * what is left of datagrams that also held replies. Opened first after datagrams were read with
   * no consumer open (by a request's reads), it gets them first, whole and in order (see
   * {@linkcode messages}). An overrun appears as one datagram with `overrun: true` and empty
   * `data`. Ends, throws and is shared between concurrent iterations
   * as `messages()` is.
   *
   * @example
   * ```ts
   * import { NETLINK_KOBJECT_UEVENT, open } from "@netlink/netlink";
   * await using sock = await open(NETLINK_KOBJECT_UEVENT, { unframed: true, groups: [1] });
   * for await (const { data } of sock.datagrams()) {
   *   console.log(new TextDecoder().decode(data).split("\0"));
   * }
   * ```
   */
  datagrams(
    options: Pick<MessagesOptions, "signal"> = {},
  ): AsyncIterableIterator<ReceivedDatagram> & AsyncDisposable {
    if (options !== null && typeof options === "object" && Object.hasOwn(options, "onMalformed")) {
      throw new TypeError(
        "datagrams() takes no onMalformed: it never ends on a malformed datagram, it yields it "
          + "as it was sent",
      );
    }
    options = checkOptions("datagrams() options", options, DATAGRAMS_KEYS);
    checkSignal(options.signal);
    const datagrams = this.#datagramsStream();
    const iterator = datagrams.iterate(options.signal, false);
    this.#adopt(datagrams);
    return iterator as AsyncIterableIterator<ReceivedDatagram> & AsyncDisposable;
  }

  /**
   * The allocation-free way to read a flood: the datagrams {@linkcode datagrams} would yield,
   * walked where the kernel put them, with no copy. Each step yields the same
   * {@linkcode DatagramCursor}; its `next()` walks the messages of a datagram and goes on into the
   * next datagram the socket has queued, read in place, until none is queued (then the next step
   * waits for more). Read each message's fields and payload in place (`c.type`, `c.view` at
   * `c.byteOffset + c.payloadOffset`...); `c.sender`, `c.group` and `c.nsid` are the current
   * datagram's, and a new datagram starts at `c.offset` 0. Nothing is allocated per message, nor a buffer or a
   * datagram object per datagram: the socket receives into buffers of its own for this, which no
   * other socket's reads touch (one read takes up to 16 queued datagrams, each into 512 KiB of its
   * own: 8 MiB of mostly untouched pages, made on first use).
   *
   * **Lifetime: what the cursor shows, and every byte of `c.data` (views from `c.payload()`
   * included), is valid only until `c.next()` moves past the current datagram's last message, or
   * the iteration's next step.** Later reads overwrite them: `slice()` what you keep, and never
   * transfer `c.data.buffer` (postMessage, structuredClone): it is the socket's own memory. If it is
   * transferred anyway, the socket reads into new memory from then on, and the datagrams already
   * read into the old (up to 15) are lost, as one overrun step. Asking for the next step ends the
   * walk: the cursor shows the next datagram, or nothing (`c.next()` false) while the step waits
   * for one, and stays empty once the iteration has ended.
   *
   * It keeps the socket's promises: messages come in the order they arrived; an overrun starts a
   * step with `c.overrun` true and no message of its own (and counts in {@linkcode overruns});
   * close ends the iteration and abort throws the signal's reason, both at once, also while a step
   * waits. While requests are in flight on the socket, datagrams are read the ordinary way (copied,
   * so that their answers can be claimed) and those no request claims come to the cursor whole, as
   * in `datagrams()`, as do those read before it opened while no consumer was open (see
   * {@linkcode messages}). Little is read ahead: datagrams wait in the kernel's queue until the cursor
   * asks for one (a read then takes up to 16 of those queued), so a consumer that cannot keep up
   * sees overruns rather than a growing backlog. One walk reads on for at most a few milliseconds
   * before its step ends, so that a flood lets other promises settle. One `cursor()` iteration at a
   * time (the cursor is shared); while it is open, it takes the datagrams a `datagrams()` iteration
   * would. Not for `unframed` sockets. `c.next()` throws MalformedMessageError on a malformed
   * datagram, and goes on with the next datagram when called again; with `onMalformed`, it hands
   * the datagram to that instead and goes on at once.
   *
   * @example
   * ```ts
   * import { NETLINK_USERSOCK, open } from "@netlink/netlink";
   * await using sock = await open(NETLINK_USERSOCK, { receiveBufferSize: 1 << 20 });
   * sock.send({ type: 0x10, payload: Uint8Array.of(7, 0, 0, 0) }, { portid: sock.portid });
   * for await (const c of sock.cursor()) {
   *   // Read each message's fields in place; slice() anything kept past its datagram.
   *   while (c.next()) console.log(c.type, c.view.getUint32(c.byteOffset + c.payloadOffset, true));
   *   break; // from here on the cursor is empty
   * }
   * ```
   */
  cursor(options: MessagesOptions = {}): AsyncIterableIterator<DatagramCursor> & AsyncDisposable {
    this.#checkOpen();
    options = checkOptions("cursor() options", options, MESSAGES_KEYS);
    checkMessagesOptions(options);
    if (this.#unframed) throw unframedError("read it with datagrams()");
    if (this.#cursors?.active) {
      throw new Error(
        "a cursor() iteration is already open on this socket: it reuses one cursor and one "
          + "buffer, so only one may be open at a time. End it first: break out of its loop, "
          + "call its return(), or declare it with `await using` (one dropped without these "
          + "stays open until it is garbage-collected)",
      );
    }
    const signal = options.signal;
    const cursors = this.#cursorsStream();
    const steps = cursors.iterate(signal, false) as AsyncIterableIterator<
      ReceivedDatagram | DatagramInPlace
    >;
    this.#adopt(cursors);
    let open = true;
    /** Steps asked for and not yet shown: the cursor may read at once only when none is. */
    let unsettled = 0;
    // A step's walk reads on from datagram to datagram, for up to a time budget (the clock read
    // once per DRAIN_CLOCK_EVERY datagrams), so that a flood still lets promises settle.
    let run = 0;
    let runSince = -1;
    const readNext = () => {
      if (!open || unsettled !== 0 || !this.#readsInPlaceNow(signal)) return false;
      if (++run % DRAIN_CLOCK_EVERY === 0) {
        const now = performance.now();
        if (runSince < 0) runSince = now;
        else if (now - runSince > DRAIN_BUDGET_MS) return false;
      }
      const d = this.#reader.readInPlace();
      if (d === undefined) return false;
      load(d);
      return true;
    };
    const cursor = options.onMalformed
      ? new SkippingSocketCursor(readNext, options.onMalformed)
      : new SocketCursor(readNext);
    // One result object for every step: for-await reads it before asking for the next.
    const result: IteratorResult<DatagramCursor> = { value: cursor, done: false };
    const load = (d: ReceivedDatagram | DatagramInPlace): IteratorResult<DatagramCursor> => {
      const copy = (d as ReceivedDatagram).data;
      if (copy === undefined) {
        const { buffer, length } = d as DatagramInPlace;
        cursor.reset(buffer, length);
      } else {
        cursor.reset(copy);
      }
      cursor.sender = d.sender;
      cursor.group = d.group;
      cursor.nsid = d.nsid;
      cursor.overrun = (d as ReceivedDatagram).overrun === true;
      return result;
    };
    const show = (
      r: IteratorResult<ReceivedDatagram | DatagramInPlace>,
    ): IteratorResult<DatagramCursor> => {
      unsettled--;
      run = 0;
      runSince = -1;
      if (!r.done) return load(r.value);
      open = false;
      return r;
    };
    const ended = (err: unknown): never => {
      unsettled--;
      open = false; // a step that throws ends the iteration
      throw err;
    };
    const iterator: AsyncIterableIterator<DatagramCursor> & AsyncDisposable = {
      next: () => {
        cursor.reset(EMPTY);
        run = 0;
        runSince = -1;
        // The common case of a flood: nothing queued, nothing else to read for, the datagram
        // already in the kernel's queue. Read it now rather than through a turn of the loop.
        if (open && unsettled === 0 && this.#readsInPlaceNow(signal)) {
          const d = this.#reader.readInPlace();
          if (d !== undefined) return Promise.resolve(load(d));
        }
        unsettled++;
        return steps.next().then(show, ended);
      },
      return: () => {
        open = false;
        cursor.reset(EMPTY);
        return steps.return!() as Promise<IteratorResult<DatagramCursor>>;
      },
      [Symbol.asyncIterator]: () => iterator,
      [Symbol.asyncDispose]: () => iterator.return!().then(() => {}),
    };
    // What a flood runs once per datagram (see src/_per_event.ts).
    perEventClosures(
      readNext,
      load,
      show,
      iterator.next,
      this.#readsInPlaceNow,
      this.#claimsNothing,
    );
    return iterator;
  }

  /** An iteration of the unclaimed-message stream: one message per step, or runs of them. */
  #stream(
    options: MessagesOptions,
    runs: boolean,
  ): AsyncIterableIterator<ReceivedMessage | ReceivedMessage[]> & AsyncDisposable {
    this.#checkOpen();
    options = checkOptions(
      runs ? "batches() options" : "messages() options",
      options,
      MESSAGES_KEYS,
    );
    const skip = checkMessagesOptions(options);
    if (this.#unframed) throw unframedError("read it with datagrams()");
    const messages = this.#messagesStream();
    const iterator = messages.iterate(options.signal, runs, skip);
    this.#adopt(messages);
    return iterator;
  }

  /** Same as {@linkcode messages} without options: `for await (const msg of socket)`. */
  [Symbol.asyncIterator](): AsyncIterableIterator<ReceivedMessage> & AsyncDisposable {
    return this.messages();
  }

  /**
   * Closes the socket and releases its descriptor. Pending requests and dumps reject with
   * SocketClosedError, iterations end. Idempotent.
   */
  close(): void {
    if (this.#state.closed) return;
    this.#state.closed = true;
    this.#forgetClose();
    this.#reader.stop();
    // Only for what waits: an error's construction (its stack) is a one-shot script's last cost.
    const matcher = this.#matcher;
    if (matcher.pending.size !== 0 || matcher.dumpsQueued) {
      matcher.failAll(new SocketClosedError("netlink socket was closed while waiting"));
    }
    if (this.#dumpsOnClose.size !== 0) {
      for (const fail of [...this.#dumpsOnClose]) {
        fail(new SocketClosedError("netlink socket was closed while waiting"));
      }
    }
    this.#messages?.close();
    this.#datagrams?.close();
    this.#cursors?.close();
    this.#unowned.clear();
    this.#unownedCount = this.#unownedBytes = 0;
    this.#groups.clear();
    this.#transport.close();
  }

  /** Closes the socket: `await using sock = await open(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  // --- internals -------------------------------------------------------------------------------

  #checkOpen(): void {
    if (this.#state.closed) throw new SocketClosedError();
    if (this.#state.failure !== undefined) throw this.#state.failure;
  }

  /** Joins or leaves (`option`) `group`, saying what is wrong when the kernel refuses it. */
  #membership(option: number, group: number): void {
    this.#checkOpen();
    checkGroup(group);
    try {
      this.#transport.setOption(SOL_NETLINK, option, group);
    } catch (err) {
      // The kernel's only EINVAL here, group 0 being refused above: past the protocol's groups.
      if (!(err instanceof SyscallError) || err.code !== "EINVAL") throw err;
      throw new SyscallError(
        err.syscall,
        err.errno,
        `${protocolText(this.protocol)} has no multicast group ${group} (its groups end below it)`,
      );
    }
  }

  /** Checks a request's socket and options; returns the port replies must come from. */
  #checkRequest(options: RequestOptions): number {
    this.#checkOpen();
    if (this.#unframed) {
      throw unframedError("requests and dumps need netlink messages; use send() and datagrams()");
    }
    checkTimeout(options.timeout);
    checkSignal(options.signal);
    const to = checkInteger("request destination", options.to ?? 0, 0, 0xffff_ffff);
    if (to === 0 && this.protocol === NETLINK_CONNECTOR) {
      throw new TypeError(CONNECTOR_ANSWERS_NOTHING);
    }
    return to;
  }

  #encode(message: MessageInput, flags: number, seq: number): Uint8Array {
    return encodeMessage(this.#message(message, flags, seq, -1));
  }

  /**
   * The full message to send: checks what encodeMessage does not (object, no unknown field,
   * payload type). `index` is the message's in a batch, for errors (-1: not a batch).
   */
  #message(message: MessageInput, flags: number, seq: number, index: number): Message {
    if (message === null || typeof message !== "object") {
      throw new TypeError("message must be an object like { type, flags?, payload? }");
    }
    checkMessageKeys(message, index);
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

  /** {@linkcode armGuard} for a dump, whose `fail` runs on close too. */
  #guardDump(options: RequestOptions, fail: (error: unknown) => void): Disarm {
    const disarm = armGuard(options, fail);
    this.#dumpsOnClose.add(fail);
    return Object.assign(() => {
      disarm();
      this.#dumpsOnClose.delete(fail);
    }, { hold: disarm.hold, check: disarm.check });
  }

  #sendBytes(bytes: Uint8Array, portid: number, groupMask: number): void {
    this.#reader.sent();
    try {
      this.#transport.send(bytes, portid, groupMask);
    } catch (err) {
      this.#sendFailed(err, bytes, portid, groupMask);
    }
  }

  /**
   * #sendBytes()'s failure, said for the send that failed (or nothing, for a multicast whose
   * unicast half alone failed): built apart, as JavaScriptCore makes a function's bytecode whole
   * at its first call, error branches included, and every request and dump sends through
   * #sendBytes, where these strings were most of its code.
   */
  #sendFailed(err: unknown, bytes: Uint8Array, portid: number, groupMask: number): void {
    if (err instanceof SyscallError && err.code === "EAGAIN" && portid !== 0) {
      // netlink_unicast to a user-space socket waits for room; ours never block.
      throw new SyscallError(
        "sendmsg",
        err.errno,
        `the receive queue of port ${portid} is full (it is not read fast enough): `
          + "nothing was sent; retry once it has read, or give it a larger receiveBufferSize",
      );
    }
    if (err instanceof SyscallError && err.code === "EMSGSIZE") {
      throw new SyscallError(
        "sendmsg",
        err.errno,
        `the ${bytes.byteLength}-byte datagram is longer than this socket's send buffer allows `
          + "(SO_SNDBUF less 32 bytes): nothing was sent; raise it with setOption(SOL_SOCKET, "
          + "SO_SNDBUF, bytes), up to twice net.core.wmem_max (SO_SNDBUFFORCE as root: any size)",
      );
    }
    if (err instanceof SyscallError && err.code === "ECONNREFUSED") {
      // The kernel multicasts first, then unicasts to the port: with port 0 on a protocol
      // nothing in the kernel serves, only that unicast failed.
      if (groupMask !== 0 && portid === 0) return;
      // A transport that says why (the fake kernel: nothing was served) knows better.
      if (portid === 0 && this.protocol !== NETLINK_USERSOCK && hasHint(err)) throw err;
      throw new SyscallError(
        "sendmsg",
        err.errno,
        portid !== 0
          ? `no socket is bound to port ${portid}`
          // Nothing ever served it: "any more" would send the reader after a module.
          : this.protocol === NETLINK_USERSOCK
          ? "nothing in the kernel serves NETLINK_USERSOCK: send to a peer's port ({ portid }) "
            + "or to a group"
          : `nothing in the kernel serves ${protocolText(this.protocol)} any more `
            + "(was the module that provides it unloaded?)",
      );
    }
    throw err;
  }

  /**
   * A request or dump started or ended. One that ended may leave something that only a read
   * finding the queue empty settles (Matcher.drainOwed: a kernel dump abandoned with the
   * dump slot), which a read loop waiting for data would not make: a read follows, in a
   * microtask (after the send that may be running: the kernel answers inside it).
   */
  readonly #kickReader = (): void => {
    this.#reader.kick();
    if (this.#matcher.drainOwed) queueMicrotask(this.#readOnce);
  };

  readonly #readOnce = (): void => {
    if (!this.#state.closed) this.#reader.readNow();
  };

  /**
   * What reading is wanted: 2, wait for data (something waits for it); 1, read what is queued
   * without waiting (read-ahead for an open iteration); 0, nothing.
   */
  readonly #demand = (): 0 | 1 | 2 => {
    if (this.#state.closed || this.#state.failure !== undefined) return 0;
    const matcher = this.#matcher;
    let peers = false;
    // A monitor's case (nothing pending, no dump) in one call: the read loop asks this several
    // times per event.
    if (!matcher.idle) {
      // A dump waits for its turn: the running one must be read to its end, paused or not. One
      // left early is read to its end at once: until then the kernel keeps it (its skbs, and a
      // reference on the module that serves it: rmmod fails with EBUSY).
      if (matcher.dumpsQueued || matcher.dumpAbandoned) return 2;
      let paused = false;
      const pendings = matcher.pending;
      if (pendings.size !== 0) {
        for (const pending of pendings.values()) {
          if (pending.paused?.()) paused = true;
          else if (pending.from === 0) return 2;
          else peers = true;
        }
      }
      // A lagging dump() holds reading back for all but requests to the kernel, whose answers
      // come within a datagram or two: reading for anything else would read the whole dump
      // ahead.
      if (paused) return 0;
    }
    if (peers || this.#messages?.waiting || this.#datagrams?.waiting || this.#cursors?.waiting) {
      return 2;
    }
    // The cursor reads only when a step asks (the transport's read then takes up to 16 queued).
    return this.#messages?.readAhead || this.#datagrams?.readAhead ? 1 : 0;
  };

  /**
   * Whether the next datagram may be read in place and handed to the cursor() step waiting for
   * it: nothing else could claim it (no request in flight, none abandoned), so it would go to
   * that step whole anyway, and nothing is queued before it.
   */
  readonly #inPlace = (): boolean => this.#cursors?.waiting === true && this.#claimsNothing();

  /** No request could claim a datagram: none in flight, none abandoned, no dump waiting. */
  #claimsNothing(): boolean {
    const matcher = this.#matcher;
    return matcher.unrequested && matcher.abandoned === 0;
  }

  /**
   * Whether a cursor() step may read its datagram in place at once: the socket reads, nothing
   * is queued for the step or waits before it, and nothing could claim the datagram.
   */
  #readsInPlaceNow(signal: AbortSignal | undefined): boolean {
    return !this.#state.closed && this.#state.failure === undefined && !signal?.aborted
      && !this.#cursors?.queued && !this.#cursors?.waiting && this.#claimsNothing();
  }

  /**
   * Hands over one datagram: first to the request that claims it whole, as bytes (a dump's
   * datagram of data parts only, to a consumer that decodes them where they are: every datagram
   * of a one-shot dump), else the ordinary way ({@linkcode #dispatchUnclaimed}). Apart, because
   * Bun's JavaScriptCore makes a function's bytecode whole at its first call (some 0.3-0.5 us a
   * byte, cold): a one-shot dump never runs the other's (1.3 KB), nor its checks per datagram.
   * Unicast only, without an nsid (the parts made from bytes have none: the kernel tags only a
   * multicast copy), and never on an unframed socket: what the other does first for anything
   * else does not depend on this answer (claimDatagram changes nothing when it claims nothing).
   */
  readonly #dispatch = (datagram: Datagram): void => {
    if (
      datagram.group !== 0 || datagram.nsid !== undefined || this.#unframed
      || !this.#matcher.claimDatagram(datagram.data, datagram.sender)
    ) {
      this.#dispatchUnclaimed(datagram);
    }
  };

  /** {@linkcode #dispatch} of a datagram no request claimed whole: a monitor's every event. */
  readonly #dispatchUnclaimed = (datagram: Datagram): void => {
    if (this.#unframed) {
      this.#datagramsStream().deliver(datagram);
      return;
    }
    const matcher = this.#matcher;
    // An open cursor() or datagrams() iteration takes, whole, every datagram no request claims:
    // multicast answers no request (but an NLM_F_ECHO one), so it is not even parsed.
    const cursors = this.#cursors;
    const datagrams = this.#datagrams;
    const whole = cursors?.active ? cursors : datagrams?.active ? datagrams : undefined;
    if (whole && datagram.group !== 0 && !matcher.echoing) {
      whole.deliver(datagram);
      return;
    }
    let messages: ReceivedMessage[];
    try {
      messages = decodeDatagram(datagram);
    } catch (err) {
      // Garbage from a peer (or a faulty module): the requests it may have answered fail now
      // (see Matcher.malformed), and theirs alone is the error, as a reply is its request's
      // alone; one that answered none is the stream's (its next reader gets the error).
      // Multicast answers none (an NLM_F_ECHO request still ends at its ack).
      if (datagram.group === 0 && matcher.malformed(datagram.data, datagram.sender, err)) return;
      if (whole) whole.deliver(datagram);
      else if (this.#messages?.taking) this.#messages.deliver(new QueuedFailure(err, datagram));
      else this.#hold(new QueuedFailure(err, datagram), 1);
      return;
    }
    if (whole) {
      // claimAll, not claim() each: a dump takes its parts here a datagram at a time too.
      const unclaimed: ReceivedMessage[] = [];
      matcher.claimAll(messages, (msg) => unclaimed.push(msg));
      if (unclaimed.length === messages.length) whole.deliver(datagram);
      else if (unclaimed.length !== 0) {
        const stream = this.#messagesStream();
        for (const msg of unclaimed) stream.deliver(msg);
      }
      return;
    }
    if (this.#messages?.taking) {
      if (datagram.group !== 0 && !matcher.echoing) {
        // Multicast answers no request but an NLM_F_ECHO one: every message is the stream's,
        // handed over without a claim (a map lookup and two calls each) for a monitor's event.
        const stream = this.#messages;
        for (let i = 0; i < messages.length; i++) stream.deliver(messages[i]);
      } else {
        matcher.claimAll(messages, this.#deliverUnclaimed);
      }
      return;
    }
    // No consumer is open: a request's read took this along. What no request claims waits,
    // whole, for the first to open. A request loop's answers are all claimed: they are collected
    // in an array kept for it, unless a claim reads on and dispatches within this one (a dump's
    // end asks for reading).
    let unclaimed: readonly ReceivedMessage[];
    if (this.#collecting) {
      const own: ReceivedMessage[] = unclaimed = [];
      matcher.claimAll(messages, (msg) => void own.push(msg));
    } else {
      this.#collecting = true;
      matcher.claimAll(messages, this.#collectUnclaimed);
      this.#collecting = false; // left true if a claim threw: every later call allocates
      const scratch = this.#unclaimed;
      unclaimed = scratch.length === 0 ? NO_MESSAGES : scratch.slice();
      scratch.length = 0;
    }
    if (unclaimed.length === 0 && messages.length !== 0) return;
    this.#hold(
      { datagram, messages: unclaimed, whole: unclaimed.length === messages.length },
      Math.max(unclaimed.length, 1),
    );
  };

  /**
   * Keeps `entry` (`count` messages) for the first consumer to open. Capped as the message
   * stream is with no iteration open: at the backlog, one overrun stands for the run dropped.
   * Capped in bytes too ({@linkcode BACKLOG_BYTES_PER_ITEM}): a program that only makes requests
   * reads whatever another process sends its port, datagrams of up to 400 KB unprivileged.
   */
  #hold(entry: Unowned, count: number): void {
    const unowned = this.#unowned;
    const bytes = "datagram" in entry ? entry.datagram.data.byteLength : 0; // an overrun: none
    if (
      this.#unownedCount + count > this.#backlog
      || this.#unownedBytes + bytes > this.#backlog * BACKLOG_BYTES_PER_ITEM
    ) {
      if (unowned.last !== OVERRUN_DATAGRAM) {
        this.#overruns++;
        unowned.push(OVERRUN_DATAGRAM);
      }
      return;
    }
    unowned.push(entry);
    this.#unownedCount += count;
    this.#unownedBytes += bytes;
  }

  /**
   * Hands what was read while no consumer was open to `to`, the first to open since, in order:
   * as messages to `messages()`, `batches()` and `listen()`, as datagrams to `datagrams()` and
   * `cursor()` (what is left of a datagram that also held answers goes to `messages()`, as it
   * would have if they had been open when it was read).
   */
  #adopt(
    to:
      | Stream<ReceivedMessage>
      | Stream<ReceivedDatagram>
      | Stream<ReceivedDatagram | DatagramInPlace>,
  ): void {
    const unowned = this.#unowned;
    if (unowned.length === 0) return;
    const messages = this.#messagesStream();
    const whole = to === messages ? undefined : to as Stream<ReceivedDatagram>;
    for (let entry = unowned.shift(); entry !== undefined; entry = unowned.shift()) {
      if (entry === OVERRUN_DATAGRAM) {
        if (whole) whole.adopt(OVERRUN_DATAGRAM);
        else messages.adopt(overrunMessage());
      } else if (entry instanceof QueuedFailure) {
        if (whole) whole.adopt(entry.datagram);
        else messages.adopt(entry);
      } else {
        const { datagram, messages: unclaimed, whole: all } = entry as Unclaimed;
        if (whole && all) whole.adopt(datagram);
        else for (const msg of unclaimed) messages.adopt(msg);
      }
    }
    this.#unownedCount = this.#unownedBytes = 0;
  }

  /** Only while the messages' stream takes (see #dispatchUnclaimed): it is made. */
  readonly #deliverUnclaimed = (msg: ReceivedMessage): void => this.#messages!.deliver(msg);
  /** The messages of one datagram no request claimed, while no consumer is open (#dispatch). */
  readonly #unclaimed: ReceivedMessage[] = [];
  /** #unclaimed is being filled. */
  #collecting = false;
  readonly #collectUnclaimed = (msg: ReceivedMessage): void => void this.#unclaimed.push(msg);

  #overrun(err: SyscallError): void {
    this.#overruns++;
    if (err.code === "EMSGSIZE") this.#matcher.lost(err);
    else this.#matcher.overrun(err);
    if (this.#cursors?.active) this.#cursors.deliver(OVERRUN_DATAGRAM);
    else if (this.#unframed || this.#datagrams?.active) {
      this.#datagramsStream().deliver(OVERRUN_DATAGRAM);
    } else if (this.#messages?.taking) this.#messages.deliver(overrunMessage());
    else this.#hold(OVERRUN_DATAGRAM, 1);
  }

  #fail(err: unknown): void {
    this.#state.failure = err;
    this.#matcher.failAll(err);
    this.#messages?.fail(err);
    this.#datagrams?.fail(err);
    this.#cursors?.fail(err);
  }
}
