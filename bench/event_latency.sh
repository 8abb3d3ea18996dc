#!/usr/bin/env bash
# Link-event latency against C, in one run: the peer harness's events workload (../shared/peers,
# or $PEERS: a C toggler flips a veth 200 times, 10 ms apart, stamping CLOCK_MONOTONIC; each
# subscriber stamps the same clock on arrival) with c-raw (C blocking recv) as the reference and
# this checkout as extra peers, on Deno and on Bun: the layers of bench/events_peer.ts named in
# LAYERS (default: socket, `for await`; listen, `sock.listen()`; transport, the bare transport's
# promise waits; then, its waitThen() callbacks; ynl, a typed monitor's `for await`; ynlpick, the same with `attrs`), and the
# floor, bench/events_signal_floor.ts (no library: recv inside the signal's listener); with FLOOR_TID=1, also Deno's floor with the
# signal sent to the runtime's signal thread (an experiment: see that file); with FLOOR_WAIT
# ("poll recv sigfd atomics message uring pipe context"), Deno floors that wait otherwise: on the
# runtime's thread pool, a signalfd in its event loop, a Worker blocked in poll(2), an io_uring
# writing an eventfd in its event loop, the socket as a pipe handle, a libc thread calling a
# thread-safe callback (see that file). Prints each peer's
# p50/p99, its p50 as a multiple of C's, and the microseconds it adds to C's p50 in the same
# round (the kernel's share, some 100-140 us of C's, is in both: the ratio shrinks when it grows,
# the difference does not). With ENTRY=1, then, for each subscriber, its time inside the process
# from the entry of the runtime's SIGURG listener call (on Deno, of the signalfd handle's onread,
# or the settling of the pool waiter's poll) to its stamp (bench/_signal_entry.ts): what it adds
# once the runtime has delivered the signal, far steadier than the end-to-end figure (with
# NL_ENTRY_CLOCK=thread, the main thread's CPU time instead: the work, without the time
# preempted on a loaded machine). Not by default: those stamps are work of their own in every
# subscriber's event (a second SIGURG listener called before the library's on Bun; a reaction
# on each pool poll's promise, before the library's, on Deno) that C and the peer harness's
# subscribers do not do, so the end-to-end figures are taken without them. With OLD set to
# another checkout (e.g. `git worktree add /tmp/old REF`, node_modules linked), its socket,
# listen, transport and ynl layers run in the same rounds as old-* peers, each
# next to its own, first and second in turn from round to round. With V8_FLAGS (comma-separated
# V8 options, e.g. "--invocation-count-for-maglev=20,--invocation-count-for-turbofan=60"), this
# checkout's Deno layers run once more as deno-LAYER-v8flags with DENO_V8_FLAGS set to them.
# RUNTIMES (default "deno bun") names the runtimes whose subscribers and floors run.
# PEERS defaults to ../shared/peers beside the main checkout (found through git from a
# worktree). Needs root. Not a test.
# The netns holds the veth pair alone. ROUTES=N first loads N routes into it (../shared/peers'
# `ns.sh routes N`): the state `run.sh` leaves its netns in for its events, after its dump
# workload (`--sizes 100000`), to compare the two benches in one script (bench/RESULTS.md,
# twenty-third round).
#
#   [PEERS=DIR] [OLD=DIR] [RUNTIMES="deno bun"] [ENTRY=1] [NL_ENTRY_CLOCK=thread] [LAYERS="..."] \
#     [FLOOR_TID=1] [FLOOR_WAIT="poll recv"] [ROUTES=N] \
#     [V8_FLAGS=...] bench/event_latency.sh [ROUNDS]
. "$(dirname "$0")/_prologue.sh"
root=$PWD
peer_harness
rounds=${1:-3}
export PEERBENCH=${PEERBENCH:-/tmp/nl-event-latency} NS=${NS:-nlevents-$$} RT=$root
export DENO_DIR=$PEERBENCH/deno-dir
build_peer_tools
tsv=$PEERBENCH/peers.tsv
deno="$root/node_modules/.bin/deno run -A --no-lock $root/bench/events_peer.ts $peers/ts"
bun="$root/node_modules/.bin/bun $root/bench/events_peer.ts $peers/ts"
old=${OLD:+$(cd "$OLD" && pwd)}
: > "$tsv"
only=
for layer in ${LAYERS:-socket listen transport then}; do
  for rt in ${RUNTIMES:-deno bun}; do
    cmd=${!rt}
    printf 'events\t%s\t%s\n' "$rt-$layer" "$cmd $layer" >> "$tsv"
    only+=$rt-$layer,
    if [[ -n $old && $layer =~ ^(socket|listen|transport|ynl)$ ]]; then # the same subscriber over the other checkout, next in each round
      printf 'events\t%s\tenv NL_LIB=%s %s\n' "old-$rt-$layer" "$old" "$cmd $layer" >> "$tsv"
      only+=old-$rt-$layer,
    fi
    if [[ -n ${V8_FLAGS:-} && $rt == deno ]]; then # this checkout again, V8 told to tier up sooner
      printf 'events\t%s\tenv DENO_V8_FLAGS=%s %s\n' "$rt-$layer-v8flags" "$V8_FLAGS" "$cmd $layer" >> "$tsv"
      only+=$rt-$layer-v8flags,
    fi
  done
done
for rt in ${RUNTIMES:-deno bun}; do # the floor: no library, drained inside the signal's listener
  cmd=${!rt/bench\/events_peer.ts $peers\/ts/bench/events_signal_floor.ts}
  printf 'events\t%s\t%s\n' "$rt-signal-floor" "${cmd/deno run -A/deno run -A}" >> "$tsv"
  only+=$rt-signal-floor,
done
for wait in ${FLOOR_WAIT:-}; do # Deno's other waiting mechanisms, floors only (see that file)
  printf 'events\tdeno-%s-floor\tenv NL_FLOOR_WAIT=%s %s\n' "$wait" "$wait" \
    "$(awk -F'\t' '$2 == "deno-signal-floor" { print $3 }' "$tsv")" >> "$tsv"
  only+=deno-$wait-floor,
done
if [[ ${FLOOR_TID:-} == 1 ]]; then
  printf 'events\tdeno-signal-floor-tid\tenv NL_FLOOR_TID=1 %s\n' \
    "$(awk -F'\t' '$2 == "deno-signal-floor" { print $3 }' "$tsv")" >> "$tsv"
  only+=deno-signal-floor-tid,
fi
trap '"$peers/ns.sh" del >/dev/null 2>&1 || true' EXIT
if [[ -n ${ROUTES:-} ]]; then "$peers/ns.sh" routes "$ROUTES"; fi
[[ -n ${NL_ENTRY_CLOCK:-} ]] && ENTRY=1
if [[ ${ENTRY:-} == 1 ]]; then
  export NL_ENTRY_FILE=$PEERBENCH/entry.txt # bench/_signal_entry.ts: listener entry -> recorded
  : > "$NL_ENTRY_FILE"
fi
# Every other round runs the old checkout's subscriber before this one's: whichever runs first in
# a round tended to look slower (bunevents3, seventeenth round), which one fixed order would bias.
awk -F'\t' '$2 ~ /^old-/ { print; if (held != "") print held; held = ""; next }
  { if (held != "") print held; held = $0 } END { if (held != "") print held }' "$tsv" \
  > "$PEERBENCH/peers-old-first.tsv"
for round in $(seq "$rounds"); do
  order=$tsv
  ((round % 2 == 0)) && order=$PEERBENCH/peers-old-first.tsv
  EXTRA_PEERS=$order python3 "$peers/events.py" --only "$only" 2>/dev/null
done | python3 -c '
import statistics, sys
rows = {}
round_c = None
for line in sys.stdin:
    f = line.split()
    if len(f) > 1 and f[1] in ("FAIL:", "SKIP:"):
        print("  " + line.strip())
    if len(f) == 6 and f[1].isdigit():
        if f[0] == "c-raw":  # first in each round (events.py runs its own peers first)
            round_c = float(f[3])
        rows.setdefault(f[0], []).append((int(f[2]), float(f[3]), float(f[4]), round_c))
c = statistics.median(p50 for _, p50, _, _ in rows["c-raw"])
n = len(rows["c-raw"])
print(f"link-event latency, {n} rounds of 200 toggles (median of the rounds; added: the p50 less"
      " that round\x27s C p50, which holds the kernel\x27s share)")
for name, runs in rows.items():
    p50 = statistics.median(r[1] for r in runs)
    p99 = statistics.median(r[2] for r in runs)
    missed = sum(r[0] for r in runs)
    lo, hi = min(r[1] for r in runs), max(r[1] for r in runs)
    added = statistics.median(r[1] - r[3] for r in runs)
    print(f"  {name:18} p50 {p50:6.1f} us ({lo:.0f}-{hi:.0f})  p99 {p99:7.1f} us  missed {missed}"
          f"  p50 = {p50 / c:.2f}x C  added {added:+6.1f} us")
'
[[ ${ENTRY:-} == 1 ]] || exit 0
python3 - "$NL_ENTRY_FILE" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, *values = line.split()
    rows.setdefault(name, []).append([float(v) for v in values])
print("inside the process, from the wake-up's entry (SIGURG listener call, pool poll settled) to the event's stamp (median of the rounds)")
for name, runs in sorted(rows.items()):
    p50, p75, mean = (statistics.median(r[i] for r in runs) for i in range(3))
    print(f"  {name:18} p50 {p50:6.1f} us  p75 {p75:6.1f} us  mean {mean:6.1f} us")
PY
