// Corrections to the kernel's YNL specs, applied by scripts/gen_ynl.ts to each parsed spec before
// it is turned into a descriptor. Each one fixes a value the spec gets wrong against what the
// kernel sends and accepts (checked against `ip -j` in test/route/corrections_test.ts), or adds
// what a spec leaves out that users of the family need. A correction that finds its spec already
// right does nothing; one whose target is gone throws, so a renamed attribute is noticed.
//
// Keep this file to facts about the kernel: the everyday API's conveniences live in src/route/.

// deno-lint-ignore no-explicit-any
type Yaml = any;

/** The entry of `list` named `name`, if there is one. */
function named(list: Yaml[] | undefined, name: string): Yaml | undefined {
  return list?.find((entry: Yaml) => entry.name === name);
}

/** The entry of `list` named `name`; an error naming `where` if there is none. */
function find(list: Yaml[] | undefined, name: string, where: string): Yaml {
  const item = named(list, name);
  if (item === undefined) throw new Error(`ynl_corrections: ${where} has no "${name}"`);
  return item;
}

function attributeSet(spec: Yaml, name: string): Yaml {
  return find(spec["attribute-sets"], name, `${spec.name} attribute-sets`);
}

/** Adds an attribute set unless the spec has one of that name. */
function addSet(spec: Yaml, name: string, attributes: [string, string, Yaml?][]): void {
  spec["attribute-sets"] ??= [];
  if (named(spec["attribute-sets"], name)) return;
  spec["attribute-sets"].push({
    name,
    attributes: attributes.map(([attr, type, extra], i) => ({
      name: attr,
      type,
      ...(i === 0 ? { value: 1 } : {}),
      ...extra,
    })),
  });
}

/** Adds a sub-message format (selector value -> attribute set) unless the spec has it. */
function addFormat(spec: Yaml, subMessage: string, value: string, set: string): void {
  const formats = find(spec["sub-messages"], subMessage, `${spec.name} sub-messages`).formats;
  if (!formats.some((format: Yaml) => format.value === value)) {
    formats.push({ value, "attribute-set": set });
  }
}

const BE = { "byte-order": "big-endian" };

/** The corrections, by spec name. */
const CORRECTIONS: Record<string, (spec: Yaml) => void> = {
  "rt-link": (spec) => {
    // Bridge port options the spec types `flag` are u8 0/1 both ways: br_port_fill_attrs() puts
    // them with nla_put_u8() and br_port_policy wants NLA_U8 (so a flag could not say "off":
    // `learning: false` was unwritable, and every one read true). IFLA_BRPORT_FLUSH alone is a
    // real flag (a command, never sent).
    for (const attr of attributeSet(spec, "linkinfo-brport-attrs").attributes) {
      if (attr.type === "flag" && attr.name !== "flush") attr.type = "u8";
    }
    // struct ifla_bridge_id's prio is `__u8 prio[2]`, most significant byte first (ip prints
    // priority 0x8000 as "8000.<mac>").
    const bridgeId = find(spec.definitions, "ifla-bridge-id", "rt-link definitions");
    Object.assign(find(bridgeId.members, "prio", "struct ifla-bridge-id"), BE);
    // IFLA_BR_VLAN_PROTOCOL is a __be16 (br_netlink.c: nla_put_be16, nla_get_be16), as
    // IFLA_VLAN_PROTOCOL is: 802.1ad read 43144, and 34984 written was refused (EPROTONOSUPPORT).
    // Its values are IFLA_VLAN_PROTOCOL's too (ETH_P_8021Q, ETH_P_8021AD: br_vlan_set_proto), by
    // the same names ("8021q", "8021ad"): a bridge's read as a number where a vlan's read a name.
    Object.assign(
      find(attributeSet(spec, "linkinfo-bridge-attrs").attributes, "vlan-protocol", "bridge"),
      BE,
      { enum: "vlan-protocols" },
    );
    // IFLA_PROTO_DOWN_REASON is a nest, not a string: rtnl_fill_proto_down() puts one u32
    // IFLA_PROTO_DOWN_REASON_VALUE (the reason bits) in it when any is set, and do_set_proto_down()
    // takes IFLA_PROTO_DOWN_REASON_MASK and _VALUE (linux/if_link.h). As a string, the bits read
    // as a NUL-cut text of the nest's bytes.
    addSet(spec, "link-proto-down-reason-attrs", [["mask", "u32"], ["value", "u32"]]);
    const reason = find(attributeSet(spec, "link-attrs").attributes, "proto-down-reason", "link");
    if (reason.type === "string") {
      reason.type = "nest";
      reason["nested-attributes"] = "link-proto-down-reason-attrs";
    }
    // IFLA_PROTINFO is a nest, not a string: on a bridge's AF_BRIDGE messages about its ports
    // (RTM_NEWLINK, RTM_DELLINK: br_fill_ifinfo()) it holds the port's IFLA_BRPORT_* attributes,
    // as IFLA_INFO_SLAVE_DATA does (br_port_fill_attrs()), and RTM_SETLINK takes them so
    // (br_setlink()). As a string, a port's STP state and options read as a NUL-cut text of the
    // nest's bytes. (AF_INET6 link messages, of RTNLGRP_IPV6_IFINFO, carry IFLA_INET6_* in it:
    // the spec cannot select a set by ifi_family, so those attributes decode as unknown ones.)
    const protinfo = find(attributeSet(spec, "link-attrs").attributes, "protinfo", "link");
    if (protinfo.type === "string") {
      protinfo.type = "nest";
      protinfo["nested-attributes"] = "linkinfo-brport-attrs";
    }
    // Link kinds the spec has no data format for (linux/veth.h, linux/if_link.h).
    addSet(spec, "linkinfo-veth-attrs", [
      // VETH_INFO_PEER: a struct ifinfomsg followed by the peer's link attributes, as RTM_NEWLINK
      // carries them (src/route/ builds it with this family's newlink encoder).
      ["peer", "binary"],
    ]);
    addSet(spec, "linkinfo-macvlan-attrs", [
      ["mode", "u32"],
      ["flags", "u16"],
      ["macaddr-mode", "u32"],
      ["macaddr", "binary"],
      ["macaddr-data", "binary"],
      ["macaddr-count", "u32"],
      ["bc-queue-len", "u32"],
      ["bc-queue-len-used", "u32"],
      ["bc-cutoff", "s32"],
    ]);
    addSet(spec, "linkinfo-ipvlan-attrs", [["mode", "u16"], ["flags", "u16"]]);
    addSet(spec, "linkinfo-vxlan-attrs", [
      ["id", "u32"],
      ["group", "binary"],
      ["link", "u32"],
      ["local", "binary"],
      ["ttl", "u8"],
      ["tos", "u8"],
      ["learning", "u8"],
      ["ageing", "u32"],
      ["limit", "u32"],
      ["port-range", "binary", { struct: "ifla-geneve-port-range" }],
      ["proxy", "u8"],
      ["rsc", "u8"],
      ["l2miss", "u8"],
      ["l3miss", "u8"],
      ["port", "u16", BE],
      ["group6", "binary"],
      ["local6", "binary"],
      ["udp-csum", "u8"],
      ["udp-zero-csum6-tx", "u8"],
      ["udp-zero-csum6-rx", "u8"],
      ["remcsum-tx", "u8"],
      ["remcsum-rx", "u8"],
      ["gbp", "flag"],
      ["remcsum-nopartial", "flag"],
      ["collect-metadata", "u8"],
      ["label", "u32", BE],
      ["gpe", "flag"],
      ["ttl-inherit", "flag"],
      ["df", "u8"],
      ["vnifilter", "u8"],
    ]);
    addFormat(spec, "linkinfo-data-msg", "veth", "linkinfo-veth-attrs");
    addFormat(spec, "linkinfo-data-msg", "macvlan", "linkinfo-macvlan-attrs");
    addFormat(spec, "linkinfo-data-msg", "macvtap", "linkinfo-macvlan-attrs");
    addFormat(spec, "linkinfo-data-msg", "ipvlan", "linkinfo-ipvlan-attrs");
    addFormat(spec, "linkinfo-data-msg", "ipvtap", "linkinfo-ipvlan-attrs");
    addFormat(spec, "linkinfo-data-msg", "vxlan", "linkinfo-vxlan-attrs");
  },
  "rt-rule": (spec) => {
    // FRA_SRC and FRA_DST are addresses (4 or 16 bytes by the rule's family), not u32s: typed
    // u32, IPv4 came back as a host-order number and IPv6 not at all. Read as text, with the
    // display hint rt-route's RTA_SRC and RTA_DST have.
    const set = attributeSet(spec, "fib-rule-attrs");
    for (const name of ["src", "dst"]) {
      const attr = find(set.attributes, name, "fib-rule-attrs");
      if (attr.type === "u32") attr.type = "binary";
      delete attr["byte-order"];
      attr["display-hint"] ??= "ipv4";
    }
    // FRA_TUN_ID is a __be64 (nla_get_be64, nla_put_be64): `ip rule add tun_id 5` sends 5 so.
    Object.assign(find(set.attributes, "tun-id", "fib-rule-attrs"), BE);
  },
  "rt-neigh": (spec) => {
    // NDA_PORT is a __be16 (vxlan_fdb_parse: nla_get_be16), the vxlan fdb entry's UDP port.
    Object.assign(
      find(attributeSet(spec, "neighbour-attrs").attributes, "port", "neighbour-attrs"),
      BE,
    );
  },
  "rt-route": (spec) => {
    // RTA_SPORT and RTA_DPORT are __be16 (inet_rtm_getroute, inet6_rtm_getroute: nla_get_be16),
    // as `ip route get ... sport 80` sends them.
    for (const name of ["sport", "dport"]) {
      Object.assign(find(attributeSet(spec, "route-attrs").attributes, name, "route-attrs"), BE);
    }
    // The kernel multicasts route changes on RTNLGRP_IPV4_ROUTE and RTNLGRP_IPV6_ROUTE
    // (linux/rtnetlink.h); the spec lists no group, so monitor() had nothing to join.
    spec["mcast-groups"] ??= { list: [] };
    const list = spec["mcast-groups"].list;
    for (const [name, value] of [["rtnlgrp-ipv4-route", 7], ["rtnlgrp-ipv6-route", 11]] as const) {
      if (!named(list, name)) list.push({ name, value });
    }
  },
  "mptcp_pm": (spec) => {
    // The endpoint and event addresses are in_addr / in6_addr (mptcp_pm_parse_pm_addr_attr():
    // nla_get_in_addr, nla_memcpy of 16 bytes; mptcp_nl_fill_addr(): nla_put_in_addr), as
    // `ip mptcp endpoint` writes them, but the spec gives them no display-hint, as rt-addr's
    // have: "10.9.0.1" was to be written 0x0a090001 and read back as 168361985.
    const addresses: [string, string[]][] = [["address", ["addr"]], ["event-attr", [
      "saddr",
      "daddr",
    ]]];
    for (const [set, names] of addresses) {
      const attributes = attributeSet(spec, set).attributes;
      for (const name of names) {
        find(attributes, `${name}4`, set)["display-hint"] ??= "ipv4";
        find(attributes, `${name}6`, set)["display-hint"] ??= "ipv6";
      }
    }
  },
  ethtool: (spec) => {
    // stats-get's reply, as net/ethtool/stats.c sends it: one ETHTOOL_A_STATS_GRP per group
    // asked for; in each, one ETHTOOL_A_STATS_GRP_STAT per counter the driver has, a nest holding
    // one u64 whose attribute type is the counter's id (stat_put(); ids start at 0, the names are
    // the strings of string set ss-id), and one ETHTOOL_A_STATS_GRP_HIST_RX / _TX per RMON
    // histogram bucket. The spec says none of them repeats and types stat a plain u64 (its
    // `type-value: [ id ]` names the id and is otherwise unused): the first group alone was
    // decoded, and its counters were misfits (a 12-byte u64), kept as unknown attributes. As a
    // nest-type-value with a u64 sub-type, each counter is `{ id, value }`.
    const stats = attributeSet(spec, "stats").attributes;
    find(stats, "grp", "stats")["multi-attr"] = true;
    const grp = attributeSet(spec, "stats-grp").attributes;
    const stat = find(grp, "stat", "stats-grp");
    if (stat.type === "u64") {
      stat.type = "nest-type-value";
      stat["sub-type"] = "u64";
      stat["type-value"] ??= ["id"];
      stat.doc ??= "Each counter the driver has: its id (its name's index in string set ss-id) "
        + "and its value.";
    }
    stat["multi-attr"] = true;
    for (const name of ["hist-rx", "hist-tx"]) find(grp, name, "stats-grp")["multi-attr"] = true;
    // A bucket's u64 is put with ETHTOOL_A_STATS_GRP_PAD before it where the architecture wants
    // 64-bit values aligned (nla_put_u64_64bit()); the hist subset leaves pad out.
    const hist = attributeSet(spec, "stats-grp-hist").attributes;
    if (!named(hist, "pad")) hist.unshift({ name: "pad" });
  },
  tc: (spec) => {
    // TCA_U32_SEL is a struct tc_u32_sel followed by its nkeys struct tc_u32_key entries
    // (`struct tc_u32_key keys[]`, a flexible array), which a struct cannot say: typed
    // tc-u32-sel, a selector's first key alone was decoded and the others dropped, also from a
    // request built from a decoded filter. Bytes, as they came (u32Selector() parses them).
    const sel = find(attributeSet(spec, "u32-attrs").attributes, "sel", "u32-attrs");
    if (sel.struct === "tc-u32-sel") delete sel.struct;
    // TCA_PEDIT_PARMS likewise: a struct tc_pedit_sel and its nkeys struct tc_pedit_key entries
    // (tcf_pedit_dump() puts them in one attribute).
    const parms = find(attributeSet(spec, "act-pedit-attrs").attributes, "parms", "pedit");
    if (parms.struct === "tc-pedit-sel") delete parms.struct;
  },
  nftables: (spec) => {
    // Each of these gets "Get / dump"s, as its doc says and nf_tables_api.c does (NLM_F_DUMP
    // starts netlink_dump_start()), but the spec gives each a `do` alone: listing the tables was
    // not an operation the descriptor knew, and its generated example fell back to the first
    // `do` there is (batch-begin: EOPNOTSUPP). getgen's doc says so too, but it only answers.
    const ops = spec.operations.list;
    for (const name of ["table", "chain", "rule", "set", "setelem", "obj", "flowtable"]) {
      // Only some have a -reset twin.
      const reset = named(ops, `get${name}-reset`);
      for (const operation of [find(ops, `get${name}`, "nftables operations"), reset]) {
        if (operation) operation.dump ??= structuredClone(operation.do);
      }
    }
  },
};

/** Applies this file's corrections to a parsed spec, in place. */
export function correctSpec(spec: Yaml): void {
  CORRECTIONS[spec?.name]?.(spec);
}
