// `qdisc`, `class` and `filter`: the tc client, printed as `tc` prints (`--json`: `tc -j`'s names).

import { statsOut } from "../route/_tc_read.ts";
import { TrafficControl } from "../route/tc.ts";
import { parseFilterParent, parseHandle } from "../route/tc_handle.ts";
import { formatRate, formatSize, formatTime } from "../route/tc_units.ts";
import {
  duplicate,
  type Global,
  IP_SUBCOMMANDS,
  json,
  keywords,
  type Output,
  selectors,
  socketOptions,
  unexpected,
  UsageError,
  verb,
} from "./_args.ts";

// ---- tc ---------------------------------------------------------------------------------------

/** `qdisc|class|filter show`. */
export async function tcCommand(
  what: "qdisc" | "class" | "filter",
  args: string[],
  global: Global,
  out: Output,
): Promise<void> {
  const [, rest] = verb(args, ["show"], IP_SUBCOMMANDS[what]);
  // As tc: a class's or filter's second dev or parent is refused (its duparg; for parent, tc
  // names the keyword), a qdisc's last dev taken.
  const [kw, positional] = keywords(
    rest,
    ["dev", "parent"],
    what === "qdisc" ? {} : { dev: duplicate, parent: (key) => duplicate(key, key) },
  );
  if (what === "qdisc") selectors(kw, ["dev"], "qdisc show");
  /** A parent as `what` takes it, or a usage error saying what is wrong. */
  const checkParent = (parent: string): string => {
    try {
      if (what === "filter") parseFilterParent(parent);
      else parseHandle(parent, "parent");
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    return parent;
  };
  // A class's or filter's parent may be named bare (`ingress`, `1:`), once; qdisc show selects
  // by dev alone. Anything else is refused rather than ignored (it showed everything).
  const isParent = (operand: string): boolean => {
    try {
      checkParent(operand);
      return true;
    } catch {
      return false;
    }
  };
  let bare: string | undefined;
  for (const operand of positional) {
    if (what === "qdisc" || kw.parent !== undefined || bare !== undefined || !isParent(operand)) {
      throw unexpected(operand);
    }
    bare = operand;
  }
  const parent = kw.parent === undefined ? bare : checkParent(kw.parent);
  await using tc = await TrafficControl.open(
    socketOptions(global),
  );
  if (what === "qdisc") {
    const qdiscs = await tc.qdiscs(kw.dev === undefined ? {} : { dev: kw.dev });
    const shown = qdiscs.map((q) => ({
      kind: q.kind,
      handle: q.handle,
      ...(kw.dev === undefined ? { dev: q.dev } : {}), // as tc: not repeated when asked for
      ...(q.parent === "root" ? { root: true } : { parent: q.parent }),
      ...(q.refcnt !== 1 ? { refcnt: q.refcnt } : {}),
      options: q.options,
      ...(global.stats ? q.stats : {}), // as tc -s -j: beside the other fields
    }));
    if (global.json) return json(global, out, shown);
    for (const [i, q] of shown.entries()) {
      // As tc: a space after each field, and after the options but those below.
      let line = `qdisc ${q.kind} ${q.handle} `;
      if ("dev" in q) line += `dev ${q.dev} `;
      line += "root" in q ? "root " : `parent ${q.parent} `;
      if (q.refcnt !== undefined) line += `refcnt ${q.refcnt} `;
      // tc's fifo printer: packets with a "p", bfifo's bytes as a size; ingress's a rule.
      line += q.kind === "ingress"
        ? "---------------- "
        : q.kind === "pfifo" || q.kind === "pfifo_head_drop"
        ? `limit ${q.options.limit}p`
        : q.kind === "bfifo"
        ? `limit ${formatSize(q.options.limit as number)}`
        : optionsText(q.options, !NO_SPACE_AFTER.has(q.kind)).text;
      out(line);
      if (global.stats) out(statsText(qdiscs[i].message, " ").join("\n"));
    }
    return;
  }
  if (kw.dev === undefined) throw new UsageError(`${what} show needs "dev DEV"`);
  if (what === "class") {
    const classes = await tc.classes({ dev: kw.dev, ...(parent ? { parent } : {}) });
    const shown = classes.map((c) => ({
      class: c.kind,
      handle: c.handle,
      ...(c.parent === "root" ? { root: true } : { parent: c.parent }),
      ...(c.leaf ? { leaf: c.leaf } : {}),
      ...c.options,
      // As tc -s -j (iproute2 6.2 on: 6.1 prints no JSON for classes): counters under "stats".
      ...(global.stats ? { stats: { ...c.stats, ...classXstats(c.kind, c.message) } } : {}),
    }));
    if (global.json) return json(global, out, shown);
    for (const [i, c] of shown.entries()) {
      // quantum and level are details tc prints only with -d.
      const {
        class: kind,
        handle,
        root,
        parent: p,
        leaf,
        quantum: _q,
        level: _l,
        stats: _s,
        ...options
      } = c as Record<string, unknown>;
      const place = root ? "root" : `parent ${p}`;
      out(
        `class ${kind} ${handle} ${place} ${leaf ? `leaf ${leaf} ` : ""}${
          optionsText(options).text
        }`,
      );
      if (global.stats) {
        // As tc: the counters (if any) and their line's end, then htb's own, then a blank line.
        const { message } = classes[i];
        if (message.stats2 !== undefined || message.stats !== undefined) {
          out(statsText(message, " ").join("\n"));
        }
        const x = classXstats(kind as string, message);
        if (x) {
          out(` lended: ${x.lended} borrowed: ${x.borrowed} giants: ${x.giants}`);
          out(` tokens: ${x.tokens} ctokens: ${x.ctokens}\n`);
        }
      }
    }
    return;
  }
  const filters = await tc.filters({ dev: kw.dev, ...(parent ? { parent } : {}) });
  // As tc: the place a filter hangs from is left out when it is the one asked for.
  const asked = parent === undefined ? undefined : parseFilterParent(parent);
  const shown = filters.map((f) => {
    const options = global.stats ? withActionStats(f.options, f.message) : f.options;
    return {
      ...(asked === parseFilterParent(f.parent) ? {} : filterPlace(f.parent)),
      protocol: f.protocol,
      pref: f.pref,
      kind: f.kind,
      ...(f.chain === undefined ? {} : { chain: f.chain }),
      ...(Object.keys(options).length ? { options } : {}),
    };
  });
  if (global.json) {
    const asTc = shown.map((f) =>
      f.kind === "u32" && f.options ? { ...f, options: u32Json(f.options) } : f
    );
    return out(jsonText(asTc));
  }
  for (const f of shown) {
    const named = FILTER_PLACES.find((key) => key in f);
    const place = "parent" in f ? `parent ${f.parent} ` : named ? `${named} ` : "";
    const chain = f.chain === undefined ? "" : `chain ${f.chain} `;
    const { text, below } = optionsText(f.options ?? {});
    out(`filter ${place}protocol ${f.protocol} pref ${f.pref} ${f.kind} ${chain}${text}${below}`);
  }
}

/** The places a filter hangs that tc names by a key of their own, not as a parent. */
const FILTER_PLACES = ["root", "ingress", "egress"];

/** Where a filter hangs, as tc -j says it (print_filter): root, ingress, egress or a parent. */
function filterPlace(parent: string): Record<string, string | true> {
  return FILTER_PLACES.includes(parent) ? { [parent]: true } : { parent };
}

/** An object whose keys may repeat: tc -j prints u32's "match" once per key. */
class RepeatedKeys {
  constructor(readonly entries: [string, unknown][]) {}
}

/** JSON as tc prints it: as JSON.stringify (bigints as numbers), and RepeatedKeys' keys repeated. */
function jsonText(value: unknown): string {
  if (value instanceof RepeatedKeys) {
    return `{${
      value.entries.map(([key, v]) => `${JSON.stringify(key)}:${jsonText(v)}`).join(",")
    }}`;
  }
  if (Array.isArray(value)) return `[${value.map(jsonText).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return jsonText(new RepeatedKeys(Object.entries(value).filter(([, v]) => v !== undefined)));
  }
  return typeof value === "bigint" ? String(value) : JSON.stringify(value) ?? "null";
}

/**
 * u32's options in tc -j's shape (u32_print_opt): a "match" object per key, after the flags and
 * before the actions; no "terminal", which tc shows only as flowid's star. A JSON parser keeps
 * the last "match", as it does of tc's; the library's `options.match` has them all.
 */
function u32Json(options: Record<string, unknown>): RepeatedKeys {
  const entries: [string, unknown][] = [];
  const matches: [string, unknown][] = [];
  for (const [key, value] of Object.entries(options)) {
    if (key === "terminal") continue;
    if (key === "match") {
      for (const m of value as unknown[]) matches.push(["match", m]);
      continue;
    }
    if (key === "actions") entries.push(...matches.splice(0));
    entries.push([key, value]);
  }
  return new RepeatedKeys([...entries, ...matches]);
}

/** Kinds whose options tc prints without a space after the last (htb, prio, pfifo_fast). */
const NO_SPACE_AFTER = new Set(["htb", "prio", "pfifo_fast"]);

type Message = Record<string, unknown>;

/**
 * TCA_STATS2 as tc -s prints it (print_tcstats2_attr), after `prefix` on each line: "Sent N
 * bytes N pkt (dropped N, overlimits N requeues N) ", the rate when estimated, and "backlog
 * Nb Np requeues N" (on the rate's line, or its own).
 */
function statsText(message: Message, prefix: string): string[] {
  const stats2 = (message.stats2 ?? {}) as Message;
  const basic = stats2.basic as { bytes: bigint; packets: number } | undefined;
  const queue = stats2.queue as Record<string, number> | undefined;
  const rate = (stats2.rateEst64 ?? stats2.rateEst) as
    | { bps: number | bigint; pps: number | bigint }
    | undefined;
  const lines: string[] = [];
  let line = "";
  if (basic) {
    line += `${prefix}Sent ${basic.bytes} bytes ${stats2.pkt64 || basic.packets} pkt`;
  }
  if (queue) {
    line += ` (dropped ${queue.drops}, overlimits ${queue.overlimits} requeues ${queue.requeues}) `;
  }
  if (rate) {
    lines.push(line);
    line = `${prefix}rate ${formatRate(Number(rate.bps))} ${rate.pps}pps`;
  }
  if (queue) {
    if (!stats2.rateEst) {
      lines.push(line);
      line = "";
    }
    line += `${prefix}backlog ${
      formatSize(queue.backlog)
    } ${queue.qlen}p requeues ${queue.requeues}`;
  }
  lines.push(line);
  return lines;
}

/** A class's own counters (TCA_STATS_APP or TCA_XSTATS) with tc's names: htb's only. */
function classXstats(kind: string, message: Message): Record<string, number> | undefined {
  const app = ((message.stats2 ?? {}) as Message).app ?? message.xstats;
  if (kind !== "htb" || !(app instanceof Uint8Array) || app.length < 20) return undefined;
  // struct tc_htb_xstats: lends, borrows, giants (u32), tokens, ctokens (s32).
  const view = new DataView(app.buffer, app.byteOffset, app.byteLength);
  return {
    lended: view.getUint32(0, true),
    borrowed: view.getUint32(4, true),
    giants: view.getUint32(8, true),
    tokens: view.getInt32(12, true),
    ctokens: view.getInt32(16, true),
  };
}

/** Clock ticks a second, as the kernel reports action times (USER_HZ). */
const USER_HZ = 100;

/**
 * A filter's options with tc -s's additions to each action: its times (installed, last_used,
 * first_used, expires, in seconds; those not zero) and counters (stats).
 */
function withActionStats(options: Message, message: Message): Message {
  const actions = options.actions as Message[] | undefined;
  if (actions === undefined) return options;
  const raw = (((message.options ?? {}) as Message).act ?? []) as Message[];
  return {
    ...options,
    actions: actions.map((action, i) => {
      const tm = (((raw[i]?.options ?? {}) as Message).tm ?? {}) as Record<string, bigint>;
      const times: Message = {};
      for (
        const [key, name] of [
          ["install", "installed"],
          ["lastuse", "last_used"],
          ["firstuse", "first_used"],
          ["expires", "expires"],
        ]
      ) {
        if (tm[key]) times[name] = Math.trunc(Number(tm[key]) / USER_HZ);
      }
      const stats = raw[i]?.stats as Message | undefined;
      return {
        ...action,
        ...times,
        ...(stats ? { stats: statsOut({ stats2: stats }) } : {}),
        [ACTION_STATS]: stats,
      };
    }),
  };
}

/** An action's TCA_ACT_STATS, for its text under -s (kept out of its JSON). */
const ACTION_STATS = Symbol("action statistics");

/** mirred's eaction as tc prints it in text. */
const MIRRED_TEXT: Record<string, string> = {
  "egress redirect": "Egress Redirect",
  "ingress redirect": "Ingress Redirect",
  "egress mirror": "Egress Mirror",
  "ingress mirror": "Ingress Mirror",
};

/** An action's lines as tc prints them (tc_print_one_action), after a line break. */
function actionText(action: Message): string {
  const control = (action.control_action as { type?: string } | undefined)?.type ?? "";
  let text = `\n\taction order ${action.order}: ${action.kind} `;
  const times = ["installed", "last_used", "first_used", "expires"]
    .filter((key) => action[key] !== undefined)
    .map((key) =>
      ` ${{ installed: "installed", last_used: "used", first_used: "firstused" }[key] ?? key} ${
        action[key]
      } sec`
    ).join("");
  const counts = `ref ${action.ref} bind ${action.bind}${times}\n`;
  if (action.kind === "mirred") {
    const how = MIRRED_TEXT[`${action.direction} ${action.mirred_action}`] ?? "unknown";
    text += `(${how} to device ${action.to_dev}) ${control}\n\tindex ${action.index} ${counts}`;
  } else if (action.kind === "gact") {
    const prob = action.prob as {
      random_type: string;
      control_action: { type: string };
      val: number;
    };
    text += `action ${control}\n\t random type ${prob.random_type} ${prob.control_action.type} `
      + `val ${prob.val}\n\t index ${action.index} ${counts}`;
  }
  const stats = (action as Record<symbol, unknown>)[ACTION_STATS] as Message | undefined;
  if (stats) text += `\tAction statistics:\n${statsText({ stats2: stats }, "\t").join("\n")}\n`;
  return text;
}

/**
 * Options as tc prints them, a space after each: rates, sizes and times in its units; keys;
 * u32's hash table fields and its flowid, starred when terminal. `below`: what tc prints on
 * lines of their own after them (u32's matches, the actions).
 */
function optionsText(options: Record<string, unknown>, spaceAfter = true) {
  const parts: string[] = [];
  let below = "";
  for (const [key, value] of Object.entries(options)) {
    if (key === "match") {
      for (const m of value as { value: string; mask: string; offmask: string; off: number }[]) {
        const at = `${m.offmask}${m.off}`;
        below += `\n  match ${m.value.padStart(8, "0")}/${m.mask.padStart(8, "0")} at ${at}`;
      }
    } else if (key === "ht_divisor") parts.push(`ht divisor ${value}`);
    else if (key === "key_ht") parts.push(`key ht ${value}`);
    else if (key === "terminal") {
      // The star on flowid, or alone without one.
      if (value === true && options.flowid === undefined) parts.push("terminal flowid");
    } else if (key === "flowid" && options.terminal === true) parts.push(`*flowid ${value}`);
    else if (key === "keys") {
      for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
        parts.push(`${name} ${v}`);
      }
    } else if (key === "actions") {
      for (const action of value as Message[]) below += actionText(action);
    } else if (["rate", "ceil", "peakrate"].includes(key)) {
      parts.push(`${key} ${formatRate(value as number)}`);
    } else if (["burst", "cburst", "minburst", "memory_limit"].includes(key)) {
      parts.push(`${key} ${formatSize(value as number)}`);
    } else if (["lat", "target", "interval", "ce_threshold"].includes(key)) {
      parts.push(`${key} ${formatTime(value as number)}`);
    } else if (Array.isArray(value)) parts.push(`${key} ${value.join(" ")}`);
    else if (value === true || value === null) parts.push(key);
    else if (value !== false) parts.push(`${key} ${value}`);
  }
  const text = parts.join(" ");
  return { text: text && spaceAfter ? `${text} ` : text, below };
}
