#!/usr/bin/env bash
# Module flood benchmark: in one guest boot, messages per second received and decoded from the
# module's lossless flood by the library on Deno and on Bun (the message stream, batches() and
# the allocation-free cursor()), against the C loop in bench/flood_recv.c on the same flood, in
# rounds (C, Deno, Bun) so drift hits all alike.
# Reports each runtime's median as a ratio of C's. Not a test.
#
#   bench/flood.sh [COUNT] [SIZE] [BATCH] [ROUNDS]
. "$(dirname "$0")/_prologue.sh"
count=${1:-200000} size=${2:-64} batch=${3:-1} rounds=${4:-3}
cc -O2 -Wall -I kernel-module -o bench/flood_recv bench/flood_recv.c
out=$(mktemp)
trap 'rm -f "$out"' EXIT
test/vm/run -- sh -c "
  for r in \$(seq $rounds); do
    bench/flood_recv -n $count -s $size -b $batch
    for mode in messages batches cursor; do
      node_modules/.bin/deno run --allow-ffi bench/flood.ts $count $size $batch \$mode
      node_modules/.bin/bun bench/flood.ts $count $size $batch \$mode
    done
  done" | tee "$out" | grep '^{' || true
python3 - "$out" <<'PY'
import json, statistics, sys
rates = {}
for line in open(sys.argv[1]):
    if line.startswith("{"):
        r = json.loads(line)
        rates.setdefault(r["bench"], []).append(r["msgs_per_sec"])
c = statistics.median(rates["flood_recv"])
print(f"C recv loop: {c:,.0f} msg/s (median of {len(rates['flood_recv'])})")
for name in ("deno", "deno batches()", "deno cursor()", "bun", "bun batches()", "bun cursor()"):
    m = statistics.median(rates[name])
    print(f"{name}: {m:,.0f} msg/s = {m / c:.0%} of C")
PY
