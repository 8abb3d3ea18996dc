/**
 * Attribute policies as the kernel describes them (NL_POLICY_TYPE_ATTR_*): in an extended ack's
 * NLMSGERR_ATTR_POLICY (what the offending attribute should have been) and in nlctrl's
 * CTRL_CMD_GETPOLICY dumps.
 *
 * @module
 */

import {
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
} from "./_constants.ts";
import { AttributeDecoder } from "./attribute.ts";

/**
 * What the kernel accepts for one attribute. `type` is an NL_ATTR_TYPE_* value (NL_ATTR_TYPE_U32,
 * NL_ATTR_TYPE_NESTED...); the other fields are present when the policy has them.
 *
 * @example
 * ```ts
 * import { type AttributePolicy, NL_ATTR_TYPE_U32 } from "@netlink/netlink";
 * const policy: AttributePolicy = { type: NL_ATTR_TYPE_U32, minValue: 1n, maxValue: 4094n };
 * ```
 */
export interface AttributePolicy {
  /** NL_ATTR_TYPE_*: the attribute's type. */
  readonly type: number;
  /** Smallest value (signed or unsigned types). */
  readonly minValue?: bigint;
  /** Largest value. */
  readonly maxValue?: bigint;
  /** Shortest payload in bytes (binary, strings). */
  readonly minLength?: number;
  /** Longest payload in bytes. */
  readonly maxLength?: number;
  /** For nested attributes: the index of the nested policy (in a CTRL_CMD_GETPOLICY dump). */
  readonly policyIndex?: number;
  /** For nested attributes: the nested policy's highest attribute type. */
  readonly policyMaxType?: number;
  /** For NL_ATTR_TYPE_BITFIELD32: the valid bits. */
  readonly bitfield32Mask?: number;
  /** For unsigned types with a mask: the bits that may be set. */
  readonly mask?: bigint;
}

/**
 * Decodes a policy's NL_POLICY_TYPE_ATTR_* attributes (the contents of the nest that holds
 * them). Unknown attributes are skipped. Throws MalformedMessageError for malformed attributes.
 *
 * @example
 * ```ts
 * import { AttributeEncoder, decodeAttributePolicy, NL_ATTR_TYPE_U8, NL_POLICY_TYPE_ATTR_TYPE } from "@netlink/netlink";
 * const bytes = new AttributeEncoder().u32(NL_POLICY_TYPE_ATTR_TYPE, NL_ATTR_TYPE_U8).finish();
 * console.log(decodeAttributePolicy(bytes).type === NL_ATTR_TYPE_U8); // true
 * ```
 */
export function decodeAttributePolicy(bytes: Uint8Array): AttributePolicy {
  const policy: { -readonly [K in keyof AttributePolicy]: AttributePolicy[K] } = { type: 0 };
  for (const a = new AttributeDecoder(bytes); a.next();) {
    switch (a.type) {
      case NL_POLICY_TYPE_ATTR_TYPE:
        policy.type = a.u32();
        break;
      case NL_POLICY_TYPE_ATTR_MIN_VALUE_S:
        policy.minValue = a.s64();
        break;
      case NL_POLICY_TYPE_ATTR_MAX_VALUE_S:
        policy.maxValue = a.s64();
        break;
      case NL_POLICY_TYPE_ATTR_MIN_VALUE_U:
        policy.minValue = a.u64();
        break;
      case NL_POLICY_TYPE_ATTR_MAX_VALUE_U:
        policy.maxValue = a.u64();
        break;
      case NL_POLICY_TYPE_ATTR_MIN_LENGTH:
        policy.minLength = a.u32();
        break;
      case NL_POLICY_TYPE_ATTR_MAX_LENGTH:
        policy.maxLength = a.u32();
        break;
      case NL_POLICY_TYPE_ATTR_POLICY_IDX:
        policy.policyIndex = a.u32();
        break;
      case NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE:
        policy.policyMaxType = a.u32();
        break;
      case NL_POLICY_TYPE_ATTR_BITFIELD32_MASK:
        policy.bitfield32Mask = a.u32();
        break;
      case NL_POLICY_TYPE_ATTR_MASK:
        policy.mask = a.u64();
        break;
    }
  }
  return policy;
}
