/**
 * The iterator behind `dump()`: sends the request when iteration starts (once the socket's dump
 * slot is free: the kernel runs one dump per socket), yields each part as it arrives, pauses
 * reading while its consumer lags, and on an early exit leaves the rest of the dump to be read
 * and discarded.
 *
 * @module
 */

import { whenCollected } from "./_collected.ts";
import { NLM_F_DUMP, NLM_F_REQUEST, NLMSG_ALIGNTO, NLMSG_HDRLEN } from "./_constants.ts";
import { HOST_LITTLE_ENDIAN } from "./_endian.ts";
import { Fifo } from "./_fifo.ts";
import { type Disarm, DISARMED } from "./_guard.ts";
import type { Matcher, Pending } from "./_matcher.ts";
import { endsAtPlainReply } from "./_request.ts";
import { orderedSteps } from "./_steps.ts";
import { sharedWords } from "./_view.ts";
import { MessageCursor } from "./cursor.ts";
import { DumpInterruptedError } from "./errors.ts";
import { alignMessage, type ReceivedMessage } from "./message.ts";

/**
 * Reading for a dump pauses while this many of its parts wait for its consumer, and resumes once
 * the consumer has taken them all: dumps never lose data (the kernel fills a dump only as it is
 * read), and reading a datagram only when its parts are wanted keeps the parts alive at once
 * few (a read-ahead of thousands made a one-shot dump spend a third of its time collecting
 * garbage). Datagrams hold up to 32 KiB of parts, so this is one datagram of most dumps.
 */
export const DUMP_READ_AHEAD = 256;

/** What a dump needs from its socket. */
export interface DumpHost {
  readonly matcher: Matcher;
  /** Throws if the socket cannot be used. */
  checkOpen(): void;
  /** Demand changed. */
  kick(): void;
  /**
   * Reads one datagram now and dispatches it (its parts of this dump are queued here as any
   * read's are); false when none was read (none queued, or the read loop must do it).
   */
  readNow(): boolean;
  /**
   * The request, encoded once (its flags and sequence number are each iteration's: see
   * {@linkcode stamped}).
   */
  readonly request: Uint8Array;
  /**
   * Sends a request's bytes to `to`; throws on failure. `read`: and reads its first answers, as
   * a request's send does; otherwise the caller reads them ({@linkcode readNow}).
   */
  sendRequest(bytes: Uint8Array, to: number, read: boolean): void;
  /**
   * Arms the timeout, the abort signal and the socket's close (each calls
   * `fail` with why); returns the function that disarms them, which may be called more than once.
   */
  guard(fail: (error: unknown) => void): Disarm;
  /** The signal, checked before anything is sent. */
  readonly signal?: AbortSignal;
  /** The extra flags the message asked for. */
  readonly flags: number;
  /** Where the request goes (0: the kernel). */
  readonly to: number;
}

/**
 * A copy of the encoded request `bytes` with these flags and sequence number in its header, in
 * host order: a dump checks its message by encoding it, and each iteration sends that encoding
 * with its own sequence number rather than encoding the message again (a cold Bun process ran
 * the encoder's spread and checks a second time before its first datagram). A copy each time: a
 * transport may keep what it was given to send. Netlink headers are in host byte order, as typed
 * arrays are.
 */
function stamped(bytes: Uint8Array, flags: number, seq: number): Uint8Array {
  const copy = bytes.slice();
  // Views in host order over the copy's own buffer (from offset 0: the fields are aligned).
  new Uint16Array(copy.buffer, 6, 1)[0] = flags;
  new Uint32Array(copy.buffer, 8, 1)[0] = seq;
  return copy;
}

interface Consumer {
  resolve(result: IteratorResult<ReceivedMessage | Run>): void;
  reject(error: unknown): void;
  /** It takes a run at a time ({@linkcode nextRun}), not a part. */
  readonly runs: boolean;
}

/**
 * Parts queued together, from one datagram: `messages[start, end)` as the socket decoded them,
 * or, when `messages` is undefined, the `count` messages of `data[start, end)`, every one a data
 * part of the dump (whole netlink messages, headers included, walked as NLMSG_NEXT does, each
 * header whole and 4-byte aligned in its buffer: Matcher.claimDatagram checked them).
 */
export interface Run {
  readonly messages: readonly ReceivedMessage[] | undefined;
  readonly data: Uint8Array | undefined;
  readonly start: number;
  readonly end: number;
  readonly count: number;
}

const NO_PARTS: readonly ReceivedMessage[] = [];

/**
 * The message whose header is at byte `offset` of `data`, a run of bytes' datagram whose
 * buffer's words are `words`, as decodeDatagram makes it (the same fields in the same order, so
 * the same shape), from `sender` (group 0, no nsid: a dump's unicast part). Built where the part
 * is taken, not for a whole datagram at once: no array of a datagram's messages, and no walk of
 * them to claim them (a one-shot dump of 100,000 routes made both for each of its parts).
 */
function partAt(
  data: Uint8Array,
  words: Uint32Array,
  offset: number,
  sender: number,
): ReceivedMessage {
  const at = data.byteOffset + offset;
  const i = at >> 2;
  const length = words[i];
  // nlmsg_type and nlmsg_flags, two u16 in a row, read as one u32 in host order.
  const typeAndFlags = words[i + 1];
  const le = HOST_LITTLE_ENDIAN;
  return {
    type: le ? typeAndFlags & 0xffff : typeAndFlags >>> 16,
    flags: le ? typeAndFlags >>> 16 : typeAndFlags & 0xffff,
    seq: words[i + 2],
    portid: words[i + 3],
    // subarray(), as decodeDatagram makes all but a datagram's first: fewer instructions per
    // part on Bun than a view made with the constructor (a 100,000-route dump: 824 against 847
    // million for the whole process under callgrind, its JIT on the main thread).
    payload: data.subarray(offset + NLMSG_HDRLEN, offset + length),
    sender,
    group: 0,
    nsid: undefined,
  };
}

/**
 * `(part.payload.byteLength + PADDED) & ALIGN_MASK` is the length on the wire of a message partAt
 * made (header, payload, padding): where the next part starts, without a call that reads the
 * header again (a dump's parts are taken 100,000 at a time, many before the code is optimized,
 * where each call costs).
 */
const PADDED = NLMSG_HDRLEN + NLMSG_ALIGNTO - 1;
/** See {@linkcode PADDED}. */
const ALIGN_MASK = ~(NLMSG_ALIGNTO - 1);

/**
 * The most datagrams a step reads at once for its next parts ({@linkcode DumpHost.readNow}):
 * other traffic on the socket (multicast) may come before them, and a flood of it is left to
 * the read loop, which lets the event loop run.
 */
const READ_NOW_MOST = 16;

/**
 * The dump iterator's step for a consumer that takes the parts a run at a time (what one
 * datagram held, or what is left of it): one promise per datagram rather than per part. The
 * datagrams whose messages are all data parts come as bytes (no ReceivedMessage per part: the
 * typed `dump()` decodes them where they are). Such a consumer never calls `next()`. Internal:
 * not part of the socket's API.
 */
export const nextRun: unique symbol = Symbol("nextRun");

/**
 * The dump iterator's `nextRun(true)` that hands over a run there is now (one queued, or read
 * now, as nextRun reads: what the kernel has queued) as it is, not in a promise: a cursor()
 * step then resolves at once, not through nextRun's promise and a reaction on it (one promise
 * a datagram rather than three). Once the dump has ended and every part was taken, its end at
 * once too: undefined, or its error as a rejected promise. Otherwise nextRun's promise.
 */
export const runNow: unique symbol = Symbol("runNow");

/**
 * The dump iterator's flag that says it was cut short (left early, aborted, timed out, or the
 * socket closed): what is left of a run already taken must not be handed out either.
 */
export const cutShort: unique symbol = Symbol("cutShort");

/**
 * A dump's iterator, with {@linkcode nextRun}; AsyncDisposable: `await using` ends it with its
 * scope as `return()` does.
 */
export interface DumpIterator extends AsyncIterableIterator<ReceivedMessage>, AsyncDisposable {
  /** See {@linkcode nextRun}. */
  [nextRun](): Promise<IteratorResult<Run, undefined>>;
  /** See {@linkcode runNow}. */
  [runNow](): Run | undefined | Promise<IteratorResult<Run, undefined>>;
  /** See {@linkcode cutShort}: `value` turns true then. */
  readonly [cutShort]: { value: boolean };
  return(): Promise<IteratorResult<ReceivedMessage, undefined>>;
}

/** One iteration of a dump. */
export function dumpIterator(host: DumpHost): DumpIterator {
  const { matcher } = host;
  // The queued parts: the run being taken, then the run of bytes `head`, then the runs after it
  // (a datagram's parts are queued as one run, in the array they were decoded into or as its
  // bytes, and taken from it in place). The run being taken: current[at, end), or, while `bytes`
  // is set, the `left` parts of bytes[at, end) (byte offsets; `words` its buffer's words), each
  // made a message as it is taken (partAt).
  let current = NO_PARTS;
  let bytes: Uint8Array | undefined;
  let words: Uint32Array | undefined;
  let left = 0;
  let at = 0;
  let end = 0;
  /**
   * A run of bytes queued while nothing else was: a dump whose steps read their datagrams
   * themselves (cursor()) queues each here, and takes it back, without the queue's calls (the
   * queue's code is made at its first call on Bun, and a one-shot dump then never runs it).
   */
  let head: Run | undefined;
  const runs = new Fifo<Run>();
  let queued = 0;
  let consumer: Consumer | undefined;
  let outcome: { error?: unknown } | undefined;
  let pending: Pending | undefined;
  let sent = false;
  let disarm: Disarm = DISARMED;
  let withdraw = () => {};
  /** Cancels the release at collection (below) once the iteration has ended. */
  let forget = () => {};
  const cut = { value: false };
  /** The iterator was garbage-collected while a step was pending: that step is its last. */
  let orphaned = false;
  /** Makes the next queued run the one being taken, once the last one was taken. */
  const shiftRun = () => {
    let run = head;
    if (run === undefined) run = runs.shift()!;
    else head = undefined;
    at = run.start;
    end = run.end;
    bytes = run.data;
    if (bytes === undefined) current = run.messages!;
    else {
      current = NO_PARTS;
      words = sharedWords(bytes.buffer);
      left = run.count;
    }
  };
  /** The oldest queued part; only while `queued` > 0. */
  const take = (): ReceivedMessage => {
    if (at === end) shiftRun();
    queued--;
    if (bytes === undefined) return current[at++];
    const part = partAt(bytes, words!, at, host.to);
    at += (part.payload.byteLength + PADDED) & ALIGN_MASK;
    left--;
    return part;
  };
  /** The oldest queued run, or what is left of it; only while `queued` > 0. */
  const takeRun = (): Run => {
    if (at === end) {
      if (head !== undefined) {
        const run = head;
        head = undefined;
        queued -= run.count;
        return run;
      }
      if (runs.first!.messages === undefined) {
        const run = runs.shift()!;
        queued -= run.count;
        return run;
      }
      shiftRun();
    }
    // What is left of the run being taken.
    const run: Run = bytes === undefined
      ? { messages: current, data: undefined, start: at, end, count: end - at }
      : { messages: undefined, data: bytes, start: at, end, count: left };
    queued -= run.count;
    at = end;
    left = 0;
    return run;
  };
  const clear = () => {
    current = NO_PARTS;
    bytes = words = undefined;
    at =
      end =
      queued =
      left =
        0;
    head = undefined;
    runs.clear();
  };
  const settle = () => {
    if (!consumer) return;
    const c = consumer;
    if (queued > 0) {
      consumer = undefined;
      disarm.hold(false);
      c.resolve({ value: c.runs ? takeRun() : take(), done: false });
      if (orphaned) stop(); // its owner awaits this step, and can ask for no other
    } else if (outcome) {
      consumer = undefined;
      const error = deliverOutcome();
      if (error !== undefined) c.reject(error);
      else c.resolve({ value: undefined, done: true });
    }
  };
  /** The iteration ends with its outcome (every part taken): returns the error to throw, if any. */
  const deliverOutcome = (): unknown => {
    const { error } = outcome!;
    outcome = {}; // an error is thrown once; then the iterator is done
    // Delivered: from here on, an abort, a timeout or a close has nothing left to stop.
    release();
    return error;
  };
  /**
   * A step waits for the next part: the timeout's timer holds the process until it is answered
   * (a read for it holds it too, but a dump the kernel never answers, or a transport whose waits
   * do not, would otherwise end the process before the timeout says so).
   */
  const wait = (c: Consumer) => {
    consumer = c;
    disarm.hold(true);
    settle();
  };
  /** Disarms the timeout, the signal and the close, once the consumer needs them no more. */
  const release = () => {
    disarm();
    disarm = DISARMED;
    forget();
  };
  /**
   * Ends the dump early (break, timeout, abort, close), also once all of it was read but not
   * yet taken: what is queued is dropped, what still comes for it is discarded.
   */
  const abandon = (error?: unknown) => {
    cut.value = true;
    release();
    withdraw();
    if (pending) {
      // Sent: its answer is owed, and the kernel's dump runs until read to its end (both do
      // nothing once the dump has ended).
      if (sent) matcher.abandon(pending);
      else matcher.remove(pending);
    }
    clear();
    // An error the dump ended with came first: the next step throws it (the parts are dropped).
    if (outcome?.error === undefined) outcome = { error };
    settle();
    host.kick();
  };
  const start = () => {
    host.checkOpen();
    host.signal?.throwIfAborted();
    const seq = matcher.nextSeq();
    const encoded = stamped(host.request, host.flags | NLM_F_REQUEST | NLM_F_DUMP, seq);
    disarm = host.guard(abandon);
    // The timer holds the process only while a step waits (see wait()): an iterator stepped by
    // hand and dropped mid-dump does not keep the process alive until its timeout.
    disarm.hold(false);
    const self: Pending = {
      seq,
      from: host.to,
      dump: true,
      endsAtDone: true,
      // The kernel may run it as a plain request: its one reply is then the whole dump.
      endsAtPlainReply: endsAtPlainReply(host.to, host.flags),
      echo: false,
      interrupted: false,
      // Dumps never lose data (the kernel fills them only when read), so a lagging consumer
      // pauses reading rather than buffering the whole dump.
      paused: () => queued >= DUMP_READ_AHEAD,
      push: (msg) => self.pushRun!([msg], 0, 1),
      pushRun: (messages, start, stop) => {
        if (queued === 0) {
          current = messages;
          bytes = undefined;
          at = start;
          end = stop;
        } else {
          runs.push({ messages, data: undefined, start, end: stop, count: stop - start });
        }
        queued += stop - start;
        settle();
      },
      pushDatagram: (data, count, end) => {
        const run: Run = { messages: undefined, data, start: 0, end, count };
        if (queued === 0) head = run;
        else runs.push(run);
        queued += count;
        settle();
      },
      failNow: (error) => {
        cut.value = true;
        clear();
        self.finish(error);
      },
      finish: (error) => {
        if (!matcher.remove(self)) return;
        withdraw();
        // The timeout, the signal and a close stay armed until the consumer has taken every
        // part (settle() disarms them): until then they still cut the dump short.
        outcome = {
          error: error ?? (self.interrupted ? new DumpInterruptedError([]) : undefined),
        };
        settle();
        host.kick();
      },
    };
    pending = self;
    matcher.add(self);
    /** Sent from start() itself: the step reads its first parts (demand), not the send. */
    let now = true;
    const send = () => {
      if (host.to === 0) matcher.takeDumpSlot(seq);
      sent = true;
      try {
        host.sendRequest(encoded, host.to, !now);
      } catch (err) {
        sent = false;
        self.finish(err);
        matcher.releaseDumpSlot(seq);
      }
    };
    // The kernel runs one dump per socket: a second one would fail with EBUSY.
    if (host.to === 0) withdraw = matcher.whenDumpSlotFree({ start: send });
    else send();
    now = false;
    // Queued behind the running dump, which must be read to its end (or failed to send: the
    // read loop has nothing to read for it).
    if (!sent) host.kick();
  };
  /** Starts the dump on the first step; asks for more once every part read was taken. */
  const demand = (): Promise<never> | undefined => {
    if (!pending && !outcome) {
      try {
        start();
      } catch (err) {
        outcome = {};
        return Promise.reject(err);
      }
      // Sent: its first part is queued (the kernel made it inside the send), and read below,
      // as each step reads its next: a one-shot dump's first step runs none of the read loop's
      // code (some 1.5 KB of bytecode, which JavaScriptCore makes at a function's first call).
      if (!sent) return undefined;
    }
    // The timeout bounds the whole dump: its timer cannot run while the kernel keeps answering,
    // each read without a turn of the event loop between (Disarm.check). No call without one.
    if (!outcome && disarm !== DISARMED) disarm.check();
    if (!outcome) {
      // Every part read was taken: what the kernel has queued (the next part of the dump, filled
      // as the last was read) is read now, a datagram at a time until one brings parts; else
      // reading resumes the ordinary way.
      for (let reads = 0; queued === 0 && outcome === undefined && reads < READ_NOW_MOST; reads++) {
        if (!host.readNow()) break;
      }
      if (queued === 0 && outcome === undefined) host.kick();
    }
    return undefined;
  };
  /** nextRun(); `demanded`: demand() ran already, and found nothing to read. */
  const runStep = (demanded: boolean): Promise<IteratorResult<Run, undefined>> => {
    if (queued === 0 && !demanded) {
      const failed = demand();
      if (failed) return failed;
    }
    if (queued > 0) return Promise.resolve({ value: takeRun(), done: false });
    return new Promise((resolve, reject) => {
      wait({ resolve: resolve as Consumer["resolve"], reject, runs: true });
    });
  };
  const steps = orderedSteps((): Promise<IteratorResult<ReceivedMessage>> => {
    if (queued > 0) return Promise.resolve({ value: take(), done: false });
    const failed = demand();
    if (failed) return failed;
    if (queued > 0) return Promise.resolve({ value: take(), done: false });
    return steps.waiting(
      new Promise((resolve, reject) => {
        wait({ resolve: resolve as Consumer["resolve"], reject, runs: false });
      }),
    );
  });
  /** Ends the iteration: abandons the dump if it is still running; a pending step ends too. */
  const stop = () => {
    const waiting = consumer;
    consumer = undefined;
    if (outcome === undefined || (pending && matcher.has(pending))) abandon();
    release();
    clear();
    outcome = {};
    waiting?.resolve({ value: undefined, done: true });
  };
  // No closure here may capture `iterator` (they share this scope with the release below).
  const iterator: DumpIterator = {
    next: steps.next,
    [cutShort]: cut,
    [nextRun]: () => runStep(false),
    [runNow]: (): Run | undefined | Promise<IteratorResult<Run, undefined>> => {
      // Unless a step waits before this one. The first starts the dump.
      if (consumer !== undefined) return runStep(false);
      if (queued === 0) {
        const failed = demand(); // reads; it fails only at the start
        if (failed) return failed;
      }
      if (queued > 0) return takeRun();
      if (outcome === undefined) return runStep(true);
      const error = deliverOutcome();
      return error === undefined ? undefined : Promise.reject(error);
    },
    return: () => {
      stop();
      return Promise.resolve({ value: undefined, done: true });
    },
    // `this`, not `iterator` (see above).
    [Symbol.asyncIterator]() {
      return this;
    },
    // `await using`: ends the dump as the scope ends, as return() does.
    [Symbol.asyncDispose]() {
      stop();
      return Promise.resolve();
    },
  };
  // Left without return(): once collected, the iteration ends as return() would end it. Until
  // then a dump still running holds the socket's dump slot (and the kernel a reference on the
  // module that serves it), its parts gather for nobody, and one read to its end keeps its timer
  // and abort listener armed for the parts not yet taken.
  forget = whenCollected(iterator, () => {
    if (consumer === undefined) stop();
    else orphaned = true;
  });
  return iterator;
}

/**
 * Runs the dump of `iterator` to its end, calling `handler` with each part in order, a run (what
 * one datagram held) per promise rather than a part per promise; a promise `handler` returns is
 * awaited before the next part. A throw or a rejection abandons the dump (its remaining parts
 * are read and discarded) and is rethrown. `sender`: where the dump was sent, whose parts these
 * are.
 */
export async function forEachPart(
  iterator: DumpIterator,
  handler: (message: ReceivedMessage) => unknown,
  sender: number,
): Promise<void> {
  let finished = false;
  const cut = iterator[cutShort];
  try {
    for (;;) {
      const step = await iterator[nextRun]();
      if (step.done) {
        finished = true;
        return;
      }
      const { messages, data, start, end } = step.value;
      // Cut short (an abort, a timeout, a close) while the handler ran: the next step throws why.
      if (messages !== undefined) {
        for (let i = start; i < end && !cut.value; i++) {
          const result = handler(messages[i]);
          // A thenable of any kind (not only this realm's Promise) is awaited.
          if (typeof (result as PromiseLike<unknown> | undefined)?.then === "function") {
            await result;
          }
        }
        continue;
      }
      // A run of bytes: each part made a message as its turn comes (partAt).
      const words = sharedWords(data!.buffer);
      for (let offset = start; offset < end && !cut.value;) {
        const part = partAt(data!, words, offset, sender);
        offset += (part.payload.byteLength + PADDED) & ALIGN_MASK;
        const result = handler(part);
        if (typeof (result as PromiseLike<unknown> | undefined)?.then === "function") await result;
      }
    }
  } finally {
    // Left early (a throw, a rejection): abandon the dump. An error from the dump itself has
    // ended it already.
    if (!finished) await iterator.return();
  }
}

const NOTHING = new Uint8Array(0);

/**
 * The steps of `dump().cursor()`: one per run (what one datagram held of the dump), each showing
 * the run's parts through one shared MessageCursor, where they are. A run of decoded messages (a
 * datagram that held something else too: its NLMSG_DONE, most often) is walked over the bytes its
 * parts were decoded from, a step for each stretch of them that lies there unbroken. Asking for a
 * step empties the cursor first; it stays empty once the iteration has ended.
 */
export function cursorParts(
  iterator: DumpIterator,
  recycle: (data: Uint8Array) => void,
): AsyncIterableIterator<MessageCursor> & AsyncDisposable {
  const cursor = new MessageCursor();
  const result: IteratorResult<MessageCursor> = { value: cursor, done: false };
  const finished: IteratorResult<MessageCursor, undefined> = { value: undefined, done: true };
  /** What is left of a run of decoded messages: messages[at, end). */
  let messages: readonly ReceivedMessage[] | undefined;
  let at = 0;
  let end = 0;
  /** The datagram a run of bytes came in, while the cursor shows it: no one else holds it. */
  let shown: Uint8Array | undefined;
  let ended = false;
  /** Empties the cursor; the datagram it showed may take the next one's copy (Transport.recycle). */
  const clear = (): void => {
    cursor.reset(NOTHING);
    if (shown !== undefined) {
      recycle(shown);
      shown = undefined;
    }
  };
  const finish = (): void => {
    ended = true;
    messages = undefined;
    clear();
  };
  /**
   * Shows the next parts of the run of messages, as many as lie one after another: a part's
   * payload is a view of the bytes it was decoded from, right after its header (decodeDatagram).
   */
  const showMessages = (): void => {
    const list = messages!;
    const first = list[at].payload;
    const buffer = first.buffer;
    const start = first.byteOffset - NLMSG_HDRLEN;
    let stop = first.byteOffset + first.byteLength;
    let i = at + 1;
    for (; i < end; i++) {
      const p = list[i].payload;
      if (
        p.buffer !== buffer || p.byteOffset !== start + alignMessage(stop - start) + NLMSG_HDRLEN
      ) {
        break;
      }
      stop = p.byteOffset + p.byteLength;
    }
    at = i;
    cursor.reset(new Uint8Array(buffer, start, stop - start));
  };
  /** Shows `run` (the first stretch of it, for a run of messages). */
  const show = (run: Run): IteratorResult<MessageCursor> => {
    if (run.messages === undefined) {
      const data = shown = run.data!;
      // The datagram itself when the run is all of it (all but a dump's last): each way of making
      // a view costs microseconds on a cold path (ffi/README.md).
      cursor.reset(
        run.start === 0 && run.end === data.byteLength ? data : data.subarray(run.start, run.end),
      );
    } else {
      messages = run.messages;
      at = run.start;
      end = run.end;
      showMessages();
    }
    return result;
  };
  const cut = iterator[cutShort];
  const steps = orderedSteps((): Promise<IteratorResult<MessageCursor>> => {
    // Cut short: what is left of the run is not shown, and the next run says why.
    if (messages !== undefined && at < end && !cut.value) {
      showMessages();
      return Promise.resolve(result);
    }
    messages = undefined;
    clear();
    if (ended) return Promise.resolve(finished);
    const now = iterator[runNow]();
    if (now === undefined) {
      finish();
      return Promise.resolve(finished);
    }
    if (!(now instanceof Promise)) return Promise.resolve(show(now));
    return steps.waiting(
      now.then((step) => {
        if (step.done || ended) {
          finish();
          return finished;
        }
        return show(step.value);
      }, (err) => {
        finish();
        throw err;
      }),
    );
  });
  const leave = async (): Promise<IteratorResult<MessageCursor, undefined>> => {
    finish();
    await iterator.return();
    return finished;
  };
  return {
    next: steps.next,
    return: leave,
    [Symbol.asyncIterator]() {
      return this;
    },
    [Symbol.asyncDispose]: () => leave().then(() => {}),
  };
}
