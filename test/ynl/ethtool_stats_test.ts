// ethtool's stats-get reply, built byte by byte as net/ethtool/stats.c writes it (stats_fill_reply,
// stats_put_stats, stat_put, stats_put_rmon_hist), decoded by the generated ethtool family: the
// groups repeat, and each counter is a nest holding one u64 whose attribute type is its id.
// Numbers are the uAPI's (linux/ethtool_netlink.h, linux/ethtool.h), written out here so that the
// test does not read them from the descriptor it checks.

import assert from "node:assert/strict";
import { test } from "node:test";
import { NETLINK_GENERIC } from "../../src/constants.ts";
import { NetlinkFormatter } from "../../src/format.ts";
import type { NetlinkSocket } from "../../src/socket.ts";
import { ethtool } from "../../src/ynl/ethtool.ts";
import { NetlinkFamily, unknownAttributes } from "../../src/ynl/mod.ts";

const ETHTOOL_MSG_STATS_GET_REPLY = 33;
const ETHTOOL_A_HEADER_DEV_INDEX = 1, ETHTOOL_A_HEADER_DEV_NAME = 2;
const ETHTOOL_A_STATS_HEADER = 2, ETHTOOL_A_STATS_GRP = 4, ETHTOOL_A_STATS_SRC = 5;
const GRP_PAD = 1, GRP_ID = 2, GRP_SS_ID = 3, GRP_STAT = 4, GRP_HIST_RX = 5, GRP_HIST_TX = 6;
const HIST_BKT_LOW = 7, HIST_BKT_HI = 8, HIST_VAL = 9;
const ETHTOOL_STATS_ETH_MAC = 1, ETHTOOL_STATS_RMON = 3;
const ETH_SS_STATS_ETH_MAC = 18, ETH_SS_STATS_RMON = 20;
// Counter ids: the attribute types inside ETHTOOL_A_STATS_GRP_STAT, from 0.
const MAC_2_TX_PKT = 0, MAC_5_RX_PKT = 3, MAC_14_RX_BYTES = 12, MAC_25_TOO_LONG_ERR = 21;
const RMON_UNDERSIZE = 0, RMON_JABBER = 3;
const NLA_F_NESTED = 0x8000;

/** One attribute: nla_len, nla_type, the payload, padded to 4 bytes. */
function nla(type: number, ...payload: Uint8Array[]): Uint8Array {
  const length = 4 + payload.reduce((sum, part) => sum + part.byteLength, 0);
  const out = new Uint8Array((length + 3) & ~3);
  const view = new DataView(out.buffer);
  view.setUint16(0, length, true);
  view.setUint16(2, type, true);
  let at = 4;
  for (const part of payload) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/** nla_nest_start(): NLA_F_NESTED set, as the kernel sets it. */
const nest = (type: number, ...inner: Uint8Array[]) => nla(type | NLA_F_NESTED, ...inner);

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, true);
  return out;
}

function u64(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value, true);
  return out;
}

/** stat_put(): a GRP_STAT nest holding the u64 with the counter's id as its type. */
const stat = (id: number, value: bigint) => nest(GRP_STAT, nla(id, u64(value)));

/** stats_put_rmon_hist(), one bucket. */
const bucket = (dir: number, low: number, high: number, value: bigint, pad = false) =>
  nest(
    dir,
    nla(HIST_BKT_LOW, u32(low)),
    nla(HIST_BKT_HI, u32(high)),
    ...(pad ? [nla(GRP_PAD)] : []),
    nla(HIST_VAL, u64(value)),
  );

/**
 * A reply to `ethtool -S eth0 --groups eth-mac rmon`: `pads` adds the zero-length
 * ETHTOOL_A_STATS_GRP_PAD attributes an architecture without efficient unaligned access puts
 * before 64-bit values (before a GRP_STAT nest, and inside a bucket).
 */
function reply(pads: boolean): Uint8Array {
  const pad = pads ? [nla(GRP_PAD)] : [];
  const attributes = [
    nest(
      ETHTOOL_A_STATS_HEADER,
      nla(ETHTOOL_A_HEADER_DEV_INDEX, u32(7)),
      nla(ETHTOOL_A_HEADER_DEV_NAME, new TextEncoder().encode("eth0\0")),
    ),
    nla(ETHTOOL_A_STATS_SRC, u32(0)),
    nest(
      ETHTOOL_A_STATS_GRP,
      nla(GRP_ID, u32(ETHTOOL_STATS_ETH_MAC)),
      nla(GRP_SS_ID, u32(ETH_SS_STATS_ETH_MAC)),
      ...pad,
      stat(MAC_2_TX_PKT, 12n),
      ...pad,
      stat(MAC_5_RX_PKT, 2n ** 40n + 5n),
      ...pad,
      stat(MAC_14_RX_BYTES, 0xffff_ffff_ffff_fffen),
      ...pad,
      stat(MAC_25_TOO_LONG_ERR, 0n),
    ),
    nest(
      ETHTOOL_A_STATS_GRP,
      nla(GRP_ID, u32(ETHTOOL_STATS_RMON)),
      nla(GRP_SS_ID, u32(ETH_SS_STATS_RMON)),
      bucket(GRP_HIST_RX, 0, 64, 9n, pads),
      bucket(GRP_HIST_RX, 65, 127, 8n, pads),
      bucket(GRP_HIST_RX, 1519, 0, 7n, pads),
      bucket(GRP_HIST_TX, 0, 64, 6n, pads),
      ...pad,
      stat(RMON_UNDERSIZE, 3n),
      ...pad,
      stat(RMON_JABBER, 1n),
    ),
  ];
  const genlmsghdr = Uint8Array.of(ETHTOOL_MSG_STATS_GET_REPLY, 1, 0, 0);
  const out = new Uint8Array(attributes.reduce((sum, a) => sum + a.byteLength, 4));
  out.set(genlmsghdr);
  let at = 4;
  for (const attribute of attributes) {
    out.set(attribute, at);
    at += attribute.byteLength;
  }
  return out;
}

const client = new NetlinkFamily(ethtool, {} as NetlinkSocket, {
  name: "ethtool",
  id: 0x20,
  version: 1,
  headerSize: 0,
  maxAttribute: 0,
  groups: new Map(),
});

function decode(payload: Uint8Array): Record<string | symbol, unknown> {
  const decoded = client.decode({ type: 0x20, flags: 0, seq: 0, portid: 0, payload });
  assert.equal(decoded?.op, "stats-get");
  return decoded!.message as Record<string | symbol, unknown>;
}

const EXPECTED = {
  header: { devIndex: 7, devName: "eth0" },
  src: 0,
  grp: [
    {
      id: ETHTOOL_STATS_ETH_MAC,
      ssId: ETH_SS_STATS_ETH_MAC,
      stat: [
        { id: MAC_2_TX_PKT, value: 12n },
        { id: MAC_5_RX_PKT, value: 2n ** 40n + 5n },
        { id: MAC_14_RX_BYTES, value: 0xffff_ffff_ffff_fffen },
        { id: MAC_25_TOO_LONG_ERR, value: 0n },
      ],
    },
    {
      id: ETHTOOL_STATS_RMON,
      ssId: ETH_SS_STATS_RMON,
      histRx: [
        { histBktLow: 0, histBktHi: 64, histVal: 9n },
        { histBktLow: 65, histBktHi: 127, histVal: 8n },
        { histBktLow: 1519, histBktHi: 0, histVal: 7n },
      ],
      histTx: [{ histBktLow: 0, histBktHi: 64, histVal: 6n }],
      stat: [{ id: RMON_UNDERSIZE, value: 3n }, { id: RMON_JABBER, value: 1n }],
    },
  ],
};

test("ethtool stats-get: every group, each counter's id and value, every histogram bucket", () => {
  // Before the spec's correction: the first group alone, its counters kept as unknown misfits.
  assert.deepEqual(decode(reply(false)), EXPECTED);
});

test("ethtool stats-get: the pads an architecture puts before 64-bit values are skipped", () => {
  const decoded = decode(reply(true));
  assert.deepEqual(decoded, EXPECTED);
  const groups = decoded.grp as Record<string | symbol, unknown>[];
  for (const group of groups) {
    assert.equal(group[unknownAttributes], undefined);
    for (const hist of (group.histRx ?? []) as Record<symbol, unknown>[]) {
      assert.equal(hist[unknownAttributes], undefined); // the bucket's pad too
    }
  }
});

test("ethtool stats-get: a decoded reply encodes back to the kernel's bytes", () => {
  // The same attributes, sent as a stats-get message: each counter its own GRP_STAT nest.
  const message = client.encode("stats-get", EXPECTED);
  const expected = reply(false);
  assert.deepEqual([...message.payload!.subarray(4)], [...expected.subarray(4)]);
});

test("ethtool stats-get: the formatter (monitor --raw, --tree) shows each counter's id and value", () => {
  const formatter = new NetlinkFormatter({ families: new Map([[0x20, "ethtool"]]) });
  const message = { type: 0x20, flags: 0, seq: 1, portid: 0, payload: reply(true) };
  assert.equal(
    formatter.format(message, { protocol: NETLINK_GENERIC }),
    "ethtool stats-get flags=0 seq=1 port=0 v1 header={devIndex=7 devName=\"eth0\"} src=0 grp=["
      + "{id=1 ssId=18 stat=[{id=0 value=12} {id=3 value=1099511627781} "
      + "{id=12 value=18446744073709551614} {id=21 value=0}]} "
      + "{id=3 ssId=20 histRx=[{histBktLow=0 histBktHi=64 histVal=9} "
      + "{histBktLow=65 histBktHi=127 histVal=8} {histBktLow=1519 histBktHi=0 histVal=7}] "
      + "histTx=[{histBktLow=0 histBktHi=64 histVal=6}] stat=[{id=0 value=3} {id=3 value=1}]}]",
  );
});
