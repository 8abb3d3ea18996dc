// The names `ip` gives rtnetlink's numbers (iproute2's rt_scopes, rt_protos, rt_tables and its
// flag printers), both ways. Internal: the everyday API's types list the names.

import {
  ICMPV6_ROUTER_PREF_HIGH,
  ICMPV6_ROUTER_PREF_LOW,
  ICMPV6_ROUTER_PREF_MEDIUM,
} from "../_constants.ts";
import { integerFieldError, shown, takeBackAsOptions } from "../_options.ts";
import { suggestion } from "../_suggest.ts";
import { rtNeigh } from "../ynl/rt_neigh.ts";
import { rtRoute } from "../ynl/rt_route.ts";

/** A two-way table between names and numbers. */
export class Names<N extends string> {
  readonly #byValue = new Map<number, N>();
  readonly #byName = new Map<string, number>();
  readonly what: string;

  constructor(what: string, entries: Record<N, number>, aliases: Record<string, number> = {}) {
    this.what = what;
    for (const [name, value] of Object.entries(entries) as [N, number][]) {
      this.#byValue.set(value, name);
      this.#byName.set(name, value);
    }
    for (const [name, value] of Object.entries(aliases)) this.#byName.set(name, value);
  }

  /** Whether `name` is one of the names (or aliases). */
  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** The name of `value`, or the number itself when it has none. */
  name(value: number): N | number {
    return this.#byValue.get(value) ?? value;
  }

  /**
   * The number for a name (or a number, checked against `max`): a number out of range is a
   * RangeError naming `field`, anything else that is no name a TypeError.
   */
  value(input: string | number, field: string, max = 255): number {
    if (typeof input === "number") {
      if (Number.isInteger(input) && input >= 0 && input <= max) return input;
      throw integerFieldError(input, `${field}: ${input} is not a ${this.what} (0..${max})`);
    }
    const value = this.#byName.get(input);
    if (value !== undefined) return value;
    const names = [...this.#byValue.values()];
    throw new TypeError(
      `${field}: ${shown(input)} is not a ${this.what}: one of ${names.join(", ")}, or a number${
        suggestion(String(input), names)
      }`,
    );
  }

  /**
   * The number for a name, or a number that has one: for a value the kernel refuses without a
   * name (a macvlan's mode, a bridge port's STP state), where `value()` takes any number. A
   * number without a name is a RangeError naming `field` and the names with their numbers.
   */
  known(input: string | number, field: string): number {
    if (typeof input !== "number") return this.value(input, field);
    if (this.#byValue.has(input)) return input;
    throw integerFieldError(
      input,
      `${field}: ${input} is not a ${this.what}: one of ${
        [...this.#byValue].map(([value, name]) => `${name} (${value})`).join(", ")
      }`,
    );
  }
}

/** Address and route scopes (rt_scopes: `ip` prints universe as "global"). */
export const SCOPES = new Names("scope", {
  global: 0,
  site: 200,
  link: 253,
  host: 254,
  nowhere: 255,
}, { universe: 0 });

/** Route protocols (iproute2's rt_protos). */
export const PROTOCOLS = new Names("route protocol", {
  unspec: 0,
  redirect: 1,
  kernel: 2,
  boot: 3,
  static: 4,
  gated: 8,
  ra: 9,
  mrt: 10,
  zebra: 11,
  bird: 12,
  dnrouted: 13,
  xorp: 14,
  ntk: 15,
  dhcp: 16,
  keepalived: 18,
  babel: 42,
  openr: 99,
  bgp: 186,
  isis: 187,
  ospf: 188,
  rip: 189,
  eigrp: 192,
});

/** Routing tables (rt_tables). */
export const TABLES = new Names("routing table", {
  unspec: 0,
  default: 253,
  main: 254,
  local: 255,
});

/** IPv6 router preferences (RTA_PREF), as ip names them. */
export const ROUTE_PREFS = new Names("route preference", {
  low: ICMPV6_ROUTER_PREF_LOW,
  medium: ICMPV6_ROUTER_PREF_MEDIUM,
  high: ICMPV6_ROUTER_PREF_HIGH,
});

/** Route types (RTN_*), as rt-route's spec names them. */
export const ROUTE_TYPES = new Names("route type", rtRoute.enums["rtm-type"].entries);

/** Operational states (IF_OPER_*), lowercase. */
export const OPERSTATES = new Names("operstate", {
  unknown: 0,
  notpresent: 1,
  down: 2,
  lowerlayerdown: 3,
  testing: 4,
  dormant: 5,
  up: 6,
});

/** Neighbour states (NUD_*), as rt-neigh's spec names them: one bit each; 0 is "none". */
export const NEIGH_STATES = new Names("neighbour state", {
  none: 0,
  ...rtNeigh.enums["nud-state"].entries,
});

/** Address families as `ip -j` names them. */
export const FAMILIES = new Names("address family", {
  unspec: 0,
  inet: 2,
  bridge: 7,
  inet6: 10,
  mpls: 28,
});

/**
 * The family a filter or spec of the route client names: "inet" (AF_INET) or "inet6"
 * (AF_INET6), or none (0). Another family, or what is none, is a TypeError.
 */
export function inetFamily(family: string | number | undefined): number {
  if (family === undefined) return 0;
  const value = typeof family === "string" && !FAMILIES.has(family)
    ? -1
    : FAMILIES.value(family, "family");
  if (value !== 0 && value !== 2 && value !== 10) {
    throw new TypeError(`family: ${shown(family)} is not "inet" or "inet6"`);
  }
  return value;
}

/** Bits and their names, in the order a printer lists them. */
export type FlagTable = readonly (readonly [name: string, bit: number])[];

/** The names of the bits set in `value`, in table order; unnamed bits as "0x..." strings. */
export function flagNames(table: FlagTable, value: number): string[] {
  const names: string[] = [];
  if (value === 0) return names;
  let rest = value >>> 0;
  for (const [name, bit] of table) {
    if (rest & bit) {
      names.push(name);
      rest &= ~bit;
    }
  }
  if (rest) names.push(`0x${rest.toString(16)}`);
  return names;
}

/** The bit mask of flag names; a TypeError names `field` for an unknown one. */
export function flagValue(table: FlagTable, names: readonly string[], field: string): number {
  if (!Array.isArray(names)) {
    throw new TypeError(`${field} must be an array of names, got ${shown(names)}`);
  }
  let value = 0;
  for (const name of names) {
    const entry = table.find(([n]) => n === name);
    if (entry === undefined) {
      const names = table.map(([n]) => n);
      throw new TypeError(
        `${field}: ${shown(name)} is not one of ${names.join(", ")}${
          suggestion(String(name), names)
        }`,
      );
    }
    value |= entry[1];
  }
  return value;
}

/** IFF_* as `ip` prints them (print_link_flags' order). */
export const LINK_FLAGS: FlagTable = [
  ["LOOPBACK", 0x8],
  ["BROADCAST", 0x2],
  ["POINTOPOINT", 0x10],
  ["MULTICAST", 0x1000],
  ["NOARP", 0x80],
  ["ALLMULTI", 0x200],
  ["PROMISC", 0x100],
  ["MASTER", 0x400],
  ["SLAVE", 0x800],
  ["DEBUG", 0x4],
  ["DYNAMIC", 0x8000],
  ["AUTOMEDIA", 0x4000],
  ["PORTSEL", 0x2000],
  ["NOTRAILERS", 0x20],
  ["UP", 0x1],
  ["LOWER_UP", 0x10000],
  ["DORMANT", 0x20000],
  ["ECHO", 0x40000],
];

/** IFA_F_* as `ip -j` names them. */
export const ADDRESS_FLAGS: FlagTable = [
  ["secondary", 0x1],
  ["nodad", 0x2],
  ["optimistic", 0x4],
  ["dadfailed", 0x8],
  ["home", 0x10],
  ["deprecated", 0x20],
  ["tentative", 0x40],
  ["permanent", 0x80],
  ["mngtmpaddr", 0x100],
  ["noprefixroute", 0x200],
  ["autojoin", 0x400],
  ["stable-privacy", 0x800],
];

/** The same of an IPv6 address: ip names IFA_F_SECONDARY "temporary" there (RFC 8981). */
export const ADDRESS6_FLAGS: FlagTable = [["temporary", 0x1], ...ADDRESS_FLAGS.slice(1)];

/** RTNH_F_* (route and next-hop flags) as `ip -j` names them. */
export const ROUTE_FLAGS: FlagTable = [
  ["dead", 0x1],
  ["pervasive", 0x2],
  ["onlink", 0x4],
  ["offload", 0x8],
  ["linkdown", 0x10],
  ["unresolved", 0x20],
  ["trap", 0x40],
];

/**
 * Neighbour flags: ndm_flags' NTF_* in the low byte, NDA_FLAGS_EXT's NTF_EXT_* shifted above it
 * (NEIGH_EXT_SHIFT), in the order `ip neigh show` prints them (print_neigh), the ones ip does
 * not print last.
 */
export const NEIGH_FLAGS: FlagTable = [
  ["router", 0x80],
  ["proxy", 0x8],
  ["managed", 0x1 << 8], // NTF_EXT_MANAGED
  ["extern_learn", 0x10],
  ["extern_valid", 0x4 << 8], // NTF_EXT_EXT_VALIDATED
  ["offload", 0x20],
  ["use", 0x1],
  ["self", 0x2],
  ["master", 0x4],
  ["sticky", 0x40],
  ["locked", 0x2 << 8], // NTF_EXT_LOCKED
];

/** Where NDA_FLAGS_EXT's bits sit in a {@linkcode NEIGH_FLAGS} value. */
export const NEIGH_EXT_SHIFT = 8;

/** The hook console.log and util.inspect call on Node, Bun and Deno alike. */
const INSPECT = Symbol.for("nodejs.util.inspect.custom");
/** Each class of API object's bare twin of the same name (see {@linkcode printAs}). */
const printed = new WeakMap<object, new() => object>();

/**
 * How a class's fields are written in JSON otherwise than as they are, by field name: a function
 * of the field's value (an address's lifetime of Infinity as 4294967295, as `ip -j` prints it).
 */
export type JsonFields = Readonly<Record<string, (value: unknown) => unknown>>;
/** Each class's {@linkcode JsonFields}, where it has any (see {@linkcode printAs}). */
const jsonFieldsOf = new WeakMap<object, JsonFields>();

/**
 * Makes console.log show the objects of class `type` as its twin `Printed`, a bare class of the
 * same name declared beside it (Bun names an object by its class's name as written, not by its
 * `name`), holding their own fields: without the accessor on their prototype (`raw`, tc's
 * `message`), which Bun lists as `raw: [Getter]`, non-enumerable or not (Deno and Node leave
 * accessors out). Returned as an object, not text, so each runtime formats it in its own style
 * and depth. Runs only when one is printed. `json` says how some of its fields are written in
 * JSON, by the hook {@linkcode printFieldsOnly} installs, before bytes become arrays.
 */
export function printAs(type: object, Printed: new() => object, json?: JsonFields): void {
  printed.set(type, Printed);
  if (json !== undefined) jsonFieldsOf.set(type, json);
}

/**
 * Installs {@linkcode printAs}'s hook on the prototype of a base of the API's objects, and marks
 * it as one whose objects are taken back as options (a listed route to route.delete()). Their
 * JSON is their fields too, bytes (a link's `nameBytes`) as an array of numbers
 * ({@linkcode jsonFields}).
 */
export function printFieldsOnly(prototype: object): void {
  // The objects given back to delete() as options are, though instances of these classes.
  takeBackAsOptions(prototype);
  Object.defineProperty(prototype, INSPECT, {
    value(this: object): object {
      const Printed = printed.get(this.constructor);
      return Object.assign(Printed === undefined ? {} : new Printed(), this);
    },
  });
  Object.defineProperty(prototype, "toJSON", {
    value(this: object): Record<string, unknown> {
      return fieldsOf(this, jsonFieldsOf.get(this.constructor));
    },
  });
}

/**
 * `value` for JSON.stringify: each Uint8Array in it (in its plain objects and arrays, at any
 * depth) as an array of its bytes (`[102, 255, 48]`, which `new Uint8Array(bytes)` takes back),
 * where JSON.stringify writes a typed array as an object keyed by index
 * (`{"0":102,"1":255,"2":48}`). Other objects are left to JSON.stringify (their own toJSON).
 */
function jsonFields(value: unknown): unknown {
  if (value instanceof Uint8Array) return Array.from(value);
  if (Array.isArray(value)) return value.map(jsonFields);
  if (typeof value !== "object" || value === null) return value;
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  return fieldsOf(value);
}

/**
 * An object's own fields, each as {@linkcode jsonFields} gives it, after `json`'s function for it
 * where it has one.
 */
function fieldsOf(value: object, json?: JsonFields): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [
      key,
      jsonFields(json !== undefined && Object.hasOwn(json, key) ? json[key](field) : field),
    ]),
  );
}

/**
 * The same bits in the order `bridge fdb show` prints them (fdb_print_flags), the ones it does
 * not print last.
 */
export const FDB_FLAGS: FlagTable = [
  "self",
  "router",
  "extern_learn",
  "offload",
  "master",
  "sticky",
  "locked",
  "use",
  "proxy",
  "managed",
  "extern_valid",
].map((name) => NEIGH_FLAGS.find(([n]) => n === name)!);

/** Puts a {@linkcode NEIGH_FLAGS} value in a request: ndm_flags, and NDA_FLAGS_EXT when set. */
export function setNeighFlags(request: Record<string, unknown>, bits: number): void {
  request.ndmFlags = bits & 0xff;
  if (bits >>> NEIGH_EXT_SHIFT) request.flagsExt = bits >>> NEIGH_EXT_SHIFT;
}

/** A neighbour's ndm_flags and NDA_FLAGS_EXT as one {@linkcode NEIGH_FLAGS} value. */
export function neighFlagBits(raw: { ndmFlags: unknown; flagsExt?: unknown }): number {
  return (raw.ndmFlags as number) | ((raw.flagsExt as number | undefined) ?? 0) << NEIGH_EXT_SHIFT;
}

/**
 * The base of the objects the API returns: the typed layer's decoding is kept as `raw`, a getter
 * on a private field, so printing or serializing an object shows what `ip -j` shows (and V8 and
 * JSC build these faster than objects given a non-enumerable property one by one).
 */
export class WithRaw<R> {
  readonly #raw: R;
  /** Keeps `raw`. */
  constructor(raw: R) {
    this.#raw = raw;
  }
  /** Everything the kernel sent, as the typed layer decodes it. */
  get raw(): R {
    return this.#raw;
  }
}
printFieldsOnly(WithRaw.prototype);
