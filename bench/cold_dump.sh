#!/usr/bin/env bash
# Cold one-shot dump: ROUTES IPv4 routes dumped and decoded by a fresh process, socket open to
# list built (bench/cold_dump.ts), through these layers on Deno and on Bun: the bare libc loop
# (the floor on that runtime), the transport with MessageCursor, the transport's datagrams decoded
# into message objects (taken by a plain loop, then through a minimal async iterator: the floor
# of per-message iteration), and the library's dump() (with a DataView per message as scripts
# write it, and with one per buffer; and its forEach(), a promise per datagram; its cursor(), no
# object per part either; and request() with NLM_F_DUMP, one array). LAYERS picks some (bare
# is the reference). ROUNDS rounds, interleaved; prints medians of wall and CPU time and each
# layer's ratio to the bare loop of its runtime, then CPU time by thread: the main thread's apart
# from the runtime's JIT compiler and GC threads' (which compete with it for a busy machine's
# cores), and for the bare and cursor layers the main thread's CPU time by its own clock (exact),
# split at the first datagram in hand: the setup (opening, the request, the first read) and the
# rest. With REPEAT=N, each process then dumps N - 1 times more the same way, and the medians
# of those warmer dumps follow (wall, and the main thread CPU), by repetition: how much of a
# layer's cold cost is the runtime warming up its code. With OLD set to another checkout (a
# detached worktree of an older commit, node_modules linked), its bare and cursor layers run
# too, each right after this tree's in every round (as bare-old and cursor-old), and are
# reported against its own bare loop (x old bare) and this tree's: before and after in one run.
# Needs root. Not a test.
#
#   [OLD=DIR] [LAYERS="bare cursor ..."] [REPEAT=N] bench/cold_dump.sh [ROUTES] [ROUNDS]
. "$(dirname "$0")/_prologue.sh"
routes=${1:-100000} rounds=${2:-7}
old=${OLD:+$(cd "$OLD" && pwd)}
ns=nlcold-$$
. bench/_routes_netns.sh
routes_netns "$ns" "$routes"
for _ in $(seq "$rounds"); do
  for layer in ${LAYERS:-bare transport messages iterator dump dump-view forEach cursor request}; do
    ip netns exec "$ns" deno run -A --no-lock bench/cold_dump.ts "$layer" ${REPEAT:-}
    ip netns exec "$ns" bun bench/cold_dump.ts "$layer" ${REPEAT:-}
    if [[ -n $old && ($layer == bare || $layer == cursor) ]]; then
      # The old checkout's body, in its own directory; its lines are tagged with an -old layer.
      (cd "$old" && ip netns exec "$ns" deno run -A --no-lock bench/cold_dump.ts "$layer" ${REPEAT:-}
        cd "$old" && ip netns exec "$ns" bun bench/cold_dump.ts "$layer" ${REPEAT:-}) \
        | sed 's/"layer":"\([a-z]*\)"/"layer":"\1-old"/'
    fi
  done
done | python3 -c '
import json, statistics, sys
ms, cpu, then, threads, then_main, phases = {}, {}, {}, {}, {}, {}
for line in sys.stdin:
    r = json.loads(line)
    ms.setdefault((r["runtime"], r["layer"]), []).append(r["ms"])
    threads.setdefault((r["runtime"], r["layer"]), []).append(r["threads"])
    then.setdefault((r["runtime"], r["layer"]), []).append(r["then"])
    then_main.setdefault((r["runtime"], r["layer"]), []).append(r["thenMain"])
    cpu.setdefault((r["runtime"], r["layer"]), []).append(r["cpu"])
    if r.get("phases"):
        phases.setdefault((r["runtime"], r["layer"]), []).append(r["phases"])
    routes = r["routes"]
names = ("bare", "transport", "messages", "iterator", "dump", "dump-view", "forEach", "cursor",
         "request", "bare-old", "cursor-old")
def old_ratio(table, rt, layer, value):
    """For an OLD layer, its ratio to the old tree bare loop as well."""
    if not layer.endswith("-old"):
        return ""
    old_bare = statistics.median(table[(rt, "bare-old")])
    return f" ({value / old_bare:.2f}x old bare)"
print(f"cold one-shot dump of {routes} routes, socket open to list built, medians (min) in ms:")
print("wall time in process, and CPU time of the process (all its threads: steadier under load)")
for rt in ("deno", "bun"):
    bare, bare_cpu = statistics.median(ms[(rt, "bare")]), statistics.median(cpu[(rt, "bare")])
    for layer in [l for l in names if (rt, l) in ms]:
        m, c = ms[(rt, layer)], cpu[(rt, layer)]
        wall, cp = statistics.median(m), statistics.median(c)
        print(f"  {rt:4} {layer:10} wall {wall:6.1f} ({min(m):6.1f}) = {wall / bare:.2f}x bare"
              f"{old_ratio(ms, rt, layer, wall)}"
              f" | cpu {cp:6.1f} ({min(c):6.1f}) = {cp / bare_cpu:.2f}x bare"
              f"{old_ratio(cpu, rt, layer, cp)}")
print("CPU time by thread, medians in ms: the main thread (x bare), then those of the runtime")
print("(JIT compilers, GC helpers...), which compete with it for the cores of a busy machine")
mains = {k: [t["main"] for t in v] for k, v in threads.items()}
for rt in ("deno", "bun"):
    main_bare = statistics.median(t["main"] for t in threads[(rt, "bare")])
    for layer in [l for l in names if (rt, l) in threads]:
        runs = threads[(rt, layer)]
        main = statistics.median(t["main"] for t in runs)
        others = sorted({n for t in runs for n in t} - {"main"})
        medians = [(n, statistics.median(t.get(n, 0) for t in runs)) for n in others]
        print(f"  {rt:4} {layer:10} main {main:6.1f} = {main / main_bare:.2f}x bare"
              f"{old_ratio(mains, rt, layer, main)} | " + "  ".join(
            f"{n} {m:.1f}" for n, m in medians if m >= 0.5))
if phases:
    print("the main thread CPU ms by its own clock (exact), medians, x bare: until the first")
    print("datagram was in hand (libc or the socket opened, the request sent, the first read), then the rest")
    both = {k: [p["setup"] + p["rest"] for p in v] for k, v in phases.items()}
    for rt in ("deno", "bun"):
        if (rt, "bare") not in phases:
            continue
        base = {k: statistics.median(p[k] for p in phases[(rt, "bare")]) for k in ("setup", "rest")}
        for layer in [l for l in names if (rt, l) in phases]:
            med = {k: statistics.median(p[k] for p in phases[(rt, layer)]) for k in ("setup", "rest")}
            setup, rest, base_rest = med["setup"], med["rest"], base["rest"]
            print(f"  {rt:4} {layer:10} setup {setup:6.1f} | rest {rest:6.1f} = "
                  f"{rest / base_rest:.2f}x | both {setup + rest:6.1f} = "
                  f"{(setup + rest) / sum(base.values()):.2f}x"
                  f"{old_ratio(both, rt, layer, setup + rest)}")
if any(t for runs in then.values() for t in runs):
    for title, table in (
        ("the same process dumping again, wall ms by repetition (2nd, 3rd...), medians, x bare:",
         then),
        ("and the main thread CPU ms of those dumps, medians, x bare:", then_main),
    ):
        print(title)
        for rt in ("deno", "bun"):
            base = [statistics.median(col) for col in zip(*table[(rt, "bare")])]
            for layer in [l for l in names if (rt, l) in table]:
                cols = [statistics.median(col) for col in zip(*table[(rt, layer)])]
                print(f"  {rt:4} {layer:10} " + "  ".join(
                    f"{v:6.1f} = {v / b:.2f}x" for v, b in zip(cols, base)))
'
