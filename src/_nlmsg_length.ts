/**
 * The one check of a netlink header's nlmsg_len, shared by every walker of a datagram
 * (`decodeMessages`/`decodeDatagram` in message.ts, MessageCursor in cursor.ts).
 *
 * @module
 */

import { NLMSG_HDRLEN } from "./_constants.ts";
import { HOST_LITTLE_ENDIAN as LE } from "./_endian.ts";
import { MalformedMessageError } from "./errors.ts";

/**
 * The nlmsg_len of the header at `offset` in a datagram of `end` bytes, read through `view` at
 * `base + offset`, as the kernel's NLMSG_OK accepts it. Throws MalformedMessageError, with the
 * offset, for trailing bytes too short to be a header, or an nlmsg_len below the header's size
 * or running past the end.
 */
export function checkedLength(view: DataView, base: number, offset: number, end: number): number {
  if (end - offset < NLMSG_HDRLEN) {
    throw new MalformedMessageError(
      `${end - offset} trailing bytes are too short for a ${NLMSG_HDRLEN}-byte netlink header`,
      offset,
    );
  }
  const length = view.getUint32(base + offset, LE);
  if (length < NLMSG_HDRLEN) {
    throw new MalformedMessageError(
      `nlmsg_len ${length} is shorter than the ${NLMSG_HDRLEN}-byte header`,
      offset,
    );
  }
  if (length > end - offset) {
    throw new MalformedMessageError(
      `nlmsg_len ${length} runs past the end of the datagram (${end - offset} bytes left)`,
      offset,
    );
  }
  return length;
}
