/**
 * A route's metrics (RTA_METRICS) as `ip route add ... mtu 1400 advmss 1360 hoplimit 16` takes
 * them and `ip -j route show` prints them: times in milliseconds, the congestion control by
 * name, locked metrics by name. Pure: the route client sends and reads what these build.
 *
 * @module
 */

import {
  RTAX_ADVMSS,
  RTAX_CC_ALGO,
  RTAX_CWND,
  RTAX_FASTOPEN_NO_COOKIE,
  RTAX_FEATURE_ECN,
  RTAX_HOPLIMIT,
  RTAX_INITCWND,
  RTAX_INITRWND,
  RTAX_MTU,
  RTAX_QUICKACK,
  RTAX_REORDERING,
  RTAX_RTO_MIN,
  RTAX_RTT,
  RTAX_RTTVAR,
  RTAX_SSTHRESH,
  RTAX_WINDOW,
} from "../_constants.ts";
import { shown } from "../_options.ts";
import { integer } from "./route.ts";

/**
 * A route's metrics, named as `ip route add` takes them (`rto_min` as `rtoMin`,
 * `fastopen_no_cookie` as `fastopenNoCookie`, `features ecn` as `ecn`).
 *
 * @example
 * ```ts
 * import type { RouteMetrics } from "@netlink/netlink/route";
 * // ip route add 10.7.0.0/16 via 10.0.0.2 mtu lock 1400 advmss 1360 rtt 30ms congctl reno
 * const metrics: RouteMetrics = { mtu: 1400, advmss: 1360, rtt: 30, congctl: "reno", lock: ["mtu"] };
 * ```
 */
export interface RouteMetrics {
  /** Path MTU (`mtu`). */
  mtu?: number;
  /** Largest TCP window to advertise, in bytes (`window`). */
  window?: number;
  /** Initial RTT estimate, in milliseconds (`rtt 30ms`; the kernel keeps it times 8). */
  rtt?: number;
  /** Initial RTT variance, in milliseconds (`rttvar`; the kernel keeps it times 4). */
  rttvar?: number;
  /** Initial slow start threshold, in packets (`ssthresh`). */
  ssthresh?: number;
  /** Congestion window clamp, in packets (`cwnd`, with `lock`). */
  cwnd?: number;
  /** TCP MSS to advertise (`advmss`). */
  advmss?: number;
  /** Packet reordering tolerated (`reordering`). */
  reordering?: number;
  /** Hop limit / TTL of packets sent (`hoplimit`). */
  hoplimit?: number;
  /** Initial congestion window, in packets (`initcwnd`). */
  initcwnd?: number;
  /** Initial receive window, in packets (`initrwnd`). */
  initrwnd?: number;
  /** Minimal TCP retransmission timeout, in milliseconds (`rto_min`). */
  rtoMin?: number;
  /** TCP quick ack mode (`quickack 1`). */
  quickack?: boolean;
  /** TCP fast open without a cookie (`fastopen_no_cookie 1`). */
  fastopenNoCookie?: boolean;
  /** The congestion control algorithm for the route ("reno", "bbr": `congctl`). */
  congctl?: string;
  /** ECN for TCP over the route (`features ecn`). */
  ecn?: boolean;
  /** RTAX_FEATURES bits other than ECN's, as a number (ip prints them in hex). */
  features?: number;
  /** The metrics locked: TCP may not change them ("mtu": `mtu lock 1400`). */
  lock?: readonly MetricName[];
}

/** The names of the metrics a route may lock. */
export type MetricName = Exclude<keyof RouteMetrics, "ecn" | "features" | "lock">;

/** Each metric's RTAX number and its name in the rt-route codec's metrics nest. */
const METRICS: Record<MetricName, readonly [number, string]> = {
  mtu: [RTAX_MTU, "mtu"],
  window: [RTAX_WINDOW, "window"],
  rtt: [RTAX_RTT, "rtt"],
  rttvar: [RTAX_RTTVAR, "rttvar"],
  ssthresh: [RTAX_SSTHRESH, "ssthresh"],
  cwnd: [RTAX_CWND, "cwnd"],
  advmss: [RTAX_ADVMSS, "advmss"],
  reordering: [RTAX_REORDERING, "reordering"],
  hoplimit: [RTAX_HOPLIMIT, "hoplimit"],
  initcwnd: [RTAX_INITCWND, "initcwnd"],
  initrwnd: [RTAX_INITRWND, "initrwnd"],
  rtoMin: [RTAX_RTO_MIN, "rtoMin"],
  quickack: [RTAX_QUICKACK, "quickack"],
  fastopenNoCookie: [RTAX_FASTOPEN_NO_COOKIE, "fastopenNoCookie"],
  congctl: [RTAX_CC_ALGO, "ccAlgo"],
};
const NAMES = Object.keys(METRICS) as MetricName[];
/** Every key of RouteMetrics, for the unknown-key check. */
export const ROUTE_METRICS_KEYS: readonly string[] = [...NAMES, "ecn", "features", "lock"];
/** What the kernel keeps of a time in milliseconds (iproute2: rtt * 8, rttvar * 4). */
const SCALE: Partial<Record<MetricName, number>> = { rtt: 8, rttvar: 4, rtoMin: 1 };
const UINT32_MAX = 0xffff_ffff;

/** The typed layer's metrics nest as {@linkcode RouteMetrics}; undefined when it has none. */
export function metricsOut(nest: object | undefined): RouteMetrics | undefined {
  if (nest === undefined) return undefined;
  const raw = nest as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const name of NAMES) {
    const value = raw[METRICS[name][1]];
    if (value === undefined) continue;
    // ip prints no hoplimit of -1 (the default, as IPv6 routes may carry it).
    if (name === "hoplimit" && value === UINT32_MAX) continue;
    if (name === "congctl") out.congctl = value;
    else if (name === "quickack" || name === "fastopenNoCookie") out[name] = value !== 0;
    else out[name] = (value as number) / (SCALE[name] ?? 1);
  }
  const features = raw.features as number | undefined;
  if (features !== undefined) {
    if (features & RTAX_FEATURE_ECN) out.ecn = true;
    const rest = (features & ~RTAX_FEATURE_ECN) >>> 0;
    if (rest) out.features = rest;
  }
  const lock = (raw.lock as number | undefined) ?? 0;
  if (lock) out.lock = NAMES.filter((name) => lock & (1 << METRICS[name][0]));
  return Object.keys(out).length ? out as RouteMetrics : undefined;
}

/**
 * `metrics` as the rt-route codec's metrics nest, as `ip route add` sends them; a RangeError
 * naming the field for a value out of range (a TypeError for no integer), before any request.
 */
export function metricsIn(metrics: RouteMetrics, field = "metrics"): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of NAMES) {
    const value = metrics[name];
    if (value === undefined) continue;
    const [, key] = METRICS[name];
    if (name === "congctl") {
      if (typeof value !== "string" || value === "" || value.length > 15) {
        throw new TypeError(`${field}.congctl: ${shown(value)} is not an algorithm's name`);
      }
      out[key] = value;
    } else if (name === "quickack" || name === "fastopenNoCookie") {
      if (typeof value !== "boolean") {
        throw new TypeError(`${field}.${name}: ${shown(value)} is not a boolean`);
      }
      out[key] = value ? 1 : 0;
    } else {
      const scale = SCALE[name] ?? 1;
      const max = name === "hoplimit" ? 255 : Math.floor(UINT32_MAX / scale);
      out[key] = integer(value, `${field}.${name}`, max) * scale;
    }
  }
  const { ecn, features, lock } = metrics;
  if (ecn !== undefined && typeof ecn !== "boolean") {
    throw new TypeError(`${field}.ecn: ${shown(ecn)} is not a boolean`);
  }
  if (features !== undefined) integer(features, `${field}.features`, UINT32_MAX);

  if (ecn || features) out.features = ((features ?? 0) | (ecn ? RTAX_FEATURE_ECN : 0)) >>> 0;
  if (lock !== undefined) {
    if (!Array.isArray(lock)) throw new TypeError(`${field}.lock: ${shown(lock)} is not an array`);
    let bits = 0;
    for (const name of lock) {
      if (!Object.hasOwn(METRICS, name)) {
        throw new TypeError(
          `${field}.lock: ${shown(name)} is not a metric; the metrics are ${NAMES.join(", ")}`,
        );
      }
      bits |= 1 << METRICS[name as MetricName][0];
    }
    if (bits) out.lock = bits >>> 0;
  }
  return out;
}
