#!/usr/bin/env bash
# Every test: static checks, unit and network-namespace tests on Deno and on Bun (host kernel,
# needs root), then the kernel-module suite in a QEMU guest on both runtimes. Ends with the
# line "N passed, N failed" (totals over everything); exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
[[ -x node_modules/.bin/deno && -x node_modules/.bin/bun ]] || npm install --no-audit --no-fund
PATH="$PWD/node_modules/.bin:$PATH"
export NO_COLOR=1
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
passed=0 failed=0

# add LABEL PASSED FAILED: a runner that printed no summary counts as one failure, never zero.
add() {
  if [[ -z $2 || -z $3 ]]; then
    echo "$1: no test summary (runner crashed?)"
    failed=$((failed + 1))
  else
    echo "$1: $2 passed, $3 failed"
    passed=$((passed + $2)) failed=$((failed + $3))
  fi
}

echo "== static checks"
bash scripts/check.sh | tee "$log/check"
add checks "$(grep -c ': ok$' "$log/check")" "$(grep -c ': FAILED$' "$log/check")"

# Tools the host tests run that a fresh Debian may lack: strace (the process-events ptrace test),
# ethtool (the CLI's `ethtool` output compared with it), iproute2 (ip, tc, ss, bridge, genl).
missing=()
for tool in strace:strace ethtool:ethtool ip:iproute2 tc:iproute2 ss:iproute2 genl:iproute2; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if ((${#missing[@]})); then
  echo "installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u) >&2
fi

echo "== deno: unit + netns tests"
deno test -A test/unit/ test/host/ test/ynl/ test/diag/ test/route/ test/wire/ test/cli/ 2>&1 | tee "$log/deno"
summary=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$log/deno" | tail -1)
add deno "$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$summary")" \
  "$(sed -nE 's/.*\| ([0-9]+) failed.*/\1/p' <<<"$summary")"

echo "== bun: unit + netns tests"
bun test --timeout 120000 ./test/unit/ ./test/host/ ./test/ynl/ ./test/diag/ ./test/route/ ./test/wire/ ./test/cli/ 2>&1 | tee "$log/bun"
add bun "$(sed -nE 's/^ *([0-9]+) pass$/\1/p' "$log/bun" | tail -1)" \
  "$(sed -nE 's/^ *([0-9]+) fail$/\1/p' "$log/bun" | tail -1)"

echo "== guest: kernel module suite on deno and bun"
test/vm/test 2>&1 | tee "$log/guest"
summary=$(grep -E '^guest: [0-9]+ passed, [0-9]+ failed$' "$log/guest" | tail -1)
add guest "$(sed -nE 's/^guest: ([0-9]+) passed.*/\1/p' <<<"$summary")" \
  "$(sed -nE 's/.* ([0-9]+) failed$/\1/p' <<<"$summary")"

echo "$passed passed, $failed failed"
((failed == 0))
