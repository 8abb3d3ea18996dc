// raw_diag: the host kernel is built without it (CONFIG_INET_RAW_DIAG), the guest's Debian
// kernel loads it on demand. Raw sockets a python3 process opens in a fresh namespace, listed by
// the library and by `ss -w` in that namespace.

import assert from "node:assert/strict";
import { test } from "node:test";
import { inetSockets } from "../../src/diag/mod.ts";
import { fromSs, holdSockets, inetAsSs, ss } from "../diag/_ss.ts";
import { Netns } from "../host/_netns.ts";

test("raw sockets match ss -wan: IPv4 and IPv6, each with its protocol", async () => {
  using ns = new Netns();
  await using _ = await holdSockets(
    ns,
    `
R = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
R6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 58)
RU = socket.socket(socket.AF_INET, socket.SOCK_RAW, 17); RU.bind(("127.0.0.1", 0))
`,
  );
  const ours = await inetSockets({ protocol: "raw", netns: ns.name });
  assert.deepEqual(ours.map(inetAsSs).sort(), ss(ns, "-wane").map((line) => fromSs(line)).sort());
  assert.deepEqual(ours.map((s) => s.protocol).sort((a, b) => a - b), [1, 17, 58]);
  assert.equal(ours.find((s) => s.protocol === 17)!.local.address, "127.0.0.1");
  const v6 = await inetSockets({ protocol: "raw", family: "inet6", netns: ns.name });
  assert.deepEqual(v6.map((s) => s.protocol), [58]);
});
