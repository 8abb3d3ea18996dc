/**
 * Starts the TypeScript module `url` as a module Worker. On Deno, through test/_worker_entry.js,
 * so that Deno does not type-check its module graph again (that file says why); Bun checks no
 * types, and has no `name` inside a Worker, so starts `url` itself.
 */
export function startWorker(url: URL): Worker {
  if ("Bun" in globalThis) return new Worker(url.href, { type: "module" });
  return new Worker(new URL("./_worker_entry.js", import.meta.url).href, {
    type: "module",
    name: url.href,
  });
}
