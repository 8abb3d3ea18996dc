// The command-line tool against ip byte for byte: the names ip's databases give numbers
// (/etc/iproute2's rt_tables, rt_protos, rt_scopes, rt_realms, rt_dsfield, group and the .d
// directories), read in a mount namespace of the test's own where a directory of its making is
// /etc/iproute2, for ip and the tool alike; rule tos; the spaces ip leaves at the end of lines.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname } from "node:path";
import { test } from "node:test";
import { afterFile } from "../_after_file.ts";
import { Netns } from "../host/_netns.ts";
import { cli, quietNetns } from "./_cli.ts";

const tmp = mkdtempSync(`${tmpdir()}/nlnames-`);
// After the file's tests (process.on("exit") left the directory behind, run after run).
afterFile(() => rmSync(tmp, { recursive: true, force: true }));

/** A directory to stand for /etc/iproute2: `files` by path, with the host's other files. */
function iproute2Config(files: Record<string, string>): string {
  const dir = mkdtempSync(`${tmp}/etc-`);
  spawnSync("cp", ["-r", "/etc/iproute2/.", dir]);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(`${dir}/${path}`), { recursive: true });
    writeFileSync(`${dir}/${path}`, text);
  }
  return dir;
}

/** The command prefix that runs a command with `dir` mounted on /etc/iproute2 (for it alone). */
function withConfig(dir: string): string[] {
  return [
    "unshare",
    "--mount",
    "sh",
    "-c",
    "mount --bind \"$0\" /etc/iproute2 && exec \"$@\"",
    dir,
  ];
}

/** `ip -n NS ARGS` run with `prefix`: its status and output. */
function ipRun(ns: Netns, args: string[], prefix: string[] = []) {
  const [command, ...rest] = [...prefix, "ip", "-n", ns.name, ...args];
  return spawnSync(command, rest, { encoding: "utf8" });
}

/** ip's and the tool's output for `args` are the same bytes, and both succeed. */
function sameAsIp(ns: Netns, args: string[], prefix: string[] = []): void {
  const want = ipRun(ns, args, prefix);
  assert.equal(want.status, 0, `ip ${args.join(" ")}: ${want.stderr}`);
  const got = cli(["--netns", ns.name, ...args], prefix);
  assert.equal(got.status, 0, `netlink ${args.join(" ")}: ${got.stderr}`);
  assert.equal(got.stdout, want.stdout, args.join(" "));
}

test("cli prints and takes the names of ip's databases, /etc/iproute2 and its .d directories, as ip does", () => {
  const config = iproute2Config({
    "rt_tables.d/vpn.conf": "100\tvpn\n0x12c big # a comment\n",
    "rt_tables.d/ignored.txt": "101 notread\n", // only *.conf files are read
    "rt_tables": "# reserved values\n255\tlocal\n254\tmain\n253\tdefault\n0\tunspec\n102 office\n",
    "rt_protos.d/mine.conf": "78 dproto\n",
    "rt_protos": "0 unspec\n2 kernel\n3 boot\n4 static\n77\tmyproto\n",
    "rt_scopes": "0 global\n255 nowhere\n254 host\n253 link\n200 site\n50 myscope\n",
    "rt_realms": "0 cosmos\n3 realm3\n",
    "rt_dsfield": "0x0 default\n0x10 lowdelay\n0x28 AF11\n",
    "group": "0 default\n5 grp5\n",
  });
  const prefix = withConfig(config);
  using ns = quietNetns([
    "link add va0 type veth peer name vb0",
    "link set va0 up",
    "link set vb0 up",
    "link set va0 group 5",
    "addr add 10.1.0.1/24 dev va0",
    "addr add 10.2.0.1/24 dev va0 scope 50",
    "addr add 2001:db8::1/64 dev va0 nodad",
    "route add 10.77.0.0/16 via 10.1.0.2 table 100 proto 77",
    "route add 10.78.0.0/16 via 10.1.0.2 table 300 proto 78 realms 3/4 tos 0x10",
    "route add 10.79.0.0/16 dev va0 scope 50",
    "route add 10.80.0.0/16 via 10.1.0.2 table 101",
    "route add 10.81.0.0/16 via 10.1.0.2 table 102",
    "route add 10.82.0.0/16 nexthop via 10.1.0.2 weight 1 nexthop via 10.1.0.3 weight 2",
    "route add 2001:db8:5::/48 via 2001:db8::2 table 100 proto 77",
    "rule add table 100 pref 700 realms 3",
    "rule add tos 0x10 table 300 pref 701",
    "rule add table 102 pref 702 proto 77",
    "rule add fwmark 0x5 table 7 suppress_prefixlength 0 pref 703",
    "rule add uidrange 100-200 ipproto tcp sport 80 dport 1000-2000 table 7 pref 704",
    "neigh add 10.1.0.5 lladdr 02:00:00:00:00:05 dev va0",
  ]);
  ns.ip("-6", "rule", "add", "tos", "0x28", "table", "100", "pref", "705"); // AF11 in rt_dsfield
  for (
    const args of [
      ["route", "show"],
      ["route", "show", "table", "all"],
      ["-6", "route", "show", "table", "all"],
      ["route", "show", "table", "vpn"],
      ["route", "show", "table", "big"],
      ["route", "show", "table", "0x12c"],
      ["route", "show", "table", "office"],
      ["route", "show", "proto", "myproto", "table", "all"],
      ["route", "show", "proto", "dproto", "table", "all"],
      ["route", "show", "table", "0"], // every table, as "all"
      ["route", "show", "table", "unspec"],
      ["rule", "show"],
      ["-6", "rule", "show"],
      ["addr", "show"],
      ["link", "show"],
      ["neigh", "show"],
    ]
  ) {
    sameAsIp(ns, args, prefix);
    sameAsIp(ns, ["-j", ...args], prefix);
  }
  // Without the names: ip's built-in ones (the host's files have none of these).
  sameAsIp(ns, ["route", "show", "table", "all"]);
  sameAsIp(ns, ["-j", "rule", "show"]);

  // Names taken where ip takes them: a write by ip and by the tool make the same object.
  const writes: [string[], string[], string[]][] = [
    [
      ["route", "add", "10.90.0.0/16", "via", "10.1.0.2", "table", "vpn", "proto", "dproto"],
      ["-j", "route", "show", "table", "vpn", "10.90.0.0/16"],
      ["route", "del", "10.90.0.0/16", "table", "100"],
    ],
    [
      ["rule", "add", "tos", "lowdelay", "table", "big", "pref", "800"],
      ["-j", "rule", "show", "pref", "800"],
      ["rule", "del", "pref", "800"],
    ],
    [
      ["-6", "rule", "add", "dsfield", "AF11", "table", "office", "pref", "801"],
      ["-6", "-j", "rule", "show", "pref", "801"],
      ["-6", "rule", "del", "pref", "801"],
    ],
  ];
  for (const [write, read, undo] of writes) {
    const byIp = ipRun(ns, write, prefix);
    assert.equal(byIp.status, 0, `ip ${write.join(" ")}: ${byIp.stderr}`);
    const ipMade = ipRun(ns, read, prefix).stdout;
    ipRun(ns, undo);
    const byCli = cli(["--netns", ns.name, ...write], prefix);
    assert.equal(byCli.status, 0, `netlink ${write.join(" ")}: ${byCli.stderr}`);
    const cliMade = ipRun(ns, read, prefix).stdout;
    ipRun(ns, undo);
    assert.equal(cliMade, ipMade, write.join(" "));
    assert.notEqual(JSON.parse(cliMade).length, 0, write.join(" "));
  }
  // A name the databases lack is refused, in ip's words, with the usage status.
  const refused = cli(
    ["--netns", ns.name, "route", "add", "10.91.0.0/16", "via", "10.1.0.2", "table", "vpn"],
  );
  assert.equal(refused.status, 255, refused.stderr);
  assert.equal(refused.stderr, "netlink: argument \"vpn\" is wrong: \"table\" value is invalid\n");
});

test("cli rule add tos and dsfield: names and hex numbers as ip reads them, refusals in ip's words", () => {
  using ns = new Netns();
  const cases: [string, string | undefined][] = [
    ["10", "0x10"], // base 16, as rtnl_dsfield_a2n reads
    ["0x1c", "0x1c"],
    ["0X08", "0x08"],
    ["x", undefined],
    ["100", undefined],
    ["0x", undefined],
    ["-1", undefined],
  ];
  for (const keyword of ["tos", "dsfield"]) {
    for (const [value, shown] of cases) {
      const args = ["rule", "add", keyword, value, "table", "9", "pref", "900"];
      const byIp = ipRun(ns, args);
      ipRun(ns, ["rule", "del", "pref", "900"]);
      const byCli = cli(["--netns", ns.name, ...args]);
      const made = ns.json("rule", "show", "pref", "900");
      ipRun(ns, ["rule", "del", "pref", "900"]);
      if (shown === undefined) {
        assert.notEqual(byIp.status, 0, value);
        assert.equal(byCli.status, byIp.status, `${value}: ${byCli.stderr}`);
        assert.equal(byCli.stderr, `netlink: ${byIp.stderr.trim().slice("Error: ".length)}\n`);
      } else {
        assert.equal(byIp.status, 0, `${value}: ${byIp.stderr}`);
        assert.equal(byCli.status, 0, `${value}: ${byCli.stderr}`);
        assert.deepEqual(made, [{ priority: 900, src: "all", tos: shown, table: "9" }]);
      }
    }
  }
});

test("cli prints ip's lines to the byte: the spaces after routes, neighbours and IPv6 addresses, cached lookups, multipath", () => {
  using ns = quietNetns([
    "link add va0 type veth peer name vb0",
    "link add vc0 type veth peer name vd0",
    ...["va0", "vb0", "vc0", "vd0"].map((dev) => `link set ${dev} up`),
    "addr add 10.1.0.1/24 dev va0",
    "addr add 10.3.0.1/24 dev vc0",
    "addr add 2001:db8::1/64 dev vc0 nodad",
    "route add 10.80.0.0/16 nexthop via 10.1.0.2 weight 1 nexthop via 10.3.0.2 weight 3",
    "route add 10.59.0.0/16 via 10.1.0.2 mtu lock 1300 advmss 1200 rtt 300ms initcwnd 10",
    "route add 2001:db8:5::/48 via 2001:db8::2",
    "route add 2001:db8:6::/48 nexthop via 2001:db8::2 weight 1 nexthop via 2001:db8::3 weight 2",
    "neigh add 10.1.0.5 lladdr 02:00:00:00:00:05 dev va0",
    "neigh add 2001:db8::5 lladdr 02:00:00:00:00:07 dev vc0 router",
  ]);
  for (
    const args of [
      ["route", "show"],
      ["route", "show", "table", "all"],
      ["-6", "route", "show"],
      ["route", "get", "10.80.0.1"],
      ["route", "get", "10.1.0.255"],
      ["-6", "route", "get", "2001:db8:5::1"],
      ["neigh", "show"],
      ["-6", "neigh", "show"],
      ["neigh", "show", "dev", "va0"],
      ["-6", "route", "show", "table", "all"],
      ["-6", "addr", "show", "dev", "vc0"], // all of the link's line, as without -6
      ["-6", "addr", "show"],
      ["-4", "addr", "show"],
      ["addr", "show"],
    ]
  ) {
    sameAsIp(ns, args);
  }
});

test("cli takes route types, neighbour states and rule link names as ip does, and refuses in ip's words", () => {
  using ns = quietNetns(["link add va0 type veth peer name vb0", "addr add 10.1.0.1/24 dev va0"]);
  /** `write` by ip, then by the tool: the same object (`read` by ip -j) or the same refusal. */
  const compare = (write: string[], read: string[], undo: string[]) => {
    const byIp = ipRun(ns, write);
    const ipMade = ipRun(ns, ["-j", ...read]).stdout;
    ipRun(ns, undo);
    const byCli = cli(["--netns", ns.name, ...write]);
    const cliMade = ipRun(ns, ["-j", ...read]).stdout;
    ipRun(ns, undo);
    assert.equal(cliMade, ipMade, write.join(" "));
    if (byIp.status === 0) {
      assert.equal(byCli.status, 0, `${write.join(" ")}: ${byCli.stderr}`);
      assert.notEqual(JSON.parse(ipMade).length, 0, write.join(" "));
    } else if (/^Error: argument/.test(byIp.stderr)) {
      assert.equal(byCli.status, byIp.status, `${write.join(" ")}: ${byCli.stderr}`);
      assert.equal(byCli.stderr, `netlink: ${byIp.stderr.trim().slice("Error: ".length)}\n`);
    } else assert.notEqual(byCli.status, 0, write.join(" "));
  };
  for (const type of ["black", "blackhole", "unreach", "prohibit", "6", "0x7", "throw"]) {
    const route = ["route", "add", type, "10.60.0.0/16"];
    compare(route, ["route", "show", "table", "all", "10.60.0.0/16"], [
      "route",
      "flush",
      "10.60.0.0/16",
    ]);
  }
  for (const state of ["perm", "permanent", "reach", "stale", "noarp", "0x80", "4", "3", "bogus"]) {
    compare(
      ["neigh", "add", "10.1.0.9", "lladdr", "02:00:00:00:00:09", "dev", "va0", "nud", state],
      ["neigh", "show", "10.1.0.9", "nud", "all"], // noarp entries too
      ["neigh", "del", "10.1.0.9", "dev", "va0"],
    );
  }
  for (
    const [key, name] of [["iif", "va0"], ["iif", "sixteen-bytes-xx"], ["oif", "a/b"], [
      "oif",
      "a b",
    ]]
  ) {
    compare(["rule", "add", key, name, "table", "5", "pref", "900"], [
      "rule",
      "show",
      "pref",
      "900",
    ], [
      "rule",
      "del",
      "pref",
      "900",
    ]);
  }
  // A route type the tool is told where ip takes none, refused in the words of ip route show.
  const typed = cli(["--netns", ns.name, "route", "add", "10.61.0.0/16", "type", "bogus"]);
  assert.equal(typed.status, 255);
  assert.equal(typed.stderr, "netlink: argument \"bogus\" is wrong: node type value is invalid\n");
  sameAsIp(ns, ["route", "show", "type", "black", "table", "all"]);
});

test("cli reads a database line as ip does up to a NUL in it: the name ends there, a line that starts with one is skipped", () => {
  // fgets() reads the line whole, sscanf() sees it up to its first NUL (a hostile or broken file).
  const config = iproute2Config({ "rt_tables": "101 nu\0ll\n\0 junk\n102 after\n" });
  using ns = quietNetns([
    "link add va0 type veth peer name vb0",
    "route add blackhole 10.50.0.0/16 table 101",
    "route add blackhole 10.51.0.0/16 table 102",
  ]);
  const prefix = withConfig(config);
  sameAsIp(ns, ["route", "show", "table", "all"], prefix);
  sameAsIp(ns, ["-j", "route", "show", "table", "all"], prefix);
  sameAsIp(ns, ["route", "show", "table", "nu"], prefix);
  assert.match(
    ipRun(ns, ["route", "show", "table", "all"], prefix).stdout,
    /table nu \n.*table after/s,
  );
});

test("cli warns of a corrupted database in ip's words, where ip does, and keeps what came before", () => {
  using ns = quietNetns([
    "link add va0 type veth peer name vb0",
    "route add blackhole 10.50.0.0/16 table 101",
    "route add blackhole 10.51.0.0/16 table 102",
    "route add blackhole 10.52.0.0/16 table 103",
  ]);
  const long = `103 ${"n".repeat(600)}\n`; // fgets() reads 511 bytes of it, then the rest
  for (
    const rtTables of [
      "101 before\nnot an entry\n102 after\n",
      "101 before\n  bad\0tail\n102 after\n", // printed up to the NUL, without its newline
      "101 before\n7\n", // an id without a name
      `101 before\n${long}102 after\n`,
      "101 before\nno newline at the end",
    ]
  ) {
    const prefix = withConfig(iproute2Config({ rt_tables: rtTables }));
    for (
      const args of [["route", "show", "table", "all"], ["-j", "route", "show", "table", "all"]]
    ) {
      const want = ipRun(ns, args, prefix);
      assert.match(want.stderr, /^Database \/etc\/iproute2\/rt_tables is corrupted at /);
      const got = cli(["--netns", ns.name, ...args], prefix);
      assert.equal(got.status, want.status, got.stderr);
      assert.equal(got.stdout, want.stdout, JSON.stringify(rtTables));
      assert.equal(got.stderr, want.stderr, JSON.stringify(rtTables));
    }
  }
  // Warned of once, and only by commands that read the database, as ip.
  const prefix = withConfig(iproute2Config({ rt_tables: "bogus\n" }));
  for (const args of [["link", "show"], ["route", "show", "table", "all"]]) {
    const want = ipRun(ns, args, prefix);
    const got = cli(["--netns", ns.name, ...args], prefix);
    assert.equal(got.stderr, want.stderr, args.join(" "));
    assert.equal(got.stdout, want.stdout, args.join(" "));
  }
});

test("cli reads only regular database files of at most 1 MiB: a FIFO or /dev/zero in /etc/iproute2 is skipped with a warning, not read forever", () => {
  using ns = quietNetns([
    "link add va0 type veth peer name vb0",
    "route add blackhole 10.50.0.0/16 table 101",
  ]);
  const big = `101 big\n${"#".repeat(1 << 20)}\n`;
  const cases: [string, (path: string) => void, string][] = [
    ["a FIFO", (path) => spawnSync("mkfifo", [path]), "not a regular file"],
    ["a link to /dev/zero", (path) => symlinkSync("/dev/zero", path), "not a regular file"],
    ["a directory", (path) => mkdirSync(path), "not a regular file"],
    ["a file over 1 MiB", (path) => writeFileSync(path, big), "larger than 1048576 bytes"],
  ];
  for (const path of ["rt_tables", "rt_tables.d/x.conf"]) {
    // What ip prints with the file empty: the tool's output, the file skipped.
    const plain = ipRun(
      ns,
      ["route", "show", "table", "all"],
      withConfig(iproute2Config({
        [path]: "",
      })),
    ).stdout;
    assert.match(plain, /table 101/);
    for (const [what, make, why] of cases) {
      const config = iproute2Config({ [path]: "" });
      rmSync(`${config}/${path}`);
      make(`${config}/${path}`);
      const got = cli(["--netns", ns.name, "route", "show", "table", "all"], withConfig(config));
      assert.equal(got.status, 0, `${what} at ${path}: ${got.stderr}`);
      assert.equal(got.stdout, plain, `${what} at ${path}`);
      assert.equal(
        got.stderr,
        `Database /etc/iproute2/${path} is ${why}: not read\n`,
        `${what} at ${path}`,
      );
    }
  }
  // /etc/protocols (ip's getprotobynumber) likewise: a FIFO there is not waited on, no names.
  ns.ip("rule", "add", "ipproto", "tcp", "table", "7", "pref", "704");
  const fifo = `${tmp}/protocols-fifo`;
  spawnSync("mkfifo", [fifo]);
  const protocols = cli(["--netns", ns.name, "rule", "show"], [
    "unshare",
    "--mount",
    "sh",
    "-c",
    "mount --bind \"$0\" /etc/protocols && exec \"$@\"",
    fifo,
  ]);
  assert.equal(protocols.status, 0, protocols.stderr);
  assert.match(protocols.stdout, /^704:\tfrom all ipproto ipproto-6 lookup 7$/m);
  assert.match(cli(["--netns", ns.name, "rule", "show"]).stdout, /^704:.* ipproto tcp /m);
  // A link to a regular file is read, as ip reads it.
  const config = iproute2Config({ "real/tables": "101 linked\n" });
  rmSync(`${config}/rt_tables`);
  symlinkSync(`${config}/real/tables`, `${config}/rt_tables`);
  sameAsIp(ns, ["route", "show", "table", "all"], withConfig(config));
  assert.match(
    cli(["--netns", ns.name, "route", "show", "table", "linked"], withConfig(config)).stdout,
    /10\.50\.0\.0/,
  );
});
