/**
 * Testing helpers, to test code built on this library without root or a real kernel:
 *
 * - {@linkcode FakeKernel}, an in-memory netlink kernel that follows the real kernel's rules
 *   (one dump per socket, a dump advances only when read, a finite receive buffer with ENOBUFS,
 *   acks and extended acks, multicast). Pass `kernel.open` as `open()`'s `transport` option.
 * - {@linkcode Recorder} and {@linkcode Replayer}: record a session against the real kernel
 *   once, and replay it as a fixture (on Deno, without --allow-ffi). See
 *   [README.md](./README.md) for a complete test that runs on Deno and on Bun.
 *
 * @example
 * ```ts
 * import { NETLINK_ROUTE, open, RTM_NEWLINK } from "@netlink/netlink";
 * import { FakeKernel } from "@netlink/netlink/testing";
 * const kernel = new FakeKernel().serve(NETLINK_ROUTE, RTM_NEWLINK, () => ({ errno: 1 }));
 * await using sock = await open(NETLINK_ROUTE, { transport: kernel.open });
 * const ifinfomsg = new Uint8Array(16); // rtnetlink ignores a request without its header
 * await sock.request({ type: RTM_NEWLINK, payload: ifinfomsg }).catch((e) => console.log(e.code)); // EPERM
 * ```
 *
 * @module
 */

// The ack encoders are the protocol layer's (a USERSOCK server needs them too); here as well, for
// tests that answer by hand.
export { ackMessage, doneMessage, type ExtendedAck } from "../ack.ts";
export type { FakeFamily } from "./_genl_controller.ts";
export * from "./fake_kernel.ts";
export * from "./session.ts";
