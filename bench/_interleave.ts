// Shared by the route-dump benchmark bodies: runs each way of listing the same routes once to
// warm up, then ITERATIONS rounds of all of them interleaved (so drift in the machine's load
// hits each alike), checks they all saw the same number of routes, and prints one JSON line:
// { runtime, routes, ms: { WAY: { median, min } } }.

/** A way of listing the routes: resolves with how many it saw. */
export type Way = () => Promise<number>;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Times `ways` interleaved for `iterations` rounds and prints the JSON line. */
export async function interleave(ways: Record<string, Way>, iterations: number): Promise<void> {
  const times: Record<string, number[]> = Object.fromEntries(
    Object.keys(ways).map((name) => [name, []]),
  );
  let routes = 0;
  for (const way of Object.values(ways)) await way(); // warm-up: JIT and the kernel's caches
  for (let i = 0; i < iterations; i++) {
    for (const [name, way] of Object.entries(ways)) {
      const t0 = performance.now();
      const count = await way();
      times[name].push(performance.now() - t0);
      if (routes !== 0 && count !== routes) {
        throw new Error(`${name} saw ${count} routes, not ${routes}`);
      }
      routes = count;
    }
  }
  console.log(JSON.stringify({
    runtime: "Deno" in globalThis ? "deno" : "bun",
    routes,
    ms: Object.fromEntries(
      Object.entries(times).map((
        [name, xs],
      ) => [name, { median: median(xs), min: Math.min(...xs) }]),
    ),
  }));
}
