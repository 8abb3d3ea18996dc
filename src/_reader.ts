/**
 * The read loop: drains the transport while something wants data, waits for more only while
 * something waits for it, and never keeps the event loop from running other work.
 *
 * @module
 */

import { methodsOf, perEventClosures, perEventCode } from "./_per_event.ts";
import { SyscallError } from "./errors.ts";
import type { Datagram, DatagramInPlace, Transport, WaitResult } from "./transport.ts";

/**
 * Runs `run` in a later macrotask for a transport without {@linkcode Transport.defer}:
 * `setImmediate` where there is one, else `setTimeout(run, 0)`. Looked up on first use, not at
 * import: on Deno, reading the global `setImmediate` loads the Node compatibility layer (24-47
 * ms, measured), which a script that never needs it should not pay.
 */
export function deferByTimer(run: () => void): void {
  const g = globalThis as { setImmediate?: (run: () => void) => void };
  if (typeof g.setImmediate === "function") g.setImmediate(run);
  else setTimeout(run, 0);
}

/**
 * How long one turn of the read loop may drain the socket before it yields to the event loop
 * (through a wait, which returns at once while data is queued): long enough that a flood of
 * one-message datagrams isn't slowed by a poll round trip every few messages, short enough that
 * timers and other sockets still run.
 */
export const DRAIN_BUDGET_MS = 4;
/** The clock is read once per this many datagrams: reading it costs more than a small datagram. */
export const DRAIN_CLOCK_EVERY = 16;
/**
 * How long answers may settle synchronously (the kernel answers inside sendmsg, the read runs at
 * once and the promise settles as a microtask) before the next answer waits for a macrotask, so
 * that a loop of `await request()` lets timers, I/O and other sockets run. A yield costs some
 * 10-30 us; one per this many ms keeps a request loop within a few percent of its speed.
 */
const SYNC_BUDGET_MS = 2;

/**
 * The current run of answers settled synchronously on this thread: when it began (-1: a
 * macrotask has run since) and the sends since the clock was last read (it is read once per
 * DRAIN_CLOCK_EVERY). Shared by every socket of the thread: a loop that opens a socket for each
 * request (`await using sock = await open(...)`, then `await sock.request(...)`) settles its
 * answers synchronously as one run, and counted per socket that run never ended: no timer ran,
 * and each closed socket stayed in memory until a macrotask ran.
 */
const syncRun = { since: -1, sends: 0 };

/** A macrotask ran: the run of synchronous answers has ended. */
function endSyncRun(): void {
  syncRun.since = -1;
}

/** What the read loop asks of the socket. */
export interface ReaderHost {
  /**
   * What reading is wanted: 2, something waits for data (reading may block in a wait for it,
   * which keeps the process alive); 1, data already queued would be taken (read-ahead, no
   * wait); 0, nothing.
   */
  demand(): 0 | 1 | 2;
  /** Hands over one datagram. */
  dispatch(datagram: Datagram): void;
  /**
   * Whether the next datagram may be read in place ({@linkcode Transport.receiveInPlace}) and
   * handed to {@linkcode dispatchInPlace}, which must be done with it before reading goes on.
   * Undefined while none ever may (the host may set it later): a call per read saved.
   */
  inPlace: (() => boolean) | undefined;
  /**
   * The requests in flight (the matcher), read as a field once per drain. `unrequested`: only
   * streams want data (no request or dump is pending), and what is read may never end (a
   * flood), so reading yields to a macrotask once per turn (see #turnSince). Answers are finite
   * and paced by the kernel: they are read without yielding (a yield costs Deno up to 1.3 ms of
   * idle wall time, measured: 30% of a 100,000-route dump).
   */
  readonly requests: { readonly unrequested: boolean };
  /** Hands over one datagram read in place, valid until the transport's next in-place read. */
  dispatchInPlace(datagram: DatagramInPlace): void;
  /**
   * Messages were lost: ENOBUFS (the kernel dropped messages for this socket), or EMSGSIZE (a
   * datagram too long for the transport's buffer was read and dropped). The socket stays usable.
   */
  overrun(error: SyscallError): void;
  /**
   * The receive queue was read empty: just now (`stale` false), or before what was read and
   * held meanwhile was dispatched (`stale` true, see Reader's deferred reads).
   */
  drained(stale?: boolean): void;
  /**
   * A step that was handed a datagram's messages takes the rest of the drain with them (a
   * batches() run): reading goes on at once after a wait's first datagram (see Reader#drain).
   */
  gathering(): boolean;
  /** Reading failed for good. */
  fail(error: unknown): void;
}

/**
 * The transports a reader reads and waits through: the socket's own, or under a tap point that
 * has no tap, the transport it wraps (see tap.ts's readPath). `reads` may change between reads.
 */
export interface ReadPath {
  /** Read through (receive, receiveInPlace); set to another transport when a tap is attached. */
  reads: Transport;
  /** Waited on (wait, waitThen, cancelWait, defer). */
  readonly waits: Transport;
}

/** Marks, among held datagrams, where the receive queue was read empty. */
const DRAINED = Symbol("drained");

/** Reads a transport for a socket. */
export class Reader {
  readonly #path: ReadPath;
  readonly #host: ReaderHost;
  #pumping = false;
  #draining = false;
  /** The last drain stopped at its time budget, with datagrams still queued. */
  #budgetSpent = false;
  /** The next drain follows a wait that ended (see #drain: it hands out one datagram first). */
  #afterWait = false;
  /**
   * A read-ahead is queued (see #drain) and no read has found the receive queue empty since: a
   * `for await` consumer's next step, run before it, reads what is queued (and the queue empty)
   * itself, and then the read-ahead would only read it empty again.
   */
  #aheadOwed = false;
  /**
   * The last read found the receive queue empty, and nothing has happened since that could have
   * queued what a read would find before a wait does: no read found data, no wait ended, nothing
   * was sent (the kernel answers inside sendmsg), no macrotask ran a deferred dispatch. A drain
   * then waits at once, without a read: what arrived meanwhile is seen by the wait (the
   * transport's wait resolves at once while something is queued: poll(2) is level-triggered, and
   * the signal waiter polls at arming unless a signal for it is still to come). A `for await`
   * step's drain reads an event's datagrams ahead and the queue empty; the step that next finds
   * the stream's queue empty read it empty again before its wait, for nothing (one syscall and
   * some 20 calls, every event). readNow() always reads: the matcher's drained() is owed a read
   * that finds the queue empty now.
   */
  #emptyKnown = false;
  /**
   * When reading began in the current turn of the event loop (-1: not yet). Reads that follow
   * one another through promises alone (a flood: each step's datagram already queued, a backlog
   * taken and refilled) are one turn, however many pumps and steps they span; past
   * DRAIN_BUDGET_MS, reading waits for a macrotask, so that timers and I/O run.
   */
  #turnSince = -1;
  /**
   * Reads by streaming drains since the turn began or the last wait ended: the turn's clock is
   * read once per DRAIN_CLOCK_EVERY of them. Counted across drains, not per drain: a loop whose
   * every step reads one datagram (`send()`, then `await messages().next()` for the kernel's
   * answer, queued inside sendmsg) drains once per step and never waits, and counted per drain
   * its turn never ended: no timer ran, however long it went on.
   */
  #turnReads = 0;
  /** Which turn a timer set at its start belongs to (a later turn is not ended by it). */
  #turn = 0;
  /** readInPlace() calls, for reading the clock once per DRAIN_CLOCK_EVERY of them. */
  #inPlaceReads = 0;
  /** This turn has read for its whole budget: reading waits for the next macrotask. */
  #spent = false;
  #stopped = false;
  /**
   * Answers have settled synchronously for long enough: what is read now is held, in order, and
   * dispatched once a macrotask has run. Reading goes on meanwhile, so that the kernel's queue
   * does not overflow while the event loop catches up.
   */
  #deferred = false;
  /** Datagrams, overruns and queue-empty marks read while deferred, in order. */
  #held: (Datagram | SyscallError | typeof DRAINED)[] = [];
  /** Runs a function in a later macrotask: the transport's way, or a timer's. */
  readonly #defer: (run: () => void) => void;

  /** Reads through `path` for `host`. */
  constructor(path: ReadPath, host: ReaderHost) {
    this.#path = path;
    this.#host = host;
    const waits = path.waits;
    this.#defer = waits.defer ? (run) => waits.defer!(run) : deferByTimer;
    perEventClosures(
      this.kick,
      this.#drain,
      this.#cycle,
      this.#woke,
      this.#readAhead,
      host.demand,
      host.dispatch,
      host.inPlace,
      host.drained,
      host.gathering,
    );
  }

  /** True while the loop runs (draining or waiting). */
  get running(): boolean {
    return this.#pumping;
  }

  /**
   * True while what is read is read inside a caller's own call (a request's send, a step that
   * asks for more; kick() or afterSend() runs): a callback must not run there. Kept by the reader
   * (read it, never set it): a field, not a getter, as a `listen()` handler's intake asks it for
   * every message.
   */
  inCall = false;

  /** Stops for good (the socket closed or failed). */
  stop(): void {
    this.#stopped = true;
  }

  /**
   * Demand changed: start the loop if something wants data, cancel its wait if nothing does. An
   * arrow, so that a stream's host can hand it on as its `wake` without a call of its own.
   */
  readonly kick = (): void => {
    if (this.#stopped) return;
    const outer = this.inCall;
    this.inCall = true;
    try {
      const demand = this.#host.demand();
      if (demand === 2) {
        if (!this.#pumping) this.#pump(demand);
      } else if (this.#pumping) {
        this.#path.waits.cancelWait();
      } else if (demand === 1) {
        this.#drain(); // read-ahead of what is queued, without waiting for more
      }
    } finally {
      this.inCall = outer;
    }
  };

  /**
   * A request was sent: its answer may be queued already (the kernel answers inside sendmsg),
   * so read now, even while the loop waits, before a flood of requests overflows the receive
   * buffer. Unless answers have settled synchronously for too long: then the read waits for a
   * macrotask, and timers, I/O and other sockets run first.
   */
  afterSend(): void {
    if (this.#stopped) return;
    this.countSend();
    const outer = this.inCall;
    this.inCall = true;
    try {
      this.#drain(true);
    } finally {
      this.inCall = outer;
    }
    this.kick();
  }

  /**
   * Something was sent: the kernel may have queued an answer, or a notification of the change to
   * a group this socket joined, inside sendmsg. The next drain reads.
   */
  sent(): void {
    this.#emptyKnown = false;
  }

  /**
   * What {@linkcode afterSend} does before it reads: counts the send in the thread's run of
   * answers settled synchronously, which once too long makes the next reads wait for a
   * macrotask (readNow() reads nothing until then). For a sender that reads its answers itself
   * with readNow() (a dump's first step), then kicks.
   */
  countSend(): void {
    if (this.#stopped) return;
    if (!this.#deferred) {
      if (syncRun.since < 0) {
        syncRun.since = performance.now();
        syncRun.sends = 0;
        this.#defer(endSyncRun);
      } else if (++syncRun.sends >= DRAIN_CLOCK_EVERY) {
        syncRun.sends = 0;
        if (performance.now() - syncRun.since > SYNC_BUDGET_MS) {
          this.#deferred = true;
          this.#defer(this.#macrotask);
        }
      }
    }
  }

  /**
   * Reads the turn's clock (called once per DRAIN_CLOCK_EVERY reads); true once the turn has
   * read for longer than its budget. The turn starts at its first call, which also asks for a
   * timer: whatever macrotask runs next ends the turn.
   */
  #turnSpent(): boolean {
    if (this.#spent) return true;
    const now = performance.now();
    if (this.#turnSince < 0) {
      this.#turnSince = now;
      // Any macrotask ends the turn; a zero timer is the cheapest to ask for (its 1-4 ms clamp
      // does not matter: only a turn that lasts longer than that is ever cut short).
      const turn = ++this.#turn;
      setTimeout(() => {
        if (this.#turn === turn) this.#endTurn();
      }, 0);
      return false;
    }
    return this.#spent = now - this.#turnSince > DRAIN_BUDGET_MS;
  }

  /** A macrotask ran: a new turn begins with the next read. */
  #endTurn(): void {
    this.#turnSince = -1;
    this.#turnReads = 0;
    this.#spent = false;
    this.#turn++;
  }

  readonly #macrotask = (): void => {
    syncRun.since = -1;
    this.#endTurn();
    if (!this.#deferred) return;
    this.#emptyKnown = false;
    this.#deferred = false;
    const held = this.#held;
    this.#held = [];
    for (const entry of held) {
      if (this.#stopped) return;
      if (entry === DRAINED) this.#host.drained(true);
      else if (entry instanceof SyscallError) this.#host.overrun(entry);
      else this.#host.dispatch(entry);
    }
    if (this.#stopped) return;
    this.#drain();
    this.kick();
  };

  /**
   * Reads one datagram in place now, for an iteration step that asks for it while nothing is
   * queued before it: saves the step a turn of the read loop. Returns undefined when none is
   * queued, or when reading in place is not possible now (the step then waits the ordinary way);
   * an overrun, the queue read empty, or a failure is told to the host as the read loop does.
   */
  readInPlace(): DatagramInPlace | undefined {
    const transport = this.#path.reads;
    // Deferred: what was read before is held, and must be dispatched first.
    if (this.#stopped || this.#draining || this.#deferred) return undefined;
    if (transport.receiveInPlace === undefined) return undefined;
    // Past this turn's budget the step waits the ordinary way, and the read loop yields first
    // (the clock is read once per DRAIN_CLOCK_EVERY reads, as in a drain).
    if (
      this.#spent || (++this.#inPlaceReads % DRAIN_CLOCK_EVERY === 0 && this.#turnSpent())
    ) {
      return undefined;
    }
    // Read empty since, with nothing run that could queue more: the step waits (see #emptyKnown).
    if (this.#emptyKnown) return undefined;
    try {
      const datagram = transport.receiveInPlace();
      if (datagram === undefined) {
        this.#emptyKnown = true;
        this.#host.drained();
      }
      return datagram;
    } catch (err) {
      this.#readFailed(err);
      return undefined;
    }
  }

  /**
   * Reads one datagram now and dispatches it, as the read loop would, for a dump step that asks
   * while nothing is queued for it: saves the step a turn of the loop (kick, pump, drain, and
   * their checks: functions a one-shot dump runs once a datagram, too seldom to leave
   * JavaScriptCore's lower tiers). False when none is queued, or when reading now is not possible
   * (the step then asks the ordinary way); an overrun, the queue read empty, or a failure is told
   * to the host as the loop does.
   */
  readNow(): boolean {
    // Deferred: what was read before is held, and must be dispatched first.
    if (this.#stopped || this.#draining || this.#deferred) return false;
    let datagram: Datagram | undefined;
    try {
      datagram = this.#path.reads.receive();
    } catch (err) {
      this.#readFailed(err);
      return false;
    }
    if (datagram === undefined) {
      this.#emptyKnown = true;
      this.#host.drained();
      return false;
    }
    this.#emptyKnown = false;
    // Inside the step's own call, as a kick's read is: no callback runs here.
    const outer = this.inCall;
    this.inCall = true;
    try {
      this.#host.dispatch(datagram);
    } finally {
      this.inCall = outer;
    }
    return true;
  }

  /** A read outside the loop threw: an overrun is told to the host, anything else fails it. */
  #readFailed(err: unknown): void {
    this.#emptyKnown = false;
    if (err instanceof SyscallError && (err.code === "ENOBUFS" || err.code === "EMSGSIZE")) {
      this.#host.overrun(err);
    } else {
      this.#stopped = true;
      this.#host.fail(err);
    }
  }

  /**
   * Resolves in a later macrotask (the transport's defer): how a flood, which never leaves the
   * receive queue empty, still lets timers and I/O run.
   */
  yieldTurn(): Promise<void> {
    return new Promise<void>((resolve) => this.#defer(resolve)).then(() => this.#endTurn());
  }

  /**
   * Reads and dispatches while something wants data, for up to a time budget: this turn's (see
   * #turnSince), or for answers just sent for (`answers`), this call's alone: those must be read
   * at once, or a burst of requests would overflow the receive queue (they yield otherwise).
   * Returns true when it stopped after handing a wait's first datagram to the step that waited
   * for it (below): nothing waits for data then, and the loop ends without asking again. `known`:
   * the host's demand, as the caller found it just now with nothing run since.
   */
  #drain(answers = false, known?: 0 | 1 | 2): boolean {
    if (this.#draining || this.#stopped) return false;
    // Read empty since, with nothing run that could queue more: wait (see #emptyKnown).
    if (this.#emptyKnown) return false;
    this.#draining = true;
    try {
      const host = this.#host;
      const afterWait = this.#afterWait;
      this.#afterWait = false;
      const turn = !answers && host.requests.unrequested;
      const deadline = turn ? 0 : performance.now() + DRAIN_BUDGET_MS;
      // Asked again after each dispatch (which may change it), once for both checks below.
      let demand = known ?? host.demand();
      for (let n = 0; !this.#stopped && demand !== 0; n++) {
        if (turn) {
          // The clock is first read after DRAIN_CLOCK_EVERY - 1 reads: a monitor's wake-up
          // (a read or two) pays nothing for it, not even a timer.
          if (
            this.#spent
            || (this.#turnReads++ % DRAIN_CLOCK_EVERY === DRAIN_CLOCK_EVERY - 1
              && this.#turnSpent())
          ) {
            this.#budgetSpent = true;
            return false;
          }
        } else if (n > 0 && n % DRAIN_CLOCK_EVERY === 0 && performance.now() >= deadline) {
          return false;
        }
        // Never while deferred: a datagram read in place cannot be held.
        const transport = this.#path.reads;
        const inPlace = host.inPlace !== undefined && !this.#deferred
          && transport.receiveInPlace !== undefined && host.inPlace();
        let datagram: Datagram | DatagramInPlace | undefined;
        try {
          datagram = inPlace ? transport.receiveInPlace!() : transport.receive();
        } catch (err) {
          if (err instanceof SyscallError && (err.code === "ENOBUFS" || err.code === "EMSGSIZE")) {
            if (this.#deferred) this.#held.push(err);
            else host.overrun(err);
            demand = host.demand();
            continue;
          }
          this.#stopped = true;
          host.fail(err);
          return false;
        }
        if (datagram === undefined) {
          this.#aheadOwed = false;
          if (this.#deferred) this.#held.push(DRAINED);
          else {
            this.#emptyKnown = true;
            host.drained();
          }
          return false;
        }
        if (inPlace) host.dispatchInPlace(datagram as DatagramInPlace);
        else if (this.#deferred) this.#held.push(datagram as Datagram);
        else host.dispatch(datagram as Datagram);
        demand = host.demand();
        // The first datagram after a wait went to the step that waited for it (nothing waits
        // now): the rest of what is queued is read ahead after that step's code has run, not
        // before. An event often comes as several datagrams (a link change as three), and
        // reading, copying and decoding the others first cost a `for await` consumer 20-40 us of
        // every event (measured). A microtask still reads them before any macrotask runs.
        if (n === 0 && afterWait && demand === 1 && !host.gathering()) {
          this.#aheadOwed = true;
          queueMicrotask(this.#readAhead);
          return true;
        }
      }
      return false;
    } finally {
      this.#draining = false;
    }
  }

  /**
   * The loop: drains, then waits (or yields a turn) and drains again when woken, while something
   * waits for data. Runs through callbacks, not an async function: with the transport's
   * {@linkcode Transport.waitThen}, a wake-up seen by a signal's listener drains in that task,
   * and whatever the host hands a consumer there (a `listen()` handler) runs with no promise
   * hop in between: each hop after a wake-up cost a monitor tens of microseconds, measured.
   */
  #pump(demand: 2): void {
    this.#pumping = true;
    this.#cycle(demand);
  }

  /**
   * One turn of the loop; ends with a wait or yield outstanding, or with the loop stopped.
   * `known`: the host's demand, as kick() found it just now with nothing run since.
   */
  #cycle(known?: 2): void {
    try {
      while (!this.#stopped) {
        this.#budgetSpent = false;
        if (known === 2 && this.#emptyKnown && !this.#deferred) {
          // Something waits, and the queue was read empty with nothing run since that could
          // have queued more: straight to the wait, as a drain would go (see #emptyKnown),
          // without its call and a demand() (a `for await` monitor's every event).
        } else {
          // Handed over: the demand was 1 (read-ahead) just now, with nothing run since. One
          // demand() less per event of a `for await` monitor, a call into code gone cold.
          if (this.#drain(false, known)) break;
          // Held datagrams are dispatched from the macrotask, which restarts the loop if need be.
          if (this.#stopped || this.#deferred || this.#host.demand() !== 2) break;
        }
        if (this.#budgetSpent) {
          // Still queued: a wait would end at once, a microtask later, and timers and I/O would
          // wait for as long as the flood lasts. A macrotask turn lets them run first.
          this.yieldTurn().then(this.#yielded);
          return;
        }
        const transport = this.#path.waits;
        if (transport.waitThen !== undefined) transport.waitThen(this.#woke, this.#waitFailed);
        else transport.wait().then(this.#woke, this.#waitFailed);
        return;
      }
    } catch (err) {
      // Never an exception into a signal's listener, never an unhandled rejection, never a
      // silent stall.
      this.#waitFailed(err);
      return;
    }
    this.#pumping = false;
  }

  /**
   * Reads ahead what a drain left queued after a wait (see #drain), unless the loop runs or a
   * read has found the queue empty since (an event's other datagrams were read by then: a
   * `for await` step's, whose code runs first, read them for its next step).
   */
  readonly #readAhead = (): void => {
    if (!this.#pumping && this.#aheadOwed) this.kick();
  };

  readonly #yielded = (): void => {
    syncRun.since = -1;
    this.#cycle();
  };

  readonly #woke = (woke: WaitResult): void => {
    if (woke === "closed") {
      this.#pumping = false;
      return;
    }
    this.#afterWait = true;
    this.#emptyKnown = false;
    // A wait that waited is a macrotask boundary: answers may settle synchronously again.
    // (One that ended at once is not, and leaves the turn's clock running.) Nor does a
    // monitor's wake-up read the clock before its DRAIN_CLOCK_EVERY-th datagram.
    syncRun.since = -1;
    this.#turnReads = 0;
    this.#cycle();
  };

  readonly #waitFailed = (err: unknown): void => {
    this.#pumping = false;
    if (this.#stopped) return;
    this.#stopped = true;
    this.#host.fail(err);
  };
}

perEventCode(() => methodsOf(Reader.prototype));
