// A link's counters (IFLA_STATS64) as `ip -s link` prints them (iproute2 6.1's print_stats64):
// `-s` the main counters, `-s -s` the error counters too, `-h` (`-human`) in units of 1000
// (with `-iec`, of 1024).

import type { Link } from "../route/link.ts";

/** How the counters are shown: `level` is how many `-s` were given; `human` -h, `iec` -iec. */
export interface StatsOptions {
  readonly level: number;
  readonly human?: boolean;
  readonly iec?: boolean;
}

type Counters = (key: string) => bigint;

function countersOf(link: Link): Counters | undefined {
  const raw = link.raw.stats64 as Record<string, bigint> | undefined;
  if (raw === undefined) return undefined;
  return (key) => raw[key] ?? 0n;
}

/** IFLA_STATS64 as `ip -s -j link` shows it (the rarer counters only when not zero). */
export function stats64Json(
  link: Link,
  { level }: StatsOptions,
): Record<string, unknown> | undefined {
  const n = countersOf(link);
  if (n === undefined) return undefined;
  const rx: Record<string, bigint> = {
    bytes: n("rxBytes"),
    packets: n("rxPackets"),
    errors: n("rxErrors"),
    dropped: n("rxDropped"),
    over_errors: n("rxOverErrors"),
    multicast: n("multicast"),
  };
  if (n("rxCompressed")) rx.compressed = n("rxCompressed");
  if (level > 1) {
    Object.assign(rx, {
      length_errors: n("rxLengthErrors"),
      crc_errors: n("rxCrcErrors"),
      frame_errors: n("rxFrameErrors"),
      fifo_errors: n("rxFifoErrors"),
      missed_errors: n("rxMissedErrors"),
    });
    if (n("rxNohandler")) rx.nohandler = n("rxNohandler");
    if (n("rxOtherhostDropped")) rx.otherhost = n("rxOtherhostDropped");
  }
  const tx: Record<string, bigint> = {
    bytes: n("txBytes"),
    packets: n("txPackets"),
    errors: n("txErrors"),
    dropped: n("txDropped"),
    carrier_errors: n("txCarrierErrors"),
    collisions: n("collisions"),
  };
  if (n("txCompressed")) tx.compressed = n("txCompressed");
  if (level > 1) {
    Object.assign(tx, {
      aborted_errors: n("txAbortedErrors"),
      fifo_errors: n("txFifoErrors"),
      window_errors: n("txWindowErrors"),
      heartbeat_errors: n("txHeartbeatErrors"),
    });
    if (link.carrierChanges !== undefined) tx.carrier_changes = BigInt(link.carrierChanges);
  }
  return { rx, tx };
}

/**
 * A count as ip's print_num prints it in a column `width` wide, then a space: with -h, one of at
 * least the base (1000, or 1024 with -iec) in units of k, M, G... ("4.36k", "12.1M", "123G";
 * "4.26ki" with -iec), with as many decimals as keep three digits.
 */
export function countText(count: bigint, width: number, options: StatsOptions): string {
  const base = options.iec ? 1024n : 1000n;
  if (!options.human || count < base) return `${String(count).padStart(width)} `;
  const prefixes = "kMGTPE";
  let prefix = 0;
  let power = 1n;
  for (;;) {
    power *= base;
    if (count / base < power || prefix === prefixes.length - 1) break;
    prefix++;
  }
  let precision = 2;
  for (let limit = 10n; precision > 0; precision--, limit *= 10n) {
    if (count / power < limit) break;
  }
  const text = `${(Number(count) / Number(power)).toFixed(precision)}${prefixes[prefix]}${
    options.iec ? "i" : ""
  }`;
  return `${text.padStart(width)} `;
}

/**
 * IFLA_STATS64 as `ip -s link` prints it: a header and a row of numbers for each way (and with
 * `-s -s`, each way's error counters), the columns as wide as the widest of the header and the
 * numbers (not widened for -h, as ip does not).
 */
export function statsText(link: Link, options: StatsOptions): string {
  const n = countersOf(link)!;
  const detailed = options.level > 1;
  const changes = link.carrierChanges;
  // ip's columns: their headers' widths, widened to the numbers' (its size_columns).
  const cols = [10, 7, 6, 7, 7, 7, 10, 9];
  const size = (...values: bigint[]) => {
    if (options.human) return;
    values.forEach((value, i) => cols[i] = Math.max(cols[i], String(value).length));
  };
  const rx = ["rxBytes", "rxPackets", "rxErrors", "rxDropped", "rxMissedErrors", "multicast"]
    .map(n);
  const rxErrors = ["rxLengthErrors", "rxCrcErrors", "rxFrameErrors", "rxFifoErrors"].map(n);
  const [overErrors, nohandler, otherhost] = ["rxOverErrors", "rxNohandler", "rxOtherhostDropped"]
    .map(n);
  const tx = ["txBytes", "txPackets", "txErrors", "txDropped", "txCarrierErrors", "collisions"]
    .map(n);
  const txErrors = ["txAbortedErrors", "txFifoErrors", "txWindowErrors", "txHeartbeatErrors"]
    .map(n);
  const [rxCompressed, txCompressed] = [n("rxCompressed"), n("txCompressed")];
  const carrierChanges = BigInt(changes ?? 0);
  size(...rx, rxCompressed, 0n);
  if (detailed) size(0n, ...rxErrors, overErrors, nohandler, otherhost);
  size(...tx, txCompressed, 0n);
  // As ip: its error counters sized one column to the right of where they are printed.
  if (detailed) size(0n, 0n, ...txErrors, carrierChanges, 0n);
  const num = (value: bigint, width: number) => countText(value, width, options);
  const header = (way: string, labels: string[], compressed: bigint) =>
    `    ${way}: ${
      [cols[0] - 4, ...cols.slice(1, 6)].map((width, i) => labels[i].padStart(width)).join(" ")
    } ${(compressed ? "compressed" : "").padStart(cols[6])}`;
  const row = (values: bigint[], compressed: bigint) =>
    "    " + values.map((value, i) => num(value, cols[i])).join("")
    + (compressed ? num(compressed, cols[6]) : "");
  const errorsLead = " ".repeat(cols[0] + 5);
  const lines = [
    header("RX", ["bytes", "packets", "errors", "dropped", "missed", "mcast"], rxCompressed),
    row(rx, rxCompressed),
  ];
  if (detailed) {
    lines.push(
      `    RX errors:${"".padStart(cols[0] - 10)} ${
        ["length", "crc", "frame", "fifo", "overrun"].map((label, i) => label.padStart(cols[i + 1]))
          .join(" ")
      }${nohandler ? " nohandler".padStart(cols[6] + 1) : ""}${
        otherhost ? " otherhost".padStart(cols[7] + 1) : ""
      }`,
      errorsLead + [...rxErrors, overErrors].map((value, i) => num(value, cols[i + 1])).join("")
        + (nohandler ? num(nohandler, cols[6]) : "")
        + (otherhost ? num(otherhost, cols[7]) : ""),
    );
  }
  lines.push(
    header("TX", ["bytes", "packets", "errors", "dropped", "carrier", "collsns"], txCompressed),
    row(tx, txCompressed),
  );
  if (detailed) {
    lines.push(
      `    TX errors:${"".padStart(cols[0] - 10)} ${
        ["aborted", "fifo", "window", "heartbt"].map((label, i) => label.padStart(cols[i + 1]))
          .join(" ")
      } ${(changes !== undefined ? "transns" : "").padStart(cols[5])}`,
      errorsLead + txErrors.map((value, i) => num(value, cols[i + 1])).join("")
        + (changes !== undefined ? num(carrierChanges, cols[5]) : ""),
    );
  }
  return lines.join("\n");
}
