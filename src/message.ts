/**
 * Netlink messages: the nlmsghdr and its payload.
 *
 * Encoding is validated up front, so a bad field never produces half-built bytes. Decoding splits a
 * datagram exactly as the kernel's NLMSG_OK/NLMSG_NEXT walk it and hands out payloads as zero-copy
 * views into the datagram.
 *
 * @module
 */

import { NLMSG_ALIGNTO, NLMSG_HDRLEN } from "./_constants.ts";
import { HOST_LITTLE_ENDIAN } from "./_endian.ts";
import { checkedLength } from "./_nlmsg_length.ts";
import {
  checkBytes,
  checkIterable,
  checkNumberArgument,
  integerFieldError,
  shown,
} from "./_options.ts";
import { perEventCode } from "./_per_event.ts";
import { sharedView, sharedWords } from "./_view.ts";
import type { Datagram } from "./transport.ts";

/**
 * One netlink message: a struct nlmsghdr and the payload that follows it.
 *
 * @example
 * ```ts
 * import { type Message, NLM_F_REQUEST, RTM_GETLINK } from "@netlink/netlink";
 * const msg: Message = {
 *   type: RTM_GETLINK,
 *   flags: NLM_F_REQUEST,
 *   seq: 1,
 *   portid: 0,
 *   payload: new Uint8Array(16),
 * };
 * ```
 */
export interface Message {
  /** nlmsg_type: NLMSG_* control types, or the protocol's own (RTM_NEWLINK, a family id...). */
  type: number;
  /** nlmsg_flags: NLM_F_* bits. */
  flags: number;
  /** nlmsg_seq: sequence number that pairs replies with their request. */
  seq: number;
  /** nlmsg_pid: the port ID field of the header (the requester's port on kernel replies). */
  portid: number;
  /**
   * Everything after the 16-byte header, without trailing alignment padding. In a received
   * message it is a view into memory shared with the rest of its datagram (and, for small
   * datagrams, with other datagrams): to keep one long, clone it or transfer it to a worker,
   * take `payload.slice()`, not `payload.buffer`.
   */
  payload: Uint8Array;
}

/**
 * A message as it was received, with where it came from.
 *
 * @example
 * ```ts
 * import type { ReceivedMessage } from "@netlink/netlink";
 * function fromKernel(msg: ReceivedMessage): boolean {
 *   return msg.sender === 0 && msg.group === 0;
 * }
 * ```
 */
export interface ReceivedMessage extends Message {
  /** Port ID of the sending socket, from the datagram's source address: 0 is the kernel. */
  readonly sender: number;
  /**
   * The multicast group it was delivered through, or 0 if it was sent to this socket alone (or
   * is the kernel's NLM_F_ECHO copy of a notification: then the group is set too).
   */
  readonly group: number;
  /**
   * The network namespace id of its sender as this socket's namespace numbers it, on sockets
   * opened with `listenAllNsid` (NETLINK_LISTEN_ALL_NSID) when the kernel said; -1 when that
   * namespace has no id here. Undefined otherwise.
   */
  readonly nsid?: number;
  /**
   * True only for the library's own marker of an overrun (messages lost: see
   * `NetlinkSocket.overruns`), which has type NLMSG_OVERRUN, sender 0 and an empty payload.
   * Check this, not the type: any process can send a message of type NLMSG_OVERRUN to a port
   * (or, as root, to a group), and no message received has this field.
   */
  readonly overrun?: true;
}

// NLMSG_HDRLEN (16: NLMSG_ALIGN(sizeof(struct nlmsghdr)), a u32 length, u16 type, u16 flags,
// u32 seq and u32 portid) belongs with the message codec, but is generated from the headers;
// re-exporting the same binding keeps `export *` unambiguous.
export { NLMSG_HDRLEN };

/**
 * Rounds a length up to netlink message alignment (NLMSG_ALIGN). Exact for any non-negative safe
 * integer, not only for lengths that fit in 31 bits. Throws TypeError for what is no whole
 * number (a fraction, NaN, an infinity, a bigint, a string, a Symbol), RangeError for a
 * negative length.
 *
 * @example
 * ```ts
 * import { alignMessage } from "@netlink/netlink";
 * console.log(alignMessage(21)); // 24
 * ```
 */
export function alignMessage(length: number): number {
  return nlmsgAlign(checkNumberArgument("alignMessage(): length", length));
}

/** NLMSG_ALIGN of a length known to be a non-negative integer: the library's own. */
function nlmsgAlign(length: number): number {
  // -length & (ALIGNTO - 1) is the padding; `&` works modulo 2^32, which ALIGNTO divides.
  return length + (-length & (NLMSG_ALIGNTO - 1));
}

const U16_MAX = 0xffff;
const U32_MAX = 0xffff_ffff;

function checkUnsigned(field: string, value: unknown, max: number, bits: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw fieldError(field, value, max, bits);
  }
}

// The errors are made apart from the checks: on Bun a function's bytecode is made on its first
// call (some 0.15-0.3 us per byte of bytecode in a cold process), the error's code included.

function fieldError(field: string, value: unknown, max: number, bits: number): Error {
  if (typeof value !== "number") {
    return new TypeError(`message ${field} must be a number, got ${typeof value}`);
  }
  return integerFieldError(
    value,
    `message ${field} must be a u${bits}: an integer from 0 to ${max}, got ${value}`,
  );
}

function payloadError(payload: unknown): Error {
  if (!(payload instanceof Uint8Array)) {
    return new TypeError(
      `message payload must be a Uint8Array, got ${payload === null ? "null" : typeof payload}`,
    );
  }
  return new RangeError(
    `message payload must be at most ${
      U32_MAX - NLMSG_HDRLEN
    } bytes (nlmsg_len is a u32), got ${payload.byteLength}`,
  );
}

function notADatagram(datagram: unknown): TypeError {
  // A datagram whose data is wrong: checkBytes() names the data and what it is.
  if (typeof datagram === "object" && datagram !== null && "data" in datagram) {
    checkBytes("decodeDatagram(): datagram.data", (datagram as { data?: unknown }).data);
  }
  return new TypeError(
    `decodeDatagram() takes { data: Uint8Array, sender, group }, got ${shown(datagram)}`,
  );
}

/** Validates one message and returns its aligned size on the wire. */
function checkMessage(message: Message, index: number): number {
  if (typeof message !== "object" || message === null) {
    throw new TypeError(`message ${index} must be an object, got ${shown(message)}`);
  }
  checkUnsigned("type", message.type, U16_MAX, 16);
  checkUnsigned("flags", message.flags, U16_MAX, 16);
  checkUnsigned("seq", message.seq, U32_MAX, 32);
  checkUnsigned("portid", message.portid, U32_MAX, 32);
  const payload = message.payload;
  if (!(payload instanceof Uint8Array)) throw payloadError(payload);
  const length = NLMSG_HDRLEN + payload.byteLength;
  if (length > U32_MAX) throw payloadError(payload);
  return nlmsgAlign(length);
}

function writeMessage(view: DataView, bytes: Uint8Array, offset: number, message: Message): void {
  view.setUint32(offset, NLMSG_HDRLEN + message.payload.byteLength, HOST_LITTLE_ENDIAN);
  view.setUint16(offset + 4, message.type, HOST_LITTLE_ENDIAN);
  view.setUint16(offset + 6, message.flags, HOST_LITTLE_ENDIAN);
  view.setUint32(offset + 8, message.seq, HOST_LITTLE_ENDIAN);
  view.setUint32(offset + 12, message.portid, HOST_LITTLE_ENDIAN);
  bytes.set(message.payload, offset + NLMSG_HDRLEN);
}

/**
 * Encodes one message: its nlmsghdr (nlmsg_len computed from the payload) and payload, padded to
 * alignment. Throws TypeError or RangeError, naming the field, if a field is not of its C type.
 *
 * @example
 * ```ts
 * import { encodeMessage, NLM_F_DUMP, NLM_F_REQUEST, RTM_GETLINK } from "@netlink/netlink";
 * const bytes = encodeMessage({
 *   type: RTM_GETLINK,
 *   flags: NLM_F_REQUEST | NLM_F_DUMP,
 *   seq: 1,
 *   portid: 0,
 *   payload: new Uint8Array(16), // struct ifinfomsg
 * });
 * console.log(bytes.length); // 32
 * ```
 */
export function encodeMessage(message: Message): Uint8Array {
  const size = checkMessage(message, 0);
  const bytes = new Uint8Array(size);
  writeMessage(new DataView(bytes.buffer), bytes, 0, message);
  return bytes;
}

/**
 * Encodes several messages back to back into one datagram, each padded to alignment (a batch, as
 * nfnetlink uses). Every message is validated before any byte is written.
 *
 * @example
 * ```ts
 * import { encodeMessages, NLM_F_REQUEST } from "@netlink/netlink";
 * const payload = new Uint8Array(1);
 * const bytes = encodeMessages([
 *   { type: 0x10, flags: NLM_F_REQUEST, seq: 1, portid: 0, payload },
 *   { type: 0x11, flags: NLM_F_REQUEST, seq: 2, portid: 0, payload },
 * ]);
 * console.log(bytes.length); // 40: two 17-byte messages, each padded to 20
 * ```
 */
export function encodeMessages(messages: Iterable<Message>): Uint8Array {
  const list = Array.from(checkIterable("encodeMessages(): the messages", messages));
  let size = 0;
  for (let i = 0; i < list.length; i++) size += checkMessage(list[i], i);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  let offset = 0;
  for (const message of list) {
    writeMessage(view, bytes, offset, message);
    offset += nlmsgAlign(NLMSG_HDRLEN + message.payload.byteLength);
  }
  return bytes;
}

/**
 * Splits a datagram into its messages, walking it as the kernel's NLMSG_OK/NLMSG_NEXT do. Each
 * payload is a view into `datagram` (no copy), sized by nlmsg_len without alignment padding; the
 * last message may lack its padding. Throws MalformedMessageError, with the offset, for a header
 * whose nlmsg_len is below {@linkcode NLMSG_HDRLEN} or runs past the end, or for trailing bytes
 * too short to be a header.
 *
 * @example
 * ```ts
 * import { decodeMessages, encodeMessage, NLMSG_DONE } from "@netlink/netlink";
 * const datagram = encodeMessage({
 *   type: NLMSG_DONE,
 *   flags: 0,
 *   seq: 7,
 *   portid: 0,
 *   payload: new Uint8Array(4),
 * });
 * const [done] = decodeMessages(datagram);
 * console.log(done.type === NLMSG_DONE, done.seq, done.payload.length); // true 7 4
 * ```
 */
export function decodeMessages(datagram: Uint8Array): Message[] {
  checkBytes("decodeMessages(): the datagram", datagram);
  return split(datagram, (view, at, offset, length) => ({
    type: view.getUint16(at + 4, HOST_LITTLE_ENDIAN),
    flags: view.getUint16(at + 6, HOST_LITTLE_ENDIAN),
    seq: view.getUint32(at + 8, HOST_LITTLE_ENDIAN),
    portid: view.getUint32(at + 12, HOST_LITTLE_ENDIAN),
    payload: datagram.subarray(offset + NLMSG_HDRLEN, offset + length),
  }));
}

/**
 * Splits a datagram as {@linkcode decodeMessages} does, each message carrying the datagram's
 * source (`sender`, `group`, `nsid`): what a socket delivers. Each object is built whole, in one shape,
 * which keeps a 100,000-message dump fast. `datagram.data` that is no Uint8Array is a TypeError.
 *
 * @example
 * ```ts
 * import { decodeDatagram, encodeMessage } from "@netlink/netlink";
 * const data = encodeMessage({ type: 0x10, flags: 0, seq: 1, portid: 0, payload: new Uint8Array() });
 * const [msg] = decodeDatagram({ data, sender: 0, group: 5 });
 * console.log(msg.type, msg.group); // 16 5
 * ```
 */
export function decodeDatagram(datagram: Datagram): ReceivedMessage[] {
  if (!(datagram?.data instanceof Uint8Array)) throw notADatagram(datagram);
  const { data, sender, group, nsid } = datagram;
  // The walk of split(), written out: a dump decodes 100,000 messages, most of them while the
  // code is still cold, where a call per message through a callback costs more than the object.
  const messages: ReceivedMessage[] = [];
  const end = data.byteLength;
  if (end === 0) return messages;
  const base = data.byteOffset;
  // The headers as host-order words when the data is 4-byte aligned, as the transport hands out
  // every datagram: a typed array's element is read inline, where each DataView method is a call
  // until the code is optimized, which a monitor's decode, run once an event, is not for hundreds
  // of events (V8's Maglev after some 400 calls). The DataView otherwise (below).
  const words = (base & 3) === 0 ? sharedWords(data.buffer) : undefined;
  const le = HOST_LITTLE_ENDIAN;
  for (let offset = 0; offset < end;) {
    const at = base + offset;
    const i = at >> 2;
    // The whole header among the words (a resizable buffer grown since they were made may hold
    // it past them, or across their end), else 0, which fails the check below.
    let length = words !== undefined && i + 3 < words.length ? words[i] : 0;
    let typeAndFlags: number, seq: number, portid: number;
    if (length >= NLMSG_HDRLEN && length <= end - offset) {
      typeAndFlags = words![i + 1];
      seq = words![i + 2];
      portid = words![i + 3];
    } else {
      // Off a 4-byte boundary, or malformed: checkedLength throws, saying what is wrong.
      const view = sharedView(data.buffer);
      length = checkedLength(view, base, offset, end);
      typeAndFlags = view.getUint32(at + 4, le);
      seq = view.getUint32(at + 8, le);
      portid = view.getUint32(at + 12, le);
    }
    // nlmsg_type and nlmsg_flags, two u16 in a row, read as one u32 in host order.
    messages.push({
      type: le ? typeAndFlags & 0xffff : typeAndFlags >>> 16,
      flags: le ? typeAndFlags >>> 16 : typeAndFlags & 0xffff,
      seq,
      portid,
      // The first made as the transport makes a datagram's view, the others with subarray(): on
      // Bun, each way of making a view costs 4-6 us the first time after the event loop idled
      // (cold code and data), and 0.4 us when the same way ran just before, and an event is
      // most often a datagram of one message; but optimized, subarray() is the faster by a
      // third (a dump's messages).
      payload: offset === 0
        ? new Uint8Array(data.buffer, at + NLMSG_HDRLEN, length - NLMSG_HDRLEN)
        : data.subarray(offset + NLMSG_HDRLEN, offset + length),
      sender,
      group,
      nsid,
    });
    offset += (length + NLMSG_ALIGNTO - 1) & ~(NLMSG_ALIGNTO - 1);
  }
  return messages;
}

/**
 * Walks the messages of a datagram as NLMSG_OK/NLMSG_NEXT do, building each with `make` from a
 * view over the datagram's whole buffer, the header's offset in that buffer (`at`) and in the
 * datagram, and nlmsg_len.
 */
function split<T>(
  datagram: Uint8Array,
  make: (view: DataView, at: number, offset: number, length: number) => T,
): T[] {
  const messages: T[] = [];
  const end = datagram.byteLength;
  if (end === 0) return messages;
  const view = sharedView(datagram.buffer);
  const base = datagram.byteOffset;
  let offset = 0;
  while (offset < end) {
    const length = checkedLength(view, base, offset, end);
    messages.push(make(view, base + offset, offset, length));
    offset += nlmsgAlign(length);
  }
  return messages;
}

perEventCode(() => [decodeDatagram, sharedView, sharedWords, checkedLength]);
