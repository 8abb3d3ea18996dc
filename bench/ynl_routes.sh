#!/usr/bin/env bash
# Typed-decode benchmark: 100,000 IPv4 routes in a fresh network namespace, dumped on Deno and on
# Bun without decoding, with the core's hand-written decode, and as typed objects through the
# generated rt-route module; `ip -j -4 route show` on the same namespace in the same run. Reports
# what the typed layer adds over the raw decode. Needs root. Not a test: nothing asserts a time.
#
#   bench/ynl_routes.sh [ROUTES] [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$PWD/node_modules/.bin:$PATH"
routes=${1:-100000}
iterations=${2:-10}
ns=nlynl-$$
. bench/_routes_netns.sh
routes_netns "$ns" "$routes"
ip_median_us=$(ip_median_us "$ns" "$iterations")

deno_json=$(deno run --allow-ffi --allow-read bench/ynl_routes.ts "$ns" "$iterations")
bun_json=$(bun bench/ynl_routes.ts "$ns" "$iterations")

python3 - "$ip_median_us" "$deno_json" "$bun_json" <<'PY'
import json, sys
ip_ms = int(sys.argv[1]) / 1000
print(f"ip -j -4 route show: {ip_ms:.1f} ms (median)")
for raw in sys.argv[2:]:
    r = json.loads(raw)
    m = {k: v["median"] for k, v in r["ms"].items()}
    decode_raw, decode_typed = m["raw"] - m["receive"], m["typed"] - m["receive"]
    print(f"{r['runtime']}: {r['routes']} routes, medians: receive only {m['receive']:.1f} ms, "
          f"raw decode {m['raw']:.1f} ms, typed objects {m['typed']:.1f} ms "
          f"(streamed {m['typedStream']:.1f} ms) "
          f"(+{(m['typed'] / m['raw'] - 1) * 100:.0f}% over raw; decoding itself "
          f"{decode_raw:.1f} -> {decode_typed:.1f} ms); typed is {ip_ms / m['typed']:.1f}x faster than ip -j")
PY
