// A route monitor and a typed monitor on one socket share its stream (each message goes to one of
// them, as documented), and its marker: the one started second sends none, the socket holding
// nothing from before its call that the first would not take. With a marker of its own, whose
// ack the other could read and drop, the second skipped every event for good.

import assert from "node:assert/strict";
import { test } from "node:test";
import { openRoute, type RouteEvent } from "../../src/route/mod.ts";
import { family } from "../../src/ynl/family.ts";
import { rtLink } from "../../src/ynl/rt_link.ts";
import { Netns } from "../host/_netns.ts";

/**
 * Makes veth pairs m0/n0, m1/n1... in `ns`, one by one, until `done` says to stop. (Each pair's
 * two events may go one to each monitor.)
 */
async function churn(ns: Netns, done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) {
    ns.ipBatch([`link add m${i} type veth peer name n${i}`]);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const first of ["typed", "route"] as const) {
  test(`a route monitor and a typed monitor on one socket both get events, the ${first} one started first`, async () => {
    using ns = new Netns();
    await using ip = await openRoute({ netns: ns.name });
    await using rt = await family(rtLink, { socket: ip.socket });
    const stop = new AbortController();
    const { signal } = stop;
    let routeEvents = 0;
    let typedEvents = 0;
    const both = () => routeEvents > 0 && typedEvents > 0;
    const route = async (events: AsyncIterableIterator<RouteEvent>) => {
      for await (const event of events) {
        if (event.object === "link" && /^[mn]\d/.test(event.value.name)) routeEvents++;
        if (both()) break;
      }
    };
    const typed = async (events: ReturnType<typeof rt.monitor>) => {
      for await (const event of events) {
        if (event.op === "newlink-ntf" && /^[mn]\d/.test(event.message.ifname ?? "")) typedEvents++;
        if (both()) break;
      }
    };
    const aborted = (err: unknown) => {
      if (!signal.aborted) throw err;
    };
    // Each monitor joins its groups (and sends a marker, if it does) as it is called.
    const loops = [
      (first === "typed"
        ? typed(rt.monitor({ groups: ["rtnlgrp-link"], signal }))
        : route(ip.monitor(["link"], { signal }))).catch(aborted),
    ];
    await new Promise((resolve) => setTimeout(resolve, 50)); // the first one reading
    loops.push(
      (first === "typed"
        ? route(ip.monitor(["link"], { signal }))
        : typed(rt.monitor({ groups: ["rtnlgrp-link"], signal }))).catch(aborted),
    );
    await churn(ns, both);
    stop.abort();
    await Promise.all(loops);
    assert.ok(routeEvents > 0, `the route monitor got ${routeEvents} events`);
    assert.ok(typedEvents > 0, `the typed monitor got ${typedEvents} events`);
  });
}
