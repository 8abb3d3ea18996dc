/**
 * What fits in a netlink attribute's header, for every encoder of attributes (the core
 * AttributeEncoder, YNL's encoding, inet_diag bytecode).
 *
 * @module
 */

import { NLA_HDRLEN, NLA_TYPE_MASK } from "./_constants.ts";

/** Largest attribute type number: NLA_TYPE_MASK as a positive u16 (the C macro is a negation). */
export const TYPE_MAX = NLA_TYPE_MASK & 0xffff;
/** Largest attribute value, in bytes: nla_len is a u16 and counts the header. */
export const VALUE_MAX = 0xffff - NLA_HDRLEN;
