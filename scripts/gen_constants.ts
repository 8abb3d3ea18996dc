/**
 * Generates src/constants.ts, src/_errno.ts and ffi/_constants.ts from the system headers in
 * /usr/include, which are the only source of truth: no value is typed by hand.
 *
 * src/_constants.ts holds the public constants the library's own modules use (found in their
 * imports of it by scripts/_constant_uses.ts), and src/constants.ts re-exports them: importing
 * all of src/constants.ts (1,400 exports) cost a one-shot script of the route layer more than
 * any other module of its graph. Importing a new name there fails type-checking until this is
 * run again.
 *
 * It scans the headers with regular expressions for candidate names (object-like `#define`s and
 * enum members) that match the wanted prefixes, writes a C program that `#include`s the headers
 * and prints each value (plus struct sizes and offsets and strerror() texts), compiles it with
 * `cc`, runs it, and emits TypeScript. Letting the compiler evaluate the values handles enums
 * with implicit values and macros defined as expressions of other macros. A candidate that is not
 * an integer constant expression (a string, a function-like macro, a `sizeof` of an incomplete
 * type, a name hidden by an `#if`) fails to compile; the generator drops it and tries again.
 *
 * It also generates kernel-module/nltest_uapi.ts from the project's own module header
 * (kernel-module/nltest_uapi.h), the single source of that protocol's numbers and names.
 *
 * Run with `npm run gen`.
 *
 * @module
 */

import { INTERNAL_CONSTANTS, internalConstantUses } from "./_constant_uses.ts";

/** The repository root, where the outputs are written. */
const ROOT = new URL("../", import.meta.url);

/** Which names a group takes from the files its header pulls in. */
interface Group {
  /** The header to `#include` and to cite, e.g. "linux/netlink.h". */
  readonly header: string;
  /** Name prefixes, matched only in the header file itself (not in what it includes). */
  readonly prefixes?: readonly string[];
  /** Exact names, looked for in every file the header pulls in; each one must come out. */
  readonly names?: readonly string[];
  /** Custom acceptance test, looked for in every file the header pulls in. */
  readonly accept?: (name: string, file: string) => boolean;
  /** String macros to emit as string constants (each must come out). */
  readonly strings?: readonly string[];
}

/** A struct size, offset or other layout value for the FFI layer, evaluated at run time. */
interface Layout {
  /** The TypeScript name, e.g. SIZEOF_SOCKADDR_NL. */
  readonly name: string;
  /** A C expression of type size_t. */
  readonly expr: string;
  /** One-line JSDoc text. */
  readonly doc: string;
}

/** Public kernel constants, in output order. */
const PUBLIC_GROUPS: readonly Group[] = [
  {
    header: "linux/netlink.h",
    prefixes: ["NETLINK_", "NLM_F_", "NLMSGERR_ATTR_", "NL_ATTR_TYPE_", "NL_POLICY_TYPE_ATTR_"],
    names: [
      "NLMSG_NOOP",
      "NLMSG_ERROR",
      "NLMSG_DONE",
      "NLMSG_OVERRUN",
      "NLMSG_MIN_TYPE",
      "NLMSG_ALIGNTO",
      "NLMSG_HDRLEN",
      "NLA_F_NESTED",
      "NLA_F_NET_BYTEORDER",
      "NLA_TYPE_MASK",
      "NLA_ALIGNTO",
      "NLA_HDRLEN",
      "MAX_LINKS",
    ],
  },
  {
    header: "sys/socket.h",
    names: [
      "SOL_NETLINK",
      "SOL_SOCKET",
      "SO_RCVBUF",
      "SO_SNDBUF",
      "SO_ATTACH_FILTER",
      "SO_DETACH_FILTER",
      "SO_LOCK_FILTER",
      "AF_UNSPEC",
      "AF_INET",
      "AF_INET6",
      "AF_PACKET",
      "AF_BRIDGE",
      "AF_NETLINK",
      "AF_MPLS",
    ],
  },
  { header: "linux/genetlink.h", prefixes: ["GENL_", "CTRL_CMD_", "CTRL_ATTR_"] },
  { header: "linux/bpf_common.h", prefixes: ["BPF_"] },
  { header: "linux/filter.h", prefixes: ["BPF_", "SKF_"] },
  {
    header: "linux/rtnetlink.h",
    prefixes: [
      "RTM_",
      "RTNLGRP_",
      "RTMGRP_",
      "RTA_",
      "RTN_",
      "RTPROT_",
      "RT_SCOPE_",
      "RT_TABLE_",
      "RTNH_F_",
      "RTNH_ALIGNTO",
      "RTNH_COMPARE_MASK",
      "RTAX_",
      "RTEXT_FILTER_",
    ],
  },
  {
    header: "linux/if_link.h",
    prefixes: [
      "IFLA_",
      "MACVLAN_MODE_",
      "MACVLAN_FLAG_",
      "IPVLAN_MODE_",
      "IPVLAN_F_",
      "IN6_ADDR_GEN_MODE_",
    ],
  },
  { header: "linux/if_addr.h", prefixes: ["IFA_"] },
  { header: "linux/neighbour.h", prefixes: ["NDA_", "NTF_", "NUD_"] },
  { header: "linux/if.h", prefixes: ["IFF_", "IF_OPER_", "IF_LINK_MODE_"] },
  { header: "linux/if_bonding.h", prefixes: ["BOND_MODE_"] },
  {
    header: "linux/if_bridge.h",
    prefixes: ["BR_STATE_", "BRIDGE_FLAGS_", "BRIDGE_VLAN_INFO_", "BR_BOOLOPT_"],
    names: ["IFLA_BRIDGE_FLAGS", "IFLA_BRIDGE_MODE", "IFLA_BRIDGE_VLAN_INFO"],
  },
  { header: "linux/if_arp.h", prefixes: ["ARPHRD_"] },
  { header: "linux/ethtool.h", prefixes: ["PORT_", "XCVR_", "ETH_TP_MDI", "DUPLEX_"] },
  { header: "linux/fib_rules.h", prefixes: ["FRA_", "FR_ACT_", "FIB_RULE_"] },
  { header: "linux/in_route.h", prefixes: ["RTCF_"] },
  { header: "linux/icmpv6.h", prefixes: ["ICMPV6_ROUTER_PREF_"] },
  { header: "linux/nexthop.h", prefixes: ["NHA_", "NEXTHOP_GRP_TYPE_"] },
  { header: "linux/net_namespace.h", prefixes: ["NETNSA_"] },
  { header: "linux/veth.h", prefixes: ["VETH_INFO_"] },
  { header: "linux/pkt_sched.h", prefixes: ["TC_H_", "TC_PRIO_", "TC_LINKLAYER_", "TC_HTB_"] },
  { header: "linux/pkt_cls.h", prefixes: ["TC_ACT_"] },
  { header: "linux/tc_act/tc_mirred.h", prefixes: ["TCA_EGRESS_", "TCA_INGRESS_"] },
  {
    header: "linux/if_ether.h",
    names: ["ETH_P_ALL", "ETH_P_IP", "ETH_P_IPV6", "ETH_P_ARP", "ETH_P_8021Q", "ETH_P_8021AD"],
  },
  { header: "linux/netfilter.h", prefixes: ["NFPROTO_"] },
  {
    header: "linux/connector.h",
    prefixes: ["CN_IDX_", "CN_VAL_"],
    names: ["CONNECTOR_MAX_MSG_SIZE"],
  },
  { header: "linux/cn_proc.h", prefixes: ["PROC_CN_MCAST_", "PROC_EVENT_"] },
  {
    header: "linux/netfilter/nfnetlink.h",
    prefixes: ["NFNL_SUBSYS_", "NFNLGRP_", "NFNL_MSG_BATCH_"],
    names: ["NFNETLINK_V0"],
  },
];

/** The errno names; aliases are told apart by being defined as another name. */
const ERRNO_GROUP: Group = {
  header: "errno.h",
  accept: (name, file) => /^E[A-Z0-9]+$/.test(name) && /errno/.test(file),
};

/** libc constants for the FFI layer, in output order. */
const FFI_GROUPS: readonly Group[] = [
  {
    header: "sys/socket.h",
    names: [
      "AF_NETLINK",
      "SOCK_RAW",
      "SOCK_CLOEXEC",
      "SOCK_NONBLOCK",
      "SOL_SOCKET",
      "SOL_NETLINK",
      "SO_RCVBUF",
      "SO_RCVBUFFORCE",
      "SO_SNDBUF",
      "SO_SNDBUFFORCE",
      "SO_PROTOCOL",
      "MSG_DONTWAIT",
      "MSG_PEEK",
      "MSG_TRUNC",
      "MSG_CTRUNC",
      "SO_ATTACH_FILTER",
    ],
  },
  { header: "poll.h", names: ["POLLIN", "POLLERR", "POLLHUP", "POLLNVAL"] },
  { header: "sys/eventfd.h", names: ["EFD_CLOEXEC", "EFD_NONBLOCK"] },
  {
    header: "fcntl.h",
    names: [
      "O_RDONLY",
      "O_WRONLY",
      "O_CREAT",
      "O_EXCL",
      "O_TRUNC",
      "O_CLOEXEC",
      "O_DIRECTORY",
      "O_NONBLOCK",
      "O_ASYNC",
      "F_GETFL",
      "F_SETFL",
      "F_SETOWN",
      "F_SETSIG",
      "AT_EMPTY_PATH",
    ],
  },
  { header: "sys/stat.h", names: ["S_IFMT", "S_IFREG", "STATX_TYPE"] },
  { header: "signal.h", names: ["SIGURG"] },
  { header: "linux/filter.h", names: ["BPF_MAXINSNS"] },
  { header: "sched.h", names: ["CLONE_NEWNET"] },
  { header: "sys/mount.h", names: ["MS_BIND", "MS_REC", "MS_SHARED", "MNT_DETACH"] },
  { header: "sys/file.h", names: ["LOCK_EX"] },
  { header: "sys/stat.h", names: ["S_IRWXU", "S_IRGRP", "S_IXGRP", "S_IROTH", "S_IXOTH"] },
];

/** Size and field offsets of a struct, as Layout entries. */
function structLayout(struct: string, fields: readonly string[], header: string): Layout[] {
  const upper = struct.toUpperCase();
  return [
    {
      name: `SIZEOF_${upper}`,
      expr: `sizeof(struct ${struct})`,
      doc: `Size in bytes of \`struct ${struct}\` (<${header}>).`,
    },
    ...fields.map((field) => ({
      name: `OFFSETOF_${upper}_${field.toUpperCase()}`,
      expr: `offsetof(struct ${struct}, ${field})`,
      doc: `Byte offset of \`${field}\` in \`struct ${struct}\`.`,
    })),
  ];
}

/** Struct layouts for the FFI layer, in output order. */
const FFI_LAYOUTS: readonly Layout[] = [
  ...structLayout("sockaddr_nl", ["nl_family", "nl_pid", "nl_groups"], "linux/netlink.h"),
  ...structLayout("msghdr", [
    "msg_name",
    "msg_namelen",
    "msg_iov",
    "msg_iovlen",
    "msg_control",
    "msg_controllen",
    "msg_flags",
  ], "sys/socket.h"),
  ...structLayout("mmsghdr", ["msg_hdr", "msg_len"], "sys/socket.h"),
  ...structLayout("iovec", ["iov_base", "iov_len"], "sys/uio.h"),
  ...structLayout("cmsghdr", ["cmsg_len", "cmsg_level", "cmsg_type"], "sys/socket.h"),
  {
    name: "CMSG_SPACE_NL_PKTINFO",
    expr: "CMSG_SPACE(sizeof(struct nl_pktinfo))",
    doc: "`CMSG_SPACE(sizeof(struct nl_pktinfo))`: control buffer bytes for one NETLINK_PKTINFO.",
  },
  {
    name: "CMSG_LEN_NL_PKTINFO",
    expr: "CMSG_LEN(sizeof(struct nl_pktinfo))",
    doc: "`CMSG_LEN(sizeof(struct nl_pktinfo))`: the `cmsg_len` of a NETLINK_PKTINFO message.",
  },
  {
    name: "CMSG_DATA_OFFSET",
    expr: "(size_t)(CMSG_DATA(&cmsg_probe.header) - (unsigned char *)&cmsg_probe)",
    doc: "Byte offset of `CMSG_DATA(cmsg)` from the start of its `struct cmsghdr`.",
  },
  ...structLayout("nl_pktinfo", [], "linux/netlink.h"),
  ...structLayout("pollfd", ["fd", "events", "revents"], "poll.h"),
  ...structLayout("statx", ["stx_mode"], "sys/stat.h"),
  ...structLayout("sock_fprog", ["len", "filter"], "linux/filter.h"),
  ...structLayout("sock_filter", [], "linux/filter.h"),
  ...structLayout("nlmsghdr", [], "linux/netlink.h"),
  ...structLayout("nlmsgerr", [], "linux/netlink.h"),
  ...structLayout("nlattr", [], "linux/netlink.h"),
];

/** A struct's size and its fields' offsets, named by `prefix` and a field path ("id.idx" → ID_IDX). */
function fieldLayout(prefix: string, struct: string, fields: readonly string[]): Layout[] {
  return [
    {
      name: `SIZEOF_${prefix}`,
      expr: `sizeof(struct ${struct})`,
      doc: `Size of \`struct ${struct}\`.`,
    },
    ...fields.map((field) => ({
      name: `${prefix}_${field.replace(/\./g, "_").toUpperCase()}`,
      expr: `offsetof(struct ${struct}, ${field})`,
      doc: `Byte offset of \`${field}\` in \`struct ${struct}\`.`,
    })),
  ];
}

/**
 * struct cn_msg (<linux/connector.h>) and struct proc_event (<linux/cn_proc.h>), for
 * src/connector.ts. Each event's struct (fork_proc_event...) gets offsets relative to itself,
 * which sits at EVENT_DATA in struct proc_event.
 */
const CONNECTOR_LAYOUTS: readonly Layout[] = [
  ...fieldLayout("CN_MSG", "cn_msg", ["id.idx", "id.val", "seq", "ack", "len", "flags", "data"]),
  ...fieldLayout("PROC_EVENT", "proc_event", [
    "what",
    "cpu",
    "timestamp_ns",
    "event_data",
    "event_data.ack.err",
  ]),
  ...fieldLayout("FORK", "fork_proc_event", [
    "parent_pid",
    "parent_tgid",
    "child_pid",
    "child_tgid",
  ]),
  ...fieldLayout("EXEC", "exec_proc_event", ["process_pid", "process_tgid"]),
  ...fieldLayout("ID", "id_proc_event", ["process_pid", "process_tgid", "r.ruid", "e.euid"]),
  ...fieldLayout("SID", "sid_proc_event", ["process_pid", "process_tgid"]),
  ...fieldLayout("PTRACE", "ptrace_proc_event", [
    "process_pid",
    "process_tgid",
    "tracer_pid",
    "tracer_tgid",
  ]),
  ...fieldLayout("COMM", "comm_proc_event", ["process_pid", "process_tgid", "comm"]),
  {
    name: "COMM_COMM_SIZE",
    expr: "sizeof(((struct comm_proc_event *)0)->comm)",
    doc: "Size of the `comm` array in `struct comm_proc_event` (TASK_COMM_LEN).",
  },
  ...fieldLayout("COREDUMP", "coredump_proc_event", [
    "process_pid",
    "process_tgid",
    "parent_pid",
    "parent_tgid",
  ]),
  ...fieldLayout("EXIT", "exit_proc_event", [
    "process_pid",
    "process_tgid",
    "exit_code",
    "exit_signal",
    "parent_pid",
    "parent_tgid",
  ]),
];

/** sock_diag constants for src/diag/_constants.ts (the `ss` protocols), in output order. */
const DIAG_GROUPS: readonly Group[] = [
  {
    header: "linux/sock_diag.h",
    prefixes: ["SOCK_DIAG_", "SOCK_DESTROY", "SK_MEMINFO_", "SKNLGRP_"],
  },
  { header: "linux/inet_diag.h", prefixes: ["INET_DIAG_", "TCPDIAG_", "INET_ULP_INFO_"] },
  { header: "linux/unix_diag.h", prefixes: ["UDIAG_", "UNIX_DIAG_"] },
  { header: "linux/netlink_diag.h", prefixes: ["NETLINK_DIAG_", "NDIAG_"] },
  { header: "linux/packet_diag.h", prefixes: ["PACKET_SHOW_", "PACKET_DIAG_", "PDI_"] },
  // The user-visible TCP states (include/net/tcp_states.h is not uAPI; bpf.h mirrors it).
  { header: "linux/bpf.h", prefixes: ["BPF_TCP_"] },
  { header: "linux/tcp.h", prefixes: ["TCPI_OPT_", "TCP_CA_"] },
  {
    header: "linux/in.h",
    names: [
      "IPPROTO_ICMP",
      "IPPROTO_TCP",
      "IPPROTO_UDP",
      "IPPROTO_DCCP",
      "IPPROTO_SCTP",
      "IPPROTO_UDPLITE",
      "IPPROTO_RAW",
      "IPPROTO_MPTCP",
    ],
  },
  { header: "linux/in6.h", names: ["IPPROTO_ICMPV6"] },
  {
    header: "sys/socket.h",
    names: [
      "AF_UNIX",
      "AF_INET",
      "AF_INET6",
      "AF_NETLINK",
      "AF_PACKET",
      "SOCK_STREAM",
      "SOCK_DGRAM",
      "SOCK_RAW",
      "SOCK_SEQPACKET",
    ],
  },
];

/** Layouts of the sock_diag request and reply headers, decoded field by field. */
const DIAG_LAYOUTS: readonly Layout[] = [
  ...structLayout("inet_diag_sockid", [
    "idiag_sport",
    "idiag_dport",
    "idiag_src",
    "idiag_dst",
    "idiag_if",
    "idiag_cookie",
  ], "linux/inet_diag.h"),
  ...structLayout("inet_diag_req_v2", [
    "sdiag_family",
    "sdiag_protocol",
    "idiag_ext",
    "idiag_states",
    "id",
  ], "linux/inet_diag.h"),
  ...structLayout("inet_diag_req_raw", ["sdiag_raw_protocol"], "linux/inet_diag.h"),
  ...structLayout("inet_diag_msg", [
    "idiag_family",
    "idiag_state",
    "idiag_timer",
    "idiag_retrans",
    "id",
    "idiag_expires",
    "idiag_rqueue",
    "idiag_wqueue",
    "idiag_uid",
    "idiag_inode",
  ], "linux/inet_diag.h"),
  ...structLayout("inet_diag_bc_op", ["code", "yes", "no"], "linux/inet_diag.h"),
  ...structLayout(
    "inet_diag_hostcond",
    ["family", "prefix_len", "port", "addr"],
    "linux/inet_diag.h",
  ),
  ...structLayout("inet_diag_markcond", ["mark", "mask"], "linux/inet_diag.h"),
  ...structLayout("unix_diag_req", [
    "sdiag_family",
    "sdiag_protocol",
    "udiag_states",
    "udiag_ino",
    "udiag_show",
    "udiag_cookie",
  ], "linux/unix_diag.h"),
  ...structLayout("unix_diag_msg", [
    "udiag_family",
    "udiag_type",
    "udiag_state",
    "udiag_ino",
    "udiag_cookie",
  ], "linux/unix_diag.h"),
  ...structLayout("netlink_diag_req", [
    "sdiag_family",
    "sdiag_protocol",
    "ndiag_ino",
    "ndiag_show",
    "ndiag_cookie",
  ], "linux/netlink_diag.h"),
  ...structLayout("netlink_diag_msg", [
    "ndiag_family",
    "ndiag_type",
    "ndiag_protocol",
    "ndiag_state",
    "ndiag_portid",
    "ndiag_dst_portid",
    "ndiag_dst_group",
    "ndiag_ino",
    "ndiag_cookie",
  ], "linux/netlink_diag.h"),
  ...structLayout("packet_diag_req", [
    "sdiag_family",
    "sdiag_protocol",
    "pdiag_ino",
    "pdiag_show",
    "pdiag_cookie",
  ], "linux/packet_diag.h"),
  ...structLayout("packet_diag_msg", [
    "pdiag_family",
    "pdiag_type",
    "pdiag_num",
    "pdiag_ino",
    "pdiag_cookie",
  ], "linux/packet_diag.h"),
];

/** A struct decoded member by member from a table of its layout (src/diag/_struct.ts). */
interface StructTable {
  readonly struct: string;
  readonly header: string;
  /** The members' common prefix, dropped from the TypeScript names (`tcpi_snd_cwnd` → sndCwnd). */
  readonly prefix: string;
  /** The TypeScript interface's name. */
  readonly type: string;
  /** The kernel grows it: members are optional, absent when the kernel's struct is shorter. */
  readonly grows?: boolean;
}

/** The structs sock_diag replies carry as attribute values, decoded through tables. */
const DIAG_STRUCTS: readonly StructTable[] = [
  { struct: "tcp_info", header: "linux/tcp.h", prefix: "tcpi_", type: "TcpInfo", grows: true },
  {
    struct: "inet_diag_meminfo",
    header: "linux/inet_diag.h",
    prefix: "idiag_",
    type: "InetMemInfo",
  },
  { struct: "tcpvegas_info", header: "linux/inet_diag.h", prefix: "tcpv_", type: "TcpVegasInfo" },
  { struct: "tcp_dctcp_info", header: "linux/inet_diag.h", prefix: "dctcp_", type: "TcpDctcpInfo" },
  { struct: "tcp_bbr_info", header: "linux/inet_diag.h", prefix: "bbr_", type: "TcpBbrInfo" },
  { struct: "unix_diag_vfs", header: "linux/unix_diag.h", prefix: "udiag_vfs_", type: "UnixVfs" },
  {
    struct: "packet_diag_info",
    header: "linux/packet_diag.h",
    prefix: "pdi_",
    type: "PacketInfo",
  },
  {
    struct: "packet_diag_mclist",
    header: "linux/packet_diag.h",
    prefix: "pdmc_",
    type: "PacketMulticast",
  },
  {
    struct: "packet_diag_ring",
    header: "linux/packet_diag.h",
    prefix: "pdr_",
    type: "PacketRing",
  },
  // PACKET_DIAG_FILTER's value is an array of them.
  { struct: "sock_filter", header: "linux/filter.h", prefix: "", type: "BpfInstruction" },
];

/** One member of a struct as the header declares it. */
interface Member {
  readonly name: string;
  /** The declared type, e.g. "__u32". */
  readonly type: string;
  /** Bit-field width, if it is one. */
  readonly bits?: number;
  /** Array length text, if it is an array. */
  readonly array?: string;
  readonly doc: string;
}

/** The members of `struct name` in `header`, in order, with their same-line comments. */
async function structMembers(table: StructTable): Promise<Member[]> {
  const files = await includedFiles(table.header);
  const file = files.find((f) => f.endsWith(`/${table.header}`))!;
  const { code, comments } = splitComments(await Deno.readTextFile(file));
  const start = new RegExp(`\\bstruct\\s+${table.struct}\\s*\\{`).exec(code);
  if (!start) throw new Error(`<${table.header}> has no struct ${table.struct}`);
  const open = start.index + start[0].length;
  const close = code.indexOf("}", open);
  const members: Member[] = [];
  let line = code.slice(0, open).split("\n").length;
  for (const statement of code.slice(open, close).split(";")) {
    // Preprocessor lines inside the body (packet_diag_info's PDI_ flags) declare nothing.
    const lines = statement.split("\n");
    const text = lines.map((l) => (/^\s*#/.test(l) ? "" : l)).join("\n");
    const declared = line + Math.max(0, lines.findIndex((l) => /\S/.test(l) && !/^\s*#/.test(l)));
    line += lines.length - 1;
    if (!text.trim()) continue;
    const [first, ...rest] = text.trim().split(/\s*,\s*/);
    const head = /^(.*\S)\s+([A-Za-z_]\w*)\s*(?:\[\s*(\w+)\s*\])?\s*(?::\s*(\d+))?$/s.exec(first);
    if (!head) throw new Error(`struct ${table.struct}: cannot parse member "${first}"`);
    const type = head[1].replace(/\s+/g, " ");
    const declarators = [
      head.slice(2),
      ...rest.map((d) => {
        const m = /^([A-Za-z_]\w*)\s*(?:\[\s*(\w+)\s*\])?\s*(?::\s*(\d+))?$/.exec(d);
        if (!m) throw new Error(`struct ${table.struct}: cannot parse member "${d}"`);
        return m.slice(1);
      }),
    ];
    // A comment may sit on any line of the declaration; take the first one found.
    let doc = "";
    for (let at = declared; at <= line && !doc; at++) doc = comments.get(at) ?? "";
    for (const [name, array, bits] of declarators) {
      members.push({
        name,
        type,
        bits: bits === undefined ? undefined : Number(bits),
        array,
        doc,
      });
    }
  }
  return members;
}

/** `tcpi_snd_cwnd` → "sndCwnd". */
function memberName(table: StructTable, member: string): string {
  if (!member.startsWith(table.prefix)) {
    throw new Error(`struct ${table.struct}: member ${member} lacks the prefix ${table.prefix}`);
  }
  return member.slice(table.prefix.length).replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
}

/** The C expressions that measure each member: offset, size, signedness, or bit position. */
function memberLayouts(table: StructTable, members: readonly Member[]): Layout[] {
  const s = `struct ${table.struct}`;
  const key = (member: string, what: string) => `${table.struct}.${member}.${what}`;
  const layouts: Layout[] = [{ name: key("", "size"), expr: `sizeof(${s})`, doc: "" }];
  for (const m of members) {
    if (m.bits !== undefined) {
      // offsetof() can't take a bit-field: set its bits in a zeroed struct and find them.
      const probe = `({ ${s} p; memset(&p, 0, sizeof p); p.${m.name} = -1; `;
      layouts.push(
        { name: key(m.name, "bit"), expr: `${probe}bit_first(&p, sizeof p); })`, doc: "" },
        { name: key(m.name, "bits"), expr: `${probe}bit_count(&p, sizeof p); })`, doc: "" },
      );
      continue;
    }
    const element = `((${s} *)0)->${m.name}${m.array === undefined ? "" : "[0]"}`;
    layouts.push(
      { name: key(m.name, "offset"), expr: `offsetof(${s}, ${m.name})`, doc: "" },
      { name: key(m.name, "size"), expr: `sizeof(${element})`, doc: "" },
      { name: key(m.name, "signed"), expr: `(__typeof__(${element}))-1 < 0`, doc: "" },
      {
        name: key(m.name, "count"),
        expr: `sizeof(((${s} *)0)->${m.name}) / sizeof(${element})`,
        doc: "",
      },
    );
  }
  return layouts;
}

/** The struct tables and interfaces for src/diag/_constants.ts. */
function structSource(
  table: StructTable,
  members: readonly Member[],
  values: Map<string, Evaluated>,
): string[] {
  const get = (member: string, what: string) => {
    const value = values.get(`l:${table.struct}.${member}.${what}`)?.value;
    if (value === undefined) throw new Error(`no ${what} for ${table.struct}.${member}`);
    return Number(value);
  };
  const constant = `${table.struct.toUpperCase()}_LAYOUT`;
  const fields: string[] = [];
  const props: string[] = [];
  for (const [i, m] of members.entries()) {
    const name = memberName(table, m.name);
    const doc = `\`${m.name}\`${m.doc ? `: ${m.doc}` : "."}`;
    const type = m.array === undefined
      ? "number"
      : get(m.name, "size") === 1
      ? "Uint8Array"
      : "number[]";
    // A u64 the header splits into two u32 words (tcp_bbr_info's bbr_bw_lo, bbr_bw_hi) is one
    // member, as the value it is: `bw`.
    const high = members[i + 1];
    if (m.name.endsWith("_lo") && high?.name === `${m.name.slice(0, -3)}_hi`) {
      const whole = name.slice(0, -2);
      fields.push(
        `{ name: "${whole}", low: ${get(m.name, "offset")}, high: ${get(high.name, "offset")} },`,
      );
      props.push(
        `  /** \`${m.name}\` and \`${high.name}\` (its low and high 32 bits) as one number. */`,
        `  ${whole}${table.grows ? "?" : ""}: number;`,
      );
      continue;
    }
    if (m.name.endsWith("_hi") && members[i - 1]?.name === `${m.name.slice(0, -3)}_lo`) continue;
    if (m.bits !== undefined) {
      fields.push(`{ name: "${name}", bit: ${get(m.name, "bit")}, bits: ${get(m.name, "bits")} },`);
    } else {
      const size = get(m.name, "size");
      const count = get(m.name, "count");
      const signed = get(m.name, "signed") === 1;
      const array = m.array === undefined ? "" : `, count: ${count}`;
      fields.push(
        `{ name: "${name}", offset: ${get(m.name, "offset")}, size: ${size}${
          signed ? ", signed: true" : ""
        }${array} },`,
      );
    }
    props.push(`  /** ${doc} */`, `  ${name}${table.grows ? "?" : ""}: ${type};`);
  }
  const wide = members.some((m) => m.bits === undefined && get(m.name, "size") === 8)
    || fields.some((f) => f.includes(" low: "));
  const optional = table.grows
    ? " The kernel lengthens it over time: a member its struct is too short for is absent,"
      + " and members newer than these headers are not decoded."
    : "";
  return [
    "",
    `/** \`struct ${table.struct}\` as <${table.header}> lays it out: the size and each member's place. */`,
    `export const ${constant}: StructLayout = {`,
    `  struct: "${table.struct}",`,
    `  size: ${get("", "size")},`,
    "  fields: [",
    ...fields.map((f) => `    ${f}`),
    "  ],",
    "};",
    "",
    "/**",
    ` * \`struct ${table.struct}\` from <${table.header}>, its members named without \`${table.prefix}\`.${optional}${
      wide
        ? " Its u64 members are numbers, exact up to 2^53 (Number.MAX_SAFE_INTEGER), as a link's counters are."
        : ""
    }`,
    " *",
    " * @example",
    " * ```ts",
    ` * import type { ${table.type} } from "@netlink/netlink/diag";`,
    ` * function show(value: ${table.type}): string {`,
    " *   return JSON.stringify(value); // no bigints: no replacer needed",
    " * }",
    " * ```",
    " */",
    `export interface ${table.type} {`,
    ...props,
    "}",
  ];
}

/** The project's kernel module protocol (kernel-module/nltest_uapi.h). */
const MODULE_GROUP: Group = {
  header: "nltest_uapi.h",
  prefixes: ["NLTEST_"],
  strings: ["NLTEST_FAMILY_NAME", "NLTEST_MCGRP_EVENTS"],
};

/** Layouts of the module protocol's structs. */
const MODULE_LAYOUTS: readonly Layout[] = structLayout(
  "nltest_flood_data",
  ["counter", "flood_id", "count"],
  "nltest_uapi.h",
);

/** Where the module header lives: passed to every `cc` as an include directory. */
const MODULE_INCLUDE = new URL("kernel-module/", ROOT).pathname;

/** Extra headers the layouts need. */
const LAYOUT_HEADERS = [
  "stddef.h",
  "sys/uio.h",
  "linux/netlink.h",
  "linux/filter.h",
  "linux/connector.h",
  "linux/cn_proc.h",
];

/** One `#define` or enum member found in a header. */
interface Definition {
  readonly name: string;
  /** Full path of the file it is in. */
  readonly file: string;
  /** Line number in that file, for stable header order. */
  readonly line: number;
  /** The comment on the same line, cleaned; "" if none. */
  readonly comment: string;
  /** For a `#define`, its replacement text; for an enum member, its initializer or "". */
  readonly body: string;
}

/** A name to evaluate, with where it came from. */
interface Candidate {
  readonly name: string;
  readonly group: Group;
  readonly doc: string;
  readonly required: boolean;
}

async function run(cmd: string, args: string[], stdin?: string): Promise<Deno.CommandOutput> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { LC_ALL: "C" },
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  return await child.output();
}

const decoder = new TextDecoder();

/** Every file `#include <header>` opens, in inclusion order (the compiler resolves paths). */
async function includedFiles(header: string): Promise<string[]> {
  const out = await run(
    "cc",
    ["-M", "-I", MODULE_INCLUDE, "-x", "c", "-"],
    `#define _GNU_SOURCE\n#include <${header}>\n`,
  );
  if (!out.success) throw new Error(`cc -M <${header}> failed:\n${decoder.decode(out.stderr)}`);
  const words = decoder.decode(out.stdout).replace(/\\\n/g, " ").trim().split(/\s+/).slice(1);
  return [...new Set(words)];
}

/** Turns the text of a C comment into one line of JSDoc text. */
function cleanComment(text: string): string {
  return text
    .split("\n")
    .map((line) => line.replace(/^\s*\*+(?!\/)/, ""))
    .join(" ")
    .replace(/\*\//g, "* /")
    .replace(/\s+/g, " ")
    .replace(/^[\s*]+|[\s*]+$/g, "")
    .replace(/^@/, "");
}

/**
 * Splits C source into code (comments and string contents blanked, line breaks kept) and the
 * comments, each credited to the line it starts on.
 */
function splitComments(
  source: string,
): { code: string; comments: Map<number, string>; kernelDoc: Map<string, string> } {
  let code = "";
  const comments = new Map<number, string>();
  const kernelDoc = new Map<string, string>();
  let line = 1;
  let i = 0;
  const credit = (at: number, text: string) => {
    const cleaned = cleanComment(text);
    if (cleaned) comments.set(at, [comments.get(at), cleaned].filter(Boolean).join(" "));
  };
  while (i < source.length) {
    const ch = source[i];
    if (ch === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end < 0 ? source.length : end + 2;
      const text = source.slice(i + 2, end < 0 ? source.length : end);
      credit(line, text);
      // Kernel-doc blocks describe enum members as ` * @NAME: text`, up to the next `@` or
      // blank line.
      for (
        const match of text.matchAll(/^\s*\*\s*@([A-Z][A-Z0-9_]*):([\s\S]*?)(?=^\s*\*\s*(?:@|$))/gm)
      ) {
        const cleaned = cleanComment(match[2]);
        if (cleaned) kernelDoc.set(match[1], cleaned);
      }
      const breaks = text.split("\n").length - 1;
      line += breaks;
      code += " " + "\n".repeat(breaks);
      i = stop;
    } else if (ch === "/" && source[i + 1] === "/") {
      const end = source.indexOf("\n", i);
      const stop = end < 0 ? source.length : end;
      credit(line, source.slice(i + 2, stop));
      i = stop;
    } else if (ch === "\"" || ch === "'") {
      let j = i + 1;
      while (j < source.length && source[j] !== ch && source[j] !== "\n") {
        j += source[j] === "\\" ? 2 : 1;
      }
      code += ch + ch;
      i = j + 1;
    } else {
      if (ch === "\n") line++;
      code += ch;
      i++;
    }
  }
  return { code, comments, kernelDoc };
}

/** Object-like `#define`s and enum members of one file, in line order. */
function scanFile(file: string, source: string): Definition[] {
  const { code, comments, kernelDoc } = splitComments(source);
  const lines = code.split("\n");
  const found: Definition[] = [];
  // A kernel-doc description is fuller than a same-line comment, which is often a bare tag.
  const describe = (name: string, line: number) => kernelDoc.get(name) ?? comments.get(line) ?? "";

  for (let i = 0; i < lines.length; i++) {
    // Join backslash continuations; the definition keeps its first line's number.
    let text = lines[i];
    for (let next = i + 1; text.endsWith("\\") && next < lines.length; next++) {
      text = text.slice(0, -1) + " " + lines[next];
    }
    const define = /^\s*#\s*define\s+([A-Za-z_]\w*)(\(?)(.*)$/.exec(text);
    if (define && define[2] === "") {
      found.push({
        name: define[1],
        file,
        line: i + 1,
        comment: describe(define[1], i + 1),
        body: define[3].trim(),
      });
    }
  }

  // Enum bodies, with preprocessor lines blanked (rtnetlink.h interleaves `#define`s).
  const enumCode = lines.map((line) => (/^\s*#/.test(line) ? "" : line)).join("\n");
  for (const match of enumCode.matchAll(/\benum\b\s*\w*\s*\{([^}]*)\}/g)) {
    let offset = match.index + match[0].indexOf("{") + 1;
    for (const member of match[1].split(",")) {
      const parsed = /^(\s*)([A-Za-z_]\w*)\s*(?:=\s*([\s\S]*?))?\s*$/.exec(member);
      if (parsed) {
        const at = offset + parsed[1].length;
        const line = enumCode.slice(0, at).split("\n").length;
        found.push({
          name: parsed[2],
          file,
          line,
          comment: describe(parsed[2], line),
          body: parsed[3] ?? "",
        });
      }
      offset += member.length + 1;
    }
  }
  return found.sort((a, b) => a.line - b.line);
}

/** The definitions in every file a header pulls in, keyed by file. */
const scanned = new Map<string, Definition[]>();

async function definitionsOf(header: string): Promise<{ self: string; all: Definition[] }> {
  const files = await includedFiles(header);
  const self = files.find((file) => file.endsWith(`/${header}`));
  if (!self) throw new Error(`cannot find <${header}> among ${files.join(" ")}`);
  const all: Definition[] = [];
  for (const file of files) {
    if (!scanned.has(file)) scanned.set(file, scanFile(file, await Deno.readTextFile(file)));
    all.push(...scanned.get(file)!);
  }
  return { self, all };
}

/**
 * The JSDoc text for a name: its own comment, else (for `#define AF_INET PF_INET`) the comment of
 * its twin, else a pointer to the header. Only twins that differ in the first word count: an
 * alias like `GENL_ID_CTRL` = `NLMSG_MIN_TYPE` means something else than its target.
 */
function docFor(name: string, header: string, byName: Map<string, Definition[]>): string {
  let current = name;
  for (let hops = 0; hops < 4; hops++) {
    const defs = byName.get(current) ?? [];
    const commented = defs.find((def) => def.comment);
    if (commented) return commented.comment;
    const alias = defs.map((def) => def.body).find((body) => /^[A-Za-z_]\w*$/.test(body));
    const twin = (other: string) => other.replace(/^[A-Z0-9]+_/, "");
    if (!alias || alias === current || twin(alias) !== twin(current)) break;
    current = alias;
  }
  return `\`${name}\` from <${header}>.`;
}

/** The wanted names of a group, in header order, with their documentation. */
async function candidatesOf(group: Group): Promise<Candidate[]> {
  const { self, all } = await definitionsOf(group.header);
  const byName = new Map<string, Definition[]>();
  for (const def of all) byName.set(def.name, [...(byName.get(def.name) ?? []), def]);
  const wanted = new Set<string>();
  for (const def of all) {
    const byPrefix = def.file === self
      && (group.prefixes ?? []).some((prefix) => def.name.startsWith(prefix))
      && !group.strings?.includes(def.name);
    if (byPrefix || group.names?.includes(def.name) || group.accept?.(def.name, def.file)) {
      wanted.add(def.name);
    }
  }
  const missing = (group.names ?? []).filter((name) => !wanted.has(name));
  if (missing.length) throw new Error(`<${group.header}>: not found: ${missing.join(", ")}`);
  return [...wanted].map((name) => ({
    name,
    group,
    doc: docFor(name, group.header, byName),
    required: group.names?.includes(name) ?? false,
  }));
}

/** What the C program printed for one entry. */
interface Evaluated {
  value?: bigint;
  text?: string;
}

/**
 * Evaluates integer constants (and strerror() of the errno ones) and layouts with a C program.
 * Candidates that do not compile as integer constant expressions are dropped and reported.
 */
async function evaluate(
  headers: readonly string[],
  constants: readonly Candidate[],
  errnos: readonly Candidate[],
  layouts: readonly Layout[],
  strings: readonly string[],
): Promise<{ values: Map<string, Evaluated>; dropped: string[] }> {
  type Entry = {
    key: string;
    kind: "int" | "errno" | "layout" | "string";
    expr: string;
    required: boolean;
  };
  let entries: Entry[] = [
    ...constants.map((c) => ({
      key: `c:${c.name}`,
      kind: "int" as const,
      expr: c.name,
      required: c.required,
    })),
    ...errnos.map((c) => ({
      key: `e:${c.name}`,
      kind: "errno" as const,
      expr: c.name,
      required: false,
    })),
    ...layouts.map((l) => ({
      key: `l:${l.name}`,
      kind: "layout" as const,
      expr: l.expr,
      required: true,
    })),
    ...strings.map((name) => ({
      key: `s:${name}`,
      kind: "string" as const,
      expr: name,
      required: true,
    })),
  ];
  const dropped: string[] = [];
  const dir = await Deno.makeTempDir({ prefix: "gen_constants_" });
  try {
    for (let attempt = 0; attempt < 20; attempt++) {
      const prologue = [
        "#define _GNU_SOURCE",
        "#include <stdio.h>",
        "#include <string.h>",
        ...[...new Set(headers)].map((header) => `#include <${header}>`),
        // Every value is also used as a case label, which only an integer constant expression
        // passes: strings, pointers, floats and non-constant expressions fail to compile.
        "#define V(i, x) do { switch (0) { case (x): break; } if ((x) < 0) "
        + "printf(\"v %d %lld\\n\", i, (long long)(x)); else "
        + "printf(\"v %d %llu\\n\", i, (unsigned long long)(x)); } while (0)",
        "#define S(i, x) printf(\"s %d %s\\n\", i, strerror(x))",
        "#define L(i, x) printf(\"v %d %zu\\n\", i, (size_t)(x))",
        // Only a string literal concatenates with another one: anything else fails to compile.
        "#define T(i, x) printf(\"s %d %s\\n\", i, \"\" x)",
        "static union { struct cmsghdr header; unsigned char bytes[64]; } cmsg_probe;",
        // Where a bit-field's bits are, found by setting them in a zeroed struct.
        "static size_t bit_first(const void *p, size_t n) { const unsigned char *b = p; "
        + "for (size_t i = 0; i < n * 8; i++) if (b[i / 8] >> (i % 8) & 1) return i; return n * 8; }",
        "static size_t bit_count(const void *p, size_t n) { const unsigned char *b = p; "
        + "size_t c = 0; for (size_t i = 0; i < n * 8; i++) c += b[i / 8] >> (i % 8) & 1; return c; }",
        "int main(void) {",
      ];
      const body = entries.map((entry, i) =>
        entry.kind === "int"
          ? `V(${i}, ${entry.expr});`
          : entry.kind === "errno"
          ? `V(${i}, ${entry.expr}); S(${i}, ${entry.expr});`
          : entry.kind === "string"
          ? `T(${i}, ${entry.expr});`
          : `L(${i}, ${entry.expr});`
      );
      const source = [...prologue, ...body, "return 0;", "}", ""].join("\n");
      await Deno.writeTextFile(`${dir}/gen.c`, source);
      const compiled = await run("cc", [
        "-std=gnu11",
        "-w",
        "-fmax-errors=0",
        "-I",
        MODULE_INCLUDE,
        "-o",
        `${dir}/gen`,
        `${dir}/gen.c`,
      ]);
      if (!compiled.success) {
        const stderr = decoder.decode(compiled.stderr);
        const bad = new Set<number>();
        for (const match of stderr.matchAll(/gen\.c:(\d+):/g)) {
          const index = Number(match[1]) - prologue.length - 1;
          if (index >= 0 && index < entries.length) bad.add(index);
        }
        if (!bad.size) throw new Error(`the generated C program does not compile:\n${stderr}`);
        const required = [...bad].filter((i) => entries[i].required).map((i) => entries[i].expr);
        if (required.length) {
          throw new Error(`required names do not compile: ${required.join(", ")}\n${stderr}`);
        }
        dropped.push(...[...bad].map((i) => entries[i].expr));
        entries = entries.filter((_, i) => !bad.has(i));
        continue;
      }
      const ran = await run(`${dir}/gen`, []);
      if (!ran.success) {
        throw new Error(`the generated C program failed:\n${decoder.decode(ran.stderr)}`);
      }
      const values = new Map<string, Evaluated>();
      for (const line of decoder.decode(ran.stdout).split("\n").filter(Boolean)) {
        const [, kind, index, rest] = /^(v|s) (\d+) (.*)$/.exec(line)!;
        const key = entries[Number(index)].key;
        const slot = values.get(key) ?? {};
        if (kind === "v") slot.value = BigInt(rest);
        else slot.text = rest;
        values.set(key, slot);
      }
      return { values, dropped };
    }
    throw new Error("gave up after too many compile attempts");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A value as TypeScript source: a number, or a bigint if it is not a safe integer. */
function literal(value: bigint): string {
  const safe = value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER);
  return safe ? value.toString() : `${value}n`;
}

/**
 * The kernel-internal errnos (ERESTARTSYS 512 ... ENOGRACE 531), which the UAPI headers leave
 * out though netlink carries them to user space (a module's -ENOTSUPP, 524, is common), from
 * the kernel's own include/linux/errno.h: installed with the kernel's headers package
 * (linux-headers-*), whose kernel version need not match /usr/include's (the values have not
 * changed since 2.6). Each description is the header's comment on it, and says where it is from.
 */
async function kernelErrnos(): Promise<{ value: bigint; name: string; text: string }[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir("/usr/src")) {
    const file = `/usr/src/${entry.name}/include/linux/errno.h`;
    if (entry.name.startsWith("linux-headers-") && await Deno.stat(file).catch(() => null)) {
      found.push(file);
    }
  }
  const file = found.sort().at(-1);
  if (file === undefined) {
    throw new Error(
      "the kernel's include/linux/errno.h (its internal errnos) is not installed: "
        + "apt-get install linux-headers-$(uname -r), or another version's",
    );
  }
  /** What each means beyond the header's comment. */
  const notes: Record<string, string> = {
    ENOTSUPP: "user space's EOPNOTSUPP (95) means the same",
  };
  const errnos = [];
  for (const line of (await Deno.readTextFile(file)).split("\n")) {
    const m = /^#define\s+(E[A-Z_]+)\s+(\d+)\s*(?:\/\*\s*(.*?)\s*\*\/)?\s*$/.exec(line);
    if (m === null) continue;
    const [, name, value, comment] = m;
    // The first four have no comment: the header's own says they are system call restart codes.
    const what = (comment ?? "restart the system call").replace(/\.+$/, "");
    const note = notes[name] ? `; ${notes[name]}` : "";
    errnos.push({
      value: BigInt(value),
      name,
      text: `${what[0].toUpperCase()}${what.slice(1)} (a kernel-internal errno, from the `
        + `kernel's include/linux/errno.h: not meant to reach user space${note})`,
    });
  }
  if (!errnos.some((e) => e.name === "ENOTSUPP")) throw new Error(`no ENOTSUPP in ${file}`);
  return errnos;
}

/** Linux version from linux/version.h, e.g. "6.1.192". */
async function linuxVersion(): Promise<string> {
  const [file] = (await includedFiles("linux/version.h")).filter((f) =>
    f.endsWith("/linux/version.h")
  );
  const source = await Deno.readTextFile(file);
  const code = Number(/#define\s+LINUX_VERSION_CODE\s+(\d+)/.exec(source)![1]);
  return `${code >> 16}.${(code >> 8) & 0xff}.${code & 0xff}`;
}

/** `export const` lines with JSDoc, grouped under one section comment per header. */
function constantLines(
  candidates: readonly Candidate[],
  values: Map<string, Evaluated>,
  emitted: Set<string>,
): { lines: string[]; count: number; bigints: string[] } {
  const lines: string[] = [];
  const bigints: string[] = [];
  let count = 0;
  let section = "";
  for (const candidate of candidates) {
    const value = values.get(`c:${candidate.name}`)?.value;
    if (value === undefined || emitted.has(candidate.name)) continue;
    emitted.add(candidate.name);
    if (candidate.group.header !== section) {
      section = candidate.group.header;
      lines.push("", `// <${section}>`);
    }
    const text = literal(value);
    if (text.endsWith("n")) bigints.push(candidate.name);
    // A negative literal is a unary expression, which `deno doc --lint` wants annotated.
    const type = value < 0n ? `: ${text.endsWith("n") ? "bigint" : "number"}` : "";
    lines.push("", `/** ${candidate.doc} */`, `export const ${candidate.name}${type} = ${text};`);
    count++;
  }
  return { lines, count, bigints };
}

async function main(): Promise<void> {
  const version = await linuxVersion();
  const banner =
    `// Generated by scripts/gen_constants.ts from the headers of Linux ${version}; do not edit.`;

  const publicCandidates = (await Promise.all(PUBLIC_GROUPS.map(candidatesOf))).flat();
  const ffiCandidates = (await Promise.all(FFI_GROUPS.map(candidatesOf))).flat();
  const errnoCandidates = await candidatesOf(ERRNO_GROUP);
  const moduleCandidates = await candidatesOf(MODULE_GROUP);
  const diagCandidates = (await Promise.all(DIAG_GROUPS.map(candidatesOf))).flat();
  const diagMembers = await Promise.all(DIAG_STRUCTS.map(structMembers));
  const diagStructLayouts = DIAG_STRUCTS.flatMap((table, i) =>
    memberLayouts(table, diagMembers[i])
  );
  const headers = [
    MODULE_GROUP.header,
    ...FFI_GROUPS.map((group) => group.header),
    ...LAYOUT_HEADERS,
    ERRNO_GROUP.header,
    ...PUBLIC_GROUPS.map((group) => group.header),
    ...DIAG_GROUPS.map((group) => group.header),
    ...DIAG_STRUCTS.map((table) => table.header),
  ];
  const seen = new Set<string>();
  const uniqueConstants = [
    ...publicCandidates,
    ...ffiCandidates,
    ...moduleCandidates,
    ...diagCandidates,
  ].filter((c) => !seen.has(c.name) && seen.add(c.name));
  const { values, dropped } = await evaluate(
    headers,
    uniqueConstants,
    errnoCandidates,
    [
      ...FFI_LAYOUTS,
      ...MODULE_LAYOUTS,
      ...CONNECTOR_LAYOUTS,
      ...DIAG_LAYOUTS,
      ...diagStructLayouts,
    ],
    MODULE_GROUP.strings ?? [],
  );

  // src/_constants.ts: the constants the library's own modules use (a module of theirs imports
  // them from there, not all of src/constants.ts), with their documentation; src/constants.ts
  // re-exports them, the same bindings.
  const used = internalConstantUses(ROOT.pathname);
  const publicNames = new Set(publicCandidates.map((candidate) => candidate.name));
  const unknown = used.filter((name) => !publicNames.has(name) || !values.has(`c:${name}`));
  if (unknown.length) {
    throw new Error(`${INTERNAL_CONSTANTS} is asked for names src/constants.ts lacks: ${unknown}`);
  }
  const usedNames = new Set(used);
  const internal = constantLines(
    publicCandidates.filter((candidate) => usedNames.has(candidate.name)),
    values,
    new Set(),
  );
  const internalSource = [
    banner,
    "",
    "/**",
    " * The kernel constants of src/constants.ts that the library's own modules use, and only",
    " * those: a module imports them from here, so that a script importing the route layer, say,",
    " * does not load all 1,400 of src/constants.ts, which re-exports these. Internal: import them",
    " * from src/constants.ts.",
    " *",
    " * @module",
    " */",
    ...internal.lines,
    "",
  ].join("\n");

  // src/constants.ts
  const pub = constantLines(publicCandidates, values, new Set(usedNames));
  const publicSource = [
    banner,
    "",
    "/**",
    " * Kernel constants for netlink, generic netlink, rtnetlink and friends, as the Linux UAPI",
    " * headers define them. Each one's documentation is the header's own comment where it has one.",
    " *",
    " * @example",
    " * ```ts",
    " * import { NLM_F_DUMP, NLM_F_REQUEST, RTM_GETLINK } from \"@netlink/netlink\";",
    " *",
    " * const type = RTM_GETLINK; // 18",
    " * const flags = NLM_F_REQUEST | NLM_F_DUMP; // 0x301",
    " * console.log(type, flags);",
    " * ```",
    " *",
    " * @module",
    " */",
    "",
    `// Those the library's own modules use (${internal.count}), from the module they import.`,
    `export * from "./${INTERNAL_CONSTANTS.slice("src/".length)}";`,
    ...pub.lines,
    "",
  ].join("\n");

  // ffi/_constants.ts
  const ffi = constantLines(ffiCandidates, values, new Set());
  /** `export const` lines, with JSDoc, for evaluated layouts. */
  const layoutLines = (layouts: readonly Layout[]) =>
    layouts.flatMap((layout) => [
      "",
      `/** ${layout.doc} */`,
      `export const ${layout.name} = ${literal(values.get(`l:${layout.name}`)!.value!)};`,
    ]);
  const ffiSource = [
    banner,
    "",
    "/**",
    " * libc constants and struct layouts for the FFI bindings, as this platform's headers define",
    " * them. Internal: not part of the public API.",
    " *",
    " * @module",
    " */",
    ...ffi.lines,
    "",
    "// Struct sizes and field offsets, in bytes.",
    ...layoutLines(FFI_LAYOUTS),
    "",
  ].join("\n");

  // src/_errno.ts: canonical names are those defined as a number; names defined as another
  // name (EWOULDBLOCK → EAGAIN) are aliases.
  const errnoDefs = new Map<string, Definition[]>();
  for (const def of (await definitionsOf(ERRNO_GROUP.header)).all) {
    errnoDefs.set(def.name, [...(errnoDefs.get(def.name) ?? []), def]);
  }
  const rows = new Map<bigint, { name: string; text: string; aliases: string[] }>();
  const aliases: { name: string; value: bigint }[] = [];
  for (const candidate of errnoCandidates) {
    const evaluated = values.get(`e:${candidate.name}`);
    if (evaluated?.value === undefined) continue;
    const isNumber = (errnoDefs.get(candidate.name) ?? []).some((def) => /^\d+$/.test(def.body));
    if (isNumber && !rows.has(evaluated.value)) {
      rows.set(evaluated.value, { name: candidate.name, text: evaluated.text ?? "", aliases: [] });
    } else aliases.push({ name: candidate.name, value: evaluated.value });
  }
  for (const alias of aliases) {
    const row = rows.get(alias.value);
    if (!row) throw new Error(`errno alias ${alias.name} has no canonical name`);
    if (row.name !== alias.name && !row.aliases.includes(alias.name)) row.aliases.push(alias.name);
  }
  for (const { value, name, text } of await kernelErrnos()) {
    if (rows.has(value)) throw new Error(`kernel-internal errno ${name} is ${value}, a UAPI one`);
    rows.set(value, { name, text, aliases: [] });
  }
  const errnoRows = [...rows].sort(([a], [b]) => Number(a - b)).map(([value, row]) =>
    `  [${value}, ${
      [row.name, row.text, ...row.aliases].map((s) => JSON.stringify(s)).join(", ")
    }],`
  );
  const errnoSource = [
    banner,
    "",
    "/**",
    " * Errno names from <errno.h> and their descriptions from the C library's strerror(), and",
    " * the kernel-internal ones (512-531), which netlink carries to user space too, from the",
    " * kernel's include/linux/errno.h with its comments.",
    " * Internal: errors.ts uses it to name and describe failed system calls.",
    " *",
    " * @module",
    " */",
    "",
    "// [errno, canonical name, strerror() text, ...aliases], by errno.",
    "const ERRNOS: readonly (readonly [number, string, string, ...string[]])[] = [",
    ...errnoRows,
    "];",
    "",
    "/**",
    " * An errno's symbolic name as {@linkcode errnoName} gives it: a canonical name of the table",
    " * (`\"EINVAL\"`; an alias such as EWOULDBLOCK is never given), or `E<n>` for an errno the table",
    " * does not have (one newer than the headers it was generated from).",
    " */",
    "export type ErrnoName =",
    ...[...rows].sort(([a], [b]) => Number(a - b)).map(([, row]) =>
      `  | ${JSON.stringify(row.name)}`
    ),
    "  | `E${number}`;",
    "",
    "const NAMES = new Map<number, ErrnoName>();",
    "const DESCRIPTIONS = new Map<number, string>();",
    "const NUMBERS = new Map<string, number>();",
    "for (const [errno, name, description, ...aliases] of ERRNOS) {",
    "  NAMES.set(errno, name as ErrnoName);",
    "  DESCRIPTIONS.set(errno, description);",
    "  for (const alias of [name, ...aliases]) NUMBERS.set(alias, errno);",
    "}",
    "",
    "/** The symbolic name of an errno value, e.g. 105 → \"ENOBUFS\"; `E<n>` if unknown. */",
    "export function errnoName(errno: number): ErrnoName {",
    "  return NAMES.get(errno) ?? `E${errno}`;",
    "}",
    "",
    "/** The errno value of a symbolic name, aliases (EWOULDBLOCK...) included; undefined if unknown. */",
    "export function errnoNumber(name: string): number | undefined {",
    "  return NUMBERS.get(name);",
    "}",
    "",
    "/**",
    " * The errno {@linkcode errnoName} names `name`: a symbolic name (aliases included), or `E<n>`,",
    " * its name for one it has none for (an errno newer than the table). Undefined for other text.",
    " */",
    "export function errnoOfName(name: string): number | undefined {",
    "  return errnoNumber(name) ?? (/^E[1-9][0-9]*$/.test(name) ? Number(name.slice(1)) : undefined);",
    "}",
    "",
    "/** The C library's description of an errno value, e.g. \"No buffer space available\". */",
    "export function errnoDescription(errno: number): string {",
    "  return DESCRIPTIONS.get(errno) ?? `unknown error ${errno}`;",
    "}",
    "",
  ].join("\n");

  // kernel-module/nltest_uapi.ts
  const mod = constantLines(moduleCandidates, values, new Set());
  const moduleSource = [
    banner.replace("the headers of Linux " + version, "kernel-module/nltest_uapi.h"),
    "",
    "/**",
    " * The nltest kernel module's protocol: message types, attributes, limits, the generic",
    " * netlink family's names, and struct nltest_flood_data. See kernel-module/README.md.",
    " *",
    " * @module",
    " */",
    ...mod.lines,
    "",
    "// Strings.",
    ...(MODULE_GROUP.strings ?? []).flatMap((name) => [
      "",
      `/** \`${name}\` from nltest_uapi.h. */`,
      `export const ${name} = ${JSON.stringify(values.get(`s:${name}`)!.text)};`,
    ]),
    "",
    "// Struct sizes and field offsets, in bytes.",
    ...layoutLines(MODULE_LAYOUTS),
    "",
  ].join("\n");

  // src/_connector_layout.ts
  const connectorSource = [
    banner,
    "",
    "/**",
    " * Struct layouts of the connector (struct cn_msg) and of the process events connector",
    " * (struct proc_event and its per-event structs), in bytes. Internal: src/connector.ts reads",
    " * messages with them.",
    " *",
    " * @module",
    " */",
    ...layoutLines(CONNECTOR_LAYOUTS),
    "",
  ].join("\n");

  // src/diag/_constants.ts
  const diag = constantLines(diagCandidates, values, new Set());
  const diagSource = [
    banner,
    "",
    "/**",
    " * sock_diag constants, the request and reply headers' layouts, and the layouts and types of",
    " * the structs its replies carry, as this platform's headers define them. Internal: the",
    " * interfaces are re-exported by src/diag/mod.ts.",
    " *",
    " * @module",
    " */",
    "",
    "import type { StructLayout } from \"./_struct.ts\";",
    ...diag.lines,
    "",
    "// Struct sizes and field offsets, in bytes.",
    ...DIAG_LAYOUTS.flatMap((layout) => [
      "",
      `/** ${layout.doc} */`,
      `export const ${layout.name} = ${literal(values.get(`l:${layout.name}`)!.value!)};`,
    ]),
    "",
    "// Structs decoded through tables.",
    ...DIAG_STRUCTS.flatMap((table, i) => structSource(table, diagMembers[i], values)),
    "",
  ].join("\n");

  const outputs = {
    "src/_connector_layout.ts": connectorSource,
    "src/diag/_constants.ts": diagSource,
    "kernel-module/nltest_uapi.ts": moduleSource,
    "src/constants.ts": publicSource,
    [INTERNAL_CONSTANTS]: internalSource,
    "src/_errno.ts": errnoSource,
    "ffi/_constants.ts": ffiSource,
  };
  for (const [path, source] of Object.entries(outputs)) {
    await Deno.writeTextFile(new URL(path, ROOT), source);
  }
  const dprint = new URL("node_modules/.bin/dprint", ROOT).pathname;
  const formatted = await new Deno.Command(dprint, {
    args: ["fmt", ...Object.keys(outputs)],
    cwd: ROOT.pathname,
    stdout: "null",
  }).output();
  if (!formatted.success) {
    throw new Error(`dprint fmt failed:\n${decoder.decode(formatted.stderr)}`);
  }

  const bigints = [...pub.bigints, ...ffi.bigints];
  console.error(
    `Linux ${version}: src/constants.ts ${
      pub.count + internal.count
    } (${internal.count} in ${INTERNAL_CONSTANTS}), ffi/_constants.ts ${
      ffi.count + FFI_LAYOUTS.length
    }, src/_errno.ts ${rows.size} (+${aliases.length} aliases)`,
  );
  if (dropped.length) console.error(`dropped (not integer constants): ${dropped.join(" ")}`);
  if (bigints.length) console.error(`emitted as bigint: ${bigints.join(" ")}`);
}

if (import.meta.main) await main();
