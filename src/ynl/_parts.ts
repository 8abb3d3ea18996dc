/**
 * A dump's parts, decoded: what `dump()` collects and `dumpStream()` yields. From a socket's own
 * dump they are taken a datagram at a time ({@linkcode nextRun}), and the parts of a datagram that
 * holds nothing else are decoded where they were received: no message object, payload view or
 * dump-iterator step per part, which in a cold 100,000-route dump cost Deno about as much as the
 * typed decoding itself. From any other iterator (a stand-in socket's), part by part.
 *
 * @module
 */

import { NLMSG_ALIGNTO, NLMSG_HDRLEN } from "../_constants.ts";
import { cutShort, type DumpIterator, nextRun, type Run } from "../_dump.ts";
import { HOST_LITTLE_ENDIAN } from "../_endian.ts";
import { orderedSteps } from "../_steps.ts";
import { sharedView } from "../_view.ts";
import type { ReceivedMessage } from "../message.ts";
import type { MessageDecoder } from "./_decode.ts";

type Decoded = Record<string, unknown>;

/**
 * The decoded parts of one dump iteration. What decoding a part throws ends the socket's dump
 * (its remaining parts are read and discarded, as when a loop leaves early) and is thrown as the
 * part's payload alone would throw it.
 */
export interface DecodedParts {
  /** The next part, decoded. */
  next(): Promise<IteratorResult<Decoded, undefined>>;
  /** Every remaining part, decoded, pushed onto `out`: one promise per datagram. */
  collect(out: Decoded[]): Promise<void>;
  /** Ends the socket's dump. */
  return(): Promise<unknown>;
}

/**
 * The parts of `parts` (a socket's dump iteration, not started yet) decoded with `decode`; what
 * the dump or the decoding throws goes through `explain` first (so that a consumer can hand the
 * steps on as they are, without a promise of its own per part).
 */
export function decodedParts(
  parts: AsyncIterator<ReceivedMessage>,
  decode: MessageDecoder,
  explain: (err: unknown) => unknown = (err) => err,
): DecodedParts {
  return nextRun in parts
    ? new RunParts(parts as DumpIterator, decode, explain)
    : new SingleParts(parts, decode, explain);
}

const done: IteratorResult<Decoded, undefined> = { value: undefined, done: true };

/** Ends `parts`, then rejects with `err`. */
function endWith(parts: AsyncIterator<unknown>, err: unknown): Promise<never> {
  return (parts.return?.() ?? Promise.resolve()).then(() => Promise.reject(err));
}

/** A rejection with `explain(err)`. */
const rejecting = (explain: (err: unknown) => unknown) => (err: unknown): Promise<never> =>
  Promise.reject(explain(err));

/** A stand-in's parts, one by one. */
class SingleParts implements DecodedParts {
  readonly #parts: AsyncIterator<ReceivedMessage>;
  readonly #decode: MessageDecoder;
  readonly #explain: (err: unknown) => unknown;
  readonly #reject: (err: unknown) => Promise<never>;

  constructor(
    parts: AsyncIterator<ReceivedMessage>,
    decode: MessageDecoder,
    explain: (err: unknown) => unknown,
  ) {
    this.#parts = parts;
    this.#decode = decode;
    this.#explain = explain;
    this.#reject = rejecting(explain);
  }

  next(): Promise<IteratorResult<Decoded, undefined>> {
    return this.#parts.next().then((part) => {
      if (part.done) return done;
      try {
        return { value: this.#decode(part.value.payload), done: false };
      } catch (err) {
        // A loop does not call return() after next() throws: end the dump here, or its
        // remaining parts would stay pending on the socket.
        return endWith(this.#parts, this.#explain(err));
      }
    }, this.#reject);
  }

  async collect(out: Decoded[]): Promise<void> {
    for (let part = await this.next(); !part.done; part = await this.next()) out.push(part.value);
  }

  return(): Promise<unknown> {
    return this.#parts.return?.() ?? Promise.resolve(done);
  }
}

/** A socket's dump, a datagram at a time. */
class RunParts implements DecodedParts {
  readonly #parts: DumpIterator;
  readonly #decode: MessageDecoder;
  readonly #explain: (err: unknown) => unknown;
  readonly #reject: (err: unknown) => Promise<never>;
  /** The run being decoded: its messages, or its bytes (then #view and #base are theirs). */
  #messages: readonly ReceivedMessage[] | undefined;
  #data: Uint8Array | undefined;
  #view: DataView | undefined;
  #base = 0;
  /** Where its next part is (an index into #messages, or a byte offset into #data), and its end. */
  #at = 0;
  #end = 0;
  readonly #steps: ReturnType<typeof orderedSteps<IteratorResult<Decoded, undefined>>>;

  constructor(parts: DumpIterator, decode: MessageDecoder, explain: (err: unknown) => unknown) {
    this.#parts = parts;
    this.#decode = decode;
    this.#explain = explain;
    this.#reject = rejecting(explain);
    // Steps asked for before an earlier one has settled run after it (the iterator protocol
    // allows such calls): only a step that waits for the socket registers itself.
    const cut = parts[cutShort];
    this.#steps = orderedSteps(() => {
      // Cut short (a close, an abort, a timeout): the rest of the run is dropped, and the next
      // run says why.
      if (this.#at < this.#end && !cut.value) return this.#decodeOne();
      return this.#steps.waiting(
        this.#parts[nextRun]().then((run) => {
          if (run.done) return done;
          this.#load(run.value);
          return this.#decodeOne();
        }, this.#reject),
      );
    });
  }

  next(): Promise<IteratorResult<Decoded, undefined>> {
    return this.#steps.next();
  }

  async collect(out: Decoded[]): Promise<void> {
    for (;;) {
      while (this.#at < this.#end) {
        let value: Decoded;
        try {
          value = this.#take();
        } catch (err) {
          return this.#fail(err);
        }
        out.push(value);
      }
      const run = await this.#parts[nextRun]().catch(this.#reject);
      if (run.done) return;
      this.#load(run.value);
    }
  }

  return(): Promise<unknown> {
    this.#at = this.#end = 0;
    return this.#parts.return();
  }

  #load(run: Run): void {
    this.#messages = run.messages;
    this.#data = run.data;
    if (run.data !== undefined) {
      this.#view = sharedView(run.data.buffer);
      this.#base = run.data.byteOffset;
    }
    this.#at = run.start;
    this.#end = run.end;
  }

  #decodeOne(): Promise<IteratorResult<Decoded, undefined>> {
    try {
      return Promise.resolve({ value: this.#take(), done: false });
    } catch (err) {
      return this.#fail(err);
    }
  }

  /** A part failed to decode: the dump ends (the rest of its run too), then `err` is thrown. */
  #fail(err: unknown): Promise<never> {
    this.#at = this.#end = 0;
    return endWith(this.#parts, this.#explain(err));
  }

  /** Decodes the next part of the run; throws what the part's payload alone throws. */
  #take(): Decoded {
    const messages = this.#messages;
    if (messages !== undefined) return this.#decode(messages[this.#at++].payload);
    const data = this.#data!;
    const at = this.#at;
    const length = this.#view!.getUint32(this.#base + at, HOST_LITTLE_ENDIAN);
    this.#at = at + ((length + NLMSG_ALIGNTO - 1) & ~(NLMSG_ALIGNTO - 1));
    try {
      return this.#decode.decodeAt(data, at + NLMSG_HDRLEN, at + length);
    } catch (err) {
      // The payload's own error: its offsets are the payload's, not the datagram's.
      this.#decode(data.subarray(at + NLMSG_HDRLEN, at + length));
      throw err;
    }
  }
}
