#!/usr/bin/env bash
# How many distinct JavaScript functions a subscriber runs per link event. Bun (the default):
# JavaScriptCore compiles a function to its Baseline tier once it has run some 30-70 times, so
# over N events (default 120) every function an event runs is reported once
# (BUN_JSC_reportBaselineCompileTimes), along with a few start-up ones called as often. Deno
# (RUNTIME=deno): V8's precise coverage (`deno run --coverage`) counts every function's calls,
# so each function called at least N/2 times is listed with its calls per event, and their sum.
# Runs bench/events_peer.ts's LAYER (socket: `for await`; listen: `sock.listen()`) over this
# checkout, or DIR (another checkout, as OLD in bench/event_latency.sh), in a network namespace
# of its own with a veth pair toggled N times, 10 ms apart. Prints the count, then the functions
# (Bun: name, bytecode size; Deno: calls per event, file, name). With SYSCALLS=1, the subscriber
# runs under `strace -f -c` too, and its reads per event follow: recvmsg and recvmmsg calls, and
# those that found the queue empty (EAGAIN), over the whole run (its start's few reads included).
# Needs root. Not a test.
#
#   [RUNTIME=deno] [SYSCALLS=1] bench/event_functions.sh [LAYER] [N] [DIR]
. "$(dirname "$0")/_prologue.sh"
layer=${1:-listen} n=${2:-120} lib=${3:-$PWD}
peer_harness
ns=nlfuncs-$$ out=$(mktemp -d)
trap 'ip netns del "$ns" 2>/dev/null || true; rm -rf "$out"' EXIT
ip netns add "$ns"
ip -n "$ns" link add nlb0 type veth peer name nlb1
ip -n "$ns" link set nlb1 up
index=$(ip -n "$ns" -o link show nlb0 | cut -d: -f1)
strace=()
if [[ ${SYSCALLS:-} == 1 ]]; then
  strace=(strace -f -qq -c -e trace=recvmsg,recvmmsg -o "$out/strace")
fi
if [[ ${RUNTIME:-bun} == deno ]]; then
  NL_LIB=$lib ip netns exec "$ns" "${strace[@]}" node_modules/.bin/deno run -A --no-lock --coverage="$out/cov" \
    bench/events_peer.ts "$peers/ts" "$layer" "$index" "$n" "$out/ready" >/dev/null 2>"$out/jit" &
else
  BUN_JSC_reportBaselineCompileTimes=1 NL_LIB=$lib ip netns exec "$ns" "${strace[@]}" node_modules/.bin/bun \
    bench/events_peer.ts "$peers/ts" "$layer" "$index" "$n" "$out/ready" >/dev/null 2>"$out/jit" &
fi
subscriber=$!
while [[ ! -e $out/ready ]]; do sleep 0.05; done
for i in $(seq "$n"); do
  ip -n "$ns" link set nlb0 "$( ((i % 2)) && echo up || echo down)"
  sleep 0.01
done
wait "$subscriber"
if [[ ${SYSCALLS:-} == 1 ]]; then
  # strace -c's rows: % time, seconds, usecs/call, calls, [errors,] syscall.
  awk -v n="$n" '$NF ~ /^recvm?msg$/ { calls += $4; if (NF == 6) errors += $5 }
    END { printf "reads per event: %.2f (%.2f found the queue empty), over %d events\n", calls / n, errors / n, n }' "$out/strace"
fi
if [[ ${RUNTIME:-bun} == deno ]]; then
  python3 - "$out/cov" "$n" "$lib" "$layer" <<'PY'
import glob, json, os, sys
cov, n, lib, layer = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rows = []
for path in glob.glob(cov + "/*.json"):
    script = json.load(open(path))
    source = None
    for f in script["functions"]:
        whole = f["ranges"][0]  # the function's own range: its call count
        if whole["count"] < n / 2:
            continue
        name = f["functionName"]
        if not name:  # an arrow function: named by its line
            if source is None:
                source = open(script["url"].removeprefix("file://")).read()
            name = f"(line {source.count(chr(10), 0, whole['startOffset']) + 1})"
        rows.append((os.path.basename(script["url"]), name, whole["count"] / n))
print(f"{layer} over {lib}: {len(rows)} functions, {sum(r[2] for r in rows):.1f} calls per event"
      f" (called at least {n // 2} times over {n} events)")
for file, name, per in sorted(rows):
    print(f"  {per:5.2f} {file:24} {name}")
PY
  exit
fi
functions=$(sed -nE 's/^Optimized ([^:]*):.*, ([0-9]+) \(.*using Baseline.*/\1 \2/p' "$out/jit")
echo "$layer over $lib: $(wc -l <<<"$functions") functions compiled to Baseline over $n events"
tr '\n' ' ' <<<"$functions" | fold -s -w 100
echo
