/**
 * Recorded sessions as test fixtures: {@linkcode Recorder} is a transport that records every
 * datagram its sockets send and receive against the real kernel, as plain JSON;
 * {@linkcode Replayer} is a transport that plays such a recording back without the kernel (on
 * Deno, without --allow-ffi), checking that each request the code under test sends is the one
 * recorded and answering it with the recorded replies (a request whose end the recording lacks
 * fails with {@linkcode ReplayMismatchError} once the rest is read).
 *
 * @example
 * ```ts
 * import { NETLINK_ROUTE, NLM_F_DUMP, open, RTM_GETLINK } from "@netlink/netlink";
 * import { Recorder, Replayer } from "@netlink/netlink/testing";
 *
 * const recorder = new Recorder();
 * {
 *   await using sock = await open(NETLINK_ROUTE, { transport: recorder.transport });
 *   await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
 * }
 * const fixture = JSON.stringify(recorder.session());
 *
 * const replayer = new Replayer(fixture);
 * await using sock = await open(NETLINK_ROUTE, { transport: replayer.transport });
 * const links = await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
 * replayer.finish(); // throws if a recorded request was never sent
 * ```
 *
 * @module
 */

import { openTransport } from "../../ffi/mod.ts";
import { droppedSource, withDroppedSource } from "../_dropped.ts";
import { HOST_LITTLE_ENDIAN } from "../_endian.ts";
import { errnoOfName } from "../_errno.ts";
import { fromHex, toHex } from "../_hex.ts";
import { shown } from "../_options.ts";
import { datagramDumpBits } from "../_request.ts";
import {
  MAX_LINKS,
  NETLINK_CONNECTOR,
  NETLINK_KOBJECT_UEVENT,
  NLM_F_ACK,
  NLM_F_MULTI,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSG_MIN_TYPE,
} from "../constants.ts";
import { SyscallError } from "../errors.ts";
import { format, protocolName } from "../format.ts";
import { alignMessage, decodeMessages, encodeMessage, type Message } from "../message.ts";
import { TapPoint } from "../tap.ts";
import type {
  Datagram,
  OpenTransport,
  Transport,
  TransportOptions,
  WaitResult,
} from "../transport.ts";

/**
 * One thing a socket did, in order: a datagram sent (`send`, hex, with its destination port and
 * group mask), a datagram received (`receive`, hex, with its sender, group and nsid), a failed
 * read (`error`: the errno's name, e.g. "ENOBUFS", or `E<n>` for one without a name; for a
 * datagram dropped as too long, EMSGSIZE, with its `sender` and `group` when the transport knew
 * them), a socket option set (`option`), or one read (`got`, with the value the kernel gave:
 * the replay's `getOption()` answers with it). A send or an option set the kernel refused has
 * its errno's name in `refused` (and the error's hint, if any, in `hint`): the replay throws the
 * same error.
 *
 * @example
 * ```ts
 * import type { SessionEvent } from "@netlink/netlink/testing";
 * const ack: SessionEvent = { receive: "24000000020000000100000001000000000000001400000012000100010000000100000000000000", sender: 0, group: 0 };
 * ```
 */
export type SessionEvent =
  | { send: string; to: number; groups: number } & Refusal
  | { receive: string; sender: number; group: number; nsid?: number }
  | { error: string; sender?: number; group?: number }
  | { option: [level: number, name: number, value: number] } & Refusal
  | { got: [level: number, name: number, value: number] };

/**
 * How the kernel refused a call, when it did: the errno's name ("ECONNREFUSED") and the hint its
 * SyscallError carried.
 *
 * @example
 * ```ts
 * import type { Refusal } from "@netlink/netlink/testing";
 * const refused: Refusal = { refused: "EADDRINUSE" };
 * ```
 */
export type Refusal = {
  /** The errno's name, when the call failed. */
  refused?: string;
  /** What the error's message said after the errno's description. */
  hint?: string;
};

/** `err`'s errno name and hint, as a recording keeps them. */
function refusal(err: SyscallError): { refused: string; hint?: string } {
  const bare = new SyscallError(err.syscall, err.errno).message;
  return err.message.startsWith(`${bare}: `)
    ? { refused: err.code, hint: err.message.slice(bare.length + 2) }
    : { refused: err.code };
}

/** Adds `value` to the list `map` holds under `key`, in order. */
function append<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/** The error a recorded refusal of `syscall` stands for. */
function refusedError(syscall: string, refused: string, hint: string | undefined): SyscallError {
  return new SyscallError(syscall, errnoOfName(refused)!, hint);
}

/**
 * A recording: the sockets opened, in order, each with its protocol, port ID and events. Plain
 * JSON: `JSON.stringify` it to a fixture file. An open the kernel refused is an entry too, with
 * the call that failed (`syscall`), `refused`, `hint`, port ID 0 and no events.
 *
 * @example
 * ```ts
 * import type { Session } from "@netlink/netlink/testing";
 * const empty: Session = { version: 1, sockets: [{ protocol: 0, portid: 4242, events: [] }] };
 * ```
 */
export interface Session {
  /** Format version: 1. */
  version: 1;
  /** One entry per socket, in the order they were opened. */
  sockets: ({
    /** The netlink protocol it was opened with. */
    protocol: number;
    /** The port ID the kernel bound it to (replies carry it). */
    portid: number;
    /** What it did, in order. */
    events: SessionEvent[];
    /** For an open that failed: the system call that did ("socket", "bind", "setns"...). */
    syscall?: string;
  } & Refusal)[];
}

/**
 * Records sessions: pass {@linkcode Recorder.transport} as `open()`'s (or `family()`'s)
 * `transport` option, run the code against the real kernel, then save
 * {@linkcode Recorder.session} as a fixture for a {@linkcode Replayer}.
 *
 * @example
 * ```ts
 * import { NETLINK_ROUTE, open } from "@netlink/netlink";
 * import { Recorder } from "@netlink/netlink/testing";
 * import { writeFileSync } from "node:fs";
 * const recorder = new Recorder();
 * {
 *   await using sock = await open(NETLINK_ROUTE, { transport: recorder.transport });
 *   // ... requests ...
 * }
 * writeFileSync("/tmp/fixture.json", JSON.stringify(recorder.session(), null, 1));
 * ```
 */
export class Recorder {
  readonly #sockets: Session["sockets"] = [];
  readonly #open: OpenTransport;

  /**
   * A recorder with nothing recorded yet.
   *
   * @param open The transport to record (default: the real one, through libc); what is no
   * function is a TypeError, at once rather than when a socket opens.
   */
  constructor(open: OpenTransport = openTransport) {
    if (typeof open !== "function") {
      throw new TypeError(`Recorder: open must be a transport function, got ${shown(open)}`);
    }
    this.#open = open;
  }

  /** The `transport` option that records: opens the real transport and records through it. */
  readonly transport: OpenTransport = (protocol, options) => {
    const events: SessionEvent[] = [];
    let inner: Transport;
    try {
      inner = this.#open(protocol, options);
    } catch (err) {
      if (err instanceof SyscallError) {
        this.#sockets.push({ protocol, portid: 0, events, syscall: err.syscall, ...refusal(err) });
      }
      throw err;
    }
    const point = new RecordingPoint(inner, events);
    this.#sockets.push({ protocol, portid: point.portid, events });
    point.attach({
      sent: (data, to, groups) => events.push({ send: toHex(data), to, groups }),
      received: ({ data, sender, group, nsid }) =>
        events.push(
          nsid === undefined
            ? { receive: toHex(data), sender, group }
            : { receive: toHex(data), sender, group, nsid },
        ),
      receiveFailed: (err) => {
        const error = err instanceof SyscallError ? err.code : String(err);
        // An over-long datagram's source decides which requests it fails: kept with it.
        const source = droppedSource(err);
        events.push(source ? { error, ...source } : { error });
      },
      optionSet: (level, name, value) => events.push({ option: [level, name, value] }),
    });
    return point;
  };

  /** What was recorded so far, as plain JSON-ready data (a copy). */
  session(): Session {
    return structuredClone({ version: 1, sockets: this.#sockets });
  }
}

/** A recorded socket's tap point, which records the options read, and refused calls, as well. */
class RecordingPoint extends TapPoint {
  readonly #events: SessionEvent[];

  constructor(inner: Transport, events: SessionEvent[]) {
    super(inner);
    this.#events = events;
  }

  override send(data: Uint8Array, portid: number, groupMask: number): void {
    const before = this.#events.length;
    try {
      super.send(data, portid, groupMask);
    } catch (err) {
      if (err instanceof SyscallError) {
        // A multicast that went out before its unicast half was refused was recorded as sent.
        const sent = this.#events.length > before ? this.#events.at(-1) : undefined;
        if (sent !== undefined && "send" in sent) {
          Object.assign(sent, refusal(err));
        } else {
          this.#events.push({ send: toHex(data), to: portid, groups: groupMask, ...refusal(err) });
        }
      }
      throw err;
    }
  }

  override setOption(level: number, name: number, value: number): void {
    try {
      super.setOption(level, name, value);
    } catch (err) {
      if (err instanceof SyscallError) {
        this.#events.push({ option: [level, name, value], ...refusal(err) });
      }
      throw err;
    }
  }

  override getOption(level: number, name: number): number {
    const value = super.getOption(level, name);
    this.#events.push({ got: [level, name, value] });
    return value;
  }
}

/**
 * `session` (or its JSON text) when it has a Recorder's shape, down to each socket's protocol,
 * port ID and each of its events; else a TypeError saying where it does not. A fixture cut
 * short or edited by hand otherwise failed at replay with a SyntaxError or "Cannot read
 * properties of null".
 */
function checkSession(session: Session | string): Session {
  const not = (why: string) => new TypeError(`Replayer: not a recorded session: ${why}`);
  let parsed: unknown = session;
  if (typeof session === "string") {
    try {
      parsed = JSON.parse(session);
    } catch (err) {
      throw not(`its text is not JSON (${(err as Error).message})`);
    }
  }
  const { version, sockets } = (parsed ?? {}) as Partial<Session>;
  if (typeof parsed !== "object" || version !== 1 || !Array.isArray(sockets)) {
    throw not("version 1 with sockets expected");
  }
  sockets.forEach((socket, i) => {
    const { protocol, portid, events, syscall } = (socket ?? {}) as Partial<
      Session["sockets"][number]
    >;
    if (
      !isInRange(protocol, 0, MAX_LINKS - 1) || !isU32(portid) || !Array.isArray(events)
      || events.some((event) => event === null || typeof event !== "object")
      || !isRefusal(socket) || (syscall !== undefined && typeof syscall !== "string")
    ) {
      throw not(`sockets[${i}] is not { protocol, portid, events: [{...}, ...] }`);
    }
    events.forEach((event, j) => {
      if (!isEvent(event)) {
        throw not(
          `sockets[${i}].events[${j}] is not a recorded event (send, receive, error, option or `
            + `got): ${JSON.stringify(event).slice(0, 80)}`,
        );
      }
    });
  });
  return parsed as Session;
}

const isInt = (value: unknown) => Number.isInteger(value);
const isInRange = (value: unknown, min: number, max: number) =>
  isInt(value) && (value as number) >= min && (value as number) <= max;
/** Port IDs, group numbers and masks: what a recording holds of them is never out of a u32. */
const isU32 = (value: unknown) => isInRange(value, 0, 0xffff_ffff);
const isHex = (value: unknown) => typeof value === "string" && /^(?:[0-9a-f]{2})*$/i.test(value);
const isOption = (value: unknown) =>
  Array.isArray(value) && value.length === 3 && value.every(isInt);
const isErrnoName = (value: unknown) =>
  typeof value === "string" && errnoOfName(value) !== undefined;
const isRefusal = ({ refused, hint }: { refused?: unknown; hint?: unknown }) =>
  (refused === undefined || isErrnoName(refused))
  && (hint === undefined || typeof hint === "string");

/**
 * True for an event of one of {@linkcode SessionEvent}'s shapes: one edited by hand otherwise
 * failed only once replayed (bytes that are not hex), or not at all (a read option's value that
 * is not a number came back from getOption() as it was).
 */
function isEvent(event: Record<string, unknown>): boolean {
  if ("send" in event) {
    return isHex(event.send) && isU32(event.to) && isU32(event.groups) && isRefusal(event);
  }
  if ("receive" in event) {
    return isHex(event.receive) && isU32(event.sender) && isU32(event.group)
      && (event.nsid === undefined || isInt(event.nsid));
  }
  if ("error" in event) {
    return isErrnoName(event.error)
      && (event.sender === undefined || isU32(event.sender))
      && (event.group === undefined || isU32(event.group));
  }
  if ("option" in event) return isOption(event.option) && isRefusal(event);
  if ("got" in event) return isOption(event.got);
  return false;
}

/** Thrown when the code under test does not do what the recording did. */
export class ReplayMismatchError extends Error {
  /**
   * The error, with its message.
   *
   * @param message What was expected and what happened instead.
   */
  constructor(message: string) {
    super(message);
    this.name = "ReplayMismatchError";
  }
}

/** Every message's nlmsg_seq set to 0: requests are compared without their sequence numbers. */
function withoutSeqs(data: Uint8Array): Uint8Array {
  const copy = data.slice();
  const view = new DataView(copy.buffer);
  for (let at = 0; at + NLMSG_HDRLEN <= copy.length;) {
    const length = view.getUint32(at, HOST_LITTLE_ENDIAN);
    view.setUint32(at + 8, 0, HOST_LITTLE_ENDIAN);
    if (length < NLMSG_HDRLEN) break;
    at += alignMessage(length);
  }
  return copy;
}

function describe(data: Uint8Array, protocol: number): string {
  try {
    return decodeMessages(data).map((m) => `  ${format(m, { protocol })}`).join("\n");
  } catch {
    return `  ${data.length} bytes: ${toHex(data)}`;
  }
}

/**
 * Plays a recorded {@linkcode Session} back: pass {@linkcode Replayer.transport} as `open()`'s
 * (or `family()`'s) `transport` option and run the same code, without the kernel. Sockets are
 * matched to the recording's in the order they are opened (same protocol) and get the recorded
 * port IDs. Each datagram sent must be the recorded one (the same messages, destination and
 * groups; sequence numbers may differ, and the replies' are mapped to the live ones); the
 * datagrams recorded after it are then served to the socket, as are those recorded before the
 * socket's first send (notifications). A request the recording does not have fails with
 * {@linkcode ReplayMismatchError}, which shows both, decoded. A read error recorded (ENOBUFS) is
 * thrown again, as is the SyscallError of an open, a send or an option set the kernel refused.
 *
 * @example
 * ```ts
 * import { NETLINK_ROUTE, open } from "@netlink/netlink";
 * import { Replayer } from "@netlink/netlink/testing";
 * import { readFileSync } from "node:fs";
 * const replayer = new Replayer(readFileSync("/tmp/fixture.json", "utf8"));
 * await using sock = await open(NETLINK_ROUTE, { transport: replayer.transport });
 * // ... the same requests as recorded ...
 * replayer.finish();
 * ```
 */
export class Replayer {
  readonly #session: Session;
  readonly #sockets: ReplayTransport[] = [];
  /** Recorded sockets opened so far, refused opens included. */
  #opened = 0;

  /**
   * A replay of `session`, from its start. Throws TypeError for something not recorded by a
   * {@linkcode Recorder} (text that is not JSON, a socket without its protocol, port ID or list
   * of events, an event of none of {@linkcode SessionEvent}'s shapes: bytes that are not hex...).
   *
   * @param session The recording, or its JSON text.
   */
  constructor(session: Session | string) {
    this.#session = checkSession(session);
  }

  /** The `transport` option that replays: the next recorded socket, which must match. */
  readonly transport: OpenTransport = (protocol: number, _options: TransportOptions) => {
    const index = this.#opened;
    const recorded = this.#session.sockets[index];
    if (recorded === undefined) {
      throw new ReplayMismatchError(
        `replay: socket ${index} (${
          protocolName(protocol)
        }) was opened, but the recording has ${this.#session.sockets.length} socket(s)`,
      );
    }
    if (recorded.protocol !== protocol) {
      throw new ReplayMismatchError(
        `replay: socket ${index} was opened for ${protocolName(protocol)}, but the recording's is ${
          protocolName(recorded.protocol)
        }`,
      );
    }
    this.#opened++;
    if (recorded.refused !== undefined) {
      throw refusedError(recorded.syscall ?? "socket", recorded.refused, recorded.hint);
    }
    const socket = new ReplayTransport(index, recorded);
    this.#sockets.push(socket);
    return socket;
  };

  /**
   * Throws {@linkcode ReplayMismatchError} unless every recorded socket was opened and sent
   * every recorded request; call it at the end of a test.
   */
  finish(): void {
    const sockets = this.#session.sockets;
    if (this.#opened < sockets.length) {
      throw new ReplayMismatchError(
        `replay: ${this.#opened} of the recording's ${sockets.length} sockets were opened`,
      );
    }
    for (const socket of this.#sockets) socket.finish();
  }
}

/** A transport serving one recorded socket. */
class ReplayTransport implements Transport {
  readonly protocol: number;
  readonly portid: number;
  fd: number;
  readonly #index: number;
  readonly #events: SessionEvent[];
  /** Next recorded event not yet matched or served. */
  #next = 0;
  /** Datagrams (or read errors) released to the socket, not yet read. */
  readonly #ready: (Datagram | SyscallError)[] = [];
  readonly #options = new Map<string, number>();
  /** The values the recorded socket's option reads got, by `level:name`, in order. */
  readonly #reads = new Map<string, number[]>();
  /** The recorded sets of each `level:name:value`, in order: refused or not. */
  readonly #sets = new Map<string, Refusal[]>();
  /** Recorded nlmsg_seq → the live one. */
  readonly #seqs = new Map<number, number>();
  /**
   * The requests sent whose end (the ack, NLMSG_DONE) the recording does not hold: the recorded
   * message, the index of its send, and that of the last event it served for it.
   */
  readonly #unended: { request: Message; at: number; last: number; dump: boolean }[] = [];
  #wake: ((result: WaitResult) => void) | undefined;

  constructor(index: number, recorded: Session["sockets"][number]) {
    this.#index = index;
    this.protocol = recorded.protocol;
    this.portid = recorded.portid;
    this.fd = 1000 + index;
    this.#events = recorded.events;
    for (const event of this.#events) {
      if ("option" in event) append(this.#sets, event.option.join(":"), event);
      if (!("got" in event)) continue;
      const [level, name, value] = event.got;
      append(this.#reads, `${level}:${name}`, value);
    }
    this.#release();
  }

  send(data: Uint8Array, portid: number, groupMask: number): void {
    this.#checkOpen();
    const at = this.#events.findIndex((e, i) => i >= this.#next && "send" in e);
    const expected = at < 0
      ? undefined
      : this.#events[at] as Extract<SessionEvent, { send: string }>;
    const sent = `socket ${this.#index} (${protocolName(this.protocol)}) sent${
      portid ? ` to ${portid}` : ""
    }\n${describe(data, this.protocol)}`;
    if (expected === undefined) {
      throw new ReplayMismatchError(`replay: ${sent}\nbut the recording has no more requests`);
    }
    const recorded = fromHex(expected.send);
    const same = expected.to === portid && expected.groups === groupMask
      && toHex(withoutSeqs(recorded)) === toHex(withoutSeqs(data));
    if (!same) {
      throw new ReplayMismatchError(
        `replay: ${sent}\nbut the recording has${expected.to ? ` (to ${expected.to})` : ""}\n${
          describe(recorded, this.protocol)
        }`,
      );
    }
    try {
      const live = decodeMessages(data);
      const messages = decodeMessages(recorded);
      messages.forEach((m, i) => this.#seqs.set(m.seq, live[i].seq));
      if (expected.refused === undefined) this.#findEnds(messages, at, portid, groupMask);
    } catch {
      // Not messages (uevent-style datagrams): nothing to map.
    }
    this.#next = at + 1;
    this.#release();
    if (expected.refused !== undefined) {
      throw refusedError("sendmsg", expected.refused, expected.hint);
    }
  }

  receive(): Datagram | undefined {
    this.#checkOpen();
    const next = this.#ready.shift();
    if (next instanceof SyscallError) throw next;
    if (next === undefined && this.#unended.length > 0) this.#checkEnded();
    return next;
  }

  /**
   * Notes the requests of the datagram sent at event `at` whose end the rest of the recording
   * does not hold (a fixture cut short): one with NLM_F_ACK, which the kernel always acks, or a
   * dump it answered with parts but no NLMSG_DONE. The end is an NLMSG_ERROR (an ack or an
   * error), a dump's NLMSG_DONE, or the one reply without NLM_F_MULTI of a dump the kernel ran
   * as a plain request (asked without NLM_F_ACK). A dump with no answer at all may be one the
   * kernel ran as a change, which answers nothing; a read error recorded after the send (an
   * overrun) may have taken the end. Requests to a peer or a group, and the connector's (which
   * acks nothing), are not the kernel's to end.
   */
  #findEnds(messages: readonly Message[], at: number, to: number, groups: number): void {
    if (to !== 0 || groups !== 0 || this.protocol === NETLINK_CONNECTOR) return;
    const bits = datagramDumpBits(this.protocol, 0, messages);
    messages.forEach((request, i) => {
      const dump = bits[i] !== 0;
      const ack = (request.flags & NLM_F_ACK) !== 0;
      if (!(request.flags & NLM_F_REQUEST) || !(dump || ack)) return;
      let last = at;
      for (let e = at + 1; e < this.#events.length; e++) {
        const event = this.#events[e];
        if ("error" in event) return;
        if (!("receive" in event) || event.sender !== 0 || event.group !== 0) continue;
        let received: Message[];
        try {
          received = decodeMessages(fromHex(event.receive));
        } catch {
          continue; // the socket reports it malformed
        }
        for (const { type, flags, seq } of received) {
          if (seq !== request.seq) continue;
          if (
            type === NLMSG_ERROR || (dump && type === NLMSG_DONE)
            || (dump && !ack && type >= NLMSG_MIN_TYPE && !(flags & NLM_F_MULTI))
          ) {
            return;
          }
          last = e;
        }
      }
      if (ack || last > at) this.#unended.push({ request, at, last, dump });
    });
  }

  /**
   * Nothing is left to read, and a request whose end the recording does not hold has been
   * served all it recorded: its end can never come, and the code under test would wait for it
   * until its timeout, if it has one. The read fails with a ReplayMismatchError instead.
   */
  #checkEnded(): void {
    const served = this.#unended.find(({ last }) => last < this.#next);
    if (served === undefined) return;
    const { request, at, dump } = served;
    throw new ReplayMismatchError(
      `replay: socket ${this.#index} (${protocolName(this.protocol)}): the recording ends `
        + `without the end of the request sent at its event ${at}, ${
          dump ? "its NLMSG_DONE" : "its ack"
        }, which the code under test waits for:\n`
        + `${describe(encodeMessage(request), this.protocol)}\n`
        + "was the fixture cut short? Record it again, to the request's end",
    );
  }

  wait(): Promise<WaitResult> {
    if (this.fd === -1) return Promise.resolve("closed");
    if (this.#ready.length > 0) return Promise.resolve("readable");
    return new Promise((resolve) => this.#wake = resolve);
  }

  cancelWait(): void {
    this.#settle("cancelled");
  }

  /** Refused as the recorded socket's set of the same option and value was, in turn. */
  setOption(level: number, name: number, value: number): void {
    this.#checkOpen();
    const set = this.#sets.get(`${level}:${name}:${value}`)?.shift();
    if (set?.refused !== undefined) throw refusedError("setsockopt", set.refused, set.hint);
    this.#options.set(`${level}:${name}`, value);
  }

  /**
   * What the recorded socket's reads of this option got, in turn (the last one from then on);
   * for an option it never read, the value the replay set, or 0.
   */
  getOption(level: number, name: number): number {
    this.#checkOpen();
    const key = `${level}:${name}`;
    const reads = this.#reads.get(key);
    if (reads !== undefined) return reads.length > 1 ? reads.shift()! : reads[0];
    return this.#options.get(key) ?? 0;
  }

  attachFilter(_program: Uint8Array): void {
    // The recorded datagrams are those the recorded socket's filter let through.
    this.#checkOpen();
  }

  close(): void {
    if (this.fd === -1) return;
    this.fd = -1;
    this.#settle("closed");
  }

  finish(): void {
    const left = this.#events.slice(this.#next).find((e) => "send" in e);
    if (left !== undefined && "send" in left) {
      throw new ReplayMismatchError(
        `replay: socket ${this.#index} (${protocolName(this.protocol)}) never sent\n${
          describe(fromHex(left.send), this.protocol)
        }`,
      );
    }
  }

  /** Serves the events up to the next recorded send. */
  #release(): void {
    for (; this.#next < this.#events.length; this.#next++) {
      const event = this.#events[this.#next];
      if ("send" in event) break;
      if ("receive" in event) {
        const datagram: Datagram = {
          data: this.#mapSeqs(fromHex(event.receive)),
          sender: event.sender,
          group: event.group,
          ...(event.nsid === undefined ? {} : { nsid: event.nsid }),
        };
        this.#ready.push(datagram);
      } else if ("error" in event) {
        const error = new SyscallError("recvmsg", errnoOfName(event.error)!);
        const { sender, group } = event;
        this.#ready.push(
          sender === undefined || group === undefined
            ? error
            : withDroppedSource(error, { sender, group }),
        );
      }
    }
    if (this.#ready.length > 0) this.#settle("readable");
  }

  /** The recorded replies' sequence numbers (and those their acks echo) made the live ones. */
  #mapSeqs(data: Uint8Array): Uint8Array {
    if (this.protocol === NETLINK_KOBJECT_UEVENT) return data; // text, not messages
    const view = new DataView(data.buffer);
    const map = (at: number) => {
      const live = this.#seqs.get(view.getUint32(at, HOST_LITTLE_ENDIAN));
      if (live !== undefined) view.setUint32(at, live, HOST_LITTLE_ENDIAN);
    };
    for (let at = 0; at + NLMSG_HDRLEN <= data.length;) {
      const length = view.getUint32(at, HOST_LITTLE_ENDIAN);
      // What does not parse is left as it is: the socket reports it (MalformedMessageError).
      if (length < NLMSG_HDRLEN || length > data.length - at) break;
      map(at + 8);
      if (view.getUint16(at + 4, HOST_LITTLE_ENDIAN) === NLMSG_ERROR && length >= 36) {
        map(at + NLMSG_HDRLEN + 4 + 8); // the echoed request header's seq
      }
      at += alignMessage(length);
    }
    return data;
  }

  #settle(result: WaitResult): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.(result);
  }

  #checkOpen(): void {
    if (this.fd === -1) throw new Error(`replay: socket ${this.#index} is closed`);
  }
}
