// examples/ss.ts run as its header says (test/_examples.ts), inside a namespace whose sockets a
// python3 process holds.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { runExample } from "../_examples.ts";
import { Netns } from "../host/_netns.ts";
import { holdSockets } from "./_ss.ts";

test("examples/ss.ts lists TCP, UDP and unix sockets with their processes, like ss -tuxanp", async () => {
  using ns = new Netns();
  await using held = await holdSockets(
    ns,
    `
L = socket.socket(); L.bind(("127.0.0.1", 5000)); L.listen(7)
C = socket.create_connection(("127.0.0.1", 5000)); A, _ = L.accept(); C.sendall(b"hello")
U = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); U.bind(("::1", 6000))
X = socket.socket(socket.AF_UNIX); X.bind("\\0${ns.name}"); X.listen(3)
time.sleep(0.1)
`,
  );
  const prefix = ["ip", "netns", "exec", ns.name];
  const command = readFileSync(`/proc/${held.pid}/comm`, "utf8").trim();
  const all = await runExample("ss.ts", ["-p", "-i"], { prefix });
  assert.equal(all.status, 0, all.stderr);
  const lines = all.stdout.split("\n");
  assert.match(lines[0], /^Netid +State +Recv-Q +Send-Q +Local Address:Port +Peer Address:Port$/);
  const owner = `users:(("${command}",pid=${held.pid},fd=`;
  const line = (pattern: RegExp) => lines.find((l) => pattern.test(l));
  assert.ok(
    line(/^tcp +LISTEN +0 +7 +127\.0\.0\.1:5000 +0\.0\.0\.0:\* /)?.includes(owner),
    all.stdout,
  );
  assert.ok(
    line(/^tcp +ESTAB +5 +0 +127\.0\.0\.1:5000 +127\.0\.0\.1:\d+ /)?.includes(owner),
    all.stdout,
  );
  assert.match(all.stdout, /^\t \S+ rtt:[\d.]+\/[\d.]+ cwnd:\d+$/m);
  assert.ok(line(/^udp +UNCONN +0 +0 +\[::1\]:6000 +\[::\]:\* /)?.includes(owner), all.stdout);
  assert.ok(
    line(new RegExp(`^u_str +LISTEN +0 +3 +@${ns.name} \\d+ +\\* 0 `))?.includes(owner),
    all.stdout,
  );

  const listening = await runExample("ss.ts", ["-t", "-l", "5000"], { prefix });
  assert.equal(listening.status, 0, listening.stderr);
  assert.deepEqual(
    listening.stdout.trim().split("\n").slice(1).map((l) => l.split(/\s+/).slice(0, 5)),
    [
      ["tcp", "LISTEN", "0", "7", "127.0.0.1:5000"],
    ],
  );

  const other = await runExample("ss.ts", ["--netlink", "-0"], { prefix });
  assert.equal(other.status, 0, other.stderr);
  assert.match(other.stdout, /^nl +UNCONN +\d+ +\d+ +0:0 +\*$/m, "the kernel's rtnetlink socket");

  const bad = await runExample("ss.ts", ["--bogus"], { prefix });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown arguments: --bogus/);
  const port = await runExample("ss.ts", ["-t", "70000"], { prefix });
  assert.equal(port.status, 2);
  assert.match(port.stderr, /PORT must be from 0 to 65535, got 70000/);
});
