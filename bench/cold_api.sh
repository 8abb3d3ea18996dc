#!/usr/bin/env bash
# Cold one-shot scripts of the everyday API, as a new user writes them: a fresh process that
# imports `@netlink/netlink/route` (src/route/mod.ts), opens a client, lists the links (or the
# routes) as JSON and exits; against one that only imports it, one that imports the protocol
# layer (mod.ts) and sends one RTM_GETLINK dump, the runtime's start alone (a script printing
# one line), `ip -j link show` / `ip -j route show`, and the command line's `link show`. Each
# script lives in a directory of its own outside the checkout (no deno.json: a user's) and
# imports the tree by its path; Deno runs it with `--allow-ffi` alone, as the README says.
#
# First the counts load cannot move, for this tree and OLD (another checkout: a detached
# worktree of an older commit, node_modules linked) if set:
#   - each entry point's static import graph (`deno info --json`, dynamic imports left out):
#     the modules and bytes an import of it evaluates;
#   - the modules a one-shot `link.list()` process reads, and their bytes: on Bun those it
#     loads (a dynamic import is read at its first use); Deno reads its whole graph, dynamic
#     imports with a literal specifier included, to check permissions, and runs only what is
#     imported (strace of the process's openat calls);
#   - with CALLGRIND=1, the instructions of the main thread of each one-shot process (callgrind;
#     slow: a minute a run or more, one run each, since the count barely moves), or with
#     CALLGRIND=import,link.list of those cases.
# Then wall time and CPU time (all threads, from wait4's rusage), ROUNDS rounds, each case of
# this tree right after the same case of OLD's, medians (min): each case x OLD's, and the
# library's own part (the case's time less the runtime's start) x OLD's. Load moves the times
# (`uptime` is printed before and after); the counts and the ratios are what to compare. Each
# script runs once before anything is counted (Deno's emit cache filled, as for any script run
# twice).
# Needs root. Not a test.
#
#   [OLD=DIR] [RUNTIMES="deno bun"] [CALLGRIND=1|CASE,...] bench/cold_api.sh [ROUNDS]
. "$(dirname "$0")/_prologue.sh"
rounds=${1:-10}
old=${OLD:+$(cd "$OLD" && pwd)}
runtimes=${RUNTIMES:-deno bun}
dir=$(mktemp -d /tmp/cold_api.XXXXXX)
trap 'rm -rf "$dir"' EXIT
uptime
python3 - "$PWD" "$old" "$dir" "$rounds" "$runtimes" "${CALLGRIND:-}" <<'PY'
import json, os, re, shutil, statistics, subprocess, sys, time

new, old, work, rounds, runtimes, callgrind = sys.argv[1:7]
rounds, runtimes = int(rounds), runtimes.split()
trees = [("new", new)] + ([("old", old)] if old else [])
bins = {rt: os.path.realpath(f"{new}/node_modules/.bin/{rt}") for rt in ("deno", "bun")}
os.chdir(work)  # a user's directory: no deno.json

# The scripts, by case, ROOT standing for the tree (the command line and `ip` are commands).
SCRIPTS = {
    "start": 'console.log("[]");\n',
    "import": 'import { openRoute } from "ROOT/src/route/mod.ts";\nconsole.log(typeof openRoute);\n',
    "link.list": (
        'import { openRoute } from "ROOT/src/route/mod.ts";\n'
        "await using ip = await openRoute();\n"
        "console.log(JSON.stringify(await ip.link.list()));\n"
    ),
    "route.list": (
        'import { openRoute } from "ROOT/src/route/mod.ts";\n'
        "await using ip = await openRoute();\n"
        "console.log(JSON.stringify(await ip.route.list()));\n"
    ),
    "mod.ts dump": (
        'import { NETLINK_ROUTE, NLM_F_DUMP, open, RTM_GETLINK } from "ROOT/mod.ts";\n'
        "await using sock = await open(NETLINK_ROUTE);\n"
        "const links = await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, "
        "payload: new Uint8Array(16) });\n"
        "console.log(links.length);\n"
    ),
}
CASES = ["start", "import", "link.list", "route.list", "mod.ts dump", "cli link show"]

def script(tree, case):
    path = f"{work}/{tree}/{case.replace(' ', '_')}.ts"
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(SCRIPTS[case].replace("ROOT", dict(trees)[tree]))
    return path

def command(tree, case, rt):
    if rt == "ip":
        return ["ip", "-j", "route" if case == "route.list" else "link", "show"]
    if case == "cli link show":
        target = [f"{dict(trees)[tree]}/src/cli/main.ts", "--json", "link", "show"]
    else:
        target = [script(tree, case)]
    return [bins[rt], "run", "--allow-ffi", *target] if rt == "deno" else [bins[rt], *target]

def timed(argv):
    """Wall and CPU ms (all threads) of one process, from wait4's rusage."""
    start = time.perf_counter()
    pid = os.posix_spawn(shutil.which(argv[0]), argv, os.environ, file_actions=[
                             (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
                             (os.POSIX_SPAWN_OPEN, 2, f"{work}/stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
                         ])
    _, status, ru = os.wait4(pid, 0)
    wall = (time.perf_counter() - start) * 1000
    if status != 0:
        sys.exit(f"{' '.join(argv)} failed ({status}):\n{open(f'{work}/stderr').read()}")
    return wall, (ru.ru_utime + ru.ru_stime) * 1000

# Each process once first: Deno's emit cache filled (a first run transpiles), as for a script
# run before.
jobs = [(t, case, rt) for case in CASES for rt in runtimes for t, _ in trees]
jobs += [("new", case, "ip") for case in ("link.list", "route.list")]
for job in jobs:
    timed(command(*job))

# The counts.
def static_graph(root, entry):
    info = json.loads(subprocess.check_output([bins["deno"], "info", "--json", entry], cwd=root))
    modules = {m["specifier"]: m for m in info["modules"]}
    seen, stack = set(), [info["roots"][0]]
    while stack:
        spec = stack.pop()
        if spec in seen or spec not in modules:
            continue
        seen.add(spec)
        stack += [d["code"]["specifier"] for d in modules[spec].get("dependencies", [])
                  if not d.get("isDynamic") and "code" in d]
    return len(seen), sum(modules[s].get("size", 0) for s in seen)

def read_by(tree, case, rt):
    """The tree's modules a process opens, and their bytes."""
    log = f"{work}/strace"
    subprocess.run(["strace", "-f", "-qq", "-e", "trace=openat", "-o", log,
                    *command(tree, case, rt)], check=True, stdout=subprocess.DEVNULL)
    root = dict(trees)[tree] + "/"
    # A line of strace -f may end "<unfinished ...>", the result on a later line: a failed open
    # (ENOENT) is told by its error.
    files = {m.group(1) for line in open(log) if "= -1" not in line
             for m in [re.search(r'openat\([^"]*"([^"]+\.ts)"', line)] if m
             and m.group(1).startswith(root)}
    return len(files), sum(os.path.getsize(f) for f in files)

def instructions(tree, case, rt):
    out = f"{work}/cg"
    for f in os.listdir(work):
        if f.startswith("cg"):
            os.remove(f"{work}/{f}")
    subprocess.run(["valgrind", "--tool=callgrind", "--separate-threads=yes",
                    f"--callgrind-out-file={out}", *command(tree, case, rt)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return int(next(l for l in open(f"{out}-01") if l.startswith("totals:")).split()[1])

print("static import graph (what an import evaluates): modules, KB")
for entry in ("mod.ts", "src/route/mod.ts", "src/cli/main.ts"):
    counts = {t: static_graph(root, entry) for t, root in trees}
    line = "  ".join(f"{t} {n:3} {b / 1024:6.0f}" for t, (n, b) in counts.items())
    ratio = (f"  = {counts['new'][0] / counts['old'][0]:.2f}x / {counts['new'][1] / counts['old'][1]:.2f}x old"
             if old else "")
    print(f"  {entry:17} {line}{ratio}")
print("modules a one-shot process opens: modules, KB (Deno: its graph, dynamic imports included)")
for case in ("link.list", "route.list", "cli link show"):
    for rt in runtimes:
        counts = {t: read_by(t, case, rt) for t, _ in trees}
        line = "  ".join(f"{t} {n:3} {b / 1024:6.0f}" for t, (n, b) in counts.items())
        ratio = (f"  = {counts['new'][0] / counts['old'][0]:.2f}x / {counts['new'][1] / counts['old'][1]:.2f}x old"
                 if old else "")
        print(f"  {rt:4} {case:13} {line}{ratio}")
if callgrind:
    print("main thread instructions (callgrind), millions")
    for rt in runtimes:
        for case in CASES if callgrind == "1" else callgrind.split(","):
            counts = {t: instructions(t, case, rt) for t, _ in trees}
            line = "  ".join(f"{t} {c / 1e6:7.1f}" for t, c in counts.items())
            ratio = f"  = {counts['new'] / counts['old']:.2f}x old" if old else ""
            print(f"  {rt:4} {case:13} {line}{ratio}", flush=True)

# The times.
wall, cpu = {}, {}
for _ in range(rounds):
    for job in jobs:
        w, c = timed(command(*job))
        wall.setdefault(job, []).append(w)
        cpu.setdefault(job, []).append(c)
med = lambda table, job: statistics.median(table[job])
print(f"wall and CPU ms, medians (min) of {rounds} rounds, alternating the trees")
for rt in runtimes:
    for case in CASES:
        parts = []
        for t, _ in trees:
            job = (t, case, rt)
            parts.append(f"{t} wall {med(wall, job):6.1f} ({min(wall[job]):6.1f})"
                         f" cpu {med(cpu, job):6.1f}")
        line = f"  {rt:4} {case:13} " + " | ".join(parts)
        if old:
            ratio = med(wall, ("new", case, rt)) / med(wall, ("old", case, rt))
            line += f" | new/old wall {ratio:.2f}x cpu {med(cpu, ('new', case, rt)) / med(cpu, ('old', case, rt)):.2f}x"
            if case != "start":
                lib = lambda t: med(wall, (t, case, rt)) - med(wall, (t, "start", rt))
                line += f", beyond the start {lib('new'):5.1f} / {lib('old'):5.1f} = {lib('new') / lib('old'):.2f}x"
        print(line)
for case in ("link.list", "route.list"):
    job = ("new", case, "ip")
    print(f"  ip -j {case.split('.')[0]} show wall {med(wall, job):6.1f} ({min(wall[job]):6.1f})"
          f" cpu {med(cpu, job):6.1f}")
PY
uptime
