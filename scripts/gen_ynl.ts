// Generates one TypeScript module per YNL spec (the kernel's YAML netlink family descriptions):
// a data-only family descriptor that src/ynl/family.ts encodes and decodes with, and whose types
// src/ynl/_descriptor.ts maps to message types.
//
//   npm run gen:ynl                      every spec in ../shared/ynl/specs (else in the kernel
//                                        tree at /usr/src/linux), plus kernel-module/nltest.yaml
//   npm run gen:ynl -- --ynl DIR         specs from DIR/specs (DIR also via $YNL_DIR): a kernel
//                                        tree, or its Documentation/netlink
//   npm run gen:ynl -- SPEC.yaml[=OUT.ts] ...   extra specs (a custom family), with output paths
//
// The specs are data read from where they are kept, never copied into the repository.

import { Ajv, type ValidateFunction } from "ajv";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type {
  AttributeChecks,
  AttributeDescriptor,
  AttributeKind,
  AttributeOptions,
  DisplayHint,
  EnumDescriptor,
  FamilyDescriptor,
  MemberDescriptor,
  MemberKind,
  MemberOptions,
  OperationDescriptor,
  SubMessageFormat,
} from "../src/ynl/_descriptor.ts";
import { textHint } from "../src/ynl/_hints.ts";
import { correctSpec } from "./ynl_corrections.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "src/ynl");
const runtimeModule = join(root, "src/ynl/_descriptor.ts");

// deno-lint-ignore no-explicit-any
type Yaml = any;

/** "rtm-dst-len" → "rtmDstLen": attribute and member names as property names. */
function camel(name: string): string {
  return name.replace(/[-_]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
}

const ATTRIBUTE_KINDS = new Set<string>([
  "u8",
  "u16",
  "u32",
  "u64",
  "s8",
  "s16",
  "s32",
  "s64",
  "uint",
  "sint",
  "flag",
  "string",
  "binary",
  "nest",
  "indexed-array",
  "nest-type-value",
  "sub-message",
  "bitfield32",
  "pad",
  "unused",
]);

const LIMITS: Record<string, number | bigint> = {
  "u8-max": 0xff,
  "u16-max": 0xffff,
  "u32-max": 0xffff_ffff,
  "u64-max": 0xffff_ffff_ffff_ffffn,
  "s8-min": -0x80,
  "s8-max": 0x7f,
  "s16-min": -0x8000,
  "s16-max": 0x7fff,
  "s32-min": -0x8000_0000,
  "s32-max": 0x7fff_ffff,
  "s64-min": -0x8000_0000_0000_0000n,
  "s64-max": 0x7fff_ffff_ffff_ffffn,
};

class SpecError extends Error {}

/**
 * A `display-hint` as the descriptor keeps it, checked against the value it is on: the address
 * hints are read as text (and written from it) only where a value is an address, a u32 (IPv4) or
 * bytes (ynl.py's `_formatted_string` and `_from_string`), and `uuid` only on bytes; `hex` says
 * how to show an integer or bytes, on any of them. A hint on anything else is left out, warned.
 */
function displayHint(where: string, value: Yaml): DisplayHint | undefined {
  const hint = value["display-hint"];
  if (hint === undefined) return undefined;
  const type = value.type === "indexed-array" ? value["sub-type"] : value.type;
  const binary = type === "binary" && value.struct === undefined
    && (value.type === "indexed-array" || value["sub-type"] === undefined);
  const fits = hint === "hex"
    ? binary || INTEGER_SIZES[type] !== undefined || value["sub-type"] !== undefined
    : hint === "ipv4"
    ? binary || type === "u32"
    : (hint === "ipv6" || hint === "ipv4-or-v6" || hint === "mac" || hint === "uuid") && binary;
  // A struct member's bytes have one length: an address's (4 or 16), a UUID's (16).
  const len = typeof value.len === "number" ? value.len : undefined;
  const sized = len === undefined || hint === "hex" || hint === "mac"
    || (hint === "uuid" ? len === 16 : len === 4 || len === 16);
  if (fits && sized) return hint;
  warnings.push(
    `${where}: display-hint "${hint}" on ${value.type}${len ? ` of ${len} bytes` : ""} ignored`,
  );
  return undefined;
}

/** What this run noticed about specs, printed at the end: one line each. */
const warnings: string[] = [];

const INTEGER_SIZES: Record<string, number> = {
  u8: 1,
  s8: 1,
  u16: 2,
  s16: 2,
  u32: 4,
  s32: 4,
  u64: 8,
  s64: 8,
};

let structIndex: Map<string, string> | undefined;

/** Which header under /usr/include/linux defines each struct (the first one, by path). */
function structHeaders(): Map<string, string> {
  if (structIndex !== undefined) return structIndex;
  structIndex = new Map();
  const walk = (dir: string) => {
    for (const entry of readdirSync(join("/usr/include", dir), { withFileTypes: true }).sort()) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".h")) {
        const text = readFileSync(join("/usr/include", path), "utf8");
        for (const match of text.matchAll(/^struct\s+(\w+)\s*\{/gm)) {
          if (!structIndex!.has(match[1])) structIndex!.set(match[1], path);
        }
      }
    }
  };
  walk("linux");
  return structIndex;
}

/** Where the compiler puts a struct's members, from the family's uAPI headers. */
interface CLayout {
  size?: number;
  members: Map<string, { offset: number; size: number; signed?: boolean }>;
}

/**
 * Asks the C compiler how the family's uAPI headers lay out the spec's structs: size, and offset
 * and size of each member (a struct or member the headers lack, or a bitfield, is just absent).
 * One program per family; lines the compiler rejects are dropped and it compiles again.
 */
function cLayouts(spec: Yaml, defs: Yaml[]): Map<string, CLayout> {
  const headers = new Set<string>(["linux/types.h"]);
  for (const header of [uapiHeader(spec), ...defs.map((def) => def.header)]) {
    if (typeof header === "string" && header.endsWith(".h")) headers.add(header);
  }
  const c = (name: string) => String(name).replaceAll("-", "_");
  // A struct may live in a header the spec does not name (tc's actions, linux/tc_act/*.h).
  for (const def of defs) {
    const header = structHeaders().get(c(def.name));
    if (header !== undefined) headers.add(header);
  }
  const queries: { struct: string; member?: string; line: string }[] = [];
  for (const def of defs) {
    const type = `struct ${c(def.name)}`;
    queries.push({ struct: def.name, line: `Z("${def.name}", sizeof(${type}));` });
    for (const member of def.members ?? []) {
      if (member.type === "pad") continue;
      queries.push({
        struct: def.name,
        member: member.name,
        line: `M("${def.name}", "${member.name}", offsetof(${type}, ${c(member.name)}), `
          + `sizeof(((${type} *)0)->${c(member.name)}));`,
      });
      // Signedness, on a line of its own: the cast does not compile for an array member.
      queries.push({
        struct: def.name,
        member: member.name,
        line: `S("${def.name}", "${member.name}", `
          + `(__typeof__(((${type} *)0)->${c(member.name)}))-1 < 0);`,
      });
    }
  }
  const prologue = [
    ...[...headers].filter((h) => existsSync(join("/usr/include", h))).map((h) =>
      `#include <${h}>`
    ),
    "#include <stddef.h>",
    "#include <stdio.h>",
    "#define Z(s, n) printf(\"%s\\t\\t0\\t%zu\\n\", s, (size_t)(n))",
    "#define M(s, m, o, n) printf(\"%s\\t%s\\t%zu\\t%zu\\n\", s, m, (size_t)(o), (size_t)(n))",
    "#define S(s, m, neg) printf(\"%s\\t%s\\tsigned\\t%d\\n\", s, m, (int)(neg))",
    "int main(void) {",
  ];
  const dir = mkdtempSync(join(tmpdir(), "gen-ynl-"));
  const layouts = new Map<string, CLayout>();
  try {
    let live = queries;
    for (let attempt = 0; attempt < 20 && live.length > 0; attempt++) {
      const source = [...prologue, ...live.map((q) => q.line), "return 0;", "}", ""].join("\n");
      writeFileSync(join(dir, "layout.c"), source);
      try {
        execFileSync("cc", ["-w", "-o", join(dir, "layout"), join(dir, "layout.c")], {
          stdio: ["ignore", "ignore", "pipe"],
        });
      } catch (err) {
        const stderr = String((err as { stderr?: Uint8Array }).stderr ?? "");
        const bad = new Set<number>();
        for (const match of stderr.matchAll(/layout\.c:(\d+):/g)) {
          const index = Number(match[1]) - prologue.length - 1;
          if (index >= 0 && index < live.length) bad.add(index);
        }
        if (bad.size === 0) return layouts; // the headers themselves do not compile
        live = live.filter((_, i) => !bad.has(i));
        continue;
      }
      const out = execFileSync(join(dir, "layout"), { encoding: "utf8" });
      for (const line of out.trim().split("\n")) {
        const [struct, member, offset, size] = line.split("\t");
        if (!struct) continue;
        const layout: CLayout = layouts.get(struct) ?? { members: new Map() };
        layouts.set(struct, layout);
        if (offset === "signed") {
          const known = layout.members.get(member);
          if (known) known.signed = size === "1";
        } else if (member) {
          layout.members.set(member, { offset: Number(offset), size: Number(size) });
        } else layout.size = Number(size);
      }
      break;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return layouts;
}

/**
 * Struct members are packed as a spec lists them, but the kernel copies C structs, which the
 * compiler pads (rtnl-link-ifmap is 32 bytes, not 28; tc-u32-sel's offmask sits at 4, not 3), and
 * a few specs give a member the wrong width (tc-ratespec's overhead is a __u16, not a u8). Where
 * the uAPI headers have the struct, its layout wins: pad members go where the compiler pads, an
 * integer takes the header's width, and each correction is reported.
 */
function layOutLikeHeaders(
  spec: Yaml,
  defs: Yaml[],
  structs: Record<string, MemberDescriptor[]>,
): void {
  const layouts = cLayouts(spec, defs);
  // Nested structs first: a member's size is its struct's corrected size.
  const byName = new Map(defs.map((def) => [def.name, def]));
  const ordered: Yaml[] = [];
  const visit = (def: Yaml | undefined) => {
    if (def === undefined || ordered.includes(def)) return;
    for (const member of def.members ?? []) visit(byName.get(member.struct));
    ordered.push(def);
  };
  defs.forEach(visit);
  for (const def of ordered) {
    const layout = layouts.get(def.name);
    if (layout?.size === undefined) continue;
    const where = `${spec.name}: struct ${def.name}`;
    const members = def.members ?? [];
    const out: MemberDescriptor[] = [];
    const notes: string[] = [];
    let offset = 0, ok = true;
    for (const [i, member] of structs[def.name].entries()) {
      const c = layout.members.get(members[i].name);
      if (member[1] === "pad" || c === undefined) {
        // An explicit pad, or a name the header spells differently: as the spec has it.
        out.push(member);
        offset += memberSize(member, structs);
        continue;
      }
      if (c.offset < offset) {
        ok = false;
        break;
      }
      if (c.offset > offset) {
        out.push([`pad${offset}`, "pad", { len: c.offset - offset }]);
        notes.push(`${c.offset - offset} byte(s) of padding before ${members[i].name}`);
      }
      let adjusted = member;
      const size = memberSize(member, structs);
      if (size !== c.size) {
        const [name, kind, options] = member;
        const sign = c.signed === undefined ? kind[0] : c.signed ? "s" : "u";
        if (INTEGER_SIZES[kind] !== undefined && INTEGER_SIZES[`${sign}${c.size * 8}`]) {
          const wider = `${sign}${c.size * 8}` as MemberKind;
          adjusted = options ? [name, wider, options] : [name, wider];
          notes.push(`${members[i].name} is ${wider} in the header, not ${kind}`);
        } else {
          // An array or struct member of another size (a flexible array, keys[0], is 0 bytes
          // in C): as the spec has it.
          notes.push(`${members[i].name} kept at ${size} bytes (${c.size} in the header)`);
        }
      }
      out.push(adjusted);
      offset = c.offset + memberSize(adjusted, structs);
    }
    if (!ok) {
      if (structSizeOf(structs[def.name], structs) !== layout.size) {
        warnings.push(`${where}: ${layout.size} bytes in the header, laid out as the spec says`);
      }
      continue;
    }
    if (layout.size > offset) {
      out.push([`pad${offset}`, "pad", { len: layout.size - offset }]);
      notes.push(`${layout.size - offset} byte(s) of tail padding`);
    }
    if (notes.length > 0) {
      structs[def.name] = out;
      warnings.push(`${where} laid out as the header does: ${notes.join("; ")}`);
    }
  }
}

/** A struct member's size in bytes, as the descriptor lays it out (a nested struct's, summed). */
function memberSize(
  [, kind, options = {}]: MemberDescriptor,
  structs: Record<string, MemberDescriptor[]>,
): number {
  if (INTEGER_SIZES[kind] !== undefined) return INTEGER_SIZES[kind];
  if (options.struct !== undefined && options.len === undefined) {
    return structSizeOf(structs[options.struct] ?? [], structs);
  }
  return options.len ?? 0;
}

function structSizeOf(members: MemberDescriptor[], structs: Record<string, MemberDescriptor[]>) {
  return members.reduce((size, member) => size + memberSize(member, structs), 0);
}

/** The family's own uAPI header, as the spec names it or by its name. */
function uapiHeader(spec: Yaml): string {
  return spec["uapi-header"] ?? `linux/${spec.name}.h`;
}

/**
 * The package subpath of a generated module: its file name with dashes, as the kernel spells
 * most spec names (`rt_link.ts` is `@netlink/netlink/ynl/rt-link`, `mptcp_pm.ts` `ynl/mptcp-pm`).
 */
function subpath(out: string): string {
  return basename(out, ".ts").replaceAll("_", "-");
}

/**
 * Turns one parsed spec into a descriptor. `docs` receives the JSDoc of each attribute, keyed by
 * its path in the descriptor ("sets", set, key, NUL-separated): its C name, kind and the spec's
 * doc, which editors then show on the properties of decoded messages.
 */
function describeFamily(spec: Yaml, docs?: Map<string, string>): FamilyDescriptor {
  const consts: Record<string, number | string> = {};
  const enums: Record<string, EnumDescriptor> = {};
  const structs: Record<string, MemberDescriptor[]> = {};
  const definitions: Yaml[] = spec.definitions ?? [];

  for (const def of definitions) {
    if (def.type === "const") consts[def.name] = def.value;
  }
  /** A define the spec uses but leaves to its uAPI header (wireguard's wg-key-len). */
  const headerDefine = (name: string): number | undefined => {
    const header = join("/usr/include", uapiHeader(spec));
    if (!existsSync(header)) return undefined;
    const macro = name.toUpperCase().replaceAll("-", "_");
    const match = new RegExp(`^#define\\s+${macro}\\s+(\\d+)\\b`, "m")
      .exec(readFileSync(header, "utf8"));
    return match ? Number(match[1]) : undefined;
  };
  /** A len-or-define: a number, a constant's name, or "NAME - 1". */
  const length = (value: unknown): number => {
    if (typeof value === "number") return value;
    const match = /^([0-9A-Za-z_-]+)( - 1)?$/.exec(String(value));
    const base = match ? consts[match[1]] ?? LIMITS[match[1]] ?? headerDefine(match[1]) : undefined;
    if (typeof base !== "number") throw new SpecError(`unknown length "${value}"`);
    return match![2] ? base - 1 : base;
  };
  const limit = (value: unknown): number | bigint => {
    if (typeof value === "number") return value;
    const known = LIMITS[String(value)] ?? consts[String(value)];
    if (typeof known !== "number" && typeof known !== "bigint") {
      throw new SpecError(`unknown limit "${value}"`);
    }
    return known;
  };

  for (const def of definitions) {
    if (def.type === "enum" || def.type === "flags") {
      const flags = def.type === "flags";
      const entries: Record<string, number> = {};
      let next: number = def["value-start"] ?? 0;
      for (const raw of def.entries ?? []) {
        const entry = typeof raw === "string" ? { name: raw } : raw;
        const value: number = entry.value ?? next;
        next = value + 1;
        entries[entry.name] = flags ? 2 ** value : value;
      }
      enums[def.name] = { flags, entries };
    } else if (def.type === "struct") {
      structs[def.name] = (def.members ?? []).map((member: Yaml): MemberDescriptor => {
        const options: { -readonly [K in keyof MemberOptions]: MemberOptions[K] } = {};
        if (member.len !== undefined) options.len = length(member.len);
        if (member["byte-order"] === "big-endian") options.bigEndian = true;
        if (member.enum !== undefined) options.enum = member.enum;
        if (member["enum-as-flags"]) options.asFlags = true;
        if (member.struct !== undefined) options.struct = member.struct;
        const hint = displayHint(`struct ${def.name} member ${member.name}`, member);
        if (hint !== undefined) options.hint = hint;
        const kind = member.type as MemberKind;
        if (
          (kind === "pad" || kind === "string" || kind === "binary") && options.len === undefined
        ) {
          if (options.struct === undefined) {
            throw new SpecError(`struct ${def.name} member ${member.name} has no len`);
          }
        }
        const name = camel(member.name);
        return Object.keys(options).length ? [name, kind, options] : [name, kind];
      });
    }
  }

  layOutLikeHeaders(spec, definitions.filter((def) => def.type === "struct"), structs);

  const flagMask = (name: string): number => {
    const flags = enums[name];
    if (flags === undefined) throw new SpecError(`flags-mask names unknown flags "${name}"`);
    return Object.values(flags.entries).reduce((mask, bit) => mask + bit, 0);
  };

  // Attribute sets: numbered from 1 unless `value` says; subsets borrow their parent's numbers.
  const rawSets = new Map<string, Yaml>();
  for (const set of spec["attribute-sets"] ?? []) rawSets.set(set.name, set);
  const numbered = new Map<string, Map<string, Yaml & { value: number }>>();
  const numberSet = (name: string): Map<string, Yaml & { value: number }> => {
    let attributes = numbered.get(name);
    if (attributes !== undefined) return attributes;
    const set = rawSets.get(name);
    if (set === undefined) throw new SpecError(`unknown attribute set "${name}"`);
    attributes = new Map();
    if (set["subset-of"] !== undefined) {
      const parent = numberSet(set["subset-of"]);
      for (const attribute of set.attributes) {
        const real = parent.get(attribute.name);
        if (real === undefined) {
          throw new SpecError(`${name}: ${attribute.name} is not in ${set["subset-of"]}`);
        }
        attributes.set(attribute.name, { ...real, ...attribute, value: real.value });
      }
    } else {
      let next = 1;
      for (const attribute of set.attributes) {
        const value: number = attribute.value ?? next;
        next = value + 1;
        attributes.set(attribute.name, { ...attribute, value });
      }
    }
    numbered.set(name, attributes);
    return attributes;
  };

  /** The prefix of the C names of a set's attributes (IFLA_ for rt-link's link-attrs). */
  const namePrefix = (name: string): string => {
    const set = rawSets.get(name);
    if (set["name-prefix"] !== undefined) return set["name-prefix"];
    if (set["subset-of"] !== undefined) return namePrefix(set["subset-of"]);
    return name === spec.name ? `${spec.name}-a-` : `${spec.name}-a-${name}-`;
  };
  const sets: Record<string, Record<string, AttributeDescriptor>> = {};
  for (const name of rawSets.keys()) {
    const out: Record<string, AttributeDescriptor> = {};
    for (const attribute of numberSet(name).values()) {
      const key = camel(attribute.name);
      if (Object.hasOwn(out, key)) throw new SpecError(`${name}: two attributes named ${key}`);
      out[key] = describeAttribute(name, attribute);
      const cName = `${namePrefix(name)}${attribute.name}`.toUpperCase().replace(/[-.]/g, "_");
      const what = [
        attribute.type,
        attribute.type === "nest-type-value" && attribute["sub-type"],
        attribute.enum && `enum ${attribute.enum}`,
        textHint(out[key][2]?.hint) && `as ${out[key][2]!.hint} text`,
      ].filter(Boolean);
      const doc = attribute.doc === undefined ? "" : ` ${String(attribute.doc).trim()}`;
      docs?.set(`sets\0${name}\0${key}`, `${cName} (${what.join(", ")}).${doc}`);
    }
    sets[name] = out;
  }

  function describeAttribute(set: string, attribute: Yaml): AttributeDescriptor {
    let kind: string = attribute.type;
    const options: { -readonly [K in keyof AttributeOptions]: AttributeOptions[K] } = {};
    if (kind === "array-nest") {
      kind = "indexed-array";
      options.subType = "nest";
    }
    if (!ATTRIBUTE_KINDS.has(kind)) {
      throw new SpecError(`${set}.${attribute.name}: unsupported type "${kind}"`);
    }
    if (attribute["byte-order"] === "big-endian") options.bigEndian = true;
    if (attribute["multi-attr"]) options.multi = true;
    if (attribute["nested-attributes"] !== undefined) {
      options.nest = attribute["nested-attributes"];
      if (!rawSets.has(options.nest!)) {
        throw new SpecError(`${set}.${attribute.name}: unknown set ${options.nest}`);
      }
    }
    if (attribute.struct !== undefined) options.struct = attribute.struct;
    if (attribute.enum !== undefined) options.enum = attribute.enum;
    if (attribute["enum-as-flags"]) options.asFlags = true;
    if (attribute["sub-type"] !== undefined) options.subType = attribute["sub-type"];
    if (kind === "indexed-array" && options.subType === undefined) options.subType = "nest";
    const hint = displayHint(`${set}.${attribute.name}`, attribute);
    if (hint !== undefined) options.hint = hint;
    if (attribute["sub-message"] !== undefined) options.subMessage = attribute["sub-message"];
    if (attribute.selector !== undefined) options.selector = camel(attribute.selector);
    if (kind === "nest-type-value") {
      options.typeValue = (attribute["type-value"] ?? []).map(camel);
      // Its entries end in an attribute set, or in one integer each (a `sub-type`, as
      // ynl_corrections.ts gives ethtool's stats-grp stat): `{ ...levels, value }`.
      const scalar = options.subType === "uint" || options.subType === "sint"
        || INTEGER_SIZES[options.subType!] !== undefined;
      if (options.nest === undefined && !scalar) {
        throw new SpecError(
          `${set}.${attribute.name}: nest-type-value needs nested-attributes or an integer sub-type`,
        );
      }
      if (scalar && options.typeValue!.includes("value")) {
        throw new SpecError(`${set}.${attribute.name}: a type-value named "value" hides the value`);
      }
    }
    const checks = attribute.checks;
    if (checks !== undefined) {
      const out: { -readonly [K in keyof AttributeChecks]: AttributeChecks[K] } = {};
      if (checks.min !== undefined) out.min = limit(checks.min);
      if (checks.max !== undefined) out.max = limit(checks.max);
      if (checks["min-len"] !== undefined) out.minLen = length(checks["min-len"]);
      if (checks["max-len"] !== undefined) out.maxLen = length(checks["max-len"]);
      if (checks["exact-len"] !== undefined) out.exactLen = length(checks["exact-len"]);
      if (checks["flags-mask"] !== undefined) out.mask = flagMask(checks["flags-mask"]);
      if (Object.keys(out).length) options.checks = out;
    }
    if (options.enum !== undefined && enums[options.enum] === undefined) {
      throw new SpecError(`${set}.${attribute.name}: unknown enum ${options.enum}`);
    }
    if (options.struct !== undefined && structs[options.struct] === undefined) {
      throw new SpecError(`${set}.${attribute.name}: unknown struct ${options.struct}`);
    }
    const value: number = attribute.value;
    return Object.keys(options).length
      ? [value, kind as AttributeKind, options]
      : [value, kind as AttributeKind];
  }

  const subMessages: Record<string, Record<string, SubMessageFormat>> = {};
  for (const sub of spec["sub-messages"] ?? []) {
    const formats: Record<string, SubMessageFormat> = {};
    for (const format of sub.formats) {
      const out: { header?: string; set?: string } = {};
      if (format["fixed-header"] !== undefined) out.header = format["fixed-header"];
      if (format["attribute-set"] !== undefined) out.set = format["attribute-set"];
      if (out.header !== undefined) separate(structs, out.header, sets, out.set);
      formats[String(format.value)] = out;
    }
    subMessages[sub.name] = formats;
  }

  const ops = describeOperations(spec, structs, sets);

  const groups: Record<string, number | null> = {};
  const raw = spec.protocol === "netlink-raw";
  for (const group of spec["mcast-groups"]?.list ?? []) {
    groups[group.name] = raw ? group.value ?? null : null;
  }

  return {
    name: spec.name,
    protocol: spec.protocol ?? "genetlink",
    ...(raw ? { protonum: spec.protonum } : { version: spec.version ?? 1 }),
    consts,
    enums,
    structs,
    sets,
    subMessages,
    ops,
    groups,
  };
}

/**
 * Header members and attributes share one object: a member named like an attribute of the set it
 * heads (fib-rule-hdr's table, FRA_TABLE) is renamed headerTable.
 */
function separate(
  structs: Record<string, MemberDescriptor[]>,
  header: string,
  sets: Record<string, Record<string, AttributeDescriptor>>,
  set: string | undefined,
): void {
  structs[header] = structs[header].map((member) => {
    const [name, kind, ...rest] = member;
    if (kind === "pad" || set === undefined || !Object.hasOwn(sets[set], name)) return member;
    return [camel(`header-${name}`), kind, ...rest];
  });
}

function describeOperations(
  spec: Yaml,
  structs: Record<string, MemberDescriptor[]>,
  sets: Record<string, Record<string, AttributeDescriptor>>,
): Record<string, OperationDescriptor> {
  const operations = spec.operations ?? { list: [] };
  const directional = operations["enum-model"] === "directional";
  const list: Yaml[] = operations.list;
  const byName = new Map<string, Yaml>(list.map((op) => [op.name, op]));
  const ops: Record<string, OperationDescriptor> = {};
  let nextRequest = 1, nextReply = 1;
  const shape = (mode: Yaml | undefined) => {
    if (mode === undefined) return undefined;
    const out: { request?: boolean; reply?: boolean } = {};
    if (mode.request !== undefined) out.request = true;
    if (mode.reply !== undefined) out.reply = true;
    return out;
  };

  for (const op of list) {
    const isNotification = op.notify !== undefined || op.event !== undefined;
    const hasReply = op.do?.reply !== undefined || op.dump?.reply !== undefined;
    let request: number | undefined, reply: number | undefined;
    if (!directional) {
      // One numbering for every operation, starting at 1 (0 is the unspec command).
      const value: number = op.value ?? nextRequest;
      nextRequest = value + 1;
      if (!isNotification) request = value;
      if (isNotification || hasReply) reply = value;
    } else if (isNotification) {
      reply = op.value ?? nextReply;
      nextReply = reply! + 1;
    } else {
      // Requests and replies have their own numberings, each counting up from the last value.
      request = op.do?.request?.value ?? op.dump?.request?.value ?? op.value ?? nextRequest;
      nextRequest = request! + 1;
      if (hasReply) {
        reply = op.do?.reply?.value ?? op.dump?.reply?.value ?? nextReply;
        nextReply = reply! + 1;
      }
    }
    // A notification shares the set, header and reply attributes of the operation it notifies.
    const source = op.notify !== undefined ? byName.get(op.notify) : op;
    if (source === undefined) throw new SpecError(`${op.name} notifies unknown ${op.notify}`);
    const out: { -readonly [K in keyof OperationDescriptor]: OperationDescriptor[K] } = {};
    const set = source["attribute-set"] ?? op["attribute-set"];
    const header = op["fixed-header"] ?? source["fixed-header"] ?? operations["fixed-header"];
    if (set !== undefined) out.set = set;
    if (header !== undefined) {
      if (structs[header] === undefined) {
        throw new SpecError(`${op.name}: unknown struct ${header}`);
      }
      out.header = header;
      separate(structs, header, sets, set);
    }
    if (request !== undefined) out.request = request;
    if (reply !== undefined) out.reply = reply;
    const doShape = shape(op.do), dumpShape = shape(op.dump);
    if (doShape !== undefined) out.do = doShape;
    if (dumpShape !== undefined) out.dump = dumpShape;
    if (op.notify !== undefined) out.notify = op.notify;
    if (op.event !== undefined) out.event = true;
    if (op.mcgrp !== undefined) out.group = op.mcgrp;
    ops[op.name] = out;
  }
  return ops;
}

// --- printing ----------------------------------------------------------------------------------

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function key(name: string): string {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

/**
 * A TypeScript literal for `value`; tuples and short arrays stay on one line. `comments` gives
 * the JSDoc of a property by its path of keys (an attribute's: "sets", the set, the key).
 */
function literal(
  value: unknown,
  indent: string,
  comments?: ReadonlyMap<string, string>,
  path = "",
): string {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number" && !Number.isSafeInteger(value) && Number.isInteger(value)) {
    return `${BigInt(value)}n`;
  }
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) {
    if (!value.some(Array.isArray)) {
      return `[${value.map((item) => literal(item, indent)).join(", ")}]`;
    }
    const inner = indent + "  ";
    return `[\n${value.map((item) => `${inner}${literal(item, inner)},`).join("\n")}\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return "{}";
  const inner = indent + "  ";
  const at = (k: string) => path === "" ? k : `${path}\0${k}`;
  const flat = entries.every(([k, v]) =>
    (v === null || typeof v !== "object") && !comments?.has(at(k))
  );
  if (flat && entries.length <= 4) {
    return `{ ${entries.map(([k, v]) => `${key(k)}: ${literal(v, inner)}`).join(", ")} }`;
  }
  return `{\n${
    entries.map(([k, v]) => {
      const comment = comments?.get(at(k));
      const doc = comment === undefined ? "" : `${jsdoc(comment, inner)}\n`;
      return `${doc}${inner}${key(k)}: ${literal(v, inner, comments, at(k))},`;
    }).join("\n")
  }\n${indent}}`;
}

/** `text` as a JSDoc comment at `indent`, lines of at most 100 columns. */
function jsdoc(text: string, indent: string): string {
  const oneLine = `${indent}/** ${text.replace(/\s+/g, " ").trim().replace(/\*\//g, "*\\/")} */`;
  if (oneLine.length <= 100) return oneLine;
  const lines = wrap(text).split("\n").map((line) => `${indent}${line}`);
  return [`${indent}/**`, ...lines, `${indent} */`].join("\n");
}

/** `text` as JSDoc lines of at most 100 columns. */
function wrap(text: string): string {
  const lines: string[] = [];
  let line = " *";
  for (const word of text.replace(/\s+/g, " ").trim().replace(/\*\//g, "*\\/").split(" ")) {
    if (line.length + 1 + word.length > 100 && line !== " *") {
      lines.push(line);
      line = " *";
    }
    line += ` ${word}`;
  }
  return [...lines, line].join("\n");
}

function render(
  spec: Yaml,
  family: FamilyDescriptor,
  docs: ReadonlyMap<string, string>,
  exportName: string,
  outPath: string,
  source: string,
  importPath: string,
  license: string,
): string {
  let runtime = relative(dirname(outPath), runtimeModule).replaceAll("\\", "/");
  if (!runtime.startsWith(".")) runtime = `./${runtime}`;
  const firstDump = Object.entries(family.ops).find(([, op]) => op.dump !== undefined)?.[0];
  // A do that answers before one that only acts: lockd's first is server-set, which a reader
  // pasting the example would run to change the server's settings.
  const firstDo = (Object.entries(family.ops).find(([, op]) => op.do?.reply)
    ?? Object.entries(family.ops).find(([, op]) => op.do !== undefined))?.[0];
  const call = firstDump !== undefined
    ? `console.log(await client.dump(${JSON.stringify(firstDump)}));`
    : firstDo !== undefined
    ? `console.log(await client.do(${JSON.stringify(firstDo)}));`
    : `console.log(client.descriptor.name);`;
  const how = family.protocol === "netlink-raw"
    ? `netlink-raw, protocol ${family.protonum}`
    : `${family.protocol}, resolved by name through nlctrl`;
  return `// Generated by scripts/gen_ynl.ts; do not edit.
// From ${source}.
// That spec is licensed ${license};
// this module, derived from it, is distributed under BSD-3-Clause.

/**
${wrap(`The ${family.name} netlink family (${how}): ${spec.doc ?? ""}`)}
 *
 * @module
 */

import type { FamilyDescriptor } from "${runtime}";

/**
 * Descriptor of the ${family.name} family, for \`family()\`: its enums, structs, attribute sets,
 * sub-messages, operations and multicast groups, as its YNL spec describes them.
 *
 * @example
 * \`\`\`ts
 * import { family } from "@netlink/netlink/ynl";
 * import { ${exportName} } from "${importPath}";
 * await using client = await family(${exportName});
 * ${call}
 * \`\`\`
 */
export const ${exportName} = ${literal(family, "", docs)} as const satisfies FamilyDescriptor;
`;
}

// --- main --------------------------------------------------------------------------------------

/**
 * Checks a spec against the kernel's schema for its protocol kind (schemas/<protocol>.yaml, JSON
 * Schema draft-07) and returns what does not match, one line each (none: it matches). The
 * generator still reads a spec that does not match (shared/ynl pairs some specs with older
 * schemas: netdev's kernel-family key, nlctrl's array-nest type), but says so, so a custom
 * family's author sees a typo the generator might otherwise read past.
 */
function schemaChecker(schemaDir: string): (spec: Yaml) => string[] {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const compiled = new Map<string, ValidateFunction>();
  return (spec) => {
    const protocol = String(spec?.protocol ?? "genetlink");
    let check = compiled.get(protocol);
    if (check === undefined) {
      const path = join(schemaDir, `${protocol}.yaml`);
      if (!existsSync(path)) return [`no schema for protocol "${protocol}" at ${path}`];
      // Read as the kernel's tools (PyYAML) read it: netlink-raw.yaml repeats a key, the last
      // one counts. Draft-07 is Ajv's own; the kernel names it by a URL Ajv does not know, and
      // two of its schemas share one $id (copied from genetlink-legacy.yaml): both left out.
      const text = readFileSync(path, "utf8");
      const { $schema: _, $id: __, ...schema } = parse(text, { uniqueKeys: false });
      check = ajv.compile(schema);
      compiled.set(protocol, check);
    }
    if (check(spec)) return [];
    return (check.errors ?? []).map((e) =>
      `does not match schemas/${protocol}.yaml: ${e.instancePath || "/"} ${e.message} ${
        JSON.stringify(e.params)
      }`
    );
  };
}

/**
 * Where the specs are looked for when neither --ynl nor $YNL_DIR says: this checkout's shared
 * copy (specs/ and schemas/ as in a kernel tree's Documentation/netlink), then the kernel source
 * Debian's linux-source and most distributions unpack to /usr/src/linux.
 */
const DEFAULT_YNL_DIRS = [join(root, "../shared/ynl"), "/usr/src/linux"];

interface Job {
  spec: string;
  out: string;
  source: string;
}

function main(): void {
  const args = process.argv.slice(2);
  let ynlDir = process.env.YNL_DIR ?? DEFAULT_YNL_DIRS.find((dir) => existsSync(dir));
  const extra: Job[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--ynl") ynlDir = resolve(args[++i]);
    else {
      const [spec, out] = args[i].split("=");
      const path = resolve(spec);
      extra.push({
        spec: path,
        out: out ? resolve(out) : join(dirname(path), `${basename(path, ".yaml")}_ynl.ts`),
        source: relative(root, path),
      });
    }
  }
  if (ynlDir === undefined) {
    throw new Error(
      `no YNL specs in ${DEFAULT_YNL_DIRS.join(" or ")}: pass --ynl DIR or set YNL_DIR to a kernel `
        + "source tree (or its Documentation/netlink)",
    );
  }
  // A kernel source tree keeps them in Documentation/netlink: specs/ and the schemas beside it.
  if (existsSync(join(ynlDir, "Documentation/netlink/specs"))) {
    ynlDir = join(ynlDir, "Documentation/netlink");
  }
  const specDir = join(ynlDir, "specs");
  if (!existsSync(specDir)) {
    throw new Error(
      `no YNL specs at ${specDir}: pass --ynl DIR or set YNL_DIR to a kernel source tree (or its `
        + "Documentation/netlink)",
    );
  }
  const commits = new Map<string, string>();
  const manifest = join(ynlDir, "MANIFEST.tsv");
  if (existsSync(manifest)) {
    for (const line of readFileSync(manifest, "utf8").split("\n").slice(1)) {
      const [path, repository, sourcePath, commit] = line.split("\t");
      if (path) commits.set(path, `${repository} ${sourcePath} at ${commit.slice(0, 12)}`);
    }
  }
  const jobs: Job[] = readdirSync(specDir).filter((f) => f.endsWith(".yaml")).sort().map((
    file,
  ) => ({
    spec: join(specDir, file),
    out: join(outDir, `${basename(file, ".yaml").replaceAll("-", "_")}.ts`),
    source: commits.get(`specs/${file}`) ?? `specs/${file}`,
  }));
  const module = join(root, "kernel-module/nltest.yaml");
  if (existsSync(module) && !extra.some((job) => job.spec === module)) {
    extra.push({
      spec: module,
      out: join(root, "kernel-module/nltest_ynl.ts"),
      source: "kernel-module/nltest.yaml",
    });
  }

  const schemas = join(ynlDir, "schemas");
  const checkSchema = schemaChecker(existsSync(schemas) ? schemas : ynlDir);
  const written: string[] = [];
  const skipped: string[] = [];
  const mismatches: string[] = [];
  for (const job of [...jobs, ...extra]) {
    const text = readFileSync(job.spec, "utf8");
    const spec = parse(text, { maxAliasCount: -1 });
    correctSpec(spec); // scripts/ynl_corrections.ts: what the specs get wrong, fixed
    for (const line of checkSchema(spec)) mismatches.push(`${basename(job.spec)}: ${line}`);
    const license = /SPDX-License-Identifier:\s*(.+)/.exec(text)?.[1].trim() ?? "(no SPDX line)";
    try {
      const docs = new Map<string, string>();
      const family = describeFamily(spec, docs);
      const exportName = camel(String(spec.name).replace(/^[0-9]/, "_$&"));
      const importPath = extra.includes(job)
        ? `./${basename(job.out)}`
        : `@netlink/netlink/ynl/${subpath(job.out)}`;
      writeFileSync(
        job.out,
        render(spec, family, docs, exportName, job.out, job.source, importPath, license),
      );
      written.push(job.out);
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      skipped.push(`${basename(job.spec)}: ${err.message}`);
    }
  }
  execFileSync(join(root, "node_modules/.bin/dprint"), ["fmt", ...written], {
    cwd: root,
    stdio: "inherit",
  });
  for (const out of written) console.log(`wrote ${relative(root, out)}`);
  for (const line of skipped) console.log(`skipped ${line}`);
  for (const line of mismatches) console.log(`warning: ${line}`);
  for (const line of warnings) console.log(`note: ${line}`);
}

main();
