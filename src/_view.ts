/**
 * One DataView per buffer, shared by every decoder that reads it.
 *
 * @module
 */

/** Only buffers up to this size are remembered, so each cache pins at most two such buffers. */
const MAX_CACHED = 1 << 20;

/**
 * `make(buffer)`, remembered for the last two buffers asked about (held strongly: a WeakRef's
 * deref() cost Deno more than the view it saved). Two, not one: a dump's cursor() empties its
 * cursor (over an empty buffer) between any two of its datagrams, which come in the same memory
 * (Transport.recycle), and with one the empty buffer took the place of that memory at each: a
 * 100,000-route dump made two DataViews and two word arrays per datagram (326 and 328 over 162
 * datagrams, counted), none now.
 */
function lastTwo<T>(make: (buffer: ArrayBufferLike) => T): (buffer: ArrayBufferLike) => T {
  let lastBuffer: ArrayBufferLike | undefined;
  let lastValue: T | undefined;
  let priorBuffer: ArrayBufferLike | undefined;
  let priorValue: T | undefined;
  return (buffer) => {
    if (buffer === lastBuffer) return lastValue!;
    // Swapped one assignment at a time, not `[a, b] = [x, y]`: that builds an array and runs the
    // iterator protocol, which costs on a cold process's first datagrams, where this runs once
    // each.
    let value: T;
    if (buffer === priorBuffer) value = priorValue!;
    else {
      value = make(buffer);
      if (buffer.byteLength > MAX_CACHED) return value;
    }
    priorBuffer = lastBuffer;
    priorValue = lastValue;
    lastBuffer = buffer;
    lastValue = value;
    return value;
  };
}

/**
 * A DataView over all of `buffer`, reused while decoders keep asking about the same buffer: the
 * messages of a datagram (and small datagrams, which the transport copies into a shared slab) are
 * views into one buffer, and creating a DataView costs more than decoding a small message (a
 * view per message made a large dump about 15% slower).
 */
export const sharedView: (buffer: ArrayBufferLike) => DataView = lastTwo((buffer) =>
  new DataView(buffer)
);

/**
 * The whole 4-byte words of `buffer`, in host order, reused as {@linkcode sharedView} is: for
 * walks of netlink headers (host order, 4-byte aligned), where an element of a typed array is
 * read inline and a DataView's method is a call into the runtime until the code is optimized
 * (JavaScriptCore's lower tiers: a one-shot dump's code never leaves them for long).
 */
export const sharedWords: (buffer: ArrayBufferLike) => Uint32Array = lastTwo((buffer) =>
  new Uint32Array(buffer, 0, buffer.byteLength >> 2)
);
