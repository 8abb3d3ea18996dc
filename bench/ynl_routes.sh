#!/usr/bin/env bash
# Typed-decode benchmark: 100,000 IPv4 routes in a fresh network namespace, dumped on Deno and on
# Bun without decoding, with the core's hand-written decode, and as typed objects through the
# generated rt-route module, warm (a long-running process) and cold (a one-shot process per
# dump); `ip -j -4 route show` on the same namespace in the same run. Reports the typed layer as
# a ratio to the hand-written decode. Needs root. Not a test: nothing asserts a time.
#
#   bench/ynl_routes.sh [ROUTES] [ITERATIONS] [COLD_RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$PWD/node_modules/.bin:$PATH"
routes=${1:-100000}
iterations=${2:-10}
cold_runs=${3:-5}
ns=nlynl-$$
. bench/_routes_netns.sh
routes_netns "$ns" "$routes"
ip_median_us=$(ip_median_us "$ns" "$iterations")

deno_run() { deno run --allow-ffi --allow-read bench/ynl_routes.ts "$@"; }
bun_run() { bun bench/ynl_routes.ts "$@"; }
warm=()
cold=()
for rt in deno bun; do
  warm+=("$("${rt}_run" "$ns" "$iterations")")
  # One-shot processes, the ways interleaved so that a busy moment hits each alike.
  for _ in $(seq "$cold_runs"); do
    for way in raw typed typedStream; do cold+=("$("${rt}_run" "$ns" cold "$way")"); done
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
    print(f"{r['runtime']} warm ({r['routes']} routes, one process):")
    show("receive only", stat["receive"])
    show("hand-written decode", stat["raw"])
    for way, label in labels: show(label, stat[way], stat["raw"])
for runtime in ("deno", "bun"):
    runs = {}
    for r in cold:
        if r["runtime"] == runtime: runs.setdefault(r["way"], []).append(r)
    stat = {way: (median(x["ms"] for x in rs), min(x["ms"] for x in rs),
                  median(x["cpuMs"] for x in rs)) for way, rs in runs.items()}
    print(f"{runtime} cold ({len(runs['raw'])} one-shot processes each, socket open to list built):")
    show("hand-written decode", stat["raw"])
    for way, label in labels: show(label, stat[way], stat["raw"])
PY
