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
for r in warm:
    m = {k: v["median"] for k, v in r["ms"].items()}
    print(f"{r['runtime']} warm, {r['routes']} routes, medians: receive only {m['receive']:.1f} ms, "
          f"hand-written decode {m['raw']:.1f} ms, typed dump() {m['typed']:.1f} ms "
          f"= {m['typed'] / m['raw']:.2f}x, typed dumpStream() {m['typedStream']:.1f} ms "
          f"= {m['typedStream'] / m['raw']:.2f}x")
for runtime in ("deno", "bun"):
    ms = {}
    for r in cold:
        if r["runtime"] == runtime: ms.setdefault(r["way"], []).append(r["ms"])
    m = {k: median(v) for k, v in ms.items()}
    n = len(ms["raw"])
    print(f"{runtime} cold (one-shot processes, median of {n}, socket open to list built): "
          f"hand-written decode {m['raw']:.1f} ms, typed dump() {m['typed']:.1f} ms "
          f"= {m['typed'] / m['raw']:.2f}x, typed dumpStream() {m['typedStream']:.1f} ms "
          f"= {m['typedStream'] / m['raw']:.2f}x")
PY
