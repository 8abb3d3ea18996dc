// format(): golden strings for messages of each protocol, in line and tree style.

import assert from "node:assert/strict";
import { test } from "node:test";
import { toHex } from "../../src/_hex.ts";
import { AttributeEncoder } from "../../src/attribute.ts";
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_MCAST_GROUPS,
  CTRL_ATTR_MCAST_GRP_ID,
  CTRL_ATTR_MCAST_GRP_NAME,
  CTRL_CMD_DELFAMILY,
  CTRL_CMD_DELMCAST_GRP,
  CTRL_CMD_GETFAMILY,
  CTRL_CMD_NEWFAMILY,
  CTRL_CMD_NEWMCAST_GRP,
  GENL_ID_CTRL,
  IFF_LOOPBACK,
  IFF_UP,
  IFLA_IFNAME,
  IFLA_INFO_KIND,
  IFLA_LINKINFO,
  IFLA_MTU,
  NETLINK_AUDIT,
  NETLINK_CONNECTOR,
  NETLINK_GENERIC,
  NETLINK_NETFILTER,
  NETLINK_ROUTE,
  NETLINK_SOCK_DIAG,
  NLA_F_NESTED,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_MULTI,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  RTM_DELLINK,
  RTM_GETLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWQDISC,
} from "../../src/constants.ts";
import { encodeNetlinkRequest } from "../../src/diag/mod.ts";
import { format, NetlinkFormatter, protocolName } from "../../src/format.ts";
import { encodeGeneric } from "../../src/genl.ts";
import type { Message, ReceivedMessage } from "../../src/message.ts";
import type { NetlinkSocket } from "../../src/socket.ts";
import { NetlinkFamily } from "../../src/ynl/family.ts";
import { rtRoute } from "../../src/ynl/rt_route.ts";
import { ack } from "../unit/_fake.ts";

/** struct ifinfomsg (ARPHRD 1, the index and flags given) followed by `attrs`. */
function ifinfomsg(index: number, flags: number, attrs: Uint8Array = new Uint8Array()): Uint8Array {
  const payload = new Uint8Array(16 + attrs.length);
  const view = new DataView(payload.buffer);
  view.setUint16(2, 1, true);
  view.setInt32(4, index, true);
  view.setUint32(8, flags, true);
  payload.set(attrs, 16);
  return payload;
}

function newlink(): Message {
  const attrs = new AttributeEncoder().string(IFLA_IFNAME, "v0").u32(IFLA_MTU, 1400);
  attrs.nested(IFLA_LINKINFO, (info) => info.string(IFLA_INFO_KIND, "veth"));
  return {
    type: RTM_NEWLINK,
    flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
    seq: 7,
    portid: 0,
    payload: ifinfomsg(3, IFF_UP | IFF_LOOPBACK, attrs.finish()),
  };
}

test("rtnetlink: type and flags by name, ifinfomsg and nested attributes, one line", () => {
  assert.equal(
    format(newlink(), { protocol: NETLINK_ROUTE }),
    "RTM_NEWLINK flags=REQUEST|ACK|EXCL|CREATE seq=7 port=0 ifinfomsg={ifiFamily=0 ifiType=1 ifiIndex=3 ifiFlags=up|loopback ifiChange=0} ifname=\"v0\" mtu=1400 linkinfo={kind=\"veth\"}",
  );
  const dump = { type: RTM_GETLINK, flags: NLM_F_REQUEST | NLM_F_DUMP, seq: 1, portid: 0 };
  assert.equal(
    format({ ...dump, payload: new Uint8Array(16) }, { protocol: NETLINK_ROUTE }),
    "RTM_GETLINK flags=REQUEST|DUMP seq=1 port=0 ifinfomsg={ifiFamily=0 ifiType=0 ifiIndex=0 ifiFlags=0 ifiChange=0}",
  );
  // The same bits mean NONREC on a delete.
  const del = { type: RTM_DELLINK, flags: NLM_F_REQUEST | 0x100, seq: 2, portid: 0 };
  assert.match(
    format({ ...del, payload: ifinfomsg(3, 0) }, { protocol: NETLINK_ROUTE }),
    /^RTM_DELLINK flags=REQUEST\|NONREC seq=2 /,
  );
});

test("rtnetlink: a struct value longer than its struct shows the bytes past its members", () => {
  // A newer kernel's ifa_cacheinfo with a fifth field: the bytes were not shown.
  const cacheinfo = new Uint8Array(20);
  new Uint32Array(cacheinfo.buffer).set([1, 2, 3, 4, 5]);
  const payload = new Uint8Array(8 + 4 + 20);
  payload.set([2, 24, 0, 0, 3, 0, 0, 0]); // ifaddrmsg: AF_INET, /24, index 3
  new DataView(payload.buffer).setUint16(8, 24, true);
  new DataView(payload.buffer).setUint16(10, 6, true); // IFA_CACHEINFO
  payload.set(cacheinfo, 12);
  assert.match(
    format({ type: RTM_NEWADDR, flags: 0, seq: 0, portid: 0, payload }, {
      protocol: NETLINK_ROUTE,
    }),
    / cacheinfo=\{ifaPrefered=1 ifaValid=2 cstamp=3 tstamp=4 #tail=05000000\}$/,
  );
});

test("rtnetlink: the indented tree", () => {
  assert.equal(
    format(newlink(), { protocol: NETLINK_ROUTE, style: "tree" }),
    [
      "RTM_NEWLINK flags=REQUEST|ACK|EXCL|CREATE seq=7 port=0",
      "  ifinfomsg:",
      "    ifiFamily: 0",
      "    ifiType: 1",
      "    ifiIndex: 3",
      "    ifiFlags: up|loopback",
      "    ifiChange: 0",
      "  ifname: \"v0\"",
      "  mtu: 1400",
      "  linkinfo:",
      "    kind: \"veth\"",
    ].join("\n"),
  );
});

test("errors and acks: errno name and text, extended-ack message and offset, the request answered", () => {
  assert.equal(
    format(ack(newlink(), 22, { detail: "Unknown device type", offset: 36 }), {
      protocol: NETLINK_ROUTE,
    }),
    "NLMSG_ERROR flags=CAPPED|ACK_TLVS seq=7 port=0 error=EINVAL (Invalid argument) msg=\"Unknown device type\" offset=36 for=RTM_NEWLINK seq=7",
  );
  assert.equal(
    format(ack(newlink()), { protocol: NETLINK_ROUTE }),
    "NLMSG_ERROR flags=CAPPED seq=7 port=0 ack=0 for=RTM_NEWLINK seq=7",
  );
  const done = { type: NLMSG_DONE, flags: NLM_F_MULTI, seq: 3, portid: 5 };
  assert.equal(
    format({ ...done, payload: new Uint8Array([0xfe, 0xff, 0xff, 0xff]) }, { protocol: 0 }),
    "NLMSG_DONE flags=MULTI seq=3 port=5 error=ENOENT (No such file or directory)",
  );
});

test("generic netlink: nlctrl always, other families by id once known, raw attributes when not", () => {
  const name = new AttributeEncoder().string(CTRL_ATTR_FAMILY_NAME, "ethtool").finish();
  const request = {
    type: GENL_ID_CTRL,
    flags: NLM_F_REQUEST | NLM_F_ACK,
    seq: 1,
    portid: 0,
    payload: encodeGeneric(CTRL_CMD_GETFAMILY, 1, name),
  };
  assert.equal(
    format(request, { protocol: NETLINK_GENERIC }),
    "nlctrl getfamily flags=REQUEST|ACK seq=1 port=0 v1 familyName=\"ethtool\"",
  );

  const header = new AttributeEncoder();
  header.nested(1, (h) => h.string(2, "eth0")); // ETHTOOL_A_LINKINFO_HEADER { DEV_NAME }
  const linkinfo = {
    type: 21,
    flags: NLM_F_REQUEST,
    seq: 2,
    portid: 0,
    payload: encodeGeneric(2, 1, header.finish()), // ETHTOOL_MSG_LINKINFO_GET
  };
  assert.equal(
    format(linkinfo, { protocol: NETLINK_GENERIC }),
    "genl family 21 cmd 2 flags=REQUEST seq=2 port=0 v1 #1(nested)=090002006574683000000000",
  );
  const known = "ethtool linkinfo-get flags=REQUEST seq=2 port=0 v1 header={devName=\"eth0\"}";
  const families = new Map([[21, "ethtool"]]);
  assert.equal(format(linkinfo, { protocol: NETLINK_GENERIC, families }), known);

  // A formatter learns the id from nlctrl's reply.
  const formatter = new NetlinkFormatter();
  const reply = new AttributeEncoder().string(CTRL_ATTR_FAMILY_NAME, "ethtool")
    .u16(CTRL_ATTR_FAMILY_ID, 21).finish();
  assert.equal(
    formatter.format({
      type: GENL_ID_CTRL,
      flags: 0,
      seq: 1,
      portid: 99,
      payload: encodeGeneric(CTRL_CMD_NEWFAMILY, 2, reply),
    }, { protocol: NETLINK_GENERIC }),
    "nlctrl getfamily flags=0 seq=1 port=99 v2 familyName=\"ethtool\" familyId=21",
  );
  assert.equal(formatter.format(linkinfo, { protocol: NETLINK_GENERIC }), known);
});

test("generic netlink: nlctrl's notifications by the kernel's names, decoded as its replies", () => {
  const attrs = new AttributeEncoder().string(CTRL_ATTR_FAMILY_NAME, "ovpn")
    .u16(CTRL_ATTR_FAMILY_ID, 33);
  attrs.nested(CTRL_ATTR_MCAST_GROUPS, (groups) => {
    groups.nested(
      1,
      (g) => g.string(CTRL_ATTR_MCAST_GRP_NAME, "peers").u32(CTRL_ATTR_MCAST_GRP_ID, 12),
    );
  });
  const body = attrs.finish();
  const fields = "familyName=\"ovpn\" familyId=33 mcastGroups=[{name=\"peers\" id=12}]";
  const formatter = new NetlinkFormatter();
  const genl = { protocol: NETLINK_GENERIC };
  const event = (command: number, seq = 0) =>
    formatter.format({
      type: GENL_ID_CTRL,
      flags: 0,
      seq,
      portid: 0,
      payload: encodeGeneric(command, 2, body),
    }, genl);
  assert.equal(event(CTRL_CMD_NEWFAMILY), `nlctrl newfamily flags=0 seq=0 port=0 v2 ${fields}`);
  assert.equal(
    event(CTRL_CMD_NEWMCAST_GRP),
    `nlctrl newmcast-grp flags=0 seq=0 port=0 v2 ${fields}`,
  );
  assert.equal(
    event(CTRL_CMD_DELMCAST_GRP),
    `nlctrl delmcast-grp flags=0 seq=0 port=0 v2 ${fields}`,
  );
  // The id was learnt from newfamily, and is forgotten with delfamily.
  const ovpn = { type: 33, flags: NLM_F_REQUEST, seq: 5, portid: 0, payload: encodeGeneric(1, 1) };
  assert.match(formatter.format(ovpn, genl), /^ovpn /);
  assert.equal(event(CTRL_CMD_DELFAMILY), `nlctrl delfamily flags=0 seq=0 port=0 v2 ${fields}`);
  assert.match(formatter.format(ovpn, genl), /^genl family 33 /);
  // A reply (a sequence number) stays getfamily's.
  assert.equal(event(CTRL_CMD_NEWFAMILY, 7), `nlctrl getfamily flags=0 seq=7 port=0 v2 ${fields}`);
});

test("lists: one line in brackets, a YAML-like list in the tree", () => {
  const attrs = new AttributeEncoder().string(CTRL_ATTR_FAMILY_NAME, "ethtool");
  attrs.nested(CTRL_ATTR_MCAST_GROUPS, (groups) => {
    groups.nested(
      1,
      (g) => g.string(CTRL_ATTR_MCAST_GRP_NAME, "monitor").u32(CTRL_ATTR_MCAST_GRP_ID, 5),
    );
    groups.nested(
      2,
      (g) => g.string(CTRL_ATTR_MCAST_GRP_NAME, "other").u32(CTRL_ATTR_MCAST_GRP_ID, 6),
    );
  });
  const payload = encodeGeneric(CTRL_CMD_NEWFAMILY, 2, attrs.finish());
  const message = { type: GENL_ID_CTRL, flags: 0, seq: 1, portid: 9, payload };
  assert.equal(
    format(message, { protocol: NETLINK_GENERIC }),
    "nlctrl getfamily flags=0 seq=1 port=9 v2 familyName=\"ethtool\" mcastGroups=[{name=\"monitor\" id=5} {name=\"other\" id=6}]",
  );
  assert.equal(
    format(message, { protocol: NETLINK_GENERIC, style: "tree" }),
    [
      "nlctrl getfamily flags=0 seq=1 port=9 v2",
      "  familyName: \"ethtool\"",
      "  mcastGroups:",
      "    - name: \"monitor\"",
      "      id: 5",
      "    - name: \"other\"",
      "      id: 6",
    ].join("\n"),
  );
});

test("netfilter: subsystem and message by name, nfgenmsg decoded", () => {
  const get = { type: 0x101, flags: NLM_F_REQUEST | NLM_F_DUMP, seq: 3, portid: 0 };
  assert.equal(
    format({ ...get, payload: new Uint8Array([2, 0, 0, 0]) }, { protocol: NETLINK_NETFILTER }),
    "NFNL_SUBSYS_CTNETLINK get flags=REQUEST|DUMP seq=3 port=0 nfgenmsg={nfgenFamily=2 version=0 resId=0}",
  );
});

test("connector: the cn_msg of its NLMSG_DONE messages, not an error", () => {
  const payload = new Uint8Array(20 + 4);
  const view = new DataView(payload.buffer);
  view.setUint32(0, 1, true); // CN_IDX_PROC
  view.setUint32(4, 1, true);
  view.setUint32(8, 5, true);
  view.setUint16(16, 4, true);
  payload.set([1, 0, 0, 0], 20); // PROC_CN_MCAST_LISTEN
  assert.equal(
    format({ type: NLMSG_DONE, flags: 0, seq: 1, portid: 7, payload }, {
      protocol: NETLINK_CONNECTOR,
    }),
    "NLMSG_DONE flags=0 seq=1 port=7 idx=CN_IDX_PROC val=1 cnSeq=5 ack=0 cnFlags=0 data=01000000",
  );
});

test("unknown protocols and bytes that do not decode are shown in hex, never thrown", () => {
  const message = { type: 0x20, flags: 0, seq: 3, portid: 0, payload: new Uint8Array([1, 2, 3]) };
  assert.equal(
    format(message, { protocol: NETLINK_AUDIT }),
    "type 32 flags=0 seq=3 port=0 payload=010203",
  );
  // Too short for its ifinfomsg.
  assert.equal(
    format({ ...message, type: RTM_NEWLINK, flags: NLM_F_MULTI }, { protocol: NETLINK_ROUTE }),
    "RTM_NEWLINK flags=MULTI seq=3 port=0 payload=010203",
  );
  // An ack too short for struct nlmsgerr.
  assert.equal(
    format({ ...message, type: 2 }, { protocol: NETLINK_ROUTE }),
    "NLMSG_ERROR flags=0 seq=3 port=0 payload=010203",
  );
  assert.equal(protocolName(NETLINK_GENERIC), "generic");
  assert.equal(protocolName(25), "protocol 25");
  assert.equal(protocolName(31), "protocol 31");
  // What is no protocol number is refused, as format() refuses it, not named "protocol NaN";
  // and so is a number past the 32 units (MAX_LINKS), which was named "protocol 99".
  for (const bad of [NaN, 1.5, -1, Infinity, "route", undefined, 32, 99, 2 ** 32]) {
    assert.throws(
      () => protocolName(bad as number),
      /^TypeError: protocolName\(\): protocol must be a netlink protocol number from 0 to 31 \(NETLINK_ROUTE\.\.\.\), got /,
    );
  }
  assert.throws(() => format(newlink(), { protocol: 32 }), /from 0 to 31 .*, got 32/);
});

/** A request to generic family 21 (command 2, version 1), whose name the tests below vary. */
const FAMILY_21_REQUEST = {
  type: 21,
  flags: NLM_F_REQUEST,
  seq: 2,
  portid: 0,
  payload: encodeGeneric(2, 1),
};

test("a family name no kernel family could have (control characters, too long) is not learned", () => {
  // Anyone may send nlctrl-shaped messages to a socket's port: a learned name is printed as it
  // is, so one holding a terminal escape would reach the terminal of whoever reads the trace.
  const formatter = new NetlinkFormatter();
  for (const name of ["\x1b]0;owned\x07", "eth tool", "x".repeat(16)]) {
    const reply = new AttributeEncoder().string(CTRL_ATTR_FAMILY_NAME, name)
      .u16(CTRL_ATTR_FAMILY_ID, 21).finish();
    const line = formatter.format({
      type: GENL_ID_CTRL,
      flags: 0,
      seq: 1,
      portid: 99,
      payload: encodeGeneric(CTRL_CMD_NEWFAMILY, 2, reply),
    }, { protocol: NETLINK_GENERIC });
    assert.ok(!line.includes("\x1b"), line);
    assert.equal(
      formatter.format(FAMILY_21_REQUEST, { protocol: NETLINK_GENERIC }),
      "genl family 21 cmd 2 flags=REQUEST seq=2 port=0 v1",
    );
  }
  assert.equal(formatter.families.size, 0);
});

test("a family name given in families is printed escaped when it holds control characters", () => {
  // The caller's map may come from anywhere (a file, another process): a name holding a terminal
  // escape is quoted and escaped as other untrusted text (an extended ack's message) is.
  const families = new Map([[21, "eth\x1b]0;owned\x07tool\x9b"]]);
  const escaped = String.raw`"eth\u001b]0;owned\u0007tool\u009b"`;
  assert.equal(
    format(FAMILY_21_REQUEST, { protocol: NETLINK_GENERIC, families }),
    `${escaped} cmd 2 flags=REQUEST seq=2 port=0 v1`,
  );
  assert.equal(
    new NetlinkFormatter({ families }).format(FAMILY_21_REQUEST, { protocol: NETLINK_GENERIC }),
    `${escaped} cmd 2 flags=REQUEST seq=2 port=0 v1`,
  );
  // The ack names the request's family the same way.
  const ack = new Uint8Array(20);
  const view = new DataView(ack.buffer);
  view.setUint32(4, 16, true); // the request's header, capped: nlmsg_len 16
  view.setUint16(8, 21, true);
  view.setUint32(12, 2, true);
  const line = format(
    { type: NLMSG_ERROR, flags: 0x100, seq: 2, portid: 0, payload: ack },
    { protocol: NETLINK_GENERIC, families },
  );
  assert.ok(line.endsWith(`for=${escaped} seq=2`), line);
  // A name a kernel family could have is printed as it is; one with a space, quoted.
  assert.match(
    format(FAMILY_21_REQUEST, { protocol: NETLINK_GENERIC, families: new Map([[21, "my fam"]]) }),
    /^"my fam" cmd 2 /,
  );
});

test("a formatter learns family names from the kernel's nlctrl messages, not another process's", () => {
  const formatter = new NetlinkFormatter({ families: new Map([[21, "ethtool"]]) });
  const announce = (name: string, sender: number) => {
    const attrs = new AttributeEncoder().string(CTRL_ATTR_FAMILY_NAME, name)
      .u16(CTRL_ATTR_FAMILY_ID, 21).finish();
    const payload = encodeGeneric(CTRL_CMD_NEWFAMILY, 2, attrs);
    const message: ReceivedMessage = {
      type: GENL_ID_CTRL,
      flags: 0,
      seq: 0,
      portid: 0,
      payload,
      sender,
      group: 0,
    };
    formatter.format(message, { protocol: NETLINK_GENERIC });
  };
  announce("nl80211", 4242); // a peer's, sent to the socket's port
  assert.equal(formatter.families.get(21), "ethtool");
  announce("nl80211", 0); // the kernel's
  assert.equal(formatter.families.get(21), "nl80211");
});

test("request flags are named by the verb wherever a YNL name puts it: linkinfo-get, listener-set", () => {
  const families = new Map([[21, "ethtool"], [22, "nfsd"]]);
  const request = (type: number, command: number, flags: number) =>
    format(
      { type, flags: NLM_F_REQUEST | flags, seq: 1, portid: 0, payload: encodeGeneric(command, 1) },
      { protocol: NETLINK_GENERIC, families },
    );
  assert.equal(
    request(21, 2, NLM_F_DUMP), // ETHTOOL_MSG_LINKINFO_GET
    "ethtool linkinfo-get flags=REQUEST|DUMP seq=1 port=0 v1",
  );
  assert.equal(
    request(21, 18, NLM_F_CREATE), // ETHTOOL_MSG_CHANNELS_SET
    "ethtool channels-set flags=REQUEST|CREATE seq=1 port=0 v1",
  );
  // "listener" starts like "list", but the verb is "set".
  assert.equal(
    request(22, 6, NLM_F_CREATE | NLM_F_EXCL), // NFSD_CMD_LISTENER_SET
    "nfsd listener-set flags=REQUEST|EXCL|CREATE seq=1 port=0 v1",
  );
  // Verbs that lead, as they always did.
  assert.equal(
    format(
      {
        type: GENL_ID_CTRL,
        flags: NLM_F_REQUEST | NLM_F_DUMP,
        seq: 1,
        portid: 0,
        payload: encodeGeneric(CTRL_CMD_GETFAMILY, 1),
      },
      { protocol: NETLINK_GENERIC },
    ),
    "nlctrl getfamily flags=REQUEST|DUMP seq=1 port=0 v1",
  );
});

test("format() refuses a protocol that is not a number (\"route\"), a style it has not, an unknown option", () => {
  const message = newlink();
  const cases: [unknown, RegExp][] = [
    [
      { protocol: "route" },
      /protocol must be a netlink protocol number from 0 to 31 \(NETLINK_ROUTE\.\.\.\), got "route"/,
    ],
    [{ protocol: 1.5 }, /protocol must be a netlink protocol number/],
    [undefined, /protocol must be a netlink protocol number .*, got undefined/],
    [{ protocol: NETLINK_ROUTE, style: "lines" }, /style must be "line" or "tree", got "lines"/],
    [
      { protocol: NETLINK_ROUTE, stlye: "tree" },
      /unknown option "stlye" \(did you mean "style"\?\)/,
    ],
  ];
  for (const [options, error] of cases) {
    assert.throws(() => format(message, options as never), error);
    assert.throws(() => new NetlinkFormatter().format(message, options as never), error);
  }
  assert.ok(
    format(message, { protocol: NETLINK_ROUTE, style: undefined }).startsWith("RTM_NEWLINK"),
  );
});

test("format() and NetlinkFormatter refuse families that are not a Map and descriptors that are not an array of them, saying so", () => {
  const message = newlink();
  const cases: [unknown, RegExp][] = [
    [
      { families: {} },
      /^families must be a Map of generic netlink family names by id, got object$/,
    ],
    [{ families: [[16, "x"]] }, /^families must be a Map .*, got object$/],
    [{ families: "ab" }, /^families must be a Map .*, got "ab"$/],
    [
      { descriptors: {} },
      /^descriptors must be an array of family descriptors \(src\/ynl\/\), got object$/,
    ],
    [
      { descriptors: [null] },
      /^descriptors must be an array of family descriptors .*, got null at 0$/,
    ],
  ];
  for (const [options, error] of cases) {
    const message_ = (e: unknown) => e instanceof TypeError && error.test(e.message);
    assert.throws(
      () => format(message, { protocol: NETLINK_ROUTE, ...options as object }),
      message_,
    );
    assert.throws(() => new NetlinkFormatter(options as never), message_);
  }
  // NetlinkFormatter's options themselves, refused as format()'s are: a misspelt one was
  // ignored (the families it named unknown), null failed inside ("Cannot read properties of
  // null"), and a number or a string was taken for no options.
  const refused: [unknown, RegExp][] = [
    [
      { famlies: new Map() },
      /^TypeError: NetlinkFormatter options: unknown option "famlies" \(did you mean "families"\?\)/,
    ],
    [
      { protocol: NETLINK_ROUTE },
      /^TypeError: NetlinkFormatter options: unknown option "protocol"/,
    ],
    [null, /^TypeError: NetlinkFormatter options must be an object, got null$/],
    [5, /^TypeError: NetlinkFormatter options must be an object, got number$/],
  ];
  for (const [options, error] of refused) {
    assert.throws(() => new NetlinkFormatter(options as never), error);
  }
  // A Map, and undefined for none, are taken; null is no absence, as everywhere (the types say
  // so), and is refused.
  const families = new Map([[30, "myfam"]]);
  assert.match(format(message, { protocol: NETLINK_ROUTE, families }), /^RTM_NEWLINK/);
  assert.match(format(message, { protocol: NETLINK_ROUTE, families: undefined }), /^RTM_NEWLINK/);
  assert.throws(
    () => format(message, { protocol: NETLINK_ROUTE, families: null as never }),
    /^TypeError: format\(\) options: families is null, which it does not take/,
  );
});

test("sock_diag: SOCK_DIAG_BY_FAMILY and SOCK_DESTROY by name, a dump's flags as DUMP", () => {
  const payload = encodeNetlinkRequest();
  assert.equal(
    format(
      { type: 20, flags: NLM_F_REQUEST | NLM_F_DUMP, seq: 1, portid: 0, payload },
      { protocol: NETLINK_SOCK_DIAG },
    ),
    `SOCK_DIAG_BY_FAMILY flags=REQUEST|DUMP seq=1 port=0 payload=${toHex(payload)}`,
  );
  assert.equal(
    format(
      { type: 21, flags: NLM_F_REQUEST | NLM_F_ACK, seq: 2, portid: 0, payload: new Uint8Array() },
      { protocol: NETLINK_SOCK_DIAG },
    ),
    "SOCK_DESTROY flags=REQUEST|ACK seq=2 port=0",
  );
  assert.equal(
    format(
      { type: 20, flags: NLM_F_MULTI, seq: 1, portid: 9, payload: new Uint8Array() },
      { protocol: NETLINK_SOCK_DIAG },
    ),
    "SOCK_DIAG_BY_FAMILY flags=MULTI seq=1 port=9",
  );
});

// struct tcmsg's attributes (<linux/rtnetlink.h>), which the constants leave to the tc codec.
const TCA_KIND = 1;
const TCA_OPTIONS = 2;

test("format() never throws for bad bytes: a qdisc nesting 3,000 levels (another process can send one) shows in hex, a line or a tree of its size", () => {
  // tcmsg, TCA_KIND "ets", TCA_OPTIONS holding TCA_ETS_QUANTA in TCA_ETS_QUANTA... (ets-attrs
  // nest themselves): 12 KiB. It overflowed the stack (RangeError) on Deno; on Bun its tree
  // took 9 MB.
  for (const depth of [3_000, 16_000]) {
    const payload = new Uint8Array(20 + 8 + 4 + depth * 4);
    const view = new DataView(payload.buffer);
    view.setUint16(20, 8, true);
    view.setUint16(22, TCA_KIND, true);
    payload.set(new TextEncoder().encode("ets\0"), 24);
    for (let level = 0, at = 28; level <= depth; level++, at += 4) {
      view.setUint16(at, Math.min(payload.length - at, 0xffff), true);
      view.setUint16(at + 2, level === 0 ? TCA_OPTIONS : 3 | NLA_F_NESTED, true); // TCA_ETS_QUANTA
    }
    const message = { type: RTM_NEWQDISC, flags: 0, seq: 1, portid: 0, payload };
    for (const style of ["line", "tree"] as const) {
      const text = format(message, { protocol: NETLINK_ROUTE, style });
      assert.match(text, /^RTM_NEWQDISC /, `${depth} ${style}`);
      assert.ok(text.includes(toHex(payload.subarray(28, 60))), `${depth} ${style}: in hex`);
      assert.ok(text.length < 3 * payload.length, `${depth} ${style}: ${text.length} characters`);
    }
  }
  // A few levels, as the kernel sends, still decode.
  const shallow = new Uint8Array(20 + 8 + 4 + 4 + 8);
  const view = new DataView(shallow.buffer);
  view.setUint16(20, 8, true);
  view.setUint16(22, TCA_KIND, true);
  shallow.set(new TextEncoder().encode("ets\0"), 24);
  view.setUint16(28, 16, true);
  view.setUint16(30, TCA_OPTIONS, true);
  view.setUint16(32, 12, true);
  view.setUint16(34, 3 | NLA_F_NESTED, true);
  view.setUint16(36, 8, true);
  view.setUint16(38, 4, true); // TCA_ETS_QUANTA_BAND
  view.setUint32(40, 1500, true);
  const text = format({ type: RTM_NEWQDISC, flags: 0, seq: 1, portid: 0, payload: shallow }, {
    protocol: NETLINK_ROUTE,
  });
  assert.match(text, /quantaBand=\[?1500/, text);
});

test("format() refuses what is no message with a TypeError naming the field, not a crash inside", () => {
  const good = { type: 16, flags: 0, seq: 1, portid: 0, payload: new Uint8Array(16) };
  const options = { protocol: 0 };
  assert.match(format(good, options), /^RTM_NEWLINK /);
  const cases: [unknown, RegExp][] = [
    [null, /the message must be an object, got null/],
    [{ ...good, payload: [1, 2] }, /payload must be a Uint8Array, got \[1,2\]/],
    [{ ...good, payload: "ab" }, /payload must be a Uint8Array, got "ab"/],
    [{ ...good, type: NaN }, /type must be an integer, got NaN/],
    [{ ...good, seq: "1" }, /seq must be an integer, got "1"/],
  ];
  for (const [message, why] of cases) {
    assert.throws(() => format(message as Message, options), (e: Error) => {
      return e instanceof TypeError && why.test(e.message);
    }, String(why));
  }
});

test("display hints: an address shows as ip prints it, bare; an integer hinted hex, in hex", () => {
  const rt = new NetlinkFamily(rtRoute, {} as NetlinkSocket);
  const { type, payload } = rt.encode("newroute", {
    rtmFamily: 2,
    rtmDstLen: 24,
    dst: "10.9.0.0",
    gateway: "10.0.0.1",
    flowlabel: 0x12345,
  });
  assert.match(
    format({ type, flags: 0, seq: 0, portid: 0, payload: payload! }, { protocol: NETLINK_ROUTE }),
    / dst=10\.9\.0\.0 gateway=10\.0\.0\.1 flowlabel=0x12345$/,
  );
});
