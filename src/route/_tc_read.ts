// The kernel's qdisc, class and filter options read back as `tc -j` prints them (rates in
// bytes per second, bursts in bytes, handles as text), and their statistics.

import { TC_LINKLAYER_ETHERNET, TC_LINKLAYER_MASK } from "../_constants.ts";
import { parseIP } from "../ip.ts";
import { num, type TcMessage } from "./_tc_values.ts";
import { u32Selector } from "./tc_filter.ts";
import { formatHandle, parseFilterParent } from "./tc_handle.ts";
import { calcXmitsize, hostPsched } from "./tc_units.ts";

/** Statistics as `tc -s -j` prints them. */
export interface TcStats {
  /** Bytes sent. */
  bytes: number;
  /** Packets sent. */
  packets: number;
  /** Packets dropped. */
  drops: number;
  /** Times over the limit. */
  overlimits: number;
  /** Packets requeued. */
  requeues: number;
  /** Bytes queued. */
  backlog: number;
  /** Packets queued. */
  qlen: number;
}

export function statsOut(m: TcMessage): TcStats {
  const stats2 = (m.stats2 ?? {}) as TcMessage;
  const basic = (stats2.basic ?? {}) as TcMessage;
  const queue = (stats2.queue ?? {}) as TcMessage;
  return {
    bytes: num(basic.bytes),
    packets: num(basic.packets),
    drops: num(queue.drops),
    overlimits: num(queue.overlimits),
    requeues: num(queue.requeues),
    backlog: num(queue.backlog),
    qlen: num(queue.qlen),
  };
}

function linklayerOut(ratespec: TcMessage, out: TcMessage): void {
  const linklayer = num(ratespec.linklayer) & TC_LINKLAYER_MASK;
  if (linklayer > TC_LINKLAYER_ETHERNET) out.linklayer = "atm";
}

export function qdiscOptionsOut(kind: string, o: TcMessage | undefined): TcMessage {
  if (o === undefined || o instanceof Uint8Array) return {};
  switch (kind) {
    case "htb": {
      const init = o.init as TcMessage | undefined;
      const out: TcMessage = {};
      if (init) {
        out.r2q = init.rate2quantum;
        // C's %#llx, as tc prints it: no 0x before a zero.
        const defcls = num(init.defcls);
        out.default = defcls ? `0x${defcls.toString(16)}` : "0";
        out.direct_packets_stat = init.directPkts;
      }
      if (o.directQlen !== undefined) out.direct_qlen = o.directQlen;
      if (o.offload) out.offload = null;
      return out;
    }
    case "tbf": {
      const parms = o.parms as TcMessage | undefined;
      if (!parms) return {};
      const rateSpec = parms.rate as TcMessage;
      const rate = o.rate64 !== undefined ? num(o.rate64) : num(rateSpec.rate);
      const peakSpec = parms.peakrate as TcMessage;
      const peakrate = o.prate64 !== undefined ? num(o.prate64) : num(peakSpec.rate);
      const clock = hostPsched();
      const out: TcMessage = {
        rate,
        burst: calcXmitsize(rate, num(parms.buffer)),
      };
      if (peakrate) {
        out.peakrate = peakrate;
        if (num(parms.mtu) || num(peakSpec.mpu)) {
          out.minburst = calcXmitsize(peakrate, num(parms.mtu));
        }
      }
      let latency = 1e6 * (num(parms.limit) / rate) - num(parms.buffer) / clock.tickInUsec;
      if (peakrate) {
        const lat2 = 1e6 * (num(parms.limit) / peakrate) - num(parms.mtu) / clock.tickInUsec;
        if (lat2 > latency) latency = lat2;
      }
      if (latency >= 0) out.lat = Math.trunc(latency);
      else out.limit = num(parms.limit);
      if (num(rateSpec.overhead)) out.overhead = num(rateSpec.overhead);
      linklayerOut(rateSpec, out);
      return out;
    }
    case "pfifo":
    case "bfifo":
    case "pfifo_head_drop":
      return o.limit === undefined ? {} : { limit: o.limit };
    case "fq_codel": {
      const out: TcMessage = {};
      const names = [
        ["limit", "limit"],
        ["flows", "flows"],
        ["quantum", "quantum"],
        ["target", "target"],
        ["ceThreshold", "ce_threshold"],
        ["interval", "interval"],
        ["memoryLimit", "memory_limit"],
      ] as const;
      for (const [key, name] of names) if (o[key] !== undefined) out[name] = o[key];
      if (num(o.ceThresholdSelector) || num(o.ceThresholdMask)) {
        out.ce_threshold_selector = num(o.ceThresholdSelector);
        out.ce_threshold_mask = num(o.ceThresholdMask);
      }
      if (num(o.ecn)) out.ecn = true;
      if (num(o.dropBatchSize)) out.drop_batch = num(o.dropBatchSize);
      return out;
    }
    case "prio":
    case "pfifo_fast":
      // tc shows pfifo_fast with prio's printer: the same tc_prio_qopt.
      return {
        bands: o.bands,
        priomap: o.priomap instanceof Uint8Array ? [...o.priomap] : [],
        multiqueue: false,
      };
    default:
      return {};
  }
}

export function classOutOptions(kind: string, o: TcMessage | undefined): TcMessage {
  if (kind !== "htb" || o === undefined || !o.parms) return {};
  const parms = o.parms as TcMessage;
  const rateSpec = parms.rate as TcMessage;
  const ceilSpec = parms.ceil as TcMessage;
  const rate = o.rate64 !== undefined ? num(o.rate64) : num(rateSpec.rate);
  const ceil = o.ceil64 !== undefined ? num(o.ceil64) : num(ceilSpec.rate);
  const out: TcMessage = {};
  if (!num(parms.level)) out.prio = num(parms.prio);
  out.rate = rate;
  if (num(rateSpec.overhead)) out.overhead = num(rateSpec.overhead);
  out.ceil = ceil;
  linklayerOut(rateSpec, out);
  out.burst = calcXmitsize(rate, num(parms.buffer));
  out.cburst = calcXmitsize(ceil, num(parms.cbuffer));
  out.quantum = num(parms.quantum);
  out.level = num(parms.level);
  return out;
}

export function filterParentOut(parent: number): string {
  if (parent === parseFilterParent("ingress")) return "ingress";
  if (parent === parseFilterParent("egress")) return "egress";
  return formatHandle(parent);
}

/** A u32 handle as tc prints it: "800:", "800::800", "800:1:800". */
function u32HandleOut(handle: number): string {
  const htid = handle >>> 20;
  const hash = (handle >>> 12) & 0xff;
  const node = handle & 0xfff;
  let text = htid ? `${htid.toString(16)}:` : "";
  if (hash || node) {
    if (hash) text += hash.toString(16);
    if (node) text += `:${node.toString(16)}`;
  }
  return text;
}

export function filterHandleOut(kind: string, handle: number): string {
  return kind === "u32" ? u32HandleOut(handle) : `0x${handle.toString(16)}`;
}

/** TCA_CLS_FLAGS_* bits as tc -j names them. */
const CLS_FLAGS: ReadonlyArray<readonly [number, string]> = [
  [1, "skip_hw"],
  [2, "skip_sw"],
  [4, "in_hw"],
  [8, "not_in_hw"],
];

/** Control actions as tc's action_n2a names them. */
const CONTROL_NAMES: Record<number, string> = {
  [-1]: "continue",
  0: "pass",
  1: "reclassify",
  2: "drop",
  3: "pipe",
  4: "stolen",
  8: "trap",
};

function controlOut(code: number): { type: string } {
  return { type: CONTROL_NAMES[code] ?? String(code) };
}

/** gact's random verdicts (TCA_GACT_PROB's ptype) as tc names them. */
const RANDOM_TYPES: Record<number, string> = { 0: "none", 1: "netrand", 2: "determ" };

/** mirred's eaction (TCA_EGRESS_REDIR...): [action, direction]. */
const MIRRED_ACTIONS: Record<number, [string, string]> = {
  1: ["redirect", "egress"],
  2: ["mirror", "egress"],
  3: ["redirect", "ingress"],
  4: ["mirror", "ingress"],
};

/** A filter's actions as `tc -j` lists them (gact and mirred in full, others by kind). */
function actionsOut(act: unknown, names: Map<number, string>): TcMessage[] {
  if (!Array.isArray(act)) return [];
  return act.map((a: TcMessage, i) => {
    const out: TcMessage = { order: i + 1, kind: a.kind };
    const options = (a.options ?? {}) as TcMessage;
    if (a.kind === "gact" && options.parms) {
      const parms = options.parms as TcMessage;
      out.control_action = controlOut(num(parms.action));
      const prob = options.prob as TcMessage | undefined;
      out.prob = {
        random_type: RANDOM_TYPES[num(prob?.ptype)] ?? num(prob?.ptype),
        control_action: controlOut(num(prob?.paction)),
        val: num(prob?.pval),
      };
      Object.assign(out, { index: parms.index, ref: parms.refcnt, bind: parms.bindcnt });
    } else if (a.kind === "mirred" && options.parms instanceof Uint8Array) {
      // struct tc_mirred: tc_gen (index, capab, action, refcnt, bindcnt), eaction, ifindex.
      const bytes = options.parms;
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const [action, direction] = MIRRED_ACTIONS[view.getInt32(20, true)] ?? ["unknown", "unknown"];
      const ifindex = view.getUint32(24, true);
      Object.assign(out, {
        mirred_action: action,
        direction,
        to_dev: names.get(ifindex) ?? String(ifindex),
        control_action: controlOut(view.getInt32(8, true)),
        index: view.getUint32(0, true),
        ref: view.getInt32(12, true),
        bind: view.getInt32(16, true),
      });
    }
    return out;
  });
}

/** IP protocols by the names flower prints. */
const IP_PROTO_NAMES: Record<number, string> = {
  1: "icmp",
  6: "tcp",
  17: "udp",
  58: "icmpv6",
  132: "sctp",
};

/** The prefix length of a contiguous mask; undefined when the mask has holes. */
function maskLength(mask: Uint8Array): number | undefined {
  const bits = mask.length * 8;
  const set = (bit: number) => (mask[bit >> 3] & (0x80 >> (bit & 7))) !== 0;
  let length = 0;
  while (length < bits && set(length)) length++;
  for (let bit = length; bit < bits; bit++) if (set(bit)) return undefined;
  return length;
}

/**
 * An address with its mask as flower prints it: the address alone when the mask is full. The tc
 * codec reads both as text (their display hints); the mask's bits count its prefix length.
 */
function maskedAddress(address: string, mask: string | undefined): string {
  if (mask === undefined) return address;
  const bytes = parseIP(mask);
  const length = maskLength(bytes);
  if (length === bytes.length * 8) return address;
  return length === undefined ? `${address}/${mask}` : `${address}/${length}`;
}

/** flower's keys as `tc -j` prints them. */
function flowerKeysOut(o: TcMessage): TcMessage {
  const keys: TcMessage = {};
  for (const [attr, name] of [["keyEthDst", "dst_mac"], ["keyEthSrc", "src_mac"]] as const) {
    // Text, as the tc codec reads a MAC (its display hint).
    if (typeof o[attr] !== "string") continue;
    const mask = o[`${attr}Mask`] as string | undefined;
    const full = mask === undefined || /^ff(:ff)*$/.test(mask);
    keys[name] = full ? o[attr] : `${o[attr]}/${mask}`;
  }
  if (o.keyEthType !== undefined) {
    const type = num(o.keyEthType);
    keys.eth_type = type === 0x0800
      ? "ipv4"
      : type === 0x86dd
      ? "ipv6"
      : type === 0x0806
      ? "arp"
      : `${type.toString(16).padStart(4, "0")}`;
  }
  if (o.keyIpProto !== undefined) {
    keys.ip_proto = IP_PROTO_NAMES[num(o.keyIpProto)] ?? `${num(o.keyIpProto)}`;
  }
  for (const [dir, name] of [["Dst", "dst_ip"], ["Src", "src_ip"]] as const) {
    if (o[`keyIpv4${dir}`] !== undefined) {
      const mask = o[`keyIpv4${dir}Mask`];
      keys[name] = maskedAddress(o[`keyIpv4${dir}`] as string, mask as string | undefined);
    } else if (typeof o[`keyIpv6${dir}`] === "string") {
      keys[name] = maskedAddress(
        o[`keyIpv6${dir}`] as string,
        o[`keyIpv6${dir}Mask`] as string | undefined,
      );
    }
  }
  for (const l4 of ["Tcp", "Udp", "Sctp"]) {
    for (const [dir, name] of [["Dst", "dst_port"], ["Src", "src_port"]] as const) {
      if (o[`key${l4}${dir}`] !== undefined) keys[name] = num(o[`key${l4}${dir}`]);
    }
  }
  return keys;
}

/**
 * A filter's options as `tc -j filter show` prints them: u32, matchall, basic and flower, with
 * their actions (`names`: link names by index, for mirred's device).
 */
export function filterOptionsOut(
  kind: string,
  handle: number,
  o: TcMessage | undefined,
  names: Map<number, string> = new Map(),
): TcMessage {
  if (o === undefined || o instanceof Uint8Array) return {};
  const out: TcMessage = {};
  switch (kind) {
    case "u32":
      if (handle) out.fh = u32HandleOut(handle);
      if (handle & 0xfff) out.order = handle & 0xfff;
      if (o.divisor !== undefined) out.ht_divisor = o.divisor;
      if (o.hash !== undefined) {
        const hash = num(o.hash);
        out.key_ht = (hash >>> 20).toString(16);
        out.bkt = ((hash >>> 12) & 0xff).toString(16);
      }
      if (o.classid !== undefined) out.flowid = formatHandle(num(o.classid));
      if (o.sel instanceof Uint8Array) {
        const { flags, keys } = u32Selector(o.sel);
        out.terminal = (flags & 1) !== 0; // TC_U32_TERMINAL
        out.match = keys.map((k) => ({
          value: k.value.toString(16),
          mask: k.mask.toString(16),
          offmask: k.nexthdr ? "nexthdr+" : "",
          off: k.off,
        }));
      }
      break;
    case "matchall":
      if (handle) out.handle = handle;
      if (o.classid !== undefined) out.flowid = formatHandle(num(o.classid));
      break;
    case "basic":
      if (handle) out.handle = handle.toString(16);
      if (o.classid !== undefined) out.flowid = formatHandle(num(o.classid));
      break;
    case "flower":
      if (handle) out.handle = handle;
      if (o.classid !== undefined) out.classid = formatHandle(num(o.classid));
      out.keys = flowerKeysOut(o);
      break;
    default:
      return {};
  }
  for (const [bit, name] of CLS_FLAGS) if (num(o.flags) & bit) out[name] = true;
  if (o.act !== undefined) out.actions = actionsOut(o.act, names);
  return out;
}
