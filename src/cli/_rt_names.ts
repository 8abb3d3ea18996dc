// The names `ip` gives numbers and takes for them, from its databases as iproute2 reads them
// (lib/rt_names.c): routing tables, route protocols, scopes, realms, DS fields and link groups.
// Each has built-in names, which /etc/iproute2/NAME adds to or renames (iproute2 6.5+ reads
// /usr/share/iproute2/NAME when /etc has none), and tables and protocols also every *.conf in
// NAME.d. Read through libc (no permission beyond --allow-ffi), once, when first asked.

import { readDirectory, readRegularFile, type RegularFileRead } from "../../ffi/mod.ts";
import {
  NUD_DELAY,
  NUD_FAILED,
  NUD_INCOMPLETE,
  NUD_NOARP,
  NUD_NONE,
  NUD_PERMANENT,
  NUD_PROBE,
  NUD_REACHABLE,
  NUD_STALE,
  RTN_ANYCAST,
  RTN_BLACKHOLE,
  RTN_BROADCAST,
  RTN_LOCAL,
  RTN_MULTICAST,
  RTN_NAT,
  RTN_PROHIBIT,
  RTN_THROW,
  RTN_UNICAST,
  RTN_UNREACHABLE,
  RTN_XRESOLVE,
} from "../_constants.ts";
import { SyscallError } from "../errors.ts";
import { abbreviates, unsigned, warn } from "./_args.ts";

const ETC = "/etc/iproute2";
const USR = "/usr/share/iproute2";

/**
 * How much of a database is read: rt_tables and its kin are a few hundred bytes; a file past
 * this is not read whole (ip would, and its names would take as much memory).
 */
const DATABASE_LIMIT = 1 << 20;

/** The bytes fgets() reads at most (NAME_MAX_LEN - 1): a longer line is read in pieces. */
const LINE_LIMIT = 511;

/**
 * A database file's entries in order, as fread_id_name reads them: "ID NAME" a line (ID
 * decimal or 0x hex), white space and # comments skipped. At a line that is neither, reading
 * stops with ip's warning ("Database PATH is corrupted at LINE"), what came before kept.
 * Undefined when there is no such file. Only a regular file up to DATABASE_LIMIT is read: ip
 * would wait forever on a FIFO and read /dev/zero forever; the tool warns and skips it.
 */
function readEntries(path: string): [number, string][] | undefined {
  let file: RegularFileRead;
  try {
    file = readRegularFile(path, DATABASE_LIMIT);
  } catch (error) {
    if (error instanceof SyscallError && error.code === "ENOENT") return undefined;
    return [];
  }
  if (file.kind !== "file") {
    warn(
      `Database ${path} is ${
        file.kind === "too large" ? `larger than ${DATABASE_LIMIT} bytes` : "not a regular file"
      }: not read`,
    );
    return [];
  }
  const { bytes } = file;
  const decoder = new TextDecoder();
  const entries: [number, string][] = [];
  for (let at = 0; at < bytes.length;) {
    // fgets(): up to a newline (kept) or LINE_LIMIT bytes; sscanf() sees that up to a NUL.
    const newline = bytes.indexOf(10, at);
    const end = Math.min(newline < 0 ? bytes.length : newline + 1, at + LINE_LIMIT);
    const piece = bytes.subarray(at, end);
    at = end;
    const nul = piece.indexOf(0);
    const body = decoder.decode(nul < 0 ? piece : piece.subarray(0, nul)).replace(/^[ \t]+/, "");
    if (body === "" || body.startsWith("#") || body.startsWith("\n")) continue;
    // sscanf("0x%x %s"), then sscanf("%d %s"): the id, then the next word after any blanks.
    const entry = /^(?:0x([0-9a-fA-F]+)|([+-]?[0-9]+))\s*(\S+)/.exec(body);
    if (entry === null) {
      // As ip prints it: the line with its newline, then one more.
      warn(`Database ${path} is corrupted at ${body}`);
      break;
    }
    const id = entry[1] !== undefined ? parseInt(entry[1], 16) : Number(entry[2]);
    // As C's int: ids past 2^31 read as negative ones, which are skipped.
    if (id >= 0 && id <= 0x7fff_ffff) entries.push([id, entry[3]]);
  }
  return entries;
}

/** `name` from /etc/iproute2, or from /usr/share/iproute2 when /etc has no such file. */
function readDatabase(name: string): [number, string][] {
  return readEntries(`${ETC}/${name}`) ?? readEntries(`${USR}/${name}`) ?? [];
}

/** The *.conf files of directory `name` (rt_tables.d): /usr's unless /etc has one so named. */
function readDirectoryDatabase(name: string): [number, string][] {
  const confs = (dir: string) => {
    try {
      return readDirectory(dir).filter((f) => !f.startsWith(".") && /.\.conf$/.test(f));
    } catch {
      return [];
    }
  };
  const etc = confs(`${ETC}/${name}`);
  return [
    ...confs(`${USR}/${name}`).filter((f) => !etc.includes(f)).map((f) => `${USR}/${name}/${f}`),
    ...etc.map((f) => `${ETC}/${name}/${f}`),
  ].flatMap((path) => readEntries(path) ?? []);
}

/**
 * Names by number and numbers by name, read once, as ip keeps them. A "table" keeps one name a
 * number (a later one replaces an earlier, also as a name ip takes); a "hash" (tables, groups)
 * keeps every name, the latest naming its number.
 */
class NameDatabase {
  #entries?: [number, string][];
  constructor(
    readonly kind: "table" | "hash",
    readonly builtIn: [number, string][],
    readonly files: () => [number, string][],
  ) {}

  get entries(): [number, string][] {
    if (this.#entries) return this.#entries;
    const all = [...this.builtIn, ...this.files()];
    if (this.kind === "table") {
      // rtnl_tab_initialize: ids 0..255, the last name an id was given; looked up by id order.
      const table = new Map<number, string>();
      for (const [id, name] of all) if (id < 256) table.set(id, name);
      return this.#entries = [...table].sort(([a], [b]) => a - b);
    }
    // rtnl_hash_initialize: lists by id & 255, each newest first; looked up bucket by bucket.
    const buckets = Array.from({ length: 256 }, () => [] as [number, string][]);
    for (const entry of all) buckets[entry[0] & 255].unshift(entry);
    return this.#entries = buckets.flat();
  }

  /** The name of `id`, if it has one. */
  name(id: number): string | undefined {
    return this.entries.find(([n]) => n === id)?.[1];
  }

  /** The number `name` names, if any. */
  id(name: string): number | undefined {
    return this.entries.find(([, n]) => n === name)?.[0];
  }
}

const TABLES = new NameDatabase(
  "hash",
  [[253, "default"], [254, "main"], [255, "local"]],
  () => [...readDatabase("rt_tables"), ...readDirectoryDatabase("rt_tables.d")],
);

const PROTOCOLS = new NameDatabase(
  "table",
  [
    ...[[0, "unspec"], [1, "redirect"], [2, "kernel"], [3, "boot"], [4, "static"]],
    ...[[8, "gated"], [9, "ra"], [10, "mrt"], [11, "zebra"], [12, "bird"], [13, "dnrouted"]],
    ...[[14, "xorp"], [15, "ntk"], [16, "dhcp"], [18, "keepalived"], [42, "babel"]],
    ...[[186, "bgp"], [187, "isis"], [188, "ospf"], [189, "rip"], [192, "eigrp"]],
  ] as [number, string][],
  () => [...readDatabase("rt_protos"), ...readDirectoryDatabase("rt_protos.d")],
);

const SCOPES = new NameDatabase(
  "table",
  [[0, "global"], [255, "nowhere"], [254, "host"], [253, "link"], [200, "site"]],
  () => readDatabase("rt_scopes"),
);

const REALMS = new NameDatabase("table", [[0, "unknown"]], () => readDatabase("rt_realms"));

const DSFIELDS = new NameDatabase("table", [[0, "0"]], () => readDatabase("rt_dsfield"));

const GROUPS = new NameDatabase("hash", [[0, "default"]], () => readDatabase("group"));

/** A routing table's name as ip prints it (rtnl_rttable_n2a), or its number. */
export function tableName(id: number): string {
  return TABLES.name(id) ?? String(id);
}

/** A table as ip takes one (rtnl_rttable_a2n): a name, or a number up to 2^32-1. */
export function tableId(text: string): number | undefined {
  return TABLES.id(text) ?? unsigned(text);
}

/** A route protocol's name as ip prints it (rtnl_rtprot_n2a), or its number. */
export function protocolName(id: number): string {
  return PROTOCOLS.name(id) ?? String(id);
}

/** A route protocol as ip takes one (rtnl_rtprot_a2n): a name, or a number up to 255. */
export function protocolId(text: string): number | undefined {
  return PROTOCOLS.id(text) ?? unsigned(text, 255);
}

/** A scope's name as ip prints it (rtnl_rtscope_n2a), or its number. */
export function scopeName(id: number): string {
  return SCOPES.name(id) ?? String(id);
}

/** A scope as ip takes one (rtnl_rtscope_a2n): a name, or a number up to 255. */
export function scopeId(text: string): number | undefined {
  return SCOPES.id(text) ?? unsigned(text, 255);
}

/** A realm's name as ip prints it (rtnl_rtrealm_n2a), or its number. */
export function realmName(id: number): string {
  return (id < 256 ? REALMS.name(id) : undefined) ?? String(id);
}

/** A realm as ip takes one (rtnl_rtrealm_a2n): a name, or a number up to 255. */
function realmId(text: string): number | undefined {
  return REALMS.id(text) ?? unsigned(text, 255);
}

/**
 * Realms as ip takes them (get_rt_realms_or_raw): `[FROM/]TO`, each a realm ({@linkcode realmId}),
 * FROM in the high 16 bits; else the whole of RTA_FLOW as a number.
 */
export function realmsId(text: string): number | undefined {
  const slash = text.indexOf("/");
  const from = slash < 0 ? 0 : realmId(text.slice(0, slash));
  const rest = slash < 0 ? text : text.slice(slash + 1);
  const to = rest === "" ? 0 : realmId(rest);
  if (from === undefined || to === undefined) return unsigned(text);
  return ((from << 16) | to) >>> 0;
}

/** A TOS or DS field as ip prints it (rtnl_dsfield_n2a): its name, or "0x" and two digits. */
export function dsfieldName(id: number): string {
  return DSFIELDS.name(id) ?? `0x${id.toString(16).padStart(2, "0")}`;
}

/**
 * A TOS or DS field as ip takes one (rtnl_dsfield_a2n): a name, or a number up to 255 read as
 * strtoul reads base 16 ("10" and "0x10" are 16).
 */
export function dsfieldId(text: string): number | undefined {
  const named = DSFIELDS.id(text);
  if (named !== undefined) return named;
  const hex = /^[ \t\n\v\f\r]*([+-]?)(?:0[xX](?=[0-9a-fA-F]))?([0-9a-fA-F]+)$/.exec(text);
  if (hex === null) return undefined;
  const value = parseInt(hex[2], 16);
  if (hex[1] === "-" && value !== 0) return undefined; // wraps past 255
  return value <= 255 ? value : undefined;
}

/** A link group's name as ip prints it (rtnl_group_n2a), or its number. */
export function groupName(id: number): string {
  return GROUPS.name(id) ?? String(id);
}

/** /etc/protocols' entries, each its number, name and aliases; read once. */
let ipProtocols: { number: number; names: string[] }[] | undefined;

/** /etc/protocols as getprotobynumber and getprotobyname read it (none without the file). */
function protocolEntries(): { number: number; names: string[] }[] {
  if (ipProtocols !== undefined) return ipProtocols;
  ipProtocols = [];
  let text = "";
  try {
    // Not read when it is no regular file up to the limit, as a database is not.
    const file = readRegularFile("/etc/protocols", DATABASE_LIMIT);
    if (file.kind === "file") text = new TextDecoder().decode(file.bytes);
  } catch {
    // As getprotobynumber without the file: no names.
  }
  for (const line of text.split("\n")) {
    const [name, number, ...aliases] = line.replace(/#.*/, "").trim().split(/\s+/);
    if (number !== undefined && /^\d+$/.test(number)) {
      ipProtocols.push({ number: Number(number), names: [name, ...aliases] });
    }
  }
  return ipProtocols;
}

/**
 * An IP protocol's name as ip prints it (inet_proto_n2a: getprotobynumber, which reads
 * /etc/protocols), or "ipproto-N".
 */
export function ipProtocolName(id: number): string {
  return protocolEntries().find((p) => p.number === id)?.names[0] ?? `ipproto-${id}`;
}

/**
 * An IP protocol as ip takes one (inet_proto_a2n): a decimal number up to 255 (get_u8 in base
 * 10), else a name or alias of /etc/protocols (getprotobyname).
 */
export function ipProtocolId(text: string): number | undefined {
  const digits = /^[ \t\n\v\f\r]*\+?(\d+)$/.exec(text);
  if (digits !== null) return Number(digits[1]) <= 255 ? Number(digits[1]) : undefined;
  return protocolEntries().find((p) => p.names.includes(text))?.number;
}

/** RTN_* for the names ip takes (rtnl_rtntype_a2n): some may be shortened ("black"). */
const ROUTE_TYPE_NAMES: [string, number, "exact" | "prefix"][] = [
  ["local", RTN_LOCAL, "exact"],
  ["nat", RTN_NAT, "exact"],
  ["broadcast", RTN_BROADCAST, "prefix"],
  ["brd", RTN_BROADCAST, "exact"],
  ["anycast", RTN_ANYCAST, "prefix"],
  ["multicast", RTN_MULTICAST, "prefix"],
  ["prohibit", RTN_PROHIBIT, "prefix"],
  ["unreachable", RTN_UNREACHABLE, "prefix"],
  ["blackhole", RTN_BLACKHOLE, "prefix"],
  ["xresolve", RTN_XRESOLVE, "prefix"],
  ["unicast", RTN_UNICAST, "prefix"],
  ["throw", RTN_THROW, "exact"],
];

/** A route type as ip takes one (rtnl_rtntype_a2n): a name, a beginning of one, or 0..255. */
export function routeTypeId(text: string): number | undefined {
  const named = ROUTE_TYPE_NAMES.find(([name, , how]) =>
    how === "exact" ? text === name : abbreviates(text, name)
  );
  return named?.[1] ?? unsigned(text, 255);
}

/**
 * A neighbour state as ip takes one (nud_state_a2n): a name (permanent, reachable and failed may
 * be shortened), or a number with one bit set below 0x100 (or 0).
 */
export function neighbourStateId(text: string): number | undefined {
  if (abbreviates(text, "permanent")) return NUD_PERMANENT;
  if (abbreviates(text, "reachable")) return NUD_REACHABLE;
  const exact: Record<string, number> = {
    noarp: NUD_NOARP,
    none: NUD_NONE,
    stale: NUD_STALE,
    incomplete: NUD_INCOMPLETE,
    delay: NUD_DELAY,
    probe: NUD_PROBE,
  };
  if (Object.hasOwn(exact, text)) return exact[text];
  if (abbreviates(text, "failed")) return NUD_FAILED;
  const value = unsigned(text);
  return value !== undefined && value < 0x100 && (value & (value - 1)) === 0 ? value : undefined;
}

/** Whether ip takes `name` as a link's name (check_ifname): 1 to 15 bytes, no "/" or space. */
export function isIpLinkName(name: string): boolean {
  const bytes = new TextEncoder().encode(name).length;
  return bytes > 0 && bytes < 16 && !/[/ \t\n\v\f\r]/.test(name);
}
