/**
 * Traffic-control values as `tc` writes them: rates ("10mbit"), sizes ("1500b", "10kb"), times
 * ("50ms"), and the rate tables and transmit times `tc` computes for htb and tbf. Pure functions
 * that follow iproute2 (lib/utils_math.c get_rate64/get_size64, lib/utils.c get_time,
 * lib/json_print.c print_rate, lib/json_print_math.c sprint_size, tc/tc_core.c) so a value
 * written here reads back as `tc` prints it.
 *
 * @module
 */

import { readTextFile } from "../../ffi/mod.ts";
import { TC_LINKLAYER_ATM, TC_LINKLAYER_ETHERNET, TC_LINKLAYER_MASK } from "../_constants.ts";
import { checkNumberArgument, shown } from "../_options.ts";

/** Microseconds per second: `tc`'s TIME_UNITS_PER_SEC, the unit of its u32 times. */
const USEC_PER_SEC = 1_000_000;

/** A leading decimal number as strtod reads it, and the rest. */
function splitNumber(text: string, what: string): [number, string] {
  if (typeof text !== "string") {
    throw new TypeError(`${what}: ${shown(text)} is neither a number nor a string with a unit`);
  }
  const match = /^\s*(\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(text);
  if (!match) throw new RangeError(`${what}: ${shown(text)} is not a number with a unit`);
  return [Number(match[0]), text.slice(match[0].length)];
}

/** Rate units and their bits per second, as iproute2's table (case-insensitive). */
const RATE_UNITS: ReadonlyArray<readonly [string, number]> = [
  ["bit", 1],
  ["kibit", 1024],
  ["kbit", 1000],
  ["mibit", 1024 ** 2],
  ["mbit", 1e6],
  ["gibit", 1024 ** 3],
  ["gbit", 1e9],
  ["tibit", 1024 ** 4],
  ["tbit", 1e12],
  ["bps", 8],
  ["kibps", 8 * 1024],
  ["kbps", 8000],
  ["mibps", 8 * 1024 ** 2],
  ["mbps", 8e6],
  ["gibps", 8 * 1024 ** 3],
  ["gbps", 8e9],
  ["tibps", 8 * 1024 ** 4],
  ["tbps", 8e12],
];

/**
 * Parses a rate as `tc` does ("10mbit", "1.5Gbit", "100kbps", "8000": bits per second without a
 * unit) into bytes per second. Units are case-insensitive; "bps" is bytes per second, as in tc.
 * A number is taken as bytes per second already.
 *
 * @example
 * ```ts
 * import { parseRate } from "@netlink/netlink/route";
 * console.log(parseRate("10mbit")); // 1250000
 * ```
 */
export function parseRate(rate: string | number): number {
  if (typeof rate === "number") return checkedInteger(rate, "rate");
  const [value, unit] = splitNumber(rate, "rate");
  let bits = value;
  if (unit !== "") {
    const scale = RATE_UNITS.find(([name]) => name === unit.toLowerCase())?.[1];
    if (scale === undefined) {
      throw new RangeError(
        `rate: unknown unit in ${shown(rate)} (bit, kbit, mbit, gbit, bps, ...)`,
      );
    }
    bits *= scale;
  }
  return inRange(Math.trunc(bits / 8), rate, "rate");
}

/**
 * Formats bytes per second as `tc` prints a rate: bits per second with the largest
 * decimal unit (K, M, G, T) that divides it or that it exceeds 1000 times ("10Mbit", "1500Kbit").
 * Throws TypeError for what is no whole number (a fraction, NaN, an infinity, a string),
 * RangeError for a negative.
 *
 * @example
 * ```ts
 * import { formatRate } from "@netlink/netlink/route";
 * console.log(formatRate(1250000)); // "10Mbit"
 * ```
 */
export function formatRate(bytesPerSecond: number): string {
  checkNumberArgument("formatRate(): bytesPerSecond", bytesPerSecond);
  const units = ["", "K", "M", "G", "T"];
  let rate = bytesPerSecond * 8;
  let i = 0;
  for (; i < units.length - 1; i++) {
    if (rate < 1000) break;
    if (rate % 1000 !== 0 && rate < 1000 * 1000) break;
    rate = Math.floor(rate / 1000);
  }
  return `${rate}${units[i]}bit`;
}

/** Size units and their bytes, as iproute2's get_size64 (case-insensitive). */
const SIZE_UNITS: ReadonlyArray<readonly [readonly string[], number]> = [
  [["b"], 1],
  [["kb", "k"], 1024],
  [["mb", "m"], 1024 ** 2],
  [["gb", "g"], 1024 ** 3],
  [["kbit"], 1024 / 8],
  [["mbit"], 1024 ** 2 / 8],
  [["gbit"], 1024 ** 3 / 8],
];

/**
 * Parses a size as `tc` does ("1500", "1500b", "10kb" = 10240, "1mb", "64kbit") into bytes; a
 * value that is not a whole number of bytes is refused, as tc refuses it. A number is bytes.
 *
 * @example
 * ```ts
 * import { parseSize } from "@netlink/netlink/route";
 * console.log(parseSize("10kb")); // 10240
 * ```
 */
export function parseSize(size: string | number): number {
  if (typeof size === "number") return checkedInteger(size, "size");
  const [value, unit] = splitNumber(size, "size");
  let bytes = value;
  if (unit !== "") {
    const scale = SIZE_UNITS.find(([names]) => names.includes(unit.toLowerCase()))?.[1];
    if (scale === undefined) {
      throw new RangeError(
        `size: unknown unit in ${shown(size)} (b, kb, mb, gb, kbit, mbit, gbit)`,
      );
    }
    bytes *= scale;
  }
  inRange(bytes, size, "size");
  if (!Number.isInteger(bytes)) {
    throw new RangeError(`size: ${shown(size)} is not a whole number of bytes`);
  }
  return bytes;
}

/**
 * Formats bytes as `tc` prints a size: "1600b", "15Kb", "2Mb", "1Gb" (a unit is used when the
 * size is within 16 bytes of a whole number of KiB, or 1 KiB of MiB or GiB). Throws TypeError for
 * what is no whole number (a fraction, NaN, an infinity, a string), RangeError for a negative.
 *
 * @example
 * ```ts
 * import { formatSize } from "@netlink/netlink/route";
 * console.log(formatSize(15360), formatSize(1600)); // "15Kb" "1600b"
 * ```
 */
export function formatSize(bytes: number): string {
  checkNumberArgument("formatSize(): bytes", bytes);
  const kilo = 1024, mega = kilo * kilo, giga = mega * kilo;
  const near = (unit: number, slack: number) =>
    bytes >= unit && Math.abs(unit * Math.round(bytes / unit) - bytes) < slack;
  if (near(giga, 1024)) return `${formatG(Math.round(bytes / giga), 6)}Gb`;
  if (near(mega, 1024)) return `${formatG(Math.round(bytes / mega), 6)}Mb`;
  if (near(kilo, 16)) return `${formatG(Math.round(bytes / kilo), 6)}Kb`;
  return `${bytes}b`;
}

/**
 * Parses a time as `tc` does ("50ms", "1s", "100us"; no unit: microseconds) into microseconds.
 * A number is microseconds.
 *
 * @example
 * ```ts
 * import { parseTime } from "@netlink/netlink/route";
 * console.log(parseTime("50ms")); // 50000
 * ```
 */
export function parseTime(time: string | number): number {
  if (typeof time === "number") return checkedInteger(time, "time");
  const [value, unit] = splitNumber(time, "time");
  const scales: Record<string, number> = {
    "": 1,
    s: 1e6,
    sec: 1e6,
    secs: 1e6,
    ms: 1e3,
    msec: 1e3,
    msecs: 1e3,
    us: 1,
    usec: 1,
    usecs: 1,
  };
  const scale = scales[unit.toLowerCase()];
  if (scale === undefined) throw new RangeError(`time: unknown unit in ${shown(time)} (s, ms, us)`);
  return inRange(Math.trunc(value * scale), time, "time");
}

/**
 * Formats microseconds as `tc` prints a time: "1s", "50ms", "1.5ms", "800us". Throws TypeError
 * for what is no finite number (NaN, an infinity, a string), RangeError for a negative.
 *
 * @example
 * ```ts
 * import { formatTime } from "@netlink/netlink/route";
 * console.log(formatTime(50000)); // "50ms"
 * ```
 */
export function formatTime(usec: number): string {
  checkNumberArgument("formatTime(): usec", usec, { fractions: true });
  if (usec >= USEC_PER_SEC) return `${formatG(usec / USEC_PER_SEC, 3)}s`;
  if (usec >= 1000) return `${formatG(usec / 1000, 3)}ms`;
  return `${Math.trunc(usec)}us`;
}

/** C's `%.{precision}g`. */
function formatG(value: number, precision: number): string {
  if (value === 0) return "0";
  const [mantissa, exponentText] = value.toExponential(precision - 1).split("e");
  const exponent = Number(exponentText);
  const strip = (s: string) => s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
  if (exponent < -4 || exponent >= precision) {
    const sign = exponent < 0 ? "-" : "+";
    return `${strip(mantissa)}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  return strip(value.toFixed(Math.max(0, precision - 1 - exponent)));
}

/** `value`, parsed from `text`, when a number holds it exactly; a RangeError naming `what` if not. */
function inRange(value: number, text: string, what: string): number {
  if (value > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`${what}: ${shown(text)} is out of range`);
  }
  return value;
}

function checkedInteger(value: number, what: string): number {
  return checkNumberArgument(what, value);
}

/**
 * The packet scheduler's clock, from /proc/net/psched, as `tc` reads it (tc_core_init, get_hz).
 * `tickInUsec` converts microseconds to the ticks the kernel's u32 buffers are counted in.
 *
 * @example
 * ```ts
 * import { readPsched } from "@netlink/netlink/route";
 * console.log(readPsched().tickInUsec); // 15.625 on kernels since 2.6.31
 * ```
 */
export interface Psched {
  /** Scheduler ticks per microsecond. */
  readonly tickInUsec: number;
  /** Kernel clock ticks per second as `tc` derives it (its "HZ" for default bursts). */
  readonly hz: number;
  /**
   * Round as iproute2 before 6.15 did: whole microseconds, then whole ticks, truncated (it
   * undersized buffers; 6.15 computes in floating point and rounds the ticks up, the default).
   */
  readonly truncate?: boolean;
}

/**
 * What every kernel since 2.6.31 (PSCHED_SHIFT 6, high-resolution timers) prints in
 * /proc/net/psched; used when the file cannot be read (Deno without --allow-read).
 */
const PSCHED_DEFAULT = "000003e8 00000040 000f4240 3b9aca00";

/**
 * Reads the scheduler clock from /proc/net/psched (or the text given), as `tc` does; the
 * kernel's fixed values since 2.6.31 when the file cannot be read.
 *
 * @example
 * ```ts
 * import { readPsched } from "@netlink/netlink/route";
 * console.log(readPsched("000003e8 00000040 000f4240 3b9aca00")); // { tickInUsec: 15.625, hz: 1000000000 }
 * ```
 */
export function readPsched(text?: string): Psched {
  if (text === undefined) {
    try {
      text = readProcPsched();
    } catch {
      text = PSCHED_DEFAULT;
    }
  } else if (typeof text !== "string") {
    throw new TypeError(`readPsched(): text must be /proc/net/psched's text, got ${shown(text)}`);
  }
  const fields = text.trim().split(/\s+/).map((f) => parseInt(f, 16));
  if (fields.length < 4 || fields.some((f) => Number.isNaN(f))) {
    throw new RangeError(`psched: "${text}" is not four hexadecimal numbers`);
  }
  let [t2us] = fields;
  const [, us2t, clockRes, denominator] = fields;
  // tc's compatibility rule: a nanosecond clock advertises a tick multiplier of 1000 meaning 1.
  if (clockRes === 1_000_000_000) t2us = us2t;
  const clockFactor = clockRes / USEC_PER_SEC;
  return {
    tickInUsec: (t2us / us2t) * clockFactor,
    hz: clockRes === 1_000_000 ? denominator : 100,
  };
}

let psched: Psched | undefined;

/**
 * This host's scheduler clock ({@linkcode readPsched} of /proc/net/psched), read once.
 *
 * @example
 * ```ts
 * import { hostPsched } from "@netlink/netlink/route";
 * console.log(hostPsched().tickInUsec > 0); // true
 * ```
 */
export function hostPsched(): Psched {
  return psched ??= readPsched();
}

function readProcPsched(): string {
  return readTextFile("/proc/net/psched");
}

/**
 * Ticks to send `size` bytes at `rate` bytes per second: tc_calc_xmittime, the unit of
 * htb's and tbf's buffer and cbuffer. Saturates at 2^32 - 1 like tc (which then refuses).
 * Throws TypeError for a rate or size that is no finite number (NaN, an infinity, a string),
 * RangeError for a negative one.
 *
 * @example
 * ```ts
 * import { calcXmittime } from "@netlink/netlink/route";
 * console.log(calcXmittime(125000, 10240, { tickInUsec: 15.625, hz: 1e9 })); // 1280000
 * ```
 */
export function calcXmittime(rate: number, size: number, clock: Psched = hostPsched()): number {
  checkNumberArgument("calcXmittime(): rate", rate, { fractions: true });
  checkNumberArgument("calcXmittime(): size", size, { fractions: true });
  const usec = USEC_PER_SEC * (size / rate);
  const ticks = clock.truncate
    ? Math.trunc(Math.min(Math.trunc(usec), 0xffff_ffff) * clock.tickInUsec)
    : Math.ceil(usec * clock.tickInUsec);
  return ticks > 0xffff_ffff ? 0xffff_ffff : ticks;
}

/**
 * Bytes sent in `ticks` at `rate` bytes per second: tc_calc_xmitsize, how tc shows a buffer
 * as a burst size. Throws TypeError for a rate or ticks that are no finite number (NaN, an
 * infinity, a string), RangeError for a negative one.
 *
 * @example
 * ```ts
 * import { calcXmitsize } from "@netlink/netlink/route";
 * console.log(calcXmitsize(125000, 1280000, { tickInUsec: 15.625, hz: 1e9 })); // 10240
 * ```
 */
export function calcXmitsize(rate: number, ticks: number, clock: Psched = hostPsched()): number {
  checkNumberArgument("calcXmitsize(): rate", rate, { fractions: true });
  checkNumberArgument("calcXmitsize(): ticks", ticks, { fractions: true });
  const usec = ticks / clock.tickInUsec;
  return Math.trunc((rate * (clock.truncate ? Math.trunc(usec) : usec)) / USEC_PER_SEC);
}

/** The link layer a rate table accounts for. */
export type LinkLayer = "ethernet" | "atm";

/**
 * A rate table as tc_calc_rtable builds it: `table[i]` is the time to send `(i + 1) << cellLog`
 * bytes (at least `mpu`, rounded up to ATM cells on an ATM link), with the tc_ratespec members
 * tc sets alongside (cell_log, cell_align -1, linklayer).
 *
 * @example
 * ```ts
 * import { calcRtable } from "@netlink/netlink/route";
 * const { cellLog, table } = calcRtable({ rate: 125000, mtu: 1600 });
 * console.log(cellLog, table.length); // 3 256
 * ```
 */
export function calcRtable(
  options: {
    rate: number;
    mtu?: number;
    mpu?: number;
    cellLog?: number;
    linklayer?: LinkLayer;
    clock?: Psched;
  },
): { cellLog: number; cellAlign: number; linklayer: number; table: Uint32Array } {
  const mtu = options.mtu || 2047;
  let cellLog = options.cellLog ?? -1;
  if (cellLog < 0) {
    cellLog = 0;
    while ((mtu >> cellLog) > 255) cellLog++;
  }
  const { linklayer: layer = "ethernet" } = options;
  if (layer !== "ethernet" && layer !== "atm") {
    throw new RangeError(`linklayer: ${shown(layer)} is not "ethernet" or "atm"`);
  }
  const atm = layer === "atm";
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let size = Math.max((i + 1) << cellLog, options.mpu ?? 0);
    if (atm) size = Math.ceil(size / 48) * 53;
    table[i] = calcXmittime(options.rate, size, options.clock);
  }
  const linklayer = (atm ? TC_LINKLAYER_ATM : TC_LINKLAYER_ETHERNET) & TC_LINKLAYER_MASK;
  return { cellLog, cellAlign: -1, linklayer, table };
}
