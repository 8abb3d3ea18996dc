// A network namespace as `ip` names it, resolved to the file that holds it. Internal.

import { NETNS_RUN_DIR } from "../ffi/_netns.ts";
import { checkWellFormed, shown } from "./_options.ts";

/**
 * The path of the namespace `netns` names: an absolute path as given (it begins with "/":
 * /run/netns/blue, /proc/1234/ns/net), or an `ip netns` name, which lives at /run/netns/NAME
 * ({@linkcode checkNetnsName}: no "/", not "." or ".."). A relative path ("blue/x",
 * "../../etc") is neither: it would be opened from the current directory, where `ip -n` looks
 * under /run/netns. Throws TypeError for anything else, before any system call; `field` names
 * the option in the message.
 */
export function netnsPath(netns: unknown, field = "netns"): string {
  if (typeof netns !== "string") {
    throw new TypeError(`${field}: ${shown(netns)} is not a namespace path or \`ip netns\` name`);
  }
  if (!netns.startsWith("/")) {
    const why = netns.includes("/")
      ? "is a relative path: give an absolute one (/run/netns/NAME, /proc/PID/ns/net) or an "
        + "`ip netns` name (no \"/\")"
      : nameProblem(netns);
    if (why !== undefined) {
      throw new TypeError(`${field}: ${shown(netns)} is not a namespace path or name: it ${why}`);
    }
    return `${NETNS_RUN_DIR}/${netns}`;
  }
  if (netns.includes("\0")) {
    throw new TypeError(
      `${field}: ${shown(netns)} is not a namespace path or name: it holds a NUL`,
    );
  }
  // Encoded with U+FFFD for a lone surrogate, it would open another namespace: that one's path.
  checkWellFormed(netns, field);
  return netns;
}

/** The longest `ip netns` name, in UTF-8 bytes: iproute2 takes names shorter than NAME_MAX. */
const NAME_MAX = 255;

/**
 * Checks `name` as an `ip netns` name (a file in /run/netns): a non-empty string of fewer than
 * 255 UTF-8 bytes, without "/" or NUL, and not "." or "..". Throws TypeError, before any system
 * call, naming `field` (the function it was given to) otherwise.
 */
export function checkNetnsName(name: unknown, field: string): string {
  const why = typeof name !== "string" ? "is not a string" : nameProblem(name);
  if (why !== undefined) {
    throw new TypeError(`${field}: ${shown(name)} ${why}; an \`ip netns\` name is needed`);
  }
  return name as string;
}

/** What makes `name` no `ip netns` name, or undefined when it is one. */
function nameProblem(name: string): string | undefined {
  return name === ""
    ? "is empty"
    : name === "." || name === ".."
    ? "is not a name"
    : name.includes("/")
    ? "holds a \"/\" (a name, not a path: it lives at /run/netns/NAME)"
    : name.includes("\0")
    ? "holds a NUL"
    : !name.isWellFormed()
    ? "holds a lone surrogate, which has no UTF-8 form"
    : new TextEncoder().encode(name).length >= NAME_MAX
    ? `is ${NAME_MAX} bytes or longer`
    : undefined;
}
