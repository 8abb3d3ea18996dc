#!/usr/bin/env bash
# Native stand-in for bench/flood.sh (whose module runs only in the TCG guest, where JIT code pays
# far more than C): the same kind of lossless one-way flood, sent by a C process over
# NETLINK_USERSOCK, received by a C loop and by the library on Deno and Bun, in rounds, on this
# machine's own kernel. Reports medians and each runtime's ratio to C, and the ratio of a C loop
# making the library's syscalls (recvmmsg of up to 16, with addresses, control messages and
# MSG_TRUNC). The library runs seven ways: the message stream, batches(), listen(), datagrams() walked with
# MessageCursor, the allocation-free path (sock.cursor(): one cursor over each datagram in place,
# no copy), and under the socket layer, the MessageCursor walk over transport.receive() (copied)
# and over transport.receiveInPlace() (the floor for sock.cursor()). MODES (default all) picks
# some, e.g. MODES="cursor inplace". Not a test.
#
#   bench/usersock_flood.sh [COUNT] [SIZE] [BATCH] [ROUNDS]
. "$(dirname "$0")/_prologue.sh"
count=${1:-200000} size=${2:-64} batch=${3:-1} rounds=${4:-5}
modes=${MODES:-messages batches listen datagrams cursor transport inplace}
cc -O2 -Wall -o bench/usersock_flood bench/usersock_flood.c
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for _ in $(seq "$rounds"); do
  bench/usersock_flood recv "$count" "$size" "$batch"
  bench/usersock_flood recv-lib "$count" "$size" "$batch"
  for mode in $modes; do
    deno run --allow-ffi --allow-run --allow-read --allow-env bench/usersock_flood.ts \
      "$count" "$size" "$batch" "$mode"
    bun bench/usersock_flood.ts "$count" "$size" "$batch" "$mode"
  done
done | tee "$out" >/dev/null
python3 - "$out" "$count" "$size" "$batch" "$modes" <<'PY'
import json, statistics, sys
rates = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    assert r["received"] == int(sys.argv[2]) and r["out_of_order"] == 0, r
    rates.setdefault(r["bench"], []).append(r["msgs_per_sec"])
c = statistics.median(rates["c"])
print(f"usersock flood, {sys.argv[2]} x {sys.argv[3]} B, {sys.argv[4]} per datagram: "
      f"C {c:,.0f} msg/s (median of {len(rates['c'])})")
m = statistics.median(rates["c lib"])
print(f"  C making the library's syscalls: {m:,.0f} msg/s = {m / c:.0%} of C")
for runtime in ("deno", "bun"):
    for mode in sys.argv[5].split():
        name = runtime if mode == "messages" else f"{runtime} {mode}"
        m = statistics.median(rates[name])
        print(f"  {name}: {m:,.0f} msg/s = {m / c:.0%} of C")
PY
