// The examples that need no kernel module, run as their headers say (test/_examples.ts).

import assert from "node:assert/strict";
import { test } from "node:test";
import { runExample } from "../_examples.ts";
import { Netns } from "./_netns.ts";

test("examples/list_links.ts lists this machine's links, addresses and routes", async () => {
  const { status, stdout, stderr } = await runExample("list_links.ts");
  assert.equal(status, 0, stderr);
  assert.match(stdout, /^links:\n {2}1: lo /m);
  assert.match(stdout, /^addresses:\n {2}lo: 127\.0\.0\.1\/8/m);
  assert.match(stdout, /routes/);
});

test("examples/raw_request.ts gets the kernel's extended ack, then makes a veth pair", async () => {
  const { status, stdout, stderr } = await runExample("raw_request.ts");
  assert.equal(status, 0, stderr);
  assert.match(stdout, /kernel said EOPNOTSUPP \(errno 95\): Unknown device type/);
  assert.match(stdout, /created a veth pair: 3 links in namespace raw-request-demo-/);
});

test("examples/watch_links.ts prints links appearing, and stops after its seconds", async () => {
  using ns = new Netns();
  const watching = runExample("watch_links.ts", ["6"], {
    prefix: ["ip", "netns", "exec", ns.name],
  });
  await new Promise((r) => setTimeout(r, 3000)); // past the runtime's start-up, on a busy machine
  ns.ip("link", "add", "wx0", "type", "veth", "peer", "name", "wx1");
  const { status, stdout, stderr } = await watching;
  assert.equal(status, 0, stderr);
  assert.match(stdout, /watching links/);
  assert.match(stdout, /link \d+ wx0: /);
  assert.match(stdout, /link \d+ wx1: /);
});
