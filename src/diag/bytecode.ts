/**
 * Socket filters for inet_diag dumps, compiled to the kernel's bytecode (INET_DIAG_REQ_BYTECODE)
 * exactly as iproute2's `ss` compiles its filter expressions (misc/ss.c, ssfilter_bytecode), so
 * the kernel applies them and sends only the sockets that match.
 *
 * @module
 */

import { VALUE_MAX } from "../_attribute_limits.ts";
import { concat } from "../_bytes.ts";
import { AF_UNSPEC } from "../_constants.ts";
import { HOST_LITTLE_ENDIAN } from "../_endian.ts";
import { integerFieldError, shown } from "../_options.ts";
import { suggestion } from "../_suggest.ts";
import { parsePrefix } from "../ip.ts";
import {
  INET_DIAG_BC_AUTO,
  INET_DIAG_BC_CGROUP_COND,
  INET_DIAG_BC_D_COND,
  INET_DIAG_BC_D_GE,
  INET_DIAG_BC_D_LE,
  INET_DIAG_BC_DEV_COND,
  INET_DIAG_BC_JMP,
  INET_DIAG_BC_MARK_COND,
  INET_DIAG_BC_S_COND,
  INET_DIAG_BC_S_GE,
  INET_DIAG_BC_S_LE,
  OFFSETOF_INET_DIAG_HOSTCOND_ADDR,
  OFFSETOF_INET_DIAG_HOSTCOND_FAMILY,
  OFFSETOF_INET_DIAG_HOSTCOND_PORT,
  OFFSETOF_INET_DIAG_HOSTCOND_PREFIX_LEN,
  OFFSETOF_INET_DIAG_MARKCOND_MARK,
  OFFSETOF_INET_DIAG_MARKCOND_MASK,
  SIZEOF_INET_DIAG_BC_OP,
  SIZEOF_INET_DIAG_HOSTCOND,
  SIZEOF_INET_DIAG_MARKCOND,
} from "./_constants.ts";

/**
 * A port condition: a number means "equal to"; an object's bounds must all hold
 * (`{ ge: 1024, le: 2047 }`). `ne`, `gt` and `lt` compile as ss compiles them, to a negated
 * `eq`, `le` and `ge`.
 *
 * @example
 * ```ts
 * import type { PortMatch } from "@netlink/netlink/diag";
 * const unprivileged: PortMatch = { ge: 1024 };
 * ```
 */
export type PortMatch = number | {
  readonly eq?: number;
  readonly ne?: number;
  readonly ge?: number;
  readonly le?: number;
  readonly gt?: number;
  readonly lt?: number;
};

/**
 * A filter on inet sockets, as ss's filter expressions say it: `{ sport: 22 }` is
 * `sport = :22`, `{ dst: "10.0.0.0/8", port: 443 }` is `dst 10.0.0.0/8:443`, and `all`, `any`
 * and `not` combine filters (`and`, `or`, `not`). An IPv4 address also matches the
 * IPv4-mapped addresses of IPv6 sockets, as the kernel does it. `dev` is an interface index,
 * `mark` a fwmark (under `mask`, default all bits), `cgroup` a cgroup v2 id (a safe integer,
 * as InetSocket's `cgroupId` reads, or a bigint), and
 * `autobound` matches sockets whose local port was not chosen by bind(): clients and accepted
 * connections (ss narrows its "autobound" further, to ports in ip_local_port_range).
 *
 * @example
 * ```ts
 * import type { InetFilter } from "@netlink/netlink/diag";
 * // ss 'sport = :22 or dport >= :1024'
 * const filter: InetFilter = { any: [{ sport: 22 }, { dport: { ge: 1024 } }] };
 * ```
 */
export type InetFilter =
  | { readonly all: readonly InetFilter[] }
  | { readonly any: readonly InetFilter[] }
  | { readonly not: InetFilter }
  | { readonly sport: PortMatch }
  | { readonly dport: PortMatch }
  | { readonly src: string; readonly port?: number }
  | { readonly dst: string; readonly port?: number }
  | { readonly dev: number }
  | { readonly mark: number; readonly mask?: number }
  | { readonly cgroup: number | bigint }
  | { readonly autobound: true };

const OP = SIZEOF_INET_DIAG_BC_OP;

function op(code: number, yes: number, no: number): Uint8Array {
  if (yes > 0xff || no > 0xffff) {
    throw new RangeError("the filter is too large for inet_diag bytecode's 16-bit jumps");
  }
  const bytes = new Uint8Array(OP);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, code);
  view.setUint8(1, yes);
  view.setUint16(2, no, HOST_LITTLE_ENDIAN);
  return bytes;
}

/** A JMP placed after `code`: true falls to it and jumps on by `no`; false lands past it. */
const jump = (no: number) => op(INET_DIAG_BC_JMP, OP, no);

/** ss's NOT: a condition's "true" reaches the jump, which skips to reject (end + 4). */
function negate(code: Uint8Array): Uint8Array {
  return concat(code, jump(2 * OP));
}

/**
 * ss's AND: `a` then `b`, where `a`'s jumps to its own "reject" (its end + 4) are moved on by
 * `b`'s length. Ops are walked by `yes`, which is always an op's own length.
 */
function and(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = concat(a, b);
  const view = new DataView(out.buffer);
  for (let at = 0; at < a.length;) {
    const no = view.getUint16(at + 2, HOST_LITTLE_ENDIAN);
    if (no === a.length - at + OP) {
      const moved = no + b.length;
      if (moved > 0xffff) throw new RangeError("the filter is too large for inet_diag bytecode");
      view.setUint16(at + 2, moved, HOST_LITTLE_ENDIAN);
    }
    at += view.getUint8(at + 1);
  }
  return out;
}

/** ss's OR: `a`'s "false" lands on `b`; its "true" reaches a jump over `b` to accept. */
function or(a: Uint8Array, b: Uint8Array): Uint8Array {
  return concat(a, jump(b.length + OP), b);
}

function checkPort(what: string, port: unknown): number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new RangeError(`${what} must be a port number from 0 to 65535, got ${shown(port)}`);
  }
  return port;
}

/** A host condition (S_COND / D_COND): family and prefix (AF_UNSPEC, 0 for any), port or -1. */
function hostCondition(
  code: number,
  family: number,
  prefixLength: number,
  address: Uint8Array,
  port: number,
): Uint8Array {
  const length = OP + SIZEOF_INET_DIAG_HOSTCOND + address.length;
  const cond = new Uint8Array(SIZEOF_INET_DIAG_HOSTCOND + address.length);
  const view = new DataView(cond.buffer);
  view.setUint8(OFFSETOF_INET_DIAG_HOSTCOND_FAMILY, family);
  view.setUint8(OFFSETOF_INET_DIAG_HOSTCOND_PREFIX_LEN, prefixLength);
  view.setInt32(OFFSETOF_INET_DIAG_HOSTCOND_PORT, port, HOST_LITTLE_ENDIAN);
  cond.set(address, OFFSETOF_INET_DIAG_HOSTCOND_ADDR);
  return concat(op(code, length, length + OP), cond);
}

/** An op whose argument is a port in the following op's `no` field (S_GE and friends). */
function portBound(code: number, port: number): Uint8Array {
  return concat(op(code, 2 * OP, 3 * OP), op(0, 0, port));
}

function compilePort(side: "sport" | "dport", match: PortMatch): Uint8Array {
  const src = side === "sport";
  const eq = (port: number) =>
    hostCondition(
      src ? INET_DIAG_BC_S_COND : INET_DIAG_BC_D_COND,
      AF_UNSPEC,
      0,
      // ss gives an any-address condition an IPv4-sized zero address; the kernel skips it.
      new Uint8Array(4),
      checkPort(side, port),
    );
  if (typeof match === "number") return eq(match);
  if (match === null || typeof match !== "object") {
    throw new TypeError(`${side} must be a port number or an object of bounds (eq, ge, le...)`);
  }
  const ge = (port: number) =>
    portBound(src ? INET_DIAG_BC_S_GE : INET_DIAG_BC_D_GE, checkPort(side, port));
  const le = (port: number) =>
    portBound(src ? INET_DIAG_BC_S_LE : INET_DIAG_BC_D_LE, checkPort(side, port));
  const parts: Uint8Array[] = [];
  for (const [key, port] of Object.entries(match)) {
    if (port === undefined) continue;
    switch (key) {
      case "eq":
        parts.push(eq(port));
        break;
      case "ne":
        parts.push(negate(eq(port)));
        break;
      case "ge":
        parts.push(ge(port));
        break;
      case "le":
        parts.push(le(port));
        break;
      case "gt":
        parts.push(negate(le(port)));
        break;
      case "lt":
        parts.push(negate(ge(port)));
        break;
      default:
        throw new TypeError(
          `${side}: unknown bound ${JSON.stringify(key)}; use eq, ne, ge, le, gt or lt`,
        );
    }
  }
  if (parts.length === 0) throw new TypeError(`${side} has no bound (eq, ne, ge, le, gt or lt)`);
  return parts.reduce(and);
}

function compileHost(side: "src" | "dst", text: unknown, port: unknown): Uint8Array {
  if (typeof text !== "string") throw new TypeError(`${side} must be an address or prefix text`);
  const prefix = parsePrefix(text, side);
  return hostCondition(
    side === "src" ? INET_DIAG_BC_S_COND : INET_DIAG_BC_D_COND,
    prefix.family,
    prefix.prefixLength,
    prefix.address,
    port === undefined ? -1 : checkPort(`${side} port`, port),
  );
}

function checkU32(what: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw integerFieldError(
      value,
      `${what} must be an integer from 0 to 4294967295, got ${shown(value)}`,
    );
  }
  return value;
}

/**
 * The most levels of `all`, `any` and `not` a filter may nest, as format() nests at most 64:
 * ss's expressions are a few levels deep, and compiling recurses once per level (100,000 levels
 * overflowed the stack).
 */
const MAX_FILTER_DEPTH = 64;

/**
 * Compiles `filter`, nested `depth` levels deep within the `all`, `any` and `not` filters of
 * `within` (a cycle would recurse without end).
 */
function compile(filter: InetFilter, depth = 0, within = new Set<object>()): Uint8Array {
  if (filter === null || typeof filter !== "object") {
    throw new TypeError(`a filter must be an object such as { sport: 22 }, got ${shown(filter)}`);
  }
  if (within.has(filter)) {
    throw new TypeError(
      "a filter contains itself (a cycle through all, any or not): build it as a tree, with a new "
        + "object where the same condition appears again",
    );
  }
  if (depth > MAX_FILTER_DEPTH) {
    throw new RangeError(
      `a filter nests all, any and not more than ${MAX_FILTER_DEPTH} levels deep: flatten it `
        + "(one all or any lists every condition; not of not is the filter itself)",
    );
  }
  const keys = Object.keys(filter).filter((k) =>
    (filter as Record<string, unknown>)[k] !== undefined
  );
  const f = filter as Record<string, unknown>;
  const kind = keys.find((k) => k !== "port" && k !== "mask");
  const allowed: Record<string, string[]> = { src: ["port"], dst: ["port"], mark: ["mask"] };
  const extra = keys.filter((k) => k !== kind && !(allowed[kind ?? ""] ?? []).includes(k));
  if (kind === undefined || extra.length > 0) {
    // ss has no port of either end: it is src's or dst's, or a choice of sport and dport.
    const port = kind === undefined && keys.includes("port")
      ? " (port goes with src or dst, { dst: \"10.0.0.1\", port: 443 }; either end's port: "
        + "{ any: [{ sport: 443 }, { dport: 443 }] })"
      : "";
    throw new TypeError(
      `a filter has exactly one of all, any, not, sport, dport, src (+port), dst (+port), dev, `
        + `mark (+mask), cgroup, autobound; got keys ${keys.join(", ") || "(none)"}${port}`,
    );
  }
  switch (kind) {
    case "all":
    case "any": {
      const list = f[kind];
      if (!Array.isArray(list)) throw new TypeError(`${kind} must be an array of filters`);
      // An empty "all" accepts everything: no code. An empty "any" accepts nothing.
      if (list.length === 0) return kind === "all" ? new Uint8Array(0) : negate(new Uint8Array(0));
      within.add(filter);
      const code = list.map((item) => compile(item, depth + 1, within))
        .reduce(kind === "all" ? and : or);
      within.delete(filter);
      return code;
    }
    case "not": {
      within.add(filter);
      const code = negate(compile(f.not as InetFilter, depth + 1, within));
      within.delete(filter);
      return code;
    }
    case "sport":
    case "dport":
      return compilePort(kind, f[kind] as PortMatch);
    case "src":
    case "dst":
      // Own keys only, as the kind is found: an inherited one (Object.prototype.port) is none.
      return compileHost(kind, f[kind], keys.includes("port") ? f.port : undefined);
    case "dev": {
      const value = new Uint8Array(4);
      new DataView(value.buffer).setUint32(0, checkU32("dev", f.dev), HOST_LITTLE_ENDIAN);
      return concat(op(INET_DIAG_BC_DEV_COND, OP + 4, 2 * OP + 4), value);
    }
    case "mark": {
      const cond = new Uint8Array(SIZEOF_INET_DIAG_MARKCOND);
      const view = new DataView(cond.buffer);
      view.setUint32(
        OFFSETOF_INET_DIAG_MARKCOND_MARK,
        checkU32("mark", f.mark),
        HOST_LITTLE_ENDIAN,
      );
      view.setUint32(
        OFFSETOF_INET_DIAG_MARKCOND_MASK,
        checkU32("mask", keys.includes("mask") ? f.mask as number : 0xffff_ffff),
        HOST_LITTLE_ENDIAN,
      );
      const length = OP + cond.length;
      return concat(op(INET_DIAG_BC_MARK_COND, length, length + OP), cond);
    }
    case "cgroup": {
      const id = f.cgroup;
      if (
        !(typeof id === "bigint" && id >= 0n && id < 1n << 64n
          || Number.isSafeInteger(id) && (id as number) >= 0)
      ) {
        throw new RangeError(
          `cgroup must be a u64 cgroup id (a safe integer or a bigint), got ${shown(id)}`,
        );
      }
      const value = new Uint8Array(8);
      new DataView(value.buffer).setBigUint64(0, BigInt(id as number | bigint), HOST_LITTLE_ENDIAN);
      return concat(op(INET_DIAG_BC_CGROUP_COND, OP + 8, 2 * OP + 8), value);
    }
    case "autobound":
      if (f.autobound !== true) throw new TypeError("autobound must be true");
      return op(INET_DIAG_BC_AUTO, OP, 2 * OP);
  }
  throw new TypeError(`unknown filter key ${shown(kind)}${suggestion(kind, FILTER_KEYS)}`);
}

/** The keys a filter is made of, for the name a misspelt one is closest to. */
const FILTER_KEYS = [
  ...["all", "any", "not", "sport", "dport", "src", "dst", "port", "dev", "mark", "mask"],
  ...["cgroup", "autobound"],
];

/**
 * Compiles a filter to inet_diag bytecode, the value of an INET_DIAG_REQ_BYTECODE attribute,
 * byte for byte as `ss` compiles the same expression. Bad input (an unknown key, a port out of
 * range, an address that does not parse) throws a TypeError or RangeError saying what is wrong;
 * so do a filter that nests `all`, `any` and `not` more than 64 levels deep (RangeError) and one
 * that contains itself (TypeError).
 *
 * @example
 * ```ts
 * import { compileFilter } from "@netlink/netlink/diag";
 * // ss 'sport > :1024': NOT (sport <= 1024)
 * const code = compileFilter({ sport: { gt: 1024 } });
 * console.log(code.length); // 12
 * ```
 */
export function compileFilter(filter: InetFilter): Uint8Array {
  const code = compile(filter);
  if (code.length > VALUE_MAX) {
    throw new RangeError(
      `the filter compiles to ${code.length} bytes of bytecode; an attribute holds ${VALUE_MAX}`,
    );
  }
  return code;
}
