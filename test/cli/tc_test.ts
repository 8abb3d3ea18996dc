// The command-line tool's tc views against tc byte for byte: -s on classes (counters, htb's
// own) and filters (each action's counters and times), the spaces tc leaves at line ends.

import assert from "node:assert/strict";
import { test } from "node:test";
import { Netns } from "../host/_netns.ts";
import { tcRun } from "../route/_tc.ts";
import { cli } from "./_cli.ts";

test("cli -s class show and filter show print tc -s's counters, htb's own and each action's", () => {
  // Links left down: no packet moves a counter between the two reads.
  using ns = new Netns(["link add vc0 type veth peer name vd0"]);
  tcRun(ns, "qdisc", "add", "dev", "vd0", "root", "handle", "1:", "htb", "default", "10");
  tcRun(ns, ..."class add dev vd0 parent 1: classid 1:10 htb rate 1mbit".split(" "));
  tcRun(
    ns,
    ..."qdisc add dev vd0 parent 1:10 handle 20: tbf rate 1mbit burst 10kb lat 50ms".split(" "),
  );
  tcRun(ns, "qdisc", "add", "dev", "vc0", "clsact");
  tcRun(
    ns,
    ..."filter add dev vc0 egress protocol ip pref 30 u32 match ip dst 10.9.0.0/16".split(" "),
    ..."action mirred egress redirect dev vd0".split(" "),
  );
  tcRun(
    ns,
    ..."filter add dev vc0 ingress protocol ip pref 10 u32 match ip dst 10.0.0.0/24".split(" "),
    ..."classid 1:10".split(" "),
  );
  // An action's age in seconds ticks between the two reads.
  const seconds = (text: string) => text.replace(/(installed|used) \d+ sec/g, "$1 N sec");
  for (
    const args of [
      ["class", "show", "dev", "vd0"],
      ["-s", "class", "show", "dev", "vd0"],
      ["filter", "show", "dev", "vc0", "egress"],
      ["-s", "filter", "show", "dev", "vc0", "egress"],
      ["-s", "filter", "show", "dev", "vc0", "ingress"],
      ["qdisc", "show"],
      ["-s", "qdisc", "show"],
    ]
  ) {
    const got = cli(["--netns", ns.name, ...args]);
    assert.equal(got.status, 0, got.stderr);
    assert.equal(seconds(got.stdout), seconds(tcRun(ns, ...args)), args.join(" "));
  }
  // In JSON, as tc -s -j shows them (iproute2 6.2 on for classes: 6.1 prints no JSON there).
  const result = cli(["--netns", ns.name, "-s", "--json", "class", "show", "dev", "vd0"]);
  const [htb] = JSON.parse(result.stdout);
  assert.deepEqual(htb.stats, {
    ...{ bytes: 0, packets: 0, drops: 0, overlimits: 0, requeues: 0, backlog: 0, qlen: 0 },
    ...{ lended: 0, borrowed: 0, giants: 0, tokens: htb.stats.tokens, ctokens: htb.stats.ctokens },
  });
  assert.match(
    tcRun(ns, "-s", "class", "show", "dev", "vd0"),
    new RegExp(` tokens: ${htb.stats.tokens} `),
  );
  const filters = JSON.parse(
    cli(["--netns", ns.name, "-s", "--json", "filter", "show", "dev", "vc0", "egress"]).stdout,
  );
  const [action] = filters[2].options.actions;
  const [want] = JSON.parse(tcRun(ns, "-s", "-j", "filter", "show", "dev", "vc0", "egress"))[2]
    .options.actions;
  assert.deepEqual(
    { ...action, installed: 0, last_used: 0 },
    { ...want, installed: 0, last_used: 0 },
  );
});
