// A network namespace as `ip` names it, resolved to the file that holds it. Internal.

import { shown } from "./_options.ts";

/**
 * The path of the namespace `netns` names: a path as given (it holds a "/": /run/netns/blue,
 * /proc/1234/ns/net), or an `ip netns` name, which lives at /run/netns/NAME. Throws TypeError
 * for anything else, before any system call; `field` names the option in the message.
 */
export function netnsPath(netns: unknown, field = "netns"): string {
  if (
    typeof netns !== "string" || netns === "" || netns === "." || netns === ".."
    || netns.includes("\0")
  ) {
    throw new TypeError(
      `${field}: ${shown(netns)} is not a namespace path or \`ip netns\` name`,
    );
  }
  return netns.includes("/") ? netns : `/run/netns/${netns}`;
}
