// `monitor`: changes to links, addresses, routes, neighbours and rules as they happen, one line
// each (`ip monitor`'s style, "Deleted " before what went; `--json`: one object per line).

import { openRoute } from "../route/client.ts";
import type { MonitorObject } from "../route/monitor.ts";
import { type Global, json, keywords, type Output, UsageError } from "./_args.ts";
import { addressJson, linkJson, neighbourJson, routeJson, ruleJson } from "./_ip.ts";

const OBJECTS: Record<string, MonitorObject> = {
  link: "link",
  addr: "address",
  address: "address",
  route: "route",
  neigh: "neighbour",
  neighbour: "neighbour",
  rule: "rule",
};

/** `monitor [OBJECT...] [count N]`: every kind of object when none is named. */
export async function monitorCommand(args: string[], global: Global, out: Output): Promise<void> {
  const [kw, positional] = keywords(args, ["count"]);
  const objects = positional.map((name) => {
    const object = OBJECTS[name];
    if (object === undefined) {
      throw new UsageError(`monitor: unknown object "${name}" (link, address, route, neigh, rule)`);
    }
    return object;
  });
  const count = kw.count === undefined ? Infinity : Number(kw.count);
  if (!(count > 0)) throw new UsageError(`monitor: count "${kw.count}" is not a positive number`);
  await using ip = await openRoute(global.netns === undefined ? {} : { netns: global.netns });
  const watched = objects.length ? objects : Object.values(OBJECTS);
  let seen = 0;
  for await (const event of ip.monitor([...new Set(watched)])) {
    if (event.object === "overrun") {
      out(global.json ? JSON.stringify({ overrun: true }) : "overrun: events were lost");
      continue;
    }
    const deleted = event.action === "deleted";
    let value: Record<string, unknown>;
    let text: string;
    switch (event.object) {
      case "link":
        value = linkJson(event.value, new Map());
        text = `${value.ifindex}: ${value.ifname}: <${(value.flags as string[]).join(",")}> `
          + `mtu ${value.mtu} state ${value.operstate}`;
        break;
      case "address": {
        value = { ifindex: event.value.index, dev: event.value.dev, ...addressJson(event.value) };
        text = `${value.ifindex}: ${value.dev} ${value.family} ${value.local}/${value.prefixlen} `
          + `scope ${value.scope}`;
        break;
      }
      case "route":
        value = routeJson(event.value, false);
        text = [value.type, value.dst, value.gateway && `via ${value.gateway}`]
          .concat(
            value.dev ? [`dev ${value.dev}`] : [],
            value.table ? [`table ${value.table}`] : [],
          )
          .filter(Boolean).join(" ");
        break;
      case "neighbour":
        value = neighbourJson(event.value, false);
        text = [
          value.dst,
          value.dev && `dev ${value.dev}`,
          value.lladdr && `lladdr ${value.lladdr}`,
        ]
          .concat(value.state as string[]).filter(Boolean).join(" ");
        break;
      case "rule":
        value = ruleJson(event.value);
        text = `${value.priority}: from ${value.src}`
          + (value.table === undefined ? ` ${value.action}` : ` lookup ${value.table}`);
        break;
    }
    if (global.json) {
      json(out, { object: event.object, ...(deleted ? { deleted: true } : {}), ...value });
    } else out(`${deleted ? "Deleted " : ""}${text}`);
    if (++seen >= count) break;
  }
}
