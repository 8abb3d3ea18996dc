#!/usr/bin/env bash
# Everyday-API benchmark: 100,000 IPv4 routes in a fresh network namespace, listed on Deno and on
# Bun through openRoute()'s route.list() and through the typed layer's dump("getroute") (the
# reference: the same request on the same socket), in one run. Reports everyday / typed (target:
# within 1.3x). Needs root. Not a test: nothing asserts a time.
#
#   bench/route_list.sh [ROUTES] [ITERATIONS]
. "$(dirname "$0")/_prologue.sh"
routes=${1:-100000}
iterations=${2:-10}
ns=nlroute-$$
. bench/_routes_netns.sh
routes_netns "$ns" "$routes"

deno_json=$(deno run --allow-ffi bench/route_list.ts "$ns" "$iterations")
bun_json=$(bun bench/route_list.ts "$ns" "$iterations")

python3 - "$deno_json" "$bun_json" <<'PY'
import json, sys
for raw in sys.argv[1:]:
    r = json.loads(raw)
    m = {k: v["median"] for k, v in r["ms"].items()}
    b = {k: v["min"] for k, v in r["ms"].items()}
    print(f"{r['runtime']}: {r['routes']} routes, medians: typed dump {m['typed']:.1f} ms, "
          f"route.list() {m['everyday']:.1f} ms: {m['everyday'] / m['typed']:.2f}x the typed layer "
          f"(best runs: {b['typed']:.1f} / {b['everyday']:.1f} ms: {b['everyday'] / b['typed']:.2f}x)")
PY
