# Sourced first by every bench/*.sh script (`. "$(dirname "$0")/_prologue.sh"`): strict mode, the
# checkout's root as the working directory, and its node_modules/.bin (deno, bun) first in PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$PWD/node_modules/.bin:$PATH"

# The peer harness the event benchmarks run against: sets `peers` to $PEERS, or to
# ../shared/peers beside the main checkout (found through git from a worktree).
peer_harness() {
  local main
  main=$(dirname "$(cd "$(git rev-parse --git-common-dir)" && pwd)")
  peers=$(cd "${PEERS:-$main/../shared/peers}" && pwd)
}

# The harness's C toggler and C subscriber (the reference), built into $PEERBENCH/bin.
build_peer_tools() {
  mkdir -p "$PEERBENCH/bin"
  gcc -O2 -o "$PEERBENCH/bin/ev-toggle" "$peers/c/ev_toggle.c"
  gcc -O2 -o "$PEERBENCH/bin/ev-sub-c" "$peers/c/ev_sub.c"
}
