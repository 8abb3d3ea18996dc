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
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT

ip netns add "$ns"
ip -n "$ns" link add bench0 type veth peer name bench1
ip -n "$ns" link set bench0 up
# 198.18.0.0/15 is the range set aside for benchmarks (RFC 2544): host routes, no traffic.
python3 - "$routes" >"/tmp/$ns.batch" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    print(f"route add 198.{18 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}/32 dev bench0")
PY
ip -n "$ns" -batch "/tmp/$ns.batch"
rm -f "/tmp/$ns.batch"

ip_times=()
ip -j -n "$ns" -4 route show >/dev/null # warm-up
for _ in $(seq "$iterations"); do
  t0=$(date +%s%N)
  ip -j -n "$ns" -4 route show >/dev/null
  ip_times+=($((($(date +%s%N) - t0) / 1000)))
done
ip_median_us=$(printf '%s\n' "${ip_times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int(NR/2)+1]}')

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
