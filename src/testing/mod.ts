/**
 * A test kit for code that talks netlink: record a session against the real kernel once, and
 * replay it as a fixture in unit tests that need no kernel (on Deno, no --allow-ffi). See
 * [README.md](./README.md) for a complete test that runs on Deno and on Bun.
 *
 * @example
 * ```ts ignore
 * import { NETLINK_ROUTE, open } from "@netlink/netlink";
 * import { Replayer } from "@netlink/netlink/testing";
 * const replayer = new Replayer(await Deno.readTextFile("fixture.json"));
 * await using sock = await open(NETLINK_ROUTE, { transport: replayer.transport });
 * ```
 *
 * @module
 */

export * from "./session.ts";
