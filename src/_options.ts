/**
 * Checks of the options objects callers pass: an object, holding no key the callee does not
 * know. A misspelt option (`group` for `groups`, `timout`) would otherwise be ignored in
 * silence, and the call would do something else than asked: wait for events that never come.
 *
 * @module
 */

import { printable, quoted } from "./_printable.ts";
import { protocolText } from "./_protocols.ts";
import { suggestion } from "./_suggest.ts";
import { SocketClosedError } from "./errors.ts";

/**
 * `value` itself, or `{}` when undefined (every option is optional). Throws TypeError if it is
 * not a plain object, if it has an own enumerable key other than `keys` (one whose value is
 * undefined too: it is still a typo), or one whose value is null but for `nullable` (the keys
 * whose type has null, which means something there: link.set()'s `master: null` detaches).
 * An option left out and one given as undefined are the same: absent; null is no absence, as
 * the types say (`up?: boolean` takes no null), and is refused in every layer alike.
 */
export function checkOptions<T extends object>(
  name: string,
  value: T | undefined | null,
  keys: readonly string[],
  nullable: readonly string[] = [],
): T {
  checkInherited(name, keys);
  if (value === undefined) return {} as T;
  checkPlainObject(name, value);
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (!keys.includes(key)) throw unknownKey(name, key, keys);
    if ((value as Record<string, unknown>)[key] === null && !nullable.includes(key)) {
      throw new TypeError(
        `${name}: ${key} is null, which it does not take: leave it out (or undefined) for none`,
      );
    }
  }
  return value;
}

/**
 * Throws TypeError when Object.prototype has an enumerable property named as one of `keys`:
 * prototype pollution, which an assignment through a merge of parsed JSON or a path like
 * `"__proto__.capture"` leaves, and which every object that lacks the key inherits. Read as given, it would turn a call that leaves the option out into another
 * (`capture` writing every datagram to a file, `to` sending requests to another process's
 * port), so it is refused before anything is opened or sent. Object.prototype has no enumerable
 * property of its own otherwise: the loop finds none.
 */
export function checkInherited(name: string, keys: readonly string[]): void {
  for (const key in Object.prototype) {
    if (!keys.includes(key)) continue;
    throw new TypeError(
      `${name}: Object.prototype.${key} is set (prototype pollution): an object with no ${key} `
        + `of its own would pass it on as its ${key}; delete Object.prototype.${key}`,
    );
  }
}

/**
 * Throws TypeError naming `name` unless `value` is a plain object: `{ ... }`, one made by
 * Object.create(null), or one inheriting from plain objects (Object.create(defaults)). An
 * array, a Date, a Map, an AbortController or a class's instance is no options object: its own
 * keys (an array's indices) would be read as options, or none at all (a Date's), and what it
 * inherits is read instead (an AbortController's `signal`).
 */
export function checkPlainObject(name: string, value: unknown): asserts value is object {
  if (value === null || typeof value !== "object") {
    throw new TypeError(`${name} must be an object, got ${value === null ? "null" : typeof value}`);
  }
  // A class's prototype (Array.prototype, Date.prototype...) has a constructor of its own; the
  // library's own objects (a listed route, to delete) are taken.
  let classed = false;
  for (
    let prototype = Object.getPrototypeOf(value);
    prototype !== Object.prototype && prototype !== null;
    prototype = Object.getPrototypeOf(prototype)
  ) {
    if (apiPrototypes.has(prototype)) return;
    classed ||= Object.hasOwn(prototype, "constructor");
  }
  if (classed) {
    throw new TypeError(`${name} must be a plain object ({ ... }), got ${kindOf(value)}`);
  }
}

const apiPrototypes = new WeakSet<object>();

/**
 * Marks `prototype` as the base of objects the library returns which its functions take back
 * where options or a spec go (`route.delete(listedRoute)`): {@linkcode checkPlainObject} takes
 * them, though they are instances of a class.
 */
export function takeBackAsOptions(prototype: object): void {
  apiPrototypes.add(prototype);
}

/** "an array", "a Date", "an AbortController (...)": what a non-plain object is. */
function kindOf(value: object): string {
  if (Array.isArray(value)) return "an array";
  if (value instanceof AbortController) {
    return "an AbortController (pass { signal: controller.signal })";
  }
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof name !== "string" || name === "") return "an instance of a class";
  return /^[AEIOU]/.test(name) ? `an ${name}` : `a ${name}`;
}

/**
 * The TypeError for a key `name` does not take: which, the closest known one (did you mean) and
 * the list of them. `kind` is what the keys are: options, or a message's fields.
 */
export function unknownKey(
  name: string,
  key: string,
  keys: readonly string[],
  kind = "option",
): TypeError {
  return new TypeError(
    `${name}: unknown ${kind} ${quoted(key)}${suggestion(key, keys)}; the ${kind}s are ${
      keys.join(", ")
    }`,
  );
}

/**
 * Throws TypeError when `socket` is given beside options that only a socket `caller` opens
 * itself would take (`openOptions`, the rest of the caller's options): they would be ignored.
 */
export function checkAloneWithSocket(caller: string, socket: unknown, openOptions: object): void {
  if (socket === undefined) return;
  const ignored = Object.keys(openOptions);
  if (ignored.length > 0) {
    throw new TypeError(
      `${caller} options: ${ignored.join(", ")} would be ignored with \`socket\` (they apply to `
        + `a socket ${caller} opens): give either`,
    );
  }
}

/**
 * Throws, before any system call, for a `socket` option `caller` cannot use, which would
 * otherwise fail only at the first call that uses it: TypeError for one that is not a netlink
 * socket, or not of `protocol` (`whose`: "NETLINK_ROUTE", "the ethtool family's"), and
 * SocketClosedError for one closed already. Nothing for undefined.
 */
export function checkGivenSocket(
  caller: string,
  socket:
    | { readonly protocol: number; readonly closed: boolean; readonly unframed?: boolean }
    | undefined,
  protocol: number,
  whose: string,
): void {
  const needs = `a socket of protocol ${protocol} (${whose})`;
  if (socket === undefined) return;
  if (
    socket === null || typeof socket !== "object" || typeof socket.protocol !== "number"
    || typeof socket.closed !== "boolean"
  ) {
    throw new TypeError(
      `${caller} options: socket must be ${needs} from open(), got ${
        socket === null ? "null" : typeof socket
      }`,
    );
  }
  if (socket.protocol !== protocol) {
    throw new TypeError(
      `${caller} options: socket must be ${needs}, got one of ${protocolText(socket.protocol)}`,
    );
  }
  // Its requests, dumps and messages() throw, and only after a monitor() joined its groups.
  if (socket.unframed === true) {
    throw new TypeError(
      `${caller} options: socket must be ${needs} that reads netlink messages, got one opened `
        + "with unframed: true (its datagrams are read whole): open one without it",
    );
  }
  if (socket.closed) {
    throw new SocketClosedError(
      `${caller} options: socket is closed: pass an open one, or leave socket out (${caller} `
        + `then opens its own)`,
    );
  }
}

/**
 * Throws TypeError naming `what` if `text` holds a lone surrogate (half of a UTF-16 pair, as a
 * string cut mid-character leaves): it has no UTF-8 form, and TextEncoder would write U+FFFD in
 * its place, sending a name other than the one given. Returns `text`.
 */
export function checkWellFormed(text: string, what: string): string {
  if (!text.isWellFormed()) {
    throw new TypeError(
      `${what}: ${
        quoted(text)
      } holds a lone surrogate, which has no UTF-8 form (it would be sent as U+FFFD)`,
    );
  }
  return text;
}

/**
 * The error for `value`, which a number field does not take, saying `message`: the library's
 * one rule for bad numbers, in every layer. A RangeError when it is a value of the right kind
 * (so out of the field's range): an integer, or with `fractions` any finite number. A TypeError
 * otherwise: the wrong kind of value (a fraction where an integer goes, NaN, an infinity, a
 * string, a bigint, anything but a number).
 */
export function integerFieldError(
  value: unknown,
  message: string,
  fractions = false,
): RangeError | TypeError {
  return (fractions ? Number.isFinite(value) : Number.isInteger(value))
    ? new RangeError(message)
    : new TypeError(message);
}

/**
 * A value a caller passed, as an error message shows it: a string quoted, so that `"1"` is not
 * taken for the number 1 that the message says is allowed, with its control characters escaped
 * (quoted(): C0, DEL and C1), so that one cannot forge what a terminal shows of the message.
 */
export function shown(value: unknown): string {
  if (typeof value === "string") return quoted(value);
  if (typeof value === "bigint") return `${value}n`; // not the number String() makes it look like
  // Not String()'s list of every byte (a 300,000-byte buffer in the message).
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of ${value.byteLength} bytes`;
  // A plain object or array as JSON (`{"pid":1}`), not String()'s "[object Object]"; escaped as
  // a string is. Other objects (a Uint8Array, a Date) have a String() of their own.
  if (
    typeof value === "object" && value !== null
    && (Array.isArray(value) || [Object.prototype, null].includes(Object.getPrototypeOf(value)))
  ) {
    try {
      const json = JSON.stringify(value);
      if (json !== undefined) return printable(json);
    } catch {
      // Cyclic, or holding a BigInt: String() below.
    }
  }
  return String(value);
}

/**
 * `signal`, when it is an AbortSignal or undefined; else a TypeError naming `where` (what an
 * iteration would throw from inside, in each runtime's words, after it started).
 */
export function checkSignal(where: string, signal: unknown): AbortSignal | undefined {
  // Each type returned from its own test: narrowing `unknown` by `!==` needs strictNullChecks.
  if (signal === undefined) return undefined;
  if (signal instanceof AbortSignal) return signal;
  throw new TypeError(`${where}: signal must be an AbortSignal, got ${shown(signal)}`);
}

/**
 * `timeout`, when it is undefined or a number of milliseconds from 1 to 2^31-1; else a
 * RangeError for a number out of that range, a TypeError for anything else (NaN, a string: see
 * {@linkcode integerFieldError}), its message led by `where` when given (`"link.wait()
 * options"`). 2^31-1 is setTimeout's limit: a longer delay would fire at once. 0, which is no
 * limit in some APIs, gets `zero` (what to do instead) as its hint. Every timeout the library
 * takes is checked here.
 */
export function checkTimeout(
  timeout: unknown,
  where = "",
  zero = "leave it out to wait without a limit",
): number | undefined {
  if (timeout === undefined) return undefined;
  if (typeof timeout === "number" && timeout >= 1 && timeout <= 2 ** 31 - 1) return timeout;
  throw integerFieldError(
    timeout,
    `${where === "" ? "" : `${where}: `}timeout must be a number of milliseconds from 1 to ${
      2 ** 31 - 1
    }, got ${shown(timeout)}${timeout === 0 ? `: ${zero}` : ""}`,
    true,
  );
}

/** Throws a TypeError naming `name` unless `value` is a Uint8Array. */
export function checkBytes(name: string, value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array, got ${shown(value)}`);
  }
}

/** `value`, when it is iterable (an array...); else a TypeError naming `name`. */
export function checkIterable<T>(name: string, value: Iterable<T>): Iterable<T> {
  if (typeof (value as { [Symbol.iterator]?: unknown })?.[Symbol.iterator] !== "function") {
    throw new TypeError(`${name} must be iterable (an array), got ${shown(value)}`);
  }
  return value;
}

/**
 * `value`, when it is an integer from `min` to `max`; else an error naming `name`: a RangeError
 * for an integer out of range, a TypeError for anything else ({@linkcode integerFieldError}).
 */
export function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw integerFieldError(
      value,
      `${name} must be an integer from ${min} to ${max}, got ${shown(value)}`,
    );
  }
  return value + 0; // -0 as 0: Deno's FFI refuses -0 for an integer argument
}

/**
 * `value`, when it is a number from `min` to `max` (a whole one unless `fractions`), as a
 * function taking a number needs it: else a RangeError naming `name` for one of the right kind
 * out of range, a TypeError for anything else ({@linkcode integerFieldError}): NaN, an infinity,
 * a fraction where a whole number goes, and what is no number (a bigint, a string, a Symbol,
 * which arithmetic would turn into the engine's own TypeError or a wrong result).
 */
export function checkNumberArgument(
  name: string,
  value: unknown,
  options: { min?: number; max?: number; fractions?: boolean } = {},
): number {
  const { min = 0, max = Number.MAX_SAFE_INTEGER, fractions = false } = options;
  if (typeof value !== "number") throw numberError(name, value, min, max, fractions);
  if (
    !(fractions ? Number.isFinite(value) : Number.isInteger(value)) || value < min || value > max
  ) {
    throw numberError(name, value, min, max, fractions);
  }
  return value;
}

// Made apart from the check: on Bun a function's bytecode is made on its first call, the
// error's code included, and the check is on paths that run often.
function numberError(
  name: string,
  value: unknown,
  min: number,
  max: number,
  fractions: boolean,
): Error {
  const wanted = `${fractions ? "a number" : "an integer"} from ${min} to ${
    max === Number.MAX_SAFE_INTEGER ? "2^53 - 1" : max
  }`;
  if (typeof value !== "number") {
    return new TypeError(
      `${name} must be ${wanted}, got ${typeof value === "symbol" ? "a Symbol" : shown(value)}${
        typeof value === "bigint" ? " (a bigint: pass Number(value))" : ""
      }`,
    );
  }
  return integerFieldError(value, `${name} must be ${wanted}, got ${shown(value)}`, fractions);
}
