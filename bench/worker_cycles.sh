#!/usr/bin/env bash
# A Worker that opens, waits on and closes one socket after another (bench/worker_cycles.ts):
# the cost of a cycle, and of a thread's first wait, on Bun (whose Workers wait through a poller
# Worker) and on Deno. ROUNDS fresh processes per runtime, medians. With OLD set to another
# checkout (node_modules linked), its library runs in the same rounds, alternately. Not a test.
#
#   [OLD=DIR] [CYCLES=200] bench/worker_cycles.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$PWD/node_modules/.bin:$PATH"
rounds=${1:-9}
old=${OLD:+$(cd "$OLD" && pwd)}
for _ in $(seq "$rounds"); do
  for tree in "" ${old:+"$old"}; do
    LIB=$tree deno run -A bench/worker_cycles.ts | sed "s|^|${tree:-this} |"
    LIB=$tree bun bench/worker_cycles.ts | sed "s|^|${tree:-this} |"
  done
done | python3 -c '
import json, statistics, sys
rows = {}
for line in sys.stdin:
    tree, record = line.split(" ", 1)
    r = json.loads(record)
    rows.setdefault((r["runtime"], tree), []).append(r)
print("a Worker: open / wait for one datagram / close, medians (min-max)")
for (rt, tree), rs in sorted(rows.items()):
    per = sorted(r["per"] for r in rs)
    first = sorted(r["first"] for r in rs)
    print(f"  {rt:4} {tree:20} {statistics.median(per):6.0f} us/cycle ({per[0]:.0f}-{per[-1]:.0f})"
          f" | first wait {statistics.median(first):5.1f} ms ({first[0]:.1f}-{first[-1]:.1f})  ({len(rs)} runs)")
'
