/**
 * struct pollfd arrays for poll(2), shared by the waiters (Deno's pool poll, the signal
 * listener's zero-timeout poll, Bun's poller Worker). Layout from the generated ffi/_constants.ts.
 *
 * @module
 */

import { HOST_LITTLE_ENDIAN as LE } from "../src/_endian.ts";
import {
  OFFSETOF_POLLFD_EVENTS,
  OFFSETOF_POLLFD_FD,
  OFFSETOF_POLLFD_REVENTS,
  POLLIN,
  SIZEOF_POLLFD,
} from "./_constants.ts";

/** Bytes for `count` pollfd entries. */
export function pollfdBytes(count: number): number {
  return count * SIZEOF_POLLFD;
}

/** Entry `index` of the array in `view` polls `fd` for input; revents cleared. */
export function setPollfd(view: DataView, index: number, fd: number): void {
  const at = index * SIZEOF_POLLFD;
  view.setInt32(at + OFFSETOF_POLLFD_FD, fd, LE);
  view.setInt16(at + OFFSETOF_POLLFD_EVENTS, POLLIN, LE);
  view.setInt16(at + OFFSETOF_POLLFD_REVENTS, 0, LE);
}

/** The revents poll() left in entry `index`. */
export function pollfdRevents(view: DataView, index: number): number {
  return view.getInt16(index * SIZEOF_POLLFD + OFFSETOF_POLLFD_REVENTS, LE);
}
