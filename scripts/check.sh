#!/usr/bin/env bash
# Static checks: formatting, lint, types, docs, and that the package would publish.
# Prints one "check NAME: ok|FAILED" line each; exits non-zero if any failed.
set -u
cd "$(dirname "$0")/.."
PATH="$PWD/node_modules/.bin:$PATH"
failed=0
check() {
  local name=$1
  shift
  if out=$("$@" 2>&1); then
    echo "check $name: ok"
  else
    echo "check $name: FAILED"
    echo "$out" | tail -40
    failed=$((failed + 1))
  fi
}
check dprint dprint check
check lint deno lint
check types deno check mod.ts src/ ffi/ test/ examples/ scripts/ bench/
check doc deno doc --lint mod.ts src/testing/mod.ts src/uevent.ts src/connector.ts src/diag/mod.ts src/format.ts src/ynl/mod.ts
# Code blocks in the YNL docs and JSDoc are type-checked (those needing root or a network only
# that); those that need neither also run.
check snippets deno check --doc-only src/ynl/ src/ynl/README.md kernel-module/nltest_ynl.ts
check snippets-run deno test --doc --allow-ffi --allow-read src/ynl/_descriptor.ts
# --allow-dirty: CI checks out a clean tree, developers run this before committing.
check publish deno publish --dry-run --allow-dirty
exit $((failed > 0))
