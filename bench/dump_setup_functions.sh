#!/usr/bin/env bash
# What a cold Bun process runs of the library from open() to a dump's first datagram in hand
# (`dump().cursor()`'s first step, bench/dump_setup.ts), and then what it runs for the first time
# from there to the socket closed (the rest of the dump, its end): every JavaScript function, in the
# order of its first call, with the size in bytes of the bytecode JavaScriptCore made for it (what
# JSC's report prints after the code block's kind: `function tiny(a) { return a + 1; }` is 3
# instructions in 9 bytes, with or without comments). A function's bytecode is made on its first
# call, and in a cold process that costs some 0.15-0.3 us per byte (measured: the setup's
# main-thread time follows the total), so the total is what the library's setup costs before its
# first read, apart from the system calls. JSC's thresholds are set to 0, so each function is
# reported (compiled to Baseline) on its first call; its concurrent JIT is off, so the report comes
# in call order. Runs over this checkout, or DIR (another checkout, as OLD in bench/cold_dump.sh),
# in a network namespace of its own with 2,000 routes (the dump's first datagram then holds routes
# only, as a large dump's does). Prints the count and total of each part, then their functions
# (name, bytecode bytes), unless QUIET is set. Needs root. Not a test.
#
#   [QUIET=1] bench/dump_setup_functions.sh [DIR]
. "$(dirname "$0")/_prologue.sh"
lib=${1:-$PWD}
ns=nlsetup-$$ out=$(mktemp)
trap 'ip netns del "$ns" 2>/dev/null || true; rm -f "$out"' EXIT
. bench/_routes_netns.sh
routes_netns "$ns" 2000
trap 'ip netns del "$ns" 2>/dev/null || true; rm -f "$out"' EXIT
BUN_JSC_useConcurrentJIT=0 BUN_JSC_thresholdForJITSoon=0 BUN_JSC_thresholdForJITAfterWarmUp=0 \
  BUN_JSC_reportBaselineCompileTimes=1 NL_LIB=$lib ip netns exec "$ns" node_modules/.bin/bun \
  bench/dump_setup.ts >/dev/null 2>"$out" || true
compiled=$(sed -nE 's/^Optimized ([^:]*):.*, ([0-9]+) \(.*using Baseline.*/\1 \2/p' "$out")
functions=$(awk '/^setupStarts/ { on = 1; next } /^firstDatagram/ { on = 0 } on' <<<"$compiled")
after=$(awk '/^firstDatagram/ { on = 1; next } /^closed/ { on = 0 } on' <<<"$compiled")
echo "$lib: $(wc -l <<<"$functions") functions from open() to the first datagram," \
  "$(awk '{ n += $NF } END { print n }' <<<"$functions") bytes of bytecode; then" \
  "$(wc -l <<<"$after") more to the socket closed," \
  "$(awk '{ n += $NF } END { print n }' <<<"$after") bytes"
[[ -n ${QUIET:-} ]] || { tr '\n' ' ' <<<"$functions" | fold -s -w 100; echo; echo "then:"
  tr '\n' ' ' <<<"$after" | fold -s -w 100; echo; }
