# Shared by bench/run.sh and bench/ynl_routes.sh (sourced): a network namespace holding ROUTES
# IPv4 host routes, deleted on exit, and the reference timing of `ip -j -4 route show` on it.

# routes_netns NS ROUTES: creates NS with veth bench0/bench1 (both up) and ROUTES routes.
routes_netns() {
  local ns=$1 routes=$2
  trap "ip netns del '$ns' 2>/dev/null || true" EXIT
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
}

# ip_median_us NS ITERATIONS: prints the median microseconds of `ip -j -n NS -4 route show`.
ip_median_us() {
  local ns=$1 iterations=$2 t0 times=()
  ip -j -n "$ns" -4 route show >/dev/null # warm-up
  for _ in $(seq "$iterations"); do
    t0=$(date +%s%N)
    ip -j -n "$ns" -4 route show >/dev/null
    times+=($((($(date +%s%N) - t0) / 1000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int(NR/2)+1]}'
}
