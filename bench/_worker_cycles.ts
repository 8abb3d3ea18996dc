// The Worker of bench/worker_cycles.ts: after one cycle (the waiting machinery's start), CYCLES
// cycles of open / wait for one datagram / close, one socket per cycle, with a sender socket
// that stays open and never waits. Posts { first, per } (ms, us).
const scope = globalThis as unknown as {
  postMessage(message: unknown): void;
  onmessage: ((event: { data: { lib: string; cycles: number } }) => void) | null;
};

scope.onmessage = async ({ data: { lib, cycles } }) => {
  const { openTransport } = await import(new URL("ffi/mod.ts", lib).href);
  const a = openTransport(0, { portid: 0 });
  const cycle = async () => {
    const b = openTransport(0, { portid: 0 });
    const pending = b.wait();
    a.send(new Uint8Array(16), b.portid, 0);
    if (await pending !== "readable" || b.receive() === undefined) throw new Error("no datagram");
    b.close();
  };
  let start = performance.now();
  await cycle();
  const first = performance.now() - start;
  start = performance.now();
  for (let i = 0; i < cycles; i++) await cycle();
  const per = (performance.now() - start) / cycles * 1000;
  a.close();
  scope.postMessage({ first, per });
};
// Once loaded: Bun can drop messages posted to a Worker before that (oven-sh/bun#40141).
setTimeout(() => scope.postMessage("ready"), 0);
