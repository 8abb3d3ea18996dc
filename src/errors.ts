/**
 * Error types. Every error the library throws or rejects with is one of these, or a
 * `TypeError`/`RangeError` for bad arguments, or the `AbortSignal`'s reason.
 *
 * @module
 */

import { errnoDescription, type ErrnoName, errnoName } from "./_errno.ts";
import { printable } from "./_printable.ts";
import type { AttributePolicy } from "./policy.ts";

// The type of `code`: the errno names the library knows, or `E<n>` (see its JSDoc in _errno.ts).
export type { ErrnoName };

/**
 * A failed system call (socket, bind, sendmsg, recvmsg...).
 *
 * @example
 * ```ts
 * import { SyscallError } from "@netlink/netlink";
 * const err = new SyscallError("socket", 93);
 * console.log(err.code); // "EPROTONOSUPPORT"
 * ```
 */
export class SyscallError extends Error {
  /** The system call that failed, e.g. "bind". */
  readonly syscall: string;
  /** The positive errno value. */
  readonly errno: number;
  /**
   * The errno's symbolic name, e.g. "EPROTONOSUPPORT", or "E<number>" if unknown: typed as the
   * names the library knows, so a misspelt comparison (`err.code === "EPROTONOSUPORT"`) is a
   * type error.
   */
  readonly code: ErrnoName;

  /**
   * Describes a failed call.
   *
   * @param syscall The system call's name.
   * @param errno The positive errno value it failed with.
   * @param hint Appended to the message: what the caller can do about it.
   */
  constructor(syscall: string, errno: number, hint?: string) {
    const code = errnoName(errno);
    super(`${syscall}: ${code} (${errnoDescription(errno)})${hint ? `: ${hint}` : ""}`);
    this.name = "SyscallError";
    this.syscall = syscall;
    this.errno = errno;
    this.code = code;
  }
}

/** Where the kernel says a missing attribute should have been (extended ack). */
export interface MissingAttribute {
  /** The attribute type that was required but absent. */
  readonly type: number;
  /** Offset in the request of the nest it was missing from, if not the top level. */
  readonly nestOffset?: number;
}

/** Fields of an NLMSG_ERROR or NLMSG_DONE message, as decoded by `decodeAck`. */
export interface NetlinkErrorInit {
  /** Positive errno value. */
  readonly errno: number;
  /** Extended-ack message text (NLMSGERR_ATTR_MSG). */
  readonly detail?: string;
  /** Byte offset into the request of the offending attribute (NLMSGERR_ATTR_OFFS). */
  readonly offset?: number;
  /** A missing attribute the kernel reported (NLMSGERR_ATTR_MISS_TYPE/MISS_NEST). */
  readonly missing?: MissingAttribute;
  /** Opaque cookie (NLMSGERR_ATTR_COOKIE). */
  readonly cookie?: Uint8Array;
  /** What the offending attribute should have been (NLMSGERR_ATTR_POLICY). */
  readonly policy?: AttributePolicy;
  /** Type of the request message this error answers. */
  readonly requestType?: number;
  /** Sequence number of the request message this error answers. */
  readonly requestSeq?: number;
}

/**
 * The kernel rejected a request: an NLMSG_ERROR message with a non-zero error, or an NLMSG_DONE
 * carrying one. `code` is the errno name; `detail`, `offset` and `missing` carry the kernel's
 * extended ack when it sent one.
 *
 * @example
 * ```ts
 * import { NetlinkError } from "@netlink/netlink";
 * const err = new NetlinkError({ errno: 22, detail: "Unknown device type" });
 * console.log(err.code, err.message); // "EINVAL" "EINVAL: Unknown device type"
 * ```
 */
export class NetlinkError extends Error {
  /** Positive errno value, e.g. 22. */
  readonly errno: number;
  /**
   * The errno's symbolic name, e.g. "EINVAL", or "E<number>" for one the library has no name
   * for: typed as {@linkcode ErrnoName}, so a misspelt comparison (`err.code === "EEXSIT"`) is
   * a type error, while any name the library gives compares as before.
   */
  readonly code: ErrnoName;
  /**
   * Extended-ack message text (NLMSGERR_ATTR_MSG), if any, as it was sent. `message` shows it
   * with control characters escaped (`\n`, `\u001b`): a kernel module or, on NETLINK_USERSOCK,
   * any process can send an ack, and its text could otherwise carry terminal escape sequences
   * into a log or a terminal. Escape this one too before printing it.
   */
  readonly detail?: string;
  /** Byte offset into the request (from the start of its nlmsghdr) the kernel pointed at. */
  readonly offset?: number;
  /** Attribute the kernel said was missing. */
  readonly missing?: MissingAttribute;
  /** Opaque cookie from the extended ack. */
  readonly cookie?: Uint8Array;
  /**
   * What the attribute at `offset` should have been (NLMSGERR_ATTR_POLICY): its NL_ATTR_TYPE_*
   * type and limits, e.g. `{ type: NL_ATTR_TYPE_U32, minValue: 1n, maxValue: 4094n }`.
   */
  readonly policy?: AttributePolicy;
  /** Type of the request this answers, when known. */
  readonly requestType?: number;
  /** Sequence number of the request this answers, when known. */
  readonly requestSeq?: number;

  /** Builds the error from decoded NLMSG_ERROR fields. */
  constructor(init: NetlinkErrorInit) {
    const code = errnoName(init.errno);
    const parts = [
      init.detail === undefined ? errnoDescription(init.errno) : printable(init.detail),
    ];
    if (init.offset !== undefined) parts.push(`at offset ${init.offset}`);
    if (init.missing) parts.push(`missing attribute ${init.missing.type}`);
    super(`${code}: ${parts.join(", ")}`);
    this.name = "NetlinkError";
    this.errno = init.errno;
    this.code = code;
    this.detail = init.detail;
    this.offset = init.offset;
    this.missing = init.missing;
    this.cookie = init.cookie;
    this.policy = init.policy;
    this.requestType = init.requestType;
    this.requestSeq = init.requestSeq;
  }
}

/**
 * Bytes that are not valid netlink: a header whose length is too short or runs past the end of
 * the datagram, an attribute that does, a getter applied to an attribute of the wrong size.
 *
 * @example
 * ```ts
 * import { decodeMessages, MalformedMessageError } from "@netlink/netlink";
 * try {
 *   decodeMessages(new Uint8Array(7));
 * } catch (err) {
 *   console.log(err instanceof MalformedMessageError); // true
 * }
 * ```
 */
export class MalformedMessageError extends Error {
  /** Byte offset in the input where the problem was found. */
  readonly offset: number;

  /**
   * Describes malformed input.
   *
   * @param message What is wrong.
   * @param offset Where, in bytes from the start of the input.
   */
  constructor(message: string, offset: number) {
    super(`${message} (at byte ${offset})`);
    this.name = "MalformedMessageError";
    this.offset = offset;
  }
}

/**
 * A dump finished, but the kernel flagged it NLM_F_DUMP_INTR: the data changed while it was being
 * dumped, so the parts may be inconsistent. `messages` holds every part received; retry the dump
 * for a consistent view.
 *
 * @example
 * ```ts
 * import { DumpInterruptedError } from "@netlink/netlink";
 * const err = new DumpInterruptedError([]);
 * console.log(err.messages.length); // 0
 * ```
 */
export class DumpInterruptedError extends Error {
  /** Every message of the dump, as received by `request()`; empty for `dump()`. */
  readonly messages: readonly import("./message.ts").Message[];

  /**
   * Reports an inconsistent dump.
   *
   * @param messages The dump's parts (empty for `dump()`, which yielded them already).
   */
  constructor(messages: readonly import("./message.ts").Message[]) {
    super(
      "dump interrupted (NLM_F_DUMP_INTR): the kernel's data changed during the dump; retry it",
    );
    this.name = "DumpInterruptedError";
    this.messages = messages;
  }
}

/**
 * The socket was closed: by `close()` while the operation was pending, or before it started.
 *
 * @example
 * ```ts
 * import { SocketClosedError } from "@netlink/netlink";
 * console.log(new SocketClosedError().message);
 * ```
 */
export class SocketClosedError extends Error {
  /**
   * Reports use of a closed socket.
   *
   * @param message What was interrupted or refused.
   */
  constructor(message = "netlink socket is closed") {
    super(message);
    this.name = "SocketClosedError";
  }
}
