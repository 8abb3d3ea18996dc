/**
 * Generic netlink: the genlmsghdr, and family / multicast group resolution by name through the
 * kernel's nlctrl family.
 *
 * @module
 */

import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_HDRSIZE,
  CTRL_ATTR_MAXATTR,
  CTRL_ATTR_MCAST_GROUPS,
  CTRL_ATTR_MCAST_GRP_ID,
  CTRL_ATTR_MCAST_GRP_NAME,
  CTRL_ATTR_OP,
  CTRL_ATTR_OP_FLAGS,
  CTRL_ATTR_OP_ID,
  CTRL_ATTR_OP_POLICY,
  CTRL_ATTR_OPS,
  CTRL_ATTR_POLICY,
  CTRL_ATTR_POLICY_DO,
  CTRL_ATTR_POLICY_DUMP,
  CTRL_ATTR_VERSION,
  CTRL_CMD_GETFAMILY,
  CTRL_CMD_GETPOLICY,
  GENL_CMD_CAP_HASPOL,
  GENL_HDRLEN,
  GENL_ID_CTRL,
  GENL_NAMSIZ,
  NETLINK_GENERIC,
  NLM_F_DUMP,
} from "./_constants.ts";
import { checkBytes, checkInteger, checkOptions, integerFieldError, shown } from "./_options.ts";
import { protocolText } from "./_protocols.ts";
import { suggestion } from "./_suggest.ts";
import { AttributeDecoder, AttributeEncoder } from "./attribute.ts";
import { MalformedMessageError, NetlinkError } from "./errors.ts";
import type { Message } from "./message.ts";
import { type AttributePolicy, decodeAttributePolicy } from "./policy.ts";
import type { NetlinkSocket, RequestOptions } from "./socket.ts";

/**
 * A generic netlink family as the kernel registered it.
 *
 * @example
 * ```ts
 * import { NETLINK_GENERIC, open, resolveFamily } from "@netlink/netlink";
 * await using sock = await open(NETLINK_GENERIC);
 * const family = await resolveFamily(sock, "nlctrl");
 * console.log(family.id, [...family.groups.keys()]);
 * ```
 */
export interface GenericFamily {
  /** The family's name, e.g. "nl80211". */
  readonly name: string;
  /** The message type to use for this family's requests (CTRL_ATTR_FAMILY_ID). */
  readonly id: number;
  /** The family's version. */
  readonly version: number;
  /** Size of the family's own fixed header after the genlmsghdr. */
  readonly headerSize: number;
  /** Highest attribute type the family accepts. */
  readonly maxAttribute: number;
  /** Multicast groups: name → group number to join. */
  readonly groups: ReadonlyMap<string, number>;
  /**
   * The family's operations: command number → GENL_* flags (GENL_CMD_CAP_DO, GENL_CMD_CAP_DUMP:
   * whether it can be done or dumped; GENL_CMD_CAP_HASPOL: it has a policy; GENL_ADMIN_PERM,
   * GENL_UNS_ADMIN_PERM: it needs CAP_NET_ADMIN). Always there in what resolveFamily() and
   * decodeFamily() return; optional for families built by hand.
   */
  readonly operations?: ReadonlyMap<number, number>;
}

/**
 * A generic family's attribute policies, as nlctrl's CTRL_CMD_GETPOLICY reports them: which
 * attributes each operation accepts and what each must be.
 *
 * @example
 * ```ts
 * import { CTRL_ATTR_FAMILY_NAME, CTRL_CMD_GETFAMILY, NETLINK_GENERIC, open, resolvePolicy } from "@netlink/netlink";
 * await using sock = await open(NETLINK_GENERIC);
 * const { operations, policies } = await resolvePolicy(sock, "nlctrl");
 * const index = operations.get(CTRL_CMD_GETFAMILY)!.do!;
 * console.log(policies.get(index)!.get(CTRL_ATTR_FAMILY_NAME)); // { type: 12, maxLength: 15 }
 * ```
 */
export interface FamilyPolicy {
  /** Policy index → attribute type → what the attribute must be. */
  readonly policies: ReadonlyMap<number, ReadonlyMap<number, AttributePolicy>>;
  /** Command number → the index of its policy when done (`do`) and when dumped (`dump`). */
  readonly operations: ReadonlyMap<number, { readonly do?: number; readonly dump?: number }>;
}

/**
 * A genlmsghdr (command, version, reserved) followed by `body` (attributes, usually): the
 * payload of a generic netlink message.
 *
 * @example
 * ```ts
 * import { AttributeEncoder, CTRL_ATTR_FAMILY_NAME, CTRL_CMD_GETFAMILY, encodeGeneric } from "@netlink/netlink";
 * const attrs = new AttributeEncoder().string(CTRL_ATTR_FAMILY_NAME, "nlctrl").finish();
 * const payload = encodeGeneric(CTRL_CMD_GETFAMILY, 1, attrs);
 * console.log(payload.length); // 4 + 12
 * ```
 */
export function encodeGeneric(
  command: number,
  version: number,
  body: Uint8Array = new Uint8Array(0),
): Uint8Array {
  checkBytes("encodeGeneric(): the body", body);
  for (const [name, value] of [["command", command], ["version", version]] as const) {
    if (!Number.isInteger(value) || value < 0 || value > 255) {
      throw integerFieldError(
        value,
        `genlmsghdr ${name} must be an integer from 0 to 255, got ${shown(value)}`,
      );
    }
  }
  const payload = new Uint8Array(GENL_HDRLEN + body.length);
  payload[0] = command;
  payload[1] = version;
  payload.set(body, GENL_HDRLEN);
  return payload;
}

/**
 * A generic netlink payload split into its genlmsghdr fields and the bytes after it.
 *
 * @example
 * ```ts
 * import { decodeGeneric, encodeGeneric } from "@netlink/netlink";
 * const { command, version, body } = decodeGeneric(encodeGeneric(1, 2, new Uint8Array([9])));
 * console.log(command, version, body); // 1 2 Uint8Array(1) [ 9 ]
 * ```
 */
export function decodeGeneric(
  payload: Uint8Array,
): { command: number; version: number; body: Uint8Array } {
  checkBytes("decodeGeneric(): the payload", payload);
  if (payload.length < GENL_HDRLEN) {
    throw new MalformedMessageError(
      `generic netlink payload of ${payload.length} bytes is shorter than a genlmsghdr`,
      0,
    );
  }
  return { command: payload[0], version: payload[1], body: payload.subarray(GENL_HDRLEN) };
}

/**
 * Decodes a CTRL_CMD_NEWFAMILY message from nlctrl (a reply to CTRL_CMD_GETFAMILY, or a
 * notification on nlctrl's "notify" group), or one of nlctrl's other announcements on that
 * group: CTRL_CMD_DELFAMILY (the family as it was, groups included: what the kernel stopped
 * delivering), CTRL_CMD_NEWMCAST_GRP and CTRL_CMD_DELMCAST_GRP (the family's name and id, and
 * the one group). The command is the payload's first byte.
 *
 * @example
 * ```ts
 * import { decodeFamily, type Message } from "@netlink/netlink";
 * function groupsOf(reply: Message): ReadonlyMap<string, number> {
 *   return decodeFamily(reply).groups;
 * }
 * ```
 */
export function decodeFamily(message: Message): GenericFamily {
  checkBytes("decodeFamily(): the message's payload", message?.payload);
  const family = {
    name: "",
    id: 0,
    version: 0,
    headerSize: 0,
    maxAttribute: 0,
    groups: new Map<string, number>(),
    operations: new Map<number, number>(),
  };
  for (const a = new AttributeDecoder(decodeGeneric(message.payload).body); a.next();) {
    switch (a.type) {
      case CTRL_ATTR_FAMILY_ID:
        family.id = a.u16();
        break;
      case CTRL_ATTR_FAMILY_NAME:
        family.name = a.string();
        break;
      case CTRL_ATTR_VERSION:
        family.version = a.u32();
        break;
      case CTRL_ATTR_HDRSIZE:
        family.headerSize = a.u32();
        break;
      case CTRL_ATTR_MAXATTR:
        family.maxAttribute = a.u32();
        break;
      case CTRL_ATTR_MCAST_GROUPS:
        for (const entry = a.nestedDecoder(); entry.next();) {
          let name = "", id = 0;
          for (const g = entry.nestedDecoder(); g.next();) {
            if (g.type === CTRL_ATTR_MCAST_GRP_NAME) name = g.string();
            else if (g.type === CTRL_ATTR_MCAST_GRP_ID) id = g.u32();
          }
          family.groups.set(name, id);
        }
        break;
      case CTRL_ATTR_OPS:
        for (const entry = a.nestedDecoder(); entry.next();) {
          let id = -1, flags = 0;
          for (const op = entry.nestedDecoder(); op.next();) {
            if (op.type === CTRL_ATTR_OP_ID) id = op.u32();
            else if (op.type === CTRL_ATTR_OP_FLAGS) flags = op.u32();
          }
          if (id >= 0) family.operations.set(id, flags);
        }
        break;
    }
  }
  return family;
}

function checkGenericSocket(socket: NetlinkSocket, name: string): void {
  if (socket === null || typeof socket !== "object" || typeof socket.protocol !== "number") {
    throw new TypeError(
      `nlctrl is reached through a NETLINK_GENERIC socket from open(), got ${
        socket === null ? "null" : typeof socket
      }`,
    );
  }
  if (socket.protocol !== NETLINK_GENERIC) {
    throw new TypeError(
      `nlctrl is reached through a NETLINK_GENERIC socket, this one is ${
        protocolText(socket.protocol)
      }`,
    );
  }
  if (typeof name !== "string" || name === "") {
    throw new TypeError("family name must be a non-empty string");
  }
  if (name.includes("\0")) throw new TypeError("family name must not contain NUL");
  // nlctrl's policy says it (NLA_NUL_STRING of GENL_NAMSIZ - 1), but only as "EINVAL: Attribute
  // failed policy validation".
  const bytes = utf8.encode(name).length;
  if (bytes >= GENL_NAMSIZ) {
    throw new RangeError(
      `family name ${JSON.stringify(name)} is ${bytes} bytes long: generic netlink names are at `
        + `most ${GENL_NAMSIZ - 1}`,
    );
  }
}

const utf8 = new TextEncoder();

/**
 * nlctrl's bare ENOENT for a family it does not know, said as what it means: a misspelling of a
 * registered family's name (one of `registered`), or a family whose module is not loaded.
 */
function notRegistered(
  err: NetlinkError,
  name: string,
  registered: readonly string[] = [],
): NetlinkError {
  const closest = suggestion(name, registered);
  return new NetlinkError({
    ...err,
    detail: `generic netlink family "${name}" is not registered${
      closest || " (is its module loaded?)"
    }`,
  });
}

/**
 * The names of the families registered now (nlctrl's dump), for {@linkcode notRegistered}'s
 * "did you mean"; none when the dump fails (the ENOENT is the error to report).
 */
async function registeredNames(
  socket: NetlinkSocket,
  options: RequestOptions | undefined,
): Promise<string[]> {
  try {
    const replies = await socket.request({
      type: GENL_ID_CTRL,
      flags: NLM_F_DUMP,
      payload: encodeGeneric(CTRL_CMD_GETFAMILY, 1, new Uint8Array(0)),
    }, options);
    return replies.map((reply) => decodeFamily(reply).name);
  } catch {
    return [];
  }
}

/**
 * Asks nlctrl for the family called `name`: its message type (id), version, header size,
 * multicast groups and operations. `socket` must be a NETLINK_GENERIC socket. Rejects with a
 * NetlinkError with code "ENOENT" when no such family is registered (its module isn't loaded,
 * or the name is misspelt: the message then names the registered family closest to it,
 * `did you mean "ethtool"?`, asked of nlctrl once the ENOENT came),
 * and, before sending anything, with a TypeError or RangeError for a name that is empty, holds
 * NUL or is longer than a family name can be (15 bytes in UTF-8).
 * Nothing is cached: a family whose module was reloaded gets its new id on the next call.
 *
 * A reload also ends the socket's memberships of the family's groups: unregistering a family
 * drops them in the kernel, though `socket.groups` still lists them. The family comes back
 * under a new id, its groups perhaps under new numbers, and nothing is delivered to the old
 * memberships. To follow it, join nlctrl's "notify" group too (its number is nlctrl's id,
 * GENL_ID_CTRL). nlctrl announces from the kernel (port 0) CTRL_CMD_DELFAMILY, then
 * CTRL_CMD_NEWFAMILY; {@linkcode decodeFamily} reads both, with the groups. On the first,
 * leave the groups (so that `socket.groups` is true again); on the second, join the new
 * numbers. The typed layer's `monitor()` does this by itself.
 *
 * @example
 * ```ts
 * import { NETLINK_GENERIC, open, resolveFamily } from "@netlink/netlink";
 * await using sock = await open(NETLINK_GENERIC);
 * const { id, groups } = await resolveFamily(sock, "nl80211");
 * sock.join(groups.get("mlme")!);
 * ```
 */
export async function resolveFamily(
  socket: NetlinkSocket,
  name: string,
  options?: RequestOptions,
): Promise<GenericFamily> {
  checkGenericSocket(socket, name);
  const attrs = new AttributeEncoder().string(CTRL_ATTR_FAMILY_NAME, name).finish();
  let replies: Message[];
  try {
    replies = await socket.request({
      type: GENL_ID_CTRL,
      payload: encodeGeneric(CTRL_CMD_GETFAMILY, 1, attrs),
    }, options);
  } catch (err) {
    if (err instanceof NetlinkError && err.code === "ENOENT") {
      throw notRegistered(err, name, await registeredNames(socket, options));
    }
    throw err;
  }
  if (replies.length !== 1) {
    throw new MalformedMessageError(`nlctrl sent ${replies.length} replies, expected 1`, 0);
  }
  return decodeFamily(replies[0]);
}

// Every key of resolvePolicy()'s options and nothing else (`satisfies`): it refuses any other.
const POLICY_KEYS = Object.keys(
  { signal: 0, timeout: 0, to: 0, command: 0 } satisfies Record<
    keyof (RequestOptions & { command?: number }),
    0
  >,
);

/**
 * Asks nlctrl for the attribute policies of the family called `name` (CTRL_CMD_GETPOLICY, a
 * dump; kernels from 5.10), of every operation, or of `command` alone. `socket` must be a
 * NETLINK_GENERIC socket. `operations` is keyed by command, a dump-only operation's too (the
 * kernel nests its indices under command 0: its place among the family's operations with a
 * policy, GENL_CMD_CAP_HASPOL, names it, read with one more request). Rejects with NetlinkError
 * "ENOENT" when no such family is registered (or, for `command`, the family has no such
 * operation), each saying which, "ENODATA" when none of its operations (or `command`) has a
 * policy, "EOPNOTSUPP" when the kernel cannot describe policies; a bad name is refused as {@linkcode resolveFamily}
 * refuses it, and a `command` that is no command number (an integer from 0 to 255, genlmsghdr's
 * u8) with a RangeError, before anything is sent.
 *
 * @example
 * ```ts
 * import { NETLINK_GENERIC, open, resolvePolicy } from "@netlink/netlink";
 * await using sock = await open(NETLINK_GENERIC);
 * const { policies } = await resolvePolicy(sock, "nlctrl");
 * console.log(policies.size);
 * ```
 */
export async function resolvePolicy(
  socket: NetlinkSocket,
  name: string,
  options: RequestOptions & { command?: number } = {},
): Promise<FamilyPolicy> {
  checkGenericSocket(socket, name);
  const { command, ...requestOptions } = checkOptions(
    "resolvePolicy() options",
    options,
    POLICY_KEYS,
  );
  // genlmsghdr's cmd is a u8: nlctrl has no operation past 255 to describe.
  if (command !== undefined) checkInteger("resolvePolicy() command", command, 0, 0xff);
  const attrs = new AttributeEncoder().string(CTRL_ATTR_FAMILY_NAME, name);
  if (command !== undefined) attrs.u32(CTRL_ATTR_OP, command);
  let parts: Message[];
  try {
    parts = await socket.request({
      type: GENL_ID_CTRL,
      flags: NLM_F_DUMP,
      payload: encodeGeneric(CTRL_CMD_GETPOLICY, 1, attrs.finish()),
    }, requestOptions);
  } catch (err) {
    if (!(err instanceof NetlinkError) || err.code !== "ENOENT") throw err;
    // nlctrl points at CTRL_ATTR_OP when the family lacks the command, and at nothing when it
    // does not know the family.
    if (err.offset === undefined) {
      throw notRegistered(err, name, await registeredNames(socket, requestOptions));
    }
    if (command === undefined) throw err;
    throw new NetlinkError({
      ...err,
      detail: `generic netlink family "${name}" has no command ${command}`,
    });
  }
  const policies = new Map<number, Map<number, AttributePolicy>>();
  /** Each operation's nest type (its doit's command, 0 without one) and indices, in order. */
  const nested: [number, { do?: number; dump?: number }][] = [];
  for (const part of parts) {
    for (const a = new AttributeDecoder(decodeGeneric(part.payload).body); a.next();) {
      if (a.type === CTRL_ATTR_POLICY) {
        for (const byIndex = a.nestedDecoder(); byIndex.next();) {
          let attributes = policies.get(byIndex.type);
          if (!attributes) policies.set(byIndex.type, attributes = new Map());
          for (const byType = byIndex.nestedDecoder(); byType.next();) {
            attributes.set(byType.type, decodeAttributePolicy(byType.bytes()));
          }
        }
      } else if (a.type === CTRL_ATTR_OP_POLICY) {
        for (const byOp = a.nestedDecoder(); byOp.next();) {
          const indices: { do?: number; dump?: number } = {};
          for (const i = byOp.nestedDecoder(); i.next();) {
            if (i.type === CTRL_ATTR_POLICY_DO) indices.do = i.u32();
            else if (i.type === CTRL_ATTR_POLICY_DUMP) indices.dump = i.u32();
          }
          nested.push([byOp.type, indices]);
        }
      }
    }
  }
  // ctrl_dumppolicy_put_op nests by the doit's command: 0 for a dump-only operation (nlctrl's
  // GETPOLICY, netdev's qstats-get), whose command is that of the operation in its place among
  // those with a policy, which CTRL_CMD_GETFAMILY lists in the same order.
  let commands = nested.map(([type]) => type);
  if (command !== undefined) commands = commands.map(() => command);
  else if (commands.includes(0)) {
    const { operations = new Map() } = await resolveFamily(socket, name, requestOptions);
    const withPolicy = [...operations].filter(([, flags]) => flags & GENL_CMD_CAP_HASPOL);
    if (
      withPolicy.length === nested.length
      && commands.every((type, i) => type === 0 || type === withPolicy[i][0])
    ) {
      commands = withPolicy.map(([cmd]) => cmd);
    }
  }
  const operations = new Map(nested.map(([, indices], i) => [commands[i], indices]));
  return { policies, operations };
}
