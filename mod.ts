/**
 * Netlink for Deno and Bun: talk to the Linux kernel's netlink protocols (rtnetlink, generic
 * netlink, uevents, connector, custom units of your own modules) straight through libc, with the
 * runtime's built-in FFI. Requests, acks, dumps, multicast groups and extended-ack errors, typed,
 * with decoded messages arriving through an async iterator.
 *
 * Needs `--allow-ffi` on Deno, and only that: the library calls libc directly, which Deno's other
 * permissions do not see (a `netns` name works without `--allow-read`).
 *
 * Typed streams of device events and process events live in their own entry points:
 * `@netlink/netlink/uevent` (`openUevents()`) and `@netlink/netlink/connector`
 * (`openProcEvents()`).
 *
 * @example
 * ```ts
 * import { NETLINK_ROUTE, NLM_F_DUMP, open, RTM_GETLINK } from "@netlink/netlink";
 *
 * await using sock = await open(NETLINK_ROUTE);
 * // struct ifinfomsg (16 bytes of zeros: every family, every link)
 * const links = await sock.request({
 *   type: RTM_GETLINK,
 *   flags: NLM_F_DUMP,
 *   payload: new Uint8Array(16),
 * });
 * console.log(`${links.length} links`);
 * ```
 *
 * @module
 */

export * from "./src/ack.ts";
export * from "./src/attribute.ts";
export {
  Capture,
  capture,
  CAPTURE_MAX_PENDING,
  type CaptureStopOptions,
  type CaptureTarget,
  LINKTYPE_NETLINK,
} from "./src/capture.ts";
export * from "./src/constants.ts";
export * from "./src/cursor.ts";
export * from "./src/errors.ts";
export * from "./src/genl.ts";
export * from "./src/ip.ts";
export * from "./src/message.ts";
export * from "./src/open.ts";
export * from "./src/policy.ts";
export * from "./src/socket.ts";
export { type Tap, tap, TapPoint } from "./src/tap.ts";
export type {
  Datagram,
  DatagramInPlace,
  OpenTransport,
  Transport,
  TransportOptions,
  WaitResult,
} from "./src/transport.ts";
