/**
 * A pretty printer for netlink messages: {@linkcode format} names the message type and flags for
 * the protocol, decodes the fixed header and attributes through the generated YNL descriptors
 * where the family is known (nested sets, sub-messages, enums and flags by name, addresses as
 * text and `hex`-hinted integers in hex as the specs' display hints say), shows raw hex where it
 * is not, and prints errors and acks with the errno name and the extended-ack text. One
 * line, or an indented tree.
 *
 * {@linkcode NetlinkFormatter} does the same for a stream of messages, learning generic netlink
 * family ids from the nlctrl replies it sees; `NETLINK_DEBUG=1` traces every socket's traffic
 * with it (see `open()`).
 *
 * @example
 * ```ts
 * import { encodeMessage, NETLINK_ROUTE, NLM_F_DUMP, NLM_F_REQUEST, RTM_GETLINK } from "@netlink/netlink";
 * import { format } from "@netlink/netlink/format";
 * const message = { type: RTM_GETLINK, flags: NLM_F_REQUEST | NLM_F_DUMP, seq: 1, portid: 0, payload: new Uint8Array(16) };
 * console.log(format(message, { protocol: NETLINK_ROUTE }));
 * // RTM_GETLINK flags=REQUEST|DUMP seq=1 port=0 ifinfomsg={ifiFamily=0 ifiType=0 ifiIndex=0 ifiFlags=0 ifiChange=0}
 * ```
 *
 * @module
 */

import { HOST_LITTLE_ENDIAN } from "./_endian.ts";
import { errnoDescription, errnoName } from "./_errno.ts";
import { toHex } from "./_hex.ts";
import { checkOptions, shown } from "./_options.ts";
import { quoted } from "./_printable.ts";
import { PROTOCOL_NAMES } from "./_protocols.ts";
import { decodeAck } from "./ack.ts";
import { AttributeDecoder } from "./attribute.ts";
import {
  CTRL_CMD_DELFAMILY,
  CTRL_CMD_DELMCAST_GRP,
  CTRL_CMD_NEWFAMILY,
  CTRL_CMD_NEWMCAST_GRP,
  GENL_HDRLEN,
  GENL_ID_CTRL,
  MAX_LINKS,
  NETLINK_CONNECTOR,
  NETLINK_GENERIC,
  NETLINK_NETFILTER,
  NETLINK_ROUTE,
  NETLINK_SOCK_DIAG,
  NLM_F_ACK,
  NLM_F_ACK_TLVS,
  NLM_F_APPEND,
  NLM_F_ATOMIC,
  NLM_F_BULK,
  NLM_F_CAPPED,
  NLM_F_CREATE,
  NLM_F_DUMP_FILTERED,
  NLM_F_DUMP_INTR,
  NLM_F_ECHO,
  NLM_F_EXCL,
  NLM_F_MATCH,
  NLM_F_MULTI,
  NLM_F_NONREC,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
  NLM_F_ROOT,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_MIN_TYPE,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
} from "./constants.ts";
import * as constants from "./constants.ts";
import { SOCK_DESTROY, SOCK_DIAG_BY_FAMILY } from "./diag/_constants.ts";
import { decodeFamily } from "./genl.ts";
import type { Message } from "./message.ts";
import { codecOf } from "./ynl/_compile.ts";
import { messageDecoder } from "./ynl/_decode.ts";
import {
  type AttributeDescriptor,
  type DisplayHint,
  type FamilyDescriptor,
  type KeptTail,
  type OperationDescriptor,
  structTail,
  unknownAttributes,
} from "./ynl/_descriptor.ts";
import { binder } from "./ynl/binder.ts";
import { conntrack } from "./ynl/conntrack.ts";
import { devEnergymodel } from "./ynl/dev_energymodel.ts";
import { devlink } from "./ynl/devlink.ts";
import { dpll } from "./ynl/dpll.ts";
import { drmRas } from "./ynl/drm_ras.ts";
import { ethtool } from "./ynl/ethtool.ts";
import { fou } from "./ynl/fou.ts";
import { handshake } from "./ynl/handshake.ts";
import { lockd } from "./ynl/lockd.ts";
import { mptcpPm } from "./ynl/mptcp_pm.ts";
import { netShaper } from "./ynl/net_shaper.ts";
import { netdev } from "./ynl/netdev.ts";
import { nfsd } from "./ynl/nfsd.ts";
import { nftables } from "./ynl/nftables.ts";
import { nl80211 } from "./ynl/nl80211.ts";
import { nlctrl } from "./ynl/nlctrl.ts";
import { ovpn } from "./ynl/ovpn.ts";
import { ovsDatapath } from "./ynl/ovs_datapath.ts";
import { ovsFlow } from "./ynl/ovs_flow.ts";
import { ovsPacket } from "./ynl/ovs_packet.ts";
import { ovsVport } from "./ynl/ovs_vport.ts";
import { psp } from "./ynl/psp.ts";
import { rtAddr } from "./ynl/rt_addr.ts";
import { rtLink } from "./ynl/rt_link.ts";
import { rtNeigh } from "./ynl/rt_neigh.ts";
import { rtRoute } from "./ynl/rt_route.ts";
import { rtRule } from "./ynl/rt_rule.ts";
import { sunrpc } from "./ynl/sunrpc_cache.ts";
import { tc } from "./ynl/tc.ts";
import { tcpMetrics } from "./ynl/tcp_metrics.ts";
import { team } from "./ynl/team.ts";
import { wireguard } from "./ynl/wireguard.ts";

/**
 * Options of {@linkcode format}.
 *
 * @example
 * ```ts
 * import { NETLINK_GENERIC } from "@netlink/netlink";
 * import type { FormatOptions } from "@netlink/netlink/format";
 * const options: FormatOptions = { protocol: NETLINK_GENERIC, families: new Map([[29, "ethtool"]]), style: "tree" };
 * ```
 */
export interface FormatOptions {
  /** The netlink protocol the message travelled on (NETLINK_ROUTE, NETLINK_GENERIC...). */
  protocol: number;
  /** `"line"` (the default): everything on one line. `"tree"`: one field per line, indented. */
  style?: "line" | "tree";
  /**
   * Generic netlink family names by id (the message type the kernel assigned them), for ids
   * other than nlctrl's (16, always known). Without it, a generic message shows its id. A name
   * that is not printable ASCII without spaces (as a kernel family's) is shown quoted, its
   * control characters escaped (`"eth\u001btool"`).
   */
  families?: ReadonlyMap<number, string>;
  /**
   * Descriptors of families of your own (generated with `npm run gen:ynl`), looked up before
   * the built-in ones: by `protonum` for netlink-raw, by name for generic netlink.
   */
  descriptors?: readonly FamilyDescriptor[];
}

// Every key of FormatOptions and nothing else (`satisfies`): a misspelt one is refused.
const FORMAT_KEYS = Object.keys(
  { protocol: 0, style: 0, families: 0, descriptors: 0 } satisfies Record<keyof FormatOptions, 0>,
);

/** A message as decodeMessages() returns it: what format() reads, checked first. */
function checkFormatMessage(message: Message): void {
  if (typeof message !== "object" || message === null) {
    throw new TypeError(`format(): the message must be an object, got ${shown(message)}`);
  }
  for (const key of ["type", "flags", "seq", "portid"] as const) {
    const value = message[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      throw new TypeError(`format(): the message's ${key} must be an integer, got ${shown(value)}`);
    }
  }
  if (!(message.payload instanceof Uint8Array)) {
    throw new TypeError(
      `format(): the message's payload must be a Uint8Array, got ${shown(message.payload)}`,
    );
  }
}

/**
 * Throws TypeError for `families` that is not a Map or `descriptors` that is not an array of
 * objects, which would otherwise fail deep inside with the engine's "is not iterable".
 */
function checkKnowledge(options: Pick<FormatOptions, "descriptors" | "families">): void {
  if (options === null || typeof options !== "object") return; // checkFormatOptions says so
  const { families, descriptors } = options;
  if (families != null && !(families instanceof Map)) {
    throw new TypeError(
      `families must be a Map of generic netlink family names by id, got ${
        typeof families === "object" ? "object" : shown(families)
      }`,
    );
  }
  if (descriptors == null) return;
  const not = (what: string) =>
    new TypeError(`descriptors must be an array of family descriptors (src/ynl/), got ${what}`);
  if (!Array.isArray(descriptors)) {
    throw not(typeof descriptors === "object" ? "object" : shown(descriptors));
  }
  descriptors.forEach((d, i) => {
    if (d === null || typeof d !== "object") throw not(`${d === null ? "null" : typeof d} at ${i}`);
  });
}

/**
 * Throws TypeError for options format() would misread: a protocol given by name ("route",
 * which protocolName() returns) decoded nothing and named no type.
 */
function checkFormatOptions(options: FormatOptions): void {
  const { protocol, style } = checkOptions("format() options", options, FORMAT_KEYS);
  checkProtocolNumber("format() options", protocol);
  if (style !== undefined && style !== "line" && style !== "tree") {
    throw new TypeError(`format() options: style must be "line" or "tree", got ${shown(style)}`);
  }
}

/** Every generated descriptor: what format() decodes out of the box. */
const BUILT_IN: readonly FamilyDescriptor[] = [
  rtLink,
  rtAddr,
  rtRoute,
  rtNeigh,
  rtRule,
  tc,
  conntrack,
  nftables,
  nlctrl,
  binder,
  devEnergymodel,
  devlink,
  dpll,
  drmRas,
  ethtool,
  fou,
  handshake,
  lockd,
  mptcpPm,
  netShaper,
  netdev,
  nfsd,
  nl80211,
  ovpn,
  ovsDatapath,
  ovsFlow,
  ovsPacket,
  ovsVport,
  psp,
  sunrpc,
  tcpMetrics,
  team,
  wireguard,
];

/**
 * The short name of a netlink protocol ("route", "generic", "netfilter"...), or its number
 * (`"protocol 25"`). Throws TypeError for what is no protocol number: NaN, 1.5, -1, a string,
 * a number past 31 (netlink has 32 units, MAX_LINKS).
 *
 * @example
 * ```ts
 * import { NETLINK_GENERIC } from "@netlink/netlink";
 * import { protocolName } from "@netlink/netlink/format";
 * console.log(protocolName(NETLINK_GENERIC)); // "generic"
 * ```
 */
export function protocolName(protocol: number): string {
  checkProtocolNumber("protocolName()", protocol);
  return PROTOCOL_NAMES.get(protocol) ?? `protocol ${protocol}`;
}

/**
 * A protocol number (a unit: 0 to MAX_LINKS - 1, as socket() takes), or a TypeError saying what
 * `what` got (NaN, 1.5, "route", -1, 32).
 */
function checkProtocolNumber(what: string, protocol: unknown): void {
  if (
    typeof protocol !== "number" || !Number.isInteger(protocol) || protocol < 0
    || protocol >= MAX_LINKS
  ) {
    throw new TypeError(
      `${what}: protocol must be a netlink protocol number from 0 to ${
        MAX_LINKS - 1
      } (NETLINK_ROUTE...), got ${shown(protocol)}`,
    );
  }
}

const CONTROL_NAMES = new Map<number, string>([
  [NLMSG_NOOP, "NLMSG_NOOP"],
  [NLMSG_ERROR, "NLMSG_ERROR"],
  [NLMSG_DONE, "NLMSG_DONE"],
  [NLMSG_OVERRUN, "NLMSG_OVERRUN"],
]);

/** Names of the constants starting with `prefix` by value (the first name of each value). */
function namesByValue(prefix: string, skip: RegExp): Map<number, string> {
  const names = new Map<number, string>();
  for (const [name, value] of Object.entries(constants)) {
    if (name.startsWith(prefix) && typeof value === "number" && !skip.test(name)) {
      if (!names.has(value)) names.set(value, name);
    }
  }
  return names;
}

let rtmNames: Map<number, string> | undefined;
let subsystemNames: Map<number, string> | undefined;

/** What a request's flag bits 8-11 mean: they depend on the kind of request. */
type RequestKind = "get" | "new" | "del" | undefined;

/** sock_diag's message types (no YNL spec describes them), and the kind of request each is. */
const SOCK_DIAG_NAMES = new Map([
  [SOCK_DIAG_BY_FAMILY, "SOCK_DIAG_BY_FAMILY"],
  [SOCK_DESTROY, "SOCK_DESTROY"],
]);
const SOCK_DIAG_KINDS = new Map<string, RequestKind>([
  ["SOCK_DIAG_BY_FAMILY", "get"],
  ["SOCK_DESTROY", "del"],
]);

const COMMON_FLAGS: readonly [number, string][] = [
  [NLM_F_REQUEST, "REQUEST"],
  [NLM_F_MULTI, "MULTI"],
  [NLM_F_ACK, "ACK"],
  [NLM_F_ECHO, "ECHO"],
  [NLM_F_DUMP_INTR, "DUMP_INTR"],
  [NLM_F_DUMP_FILTERED, "DUMP_FILTERED"],
];
const GET_FLAGS: readonly [number, string][] = [
  [NLM_F_ROOT | NLM_F_MATCH, "DUMP"],
  [NLM_F_ROOT, "ROOT"],
  [NLM_F_MATCH, "MATCH"],
  [NLM_F_ATOMIC, "ATOMIC"],
];
const NEW_FLAGS: readonly [number, string][] = [
  [NLM_F_REPLACE, "REPLACE"],
  [NLM_F_EXCL, "EXCL"],
  [NLM_F_CREATE, "CREATE"],
  [NLM_F_APPEND, "APPEND"],
];
const DEL_FLAGS: readonly [number, string][] = [[NLM_F_NONREC, "NONREC"], [NLM_F_BULK, "BULK"]];
const ACK_FLAGS: readonly [number, string][] = [
  [NLM_F_CAPPED, "CAPPED"],
  [NLM_F_ACK_TLVS, "ACK_TLVS"],
];

/** NLM_F_* names of `flags`; bits it cannot name (for this kind of message) in hex. */
function flagNames(flags: number, table: readonly [number, string][]): string {
  if (flags === 0) return "0";
  const names: string[] = [];
  let rest = flags;
  for (const [bits, name] of [...COMMON_FLAGS, ...table]) {
    if ((rest & bits) === bits) {
      names.push(name);
      rest &= ~bits;
    }
  }
  if (rest !== 0) names.push(`0x${rest.toString(16)}`);
  return names.join("|");
}

const VERBS: readonly [RegExp, RequestKind][] = [
  [/^(get|dump|list|show|query)/, "get"],
  [/^(new|set|add|create|replace)/, "new"],
  [/^(del|remove|destroy|flush)/, "del"],
];

/**
 * The kind of request a message type name says. The verb leads joined names (RTM_GETLINK,
 * "nlctrl getfamily") and some YNL ones ("get-wiphy"); newer YNL names end with it
 * ("linkinfo-get", "listener-set", where "listener" is no "list"): a whole word, last first,
 * then the start of the first.
 */
function requestKind(name: string): RequestKind {
  const op = name.slice(name.lastIndexOf(" ") + 1).replace(/^RTM_/, "").toLowerCase();
  const words = op.split("-");
  for (let i = words.length - 1; i >= 0; i--) {
    const kind = VERBS.find(([verb]) => verb.exec(words[i])?.[0] === words[i])?.[1];
    if (kind !== undefined) return kind;
  }
  return VERBS.find(([verb]) => verb.test(words[0]))?.[1];
}

/** One line of output: a key and either a value or children. */
interface Node {
  key: string;
  value?: string;
  children?: Node[];
  /** Children are list elements (their keys are not printed). */
  list?: boolean;
}

/** The parts of a formatted message: its title and its fields. */
interface Formatted {
  title: string;
  fields: Node[];
}

/** Raw bytes as shown: hex, or '' for none. */
function hex(bytes: Uint8Array): string {
  return bytes.length === 0 ? "''" : toHex(bytes);
}

/** Raw attributes of a family without a descriptor: type, flags and hex (nests unknown). */
function rawAttributes(bytes: Uint8Array): Node[] {
  const nodes: Node[] = [];
  try {
    for (const attr = new AttributeDecoder(bytes); attr.next();) {
      let key = `#${attr.type}`;
      if (attr.nested) key += "(nested)";
      if (attr.netByteOrder) key += "(be)";
      nodes.push({ key, value: hex(attr.bytes()) });
    }
  } catch {
    // Not attributes after all: show the bytes.
    return [{ key: "payload", value: hex(bytes) }];
  }
  return nodes;
}

/**
 * A value as shown. With its spec's display hint: an address's text as it is (the decoder made
 * it of digits, dots and colons), an integer hinted `hex` in hex, as ynl.py prints them.
 */
function render(value: unknown, hint?: DisplayHint): string {
  if (hint === "hex" && typeof value === "number") return `0x${(value >>> 0).toString(16)}`;
  if (typeof value === "string") {
    return hint !== undefined && hint !== "hex"
      ? value
      : quoted(value);
  }
  if (typeof value === "bigint" || typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  if (value instanceof Uint8Array) return hex(value);
  return String(value);
}

/** Names of the bits of `value` in a flag set (hex for bits the set does not name). */
function enumFlags(
  descriptor: FamilyDescriptor,
  enumName: string | undefined,
  value: number,
): string {
  const entries = enumName === undefined ? undefined : descriptor.enums[enumName]?.entries;
  if (entries === undefined || value === 0) return String(value);
  const names: string[] = [];
  let rest = value >>> 0;
  for (const [name, bit] of Object.entries(entries)) {
    if (bit !== 0 && (rest & bit) === bit) {
      names.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest !== 0) names.push(`0x${rest.toString(16)}`);
  return names.join("|");
}

/** Walks decoded values alongside the descriptor, to name flags and find nested layouts. */
class Walker {
  constructor(readonly descriptor: FamilyDescriptor) {}

  struct(name: string | undefined, value: Record<string, unknown>): Node[] {
    const members = name === undefined ? undefined : this.descriptor.structs[name];
    const nodes: Node[] = [];
    for (const [key, member] of Object.entries(value)) {
      const spec = members?.find(([memberKey]) => memberKey === key);
      const options = spec?.[2];
      if (options?.struct !== undefined && typeof member === "object" && member !== null) {
        nodes.push({
          key,
          children: this.struct(options.struct, member as Record<string, unknown>),
        });
      } else if (typeof member === "number" && this.#isFlags(options)) {
        nodes.push({ key, value: enumFlags(this.descriptor, options?.enum, member) });
      } else {
        nodes.push({ key, value: render(member, options?.hint) });
      }
    }
    // A newer kernel's bytes past the members (see structTail), shown as unknown attributes are.
    const tail = (value as KeptTail)[structTail];
    if (tail instanceof Uint8Array) nodes.push({ key: "#tail", value: hex(tail) });
    return nodes;
  }

  set(
    name: string | undefined,
    value: Record<string | symbol, unknown>,
    scopes: readonly Record<string, unknown>[],
    skip?: ReadonlySet<string>,
  ): Node[] {
    const set = name === undefined ? undefined : this.descriptor.sets[name];
    const nodes: Node[] = [];
    const inner = [value as Record<string, unknown>, ...scopes];
    for (const [key, item] of Object.entries(value)) {
      if (skip?.has(key)) continue;
      const attribute = set?.[key];
      if (attribute !== undefined && attribute[2]?.multi && Array.isArray(item)) {
        nodes.push({ key, list: true, children: item.map((v) => this.#one(attribute, v, inner)) });
      } else {
        nodes.push({ ...this.#one(attribute, item, inner), key });
      }
    }
    const unknown = value[unknownAttributes] as { type: number; value: Uint8Array }[] | undefined;
    for (const attr of unknown ?? []) nodes.push({ key: `#${attr.type}`, value: hex(attr.value) });
    return nodes;
  }

  #isFlags(options: { enum?: string; asFlags?: boolean } | undefined): boolean {
    if (options?.enum === undefined) return false;
    return options.asFlags === true || this.descriptor.enums[options.enum]?.flags === true;
  }

  #one(
    attribute: AttributeDescriptor | undefined,
    value: unknown,
    scopes: readonly Record<string, unknown>[],
  ): Node {
    const options = attribute?.[2];
    const kind = attribute?.[1];
    if (Array.isArray(value)) {
      const element: AttributeDescriptor | undefined = attribute === undefined
        ? undefined
        : [0, options?.subType ?? (kind === "nest-type-value" ? "nest" : kind!), {
          ...options,
          multi: false,
        }];
      return {
        key: "",
        list: true,
        children: value.map((v) => this.#one(element, v, scopes)),
      };
    }
    if (value instanceof Uint8Array || typeof value !== "object" || value === null) {
      if (typeof value === "number" && this.#isFlags(options)) {
        return { key: "", value: enumFlags(this.descriptor, options?.enum, value) };
      }
      return { key: "", value: render(value, options?.hint) };
    }
    const record = value as Record<string, unknown>;
    if (kind === "binary" && options?.struct !== undefined) {
      return { key: "", children: this.struct(options.struct, record) };
    }
    if (kind === "sub-message" && options?.subMessage !== undefined) {
      const selector = scopes.find((scope) => scope[options.selector!] !== undefined)?.[
        options.selector!
      ];
      const formats = this.descriptor.subMessages[options.subMessage];
      const format = typeof selector === "string" && formats !== undefined
          && Object.hasOwn(formats, selector)
        ? formats[selector]
        : undefined;
      const header = format?.header === undefined
        ? undefined
        : this.descriptor.structs[format.header];
      const headerKeys = new Set((header ?? []).map(([key]) => key));
      const children: Node[] = [];
      if (format?.header !== undefined) {
        const members: Record<string, unknown> = {};
        for (const key of headerKeys) if (key in record) members[key] = record[key];
        children.push(...this.struct(format.header, members));
      }
      children.push(...this.set(format?.set, record, scopes, headerKeys));
      return { key: "", children };
    }
    if (kind === "bitfield32") {
      const { value: bits, selector } = record as { value: number; selector: number };
      return {
        key: "",
        value: `${enumFlags(this.descriptor, options?.enum, bits)}/${
          enumFlags(this.descriptor, options?.enum, selector)
        }`,
      };
    }
    return { key: "", children: this.set(options?.nest, record, scopes) };
  }
}

/** Renders nodes on one line: `key=value key={...} key=[a b]`. */
function lineOf(nodes: readonly Node[], list = false): string {
  return nodes.map((node) => {
    const prefix = list ? "" : `${node.key}=`;
    if (node.children === undefined) return prefix + node.value;
    const inner = lineOf(node.children, node.list);
    return prefix + (node.list ? `[${inner}]` : `{${inner}}`);
  }).join(" ");
}

/** Renders nodes as an indented tree, one field per line. */
function treeOf(nodes: readonly Node[], indent: string, list = false): string[] {
  const lines: string[] = [];
  for (const node of nodes) {
    const label = list ? `${indent}-` : `${indent}${node.key}:`;
    if (node.children === undefined) {
      lines.push(`${label} ${node.value}`);
    } else if (node.children.length === 0) {
      lines.push(`${label} ${node.list ? "[]" : "{}"}`);
    } else if (list) {
      // A list element's first field goes on the "-" line, as YAML writes it.
      const inner = treeOf(node.children, indent + "  ", node.list);
      inner[0] = `${indent}- ${inner[0].slice(indent.length + 2)}`;
      lines.push(...inner);
    } else {
      lines.push(label);
      lines.push(...treeOf(node.children, indent + "  ", node.list));
    }
  }
  return lines;
}

// Every key the NetlinkFormatter constructor takes, and nothing else: it refuses any other.
const FORMATTER_KEYS = Object.keys(
  { descriptors: 0, families: 0 } satisfies Record<
    keyof Pick<FormatOptions, "descriptors" | "families">,
    0
  >,
);

/**
 * Formats netlink messages for people, keeping what it learns from the messages it sees: the
 * ids of generic netlink families, from nlctrl's CTRL_CMD_NEWFAMILY replies and notifications.
 * Messages with a `sender` (a `ReceivedMessage`) teach only if it is 0, the kernel: another
 * process can send a socket nlctrl-shaped messages. Pass received messages as they come.
 * Use one per stream of messages (a trace, a monitor); {@linkcode format} for one message.
 *
 * @example
 * ```ts
 * import { NETLINK_ROUTE, NLMSG_DONE } from "@netlink/netlink";
 * import { NetlinkFormatter } from "@netlink/netlink/format";
 * const formatter = new NetlinkFormatter();
 * const done = { type: NLMSG_DONE, flags: 2, seq: 9, portid: 77, payload: new Uint8Array(4) };
 * console.log(formatter.format(done, { protocol: NETLINK_ROUTE })); // NLMSG_DONE flags=MULTI seq=9 port=77 errno=0
 * ```
 */
export class NetlinkFormatter {
  /** Generic netlink family names by id, learned or given. */
  readonly families: Map<number, string>;
  readonly #descriptors: readonly FamilyDescriptor[];

  /**
   * A formatter knowing the built-in descriptors, plus those given.
   *
   * @param options Families of your own (`descriptors`) and generic family ids known already.
   */
  constructor(
    options: Pick<FormatOptions, "descriptors" | "families"> = {},
  ) {
    options = checkOptions("NetlinkFormatter options", options, FORMATTER_KEYS);
    checkKnowledge(options);
    this.families = new Map(options.families);
    this.#descriptors = [...(options.descriptors ?? []), ...BUILT_IN];
  }

  /**
   * Formats one message of `options.protocol` (see {@linkcode format}); learns generic family
   * ids from it on the way.
   */
  format(message: Message, options: FormatOptions): string {
    checkFormatOptions(options);
    checkFormatMessage(message);
    const { title, fields } = this.#format(message, options);
    if (options.style === "tree") return [title, ...treeOf(fields, "  ")].join("\n");
    return fields.length === 0 ? title : `${title} ${lineOf(fields)}`;
  }

  #format(message: Message, options: FormatOptions): Formatted {
    const header = (name: string, flags: string) =>
      `${name} flags=${flags} seq=${message.seq} port=${message.portid}`;
    if (message.type < NLMSG_MIN_TYPE) return this.#control(message, options, header);
    const protocol = options.protocol;
    if (protocol === NETLINK_GENERIC) return this.#generic(message, options, header);
    const descriptor = this.#descriptors.find((d) =>
      d.protocol === "netlink-raw" && d.protonum === protocol
      && opOf(d, message) !== undefined
    );
    const name = this.#typeName(protocol, message.type, descriptor);
    const kind = (message.flags & NLM_F_REQUEST) !== 0
      ? SOCK_DIAG_KINDS.get(name) ?? requestKind(name)
      : undefined;
    const title = header(name, flagNames(message.flags, tableOf(kind)));
    if (descriptor === undefined) {
      return {
        title,
        fields: message.payload.length ? [{ key: "payload", value: hex(message.payload) }] : [],
      };
    }
    return { title, fields: decoded(descriptor, opOf(descriptor, message)!, message.payload, 0) };
  }

  #typeName(protocol: number, type: number, descriptor: FamilyDescriptor | undefined): string {
    if (protocol === NETLINK_ROUTE) {
      rtmNames ??= namesByValue("RTM_", /^RTM_(BASE|MAX|NR_|F_)/);
      const name = rtmNames.get(type);
      if (name !== undefined) return name;
    }
    if (protocol === NETLINK_SOCK_DIAG) {
      const name = SOCK_DIAG_NAMES.get(type);
      if (name !== undefined) return name;
    }
    if (protocol === NETLINK_NETFILTER) {
      subsystemNames ??= namesByValue("NFNL_SUBSYS_", /^NFNL_SUBSYS_COUNT$/);
      const subsystem = subsystemNames.get(type >> 8) ?? `NFNL_SUBSYS_${type >> 8}`;
      const op = descriptor === undefined ? undefined : opNameOf(descriptor, type);
      return op === undefined ? `${subsystem} msg ${type & 0xff}` : `${subsystem} ${op}`;
    }
    if (descriptor !== undefined) {
      const op = opNameOf(descriptor, type);
      if (op !== undefined) return `${descriptor.name} ${op}`;
    }
    return `type ${type}`;
  }

  #control(
    message: Message,
    options: FormatOptions,
    header: (name: string, flags: string) => string,
  ): Formatted {
    const name = CONTROL_NAMES.get(message.type) ?? `NLMSG_${message.type}`;
    if (message.type !== NLMSG_ERROR && message.type !== NLMSG_DONE) {
      return {
        title: header(name, flagNames(message.flags, [])),
        fields: message.payload.length ? [{ key: "payload", value: hex(message.payload) }] : [],
      };
    }
    if (options.protocol === NETLINK_CONNECTOR && message.type === NLMSG_DONE) {
      // The connector sends every message as NLMSG_DONE, carrying a struct cn_msg.
      return { title: header(name, flagNames(message.flags, [])), fields: connector(message) };
    }
    const title = header(name, flagNames(message.flags, ACK_FLAGS));
    let ack;
    try {
      ack = decodeAck(message);
    } catch {
      return { title, fields: [{ key: "payload", value: hex(message.payload) }] };
    }
    const fields: Node[] = [];
    if (ack.errno === 0) {
      fields.push({ key: message.type === NLMSG_ERROR ? "ack" : "errno", value: "0" });
    } else {
      fields.push({
        key: "error",
        value: `${errnoName(ack.errno)} (${errnoDescription(ack.errno)})`,
      });
    }
    if (ack.detail !== undefined) fields.push({ key: "msg", value: quoted(ack.detail) });
    if (ack.offset !== undefined) fields.push({ key: "offset", value: String(ack.offset) });
    if (ack.missing !== undefined) {
      fields.push({ key: "missing", value: String(ack.missing.type) });
      if (ack.missing.nestOffset !== undefined) {
        fields.push({ key: "missingNest", value: String(ack.missing.nestOffset) });
      }
    }
    if (ack.cookie !== undefined) fields.push({ key: "cookie", value: hex(ack.cookie) });
    if (message.type === NLMSG_ERROR && ack.requestType !== undefined) {
      const request = { ...message, type: ack.requestType, flags: NLM_F_REQUEST };
      const name = ack.requestType < NLMSG_MIN_TYPE
        ? CONTROL_NAMES.get(ack.requestType) ?? `NLMSG_${ack.requestType}`
        : options.protocol === NETLINK_GENERIC
        ? this.#genericName(ack.requestType, options)
        : this.#typeName(
          options.protocol,
          ack.requestType,
          this.#descriptors.find((d) =>
            d.protocol === "netlink-raw" && d.protonum === options.protocol
            && opOf(d, request) !== undefined
          ),
        );
      fields.push({ key: "for", value: `${name} seq=${ack.requestSeq}` });
    }
    return { title, fields };
  }

  /** The name of the family with `id` (`families` first): nlctrl, known or not, undefined. */
  #familyOf(id: number, options: FormatOptions): string | undefined {
    return options.families?.get(id) ?? (id === GENL_ID_CTRL ? "nlctrl" : this.families.get(id));
  }

  /** A family's name as printed, or its id when not known. */
  #genericName(id: number, options: FormatOptions): string {
    const name = this.#familyOf(id, options);
    return name === undefined ? `genl family ${id}` : familyLabel(name);
  }

  #generic(
    message: Message,
    options: FormatOptions,
    header: (name: string, flags: string) => string,
  ): Formatted {
    const payload = message.payload;
    const family = this.#familyOf(message.type, options);
    const familyName = this.#genericName(message.type, options);
    if (payload.length < GENL_HDRLEN) {
      return {
        title: header(familyName, flagNames(message.flags, [])),
        fields: payload.length ? [{ key: "payload", value: hex(payload) }] : [],
      };
    }
    const command = payload[0];
    if (message.type === GENL_ID_CTRL) this.#learn(message, command);
    const descriptor = this.#descriptors.find((d) =>
      d.protocol !== "netlink-raw" && d.name === family
    );
    const request = (message.flags & NLM_F_REQUEST) !== 0;
    // nlctrl's notifications, which its spec does not list: named as the kernel's CTRL_CMD_*,
    // decoded as getfamily's reply (the kernel fills all four from the same attributes).
    const event = message.type === GENL_ID_CTRL && !request && message.seq === 0
      ? CTRL_EVENTS.get(command)
      : undefined;
    const op = descriptor === undefined
      ? undefined
      : event !== undefined
      ? genericOp(descriptor, CTRL_CMD_NEWFAMILY, false)
      : genericOp(descriptor, command, request);
    const opName = event ?? op?.[0];
    const name = op === undefined ? `${familyName} cmd ${command}` : `${familyName} ${opName}`;
    const kind = request ? requestKind(op?.[0] ?? "") : undefined;
    const title = `${header(name, flagNames(message.flags, tableOf(kind)))} v${payload[1]}`;
    if (descriptor === undefined || op === undefined) {
      return { title, fields: rawAttributes(payload.subarray(GENL_HDRLEN)) };
    }
    return { title, fields: decoded(descriptor, op[1], payload, GENL_HDRLEN) };
  }

  #learn(message: Message, command: number): void {
    if (command !== CTRL_CMD_NEWFAMILY && command !== CTRL_CMD_DELFAMILY) return;
    if ((message.flags & NLM_F_REQUEST) !== 0) return;
    // Only the kernel's: another process can send a socket nlctrl-shaped messages that rename a
    // family. A message known to come from elsewhere (a ReceivedMessage's sender) teaches nothing.
    const sender = (message as { sender?: number }).sender;
    if (sender !== undefined && sender !== 0) return;
    try {
      const family = decodeFamily(message);
      // Anyone can send nlctrl-shaped messages to a port: learn only what a kernel family's
      // name can be (printable, at most GENL_NAMSIZ - 1 bytes), as it is printed unquoted.
      if (family.id === 0 || !/^[!-~]{1,15}$/.test(family.name)) return;
      if (command === CTRL_CMD_NEWFAMILY) this.families.set(family.id, family.name);
      else this.families.delete(family.id);
    } catch {
      // A malformed nlctrl message teaches nothing.
    }
  }
}

/**
 * A generic family's name as printed: as it is when a kernel family's could be that (printable
 * ASCII without spaces, as {@linkcode NetlinkFormatter} learns them), quoted and escaped as other
 * untrusted text otherwise: a name given in `families` may hold a terminal's control characters.
 */
function familyLabel(name: string): string {
  return /^[!-~]+$/.test(name) ? name : quoted(name);
}

/** nlctrl's notifications (on its "notify" group, seq 0) by command, as the kernel names them. */
const CTRL_EVENTS = new Map([
  [CTRL_CMD_NEWFAMILY, "newfamily"],
  [CTRL_CMD_DELFAMILY, "delfamily"],
  [CTRL_CMD_NEWMCAST_GRP, "newmcast-grp"],
  [CTRL_CMD_DELMCAST_GRP, "delmcast-grp"],
]);

let connectorNames: Map<number, string> | undefined;

/** struct cn_msg: the callback id (idx, val), seq, ack, len, flags, then `len` bytes of data. */
function connector(message: Message): Node[] {
  const payload = message.payload;
  if (payload.length < CN_MSG_SIZE) return [{ key: "payload", value: hex(payload) }];
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const little = HOST_LITTLE_ENDIAN;
  const idx = view.getUint32(0, little);
  connectorNames ??= namesByValue("CN_IDX_", /^$/);
  const length = Math.min(view.getUint16(16, little), payload.length - CN_MSG_SIZE);
  return [
    { key: "idx", value: connectorNames.get(idx) ?? String(idx) },
    { key: "val", value: String(view.getUint32(4, little)) },
    { key: "cnSeq", value: String(view.getUint32(8, little)) },
    { key: "ack", value: String(view.getUint32(12, little)) },
    { key: "cnFlags", value: String(view.getUint16(18, little)) },
    { key: "data", value: hex(payload.subarray(CN_MSG_SIZE, CN_MSG_SIZE + length)) },
  ];
}

/** sizeof(struct cn_msg) before its data. */
const CN_MSG_SIZE = 20;

function tableOf(kind: RequestKind): readonly [number, string][] {
  return kind === "get" ? GET_FLAGS : kind === "new" ? NEW_FLAGS : kind === "del" ? DEL_FLAGS : [];
}

/** The operation a netlink-raw message belongs to: by request type for requests. */
function opOf(descriptor: FamilyDescriptor, message: Message): OperationDescriptor | undefined {
  const name = opNameOf(descriptor, message.type, (message.flags & NLM_F_REQUEST) !== 0);
  return name === undefined ? undefined : descriptor.ops[name];
}

function opNameOf(descriptor: FamilyDescriptor, type: number, request = true): string | undefined {
  const byRequest = () => Object.entries(descriptor.ops).find(([, op]) => op.request === type)?.[0];
  if (request) return byRequest() ?? codecOf(descriptor).operationOf(type);
  return codecOf(descriptor).operationOf(type) ?? byRequest();
}

function genericOp(
  descriptor: FamilyDescriptor,
  command: number,
  request: boolean,
): [string, OperationDescriptor] | undefined {
  const name = opNameOf(descriptor, command, request);
  return name === undefined ? undefined : [name, descriptor.ops[name]];
}

/**
 * Nests deeper than this are shown in hex. The kernel's deepest (tc actions, nftables
 * expressions) are a few levels; another process can send thousands (a 64 KiB attribute holds
 * 16,383), which overflowed the stack here (RangeError, at 3,000 on Deno) or, on Bun, made a
 * tree of megabytes from a 12 KiB message (each level indents the lines below it).
 */
const MAX_FORMAT_DEPTH = 64;

/** Whether `value`'s objects and arrays nest more than `max` deep (walked without recursion). */
function nestsDeeper(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== "object" || item === null || item instanceof Uint8Array) continue;
    if (depth > max) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

/** The payload decoded with the operation's header and set; hex when it does not decode. */
function decoded(
  descriptor: FamilyDescriptor,
  op: OperationDescriptor,
  payload: Uint8Array,
  offset: number,
): Node[] {
  let value: Record<string | symbol, unknown>;
  try {
    value = messageDecoder(codecOf(descriptor), op)(payload);
    if (nestsDeeper(value, MAX_FORMAT_DEPTH)) throw new RangeError("nested too deep");
  } catch {
    const rest = payload.subarray(offset);
    return rest.length ? [{ key: "payload", value: hex(rest) }] : [];
  }
  const walker = new Walker(descriptor);
  const nodes: Node[] = [];
  const headerKeys = new Set<string>();
  if (op.header !== undefined) {
    const members: Record<string, unknown> = {};
    for (const [key, kind] of descriptor.structs[op.header] ?? []) {
      if (kind === "pad") continue;
      headerKeys.add(key);
      members[key] = value[key];
    }
    nodes.push({ key: op.header, children: walker.struct(op.header, members) });
  }
  nodes.push(...walker.set(op.set, value, [], headerKeys));
  return nodes;
}

/**
 * Formats one netlink message for people: the type and flags by name for `options.protocol`,
 * seq and port, then the fixed header and attributes decoded through the generated descriptor of
 * its family when one is known (nests, sub-messages, enum values and flag bits by name), raw hex
 * (attributes by number for generic netlink) when not. NLMSG_ERROR shows the errno name, its
 * description, the extended-ack message, offset and missing attribute, and which request it
 * answers; an ack shows `ack=0`. Strings are quoted, their control characters (C0, DEL, C1)
 * escaped. Never throws for bad bytes: what does not decode is shown in hex.
 * Throws TypeError for options it cannot use: a protocol that is not a number (`"route"`), a
 * style other than "line" or "tree", `families` that is not a Map, `descriptors` that is not an
 * array of descriptors, an option it does not know.
 *
 * @example
 * ```ts
 * import { AttributeEncoder, NETLINK_ROUTE, NLM_F_ACK, NLM_F_CREATE, NLM_F_REQUEST, RTM_NEWLINK } from "@netlink/netlink";
 * import { format } from "@netlink/netlink/format";
 * const attrs = new AttributeEncoder().string(3, "br0").finish(); // IFLA_IFNAME
 * const payload = new Uint8Array(16 + attrs.length);
 * payload.set(attrs, 16);
 * const message = { type: RTM_NEWLINK, flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE, seq: 2, portid: 0, payload };
 * console.log(format(message, { protocol: NETLINK_ROUTE, style: "tree" }));
 * ```
 */
export function format(message: Message, options: FormatOptions): string {
  // Its options checked first (format()'s keys are more than a formatter's), and the formatter
  // given only its own.
  checkFormatOptions(options);
  const { descriptors, families } = options;
  return new NetlinkFormatter({ descriptors, families }).format(message, options);
}
