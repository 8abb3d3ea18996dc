#!/usr/bin/env bash
# Link-event latency against C, in one run: the peer harness's events workload (../shared/peers,
# or $PEERS: a C toggler flips a veth 200 times, 10 ms apart, stamping CLOCK_MONOTONIC; each
# subscriber stamps the same clock on arrival) with c-raw (C blocking recv) as the reference and
# this checkout as four extra peers: the socket API and the bare transport, on Deno and on Bun.
# Prints each peer's p50/p99 and its p50 as a multiple of C's. Needs root. Not a test.
#
#   bench/event_latency.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
peers=$(cd "${PEERS:-../shared/peers}" && pwd)
rounds=${1:-3}
export PEERBENCH=${PEERBENCH:-/tmp/nl-event-latency} NS=${NS:-nlevents-$$} RT=$root
export DENO_DIR=$PEERBENCH/deno-dir
mkdir -p "$PEERBENCH/bin"
gcc -O2 -o "$PEERBENCH/bin/ev-toggle" "$peers/c/ev_toggle.c"
gcc -O2 -o "$PEERBENCH/bin/ev-sub-c" "$peers/c/ev_sub.c"
tsv=$PEERBENCH/peers.tsv
deno="$root/node_modules/.bin/deno run -A --no-lock $root/bench/events_peer.ts $peers/ts"
bun="$root/node_modules/.bin/bun $root/bench/events_peer.ts $peers/ts"
printf 'events\t%s\t%s\n' deno-socket "$deno socket" bun-socket "$bun socket" \
  deno-transport "$deno transport" bun-transport "$bun transport" > "$tsv"
trap '"$peers/ns.sh" del >/dev/null 2>&1 || true' EXIT
for _ in $(seq "$rounds"); do
  EXTRA_PEERS=$tsv python3 "$peers/events.py" \
    --only deno-socket,bun-socket,deno-transport,bun-transport 2>/dev/null
done | python3 -c '
import statistics, sys
rows = {}
for line in sys.stdin:
    f = line.split()
    if len(f) == 6 and f[1].isdigit():
        rows.setdefault(f[0], []).append((int(f[2]), float(f[3]), float(f[4])))
c = statistics.median(p50 for _, p50, _ in rows["c-raw"])
n = len(rows["c-raw"])
print(f"link-event latency, {n} rounds of 200 toggles (median of the rounds)")
for name, runs in rows.items():
    p50 = statistics.median(r[1] for r in runs)
    p99 = statistics.median(r[2] for r in runs)
    missed = sum(r[0] for r in runs)
    print(f"  {name:15} p50 {p50:7.1f} us  p99 {p99:8.1f} us  missed {missed}  p50 = {p50 / c:.2f}x C")
'
