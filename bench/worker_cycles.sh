#!/usr/bin/env bash
# A Worker that opens, waits on and closes one socket after another (bench/worker_cycles.ts), on
# Bun (whose Workers wait through a poller Worker) and on Deno. Not a test.
#
#   [OLD=DIR] [CYCLES=200] bench/worker_cycles.sh [ROUNDS]
. "$(dirname "$0")/_prologue.sh"
bun bench/worker_cycles.ts "${1:-9}"
deno run -A bench/worker_cycles.ts "${1:-9}"
