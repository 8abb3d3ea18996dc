/**
 * A pick: the attributes a caller of the typed layer asked to have decoded (`attrs`), checked
 * against the operations' sets before anything is sent, and the bounded caches of what is
 * generated per pick (one decoder per set and pick, made once, not re-read per message).
 *
 * @module
 */

import { shown } from "../_options.ts";
import { quoted } from "../_printable.ts";
import { suggestion } from "../_suggest.ts";
import {
  type Codec,
  type CompiledAttribute,
  type CompiledSet,
  INDEXED_ARRAY,
  NEST,
  NEST_TYPE_VALUE,
  nestedSet,
  SUB_MESSAGE,
} from "./_compile.ts";
import type { OperationDescriptor } from "./_descriptor.ts";

/** The attributes to decode, and the key its generated decoders are cached under. */
export interface AttributePick {
  readonly names: ReadonlySet<string>;
  readonly key: string;
}

/**
 * Distinct picks whose generated code is kept, per set (and per operation for the message
 * decoders): a program names a few; one that makes picks from data does not grow without bound.
 */
export const PICKS_KEPT = 32;

/**
 * `make(key)` cached in `cache` under `key`, the oldest entry dropped once `PICKS_KEPT` are
 * held (a Map iterates in insertion order).
 */
export function keptPick<T>(cache: Map<string, T>, key: string, make: () => T): T {
  let value = cache.get(key);
  if (value === undefined) {
    value = make();
    if (cache.size >= PICKS_KEPT) cache.delete(cache.keys().next().value!);
    cache.set(key, value);
  }
  return value;
}

/**
 * The pick `attrs` names for messages of `ops` (a monitor's: every operation of the family), or
 * undefined when it names none (`attrs` undefined: everything is decoded). Throws TypeError,
 * before anything is sent, for what is no array of strings, a name that is no attribute of the
 * operations' sets nor member of their fixed headers (naming the sets, and the closest name), and
 * a sub-message picked without the attribute that selects its format (tc's `options` without
 * `kind`: its bytes could not be read).
 */
export function pickOf(
  codec: Codec,
  what: string,
  ops: readonly OperationDescriptor[],
  attrs: unknown,
): AttributePick | undefined {
  if (attrs === undefined) return undefined;
  if (!Array.isArray(attrs) || attrs.some((name) => typeof name !== "string")) {
    throw new TypeError(
      `${what}: attrs must be an array of attribute names (such as ${
        quoted(firstAttribute(codec, ops))
      }), got ${shown(attrs)}`,
    );
  }
  const sets = [
    ...new Set(ops.flatMap((op) => op.set === undefined ? [] : [codec.set(op.set)])),
  ];
  const members = new Set(
    ops.flatMap((op) =>
      op.header === undefined ? [] : codec.struct(op.header).members.map((member) => member.key)
    ),
  );
  const names = new Set<string>(attrs);
  for (const name of names) {
    if (members.has(name) || sets.some((set) => set.byKey.has(name))) continue;
    const headers = [...new Set(ops.flatMap((op) => op.header === undefined ? [] : [op.header]))];
    const of = [
      sets.length === 0 ? "" : `attribute of ${sets.map((set) => set.name).join(" or ")}`,
      headers.length === 0 ? "" : `member of ${headers.join(" or ")}`,
    ].filter(Boolean).join(" nor ");
    throw new TypeError(
      `${what}: attrs: ${quoted(name)} is no ${of || "attribute: the messages have none"}${
        suggestion(name, [...sets.flatMap((set) => [...set.byKey.keys()]), ...members])
      }`,
    );
  }
  for (const set of sets) {
    for (const name of names) {
      const attribute = set.byKey.get(name);
      if (attribute === undefined) continue;
      for (const selector of selectorsFrom(codec, attribute, new Set(), new Set())) {
        if (!set.byKey.has(selector) || names.has(selector)) continue;
        throw new TypeError(
          `${what}: attrs: ${quoted(name)} ${
            attribute.code === SUB_MESSAGE ? "is" : "holds"
          } a sub-message whose format ${quoted(selector)} selects: add ${quoted(selector)}`,
        );
      }
    }
  }
  return { names, key: [...names].sort().join(",") };
}

/**
 * The selectors that sub-messages in or under `attribute` look up in the sets enclosing it: those
 * no set between them and `attribute` has (`within`: the keys of those sets; findSelector takes
 * the innermost set having the key).
 */
function selectorsFrom(
  codec: Codec,
  attribute: CompiledAttribute,
  within: ReadonlySet<string>,
  visited: Set<string>,
): string[] {
  const found: string[] = [];
  const walk = (set: CompiledSet | undefined, keys: ReadonlySet<string>) => {
    if (set === undefined || visited.has(set.name)) return;
    visited.add(set.name);
    const inner = new Set([...keys, ...set.byKey.keys()]);
    for (const nested of set.byKey.values()) {
      found.push(...selectorsFrom(codec, nested, inner, visited));
    }
  };
  if (attribute.code === SUB_MESSAGE) {
    const selector = attribute.options.selector!;
    if (!within.has(selector)) found.push(selector);
    const formats = codec.descriptor.subMessages[attribute.options.subMessage!] ?? {};
    for (const format of Object.values(formats)) {
      if (format.set !== undefined) walk(codec.set(format.set), within);
    }
  } else if (
    attribute.code === NEST || attribute.code === INDEXED_ARRAY && attribute.element?.code === NEST
    || attribute.code === NEST_TYPE_VALUE && attribute.element === undefined
  ) {
    walk(nestedSet(codec, attribute.element ?? attribute), within);
  }
  return found;
}

function firstAttribute(codec: Codec, ops: readonly OperationDescriptor[]): string {
  const set = ops.find((op) => op.set !== undefined)?.set;
  return set === undefined ? "ifname" : codec.set(set).byKey.keys().next().value ?? "ifname";
}
