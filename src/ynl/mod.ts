/**
 * Typed netlink families, generated from the kernel's YNL specs: {@linkcode family} takes a
 * generated descriptor (one module per family under `src/ynl/`, e.g. `rt_link.ts`, imported as
 * `@netlink/netlink/ynl/rt-link`) and returns a client whose requests, replies and
 * notifications are plain, typed objects.
 *
 * @example
 * ```ts
 * import { family } from "@netlink/netlink/ynl";
 * import { rtLink } from "@netlink/netlink/ynl/rt-link";
 * await using rt = await family(rtLink);
 * for (const link of await rt.dump("getlink")) console.log(link.ifname, link.operstate);
 * ```
 *
 * @module
 */

// Named one by one, not `export *`: the descriptor's shape (to write a family of one's own) and
// the types of its messages, with the parts they are built of (public types must not refer to
// names a user cannot import); anything else _descriptor.ts may hold stays inside.
export type {
  AttributeChecks,
  AttributeDescriptor,
  AttributeKind,
  AttributeKindValue,
  AttributeName,
  AttributeOptions,
  AttributeSetValue,
  AttributeValue,
  BigValue,
  Bitfield32,
  DisplayHint,
  DoOperation,
  DoReply,
  DoRequest,
  DumpOperation,
  DumpReply,
  DumpRequest,
  EnumDescriptor,
  EnumName,
  EnumValue,
  FamilyDescriptor,
  FlagsValue,
  GroupName,
  HintedValue,
  IntegerKind,
  IntegerValue,
  KeptAttributes,
  KeptTail,
  MemberDescriptor,
  MemberKind,
  MemberKindValue,
  MemberOptions,
  MemberValue,
  MessageShape,
  MessageValue,
  Mode,
  Notification,
  NotificationAttribute,
  OperationDescriptor,
  PickedReply,
  ScalarKind,
  StructValue,
  SubMessageFormat,
  SubMessageFormatValue,
  SubMessageValue,
  TextHint,
} from "./_descriptor.ts";
export { structTail, unknownAttributes } from "./_descriptor.ts";
export { FamilyError } from "./_extack.ts";
export * from "./family.ts";
