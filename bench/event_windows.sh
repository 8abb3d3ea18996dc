#!/usr/bin/env bash
# Link-event latency over a long monitor, by windows of events: does the per-event time fall as
# the runtime's JIT tiers the code up? In a netns of its own, the peer harness's C toggler
# (../shared/peers, or $PEERS) flips a veth COUNT times, 10 ms apart, for each subscriber in
# turn: C blocking recv (the reference), then bench/events_peer.ts's LAYERS (default "listen
# socket") on Deno (RUNTIMES, default "deno"), and with OLD set to another checkout its layers
# too. Prints, per window of WINDOW events (default 200), each subscriber's p50 end to end (and
# as x C's p50 in the same window), and its p50 inside the process from the wake-up's entry
# (bench/_signal_entry.ts: the SIGURG listener's call, or on Deno the pool poll's settling) to
# the stamp. V8_FLAGS (e.g. "--trace-opt,--trace-deopt") are passed to Deno; each subscriber's
# output is kept in $PEERBENCH/win-stdout.NAME and win-stderr.NAME. Needs root. Not a test.
#
#   [PEERS=DIR] [OLD=DIR] [LAYERS="listen socket"] [RUNTIMES="deno bun"] [WINDOW=200] \
#     [V8_FLAGS=...] bench/event_windows.sh [COUNT]
. "$(dirname "$0")/_prologue.sh"
root=$PWD
peer_harness
count=${1:-3000}
window=${WINDOW:-200}
export PEERBENCH=${PEERBENCH:-/tmp/nl-event-windows} NS=${NS:-nlwindows-$$}
export DENO_DIR=$PEERBENCH/deno-dir DENO_NO_UPDATE_CHECK=1
out=$PEERBENCH/$$
mkdir -p "$out"
build_peer_tools
trap '"$peers/ns.sh" del >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
"$peers/ns.sh" veth
idx=$(ip -n "$NS" -o link show nlb0 | cut -d: -f1)
old=${OLD:+$(cd "$OLD" && pwd)}

names=(c)
cmds=("$PEERBENCH/bin/ev-sub-c")
for layer in ${LAYERS:-listen socket}; do
  for rt in ${RUNTIMES:-deno}; do
    if [[ $rt == deno ]]; then
      run="$root/node_modules/.bin/deno run -A --no-lock ${V8_FLAGS:+--v8-flags=$V8_FLAGS}"
    else
      run="$root/node_modules/.bin/bun"
    fi
    names+=("$rt-$layer")
    cmds+=("$run $root/bench/events_peer.ts $peers/ts $layer")
    if [[ -n $old ]]; then
      names+=("old-$rt-$layer")
      cmds+=("env NL_LIB=$old $run $root/bench/events_peer.ts $peers/ts $layer")
    fi
  done
done

for i in "${!names[@]}"; do
  name=${names[$i]}
  ip -n "$NS" link set nlb0 down
  rm -f "$out/ready"
  # shellcheck disable=SC2086 # the command's words
  NL_EVENT_STAMPS=$out/stamps.$name ip netns exec "$NS" ${cmds[$i]} "$idx" "$count" "$out/ready" \
    > "$PEERBENCH/win-stdout.$name" 2> "$PEERBENCH/win-stderr.$name" &
  sub=$!
  for _ in $(seq 3000); do [[ -e $out/ready ]] && break; sleep 0.01; done
  sleep 0.3
  ip netns exec "$NS" "$PEERBENCH/bin/ev-toggle" "$idx" "$count" 10000 > "$out/sent.$name"
  wait "$sub"
  # The stamps only: V8's --trace-* flags print to stdout too (kept in win-stdout.NAME).
  grep -E '^[0-9]+ [01]$' "$PEERBENCH/win-stdout.$name" > "$out/got.$name" || true
done

python3 - "$out" "$window" "${names[@]}" <<'PY'
import os, statistics, sys
out, window, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def lines(path):
    return [l.split() for l in open(path) if l.strip()] if os.path.exists(path) else []
lat, inproc, missed = {}, {}, {}
for name in names:
    sent, got = lines(f"{out}/sent.{name}"), lines(f"{out}/got.{name}")
    row, bad = [], 0
    for k, (ts, up) in enumerate(sent):
        if k >= len(got) or got[k][1] != up or int(got[k][0]) < int(ts):
            bad += 1
            row.append(None)
        else:
            row.append((int(got[k][0]) - int(ts)) / 1000)
    lat[name], missed[name] = row, bad
    inproc[name] = [float(l[0]) for l in lines(f"{out}/stamps.{name}")]
n = len(lat["c"])
print(f"link-event p50 by windows of {window} events ({n} toggles); us, x C's p50 of the same window; "
      "[in process, wake-up to stamp]")
print("events     " + "".join(f"{name:>28}" for name in names))
for start in range(0, n, window):
    cells = []
    c = statistics.median(v for v in lat["c"][start:start + window] if v is not None)
    for name in names:
        w = [v for v in lat[name][start:start + window] if v is not None]
        p = statistics.median(w) if w else float("nan")
        ip = inproc[name][start:start + window]
        extra = f" [{statistics.median(ip):5.1f}]" if ip else ""
        cells.append(f"{p:7.1f} {p / c:4.2f}x{extra}")
    print(f"{start:5}-{start + window - 1:<5}" + "".join(f"{c:>28}" for c in cells))
print("missed     " + "".join(f"{missed[name]:>28}" for name in names))
PY
