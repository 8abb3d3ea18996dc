// A test file's teardown that runs whichever of its tests a filter (`deno test --filter`,
// `bun test -t`) leaves to run.

import { after } from "node:test";

/**
 * Runs `teardown` once, after the file's tests. node:test's after() alone is not enough: Deno
 * runs it once the file's last test has run, so never when a filter skips that test (what a
 * before() made would be left behind: a namespace, say). Deno fires the module's "unload" event
 * once the file is done, whatever ran; Bun runs after() after the tests that ran.
 */
export function afterFile(teardown: () => void): void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    teardown();
  };
  after(once);
  globalThis.addEventListener?.("unload", once);
}
