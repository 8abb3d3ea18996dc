// A network namespace as `ip` names it, resolved to the file that holds it. Internal.

import { checkWellFormed, shown } from "./_options.ts";

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
  // Encoded with U+FFFD for a lone surrogate, it would open another namespace: that one's path.
  checkWellFormed(netns, field);
  return netns.includes("/") ? netns : `/run/netns/${netns}`;
}

/** The longest `ip netns` name, in UTF-8 bytes: iproute2 takes names shorter than NAME_MAX. */
const NAME_MAX = 255;

/**
 * Checks `name` as an `ip netns` name (a file in /run/netns): a non-empty string of fewer than
 * 255 UTF-8 bytes, without "/" or NUL, and not "." or "..". Throws TypeError, before any system
 * call, naming `field` (the function it was given to) otherwise.
 */
export function checkNetnsName(name: unknown, field: string): string {
  const why = typeof name !== "string"
    ? "is not a string"
    : name === ""
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
  if (why !== undefined) {
    throw new TypeError(`${field}: ${shown(name)} ${why}; an \`ip netns\` name is needed`);
  }
  return name as string;
}
