// `qdisc`, `class` and `filter`: the tc client, printed as `tc` prints (`--json`: `tc -j`'s names).

import { TrafficControl } from "../route/tc.ts";
import { parseFilterParent, parseHandle } from "../route/tc_handle.ts";
import { formatRate, formatSize, formatTime } from "../route/tc_units.ts";
import {
  type Global,
  json,
  keywords,
  type Output,
  selectors,
  socketOptions,
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
  const [, rest] = verb(args, ["show"]);
  const [kw, positional] = keywords(rest, ["dev", "parent"]);
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
      throw new UsageError(`unexpected "${operand}"`);
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
    if (global.json) return json(out, shown);
    for (const [i, q] of shown.entries()) {
      const dev = "dev" in q ? ` dev ${q.dev}` : "";
      const place = "root" in q ? "root" : `parent ${q.parent}`;
      const refcnt = q.refcnt === undefined ? "" : ` refcnt ${q.refcnt}`;
      // tc's fifo printer: packets with a "p", bfifo's bytes as a size; ingress's a rule.
      const options = q.kind === "ingress"
        ? "----------------"
        : q.kind === "pfifo" || q.kind === "pfifo_head_drop"
        ? `limit ${q.options.limit}p`
        : q.kind === "bfifo"
        ? `limit ${formatSize(q.options.limit as number)}`
        : optionsText(q.options);
      out(`qdisc ${q.kind} ${q.handle}${dev} ${place}${refcnt} ${options}`.trimEnd());
      if (global.stats) {
        const s = qdiscs[i].stats;
        out(
          ` Sent ${s.bytes} bytes ${s.packets} pkt (dropped ${s.drops}, `
            + `overlimits ${s.overlimits} requeues ${s.requeues})`,
        );
        out(` backlog ${s.backlog}b ${s.qlen}p requeues ${s.requeues}`);
      }
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
    }));
    if (global.json) return json(out, shown);
    for (const c of shown) {
      // quantum and level are details tc prints only with -d.
      const { class: kind, handle, root, parent: p, leaf, quantum: _q, level: _l, ...options } =
        c as Record<string, unknown>;
      const place = root ? "root" : `parent ${p}`;
      out(
        `class ${kind} ${handle} ${place}${leaf ? ` leaf ${leaf}` : ""} ${optionsText(options)}`
          .trimEnd(),
      );
    }
    return;
  }
  const filters = await tc.filters({ dev: kw.dev, ...(parent ? { parent } : {}) });
  const shown = filters.map((f) => ({
    ...(f.parent === "ingress" || f.parent === "egress" ? {} : { parent: f.parent }),
    protocol: f.protocol,
    pref: f.pref,
    kind: f.kind,
    ...(f.chain === undefined ? {} : { chain: f.chain }),
    ...(Object.keys(f.options).length ? { options: f.options } : {}),
  }));
  if (global.json) return json(out, shown);
  for (const f of shown) {
    const place = f.parent ? `parent ${f.parent} ` : "";
    const chain = f.chain === undefined ? "" : ` chain ${f.chain}`;
    out(
      `filter ${place}protocol ${f.protocol} pref ${f.pref} ${f.kind}${chain} ${
        optionsText(f.options ?? {})
      }`.trimEnd(),
    );
  }
}

/**
 * Options as tc prints them: rates, sizes and times in its units; keys, actions; u32's hash
 * table fields, its flowid starred when terminal, and its matches one a line after the rest.
 */
function optionsText(options: Record<string, unknown>): string {
  const parts: string[] = [];
  const matches: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (key === "match") {
      for (const m of value as { value: string; mask: string; off: number }[]) {
        matches.push(
          `\n  match ${m.value.padStart(8, "0")}/${m.mask.padStart(8, "0")} at ${m.off}`,
        );
      }
    } else if (key === "ht_divisor") parts.push(`ht divisor ${value}`);
    else if (key === "key_ht") parts.push(`key ht ${value}`);
    else if (key === "terminal") continue; // the star on flowid
    else if (key === "flowid" && options.terminal === true) parts.push(`*flowid ${value}`);
    else if (key === "keys") {
      for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
        parts.push(`${name} ${v}`);
      }
    } else if (key === "actions") {
      for (const action of value as Record<string, unknown>[]) {
        const control = (action.control_action as { type?: string } | undefined)?.type ?? "";
        const mirred = action.kind === "mirred"
          ? ` (${action.direction} ${action.mirred_action} to device ${action.to_dev})`
          : "";
        parts.push(`action order ${action.order}: ${action.kind}${mirred} ${control}`.trimEnd());
      }
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
  return parts.join(" ") + matches.join("");
}
