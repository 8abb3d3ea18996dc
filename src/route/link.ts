/**
 * Links (`ip link`): list, get, add, set, delete, with values as `ip` shows them.
 *
 * @module
 */

import { type NetnsFile, openNetns } from "../../ffi/mod.ts";
import * as C from "../_constants.ts";
import {
  AF_BRIDGE,
  IFF_ALLMULTI,
  IFF_MULTICAST,
  IFF_NOARP,
  IFF_PROMISC,
  IFF_RUNNING,
  IFF_UP,
  NLM_F_CREATE,
  NLM_F_EXCL,
} from "../_constants.ts";
import { netnsPath } from "../_netns.ts";
import { checkOptions, checkPlainObject, shown } from "../_options.ts";
import { NetlinkError, SocketClosedError } from "../errors.ts";
import { formatIP, parseIP, parseMAC } from "../ip.ts";
import { textBytes } from "../ynl/_decode.ts";
import type { DumpReply, SubMessageFormatValue } from "../ynl/_descriptor.ts";
import { rtLink } from "../ynl/rt_link.ts";
import { type Context, contextOf, type Hints, isListed, type LinkRef } from "./_context.ts";
import { checkLinkRef, checkNewLinkName, linkRefText, nameLookup } from "./_link_ref.ts";
import { flagNames, LINK_FLAGS, Names, OPERSTATES, printAs, WithRaw } from "./_names.ts";
import type { RouteClient } from "./client.ts";
import { checkWait, waitFor, type WaitOptions } from "./monitor.ts";
import { integer } from "./route.ts";

/** A link as the typed layer decodes it (every attribute, numbers as the kernel sends them). */
export type RawLink = DumpReply<typeof rtLink, "getlink">;

/** Operational state (IF_OPER_*), as `ip` names it but lowercase. */
export type Operstate =
  | "unknown"
  | "notpresent"
  | "down"
  | "lowerlayerdown"
  | "testing"
  | "dormant"
  | "up";

/**
 * What every {@linkcode Link} has, whatever its kind: `ip -d -j link show`'s fields but the
 * kind's and the port's options.
 *
 * @example
 * ```ts
 * import type { LinkFields } from "@netlink/netlink/route";
 * const mtuOf = (link: LinkFields) => link.mtu;
 * ```
 */
export interface LinkFields {
  /** ifindex. */
  readonly index: number;
  /**
   * Interface name. The kernel allows any bytes but NUL, "/", ":" and whitespace: bytes that are
   * not UTF-8 read as U+FFFD here (as `raw.ifname`), so such a name does not find the link
   * again (`get()` says so): use its `index`, or its `nameBytes`.
   */
  readonly name: string;
  /**
   * The name's bytes, exactly as the kernel has them, when they are not UTF-8 (so `name` reads
   * them as U+FFFD); absent for every other name, which `name` gives exactly. Every method of
   * the route client that takes a link ({@linkcode LinkRef}) takes these bytes too
   * (`ip.link.delete(link.nameBytes ?? link.name)`). In JSON, an array of the bytes
   * (`"nameBytes":[102,255,48]`; `new Uint8Array(json.nameBytes)` takes them back).
   */
  readonly nameBytes?: Uint8Array;
  /** IFF_* flags as `ip -j` lists them: "NO-CARRIER" first when up without carrier, then "UP"... */
  readonly flags: string[];
  /** IFF_UP: administratively up. */
  readonly up: boolean;
  /** Operational state ("up", "down", "unknown"...), or the number when it has no name. */
  readonly operstate: Operstate | number;
  /** MTU in bytes. */
  readonly mtu: number;
  /** Transmit queue length. */
  readonly txqlen?: number;
  /** Link-layer address ("aa:bb:cc:dd:ee:ff"). */
  readonly address?: string;
  /** Link-layer broadcast address. */
  readonly broadcast?: string;
  /**
   * Alternative names (`ip link property add dev X altname NAME`, up to 127 bytes); every method
   * that takes a link finds it by them too.
   */
  readonly altnames?: readonly string[];
  /** IFLA_IFALIAS, the free-text description. */
  readonly alias?: string;
  /**
   * The master's index (the bridge or bond this link is a port of), as the kernel sends it
   * (IFLA_MASTER; vishvananda's `MasterIndex`, pyroute2's `IFLA_MASTER`): `ip.link.get(master)`
   * is the master, `ip.link.list({ master })` its ports. A number, where `ip -j` prints the name
   * and where `FdbEntry` and `BridgeVlan` (as `bridge -j` prints them) have
   * the name in `master` and this number in `masterIndex`.
   */
  readonly master?: number;
  /** IFLA_LINK: the link this one sits on (a VLAN's parent), or a veth's peer. */
  readonly link?: number;
  /** The namespace id `link` is in, when it is in another namespace. */
  readonly linkNetnsid?: number;
  /** The queueing discipline's kind ("noqueue", "fq_codel"...), as `ip link` prints it. */
  readonly qdisc?: string;
  /** Device group: "default" for 0 (as `ip -j` prints it), else its number. */
  readonly group?: "default" | number;
  /** How many times promiscuous mode was asked for (0: off). */
  readonly promiscuity?: number;
  /** How many times all-multicast mode was asked for (0: off). */
  readonly allmulti?: number;
  /** Smallest MTU the device takes (0: no limit, as on lo). */
  readonly minMtu?: number;
  /** Largest MTU the device takes (0: no limit, as on lo). */
  readonly maxMtu?: number;
  /** Transmit queues. */
  readonly numTxQueues?: number;
  /** Receive queues. */
  readonly numRxQueues?: number;
  /** Largest GSO packet the stack builds for this device, in bytes (IPv6, and IPv4 before 6.3). */
  readonly gsoMaxSize?: number;
  /** Largest number of segments in a GSO packet. */
  readonly gsoMaxSegs?: number;
  /** Largest GRO packet the stack builds from this device's packets, in bytes. */
  readonly groMaxSize?: number;
  /** Largest TSO packet the device takes, in bytes (the cap on `gsoMaxSize`). */
  readonly tsoMaxSize?: number;
  /** Largest number of segments in a TSO packet the device takes. */
  readonly tsoMaxSegs?: number;
  /** Largest IPv4 GSO packet, in bytes (kernel 6.3 on). */
  readonly gsoIpv4MaxSize?: number;
  /** Largest IPv4 GRO packet, in bytes (kernel 6.3 on). */
  readonly groIpv4MaxSize?: number;
  /**
   * The address the hardware came with ("aa:bb:cc:dd:ee:ff"), when it has one (the kernel sends
   * none for veth, bridges and other software links). `ip` prints it (`permaddr`) only when it
   * differs from `address`; it is here whenever the kernel sends it.
   */
  readonly permAddress?: string;
  /** The bus of the device's parent ("pci", "netdevsim"...), as `ip -d` prints `parentbus`. */
  readonly parentBus?: string;
  /** The device's parent ("0000:00:03.0"), as `ip -d` prints `parentdev`. */
  readonly parentDev?: string;
  /** How many times the carrier went up or down (`ip -s -s` prints it with the tx counters). */
  readonly carrierChanges?: number;
  /** How many times the carrier came up. */
  readonly carrierUpCount?: number;
  /** How many times the carrier went down. */
  readonly carrierDownCount?: number;
  /**
   * Whether the link is held down by a control plane (`ip link set X protodown on`): `ip -j`
   * prints `"proto_down": true` when it is and nothing when it is not.
   */
  readonly protoDown?: boolean;
  /**
   * The reasons a control plane holds the link down by (IFLA_PROTO_DOWN_REASON, set with `ip link
   * set X protodown_reason 3 on`): the numbers of the reason bits set, 0 to 31, lowest first, as
   * `ip -j` lists them (`"proto_down_reason": ["3"]`, the names of
   * /etc/iproute2/protodown_reasons.d when it has any); absent when none is set. ip reads only
   * the low 8 bits; these are all 32.
   */
  readonly protoDownReason?: readonly number[];
  /**
   * The link mode (IFLA_LINKMODE: IF_LINK_MODE_*), lowercase: "default", or "dormant" where a
   * supplicant holds the link dormant until it authenticates (`ip -j` prints `"linkmode":
   * "DEFAULT"`); a number without a name.
   */
  readonly linkmode?: LinkMode | number;
  /**
   * The link-layer type (the header's ifi_type, ARPHRD_*), named as `ip -j` names it in
   * `link_type`: "ether", "loopback", "none" (a wireguard or tun link), "ipip", "gre"...; a
   * number where ip prints `[N]`.
   */
  readonly linkType: string | number;
  /**
   * How the link makes its IPv6 link-local address (IFLA_INET6_ADDR_GEN_MODE), as `ip -d -j`
   * names it in `inet6_addr_gen_mode`: "eui64" (from the MAC), "none" (no link-local address),
   * "stable_secret", "random"; a number where ip prints hex. Absent when IPv6 is off on the
   * link. Set it with {@linkcode LinkSettings.addrGenMode}.
   */
  readonly addrGenMode?: AddrGenMode | number;
  /** Traffic counters (IFLA_STATS64), as `ip -s link` shows them. */
  readonly stats?: LinkStats;
  /**
   * Everything the kernel sent, as the typed layer decodes it (u64 values as bigints). A getter,
   * so `JSON.stringify` and `console.log` show the link without it.
   */
  readonly raw: RawLink;
}

/**
 * A network interface, as `ip -d -j link show` shows it. Its `kind` tells what its `data` holds
 * and its `portKind` what its `portData` holds: compare them and the options are typed
 * (`if (link.kind === "vlan") link.data?.id` is a number), as `list({ kind: "vlan" })` types
 * the links it lists.
 *
 * - `kind`: the link kind ("veth", "bridge", "vxlan"...), absent for physical devices and
 *   loopback.
 * - `data`: the kind's options (IFLA_INFO_DATA), for the kinds the rt-link spec describes
 *   ({@linkcode DecodedLinkKind}; absent for others), typed by {@linkcode LinkData}: addresses
 *   as text and modes by name (a vxlan's `df` "unset", "set" or "inherit" as ip prints it; a
 *   bridge's `bridgeId` as `{ prio, addr }`). Other values are in the kernel's units, which
 *   {@linkcode LinkSettings.data} takes too: a bridge's times (`forwardDelay`, `helloTime`,
 *   `maxAge`, `ageingTime`) and timers (`helloTimer`, `gcTimer`...) in centiseconds (`ip -d`
 *   prints the times so, the timers in seconds). The kernel's u64 values are numbers, exact up
 *   to 2^53, as in {@linkcode LinkStats} (`raw.linkinfo.data` has them as bigints), so a link
 *   goes through `JSON.stringify`.
 * - `portKind`: the kind of the master this link is a port of ("bridge", "bond").
 * - `portData`: port options (IFLA_INFO_SLAVE_DATA), typed by {@linkcode LinkPortData}; a bridge
 *   port's on/off options as booleans, its STP `state` by ip's name ("forwarding"...). Other
 *   values are in the kernel's units, as in `data`: a bridge port's timers in centiseconds, its
 *   `id` and `no` numbers (ip prints them in hex, "0x8001"); u64 values as numbers.
 *
 * @example
 * ```ts
 * import { openRoute } from "@netlink/netlink/route";
 * await using ip = await openRoute();
 * const lo = await ip.link.get("lo");
 * console.log(lo.index, lo.flags, lo.operstate); // 1 ["LOOPBACK","UP","LOWER_UP"] "unknown"
 * for (const vlan of await ip.link.list({ kind: "vlan" })) console.log(vlan.name, vlan.data?.id);
 * ```
 */
export type Link =
  & LinkFields
  & (
    | {
      [K in DecodedLinkKind]: {
        /** The link kind. */
        readonly kind: K;
        /** The kind's options (IFLA_INFO_DATA). */
        readonly data?: LinkData<K>;
      };
    }[DecodedLinkKind]
    | {
      /** The link kind, if it has one; its options are not decoded. */
      readonly kind?: string;
      /** Never there for a kind the rt-link spec does not describe. */
      readonly data?: undefined;
    }
  )
  & (
    | {
      [K in DecodedPortKind]: {
        /** The kind of the master this link is a port of. */
        readonly portKind: K;
        /** The port options (IFLA_INFO_SLAVE_DATA). */
        readonly portData?: LinkPortData<K>;
      };
    }[DecodedPortKind]
    | {
      /** The kind of the master this link is a port of, if any; its options are not decoded. */
      readonly portKind?: string;
      /** Never there for a master kind the rt-link spec does not describe. */
      readonly portData?: undefined;
    }
  );

/**
 * The {@linkcode Link} of kind `K`: for a kind whose options are decoded, one whose `data` is
 * typed as {@linkcode LinkData} says.
 *
 * @example
 * ```ts
 * import type { LinkOfKind } from "@netlink/netlink/route";
 * const vlanId = (link: LinkOfKind<"vlan">) => link.data?.id; // number | undefined
 * ```
 */
export type LinkOfKind<K extends string> = K extends DecodedLinkKind ? Extract<Link, { kind: K }>
  : Link;

/**
 * The link kinds whose options (`data`) the library decodes: those the rt-link spec describes
 * ("bridge", "vlan", "vxlan", "macvlan", "veth", "bond"...).
 *
 * @example
 * ```ts
 * import type { DecodedLinkKind } from "@netlink/netlink/route";
 * const kind: DecodedLinkKind = "vxlan";
 * ```
 */
export type DecodedLinkKind = keyof (typeof rtLink)["subMessages"]["linkinfo-data-msg"] & string;

/**
 * The master kinds whose ports' options (`portData`) the library decodes: "bridge" and "bond".
 *
 * @example
 * ```ts
 * import type { DecodedPortKind } from "@netlink/netlink/route";
 * const master: DecodedPortKind = "bridge";
 * ```
 */
export type DecodedPortKind =
  & keyof (typeof rtLink)["subMessages"]["linkinfo-member-data-msg"]
  & string;

/**
 * A `K` link's `data` as {@linkcode Link} gives it: the typed layer's attributes of that kind,
 * every one optional, shown as {@linkcode LinkOptionShapes} says for `K` (addresses as text,
 * modes by name, on/off options as booleans), u64s as numbers.
 *
 * @example
 * ```ts
 * import type { LinkData } from "@netlink/netlink/route";
 * const vxlan: LinkData<"vxlan"> = { id: 42, group: "239.1.1.1", port: 4789, df: "inherit", learning: true };
 * ```
 */
export type LinkData<K extends DecodedLinkKind> = ShownOptions<
  SubMessageFormatValue<
    typeof rtLink,
    (typeof rtLink)["subMessages"]["linkinfo-data-msg"][K],
    "decoded"
  >,
  K extends keyof LinkOptionShapes ? LinkOptionShapes[K] : Record<never, never>
>;

/**
 * A port's `portData` as {@linkcode Link} gives it, by its master's kind `K`: as
 * {@linkcode LinkData} is typed (a bridge port's on/off options as booleans, its `state` by name).
 *
 * @example
 * ```ts
 * import type { LinkPortData } from "@netlink/netlink/route";
 * const port: LinkPortData<"bridge"> = { learning: false, state: "forwarding", cost: 100 };
 * ```
 */
export type LinkPortData<K extends DecodedPortKind> = ShownOptions<
  SubMessageFormatValue<
    typeof rtLink,
    (typeof rtLink)["subMessages"]["linkinfo-member-data-msg"][K],
    "decoded"
  >,
  K extends "bridge" ? LinkOptionShapes["bridgePort"] : Record<never, never>
>;

/**
 * Which of a kind's options the route layer shows otherwise than the typed layer decodes them:
 * by name, those holding an IP address (text), a MAC address (text), a bridge id (`{ prio, addr }`
 * with `addr` as text) or an on/off u8 (a boolean), and those named (each with its names).
 *
 * @example
 * ```ts
 * import type { OptionShape } from "@netlink/netlink/route";
 * type Shape = { ips: "group" | "local"; names: { df: "unset" | "set" | "inherit" } };
 * const fits: Shape extends OptionShape ? true : false = true;
 * ```
 */
export interface OptionShape {
  /** Options holding an IP address, shown as text. */
  readonly ips?: string;
  /** Options holding a MAC address, shown as text. */
  readonly macs?: string;
  /** Options holding a struct ifla_bridge_id, shown as `{ prio, addr }`, `addr` as text. */
  readonly bridgeIds?: string;
  /** On/off options the kernel has as a u8, shown as booleans. */
  readonly booleans?: string;
  /** Options shown by name: each option's names (a value without one stays a number). */
  readonly names?: { readonly [option: string]: string };
}

/**
 * How the route layer shows each kind's options ({@linkcode OptionShape}), for the kinds whose
 * options it shows otherwise than the typed layer (`bridgePort`: a bridge's ports' options).
 *
 * @example
 * ```ts
 * import type { LinkOptionShapes } from "@netlink/netlink/route";
 * type Df = LinkOptionShapes["vxlan"]["names"]["df"]; // "unset" | "set" | "inherit"
 * ```
 */
export interface LinkOptionShapes {
  /** vxlan: addresses, `df` by name, on/off options. */
  readonly vxlan: {
    readonly ips: "group" | "local" | "group6" | "local6";
    readonly names: { readonly df: "unset" | "set" | "inherit" };
    readonly booleans:
      | "learning"
      | "proxy"
      | "rsc"
      | "l2miss"
      | "l3miss"
      | "udpCsum"
      | "udpZeroCsum6Tx"
      | "udpZeroCsum6Rx";
  };
  /** macvlan: `mode` by name. */
  readonly macvlan: { readonly names: { readonly mode: MacvlanMode } };
  /** macvtap: as macvlan. */
  readonly macvtap: { readonly names: { readonly mode: MacvlanMode } };
  /** ipvlan: `mode` by name. */
  readonly ipvlan: { readonly names: { readonly mode: "l2" | "l3" | "l3s" } };
  /** ipvtap: as ipvlan. */
  readonly ipvtap: { readonly names: { readonly mode: "l2" | "l3" | "l3s" } };
  /** bond: `mode` by name. */
  readonly bond: {
    readonly names: {
      readonly mode:
        | "balance-rr"
        | "active-backup"
        | "balance-xor"
        | "broadcast"
        | "802.3ad"
        | "balance-tlb"
        | "balance-alb";
    };
  };
  /** bridge: `groupAddr` as text, the bridge ids. */
  readonly bridge: { readonly macs: "groupAddr"; readonly bridgeIds: "bridgeId" | "rootId" };
  /** A bridge's ports: the STP `state` by name, the bridge ids, on/off options. */
  readonly bridgePort: {
    readonly names: {
      readonly state: "disabled" | "listening" | "learning" | "forwarding" | "blocking";
    };
    readonly bridgeIds: "bridgeId" | "rootId";
    readonly booleans:
      | "mode"
      | "guard"
      | "protect"
      | "fastLeave"
      | "learning"
      | "unicastFlood"
      | "proxyarp"
      | "learningSync"
      | "proxyarpWifi"
      | "mcastFlood"
      | "mcastToUcast"
      | "vlanTunnel"
      | "bcastFlood"
      | "neighSuppress"
      | "isolated"
      | "mrpRingOpen"
      | "mrpInOpen"
      | "locked"
      | "mab"
      | "neighVlanSuppress";
  };
}

/**
 * A link's mode (IF_LINK_MODE_*), lowercase as {@linkcode Operstate} is (`ip -j` prints
 * "DEFAULT").
 *
 * @example
 * ```ts
 * import type { LinkMode } from "@netlink/netlink/route";
 * const mode: LinkMode = "dormant";
 * ```
 */
export type LinkMode = "default" | "dormant" | "testing";

/**
 * How a link makes its IPv6 link-local address (IN6_ADDR_GEN_MODE_*), as ip names the modes
 * (`ip link set dev X addrgenmode none`).
 *
 * @example
 * ```ts
 * import type { AddrGenMode } from "@netlink/netlink/route";
 * const noLinkLocal: AddrGenMode = "none";
 * ```
 */
export type AddrGenMode = "eui64" | "none" | "stable_secret" | "random";

/**
 * A macvlan's (and macvtap's) modes, as ip names them.
 *
 * @example
 * ```ts
 * import type { MacvlanMode } from "@netlink/netlink/route";
 * const mode: MacvlanMode = "bridge";
 * ```
 */
export type MacvlanMode = "private" | "vepa" | "bridge" | "passthru" | "source";

/**
 * Options `T` (as the typed layer decodes them) as the route layer shows them, by `F`: u64s as
 * numbers, and what `F` names as it says.
 *
 * @example
 * ```ts
 * import type { ShownOptions } from "@netlink/netlink/route";
 * type Shown = ShownOptions<{ mode?: number; up?: number }, { booleans: "up" }>; // { mode?: number; up?: boolean }
 * ```
 */
export type ShownOptions<T, F extends OptionShape> = {
  -readonly [P in keyof T as P extends string ? P : never]: P extends
    ShapeField<F, "ips"> | ShapeField<F, "macs"> ? string
    : P extends ShapeField<F, "bridgeIds"> ? { prio: number; addr: string }
    : P extends keyof ShapeField<F, "names">
      ? ShapeField<F, "names">[P] | Exclude<Numbered<T[P]>, undefined>
    : P extends ShapeField<F, "booleans"> ? boolean
    : Numbered<T[P]>;
};

/**
 * What shape `F` gives for `K`, or never when it gives nothing.
 *
 * @example
 * ```ts
 * import type { LinkOptionShapes, ShapeField } from "@netlink/netlink/route";
 * type Addresses = ShapeField<LinkOptionShapes["vxlan"], "ips">; // "group" | "local" | ...
 * ```
 */
export type ShapeField<F extends OptionShape, K extends keyof OptionShape> = F extends
  { readonly [Q in K]: infer V } ? V : never;

/**
 * `T` with the typed layer's bigints (its u64s) as numbers, at any depth, as the route layer
 * gives them.
 *
 * @example
 * ```ts
 * import type { Numbered } from "@netlink/netlink/route";
 * const timers: Numbered<{ gcTimer: bigint }> = { gcTimer: 1200 };
 * ```
 */
export type Numbered<T> = T extends bigint ? number
  : T extends Uint8Array ? T
  : T extends readonly (infer E)[] ? Numbered<E>[]
  : T extends object ? { [P in keyof T as P extends string ? P : never]: Numbered<T[P]> }
  : T;

/**
 * A link's traffic counters (IFLA_STATS64), as `ip -s -j link show` shows them. The kernel's
 * counters are u64s; these numbers are exact up to 2^53 (8 PiB), and `raw.stats64` has every
 * counter as a bigint.
 *
 * @example
 * ```ts
 * import { openRoute } from "@netlink/netlink/route";
 * await using ip = await openRoute();
 * const { rxBytes, txBytes } = (await ip.link.get("eth0")).stats!;
 * ```
 */
export interface LinkStats {
  /** Bytes received. */
  readonly rxBytes: number;
  /** Packets received. */
  readonly rxPackets: number;
  /** Receive errors. */
  readonly rxErrors: number;
  /** Packets dropped on receive. */
  readonly rxDropped: number;
  /** Receiver ring overruns (`ip -s -j`: rx `over_errors`). */
  readonly rxOverErrors: number;
  /** Multicast packets received. */
  readonly multicast: number;
  /** Bytes sent. */
  readonly txBytes: number;
  /** Packets sent. */
  readonly txPackets: number;
  /** Transmit errors. */
  readonly txErrors: number;
  /** Packets dropped on transmit. */
  readonly txDropped: number;
  /** Carrier errors (`ip -s -j`: tx `carrier_errors`). */
  readonly txCarrierErrors: number;
  /** Collisions. */
  readonly collisions: number;
}

/**
 * A network namespace to move a link to or put a veth peer in, as `ip link ... netns` takes it: an
 * `ip netns` name ("blue", i.e. /run/netns/blue) or a namespace file's absolute path
 * ("/proc/1234/ns/net"; a relative one, "../x", is a TypeError), both opened through FFI for the
 * request and closed after it (IFLA_NET_NS_FD); a process in that namespace (IFLA_NET_NS_PID); or a
 * descriptor of the namespace you opened yourself, left open (IFLA_NET_NS_FD).
 *
 * @example
 * ```ts
 * import type { NetnsRef } from "@netlink/netlink/route";
 * const byName: NetnsRef = "blue";
 * const byPath: NetnsRef = "/proc/1234/ns/net";
 * const byPid: NetnsRef = { pid: 1234 };
 * ```
 */
export type NetnsRef = string | { readonly pid: number } | { readonly fd: number };

/**
 * A `K` link's `data` as `link.add()` and `link.set()` take it: as {@linkcode LinkData} gives it,
 * but for the counts the kernel keeps (a bridge's `fdbNLearned`, read-only), and with a vxlan's
 * `link` by name or index. A kind whose options the library does not know (`K` not a
 * {@linkcode DecodedLinkKind}, or `string`) takes any object.
 *
 * @example
 * ```ts
 * import type { NewLinkData } from "@netlink/netlink/route";
 * const vxlan: NewLinkData<"vxlan"> = { id: 42, port: 4789, group: "239.1.1.1", link: "eth0" };
 * ```
 */
export type NewLinkData<K extends string> = string extends K ? Record<string, unknown>
  : K extends DecodedLinkKind ?
      & Omit<LinkData<K>, "fdbNLearned" | (K extends "vxlan" ? "link" : never)>
      & (K extends "vxlan" ? { link?: LinkRef } : unknown)
  : Record<string, unknown>;

/**
 * A port's `portData` as `link.add()` and `link.set()` take it, by its master's kind `P`: as
 * {@linkcode LinkPortData} gives it, but for the counts the kernel keeps (a bridge port's
 * `mcastNGroups` and `mcastEhtHostsCnt`, read-only). `P` is every master kind whose ports'
 * options the library knows ({@linkcode DecodedPortKind}: "bridge" or "bond") unless told one,
 * so a key that no such kind has is a compile error; a master kind it does not know (or
 * `string`) takes any object.
 *
 * @example
 * ```ts
 * import type { NewLinkPortData } from "@netlink/netlink/route";
 * const bridgePort: NewLinkPortData<"bridge"> = { learning: false, cost: 100, state: "blocking" };
 * const bondPort: NewLinkPortData<"bond"> = { queueId: 2 };
 * ```
 */
export type NewLinkPortData<P extends string = DecodedPortKind> = string extends P
  ? Record<string, unknown>
  : P extends DecodedPortKind ? Omit<LinkPortData<P>, "mcastNGroups" | "mcastEhtHostsCnt">
  : Record<string, unknown>;

/**
 * What `link.set()` changes; absent fields stay as they are. `K`, the link's kind, types
 * `data` ({@linkcode NewLinkData}): `ip.link.set<"vxlan">("vx0", { data: { ttl: 8 } })`; `P`,
 * its master's kind, types `portData` ({@linkcode NewLinkPortData}: a bridge's or a bond's
 * port options unless told which).
 *
 * @example
 * ```ts
 * import type { LinkSettings } from "@netlink/netlink/route";
 * const settings: LinkSettings = { up: true, mtu: 9000, alias: "uplink" };
 * const bridge: LinkSettings<"bridge"> = { data: { stpState: 1 } };
 * const port: LinkSettings<string, "bridge"> = { portData: { learning: false } };
 * ```
 */
export interface LinkSettings<K extends string = string, P extends string = DecodedPortKind> {
  /** Bring the link up (true) or down (false). */
  up?: boolean;
  /** Promiscuous mode on or off (`ip link set dev X promisc on`: IFF_PROMISC, "PROMISC"). */
  promisc?: boolean;
  /** Receive all multicast on or off (`allmulticast on`: IFF_ALLMULTI, "ALLMULTI"). */
  allmulticast?: boolean;
  /** Multicast on or off (`multicast on`: IFF_MULTICAST, "MULTICAST"). */
  multicast?: boolean;
  /** ARP on or off (`arp off` sets IFF_NOARP, "NOARP"). */
  arp?: boolean;
  /** New MTU: at most 2^31-1 (the kernel's is an int); more is a RangeError before any request. */
  mtu?: number;
  /** New name: text, or its bytes as they are (a name that is not UTF-8). */
  name?: string | Uint8Array;
  /** New link-layer address ("aa:bb:cc:dd:ee:ff"). */
  address?: string;
  /** New link-layer broadcast address. */
  broadcast?: string;
  /** New alias (free-text description, at most 254 bytes of UTF-8, no NUL); "" clears it. */
  alias?: string;
  /** New transmit queue length. */
  txqlen?: number;
  /**
   * How the link makes its IPv6 link-local address, as `ip link set dev X addrgenmode none` sets
   * it: "none" makes none (one made stays until the link goes down and up); the kernel refuses
   * "stable_secret" (EINVAL) unless the link's or the default `stable_secret` sysctl is set,
   * and any mode on a link with IPv6 off (EAFNOSUPPORT). Not taken by `link.add()` (the kernel
   * refuses it on a link being made, EAFNOSUPPORT): set it once the link is there.
   */
  addrGenMode?: AddrGenMode;
  /** Make the link a port of this bridge or bond; `null` detaches it (`ip link set nomaster`). */
  master?: LinkRef | null;
  /**
   * Move the link to another network namespace (`ip link set X netns NAME`): a name, a path, a
   * pid or a descriptor (see {@linkcode NetnsRef}). The link leaves this client's namespace, so
   * later calls here no longer find it.
   */
  netns?: NetnsRef;
  /**
   * Kind options to change (as in {@linkcode Link.data}), typed by `K`. A count the kernel keeps
   * is read-only: a bridge's `fdbNLearned` here is a TypeError, as the kernel refuses it (EINVAL).
   * A value the kernel takes in a narrower range than its type is a RangeError naming the option
   * and the range (`data.id: 16777216 is not an integer from 0 to 16777215`), as is a mode with no
   * name: a vxlan's or geneve's `id` (24 bits) and `label` (20), a VLAN's `id` (0 to 4094), a
   * bridge's `helloTime` (100 to 1000 centiseconds), `maxAge` (600 to 4000), `mcastRouter`,
   * `mcastIgmpVersion`, `mcastMldVersion`, `vlanDefaultPvid`, a bond's `mode` and what its option
   * tables bound (`adUserPortKey` 0 to 1023...), a macvlan's or ipvlan's `mode`, a vxlan's `df`.
   * On `link.add()` before any request; on `link.set()` once the link's kind is looked up, before
   * the change. A bridge's `forwardDelay` is bounded (200 to 3000) only while STP is on: the
   * kernel says ERANGE then.
   */
  data?: NewLinkData<K>;
  /**
   * Port options to change (as in {@linkcode Link.portData}), e.g. `{ learning: false }`,
   * typed by `P` ({@linkcode NewLinkPortData}). A key no bridge or bond port has is a TypeError
   * before any request (then one the link's master's kind does not have, once it is looked
   * up). A bridge port's `mcastNGroups` and `mcastEhtHostsCnt`, counts the kernel keeps, are
   * read-only: a TypeError here, as the kernel refuses them (EINVAL). Out of its range, a bridge
   * port's `priority` (0 to 63), `cost` (1 to 65535), `multicastRouter` (0 to 3),
   * `mcastEhtHostsLimit` (1 on) and a `state` with no name are RangeErrors naming the option,
   * before the change.
   */
  portData?: NewLinkPortData<NoInfer<P>>;
}

/**
 * A link to create (`ip link add`). Its `kind` types its `data` ({@linkcode NewLinkData}):
 * `link.add()` infers `K` from the kind given, so a misspelt option is a compile error. With a
 * `master`, `portData` sets its port options as it joins (`P` types them, as in
 * {@linkcode LinkSettings}).
 *
 * @example
 * ```ts
 * import type { NewLink } from "@netlink/netlink/route";
 * const pair: NewLink = { name: "veth0", kind: "veth", peer: { name: "veth1" } };
 * const vxlan: NewLink<"vxlan"> = { name: "vx0", kind: "vxlan", data: { id: 42, port: 4789 } };
 * const port: NewLink = { name: "veth2", kind: "veth", master: "br0", portData: { cost: 50 } };
 * ```
 */
export interface NewLink<K extends string = string, P extends string = DecodedPortKind>
  extends Omit<LinkSettings<K, P>, "name" | "addrGenMode">
{
  /** The new link's name: text, or its bytes as they are (a name that is not UTF-8). */
  name: string | Uint8Array;
  /** Its kind: "veth", "bridge", "vxlan", "macvlan", "vlan", "bond", "wireguard"... */
  kind: K;
  /** The link it sits on (a macvlan's or VLAN's parent). */
  link?: LinkRef;
  /**
   * The veth peer: its name, namespace (`ip link add a type veth peer name b netns NAME`),
   * address, MTU.
   */
  peer?: { name?: string | Uint8Array; netns?: NetnsRef; address?: string; mtu?: number };
}

/**
 * Filters of `link.list()`.
 *
 * @example
 * ```ts
 * import type { LinkFilter } from "@netlink/netlink/route";
 * const bridgePorts: LinkFilter = { master: "br0" };
 * ```
 */
export interface LinkFilter {
  /** Only links of this kind ("veth", "bridge"...). */
  kind?: string;
  /** Only ports of this master. */
  master?: LinkRef;
}

// Every key of each spec and nothing else (`satisfies`): a misspelt one is refused, not ignored.
const FILTER_KEYS = Object.keys({ kind: 0, master: 0 } satisfies Record<keyof LinkFilter, 0>);
const SETTINGS_KEYS = Object.keys(
  {
    up: 0,
    promisc: 0,
    allmulticast: 0,
    multicast: 0,
    arp: 0,
    mtu: 0,
    name: 0,
    address: 0,
    broadcast: 0,
    alias: 0,
    txqlen: 0,
    addrGenMode: 0,
    master: 0,
    netns: 0,
    data: 0,
    portData: 0,
  } satisfies Record<keyof LinkSettings, 0>,
);
/** The settings that are IFF_* flags: the flag, and the value that sets it (arp: false). */
const FLAG_SETTINGS: [keyof LinkSettings & string, number, boolean][] = [
  ["up", IFF_UP, true],
  ["promisc", IFF_PROMISC, true],
  ["allmulticast", IFF_ALLMULTI, true],
  ["multicast", IFF_MULTICAST, true],
  ["arp", IFF_NOARP, false],
];
const NEW_LINK_KEYS = [
  // addrGenMode: the kernel refuses IFLA_AF_SPEC's AF_INET6 on a link not yet registered
  // (EAFNOSUPPORT), and `ip link add` takes no addrgenmode: set it once the link is made.
  ...SETTINGS_KEYS.filter((key) => key !== "addrGenMode"),
  ...Object.keys(
    { kind: 0, link: 0, peer: 0 } satisfies Record<Exclude<keyof NewLink, keyof LinkSettings>, 0>,
  ),
];
/**
 * The kinds that sit on a link (IFLA_LINK), which the kernel refuses without one with a bare
 * EINVAL (drivers/net/macvlan.c, ipvlan, net/8021q: `ip link add` sends none unless told).
 */
const NEEDS_LINK = new Set(["macvlan", "macvtap", "ipvlan", "ipvtap", "vlan"]);

// Every port option of the master kinds whose ports' options are known (bridge, bond): what a
// portData key may be before the link's master is looked up. Its kind's own set checks it then.
const PORT_KEYS = [
  ...new Set(
    Object.values(rtLink.subMessages["linkinfo-member-data-msg"]).flatMap((format) =>
      Object.keys(rtLink.sets[format.set])
    ),
  ),
];

/** `portData` checked as far as it can be before the link's master is known. */
function checkPortData(portData: unknown, where: string): void {
  checkOptions(`${where} portData`, portData as object, PORT_KEYS);
  for (const key of BRIDGE_PORT.readOnly) {
    if ((portData as Record<string, unknown>)[key] !== undefined) {
      throw new TypeError(
        `portData.${key}: read-only, a count the kernel keeps and refuses in a change: leave it out`,
      );
    }
  }
}

const PEER_KEYS = Object.keys(
  { name: 0, netns: 0, address: 0, mtu: 0 } satisfies Record<keyof NonNullable<NewLink["peer"]>, 0>,
);

const MACVLAN_MODES = new Names(
  "macvlan mode",
  {
    private: 1,
    vepa: 2,
    bridge: 4,
    passthru: 8,
    source: 16,
  },
);
const IPVLAN_MODES = new Names("ipvlan mode", { l2: 0, l3: 1, l3s: 2 });
const BOND_MODES = new Names("bond mode", {
  "balance-rr": 0,
  "active-backup": 1,
  "balance-xor": 2,
  broadcast: 3,
  "802.3ad": 4,
  "balance-tlb": 5,
  "balance-alb": 6,
});

// IF_LINK_MODE_* (linux/if.h), lowercase.
const LINK_MODES = new Names<LinkMode>("link mode", {
  default: C.IF_LINK_MODE_DEFAULT,
  dormant: C.IF_LINK_MODE_DORMANT,
  testing: C.IF_LINK_MODE_TESTING,
});
// IN6_ADDR_GEN_MODE_* (linux/if_link.h), named as ip names them.
const ADDR_GEN_MODES = new Names<AddrGenMode>("IPv6 address generation mode", {
  eui64: C.IN6_ADDR_GEN_MODE_EUI64,
  none: C.IN6_ADDR_GEN_MODE_NONE,
  stable_secret: C.IN6_ADDR_GEN_MODE_STABLE_PRIVACY,
  random: C.IN6_ADDR_GEN_MODE_RANDOM,
});
// ARPHRD_* (linux/if_arp.h) as ip names them in link_type (iproute2's ll_type_n2a: its table,
// 0 as "generic" rather than ARPHRD_NETROM's name).
const LINK_TYPES = new Names("link type", {
  generic: C.ARPHRD_NETROM,
  ether: C.ARPHRD_ETHER,
  eether: C.ARPHRD_EETHER,
  ax25: C.ARPHRD_AX25,
  pronet: C.ARPHRD_PRONET,
  chaos: C.ARPHRD_CHAOS,
  ieee802: C.ARPHRD_IEEE802,
  arcnet: C.ARPHRD_ARCNET,
  atalk: C.ARPHRD_APPLETLK,
  dlci: C.ARPHRD_DLCI,
  atm: C.ARPHRD_ATM,
  metricom: C.ARPHRD_METRICOM,
  ieee1394: C.ARPHRD_IEEE1394,
  infiniband: C.ARPHRD_INFINIBAND,
  slip: C.ARPHRD_SLIP,
  cslip: C.ARPHRD_CSLIP,
  slip6: C.ARPHRD_SLIP6,
  cslip6: C.ARPHRD_CSLIP6,
  rsrvd: C.ARPHRD_RSRVD,
  adapt: C.ARPHRD_ADAPT,
  rose: C.ARPHRD_ROSE,
  x25: C.ARPHRD_X25,
  hwx25: C.ARPHRD_HWX25,
  can: C.ARPHRD_CAN,
  ppp: C.ARPHRD_PPP,
  hdlc: C.ARPHRD_HDLC,
  lapb: C.ARPHRD_LAPB,
  ddcmp: C.ARPHRD_DDCMP,
  rawhdlc: C.ARPHRD_RAWHDLC,
  ipip: C.ARPHRD_TUNNEL,
  tunnel6: C.ARPHRD_TUNNEL6,
  frad: C.ARPHRD_FRAD,
  skip: C.ARPHRD_SKIP,
  loopback: C.ARPHRD_LOOPBACK,
  ltalk: C.ARPHRD_LOCALTLK,
  fddi: C.ARPHRD_FDDI,
  bif: C.ARPHRD_BIF,
  sit: C.ARPHRD_SIT,
  "ip/ddp": C.ARPHRD_IPDDP,
  gre: C.ARPHRD_IPGRE,
  pimreg: C.ARPHRD_PIMREG,
  hippi: C.ARPHRD_HIPPI,
  ash: C.ARPHRD_ASH,
  econet: C.ARPHRD_ECONET,
  irda: C.ARPHRD_IRDA,
  fcpp: C.ARPHRD_FCPP,
  fcal: C.ARPHRD_FCAL,
  fcpl: C.ARPHRD_FCPL,
  ...Object.fromEntries(
    Array.from({ length: 13 }, (_, i) => [`fcfb${i}`, C.ARPHRD_FCFABRIC + i]),
  ),
  tr: C.ARPHRD_IEEE802_TR,
  "ieee802.11": C.ARPHRD_IEEE80211,
  "ieee802.11/prism": C.ARPHRD_IEEE80211_PRISM,
  "ieee802.11/radiotap": C.ARPHRD_IEEE80211_RADIOTAP,
  "ieee802.15.4": C.ARPHRD_IEEE802154,
  "ieee802.15.4/monitor": C.ARPHRD_IEEE802154_MONITOR,
  phonet: C.ARPHRD_PHONET,
  phonet_pipe: C.ARPHRD_PHONET_PIPE,
  caif: C.ARPHRD_CAIF,
  gre6: C.ARPHRD_IP6GRE,
  netlink: C.ARPHRD_NETLINK,
  "6lowpan": C.ARPHRD_6LOWPAN,
  none: C.ARPHRD_NONE,
  void: C.ARPHRD_VOID,
});

/** The numbers of the bits set in `mask`, lowest first. */
function bits(mask: number): number[] {
  const out: number[] = [];
  for (let bit = 0; bit < 32; bit++) if ((mask >>> bit) & 1) out.push(bit);
  return out;
}

// IFLA_VXLAN_DF (linux/if_link.h enum ifla_vxlan_df), named as ip names them.
const VXLAN_DF = new Names("vxlan df", {
  unset: 0,
  set: 1,
  inherit: 2,
});
// A bridge port's STP state (BR_STATE_*, linux/if_bridge.h), named as ip names them.
const BRIDGE_PORT_STATES = new Names("bridge port state", {
  disabled: 0,
  listening: 1,
  learning: 2,
  forwarding: 3,
  blocking: 4,
});

/** How a kind's options read and write beyond the typed layer: addresses as text, modes by name. */
interface KindFields {
  readonly ips?: readonly string[];
  readonly macs?: readonly string[];
  readonly names?: Readonly<Record<string, Names<string>>>;
  readonly booleans?: readonly string[];
  /** Options holding a struct ifla_bridge_id, written with its MAC address (`addr`) as text. */
  readonly bridgeIds?: readonly string[];
  /** Options that hold a link's index, which may be given as its name. */
  readonly links?: readonly string[];
  /**
   * IPv4 address options and the option that holds the IPv6 one instead: an IPv6 address given
   * to the first is sent as the second, as ip sends `group ff05::1` (IFLA_VXLAN_GROUP takes 4
   * bytes and would read the first 4 of 16 as an IPv4 address).
   */
  readonly ipv6In?: Readonly<Record<string, string>>;
  /**
   * Counts the kernel keeps and refuses in a change (EINVAL: NLA_REJECT in its policy, or no
   * policy entry): read, never written, so a change that holds one fails before any request.
   */
  readonly readOnly?: readonly string[];
  /**
   * The options whose values the kernel takes in a narrower range than their attribute's type,
   * with that range, lowest and highest: one out of it is a RangeError naming the option and the
   * range, before the request, where the kernel would answer ERANGE or EINVAL (vxlan_validate(),
   * vlan_validate(), geneve_validate(), the bridge's br_set_hello_time() and
   * br_stp_set_path_cost()..., bond_options.c's value tables), or, for a flow label, cut it to 20
   * bits unsaid (ip refuses more). The ranges of the host kernel's kinds (vxlan, bridge and its
   * ports) were measured there. Not here: a bridge's `forwardDelay`, which the kernel bounds (200
   * to 3000) only while STP is on, and modes by name (`names`, where a number without a name is
   * refused alike).
   */
  readonly ranges?: Readonly<Record<string, readonly [number, number]>>;
}

const INT_MAX = 0x7fff_ffff;
const FLOW_LABEL = [0, 0xfffff] as const; // an IPv6 flow label: 20 bits

const KINDS = {
  vxlan: {
    ips: ["group", "local", "group6", "local6"],
    ipv6In: { group: "group6", local: "local6" },
    links: ["link"],
    names: { df: VXLAN_DF },
    booleans: [
      "learning",
      "proxy",
      "rsc",
      "l2miss",
      "l3miss",
      "udpCsum",
      "udpZeroCsum6Tx",
      "udpZeroCsum6Rx",
    ],
    ranges: { id: [0, 0xff_ffff], label: FLOW_LABEL }, // a 24-bit VNI
  },
  geneve: { ranges: { id: [0, 0xff_ffff], label: FLOW_LABEL, df: [0, 2] } },
  vlan: { ranges: { id: [0, 4094] } }, // 4095 is reserved (VLAN_VID_MASK)
  macvlan: { names: { mode: MACVLAN_MODES } },
  macvtap: { names: { mode: MACVLAN_MODES } },
  ipvlan: { names: { mode: IPVLAN_MODES } },
  ipvtap: { names: { mode: IPVLAN_MODES } },
  bond: {
    names: { mode: BOND_MODES },
    ranges: {
      miimon: [0, INT_MAX],
      updelay: [0, INT_MAX],
      downdelay: [0, INT_MAX],
      arpInterval: [0, INT_MAX],
      resendIgmp: [0, 255],
      minLinks: [0, INT_MAX],
      lpInterval: [1, INT_MAX],
      packetsPerSlave: [0, 65535],
      adActorSysPrio: [1, 65535],
      adUserPortKey: [0, 1023],
      peerNotifDelay: [0, INT_MAX],
      missedMax: [1, 255],
    },
  },
  bridge: {
    macs: ["groupAddr"],
    bridgeIds: ["bridgeId", "rootId"],
    readOnly: ["fdbNLearned"],
    ranges: {
      helloTime: [100, 1000], // centiseconds: 1 to 10 s
      maxAge: [600, 4000], // 6 to 40 s
      mcastRouter: [0, 2],
      mcastIgmpVersion: [2, 3],
      mcastMldVersion: [1, 2],
      vlanDefaultPvid: [0, 4094], // 0: none
    },
  },
} as const satisfies Record<string, KindFields>;

// The public shapes say what these tables do, no more, no less: a field added to one and not the
// other does not compile (a kind with ranges only, geneve's and vlan's, shows nothing otherwise).
type ShapeOf<F> =
  & {
    [
      Q in "ips" | "macs" | "bridgeIds" | "booleans" as F extends { readonly [R in Q]: unknown } ? Q
        : never
    ]: F extends { readonly [R in Q]: readonly (infer E)[] } ? E : never;
  }
  & (F extends { readonly names: infer N } ? { names: { [O in keyof N]: NameOf<N[O]> } } : unknown);
type NameOf<N> = N extends Names<infer Name> ? Name : never;
type Same<A, B> = [A] extends [B] ? [B] extends [A] ? true : false : false;
type Deep<T> = T extends object ? { [K in keyof T]: Deep<T[K]> } : T;
const SHAPES_MATCH: Same<
  Deep<
    {
      [
        K in keyof typeof KINDS as keyof ShapeOf<(typeof KINDS)[K]> extends never ? never : K
      ]: ShapeOf<(typeof KINDS)[K]>;
    } & {
      bridgePort: ShapeOf<typeof BRIDGE_PORT>;
    }
  >,
  Deep<
    {
      -readonly [K in keyof LinkOptionShapes]: {
        -readonly [Q in keyof LinkOptionShapes[K]]: LinkOptionShapes[K][Q];
      };
    }
  >
> = true;
void SHAPES_MATCH;

/** How kind `kind`'s options read and write, if the library shows any of them otherwise. */
function kindFields(kind: string | undefined): KindFields | undefined {
  return kind !== undefined && Object.hasOwn(KINDS, kind)
    ? KINDS[kind as keyof typeof KINDS]
    : undefined;
}

// A bridge port's on/off options: u8 0/1 on the wire (scripts/ynl_corrections.ts), booleans here.
const BRIDGE_PORT = {
  names: { state: BRIDGE_PORT_STATES },
  bridgeIds: ["bridgeId", "rootId"],
  readOnly: ["mcastNGroups", "mcastEhtHostsCnt"],
  ranges: {
    priority: [0, 63], // the port id's 6 bits of priority
    cost: [1, 65535],
    multicastRouter: [0, 3],
    mcastEhtHostsLimit: [1, 0xffff_ffff],
  },
  booleans: [
    "mode",
    "guard",
    "protect",
    "fastLeave",
    "learning",
    "unicastFlood",
    "proxyarp",
    "learningSync",
    "proxyarpWifi",
    "mcastFlood",
    "mcastToUcast",
    "vlanTunnel",
    "bcastFlood",
    "neighSuppress",
    "isolated",
    "mrpRingOpen",
    "mrpInOpen",
    "locked",
    "mab",
    "neighVlanSuppress",
  ],
} as const satisfies KindFields;

/**
 * `value` with the typed layer's bigints (its u64s) as numbers, exact up to 2^53 as LinkStats',
 * in objects and arrays at any depth: what the everyday API returns goes through JSON.stringify.
 */
function numbers(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(numbers);
  if (typeof value !== "object" || value === null || value instanceof Uint8Array) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = numbers(v);
  return out;
}

function readData(fields: KindFields | undefined, data: Record<string, unknown>) {
  const out = numbers(data) as Record<string, unknown>;
  if (fields === undefined) return out;
  for (const key of fields.ips ?? []) {
    if (out[key] instanceof Uint8Array) out[key] = formatIP(out[key] as Uint8Array);
  }
  // MACs (a bridge's groupAddr, a bridge id's addr) come as text: the rt-link codec reads them
  // so (their display hint).
  for (const [key, names] of Object.entries(fields.names ?? {})) {
    if (typeof out[key] === "number") out[key] = names.name(out[key] as number);
  }
  for (const key of fields.booleans ?? []) {
    if (typeof out[key] === "number") out[key] = out[key] !== 0;
  }
  return out;
}

/** The flags (written as their presence: a boolean) among the options of kind `kind`. */
function flagOptions(kind: string | undefined, port = false): Set<string> {
  const formats = rtLink.subMessages[port ? "linkinfo-member-data-msg" : "linkinfo-data-msg"];
  const format = kind === undefined || !Object.hasOwn(formats, kind)
    ? undefined
    : (formats as Record<string, { set: string }>)[kind];
  const sets = rtLink.sets as Record<string, Record<string, readonly unknown[]>>;
  const attributes = format === undefined ? {} : sets[format.set] ?? {};
  return new Set(Object.keys(attributes).filter((key) => attributes[key][1] === "flag"));
}

function writeData(
  fields: KindFields | undefined,
  data: Record<string, unknown>,
  where: string,
  flags: Set<string>,
) {
  checkPlainObject(where, data);
  for (const key of fields?.readOnly ?? []) {
    if (data[key] !== undefined) {
      throw new TypeError(
        `${where}.${key}: read-only, a count the kernel keeps and refuses in a change: leave it out`,
      );
    }
  }
  const out: Record<string, unknown> = { ...data };
  for (const key of fields?.ips ?? []) {
    if (typeof out[key] === "string") out[key] = parseIP(out[key] as string, `${where}.${key}`);
  }
  for (const [key, key6] of Object.entries(fields?.ipv6In ?? {})) {
    const v6 = out[key6];
    if (v6 instanceof Uint8Array && v6.length !== 16) {
      throw new TypeError(`${where}.${key6}: ${shown(data[key6])} is not an IPv6 address`);
    }
    const address = out[key];
    if (!(address instanceof Uint8Array)) continue;
    // Both: the kernel took the IPv4 one and dropped the other unsaid; ip has one operand.
    if (v6 !== undefined) {
      throw new TypeError(
        `${where}: ${key} and ${key6} are both given: a ${key} is IPv4 (${key}) or IPv6 `
          + `(${key6}), one of them`,
      );
    }
    if (address.length !== 16) continue;
    out[key6] = address;
    delete out[key];
  }
  for (const key of fields?.macs ?? []) {
    if (typeof out[key] === "string") out[key] = parseMAC(out[key] as string, `${where}.${key}`);
  }
  // Written as read: a bridge id's MAC address as text.
  for (const key of fields?.bridgeIds ?? []) {
    const id = out[key] as { addr?: unknown } | undefined;
    if (typeof id?.addr === "string") {
      out[key] = { ...id, addr: parseMAC(id.addr, `${where}.${key}.addr`) };
    }
  }
  // The kernel refuses a mode or state with no name (EINVAL).
  for (const [key, names] of Object.entries(fields?.names ?? {})) {
    if (out[key] !== undefined) out[key] = names.known(out[key] as string, `${where}.${key}`);
  }
  for (const [key, [min, max]] of Object.entries(fields?.ranges ?? {})) {
    if (out[key] !== undefined) out[key] = integer(out[key], `${where}.${key}`, max, min);
  }
  // Any on/off option the kernel takes as a u8 may be written as a boolean; a flag (a vxlan's
  // gbp, ttlInherit) is one.
  for (const [key, value] of Object.entries(out)) {
    if (typeof value === "boolean" && !flags.has(key)) out[key] = value ? 1 : 0;
  }
  return out;
}

/** The flags as `ip -j` lists them (iproute2's print_link_flags). */
function linkFlags(flags: number, lowerDown: boolean): string[] {
  const names = flagNames(LINK_FLAGS, flags & ~IFF_RUNNING);
  if (flags & IFF_UP && !(flags & IFF_RUNNING)) names.unshift("NO-CARRIER");
  if (lowerDown) names.push("M-DOWN");
  return names;
}

// The u32 attributes a Link gives as they are, under the typed layer's names.
const COUNTS = [
  "promiscuity",
  "allmulti",
  "minMtu",
  "maxMtu",
  "numTxQueues",
  "numRxQueues",
  "gsoMaxSize",
  "gsoMaxSegs",
  "groMaxSize",
  "tsoMaxSize",
  "tsoMaxSegs",
  "gsoIpv4MaxSize",
  "groIpv4MaxSize",
  "carrierChanges",
  "carrierUpCount",
  "carrierDownCount",
] as const satisfies readonly (keyof RawLink & keyof LinkFields)[];

// Named as the interface is, for console.log.
const LinkObject = class Link extends WithRaw<RawLink> {};
printAs(LinkObject, class Link {});

/**
 * Turns a typed link into a {@linkcode Link}; `lowerUp` tells whether the link it sits on
 * (IFLA_LINK, in this namespace) is up: `ip` adds "M-DOWN" to the flags when it is not.
 */
export function toLink(raw: RawLink, lowerUp?: boolean): Link {
  const info = raw.linkinfo;
  const kind = info?.kind;
  // A bridge's message on its port (AF_BRIDGE, a "port" event) has the port's options in
  // IFLA_PROTINFO, where a link's own has them in IFLA_INFO_SLAVE_DATA.
  const onPort = raw.ifiFamily === AF_BRIDGE && raw.protinfo !== undefined;
  const portKind = info?.slaveKind ?? (onPort ? "bridge" : undefined);
  const data = info?.data;
  const portData = info?.slaveData ?? (onPort ? raw.protinfo : undefined);
  const flags = raw.ifiFlags;
  const link = new LinkObject(raw) as unknown as Record<string, unknown>;
  link.index = raw.ifiIndex;
  link.name = raw.ifname ?? "";
  const nameBytes = textBytes(raw, "ifname");
  if (nameBytes !== undefined) link.nameBytes = nameBytes;
  link.flags = linkFlags(flags, lowerUp === false);
  link.up = (flags & IFF_UP) !== 0;
  link.operstate = OPERSTATES.name(raw.operstate ?? 0);
  link.mtu = raw.mtu ?? 0;
  if (raw.txqlen !== undefined) link.txqlen = raw.txqlen;
  // The rt-link codec reads them as text (their display hint): "aa:bb:cc:dd:ee:ff".
  if (raw.address !== undefined) link.address = raw.address;
  if (raw.broadcast !== undefined) link.broadcast = raw.broadcast;
  if (raw.ifalias !== undefined) link.alias = raw.ifalias;
  const altnames = raw.propList?.altIfname;
  if (altnames?.length) link.altnames = altnames;
  if (raw.master !== undefined) link.master = raw.master;
  if (raw.link !== undefined) link.link = raw.link;
  if (raw.linkNetnsid !== undefined) link.linkNetnsid = raw.linkNetnsid;
  if (raw.qdisc !== undefined) link.qdisc = raw.qdisc;
  if (raw.group !== undefined) link.group = raw.group === 0 ? "default" : raw.group;
  for (const field of COUNTS) {
    if (raw[field] !== undefined) link[field] = raw[field];
  }
  if (raw.permAddress !== undefined) link.permAddress = raw.permAddress;
  if (raw.parentDevBusName !== undefined) link.parentBus = raw.parentDevBusName;
  if (raw.parentDevName !== undefined) link.parentDev = raw.parentDevName;
  if (raw.protoDown !== undefined) link.protoDown = raw.protoDown !== 0;
  const reasons = raw.protoDownReason?.value;
  if (reasons) link.protoDownReason = bits(reasons);
  if (raw.linkmode !== undefined) link.linkmode = LINK_MODES.name(raw.linkmode);
  link.linkType = LINK_TYPES.name(raw.ifiType);
  const addrGenMode = raw.afSpec?.inet6?.addrGenMode;
  if (addrGenMode !== undefined) link.addrGenMode = ADDR_GEN_MODES.name(addrGenMode);
  if (kind !== undefined) link.kind = kind;
  if (data !== undefined && !(data instanceof Uint8Array)) {
    link.data = readData(kindFields(kind), data as Record<string, unknown>);
  }
  const counters = raw.stats64;
  if (counters !== undefined) {
    link.stats = {
      rxBytes: Number(counters.rxBytes),
      rxPackets: Number(counters.rxPackets),
      rxErrors: Number(counters.rxErrors),
      rxDropped: Number(counters.rxDropped),
      rxOverErrors: Number(counters.rxOverErrors),
      multicast: Number(counters.multicast),
      txBytes: Number(counters.txBytes),
      txPackets: Number(counters.txPackets),
      txErrors: Number(counters.txErrors),
      txDropped: Number(counters.txDropped),
      txCarrierErrors: Number(counters.txCarrierErrors),
      collisions: Number(counters.collisions),
    };
  }
  if (portKind !== undefined) link.portKind = portKind;
  if (portData !== undefined && !(portData instanceof Uint8Array)) {
    link.portData = readData(
      portKind === "bridge" ? BRIDGE_PORT : undefined,
      portData as Record<string, unknown>,
    );
  }
  return link as unknown as Link;
}

/** Returns `kind` if it can name a link kind ("veth"), else throws a TypeError naming it. */
function checkKind(kind: unknown): string {
  if (typeof kind !== "string" || kind === "" || kind.includes("\0")) {
    throw new TypeError(`kind: ${shown(kind)} is not a link kind such as "veth"`);
  }
  return kind;
}

/**
 * What the kernel's "Unknown device type" means: no link kind by that name is registered (its
 * module is not loaded, and the kernel could not load it: rtnl-link-KIND), or the name is
 * misspelt. Any other EOPNOTSUPP is left to `others`.
 */
function unknownKindHint(kind: string, others: Hints): Hints {
  const other = others.EOPNOTSUPP;
  return {
    EOPNOTSUPP: (err) =>
      err.detail === "Unknown device type"
        ? `this kernel has no link kind ${shown(kind)}: its module is not loaded (modprobe), or `
          + "the kind is misspelt"
        : typeof other === "function"
        ? other(err)
        : other,
  };
}

/**
 * What a bare EOPNOTSUPP (no extended-ack text) means for a request that names a master or sets
 * a bridge's VLAN options: the master takes no ports (rtnetlink's do_set_master(), for a link
 * without ndo_add_slave), or the kernel was built without bridge VLAN filtering (the bridge's
 * VLAN setters are stubs refusing them then). One the kernel explains ("Unknown device type")
 * is {@linkcode unknownKindHint}'s.
 */
function unsupportedHint(
  master: LinkRef | null | undefined,
  kind: string | undefined,
  data: object | undefined,
): Hints {
  const hints: string[] = [];
  if (master !== undefined && master !== null) {
    hints.push(`"${linkRefText(master)}" takes no ports: a master is a bridge, bond, team or VRF`);
  }
  const vlanKeys = kind === "bridge" && data !== undefined
    ? Object.keys(data).filter((key) => key.startsWith("vlan"))
    : [];
  if (vlanKeys.length > 0) {
    hints.push(
      `${vlanKeys.join(", ")} ${vlanKeys.length === 1 ? "needs" : "need"} bridge VLAN `
        + "filtering, which this kernel may lack "
        + "(CONFIG_BRIDGE_VLAN_FILTERING)",
    );
  }
  const hint = hints.join("; or ");
  return hints.length === 0 ? {} : { EOPNOTSUPP: (err) => err.detail ? undefined : hint };
}

/** Whether `link` is named `name` (its name or an altname, or its name's bytes). */
function isNamed(link: Link, name: string | Uint8Array): boolean {
  if (typeof name === "string") return link.name === name || link.altnames?.includes(name) === true;
  const bytes = link.nameBytes ?? new TextEncoder().encode(link.name);
  return bytes.length === name.length && bytes.every((byte, i) => byte === name[i]);
}

/**
 * The index of the link `raw` sits on when that link is in this namespace (ip shows no M-DOWN
 * for one in another), else 0.
 */
export function lowerIndex(raw: RawLink): number {
  return raw.link && raw.linkNetnsid === undefined ? raw.link : 0;
}

/** Whether the link `raw` sits on is up, when that link is in this namespace and known. */
export function lowerUp(raw: RawLink, up: Map<number, boolean>): boolean | undefined {
  const lower = lowerIndex(raw);
  return lower ? up.get(lower) : undefined;
}

/**
 * The namespaces a request names, as typed attributes. Names and paths are opened as they are
 * met (after every check that needs no system call) and all closed by `close()`, which the
 * caller runs once the request is answered, whatever the outcome.
 */
class NetnsFiles {
  readonly #open: NetnsFile[] = [];

  /** The typed attributes for `ref` (netNsPid or netNsFd); `field` names it in errors. */
  attributes(ref: NetnsRef, field: string): Record<string, unknown> {
    if (typeof ref === "string") {
      const path = netnsPath(ref, field);
      const file = openNetns(path);
      this.#open.push(file);
      return { netNsFd: file.fd };
    }
    if (typeof ref === "object" && ref !== null && "pid" in ref) {
      return { netNsPid: integer(ref.pid, `${field}.pid`, 0xffff_ffff) };
    }
    if (typeof ref === "object" && ref !== null && "fd" in ref) {
      return { netNsFd: integer(ref.fd, `${field}.fd`, 0x7fff_ffff) };
    }
    throw new TypeError(
      `${field}: ${shown(ref)} is not a namespace name, path, { pid } or { fd }`,
    );
  }

  close(): void {
    for (const file of this.#open.splice(0)) file.close();
  }
}

/**
 * `ip link`: the links of the client's namespace.
 *
 * @example
 * ```ts
 * import { openRoute } from "@netlink/netlink/route";
 * await using ip = await openRoute();
 * await ip.link.add({ name: "veth0", kind: "veth", peer: { name: "veth1" } });
 * await ip.link.set("veth0", { up: true, mtu: 1400 });
 * for (const link of await ip.link.list()) console.log(link.name, link.operstate);
 * ```
 */
export class Links {
  readonly #ctx: Context;

  /** The client's; get one from `openRoute()`. */
  constructor(client: RouteClient) {
    this.#ctx = contextOf(client);
  }

  /**
   * Every link (`ip -d link show`), optionally only those of a kind or master. Filtered by the
   * kernel where it can (strict checking: kind and master), and here in any case. Links of a
   * kind are typed as that kind's ({@linkcode LinkOfKind}): a vlan's `data.id` is a number.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * console.log((await ip.link.list({ kind: "veth" })).map((l) => l.name));
   * for (const vx of await ip.link.list({ kind: "vxlan" })) console.log(vx.data?.id, vx.data?.group);
   * ```
   */
  async list<K extends string = string>(
    filter: LinkFilter & { kind?: K } = {},
  ): Promise<LinkOfKind<K>[]> {
    const ctx = this.#ctx;
    filter = checkOptions("link.list() filter", filter, FILTER_KEYS);
    const master = filter.master === undefined
      ? undefined
      : await ctx.ifindex(filter.master, "master");
    const request: Record<string, unknown> = {};
    if (master !== undefined) request.master = master;
    if (filter.kind !== undefined) request.linkinfo = { kind: checkKind(filter.kind) };
    const raws = await ctx.list("link list", () => ctx.link.dump("getlink", request as never));
    const up = new Map<number, boolean>();
    for (const raw of raws) {
      up.set(raw.ifiIndex, (raw.ifiFlags & IFF_UP) !== 0);
      if (raw.ifname !== undefined) ctx.names.set(raw.ifiIndex, raw.ifname);
    }
    const links: Link[] = [];
    for (const raw of raws) {
      if (master !== undefined && raw.master !== master) continue;
      if (filter.kind !== undefined && raw.linkinfo?.kind !== filter.kind) continue;
      links.push(ctx.mine(toLink(raw, lowerUp(raw, up))));
    }
    // Each is of the kind asked for, checked just above.
    return links as LinkOfKind<K>[];
  }

  /**
   * One link, by name or index; rejects with NetlinkError ENODEV "no link named X" (a name
   * read with U+FFFD, from bytes that are not UTF-8, finds none: the error says to use the index).
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * console.log((await ip.link.get("lo")).mtu);
   * ```
   */
  async get(ref: LinkRef): Promise<Link> {
    const ctx = this.#ctx;
    checkLinkRef(ref, "link");
    const request = typeof ref === "number"
      ? { ifiIndex: await ctx.ifindex(ref) }
      : nameLookup(ref);
    let raw: RawLink;
    try {
      raw = await ctx.link.do("getlink", request);
    } catch (err) {
      throw ctx.noLink(err, ref);
    }
    if (raw.ifname !== undefined) ctx.names.set(raw.ifiIndex, raw.ifname);
    const up = new Map<number, boolean>();
    const lower = lowerIndex(raw);
    if (lower) {
      try {
        const link = await ctx.link.do("getlink", { ifiIndex: lower, extMask: 8 });
        up.set(lower, (link.ifiFlags & IFF_UP) !== 0);
      } catch (err) {
        if (!(err instanceof NetlinkError && err.code === "ENODEV")) throw err;
      }
    }
    return ctx.mine(toLink(raw, lowerUp(raw, up)));
  }

  /**
   * One link, by name or index, as {@linkcode Links.get} gives it, or undefined when there is
   * none (where `get()` rejects with ENODEV): whether a link exists, in one line, as pyroute2's
   * `link_lookup()` says. A bad name or index is still a TypeError, and any other error rejects
   * as `get()`'s does.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * if (await ip.link.find("veth0") === undefined) {
   *   await ip.link.add({ name: "veth0", kind: "veth", peer: { name: "veth1" } });
   * }
   * ```
   */
  async find(ref: LinkRef): Promise<Link | undefined> {
    try {
      return await this.get(ref);
    } catch (err) {
      if (err instanceof NetlinkError && err.code === "ENODEV") return undefined;
      throw err;
    }
  }

  /**
   * Waits until `until` holds for a link (pyroute2's `poll()`): calls it with the link as
   * {@linkcode Links.find} gives it (undefined while there is none), then again at each change
   * to the link, and resolves with what it last gave it once it returns true. A name follows
   * the name: a link renamed to it or made with it is the one watched, one renamed away is none.
   * Watches through the client's {@linkcode RouteClient.monitor}, joined before the first look,
   * so no change is missed (an overrun looks again): not while a monitor of the client runs
   * (open a second client). Waits as long as it takes: bound it with {@linkcode WaitOptions}'
   * `timeout` (a "TimeoutError" DOMException) or `signal` (its reason); it also rejects when
   * the client closes, or with what `until` throws (a TypeError if it returns a promise: it is
   * called synchronously).
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.link.add({ name: "veth0", kind: "veth", peer: { name: "veth1" }, up: true });
   * await ip.link.set("veth1", { up: true });
   * const link = await ip.link.wait("veth0", (l) => l?.operstate === "up", { timeout: 5000 });
   * console.log(link?.operstate); // "up"
   * ```
   */
  async wait(
    ref: LinkRef,
    until: (link: Link | undefined) => boolean,
    options: WaitOptions = {},
  ): Promise<Link | undefined> {
    checkLinkRef(ref, "link");
    options = checkWait("link.wait()", until, options, "(l) => l?.up");
    // By name, the link now so named; by index, that link.
    const isIt = (link: Link) => typeof ref === "number" ? link.index === ref : isNamed(link, ref);
    return await waitFor(
      this.#ctx,
      "link.wait()",
      "link",
      async (link) => {
        link = await this.find(typeof ref === "number" || link === undefined ? ref : link.index);
        return link !== undefined && isIt(link) ? link : undefined;
      },
      ({ action, value }, link) => {
        if (isIt(value)) return action === "deleted" ? undefined : value;
        return link !== undefined && value.index === link.index ? undefined : link; // renamed away, or gone
      },
      until,
      options,
    );
  }

  /**
   * Creates a link (`ip link add`): EEXIST when the name is taken. A veth's peer is named by
   * `peer.name` (the kernel picks one otherwise); `up: true` brings the link up as it is made.
   *
   * With `portData`, two requests: the link is made, then its port options set (the kernel
   * takes them only on a port it finds); if the second fails, the link is deleted. A client
   * closed in between can send no delete: the link is left without its port options, and the
   * SocketClosedError says so.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.link.add({ name: "br0", kind: "bridge", up: true });
   * await ip.link.add({ name: "veth0", kind: "veth", peer: { name: "veth1" }, master: "br0" });
   * ```
   */
  async add<K extends string, P extends string = DecodedPortKind>(
    spec: NewLink<K, P>,
  ): Promise<void> {
    if (typeof spec !== "object" || spec === null) throw new TypeError("link: expected an object");
    checkOptions("link.add() spec", spec, NEW_LINK_KEYS, ["master"]);
    if (typeof spec.peer === "string") {
      // pyroute2's peer="veth1"; ours names it in an object, beside the peer's other settings.
      const name = shown(spec.peer);
      throw new TypeError(
        `link.add() peer must be an object such as { name: ${name} }, got ${name}`,
      );
    }
    if (spec.peer !== undefined) checkOptions("link.add() peer", spec.peer, PEER_KEYS);
    const name = checkNewLinkName(spec.name, "name");
    checkKind(spec.kind);
    if (spec.link === undefined && NEEDS_LINK.has(spec.kind)) {
      throw new TypeError(
        `link: a ${spec.kind} needs the link it sits on (\`link: "eth0"\`, as \`ip link add NAME link eth0 type ${spec.kind}\` names it)`,
      );
    }
    if (spec.portData !== undefined) {
      checkPortData(spec.portData, "link.add()");
      if (spec.master === undefined || spec.master === null) {
        throw new TypeError(
          "portData: port options need a master, the bridge or bond the new link joins",
        );
      }
      if (spec.netns !== undefined) {
        throw new TypeError(
          "portData: a link made in another namespace is no port of a master here: give its "
            + "port options there, once it is made",
        );
      }
    }
    const netns = new NetnsFiles();
    let index: number;
    try {
      index = await this.#add(spec as NewLink, name, netns);
    } finally {
      netns.close();
    }
    if (spec.portData === undefined) return;
    // The kernel reads IFLA_INFO_SLAVE_DATA by the master's kind only on a link it finds (on one
    // it makes, it drops them unsaid): set them once the link is a port, as pyroute2 and
    // vishvananda do in a second request. On failure the link goes, as if never made.
    try {
      await this.set(index, { portData: spec.portData as NewLinkPortData<string> });
    } catch (err) {
      // Closed meanwhile, the socket can send no delete (close() is synchronous, it waits for
      // nothing): the error says what is left, rather than leave it unsaid.
      if (this.#ctx.socket.closed) {
        throw new SocketClosedError(
          `link.add(): the client was closed after link ${linkRefText(name)} was made, before `
            + "its port options were set: the link is left, without them (delete it, or set "
            + "portData, from an open client)",
        );
      }
      await this.delete(index).catch(() => {});
      throw err;
    }
  }

  /** Makes the link; resolves with its index. */
  async #add(spec: NewLink, name: string | Uint8Array, netns: NetnsFiles): Promise<number> {
    const ctx = this.#ctx;
    const fields = kindFields(spec.kind);
    // The kind's options first, before any request or system call (a link they name by its name
    // is looked up below).
    const written = spec.data === undefined
      ? {}
      : writeData(fields, spec.data, "data", flagOptions(spec.kind));
    const request = await this.#settings(spec, "link", netns);
    request.ifname = name;
    if (spec.link !== undefined) request.link = await ctx.ifindex(spec.link, "link");
    const data = await this.#linkNames(fields, written);
    if (spec.peer !== undefined) {
      if (spec.kind !== "veth") {
        throw new TypeError(`peer: only a veth has a peer, not a ${spec.kind}`);
      }
      const peer: Record<string, unknown> = {};
      if (spec.peer.name !== undefined) {
        peer.ifname = checkNewLinkName(spec.peer.name, "peer.name");
      }
      if (spec.peer.address !== undefined) {
        peer.address = parseMAC(spec.peer.address, "peer.address");
      }
      if (spec.peer.mtu !== undefined) {
        peer.mtu = integer(spec.peer.mtu, "peer.mtu", 0x7fff_ffff); // an int, as mtu is
      }
      if (spec.peer.netns !== undefined) {
        Object.assign(peer, netns.attributes(spec.peer.netns, "peer.netns"));
      }
      data.peer = ctx.link.encode("newlink", peer).payload;
    }
    request.linkinfo = Object.keys(data).length > 0 || spec.kind === "veth"
      ? { kind: spec.kind, data }
      : { kind: spec.kind };
    const taken = spec.peer?.name === undefined
      ? `"${linkRefText(name)}"`
      : `"${linkRefText(name)}" or "${linkRefText(spec.peer.name)}"`;
    await ctx.run(
      `link add ${linkRefText(name)}`,
      () => ctx.link.do("newlink", request as never, { flags: NLM_F_CREATE | NLM_F_EXCL }),
      {
        EEXIST: `a link named ${taken} exists: link.set() changes it, link.delete() removes it`,
        ...unknownKindHint(spec.kind, unsupportedHint(spec.master, spec.kind, spec.data)),
      },
    );
    return spec.portData === undefined ? 0 : await ctx.ifindex(name, "name");
  }

  /**
   * Changes a link (`ip link set`): up/down, MTU, name, address, alias, txqlen, master or
   * nomaster (`master: null`), namespace, kind and port options.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.link.set("veth0", { up: true, mtu: 1400, name: "uplink" });
   * await ip.link.set("uplink", { portData: { learning: false } }); // a bridge port
   * ```
   */
  async set<K extends string = string, P extends string = DecodedPortKind>(
    ref: LinkRef,
    settings: LinkSettings<K, P>,
  ): Promise<void> {
    const ctx = this.#ctx;
    if (typeof settings !== "object" || settings === null) {
      throw new TypeError("settings: expected an object such as { up: true }");
    }
    checkOptions("link.set() changes", settings, SETTINGS_KEYS, ["master"]);
    checkLinkRef(ref, "link");
    if (settings.portData !== undefined) checkPortData(settings.portData, "link.set()");
    const netns = new NetnsFiles();
    let index: number;
    try {
      index = await this.#set(ref, settings as LinkSettings, netns);
    } finally {
      netns.close();
    }
    if (settings.netns !== undefined) ctx.names.delete(index);
    else if (typeof settings.name === "string") ctx.names.set(index, settings.name);
    // Bytes that are not UTF-8 read back as U+FFFD, as the kernel's events will give them.
    else if (settings.name !== undefined) ctx.names.set(index, lossy.decode(settings.name));
  }

  /** Sends the change; resolves with the link's index. */
  async #set(
    ref: LinkRef,
    settings: LinkSettings<string, string>,
    netns: NetnsFiles,
  ): Promise<number> {
    const ctx = this.#ctx;
    const name = settings.name === undefined
      ? undefined
      : checkNewLinkName(settings.name, "name");
    // Their contents are checked against the link's kind, once it is looked up; their shape now.
    for (const field of ["data", "portData"] as const) {
      const value = settings[field];
      if (value !== undefined) checkPlainObject(`link.set() ${field}`, value);
    }
    const request = await this.#settings(settings, "settings", netns);
    // The link itself once every value is checked: looking it up is a request.
    const index = await ctx.ifindex(ref, "link");
    request.ifiIndex = index;
    if (name !== undefined) request.ifname = name;
    let kind: string | undefined;
    if (settings.data !== undefined || settings.portData !== undefined) {
      const current = (await this.get(index)).raw.linkinfo;
      kind = current?.kind;
      const linkinfo: Record<string, unknown> = {};
      if (settings.data !== undefined) {
        if (current?.kind === undefined) {
          throw new TypeError(`data: link ${linkRefText(ref)} has no kind to set options of`);
        }
        linkinfo.kind = current.kind;
        const fields = kindFields(current.kind);
        const written = writeData(
          fields,
          settings.data,
          "data",
          flagOptions(current.kind),
        );
        linkinfo.data = await this.#linkNames(fields, written);
      }
      if (settings.portData !== undefined) {
        if (current?.slaveKind === undefined) {
          throw new TypeError(
            `portData: link ${linkRefText(ref)} is no port of a bridge or bond`,
          );
        }
        linkinfo.slaveKind = current.slaveKind;
        const bridge = current.slaveKind === "bridge";
        linkinfo.slaveData = writeData(
          bridge ? BRIDGE_PORT : undefined,
          settings.portData,
          "portData",
          flagOptions(current.slaveKind, true),
        );
      }
      request.linkinfo = linkinfo;
    }
    // EEXIST from a rename in the link's own namespace; a move's the kernel explains itself.
    const renameHint: Hints = name !== undefined && settings.netns === undefined
      ? {
        EEXIST: `a link named "${linkRefText(name)}" exists: pick another name, or rename it first`,
      }
      : {};
    // RTM_NEWLINK on an existing link, as `ip link set` sends: it takes every attribute setlink
    // takes, and kind and port options too.
    await ctx.run(
      `link set ${linkRefText(ref)}`,
      () => ctx.link.do("newlink", request as never),
      { ...renameHint, ...unsupportedHint(settings.master, kind, settings.data) },
    );
    return index;
  }

  /**
   * Deletes a link (`ip link del`), given by name or index, or as `list()` gave it (by its
   * index); a veth's peer goes with it.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.link.delete("veth0");
   * ```
   */
  async delete(link: LinkRef | Link): Promise<void> {
    const ctx = this.#ctx;
    // A listed link by its index: its name may have changed since.
    const ref = isListed(link)
      ? await ctx.listedIndex(link, link.index, link.name)
      : link;
    const index = await ctx.ifindex(ref, "link");
    await ctx.run(
      `link delete ${linkRefText(ref)}`,
      () => ctx.link.do("dellink", { ifiIndex: index }),
    );
    ctx.names.delete(index);
  }

  /** Kind options naming links by name, with their indexes instead. */
  async #linkNames(fields: KindFields | undefined, data: Record<string, unknown>) {
    checkPlainObject("data", data);
    const out = { ...data };
    for (const key of fields?.links ?? []) {
      if (typeof out[key] === "string") {
        out[key] = await this.#ctx.ifindex(out[key] as string, `data.${key}`);
      }
    }
    return out;
  }

  async #settings(
    settings: LinkSettings,
    where: string,
    netns: NetnsFiles,
  ): Promise<Record<string, unknown>> {
    const ctx = this.#ctx;
    const request: Record<string, unknown> = {};
    // ip link set's flags: each given one in ifi_change, set or not in ifi_flags.
    let flags = 0, change = 0;
    for (const [key, flag, when] of FLAG_SETTINGS) {
      const on = settings[key];
      if (on === undefined) continue;
      if (typeof on !== "boolean") throw new TypeError(`${where}.${key} must be a boolean`);
      change |= flag;
      if (on === when) flags |= flag;
    }
    if (change !== 0) Object.assign(request, { ifiFlags: flags, ifiChange: change });
    // IFLA_MTU is a u32 the kernel takes as an int (dev_set_mtu): 2^31 would be a negative MTU,
    // refused as "less than device minimum". ip parses it as an int too.
    if (settings.mtu !== undefined) request.mtu = integer(settings.mtu, "mtu", 0x7fff_ffff);
    if (settings.address !== undefined) request.address = parseMAC(settings.address, "address");
    if (settings.broadcast !== undefined) {
      request.broadcast = parseMAC(settings.broadcast, "broadcast");
    }
    if (settings.alias !== undefined) {
      const alias = settings.alias;
      // The kernel's policy takes IFALIASZ - 1 (255) bytes with the NUL this library sends (ip
      // sends none): 254 of text, measured; it answers ERANGE to more.
      if (typeof alias !== "string" || aliasEncoder.encode(alias).length > 254) {
        throw new TypeError(
          `${where}.alias must be a string of at most 254 bytes of UTF-8, got ${
            typeof alias === "string" ? `${aliasEncoder.encode(alias).length} bytes` : shown(alias)
          }`,
        );
      }
      // Checked here, before the link is looked up, rather than by the codec as it encodes.
      if (alias.includes("\0")) throw new TypeError(`${where}.alias must not hold NUL`);
      request.ifalias = alias;
    }
    if (settings.txqlen !== undefined) {
      request.txqlen = integer(settings.txqlen, "txqlen", 0xffff_ffff);
    }
    if (settings.addrGenMode !== undefined) {
      const mode = settings.addrGenMode;
      if (typeof mode !== "string" || !ADDR_GEN_MODES.has(mode)) {
        throw new TypeError(
          `${where}.addrGenMode: ${shown(mode)} is not an IPv6 address generation mode: one of `
            + `"eui64", "none", "stable_secret", "random"`,
        );
      }
      // As ip sends it: IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE } }.
      request.afSpec = { inet6: { addrGenMode: ADDR_GEN_MODES.value(mode, "addrGenMode") } };
    }
    if (settings.master !== undefined) {
      request.master = settings.master === null ? 0 : await ctx.ifindex(settings.master, "master");
    }
    if (settings.netns !== undefined) {
      Object.assign(request, netns.attributes(settings.netns, "netns"));
    }
    return request;
  }
}

const aliasEncoder = new TextEncoder();
const lossy = new TextDecoder();
