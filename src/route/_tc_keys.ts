// The keys each qdisc and filter kind takes, and a filter's u32 match, raw keys and actions,
// checked before any request: a key another kind has (matchall given `match`, pfifo given
// `rate`) or a misspelt one inside `match` or an action (`{ dprot: 443 }`, mirred's `dir`) was
// dropped in silence, and the filter then matched every packet, or redirected to egress.

import { checkOptions, shown } from "../_options.ts";
import type {
  BasicFilterSpec,
  FilterSpec,
  FlowerFilterSpec,
  MatchallFilterSpec,
  TcAction,
  U32FilterSpec,
  U32IpMatch,
  U32Key,
} from "./tc_filter.ts";
import type {
  FifoParams,
  FqCodelParams,
  HtbQdiscParams,
  IngressParams,
  NetemParams,
  PrioParams,
  QdiscPlace,
  QdiscSpec,
  TbfParams,
} from "./tc_qdisc.ts";

type Keys<T> = Record<keyof (QdiscPlace & T), 0>;
const QDISC_PLACE = { dev: 0, parent: 0, handle: 0, kind: 0 } as const;
const FIFO = Object.keys({ ...QDISC_PLACE, limit: 0 } satisfies Keys<FifoParams>);
const INGRESS = Object.keys(QDISC_PLACE satisfies Keys<IngressParams>);

/** Every key of each qdisc kind's spec, its place included, and nothing else (`satisfies`). */
const QDISC_KIND_KEYS: Readonly<Record<QdiscSpec["kind"], readonly string[]>> = {
  htb: Object.keys(
    { ...QDISC_PLACE, default: 0, r2q: 0, directQlen: 0 } satisfies Keys<HtbQdiscParams>,
  ),
  tbf: Object.keys(
    {
      ...QDISC_PLACE,
      rate: 0,
      burst: 0,
      limit: 0,
      latency: 0,
      peakrate: 0,
      mtu: 0,
      mpu: 0,
      overhead: 0,
      linklayer: 0,
    } satisfies Keys<TbfParams>,
  ),
  pfifo: FIFO,
  bfifo: FIFO,
  pfifo_head_drop: FIFO,
  fq_codel: Object.keys(
    {
      ...QDISC_PLACE,
      limit: 0,
      flows: 0,
      target: 0,
      interval: 0,
      quantum: 0,
      ecn: 0,
      ceThreshold: 0,
      memoryLimit: 0,
      dropBatch: 0,
    } satisfies Keys<FqCodelParams>,
  ),
  prio: Object.keys({ ...QDISC_PLACE, bands: 0, priomap: 0 } satisfies Keys<PrioParams>),
  netem: Object.keys(
    {
      ...QDISC_PLACE,
      delay: 0,
      jitter: 0,
      loss: 0,
      duplicate: 0,
      corrupt: 0,
      reorder: 0,
      gap: 0,
      limit: 0,
      rate: 0,
    } satisfies Keys<NetemParams>,
  ),
  ingress: INGRESS,
  clsact: INGRESS,
};

/** The keys of every qdisc kind: what a spec of an unknown kind is checked against. */
const QDISC_KEYS: readonly string[] = [...new Set(Object.values(QDISC_KIND_KEYS).flat())];

/** Checks a qdisc spec's keys, its kind's own only, naming `where` ("tc.addQdisc() spec"). */
export function checkQdiscKeys(where: string, spec: QdiscSpec): void {
  checkOptions(
    where,
    spec,
    Object.hasOwn(QDISC_KIND_KEYS, String(spec?.kind))
      ? QDISC_KIND_KEYS[spec.kind]
      : QDISC_KEYS,
  );
}

const PLACE = { dev: 0, parent: 0, protocol: 0, pref: 0, classid: 0, actions: 0, kind: 0 } as const;

/** Every key of each filter kind's spec and nothing else (`satisfies`). */
const FILTER_KIND_KEYS: Readonly<Record<FilterSpec["kind"], readonly string[]>> = {
  u32: Object.keys({ ...PLACE, match: 0, keys: 0 } satisfies Record<keyof U32FilterSpec, 0>),
  matchall: Object.keys(
    { ...PLACE, skipSw: 0, skipHw: 0 } satisfies Record<keyof MatchallFilterSpec, 0>,
  ),
  basic: Object.keys(PLACE satisfies Record<keyof BasicFilterSpec, 0>),
  flower: Object.keys(
    {
      ...PLACE,
      ipProto: 0,
      dstMac: 0,
      srcMac: 0,
      dstIp: 0,
      srcIp: 0,
      dstPort: 0,
      srcPort: 0,
      skipSw: 0,
      skipHw: 0,
    } satisfies Record<keyof FlowerFilterSpec, 0>,
  ),
};

/** The keys of every filter kind: what a spec of an unknown kind is checked against. */
const FILTER_KEYS: readonly string[] = [...new Set(Object.values(FILTER_KIND_KEYS).flat())];

const MATCH_KEYS = Object.keys(
  { src: 0, dst: 0, protocol: 0, sport: 0, dport: 0 } satisfies Record<keyof U32IpMatch, 0>,
);
const U32_KEY_KEYS = Object.keys(
  { value: 0, mask: 0, off: 0, nexthdr: 0 } satisfies Record<keyof U32Key, 0>,
);
type ActionObject = Exclude<TcAction, string>;
const ACTION_KEYS: Readonly<Record<ActionObject["kind"], readonly string[]>> = {
  gact: Object.keys(
    { kind: 0, control: 0 } satisfies Record<keyof Extract<ActionObject, { kind: "gact" }>, 0>,
  ),
  mirred: Object.keys(
    { kind: 0, action: 0, direction: 0, dev: 0 } satisfies Record<
      keyof Extract<ActionObject, { kind: "mirred" }>,
      0
    >,
  ),
};

function checkList(where: string, value: unknown): readonly unknown[] {
  if (!Array.isArray(value)) throw new TypeError(`${where} must be an array, got ${shown(value)}`);
  return value;
}

/**
 * Checks a filter spec's keys, its kind's own only, and those of its `match`, `keys` and
 * `actions`, naming `where` ("tc.addFilter() spec"); values are checked where they are encoded.
 */
export function checkFilterKeys(where: string, spec: FilterSpec): void {
  checkOptions(
    where,
    spec,
    Object.hasOwn(FILTER_KIND_KEYS, String(spec?.kind)) ? FILTER_KIND_KEYS[spec.kind] : FILTER_KEYS,
  );
  if (spec.kind === "u32") {
    if (spec.match !== undefined) checkOptions(`${where} match`, spec.match, MATCH_KEYS);
    if (spec.keys !== undefined) {
      checkList(`${where} keys`, spec.keys).forEach((key, i) => {
        const name = `${where} keys[${i}]`;
        checkOptions(name, key as U32Key, U32_KEY_KEYS);
        for (const field of ["value", "mask", "off"] as const) {
          if ((key as U32Key)[field] === undefined) {
            throw new TypeError(`${name}.${field} is required`);
          }
        }
      });
    }
  }
  if (spec.actions === undefined) return;
  // tc takes no `action` without one; none at all, sent, made a u32 entry terminal (its match
  // ending classification) with nothing to do.
  if (checkList(`${where} actions`, spec.actions).length === 0) {
    throw new TypeError(
      `${where} actions is empty: give at least one ("drop", { kind: "mirred", ... }), or leave it out`,
    );
  }
  spec.actions.forEach((action, i) => {
    if (typeof action === "string") return;
    const name = `${where} actions[${i}]`;
    const kind = (action as ActionObject | null)?.kind;
    if (
      action === null || typeof action !== "object" || !Object.hasOwn(ACTION_KEYS, String(kind))
    ) {
      throw new TypeError(
        `${name} must be a gact control ("drop"...) or { kind: "gact" | "mirred", ... }, got ${
          action !== null && typeof action === "object" ? `kind ${shown(kind)}` : shown(action)
        }`,
      );
    }
    checkOptions(name, action as ActionObject, ACTION_KEYS[kind as ActionObject["kind"]]);
  });
}
