#!/usr/bin/env bash
# Route-dump benchmark: 100,000 IPv4 routes in a fresh network namespace, dumped and decoded by
# the library on Deno and on Bun, against `ip -j -4 route show` on the same namespace, in this
# one run. Reports each as a ratio (ip time / library time), plus event latency and idle CPU.
# Needs root. Not a test: nothing here asserts a time.
#
#   bench/run.sh [ROUTES] [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$PWD/node_modules/.bin:$PATH"
routes=${1:-100000}
iterations=${2:-10}
ns=nlbench-$$
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT

ip netns add "$ns"
ip -n "$ns" link add bench0 type veth peer name bench1
ip -n "$ns" link set bench0 up
ip -n "$ns" link set bench1 up
# 198.18.0.0/15 is the range set aside for benchmarks (RFC 2544): host routes, no traffic.
python3 - "$routes" >"/tmp/$ns.batch" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    print(f"route add 198.{18 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}/32 dev bench0")
PY
ip -n "$ns" -batch "/tmp/$ns.batch"
rm -f "/tmp/$ns.batch"
toggle=$(ip -j -n "$ns" link show dev bench1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ifindex"])')

ip_times=()
ip -j -n "$ns" -4 route show >/dev/null # warm-up
for _ in $(seq "$iterations"); do
  t0=$(date +%s%N)
  ip -j -n "$ns" -4 route show >/dev/null
  ip_times+=($((($(date +%s%N) - t0) / 1000)))
done
ip_median_us=$(printf '%s\n' "${ip_times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int(NR/2)+1]}')

deno_json=$(deno run --allow-ffi --allow-read bench/route_dump.ts "$ns" "$iterations" "$toggle")
bun_json=$(bun bench/route_dump.ts "$ns" "$iterations" "$toggle")

python3 - "$ip_median_us" "$deno_json" "$bun_json" <<'PY'
import json, sys
ip_ms = int(sys.argv[1]) / 1000
print(f"ip -j -4 route show: {ip_ms:.1f} ms (median)")
for raw in sys.argv[2:]:
    r = json.loads(raw)
    lat = r["eventLatencyUs"]
    print(f"{r['runtime']}: {r['routes']} routes, dump+decode {r['dumpMs']['median']:.1f} ms median "
          f"(min {r['dumpMs']['min']:.1f}) -> {ip_ms / r['dumpMs']['median']:.1f}x faster than ip -j; "
          f"event latency p50 {lat['p50']:.0f} us, p99 {lat['p99']:.0f} us; "
          f"idle CPU {r['idleCpuPercent']:.2f}%")
PY
