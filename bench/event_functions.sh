#!/usr/bin/env bash
# How many distinct JavaScript functions a Bun subscriber runs per link event: JavaScriptCore
# compiles a function to its Baseline tier once it has run some 30-70 times, so over N events
# (default 120) every function an event runs is reported once (BUN_JSC_reportBaselineCompileTimes),
# along with a few start-up ones called as often. Runs bench/events_peer.ts's LAYER (socket:
# `for await`; listen: `sock.listen()`) over this checkout, or DIR (another checkout, as OLD in
# bench/event_latency.sh), in a network namespace of its own with a veth pair toggled N times,
# 10 ms apart. Prints the count, then the functions (name, bytecode size). Needs root. Not a test.
#
#   bench/event_functions.sh [LAYER] [N] [DIR]
. "$(dirname "$0")/_prologue.sh"
layer=${1:-listen} n=${2:-120} lib=${3:-$PWD}
peer_harness
ns=nlfuncs-$$ out=$(mktemp -d)
trap 'ip netns del "$ns" 2>/dev/null || true; rm -rf "$out"' EXIT
ip netns add "$ns"
ip -n "$ns" link add nlb0 type veth peer name nlb1
ip -n "$ns" link set nlb1 up
index=$(ip -n "$ns" -o link show nlb0 | cut -d: -f1)
BUN_JSC_reportBaselineCompileTimes=1 NL_LIB=$lib ip netns exec "$ns" node_modules/.bin/bun \
  bench/events_peer.ts "$peers/ts" "$layer" "$index" "$n" "$out/ready" >/dev/null 2>"$out/jit" &
subscriber=$!
while [[ ! -e $out/ready ]]; do sleep 0.05; done
for i in $(seq "$n"); do
  ip -n "$ns" link set nlb0 "$( ((i % 2)) && echo up || echo down)"
  sleep 0.01
done
wait "$subscriber"
functions=$(sed -nE 's/^Optimized ([^:]*):.*, ([0-9]+) \(.*using Baseline.*/\1 \2/p' "$out/jit")
echo "$layer over $lib: $(wc -l <<<"$functions") functions compiled to Baseline over $n events"
tr '\n' ' ' <<<"$functions" | fold -s -w 100
echo
