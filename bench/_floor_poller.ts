// bench/events_signal_floor.ts's poller Worker (NL_FLOOR_WAIT=atomics or message, Deno): blocks
// in a synchronous poll(2) on the socket, then tells the main thread (state[0] = 1 and
// Atomics.notify, or postMessage) and waits until the main thread has drained it.
// deno-lint-ignore-file no-explicit-any

const libc = (globalThis as any).Deno.dlopen(
  "libc.so.6",
  {
    poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  } as const,
).symbols;
const pollfd = new Uint8Array(new ArrayBuffer(8));
const scope = self as unknown as {
  onmessage: (e: MessageEvent) => void;
  postMessage(message: unknown): void;
};
let notify!: () => void;
scope.onmessage = (e: MessageEvent) => {
  if (e.data !== 0) {
    const { fd, state, mode } = e.data;
    new DataView(pollfd.buffer).setInt32(0, fd, true);
    new DataView(pollfd.buffer).setInt16(4, 1, true); // POLLIN
    if (mode === "atomics") {
      for (;;) {
        libc.poll(pollfd, 1n, -1);
        Atomics.store(state, 0, 1);
        Atomics.notify(state, 0);
        Atomics.wait(state, 0, 1);
      }
    }
    notify = () => scope.postMessage(1);
  }
  libc.poll(pollfd, 1n, -1);
  notify();
};
