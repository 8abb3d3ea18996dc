#!/usr/bin/env bash
# dump()'s message paths, cold, as ../shared/peers times them: ROUTES IPv4 routes dumped by a
# fresh process (socket open to list built, in process), through the harness's own consumers:
# its bare FFI loop (ts/{deno,bun}_dump.ts, the reference), its `for await` over dump()
# (ts/lib_dump.ts) and this tree's forEach() entry (bench/peer_dump_foreach.ts). With OLD set to
# another checkout (a detached worktree of an older commit, node_modules linked), its `for await`
# and forEach() run too, old and new in turn (the first of each pair alternates by round): the
# way to compare two trees on a loaded machine. Prints each layer's median (min) in ms and x the
# bare loop of its runtime, and new / old for each round's pair. With CPU=1, each process runs
# with its JIT compiler on the main thread (Bun BUN_JSC_useConcurrentJIT=0, Deno V8's
# --single-threaded) and the figure is the whole process's CPU time (user + system, startup
# included), which a loaded machine moves less than the wall clock. Needs root. Not a test.
#
# NS names a namespace made before (by bench/_routes_netns.sh's routes_netns) to use instead of
# making one.
#
#   [OLD=DIR] [CPU=1] [NS=NAME] [RUNTIMES="deno bun"] [LAYERS="await forEach"] bench/dump_messages.sh [ROUTES] [ROUNDS]
. "$(dirname "$0")/_prologue.sh"
peer_harness
routes=${1:-100000} rounds=${2:-7}
old=${OLD:+$(cd "$OLD" && pwd)}
tfile=$(mktemp)
if [[ -n ${NS:-} ]]; then
  ns=$NS # made before, holding ROUTES routes (bench/_routes_netns.sh)
  trap "rm -f '$tfile'" EXIT
else
  ns=nlmsgs-$$
  . bench/_routes_netns.sh
  routes_netns "$ns" "$routes"
  trap "ip netns del '$ns' 2>/dev/null || true; rm -f '$tfile'" EXIT
fi
# run RUNTIME LAYER TREE: one process; prints "RUNTIME LAYER TREE ms".
run() {
  local rt=$1 layer=$2 tree=$3 entry
  case $layer in
    bare) entry=$peers/ts/${rt}_dump.ts ;;
    await) entry=$peers/ts/lib_dump.ts ;;
    forEach) entry=$tree/bench/peer_dump_foreach.ts ;;
  esac
  : >"$tfile"
  local cmd=(deno run -A --no-lock) tag
  [[ $rt == bun ]] && cmd=(bun)
  if [[ -n ${CPU:-} ]]; then
    [[ $rt == deno ]] && cmd+=(--v8-flags=--single-threaded)
    # GNU time's user and system seconds of the whole process, appended after its output.
    BUN_JSC_useConcurrentJIT=0 NLBENCH_TFILE=/dev/null /usr/bin/time -f "%U %S" -o "$tfile" \
      ip netns exec "$ns" "${cmd[@]}" "$entry" "$tree/mod.ts" >/dev/null
    tag=$(awk '{print ($1 + $2) * 1000}' "$tfile")
  else
    NLBENCH_TFILE=$tfile ip netns exec "$ns" "${cmd[@]}" "$entry" "$tree/mod.ts" >/dev/null
    tag=$(cat "$tfile")
  fi
  echo "$rt $layer $([[ $tree == "$PWD" ]] && echo new || echo old) $tag"
}
for round in $(seq "$rounds"); do
  for rt in ${RUNTIMES:-deno bun}; do
    run "$rt" bare "$PWD"
    for layer in ${LAYERS:-await forEach}; do
      if [[ -z $old ]]; then
        run "$rt" "$layer" "$PWD"
      elif ((round % 2)); then
        run "$rt" "$layer" "$old"
        run "$rt" "$layer" "$PWD"
      else
        run "$rt" "$layer" "$PWD"
        run "$rt" "$layer" "$old"
      fi
    done
  done
done | python3 -c '
import statistics, sys
ms = {}
for line in sys.stdin:
    rt, layer, tree, t = line.split()
    ms.setdefault((rt, layer, tree), []).append(float(t))
import os
what = "process CPU ms (JIT on the main thread)" if os.environ.get("CPU") else "in-process ms"
print(f"{what}, medians (min), x the bare loop of the runtime; new / old by round")
for rt in ("deno", "bun"):
    if (rt, "bare", "new") not in ms:
        continue
    bare = statistics.median(ms[(rt, "bare", "new")])
    for (r, layer, tree), v in sorted(ms.items(), key=lambda kv: (kv[0][1] != "bare", kv[0])):
        if r != rt:
            continue
        med = statistics.median(v)
        line = f"  {rt:4} {layer:7} {tree:3} {med:7.1f} ({min(v):7.1f}) = {med / bare:.2f}x bare"
        if tree == "new" and (rt, layer, "old") in ms:
            pairs = [n / o for n, o in zip(v, ms[(rt, layer, "old")])]
            line += f" | new/old {statistics.median(pairs):.3f}: " + " ".join(f"{p:.2f}" for p in pairs)
        print(line)
'
