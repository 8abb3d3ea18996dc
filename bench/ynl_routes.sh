#!/usr/bin/env bash
# Typed-decode benchmark: 100,000 IPv4 routes in a fresh network namespace, dumped on Deno and on
# Bun without decoding, with the core's hand-written decode, and as typed objects through the
# generated rt-route module, warm (a long-running process) and cold (a one-shot process per
# dump); `ip -j -4 route show` on the same namespace in the same run. Reports the typed layer as
# a ratio to the hand-written decode. Needs root. Not a test: nothing asserts a time.
# With OLD set to another checkout (a detached worktree of an older commit, node_modules linked),
# its bench body runs too, interleaved with this tree's, and its typed ratios (to its own
# hand-written decode) are printed beside these: before and after in one run.
#
#   [OLD=DIR] bench/ynl_routes.sh [ROUTES] [ITERATIONS] [COLD_RUNS]
. "$(dirname "$0")/_prologue.sh"
routes=${1:-100000}
iterations=${2:-10}
cold_runs=${3:-5}
old=${OLD:+$(cd "$OLD" && pwd)}
ns=nlynl-$$
. bench/_routes_netns.sh
routes_netns "$ns" "$routes"
ip_median_us=$(ip_median_us "$ns" "$iterations")

# RT_run TREE ARGS...: the bench body of TREE (this one or OLD); OLD's lines are tagged "tree".
deno_run() { (cd "$1" && shift && deno run --allow-ffi --allow-read bench/ynl_routes.ts "$@"); }
bun_run() { (cd "$1" && shift && bun bench/ynl_routes.ts "$@"); }
tag() { if [[ $1 == "$PWD" ]]; then cat; else sed 's/^{/{"tree":"old",/'; fi; }
trees=("$PWD" ${old:+"$old"})
warm=()
cold=()
for rt in deno bun; do
  for tree in "${trees[@]}"; do warm+=("$("${rt}_run" "$tree" "$ns" "$iterations" | tag "$tree")"); done
  # One-shot processes, the ways (and trees) interleaved so that a busy moment hits each alike.
  for _ in $(seq "$cold_runs"); do
    for tree in "${trees[@]}"; do
      for way in raw typed typedStream; do
        cold+=("$("${rt}_run" "$tree" "$ns" cold "$way" | tag "$tree")")
      done
    done
  done
done

python3 - "$ip_median_us" "${warm[@]}" -- "${cold[@]}" <<'PY'
import json, sys
from statistics import median
args = sys.argv[1:]
ip_ms = int(args[0]) / 1000
cut = args.index("--")
warm = [json.loads(a) for a in args[1:cut]]
cold = [json.loads(a) for a in args[cut + 1:]]
print(f"ip -j -4 route show: {ip_ms:.1f} ms (median)")
print("Each: wall time median; wall min; CPU time median (user + system: steadier when other")
print("processes share the machine). Ratios: to the hand-written decode of the same run.")
def show(label, s, raw=None):
    text = f"  {label}: {s[0]:.1f} ms; {s[1]:.1f} ms; CPU {s[2]:.1f} ms"
    if raw is not None:
        text += f" = {s[0] / raw[0]:.2f}x; {s[1] / raw[1]:.2f}x; CPU {s[2] / raw[2]:.2f}x"
    print(text)
labels = (("typed", "typed dump()"), ("typedStream", "typed dumpStream()"))
for r in warm:
    stat = {way: (r["ms"][way]["median"], r["ms"][way]["min"], r["cpuMs"][way]["median"])
            for way in r["ms"]}
    tree = " (OLD)" if r.get("tree") else ""
    print(f"{r['runtime']}{tree} warm ({r['routes']} routes, one process):")
    show("receive only", stat["receive"])
    show("hand-written decode", stat["raw"])
    for way, label in labels: show(label, stat[way], stat["raw"])
for runtime in ("deno", "bun"):
    for tree in ("", "old"):
        runs = {}
        for r in cold:
            if r["runtime"] == runtime and r.get("tree", "") == tree:
                runs.setdefault(r["way"], []).append(r)
        if not runs: continue
        stat = {way: (median(x["ms"] for x in rs), min(x["ms"] for x in rs),
                      median(x["cpuMs"] for x in rs)) for way, rs in runs.items()}
        name = f"{runtime} (OLD)" if tree else runtime
        print(f"{name} cold ({len(runs['raw'])} one-shot processes each, socket open to list built):")
        show("hand-written decode", stat["raw"])
        for way, label in labels: show(label, stat[way], stat["raw"])
PY
