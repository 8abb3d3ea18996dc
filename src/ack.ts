/**
 * The answers that end a request: NLMSG_ERROR (an error, or with error 0 an acknowledgement) and
 * NLMSG_DONE (the end of a dump, possibly carrying the dump's error), decoded as the kernel
 * writes them, and encoded as it does for a server of your own.
 *
 * @module
 */

import { checkErrno, checkExt } from "./_ack_checks.ts";
import {
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_MULTI,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSGERR_ATTR_COOKIE,
  NLMSGERR_ATTR_MISS_NEST,
  NLMSGERR_ATTR_MISS_TYPE,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
  NLMSGERR_ATTR_POLICY,
} from "./_constants.ts";
import { HOST_LITTLE_ENDIAN } from "./_endian.ts";
import { checkInteger } from "./_options.ts";
import { AttributeDecoder, AttributeEncoder } from "./attribute.ts";
import { MalformedMessageError, type NetlinkErrorInit } from "./errors.ts";
import { alignMessage, encodeMessage, type Message, NLMSG_HDRLEN } from "./message.ts";
import { type AttributePolicy, decodeAttributePolicy } from "./policy.ts";

/** struct nlmsgerr starts with an int error. */
const ERROR_SIZE = 4;

/**
 * Decodes an NLMSG_ERROR or NLMSG_DONE message into the fields of a NetlinkError. `errno` is
 * positive, or 0 for a success acknowledgement or a DONE without error; the extended-ack fields
 * (detail, offset, missing, cookie, policy) are filled in whenever the kernel sent them, on
 * success too (a success ack can carry a warning in `detail`).
 *
 * For NLMSG_ERROR, the payload is the (negative) error, the request's nlmsghdr — whence
 * `requestType` and `requestSeq` — then the request's payload unless the message is flagged
 * NLM_F_CAPPED, then, if flagged NLM_F_ACK_TLVS, NLMSGERR_ATTR_* attributes. A positive error
 * (which the kernel never sends) is taken as its absolute value, as libnl does. For NLMSG_DONE,
 * the payload may be empty, or an int that is the dump's result (negative errno; other values
 * mean success), then attributes if flagged NLM_F_ACK_TLVS; `requestSeq` is the message's own
 * seq, which is the dump request's.
 *
 * Throws MalformedMessageError for a truncated payload or malformed attributes, and TypeError for
 * a message of another type.
 *
 * @example
 * ```ts
 * import { decodeAck, NetlinkError, type Message } from "@netlink/netlink";
 * function check(message: Message): void {
 *   const ack = decodeAck(message);
 *   if (ack.errno !== 0) throw new NetlinkError(ack);
 * }
 * ```
 */
export function decodeAck(message: Message): NetlinkErrorInit {
  const payload = message?.payload;
  if (!(payload instanceof Uint8Array)) {
    throw new TypeError(`decodeAck: message payload must be a Uint8Array, got ${typeof payload}`);
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  if (message.type === NLMSG_ERROR) return decodeError(message, payload, view);
  if (message.type === NLMSG_DONE) return decodeDone(message, payload, view);
  throw new TypeError(
    `decodeAck: message type ${message.type} is neither NLMSG_ERROR (${NLMSG_ERROR}) nor NLMSG_DONE (${NLMSG_DONE})`,
  );
}

function decodeError(message: Message, payload: Uint8Array, view: DataView): NetlinkErrorInit {
  const headerEnd = ERROR_SIZE + NLMSG_HDRLEN;
  if (payload.byteLength < headerEnd) {
    throw new MalformedMessageError(
      `NLMSG_ERROR payload is ${payload.byteLength} bytes, shorter than struct nlmsgerr (${headerEnd})`,
      0,
    );
  }
  const error = view.getInt32(0, HOST_LITTLE_ENDIAN);
  const requestLength = view.getUint32(ERROR_SIZE, HOST_LITTLE_ENDIAN);
  const requestType = view.getUint16(ERROR_SIZE + 4, HOST_LITTLE_ENDIAN);
  const requestSeq = view.getUint32(ERROR_SIZE + 8, HOST_LITTLE_ENDIAN);
  const fields = { errno: Math.abs(error), requestType, requestSeq };
  // Without attributes to find, the echoed request is not looked at: kernels before 4.12 sent
  // success acks with the header alone, yet without NLM_F_CAPPED, which they did not know.
  if ((message.flags & NLM_F_ACK_TLVS) === 0) return fields;

  let attributesStart = headerEnd;
  if ((message.flags & NLM_F_CAPPED) === 0) {
    // The whole request was copied back: its header says how long it was.
    if (requestLength < NLMSG_HDRLEN) {
      throw new MalformedMessageError(
        `NLMSG_ERROR echoes a request with nlmsg_len ${requestLength}, shorter than its header`,
        ERROR_SIZE,
      );
    }
    if (ERROR_SIZE + requestLength > payload.byteLength) {
      throw new MalformedMessageError(
        `NLMSG_ERROR echoes a ${requestLength}-byte request but has only ${
          payload.byteLength - ERROR_SIZE
        } bytes after the error`,
        ERROR_SIZE,
      );
    }
    attributesStart = ERROR_SIZE + alignMessage(requestLength);
  }
  return decodeExtendedAck(fields, payload, attributesStart);
}

function decodeDone(message: Message, payload: Uint8Array, view: DataView): NetlinkErrorInit {
  const requestSeq = message.seq;
  if (payload.byteLength === 0) return { errno: 0, requestSeq };
  if (payload.byteLength < ERROR_SIZE) {
    throw new MalformedMessageError(
      `NLMSG_DONE payload is ${payload.byteLength} bytes: neither empty nor an int`,
      0,
    );
  }
  const result = view.getInt32(0, HOST_LITTLE_ENDIAN);
  const fields = { errno: result < 0 ? -result : 0, requestSeq };
  if ((message.flags & NLM_F_ACK_TLVS) === 0) return fields;
  return decodeExtendedAck(fields, payload, ERROR_SIZE);
}

/** Adds the NLMSGERR_ATTR_* attributes found from `start` in `payload` to `fields`. */
function decodeExtendedAck(
  fields: NetlinkErrorInit,
  payload: Uint8Array,
  start: number,
): NetlinkErrorInit {
  // An ack whose last part lacks its padding can leave `start` just past the end: no attributes.
  const attributes = new AttributeDecoder(payload, Math.min(start, payload.byteLength));
  let detail: string | undefined;
  let offset: number | undefined;
  let cookie: Uint8Array | undefined;
  let missingType: number | undefined;
  let missingNest: number | undefined;
  let policy: AttributePolicy | undefined;
  while (attributes.next()) {
    switch (attributes.type) {
      case NLMSGERR_ATTR_MSG:
        detail = attributes.string();
        break;
      case NLMSGERR_ATTR_OFFS:
        offset = attributes.u32();
        break;
      case NLMSGERR_ATTR_COOKIE:
        // Copied so that the error does not keep a whole dump's datagram alive.
        cookie = attributes.bytes().slice();
        break;
      case NLMSGERR_ATTR_MISS_TYPE:
        missingType = attributes.u32();
        break;
      case NLMSGERR_ATTR_MISS_NEST:
        missingNest = attributes.u32();
        break;
      case NLMSGERR_ATTR_POLICY:
        policy = decodeAttributePolicy(attributes.bytes());
        break;
      default:
        // Types newer than this code are not needed for the error.
        break;
    }
  }
  const result: {
    -readonly [K in keyof NetlinkErrorInit]: NetlinkErrorInit[K];
  } = { ...fields };
  if (detail !== undefined) result.detail = detail;
  if (offset !== undefined) result.offset = offset;
  if (cookie !== undefined) result.cookie = cookie;
  if (policy !== undefined) result.policy = policy;
  if (missingType !== undefined) {
    result.missing = missingNest === undefined
      ? { type: missingType }
      : { type: missingType, nestOffset: missingNest };
  }
  return result;
}

/**
 * The extended-ack attributes (NLMSGERR_ATTR_*) of an ack that {@linkcode ackMessage} or
 * {@linkcode doneMessage} writes (the kernel sends them to sockets with NETLINK_EXT_ACK on). On a
 * success ack only `message` (a warning) and `cookie` are written, as the kernel writes them.
 *
 * @example
 * ```ts
 * import type { ExtendedAck } from "@netlink/netlink";
 * const ext: ExtendedAck = { message: "Unknown device type", offset: 36 };
 * ```
 */
export interface ExtendedAck {
  /** NLMSGERR_ATTR_MSG: the error text, or a warning on success (at most 65530 bytes of UTF-8). */
  readonly message?: string;
  /** NLMSGERR_ATTR_OFFS: offset of the offending attribute in the request. */
  readonly offset?: number;
  /** NLMSGERR_ATTR_COOKIE: opaque bytes (at most 65531). */
  readonly cookie?: Uint8Array;
  /**
   * NLMSGERR_ATTR_POLICY: writes the policy of the offending attribute (NL_POLICY_TYPE_ATTR_*
   * attributes) into the nest.
   */
  readonly policy?: (nest: AttributeEncoder) => void;
  /** NLMSGERR_ATTR_MISS_TYPE: a required attribute that is missing. */
  readonly missingType?: number;
  /** NLMSGERR_ATTR_MISS_NEST: offset of the nest it is missing from. */
  readonly missingNest?: number;
}

/**
 * The NLMSG_ERROR answering `request`, as the kernel's netlink_ack builds it: errno 0 is an ack,
 * a positive errno the error. For a server of your own (a NETLINK_USERSOCK peer answering
 * requests, a test answering by hand): send it back to the requester, as
 * `sock.send(ackMessage(msg), { portid: msg.sender })`, and its `request()` resolves (or rejects
 * with a `NetlinkError` carrying `ext`'s text, offset...).
 * The request is echoed whole (its nlmsg_len as it was) unless `capped` (the default on
 * success); `ext`'s attributes follow, flagged NLM_F_ACK_TLVS. Its nlmsg_pid is `portid`, the
 * port of the socket that sent the request (the kernel's NETLINK_CB(skb).portid, whatever the
 * request's own nlmsg_pid says; default: the request's nlmsg_pid, which this library sets to
 * the socket's port). An errno that is no integer from 0 to 4095 is a RangeError, a key `ext`
 * does not have a TypeError. The same function is `@netlink/netlink/testing`'s.
 *
 * @example
 * ```ts
 * import { ackMessage, decodeAck, type NetlinkSocket, type ReceivedMessage } from "@netlink/netlink";
 *
 * // A USERSOCK server's answer to each request it reads: acked, or type 0x20 refused with a reason.
 * function answer(server: NetlinkSocket, msg: ReceivedMessage): void {
 *   const ack = msg.type === 0x20 ? ackMessage(msg, 95, { message: "not served" }) : ackMessage(msg);
 *   server.send(ack, { portid: msg.sender });
 * }
 * const request = { type: 0x20, flags: 5, seq: 1, portid: 4242, payload: new Uint8Array(4) };
 * console.log(decodeAck(ackMessage(request, 95, { message: "not served" })).detail); // "not served"
 * ```
 */
export function ackMessage(
  request: Message,
  errno = 0,
  ext: ExtendedAck = {},
  options: { capped?: boolean; portid?: number } = {},
): Message {
  checkAck("ackMessage()", errno, ext);
  const capped = options.capped ?? errno === 0;
  const tlvs = encodeExtAck(ext, errno === 0);
  const whole = encodeMessage(request);
  const echoed = capped ? whole.subarray(0, NLMSG_HDRLEN) : whole;
  const payload = new Uint8Array(4 + echoed.length + tlvs.length);
  new DataView(payload.buffer).setInt32(0, -errno, true);
  payload.set(echoed, 4);
  payload.set(tlvs, 4 + echoed.length);
  const flags = (capped ? NLM_F_CAPPED : 0) | (tlvs.length ? NLM_F_ACK_TLVS : 0);
  const portid = options.portid ?? request.portid;
  return { type: NLMSG_ERROR, flags, seq: request.seq, portid, payload };
}

/**
 * The NLMSG_DONE ending a dump of `request` (flagged NLM_F_MULTI, plus `flags`), carrying
 * `errno` (0: success) and `ext`'s attributes: how a server of your own ends a dump it answered
 * (`sock.send(doneMessage(msg), { portid: msg.sender })` after the parts, each flagged
 * NLM_F_MULTI). Checked as {@linkcode ackMessage} checks them, and `flags` as a u16. The same
 * function is `@netlink/netlink/testing`'s.
 *
 * @example
 * ```ts
 * import { decodeAck, doneMessage } from "@netlink/netlink";
 * const request = { type: 18, flags: 0x301, seq: 1, portid: 0, payload: new Uint8Array(16) };
 * console.log(decodeAck(doneMessage(request, 16)).errno); // 16
 * ```
 */
export function doneMessage(
  request: Message,
  errno = 0,
  ext: ExtendedAck = {},
  flags = 0,
): Message {
  checkAck("doneMessage()", errno, ext);
  checkInteger("doneMessage() flags", flags, 0, 0xffff);
  const tlvs = encodeExtAck(ext, errno === 0);
  const payload = new Uint8Array(4 + tlvs.length);
  new DataView(payload.buffer).setInt32(0, -errno, true);
  payload.set(tlvs, 4);
  return {
    type: NLMSG_DONE,
    flags: NLM_F_MULTI | flags | (tlvs.length ? NLM_F_ACK_TLVS : 0),
    seq: request.seq,
    portid: request.portid,
    payload,
  };
}

/**
 * An ack's errno and extended ack, checked: NaN or 2^32 were written as 0 (an ack of success
 * for a test that meant a failure), a null `ext` failed in the engine's words.
 */
function checkAck(what: string, errno: number, ext: ExtendedAck): void {
  checkErrno(what, errno);
  checkExt(`${what} ext`, ext);
}

function encodeExtAck(ext: ExtendedAck, success: boolean): Uint8Array {
  // netlink_ack_tlv_fill's order: the message and cookie (a warning's too), then the error's.
  const attrs = new AttributeEncoder();
  if (ext.message !== undefined) attrs.string(NLMSGERR_ATTR_MSG, ext.message);
  if (ext.cookie !== undefined) attrs.bytes(NLMSGERR_ATTR_COOKIE, ext.cookie);
  if (!success && ext.offset !== undefined) attrs.u32(NLMSGERR_ATTR_OFFS, ext.offset);
  if (!success && ext.policy !== undefined) {
    attrs.nested(NLMSGERR_ATTR_POLICY, ext.policy);
  }
  if (!success && ext.missingType !== undefined) {
    attrs.u32(NLMSGERR_ATTR_MISS_TYPE, ext.missingType);
  }
  if (!success && ext.missingNest !== undefined) {
    attrs.u32(NLMSGERR_ATTR_MISS_NEST, ext.missingNest);
  }
  return attrs.finish();
}
