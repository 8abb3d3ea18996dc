/**
 * Typed netlink families, generated from the kernel's YNL specs: {@linkcode family} takes a
 * generated descriptor (one module per family under `src/ynl/`, e.g. `rt_link.ts`) and returns
 * a client whose requests, replies and notifications are plain, typed objects.
 *
 * @example
 * ```ts ignore
 * import { family } from "@netlink/netlink/ynl";
 * import { rtLink } from "@netlink/netlink/ynl/rt-link";
 * await using rt = await family(rtLink);
 * for (const link of await rt.dump("getlink")) console.log(link.ifname, link.operstate);
 * ```
 *
 * @module
 */

export * from "./_descriptor.ts";
export { FamilyError } from "./_extack.ts";
export * from "./family.ts";
