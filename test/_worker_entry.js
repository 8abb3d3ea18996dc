// The entry of the tests' Workers (test/_worker.ts): imports the module the Worker is named
// after, through an import Deno's module graph cannot see. Deno type-checks the static graph of
// every Worker as it starts under `deno test`, and with node_modules managed by hand (this
// project's package.json) it caches no check: 2-5 s per Worker. scripts/check.sh has checked
// those modules; the tests only run them.
await import(new URL(globalThis.name, import.meta.url).href);
