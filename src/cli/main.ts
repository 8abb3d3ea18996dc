/**
 * The `netlink` command-line tool: `ip`, `tc`, `genl` and `ethtool` views of the kernel through
 * this library. Human output in iproute2's style; `--json` with `ip -j` / `tc -j` field names.
 *
 * ```sh
 * deno run -A jsr:@netlink/netlink/cli link show
 * bun node_modules/@netlink/netlink/src/cli/main.js --netns blue --json addr show
 * ```
 *
 * (On Bun, installed with `bunx jsr add @netlink/netlink`: JSR's npm tarball holds the modules
 * as `.js`. From a clone of the repository, `bun src/cli/main.ts`.)
 *
 * Commands: `link show [DEV] [up] [master DEV] [type KIND]`, `link add|set|delete` (ip's words),
 * `addr show [DEV] [up] [master DEV]
 * [type KIND] [scope SCOPE|all]`, `addr add|replace|delete|flush`,
 * `route show|get|add|del|flush`, `neigh` (`show|flush [dev DEV] [nud STATE|all]... [proxy]`,
 * `add|del {ADDRESS|proxy ADDRESS} dev DEV`), `rule`,
 * `netns [list]|add|delete`, `monitor [all|label] [OBJECT...]` (typed events; `--raw` or
 * `--tree`: every message received, decoded by `@netlink/netlink/format`; `monitor genl FAMILY
 * [GROUP...]`: a generic family's notifications),
 * `qdisc|class|filter show dev DEV`, `genl [show FAMILY]`, `ethtool DEV`. Global options: `--json`,
 * `--netns NAME`, `--capture FILE` (every socket's traffic as a pcap file, nlmon format, for
 * tshark or Wireshark), `--help`. A failure prints one line to stderr; the exit status is ip's:
 * 255 for a bad command line (a namespace that is not there included, as ip's `-n`), 2 when the
 * kernel refused a request, 1 for anything else (a device or family that is not there, a file
 * that cannot be written, a command it does not have: ip's status for an unknown object). Once
 * its output's reader is gone (`netlink monitor | head -1`), it ends at its next line, quietly,
 * with 141, the status SIGPIPE gives ip.
 *
 * @example
 * ```ts
 * import { run } from "@netlink/netlink/cli";
 * const status = await run(["--json", "link", "show", "lo"]);
 * ```
 *
 * @module
 */

import { commandLine, openNetns, setExitCode, writeStandardOutput } from "../../ffi/mod.ts";
import { NETLINK_ROUTE } from "../_constants.ts";
import { errnoDescription } from "../_errno.ts";
import { checkNetnsName, netnsPath } from "../_netns.ts";
import { shown } from "../_options.ts";
import { NetlinkError, SyscallError } from "../errors.ts";
import { open } from "../open.ts";
import {
  abbreviates,
  type Global,
  type Handler,
  setWarningOutput,
  socketOptions,
  UsageError,
} from "./_args.ts";
import { CaptureFile } from "./_capture.ts";

const USAGE = `Usage: netlink [OPTIONS] [--json] [--netns NAME] [--capture FILE] COMMAND ...
Commands:
  link show [DEV] [up] [master DEV] [type KIND]
                                       links (ip link show; up: administratively up; master:
                                       its ports; KIND_slave: ports of a KIND master)
  link add [link DEV] [name] NAME [up] [mtu N] [address LLADDR] [txqueuelen N] [alias A]
           [master DEV] [netns NAME|PID] type KIND [OPTIONS]
                                       a new link (ip link add; OPTIONS of veth: peer [name] NAME
                                       [mtu N] [address A] [netns NS]; vlan: id N; macvlan,
                                       macvtap, ipvlan, bond: mode M; vrf: table N; vxlan: id N
                                       dstport P remote|group|local A dev D ttl N)
  link set [dev] DEV [up|down] [name NAME] [mtu N] [address LLADDR] [broadcast LLADDR]
           [txqueuelen N] [alias A] [master DEV|nomaster] [netns NAME|PID] [addrgenmode M]
  link delete [dev] DEV [type KIND]
  addr show [DEV] [up] [master DEV] [type KIND] [scope SCOPE|all] [to PREFIX]
                                       addresses (ip addr show; SCOPE: global, link, host,
                                       site or a number)
  addr add|replace|delete ADDRESS[/LEN] [peer PREFIX] dev DEV [broadcast A|+|-] [label L]
           [scope S] [metric N] [valid_lft T] [preferred_lft T] [nodad|noprefixroute|home...]
  addr flush [DEV] [up] [master DEV] [type KIND] [scope SCOPE] [to PREFIX]
                                       removes the addresses addr show would show
  route show [table T|vrf NAME|cache] [dev D] [iif D] [proto P] [type T] [scope S]
             [metric N] [tos T] [via [inet|inet6] PREFIX] [src PREFIX] [realms [FROM/]TO]
             [mark M] [from [root|match|exact] PREFIX] [[root|match|exact] PREFIX]
                                       routes, or the route cache (ip route show [cache])
  route flush SELECTOR...             removes the routes route show would show (not the cache)
  route get [to] ADDRESS [from A] [iif DEV] [oif|dev DEV|vrf NAME] [mark M] [tos T]
            [uid U] [sport P] [dport P] [ipproto P] [fibmatch] [notify] [connected]
                                       route lookup (ip route get; ADDRESS as ip reads it:
                                       default, 10.9, 10.0.0.7/24 looked up as /32)
  route add|del|replace PREFIX [via [inet|inet6] GW] [dev DEV] [table T] [metric N] [type T]
                       [proto P] [src A] [scope S]
  neigh show [dev DEV] [nud STATE|all]... [proxy]
                                       neighbours (ip neigh show; by default all but noarp
                                       and none; proxy: the proxy entries)
  neigh flush [dev DEV] [nud STATE|all]... [proxy]
                                       removes those (by default all but permanent and noarp)
  neigh add|del {ADDRESS|proxy ADDRESS} dev DEV [lladdr MAC] [nud STATE]
  rule show                            rules (ip rule show)
  rule add|del [not] [from P] [to P] [tos T] [fwmark M[/MASK]] [iif DEV] [oif DEV]
               [table T|ACTION] [pref N]
  netns [list]                         named namespaces (ip netns list; with their ids here)
  netns add|delete NAME                makes or removes one (/run/netns/NAME)
  monitor [all|label] [link|address|route|neigh|rule...] [count N]
                                       changes as they happen (ip monitor; all or label: each
                                       after its object's label, [LINK]; not in --json)
  monitor --raw|--tree [OBJECT...]     every message received, decoded: one line each, or a tree
  monitor genl FAMILY [GROUP...]       a generic netlink family's notifications, decoded (--tree)
  qdisc show [dev DEV]                 qdiscs (tc qdisc show)
  class show dev DEV                   classes (tc class show)
  filter show dev DEV [PARENT]         filters (tc filter show; PARENT: ingress, egress, 1:)
  genl [show FAMILY]                   generic netlink families (genl ctrl list, or get name
                                       FAMILY; --json: op names too)
  ethtool DEV                          ethtool's settings (link modes, port, Wake-on-LAN,
                                       message level, link state), then the features that are on
Commands and options may be shortened as ip takes them (ip a s, ip r, ip l, -d, -det).
Options:
  -s, --stats     statistics too (link, addr and neigh show, qdisc/class/filter show);
                  -s -s: a link's error counters too
  -h, -human      with -s, a link's counters in units of 1000 (4.36k, 12.1M; -iec: of 1024)
  -d, -details    link and addr show: each link's details (ip -d: its kind, a bridge's,
                  vxlan's, macvlan's, vlan's and bond's options, a bridge port's and a bond
                  port's, queues, GSO/TSO/GRO limits; refused elsewhere)
  -4, -6, -f inet|inet6
                  IPv4 or IPv6 only (route and rule show IPv4 by default, as ip)
  -j, --json      JSON with ip -j / tc -j field names
  -p, -pretty     JSON indented as ip -j -p
  -c, -color[=always|auto|never]
                  accepted; the output is plain
  (ip's -brief, -oneline, -resolve, -timestamp, -batch... are refused as not supported)
  --netns NAME    run in the named network namespace (/run/netns/NAME)
  --capture FILE  write every message sent and received to FILE as pcap (nlmon's format:
                  tshark -r FILE, Wireshark)
  --help, help    this text (-h is ip's -human)
Exit status (as ip's): 0 done, 1 failed (not found...), 2 refused by the kernel, 255 bad usage`;

/**
 * Runs the tool with `args` (without the program name), writing to `out`; resolves with the exit
 * status, as ip's: 0 ok, 255 a bad command line, 2 the kernel refused a request, 1 any other
 * failure (a device or family not found included). Errors are printed as one line to `err`.
 *
 * @example
 * ```ts
 * import { run } from "@netlink/netlink/cli";
 * process.exitCode = await run(["route", "get", "1.1.1.1"]);
 * ```
 */
export async function run(
  args: string[],
  out: (line: string) => void = (line) => console.log(line),
  err: (line: string) => void = (line) => console.error(line),
): Promise<number> {
  const global: Global = { json: false };
  setWarningOutput(err);
  try {
    let capturePath: string | undefined;
    const rest: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      // ip's options are read as ip reads them (-d, -details, --det...) before the command; after
      // it, only this tool's own spellings (so that monitor's --raw is not ip's -resolve).
      const option = rest.length === 0 && /^-./.test(arg)
        ? ipOption(arg)
        : Object.hasOwn(OPTIONS_AFTER, arg)
        ? OPTIONS_AFTER[arg]
        : undefined;
      if (option === "-json") global.json = true;
      else if (option === "-stats") global.stats = (global.stats ?? 0) + 1;
      else if (option === "-human") global.human = true;
      else if (option === "-iec") global.iec = true;
      else if (option === "-details") global.details = true;
      else if (option === "-pretty") global.pretty = true;
      else if (option === "-color") {
        // Accepted; printed plain, as ip prints -color=auto anywhere but a terminal.
      } else if (option === "-4") global.family = "inet";
      else if (option === "-6") global.family = "inet6";
      else if (option === "-family") {
        const name = args[++i];
        if (name === undefined) throw new UsageError("Command line is not complete. Try --help");
        if (name !== "inet" && name !== "inet6") {
          throw new UsageError(`-family ${shown(name)} is not supported (inet, inet6)`);
        }
        global.family = name;
      } else if (option === "-netns") {
        global.netns = args[++i];
        if (global.netns === undefined) throw new UsageError("--netns needs a namespace name");
        checkNetns(global.netns);
      } else if (option === "-help") {
        out(USAGE);
        return 0;
      } else if (option !== undefined && option !== "-capture") {
        throw new UsageError(`${shown(arg)} (ip's ${option}) is not supported (try --help)`);
      } else if (arg === "--capture") {
        // One file per run: a second --capture would leave the first written with nothing.
        if (capturePath !== undefined) {
          throw new UsageError(
            `--capture given twice (${shown(capturePath)}, then ${shown(args[i + 1] ?? "")}): `
              + "every socket's traffic goes to one file",
          );
        }
        capturePath = args[++i];
        // An empty name is a command line's mistake too, not a file that cannot be opened.
        if (!capturePath) throw new UsageError("--capture needs a file name");
      } else if (arg === "help") {
        out(USAGE);
        return 0;
      } else if (arg.startsWith("-") && rest.length === 0) {
        throw new UsageError(`unknown option ${shown(arg)}`);
      } else rest.push(arg);
    }
    const [command, ...operands] = rest;
    if (command === undefined) throw new UsageError("no command (try --help)");
    const object = IP_OBJECTS.find((name) => abbreviates(command, name));
    const handler = object !== undefined
      ? IP_COMMANDS[object]
      : Object.hasOwn(OWN_COMMANDS, command)
      ? OWN_COMMANDS[command]
      : undefined;
    if (handler === undefined) {
      // ip enters the namespace of -n before it reads the command: one it cannot enter is its
      // usage error (255) first. Then status 1, as ip's do_cmd for an object it does not know.
      if (global.netns !== undefined) (await open(NETLINK_ROUTE, socketOptions(global))).close();
      throw new Error(
        object === undefined || object === command
          ? `unknown command ${shown(command)} (try --help)`
          : `unknown command ${shown(command)}: ip's ${shown(object)} (try --help)`,
      );
    }
    // ip -d changes route and rule lines too ("unicast", "proto kernel"): only where the tool
    // prints ip's details is it taken, not ignored elsewhere.
    if (global.details && !["link", "address", "neighbor", "neighbour"].includes(object ?? "")) {
      throw new UsageError(`-d (ip's -details) is not supported by ${shown(command)} (link, addr)`);
    }
    // ip -s -s prints the error counters of a link; tc's -s -s and -iec mean other things.
    const linkView = ["link", "address"].includes(object ?? "");
    if ((global.stats ?? 0) > 1 && !linkView) {
      throw new UsageError(
        `-s -s (the error counters) is not supported by ${shown(command)} (link, addr)`,
      );
    }
    if (global.iec && !linkView) {
      throw new UsageError(
        `-iec is not supported by ${shown(command)} (link and addr counters, with -h)`,
      );
    }
    if (capturePath !== undefined) global.capture = new CaptureFile(capturePath);
    await handler(operands, global, out);
    return 0;
  } catch (error) {
    // As ip, killed by SIGPIPE once its output's reader is gone: quietly, 128 + SIGPIPE.
    if (error instanceof OutputClosedError) return 141;
    err(`netlink: ${describe(error)}`);
    return exitStatus(error);
  } finally {
    global.capture?.close();
  }
}

/**
 * ip's global options in the order ip/ip.c tries them, "--x" read as "-x": an option names the
 * first it begins (its matches(): -d is -details, -b -batch, -br -brief, -n -netns), but for
 * those ip compares whole (-4, -6, -0, -M, -B, -echo); -color may be followed by =WHEN.
 * "-capture" is this tool's own (--capture FILE), so that -c is still -color.
 */
const IP_OPTIONS = [
  ...["-loops", "-family", "-human", "-human-readable", "-iec", "-stats", "-statistics"],
  ...["-details", "-resolve", "-oneline", "-timestamp", "-tshort", "-Version", "-force"],
  ...["-batch", "-brief", "-json", "-pretty", "-rcvbuf", "-color", "-help", "-netns"],
  ...["-Numeric", "-all"],
];
const WHOLE_OPTIONS = ["-4", "-6", "-0", "-M", "-B", "-echo"];
/** The options taken after the command too, as they are spelt. */
const OPTIONS_AFTER: Record<string, string> = {
  "--json": "-json",
  "-j": "-json",
  "-s": "-stats",
  "--stats": "-stats",
  "-4": "-4",
  "-6": "-6",
  "--netns": "-netns",
  "-n": "-netns",
  "--capture": "-capture",
  "--help": "-help",
};

/** Which of ip's options `arg` is (as {@linkcode IP_OPTIONS} reads it), if any. */
function ipOption(arg: string): string | undefined {
  if (arg === "--capture") return "-capture";
  const option = arg.startsWith("--") ? arg.slice(1) : arg;
  if (WHOLE_OPTIONS.includes(option)) return option;
  const [name, when] = option.split(/=(.*)/s);
  if (when !== undefined) {
    return abbreviates(name, "-color") && ["always", "auto", "never"].includes(when)
      ? "-color"
      : undefined;
  }
  const found = IP_OPTIONS.find((known) => abbreviates(option, known));
  return found === "-human-readable" ? "-human" : found === "-statistics" ? "-stats" : found;
}

/**
 * As ip's netns_switch() when it reads -n: a namespace that cannot be opened ends the command
 * before anything else, with the usage status (ip's exit(-1)).
 */
function checkNetns(name: string): void {
  // A name only, as ip's: a path ("../../etc") would open from here, not /run/netns.
  try {
    checkNetnsName(name, "--netns");
  } catch (error) {
    throw new UsageError((error as TypeError).message);
  }
  try {
    openNetns(netnsPath(name)).close();
  } catch (error) {
    const why = error instanceof SyscallError ? errnoDescription(error.errno) : String(error);
    throw new UsageError(`Cannot open network namespace ${shown(name)}: ${why}`);
  }
}

/**
 * ip's exit statuses, so a script written against ip reads ours the same way: 255 for a bad
 * command line (ip's exit(-1) after invarg, "Command line is not complete"...), 2 for a request
 * the kernel refused ("RTNETLINK answers: ..."), 1 for the rest. A device named on the command
 * line that is not there is 1 as in ip, which finds it by name before asking anything: the route
 * layer's name lookup says so as ENODEV "no link named X".
 */
function exitStatus(error: unknown): number {
  // setns() refused (not a namespace, no CAP_SYS_ADMIN): ip's netns_switch() exits -1 too.
  if (error instanceof UsageError || error instanceof SyscallError && error.syscall === "setns") {
    return 255;
  }
  if (error instanceof NetlinkError) {
    return /^no link (named|with index) /.test(error.detail ?? "")
      ? 1
      : 2;
  }
  return 1;
}

function describe(error: unknown): string {
  if (
    error instanceof NetlinkError && error.code === "EPERM"
    && !error.message.includes("CAP_NET_ADMIN")
  ) {
    return `${error.message} (needs CAP_NET_ADMIN: run as root)`;
  }
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0];
}

/**
 * A command whose module is loaded when it runs: a one-shot `link show` should not load (parse,
 * compile) the tc, ethtool and generic netlink code, about half of the tool's cold start.
 */
function lazy(load: () => Promise<Handler>): Handler {
  return async (args, global, out) => (await load())(args, global, out);
}

const ip = () => import("./_ip.ts");
const tc = (kind: "qdisc" | "class" | "filter") =>
  lazy(async () => {
    const { tcCommand } = await import("./_tc.ts");
    return (args, g, out) => tcCommand(kind, args, g, out);
  });
/**
 * ip's objects in the order ip/ip.c tries them: a word names the first one it begins (its
 * matches()), so `ip a` is address, `ip r` route, `ip n` neighbor, `ip l` link, `ip m` maddress.
 */
const IP_OBJECTS = [
  ...["address", "addrlabel", "maddress", "route", "rule", "neighbor", "neighbour", "ntable"],
  ...["ntbl", "link", "l2tp", "fou", "ila", "macsec", "tunnel", "tunl", "tuntap", "tap", "token"],
  ...["tcpmetrics", "tcp_metrics", "monitor", "xfrm", "mroute", "mrule", "netns", "netconf"],
  ...["vrf", "sr", "nexthop", "mptcp", "ioam", "help", "stats"],
];
/** The ip objects this tool has. */
const IP_COMMANDS: Record<string, Handler> = {
  link: lazy(async () => (await ip()).linkCommand),
  address: lazy(async () => (await ip()).addrCommand),
  route: lazy(async () => (await ip()).routeCommand),
  neighbor: lazy(async () => (await ip()).neighCommand),
  neighbour: lazy(async () => (await ip()).neighCommand),
  rule: lazy(async () => (await ip()).ruleCommand),
  monitor: lazy(async () => (await import("./_monitor.ts")).monitorCommand),
  netns: lazy(async () => (await import("./_netns.ts")).netnsCommand),
};
/** The others, named in full. */
const OWN_COMMANDS: Record<string, Handler> = {
  qdisc: tc("qdisc"),
  class: tc("class"),
  filter: tc("filter"),
  genl: lazy(async () => (await import("./_genl.ts")).genlCommand),
  ethtool: lazy(async () => (await import("./_ethtool.ts")).ethtoolCommand),
};

/** What the program's `out` throws once standard output's reader is gone (EPIPE). */
class OutputClosedError extends Error {}

/**
 * The program's output: each line written through libc, where the runtime's console.log drops a
 * line the pipe's reader is no longer there for, unsaid, so that `netlink monitor | head -1`
 * printed on for ever (ip dies of SIGPIPE at its next line).
 */
function standardOutput(line: string): void {
  try {
    writeStandardOutput(`${line}\n`);
  } catch (error) {
    throw error instanceof SyscallError && error.code === "EPIPE" ? new OutputClosedError() : error;
  }
}

if (import.meta.main) {
  setExitCode(await run(commandLine(), standardOutput));
}
