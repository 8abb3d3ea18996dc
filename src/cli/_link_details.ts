// A link kind's options and a port's, as `ip -d link show` prints them (ip/iplink_bridge.c,
// iplink_bridge_slave.c, iplink_vxlan.c, iplink_macvlan.c of iproute2 6.1): one list of entries
// makes both the JSON (`info_data`, `info_slave_data`) and the text, which differ in places.

import {
  BR_BOOLOPT_MCAST_VLAN_SNOOPING,
  BR_BOOLOPT_NO_LL_LEARN,
  ETH_P_8021AD,
  ETH_P_8021Q,
  MACVLAN_FLAG_NODST,
  MACVLAN_FLAG_NOPROMISC,
} from "../_constants.ts";
import type { Link } from "../route/link.ts";
import { rtLink } from "../ynl/rt_link.ts";

/**
 * One option: its JSON key and value (none: text only) and its words in the text, each followed
 * by a space as ip prints them (none: JSON only).
 */
export interface Detail {
  readonly key?: string;
  readonly value?: unknown;
  readonly text?: string;
}

/** The JSON object of `details`: the entries that have a key, in order. */
export function detailsJson(details: readonly Detail[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of details) if (key !== undefined) out[key] = value;
  return out;
}

/** The text of `details`, as ip prints it (each entry's words and their trailing space). */
export function detailsLine(details: readonly Detail[]): string {
  return details.map(({ text }) => text ?? "").join("");
}

// JSON.rawJSON (V8 and JavaScriptCore have it; TypeScript's lib does not yet).
const { rawJSON } = JSON as unknown as { rawJSON(text: string): unknown };

type Data = Record<string, unknown>;

/** Both ways alike: `key value ` in the text (`word` for its key there, if another). */
const both = (key: string, value: unknown, word = key): Detail => ({
  key,
  value,
  text: `${word} ${value} `,
});

/**
 * A timer in clock ticks (USER_HZ, 100 a second) as ip's _print_timer prints it: seconds with two
 * decimals, in JSON as a number written so ("0.00"), in the text right-aligned in four places.
 */
function timer(key: string, ticks: number): Detail {
  const seconds = Math.trunc(ticks / 100);
  const hundredths = String(ticks % 100).padStart(2, "0");
  return {
    key,
    value: rawJSON(`${seconds}.${hundredths}`),
    text: `${key} ${String(seconds).padStart(4)}.${hundredths} `,
  };
}

/** A number as C's `%#llx` prints it: "0" for 0, else hex after "0x" (ip's print_0xhex). */
const hex = (value: number) => value === 0 ? "0" : `0x${value.toString(16)}`;

/** print_0xhex: a string in JSON, `word VALUE` in the text. */
const hexDetail = (key: string, value: number, word = key): Detail => ({
  key,
  value: hex(value),
  text: `${word} ${hex(value)} `,
});

/** print_on_off: a boolean in JSON, `word on|off` in the text. */
const onOff = (key: string, value: unknown, word = key): Detail => ({
  key,
  value: Boolean(value),
  text: `${word} ${value ? "on" : "off"} `,
});

/**
 * A struct ifla_bridge_id as ip's br_dump_bridge_id prints it: the priority's two bytes in hex,
 * a dot, the MAC address as ether_ntoa writes it (no leading zeros: "8000.2:0:0:0:0:1").
 */
function bridgeId(id: unknown): string {
  const { prio, addr } = id as { prio: number; addr: string };
  const mac = addr.split(":").map((byte) => parseInt(byte, 16).toString(16)).join(":");
  return `${prio.toString(16).padStart(4, "0")}.${mac}`;
}

/** An ethertype as ip's ll_proto_n2a names it (the VLAN protocols a bridge may have). */
function vlanProtocol(protocol: unknown): string {
  const number = protocol === "8021q"
    ? ETH_P_8021Q
    : protocol === "8021ad"
    ? ETH_P_8021AD
    : protocol;
  if (number === ETH_P_8021Q) return "802.1Q";
  if (number === ETH_P_8021AD) return "802.1ad";
  return `[${String(protocol)}]`;
}

/** A link's name by index as ip's ll_index_to_name gives it ("if7" for one it cannot name). */
const linkName = (names: ReadonlyMap<number, string>, index: number) =>
  names.get(index) ?? `if${index}`;

/**
 * Entries for the options `keys` lists that `data` has: [option, JSON key, text word], each made
 * by `detail` (the value as it is, by default).
 */
function present(
  data: Data,
  keys: readonly (readonly [string, string, string?])[],
  detail: (key: string, value: unknown, word?: string) => Detail = both,
): Detail[] {
  return keys.filter(([option]) => data[option] !== undefined).map(([option, key, word]) =>
    detail(key, data[option], word)
  );
}

/** {@linkcode present} for timers, in seconds as ip prints them (see {@linkcode timer}). */
const asTimer = (key: string, ticks: unknown) => timer(key, ticks as number);

/** A bridge's options (ip's bridge_print_opt); ip 6.1's root_id bug (the bridge's id) not kept. */
export function bridgeDetails(data: Data): Detail[] {
  const out = present(data, [
    ["forwardDelay", "forward_delay"],
    ["helloTime", "hello_time"],
    ["maxAge", "max_age"],
    ["ageingTime", "ageing_time"],
    ["stpState", "stp_state"],
    ["priority", "priority"],
    ["vlanFiltering", "vlan_filtering"],
  ]);
  if (data.vlanProtocol !== undefined) {
    out.push(both("vlan_protocol", vlanProtocol(data.vlanProtocol)));
  }
  if (data.bridgeId !== undefined) out.push(both("bridge_id", bridgeId(data.bridgeId)));
  if (data.rootId !== undefined) {
    out.push(both("root_id", bridgeId(data.rootId), "designated_root"));
  }
  out.push(...present(data, [
    ["rootPort", "root_port"],
    ["rootPathCost", "root_path_cost"],
    ["topologyChange", "topology_change"],
    ["topologyChangeDetected", "topology_change_detected"],
  ]));
  out.push(...present(data, [
    ["helloTimer", "hello_timer"],
    ["tcnTimer", "tcn_timer"],
    ["topologyChangeTimer", "topology_change_timer"],
    ["gcTimer", "gc_timer"],
  ], asTimer));
  out.push(...present(data, [
    ["vlanDefaultPvid", "vlan_default_pvid"],
    ["vlanStatsEnabled", "vlan_stats_enabled"],
    ["vlanStatsPerPort", "vlan_stats_per_port"],
  ]));
  if (data.groupFwdMask !== undefined) {
    out.push(hexDetail("group_fwd_mask", data.groupFwdMask as number));
  }
  if (data.groupAddr !== undefined) {
    out.push(both("group_addr", data.groupAddr, "group_address"));
  }
  out.push(...present(data, [["mcastSnooping", "mcast_snooping"]]));
  const boolopt = data.multiBoolopt as { optval: number; optmask: number } | undefined;
  if (boolopt !== undefined) {
    for (
      const [bit, key] of [
        [BR_BOOLOPT_NO_LL_LEARN, "no_linklocal_learn"],
        [BR_BOOLOPT_MCAST_VLAN_SNOOPING, "mcast_vlan_snooping"],
      ] as const
    ) {
      if (boolopt.optmask & (1 << bit)) out.push(both(key, (boolopt.optval >>> bit) & 1));
    }
  }
  out.push(...present(data, [
    ["mcastRouter", "mcast_router"],
    ["mcastQueryUseIfaddr", "mcast_query_use_ifaddr"],
    ["mcastQuerier", "mcast_querier"],
    ["mcastHashElasticity", "mcast_hash_elasticity"],
    ["mcastHashMax", "mcast_hash_max"],
    ["mcastLastMemberCnt", "mcast_last_member_cnt", "mcast_last_member_count"],
    ["mcastStartupQueryCnt", "mcast_startup_query_cnt", "mcast_startup_query_count"],
    ["mcastLastMemberIntvl", "mcast_last_member_intvl", "mcast_last_member_interval"],
    ["mcastMembershipIntvl", "mcast_membership_intvl", "mcast_membership_interval"],
    ["mcastQuerierIntvl", "mcast_querier_intvl", "mcast_querier_interval"],
    ["mcastQueryIntvl", "mcast_query_intvl", "mcast_query_interval"],
    ["mcastQueryResponseIntvl", "mcast_query_response_intvl", "mcast_query_response_interval"],
    ["mcastStartupQueryIntvl", "mcast_startup_query_intvl", "mcast_startup_query_interval"],
    ["mcastStatsEnabled", "mcast_stats_enabled"],
    ["mcastIgmpVersion", "mcast_igmp_version"],
    ["mcastMldVersion", "mcast_mld_version"],
    ["nfCallIptables", "nf_call_iptables"],
    ["nfCallIp6tables", "nf_call_ip6tables"],
    ["nfCallArptables", "nf_call_arptables"],
  ]));
  return out;
}

/** The bits of a port's group_fwd_mask ip names (its fwd_mask_tbl). */
const FWD_MASK_NAMES: Record<number, string> = { 0: "stp", 2: "lacp", 14: "lldp" };

/** A group_fwd_mask as ip's _bitmask2str lists it: "stp,0x2,lldp"; "0x0" for none. */
function fwdMaskText(mask: number): string {
  const names: string[] = [];
  for (let bit = 0; bit < 16; bit++) {
    if (mask & (1 << bit)) names.push(FWD_MASK_NAMES[bit] ?? `0x${(1 << bit).toString(16)}`);
  }
  return names.length ? names.join(",") : "0x0";
}

/** A bridge port's options (ip's bridge_slave_print_opt), from the route layer's `portData`. */
export function bridgePortDetails(data: Data, names: ReadonlyMap<number, string>): Detail[] {
  const out: Detail[] = [];
  const state = data.state;
  if (typeof state === "string") out.push(both("state", state));
  else if (state !== undefined) {
    out.push({ key: "state_index", value: state, text: `state (${state}) ` });
  }
  out.push(...present(data, [["priority", "priority"], ["cost", "cost"]]));
  for (
    const [option, key] of [
      ["mode", "hairpin"],
      ["guard", "guard"],
      ["protect", "root_block"],
      ["fastLeave", "fastleave"],
      ["learning", "learning"],
      ["unicastFlood", "flood"],
    ]
  ) {
    if (data[option] !== undefined) out.push(onOff(key, data[option]));
  }
  if (data.id !== undefined) out.push(hexDetail("id", data.id as number, "port_id"));
  if (data.no !== undefined) out.push(hexDetail("no", data.no as number, "port_no"));
  out.push(...present(data, [
    ["designatedPort", "designated_port"],
    ["designatedCost", "designated_cost"],
  ]));
  if (data.bridgeId !== undefined) {
    out.push(both("bridge_id", bridgeId(data.bridgeId), "designated_bridge"));
  }
  if (data.rootId !== undefined) {
    out.push(both("root_id", bridgeId(data.rootId), "designated_root"));
  }
  out.push(...present(data, [
    ["holdTimer", "hold_timer"],
    ["messageAgeTimer", "message_age_timer"],
    ["forwardDelayTimer", "forward_delay_timer"],
  ], asTimer));
  out.push(...present(data, [
    ["topologyChangeAck", "topology_change_ack"],
    ["configPending", "config_pending"],
  ]));
  if (data.proxyarp !== undefined) out.push(onOff("proxy_arp", data.proxyarp));
  if (data.proxyarpWifi !== undefined) out.push(onOff("proxy_arp_wifi", data.proxyarpWifi));
  if (data.multicastRouter !== undefined) {
    out.push(both("multicast_router", data.multicastRouter, "mcast_router"));
  }
  // As ip: fast leave again, in the text only.
  if (data.fastLeave !== undefined) {
    out.push({ text: `mcast_fast_leave ${data.fastLeave ? "on" : "off"} ` });
  }
  for (
    const [option, key] of [
      ["mcastFlood", "mcast_flood"],
      ["bcastFlood", "bcast_flood"],
      ["mcastToUcast", "mcast_to_unicast"],
      ["neighSuppress", "neigh_suppress"],
    ]
  ) {
    if (data[option] !== undefined) out.push(onOff(key, data[option]));
  }
  if (data.groupFwdMask !== undefined) {
    const mask = data.groupFwdMask as number;
    out.push(hexDetail("group_fwd_mask", mask), both("group_fwd_mask_str", fwdMaskText(mask)));
  }
  for (
    const [option, key] of [["vlanTunnel", "vlan_tunnel"], ["isolated", "isolated"], [
      "locked",
      "locked",
    ]]
  ) {
    if (data[option] !== undefined) out.push(onOff(key, data[option]));
  }
  if (data.backupPort !== undefined) {
    out.push(both("backup_port", linkName(names, data.backupPort as number)));
  }
  return out;
}

/** An IPv4 address in 224.0.0.0/4, or an IPv6 one in ff00::/8. */
const multicast = (address: string) =>
  address.includes(":")
    ? address.toLowerCase().startsWith("ff")
    : (Number(address.split(".")[0]) & 0xf0) === 0xe0;

/** A true option shown by its word alone (print_bool with true). */
const word = (key: string, text = key): Detail => ({ key, value: true, text: `${text} ` });

/** A vxlan's options (ip's vxlan_print_opt). */
export function vxlanDetails(data: Data, names: ReadonlyMap<number, string>): Detail[] {
  const out: Detail[] = [];
  if (data.collectMetadata) out.push(word("external"));
  // As ip 6.1: no space after it.
  if (data.vnifilter) out.push({ key: "vnifilter", value: true, text: "vnifilter" });
  if (data.id !== undefined) out.push(both("id", data.id));
  const group = (data.group ?? data.group6) as string | undefined;
  if (group !== undefined && group !== "0.0.0.0" && group !== "::") {
    const v6 = data.group === undefined ? "6" : "";
    out.push(
      both(
        `${multicast(group) ? "group" : "remote"}${v6}`,
        group,
        multicast(group) ? "group" : "remote",
      ),
    );
  }
  const local = (data.local ?? data.local6) as string | undefined;
  if (local !== undefined && local !== "0.0.0.0" && local !== "::") {
    out.push(both(data.local === undefined ? "local6" : "local", local, "local"));
  }
  if (data.link) out.push(both("link", linkName(names, data.link as number), "dev"));
  const range = data.portRange as { low: number; high: number } | undefined;
  if (range !== undefined) {
    out.push({
      key: "port_range",
      value: { low: range.low, high: range.high },
      text: `srcport ${range.low} ${range.high} `,
    });
  }
  if (data.port !== undefined) out.push(both("port", data.port, "dstport"));
  if (data.learning !== undefined) {
    out.push({
      key: "learning",
      value: Boolean(data.learning),
      ...(data.learning ? {} : { text: "nolearning " }),
    });
  }
  for (const key of ["proxy", "rsc", "l2miss", "l3miss"]) if (data[key]) out.push(word(key));
  const tos = (data.tos ?? 0) as number;
  if (tos) {
    out.push({ key: "tos", value: hex(tos), text: `tos ${tos === 1 ? "inherit" : hex(tos)} ` });
  }
  if (data.ttlInherit) out.push({ text: "ttl inherit " });
  else if (data.ttl !== undefined) {
    out.push({ key: "ttl", value: data.ttl, text: `ttl ${data.ttl || "auto"} ` });
  }
  if (data.df !== undefined) {
    out.push({
      key: "df",
      value: data.df,
      ...(data.df === "unset" ? {} : { text: `df ${data.df} ` }),
    });
  }
  if (data.label) out.push(hexDetail("label", data.label as number, "flowlabel"));
  if (data.ageing !== undefined) {
    out.push({ key: "ageing", value: data.ageing, text: `ageing ${data.ageing || "none"} ` });
  }
  if (data.limit) out.push(both("limit", data.limit, "maxaddr"));
  for (
    const [option, key, text] of [
      ["udpCsum", "udp_csum", "udpcsum"],
      ["udpZeroCsum6Tx", "udp_zero_csum6_tx", "udp6zerocsumtx"],
      ["udpZeroCsum6Rx", "udp_zero_csum6_rx", "udp6zerocsumrx"],
    ]
  ) {
    if (data[option] === undefined) continue;
    out.push({ key, value: Boolean(data[option]), text: `${data[option] ? "" : "no"}${text} ` });
  }
  if (data.remcsumTx) out.push(word("remcsum_tx", "remcsumtx"));
  if (data.remcsumRx) out.push(word("remcsum_rx", "remcsumrx"));
  if (data.gbp) out.push(word("gbp"));
  if (data.gpe) out.push(word("gpe"));
  return out;
}

/**
 * A macvlan's (or macvtap's) options (ip's macvlan_print_opt): none without a mode; a source
 * mode's count of remotes after the queue lengths (not their addresses, which the route layer
 * does not read).
 */
export function macvlanDetails(data: Extract<Link, { kind: "macvlan" }>["data"]): Detail[] {
  if (data?.mode === undefined) return [];
  const out: Detail[] = [both("mode", typeof data.mode === "string" ? data.mode : "unknown")];
  const flags = data.flags ?? 0;
  if (flags & MACVLAN_FLAG_NOPROMISC) out.push(word("nopromisc"));
  if (flags & MACVLAN_FLAG_NODST) out.push(word("nodst"));
  if (data.bcQueueLen !== undefined) out.push(both("bcqueuelen", data.bcQueueLen));
  if (data.bcQueueLenUsed !== undefined) out.push(both("usedbcqueuelen", data.bcQueueLenUsed));
  if (data.mode === "source" && data.macaddrCount !== undefined) {
    const count = data.macaddrCount;
    out.push({ key: "macaddr_count", value: count, text: `remotes (${count}) ` });
  }
  return out;
}

/** A link-layer address as ip prints it: text as the route layer gives it, or its bytes in hex. */
function macText(value: unknown): string {
  if (value instanceof Uint8Array) {
    return [...value].map((byte) => byte.toString(16).padStart(2, "0")).join(":");
  }
  return String(value);
}

/** VLAN_FLAG_* in ip's order (iplink_vlan.c's vlan_print_flags), their values the spec's. */
const VLAN_FLAGS: [string, number][] = [
  "reorder-hdr",
  "gvrp",
  "mvrp",
  "loose-binding",
  "bridge-binding",
].map((name) => [
  name.toUpperCase().replace("-", "_"),
  rtLink.enums["vlan-flags"].entries[name as "gvrp"],
]);

/** A VLAN's QoS map as ip prints it: `from`/`to` pairs in JSON, `{ 1:2 3:4 }` in the text. */
function qosMap(key: string, word: string, map: unknown): Detail {
  const pairs = ((map as { mapping?: { from: number; to: number }[] }).mapping ?? [])
    .map(({ from, to }) => ({ from, to }));
  const text = pairs.map(({ from, to }) => `${from}:${to} `).join("");
  return { key, value: pairs, text: `\n      ${word} { ${text}} ` };
}

/**
 * A VLAN's options as ip -d prints them (iplink_vlan.c): its protocol, id, flags (`<REORDER_HDR>`)
 * and QoS maps, each map on a line of its own in the text.
 */
export function vlanDetails(data: Data): Detail[] {
  if (data.id === undefined) return [];
  const out: Detail[] = [
    both("protocol", vlanProtocol(data.protocol ?? "8021q")),
    both("id", data.id),
  ];
  const flags = data.flags as { flags: number } | undefined;
  if (flags !== undefined) {
    let left = flags.flags;
    const names: string[] = [];
    for (const [name, bit] of VLAN_FLAGS) {
      if (left & bit) names.push(name);
      left &= ~bit;
    }
    if (left) names.push(left.toString(16));
    out.push({ key: "flags", value: names, text: `<${names.join(",")}> ` });
  }
  if (data.ingressQos !== undefined) {
    out.push(qosMap("ingress_qos", "ingress-qos-map", data.ingressQos));
  }
  if (data.egressQos !== undefined) {
    out.push(qosMap("egress_qos", "egress-qos-map", data.egressQos));
  }
  return out;
}

/** ip's name tables of a bond's options (iplink_bond.c), by value. */
const BOND_NAMES: Record<string, readonly string[]> = {
  arpValidate: ["none", "active", "backup", "all", "filter", "filter_active", "filter_backup"],
  arpAllTargets: ["any", "all"],
  primaryReselect: ["always", "better", "failure"],
  failOverMac: ["none", "active", "follow"],
  xmitHashPolicy: ["layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4", "vlan+srcmac"],
  adLacpActive: ["off", "on"],
  adLacpRate: ["slow", "fast"],
  adSelect: ["stable", "bandwidth", "count"],
};

/** A bond option by its name in ip's table (ip's get_name: "UNKNOWN" past its end). */
const bondName = (option: string, value: unknown) =>
  typeof value === "string" ? value : BOND_NAMES[option][value as number] ?? "UNKNOWN";

/**
 * A bond's options as ip 6.1's -d prints them (iplink_bond.c bond_print_opt), in its order: the
 * mode and the active port by name, the numbers, the ARP and NS targets (a list in JSON, commas
 * in the text), the options ip names, the 802.3ad state. `arp_validate` none is `null` in JSON.
 */
export function bondDetails(data: Data, names: ReadonlyMap<number, string>): Detail[] {
  const out: Detail[] = [];
  const named = (option: string, key: string, word = key) => {
    if (data[option] !== undefined) out.push(both(key, bondName(option, data[option]), word));
  };
  const numbers = (keys: readonly (readonly [string, string, string?])[]) =>
    out.push(...present(data, keys));
  if (data.mode !== undefined) {
    out.push(both("mode", typeof data.mode === "string" ? data.mode : "UNKNOWN"));
  }
  if (data.activeSlave) out.push(both("active_slave", linkName(names, data.activeSlave as number)));
  numbers([
    ["miimon", "miimon"],
    ["updelay", "updelay"],
    ["downdelay", "downdelay"],
    ["peerNotifDelay", "peer_notify_delay"],
    ["useCarrier", "use_carrier"],
    ["arpInterval", "arp_interval"],
    ["missedMax", "arp_missed_max"],
  ]);
  for (
    const [option, key] of [["arpIpTarget", "arp_ip_target"], ["nsIp6Target", "ns_ip6_target"]]
  ) {
    const targets = data[option] as string[] | undefined;
    if (targets?.length) out.push({ key, value: targets, text: `${key} ${targets.join(",")} ` });
  }
  if (data.arpValidate !== undefined) {
    const name = bondName("arpValidate", data.arpValidate);
    out.push({
      key: "arp_validate",
      value: name === "none" ? null : name,
      text: `arp_validate ${name} `,
    });
  }
  named("arpAllTargets", "arp_all_targets");
  if (data.primary) out.push(both("primary", linkName(names, data.primary as number)));
  named("primaryReselect", "primary_reselect");
  named("failOverMac", "fail_over_mac");
  named("xmitHashPolicy", "xmit_hash_policy");
  numbers([
    ["resendIgmp", "resend_igmp"],
    ["numPeerNotif", "num_peer_notif", "num_grat_arp"],
    ["allSlavesActive", "all_slaves_active"],
    ["minLinks", "min_links"],
    ["lpInterval", "lp_interval"],
    ["packetsPerSlave", "packets_per_slave"],
  ]);
  named("adLacpActive", "ad_lacp_active", "lacp_active");
  named("adLacpRate", "ad_lacp_rate", "lacp_rate");
  named("adSelect", "ad_select");
  const info = data.adInfo as Data | undefined;
  if (info !== undefined) {
    const entries = present(info, [
      ["aggregator", "aggregator", "ad_aggregator"],
      ["numPorts", "num_ports", "ad_num_ports"],
      ["actorKey", "actor_key", "ad_actor_key"],
      ["partnerKey", "partner_key", "ad_partner_key"],
    ]);
    if (info.partnerMac !== undefined) {
      entries.push(both("partner_mac", macText(info.partnerMac), "ad_partner_mac"));
    }
    out.push({ key: "ad_info", value: detailsJson(entries), text: detailsLine(entries) });
  }
  numbers([["adActorSysPrio", "ad_actor_sys_prio"], ["adUserPortKey", "ad_user_port_key"]]);
  if (data.adActorSystem !== undefined) {
    out.push(both("ad_actor_system", macText(data.adActorSystem)));
  }
  numbers([["tlbDynamicLb", "tlb_dynamic_lb"]]);
  return out;
}

/** ip's names of a bond port's state and MII status (iplink_bond_slave.c), by value. */
const BOND_PORT_STATES = ["ACTIVE", "BACKUP"];
const BOND_MII_STATUS = ["UP", "GOING_DOWN", "DOWN", "GOING_BACK"];
/** LACP_STATE_* bits as ip names them, bit 0 first (print_slave_oper_state). */
const LACP_STATES = [
  ...["active", "short_timeout", "aggregating", "in_sync", "collecting", "distributing"],
  ...["defaulted", "expired"],
];

/** A state by ip's name, or `KEY_index` (a number) where its table has none. */
function indexed(key: string, table: readonly string[], value: number): Detail {
  const name = table[value];
  return name === undefined
    ? { key: `${key}_index`, value, text: `${key} ${value} ` }
    : both(key, name);
}

/**
 * An LACP port state as ip prints it: the number, then its bits' names, in the text after the
 * JSON key (ip's open_json_array prints its name there): `KEY_str <active,in_sync> `.
 */
function lacpState(key: string, state: number): Detail[] {
  const set = LACP_STATES.filter((_, bit) => state & (1 << bit));
  return [both(key, state), {
    key: `${key}_str`,
    value: set,
    text: `${key}_str <${set.join(",")}> `,
  }];
}

/**
 * A bond port's options as ip 6.1's -d prints them (iplink_bond_slave.c): its state and MII
 * status by name, failures, permanent address, queue, priority and 802.3ad port states.
 */
export function bondPortDetails(data: Data): Detail[] {
  const out: Detail[] = [];
  if (data.state !== undefined) out.push(indexed("state", BOND_PORT_STATES, data.state as number));
  if (data.miiStatus !== undefined) {
    out.push(indexed("mii_status", BOND_MII_STATUS, data.miiStatus as number));
  }
  out.push(...present(data, [["linkFailureCount", "link_failure_count"]]));
  if (data.permHwaddr !== undefined) out.push(both("perm_hwaddr", macText(data.permHwaddr)));
  out.push(
    ...present(data, [["queueId", "queue_id"], ["prio", "prio"], [
      "adAggregatorId",
      "ad_aggregator_id",
    ]]),
  );
  if (data.adActorOperPortState !== undefined) {
    out.push(...lacpState("ad_actor_oper_port_state", data.adActorOperPortState as number));
  }
  if (data.adPartnerOperPortState !== undefined) {
    out.push(...lacpState("ad_partner_oper_port_state", data.adPartnerOperPortState as number));
  }
  return out;
}
