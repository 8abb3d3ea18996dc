#!/usr/bin/env bash
# What the typed layer's `attrs` saves (bench/ynl_pick.ts): a veth's RTM_NEWLINK decoded whole
# and with a pick (ifname, operstate, linkinfo), cold (once every 2 ms, as a monitor's events
# come) and warm, and `dump("getlink")` of VETHS veth pairs' links, whole and picked, on Deno and
# on Bun, RUNS processes each, the runtimes alternating. Each line is one process's medians (the
# two ways alternate inside it). Needs root. Not a test: nothing asserts a time.
#
#   bench/ynl_pick.sh [VETHS] [ROUNDS] [RUNS]
. "$(dirname "$0")/_prologue.sh"
veths=${1:-200}
rounds=${2:-10}
runs=${3:-3}
ns=nlpick-$$
ip netns add "$ns"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
{
  echo "link set lo up"
  for i in $(seq 0 $((veths - 1))); do echo "link add va$i type veth peer name vb$i"; done
  echo "link set va0 up"
} | ip -n "$ns" -batch -
uptime
for _ in $(seq "$runs"); do
  deno run -A --no-lock bench/ynl_pick.ts "$ns" "$rounds"
  bun bench/ynl_pick.ts "$ns" "$rounds"
done
