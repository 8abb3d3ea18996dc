/**
 * Reply matching, with no I/O: which request a received message answers, which answers belong
 * to abandoned requests (and are discarded), what an overrun may have cost, and whose turn it is
 * to run a dump (the kernel runs one dump per socket). Synchronous: the read loop feeds it
 * messages, and it calls back into the requests it holds.
 *
 * @module
 */

import {
  NLM_F_ACK_TLVS,
  NLM_F_DUMP_INTR,
  NLM_F_MULTI,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSG_MIN_TYPE,
  NLMSG_NOOP,
} from "./_constants.ts";
import { droppedSource } from "./_dropped.ts";
import { HOST_LITTLE_ENDIAN } from "./_endian.ts";
import { errnoDescription } from "./_errno.ts";
import { methodsOf, perEventCode } from "./_per_event.ts";
import { sharedWords } from "./_view.ts";
import { decodeAck } from "./ack.ts";
import { NetlinkError, type NetlinkErrorInit, SyscallError } from "./errors.ts";
import type { ReceivedMessage } from "./message.ts";

/** A request waiting for its answer; dumps stream their parts through `push`. */
export interface Pending {
  readonly seq: number;
  /** The port replies must come from: 0 is the kernel. */
  readonly from: number;
  /** A true dump (NLM_F_DUMP): the kernel never drops its parts. */
  readonly dump: boolean;
  /**
   * NLMSG_DONE (flagged NLM_F_MULTI) ends it: any dump bit was set (NLM_F_ROOT or NLM_F_MATCH
   * alone start a dump too, and dumps are not acked).
   */
  readonly endsAtDone: boolean;
  /**
   * A dump asked of the kernel without NLM_F_ACK, which the kernel may run as a plain request
   * (a type it has no dump for, whatever the flags: nftables' NFT_MSG_GETGEN, a module's
   * operation): answered with one message without NLM_F_MULTI and nothing after it, no
   * NLMSG_DONE. Once such a part has come (see {@linkcode plainReply}), a read that finds the
   * receive queue empty ends it ({@linkcode Matcher.drained}): a dump the kernel runs has a part
   * queued from the request's send until its NLMSG_DONE is read (netlink_recvmsg queues the next
   * as it hands out the last), so none runs. A part without NLM_F_MULTI alone does not end it:
   * the dumps of genetlink families built on genlmsg_iput() (netdev's) have none. With
   * NLM_F_ACK, the ack after the reply ends it.
   */
  readonly endsAtPlainReply?: boolean;
  /** A data part without NLM_F_MULTI came for a request that {@linkcode endsAtPlainReply}. */
  plainReply?: boolean;
  /** NLM_F_ECHO was set: the kernel's copy of a notification comes tagged with its group. */
  readonly echo: boolean;
  /** Reading for it pauses while this says so (a dump() whose consumer lags). */
  paused?(): boolean;
  interrupted: boolean;
  /** The kernel dropped messages while this was pending: its answer may be among them. */
  atRisk?: SyscallError;
  /** Delivers one reply part. */
  push(message: ReceivedMessage): void;
  /**
   * Delivers the reply parts messages[start, end), in order, in one call (the consecutive parts
   * of one datagram); `messages` is the callee's to keep and is never changed. Without it, each
   * part goes through `push`.
   */
  pushRun?(messages: readonly ReceivedMessage[], start: number, end: number): void;
  /**
   * Delivers a datagram whose first `count` messages, `data[0, end)`, are all data parts of this
   * request (see {@linkcode Matcher.claimDatagram}), as bytes: the callee's to keep (`end` is
   * short of its length when the request's NLMSG_DONE follows them). Without it, parts come as
   * messages.
   */
  pushDatagram?(data: Uint8Array, count: number, end: number): void;
  /** Receives the success ack's (or NLMSG_DONE's) fields: a warning, a cookie. */
  acked?(ack: NetlinkErrorInit): void;
  /** Ends the request: with an error, or successfully when `error` is undefined. */
  finish(error?: unknown): void;
  /**
   * Ends it with `error` at once (the socket closed, or reading failed): what was received for
   * it and not taken yet is dropped, not handed out first. Without it, `finish` does.
   */
  failNow?(error: unknown): void;
}

/** An answer still owed to a request nobody waits for any more. */
interface Abandoned {
  /** NLMSG_DONE ends it (a dump); otherwise the ack does. */
  readonly endsAtDone: boolean;
  /** From the kernel: it will answer (unless an overrun took the answer). */
  readonly kernel: boolean;
  /** It holds the socket's dump slot until its NLMSG_DONE is read. */
  readonly holdsDumpSlot: boolean;
  /** An overrun happened after it was sent: its answer may be lost. */
  atRisk: boolean;
}

/**
 * Answers from user-space peers that are still expected after their request was abandoned. A
 * peer may never answer, so only this many are remembered (the oldest is forgotten first).
 */
export const ABANDONED_PEER_LIMIT = 1024;
/**
 * The kernel always answers (or an overrun says it could not), so its abandoned requests are
 * remembered until answered; this bound only guards against a kernel side that vanished.
 */
export const ABANDONED_KERNEL_LIMIT = 65_536;

/**
 * The outcome an NLMSG_ERROR or NLMSG_DONE reports. A malformed extended ack (or echoed
 * request) does not hide the errno in front of it: that still decides the outcome.
 */
function ackOutcome(msg: ReceivedMessage): { ack?: NetlinkErrorInit; error?: unknown } {
  try {
    const ack = decodeAck(msg);
    return ack.errno === 0 ? { ack } : { error: new NetlinkError(ack) };
  } catch (err) {
    const { payload } = msg;
    if (payload.byteLength < 4) return { error: err };
    const value = new DataView(payload.buffer, payload.byteOffset, 4).getInt32(
      0,
      HOST_LITTLE_ENDIAN,
    );
    const errno = msg.type === NLMSG_ERROR ? Math.abs(value) : value < 0 ? -value : 0;
    if (errno === 0) return { ack: { errno, requestSeq: msg.seq } };
    const why = err instanceof Error ? err.message : String(err);
    return {
      error: new NetlinkError({
        errno,
        requestSeq: msg.seq,
        detail: `${errnoDescription(errno)} (the extended ack with it was malformed: ${why})`,
      }),
    };
  }
}

/** Starts a queued dump once the socket's dump slot is its. */
export interface DumpStarter {
  /** Sends the dump request; the slot is the starter's until release(). */
  start(): void;
}

/**
 * The pending and abandoned tables, dispatch of received messages, overruns and the dump slot.
 */
export class Matcher {
  readonly #pending = new Map<number, Pending>();
  readonly #abandoned = new Map<number, Abandoned>();
  #abandonedPeers = 0;
  /**
   * An entry may be at risk (an overrun since the last drain, an optional abandon, or a kernel
   * request failed by a lost or garbled datagram) or end (a plain reply to a dump): only then
   * does {@linkcode drained}, which runs at the end of every read, walk the tables.
   */
  #atRisk = false;
  /**
   * The overrun reported since the receive queue was last read empty. Until then the kernel keeps
   * the socket congested (NETLINK_S_CONGESTED): it drops every answer it sends it, and reports
   * no further ENOBUFS for them. A request sent meanwhile is at risk from the start.
   */
  #congested: SyscallError | undefined;
  /** Requests put at risk as they were sent, while the socket was congested. */
  readonly #sentCongested = new Set<Pending>();
  #seq: number;
  #echoes = 0;
  /** The sequence number whose dump runs in the kernel now (0: none). */
  #dumpSlot = 0;
  readonly #dumpQueue: DumpStarter[] = [];
  /** The socket's port ID: the nlmsg_pid of the kernel's echoes of its own requests. */
  readonly #portid: number | undefined;

  /**
   * Sequence numbers start at a random point, as libnl's and the kernel's own do (they need
   * telling apart, not secrecy: Math.random, as crypto's first use cost a cold Bun process some
   * 0.3 ms before its first request, measured), below 2^30: a word read from a typed array is
   * an int32 for JavaScriptCore only below 2^31, and every header of a dump holds its sequence
   * number, which claimDatagram's walk and the cursor's next() read per message. Above it (half
   * of all starts, before), Bun compiled those reads for numbers that may not be int32s: a cold
   * 100,000-route `cursor()` dump ran some 30,000 more instructions per datagram in its first
   * tens of datagrams and 5,600 later (callgrind, bench/cold_dump_counts.sh). `nextSeq()` still
   * counts through all 32 bits. `portid` is the socket's port ID; without it, any notification
   * with a pending NLM_F_ECHO request's sequence number answers it.
   */
  constructor(seq = (Math.random() * 0x4000_0000) >>> 0 || 1, portid?: number) {
    this.#seq = seq;
    this.#portid = portid;
  }

  /** Requests waiting for their answers. */
  get pending(): ReadonlyMap<number, Pending> {
    return this.#pending;
  }

  /** How many abandoned requests still expect an answer. */
  get abandoned(): number {
    return this.#abandoned.size;
  }

  /**
   * Whether a request with NLM_F_ECHO is pending (multicast datagrams may answer it). Kept by the
   * matcher as requests come and go (read it, never set it), as {@linkcode idle} is.
   */
  echoing = false;

  /** A dump waits for the slot: the running one must be read to its end, paused or not. */
  get dumpsQueued(): boolean {
    return this.#dumpQueue.length > 0;
  }

  /** The dump running in the kernel was abandoned: its rest is owed, to be read and discarded. */
  get dumpAbandoned(): boolean {
    return this.#dumpSlot !== 0 && this.#abandoned.has(this.#dumpSlot);
  }

  /**
   * No request is pending, no dump runs in the kernel and none waits for the slot: then neither
   * {@linkcode dumpsQueued} nor {@linkcode dumpAbandoned} holds and {@linkcode pending} is empty.
   * A field kept by the matcher as requests and dumps come and go (read it, never set it), not a
   * getter: the read loop asks it some 9 times per event of a monitor, each a call into code gone
   * cold since the last event in the runtimes' lower tiers.
   */
  idle = true;

  /**
   * No request is pending and no dump waits for the slot (one running may still be read to its
   * end): what the read loop reads then is for streams only. Asked once per read; kept as
   * {@linkcode idle} is.
   */
  unrequested = true;

  /** Brings {@linkcode idle}, {@linkcode unrequested} and {@linkcode echoing} up to date. */
  #changed(): void {
    const unrequested = this.#pending.size === 0 && this.#dumpQueue.length === 0;
    this.unrequested = unrequested;
    this.idle = unrequested && this.#dumpSlot === 0;
    this.echoing = this.#echoes > 0;
  }

  /**
   * Something settles only when a read finds the receive queue empty ({@linkcode drained}): an
   * answer at risk, or a kernel dump abandoned with the dump slot. A read loop that
   * waits for data would not read until more comes.
   */
  get drainOwed(): boolean {
    return this.#atRisk;
  }

  /** The next free sequence number (never 0, never one still in use). */
  nextSeq(): number {
    do this.#seq = (this.#seq + 1) >>> 0 || 1; while (
      this.#pending.has(this.#seq) || this.#abandoned.has(this.#seq)
    );
    return this.#seq;
  }

  /** Registers a request before it is sent. */
  add(pending: Pending): void {
    this.#pending.set(pending.seq, pending);
    if (pending.echo) this.#echoes++;
    this.#changed();
    // Its answer may be dropped without a word (see #congested): it fails, rather than waits for
    // good, if it has not come once the queue has been read empty.
    if (this.#congested !== undefined && !pending.dump && pending.from === 0) {
      pending.atRisk = this.#congested;
      this.#sentCongested.add(pending);
      this.#atRisk = true;
    }
  }

  /** Whether `pending` is still registered. */
  has(pending: Pending): boolean {
    return this.#pending.get(pending.seq) === pending;
  }

  /**
   * Unregisters a request that got its answer (or never will: it was not sent). False if it was
   * no longer registered.
   */
  remove(pending: Pending): boolean {
    if (this.#pending.get(pending.seq) !== pending) return false;
    this.#pending.delete(pending.seq);
    this.#sentCongested.delete(pending);
    if (pending.echo) this.#echoes--;
    this.#changed();
    return true;
  }

  /**
   * Unregisters a request whose answer is still owed (timeout, abort, an iteration left
   * early): that answer is discarded when it comes. A kernel dump keeps the dump slot until then.
   * `optional`: an answer comes only if the request failed (a batch's message without
   * NLM_F_ACK); the kernel's, which it queues as it runs the request, is no longer expected once
   * the receive queue has been read empty.
   */
  abandon(pending: Pending, optional = false): void {
    if (!this.remove(pending)) return;
    const kernel = pending.from === 0;
    const holdsDumpSlot = this.#dumpSlot === pending.seq;
    // A dump the kernel runs has a part queued from the moment it takes the request (inside the
    // send) until its NLMSG_DONE has been read: it queues the next part as a read takes the
    // last. So a kernel dump whose NLMSG_DONE has not come, once a read finds the queue empty,
    // was run as a plain request: a type with no dump, which answers nothing without NLM_F_ACK
    // or one message and no NLMSG_DONE (nftables' NFT_MSG_GETGEN). The slot is free then, not
    // held for good (drained()).
    const atRisk = kernel && (optional || holdsDumpSlot);
    this.#abandoned.set(pending.seq, {
      endsAtDone: pending.endsAtDone,
      kernel,
      holdsDumpSlot,
      atRisk,
    });
    if (atRisk) this.#atRisk = true;
    if (!kernel && ++this.#abandonedPeers > ABANDONED_PEER_LIMIT) this.#forgetOldest(false);
    if (this.#abandoned.size - this.#abandonedPeers > ABANDONED_KERNEL_LIMIT) {
      this.#forgetOldest(true);
    }
  }

  /**
   * Runs `starter` now if no dump runs on the socket, else when the running one (and those
   * queued before it) have ended. Returns a function that withdraws a starter still queued.
   */
  whenDumpSlotFree(starter: DumpStarter): () => void {
    if (this.#dumpSlot === 0 && this.#dumpQueue.length === 0) {
      starter.start();
    } else {
      this.#dumpQueue.push(starter);
      this.#changed();
    }
    return () => {
      const i = this.#dumpQueue.indexOf(starter);
      if (i >= 0) {
        this.#dumpQueue.splice(i, 1);
        this.#changed();
      }
    };
  }

  /** The dump with sequence number `seq` runs in the kernel now (it was sent). */
  takeDumpSlot(seq: number): void {
    this.#dumpSlot = seq;
    this.#changed();
  }

  /** The dump `seq` ended, or was never sent: the next queued dump starts. */
  releaseDumpSlot(seq: number): void {
    if (this.#dumpSlot !== seq) return;
    this.#dumpSlot = 0;
    this.#changed();
    this.#startNextDump();
  }

  /**
   * Hands `msg` to the request it answers, or discards it for an abandoned one. Returns false
   * when no request claims it. Only unicast messages from the request's destination answer it,
   * but for the kernel's group-tagged copy of a notification a request with NLM_F_ECHO asked for:
   * its nlmsg_pid is this socket's port (the kernel's notifications carry the port and sequence
   * number of the request that caused them, so another process's change, made with our next
   * sequence number, multicasts one that differs from our echo only there).
   */
  claim(msg: ReceivedMessage): boolean {
    return this.#claim(msg, this.#pending.get(msg.seq));
  }

  /** {@linkcode claim}, given the request pending with the message's sequence number. */
  #claim(msg: ReceivedMessage, pending: Pending | undefined): boolean {
    if (msg.group !== 0) {
      if (
        pending?.echo && msg.sender === 0 && pending.from === 0
        && (this.#portid === undefined || msg.portid === this.#portid)
      ) {
        pending.push(msg);
        return true;
      }
      return false;
    }
    if (pending && pending.from === msg.sender) {
      this.#answer(pending, msg);
      return true;
    }
    const abandoned = this.#abandoned.get(msg.seq);
    if (abandoned === undefined || (msg.sender === 0) !== abandoned.kernel) return false;
    // A non-dump's multipart reply has its NLMSG_DONE before the ack: only the ack ends it.
    if (msg.type === NLMSG_ERROR || (msg.type === NLMSG_DONE && abandoned.endsAtDone)) {
      this.#abandoned.delete(msg.seq);
      if (!abandoned.kernel) this.#abandonedPeers--;
      if (abandoned.holdsDumpSlot) this.releaseDumpSlot(msg.seq);
    }
    return true;
  }

  /**
   * Claims the messages of one datagram, in order, as {@linkcode claim} does each, and passes
   * those no request claims to `unclaimed`. Consecutive data parts for a request that takes runs
   * (`pushRun`: a dump) are handed over in one call: a dump datagram holds hundreds.
   */
  claimAll(messages: readonly ReceivedMessage[], unclaimed: (msg: ReceivedMessage) => void): void {
    const count = messages.length;
    for (let i = 0; i < count;) {
      const msg = messages[i];
      const pending = this.#pending.get(msg.seq);
      if (pending?.pushRun !== undefined && msg.group === 0 && pending.from === msg.sender) {
        // A run ends at a control message (NLMSG_DONE, an ack...): claim() decides what that is.
        const seq = msg.seq;
        let flags = 0;
        let common = -1;
        let stop = i;
        for (; stop < count; stop++) {
          const part = messages[stop];
          if (part.seq !== seq || part.type < NLMSG_MIN_TYPE || part.group !== 0) break;
          if (part.sender !== msg.sender) break;
          flags |= part.flags;
          common &= part.flags;
        }
        if (stop > i) {
          if (flags & NLM_F_DUMP_INTR) pending.interrupted = true;
          if (!(common & NLM_F_MULTI) && pending.endsAtPlainReply) this.#plainReply(pending);
          pending.pushRun(messages, i, stop);
          i = stop;
          continue;
        }
      }
      if (!this.#claim(msg, pending)) unclaimed(msg);
      i++;
    }
  }

  /**
   * Hands a unicast datagram from `sender` to the request whose `pushDatagram` takes it, as
   * bytes, when every message in it is a data part of that request: what {@linkcode claimAll}
   * would do with its messages, without decoding them into objects. From the kernel, the last
   * may be the dump's NLMSG_DONE saying it succeeded and nothing more (no error, no extended
   * ack): the parts before it are handed over, and the request ends, as claim() would end it. A
   * dump's last datagram then needs no decode either (nor does the code that decodes and claims
   * messages run at all in a cold process's one-shot dump: some 3.7 KB of bytecode on Bun,
   * which JavaScriptCore makes at a function's first call). False (nothing done) for any other
   * datagram, which the caller then decodes and passes to claimAll: one with another control
   * message (an ack, an NLMSG_DONE with an error or attributes), parts of other requests, or a
   * malformed header (or one not 4-byte aligned in its buffer, which no transport hands out, or
   * not a whole number of words long, which the kernel never sends).
   *
   * From the kernel (`sender` 0) only the last message's type is checked: netlink_dump
   * (net/netlink/af_netlink.c) fills a datagram with what one call of one dump's callback put
   * there, messages of its family's types, then NLMSG_DONE if the dump ended and it fits; an ack
   * is a datagram of its own. A peer's datagram may hold anything: each message's type is.
   */
  claimDatagram(data: Uint8Array, sender: number): boolean {
    const end = data.byteLength;
    const base = data.byteOffset;
    // Whole words only: the kernel pads every message to NLMSG_ALIGNTO, a word (nlmsg_put).
    if (end < NLMSG_HDRLEN || ((base | end) & 3) !== 0) return false;
    // The headers as host-order words: a typed array's element is read inline, where a DataView
    // method is a call into the runtime until the code is optimized, which a one-shot dump's
    // first datagrams are not (the cold walk cost Deno 2-3 ms more through a DataView, measured).
    const words = sharedWords(data.buffer);
    const first = base >> 2;
    const seq = words[first + 2];
    const pending = this.#pending.get(seq);
    if (pending?.pushDatagram === undefined || pending.from !== sender) return false;
    // The constants as locals: each read of an imported binding in the loop is a lookup in its
    // module's scope (and a check that it is initialized) until the code is optimized, which a
    // one-shot dump's first datagrams are not (the walk of 100,000 messages in 163 datagrams, as
    // in a cold dump: some 20% faster on Bun, measured).
    const le = HOST_LITTLE_ENDIAN, headerLength = NLMSG_HDRLEN, minType = NLMSG_MIN_TYPE;
    const peer = sender !== 0;
    /** The union of every message's nlmsg_type and nlmsg_flags word, and their intersection. */
    let typesAndFlags = 0;
    let commonTypesAndFlags = -1;
    /** The last message's nlmsg_type and nlmsg_flags word, and the word its header starts at. */
    let typeAndFlags = 0;
    let lastAt = first;
    let count = 0;
    // By word index, not byte offset: where the next message starts and whether this one ends
    // within the datagram take one sum and one comparison (the loop runs for every message of a
    // dump: see the section of bench/RESULTS.md's twenty-third round on buncold12).
    const stop = first + (end >> 2);
    for (let at = first; at < stop; count++) {
      lastAt = at;
      // Negated: a word past the view's end (a buffer that grew since) is undefined, and fails.
      // A length within what is left holds a whole header, so the words below are the message's.
      const length = words[at];
      // The words the length rounds up to (NLMSG_ALIGNTO is a word), from length - 1: no sum
      // near 2^32 wraps to a step of none.
      const next = at + 1 + ((length - 1) >>> 2);
      if (!(length >= headerLength && next <= stop)) return false;
      if (words[at + 2] !== seq) return false;
      typeAndFlags = words[at + 1];
      if (peer && (le ? typeAndFlags & 0xffff : typeAndFlags >>> 16) < minType) return false;
      typesAndFlags |= typeAndFlags;
      commonTypesAndFlags &= typeAndFlags;
      at = next;
    }
    const last = (lastAt - first) << 2;
    // The last message's type: NLMSG_DONE, where the kernel puts it (or an ack, a datagram alone).
    // (A peer's control message failed the walk already.)
    const done = (le ? typeAndFlags & 0xffff : typeAndFlags >>> 16) < minType;
    if (done && !this.#doneSucceeded(words, lastAt, pending)) return false;
    // NLMSG_DONE's flags count, as claim() counts them (an interrupted dump flags it too).
    const flags = le ? typesAndFlags >>> 16 : typesAndFlags & 0xffff;
    if (flags & NLM_F_DUMP_INTR) pending.interrupted = true;
    if (done) {
      // Ended here, whatever the parts' flags (claim() would mark a plain reply, then end it).
      if (last > 0) pending.pushDatagram(data, count - 1, last);
      this.#end(pending);
      return true;
    }
    const common = le ? commonTypesAndFlags >>> 16 : commonTypesAndFlags & 0xffff;
    if (!(common & NLM_F_MULTI) && pending.endsAtPlainReply) this.#plainReply(pending);
    pending.pushDatagram(data, count, end);
    return true;
  }

  /**
   * Whether the control message whose header starts at word `at` of `words` is an NLMSG_DONE
   * that ends `pending` with success and says nothing else: what claim() would make of it, an
   * ack of errno 0 (decodeAck: an empty payload, or a non-negative int) with no attributes and
   * nobody to hand it to.
   */
  #doneSucceeded(words: Uint32Array, at: number, pending: Pending): boolean {
    const typeAndFlags = words[at + 1];
    const le = HOST_LITTLE_ENDIAN;
    if ((le ? typeAndFlags & 0xffff : typeAndFlags >>> 16) !== NLMSG_DONE) return false;
    if (!pending.endsAtDone || pending.acked !== undefined) return false;
    if (((le ? typeAndFlags >>> 16 : typeAndFlags & 0xffff) & NLM_F_ACK_TLVS) !== 0) return false;
    const length = words[at];
    return length === NLMSG_HDRLEN || (length === NLMSG_HDRLEN + 4 && (words[at + 4] | 0) >= 0);
  }

  /**
   * The kernel dropped messages for this socket (ENOBUFS). Dump parts are never dropped (the
   * kernel fills dumps only when there is room), and only the kernel's answers are (a peer's
   * send fails instead), so the kernel's plain answers are at risk. The kernel reports ENOBUFS
   * before handing out what was queued already, so a request fails only if its answer is not
   * there once the queue has been read to the end: {@linkcode drained}. So do those sent from now
   * until then, as the kernel drops their answers without a word ({@linkcode add}).
   */
  overrun(err: SyscallError): void {
    this.#atRisk = true;
    this.#congested = err;
    for (const pending of this.#pending.values()) {
      if (!pending.dump && pending.from === 0) pending.atRisk = err;
    }
    for (const abandoned of this.#abandoned.values()) {
      if (abandoned.kernel && !abandoned.endsAtDone) abandoned.atRisk = true;
    }
  }

  /**
   * The receive queue is empty: an answer at risk that has not come was lost. Such requests
   * fail; such abandoned answers are no longer expected. A dump answered with a plain reply
   * ({@linkcode Pending.endsAtPlainReply}) ends. `stale`: it was found empty before
   * what was read since (held, then dispatched): an abandoned dump's slot waits for a read that
   * finds it empty now, which shows no dump runs.
   */
  drained(stale = false): void {
    this.#congested = undefined;
    if (!this.#atRisk) return;
    this.#atRisk = false;
    for (const [seq, abandoned] of this.#abandoned) {
      if (!abandoned.atRisk) continue;
      if (abandoned.holdsDumpSlot && stale) {
        this.#atRisk = true; // for the next drain found now
        continue;
      }
      this.#abandoned.delete(seq);
      if (abandoned.holdsDumpSlot) this.releaseDumpSlot(seq);
    }
    for (const pending of [...this.#pending.values()]) {
      if (pending.plainReply) {
        // Its reply may have come before the dump's first read found the queue empty.
        if (stale) this.#atRisk = true; // for the next drain found now
        else this.#end(pending); // a plain request's reply: the whole answer
        continue;
      }
      if (!pending.atRisk) continue;
      // Found empty before it was sent, perhaps: its answer may be among what is read next.
      if (stale && this.#sentCongested.has(pending)) {
        this.#atRisk = true; // for the next drain found now
        continue;
      }
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

  /**
   * A datagram was dropped whole: it was longer than the transport's receive buffer (EMSGSIZE).
   * The requests it may have answered fail now with `err`, as waiting could mean waiting
   * forever, or resolving without a lost reply; what else comes for them (an ack after the lost
   * reply) is discarded. Those are the requests to its sender when the transport says who that
   * was ({@linkcode droppedSource}: a peer's datagram cannot fail a request to the kernel or to
   * another peer), else any; never dumps from the kernel, whose datagrams are never that long
   * (netlink_recvmsg caps them at 32 KiB). A multicast datagram answers only a request with
   * NLM_F_ECHO, to the kernel.
   */
  lost(err: SyscallError): void {
    const source = droppedSource(err);
    this.#failOwed(err, (pending) => {
      if (pending.dump && pending.from === 0) return false;
      if (source === undefined) return true;
      if (pending.from !== source.sender) return false;
      return source.group === 0 || (pending.echo && source.sender === 0);
    });
  }

  /**
   * A unicast datagram `data` from port `sender` was malformed (`err` says how): the answers it
   * may have held are lost, so the requests it may have answered fail now with `err`, as for
   * {@linkcode lost}, rather than wait for an end that may never come (a faulty module that sends
   * garbage and no NLMSG_DONE) or end without what it held. What else comes for them is
   * discarded. From a user-space peer: every request sent to it. From the kernel: the request
   * its first header's sequence number names, when it holds a whole header (that word is read
   * at its place whatever the lengths say, as pyroute2 routes a datagram; mdlayher/netlink fails
   * the one request a Conn waits for); none when that number is an abandoned request's (the
   * garbage is its answer's); else every request to the kernel (no header names one: any may
   * have lost its answer). A dump the kernel still runs keeps the socket's dump slot until its
   * NLMSG_DONE, or until a read finds the queue empty (none runs then).
   *
   * True when the datagram was taken as requests' answers: it failed one, or it is an abandoned
   * request's (discarded, as the rest of its answers are). The error is then theirs alone, as a
   * well-formed answer is its request's alone; false when it answered none (the stream's).
   */
  malformed(data: Uint8Array, sender: number, err: unknown): boolean {
    if (sender !== 0) return this.#failOwed(err, (pending) => pending.from === sender);
    if (data.byteLength >= NLMSG_HDRLEN) {
      const seq = new DataView(data.buffer, data.byteOffset, NLMSG_HDRLEN).getUint32(
        8,
        HOST_LITTLE_ENDIAN,
      );
      const named = this.#pending.get(seq);
      if (named?.from === 0) return this.#failOwed(err, (pending) => pending === named);
      if (this.#abandoned.get(seq)?.kernel) return true;
    }
    return this.#failOwed(err, (pending) => pending.from === 0);
  }

  /**
   * Fails the pending requests `which` selects with `err`, discarding what still comes; true
   * when it failed any.
   */
  #failOwed(err: unknown, which: (pending: Pending) => boolean): boolean {
    let failed = false;
    for (const pending of [...this.#pending.values()]) {
      if (!which(pending) || !this.has(pending)) continue;
      failed = true;
      pending.finish(err);
      if (this.#abandoned.has(pending.seq)) continue; // the request abandoned it already
      const kernel = pending.from === 0;
      // The kernel's answers come while the queue is read: once it is empty, none is owed.
      // A kernel dump may still run: its slot is free at its NLMSG_DONE, or once the queue is
      // read empty (see abandon()).
      this.#abandoned.set(pending.seq, {
        endsAtDone: pending.endsAtDone,
        kernel,
        holdsDumpSlot: this.#dumpSlot === pending.seq,
        atRisk: kernel,
      });
      if (kernel) this.#atRisk = true; // drained() forgets it once the queue is read
      if (!kernel && ++this.#abandonedPeers > ABANDONED_PEER_LIMIT) this.#forgetOldest(false);
    }
    return failed;
  }

  /** Ends every pending request with `error` (close, or a read that failed for good). */
  failAll(error: unknown): void {
    for (const pending of [...this.#pending.values()]) {
      if (pending.failNow) pending.failNow(error);
      else pending.finish(error);
    }
    this.#dumpQueue.length = 0;
    this.#changed();
  }

  #answer(pending: Pending, msg: ReceivedMessage): void {
    if (msg.flags & NLM_F_DUMP_INTR) pending.interrupted = true;
    if (msg.type === NLMSG_ERROR || (msg.type === NLMSG_DONE && pending.endsAtDone)) {
      const { ack, error } = ackOutcome(msg);
      if (ack) pending.acked?.(ack);
      this.#end(pending, error);
      return;
    }
    // A multipart reply's NLMSG_DONE (flagged NLM_F_MULTI) precedes the ack; without the flag it
    // is data (the connector sends its messages with that type).
    if (msg.type === NLMSG_NOOP || (msg.type === NLMSG_DONE && msg.flags & NLM_F_MULTI)) return;
    pending.push(msg);
    if (pending.endsAtPlainReply && !(msg.flags & NLM_F_MULTI) && msg.type >= NLMSG_MIN_TYPE) {
      this.#plainReply(pending);
    }
  }

  /** `pending` got the last of its answer. */
  #end(pending: Pending, error?: unknown): void {
    pending.finish(error);
    // The kernel's dump ended (or never started: a plain request): the next queued dump may run.
    if (this.#dumpSlot === pending.seq) this.releaseDumpSlot(pending.seq);
  }

  /** See {@linkcode Pending.endsAtPlainReply}: the next read that finds the queue empty ends it. */
  #plainReply(pending: Pending): void {
    pending.plainReply = true;
    this.#atRisk = true;
  }

  #forgetOldest(kernel: boolean): void {
    for (const [seq, abandoned] of this.#abandoned) {
      if (abandoned.kernel !== kernel) continue;
      this.#abandoned.delete(seq);
      if (!kernel) this.#abandonedPeers--;
      if (abandoned.holdsDumpSlot) this.releaseDumpSlot(seq);
      return;
    }
  }

  #startNextDump(): void {
    // A starter that fails to send releases the slot itself, which starts the next one.
    const next = this.#dumpQueue.shift();
    if (next === undefined) return;
    this.#changed();
    next.start();
  }
}

perEventCode(() => methodsOf(Matcher.prototype));
