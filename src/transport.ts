/**
 * The seam between the runtime-neutral socket logic (src/) and the runtime-specific libc bindings
 * (ffi/). Everything in src/ talks to the kernel only through this interface; tests replace it
 * with an in-memory fake.
 *
 * @module
 */

/** One datagram read from a netlink socket. */
export interface Datagram {
  /**
   * The datagram's bytes. Owned by the caller: the transport never writes this memory again. Its
   * `.buffer` may hold other datagrams too (small ones share a block of a few KiB), so keep,
   * clone or transfer a `slice()` of it rather than its buffer.
   */
  readonly data: Uint8Array;
  /** Port ID from the datagram's source address: 0 is the kernel. Not the nlmsghdr's portid. */
  readonly sender: number;
  /** Multicast group number it was delivered through (NETLINK_PKTINFO), or 0 for unicast. */
  readonly group: number;
  /**
   * The sender's network namespace id as this socket's namespace numbers it, present only when
   * NETLINK_LISTEN_ALL_NSID is on and the kernel attached one (its NETLINK_LISTEN_ALL_NSID control
   * message); -1 (NETNSA_NSID_NOT_ASSIGNED) when the peer namespace has no id here.
   */
  readonly nsid?: number;
}

/**
 * A datagram left in the transport's receive buffer by {@linkcode Transport.receiveInPlace}: its
 * bytes are `buffer[0, length)`. The transport rewrites this one object, and the buffer, on its
 * next `receiveInPlace()`: **everything here is valid only until then**. Copy what you keep.
 */
export interface DatagramInPlace {
  /** The transport's receive buffer; the datagram is its first `length` bytes. */
  readonly buffer: Uint8Array;
  /** The datagram's length in bytes. */
  readonly length: number;
  /** As {@linkcode Datagram.sender}. */
  readonly sender: number;
  /** As {@linkcode Datagram.group}. */
  readonly group: number;
  /** As {@linkcode Datagram.nsid}; undefined when the kernel attached none. */
  readonly nsid: number | undefined;
}

/** Options for {@linkcode OpenTransport}. Validated by the caller before the transport sees them. */
export interface TransportOptions {
  /** Port ID to bind to; 0 lets the kernel assign one. */
  readonly portid: number;
  /** Path of a network namespace file (e.g. /run/netns/NAME) to create the socket in. */
  readonly netns?: string;
}

/** Outcome of {@linkcode Transport.wait}. */
export type WaitResult = "readable" | "cancelled" | "closed";

/**
 * A bound, non-blocking netlink socket. Not safe for concurrent use from several workers; all
 * methods are called from the thread that opened it.
 */
export interface Transport {
  /** The netlink protocol number the socket was opened with. */
  readonly protocol: number;
  /** The port ID the socket is bound to (from getsockname after bind). */
  readonly portid: number;
  /** The file descriptor, for diagnostics only; -1 once closed. */
  readonly fd: number;

  /**
   * Sends one datagram to `portid` (0: the kernel) and/or the multicast groups in `groupMask`
   * (bit n-1 is group n; only groups 1..32 can be addressed this way). Throws SyscallError.
   */
  send(data: Uint8Array, portid: number, groupMask: number): void;

  /**
   * Reads one whole datagram without blocking. Returns undefined when none is queued. Throws
   * SyscallError; ENOBUFS (the kernel dropped messages for this socket) is thrown as a
   * SyscallError with code "ENOBUFS", after which the socket stays usable. Nothing is ever
   * truncated silently: a datagram longer than the receive buffer (512 KiB, above anything the
   * kernel or a sender with default limits can send) is consumed and thrown as a SyscallError
   * with code "EMSGSIZE" whose message names its length, and with number properties `sender`
   * and `group`, its source, when the transport knows them (then only the requests that source
   * could have answered fail); the buffer grows to fit the next one read and the socket stays
   * usable.
   */
  receive(): Datagram | undefined;

  /**
   * As {@linkcode receive}, with the same errors, but without copying: the datagram stays in a
   * receive buffer of this transport's own (no other socket reads into it), described by an
   * object that is also reused. Both are valid only until this transport's next
   * `receiveInPlace()`. Allocates nothing per datagram. Optional: without it, readers copy
   * through `receive()`.
   *
   * The netlink transport takes up to 16 queued datagrams from the kernel per syscall
   * (recvmmsg) and hands them out one per call, in order, whichever of the two reads takes them
   * (`receive()` does not rewrite what `receiveInPlace()` returned); {@linkcode wait} resolves at
   * once while it holds some. So an over-long datagram taken by the same read as one before it
   * is thrown as EMSGSIZE too (the buffer grows for the next read). While a dump it asked for
   * may be running, it reads one datagram per syscall: the kernel makes the next dump part as
   * each is read.
   */
  receiveInPlace?(): DatagramInPlace | undefined;

  /**
   * Says that `data`, the bytes of a datagram {@linkcode receive} returned, will never be read
   * again, by the caller or by anyone it handed them to: the transport may copy a later datagram
   * into the same memory (a fresh copy's pages each cost a page fault). Optional, and a hint: a
   * transport may ignore it, and ignores what it did not make.
   */
  recycle?(data: Uint8Array): void;

  /**
   * Resolves when the socket may have a datagram to read ("readable"), when {@linkcode cancelWait}
   * is called ("cancelled"), or when {@linkcode close} is called ("closed"). Level-triggered: a
   * datagram (or an error) queued before the call resolves it at once, also one that arrived
   * after the last read found the queue empty (the read loop waits without reading again until
   * something was read, sent or waited for). Never spins: costs no CPU while pending. At most one wait may be outstanding. While pending it keeps the process
   * alive; when it is not pending, the transport does not keep the process alive.
   */
  wait(): Promise<WaitResult>;

  /**
   * As {@linkcode wait}, with callbacks instead of a promise: `done` gets the result once, and
   * when readiness is seen by an event-loop task of the transport's own (a signal's listener),
   * `done` runs in that task, with no microtask hop before the read; every other ending calls it
   * in a microtask. Never inside this call. A failure to start throws what `wait()` would reject
   * with; one later calls `fail`. Optional: the read loop falls back to `wait()`. On a real
   * socket this saves a monitor tens of microseconds per event (bench/event_latency.sh).
   */
  waitThen?(done: (result: WaitResult) => void, fail: (error: unknown) => void): void;

  /** Ends a pending {@linkcode wait} with "cancelled" promptly; a no-op when none is pending. */
  cancelWait(): void;

  /**
   * Runs `run` in a later macrotask, after the timers and I/O already due: the runtime's cheapest
   * way (the read loop yields with it). Keeps the process alive until `run` has run. Optional: a
   * transport without it gets `setImmediate` (or `setTimeout(run, 0)`), looked up on first use.
   */
  defer?(run: () => void): void;

  /** setsockopt with an int value. Throws SyscallError. */
  setOption(level: number, name: number, value: number): void;

  /** getsockopt of an int value. Throws SyscallError. */
  getOption(level: number, name: number): number;

  /**
   * Attaches a classic BPF program (SO_ATTACH_FILTER): `program` holds the struct sock_filter
   * array, 8 bytes per instruction in host byte order. Throws SyscallError. Optional: a transport
   * without it cannot filter, and the socket says so.
   */
  attachFilter?(program: Uint8Array): void;

  /**
   * Closes the socket. Idempotent. A pending wait resolves "closed" promptly; the descriptor is
   * released no later than when that wait has returned. Every other method throws after close.
   */
  close(): void;
}

/** Opens and binds a netlink socket. Throws SyscallError (e.g. EPROTONOSUPPORT). */
export type OpenTransport = (protocol: number, options: TransportOptions) => Transport;
