#!/bin/sh
# Guest side of test/vm/test: the guest test suite under Deno, then Bun, in one
# boot. Each runner is framed by marker lines that test/vm/test parses from the
# console. Type-checking happened on the host (18 s under TCG vs 1 s native).
export NO_COLOR=1 # plain summary lines to parse
echo "@@suite deno begin"
deno test -A --no-check test/guest/ 2>&1
echo "@@suite deno rc=$?"
echo "@@suite bun begin"
bun test --timeout 60000 ./test/guest/ 2>&1 # ./ = a path, not a name filter
echo "@@suite bun rc=$?"
