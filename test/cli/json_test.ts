// The command line's --json writer: a u64 past 2^53 (a link's or qdisc's byte counter on a busy
// machine, tc's u64 options) is printed exactly, as ip -j and tc -j print it (print_u64), not
// rounded to the nearest double.

import assert from "node:assert/strict";
import { test } from "node:test";
import { json } from "../../src/cli/_args.ts";

test("cli --json prints u64 counters past 2^53 digit for digit, as ip -j", () => {
  const lines: string[] = [];
  json({ json: true }, (line) => lines.push(line), [{
    ifname: "eth0",
    stats64: { rx: { bytes: 2n ** 64n - 1n, packets: 2n ** 53n + 1n, errors: 0n } },
    mtu: 1500,
    gone: undefined,
  }]);
  assert.deepEqual(lines, [
    "[{\"ifname\":\"eth0\",\"stats64\":{\"rx\":{\"bytes\":18446744073709551615,\"packets\":9007199254740993,"
    + "\"errors\":0}},\"mtu\":1500}]",
  ]);
});

test("cli --json is indented only for a run given -p (Global.pretty), not for the next run", () => {
  const lines: string[] = [];
  json({ json: true, pretty: true }, (line) => lines.push(line), { ifname: "eth0" });
  json({ json: true }, (line) => lines.push(line), { ifname: "eth0" });
  assert.deepEqual(lines, ["{\n    \"ifname\": \"eth0\"\n}", "{\"ifname\":\"eth0\"}"]);
});
