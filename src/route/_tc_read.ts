// The kernel's qdisc, class and filter options read back as `tc -j` prints them (rates in
// bytes per second, bursts in bytes, handles as text), and their statistics.

import { TC_LINKLAYER_ETHERNET, TC_LINKLAYER_MASK } from "../constants.ts";
import { num, type TcMessage } from "./_tc_values.ts";
import { u32Selector } from "./tc_filter.ts";
import { formatHandle, parseFilterParent } from "./tc_handle.ts";
import { calcXmitsize, hostPsched } from "./tc_units.ts";

/** Statistics as `tc -s -j` prints them. */
export interface TcStats {
  bytes: number;
  packets: number;
  drops: number;
  overlimits: number;
  requeues: number;
  backlog: number;
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
        out.default = `0x${num(init.defcls).toString(16)}`;
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

export function filterOptionsOut(
  kind: string,
  handle: number,
  o: TcMessage | undefined,
): TcMessage {
  if (kind !== "u32" || o === undefined || o instanceof Uint8Array) return {};
  const out: TcMessage = {};
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
      off: k.off,
    }));
  }
  for (const [bit, name] of CLS_FLAGS) if (num(o.flags) & bit) out[name] = true;
  return out;
}
