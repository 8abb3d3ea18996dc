#!/usr/bin/env bash
# The socket core against a reference commit, in one run: a loop of `await request()` (requests
# per second of wall and of CPU time) and a dump of ROUTES routes (ms of wall and of CPU time),
# on Deno and on Bun. Both libraries are loaded in one process per runtime and run in
# alternation ROUNDS times, so that a busy machine weighs on both alike; twice per runtime, with
# either library's socket opened first (on Deno the first one dumped 1.5-1.6x slower, whichever
# it was); reports the mean of the two runs' medians and this tree's speed as a ratio of the
# reference's. Needs root. Not a test: nothing asserts a time.
#
#   bench/core_compare.sh [REF] [ROUTES] [ROUNDS]
. "$(dirname "$0")/_prologue.sh"
ref=${1:-main}
routes=${2:-50000}
rounds=${3:-10}
ns=nlcore-$$
refdir=$(mktemp -d)
. bench/_routes_netns.sh
routes_netns "$ns" "$routes"
trap "ip netns del '$ns' 2>/dev/null || true; git worktree remove --force '$refdir/tree' 2>/dev/null || true; rm -rf '$refdir'" EXIT
git worktree add -q --detach "$refdir/tree" "$ref"
args=("$refdir/tree/mod.ts" "$PWD/mod.ts" "$ns" "$rounds")
{ # each runtime twice: either library's socket opened first (see core_compare.ts)
  for first in ref this; do deno run -A bench/core_compare.ts "${args[@]}" "$first"; done
  for first in ref this; do bun bench/core_compare.ts "${args[@]}" "$first"; done
} | python3 -c '
import json, sys
runs = {}
for line in sys.stdin:
    r = json.loads(line)
    runs.setdefault(r["runtime"], []).append(r)
for rt, both in runs.items():
    # The mean of the two orders medians, for each library.
    ref, this = ({k: sum(r[lib][k] for r in both) / len(both) for k in both[0][lib]}
                 for lib in ("ref", "this"))
    r = both[0]
    n = int(this["routes"])
    for what, key, unit, higher in (
        ("request loop, requests/s of wall time", "requestsPerSecond", "/s", True),
        ("request loop, requests/s of CPU time", "requestsPerCpuSecond", "/s", True),
        (f"dump of {n} routes, wall ms", "dumpMs", " ms", False),
        (f"dump of {n} routes, CPU ms", "dumpCpuMs", " ms", False),
    ):
        a, b = ref[key], this[key]
        speed = b / a if higher else a / b
        rounds = r["rounds"]
        print(f"{rt}: {what}: this {b:,.1f}{unit}, reference {a:,.1f}{unit}: "
              f"{speed:.2f}x the reference speed (medians of {rounds}, both orders)")
'
