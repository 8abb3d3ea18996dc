// What an ack to be encoded must hold, checked: shared by ackMessage()/doneMessage() and the fake
// kernel's handlers' answers. Internal.

import { shown } from "./_options.ts";
import type { ExtendedAck } from "./ack.ts";

/** The keys of an {@linkcode ExtendedAck}: any other is refused, not ignored. */
export const EXT_KEYS = [
  "message",
  "offset",
  "cookie",
  "policy",
  "missingType",
  "missingNest",
] as const satisfies readonly (keyof ExtendedAck)[];

/**
 * An errno as the kernel has them (MAX_ERRNO 4095; 0: none), or a RangeError: NaN or 2^32 were
 * written as 0, an ack of success for a caller that meant a failure.
 */
export function checkErrno(what: string, errno: unknown): void {
  if (!(Number.isInteger(errno) && (errno as number) >= 0 && (errno as number) <= 4095)) {
    throw new RangeError(
      `${what}: errno must be a positive errno (1..4095, 0 for none), got ${shown(errno)}`,
    );
  }
}
