/**
 * Decoding of the kernel's answers that end a request: NLMSG_ERROR (an error, or with error 0 an
 * acknowledgement) and NLMSG_DONE (the end of a dump, possibly carrying the dump's error).
 *
 * @module
 */

import { HOST_LITTLE_ENDIAN } from "./_endian.ts";
import { AttributeDecoder } from "./attribute.ts";
import {
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSGERR_ATTR_COOKIE,
  NLMSGERR_ATTR_MISS_NEST,
  NLMSGERR_ATTR_MISS_TYPE,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
  NLMSGERR_ATTR_POLICY,
} from "./constants.ts";
import { MalformedMessageError, type NetlinkErrorInit } from "./errors.ts";
import { alignMessage, type Message, NLMSG_HDRLEN } from "./message.ts";
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
