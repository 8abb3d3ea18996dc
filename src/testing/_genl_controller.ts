// The fake kernel's generic netlink controller (nlctrl): the families registered with
// FakeKernel.registerFamily(), told as net/netlink/genetlink.c tells them (ctrl_getfamily,
// ctrl_dumpfamily, ctrl_fill_info, genl_ctrl_event), and nlctrl's own attribute policies
// (ctrl_dumppolicy). Internal: FakeKernel's methods are the API.

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
  CTRL_ATTR_OP,
  CTRL_ATTR_OP_FLAGS,
  CTRL_ATTR_OP_ID,
  CTRL_ATTR_OP_POLICY,
  CTRL_ATTR_OPS,
  CTRL_ATTR_POLICY,
  CTRL_ATTR_POLICY_DO,
  CTRL_ATTR_POLICY_DUMP,
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
  NL_ATTR_TYPE_S16,
  NL_ATTR_TYPE_S32,
  NL_ATTR_TYPE_S64,
  NL_ATTR_TYPE_S8,
  NL_ATTR_TYPE_U16,
  NL_ATTR_TYPE_U32,
  NL_POLICY_TYPE_ATTR_BITFIELD32_MASK,
  NL_POLICY_TYPE_ATTR_MASK,
  NL_POLICY_TYPE_ATTR_MAX_LENGTH,
  NL_POLICY_TYPE_ATTR_MAX_VALUE_S,
  NL_POLICY_TYPE_ATTR_MAX_VALUE_U,
  NL_POLICY_TYPE_ATTR_MIN_LENGTH,
  NL_POLICY_TYPE_ATTR_MIN_VALUE_S,
  NL_POLICY_TYPE_ATTR_MIN_VALUE_U,
  NL_POLICY_TYPE_ATTR_POLICY_IDX,
  NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE,
  NL_POLICY_TYPE_ATTR_TYPE,
} from "../constants.ts";
import type { FamilyPolicy } from "../genl.ts";
import { type Message, NLMSG_HDRLEN } from "../message.ts";
import type { AttributePolicy } from "../policy.ts";

const EINVAL = errnoNumber("EINVAL")!;
const ENODATA = errnoNumber("ENODATA")!;
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
  /**
   * Its operations' attribute policies, as `resolvePolicy()` gives them (a host family's, read
   * from its kernel, is one): CTRL_CMD_GETPOLICY answers with them as the kernel answers, for
   * the family or one operation (its policies and the ones they nest, numbered afresh). Each
   * command must be one of `operations` (an index `policies` lacks is a policy none of whose
   * attributes is described, as a host's may be). Default none:
   * CTRL_CMD_GETPOLICY answers ENODATA, as the kernel does for a family without policies.
   */
  readonly policy?: FamilyPolicy;
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
    policy: 0,
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
  readonly policy?: FamilyPolicy;
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

/**
 * One attribute's policy as netlink_policy_dump_write_attr writes it (NL_POLICY_TYPE_ATTR_*: the
 * type's own first, the type last): an integer's range, a string's longest length.
 */
type PolicyWriter = (policy: AttributeEncoder) => void;
const u16Policy: PolicyWriter = (p) =>
  p.u64(NL_POLICY_TYPE_ATTR_MIN_VALUE_U, 0).u64(NL_POLICY_TYPE_ATTR_MAX_VALUE_U, 0xffff)
    .u32(NL_POLICY_TYPE_ATTR_TYPE, NL_ATTR_TYPE_U16);
const u32Policy: PolicyWriter = (p) =>
  p.u64(NL_POLICY_TYPE_ATTR_MIN_VALUE_U, 0).u64(NL_POLICY_TYPE_ATTR_MAX_VALUE_U, 0xffff_ffff)
    .u32(NL_POLICY_TYPE_ATTR_TYPE, NL_ATTR_TYPE_U32);
const namePolicy: PolicyWriter = (p) =>
  p.u32(NL_POLICY_TYPE_ATTR_MAX_LENGTH, GENL_NAMSIZ - 1)
    .u32(NL_POLICY_TYPE_ATTR_TYPE, NL_ATTR_TYPE_NUL_STRING);

/** The NL_ATTR_TYPE_* of signed integers, whose ranges are written as such. */
const SIGNED_TYPES = new Set([
  NL_ATTR_TYPE_S8,
  NL_ATTR_TYPE_S16,
  NL_ATTR_TYPE_S32,
  NL_ATTR_TYPE_S64,
]);

/**
 * An {@linkcode AttributePolicy} as netlink_policy_dump_write_attr writes it: a mask or a range
 * (signed for signed types), lengths, a nested policy's index (`index` gives its number in this
 * dump) and highest type, a bitfield's bits, then the type.
 */
function attributePolicyWriter(
  policy: AttributePolicy,
  index: (policyIndex: number) => number,
): PolicyWriter {
  return (p) => {
    const signed = SIGNED_TYPES.has(policy.type);
    if (policy.mask !== undefined) p.u64(NL_POLICY_TYPE_ATTR_MASK, policy.mask);
    if (policy.minValue !== undefined) {
      if (signed) p.s64(NL_POLICY_TYPE_ATTR_MIN_VALUE_S, policy.minValue);
      else p.u64(NL_POLICY_TYPE_ATTR_MIN_VALUE_U, policy.minValue);
    }
    if (policy.maxValue !== undefined) {
      if (signed) p.s64(NL_POLICY_TYPE_ATTR_MAX_VALUE_S, policy.maxValue);
      else p.u64(NL_POLICY_TYPE_ATTR_MAX_VALUE_U, policy.maxValue);
    }
    if (policy.minLength !== undefined) p.u32(NL_POLICY_TYPE_ATTR_MIN_LENGTH, policy.minLength);
    if (policy.maxLength !== undefined) p.u32(NL_POLICY_TYPE_ATTR_MAX_LENGTH, policy.maxLength);
    if (policy.policyIndex !== undefined) {
      p.u32(NL_POLICY_TYPE_ATTR_POLICY_IDX, index(policy.policyIndex));
    }
    if (policy.policyMaxType !== undefined) {
      p.u32(NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE, policy.policyMaxType);
    }
    if (policy.bitfield32Mask !== undefined) {
      p.u32(NL_POLICY_TYPE_ATTR_BITFIELD32_MASK, policy.bitfield32Mask);
    }
    p.u32(NL_POLICY_TYPE_ATTR_TYPE, policy.type);
  };
}

/** nlctrl's policies (attribute type → its policy): ctrl_policy_family, ctrl_policy_policy. */
const FAMILY_POLICY = new Map([[CTRL_ATTR_FAMILY_ID, u16Policy], [
  CTRL_ATTR_FAMILY_NAME,
  namePolicy,
]]);
const POLICY_POLICY = new Map([...FAMILY_POLICY, [CTRL_ATTR_OP, u32Policy]]);
/** nlctrl's operations' policies, in its order: the one done and the one dumped. */
const NLCTRL_POLICIES = new Map([
  [CTRL_CMD_GETFAMILY, { do: FAMILY_POLICY, dump: FAMILY_POLICY }],
  [CTRL_CMD_GETPOLICY, { do: undefined, dump: POLICY_POLICY }],
]);

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

/** What a request to nlctrl names (see GenlController's #asked). */
interface Asked {
  /** CTRL_ATTR_FAMILY_ID's family (undefined for none with that id), and whether it was given. */
  id?: Registered;
  idGiven?: boolean;
  /** CTRL_ATTR_FAMILY_NAME's name. */
  name?: string;
  /** CTRL_ATTR_OP's command, and the attribute's offset in the request. */
  op?: number;
  opOffset: number;
  /** The errno for no family found: EINVAL when neither is given, else ENOENT. */
  none: number;
}

/**
 * What the controller answers a request: replies or a dump's parts, or an errno and extack (a
 * dump's from its start, `errnoAtStart`); `doneAlone` as the fake kernel's Answer has it.
 */
export interface ControllerAnswer {
  readonly payloads?: Uint8Array[];
  readonly errno?: number;
  readonly errnoAtStart?: boolean;
  readonly doneAlone?: boolean;
  readonly ext?: { message?: string; offset: number; policy?: (nest: AttributeEncoder) => void };
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
    const policy = given.policy === undefined
      ? undefined
      : checkPolicy(`${where}: policy`, given.policy, operations);
    const groups = this.#allocateGroups(where, given.groups);
    const family = {
      name,
      id,
      version: u32("version", 1),
      headerSize: u32("headerSize", 0),
      maxAttribute: u32("maxAttribute", 0),
      operations,
      groups,
      ...(policy ? { policy } : {}),
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
    if (command === CTRL_CMD_GETPOLICY) {
      // A dump only (no doit): genl_family_rcv_msg refuses a plain request.
      if (!dump) return { errno: EOPNOTSUPP };
      // Errors come from ctrl_dumppolicy_start; its dump returns what it wrote, so NLMSG_DONE
      // comes from the next, empty call.
      const answer = this.#policies(request);
      return answer.errno ? { ...answer, errnoAtStart: true } : { ...answer, doneAlone: true };
    }
    if (command !== CTRL_CMD_GETFAMILY) return { errno: EOPNOTSUPP };
    if (dump) return { payloads: this.families.map((f) => familyPayload(f, CTRL_CMD_NEWFAMILY)) };
    const asked = this.#asked(request);
    if ("errno" in asked) return asked;
    // A name counts over an id (ctrl_getfamily looks it up last).
    const family = asked.name !== undefined ? this.find(asked.name) : asked.id;
    return family
      ? { payloads: [familyPayload(family, CTRL_CMD_NEWFAMILY)] }
      : { errno: asked.none };
  }

  /**
   * The family and operation a request names; or the policy's refusal of a name that is no
   * NUL-terminated string of at most GENL_NAMSIZ - 1 bytes.
   */
  #asked(request: Message): Asked | ControllerAnswer & { errno: number } {
    const asked: Asked = { opOffset: 0, none: EINVAL };
    const body = request.payload.subarray(GENL_HDRLEN);
    let offset = NLMSG_HDRLEN + GENL_HDRLEN;
    for (const a = new AttributeDecoder(body); a.next();) {
      const value = a.bytes();
      if (a.type === CTRL_ATTR_FAMILY_ID && value.length >= 2) {
        asked.id = this.#families.get(value[0] | value[1] << 8);
        asked.idGiven = true;
        asked.none = ENOENT;
      } else if (a.type === CTRL_ATTR_FAMILY_NAME) {
        // NLA_NUL_STRING of at most GENL_NAMSIZ - 1: a NUL within its first 16 bytes.
        const end = value.subarray(0, GENL_NAMSIZ).indexOf(0);
        if (end < 0) {
          return {
            errno: EINVAL,
            ext: { message: "Attribute failed policy validation", offset, policy: namePolicy },
          };
        }
        asked.name = new TextDecoder().decode(value.subarray(0, end));
        asked.none = ENOENT;
      } else if (a.type === CTRL_ATTR_OP && value.length >= 4) {
        asked.op = new DataView(value.buffer, value.byteOffset, 4).getUint32(0, true);
        asked.opOffset = offset;
      }
      offset += (value.length + 4 + 3) & ~3;
    }
    return asked;
  }

  /**
   * CTRL_CMD_GETPOLICY (ctrl_dumppolicy_start, ctrl_dumppolicy): the policies of a family's
   * operations, or of the one CTRL_ATTR_OP names. For each operation with a policy, a part with
   * its policies' indices (in a nest typed with its command, or with 0 for one without a doit:
   * ctrl_dumppolicy_put_op nests by the doit's command); then a part per attribute of each
   * policy, in index order, attributes by type. Indices are given as netlink_policy_dump_add_policy
   * gives them: in the order the operations' policies come (the doit's first), each followed by
   * the policies it nests. nlctrl's own and a registered family's `policy` are modelled; a family
   * without one answers as the kernel answers a family none of whose operations has a policy:
   * ENODATA.
   */
  #policies(request: Message): ControllerAnswer {
    const asked = this.#asked(request);
    if ("errno" in asked) return asked;
    // ctrl_dumppolicy_start: by id when given, else by name; neither is EINVAL.
    const family = asked.idGiven
      ? asked.id
      : asked.name !== undefined
      ? this.find(asked.name)
      : undefined;
    if (!family) return { errno: asked.none };
    if (asked.op !== undefined && !family.operations.has(asked.op)) {
      return { errno: ENOENT, ext: { offset: asked.opOffset } };
    }
    const chosen = (cmd: number) => asked.op === undefined || cmd === asked.op;
    if (family === NLCTRL) {
      const operations = [...NLCTRL_POLICIES].filter(([cmd]) => chosen(cmd));
      return { payloads: policyParts(family.id, operations, () => [], (policy) => policy) };
    }
    const { policy } = family;
    if (policy === undefined) return { errno: ENODATA };
    const operations = [...family.operations.keys()].filter((cmd) =>
      chosen(cmd) && policy.operations.has(cmd)
    ).map((cmd) => [cmd, policy.operations.get(cmd)!] as const);
    const attributesOf = (index: number) => policy.policies.get(index) ?? new Map();
    const nested = (index: number) =>
      [...attributesOf(index).values()].flatMap((attr) => attr.policyIndex ?? []);
    const payloads = policyParts(family.id, operations, nested, (index, numberOf) =>
      new Map(
        [...attributesOf(index)].sort(([a], [b]) => a - b).map((
          [type, attr],
        ) => [type, attributePolicyWriter(attr, numberOf)]),
      ));
    return payloads.length === 0 ? { errno: ENODATA } : { payloads };
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
/**
 * The parts of a CTRL_CMD_GETPOLICY dump of family `id`'s `operations` (command, its do and dump
 * policies, of type `P`): the policies numbered as netlink_policy_dump_add_policy numbers them
 * (each operation's do, then dump, each followed by what the policies so far nest, `nested`),
 * a part per operation with a policy, then a part per attribute of each policy in number order
 * (`attributes`: type → writer, given each policy's number). None when no operation has one.
 */
function policyParts<P>(
  id: number,
  operations: readonly (readonly [number, { readonly do?: P; readonly dump?: P }])[],
  nested: (policy: P) => P[],
  attributes: (policy: P, numberOf: (policy: P) => number) => ReadonlyMap<number, PolicyWriter>,
): Uint8Array[] {
  const numbers = new Map<P, number>();
  const add = (policy: P | undefined) => {
    if (policy === undefined || numbers.has(policy)) return;
    numbers.set(policy, numbers.size);
    // Then everything the policies so far nest, in their order (the kernel's walk of its list).
    for (const known of numbers.keys()) {
      for (const inner of nested(known)) if (!numbers.has(inner)) numbers.set(inner, numbers.size);
    }
  };
  for (const [, { do: doit, dump }] of operations) {
    add(doit);
    add(dump);
  }
  const part = (build: (attrs: AttributeEncoder) => void) => {
    const attrs = new AttributeEncoder().u16(CTRL_ATTR_FAMILY_ID, id);
    build(attrs);
    return withHeader(CTRL_CMD_GETPOLICY, attrs.finish());
  };
  const payloads: Uint8Array[] = [];
  for (const [cmd, { do: doit, dump }] of operations) {
    if (doit === undefined && dump === undefined) continue;
    payloads.push(
      part((attrs) =>
        attrs.nested(
          CTRL_ATTR_OP_POLICY,
          (byOp) =>
            byOp.nested(doit !== undefined ? cmd : 0, (op) => {
              if (doit !== undefined) op.u32(CTRL_ATTR_POLICY_DO, numbers.get(doit)!);
              if (dump !== undefined) op.u32(CTRL_ATTR_POLICY_DUMP, numbers.get(dump)!);
            }),
        )
      ),
    );
  }
  for (const [policy, index] of numbers) {
    for (const [type, write] of attributes(policy, (p) => numbers.get(p)!)) {
      payloads.push(
        part((attrs) =>
          attrs.nested(
            CTRL_ATTR_POLICY,
            (byIndex) => byIndex.nested(index, (byType) => byType.nested(type, write)),
          )
        ),
      );
    }
  }
  return payloads;
}

/**
 * `policy` as a family's (resolvePolicy()'s shape) when each command is one of `operations` and
 * each index a policy number; a TypeError saying what is wrong otherwise.
 */
function checkPolicy(
  where: string,
  policy: FamilyPolicy,
  operations: ReadonlyMap<number, number>,
): FamilyPolicy {
  if (
    policy === null || typeof policy !== "object" || !(policy.policies instanceof Map)
    || !(policy.operations instanceof Map)
  ) {
    throw new TypeError(
      `${where} must be what resolvePolicy() gives: { policies, operations }, two Maps; got ${
        shown(policy)
      }`,
    );
  }
  // An index `policies` lacks is a policy none of whose attributes the kernel describes (as
  // resolvePolicy() reads a host's: one of NLA_REJECT attributes has no part in the dump).
  const known = (index: unknown, what: string) => {
    if (index !== undefined) checkInteger(`${where}: ${what}`, index, 0, 0xffff_ffff);
  };
  for (const [command, op] of policy.operations) {
    if (!operations.has(command)) {
      throw new TypeError(`${where}: command ${shown(command)} is none of the operations`);
    }
    known(op.do, `command ${command}'s do policy`);
    known(op.dump, `command ${command}'s dump policy`);
  }
  for (const [index, attributes] of policy.policies) {
    for (const [type, attr] of attributes) {
      known(attr.policyIndex, `policy ${index}'s attribute ${type}'s nested policy`);
    }
  }
  return policy;
}

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
