/**
 * Policy routing rules (`ip rule`): list, add, delete.
 *
 * @module
 */

import { FIB_RULE_INVERT, NLM_F_CREATE, NLM_F_EXCL } from "../_constants.ts";
import { checkOptions } from "../_options.ts";
import { parsePrefix } from "../ip.ts";
import type { DumpReply } from "../ynl/_descriptor.ts";
import { rtRule } from "../ynl/rt_rule.ts";
import { type Context, contextOf } from "./_context.ts";
import { checkLinkName } from "./_link_ref.ts";
import { FAMILIES, inetFamily, Names, printAs, TABLES, WithRaw } from "./_names.ts";
import type { RouteClient } from "./client.ts";
import { integer, type TableName } from "./route.ts";

/** A rule as the typed layer decodes it. */
export type RawRule = DumpReply<typeof rtRule, "getrule">;

/** What a rule does (FR_ACT_*): look up a table, go to another rule, or refuse. */
export type RuleAction = "lookup" | "goto" | "nop" | "blackhole" | "unreachable" | "prohibit";

const ACTIONS = new Names("rule action", {
  lookup: 1,
  goto: 2,
  nop: 3,
  blackhole: 6,
  unreachable: 7,
  prohibit: 8,
}, { "to-tbl": 1, table: 1 });

/**
 * A rule, as `ip -j rule show` shows it. The selectors below are the ones named here; a rule
 * may have others, which only `raw` shows (`ipProto`, `sportRange`, `dportRange`, `uidRange`,
 * `l3mdev`, `tunId`, `suppressPrefixlen`, `suppressIfgroup`, `flow` (realms), `dscp`...): a
 * rule whose fields here say "from all" may still match only some packets.
 *
 * @example
 * ```ts
 * import { openRoute } from "@netlink/netlink/route";
 * await using ip = await openRoute();
 * for (const r of await ip.rule.list()) console.log(r.priority, r.from, r.table);
 * ```
 */
export interface Rule {
  /** "inet" or "inet6". */
  readonly family: "inet" | "inet6";
  /** Priority (`pref`). */
  readonly priority: number;
  /** Action: "lookup" (a table), "goto", "nop", "blackhole", "unreachable", "prohibit". */
  readonly action: RuleAction | number;
  /**
   * The match is inverted (`ip rule add not from ...`, FIB_RULE_INVERT): the rule applies to
   * the packets that do NOT match its selectors.
   */
  readonly invert: boolean;
  /** The table looked up: "main", "local", "default", or its number. */
  readonly table?: TableName | number;
  /** Source prefix, "all" when any. */
  readonly from: string;
  /** Destination prefix, "all" when any. */
  readonly to: string;
  /** Firewall mark to match. */
  readonly fwmark?: number;
  /** Mask applied to the mark before matching. */
  readonly fwmask?: number;
  /** Incoming link's name (`iif`). */
  readonly iif?: string;
  /** Outgoing link's name (`oif`). */
  readonly oif?: string;
  /** TOS to match. */
  readonly tos?: number;
  /** Rule to go to (`goto`). */
  readonly goto?: number;
  /** Everything the kernel sent, as the typed layer decodes it. */
  readonly raw: RawRule;
}

/**
 * A rule to add or delete (`ip rule add from 10.0.0.0/8 table 100 pref 1000`).
 *
 * @example
 * ```ts
 * import type { NewRule } from "@netlink/netlink/route";
 * const marked: NewRule = { fwmark: 0x64, fwmask: 0xff, table: 100, priority: 100 };
 * ```
 */
export interface NewRule {
  /** "inet" or "inet6"; taken from `from` or `to` when they are given (default "inet"). */
  family?: "inet" | "inet6";
  /** Priority (`pref`). */
  priority?: number;
  /**
   * Action (default "lookup" when a table is given): its name, or its number (FR_ACT_*), as
   * `list()` gives one it has no name for.
   */
  action?: RuleAction | number;
  /** Invert the match (`ip rule add not ...`): for packets that do NOT match. Default false. */
  invert?: boolean;
  /** Table to look up. */
  table?: TableName | number;
  /** Source prefix. */
  from?: string;
  /** Destination prefix. */
  to?: string;
  /** Firewall mark. */
  fwmark?: number;
  /** Mask for the mark. */
  fwmask?: number;
  /** Incoming link's name. */
  iif?: string;
  /** Outgoing link's name. */
  oif?: string;
  /** TOS. */
  tos?: number;
  /** Rule priority to go to (action "goto"). */
  goto?: number;
}

// Every key of each spec and nothing else (`satisfies`): a misspelt one is refused, not ignored.
const RULE_KEYS = Object.keys(
  {
    family: 0,
    priority: 0,
    action: 0,
    invert: 0,
    table: 0,
    from: 0,
    to: 0,
    fwmark: 0,
    fwmask: 0,
    iif: 0,
    oif: 0,
    tos: 0,
    goto: 0,
  } satisfies Record<keyof NewRule, 0>,
);
const FILTER_KEYS = ["family"] satisfies (keyof NewRule)[];

// Named as the interface is, for console.log.
const RuleObject = class Rule extends WithRaw<RawRule> {};
printAs(RuleObject, class Rule {});

/** Turns a typed rule into a {@linkcode Rule}. */
export function toRule(raw: RawRule): Rule {
  const family = raw.family === 10 ? "inet6" : "inet";
  // The rt-rule codec reads the addresses as text (the display hint ynl_corrections.ts gives).
  const prefix = (address: string | undefined, length: number) =>
    address === undefined
      ? "all"
      : length === (address.includes(":") ? 128 : 32)
      ? address
      : `${address}/${length}`;
  // By the spec's names, which include the kernel's that `ip` has no word for (unspec, res3,
  // res4: `ip rule add type 0` makes one), not by ACTIONS (a TypeError for those).
  const action = typeof raw.action === "number"
    ? raw.action
    : rtRule.enums["fr-act"].entries[raw.action];
  const out = new RuleObject(raw) as unknown as Record<string, unknown>;
  out.family = family;
  out.priority = raw.priority ?? 0;
  out.action = ACTIONS.name(action);
  out.invert = (raw.flags & FIB_RULE_INVERT) !== 0;
  const table = raw.table ?? raw.headerTable;
  if (action === 1 && table) out.table = TABLES.name(table);
  out.from = prefix(raw.src, raw.srcLen);
  out.to = prefix(raw.dst, raw.dstLen);
  if (raw.fwmark !== undefined) out.fwmark = raw.fwmark;
  if (raw.fwmask !== undefined) out.fwmask = raw.fwmask;
  if (raw.iifname !== undefined) out.iif = raw.iifname;
  if (raw.oifname !== undefined) out.oif = raw.oifname;
  if (raw.tos) out.tos = raw.tos;
  if (raw.goto !== undefined) out.goto = raw.goto;
  return out as unknown as Rule;
}

/**
 * `ip rule`: the policy routing rules of the client's namespace.
 *
 * @example
 * ```ts
 * import { openRoute } from "@netlink/netlink/route";
 * await using ip = await openRoute();
 * await ip.rule.add({ from: "10.10.0.0/16", table: 100, priority: 1000 });
 * ```
 */
export class Rules {
  readonly #ctx: Context;

  /** The client's; get one from `openRoute()`. */
  constructor(client: RouteClient) {
    this.#ctx = contextOf(client);
  }

  /**
   * Every rule (IPv4 and IPv6 unless `family` says), as `ip rule show` lists them.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * console.log(await ip.rule.list({ family: "inet6" }));
   * ```
   */
  async list(filter: { family?: "inet" | "inet6" } = {}): Promise<Rule[]> {
    const ctx = this.#ctx;
    filter = checkOptions("rule.list() filter", filter, FILTER_KEYS);
    const family = inetFamily(filter.family);
    const raws = await ctx.list("rule list", () => ctx.rule.dump("getrule", { family }));
    return raws.filter((raw) =>
      (raw.family === 2 || raw.family === 10) && (!family || raw.family === family)
    )
      .map(toRule);
  }

  /**
   * Adds a rule (`ip rule add`).
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.rule.add({ fwmark: 0x64, table: 100, priority: 100 });
   * ```
   */
  async add(rule: NewRule): Promise<void> {
    const request = this.#request(rule, "add");
    await this.#ctx.run(
      "rule add",
      () => this.#ctx.rule.do("newrule", request as never, { flags: NLM_F_CREATE | NLM_F_EXCL }),
      { EEXIST: "a rule with these selectors, action and priority exists" },
    );
  }

  /**
   * Deletes the first rule matching what is given (`ip rule del`); ENOENT when none does. A
   * spec with no selector (nothing but `family`) is a TypeError, as `ip rule del` without
   * arguments is refused: the kernel would delete the first rule, table local's.
   *
   * @example
   * ```ts
   * import { openRoute } from "@netlink/netlink/route";
   * await using ip = await openRoute();
   * await ip.rule.delete({ priority: 100 });
   * ```
   */
  async delete(rule: NewRule): Promise<void> {
    const request = this.#request(rule, "delete");
    await this.#ctx.run(
      "rule delete",
      () => this.#ctx.rule.do("delrule", request as never),
      { ENOENT: "no rule matches these selectors" },
    );
  }

  #request(rule: NewRule, verb: "add" | "delete"): Record<string, unknown> {
    if (typeof rule !== "object" || rule === null) throw new TypeError("rule: expected an object");
    checkOptions(`rule.${verb}() spec`, rule, RULE_KEYS);
    const deleting = verb === "delete";
    if (
      deleting
      && !RULE_KEYS.some((key) => key !== "family" && rule[key as keyof NewRule] !== undefined)
    ) {
      throw new TypeError(
        "rule.delete() needs a selector (priority, from, to, table, fwmark, iif, oif...): with "
          + "none the kernel deletes the first rule, table local's (ip rule del refuses too)",
      );
    }
    const from = rule.from === undefined || rule.from === "all"
      ? undefined
      : parsePrefix(rule.from, "from");
    const to = rule.to === undefined || rule.to === "all" ? undefined : parsePrefix(rule.to, "to");
    const family = rule.family !== undefined
      ? FAMILIES.value(rule.family, "family")
      : from?.family ?? to?.family ?? 2;
    if ((from && from.family !== family) || (to && to.family !== family)) {
      throw new TypeError("from and to must be of the rule's family");
    }
    const table = rule.table === undefined
      ? undefined
      : typeof rule.table === "number"
      ? integer(rule.table, "table", 0xffff_ffff)
      : TABLES.value(rule.table, "table");
    const action = rule.action !== undefined
      ? ACTIONS.value(rule.action, "action")
      : rule.goto !== undefined
      ? 2
      : table !== undefined || !deleting
      ? 1
      : 0;
    if (rule.invert !== undefined && typeof rule.invert !== "boolean") {
      throw new TypeError(`invert must be a boolean, got ${typeof rule.invert}`);
    }
    const request: Record<string, unknown> = {
      family,
      action,
      flags: rule.invert ? FIB_RULE_INVERT : 0,
      // `ip rule add` without a table looks up main.
      headerTable: table !== undefined
        ? (table < 256 ? table : 0)
        : action === 1 && !deleting
        ? 254
        : 0,
    };
    if (table !== undefined) request.table = table;
    if (rule.priority !== undefined) {
      request.priority = integer(rule.priority, "priority", 0xffff_ffff);
    }
    if (from) {
      request.src = from.address;
      request.srcLen = from.prefixLength;
    }
    if (to) {
      request.dst = to.address;
      request.dstLen = to.prefixLength;
    }
    if (rule.fwmark !== undefined) request.fwmark = integer(rule.fwmark, "fwmark", 0xffff_ffff);
    if (rule.fwmask !== undefined) request.fwmask = integer(rule.fwmask, "fwmask", 0xffff_ffff);
    // By name, as ip takes them: the link may not exist yet (the rule waits for it).
    if (rule.iif !== undefined) request.iifname = checkLinkName(rule.iif, "iif");
    if (rule.oif !== undefined) request.oifname = checkLinkName(rule.oif, "oif");
    if (rule.tos !== undefined) request.tos = integer(rule.tos, "tos", 255);
    if (rule.goto !== undefined) request.goto = integer(rule.goto, "goto", 0xffff_ffff);
    return request;
  }
}
