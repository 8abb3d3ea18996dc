/**
 * Traffic-control handles as `tc` writes them: "1:" (a qdisc), "1:10" (a class), "root",
 * "ingress", "clsact", "none". Pure parsing and formatting after iproute2's get_tc_classid,
 * get_qdisc_handle and print_tc_classid (tc/tc_util.c).
 *
 * @module
 */

import {
  TC_H_CLSACT,
  TC_H_INGRESS,
  TC_H_MAJ_MASK,
  TC_H_MIN_EGRESS,
  TC_H_MIN_INGRESS,
  TC_H_MIN_MASK,
  TC_H_ROOT,
  TC_H_UNSPEC,
} from "../_constants.ts";
import { checkNumberArgument, shown } from "../_options.ts";

/** A handle as text ("1:10", "root") or as the kernel's 32-bit number. */
export type TcHandle = string | number;

/** A handle that is no number must be text: an array's "1" (String([1])) is no handle. */
function checkHandleText(handle: unknown, what: string): void {
  if (typeof handle !== "string") {
    throw new TypeError(
      `${what}: ${shown(handle)} is neither a number nor a handle such as "1:10"`,
    );
  }
}

function hex16(text: string, handle: string, what: string): number {
  if (!/^[0-9a-fA-F]{1,4}$/.test(text)) {
    throw new RangeError(
      `${what}: ${shown(handle)} is not a handle (MAJOR:MINOR in hexadecimal, each 0..ffff)`,
    );
  }
  return parseInt(text, 16);
}

/**
 * Parses a class id or parent as `tc` does: "1:10" is 0x00010010, "1:" is 0x00010000, ":10" is
 * 0x10, "root" is TC_H_ROOT, "ingress" and "clsact" are TC_H_INGRESS (their qdisc's place),
 * "none" is 0. Numbers pass through (checked to be u32).
 *
 * @example
 * ```ts
 * import { parseHandle } from "@netlink/netlink/route";
 * console.log(parseHandle("1:10").toString(16)); // "10010"
 * ```
 */
export function parseHandle(handle: TcHandle, what = "handle"): number {
  if (typeof handle === "number") {
    if (!Number.isInteger(handle) || handle < 0 || handle > 0xffff_ffff) {
      throw new RangeError(`${what}: ${shown(handle)} is not a u32 handle`);
    }
    return handle;
  }
  checkHandleText(handle, what);
  switch (handle) {
    case "root":
      return TC_H_ROOT;
    case "ingress":
      return TC_H_INGRESS;
    case "clsact":
      return TC_H_CLSACT;
    case "none":
      return TC_H_UNSPEC;
  }
  const colon = handle.indexOf(":");
  if (colon < 0) return hex16(handle, handle, what);
  const major = colon === 0 ? 0 : hex16(handle.slice(0, colon), handle, what);
  const minorText = handle.slice(colon + 1);
  const minor = minorText === "" ? 0 : hex16(minorText, handle, what);
  return ((major << 16) | minor) >>> 0;
}

/**
 * Parses a qdisc handle as `tc` does: "1:" or "1" is 0x00010000 (a qdisc's handle has no
 * minor). Numbers pass through.
 *
 * @example
 * ```ts
 * import { parseQdiscHandle } from "@netlink/netlink/route";
 * console.log(parseQdiscHandle("10:").toString(16)); // "100000"
 * ```
 */
export function parseQdiscHandle(handle: TcHandle): number {
  if (typeof handle === "number") return parseHandle(handle, "qdisc handle");
  checkHandleText(handle, "qdisc handle");
  if (handle === "none") return TC_H_UNSPEC;
  const match = /^([0-9a-fA-F]{1,4}):?$/.exec(handle);
  if (!match) {
    throw new RangeError(
      `qdisc handle: ${shown(handle)} is not a qdisc handle (MAJOR: in hexadecimal)`,
    );
  }
  return parseInt(match[1], 16) * 0x10000;
}

/**
 * Formats a handle as `tc` prints it: "root", "none", "1:", "1:10", ":10". Throws TypeError for
 * what is no integer (a fraction, NaN, a string), RangeError for an integer out of the u32
 * range (a negative, past 0xffffffff).
 *
 * @example
 * ```ts
 * import { formatHandle } from "@netlink/netlink/route";
 * console.log(formatHandle(0x10010), formatHandle(0xffffffff)); // "1:10" "root"
 * ```
 */
export function formatHandle(handle: number): string {
  checkNumberArgument("formatHandle(): handle", handle, { max: 0xffff_ffff });
  if (handle === TC_H_ROOT) return "root";
  if (handle === TC_H_UNSPEC) return "none";
  const major = ((handle & TC_H_MAJ_MASK) >>> 16).toString(16);
  const minor = (handle & TC_H_MIN_MASK).toString(16);
  if (major === "0") return `:${minor}`;
  if (minor === "0") return `${major}:`;
  return `${major}:${minor}`;
}

/**
 * The parent a filter takes on a clsact or ingress qdisc: "ingress" is ffff:fff2, "egress"
 * ffff:fff3, as `tc filter add dev X ingress|egress` writes them. Other parents parse as
 * {@linkcode parseHandle}.
 *
 * @example
 * ```ts
 * import { parseFilterParent } from "@netlink/netlink/route";
 * console.log(parseFilterParent("egress").toString(16)); // "fffffff3"
 * ```
 */
export function parseFilterParent(parent: TcHandle): number {
  if (parent === "ingress") return (TC_H_CLSACT & TC_H_MAJ_MASK | TC_H_MIN_INGRESS) >>> 0;
  if (parent === "egress") return (TC_H_CLSACT & TC_H_MAJ_MASK | TC_H_MIN_EGRESS) >>> 0;
  return parseHandle(parent, "parent");
}
