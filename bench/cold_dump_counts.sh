#!/usr/bin/env bash
# Where a cold Bun process's one-shot dump spends its instructions, counted by callgrind (which
# load cannot move), for the bare libc loop and `dump().cursor()` (bench/_dump_marks.ts: the
# bare and cursor layers of bench/cold_dump.ts): the main thread's instructions from the timed
# start to the first datagram in hand (setup), for each datagram's walk and the next read, and
# for the close. JavaScriptCore's concurrent JIT is off, so its compiles run (and count) on the
# main thread, in the datagram where they happen: the "steady" figure is the median datagram,
# one without a compile or a collection. With ATTRIBUTE=1, each layer runs a second time with
# JSC's code dumped, and the steady datagrams' instructions are summed by the JavaScript function
# (and tier) whose machine code ran them (bun.exe: the runtime's own code, LLInt included). Runs
# over this checkout, and OLD (another checkout) too if set, in a network namespace of ROUTES
# routes. LAYERS picks one of the two (the bare loop's counts move little from tree to tree).
# SECOND_SOCKET=1: the dump's socket is the process's second (bench/_dump_marks.ts). PHASES=1:
# the cursor's setup is split into open(), dump(), cursor() and the first step (the send and the
# first read). Slow: a minute or more per run. Needs root and valgrind. Not a test.
#
#   [OLD=DIR] [ATTRIBUTE=1] [LAYERS=cursor] [SECOND_SOCKET=1] [PHASES=1] bench/cold_dump_counts.sh [ROUTES]
. "$(dirname "$0")/_prologue.sh"
routes=${1:-100000}
old=${OLD:+$(cd "$OLD" && pwd)}
ns=nlcount-$$ out=$(mktemp -d)
. bench/_routes_netns.sh
routes_netns "$ns" "$routes"
trap 'ip netns del "$ns" 2>/dev/null || true; rm -rf "$out"' EXIT
runs=()
for tree in "$PWD" $old; do
  for layer in ${LAYERS:-bare cursor}; do
    name=$([[ $tree == "$PWD" ]] && echo "$layer" || echo "$layer-old")
    runs+=("$name")
    for pass in counts ${ATTRIBUTE:+code}; do
      # The second pass dumps JSC's code (its addresses name the functions), which adds the dump's
      # own printing to the datagrams with compiles: its totals are the first pass's.
      dump=BUN_JSC_dumpDisassembly=$([[ $pass == code ]] && echo 1 || echo 0)
      env BUN_JSC_useConcurrentJIT=0 "$dump" ip netns exec "$ns" valgrind --tool=callgrind --dump-before=getppid --separate-threads=yes \
        --callgrind-out-file="$out/$name.$pass.%p" node_modules/.bin/bun bench/_dump_marks.ts \
        "$tree" "$layer" >"$out/$name.$pass.log" 2>&1
    done
  done
done
python3 - "$out" "${PHASES:-}" "${runs[@]}" <<'PY'
import bisect, collections, glob, re, statistics, sys
out, phases, runs = sys.argv[1], sys.argv[2] != "", sys.argv[3:]
def parts(name, pass_):
    """The main thread's dumps in order: (file, instructions)."""
    files = glob.glob(f"{out}/{name}.{pass_}.*.*-01")
    key = lambda f: int(re.search(r"\.(\d+)-01$", f).group(1))
    return [(f, int(next(l for l in open(f) if l.startswith("summary:")).split()[1]))
            for f in sorted(files, key=key)]
def ranges(log):
    """JIT code ranges from JSC's dump: (start, end, tier:function)."""
    found, name, lo, hi = [], None, None, None
    def close():
        if name and lo is not None: found.append((lo, hi, name))
    for line in open(log, errors="replace"):
        if line.startswith("Generated "):
            close()
            tier = line.split()[1]
            m = re.search(r"code for (.*?)(?::\[|: \[|$)", line)
            function = re.sub(r"#\w+$", "", m.group(1).split(":[")[0]) if m else "?"
            name = f"{tier}:{function}"[:60]
            lo = hi = None
            m = re.search(r"\[0x([0-9a-f]+), 0x([0-9a-f]+)\)", line)
            if m and not line.startswith(("Generated Baseline", "Generated DFG", "Generated FTL")):
                lo, hi = int(m.group(1), 16), int(m.group(2), 16)
            continue
        for m in re.finditer(r"(?:Code at \[|range )0x([0-9a-f]+)(?:, |\.\.\.)0x([0-9a-f]+)", line):
            a, b = int(m.group(1), 16), int(m.group(2), 16)
            lo, hi = (a, b) if lo is None else (min(lo, a), max(hi, b))
    close()
    return sorted(found)
def by_function(files, code):
    """Exclusive instructions of `files`, summed by function (JIT code named from `code`)."""
    starts = [r[0] for r in code]
    def named(addr):
        i = bisect.bisect_right(starts, addr) - 1
        return code[i][2] if i >= 0 and code[i][0] <= addr < code[i][1] + 64 else "JIT (unnamed)"
    cost = collections.Counter()
    for f in files:
        obs, fns, ob, fn, skip = {}, {}, "", "", False
        for line in open(f):
            m = re.match(r"(c?ob|c?fn)=\((\d+)\)(?: (.*))?", line)
            if m:
                table = obs if m.group(1).endswith("ob") else fns
                if m.group(3): table[m.group(2)] = m.group(3).strip()
                if m.group(1) == "ob": ob = obs[m.group(2)]
                if m.group(1) == "fn": fn, skip = fns[m.group(2)], False
            elif line.startswith("calls="): skip = True
            elif re.match(r"[0-9+-]", line) and len(line.split()) == 2:
                if skip: skip = False; continue
                n = int(line.split()[1])
                if ob.endswith("bun.exe"): cost["bun.exe"] += n
                elif "libc" in ob: cost["libc " + fn] += n
                elif fn.startswith("0x"): cost[named(int(fn.split("'")[0], 16))] += n
                else: cost[ob.split("/")[-1] or "?"] += n
    return cost
print(f"main-thread instructions (millions), concurrent JIT off; x = cursor / bare of its tree")
table = {}
for name in runs:
    p = parts(name, "counts")
    # Dumps: start..t0, setup, each datagram's walk and next read, the last walk, close, exit;
    # with PHASES, the cursor's setup is four: open(), dump(), cursor(), the first step.
    if phases and name.startswith("cursor"):
        split = [n for _, n in p[1:5]]
        print(f"  {name:10} setup by phase: open() {split[0] / 1e6:.2f}, dump() {split[1] / 1e6:.2f},"
              f" cursor() {split[2] / 1e6:.2f}, the first step {split[3] / 1e6:.2f}")
        p = [p[0], (None, sum(split))] + p[5:]
    setup, walk, close = p[1][1], [n for _, n in p[2:-1]], p[-1][1]
    steady = statistics.median(walk[len(walk) // 2:])
    table[name] = (setup, sum(walk), steady, close)
    print(f"  {name:10} setup {setup / 1e6:6.2f} | walk {sum(walk) / 1e6:7.2f} in {len(walk)} parts,"
          f" first 10 {sum(walk[:10]) / 1e6:6.2f}, steady {steady / 1e6:5.3f} a datagram"
          f" | close {close / 1e6:5.2f}")
for name in runs:
    if not name.startswith("cursor") or name.replace("cursor", "bare") not in table: continue
    bare = table[name.replace("cursor", "bare")]
    print(f"  {name:10} x bare: setup +{(table[name][0] - bare[0]) / 1e6:.2f}, walk"
          f" +{(table[name][1] - bare[1]) / 1e6:.2f}, steady datagram"
          f" +{(table[name][2] - bare[2]) / 1e6:.3f}, close +{(table[name][3] - bare[3]) / 1e6:.2f}")
for name in runs:
    if not glob.glob(f"{out}/{name}.code.*"): continue
    p = parts(name, "code")
    walk = p[5:-1] if phases and name.startswith("cursor") else p[2:-1]
    median = statistics.median(n for _, n in walk[len(walk) // 2:])
    quiet = [f for f, n in walk[len(walk) // 2:] if abs(n - median) < 0.02 * median]
    cost = by_function(quiet, ranges(f"{out}/{name}.code.log"))
    print(f"{name}: a steady datagram's instructions by function ({len(quiet)} datagrams):")
    for k, v in cost.most_common(12):
        if v / len(quiet) >= 500: print(f"  {v / len(quiet):9.0f}  {k}")
PY
