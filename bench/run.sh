#!/usr/bin/env bash
# Route-dump benchmark: 100,000 IPv4 routes in a fresh network namespace, dumped and decoded by
# the library on Deno and on Bun, against `ip -j -4 route show` on the same namespace, in this
# one run. Reports each as a ratio (ip time / library time), plus event latency and idle CPU.
# Needs root. Not a test: nothing here asserts a time.
#
#   bench/run.sh [ROUTES] [ITERATIONS]
. "$(dirname "$0")/_prologue.sh"
routes=${1:-100000}
iterations=${2:-10}
ns=nlbench-$$
. bench/_routes_netns.sh
routes_netns "$ns" "$routes"
toggle=$(ip -j -n "$ns" link show dev bench1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ifindex"])')
ip_median_us=$(ip_median_us "$ns" "$iterations")

cc -O2 -Wall -o bench/route_dump bench/route_dump.c
c_json=$(bench/route_dump "$ns" "$iterations")
deno_json=$(deno run --allow-ffi --allow-read bench/route_dump.ts "$ns" "$iterations" "$toggle")
bun_json=$(bun bench/route_dump.ts "$ns" "$iterations" "$toggle")

python3 - "$ip_median_us" "$c_json" "$deno_json" "$bun_json" <<'PY'
import json, sys
ip_ms = int(sys.argv[1]) / 1000
c_ms = json.loads(sys.argv[2])["medianMs"]
print(f"ip -j -4 route show: {ip_ms:.1f} ms; C recv loop (the kernel's floor): {c_ms:.1f} ms "
      f"= {ip_ms / c_ms:.1f}x faster than ip -j (medians)")
for raw in sys.argv[3:]:
    r = json.loads(raw)
    lat = r["eventLatencyUs"]
    for label, key in (("dump() streamed", "dumpMs"), ("request() collected", "requestMs")):
        ms = r[key]["median"]
        print(f"{r['runtime']}: {r['routes']} routes, {label} + decode {ms:.1f} ms "
              f"-> {ip_ms / ms:.1f}x faster than ip -j, {c_ms / ms:.0%} of C's speed")
    print(f"{r['runtime']}: event latency (link toggle -> yielded) p50 {lat['p50']:.0f} us, "
          f"p99 {lat['p99']:.0f} us (n={lat['n']}); idle CPU of a waiting subscriber "
          f"{r['idleCpuPercent']:.2f}% (the same process with no socket: "
          f"{r['baselineCpuPercent']:.2f}%)")
PY
