#!/usr/bin/env bash
# The socket core against a reference commit, in one run: a loop of `await request()` (requests
# per second) and a dump of ROUTES routes (ms), on Deno and on Bun, alternating reference and
# this tree ROUNDS times so that a busy machine weighs on both alike. Reports the median of each
# and the ratio this tree / reference. Needs root. Not a test: nothing here asserts a time.
#
#   bench/core_compare.sh [REF] [ROUTES] [ROUNDS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$PWD/node_modules/.bin:$PATH"
ref=${1:-main}
routes=${2:-50000}
rounds=${3:-3}
seconds=${4:-2}
ns=nlcore-$$
refdir=$(mktemp -d)
. bench/_routes_netns.sh
routes_netns "$ns" "$routes"
trap "ip netns del '$ns' 2>/dev/null || true; git worktree remove --force '$refdir/tree' 2>/dev/null || true; rm -rf '$refdir'" EXIT
git worktree add -q --detach "$refdir/tree" "$ref"
here=$PWD/mod.ts there=$refdir/tree/mod.ts
results=()
for _ in $(seq "$rounds"); do
  for lib in "$there" "$here"; do
    label=$([[ $lib == "$here" ]] && echo this || echo ref)
    results+=("$label $(deno run -A bench/core_compare.ts "$lib" "$ns" "$seconds")")
    results+=("$label $(bun bench/core_compare.ts "$lib" "$ns" "$seconds")")
  done
done
printf '%s\n' "${results[@]}" | python3 -c '
import json, sys, statistics
rows = {}
for line in sys.stdin:
    label, raw = line.split(" ", 1)
    r = json.loads(raw)
    rows.setdefault((r["runtime"], label), []).append(r)
for runtime in ("deno", "bun"):
    ref, this = rows[(runtime, "ref")], rows[(runtime, "this")]
    med = lambda rs, k: statistics.median(x[k] for x in rs)
    n = this[0]["routes"]
    for what, key, unit, higher in (
        ("request loop, requests/s of wall time", "requestsPerSecond", "/s", True),
        ("request loop, requests/s of CPU time", "requestsPerCpuSecond", "/s", True),
        (f"dump of {n} routes, wall ms", "dumpMs", " ms", False),
        (f"dump of {n} routes, CPU ms", "dumpCpuMs", " ms", False),
    ):
        r, t = med(ref, key), med(this, key)
        speed = t / r if higher else r / t
        print(f"{runtime}: {what}: this {t:,.1f}{unit}, ref {r:,.1f}{unit}: "
              f"{speed:.2f}x the reference speed (medians of {len(this)})")
'
