// The command line's shared pieces: the usage error, global options, operand parsing, output.

import { shown } from "../_options.ts";
import type { OpenOptions } from "../open.ts";
import type { CaptureFile } from "./_capture.ts";

/** A bad command line: exit status 255, as ip's. */
export class UsageError extends Error {
  /** @param message What is wrong, in one line. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

let warningOutput = (line: string) => console.error(line);

/** Where {@linkcode warn} writes: run()'s `err`, set as it starts. */
export function setWarningOutput(output: (line: string) => void): void {
  warningOutput = output;
}

/** Prints a line that does not stop the command (ip's "Database ... is corrupted at ..."). */
export function warn(line: string): void {
  warningOutput(line);
}

/** Options before the command. */
export interface Global {
  json: boolean;
  netns?: string;
  /** -4 / -6. */
  family?: "inet" | "inet6";
  /** -s: statistics too (how many times it was given: -s -s, the error counters too). */
  stats?: number;
  /** -h, -human: a link's counters in units of 1000 (with -iec, of 1024). */
  human?: boolean;
  /** -iec: -h's units are 1024. */
  iec?: boolean;
  /** -p, -pretty: JSON indented as `ip -j -p` prints it ({@linkcode json}). */
  pretty?: boolean;
  /** -d: each link's details (ip -d link show: its kind and their options). */
  details?: boolean;
  /** --capture FILE: every socket's traffic goes there. */
  capture?: CaptureFile;
}

/**
 * Options for opening one socket as the global options say (namespace, capture). Call it once
 * per socket: each gets its own capture stream.
 */
export function socketOptions(global: Global): Pick<OpenOptions, "netns" | "capture"> {
  return {
    ...(global.netns === undefined ? {} : { netns: global.netns }),
    ...(global.capture === undefined ? {} : { capture: global.capture.target() }),
  };
}

/** Where lines go. */
export type Output = (line: string) => void;

/** A command: its operands, the global options, where to print. */
export type Handler = (args: string[], global: Global, out: Output) => Promise<void>;

/**
 * ip's subcommands of each object, in the order ip tries them (ip/iplink.c, ipaddress.c,
 * iproute.c, ipneigh.c, iprule.c; tc's for qdisc, class and filter): a word names the first one
 * it begins (iproute2's matches()), so `ip link s` is set, `ip addr s` and `ip route s` show,
 * `tc qdisc l` link. "list" and "lst" are show; "chg" (whole) is change.
 */
export const IP_SUBCOMMANDS = {
  link: ["add", "set", "change", "replace", "delete", "show", "lst", "list", "xstats", "help"],
  address: [
    ...["add", "change", "replace", "delete", "list", "show", "lst", "flush", "save"],
    ...["showdump", "restore", "help"],
  ],
  route: [
    ...["add", "change", "replace", "prepend", "append", "test", "delete", "list", "show"],
    ...["lst", "get", "flush", "save", "restore", "showdump", "help"],
  ],
  neigh: ["add", "change", "replace", "delete", "get", "show", "lst", "list", "flush", "help"],
  rule: ["list", "lst", "show", "save", "restore", "add", "delete", "flush", "help"],
  qdisc: ["add", "change", "replace", "link", "delete", "list", "show", "lst", "help"],
  class: ["add", "change", "replace", "delete", "list", "show", "lst", "help"],
  filter: ["add", "change", "replace", "delete", "get", "list", "show", "lst", "help"],
  /** Commands of this tool's own that only show. */
  show: ["list", "lst", "show"],
} as const;

/**
 * iproute2's matches(): `word` is a beginning of `keyword` ("bl" of "blackhole"); "" is of none
 * (matches() answers "no match" for an empty word, so `nud ""` is a bad state, not permanent).
 */
export function abbreviates(word: string, keyword: string): boolean {
  return word.length > 0 && keyword.startsWith(word);
}

/**
 * The subcommand ("show" when absent) and the operands after it: the first of `table`'s (ip's
 * order, {@linkcode IP_SUBCOMMANDS}) that the word begins, as ip reads it. One of ip's that is
 * not in `allowed` is refused as one this tool lacks; any other word as ip and tc refuse it
 * (`ip link eth0`: Command "eth0" is unknown), with their status (255).
 */
export function verb(
  args: string[],
  allowed: string[],
  table: readonly string[] = IP_SUBCOMMANDS.show,
): [string, string[]] {
  const [first, ...rest] = args;
  if (first === undefined) return ["show", rest];
  const found = first === "chg" ? "change" : table.find((keyword) => abbreviates(first, keyword));
  if (found === undefined) throw new UsageError(`Command ${shown(first)} is unknown, try --help`);
  const name = found === "list" || found === "lst" ? "show" : found;
  if (!allowed.includes(name)) {
    throw new UsageError(`unknown subcommand ${shown(name)} (${allowed.join(", ")})`);
  }
  return [name, rest];
}

/**
 * Key/value operands ("dev eth0 table 100") with the leftover positional ones. A key given again
 * takes the last value, as ip takes most, but for those `once` maps to the error ip gives
 * ({@linkcode duplicate}, made from the key and the second value): ip refuses them.
 */
export function keywords(
  args: string[],
  keys: string[],
  once: Record<string, (key: string, value: string) => UsageError> = {},
): [Record<string, string>, string[]] {
  const found: Record<string, string> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (keys.includes(args[i])) {
      const key = args[i];
      const value = args[++i];
      if (value === undefined) throw new UsageError(`"${key}" needs a value`);
      if (Object.hasOwn(found, key) && Object.hasOwn(once, key)) throw once[key](key, value);
      found[key] = value;
    } else positional.push(args[i]);
  }
  return [found, positional];
}

/** ip's duparg(): `duplicate "dev": "eth0" is the second value.` */
export function duplicate(key: string, value: string): UsageError {
  return new UsageError(`duplicate "${key}": ${shown(value)} is the second value.`);
}

/** ip's duparg2(), for an operand that may be named bare: `either "dev" is duplicate, or...`. */
export function duplicateOrGarbage(key: string, value: string): UsageError {
  return new UsageError(`either "${key}" is duplicate, or ${shown(value)} is a garbage.`);
}

/** Refuses a keyword `what` cannot select by (a UsageError naming it), rather than ignoring it. */
export function selectors(kw: Record<string, string>, allowed: string[], what: string): void {
  const unknown = Object.keys(kw).find((key) => !allowed.includes(key));
  if (unknown === undefined) return;
  throw new UsageError(
    allowed.length
      ? `${what} selects by ${allowed.join(", ")}, not "${unknown}"`
      : `${what} takes no "${unknown}"`,
  );
}

/**
 * A number as iproute2 reads one (get_u32, get_unsigned: C's strtoul in base 0): decimal, hex
 * after 0x, octal after a leading 0 ("010" is 8, "08" is no number), the whole operand, at most
 * `max`; undefined otherwise. As strtoul, leading white space and a sign are taken: "-0" is 0,
 * and any other negative number wraps past `max`.
 */
export function unsigned(text: string, max = 0xffff_ffff): number | undefined {
  const digits = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (digits === null) return undefined;
  const [, sign, body] = digits;
  const value = /^0[0-7]/.test(body) ? parseInt(body, 8) : Number(body);
  if (sign === "-" && value !== 0) return undefined; // 2^64 - value: past any max here
  return value <= max ? value : undefined;
}

/** A bad operand in ip's words (invarg): `argument "0x" is wrong: "metric" value is invalid`. */
export function invalidArgument(text: string, invalid: string): UsageError {
  return new UsageError(`argument ${shown(text)} is wrong: ${invalid}`);
}

/** An operand the command takes no such thing as. */
export function unexpected(operand: string): UsageError {
  return new UsageError(`unexpected ${shown(operand)}`);
}

/**
 * An operand ip reads with `read` (get_u32, one of its name databases...); otherwise a
 * UsageError in ip's words ({@linkcode invalidArgument}).
 */
export function ipOperand(
  read: (text: string) => number | undefined,
  text: string,
  invalid: string,
): number {
  const value = read(text);
  if (value === undefined) throw invalidArgument(text, invalid);
  return value;
}

/** An operand ip reads with get_u32 or the like ({@linkcode unsigned}), up to `max`. */
export function ipNumber(text: string, invalid: string, max?: number): number {
  return ipOperand((t) => unsigned(t, max), text, invalid);
}

// JSON.rawJSON (V8 and JavaScriptCore have it; TypeScript's lib does not yet).
const { rawJSON, isRawJSON } = JSON as unknown as {
  rawJSON(text: string): unknown;
  isRawJSON(value: unknown): value is { rawJSON: string };
};

/**
 * One line of JSON, bigints as exact numbers (as ip -j prints a u64 past 2^53, where Number()
 * would round it); with `-p`, indented as ip's ({@linkcode pretty}).
 */
export function json(global: Global, out: Output, value: unknown): void {
  out(
    global.pretty
      ? pretty(value)
      : JSON.stringify(value, (_key, v) => typeof v === "bigint" ? rawJSON(String(v)) : v),
  );
}

/**
 * JSON as iproute2's json_writer prints it with -p: four spaces a level, each member on its own
 * line, arrays inline with a space inside the brackets (`[ "UP","LOWER_UP" ]`, objects `[ {`).
 */
export function pretty(value: unknown, depth = 0): string {
  const eol = (level: number) => `\n${"    ".repeat(level)}`;
  if (typeof value === "bigint") return String(value);
  // A number written as ip writes it ("0.00", a bridge's timer).
  if (isRawJSON(value)) return value.rawJSON;
  if (Array.isArray(value)) {
    const items = value.map((item) => pretty(item, depth + 1));
    return items.length ? `[ ${items.join(",")} ]` : "[ ]";
  }
  if (value !== null && typeof value === "object") {
    const members = Object.entries(value).filter(([, v]) => v !== undefined);
    if (!members.length) return "{}";
    const body = members.map(([k, v]) =>
      `${eol(depth + 1)}${JSON.stringify(k)}: ${pretty(v, depth + 1)}`
    );
    return `{${body.join(",")}${eol(depth)}}`;
  }
  return JSON.stringify(value);
}
