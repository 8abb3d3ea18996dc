/**
 * The shape of a generated family descriptor (scripts/gen_ynl.ts writes one per YNL spec), and the
 * mapped types that turn a descriptor into the TypeScript types of its messages.
 *
 * Descriptors are plain data, `as const`: every name a type needs (attribute sets, structs, enums,
 * sub-messages) is looked up by key in the descriptor, so a family's types cost no generated code.
 *
 * @module
 */

import type { Attribute } from "../attribute.ts";

/** Fixed-size integers, host byte order unless `bigEndian`. */
export type IntegerKind = "u8" | "u16" | "u32" | "u64" | "s8" | "s16" | "s32" | "s64";

/** Integers: fixed-size, or `uint`/`sint` (4 or 8 bytes, whichever the value needs). */
export type ScalarKind = IntegerKind | "uint" | "sint";

/** What an attribute's value is, as a YNL spec's `type` says (`array-nest` is `indexed-array`). */
export type AttributeKind =
  | ScalarKind
  | "flag"
  | "string"
  | "binary"
  | "nest"
  | "indexed-array"
  | "nest-type-value"
  | "sub-message"
  | "bitfield32"
  | "pad"
  | "unused";

/** The kernel's input validation for an attribute (a spec's `checks`), enforced on encode. */
export interface AttributeChecks {
  /** Smallest integer value. */
  readonly min?: number | bigint;
  /** Largest integer value. */
  readonly max?: number | bigint;
  /** Shortest binary value, in bytes. */
  readonly minLen?: number;
  /** Longest string (without its NUL) or binary value, in bytes. */
  readonly maxLen?: number;
  /** The only allowed length of a string (without its NUL) or binary value. */
  readonly exactLen?: number;
  /** Bits an integer may have set. */
  readonly mask?: number | bigint;
}

/** Everything about an attribute besides its number and kind; absent means false/none. */
export interface AttributeOptions {
  /** Integer in network byte order. */
  readonly bigEndian?: boolean;
  /** Repeated: the attribute occurs once per array element (per entry, for nest-type-value). */
  readonly multi?: boolean;
  /** Attribute set of a `nest`, of `indexed-array` elements, of `nest-type-value` entries. */
  readonly nest?: string;
  /** Struct a `binary` value holds. */
  readonly struct?: string;
  /** Enum (or flag set) an integer takes its values from. */
  readonly enum?: string;
  /** The integer is a bit mask of the enum's values (`enum-as-flags`): kept as a number. */
  readonly asFlags?: boolean;
  /**
   * Element kind of an `indexed-array` or of a `binary` C array; for a `nest-type-value`, the
   * integer each entry holds in place of an attribute set (its `value`).
   */
  readonly subType?: AttributeKind;
  /** Sub-message (a descriptor `subMessages` key) of a `sub-message` attribute. */
  readonly subMessage?: string;
  /** Sibling attribute whose value selects the sub-message format. */
  readonly selector?: string;
  /**
   * Names of the nesting levels of a `nest-type-value` attribute, outermost first: each level's
   * attribute type is its entry's number under that name.
   */
  readonly typeValue?: readonly string[];
  /** Validation enforced on encode. */
  readonly checks?: AttributeChecks;
  /** The spec's `display-hint`: an address or UUID reads and writes as text (see DisplayHint). */
  readonly hint?: DisplayHint;
}

/** One attribute of a set: its number, kind and options. */
export type AttributeDescriptor = readonly [
  type: number,
  kind: AttributeKind,
  options?: AttributeOptions,
];

/** What a struct member is; `pad` members are skipped bytes. */
export type MemberKind = IntegerKind | "binary" | "string" | "pad";

/**
 * A spec's `display-hint`, as the kernel's ynl.py applies it: `ipv4`, `ipv6` and `ipv4-or-v6`
 * values (a big-endian u32, or 4 or 16 bytes whichever the hint says) read as address text
 * (`"10.9.0.1"`, `"2001:db8::1"`), `mac` bytes as `"aa:bb:cc:dd:ee:ff"`, `uuid` bytes as
 * `"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"`, and are written from that text (or from the number
 * or bytes). `hex` only says how to show a value: it stays a number or bytes.
 *
 * @example
 * ```ts
 * import { mptcpPm } from "@netlink/netlink/ynl/mptcp-pm";
 * console.log(mptcpPm.sets.address.addr4); // [ 3, "u32", { bigEndian: true, hint: "ipv4" } ]
 * ```
 */
export type DisplayHint = "ipv4" | "ipv6" | "ipv4-or-v6" | "mac" | "hex" | "uuid";

/** Options of a struct member. */
export interface MemberOptions {
  /** Size in bytes of a `binary`, `string` or `pad` member. */
  readonly len?: number;
  /** Integer in network byte order. */
  readonly bigEndian?: boolean;
  /** Enum the integer takes its values from. */
  readonly enum?: string;
  /** The integer is a bit mask of the enum's values. */
  readonly asFlags?: boolean;
  /** Struct a `binary` member holds. */
  readonly struct?: string;
  /** The spec's `display-hint`: an address reads and writes as text (see DisplayHint). */
  readonly hint?: DisplayHint;
}

/** One struct member: its property name, kind and options. Structs are packed as listed. */
export type MemberDescriptor = readonly [name: string, kind: MemberKind, options?: MemberOptions];

/** An enum or a flag set; flag sets map names to bit masks, enums to values. */
export interface EnumDescriptor {
  /** Whether the entries are bit masks (a spec `flags` definition). */
  readonly flags: boolean;
  /** The kernel's names and their values. */
  readonly entries: { readonly [name: string]: number };
}

/** One format of a sub-message: a fixed header, attributes, both or neither. */
export interface SubMessageFormat {
  /** Struct at the start of the value. */
  readonly header?: string;
  /** Attribute set of the rest of the value. */
  readonly set?: string;
}

/**
 * Which messages a `do` or `dump` exchanges. Messages carry the operation's whole attribute set:
 * the attribute lists of specs are documentation, and not always complete.
 */
export interface MessageShape {
  /** It has a request. */
  readonly request?: boolean;
  /** It has a reply (else the kernel only acks). */
  readonly reply?: boolean;
}

/** One operation (command / message type) of a family. */
export interface OperationDescriptor {
  /** Attribute set of its messages. */
  readonly set?: string;
  /** Fixed header struct of its messages (after the genlmsghdr, for generic netlink). */
  readonly header?: string;
  /** Message type (netlink-raw) or command (generic netlink) of requests. */
  readonly request?: number;
  /** Message type or command of replies and notifications. */
  readonly reply?: number;
  /** A request answered with one reply (or just an ack). */
  readonly do?: MessageShape;
  /** A dump request answered with many replies. */
  readonly dump?: MessageShape;
  /** A notification with its own attributes (an `event` in the spec). */
  readonly event?: boolean;
  /** Operation whose reply this notification shares. */
  readonly notify?: string;
  /** Multicast group the notification is sent to. */
  readonly group?: string;
}

/**
 * A netlink family, generated from its YNL spec by scripts/gen_ynl.ts: plain data, `as const`.
 *
 * @example
 * ```ts
 * import type { FamilyDescriptor } from "@netlink/netlink/ynl";
 * const tiny = {
 *   name: "tiny",
 *   protocol: "netlink-raw",
 *   protonum: 31,
 *   consts: {},
 *   enums: {},
 *   structs: {},
 *   sets: { main: { value: [1, "u32"] } },
 *   subMessages: {},
 *   ops: { put: { set: "main", request: 16, do: { request: true } } },
 *   groups: {},
 * } as const satisfies FamilyDescriptor;
 * ```
 */
export interface FamilyDescriptor {
  /** The family's name: the generic netlink family to resolve, or the spec's name. */
  readonly name: string;
  /** How messages are framed and addressed. */
  readonly protocol: "genetlink" | "genetlink-c" | "genetlink-legacy" | "netlink-raw";
  /** Netlink protocol number of a netlink-raw family (NETLINK_ROUTE is 0). */
  readonly protonum?: number;
  /** genlmsghdr version of a generic netlink family. */
  readonly version?: number;
  /** Named constants. */
  readonly consts: { readonly [name: string]: number | string };
  /** Enums and flag sets. */
  readonly enums: { readonly [name: string]: EnumDescriptor };
  /** Structs: fixed headers and binary attribute layouts. */
  readonly structs: { readonly [name: string]: readonly MemberDescriptor[] };
  /** Attribute sets: property name → attribute. */
  readonly sets: { readonly [name: string]: { readonly [key: string]: AttributeDescriptor } };
  /** Sub-messages: selector value → format. */
  readonly subMessages: {
    readonly [name: string]: { readonly [value: string]: SubMessageFormat };
  };
  /** Operations by the kernel's name. */
  readonly ops: { readonly [name: string]: OperationDescriptor };
  /** Multicast groups: name → group number (null: generic netlink resolves it at run time). */
  readonly groups: { readonly [name: string]: number | null };
}

/**
 * Attributes a decoded message had that its spec does not describe (a newer kernel's, say), or
 * whose value did not have the spec's size: kept as they came, and encoded again as they are.
 *
 * @example
 * ```ts
 * import { family, unknownAttributes } from "@netlink/netlink/ynl";
 * import { rtLink } from "@netlink/netlink/ynl/rt-link";
 * await using rt = await family(rtLink);
 * const lo = await rt.do("getlink", { ifname: "lo" });
 * for (const attr of lo[unknownAttributes] ?? []) console.log(attr.type, attr.value);
 * ```
 */
export const unknownAttributes: unique symbol = Symbol("unknownAttributes");

/**
 * The bytes of a struct attribute's value past the members its spec describes: a newer kernel's
 * members (the kernel grows its structs at their end, and sends them whole). Kept on the decoded
 * struct as they came, and encoded again after its members.
 *
 * @example
 * ```ts
 * import { family, structTail } from "@netlink/netlink/ynl";
 * import { rtLink } from "@netlink/netlink/ynl/rt-link";
 * await using rt = await family(rtLink);
 * const lo = await rt.do("getlink", { ifname: "lo" });
 * const newer = lo.stats64?.[structTail]; // undefined when the kernel's struct is the spec's
 * if (newer !== undefined) console.log(newer.length, "bytes of counters the spec does not name");
 * ```
 */
export const structTail: unique symbol = Symbol("structTail");

/**
 * Where a decoded struct attribute keeps the bytes past its members: {@linkcode structTail}. A
 * type, not an interface: a struct's value stays castable to `Record<string, T>` of its members.
 */
export type KeptTail = {
  /** The bytes past the struct's members, as they came. */
  [structTail]?: Uint8Array;
};

/** `"decoded"`: what decoding yields. `"input"`: what encoding accepts (looser: zero defaults). */
export type Mode = "decoded" | "input";

/** A 64-bit value: a bigint when decoded; a bigint or a safe integer as input. */
export type BigValue<M extends Mode> = M extends "input" ? bigint | number : bigint;

/** A bitfield32 attribute: the bits, and which of them the value sets. */
export interface Bitfield32 {
  /** The bits. */
  value: number;
  /** Which bits of `value` count. */
  selector: number;
}

/**
 * The names of enum (or flag set) `E` of family `D`.
 *
 * @example
 * ```ts
 * import type { EnumName } from "@netlink/netlink/ynl";
 * import type { rtNeigh } from "@netlink/netlink/ynl/rt-neigh";
 * const state: EnumName<typeof rtNeigh, "nud-state"> = "permanent";
 * ```
 */
export type EnumName<D extends FamilyDescriptor, E> = E extends keyof D["enums"]
  ? keyof D["enums"][E]["entries"] & string
  : never;

/**
 * An enum-typed integer: the kernel's name for it, or the number when it has no name. A flag
 * set's value is the bit mask when decoded; as input, also one flag's name or a list of them.
 */
export type EnumValue<D extends FamilyDescriptor, E, M extends Mode = "decoded"> = E extends
  keyof D["enums"] ? D["enums"][E]["flags"] extends true ? FlagsValue<D, E, M>
  : EnumName<D, E> | number
  : number;

/** A bit mask of flag set (or enum used as flags) `E`: as input, names are accepted too. */
export type FlagsValue<D extends FamilyDescriptor, E, M extends Mode> = M extends "input"
  ? number | EnumName<D, E> | readonly EnumName<D, E>[]
  : number;

/** An integer attribute or member with options `O`: a number, or an enum's name. */
export type IntegerValue<D extends FamilyDescriptor, O, M extends Mode = "decoded"> = O extends
  { asFlags: true; enum: infer E } ? FlagsValue<D, E, M>
  : O extends { asFlags: true } ? number
  : O extends { enum: infer E } ? EnumValue<D, E, M>
  : number;

/**
 * Options of a value that reads as text: an address or a UUID (see {@linkcode DisplayHint}).
 *
 * @example
 * ```ts
 * import type { TextHint } from "@netlink/netlink/ynl";
 * import type { rtRoute } from "@netlink/netlink/ynl/rt-route";
 * const hinted: typeof rtRoute.sets["route-attrs"]["dst"][2] extends TextHint ? true : false = true;
 * ```
 */
export type TextHint = { hint: "ipv4" | "ipv6" | "ipv4-or-v6" | "mac" | "uuid" };

/**
 * A value with a {@linkcode TextHint}: its text when decoded; as input, the text or `Raw`, the
 * number or bytes it is.
 *
 * @example
 * ```ts
 * import type { HintedValue } from "@netlink/netlink/ynl";
 * const addr4: HintedValue<"input", number> = "10.9.0.1"; // or 0x0a090001
 * ```
 */
export type HintedValue<M extends Mode, Raw> = M extends "input" ? string | Raw : string;

/** The value of one occurrence of an attribute of kind `K` with options `O`. */
export type AttributeKindValue<D extends FamilyDescriptor, K, O, M extends Mode> = K extends
  "u8" | "u16" | "u32" | "s8" | "s16" | "s32"
  ? (O extends TextHint ? HintedValue<M, number> : IntegerValue<D, O, M>)
  : K extends "u64" | "s64" | "uint" | "sint" ? BigValue<M>
  : K extends "flag" ? boolean
  // As input, a string's bytes may be given as they are (a link's name need not be UTF-8).
  : K extends "string" ? (M extends "input" ? string | Uint8Array : string)
  : K extends "binary" ? (
      O extends { struct: infer S extends string } ? StructValue<D, S, M> & KeptTail
        : O extends { subType: "u64" | "s64" | "uint" | "sint" } ? BigValue<M>[]
        : O extends { subType: ScalarKind } ? number[]
        : O extends TextHint ? HintedValue<M, Uint8Array>
        : Uint8Array
    )
  : K extends "nest" ? (O extends { nest: infer S extends string } ? AttributeSetValue<D, S, M>
      : never)
  : K extends "indexed-array" ? (O extends { subType: infer T } ? AttributeKindValue<D, T, O, M>[]
      : never)
  : K extends "nest-type-value" ? (
      O extends { nest: infer S extends string; typeValue: infer T extends readonly string[] }
        ? ({ [P in T[number]]: number } & AttributeSetValue<D, S, M>)[]
        : O extends { subType: infer E; typeValue: infer T extends readonly string[] }
          ? ({ [P in T[number]]: number } & { value: AttributeKindValue<D, E, O, M> })[]
        : never
    )
  : K extends "sub-message" ? (
      O extends { subMessage: infer S extends keyof D["subMessages"] } ? SubMessageValue<D, S, M>
        : never
    )
  : K extends "bitfield32" ? Bitfield32
  : Uint8Array;

/**
 * The value of attribute `A` (an {@linkcode AttributeDescriptor}): an array when it is multi-attr
 * (a multi-attr nest-type-value is one array: the entries of every occurrence, in order).
 *
 * @example
 * ```ts
 * import type { AttributeValue } from "@netlink/netlink/ynl";
 * import type { rtLink } from "@netlink/netlink/ynl/rt-link";
 * type Mtu = AttributeValue<typeof rtLink, typeof rtLink.sets["link-attrs"]["mtu"]>; // number
 * ```
 */
export type AttributeValue<D extends FamilyDescriptor, A, M extends Mode = "decoded"> = A extends
  readonly [number, infer K, infer O]
  ? O extends { multi: true } ? K extends "nest-type-value" ? AttributeKindValue<D, K, O, M>
    : AttributeKindValue<D, K, O, M>[]
  : AttributeKindValue<D, K, O, M>
  : A extends readonly [number, infer K] ? AttributeKindValue<D, K, object, M>
  : never;

/** Where decoded objects keep unknown attributes: under {@linkcode unknownAttributes}. */
export interface KeptAttributes {
  /** The kept attributes, in the order they came. */
  [unknownAttributes]?: Attribute[];
}

/**
 * The attributes of set `S` as an object: every attribute optional, pads left out.
 *
 * @example
 * ```ts
 * import type { AttributeSetValue } from "@netlink/netlink/ynl";
 * import type { rtRoute } from "@netlink/netlink/ynl/rt-route";
 * const metrics: AttributeSetValue<typeof rtRoute, "metrics"> = { mtu: 1400, ccAlgo: "bbr" };
 * ```
 */
export type AttributeSetValue<D extends FamilyDescriptor, S, M extends Mode = "decoded"> = S extends
  keyof D["sets"] ?
    & {
      -readonly [
        K in keyof D["sets"][S] as D["sets"][S][K] extends
          readonly [number, "pad" | "unused", ...unknown[]] ? never : K
      ]?: AttributeValue<
        D,
        D["sets"][S][K],
        M
      >;
    }
    & KeptAttributes
  : never;

/** The value of a struct member `T`. */
export type MemberValue<D extends FamilyDescriptor, T, M extends Mode> = T extends
  readonly [string, infer K, infer O] ? MemberKindValue<D, K, O, M>
  : T extends readonly [string, infer K] ? MemberKindValue<D, K, object, M>
  : never;

/** The value of a struct member of kind `K` with options `O`. */
export type MemberKindValue<D extends FamilyDescriptor, K, O, M extends Mode> = K extends
  "u64" | "s64" ? BigValue<M>
  : K extends "string" ? string
  : K extends "binary" ? (O extends { struct: infer S extends string } ? StructValue<D, S, M>
      : O extends TextHint ? HintedValue<M, Uint8Array>
      : Uint8Array)
  : O extends TextHint ? HintedValue<M, number>
  : IntegerValue<D, O, M>;

/**
 * Struct `S` as an object; as input, every member is optional (zero by default).
 *
 * @example
 * ```ts
 * import type { StructValue } from "@netlink/netlink/ynl";
 * import type { rtRoute } from "@netlink/netlink/ynl/rt-route";
 * const header: StructValue<typeof rtRoute, "rtmsg", "input"> = { rtmFamily: 2, rtmType: "local" };
 * ```
 */
export type StructValue<D extends FamilyDescriptor, S, M extends Mode = "decoded"> = S extends
  keyof D["structs"] ? M extends "input" ? {
      -readonly [
        T in Exclude<D["structs"][S][number], readonly [string, "pad", ...unknown[]]> as T[0]
      ]?: MemberValue<D, T, M>;
    }
  : {
    -readonly [
      T in Exclude<D["structs"][S][number], readonly [string, "pad", ...unknown[]]> as T[0]
    ]: MemberValue<D, T, M>;
  }
  : never;

/** The value of sub-message format `F`: its header's members and its attributes. */
export type SubMessageFormatValue<D extends FamilyDescriptor, F, M extends Mode> =
  & (F extends { header: infer H } ? StructValue<D, H, M> : unknown)
  & (F extends { set: infer S } ? AttributeSetValue<D, S, M> : unknown);

/**
 * A sub-message's value: one of its formats (which one, its selector says), or the bytes as they
 * came when the selector names no known format.
 */
export type SubMessageValue<
  D extends FamilyDescriptor,
  S extends keyof D["subMessages"],
  M extends Mode = "decoded",
> =
  | {
    [V in keyof D["subMessages"][S]]: SubMessageFormatValue<D, D["subMessages"][S][V], M> & object;
  }[keyof D["subMessages"][S]]
  | Uint8Array;

/**
 * A message of operation `O`: its fixed header's members and its attributes, in one object.
 *
 * @example
 * ```ts
 * import type { MessageValue } from "@netlink/netlink/ynl";
 * import type { rtAddr } from "@netlink/netlink/ynl/rt-addr";
 * function label(address: MessageValue<typeof rtAddr, "getaddr">): string {
 *   return `${address.ifaIndex}: ${address.label ?? "-"}`;
 * }
 * ```
 */
export type MessageValue<
  D extends FamilyDescriptor,
  O extends keyof D["ops"],
  M extends Mode = "decoded",
> =
  & (D["ops"][O] extends { header: infer H } ? StructValue<D, H, M> : unknown)
  & (D["ops"][O] extends { set: infer S } ? AttributeSetValue<D, S, M> : unknown);

/**
 * Operations with a `do` (a request answered by one reply or an ack).
 *
 * @example
 * ```ts
 * import type { DoOperation } from "@netlink/netlink/ynl";
 * import type { rtLink } from "@netlink/netlink/ynl/rt-link";
 * const op: DoOperation<typeof rtLink> = "newlink";
 * ```
 */
export type DoOperation<D extends FamilyDescriptor> =
  & {
    [K in keyof D["ops"]]: D["ops"][K] extends { do: object } ? K : never;
  }[keyof D["ops"]]
  & string;

/**
 * Operations that can be dumped: those with a `dump`, and those whose `do` has a reply (specs
 * leave out dumps the kernel has, such as nftables' gettable; the kernel says if it has none).
 *
 * @example
 * ```ts
 * import type { DumpOperation } from "@netlink/netlink/ynl";
 * import type { rtLink } from "@netlink/netlink/ynl/rt-link";
 * const op: DumpOperation<typeof rtLink> = "getlink";
 * ```
 */
export type DumpOperation<D extends FamilyDescriptor> =
  & {
    [K in keyof D["ops"]]: D["ops"][K] extends { dump: object } | { do: { reply: true } } ? K
      : never;
  }[keyof D["ops"]]
  & string;

/**
 * What `do` of operation `O` sends.
 *
 * @example
 * ```ts
 * import type { DoRequest } from "@netlink/netlink/ynl";
 * import type { rtLink } from "@netlink/netlink/ynl/rt-link";
 * const request: DoRequest<typeof rtLink, "setlink"> = { ifiIndex: 2, mtu: 1400 };
 * ```
 */
export type DoRequest<D extends FamilyDescriptor, O extends DoOperation<D>> = MessageValue<
  D,
  O,
  "input"
>;

/**
 * What `do` of operation `O` answers: its reply, or undefined when it only acks.
 *
 * @example
 * ```ts
 * import type { DoReply } from "@netlink/netlink/ynl";
 * import type { rtLink } from "@netlink/netlink/ynl/rt-link";
 * type Link = DoReply<typeof rtLink, "getlink">; // ifinfomsg members and link attributes
 * type Nothing = DoReply<typeof rtLink, "dellink">; // undefined
 * ```
 */
export type DoReply<D extends FamilyDescriptor, O extends DoOperation<D>> = D["ops"][O] extends
  { do: { reply: true } } ? MessageValue<D, O> : undefined;

/**
 * What a `dump` of operation `O` sends.
 *
 * @example
 * ```ts
 * import type { DumpRequest } from "@netlink/netlink/ynl";
 * import type { rtRoute } from "@netlink/netlink/ynl/rt-route";
 * const ipv6: DumpRequest<typeof rtRoute, "getroute"> = { rtmFamily: 10 };
 * ```
 */
export type DumpRequest<D extends FamilyDescriptor, O extends DumpOperation<D>> = MessageValue<
  D,
  O,
  "input"
>;

/**
 * One reply of a `dump` of operation `O`.
 *
 * @example
 * ```ts
 * import type { DumpReply } from "@netlink/netlink/ynl";
 * import type { rtRoute } from "@netlink/netlink/ynl/rt-route";
 * const isDefault = (route: DumpReply<typeof rtRoute, "getroute">) => route.rtmDstLen === 0;
 * ```
 */
export type DumpReply<D extends FamilyDescriptor, O extends DumpOperation<D>> = MessageValue<D, O>;

/**
 * A message received while monitoring: the operation it belongs to, decoded.
 *
 * @example
 * ```ts
 * import type { Notification } from "@netlink/netlink/ynl";
 * import type { rtLink } from "@netlink/netlink/ynl/rt-link";
 * function describe(event: Notification<typeof rtLink>): string {
 *   return event.op === "dellink" ? "gone" : "changed";
 * }
 * ```
 */
export type Notification<D extends FamilyDescriptor, A extends string = string> = {
  [O in keyof D["ops"] & string]: {
    /** The operation whose message this is (a notification op when the spec has one). */
    op: O;
    /**
     * The message, decoded with the operation's header and attribute set (with the monitor's
     * `attrs`, those of them only).
     */
    message: PickedReply<MessageValue<D, O>, D, O, A>;
  };
}[keyof D["ops"] & string];

/**
 * The names an `attrs` option takes for the replies of operation `O`: its set's attributes and
 * its fixed header's members.
 *
 * @example
 * ```ts
 * import type { AttributeName } from "@netlink/netlink/ynl";
 * import type { rtLink } from "@netlink/netlink/ynl/rt-link";
 * const read: AttributeName<typeof rtLink, "getlink">[] = ["ifname", "operstate", "mtu"];
 * ```
 */
export type AttributeName<D extends FamilyDescriptor, O extends keyof D["ops"]> =
  & keyof MessageValue<D, O>
  & string;

/**
 * The names a monitor's `attrs` takes: those of any operation's messages.
 *
 * @example
 * ```ts
 * import type { NotificationAttribute } from "@netlink/netlink/ynl";
 * import type { rtLink } from "@netlink/netlink/ynl/rt-link";
 * const read: NotificationAttribute<typeof rtLink>[] = ["ifname", "operstate"];
 * ```
 */
export type NotificationAttribute<D extends FamilyDescriptor> = {
  [O in keyof D["ops"]]: AttributeName<D, O>;
}[keyof D["ops"]];

/**
 * Reply `R` of operation `O` decoded with `attrs` `A`: its set's attributes not in `A` left out
 * (`R` itself when `A` names them all, as it does by default; undefined stays undefined).
 *
 * @example
 * ```ts
 * import type { DumpReply, PickedReply } from "@netlink/netlink/ynl";
 * import type { rtLink } from "@netlink/netlink/ynl/rt-link";
 * type Link = DumpReply<typeof rtLink, "getlink">;
 * type Named = PickedReply<Link, typeof rtLink, "getlink", "ifname">; // ifinfomsg and ifname
 * ```
 */
export type PickedReply<
  R,
  D extends FamilyDescriptor,
  O extends keyof D["ops"],
  A extends string,
> = R extends undefined ? R
  : D["ops"][O] extends { set: infer S }
    ? [Exclude<keyof AttributeSetValue<D, S> & string, A>] extends [never] ? R
    : Omit<R, Exclude<keyof AttributeSetValue<D, S> & string, A>>
  : R;

/**
 * Multicast group names of a family; any name when its spec lists none (ethtool's "monitor" is
 * only known to the kernel, which tells it when the family is resolved).
 *
 * @example
 * ```ts
 * import type { GroupName } from "@netlink/netlink/ynl";
 * import type { rtLink } from "@netlink/netlink/ynl/rt-link";
 * const group: GroupName<typeof rtLink> = "rtnlgrp-link";
 * ```
 */
export type GroupName<D extends FamilyDescriptor> = [keyof D["groups"]] extends [never] ? string
  : keyof D["groups"] & string;
