/**
 * The I/O every sock_diag query shares: a NETLINK_SOCK_DIAG socket (the caller's, or one opened
 * for the query, in a namespace if asked) and SOCK_DIAG_BY_FAMILY dumps, one after the other.
 *
 * @module
 */

import { NETLINK_SOCK_DIAG } from "../_constants.ts";
import { checkGivenSocket } from "../_options.ts";
import { NetlinkError } from "../errors.ts";
import type { ReceivedMessage } from "../message.ts";
import { open } from "../open.ts";
import type { NetlinkSocket } from "../socket.ts";
import { SOCK_DIAG_BY_FAMILY } from "./_constants.ts";

/**
 * Where and how a sock_diag query runs.
 *
 * @example
 * ```ts
 * import type { DiagOptions } from "@netlink/netlink/diag";
 * const options: DiagOptions = { netns: "blue", timeout: 5_000 };
 * ```
 */
export interface DiagOptions {
  /**
   * A NETLINK_SOCK_DIAG socket to query through (it stays open). Default: one is opened for
   * the query and closed after it. A closed one (SocketClosedError), or one of another protocol
   * or opened `unframed` (TypeError), is refused before any I/O.
   */
  socket?: NetlinkSocket;
  /**
   * Network namespace to look in (a path or an `ip netns` name), when no `socket` is given.
   * Sockets are listed per namespace, as `ip netns exec NAME ss` lists them.
   */
  netns?: string;
  /**
   * Milliseconds each dump may take before rejecting with a "TimeoutError", from 1 (as
   * `RequestOptions.timeout`: 0 is a RangeError); none by default.
   */
  timeout?: number;
  /** Aborting rejects the query with the signal's reason. */
  signal?: AbortSignal;
}

/** The keys of DiagOptions (`satisfies`: every one, nothing else), for each query's own list. */
export const DIAG_KEYS: readonly string[] = Object.keys(
  { socket: 0, netns: 0, timeout: 0, signal: 0 } satisfies Record<keyof DiagOptions, 0>,
);

/**
 * Yields the replies to each request payload's dump, in order, from one socket. `sockets` and
 * `module` name what is listed and the kernel module that lists it ("unix", "unix_diag"), for
 * the bare ENOENT sock_diag answers when it has no handler for the family or protocol.
 */
export async function* dumpAll(
  options: DiagOptions,
  payloads: readonly Uint8Array[],
  sockets: string,
  module: string,
): AsyncGenerator<ReceivedMessage> {
  const given = options.socket;
  checkGivenSocket(
    `${sockets} query`,
    given,
    NETLINK_SOCK_DIAG,
    "NETLINK_SOCK_DIAG",
  );
  if (given !== undefined && options.netns !== undefined) {
    throw new TypeError("give socket or netns, not both: a socket already has its namespace");
  }
  const socket = given ?? await open(NETLINK_SOCK_DIAG, { netns: options.netns });
  try {
    for (const payload of payloads) {
      const parts = socket.dump({ type: SOCK_DIAG_BY_FAMILY, payload }, {
        timeout: options.timeout,
        signal: options.signal,
      });
      for await (const message of parts) {
        if (message.type === SOCK_DIAG_BY_FAMILY) yield message;
      }
    }
  } catch (err) {
    if (!(err instanceof NetlinkError) || err.code !== "ENOENT" || err.detail !== undefined) {
      throw err;
    }
    throw new NetlinkError({
      ...err,
      detail: `${sockets} sockets: the kernel has no ${module} (built in, or modprobe ${module})`,
    });
  } finally {
    if (given === undefined) socket.close();
  }
}

/** Collects an async iterable (the array-returning query functions). */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/**
 * The array form of a streaming query: a bad query (`check` throws) rejects before any I/O.
 */
export function listed<Q, T>(
  query: Q,
  check: (query: Q) => unknown,
  stream: (query: Q) => AsyncIterable<T>,
): Promise<T[]> {
  try {
    check(query);
  } catch (err) {
    return Promise.reject(err);
  }
  return collect(stream(query));
}
