/**
 * Extended acks in the request's own terms: the kernel points at an attribute by its byte offset
 * in the request, or names a missing one by number (and the offset of its nest); with the
 * descriptor both become a path of property names, `linkinfo.data.mcastIgmpVersion`, as the
 * kernel's tools/net/ynl/pyynl/lib/ynl.py does.
 *
 * @module
 */

import { GENL_HDRLEN, NLMSG_HDRLEN } from "../_constants.ts";
import { errnoDescription } from "../_errno.ts";
import { printable } from "../_printable.ts";
import { sharedView } from "../_view.ts";
import { AttributeDecoder } from "../attribute.ts";
import { NetlinkError } from "../errors.ts";
import {
  type Codec,
  type CompiledAttribute,
  type CompiledSet,
  findSelector,
  NEST,
  nestedSet,
  type Scope,
  SUB_MESSAGE,
} from "./_compile.ts";
import { decoderOf } from "./_decode.ts";
import type { OperationDescriptor } from "./_descriptor.ts";

/** What a bare EPERM from a netlink family means, and what to do. */
export const NEEDS_NET_ADMIN =
  "needs CAP_NET_ADMIN: run as root, or grant the process that capability";

/**
 * A {@linkcode NetlinkError} answering a request made through a family: which request it was
 * (`operation`, "ethtool rings-get", which its message names too:
 * `EOPNOTSUPP: ethtool rings-get: Operation not supported`) and what the kernel's extended ack
 * pointed at, as a path of the request's property names. `code` and `errno` are the kernel's.
 *
 * @example
 * ```ts
 * import { NLM_F_CREATE, NLM_F_EXCL } from "@netlink/netlink";
 * import { family, FamilyError } from "@netlink/netlink/ynl";
 * import { rtLink } from "@netlink/netlink/ynl/rt-link";
 * await using rt = await family(rtLink);
 * // The bridge's policy rejects its learned-entries counter, which is read only.
 * const data = { fdbNLearned: 1 };
 * try {
 *   await rt.do("newlink", { ifname: "br9", linkinfo: { kind: "bridge", data } }, {
 *     flags: NLM_F_CREATE | NLM_F_EXCL,
 *   });
 * } catch (err) {
 *   if (err instanceof FamilyError) console.log(err.attribute); // "linkinfo.data.fdbNLearned"
 * }
 * ```
 */
export class FamilyError extends NetlinkError {
  /** The attribute at the kernel's offset, as a path of property names (`linkinfo.data.mtu`). */
  readonly attribute?: string;
  /** The attribute the kernel said is missing, as a path (`header.devIndex`). */
  readonly missingAttribute?: string;
  /** The family and operation of the request refused (`"ethtool rings-get"`). */
  readonly operation?: string;

  /**
   * Wraps `error` with the request's operation and the paths found for it.
   *
   * @param error The kernel's error for the request.
   * @param attribute Path of the attribute at its offset.
   * @param missingAttribute Path of the missing attribute.
   * @param operation The family and operation (`"ethtool rings-get"`).
   */
  constructor(
    error: NetlinkError,
    attribute?: string,
    missingAttribute?: string,
    operation?: string,
  ) {
    super(error);
    this.name = "FamilyError";
    this.attribute = attribute;
    this.missingAttribute = missingAttribute;
    this.operation = operation;
    const parts = [
      error.detail === undefined ? errnoDescription(error.errno) : printable(error.detail),
    ];
    if (attribute !== undefined) parts.push(`at ${attribute}`);
    else if (error.offset !== undefined) parts.push(`at offset ${error.offset}`);
    if (missingAttribute !== undefined) parts.push(`missing ${missingAttribute}`);
    else if (error.missing) parts.push(`missing attribute ${error.missing.type}`);
    const what = operation === undefined ? "" : `${operation}: `;
    // The kernel's EPERM for an operation (GENL_ADMIN_PERM, rtnetlink's changes) says no more.
    const hint = error.code === "EPERM" && error.detail === undefined
      ? ` (${NEEDS_NET_ADMIN})`
      : "";
    this.message = `${error.code}: ${what}${parts.join(", ")}${hint}`;
  }
}

/** Where the walk is: a set's attributes over `[start, end)` of the payload, and its scope. */
interface Level {
  readonly set: CompiledSet;
  readonly start: number;
  readonly end: number;
  readonly path: string;
  readonly scope: Scope | undefined;
}

/**
 * `error` as a {@linkcode FamilyError} naming the request (`what`: "ethtool rings-get"), with
 * paths for what it points at when the request's payload (as sent, without the nlmsghdr) lets
 * them be found. Other errors (a timeout, a decode failure) pass unchanged.
 */
export function explainError(
  codec: Codec,
  op: OperationDescriptor,
  payload: Uint8Array,
  error: unknown,
  what: string,
): unknown {
  if (!(error instanceof NetlinkError) || error instanceof FamilyError) return error;
  const [attribute, missing] = paths(codec, op, payload, error);
  return new FamilyError(error, attribute, missing, what);
}

/** The paths of the attribute at `error`'s offset and of the one it says is missing. */
function paths(
  codec: Codec,
  op: OperationDescriptor,
  payload: Uint8Array,
  error: NetlinkError,
): [string | undefined, string | undefined] {
  if (op.set === undefined || (error.offset === undefined && error.missing === undefined)) {
    return [undefined, undefined];
  }
  try {
    const header = op.header === undefined ? 0 : codec.struct(op.header).size;
    const top: Level = {
      set: codec.set(op.set),
      start: (codec.genetlink ? GENL_HDRLEN : 0) + header,
      end: payload.byteLength,
      path: "",
      scope: undefined,
    };
    const attribute = error.offset === undefined
      ? undefined
      : find(codec, payload, top, error.offset - NLMSG_HDRLEN)?.path;
    let missing: string | undefined;
    if (error.missing !== undefined) {
      const nest = error.missing.nestOffset === undefined
        ? top
        : find(codec, payload, top, error.missing.nestOffset - NLMSG_HDRLEN)?.inside;
      const key = nest?.set.byType[error.missing.type]?.key;
      if (key !== undefined) missing = join(nest!.path, key);
    }
    return [attribute, missing];
  } catch {
    return [undefined, undefined]; // a payload the walk cannot follow: the kernel's offsets
  }
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/**
 * The attribute whose header is at `target`: its path, and the level of its value when it holds
 * attributes (a nest, or a sub-message format with a set). An offset inside an attribute that
 * cannot be entered names that attribute.
 */
function find(
  codec: Codec,
  payload: Uint8Array,
  level: Level,
  target: number,
): { path: string; inside?: Level } | undefined {
  const values: Record<string, unknown> = {};
  const view = sharedView(payload.buffer);
  decoderOf(codec, level.set)(
    payload,
    view,
    payload.byteOffset,
    level.start,
    level.end,
    values,
    level.scope,
  );
  const scope: Scope = { values, set: level.set, parent: level.scope };
  for (const decoder = new AttributeDecoder(payload, level.start, level.end); decoder.next();) {
    const value = decoder.bytes();
    const at = value.byteOffset - payload.byteOffset - 4;
    const end = at + 4 + value.byteLength;
    if (target < at || target >= end) continue;
    const attribute = level.set.byType[decoder.type];
    if (attribute === undefined) return undefined;
    const path = join(level.path, attribute.key);
    const inside = enter(codec, attribute, scope, at + 4, end, path);
    if (target === at || inside === undefined) return { path, inside };
    return find(codec, payload, inside, target) ?? { path, inside };
  }
  return undefined;
}

/** The level of attributes inside `attribute`'s value at `[start, end)`, if it has one. */
function enter(
  codec: Codec,
  attribute: CompiledAttribute,
  scope: Scope,
  start: number,
  end: number,
  path: string,
): Level | undefined {
  if (attribute.code === NEST) {
    return { set: nestedSet(codec, attribute), start, end, path, scope };
  }
  if (attribute.code !== SUB_MESSAGE) return undefined;
  const selector = findSelector(scope, attribute.options.selector!)?.[0];
  const formats = codec.descriptor.subMessages[attribute.options.subMessage!];
  if (typeof selector !== "string" || formats === undefined || !Object.hasOwn(formats, selector)) {
    return undefined;
  }
  const format = formats[selector];
  if (format.set === undefined) return undefined;
  const header = format.header === undefined ? 0 : codec.struct(format.header).size;
  return { set: codec.set(format.set), start: start + header, end, path, scope };
}
