/**
 * Taps: observers of every datagram a socket sends and receives, attached to and detached from a
 * live socket. A socket made by `open()` reads and writes through a {@linkcode TapPoint}, a
 * {@linkcode Transport} wrapper that hands each datagram to the taps attached at that moment;
 * the socket logic itself never knows (until the first tap is attached, its read loop reads the
 * wrapped transport directly: {@linkcode readPath}). Captures (`capture.ts`), the NETLINK_DEBUG
 * trace and the session recorder of the test kit are taps.
 *
 * @module
 */

import { checkInherited, unknownKey } from "./_options.ts";
import { methodsOf, perEventCode } from "./_per_event.ts";
import { deferByTimer, type ReadPath } from "./_reader.ts";
import { SocketClosedError, SyscallError } from "./errors.ts";
import type { NetlinkSocket } from "./socket.ts";
import type { Datagram, DatagramInPlace, Transport, WaitResult } from "./transport.ts";

/**
 * What a tap is told. `sent` and `received` see the datagram's bytes as they are: copy what you
 * keep (`data.slice()`), as the sender's buffer may be reused. A tap must not throw: one that
 * does, or an async callback whose promise rejects, is detached (its `detached()` called, as
 * for any detach), and its error reported on stderr.
 *
 * @example
 * ```ts
 * import type { Tap } from "@netlink/netlink";
 * let bytes = 0;
 * const counter: Tap = {
 *   sent: (data) => bytes += data.length,
 *   received: (datagram) => bytes += datagram.data.length,
 * };
 * ```
 */
export interface Tap {
  /**
   * A datagram the socket sent (the kernel took it), to `portid` (0: the kernel) and groups:
   * also one whose multicast went out though its unicast half was refused (ECONNREFUSED).
   */
  sent?(data: Uint8Array, portid: number, groupMask: number): void;
  /**
   * A datagram the socket received, before the socket reads it: its bytes are the ones the
   * socket then parses, so change them only in a copy (`datagram.data.slice()`); a reply
   * overwritten here is lost to its request, which waits on for it.
   */
  received?(datagram: Datagram): void;
  /** A read failed (ENOBUFS: the kernel dropped messages for this socket). */
  receiveFailed?(error: unknown): void;
  /** A socket option was set (group joined, buffer sized...). */
  optionSet?(level: number, name: number, value: number): void;
  /**
   * The tap was detached, or the socket closed: the last call it gets. For a socket dropped
   * without close() and garbage-collected, only while the function `tap()` returned is still
   * held: what closes a collected socket does not hold its taps, so that a tap whose callbacks
   * reach the socket cannot keep it alive.
   */
  detached?(): void;
}

// Every callback of Tap and nothing else (`satisfies`).
const TAP_CALLBACKS = Object.keys(
  { sent: 0, received: 0, receiveFailed: 0, optionSet: 0, detached: 0 } satisfies Record<
    keyof Tap,
    0
  >,
);

/**
 * Throws TypeError for a tap that would see nothing (no callback), a function under a name Tap
 * does not have (a misspelt callback), or a callback that is not a function. Other own values
 * (a class's state) are the tap's business.
 */
function checkTap(tap: Tap): void {
  if (tap === null || typeof tap !== "object") {
    throw new TypeError(
      `tap must be an object of callbacks, got ${tap === null ? "null" : typeof tap}`,
    );
  }
  for (const [key, value] of Object.entries(tap)) {
    if (typeof value === "function" && !TAP_CALLBACKS.includes(key)) {
      throw unknownKey("tap", key, TAP_CALLBACKS, "callback");
    }
  }
  // Every callback is read, own or not: one Object.prototype has (polluted) would see it all.
  checkInherited("tap", TAP_CALLBACKS);
  let callbacks = 0;
  for (const key of TAP_CALLBACKS) {
    const callback = (tap as Record<string, unknown>)[key];
    if (callback === undefined) continue;
    if (typeof callback !== "function") {
      throw new TypeError(`tap: ${key} must be a function, got ${typeof callback}`);
    }
    callbacks++;
  }
  if (callbacks === 0) {
    throw new TypeError(`tap: no callback; the callbacks are ${TAP_CALLBACKS.join(", ")}`);
  }
}

/** A point's {@linkcode readPath} (set in its class, where its private field can be read). */
let pathOf: (point: TapPoint) => ReadPath;

/**
 * A {@linkcode Transport} that passes every call to `inner` and shows each datagram to the taps
 * attached at the time. `open()` puts one under every socket it makes.
 *
 * @example
 * ```ts
 * import { NETLINK_ROUTE, NetlinkSocket, TapPoint } from "@netlink/netlink";
 * import { FakeKernel } from "@netlink/netlink/testing";
 * // Any transport: here a fake kernel's socket.
 * const point = new TapPoint(new FakeKernel().open(NETLINK_ROUTE, { portid: 0 }));
 * point.attach({ sent: (data) => console.log("sent", data.length, "bytes") });
 * const socket = new NetlinkSocket(point);
 * ```
 */
export class TapPoint implements Transport {
  readonly #inner: Transport;
  /** Replaced, never changed in place, so taps may detach (themselves too) while being called. */
  #taps: readonly Tap[] = [];
  /** A tap has been attached at some point: what it was shown may still be kept. */
  #tapped = false;
  #closed = false;
  /** Present when the inner transport has it (a transport without it cannot filter). */
  readonly attachFilter?: (program: Uint8Array) => void;
  /** Where the socket over this point reads and waits: see {@linkcode readPath}. */
  readonly #path: ReadPath;

  /** Wraps `inner`; the wrapper owns it from now on (closing one closes the other). */
  constructor(inner: Transport) {
    this.#inner = inner;
    // The inner transport's own reads and waits are what this point's are while untapped, unless
    // a subclass changes one, or this point adapts one (an in-place read made of receive()).
    const proto = TapPoint.prototype;
    const direct = inner.receiveInPlace !== undefined && this.receive === proto.receive
      && this.receiveInPlace === proto.receiveInPlace && this.wait === proto.wait
      && this.waitThen === proto.waitThen && this.cancelWait === proto.cancelWait
      && this.defer === proto.defer;
    this.#path = direct ? { reads: inner, waits: inner } : { reads: this, waits: this };
    if (typeof inner.attachFilter === "function") {
      this.attachFilter = (program) => inner.attachFilter!(program);
    }
  }

  /** The netlink protocol of the inner transport. */
  get protocol(): number {
    return this.#inner.protocol;
  }

  /** The port ID of the inner transport. */
  get portid(): number {
    return this.#inner.portid;
  }

  /** The inner transport's descriptor (-1 once closed). */
  get fd(): number {
    return this.#inner.fd;
  }

  /** How many taps are attached. */
  get taps(): number {
    return this.#taps.length;
  }

  /**
   * Attaches `tap`; returns the function that detaches it (idempotent). Throws after close, and
   * TypeError for a tap with no callback, a misspelt one, or one that is not a function.
   */
  attach(tap: Tap): () => void {
    if (this.#closed) throw new Error("cannot tap a closed socket");
    checkTap(tap);
    this.#taps = [...this.#taps, tap];
    this.#tapped = true;
    this.#path.reads = this; // the read loop's next read, its own too if it runs now
    return () => this.#detach(tap);
  }

  // Untapped (most sockets), send(), receive() and setOption() are the inner call alone, and the
  // tapped way is a method of its own: a cold Bun process compiles a function whole at its first
  // call, and a one-shot script's socket is never tapped.
  send(data: Uint8Array, portid: number, groupMask: number): void {
    if (this.#taps.length === 0) this.#inner.send(data, portid, groupMask);
    else this.#sendTapped(data, portid, groupMask);
  }

  #sendTapped(data: Uint8Array, portid: number, groupMask: number): void {
    try {
      this.#inner.send(data, portid, groupMask);
    } catch (err) {
      // sendmsg multicasts first, then fails the unicast half to a port nobody holds (port 0 of
      // a protocol nothing in the kernel serves): the datagram did go out, to the groups.
      const multicast = groupMask !== 0 && err instanceof SyscallError
        && err.code === "ECONNREFUSED";
      if (multicast) this.#sent(data, portid, groupMask);
      throw err;
    }
    this.#sent(data, portid, groupMask);
  }

  #sent(data: Uint8Array, portid: number, groupMask: number): void {
    for (const tap of this.#taps) this.#call(tap, () => tap.sent?.(data, portid, groupMask));
  }

  receive(): Datagram | undefined {
    return this.#taps.length === 0 ? this.#inner.receive() : this.#receiveTapped();
  }

  #receiveTapped(): Datagram | undefined {
    let datagram: Datagram | undefined;
    try {
      datagram = this.#inner.receive();
    } catch (err) {
      for (const tap of this.#taps) this.#call(tap, () => tap.receiveFailed?.(err));
      throw err;
    }
    if (datagram !== undefined) {
      for (const tap of this.#taps) this.#call(tap, () => tap.received?.(datagram));
    }
    return datagram;
  }

  /**
   * The inner transport's in-place read, or (for one without it) its receive() described in
   * place. Taps see a copy, made only while a tap is attached.
   */
  receiveInPlace(): DatagramInPlace | undefined {
    const inner = this.#inner;
    if (inner.receiveInPlace === undefined || this.#taps.length !== 0) {
      const datagram = this.receive();
      if (datagram === undefined) return undefined;
      const { data, sender, group, nsid } = datagram;
      return { buffer: data, length: data.byteLength, sender, group, nsid };
    }
    return inner.receiveInPlace();
  }

  /** Forwarded only while no tap has ever been attached: a tap may keep what it was shown. */
  recycle(data: Uint8Array): void {
    if (!this.#tapped) this.#inner.recycle?.(data);
  }

  wait(): Promise<WaitResult> {
    return this.#inner.wait();
  }

  waitThen(done: (result: WaitResult) => void, fail: (error: unknown) => void): void {
    const inner = this.#inner;
    if (inner.waitThen) inner.waitThen(done, fail);
    else inner.wait().then(done, fail);
  }

  cancelWait(): void {
    this.#inner.cancelWait();
  }

  defer(run: () => void): void {
    if (this.#inner.defer) this.#inner.defer(run);
    else deferByTimer(run);
  }

  setOption(level: number, name: number, value: number): void {
    this.#inner.setOption(level, name, value);
    if (this.#taps.length !== 0) this.#optionSet(level, name, value);
  }

  #optionSet(level: number, name: number, value: number): void {
    for (const tap of this.#taps) this.#call(tap, () => tap.optionSet?.(level, name, value));
  }

  getOption(level: number, name: number): number {
    return this.#inner.getOption(level, name);
  }

  /**
   * What closes this once the socket over it is garbage-collected: close() while this is still
   * reachable otherwise (a kept capture reaches it), else the inner transport alone (its taps are
   * garbage too, and a capture's file is closed at the capture's own collection). Not close()
   * itself: held by the socket's finalizer, it would keep every tap, and with a tap's callback
   * that reaches the socket, the socket, alive for good.
   */
  releaseAtCollection(): () => void {
    return releaser(new WeakRef(this), this.#inner);
  }

  close(): void {
    this.#closed = true;
    this.#inner.close();
    const taps = this.#taps;
    this.#taps = [];
    for (const tap of taps) this.#call(tap, () => tap.detached?.());
  }

  #detach(tap: Tap): void {
    if (!this.#taps.includes(tap)) return;
    this.#taps = this.#taps.filter((t) => t !== tap);
    this.#call(tap, () => tap.detached?.());
  }

  /**
   * Runs a tap callback; a tap that throws (or whose promise rejects) is detached and its error
   * reported, and it is told (`detached()`, its last call, as for any detach) unless that is
   * what threw.
   */
  #call(tap: Tap, fn: () => unknown): void {
    let result: unknown;
    try {
      result = fn();
    } catch (err) {
      this.#failed(tap, err);
      return;
    }
    // An async callback's rejection is its throw, come later: handled as one (once, while the
    // tap is attached), never left unhandled, which would end the program.
    if (result instanceof Promise) {
      result.then(undefined, (err) => {
        if (this.#taps.includes(tap)) this.#failed(tap, err);
      });
    }
  }

  #failed(tap: Tap, err: unknown): void {
    const attached = this.#taps.includes(tap);
    this.#taps = this.#taps.filter((t) => t !== tap);
    console.error("netlink: a tap threw and was detached:", err);
    if (attached) this.#call(tap, () => tap.detached?.());
  }

  static {
    pathOf = (point) => point.#path;
  }
}

perEventCode(() => methodsOf(TapPoint.prototype));

/**
 * Where the read loop of a socket over `transport` reads and waits. Over a {@linkcode TapPoint}:
 * the inner transport itself while no tap is attached, for reads (the point's from the first
 * attach on) and for waits (never tapped), so that an untapped socket, most, pays no call of the
 * point per read and wait (4.6 calls per link event of a monitor, counted on Deno); the point
 * itself where it adds to what the inner transport does.
 */
export function readPath(transport: Transport): ReadPath {
  return transport instanceof TapPoint ? pathOf(transport) : { reads: transport, waits: transport };
}

/** See {@linkcode TapPoint.releaseAtCollection}; a scope of its own, holding the point weakly. */
function releaser(point: WeakRef<TapPoint>, inner: Transport): () => void {
  return () => {
    const live = point.deref();
    if (live === undefined) inner.close();
    else live.close();
  };
}

// The compiler checks that TapPoint forwards every member of Transport: a member added to the
// interface and missing here would otherwise be hidden from the socket by every open() socket.
type Missing = Exclude<keyof Transport, keyof TapPoint>;
const everyMember: [Missing] extends [never] ? true : Missing = true;
void everyMember;

const points = new WeakMap<NetlinkSocket, TapPoint>();

/** Records that `socket` reads and writes through `point` (open() does, for every socket). */
export function registerTapPoint(socket: NetlinkSocket, point: TapPoint): void {
  points.set(socket, point);
}

/**
 * Attaches `tap` to a live socket made by `open()`: from now on it sees every datagram the
 * socket sends and receives, until the returned function detaches it or the socket closes.
 * Throws TypeError for a socket not made by `open()` (wrap your transport in a
 * {@linkcode TapPoint} instead) or a bad tap (see {@linkcode TapPoint.attach}),
 * SocketClosedError for a closed socket.
 *
 * @example
 * ```ts
 * import { NETLINK_ROUTE, open, tap } from "@netlink/netlink";
 * await using sock = await open(NETLINK_ROUTE);
 * const detach = tap(sock, { received: (d) => console.log(d.data.length, "bytes in") });
 * // ... requests ...
 * detach();
 * ```
 */
export function tap(socket: NetlinkSocket, tap: Tap): () => void {
  return tapPoint(socket).attach(tap);
}

/**
 * The tap point of `socket`, for attaching to it; throws as {@linkcode tap} does for a socket
 * not made by `open()` or a closed one, the error naming `caller`.
 *
 * @internal
 */
export function tapPoint(socket: NetlinkSocket, caller = "tap"): TapPoint {
  const point = points.get(socket);
  if (point === undefined) {
    throw new TypeError(
      `${caller}(): this socket was not made by open(); wrap its transport in a TapPoint`,
    );
  }
  if (socket.closed) throw new SocketClosedError(`${caller}(): the socket is closed`);
  return point;
}
