/**
 * A cursor over the messages of one datagram that allocates nothing per message: for floods,
 * where building an object and a payload view for every message costs more than reading it.
 *
 * @module
 */

import { NLMSG_ALIGNTO } from "./_constants.ts";
import { HOST_LITTLE_ENDIAN as LE } from "./_endian.ts";
import { checkedLength } from "./_nlmsg_length.ts";
import { checkBytes, integerFieldError, shown } from "./_options.ts";
import { methodsOf, perEventCode } from "./_per_event.ts";
import { sharedView, sharedWords } from "./_view.ts";
import { NLMSG_HDRLEN } from "./message.ts";

/** The header words {@linkcode MessageCursor.next} reads, read through a DataView (its rare case). */
const HEADER = new Uint32Array(2);

/**
 * Walks one datagram's netlink messages in place, as the kernel's NLMSG_OK/NLMSG_NEXT do, and
 * with the same checks as {@linkcode decodeMessages}. Pure: no I/O, and no allocation per
 * message (per datagram at most one DataView, shared with the other decoders). One cursor can be
 * {@linkcode MessageCursor.reset reset} over datagram after datagram.
 *
 * The header fields and offsets describe the current message and are **valid until the next
 * {@linkcode MessageCursor.next} or {@linkcode MessageCursor.reset}**: copy what you keep. The
 * payload is `data[payloadOffset, payloadOffset + payloadLength)`, which
 * {@linkcode MessageCursor.payload} returns as a view (that one call allocates). Multi-byte
 * payload fields can be read with {@linkcode MessageCursor.view} at
 * `byteOffset + payloadOffset + n`.
 *
 * @example
 * ```ts
 * import { encodeMessages, MessageCursor } from "@netlink/netlink";
 * const data = encodeMessages([
 *   { type: 0x10, flags: 2, seq: 1, portid: 0, payload: new Uint8Array([1, 2, 3, 4]) },
 *   { type: 0x03, flags: 2, seq: 1, portid: 0, payload: new Uint8Array(4) },
 * ]);
 * const c = new MessageCursor();
 * let total = 0;
 * for (c.reset(data); c.next();) total += c.payloadLength;
 * console.log(total, c.type); // 8 3
 * ```
 */
export class MessageCursor {
  /**
   * The datagram being walked (empty before the first reset): its first {@linkcode length}
   * bytes.
   */
  data: Uint8Array = new Uint8Array(0);
  /** How many bytes of `data` the datagram is: `data.byteLength` unless reset said less. */
  length = 0;
  /** A DataView over all of `data.buffer`: `data[i]` is at `view` offset `byteOffset + i`. */
  view: DataView = new DataView(this.data.buffer);
  /** `data.byteOffset`, kept for reading through {@linkcode view}. */
  byteOffset = 0;
  /** The current message's nlmsg_type. */
  type = 0;
  /** Offset of the current message's header in `data`. */
  offset = 0;
  /** Offset of the current message's payload in `data`. */
  payloadOffset = 0;
  /** Payload bytes of the current message: nlmsg_len minus the header, without padding. */
  payloadLength = 0;
  #next = 0;

  /**
   * The current message's nlmsg_flags (0 while none is current). Read from its header when
   * asked, not stored by each {@linkcode next}: see {@linkcode portid}.
   */
  get flags(): number {
    return this.#header(6, false);
  }

  /**
   * The current message's nlmsg_seq (0 while none is current). Read from its header when asked,
   * not stored by each {@linkcode next}: see {@linkcode portid}.
   */
  get seq(): number {
    return this.#header(8, true);
  }

  /**
   * The current message's nlmsg_pid (the header's port ID, not the datagram's sender; 0 while none
   * is current). Read from the header when asked, as {@linkcode seq} and {@linkcode flags} are: few
   * walks read them, and next() stored them for every message. A port ID the kernel picked for any
   * socket of a process but its first is above 2^31, which JavaScriptCore does not hold as an
   * int32: stored, every message of a dump to such a socket paid for a double (callgrind,
   * bench/cold_dump_counts.sh with SECOND_SOCKET=1: 2,500 instructions more in each steady datagram
   * of a 100,000-route `cursor()` dump, 4 a message).
   */
  get portid(): number {
    return this.#header(12, true);
  }

  /**
   * The u32 (`word`) or u16 at byte `at` of the current message's header; 0 while no message is
   * current.
   */
  #header(at: number, word: boolean): number {
    // A current message's payload follows its header: reset() leaves none (payloadOffset 0).
    if (this.payloadOffset === 0) return 0;
    const where = this.byteOffset + this.offset + at;
    return word ? this.view.getUint32(where, LE) : this.view.getUint16(where, LE);
  }

  /**
   * `data.buffer`'s whole words in host order, or undefined when `data` does not start on a
   * 4-byte boundary: the headers are read as elements, inline, where a DataView method is a call
   * into the runtime until the code is optimized. A flood's first tens of thousands of messages
   * run in the lower tiers (V8's Ignition and Sparkplug, JavaScriptCore's baseline).
   */
  #words: Uint32Array | undefined = undefined;
  /** Index in {@linkcode #words} of `data`'s first word. */
  #first = 0;

  /**
   * Starts over at the beginning of `data` (no message is current until {@linkcode next}),
   * walking its first `length` bytes (default: all of it), so that a datagram at the start of a
   * larger buffer is walked without a view of its own. Returns the cursor, for
   * `for (c.reset(d); c.next();)`. Throws TypeError if `data` is no Uint8Array, RangeError if
   * `length` is not an integer from 0 to `data.byteLength`.
   */
  reset(data: Uint8Array, length: number = data.byteLength): this {
    if (!(Number.isInteger(length) && length >= 0 && length <= data.byteLength)) {
      checkBytes("reset(): data", data); // other data has no byteLength: checked here, off the hot path
      throw integerFieldError(
        length,
        `length must be an integer from 0 to the data's ${data.byteLength} bytes, got ${
          shown(length)
        }`,
      );
    }
    // The same buffer again (a reused receive buffer, a slab) keeps its view and words.
    const buffer = data.buffer;
    if (buffer !== this.data.buffer) {
      this.view = sharedView(buffer);
      this.#words = undefined;
    }
    const byteOffset = data.byteOffset;
    if ((byteOffset & 3) === 0) {
      this.#words ??= sharedWords(buffer);
      this.#first = byteOffset >> 2;
    } else {
      this.#first = -1;
    }
    this.data = data;
    this.length = length;
    this.byteOffset = byteOffset;
    this.#next = 0;
    this.payloadLength = this.payloadOffset = this.offset = 0;
    return this;
  }

  /**
   * Steps to the next message. Returns false when the datagram has no more. Throws
   * MalformedMessageError, with the offset, for a header whose nlmsg_len is below the header's
   * size or runs past the end, or for trailing bytes too short to be a header; the cursor then
   * stays at the end.
   */
  next(): boolean {
    let at = this.#next;
    let end = this.length;
    // At the end, a subclass may go on over the next datagram ({@linkcode advance}): here, not in
    // an override of next() that calls this one, which cost a call per message of a flood while
    // its code was still cold.
    while (at >= end) {
      if (!this.advance()) return false;
      at = this.#next;
      end = this.length;
    }
    const first = this.#first;
    let w = this.#words!;
    let i = first + (at >> 2);
    // The well-formed case checked here, written out: this runs once per message of a flood,
    // mostly while the code is still cold, where the call cost a third of the walk (measured).
    // A message starts 4-byte aligned in the datagram: with `data` aligned, its header is words,
    // when the two read here are among them (a resizable buffer grown since they were made may
    // hold a header across their end: words past it read undefined).
    let length = first >= 0 && end - at >= NLMSG_HDRLEN && i + 1 < w.length ? w[i] : 0;
    if (!(length >= NLMSG_HDRLEN && length <= end - at)) {
      // The rare case in a method of its own: a smaller next() costs less at its first call (Bun
      // makes a function's bytecode whole then) and is inlined into more callers' loops.
      length = this.#readHeader(at, end);
      w = HEADER;
      i = 0;
    }
    // nlmsg_type, the u16 before nlmsg_flags, in a read of both.
    const typeAndFlags = w[i + 1];
    this.type = LE ? typeAndFlags & 0xffff : typeAndFlags >>> 16;
    this.offset = at;
    this.payloadOffset = at + NLMSG_HDRLEN;
    this.payloadLength = length - NLMSG_HDRLEN;
    this.#next = at + length + (-length & (NLMSG_ALIGNTO - 1)); // alignMessage(), written out
    return true;
  }

  /**
   * next() for data off a 4-byte boundary, a malformed header, or a header not wholly among the
   * words: reads the header at `at` through the DataView, which tracks the buffer's length, into
   * {@linkcode HEADER}, and returns its length; throws MalformedMessageError, saying what is
   * wrong, for a malformed one (the cursor then stays at the end).
   */
  #readHeader(at: number, end: number): number {
    const v = this.view;
    const base = this.byteOffset + at;
    const length = end - at >= NLMSG_HDRLEN ? v.getUint32(base, LE) : 0;
    if (length < NLMSG_HDRLEN || length > end - at) {
      this.#next = end;
      checkedLength(v, this.byteOffset, at, end); // throws
    }
    HEADER[1] = v.getUint32(base + 4, LE);
    return length;
  }

  /** The current message's payload as a view into `data` (allocates one view; no copy). */
  payload(): Uint8Array {
    return this.data.subarray(this.payloadOffset, this.payloadOffset + this.payloadLength);
  }

  /**
   * Called by {@linkcode next} at the end of the data: a subclass that walks datagram after
   * datagram resets the cursor over the next one here and returns true, or returns false when
   * there is none now. This class has none.
   */
  protected advance(): boolean {
    return false;
  }
}

/**
 * The cursor {@linkcode NetlinkSocket.cursor} yields: a {@linkcode MessageCursor} whose
 * `next()` goes on from one datagram to the next (read in place over the last one) while the
 * socket has more queued, and returns false when there is none now (the iteration's next step
 * waits for more), plus who sent the current one. One object per iteration. **What it shows, and
 * the bytes it walks, are valid only until `next()` moves past the current datagram's last
 * message (a new datagram starts at `offset` 0), or the iteration's next step.**
 *
 * @example
 * ```ts
 * import type { DatagramCursor } from "@netlink/netlink";
 * // Counts the messages a step of sock.cursor() walks, and the datagrams they came in.
 * const count = (c: DatagramCursor) => {
 *   let messages = 0, datagrams = 0;
 *   while (c.next()) {
 *     messages++;
 *     if (c.offset === 0) datagrams++;
 *   }
 *   return { messages, datagrams };
 * };
 * ```
 */
export class DatagramCursor extends MessageCursor {
  /** Port ID from the current datagram's source address: 0 is the kernel. */
  sender = 0;
  /** Multicast group the current datagram came through (NETLINK_PKTINFO), or 0 for unicast. */
  group = 0;
  /** The sender's namespace id, with `listenAllNsid` (see {@linkcode Datagram.nsid}). */
  nsid: number | undefined = undefined;
  /**
   * True when the step begins with datagrams lost to an overrun: the cursor then holds no
   * message until `next()` goes on to what followed (see {@linkcode NetlinkSocket.overruns}).
   */
  overrun = false;
}

perEventCode(() => methodsOf(MessageCursor.prototype));
