// The fake kernel's generic netlink controller (nlctrl): the families registered with
// FakeKernel.registerFamily(), told as net/netlink/genetlink.c tells them (ctrl_getfamily,
// ctrl_dumpfamily, ctrl_fill_info, genl_ctrl_event). Internal: FakeKernel's methods are the API.

import { errnoNumber } from "../_errno.ts";
import { checkInteger, checkOptions, shown } from "../_options.ts";
import { AttributeDecoder, AttributeEncoder } from "../attribute.ts";
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_HDRSIZE,
  CTRL_ATTR_MAXATTR,
  CTRL_ATTR_MCAST_GROUPS,
  CTRL_ATTR_MCAST_GRP_ID,
  CTRL_ATTR_MCAST_GRP_NAME,
  CTRL_ATTR_OP_FLAGS,
  CTRL_ATTR_OP_ID,
  CTRL_ATTR_OPS,
  CTRL_ATTR_VERSION,
  CTRL_CMD_DELFAMILY,
  CTRL_CMD_DELMCAST_GRP,
  CTRL_CMD_GETFAMILY,
  CTRL_CMD_GETPOLICY,
  CTRL_CMD_NEWFAMILY,
  CTRL_CMD_NEWMCAST_GRP,
  GENL_CMD_CAP_DO,
  GENL_CMD_CAP_DUMP,
  GENL_CMD_CAP_HASPOL,
  GENL_HDRLEN,
  GENL_ID_CTRL,
  GENL_ID_PMCRAID,
  GENL_ID_VFS_DQUOT,
  GENL_MAX_ID,
  GENL_NAMSIZ,
  GENL_START_ALLOC,
  NL_ATTR_TYPE_NUL_STRING,
  NL_POLICY_TYPE_ATTR_MAX_LENGTH,
  NL_POLICY_TYPE_ATTR_TYPE,
} from "../constants.ts";
import { type Message, NLMSG_HDRLEN } from "../message.ts";

const EINVAL = errnoNumber("EINVAL")!;
const ENOENT = errnoNumber("ENOENT")!;
const EOPNOTSUPP = errnoNumber("EOPNOTSUPP")!;

/**
 * A generic netlink family to register with `FakeKernel.registerFamily()`: what nlctrl tells of
 * it. `resolveFamily()`'s result (a family of the host's kernel) is one.
 */
export interface FakeFamily {
  /** The family's name: 1 to 15 bytes of UTF-8 (GENL_NAMSIZ), no NUL. */
  readonly name: string;
  /**
   * Its id (the message type of its requests), 17 to 1023. Default: the next the kernel's
   * cyclic allocation gives (idr_alloc_cyclic from GENL_START_ALLOC, 19).
   */
  readonly id?: number;
  /** Its version (CTRL_ATTR_VERSION). Default 1. */
  readonly version?: number;
  /** The size of its own header after the genlmsghdr (CTRL_ATTR_HDRSIZE). Default 0. */
  readonly headerSize?: number;
  /**
   * CTRL_ATTR_MAXATTR: its highest attribute, or 0 for a family whose operations have policies
   * of their own (as kernels since 6.2 report every family with split operations). Default 0.
   */
  readonly maxAttribute?: number;
  /**
   * Its operations in the order the kernel lists them: command number → GENL_* flags
   * (GENL_CMD_CAP_DO, GENL_CMD_CAP_DUMP, GENL_CMD_CAP_HASPOL, GENL_ADMIN_PERM,
   * GENL_UNS_ADMIN_PERM), as a Map or `[command, flags]` pairs. Default none.
   */
  readonly operations?:
    | ReadonlyMap<number, number>
    | readonly (readonly [number, number])[];
  /**
   * Its multicast groups: names, numbered as the kernel numbers them (the first free run of
   * group ids, past those nlctrl and the fixed families hold), or name → id as a host's kernel
   * numbered them (a Map, or `[name, id]` pairs). Default none.
   */
  readonly groups?:
    | readonly string[]
    | ReadonlyMap<string, number>
    | readonly (readonly [string, number])[];
}

const FAMILY_KEYS = Object.keys(
  {
    name: 0,
    id: 0,
    version: 0,
    headerSize: 0,
    maxAttribute: 0,
    operations: 0,
    groups: 0,
  } satisfies Record<keyof FakeFamily, 0>,
);

/** A registered family as nlctrl holds it. */
interface Registered {
  readonly name: string;
  readonly id: number;
  readonly version: number;
  readonly headerSize: number;
  readonly maxAttribute: number;
  readonly operations: ReadonlyMap<number, number>;
  readonly groups: ReadonlyMap<string, number>;
}

/** nlctrl itself as kernel 6.18 registers it: GETFAMILY (do, dump), GETPOLICY (dump). */
const NLCTRL: Registered = {
  name: "nlctrl",
  id: GENL_ID_CTRL,
  version: 2,
  headerSize: 0,
  maxAttribute: 0,
  operations: new Map([
    [CTRL_CMD_GETFAMILY, GENL_CMD_CAP_DO | GENL_CMD_CAP_DUMP | GENL_CMD_CAP_HASPOL],
    [CTRL_CMD_GETPOLICY, GENL_CMD_CAP_DUMP | GENL_CMD_CAP_HASPOL],
  ]),
  groups: new Map([["notify", GENL_ID_CTRL]]),
};

/** Group ids no family's allocation takes (genetlink.c's mc_group_start). */
const RESERVED_GROUPS = [0, 1, GENL_ID_CTRL, GENL_ID_VFS_DQUOT, GENL_ID_PMCRAID];
const GROUP_BITS = 64;
const utf8 = new TextEncoder();

/** An attribute whose value is `build`'s attributes, without NLA_F_NESTED (nla_nest_start_noflag). */
function nest(attrs: AttributeEncoder, type: number, build: (inner: AttributeEncoder) => void) {
  const inner = new AttributeEncoder();
  build(inner);
  attrs.bytes(type, inner.finish());
}

/** ctrl_fill_info's payload for `family`: genlmsghdr (cmd, version 2), then its attributes. */
function familyPayload(family: Registered, command: number): Uint8Array {
  const attrs = new AttributeEncoder()
    .string(CTRL_ATTR_FAMILY_NAME, family.name)
    .u16(CTRL_ATTR_FAMILY_ID, family.id)
    .u32(CTRL_ATTR_VERSION, family.version)
    .u32(CTRL_ATTR_HDRSIZE, family.headerSize)
    .u32(CTRL_ATTR_MAXATTR, family.maxAttribute);
  if (family.operations.size > 0) {
    nest(attrs, CTRL_ATTR_OPS, (ops) => {
      let i = 1;
      for (const [command, flags] of family.operations) {
        nest(ops, i++, (op) => op.u32(CTRL_ATTR_OP_ID, command).u32(CTRL_ATTR_OP_FLAGS, flags));
      }
    });
  }
  if (family.groups.size > 0) {
    nest(attrs, CTRL_ATTR_MCAST_GROUPS, (groups) => {
      let i = 1;
      for (const [name, id] of family.groups) {
        nest(
          groups,
          i++,
          (g) => g.u32(CTRL_ATTR_MCAST_GRP_ID, id).string(CTRL_ATTR_MCAST_GRP_NAME, name),
        );
      }
    });
  }
  return withHeader(command, attrs.finish());
}

/** ctrl_fill_mcgrp_info's payload: the family's name and id, and the one group. */
function groupPayload(family: Registered, name: string, id: number, command: number) {
  const attrs = new AttributeEncoder()
    .string(CTRL_ATTR_FAMILY_NAME, family.name)
    .u16(CTRL_ATTR_FAMILY_ID, family.id);
  nest(
    attrs,
    CTRL_ATTR_MCAST_GROUPS,
    (groups) =>
      nest(
        groups,
        1,
        (g) => g.u32(CTRL_ATTR_MCAST_GRP_ID, id).string(CTRL_ATTR_MCAST_GRP_NAME, name),
      ),
  );
  return withHeader(command, attrs.finish());
}

function withHeader(command: number, body: Uint8Array): Uint8Array {
  const payload = new Uint8Array(GENL_HDRLEN + body.length);
  payload[0] = command;
  payload[1] = NLCTRL.version;
  payload.set(body, GENL_HDRLEN);
  return payload;
}

/** What the controller answers a request: replies or a dump's parts, or an errno and extack. */
export interface ControllerAnswer {
  readonly payloads?: Uint8Array[];
  readonly errno?: number;
  readonly ext?: { message: string; offset: number; policy: (nest: AttributeEncoder) => void };
}

/**
 * nlctrl: the registered families (nlctrl's own first), their ids and groups allocated as the
 * kernel allocates them.
 */
export class GenlController {
  readonly #families = new Map<number, Registered>([[GENL_ID_CTRL, NLCTRL]]);
  /** The id the cyclic allocation tries next. */
  #nextId = GENL_START_ALLOC;
  /** Group ids taken (mc_groups). */
  readonly #groupsTaken = new Set<number>(RESERVED_GROUPS);
  /** Bits of the group bitmap: generic netlink's group count. */
  groupCount: number;

  constructor(groupCount: number) {
    this.groupCount = groupCount;
  }

  /** The families by id, nlctrl's included, in id order (the idr's). */
  get families(): Registered[] {
    return [...this.#families.values()].sort((a, b) => a.id - b.id);
  }

  /** genl_register_family: the family checked, its id and groups allocated. */
  register(spec: FakeFamily): Registered {
    const where = "registerFamily()";
    const given = checkOptions(`${where} family`, spec, FAMILY_KEYS);
    const { name } = given;
    if (typeof name !== "string" || name === "" || name.includes("\0")) {
      throw new TypeError(
        `${where}: name must be a non-empty string without NUL, got ${shown(name)}`,
      );
    }
    if (utf8.encode(name).length >= GENL_NAMSIZ) {
      throw new RangeError(`${where}: name ${shown(name)} is longer than ${GENL_NAMSIZ - 1} bytes`);
    }
    if (this.find(name)) {
      throw new RangeError(
        `${where}: a family named ${shown(name)} is registered already (EEXIST)`,
      );
    }
    const u32 = (key: "version" | "headerSize" | "maxAttribute", fallback: number) =>
      given[key] === undefined
        ? fallback
        : checkInteger(`${where}: ${key}`, given[key], 0, 0xffff_ffff);
    let id = given.id;
    if (id !== undefined) {
      // 17 and 18 are the fixed ids of VFS_DQUOT and PMCRAID; nlctrl is 16.
      checkInteger(`${where}: id`, id, GENL_ID_VFS_DQUOT, GENL_MAX_ID);
      if (this.#families.has(id)) throw new RangeError(`${where}: id ${id} is taken (EEXIST)`);
    } else {
      id = this.#allocateId();
    }
    const operations = new Map<number, number>();
    for (const entry of pairs(`${where}: operations`, given.operations)) {
      const [command, flags] = entry as [unknown, unknown];
      operations.set(
        checkInteger(`${where}: an operation's command`, command, 0, 0xff),
        checkInteger(`${where}: command ${command}'s flags`, flags, 0, 0xffff_ffff),
      );
    }
    const groups = this.#allocateGroups(where, given.groups);
    const family = {
      name,
      id,
      version: u32("version", 1),
      headerSize: u32("headerSize", 0),
      maxAttribute: u32("maxAttribute", 0),
      operations,
      groups,
    };
    this.#families.set(id, family);
    return family;
  }

  /** genl_unregister_family: the family gone, its group ids free again. */
  unregister(name: string): Registered | undefined {
    const family = this.find(name);
    if (!family || family === NLCTRL) return undefined;
    this.#families.delete(family.id);
    for (const id of family.groups.values()) if (id !== 1) this.#groupsTaken.delete(id);
    return family;
  }

  find(name: string): Registered | undefined {
    for (const family of this.#families.values()) if (family.name === name) return family;
    return undefined;
  }

  #allocateId(): number {
    // idr_alloc_cyclic: the first free id from the last one given, wrapping past GENL_MAX_ID.
    for (let n = 0; n <= GENL_MAX_ID - GENL_START_ALLOC; n++) {
      const id = this.#nextId;
      this.#nextId = id === GENL_MAX_ID ? GENL_START_ALLOC : id + 1;
      if (!this.#families.has(id)) return id;
    }
    throw new RangeError("registerFamily(): every family id is taken (ENOSPC)");
  }

  #allocateGroups(where: string, given: FakeFamily["groups"]): Map<string, number> {
    const entries = [...pairs(`${where}: groups`, given, true)];
    const named = entries.every((entry) => typeof entry === "string");
    const groups = new Map<string, number>();
    for (const entry of entries) {
      if (typeof entry === "string" && !named) {
        throw new TypeError(`${where}: groups must be all names or all [name, id] pairs`);
      }
      const [name, id] = named ? [entry, -1] : entry as [unknown, unknown];
      if (typeof name !== "string" || name === "" || utf8.encode(name).length >= GENL_NAMSIZ) {
        throw new TypeError(`${where}: a group's name must be 1 to 15 bytes, got ${shown(name)}`);
      }
      if (groups.has(name)) throw new TypeError(`${where}: group ${shown(name)} is given twice`);
      groups.set(
        name,
        named ? -1 : checkInteger(`${where}: group ${name}'s id`, id, 1, 0xffff_ffff),
      );
    }
    if (named && groups.size > 0) {
      // genl_allocate_reserve_groups: the first run of free ids long enough; the bitmap grows by
      // the longs the run needs when it ends past it.
      let first = 0;
      const fits = (from: number) => {
        for (let i = from; i < from + groups.size; i++) if (this.#groupsTaken.has(i)) return false;
        return true;
      };
      while (!fits(first)) first++;
      if (first + groups.size > this.groupCount) {
        this.groupCount += Math.ceil(groups.size / GROUP_BITS) * GROUP_BITS;
      }
      for (const name of groups.keys()) groups.set(name, first++);
    }
    for (const id of groups.values()) {
      this.#groupsTaken.add(id);
      // Ids as a host's kernel numbered them: its bitmap held them.
      this.groupCount = Math.max(this.groupCount, Math.ceil((id + 1) / GROUP_BITS) * GROUP_BITS);
    }
    return groups;
  }

  /**
   * The controller's answer to `request` (genl_family_rcv_msg, then ctrl_getfamily or
   * ctrl_dumpfamily): `dump` as the request's flags make it one.
   */
  answer(request: Message, dump: boolean): ControllerAnswer {
    // genl_family_rcv_msg: a payload shorter than the genlmsghdr.
    if (request.payload.length < GENL_HDRLEN) return { errno: EINVAL };
    const command = request.payload[0];
    if (command !== CTRL_CMD_GETFAMILY) {
      // GETPOLICY is not modelled: a kernel before 5.10's answer.
      return { errno: EOPNOTSUPP };
    }
    if (dump) return { payloads: this.families.map((f) => familyPayload(f, CTRL_CMD_NEWFAMILY)) };
    let family: Registered | undefined;
    let errno = EINVAL;
    const body = request.payload.subarray(GENL_HDRLEN);
    let offset = NLMSG_HDRLEN + GENL_HDRLEN;
    for (const a = new AttributeDecoder(body); a.next();) {
      const value = a.bytes();
      if (a.type === CTRL_ATTR_FAMILY_ID && value.length >= 2) {
        family = this.#families.get(value[0] | value[1] << 8);
        errno = ENOENT;
      } else if (a.type === CTRL_ATTR_FAMILY_NAME) {
        // NLA_NUL_STRING of at most GENL_NAMSIZ - 1: a NUL within its first 16 bytes.
        const end = value.subarray(0, GENL_NAMSIZ).indexOf(0);
        if (end < 0) {
          return {
            errno: EINVAL,
            ext: {
              message: "Attribute failed policy validation",
              offset,
              policy: (p) =>
                p.u32(NL_POLICY_TYPE_ATTR_MAX_LENGTH, GENL_NAMSIZ - 1)
                  .u32(NL_POLICY_TYPE_ATTR_TYPE, NL_ATTR_TYPE_NUL_STRING),
            },
          };
        }
        family = this.find(new TextDecoder().decode(value.subarray(0, end)));
        errno = ENOENT;
      }
      offset += (value.length + 4 + 3) & ~3;
    }
    return family ? { payloads: [familyPayload(family, CTRL_CMD_NEWFAMILY)] } : { errno };
  }

  /** genl_ctrl_event's payloads for a registration: NEWFAMILY, then NEWMCAST_GRP per group. */
  registered(family: Registered): Uint8Array[] {
    return [
      familyPayload(family, CTRL_CMD_NEWFAMILY),
      ...[...family.groups].map(([name, id]) =>
        groupPayload(family, name, id, CTRL_CMD_NEWMCAST_GRP)
      ),
    ];
  }

  /** genl_ctrl_event's payloads for an unregistration: DELMCAST_GRP per group, then DELFAMILY. */
  unregistered(family: Registered): Uint8Array[] {
    return [
      ...[...family.groups].map(([name, id]) =>
        groupPayload(family, name, id, CTRL_CMD_DELMCAST_GRP)
      ),
      familyPayload(family, CTRL_CMD_DELFAMILY),
    ];
  }
}

/** The entries of a Map or an array (TypeError naming `what` for anything else). */
function pairs(what: string, value: unknown, strings = false): Iterable<unknown> {
  if (value === undefined) return [];
  if (value instanceof Map) return value.entries();
  if (!Array.isArray(value)) {
    throw new TypeError(`${what} must be a Map or an array, got ${shown(value)}`);
  }
  for (const entry of value) {
    if (strings && typeof entry === "string") continue;
    if (!Array.isArray(entry) || entry.length !== 2) {
      throw new TypeError(
        `${what}: each entry must be a [key, value] pair${strings ? " or a name" : ""}, got ${
          shown(entry)
        }`,
      );
    }
  }
  return value;
}
