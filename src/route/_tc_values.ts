// Checks and conversions the traffic-control modules share: integers in range, text fields
// parsed with the field's name in the error, filter protocols by name, tcm_info of a filter.

import { ETH_P_8021Q, ETH_P_ALL, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6 } from "../_constants.ts";
import { shown } from "../_options.ts";
import { suggestion } from "../_suggest.ts";

/** A message or options object as the tc codec reads and writes it. */
export type TcMessage = Record<string, unknown>;

export const UINT32_MAX = 0xffff_ffff;

/** A rate table as the kernel takes it: 256 u32s in host order. */
export function u32Bytes(table: Uint32Array): Uint8Array {
  return new Uint8Array(table.buffer, table.byteOffset, table.byteLength);
}

/** `value`, checked to be an integer in 0..max (undefined passes through). */
export function integer(
  value: number | undefined,
  what: string,
  max = UINT32_MAX,
): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${what}: ${shown(value)} is not an integer in 0..${max}`);
  }
  return value;
}

/** A boolean option (undefined passes through): anything else, "false" too, is a TypeError. */
export function boolean(value: unknown, what: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "boolean") return value;
  throw new TypeError(`${what}: ${shown(value)} is not a boolean`);
}

/** `parse(value)`, its error naming the field (undefined passes through). */
export function field<T>(
  what: string,
  parse: (value: T) => number,
  value: T | undefined,
): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parse(value);
  } catch (err) {
    // The parser names the kind of value ("size: ..."); the field's name says more.
    throw new RangeError(`${what}: ${(err as Error).message.replace(/^\w+: /, "")}`);
  }
}

/** The object without its undefined members (absent attributes). */
export function defined(object: TcMessage): TcMessage {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined));
}

/** A decoded integer (number or bigint) as a number; 0 when absent. */
export function num(value: unknown): number {
  return typeof value === "bigint" ? Number(value) : (value as number) ?? 0;
}

/** Filter protocols by the names tc gives them. */
const PROTOCOLS: Record<string, number> = {
  all: ETH_P_ALL,
  ip: ETH_P_IP,
  ipv6: ETH_P_IPV6,
  arp: ETH_P_ARP,
  "802.1Q": ETH_P_8021Q,
};

/**
 * The value `table` has under `key`, its own: not one every object inherits ("constructor",
 * "toString"), which a name looked up as `table[key]` would find.
 */
export function named<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** " (did you mean ...?)" for a name given as a string; "" for anything else. */
export function nameSuggestion(name: unknown, names: string[]): string {
  return typeof name === "string" ? suggestion(name, names) : "";
}

/** An ethertype from its name ("ip", "ipv6", "all"...) or number. */
export function protocolNumber(protocol: string | number): number {
  if (typeof protocol === "number") return integer(protocol, "protocol", 0xffff)!;
  const number = named(PROTOCOLS, protocol) ?? named(PROTOCOLS, protocol.toLowerCase());
  if (number === undefined) {
    throw new RangeError(
      `protocol: ${shown(protocol)} is not one of ${Object.keys(PROTOCOLS).join(", ")}`
        + nameSuggestion(protocol, Object.keys(PROTOCOLS)),
    );
  }
  return number;
}

/** An ethertype's name as tc prints it ("ip"), or "[hhhh]". */
export function protocolName(protocol: number): string {
  const name = Object.keys(PROTOCOLS).find((key) => PROTOCOLS[key] === protocol);
  return name ?? `[${protocol.toString(16).padStart(4, "0")}]`;
}

/** tcm_info of a filter: its priority over its protocol in network byte order. */
export function filterInfo(pref: number, protocol: string | number): number {
  integer(pref, "pref", 0xffff);
  const p = protocol === 0 ? 0 : protocolNumber(protocol);
  return ((pref << 16) | ((p & 0xff) << 8) | (p >>> 8)) >>> 0;
}
