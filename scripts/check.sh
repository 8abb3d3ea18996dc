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
# Every entry point of deno.json's "exports".
exports=$(deno eval \
  'console.log(Object.values(JSON.parse(Deno.readTextFileSync("deno.json")).exports).join(" "))')
# A consumer's own type-check covers the library's files under the consumer's config: one without
# "strict" (no strictNullChecks, where `x !== null` narrows nothing) must find no error in them.
check types-nonstrict deno check --config scripts/nonstrict.json $exports
# The entry points as JSR documents them (together: a type one entry takes from another, such as
# the route layer's NetlinkSocket, is public there).
check doc deno doc --lint $exports
# Every code block in the READMEs and the JSDoc is type-checked ("ts ignore" is not used). Those
# that need neither root nor a network also run: the files listed for snippets-run, whose blocks
# all run without any permission (so a block that starts needing the kernel fails here rather
# than touching the host); the others are run by the tests that name them (test/route/docs_test.ts,
# test/wire/testing_readme_test.ts).
check snippets deno check --doc-only mod.ts src/ ffi/ kernel-module/nltest_ynl.ts README.md \
  src/route/README.md src/ynl/README.md src/testing/README.md
check snippets-run deno test --doc src/ack.ts src/attribute.ts src/constants.ts src/cursor.ts \
  src/errors.ts src/format.ts src/ip.ts src/message.ts src/policy.ts src/_filter.ts \
  src/diag/bytecode.ts src/diag/states.ts src/diag/_constants.ts src/diag/_meminfo.ts \
  src/diag/_names.ts src/diag/_query.ts src/route/tc_filter.ts src/route/tc_handle.ts \
  src/route/tc_qdisc.ts src/route/tc_units.ts src/route/_context.ts src/testing/fake_kernel.ts \
  src/testing/mod.ts
check snippets-run-ynl deno test --doc --allow-ffi --allow-read src/ynl/_descriptor.ts
# --allow-dirty: CI checks out a clean tree, developers run this before committing.
check publish deno publish --dry-run --allow-dirty
exit $((failed > 0))
