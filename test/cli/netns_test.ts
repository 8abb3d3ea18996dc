// `netns list|add|delete` beside ip netns: the namespaces it makes are ip's (/run/netns), its
// list prints ip's lines for them (with the id a namespace has where it is listed), and its
// failures ip's statuses.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { test } from "node:test";
import { ip, Netns } from "../host/_netns.ts";
import { cli } from "./_cli.ts";

test("cli netns add, list and delete: ip's namespaces, lines and statuses", () => {
  const name = `nltest-${process.pid}-cli-netns`;
  const other = new Netns();
  try {
    const run = (...args: string[]) => cli(args);
    const byIp = (...args: string[]) => spawnSync("ip", args, { encoding: "utf8" });
    assert.equal(run("netns", "add", name).status, 0);
    assert.ok(ip("netns", "list").split("\n").some((line) => line.startsWith(name)));
    // The same failures as ip, with its words and status.
    for (const args of [["netns", "add", name], ["netns", "add", "a/b"], ["netns", "add"]]) {
      const ours = run(...args);
      const theirs = byIp(...args);
      assert.equal(ours.status, theirs.status, args.join(" "));
      assert.equal(ours.stderr, `netlink: ${theirs.stderr}`, args.join(" "));
    }
    // A peer of a link in `other`: `other` names the new namespace by an id, which list shows.
    other.ip("link", "add", "v0", "type", "veth", "peer", "name", "v1", "netns", name);
    const mine = (text: string) => text.split("\n").filter((line) => line.startsWith(name));
    const listed = run("--netns", other.name, "netns", "list");
    assert.deepEqual(mine(listed.stdout), mine(other.ip("netns", "list")));
    assert.match(mine(listed.stdout)[0], / \(id: \d+\)$/);
    const json = JSON.parse(run("--netns", other.name, "--json", "netns").stdout) as {
      name: string;
    }[];
    assert.deepEqual(
      json.filter((entry) => entry.name === name),
      (JSON.parse(other.ip("-j", "netns")) as { name: string }[]).filter((e) => e.name === name),
    );
    assert.equal(run("netns", "delete", name).status, 0);
    assert.ok(!ip("netns", "list").split("\n").some((line) => line.startsWith(name)));
    const again = run("netns", "del", name);
    const theirs = byIp("netns", "del", name);
    assert.equal(again.status, theirs.status);
    assert.equal(again.stderr, `netlink: ${theirs.stderr}`);
  } finally {
    other[Symbol.dispose]();
    spawnSync("ip", ["netns", "del", name]);
  }
});
