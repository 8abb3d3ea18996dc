#!/usr/bin/env bash
# A fresh process's fixed costs, on Deno and on Bun (bench/cold_open.ts): importing the library,
# its first open(), and a first dump of the links with close(). ROUNDS fresh processes per
# runtime, medians in ms. With OLD set to another checkout (e.g. `git worktree add /tmp/old REF`,
# node_modules linked), its library runs in the same rounds, alternately. Not a test.
#
#   [OLD=DIR] bench/cold_open.sh [ROUNDS]
. "$(dirname "$0")/_prologue.sh"
rounds=${1:-9}
old=${OLD:+$(cd "$OLD" && pwd)}
for _ in $(seq "$rounds"); do
  for tree in "" ${old:+"$old"}; do
    LIB=$tree deno run --allow-ffi --allow-env=LIB --allow-read bench/cold_open.ts | sed "s|^|${tree:-this} |"
    LIB=$tree bun bench/cold_open.ts | sed "s|^|${tree:-this} |"
  done
done | python3 -c '
import json, statistics, sys
rows = {}
for line in sys.stdin:
    tree, record = line.split(" ", 1)
    r = json.loads(record)
    rows.setdefault((r["runtime"], tree), []).append(r)
print("fresh process, medians in ms: import of mod.ts | first open() | first links dump + close")
for (rt, tree), rs in sorted(rows.items()):
    imp, opn, lnk = (statistics.median(r[k] for r in rs) for k in ("import", "open", "links"))
    print(f"  {rt:4} {tree:12} import {imp:6.1f} | open {opn:5.1f} | links {lnk:5.1f}  ({len(rs)} runs)")
'
