// NETLINK_DEBUG: a program run with it traces every datagram its sockets send and receive to
// stderr, formatted; without it (or, on Deno, without --allow-env) nothing is printed.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { test } from "node:test";

const trace = new URL("./_trace_child.ts", import.meta.url).pathname;
const isDeno = "Deno" in globalThis;

function run(
  env: Record<string, string>,
  denoFlags = ["--allow-ffi", "--allow-env=NETLINK_DEBUG"],
  child = trace,
) {
  const args = isDeno ? ["run", ...denoFlags, child] : [child];
  const result = spawnSync(process.execPath, args, {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", NETLINK_DEBUG: "", ...env },
    timeout: 30_000,
  });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), "done");
  return result.stderr;
}

test("NETLINK_DEBUG=1 traces each message sent and received, one line each", () => {
  const lines = run({ NETLINK_DEBUG: "1" }).trim().split("\n");
  const between = lines.indexOf("-- between --");
  assert.ok(lines.slice(0, between).every((l) => l.startsWith("netlink route ")), lines.join("\n"));
  assert.ok(lines.slice(between + 1).every((l) => l.startsWith("netlink generic ")));
  const route = lines.filter((l) => l.startsWith("netlink route "));
  assert.match(
    route[0],
    /^netlink route \d+ send RTM_GETLINK flags=REQUEST\|ACK seq=\d+ port=\d+ ifinfomsg=\{.*ifiIndex=1 /,
  );
  assert.ok(
    route.some((l) => /^netlink route \d+ recv RTM_NEWLINK flags=0 .* ifname="lo" /.test(l)),
    route.join("\n"),
  );
  assert.ok(
    route.some((l) => /recv NLMSG_ERROR .* ack=0 for=RTM_GETLINK/.test(l)),
    route.join("\n"),
  );
  const generic = lines.filter((l) => l.startsWith("netlink generic "));
  assert.match(
    generic[0],
    /^netlink generic \d+ send nlctrl getfamily flags=REQUEST\|ACK .* familyName="nlctrl"/,
  );
  assert.ok(generic.some((l) => /recv nlctrl getfamily .*familyId=16/.test(l)), generic.join("\n"));
});

test("NETLINK_DEBUG: another socket's nlctrl message does not rename a family in later lines", () => {
  const spoof = new URL("./_trace_spoof_child.ts", import.meta.url).pathname;
  const lines = run({ NETLINK_DEBUG: "1" }, undefined, spoof).trim().split("\n");
  const after = lines.slice(lines.indexOf("-- spoofed --") + 1);
  assert.match(after[0], /^netlink generic \d+ send ethtool strset-get flags=REQUEST\|ACK /);
  assert.ok(!lines.some((l) => /send spoofed/.test(l)), lines.join("\n"));
});

test("NETLINK_DEBUG=tree traces as indented trees", () => {
  const stderr = run({ NETLINK_DEBUG: "tree" });
  assert.match(
    stderr,
    /^netlink route \d+ send RTM_GETLINK flags=REQUEST\|ACK seq=\d+ port=\d+\n {2}ifinfomsg:\n {4}ifiFamily: 0\n/m,
  );
  assert.match(stderr, /\n {2}ifname: "lo"\n/);
});

test("without NETLINK_DEBUG (or set to 0 or false) nothing is traced", () => {
  assert.equal(run({}), "-- between --\n");
  assert.equal(run({ NETLINK_DEBUG: "0" }), "-- between --\n");
  assert.equal(run({ NETLINK_DEBUG: "false" }), "-- between --\n");
});

if (isDeno) {
  test("Deno without --allow-env: NETLINK_DEBUG is not readable, and nothing throws or prompts", () => {
    assert.equal(run({ NETLINK_DEBUG: "1" }, ["--allow-ffi", "--no-prompt"]), "-- between --\n");
  });
}
