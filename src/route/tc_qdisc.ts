/**
 * Qdiscs and classes as `tc qdisc|class add` writes them: the parameters of each kind (htb, tbf,
 * the fifos, fq_codel, prio, netem, ingress and clsact; htb classes) turned into the TCA_OPTIONS
 * tc sends, with rate tables, buffers and limits computed as tc computes them. Pure: the
 * {@linkcode TrafficControl} client sends what these build.
 *
 * @module
 */

import { shown } from "../_options.ts";
import { checkQdiscKeys } from "./_tc_keys.ts";
import {
  boolean,
  defined,
  field,
  integer,
  nameSuggestion,
  type TcMessage,
  u32Bytes,
  UINT32_MAX,
} from "./_tc_values.ts";
import type { TcHandle } from "./tc_handle.ts";
import {
  calcRtable,
  calcXmittime,
  hostPsched,
  type LinkLayer,
  parseRate,
  parseSize,
  parseTime,
  type Psched,
} from "./tc_units.ts";

/** A rate: text as `tc` takes it ("10mbit", "1gbit", "100kbps") or bytes per second. */
export type Rate = string | number;
/** A size: text as `tc` takes it ("1500b", "10kb", "1mb") or bytes. */
export type Size = string | number;
/** A time: text as `tc` takes it ("50ms", "1s", "100us") or microseconds. */
export type Time = string | number;
/** A network device: its name or its index. */
export type Device = string | number;

/** Where a qdisc goes: a device and a parent ("root" when absent), and its own handle. */
export interface QdiscPlace {
  /** The device. */
  dev: Device;
  /** "root" (the default), a class ("1:10"), or a number. */
  parent?: TcHandle;
  /** The qdisc's handle, "1:" (the kernel picks one when absent). */
  handle?: TcHandle;
}

/** htb qdisc parameters (`tc qdisc add ... htb default 20 r2q 10`). */
export interface HtbQdiscParams {
  /** The qdisc kind. */
  kind: "htb";
  /**
   * Class minor that unclassified traffic goes to: hexadecimal text as tc reads it ("20" or
   * "0x20" is class :20, up to "ffffffff"), or a number.
   */
  default?: string | number;
  /** Rate-to-quantum divisor (10 by default, as tc). */
  r2q?: number;
  /** Packets the direct queue holds. */
  directQlen?: number;
}

/** tbf parameters (`tc qdisc add ... tbf rate 1mbit burst 10kb latency 50ms`). */
export interface TbfParams {
  /** The qdisc kind. */
  kind: "tbf";
  /** Token rate ("1mbit"). */
  rate: Rate;
  /** Bucket size ("10kb"). */
  burst: Size;
  /** Queue size in bytes; give this or `latency`. */
  limit?: Size;
  /** Longest time a packet may wait; give this or `limit`. */
  latency?: Time;
  /** Peak rate, with `mtu`. */
  peakrate?: Rate;
  /** Needed with `peakrate` (minburst). */
  mtu?: Size;
  /** Smallest packet size accounted. */
  mpu?: Size;
  /** Bytes added to every packet's size. */
  overhead?: number;
  /** "ethernet" (the default) or "atm" (cells). */
  linklayer?: LinkLayer;
}

/** pfifo / bfifo / pfifo_head_drop parameters: a limit in packets (pfifo) or bytes (bfifo). */
export interface FifoParams {
  /** The qdisc kind. */
  kind: "pfifo" | "bfifo" | "pfifo_head_drop";
  /**
   * Packets (pfifo, pfifo_head_drop) or bytes (bfifo), up to 2^32 - 1; the kernel's default
   * (txqueuelen) when absent. Text is read as tc reads it, a size: "1gb", "64kb" ("1kb" is 1024
   * packets to a pfifo, as to tc).
   */
  limit?: number | string;
}

/** fq_codel parameters (`tc qdisc add ... fq_codel limit 10240 target 5ms ecn`). */
export interface FqCodelParams {
  /** The qdisc kind. */
  kind: "fq_codel";
  /** Packets the qdisc holds. */
  limit?: number;
  /** Number of flow queues. */
  flows?: number;
  /** Acceptable queue delay ("5ms"). */
  target?: Time;
  /** Width of the moving window ("100ms"). */
  interval?: Time;
  /** Bytes dequeued per flow per round. */
  quantum?: Size;
  /** Mark ECN-capable packets instead of dropping them. */
  ecn?: boolean;
  /** Delay above which packets are CE-marked. */
  ceThreshold?: Time;
  /** Bytes the qdisc may use. */
  memoryLimit?: Size;
  /** Packets dropped at once when over limit. */
  dropBatch?: number;
}

/** prio parameters (`tc qdisc add ... prio bands 3 priomap 1 2 2 2 ...`). */
export interface PrioParams {
  /** The qdisc kind. */
  kind: "prio";
  /** Number of bands (3 by default, as tc). */
  bands?: number;
  /** Band numbers for priorities 0, 1, ...; the rest keep tc's default map (1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1). */
  priomap?: number[];
}

/** netem parameters (`tc qdisc add ... netem delay 100ms 10ms loss 1%`); percentages 0..100. */
export interface NetemParams {
  /** The qdisc kind. */
  kind: "netem";
  /** Added delay ("100ms"). */
  delay?: Time;
  /** Random variation of the delay. */
  jitter?: Time;
  /** Percentage of packets lost. */
  loss?: number;
  /** Percentage duplicated. */
  duplicate?: number;
  /** Percentage corrupted. */
  corrupt?: number;
  /** Percentage sent at once (out of order); needs a delay. */
  reorder?: number;
  /** Reorder every gap-th packet (1 with reorder, as tc). */
  gap?: number;
  /** Packets (1000 by default, as tc). */
  limit?: number;
  /** Rate limit ("10mbit"). */
  rate?: Rate;
}

/** ingress and clsact: no parameters, their fixed place (ffff:fff1) and handle (ffff:). */
export interface IngressParams {
  /** The qdisc kind. */
  kind: "ingress" | "clsact";
}

/** A qdisc's kind with its parameters: what {@linkcode qdiscOptions} takes. */
export type QdiscParams =
  | HtbQdiscParams
  | TbfParams
  | FifoParams
  | FqCodelParams
  | PrioParams
  | NetemParams
  | IngressParams;

/** What {@linkcode TrafficControl.addQdisc} takes: a place and a kind with its parameters. */
export type QdiscSpec = QdiscPlace & QdiscParams;

/** htb class parameters (`tc class add ... htb rate 10mbit ceil 20mbit burst 15k prio 1`). */
export interface HtbClassSpec {
  /** The device. */
  dev: Device;
  /** The qdisc ("1:") or parent class ("1:1"). */
  parent: TcHandle;
  /** The class's id, "1:10". */
  classid: TcHandle;
  /** The class kind. */
  kind: "htb";
  /** Guaranteed rate ("10mbit"). */
  rate: Rate;
  /** Defaults to `rate`, as tc. */
  ceil?: Rate;
  /**
   * Defaults to mtu + rate / hz, as tc: hz is /proc/net/psched's clock rate, 1,000,000,000 on a
   * kernel with high-resolution timers, so the default is the mtu (1600 bytes) below 8gbit.
   */
  burst?: Size;
  /** Defaults to mtu + ceil / hz, as `burst` does. */
  cburst?: Size;
  /** Priority for spare bandwidth (0 first). */
  prio?: number;
  /** Bytes served per round (the kernel derives it from r2q when absent). */
  quantum?: number;
  /** Largest packet the rate table accounts for (1600 by default, as tc). */
  mtu?: number;
  /** Smallest packet size accounted. */
  mpu?: number;
  /** Bytes added to every packet's size. */
  overhead?: number;
  /** "ethernet" (the default) or "atm" (cells). */
  linklayer?: LinkLayer;
}

/** What {@linkcode TrafficControl.addClass} takes. */
export type ClassSpec = HtbClassSpec;

/**
 * The TCA_OPTIONS `tc qdisc add` sends for these parameters, as the tc codec's object (rate
 * tables, buffers in ticks, limits computed as tc computes them); undefined when the kind takes
 * none. Pure: {@linkcode TrafficControl.addQdisc} sends it.
 *
 * @example
 * ```ts
 * import { qdiscOptions } from "@netlink/netlink/route";
 * console.log(qdiscOptions({ kind: "htb", default: "20" })); // { init: { version: 3, rate2quantum: 10, defcls: 32 } }
 * ```
 */
export function qdiscOptions(
  spec: QdiscParams,
  clock: Psched = hostPsched(),
): TcMessage | undefined {
  checkQdiscKeys("qdiscOptions() spec", spec as QdiscSpec);
  return encodeQdiscOptions(spec, clock);
}

/**
 * {@linkcode qdiscOptions} of a spec whose keys were checked already (TrafficControl's methods
 * check them, in their own words): not exported from the package.
 */
export function encodeQdiscOptions(spec: QdiscParams, clock: Psched): TcMessage | undefined {
  switch (spec.kind) {
    case "htb": {
      const defcls = typeof spec.default === "string"
        ? hexU32(spec.default, "default")
        : integer(spec.default, "default");
      return defined({
        init: { version: 3, rate2quantum: integer(spec.r2q, "r2q") ?? 10, defcls: defcls ?? 0 },
        directQlen: integer(spec.directQlen, "directQlen"),
      });
    }
    case "tbf":
      return tbfIn(spec, clock);
    case "pfifo":
    case "bfifo":
    case "pfifo_head_drop":
      // tc reads every fifo's limit with get_size: "1gb" (bfifo's bytes), "1kb" (1024 packets).
      return spec.limit === undefined
        ? undefined
        : { limit: integer(field("limit", parseSize, spec.limit), "limit") };
    case "fq_codel":
      // In the order tc writes them.
      return defined({
        limit: integer(spec.limit, "limit"),
        flows: integer(spec.flows, "flows"),
        quantum: field("quantum", parseSize, spec.quantum),
        interval: field("interval", parseTime, spec.interval),
        target: field("target", parseTime, spec.target),
        ecn: spec.ecn === undefined ? undefined : boolean(spec.ecn, "ecn") ? 1 : 0,
        ceThreshold: field("ceThreshold", parseTime, spec.ceThreshold),
        memoryLimit: field("memoryLimit", parseSize, spec.memoryLimit),
        dropBatchSize: integer(spec.dropBatch, "dropBatch"),
      });
    case "prio": {
      const bands = integer(spec.bands, "bands") ?? 3;
      // As tc: the given bands replace the first entries of its default map.
      const map = Uint8Array.from([1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
      const given = spec.priomap ?? [];
      if (
        !Array.isArray(given) || given.length > 16
        || given.some((b) => !Number.isInteger(b) || b < 0 || b > 255)
      ) {
        throw new RangeError(
          `priomap: an array of at most 16 band numbers expected, got ${shown(given)}`,
        );
      }
      map.set(given);
      if (map.some((band) => band >= bands)) {
        throw new RangeError(`priomap: every band must be below bands (${bands})`);
      }
      return { bands, priomap: map };
    }
    case "netem":
      return netemIn(spec);
    case "ingress":
    case "clsact":
      return undefined;
    default: {
      const kind = (spec as { kind: unknown }).kind;
      const kinds = [
        ...["htb", "tbf", "pfifo", "bfifo", "pfifo_head_drop", "fq_codel", "prio", "netem"],
        ...["ingress", "clsact"],
      ];
      throw new TypeError(
        `qdisc kind ${shown(kind)} is not supported (${kinds.join(", ")})`
          + nameSuggestion(kind, kinds),
      );
    }
  }
}

function tbfIn(spec: TbfParams, clock: Psched): TcMessage {
  const rate = field("rate", parseRate, spec.rate);
  const burst = field("burst", parseSize, spec.burst);
  if (!rate) throw new RangeError("tbf: \"rate\" is required");
  if (!burst) throw new RangeError("tbf: \"burst\" is required");
  if ((spec.limit === undefined) === (spec.latency === undefined)) {
    throw new RangeError("tbf: give either \"limit\" or \"latency\"");
  }
  const peakrate = field("peakrate", parseRate, spec.peakrate) ?? 0;
  const mtu = field("mtu", parseSize, spec.mtu) ?? 0;
  if (peakrate && !mtu) throw new RangeError("tbf: \"mtu\" is required with \"peakrate\"");
  // tc_ratespec's mpu is a u16, as htb's is (tc's C cast cuts a larger one in silence).
  const mpu = integer(field("mpu", parseSize, spec.mpu), "mpu", 0xffff) ?? 0;
  const overhead = integer(spec.overhead, "overhead", 0xffff) ?? 0;
  let limit = field("limit", parseSize, spec.limit);
  if (limit === undefined) {
    const latency = field("latency", parseTime, spec.latency)!;
    limit = rate * latency / 1e6 + burst;
    if (peakrate) limit = Math.min(limit, peakrate * latency / 1e6 + mtu);
    limit = Math.trunc(limit);
    // As tc refuses it ("limit" too large): tc_tbf_qopt's limit is a u32.
    if (limit > UINT32_MAX) throw new RangeError("tbf: \"limit\" too large (latency and rate)");
  }
  integer(limit, "limit");
  const tables = { mtu, mpu, overhead, linklayer: spec.linklayer, clock };
  const r = rateTable(rate, tables);
  const buffer = calcXmittime(rate, burst, clock);
  if (buffer === UINT32_MAX) throw new RangeError("tbf: burst out of range");
  const parms: TcMessage = { rate: r.spec, peakrate: {}, limit, buffer, mtu: 0 };
  // Attributes in the order tc writes them.
  const options: TcMessage = { parms };
  if (burst <= UINT32_MAX) options.burst = burst;
  if (rate > UINT32_MAX) options.rate64 = BigInt(rate);
  options.rtab = r.table;
  if (peakrate) {
    const p = rateTable(peakrate, tables);
    parms.peakrate = p.spec;
    parms.mtu = calcXmittime(Math.min(peakrate, UINT32_MAX), mtu, clock);
    if (peakrate > UINT32_MAX) options.prate64 = BigInt(peakrate);
    options.pburst = mtu;
    options.ptab = p.table;
  }
  return options;
}

/** What a rate table is computed from besides the rate (tc's mtu, mpu, overhead, link layer). */
interface TableOptions {
  mtu: number;
  mpu: number;
  overhead: number;
  linklayer?: LinkLayer;
  clock: Psched;
}

/**
 * A tc_ratespec and its rate table for `rate` bytes/s, as tc_calc_rtable fills them (a rate past
 * 32 bits is capped in the struct; the caller sends the 64-bit attribute).
 */
function rateTable(rate: number, options: TableOptions): { spec: TcMessage; table: Uint8Array } {
  const capped = Math.min(rate, UINT32_MAX);
  const r = calcRtable({ ...options, rate: capped });
  return {
    spec: {
      cellLog: r.cellLog,
      cellAlign: r.cellAlign,
      linklayer: r.linklayer,
      rate: capped,
      mpu: options.mpu,
      overhead: options.overhead,
    },
    table: u32Bytes(r.table),
  };
}

/**
 * The TCA_OPTIONS `tc class add` sends for these parameters (htb: tc_htb_opt with buffers in
 * ticks, rate and ceil tables), as the tc codec's object. Pure.
 *
 * @example
 * ```ts
 * import { classOptions } from "@netlink/netlink/route";
 * const options = classOptions({ dev: 1, parent: "1:", classid: "1:10", kind: "htb", rate: "1mbit" });
 * console.log((options.parms as { rate: { rate: number } }).rate.rate); // 125000
 * ```
 */
export function classOptions(spec: ClassSpec, clock: Psched = hostPsched()): TcMessage {
  if (spec.kind !== "htb") {
    throw new TypeError(`class kind ${shown(spec.kind)} is not supported (htb)`);
  }
  const rate = field("rate", parseRate, spec.rate);
  if (!rate) throw new RangeError("htb class: \"rate\" is required");
  const ceil = field("ceil", parseRate, spec.ceil) ?? rate;
  const mtu = integer(spec.mtu, "mtu") ?? 1600;
  const mpu = integer(spec.mpu, "mpu", 0xffff) ?? 0;
  const overhead = integer(spec.overhead, "overhead", 0xffff) ?? 0;
  const { hz } = clock;
  const burst = field("burst", parseSize, spec.burst) ?? Math.trunc(rate / hz + mtu);
  const cburst = field("cburst", parseSize, spec.cburst) ?? Math.trunc(ceil / hz + mtu);
  const tables = { mtu, mpu, overhead, linklayer: spec.linklayer, clock };
  const rtab = rateTable(rate, tables);
  const ctab = rateTable(ceil, tables);
  const buffer = calcXmittime(rate, burst, clock);
  if (buffer === UINT32_MAX) throw new RangeError("htb class: burst out of range");
  // The ceiling's buffer too: it was sent saturated (UINT32_MAX ticks) in silence.
  const cbuffer = calcXmittime(ceil, cburst, clock);
  if (cbuffer === UINT32_MAX) throw new RangeError("htb class: cburst out of range");
  // Attributes in the order tc writes them.
  const options: TcMessage = {};
  if (rate > UINT32_MAX) options.rate64 = BigInt(rate);
  if (ceil > UINT32_MAX) options.ceil64 = BigInt(ceil);
  Object.assign(options, {
    parms: {
      rate: rtab.spec,
      ceil: ctab.spec,
      buffer,
      cbuffer,
      quantum: integer(spec.quantum, "quantum") ?? 0,
      prio: integer(spec.prio, "prio") ?? 0,
    },
    rtab: rtab.table,
    ctab: ctab.table,
  });
  return options;
}

/** A percentage 0..100 scaled to the kernel's u32 probability, as tc's set_percent. */
function probability(value: number | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !(value >= 0 && value <= 100)) {
    throw new RangeError(`${what}: ${shown(value)} is not a percentage 0..100`);
  }
  return Math.round(value / 100 * UINT32_MAX);
}

function netemIn(spec: NetemParams): TcMessage {
  const delay = field("delay", parseTime, spec.delay);
  const jitter = field("jitter", parseTime, spec.jitter);
  const reorder = probability(spec.reorder, "reorder");
  if (reorder && !delay) throw new RangeError("netem: reorder needs a delay");
  const rate = field("rate", parseRate, spec.rate);
  return defined({
    latency: 0,
    limit: integer(spec.limit, "limit") ?? 1000,
    headerLoss: probability(spec.loss, "loss") ?? 0,
    gap: integer(spec.gap, "gap") ?? (reorder ? 1 : 0),
    duplicate: probability(spec.duplicate, "duplicate") ?? 0,
    jitter: 0,
    latency64: delay === undefined ? undefined : BigInt(delay) * 1000n,
    jitter64: jitter === undefined ? undefined : BigInt(jitter) * 1000n,
    reorder: reorder === undefined ? undefined : { probability: reorder, correlation: 0 },
    corrupt: spec.corrupt === undefined
      ? undefined
      : { probability: probability(spec.corrupt, "corrupt"), correlation: 0 },
    rate64: rate !== undefined && rate > UINT32_MAX ? BigInt(rate) : undefined,
    rate: rate === undefined ? undefined : { rate: Math.min(rate, UINT32_MAX) },
  });
}

/** `text` as tc's get_u32(..., 16) reads it (hex digits, "0x" optional), up to 0xffffffff. */
function hexU32(text: string, what: string): number {
  const value = /^(0x)?[0-9a-f]{1,8}$/i.test(text) ? parseInt(text, 16) : NaN;
  if (Number.isNaN(value)) {
    throw new RangeError(
      `${what}: ${shown(text)} is not a hexadecimal u32, as tc reads it ("20" is class :20)`,
    );
  }
  return value;
}
